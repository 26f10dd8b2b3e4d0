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
 * This header is the half a processor sees; what the runtime does with a
 * store (open, commit, restore, close) is state/store_rt.h.
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

/* The name the YAML gives the store. */
const char *rill_store_name(const rill_store_t *s);

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

#endif
