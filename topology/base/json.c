/*
 * json.c - the bounded JSON reader declared in json.h. A recursive descent
 * over the text that validates everything it passes and copies out the one
 * value whose path matches; the same descent skips over values when stepping
 * through a validated document. Recursion depth is capped, so hostile input
 * costs at most O(len) time and O(RILL_JSON_MAX_DEPTH) stack.
 */
#include "topology/base/json.h"

#include <stdint.h>
#include <string.h>

struct jp {
    const char *p, *end;
    int depth;
    char *out;
    size_t outsz, outlen;
    rill_json_res_t hit; /* RILL_JSON_MISSING until the target is seen */
};

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

int rill_json_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_u4(struct jp *j, uint32_t *cp)
{
    if (j->end - j->p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = rill_json_hexval(j->p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (uint32_t)h;
    }
    j->p += 4;
    *cp = v;
    return 0;
}

/* Appends bytes to dst (capacity cap, length *n), noting overflow. */
static void put(char *dst, size_t cap, size_t *n, int *overflow, const char *s, size_t len)
{
    if (!dst)
        return;
    if (*n + len + 1 > cap) {
        *overflow = 1;
        return;
    }
    memcpy(dst + *n, s, len);
    *n += len;
    dst[*n] = '\0';
}

static size_t utf8_encode(uint32_t cp, char *b)
{
    if (cp < 0x80) {
        b[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (char)(0xF0 | cp >> 18);
    b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    b[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string at j->p (which is at the opening quote); unescaped text goes
 * to dst when dst is not NULL. Returns 0, or -1 when malformed. */
static int parse_string(struct jp *j, char *dst, size_t cap, size_t *n, int *overflow)
{
    j->p++; /* the quote */
    if (dst && cap)
        dst[0] = '\0';
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            char ch = (char)c;
            put(dst, cap, n, overflow, &ch, 1);
            continue;
        }
        if (j->p >= j->end)
            return -1;
        char e = *j->p++, b[4];
        const char *simple = NULL;
        switch (e) {
        case '"': simple = "\""; break;
        case '\\': simple = "\\"; break;
        case '/': simple = "/"; break;
        case 'b': simple = "\b"; break;
        case 'f': simple = "\f"; break;
        case 'n': simple = "\n"; break;
        case 'r': simple = "\r"; break;
        case 't': simple = "\t"; break;
        case 'u': {
            uint32_t cp, lo;
            if (read_u4(j, &cp))
                return -1;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return -1;
                j->p += 2;
                if (read_u4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return -1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return -1;
            }
            put(dst, cap, n, overflow, b, utf8_encode(cp, b));
            continue;
        }
        default: return -1;
        }
        put(dst, cap, n, overflow, simple, 1);
    }
    return -1;
}

static int digits(struct jp *j)
{
    const char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s ? 0 : -1;
}

static int parse_number(struct jp *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (digits(j))
        return -1;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (digits(j))
            return -1;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (digits(j))
            return -1;
    }
    return 0;
}

static int literal(struct jp *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
        return -1;
    j->p += n;
    return 0;
}

/* path: the rest of the path when this value lies on it, else NULL; "" means
 * this value is the target. */
static int parse_value(struct jp *j, const char *path);

static int parse_object(struct jp *j, const char *path)
{
    j->p++; /* { */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return -1;
        char key[256];
        size_t kn = 0;
        int kover = 0;
        if (parse_string(j, key, sizeof key, &kn, &kover))
            return -1;
        const char *sub = NULL;
        if (path && !kover) {
            size_t seg = strcspn(path, ".");
            if (seg == kn && !memcmp(path, key, kn))
                sub = path[seg] ? path + seg + 1 : "";
        }
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return -1;
        j->p++;
        if (parse_value(j, sub))
            return -1;
        skip_ws(j);
        if (j->p >= j->end)
            return -1;
        if (*j->p == '}') {
            j->p++;
            return 0;
        }
        if (*j->p++ != ',')
            return -1;
    }
}

static int parse_array(struct jp *j)
{
    j->p++; /* [ */
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return 0;
    }
    for (;;) {
        if (parse_value(j, NULL))
            return -1;
        skip_ws(j);
        if (j->p >= j->end)
            return -1;
        if (*j->p == ']') {
            j->p++;
            return 0;
        }
        if (*j->p++ != ',')
            return -1;
    }
}

static int parse_value(struct jp *j, const char *path)
{
    int target = path && !*path;
    skip_ws(j);
    if (j->p >= j->end)
        return -1;
    if (++j->depth > RILL_JSON_MAX_DEPTH)
        return -1;
    const char *start = j->p;
    int rc;
    switch (*j->p) {
    case '{':
        rc = parse_object(j, target ? NULL : path);
        if (!rc && target)
            j->hit = RILL_JSON_NOTSCALAR;
        break;
    case '[':
        rc = parse_array(j);
        if (!rc && target)
            j->hit = RILL_JSON_NOTSCALAR;
        break;
    case '"': {
        size_t n = 0;
        int over = 0;
        rc = parse_string(j, target ? j->out : NULL, j->outsz, &n, &over);
        if (!rc && target) {
            j->hit = over ? RILL_JSON_TOOBIG : RILL_JSON_FOUND;
            j->outlen = n;
        }
        break;
    }
    case 't': rc = literal(j, "true"); goto scalar;
    case 'f': rc = literal(j, "false"); goto scalar;
    case 'n': rc = literal(j, "null"); goto scalar;
    default:
        rc = parse_number(j);
    scalar:
        if (!rc && target) {
            size_t n = (size_t)(j->p - start);
            if (n + 1 > j->outsz) {
                j->hit = RILL_JSON_TOOBIG;
            } else {
                memcpy(j->out, start, n);
                j->out[n] = '\0';
                j->outlen = n;
                j->hit = RILL_JSON_FOUND;
            }
        }
    }
    j->depth--;
    return rc;
}

rill_json_res_t rill_json_get(const char *buf, size_t len, const char *path, char *out,
                              size_t outsz, size_t *outlen)
{
    struct jp j = { .p = buf, .end = buf + len, .out = out, .outsz = outsz,
                    .hit = RILL_JSON_MISSING };
    if (!buf || !path || !*path || !out || !outsz)
        return RILL_JSON_MALFORMED;
    out[0] = '\0';
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return RILL_JSON_MALFORMED;
    if (parse_value(&j, path))
        return RILL_JSON_MALFORMED;
    skip_ws(&j);
    if (j.p != j.end)
        return RILL_JSON_MALFORMED;
    if (j.hit == RILL_JSON_FOUND && outlen)
        *outlen = j.outlen;
    return j.hit;
}

static rill_json_type_t type_at(char c)
{
    switch (c) {
    case '{': return RILL_JSON_OBJECT;
    case '[': return RILL_JSON_ARRAY;
    case '"': return RILL_JSON_STRING;
    case 't': return RILL_JSON_TRUE;
    case 'f': return RILL_JSON_FALSE;
    case 'n': return RILL_JSON_NULL;
    default: return RILL_JSON_NUMBER;
    }
}

rill_json_res_t rill_json_parse(const char *buf, size_t len, rill_json_val_t *root,
                                size_t *err_off)
{
    struct jp j = { .p = buf, .end = buf + len, .hit = RILL_JSON_MISSING };
    if (!buf) {
        if (err_off)
            *err_off = 0;
        return RILL_JSON_MALFORMED;
    }
    skip_ws(&j);
    const char *start = j.p;
    int rc = parse_value(&j, NULL);
    const char *stop = j.p;
    skip_ws(&j);
    if (rc || j.p != j.end) {
        if (err_off)
            *err_off = (size_t)(j.p - buf);
        return RILL_JSON_MALFORMED;
    }
    root->p = start;
    root->len = (size_t)(stop - start);
    root->type = type_at(*start);
    return RILL_JSON_FOUND;
}

/* The text was validated by rill_json_parse(), so the descent cannot fail
 * here; it only finds where each value ends. */
int rill_json_next(const rill_json_val_t *c, size_t *pos, rill_json_val_t *key,
                   rill_json_val_t *val)
{
    if (c->type != RILL_JSON_OBJECT && c->type != RILL_JSON_ARRAY)
        return 0;
    struct jp j = { .p = c->p + (*pos ? *pos : 1), .end = c->p + c->len,
                    .hit = RILL_JSON_MISSING };
    skip_ws(&j);
    if (j.p >= j.end || *j.p == '}' || *j.p == ']')
        return 0;
    if (*j.p == ',') {
        j.p++;
        skip_ws(&j);
    }
    if (c->type == RILL_JSON_OBJECT) {
        const char *k = j.p;
        size_t n = 0;
        int over = 0;
        parse_string(&j, NULL, 0, &n, &over);
        if (key) {
            key->p = k;
            key->len = (size_t)(j.p - k);
            key->type = RILL_JSON_STRING;
        }
        skip_ws(&j);
        j.p++; /* : */
        skip_ws(&j);
    }
    const char *v = j.p;
    parse_value(&j, NULL);
    val->p = v;
    val->len = (size_t)(j.p - v);
    val->type = type_at(*v);
    *pos = (size_t)(j.p - c->p);
    return 1;
}

rill_json_res_t rill_json_string(const rill_json_val_t *v, char *out, size_t outsz,
                                 size_t *outlen)
{
    if (v->type != RILL_JSON_STRING)
        return RILL_JSON_NOTSCALAR;
    struct jp j = { .p = v->p, .end = v->p + v->len, .hit = RILL_JSON_MISSING };
    size_t n = 0;
    int over = 0;
    if (!outsz)
        return RILL_JSON_TOOBIG;
    if (parse_string(&j, out, outsz, &n, &over))
        return RILL_JSON_MALFORMED;
    if (over)
        return RILL_JSON_TOOBIG;
    if (outlen)
        *outlen = n;
    return RILL_JSON_FOUND;
}
