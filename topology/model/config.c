/*
 * config.c - loads a topology YAML file (DESIGN.md section 4) into a struct
 * rill_topology: libyaml's event parser builds a small bounded tree (no
 * aliases, at most MAX_DEPTH levels and MAX_NODES nodes, duplicate keys
 * refused, ${...} substituted in every scalar, keys included), then a
 * walk over the key table turns the tree into the plain structs of config.h, refusing
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

#include "topology/model/keys.h"

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

/* Bytes of an invalid ${...} name quoted in its error. */
#define VARNAME_QUOTE_MAX 64

#define MAX_FILE (1024 * 1024)          /* bytes of YAML */
#define MAX_DEPTH 32                    /* nested maps and lists */
#define MAX_NODES 10000                 /* scalars, maps and lists */
#define MAX_SECRET (64 * 1024)          /* bytes of one ${file:PATH} */
#define MAX_SCALAR (256 * 1024)         /* bytes of one scalar after substitution */
#define MAX_SUBST_TOTAL (4 * 1024 * 1024) /* bytes substituted in one file */
#define MAX_VARNAME 255                 /* characters of a ${VAR} name */

enum ykind { Y_SCALAR, Y_SEQ, Y_MAP };

/* One node of the parsed document. A map's kids alternate key, value. */
struct ynode {
    enum ykind kind;
    int line, col;
    char *s;        /* scalar: the text after substitution */
    char *raw;      /* scalar: the text as written when substitution changed it */
    int null;       /* scalar: a plain empty, ~ or null */
    int unresolved; /* scalar: a lenient load could not substitute it; s is the
                     * text as written, a placeholder */
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
    const struct rill_load_opts *opts; /* never NULL */
    struct lnote *notes;  /* held until the end of the load, then given in file order */
    size_t nnotes;
};

struct lnote {
    int line, col;
    size_t seq;           /* the order found, for equal positions */
    char *text;
};

/* ---- errors ------------------------------------------------------------- */

/* An error at line:col of the file: "file:line:col: message", through
 * rill_errf(). */
#define LERR(L, line, col, err, fmt, ...)                                                   \
    rill_errf((L)->errstr, (L)->errsz, err, "%s:%d:%d: " fmt, (L)->name, line, col,         \
              ##__VA_ARGS__)

/* A note at line:col of a lenient load: held, and given to the caller's
 * callback in file order when the load ends (notes_flush()). A note that
 * cannot be held for want of memory is given at once. */
static void note_add(struct loader *L, int line, int col, const char *text)
{
    if (!L->opts->note)
        return;
    struct lnote *v = realloc(L->notes, (L->nnotes + 1) * sizeof *v);
    char *copy = v ? strdup(text) : NULL;
    if (v)
        L->notes = v;
    if (!copy) {
        L->opts->note(L->opts->note_opaque, text);
        return;
    }
    L->notes[L->nnotes] = (struct lnote){ line, col, L->nnotes, copy };
    L->nnotes++;
}

#define LNOTE(L, line, col, fmt, ...)                                                       \
    do {                                                                                    \
        char note_[RILL_ERRSTR_SIZE];                                                       \
        rill_errf(note_, sizeof note_, RILL_OK, "%s:%d:%d: note: " fmt, (L)->name, line,     \
                  col, ##__VA_ARGS__);                                                      \
        note_add(L, line, col, note_);                                                      \
    } while (0)

static int note_cmp(const void *a, const void *b)
{
    const struct lnote *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void notes_flush(struct loader *L)
{
    if (L->nnotes)
        qsort(L->notes, L->nnotes, sizeof *L->notes, note_cmp);
    for (size_t i = 0; i < L->nnotes; i++) {
        L->opts->note(L->opts->note_opaque, L->notes[i].text);
        free(L->notes[i].text);
    }
    free(L->notes);
    L->notes = NULL;
    L->nnotes = 0;
}

static rill_err_t nomem(struct loader *L, int line, int col)
{
    return LERR(L, line, col, RILL_ERR_NOMEM, "out of memory");
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

/* A ${...} of n that cannot be resolved (why: the message): an error, or in
 * a lenient load a note, n marked unresolved and RILL_OK. */
static rill_err_t unresolvable(struct loader *L, struct ynode *n, const char *why)
{
    if (!L->opts->lenient_substitution)
        return LERR(L, n->line, n->col, RILL_ERR_CONFIG, "%s", why);
    LNOTE(L, n->line, n->col, "%s", why);
    n->unresolved = 1;
    return RILL_OK;
}

/* Substitutes ${...} in the scalar n in place; keeps the written text in
 * n->raw when anything changed. A lenient load leaves an unresolved scalar
 * as written (n->s and n->raw both the text of the file). */
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
            err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                       "unterminated '${' in '%s' (expected '}')", txt(n));
            goto out;
        }
        size_t blen = (size_t)(end - body);
        changed = 1;
        if (blen >= 5 && !strncmp(body, "file:", 5)) {
            size_t plen = blen - 5;
            if (!plen) {
                err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
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
                char msg[RILL_ERRSTR_SIZE];
                rill_errf(msg, sizeof msg, RILL_ERR_CONFIG,
                          "cannot read ${file:%.*s}: %c%s (looked for '%s')", (int)plen, body + 5,
                          tolower((unsigned char)why[0]), why + 1, path);
                free(path);
                if ((err = unresolvable(L, n, msg)) != RILL_OK)
                    goto out;
                i = (size_t)(end - s) + 1;
                continue;
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
                err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                           "invalid variable name '%.*s' in '${...}' (expected letters, digits "
                           "and '_', ${VAR}, ${VAR:-default} or ${file:PATH})",
                           (int)(nlen > VARNAME_QUOTE_MAX ? VARNAME_QUOTE_MAX : nlen), body);
                goto out;
            }
            char name[MAX_VARNAME + 1];
            if (nlen > MAX_VARNAME) {
                err = LERR(L, n->line, n->col, RILL_ERR_NOFIT,
                           "variable name '%.64s...' is too long (at most %d characters)", body,
                           MAX_VARNAME);
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
                char msg[RILL_ERRSTR_SIZE];
                rill_errf(msg, sizeof msg, RILL_ERR_CONFIG,
                          "undefined environment variable '%s' in ${%s} (set it, or write "
                          "${%s:-default})",
                          name, name, name);
                if ((err = unresolvable(L, n, msg)) != RILL_OK)
                    goto out;
                i = (size_t)(end - s) + 1;
                continue;
            }
            L->subst_total += vlen;
            if (L->subst_total <= MAX_SUBST_TOTAL && sbuf_add(&b, val, vlen) < 0)
                goto oom;
        }
        if (L->subst_total > MAX_SUBST_TOTAL || b.len > MAX_SCALAR) {
            err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                       "value too long after substitution (at most %d bytes per value, %d per "
                       "file)",
                       MAX_SCALAR, MAX_SUBST_TOTAL);
            goto out;
        }
        i = (size_t)(end - s) + 1;
    }
    if (n->unresolved) {
        char *placeholder = strdup(n->s);
        if (!placeholder)
            goto oom;
        n->raw = n->s;
        n->s = placeholder;
    } else if (changed) {
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
        return LERR(L, line, col, RILL_ERR_CONFIG, "invalid yaml: %s (%s at %d:%d)", problem,
                    p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return LERR(L, line, col, RILL_ERR_CONFIG, "invalid yaml: %s", problem);
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
            rill_err_t e = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                                "expected a key name, got %s", kindname(n));
            ynode_free(n);
            return e;
        }
        for (size_t i = 0; i < parent->n; i += 2)
            if (!strcmp(parent->kids[i]->s, n->s)) {
                rill_err_t e = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
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
                err = LERR(L, line, col, RILL_ERR_CONFIG,
                           "expected a single yaml document, found a second one");
            break;
        case YAML_ALIAS_EVENT:
            err = LERR(L, line, col, RILL_ERR_CONFIG,
                       "aliases are not supported (found '*%s'; write the value out)",
                       (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++L->nodes > MAX_NODES) {
                err = LERR(L, line, col, RILL_ERR_CONFIG,
                           "too many yaml nodes (at most %d)", MAX_NODES);
                break;
            }
            if (ev.type != YAML_SCALAR_EVENT && depth == MAX_DEPTH) {
                err = LERR(L, line, col, RILL_ERR_CONFIG,
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
                    err = LERR(L, line, col, RILL_ERR_CONFIG, "nul character in a scalar");
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

static rill_err_t want_kind(struct loader *L, const struct ynode *v, enum ykind kind,
                            const char *what, const char *where)
{
    if (v->kind == kind && (kind != Y_SCALAR || !v->null))
        return RILL_OK;
    static const char *const names[] = { "a value", "a list", "a map" };
    return LERR(L, v->line, v->col, RILL_ERR_CONFIG, "expected %s for %s%s, got %s", names[kind],
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
        return LERR(L, v->line, v->col, RILL_ERR_CONFIG, "empty value for '%s'%s", txt(k),
                    where);
    free(*out);
    *out = strdup(v->s);
    return *out ? RILL_OK : nomem(L, v->line, v->col);
}

rill_err_t rill_parse_int64(const char *s, int64_t *out)
{
    if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
        return RILL_ERR_INVALID;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return RILL_ERR_INVALID;
    *out = v;
    return RILL_OK;
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
    if (rill_parse_int64(v->s, out) != RILL_OK || *out < min || *out > max)
        return LERR(L, v->line, v->col, RILL_ERR_CONFIG,
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
        return LERR(L, v->line, v->col, RILL_ERR_CONFIG, "expected true or false for '%s'%s",
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
            return LERR(L, it->line, it->col, RILL_ERR_CONFIG,
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
    kv->unresolved = k->unresolved || v->unresolved;
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
        return LERR(L, val->line, val->col, RILL_ERR_CONFIG, "expected a map for %s '%s', got %s",
                    entry, txt(v->kids[i]), kindname(val));
    }
    return RILL_OK;
}

/* ---- the walk over the key table (keys.h) ------------------------------------ */

static void *field(void *base, const struct rill_key_def *row)
{
    return (char *)base + row->offset;
}

static void store_int(void *base, const struct rill_key_def *row, int64_t v)
{
    if (row->size == sizeof(int16_t)) {
        int16_t x = (int16_t)v;
        memcpy(field(base, row), &x, sizeof x);
    } else if (row->size == sizeof(int32_t)) {
        int32_t x = (int32_t)v;
        memcpy(field(base, row), &x, sizeof x);
    } else {
        memcpy(field(base, row), &v, sizeof v);
    }
}

static int enum_index(const struct rill_key_def *row, const char *s)
{
    for (int i = 0; row->values && row->values[i]; i++)
        if (!strcmp(row->values[i], s))
            return i;
    return -1;
}

/* Stores the YAML text s (a default of the table, so known to parse) into
 * row's field. */
static rill_err_t store_text(struct loader *L, void *base, const struct rill_key_def *row,
                             const char *s, const struct ynode *at)
{
    int64_t n = -1;
    switch (row->type) {
    case RILL_KEY_STRING:
    case RILL_KEY_NAME: {
        char **p = field(base, row);
        free(*p);
        if (!(*p = strdup(s)))
            return nomem(L, at->line, at->col);
        return RILL_OK;
    }
    case RILL_KEY_INT:
        if (s && rill_parse_int64(s, &n) != RILL_OK)
            n = -1;
        store_int(base, row, n);
        return RILL_OK;
    case RILL_KEY_BOOL: {
        int b = s && !strcmp(s, "true");
        memcpy(field(base, row), &b, sizeof b);
        return RILL_OK;
    }
    case RILL_KEY_ENUM: {
        int i = s ? enum_index(row, s) : 0;
        memcpy(field(base, row), &i, sizeof i);
        return RILL_OK;
    }
    default:
        return RILL_OK;
    }
}

/* Every default of scope into base: a row's def, or what no value means. */
static rill_err_t set_defaults(struct loader *L, rill_scope_t scope, void *base,
                               const struct ynode *at)
{
    for (const struct rill_key_def *row = rill_keys; row->name; row++) {
        if (row->scope != scope)
            continue;
        int scalar = row->type == RILL_KEY_INT || row->type == RILL_KEY_BOOL ||
                     row->type == RILL_KEY_ENUM;
        if (row->def || scalar) {
            rill_err_t err = store_text(L, base, row, row->def, at);
            if (err)
                return err;
        }
    }
    return RILL_OK;
}

/* The allowed values of row as "a, b or c" into buf. */
static void values_text(const struct rill_key_def *row, char *buf, size_t size)
{
    size_t off = 0, n = 0;
    buf[0] = '\0';
    while (row->values[n])
        n++;
    for (size_t i = 0; i < n; i++) {
        int r = snprintf(buf + off, size - off, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                         row->values[i]);
        if (r < 0 || (size_t)r >= size - off)
            return;
        off += (size_t)r;
    }
}

static rill_err_t load_section(struct loader *L, struct rill_topology *t,
                               const struct rill_key_def *row, const struct ynode *k,
                               const struct ynode *v);

struct walk {
    rill_scope_t scope;
    void *base;               /* the struct the scope's rows land in */
    const char *where;        /* "" or " in topic 'x'" */
    const char *unknown_where; /* for an unknown key: " at the top level" */
    const struct ynode *at;   /* where a missing key is reported */
    uint64_t given;           /* bit i: the scope's i-th row was given (i < RILL_SCOPE_KEYS_MAX) */
    uint64_t skipped;         /* bit i: given, but not resolved (a lenient load): not checked */
};

/* "unknown store type 'redis' in store 'stock' (expected rocksdb or memory)". */
static rill_err_t unknown_value(struct loader *L, const struct walk *W,
                                const struct rill_key_def *row, const struct ynode *v)
{
    const char *noun = rill_scopes[W->scope].noun;
    char values[256];
    values_text(row, values, sizeof values);
    return LERR(L, v->line, v->col, RILL_ERR_CONFIG, "unknown %s%s%s '%s'%s (expected %s)",
                noun ? noun : "", noun ? " " : "", row->name, txt(v), W->where, values);
}

/* One key of a walked map: its row's type decides the value's shape. */
static rill_err_t load_key(struct loader *L, struct rill_topology *t, struct walk *W,
                           const struct rill_key_def *row, size_t m_pairs,
                           const struct ynode *k, const struct ynode *v)
{
    rill_err_t err;
    int64_t n;
    switch (row->type) {
    case RILL_KEY_STRING:
        return get_str(L, k, v, W->where, field(W->base, row));
    case RILL_KEY_NAME:
        if ((err = get_str(L, k, v, W->where, field(W->base, row))) != RILL_OK)
            return err;
        return enum_index(row, v->s) >= 0 ? RILL_OK : unknown_value(L, W, row, v);
    case RILL_KEY_ENUM: {
        if ((err = want_value(L, k, v, W->where)) != RILL_OK)
            return err;
        int i = enum_index(row, v->s);
        if (i < 0)
            return unknown_value(L, W, row, v);
        memcpy(field(W->base, row), &i, sizeof i);
        return RILL_OK;
    }
    case RILL_KEY_INT:
        if ((err = get_int(L, k, v, W->where, row->min, row->max, &n)) == RILL_OK)
            store_int(W->base, row, n);
        return err;
    case RILL_KEY_BOOL:
        return get_bool(L, k, v, W->where, field(W->base, row));
    case RILL_KEY_LIST:
        return get_list(L, k, v, W->where, field(W->base, row));
    case RILL_KEY_MAP:
        return get_kvmap(L, k, v, W->where, field(W->base, row));
    case RILL_KEY_SECTION:
        return load_section(L, t, row, k, v);
    case RILL_KEY_OTHER:
        if ((err = want_value(L, k, v, W->where)) != RILL_OK)
            return err;
        return kv_add(L, field(W->base, row), m_pairs, k, v);
    }
    return RILL_OK;
}

/* Writes "unknown key 'k'<where> (expected one of: a, b, c)", the known keys
 * of scope from the table. */
static rill_err_t unknown_key(struct loader *L, const struct ynode *key, const char *where,
                              rill_scope_t scope)
{
    char list[512];
    size_t off = 0;
    list[0] = '\0';
    for (const struct rill_key_def *row = rill_keys; row->name; row++) {
        if (row->scope != scope || row->type == RILL_KEY_OTHER)
            continue;
        int r = snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", row->name);
        if (r < 0 || (size_t)r >= sizeof list - off)
            break;
        off += (size_t)r;
    }
    return LERR(L, key->line, key->col, RILL_ERR_CONFIG,
                "unknown key '%s'%s (expected one of: %s)", txt(key), where, list);
}

/* Walks the map m (may be NULL: an entry given as nothing) against the rows
 * of W->scope, then checks required keys and applies the defaults that depend
 * on other keys. */
static rill_err_t walk_map(struct loader *L, struct rill_topology *t, struct walk *W,
                           const struct ynode *m)
{
    rill_err_t err;
    for (size_t j = 0; m && j < m->n; j += 2) {
        const struct ynode *k = m->kids[j], *v = m->kids[j + 1];
        const struct rill_key_def *row = NULL, *other = NULL;
        size_t idx = 0, i = 0;
        for (const struct rill_key_def *r = rill_keys; r->name; r++) {
            if (r->scope != W->scope)
                continue;
            if (r->type == RILL_KEY_OTHER)
                other = r;
            else if (!strcmp(r->name, k->s)) {
                row = r;
                idx = i;
            }
            i++;
        }
        if (!row && !other && k->unresolved) {
            LNOTE(L, k->line, k->col, "key '%s'%s is not checked: its name is not resolved",
                  txt(k), W->where);
            continue;
        }
        if (!row && !other)
            return unknown_key(L, k, W->unknown_where, W->scope);
        /* An unresolved value is a placeholder: the text as written. It
         * passes as a string; any other type is not checked. */
        if (row && v->kind == Y_SCALAR && v->unresolved && row->type != RILL_KEY_STRING) {
            LNOTE(L, v->line, v->col, "'%s'%s is not checked: its value is not resolved",
                  row->name, W->where);
            W->given |= (uint64_t)1 << idx;
            W->skipped |= (uint64_t)1 << idx;
            continue;
        }
        if ((err = load_key(L, t, W, row ? row : other, m->n / 2, k, v)) != RILL_OK)
            return err;
        if (row)
            W->given |= (uint64_t)1 << idx;
    }
    size_t i = 0;
    for (const struct rill_key_def *row = rill_keys; row->name; row++) {
        if (row->scope != W->scope)
            continue;
        int given = (W->given >> i) & 1, skipped = (W->skipped >> i) & 1;
        i++;
        if ((row->flags & RILL_KEY_REQUIRED) && !given)
            return LERR(L, W->at->line, W->at->col, RILL_ERR_CONFIG,
                        "missing key '%s'%s (expected %s)", row->name, W->where, row->doc);
        if ((row->flags & RILL_KEY_NONEMPTY) && row->type == RILL_KEY_LIST && !skipped) {
            const struct rill_strlist *l = field(W->base, row);
            if (!l->n)
                return LERR(L, l->line, l->col, RILL_ERR_CONFIG,
                            "expected at least one %s in '%s'%s", row->item, row->name,
                            W->where);
        }
    }
    i = 0;
    for (const struct rill_key_def *row = rill_keys; row->name; row++) {
        if (row->scope != W->scope)
            continue;
        if (((W->given >> i++) & 1) || !row->when_key)
            continue;
        const struct rill_key_def *dep = rill_key_find(W->scope, row->when_key);
        int idx;
        memcpy(&idx, field(W->base, dep), sizeof idx);
        if (!strcmp(dep->values[idx], row->when_value) &&
            (err = store_text(L, W->base, row, row->when_def, W->at)) != RILL_OK)
            return err;
    }
    return RILL_OK;
}

/* A section (topics:, processors:, ...): a map of named entries of the row's
 * sub scope, each walked against that scope's rows. */
static rill_err_t load_section(struct loader *L, struct rill_topology *t,
                               const struct rill_key_def *row, const struct ynode *k,
                               const struct ynode *v)
{
    const struct rill_scope_def *sd = &rill_scopes[row->sub];
    rill_err_t err = want_section(L, k, v, sd->noun, sd->allow_null);
    if (err || !v->n)
        return err;
    char *array = calloc(v->n / 2, sd->size);
    if (!array)
        return nomem(L, v->line, v->col);
    memcpy((char *)t + sd->array_off, &array, sizeof array);
    size_t *count = (size_t *)(void *)((char *)t + sd->count_off);
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *name = v->kids[i], *m = v->kids[i + 1];
        char *e = array + (*count)++ * sd->size;
        memcpy(e + sd->line_off, &name->line, sizeof name->line);
        memcpy(e + sd->col_off, &name->col, sizeof name->col);
        if (!*name->s)
            return LERR(L, name->line, name->col, RILL_ERR_CONFIG, "empty %s name", sd->noun);
        char *s = strdup(name->s);
        memcpy(e + sd->name_off, &s, sizeof s);
        if (!s)
            return nomem(L, name->line, name->col);
        if ((err = set_defaults(L, row->sub, e, name)) != RILL_OK)
            return err;
        char where[200];
        snprintf(where, sizeof where, " in %s '%s'", sd->noun, txt(name));
        struct walk W = { .scope = row->sub, .base = e, .where = where, .unknown_where = where,
                          .at = name };
        if ((err = walk_map(L, t, &W, m->kind == Y_MAP ? m : NULL)) != RILL_OK)
            return err;
    }
    return RILL_OK;
}

static rill_err_t load_root(struct loader *L, struct rill_topology *t, const struct ynode *root)
{
    if (!root)
        return LERR(L, 1, 1, RILL_ERR_CONFIG,
                    "empty topology (expected a map with at least 'application.id')");
    if (root->kind != Y_MAP)
        return LERR(L, root->line, root->col, RILL_ERR_CONFIG,
                    "expected a map at the top level, got %s", kindname(root));
    rill_err_t err = set_defaults(L, RILL_SCOPE_TOP, t, root);
    if (err)
        return err;
    struct walk W = { .scope = RILL_SCOPE_TOP, .base = t, .where = "",
                      .unknown_where = " at the top level", .at = root };
    return walk_map(L, t, &W, root);
}

/* ---- public -------------------------------------------------------------- */

static const struct rill_load_opts strict_opts = { 0 };

rill_err_t rill_topology_load_buf_opts(const char *name, const char *buf, size_t len,
                                       const struct rill_load_opts *opts,
                                       struct rill_topology **out, char *errstr, size_t errsz)
{
    struct loader L = { .name = name ? name : "<buffer>", .buf = buf, .len = len,
                        .errstr = errstr, .errsz = errsz, .opts = opts ? opts : &strict_opts };
    struct ynode *root = NULL;
    rill_err_t err;

    *out = NULL;
    if (errstr && errsz)
        errstr[0] = '\0';
    if (len > MAX_FILE)
        return LERR(&L, 1, 1, RILL_ERR_CONFIG, "file too large (%zu bytes, at most %d)", len,
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
    if (!(t->path = strdup(L.name)))
        err = nomem(&L, 1, 1);
    else if ((err = build_tree(&L, &root)) == RILL_OK)
        err = load_root(&L, t, root);
    ynode_free(root);
    free(L.dir);
    notes_flush(&L);
    if (err) {
        rill_topology_free(t);
        return err;
    }
    *out = t;
    return RILL_OK;
}

rill_err_t rill_topology_load_buf(const char *name, const char *buf, size_t len,
                                  struct rill_topology **out, char *errstr, size_t errsz)
{
    return rill_topology_load_buf_opts(name, buf, len, NULL, out, errstr, errsz);
}

rill_err_t rill_topology_load(const char *path, struct rill_topology **out, char *errstr,
                              size_t errsz)
{
    return rill_topology_load_opts(path, NULL, out, errstr, errsz);
}

rill_err_t rill_topology_load_opts(const char *path, const struct rill_load_opts *opts,
                                   struct rill_topology **out, char *errstr, size_t errsz)
{
    struct loader L = { .name = path, .errstr = errstr, .errsz = errsz, .opts = &strict_opts };
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        const char *why = strerror(errno);
        return LERR(&L, 1, 1, RILL_ERR_IO, "cannot open topology file: %c%s",
                    tolower((unsigned char)why[0]), why + 1);
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return LERR(&L, 1, 1, RILL_ERR_IO, "cannot read topology file: not a regular file");
    }
    if (st.st_size > MAX_FILE) {
        close(fd);
        return LERR(&L, 1, 1, RILL_ERR_CONFIG, "file too large (%lld bytes, at most %d)",
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
            return LERR(&L, 1, 1, RILL_ERR_IO, "cannot read topology file: %c%s",
                        tolower((unsigned char)why[0]), why + 1);
        }
        if (r == 0 || (len += (size_t)r) > MAX_FILE)
            break;
    }
    close(fd);
    rill_err_t err = rill_topology_load_buf_opts(path, buf, len, opts, out, errstr, errsz);
    free(buf);
    return err;
}

rill_err_t rill_kvlist_set(struct rill_kvlist *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].key, key)) {
            char *v = strdup(value);
            if (!v)
                return RILL_ERR_NOMEM;
            free(l->v[i].value);
            l->v[i].value = v;
            return RILL_OK;
        }
    struct rill_kv *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return RILL_ERR_NOMEM;
    l->v = v;
    struct rill_kv *kv = &l->v[l->n];
    memset(kv, 0, sizeof *kv);
    kv->key = strdup(key);
    kv->value = strdup(value);
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return RILL_ERR_NOMEM;
    }
    l->n++;
    return RILL_OK;
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

const struct rill_store_conf *rill_topology_store(const struct rill_topology *t, const char *name)
{
    for (size_t i = 0; i < t->nstores; i++)
        if (!strcmp(t->stores[i].name, name))
            return &t->stores[i];
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
