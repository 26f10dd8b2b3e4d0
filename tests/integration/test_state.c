/*
 * test_state.c - exactly-once aggregation with RocksDB stores and changelogs,
 * after Kafka's EosTestDriver. A `count` and a `sum` processor read the same
 * 6-partition input (keys over 1,000 values, the summed field is the record's
 * sequence number) with a 3 s commit interval, while the process is SIGKILLed
 * mid-transaction and restarted.
 *
 * - Every emitted running count and sum, under read_committed, equals the
 *   value recomputed from the input up to that record; the final store
 *   contents (`rill state dump`) equal the recomputation.
 * - No full replay after a crash: each restart restores only the changelog
 *   tail (the "store restored" log lines), far below the changelog's size.
 * - Full restore: with the state directory deleted, a restart rebuilds every
 *   store from its changelog, equal to the recomputation.
 * - Task migration: a second instance joins during the run; the tasks it takes
 *   over are restored from their changelogs on it, and the aggregates stay
 *   exact.
 */
#include "tests/lib/scenario.h"
#include "tests/lib/util.h"
#include "tests/lib/suite.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYS 1000

struct agg {
    char counts[160], sums[160], cl_counts[200], cl_sums[200];
    char yaml[3][256], log[3][256];
};

/* Three instances' files; extra is more top-level YAML (or ""). */
static int agg_init(struct it_scenario *s, struct agg *a, const char *name, long total,
                    const char *extra)
{
    if (it_scenario_init(s, name, total, total / 60, 0, "passthrough", "exactly_once_v2", 3000, ""))
        return -1;
    snprintf(a->counts, sizeof a->counts, "%s.counts", s->app);
    snprintf(a->sums, sizeof a->sums, "%s.sums", s->app);
    snprintf(a->cl_counts, sizeof a->cl_counts, "%s-counts-changelog", s->app);
    snprintf(a->cl_sums, sizeof a->cl_sums, "%s-sums-changelog", s->app);
    if (it_create_topic(a->counts, IT_PARTITIONS) || it_create_topic(a->sums, IT_PARTITIONS) ||
        it_create_topic(a->cl_counts, IT_PARTITIONS) || it_create_topic(a->cl_sums, IT_PARTITIONS))
        return -1;
    for (int i = 0; i < 3; i++) {
        char body[2048];
        snprintf(a->yaml[i], sizeof a->yaml[i], "%s/agg-%d.yaml", s->dir, i);
        snprintf(a->log[i], sizeof a->log[i], "%s/agg-%d.log", s->dir, i);
        snprintf(body, sizeof body,
                 "application.id: %s\n"
                 "processing.guarantee: exactly_once_v2\n"
                 "commit.interval.ms: 3000\n"
                 "state.dir: %s/state-%d\n"
                 "%s"
                 "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n"
                 "processors:\n"
                 "  counter: {type: count, inputs: [%s], outputs: [%s], stores: [counts]}\n"
                 "  summer: {type: sum, inputs: [%s], outputs: [%s], stores: [sums],"
                 " config: {field: seq}}\n",
                 s->app, s->dir, i, extra, s->in, IT_PARTITIONS, a->counts, IT_PARTITIONS, a->sums,
                 IT_PARTITIONS, s->in, a->counts, s->in, a->sums);
        if (it_write_yaml(a->yaml[i], body))
            return -1;
    }
    return 0;
}

static int key_index(const char *k)
{
    return k && k[0] == 'k' ? atoi(k + 1) : -1;
}

/* Recomputes per key the running counts and sums from the input and checks
 * every emitted value of both outputs, in order; fills the final values. */
static long check_running(struct it_scenario *s, struct agg *a, long *final_count,
                          long *final_sum)
{
    struct it_rec *in = NULL, *c = NULL, *m = NULL;
    long nin = it_read_topic(s->in, 1, 60000, &in);
    long nc = it_read_topic(a->counts, 1, 60000, &c);
    long nm = it_read_topic(a->sums, 1, 60000, &m);
    if (nin != s->total || nc != s->total || nm != s->total) {
        fprintf(stderr, "\n    read %ld input, %ld counts, %ld sums (want %ld each)\n", nin, nc, nm,
                s->total);
        return 1 + labs(nc - s->total) + labs(nm - s->total);
    }
    /* per key, the input sequence numbers in partition order */
    long *seqs[KEYS] = { 0 }, nseq[KEYS] = { 0 }, at_c[KEYS] = { 0 }, at_m[KEYS] = { 0 };
    for (long i = 0; i < nin; i++) { /* it_read_topic delivers each partition in order */
        int k = key_index(in[i].key);
        if (k < 0 || k >= KEYS)
            return 1;
        seqs[k] = realloc(seqs[k], (size_t)(nseq[k] + 1) * sizeof(long));
        seqs[k][nseq[k]++] = atol(strstr(in[i].value, ":") + 1);
    }
    long bad = 0;
    for (long i = 0; i < nc; i++) {
        int k = key_index(c[i].key);
        if (k < 0 || k >= KEYS) {
            bad++;
            continue;
        }
        long want = ++at_c[k];
        if (at_c[k] > nseq[k] || atol(c[i].value) != want)
            bad++;
    }
    long running[KEYS] = { 0 };
    for (long i = 0; i < nm; i++) {
        int k = key_index(m[i].key);
        if (k < 0 || k >= KEYS || at_m[k] >= nseq[k]) {
            bad++;
            continue;
        }
        running[k] += seqs[k][at_m[k]++];
        if (atol(m[i].value) != running[k])
            bad++;
    }
    for (int k = 0; k < KEYS; k++) {
        final_count[k] = nseq[k];
        final_sum[k] = running[k];
        if (at_c[k] != nseq[k] || at_m[k] != nseq[k])
            bad++;
        free(seqs[k]);
    }
    it_recs_free(in, nin);
    it_recs_free(c, nc);
    it_recs_free(m, nm);
    return bad;
}

/* `rill state dump` of store equals want[] (keys k0..k999). */
static long check_store(const char *yaml, const char *store, const long *want)
{
    char cmd[512], line[256];
    snprintf(cmd, sizeof cmd, "%s state dump -c %s %s --as i64",
             getenv("RILL_BIN") ? getenv("RILL_BIN") : "./rill", yaml, store);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    long got[KEYS], bad = 0, lines = 0;
    for (int k = 0; k < KEYS; k++)
        got[k] = -1;
    while (fgets(line, sizeof line, p)) {
        char *tab = strchr(line, '\t');
        int k = key_index(line);
        if (!tab || k < 0 || k >= KEYS) {
            bad++;
            continue;
        }
        got[k] = atol(tab + 1);
        lines++;
    }
    if (pclose(p) != 0)
        bad++;
    for (int k = 0; k < KEYS; k++)
        if (want[k] && got[k] != want[k])
            bad++;
    return bad;
}

/* Both processors run their own group: wait until each output is complete. */
static int wait_outputs(struct agg *a, long total, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    while (it_count_committed(a->counts, 30000) < total && it_now_ms() < deadline)
        ;
    while (it_count_committed(a->sums, 30000) < total && it_now_ms() < deadline)
        ;
    return it_now_ms() < deadline ? 0 : -1;
}

struct restores {
    int n, full;
    long replayed, to;
};

/* Sums the "store restored" lines of a log after its first skip ones. */
static struct restores restores_after(const char *log, int skip)
{
    struct restores r = { 0 };
    FILE *f = fopen(log, "r");
    char line[2048];
    while (f && fgets(line, sizeof line, f)) {
        if (!strstr(line, "msg=\"store restored\"") || skip-- > 0)
            continue;
        char *rp = strstr(line, "replayed="), *tp = strstr(line, " to=");
        r.n++;
        r.full += strstr(line, "full=true") != NULL;
        r.replayed += rp ? atol(rp + 9) : 0;
        r.to += tp ? atol(tp + 4) : 0;
    }
    if (f)
        fclose(f);
    return r;
}

static void test_aggregation_under_kills(void)
{
    struct it_scenario s;
    struct agg a;
    long total = it_getenv_long("EOS_RECORDS", 20000);
    int kills = (int)it_getenv_long("EOS_KILLS", 5);
    CU_ASSERT_EQUAL_FATAL(agg_init(&s, &a, "agg", total, ""), 0);
    it_scenario_feed_start(&s);
    pid_t pid = it_rill_start(a.yaml[0], a.log[0]);
    long seen = 0;
    for (int k = 0; k < kills; k++) {
        /* a life makes progress, unless every output is out already */
        long now = it_wait_committed_past(a.counts, seen, total, 90000);
        CU_ASSERT_FATAL(now > seen || now >= total);
        seen = now;
        it_scenario_wait_produced(&s, it_scenario_produced(&s) + rand() % (3 * s.rate + 1));
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        pid = it_rill_start(a.yaml[0], a.log[0]);
    }
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    CU_ASSERT(wait_outputs(&a, total, 180000) == 0);
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    static long want_count[KEYS], want_sum[KEYS];
    CU_ASSERT_EQUAL(check_running(&s, &a, want_count, want_sum), 0);
    CU_ASSERT_EQUAL(check_store(a.yaml[0], "counts", want_count), 0);
    CU_ASSERT_EQUAL(check_store(a.yaml[0], "sums", want_sum), 0);
    char out[64], want[32];
    snprintf(want, sizeof want, "%ld\n", want_count[7]);
    CU_ASSERT_EQUAL(it_rill_exec3(out, sizeof out, 30000, "state", "get", "-c", a.yaml[0],
                                  "counts", "k7", "--as", "i64", NULL),
                    0);
    CU_ASSERT_STRING_EQUAL(out, want);

    /* Only the first restore of each of the 12 stores (6 tasks x 2) was
     * full; every restart after a kill restored just its changelog tail. */
    struct restores r = restores_after(a.log[0], 0);
    fprintf(stderr, "\n    state: %ld records, %d kills, %d restores (%d full), %ld changelog "
                    "records replayed of %ld written\n",
            total, kills, r.n, r.full, r.replayed, 2 * total);
    CU_ASSERT(r.n > 12);
    CU_ASSERT_EQUAL(r.full, 12);
    CU_ASSERT(r.replayed * 10 < 2 * total); /* far below a full replay */

    /* Full restore: lose the state directory, restart, wait for all 12
     * stores, stop: the rebuilt stores equal the recomputation. */
    char cmd[256], fulllog[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s/state-0", s.dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    snprintf(fulllog, sizeof fulllog, "%s/full.log", s.dir);
    pid = it_rill_start(a.yaml[0], fulllog);
    CU_ASSERT(it_file_wait(fulllog, "full=true", 12, 120000) >= 12);
    status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct restores full = restores_after(fulllog, 0);
    CU_ASSERT(full.replayed >= 2 * total); /* everything, from the changelog */
    CU_ASSERT_EQUAL(check_store(a.yaml[0], "counts", want_count), 0);
    CU_ASSERT_EQUAL(check_store(a.yaml[0], "sums", want_sum), 0);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static void test_task_migration(void)
{
    struct it_scenario s;
    struct agg a;
    long total = 12000;
    CU_ASSERT_EQUAL_FATAL(agg_init(&s, &a, "migrate", total, ""), 0);
    it_scenario_feed_start(&s);
    pid_t p0 = it_rill_start(a.yaml[0], a.log[0]);
    int64_t deadline = it_now_ms() + 90000;
    while (it_count_committed(a.counts, 30000) < total / 4 && it_now_ms() < deadline)
        ;
    pid_t p1 = it_rill_start(a.yaml[1], a.log[1]);
    /* B takes over tasks and rebuilds their stores from the changelogs. */
    CU_ASSERT(it_file_wait(a.log[1], "msg=\"store restored\"", 2, 90000) >= 2);
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    CU_ASSERT(wait_outputs(&a, total, 180000) == 0);
    int s0 = it_rill_stop(p0, SIGTERM, 30000), s1 = it_rill_stop(p1, SIGTERM, 30000);
    CU_ASSERT(s0 != -1 && WIFEXITED(s0) && WEXITSTATUS(s0) == 0);
    CU_ASSERT(s1 != -1 && WIFEXITED(s1) && WEXITSTATUS(s1) == 0);
    struct restores r1 = restores_after(a.log[1], 0);
    CU_ASSERT(r1.replayed > 0); /* the moved stores had history to restore */
    static long want_count[KEYS], want_sum[KEYS];
    CU_ASSERT_EQUAL(check_running(&s, &a, want_count, want_sum), 0);
    fprintf(stderr, "\n    migration: instance B restored %d stores, %ld changelog records\n", r1.n,
            r1.replayed);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static void test_standby_takeover(void)
{
    struct it_scenario s;
    struct agg a;
    long total = 9000;
    CU_ASSERT_EQUAL_FATAL(agg_init(&s, &a, "standby", total, "num.standby.replicas: 1\n"), 0);
    pid_t pid[3];
    for (int i = 0; i < 3; i++)
        pid[i] = it_rill_start(a.yaml[i], a.log[i]);
    /* Three instances, one thread each, over 6 partitions: each keeps a
     * copy of what it would take over if another died (both processors). */
    for (int i = 0; i < 3; i++)
        CU_ASSERT_FATAL(it_file_wait(a.log[i], "msg=\"standby opened\"", 2, 120000) >= 2);
    it_scenario_feed_start(&s);
    CU_ASSERT_FATAL(it_wait_committed_past(a.counts, total / 3, total, 120000) > total / 3);
    /* Instance 0 dies for good; what the survivors restored so far is
     * left out of the count below. */
    int before[3];
    for (int i = 1; i < 3; i++)
        before[i] = it_file_count(a.log[i], "msg=\"store restored\"");
    CU_ASSERT(it_rill_stop(pid[0], SIGKILL, 10000) != -1);
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    CU_ASSERT(wait_outputs(&a, total, 240000) == 0);
    int handed = 0, after = 0, full = 0;
    long replayed = 0;
    for (int i = 1; i < 3; i++) {
        int st = it_rill_stop(pid[i], SIGTERM, 30000);
        CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        struct restores r = restores_after(a.log[i], before[i]);
        handed += it_file_count(a.log[i], "msg=\"standby handed over\"");
        after += r.n;
        full += r.full;
        replayed += r.replayed;
    }
    static long want_count[KEYS], want_sum[KEYS];
    CU_ASSERT_EQUAL(check_running(&s, &a, want_count, want_sum), 0);
    fprintf(stderr, "\n    standby: %d restores after the kill (%d full), %ld changelog records "
                    "replayed, %d copies handed over\n", after, full, replayed, handed);
    /* The dead instance's 2 tasks of each processor (and whatever moved
     * between the survivors) came from copies: tail restores only. A copy
     * is handed over by the claim, or closed by the plan a moment before
     * (the group already showed the task here); either way the store is
     * where the copy left it. Without copies, the survivors would replay
     * those tasks' changelogs from the start, or from where they last had
     * them: a third of what was written by then, and more. */
    CU_ASSERT(after >= 4);
    CU_ASSERT_EQUAL(full, 0);
    CU_ASSERT(replayed * 10 < total);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static CU_TestInfo tests[] = {
    { "count and sum exact across SIGKILLs; tail-only and full restore", test_aggregation_under_kills },
    { "tasks migrate to a second instance with their stores", test_task_migration },
    { "an instance dies for good: the survivors take over from standby copies", test_standby_takeover },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("state", tests)
