/*
 * view_int.h - internal: what the HTTP thread may know of the stream and
 * sink threads beyond their relaxed-atomic counters, and how it asks them
 * for what only they may read. Three mechanisms, each safe by construction:
 *
 *  - a thread's assignment view (struct view): the tasks (or, for a sink,
 *    the partitions) it holds and whether each is still restoring (how far
 *    a restore is, the thread's restore metrics say: engine_int.h). The
 *    owning thread replaces it at every rebalance and marks a task running
 *    once restored, always under the view's mutex; the HTTP thread only
 *    copies it out under the same mutex. Nothing on the record path
 *    touches it.
 *  - the engine's topic table (struct view_topic): every topic the
 *    topology names with its partition count, from the YAML or, when the
 *    YAML does not say, from the metadata the startup probe reads. Built
 *    and filled before any thread or the HTTP server starts, read-only
 *    afterwards.
 *  - a stream thread's lookup mailbox (struct lookup_box): a store is its
 *    task's alone (the memory store is a plain skip list), so the HTTP
 *    thread posts a lookup there and waits, with a timeout, for the owning
 *    thread to answer it at the top of its next loop turn. The thread
 *    answers every posted lookup under the box's mutex, so a lookup the
 *    HTTP thread gives up on is still queued, never half served, and it
 *    takes it back before it returns.
 *
 * Not the HTTP endpoints themselves (http*.c) nor the threads' own state.
 */
#ifndef RILL_VIEW_INT_H
#define RILL_VIEW_INT_H

#include "topology/rill.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* ---- a thread's assignment -------------------------------------------------- */

struct view_task {
    const char *topic;          /* a sink's partition: its topic (the topology's
                                   string); a stream task: NULL (every input) */
    int32_t partition;
    int restoring;              /* 1 until its stores are restored (a sink: claimed) */
};

struct view {
    pthread_mutex_t lock;
    int ready;                  /* the lock was initialised */
    struct view_task *v;
    size_t n;
};

void view_init(struct view *w);
void view_fini(struct view *w);
/* The owning thread: the view becomes v[0..n) (copied), or empty when n is
 * 0. Out of memory leaves it empty (the HTTP side then sees no task). */
void view_set(struct view *w, const struct view_task *v, size_t n);
/* The owning thread: the task of partition (topic NULL: a stream task)
 * is restoring, or (restoring 0) runs. Unknown partitions are ignored. */
void view_task_update(struct view *w, const char *topic, int32_t partition, int restoring);
/* Any thread: a malloc'd copy of the view into *out (NULL when empty or
 * out of memory) and its length; the caller frees *out. */
size_t view_copy(struct view *w, struct view_task **out);
/* Any thread: 1 and the task of partition into *out when the view holds
 * it, 0 otherwise. */
int view_find(struct view *w, int32_t partition, struct view_task *out);

/* ---- the topology's topics ----------------------------------------------------- */

enum view_topic_kind { VIEW_TOPIC, VIEW_CHANGELOG, VIEW_DLQ };

struct view_topic {
    char name[250];             /* Kafka's longest name and the NUL (ENGINE_TOPIC_SIZE) */
    enum view_topic_kind kind;
    int32_t partitions;         /* -1: not known */
};

/* ---- the lookup mailbox ----------------------------------------------------- */

/* Lookups waiting for one stream thread at most; one more is refused (503). */
#define LOOKUP_BOX_SIZE 8
/* How long the HTTP thread waits for the owning thread's answer. */
#define LOOKUP_TIMEOUT_MS 2000

enum lookup_status {
    LOOKUP_PENDING = 0,
    LOOKUP_FOUND,               /* value, vlen hold the committed value */
    LOOKUP_ABSENT,              /* the task holds no such key */
    LOOKUP_NOT_OWNED,           /* the thread holds no task of that partition any more */
    LOOKUP_FAILED,              /* the store answered an error (err) */
};

/* One lookup, on the asking (HTTP) thread's stack. */
struct lookup {
    const char *store;          /* the store's name */
    const void *key;
    size_t klen;
    int32_t partition;
    enum lookup_status status;  /* the answer */
    rill_err_t err;
    void *value;                /* malloc'd by the answering thread; the asker frees it */
    size_t vlen;
};

struct lookup_box {
    pthread_mutex_t lock;
    pthread_cond_t answered;    /* on CLOCK_MONOTONIC */
    int ready;                  /* lock and cond initialised */
    struct lookup *q[LOOKUP_BOX_SIZE];
    size_t n;
    atomic_int posted;          /* n > 0, read by the loop without the lock */
};

void lookup_box_init(struct lookup_box *b);
void lookup_box_fini(struct lookup_box *b);
/* The HTTP thread: posts l and waits up to timeout_ms for its answer.
 * RILL_OK with l->status set; RILL_ERR_RETRY when the box is full or no
 * answer came in time (l is then no longer posted). */
rill_err_t lookup_ask(struct lookup_box *b, struct lookup *l, int timeout_ms);

#pragma GCC visibility pop

#endif
