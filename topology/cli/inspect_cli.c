/*
 * inspect_cli.c - the shared parts of `rill inspect` (inspect_cli.h): common
 * options and the connection, the topology's topics, the text table, and a
 * record as JSON or as table cells.
 */
#include "topology/cli/inspect_cli.h"
#include "topology/cli/cli.h"
#include "processors/registry.h"
#include "topology/admin/apply.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char rill_icli_common_help[] =
    "  -c, --topology FILE  connect with the kafka: settings of the topology FILE\n"
    "  -F FILE              librdkafka properties file (user, password, TLS), after FILE's\n"
    "  -X key=value         one librdkafka setting (repeatable), after -F\n"
    "  -b, --brokers LIST   bootstrap.servers, after everything else\n"
    "  --json               machine-readable output\n";

int rill_icli_init(struct rill_icli *ic, const char *cmd, int argc)
{
    memset(ic, 0, sizeof *ic);
    ic->cmd = cmd;
    if (rill_kprops_args_init(&ic->ka, argc) != RILL_OK) {
        fprintf(stderr, "rill inspect %s: out of memory\n", cmd);
        return -1;
    }
    return 0;
}

int rill_icli_option(struct rill_icli *ic, int opt, const char *arg)
{
    switch (opt) {
    case 'c': ic->file = arg; return 1;
    case 'F':
    case 'X': rill_kprops_args_add(&ic->ka, opt, arg); return 1;
    case 'b': ic->brokers = arg; return 1;
    case 'j': ic->json = 1; return 1;
    default: return 0;
    }
}

void rill_icli_error(const struct rill_icli *ic, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "rill inspect %s: ", ic->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int rill_icli_connect(struct rill_icli *ic, int committed)
{
    char err[RILL_ERRSTR_SIZE];
    if (ic->file &&
        (rill_topology_load(ic->file, &ic->t, err, sizeof err) != RILL_OK ||
         rill_topology_check(ic->t, rill_proc_builtins, rill_sink_builtins, err, sizeof err) !=
             RILL_OK ||
         rill_cli_serde_subjects(ic->t, err, sizeof err))) {
        rill_icli_error(ic, "%s", err);
        return -1;
    }
    struct rill_kvlist props = { 0 };
    rill_err_t e = rill_kprops_collect(ic->t ? &ic->t->kafka : NULL, ic->ka.files, ic->ka.nfiles,
                                       ic->ka.sets, ic->ka.nsets, &props, err, sizeof err);
    if (!e && ic->brokers && rill_kvlist_set(&props, "bootstrap.servers", ic->brokers))
        e = rill_errf(err, sizeof err, RILL_ERR_NOMEM, "out of memory");
    if (!e && !rill_kvlist_get(&props, "bootstrap.servers"))
        e = rill_errf(err, sizeof err, RILL_ERR_CONFIG,
                      "no bootstrap.servers: give a topology (-c FILE), -F FILE, -X or -b");
    if (!e)
        e = rill_inspect_open(&props, committed, &ic->in, err, sizeof err);
    rill_kvlist_clear(&props);
    if (e) {
        rill_icli_error(ic, "%s", err);
        return -1;
    }
    return 0;
}

void rill_icli_done(struct rill_icli *ic)
{
    rill_inspect_close(ic->in);
    rill_topology_free(ic->t);
    rill_kprops_args_free(&ic->ka);
    ic->in = NULL;
    ic->t = NULL;
}

int rill_icli_topology_topics(struct rill_icli *ic, char ***names, const char ***roles,
                              size_t *n)
{
    static const char *const role_names[] = { "topic", "changelog", "dlq" };
    char err[RILL_ERRSTR_SIZE];
    struct rill_apply_want *w = NULL;
    *names = NULL;
    *roles = NULL;
    *n = 0;
    if (rill_apply_want(ic->t, &w, err, sizeof err) != RILL_OK) {
        rill_icli_error(ic, "%s", err);
        return -1;
    }
    *names = calloc(w->ntopics ? w->ntopics : 1, sizeof **names);
    *roles = calloc(w->ntopics ? w->ntopics : 1, sizeof **roles);
    int rc = *names && *roles ? 0 : -1;
    for (size_t i = 0; !rc && i < w->ntopics; i++) {
        int r = w->topics[i].role;
        (*roles)[i] = r >= 0 && r < 3 ? role_names[r] : "topic";
        if (!((*names)[i] = strdup(w->topics[i].name)))
            rc = -1;
        else
            (*n)++;
    }
    rill_apply_want_free(w);
    if (rc) {
        rill_icli_topics_free(*names, *roles, *n);
        *names = NULL;
        *roles = NULL;
        *n = 0;
        rill_icli_error(ic, "out of memory");
    }
    return rc;
}

void rill_icli_topics_free(char **names, const char **roles, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
    free(roles);
}

/* ---- the table --------------------------------------------------------------------- */

void rill_table_init(struct rill_table *t, size_t ncols, const char *const *head,
                     const char *align)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->head = head;
    t->align = align;
}

void rill_table_add(struct rill_table *t, const char *const *cells)
{
    if (t->oom)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof *c);
        if (!c) {
            t->oom = 1;
            return;
        }
        t->cells = c;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        row[i] = strdup(cells[i] ? cells[i] : "-");
        if (!row[i]) {
            while (i--)
                free(row[i]);
            t->oom = 1;
            return;
        }
    }
    t->nrows++;
}

static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80; /* count characters, not bytes */
    return w;
}

static void cell(FILE *out, const char *s, size_t w, int right, int last)
{
    size_t pad = w > width(s) ? w - width(s) : 0;
    if (right)
        fprintf(out, "%*s%s", (int)pad, "", s);
    else if (last)
        fputs(s, out);
    else
        fprintf(out, "%s%*s", s, (int)pad, "");
}

void rill_table_print(const struct rill_table *t, FILE *out)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof *w);
    if (!w)
        return;
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = t->no_head ? 0 : width(t->head[c]);
        for (size_t r = 0; r < t->nrows; r++)
            if (width(t->cells[r * t->ncols + c]) > w[c])
                w[c] = width(t->cells[r * t->ncols + c]);
    }
    for (size_t r = t->no_head ? 1 : 0; r <= t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->head[c];
            if (c)
                fputs("  ", out);
            cell(out, s, w[c], t->align[c] == 'r', c + 1 == t->ncols);
        }
        fputc('\n', out);
    }
    if (t->oom)
        fprintf(out, "(out of memory: rows are missing)\n");
    free(w);
}

void rill_table_free(struct rill_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* ---- records --------------------------------------------------------------------------- */

void rill_icli_time(int64_t ms, char *buf, size_t size)
{
    if (ms < 0) {
        snprintf(buf, size, "-");
        return;
    }
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[24];
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%03dZ", day, (int)(ms % 1000));
}

static const char *tstype_name(int t)
{
    return t == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? "create"
           : t == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "log_append"
                                                     : NULL;
}

/* Bytes as a JSON string when they are text, else as base64; *fmt says which. */
static void bytes_json(rill_jsonw_t *w, const void *p, size_t n, const char **fmt)
{
    if (!p) {
        *fmt = "null";
        rill_jsonw_null(w);
    } else if (rill_utf8_valid(p, n, 0)) {
        *fmt = "string";
        rill_jsonw_string(w, p, n);
    } else {
        *fmt = "base64";
        rill_jsonw_base64(w, p, n);
    }
}

rill_err_t rill_icli_record_json(rill_serde_t *s, const struct rill_icli_rec *r, rill_jsonw_t *w)
{
    char when[40];
    const char *fmt;
    rill_jsonw_object_begin(w);
    rill_jsonw_key(w, "topic");
    rill_jsonw_cstr(w, r->topic);
    rill_jsonw_key(w, "partition");
    rill_jsonw_int(w, r->partition);
    rill_jsonw_key(w, "offset");
    rill_jsonw_int(w, r->offset);
    rill_jsonw_key(w, "timestamp");
    if (r->timestamp >= 0)
        rill_jsonw_int(w, r->timestamp);
    else
        rill_jsonw_null(w);
    rill_jsonw_key(w, "timestamp_type");
    rill_jsonw_cstr(w, r->timestamp >= 0 ? tstype_name(r->tstype) : NULL);
    rill_jsonw_key(w, "time");
    rill_icli_time(r->timestamp, when, sizeof when);
    rill_jsonw_cstr(w, r->timestamp >= 0 ? when : NULL);
    rill_jsonw_key(w, "key");
    bytes_json(w, r->key, r->key_len, &fmt);
    rill_jsonw_key(w, "key_format");
    rill_jsonw_cstr(w, fmt);
    rill_jsonw_key(w, "headers");
    rill_jsonw_array_begin(w);
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct rill_icli_header *h = &r->headers[i];
        rill_jsonw_object_begin(w);
        rill_jsonw_key(w, "name");
        rill_jsonw_cstr(w, h->name);
        rill_jsonw_key(w, "value");
        bytes_json(w, h->value, h->len, &fmt);
        if (!strcmp(fmt, "base64")) {
            rill_jsonw_key(w, "value_format");
            rill_jsonw_cstr(w, fmt);
        }
        rill_jsonw_object_end(w);
    }
    rill_jsonw_array_end(w);
    struct rill_serde_shown shown;
    rill_jsonw_key(w, "value");
    rill_err_t err = rill_serde_show(s, r->value, r->value_len, w, &shown);
    rill_jsonw_key(w, "value_format");
    rill_jsonw_cstr(w, rill_serde_show_format_name(shown.format));
    if (shown.schema_id >= 0) {
        rill_jsonw_key(w, "schema_id");
        rill_jsonw_int(w, shown.schema_id);
    }
    if (shown.schema) {
        rill_jsonw_key(w, "schema");
        rill_jsonw_cstr(w, shown.schema);
    }
    if (shown.error[0]) {
        rill_jsonw_key(w, "value_error");
        rill_jsonw_cstr(w, shown.error);
    }
    rill_jsonw_object_end(w);
    return err || rill_jsonw_failed(w) ? RILL_ERR_NOMEM : RILL_OK;
}

/* The text between the quotes of a JSON string w holds, after prefix;
 * malloc'd, NULL when out of memory. */
static char *unquoted(rill_jsonw_t *w, const char *prefix)
{
    char *out = NULL;
    size_t pl = strlen(prefix);
    if (!rill_jsonw_failed(w) && w->p && w->len >= 2 && (out = malloc(pl + w->len - 1))) {
        memcpy(out, prefix, pl);
        memcpy(out + pl, w->p + 1, w->len - 2);
        out[pl + w->len - 2] = '\0';
    }
    rill_jsonw_free(w);
    return out;
}

char *rill_icli_display(const void *p, size_t n)
{
    if (!p)
        return strdup("-");
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    int text = rill_utf8_valid(p, n, 0);
    if (text)
        rill_jsonw_string(&w, p, n);
    else
        rill_jsonw_base64(&w, p, n);
    return unquoted(&w, text ? "" : "base64:");
}

/* "name=value; name=value" of the headers, each side shown as
 * rill_icli_display() shows bytes. */
static char *headers_cell(const struct rill_icli_rec *r)
{
    size_t len = 0;
    char *out = strdup(r->nheaders ? "" : "-");
    for (size_t i = 0; out && i < r->nheaders; i++) {
        char *name = rill_icli_display(r->headers[i].name, strlen(r->headers[i].name));
        char *value = rill_icli_display(r->headers[i].value, r->headers[i].len);
        size_t need = len + (name ? strlen(name) : 0) + (value ? strlen(value) : 0) + 4;
        char *grown = name && value ? realloc(out, need) : NULL;
        if (grown)
            len += (size_t)snprintf(grown + len, need - len, "%s%s=%s", i ? "; " : "", name, value);
        else
            free(out);
        out = grown;
        free(name);
        free(value);
    }
    return out;
}

rill_err_t rill_icli_record_cells(rill_serde_t *s, const struct rill_icli_rec *r, char *cells[6])
{
    char buf[40];
    snprintf(buf, sizeof buf, "%d", (int)r->partition);
    cells[0] = strdup(buf);
    snprintf(buf, sizeof buf, "%lld", (long long)r->offset);
    cells[1] = strdup(buf);
    rill_icli_time(r->timestamp, buf, sizeof buf);
    cells[2] = strdup(buf);
    cells[3] = rill_icli_display(r->key, r->key_len);
    cells[4] = headers_cell(r);
    struct rill_serde_shown shown;
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    cells[5] = NULL;
    if (rill_serde_show(s, r->value, r->value_len, &w, &shown) != RILL_OK) {
        rill_jsonw_free(&w);
    } else if (shown.format == RILL_SHOW_STRING || shown.format == RILL_SHOW_BASE64) {
        /* text unquoted and binary as base64:..., as keys and headers are */
        rill_jsonw_free(&w);
        char *v = rill_icli_display(r->value, r->value_len);
        size_t need = (v ? strlen(v) : 0) + strlen(shown.error) + 24;
        if (v && shown.error[0] && (cells[5] = malloc(need)))
            snprintf(cells[5], need, "%s (not decoded: %s)", v, shown.error);
        else if (v && !shown.error[0])
            cells[5] = v, v = NULL;
        free(v);
    } else {
        cells[5] = w.p; /* the writer's JSON, handed over */
    }
    for (int i = 0; i < 6; i++)
        if (!cells[i]) {
            for (int k = 0; k < 6; k++)
                free(cells[k]);
            memset(cells, 0, 6 * sizeof *cells);
            return RILL_ERR_NOMEM;
        }
    return RILL_OK;
}
