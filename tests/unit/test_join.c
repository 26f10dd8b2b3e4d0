/*
 * test_join.c - the stream-table join (processors/join/table_join.c) through
 * the in-process test driver: a table materialized from its topic (latest
 * value per key, tombstones delete), inner and left joins, the projection's
 * exact JSON (types kept, nested paths, the key, missing fields as null),
 * the default {"stream","table"} shape, non-JSON values to the DLQ, and the
 * config errors `rill validate` and `rill run` report.
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "state/store_rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *yaml_of(const char *config)
{
    static char y[1024];
    snprintf(y, sizeof y,
             "application.id: a\n"
             "topics: {orders: {partitions: 2}, customers: {partitions: 2},\n"
             "         enriched: {partitions: 2}}\n"
             "processors:\n"
             "  enrich:\n"
             "    type: table_join\n"
             "    inputs: [orders, customers]\n"
             "    outputs: [enriched]\n"
             "    stores: [customers_table]\n"
             "    config: %s\n",
             config);
    return y;
}

static void pipe_kv(rill_driver_t *d, const char *topic, int32_t p, const char *key,
                    const char *value)
{
    char err[RILL_ERRSTR_SIZE] = "";
    rill_err_t res = rill_driver_pipe(d, topic, p, key, strlen(key), value,
                                      value ? strlen(value) : 0, NULL, 0, 1000, err, sizeof err);
    if (res != RILL_OK)
        fprintf(stderr, "\n  pipe %s: %s %s\n", topic, rill_err2str(res), err);
    CU_ASSERT_EQUAL(res, RILL_OK);
}

/* Output i's key and value equal key and want. */
static void expect(rill_driver_t *d, size_t i, const char *key, const char *want)
{
    const struct rill_captured *c = rill_driver_get(d, "enriched", i);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT(c->rec.key_len == strlen(key) && !memcmp(c->rec.key, key, c->rec.key_len));
    int same = c->rec.value_len == strlen(want) && !memcmp(c->rec.value, want, strlen(want));
    if (!same)
        fprintf(stderr, "\n  output %zu: %.*s\n  want:      %s\n", i, (int)c->rec.value_len,
                (const char *)c->rec.value, want);
    CU_ASSERT(same);
}

static void test_inner_projection(void)
{
    struct rill_topology *t = it_load(yaml_of(
        "{table: customers, project: \"id=stream.id, total=stream.total, name=table.name, "
        "level=table.tier.level, tier=table.tier, k=key, nope=table.nope, all=stream\"}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_kv(d, "customers", 0, "C1", "{\"name\": \"Ann \\\"A\\\"\", \"tier\": {\"level\": 2}}");
    CU_ASSERT_EQUAL(rill_driver_count(d, "enriched"), 0); /* the table forwards nothing */
    pipe_kv(d, "orders", 0, "C1", "{\"id\":\"o1\",\"total\":12.50}");
    pipe_kv(d, "orders", 0, "C2", "{\"id\":\"o2\",\"total\":1}"); /* no C2: inner drops it */
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "enriched"), 1);
    expect(d, 0, "C1",
           "{\"id\":\"o1\",\"total\":12.50,\"name\":\"Ann \\\"A\\\"\",\"level\":2,"
           "\"tier\":{\"level\": 2},\"k\":\"C1\",\"nope\":null,"
           "\"all\":{\"id\":\"o1\",\"total\":12.50}}");
    /* the latest table value counts; a tombstone deletes */
    pipe_kv(d, "customers", 0, "C1", "{\"name\":\"Bea\"}");
    pipe_kv(d, "orders", 0, "C1", "{\"id\":\"o3\",\"total\":2}");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "enriched"), 2);
    expect(d, 1, "C1",
           "{\"id\":\"o3\",\"total\":2,\"name\":\"Bea\",\"level\":null,\"tier\":null,"
           "\"k\":\"C1\",\"nope\":null,\"all\":{\"id\":\"o3\",\"total\":2}}");
    rill_store_t *s = rill_driver_store(d, "enrich", "customers_table", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_store_count(s), 1);
    pipe_kv(d, "customers", 0, "C1", NULL);
    CU_ASSERT_EQUAL(rill_store_count(s), 0);
    pipe_kv(d, "orders", 0, "C1", "{\"id\":\"o4\"}");
    pipe_kv(d, "orders", 0, "C1", NULL); /* a stream tombstone joins nothing */
    CU_ASSERT_EQUAL(rill_driver_count(d, "enriched"), 2);
    /* partitions are tables of their own: C1 on partition 1 is another key's place */
    pipe_kv(d, "customers", 1, "C1", "{\"name\":\"Cy\"}");
    pipe_kv(d, "orders", 0, "C1", "{\"id\":\"o5\"}");
    CU_ASSERT_EQUAL(rill_driver_count(d, "enriched"), 2);
    /* not JSON: to the DLQ */
    pipe_kv(d, "orders", 1, "C1", "not json");
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "enriched"), 2);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_left_default_shape(void)
{
    struct rill_topology *t = it_load(yaml_of("{table: customers, join: left}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_kv(d, "customers", 0, "C1", "[1, 2]");
    pipe_kv(d, "orders", 0, "C1", "{\"id\":\"o1\"}");
    pipe_kv(d, "orders", 0, "C9", "\"just a string\"");
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "enriched"), 2);
    expect(d, 0, "C1", "{\"stream\":{\"id\":\"o1\"},\"table\":[1, 2]}");
    expect(d, 1, "C9", "{\"stream\":\"just a string\",\"table\":null}");
    /* a table value that is not JSON fails the stream record that meets it */
    pipe_kv(d, "customers", 0, "C2", "{broken");
    pipe_kv(d, "orders", 0, "C2", "{\"id\":\"o2\"}");
    CU_ASSERT_EQUAL(rill_driver_count(d, "orders.dlq"), 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "enriched"), 2);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* What `rill validate` refuses, at the offending key's file:line:col, and
 * what the instance refuses when it starts. */
static void test_join_config_errors(void)
{
    static const struct { const char *config, *want; } bad[] = {
        { "{table: customers, join: outer}", "test.yaml:10:32: unknown join 'outer'" },
        { "{table: customers, project: \"a=elsewhere.x\"}",
          "test.yaml:10:32: bad projection: 'elsewhere.x': the side must be stream, table or key" },
        { "{table: customers, project: \"a=stream.x, a=table.y\"}",
          "bad projection: field 'a' is projected twice" },
        { "{table: customers, project: \"a b=stream\"}", "may hold only letters" },
        { "{table: customers, project: \"a=key.x\"}", "after key, nothing" },
        { "{table: customers, project: \"a=stream..x\"}", "a dotted path" },
        { "{table: customers, project: \"nothing\"}", "'nothing' is not NAME=SIDE[.PATH]" },
        { "{join: left}", "missing required config key 'table'" },
        { "{table: products}", "needs two inputs, a stream and the table 'products'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[RILL_ERRSTR_SIZE] = "";
        struct rill_topology *t = it_load(yaml_of(bad[i].config));
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        rill_driver_t *d = rill_driver_new(t, err, sizeof err);
        if (d) { /* checked when the instance starts: the first record */
            rill_err_t res = rill_driver_pipe(d, "orders", 0, "k", 1, "{}", 2, NULL, 0, 1, err,
                                              sizeof err);
            CU_ASSERT_NOT_EQUAL(res, RILL_OK);
        }
        if (!strstr(err, bad[i].want))
            fprintf(stderr, "\n  case %zu: '%s'\n", i, err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].want));
        rill_driver_free(d);
        rill_topology_free(t);
    }
}

static CU_TestInfo tests[] = {
    { "inner join: the table's latest value, tombstones, the projection's exact JSON",
      test_inner_projection },
    { "left join and the default shape; non-JSON values to the DLQ", test_left_default_shape },
    { "config errors at file:line:col and at start", test_join_config_errors },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("join", tests)
