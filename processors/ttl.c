/*
 * ttl.c - the group expiry of ttl.h: the deadline index kept beside each
 * group in the processor's store, moved on every touch, scanned in deadline
 * order by a wall-clock schedule.
 */
#include "processors/ttl.h"
#include "processors/group.h"
#include "topology/base/bytes.h"

#include <stdlib.h>
#include <string.h>

#define IX_LEN 10 /* "\0E" + 8-byte deadline */

struct rill_ttl {
    rill_store_t *store;
    int64_t ttl_ms;
    unsigned char (*keys)[IX_LEN + RILL_GROUP_MAX]; /* RILL_TTL_BATCH expired index keys */
    size_t *lens;
};

rill_err_t rill_ttl_init(rill_ctx_t *ctx, int64_t ttl_ms, void **state, char *errstr,
                         size_t errsz)
{
    rill_store_t *store;
    rill_err_t err = rill_group_init(ctx, (void **)&store, errstr, errsz);
    if (err != RILL_OK)
        return err;
    struct rill_ttl *t = calloc(1, sizeof *t);
    if (!t)
        return RILL_ERR_NOMEM;
    t->store = store;
    t->ttl_ms = ttl_ms;
    if (ttl_ms > 0) {
        t->keys = malloc(RILL_TTL_BATCH * sizeof *t->keys);
        t->lens = malloc(RILL_TTL_BATCH * sizeof *t->lens);
        if (!t->keys || !t->lens) {
            rill_ttl_close(t);
            return RILL_ERR_NOMEM;
        }
        int64_t every = ttl_ms / 10 < 10 ? 10 : ttl_ms / 10 > 1000 ? 1000 : ttl_ms / 10;
        if ((err = rill_ctx_schedule(ctx, RILL_PUNCTUATE_WALL_CLOCK, every)) != RILL_OK) {
            rill_ttl_close(t);
            return rill_errf(errstr, errsz, err, "processor '%s': cannot schedule the ttl.ms check",
                             rill_ctx_name(ctx));
        }
    }
    *state = t;
    return RILL_OK;
}

rill_store_t *rill_ttl_store(void *state)
{
    return ((struct rill_ttl *)state)->store;
}

void rill_ttl_close(void *state)
{
    struct rill_ttl *t = state;
    if (!t)
        return;
    free(t->keys);
    free(t->lens);
    free(t);
}

rill_proc_result_t rill_ttl_check(rill_ctx_t *ctx, void *state, const void *group, size_t glen)
{
    const struct rill_ttl *t = state;
    if (t->ttl_ms <= 0)
        return RILL_PROC_OK;
    if (glen >= RILL_GROUP_MAX || (glen && ((const unsigned char *)group)[0] == 0)) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                           "with ttl.ms a group must not begin with byte 0 nor be longer than %d "
                           "bytes (%zu)", RILL_GROUP_MAX - 1, glen);
        return RILL_PROC_REJECT;
    }
    return RILL_PROC_OK;
}

/* "\0G"+group in meta, "\0E"+deadline+group in ix. */
static void meta_key(unsigned char *meta, const void *group, size_t glen)
{
    meta[0] = 0;
    meta[1] = 'G';
    memcpy(meta + 2, group, glen);
}

static void ix_key(unsigned char *ix, int64_t deadline, const void *group, size_t glen)
{
    ix[0] = 0;
    ix[1] = 'E';
    rill_put_be64(ix + 2, deadline);
    memcpy(ix + IX_LEN, group, glen);
}

/* Deletes the group's index entries; RILL_OK when it had none. */
static rill_err_t unindex(struct rill_ttl *t, const void *group, size_t glen)
{
    unsigned char meta[2 + RILL_GROUP_MAX], ix[IX_LEN + RILL_GROUP_MAX];
    int64_t old;
    meta_key(meta, group, glen);
    rill_err_t err = rill_store_get_i64(t->store, meta, 2 + glen, &old);
    if (err == RILL_ERR_NOTFOUND)
        return RILL_OK;
    if (err != RILL_OK)
        return err;
    ix_key(ix, old, group, glen);
    if ((err = rill_store_delete(t->store, ix, IX_LEN + glen)) != RILL_OK &&
        err != RILL_ERR_NOTFOUND)
        return err;
    err = rill_store_delete(t->store, meta, 2 + glen);
    return err == RILL_ERR_NOTFOUND ? RILL_OK : err;
}

rill_err_t rill_ttl_touch(rill_ctx_t *ctx, void *state, const void *group, size_t glen)
{
    struct rill_ttl *t = state;
    if (t->ttl_ms <= 0)
        return RILL_OK;
    if (glen >= RILL_GROUP_MAX)
        return RILL_ERR_INVALID; /* rill_ttl_check refused it */
    unsigned char meta[2 + RILL_GROUP_MAX], ix[IX_LEN + RILL_GROUP_MAX];
    int64_t deadline = rill_ctx_wall_clock_ms(ctx) + t->ttl_ms;
    rill_err_t err = unindex(t, group, glen);
    if (err != RILL_OK)
        return err;
    meta_key(meta, group, glen);
    ix_key(ix, deadline, group, glen);
    if ((err = rill_store_put(t->store, ix, IX_LEN + glen, "", 1)) != RILL_OK)
        return err;
    return rill_store_put_i64(t->store, meta, 2 + glen, deadline);
}

rill_err_t rill_ttl_forget(void *state, const void *group, size_t glen)
{
    struct rill_ttl *t = state;
    if (t->ttl_ms <= 0 || glen >= RILL_GROUP_MAX)
        return RILL_OK;
    return unindex(t, group, glen);
}

rill_proc_result_t rill_ttl_punctuate(rill_ctx_t *ctx, void *state, rill_punctuate_type_t type,
                                      int64_t now_ms)
{
    struct rill_ttl *t = state;
    (void)now_ms; /* may be monotonic: deadlines are on the wall clock */
    if (type != RILL_PUNCTUATE_WALL_CLOCK || t->ttl_ms <= 0)
        return RILL_PROC_OK;
    int64_t now = rill_ctx_wall_clock_ms(ctx);
    /* the index entries whose deadline has passed, in deadline order, a
     * batch at a time (the iterator ends before the store is written) */
    unsigned char lo[2] = { 0, 'E' }, hi[IX_LEN];
    ix_key(hi, now + 1, "", 0);
    for (size_t done = 0; done < RILL_TTL_PER_CHECK;) {
        rill_store_iter_t *it = rill_store_range(t->store, lo, 2, hi, IX_LEN);
        if (!it)
            return RILL_PROC_RETRY;
        const void *k, *v;
        size_t klen, vlen, n = 0;
        while (n < RILL_TTL_BATCH && rill_store_iter_next(it, &k, &klen, &v, &vlen)) {
            if (klen <= IX_LEN || klen >= IX_LEN + RILL_GROUP_MAX)
                continue;
            memcpy(t->keys[n], k, klen);
            t->lens[n++] = klen;
        }
        rill_store_iter_free(it);
        if (!n)
            break;
        for (size_t i = 0; i < n; i++) {
            const unsigned char *group = t->keys[i] + IX_LEN;
            size_t glen = t->lens[i] - IX_LEN;
            rill_err_t err = rill_store_delete(t->store, group, glen);
            if ((err != RILL_OK && err != RILL_ERR_NOTFOUND) || unindex(t, group, glen) != RILL_OK)
                return RILL_PROC_RETRY;
        }
        done += n;
    }
    return RILL_PROC_OK;
}
