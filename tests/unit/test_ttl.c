/*
 * test_ttl.c - `ttl.ms` of count, sum, latest and table_join's table on the
 * driver's wall clock
 * (processors/ttl.h): a group untouched for ttl.ms is deleted, not before; a
 * touch moves its deadline; a group counted again after expiry starts over;
 * the deadline index leaves nothing behind; one check deletes at most
 * RILL_TTL_PER_CHECK groups; a latest tombstone drops the index too; groups the
 * index could be confused with go to the DLQ; the key's range is checked.
 * The changelog's tombstones are the integration suite `ttl`'s.
 */
#include "processors/ttl.h"
#include "state/store.h"
#include "tests/lib/drive.h"
#include "tests/lib/suite.h"
#include "topology/model/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *yaml_of(const char *type, const char *config)
{
    static char y[1024];
    snprintf(y, sizeof y,
             "application.id: a\n"
             "topics: {in: {partitions: 1}, out: {partitions: 1}}\n"
             "processors:\n"
             "  agg:\n"
             "    type: %s\n"
             "    inputs: [in]\n"
             "    outputs: [out]\n"
             "    stores: [groups]\n"
             "    config: %s\n",
             type, config);
    return y;
}

static void pipe_kv(rill_driver_t *d, const char *key, size_t klen, const char *value)
{
    char err[RILL_ERRSTR_SIZE] = "";
    rill_err_t res = rill_driver_pipe(d, "in", 0, key, klen, value, value ? strlen(value) : 0,
                                      NULL, 0, 1000, err, sizeof err);
    if (res != RILL_OK)
        fprintf(stderr, "\n  pipe: %s %s\n", rill_err2str(res), err);
    CU_ASSERT_EQUAL(res, RILL_OK);
}

static void pipe_s(rill_driver_t *d, const char *key, const char *value)
{
    pipe_kv(d, key, strlen(key), value);
}

/* Entries in the store (groups and index entries alike). */
static long entries(rill_store_t *s)
{
    rill_store_iter_t *it = rill_store_range(s, NULL, 0, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(it);
    const void *k, *v;
    size_t kl, vl;
    long n = 0;
    while (rill_store_iter_next(it, &k, &kl, &v, &vl))
        n++;
    rill_store_iter_free(it);
    return n;
}

static int has(rill_store_t *s, const char *group)
{
    void *v = NULL;
    size_t vl;
    rill_err_t err = rill_store_get(s, group, strlen(group), &v, &vl);
    free(v);
    CU_ASSERT(err == RILL_OK || err == RILL_ERR_NOTFOUND);
    return err == RILL_OK;
}

/* The value of the last output record. */
static int last_is(rill_driver_t *d, const char *key, const char *want)
{
    size_t n = rill_driver_count(d, "out");
    const struct rill_captured *c = n ? rill_driver_get(d, "out", n - 1) : NULL;
    return c && c->rec.key_len == strlen(key) && !memcmp(c->rec.key, key, c->rec.key_len) &&
           c->rec.value_len == strlen(want) && !memcmp(c->rec.value, want, strlen(want));
}

static void test_count_expiry(void)
{
    struct rill_topology *t = it_load(yaml_of("count", "{ttl.ms: 1000}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_s(d, "a", "{}");
    pipe_s(d, "b", "{}");
    /* the instance's schedule starts at this first tick: a check every
     * 100 ms (ttl.ms / 10), at 100, 200, ... */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 0), RILL_OK);
    rill_store_t *s = rill_driver_store(d, "agg", "groups", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(entries(s), 6); /* each group, its deadline, its index entry */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 600), RILL_OK);
    pipe_s(d, "a", "{}"); /* a's deadline moves to 1600 */
    CU_ASSERT(last_is(d, "a", "2"));
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 399), RILL_OK);
    CU_ASSERT(has(s, "a") && has(s, "b")); /* 999 ms: not yet */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 1), RILL_OK);
    CU_ASSERT(has(s, "a"));
    CU_ASSERT(!has(s, "b")); /* untouched for 1000 ms */
    CU_ASSERT_EQUAL(entries(s), 3);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 599), RILL_OK);
    CU_ASSERT(has(s, "a"));
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 1), RILL_OK);
    CU_ASSERT(!has(s, "a"));
    CU_ASSERT_EQUAL(entries(s), 0); /* the index leaves nothing behind */
    /* counted again: from the start */
    pipe_s(d, "b", "{}");
    CU_ASSERT(last_is(d, "b", "1"));
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 4);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* 1,500 groups expire at once: each check deletes at most
 * RILL_TTL_PER_CHECK of them, oldest deadline first. */
static void test_bounded_checks(void)
{
    struct rill_topology *t = it_load(yaml_of("sum", "{field: n, ttl.ms: 1000}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char key[32];
    pipe_s(d, "g0000", "{\"n\": 1}");
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 0), RILL_OK); /* checks from here */
    for (int i = 0; i < 1500; i++) {
        snprintf(key, sizeof key, "g%04d", i);
        pipe_s(d, key, "{\"n\": 2}");
        pipe_s(d, key, "{\"n\": 3}");
        if (i == 99)
            CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 1), RILL_OK);
    }
    CU_ASSERT(last_is(d, "g1499", "5"));
    rill_store_t *s = rill_driver_store(d, "agg", "groups", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(entries(s), 4500);
    /* at 1000 ms the first 100 groups are due (deadline 1000), the rest at 1001 */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 999), RILL_OK);
    CU_ASSERT_EQUAL(entries(s), 3 * 1400);
    CU_ASSERT(!has(s, "g0099") && has(s, "g0100"));
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 100), RILL_OK); /* 1400 due */
    CU_ASSERT_EQUAL(entries(s), 3 * (1400 - RILL_TTL_PER_CHECK));
    CU_ASSERT(!has(s, "g0100") && has(s, "g1499"));
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 100), RILL_OK);
    CU_ASSERT_EQUAL(entries(s), 0);
    pipe_s(d, "g0000", "{\"n\": 7}");
    CU_ASSERT(last_is(d, "g0000", "7"));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* latest: a tombstone deletes the group and its index; without ttl.ms the
 * store holds the groups only and nothing expires. */
static void test_latest(void)
{
    struct rill_topology *t = it_load(yaml_of("latest", "{ttl.ms: 500}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_s(d, "a", "{\"v\":1}");
    pipe_s(d, "b", "{\"v\":2}");
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 0), RILL_OK);
    rill_store_t *s = rill_driver_store(d, "agg", "groups", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    pipe_s(d, "a", NULL);
    CU_ASSERT_EQUAL(entries(s), 3);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 450), RILL_OK);
    CU_ASSERT_EQUAL(entries(s), 3);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 50), RILL_OK);
    CU_ASSERT_EQUAL(entries(s), 0);
    rill_driver_free(d);
    rill_topology_free(t);

    t = it_load(yaml_of("latest", "{}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_s(d, "a", "{\"v\":1}");
    s = rill_driver_store(d, "agg", "groups", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 86400000), RILL_OK);
    CU_ASSERT_EQUAL(entries(s), 1);
    CU_ASSERT(has(s, "a"));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* A group beginning with byte 0 could be taken for an index key: with
 * ttl.ms it goes to the DLQ, and nothing is stored. A negative ttl.ms is
 * refused at load. */
static void test_refusals(void)
{
    struct rill_topology *t = it_load(yaml_of("count", "{ttl.ms: 1000}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    pipe_kv(d, "\0Ex", 3, "{}");
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "in.dlq"), 1);
    rill_store_t *s = rill_driver_store(d, "agg", "groups", 0);
    CU_ASSERT(!s || entries(s) == 0);
    rill_driver_free(d);
    rill_topology_free(t);
    /* refused when the instance starts (`rill validate` checks the same row) */
    char err[RILL_ERRSTR_SIZE] = "";
    t = it_load(yaml_of("count", "{ttl.ms: -1}"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    d = rill_driver_new(t, err, sizeof err);
    if (d)
        CU_ASSERT_NOT_EQUAL(rill_driver_pipe(d, "in", 0, "k", 1, "{}", 2, NULL, 0, 1, err,
                                             sizeof err),
                            RILL_OK);
    if (!strstr(err, "ttl.ms"))
        fprintf(stderr, "\n  ttl.ms -1: '%s'\n", err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "ttl.ms"));
    rill_driver_free(d);
    rill_topology_free(t);
}

/* table_join's ttl.ms: a table key goes ttl.ms after its last update (a
 * stream lookup does not extend it), and the inner join then drops the
 * stream records of that key; an update moves the deadline. */
static void test_table_expiry(void)
{
    static const char *y =
        "application.id: a\n"
        "topics: {in: {partitions: 1}, tab: {partitions: 1}, out: {partitions: 1}}\n"
        "processors:\n"
        "  agg:\n"
        "    type: table_join\n"
        "    inputs: [in, tab]\n"
        "    outputs: [out]\n"
        "    stores: [groups]\n"
        "    config: {table: tab, ttl.ms: 1000, project: \"t=table.v\"}\n";
    struct rill_topology *t = it_load(y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "tab", 0, "a", "{\"v\":1}", 1), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "tab", 0, "b", "{\"v\":2}", 1), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 0), RILL_OK);
    rill_store_t *s = rill_driver_store(d, "agg", "groups", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(entries(s), 6);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 600), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "tab", 0, "a", "{\"v\":3}", 2), RILL_OK);
    pipe_s(d, "b", "{}"); /* a lookup: b's deadline stays at 1000 */
    CU_ASSERT(last_is(d, "b", "{\"t\":2}"));
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 400), RILL_OK);
    CU_ASSERT(has(s, "a"));
    CU_ASSERT(!has(s, "b"));
    pipe_s(d, "b", "{}"); /* inner: b is no longer in the table */
    pipe_s(d, "a", "{}");
    CU_ASSERT_EQUAL(rill_driver_count(d, "out"), 2);
    CU_ASSERT(last_is(d, "a", "{\"t\":3}"));
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 600), RILL_OK);
    CU_ASSERT(!has(s, "a"));
    CU_ASSERT_EQUAL(entries(s), 0);
    /* a table tombstone drops the index entries with the key */
    CU_ASSERT_EQUAL(rill_driver_pipe_str(d, "tab", 0, "c", "{\"v\":4}", 3), RILL_OK);
    CU_ASSERT_EQUAL(entries(s), 3);
    CU_ASSERT_EQUAL(rill_driver_pipe(d, "tab", 0, "c", 1, NULL, 0, NULL, 0, 3, err, sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(entries(s), 0);
    /* a key that could be an index key is refused, from either side */
    pipe_kv(d, "\0Gx", 3, "{}");
    CU_ASSERT_EQUAL(rill_driver_count(d, "in.dlq"), 1);
    rill_driver_free(d);
    rill_topology_free(t);
}

static CU_TestInfo tests[] = {
    { "count: a group expires after ttl.ms untouched, a touch moves it, counted anew",
      test_count_expiry },
    { "sum: 1,500 groups expire in deadline order, at most RILL_TTL_PER_CHECK per check",
      test_bounded_checks },
    { "latest: tombstones drop the index; no ttl.ms, no expiry", test_latest },
    { "table_join: a table key expires ttl.ms after its last update, lookups do not extend it",
      test_table_expiry },
    { "groups that could be index keys go to the DLQ; a negative ttl.ms is refused",
      test_refusals },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("ttl", tests)
