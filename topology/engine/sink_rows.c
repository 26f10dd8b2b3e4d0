/*
 * sink_rows.c - a sink batch's memory and rows: the arena everything of one
 * batch lives in (freed at once when the batch ends), the column sets sinks
 * fill (processors/sink.h: rows, dedupe, append, project), the value
 * spellings, the array literals that carry a column as one parameter, and
 * queueing statements and dead-letter rows (and their log lines, written
 * once the transaction commits). Nothing is sent from here: sink_pg.c sends
 * what is queued.
 */
#include "topology/engine/sink_int.h"
#include "topology/base/log.h"
#include "topology/base/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Arena chunks are at least this big (a bigger request gets its own). */
#define SINK_CHUNK_SIZE (256u * 1024)

struct sink_chunk {
    struct sink_chunk *next;
    size_t used, size;
    _Alignas(max_align_t) unsigned char data[];
};

struct rill_sink_cols {
    rill_sink_tx_t *tx;
    int ncols;
    size_t nrows, cap;      /* rows */
    const char **vals;      /* nrows * ncols, row-major */
};

void sink_tx_init(rill_sink_tx_t *tx, const char *group, const char *sink)
{
    memset(tx, 0, sizeof *tx);
    tx->group = group;
    tx->sink = sink;
}

void sink_tx_reset(rill_sink_tx_t *tx)
{
    for (struct sink_chunk *c = tx->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    tx->chunks = NULL;
    tx->arena_bytes = 0;
    tx->nstmts = 0;
    tx->oom = 0;
}

void sink_tx_free(rill_sink_tx_t *tx)
{
    sink_tx_reset(tx);
    free(tx->stmts);
    tx->stmts = NULL;
    tx->cap = 0;
    sink_rejects_clear(tx);
    free(tx->rejects);
    tx->rejects = NULL;
    tx->rejects_cap = 0;
}

void sink_rejects_truncate(rill_sink_tx_t *tx, size_t n)
{
    while (tx->nrejects > n)
        free(tx->rejects[--tx->nrejects]);
}

void sink_rejects_clear(rill_sink_tx_t *tx)
{
    sink_rejects_truncate(tx, 0);
}

size_t sink_rejects_commit(rill_sink_tx_t *tx)
{
    size_t n = tx->nrejects;
    for (size_t i = 0; i < n; i++)
        rill_log(RILL_LOG_WARN, "sink", "record to the dead-letter table|%s", tx->rejects[i]);
    sink_rejects_clear(tx);
    return n;
}

void sink_rec_trace_id(const struct rill_sink_rec *rec, char *out)
{
    const void *v = NULL;
    size_t len = 0;
    rd_kafka_headers_t *h;
    if (rec->origin && !rd_kafka_message_headers(rec->origin, &h))
        rd_kafka_header_get_last(h, RILL_TRACEPARENT, &v, &len);
    struct rill_trace t;
    rill_trace_of(v, len, rec->topic, rec->partition, rec->offset, rec->timestamp, &t);
    rill_trace_id_hex(t.trace_id, out);
}

/* Queues the log line of rec's dead letter, for when the transaction
 * commits. RILL_ERR_NOMEM when it cannot. */
static rill_err_t reject_note(rill_sink_tx_t *tx, const struct rill_sink_rec *rec,
                              const char *reason)
{
    char id[RILL_TRACE_ID_HEX + 1];
    sink_rec_trace_id(rec, id);
    if (tx->nrejects == tx->rejects_cap) {
        size_t cap = tx->rejects_cap ? tx->rejects_cap * 2 : 8;
        char **v = realloc(tx->rejects, cap * sizeof *v);
        if (!v)
            return RILL_ERR_NOMEM;
        tx->rejects = v;
        tx->rejects_cap = cap;
    }
    char *line = NULL, why[640];
    if (asprintf(&line, "sink=%s topic=%s partition=%d offset=%lld reason=\"%s\" trace_id=%s",
                 tx->sink, rec->topic, (int)rec->partition, (long long)rec->offset,
                 rill_log_value(reason, why, sizeof why), id) < 0)
        return RILL_ERR_NOMEM;
    tx->rejects[tx->nrejects++] = line;
    return RILL_OK;
}

void *rill_sink_tx_alloc(rill_sink_tx_t *tx, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct sink_chunk *c = tx->chunks;
    if (!c || c->size - c->used < size) {
        size_t want = size > SINK_CHUNK_SIZE ? size : SINK_CHUNK_SIZE;
        c = malloc(sizeof *c + want);
        if (!c) {
            tx->oom = 1;
            return NULL;
        }
        c->size = want;
        c->used = 0;
        c->next = tx->chunks;
        tx->chunks = c;
        tx->arena_bytes += want;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *sink_tx_strdup(rill_sink_tx_t *tx, const char *s, size_t len)
{
    char *p = rill_sink_tx_alloc(tx, len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* ---- columns ------------------------------------------------------------------- */

rill_sink_cols_t *rill_sink_cols_new(rill_sink_tx_t *tx, int ncols)
{
    if (ncols < 1 || ncols > RILL_SINK_MAX_COLS)
        return NULL;
    rill_sink_cols_t *c = rill_sink_tx_alloc(tx, sizeof *c);
    if (c) {
        c->tx = tx;
        c->ncols = ncols;
    }
    return c;
}

static rill_err_t cols_grow(rill_sink_cols_t *c)
{
    if (c->nrows < c->cap)
        return RILL_OK;
    size_t cap = c->cap ? c->cap * 2 : 64;
    const char **v = rill_sink_tx_alloc(c->tx, cap * (size_t)c->ncols * sizeof *v);
    if (!v)
        return RILL_ERR_NOMEM;
    if (c->nrows)
        memcpy(v, c->vals, c->nrows * (size_t)c->ncols * sizeof *v);
    c->vals = v;
    c->cap = cap;
    return RILL_OK;
}

rill_err_t rill_sink_row(rill_sink_cols_t *c, const char *const *vals)
{
    if (cols_grow(c) != RILL_OK)
        return RILL_ERR_NOMEM;
    const char **row = c->vals + c->nrows * (size_t)c->ncols;
    for (int i = 0; i < c->ncols; i++) {
        row[i] = NULL;
        if (vals[i] && !(row[i] = sink_tx_strdup(c->tx, vals[i], strlen(vals[i]))))
            return RILL_ERR_NOMEM;
    }
    c->nrows++;
    return RILL_OK;
}

size_t rill_sink_cols_rows(const rill_sink_cols_t *c)
{
    return c->nrows;
}

rill_err_t rill_sink_cols_append(rill_sink_cols_t *dst, const rill_sink_cols_t *src)
{
    if (dst->ncols != src->ncols)
        return RILL_ERR_INVALID;
    for (size_t r = 0; r < src->nrows; r++) {
        if (cols_grow(dst) != RILL_OK)
            return RILL_ERR_NOMEM;
        /* the values are in the same arena: the pointers are shared */
        memcpy(dst->vals + dst->nrows * (size_t)dst->ncols, src->vals + r * (size_t)src->ncols,
               (size_t)src->ncols * sizeof *dst->vals);
        dst->nrows++;
    }
    return RILL_OK;
}

rill_err_t rill_sink_cols_project(rill_sink_cols_t *dst, const rill_sink_cols_t *src, int col)
{
    if (dst->ncols != 1 || col < 0 || col >= src->ncols)
        return RILL_ERR_INVALID;
    for (size_t r = 0; r < src->nrows; r++) {
        if (cols_grow(dst) != RILL_OK)
            return RILL_ERR_NOMEM;
        dst->vals[dst->nrows++] = src->vals[r * (size_t)src->ncols + (size_t)col];
    }
    return RILL_OK;
}

/* Sorting rows by key, the appending order breaking ties. */
struct row_ref {
    const char **row;
    size_t seq;
};

static int cmp_val(const char *a, const char *b)
{
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    return strcmp(a, b);
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
    const struct row_ref *a = pa, *b = pb;
    int nkey = *(const int *)arg;
    for (int i = 0; i < nkey; i++) {
        int c = cmp_val(a->row[i], b->row[i]);
        if (c)
            return c;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void rill_sink_cols_dedupe(rill_sink_cols_t *c, int nkey)
{
    if (c->nrows < 2)
        return;
    if (nkey < 1)
        nkey = 1;
    if (nkey > c->ncols)
        nkey = c->ncols;
    struct row_ref *refs = malloc(c->nrows * sizeof *refs);
    const char **out = rill_sink_tx_alloc(c->tx, c->nrows * (size_t)c->ncols * sizeof *out);
    if (!refs || !out) {
        /* without memory the rows stay as they are; the statement may then
         * refuse a key twice, and the batch is retried */
        free(refs);
        c->tx->oom = 1;
        return;
    }
    for (size_t r = 0; r < c->nrows; r++)
        refs[r] = (struct row_ref){ c->vals + r * (size_t)c->ncols, r };
    qsort_r(refs, c->nrows, sizeof *refs, cmp_rows, &nkey);
    size_t n = 0;
    for (size_t r = 0; r < c->nrows; r++) {
        /* the last row of a run of equal keys wins */
        if (r + 1 < c->nrows) {
            int same = 1;
            for (int i = 0; i < nkey && same; i++)
                same = !cmp_val(refs[r].row[i], refs[r + 1].row[i]);
            if (same)
                continue;
        }
        memcpy(out + n * (size_t)c->ncols, refs[r].row, (size_t)c->ncols * sizeof *out);
        n++;
    }
    free(refs);
    c->vals = out;
    c->nrows = n;
    c->cap = c->nrows;
}

/* ---- value spellings -------------------------------------------------------------- */

const char *rill_sink_fmt_int(char *buf, int64_t v)
{
    snprintf(buf, RILL_SINK_FMT_SIZE, "%" PRId64, v);
    return buf;
}

const char *rill_sink_fmt_e4(char *buf, int64_t v)
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(buf, RILL_SINK_FMT_SIZE, "%s%" PRIu64 ".%04" PRIu64, v < 0 ? "-" : "", m / 10000,
             m % 10000);
    return buf;
}

const char *rill_sink_fmt_ms(char *buf, int64_t ms)
{
    int64_t s = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, RILL_SINK_FMT_SIZE, "invalid");
        return buf;
    }
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    /* years past 9999 do not fit; PostgreSQL refuses what is cut */
    snprintf(buf, RILL_SINK_FMT_SIZE, "%.*s", RILL_SINK_FMT_SIZE - 1, tmp);
    return buf;
}

/* ---- statements ---------------------------------------------------------------------- */

char *sink_array_literal(rill_sink_tx_t *tx, const char *const *values, size_t n)
{
    size_t len = 3; /* { } NUL */
    for (size_t i = 0; i < n; i++) {
        len += 1; /* the comma */
        if (!values[i]) {
            len += 4;
            continue;
        }
        len += 2;
        for (const char *p = values[i]; *p; p++)
            len += (*p == '"' || *p == '\\') ? 2 : 1;
    }
    char *out = rill_sink_tx_alloc(tx, len), *o = out;
    if (!out)
        return NULL;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ',';
        if (!values[i]) {
            memcpy(o, "NULL", 4);
            o += 4;
            continue;
        }
        *o++ = '"';
        for (const char *p = values[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                *o++ = '\\';
            *o++ = *p;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

rill_err_t sink_tx_queue(rill_sink_tx_t *tx, const char *sql, int n, const char *const *values,
                         const int *lengths, const int *formats, rill_sink_row_fn fn,
                         void *opaque)
{
    if (tx->nstmts == tx->cap) {
        size_t cap = tx->cap ? tx->cap * 2 : 16;
        struct sink_stmt *v = realloc(tx->stmts, cap * sizeof *v);
        if (!v) {
            tx->oom = 1;
            return RILL_ERR_NOMEM;
        }
        tx->stmts = v;
        tx->cap = cap;
    }
    struct sink_stmt *s = &tx->stmts[tx->nstmts];
    *s = (struct sink_stmt){ .sql = sql, .nparams = n, .fn = fn, .opaque = opaque };
    if (n) {
        s->values = rill_sink_tx_alloc(tx, (size_t)n * sizeof *s->values);
        if (!s->values)
            return RILL_ERR_NOMEM;
        memcpy(s->values, values, (size_t)n * sizeof *s->values);
        if (lengths) {
            if (!(s->lengths = rill_sink_tx_alloc(tx, (size_t)n * sizeof *s->lengths)) ||
                !(s->formats = rill_sink_tx_alloc(tx, (size_t)n * sizeof *s->formats)))
                return RILL_ERR_NOMEM;
            memcpy(s->lengths, lengths, (size_t)n * sizeof *s->lengths);
            memcpy(s->formats, formats, (size_t)n * sizeof *s->formats);
        }
    }
    tx->nstmts++;
    return RILL_OK;
}

/* Column col of c as an array literal. */
static char *column_literal(const rill_sink_cols_t *c, int col)
{
    const char **v = malloc((c->nrows ? c->nrows : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t r = 0; r < c->nrows; r++)
        v[r] = c->vals[r * (size_t)c->ncols + (size_t)col];
    char *lit = sink_array_literal(c->tx, v, c->nrows);
    free(v);
    return lit;
}

rill_err_t rill_sink_query(rill_sink_tx_t *tx, const char *sql, const rill_sink_cols_t *c,
                           rill_sink_row_fn fn, void *opaque)
{
    if (!c || c->tx != tx)
        return RILL_ERR_INVALID;
    if (!c->nrows)
        return RILL_OK;
    const char *params[RILL_SINK_MAX_COLS];
    for (int i = 0; i < c->ncols; i++)
        if (!(params[i] = column_literal(c, i)))
            return RILL_ERR_NOMEM;
    return sink_tx_queue(tx, sql, c->ncols, params, NULL, NULL, fn, opaque);
}

rill_err_t rill_sink_exec(rill_sink_tx_t *tx, const char *sql, const rill_sink_cols_t *c)
{
    return rill_sink_query(tx, sql, c, NULL, NULL);
}

rill_err_t rill_sink_exec_sets(rill_sink_tx_t *tx, const char *sql,
                               const rill_sink_cols_t *const *sets, int nsets)
{
    const char *params[RILL_SINK_MAX_COLS];
    int n = 0;
    if (nsets < 1 || !sets[0] || sets[0]->tx != tx)
        return RILL_ERR_INVALID;
    if (!sets[0]->nrows)
        return RILL_OK;
    for (int k = 0; k < nsets; k++) {
        if (!sets[k] || sets[k]->tx != tx || n + sets[k]->ncols > RILL_SINK_MAX_COLS)
            return RILL_ERR_INVALID;
        for (int i = 0; i < sets[k]->ncols; i++)
            if (!(params[n++] = column_literal(sets[k], i)))
                return RILL_ERR_NOMEM;
    }
    return sink_tx_queue(tx, sql, n, params, NULL, NULL, NULL, NULL);
}

static const char SQL_DEAD_LETTER[] =
    "INSERT INTO rill_dead_letters (group_id, topic, partition, kafka_offset, sink, reason, "
    "key, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (group_id, topic, partition, kafka_offset) DO NOTHING";

rill_err_t rill_sink_reject(rill_sink_tx_t *tx, const struct rill_sink_rec *rec,
                            const char *reason)
{
    char part[RILL_SINK_FMT_SIZE], off[RILL_SINK_FMT_SIZE];
    const char *v[8] = { tx->group, rec->topic, rill_sink_fmt_int(part, rec->partition),
                         rill_sink_fmt_int(off, rec->offset), tx->sink,
                         reason && *reason ? reason : "refused", rec->key, rec->value };
    int len[8] = { 0, 0, 0, 0, 0, 0, (int)rec->key_len, (int)rec->value_len };
    int fmt[8] = { 0, 0, 0, 0, 0, 0, 1, 1 };
    /* copies: the statement outlives the caller's strings */
    for (int i = 0; i < 6; i++)
        if (!(v[i] = sink_tx_strdup(tx, v[i], strlen(v[i]))))
            return RILL_ERR_NOMEM;
    rill_err_t err = sink_tx_queue(tx, SQL_DEAD_LETTER, 8, v, len, fmt, NULL, NULL);
    return err == RILL_OK ? reject_note(tx, rec, v[5]) : err;
}
