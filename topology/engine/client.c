/*
 * client.c - a stream thread's Kafka clients: their configuration (the
 * topology's kafka: map, then the processor's, each key only for the client
 * kind it concerns), creating the transactional (or idempotent) producer,
 * the group consumer and the changelog restorer, their callbacks (deliveries,
 * errors), and tearing them down; and the startup probe that logs in with a
 * processor's credentials and checks its topics. Not what the clients are
 * used for: loop.c, txn.c, rebalance.c.
 */
#include "topology/engine/engine_int.h"
#include "topology/model/kafka.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long the probe's metadata requests may take. */
#define PROBE_METADATA_TIMEOUT_MS 15000
/* A topic created a moment ago may not be in the broker's metadata yet: the
 * probe looks again every PROBE_TOPIC_POLL_MS for PROBE_TOPIC_WAIT_MS. */
#define PROBE_TOPIC_WAIT_MS 5000
#define PROBE_TOPIC_POLL_MS 250
/* The restorer's fetch wait (fetch.wait.max.ms), in the string form
 * librdkafka takes: a tail of aborted records and markers holds no data to
 * return, and without a short wait each such partition would cost the
 * broker's full fetch.wait.max.ms before its end is seen. */
#define RESTORER_FETCH_WAIT_MS "10"
/* statistics.interval.ms unless the topology sets it: /metrics' librdkafka
 * figures are at most this old. */
#define STATS_INTERVAL_MS "5000"

static rill_err_t conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *errstr,
                           size_t errsz)
{
    char err[RILL_ERRSTR_SIZE];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "kafka setting '%s': %s", k, err);
    return RILL_OK;
}

rd_kafka_conf_t *engine_kafka_conf(const struct rill_topology *t, const struct rill_kvlist *own,
                                   int consumer, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    /* librdkafka 2.0.2 stops fetching for a partition once the consumer's
     * whole queue (every partition's prefetch lands in it) holds
     * queued.min.messages, and looks again only a second later: with its
     * 100,000, a thread that drained them in 0.2 s idled 0.8 s. Raised,
     * not unbounded: queued.max.messages.kbytes counts payloads only, so a
     * topic of small values would queue millions of records. */
    if (consumer && conf_set(c, "queued.min.messages", ENGINE_QUEUED_MIN_MESSAGES, errstr,
                             errsz) != RILL_OK) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    const struct rill_kvlist *lists[2] = { &t->kafka, own };
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            const char *k = lists[l]->v[i].key;
            /* group.instance.id is a prefix (or off): engine_static_member */
            if ((consumer ? rill_kafka_producer_only(k) : rill_kafka_consumer_only(k)) ||
                !strcmp(k, "group.instance.id"))
                continue;
            if (conf_set(c, k, lists[l]->v[i].value, errstr, errsz) != RILL_OK) {
                rd_kafka_conf_destroy(c);
                return NULL;
            }
        }
    /* Operators can turn librdkafka's debug contexts on without editing the
     * topology: RILL_KAFKA_DEBUG=cgrp,eos,... */
    const char *dbg = getenv("RILL_KAFKA_DEBUG");
    if (dbg && *dbg && conf_set(c, "debug", dbg, errstr, errsz) != RILL_OK) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    return c;
}

int32_t engine_partitions(const struct rill_engine *e, const struct rill_strlist *topics)
{
    int32_t n = 0;
    for (size_t i = 0; i < topics->n; i++) {
        int32_t p = 1; /* not known: counted as one */
        for (size_t k = 0; k < e->ntopics; k++)
            if (!strcmp(e->topics[k].name, topics->v[i]) && e->topics[k].partitions > 0)
                p = e->topics[k].partitions;
        n += p;
    }
    return n > 0 ? n : 1;
}

/* The value of key in own (a processor's or sink's kafka:), else in the
 * topology's kafka:, else NULL. */
static const char *set_by_topology(const struct rill_engine *e, const struct rill_kvlist *own,
                                   const char *key)
{
    const char *v = rill_kvlist_get(own, key);
    return v ? v : rill_kvlist_get(&e->t->kafka, key);
}

/* Sets key to n (clamped to lo..hi) unless either kafka: map sets it. */
static rill_err_t queue_set(rd_kafka_conf_t *c, const struct rill_engine *e,
                            const struct rill_kvlist *own, const char *key, size_t n, size_t lo,
                            size_t hi, char *errstr, size_t errsz)
{
    if (set_by_topology(e, own, key))
        return RILL_OK;
    char v[32];
    snprintf(v, sizeof v, "%zu", n < lo ? lo : n > hi ? hi : n);
    return conf_set(c, key, v, errstr, errsz);
}

rill_err_t engine_queue_limit(rd_kafka_conf_t *c, const struct rill_engine *e,
                              const struct rill_kvlist *own, int32_t partitions, int woken,
                              char *errstr, size_t errsz)
{
    if (!e->queue_kb)
        return RILL_OK;
    /* librdkafka's byte bounds count payloads only; a queued record also
     * costs its bookkeeping, so the record counts are bounded too, at
     * ENGINE_QUEUE_RECORD_COST bytes each. */
    if (!partitions)
        return queue_set(c, e, own, "queue.buffering.max.kbytes", e->queue_kb, 1, SIZE_MAX,
                         errstr, errsz) != RILL_OK ||
                       queue_set(c, e, own, "queue.buffering.max.messages",
                                 e->queue_kb * 1024 / ENGINE_QUEUE_RECORD_COST,
                                 ENGINE_QUEUE_MIN_RECORDS, ENGINE_QUEUE_MAX_RECORDS, errstr,
                                 errsz) != RILL_OK
                   ? RILL_ERR_CONFIG
                   : RILL_OK;
    /* librdkafka 2.0.2 stops fetching once the consumer's whole queue holds
     * queued.max.messages.kbytes, and the fetch in flight may still bring
     * max.partition.fetch.bytes for each partition: half the share for
     * each, so that the two together stay within it. */
    size_t half = e->queue_kb / 2;
    if (half < ENGINE_QUEUE_MIN_PART_KB)
        half = ENGINE_QUEUE_MIN_PART_KB;
    if (queue_set(c, e, own, "queued.max.messages.kbytes", half, 1, ENGINE_QUEUE_MAX_KB, errstr,
                  errsz) != RILL_OK ||
        /* a small record bound pauses the fetcher often: only for the
         * consumers whose thread wakes it (loop.c, fetch_kick) */
        (woken && queue_set(c, e, own, "queued.min.messages",
                            half * 1024 / ENGINE_QUEUE_RECORD_COST, ENGINE_QUEUE_MIN_RECORDS,
                            ENGINE_QUEUE_MAX_RECORDS, errstr, errsz) != RILL_OK) ||
        queue_set(c, e, own, "max.partition.fetch.bytes", half * 1024 / (size_t)partitions,
                  ENGINE_FETCH_MIN_PART_BYTES, ENGINE_FETCH_MAX_PART_BYTES, errstr,
                  errsz) != RILL_OK)
        return RILL_ERR_CONFIG;
    return RILL_OK;
}

const char *engine_member_prefix(const struct rill_engine *e, const struct rill_kvlist *own)
{
    const char *gii = rill_kvlist_get(own, "group.instance.id");
    if (!gii)
        gii = rill_kvlist_get(&e->t->kafka, "group.instance.id");
    if (!gii)
        gii = e->instance_id;
    return strcmp(gii, ENGINE_STATIC_OFF) ? gii : NULL;
}

rill_err_t engine_static_member(rd_kafka_conf_t *cc, const struct rill_engine *e,
                                const struct rill_kvlist *own, const char *name, int idx,
                                char *errstr, size_t errsz)
{
    /* Static membership (KIP-345) unless the topology turns it off: every
     * consumer needs its own stable id, so the given one, or the state
     * directory's instance id, is a prefix. A restarted instance then takes
     * its partitions back without a rebalance and without waiting out its
     * dead self's session. */
    const char *gii = engine_member_prefix(e, own);
    if (!gii)
        return RILL_OK;
    char id[ENGINE_ID_SIZE];
    if ((size_t)snprintf(id, sizeof id, "%s.%s-%d", gii, name, idx) >= sizeof id)
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT, "'%s': group.instance.id '%s' is too long",
                         name, gii);
    /* A member that never comes back holds its partitions for a session:
     * a short one, unless the topology says otherwise. */
    if (!rill_kvlist_get(own, "session.timeout.ms") &&
        !rill_kvlist_get(&e->t->kafka, "session.timeout.ms") &&
        conf_set(cc, "session.timeout.ms", ENGINE_STATIC_SESSION_MS, errstr, errsz) != RILL_OK)
        return RILL_ERR_CONFIG;
    return conf_set(cc, "group.instance.id", id, errstr, errsz);
}

int engine_is_static_member(rd_kafka_t *consumer)
{
    char v[ENGINE_ID_SIZE];
    size_t n = sizeof v;
    return rd_kafka_conf_get(rd_kafka_conf(consumer), "group.instance.id", v, &n) ==
               RD_KAFKA_CONF_OK && v[0];
}

void engine_consumer_leave(rd_kafka_t *consumer)
{
    /* librdkafka 2.0.2 sends no LeaveGroup when a static member closes
     * (KIP-345: a restart is expected), so a stopped instance would hold
     * its partitions until its session ran out. An unsubscribe does leave:
     * its revoke is served here, then librdkafka leaves the group and
     * clears the member id; the close then waits for the answer. */
    if (engine_is_static_member(consumer) && !rd_kafka_unsubscribe(consumer))
        for (int64_t until = rill_now_ms() + ENGINE_LEAVE_WAIT_MS;
             rill_now_ms() < until && !rd_kafka_fatal_error(consumer, NULL, 0);) {
            /* records still queued belong to no task any more: the next
             * owner reads them again from the committed offsets */
            rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, ENGINE_LEAVE_POLL_MS);
            if (m)
                rd_kafka_message_destroy(m);
            char *member = rd_kafka_memberid(consumer);
            int left = !member || !*member;
            if (member)
                rd_kafka_mem_free(consumer, member);
            if (left)
                break;
        }
    rd_kafka_consumer_close(consumer);
}

rill_err_t engine_group_consumer_conf(rd_kafka_conf_t *cc, const char *group, char *errstr,
                                      size_t errsz)
{
    if (conf_set(cc, "group.id", group, errstr, errsz) ||
        conf_set(cc, "enable.auto.commit", "false", errstr, errsz) ||
        conf_set(cc, "enable.auto.offset.store", "false", errstr, errsz) ||
        conf_set(cc, "auto.offset.reset", "earliest", errstr, errsz) ||
        conf_set(cc, "isolation.level", "read_committed", errstr, errsz))
        return RILL_ERR_CONFIG;
    return RILL_OK;
}

static const char *own_or_global(const struct sthread *st, const char *key)
{
    return set_by_topology(st->e, &st->pc->kafka, key);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    struct sthread *st = opaque;
    metrics_kafka_stats(&st->m, rd_kafka_type(rk) == RD_KAFKA_PRODUCER ? STATS_PRODUCER
                                                                       : STATS_CONSUMER,
                        json, len);
    return 0; /* librdkafka frees json */
}

/* The global kafka: map, then the processor's own, each key only for the
 * client kind it concerns (so librdkafka does not warn). Unless the
 * topology sets them: a client.id that names the application, processor,
 * thread and role (consumer, producer, restorer, probe: what Control
 * Center and the brokers' logs show), and, with stats, librdkafka
 * statistics every STATS_INTERVAL_MS for /metrics (not for the restorer
 * and the probe, whose statistics nobody would serve). */
static rd_kafka_conf_t *client_conf(const struct sthread *st, int consumer, const char *role,
                                    int stats, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *c = engine_kafka_conf(st->e->t, &st->pc->kafka, consumer, errstr, errsz);
    if (!c)
        return NULL;
    char id[ENGINE_ID_SIZE];
    snprintf(id, sizeof id, "%s.%s-%d-%s", st->e->t->application_id, st->pc->name, st->idx,
             role);
    if ((!own_or_global(st, "client.id") && conf_set(c, "client.id", id, errstr, errsz)) ||
        engine_queue_limit(c, st->e, &st->pc->kafka,
                           !consumer ? 0 : strcmp(role, "consumer") ? 1
                                         : engine_partitions(st->e, &st->pc->inputs),
                           consumer && !strcmp(role, "consumer"), errstr, errsz) ||
        (stats && !own_or_global(st, "statistics.interval.ms") &&
         conf_set(c, "statistics.interval.ms", STATS_INTERVAL_MS, errstr, errsz))) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    if (stats)
        rd_kafka_conf_set_stats_cb(c, stats_cb);
    return c;
}

/* ---- callbacks ------------------------------------------------------------- */

/* A changelog record reached the broker: its store may commit up to it. The
 * store is looked up, not carried as the message's opaque, so that a report
 * arriving after its task was dropped finds nothing instead of freed memory.
 * Delivery reports are served on the stream thread that owns the tasks. */
static void changelog_delivered(struct sthread *st, const char *topic, int32_t partition,
                                int64_t offset)
{
    struct task *t = task_find(st, partition);
    for (size_t i = 0; t && i < t->nstores; i++)
        if (!strcmp(t->stores[i].changelog, topic) && offset > t->stores[i].cl_last)
            t->stores[i].cl_last = offset;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct sthread *st = opaque;
    (void)rk;
    if (!m->err) {
        changelog_delivered(st, rd_kafka_topic_name(m->rkt), m->partition, m->offset);
        return;
    }
    atomic_store(&st->produce_failed, 1);
    rill_log(RILL_LOG_WARN, "engine", "delivery failed|processor=%s topic=%s error=\"%s\"",
             st->pc->name, rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sthread *st = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rill_log(RILL_LOG_ERROR, "engine", "fatal client error|processor=%s reason=\"%s\"",
                 st->pc->name, reason);
        sthread_fatal(st, "fatal client error");
        return;
    }
    /* Transport hiccups are retried by librdkafka; keep them at debug. */
    rill_log(err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                 ? RILL_LOG_DEBUG : RILL_LOG_WARN,
             "kafka", "%s|processor=%s", reason, st->pc->name);
}

/* ---- create and destroy -------------------------------------------------- */

void clients_destroy(struct sthread *st)
{
    if (st->restorer) {
        rd_kafka_destroy(st->restorer);
        st->restorer = NULL;
    }
    if (st->consumer) {
        /* stopping: leave the group (a rebuild keeps the membership, and
         * its new consumer rejoins as the same static member) */
        if (atomic_load(&st->e->stop))
            engine_consumer_leave(st->consumer);
        else
            rd_kafka_consumer_close(st->consumer);
        /* A fatal consumer error closes without a revoke: the tasks (and a
         * message held for a retry) must go before their handle. */
        tasks_drop_all(st);
        rd_kafka_destroy(st->consumer);
        st->consumer = NULL;
    }
    tasks_drop_all(st);
    if (st->producer) {
        rd_kafka_destroy(st->producer);
        st->producer = NULL;
    }
}

/* Whether a store of the processor writes a changelog. */
static int has_changelog(const struct sthread *st)
{
    for (size_t i = 0; i < st->pc->stores.n; i++) {
        const struct rill_store_conf *sc = rill_topology_store(st->e->t, st->pc->stores.v[i]);
        if (!sc || sc->changelog)
            return 1;
    }
    return 0;
}

rill_err_t engine_txn_producer_defaults(rd_kafka_conf_t *pc, const struct rill_engine *e,
                                        const struct rill_kvlist *own, char *errstr,
                                        size_t errsz)
{
    if (!e->eos)
        return RILL_OK;
    /* A dead instance's open transaction holds its partitions' committed
     * offsets and its changelogs' stable end until the coordinator aborts
     * it: librdkafka's 60 s would stall a takeover that long. */
    int64_t ci = e->t->commit_interval_ms, tt = ENGINE_TXN_TIMEOUT_MIN_MS;
    if (ci > ENGINE_TXN_TIMEOUT_MIN_MS / 3)
        tt = ci > ENGINE_TXN_TIMEOUT_MAX_MS / 3 ? ENGINE_TXN_TIMEOUT_MAX_MS : ci * 3;
    char v[32];
    snprintf(v, sizeof v, "%" PRId64, tt);
    /* librdkafka wants message.timeout.ms and socket.timeout.ms within the
     * transaction timeout: a topology that sets either keeps librdkafka's */
    if (!set_by_topology(e, own, "transaction.timeout.ms") &&
        !set_by_topology(e, own, "message.timeout.ms") &&
        !set_by_topology(e, own, "socket.timeout.ms") &&
        conf_set(pc, "transaction.timeout.ms", v, errstr, errsz) != RILL_OK)
        return RILL_ERR_CONFIG;
    /* The coordinator answers CONCURRENT_TRANSACTIONS to a transaction's
     * AddOffsetsToTxn while the previous one's markers are still being
     * written, and librdkafka retries after retry.backoff.ms: its 100 ms
     * made a commit right after a slow one take 100 ms more, and the next
     * one was due at once (bench/README.md, "The commit retry"). */
    if (!set_by_topology(e, own, "retry.backoff.ms") &&
        conf_set(pc, "retry.backoff.ms", ENGINE_TXN_RETRY_BACKOFF_MS, errstr, errsz) != RILL_OK)
        return RILL_ERR_CONFIG;
    return RILL_OK;
}

static rill_err_t producer_create(struct sthread *st, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *pc = client_conf(st, 0, "producer", 1, errstr, errsz);
    if (!pc)
        return RILL_ERR_CONFIG;
    rd_kafka_conf_set_opaque(pc, st);
    rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
    rd_kafka_conf_set_error_cb(pc, error_cb);
    if (engine_txn_producer_defaults(pc, st->e, &st->pc->kafka, errstr, errsz) != RILL_OK) {
        rd_kafka_conf_destroy(pc);
        return RILL_ERR_CONFIG;
    }
    /* Successful deliveries matter only for changelog offsets; without a
     * changelog, reporting only failures spares a callback per record. */
    if (conf_set(pc, "partitioner", "murmur2_random", errstr, errsz) ||
        conf_set(pc, "delivery.report.only.error", has_changelog(st) ? "false" : "true", errstr,
                 errsz) ||
        (st->e->eos ? conf_set(pc, "transactional.id", st->txnid, errstr, errsz)
                    : conf_set(pc, "enable.idempotence", "true", errstr, errsz))) {
        rd_kafka_conf_destroy(pc);
        return RILL_ERR_CONFIG;
    }
    st->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, errsz);
    if (!st->producer) {
        rd_kafka_conf_destroy(pc);
        return RILL_ERR_KAFKA;
    }
    if (st->e->eos) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(st->producer, TXN_TIMEOUT_MS);
        if (e) {
            rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                      "processor '%s': cannot initialize transactions: %s", st->pc->name,
                      rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return RILL_ERR_KAFKA;
        }
    }
    return RILL_OK;
}

static rill_err_t consumer_create(struct sthread *st, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *cc = client_conf(st, 1, "consumer", 1, errstr, errsz);
    if (!cc)
        return RILL_ERR_CONFIG;
    rd_kafka_conf_set_opaque(cc, st);
    rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
    rd_kafka_conf_set_error_cb(cc, error_cb);
    rill_err_t serr = engine_static_member(cc, st->e, &st->pc->kafka, st->pc->name, st->idx,
                                           errstr, errsz);
    if (serr != RILL_OK) {
        rd_kafka_conf_destroy(cc);
        return serr;
    }
    if (engine_group_consumer_conf(cc, st->group, errstr, errsz) != RILL_OK) {
        rd_kafka_conf_destroy(cc);
        return RILL_ERR_CONFIG;
    }
    /* the bounds at which librdkafka stops fetching (loop.c, fetch_kick) */
    char v[32];
    size_t vsz = sizeof v;
    st->q_min_records = rd_kafka_conf_get(cc, "queued.min.messages", v, &vsz) == RD_KAFKA_CONF_OK
                            ? strtoll(v, NULL, 10)
                            : 100000;
    vsz = sizeof v;
    st->q_max_bytes = rd_kafka_conf_get(cc, "queued.max.messages.kbytes", v, &vsz) ==
                              RD_KAFKA_CONF_OK
                          ? strtoll(v, NULL, 10) * 1024
                          : (int64_t)65536 * 1024;
    st->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, errsz);
    if (!st->consumer) {
        rd_kafka_conf_destroy(cc);
        return RILL_ERR_KAFKA;
    }
    return RILL_OK;
}

/* Changelogs are read partition by partition, outside the group. */
static rill_err_t restorer_create(struct sthread *st, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *rc = client_conf(st, 1, "restorer", 0, errstr, errsz);
    if (!rc)
        return RILL_ERR_CONFIG;
    rd_kafka_conf_set_opaque(rc, st);
    rd_kafka_conf_set_error_cb(rc, error_cb);
    if (conf_set(rc, "isolation.level", "read_committed", errstr, errsz) ||
        conf_set(rc, "enable.partition.eof", "true", errstr, errsz) ||
        conf_set(rc, "fetch.wait.max.ms", RESTORER_FETCH_WAIT_MS, errstr, errsz) ||
        conf_set(rc, "enable.auto.commit", "false", errstr, errsz)) {
        rd_kafka_conf_destroy(rc);
        return RILL_ERR_CONFIG;
    }
    st->restorer = rd_kafka_new(RD_KAFKA_CONSUMER, rc, errstr, errsz);
    if (!st->restorer) {
        rd_kafka_conf_destroy(rc);
        return RILL_ERR_KAFKA;
    }
    return RILL_OK;
}

rill_err_t clients_create(struct sthread *st, char *errstr, size_t errsz)
{
    rill_err_t err = producer_create(st, errstr, errsz);
    if (err == RILL_OK)
        err = consumer_create(st, errstr, errsz);
    if (err == RILL_OK && st->pc->stores.n)
        err = restorer_create(st, errstr, errsz);
    if (err != RILL_OK)
        return err;
    return engine_subscribe(st->consumer, &st->pc->inputs, "processor", st->pc->name, errstr,
                            errsz);
}

rill_err_t engine_subscribe(rd_kafka_t *consumer, const struct rill_strlist *topics,
                            const char *kind, const char *name, char *errstr, size_t errsz)
{
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)topics->n);
    for (size_t i = 0; i < topics->n; i++)
        rd_kafka_topic_partition_list_add(subs, topics->v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(consumer, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (kerr)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "%s '%s': cannot subscribe: %s", kind,
                         name, rd_kafka_err2str(kerr));
    return RILL_OK;
}

/* ---- startup checks ------------------------------------------------------------ */

struct probe {
    struct sthread *st;
    rd_kafka_t *rk;
    const char *user;
    int auth_failed;
};

static void probe_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct probe *p = opaque;
    (void)rk;
    (void)reason;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
        p->auth_failed = 1;
}

/* One look at the metadata: RILL_ERR_RETRY while a topic is missing. */
static rill_err_t probe_topics(void *arg, char *errstr, size_t errsz)
{
    struct probe *pr = arg;
    const struct sthread *st = pr->st;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(pr->rk, 1, NULL, &md, PROBE_METADATA_TIMEOUT_MS);
    if (kerr)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "processor '%s': cannot reach kafka: %s",
                         st->pc->name, rd_kafka_err2str(kerr));
    rill_err_t ret = RILL_OK;
    const struct rill_strlist *lists[3] = { &st->pc->inputs, &st->pc->outputs, &st->pc->stores };
    static const char *const kinds[3] = { "input", "output", "changelog" };
    for (int l = 0; l < 3 && ret == RILL_OK; l++)
        for (size_t i = 0; i < lists[l]->n && ret == RILL_OK; i++) {
            const char *name = lists[l]->v[i];
            char cl[ENGINE_TOPIC_SIZE];
            if (l == 2) {
                const struct rill_store_conf *sc = rill_topology_store(st->e->t, name);
                if (sc && !sc->changelog)
                    continue;
                if (rill_topology_changelog(st->e->t, name, cl, sizeof cl) != RILL_OK) {
                    ret = rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                                    "processor '%s': changelog topic name of store '%s' is "
                                    "longer than kafka allows", st->pc->name, name);
                    break;
                }
                name = cl;
            }
            int found = 0;
            for (int k = 0; k < md->topic_cnt; k++)
                if (!strcmp(md->topics[k].topic, name) && !md->topics[k].err)
                    found = 1;
            if (!found)
                ret = rill_errf(errstr, errsz, RILL_ERR_RETRY,
                                "processor '%s': %s topic '%s' does not exist or user '%s' may "
                                "not describe it (run 'rill apply')",
                                st->pc->name, kinds[l], name, pr->user ? pr->user : "(none)");
        }
    view_topics_note(st->e, md); /* the partitions the YAML does not give, for /topology */
    rd_kafka_metadata_destroy(md);
    return ret;
}

static const struct engine_retry probe_retry = {
    .deadline_ms = PROBE_TOPIC_WAIT_MS,
    .backoff_ms = PROBE_TOPIC_POLL_MS,
    .level = RILL_LOG_DEBUG, /* a startup failure is one line, said once */
};

rill_err_t clients_probe(struct sthread *st, char *errstr, size_t errsz)
{
    struct probe pr = { .st = st };
    rd_kafka_conf_t *c = client_conf(st, 0, "probe", 0, errstr, errsz);
    if (!c)
        return RILL_ERR_CONFIG;
    rd_kafka_conf_set_opaque(c, &pr);
    rd_kafka_conf_set_error_cb(c, probe_error_cb);
    conf_set(c, "log_level", "0", errstr, errsz);
    pr.rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, errsz);
    if (!pr.rk) {
        rd_kafka_conf_destroy(c);
        return RILL_ERR_CONFIG;
    }
    pr.user = rill_kvlist_get(&st->pc->kafka, "sasl.username");
    if (!pr.user)
        pr.user = rill_kvlist_get(&st->e->t->kafka, "sasl.username");
    rill_err_t ret;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(pr.rk, 1, NULL, &md, PROBE_METADATA_TIMEOUT_MS);
    if (md)
        rd_kafka_metadata_destroy(md);
    if (pr.auth_failed || kerr) {
        rd_kafka_poll(pr.rk, 0);
        if (pr.auth_failed)
            ret = rill_errf(errstr, errsz, RILL_ERR_AUTH,
                            "processor '%s': kafka authentication failed for user '%s'",
                            st->pc->name, pr.user ? pr.user : "(none)");
        else
            ret = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "processor '%s': cannot reach kafka: %s",
                            st->pc->name, rd_kafka_err2str(kerr));
    } else {
        ret = engine_retry(st->e, &probe_retry, "topics not visible yet", st->pc->name,
                           probe_topics, &pr, errstr, errsz);
        if (ret == RILL_ERR_RETRY)
            ret = RILL_ERR_NOTFOUND; /* errstr names the topic */
    }
    rd_kafka_destroy(pr.rk);
    return ret;
}
