/*
 * test_processors.c - the generic processors (passthrough, filter, route) and
 * the node rules under them (held forwards, DLQ headers, chains), run through
 * the in-process test driver with no broker.
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "state/store.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int value_is(const struct rill_captured *c, const char *v)
{
    return c && c->rec.value_len == strlen(v) && !memcmp(c->rec.value, v, c->rec.value_len);
}


static void test_passthrough_copies_everything(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {in: {partitions: 2}, out: {partitions: 2}}\n"
                                   "processors:\n"
                                   "  p: {type: passthrough, inputs: [in], outputs: [out]}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_header_t h = { "trace", "abc", 3 };
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 1, "k", 1, "v1", 2, &h, 1, 1000, NULL, 0), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "v2", 2000), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 2);
    const struct rill_captured *c = rill_driver_get(d, "out", 0);
    char buf[64];
    CU_ASSERT(value_is(c, "v1"));
    CU_ASSERT_EQUAL(c->rec.key_len, 1);
    CU_ASSERT_EQUAL(c->rec.timestamp, 1000);
    CU_ASSERT_PTR_NOT_NULL(it_header(c, "trace", buf, sizeof buf));
    CU_ASSERT_STRING_EQUAL(buf, "abc");
    /* keyed: murmur2 decides; unkeyed: the input partition is kept */
    CU_ASSERT_EQUAL(c->partition, rill_partition_murmur2("k", 1, 2));
    CU_ASSERT(value_is(rill_driver_get(d, "out", 1), "v2"));
    CU_ASSERT_EQUAL(rill_driver_get(d, "out", 1)->partition, 0);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* Every header goes through, in order: 100 of them, with repeated names (the
 * engine once kept the first 64 only). */
static void test_passthrough_keeps_every_header(void)
{
    enum { NH = 100 };
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                                   "processors:\n"
                                   "  p: {type: passthrough, inputs: [in], outputs: [out]}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_header_t h[NH];
    char names[NH][32], values[NH][32];
    for (int i = 0; i < NH; i++) {
        snprintf(names[i], sizeof names[i], "h%d", i % 10 == 9 ? 9 : i);
        int n = snprintf(values[i], sizeof values[i], "v%d", i);
        h[i] = (rill_header_t){ names[i], values[i], (size_t)n };
    }
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "k", 1, "v", 1, h, NH, 1, NULL, 0), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 1);
    const struct rill_captured *c = rill_driver_get(d, "out", 0);
    /* the 100, then the traceparent the runtime writes on every output */
    CU_ASSERT_EQUAL_FATAL(c->rec.header_cnt, NH + 1);
    for (int i = 0; i < NH; i++) {
        CU_ASSERT_STRING_EQUAL(c->rec.headers[i].name, names[i]);
        CU_ASSERT(c->rec.headers[i].len == strlen(values[i]) &&
                  !memcmp(c->rec.headers[i].value, values[i], c->rec.headers[i].len));
    }
    CU_ASSERT_STRING_EQUAL(c->rec.headers[NH].name, "traceparent");
    CU_ASSERT_EQUAL(c->rec.headers[NH].len, 55);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* Held forwards share one arena: several records, each to two outputs, keep
 * their bytes apart; an empty key stays empty (not NULL), a NULL header value
 * and a tombstone stay NULL; a value larger than the arena keeps is whole. */
static void test_held_forwards_keep_bytes_apart(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {in: {partitions: 1}, o1: {partitions: 1}, o2: {partitions: 1}}\n"
                                   "processors:\n"
                                   "  p: {type: passthrough, inputs: [in], outputs: [o1, o2]}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_header_t h1[2] = { { "a", "1", 1 }, { "b", NULL, 0 } }, h2 = { "c", "xyz", 3 };
    size_t big = (3u << 20) + 7;
    char *v = malloc(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (size_t i = 0; i < big; i++)
        v[i] = (char)('a' + i % 26);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "", 0, "v", 1, h1, 2, 1, NULL, 0), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, NULL, 0, v, big, &h2, 1, 2, NULL, 0), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "k3", 2, NULL, 0, NULL, 0, 3, NULL, 0), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "k4", 2, "v4", 2, h1, 1, 4, NULL, 0), RILL_OK);
    char buf[64];
    for (int o = 0; o < 2; o++) {
        const char *out = o ? "o2" : "o1";
        CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, out), 4);
        const struct rill_captured *c = rill_driver_get(d, out, 0);
        CU_ASSERT_PTR_NOT_NULL(c->rec.key);
        CU_ASSERT_EQUAL(c->rec.key_len, 0);
        CU_ASSERT(value_is(c, "v"));
        /* each with the traceparent the runtime adds last */
        CU_ASSERT_EQUAL_FATAL(c->rec.header_cnt, 3);
        CU_ASSERT_STRING_EQUAL(it_header(c, "a", buf, sizeof buf), "1");
        CU_ASSERT_STRING_EQUAL(c->rec.headers[1].name, "b");
        CU_ASSERT_PTR_NULL(c->rec.headers[1].value);
        CU_ASSERT_STRING_EQUAL(c->rec.headers[2].name, "traceparent");
        c = rill_driver_get(d, out, 1);
        CU_ASSERT_PTR_NULL(c->rec.key);
        CU_ASSERT(c->rec.value_len == big && !memcmp(c->rec.value, v, big));
        CU_ASSERT_STRING_EQUAL(it_header(c, "c", buf, sizeof buf), "xyz");
        CU_ASSERT_EQUAL(c->rec.timestamp, 2);
        c = rill_driver_get(d, out, 2);
        CU_ASSERT(c->rec.key_len == 2 && !memcmp(c->rec.key, "k3", 2));
        CU_ASSERT_PTR_NULL(c->rec.value);
        CU_ASSERT_EQUAL(c->rec.header_cnt, 1);
        c = rill_driver_get(d, out, 3);
        CU_ASSERT(value_is(c, "v4"));
        CU_ASSERT_EQUAL_FATAL(c->rec.header_cnt, 2);
        CU_ASSERT_STRING_EQUAL(it_header(c, "a", buf, sizeof buf), "1");
    }
    free(v);
    rill_driver_free(d);
    rill_topology_free(t);
}

static const char *filter_yaml =
    "application.id: a\n"
    "topics: {orders: {partitions: 1}, paid: {partitions: 1}}\n"
    "processors:\n"
    "  f:\n"
    "    type: filter\n"
    "    inputs: [orders]\n"
    "    outputs: [paid]\n"
    "    config: {field: payment.status, equals: PAID}\n";

static void test_filter_on_json_field(void)
{
    struct rill_topology *t = it_load(filter_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_driver_pipe_str(d, "orders", 0, "1", "{\"id\":1,\"payment\":{\"status\":\"PAID\"}}", 1);
    rill_driver_pipe_str(d, "orders", 0, "2", "{\"id\":2,\"payment\":{\"status\":\"DECLINED\"}}", 2);
    rill_driver_pipe_str(d, "orders", 0, "3", "{\"id\":3}", 3);
    rill_driver_pipe_str(d, "orders", 0, "4", "{\"id\":4,\"payment\":{\"status\":\"PA\\u0049D\"}}", 4);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "paid"), 2);
    CU_ASSERT(value_is(rill_driver_get(d, "paid", 0), "{\"id\":1,\"payment\":{\"status\":\"PAID\"}}"));
    CU_ASSERT_EQUAL(rill_driver_get(d, "paid", 1)->rec.timestamp, 4);
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 0);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* A field longer than filter's buffer (1 KiB) exists but equals nothing: it
 * is kept when the filter asks only for existence, dropped when it asks for a
 * value, and never goes to the DLQ. */
static void test_filter_long_field(void)
{
    static const char *yaml[2] = {
        "application.id: a\n"
        "topics: {orders: {partitions: 1}, kept: {partitions: 1}}\n"
        "processors:\n  f: {type: filter, inputs: [orders], outputs: [kept],"
        " config: {field: note}}\n",
        "application.id: a\n"
        "topics: {orders: {partitions: 1}, kept: {partitions: 1}}\n"
        "processors:\n  f: {type: filter, inputs: [orders], outputs: [kept],"
        " config: {field: note, equals: x}}\n",
    };
    char value[3000];
    int n = snprintf(value, sizeof value, "{\"note\":\"");
    memset(value + n, 'x', 2000);
    snprintf(value + n + 2000, sizeof value - (size_t)n - 2000, "\"}");
    for (int i = 0; i < 2; i++) {
        struct rill_topology *t = it_load(yaml[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        rill_driver_t *d = it_driver(t);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        rill_driver_pipe_str(d, "orders", 0, "1", value, 1);
        CU_ASSERT_EQUAL(rill_driver_count(d, "kept"), i == 0 ? 1 : 0);
        CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 0);
        rill_driver_free(d);
        rill_topology_free(t);
    }
}

static void test_filter_malformed_goes_to_dlq(void)
{
    struct rill_topology *t = it_load(filter_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_record_t dummy;
    (void)dummy;
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "orders", 0, "k", 1, "{\"payment\": {", 13, NULL, 0, 5,
                                     NULL, 0),
                    RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_count(d, "paid"), 0);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "orders.dlq"), 1);
    const struct rill_captured *c = rill_driver_get(d, "orders.dlq", 0);
    char buf[256];
    CU_ASSERT(value_is(c, "{\"payment\": {"));
    CU_ASSERT_STRING_EQUAL(it_header(c, "rill.error.topic", buf, sizeof buf), "orders");
    CU_ASSERT_STRING_EQUAL(it_header(c, "rill.error.partition", buf, sizeof buf), "0");
    /* the first record piped */
    CU_ASSERT_STRING_EQUAL(it_header(c, "rill.error.offset", buf, sizeof buf), "0");
    CU_ASSERT_STRING_EQUAL(it_header(c, "rill.error.processor", buf, sizeof buf), "f");
    CU_ASSERT_PTR_NOT_NULL(strstr(it_header(c, "rill.error.message", buf, sizeof buf), "payment.status"));
    CU_ASSERT_STRING_EQUAL(it_header(c, "rill.error.class", buf, sizeof buf), "invalid");
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_filter_on_header_negated(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                                   "processors:\n"
                                   "  f:\n"
                                   "    type: filter\n"
                                   "    inputs: [in]\n"
                                   "    outputs: [out]\n"
                                   "    dlq: bad\n"
                                   "    config: {field: 'header:kind', equals: test, negate: true}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_header_t test = { "kind", "test", 4 }, real = { "kind", "real", 4 };
    rill_driver_pipe(d, "in", 0, NULL, 0, "a", 1, &test, 1, 1, NULL, 0);
    rill_driver_pipe(d, "in", 0, NULL, 0, "b", 1, &real, 1, 2, NULL, 0);
    rill_driver_pipe(d, "in", 0, NULL, 0, "not json", 8, NULL, 0, 3, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 2);
    CU_ASSERT(value_is(rill_driver_get(d, "out", 0), "b"));
    CU_ASSERT(value_is(rill_driver_get(d, "out", 1), "not json"));
    rill_driver_free(d);
    rill_topology_free(t);
}

static const char *route_yaml =
    "application.id: a\n"
    "topics: {orders: {partitions: 1}, orders.eu: {partitions: 1}, orders.us: {partitions: 1},\n"
    "         misc: {partitions: 1}, eu-only: {partitions: 1}}\n"
    "processors:\n"
    "  r:\n"
    "    type: route\n"
    "    inputs: [orders]\n"
    "    outputs: [orders.eu, orders.us, misc]\n"
    "    config: {field: region, prefix: 'orders.', default: misc}\n"
    "  tail:\n"
    "    type: passthrough\n"
    "    inputs: [orders.eu]\n"
    "    outputs: [eu-only]\n";

static void test_route_by_field_and_chain(void)
{
    struct rill_topology *t = it_load(route_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_driver_pipe_str(d, "orders", 0, NULL, "{\"region\":\"eu\"}", 1);
    rill_driver_pipe_str(d, "orders", 0, NULL, "{\"region\":\"us\"}", 2);
    rill_driver_pipe_str(d, "orders", 0, NULL, "{\"region\":\"apac\"}", 3);
    rill_driver_pipe_str(d, "orders", 0, NULL, "{\"other\":1}", 4);
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.eu"), 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.us"), 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "misc"), 2);
    /* the chain ran: what reached orders.eu went on through `tail` */
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "eu-only"), 1);
    CU_ASSERT_STRING_EQUAL(rill_driver_get(d, "eu-only", 0)->producer, "tail");
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_route_without_default_rejects(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {in: {partitions: 1}, x: {partitions: 1}}\n"
                                   "processors:\n"
                                   "  r: {type: route, inputs: [in], outputs: [x], config: {field: to}}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_driver_pipe_str(d, "in", 0, NULL, "{\"to\":\"x\"}", 1);
    rill_driver_pipe_str(d, "in", 0, NULL, "{\"to\":\"y\"}", 2);
    CU_ASSERT_EQUAL(rill_driver_count(d, "x"), 1);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "in.dlq"), 1);
    char buf[256];
    CU_ASSERT_PTR_NOT_NULL(
        strstr(it_header(rill_driver_get(d, "in.dlq", 0), "rill.error.message", buf, sizeof buf),
               "'y'"));
    CU_ASSERT_STRING_EQUAL(it_header(rill_driver_get(d, "in.dlq", 0), "rill.error.class", buf,
                                  sizeof buf), "unroutable");
    rill_driver_free(d);
    rill_topology_free(t);
}

/* Our murmur2 must pick the same partition as librdkafka's murmur2
 * partitioner (which matches the Java client's default). */
static void test_murmur2_matches_librdkafka(void)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "murmur", NULL);
    const char *keys[] = { "21", "foobar", "a-little-bit-long-string", "", "order-000042", "x" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        for (int32_t cnt = 1; cnt <= 12; cnt++)
            CU_ASSERT_EQUAL(rill_partition_murmur2(keys[i], strlen(keys[i]), cnt),
                            rd_kafka_msg_partitioner_murmur2(rkt, keys[i], strlen(keys[i]), cnt,
                                                             NULL, NULL));
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

/* ---- an external processor from a .so: retries and punctuations ---- */

static struct rill_topology *load_probe(const char *config)
{
    const char *so = getenv("RILL_PROBE_SO");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "application.id: a\n"
             "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
             "processors:\n"
             "  x: {type: probe, library: '%s', inputs: [in], outputs: [out], config: {%s}}\n",
             so ? so : "build/release/tests/probe.so", config);
    return it_load(yaml);
}

static void test_external_retry_holds_back_forwards(void)
{
    struct rill_topology *t = load_probe("retries: 2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r1", 1), RILL_ERR_RETRY);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r1", 1), RILL_ERR_RETRY);
    /* what the processor forwarded before saying RETRY was dropped */
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 0);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r1", 1), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 1);
    CU_ASSERT(value_is(rill_driver_get(d, "out", 0), "r1"));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* The store writes of a refused call are undone: three calls, one kept. */
static void test_retry_undoes_store_writes(void)
{
    const char *so = getenv("RILL_PROBE_SO");
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "application.id: a\n"
             "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
             "processors:\n"
             "  x: {type: probe, library: '%s', inputs: [in], outputs: [out], stores: [s],"
             " config: {retries: 2}}\n",
             so ? so : "build/release/tests/probe.so");
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r", 1), RILL_ERR_RETRY);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r", 1), RILL_ERR_RETRY);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, NULL, "r", 1), RILL_OK);
    int64_t calls = -1;
    CU_ASSERT_EQUAL(rill_store_get_i64(rill_driver_store(d, "x", "s", 0), "calls", 5, &calls),
                    RILL_OK);
    CU_ASSERT_EQUAL(calls, 1);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_external_punctuations(void)
{
    struct rill_topology *t = load_probe("stream_ms: 1000, wall_ms: 500");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    /* stream time starts at the first record and fires as records move it */
    rill_driver_pipe_str(d, "in", 0, NULL, "a", 10000);
    rill_driver_pipe_str(d, "in", 0, NULL, "b", 10999);
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 2);
    rill_driver_pipe_str(d, "in", 0, NULL, "c", 13500); /* one firing, not two */
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 4);
    CU_ASSERT(value_is(rill_driver_get(d, "out", 3), "stream@13500"));
    /* a punctuation's output starts a trace of its own, not the record's */
    char tp_c[64] = "", tp_p[64] = "";
    CU_ASSERT_PTR_NOT_NULL(it_header(rill_driver_get(d, "out", 2), "traceparent", tp_c, sizeof tp_c));
    CU_ASSERT_PTR_NOT_NULL(it_header(rill_driver_get(d, "out", 3), "traceparent", tp_p, sizeof tp_p));
    CU_ASSERT(strlen(tp_c) == 55 && strlen(tp_p) == 55 && strncmp(tp_c, tp_p, 35) != 0);
    rill_driver_pipe_str(d, "in", 0, NULL, "d", 13000); /* late record: no firing */
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 5);
    /* the wall clock starts at the first tick */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 100), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 5);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 499), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 5);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 1), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 6);
    CU_ASSERT(value_is(rill_driver_get(d, "out", 5), "wall@600"));
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_external_missing_library(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                                   "processors:\n"
                                   "  x: {type: probe, library: /nonexistent/probe.so, inputs: [in],"
                                   " outputs: [out]}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char err[512];
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, NULL, 0, "v", 1, NULL, 0, 1, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot load processor library '/nonexistent/probe.so'"));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* rill_record_field: a JSON path, a header and the key, and each failure its
 * own code: absent, not parseable, and too long for the caller's buffer. */
static void test_record_field_codes(void)
{
    static const char v[] = "{\"status\":\"PAID\",\"customer\":{\"id\":\"c-42\"}}";
    rill_header_t h = { "kind", "test", 4 };
    rill_record_t r = { .topic = "t", .key = "k-1", .key_len = 3, .value = v,
                        .value_len = sizeof v - 1, .headers = &h, .header_cnt = 1 };
    char out[16];
    CU_ASSERT_EQUAL(rill_record_field(&r, "customer.id", out, sizeof out), RILL_OK);
    CU_ASSERT_STRING_EQUAL(out, "c-42");
    CU_ASSERT_EQUAL(rill_record_field(&r, "header:kind", out, sizeof out), RILL_OK);
    CU_ASSERT_STRING_EQUAL(out, "test");
    CU_ASSERT_EQUAL(rill_record_field(&r, "key", out, sizeof out), RILL_OK);
    CU_ASSERT_STRING_EQUAL(out, "k-1");
    CU_ASSERT_EQUAL(rill_record_field(&r, "missing", out, sizeof out), RILL_ERR_NOTFOUND);
    CU_ASSERT_EQUAL(rill_record_field(&r, "header:none", out, sizeof out), RILL_ERR_NOTFOUND);
    char tiny[4]; /* "PAID" needs 5 bytes, "k-1" needs 4 */
    CU_ASSERT_EQUAL(rill_record_field(&r, "status", tiny, sizeof tiny), RILL_ERR_NOFIT);
    CU_ASSERT_EQUAL(rill_record_field(&r, "header:kind", tiny, sizeof tiny), RILL_ERR_NOFIT);
    CU_ASSERT_EQUAL(rill_record_field(&r, "key", tiny, sizeof tiny), RILL_OK);
    CU_ASSERT_EQUAL(rill_record_field(&r, "key", tiny, 0), RILL_ERR_NOFIT);
    rill_record_t bad = r;
    bad.value = "{not json";
    bad.value_len = 9;
    CU_ASSERT_EQUAL(rill_record_field(&bad, "status", out, sizeof out), RILL_ERR_INVALID);
}

static CU_TestInfo tests[] = {
    { "record fields: path, header, key, and a code per failure", test_record_field_codes },
    { "external .so: RETRY drops held forwards, then passes", test_external_retry_holds_back_forwards },
    { "external .so: stream-time and wall-clock punctuations", test_external_punctuations },
    { "a retried call's store writes are undone", test_retry_undoes_store_writes },
    { "external .so: a missing library is a clear error", test_external_missing_library },
    { "passthrough copies key, value, headers, timestamp", test_passthrough_copies_everything },
    { "passthrough keeps all of 100 headers, in order", test_passthrough_keeps_every_header },
    { "held forwards keep their bytes apart (empty, NULL, large, headers)",
      test_held_forwards_keep_bytes_apart },
    { "filter keeps records whose json field matches", test_filter_on_json_field },
    { "filter sends malformed json to the dlq with headers", test_filter_malformed_goes_to_dlq },
    { "filter: a field too long to compare exists but equals nothing", test_filter_long_field },
    { "filter on a header, negated", test_filter_on_header_negated },
    { "route by field, default output, chained processor", test_route_by_field_and_chain },
    { "route without default rejects unknown outputs", test_route_without_default_rejects },
    { "murmur2 partitioner matches librdkafka", test_murmur2_matches_librdkafka },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("processors", tests)
