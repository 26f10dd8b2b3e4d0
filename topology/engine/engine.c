/*
 * engine.c - the consume-process-produce loop (see engine.h). One stream
 * thread per (processor, thread index). The loop polls record by record
 * (librdkafka 2.0.2's batch consume is unsafe during a rebalance), hands each
 * record to the task of its partition, produces what the processor forwards
 * inside the open transaction, and commits per commit interval. Rebalances
 * commit on revoke and abort on loss. A RETRY from a processor pauses only
 * that partition, with capped exponential backoff.
 */
#include "topology/engine/engine.h"
#include "topology/model/kafka.h"
#include "topology/base/log.h"
#include "topology/engine/node_int.h"
#include "state/restore.h"
#include "state/store.h"
#include "state/taskdir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_BACKOFF_MIN_MS 50
#define RETRY_BACKOFF_MAX_MS 5000
#define TXN_TIMEOUT_MS 60000
#define POLL_MS 20

struct tp {                     /* one input topic-partition of a task */
    const char *topic;
    int64_t committed;          /* next offset as last committed; -1 unknown */
    int64_t next;               /* next offset to commit; -1 nothing processed */
};

struct tstore {                 /* one granted store of a task */
    struct sthread *st;
    struct task *t;
    rill_store_t *store;
    char changelog[300];        /* "" when the store has no changelog */
    int64_t cl_last;            /* last changelog offset delivered in this
                                   transaction; -1 none */
};

struct task {
    int32_t partition;
    rill_node_t *node;
    struct tstore *stores;
    size_t nstores;
    int lock_fd;
    struct tp *tps;
    size_t ntps;
    rd_kafka_message_t *pending; /* a record the processor asked to retry */
    int64_t retry_at;
    int backoff_ms;
};

struct sthread {
    struct rill_engine *e;
    const struct rill_proc_conf *pc;
    int idx;
    pthread_t tid;
    int started;
    rd_kafka_t *consumer, *producer;
    rd_kafka_t *restorer;       /* group-less consumer reading changelogs */
    char group[300], txnid[400];
    struct task **tasks;
    size_t ntasks;
    size_t npending;            /* tasks holding a record for a retry */
    int txn_open;
    int64_t last_commit;        /* when the last commit started */
    int rebuild;                /* fatal client error: tear down and rejoin */
    int rebuild_streak;         /* rebuilds in a row, each soon after the last */
    int64_t rebuilt_at;         /* when the clients were last (re)created */
    atomic_int produce_failed;  /* a delivery failed in this interval */
    uint64_t records, commits, aborts, retries;
};

struct rill_engine {
    const struct rill_topology *t;
    int eos;
    atomic_int stop;
    struct sthread *threads;
    size_t nthreads;
    char instance_id[RILL_STORE_INSTANCE_ID_SIZE];
    int lock_fd;
    rill_store_cache_t *cache;  /* shared block cache: half of state.memory.bytes */
    size_t write_buffer;        /* memtable size per store */
};

/* ---- configuration ------------------------------------------------------ */

static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *errstr, size_t errsz)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errsz, "kafka setting '%s': %s", k, err);
        return -1;
    }
    return 0;
}

/* The global kafka: map, then the processor's own, each key only for the
 * client kind it concerns (so librdkafka does not warn). */
static rd_kafka_conf_t *client_conf(const struct sthread *st, int consumer, char *errstr,
                                    size_t errsz)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const struct rill_kvlist *lists[2] = { &st->e->t->kafka, &st->pc->kafka };
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            const char *k = lists[l]->v[i].key;
            if (consumer ? rill_kafka_producer_only(k) : rill_kafka_consumer_only(k))
                continue;
            if (conf_set(c, k, lists[l]->v[i].value, errstr, errsz)) {
                rd_kafka_conf_destroy(c);
                return NULL;
            }
        }
    /* Operators can turn librdkafka's debug contexts on without editing the
     * topology: RILL_KAFKA_DEBUG=cgrp,eos,... */
    const char *dbg = getenv("RILL_KAFKA_DEBUG");
    if (dbg && *dbg && conf_set(c, "debug", dbg, errstr, errsz)) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    return c;
}

/* ---- producing ------------------------------------------------------------ */

static struct task *task_find(struct sthread *st, int32_t partition);

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
    if (!m->err)
        changelog_delivered(st, rd_kafka_topic_name(m->rkt), m->partition, m->offset);
    if (m->err) {
        atomic_store(&st->produce_failed, 1);
        rill_log(RILL_LOG_WARN, "engine", "delivery failed|processor=%s topic=%s error=\"%s\"",
                 st->pc->name, rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
    }
}

static void fenced(struct sthread *st, rd_kafka_error_t *e);

/* Under exactly-once every produce happens inside a transaction: the first
 * one after a commit (from a record or a punctuation) begins it. */
static int ensure_txn(struct sthread *st)
{
    if (!st->e->eos || st->txn_open)
        return 0;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(st->producer);
    if (e) {
        fenced(st, e);
        rd_kafka_error_destroy(e);
        return -1;
    }
    st->txn_open = 1;
    return 0;
}

static rill_err_t emit(void *opaque, const struct rill_out *o)
{
    struct sthread *st = opaque;
    if (ensure_txn(st))
        return RILL_ERR_KAFKA;
    for (;;) {
        rd_kafka_headers_t *h = NULL;
        if (o->header_cnt) {
            h = rd_kafka_headers_new(o->header_cnt);
            for (size_t i = 0; i < o->header_cnt; i++)
                rd_kafka_header_add(h, o->headers[i].name, -1, o->headers[i].value,
                                    o->headers[i].value ? (ssize_t)o->headers[i].len : 0);
        }
        rd_kafka_resp_err_t err = rd_kafka_producev(
            st->producer, RD_KAFKA_V_TOPIC(o->topic),
            RD_KAFKA_V_PARTITION(o->partition >= 0 ? o->partition : RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_KEY(o->key, o->key ? o->key_len : 0),
            RD_KAFKA_V_VALUE((void *)o->value, o->value ? o->value_len : 0),
            RD_KAFKA_V_TIMESTAMP(o->timestamp > 0 ? o->timestamp : 0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (!err)
            return RILL_OK;
        if (h)
            rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rill_log(RILL_LOG_WARN, "engine", "produce failed|processor=%s topic=%s error=\"%s\"",
                     st->pc->name, o->topic, rd_kafka_err2str(err));
            if (err == RD_KAFKA_RESP_ERR__FATAL)
                st->rebuild = 1;
            return RILL_ERR_KAFKA;
        }
        rd_kafka_poll(st->producer, 10); /* backpressure: let deliveries drain */
    }
}

/* ---- tasks ------------------------------------------------------------------ */

static struct task *task_find(struct sthread *st, int32_t partition)
{
    for (size_t i = 0; i < st->ntasks; i++)
        if (st->tasks[i]->partition == partition)
            return st->tasks[i];
    return NULL;
}

static struct tp *task_tp(struct task *t, const char *topic)
{
    if (t->ntps == 1) /* subscribed to one topic: every record is from it */
        return t->tps;
    for (size_t i = 0; i < t->ntps; i++)
        if (!strcmp(t->tps[i].topic, topic))
            return &t->tps[i];
    return NULL;
}

static rill_node_t *task_node(struct sthread *st, struct task *t, char *err, size_t errsz);

static void task_free(struct task *t)
{
    if (!t)
        return;
    rill_node_free(t->node);
    if (t->pending)
        rd_kafka_message_destroy(t->pending);
    for (size_t i = 0; i < t->nstores; i++)
        rill_store_free(t->stores[i].store);
    free(t->stores);
    free(t->tps);
    rill_store_dir_unlock(t->lock_fd);
    free(t);
}

/* The store's changelog: every write also goes there, to the partition of
 * the task, held with the processor's forwards so that it is produced only
 * if the record is accepted, inside the same transaction. */
static rill_err_t changelog_write(void *opaque, const char *store, const void *key, size_t klen,
                                  const void *value, size_t vlen)
{
    struct tstore *ts = opaque;
    (void)store;
    if (!ts->t->node)
        return RILL_ERR_STATE;
    return rill_node_hold_raw(ts->t->node, ts->changelog, ts->t->partition, key, klen, value,
                              vlen);
}

static const struct rill_store_conf *store_conf(const struct rill_topology *t, const char *name)
{
    for (size_t i = 0; i < t->nstores; i++)
        if (!strcmp(t->stores[i].name, name))
            return &t->stores[i];
    return NULL;
}

/* Opens, restores and hooks up the task's stores under
 * <state.dir>/<application.id>/<processor>-<partition>/<store>, with the task
 * directory locked against another process. */
static rill_err_t task_stores(struct sthread *st, struct task *t, char *err, size_t errsz)
{
    const struct rill_topology *top = st->e->t;
    const struct rill_proc_conf *pc = st->pc;
    if (!pc->stores.n)
        return RILL_OK;
    char dir[RILL_STORE_PATH_MAX];
    rill_err_t de = rill_store_taskdir_open(top->state_dir, top->application_id, pc->name,
                                            t->partition, dir, sizeof dir, &t->lock_fd, err,
                                            errsz);
    if (de != RILL_OK)
        return de;
    t->stores = calloc(pc->stores.n, sizeof *t->stores);
    if (!t->stores)
        return RILL_ERR_NOMEM;
    for (size_t i = 0; i < pc->stores.n; i++) {
        const char *name = pc->stores.v[i];
        const struct rill_store_conf *sc = store_conf(top, name);
        struct tstore *ts = &t->stores[i];
        ts->st = st;
        ts->t = t;
        ts->cl_last = -1;
        if ((!sc || sc->changelog) &&
            rill_topology_changelog(top, name, ts->changelog, sizeof ts->changelog) != RILL_OK)
            return rill_errf(err, errsz, RILL_ERR_NOFIT,
                             "changelog topic name of store '%s' is too long", name);
        char path[1300];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct rill_store_opts o = {
            .type = sc && sc->type ? sc->type : "rocksdb", .path = path,
            .write_buffer_bytes = st->e->write_buffer, .block_cache = st->e->cache,
        };
        int on_disk = strcmp(o.type, "memory") != 0;
        rill_err_t e = rill_store_open(name, &o, &ts->store, err, errsz);
        if (e == RILL_ERR_STATE && on_disk) {
            /* unreadable: start over from the changelog */
            rill_log(RILL_LOG_WARN, "state", "store unreadable, full restore|store=%s path=%s error=\"%s\"",
                     name, path, err);
            e = rill_store_wipe(o.type, path, err, errsz);
            if (e == RILL_OK)
                e = rill_store_open(name, &o, &ts->store, err, errsz);
        }
        if (e != RILL_OK)
            return e;
        t->nstores++;
        if (ts->changelog[0]) {
            e = rill_store_restore_changelog(st->restorer, ts->changelog, t->partition, &o,
                                             &ts->store, &st->e->stop, err, errsz);
            if (e != RILL_OK)
                return e;
            rill_store_set_log(ts->store, changelog_write, ts);
        }
    }
    return RILL_OK;
}

static struct task *task_new(struct sthread *st, int32_t partition)
{
    char err[1200];
    struct task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->partition = partition;
    t->lock_fd = -1;
    t->ntps = st->pc->inputs.n;
    t->tps = calloc(t->ntps, sizeof *t->tps);
    rill_err_t e = t->tps ? task_stores(st, t, err, sizeof err) : RILL_ERR_NOMEM;
    if (e == RILL_OK)
        t->node = task_node(st, t, err, sizeof err);
    if (e != RILL_OK || !t->node) {
        rill_log(RILL_LOG_ERROR, "task", "cannot create task|processor=%s partition=%" PRId32
                 " error=\"%s\"", st->pc->name, partition, e == RILL_ERR_NOMEM ? "out of memory" : err);
        task_free(t);
        return NULL;
    }
    for (size_t i = 0; i < t->ntps; i++) {
        t->tps[i].topic = st->pc->inputs.v[i];
        t->tps[i].committed = -1;
        t->tps[i].next = -1;
    }
    return t;
}

static rill_node_t *task_node(struct sthread *st, struct task *t, char *err, size_t errsz)
{
    char *names[64];
    rill_store_t *stores[64];
    size_t n = t->nstores < 64 ? t->nstores : 64;
    for (size_t i = 0; i < n; i++) {
        names[i] = st->pc->stores.v[i];
        stores[i] = t->stores[i].store;
    }
    return rill_node_new_bound(st->pc, t->partition, emit, st, names, stores, n, err, errsz);
}

static int task_node_reset(struct sthread *st, struct task *t)
{
    char err[512];
    rill_node_free(t->node);
    t->node = task_node(st, t, err, sizeof err);
    if (!t->node)
        rill_log(RILL_LOG_ERROR, "task", "cannot restart processor|processor=%s partition=%d error=\"%s\"",
                 st->pc->name, (int)t->partition, err);
    return t->node ? 0 : -1;
}

/* After the Kafka transaction committed: the stores take their pending
 * writes and the changelog offset they now reflect, atomically. */
static void stores_commit(struct sthread *st)
{
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t k = 0; k < st->tasks[i]->nstores; k++) {
            struct tstore *ts = &st->tasks[i]->stores[k];
            char err[256];
            if (rill_store_commit(ts->store, ts->cl_last >= 0 ? ts->cl_last + 1 : -1, err,
                                  sizeof err) != RILL_OK) {
                /* The changelog has it; the next assignment replays the tail. */
                rill_log(RILL_LOG_ERROR, "state", "store commit failed, rejoining|store=%s error=\"%s\"",
                         rill_store_name(ts->store), err);
                st->rebuild = 1;
            }
            ts->cl_last = -1;
        }
}

static void stores_abort(struct sthread *st)
{
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t k = 0; k < st->tasks[i]->nstores; k++) {
            rill_store_abort(st->tasks[i]->stores[k].store);
            st->tasks[i]->stores[k].cl_last = -1;
        }
}

static void tasks_drop_all(struct sthread *st)
{
    /* Delivery reports carry tstore pointers: serve them all first. */
    if (st->producer)
        rd_kafka_flush(st->producer, 10000);
    for (size_t i = 0; i < st->ntasks; i++)
        task_free(st->tasks[i]);
    free(st->tasks);
    st->tasks = NULL;
    st->ntasks = 0;
    st->npending = 0;
}

static int task_node_reset(struct sthread *st, struct task *t);

/* Seeks each listed partition, waiting for each. Not
 * rd_kafka_seek_partitions(): librdkafka 2.0.2 takes its timeout as
 * microseconds (10 s become 10 ms), so slow seeks would look failed. */
static int seek_all(struct sthread *st, const rd_kafka_topic_partition_list_t *l)
{
    int rc = 0;
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(st->consumer, l->elems[i].topic, NULL);
        rd_kafka_resp_err_t err =
            rkt ? rd_kafka_seek(rkt, l->elems[i].partition, l->elems[i].offset, 10000)
                : RD_KAFKA_RESP_ERR__INVALID_ARG;
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        if (err) {
            rill_log(RILL_LOG_ERROR, "engine", "seek failed, rejoining|processor=%s topic=%s "
                     "partition=%d error=\"%s\"", st->pc->name, l->elems[i].topic,
                     (int)l->elems[i].partition, rd_kafka_err2str(err));
            rc = -1;
        }
    }
    return rc;
}

/* Where a partition's consumption stands: the next offset to process, or
 * the start of this assignment; -1 when nothing was ever fetched. */
static int64_t tp_position(const struct tp *tp)
{
    return tp->next >= 0 ? tp->next : tp->committed;
}

/* ---- commit, abort, rewind --------------------------------------------------- */

/* Offsets processed since the last commit, as a partition list. */
static rd_kafka_topic_partition_list_t *pending_offsets(struct sthread *st)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t k = 0; k < st->tasks[i]->ntps; k++) {
            struct tp *tp = &st->tasks[i]->tps[k];
            if (tp->next >= 0 && tp->next != tp->committed)
                rd_kafka_topic_partition_list_add(l, tp->topic, st->tasks[i]->partition)->offset =
                    tp->next;
        }
    return l;
}

static void offsets_committed(struct sthread *st)
{
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t k = 0; k < st->tasks[i]->ntps; k++) {
            struct tp *tp = &st->tasks[i]->tps[k];
            if (tp->next >= 0)
                tp->committed = tp->next;
        }
}

/* Seeks every partition back to its last committed offset and forgets what
 * was processed since: the records will be consumed and processed again. */
static void rewind_all(struct sthread *st)
{
    stores_abort(st); /* their pending writes belong to the records replayed */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < st->ntasks; i++) {
        struct task *t = st->tasks[i];
        if (t->pending || t->backoff_ms) { /* paused for a retry */
            if (t->pending) {
                rd_kafka_message_destroy(t->pending);
                st->npending--;
            }
            t->pending = NULL;
            t->backoff_ms = 0;
            rd_kafka_topic_partition_list_t *p = rd_kafka_topic_partition_list_new(t->ntps);
            for (size_t k = 0; k < t->ntps; k++)
                rd_kafka_topic_partition_list_add(p, t->tps[k].topic, t->partition);
            rd_kafka_resume_partitions(st->consumer, p);
            rd_kafka_topic_partition_list_destroy(p);
        }
        /* The processor may hold state of the undone records (stream time,
         * schedules, its own fields): start it afresh. */
        if (task_node_reset(st, t))
            st->rebuild = 1;
        for (size_t k = 0; k < t->ntps; k++) {
            struct tp *tp = &t->tps[k];
            if (tp->committed >= 0)
                rd_kafka_topic_partition_list_add(l, tp->topic, t->partition)->offset =
                    tp->committed;
            tp->next = tp->committed;
        }
    }
    if (seek_all(st, l))
        st->rebuild = 1;
    rd_kafka_topic_partition_list_destroy(l);
}

/* Errors through which the group or the transaction coordinator tells an
 * instance that another has taken its place (KIP-447 zombie fencing). */
static int is_fencing(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR__FENCED || err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
           err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
           err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
           err == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
}

static void txn_abort(struct sthread *st, const char *why)
{
    st->aborts++;
    rill_log(RILL_LOG_WARN, "engine", "aborting transaction|processor=%s reason=\"%s\"",
             st->pc->name, why);
    if (st->txn_open) {
        rd_kafka_error_t *e = rd_kafka_abort_transaction(st->producer, TXN_TIMEOUT_MS);
        if (e) {
            rill_log(RILL_LOG_ERROR, "engine", "abort failed, rejoining|processor=%s fenced=%s error=\"%s\"",
                     st->pc->name, is_fencing(rd_kafka_error_code(e)) ? "true" : "false",
                     rd_kafka_error_string(e));
            st->rebuild = 1;
            rd_kafka_error_destroy(e);
        }
    }
    st->txn_open = 0;
    atomic_store(&st->produce_failed, 0);
    if (!st->rebuild)
        rewind_all(st);
    else
        stores_abort(st);
}

/* Classifies a transactional error: 0 retry, 1 abort, 2 fatal. */
static int txn_error_kind(rd_kafka_error_t *e)
{
    if (rd_kafka_error_is_fatal(e))
        return 2;
    if (rd_kafka_error_txn_requires_abort(e))
        return 1;
    if (rd_kafka_error_is_retriable(e))
        return 0;
    return 1;
}

static void fenced(struct sthread *st, rd_kafka_error_t *e)
{
    rill_log(RILL_LOG_WARN, "engine",
             "%s, rejoining|processor=%s thread=%d fenced=%s error=\"%s\"",
             is_fencing(rd_kafka_error_code(e)) ? "fenced by a newer instance" : "fatal producer error",
             st->pc->name, st->idx, is_fencing(rd_kafka_error_code(e)) ? "true" : "false",
             rd_kafka_error_string(e));
    st->rebuild = 1;
    st->txn_open = 0;
}

/* Commits what was processed since the last commit. Returns 0 when it was
 * committed (or there was nothing to commit), -1 when it was aborted and
 * rewound or the clients must be rebuilt. */
static int commit(struct sthread *st)
{
    if (st->rebuild)
        return -1;
    if (!st->e->eos) {
        /* Everything produced this interval (outputs, DLQ, changelogs) must
         * be delivered before the offsets move and the stores take it. */
        rd_kafka_topic_partition_list_t *l = pending_offsets(st);
        int rc = 0;
        rd_kafka_flush(st->producer, TXN_TIMEOUT_MS);
        if (atomic_exchange(&st->produce_failed, 0) || rd_kafka_outq_len(st->producer)) {
            rill_log(RILL_LOG_WARN, "engine", "outputs not delivered, rewinding|processor=%s",
                     st->pc->name);
            rewind_all(st);
            rc = -1;
        } else if (l->cnt && rd_kafka_commit(st->consumer, l, 0)) {
            rill_log(RILL_LOG_WARN, "engine", "offset commit failed, rewinding|processor=%s",
                     st->pc->name);
            rewind_all(st);
            rc = -1;
        } else {
            offsets_committed(st);
            stores_commit(st);
            st->commits += l->cnt > 0;
        }
        rd_kafka_topic_partition_list_destroy(l);
        return rc;
    }
    if (!st->txn_open)
        return 0;
    /* The offsets once, then the commit; each retried on retriable errors
     * only (after a retriable commit error the commit itself is resumed:
     * librdkafka refuses a second send_offsets then). */
    rd_kafka_error_t *e = NULL;
    rd_kafka_topic_partition_list_t *l = pending_offsets(st);
    for (int attempt = 0; l->cnt; attempt++) {
        rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(st->consumer);
        e = rd_kafka_send_offsets_to_transaction(st->producer, l, md, TXN_TIMEOUT_MS);
        rd_kafka_consumer_group_metadata_destroy(md);
        if (!e || txn_error_kind(e) != 0 || attempt >= 5 || atomic_load(&st->e->stop))
            break;
        rill_log(RILL_LOG_INFO, "engine", "send offsets retry|processor=%s error=\"%s\"",
                 st->pc->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        e = NULL;
        usleep(100000u * (unsigned)(attempt + 1));
    }
    rd_kafka_topic_partition_list_destroy(l);
    for (int attempt = 0; !e; attempt++) {
        e = rd_kafka_commit_transaction(st->producer, TXN_TIMEOUT_MS);
        if (!e) {
            st->txn_open = 0;
            offsets_committed(st);
            stores_commit(st);
            st->commits++;
            return 0;
        }
        if (txn_error_kind(e) != 0 || attempt >= 5 || atomic_load(&st->e->stop))
            break;
        rill_log(RILL_LOG_INFO, "engine", "commit retry|processor=%s error=\"%s\"", st->pc->name,
                 rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        e = NULL;
        usleep(100000u * (unsigned)(attempt + 1));
    }
    if (txn_error_kind(e) == 2) {
        fenced(st, e);
    } else {
        if (is_fencing(rd_kafka_error_code(e)))
            rill_log(RILL_LOG_WARN, "engine",
                     "fenced by a newer group generation|processor=%s thread=%d fenced=true",
                     st->pc->name, st->idx);
        txn_abort(st, rd_kafka_error_string(e));
    }
    rd_kafka_error_destroy(e);
    return -1;
}

/* ---- rebalances ---------------------------------------------------------------- */

/* Reads the group's committed offsets for parts into parts' offsets. Under
 * exactly-once another member's transaction may still hold them
 * (UNSTABLE_OFFSET_COMMIT): wait for it to end. librdkafka 2.0.2 can stall a
 * partition forever when it meets that error in its own assignment offset
 * fetch, so rill fetches them itself and assigns explicit offsets. */
static int fetch_committed(struct sthread *st, rd_kafka_topic_partition_list_t *parts)
{
    int64_t deadline = rill_now_ms() + TXN_TIMEOUT_MS + 10000;
    while (!atomic_load(&st->e->stop)) {
        for (int i = 0; i < parts->cnt; i++) {
            parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
            parts->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
        }
        rd_kafka_resp_err_t err = rd_kafka_committed(st->consumer, parts, 10000);
        int unstable = err != RD_KAFKA_RESP_ERR_NO_ERROR;
        for (int i = 0; i < parts->cnt && !unstable; i++)
            unstable = parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
        if (!unstable)
            return 0;
        if (rill_now_ms() > deadline)
            break;
        rill_log(RILL_LOG_INFO, "engine", "committed offsets not yet stable, waiting|processor=%s",
                 st->pc->name);
        usleep(200000);
    }
    return -1;
}

static void on_assign(struct sthread *st, rd_kafka_topic_partition_list_t *parts)
{
    if (fetch_committed(st, parts)) {
        rill_log(RILL_LOG_ERROR, "engine", "cannot read committed offsets, rejoining|processor=%s",
                 st->pc->name);
        st->rebuild = 1;
        return;
    }
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        struct task *t = task_find(st, p);
        if (!t) {
            t = task_new(st, p);
            struct task **arr = t ? realloc(st->tasks, (st->ntasks + 1) * sizeof *arr) : NULL;
            if (!arr) {
                task_free(t);
                st->rebuild = 1;
                continue;
            }
            st->tasks = arr;
            st->tasks[st->ntasks++] = t;
        }
        /* No committed offset: start from the beginning (auto.offset.reset
         * earliest), which librdkafka resolves; committed stays unknown
         * until the first record shows where that is. */
        struct tp *tp = task_tp(t, parts->elems[i].topic);
        if (parts->elems[i].offset < 0)
            parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        else if (tp)
            tp->committed = parts->elems[i].offset;
    }
    rill_log(RILL_LOG_INFO, "engine", "partitions assigned|processor=%s thread=%d count=%d tasks=%zu",
             st->pc->name, st->idx, parts->cnt, st->ntasks);
    rd_kafka_assign(st->consumer, parts);
}

static void on_revoke(struct sthread *st, rd_kafka_topic_partition_list_t *parts)
{
    int lost = rd_kafka_assignment_lost(st->consumer);
    if (lost) {
        if (st->txn_open)
            txn_abort(st, "partitions lost");
    } else {
        commit(st);
    }
    /* Lost: the group moved on to a newer generation without this member (a
     * zombie, KIP-447); whatever it had in flight was aborted above. */
    rill_log(lost ? RILL_LOG_WARN : RILL_LOG_INFO, "engine",
             "partitions %s|processor=%s thread=%d count=%d%s", lost ? "lost" : "revoked",
             st->pc->name, st->idx, parts->cnt, lost ? " fenced=true" : "");
    /* Eager protocol: everything goes; the next assignment recreates tasks. */
    tasks_drop_all(st);
    rd_kafka_assign(st->consumer, NULL);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct sthread *st = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(st, parts);
    else
        on_revoke(st, parts);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sthread *st = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        st->rebuild = 1;
        rill_log(RILL_LOG_ERROR, "engine", "fatal client error|processor=%s reason=\"%s\"",
                 st->pc->name, reason);
        return;
    }
    /* Transport hiccups are retried by librdkafka; keep them at debug. */
    rill_log(err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                 ? RILL_LOG_DEBUG : RILL_LOG_WARN,
             "kafka", "%s|processor=%s", reason, st->pc->name);
}

/* ---- clients ------------------------------------------------------------------------ */

static void clients_destroy(struct sthread *st)
{
    if (st->restorer) {
        rd_kafka_destroy(st->restorer);
        st->restorer = NULL;
    }
    if (st->consumer) {
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
    st->txn_open = 0;
}

/* Whether a store of the processor writes a changelog. */
static int has_changelog(const struct sthread *st)
{
    for (size_t i = 0; i < st->pc->stores.n; i++) {
        const struct rill_store_conf *sc = store_conf(st->e->t, st->pc->stores.v[i]);
        if (!sc || sc->changelog)
            return 1;
    }
    return 0;
}

static int clients_create(struct sthread *st, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *pc = client_conf(st, 0, errstr, errsz);
    if (!pc)
        return -1;
    rd_kafka_conf_set_opaque(pc, st);
    rd_kafka_conf_set_dr_msg_cb(pc, dr_cb);
    rd_kafka_conf_set_error_cb(pc, error_cb);
    /* Successful deliveries matter only for changelog offsets; without a
     * changelog, reporting only failures spares a callback per record. */
    if (conf_set(pc, "partitioner", "murmur2_random", errstr, errsz) ||
        conf_set(pc, "delivery.report.only.error", has_changelog(st) ? "false" : "true", errstr,
                 errsz) ||
        (st->e->eos ? conf_set(pc, "transactional.id", st->txnid, errstr, errsz)
                    : conf_set(pc, "enable.idempotence", "true", errstr, errsz))) {
        rd_kafka_conf_destroy(pc);
        return -1;
    }
    st->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, errsz);
    if (!st->producer) {
        rd_kafka_conf_destroy(pc);
        return -1;
    }
    if (st->e->eos) {
        rd_kafka_error_t *e = rd_kafka_init_transactions(st->producer, TXN_TIMEOUT_MS);
        if (e) {
            snprintf(errstr, errsz, "processor '%s': cannot initialize transactions: %s",
                     st->pc->name, rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
    }
    rd_kafka_conf_t *cc = client_conf(st, 1, errstr, errsz);
    if (!cc)
        return -1;
    rd_kafka_conf_set_opaque(cc, st);
    rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
    rd_kafka_conf_set_error_cb(cc, error_cb);
    /* Static membership (KIP-345) when the topology asks for it: every
     * consumer needs its own stable id, so the given one is a prefix. A
     * restarted instance then takes its partitions back without a rebalance
     * and without waiting out its dead self's session. */
    const char *gii = rill_kvlist_get(&st->pc->kafka, "group.instance.id");
    if (!gii)
        gii = rill_kvlist_get(&st->e->t->kafka, "group.instance.id");
    if (gii) {
        char id[512];
        snprintf(id, sizeof id, "%s.%s-%d", gii, st->pc->name, st->idx);
        if (conf_set(cc, "group.instance.id", id, errstr, errsz)) {
            rd_kafka_conf_destroy(cc);
            return -1;
        }
    }
    if (conf_set(cc, "group.id", st->group, errstr, errsz) ||
        conf_set(cc, "enable.auto.commit", "false", errstr, errsz) ||
        conf_set(cc, "enable.auto.offset.store", "false", errstr, errsz) ||
        conf_set(cc, "auto.offset.reset", "earliest", errstr, errsz) ||
        conf_set(cc, "isolation.level", "read_committed", errstr, errsz)) {
        rd_kafka_conf_destroy(cc);
        return -1;
    }
    st->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, errsz);
    if (!st->consumer) {
        rd_kafka_conf_destroy(cc);
        return -1;
    }
    if (st->pc->stores.n) {
        /* Changelogs are read partition by partition, outside the group. */
        rd_kafka_conf_t *rc = client_conf(st, 1, errstr, errsz);
        if (!rc)
            return -1;
        rd_kafka_conf_set_opaque(rc, st);
        rd_kafka_conf_set_error_cb(rc, error_cb);
        /* A tail of aborted records and markers holds no data to return:
         * without a short fetch wait, each such partition would cost the
         * broker's full fetch.wait.max.ms before its end is seen. */
        if (conf_set(rc, "isolation.level", "read_committed", errstr, errsz) ||
            conf_set(rc, "enable.partition.eof", "true", errstr, errsz) ||
            conf_set(rc, "fetch.wait.max.ms", "10", errstr, errsz) ||
            conf_set(rc, "enable.auto.commit", "false", errstr, errsz)) {
            rd_kafka_conf_destroy(rc);
            return -1;
        }
        st->restorer = rd_kafka_new(RD_KAFKA_CONSUMER, rc, errstr, errsz);
        if (!st->restorer) {
            rd_kafka_conf_destroy(rc);
            return -1;
        }
    }
    rd_kafka_poll_set_consumer(st->consumer);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)st->pc->inputs.n);
    for (size_t i = 0; i < st->pc->inputs.n; i++)
        rd_kafka_topic_partition_list_add(subs, st->pc->inputs.v[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(st->consumer, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        snprintf(errstr, errsz, "processor '%s': cannot subscribe: %s", st->pc->name,
                 rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

/* ---- the loop -------------------------------------------------------------------------- */

static void process_record(struct sthread *st, struct task *t, rd_kafka_message_t *m)
{
    struct tp *tp = task_tp(t, rd_kafka_topic_name(m->rkt));
    if (!tp) {
        rd_kafka_message_destroy(m);
        return;
    }
    if (tp->committed < 0)
        tp->committed = m->offset; /* where this assignment started */
    if (t->pending == m) {
        t->pending = NULL; /* in hand again; kept below if retried once more */
        st->npending--;
    }
    if (ensure_txn(st)) {
        rd_kafka_message_destroy(m);
        return;
    }
    rd_kafka_headers_t *kh = NULL;
    rill_header_t hdrs[64];
    size_t nh = 0;
    if (!rd_kafka_message_headers(m, &kh)) {
        const char *name;
        const void *val;
        size_t len;
        while (nh < 64 && !rd_kafka_header_get_all(kh, nh, &name, &val, &len)) {
            hdrs[nh] = (rill_header_t){ name, val, len };
            nh++;
        }
    }
    rd_kafka_timestamp_type_t tstype;
    rill_record_t rec = {
        .topic = rd_kafka_topic_name(m->rkt), .partition = m->partition, .offset = m->offset,
        .timestamp = rd_kafka_message_timestamp(m, &tstype), .key = m->key,
        .key_len = m->key_len, .value = m->payload, .value_len = m->len, .headers = hdrs,
        .header_cnt = nh,
    };
    rill_proc_result_t res;
    rill_err_t err = rill_node_process(t->node, &rec, &res);
    if (err != RILL_OK) {
        rd_kafka_message_destroy(m);
        if (st->e->eos)
            txn_abort(st, "produce failed");
        else
            rewind_all(st);
        return;
    }
    if (res == RILL_PROC_RETRY) {
        st->retries++;
        int first = !t->backoff_ms;
        t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : RETRY_BACKOFF_MIN_MS;
        if (t->backoff_ms > RETRY_BACKOFF_MAX_MS)
            t->backoff_ms = RETRY_BACKOFF_MAX_MS;
        t->retry_at = rill_now_ms() + t->backoff_ms;
        if (first) {
            rd_kafka_topic_partition_list_t *p = rd_kafka_topic_partition_list_new(t->ntps);
            for (size_t k = 0; k < t->ntps; k++)
                rd_kafka_topic_partition_list_add(p, t->tps[k].topic, t->partition);
            rd_kafka_pause_partitions(st->consumer, p);
            rd_kafka_topic_partition_list_destroy(p);
        }
        t->pending = m;
        st->npending++;
        return;
    }
    st->records++;
    tp->next = m->offset + 1;
    if (t->backoff_ms) {
        /* A retried record went through: continue right after it. */
        t->backoff_ms = 0;
        rd_kafka_topic_partition_list_t *p = rd_kafka_topic_partition_list_new(t->ntps);
        for (size_t k = 0; k < t->ntps; k++)
            if (tp_position(&t->tps[k]) >= 0)
                rd_kafka_topic_partition_list_add(p, t->tps[k].topic, t->partition)->offset =
                    tp_position(&t->tps[k]);
        rd_kafka_resume_partitions(st->consumer, p);
        if (seek_all(st, p))
            st->rebuild = 1;
        rd_kafka_topic_partition_list_destroy(p);
    }
    rd_kafka_message_destroy(m);
}

static void retry_due(struct sthread *st, int64_t now)
{
    for (size_t i = 0; i < st->ntasks && !st->rebuild; i++) {
        struct task *t = st->tasks[i];
        if (t->pending && now >= t->retry_at)
            process_record(st, t, t->pending);
    }
}

static void handle(struct sthread *st, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            rill_log(RILL_LOG_WARN, "engine", "consumer error|processor=%s error=\"%s\"",
                     st->pc->name, rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return;
    }
    struct task *t = task_find(st, m->partition);
    if (t && t->pending) {
        /* Paused for a retry: dropped here, fetched again after the retry
         * from where this partition stands. */
        struct tp *tp = task_tp(t, rd_kafka_topic_name(m->rkt));
        if (tp && tp->committed < 0)
            tp->committed = m->offset;
        t = NULL;
    }
    if (!t) {
        rd_kafka_message_destroy(m);
        return;
    }
    process_record(st, t, m);
}

static void tick(struct sthread *st)
{
    int64_t now = rill_now_ms();
    for (size_t i = 0; i < st->ntasks; i++) {
        rill_proc_result_t res;
        if (st->tasks[i]->node->nsched && rill_node_tick(st->tasks[i]->node, now, &res) != RILL_OK) {
            if (st->e->eos)
                txn_abort(st, "produce failed in punctuation");
            else
                rewind_all(st);
            return;
        }
    }
}

static void *thread_main(void *arg)
{
    struct sthread *st = arg;
    char err[512];
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the main thread */
    /* Commits keep a steady cadence: one commit.interval.ms after the start
     * of the previous one, not after the first record of a transaction, so
     * a record waits at most an interval plus one commit, not two commits
     * (the one in progress when it arrived, and its own). While a
     * transaction is open, the poll does not sleep past its due time. */
    int64_t interval = st->e->t->commit_interval_ms, last_tick = 0, now = rill_now_ms();
    st->last_commit = now;
    while (!atomic_load(&st->e->stop)) {
        if (st->rebuild || !st->consumer) {
            /* A rebuild soon after the last one (clients that cannot be
             * created, a task that cannot start) backs off, 100 ms doubling
             * to 3.2 s, instead of spinning; it still notices a stop. */
            if (st->rebuilt_at) {
                int soon = rill_now_ms() - st->rebuilt_at < 30000;
                st->rebuild_streak = soon ? st->rebuild_streak + 1 : 0;
                int shift = st->rebuild_streak < 6 ? st->rebuild_streak - 1 : 5;
                int64_t backoff = st->rebuild_streak ? 100LL << shift : 0;
                for (int64_t waited = 0; waited < backoff && !atomic_load(&st->e->stop); waited += 20)
                    usleep(20000);
            }
            clients_destroy(st);
            st->rebuild = 0;
            st->rebuilt_at = rill_now_ms();
            if (clients_create(st, err, sizeof err)) {
                rill_log(RILL_LOG_ERROR, "engine", "cannot (re)create clients|processor=%s error=\"%s\"",
                         st->pc->name, err);
                clients_destroy(st);
                st->rebuild = 1; /* again, after the back-off above */
                continue;
            }
        }
        int64_t wait = POLL_MS;
        if (st->txn_open) {
            int64_t due = st->last_commit + interval - now;
            wait = due < 0 ? 0 : due < POLL_MS ? due : POLL_MS;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->consumer, (int)wait);
        if (m)
            handle(st, m);
        rd_kafka_poll(st->producer, 0);
        now = rill_now_ms();
        if (st->npending)
            retry_due(st, now);
        if (now - last_tick >= 100) {
            tick(st);
            last_tick = now;
        }
        if ((st->txn_open || !st->e->eos) && now - st->last_commit >= interval) {
            int rc = commit(st);
            st->last_commit = now;
            rill_log(RILL_LOG_DEBUG, "engine", "commit|processor=%s ok=%s ms=%" PRId64,
                     st->pc->name, rc ? "false" : "true", rill_now_ms() - now);
        }
    }
    /* Drain: commit what was processed, then leave the group (the revoke
     * callback commits anything still open). */
    if (st->consumer && !st->rebuild)
        commit(st);
    clients_destroy(st);
    rill_log(RILL_LOG_INFO, "engine", "thread stopped|processor=%s thread=%d records=%" PRIu64
             " commits=%" PRIu64 " aborts=%" PRIu64 " retries=%" PRIu64, st->pc->name, st->idx,
             st->records, st->commits, st->aborts, st->retries);
    return NULL;
}

/* ---- startup checks -------------------------------------------------------------------- */

struct probe {
    int auth_failed;
    char reason[256];
};

static void probe_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct probe *p = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION) {
        p->auth_failed = 1;
        snprintf(p->reason, sizeof p->reason, "%s", reason);
    }
}

/* Logs in with the processor's credentials and checks that its input and
 * output topics exist and are visible to it. */
static rill_err_t probe(struct sthread *st, char *errstr, size_t errsz)
{
    struct probe pr = { 0 };
    rd_kafka_conf_t *c = client_conf(st, 0, errstr, errsz);
    if (!c)
        return RILL_ERR_CONFIG;
    rd_kafka_conf_set_opaque(c, &pr);
    rd_kafka_conf_set_error_cb(c, probe_error_cb);
    conf_set(c, "log_level", "0", errstr, errsz);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, errsz);
    if (!rk) {
        rd_kafka_conf_destroy(c);
        return RILL_ERR_CONFIG;
    }
    rill_err_t ret = RILL_OK;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, 15000);
    const char *user = rill_kvlist_get(&st->pc->kafka, "sasl.username");
    if (!user)
        user = rill_kvlist_get(&st->e->t->kafka, "sasl.username");
    if (pr.auth_failed || err) {
        rd_kafka_poll(rk, 0);
        if (pr.auth_failed)
            snprintf(errstr, errsz, "processor '%s': kafka authentication failed for user '%s'",
                     st->pc->name, user ? user : "(none)");
        else
            snprintf(errstr, errsz, "processor '%s': cannot reach kafka: %s", st->pc->name,
                     rd_kafka_err2str(err));
        ret = pr.auth_failed ? RILL_ERR_AUTH : RILL_ERR_KAFKA;
        goto out;
    }
    /* A topic created a moment ago may not be in the broker's metadata yet:
     * look again for a few seconds before calling it missing. */
    for (int64_t until = rill_now_ms() + 5000;;) {
        ret = RILL_OK;
        const struct rill_strlist *lists[3] = { &st->pc->inputs, &st->pc->outputs, &st->pc->stores };
        static const char *const kinds[3] = { "input", "output", "changelog" };
        for (int l = 0; l < 3 && ret == RILL_OK; l++)
            for (size_t i = 0; i < lists[l]->n && ret == RILL_OK; i++) {
                const char *name = lists[l]->v[i];
                char cl[300];
                if (l == 2) {
                    const struct rill_store_conf *sc = store_conf(st->e->t, name);
                    if (sc && !sc->changelog)
                        continue;
                    if (rill_topology_changelog(st->e->t, name, cl, sizeof cl) != RILL_OK) {
                        ret = rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                                        "processor '%s': changelog topic name of store '%s' is "
                                        "too long", st->pc->name, name);
                        goto out;
                    }
                    name = cl;
                }
                int found = 0;
                for (int k = 0; k < md->topic_cnt; k++)
                    if (!strcmp(md->topics[k].topic, name) && !md->topics[k].err)
                        found = 1;
                if (!found) {
                    snprintf(errstr, errsz,
                             "processor '%s': %s topic '%s' does not exist or user '%s' may not "
                             "describe it (run 'rill apply')",
                             st->pc->name, kinds[l], name, user ? user : "(none)");
                    ret = RILL_ERR_NOTFOUND;
                }
            }
        if (ret != RILL_ERR_NOTFOUND || rill_now_ms() >= until)
            break;
        usleep(250000);
        rd_kafka_metadata_destroy(md);
        md = NULL;
        if ((err = rd_kafka_metadata(rk, 1, NULL, &md, 15000))) {
            snprintf(errstr, errsz, "processor '%s': cannot reach kafka: %s", st->pc->name,
                     rd_kafka_err2str(err));
            ret = RILL_ERR_KAFKA;
            break;
        }
    }
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return ret;
}

/* ---- public ---------------------------------------------------------------------------------- */

rill_err_t rill_engine_new(const struct rill_topology *t, rill_engine_t **out, char *errstr,
                           size_t errsz)
{
    *out = NULL;
    rill_engine_t *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(errstr, errsz, "out of memory");
        return RILL_ERR_NOMEM;
    }
    e->t = t;
    e->eos = t->guarantee == RILL_EXACTLY_ONCE_V2;
    e->lock_fd = -1;
    /* One RocksDB budget for the process: half block cache (shared by every
     * store), half memtables (each store gets 1/16 of the budget, at least
     * 1 MiB, as RocksDB 7.8's C API has no write-buffer manager). */
    size_t budget = (size_t)t->state_memory_bytes;
    e->cache = rill_store_cache_new(budget / 2);
    if (!e->cache) {
        free(e);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot create the block cache");
    }
    e->write_buffer = budget / 16 > (1u << 20) ? budget / 16 : (1u << 20);
    e->nthreads = t->nprocs * (size_t)t->num_stream_threads;
    e->threads = calloc(e->nthreads ? e->nthreads : 1, sizeof *e->threads);
    if (!e->threads) {
        rill_store_cache_free(e->cache);
        free(e);
        snprintf(errstr, errsz, "out of memory");
        return RILL_ERR_NOMEM;
    }
    *out = e;
    return RILL_OK;
}

rill_err_t rill_engine_run(rill_engine_t *e, char *errstr, size_t errsz)
{
    const struct rill_topology *t = e->t;
    rill_err_t err = rill_store_instance_open(t->state_dir, t->application_id, e->instance_id,
                                              &e->lock_fd, errstr, errsz);
    if (err != RILL_OK)
        return err;
    for (size_t p = 0; p < t->nprocs; p++)
        for (int i = 0; i < t->num_stream_threads; i++) {
            struct sthread *st = &e->threads[p * (size_t)t->num_stream_threads + (size_t)i];
            st->e = e;
            st->pc = &t->procs[p];
            st->idx = i;
            snprintf(st->group, sizeof st->group, "%s.%s", t->application_id, st->pc->name);
            snprintf(st->txnid, sizeof st->txnid, "%s.%s.%s-%d", t->application_id, st->pc->name,
                     e->instance_id, i);
        }
    for (size_t p = 0; p < t->nprocs; p++) {
        err = probe(&e->threads[p * (size_t)t->num_stream_threads], errstr, errsz);
        if (err != RILL_OK)
            return err;
    }
    rill_log(RILL_LOG_INFO, "engine", "starting|application=%s guarantee=%s processors=%zu threads=%zu instance=%s",
             t->application_id, e->eos ? "exactly_once_v2" : "at_least_once", t->nprocs,
             e->nthreads, e->instance_id);
    for (size_t i = 0; i < e->nthreads; i++) {
        if (pthread_create(&e->threads[i].tid, NULL, thread_main, &e->threads[i])) {
            snprintf(errstr, errsz, "cannot start a stream thread");
            atomic_store(&e->stop, 1);
            err = RILL_ERR_NOMEM;
            break;
        }
        e->threads[i].started = 1;
    }
    for (size_t i = 0; i < e->nthreads; i++)
        if (e->threads[i].started)
            pthread_join(e->threads[i].tid, NULL);
    if (err == RILL_OK)
        rill_log(RILL_LOG_INFO, "engine", "stopped|application=%s", t->application_id);
    return err;
}

void rill_engine_stop(rill_engine_t *e)
{
    atomic_store(&e->stop, 1);
}

void rill_engine_free(rill_engine_t *e)
{
    if (!e)
        return;
    rill_store_dir_unlock(e->lock_fd);
    rill_store_cache_free(e->cache);
    free(e->threads);
    free(e);
}
