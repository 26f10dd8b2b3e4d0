/*
 * store.c - the store API of store.h over a backend: the pending overlay of
 * the open transaction, reads and ordered iteration that merge the overlay
 * over the committed data, the changelog hook, atomic commit with the
 * changelog offset, batched restore, and the typed helpers.
 */
#include "state/store_int.h"
#include "topology/base/bytes.h"
#include "topology/base/grow_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTORE_BATCH 10000

struct rill_store {
    char *name;
    const struct rill_store_backend *be;
    void *db;
    struct rill_sl *pending;
    struct rill_sl *restore;
    rill_store_log_fn log;
    void *log_opaque;
    int closed;
    /* undo log since the mark: the pending state of each key before its
     * first write after the mark */
    int marked;
    struct undo {
        void *key;
        size_t klen;
        int had;          /* the key was in the overlay */
        int tomb;
        void *val;
        size_t vlen;
    } *undo;
    size_t nundo, undo_cap;
};

struct rill_store_iter {
    rill_store_t *s;
    void *bit;                      /* backend iterator */
    struct rill_sl_node *pn;        /* next pending node */
    const void *bk, *bv;            /* backend's current entry, if loaded */
    size_t bkl, bvl;
    int bvalid;
    int bconsumed;                  /* the backend entry was handed out */
    void *end;                      /* exclusive upper bound, or NULL */
    size_t elen;
};

static const struct rill_store_backend *backend_lookup(const char *name)
{
    if (!name || !strcmp(name, "rocksdb"))
        return &rill_store_rocksdb;
    if (!strcmp(name, "memory"))
        return &rill_store_memory;
    return NULL;
}

rill_err_t rill_store_open(const char *name, const struct rill_store_opts *o, rill_store_t **out,
                           char *errstr, size_t errsz)
{
    *out = NULL;
    const struct rill_store_backend *be = backend_lookup(o->type);
    if (!be) {
        rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                  "unknown store type '%s' (expected rocksdb or memory)", o->type);
        return RILL_ERR_CONFIG;
    }
    rill_store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->name = strdup(name)) || !(s->pending = rill_sl_new()) ||
        !(s->restore = rill_sl_new())) {
        if (s) {
            free(s->name);
            rill_sl_free(s->pending);
            free(s);
        }
        rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        return RILL_ERR_NOMEM;
    }
    s->be = be;
    rill_err_t err = be->open(o, &s->db, errstr, errsz);
    if (err != RILL_OK) {
        rill_sl_free(s->pending);
        rill_sl_free(s->restore);
        free(s->name);
        free(s);
        return err;
    }
    *out = s;
    return RILL_OK;
}

void rill_store_set_log(rill_store_t *s, rill_store_log_fn fn, void *opaque)
{
    s->log = fn;
    s->log_opaque = opaque;
}

const char *rill_store_name(const rill_store_t *s) { return s->name; }
int64_t rill_store_offset(const rill_store_t *s) { return s->closed ? -1 : s->be->offset(s->db); }
size_t rill_store_pending(const rill_store_t *s) { return s->closed ? 0 : s->pending->count; }

rill_err_t rill_store_get(rill_store_t *s, const void *key, size_t klen, void **value,
                          size_t *vlen)
{
    if (s->closed)
        return RILL_ERR_STATE;
    struct rill_sl_node *n = rill_sl_find(s->pending, key, klen);
    if (n) {
        if (n->tomb)
            return RILL_ERR_NOTFOUND;
        *value = malloc(n->vlen ? n->vlen : 1);
        if (!*value)
            return RILL_ERR_NOMEM;
        memcpy(*value, n->val, n->vlen);
        *vlen = n->vlen;
        return RILL_OK;
    }
    return s->be->get(s->db, key, klen, value, vlen);
}

rill_err_t rill_store_get_committed(rill_store_t *s, const void *key, size_t klen, void **value,
                                    size_t *vlen)
{
    if (s->closed)
        return RILL_ERR_STATE;
    return s->be->get(s->db, key, klen, value, vlen);
}

static void undo_clear(rill_store_t *s)
{
    for (size_t i = 0; i < s->nundo; i++) {
        free(s->undo[i].key);
        free(s->undo[i].val);
    }
    s->nundo = 0;
}

/* Remembers key's overlay state before it changes (once per key and mark:
 * a linear scan, as a record writes few keys). */
static rill_err_t undo_record(rill_store_t *s, const void *key, size_t klen)
{
    for (size_t i = 0; i < s->nundo; i++)
        if (!rill_key_cmp(s->undo[i].key, s->undo[i].klen, key, klen))
            return RILL_OK;
    if (rill_grow(&s->undo, s->nundo, &s->undo_cap, sizeof *s->undo, 8) != RILL_OK)
        return RILL_ERR_NOMEM;
    struct undo *u = &s->undo[s->nundo];
    memset(u, 0, sizeof *u);
    struct rill_sl_node *n = rill_sl_find(s->pending, key, klen);
    u->key = malloc(klen ? klen : 1);
    if (!u->key)
        return RILL_ERR_NOMEM;
    memcpy(u->key, key, klen);
    u->klen = klen;
    if (n) {
        u->had = 1;
        u->tomb = n->tomb;
        if (!n->tomb) {
            u->val = malloc(n->vlen ? n->vlen : 1);
            if (!u->val) {
                free(u->key);
                return RILL_ERR_NOMEM;
            }
            memcpy(u->val, n->val, n->vlen);
            u->vlen = n->vlen;
        }
    }
    s->nundo++;
    return RILL_OK;
}

void rill_store_mark(rill_store_t *s)
{
    undo_clear(s);
    s->marked = 1;
}

void rill_store_release(rill_store_t *s)
{
    undo_clear(s);
    s->marked = 0;
}

void rill_store_rollback(rill_store_t *s)
{
    for (size_t i = s->nundo; !s->closed && i-- > 0;) {
        struct undo *u = &s->undo[i];
        if (!u->had)
            rill_sl_del(s->pending, u->key, u->klen);
        else
            rill_sl_put(s->pending, u->key, u->klen, u->val, u->vlen, u->tomb);
    }
    rill_store_release(s);
}

/* The changelog hook runs first: a write it cannot log does not happen. */
static rill_err_t write_pending(rill_store_t *s, const void *key, size_t klen, const void *value,
                                size_t vlen, int tomb)
{
    if (s->closed)
        return RILL_ERR_STATE;
    rill_err_t err = RILL_OK;
    if (s->marked)
        err = undo_record(s, key, klen);
    if (err == RILL_OK && s->log)
        err = s->log(s->log_opaque, s->name, key, klen, tomb ? NULL : value, tomb ? 0 : vlen);
    if (err == RILL_OK)
        err = rill_sl_put(s->pending, key, klen, value, vlen, tomb);
    return err;
}

rill_err_t rill_store_put(rill_store_t *s, const void *key, size_t klen, const void *value,
                          size_t vlen)
{
    return write_pending(s, key, klen, value ? value : "", value ? vlen : 0, 0);
}

rill_err_t rill_store_delete(rill_store_t *s, const void *key, size_t klen)
{
    return write_pending(s, key, klen, NULL, 0, 1);
}

rill_err_t rill_store_commit(rill_store_t *s, int64_t next_offset, char *errstr, size_t errsz)
{
    if (s->closed)
        return RILL_ERR_STATE;
    rill_store_release(s);
    if (!s->pending->count && next_offset < 0)
        return RILL_OK;
    rill_err_t err = s->be->write(s->db, s->pending, next_offset, errstr, errsz);
    rill_sl_clear(s->pending);
    return err;
}

void rill_store_abort(rill_store_t *s)
{
    rill_store_release(s);
    if (!s->closed)
        rill_sl_clear(s->pending);
}

rill_err_t rill_store_restore_put(rill_store_t *s, const void *key, size_t klen,
                                  const void *value, size_t vlen)
{
    if (s->closed)
        return RILL_ERR_STATE;
    rill_err_t err = rill_sl_put(s->restore, key, klen, value, vlen, value == NULL);
    if (err == RILL_OK && s->restore->count >= RESTORE_BATCH) {
        char e[RILL_ERRSTR_SIZE];
        err = s->be->write(s->db, s->restore, -1, e, sizeof e);
        rill_sl_clear(s->restore);
    }
    return err;
}

rill_err_t rill_store_restore_done(rill_store_t *s, int64_t next_offset, char *errstr,
                                   size_t errsz)
{
    if (s->closed)
        return RILL_ERR_STATE;
    rill_err_t err = s->be->write(s->db, s->restore, next_offset, errstr, errsz);
    rill_sl_clear(s->restore);
    return err;
}

/* ---- iteration: pending overlay merged over committed data ------------------ */

static void load_backend(rill_store_iter_t *it)
{
    it->bvalid = it->bit && it->s->be->iter_next(it->bit, &it->bk, &it->bkl, &it->bv, &it->bvl);
}

rill_store_iter_t *rill_store_range(rill_store_t *s, const void *start, size_t slen,
                                    const void *end, size_t elen)
{
    if (s->closed)
        return NULL;
    rill_store_iter_t *it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->s = s;
    it->bit = s->be->iter_new(s->db, start, slen);
    it->pn = rill_sl_seek(s->pending, start, slen);
    if (end) {
        it->end = malloc(elen ? elen : 1);
        if (!it->end || !it->bit) {
            rill_store_iter_free(it);
            return NULL;
        }
        memcpy(it->end, end, elen);
        it->elen = elen;
    }
    load_backend(it);
    return it;
}

rill_store_iter_t *rill_store_prefix(rill_store_t *s, const void *prefix, size_t plen)
{
    /* [prefix, prefix with its last non-0xff byte incremented) */
    unsigned char *end = malloc(plen ? plen : 1);
    if (!end)
        return NULL;
    memcpy(end, prefix, plen);
    size_t elen = plen;
    while (elen > 0 && end[elen - 1] == 0xff)
        elen--;
    rill_store_iter_t *it;
    if (elen == 0) {
        it = rill_store_range(s, prefix, plen, NULL, 0);
    } else {
        end[elen - 1]++;
        it = rill_store_range(s, prefix, plen, end, elen);
    }
    free(end);
    return it;
}

int rill_store_iter_next(rill_store_iter_t *it, const void **key, size_t *klen,
                         const void **value, size_t *vlen)
{
    if (it->bconsumed) { /* the last entry handed out was the backend's */
        it->bconsumed = 0;
        load_backend(it);
    }
    for (;;) {
        int have_p = it->pn != NULL, have_b = it->bvalid;
        if (!have_p && !have_b)
            return 0;
        int c = !have_p ? 1 : !have_b ? -1
                                      : rill_key_cmp(it->pn->key, it->pn->klen, it->bk, it->bkl);
        if (c > 0) {
            if (it->end && rill_key_cmp(it->bk, it->bkl, it->end, it->elen) >= 0)
                return 0;
            *key = it->bk;
            *klen = it->bkl;
            *value = it->bv;
            *vlen = it->bvl;
            it->bconsumed = 1; /* advance on the next call: the pointers stay valid */
            return 1;
        }
        /* The pending entry wins; on equal keys it shadows the backend's. */
        struct rill_sl_node *n = it->pn;
        it->pn = n->next[0];
        if (c == 0)
            load_backend(it);
        if (it->end && rill_key_cmp(n->key, n->klen, it->end, it->elen) >= 0)
            return 0;
        if (n->tomb)
            continue;
        *key = n->key;
        *klen = n->klen;
        *value = n->val;
        *vlen = n->vlen;
        return 1;
    }
}

void rill_store_iter_free(rill_store_iter_t *it)
{
    if (!it)
        return;
    if (it->bit)
        it->s->be->iter_free(it->bit);
    free(it->end);
    free(it);
}

/* ---- typed helpers, counts, lifecycle ------------------------------------------ */

rill_err_t rill_store_get_i64(rill_store_t *s, const void *key, size_t klen, int64_t *out)
{
    void *v;
    size_t vl;
    rill_err_t err = rill_store_get(s, key, klen, &v, &vl);
    if (err != RILL_OK)
        return err;
    if (vl != 8) {
        free(v);
        return RILL_ERR_INVALID;
    }
    *out = rill_get_be64(v);
    free(v);
    return RILL_OK;
}

rill_err_t rill_store_put_i64(rill_store_t *s, const void *key, size_t klen, int64_t v)
{
    unsigned char b[8];
    rill_put_be64(b, v);
    return rill_store_put(s, key, klen, b, sizeof b);
}

rill_err_t rill_store_add_i64(rill_store_t *s, const void *key, size_t klen, int64_t delta,
                              int64_t *out)
{
    int64_t cur = 0;
    rill_err_t err = rill_store_get_i64(s, key, klen, &cur);
    if (err != RILL_OK && err != RILL_ERR_NOTFOUND)
        return err;
    if ((delta > 0 && cur > INT64_MAX - delta) || (delta < 0 && cur < INT64_MIN - delta))
        return RILL_ERR_INVALID;
    cur += delta;
    if (out)
        *out = cur;
    return rill_store_put_i64(s, key, klen, cur);
}

size_t rill_store_count(rill_store_t *s)
{
    if (s->closed)
        return 0;
    size_t n = 0;
    void *it = s->be->iter_new(s->db, NULL, 0);
    const void *k, *v;
    size_t kl, vl;
    while (it && s->be->iter_next(it, &k, &kl, &v, &vl))
        n++;
    if (it)
        s->be->iter_free(it);
    return n;
}

void rill_store_estimate(rill_store_t *s, uint64_t *keys, uint64_t *bytes)
{
    *keys = *bytes = 0;
    if (s && !s->closed)
        s->be->estimate(s->db, keys, bytes);
}

void rill_store_close(rill_store_t *s)
{
    if (!s || s->closed)
        return;
    s->be->close(s->db);
    s->db = NULL;
    rill_store_release(s);
    rill_sl_clear(s->pending);
    rill_sl_clear(s->restore);
    s->closed = 1;
}

void rill_store_free(rill_store_t *s)
{
    if (!s)
        return;
    rill_store_close(s);
    undo_clear(s);
    free(s->undo);
    rill_sl_free(s->pending);
    rill_sl_free(s->restore);
    free(s->name);
    free(s);
}

rill_err_t rill_store_wipe(const char *type, const char *path, char *errstr, size_t errsz)
{
    const struct rill_store_backend *be = backend_lookup(type);
    if (!be)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "unknown store type '%s'", type);
    return be->wipe(path, errstr, errsz);
}
