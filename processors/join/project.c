/*
 * project.c - the join processors' projection (project.h): the spec's
 * parser, and the output JSON built from spans of the two sides' parsed
 * values (never re-encoded, so numbers, strings and objects keep their
 * exact text), the key as a JSON string, and exact integer products; and
 * the output's encoding, JSON or Avro by a declared schema (avro_writer.h).
 */
#include "processors/join/project.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One operand, SIDE[.PATH] or key, of s[0..slen) (spaces around it
 * allowed) into *side and path. */
static int operand(const struct rill_proj *pr, const char *s, size_t slen, int *side, char *path,
                   char *errstr, size_t errsz)
{
    while (slen && *s == ' ')
        s++, slen--;
    while (slen && s[slen - 1] == ' ')
        slen--;
    const char *se = s + slen, *rest = NULL;
    for (int sd = 0; sd < 2 && !rest; sd++) {
        size_t l = strlen(pr->sides[sd]);
        if (slen >= l && !strncmp(s, pr->sides[sd], l) && (slen == l || s[l] == '.'))
            *side = sd, rest = s + l;
    }
    if (!rest && slen >= 3 && !strncmp(s, "key", 3) && (slen == 3 || s[3] == '.'))
        *side = 2, rest = s + 3;
    if (!rest) {
        snprintf(errstr, errsz, "'%.*s': the side must be %s, %s or key", (int)slen, s,
                 pr->sides[0], pr->sides[1]);
        return -1;
    }
    size_t plen = (size_t)(se - rest);
    if (plen && (*side == 2 || *rest != '.' || plen < 2 || plen > RILL_PROJ_PATH_MAX ||
                 rest[plen - 1] == '.' || memmem(rest, plen, "..", 2))) {
        snprintf(errstr, errsz, "'%.*s': after a side comes nothing or .PATH "
                 "(a dotted path of at most %d bytes); after key, nothing", (int)slen, s,
                 RILL_PROJ_PATH_MAX - 1);
        return -1;
    }
    if (plen) {
        memcpy(path, rest + 1, plen - 1);
        path[plen - 1] = '\0';
    } else {
        path[0] = '\0';
    }
    return 0;
}

int rill_proj_parse(struct rill_proj *pr, const char *spec, const char *s0, const char *s1,
                    char *errstr, size_t errsz)
{
    struct rill_proj_field *f = pr->f;
    size_t *n = &pr->n;
    pr->sides[0] = s0;
    pr->sides[1] = s1;
    *n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ','), *eq = strchr(p, '=');
        if (!end)
            end = p + strlen(p);
        if (*n == RILL_PROJ_MAX) {
            snprintf(errstr, errsz, "more than %d fields", RILL_PROJ_MAX);
            return -1;
        }
        if (!eq || eq > end) {
            snprintf(errstr, errsz, "'%.*s' is not NAME=SIDE[.PATH] nor NAME=SIDE[.PATH]*SIDE[.PATH]",
                     (int)(end - p), p);
            return -1;
        }
        const char *ne = eq;
        while (ne > p && ne[-1] == ' ')
            ne--;
        size_t nlen = (size_t)(ne - p);
        if (nlen == 0 || nlen >= RILL_PROJ_NAME_MAX) {
            snprintf(errstr, errsz, "field name '%.*s' must have 1 to %d characters",
                     (int)nlen, p, RILL_PROJ_NAME_MAX - 1);
            return -1;
        }
        for (size_t i = 0; i < nlen; i++)
            if (!(p[i] == '_' || p[i] == '-' || p[i] == '.' || (p[i] >= '0' && p[i] <= '9') ||
                  ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z'))) {
                snprintf(errstr, errsz, "field name '%.*s' may hold only letters, digits, "
                         "'_', '-' and '.'", (int)nlen, p);
                return -1;
            }
        for (size_t j = 0; j < *n; j++)
            if (strlen(f[j].name) == nlen && !memcmp(f[j].name, p, nlen)) {
                snprintf(errstr, errsz, "field '%.*s' is projected twice", (int)nlen, p);
                return -1;
            }
        const char *s = eq + 1;
        while (*s == ' ')
            s++;
        const char *se = end;
        while (se > s && se[-1] == ' ')
            se--;
        size_t slen = (size_t)(se - s);
        struct rill_proj_field *x = &f[*n];
        memset(x, 0, sizeof *x);
        memcpy(x->name, p, nlen);
        x->name[nlen] = '\0';
        const char *star = memchr(s, '*', slen);
        if (star && memchr(star + 1, '*', (size_t)(se - star - 1))) {
            snprintf(errstr, errsz, "'%.*s': a product has two operands", (int)slen, s);
            return -1;
        }
        if (star) {
            x->mul = 1;
            if (operand(pr, s, (size_t)(star - s), &x->side, x->path, errstr, errsz) ||
                operand(pr, star + 1, (size_t)(se - star - 1), &x->side_b, x->path_b, errstr,
                        errsz))
                return -1;
        } else if (operand(pr, s, slen, &x->side, x->path, errstr, errsz)) {
            return -1;
        }
        (*n)++;
        p = end;
    }
    return 0;
}

static int put(struct rill_proj *j, const void *p, size_t n)
{
    if (j->len + n > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (cap < j->len + n)
            cap *= 2;
        char *o = realloc(j->out, cap);
        if (!o)
            return -1;
        j->out = o;
        j->cap = cap;
    }
    memcpy(j->out + j->len, p, n);
    j->len += n;
    return 0;
}

static int puts_(struct rill_proj *j, const char *s) { return put(j, s, strlen(s)); }

int rill_proj_at(rill_json_val_t v, const char *path, rill_json_val_t *out)
{
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t seg = dot ? (size_t)(dot - path) : strlen(path);
        if (v.type != RILL_JSON_OBJECT)
            return 0;
        size_t pos = 0;
        rill_json_val_t k, val;
        int found = 0;
        char name[RILL_PROJ_PATH_MAX];
        size_t nlen;
        while (rill_json_next(&v, &pos, &k, &val))
            if (rill_json_string(&k, name, sizeof name, &nlen) == RILL_JSON_FOUND &&
                nlen == seg && !memcmp(name, path, seg)) {
                found = 1;
                v = val;
                break;
            }
        if (!found)
            return 0;
        path += seg + (dot ? 1 : 0);
    }
    *out = v;
    return 1;
}

/* The key as a JSON string (escaped; bytes that are not printable ASCII as
 * \u00XX). */
static int put_key(struct rill_proj *j, const unsigned char *k, size_t n)
{
    int bad = puts_(j, "\"");
    for (size_t i = 0; i < n && !bad; i++) {
        char e[8];
        if (k[i] == '"' || k[i] == '\\')
            snprintf(e, sizeof e, "\\%c", k[i]);
        else if (k[i] < 0x20 || k[i] >= 0x7f)
            snprintf(e, sizeof e, "\\u%04x", k[i]);
        else
            e[0] = (char)k[i], e[1] = '\0';
        bad = puts_(j, e);
    }
    return bad || puts_(j, "\"");
}

/* An operand of a product as an int64: a JSON integer (no fraction, no
 * exponent), or the key's text as one; 0 when it is not one. */
static int int_operand(const rill_json_val_t *const v[2], const void *key, size_t klen, int side,
                       const char *path, int64_t *out)
{
    const char *t;
    size_t n;
    rill_json_val_t x;
    if (side == 2) {
        t = key, n = klen;
    } else {
        if (!rill_proj_at(*v[side], path, &x) || x.type != RILL_JSON_NUMBER)
            return 0;
        t = x.p, n = x.len;
    }
    char buf[24];
    if (!n || n >= sizeof buf)
        return 0;
    memcpy(buf, t, n);
    buf[n] = '\0';
    for (size_t i = buf[0] == '-'; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return 0;
    errno = 0;
    char *end;
    long long ll = strtoll(buf, &end, 10);
    if (errno || *end || end == buf)
        return 0;
    *out = ll;
    return 1;
}

/* The exact product of the two operands, or null when either is not an
 * integer or the product overflows an int64. */
static int put_product(struct rill_proj *p, const rill_json_val_t *const v[2], const void *key,
                       size_t klen, const struct rill_proj_field *f)
{
    int64_t a, b, r;
    char num[24];
    if (!int_operand(v, key, klen, f->side, f->path, &a) ||
        !int_operand(v, key, klen, f->side_b, f->path_b, &b) || __builtin_mul_overflow(a, b, &r))
        return puts_(p, "null");
    snprintf(num, sizeof num, "%" PRId64, r);
    return puts_(p, num);
}

int rill_proj_build(struct rill_proj *p, const rill_json_val_t *v0, const rill_json_val_t *v1,
                    const void *key, size_t klen)
{
    static const rill_json_val_t null = { "null", 4, RILL_JSON_NULL };
    const rill_json_val_t *const v[2] = { v0 ? v0 : &null, v1 ? v1 : &null };
    p->len = 0;
    int bad = puts_(p, "{");
    if (!p->n) {
        for (int s = 0; s < 2 && !bad; s++)
            bad = (s && puts_(p, ",")) || puts_(p, "\"") || puts_(p, p->sides[s]) ||
                  puts_(p, "\":") || put(p, v[s]->p, v[s]->len);
        return bad || puts_(p, "}") ? -1 : 0;
    }
    for (size_t i = 0; i < p->n && !bad; i++) {
        const struct rill_proj_field *f = &p->f[i];
        rill_json_val_t x;
        bad = (i && puts_(p, ",")) || puts_(p, "\"") || puts_(p, f->name) || puts_(p, "\":");
        if (bad)
            break;
        if (f->mul)
            bad = put_product(p, v, key, klen, f);
        else if (f->side == 2)
            bad = put_key(p, key, klen);
        else if (rill_proj_at(*v[f->side], f->path, &x))
            bad = put(p, x.p, x.len);
        else
            bad = puts_(p, "null");
    }
    return bad || puts_(p, "}") ? -1 : 0;
}

void rill_proj_free(struct rill_proj *p)
{
    free(p->out);
    p->out = NULL;
    p->len = p->cap = 0;
}

rill_err_t rill_proj_out_init(struct rill_proj_out *o, const char *schema, int64_t id,
                              const char **key, char *errstr, size_t errsz)
{
    *key = NULL;
    if (o)
        memset(o, 0, sizeof *o);
    if (!schema[0]) {
        if (id) {
            *key = "avro.schema.id";
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "avro.schema.id without "
                             "avro.schema");
        }
        return RILL_OK;
    }
    rill_serde_writer_t *w;
    rill_err_t err = rill_serde_writer_new(schema, strlen(schema), id, &w, errstr, errsz);
    if (err != RILL_OK) {
        *key = "avro.schema";
        return err;
    }
    if (o)
        o->w = w;
    else
        rill_serde_writer_free(w);
    return RILL_OK;
}

rill_proc_result_t rill_proj_out_value(rill_ctx_t *ctx, struct rill_proj_out *o, const char *json,
                                       size_t len, const void **p, size_t *n)
{
    if (!o->w) {
        *p = json;
        *n = len;
        return RILL_PROC_OK;
    }
    char why[512];
    rill_err_t err = rill_serde_writer_encode(o->w, json, len, &o->buf, why, sizeof why);
    if (err == RILL_ERR_NOMEM)
        return RILL_PROC_RETRY;
    if (err != RILL_OK) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "the output %s", why);
        return RILL_PROC_REJECT;
    }
    *p = o->buf.p;
    *n = o->buf.len;
    return RILL_PROC_OK;
}

void rill_proj_out_free(struct rill_proj_out *o)
{
    rill_serde_writer_free(o->w);
    rill_buf_free(&o->buf);
    o->w = NULL;
}
