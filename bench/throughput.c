/*
 * throughput.c - `make bench`: rill side by side with a raw librdkafka loop
 * and with Kafka Streams on the same local broker, plus end-to-end latency.
 * Every contender processes the same pre-produced input (BENCH_RECORDS
 * records of ~150 bytes, keys over 100,000 values, 6 partitions; a 1-partition
 * input for one pair), pinned to its own core while the broker keeps another.
 * Each pair runs alternately BENCH_RUNS times; the report gives medians, the
 * spread (min..max), ratios, CPU seconds per million records and peak RSS of
 * the process under test (from wait4), and writes bench/results/latest.md and
 * latest.json. Throughput counts from the moment the output holds 1% of the
 * input to the moment it holds all of it (the output's end offsets, sampled
 * every 20 ms), so start-up and group joins are left out for every
 * contender alike. Not a test.
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

static long records, runs;
static char dir[64], peer_cp[8192];

/* Records written to topic so far: the sum of its partitions' end offsets
 * (under exactly-once this counts the few transaction markers too). */
static long written(rd_kafka_t *mon, const char *topic, int parts)
{
    long sum = 0;
    for (int p = 0; p < parts; p++) {
        int64_t lo = 0, hi = 0;
        if (!rd_kafka_query_watermark_offsets(mon, topic, p, &lo, &hi, 5000))
            sum += (long)hi;
    }
    return sum;
}

static rd_kafka_t *monitor(void)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "isolation.level", "read_uncommitted");
    return rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
}

struct result {
    double rps;       /* records per second */
    double cpu_per_m; /* CPU seconds per million records */
    long rss_kb;
};

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        if (!freopen("/dev/null", "w", stdout))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Runs argv until `records` records are written to out. */
static struct result measure(char *const argv[], const char *out, int parts)
{
    struct result r = { 0 };
    char log[128];
    snprintf(log, sizeof log, "%s/contenders.log", dir);
    rd_kafka_t *mon = monitor();
    pid_t pid = spawn(argv, log);
    int64_t t_first = 0, t_done = 0, deadline = it_now_ms() + 600000;
    long at_first = 0, n = 0;
    while (it_now_ms() < deadline) {
        n = written(mon, out, parts);
        int64_t now = it_now_ms();
        if (!t_first && n >= records / 100) {
            t_first = now;
            at_first = n;
        }
        if (n >= records) {
            t_done = now;
            break;
        }
        struct timespec ts = { 0, 20 * 1000000 };
        nanosleep(&ts, NULL); /* sampling period of the progress probe */
    }
    rd_kafka_destroy(mon);
    kill(pid, SIGTERM);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) == pid) {
        double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        r.cpu_per_m = cpu / (double)records * 1e6;
        r.rss_kb = ru.ru_maxrss;
    }
    if (t_done > t_first)
        r.rps = (double)(records - at_first) / ((double)(t_done - t_first) / 1000.0);
    return r;
}

/* ---- contenders ----------------------------------------------------------- */

static const char *rill_bin, *raw_bin;
static unsigned seq;

static struct result run_raw(const char *in, int parts, const char *mode, int commit_ms)
{
    char out[128], group[128], ms[16];
    snprintf(out, sizeof out, "%s.raw%u", in, seq);
    snprintf(group, sizeof group, "bench-raw-%d-%u", (int)getpid(), seq++);
    snprintf(ms, sizeof ms, "%d", commit_ms);
    it_create_topic(out, parts);
    char *argv[] = { "taskset", "-c", "1", (char *)raw_bin, (char *)in, out, group, (char *)mode, ms, NULL };
    return measure(argv, out, parts);
}

/* rill with its RocksDB budget state (state.memory.bytes) and more YAML:
 * extra, top-level lines (memory.bytes), or lines of the kafka: map (they
 * begin with two spaces and follow the map it_write_yaml writes first). */
static struct result run_rill_mem(const char *in, int parts, const char *guarantee,
                                  int commit_ms, const char *type, const char *state,
                                  const char *extra)
{
    char app[96], yaml[256], body[2048], out[160], cl[200];
    snprintf(app, sizeof app, "bench-rill-%d-%u", (int)getpid(), seq++);
    snprintf(out, sizeof out, "%s.out", app);
    snprintf(cl, sizeof cl, "%s-s-changelog", app);
    it_create_topic(out, parts);
    int stateful = strcmp(type, "passthrough") != 0;
    /* the windowed count: tumbling one-hour windows on the record timestamp,
     * every update emitted (one output per input, as the count's) */
    int windowed = !strcmp(type, "windowed_count");
    if (stateful)
        it_create_topic(cl, parts);
    snprintf(yaml, sizeof yaml, "%s/%s.yaml", dir, app);
    snprintf(body, sizeof body,
             "%s"
             "application.id: %s\nprocessing.guarantee: %s\ncommit.interval.ms: %d\n"
             "state.dir: %s/state\nstate.memory.bytes: %s\n%s"
             "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n"
             "processors:\n  p: {type: %s, inputs: [%s], outputs: [%s]%s%s}\n",
             extra[0] == ' ' ? extra : "", app, guarantee, commit_ms, dir, state,
             extra[0] == ' ' ? "" : extra, in, parts, out, parts, type, in, out,
             stateful ? ", stores: [s]" : "",
             windowed ? ", config: {window: {type: tumbling, size.ms: 3600000}}" : "");
    it_write_yaml(yaml, body);
    char *argv[] = { "taskset", "-c", "1", (char *)rill_bin, "run", yaml, NULL };
    return measure(argv, out, parts);
}

static struct result run_rill(const char *in, int parts, const char *guarantee, int commit_ms,
                              const char *type)
{
    /* BENCH_RILL_KAFKA: kafka: lines ("  key: 'value'\n" each) for an
     * experiment on the rill rows */
    const char *x = getenv("BENCH_RILL_KAFKA");
    return run_rill_mem(in, parts, guarantee, commit_ms, type, "268435456", x ? x : "");
}

/* librdkafka's own queue bounds, over memory.bytes' shares */
#define UNBOUNDED_QUEUES "  queued.max.messages.kbytes: '65536'\n  queue.buffering.max.kbytes: '1048576'\n"

static struct result run_streams(const char *in, int parts, const char *mode, int commit_ms,
                                 const char *topo)
{
    char app[96], out[160], ms[16], state[128], pw[512];
    snprintf(app, sizeof app, "bench-ks-%d-%u", (int)getpid(), seq++);
    snprintf(out, sizeof out, "%s.out", app);
    snprintf(ms, sizeof ms, "%d", commit_ms);
    snprintf(state, sizeof state, "%s/ks-state", dir);
    snprintf(pw, sizeof pw, "%s/admin.password", it_env("SECRETS_DIR"));
    it_create_topic(out, parts);
    char *argv[] = { "taskset", "-c", "1", "java", "-Xmx1g", "-cp", peer_cp, "rill.bench.StreamsPeer",
                     (char *)it_env("KAFKA_BOOTSTRAP"), "admin", pw, app, (char *)in, out,
                     (char *)topo, (char *)mode, ms, state, NULL };
    return measure(argv, out, parts);
}

/* ---- latency ----------------------------------------------------------------- */

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

/* rill passthrough on idle topics; a producer at `rate`/s for `secs`; a
 * read_committed consumer measures arrival minus the record's create time. */
static void latency(const char *guarantee, int commit_ms, long rate, int secs, long *p50,
                    long *p99, long *p999)
{
    char app[96], in[128], out[160], yaml[256], body[2048], log[256];
    snprintf(app, sizeof app, "bench-lat-%d-%u", (int)getpid(), seq++);
    snprintf(in, sizeof in, "%s.in", app);
    snprintf(out, sizeof out, "%s.out", app);
    it_create_topic(in, 6);
    it_create_topic(out, 6);
    snprintf(yaml, sizeof yaml, "%s/%s.yaml", dir, app);
    snprintf(log, sizeof log, "%s/%s.log", dir, app);
    snprintf(body, sizeof body,
             "application.id: %s\nprocessing.guarantee: %s\ncommit.interval.ms: %d\nstate.dir: %s/state\n"
             "topics:\n  %s: {partitions: 6}\n  %s: {partitions: 6}\n"
             "processors:\n  p: {type: passthrough, inputs: [%s], outputs: [%s]}\n",
             app, guarantee, commit_ms, dir, in, out, in, out);
    it_write_yaml(yaml, body);
    char *argv[] = { "taskset", "-c", "1", (char *)rill_bin, "run", yaml, NULL };
    pid_t pid = spawn(argv, log);
    it_file_wait(log, "partitions assigned", 1, 60000);
    char err[256];
    rd_kafka_conf_t *cc = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(cc, "group.id", app);
    it_kconf_set(cc, "isolation.level", "read_committed");
    it_kconf_set(cc, "auto.offset.reset", "earliest");
    it_kconf_set(cc, "fetch.wait.max.ms", "5");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    rd_kafka_poll_set_consumer(c);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, out, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(c, l);
    rd_kafka_topic_partition_list_destroy(l);
    /* The measuring consumer must own its partitions before the first record
     * is sent, or its own group join shows up as latency. */
    for (int64_t until = it_now_ms() + 60000; it_now_ms() < until;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (m)
            rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *a = NULL;
        int assigned = !rd_kafka_assignment(c, &a) && a->cnt > 0;
        if (a)
            rd_kafka_topic_partition_list_destroy(a);
        if (assigned)
            break;
    }
    rd_kafka_conf_t *pc = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(pc, "linger.ms", "0");
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    /* Warm the producer up (connection, metadata of the topic), so that the
     * first records do not carry its start-up as latency. */
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(p, in, NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (!rd_kafka_metadata(p, 0, rkt, &md, 10000))
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    long total = rate * secs, got = 0, *lat = malloc((size_t)total * sizeof *lat);
    int64_t start = it_now_ms();
    long sent = 0;
    while (got < total && it_now_ms() < start + (secs + 30) * 1000L) {
        int64_t now = it_now_ms();
        while (sent < total && sent < (now - start) * rate / 1000) {
            char v[160];
            int vl = snprintf(v, sizeof v, "{\"seq\":%ld,\"pad\":\"%0120ld\"}", sent, sent);
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC(in), RD_KAFKA_V_KEY(v + 7, 6),
                              RD_KAFKA_V_VALUE(v, (size_t)vl), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END);
            sent++;
        }
        rd_kafka_poll(p, 0);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 1);
        if (m && !m->err) {
            rd_kafka_timestamp_type_t tt;
            lat[got++] = (long)(it_now_ms() - rd_kafka_message_timestamp(m, &tt));
        }
        if (m)
            rd_kafka_message_destroy(m);
    }
    rd_kafka_destroy(p);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    /* The first second is warm-up for the whole path: left out. */
    long skip = got > rate ? rate : 0;
    got -= skip;
    memmove(lat, lat + skip, (size_t)got * sizeof *lat);
    qsort(lat, (size_t)got, sizeof *lat, cmp_long);
    *p50 = got ? lat[got / 2] : -1;
    *p99 = got ? lat[got * 99 / 100] : -1;
    *p999 = got ? lat[got * 999 / 1000] : -1;
    free(lat);
}

/* ---- the report ------------------------------------------------------------------ */

#define MAXRUNS 9
struct series {
    const char *name;
    struct result r[MAXRUNS];
    int n;
};

/* BENCH_ONLY: run just the series whose name contains it (a partial run,
 * written to bench/results/only.md; the other rows read 0, no latency, no
 * large count). */
static const char *only;
#define RUN(i, call)                                                                             \
    do {                                                                                         \
        if (!only || strstr(s[i].name, only))                                                    \
            s[i].r[s[i].n++] = (call);                                                           \
    } while (0)

static double med(const struct series *s, int what) /* 0 rps, 1 cpu, 2 rss */
{
    double v[MAXRUNS];
    for (int i = 0; i < s->n; i++)
        v[i] = what == 0 ? s->r[i].rps : what == 1 ? s->r[i].cpu_per_m : (double)s->r[i].rss_kb;
    qsort(v, (size_t)s->n, sizeof *v, it_cmp_double);
    return s->n ? v[s->n / 2] : 0;
}

static double lo(const struct series *s) { double m = 1e18; for (int i = 0; i < s->n; i++) if (s->r[i].rps < m) m = s->r[i].rps; return m; }
static double hi(const struct series *s) { double m = 0; for (int i = 0; i < s->n; i++) if (s->r[i].rps > m) m = s->r[i].rps; return m; }

int main(void)
{
    records = it_getenv_long("BENCH_RECORDS", 1000000);
    runs = it_getenv_long("BENCH_RUNS", 3);
    only = getenv("BENCH_ONLY") && *getenv("BENCH_ONLY") ? getenv("BENCH_ONLY") : NULL;
    if (runs > MAXRUNS)
        runs = MAXRUNS;
    rill_bin = getenv("RILL_BIN");
    raw_bin = getenv("RAWLOOP_BIN");
    const char *cpf = getenv("PEER_CP");
    FILE *f = cpf ? fopen(cpf, "r") : NULL;
    if (!rill_bin || !raw_bin || !f || !fgets(peer_cp, sizeof peer_cp - 64, f))
        return fprintf(stderr, "bench: RILL_BIN, RAWLOOP_BIN and PEER_CP must be set\n"), 2;
    fclose(f);
    peer_cp[strcspn(peer_cp, "\n")] = '\0';
    strcat(peer_cp, ":build/bench-peers");
    if (!it_tmpdir(dir, sizeof dir, "bench"))
        return 1;
    char in6[128], in1[128], inuniq[128];
    snprintf(in6, sizeof in6, "bench-in6-%d", (int)getpid());
    snprintf(in1, sizeof in1, "bench-in1-%d", (int)getpid());
    snprintf(inuniq, sizeof inuniq, "bench-inuniq-%d", (int)getpid());
    if (it_create_topic(in6, 6) || it_create_topic(in1, 1) || it_create_topic(inuniq, 6))
        return fprintf(stderr, "bench: cannot create topics (is the stack up?)\n"), 1;
    fprintf(stderr, "bench: producing %ld records to each input\n", records);
    if (it_produce_padded(in6, records, 100000) ||
        (!only && (it_produce_padded(in1, records, 100000) || it_produce_padded(inuniq, records, 0))))
        return 1;

    struct series s[] = {
        { .name = "raw loop, at-least-once, 6p" }, { .name = "rill passthrough, at-least-once, 6p" },
        { .name = "raw loop, transactional 100 ms, 6p" }, { .name = "rill passthrough, exactly-once 100 ms, 6p" },
        { .name = "rill passthrough, exactly-once 1 s, 6p" }, { .name = "raw loop, at-least-once, 1p" },
        { .name = "rill passthrough, at-least-once, 1p" }, { .name = "rill count 100,000 keys, exactly-once 100 ms" },
        { .name = "rill count all-distinct keys, exactly-once 100 ms" },
        { .name = "Kafka Streams passthrough, exactly-once 100 ms" }, { .name = "Kafka Streams count 100,000 keys, exactly-once 100 ms" },
        { .name = "Kafka Streams passthrough, at-least-once" },
        { .name = "rill windowed count (tumbling 1 h) 100,000 keys, exactly-once 100 ms" },
        { .name = "Kafka Streams windowed count (tumbling 1 h) 100,000 keys, exactly-once 100 ms" },
        { .name = "rill passthrough, at-least-once, 6p, memory.bytes 48 MiB (state 16 MiB)" },
        { .name = "rill passthrough, at-least-once, 6p, librdkafka's queue bounds (state 16 MiB)" },
        { .name = "rill count 100,000 keys, exactly-once 100 ms, memory.bytes 96 MiB (state 32 MiB)" },
        { .name = "rill count 100,000 keys, exactly-once 100 ms, librdkafka's queue bounds (state 32 MiB)" },
    };
    size_t ns = sizeof s / sizeof s[0];
    for (int r = 0; r < runs; r++) {
        fprintf(stderr, "bench: round %d of %ld\n", r + 1, runs);
        RUN(0, run_raw(in6, 6, "alo", 1000));
        RUN(1, run_rill(in6, 6, "at_least_once", 1000, "passthrough"));
        RUN(2, run_raw(in6, 6, "eos", 100));
        RUN(3, run_rill(in6, 6, "exactly_once_v2", 100, "passthrough"));
        RUN(4, run_rill(in6, 6, "exactly_once_v2", 1000, "passthrough"));
        RUN(5, run_raw(in1, 1, "alo", 1000));
        RUN(6, run_rill(in1, 1, "at_least_once", 1000, "passthrough"));
        RUN(7, run_rill(in6, 6, "exactly_once_v2", 100, "count"));
        RUN(8, run_rill(inuniq, 6, "exactly_once_v2", 100, "count"));
        RUN(9, run_streams(in6, 6, "eos", 100, "passthrough"));
        RUN(10, run_streams(in6, 6, "eos", 100, "count"));
        RUN(11, run_streams(in6, 6, "alo", 1000, "passthrough"));
        RUN(12, run_rill(in6, 6, "exactly_once_v2", 100, "windowed_count"));
        RUN(13, run_streams(in6, 6, "eos", 100, "wcount"));
        RUN(14, run_rill_mem(in6, 6, "at_least_once", 1000, "passthrough", "16777216",
                             "memory.bytes: 50331648\n"));
        RUN(15, run_rill_mem(in6, 6, "at_least_once", 1000, "passthrough", "16777216",
                             UNBOUNDED_QUEUES));
        RUN(16, run_rill_mem(in6, 6, "exactly_once_v2", 100, "count", "33554432",
                             "memory.bytes: 100663296\n"));
        RUN(17, run_rill_mem(in6, 6, "exactly_once_v2", 100, "count", "33554432",
                             UNBOUNDED_QUEUES));
        for (size_t i = 0; i < ns; i++)
            if (s[i].n)
                fprintf(stderr, "  %-52s %10.0f rec/s\n", s[i].name, s[i].r[s[i].n - 1].rps);
    }
    long e50 = 0, e99 = 0, e999 = 0, a50 = 0, a99 = 0, a999 = 0;
    if (!only) {
        latency("exactly_once_v2", 100, 2000, 20, &e50, &e99, &e999);
        latency("at_least_once", 100, 2000, 20, &a50, &a99, &a999);
    }
    /* The large-state run: a count over BENCH_BIG_KEYS distinct keys (one
     * run: producing and counting 10,000,000 records takes minutes). It goes
     * after the latency runs: compacting its changelog keeps the broker busy
     * for a while, which would show up as latency. */
    long big = only ? 0 : it_getenv_long("BENCH_BIG_KEYS", 10000000), small = records;
    struct series sbig = { .name = "rill count 10,000,000 keys, exactly-once 100 ms (1 run)" };
    if (big > 0) {
        char inbig[128];
        snprintf(inbig, sizeof inbig, "bench-inbig-%d", (int)getpid());
        fprintf(stderr, "bench: producing %ld records with distinct keys\n", big);
        if (it_create_topic(inbig, 6) || it_produce_padded(inbig, big, 0))
            return 1;
        records = big;
        sbig.r[sbig.n++] = run_rill(inbig, 6, "exactly_once_v2", 100, "count");
        records = small;
        fprintf(stderr, "  %-52s %10.0f rec/s\n", sbig.name, sbig.r[0].rps);
    }

    FILE *md = fopen(only ? "bench/results/only.md" : "bench/results/latest.md", "w");
    FILE *js = fopen(only ? "bench/results/only.json" : "bench/results/latest.json", "w");
    if (!md || !js)
        return 1;
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d", gmtime(&now));
    fprintf(md, "# rill benchmarks\n\n`make bench` on %s: %ld records of ~150 bytes per run, %ld runs "
                "per contender, alternating; %ld cores, one local Kafka 3.9.1 broker (KRaft, "
                "SASL/SCRAM) pinned to core 0, the process under test pinned to core 1 "
                "(`taskset`); librdkafka %s. Throughput is measured between the moments the "
                "output holds 1%% and 100%% of the input. CPU is user+system seconds "
                "of the process per million records over its whole life (start-up included); "
                "RSS is its peak.\n\n",
            when, records, runs, sysconf(_SC_NPROCESSORS_ONLN), rd_kafka_version_str());
    fprintf(md, "| contender | median rec/s | spread (min..max) | CPU s / M rec | peak RSS MiB |\n"
                "| --- | ---: | ---: | ---: | ---: |\n");
    fprintf(js, "{\"date\": \"%s\", \"records\": %ld, \"runs\": %ld, \"results\": [\n", when, records, runs);
    for (size_t i = 0; i < ns; i++) {
        fprintf(md, "| %s | %.0f | %.0f..%.0f | %.2f | %.0f |\n", s[i].name, med(&s[i], 0), lo(&s[i]),
                hi(&s[i]), med(&s[i], 1), med(&s[i], 2) / 1024.0);
        fprintf(js, "  {\"name\": \"%s\", \"rps\": %.0f, \"min\": %.0f, \"max\": %.0f, \"cpu_s_per_m\": %.3f, \"rss_kb\": %.0f}%s\n",
                s[i].name, med(&s[i], 0), lo(&s[i]), hi(&s[i]), med(&s[i], 1), med(&s[i], 2),
                i + 1 < ns ? "," : "");
    }
    if (sbig.n) {
        fprintf(md, "| %s, %ld records | %.0f | - | %.2f | %.0f |\n", sbig.name, big, med(&sbig, 0),
                med(&sbig, 1), med(&sbig, 2) / 1024.0);
        fprintf(js, "  ,{\"name\": \"%s\", \"records\": %ld, \"rps\": %.0f, \"cpu_s_per_m\": %.3f, "
                    "\"rss_kb\": %.0f}\n",
                sbig.name, big, med(&sbig, 0), med(&sbig, 1), med(&sbig, 2));
    }
    double r_alo = med(&s[1], 0) / med(&s[0], 0), r_eos = med(&s[3], 0) / med(&s[1], 0);
    double r_cnt = med(&s[7], 0) / med(&s[3], 0), r_ks = med(&s[3], 0) / med(&s[9], 0);
    double r_ksc = med(&s[7], 0) / med(&s[10], 0);
    double m_ks = med(&s[3], 2) / med(&s[9], 2), m_ksc = med(&s[7], 2) / med(&s[10], 2);
    double r_ksw = med(&s[12], 0) / med(&s[13], 0), m_ksw = med(&s[12], 2) / med(&s[13], 2);
    fprintf(md, "\n## Ratios against the targets\n\n| ratio | measured | target | |\n| --- | ---: | ---: | --- |\n");
    fprintf(md, "| rill passthrough / raw loop, at-least-once | %.2f | >= 0.85 | %s |\n", r_alo, r_alo >= 0.85 ? "met" : "missed");
    fprintf(md, "| rill exactly-once 100 ms / rill at-least-once | %.2f | >= 0.90 | %s |\n", r_eos, r_eos >= 0.90 ? "met" : "missed");
    fprintf(md, "| rill count 100k keys / rill passthrough (both exactly-once 100 ms) | %.2f | >= 0.5 | %s |\n", r_cnt, r_cnt >= 0.5 ? "met" : "missed");
    if (sbig.n) {
        double r_big = med(&sbig, 0) / med(&s[3], 0);
        fprintf(md, "| rill count 10M keys / rill passthrough (exactly-once 100 ms; 1 run) | %.2f | "
                    "(none set) | |\n", r_big);
    }
    fprintf(md, "| rill / Kafka Streams, passthrough exactly-once | %.2f | >= 2 | %s |\n", r_ks, r_ks >= 2 ? "met" : "missed");
    fprintf(md, "| rill / Kafka Streams, count exactly-once | %.2f | >= 2 | %s |\n", r_ksc, r_ksc >= 2 ? "met" : "missed");
    fprintf(md, "| rill peak RSS / Kafka Streams, passthrough | %.2f | <= 0.25 | %s |\n", m_ks, m_ks <= 0.25 ? "met" : "missed");
    fprintf(md, "| rill peak RSS / Kafka Streams, count | %.2f | <= 0.25 | %s |\n", m_ksc, m_ksc <= 0.25 ? "met" : "missed");
    fprintf(md, "| rill / Kafka Streams, windowed count exactly-once | %.2f | >= 2 | %s |\n", r_ksw, r_ksw >= 2 ? "met" : "missed");
    fprintf(md, "| rill peak RSS / Kafka Streams, windowed count | %.2f | <= 0.25 | %s |\n", m_ksw, m_ksw <= 0.25 ? "met" : "missed");
    fprintf(md, "| exactly-once p99 latency (ms) | %ld | <= 110 (commit + 10 ms) | %s |\n", e99, e99 <= 110 ? "met" : "missed");
    /* memory.bytes: peak RSS under the budget, throughput near the unbounded run's */
    double b_pass = med(&s[14], 0) / med(&s[15], 0), b_cnt = med(&s[16], 0) / med(&s[17], 0);
    double rss_pass = med(&s[14], 2) / 1024.0, rss_cnt = med(&s[16], 2) / 1024.0;
    fprintf(md, "| passthrough at-least-once: memory.bytes 48 MiB / librdkafka's bounds, rec/s | %.2f | >= 0.95 | %s |\n", b_pass, b_pass >= 0.95 ? "met" : "missed");
    fprintf(md, "| passthrough at-least-once: peak RSS at memory.bytes 48 MiB (unbounded: %.0f) | %.0f MiB | <= 48 | %s |\n", med(&s[15], 2) / 1024.0, rss_pass, rss_pass <= 48 ? "met" : "missed");
    fprintf(md, "| count exactly-once: memory.bytes 96 MiB / librdkafka's bounds, rec/s | %.2f | >= 0.95 | %s |\n", b_cnt, b_cnt >= 0.95 ? "met" : "missed");
    fprintf(md, "| count exactly-once: peak RSS at memory.bytes 96 MiB (unbounded: %.0f) | %.0f MiB | <= 96 | %s |\n", med(&s[17], 2) / 1024.0, rss_cnt, rss_cnt <= 96 ? "met" : "missed");
    fprintf(md, "\n## Latency (create time to read_committed consumer, 2,000 rec/s, 20 s, 6 partitions, first second left out)\n\n"
                "| guarantee | p50 ms | p99 ms | p99.9 ms |\n| --- | ---: | ---: | ---: |\n"
                "| exactly-once, 100 ms commits | %ld | %ld | %ld |\n"
                "| at-least-once, 100 ms commits | %ld | %ld | %ld |\n",
            e50, e99, e999, a50, a99, a999);
    fprintf(md, "\n## Other results\n\n- PostgreSQL sink vs raw COPY vs row-by-row INSERT: see "
                "`bench/results/sink.md` (`make bench-sink`).\n"
                "- Restore figures: see `bench/results/restore.md` (`make bench-restore`).\n");
    if (!sbig.n)
        fprintf(md, "\n## Skipped\n\n- `rill count` over 10,000,000 keys (BENCH_BIG_KEYS=0).\n");
    fprintf(js, "], \"latency_ms\": {\"eos\": [%ld, %ld, %ld], \"alo\": [%ld, %ld, %ld]}, "
                "\"ratios\": {\"alo_vs_raw\": %.3f, \"eos_vs_alo\": %.3f, \"count_vs_pass\": %.3f, "
                "\"rill_vs_ks_pass\": %.3f, \"rill_vs_ks_count\": %.3f, \"rss_vs_ks_pass\": %.3f, \"rss_vs_ks_count\": %.3f, "
                "\"rill_vs_ks_wcount\": %.3f, \"rss_vs_ks_wcount\": %.3f}}\n",
            e50, e99, e999, a50, a99, a999, r_alo, r_eos, r_cnt, r_ks, r_ksc, m_ks, m_ksc, r_ksw, m_ksw);
    /* What is left and why lives in one place, bench/README.md; the results
     * file carries a copy of it beside the figures. */
    FILE *why = fopen("bench/README.md", "r");
    char line[1024];
    int in_section = 0;
    while (why && fgets(line, sizeof line, why)) {
        if (!strncmp(line, "## ", 3)) {
            in_section = !strncmp(line, "## Where rill falls short", 25);
            if (in_section)
                fputc('\n', md);
        }
        if (in_section)
            fputs(line, md);
    }
    if (why)
        fclose(why);
    fclose(md);
    fclose(js);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    /* BENCH_KEEP=1: the contenders' logs and YAML stay, for a look */
    if (getenv("BENCH_KEEP") && !strcmp(getenv("BENCH_KEEP"), "1"))
        fprintf(stderr, "bench: kept %s\n", dir);
    else if (system(cmd))
        fprintf(stderr, "bench: cannot remove %s\n", dir);
    fprintf(stderr, "bench: wrote bench/results/%s.md\n", only ? "only" : "latest");
    return 0;
}
