/*
 * restore.h - bringing a store up to its changelog before its task
 * processes anything: replays the changelog records after the store's
 * committed offset (read_committed), or, when the store does not match its
 * changelog (its offset ahead of the end: a foreign store; behind the start:
 * compacted away), wipes it and replays the whole changelog. Writing the
 * changelog is not here: the runtime produces it inside its transactions.
 *
 * The caller hands in the librdkafka consumer to read with (group-less,
 * read_committed, enable.partition.eof=true) and owns it. Threading: the
 * calling thread's; one restore at a time per consumer.
 */
#ifndef RILL_RESTORE_H
#define RILL_RESTORE_H

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>

#include "state/store_rt.h"

/* How far a restore is, for a reader on another thread (relaxed atomics):
 * from is the first changelog offset it replays, at the next one it reads,
 * to the end it replays to (-1 while unknown); beat, when not NULL, gets
 * rill_now_ms() at each step, waits included, so that a long restore is
 * not taken for a stuck thread. */
struct rill_restore_progress {
    _Atomic int64_t from, at, to;
    _Atomic int64_t *beat;
};

/* Restores *store from partition of changelog. o is how the store was
 * opened (a wipe reopens it the same way, and *store then changes). Logs
 * `store restored ... replayed=N from=X to=Y full=true|false ms=T`.
 * Returns RILL_OK, RILL_ERR_KAFKA when the changelog cannot be read, a store
 * error, or RILL_ERR_STATE when *stop became set (then the store is left at
 * its old offset, to be restored again). progress may be NULL. */
rill_err_t rill_store_restore_changelog(rd_kafka_t *rk, const char *changelog, int32_t partition,
                                        const struct rill_store_opts *o, rill_store_t **store,
                                        const atomic_int *stop,
                                        struct rill_restore_progress *progress, char *errstr,
                                        size_t errsz);

#endif
