/*
 * test_window.c - the windowed aggregations (processors/window/) through the
 * in-process test driver: tumbling, hopping and session windows, on_update
 * and on_close, late records inside and outside grace, against a reference
 * the test computes by brute force from the records it accepted (every
 * window's aggregate recomputed from scratch, sessions as the runs of
 * records no more than the gap apart). After every record the outputs of
 * that record are compared with the reference's, so an on_close result that
 * comes early, late or twice fails; the store must hold only open windows,
 * and every closed window's delete must reach the changelog hook. Also the
 * config checks `rill validate` reports at file:line:col.
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "state/store_rt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W_TUMBLING, W_HOPPING, W_SESSION };
enum { A_COUNT, A_SUM, A_MIN, A_MAX, A_AVG };

#define MAXREC 600
#define MAXOUT 64
#define NGROUP 3

struct acc { int g; int64_t ts, x; };
struct closed { int g; int64_t start, end; };
struct out { char key[64]; char value[48]; int tomb; };

struct model {
    int type, agg, on_close, scale;
    int64_t size, adv, gap, grace;
    struct acc acc[MAXREC];
    size_t nacc;
    struct closed closed[MAXREC * 4];
    size_t nclosed;
    int64_t st;
    size_t late, merged, in_grace;
    int time_field; /* event time from the value's "at", the record timestamp 1 */
};

static const char *const groups[NGROUP] = { "books", "garden", "toys" };

/* ---- the reference ---------------------------------------------------------- */

static void fmt_dec(int64_t v, int scale, char *out, size_t sz)
{
    int64_t p = 1;
    for (int i = 0; i < scale; i++)
        p *= 10;
    int64_t m = v < 0 ? -v : v;
    if (scale)
        snprintf(out, sz, "%s%" PRId64 ".%0*" PRId64, v < 0 ? "-" : "", m / p, scale, m % p);
    else
        snprintf(out, sz, "%" PRId64, v);
}

/* The aggregate of group g's accepted records with lo <= ts < hi, as text. */
static void ref_value(const struct model *m, int g, int64_t lo, int64_t hi, char *out, size_t sz)
{
    int64_t n = 0, sum = 0, mn = 0, mx = 0;
    for (size_t i = 0; i < m->nacc; i++) {
        const struct acc *a = &m->acc[i];
        if (a->g != g || a->ts < lo || a->ts >= hi)
            continue;
        mn = n && mn < a->x ? mn : a->x;
        mx = n && mx > a->x ? mx : a->x;
        sum += a->x;
        n++;
    }
    CU_ASSERT_FATAL(n > 0);
    if (m->agg == A_COUNT) {
        snprintf(out, sz, "%" PRId64, n);
    } else if (m->agg == A_AVG) {
        /* half away from zero, by exact comparison: |2 sum| vs (2q + 1) n */
        int64_t q = sum / n, r = sum % n;
        if (2 * (r < 0 ? -r : r) >= n)
            q += sum < 0 ? -1 : 1;
        fmt_dec(q, m->scale, out, sz);
    } else {
        fmt_dec(m->agg == A_SUM ? sum : m->agg == A_MIN ? mn : mx, m->scale, out, sz);
    }
}

static void add_out(struct out *o, size_t *n, int g, int64_t s, int64_t e, const char *value)
{
    CU_ASSERT_FATAL(*n < MAXOUT);
    snprintf(o[*n].key, sizeof o[*n].key, "%s@%" PRId64 "/%" PRId64, groups[g], s, e);
    o[*n].tomb = !value;
    snprintf(o[*n].value, sizeof o[*n].value, "%s", value ? value : "");
    (*n)++;
}

static int is_closed(const struct model *m, int g, int64_t s, int64_t e)
{
    for (size_t i = 0; i < m->nclosed; i++)
        if (m->closed[i].g == g && m->closed[i].start == s && m->closed[i].end == e)
            return 1;
    return 0;
}

/* The session of group g around time ts over the accepted records (the run
 * of records no more than gap apart that contains ts): *s, *e; 0 when g has
 * no record within gap of ts. */
static int ref_session(const struct model *m, int g, int64_t ts, int64_t *s, int64_t *e)
{
    int found = 0;
    *s = *e = ts;
    for (int grew = 1; grew;) {
        grew = 0;
        for (size_t i = 0; i < m->nacc; i++) {
            const struct acc *a = &m->acc[i];
            if (a->g != g || a->ts < *s - m->gap || a->ts > *e + m->gap)
                continue;
            if (!found || a->ts < *s || a->ts > *e)
                grew = 1;
            if (!found)
                *s = *e = a->ts;
            found = 1;
            *s = a->ts < *s ? a->ts : *s;
            *e = a->ts > *e ? a->ts : *e;
        }
    }
    return found;
}

/* One record through the reference: what the processor must forward for it
 * (o, in order for on_update; on_close results in any order), or -1 when it
 * is late. */
static int ref_step(struct model *m, int g, int64_t ts, int64_t x, struct out *o, size_t *no)
{
    char v[48];
    int64_t st = ts > m->st ? ts : m->st;
    *no = 0;
    if (m->type == W_SESSION) {
        if (ts + m->grace < st)
            return -1;
        /* the open sessions it joins: their tombstones, in start order */
        int64_t olds[MAXREC][2];
        size_t nold = 0;
        for (size_t i = 0; i < m->nacc; i++) {
            int64_t s, e;
            const struct acc *a = &m->acc[i];
            if (a->g != g || a->ts < ts - m->gap || a->ts > ts + m->gap)
                continue;
            ref_session(m, g, a->ts, &s, &e);
            CU_ASSERT(!is_closed(m, g, s, e)); /* a record in grace never meets a closed one */
            int dup = 0;
            for (size_t k = 0; k < nold; k++)
                dup |= olds[k][0] == s;
            if (!dup) {
                size_t k = nold++;
                for (; k > 0 && olds[k - 1][0] > s; k--)
                    memcpy(olds[k], olds[k - 1], sizeof olds[k]);
                olds[k][0] = s;
                olds[k][1] = e;
            }
        }
        m->acc[m->nacc++] = (struct acc){ g, ts, x };
        m->merged += nold;
        int64_t s, e;
        ref_session(m, g, ts, &s, &e);
        if (!m->on_close) {
            for (size_t k = 0; k < nold; k++)
                add_out(o, no, g, olds[k][0], olds[k][1], NULL);
            ref_value(m, g, s, e + 1, v, sizeof v);
            add_out(o, no, g, s, e, v);
        }
    } else {
        int64_t adv = m->type == W_TUMBLING ? m->size : m->adv;
        int64_t first = -1;
        for (int64_t s = 0; s <= ts; s += adv)
            if (ts < s + m->size && first < 0)
                first = s;
        if (first + m->size + m->grace <= st)
            return -1;
        m->acc[m->nacc++] = (struct acc){ g, ts, x };
        for (int64_t s = first; !m->on_close && s <= ts; s += adv) {
            ref_value(m, g, s, s + m->size, v, sizeof v);
            add_out(o, no, g, s, s + m->size, v);
        }
    }
    m->in_grace += ts < m->st; /* behind stream time, and accepted */
    m->st = st;
    /* every window of an accepted record that is now closed and was not before */
    for (size_t i = 0; i < m->nacc; i++) {
        const struct acc *a = &m->acc[i];
        int64_t adv = m->type == W_TUMBLING ? m->size : m->adv;
        for (int64_t s = 0; s <= a->ts; s += m->type == W_SESSION ? a->ts + 1 : adv) {
            int64_t ws = s, we = s + m->size, close = we + m->grace;
            if (m->type == W_SESSION) {
                ref_session(m, a->g, a->ts, &ws, &we);
                close = we + m->gap + m->grace + 1;
            } else if (a->ts >= we) {
                continue;
            }
            if (close > st || is_closed(m, a->g, ws, we))
                continue;
            m->closed[m->nclosed++] = (struct closed){ a->g, ws, we };
            if (m->on_close) {
                ref_value(m, a->g, ws, m->type == W_SESSION ? we + 1 : we, v, sizeof v);
                add_out(o, no, a->g, ws, we, v);
            }
        }
    }
    return 0;
}

/* Windows of the accepted records that are still open. */
static size_t ref_open(const struct model *m)
{
    struct closed seen[MAXREC * 4];
    size_t n = 0;
    for (size_t i = 0; i < m->nacc; i++) {
        const struct acc *a = &m->acc[i];
        int64_t adv = m->type == W_TUMBLING ? m->size : m->adv;
        for (int64_t s = 0; s <= a->ts; s += m->type == W_SESSION ? a->ts + 1 : adv) {
            int64_t ws = s, we = s + m->size;
            if (m->type == W_SESSION)
                ref_session(m, a->g, a->ts, &ws, &we);
            else if (a->ts >= we)
                continue;
            int dup = is_closed(m, a->g, ws, we);
            for (size_t k = 0; k < n && !dup; k++)
                dup = seen[k].g == a->g && seen[k].start == ws && seen[k].end == we;
            if (!dup)
                seen[n++] = (struct closed){ a->g, ws, we };
        }
    }
    return n;
}

/* ---- the driver side ------------------------------------------------------- */

struct tomblog {
    size_t deletes_w; /* deletes of window entries ('w' keys) */
};

static rill_err_t log_write(void *opaque, const char *store, const void *key, size_t klen,
                            const void *value, size_t vlen)
{
    struct tomblog *l = opaque;
    if (!value && klen && ((const char *)key)[0] == 'w')
        l->deletes_w++;
    return RILL_OK;
}

static int out_cmp(const void *a, const void *b)
{
    const struct out *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Runs nrec random records (3 groups, timestamps that wander backwards by
 * up to `jitter` ms behind the newest, so some are inside grace and some
 * beyond it) through the processor of yaml and the reference m, comparing
 * each record's outputs, the DLQ, the store and the changelog deletes. */
static void run_model(const char *yaml, struct model *m, int nrec, int64_t step, int64_t jitter,
                      uint32_t seed)
{
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct tomblog log = { 0 };
    rill_store_t *s = NULL;
    size_t seen = 0, mismatches = 0;
    int64_t now = 0;
    m->st = -1;
    for (int i = 0; i < nrec && mismatches < 5; i++) {
        seed = seed * 1103515245u + 12345u;
        int g = (int)((seed >> 8) % NGROUP);
        now += (int64_t)((seed >> 12) % (uint32_t)step);
        int64_t ts = now - (int64_t)((seed >> 20) % 8 == 0 ? (seed >> 4) % (uint32_t)jitter : 0);
        ts = ts < 0 ? 0 : ts;
        int64_t x = (int64_t)((seed >> 16) % 2001) - 500; /* -5.00 .. 15.00 */
        char value[128], amount[32];
        fmt_dec(x, m->scale, amount, sizeof amount);
        snprintf(value, sizeof value, "{\"amount\":\"%s\",\"at\":%" PRId64 "}", amount, ts);
        struct out want[MAXOUT], got[MAXOUT];
        size_t nwant, ngot = 0;
        int late = ref_step(m, g, ts, x, want, &nwant) < 0;
        m->late += (size_t)late;
        char err[RILL_ERRSTR_SIZE] = "";
        int64_t rts = m->time_field ? 1 : ts;
        rill_err_t r = rill_driver_pipe(d, "lines", 0, groups[g], strlen(groups[g]), value,
                                        strlen(value), NULL, 0, rts, err, sizeof err);
        CU_ASSERT_EQUAL_FATAL(r, RILL_OK);
        if (!s && (s = rill_driver_store(d, "w", "win", 0)) != NULL)
            rill_store_set_log(s, log_write, &log);
        while (seen < rill_driver_count(d, "out")) {
            const struct rill_captured *c = rill_driver_get(d, "out", seen++);
            CU_ASSERT_FATAL(ngot < MAXOUT);
            snprintf(got[ngot].key, sizeof got[ngot].key, "%.*s", (int)c->rec.key_len,
                     (const char *)c->rec.key);
            got[ngot].tomb = !c->rec.value;
            snprintf(got[ngot].value, sizeof got[ngot].value, "%.*s", (int)c->rec.value_len,
                     c->rec.value ? (const char *)c->rec.value : "");
            CU_ASSERT_EQUAL(c->rec.timestamp, rts);
            ngot++;
        }
        if (m->on_close) {
            qsort(want, nwant, sizeof *want, out_cmp);
            qsort(got, ngot, sizeof *got, out_cmp);
        }
        int same = ngot == nwant;
        for (size_t k = 0; same && k < ngot; k++)
            same = !strcmp(got[k].key, want[k].key) && !strcmp(got[k].value, want[k].value) &&
                   got[k].tomb == want[k].tomb;
        if (!same) {
            mismatches++;
            fprintf(stderr, "\n  record %d (%s ts %" PRId64 "%s): got %zu, want %zu\n", i,
                    groups[g], ts, late ? ", late" : "", ngot, nwant);
            for (size_t k = 0; k < ngot || k < nwant; k++)
                fprintf(stderr, "    got %-32s %-10s want %-32s %s\n", k < ngot ? got[k].key : "",
                        k < ngot ? (got[k].tomb ? "(tomb)" : got[k].value) : "",
                        k < nwant ? want[k].key : "",
                        k < nwant ? (want[k].tomb ? "(tomb)" : want[k].value) : "");
        }
        CU_ASSERT(same);
        CU_ASSERT_EQUAL(rill_driver_count(d, "lines.dlq"), m->late);
    }
    /* the DLQ: each late record, class late, with its reason */
    char buf[512];
    for (size_t i = 0; i < rill_driver_count(d, "lines.dlq"); i++) {
        const struct rill_captured *c = rill_driver_get(d, "lines.dlq", i);
        const char *cls = it_header(c, "rill.error.class", buf, sizeof buf);
        CU_ASSERT(cls && !strcmp(cls, "late"));
        const char *why = it_header(c, "rill.error.message", buf, sizeof buf);
        CU_ASSERT(why && strstr(why, "late record: event time"));
    }
    CU_ASSERT(m->late > 0);     /* the run did have late records, */
    CU_ASSERT(m->in_grace > 0); /* records behind stream time that still counted, */
    CU_ASSERT(m->type != W_SESSION || m->merged > 0); /* session merges, */
    CU_ASSERT(m->nclosed > 10); /* and closed windows */
    /* retention: the store holds the open windows (entry + index) and the
     * stream time, and every closed window was deleted through the changelog */
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_store_count(s), 2 * ref_open(m) + 1);
    CU_ASSERT_EQUAL(log.deletes_w, m->nclosed + m->merged); /* merged sessions go too */
    rill_driver_free(d);
    rill_topology_free(t);
}

static char *yaml_of(const char *type, const char *window, const char *emit, int scale,
                     int time_field)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "application.id: a\n"
             "topics: {lines: {partitions: 1}, out: {partitions: 1}}\n"
             "processors:\n"
             "  w:\n"
             "    type: %s\n"
             "    inputs: [lines]\n"
             "    outputs: [out]\n"
             "    stores: [win]\n"
             "    config:\n"
             "      window: %s\n"
             "      emit: %s\n"
             "%s%s",
             type, window, emit, time_field ? "      time: at\n" : "",
             scale < 0 ? "" : scale == 2 ? "      field: amount\n      scale: 2\n"
                                         : "      field: amount\n");
    return buf;
}

static void test_tumbling_count_on_update(void)
{
    struct model m = { .type = W_TUMBLING, .agg = A_COUNT, .size = 100, .grace = 30 };
    run_model(yaml_of("windowed_count", "{type: tumbling, size.ms: 100, grace.ms: 30}",
                      "on_update", -1, 0), &m, 400, 20, 120, 7);
}

static void test_tumbling_sum_on_close(void)
{
    struct model m = { .type = W_TUMBLING, .agg = A_SUM, .on_close = 1, .scale = 2,
                       .size = 100, .grace = 30, .time_field = 1 };
    run_model(yaml_of("windowed_sum", "{type: tumbling, size.ms: 100, grace.ms: 30}",
                      "on_close", 2, 1), &m, 400, 20, 120, 11);
}

static void test_tumbling_min_max_avg(void)
{
    static const struct { const char *type; int agg; } aggs[] = {
        { "windowed_min", A_MIN }, { "windowed_max", A_MAX }, { "windowed_avg", A_AVG },
    };
    for (size_t i = 0; i < 3; i++) {
        struct model *m = calloc(1, sizeof *m);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        *m = (struct model){ .type = W_TUMBLING, .agg = aggs[i].agg, .on_close = (int)(i % 2),
                             .scale = 2, .size = 50, .grace = 10 };
        run_model(yaml_of(aggs[i].type, "{type: tumbling, size.ms: 50, grace.ms: 10}",
                          i % 2 ? "on_close" : "on_update", 2, 0), m, 300, 15, 60, 3 + (uint32_t)i);
        free(m);
    }
}

static void test_hopping(void)
{
    for (int on_close = 0; on_close < 2; on_close++) {
        struct model *m = calloc(1, sizeof *m);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        *m = (struct model){ .type = W_HOPPING, .agg = on_close ? A_SUM : A_COUNT,
                             .on_close = on_close, .size = 100, .adv = 40, .grace = 25 };
        run_model(yaml_of(on_close ? "windowed_sum" : "windowed_count",
                          "{type: hopping, size.ms: 100, advance.ms: 40, grace.ms: 25}",
                          on_close ? "on_close" : "on_update", on_close ? 0 : -1, 0),
                  m, 300, 20, 150, 19 + (uint32_t)on_close);
        free(m);
    }
}

static void test_session_merges(void)
{
    for (int on_close = 0; on_close < 2; on_close++) {
        struct model *m = calloc(1, sizeof *m);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        *m = (struct model){ .type = W_SESSION, .agg = on_close ? A_SUM : A_COUNT,
                             .on_close = on_close, .gap = 30, .grace = 20 };
        run_model(yaml_of(on_close ? "windowed_sum" : "windowed_count",
                          "{type: session, gap.ms: 30, grace.ms: 20}",
                          on_close ? "on_close" : "on_update", on_close ? 0 : -1, 0),
                  m, 300, 25, 80, 23 + (uint32_t)on_close);
        free(m);
    }
}

/* A hand-checked run: tumbling 10 ms windows, grace 5, on_close. */
static void test_on_close_by_hand(void)
{
    struct rill_topology *t = it_load(yaml_of("windowed_sum", "{type: tumbling, size.ms: 10, "
                                              "grace.ms: 5}", "on_close", 0, 0));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    static const struct { int64_t ts; const char *amount; size_t outs, dlq; } steps[] = {
        { 1, "2", 0, 0 },   /* [0,10) */
        { 9, "3", 0, 0 },   /* [0,10) */
        { 14, "4", 0, 0 },  /* [10,20); stream time 14 < 10 + 5 */
        { 3, "5", 0, 0 },   /* late but inside grace: [0,10) again */
        { 15, "1", 1, 0 },  /* stream time 15 closes [0,10): books@0/10 = 10 */
        { 8, "7", 1, 1 },   /* beyond grace: DLQ, nothing else */
        { 40, "6", 2, 1 },  /* closes [10,20) = 4 + 1; [40,50) opens */
    };
    char err[RILL_ERRSTR_SIZE], value[64], buf[256];
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        snprintf(value, sizeof value, "{\"amount\":\"%s\"}", steps[i].amount);
        CU_ASSERT_EQUAL(rill_driver_pipe(d, "lines", 0, "books", 5, value, strlen(value), NULL,
                                         0, steps[i].ts, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(rill_driver_count(d, "out"), steps[i].outs);
        CU_ASSERT_EQUAL(rill_driver_count(d, "lines.dlq"), steps[i].dlq);
    }
    const struct rill_captured *c = rill_driver_get(d, "out", 0);
    CU_ASSERT(c && c->rec.key_len == 10 && !memcmp(c->rec.key, "books@0/10", 10));
    CU_ASSERT(c && c->rec.value_len == 2 && !memcmp(c->rec.value, "10", 2));
    c = rill_driver_get(d, "out", 1);
    CU_ASSERT(c && c->rec.key_len == 11 && !memcmp(c->rec.key, "books@10/20", 11));
    CU_ASSERT(c && c->rec.value_len == 1 && !memcmp(c->rec.value, "5", 1));
    c = rill_driver_get(d, "lines.dlq", 0);
    const char *cls = it_header(c, "rill.error.class", buf, sizeof buf);
    CU_ASSERT(cls && !strcmp(cls, "late"));
    const char *why = it_header(c, "rill.error.message", buf, sizeof buf);
    CU_ASSERT(why && strstr(why, "window [0,10) at 15"));
    /* only [40,50) is left, with the stream time */
    CU_ASSERT_EQUAL(rill_store_count(rill_driver_store(d, "w", "win", 0)), 3);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* What `rill validate` refuses, at the offending key's file:line:col. */
static void test_config_errors(void)
{
    static const struct { const char *window, *extra, *want; } bad[] = {
        { "{type: hopping, size.ms: 10, advance.ms: 20}", "",
          "test.yaml:10:44: a hopping window takes window.advance.ms from 1 to window.size.ms" },
        { "{type: tumbling, size.ms: 10, grace.ms: -1}", "",
          "test.yaml:10:45: config key 'window.grace.ms' is below its minimum 0" },
        { "{type: sliding, size.ms: 10}", "",
          "test.yaml:10:16: unknown window type 'sliding'" },
        { "{type: session, gap.ms: 10, size.ms: 5}", "",
          "test.yaml:10:43: a session window takes window.gap.ms > 0" },
        { "{type: tumbling, advance.ms: 5, size.ms: 10}", "",
          "test.yaml:10:32: a tumbling window takes no window.advance.ms" },
        { "{type: tumbling, size.ms: 0}", "",
          "test.yaml:10:32: a tumbling window takes window.size.ms > 0" },
        { "{type: tumbling, size.ms: 10, width.ms: 3}", "",
          "test.yaml:10:45: unknown config key 'window.width.ms'" },
        { "{type: tumbling, size.ms: 10}", "      emit: sometimes\n",
          "test.yaml:11:7: unknown emit 'sometimes'" },
        { "{type: tumbling, size.ms: 10}", "      field: amount\n",
          "test.yaml:12:7: unknown config key 'field'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[1024], err[RILL_ERRSTR_SIZE] = "";
        snprintf(yaml, sizeof yaml, "%s%s",
                 yaml_of("windowed_count", bad[i].window, "on_update", -1, 0), bad[i].extra);
        /* the emit line from yaml_of comes first; a second one would be a
         * duplicate key, so that case replaces it */
        if (strstr(bad[i].extra, "emit"))
            *strstr(yaml, "      emit: on_update\n") = '\0',
            snprintf(yaml + strlen(yaml), sizeof yaml - strlen(yaml), "%s", bad[i].extra);
        struct rill_topology *t = it_load(yaml);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        rill_driver_t *d = rill_driver_new(t, err, sizeof err);
        CU_ASSERT_PTR_NULL(d);
        if (!strstr(err, bad[i].want))
            fprintf(stderr, "\n  case %zu: '%s'\n", i, err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].want));
        rill_driver_free(d);
        rill_topology_free(t);
    }
}

static CU_TestInfo tests[] = {
    { "tumbling count, on_update, late inside and beyond grace", test_tumbling_count_on_update },
    { "tumbling sum on a time field, on_close once per window", test_tumbling_sum_on_close },
    { "tumbling min, max, avg against the reference", test_tumbling_min_max_avg },
    { "hopping count and sum, on_update and on_close", test_hopping },
    { "session count and sum: merges, tombstones, on_close", test_session_merges },
    { "on_close by hand: grace, the dlq, retention", test_on_close_by_hand },
    { "config errors at file:line:col", test_config_errors },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("window", tests)
