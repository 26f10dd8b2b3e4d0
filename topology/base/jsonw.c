/*
 * jsonw.c - the JSON writer of jsonw.h. The buffer doubles as it grows; each
 * level of nesting remembers whether it holds a value yet, which is all the
 * comma placement needs. Compact re-emission walks a document json.h has
 * validated, so its recursion is bounded by RILL_JSON_MAX_DEPTH.
 */
#include "topology/base/jsonw.h"
#include "topology/base/json.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rill_jsonw_init(rill_jsonw_t *w)
{
    memset(w, 0, sizeof *w);
}

void rill_jsonw_reset(rill_jsonw_t *w)
{
    char *p = w->p;
    size_t cap = w->cap;
    memset(w, 0, sizeof *w);
    w->p = p;
    w->cap = cap;
    if (p)
        p[0] = '\0';
}

void rill_jsonw_free(rill_jsonw_t *w)
{
    free(w->p);
    memset(w, 0, sizeof *w);
}

int rill_jsonw_failed(const rill_jsonw_t *w)
{
    return w->failed;
}

static int reserve(rill_jsonw_t *w, size_t more)
{
    if (w->failed)
        return -1;
    if (w->len + more + 1 <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            w->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(w->p, cap);
    if (!p) {
        w->failed = 1;
        return -1;
    }
    w->p = p;
    w->cap = cap;
    return 0;
}

static void put(rill_jsonw_t *w, const char *s, size_t n)
{
    if (reserve(w, n))
        return;
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

/* Before any value (or key): the comma when the level already holds one. */
static void sep(rill_jsonw_t *w)
{
    if (w->keyed) {
        w->keyed = 0;
        return;
    }
    if (w->more[w->depth])
        put(w, ",", 1);
    w->more[w->depth] = 1;
}

static void open_(rill_jsonw_t *w, char c)
{
    sep(w);
    if (w->depth >= RILL_JSONW_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    put(w, &c, 1);
    w->more[++w->depth] = 0;
}

static void close_(rill_jsonw_t *w, char c)
{
    if (w->depth > 0)
        w->depth--;
    w->keyed = 0;
    put(w, &c, 1);
}

void rill_jsonw_object_begin(rill_jsonw_t *w)
{
    open_(w, '{');
}

void rill_jsonw_object_end(rill_jsonw_t *w)
{
    close_(w, '}');
}

void rill_jsonw_array_begin(rill_jsonw_t *w)
{
    open_(w, '[');
}

void rill_jsonw_array_end(rill_jsonw_t *w)
{
    close_(w, ']');
}

size_t rill_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int rill_utf8_valid(const unsigned char *s, size_t n, int nul_ok)
{
    for (size_t i = 0; i < n;) {
        if (!s[i] && !nul_ok)
            return 0;
        size_t l = rill_utf8_len(s + i, n - i);
        if (!l)
            return 0;
        i += l;
    }
    return 1;
}

/* The string's characters, escaped, without the quotes. */
static void put_escaped(rill_jsonw_t *w, const unsigned char *s, size_t n)
{
    char esc[8];
    size_t run = 0; /* bytes that pass as they are, not yet copied */
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t l = rill_utf8_len(s + i, n - i);
        int plain = l == 1 ? c >= 0x20 && c != '"' && c != '\\' && c != 0x7f
                           : l == 2 ? !(c == 0xC2 && s[i + 1] <= 0x9F) /* C1 controls */
                                    : l > 0;
        if (plain) {
            run += l;
            i += l;
            continue;
        }
        put(w, (const char *)s + i - run, run);
        run = 0;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(w, esc, 2);
        } else if (l == 1) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(w, esc, 6);
        } else if (l == 2) {
            snprintf(esc, sizeof esc, "\\u%04x", s[i + 1]);
            put(w, esc, 6);
        } else {
            put(w, "\\ufffd", 6);
            l = 1;
        }
        i += l;
    }
    put(w, (const char *)s + n - run, run);
}

void rill_jsonw_key(rill_jsonw_t *w, const char *name)
{
    sep(w);
    put(w, "\"", 1);
    put_escaped(w, (const unsigned char *)name, strlen(name));
    put(w, "\":", 2);
    w->keyed = 1;
}

void rill_jsonw_string(rill_jsonw_t *w, const void *s, size_t n)
{
    sep(w);
    put(w, "\"", 1);
    put_escaped(w, s, n);
    put(w, "\"", 1);
}

void rill_jsonw_cstr(rill_jsonw_t *w, const char *s)
{
    if (s)
        rill_jsonw_string(w, s, strlen(s));
    else
        rill_jsonw_null(w);
}

void rill_jsonw_int(rill_jsonw_t *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld", (long long)v);
    sep(w);
    put(w, num, (size_t)n);
}

void rill_jsonw_bool(rill_jsonw_t *w, int v)
{
    sep(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void rill_jsonw_null(rill_jsonw_t *w)
{
    sep(w);
    put(w, "null", 4);
}

void rill_jsonw_base64(rill_jsonw_t *w, const void *p, size_t n)
{
    sep(w);
    put(w, "\"", 1);
    /* in chunks of 3 * 1024 bytes: EVP_EncodeBlock takes an int */
    const unsigned char *s = p;
    for (size_t off = 0; off < n;) {
        size_t chunk = n - off < 3072 ? n - off : 3072;
        if (reserve(w, 4 * ((chunk + 2) / 3)))
            return;
        int out = EVP_EncodeBlock((unsigned char *)w->p + w->len, s + off, (int)chunk);
        w->len += (size_t)out;
        w->p[w->len] = '\0';
        off += chunk;
    }
    put(w, "\"", 1);
}

/* ---- compact re-emission -------------------------------------------------------- */

static void put_json_string(rill_jsonw_t *w, const rill_json_val_t *v)
{
    /* the unescaped text is never longer than the quoted one */
    char *buf = malloc(v->len + 1);
    size_t n = 0;
    if (!buf || rill_json_string(v, buf, v->len + 1, &n) != RILL_JSON_FOUND) {
        free(buf);
        w->failed = 1;
        return;
    }
    rill_jsonw_string(w, buf, n);
    free(buf);
}

static void put_json_value(rill_jsonw_t *w, const rill_json_val_t *v)
{
    size_t pos = 0;
    rill_json_val_t key, val;
    switch (v->type) {
    case RILL_JSON_OBJECT:
        rill_jsonw_object_begin(w);
        while (!w->failed && rill_json_next(v, &pos, &key, &val)) {
            /* the member name, escaped the same way as any string */
            put_json_string(w, &key);
            put(w, ":", 1);
            w->keyed = 1;
            put_json_value(w, &val);
        }
        rill_jsonw_object_end(w);
        break;
    case RILL_JSON_ARRAY:
        rill_jsonw_array_begin(w);
        while (!w->failed && rill_json_next(v, &pos, NULL, &val))
            put_json_value(w, &val);
        rill_jsonw_array_end(w);
        break;
    case RILL_JSON_STRING:
        put_json_string(w, v);
        break;
    default: /* numbers and literals, verbatim */
        sep(w);
        put(w, v->p, v->len);
        break;
    }
}

int rill_jsonw_json(rill_jsonw_t *w, const char *text, size_t n)
{
    rill_json_val_t root;
    if (!text || rill_json_parse(text, n, &root, NULL) != RILL_JSON_FOUND)
        return -1;
    put_json_value(w, &root);
    return 0;
}
