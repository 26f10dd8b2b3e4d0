/*
 * store_rt.h - internal: for the runtime, not for plugins. The half of the
 * state-store API that opens, attaches, commits, restores and closes stores
 * (the engine, the test driver, `rill state`, the tests); a processor reaches
 * a store only through rill_ctx_store() and the calls of state/store.h, and
 * the rill binary does not export these (processors/plugin.exports).
 */
#ifndef RILL_STORE_RT_H
#define RILL_STORE_RT_H

#include "state/store.h"

/* ---- what the runtime uses ------------------------------------------------- */

/* A block cache that every rocksdb store opened with it shares (an LRU of
 * the given bytes). Opaque; the memory backend ignores it. */
typedef struct rill_store_cache rill_store_cache_t;

/* A new shared block cache of bytes; NULL when out of memory. Thread-safe
 * once created (RocksDB's LRU cache locks itself). */
rill_store_cache_t *rill_store_cache_new(size_t bytes);
/* Frees the cache; call it after the last store opened with it was freed.
 * NULL is a no-op. */
void rill_store_cache_free(rill_store_cache_t *c);

struct rill_store_opts {
    const char *type;          /* "rocksdb" or "memory"; NULL: rocksdb */
    const char *path;          /* directory of an on-disk store */
    size_t write_buffer_bytes; /* memtable size for this store; 0: backend default */
    rill_store_cache_t *block_cache; /* shared block cache, or NULL: RocksDB's own */
    int readonly;              /* open an on-disk store read-only (a running
                                  instance may hold it: `rill state`) */
};

/* Receives every write (value NULL for a delete), for the changelog. */
typedef rill_err_t (*rill_store_log_fn)(void *opaque, const char *store, const void *key,
                                        size_t klen, const void *value, size_t vlen);

rill_err_t rill_store_open(const char *name, const struct rill_store_opts *o, rill_store_t **out,
                           char *errstr, size_t errsz);
void rill_store_set_log(rill_store_t *s, rill_store_log_fn fn, void *opaque);

/* The changelog offset the committed data reflects: the next changelog
 * offset to replay. -1 when the store has never committed one. */
int64_t rill_store_offset(const rill_store_t *s);
/* The committed value of key, as rill_store_get() but without the pending
 * overlay: what a restart would find (the HTTP lookup serves this, so that
 * it never shows a write of a transaction that may still abort). *value is
 * a malloc'd copy; RILL_ERR_NOTFOUND when absent. Same thread rule as
 * every other call: the store's own thread only. */
rill_err_t rill_store_get_committed(rill_store_t *s, const void *key, size_t klen, void **value,
                                    size_t *vlen);
/* Number of pending (uncommitted) writes. */
size_t rill_store_pending(const rill_store_t *s);

/* A savepoint inside the open transaction: rill_store_mark() starts
 * recording how to undo the writes that follow; rill_store_rollback() undoes
 * them (the overlay is as it was at the mark), rill_store_release() keeps
 * them. The runtime marks around each process/punctuate call, so a record
 * that is retried or rejected leaves no state behind. */
void rill_store_mark(rill_store_t *s);
void rill_store_rollback(rill_store_t *s);
void rill_store_release(rill_store_t *s);

/* Writes the pending overlay and next_offset (when >= 0) atomically, then
 * clears the overlay. */
rill_err_t rill_store_commit(rill_store_t *s, int64_t next_offset, char *errstr, size_t errsz);
/* Drops the pending overlay. */
void rill_store_abort(rill_store_t *s);

/* Restore: writes one changelog record straight into the committed data
 * (batched; value NULL deletes), then rill_store_restore_done() writes the
 * last batch and the offset atomically. */
rill_err_t rill_store_restore_put(rill_store_t *s, const void *key, size_t klen,
                                  const void *value, size_t vlen);
rill_err_t rill_store_restore_done(rill_store_t *s, int64_t next_offset, char *errstr,
                                   size_t errsz);

/* Number of committed keys (a full scan; for tests and `rill state`). */
size_t rill_store_count(rill_store_t *s);
/* The backend's cheap estimates of the committed keys and bytes, for
 * metrics: exact for memory stores (keys and values); RocksDB's
 * estimate-num-keys, and its live SST data plus the memory its memtables
 * hold (arena blocks: about 1 MiB even for a few keys). 0, 0 for a closed
 * store. */
void rill_store_estimate(rill_store_t *s, uint64_t *keys, uint64_t *bytes);

/* Closes the backend and drops pending writes; idempotent. Every later call
 * but rill_store_free() answers RILL_ERR_STATE. */
void rill_store_close(rill_store_t *s);
/* Closes (if open) and frees; NULL is a no-op. */
void rill_store_free(rill_store_t *s);

/* Deletes an on-disk store's data: its directory and everything in it (for
 * a full restore). A memory store has nothing on disk: RILL_OK. */
rill_err_t rill_store_wipe(const char *type, const char *path, char *errstr, size_t errsz);

#endif
