/*
 * jsonq.c - the tests' JSON lookups (jsonq.h).
 */
#include "tests/lib/jsonq.h"

#include <stdlib.h>
#include <string.h>

int it_json_parse(const char *text, size_t len, rill_json_val_t *root)
{
    return rill_json_parse(text, len, root, NULL) == RILL_JSON_FOUND ? 0 : -1;
}

/* One step: a member name of an object or an index of an array. */
static int step(const rill_json_val_t *v, const char *seg, size_t n, rill_json_val_t *out)
{
    size_t pos = 0;
    rill_json_val_t key, val;
    char name[256];
    if (v->type == RILL_JSON_ARRAY) {
        long want = strtol(seg, NULL, 10);
        for (long i = 0; rill_json_next(v, &pos, NULL, &val); i++)
            if (i == want) {
                *out = val;
                return 1;
            }
        return 0;
    }
    while (rill_json_next(v, &pos, &key, &val)) {
        size_t kn = 0;
        if (rill_json_string(&key, name, sizeof name, &kn) == RILL_JSON_FOUND && kn == n &&
            !memcmp(name, seg, n)) {
            *out = val;
            return 1;
        }
    }
    return 0;
}

int it_json_at(const rill_json_val_t *v, const char *path, rill_json_val_t *out)
{
    rill_json_val_t cur = *v;
    while (*path) {
        size_t n = strcspn(path, ".");
        if (!step(&cur, path, n, &cur))
            return 0;
        path += n;
        if (*path == '.')
            path++;
    }
    *out = cur;
    return 1;
}

long long it_json_num(const rill_json_val_t *v, const char *path, long long def)
{
    rill_json_val_t x;
    if (!it_json_at(v, path, &x) || x.type != RILL_JSON_NUMBER)
        return def;
    char buf[32];
    size_t n = x.len < sizeof buf - 1 ? x.len : sizeof buf - 1;
    memcpy(buf, x.p, n);
    buf[n] = '\0';
    return strtoll(buf, NULL, 10);
}

const char *it_json_str(const rill_json_val_t *v, const char *path, size_t *len)
{
    static char ring[8][1 << 16];
    static int slot;
    rill_json_val_t x;
    if (!it_json_at(v, path, &x) || x.type != RILL_JSON_STRING)
        return NULL;
    char *b = ring[slot++ % 8];
    size_t n = 0;
    if (rill_json_string(&x, b, sizeof ring[0], &n) != RILL_JSON_FOUND)
        return NULL;
    if (len)
        *len = n;
    return b;
}

const char *it_json_text(const rill_json_val_t *v, const char *path)
{
    const char *s = it_json_str(v, path, NULL);
    return s ? s : "(missing)";
}

int it_json_is_null(const rill_json_val_t *v, const char *path)
{
    rill_json_val_t x;
    return it_json_at(v, path, &x) && x.type == RILL_JSON_NULL;
}

long it_json_count(const rill_json_val_t *v, const char *path)
{
    rill_json_val_t x, key, val;
    if (!it_json_at(v, path, &x) || (x.type != RILL_JSON_ARRAY && x.type != RILL_JSON_OBJECT))
        return -1;
    size_t pos = 0;
    long n = 0;
    while (rill_json_next(&x, &pos, &key, &val))
        n++;
    return n;
}
