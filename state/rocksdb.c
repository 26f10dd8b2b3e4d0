/*
 * rocksdb.c - the "rocksdb" store backend: one RocksDB database per store
 * directory. User keys live under the prefix 'u', the changelog offset under
 * the meta key "mo", so one WriteBatch carries a transaction's writes and its
 * offset atomically. The WAL stays on without fsync: a killed process loses
 * nothing that was committed, an OS crash at worst rolls the store back to an
 * earlier committed offset, which the changelog tail repairs. Memory comes
 * from the caller's shared block cache and a per-store write buffer size.
 */
#include "state/store_int.h"

#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rdb {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *bbto;
    rocksdb_readoptions_t *ro;
    rocksdb_writeoptions_t *wo;
    int64_t offset;
};

struct rdb_iter {
    rocksdb_iterator_t *it;
    int started;
};

static const char META_OFFSET[] = "mo";

/* Files a store may keep open at once, and info logs it keeps. */
#define RDB_MAX_OPEN_FILES 64
#define RDB_KEEP_LOG_FILES 2
/* Memtables per store: one filling while the other flushes. */
#define RDB_WRITE_BUFFERS 2

struct rill_store_cache {
    rocksdb_cache_t *lru;
};

rill_store_cache_t *rill_store_cache_new(size_t bytes)
{
    rill_store_cache_t *c = calloc(1, sizeof *c);
    if (c && !(c->lru = rocksdb_cache_create_lru(bytes))) {
        free(c);
        c = NULL;
    }
    return c;
}

void rill_store_cache_free(rill_store_cache_t *c)
{
    if (!c)
        return;
    rocksdb_cache_destroy(c->lru);
    free(c);
}

static void rdb_free(struct rdb *r)
{
    if (r->db)
        rocksdb_close(r->db);
    if (r->opts)
        rocksdb_options_destroy(r->opts);
    if (r->bbto)
        rocksdb_block_based_options_destroy(r->bbto);
    if (r->ro)
        rocksdb_readoptions_destroy(r->ro);
    if (r->wo)
        rocksdb_writeoptions_destroy(r->wo);
    free(r);
}

static rill_err_t rdb_open(const struct rill_store_opts *o, void **db, char *errstr, size_t errsz)
{
    struct rdb *r = calloc(1, sizeof *r);
    if (!r)
        return RILL_ERR_NOMEM;
    r->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(r->opts, !o->readonly);
    rocksdb_options_set_max_open_files(r->opts, RDB_MAX_OPEN_FILES);
    rocksdb_options_set_keep_log_file_num(r->opts, RDB_KEEP_LOG_FILES);
    if (o->write_buffer_bytes) {
        rocksdb_options_set_write_buffer_size(r->opts, o->write_buffer_bytes);
        rocksdb_options_set_max_write_buffer_number(r->opts, RDB_WRITE_BUFFERS);
    }
    if (o->block_cache) {
        r->bbto = rocksdb_block_based_options_create();
        rocksdb_block_based_options_set_block_cache(r->bbto, o->block_cache->lru);
        rocksdb_options_set_block_based_table_factory(r->opts, r->bbto);
    }
    r->ro = rocksdb_readoptions_create();
    r->wo = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(r->wo, 0);
    char *err = NULL;
    r->db = o->readonly ? rocksdb_open_for_read_only(r->opts, o->path, 0, &err)
                        : rocksdb_open(r->opts, o->path, &err);
    if (err) {
        rill_errf(errstr, errsz, RILL_ERR_STATE, "cannot open rocksdb at '%s': %s", o->path, err);
        free(err);
        rdb_free(r);
        return RILL_ERR_STATE;
    }
    size_t vlen = 0;
    char *v = rocksdb_get(r->db, r->ro, META_OFFSET, 2, &vlen, &err);
    r->offset = -1;
    if (err) {
        rill_errf(errstr, errsz, RILL_ERR_STATE, "cannot read the offset of '%s': %s", o->path,
                  err);
        free(err);
        rdb_free(r);
        return RILL_ERR_STATE;
    }
    if (v && vlen == 8) {
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | (unsigned char)v[i];
        r->offset = (int64_t)x;
    } else if (v) {
        rill_errf(errstr, errsz, RILL_ERR_STATE, "store at '%s' has a malformed offset", o->path);
        free(v);
        rdb_free(r);
        return RILL_ERR_STATE;
    }
    free(v);
    *db = r;
    return RILL_OK;
}

/* 'u' + key, in buf when it fits, else malloc'd (*heap set). */
static char *ukey(const void *k, size_t klen, char *buf, size_t bufsz, char **heap)
{
    char *p = buf;
    *heap = NULL;
    if (klen + 1 > bufsz) {
        p = *heap = malloc(klen + 1);
        if (!p)
            return NULL;
    }
    p[0] = 'u';
    if (klen)
        memcpy(p + 1, k, klen);
    return p;
}

static rill_err_t rdb_get(void *db, const void *k, size_t klen, void **v, size_t *vlen)
{
    struct rdb *r = db;
    char buf[256], *heap, *err = NULL;
    char *key = ukey(k, klen, buf, sizeof buf, &heap);
    if (!key)
        return RILL_ERR_NOMEM;
    char *val = rocksdb_get(r->db, r->ro, key, klen + 1, vlen, &err);
    free(heap);
    if (err) {
        free(err);
        return RILL_ERR_STATE;
    }
    if (!val)
        return RILL_ERR_NOTFOUND;
    *v = val; /* malloc'd by RocksDB's C API */
    return RILL_OK;
}

static rill_err_t rdb_write(void *db, const struct rill_sl *ops, int64_t offset, char *errstr,
                            size_t errsz)
{
    struct rdb *r = db;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    for (struct rill_sl_node *n = ops ? ops->head->next[0] : NULL; n; n = n->next[0]) {
        char buf[256], *heap;
        char *key = ukey(n->key, n->klen, buf, sizeof buf, &heap);
        if (!key) {
            rocksdb_writebatch_destroy(wb);
            return RILL_ERR_NOMEM;
        }
        if (n->tomb)
            rocksdb_writebatch_delete(wb, key, n->klen + 1);
        else
            rocksdb_writebatch_put(wb, key, n->klen + 1, n->val, n->vlen);
        free(heap);
    }
    if (offset >= 0) {
        char o[8];
        for (int i = 0; i < 8; i++)
            o[i] = (char)((uint64_t)offset >> (56 - 8 * i));
        rocksdb_writebatch_put(wb, META_OFFSET, 2, o, 8);
    }
    char *err = NULL;
    rocksdb_write(r->db, r->wo, wb, &err);
    rocksdb_writebatch_destroy(wb);
    if (err) {
        rill_errf(errstr, errsz, RILL_ERR_STATE, "rocksdb write failed: %s", err);
        free(err);
        return RILL_ERR_STATE;
    }
    if (offset >= 0)
        r->offset = offset;
    return RILL_OK;
}

static int64_t rdb_offset(void *db)
{
    return ((struct rdb *)db)->offset;
}

static void *rdb_iter_new(void *db, const void *start, size_t slen)
{
    struct rdb *r = db;
    struct rdb_iter *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->it = rocksdb_create_iterator(r->db, r->ro);
    char buf[256], *heap;
    char *key = ukey(start ? start : "", start ? slen : 0, buf, sizeof buf, &heap);
    if (!key) {
        rocksdb_iter_destroy(it->it);
        free(it);
        return NULL;
    }
    rocksdb_iter_seek(it->it, key, (start ? slen : 0) + 1);
    free(heap);
    return it;
}

static int rdb_iter_next(void *p, const void **k, size_t *klen, const void **v, size_t *vlen)
{
    struct rdb_iter *it = p;
    if (it->started)
        rocksdb_iter_next(it->it);
    it->started = 1;
    if (!rocksdb_iter_valid(it->it))
        return 0;
    size_t kl;
    const char *key = rocksdb_iter_key(it->it, &kl);
    if (kl < 1 || key[0] != 'u')
        return 0; /* past the user keys */
    *k = key + 1;
    *klen = kl - 1;
    *v = rocksdb_iter_value(it->it, vlen);
    return 1;
}

static void rdb_iter_free(void *p)
{
    struct rdb_iter *it = p;
    rocksdb_iter_destroy(it->it);
    free(it);
}

static void rdb_close(void *db)
{
    rdb_free(db);
}

static rill_err_t rdb_wipe(const char *path, char *errstr, size_t errsz)
{
    rocksdb_options_t *o = rocksdb_options_create();
    char *err = NULL;
    rocksdb_destroy_db(o, path, &err);
    rocksdb_options_destroy(o);
    if (err) {
        rill_errf(errstr, errsz, RILL_ERR_STATE, "cannot wipe store '%s': %s", path, err);
        free(err);
        return RILL_ERR_STATE;
    }
    return RILL_OK;
}

static uint64_t rdb_property(rocksdb_t *db, const char *name)
{
    uint64_t v = 0;
    return rocksdb_property_int(db, name, &v) == 0 ? v : 0;
}

static void rdb_estimate(void *db, uint64_t *keys, uint64_t *bytes)
{
    struct rdb *r = db;
    *keys = rdb_property(r->db, "rocksdb.estimate-num-keys");
    *bytes = rdb_property(r->db, "rocksdb.estimate-live-data-size") +
             rdb_property(r->db, "rocksdb.cur-size-all-mem-tables");
}

const struct rill_store_backend rill_store_rocksdb = {
    .version = RILL_STORE_BACKEND_V1,
    .name = "rocksdb",
    .open = rdb_open,
    .get = rdb_get,
    .write = rdb_write,
    .offset = rdb_offset,
    .iter_new = rdb_iter_new,
    .iter_next = rdb_iter_next,
    .iter_free = rdb_iter_free,
    .close = rdb_close,
    .wipe = rdb_wipe,
    .estimate = rdb_estimate,
};
