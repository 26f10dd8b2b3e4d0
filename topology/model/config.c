/*
 * config.c - loads a topology YAML file (DESIGN.md section 4) into a struct
 * rill_topology: libyaml's event parser builds a small bounded tree (ytree.c: no
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

#include "topology/model/loader_int.h"

/* ---- errors ------------------------------------------------------------- */

/* A note at line:col of a lenient load: held, and given to the caller's
 * callback in file order when the load ends (notes_flush()). A note that
 * cannot be held for want of memory is given at once. */
void rill_loader_note(struct loader *L, int line, int col, const char *text)
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

rill_err_t rill_loader_nomem(struct loader *L, int line, int col)
{
    return LERR(L, line, col, RILL_ERR_NOMEM, "out of memory");
}

/* The text of a scalar as written in the file: safe to quote in a message. */
const char *rill_loader_txt(const struct ynode *n)
{
    return n->raw ? n->raw : n->s;
}


/* ---- the schema walk -------------------------------------------------------- */

static rill_err_t want_kind(struct loader *L, const struct ynode *v, enum ykind kind,
                            const char *what, const char *where)
{
    if (v->kind == kind && (kind != Y_SCALAR || !v->null))
        return RILL_OK;
    static const char *const names[] = { "a value", "a list", "a map" };
    return LERR(L, v->line, v->col, RILL_ERR_CONFIG, "expected %s for %s%s, got %s", names[kind],
                what, where, rill_ynode_kind(v));
}

/* A non-empty string. */
static rill_err_t get_str(struct loader *L, const struct ynode *k, const struct ynode *v,
                          const char *where, char **out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", rill_loader_txt(k));
    rill_err_t err = want_kind(L, v, Y_SCALAR, what, where);
    if (err)
        return err;
    if (!*v->s)
        return LERR(L, v->line, v->col, RILL_ERR_CONFIG, "empty value for '%s'%s", rill_loader_txt(k),
                    where);
    free(*out);
    *out = strdup(v->s);
    return *out ? RILL_OK : rill_loader_nomem(L, v->line, v->col);
}


/* An integer in [min, max]; the message never quotes the value. */
static rill_err_t get_int(struct loader *L, const struct ynode *k, const struct ynode *v,
                          const char *where, int64_t min, int64_t max, int64_t *out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", rill_loader_txt(k));
    rill_err_t err = want_kind(L, v, Y_SCALAR, what, where);
    if (err)
        return err;
    if (rill_parse_int64(v->s, out) != RILL_OK || *out < min || *out > max)
        return LERR(L, v->line, v->col, RILL_ERR_CONFIG,
                    "expected an integer from %lld to %lld for '%s'%s", (long long)min,
                    (long long)max, rill_loader_txt(k), where);
    return RILL_OK;
}

static rill_err_t get_bool(struct loader *L, const struct ynode *k, const struct ynode *v,
                           const char *where, int *out)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", rill_loader_txt(k));
    rill_err_t err = want_kind(L, v, Y_SCALAR, what, where);
    if (err)
        return err;
    if (!strcmp(v->s, "true"))
        *out = 1;
    else if (!strcmp(v->s, "false"))
        *out = 0;
    else
        return LERR(L, v->line, v->col, RILL_ERR_CONFIG, "expected true or false for '%s'%s",
                    rill_loader_txt(k), where);
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
    snprintf(what, sizeof what, "'%s'", rill_loader_txt(k));
    rill_err_t err = want_kind(L, v, Y_SEQ, what, where);
    if (err)
        return err;
    if (!v->n)
        return RILL_OK;
    out->v = calloc(v->n, sizeof *out->v);
    if (!out->v)
        return rill_loader_nomem(L, v->line, v->col);
    for (size_t i = 0; i < v->n; i++) {
        const struct ynode *it = v->kids[i];
        if (it->kind != Y_SCALAR || it->null || !*it->s)
            return LERR(L, it->line, it->col, RILL_ERR_CONFIG,
                        "expected a name in '%s'%s, got %s", rill_loader_txt(k), where,
                        it->kind == Y_SCALAR && !it->null ? "an empty string" : rill_ynode_kind(it));
        out->v[i] = strdup(it->s);
        if (!out->v[i])
            return rill_loader_nomem(L, it->line, it->col);
        out->n++;
    }
    return RILL_OK;
}

/* Adds k: v to l (room for cap entries); a non-NULL prefix makes the key
 * "prefix.k" (an entry of a nested map). */
static rill_err_t kv_add(struct loader *L, struct rill_kvlist *l, size_t cap,
                         const struct ynode *k, const struct ynode *v, const struct ynode *prefix)
{
    if (!l->v) {
        l->v = calloc(cap, sizeof *l->v);
        if (!l->v)
            return rill_loader_nomem(L, k->line, k->col);
    }
    struct rill_kv *kv = &l->v[l->n];
    if (prefix) {
        size_t n = strlen(prefix->s) + 1 + strlen(k->s) + 1;
        kv->key = malloc(n);
        if (kv->key)
            snprintf(kv->key, n, "%s.%s", prefix->s, k->s);
    } else {
        kv->key = strdup(k->s);
    }
    kv->value = strdup(v->s);
    kv->line = k->line;
    kv->col = k->col;
    kv->unresolved = k->unresolved || v->unresolved || (prefix && prefix->unresolved);
    l->n++;
    if (!kv->key || !kv->value)
        return rill_loader_nomem(L, k->line, k->col);
    return RILL_OK;
}

/* A scalar value for a pass-through key: present (may be the empty string). */
static rill_err_t want_value(struct loader *L, const struct ynode *k, const struct ynode *v,
                             const char *where)
{
    char what[160];
    snprintf(what, sizeof what, "'%s'", rill_loader_txt(k));
    return want_kind(L, v, Y_SCALAR, what, where);
}

/* A map of scalars, e.g. kafka: or config:; nothing (null) is empty. With
 * nested, one level of nesting is flattened with dotted keys, so
 * `window: {size.ms: 5}` is the entry `window.size.ms: 5` (config:'s grouped
 * keys); elsewhere a nested map is an error. */
static rill_err_t get_kvmap(struct loader *L, const struct ynode *k, const struct ynode *v,
                            const char *where, int nested_ok, struct rill_kvlist *out)
{
    if (v->kind == Y_SCALAR && v->null)
        return RILL_OK;
    char what[160];
    snprintf(what, sizeof what, "'%s'", rill_loader_txt(k));
    rill_err_t err = want_kind(L, v, Y_MAP, what, where);
    if (err)
        return err;
    size_t cap = 0;
    for (size_t i = 0; i < v->n; i += 2)
        cap += nested_ok && v->kids[i + 1]->kind == Y_MAP ? v->kids[i + 1]->n / 2 : 1;
    char inner[200];
    snprintf(inner, sizeof inner, " in '%s'%s", rill_loader_txt(k), where);
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *ik = v->kids[i], *iv = v->kids[i + 1];
        if (!nested_ok || iv->kind != Y_MAP) {
            if ((err = want_value(L, ik, iv, inner)) != RILL_OK ||
                (err = kv_add(L, out, cap, ik, iv, NULL)) != RILL_OK)
                return err;
            continue;
        }
        char nested[200];
        snprintf(nested, sizeof nested, " in '%s.%s'%s", rill_loader_txt(k), rill_loader_txt(ik),
                 where);
        for (size_t j = 0; j < iv->n; j += 2)
            if ((err = want_value(L, iv->kids[j], iv->kids[j + 1], nested)) != RILL_OK ||
                (err = kv_add(L, out, cap, iv->kids[j], iv->kids[j + 1], ik)) != RILL_OK)
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
    snprintf(what, sizeof what, "'%s'", rill_loader_txt(k));
    rill_err_t err = want_kind(L, v, Y_MAP, what, "");
    if (err)
        return err;
    for (size_t i = 0; i < v->n; i += 2) {
        const struct ynode *val = v->kids[i + 1];
        if (val->kind == Y_MAP || (allow_null && val->kind == Y_SCALAR && val->null))
            continue;
        return LERR(L, val->line, val->col, RILL_ERR_CONFIG, "expected a map for %s '%s', got %s",
                    entry, rill_loader_txt(v->kids[i]), rill_ynode_kind(val));
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
            return rill_loader_nomem(L, at->line, at->col);
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
                noun ? noun : "", noun ? " " : "", row->name, rill_loader_txt(v), W->where, values);
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
        return get_kvmap(L, k, v, W->where, !strcmp(row->name, "config"),
                         field(W->base, row));
    case RILL_KEY_SECTION:
        return load_section(L, t, row, k, v);
    case RILL_KEY_OTHER:
        if ((err = want_value(L, k, v, W->where)) != RILL_OK)
            return err;
        return kv_add(L, field(W->base, row), m_pairs, k, v, NULL);
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
                "unknown key '%s'%s (expected one of: %s)", rill_loader_txt(key), where, list);
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
                  rill_loader_txt(k), W->where);
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
        return rill_loader_nomem(L, v->line, v->col);
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
            return rill_loader_nomem(L, name->line, name->col);
        if ((err = set_defaults(L, row->sub, e, name)) != RILL_OK)
            return err;
        char where[200];
        snprintf(where, sizeof where, " in %s '%s'", sd->noun, rill_loader_txt(name));
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
                    "expected a map at the top level, got %s", rill_ynode_kind(root));
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
            return rill_loader_nomem(&L, 1, 1);
    }
    struct rill_topology *t = calloc(1, sizeof *t);
    if (!t) {
        free(L.dir);
        return rill_loader_nomem(&L, 1, 1);
    }
    if (!(t->path = strdup(L.name)))
        err = rill_loader_nomem(&L, 1, 1);
    else if ((err = rill_loader_tree(&L, &root)) == RILL_OK &&
             (err = load_root(&L, t, root)) == RILL_OK)
        err = rill_topology_expand_rekeys(t, errstr, errsz);
    rill_ynode_free(root);
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
        return rill_loader_nomem(&L, 1, 1);
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
