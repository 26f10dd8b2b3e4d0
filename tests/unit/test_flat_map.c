/*
 * test_flat_map.c - flat_map (processors/flat_map/flat_map.c) and Avro
 * field access in the generic operators, through the in-process test
 * driver. flat_map: one output per array element with its exact JSON, the
 * projection of both sides and the key, an integer product (null when an
 * operand is not an integer or the product overflows), empty arrays,
 * tombstones, bad values to the DLQ by class, max.items, config errors at
 * file:line:col. Avro: order_placed events from the generator, encoded by
 * the serde, read by flat_map, filter, sum (input.scale 4 on total_e4) and
 * stream_join through rill_record_json(); each output is checked against
 * what the test computes from the events it encoded. And the revenue
 * example topology end to end against its own reference.
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "processors/orders/generate.h"
#include "schemas/serde.h"
#include "state/store_rt.h"
#include "topology/model/config.h"

#include <avro.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *yaml_of(const char *config)
{
    static char y[1024];
    snprintf(y, sizeof y,
             "application.id: a\n"
             "topics: {orders: {partitions: 2}, lines: {partitions: 2}}\n"
             "processors:\n"
             "  explode:\n"
             "    type: flat_map\n"
             "    inputs: [orders]\n"
             "    outputs: [lines]\n"
             "    config: %s\n",
             config);
    return y;
}

static void pipe_bytes(rill_driver_t *d, const char *topic, int32_t p, const char *key,
                       const void *value, size_t len, int64_t ts)
{
    char err[RILL_ERRSTR_SIZE] = "";
    rill_err_t res = rill_driver_pipe(d, topic, p, key, strlen(key), value, len, NULL, 0, ts, err,
                                      sizeof err);
    if (res != RILL_OK)
        fprintf(stderr, "\n  pipe %s: %s %s\n", topic, rill_err2str(res), err);
    CU_ASSERT_EQUAL(res, RILL_OK);
}

static void pipe_kv(rill_driver_t *d, const char *topic, int32_t p, const char *key,
                    const char *value)
{
    pipe_bytes(d, topic, p, key, value, value ? strlen(value) : 0, 1000);
}

/* Output i of topic has key and exactly the value want. */
static int output_is(rill_driver_t *d, const char *topic, size_t i, const char *key,
                     const char *want)
{
    const struct rill_captured *c = rill_driver_get(d, topic, i);
    if (!c)
        return 0;
    int same = c->rec.key_len == strlen(key) && !memcmp(c->rec.key, key, c->rec.key_len) &&
               c->rec.value_len == strlen(want) && !memcmp(c->rec.value, want, strlen(want));
    if (!same)
        fprintf(stderr, "\n  %s %zu: %.*s = %.*s\n  want: %s = %s\n", topic, i,
                (int)c->rec.key_len, (const char *)c->rec.key, (int)c->rec.value_len,
                (const char *)c->rec.value, key, want);
    return same;
}

static const char *dlq_class(rill_driver_t *d, const char *topic, size_t i, char *buf, size_t sz)
{
    const struct rill_captured *c = rill_driver_get(d, topic, i);
    return c ? it_header(c, "rill.error.class", buf, sz) : NULL;
}

/* Frees d and *t, and loads the flat_map topology of config in their place. */
static rill_driver_t *reload(struct rill_topology **t, rill_driver_t *d, const char *config)
{
    rill_driver_free(d);
    rill_topology_free(*t);
    *t = it_load(yaml_of(config));
    CU_ASSERT_PTR_NOT_NULL_FATAL(*t);
    d = it_driver(*t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    return d;
}

static void test_json_lines(void)
{
    struct rill_topology *t = it_load(yaml_of(
        "{each: order.lines, max.items: 3, project: \"sku=item.sku, amount=item.qty*item.price_e4, "
        "order=value.order.id, k=key, whole=item, neg=item.qty*value.order.minus\"}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_kv(d, "orders", 0, "L1",
            "{\"order\": {\"id\": \"o1\", \"minus\": -2, \"lines\": [{\"sku\": \"a\", \"qty\": 2, "
            "\"price_e4\": 12500}, {\"sku\": \"b\", \"qty\": 3, \"price_e4\": 9223372036854775807},"
            " {\"sku\": \"c\", \"qty\": 1.5, \"price_e4\": 10}]}}");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "lines"), 3);
    CU_ASSERT(output_is(d, "lines", 0, "L1",
                        "{\"sku\":\"a\",\"amount\":25000,\"order\":\"o1\",\"k\":\"L1\","
                        "\"whole\":{\"sku\": \"a\", \"qty\": 2, \"price_e4\": 12500},\"neg\":-4}"));
    /* an overflow and a fraction give null, not a wrong number */
    CU_ASSERT(output_is(d, "lines", 1, "L1",
                        "{\"sku\":\"b\",\"amount\":null,\"order\":\"o1\",\"k\":\"L1\","
                        "\"whole\":{\"sku\": \"b\", \"qty\": 3, \"price_e4\": "
                        "9223372036854775807},\"neg\":-6}"));
    CU_ASSERT(output_is(d, "lines", 2, "L1",
                        "{\"sku\":\"c\",\"amount\":null,\"order\":\"o1\",\"k\":\"L1\","
                        "\"whole\":{\"sku\": \"c\", \"qty\": 1.5, \"price_e4\": 10},"
                        "\"neg\":null}"));
    /* an empty array and a tombstone forward nothing */
    pipe_kv(d, "orders", 1, "L2", "{\"order\": {\"id\": \"o2\", \"lines\": []}}");
    pipe_kv(d, "orders", 1, "L2", NULL);
    CU_ASSERT_EQUAL(rill_driver_count(d, "lines"), 3);
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 0);
    /* to the DLQ: no array, not an array, too many elements, not JSON */
    pipe_kv(d, "orders", 0, "L3", "{\"order\": {\"id\": \"o3\"}}");
    pipe_kv(d, "orders", 0, "L3", "{\"order\": {\"lines\": {\"sku\": \"a\"}}}");
    pipe_kv(d, "orders", 0, "L3", "{\"order\": {\"lines\": [1, 2, 3, 4]}}");
    pipe_kv(d, "orders", 0, "L3", "{\"order\": ");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "orders.dlq"), 4);
    char b[64];
    static const char *cls[] = { "invalid", "invalid", "invalid", "decode" };
    for (size_t i = 0; i < 4; i++) {
        const char *c = dlq_class(d, "orders.dlq", i, b, sizeof b);
        CU_ASSERT(c && !strcmp(c, cls[i]));
    }
    CU_ASSERT_EQUAL(rill_driver_count(d, "lines"), 3);
    /* the key may be either operand of a product */
    d = reload(&t, d, "{each: xs, project: \"a=key*item, b=item*key\"}");
    pipe_kv(d, "orders", 0, "3", "{\"xs\": [5]}");
    CU_ASSERT(output_is(d, "lines", 0, "3", "{\"a\":15,\"b\":15}"));
    /* a record whose outputs would pass 16 MiB goes to the DLQ whole */
    static char big[1 << 16];
    size_t bl = (size_t)snprintf(big, sizeof big, "{\"pad\": \"");
    memset(big + bl, 'x', 30000);
    bl += 30000;
    bl += (size_t)snprintf(big + bl, sizeof big - bl, "\", \"xs\": [");
    for (int i = 0; i < 2000; i++)
        bl += (size_t)snprintf(big + bl, sizeof big - bl, "%s1", i ? "," : "");
    bl += (size_t)snprintf(big + bl, sizeof big - bl, "]}");
    d = reload(&t, d, "{each: xs, project: \"v=value\"}");
    pipe_bytes(d, "orders", 0, "k", big, bl, 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "lines"), 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 1);
    /* exactly max.items is fine; without project, each element as it is */
    d = reload(&t, d, "{each: xs, max.items: 3}");
    pipe_kv(d, "orders", 0, "k", "{\"xs\": [1, \"two\", {\"three\": [3]}]}");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "lines"), 3);
    CU_ASSERT(output_is(d, "lines", 0, "k", "1"));
    CU_ASSERT(output_is(d, "lines", 1, "k", "\"two\""));
    CU_ASSERT(output_is(d, "lines", 2, "k", "{\"three\": [3]}"));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* flat_map with config is refused, by the load, the check or its start,
 * with an error that holds want. */
static void expect_refused(const char *config, const char *want)
{
    char err[RILL_ERRSTR_SIZE] = "";
    struct rill_topology *t = NULL;
    const char *y = yaml_of(config);
    rill_err_t res = rill_topology_load_buf("test.yaml", y, strlen(y), &t, err, sizeof err);
    if (res == RILL_OK) {
        rill_driver_t *d = rill_driver_new(t, err, sizeof err);
        if (d) /* checked when the instance starts: the first record */
            CU_ASSERT_NOT_EQUAL(rill_driver_pipe(d, "orders", 0, "k", 1, "{}", 2, NULL, 0, 1, err,
                                                 sizeof err), RILL_OK);
        rill_driver_free(d);
    }
    if (!strstr(err, want))
        fprintf(stderr, "\n  %s: '%s'\n", config, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    rill_topology_free(t);
}

static void test_config_errors(void)
{
    static const struct { const char *config, *want; } bad[] = {
        { "{max.items: 3}", "missing required config key 'each'" },
        { "{each: xs, project: \"a=elsewhere.x\"}",
          "test.yaml:8:24: bad projection: 'elsewhere.x': the side must be item, value or key" },
        { "{each: xs, project: \"a=item.x*\"}", "the side must be item, value or key" },
        { "{each: xs, project: \"a=item..x*key\"}", "a dotted path" },
        { "{each: xs, max.items: 0}", "max.items" },
        { "{each: xs, project: \"a=item.x*item.y*item.z\"}", "a product has two operands" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i].config, bad[i].want);
    /* input.scale above scale loses digits: refused where it is written */
    static const char *ys =
        "application.id: a\n"
        "topics: {orders: {partitions: 1}, sums: {partitions: 1}}\n"
        "stores: {s: {type: memory}}\n"
        "processors:\n"
        "  total:\n"
        "    type: sum\n"
        "    inputs: [orders]\n"
        "    outputs: [sums]\n"
        "    stores: [s]\n"
        "    config: {field: total_e4, scale: 2, input.scale: 4}\n";
    char err[RILL_ERRSTR_SIZE] = "";
    struct rill_topology *t = NULL;
    rill_err_t res = rill_topology_load_buf("test.yaml", ys, strlen(ys), &t, err, sizeof err);
    if (res == RILL_OK) {
        rill_driver_t *d = rill_driver_new(t, err, sizeof err);
        CU_ASSERT_PTR_NULL(d);
        rill_driver_free(d);
    }
    if (!strstr(err, "input.scale (4) is above scale (2)"))
        fprintf(stderr, "\n  input.scale: '%s'\n", err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "input.scale (4) is above scale (2)"));
    rill_topology_free(t);
}

/* ---- Avro output ------------------------------------------------------------ */

/* The Avro payload of a captured value (after the 5-byte header) read back
 * by avro-c with schema, as avro-c writes it as JSON. */
static char *avro_back(const struct rill_captured *c, const char *schema, int32_t *id)
{
    const unsigned char *v = c->rec.value;
    if (c->rec.value_len < 5 || v[0] != 0)
        return NULL;
    *id = (int32_t)((uint32_t)v[1] << 24 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 8 | v[4]);
    avro_schema_t sc;
    if (avro_schema_from_json_length(schema, strlen(schema), &sc))
        return NULL;
    avro_value_iface_t *iface = avro_generic_class_from_schema(sc);
    avro_value_t val;
    avro_generic_value_new(iface, &val);
    avro_reader_t r = avro_reader_memory((const char *)v + 5, (int64_t)c->rec.value_len - 5);
    char *json = NULL;
    if (!avro_value_read(r, &val))
        avro_value_to_json(&val, 1, &json);
    avro_reader_free(r);
    avro_value_decref(&val);
    avro_value_iface_decref(iface);
    avro_schema_decref(sc);
    return json;
}

#define LINE_SCHEMA                                                                          \
    "{\"type\":\"record\",\"name\":\"Line\",\"fields\":[{\"name\":\"sku\",\"type\":\"string\"},"    \
    "{\"name\":\"amount_e4\",\"type\":\"long\"},{\"name\":\"qty\",\"type\":\"int\"},"           \
    "{\"name\":\"note\",\"type\":[\"null\",\"string\"]},{\"name\":\"kind\",\"type\":{\"type\":"     \
    "\"enum\",\"name\":\"K\",\"symbols\":[\"a\",\"b\"]}},{\"name\":\"tags\",\"type\":{\"type\":"    \
    "\"array\",\"items\":\"string\"}},{\"name\":\"w\",\"type\":\"double\"},"     \
    "{\"name\":\"raw\",\"type\":[\"null\",\"bytes\"]}]}"

/* flat_map writing Avro by a declared schema: read back by avro-c equal
 * to the projected values; a line that does not fit goes to the DLQ
 * naming the field; config errors. */
static void test_avro_output(void)
{
    static char y[4096];
    snprintf(y, sizeof y,
             "application.id: a\n"
             "topics: {orders: {partitions: 1}, lines: {partitions: 1}}\n"
             "processors:\n"
             "  explode:\n"
             "    type: flat_map\n"
             "    inputs: [orders]\n"
             "    outputs: [lines]\n"
             "    config:\n"
             "      each: lines\n"
             "      project: \"sku=item.sku, amount_e4=item.q*item.p, qty=item.q, note=item.note, "
             "kind=item.kind, tags=item.tags, w=item.w, raw=item.raw, extra=value.x\"\n"
             "      avro.schema: '%s'\n"
             "      avro.schema.id: 77\n",
             LINE_SCHEMA);
    struct rill_topology *t = it_load(y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_kv(d, "orders", 0, "k",
            "{\"x\": 1, \"lines\": [{\"sku\": \"s\\u00e9\", \"q\": 3, \"p\": 12500, \"kind\": \"b\","
            " \"tags\": [\"t1\", \"t2\"], \"w\": 0.5, \"note\": \"hi\", \"raw\": \"/2Fi\"},"
            " {\"sku\": \"z\", \"q\": 1, \"p\": -4, \"kind\": \"a\", \"tags\": [], \"w\": 2}]}");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "lines"), 2);
    static const char *want[] = {
        "{\"sku\": \"s\\u00E9\", \"amount_e4\": 37500, \"qty\": 3, \"note\": {\"string\": \"hi\"}, "
        "\"kind\": \"b\", \"tags\": [\"t1\", \"t2\"], \"w\": 0.5, \"raw\": {\"bytes\": \"\\u00FFab\"}}",
        "{\"sku\": \"z\", \"amount_e4\": -4, \"qty\": 1, \"note\": null, \"kind\": \"a\", "
        "\"tags\": [], \"w\": 2.0, \"raw\": null}",
    };
    for (size_t i = 0; i < 2; i++) {
        int32_t id = -1;
        char *json = avro_back(rill_driver_get(d, "lines", i), LINE_SCHEMA, &id);
        CU_ASSERT_EQUAL(id, 77);
        CU_ASSERT_PTR_NOT_NULL(json);
        if (json && strcmp(json, want[i]))
            fprintf(stderr, "\n  avro %zu: %s\n  want:   %s\n", i, json, want[i]);
        CU_ASSERT(json && !strcmp(json, want[i]));
        free(json);
    }
    /* the symbol c, a quantity over 32 bits, a missing field without null:
     * each record goes whole to the DLQ (its good first line too), which
     * says where */
    pipe_kv(d, "orders", 0, "k",
            "{\"lines\": [{\"sku\": \"ok\", \"q\": 1, \"p\": 1, \"kind\": \"a\", \"tags\": [], \"w\": 1},"
            " {\"sku\": \"bad\", \"q\": 1, \"p\": 1, \"kind\": \"c\", \"tags\": [], \"w\": 1}]}");
    pipe_kv(d, "orders", 0, "k",
            "{\"lines\": [{\"sku\": \"big\", \"q\": 3000000000, \"p\": 1, \"kind\": \"a\", \"tags\": [],"
            " \"w\": 1}]}");
    pipe_kv(d, "orders", 0, "k",
            "{\"lines\": [{\"q\": 1, \"p\": 1, \"kind\": \"a\", \"tags\": [], \"w\": 1}]}");
    pipe_kv(d, "orders", 0, "k",
            "{\"lines\": [{\"sku\": \"b64\", \"q\": 1, \"p\": 1, \"kind\": \"a\", \"tags\": [], \"w\": 1,"
            " \"raw\": \"no*\"}]}");
    CU_ASSERT_EQUAL(rill_driver_count(d, "lines"), 2);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "orders.dlq"), 4);
    static const char *whys[] = { "kind: not a symbol of the enum", "qty: not a 32-bit integer",
                                  "sku: not a string", "no branch of the union takes it" };
    for (size_t i = 0; i < 4; i++) {
        char b[512];
        const char *why = it_header(rill_driver_get(d, "orders.dlq", i), "rill.error.message", b,
                                    sizeof b);
        if (!why || !strstr(why, whys[i]))
            fprintf(stderr, "\n  dlq %zu: %s\n", i, why ? why : "(none)");
        CU_ASSERT(why && strstr(why, whys[i]));
    }
    rill_driver_free(d);
    rill_topology_free(t);
    static const struct { const char *config, *want; } bad[] = {
        { "{each: xs, avro.schema: '{\"type\": \"nope\"}', avro.schema.id: 1}", "not an Avro schema" },
        { "{each: xs, avro.schema.id: 5}", "avro.schema.id without avro.schema" },
        { "{each: xs, avro.schema: '\"long\"', avro.schema.id: -1}", "avro.schema.id" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i].config, bad[i].want);
}

/* stream_join left with Avro output whose right field has no null: a
 * pair is written, and a left record alone is refused at arrival (its
 * unmatched result, written when its window closes, would not fit). */
static void test_avro_join_output(void)
{
    static const char *schema =
        "{\"type\":\"record\",\"name\":\"P\",\"fields\":[{\"name\":\"l\",\"type\":\"long\"},"
        "{\"name\":\"r\",\"type\":\"long\"}]}";
    static char y[2048];
    snprintf(y, sizeof y,
             "application.id: a\n"
             "topics: {left: {partitions: 1}, right: {partitions: 1}, out: {partitions: 1}}\n"
             "stores: {j: {type: memory}}\n"
             "processors:\n"
             "  both:\n"
             "    type: stream_join\n"
             "    inputs: [left, right]\n"
             "    outputs: [out]\n"
             "    stores: [j]\n"
             "    config: {window.ms: 10, join: left, project: \"l=left.n, r=right.n\", "
             "avro.schema: '%s', avro.schema.id: 9}\n",
             schema);
    struct rill_topology *t = it_load(y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    /* a right record first (no result of its own in a left join), then its pair */
    pipe_bytes(d, "right", 0, "k", "{\"n\": 2}", 8, 100);
    pipe_bytes(d, "left", 0, "k", "{\"n\": 1}", 8, 101);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 1);
    int32_t id = -1;
    char *json = avro_back(rill_driver_get(d, "out", 0), schema, &id);
    CU_ASSERT(json && !strcmp(json, "{\"l\": 1, \"r\": 2}"));
    CU_ASSERT_EQUAL(id, 9);
    free(json);
    /* alone, its result {"l": 3, "r": null} cannot be written: refused now */
    pipe_bytes(d, "left", 0, "x", "{\"n\": 3}", 8, 102);
    CU_ASSERT_EQUAL(rill_driver_count(d, "left.dlq"), 1);
    /* later records close the windows without being refused for it */
    pipe_bytes(d, "right", 0, "z", "{\"n\": 4}", 8, 500);
    CU_ASSERT_EQUAL(rill_driver_count(d, "right.dlq"), 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 1);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- Avro ------------------------------------------------------------------- */

#define AV_ORDERS 200

struct av_fixture {
    rill_serde_t *serde;
    rill_gen_t *gen;
    rill_buf_t buf;
};

static void av_open(struct av_fixture *f)
{
    char err[RILL_ERRSTR_SIZE];
    memset(f, 0, sizeof *f);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&f->serde, err, sizeof err), RILL_OK);
    struct rill_gen_opts o = { .seed = 11, .locations = 3, .orders = AV_ORDERS };
    f->gen = rill_gen_new(&o, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->gen);
}

static void av_close(struct av_fixture *f)
{
    rill_buf_free(&f->buf);
    rill_gen_free(f->gen);
    rill_serde_destroy(f->serde);
}

/* The next order, encoded as Avro into f->buf. */
static const rill_order_placed_t *av_next(struct av_fixture *f)
{
    static rill_event_t ev;
    char err[RILL_ERRSTR_SIZE];
    rill_gen_next(f->gen, &ev);
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(f->serde, &ev, &f->buf, err, sizeof err), RILL_OK);
    return &ev.u.order;
}

/* flat_map, filter and sum over Avro order_placed: lines with their
 * amounts, orders of one location, and the exact sum of total_e4 read at
 * input.scale 4, all against what the test encoded. */
static void test_avro_operators(void)
{
    struct rill_topology *t = it_load(
        "application.id: a\n"
        "topics: {orders: {partitions: 1}, lines: {partitions: 1}, l1: {partitions: 1},\n"
        "         sums: {partitions: 1}}\n"
        "stores: {s: {type: memory}}\n"
        "processors:\n"
        "  explode:\n"
        "    type: flat_map\n"
        "    inputs: [orders]\n"
        "    outputs: [lines]\n"
        "    config: {each: items, project: \"order=value.order_id, product=item.product_id, "
        "category=item.category, amount_e4=item.quantity*item.unit_price_e4, "
        "at=value.event_time\"}\n"
        "  only_l1:\n"
        "    type: filter\n"
        "    inputs: [orders]\n"
        "    outputs: [l1]\n"
        "    config: {field: location_id, equals: L0001}\n"
        "  total:\n"
        "    type: sum\n"
        "    inputs: [orders]\n"
        "    outputs: [sums]\n"
        "    stores: [s]\n"
        "    config: {field: total_e4, by: currency, scale: 4, input.scale: 4}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct av_fixture f;
    av_open(&f);
    size_t lines = 0, l1 = 0;
    int64_t total = 0;
    int bad = 0;
    for (int i = 0; i < AV_ORDERS; i++) {
        const rill_order_placed_t *o = av_next(&f);
        pipe_bytes(d, "orders", 0, o->location_id, f.buf.p, f.buf.len, o->event_time);
        for (size_t k = 0; k < o->item_cnt; k++, lines++) {
            char want[512];
            const rill_order_item_t *it = &o->items[k];
            snprintf(want, sizeof want,
                     "{\"order\":\"%s\",\"product\":\"%s\",\"category\":\"%s\",\"amount_e4\":%" PRId64
                     ",\"at\":%" PRId64 "}",
                     o->order_id, it->product_id, it->category, it->quantity * it->unit_price_e4,
                     o->event_time);
            bad += !output_is(d, "lines", lines, o->location_id, want);
        }
        if (!strcmp(o->location_id, "L0001"))
            l1++;
        total += o->total_e4;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "lines"), lines);
    CU_ASSERT(lines > AV_ORDERS); /* the generator gives orders of several lines */
    CU_ASSERT_EQUAL(rill_driver_count(d, "l1"), l1);
    CU_ASSERT(l1 > 0 && l1 < AV_ORDERS);
    /* the last sum is the total of every order, in currency units at 4 digits */
    char want[64];
    snprintf(want, sizeof want, "%" PRId64 ".%04" PRId64, total / 10000, total % 10000);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "sums"), AV_ORDERS);
    CU_ASSERT(output_is(d, "sums", AV_ORDERS - 1, "EUR", want));
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 0);
    /* framed, but an id the process does not know: the DLQ, class decode for
     * flat_map, invalid for the field readers */
    static const unsigned char unknown[] = { 0, 0x7f, 0, 0, 1, 2, 'x' };
    pipe_bytes(d, "orders", 0, "L9", unknown, sizeof unknown, 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 3);
    CU_ASSERT_EQUAL(rill_driver_count(d, "lines"), lines);
    av_close(&f);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* stream_join of two Avro topics (order_placed with itself, re-read as two
 * inputs): the projection reads both decoded sides. */
static void test_avro_join(void)
{
    struct rill_topology *t = it_load(
        "application.id: a\n"
        "topics: {left: {partitions: 1}, right: {partitions: 1}, out: {partitions: 1}}\n"
        "stores: {j: {type: memory}}\n"
        "processors:\n"
        "  both:\n"
        "    type: stream_join\n"
        "    inputs: [left, right]\n"
        "    outputs: [out]\n"
        "    stores: [j]\n"
        "    config: {window.ms: 1000, project: \"id=left.order_id, n=right.items, "
        "c=right.customer_id\"}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct av_fixture f;
    av_open(&f);
    const rill_order_placed_t *o = av_next(&f);
    char key[64], id[64], cust[64];
    snprintf(key, sizeof key, "%s", o->order_id);
    snprintf(id, sizeof id, "%s", o->order_id);
    snprintf(cust, sizeof cust, "%s", o->customer_id);
    size_t n = o->item_cnt;
    pipe_bytes(d, "left", 0, key, f.buf.p, f.buf.len, 5000);
    pipe_bytes(d, "right", 0, key, f.buf.p, f.buf.len, 5100);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 1);
    const struct rill_captured *c = rill_driver_get(d, "out", 0);
    char head[256];
    snprintf(head, sizeof head, "{\"id\":\"%s\",\"n\":[{\"product_id\":", id);
    CU_ASSERT(c->rec.value_len > strlen(head) && !memcmp(c->rec.value, head, strlen(head)));
    char tail[128];
    snprintf(tail, sizeof tail, "],\"c\":\"%s\"}", cust);
    CU_ASSERT(c->rec.value_len > strlen(tail) &&
              !memcmp((const char *)c->rec.value + c->rec.value_len - strlen(tail), tail,
                      strlen(tail)));
    /* as many lines as the order has */
    size_t lines = 0;
    for (size_t i = 0; i + 12 <= c->rec.value_len; i++)
        lines += !memcmp((const char *)c->rec.value + i, "\"product_id\"", 12);
    CU_ASSERT_EQUAL(lines, n);
    av_close(&f);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- the revenue example ---------------------------------------------------- */

#define RV_ORDERS 400
#define RV_CATS 64
#define RV_DAYS 8
#define RV_DAY INT64_C(86400000)

struct rv_ref {
    char cat[RV_CATS][64];
    size_t ncat;
    int64_t sum[RV_CATS][RV_DAYS]; /* e4 */
    int has[RV_CATS][RV_DAYS];
    int64_t day0;
};

static size_t rv_cat(struct rv_ref *r, const char *c)
{
    for (size_t i = 0; i < r->ncat; i++)
        if (!strcmp(r->cat[i], c))
            return i;
    CU_ASSERT_FATAL(r->ncat < RV_CATS);
    snprintf(r->cat[r->ncat], sizeof r->cat[0], "%s", c);
    return r->ncat++;
}

static void rv_pipe_shipped(rill_driver_t *d, struct av_fixture *f, const rill_order_placed_t *o,
                            int64_t at)
{
    rill_item_qty_t q[64];
    CU_ASSERT_FATAL(o->item_cnt <= 64);
    for (size_t k = 0; k < o->item_cnt; k++)
        q[k] = (rill_item_qty_t){ o->items[k].product_id, o->items[k].quantity };
    rill_event_t ev = { .type = RILL_EVENT_ORDER_SHIPPED };
    ev.u.shipped = (rill_order_shipped_t){
        .order_id = o->order_id, .customer_id = o->customer_id, .location_id = o->location_id,
        .items = q, .item_cnt = o->item_cnt, .total_e4 = o->total_e4, .currency = o->currency,
        .status = RILL_STATUS_SHIPPED, .event_time = at, .correlation_id = o->correlation_id,
    };
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(f->serde, &ev, &f->buf, err, sizeof err), RILL_OK);
    pipe_bytes(d, "order_shipped", 0, o->location_id, f->buf.p, f->buf.len, at);
}

/* topology/examples/revenue_by_category.yaml as it is, over Avro
 * order_placed and order_shipped keyed by location (two of three orders
 * ship, 20 minutes after they were placed): every closed day of every
 * category is emitted once, with the exact revenue the test sums from the
 * lines it encoded; a last order days later closes them. */
static void test_revenue_example(void)
{
    const char *slash = strrchr(__FILE__, '/');
    char path[512], err[RILL_ERRSTR_SIZE] = "";
    snprintf(path, sizeof path, "%.*s../../topology/examples/revenue_by_category.yaml",
             slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
    struct rill_load_opts lo = { .lenient_substitution = 1 };
    struct rill_topology *t = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_opts(path, &lo, &t, err, sizeof err), RILL_OK);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct av_fixture f;
    memset(&f, 0, sizeof f);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&f.serde, err, sizeof err), RILL_OK);
    struct rill_gen_opts go = { .seed = 3, .locations = 5, .orders = RV_ORDERS,
                                .span_ms = 3 * RV_DAY };
    f.gen = rill_gen_new(&go, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f.gen);
    static struct rv_ref r;
    memset(&r, 0, sizeof r);
    int64_t last = 0;
    for (int i = 0; i < RV_ORDERS; i++) {
        const rill_order_placed_t *o = av_next(&f);
        pipe_bytes(d, "order_placed", 0, o->location_id, f.buf.p, f.buf.len, o->event_time);
        if (i % 3 == 0)
            continue; /* never ships: no revenue */
        int64_t at = o->event_time + 20 * 60 * 1000;
        if (!r.day0)
            r.day0 = at / RV_DAY * RV_DAY;
        size_t day = (size_t)((at / RV_DAY * RV_DAY - r.day0) / RV_DAY);
        CU_ASSERT_FATAL(day < RV_DAYS);
        for (size_t k = 0; k < o->item_cnt; k++) {
            size_t c = rv_cat(&r, o->items[k].category);
            r.sum[c][day] += o->items[k].quantity * o->items[k].unit_price_e4;
            r.has[c][day] = 1;
        }
        rv_pipe_shipped(d, &f, o, at);
        last = at;
    }
    CU_ASSERT_EQUAL(rill_driver_count(d, "revenue.dlq"), 0);
    /* nothing closed yet is everything but the days before the last one */
    size_t early = rill_driver_count(d, "revenue_daily");
    /* a last order, two days on, with a line of every category, ships:
     * each category's task sees its time move past the last day's close */
    static rill_order_item_t items[RV_CATS];
    for (size_t c = 0; c < r.ncat; c++)
        items[c] = (rill_order_item_t){ "P-flush", r.cat[c], 1, 0 };
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){
        .order_id = "O-flush", .customer_id = "C-flush", .location_id = "L0001",
        .items = items, .item_cnt = r.ncat, .total_e4 = 0, .currency = "EUR",
        .status = RILL_STATUS_OPEN, .event_time = last + 2 * RV_DAY, .correlation_id = "x",
    };
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(f.serde, &ev, &f.buf, err, sizeof err), RILL_OK);
    pipe_bytes(d, "order_placed", 0, "L0001", f.buf.p, f.buf.len, last + 2 * RV_DAY);
    rv_pipe_shipped(d, &f, &ev.u.order, last + 2 * RV_DAY);
    /* every (category, day) of the reference once, exact; nothing else */
    size_t want = 0, got = rill_driver_count(d, "revenue_daily"), bad = 0;
    for (size_t c = 0; c < r.ncat; c++)
        for (size_t day = 0; day < RV_DAYS; day++) {
            if (!r.has[c][day])
                continue;
            want++;
            char key[128], val[64];
            int64_t start = r.day0 + (int64_t)day * RV_DAY;
            snprintf(key, sizeof key, "%s@%" PRId64 "/%" PRId64, r.cat[c], start, start + RV_DAY);
            snprintf(val, sizeof val, "%" PRId64 ".%04" PRId64, r.sum[c][day] / 10000,
                     r.sum[c][day] % 10000);
            size_t seen = 0;
            for (size_t i = 0; i < got; i++) {
                const struct rill_captured *x = rill_driver_get(d, "revenue_daily", i);
                if (x->rec.key_len == strlen(key) && !memcmp(x->rec.key, key, strlen(key))) {
                    seen++;
                    bad += !output_is(d, "revenue_daily", i, key, val);
                }
            }
            if (seen != 1)
                fprintf(stderr, "\n  %s: %zu results\n", key, seen);
            bad += seen != 1;
        }
    printf("\n    revenue: %d orders, %zu categories, %zu category-days (%zu closed before the "
           "last order), %zu emitted\n", RV_ORDERS, r.ncat, want, early, got);
    CU_ASSERT(want > r.ncat); /* several days */
    CU_ASSERT(early < want);
    CU_ASSERT_EQUAL(got, want);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "revenue.dlq"), 0);
    av_close(&f);
    rill_driver_free(d);
    rill_topology_free(t);
}

static CU_TestInfo tests[] = {
    { "flat_map over JSON: projection, products, empty arrays, the DLQ, max.items",
      test_json_lines },
    { "config errors at file:line:col and at start; input.scale above scale", test_config_errors },
    { "flat_map writing Avro by a declared schema, read back by avro-c; misfits to the DLQ",
      test_avro_output },
    { "stream_join left writing Avro: an unmatched result that cannot be written is refused "
      "at arrival", test_avro_join_output },
    { "Avro order_placed through flat_map, filter and sum (input.scale) against the encoded "
      "orders", test_avro_operators },
    { "stream_join over Avro values: both sides' fields projected", test_avro_join },
    { "the revenue example: Avro orders joined, flattened, re-keyed, daily windows on close",
      test_revenue_example },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("flat_map", tests)
