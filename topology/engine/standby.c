/*
 * standby.c - standby replicas (num.standby.replicas): for each processor
 * with an on-disk, changelogged store, one thread that keeps warm copies of
 * tasks this instance does not own, in their usual task directories under
 * state.dir, fed from the changelogs (read_committed) and written with the
 * changelog offset they reflect, as a restore writes them. When such a task
 * is assigned here, the stream thread claims the copy (standby_claim: its
 * position written, its directory unlocked) and its restore replays only
 * the tail. Which tasks: standby_plan.c, from the group's description once
 * a plan interval; without static membership (no instance in the member
 * ids) or under another assignor than range, every task not owned here.
 * Not here: the restore itself (state/restore.c).
 *
 * Threading: the tasks and the claims are under the standby's lock; the
 * thread holds it while it applies records and opens or closes copies,
 * never while it waits on Kafka. A claim closes a copy on the caller's
 * thread, under the lock.
 */
#include "topology/engine/engine_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often the plan is made again from the group's description, and how
 * long a description or a metadata request may take. */
#define STANDBY_PLAN_MS 1000
#define STANDBY_REQUEST_MS 5000
#define STANDBY_WAIT_SLICE_MS 100
/* How often applied records are written with their offset. */
#define STANDBY_FLUSH_MS 100
/* One wait for the next changelog record, and the records applied after it
 * under one hold of the lock. */
#define STANDBY_POLL_MS 50
#define STANDBY_DRAIN_MAX 1000
#define STANDBY_FETCH_WAIT_MS "100"

struct sb_store {
    rill_store_t *store;
    struct rill_store_opts o;
    char path[RILL_STORE_PATH_MAX];
    char changelog[ENGINE_TOPIC_SIZE];
    rd_kafka_topic_t *rkt;      /* fetching when set */
    int64_t next;               /* the next changelog offset to apply; -1 from the start */
    int64_t written;            /* the offset last written with the data */
    int caught_up;              /* reached the changelog's end once */
};

struct sb_task {
    int32_t partition;
    int lock_fd;
    struct sb_store *stores;
    size_t nstores;
    int64_t applied;            /* records applied since it was opened */
    int64_t opened_at;          /* rill_now_ms() when opened */
};

struct standby {
    struct rill_engine *e;
    const struct rill_proc_conf *pc;
    const char *group;
    pthread_t tid;
    int running;
    rd_kafka_t *rk;             /* group-less: reads the changelogs, describes the group */
    rd_kafka_queue_t *q;        /* every fetched changelog partition's records */
    pthread_mutex_t lock;
    struct sb_task **tasks;
    size_t ntasks;
    int32_t *claimed;           /* partitions a stream thread of this process owns */
    size_t nclaimed;
    int64_t flush_at;
    const char *why_mirror;     /* the plan's last reason to copy every task; NULL none */
};

/* Whether the processor's store name is one a standby copies. */
static int copied_store(const struct rill_engine *e, const char *name)
{
    const struct rill_store_conf *sc = rill_topology_store(e->t, name);
    return !sc || (sc->changelog && (!sc->type || strcmp(sc->type, "memory")));
}

static struct standby *standby_of(struct rill_engine *e, const struct rill_proc_conf *pc)
{
    for (size_t i = 0; i < e->nstandbys; i++)
        if (e->standbys[i].pc == pc)
            return &e->standbys[i];
    return NULL;
}

static struct sb_task **task_slot(struct standby *sb, int32_t partition)
{
    for (size_t i = 0; i < sb->ntasks; i++)
        if (sb->tasks[i]->partition == partition)
            return &sb->tasks[i];
    return NULL;
}

static int is_claimed(const struct standby *sb, int32_t partition)
{
    for (size_t i = 0; i < sb->nclaimed; i++)
        if (sb->claimed[i] == partition)
            return 1;
    return 0;
}

/* ---- a copy: open, apply, write, close ------------------------------------------------ */

/* Writes what was applied to the store with the offset it reflects. */
static void store_write(struct standby *sb, struct sb_task *t, struct sb_store *s)
{
    if (s->next < 0 || s->next == s->written)
        return;
    char err[RILL_ERRSTR_SIZE];
    if (rill_store_restore_done(s->store, s->next, err, sizeof err) == RILL_OK)
        s->written = s->next;
    else
        rill_log(RILL_LOG_WARN, "state", "standby write failed|processor=%s partition=%d store=%s "
                 "error=\"%s\"", sb->pc->name, (int)t->partition, rill_store_name(s->store), err);
}

/* Closes copy *slot (its position written unless wipe: then its stores are
 * deleted, to be copied again from the start) and removes it. */
static void task_close(struct standby *sb, struct sb_task **slot, const char *why, int wipe)
{
    struct sb_task *t = *slot;
    int64_t at = -1;
    for (size_t i = 0; i < t->nstores; i++) {
        struct sb_store *s = &t->stores[i];
        if (s->rkt) {
            rd_kafka_consume_stop(s->rkt, t->partition);
            rd_kafka_topic_destroy(s->rkt);
        }
        if (s->store && !wipe)
            store_write(sb, t, s);
        if (i == 0)
            at = s->next;
        rill_store_free(s->store);
        char err[RILL_ERRSTR_SIZE];
        if (wipe && rill_store_wipe(s->o.type, s->path, err, sizeof err) != RILL_OK)
            rill_log(RILL_LOG_WARN, "state", "cannot wipe standby store|path=%s error=\"%s\"",
                     s->path, err);
    }
    rill_log(RILL_LOG_INFO, "state", "standby %s|processor=%s partition=%d offset=%" PRId64
             " applied=%" PRId64, why, sb->pc->name, (int)t->partition, at, t->applied);
    rill_store_dir_unlock(t->lock_fd);
    free(t->stores);
    free(t);
    *slot = sb->tasks[--sb->ntasks];
}

/* Opens a copy of task partition and starts fetching its changelogs from
 * the offsets its stores reflect. Quietly nothing when its directory is
 * held (a stream thread of this process owns the task). */
static void task_open(struct standby *sb, int32_t partition)
{
    const struct rill_topology *top = sb->e->t;
    char dir[RILL_STORE_PATH_MAX], err[RILL_ERRSTR_SIZE];
    struct sb_task *t = calloc(1, sizeof *t);
    struct sb_task **arr = t ? realloc(sb->tasks, (sb->ntasks + 1) * sizeof *arr) : NULL;
    if (!arr) {
        free(t);
        return;
    }
    sb->tasks = arr;
    t->partition = partition;
    t->lock_fd = -1;
    t->opened_at = rill_now_ms();
    if (rill_store_taskdir_open(top->state_dir, top->application_id, sb->pc->name, partition, dir,
                                sizeof dir, &t->lock_fd, err, sizeof err) != RILL_OK) {
        rill_log(RILL_LOG_DEBUG, "state", "no standby|processor=%s partition=%d error=\"%s\"",
                 sb->pc->name, (int)partition, err);
        free(t);
        return;
    }
    sb->tasks[sb->ntasks++] = t;
    t->stores = calloc(sb->pc->stores.n, sizeof *t->stores);
    rill_err_t e = t->stores ? RILL_OK : RILL_ERR_NOMEM;
    for (size_t i = 0; i < sb->pc->stores.n && e == RILL_OK; i++) {
        const char *name = sb->pc->stores.v[i];
        if (!copied_store(sb->e, name))
            continue;
        struct sb_store *s = &t->stores[t->nstores++];
        e = task_store_prepare(sb->e, name, dir, &s->o, s->path, s->changelog, err, sizeof err);
        if (e == RILL_OK)
            e = task_store_open_or_wipe(name, &s->o, &s->store, err, sizeof err);
        if (e != RILL_OK)
            break;
        s->next = s->written = rill_store_offset(s->store);
        s->rkt = rd_kafka_topic_new(sb->rk, s->changelog, NULL);
        if (!s->rkt || rd_kafka_consume_start_queue(s->rkt, partition,
                                                    s->next >= 0 ? s->next
                                                                 : RD_KAFKA_OFFSET_BEGINNING,
                                                    sb->q) == -1) {
            e = rill_errf(err, sizeof err, RILL_ERR_KAFKA, "cannot read changelog '%s': %s",
                          s->changelog, rd_kafka_err2str(rd_kafka_last_error()));
            if (s->rkt)
                rd_kafka_topic_destroy(s->rkt);
            s->rkt = NULL;
        }
    }
    if (e != RILL_OK) {
        rill_log(RILL_LOG_WARN, "state", "cannot open standby|processor=%s partition=%d "
                 "error=\"%s\"", sb->pc->name, (int)partition, err);
        task_close(sb, &sb->tasks[sb->ntasks - 1], "closed", 0);
        return;
    }
    rill_log(RILL_LOG_INFO, "state", "standby opened|processor=%s partition=%d offset=%" PRId64,
             sb->pc->name, (int)partition, t->nstores ? t->stores[0].next : -1);
}

/* One fetched changelog record (or a fetch error) into its copy. */
static void apply(struct standby *sb, const rd_kafka_message_t *m)
{
    struct sb_task **slot = task_slot(sb, m->partition);
    if (!slot)
        return; /* closed meanwhile */
    struct sb_task *t = *slot;
    const char *topic = rd_kafka_topic_name(m->rkt);
    struct sb_store *s = NULL;
    for (size_t i = 0; i < t->nstores && !s; i++)
        if (!strcmp(t->stores[i].changelog, topic))
            s = &t->stores[i];
    if (!s)
        return;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!s->caught_up)
            rill_log(RILL_LOG_INFO, "state", "standby caught up|processor=%s partition=%d "
                     "store=%s offset=%" PRId64 " applied=%" PRId64 " ms=%" PRId64, sb->pc->name,
                     (int)t->partition, rill_store_name(s->store), m->offset, t->applied,
                     rill_now_ms() - t->opened_at);
        s->caught_up = 1;
        return;
    }
    if (m->err) {
        /* Out of range: the store does not match its changelog (foreign,
         * or compacted past it); copied again from the start. Anything
         * else: closed, and opened again by the next plan. */
        int wipe = m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                   m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE;
        rill_log(RILL_LOG_WARN, "state", "standby changelog error|processor=%s partition=%d "
                 "changelog=%s error=\"%s\"%s", sb->pc->name, (int)t->partition, topic,
                 rd_kafka_message_errstr(m), wipe ? " wipe=true" : "");
        task_close(sb, slot, "closed", wipe);
        return;
    }
    if (m->offset < s->next)
        return; /* a record from before a restart of the fetch */
    rill_err_t e = rill_store_restore_put(s->store, m->key, m->key_len, m->payload, m->len);
    if (e != RILL_OK) {
        rill_log(RILL_LOG_WARN, "state", "standby apply failed|processor=%s partition=%d error=%s",
                 sb->pc->name, (int)t->partition, rill_err2str(e));
        task_close(sb, slot, "closed", 0);
        return;
    }
    s->next = m->offset + 1;
    t->applied++;
}

static void flush_all(struct standby *sb)
{
    for (size_t i = 0; i < sb->ntasks; i++)
        for (size_t k = 0; k < sb->tasks[i]->nstores; k++)
            store_write(sb, sb->tasks[i], &sb->tasks[i]->stores[k]);
}

/* ---- the plan ------------------------------------------------------------------------ */

/* The instance of a group.instance.id "<prefix>.<processor>-<n>": its
 * prefix, into buf; another id is an instance of its own. */
static const char *instance_of(const char *gii, const char *proc, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s", gii);
    char *dash = strrchr(buf, '-');
    size_t pl = strlen(proc);
    if (!dash || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1) ||
        (size_t)(dash - buf) < pl + 1 || strncmp(dash - pl, proc, pl) || dash[-(long)pl - 1] != '.')
        return buf;
    dash[-(long)pl - 1] = '\0';
    return buf;
}

/* Waits for the answer on q in slices, so that a stop is noticed. */
static rd_kafka_event_t *wait_event(struct standby *sb, rd_kafka_queue_t *q)
{
    for (int64_t until = rill_now_ms() + STANDBY_REQUEST_MS + 1000;
         rill_now_ms() < until && !atomic_load(&sb->e->stop);) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, STANDBY_WAIT_SLICE_MS);
        if (ev)
            return ev;
    }
    return NULL;
}

static int32_t partition_count(struct standby *sb)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(sb->rk, sb->pc->inputs.v[0], NULL);
    const struct rd_kafka_metadata *md = NULL;
    int32_t n = -1;
    if (rkt && !rd_kafka_metadata(sb->rk, 0, rkt, &md, STANDBY_REQUEST_MS) && md->topic_cnt == 1 &&
        !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return n;
}

/* Marks in want[0..nparts) what to copy, from group description d: the
 * plan, or every task (a reason in sb->why_mirror). -1: nothing to go by. */
static int plan_from(struct standby *sb, const rd_kafka_ConsumerGroupDescription_t *d,
                     int32_t nparts, unsigned char *want)
{
    size_t n = rd_kafka_ConsumerGroupDescription_member_count(d);
    const char *me = engine_member_prefix(sb->e, &sb->pc->kafka);
    const char *assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d);
    if (!n)
        return -1; /* nobody in the group: keep what is copied */
    sb->why_mirror = !me ? "static membership is off"
                   : assignor && *assignor && strcmp(assignor, "range") ? "the assignor is not range"
                   : NULL;
    struct sb_member *m = calloc(n, sizeof *m);
    char (*names)[ENGINE_ID_SIZE] = calloc(n, sizeof *names);
    int rc = m && names ? 0 : -1;
    for (size_t i = 0; i < n && !rc && !sb->why_mirror; i++) {
        const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(d, i);
        const char *gii = rd_kafka_MemberDescription_group_instance_id(md);
        if (!gii || !*gii) {
            sb->why_mirror = "a member is not static";
            break;
        }
        m[i].order = gii;
        m[i].instance = instance_of(gii, sb->pc->name, names[i], sizeof names[i]);
    }
    if (!rc && !sb->why_mirror &&
        standby_plan(m, n, me, nparts, sb->e->t->num_standby_replicas, want) < 0)
        sb->why_mirror = "too many failure cases to lay out";
    if (!rc && sb->why_mirror)
        memset(want, 1, (size_t)nparts);
    free(m);
    free(names);
    return rc;
}

/* Describes the group and opens and closes copies to match the plan. */
static void plan(struct standby *sb)
{
    int32_t nparts = partition_count(sb);
    if (nparts <= 0)
        return;
    rd_kafka_queue_t *q = rd_kafka_queue_new(sb->rk);
    char err[RILL_ERRSTR_SIZE];
    rd_kafka_AdminOptions_t *o =
        rd_kafka_AdminOptions_new(sb->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_AdminOptions_set_request_timeout(o, STANDBY_REQUEST_MS, err, sizeof err);
    const char *ids[1] = { sb->group };
    rd_kafka_DescribeConsumerGroups(sb->rk, ids, 1, o, q);
    rd_kafka_event_t *ev = wait_event(sb, q);
    unsigned char *want = calloc((size_t)nparts, 1);
    const char *was = sb->why_mirror;
    int rc = -1;
    if (ev && !rd_kafka_event_error(ev) && want) {
        size_t nd = 0;
        const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &nd);
        if (nd == 1 && !rd_kafka_ConsumerGroupDescription_error(d[0]))
            rc = plan_from(sb, d[0], nparts, want);
    } else {
        rill_log(RILL_LOG_DEBUG, "state", "cannot describe group for standbys|processor=%s error=\"%s\"",
                 sb->pc->name, ev ? rd_kafka_event_error_string(ev) : "no answer");
    }
    if (rc == 0 && sb->why_mirror && sb->why_mirror != was)
        rill_log(RILL_LOG_INFO, "state", "standby copies every task|processor=%s reason=\"%s\"",
                 sb->pc->name, sb->why_mirror);
    if (rc == 0) {
        pthread_mutex_lock(&sb->lock);
        for (size_t i = 0; i < sb->ntasks;) {
            int32_t p = sb->tasks[i]->partition;
            if (p >= nparts || !want[p])
                task_close(sb, &sb->tasks[i], "closed", 0);
            else
                i++;
        }
        for (int32_t p = 0; p < nparts && !atomic_load(&sb->e->stop); p++)
            if (want[p] && !task_slot(sb, p) && !is_claimed(sb, p))
                task_open(sb, p);
        pthread_mutex_unlock(&sb->lock);
    }
    free(want);
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
}

/* ---- the thread and its callers ------------------------------------------------------ */

static void *standby_main(void *arg)
{
    struct standby *sb = arg;
    int64_t plan_at = 0;
    while (!atomic_load(&sb->e->stop)) {
        int64_t now = rill_now_ms();
        if (now >= plan_at) {
            plan(sb);
            plan_at = rill_now_ms() + STANDBY_PLAN_MS;
        }
        rd_kafka_message_t *m = rd_kafka_consume_queue(sb->q, STANDBY_POLL_MS);
        pthread_mutex_lock(&sb->lock);
        for (int i = 0; m && i < STANDBY_DRAIN_MAX; i++) {
            apply(sb, m);
            rd_kafka_message_destroy(m);
            m = rd_kafka_consume_queue(sb->q, 0);
        }
        if (m)
            rd_kafka_message_destroy(m);
        if (rill_now_ms() >= sb->flush_at) {
            flush_all(sb);
            sb->flush_at = rill_now_ms() + STANDBY_FLUSH_MS;
        }
        pthread_mutex_unlock(&sb->lock);
        rd_kafka_poll(sb->rk, 0);
    }
    return NULL;
}

void standby_claim(struct rill_engine *e, const struct rill_proc_conf *pc, int32_t partition)
{
    struct standby *sb = standby_of(e, pc);
    if (!sb)
        return;
    pthread_mutex_lock(&sb->lock);
    if (!is_claimed(sb, partition)) {
        int32_t *arr = realloc(sb->claimed, (sb->nclaimed + 1) * sizeof *arr);
        if (arr) {
            sb->claimed = arr;
            sb->claimed[sb->nclaimed++] = partition;
        }
    }
    struct sb_task **slot = task_slot(sb, partition);
    if (slot)
        task_close(sb, slot, "handed over", 0);
    pthread_mutex_unlock(&sb->lock);
}

void standby_release(struct rill_engine *e, const struct rill_proc_conf *pc, int32_t partition)
{
    struct standby *sb = standby_of(e, pc);
    if (!sb)
        return;
    pthread_mutex_lock(&sb->lock);
    for (size_t i = 0; i < sb->nclaimed; i++)
        if (sb->claimed[i] == partition) {
            sb->claimed[i] = sb->claimed[--sb->nclaimed];
            break;
        }
    pthread_mutex_unlock(&sb->lock);
}

static rill_err_t standby_client(struct standby *sb, char *errstr, size_t errsz)
{
    rd_kafka_conf_t *c = engine_kafka_conf(sb->e->t, &sb->pc->kafka, 1, errstr, errsz);
    if (!c)
        return RILL_ERR_CONFIG;
    char id[ENGINE_ID_SIZE];
    snprintf(id, sizeof id, "%s.%s-standby", sb->e->t->application_id, sb->pc->name);
    const char *kv[][2] = {
        { "isolation.level", "read_committed" }, { "enable.auto.commit", "false" },
        { "auto.offset.reset", "error" }, { "fetch.wait.max.ms", STANDBY_FETCH_WAIT_MS },
        { "enable.partition.eof", "true" },
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (rd_kafka_conf_set(c, kv[i][0], kv[i][1], errstr, errsz) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(c);
            return RILL_ERR_CONFIG;
        }
    /* a changelog partition per copied store of each task */
    int32_t parts = engine_partitions(sb->e, &sb->pc->inputs) / (int32_t)sb->pc->inputs.n;
    size_t copied = 0;
    for (size_t i = 0; i < sb->pc->stores.n; i++)
        copied += copied_store(sb->e, sb->pc->stores.v[i]);
    if (engine_queue_limit(c, sb->e, &sb->pc->kafka, parts * (int32_t)(copied ? copied : 1), 0,
                           errstr, errsz) != RILL_OK) {
        rd_kafka_conf_destroy(c);
        return RILL_ERR_CONFIG;
    }
    if (!rill_kvlist_get(&sb->pc->kafka, "client.id") &&
        !rill_kvlist_get(&sb->e->t->kafka, "client.id"))
        rd_kafka_conf_set(c, "client.id", id, NULL, 0);
    sb->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, errstr, errsz);
    if (!sb->rk) {
        rd_kafka_conf_destroy(c);
        return RILL_ERR_KAFKA;
    }
    sb->q = rd_kafka_queue_new(sb->rk);
    return sb->q ? RILL_OK : rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
}

/* Whether processor pc keeps standby copies. */
static int has_copies(const struct rill_engine *e, const struct rill_proc_conf *pc)
{
    for (size_t i = 0; i < pc->stores.n; i++)
        if (copied_store(e, pc->stores.v[i]))
            return pc->inputs.n > 0;
    return 0;
}

rill_err_t standby_start(struct rill_engine *e, char *errstr, size_t errsz)
{
    const struct rill_topology *t = e->t;
    if (t->num_standby_replicas <= 0)
        return RILL_OK;
    e->standbys = calloc(t->nprocs ? t->nprocs : 1, sizeof *e->standbys);
    if (!e->standbys)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t p = 0; p < t->nprocs; p++) {
        if (!has_copies(e, &t->procs[p]))
            continue;
        struct standby *sb = &e->standbys[e->nstandbys++];
        sb->e = e;
        sb->pc = &t->procs[p];
        sb->group = e->threads[p * (size_t)t->num_stream_threads].group;
        pthread_mutex_init(&sb->lock, NULL);
        rill_err_t err = standby_client(sb, errstr, errsz);
        if (err == RILL_OK && pthread_create(&sb->tid, NULL, standby_main, sb))
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot start a standby thread");
        if (err != RILL_OK)
            return err;
        sb->running = 1;
        rill_log(RILL_LOG_INFO, "state", "standby replicas|processor=%s replicas=%d",
                 sb->pc->name, t->num_standby_replicas);
    }
    return RILL_OK;
}

void standby_stop(struct rill_engine *e)
{
    for (size_t i = 0; i < e->nstandbys; i++) {
        struct standby *sb = &e->standbys[i];
        if (sb->running)
            pthread_join(sb->tid, NULL);
        sb->running = 0;
        pthread_mutex_lock(&sb->lock);
        while (sb->ntasks)
            task_close(sb, &sb->tasks[0], "closed", 0);
        pthread_mutex_unlock(&sb->lock);
        free(sb->tasks);
        free(sb->claimed);
        if (sb->q)
            rd_kafka_queue_destroy(sb->q);
        if (sb->rk)
            rd_kafka_destroy(sb->rk);
        pthread_mutex_destroy(&sb->lock);
    }
    free(e->standbys);
    e->standbys = NULL;
    e->nstandbys = 0;
}
