/*
 * store_int.h - internals of the state stores: the ordered skip list that
 * holds a store's pending writes (and the whole of a memory store), and the
 * backend interface that "rocksdb" and "memory" implement. Not for
 * processors; they use store.h.
 */
#ifndef RILL_STORE_INT_H
#define RILL_STORE_INT_H

#include "state/store_rt.h"

/* ---- skip list: byte keys in memcmp-then-length order ------------------- */

#define RILL_SL_MAX_LEVEL 24

struct rill_sl_node {
    void *key;
    size_t klen;
    void *val;            /* NULL with tomb set: a pending delete */
    size_t vlen;
    int tomb;
    int level;
    struct rill_sl_node *next[];
};

struct rill_sl {
    struct rill_sl_node *head;
    int level;
    size_t count;
    size_t bytes;         /* of the keys and values held */
    uint64_t rng;
};

int rill_key_cmp(const void *a, size_t alen, const void *b, size_t blen);

struct rill_sl *rill_sl_new(void);
void rill_sl_free(struct rill_sl *sl);
void rill_sl_clear(struct rill_sl *sl);
/* Inserts or replaces; val NULL with tomb marks a delete. */
rill_err_t rill_sl_put(struct rill_sl *sl, const void *k, size_t klen, const void *val,
                       size_t vlen, int tomb);
/* Removes the key; returns 1 if it was there. */
int rill_sl_del(struct rill_sl *sl, const void *k, size_t klen);
struct rill_sl_node *rill_sl_find(const struct rill_sl *sl, const void *k, size_t klen);
/* The first node with key >= k (k NULL: the first node), or NULL. */
struct rill_sl_node *rill_sl_seek(const struct rill_sl *sl, const void *k, size_t klen);

/* ---- backends ---------------------------------------------------------------- */

#define RILL_STORE_BACKEND_V1 1

struct rill_store_backend {
    int version;
    const char *name;
    rill_err_t (*open)(const struct rill_store_opts *o, void **db, char *errstr, size_t errsz);
    /* *v malloc'd */
    rill_err_t (*get)(void *db, const void *k, size_t klen, void **v, size_t *vlen);
    /* Applies ops (tombstones delete) and, when offset >= 0, the offset,
     * atomically. */
    rill_err_t (*write)(void *db, const struct rill_sl *ops, int64_t offset, char *errstr,
                        size_t errsz);
    int64_t (*offset)(void *db);
    /* An iterator at the first key >= start (NULL: the first key). */
    void *(*iter_new)(void *db, const void *start, size_t slen);
    int (*iter_next)(void *it, const void **k, size_t *klen, const void **v, size_t *vlen);
    void (*iter_free)(void *it);
    void (*close)(void *db);
    rill_err_t (*wipe)(const char *path, char *errstr, size_t errsz);
    /* Cheap estimates of the committed keys and their bytes (no scan). */
    void (*estimate)(void *db, uint64_t *keys, uint64_t *bytes);
};

extern const struct rill_store_backend rill_store_memory;
extern const struct rill_store_backend rill_store_rocksdb;


#endif
