/*
 * task.c - the tasks of a stream thread: one per assigned partition number
 * (co-partitioned inputs share it), each with its input positions, its
 * processor instance (a node) and its stores, opened under
 * <state.dir>/<application.id>/<processor>-<partition>/ with the directory
 * locked, restored from their changelogs and hooked up to them; their
 * commit and abort after the Kafka transaction's; and a task's record retry:
 * its partitions paused, capped exponential back-off, then resumed. Not when
 * tasks come and go (rebalance.c) nor how a changelog is replayed
 * (state/restore.c).
 */
#include "topology/engine/engine_int.h"
#include "topology/engine/spec.h"
#include "state/restore.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A record a processor asked to retry waits from TASK_RETRY_BACKOFF_MIN_MS,
 * doubling for each refusal in a row, up to TASK_RETRY_BACKOFF_MAX_MS. */
#define TASK_RETRY_BACKOFF_MIN_MS 50
#define TASK_RETRY_BACKOFF_MAX_MS 5000
/* How long dropping the tasks waits for the producer's delivery reports. */
#define DELIVERY_DRAIN_MS 10000

struct task *task_find(struct sthread *st, int32_t partition)
{
    for (size_t i = 0; i < st->ntasks; i++)
        if (st->tasks[i]->partition == partition)
            return st->tasks[i];
    return NULL;
}

struct tp *task_tp(struct task *t, const char *topic)
{
    if (t->ntps == 1) /* subscribed to one topic: every record is from it */
        return t->tps;
    for (size_t i = 0; i < t->ntps; i++)
        if (!strcmp(t->tps[i].topic, topic))
            return &t->tps[i];
    return NULL;
}

void task_free(struct task *t)
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

/* ---- stores ------------------------------------------------------------------ */

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

rill_err_t task_store_prepare(const struct rill_engine *e, const char *name, const char *dir,
                              struct rill_store_opts *o, char path[RILL_STORE_PATH_MAX],
                              char changelog[ENGINE_TOPIC_SIZE], char *err, size_t errsz)
{
    const struct rill_store_conf *sc = rill_topology_store(e->t, name);
    changelog[0] = '\0';
    if ((!sc || sc->changelog) &&
        rill_topology_changelog(e->t, name, changelog, ENGINE_TOPIC_SIZE) != RILL_OK)
        return rill_errf(err, errsz, RILL_ERR_NOFIT,
                         "changelog topic name of store '%s' is longer than kafka allows", name);
    if ((size_t)snprintf(path, RILL_STORE_PATH_MAX, "%s/%s", dir, name) >= RILL_STORE_PATH_MAX)
        return rill_errf(err, errsz, RILL_ERR_NOFIT, "path of store '%s' in '%s' is too long",
                         name, dir);
    *o = (struct rill_store_opts){
        .type = sc && sc->type ? sc->type : "rocksdb", .path = path,
        .write_buffer_bytes = e->write_buffer, .block_cache = e->cache,
    };
    return RILL_OK;
}

rill_err_t task_store_open_or_wipe(const char *name, const struct rill_store_opts *o,
                                   rill_store_t **store, char *err, size_t errsz)
{
    rill_err_t e = rill_store_open(name, o, store, err, errsz);
    if (e == RILL_ERR_STATE && strcmp(o->type, "memory")) {
        /* unreadable: start over from the changelog */
        rill_log(RILL_LOG_WARN, "state", "store unreadable, full restore|store=%s path=%s error=\"%s\"",
                 name, o->path, err);
        e = rill_store_wipe(o->type, o->path, err, errsz);
        if (e == RILL_OK)
            e = rill_store_open(name, o, store, err, errsz);
    }
    return e;
}

/* Opens, restores and hooks up one granted store of the task, in dir. */
static rill_err_t task_store_open(struct sthread *st, struct task *t, struct tstore *ts,
                                  const char *name, const char *dir, char *err, size_t errsz)
{
    ts->st = st;
    ts->t = t;
    ts->cl_last = -1;
    char path[RILL_STORE_PATH_MAX];
    struct rill_store_opts o;
    rill_err_t e = task_store_prepare(st->e, name, dir, &o, path, ts->changelog, err, errsz);
    if (e == RILL_OK)
        e = task_store_open_or_wipe(name, &o, &ts->store, err, errsz);
    if (e != RILL_OK || !ts->changelog[0])
        return e;
    struct restore_metrics *rm = &st->m.restore;
    METRIC_SET(rm->partition, t->partition);
    METRIC_SET(rm->store, (int)(ts - t->stores));
    e = rill_store_restore_changelog(st->restorer, ts->changelog, t->partition, &o, &ts->store,
                                     &st->e->stop, &rm->at, err, errsz);
    int64_t from = METRIC_GET(rm->at.from), at = METRIC_GET(rm->at.at);
    METRIC_ADD(rm->records, at > from && from >= 0 ? at - from : 0);
    METRIC_SET(rm->partition, -1);
    if (e == RILL_OK)
        rill_store_set_log(ts->store, changelog_write, ts);
    return e;
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
    rill_err_t e = rill_store_taskdir_open(top->state_dir, top->application_id, pc->name,
                                           t->partition, dir, sizeof dir, &t->lock_fd, err,
                                           errsz);
    if (e != RILL_OK)
        return e;
    t->stores = calloc(pc->stores.n, sizeof *t->stores);
    if (!t->stores)
        return rill_errf(err, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < pc->stores.n; i++) {
        /* counted before it is open: a store a failed restore replaced is
         * freed with the task */
        t->nstores++;
        e = task_store_open(st, t, &t->stores[i], pc->stores.v[i], dir, err, errsz);
        if (e != RILL_OK)
            return e;
    }
    return RILL_OK;
}

/* The task's processor instance, bound to every store it was granted. */
static rill_node_t *task_node(struct sthread *st, struct task *t, char *err, size_t errsz)
{
    rill_store_t **stores = NULL;
    if (t->nstores && !(stores = calloc(t->nstores, sizeof *stores))) {
        rill_errf(err, errsz, RILL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < t->nstores; i++)
        stores[i] = t->stores[i].store;
    struct rill_node_spec spec;
    rill_node_spec_of(st->pc, &spec);
    rill_node_t *n = rill_node_new_bound(&spec, t->partition, engine_emit, st, st->pc->stores.v,
                                         stores, t->nstores, err, errsz);
    free(stores);
    return n;
}

struct task *task_new(struct sthread *st, int32_t partition)
{
    char err[RILL_ERRSTR_SIZE] = "out of memory";
    struct task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->partition = partition;
    t->lock_fd = -1;
    t->ntps = st->pc->inputs.n;
    t->tps = calloc(t->ntps, sizeof *t->tps);
    rill_err_t e = t->tps ? task_stores(st, t, err, sizeof err) : RILL_ERR_NOMEM;
    if (e == RILL_OK && !(t->node = task_node(st, t, err, sizeof err)))
        e = RILL_ERR_STATE;
    if (e != RILL_OK) {
        rill_log(RILL_LOG_ERROR, "task", "cannot create task|processor=%s partition=%" PRId32
                 " error=\"%s\"", st->pc->name, partition, err);
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

rill_err_t task_node_reset(struct sthread *st, struct task *t)
{
    char err[RILL_ERRSTR_SIZE];
    rill_node_free(t->node);
    t->node = task_node(st, t, err, sizeof err);
    if (t->node)
        return RILL_OK;
    rill_log(RILL_LOG_ERROR, "task", "cannot restart processor|processor=%s partition=%d error=\"%s\"",
             st->pc->name, (int)t->partition, err);
    return RILL_ERR_STATE;
}

void tasks_commit_stores(struct sthread *st)
{
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t k = 0; k < st->tasks[i]->nstores; k++) {
            struct tstore *ts = &st->tasks[i]->stores[k];
            char err[RILL_ERRSTR_SIZE];
            if (rill_store_commit(ts->store, ts->cl_last >= 0 ? ts->cl_last + 1 : -1, err,
                                  sizeof err) != RILL_OK) {
                /* The changelog has it; the next assignment replays the tail. */
                rill_log(RILL_LOG_ERROR, "state", "store commit failed, rejoining|store=%s error=\"%s\"",
                         rill_store_name(ts->store), err);
                sthread_fatal(st, "store commit failed");
            }
            ts->cl_last = -1;
        }
}

void tasks_abort_stores(struct sthread *st)
{
    for (size_t i = 0; i < st->ntasks; i++)
        for (size_t k = 0; k < st->tasks[i]->nstores; k++) {
            rill_store_abort(st->tasks[i]->stores[k].store);
            st->tasks[i]->stores[k].cl_last = -1;
        }
}

void tasks_drop_all(struct sthread *st)
{
    /* Delivery reports carry tstore pointers: serve them all first. */
    if (st->producer)
        rd_kafka_flush(st->producer, DELIVERY_DRAIN_MS);
    for (size_t i = 0; i < st->ntasks; i++) {
        int32_t p = st->tasks[i]->partition;
        task_free(st->tasks[i]); /* its directory unlocked: a standby may take it */
        standby_release(st->e, st->pc, p);
    }
    free(st->tasks);
    st->tasks = NULL;
    st->ntasks = 0;
    st->npending = 0;
    view_set(&st->view, NULL, 0);
}

/* ---- a record's retry ------------------------------------------------------ */

/* The task's input partitions, at their positions when with_offsets (the
 * next offset to process, or the start of this assignment; partitions
 * never fetched from are left out). */
static rd_kafka_topic_partition_list_t *task_partitions(struct task *t, int with_offsets)
{
    rd_kafka_topic_partition_list_t *p = rd_kafka_topic_partition_list_new((int)t->ntps);
    for (size_t k = 0; k < t->ntps; k++) {
        const struct tp *tp = &t->tps[k];
        int64_t pos = tp->next >= 0 ? tp->next : tp->committed;
        if (!with_offsets)
            rd_kafka_topic_partition_list_add(p, tp->topic, t->partition);
        else if (pos >= 0)
            rd_kafka_topic_partition_list_add(p, tp->topic, t->partition)->offset = pos;
    }
    return p;
}

void task_retry_later(struct sthread *st, struct task *t, rd_kafka_message_t *m)
{
    int first = !t->backoff_ms;
    t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 : TASK_RETRY_BACKOFF_MIN_MS;
    if (t->backoff_ms > TASK_RETRY_BACKOFF_MAX_MS)
        t->backoff_ms = TASK_RETRY_BACKOFF_MAX_MS;
    t->retry_at = rill_now_ms() + t->backoff_ms;
    if (first) {
        rd_kafka_topic_partition_list_t *p = task_partitions(t, 0);
        rd_kafka_pause_partitions(st->consumer, p);
        rd_kafka_topic_partition_list_destroy(p);
    }
    t->pending = m;
    st->npending++;
}

void task_retry_done(struct sthread *st, struct task *t)
{
    t->backoff_ms = 0;
    rd_kafka_topic_partition_list_t *p = task_partitions(t, 1);
    rd_kafka_resume_partitions(st->consumer, p);
    if (rebalance_seek(st, p) != RILL_OK)
        sthread_fatal(st, "seek after a retry failed");
    rd_kafka_topic_partition_list_destroy(p);
}

void task_retry_cancel(struct sthread *st, struct task *t)
{
    if (!t->pending && !t->backoff_ms)
        return;
    if (t->pending) {
        rd_kafka_message_destroy(t->pending);
        st->npending--;
    }
    t->pending = NULL;
    t->backoff_ms = 0;
    rd_kafka_topic_partition_list_t *p = task_partitions(t, 0);
    rd_kafka_resume_partitions(st->consumer, p);
    rd_kafka_topic_partition_list_destroy(p);
}
