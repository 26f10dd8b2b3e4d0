/*
 * avro_writer.c - a JSON value as Confluent-framed Avro binary by a declared
 * schema (avro_writer.h): avro-c parses the schema, the encoding is written
 * here from the Avro specification (zig-zag varints, length-prefixed
 * strings, little-endian floats, blocks for arrays and maps, the branch
 * index before a union's value) while the JSON is walked with json.h.
 */
#include "schemas/avro_writer.h"
#include "topology/base/json.h"

#include <avro.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W_MAX_DEPTH 64

struct rill_serde_writer {
    avro_schema_t schema;
    int32_t id;
    rill_buf_t *out;       /* the buffer of the call in progress */
    char *scratch;         /* one string unescaped */
    size_t scratch_cap;
    char why[512];
};

static int put(struct rill_serde_writer *w, const void *p, size_t n)
{
    rill_buf_t *b = w->out;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

static int put_long(struct rill_serde_writer *w, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(z & 0x7f);
        z >>= 7;
        if (z)
            b[n] |= 0x80;
        n++;
    } while (z);
    return put(w, b, n);
}

static int fail(struct rill_serde_writer *w, const char *path, const char *what)
{
    snprintf(w->why, sizeof w->why, "%.255s: %.200s", *path ? path : "the value", what);
    return 1;
}

/* The JSON integer v as an int64 in [lo, hi]; 0 when it is not one. */
static int json_int(const rill_json_val_t *v, int64_t lo, int64_t hi, int64_t *out)
{
    char buf[32];
    if (v->type != RILL_JSON_NUMBER || v->len >= sizeof buf)
        return 0;
    memcpy(buf, v->p, v->len);
    buf[v->len] = '\0';
    for (size_t i = buf[0] == '-'; i < v->len; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return 0;
    errno = 0;
    char *end;
    long long x = strtoll(buf, &end, 10);
    if (errno || *end || x < lo || x > hi)
        return 0;
    *out = x;
    return 1;
}

/* v's unescaped string bytes into w->scratch; -1 without memory, 1 when
 * v is not a string. */
static int json_str(struct rill_serde_writer *w, const rill_json_val_t *v, size_t *n)
{
    if (v->type != RILL_JSON_STRING)
        return 1;
    if (v->len + 1 > w->scratch_cap) {
        char *s = realloc(w->scratch, v->len + 1);
        if (!s)
            return -1;
        w->scratch = s;
        w->scratch_cap = v->len + 1;
    }
    return rill_json_string(v, w->scratch, w->scratch_cap, n) == RILL_JSON_FOUND ? 0 : 1;
}

/* w->scratch[0..*n) decoded in place from standard base64 (RFC 4648,
 * padding optional), as serde_show.c writes bytes and fixed; 0, or 1 when
 * it is not base64. */
static int unbase64(struct rill_serde_writer *w, size_t *n)
{
    unsigned char *s = (unsigned char *)w->scratch;
    size_t in = *n, out = 0;
    uint32_t acc = 0;
    int bits = 0;
    while (in && s[in - 1] == '=')
        in--;
    if (*n - in > 2)
        return 1;
    for (size_t i = 0; i < in; i++) {
        unsigned char c = s[i];
        int v = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : -1;
        if (v < 0)
            return 1;
        acc = acc << 6 | (uint32_t)v;
        if ((bits += 6) >= 8) {
            bits -= 8;
            s[out++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits >= 6 || (acc & ((1u << bits) - 1)))
        return 1; /* a lone sextet, or bits left over */
    *n = out;
    return 0;
}

static int has_null(avro_schema_t s)
{
    if (!is_avro_union(s))
        return is_avro_null(s);
    for (size_t i = 0; i < avro_schema_union_size(s); i++)
        if (is_avro_null(avro_schema_union_branch(s, (int)i)))
            return 1;
    return 0;
}

/* Writes v by s; 0, 1 (does not fit: w->why), or -1 (no memory). */
static int write_value(struct rill_serde_writer *w, avro_schema_t s, const rill_json_val_t *v,
                       const char *path, int depth);

static int write_union(struct rill_serde_writer *w, avro_schema_t s, const rill_json_val_t *v,
                       const char *path, int depth)
{
    size_t n = avro_schema_union_size(s), mark = w->out->len;
    int res = 1;
    for (size_t i = 0; i < n; i++) {
        avro_schema_t b = avro_schema_union_branch(s, (int)i);
        if ((v->type == RILL_JSON_NULL) != is_avro_null(b))
            continue;
        w->out->len = mark;
        if (put_long(w, (int64_t)i))
            return -1;
        if ((res = write_value(w, b, v, path, depth + 1)) <= 0)
            return res;
    }
    w->out->len = mark;
    return res < 0 ? -1 : fail(w, path, "no branch of the union takes it");
}

static int write_record(struct rill_serde_writer *w, avro_schema_t s, const rill_json_val_t *v,
                        const char *path, int depth)
{
    if (v->type != RILL_JSON_OBJECT)
        return fail(w, path, "not an object (the schema has a record)");
    static const rill_json_val_t null = { "null", 4, RILL_JSON_NULL };
    for (size_t f = 0; f < avro_schema_record_size(s); f++) {
        const char *name = avro_schema_record_field_name(s, (int)f);
        avro_schema_t fs = avro_schema_record_field_get_by_index(s, (int)f);
        char sub[256];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", name);
        size_t pos = 0, klen;
        rill_json_val_t k, val;
        const rill_json_val_t *found = NULL;
        char kbuf[1024];
        while (!found && rill_json_next(v, &pos, &k, &val))
            if (rill_json_string(&k, kbuf, sizeof kbuf, &klen) == RILL_JSON_FOUND &&
                klen == strlen(name) && !memcmp(kbuf, name, klen))
                found = &val;
        if (!found) {
            if (!has_null(fs))
                return fail(w, sub, "missing (its type has no null)");
            found = &null;
        }
        int res = write_value(w, fs, found, sub, depth + 1);
        if (res)
            return res;
    }
    return 0;
}

/* An array's or a map's elements as one block, then the empty block. */
static int write_items(struct rill_serde_writer *w, avro_schema_t s, const rill_json_val_t *v,
                       const char *path, int depth, int map)
{
    if (v->type != (map ? RILL_JSON_OBJECT : RILL_JSON_ARRAY))
        return fail(w, path, map ? "not an object (the schema has a map)"
                                 : "not an array (the schema has an array)");
    avro_schema_t is = map ? avro_schema_map_values(s) : avro_schema_array_items(s);
    size_t pos = 0, n = 0;
    rill_json_val_t k, val;
    while (rill_json_next(v, &pos, &k, &val))
        n++;
    if (n && put_long(w, (int64_t)n))
        return -1;
    pos = 0;
    while (rill_json_next(v, &pos, &k, &val)) {
        if (map) {
            size_t kl;
            int r = json_str(w, &k, &kl);
            if (r > 0)
                return fail(w, path, "a map key that is not a string");
            if (r < 0 || put_long(w, (int64_t)kl) || put(w, w->scratch, kl))
                return -1;
        }
        int res = write_value(w, is, &val, path, depth + 1);
        if (res)
            return res;
    }
    return put_long(w, 0) ? -1 : 0;
}

static int write_value(struct rill_serde_writer *w, avro_schema_t s, const rill_json_val_t *v,
                       const char *path, int depth)
{
    if (depth > W_MAX_DEPTH)
        return fail(w, path, "nested too deep");
    while (is_avro_link(s))
        s = avro_schema_link_target(s);
    int64_t x;
    size_t n;
    int r;
    switch (avro_typeof(s)) {
    case AVRO_NULL:
        return v->type == RILL_JSON_NULL ? 0 : fail(w, path, "not null");
    case AVRO_BOOLEAN: {
        if (v->type != RILL_JSON_TRUE && v->type != RILL_JSON_FALSE)
            return fail(w, path, "not a boolean");
        unsigned char b = v->type == RILL_JSON_TRUE;
        return put(w, &b, 1) ? -1 : 0;
    }
    case AVRO_INT32:
        if (!json_int(v, INT32_MIN, INT32_MAX, &x))
            return fail(w, path, "not a 32-bit integer");
        return put_long(w, x) ? -1 : 0;
    case AVRO_INT64:
        if (!json_int(v, INT64_MIN, INT64_MAX, &x))
            return fail(w, path, "not a 64-bit integer");
        return put_long(w, x) ? -1 : 0;
    case AVRO_FLOAT:
    case AVRO_DOUBLE: {
        if (v->type != RILL_JSON_NUMBER || v->len >= 64)
            return fail(w, path, "not a number");
        char buf[64];
        memcpy(buf, v->p, v->len);
        buf[v->len] = '\0';
        double d = strtod(buf, NULL);
        unsigned char b[8];
        if (avro_typeof(s) == AVRO_FLOAT) {
            float f = (float)d;
            uint32_t u;
            memcpy(&u, &f, 4);
            for (int i = 0; i < 4; i++)
                b[i] = (unsigned char)(u >> (8 * i));
            return put(w, b, 4) ? -1 : 0;
        }
        uint64_t u;
        memcpy(&u, &d, 8);
        for (int i = 0; i < 8; i++)
            b[i] = (unsigned char)(u >> (8 * i));
        return put(w, b, 8) ? -1 : 0;
    }
    case AVRO_STRING:
        if ((r = json_str(w, v, &n)) != 0)
            return r < 0 ? -1 : fail(w, path, "not a string");
        return put_long(w, (int64_t)n) || put(w, w->scratch, n) ? -1 : 0;
    case AVRO_BYTES:
        if ((r = json_str(w, v, &n)) != 0)
            return r < 0 ? -1 : fail(w, path, "not a string");
        if (unbase64(w, &n))
            return fail(w, path, "not base64 (bytes are base64, as rill shows them)");
        return put_long(w, (int64_t)n) || put(w, w->scratch, n) ? -1 : 0;
    case AVRO_FIXED:
        if ((r = json_str(w, v, &n)) != 0)
            return r < 0 ? -1 : fail(w, path, "not a string");
        if (unbase64(w, &n))
            return fail(w, path, "not base64 (fixed is base64, as rill shows it)");
        if ((int64_t)n != avro_schema_fixed_size(s))
            return fail(w, path, "not of the fixed size");
        return put(w, w->scratch, n) ? -1 : 0;
    case AVRO_ENUM: {
        if ((r = json_str(w, v, &n)) != 0)
            return r < 0 ? -1 : fail(w, path, "not a string (the schema has an enum)");
        int i = memchr(w->scratch, 0, n) ? -1 : avro_schema_enum_get_by_name(s, w->scratch);
        if (i < 0)
            return fail(w, path, "not a symbol of the enum");
        return put_long(w, i) ? -1 : 0;
    }
    case AVRO_RECORD:
        return write_record(w, s, v, path, depth);
    case AVRO_ARRAY:
        return write_items(w, s, v, path, depth, 0);
    case AVRO_MAP:
        return write_items(w, s, v, path, depth, 1);
    case AVRO_UNION:
        return write_union(w, s, v, path, depth);
    default:
        return fail(w, path, "a schema type the writer does not know");
    }
}

rill_err_t rill_serde_writer_new(const char *schema, size_t len, int64_t id,
                                 rill_serde_writer_t **out, char *errstr, size_t errsz)
{
    *out = NULL;
    if (id < 0 || id > INT32_MAX)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "schema id %" PRId64 " is not in 0.."
                         "2147483647", id);
    struct rill_serde_writer *w = calloc(1, sizeof *w);
    if (!w)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    if (avro_schema_from_json_length(schema, len, &w->schema)) {
        rill_err_t e = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "not an Avro schema: %s",
                                 avro_strerror());
        free(w);
        return e;
    }
    w->id = (int32_t)id;
    *out = w;
    return RILL_OK;
}

rill_err_t rill_serde_writer_encode(rill_serde_writer_t *w, const char *json, size_t len,
                                    rill_buf_t *out, char *errstr, size_t errsz)
{
    rill_json_val_t root;
    if (rill_json_parse(json, len, &root, NULL) != RILL_JSON_FOUND)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "the value is not JSON");
    out->len = 0;
    w->out = out;
    unsigned char h[RILL_SERDE_HEADER] = { RILL_SERDE_MAGIC, (unsigned char)(w->id >> 24),
                                           (unsigned char)(w->id >> 16),
                                           (unsigned char)(w->id >> 8), (unsigned char)w->id };
    int res = put(w, h, sizeof h) ? -1 : write_value(w, w->schema, &root, "", 0);
    w->out = NULL;
    if (res < 0)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    if (res)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "does not fit the Avro schema: %s",
                         w->why);
    return RILL_OK;
}

void rill_serde_writer_free(rill_serde_writer_t *w)
{
    if (!w)
        return;
    avro_schema_decref(w->schema);
    free(w->scratch);
    free(w);
}
