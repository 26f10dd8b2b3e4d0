/*
 * check.c - the graph checks of a loaded topology (rill_topology_check()),
 * and the typed processor and sink configuration shared with the runtime
 * (rill_conf_fill() / rill_conf_release(), check.h). Works without a broker:
 * everything it knows comes from the YAML and the tables of processor and
 * sink defs its caller hands it (the model never looks a type up itself).
 *
 * The rules, checked in this order; the first broken one is reported with the
 * offending node's file:line:col:
 *  1. there is at least one processor or sink;
 *  2. processor and sink names are unique across both;
 *  3. a processor without `library:` has a `type:` of the processor table it
 *     is given (the built-ins, processors/registry.h);
 *     one with `library:` is external and its type and config are not checked;
 *  4. a built-in processor's `config:` keys exist in its def's table, values
 *     parse as the declared type (INT decimal int64, DOUBLE finite number,
 *     BOOL true/false, STR anything) and lie in the row's min..max (INT and
 *     DOUBLE), and required keys (STR, NULL default) are present; then the
 *     config fills (rill_conf_fill()), as the runtime will fill it, and the
 *     def's check (ABI V3), if any, accepts the filled config as a whole
 *     (reported at the key it blames);
 *  5. a sink's `type:` is one of the sink table it is given, and its
 *     `config:` passes rule 4 against that def's table (none: no keys);
 *  6. every processor output is declared under `topics:` (so its partition
 *     count and configs are known); no topic is listed twice in one list;
 *  7. every processor or sink input is declared under `topics:`; by rule 6
 *     that covers the outputs of processors, so an input is either an
 *     external topic declared under `topics:` or some processor's output;
 *  8. a processor's `dlq:` is not one of its own inputs or outputs;
 *  9. a store is granted to at most one processor (stores not declared under
 *     `stores:` are implicitly rocksdb with a changelog);
 * 10. a processor with several inputs has co-partitioned inputs: equal
 *     partition counts where the counts are declared (the runtime checks the
 *     broker's counts of the others);
 * 11. processors form no cycle through their topics, except through topics
 *     marked `feedback: true` (a deliberate way back upstream, such as the
 *     stock an order pipeline releases back to inventory);
 * 12. every topic a client (`clients:`) writes or reads is declared under
 *     `topics:`, and none is listed twice in one list.
 * Messages quote names and config keys, never config values nor a sink's dsn.
 */
#include "topology/model/check.h"

#include "processors/sink.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- typed configuration --------------------------------------------------- */

static const struct rill_conf_def *conf_find(const struct rill_conf_def *defs, const char *key)
{
    for (const struct rill_conf_def *d = defs; d && d->key; d++)
        if (!strcmp(d->key, key))
            return d;
    return NULL;
}

static const char *conf_type_name(rill_conf_type_t type)
{
    switch (type) {
    case RILL_CONF_STR:
        return "a string";
    case RILL_CONF_INT:
        return "an integer";
    case RILL_CONF_DOUBLE:
        return "a number";
    case RILL_CONF_BOOL:
        return "true or false";
    }
    return "a value";
}

/* A finite number, the whole of s. */
static rill_err_t parse_double(const char *s, double *out)
{
    if (!s[0] || isspace((unsigned char)s[0]))
        return RILL_ERR_INVALID;
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v))
        return RILL_ERR_INVALID;
    *out = v;
    return RILL_OK;
}

/* Parses s as d's type and, when out is not NULL, stores it into out at d's
 * offset (a STR is strdup'd, replacing what was there). Returns RILL_OK,
 * RILL_ERR_INVALID for a bad value or RILL_ERR_NOMEM. */
static rill_err_t conf_parse(const struct rill_conf_def *d, const char *s, void *out)
{
    char *field = out ? (char *)out + d->offset : NULL;
    switch (d->type) {
    case RILL_CONF_STR:
        if (field) {
            char *c = strdup(s);
            if (!c)
                return RILL_ERR_NOMEM;
            char *old;
            memcpy(&old, field, sizeof old);
            free(old);
            memcpy(field, &c, sizeof c);
        }
        return RILL_OK;
    case RILL_CONF_INT: {
        int64_t v64;
        if (rill_parse_int64(s, &v64) != RILL_OK)
            return RILL_ERR_INVALID;
        if (field)
            memcpy(field, &v64, sizeof v64);
        return RILL_OK;
    }
    case RILL_CONF_DOUBLE: {
        double v;
        if (parse_double(s, &v) != RILL_OK)
            return RILL_ERR_INVALID;
        if (field)
            memcpy(field, &v, sizeof v);
        return RILL_OK;
    }
    case RILL_CONF_BOOL: {
        int v;
        if (!strcmp(s, "true"))
            v = 1;
        else if (!strcmp(s, "false"))
            v = 0;
        else
            return RILL_ERR_INVALID;
        if (field)
            memcpy(field, &v, sizeof v);
        return RILL_OK;
    }
    }
    return RILL_ERR_INVALID;
}

/* Compares the INT or DOUBLE text a with the bound b (both parse as d's
 * type): <0, 0 or >0 into *cmp. RILL_ERR_INVALID when one does not parse. */
static rill_err_t conf_cmp(const struct rill_conf_def *d, const char *a, const char *b, int *cmp)
{
    if (d->type == RILL_CONF_INT) {
        int64_t x, y;
        if (rill_parse_int64(a, &x) != RILL_OK || rill_parse_int64(b, &y) != RILL_OK)
            return RILL_ERR_INVALID;
        *cmp = x < y ? -1 : x > y;
        return RILL_OK;
    }
    double x, y;
    if (parse_double(a, &x) != RILL_OK || parse_double(b, &y) != RILL_OK)
        return RILL_ERR_INVALID;
    *cmp = x < y ? -1 : x > y;
    return RILL_OK;
}

/* Why the value s of d is out of d's range (INT and DOUBLE only), into buf:
 * -1 when s is out of range, -2 when a bound of the table does not parse as
 * d's type; 0 when s is in range. */
static int conf_range_problem(const struct rill_conf_def *d, const char *s, char *buf,
                              size_t size)
{
    if (d->type != RILL_CONF_INT && d->type != RILL_CONF_DOUBLE)
        return 0;
    const char *bound[2] = { d->min, d->max };
    for (int i = 0; i < 2; i++) {
        int cmp;
        if (!bound[i])
            continue;
        if (conf_cmp(d, s, bound[i], &cmp) != RILL_OK) {
            snprintf(buf, size, "the %s of config key '%s' is not %s", i ? "maximum" : "minimum",
                     d->key, conf_type_name(d->type));
            return -2;
        }
        if (i ? cmp > 0 : cmp < 0) {
            int r = snprintf(buf, size, "config key '%s' is %s its %s %s", d->key,
                             i ? "above" : "below", i ? "maximum" : "minimum", bound[i]);
            if (d->min && d->max && r >= 0 && (size_t)r < size)
                snprintf(buf + r, size - (size_t)r, " (expects %s from %s to %s)",
                         conf_type_name(d->type), d->min, d->max);
            return -1;
        }
    }
    return 0;
}

/* "field, equals, negate" into buf. */
static void conf_keys(const struct rill_conf_def *defs, char *buf, size_t size)
{
    size_t off = 0;
    buf[0] = '\0';
    for (const struct rill_conf_def *d = defs; d && d->key; d++) {
        int r = snprintf(buf + off, size - off, "%s%s", off ? ", " : "", d->key);
        if (r < 0 || (size_t)r >= size - off)
            return;
        off += (size_t)r;
    }
}

/* A config entry of a lenient load that the checker does not check: its key
 * or value is not resolved, and it is not a known STR key (whose placeholder
 * value passes). */
static int conf_skipped(const struct rill_conf_def *defs, const struct rill_kv *kv)
{
    const struct rill_conf_def *d = conf_find(defs, kv->key);
    return kv->unresolved && (!d || d->type != RILL_CONF_STR);
}

/* Why kv does not fit defs, for both the checker and rill_conf_fill(): the
 * message (without position) goes to buf and *at to the offending kv, or NULL
 * when the problem is a missing key. Returns 0 when everything fits. The
 * checker passes lenient (entries conf_skipped() are not checked); the filler
 * does not (such an entry is an error: there is no value to fill). */
static int conf_problem(const struct rill_conf_def *defs, const struct rill_kvlist *kv,
                        int lenient, const struct rill_kv **at, char *buf, size_t size)
{
    *at = NULL;
    for (size_t i = 0; kv && i < kv->n; i++) {
        const struct rill_conf_def *d = conf_find(defs, kv->v[i].key);
        *at = &kv->v[i];
        if (conf_skipped(defs, &kv->v[i])) {
            if (lenient)
                continue;
            snprintf(buf, size, "config key '%s' is not resolved", kv->v[i].key);
            return -1;
        }
        if (!defs || !defs->key) {
            snprintf(buf, size, "unknown config key '%s' (this type takes no config)",
                     kv->v[i].key);
            return -1;
        }
        if (!d) {
            char keys[512];
            conf_keys(defs, keys, sizeof keys);
            snprintf(buf, size, "unknown config key '%s' (expected one of: %s)", kv->v[i].key,
                     keys);
            return -1;
        }
        if (conf_parse(d, kv->v[i].value, NULL) != RILL_OK) {
            snprintf(buf, size, "config key '%s' expects %s", d->key, conf_type_name(d->type));
            return -1;
        }
        if (conf_range_problem(d, kv->v[i].value, buf, size) < 0)
            return -1;
    }
    *at = NULL;
    for (const struct rill_conf_def *d = defs; d && d->key; d++)
        if (d->type == RILL_CONF_STR && !d->def && !rill_kvlist_get(kv, d->key)) {
            snprintf(buf, size, "missing required config key '%s' (%s)", d->key,
                     d->doc ? d->doc : "no description");
            return -1;
        }
    return 0;
}

void rill_conf_release(const struct rill_conf_def *defs, void *out)
{
    if (!out)
        return;
    for (const struct rill_conf_def *d = defs; d && d->key; d++)
        if (d->type == RILL_CONF_STR) {
            char *p, *null = NULL;
            memcpy(&p, (char *)out + d->offset, sizeof p);
            free(p);
            memcpy((char *)out + d->offset, &null, sizeof null);
        }
}

rill_err_t rill_conf_fill(const struct rill_conf_def *defs, const struct rill_kvlist *kv,
                          void *out, char *errstr, size_t errsz)
{
    char msg[RILL_ERRSTR_SIZE];
    const struct rill_kv *at;
    if (errstr && errsz)
        errstr[0] = '\0';
    for (const struct rill_conf_def *d = defs; d && d->key; d++)
        if (d->type == RILL_CONF_STR) {
            char *null = NULL;
            memcpy((char *)out + d->offset, &null, sizeof null);
        }
    if (conf_problem(defs, kv, 0, &at, msg, sizeof msg) < 0)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s", msg);
    for (const struct rill_conf_def *d = defs; d && d->key; d++) {
        const char *def = d->def;
        if (!def && d->type != RILL_CONF_STR)
            def = d->type == RILL_CONF_BOOL ? "false" : "0";
        if (!def)
            continue;
        rill_err_t r = conf_parse(d, def, out);
        int range = r == RILL_OK ? conf_range_problem(d, def, msg, sizeof msg) : 0;
        if (range)
            r = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s%s", range == -1 ? "default of " : "",
                          msg);
        else if (r == RILL_ERR_INVALID)
            r = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "default of config key '%s' is not %s",
                          d->key, conf_type_name(d->type));
        else if (r == RILL_ERR_NOMEM)
            rill_errf(errstr, errsz, r, "out of memory");
        if (r != RILL_OK) {
            rill_conf_release(defs, out);
            return r;
        }
    }
    for (size_t i = 0; kv && i < kv->n; i++)
        if (conf_parse(conf_find(defs, kv->v[i].key), kv->v[i].value, out) != RILL_OK) {
            /* Only allocation can fail here: conf_problem() parsed them all. */
            rill_conf_release(defs, out);
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
    return RILL_OK;
}

/* ---- the graph -------------------------------------------------------------- */

struct checker {
    const struct rill_topology *t;
    const struct rill_processor_def *const *procs; /* NULL-terminated; may be NULL */
    const struct rill_sink_def *const *sinks;      /* NULL-terminated; may be NULL */
    const struct rill_load_opts *opts;             /* for notes; may be NULL */
    char *errstr;
    size_t errsz;
    int *color;          /* cycle search: 0 new, 1 on the path, 2 done */
    size_t *path;
    size_t pathlen;
};

/* A graph error at line:col: "file:line:col: message", through rill_errf(). */
#define CERR(C, line, col, fmt, ...)                                                        \
    rill_errf((C)->errstr, (C)->errsz, RILL_ERR_CONFIG, "%s:%d:%d: " fmt,                  \
              (C)->t->path ? (C)->t->path : "<topology>", line, col, ##__VA_ARGS__)

static int list_has(const struct rill_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return 1;
    return 0;
}

static rill_err_t check_names(struct checker *C)
{
    const struct rill_topology *t = C->t;
    for (size_t i = 0; i < t->nprocs; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->procs[i].name, t->procs[j].name))
                return CERR(C, t->procs[i].line, t->procs[i].col,
                            "duplicate name '%s': processor at %d:%d has it too",
                            t->procs[i].name, t->procs[j].line, t->procs[j].col);
    for (size_t i = 0; i < t->nsinks; i++) {
        for (size_t j = 0; j < t->nprocs; j++)
            if (!strcmp(t->sinks[i].name, t->procs[j].name))
                return CERR(C, t->sinks[i].line, t->sinks[i].col,
                            "duplicate name '%s': processor at %d:%d has it too",
                            t->sinks[i].name, t->procs[j].line, t->procs[j].col);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(t->sinks[i].name, t->sinks[j].name))
                return CERR(C, t->sinks[i].line, t->sinks[i].col,
                            "duplicate name '%s': sink at %d:%d has it too", t->sinks[i].name,
                            t->sinks[j].line, t->sinks[j].col);
    }
    return RILL_OK;
}

/* Appends ", name" (or name, first) to the list in buf of size, at *off;
 * a name that does not fit ends the list. */
static void add_name(char *buf, size_t size, size_t *off, const char *name)
{
    if (*off >= size)
        return;
    int r = snprintf(buf + *off, size - *off, "%s%s", *off ? ", " : "", name);
    *off = r < 0 || (size_t)r >= size - *off ? size : *off + (size_t)r;
}

/* The `config:` of processor or sink (kind) name, of type type, against its
 * def's table defs (NULL: it takes no config): a note for each entry a
 * lenient load left unresolved (not checked), then the first problem at its
 * key's file:line:col (or at line:col, the entry's, for a missing key); and
 * when every entry could be checked, a fill of a scratch struct of conf_size
 * bytes with rill_conf_fill() (and rill_conf_release()), so that what passes
 * here fills for the runtime too (a default outside its own range is a
 * table bug found here, not at start). */
static rill_err_t check_conf(struct checker *C, const struct rill_conf_def *defs,
                             size_t conf_size, const struct rill_kvlist *config, const char *kind,
                             const char *name, const char *type, int line, int col,
                             rill_err_t (*whole)(const void *, const char **, char *, size_t))
{
    char msg[RILL_ERRSTR_SIZE];
    const struct rill_kv *at;
    int skipped = 0;
    for (size_t i = 0; i < config->n; i++) {
        const struct rill_kv *kv = &config->v[i];
        if (!conf_skipped(defs, kv))
            continue;
        skipped = 1;
        if (!C->opts || !C->opts->note)
            continue;
        char note[RILL_ERRSTR_SIZE];
        rill_errf(note, sizeof note, RILL_OK,
                  "%s:%d:%d: note: config key '%s' in %s '%s' of type '%s' is not checked: "
                  "it is not resolved",
                  C->t->path ? C->t->path : "<topology>", kv->line, kv->col, kv->key, kind, name,
                  type);
        C->opts->note(C->opts->note_opaque, note);
    }
    if (conf_problem(defs, config, 1, &at, msg, sizeof msg) < 0)
        return CERR(C, at ? at->line : line, at ? at->col : col, "%s in %s '%s' of type '%s'",
                    msg, kind, name, type);
    if (skipped || !conf_size)
        return RILL_OK;
    void *scratch = calloc(1, conf_size);
    if (!scratch)
        return rill_errf(C->errstr, C->errsz, RILL_ERR_NOMEM, "%s:%d:%d: out of memory",
                         C->t->path ? C->t->path : "<topology>", line, col);
    rill_err_t err = rill_conf_fill(defs, config, scratch, msg, sizeof msg);
    const char *blame = NULL;
    if (err == RILL_OK && whole && whole(scratch, &blame, msg, sizeof msg) != RILL_OK) {
        err = RILL_ERR_CONFIG;
        for (size_t i = 0; blame && i < config->n; i++)
            if (!strcmp(config->v[i].key, blame)) {
                line = config->v[i].line;
                col = config->v[i].col;
            }
    }
    rill_conf_release(defs, scratch);
    free(scratch);
    if (err == RILL_ERR_NOMEM)
        return rill_errf(C->errstr, C->errsz, err, "%s:%d:%d: out of memory",
                         C->t->path ? C->t->path : "<topology>", line, col);
    if (err)
        return CERR(C, line, col, "%s in %s '%s' of type '%s'", msg, kind, name, type);
    return RILL_OK;
}

static rill_err_t check_type(struct checker *C, const struct rill_proc_conf *p)
{
    if (p->library)
        return RILL_OK;
    const struct rill_processor_def *def = NULL;
    for (size_t i = 0; C->procs && C->procs[i] && !def; i++)
        if (!strcmp(C->procs[i]->name, p->type))
            def = C->procs[i];
    if (!def) {
        char types[512] = "";
        size_t off = 0;
        for (size_t i = 0; C->procs && C->procs[i]; i++)
            add_name(types, sizeof types, &off, C->procs[i]->name);
        return CERR(C, p->line, p->col,
                    "unknown processor type '%s' in processor '%s' (expected a built-in type: "
                    "%s; or set 'library' for an external one)",
                    p->type, p->name, types);
    }
    return check_conf(C, def->conf, def->conf_size, &p->config, "processor", p->name, p->type,
                      p->line, p->col, def->check);
}

static rill_err_t check_sink_type(struct checker *C, const struct rill_sink_conf *s)
{
    const struct rill_sink_def *def = NULL;
    for (size_t i = 0; C->sinks && C->sinks[i] && !def; i++)
        if (!strcmp(C->sinks[i]->name, s->type))
            def = C->sinks[i];
    if (!def) {
        char types[512] = "";
        size_t off = 0;
        for (size_t i = 0; C->sinks && C->sinks[i]; i++)
            add_name(types, sizeof types, &off, C->sinks[i]->name);
        if (!off)
            return CERR(C, s->line, s->col,
                        "unknown sink type '%s' in sink '%s' (no sink types are known)",
                        s->type, s->name);
        return CERR(C, s->line, s->col,
                    "unknown sink type '%s' in sink '%s' (expected one of: %s)", s->type,
                    s->name, types);
    }
    return check_conf(C, def->conf, def->conf_size, &s->config, "sink", s->name, s->type,
                      s->line, s->col, NULL);
}

static rill_err_t check_unique(struct checker *C, const struct rill_strlist *l, const char *what,
                               const char *kind, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(l->v[i], l->v[j]))
                return CERR(C, l->line, l->col, "'%s' is listed twice in '%s' of %s '%s'",
                            l->v[i], what, kind, name);
    return RILL_OK;
}

static rill_err_t check_inputs(struct checker *C, const struct rill_strlist *in,
                               const char *kind, const char *name)
{
    rill_err_t err = check_unique(C, in, "inputs", kind, name);
    if (err)
        return err;
    for (size_t i = 0; i < in->n; i++)
        if (!rill_topology_topic(C->t, in->v[i]))
            return CERR(C, in->line, in->col,
                        "input '%s' of %s '%s' is neither declared under topics: nor "
                        "produced by a processor",
                        in->v[i], kind, name);
    return RILL_OK;
}

static rill_err_t check_copartition(struct checker *C, const struct rill_proc_conf *p)
{
    const struct rill_topic_conf *first = NULL;
    for (size_t i = 0; i < p->inputs.n; i++) {
        const struct rill_topic_conf *tc = rill_topology_topic(C->t, p->inputs.v[i]);
        if (!tc || tc->partitions < 0)
            continue;
        if (!first)
            first = tc;
        else if (tc->partitions != first->partitions)
            return CERR(C, p->inputs.line, p->inputs.col,
                        "inputs of processor '%s' are not co-partitioned: '%s' has %d "
                        "partitions, '%s' has %d (a processor with several inputs needs "
                        "equal partition counts)",
                        p->name, first->name, (int)first->partitions, tc->name,
                        (int)tc->partitions);
    }
    return RILL_OK;
}

static rill_err_t check_client(struct checker *C, const struct rill_client_conf *c)
{
    const struct rill_strlist *lists[2] = { &c->writes, &c->reads };
    static const char *const what[2] = { "writes", "reads" };
    for (int l = 0; l < 2; l++) {
        rill_err_t err = check_unique(C, lists[l], what[l], "client", c->name);
        if (err)
            return err;
        for (size_t i = 0; i < lists[l]->n; i++)
            if (!rill_topology_topic(C->t, lists[l]->v[i]))
                return CERR(C, lists[l]->line, lists[l]->col,
                            "topic '%s' in '%s' of client '%s' is not declared under topics:",
                            lists[l]->v[i], what[l], c->name);
    }
    return RILL_OK;
}

/* Processor b reads a topic that processor a writes, other than a topic
 * marked `feedback: true` (a deliberate way back upstream). */
static int feeds(const struct rill_topology *t, const struct rill_proc_conf *a,
                 const struct rill_proc_conf *b)
{
    for (size_t i = 0; i < a->outputs.n; i++) {
        const struct rill_topic_conf *tc = rill_topology_topic(t, a->outputs.v[i]);
        if (list_has(&b->inputs, a->outputs.v[i]) && !(tc && tc->feedback))
            return 1;
    }
    return 0;
}

/* Depth-first search from processor i; on a cycle, returns the index where
 * it starts in C->path, else -1. Recursion depth is bounded by the number of
 * processors, which the loader bounds. */
static long cycle_from(struct checker *C, size_t i)
{
    const struct rill_topology *t = C->t;
    C->color[i] = 1;
    C->path[C->pathlen++] = i;
    for (size_t j = 0; j < t->nprocs; j++) {
        if (C->color[j] == 2 || !feeds(t, &t->procs[i], &t->procs[j]))
            continue;
        if (C->color[j] == 1) {
            for (size_t k = 0; k < C->pathlen; k++)
                if (C->path[k] == j)
                    return (long)k;
        }
        long r = cycle_from(C, j);
        if (r >= 0)
            return r;
    }
    C->color[i] = 2;
    C->pathlen--;
    return -1;
}

static rill_err_t check_cycles(struct checker *C)
{
    const struct rill_topology *t = C->t;
    if (!t->nprocs)
        return RILL_OK;
    C->color = calloc(t->nprocs, sizeof *C->color);
    C->path = calloc(t->nprocs, sizeof *C->path);
    if (!C->color || !C->path)
        return rill_errf(C->errstr, C->errsz, RILL_ERR_NOMEM, "%s:1:1: out of memory",
                         t->path ? t->path : "<topology>");
    for (size_t i = 0; i < t->nprocs; i++) {
        if (C->color[i])
            continue;
        C->pathlen = 0;
        long start = cycle_from(C, i);
        if (start < 0)
            continue;
        char chain[512];
        size_t off = 0;
        chain[0] = '\0';
        for (size_t k = (size_t)start; k <= C->pathlen; k++) {
            size_t idx = k < C->pathlen ? C->path[k] : C->path[start];
            int r = snprintf(chain + off, sizeof chain - off, "%s%s", off ? " -> " : "",
                             t->procs[idx].name);
            if (r < 0 || (size_t)r >= sizeof chain - off)
                break;
            off += (size_t)r;
        }
        const struct rill_proc_conf *p = &t->procs[C->path[start]];
        return CERR(C, p->line, p->col, "cycle among processors: %s", chain);
    }
    return RILL_OK;
}

rill_err_t rill_topology_check(const struct rill_topology *t,
                               const struct rill_processor_def *const *procs,
                               const struct rill_sink_def *const *sinks, char *errstr,
                               size_t errsz)
{
    return rill_topology_check_opts(t, procs, sinks, NULL, errstr, errsz);
}

rill_err_t rill_topology_check_opts(const struct rill_topology *t,
                                    const struct rill_processor_def *const *procs,
                                    const struct rill_sink_def *const *sinks,
                                    const struct rill_load_opts *opts, char *errstr,
                                    size_t errsz)
{
    struct checker C = { .t = t, .procs = procs, .sinks = sinks, .opts = opts,
                         .errstr = errstr, .errsz = errsz };
    rill_err_t err;
    if (errstr && errsz)
        errstr[0] = '\0';
    if (!t)
        return RILL_ERR_INVALID;
    if (!t->nprocs && !t->nsinks)
        return CERR(&C, 1, 1, "nothing to run: no processors and no sinks");
    if (t->memory_bytes >= 0 && t->memory_bytes < t->state_memory_bytes + RILL_CLIENT_MEMORY_MIN)
        return CERR(&C, 1, 1, "memory.bytes (%lld) must leave at least %d MiB beyond "
                    "state.memory.bytes (%lld) for the Kafka clients' queues",
                    (long long)t->memory_bytes,
                    RILL_CLIENT_MEMORY_MIN >> 20, (long long)t->state_memory_bytes);
    if ((err = check_names(&C)) != RILL_OK)
        return err;
    for (size_t i = 0; i < t->nprocs; i++)
        if ((err = check_type(&C, &t->procs[i])) != RILL_OK)
            return err;
    for (size_t i = 0; i < t->nsinks; i++)
        if ((err = check_sink_type(&C, &t->sinks[i])) != RILL_OK)
            return err;
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct rill_proc_conf *p = &t->procs[i];
        if ((err = check_unique(&C, &p->outputs, "outputs", "processor", p->name)) != RILL_OK ||
            (err = check_unique(&C, &p->stores, "stores", "processor", p->name)) != RILL_OK)
            return err;
        for (size_t j = 0; j < p->outputs.n; j++)
            if (!rill_topology_topic(t, p->outputs.v[j]))
                return CERR(&C, p->outputs.line, p->outputs.col,
                            "output '%s' of processor '%s' is not declared under topics: "
                            "(outputs must be declared so their partitions are known)",
                            p->outputs.v[j], p->name);
    }
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct rill_proc_conf *p = &t->procs[i];
        if ((err = check_inputs(&C, &p->inputs, "processor", p->name)) != RILL_OK)
            return err;
        if (p->dlq && (list_has(&p->inputs, p->dlq) || list_has(&p->outputs, p->dlq)))
            return CERR(&C, p->line, p->col,
                        "dlq '%s' of processor '%s' is also one of its inputs or outputs",
                        p->dlq, p->name);
    }
    for (size_t i = 0; i < t->nsinks; i++)
        if ((err = check_inputs(&C, &t->sinks[i].inputs, "sink", t->sinks[i].name)) != RILL_OK)
            return err;
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct rill_proc_conf *p = &t->procs[i];
        for (size_t s = 0; s < p->stores.n; s++)
            for (size_t j = 0; j < i; j++)
                if (list_has(&t->procs[j].stores, p->stores.v[s]))
                    return CERR(&C, p->stores.line, p->stores.col,
                                "store '%s' is granted to processor '%s' and to processor '%s' "
                                "(a store belongs to one processor)",
                                p->stores.v[s], t->procs[j].name, p->name);
    }
    for (size_t i = 0; i < t->nprocs; i++)
        if ((err = check_copartition(&C, &t->procs[i])) != RILL_OK)
            return err;
    err = check_cycles(&C);
    free(C.color);
    free(C.path);
    for (size_t i = 0; !err && i < t->nclients; i++)
        err = check_client(&C, &t->clients[i]);
    return err;
}
