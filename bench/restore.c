/*
 * restore.c - `make bench-restore`: how long a rill instance takes to be
 * ready again with a store of N keys (default 1,000,000), side by side on the
 * same local broker:
 *
 *   tail   restart after SIGKILL: the local RocksDB store is kept, only the
 *          changelog tail is replayed;
 *   full   restart after losing the state directory: every store is rebuilt
 *          from its changelog;
 *   raw    a bare librdkafka read_committed consume of the same changelog
 *          partitions, no store writes: the floor for a full restore.
 *
 * "Ready" is the moment the last task logged "store restored". Each figure is
 * the median of RUNS runs, measured alternately. Writes
 * bench/results/restore.md and restore.json. Not a test: nothing asserts.
 */
#include "tests/lib/scenario.h"
#include "tests/lib/util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds from start until a log holds `want` "store restored" lines. */
static long time_to_ready(const char *yaml, const char *log, int want, pid_t *pid)
{
    unlink(log);
    int64_t t0 = it_now_ms();
    *pid = it_rill_start(yaml, log);
    if (it_file_wait(log, "msg=\"store restored\"", want, 600000) < want)
        return -1;
    return (long)(it_now_ms() - t0);
}

/* A bare read_committed consume of every partition of topic to its end. */
static long raw_consume_ms(const char *topic, long *records)
{
    int64_t t0 = it_now_ms();
    struct it_rec *r = NULL;
    *records = it_read_topic(topic, 1, 600000, &r);
    long ms = (long)(it_now_ms() - t0);
    if (*records > 0)
        it_recs_free(r, *records);
    return ms;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static long median(long *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_long);
    return v[n / 2];
}

int main(void)
{
    long keys = it_getenv_long("BENCH_KEYS", 1000000);
    int runs = (int)it_getenv_long("BENCH_RUNS", 3);
    struct it_scenario s;
    if (it_scenario_init(&s, "bench-restore", keys, keys, 0, "passthrough", "exactly_once_v2",
                         1000, "")) {
        fprintf(stderr, "bench: cannot set up topics (is the stack up?)\n");
        return 1;
    }
    char changelog[200], out[160], yaml[256], log[256], body[2048];
    snprintf(changelog, sizeof changelog, "%s-latest-changelog", s.app);
    snprintf(out, sizeof out, "%s.latest", s.app);
    if (it_create_topic(changelog, IT_PARTITIONS) || it_create_topic(out, IT_PARTITIONS))
        return 1;
    snprintf(yaml, sizeof yaml, "%s/bench.yaml", s.dir);
    snprintf(log, sizeof log, "%s/rill.log", s.dir);
    /* Static membership: the restarted instance takes its partitions back at
     * once, so the figure is the restore, not a session timeout. */
    snprintf(body, sizeof body,
             "  group.instance.id: bench\n"
             "application.id: %s\nprocessing.guarantee: exactly_once_v2\ncommit.interval.ms: 1000\n"
             "state.dir: %s/state\nstate.memory.bytes: 268435456\n"
             "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n"
             "processors:\n  keep: {type: latest, inputs: [%s], outputs: [%s], stores: [latest]}\n",
             s.app, s.dir, s.in, IT_PARTITIONS, out, IT_PARTITIONS, s.in, out);
    if (it_write_yaml(yaml, body))
        return 1;
    fprintf(stderr, "bench: producing %ld records with distinct keys\n", keys);
    if (it_produce_padded(s.in, keys, 0))
        return 1;
    fprintf(stderr, "bench: loading the store through rill\n");
    pid_t pid = it_rill_start(yaml, log);
    int64_t deadline = it_now_ms() + 900000;
    while (it_count_committed(out, 120000) < keys && it_now_ms() < deadline)
        ;
    it_rill_stop(pid, SIGTERM, 120000);

    long tail[16], full[16], raw[16], raw_records = 0;
    runs = runs > 16 ? 16 : runs;
    for (int r = 0; r < runs; r++) {
        /* tail: a SIGKILLed instance comes back with its local store */
        pid_t p;
        time_to_ready(yaml, log, IT_PARTITIONS, &p);
        it_rill_stop(p, SIGKILL, 10000);
        tail[r] = time_to_ready(yaml, log, IT_PARTITIONS, &p);
        it_rill_stop(p, SIGTERM, 60000);
        /* full: the state directory is gone */
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s/state", s.dir);
        if (system(cmd))
            return 1;
        full[r] = time_to_ready(yaml, log, IT_PARTITIONS, &p);
        it_rill_stop(p, SIGTERM, 60000);
        raw[r] = raw_consume_ms(changelog, &raw_records);
        fprintf(stderr, "bench: run %d: tail %ld ms, full %ld ms, raw %ld ms\n", r + 1, tail[r],
                full[r], raw[r]);
    }
    long mt = median(tail, runs), mf = median(full, runs), mr = median(raw, runs);
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d", gmtime(&now));
    FILE *md = fopen("bench/results/restore.md", "w"), *js = fopen("bench/results/restore.json", "w");
    if (!md || !js)
        return 1;
    fprintf(md,
            "# Restore: ready after a crash vs after losing the state directory\n\n"
            "`make bench-restore` (BENCH_KEYS=%ld, BENCH_RUNS=%d), one local broker, %ld cores.\n"
            "A `latest` store over %d partitions holding %ld keys (values ~140 bytes);\n"
            "ready = the last task logged `store restored`, from process start.\n\n"
            "| case | median ms | vs raw consume |\n| --- | ---: | ---: |\n"
            "| restart after SIGKILL (changelog tail) | %ld | %.2f |\n"
            "| restart after state-dir loss (full restore) | %ld | %.2f |\n"
            "| raw read_committed consume of the changelog (%ld records) | %ld | 1.00 |\n\n"
            "Target: ready after SIGKILL in under 1 s with 1,000,000 keys: %s.\n\n"
            "Why full restore trails the raw consume: rill restores a thread's tasks one after\n"
            "another, each partition read alone and written to RocksDB in 10,000-record\n"
            "batches, while the raw consumer fetches all partitions at once and writes\n"
            "nothing. Restoring tasks in parallel is the known next step.\n\n"
            "Measured %s with librdkafka %s.\n",
            keys, runs, sysconf(_SC_NPROCESSORS_ONLN), IT_PARTITIONS, keys, mt,
            mr ? (double)mt / (double)mr : 0.0, mf, mr ? (double)mf / (double)mr : 0.0,
            raw_records, mr, mt < 1000 ? "met" : "missed", when, rd_kafka_version_str());
    fprintf(js,
            "{\"keys\": %ld, \"runs\": %d, \"tail_ms\": %ld, \"full_ms\": %ld, \"raw_ms\": %ld, "
            "\"changelog_records\": %ld}\n",
            keys, runs, mt, mf, mr, raw_records);
    fclose(md);
    fclose(js);
    it_scenario_done(&s, 0);
    fprintf(stderr, "bench: wrote bench/results/restore.md\n");
    return 0;
}
