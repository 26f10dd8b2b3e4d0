/*
 * serde_walk.c - the bounded walk of an Avro binary payload against its
 * schema, run on untrusted bytes before avro-c sees them: avro-c trusts the
 * lengths and counts it reads and allocates what they claim, so a hostile
 * record could make it ask for gigabytes. The walk reads every varint (at
 * most 10 bytes, 5 for an int), every string length (0..bytes left, at most
 * RILL_SERDE_MAX_STRING, UTF-8 without NUL), every array block (count bounded
 * by the bytes left and RILL_SERDE_MAX_ITEMS; a negative count carries a block
 * byte size that must match), every union branch and boolean byte, caps the
 * nesting and refuses trailing bytes. It counts string bytes and array items
 * so that the decoded event's arena is sized exactly. It decodes nothing.
 */
#include "schemas/serde_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct walk {
    const unsigned char *p, *end;
    struct rill_serde_tally *t;
    char path[192]; /* the field being read, e.g. items[2].product_id */
    size_t plen;
    char *err;
    size_t errsz;
};

static int fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct walk *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill_verrf(w->err, w->errsz, RILL_ERR_INVALID, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t left(const struct walk *w)
{
    return (size_t)(w->end - w->p);
}

/* Appends to the path; returns the length to restore. */
static size_t path_push(struct walk *w, const char *fmt, const char *name, size_t idx)
{
    size_t was = w->plen;
    int n = name ? snprintf(w->path + was, sizeof w->path - was, fmt, name)
                 : snprintf(w->path + was, sizeof w->path - was, fmt, idx);
    if (n > 0)
        w->plen = was + (size_t)n < sizeof w->path ? was + (size_t)n : sizeof w->path - 1;
    return was;
}

static void path_pop(struct walk *w, size_t was)
{
    w->plen = was;
    w->path[was] = '\0';
}

/* A zigzag varint of at most maxb bytes (5 for an int, 10 for a long). */
static int varint(struct walk *w, const char *what, int maxb, int64_t *out)
{
    uint64_t v = 0;
    for (int i = 0;; i++) {
        if (w->p >= w->end)
            return fail(w, "truncated record: %s '%s' is cut off", what, w->path);
        unsigned char b = *w->p++;
        if (i == maxb - 1 && (b & 0x80))
            return fail(w, "bad varint: %s '%s' is longer than %d bytes", what, w->path, maxb);
        if (i == 9 && b > 1)
            return fail(w, "bad varint: %s '%s' overflows 64 bits", what, w->path);
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    if (maxb == 5 && v > UINT32_MAX)
        return fail(w, "bad varint: %s '%s' overflows 32 bits", what, w->path);
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

static int walk_value(struct walk *w, avro_schema_t sc, int depth);

static int walk_string(struct walk *w)
{
    int64_t len;
    if (varint(w, "string length", 10, &len))
        return -1;
    if (len < 0)
        return fail(w, "string '%s' has negative length %lld", w->path, (long long)len);
    if ((uint64_t)len > left(w))
        return fail(w, "truncated record: string '%s' needs %lld bytes, %zu left", w->path,
                    (long long)len, left(w));
    if (len > RILL_SERDE_MAX_STRING)
        return fail(w, "string '%s' of %lld bytes exceeds the limit of %d", w->path,
                    (long long)len, RILL_SERDE_MAX_STRING);
    if (!rill_serde_utf8_ok(w->p, (size_t)len))
        return fail(w, "string '%s' is not utf-8 without nul bytes", w->path);
    w->p += len;
    w->t->str_bytes += (size_t)len + 1;
    return 0;
}

static int walk_array(struct walk *w, avro_schema_t sc, int depth)
{
    avro_schema_t item = avro_schema_array_items(sc);
    size_t n = 0;
    for (;;) {
        int64_t cnt, bsize = -1;
        if (varint(w, "array block count of", 10, &cnt))
            return -1;
        if (cnt == 0)
            break;
        if (cnt < -(int64_t)RILL_SERDE_MAX_ITEMS || cnt > (int64_t)RILL_SERDE_MAX_ITEMS)
            return fail(w, "array '%s' has more than %d items", w->path, RILL_SERDE_MAX_ITEMS);
        if (cnt < 0) {
            cnt = -cnt;
            if (varint(w, "array block size of", 10, &bsize))
                return -1;
            if (bsize < 0)
                return fail(w, "array '%s' has negative block size %lld", w->path,
                            (long long)bsize);
            if ((uint64_t)bsize > left(w))
                return fail(w, "truncated record: array '%s' block needs %lld bytes, %zu left",
                            w->path, (long long)bsize, left(w));
        }
        if ((size_t)cnt > RILL_SERDE_MAX_ITEMS - n)
            return fail(w, "array '%s' has more than %d items", w->path, RILL_SERDE_MAX_ITEMS);
        /* Every item schema of ours encodes to at least one byte. */
        if ((size_t)cnt > left(w))
            return fail(w, "truncated record: array '%s' claims %lld items, %zu bytes left",
                        w->path, (long long)cnt, left(w));
        const unsigned char *start = w->p;
        for (int64_t i = 0; i < cnt; i++) {
            size_t was = path_push(w, "[%zu]", NULL, n + (size_t)i);
            int rc = walk_value(w, item, depth + 1);
            path_pop(w, was);
            if (rc)
                return -1;
        }
        if (bsize >= 0 && (int64_t)(w->p - start) != bsize)
            return fail(w, "array '%s' block size %lld does not match its %zu bytes of items",
                        w->path, (long long)bsize, (size_t)(w->p - start));
        n += (size_t)cnt;
    }
    w->t->items += n;
    return 0;
}

static int walk_value(struct walk *w, avro_schema_t sc, int depth)
{
    if (depth > RILL_SERDE_MAX_DEPTH)
        return fail(w, "schema nests deeper than %d at '%s'", RILL_SERDE_MAX_DEPTH, w->path);
    int64_t v;
    switch (avro_typeof(sc)) {
    case AVRO_NULL:
        return 0;
    case AVRO_BOOLEAN:
        if (!left(w))
            return fail(w, "truncated record: boolean '%s' is cut off", w->path);
        if (*w->p > 1)
            return fail(w, "boolean '%s' is 0x%02x, not 0 or 1", w->path, *w->p);
        w->p++;
        return 0;
    case AVRO_INT32:
        return varint(w, "int", 5, &v);
    case AVRO_INT64:
        return varint(w, "long", 10, &v);
    case AVRO_STRING:
        return walk_string(w);
    case AVRO_RECORD:
        for (size_t i = 0; i < avro_schema_record_size(sc); i++) {
            const char *name = avro_schema_record_field_name(sc, (int)i);
            size_t was = path_push(w, w->plen ? ".%s" : "%s", name, 0);
            int rc = walk_value(w, avro_schema_record_field_get_by_index(sc, (int)i), depth + 1);
            path_pop(w, was);
            if (rc)
                return -1;
        }
        return 0;
    case AVRO_ARRAY:
        return walk_array(w, sc, depth);
    case AVRO_UNION:
        if (varint(w, "union branch of", 10, &v))
            return -1;
        if (v < 0 || (uint64_t)v >= avro_schema_union_size(sc))
            return fail(w, "union '%s' has no branch %lld", w->path, (long long)v);
        return walk_value(w, avro_schema_union_branch(sc, (int)v), depth + 1);
    default:
        return fail(w, "schema of '%s' has avro type %d, which the serde does not read",
                    w->path, (int)avro_typeof(sc));
    }
}

rill_err_t rill_serde_walk(avro_schema_t schema, const unsigned char *p, size_t n,
                           struct rill_serde_tally *t, char *errstr, size_t errsz)
{
    struct walk w = { .p = p, .end = p + n, .t = t, .err = errstr, .errsz = errsz };
    memset(t, 0, sizeof *t);
    if (walk_value(&w, schema, 0))
        return RILL_ERR_INVALID;
    if (w.p != w.end)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "trailing bytes after the record: %zu",
                               left(&w));
    return RILL_OK;
}
