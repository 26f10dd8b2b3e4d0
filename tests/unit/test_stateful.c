/*
 * test_stateful.c - the generic stateful processors (count, sum, latest) run
 * through the in-process test driver with memory stores: what they forward,
 * what they reject to the DLQ, and what their stores hold afterwards, checked
 * against a recomputation in the test. Each task (partition) has its own
 * store, so the same key on two partitions is two groups.
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "state/store_rt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bytes_are(const void *p, size_t len, const char *s)
{
    return p && len == strlen(s) && !memcmp(p, s, len);
}

static int key_is(const struct rill_captured *c, const char *k)
{
    return c && bytes_are(c->rec.key, c->rec.key_len, k);
}

static int value_is(const struct rill_captured *c, const char *v)
{
    return c && bytes_are(c->rec.value, c->rec.value_len, v);
}

/* The DLQ reason of captured record c, or "" when it has none. */
static const char *reason(const struct rill_captured *c, char *buf, size_t sz)
{
    buf[0] = '\0';
    for (size_t i = 0; c && i < c->rec.header_cnt; i++)
        if (!strcmp(c->rec.headers[i].name, "rill.error.message"))
            snprintf(buf, sz, "%.*s", (int)c->rec.headers[i].len,
                     (const char *)c->rec.headers[i].value);
    return buf;
}

/* Pipes key/value (NUL-terminated; NULL value: a tombstone) and expects the
 * driver to accept it: an OK or a REJECT, never a RETRY. */
static void pipe_ok(rill_driver_t *d, const char *topic, int32_t partition, const char *key,
                    const char *value)
{
    char err[RILL_ERRSTR_SIZE] = "";
    rill_err_t res = rill_driver_pipe(d, topic, partition, key, key ? strlen(key) : 0, value,
                                      value ? strlen(value) : 0, NULL, 0, 1000, err, sizeof err);
    if (res != RILL_OK)
        fprintf(stderr, "pipe %s/%d %s: %s %s\n", topic, partition, key ? key : "(null)",
                rill_err2str(res), err);
    CU_ASSERT_EQUAL(res, RILL_OK);
}

static int64_t store_i64(rill_driver_t *d, const char *proc, int32_t partition, const char *key)
{
    rill_store_t *s = rill_driver_store(d, proc, "counts", partition);
    int64_t v = -1;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_store_get_i64(s, key, strlen(key), &v), RILL_OK);
    return v;
}

/* ---- count ------------------------------------------------------------- */

#define NPART 3
#define NKEYS 5
#define NRECS 200

static const char *count_key_yaml =
    "application.id: a\n"
    "topics: {clicks: {partitions: 3}, clicks.count: {partitions: 3}}\n"
    "processors:\n"
    "  c:\n"
    "    type: count\n"
    "    inputs: [clicks]\n"
    "    outputs: [clicks.count]\n"
    "    stores: [counts]\n";

static void test_count_by_key_per_partition(void)
{
    struct rill_topology *t = it_load(count_key_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    int64_t want[NPART][NKEYS] = { { 0 } };
    int64_t emitted[NRECS];
    int keyof[NRECS];
    uint32_t x = 12345;
    char key[32], text[32];
    /* the same key reaches every partition: each task counts its own */
    for (int i = 0; i < NRECS; i++) {
        x = x * 1103515245u + 12345u;
        int32_t p = (int32_t)((x >> 8) % NPART);
        int k = (int)((x >> 16) % NKEYS);
        snprintf(key, sizeof key, "user-%d", k);
        pipe_ok(d, "clicks", p, key, "{\"page\":\"/\"}");
        emitted[i] = ++want[p][k];
        keyof[i] = k;
    }
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "clicks.count"), NRECS);
    CU_ASSERT_EQUAL(rill_driver_count(d, "clicks.dlq"), 0);
    for (int i = 0; i < NRECS; i++) {
        const struct rill_captured *c = rill_driver_get(d, "clicks.count", (size_t)i);
        snprintf(key, sizeof key, "user-%d", keyof[i]);
        snprintf(text, sizeof text, "%" PRId64, emitted[i]);
        CU_ASSERT(key_is(c, key));
        CU_ASSERT(value_is(c, text));
        CU_ASSERT_STRING_EQUAL(c->producer, "c");
        /* no header of the input's, only the runtime's traceparent */
        CU_ASSERT(c->rec.header_cnt == 1 && !strcmp(c->rec.headers[0].name, "traceparent"));
        CU_ASSERT_EQUAL(c->rec.timestamp, 1000);
    }
    /* the stores hold the recomputed counts, and nothing else */
    for (int32_t p = 0; p < NPART; p++) {
        rill_store_t *s = rill_driver_store(d, "c", "counts", p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL(rill_store_pending(s), 0);
        size_t groups = 0, seen = 0;
        for (int k = 0; k < NKEYS; k++) {
            snprintf(key, sizeof key, "user-%d", k);
            int64_t v = 0;
            rill_err_t err = rill_store_get_i64(s, key, strlen(key), &v);
            if (want[p][k]) {
                groups++;
                CU_ASSERT_EQUAL(err, RILL_OK);
                CU_ASSERT_EQUAL(v, want[p][k]);
            } else {
                CU_ASSERT_EQUAL(err, RILL_ERR_NOTFOUND);
            }
        }
        rill_store_iter_t *it = rill_store_prefix(s, "user-", 5);
        CU_ASSERT_PTR_NOT_NULL_FATAL(it);
        const void *k, *v;
        size_t kl, vl;
        while (rill_store_iter_next(it, &k, &kl, &v, &vl)) {
            int ki = kl == 6 ? ((const char *)k)[5] - '0' : -1;
            CU_ASSERT_FATAL(ki >= 0 && ki < NKEYS);
            CU_ASSERT_EQUAL_FATAL(vl, 8);
            int64_t n = 0;
            for (int b = 0; b < 8; b++) /* big-endian, as store.h says */
                n = (int64_t)((uint64_t)n << 8 | ((const unsigned char *)v)[b]);
            CU_ASSERT_EQUAL(n, want[p][ki]);
            seen++;
        }
        rill_store_iter_free(it);
        CU_ASSERT_EQUAL(seen, groups);
        CU_ASSERT_EQUAL(rill_store_count(s), groups);
    }
    rill_driver_free(d);
    rill_topology_free(t);
}

static const char *count_field_yaml =
    "application.id: a\n"
    "topics: {orders: {partitions: 2}, per-customer: {partitions: 2}}\n"
    "processors:\n"
    "  c:\n"
    "    type: count\n"
    "    inputs: [orders]\n"
    "    outputs: [per-customer]\n"
    "    stores: [counts]\n"
    "    config: {by: customer.id}\n";

static void test_count_by_json_field(void)
{
    struct rill_topology *t = it_load(count_field_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_ok(d, "orders", 0, "o1", "{\"customer\":{\"id\":\"alice\"}}");
    pipe_ok(d, "orders", 0, "o2", "{\"customer\":{\"id\":\"bob\"}}");
    pipe_ok(d, "orders", 1, "o3", "{\"customer\":{\"id\":\"alice\"}}");
    pipe_ok(d, "orders", 0, NULL, "{\"customer\":{\"id\":\"alice\"}}"); /* no key: fine */
    pipe_ok(d, "orders", 0, "o5", "{\"customer\":{\"id\":42}}");          /* numbers too */
    pipe_ok(d, "orders", 0, "o6", "{\"customer\":{}}");                    /* no field: dlq */
    pipe_ok(d, "orders", 1, "o7", "{\"customer\":");                       /* not json: dlq */
    pipe_ok(d, "orders", 1, "o8", NULL);                                   /* tombstone: ignored */
    pipe_ok(d, "orders", 0, "o9", "{\"customer\":{\"id\":\"bob\"}}");

    static const struct { const char *key, *value; } want[] = {
        { "alice", "1" }, { "bob", "1" }, { "alice", "1" }, /* partition 1's alice */
        { "alice", "2" }, { "42", "1" },  { "bob", "2" },
    };
    size_t n = sizeof want / sizeof want[0];
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "per-customer"), n);
    for (size_t i = 0; i < n; i++) {
        const struct rill_captured *c = rill_driver_get(d, "per-customer", i);
        CU_ASSERT(key_is(c, want[i].key));
        CU_ASSERT(value_is(c, want[i].value));
        /* re-keyed: the output partition follows the group, not the input */
        CU_ASSERT_EQUAL(c->partition, rill_partition_murmur2(want[i].key, strlen(want[i].key), 2));
    }
    char buf[256];
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "orders.dlq"), 2);
    const struct rill_captured *bad = rill_driver_get(d, "orders.dlq", 0);
    CU_ASSERT(key_is(bad, "o6"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(bad, buf, sizeof buf), "'customer.id'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "no such field"));
    bad = rill_driver_get(d, "orders.dlq", 1);
    CU_ASSERT(key_is(bad, "o7"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(bad, buf, sizeof buf), "'customer.id'"));

    CU_ASSERT_EQUAL(store_i64(d, "c", 0, "alice"), 2);
    CU_ASSERT_EQUAL(store_i64(d, "c", 0, "bob"), 2);
    CU_ASSERT_EQUAL(store_i64(d, "c", 0, "42"), 1);
    CU_ASSERT_EQUAL(store_i64(d, "c", 1, "alice"), 1);
    CU_ASSERT_EQUAL(rill_store_count(rill_driver_store(d, "c", "counts", 0)), 3);
    CU_ASSERT_EQUAL(rill_store_count(rill_driver_store(d, "c", "counts", 1)), 1);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_count_by_key_needs_a_key(void)
{
    struct rill_topology *t = it_load(count_key_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_ok(d, "clicks", 2, NULL, "{}");
    pipe_ok(d, "clicks", 2, "", "{}"); /* an empty key is a key */
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "clicks.count"), 1);
    CU_ASSERT(key_is(rill_driver_get(d, "clicks.count", 0), ""));
    CU_ASSERT(value_is(rill_driver_get(d, "clicks.count", 0), "1"));
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "clicks.dlq"), 1);
    char buf[256];
    CU_ASSERT_PTR_NOT_NULL(
        strstr(reason(rill_driver_get(d, "clicks.dlq", 0), buf, sizeof buf), "no key"));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- sum --------------------------------------------------------------- */

static struct rill_topology *load_sum(const char *config)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "application.id: a\n"
             "topics: {payments: {partitions: 2}, totals: {partitions: 2}}\n"
             "processors:\n"
             "  s:\n"
             "    type: sum\n"
             "    inputs: [payments]\n"
             "    outputs: [totals]\n"
             "    stores: [counts]\n"
             "    config: {%s}\n",
             config);
    return it_load(yaml);
}

static void test_sum_scale0(void)
{
    struct rill_topology *t = load_sum("field: qty");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    static const struct { int32_t partition; const char *key, *value, *sum; } in[] = {
        { 0, "sku-1", "{\"qty\":3}", "3" },
        { 0, "sku-1", "{\"qty\":-5}", "-2" },
        { 1, "sku-1", "{\"qty\":7}", "7" },
        { 0, "sku-2", "{\"qty\":\"+10\"}", "10" },
        { 0, "sku-1", "{\"qty\":\"-0\"}", "-2" },
        { 0, "sku-2", "{\"qty\":9223372036854775807}", NULL }, /* 10 + max overflows */
        { 0, "sku-3", "{\"qty\":9223372036854775807}", "9223372036854775807" },
        { 0, "sku-3", "{\"qty\":1}", NULL },
        { 0, "sku-4", "{\"qty\":-9223372036854775808}", "-9223372036854775808" },
        { 0, "sku-5", "{\"qty\":9223372036854775808}", NULL },
        { 0, "sku-5", "{\"qty\":1.0}", NULL },
        { 0, "sku-5", "{\"qty\":true}", NULL },
        { 0, "sku-5", "{\"price\":1}", NULL },
        { 1, "sku-1", NULL, NULL }, /* tombstone: ignored, not rejected */
    };
    size_t n = sizeof in / sizeof in[0], out = 0, dlq = 0;
    for (size_t i = 0; i < n; i++) {
        pipe_ok(d, "payments", in[i].partition, in[i].key, in[i].value);
        if (in[i].sum) {
            CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "totals"), out + 1);
            CU_ASSERT(key_is(rill_driver_get(d, "totals", out), in[i].key));
            CU_ASSERT(value_is(rill_driver_get(d, "totals", out), in[i].sum));
            out++;
        } else if (in[i].value) {
            CU_ASSERT_EQUAL(rill_driver_count(d, "totals"), out); /* nothing forwarded */
            CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "payments.dlq"), dlq + 1);
            CU_ASSERT(value_is(rill_driver_get(d, "payments.dlq", dlq), in[i].value));
            dlq++;
        }
    }
    CU_ASSERT_EQUAL(rill_driver_count(d, "totals"), out);
    CU_ASSERT_EQUAL(rill_driver_count(d, "payments.dlq"), dlq);
    char buf[256];
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "payments.dlq", 0), buf, sizeof buf),
                                  "overflows"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "payments.dlq", 2), buf, sizeof buf),
                                  "'9223372036854775808' overflows"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "payments.dlq", 3), buf, sizeof buf),
                                  "more than 0 fraction digits"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "payments.dlq", 4), buf, sizeof buf),
                                  "'true' is not a decimal number"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "payments.dlq", 5), buf, sizeof buf),
                                  "'qty': the record has no such field"));
    /* the rejected records left the stores as they were */
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "sku-1"), -2);
    CU_ASSERT_EQUAL(store_i64(d, "s", 1, "sku-1"), 7);
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "sku-2"), 10);
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "sku-3"), INT64_MAX);
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "sku-4"), INT64_MIN);
    int64_t v;
    CU_ASSERT_EQUAL(rill_store_get_i64(rill_driver_store(d, "s", "counts", 0), "sku-5", 5, &v),
                    RILL_ERR_NOTFOUND);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_sum_scale2_money(void)
{
    struct rill_topology *t = load_sum("field: amount, by: customer, scale: 2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    /* amounts, in cents, that would not add up exactly in binary floating point */
    static const struct { const char *customer, *amount, *sum; } in[] = {
        { "alice", "0.1", "0.10" },
        { "alice", "0.2", "0.30" },
        { "alice", "12.2", "12.50" },
        { "bob", "-0.05", "-0.05" },
        { "bob", "\"0.05\"", "0.00" },
        { "bob", "-1", "-1.00" },
        { "bob", "\"-1234567.89\"", "-1234568.89" },
        { "carol", "92233720368547758.07", "92233720368547758.07" },
        { "dave", "-92233720368547758.08", "-92233720368547758.08" },
        { "erin", "0.00", "0.00" },
    };
    size_t n = sizeof in / sizeof in[0];
    char value[256];
    for (size_t i = 0; i < n; i++) {
        snprintf(value, sizeof value, "{\"customer\":\"%s\",\"amount\":%s}", in[i].customer,
                 in[i].amount);
        pipe_ok(d, "payments", 0, "order", value);
        CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "totals"), i + 1);
        CU_ASSERT(key_is(rill_driver_get(d, "totals", i), in[i].customer));
        CU_ASSERT(value_is(rill_driver_get(d, "totals", i), in[i].sum));
    }
    /* every reject reaches the DLQ with a reason; nothing is forwarded */
    static const struct { const char *amount, *why; } bad[] = {
        { "1.234", "'1.234' has more than 2 fraction digits (scale 2)" },
        { "1.230", "more than 2 fraction digits" }, /* even a trailing zero */
        { "\"abc\"", "'abc' is not a decimal number" },
        { "1e3", "'1e3' is not a decimal number" },
        { "\"\"", "'' is not a decimal number" },
        { "\"1.\"", "'1.' is not a decimal number" },
        { "\".5\"", "'.5' is not a decimal number" },
        { "\"--1\"", "'--1' is not a decimal number" },
        { "\" 1\"", "' 1' is not a decimal number" },
        { "\"1.2.3\"", "'1.2.3' is not a decimal number" },
        { "\"1.999x\"", "'1.999x' is not a decimal number" },
        { "null", "'null' is not a decimal number" },
        { "{\"v\":1}", "cannot sum field 'amount'" },
        { "92233720368547758.08", "'92233720368547758.08' overflows a 64-bit integer at scale 2" },
        { "100000000000000000", "overflows" },
        { "0.01", "the sum of its group overflows" }, /* carol is at the top already */
    };
    size_t nb = sizeof bad / sizeof bad[0];
    char buf[256];
    for (size_t i = 0; i < nb; i++) {
        snprintf(value, sizeof value, "{\"customer\":\"carol\",\"amount\":%s}", bad[i].amount);
        pipe_ok(d, "payments", 0, "order", value);
        CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "payments.dlq"), i + 1);
        const struct rill_captured *c = rill_driver_get(d, "payments.dlq", i);
        CU_ASSERT(value_is(c, value));
        if (!strstr(reason(c, buf, sizeof buf), bad[i].why))
            fprintf(stderr, "\n  %s: reason '%s', want '%s'\n", bad[i].amount, buf, bad[i].why);
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, bad[i].why));
    }
    CU_ASSERT_EQUAL(rill_driver_count(d, "totals"), n);
    /* the rejects left every total as it was */
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "alice"), 1250);
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "bob"), -123456889);
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "carol"), INT64_MAX);
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "dave"), INT64_MIN);
    CU_ASSERT_EQUAL(store_i64(d, "s", 0, "erin"), 0);
    CU_ASSERT_EQUAL(rill_store_count(rill_driver_store(d, "s", "counts", 0)), 5);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_sum_scale18_on_header(void)
{
    struct rill_topology *t = load_sum("field: 'header:rate', scale: 18");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    static const struct { const char *rate, *sum; } in[] = {
        { "0.000000000000000001", "0.000000000000000001" },
        { "9.223372036854775806", "9.223372036854775807" },
        { "-9.223372036854775807", "0.000000000000000000" },
        { "-9.223372036854775808", "-9.223372036854775808" },
        { "9.223372036854775808", NULL },
        { "10", NULL },
        { "-0.000000000000000001", NULL }, /* below INT64_MIN */
        { "1.0000000000000000000", NULL },
    };
    size_t out = 0;
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        rill_header_t h = { "rate", in[i].rate, strlen(in[i].rate) };
        CU_ASSERT_EQUAL(rill_driver_pipe(d, "payments", 1, "fx", 2, "{}", 2, &h, 1, 5, NULL, 0),
                        RILL_OK);
        CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "totals"), out + (in[i].sum != NULL));
        if (in[i].sum)
            CU_ASSERT(value_is(rill_driver_get(d, "totals", out++), in[i].sum));
    }
    CU_ASSERT_EQUAL(rill_driver_count(d, "payments.dlq"), 4);
    CU_ASSERT_EQUAL(store_i64(d, "s", 1, "fx"), INT64_MIN);
    /* a record without the header is rejected like a missing field */
    pipe_ok(d, "payments", 1, "fx", "{}");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "payments.dlq"), 5);
    char buf[256];
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "payments.dlq", 4), buf, sizeof buf),
                                  "'header:rate': the record has no such field"));
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_sum_config_errors(void)
{
    char err[RILL_ERRSTR_SIZE] = "";
    /* scale is 0..18 in sum's table: 19 does not check */
    struct rill_topology *t = load_sum("field: amount, scale: 19");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NULL(rill_driver_new(t, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "config key 'scale' is above its maximum 18 (expects an "
                                       "integer from 0 to 18)"));
    rill_topology_free(t);
    /* `field` has no default: the topology does not check */
    t = load_sum("scale: 2");
    rill_driver_t *bad = t ? rill_driver_new(t, err, sizeof err) : NULL;
    CU_ASSERT_PTR_NULL(bad);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "field"));
    rill_driver_free(bad);
    rill_topology_free(t);
}

/* ---- latest ------------------------------------------------------------ */

/* The value of key in the store of processor l at partition, "(none)" when
 * absent; into buf. */
static const char *latest_value(rill_driver_t *d, int32_t partition, const char *key, char *buf,
                                size_t sz)
{
    rill_store_t *s = rill_driver_store(d, "l", "last", partition);
    void *v = NULL;
    size_t vl = 0;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    rill_err_t err = rill_store_get(s, key, strlen(key), &v, &vl);
    if (err == RILL_ERR_NOTFOUND)
        snprintf(buf, sz, "(none)");
    else if (err != RILL_OK)
        snprintf(buf, sz, "(error %s)", rill_err2str(err));
    else
        snprintf(buf, sz, "%.*s", (int)vl, (const char *)v);
    free(v);
    return buf;
}

static const char *latest_yaml =
    "application.id: a\n"
    "topics: {profiles: {partitions: 2}, profiles.latest: {partitions: 2}}\n"
    "processors:\n"
    "  l:\n"
    "    type: latest\n"
    "    inputs: [profiles]\n"
    "    outputs: [profiles.latest]\n"
    "    stores: [last]\n";

static void test_latest_overwrite_and_tombstone(void)
{
    struct rill_topology *t = it_load(latest_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char buf[256];
    pipe_ok(d, "profiles", 0, "alice", "v1");
    pipe_ok(d, "profiles", 0, "alice", "v2");
    pipe_ok(d, "profiles", 1, "alice", "w1"); /* another task, another store */
    rill_header_t h = { "source", "crm", 3 };
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "profiles", 0, "bob", 3, "b1", 2, &h, 1, 7, NULL, 0),
                    RILL_OK);
    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "alice", buf, sizeof buf), "v2");
    CU_ASSERT_STRING_EQUAL(latest_value(d, 1, "alice", buf, sizeof buf), "w1");
    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "bob", buf, sizeof buf), "b1");
    pipe_ok(d, "profiles", 0, "alice", NULL);  /* delete */
    pipe_ok(d, "profiles", 0, "nobody", NULL); /* delete of nothing: still forwarded */
    pipe_ok(d, "profiles", 0, "bob", "v2");    /* the same value as alice's, another key */
    pipe_ok(d, "profiles", 0, "bob", "v2");    /* the same again: forwarded again */
    pipe_ok(d, "profiles", 0, "carol", "");    /* empty is a value, not a tombstone */
    pipe_ok(d, "profiles", 0, NULL, "x");      /* no key to group by: dlq */

    static const struct { const char *key, *value; } want[] = {
        { "alice", "v1" }, { "alice", "v2" }, { "alice", "w1" }, { "bob", "b1" },
        { "alice", NULL }, { "nobody", NULL }, { "bob", "v2" }, { "bob", "v2" },
        { "carol", "" },
    };
    size_t n = sizeof want / sizeof want[0];
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "profiles.latest"), n);
    for (size_t i = 0; i < n; i++) {
        const struct rill_captured *c = rill_driver_get(d, "profiles.latest", i);
        CU_ASSERT(key_is(c, want[i].key));
        if (want[i].value) {
            CU_ASSERT(value_is(c, want[i].value));
        } else {
            CU_ASSERT_PTR_NULL(c->rec.value);
        }
    }
    /* the record's headers and timestamp travel with its value */
    const struct rill_captured *b = rill_driver_get(d, "profiles.latest", 3);
    CU_ASSERT_EQUAL_FATAL(b->rec.header_cnt, 2); /* and the runtime's traceparent */
    CU_ASSERT_STRING_EQUAL(b->rec.headers[0].name, "source");
    CU_ASSERT_EQUAL(b->rec.timestamp, 7);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "profiles.dlq"), 1);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(reason(rill_driver_get(d, "profiles.dlq", 0), buf, sizeof buf), "no key"));

    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "alice", buf, sizeof buf), "(none)");
    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "nobody", buf, sizeof buf), "(none)");
    CU_ASSERT_STRING_EQUAL(latest_value(d, 1, "alice", buf, sizeof buf), "w1");
    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "bob", buf, sizeof buf), "v2");
    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "carol", buf, sizeof buf), "");
    /* a full scan of partition 0 finds exactly bob and carol, in key order */
    rill_store_iter_t *it = rill_store_range(rill_driver_store(d, "l", "last", 0), NULL, 0, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it);
    const void *k, *v;
    size_t kl, vl;
    CU_ASSERT_FATAL(rill_store_iter_next(it, &k, &kl, &v, &vl));
    CU_ASSERT(bytes_are(k, kl, "bob") && bytes_are(v, vl, "v2"));
    CU_ASSERT_FATAL(rill_store_iter_next(it, &k, &kl, &v, &vl));
    CU_ASSERT(bytes_are(k, kl, "carol") && vl == 0);
    CU_ASSERT_FALSE(rill_store_iter_next(it, &k, &kl, &v, &vl));
    rill_store_iter_free(it);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_latest_by_field_and_header(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                                   "processors:\n"
                                   "  l:\n"
                                   "    type: latest\n"
                                   "    inputs: [in]\n"
                                   "    outputs: [out]\n"
                                   "    stores: [last]\n"
                                   "    config: {by: sku}\n"
                                   "  h:\n"
                                   "    type: latest\n"
                                   "    inputs: [in]\n"
                                   "    outputs: [out]\n"
                                   "    stores: [byheader]\n"
                                   "    config: {by: 'header:sku'}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char buf[256];
    rill_header_t h = { "sku", "A1", 2 };
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "in", 0, "k1", "{\"sku\":\"A1\",\"qty\":1}", 1), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "k2", 2, "{\"sku\":\"A1\",\"qty\":2}", 20, &h, 1,
                                     2, NULL, 0),
                    RILL_OK);
    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "A1", buf, sizeof buf), "{\"sku\":\"A1\",\"qty\":2}");
    rill_store_t *hs = rill_driver_store(d, "h", "byheader", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hs);
    CU_ASSERT_EQUAL(rill_store_count(hs), 1);
    /* a tombstone has no JSON: `by: sku` rejects it, `by: header:sku` deletes */
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "in", 0, "k2", 2, NULL, 0, &h, 1, 3, NULL, 0), RILL_OK);
    CU_ASSERT_EQUAL(rill_store_count(hs), 0);
    CU_ASSERT_STRING_EQUAL(latest_value(d, 0, "A1", buf, sizeof buf), "{\"sku\":\"A1\",\"qty\":2}");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "in.dlq"), 2); /* k1 has no header, then the tombstone */
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "in.dlq", 0), buf, sizeof buf),
                                  "'header:sku': the record has no such field"));
    CU_ASSERT_PTR_NOT_NULL(strstr(reason(rill_driver_get(d, "in.dlq", 1), buf, sizeof buf),
                                  "'sku': the tombstone has no such field"));
    /* out: l(k1), l(k2), h(k2), h(tombstone) */
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "out"), 4);
    CU_ASSERT(key_is(rill_driver_get(d, "out", 0), "A1"));
    CU_ASSERT_PTR_NULL(rill_driver_get(d, "out", 3)->rec.value);
    CU_ASSERT_STRING_EQUAL(rill_driver_get(d, "out", 3)->producer, "h");
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- chains, commits, grants ------------------------------------------- */

/* count feeds latest through a re-keyed topic: every record is taken (no
 * RETRY), every store is committed after it, and latest's stores, in the
 * partitions the counts were re-keyed to, hold the final counts. */
static void test_count_into_latest_no_retry(void)
{
    struct rill_topology *t = it_load("application.id: a\n"
                                   "topics: {clicks: {partitions: 3}, clicks.count: {partitions: 4},"
                                   " last: {partitions: 4}}\n"
                                   "processors:\n"
                                   "  c: {type: count, inputs: [clicks], outputs: [clicks.count],"
                                   " stores: [counts], config: {by: page}}\n"
                                   "  l: {type: latest, inputs: [clicks.count], outputs: [last],"
                                   " stores: [last]}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    static const char *pages[] = { "/", "/cart", "/pay", "/help" };
    int64_t want[NPART][4] = { { 0 } };
    char value[64], text[32], buf[64];
    uint32_t x = 7;
    for (int i = 0; i < 120; i++) {
        x = x * 1103515245u + 12345u;
        int32_t p = (int32_t)((x >> 8) % NPART);
        int k = (int)((x >> 16) % 4);
        if (i % 10 == 9)
            snprintf(value, sizeof value, "{\"referrer\":\"%s\"}", pages[k]); /* dlq */
        else {
            snprintf(value, sizeof value, "{\"page\":\"%s\"}", pages[k]);
            want[p][k]++;
        }
        char err[RILL_ERRSTR_SIZE] = "";
        CU_ASSERT_EQUAL(rill_driver_pipe(d, "clicks", p, NULL, 0, value, strlen(value), NULL, 0,
                                         i, err, sizeof err),
                        RILL_OK);
        CU_ASSERT_EQUAL(rill_store_pending(rill_driver_store(d, "c", "counts", p)), 0);
        int32_t lp = rill_partition_murmur2(pages[k], strlen(pages[k]), 4);
        rill_store_t *ls = rill_driver_store(d, "l", "last", lp);
        if (ls)
            CU_ASSERT_EQUAL(rill_store_pending(ls), 0);
    }
    CU_ASSERT_EQUAL(rill_driver_count(d, "clicks.dlq"), 12);
    CU_ASSERT_EQUAL(rill_driver_count(d, "clicks.count.dlq"), 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "last"), 108);
    /* the same page counted on several input partitions lands in one latest
     * partition, where the last write wins: compare with that emission */
    for (int k = 0; k < 4; k++) {
        int32_t lp = rill_partition_murmur2(pages[k], strlen(pages[k]), 4);
        const struct rill_captured *last = NULL;
        for (size_t i = 0; i < rill_driver_count(d, "last"); i++)
            if (key_is(rill_driver_get(d, "last", i), pages[k]))
                last = rill_driver_get(d, "last", i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(last);
        CU_ASSERT_EQUAL(last->partition, lp);
        snprintf(text, sizeof text, "%.*s", (int)last->rec.value_len,
                 (const char *)last->rec.value);
        CU_ASSERT_STRING_EQUAL(latest_value(d, lp, pages[k], buf, sizeof buf), text);
        int found = 0;
        for (int32_t p = 0; p < NPART; p++)
            if (want[p][k] && want[p][k] == strtoll(text, NULL, 10))
                found = 1;
        CU_ASSERT(found);
        for (int32_t p = 0; p < NPART; p++)
            if (want[p][k])
                CU_ASSERT_EQUAL(store_i64(d, "c", p, pages[k]), want[p][k]);
    }
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_missing_store_grant(void)
{
    static const char *types[] = { "count", "latest", "sum" };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char yaml[512], err[RILL_ERRSTR_SIZE] = "";
        snprintf(yaml, sizeof yaml,
                 "application.id: a\n"
                 "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
                 "processors:\n"
                 "  agg: {type: %s, inputs: [in], outputs: [out], config: {%s}}\n",
                 types[i], strcmp(types[i], "sum") ? "" : "field: n");
        struct rill_topology *t = it_load(yaml);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        rill_driver_t *d = it_driver(t);
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_NOT_EQUAL(rill_driver_pipe(d, "in", 0, "k", 1, "{\"n\":1}", 7, NULL, 0, 1, err,
                                             sizeof err),
                            RILL_OK);
        if (!strstr(err, "processor 'agg' needs a store: add `stores: [agg]`"))
            fprintf(stderr, "\n  %s: '%s'\n", types[i], err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "processor 'agg' needs a store: add `stores: [agg]`"));
        CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 0);
        rill_driver_free(d);
        rill_topology_free(t);
    }
}

static CU_TestInfo tests[] = {
    { "count by key: per partition, running counts, store contents", test_count_by_key_per_partition },
    { "count by json field: dlq for missing field and bad json, tombstones ignored", test_count_by_json_field },
    { "count by key: a record without a key goes to the dlq", test_count_by_key_needs_a_key },
    { "sum scale 0: negatives, int64 limits, rejects to the dlq", test_sum_scale0 },
    { "sum scale 2: exact money, every kind of reject", test_sum_scale2_money },
    { "sum scale 18 on a header: the int64 edges", test_sum_scale18_on_header },
    { "sum: scale out of range and a missing field key", test_sum_config_errors },
    { "latest: overwrite, tombstone delete, store scan", test_latest_overwrite_and_tombstone },
    { "latest by json field and by header; tombstones", test_latest_by_field_and_header },
    { "count into latest: no retry, stores committed, re-keyed", test_count_into_latest_no_retry },
    { "count, sum, latest without a store fail to start", test_missing_store_grant },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("stateful", tests)
