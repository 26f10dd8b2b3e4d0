/*
 * test_ttl.c - `ttl.ms` on the real broker, exactly once: a count with
 * ttl.ms 2000 over 120 keys, each counted once; the store's changelog
 * (read_committed) comes to end, for every key, with a tombstone, and holds
 * no live index entry. Then rill stops, its state folder is wiped, and it
 * restarts: the store comes back from the changelog without the expired
 * counts, so every key counted once more reads 1, not 2.
 */
#include "tests/lib/scenario.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define TTL_KEYS 120

static int once(long i, char *key, size_t ksz, char *value, size_t vsz, void *arg)
{
    (void)arg;
    snprintf(key, ksz, "k%ld", i);
    snprintf(value, vsz, "{\"i\":%ld}", i);
    return 1;
}

/* Keys whose last changelog record is a tombstone (counts are 8 bytes, so
 * an empty value is a delete), and live index entries (keys beginning with
 * byte 0 whose last record is not a delete). */
static void changelog_state(const char *changelog, long *dead, long *live_index)
{
    struct it_rec *r = NULL;
    long n = it_read_topic(changelog, 1, 60000, &r);
    static int last[TTL_KEYS];
    *dead = *live_index = 0;
    for (int k = 0; k < TTL_KEYS; k++)
        last[k] = -1; /* -1: never written, 0: live, 1: deleted */
    /* index keys: counted live when their last record has a value */
    for (long i = 0; i < n; i++) {
        if (r[i].key_len && r[i].key[0] == 'k') {
            int k = atoi(r[i].key + 1);
            if (k >= 0 && k < TTL_KEYS)
                last[k] = r[i].value_len == 0;
            continue;
        }
        if (!r[i].key_len || r[i].key[0] != '\0')
            continue;
        int later = 0; /* a later record of the same key */
        for (long j = i + 1; j < n && !later; j++)
            later = r[j].key_len == r[i].key_len && !memcmp(r[j].key, r[i].key, r[i].key_len);
        *live_index += !later && r[i].value_len > 0;
    }
    for (int k = 0; k < TTL_KEYS; k++)
        *dead += last[k] == 1;
    it_recs_free(r, n);
}

static void test_ttl_tombstones(void)
{
    struct it_scenario s;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "ttl", TTL_KEYS, 50, 0, "passthrough",
                                           "exactly_once_v2", 200, ""),
                          0);
    char changelog[200], yaml[256], log[256], procs[512], cmd[400];
    snprintf(changelog, sizeof changelog, "%s-counts-changelog", s.app);
    snprintf(procs, sizeof procs,
             "  counter:\n"
             "    type: count\n"
             "    inputs: [%s]\n    outputs: [%s]\n    stores: [counts]\n"
             "    config: {ttl.ms: 2000}\n",
             s.in, s.out);
    CU_ASSERT_EQUAL_FATAL(it_scenario_topology(&s, "ttl", 200, NULL,
                                               (const char *[]){ changelog, NULL }, procs, yaml,
                                               sizeof yaml, log, sizeof log),
                          0);
    CU_ASSERT_EQUAL_FATAL(it_produce_each(s.in, TTL_KEYS, once, NULL), 0);
    pid_t pid = it_rill_start(yaml, log);
    /* every key counted, then expired: a tombstone last in the changelog */
    int64_t deadline = it_now_ms() + 120000;
    long dead = 0, live_index = -1;
    do
        changelog_state(changelog, &dead, &live_index);
    while ((dead < TTL_KEYS || live_index > 0) && it_now_ms() < deadline);
    CU_ASSERT_EQUAL(dead, TTL_KEYS);
    CU_ASSERT_EQUAL(live_index, 0);
    CU_ASSERT_EQUAL(it_count_committed(s.out, 30000), TTL_KEYS);
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* the local store gone: restored from the changelog, without the counts */
    snprintf(cmd, sizeof cmd, "rm -rf %s/state/%s/counter-*", s.dir, s.app);
    CU_ASSERT_EQUAL(system(cmd), 0);
    pid = it_rill_start(yaml, log);
    CU_ASSERT_EQUAL_FATAL(it_produce_each(s.in, TTL_KEYS, once, NULL), 0);
    deadline = it_now_ms() + 120000;
    while (it_count_committed(s.out, 30000) < 2 * TTL_KEYS && it_now_ms() < deadline)
        ;
    status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct it_rec *out = NULL;
    long nout = it_read_topic(s.out, 1, 60000, &out), ones = 0, twos = 0;
    for (long i = 0; i < nout; i++) {
        ones += !strcmp(out[i].value, "1");
        twos += !strcmp(out[i].value, "2");
    }
    fprintf(stderr, "\n    ttl: %d keys expired with a tombstone each, %ld outputs after the "
                    "restore, %ld of them 1, %ld of them 2\n",
            TTL_KEYS, nout, ones, twos);
    CU_ASSERT_EQUAL(nout, 2 * TTL_KEYS);
    CU_ASSERT_EQUAL(ones, 2 * TTL_KEYS);
    CU_ASSERT_EQUAL(twos, 0);
    it_recs_free(out, nout);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static CU_TestInfo tests[] = {
    { "ttl.ms: expired counts leave tombstones in the changelog and stay gone after a restore",
      test_ttl_tombstones },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("ttl", tests)
