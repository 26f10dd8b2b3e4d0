/*
 * loop.c - a stream thread: its state machine (the one table of legal
 * transitions), its main loop, and the consume-process-produce path of one
 * record. The loop polls record by record (librdkafka 2.0.2's batch consume
 * is unsafe during a rebalance), hands each record to the task of its
 * partition, produces what the processor forwards inside the open
 * transaction, fires punctuations and commits per commit interval, and
 * wakes librdkafka's fetchers when they may have stopped on a full queue; a
 * fatal client error rebuilds the clients, backing off. Also the engine's
 * stop-aware sleep and its one retry helper. Not how a commit, a rebalance,
 * a task or a client works: txn.c, rebalance.c, task.c, client.c.
 */
#include "topology/engine/engine_int.h"
#include "topology/base/grow_int.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* While the producer's queue is full, serve its deliveries this long. */
#define BACKPRESSURE_POLL_MS 10
/* Rebuilds within this long of the previous one count as a streak, and
 * back off from REBUILD_BACKOFF_MIN_MS doubling to REBUILD_BACKOFF_MAX_MS. */
#define REBUILD_STREAK_MS 30000
#define REBUILD_BACKOFF_MIN_MS 100
#define REBUILD_BACKOFF_MAX_MS 3200

/* ---- the state machine --------------------------------------------------- */

static const char *const state_names[STHREAD_STATE__COUNT] = {
    [STHREAD_INIT] = "init",
    [STHREAD_CREATING] = "creating",
    [STHREAD_READY] = "ready",
    [STHREAD_IN_TXN] = "in_transaction",
    [STHREAD_COMMITTING] = "committing",
    [STHREAD_ABORTING] = "aborting",
    [STHREAD_FATAL] = "fatal_error",
    [STHREAD_DEAD] = "dead",
};

#define FROM(s) (1u << STHREAD_##s)

/* For each state, the states it may be entered from. */
static const unsigned entered_from[STHREAD_STATE__COUNT] = {
    [STHREAD_INIT] = 0,
    /* the first time, and every rebuild */
    [STHREAD_CREATING] = FROM(INIT) | FROM(FATAL),
    /* clients up; a commit done; an abort done */
    [STHREAD_READY] = FROM(CREATING) | FROM(COMMITTING) | FROM(ABORTING),
    /* the first produce of an interval (exactly-once) */
    [STHREAD_IN_TXN] = FROM(READY),
    /* the interval is due, a revoke, the drain; at_least_once from READY */
    [STHREAD_COMMITTING] = FROM(IN_TXN) | FROM(READY),
    /* a produce failed, partitions lost, an abortable commit error */
    [STHREAD_ABORTING] = FROM(IN_TXN) | FROM(COMMITTING),
    /* fenced, a fatal client error, a seek or a store that failed: from any
     * state with clients, and again while already there */
    [STHREAD_FATAL] = FROM(CREATING) | FROM(READY) | FROM(IN_TXN) | FROM(COMMITTING) |
                      FROM(ABORTING) | FROM(FATAL),
    /* stopped: before it started, after the drain, or while rebuilding */
    [STHREAD_DEAD] = FROM(INIT) | FROM(READY) | FROM(FATAL),
};

const char *sthread_state_name(enum sthread_state s)
{
    return (unsigned)s < STHREAD_STATE__COUNT ? state_names[s] : "unknown";
}

rill_err_t sthread_set_state(struct sthread *st, enum sthread_state to, const char *why)
{
    enum sthread_state from = st->state;
    if ((unsigned)to >= STHREAD_STATE__COUNT || !(entered_from[to] & (1u << from))) {
        rill_log(RILL_LOG_ERROR, "engine", "illegal thread state transition|processor=%s "
                 "thread=%d from=%s to=%s reason=\"%s\"", st->pc->name, st->idx,
                 sthread_state_name(from), sthread_state_name(to), why);
        return RILL_ERR_STATE;
    }
    st->state = to;
    METRIC_SET(st->m.state, (int)to); /* what /readyz and /topology read */
    rill_log(RILL_LOG_DEBUG, "engine", "thread state|processor=%s thread=%d from=%s to=%s "
             "reason=\"%s\"", st->pc->name, st->idx, sthread_state_name(from),
             sthread_state_name(to), why);
    return RILL_OK;
}

void sthread_fatal(struct sthread *st, const char *why)
{
    sthread_set_state(st, STHREAD_FATAL, why);
}

/* ---- sleeping and retrying ----------------------------------------------- */

static _Thread_local struct thread_metrics *heartbeat_of;

void engine_beat_to(struct thread_metrics *m)
{
    heartbeat_of = m;
    engine_beat();
}

void engine_beat(void)
{
    if (heartbeat_of)
        METRIC_SET(heartbeat_of->heartbeat, rill_now_ms());
}

/* Sleeps ms, in slices, returning early when the engine is stopped. */
static void engine_sleep(struct rill_engine *e, int64_t ms)
{
    for (int64_t until = rill_now_ms() + ms; !atomic_load(&e->stop);) {
        engine_beat();
        int64_t left = until - rill_now_ms();
        if (left <= 0)
            break;
        usleep((useconds_t)(left < ENGINE_SLEEP_SLICE_MS ? left : ENGINE_SLEEP_SLICE_MS) * 1000);
    }
}

rill_err_t engine_retry(struct rill_engine *e, const struct engine_retry *p, const char *what,
                        const char *processor, engine_step_fn step, void *arg, char *errstr,
                        size_t errsz)
{
    char own[RILL_ERRSTR_SIZE];
    if (!errstr || !errsz) {
        errstr = own;
        errsz = sizeof own;
    }
    int64_t start = rill_now_ms();
    for (int calls = 1;; calls++) {
        errstr[0] = '\0';
        rill_err_t err = step(arg, errstr, errsz);
        if (err != RILL_ERR_RETRY || (p->attempts && calls >= p->attempts) ||
            (p->deadline_ms && rill_now_ms() - start >= p->deadline_ms) ||
            atomic_load(&e->stop))
            return err;
        rill_log(p->level, "engine", "%s, retrying|processor=%s attempt=%d error=\"%s\"", what,
                 processor, calls, errstr);
        engine_sleep(e, (int64_t)p->backoff_ms * (p->linear ? calls : 1));
    }
}

/* ---- producing ------------------------------------------------------------ */

/* Counts a record produced to topic under its output's index: the node
 * hands over the output name the topology holds, so a pointer compare
 * finds it, with a string compare behind it. */
static void count_output(struct sthread *st, const char *topic)
{
    const struct rill_strlist *l = &st->pc->outputs;
    for (size_t i = 0; i < l->n && i < st->m.noutputs; i++)
        if (l->v[i] == topic) {
            METRIC_ADD(st->m.out_by_output[i], 1);
            return;
        }
    for (size_t i = 0; i < l->n && i < st->m.noutputs; i++)
        if (!strcmp(l->v[i], topic)) {
            METRIC_ADD(st->m.out_by_output[i], 1);
            return;
        }
}

/* The trace id (32 hex digits at the returned address, not NUL-terminated)
 * of the traceparent the runtime put on o, or NULL (a changelog record). */
static const char *out_trace_id(const struct rill_out *o)
{
    for (size_t i = o->header_cnt; i-- > 0;)
        if (!strcmp(o->headers[i].name, RILL_TRACEPARENT))
            return o->headers[i].value && o->headers[i].len == RILL_TRACEPARENT_LEN
                       ? (const char *)o->headers[i].value + 3
                       : NULL;
    return NULL;
}

rill_err_t engine_emit(void *opaque, const struct rill_out *o)
{
    struct sthread *st = opaque;
    if (txn_ensure(st) != RILL_OK)
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
        if (!err) {
            if (o->dlq) {
                METRIC_ADD(st->m.dlq, 1);
                METRIC_ADD(st->m.dlq_by_class[o->dlq_class < RILL_REJECT__COUNT ? o->dlq_class
                                                                                : 0], 1);
            } else if (!o->changelog) {
                METRIC_ADD(st->m.records_out, 1);
                count_output(st, o->topic);
            }
            return RILL_OK;
        }
        if (h)
            rd_kafka_headers_destroy(h);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rill_log(RILL_LOG_WARN, "engine", "produce failed|processor=%s topic=%s "
                     "error=\"%s\"%s%.32s", st->pc->name, o->topic, rd_kafka_err2str(err),
                     out_trace_id(o) ? " trace_id=" : "", out_trace_id(o) ? out_trace_id(o) : "");
            if (err == RD_KAFKA_RESP_ERR__FATAL)
                sthread_fatal(st, "fatal produce error");
            return RILL_ERR_KAFKA;
        }
        rd_kafka_poll(st->producer, BACKPRESSURE_POLL_MS); /* backpressure: let deliveries drain */
    }
}

/* ---- one record ------------------------------------------------------------- */

/* The line about a record to be retried: info the first time, then debug
 * (it may be refused again and again), with its trace id. */
static void log_retry(const struct sthread *st, const struct task *t, const rill_record_t *rec,
                      int first)
{
    rill_log_level_t level = first ? RILL_LOG_INFO : RILL_LOG_DEBUG;
    if (!rill_log_enabled(level, "record"))
        return;
    char id[RILL_TRACE_ID_HEX + 1];
    rill_record_trace_id(rec, id);
    rill_log(level, "record", "record to be retried|processor=%s partition=%" PRId32
             " topic=%s offset=%" PRId64 " retry_in_ms=%d trace_id=%s", st->pc->name,
             rec->partition, rec->topic, rec->offset, t->backoff_ms, id);
}

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
    if (txn_ensure(st) != RILL_OK) {
        rd_kafka_message_destroy(m);
        return;
    }
    /* headers are parsed only when something asks for them */
    struct rill_header_src hsrc = { .m = m };
    rd_kafka_timestamp_type_t tstype;
    rill_record_t rec = {
        .topic = rd_kafka_topic_name(m->rkt), .partition = m->partition, .offset = m->offset,
        .timestamp = rd_kafka_message_timestamp(m, &tstype), .key = m->key,
        .key_len = m->key_len, .value = m->payload, .value_len = m->len,
        .header_src = &hsrc,
    };
    rill_proc_result_t res;
    int64_t t0 = metrics_now_us();
    rill_header_src_enter(&hsrc);
    rill_err_t perr = rill_node_process(t->node, &rec, &res);
    rill_header_src_leave();
    if (perr != RILL_OK) {
        rd_kafka_message_destroy(m);
        txn_fail(st, "produce failed");
        return;
    }
    if (res == RILL_PROC_RETRY) {
        METRIC_ADD(st->m.retries, 1);
        int first = !t->backoff_ms;
        task_retry_later(st, t, m);
        rill_header_src_enter(&hsrc); /* the line carries the record's trace id */
        log_retry(st, t, &rec, first);
        rill_header_src_leave();
        return;
    }
    int64_t t1 = metrics_now_us();
    hist_observe_us(&st->m.process, t1 - t0);
    if (rec.timestamp > 0)
        hist_observe_us(&st->m.e2e, (st->wall_offset_us + t1) - rec.timestamp * 1000);
    METRIC_ADD(st->m.records_in, 1);
    size_t in = (size_t)(tp - t->tps);
    if (in < st->m.ninputs)
        METRIC_ADD(st->m.in_by_input[in], 1);
    tp->next = m->offset + 1;
    tp->last_ts = rec.timestamp > 0 ? rec.timestamp : tp->last_ts;
    if (t->backoff_ms)
        task_retry_done(st, t);
    rd_kafka_message_destroy(m);
}

static void retry_due(struct sthread *st, int64_t now)
{
    for (size_t i = 0; i < st->ntasks && st->state != STHREAD_FATAL; i++) {
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

/* The size estimates of st's stores, for /metrics. */
static void sizes_publish(struct sthread *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->ntasks; i++)
        n += st->tasks[i]->nstores;
    struct store_size *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return; /* the last sample stays */
    size_t k = 0;
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t j = 0; j < st->tasks[i]->nstores; j++) {
            v[k].partition = st->tasks[i]->partition;
            v[k].store = (int)j;
            rill_store_estimate(st->tasks[i]->stores[j].store, &v[k].keys, &v[k].bytes);
            k++;
        }
    metrics_sizes(&st->m, v, k);
}

/* The lag of every input partition of st's tasks, for /metrics. */
static void lag_publish(struct sthread *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->ntasks; i++)
        n += st->tasks[i]->ntps;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)(n ? n : 1));
    int64_t *ts = calloc(n ? n : 1, sizeof *ts);
    for (size_t i = 0, k = 0; ts && i < st->ntasks; i++)
        for (size_t j = 0; j < st->tasks[i]->ntps; j++, k++) {
            rd_kafka_topic_partition_list_add(l, st->tasks[i]->tps[j].topic,
                                              st->tasks[i]->partition);
            ts[k] = st->tasks[i]->tps[j].last_ts;
        }
    if (ts) {
        if (n)
            rd_kafka_position(st->consumer, l); /* past markers */
        metrics_lag(&st->m, st->consumer, l, ts);
    }
    free(ts);
    rd_kafka_topic_partition_list_destroy(l);
}

/* librdkafka 2.0.2 stops fetching a partition while the consumer's queue
 * is over queued.min.messages or queued.max.messages.kbytes and looks again
 * only when its broker thread wakes: on a response, or after up to a second
 * (fetch.queue.backoff.ms came in 2.2.0). When the queue ran empty after a
 * burst that reached one of those bounds (so the fetcher may have stopped)
 * while a partition is behind the end its last fetch saw (by more than the
 * one offset a commit marker takes), a small request to every leader (an
 * offsets query) wakes them, and they fetch at once. At most every
 * FETCH_KICK_MS; after a failed one (a broker away), FETCH_KICK_MAX_MS.
 * Without a wake-up the fetcher still looks again within a second. A
 * partition paused for a retry does not count. */
static void fetch_kick(struct sthread *st, int64_t now)
{
    int full = st->burst_records >= st->q_min_records || st->burst_bytes >= st->q_max_bytes;
    if (!full || !st->ntasks || now - st->kicked_at < st->kick_wait_ms)
        return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)st->ntasks);
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t k = 0; !st->tasks[i]->pending && k < st->tasks[i]->ntps; k++)
            rd_kafka_topic_partition_list_add(l, st->tasks[i]->tps[k].topic,
                                              st->tasks[i]->partition);
    rd_kafka_position(st->consumer, l); /* local */
    int behind = 0;
    for (int i = 0; i < l->cnt && !behind; i++) {
        int64_t lo, hi;
        behind = l->elems[i].offset >= 0 &&
                 !rd_kafka_get_watermark_offsets(st->consumer, l->elems[i].topic,
                                                 l->elems[i].partition, &lo, &hi) &&
                 hi - l->elems[i].offset > 1;
    }
    if (behind) {
        for (int i = 0; i < l->cnt; i++)
            l->elems[i].offset = RD_KAFKA_OFFSET_END; /* "the latest": any answer will do */
        st->kick_wait_ms = rd_kafka_offsets_for_times(st->consumer, l, FETCH_KICK_TIMEOUT_MS)
                               ? FETCH_KICK_MAX_MS
                               : FETCH_KICK_MS;
        METRIC_ADD(st->m.fetch_kicks, 1);
    }
    st->burst_records = st->burst_bytes = 0;
    st->kicked_at = rill_now_ms(); /* after the call: it may have waited */
    rd_kafka_topic_partition_list_destroy(l);
}

static void tick(struct sthread *st)
{
    int64_t now = rill_now_ms();
    for (size_t i = 0; i < st->ntasks; i++) {
        rill_proc_result_t res;
        if (st->tasks[i]->node->nsched && rill_node_tick(st->tasks[i]->node, now, &res) != RILL_OK) {
            txn_fail(st, "produce failed in punctuation");
            return;
        }
    }
}

/* ---- the thread --------------------------------------------------------------- */

/* The back-off before the streak-th rebuild in a row: none for the first,
 * then doubling from REBUILD_BACKOFF_MIN_MS to REBUILD_BACKOFF_MAX_MS. */
static int64_t rebuild_backoff(int streak)
{
    int64_t ms = streak ? REBUILD_BACKOFF_MIN_MS : 0;
    for (int i = 1; i < streak && ms < REBUILD_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < REBUILD_BACKOFF_MAX_MS ? ms : REBUILD_BACKOFF_MAX_MS;
}

/* (Re)creates the clients, from INIT or FATAL: READY, or FATAL again. A
 * rebuild soon after the last one (clients that cannot be created, a task
 * that cannot start) backs off instead of spinning; it still notices a
 * stop. */
static void clients_rebuild(struct sthread *st)
{
    char err[RILL_ERRSTR_SIZE];
    if (st->rebuilt_at) {
        int soon = rill_now_ms() - st->rebuilt_at < REBUILD_STREAK_MS;
        st->rebuild_streak = soon ? st->rebuild_streak + 1 : 0;
        engine_sleep(st->e, rebuild_backoff(st->rebuild_streak));
    }
    clients_destroy(st);
    if (sthread_set_state(st, STHREAD_CREATING, st->rebuilt_at ? "rebuild" : "start") != RILL_OK)
        return;
    st->rebuilt_at = rill_now_ms();
    if (clients_create(st, err, sizeof err) != RILL_OK) {
        rill_log(RILL_LOG_ERROR, "engine", "cannot (re)create clients|processor=%s error=\"%s\"",
                 st->pc->name, err);
        sthread_fatal(st, "cannot create clients"); /* again, after the back-off */
        clients_destroy(st);
        return;
    }
    sthread_set_state(st, STHREAD_READY, "clients created");
}

void *sthread_main(void *arg)
{
    struct sthread *st = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the main thread */
    /* Commits keep a steady cadence: one commit.interval.ms after the start
     * of the previous one, not after the first record of a transaction, so
     * a record waits at most an interval plus one commit, not two commits
     * (the one in progress when it arrived, and its own). While a
     * transaction is open, the poll does not sleep past its due time. */
    int64_t interval = st->e->t->commit_interval_ms, last_tick = 0, last_lag = 0,
            now = rill_now_ms();
    st->last_commit = now;
    st->wall_offset_us = metrics_wall_ms() * 1000 - metrics_now_us();
    engine_beat_to(&st->m);
    while (!atomic_load(&st->e->stop)) {
        engine_beat();
        if (st->state == STHREAD_INIT || st->state == STHREAD_FATAL) {
            clients_rebuild(st);
            if (st->state != STHREAD_READY)
                continue;
        }
        int64_t wait = STHREAD_POLL_MS;
        if (st->state == STHREAD_IN_TXN) {
            int64_t due = st->last_commit + interval - now;
            wait = due < 0 ? 0 : due < STHREAD_POLL_MS ? due : STHREAD_POLL_MS;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(st->consumer, (int)wait);
        if (m) {
            st->burst_records++;
            st->burst_bytes += (int64_t)m->len;
            handle(st, m);
        } else {
            fetch_kick(st, now);
        }
        rd_kafka_poll(st->producer, 0);
        lookup_serve(st); /* /state lookups, between records */
        now = rill_now_ms();
        if (st->state != STHREAD_FATAL && st->npending)
            retry_due(st, now);
        /* Rebuilt at the top; nothing more goes into this transaction (and a
         * processor that could not restart has no node to tick). */
        if (st->state == STHREAD_FATAL)
            continue;
        if (now - last_tick >= STHREAD_TICK_MS) {
            /* wall clock = monotonic + this offset, so that end-to-end
             * latency costs no second clock read per record */
            st->wall_offset_us = metrics_wall_ms() * 1000 - metrics_now_us();
            tick(st);
            last_tick = now;
        }
        if (now - last_lag >= LAG_INTERVAL_MS) {
            lag_publish(st);
            sizes_publish(st);
            last_lag = now;
        }
        if ((st->state == STHREAD_IN_TXN || !st->e->eos) && now - st->last_commit >= interval) {
            rill_err_t rc = txn_commit(st);
            st->last_commit = now;
            rill_log(RILL_LOG_DEBUG, "engine", "commit|processor=%s ok=%s ms=%" PRId64,
                     st->pc->name, rc != RILL_OK ? "false" : "true", rill_now_ms() - now);
        }
    }
    /* Drain: commit what was processed, then leave the group (the revoke
     * callback commits anything still open). */
    if (st->state == STHREAD_READY || st->state == STHREAD_IN_TXN)
        txn_commit(st);
    clients_destroy(st);
    lookup_serve(st); /* no task any more: whoever still waits hears so */
    sthread_set_state(st, STHREAD_DEAD, "stopped");
    rill_log(RILL_LOG_INFO, "engine", "thread stopped|processor=%s thread=%d records=%" PRIu64
             " commits=%" PRIu64 " aborts=%" PRIu64 " retries=%" PRIu64 " fetch_wakeups=%" PRIu64,
             st->pc->name, st->idx, METRIC_GET(st->m.records_in), METRIC_GET(st->m.commits),
             METRIC_GET(st->m.aborts), METRIC_GET(st->m.retries), METRIC_GET(st->m.fetch_kicks));
    return NULL;
}
