/*
 * window.c - the windowed aggregations: `windowed_count`, `windowed_sum`,
 * `windowed_min`, `windowed_max` and `windowed_avg` (one implementation, five
 * types). Records are grouped as count and sum group them (`by:`), placed in
 * event-time windows (`window.type`: tumbling, hopping or session; the event
 * time is the record timestamp or a field of epoch milliseconds, `time:`),
 * and each window keeps count, sum, min and max of the numeric `field:`
 * (exact fixed point at `scale`, decimal.h) in the processor's first store.
 *
 * Output: key `<group>@<start>/<end>` (epoch ms, as Kafka Streams prints a
 * Windowed key; time windows are [start, end), a session's end is its last
 * record's time), value the aggregate as decimal text (avg: sum / count
 * rounded half away from zero to `scale` digits), the input's timestamp.
 * `emit: on_update` forwards every change (a merged-away session gets a
 * tombstone, as in Kafka Streams); `emit: on_close` forwards each window once,
 * when it closes.
 *
 * Time: stream time is the largest event time the task has seen, kept in the
 * store (so it survives restarts and rebalances exactly as the windows do). A
 * time window closes when stream time reaches end + grace; a session when
 * stream time passes its end + gap + grace. Closing is driven by stream time
 * only, in the record's own transaction, as Kafka Streams' suppress does:
 * there is no wall-clock punctuation, and a partition that goes quiet holds
 * its last windows until a later record moves its stream time. A closed
 * window is deleted (a changelog tombstone) after its on_close result, so a
 * store holds only open windows. A record that is late - one of its time
 * windows is closed, or (sessions) its time is more than grace behind stream
 * time - goes to the DLQ with class `late` (rill_dlq_records_total{reason=
 * "late"}) and a reason naming the window; it is never counted in part.
 *
 * Store layout (keys compare as bytes): "m" -> stream time (int64);
 * 'w' u32 glen, group, u64 start -> window (end, count, sum, min, max as
 * int64s); 'x' u64 close, u32 glen, group, u64 start -> "" (the close index,
 * scanned in close order). Every time is >= 0, so big-endian order is time
 * order. Tombstones are ignored; a failing store makes the record retry.
 */
#include "processors/decimal.h"
#include "processors/group.h"
#include "processors/processor.h"
#include "state/store.h"
#include "topology/base/bytes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIN_TIME_MAX 4611686018427387903LL /* 2^62 - 1: sums of times never overflow */
#define WIN_TEXT(x) #x
#define WIN_BOUND(x) WIN_TEXT(x)
#define WIN_DUR_MAX 315360000000000 /* 10,000 years of ms: any sane window */
#define WIN_CLOSE_BATCH 64            /* windows closed per store scan */
#define WIN_HOPS_MAX 1000             /* hopping windows per record (size / advance) */

typedef enum { AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG } win_agg_t;
typedef enum { WIN_TUMBLING, WIN_HOPPING, WIN_SESSION } win_type_t;

struct win_conf {
    char *by;
    char *time;
    char *type;
    int64_t size_ms;
    int64_t advance_ms;
    int64_t gap_ms;
    int64_t grace_ms;
    char *emit;
    char *field; /* the numeric types only */
    int64_t scale;
    int64_t input_scale;
};

#define WIN_COMMON_ROWS                                                                          \
    { "by", RILL_CONF_STR, "key", offsetof(struct win_conf, by),                                 \
      "what to group by: `key`, a JSON path (a.b), or `header:NAME`", NULL, NULL },              \
    { "time", RILL_CONF_STR, "timestamp", offsetof(struct win_conf, time),                       \
      "event time: `timestamp` (the record's) or a field of epoch ms (JSON path, header:NAME)",  \
      NULL, NULL },                                                                              \
    { "window.type", RILL_CONF_STR, NULL, offsetof(struct win_conf, type),                       \
      "`tumbling`, `hopping` or `session`; the window.* keys may nest: `window: {type: ...}`",   \
      NULL, NULL },                                                                              \
    { "window.size.ms", RILL_CONF_INT, "0", offsetof(struct win_conf, size_ms),                  \
      "window length (tumbling, hopping; > 0 there, unset for session)", "0",                    \
      WIN_BOUND(WIN_DUR_MAX) },                                                                  \
    { "window.advance.ms", RILL_CONF_INT, "0", offsetof(struct win_conf, advance_ms),            \
      "hop between window starts (hopping only; 1..size)", "0", WIN_BOUND(WIN_DUR_MAX) },        \
    { "window.gap.ms", RILL_CONF_INT, "0", offsetof(struct win_conf, gap_ms),                    \
      "inactivity gap that ends a session (session only; > 0)", "0", WIN_BOUND(WIN_DUR_MAX) },   \
    { "window.grace.ms", RILL_CONF_INT, "0", offsetof(struct win_conf, grace_ms),                \
      "how late a record may be and still count (0: none, as ofSizeWithNoGrace)", "0",           \
      WIN_BOUND(WIN_DUR_MAX) },                                                                  \
    { "emit", RILL_CONF_STR, "on_update", offsetof(struct win_conf, emit),                       \
      "`on_update` (every change) or `on_close` (once per window, after end + grace)", NULL,    \
      NULL }

static const struct rill_conf_def win_count_conf[] = {
    WIN_COMMON_ROWS,
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static const struct rill_conf_def win_num_conf[] = {
    WIN_COMMON_ROWS,
    { "field", RILL_CONF_STR, NULL, offsetof(struct win_conf, field),
      "the number to aggregate: a JSON path (a.b), `key`, or `header:NAME`", NULL, NULL },
    { "scale", RILL_CONF_INT, "0", offsetof(struct win_conf, scale),
      "fraction digits kept, 0..18 (fixed point; avg rounds to it)", "0",
      WIN_BOUND(RILL_DECIMAL_SCALE_MAX) },
    RILL_DECIMAL_INPUT_SCALE_ROW(struct win_conf, input_scale),
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

/* One window's aggregate, as stored (5 big-endian int64s). */
struct win_val {
    int64_t end, count, sum, min, max;
};
#define WIN_VAL_SIZE 40

struct win {
    const struct win_conf *c;
    rill_store_t *store;
    win_agg_t agg;
    win_type_t type;
    int emit_on_close;
};

/* ---- the config as a whole ------------------------------------------------- */

static int win_type_of(const char *s, win_type_t *t)
{
    static const char *const names[] = { "tumbling", "hopping", "session" };
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i])) {
            *t = (win_type_t)i;
            return 0;
        }
    return -1;
}

static rill_err_t win_check(const void *conf, const char **key, char *errstr, size_t errsz)
{
    const struct win_conf *c = conf;
    win_type_t t;
    *key = NULL;
    if (c->input_scale > c->scale) {
        *key = "input.scale";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "input.scale (%" PRId64 ") is above "
                         "scale (%" PRId64 "): digits would be lost", c->input_scale, c->scale);
    }
    if (win_type_of(c->type, &t) < 0) {
        *key = "window.type";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "unknown window type '%s' (expected "
                         "tumbling, hopping or session)", c->type);
    }
    if (strcmp(c->emit, "on_update") && strcmp(c->emit, "on_close")) {
        *key = "emit";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "unknown emit '%s' (expected on_update "
                         "or on_close)", c->emit);
    }
    if (t == WIN_SESSION) {
        *key = c->size_ms ? "window.size.ms" : c->advance_ms ? "window.advance.ms"
               : c->gap_ms <= 0 ? "window.gap.ms" : NULL;
        if (*key)
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "a session window takes "
                             "window.gap.ms > 0 and no window.size.ms nor window.advance.ms");
        return RILL_OK;
    }
    *key = c->gap_ms ? "window.gap.ms" : c->size_ms <= 0 ? "window.size.ms" : NULL;
    if (*key)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "a %s window takes window.size.ms > 0 "
                         "and no window.gap.ms", c->type);
    if (t == WIN_TUMBLING && c->advance_ms) {
        *key = "window.advance.ms";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "a tumbling window takes no "
                         "window.advance.ms (a hopping window does)");
    }
    if (t == WIN_HOPPING && (c->advance_ms <= 0 || c->advance_ms > c->size_ms)) {
        *key = "window.advance.ms";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "a hopping window takes "
                         "window.advance.ms from 1 to window.size.ms (%" PRId64 "), got %" PRId64,
                         c->size_ms, c->advance_ms);
    }
    if (t == WIN_HOPPING && c->size_ms / c->advance_ms > WIN_HOPS_MAX) {
        *key = "window.advance.ms";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "a hopping window puts a record in at "
                         "most %d windows: window.size.ms / window.advance.ms is %" PRId64,
                         WIN_HOPS_MAX, c->size_ms / c->advance_ms);
    }
    return RILL_OK;
}

/* ---- bytes ------------------------------------------------------------------ */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* A window's primary key: 'w' glen group start. buf has glen + 13 bytes. */
static size_t wkey(unsigned char *buf, const void *group, size_t glen, int64_t start)
{
    buf[0] = 'w';
    put32(buf + 1, (uint32_t)glen);
    memcpy(buf + 5, group, glen);
    rill_put_be64(buf + 5 + glen, start);
    return glen + 13;
}

/* A close-index key: 'x' close glen group start. buf has glen + 21 bytes. */
static size_t xkey(unsigned char *buf, int64_t close, const void *group, size_t glen,
                   int64_t start)
{
    buf[0] = 'x';
    rill_put_be64(buf + 1, close);
    put32(buf + 9, (uint32_t)glen);
    memcpy(buf + 13, group, glen);
    rill_put_be64(buf + 13 + glen, start);
    return glen + 21;
}

static void val_encode(const struct win_val *v, unsigned char *p)
{
    rill_put_be64(p, v->end);
    rill_put_be64(p + 8, v->count);
    rill_put_be64(p + 16, v->sum);
    rill_put_be64(p + 24, v->min);
    rill_put_be64(p + 32, v->max);
}

static int val_decode(const void *b, size_t len, struct win_val *v)
{
    const unsigned char *p = b;
    if (len != WIN_VAL_SIZE)
        return -1;
    *v = (struct win_val){ rill_get_be64(p), rill_get_be64(p + 8), rill_get_be64(p + 16), rill_get_be64(p + 24), rill_get_be64(p + 32) };
    return 0;
}

/* ---- init ------------------------------------------------------------------- */

static rill_err_t win_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz,
                           win_agg_t agg)
{
    const struct win_conf *c = rill_ctx_conf(ctx);
    const char *key;
    rill_err_t err = win_check(c, &key, errstr, errsz);
    if (err)
        return err;
    rill_store_t *store;
    if ((err = rill_group_init(ctx, (void **)&store, errstr, errsz)) != RILL_OK)
        return err;
    struct win *w = calloc(1, sizeof *w);
    if (!w)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    w->c = c;
    w->store = store;
    w->agg = agg;
    win_type_of(c->type, &w->type);
    w->emit_on_close = !strcmp(c->emit, "on_close");
    *state = w;
    return RILL_OK;
}

#define WIN_INIT(name, agg)                                                                      \
    static rill_err_t name(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)            \
    {                                                                                            \
        return win_init(ctx, state, errstr, errsz, agg);                                         \
    }
WIN_INIT(win_init_count, AGG_COUNT)
WIN_INIT(win_init_sum, AGG_SUM)
WIN_INIT(win_init_min, AGG_MIN)
WIN_INIT(win_init_max, AGG_MAX)
WIN_INIT(win_init_avg, AGG_AVG)

static void win_close(void *state)
{
    free(state);
}

/* ---- results ---------------------------------------------------------------- */

/* The aggregate of v as text. */
static size_t win_value_text(const struct win *w, const struct win_val *v, char *out,
                             size_t outsz)
{
    int scale = (int)w->c->scale;
    int64_t x;
    switch (w->agg) {
    case AGG_COUNT:
        return (size_t)snprintf(out, outsz, "%" PRId64, v->count);
    case AGG_SUM:
        return rill_decimal_format(v->sum, scale, out, outsz);
    case AGG_MIN:
        return rill_decimal_format(v->min, scale, out, outsz);
    case AGG_MAX:
        return rill_decimal_format(v->max, scale, out, outsz);
    case AGG_AVG:
        x = v->sum / v->count;
        int64_t r = v->sum % v->count;
        if ((r < 0 ? -(uint64_t)r : (uint64_t)r) * 2 >= (uint64_t)v->count)
            x += r < 0 ? -1 : 1;
        return rill_decimal_format(x, scale, out, outsz);
    }
    return 0;
}

/* Forwards key `group@start/end` with v's aggregate, or a tombstone when v is
 * NULL. */
static rill_err_t win_forward(rill_ctx_t *ctx, const struct win *w, const void *group,
                              size_t glen, int64_t start, int64_t end, const struct win_val *v)
{
    char suffix[48], text[48];
    int n = snprintf(suffix, sizeof suffix, "@%" PRId64 "/%" PRId64, start, end);
    unsigned char *key = malloc(glen + (size_t)n);
    if (!key)
        return RILL_ERR_NOMEM;
    memcpy(key, group, glen);
    memcpy(key + glen, suffix, (size_t)n);
    size_t tlen = v ? win_value_text(w, v, text, sizeof text) : 0;
    rill_err_t err = rill_ctx_forward(ctx, NULL, key, glen + (size_t)n, v ? text : NULL, tlen,
                                      NULL, 0);
    free(key);
    return err;
}

/* ---- closing ------------------------------------------------------------------ */

/* Emits (on_close) and deletes every window whose close time is <= st, in
 * close order, WIN_CLOSE_BATCH per scan (no write while iterating). */
static rill_err_t win_close_due(rill_ctx_t *ctx, struct win *w, int64_t st)
{
    unsigned char end[9];
    end[0] = 'x';
    rill_put_be64(end + 1, st + 1);
    for (;;) {
        unsigned char *keys[WIN_CLOSE_BATCH];
        size_t lens[WIN_CLOSE_BATCH], n = 0;
        rill_store_iter_t *it = rill_store_range(w->store, "x", 1, end, sizeof end);
        if (!it)
            return RILL_ERR_NOMEM;
        const void *k, *v;
        size_t klen, vlen;
        rill_err_t err = RILL_OK;
        while (n < WIN_CLOSE_BATCH && rill_store_iter_next(it, &k, &klen, &v, &vlen)) {
            if (klen < 21 || !(keys[n] = malloc(klen))) {
                err = klen < 21 ? RILL_ERR_STATE : RILL_ERR_NOMEM;
                break;
            }
            memcpy(keys[n], k, klen);
            lens[n++] = klen;
        }
        rill_store_iter_free(it);
        for (size_t i = 0; i < n; i++) {
            size_t glen = lens[i] - 21;
            const unsigned char *group = keys[i] + 13;
            int64_t start = rill_get_be64(keys[i] + 13 + glen);
            unsigned char *pk = malloc(glen + 13);
            void *val = NULL;
            size_t len = 0;
            struct win_val wv;
            if (!pk) {
                err = RILL_ERR_NOMEM;
            } else {
                size_t pklen = wkey(pk, group, glen, start);
                rill_err_t e = rill_store_get(w->store, pk, pklen, &val, &len);
                if (e == RILL_OK && val_decode(val, len, &wv) == 0) {
                    if (w->emit_on_close)
                        e = win_forward(ctx, w, group, glen, start, wv.end, &wv);
                    if (e == RILL_OK)
                        e = rill_store_delete(w->store, pk, pklen);
                } else if (e == RILL_OK) {
                    e = RILL_ERR_STATE;
                }
                if (e == RILL_OK || e == RILL_ERR_NOTFOUND)
                    e = rill_store_delete(w->store, keys[i], lens[i]);
                if (e != RILL_OK && err == RILL_OK)
                    err = e;
            }
            free(val);
            free(pk);
            free(keys[i]);
        }
        if (err != RILL_OK || n < WIN_CLOSE_BATCH)
            return err;
    }
}

/* ---- aggregating --------------------------------------------------------------- */

/* Adds one record (amount x) to v; -1 when the sum overflows. */
static int val_add(struct win_val *v, int64_t x)
{
    if (__builtin_add_overflow(v->sum, x, &v->sum))
        return -1;
    v->min = v->count && v->min < x ? v->min : x;
    v->max = v->count && v->max > x ? v->max : x;
    v->count++;
    return 0;
}

/* Merges b into a (both non-empty); -1 when the sum overflows. */
static int val_merge(struct win_val *a, const struct win_val *b)
{
    if (__builtin_add_overflow(a->sum, b->sum, &a->sum))
        return -1;
    a->min = a->min < b->min ? a->min : b->min;
    a->max = a->max > b->max ? a->max : b->max;
    a->count += b->count;
    a->end = a->end > b->end ? a->end : b->end;
    return 0;
}

static void reject_overflow(rill_ctx_t *ctx, const struct win *w)
{
    rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot aggregate field '%s': the sum of its "
                       "window overflows a 64-bit integer at scale %d", w->c->field,
                       (int)w->c->scale);
}

/* The time windows of ts, newest first: starts ts - ts % advance, and back by
 * advance while the window still holds ts and starts at or after 0. */
static size_t time_windows(const struct win *w, int64_t ts, int64_t *starts)
{
    int64_t adv = w->type == WIN_TUMBLING ? w->c->size_ms : w->c->advance_ms, size = w->c->size_ms;
    size_t n = 0;
    for (int64_t s = ts - ts % adv; s >= 0 && s > ts - size; s -= adv)
        starts[n++] = s;
    return n;
}

static rill_proc_result_t win_time_add(rill_ctx_t *ctx, struct win *w, const void *group,
                                       size_t glen, int64_t ts, int64_t x, int64_t st)
{
    int64_t starts[WIN_HOPS_MAX + 1];
    size_t n = time_windows(w, ts, starts);
    int64_t size = w->c->size_ms, grace = w->c->grace_ms;
    /* the oldest window closes first: if it is closed, the record is late */
    if (n && starts[n - 1] + size + grace <= st) {
        rill_ctx_reject_as(ctx, RILL_REJECT_LATE, "late record: event time %" PRId64 " is past "
                           "the close of window [%" PRId64 ",%" PRId64 ") at %" PRId64 " (grace "
                           "%" PRId64 " ms); stream time is %" PRId64, ts, starts[n - 1],
                           starts[n - 1] + size, starts[n - 1] + size + grace, grace, st);
        return RILL_PROC_REJECT;
    }
    unsigned char *pk = malloc(glen + 21);
    if (!pk)
        return RILL_PROC_RETRY;
    rill_proc_result_t res = RILL_PROC_OK;
    for (size_t i = n; i-- > 0 && res == RILL_PROC_OK;) {
        struct win_val v = { starts[i] + size, 0, 0, 0, 0 };
        void *old = NULL;
        size_t olen = 0, klen = wkey(pk, group, glen, starts[i]);
        rill_err_t err = rill_store_get(w->store, pk, klen, &old, &olen);
        int fresh = err == RILL_ERR_NOTFOUND;
        if ((err != RILL_OK && !fresh) || (!fresh && val_decode(old, olen, &v) < 0)) {
            free(old);
            res = RILL_PROC_RETRY;
            break;
        }
        free(old);
        if (val_add(&v, x) < 0) {
            reject_overflow(ctx, w);
            res = RILL_PROC_REJECT;
            break;
        }
        unsigned char enc[WIN_VAL_SIZE];
        val_encode(&v, enc);
        if (rill_store_put(w->store, pk, klen, enc, sizeof enc) != RILL_OK)
            res = RILL_PROC_RETRY;
        else if (fresh && rill_store_put(w->store, pk, xkey(pk, v.end + grace, group, glen,
                                                            starts[i]), "", 0) != RILL_OK)
            res = RILL_PROC_RETRY;
        else if (!w->emit_on_close &&
                 win_forward(ctx, w, group, glen, starts[i], v.end, &v) != RILL_OK)
            res = RILL_PROC_RETRY;
    }
    free(pk);
    return res;
}

/* A session of the group being merged: its start and aggregate. */
struct sess {
    int64_t start;
    struct win_val v;
};

static rill_proc_result_t win_session_add(rill_ctx_t *ctx, struct win *w, const void *group,
                                          size_t glen, int64_t ts, int64_t x, int64_t st)
{
    int64_t gap = w->c->gap_ms, grace = w->c->grace_ms;
    if (ts + grace < st) {
        rill_ctx_reject_as(ctx, RILL_REJECT_LATE, "late record: event time %" PRId64 " is more "
                           "than the grace of %" PRId64 " ms behind stream time %" PRId64
                           " (session window, gap %" PRId64 " ms)", ts, grace, st, gap);
        return RILL_PROC_REJECT;
    }
    unsigned char *pk = malloc(glen + 21);
    if (!pk)
        return RILL_PROC_RETRY;
    /* the sessions within gap of ts merge with it: start - gap <= ts <= end + gap */
    struct sess *olds = NULL;
    size_t n = 0, cap = 0;
    rill_proc_result_t res = RILL_PROC_OK;
    size_t plen = wkey(pk, group, glen, 0) - 8;
    rill_store_iter_t *it = rill_store_prefix(w->store, pk, plen);
    const void *k, *v;
    size_t klen, vlen;
    while (it && rill_store_iter_next(it, &k, &klen, &v, &vlen)) {
        struct sess s;
        if (klen != plen + 8 || val_decode(v, vlen, &s.v) < 0) {
            res = RILL_PROC_RETRY;
            break;
        }
        s.start = rill_get_be64((const unsigned char *)k + plen);
        if (s.start - gap > ts)
            break; /* sessions come in start order: none later can merge */
        if (s.v.end + gap < ts)
            continue;
        if (n == cap) {
            struct sess *m = realloc(olds, (cap = cap ? cap * 2 : 4) * sizeof *m);
            if (!m) {
                res = RILL_PROC_RETRY;
                break;
            }
            olds = m;
        }
        olds[n++] = s;
    }
    if (!it)
        res = RILL_PROC_RETRY;
    rill_store_iter_free(it);
    struct sess m = { ts, { ts, 0, 0, 0, 0 } };
    if (res == RILL_PROC_OK && val_add(&m.v, x) < 0) {
        reject_overflow(ctx, w);
        res = RILL_PROC_REJECT;
    }
    for (size_t i = 0; i < n && res == RILL_PROC_OK; i++) {
        if (val_merge(&m.v, &olds[i].v) < 0) {
            reject_overflow(ctx, w);
            res = RILL_PROC_REJECT;
        }
        m.start = m.start < olds[i].start ? m.start : olds[i].start;
    }
    /* the merged-away sessions go (and their results, with on_update) */
    for (size_t i = 0; i < n && res == RILL_PROC_OK; i++) {
        const struct sess *o = &olds[i];
        if (rill_store_delete(w->store, pk, wkey(pk, group, glen, o->start)) != RILL_OK ||
            rill_store_delete(w->store, pk, xkey(pk, o->v.end + gap + grace + 1, group, glen,
                                                 o->start)) != RILL_OK ||
            (!w->emit_on_close &&
             win_forward(ctx, w, group, glen, o->start, o->v.end, NULL) != RILL_OK))
            res = RILL_PROC_RETRY;
    }
    free(olds);
    unsigned char enc[WIN_VAL_SIZE];
    val_encode(&m.v, enc);
    if (res == RILL_PROC_OK &&
        (rill_store_put(w->store, pk, wkey(pk, group, glen, m.start), enc, sizeof enc) != RILL_OK ||
         rill_store_put(w->store, pk, xkey(pk, m.v.end + gap + grace + 1, group, glen, m.start),
                        "", 0) != RILL_OK ||
         (!w->emit_on_close &&
          win_forward(ctx, w, group, glen, m.start, m.v.end, &m.v) != RILL_OK)))
        res = RILL_PROC_RETRY;
    free(pk);
    return res;
}

/* The record's event time, or a reject. */
static int win_event_time(rill_ctx_t *ctx, const struct win *w, const rill_record_t *rec,
                          int64_t *ts)
{
    if (!strcmp(w->c->time, "timestamp")) {
        *ts = rec->timestamp;
    } else {
        char buf[32], *end;
        rill_err_t err = rill_record_field(rec, w->c->time, buf, sizeof buf);
        if (err != RILL_OK) {
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot read event time '%s': %s",
                               w->c->time, err == RILL_ERR_NOTFOUND ? "the record has no such "
                               "field" : "not a scalar of epoch milliseconds");
            return -1;
        }
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno || end == buf || *end) {
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot read event time '%s': '%s' is "
                               "not an integer of epoch milliseconds", w->c->time, buf);
            return -1;
        }
        *ts = v;
    }
    if (*ts < 0 || *ts > WIN_TIME_MAX) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot window event time %" PRId64 " of "
                           "'%s': outside 0..2^62 ms", *ts, w->c->time);
        return -1;
    }
    return 0;
}

static rill_proc_result_t win_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct win *w = state;
    char buf[RILL_GROUP_MAX];
    const void *group;
    size_t glen;
    int64_t ts, x = 0, st = -1;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_group_of(ctx, w->c->by, rec, buf, sizeof buf, &group, &glen) != RILL_PROC_OK ||
        win_event_time(ctx, w, rec, &ts) < 0 ||
        (w->agg != AGG_COUNT &&
         rill_decimal_field(ctx, "aggregate", w->c->field, (int)w->c->scale,
                            (int)w->c->input_scale, rec, &x) < 0))
        return RILL_PROC_REJECT;
    rill_err_t err = rill_store_get_i64(w->store, "m", 1, &st);
    if (err != RILL_OK && err != RILL_ERR_NOTFOUND)
        return RILL_PROC_RETRY;
    if (ts > st) {
        st = ts;
        if (rill_store_put_i64(w->store, "m", 1, st) != RILL_OK)
            return RILL_PROC_RETRY;
    }
    rill_proc_result_t res = w->type == WIN_SESSION
                                 ? win_session_add(ctx, w, group, glen, ts, x, st)
                                 : win_time_add(ctx, w, group, glen, ts, x, st);
    if (res != RILL_PROC_OK)
        return res;
    return win_close_due(ctx, w, st) == RILL_OK ? RILL_PROC_OK : RILL_PROC_RETRY;
}

#define WIN_DEF(sym, tname, tdoc, table, initfn)                                                 \
    const struct rill_processor_def sym = {                                                      \
        .version = RILL_PROCESSOR_VERSION,                                                       \
        .name = tname,                                                                           \
        .doc = tdoc,                                                                             \
        .conf = table,                                                                           \
        .conf_size = sizeof(struct win_conf),                                                    \
        .init = initfn,                                                                          \
        .process = win_process,                                                                  \
        .close = win_close,                                                                      \
        .check = win_check,                                                                      \
    }

WIN_DEF(rill_proc_windowed_count, "windowed_count",
        "counts records per key or field per event-time window (needs a store)", win_count_conf,
        win_init_count);
WIN_DEF(rill_proc_windowed_sum, "windowed_sum",
        "sums a decimal field per key or field per event-time window (needs a store)",
        win_num_conf, win_init_sum);
WIN_DEF(rill_proc_windowed_min, "windowed_min",
        "the smallest of a decimal field per key or field per window (needs a store)",
        win_num_conf, win_init_min);
WIN_DEF(rill_proc_windowed_max, "windowed_max",
        "the largest of a decimal field per key or field per window (needs a store)",
        win_num_conf, win_init_max);
WIN_DEF(rill_proc_windowed_avg, "windowed_avg",
        "the mean of a decimal field per key or field per window, rounded (needs a store)",
        win_num_conf, win_init_avg);
