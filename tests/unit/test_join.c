/*
 * test_join.c - the stream-table join (processors/join/table_join.c) through
 * the in-process test driver: a table materialized from its topic (latest
 * value per key, tombstones delete), inner and left joins, the projection's
 * exact JSON (types kept, nested paths, the key, missing fields as null),
 * the default {"stream","table"} shape, non-JSON values to the DLQ, and the
 * config errors `rill validate` and `rill run` report. And the windowed
 * stream-stream join (stream_join.c) inner, left and outer, record by record
 * against a brute-force model of the pairs and of the unmatched records a
 * closing window forwards.
 */
#include "tests/lib/suite.h"
#include "tests/lib/drive.h"
#include "state/store_rt.h"
#include "topology/model/config.h"

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

/* ---- stream_join ------------------------------------------------------------ */

#define SJ_N 500
#define SJ_W 40
#define SJ_G 50

struct sj_rec { int side, key, id, matched; long ts; };

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* One join type against a brute-force model, record by record: the outputs
 * of each record (pairs at once, unmatched ones when their window closes)
 * equal the model's, late records go to the DLQ, and the store keeps only
 * records whose window is open. */
static void run_stream_join(const char *type)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "application.id: a\n"
             "topics: {clicks: {partitions: 1}, views: {partitions: 1}, pairs: {partitions: 1}}\n"
             "processors:\n"
             "  j:\n"
             "    type: stream_join\n"
             "    inputs: [clicks, views]\n"
             "    outputs: [pairs]\n"
             "    stores: [buf]\n"
             "    config: {window.ms: %d, grace.ms: %d, join: %s, time: t,\n"
             "             project: \"l=left.id, r=right.id, k=key\"}\n",
             SJ_W, SJ_G, type);
    int left = !strcmp(type, "left"), outer = !strcmp(type, "outer");
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    static struct sj_rec acc[SJ_N];
    static char want[SJ_N][64], got[SJ_N][64];
    size_t nacc = 0, late = 0, pairs = 0, alone = 0, bad = 0;
    long st = -1;
    unsigned seed = 7;
    for (int i = 0; i < SJ_N; i++) {
        struct sj_rec r = { rand_r(&seed) % 2, rand_r(&seed) % 3, i, 0,
                            i * 10L + rand_r(&seed) % 120 - 60 };
        if (r.ts < 0)
            r.ts = 0;
        char key[2] = { (char)('a' + r.key), 0 }, val[64];
        snprintf(val, sizeof val, "{\"id\":%d,\"t\":%ld}", r.id, r.ts);
        size_t before = rill_driver_count(d, "pairs"), dlq_before = rill_driver_count(d, r.side ? "views.dlq" : "clicks.dlq");
        pipe_kv(d, r.side ? "views" : "clicks", 0, key, val);
        size_t nw = 0;
        if (st >= 0 && r.ts < st - SJ_G) {
            late++;
            bad += rill_driver_count(d, r.side ? "views.dlq" : "clicks.dlq") != dlq_before + 1;
        } else {
            for (size_t x = 0; x < nacc; x++) {
                struct sj_rec *o = &acc[x];
                if (o->side == r.side || o->key != r.key || labs(o->ts - r.ts) > SJ_W)
                    continue;
                const struct sj_rec *l = r.side ? o : &r, *rr = r.side ? &r : o;
                snprintf(want[nw++], sizeof want[0], "{\"l\":%d,\"r\":%d,\"k\":\"%s\"}", l->id,
                         rr->id, key);
                o->matched = r.matched = 1;
                pairs++;
            }
            acc[nacc++] = r;
            if (r.ts > st) {
                long old = st;
                st = r.ts;
                for (size_t x = 0; x < nacc; x++) {
                    struct sj_rec *o = &acc[x];
                    int closes = o->ts < st - SJ_W - SJ_G && !(old >= 0 && o->ts < old - SJ_W - SJ_G);
                    if (!closes || o->matched || !(outer || (left && o->side == 0)))
                        continue;
                    char k[2] = { (char)('a' + o->key), 0 };
                    if (o->side == 0)
                        snprintf(want[nw++], sizeof want[0], "{\"l\":%d,\"r\":null,\"k\":\"%s\"}", o->id, k);
                    else
                        snprintf(want[nw++], sizeof want[0], "{\"l\":null,\"r\":%d,\"k\":\"%s\"}", o->id, k);
                    alone++;
                }
            }
        }
        size_t ng = rill_driver_count(d, "pairs") - before;
        for (size_t g = 0; g < ng && g < SJ_N; g++) {
            const struct rill_captured *c = rill_driver_get(d, "pairs", before + g);
            snprintf(got[g], sizeof got[0], "%.*s", (int)c->rec.value_len, (const char *)c->rec.value);
        }
        qsort(want, nw, sizeof want[0], cmp_str);
        qsort(got, ng, sizeof got[0], cmp_str);
        int same = ng == nw;
        for (size_t g = 0; same && g < ng; g++)
            same = !strcmp(got[g], want[g]);
        if (!same && bad++ < 3)
            fprintf(stderr, "\n  %s, record %d: %zu outputs, the model %zu (%s / %s)", type, i, ng,
                    nw, ng ? got[0] : "-", nw ? want[0] : "-");
    }
    /* open windows only: two entries per record still open, and "m" */
    size_t open = 0;
    for (size_t x = 0; x < nacc; x++)
        open += acc[x].ts >= st - SJ_W - SJ_G;
    rill_store_t *s = rill_driver_store(d, "j", "buf", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_store_count(s), 2 * open + 1);
    fprintf(stderr, "\n    %s: %d records, %zu late, %zu pairs, %zu unmatched forwarded, %zu open",
            type, SJ_N, late, pairs, alone, open);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(late > 0 && pairs > 0);
    CU_ASSERT(left || outer ? alone > 0 : alone == 0);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* By hand: the window's both edges, both arrival orders, a config error. */
static void test_stream_join_bounds(void)
{
    static const char *y =
        "application.id: a\n"
        "topics: {l: {partitions: 1}, r: {partitions: 1}, o: {partitions: 1}}\n"
        "processors:\n"
        "  j:\n"
        "    type: stream_join\n"
        "    inputs: [l, r]\n"
        "    outputs: [o]\n"
        "    stores: [buf]\n"
        "    config: {window.ms: 40, grace.ms: 1000, time: t, project: \"l=left.id, r=right.id\"}\n";
    struct rill_topology *t = it_load(y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_kv(d, "l", 0, "k", "{\"id\":1,\"t\":100}");
    pipe_kv(d, "r", 0, "k", "{\"id\":2,\"t\":140}"); /* 40 apart: joins */
    pipe_kv(d, "r", 0, "k", "{\"id\":3,\"t\":141}"); /* 41: does not */
    pipe_kv(d, "r", 0, "k", "{\"id\":4,\"t\":60}");  /* 40 before: joins */
    pipe_kv(d, "r", 0, "k", "{\"id\":5,\"t\":59}");  /* 41 before: does not */
    pipe_kv(d, "r", 0, "x", "{\"id\":6,\"t\":100}"); /* another key: does not */
    pipe_kv(d, "l", 0, "k", "{\"id\":7,\"t\":181}"); /* joins 3 (40) and 2 (41? no) */
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "o"), 3);
    const struct rill_captured *c = rill_driver_get(d, "o", 0);
    CU_ASSERT(c->rec.value_len == 13 && !memcmp(c->rec.value, "{\"l\":1,\"r\":2}", 13));
    c = rill_driver_get(d, "o", 1);
    CU_ASSERT(c->rec.value_len == 13 && !memcmp(c->rec.value, "{\"l\":1,\"r\":4}", 13));
    c = rill_driver_get(d, "o", 2);
    CU_ASSERT(c->rec.value_len == 13 && !memcmp(c->rec.value, "{\"l\":7,\"r\":3}", 13));
    rill_driver_free(d);
    rill_topology_free(t);
    char bad[1024], err[RILL_ERRSTR_SIZE] = "";
    snprintf(bad, sizeof bad, "%s", y);
    *strstr(bad, "window.ms: 40") = '\0';
    strcat(bad, "window.ms: 0}\n");
    t = it_load(bad);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    d = rill_driver_new(t, err, sizeof err);
    CU_ASSERT_PTR_NULL(d);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "test.yaml:9:14: a stream_join needs window.ms > 0"));
    if (!strstr(err, "a stream_join needs window.ms > 0"))
        fprintf(stderr, "\n  %s\n", err);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_stream_join_inner(void) { run_stream_join("inner"); }
static void test_stream_join_left(void) { run_stream_join("left"); }
static void test_stream_join_outer(void) { run_stream_join("outer"); }

/* ---- rekey ---------------------------------------------------------------- */

/* `rekey: {by: category}` on a count over sales keyed by location: the
 * loaded topology holds the rekey half and the repartition topic, and the
 * counts per category are right whatever partition a sale came in on. */
static void test_rekey_count(void)
{
    struct rill_topology *t = it_load(
        "application.id: shop\n"
        "topics: {sales: {partitions: 4}, by_cat: {partitions: 4}}\n"
        "stores: {counts: {type: memory}}\n"
        "processors:\n"
        "  cat_count:\n"
        "    type: count\n"
        "    inputs: [sales]\n"
        "    outputs: [by_cat]\n"
        "    stores: [counts]\n"
        "    rekey: {by: category}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->nprocs, 2);
    CU_ASSERT_STRING_EQUAL(t->procs[0].inputs.v[0], "shop-cat_count-repartition");
    CU_ASSERT_STRING_EQUAL(t->procs[0].dlq, "sales.dlq");
    CU_ASSERT_STRING_EQUAL(t->procs[1].name, "cat_count-rekey");
    CU_ASSERT_STRING_EQUAL(t->procs[1].outputs.v[0], "shop-cat_count-repartition");
    const struct rill_topic_conf *rp = rill_topology_topic(t, "shop-cat_count-repartition");
    CU_ASSERT_PTR_NOT_NULL_FATAL(rp);
    CU_ASSERT_EQUAL(rp->partitions, 4);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    static const char *cats[] = { "books", "toys", "garden" };
    long want[3] = { 0 };
    for (int i = 0; i < 60; i++) {
        char loc[8], v[64];
        snprintf(loc, sizeof loc, "L%d", i % 4);
        snprintf(v, sizeof v, "{\"category\":\"%s\"}", cats[i * 7 % 3]);
        want[i * 7 % 3]++;
        pipe_kv(d, "sales", i % 4, loc, v);
    }
    pipe_kv(d, "sales", 0, "L0", "{\"other\":1}"); /* no category: the DLQ */
    CU_ASSERT_EQUAL(rill_driver_count(d, "sales.dlq"), 1);
    /* the last count of each category is its total */
    long last[3] = { -1, -1, -1 };
    for (size_t i = 0; i < rill_driver_count(d, "by_cat"); i++) {
        const struct rill_captured *c = rill_driver_get(d, "by_cat", i);
        for (int k = 0; k < 3; k++)
            if (c->rec.key_len == strlen(cats[k]) && !memcmp(c->rec.key, cats[k], c->rec.key_len))
            {
                char num[32];
                snprintf(num, sizeof num, "%.*s", (int)c->rec.value_len,
                         (const char *)c->rec.value);
                last[k] = atol(num);
            }
    }
    for (int k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(last[k], want[k]);
    rill_driver_free(d);
    rill_topology_free(t);
    /* refused: several inputs, no by */
    char err[RILL_ERRSTR_SIZE] = "";
    struct rill_topology *bad = NULL;
    static const char *y2 = "application.id: a\ntopics: {s: {partitions: 2}, o: {partitions: 2}}\n"
                            "processors:\n  p: {type: passthrough, inputs: [s], outputs: [o], "
                            "rekey: {partitions: 3}}\n";
    CU_ASSERT_NOT_EQUAL(rill_topology_load_buf("test.yaml", y2, strlen(y2), &bad, err, sizeof err),
                        RILL_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "needs by:"));
    rill_topology_free(bad);
}

/* `rekey: {by: id}` on a stream_join of two inputs keyed by location: one
 * rekey half and one co-partitioned repartition topic per input, left stays
 * left, and every pair of the same id meets whatever partition its records
 * came in on. Refused: several inputs without dlq:, an input the config
 * names. */
static void test_rekey_join(void)
{
    struct rill_topology *t = it_load(
        "application.id: shop\n"
        "topics: {clicks: {partitions: 3}, buys: {partitions: 5}, both: {partitions: 2},\n"
        "         bad: {partitions: 1}}\n"
        "stores: {j: {type: memory}}\n"
        "processors:\n"
        "  pair:\n"
        "    type: stream_join\n"
        "    inputs: [clicks, buys]\n"
        "    outputs: [both]\n"
        "    dlq: bad\n"
        "    stores: [j]\n"
        "    rekey: {by: id}\n"
        "    config: {window.ms: 100, project: \"c=left.c, b=right.b, k=key\"}\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->nprocs, 3);
    CU_ASSERT_STRING_EQUAL(t->procs[0].inputs.v[0], "shop-pair-clicks-repartition");
    CU_ASSERT_STRING_EQUAL(t->procs[0].inputs.v[1], "shop-pair-buys-repartition");
    CU_ASSERT_STRING_EQUAL(t->procs[1].name, "pair-rekey-clicks");
    CU_ASSERT_STRING_EQUAL(t->procs[2].name, "pair-rekey-buys");
    CU_ASSERT_STRING_EQUAL(t->procs[2].dlq, "bad");
    CU_ASSERT_EQUAL(rill_topology_topic(t, "shop-pair-clicks-repartition")->partitions, 5);
    CU_ASSERT_EQUAL(rill_topology_topic(t, "shop-pair-buys-repartition")->partitions, 5);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    for (int i = 0; i < 40; i++) {
        char loc[8], v[64];
        snprintf(loc, sizeof loc, "L%d", i % 3);
        snprintf(v, sizeof v, "{\"id\":\"o%d\",\"c\":%d}", i, i);
        CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "clicks", i % 3, loc, v, 10 + i),
                        RILL_OK);
        snprintf(loc, sizeof loc, "L%d", (i + 1) % 5);
        snprintf(v, sizeof v, "{\"id\":\"o%d\",\"b\":%d}", i, 100 + i);
        CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "buys", (i + 1) % 5, loc, v, 11 + i),
                        RILL_OK);
    }
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "both"), 40);
    int bad = 0;
    for (size_t i = 0; i < 40; i++) {
        const struct rill_captured *c = rill_driver_get(d, "both", i);
        char want[96];
        snprintf(want, sizeof want, "{\"c\":%zu,\"b\":%zu,\"k\":\"o%zu\"}", i, 100 + i, i);
        bad += c->rec.value_len != strlen(want) || memcmp(c->rec.value, want, strlen(want));
    }
    CU_ASSERT_EQUAL(bad, 0);
    rill_driver_free(d);
    rill_topology_free(t);
    /* an input called like a config value (`left`, with join: left) is fine */
    static const char *y3 = "application.id: a\ntopics: {left: {partitions: 2}, o: {partitions: 2},"
                            " x: {partitions: 2}}\nprocessors:\n  p: {type: stream_join, inputs: "
                            "[left, o], outputs: [x], dlq: x, rekey: {by: id}, config: "
                            "{window.ms: 1, join: left}}\n";
    char err3[RILL_ERRSTR_SIZE] = "";
    struct rill_topology *ok3 = NULL;
    CU_ASSERT_EQUAL(rill_topology_load_buf("test.yaml", y3, strlen(y3), &ok3, err3, sizeof err3),
                    RILL_OK);
    rill_topology_free(ok3);
    static const struct { const char *yaml, *want; } refused[] = {
        { "application.id: a\ntopics: {s: {partitions: 2}, o: {partitions: 2}, x: {partitions: 2}}\n"
          "processors:\n  p: {type: stream_join, inputs: [s, o], outputs: [x], "
          "rekey: {by: id}, config: {window.ms: 1}}\n",
          "re-keys 2 inputs: it needs dlq:" },
        { "application.id: a\ntopics: {s: {partitions: 2}, c: {partitions: 2}, x: {partitions: 2}}\n"
          "processors:\n  p: {type: table_join, inputs: [s, c], outputs: [x], dlq: x, "
          "rekey: {by: id}, config: {table: c}}\n",
          "names its input 'c' in config key 'table'" },
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char err[RILL_ERRSTR_SIZE] = "";
        struct rill_topology *no = NULL;
        CU_ASSERT_NOT_EQUAL(rill_topology_load_buf("test.yaml", refused[i].yaml,
                                                   strlen(refused[i].yaml), &no, err, sizeof err),
                            RILL_OK);
        if (!strstr(err, refused[i].want))
            fprintf(stderr, "\n  refused %zu: '%s'\n", i, err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, refused[i].want));
        rill_topology_free(no);
    }
}

static CU_TestInfo tests[] = {
    { "inner join: the table's latest value, tombstones, the projection's exact JSON",
      test_inner_projection },
    { "left join and the default shape; non-JSON values to the DLQ", test_left_default_shape },
    { "config errors at file:line:col and at start", test_join_config_errors },
    { "stream_join by hand: the window's edges, a config error", test_stream_join_bounds },
    { "stream_join inner against a brute-force model, late records to the DLQ",
      test_stream_join_inner },
    { "stream_join left: unmatched left records once their window closes",
      test_stream_join_left },
    { "stream_join outer: unmatched records of both sides", test_stream_join_outer },
    { "rekey: a count by a field through the repartition topic", test_rekey_count },
    { "rekey of a stream_join's two inputs: co-partitioned, left stays left", test_rekey_join },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("join", tests)
