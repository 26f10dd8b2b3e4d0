/*
 * sink_loop.c - a sink thread (DESIGN.md sections 3.3 and 10): a consumer of
 * the sink's inputs in its own group (read_committed, no auto-commit), record
 * by record into a batch that is written when it holds batch.size records or
 * its first record is linger.ms old. On assignment the partitions are
 * claimed in PostgreSQL (epoch bumped) and consumed from the position stored
 * there, never from Kafka's committed offsets; on revoke the batch in hand is
 * written first; on loss it is dropped (the new owner reads it again). When
 * the database is down or refuses for a transient reason, the partitions are
 * paused and the same batch is retried with capped exponential backoff and
 * jitter, the circuit-breaker state in the log; a fenced batch (a newer owner)
 * or a fatal error stops the sink and the engine with it. After each commit
 * the positions also go to Kafka, only for lag tools. When the partitions
 * are quiet, a position-only transaction moves rill_offsets over transaction
 * markers, so that it reaches the topics' end offsets.
 */
#include "topology/engine/engine_int.h"
#include "topology/engine/sink_int.h"
#include "topology/model/check.h"
#include "processors/registry.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The poll wait when nothing is due. */
#define SINK_POLL_MS 100
/* Backoff of the retries: from MIN, doubling, capped at MAX, +-25% jitter. */
#define SINK_BACKOFF_MIN_MS 100
#define SINK_BACKOFF_MAX_MS 5000
/* How long a revoke or a stop tries to write the batch in hand. */
#define SINK_DRAIN_MS 10000
/* How often quiet partitions are looked at for a position past markers. */
#define SINK_MARKER_MS 500
/* How long one PostgreSQL round trip may take. */
#define SINK_PG_TIMEOUT_MS 120000

static int stopped(const struct sink_thread *st)
{
    return atomic_load(&st->e->stop) || st->failed;
}

/* Stops the sink for good, and the engine with it. */
static void sink_fail(struct sink_thread *st, const char *fmt, const char *why)
{
    if (st->failed)
        return;
    st->failed = 1;
    snprintf(st->err, sizeof st->err, fmt, st->sc->name, why);
    for (char *p = st->err; *p; p++)
        if (*p == '\n' || *p == '"')
            *p = *p == '\n' ? ' ' : '\'';
    rill_log(RILL_LOG_ERROR, "sink", "stopping|sink=%s error=\"%s\"", st->sc->name, st->err);
    atomic_store(&st->e->stop, 1);
}

/* Sleeps ms in slices, returning early on a stop. */
static void sink_sleep(struct sink_thread *st, int64_t ms)
{
    for (int64_t until = rill_now_ms() + ms; !stopped(st);) {
        engine_beat();
        int64_t left = until - rill_now_ms();
        if (left <= 0)
            break;
        poll(NULL, 0, (int)(left < ENGINE_SLEEP_SLICE_MS ? left : ENGINE_SLEEP_SLICE_MS));
    }
}

static int next_backoff(int prev)
{
    int b = prev ? prev * 2 : SINK_BACKOFF_MIN_MS;
    if (b > SINK_BACKOFF_MAX_MS)
        b = SINK_BACKOFF_MAX_MS;
    return b;
}

static int jitter(int ms)
{
    /* rand_r with a per-call seed from the clock: no shared state */
    unsigned seed = (unsigned)rill_now_ms() ^ (unsigned)(uintptr_t)&ms;
    return ms * 3 / 4 + (int)((unsigned)rand_r(&seed) % (unsigned)(ms / 2 + 1));
}

/* ---- partitions ------------------------------------------------------------------ */

static struct sink_part *part_find(struct sink_thread *st, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < st->nparts; i++)
        if (st->parts[i].partition == partition && !strcmp(st->parts[i].topic, topic))
            return &st->parts[i];
    return NULL;
}

static void parts_clear(struct sink_thread *st)
{
    for (size_t i = 0; i < st->nparts; i++)
        free(st->parts[i].topic);
    free(st->parts);
    st->parts = NULL;
    st->nparts = 0;
}

static void batch_drop(struct sink_thread *st)
{
    for (size_t i = 0; i < st->nbatch; i++)
        rd_kafka_message_destroy(st->batch[i]);
    st->nbatch = 0;
    for (size_t i = 0; i < st->nparts; i++)
        st->parts[i].next = -1;
}

static void set_paused(struct sink_thread *st, int pause)
{
    if (st->paused == pause || !st->consumer)
        return;
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(st->consumer, &l) == RD_KAFKA_RESP_ERR_NO_ERROR && l) {
        if (pause)
            rd_kafka_pause_partitions(st->consumer, l);
        else
            rd_kafka_resume_partitions(st->consumer, l);
        rd_kafka_topic_partition_list_destroy(l);
    }
    st->paused = pause;
}

/* ---- writing a batch ------------------------------------------------------------- */

/* The circuit opens (or stays open): pause, and retry after a backoff. */
static void circuit_open(struct sink_thread *st, const char *error)
{
    char why[RILL_ERRSTR_SIZE];
    snprintf(why, sizeof why, "%s", error);
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '"')
            *p = *p == '\n' ? ' ' : '\'';
    int was = st->backoff_ms;
    st->backoff_ms = next_backoff(st->backoff_ms);
    int wait = jitter(st->backoff_ms);
    st->retry_at = rill_now_ms() + wait;
    METRIC_ADD(st->m.retries, 1);
    METRIC_SET(st->circuit_open, 1);
    if (!was) {
        st->open_since = rill_now_ms();
        rill_log(RILL_LOG_WARN, "sink", "circuit open, partitions paused|sink=%s error=\"%s\" "
                 "retry_in_ms=%d", st->sc->name, why, wait);
    } else {
        rill_log(st->backoff_ms == SINK_BACKOFF_MAX_MS ? RILL_LOG_INFO : RILL_LOG_DEBUG, "sink",
                 "still failing, retrying|sink=%s error=\"%s\" retry_in_ms=%d attempt=%llu",
                 st->sc->name, why, wait, (unsigned long long)METRIC_GET(st->m.retries));
    }
    set_paused(st, 1);
}

static void circuit_close(struct sink_thread *st)
{
    if (st->backoff_ms)
        rill_log(RILL_LOG_INFO, "sink", "circuit closed, partitions resumed|sink=%s "
                 "down_ms=%lld", st->sc->name, (long long)(rill_now_ms() - st->open_since));
    st->backoff_ms = 0;
    st->retry_at = 0;
    METRIC_SET(st->circuit_open, 0);
    set_paused(st, 0);
}

/* The positions the batch (or the consumer, past markers) moves to. */
static size_t advances(struct sink_thread *st, struct pg_advance *adv)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)st->nparts);
    for (size_t i = 0; i < st->nparts; i++)
        rd_kafka_topic_partition_list_add(l, st->parts[i].topic, st->parts[i].partition);
    if (st->nparts)
        rd_kafka_position(st->consumer, l);
    size_t n = 0;
    for (size_t i = 0; i < st->nparts; i++) {
        struct sink_part *p = &st->parts[i];
        int64_t to = p->next, pos = l->elems[i].offset;
        if (pos >= 0 && pos > to)
            to = pos;
        if (to > p->committed)
            adv[n++] = (struct pg_advance){ p->topic, p->partition, p->epoch, p->committed, to };
    }
    rd_kafka_topic_partition_list_destroy(l);
    return n;
}

/* After PostgreSQL committed: the positions move, and go to Kafka for lag
 * tools (asynchronously; never read back). */
static void committed(struct sink_thread *st, const struct pg_advance *adv, size_t nadv,
                      size_t rejected)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)nadv);
    for (size_t i = 0; i < nadv; i++) {
        struct sink_part *p = part_find(st, adv[i].topic, adv[i].partition);
        if (p)
            p->committed = adv[i].next;
        rd_kafka_topic_partition_list_add(l, adv[i].topic, adv[i].partition)->offset =
            adv[i].next;
    }
    if (nadv)
        rd_kafka_commit(st->consumer, l, 1);
    rd_kafka_topic_partition_list_destroy(l);
    METRIC_ADD(st->m.records_in, st->nbatch);
    METRIC_ADD(st->m.dlq, rejected);
    if (st->nbatch)
        METRIC_ADD(st->m.commits, 1);
    batch_drop(st);
    st->last_flush = rill_now_ms();
    circuit_close(st);
}

/* Writes the batch (or moves quiet positions): RILL_OK when it committed or
 * there was nothing to write, RILL_ERR_RETRY when it is to be retried (the
 * circuit is open), another error when the sink stopped. */
static rill_err_t flush(struct sink_thread *st)
{
    struct pg_advance *adv = calloc(st->nparts ? st->nparts : 1, sizeof *adv);
    struct rill_sink_rec *recs = calloc(st->nbatch ? st->nbatch : 1, sizeof *recs);
    if (!adv || !recs) {
        free(adv);
        free(recs);
        circuit_open(st, "out of memory");
        return RILL_ERR_RETRY;
    }
    size_t nadv = advances(st, adv);
    st->last_flush = rill_now_ms();
    if (!nadv && !st->nbatch) {
        /* nothing waits for the database (a revoke dropped the batch) */
        circuit_close(st);
        st->ambiguous = 0;
        free(adv);
        free(recs);
        return RILL_OK;
    }
    for (size_t i = 0; i < st->nbatch; i++) {
        const rd_kafka_message_t *m = st->batch[i];
        recs[i] = (struct rill_sink_rec){
            .topic = rd_kafka_topic_name(m->rkt), .partition = m->partition,
            .offset = m->offset, .timestamp = rd_kafka_message_timestamp(m, NULL),
            .key = m->key, .key_len = m->key_len, .value = m->payload, .value_len = m->len,
            .origin = m,
        };
    }
    char err[RILL_ERRSTR_SIZE] = "";
    size_t rejected = 0;
    enum pg_outcome o;
    if (st->ambiguous) {
        /* the last COMMIT's fate first: the batch in hand is the one it carried */
        o = pg_read_back(&st->pg, adv, nadv, err, sizeof err);
        if (o == PG_COMMITTED) {
            rill_log(RILL_LOG_INFO, "sink", "the lost COMMIT had landed|sink=%s", st->sc->name);
            rejected = sink_rejects_commit(&st->tx); /* its dead letters landed with it */
        }
        else if (o == PG_TRANSIENT)
            o = pg_batch(&st->pg, &st->tx, st->def, st->state, recs, st->nbatch, adv, nadv,
                         &rejected, err, sizeof err);
    } else {
        o = pg_batch(&st->pg, &st->tx, st->def, st->state, recs, st->nbatch, adv, nadv,
                     &rejected, err, sizeof err);
    }
    st->ambiguous = o == PG_AMBIGUOUS;
    rill_err_t rc = RILL_OK;
    switch (o) {
    case PG_COMMITTED:
        committed(st, adv, nadv, rejected);
        break;
    case PG_TRANSIENT:
    case PG_AMBIGUOUS:
        circuit_open(st, err);
        rc = RILL_ERR_RETRY;
        break;
    case PG_FENCED:
        sink_fail(st, "sink '%s': fenced, a newer owner holds its partitions; nothing of the "
                      "batch was committed: %s", err);
        rc = RILL_ERR_STATE;
        break;
    case PG_FATAL:
        sink_fail(st, "sink '%s': %s", err);
        rc = RILL_ERR_PG;
        break;
    }
    free(adv);
    free(recs);
    return rc;
}

/* Tries to write the batch in hand for at most SINK_DRAIN_MS (a revoke, a
 * stop); what cannot be written is dropped, to be read again. */
static void drain(struct sink_thread *st)
{
    int64_t until = rill_now_ms() + SINK_DRAIN_MS;
    while (!st->failed) {
        rill_err_t rc = flush(st);
        if (rc != RILL_ERR_RETRY || rill_now_ms() >= until)
            break;
        int64_t left = st->retry_at - rill_now_ms();
        for (int64_t end = rill_now_ms() + (left > 0 ? left : 0); rill_now_ms() < end;) {
            engine_beat();
            poll(NULL, 0, ENGINE_SLEEP_SLICE_MS);
        }
    }
    if (st->nbatch || st->ambiguous) {
        rill_log(RILL_LOG_WARN, "sink", "batch dropped, it will be read again|sink=%s "
                 "records=%zu", st->sc->name, st->nbatch);
        /* and the partitions forgotten: the consumer's position is past the
         * dropped records, and no later position-only advance may use it */
        batch_drop(st);
        parts_clear(st);
    }
    st->ambiguous = 0;
}

/* ---- rebalances --------------------------------------------------------------------- */

/* The view of l's partitions, each claiming (restoring) or not; topics
 * named by the topology's strings, which outlive the thread. */
static void view_publish(struct sink_thread *st, const rd_kafka_topic_partition_list_t *l,
                         int claiming)
{
    struct view_task *v = calloc(l && l->cnt ? (size_t)l->cnt : 1, sizeof *v);
    size_t n = 0;
    for (int i = 0; v && l && i < l->cnt; i++)
        for (size_t k = 0; k < st->sc->inputs.n; k++)
            if (!strcmp(st->sc->inputs.v[k], l->elems[i].topic))
                v[n++] = (struct view_task){ st->sc->inputs.v[k], l->elems[i].partition,
                                             claiming };
    view_set(&st->view, v, n);
    free(v);
}

static void on_assign(struct sink_thread *st, rd_kafka_topic_partition_list_t *l)
{
    METRIC_ADD(st->m.rebalances, 1);
    METRIC_SET(st->m.restoring, 1);
    view_publish(st, l, 1);
    size_t n = (size_t)l->cnt;
    int64_t *epochs = calloc(n ? n : 1, sizeof *epochs), *nexts = calloc(n ? n : 1, sizeof *nexts);
    struct sink_part *parts = calloc(n ? n : 1, sizeof *parts);
    char err[RILL_ERRSTR_SIZE] = "";
    rill_err_t rc = epochs && nexts && parts ? RILL_ERR_RETRY : RILL_ERR_NOMEM;
    /* the claim waits for the database, for as long as it takes */
    for (int backoff = 0; rc == RILL_ERR_RETRY && !stopped(st);) {
        rc = pg_claim(&st->pg, l, epochs, nexts, err, sizeof err);
        if (rc == RILL_ERR_RETRY) {
            backoff = next_backoff(backoff);
            rill_log(backoff == SINK_BACKOFF_MIN_MS ? RILL_LOG_WARN : RILL_LOG_DEBUG, "sink",
                     "cannot claim partitions yet, retrying|sink=%s error=\"%s\"", st->sc->name,
                     err);
            sink_sleep(st, jitter(backoff));
        }
    }
    if (rc != RILL_OK) {
        if (!stopped(st))
            sink_fail(st, "sink '%s': cannot claim its partitions: %s",
                      rc == RILL_ERR_NOMEM ? "out of memory" : err);
        free(parts);
        rd_kafka_assign(st->consumer, NULL);
    } else {
        parts_clear(st);
        for (size_t i = 0; i < n; i++) {
            parts[i] = (struct sink_part){ strdup(l->elems[i].topic), l->elems[i].partition,
                                           epochs[i], nexts[i], -1, 0 };
            l->elems[i].offset = nexts[i];
        }
        st->parts = parts;
        st->nparts = n;
        rd_kafka_assign(st->consumer, l);
        /* librdkafka keeps a partition's pause across unassign and assign */
        rd_kafka_resume_partitions(st->consumer, l);
        st->paused = 0;
        rill_log(RILL_LOG_INFO, "sink", "assigned|sink=%s group=%s partitions=%zu", st->sc->name,
                 st->group, n);
        for (size_t i = 0; i < n; i++)
            rill_log(RILL_LOG_DEBUG, "sink", "claimed|sink=%s topic=%s partition=%d epoch=%lld "
                     "next_offset=%lld", st->sc->name, parts[i].topic, (int)parts[i].partition,
                     (long long)parts[i].epoch, (long long)parts[i].committed);
    }
    free(epochs);
    free(nexts);
    view_publish(st, rc == RILL_OK ? l : NULL, 0);
    METRIC_SET(st->m.restoring, 0);
    METRIC_SET(st->m.assigned, rc == RILL_OK);
}

static void sink_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *l, void *opaque)
{
    struct sink_thread *st = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(st, l);
        return;
    }
    METRIC_SET(st->m.assigned, 0);
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk))
        drain(st);
    else
        batch_drop(st);
    /* nothing is held any more: the circuit closes (it reopens at the next
     * failure), and the partitions leave unpaused */
    st->ambiguous = 0;
    circuit_close(st);
    parts_clear(st);
    view_publish(st, NULL, 0);
    metrics_forget(&st->m);
    rd_kafka_assign(rk, NULL);
    rill_log(RILL_LOG_INFO, "sink", "revoked|sink=%s lost=%d", st->sc->name,
             err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || rd_kafka_assignment_lost(rk));
}

static void sink_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct sink_thread *st = opaque;
    (void)rk;
    rill_log(err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
                 ? RILL_LOG_DEBUG : RILL_LOG_WARN,
             "kafka", "%s|sink=%s", reason, st->sc->name);
}

/* ---- the thread ------------------------------------------------------------------------ */

static rill_err_t consumer_create(struct sink_thread *st, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *cc = engine_kafka_conf(st->e->t, &st->sc->kafka, 1, errstr, errsz);
    if (!cc)
        return RILL_ERR_CONFIG;
    rd_kafka_conf_set_opaque(cc, st);
    rd_kafka_conf_set_rebalance_cb(cc, sink_rebalance_cb);
    rd_kafka_conf_set_error_cb(cc, sink_error_cb);
    rill_err_t err = engine_static_member(cc, st->e, &st->sc->kafka, st->sc->name, 0, errstr,
                                          errsz);
    if (err == RILL_OK)
        err = engine_group_consumer_conf(cc, st->group, errstr, errsz);
    if (err == RILL_OK)
        err = engine_queue_limit(cc, st->e, &st->sc->kafka,
                                 engine_partitions(st->e, &st->sc->inputs), 0, errstr, errsz);
    /* a client.id that names the sink, unless the topology sets one */
    char id[ENGINE_ID_SIZE];
    snprintf(id, sizeof id, "%s.%s-sink", st->e->t->application_id, st->sc->name);
    if (err == RILL_OK && !rill_kvlist_get(&st->sc->kafka, "client.id") &&
        !rill_kvlist_get(&st->e->t->kafka, "client.id") &&
        rd_kafka_conf_set(cc, "client.id", id, errstr, errsz) != RD_KAFKA_CONF_OK)
        err = RILL_ERR_CONFIG;
    /* range: partition p of every input to one member, so that all events
     * of an order (co-partitioned by location) meet in one instance, and
     * the eager protocol the rebalance callback speaks */
    if (err == RILL_OK && rd_kafka_conf_set(cc, "partition.assignment.strategy", "range", errstr,
                                            errsz) != RD_KAFKA_CONF_OK)
        err = RILL_ERR_CONFIG;
    if (err == RILL_OK && !(st->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cc, errstr, errsz)))
        err = RILL_ERR_KAFKA;
    if (err != RILL_OK) {
        rd_kafka_conf_destroy(cc);
        return err;
    }
    return engine_subscribe(st->consumer, &st->sc->inputs, "sink", st->sc->name, errstr, errsz);
}

rill_err_t sink_thread_init(struct sink_thread *st, struct rill_engine *e,
                            const struct rill_sink_conf *sc, char *errstr, size_t errsz)
{
    memset(st, 0, sizeof *st);
    if (metrics_init(&st->m, 0, 0) != RILL_OK)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    view_init(&st->view);
    st->e = e;
    st->sc = sc;
    if (!(st->def = rill_sink_lookup(sc->type)))
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "sink '%s': unknown type '%s'",
                         sc->name, sc->type);
    if (!sc->dsn || !*sc->dsn)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "sink '%s': no dsn", sc->name);
    if (!rill_sink_group(e->t, sc, st->group, sizeof st->group))
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT, "sink '%s': its group name is too long",
                         sc->name);
    st->conf = calloc(1, st->def->conf_size ? st->def->conf_size : 1);
    if (!st->conf)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    char cerr[RILL_ERRSTR_SIZE];
    rill_err_t err = rill_conf_fill(st->def->conf, &sc->config, st->conf, cerr, sizeof cerr);
    if (err != RILL_OK) {
        free(st->conf);
        st->conf = NULL;
        return rill_errf(errstr, errsz, err, "sink '%s': %s", sc->name, cerr);
    }
    if ((err = st->def->init(&st->state, st->conf, cerr, sizeof cerr)) != RILL_OK) {
        rill_conf_release(st->def->conf, st->conf);
        free(st->conf);
        st->conf = NULL;
        return rill_errf(errstr, errsz, err, "sink '%s': %s", sc->name, cerr);
    }
    st->pg = (struct pg_session){ .dsn = sc->dsn, .sink = sc->name, .group = st->group,
                                  .timeout_ms = SINK_PG_TIMEOUT_MS };
    sink_tx_init(&st->tx, st->group, sc->name);
    return RILL_OK;
}

void sink_thread_fini(struct sink_thread *st)
{
    metrics_fini(&st->m);
    view_fini(&st->view);
    if (!st->def)
        return;
    if (st->state && st->def->fini)
        st->def->fini(st->state);
    st->state = NULL;
    if (st->conf) {
        rill_conf_release(st->def->conf, st->conf);
        free(st->conf);
        st->conf = NULL;
    }
    sink_tx_free(&st->tx);
    pg_disconnect(&st->pg);
    batch_drop(st);
    free(st->batch);
    st->batch = NULL;
    parts_clear(st);
}

/* The lag of each claimed partition from its position in PostgreSQL. */
static void lag_publish(struct sink_thread *st)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)(st->nparts ? st->nparts : 1));
    int64_t *ts = calloc(st->nparts ? st->nparts : 1, sizeof *ts);
    for (size_t i = 0; ts && i < st->nparts; i++) {
        rd_kafka_topic_partition_list_add(l, st->parts[i].topic, st->parts[i].partition)->offset =
            st->parts[i].committed;
        ts[i] = st->parts[i].last_ts;
    }
    if (ts)
        metrics_lag(&st->m, st->consumer, l, ts);
    free(ts);
    rd_kafka_topic_partition_list_destroy(l);
}

static void handle(struct sink_thread *st, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            rill_log(RILL_LOG_WARN, "kafka", "consumer error|sink=%s error=\"%s\"", st->sc->name,
                     rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        return;
    }
    struct sink_part *p = part_find(st, rd_kafka_topic_name(m->rkt), m->partition);
    /* not ours any more, or from before the claimed position */
    if (!p || m->offset < p->committed || m->offset < p->next) {
        rd_kafka_message_destroy(m);
        return;
    }
    if (st->nbatch == st->batch_cap) {
        size_t cap = st->batch_cap ? st->batch_cap * 2 : 1024;
        rd_kafka_message_t **v = realloc(st->batch, cap * sizeof *v);
        if (!v) {
            /* the consumer's position is past m already: seek back so that
             * it is fetched again, and pause for a while */
            rd_kafka_seek(m->rkt, m->partition, m->offset, 0);
            rd_kafka_message_destroy(m);
            circuit_open(st, "out of memory");
            return;
        }
        st->batch = v;
        st->batch_cap = cap;
    }
    if (!st->nbatch)
        st->batch_since = rill_now_ms();
    st->batch[st->nbatch++] = m;
    p->next = m->offset + 1;
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (ts > 0)
        p->last_ts = ts;
}

void *sink_thread_main(void *arg)
{
    struct sink_thread *st = arg;
    char err[RILL_ERRSTR_SIZE];
    if (consumer_create(st, err, sizeof err) != RILL_OK) {
        sink_fail(st, "sink '%s': %s", err);
        if (st->consumer)
            rd_kafka_destroy(st->consumer);
        st->consumer = NULL;
        return NULL;
    }
    rill_log(RILL_LOG_INFO, "sink", "started|sink=%s type=%s group=%s inputs=%zu batch.size=%lld "
             "linger.ms=%lld", st->sc->name, st->sc->type, st->group, st->sc->inputs.n,
             (long long)st->sc->batch_size, (long long)st->sc->linger_ms);
    st->last_flush = rill_now_ms();
    engine_beat_to(&st->m);
    while (!stopped(st)) {
        engine_beat();
        int64_t now = rill_now_ms(), timeout = SINK_POLL_MS;
        /* the circuit open, the retry is what is due (a batch held for it
         * is past its linger) */
        if (st->backoff_ms)
            timeout = st->retry_at - now < timeout ? st->retry_at - now : timeout;
        else if (st->nbatch && st->batch_since + st->sc->linger_ms - now < timeout)
            timeout = st->batch_since + st->sc->linger_ms - now;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->consumer, (int)(timeout > 0 ? timeout : 0));
        if (m)
            handle(st, m);
        now = rill_now_ms();
        if (st->backoff_ms && now < st->retry_at)
            continue;
        int due = st->nbatch && ((int64_t)st->nbatch >= st->sc->batch_size ||
                                 now - st->batch_since >= st->sc->linger_ms);
        if (due || st->backoff_ms || st->ambiguous ||
            (!m && !st->nbatch && now - st->last_flush >= SINK_MARKER_MS))
            flush(st);
        if (now - st->last_lag >= LAG_INTERVAL_MS) {
            lag_publish(st);
            st->last_lag = now;
        }
    }
    if (!st->failed)
        drain(st);
    batch_drop(st);
    /* leaves the group: the revoke writes nothing more (the batch is empty) */
    engine_consumer_leave(st->consumer);
    rd_kafka_destroy(st->consumer);
    st->consumer = NULL;
    rill_log(RILL_LOG_INFO, "sink", "stopped|sink=%s batches=%llu records=%llu dead_letters=%llu "
             "retries=%llu", st->sc->name, (unsigned long long)METRIC_GET(st->m.commits),
             (unsigned long long)METRIC_GET(st->m.records_in),
             (unsigned long long)METRIC_GET(st->m.dlq),
             (unsigned long long)METRIC_GET(st->m.retries));
    return NULL;
}
