/*
 * test_window.c - exactly-once windowed aggregation on the real broker while
 * the process is SIGKILLed mid-transaction and restarted (the kill loop of
 * test_state.c). Two processors read the scenario's 6-partition input (keys
 * k0..k999, value {"seq": i}), on event time = seq (`time: seq`, so the
 * reference is independent of when records were produced):
 *
 *   wcount: windowed_count, tumbling 2000, emit on_close
 *   wsum:   windowed_sum of seq, tumbling 2000, emit on_update
 *
 * Under read_committed, every wsum result equals the running sum the test
 * recomputes from the input for that key and window, in order, one per input
 * record; every wcount result is a window that closed (its end <= the
 * largest seq of its input partition), with the recomputed count, and every
 * such window appears exactly once. Retention: wcount's changelog holds one
 * committed tombstone per closed window and one window write per record.
 * WIN_RECORDS (default 6000) and WIN_KILLS
 * (default 5) size it; `make test-chaos` runs it longer.
 */
#include "tests/lib/scenario.h"
#include "tests/lib/util.h"
#include "tests/lib/suite.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEYS 1000
#define SIZE 2000

struct win_it {
    char counts[160], sums[160], cl_counts[200], cl_sums[200];
    char yaml[256], log[256];
};

static int win_init(struct it_scenario *s, struct win_it *w, long total, long rate)
{
    if (it_scenario_init(s, "windows", total, rate, 0, "passthrough", "exactly_once_v2", 500, ""))
        return -1;
    snprintf(w->counts, sizeof w->counts, "%s.wcounts", s->app);
    snprintf(w->sums, sizeof w->sums, "%s.wsums", s->app);
    snprintf(w->cl_counts, sizeof w->cl_counts, "%s-wc-changelog", s->app);
    snprintf(w->cl_sums, sizeof w->cl_sums, "%s-ws-changelog", s->app);
    if (it_create_topic(w->counts, IT_PARTITIONS) || it_create_topic(w->sums, IT_PARTITIONS) ||
        it_create_topic(w->cl_counts, IT_PARTITIONS) || it_create_topic(w->cl_sums, IT_PARTITIONS))
        return -1;
    char body[2048];
    snprintf(w->yaml, sizeof w->yaml, "%s/win.yaml", s->dir);
    snprintf(w->log, sizeof w->log, "%s/win.log", s->dir);
    snprintf(body, sizeof body,
             "application.id: %s\n"
             "processing.guarantee: exactly_once_v2\n"
             "commit.interval.ms: 500\n"
             "state.dir: %s/state\n"
             "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n"
             "processors:\n"
             "  wcount:\n"
             "    type: windowed_count\n"
             "    inputs: [%s]\n    outputs: [%s]\n    stores: [wc]\n"
             "    config: {time: seq, window: {type: tumbling, size.ms: %d}, emit: on_close}\n"
             "  wsum:\n"
             "    type: windowed_sum\n"
             "    inputs: [%s]\n    outputs: [%s]\n    stores: [ws]\n"
             "    config: {time: seq, field: seq, window: {type: tumbling, size.ms: %d}}\n",
             s->app, s->dir, s->in, IT_PARTITIONS, w->counts, IT_PARTITIONS, w->sums,
             IT_PARTITIONS, s->in, w->counts, SIZE, s->in, w->sums, SIZE);
    return it_write_yaml(w->yaml, body);
}

/* "k<n>@<start>/<end>" -> n, start, end; -1 when it is not that. */
static int parse_wkey(const char *k, int *key, long *start, long *end)
{
    char tail;
    if (!k || sscanf(k, "k%d@%ld/%ld%c", key, start, end, &tail) != 3 || *key < 0 ||
        *key >= KEYS)
        return -1;
    return 0;
}

/* The reference, per key and window index: the records' count and sum, and
 * whether the window closed (its end <= the largest seq of the key's
 * partition); then every output record checked against it. */
static long check_windows(struct it_scenario *s, struct win_it *w, long *closed_out)
{
    struct it_rec *in = NULL, *c = NULL, *m = NULL;
    long nin = it_read_topic(s->in, 1, 60000, &in);
    long nc = it_read_topic(w->counts, 1, 60000, &c);
    long nm = it_read_topic(w->sums, 1, 60000, &m);
    long nwin = s->total / SIZE + 1, bad = 0;
    if (nin != s->total || nm != s->total) {
        fprintf(stderr, "\n    read %ld input, %ld sums (want %ld each)\n", nin, nm, s->total);
        bad++;
    }
    size_t cells = (size_t)(KEYS * nwin);
    long *cnt = calloc(cells, sizeof *cnt), *emitted = calloc(cells, sizeof *emitted);
    long *sum_at = calloc(cells, sizeof *sum_at), *run = calloc(cells, sizeof *run);
    long *cur = malloc(cells * sizeof *cur), *tail = malloc(cells * sizeof *tail);
    long *next = malloc(((size_t)nin + 1) * sizeof *next);
    long *seq_of = calloc((size_t)nin + 1, sizeof *seq_of);
    long st[IT_PARTITIONS], part_of[KEYS];
    if (!cnt || !emitted || !sum_at || !run || !cur || !tail || !next || !seq_of)
        return 1;
    for (int p = 0; p < IT_PARTITIONS; p++)
        st[p] = -1;
    for (int k = 0; k < KEYS; k++)
        part_of[k] = -1;
    for (size_t x = 0; x < cells; x++)
        cur[x] = tail[x] = -1;
    /* the input, per key and window: the seqs in partition order (a list) */
    for (long i = 0; i < nin; i++) {
        int k = in[i].key && in[i].key[0] == 'k' ? atoi(in[i].key + 1) : -1;
        const char *colon = in[i].value ? strchr(in[i].value, ':') : NULL;
        long seq = colon ? atol(colon + 1) : -1;
        if (k < 0 || k >= KEYS || seq < 0 || seq / SIZE >= nwin) {
            bad++;
            continue;
        }
        long cell = k * nwin + seq / SIZE;
        part_of[k] = in[i].partition;
        st[in[i].partition] = seq > st[in[i].partition] ? seq : st[in[i].partition];
        cnt[cell]++;
        seq_of[i] = seq;
        next[i] = -1;
        if (tail[cell] < 0)
            cur[cell] = i;
        else
            next[tail[cell]] = i;
        tail[cell] = i;
    }
    /* wsum: per cell, the running sums in input order, one per record */
    for (long i = 0; i < nm; i++) {
        int k;
        long start, end;
        if (parse_wkey(m[i].key, &k, &start, &end) < 0 || start % SIZE || end != start + SIZE ||
            start / SIZE >= nwin) {
            bad++;
            continue;
        }
        long cell = k * nwin + start / SIZE;
        sum_at[cell]++;
        if (cur[cell] < 0) {
            bad++; /* more results than records */
            continue;
        }
        run[cell] += seq_of[cur[cell]];
        cur[cell] = next[cur[cell]];
        if (atol(m[i].value) != run[cell])
            bad++;
    }
    long closed = 0;
    for (long i = 0; i < nc; i++) {
        int k;
        long start, end;
        if (parse_wkey(c[i].key, &k, &start, &end) < 0 || start % SIZE || end != start + SIZE ||
            start / SIZE >= nwin) {
            bad++;
            continue;
        }
        long cell = k * nwin + start / SIZE;
        if (emitted[cell]++ || part_of[k] < 0 || end > st[part_of[k]] ||
            atol(c[i].value) != cnt[cell])
            bad++;
    }
    for (int k = 0; k < KEYS; k++)
        for (long x = 0; x < nwin; x++) {
            long cell = k * nwin + x;
            int should = cnt[cell] && part_of[k] >= 0 && (x + 1) * SIZE <= st[part_of[k]];
            closed += should;
            if (should != (emitted[cell] > 0) || sum_at[cell] != cnt[cell])
                bad++;
        }
    *closed_out = closed;
    free(cnt);
    free(emitted);
    free(sum_at);
    free(run);
    free(cur);
    free(tail);
    free(next);
    free(seq_of);
    it_recs_free(in, nin);
    it_recs_free(c, nc);
    it_recs_free(m, nm);
    return bad;
}

static void test_windows_under_kills(void)
{
    struct it_scenario s;
    struct win_it w;
    long total = it_getenv_long("WIN_RECORDS", 6000);
    int kills = (int)it_getenv_long("WIN_KILLS", 5);
    CU_ASSERT_EQUAL_FATAL(win_init(&s, &w, total, total / 60 > 50 ? total / 60 : 50), 0);
    it_scenario_feed_start(&s);
    pid_t pid = it_rill_start(w.yaml, w.log);
    long seen = 0;
    for (int k = 0; k < kills; k++) {
        /* a life makes progress, unless every output is out already */
        long now = it_wait_committed_past(w.sums, seen, total, 90000);
        CU_ASSERT_FATAL(now > seen || now >= total);
        seen = now;
        it_scenario_wait_produced(&s, it_scenario_produced(&s) + rand() % (s.rate + 1));
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        pid = it_rill_start(w.yaml, w.log);
    }
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    /* each processor runs its own group (<app>.<processor>): wait until both
     * have committed the whole input (wcount's on_close output has no
     * count to wait for) */
    static const char *const procs[] = { "wcount", "wsum" };
    for (int i = 0; i < 2; i++) {
        char group[160], err[256];
        snprintf(group, sizeof group, "%s.%s", s.app, procs[i]);
        rd_kafka_conf_t *gc = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
        it_kconf_set(gc, "group.id", group);
        rd_kafka_t *grp = rd_kafka_new(RD_KAFKA_CONSUMER, gc, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(grp);
        int64_t deadline = it_now_ms() + 180000;
        long done = 0;
        while ((done = it_group_committed(grp, s.in, IT_PARTITIONS)) < total &&
               it_now_ms() < deadline)
            ;
        CU_ASSERT_EQUAL(done, total);
        rd_kafka_destroy(grp);
    }
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    long closed = 0, bad = check_windows(&s, &w, &closed);
    fprintf(stderr, "\n    windows: %ld records, %d kills, %ld windows closed and emitted once, "
                    "%ld discrepancies\n", total, kills, closed, bad);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(closed >= KEYS); /* the on_close side had real work */
    /* retention: one committed changelog tombstone per closed window ('w'
     * keys hold 40-byte windows; a tombstone has no value) */
    struct it_rec *cl = NULL;
    long ncl = it_read_topic(w.cl_counts, 1, 60000, &cl), tombs = 0, puts = 0;
    for (long i = 0; i < ncl; i++) {
        if (!cl[i].key || cl[i].key_len < 13 || cl[i].key[0] != 'w')
            continue;
        tombs += cl[i].value_len == 0;
        puts += cl[i].value_len == 40;
    }
    it_recs_free(cl, ncl);
    fprintf(stderr, "    wcount changelog: %ld window writes, %ld tombstones\n", puts, tombs);
    CU_ASSERT_EQUAL(tombs, closed);
    CU_ASSERT_EQUAL(puts, total); /* one write per record: no aborted one shows */
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static CU_TestInfo tests[] = {
    { "windowed count (on_close) and sum (on_update) exact across SIGKILLs",
      test_windows_under_kills },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("windows", tests)
