/*
 * config.c - loads a topology YAML file (DESIGN.md section 4) into a struct
 * rill_topology: libyaml's event parser builds a small bounded tree (no
 * aliases, at most MAX_DEPTH levels and MAX_NODES nodes, duplicate keys
 * refused, ${...} substituted in every scalar, keys included), then a
 * schema walk turns the tree into the plain structs of config.h, refusing
 * unknown keys and wrong node kinds at every level. It checks the file's
 * shape only; the graph (names, processors, inputs, stores, co-partitioning,
 * cycles, the topics of clients) is rill_topology_check()'s, in check.c.
 *
 * Substitution: ${VAR} is the environment variable VAR (an error when unset),
 * ${VAR:-text} falls back to text when VAR is unset or empty (text is taken
 * literally up to the first '}'), ${file:PATH} is the contents of the regular
 * file PATH (at most 64 KiB, trailing newlines stripped; relative to the YAML
 * file's directory) and $${ is a literal "${". This loader's messages never
 * quote a substituted value: they quote the text as written in the file. The
 * graph checker quotes names (of topics, processors, sinks, stores, types)
 * as substituted: names are identifiers, so keep secrets in values (kafka:,
 * config:, sink keys), which no message quotes.
 *
 * Not here: printing, exiting, Kafka or database access.
 */
#include "topology/model/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define MAX_FILE (1024 * 1024)          /* bytes of YAML */
#define MAX_DEPTH 32                    /* nested maps and lists */
#define MAX_NODES 10000                 /* scalars, maps and lists */
#define MAX_SECRET (64 * 1024)          /* bytes of one ${file:PATH} */
#define MAX_SCALAR (256 * 1024)         /* bytes of one scalar after substitution */
#define MAX_SUBST_TOTAL (4 * 1024 * 1024) /* bytes substituted in one file */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

/* One node of the parsed document. A map's kids alternate key, value. */
struct ynode {
    enum ykind kind;
    int line, col;
    char *s;        /* scalar: the text after substitution */
    char *raw;      /* scalar: the text as written when substitution changed it */
    int null;       /* scalar: a plain empty, ~ or null */
    struct ynode **kids;
    size_t n, cap;
};

struct loader {
    const char *name;   /* file name for messages */
    const char *buf;
    size_t len;
    char *dir;          /* base of relative ${file:PATH}, NULL: current directory */
    char *errstr;
    size_t errsz;
    size_t nodes;
    size_t subst_total;
};

/* ---- errors ------------------------------------------------------------- */

static rill_err_t lerr(struct loader *L, int line, int col, rill_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static rill_err_t lerr(struct loader *L, int line, int col, rill_err_t err, const char *fmt, ...)
{
    if (!L->errstr || !L->errsz)
        return err;
    int n = snprintf(L->errstr, L->errsz, "%s:%d:%d: ", L->name, line, col);
    if (n >= 0 && (size_t)n < L->errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->errstr + n, L->errsz - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return err;
}

static rill_err_t nomem(struct loader *L, int line, int col)
{
    return lerr(L, line, col, RILL_ERR_NOMEM, "out of memory");
}

/* The text of a scalar as written in the file: safe to quote in a message. */
static const char *txt(const struct ynode *n)
{
    return n->raw ? n->raw : n->s;
}

static const char *kindname(const struct ynode *n)
{
    if (n->kind == Y_MAP)
        return "a map";
    if (n->kind == Y_SEQ)
        return "a list";
    return n->null ? "nothing" : "a scalar";
}

/* ---- the tree ------------------------------------------------------------ */

static void ynode_free(struct ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        ynode_free(n->kids[i]);
    free(n->kids);
    free(n->s);
    free(n->raw);
    free(n);
}

static int ynode_add(struct ynode *parent, struct ynode *kid)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        struct ynode **k = realloc(parent->kids, cap * sizeof *k);
        if (!k)
            return -1;
        parent->kids = k;
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

/* ---- substitution --------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
};

static int sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* Reads the regular file path (bounded) into a new string, trailing newlines
 * stripped. On failure returns NULL with *why set to a static reason or an
 * errno text, or *oom set. */
static char *read_secret(const char *path, const char **why, int *oom)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        *why = strerror(errno);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        close(fd);
        return NULL;
    }
    if (st.st_size > MAX_SECRET) {
        *why = "larger than 64 KiB";
        close(fd);
        return NULL;
    }
    char *data = malloc(MAX_SECRET + 1);
    if (!data) {
        *oom = 1;
        close(fd);
        return NULL;
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, data + len, MAX_SECRET + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *why = strerror(errno);
            free(data);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > MAX_SECRET) {
            *why = "larger than 64 KiB";
            free(data);
            close(fd);
            return NULL;
        }
    }
    close(fd);
    if (memchr(data, '\0', len)) {
        *why = "contains a nul byte";
        free(data);
        return NULL;
    }
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    data[len] = '\0';
    return data;
}

static int valid_varname(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

/* Substitutes ${...} in the scalar n in place; keeps the written text in
 * n->raw when anything changed. */
static rill_err_t subst(struct loader *L, struct ynode *n)
{
    const char *s = n->s;
    if (!strchr(s, '$'))
        return RILL_OK;
    struct sbuf b = { 0 };
    int changed = 0;
    rill_err_t err = RILL_OK;
    size_t i = 0;
    while (s[i]) {
        if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
            if (sbuf_add(&b, "${", 2) < 0)
                goto oom;
            i += 3;
            changed = 1;
            continue;
        }
        if (!(s[i] == '$' && s[i + 1] == '{')) {
            size_t j = i + 1;
            while (s[j] && s[j] != '$')
                j++;
            if (sbuf_add(&b, s + i, j - i) < 0)
                goto oom;
            i = j;
            continue;
        }
        const char *body = s + i + 2;
        const char *end = strchr(body, '}');
        if (!end) {
            err = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                       "unterminated '${' in '%s' (expected '}')", txt(n));
            goto out;
        }
        size_t blen = (size_t)(end - body);
        changed = 1;
        if (blen >= 5 && !strncmp(body, "file:", 5)) {
            size_t plen = blen - 5;
            if (!plen) {
                err = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                           "empty path in '${file:}' (expected ${file:PATH})");
                goto out;
            }
            char *path;
            int dirlen = (body[5] != '/' && L->dir) ? (int)strlen(L->dir) + 1 : 0;
            path = malloc((size_t)dirlen + plen + 1);
            if (!path)
                goto oom;
            if (dirlen)
                snprintf(path, (size_t)dirlen + 1, "%s/", L->dir);
            memcpy(path + dirlen, body + 5, plen);
            path[dirlen + plen] = '\0';
            const char *why = NULL;
            int oom = 0;
            char *data = read_secret(path, &why, &oom);
            if (!data) {
                if (oom) {
                    free(path);
                    goto oom;
                }
                err = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                           "cannot read ${file:%.*s}: %c%s (looked for '%s')", (int)plen,
                           body + 5, tolower((unsigned char)why[0]), why + 1, path);
                free(path);
                goto out;
            }
            free(path);
            size_t dlen = strlen(data);
            L->subst_total += dlen;
            int r = L->subst_total > MAX_SUBST_TOTAL ? 0 : sbuf_add(&b, data, dlen);
            free(data);
            if (r < 0)
                goto oom;
        } else {
            const char *dash = NULL;
            for (const char *p = body; p + 1 < end; p++)
                if (p[0] == ':' && p[1] == '-') {
                    dash = p;
                    break;
                }
            size_t nlen = dash ? (size_t)(dash - body) : blen;
            if (!valid_varname(body, nlen)) {
                err = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                           "invalid variable name '%.*s' in '${...}' (expected letters, digits "
                           "and '_', ${VAR}, ${VAR:-default} or ${file:PATH})",
                           (int)(nlen > 64 ? 64 : nlen), body);
                goto out;
            }
            char name[256];
            if (nlen >= sizeof name) {
                err = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                           "variable name '%.64s...' is too long", body);
                goto out;
            }
            memcpy(name, body, nlen);
            name[nlen] = '\0';
            const char *v = getenv(name);
            const char *val;
            size_t vlen;
            if (v && (*v || !dash)) {
                val = v;
                vlen = strlen(v);
            } else if (dash) {
                val = dash + 2;
                vlen = (size_t)(end - val);
            } else {
                err = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                           "undefined environment variable '%s' in ${%s} (set it, or write "
                           "${%s:-default})",
                           name, name, name);
                goto out;
            }
            L->subst_total += vlen;
            if (L->subst_total <= MAX_SUBST_TOTAL && sbuf_add(&b, val, vlen) < 0)
                goto oom;
        }
        if (L->subst_total > MAX_SUBST_TOTAL || b.len > MAX_SCALAR) {
            err = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                       "value too long after substitution (at most %d bytes per value, %d per "
                       "file)",
                       MAX_SCALAR, MAX_SUBST_TOTAL);
            goto out;
        }
        i = (size_t)(end - s) + 1;
    }
    if (changed) {
        if (!b.p && sbuf_add(&b, "", 0) < 0)
            goto oom;
        n->raw = n->s;
        n->s = b.p;
        b.p = NULL;
    }
out:
    free(b.p);
    return err;
oom:
    free(b.p);
    return nomem(L, n->line, n->col);
}

/* ---- parsing ------------------------------------------------------------- */

static void offset_pos(const struct loader *L, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < L->len; i++) {
        if (L->buf[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

static rill_err_t yaml_fail(struct loader *L, const yaml_parser_t *p)
{
    int line, col;
    if (p->error == YAML_MEMORY_ERROR)
        return nomem(L, 1, 1);
    if (p->error == YAML_READER_ERROR) {
        offset_pos(L, p->problem_offset, &line, &col);
    } else {
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
    }
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->context)
        return lerr(L, line, col, RILL_ERR_CONFIG, "invalid yaml: %s (%s at %d:%d)", problem,
                    p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return lerr(L, line, col, RILL_ERR_CONFIG, "invalid yaml: %s", problem);
}

static int is_null_scalar(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
        return 0;
    const char *v = (const char *)ev->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
           !strcmp(v, "NULL");
}

/* Hangs n under parent (a key or value of a map, or a list item); refuses
 * non-scalar and duplicate keys. */
static rill_err_t attach(struct loader *L, struct ynode *parent, struct ynode *n)
{
    if (parent->kind == Y_MAP && parent->n % 2 == 0) {
        if (n->kind != Y_SCALAR || n->null) {
            rill_err_t e = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                                "expected a key name, got %s", kindname(n));
            ynode_free(n);
            return e;
        }
        for (size_t i = 0; i < parent->n; i += 2)
            if (!strcmp(parent->kids[i]->s, n->s)) {
                rill_err_t e = lerr(L, n->line, n->col, RILL_ERR_CONFIG,
                                    "duplicate key '%s' (first at %d:%d)", txt(n),
                                    parent->kids[i]->line, parent->kids[i]->col);
                ynode_free(n);
                return e;
            }
    }
    if (ynode_add(parent, n) < 0) {
        ynode_free(n);
        return nomem(L, n->line, n->col);
    }
    return RILL_OK;
}

static rill_err_t build_tree(struct loader *L, struct ynode **root)
{
    yaml_parser_t p;
    yaml_event_t ev;
    struct ynode *stack[MAX_DEPTH];
    int depth = 0, docs = 0, done = 0;
    rill_err_t err = RILL_OK;

    *root = NULL;
    if (!yaml_parser_initialize(&p))
        return nomem(L, 1, 1);
    yaml_parser_set_input_string(&p, (const unsigned char *)L->buf, L->len);
    while (!done && !err) {
        if (!yaml_parser_parse(&p, &ev)) {
            err = yaml_fail(L, &p);
            break;
        }
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        struct ynode *n = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                err = lerr(L, line, col, RILL_ERR_CONFIG,
                           "expected a single yaml document, found a second one");
            break;
        case YAML_ALIAS_EVENT:
            err = lerr(L, line, col, RILL_ERR_CONFIG,
                       "aliases are not supported (found '*%s'; write the value out)",
                       (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++L->nodes > MAX_NODES) {
                err = lerr(L, line, col, RILL_ERR_CONFIG,
                           "too many yaml nodes (at most %d)", MAX_NODES);
                break;
            }
            if (ev.type != YAML_SCALAR_EVENT && depth == MAX_DEPTH) {
                err = lerr(L, line, col, RILL_ERR_CONFIG,
                           "nesting deeper than %d levels", MAX_DEPTH);
                break;
            }
            n = calloc(1, sizeof *n);
            if (!n) {
                err = nomem(L, line, col);
                break;
            }
            n->line = line;
            n->col = col;
            if (ev.type == YAML_SCALAR_EVENT) {
                n->kind = Y_SCALAR;
                n->null = is_null_scalar(&ev);
                if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
                    free(n);
                    err = lerr(L, line, col, RILL_ERR_CONFIG, "nul character in a scalar");
                    break;
                }
                n->s = strdup(n->null ? "" : (const char *)ev.data.scalar.value);
                if (!n->s) {
                    free(n);
                    err = nomem(L, line, col);
                    break;
                }
                if (!n->null && (err = subst(L, n)) != RILL_OK) {
                    ynode_free(n);
                    break;
                }
            } else {
                n->kind = ev.type == YAML_MAPPING_START_EVENT ? Y_MAP : Y_SEQ;
            }
            if (depth)
                err = attach(L, stack[depth - 1], n);
            else
                *root = n;
            if (!err && n->kind != Y_SCALAR)
                stack[depth++] = n;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth)
                depth--;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (err) {
        ynode_free(*root);
        *root = NULL;
    }
    return err;
}

/* ---- the schema walk -------------------------------------------------------- */

/* Writes "unknown key 'k'<where> (expected one of: a, b, c)". */
static rill_err_t unknown_key(struct loader *L, const struct ynode *key, const char *where,
                              const char *const *known)
{
    char list[512];
    size_t off = 0;
    list[0] = '\0';
    for (size_t i = 0; known[i]; i++) {
        int r = snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", known[i]);
        if (r < 0 || (size_t)r >= sizeof list - off)
            break;
        off += (size_t)r;
    }
    return lerr(L, key->line, key->col, RILL_ERR_CONFIG,
                "unknown key '%s'%s (expected one of: %s)", txt(key), where, list);
}

static rill_err_t want_kind(struct loader *L, const struct ynode *v, enum ykind kind,
                            const char *what, const char *where)
{
    if (v->kind == kind && (kind != Y_SCALAR || !v->null))
        return RILL_OK;
    static const char *const names[] = { "a value", "a list", "a map" };
    return lerr(L, v->line, v->col, RILL_ERR_CONFIG, "expected %s for %s%s, got %s", names[kind],
                what, where, kindname(v));
}

/* A non-empty string. */
static rill_err_t get_str(struct loader *L, const struct ynode *k, const struct ynode *v,
                          const char *where, char **out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", txt(k));
    rill_err_t err = want_kind(L, v, Y_SCALAR, what, where);
    if (err)
        return err;
    if (!*v->s)
        return lerr(L, v->line, v->col, RILL_ERR_CONFIG, "empty value for '%s'%s", txt(k),
                    where);
    free(*out);
    *out = strdup(v->s);
    return *out ? RILL_OK : nomem(L, v->line, v->col);
}

int rill_parse_int64(const char *s, int64_t *out)
{
    if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* An integer in [min, max]; the message never quotes the value. */
static rill_err_t get_int(struct loader *L, const struct ynode *k, const struct ynode *v,
                          const char *where, int64_t min, int64_t max, int64_t *out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", txt(k));
    rill_err_t err = want_kind(L, v, Y_SCALAR, what, where);
    if (err)
        return err;
    if (rill_parse_int64(v->s, out) < 0 || *out < min || *out > max)
        return lerr(L, v->line, v->col, RILL_ERR_CONFIG,
                    "expected an integer from %lld to %lld for '%s'%s", (long long)min,
                    (long long)max, txt(k), where);
    return RILL_OK;
}

static rill_err_t get_bool(struct loader *L, const struct ynode *k, const struct ynode *v,
                           const char *where, int *out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", txt(k));
    rill_err_t err = want_kind(L, v, Y_SCALAR, what, where);
    if (err)
        return err;
    if (!strcmp(v->s, "true"))
        *out = 1;
    else if (!strcmp(v->s, "false"))
        *out = 0;
    else
        return lerr(L, v->line, v->col, RILL_ERR_CONFIG, "expected true or false for '%s'%s",
                    txt(k), where);
    return RILL_OK;
}

/* A list of non-empty names; nothing (null) is an empty list. */
static rill_err_t get_list(struct loader *L, const struct ynode *k, const struct ynode *v,
                           const char *where, struct rill_strlist *out)
{
    out->line = v->line;
    out->col = v->col;
    if (v->kind == Y_SCALAR && v->null)
        return RILL_OK;
    char what[160];
    snprintf(what, sizeof what, "'%s'", txt(k));
    rill_err_t err = want_kind(L, v, Y_SEQ, what, where);
    if (err)
        return err;
    if (!v->n)
        return RILL_OK;
    out->v = calloc(v->n, sizeof *out->v);
    if (!out->v)
        return nomem(L, v->line, v->col);
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *it = v->kids[i];
        if (it->kind != Y_SCALAR || it->null || !*it->s)
            return lerr(L, it->line, it->col, RILL_ERR_CONFIG,
                        "expected a name in '%s'%s, got %s", txt(k), where,
                        it->kind == Y_SCALAR && !it->null ? "an empty string" : kindname(it));
        out->v[i] = strdup(it->s);
        if (!out->v[i])
            return nomem(L, it->line, it->col);
        out->n++;
    }
    return RILL_OK;
}

static rill_err_t kv_add(struct loader *L, struct rill_kvlist *l, size_t cap,
                         const struct ynode *k, const struct ynode *v)
{
    if (!l->v) {
        l->v = calloc(cap, sizeof *l->v);
        if (!l->v)
            return nomem(L, k->line, k->col);
    }
    struct rill_kv *kv = &l->v[l->n];
    kv->key = strdup(k->s);
    kv->value = strdup(v->s);
    kv->line = k->line;
    kv->col = k->col;
    l->n++;
    if (!kv->key || !kv->value)
        return nomem(L, k->line, k->col);
    return RILL_OK;
}

/* A scalar value for a pass-through key: present (may be the empty string). */
static rill_err_t want_value(struct loader *L, const struct ynode *k, const struct ynode *v,
                             const char *where)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", txt(k));
    return want_kind(L, v, Y_SCALAR, what, where);
}

/* A map of scalars, e.g. kafka: or config:; nothing (null) is empty. */
static rill_err_t get_kvmap(struct loader *L, const struct ynode *k, const struct ynode *v,
                            const char *where, struct rill_kvlist *out)
{
    if (v->kind == Y_SCALAR && v->null)
        return RILL_OK;
    char what[160];
    snprintf(what, sizeof what, "'%s'", txt(k));
    rill_err_t err = want_kind(L, v, Y_MAP, what, where);
    if (err)
        return err;
    char inner[200];
    snprintf(inner, sizeof inner, " in '%s'%s", txt(k), where);
    for (size_t i = 0; i < v->n; i += 2) {
        if ((err = want_value(L, v->kids[i], v->kids[i + 1], inner)) != RILL_OK ||
            (err = kv_add(L, out, v->n / 2, v->kids[i], v->kids[i + 1])) != RILL_OK)
            return err;
    }
    return RILL_OK;
}

/* A map of named entries (topics:, stores:, processors:, sinks:, clients:), whose
 * values must be maps (or nothing, when allow_null); the section itself may
 * be nothing (empty). */
static rill_err_t want_section(struct loader *L, const struct ynode *k, const struct ynode *v,
                               const char *entry, int allow_null)
{
    if (v->kind == Y_SCALAR && v->null)
        return RILL_OK;
    char what[160];
    snprintf(what, sizeof what, "'%s'", txt(k));
    rill_err_t err = want_kind(L, v, Y_MAP, what, "");
    if (err)
        return err;
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *val = v->kids[i + 1];
        if (val->kind == Y_MAP || (allow_null && val->kind == Y_SCALAR && val->null))
            continue;
        return lerr(L, val->line, val->col, RILL_ERR_CONFIG, "expected a map for %s '%s', got %s",
                    entry, txt(v->kids[i]), kindname(val));
    }
    return RILL_OK;
}

static int key_is(const struct ynode *k, const char *name)
{
    return !strcmp(k->s, name);
}

static rill_err_t load_topics(struct loader *L, struct rill_topology *t, const struct ynode *k,
                              const struct ynode *v)
{
    rill_err_t err = want_section(L, k, v, "topic", 1);
    if (err || !v->n)
        return err;
    t->topics = calloc(v->n / 2, sizeof *t->topics);
    if (!t->topics)
        return nomem(L, v->line, v->col);
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *name = v->kids[i], *m = v->kids[i + 1];
        struct rill_topic_conf *tc = &t->topics[t->ntopics++];
        tc->partitions = -1;
        tc->replication = -1;
        tc->line = name->line;
        tc->col = name->col;
        if (!*name->s)
            return lerr(L, name->line, name->col, RILL_ERR_CONFIG, "empty topic name");
        if (!(tc->name = strdup(name->s)))
            return nomem(L, name->line, name->col);
        char where[200];
        snprintf(where, sizeof where, " in topic '%s'", txt(name));
        for (size_t j = 0; m->kind == Y_MAP && j < m->n; j += 2) {
            const struct ynode *kk = m->kids[j], *vv = m->kids[j + 1];
            int64_t n;
            if (key_is(kk, "partitions")) {
                if ((err = get_int(L, kk, vv, where, 1, INT32_MAX, &n)) != RILL_OK)
                    return err;
                tc->partitions = (int32_t)n;
            } else if (key_is(kk, "replication.factor")) {
                if ((err = get_int(L, kk, vv, where, 1, INT16_MAX, &n)) != RILL_OK)
                    return err;
                tc->replication = (int16_t)n;
            } else if (key_is(kk, "feedback")) {
                if ((err = get_bool(L, kk, vv, where, &tc->feedback)) != RILL_OK)
                    return err;
            } else if ((err = want_value(L, kk, vv, where)) != RILL_OK ||
                       (err = kv_add(L, &tc->configs, m->n / 2, kk, vv)) != RILL_OK) {
                return err;
            }
        }
    }
    return RILL_OK;
}

static rill_err_t load_stores(struct loader *L, struct rill_topology *t, const struct ynode *k,
                              const struct ynode *v)
{
    static const char *const known[] = { "type", "changelog", NULL };
    rill_err_t err = want_section(L, k, v, "store", 1);
    if (err || !v->n)
        return err;
    t->stores = calloc(v->n / 2, sizeof *t->stores);
    if (!t->stores)
        return nomem(L, v->line, v->col);
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *name = v->kids[i], *m = v->kids[i + 1];
        struct rill_store_conf *sc = &t->stores[t->nstores++];
        sc->line = name->line;
        sc->col = name->col;
        sc->changelog = 1;
        if (!*name->s)
            return lerr(L, name->line, name->col, RILL_ERR_CONFIG, "empty store name");
        if (!(sc->name = strdup(name->s)))
            return nomem(L, name->line, name->col);
        char where[200];
        snprintf(where, sizeof where, " in store '%s'", txt(name));
        for (size_t j = 0; m->kind == Y_MAP && j < m->n; j += 2) {
            const struct ynode *kk = m->kids[j], *vv = m->kids[j + 1];
            if (key_is(kk, "type")) {
                if ((err = get_str(L, kk, vv, where, &sc->type)) != RILL_OK)
                    return err;
                if (strcmp(sc->type, "rocksdb") && strcmp(sc->type, "memory"))
                    return lerr(L, vv->line, vv->col, RILL_ERR_CONFIG,
                                "unknown store type '%s'%s (expected rocksdb or memory)",
                                txt(vv), where);
            } else if (key_is(kk, "changelog")) {
                if ((err = get_bool(L, kk, vv, where, &sc->changelog)) != RILL_OK)
                    return err;
            } else {
                return unknown_key(L, kk, where, known);
            }
        }
        if (!sc->type && !(sc->type = strdup("rocksdb")))
            return nomem(L, name->line, name->col);
    }
    return RILL_OK;
}

static rill_err_t need_key(struct loader *L, const struct ynode *name, const void *have,
                           const char *key, const char *where)
{
    if (have)
        return RILL_OK;
    return lerr(L, name->line, name->col, RILL_ERR_CONFIG, "missing key '%s'%s", key, where);
}

static rill_err_t load_procs(struct loader *L, struct rill_topology *t, const struct ynode *k,
                             const struct ynode *v)
{
    static const char *const known[] = { "type",   "library", "inputs", "outputs",
                                         "stores", "dlq",     "config", "kafka",
                                         NULL };
    rill_err_t err = want_section(L, k, v, "processor", 0);
    if (err || !v->n)
        return err;
    t->procs = calloc(v->n / 2, sizeof *t->procs);
    if (!t->procs)
        return nomem(L, v->line, v->col);
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *name = v->kids[i], *m = v->kids[i + 1];
        struct rill_proc_conf *pc = &t->procs[t->nprocs++];
        pc->line = name->line;
        pc->col = name->col;
        if (!*name->s)
            return lerr(L, name->line, name->col, RILL_ERR_CONFIG, "empty processor name");
        if (!(pc->name = strdup(name->s)))
            return nomem(L, name->line, name->col);
        char where[200];
        snprintf(where, sizeof where, " in processor '%s'", txt(name));
        const struct ynode *inputs = NULL;
        for (size_t j = 0; j < m->n; j += 2) {
            const struct ynode *kk = m->kids[j], *vv = m->kids[j + 1];
            if (key_is(kk, "type"))
                err = get_str(L, kk, vv, where, &pc->type);
            else if (key_is(kk, "library"))
                err = get_str(L, kk, vv, where, &pc->library);
            else if (key_is(kk, "inputs")) {
                err = get_list(L, kk, vv, where, &pc->inputs);
                inputs = vv;
            } else if (key_is(kk, "outputs"))
                err = get_list(L, kk, vv, where, &pc->outputs);
            else if (key_is(kk, "stores"))
                err = get_list(L, kk, vv, where, &pc->stores);
            else if (key_is(kk, "dlq"))
                err = get_str(L, kk, vv, where, &pc->dlq);
            else if (key_is(kk, "config"))
                err = get_kvmap(L, kk, vv, where, &pc->config);
            else if (key_is(kk, "kafka"))
                err = get_kvmap(L, kk, vv, where, &pc->kafka);
            else
                err = unknown_key(L, kk, where, known);
            if (err)
                return err;
        }
        if ((err = need_key(L, name, pc->type, "type", where)) != RILL_OK ||
            (err = need_key(L, name, inputs, "inputs", where)) != RILL_OK)
            return err;
        if (!pc->inputs.n)
            return lerr(L, inputs->line, inputs->col, RILL_ERR_CONFIG,
                        "expected at least one topic in 'inputs'%s", where);
    }
    return RILL_OK;
}

static rill_err_t load_sinks(struct loader *L, struct rill_topology *t, const struct ynode *k,
                             const struct ynode *v)
{
    rill_err_t err = want_section(L, k, v, "sink", 0);
    if (err || !v->n)
        return err;
    t->sinks = calloc(v->n / 2, sizeof *t->sinks);
    if (!t->sinks)
        return nomem(L, v->line, v->col);
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *name = v->kids[i], *m = v->kids[i + 1];
        struct rill_sink_conf *sc = &t->sinks[t->nsinks++];
        sc->line = name->line;
        sc->col = name->col;
        if (!*name->s)
            return lerr(L, name->line, name->col, RILL_ERR_CONFIG, "empty sink name");
        if (!(sc->name = strdup(name->s)))
            return nomem(L, name->line, name->col);
        char where[200];
        snprintf(where, sizeof where, " in sink '%s'", txt(name));
        const struct ynode *inputs = NULL;
        for (size_t j = 0; j < m->n; j += 2) {
            const struct ynode *kk = m->kids[j], *vv = m->kids[j + 1];
            if (key_is(kk, "type"))
                err = get_str(L, kk, vv, where, &sc->type);
            else if (key_is(kk, "inputs")) {
                err = get_list(L, kk, vv, where, &sc->inputs);
                inputs = vv;
            } else if (key_is(kk, "kafka"))
                err = get_kvmap(L, kk, vv, where, &sc->kafka);
            else if (!(err = want_value(L, kk, vv, where)))
                err = kv_add(L, &sc->config, m->n / 2, kk, vv);
            if (err)
                return err;
        }
        if ((err = need_key(L, name, sc->type, "type", where)) != RILL_OK ||
            (err = need_key(L, name, inputs, "inputs", where)) != RILL_OK)
            return err;
        if (!sc->inputs.n)
            return lerr(L, inputs->line, inputs->col, RILL_ERR_CONFIG,
                        "expected at least one topic in 'inputs'%s", where);
    }
    return RILL_OK;
}

static rill_err_t load_clients(struct loader *L, struct rill_topology *t, const struct ynode *k,
                               const struct ynode *v)
{
    static const char *const known[] = { "user", "writes", "reads", "group", NULL };
    rill_err_t err = want_section(L, k, v, "client", 0);
    if (err || !v->n)
        return err;
    t->clients = calloc(v->n / 2, sizeof *t->clients);
    if (!t->clients)
        return nomem(L, v->line, v->col);
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *name = v->kids[i], *m = v->kids[i + 1];
        struct rill_client_conf *cc = &t->clients[t->nclients++];
        cc->line = name->line;
        cc->col = name->col;
        if (!*name->s)
            return lerr(L, name->line, name->col, RILL_ERR_CONFIG, "empty client name");
        if (!(cc->name = strdup(name->s)))
            return nomem(L, name->line, name->col);
        char where[200];
        snprintf(where, sizeof where, " in client '%s'", txt(name));
        for (size_t j = 0; j < m->n; j += 2) {
            const struct ynode *kk = m->kids[j], *vv = m->kids[j + 1];
            if (key_is(kk, "user"))
                err = get_str(L, kk, vv, where, &cc->user);
            else if (key_is(kk, "writes"))
                err = get_list(L, kk, vv, where, &cc->writes);
            else if (key_is(kk, "reads"))
                err = get_list(L, kk, vv, where, &cc->reads);
            else if (key_is(kk, "group"))
                err = get_str(L, kk, vv, where, &cc->group);
            else
                err = unknown_key(L, kk, where, known);
            if (err)
                return err;
        }
        if ((err = need_key(L, name, cc->user, "user", where)) != RILL_OK)
            return err;
    }
    return RILL_OK;
}

static rill_err_t load_root(struct loader *L, struct rill_topology *t, const struct ynode *root)
{
    static const char *const known[] = {
        "application.id", "processing.guarantee", "commit.interval.ms", "state.dir",
        "num.stream.threads", "state.memory.bytes", "kafka", "topics", "stores", "processors",
        "sinks", "clients", NULL,
    };
    rill_err_t err;
    if (!root)
        return lerr(L, 1, 1, RILL_ERR_CONFIG,
                    "empty topology (expected a map with at least 'application.id')");
    if (root->kind != Y_MAP)
        return lerr(L, root->line, root->col, RILL_ERR_CONFIG,
                    "expected a map at the top level, got %s", kindname(root));
    int have_interval = 0;
    for (size_t i = 0; i < root->n; i += 2) {
        const struct ynode *k = root->kids[i], *v = root->kids[i + 1];
        int64_t n;
        if (key_is(k, "application.id")) {
            err = get_str(L, k, v, "", &t->application_id);
        } else if (key_is(k, "processing.guarantee")) {
            if (!(err = want_value(L, k, v, ""))) {
                if (!strcmp(v->s, "exactly_once_v2"))
                    t->guarantee = RILL_EXACTLY_ONCE_V2;
                else if (!strcmp(v->s, "at_least_once"))
                    t->guarantee = RILL_AT_LEAST_ONCE;
                else
                    err = lerr(L, v->line, v->col, RILL_ERR_CONFIG,
                               "unknown processing.guarantee '%s' (expected exactly_once_v2 or "
                               "at_least_once)",
                               txt(v));
            }
        } else if (key_is(k, "commit.interval.ms")) {
            if (!(err = get_int(L, k, v, "", 1, INT64_MAX, &n))) {
                t->commit_interval_ms = n;
                have_interval = 1;
            }
        } else if (key_is(k, "state.dir")) {
            err = get_str(L, k, v, "", &t->state_dir);
        } else if (key_is(k, "num.stream.threads")) {
            if (!(err = get_int(L, k, v, "", 1, INT_MAX, &n)))
                t->num_stream_threads = (int)n;
        } else if (key_is(k, "state.memory.bytes")) {
            if (!(err = get_int(L, k, v, "", 4 << 20, INT64_MAX, &n)))
                t->state_memory_bytes = n;
        } else if (key_is(k, "kafka")) {
            err = get_kvmap(L, k, v, "", &t->kafka);
        } else if (key_is(k, "topics")) {
            err = load_topics(L, t, k, v);
        } else if (key_is(k, "stores")) {
            err = load_stores(L, t, k, v);
        } else if (key_is(k, "processors")) {
            err = load_procs(L, t, k, v);
        } else if (key_is(k, "sinks")) {
            err = load_sinks(L, t, k, v);
        } else if (key_is(k, "clients")) {
            err = load_clients(L, t, k, v);
        } else {
            err = unknown_key(L, k, " at the top level", known);
        }
        if (err)
            return err;
    }
    if (!t->application_id)
        return lerr(L, root->line, root->col, RILL_ERR_CONFIG,
                    "missing key 'application.id' (expected the application's name: consumer "
                    "group and transactional id prefix)");
    if (!have_interval)
        t->commit_interval_ms = t->guarantee == RILL_EXACTLY_ONCE_V2 ? 100 : 30000;
    if (!t->state_dir && !(t->state_dir = strdup("/var/lib/rill")))
        return nomem(L, root->line, root->col);
    return RILL_OK;
}

/* ---- public -------------------------------------------------------------- */

rill_err_t rill_topology_load_buf(const char *name, const char *buf, size_t len,
                                  struct rill_topology **out, char *errstr, size_t errsz)
{
    struct loader L = { .name = name ? name : "<buffer>", .buf = buf, .len = len,
                        .errstr = errstr, .errsz = errsz };
    struct ynode *root = NULL;
    rill_err_t err;

    *out = NULL;
    if (errstr && errsz)
        errstr[0] = '\0';
    if (len > MAX_FILE)
        return lerr(&L, 1, 1, RILL_ERR_CONFIG, "file too large (%zu bytes, at most %d)", len,
                    MAX_FILE);
    const char *slash = strrchr(L.name, '/');
    if (slash) {
        L.dir = strndup(L.name, slash == L.name ? 1 : (size_t)(slash - L.name));
        if (!L.dir)
            return nomem(&L, 1, 1);
    }
    struct rill_topology *t = calloc(1, sizeof *t);
    if (!t) {
        free(L.dir);
        return nomem(&L, 1, 1);
    }
    t->num_stream_threads = 1;
    t->state_memory_bytes = 64 << 20;
    t->guarantee = RILL_EXACTLY_ONCE_V2;
    if (!(t->path = strdup(L.name)))
        err = nomem(&L, 1, 1);
    else if ((err = build_tree(&L, &root)) == RILL_OK)
        err = load_root(&L, t, root);
    ynode_free(root);
    free(L.dir);
    if (err) {
        rill_topology_free(t);
        return err;
    }
    *out = t;
    return RILL_OK;
}

rill_err_t rill_topology_load(const char *path, struct rill_topology **out, char *errstr,
                              size_t errsz)
{
    struct loader L = { .name = path, .errstr = errstr, .errsz = errsz };
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        const char *why = strerror(errno);
        return lerr(&L, 1, 1, RILL_ERR_IO, "cannot open topology file: %c%s",
                    tolower((unsigned char)why[0]), why + 1);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lerr(&L, 1, 1, RILL_ERR_IO, "cannot read topology file: not a regular file");
    }
    if (st.st_size > MAX_FILE) {
        close(fd);
        return lerr(&L, 1, 1, RILL_ERR_CONFIG, "file too large (%lld bytes, at most %d)",
                    (long long)st.st_size, MAX_FILE);
    }
    char *buf = malloc(MAX_FILE + 1);
    if (!buf) {
        close(fd);
        return nomem(&L, 1, 1);
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, MAX_FILE + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            const char *why = strerror(errno);
            free(buf);
            close(fd);
            return lerr(&L, 1, 1, RILL_ERR_IO, "cannot read topology file: %c%s",
                        tolower((unsigned char)why[0]), why + 1);
        }
        if (r == 0 || (len += (size_t)r) > MAX_FILE)
            break;
    }
    close(fd);
    rill_err_t err = rill_topology_load_buf(path, buf, len, out, errstr, errsz);
    free(buf);
    return err;
}

int rill_kvlist_set(struct rill_kvlist *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].key, key)) {
            char *v = strdup(value);
            if (!v)
                return -1;
            free(l->v[i].value);
            l->v[i].value = v;
            return 0;
        }
    struct rill_kv *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return -1;
    l->v = v;
    struct rill_kv *kv = &l->v[l->n];
    memset(kv, 0, sizeof *kv);
    kv->key = strdup(key);
    kv->value = strdup(value);
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return -1;
    }
    l->n++;
    return 0;
}

void rill_kvlist_clear(struct rill_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void strlist_free(struct rill_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

void rill_topology_free(struct rill_topology *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->application_id);
    free(t->state_dir);
    rill_kvlist_clear(&t->kafka);
    for (size_t i = 0; i < t->ntopics; i++) {
        free(t->topics[i].name);
        rill_kvlist_clear(&t->topics[i].configs);
    }
    free(t->topics);
    for (size_t i = 0; i < t->nstores; i++) {
        free(t->stores[i].name);
        free(t->stores[i].type);
    }
    free(t->stores);
    for (size_t i = 0; i < t->nprocs; i++) {
        struct rill_proc_conf *p = &t->procs[i];
        free(p->name);
        free(p->type);
        free(p->library);
        strlist_free(&p->inputs);
        strlist_free(&p->outputs);
        strlist_free(&p->stores);
        free(p->dlq);
        rill_kvlist_clear(&p->config);
        rill_kvlist_clear(&p->kafka);
    }
    free(t->procs);
    for (size_t i = 0; i < t->nsinks; i++) {
        struct rill_sink_conf *s = &t->sinks[i];
        free(s->name);
        free(s->type);
        strlist_free(&s->inputs);
        rill_kvlist_clear(&s->config);
        rill_kvlist_clear(&s->kafka);
    }
    free(t->sinks);
    for (size_t i = 0; i < t->nclients; i++) {
        struct rill_client_conf *c = &t->clients[i];
        free(c->name);
        free(c->user);
        strlist_free(&c->writes);
        strlist_free(&c->reads);
        free(c->group);
    }
    free(t->clients);
    free(t);
}

const struct rill_topic_conf *rill_topology_topic(const struct rill_topology *t, const char *name)
{
    for (size_t i = 0; t && name && i < t->ntopics; i++)
        if (!strcmp(t->topics[i].name, name))
            return &t->topics[i];
    return NULL;
}

const struct rill_proc_conf *rill_topology_proc(const struct rill_topology *t, const char *name)
{
    for (size_t i = 0; t && name && i < t->nprocs; i++)
        if (!strcmp(t->procs[i].name, name))
            return &t->procs[i];
    return NULL;
}

const char *rill_kvlist_get(const struct rill_kvlist *l, const char *key)
{
    for (size_t i = 0; l && key && i < l->n; i++)
        if (!strcmp(l->v[i].key, key))
            return l->v[i].value;
    return NULL;
}

rill_err_t rill_topology_changelog(const struct rill_topology *t, const char *store, char *buf,
                                   size_t size)
{
    int n = snprintf(buf, size, "%s-%s-changelog", t->application_id, store);
    return n >= 0 && (size_t)n < size ? RILL_OK : RILL_ERR_NOFIT;
}
