/*
 * test_trace.c - correlation ids with no broker: the W3C traceparent parser
 * against the recommendation's example and its invalid cases, new and
 * derived ids, and the propagation rule run through the in-process test
 * driver, which runs the engine's own node code: a record's valid trace id
 * is kept on everything derived from it with a new parent id per hop; a
 * record without one, or with an invalid one, gets the id derived from its
 * coordinates, the same in every branch that reads it; DLQ records and
 * punctuations are traced; the order pipeline's every output carries its
 * order's trace id; and the lines about a record (its DLQ line, its debug
 * line) carry its trace_id. Not the broker's view: the integration suite
 * `trace` reads the real topics.
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "tests/lib/reference.h"
#include "processors/orders/generate.h"
#include "schemas/serde.h"
#include "topology/base/log.h"
#include "topology/base/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char example[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

static void test_parse_and_format(void)
{
    struct rill_trace t;
    CU_ASSERT_EQUAL_FATAL(rill_trace_parse(example, strlen(example), &t), 1);
    static const uint8_t id[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                    0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
    static const uint8_t parent[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
    CU_ASSERT(!memcmp(t.trace_id, id, 16));
    CU_ASSERT(!memcmp(t.parent_id, parent, 8));
    CU_ASSERT_EQUAL(t.flags, 1);
    char out[RILL_TRACEPARENT_LEN + 1], hex[RILL_TRACE_ID_HEX + 1];
    rill_trace_format(&t, out);
    CU_ASSERT_STRING_EQUAL(out, example);
    rill_trace_id_hex(t.trace_id, hex);
    CU_ASSERT_STRING_EQUAL(hex, "4bf92f3577b34da6a3ce929d0e0e4736");
    /* a later version is read for its first fields, longer with a '-' after */
    const char *v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what-comes";
    CU_ASSERT_EQUAL(rill_trace_parse(v1, strlen(v1), &t), 1);
    CU_ASSERT_EQUAL(t.flags, 3);
    CU_ASSERT_EQUAL(rill_trace_parse(v1, RILL_TRACEPARENT_LEN, &t), 1);
}

static void test_parse_refuses(void)
{
    static const char *const bad[] = {
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     /* short */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",   /* 00 is 55 bytes */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    /* upper case */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    /* zero parent id */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    /* version ff */
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    /* not hex */
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    /* dashes */
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
        "00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bx-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   /* no '-' after */
        "",
    };
    struct rill_trace t = { .flags = 0x5a };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (rill_trace_parse(bad[i], strlen(bad[i]), &t))
            fprintf(stderr, "\n    accepted: '%s'", bad[i]);
        CU_ASSERT_EQUAL(rill_trace_parse(bad[i], strlen(bad[i]), &t), 0);
    }
    CU_ASSERT_EQUAL(rill_trace_parse(NULL, 55, &t), 0);
    CU_ASSERT_EQUAL(t.flags, 0x5a); /* untouched */
}

static int zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static void test_new_and_derived(void)
{
    /* new traces: valid, random-flagged, never twice the same */
    enum { N = 2000 };
    static uint8_t ids[N][16];
    for (int i = 0; i < N; i++) {
        struct rill_trace t, back;
        char tp[RILL_TRACEPARENT_LEN + 1];
        rill_trace_new(&t);
        rill_trace_format(&t, tp);
        CU_ASSERT_EQUAL(rill_trace_parse(tp, strlen(tp), &back), 1);
        CU_ASSERT(!memcmp(&back, &t, sizeof t));
        CU_ASSERT_EQUAL(t.flags, RILL_TRACE_FLAG_RANDOM);
        CU_ASSERT(!zero(t.parent_id, 8));
        memcpy(ids[i], t.trace_id, 16);
    }
    qsort(ids, N, 16, cmp16);
    int same = 0;
    for (int i = 1; i < N; i++)
        same += !memcmp(ids[i - 1], ids[i], 16);
    CU_ASSERT_EQUAL(same, 0);
    /* the high and low halves are not the same bytes (not a repeated word) */
    CU_ASSERT(memcmp(ids[0], ids[0] + 8, 8) != 0);

    /* derived: a function of the coordinates, each of them mattering */
    uint8_t a[16], b[16];
    rill_trace_derive("orders", 3, 42, 1000, a);
    rill_trace_derive("orders", 3, 42, 1000, b);
    CU_ASSERT(!memcmp(a, b, 16));
    CU_ASSERT(!zero(a, 16));
    rill_trace_derive("orders", 3, 43, 1000, b);
    CU_ASSERT(memcmp(a, b, 16) != 0);
    rill_trace_derive("orders", 2, 42, 1000, b);
    CU_ASSERT(memcmp(a, b, 16) != 0);
    rill_trace_derive("orderz", 3, 42, 1000, b);
    CU_ASSERT(memcmp(a, b, 16) != 0);
    rill_trace_derive("orders", 3, 42, 1001, b);
    CU_ASSERT(memcmp(a, b, 16) != 0);
    /* rill_trace_of: the header's when valid (flags cut to the known
     * ones), else derived with no parent */
    struct rill_trace t;
    const char *flagged = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff";
    CU_ASSERT_EQUAL(rill_trace_of(flagged, 55, "orders", 3, 42, 1000, &t), 1);
    CU_ASSERT_EQUAL(t.flags, 3);
    CU_ASSERT_EQUAL(rill_trace_of(example, 54, "orders", 3, 42, 1000, &t), 0);
    CU_ASSERT(!memcmp(t.trace_id, a, 16) && zero(t.parent_id, 8) && t.flags == 0);
    CU_ASSERT_EQUAL(rill_trace_of(NULL, 0, "orders", 3, 42, 1000, &t), 0);
    CU_ASSERT(!memcmp(t.trace_id, a, 16));
}

/* ---- propagation through the driver ------------------------------------------ */

/* The traceparent of a captured record; 1 when it has exactly one, valid
 * and of version 00, parsed into *t. */
static int traced(const struct rill_captured *c, struct rill_trace *t)
{
    int n = 0, ok = 0;
    for (size_t i = 0; c && i < c->rec.header_cnt; i++)
        if (!strcmp(c->rec.headers[i].name, "traceparent")) {
            n++;
            ok = c->rec.headers[i].len == RILL_TRACEPARENT_LEN &&
                 !memcmp(c->rec.headers[i].value, "00-", 3) &&
                 rill_trace_parse(c->rec.headers[i].value, c->rec.headers[i].len, t);
        }
    return n == 1 && ok;
}

/* A header's value as text, or "(none)". */
static const char *header_value(const struct rill_captured *c, const char *name, char *buf,
                                size_t sz)
{
    const char *v = it_header(c, name, buf, sz);
    return v ? v : "(none)";
}

/* Two branches read `in`: a chain p1 -> mid -> p2 -> out, and a filter
 * keeping records whose "ok" field exists (the others go to in.dlq). */
static const char *branches_yaml =
    "application.id: a\n"
    "topics: {in: {partitions: 2}, mid: {partitions: 2}, out: {partitions: 2},\n"
    "         kept: {partitions: 2}}\n"
    "processors:\n"
    "  p1: {type: passthrough, inputs: [in], outputs: [mid]}\n"
    "  p2: {type: passthrough, inputs: [mid], outputs: [out]}\n"
    "  f: {type: filter, inputs: [in], outputs: [kept], config: {field: ok}}\n";

static void test_propagation_rule(void)
{
    struct rill_topology *t = it_load(branches_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    /* 0: a valid traceparent and a tracestate; 1: none; 2: an invalid one
     * (upper case) and a tracestate, which goes with it; 3: none, and not
     * JSON, so the filter rejects it */
    rill_header_t h0[3] = { { "a", "1", 1 }, { "traceparent", example, 55 },
                            { "tracestate", "rill=x", 6 } };
    const char *upper = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01";
    rill_header_t h2[2] = { { "traceparent", upper, 55 }, { "tracestate", "rill=y", 6 } };
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 1, NULL, 0, "{\"ok\":1}", 8, h0, 3, 100, NULL, 0),
                    RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, NULL, 0, "{\"ok\":2}", 8, NULL, 0, 200, NULL, 0),
                    RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 1, NULL, 0, "{\"ok\":3}", 8, h2, 2, 300, NULL, 0),
                    RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, NULL, 0, "junk", 4, NULL, 0, 400, NULL, 0),
                    RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "mid"), 4);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 4);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "kept"), 3);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "in.dlq"), 1);
    struct rill_trace in0, want[4];
    CU_ASSERT_FATAL(rill_trace_parse(example, 55, &in0));
    want[0] = in0;
    /* the others' ids: derived from in, their partition, the offset the
     * driver gave them (the order piped) and their timestamp */
    rill_trace_derive("in", 0, 1, 200, want[1].trace_id);
    rill_trace_derive("in", 1, 2, 300, want[2].trace_id);
    rill_trace_derive("in", 0, 3, 400, want[3].trace_id);
    char buf[128];
    for (int i = 0; i < 4; i++) {
        struct rill_trace m, o, k;
        const struct rill_captured *cm = rill_driver_get(d, "mid", (size_t)i);
        const struct rill_captured *co = rill_driver_get(d, "out", (size_t)i);
        CU_ASSERT_FATAL(traced(cm, &m) && traced(co, &o));
        CU_ASSERT(!memcmp(m.trace_id, want[i].trace_id, 16));
        CU_ASSERT(!memcmp(o.trace_id, want[i].trace_id, 16));
        /* each hop is a new span: the parent ids differ from hop to hop */
        CU_ASSERT(memcmp(m.parent_id, o.parent_id, 8) != 0);
        CU_ASSERT(memcmp(m.parent_id, in0.parent_id, 8) != 0);
        /* the other branch agrees on the id, the DLQ record too */
        const struct rill_captured *ck =
            i < 3 ? rill_driver_get(d, "kept", (size_t)i) : rill_driver_get(d, "in.dlq", 0);
        CU_ASSERT_FATAL(traced(ck, &k));
        CU_ASSERT(!memcmp(k.trace_id, want[i].trace_id, 16));
        CU_ASSERT(memcmp(k.parent_id, m.parent_id, 8) != 0);
        /* the sampled flag of the valid one is kept; new ones have none */
        CU_ASSERT_EQUAL(o.flags, i == 0 ? 1 : 0);
        /* a tracestate only with the valid traceparent it came with */
        CU_ASSERT_EQUAL(strcmp(header_value(co, "tracestate", buf, sizeof buf), "(none)") != 0,
                        i == 0);
    }
    CU_ASSERT_STRING_EQUAL(header_value(rill_driver_get(d, "out", 0), "tracestate", buf,
                                        sizeof buf),
                           "rill=x");
    CU_ASSERT_STRING_EQUAL(header_value(rill_driver_get(d, "out", 0), "a", buf, sizeof buf), "1");
    CU_ASSERT_STRING_NOT_EQUAL(header_value(rill_driver_get(d, "in.dlq", 0),
                                            "rill.error.message", buf, sizeof buf),
                               "(none)");
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- the order pipeline ----------------------------------------------------- */


#define ORDERS 600

struct order_trace {
    char order_id[48];
    uint8_t id[16];
};

static int by_order(const void *a, const void *b)
{
    return strcmp(((const struct order_trace *)a)->order_id,
                  ((const struct order_trace *)b)->order_id);
}

/* Orders from the generator, a third each with a new trace (as `rill
 * generate` writes them), with none and with an invalid one; then every
 * record of every pipeline topic must carry its order's trace id. */
static void test_order_pipeline_carries_the_trace(void)
{
    static const char *const topics[] = { "payment_result", "inventory_result", "order_shipped",
                                          "order_status", "stock_release", "notifications" };
    struct rill_topology *t = it_load(it_chain_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char err[RILL_ERRSTR_SIZE];
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    struct rill_gen_opts go = { .seed = 3, .orders = ORDERS, .locations = 5, .products = 40 };
    rill_gen_t *g = rill_gen_new(&go, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    static struct order_trace ot[ORDERS];
    rill_buf_t b = { 0 };
    for (int i = 0; i < ORDERS; i++) {
        rill_event_t ev;
        rill_gen_next(g, &ev);
        CU_ASSERT_EQUAL_FATAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
        const char *loc = ev.u.order.location_id;
        int32_t p = rill_partition_murmur2(loc, strlen(loc), 4);
        struct rill_trace tr;
        char tp[RILL_TRACEPARENT_LEN + 1];
        rill_trace_new(&tr);
        rill_trace_format(&tr, tp);
        if (i % 3 == 2)
            tp[3] = 'G'; /* not hex: invalid */
        rill_header_t h = { "traceparent", tp, RILL_TRACEPARENT_LEN };
        snprintf(ot[i].order_id, sizeof ot[i].order_id, "%s", ev.u.order.order_id);
        if (i % 3 == 0)
            memcpy(ot[i].id, tr.trace_id, 16);
        else /* derived: the i-th record piped */
            rill_trace_derive("order_placed", p, i, 1000, ot[i].id);
        CU_ASSERT_EQUAL(rill_driver_pipe(d, "order_placed", p, loc, strlen(loc), b.p, b.len, &h,
                                         i % 3 == 1 ? 0 : 1, 1000, err, sizeof err),
                        RILL_OK);
    }
    rill_buf_free(&b);
    qsort(ot, ORDERS, sizeof ot[0], by_order);
    long checked = 0, wrong = 0, untraced = 0, per_topic[6] = { 0 };
    for (size_t k = 0; k < 6; k++) {
        size_t n = rill_driver_count(d, topics[k]);
        for (size_t i = 0; i < n; i++) {
            const struct rill_captured *c = rill_driver_get(d, topics[k], i);
            rill_event_t ev = { 0 };
            CU_ASSERT_EQUAL_FATAL(rill_serde_decode(s, c->rec.key, c->rec.key_len, c->rec.value,
                                                    c->rec.value_len, &ev, err, sizeof err),
                                  RILL_OK);
            struct order_trace key;
            snprintf(key.order_id, sizeof key.order_id, "%s", it_event_order_id(&ev));
            const struct order_trace *o = bsearch(&key, ot, ORDERS, sizeof ot[0], by_order);
            struct rill_trace tr;
            if (!traced(c, &tr))
                untraced++;
            else if (!o || memcmp(tr.trace_id, o->id, 16))
                wrong++;
            checked++;
            per_topic[k]++;
            rill_event_clear(&ev);
        }
    }
    fprintf(stderr, "\n    %ld records of %d orders checked (%ld payment, %ld inventory, %ld "
            "shipped, %ld status, %ld releases, %ld notifications) ", checked, ORDERS,
            per_topic[0], per_topic[1], per_topic[2], per_topic[3], per_topic[4], per_topic[5]);
    for (int k = 0; k < 6; k++)
        CU_ASSERT(per_topic[k] > 0); /* every kind of derived record was seen */
    CU_ASSERT_EQUAL(untraced, 0);
    CU_ASSERT_EQUAL(wrong, 0);
    rill_gen_free(g);
    rill_serde_destroy(s);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- log lines ----------------------------------------------------------------- */

static rill_driver_t *log_driver;

/* Pipes a valid order-less record and a malformed one (it_capture's entry). */
static int pipe_two(int argc, char **argv)
{
    rill_header_t h = { "traceparent", example, 55 };
    rill_driver_pipe(log_driver, "in", 0, NULL, 0, "{\"ok\":1}", 8, &h, 1, 100, NULL, 0);
    rill_driver_pipe(log_driver, "in", 0, NULL, 0, "junk", 4, &h, 1, 200, NULL, 0);
    return 0;
}

static int line_with(const char *log, const char *a, const char *b)
{
    for (const char *l = log; l && *l;) {
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)len, l);
        if (strstr(line, a) && strstr(line, b))
            return 1;
        l = end ? end + 1 : NULL;
    }
    return 0;
}

static void test_log_lines_carry_the_trace_id(void)
{
    struct rill_topology *t = it_load(branches_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    log_driver = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log_driver);
    static char log[1 << 16];
    const char *id = "trace_id=4bf92f3577b34da6a3ce929d0e0e4736";
    /* at info: the DLQ line, no per-record line */
    CU_ASSERT_EQUAL(rill_log_enabled(RILL_LOG_DEBUG, "record"), 0);
    CU_ASSERT_EQUAL(it_capture(pipe_two, log, sizeof log, 0, NULL), 0);
    CU_ASSERT(line_with(log, "msg=\"record rejected, to the DLQ\" processor=f", id));
    CU_ASSERT(line_with(log, "topic=in offset=1 dlq=in.dlq", id));
    CU_ASSERT_PTR_NULL(strstr(log, "record processed"));
    /* at debug: one line per record each processor took, with its id */
    rill_log_set_level(RILL_LOG_DEBUG);
    CU_ASSERT_EQUAL(rill_log_enabled(RILL_LOG_DEBUG, "record"), 1);
    CU_ASSERT_EQUAL(it_capture(pipe_two, log, sizeof log, 0, NULL), 0);
    rill_log_set_level(RILL_LOG_INFO);
    CU_ASSERT(line_with(log, "msg=\"record processed\" processor=p1 partition=0 topic=in "
                             "offset=2 result=ok outputs=1", id));
    CU_ASSERT(line_with(log, "msg=\"record processed\" processor=p2 partition=0 topic=mid", id));
    CU_ASSERT(line_with(log, "msg=\"record processed\" processor=f partition=0 topic=in "
                             "offset=3 result=reject outputs=0", id));
    CU_ASSERT(line_with(log, "msg=\"record rejected, to the DLQ\" processor=f", id));
    CU_ASSERT_EQUAL(rill_log_enabled(RILL_LOG_DEBUG, "record"), 0);
    /* as JSON lines: a "trace_id" member */
    rill_log_set_format(RILL_LOG_JSON);
    CU_ASSERT_EQUAL(it_capture(pipe_two, log, sizeof log, 0, NULL), 0);
    rill_log_set_format(RILL_LOG_LOGFMT);
    CU_ASSERT(line_with(log, "\"msg\":\"record rejected, to the DLQ\",\"processor\":\"f\"",
                        "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\"}"));
    rill_driver_free(log_driver);
    rill_topology_free(t);
}

static CU_TestInfo tests[] = {
    { "traceparent: the recommendation's example parses and writes back", test_parse_and_format },
    { "traceparent: every invalid form is refused", test_parse_refuses },
    { "new trace ids are random, derived ones a function of the coordinates",
      test_new_and_derived },
    { "kept, derived or replaced; a new parent per hop; both branches and the DLQ agree",
      test_propagation_rule },
    { "every record of the order pipeline carries its order's trace id",
      test_order_pipeline_carries_the_trace },
    { "the DLQ line and the per-record debug lines carry the trace id (logfmt and JSON)",
      test_log_lines_carry_the_trace_id },
    CU_TEST_INFO_NULL,
};

RILL_SUITE("trace", tests)
