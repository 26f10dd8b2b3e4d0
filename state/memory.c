/*
 * memory.c - the "memory" store backend: a skip list per store, gone when the
 * store closes (a restart restores it from its changelog). For small state and
 * tests; the budget of state.memory.bytes does not apply to it.
 */
#include "state/store_int.h"

#include <stdlib.h>
#include <string.h>

struct mem_db {
    struct rill_sl *data;
    int64_t offset;
};

struct mem_iter {
    struct rill_sl_node *n;
};

static rill_err_t mem_open(const struct rill_store_opts *o, void **db, char *errstr, size_t errsz)
{
    (void)o;
    (void)errstr;
    (void)errsz;
    struct mem_db *m = calloc(1, sizeof *m);
    if (!m || !(m->data = rill_sl_new())) {
        free(m);
        return RILL_ERR_NOMEM;
    }
    m->offset = -1;
    *db = m;
    return RILL_OK;
}

static rill_err_t mem_get(void *db, const void *k, size_t klen, void **v, size_t *vlen)
{
    struct mem_db *m = db;
    struct rill_sl_node *n = rill_sl_find(m->data, k, klen);
    if (!n)
        return RILL_ERR_NOTFOUND;
    *v = malloc(n->vlen ? n->vlen : 1);
    if (!*v)
        return RILL_ERR_NOMEM;
    memcpy(*v, n->val, n->vlen);
    *vlen = n->vlen;
    return RILL_OK;
}

static rill_err_t mem_write(void *db, const struct rill_sl *ops, int64_t offset, char *errstr,
                            size_t errsz)
{
    struct mem_db *m = db;
    (void)errstr;
    (void)errsz;
    /* Not atomic under memory exhaustion: a failed allocation midway leaves
     * part of the batch applied and is reported; the engine then rejoins and
     * the store, being in memory, is rebuilt from its changelog. */
    for (struct rill_sl_node *n = ops ? ops->head->next[0] : NULL; n; n = n->next[0]) {
        if (n->tomb)
            rill_sl_del(m->data, n->key, n->klen);
        else if (rill_sl_put(m->data, n->key, n->klen, n->val, n->vlen, 0) != RILL_OK)
            return RILL_ERR_NOMEM;
    }
    if (offset >= 0)
        m->offset = offset;
    return RILL_OK;
}

static int64_t mem_offset(void *db)
{
    return ((struct mem_db *)db)->offset;
}

static void *mem_iter_new(void *db, const void *start, size_t slen)
{
    struct mem_db *m = db;
    struct mem_iter *it = malloc(sizeof *it);
    if (it)
        it->n = rill_sl_seek(m->data, start, slen);
    return it;
}

static int mem_iter_next(void *p, const void **k, size_t *klen, const void **v, size_t *vlen)
{
    struct mem_iter *it = p;
    if (!it->n)
        return 0;
    *k = it->n->key;
    *klen = it->n->klen;
    *v = it->n->val;
    *vlen = it->n->vlen;
    it->n = it->n->next[0];
    return 1;
}

static void mem_iter_free(void *it)
{
    free(it);
}

static void mem_close(void *db)
{
    struct mem_db *m = db;
    rill_sl_free(m->data);
    free(m);
}

static rill_err_t mem_wipe(const char *path, char *errstr, size_t errsz)
{
    (void)path;
    (void)errstr;
    (void)errsz;
    return RILL_OK;
}

static void mem_estimate(void *db, uint64_t *keys, uint64_t *bytes)
{
    const struct mem_db *m = db;
    *keys = m->data->count;
    *bytes = m->data->bytes;
}

const struct rill_store_backend rill_store_memory = {
    .version = RILL_STORE_BACKEND_V1,
    .name = "memory",
    .open = mem_open,
    .get = mem_get,
    .write = mem_write,
    .offset = mem_offset,
    .iter_new = mem_iter_new,
    .iter_next = mem_iter_next,
    .iter_free = mem_iter_free,
    .close = mem_close,
    .wipe = mem_wipe,
    .estimate = mem_estimate,
};
