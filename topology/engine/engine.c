/*
 * engine.c - the engine's public face (engine.h): preparing the stream
 * threads of a topology, the instance's identity and lock, the startup
 * probe of every processor, starting the stream and sink threads and
 * waiting for them.
 * Nothing of what a thread does: loop.c and the files it calls.
 */
#include "topology/engine/engine_int.h"
#include "topology/engine/sink_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* state.memory.bytes: half is the shared block cache; each store's memtable
 * is 1/ENGINE_WRITE_BUFFER_SHARE of it, at least ENGINE_WRITE_BUFFER_MIN
 * (RocksDB 7.8's C API has no write-buffer manager). */
#define ENGINE_WRITE_BUFFER_SHARE 16
#define ENGINE_WRITE_BUFFER_MIN (1u << 20)
/* The least a Kafka client's queue gets of memory.bytes, in KiB. */
#define ENGINE_QUEUE_MIN_KB 1024

/* memory.bytes beyond the state's, shared evenly by every Kafka client's
 * queue: per stream thread a consumer, a producer and (with stores) a
 * restorer; a standby reader per stateful processor; a consumer per sink.
 * In KiB, at least ENGINE_QUEUE_MIN_KB; 0 (no bounds: librdkafka's own)
 * when memory.bytes is not set. */
static size_t engine_queue_share(const struct rill_topology *t)
{
    if (t->memory_bytes < 0)
        return 0; /* unset: librdkafka's own bounds */
    int64_t budget = t->memory_bytes;
    if (budget <= t->state_memory_bytes)
        return ENGINE_QUEUE_MIN_KB;
    size_t queues = t->nsinks;
    for (size_t p = 0; p < t->nprocs; p++) {
        int stateful = t->procs[p].stores.n > 0;
        queues += (size_t)t->num_stream_threads * (stateful ? 3 : 2);
        queues += stateful && t->num_standby_replicas > 0;
    }
    size_t kb = (size_t)(budget - t->state_memory_bytes) / 1024 / (queues ? queues : 1);
    return kb > ENGINE_QUEUE_MIN_KB ? kb : ENGINE_QUEUE_MIN_KB;
}

rill_err_t rill_engine_new(const struct rill_topology *t, rill_engine_t **out, char *errstr,
                           size_t errsz)
{
    *out = NULL;
    rill_engine_t *e = calloc(1, sizeof *e);
    if (!e)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    e->t = t;
    e->eos = t->guarantee == RILL_EXACTLY_ONCE_V2;
    e->lock_fd = -1;
    size_t budget = (size_t)t->state_memory_bytes;
    e->cache = rill_store_cache_new(budget / 2);
    e->write_buffer = budget / ENGINE_WRITE_BUFFER_SHARE > ENGINE_WRITE_BUFFER_MIN
                          ? budget / ENGINE_WRITE_BUFFER_SHARE
                          : ENGINE_WRITE_BUFFER_MIN;
    e->queue_kb = engine_queue_share(t);
    e->nthreads = t->nprocs * (size_t)t->num_stream_threads;
    e->threads = calloc(e->nthreads ? e->nthreads : 1, sizeof *e->threads);
    e->nsinks = t->nsinks;
    e->sinks = calloc(e->nsinks ? e->nsinks : 1, sizeof *e->sinks);
    size_t nthreads = e->nthreads;
    e->nthreads = e->nsinks = 0; /* what rill_engine_free() finishes: none set up yet */
    if (!e->cache || !e->threads || !e->sinks || view_topics_build(e) != RILL_OK) {
        rill_engine_free(e);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nthreads; i++) {
        const struct rill_proc_conf *pc = &t->procs[i / (size_t)t->num_stream_threads];
        if (metrics_init(&e->threads[i].m, pc->inputs.n, pc->outputs.n) != RILL_OK) {
            rill_engine_free(e);
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
        view_init(&e->threads[i].view);
        lookup_box_init(&e->threads[i].box);
        e->nthreads = i + 1;
    }
    e->nsinks = t->nsinks;
    *out = e;
    return RILL_OK;
}

/* Names every thread's group and transactional id. */
static rill_err_t threads_prepare(rill_engine_t *e, char *errstr, size_t errsz)
{
    const struct rill_topology *t = e->t;
    for (size_t p = 0; p < t->nprocs; p++)
        for (int i = 0; i < t->num_stream_threads; i++) {
            struct sthread *st = &e->threads[p * (size_t)t->num_stream_threads + (size_t)i];
            st->e = e;
            st->pc = &t->procs[p];
            st->idx = i;
            st->state = STHREAD_INIT;
            size_t g = (size_t)snprintf(st->group, sizeof st->group, "%s.%s", t->application_id,
                                        st->pc->name);
            size_t x = (size_t)snprintf(st->txnid, sizeof st->txnid, "%s.%s.%s-%d",
                                        t->application_id, st->pc->name, e->instance_id, i);
            if (g >= sizeof st->group || x >= sizeof st->txnid)
                return rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                                 "processor '%s': its group or transactional id is longer than "
                                 "%d bytes", st->pc->name, ENGINE_ID_SIZE - 1);
        }
    return RILL_OK;
}

rill_err_t rill_engine_run(rill_engine_t *e, char *errstr, size_t errsz)
{
    const struct rill_topology *t = e->t;
    rill_err_t err = rill_store_instance_open(t->state_dir, t->application_id, e->instance_id,
                                              &e->lock_fd, errstr, errsz);
    if (err == RILL_OK)
        err = threads_prepare(e, errstr, errsz);
    for (size_t p = 0; p < t->nprocs && err == RILL_OK; p++)
        err = clients_probe(&e->threads[p * (size_t)t->num_stream_threads], errstr, errsz);
    if (err != RILL_OK)
        return err;
    for (size_t i = 0; i < e->nsinks && err == RILL_OK; i++)
        err = sink_thread_init(&e->sinks[i], e, &t->sinks[i], errstr, errsz);
    /* every thread alive from the start, for /healthz */
    e->started_at = rill_now_ms();
    e->started_wall = (int64_t)time(NULL);
    for (size_t i = 0; i < e->nthreads; i++)
        METRIC_SET(e->threads[i].m.heartbeat, e->started_at);
    for (size_t i = 0; i < e->nsinks; i++)
        METRIC_SET(e->sinks[i].m.heartbeat, e->started_at);
    if (err == RILL_OK)
        err = http_start(e, errstr, errsz);
    if (err == RILL_OK)
        err = standby_start(e, errstr, errsz);
    if (err != RILL_OK) {
        atomic_store(&e->stop, 1);
        standby_stop(e);
        return err;
    }
    rill_log(RILL_LOG_INFO, "engine", "starting|application=%s guarantee=%s processors=%zu threads=%zu sinks=%zu instance=%s",
             t->application_id, e->eos ? "exactly_once_v2" : "at_least_once", t->nprocs,
             e->nthreads, e->nsinks, e->instance_id);
    /* Threads start in order; those after one that cannot start never do. */
    size_t started = 0, sinks = 0;
    for (; started < e->nthreads; started++)
        if (pthread_create(&e->threads[started].tid, NULL, sthread_main, &e->threads[started])) {
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot start stream thread %zu",
                            started);
            atomic_store(&e->stop, 1);
            break;
        }
    for (; err == RILL_OK && sinks < e->nsinks; sinks++)
        if (pthread_create(&e->sinks[sinks].tid, NULL, sink_thread_main, &e->sinks[sinks])) {
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot start sink thread %zu",
                            sinks);
            atomic_store(&e->stop, 1);
            break;
        }
    for (size_t i = 0; i < started; i++)
        pthread_join(e->threads[i].tid, NULL);
    for (size_t i = 0; i < sinks; i++)
        pthread_join(e->sinks[i].tid, NULL);
    /* the stream threads gave their tasks up: the copies go last */
    atomic_store(&e->stop, 1);
    standby_stop(e);
    http_stop(e);
    /* a sink that stopped for good (fenced, a fatal error) stopped the engine */
    for (size_t i = 0; i < sinks && err == RILL_OK; i++)
        if (e->sinks[i].failed)
            err = rill_errf(errstr, errsz, RILL_ERR_STATE, "%s", e->sinks[i].err);
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
    http_stop(e);
    rill_store_dir_unlock(e->lock_fd);
    rill_store_cache_free(e->cache);
    for (size_t i = 0; i < e->nsinks; i++)
        sink_thread_fini(&e->sinks[i]);
    for (size_t i = 0; i < e->nthreads; i++) {
        metrics_fini(&e->threads[i].m);
        view_fini(&e->threads[i].view);
        lookup_box_fini(&e->threads[i].box);
    }
    free(e->topics);
    free(e->sinks);
    free(e->threads);
    free(e);
}
