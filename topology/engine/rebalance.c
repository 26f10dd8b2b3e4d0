/*
 * rebalance.c - a stream thread's part in its consumer group's rebalances
 * (eager protocol): on assignment, the group's committed offsets (waited
 * for while another member's transaction holds them), a task per new
 * partition and an assignment at explicit offsets; on revoke, a commit of
 * what was processed (on loss, an abort: the group moved on without this
 * member) and every task dropped. Also seeking, which rewinds and retries
 * share. Not the tasks themselves (task.c) nor the commit (txn.c).
 */
#include "topology/engine/engine_int.h"

#include <inttypes.h>
#include <stdlib.h>

/* How long one seek and one committed-offsets fetch may take. */
#define SEEK_TIMEOUT_MS 10000
#define COMMITTED_FETCH_TIMEOUT_MS 10000
/* Committed offsets held by an open transaction (UNSTABLE_OFFSET_COMMIT)
 * are asked for again every COMMITTED_POLL_MS, for as long as that
 * transaction may live and a fetch more. */
#define COMMITTED_POLL_MS 200
#define COMMITTED_WAIT_MS (TXN_TIMEOUT_MS + COMMITTED_FETCH_TIMEOUT_MS)

static const struct engine_retry committed_retry = {
    .deadline_ms = COMMITTED_WAIT_MS,
    .backoff_ms = COMMITTED_POLL_MS,
    .level = RILL_LOG_INFO,
};

/* Seeks each listed partition, waiting for each. Not
 * rd_kafka_seek_partitions(): librdkafka 2.0.2 takes its timeout as
 * microseconds (10 s become 10 ms), so slow seeks would look failed. */
rill_err_t rebalance_seek(struct sthread *st, const rd_kafka_topic_partition_list_t *l)
{
    rill_err_t rc = RILL_OK;
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(st->consumer, l->elems[i].topic, NULL);
        rd_kafka_resp_err_t err =
            rkt ? rd_kafka_seek(rkt, l->elems[i].partition, l->elems[i].offset, SEEK_TIMEOUT_MS)
                : RD_KAFKA_RESP_ERR__INVALID_ARG;
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        if (err) {
            rill_log(RILL_LOG_ERROR, "engine", "seek failed, rejoining|processor=%s topic=%s "
                     "partition=%d error=\"%s\"", st->pc->name, l->elems[i].topic,
                     (int)l->elems[i].partition, rd_kafka_err2str(err));
            rc = RILL_ERR_KAFKA;
        }
    }
    return rc;
}

struct committed_fetch {
    struct sthread *st;
    rd_kafka_topic_partition_list_t *parts;
};

static rill_err_t committed_step(void *arg, char *errstr, size_t errsz)
{
    struct committed_fetch *f = arg;
    for (int i = 0; i < f->parts->cnt; i++) {
        f->parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        f->parts->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    rd_kafka_resp_err_t err = rd_kafka_committed(f->st->consumer, f->parts,
                                                 COMMITTED_FETCH_TIMEOUT_MS);
    for (int i = 0; i < f->parts->cnt && !err; i++)
        err = f->parts->elems[i].err;
    if (!err)
        return RILL_OK;
    rill_errf(errstr, errsz, RILL_ERR_RETRY, "%s", rd_kafka_err2str(err));
    return RILL_ERR_RETRY;
}

/* Reads the group's committed offsets for parts into parts' offsets. Under
 * exactly-once another member's transaction may still hold them
 * (UNSTABLE_OFFSET_COMMIT): wait for it to end. librdkafka 2.0.2 can stall a
 * partition forever when it meets that error in its own assignment offset
 * fetch, so rill fetches them itself and assigns explicit offsets. */
static rill_err_t fetch_committed(struct sthread *st, rd_kafka_topic_partition_list_t *parts)
{
    struct committed_fetch f = { st, parts };
    return engine_retry(st->e, &committed_retry, "committed offsets not yet stable",
                        st->pc->name, committed_step, &f, NULL, 0);
}

static void on_assign_tasks(struct sthread *st, rd_kafka_topic_partition_list_t *parts);

/* Taking an assignment: restoring its tasks (not ready meanwhile). */
static void on_assign(struct sthread *st, rd_kafka_topic_partition_list_t *parts)
{
    METRIC_SET(st->m.restoring, 1);
    METRIC_ADD(st->m.rebalances, 1);
    view_assigned(st, parts);
    on_assign_tasks(st, parts);
    METRIC_SET(st->m.restoring, 0);
    METRIC_SET(st->m.assigned, 1);
}

static void on_assign_tasks(struct sthread *st, rd_kafka_topic_partition_list_t *parts)
{
    int64_t t0 = rill_now_ms();
    if (fetch_committed(st, parts) != RILL_OK) {
        rill_log(RILL_LOG_ERROR, "engine", "cannot read committed offsets, rejoining|processor=%s",
                 st->pc->name);
        sthread_fatal(st, "cannot read committed offsets");
        return;
    }
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        struct task *t = task_find(st, p);
        METRIC_SET(st->m.restore.parts_left, parts->cnt - i);
        if (!t) {
            /* a standby copy here becomes the task's store: its tail only */
            standby_claim(st->e, st->pc, p);
            t = task_new(st, p);
            struct task **arr = t ? realloc(st->tasks, (st->ntasks + 1) * sizeof *arr) : NULL;
            if (!arr) {
                task_free(t);
                standby_release(st->e, st->pc, p);
                sthread_fatal(st, "cannot create a task");
                continue;
            }
            st->tasks = arr;
            st->tasks[st->ntasks++] = t;
        }
        METRIC_SET(st->m.restore.parts_left, parts->cnt - i - 1);
        view_task_update(&st->view, NULL, p, 0); /* restored: it runs */
        /* No committed offset: start from the beginning (auto.offset.reset
         * earliest), which librdkafka resolves; committed stays unknown
         * until the first record shows where that is. */
        struct tp *tp = task_tp(t, parts->elems[i].topic);
        if (parts->elems[i].offset < 0)
            parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        else if (tp)
            tp->committed = parts->elems[i].offset;
    }
    /* ms: from the assignment to every task restored (the committed
     * offsets' wait included) */
    rill_log(RILL_LOG_INFO, "engine", "partitions assigned|processor=%s thread=%d count=%d "
             "tasks=%zu ms=%" PRId64, st->pc->name, st->idx, parts->cnt, st->ntasks,
             rill_now_ms() - t0);
    rd_kafka_assign(st->consumer, parts);
}

static void on_revoke(struct sthread *st, rd_kafka_topic_partition_list_t *parts)
{
    int lost = rd_kafka_assignment_lost(st->consumer);
    METRIC_SET(st->m.assigned, 0);
    if (lost) {
        if (st->state == STHREAD_IN_TXN)
            txn_abort(st, "partitions lost");
    } else {
        txn_commit(st);
    }
    /* Lost: the group moved on to a newer generation without this member (a
     * zombie, KIP-447); whatever it had in flight was aborted above. */
    rill_log(lost ? RILL_LOG_WARN : RILL_LOG_INFO, "engine",
             "partitions %s|processor=%s thread=%d count=%d%s", lost ? "lost" : "revoked",
             st->pc->name, st->idx, parts->cnt, lost ? " fenced=true" : "");
    /* Eager protocol: everything goes; the next assignment recreates tasks. */
    tasks_drop_all(st);
    metrics_forget(&st->m);
    rd_kafka_assign(st->consumer, NULL);
}

void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                  rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct sthread *st = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
        on_assign(st, parts);
    else
        on_revoke(st, parts);
}
