/*
 * test_join.c - the stream-table join on the real broker, exactly once
 * while the process is SIGKILLed mid-transaction and restarted, its stores
 * wiped before the last restart (so that the table comes back from its
 * changelog, not from the local RocksDB). The table topic holds
 * {"name":"n<k>","rank":k} for the keys k0..k999 with k % 3 != 0; it is
 * loaded first (the store's committed changelog holds every entry), then
 * the scenario's 6-partition stream (keys k0..k999, value {"seq": i}) flows
 * through an inner join projecting seq, name and rank. Under read_committed
 * every stream record whose key the table holds is joined exactly once, in
 * its partition's order, with the exact JSON the test builds itself; the
 * others are not. JOIN_RECORDS (default 6000) and JOIN_KILLS (default 4)
 * size it. And the windowed stream-stream join, inner, across kills: every
 * pair of the test's own reference exactly once. And a re-keyed sum
 * (`rekey: {by: cat}` over sales keyed by location) across kills: every
 * category's update count and final sum equal the test's own totals.
 */
#include "tests/lib/scenario.h"
#include "tests/lib/util.h"
#include "tests/lib/suite.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define KEYS 1000

struct join_it {
    char table[160], changelog[200], yaml[256], log[256], state[200];
};

static int join_init(struct it_scenario *s, struct join_it *j, long total)
{
    if (it_scenario_init(s, "join", total, total / 60 > 50 ? total / 60 : 50, 0, "passthrough",
                         "exactly_once_v2", 500, ""))
        return -1;
    snprintf(j->table, sizeof j->table, "%s.customers", s->app);
    snprintf(j->changelog, sizeof j->changelog, "%s-ctable-changelog", s->app);
    snprintf(j->yaml, sizeof j->yaml, "%s/join.yaml", s->dir);
    snprintf(j->log, sizeof j->log, "%s/join.log", s->dir);
    snprintf(j->state, sizeof j->state, "%s/state", s->dir);
    if (it_create_topic(j->table, IT_PARTITIONS) || it_create_topic(j->changelog, IT_PARTITIONS))
        return -1;
    char body[2048];
    snprintf(body, sizeof body,
             "application.id: %s\n"
             "processing.guarantee: exactly_once_v2\n"
             "commit.interval.ms: 500\n"
             "state.dir: %s\n"
             "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n"
             "processors:\n"
             "  enrich:\n"
             "    type: table_join\n"
             "    inputs: [%s, %s]\n    outputs: [%s]\n    stores: [ctable]\n"
             "    config: {table: %s, project: \"seq=stream.seq, name=table.name, "
             "rank=table.rank\"}\n",
             s->app, j->state, j->table, IT_PARTITIONS, s->in, IT_PARTITIONS, s->out,
             IT_PARTITIONS, s->in, j->table, s->out, j->table);
    return it_write_yaml(j->yaml, body);
}

/* A table entry for the keys k with k % 3 != 0. */
static int table_entry(long k, char *key, size_t ksz, char *value, size_t vsz, void *arg)
{
    (void)arg;
    if (k % 3 == 0)
        return 0;
    snprintf(key, ksz, "k%ld", k);
    snprintf(value, vsz, "{\"name\":\"n%ld\",\"rank\":%ld}", k, k);
    return 1;
}

static long check_joined(struct it_scenario *s, long *joined)
{
    struct it_rec *in = NULL, *out = NULL;
    long nin = it_read_topic(s->in, 1, 60000, &in);
    long nout = it_read_topic(s->out, 1, 60000, &out), bad = 0, want = 0, o = 0;
    /* per partition, the input records the table holds, in order, must be
     * the output records, in order */
    for (int p = 0; p < IT_PARTITIONS; p++) {
        long x = 0;
        for (long i = 0; i < nin; i++) {
            if (in[i].partition != p || !in[i].key || in[i].key[0] != 'k')
                continue;
            int k = atoi(in[i].key + 1);
            if (k % 3 == 0)
                continue;
            const char *colon = strchr(in[i].value ? in[i].value : "", ':');
            char expect[128];
            snprintf(expect, sizeof expect, "{\"seq\":%ld,\"name\":\"n%d\",\"rank\":%d}",
                     colon ? atol(colon + 1) : -1, k, k);
            want++;
            while (x < nout && out[x].partition != p)
                x++;
            if (x == nout || strcmp(out[x].key ? out[x].key : "", in[i].key) ||
                strcmp(out[x].value ? out[x].value : "", expect)) {
                if (bad++ < 3)
                    fprintf(stderr, "\n    partition %d: want %s %s, got %s", p, in[i].key,
                            expect, x < nout ? out[x].value : "(nothing)");
            }
            if (x < nout)
                x++, o++;
        }
        while (x < nout) /* more output than the reference */
            bad += out[x++].partition == p;
    }
    if (nin != s->total)
        bad++;
    *joined = want;
    bad += labs(nout - want);
    it_recs_free(in, nin);
    it_recs_free(out, nout);
    return bad;
}

static void test_table_join_under_kills(void)
{
    struct it_scenario s;
    struct join_it j;
    long total = it_getenv_long("JOIN_RECORDS", 6000);
    int kills = (int)it_getenv_long("JOIN_KILLS", 4);
    CU_ASSERT_EQUAL_FATAL(join_init(&s, &j, total), 0);
    /* the table, loaded before the stream flows, partitioned as the
     * scenario's feeder partitions the stream */
    long entries = KEYS - (KEYS + 2) / 3;
    CU_ASSERT_EQUAL_FATAL(it_produce_each(j.table, KEYS, table_entry, NULL), 0);
    pid_t pid = it_rill_start(j.yaml, j.log);
    int64_t deadline = it_now_ms() + 90000;
    long loaded = 0;
    while ((loaded = it_count_committed(j.changelog, 30000)) < entries && it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL_FATAL(loaded, entries);
    it_scenario_feed_start(&s);
    long seen = 0, expect_out = 0; /* the feeder's key of record i is k(i % 1000) */
    for (long i = 0; i < total; i++)
        expect_out += i % KEYS % 3 != 0;
    for (int k = 0; k < kills; k++) {
        /* a life makes progress, unless every output is out already */
        long now = it_wait_committed_past(s.out, seen, expect_out, 90000);
        CU_ASSERT_FATAL(now > seen || now >= expect_out);
        seen = now;
        it_scenario_wait_produced(&s, it_scenario_produced(&s) + rand() % (s.rate + 1));
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        if (k == kills - 1) {
            /* the stores lost (the instance id kept, so that the restart
             * fences the killed life's transaction at once): the table
             * comes back from its changelog */
            char cmd[400];
            snprintf(cmd, sizeof cmd, "rm -rf %s/%s/enrich-*", j.state, s.app);
            CU_ASSERT_EQUAL(system(cmd), 0);
        }
        pid = it_rill_start(j.yaml, j.log);
    }
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    char group[160], err[256];
    snprintf(group, sizeof group, "%s.enrich", s.app);
    rd_kafka_conf_t *gc = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(gc, "group.id", group);
    rd_kafka_t *grp = rd_kafka_new(RD_KAFKA_CONSUMER, gc, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(grp);
    deadline = it_now_ms() + 180000;
    long done = 0;
    while ((done = it_group_committed(grp, s.in, IT_PARTITIONS)) < total &&
           it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL(done, total);
    rd_kafka_destroy(grp);
    while (it_count_committed(s.out, 30000) < expect_out && it_now_ms() < deadline)
        ;
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long joined = 0, bad = check_joined(&s, &joined);
    fprintf(stderr, "\n    table join: %ld table entries, %ld stream records, %d kills (stores "
                    "wiped before the last restart), %ld joined, %ld discrepancies\n",
            entries, total, kills, joined, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(joined, expect_out);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* The right side of the stream join: key k(j % 1000), {"seq": j + 7, "id": j}. */
static int right_record(long i, char *k, size_t ksz, char *v, size_t vsz, void *arg)
{
    (void)arg;
    snprintf(k, ksz, "k%ld", i % KEYS);
    snprintf(v, vsz, "{\"seq\":%ld,\"id\":%ld}", i + 7, i);
    return 1;
}

static int cmp_long2(const void *a, const void *b)
{
    const long *x = a, *y = b;
    return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

/* An inner stream_join on event time `seq` (window 1500 ms, a grace larger
 * than every time, so that no record is late whatever the order the two
 * topics are polled in): the right side (3,000 records) is there first, the
 * left flows in while rill is SIGKILLed; every pair of the reference (same
 * key, times at most 1500 apart) comes out exactly once, and nothing else. */
static void test_stream_join_under_kills(void)
{
    struct it_scenario s;
    long total = it_getenv_long("JOIN_RECORDS", 3000);
    int kills = (int)it_getenv_long("JOIN_KILLS", 4);
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "sjoin", total, total / 30 > 50 ? total / 30 : 50,
                                           0, "passthrough", "exactly_once_v2", 500, ""),
                          0);
    char right[160], changelog[200], yaml[256], log[256], procs[1024];
    snprintf(right, sizeof right, "%s.views", s.app);
    snprintf(changelog, sizeof changelog, "%s-sbuf-changelog", s.app);
    snprintf(procs, sizeof procs,
             "  pair:\n"
             "    type: stream_join\n"
             "    inputs: [%s, %s]\n    outputs: [%s]\n    stores: [sbuf]\n"
             "    config: {window.ms: 1500, grace.ms: 1000000000, time: seq,\n"
             "             project: \"l=left.seq, r=right.id\"}\n",
             s.in, right, s.out);
    CU_ASSERT_EQUAL_FATAL(it_scenario_topology(&s, "sjoin", 500, (const char *[]){ right, NULL },
                                               (const char *[]){ changelog, NULL }, procs, yaml,
                                               sizeof yaml, log, sizeof log),
                          0);
    CU_ASSERT_EQUAL_FATAL(it_produce_each(right, total, right_record, NULL), 0);
    /* the reference: left i and right j with i = j (mod 1000), |i - (j + 7)| <= 1500 */
    long npairs = 0;
    long (*want)[2] = malloc((size_t)total * 4 * sizeof *want);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    for (long i = 0; i < total; i++)
        for (long j = i % KEYS; j < total; j += KEYS)
            if (labs(i - (j + 7)) <= 1500)
                want[npairs][0] = i, want[npairs][1] = j, npairs++;
    qsort(want, (size_t)npairs, sizeof *want, cmp_long2);
    it_scenario_feed_start(&s);
    pid_t pid = it_rill_start(yaml, log);
    long seen = 0;
    for (int k = 0; k < kills; k++) {
        /* a life makes progress, unless every output is out already */
        long now = it_wait_committed_past(s.out, seen, npairs, 90000);
        CU_ASSERT_FATAL(now > seen || now >= npairs);
        seen = now;
        it_scenario_wait_produced(&s, it_scenario_produced(&s) + rand() % (s.rate + 1));
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        pid = it_rill_start(yaml, log);
    }
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    int64_t deadline = it_now_ms() + 180000;
    while (it_count_committed(s.out, 30000) < npairs && it_now_ms() < deadline)
        ;
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct it_rec *out = NULL;
    long nout = it_read_topic(s.out, 1, 60000, &out), bad = 0;
    long (*got)[2] = malloc(((size_t)nout + 1) * sizeof *got);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    for (long i = 0; i < nout; i++) {
        long l = -1, r = -1;
        if (!out[i].value || sscanf(out[i].value, "{\"l\":%ld,\"r\":%ld}", &l, &r) != 2 ||
            !out[i].key || atol(out[i].key + 1) != l % KEYS)
            bad++;
        got[i][0] = l, got[i][1] = r;
    }
    qsort(got, (size_t)nout, sizeof *got, cmp_long2);
    for (long i = 0; i < nout && i < npairs; i++)
        bad += got[i][0] != want[i][0] || got[i][1] != want[i][1];
    bad += labs(nout - npairs);
    fprintf(stderr, "\n    stream join: %ld left and %ld right records, %d kills, %ld pairs "
                    "expected, %ld forwarded, %ld discrepancies\n",
            total, total, kills, npairs, nout, bad);
    CU_ASSERT_EQUAL(bad, 0);
    free(got);
    free(want);
    it_recs_free(out, nout);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* ---- re-keyed aggregation ------------------------------------------------- */

#define REKEY_CATS 50

/* Sale i (from base *arg): keyed by its location, for category c(i % 50),
 * amount i % 97. */
static int sale(long i, char *key, size_t ksz, char *value, size_t vsz, void *arg)
{
    long n = i + *(const long *)arg;
    snprintf(key, ksz, "loc%ld", n % 7);
    snprintf(value, vsz, "{\"cat\":\"c%ld\",\"amount\":%ld}", n % REKEY_CATS, n % 97);
    return 1;
}

/* A sum by category over sales keyed by location (7 locations, so the
 * categories are spread over the partitions only by the re-key), the sales
 * produced in chunks, one per life, each life SIGKILLed once it has
 * committed output: read_committed, each category has exactly one update
 * per sale, its updates never decrease, and its last one is its total. */
static void test_rekey_sum_under_kills(void)
{
    struct it_scenario s;
    long total = it_getenv_long("REKEY_RECORDS", 24000);
    int kills = (int)it_getenv_long("JOIN_KILLS", 4);
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "rekey", total, 50, 0, "passthrough",
                                           "exactly_once_v2", 500, ""),
                          0);
    char repart[200], changelog[200], yaml[256], log[256], procs[1024];
    snprintf(repart, sizeof repart, "%s-bycat-repartition", s.app);
    snprintf(changelog, sizeof changelog, "%s-sums-changelog", s.app);
    snprintf(procs, sizeof procs,
             "  bycat:\n"
             "    type: sum\n"
             "    inputs: [%s]\n    outputs: [%s]\n    stores: [sums]\n"
             "    rekey: {by: cat}\n"
             "    config: {field: amount}\n",
             s.in, s.out);
    CU_ASSERT_EQUAL_FATAL(it_scenario_topology(&s, "rekey", 500, NULL,
                                               (const char *[]){ repart, changelog, NULL }, procs,
                                               yaml, sizeof yaml, log, sizeof log),
                          0);
    long want_n[REKEY_CATS] = { 0 }, want_sum[REKEY_CATS] = { 0 };
    for (long i = 0; i < total; i++)
        want_n[i % REKEY_CATS]++, want_sum[i % REKEY_CATS] += i % 97;
    long chunk = total / (kills + 1), base = 0, seen = 0;
    pid_t pid = it_rill_start(yaml, log);
    for (int k = 0; k <= kills; k++) {
        long n = k == kills ? total - base : chunk;
        CU_ASSERT_EQUAL_FATAL(it_produce_each(s.in, n, sale, &base), 0);
        base += n;
        if (k == kills)
            break;
        /* a life makes progress, unless every output is out already */
        long now = it_wait_committed_past(s.out, seen, total, 90000);
        CU_ASSERT_FATAL(now > seen || now >= total);
        seen = now;
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        pid = it_rill_start(yaml, log);
    }
    int64_t deadline = it_now_ms() + 180000;
    while (it_count_committed(s.out, 30000) < total && it_now_ms() < deadline)
        ;
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct it_rec *out = NULL;
    long nout = it_read_topic(s.out, 1, 60000, &out), bad = 0;
    long got_n[REKEY_CATS] = { 0 }, last[REKEY_CATS];
    for (int c = 0; c < REKEY_CATS; c++)
        last[c] = -1;
    for (long i = 0; i < nout; i++) {
        int c = out[i].key && out[i].key[0] == 'c' ? atoi(out[i].key + 1) : -1;
        long v = out[i].value ? atol(out[i].value) : -1;
        if (c < 0 || c >= REKEY_CATS || v < last[c]) { /* in the key's partition order */
            if (bad++ < 3)
                fprintf(stderr, "\n    record %ld: %s = %s", i, out[i].key ? out[i].key : "-",
                        out[i].value ? out[i].value : "-");
            continue;
        }
        got_n[c]++, last[c] = v;
    }
    for (int c = 0; c < REKEY_CATS; c++)
        bad += got_n[c] != want_n[c] || last[c] != want_sum[c];
    fprintf(stderr, "\n    rekey: %ld sales over 7 locations, %d kills, %ld updates of %d "
                    "categories, %ld discrepancies\n",
            total, kills, nout, REKEY_CATS, bad);
    CU_ASSERT_EQUAL(nout, total);
    CU_ASSERT_EQUAL(bad, 0);
    it_recs_free(out, nout);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static CU_TestInfo tests[] = {
    { "stream-table join exact across SIGKILLs and wiped stores",
      test_table_join_under_kills },
    { "stream-stream join: every pair exactly once across SIGKILLs", test_stream_join_under_kills },
    { "re-keyed sum by category exact across SIGKILLs", test_rekey_sum_under_kills },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("join", tests)
