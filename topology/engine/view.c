/*
 * view.c - what the HTTP thread may see of the engine's threads, and the
 * mailbox through which it asks a stream thread for a store lookup
 * (view_int.h says why each is safe): the assignment views the threads
 * publish at rebalances and while restoring, the table of the topology's
 * topics with their partition counts, and the lookups a stream thread
 * answers once per loop turn. Not the endpoints that read them
 * (http_topology.c, http_state.c).
 */
#include "topology/engine/engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert(sizeof(((struct view_topic *)0)->name) == ENGINE_TOPIC_SIZE,
               "a topic name of the view holds what the engine's do");

/* ---- assignment views --------------------------------------------------------- */

void view_init(struct view *w)
{
    w->ready = pthread_mutex_init(&w->lock, NULL) == 0;
}

void view_fini(struct view *w)
{
    if (!w->ready)
        return;
    pthread_mutex_destroy(&w->lock);
    free(w->v);
    w->v = NULL;
    w->n = 0;
    w->ready = 0;
}

void view_set(struct view *w, const struct view_task *v, size_t n)
{
    if (!w->ready)
        return;
    struct view_task *copy = n ? malloc(n * sizeof *copy) : NULL;
    if (copy)
        memcpy(copy, v, n * sizeof *copy);
    pthread_mutex_lock(&w->lock);
    free(w->v);
    w->v = copy;
    w->n = copy ? n : 0;
    pthread_mutex_unlock(&w->lock);
}

void view_task_update(struct view *w, const char *topic, int32_t partition, int restoring)
{
    if (!w->ready)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++) {
        struct view_task *t = &w->v[i];
        if (t->partition != partition || (topic && (!t->topic || strcmp(t->topic, topic))))
            continue;
        t->restoring = restoring;
    }
    pthread_mutex_unlock(&w->lock);
}

size_t view_copy(struct view *w, struct view_task **out)
{
    *out = NULL;
    if (!w->ready)
        return 0;
    pthread_mutex_lock(&w->lock);
    size_t n = w->n;
    if (n && (*out = malloc(n * sizeof **out)))
        memcpy(*out, w->v, n * sizeof **out);
    pthread_mutex_unlock(&w->lock);
    return *out ? n : 0;
}

int view_find(struct view *w, int32_t partition, struct view_task *out)
{
    int found = 0;
    if (!w->ready)
        return 0;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n && !found; i++)
        if (w->v[i].partition == partition) {
            *out = w->v[i];
            found = 1;
        }
    pthread_mutex_unlock(&w->lock);
    return found;
}

void view_assigned(struct sthread *st, const rd_kafka_topic_partition_list_t *parts)
{
    struct view_task *v = calloc(parts->cnt ? (size_t)parts->cnt : 1, sizeof *v);
    size_t n = 0;
    for (int i = 0; v && i < parts->cnt; i++) {
        size_t k = 0;
        while (k < n && v[k].partition != parts->elems[i].partition)
            k++;
        if (k == n) /* co-partitioned inputs share one task */
            v[n++] = (struct view_task){ .partition = parts->elems[i].partition, .restoring = 1 };
    }
    view_set(&st->view, v, n);
    free(v);
}

/* ---- the topology's topics -------------------------------------------------------- */

const struct view_topic *view_topic_find(const struct rill_engine *e, const char *name)
{
    for (size_t i = 0; i < e->ntopics; i++)
        if (!strcmp(e->topics[i].name, name))
            return &e->topics[i];
    return NULL;
}

static void topic_add(struct rill_engine *e, const char *name, enum view_topic_kind kind,
                      int32_t partitions)
{
    if (view_topic_find(e, name))
        return;
    struct view_topic *t = &e->topics[e->ntopics++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = kind;
    t->partitions = partitions;
}

rill_err_t view_topics_build(struct rill_engine *e)
{
    const struct rill_topology *t = e->t;
    size_t cap = t->ntopics;
    for (size_t p = 0; p < t->nprocs; p++)
        cap += 2 * t->procs[p].inputs.n + t->procs[p].outputs.n + t->procs[p].stores.n;
    for (size_t s = 0; s < t->nsinks; s++)
        cap += t->sinks[s].inputs.n;
    e->topics = calloc(cap ? cap : 1, sizeof *e->topics);
    if (!e->topics)
        return RILL_ERR_NOMEM;
    for (size_t i = 0; i < t->ntopics; i++)
        topic_add(e, t->topics[i].name, VIEW_TOPIC, t->topics[i].partitions);
    for (size_t p = 0; p < t->nprocs; p++) {
        const struct rill_proc_conf *pc = &t->procs[p];
        for (size_t i = 0; i < pc->inputs.n; i++)
            topic_add(e, pc->inputs.v[i], VIEW_TOPIC, -1);
        for (size_t i = 0; i < pc->outputs.n; i++)
            topic_add(e, pc->outputs.v[i], VIEW_TOPIC, -1);
        for (size_t i = 0; i < pc->inputs.n; i++) {
            char dlq[ENGINE_TOPIC_SIZE];
            if (!pc->dlq && (size_t)snprintf(dlq, sizeof dlq, "%s.dlq", pc->inputs.v[i]) >=
                                sizeof dlq)
                continue;
            topic_add(e, pc->dlq ? pc->dlq : dlq, VIEW_DLQ, -1);
        }
        for (size_t i = 0; i < pc->stores.n; i++) {
            const struct rill_store_conf *sc = rill_topology_store(t, pc->stores.v[i]);
            char cl[ENGINE_TOPIC_SIZE];
            if ((!sc || sc->changelog) &&
                rill_topology_changelog(t, pc->stores.v[i], cl, sizeof cl) == RILL_OK)
                topic_add(e, cl, VIEW_CHANGELOG, -1);
        }
    }
    for (size_t s = 0; s < t->nsinks; s++)
        for (size_t i = 0; i < t->sinks[s].inputs.n; i++)
            topic_add(e, t->sinks[s].inputs.v[i], VIEW_TOPIC, -1);
    return RILL_OK;
}

void view_topics_note(struct rill_engine *e, const struct rd_kafka_metadata *md)
{
    for (size_t i = 0; i < e->ntopics; i++)
        for (int k = 0; e->topics[i].partitions < 0 && k < md->topic_cnt; k++)
            if (!md->topics[k].err && !strcmp(md->topics[k].topic, e->topics[i].name))
                e->topics[i].partitions = md->topics[k].partition_cnt;
}

/* ---- the lookup mailbox ---------------------------------------------------------------- */

void lookup_box_init(struct lookup_box *b)
{
    pthread_condattr_t ca;
    b->ready = 0;
    if (pthread_condattr_init(&ca))
        return;
    if (!pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) &&
        !pthread_mutex_init(&b->lock, NULL)) {
        if (!pthread_cond_init(&b->answered, &ca))
            b->ready = 1;
        else
            pthread_mutex_destroy(&b->lock);
    }
    pthread_condattr_destroy(&ca);
}

void lookup_box_fini(struct lookup_box *b)
{
    if (!b->ready)
        return;
    pthread_cond_destroy(&b->answered);
    pthread_mutex_destroy(&b->lock);
    b->ready = 0;
}

rill_err_t lookup_ask(struct lookup_box *b, struct lookup *l, int timeout_ms)
{
    if (!b->ready)
        return RILL_ERR_RETRY;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    l->status = LOOKUP_PENDING;
    pthread_mutex_lock(&b->lock);
    if (b->n == LOOKUP_BOX_SIZE) {
        pthread_mutex_unlock(&b->lock);
        return RILL_ERR_RETRY;
    }
    b->q[b->n++] = l;
    atomic_store(&b->posted, 1);
    int rc = 0;
    while (l->status == LOOKUP_PENDING && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&b->answered, &b->lock, &until);
    if (l->status == LOOKUP_PENDING) {
        /* answers are given under the lock: unanswered means still queued */
        for (size_t i = 0; i < b->n; i++)
            if (b->q[i] == l) {
                b->q[i] = b->q[--b->n];
                break;
            }
        if (!b->n)
            atomic_store(&b->posted, 0);
    }
    pthread_mutex_unlock(&b->lock);
    return l->status == LOOKUP_PENDING ? RILL_ERR_RETRY : RILL_OK;
}

/* The committed value of l's key in l's store of the task of l's partition. */
static void lookup_answer(struct sthread *st, struct lookup *l)
{
    struct task *t = task_find(st, l->partition);
    l->status = LOOKUP_NOT_OWNED;
    for (size_t i = 0; t && i < t->nstores; i++) {
        if (strcmp(rill_store_name(t->stores[i].store), l->store))
            continue;
        l->err = rill_store_get_committed(t->stores[i].store, l->key, l->klen, &l->value,
                                          &l->vlen);
        l->status = l->err == RILL_OK            ? LOOKUP_FOUND
                    : l->err == RILL_ERR_NOTFOUND ? LOOKUP_ABSENT
                                                  : LOOKUP_FAILED;
        return;
    }
}

void lookup_serve(struct sthread *st)
{
    struct lookup_box *b = &st->box;
    if (!b->ready || !atomic_load_explicit(&b->posted, memory_order_relaxed))
        return;
    pthread_mutex_lock(&b->lock);
    for (size_t i = 0; i < b->n; i++)
        lookup_answer(st, b->q[i]);
    b->n = 0;
    atomic_store(&b->posted, 0);
    pthread_cond_broadcast(&b->answered);
    pthread_mutex_unlock(&b->lock);
}
