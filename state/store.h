/*
 * store.h - state stores: byte keys to byte values, ordered by key (memcmp,
 * then length), with two backends registered by name: "rocksdb" (default,
 * on disk) and "memory". Processors reach a store only through
 * rill_ctx_store(), and only if the YAML grants it.
 *
 * Transactions: every write goes to a pending overlay first, and reads and
 * iterations see the overlay over the committed data ("read your own
 * writes"). The runtime commits the overlay (one atomic batch together with
 * the changelog offset it reflects) after the Kafka transaction commits, or
 * drops it on abort; a store never holds data of an aborted transaction.
 * When a changelog is attached, each write is also handed to it.
 *
 * Threading: a store belongs to one task and is used from that task's
 * thread only. Returned values are malloc'd copies the caller frees.
 */
#ifndef RILL_STORE_H
#define RILL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "topology/rill.h"

typedef struct rill_store rill_store_t;
typedef struct rill_store_iter rill_store_iter_t;

/* ---- what processors use -------------------------------------------------- */

/* *value is a malloc'd copy (free it); RILL_ERR_NOTFOUND when absent. */
rill_err_t rill_store_get(rill_store_t *s, const void *key, size_t klen, void **value,
                          size_t *vlen);
rill_err_t rill_store_put(rill_store_t *s, const void *key, size_t klen, const void *value,
                          size_t vlen);
rill_err_t rill_store_delete(rill_store_t *s, const void *key, size_t klen);

/* Iterates keys in [start, end) in order (NULL start: from the first key,
 * NULL end: to the last), committed data merged with pending writes. */
rill_store_iter_t *rill_store_range(rill_store_t *s, const void *start, size_t slen,
                                    const void *end, size_t elen);
/* Iterates the keys that begin with prefix. */
rill_store_iter_t *rill_store_prefix(rill_store_t *s, const void *prefix, size_t plen);
/* Returns 1 and the next entry (pointers valid until the next call, or until
 * the store is written: do not put or delete while iterating), or 0 at the
 * end. */
int rill_store_iter_next(rill_store_iter_t *it, const void **key, size_t *klen,
                         const void **value, size_t *vlen);
void rill_store_iter_free(rill_store_iter_t *it);

/* Typed helpers: an int64 is stored as 8 bytes, big-endian. */
rill_err_t rill_store_get_i64(rill_store_t *s, const void *key, size_t klen, int64_t *out);
rill_err_t rill_store_put_i64(rill_store_t *s, const void *key, size_t klen, int64_t v);
/* Adds delta to the counter at key (absent counts as 0); *out gets the sum. */
rill_err_t rill_store_add_i64(rill_store_t *s, const void *key, size_t klen, int64_t delta,
                              int64_t *out);

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
const char *rill_store_name(const rill_store_t *s);

/* The changelog offset the committed data reflects: the next changelog
 * offset to replay. -1 when the store has never committed one. */
int64_t rill_store_offset(const rill_store_t *s);
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

rill_err_t rill_store_flush(rill_store_t *s);
/* Closes the backend and drops pending writes; idempotent. Every later call
 * but rill_store_free() answers RILL_ERR_STATE. */
void rill_store_close(rill_store_t *s);
/* Closes (if open) and frees; NULL is a no-op. */
void rill_store_free(rill_store_t *s);

/* Deletes an on-disk store's data: its directory and everything in it (for
 * a full restore). A memory store has nothing on disk: RILL_OK. */
rill_err_t rill_store_wipe(const char *type, const char *path, char *errstr, size_t errsz);

#endif
