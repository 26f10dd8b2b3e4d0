/*
 * txn.c - a stream thread's transactions and commits: begin on the first
 * produce of an interval, commit per interval (the consumed offsets through
 * send_offsets_to_transaction with the consumer's group metadata, KIP-447,
 * then the commit; at_least_once: flush, then commit the offsets), abort and
 * rewind to the committed offsets, and the classification of librdkafka's
 * transactional errors: retriable ones are retried, abortable ones abort and
 * rewind, fatal ones (fenced) make the thread rebuild its clients. Not when
 * a commit happens (loop.c) nor what a rebalance commits (rebalance.c).
 */
#include "topology/engine/engine_int.h"

#include <inttypes.h>

/* Retriable transactional calls: at most TXN_RETRY_ATTEMPTS calls, backing
 * off TXN_RETRY_BACKOFF_MS times the calls so far. */
#define TXN_RETRY_ATTEMPTS 6
#define TXN_RETRY_BACKOFF_MS 100

static const struct engine_retry txn_retry = {
    .attempts = TXN_RETRY_ATTEMPTS,
    .backoff_ms = TXN_RETRY_BACKOFF_MS,
    .linear = 1,
    .level = RILL_LOG_INFO,
};

/* What a failed transactional call asks for. */
enum txn_err_kind {
    TXN_ERR_RETRIABLE,          /* call it again */
    TXN_ERR_ABORTABLE,          /* abort the transaction and rewind */
    TXN_ERR_FATAL,              /* the producer is done for (fenced): rebuild */
};

static enum txn_err_kind txn_err_classify(const rd_kafka_error_t *e)
{
    if (rd_kafka_error_is_fatal(e))
        return TXN_ERR_FATAL;
    if (rd_kafka_error_txn_requires_abort(e))
        return TXN_ERR_ABORTABLE;
    if (rd_kafka_error_is_retriable(e))
        return TXN_ERR_RETRIABLE;
    return TXN_ERR_ABORTABLE;
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

static void txn_fenced(struct sthread *st, const rd_kafka_error_t *e)
{
    int fence = is_fencing(rd_kafka_error_code(e));
    rill_log(RILL_LOG_WARN, "engine", "%s, rejoining|processor=%s thread=%d fenced=%s error=\"%s\"",
             fence ? "fenced by a newer instance" : "fatal producer error", st->pc->name, st->idx,
             fence ? "true" : "false", rd_kafka_error_string(e));
    sthread_fatal(st, fence ? "fenced" : "fatal producer error");
}

rill_err_t txn_ensure(struct sthread *st)
{
    if (!st->e->eos || st->state == STHREAD_IN_TXN)
        return RILL_OK;
    if (st->state == STHREAD_FATAL)
        return RILL_ERR_FATAL; /* nothing more goes into this producer */
    if (st->state != STHREAD_READY) {
        /* A bug: the refused transition logs it. The record in hand must not
         * be dropped while the next commit moves past it, so the thread
         * rebuilds and every partition starts again from its committed
         * offset. */
        sthread_set_state(st, STHREAD_IN_TXN, "begin transaction");
        sthread_fatal(st, "begin outside READY");
        return RILL_ERR_FATAL;
    }
    rd_kafka_error_t *e = rd_kafka_begin_transaction(st->producer);
    if (e) {
        txn_fenced(st, e);
        rd_kafka_error_destroy(e);
        return RILL_ERR_FATAL;
    }
    return sthread_set_state(st, STHREAD_IN_TXN, "first produce of the interval");
}

/* ---- offsets ----------------------------------------------------------------- */

/* Offsets processed since the last commit, as a partition list. */
static rd_kafka_topic_partition_list_t *pending_offsets(struct sthread *st)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)st->ntasks);
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

/* ---- abort and rewind ------------------------------------------------------- */

/* Seeks every partition back to its last committed offset and forgets what
 * was processed since, with the stores' pending writes. */
static void txn_rewind(struct sthread *st)
{
    tasks_abort_stores(st); /* their pending writes belong to the records replayed */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)st->ntasks);
    for (size_t i = 0; i < st->ntasks; i++) {
        struct task *t = st->tasks[i];
        task_retry_cancel(st, t);
        /* The processor may hold state of the undone records (stream time,
         * schedules, its own fields): start it afresh. */
        if (task_node_reset(st, t) != RILL_OK)
            sthread_fatal(st, "cannot restart a processor");
        for (size_t k = 0; k < t->ntps; k++) {
            struct tp *tp = &t->tps[k];
            if (tp->committed >= 0)
                rd_kafka_topic_partition_list_add(l, tp->topic, t->partition)->offset =
                    tp->committed;
            tp->next = tp->committed;
        }
    }
    if (rebalance_seek(st, l) != RILL_OK)
        sthread_fatal(st, "seek failed");
    rd_kafka_topic_partition_list_destroy(l);
}

void txn_abort(struct sthread *st, const char *why)
{
    METRIC_ADD(st->m.aborts, 1);
    rill_log(RILL_LOG_WARN, "engine", "aborting transaction|processor=%s reason=\"%s\"",
             st->pc->name, why);
    atomic_store(&st->produce_failed, 0);
    if (st->state == STHREAD_FATAL) {
        /* The producer goes with the rebuild, and its transaction with it. */
        tasks_abort_stores(st);
        return;
    }
    if (sthread_set_state(st, STHREAD_ABORTING, why) != RILL_OK) {
        sthread_fatal(st, "abort outside a transaction");
        tasks_abort_stores(st);
        return;
    }
    rd_kafka_error_t *e = rd_kafka_abort_transaction(st->producer, TXN_TIMEOUT_MS);
    if (e) {
        rill_log(RILL_LOG_ERROR, "engine", "abort failed, rejoining|processor=%s fenced=%s error=\"%s\"",
                 st->pc->name, is_fencing(rd_kafka_error_code(e)) ? "true" : "false",
                 rd_kafka_error_string(e));
        sthread_fatal(st, "abort failed");
        rd_kafka_error_destroy(e);
        tasks_abort_stores(st);
        return;
    }
    txn_rewind(st);
    if (st->state == STHREAD_ABORTING)
        sthread_set_state(st, STHREAD_READY, "aborted and rewound");
}

void txn_fail(struct sthread *st, const char *why)
{
    if (st->e->eos)
        txn_abort(st, why);
    else
        txn_rewind(st);
}

/* ---- commit ------------------------------------------------------------------- */

/* One transactional call for engine_retry(): err keeps the last error. */
struct txn_call {
    struct sthread *st;
    rd_kafka_topic_partition_list_t *offsets;
    rd_kafka_error_t *err;
};

static rill_err_t txn_call_result(struct txn_call *c, char *errstr, size_t errsz)
{
    if (!c->err)
        return RILL_OK;
    rill_errf(errstr, errsz, RILL_ERR_KAFKA, "%s", rd_kafka_error_string(c->err));
    return txn_err_classify(c->err) == TXN_ERR_RETRIABLE ? RILL_ERR_RETRY : RILL_ERR_KAFKA;
}

static rill_err_t txn_send_offsets(void *arg, char *errstr, size_t errsz)
{
    struct txn_call *c = arg;
    if (c->err)
        rd_kafka_error_destroy(c->err);
    rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(c->st->consumer);
    c->err = rd_kafka_send_offsets_to_transaction(c->st->producer, c->offsets, md, TXN_TIMEOUT_MS);
    rd_kafka_consumer_group_metadata_destroy(md);
    return txn_call_result(c, errstr, errsz);
}

/* After a retriable commit error the commit itself is resumed: librdkafka
 * refuses a second send_offsets then. */
static rill_err_t txn_commit_call(void *arg, char *errstr, size_t errsz)
{
    struct txn_call *c = arg;
    if (c->err)
        rd_kafka_error_destroy(c->err);
    c->err = rd_kafka_commit_transaction(c->st->producer, TXN_TIMEOUT_MS);
    return txn_call_result(c, errstr, errsz);
}

/* at_least_once: everything produced this interval (outputs, DLQ,
 * changelogs) must be delivered before the offsets move and the stores take
 * it; otherwise the partitions rewind. */
static rill_err_t commit_at_least_once(struct sthread *st)
{
    if (sthread_set_state(st, STHREAD_COMMITTING, "commit interval") != RILL_OK)
        return RILL_ERR_STATE;
    rd_kafka_topic_partition_list_t *l = pending_offsets(st);
    rill_err_t rc = RILL_OK;
    rd_kafka_flush(st->producer, TXN_TIMEOUT_MS);
    if (atomic_exchange(&st->produce_failed, 0) || rd_kafka_outq_len(st->producer)) {
        rill_log(RILL_LOG_WARN, "engine", "outputs not delivered, rewinding|processor=%s",
                 st->pc->name);
        txn_rewind(st);
        rc = RILL_ERR_KAFKA;
    } else if (l->cnt && rd_kafka_commit(st->consumer, l, 0)) {
        rill_log(RILL_LOG_WARN, "engine", "offset commit failed, rewinding|processor=%s",
                 st->pc->name);
        txn_rewind(st);
        rc = RILL_ERR_KAFKA;
    } else {
        offsets_committed(st);
        tasks_commit_stores(st);
        METRIC_ADD(st->m.commits, l->cnt > 0);
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (st->state == STHREAD_COMMITTING)
        sthread_set_state(st, STHREAD_READY, rc == RILL_OK ? "committed" : "rewound");
    return rc;
}

static rill_err_t txn_commit_timed(struct sthread *st);

/* A commit, timed into the commit histogram when there was one to make. */
rill_err_t txn_commit(struct sthread *st)
{
    int open = st->state == STHREAD_IN_TXN || (!st->e->eos && st->state == STHREAD_READY);
    int64_t t0 = open ? metrics_now_us() : 0;
    rill_err_t err = txn_commit_timed(st);
    if (open)
        hist_observe_us(&st->m.commit, metrics_now_us() - t0);
    return err;
}

static rill_err_t txn_commit_timed(struct sthread *st)
{
    if (st->state == STHREAD_FATAL)
        return RILL_ERR_FATAL;
    if (st->state != STHREAD_READY && st->state != STHREAD_IN_TXN)
        return RILL_OK; /* no clients, or no interval to commit */
    if (!st->e->eos)
        return commit_at_least_once(st);
    if (st->state != STHREAD_IN_TXN)
        return RILL_OK;
    if (sthread_set_state(st, STHREAD_COMMITTING, "commit interval") != RILL_OK)
        return RILL_ERR_STATE;
    /* The offsets once, then the commit; each retried on retriable errors
     * only. */
    struct txn_call c = { .st = st, .offsets = pending_offsets(st) };
    rill_err_t err = RILL_OK;
    if (c.offsets->cnt)
        err = engine_retry(st->e, &txn_retry, "send offsets failed", st->pc->name,
                           txn_send_offsets, &c, NULL, 0);
    rd_kafka_topic_partition_list_destroy(c.offsets);
    if (err == RILL_OK)
        err = engine_retry(st->e, &txn_retry, "commit failed", st->pc->name, txn_commit_call, &c,
                           NULL, 0);
    if (err == RILL_OK) {
        offsets_committed(st);
        tasks_commit_stores(st);
        METRIC_ADD(st->m.commits, 1);
        if (st->state == STHREAD_COMMITTING)
            sthread_set_state(st, STHREAD_READY, "committed");
        return RILL_OK;
    }
    if (txn_err_classify(c.err) == TXN_ERR_FATAL) {
        txn_fenced(st, c.err);
    } else {
        if (is_fencing(rd_kafka_error_code(c.err)))
            rill_log(RILL_LOG_WARN, "engine",
                     "fenced by a newer group generation|processor=%s thread=%d fenced=true",
                     st->pc->name, st->idx);
        txn_abort(st, rd_kafka_error_string(c.err));
    }
    rd_kafka_error_destroy(c.err);
    return RILL_ERR_KAFKA;
}
