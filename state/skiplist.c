/*
 * skiplist.c - the ordered map behind pending writes and memory stores: a
 * skip list of owned byte keys and values, in memcmp-then-length order.
 * Expected O(log n) search and insert; levels come from a xorshift
 * generator seeded per list, so behaviour is reproducible.
 */
#include "state/store_int.h"

#include <stdlib.h>
#include <string.h>

int rill_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static struct rill_sl_node *node_new(int level)
{
    return calloc(1, sizeof(struct rill_sl_node) + (size_t)level * sizeof(struct rill_sl_node *));
}

static void node_free(struct rill_sl_node *n)
{
    free(n->key);
    free(n->val);
    free(n);
}

struct rill_sl *rill_sl_new(void)
{
    struct rill_sl *sl = calloc(1, sizeof *sl);
    if (!sl)
        return NULL;
    sl->head = node_new(RILL_SL_MAX_LEVEL);
    if (!sl->head) {
        free(sl);
        return NULL;
    }
    sl->head->level = RILL_SL_MAX_LEVEL;
    sl->level = 1;
    sl->rng = 0x9e3779b97f4a7c15ull;
    return sl;
}

void rill_sl_clear(struct rill_sl *sl)
{
    struct rill_sl_node *n = sl->head->next[0];
    while (n) {
        struct rill_sl_node *next = n->next[0];
        node_free(n);
        n = next;
    }
    memset(sl->head->next, 0, RILL_SL_MAX_LEVEL * sizeof sl->head->next[0]);
    sl->level = 1;
    sl->count = 0;
    sl->bytes = 0;
}

void rill_sl_free(struct rill_sl *sl)
{
    if (!sl)
        return;
    rill_sl_clear(sl);
    free(sl->head);
    free(sl);
}

static int random_level(struct rill_sl *sl)
{
    int level = 1;
    uint64_t x = sl->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    sl->rng = x;
    while (level < RILL_SL_MAX_LEVEL && (x & 3) == 0) { /* p = 1/4 */
        level++;
        x >>= 2;
    }
    return level;
}

/* Fills update[] with the last node before k on every level. */
static struct rill_sl_node *descend(const struct rill_sl *sl, const void *k, size_t klen,
                                    struct rill_sl_node **update)
{
    struct rill_sl_node *x = sl->head;
    for (int i = sl->level - 1; i >= 0; i--) {
        while (x->next[i] && rill_key_cmp(x->next[i]->key, x->next[i]->klen, k, klen) < 0)
            x = x->next[i];
        if (update)
            update[i] = x;
    }
    return x->next[0];
}

static void *dup(const void *p, size_t n)
{
    void *c = malloc(n ? n : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

rill_err_t rill_sl_put(struct rill_sl *sl, const void *k, size_t klen, const void *val,
                       size_t vlen, int tomb)
{
    struct rill_sl_node *update[RILL_SL_MAX_LEVEL];
    struct rill_sl_node *n = descend(sl, k, klen, update);
    void *v = tomb ? NULL : dup(val, vlen);
    if (!tomb && !v)
        return RILL_ERR_NOMEM;
    if (n && !rill_key_cmp(n->key, n->klen, k, klen)) {
        free(n->val);
        sl->bytes += (tomb ? 0 : vlen) - n->vlen;
        n->val = v;
        n->vlen = tomb ? 0 : vlen;
        n->tomb = tomb;
        return RILL_OK;
    }
    int level = random_level(sl);
    n = node_new(level);
    if (!n || !(n->key = dup(k, klen))) {
        free(n);
        free(v);
        return RILL_ERR_NOMEM;
    }
    n->klen = klen;
    n->val = v;
    n->vlen = tomb ? 0 : vlen;
    n->tomb = tomb;
    n->level = level;
    for (int i = sl->level; i < level; i++)
        update[i] = sl->head;
    if (level > sl->level)
        sl->level = level;
    for (int i = 0; i < level; i++) {
        n->next[i] = update[i]->next[i];
        update[i]->next[i] = n;
    }
    sl->count++;
    sl->bytes += klen + n->vlen;
    return RILL_OK;
}

int rill_sl_del(struct rill_sl *sl, const void *k, size_t klen)
{
    struct rill_sl_node *update[RILL_SL_MAX_LEVEL];
    struct rill_sl_node *n = descend(sl, k, klen, update);
    if (!n || rill_key_cmp(n->key, n->klen, k, klen))
        return 0;
    for (int i = 0; i < n->level; i++)
        if (update[i]->next[i] == n)
            update[i]->next[i] = n->next[i];
    sl->bytes -= n->klen + n->vlen;
    node_free(n);
    sl->count--;
    return 1;
}

struct rill_sl_node *rill_sl_find(const struct rill_sl *sl, const void *k, size_t klen)
{
    struct rill_sl_node *n = descend(sl, k, klen, NULL);
    return n && !rill_key_cmp(n->key, n->klen, k, klen) ? n : NULL;
}

struct rill_sl_node *rill_sl_seek(const struct rill_sl *sl, const void *k, size_t klen)
{
    return k ? descend(sl, k, klen, NULL) : sl->head->next[0];
}
