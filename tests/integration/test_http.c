/*
 * test_http.c - rill run's HTTP endpoints on the real stack:
 *  - a passthrough p and a route r (whose every record is unroutable) over
 *    3 partitions, http.address on any free port: /healthz 200 from the
 *    start; /readyz 503 until the group assigned the partitions, then 200;
 *    after 2,000 records /metrics counts exactly them, per processor and
 *    topic, r's as dead letters of class unroutable (the DLQ records say
 *    so too), one processing and one end-to-end latency observation each,
 *    timed commits, no aborted transaction, every lag at 0, librdkafka's
 *    statistics (rtt, queues, transaction state); it passes `promtool check
 *    metrics` and names only the metrics and labels the monitoring assets
 *    may use; an unknown path is a 404; an http.address that is set and
 *    taken makes rill run exit 1 with one clear line;
 *  - /healthz fails while a thread is stuck inside its processor (the
 *    probe blocked on a FIFO), and recovers when it runs again;
 *  - /readyz is 503 with the store, partition and progress during the full
 *    restore of a 600,000-key store, then 200; the restored records and
 *    the store's estimated keys reach /metrics.
 */
#include "tests/lib/http.h"
#include "tests/lib/proc.h"
#include "tests/lib/scenario.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RECORDS 2000

static pid_t live;

static int cleanup(void)
{
    if (live > 0)
        it_rill_stop(live, SIGKILL, 10000);
    live = 0;
    return 0;
}

static char body[1 << 16];

/* The value of the sample line that starts with name (labels included). */
static long sample(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ' ')
            return atol(p + n + 1);
    return -1;
}

/* The sum of every sample of name (any labels) and their count in *n. */
static long sum_of(const char *text, const char *name, int *n)
{
    size_t len = strlen(name);
    long sum = 0;
    *n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, len) && p[len] == '{') {
            const char *v = strchr(p, '}');
            sum += v ? atol(v + 2) : 0;
            (*n)++;
        }
    return sum;
}

/* promtool check metrics on text, and check_assets.py's check that it
 * names exactly the metrics and labels the monitoring assets may use: 0
 * when both pass. */
static int promtool(const char *text)
{
    char path[128];
    int fd = it_tmpfile(path, sizeof path, "metrics");
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "promtool check metrics < %s && python3 tests/monitoring/check_assets.py metrics %s",
             path, path);
    int rc = system(cmd);
    unlink(path);
    return rc;
}

/* name{processor="P",label="value"} */
static long labelled(const char *text, const char *name, const char *proc, const char *label,
                     const char *value)
{
    char key[512];
    snprintf(key, sizeof key, "%s{processor=\"%s\",%s=\"%s\"}", name, proc, label, value);
    return sample(text, key);
}

static long of_proc(const char *text, const char *name, const char *proc)
{
    char key[256];
    snprintf(key, sizeof key, "%s{processor=\"%s\"}", name, proc);
    return sample(text, key);
}

/* The counters of body (a /metrics answer) are those of the run: RECORDS in
 * and out of p per topic; RECORDS in of r, all of them dead letters of
 * class unroutable; one processing and one end-to-end observation per
 * record; commits timed; nothing restoring. */
static void check_counters(const char *in, const char *out, const char *out2)
{
    CU_ASSERT_EQUAL(labelled(body, "rill_records_in_total", "p", "topic", in), RECORDS);
    CU_ASSERT_EQUAL(labelled(body, "rill_records_out_total", "p", "topic", out), RECORDS);
    CU_ASSERT_EQUAL(labelled(body, "rill_records_in_total", "r", "topic", in), RECORDS);
    CU_ASSERT_EQUAL(labelled(body, "rill_records_out_total", "r", "topic", out2), 0);
    static const char *const reasons[] = { "other", "decode", "invalid", "unroutable", "encode",
                                           "late" };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        CU_ASSERT_EQUAL(labelled(body, "rill_dlq_records_total", "p", "reason", reasons[i]), 0);
        CU_ASSERT_EQUAL(labelled(body, "rill_dlq_records_total", "r", "reason", reasons[i]),
                        strcmp(reasons[i], "unroutable") ? 0 : RECORDS);
    }
    const char *procs[] = { "p", "r" };
    for (int i = 0; i < 2; i++) {
        const char *pr = procs[i];
        CU_ASSERT(labelled(body, "rill_transactions_total", pr, "result", "committed") > 0);
        CU_ASSERT_EQUAL(labelled(body, "rill_transactions_total", pr, "result", "aborted"), 0);
        CU_ASSERT(of_proc(body, "rill_rebalances_total", pr) >= 1);
        CU_ASSERT_EQUAL(of_proc(body, "rill_processing_seconds_count", pr), RECORDS);
        CU_ASSERT_EQUAL(labelled(body, "rill_processing_seconds_bucket", pr, "le", "+Inf"),
                        RECORDS);
        CU_ASSERT_EQUAL(of_proc(body, "rill_end_to_end_latency_seconds_count", pr), RECORDS);
        /* every commit is timed: at least the committed transactions */
        CU_ASSERT(of_proc(body, "rill_commit_duration_seconds_count", pr) >=
                  labelled(body, "rill_transactions_total", pr, "result", "committed"));
        CU_ASSERT_EQUAL(of_proc(body, "rill_restore_remaining_records", pr), 0);
    }
    CU_ASSERT_EQUAL(sample(body, "rill_ready"), 1);
}

/* librdkafka's statistics reach /metrics (every statistics.interval.ms):
 * round-trip times to the brokers, queue depths, the producer's
 * transaction state. */
static void check_kafka_stats(int port)
{
    int nrtt = 0, nq = 0, ntxn = 0;
    int64_t deadline = it_now_ms() + 30000;
    do {
        CU_ASSERT_EQUAL_FATAL(it_http_get(port, "/metrics", body, sizeof body), 200);
        sum_of(body, "rill_kafka_broker_rtt_seconds", &nrtt);
        sum_of(body, "rill_kafka_queue_messages", &nq);
        sum_of(body, "rill_kafka_txn_state", &ntxn);
    } while ((!nrtt || nq < 4 || ntxn < 2) && it_now_ms() < deadline);
    CU_ASSERT(nrtt > 0);
    CU_ASSERT(nq >= 4); /* a consumer and a producer for each of p and r */
    CU_ASSERT(ntxn >= 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "rill_kafka_txn_state{processor=\"p\",thread=\"0\","
                                        "client=\"producer\",state=\""));
}

/* The DLQ records say their reason class. */
static void check_dlq_class(const char *dlq)
{
    struct it_rec *recs = NULL;
    long n = it_read_topic(dlq, 1, 60000, &recs);
    CU_ASSERT_EQUAL(n, RECORDS);
    long classed = 0;
    for (long i = 0; i < n; i++)
        classed += strstr(recs[i].headers, "rill.error.class=unroutable") != NULL;
    CU_ASSERT_EQUAL(classed, n);
    if (n > 0)
        it_recs_free(recs, n);
}

static void test_http_endpoints(void)
{
    char dir[64], yaml[128], yaml2[128], log[128], log2[128], in[128], out[128], out2[128],
        dlq[140], tail[2048];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "http"));
    snprintf(in, sizeof in, "%s", it_topic("httpin"));
    snprintf(out, sizeof out, "%s", it_topic("httpout"));
    snprintf(out2, sizeof out2, "%s", it_topic("httpout2"));
    snprintf(dlq, sizeof dlq, "%s.dlq", in);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(in, 3), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(out, 3), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(out2, 1), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(dlq, 1), 0);
    snprintf(yaml, sizeof yaml, "%s/t.yaml", dir);
    snprintf(log, sizeof log, "%s/rill.log", dir);
    /* Confluent's interceptors load through plugin.library.paths: the test
     * plugin records each client's id */
    const char *kplugin = getenv("RILL_KPLUGIN_SO");
    CU_ASSERT_PTR_NOT_NULL_FATAL(kplugin);
    char ids[128], app[128];
    snprintf(ids, sizeof ids, "%s/client.ids", dir);
    setenv("RILL_TEST_KPLUGIN_OUT", ids, 1);
    snprintf(app, sizeof app, "%s", it_topic("httpapp"));
    snprintf(tail, sizeof tail,
             "  plugin.library.paths: %s\n" /* into it_write_yaml's kafka: map */
             "application.id: %s\nstate.dir: %s/state\nhttp.address: 127.0.0.1:0\n"
             "topics:\n  %s: { partitions: 3 }\n  %s: { partitions: 3 }\n"
             "  %s: { partitions: 1 }\n"
             "processors:\n  p:\n    type: passthrough\n    inputs: [%s]\n    outputs: [%s]\n"
             /* every record's key names no output: all go to the DLQ as unroutable */
             "  r:\n    type: route\n    inputs: [%s]\n    outputs: [%s]\n"
             "    config: { field: key }\n",
             kplugin, app, dir, in, out, out2, in, out, in, out2);
    CU_ASSERT_EQUAL_FATAL(it_write_yaml(yaml, tail), 0);
    live = it_rill_start(yaml, log);
    int port = it_http_port(log, 60000);
    CU_ASSERT_FATAL(port > 0);

    CU_ASSERT_EQUAL(it_http_get(port, "/healthz", body, sizeof body), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"healthy\":true"));
    /* ready once the group assigned the partitions */
    int64_t deadline = it_now_ms() + 60000;
    int st = -1;
    while ((st = it_http_get(port, "/readyz", body, sizeof body)) != 200 && it_now_ms() < deadline)
        CU_ASSERT_EQUAL(st, 503);
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"ready\":true"));

    CU_ASSERT_EQUAL_FATAL(it_produce_padded(in, RECORDS, 100), 0);
    deadline = it_now_ms() + 60000;
    while (it_count_committed(out, 30000) < RECORDS && it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL(it_count_committed(out, 30000), RECORDS);
    /* the counters are the run's records (the last commit may trail the
     * output by a moment: they are asked for until they match) */
    deadline = it_now_ms() + 30000;
    do {
        CU_ASSERT_EQUAL_FATAL(it_http_get(port, "/metrics", body, sizeof body), 200);
    } while ((labelled(body, "rill_records_out_total", "p", "topic", out) < RECORDS ||
              labelled(body, "rill_dlq_records_total", "r", "reason", "unroutable") < RECORDS) &&
             it_now_ms() < deadline);
    check_counters(in, out, out2);
    /* caught up: every input partition's lag reaches 0 (transaction
     * markers included), in records and in seconds */
    int nlag = 0, nsec = 0;
    long lag = -1, secs = -1;
    deadline = it_now_ms() + 30000;
    do {
        CU_ASSERT_EQUAL_FATAL(it_http_get(port, "/metrics", body, sizeof body), 200);
        lag = sum_of(body, "rill_consumer_lag_records", &nlag);
        secs = sum_of(body, "rill_consumer_lag_seconds", &nsec);
    } while ((lag != 0 || nlag != 6) && it_now_ms() < deadline);
    CU_ASSERT_EQUAL(nlag, 6); /* 3 partitions for each of p and r */
    CU_ASSERT_EQUAL(lag, 0);
    CU_ASSERT_EQUAL(nsec, 6);
    CU_ASSERT_EQUAL(secs, 0);
    CU_ASSERT_EQUAL(promtool(body), 0);
    check_kafka_stats(port);
    CU_ASSERT_EQUAL(promtool(body), 0);
    check_dlq_class(dlq);
    /* every client carries an id naming application, processor, thread and
     * role (what Control Center and the broker's logs show) */
    const char *roles[] = { "p-0-consumer", "p-0-producer", "p-0-probe", "r-0-consumer",
                            "r-0-producer", "r-0-probe" };
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        char want[300];
        snprintf(want, sizeof want, "%s.%s\n", app, roles[i]);
        CU_ASSERT_EQUAL(it_file_count(ids, want), 1);
    }
    unsetenv("RILL_TEST_KPLUGIN_OUT");
    CU_ASSERT_EQUAL(it_http_get(port, "/nope", body, sizeof body), 404);

    /* the same address, set and taken: a second instance refuses to start */
    snprintf(yaml2, sizeof yaml2, "%s/t2.yaml", dir);
    snprintf(log2, sizeof log2, "%s/rill2.log", dir);
    char *again = strstr(tail, "127.0.0.1:0");
    char busy[2100];
    snprintf(busy, sizeof busy, "%.*s127.0.0.1:%d%s", (int)(again - tail), tail, port,
             again + strlen("127.0.0.1:0"));
    char *st2 = strstr(busy, "/state");
    if (st2)
        memcpy(st2, "/stat2", 6);
    CU_ASSERT_EQUAL_FATAL(it_write_yaml(yaml2, busy), 0);
    char err[4096];
    int rc = it_rill_exec(err, sizeof err, 60000, "run", yaml2);
    CU_ASSERT(rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot listen there"));

    CU_ASSERT(it_rill_stop(live, SIGTERM, 30000) != -1);
    live = 0;
}

/* /healthz fails while a stream thread is stuck inside its processor, and
 * recovers once it runs again: the probe processor blocks on a FIFO for a
 * record "block" until the test opens and closes the FIFO's other end. */
static void test_healthz_stuck_thread(void)
{
    const char *so = getenv("RILL_PROBE_SO");
    CU_ASSERT_PTR_NOT_NULL_FATAL(so);
    char dir[64], yaml[128], log[128], fifo[128], in[128], out[128], tail[1024];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "stuck"));
    snprintf(in, sizeof in, "%s", it_topic("stuckin"));
    snprintf(out, sizeof out, "%s", it_topic("stuckout"));
    CU_ASSERT_EQUAL_FATAL(it_create_topic(in, 1), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(out, 1), 0);
    snprintf(fifo, sizeof fifo, "%s/block.fifo", dir);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    snprintf(yaml, sizeof yaml, "%s/t.yaml", dir);
    snprintf(log, sizeof log, "%s/rill.log", dir);
    snprintf(tail, sizeof tail,
             "application.id: %s\nstate.dir: %s/state\nhttp.address: 127.0.0.1:0\n"
             "health.stuck.ms: 1000\n"
             "topics:\n  %s: { partitions: 1 }\n  %s: { partitions: 1 }\n"
             "processors:\n  b:\n    type: probe\n    library: %s\n    inputs: [%s]\n    outputs: [%s]\n"
             "    config: { block_fifo: %s }\n",
             it_topic("stuckapp"), dir, in, out, so, in, out, fifo);
    CU_ASSERT_EQUAL_FATAL(it_write_yaml(yaml, tail), 0);
    live = it_rill_start(yaml, log);
    int port = it_http_port(log, 60000);
    CU_ASSERT_FATAL(port > 0);
    int64_t deadline = it_now_ms() + 60000;
    while (it_http_get(port, "/readyz", body, sizeof body) != 200 && it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL(it_http_get(port, "/healthz", body, sizeof body), 200);

    CU_ASSERT_EQUAL_FATAL(it_produce_value(in, "k", "block"), 0);
    int st = 0;
    deadline = it_now_ms() + 60000;
    while ((st = it_http_get(port, "/healthz", body, sizeof body)) == 200 && it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL(st, 503);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "{\"processor\":\"b\",\"thread\":0}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"healthy\":false"));

    int fd = open(fifo, O_WRONLY); /* the processor holds the read end */
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    deadline = it_now_ms() + 60000;
    while ((st = it_http_get(port, "/healthz", body, sizeof body)) != 200 && it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT_EQUAL(it_count_committed(out, 30000), 1); /* and the record went on */
    CU_ASSERT(it_rill_stop(live, SIGTERM, 30000) != -1);
    live = 0;
}

/* Enough that a restore lasts well over a few /readyz answers: since
 * rill's consumers no longer wait out librdkafka's fetch pause, 200,000
 * records restored in a fraction of a second, and one CI run saw the
 * progress only once. */
#define RESTORE_RECORDS 600000

/* /readyz answers 503 while a large store restores, saying which store of
 * which partition and how far along, then 200; /metrics then counts the
 * replayed records and estimates the store's keys. The changelog is filled
 * directly (RESTORE_RECORDS distinct keys), so the task starts with a full
 * restore. */
static void test_readyz_during_restore(void)
{
    char dir[64], yaml[128], log[128], in[128], out[128], cl[300], app[128], tail[1024];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "restore"));
    snprintf(in, sizeof in, "%s", it_topic("rstin"));
    snprintf(out, sizeof out, "%s", it_topic("rstout"));
    snprintf(app, sizeof app, "%s", it_topic("rstapp"));
    snprintf(cl, sizeof cl, "%s-counts-changelog", app);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(in, 1), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(out, 1), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_topic(cl, 1), 0);
    CU_ASSERT_EQUAL_FATAL(it_produce_padded(cl, RESTORE_RECORDS, 0), 0);
    snprintf(yaml, sizeof yaml, "%s/t.yaml", dir);
    snprintf(log, sizeof log, "%s/rill.log", dir);
    snprintf(tail, sizeof tail,
             "application.id: %s\nstate.dir: %s/state\nhttp.address: 127.0.0.1:0\n"
             "topics:\n  %s: { partitions: 1 }\n  %s: { partitions: 1 }\n"
             "processors:\n  c:\n    type: count\n    inputs: [%s]\n    outputs: [%s]\n"
             "    stores: [counts]\n",
             app, dir, in, out, in, out);
    CU_ASSERT_EQUAL_FATAL(it_write_yaml(yaml, tail), 0);
    live = it_rill_start(yaml, log);
    int port = it_http_port(log, 60000);
    CU_ASSERT_FATAL(port > 0);
    int st = 0, replaying = 0, moved = 0;
    double first = -1;
    int64_t deadline = it_now_ms() + 120000;
    while ((st = it_http_get(port, "/readyz", body, sizeof body)) != 200 && it_now_ms() < deadline) {
        CU_ASSERT_EQUAL(st, 503);
        const char *r = strstr(body, "\"restore\":{\"partition\":0,\"store\":\"counts\","
                                     "\"phase\":\"replaying\"");
        const char *pr = r ? strstr(r, "\"progress\":") : NULL;
        if (!pr)
            continue;
        CU_ASSERT_PTR_NOT_NULL(strstr(body, "\"restoring\":true"));
        double q = atof(pr + strlen("\"progress\":"));
        CU_ASSERT(q >= 0 && q <= 1);
        if (!replaying++)
            first = q;
        else if (q > first)
            moved = 1;
    }
    CU_ASSERT_EQUAL(st, 200);
    CU_ASSERT(replaying > 0); /* seen restoring, with its progress */
    CU_ASSERT(moved);         /* and the progress moved */
    char restored[128];
    snprintf(restored, sizeof restored,
             "msg=\"store restored\" store=counts partition=0 replayed=%d", RESTORE_RECORDS);
    CU_ASSERT_EQUAL(it_file_count(log, restored), 1);
    fprintf(stderr, "\n    /readyz answered %d times while the restore replayed\n", replaying);
    deadline = it_now_ms() + 30000;
    int nkeys = 0;
    long keys = 0;
    do {
        CU_ASSERT_EQUAL_FATAL(it_http_get(port, "/metrics", body, sizeof body), 200);
        keys = sum_of(body, "rill_store_estimated_keys", &nkeys);
    } while (keys < RESTORE_RECORDS * 9 / 10 && it_now_ms() < deadline);
    CU_ASSERT_EQUAL(of_proc(body, "rill_restore_records_total", "c"), RESTORE_RECORDS);
    CU_ASSERT_EQUAL(of_proc(body, "rill_restore_remaining_records", "c"), 0);
    CU_ASSERT_EQUAL(nkeys, 1);
    CU_ASSERT(keys >= RESTORE_RECORDS * 9 / 10 && keys <= RESTORE_RECORDS * 11 / 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(body, "rill_restore_progress_ratio{processor=\"c\","
                                        "store=\"counts\"} 1.0000"));
    CU_ASSERT(it_rill_stop(live, SIGTERM, 30000) != -1);
    live = 0;
}

static CU_TestInfo tests[] = {
    { "readyz 503 with the restore's progress during a large restore, 200 after",
      test_readyz_during_restore },
    { "healthz fails while a thread is stuck in its processor, and recovers",
      test_healthz_stuck_thread },
    { "healthz, readyz, metrics equal to the run's records, promtool-clean; a taken address "
      "refused",
      test_http_endpoints },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("http", tests, NULL, cleanup)
