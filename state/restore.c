/*
 * restore.c - replaying a changelog's tail, or all of it, into a store
 * (restore.h). Not the store's batching of restored writes: that is
 * rill_store_restore_put()'s.
 */
#include "state/restore.h"
#include "topology/base/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a watermark query may take. */
#define RESTORE_QUERY_TIMEOUT_MS 15000
/* How long a store ahead of its changelog's end waits for the commit
 * markers before it is called foreign, and how often it looks again. */
#define RESTORE_MARKER_WAIT_MS 15000
#define RESTORE_MARKER_POLL_MS 50
/* One consume call's wait for the next changelog record. */
#define RESTORE_CONSUME_MS 1000
/* A progress line every so many replayed records. */
#define RESTORE_PROGRESS_EVERY 100000

/* Wipes the store and opens it empty (its offset then is -1). */
static rill_err_t restore_wipe(const struct rill_store_opts *o, rill_store_t **store,
                               char *errstr, size_t errsz)
{
    char *name = strdup(rill_store_name(*store));
    if (!name)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_store_free(*store);
    *store = NULL;
    rill_err_t err = RILL_OK;
    if (o->path && strcmp(o->type ? o->type : "rocksdb", "memory"))
        err = rill_store_wipe(o->type, o->path, errstr, errsz);
    if (err == RILL_OK)
        err = rill_store_open(name, o, store, errstr, errsz);
    free(name);
    return err;
}

static void progress_beat(struct rill_restore_progress *pr)
{
    if (pr && pr->beat)
        atomic_store_explicit(pr->beat, rill_now_ms(), memory_order_relaxed);
}

static void progress_set(struct rill_restore_progress *pr, int64_t from, int64_t at, int64_t to)
{
    if (!pr)
        return;
    atomic_store_explicit(&pr->from, from, memory_order_relaxed);
    atomic_store_explicit(&pr->at, at, memory_order_relaxed);
    atomic_store_explicit(&pr->to, to, memory_order_relaxed);
    progress_beat(pr);
}

/* Consumes partition of changelog from next to its end into store; *next
 * gets the offset after the last record read, *replayed the count. */
static rill_err_t replay(rd_kafka_t *rk, const char *changelog, int32_t p, int64_t hi,
                         rill_store_t *store, const atomic_int *stop,
                         struct rill_restore_progress *pr, int64_t *next, int64_t *replayed,
                         char *errstr, size_t errsz)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, changelog, NULL);
    if (!rkt || rd_kafka_consume_start(rkt, p, *next) == -1) {
        rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot read changelog '%s' [%d]: %s",
                  changelog, (int)p, rd_kafka_err2str(rd_kafka_last_error()));
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        return RILL_ERR_KAFKA;
    }
    rill_err_t err = RILL_OK;
    for (int eof = 0; !eof && err == RILL_OK && !atomic_load(stop);) {
        progress_beat(pr);
        rd_kafka_message_t *m = rd_kafka_consume(rkt, p, RESTORE_CONSUME_MS);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            *next = m->offset;
            eof = 1;
        } else if (m->err) {
            err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot read changelog '%s' [%d]: %s",
                            changelog, (int)p, rd_kafka_message_errstr(m));
        } else {
            err = rill_store_restore_put(store, m->key, m->key_len, m->payload, m->len);
            if (err != RILL_OK)
                rill_errf(errstr, errsz, err, "cannot restore store '%s' from '%s' [%d]: %s",
                          rill_store_name(store), changelog, (int)p, rill_err2str(err));
            *next = m->offset + 1;
            if (pr)
                atomic_store_explicit(&pr->at, *next, memory_order_relaxed);
            if (++*replayed % RESTORE_PROGRESS_EVERY == 0)
                rill_log(RILL_LOG_INFO, "state", "restoring|store=%s partition=%d replayed=%" PRId64
                         " at=%" PRId64 " end=%" PRId64, rill_store_name(store), (int)p,
                         *replayed, *next, hi);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consume_stop(rkt, p);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_poll(rk, 0); /* its error events */
    if (err == RILL_OK && atomic_load(stop))
        err = rill_errf(errstr, errsz, RILL_ERR_STATE, "stopped while restoring store '%s'",
                        rill_store_name(store));
    return err;
}

rill_err_t rill_store_restore_changelog(rd_kafka_t *rk, const char *changelog, int32_t p,
                                        const struct rill_store_opts *o, rill_store_t **store,
                                        const atomic_int *stop,
                                        struct rill_restore_progress *pr, char *errstr,
                                        size_t errsz)
{
    int64_t lo = 0, hi = 0, from = rill_store_offset(*store);
    progress_set(pr, from, from, -1);
    rd_kafka_resp_err_t qerr =
        rd_kafka_query_watermark_offsets(rk, changelog, p, &lo, &hi, RESTORE_QUERY_TIMEOUT_MS);
    if (qerr)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                         "cannot read the end of changelog '%s' [%d]: %s", changelog, (int)p,
                         rd_kafka_err2str(qerr));
    /* The store may be ahead of the last stable offset for a moment: its
     * transaction committed, but the broker writes the commit markers after
     * answering. Wait for them before calling the store foreign. */
    for (int64_t until = rill_now_ms() + RESTORE_MARKER_WAIT_MS;
         from > hi && rill_now_ms() < until && !qerr && !atomic_load(stop);) {
        progress_beat(pr);
        usleep(RESTORE_MARKER_POLL_MS * 1000);
        qerr = rd_kafka_query_watermark_offsets(rk, changelog, p, &lo, &hi,
                                                RESTORE_QUERY_TIMEOUT_MS);
    }
    if (atomic_load(stop)) /* not a verdict on the store: it stays as it is */
        return rill_errf(errstr, errsz, RILL_ERR_STATE, "stopped while restoring store '%s'",
                         rill_store_name(*store));
    if (from > hi || (from >= 0 && from < lo)) {
        rill_log(RILL_LOG_WARN, "state", "store does not match its changelog, full restore|store=%s"
                 " partition=%d offset=%" PRId64 " changelog=%" PRId64 "..%" PRId64,
                 rill_store_name(*store), (int)p, from, lo, hi);
        rill_err_t err = restore_wipe(o, store, errstr, errsz);
        if (err != RILL_OK)
            return err;
        from = -1;
    }
    int64_t start = rill_now_ms(), next = from < 0 ? lo : from, replayed = 0;
    progress_set(pr, next, next, hi);
    if (next < hi) {
        rill_err_t err = replay(rk, changelog, p, hi, *store, stop, pr, &next, &replayed, errstr,
                                errsz);
        if (err != RILL_OK)
            return err;
    }
    rill_err_t err = rill_store_restore_done(*store, next, errstr, errsz);
    if (err == RILL_OK)
        rill_log(RILL_LOG_INFO, "state", "store restored|store=%s partition=%d replayed=%" PRId64
                 " from=%" PRId64 " to=%" PRId64 " full=%s ms=%" PRId64, rill_store_name(*store),
                 (int)p, replayed, from, next, from < 0 ? "true" : "false", rill_now_ms() - start);
    return err;
}
