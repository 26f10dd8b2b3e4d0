/*
 * test_eos.c - the runtime's delivery guarantees under kills, after Kafka's
 * streams_eos_test. Input is produced at a steady rate while the rill process
 * is SIGKILLed and restarted, with a 3 s commit interval so that kills land
 * inside open transactions.
 *
 * - exactly_once_v2, passthrough: under read_committed the output equals the
 *   input per partition, in order, no duplicate, no gap; the aborted
 *   transactions' records are physically in the log (the kills did hit open
 *   transactions); a marker produced afterwards to every output partition is
 *   readable (no transaction left hanging).
 * - DLQ: 1% malformed records through a `filter`; every good record in the
 *   output exactly once, every bad one in the DLQ exactly once with headers
 *   naming its source topic, partition, offset and processor, across a kill.
 * - at_least_once: no record lost across kills; duplicates are counted.
 * - fetching: with a queue bound of one record (librdkafka 2.0.2 pauses its
 *   fetcher each time it is reached) 30,000 records still arrive within the
 *   deadline, exactly, because the stream thread wakes the fetcher (its stop
 *   line counts the wake-ups; printed, not asserted: whether librdkafka
 *   pauses at all depends on timing).
 *
 * Sizes: EOS_RECORDS (default 20000), EOS_KILLS (default 5); `make
 * test-chaos` runs 100,000 records.
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

/* Runs instance 0, SIGKILLing it `kills` times: each life is killed once it
 * has committed output of its own, after a random further 0-3 s of input.
 * Then lets the last life finish and stops it with SIGTERM, which must exit 0. */
static void run_with_kills(struct it_scenario *s, int kills, long expect_out)
{
    char yaml[256], log[256];
    it_scenario_yaml(s, 0, yaml, sizeof yaml);
    it_scenario_log(s, log, sizeof log);
    it_scenario_feed_start(s);
    pid_t pid = it_rill_start(yaml, log);
    long seen = 0;
    for (int k = 0; k < kills; k++) {
        /* this life made progress, unless every output is out already */
        long now = seen >= expect_out ? seen : it_scenario_wait_output(s, seen, 90000);
        CU_ASSERT_FATAL(now > seen || now >= expect_out);
        seen = now;
        it_scenario_wait_produced(s, it_scenario_produced(s) + rand() % (3 * s->rate + 1));
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        pid = it_rill_start(yaml, log);
    }
    CU_ASSERT_FATAL(it_scenario_feed_join(s) == 0);
    CU_ASSERT(it_scenario_wait_output(s, expect_out - 1, 120000) >= expect_out);
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_eos_under_kills(void)
{
    struct it_scenario s;
    long total = it_getenv_long("EOS_RECORDS", 20000);
    int kills = (int)it_getenv_long("EOS_KILLS", 5);
    srand((unsigned)getpid());
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "eos", total, total / 60, 0, "passthrough",
                                           "exactly_once_v2", 3000, ""),
                          0);
    run_with_kills(&s, kills, total);
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 0, NULL), 0);
    long aborted = it_scenario_aborted(&s);
    CU_ASSERT(aborted > 0); /* the kills hit open transactions */
    CU_ASSERT(it_scenario_markers_readable(&s));
    fprintf(stderr, "\n    eos: %ld records, %d kills, %ld aborted records in the log\n", total,
            kills, aborted);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* Every DLQ record carries its source: topic, partition, offset, processor. */
static long check_dlq_headers(struct it_scenario *s)
{
    struct it_rec *in = NULL, *dlq = NULL;
    long nin = it_read_topic(s->in, 1, 60000, &in);
    long ndlq = it_read_topic(s->dlq, 1, 60000, &dlq);
    long bad = 0;
    for (long d = 0; d < ndlq; d++) {
        long i = 0;
        while (i < nin && strcmp(in[i].value, dlq[d].value))
            i++;
        char want[512];
        snprintf(want, sizeof want,
                 "rill.error.topic=%s\nrill.error.partition=%d\nrill.error.offset=%lld\n"
                 "rill.error.processor=p\nrill.error.message=",
                 s->in, (int)(i < nin ? in[i].partition : -1),
                 (long long)(i < nin ? in[i].offset : -1));
        if (i == nin || !strstr(dlq[d].headers, want))
            bad++;
    }
    if (nin > 0)
        it_recs_free(in, nin);
    if (ndlq > 0)
        it_recs_free(dlq, ndlq);
    return ndlq > 0 ? bad : -1;
}

static void test_dlq_exactly_once(void)
{
    struct it_scenario s;
    long total = 10000;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "dlq", total, total / 25, 100,
                                           "filter, config: {field: seq}", "exactly_once_v2",
                                           2000, ""),
                          0);
    run_with_kills(&s, 1, total - total / 100);
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 0, NULL), 0);
    CU_ASSERT_EQUAL(check_dlq_headers(&s), 0);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static void test_at_least_once_no_loss(void)
{
    struct it_scenario s;
    long total = it_getenv_long("EOS_RECORDS", 20000) / 2, dups = 0;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "alo", total, total / 30, 0, "passthrough",
                                           "at_least_once", 3000, ""),
                          0);
    run_with_kills(&s, 3, total);
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 1, &dups), 0);
    fprintf(stderr, "\n    at_least_once: %ld records, 3 kills, %ld duplicates\n", total, dups);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* librdkafka 2.0.2 stops fetching once a consumer's queue holds
 * queued.min.messages and fetches again only when its broker thread next
 * wakes, up to a second later. With a bound of one record and fetches of
 * about a kilobyte per partition, each fetch brings some 150 records and
 * then waits: 30,000 records would take minutes of such waits. The stream
 * thread wakes the fetchers when its queue runs empty with a partition
 * behind (loop.c, fetch_kick): everything is through, exactly, well within
 * the deadline. */
static void test_fetch_wakeup(void)
{
    struct it_scenario s;
    long total = 30000;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "wake", total, total, 0, "passthrough",
                                           "at_least_once", 1000,
                                           "  queued.min.messages: '1'\n"
                                           "  max.partition.fetch.bytes: '1024'\n"),
                          0);
    it_scenario_feed_start(&s);
    CU_ASSERT_EQUAL_FATAL(it_scenario_feed_join(&s), 0);
    char yaml[256], log[256];
    pid_t pid = it_rill_start(it_scenario_yaml(&s, 0, yaml, sizeof yaml),
                              it_scenario_log(&s, log, sizeof log));
    /* some 200 fetches: with a pause each, over three minutes */
    CU_ASSERT_EQUAL(it_scenario_wait_output(&s, total - 1, 60000), total);
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* how often the fetcher was woken (the stop line counts it): not
     * asserted, since whether librdkafka pauses at all depends on timing
     * (one run went through with none) */
    char *text = it_read_file(log, NULL);
    const char *at = text ? strstr(text, "fetch_wakeups=") : NULL;
    CU_ASSERT_PTR_NOT_NULL(at);
    if (at)
        fprintf(stderr, "\n    %.24s\n", at);
    free(text);
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 0, NULL), 0);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* A processor that refuses every 25th record twice (the test probe .so):
 * each is retried with backoff while its partition alone waits, and the
 * output is still exact. */
static void test_retry_with_backoff(void)
{
    struct it_scenario s;
    long total = 3000;
    char proc[512];
    const char *so = getenv("RILL_PROBE_SO");
    snprintf(proc, sizeof proc, "probe, library: '%s', config: {retries: 2, retry_every: 25}",
             so ? so : "build/release/tests/probe.so");
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "retry", total, 300, 0, proc, "exactly_once_v2",
                                           1000, ""),
                          0);
    char yaml[256], log[256];
    it_scenario_feed_start(&s);
    pid_t pid = it_rill_start(it_scenario_yaml(&s, 0, yaml, sizeof yaml),
                              it_scenario_log(&s, log, sizeof log));
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    CU_ASSERT(it_scenario_wait_output(&s, total - 1, 120000) >= total);
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 0, NULL), 0);
    /* every 25th record of each task was refused twice */
    FILE *f = fopen(log, "r");
    char line[2048];
    long retries = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *r = strstr(line, " retries=");
        if (strstr(line, "thread stopped") && r)
            retries += atol(r + 9);
    }
    if (f)
        fclose(f);
    CU_ASSERT(retries >= 2 * total / 25);
    fprintf(stderr, "\n    retry: %ld records, %ld retries\n", total, retries);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* A record with 100 headers (names repeating) through passthrough under
 * exactly_once_v2 keeps all of them, in order, and a record with none gets
 * none of its own (the engine once kept the first 64 only); each gets
 * rill's traceparent after them. */
static void test_every_header_arrives(void)
{
    enum { NH = 100 };
    struct it_scenario s;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "headers", 2, 100, 0, "passthrough",
                                           "exactly_once_v2", 500, ""),
                          0);
    char err[256], want[NH * 32] = "";
    size_t used = 0;
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "enable.idempotence", "true");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_headers_t *h = rd_kafka_headers_new(NH);
    for (int i = 0; i < NH; i++) {
        char name[32], value[32];
        snprintf(name, sizeof name, "h%d", i % 10 == 9 ? 9 : i);
        int n = snprintf(value, sizeof value, "v%d", i);
        rd_kafka_header_add(h, name, -1, value, n);
        used += (size_t)snprintf(want + used, sizeof want - used, "%s=%s\n", name, value);
    }
    CU_ASSERT_EQUAL_FATAL(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(s.in), RD_KAFKA_V_PARTITION(0),
                                            RD_KAFKA_V_KEY("k", 1), RD_KAFKA_V_VALUE("many", 4),
                                            RD_KAFKA_V_HEADERS(h),
                                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                            RD_KAFKA_V_END),
                          RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL_FATAL(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(s.in), RD_KAFKA_V_PARTITION(0),
                                            RD_KAFKA_V_KEY("k", 1), RD_KAFKA_V_VALUE("none", 4),
                                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                            RD_KAFKA_V_END),
                          RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
    char yaml[256], log[256];
    pid_t pid = it_rill_start(it_scenario_yaml(&s, 0, yaml, sizeof yaml),
                              it_scenario_log(&s, log, sizeof log));
    CU_ASSERT(it_scenario_wait_output(&s, 1, 60000) >= 2);
    int status = it_rill_stop(pid, SIGTERM, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    struct it_rec *out = NULL;
    long n = it_read_topic(s.out, 1, 60000, &out);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    /* each followed by the one header rill adds: its traceparent
     * ("traceparent=" and 55 bytes and the newline) */
    size_t tp = strlen("traceparent=") + 55 + 1;
    CU_ASSERT_STRING_EQUAL(out[0].value, "many");
    CU_ASSERT(strlen(out[0].headers) == used + tp && !strncmp(out[0].headers, want, used) &&
              !strncmp(out[0].headers + used, "traceparent=00-", 15));
    CU_ASSERT_STRING_EQUAL(out[1].value, "none");
    CU_ASSERT(strlen(out[1].headers) == tp && !strncmp(out[1].headers, "traceparent=00-", 15));
    it_recs_free(out, n);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static CU_TestInfo tests[] = {
    { "retry: refused records pass exactly once after backoff", test_retry_with_backoff },
    { "exactly_once_v2: passthrough exact across SIGKILLs", test_eos_under_kills },
    { "dlq: malformed records exactly once with headers, across a kill", test_dlq_exactly_once },
    { "at_least_once: nothing lost across SIGKILLs", test_at_least_once_no_loss },
    { "exactly_once_v2: all of 100 headers arrive, in order", test_every_header_arrives },
    { "fetching: a queue bound of one record does not stall the consumer", test_fetch_wakeup },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("eos", tests)
