/*
 * test_sink.c - the PostgreSQL sinks on the real stack (broker with SASL,
 * ACLs and transactions; PostgreSQL), each test in a schema and topics of its
 * own (tests/lib/sinkfx.h). The order pipeline of topology/examples/ runs in
 * one `rill run`, the sinks (postgres_oltp and postgres_star, as the pg_sink
 * user) in others, and what lands is compared with a reference computed from
 * order_placed alone:
 *  - 20,000 orders while the sink process is SIGKILLed 5 times: every order
 *    once with its final status, every item and status event once, the facts
 *    and every view equal to the reference, rill_offsets at the topics' end;
 *  - two sink instances sharing the partitions (and the dimensions) while
 *    PostgreSQL is stopped and started 3 times: the same exact results, no
 *    deadlock, and a sink waiting for the database uses little CPU;
 *  - a zombie whose epoch a newer owner bumped commits no row and stops;
 *  - a record the tables refuse (and one that does not decode) lands in the
 *    dead-letter table once per sink, and everything else lands.
 */
#include "tests/lib/sinkfx.h"
#include "tests/lib/suite.h"
#include "tests/lib/proc.h"
#include "tests/lib/util.h"
#include "schemas/serde.h"
#include "topology/base/trace.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define GEN_SEED "11"

static pid_t live[4];

static int cleanup(void)
{
    for (size_t i = 0; i < 4; i++)
        if (live[i] > 0) {
            it_rill_stop(live[i], SIGKILL, 10000);
            live[i] = 0;
        }
    return 0;
}

static pid_t generate(struct sinkfx *f, const char *orders, const char *rate)
{
    return it_rill_spawn(f->pipe_log, "generate", "-F",
                         it_secret_path("order_generator.client.conf"), "-t",
                         f->topic[SK_PLACED], "--orders", orders, "--rate", rate, "--seed",
                         GEN_SEED, (char *)NULL);
}

/* The placed records the OLTP sink has committed past. */
static long progress(struct sinkfx *f)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT coalesce(sum(next_offset), 0) FROM rill_offsets WHERE "
             "group_id = '%s' AND topic = '%s'", sk_group(f, "orders_db"), f->topic[SK_PLACED]);
    return it_pg_qn(f->c, sql);
}

static int wait_progress(struct sinkfx *f, long want, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    while (it_now_ms() < deadline)
        if (progress(f) >= want)
            return 1;
    return 0;
}

static int exited_ok(int st)
{
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Generation done, everything sunk, both processes stopped cleanly, and
 * the comparisons. */
static void finish(struct sinkfx *f, pid_t gen, int nsinks)
{
    int st = it_rill_stop(gen, 0, 180000);
    live[1] = 0;
    CU_ASSERT_FATAL(exited_ok(st));
    CU_ASSERT_EQUAL_FATAL(sk_reference(f), 0);
    int done = sk_wait(f, f->orders, f->shipped_lines, 240000);
    if (!done)
        fprintf(stderr, "\n    not caught up: %ld final of %ld, %ld facts of %ld", it_pg_qn(f->c,
                "SELECT count(*) FROM orders WHERE status IN (1300, 1900)"), f->orders,
                it_pg_qn(f->c, "SELECT count(*) FROM fact_sales"), f->shipped_lines);
    CU_ASSERT(done);
    CU_ASSERT(exited_ok(it_rill_stop(live[0], SIGTERM, 60000)));
    live[0] = 0;
    for (int i = 0; i < nsinks; i++) {
        CU_ASSERT(exited_ok(it_rill_stop(live[2 + i], SIGTERM, 60000)));
        live[2 + i] = 0;
    }
    fprintf(stderr, "\n    %ld orders (%ld shipped, %ld lines, %ld shipped lines)", f->orders,
            f->shipped, f->lines, f->shipped_lines);
    CU_ASSERT_EQUAL(sk_verify(f), 0);
    /* connection failures and all: the password never reaches a log */
    CU_ASSERT_FATAL(strlen(sk_pg_password()) >= 8);
    for (int i = 0; i < nsinks; i++)
        CU_ASSERT_EQUAL(it_file_count(f->sink_log[i], sk_pg_password()), 0);
}

static void test_sink_end_to_end_kills(void)
{
    struct sinkfx f;
    long orders = it_getenv_long("SINK_ORDERS", 20000);
    int kills = (int)it_getenv_long("SINK_KILLS", 5);
    char n[24];
    snprintf(n, sizeof n, "%ld", orders);
    CU_ASSERT_EQUAL_FATAL(sk_init(&f, "sinke2e", "both", 1, 100, ""), 0);
    pid_t gen = live[1] = generate(&f, n, "2000");
    live[0] = it_rill_start(f.pipe_yaml, f.pipe_log);
    live[2] = it_rill_start(f.sink_yaml[0], f.sink_log[0]);
    /* kill k once its life has started and the sink is past k/(kills+1)
     * of the orders */
    for (int k = 0; k < kills; k++) {
        CU_ASSERT_FATAL(it_file_wait(f.sink_log[0], "msg=\"started\" sink=orders_db", k + 1,
                                     60000) == k + 1);
        CU_ASSERT_FATAL(wait_progress(&f, (long)(k + 1) * orders / (kills + 1), 120000));
        CU_ASSERT(it_rill_stop(live[2], SIGKILL, 10000) != -1);
        live[2] = it_rill_start(f.sink_yaml[0], f.sink_log[0]);
    }
    finish(&f, gen, 1);
    CU_ASSERT_EQUAL(it_file_count(f.sink_log[0], "msg=\"started\" sink=orders_db"), kills + 1);
    sk_done(&f);
}

static int pg_ctl(const char *what)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "infra/local/postgres.sh %s >/dev/null 2>&1", what);
    return system(cmd);
}

static void test_sink_two_instances_postgres_restarts(void)
{
    struct sinkfx f;
    long orders = it_getenv_long("SINK_PG_ORDERS", 6000);
    char n[24];
    snprintf(n, sizeof n, "%ld", orders);
    CU_ASSERT_EQUAL_FATAL(sk_init(&f, "sinkpg", "both", 2, 100, ""), 0);
    /* slow enough that every outage comes while orders still arrive (an
     * idle sink does not touch the database, so it would not notice) */
    pid_t gen = live[1] = generate(&f, n, "500");
    live[0] = it_rill_start(f.pipe_yaml, f.pipe_log);
    /* the retries are logged at debug level */
    setenv("RILL_LOG_LEVEL", "debug", 1);
    live[2] = it_rill_start(f.sink_yaml[0], f.sink_log[0]);
    live[3] = it_rill_start(f.sink_yaml[1], f.sink_log[1]);
    unsetenv("RILL_LOG_LEVEL");
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_FATAL(wait_progress(&f, (long)(k + 1) * orders / 6, 120000));
        /* a sink that cannot write its batch, or claim its partitions,
         * logs each retry with 'retrying' */
        static const char retry_line[] = "retrying\" sink=";
        int retried[2];
        for (int i = 0; i < 2; i++)
            retried[i] = it_file_count(f.sink_log[i], retry_line);
        CU_ASSERT_EQUAL_FATAL(pg_ctl("stop"), 0);
        /* each instance noticed (its work stopped) ... */
        for (int i = 0; i < 2; i++)
            CU_ASSERT(it_file_wait(f.sink_log[i], retry_line, retried[i] + 1, 60000) >=
                      retried[i] + 1);
        int64_t t0 = it_now_ms();
        long cpu0 = sk_cpu_ms(live[2]) + sk_cpu_ms(live[3]);
        /* ... and then retried, backing off, four more times (one busy
         * sink alone: 0.1 + 0.2 + 0.4 + 0.8 s) */
        for (int i = 0; i < 2; i++)
            CU_ASSERT(it_file_wait(f.sink_log[i], retry_line, retried[i] + 5, 60000) >=
                      retried[i] + 5);
        long cpu = sk_cpu_ms(live[2]) + sk_cpu_ms(live[3]) - cpu0;
        int64_t wall = it_now_ms() - t0;
        fprintf(stderr, "\n    outage %d: waited %lld ms, sinks' CPU %ld ms", k + 1,
                (long long)wall, cpu);
        /* waiting is not spinning: well under a tenth of one core */
        CU_ASSERT(cpu * 10 < wall);
        CU_ASSERT_EQUAL_FATAL(pg_ctl("start"), 0);
        PQreset(f.c);
        CU_ASSERT_FATAL(PQstatus(f.c) == CONNECTION_OK);
    }
    finish(&f, gen, 2);
    /* (whether an outage showed as a failed batch, whose circuit then
     * closes, or as a claim that waited, depends on where it hit) */
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(it_file_count(f.sink_log[i], "40P01"), 0);
        CU_ASSERT_EQUAL(it_file_count(f.sink_log[i], "deadlock"), 0);
    }
    sk_done(&f);
}

static void test_sink_zombie_stops(void)
{
    struct sinkfx f;
    char sql[512];
    CU_ASSERT_EQUAL_FATAL(sk_init(&f, "sinkzombie", "oltp", 1, 100, ""), 0);
    live[2] = it_rill_start(f.sink_yaml[0], f.sink_log[0]);
    CU_ASSERT_FATAL(it_file_wait(f.sink_log[0], "msg=\"assigned\" sink=orders_db", 1, 60000) == 1);
    /* a newer owner claims every partition */
    snprintf(sql, sizeof sql, "WITH u AS (UPDATE rill_offsets SET epoch = epoch + 1 WHERE "
             "group_id = '%s' RETURNING 1) SELECT count(*) FROM u", sk_group(&f, "orders_db"));
    CU_ASSERT_EQUAL_FATAL(it_pg_qn(f.c, sql), 30);
    pid_t gen = live[1] = generate(&f, "50", "1000");
    CU_ASSERT(exited_ok(it_rill_stop(gen, 0, 60000)));
    live[1] = 0;
    int st = it_rill_stop(live[2], 0, 60000);
    live[2] = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CU_ASSERT(it_file_count(f.sink_log[0], "fenced") >= 1);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(*) FROM orders"), 0);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(*) FROM order_status_history"), 0);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(*) FROM rill_status_pending"), 0);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT coalesce(sum(next_offset), -1) FROM rill_offsets"), 0);
    sk_done(&f);
}

/* An order whose unit price does not fit DECIMAL(18,4) (it decodes: the
 * serde has no such limit), and bytes that are no event. */
static int produce_poison(struct sinkfx *f)
{
    rill_serde_t *s = NULL;
    char err[256];
    if (rill_serde_new(&s, err, sizeof err) != RILL_OK)
        return -1;
    rill_order_item_t item = { "P0002", "toys", 1, 2000000000000000000LL };
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){ "poison", "C1", "L0001", &item, 1, 2000000000000000000LL,
                                        "EUR", RILL_STATUS_OPEN, 1790812800000, "c" };
    rill_buf_t b = { 0 };
    int bad = rill_serde_encode(s, &ev, &b, err, sizeof err) != RILL_OK;
    static const unsigned char garbage[] = { 0, 0, 0, 0, 1, 0xff, 0xff, 0xff };
    rd_kafka_conf_t *c = it_kconf("order_generator", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "partitioner", "murmur2_random");
    rd_kafka_t *rk = bad ? NULL : rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    bad |= !rk;
    const void *vals[2] = { b.p, garbage };
    size_t lens[2] = { b.len, sizeof garbage };
    for (int i = 0; rk && i < 2; i++)
        bad |= rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(f->topic[SK_PLACED]),
                                 RD_KAFKA_V_KEY("L0001", 5),
                                 RD_KAFKA_V_VALUE((void *)vals[i], lens[i]),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) != 0;
    if (rk) {
        bad |= rd_kafka_flush(rk, 30000) != 0;
        rd_kafka_destroy(rk);
    } else {
        rd_kafka_conf_destroy(c);
    }
    rill_buf_free(&b);
    rill_serde_destroy(s);
    return bad ? -1 : 0;
}

/* Each dead letter is logged once per sink, after its commit, with the
 * trace id derived from the record's coordinates (the poison records came
 * without a traceparent), as a processor reading it would derive it.
 * Returns the number of lines missing or repeated. */
static long dead_letter_lines(const struct sinkfx *f)
{
    struct it_rec *in = NULL;
    long n = it_read_topic(f->topic[SK_PLACED], 1, 60000, &in), bad = n < 0;
    int seen = 0;
    for (long i = 0; i < n; i++) {
        int garbage = in[i].value_len == 8,
            refused = memmem(in[i].value, in[i].value_len, "poison", 6) != NULL;
        if (!garbage && !refused)
            continue;
        seen++;
        uint8_t id[16];
        char hex[RILL_TRACE_ID_HEX + 1], needle[512];
        rill_trace_derive(f->topic[SK_PLACED], in[i].partition, in[i].offset, in[i].timestamp,
                          id);
        rill_trace_id_hex(id, hex);
        for (int k = 0; k < 2; k++) {
            snprintf(needle, sizeof needle, "msg=\"record to the dead-letter table\" sink=%s "
                     "topic=%s partition=%d offset=%lld reason=", k ? "olap" : "orders_db",
                     f->topic[SK_PLACED], (int)in[i].partition, (long long)in[i].offset);
            bad += it_file_count(f->sink_log[0], needle) != 1;
        }
        snprintf(needle, sizeof needle, " trace_id=%s", hex);
        bad += it_file_count(f->sink_log[0], needle) != 2;
    }
    if (n > 0)
        it_recs_free(in, n);
    return bad + (seen != 2) + (it_file_count(f->sink_log[0], "dead-letter table") != 4);
}

static void test_sink_poison_to_dead_letters(void)
{
    struct sinkfx f;
    char sql[512];
    CU_ASSERT_EQUAL_FATAL(sk_init(&f, "sinkpoison", "both", 1, 100, ""), 0);
    live[2] = it_rill_start(f.sink_yaml[0], f.sink_log[0]);
    pid_t gen = live[1] = generate(&f, "300", "3000");
    CU_ASSERT(exited_ok(it_rill_stop(gen, 0, 60000)));
    live[1] = 0;
    CU_ASSERT_EQUAL_FATAL(produce_poison(&f), 0);
    CU_ASSERT(sk_wait(&f, -1, -1, 120000));
    CU_ASSERT(exited_ok(it_rill_stop(live[2], SIGTERM, 60000)));
    live[2] = 0;
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(*) FROM orders"), 300);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(*) FROM orders WHERE order_id = 'poison'"), 0);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(*) FROM order_status_history"), 300);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(DISTINCT order_id) FROM rill_star_lines"), 300);
    CU_ASSERT_EQUAL(it_pg_qn(f.c, "SELECT count(*) FROM order_items WHERE order_id = 'poison'"), 0);
    for (int i = 0; i < 2; i++) {
        const char *g = sk_group(&f, i ? "olap" : "orders_db");
        snprintf(sql, sizeof sql, "SELECT count(*) FROM rill_dead_letters WHERE group_id = '%s'",
                 g);
        CU_ASSERT_EQUAL(it_pg_qn(f.c, sql), 2);
        /* the refused one with the database's reason, the other with the serde's */
        snprintf(sql, sizeof sql, "SELECT count(*) FROM rill_dead_letters WHERE group_id = '%s' "
                 "AND reason LIKE '%%SQLSTATE 22003%%' AND position('poison'::bytea in "
                 "payload) > 0", g);
        CU_ASSERT_EQUAL(it_pg_qn(f.c, sql), 1);
        snprintf(sql, sizeof sql, "SELECT count(*) FROM rill_dead_letters WHERE group_id = '%s' "
                 "AND reason NOT LIKE '%%SQLSTATE%%' AND length(payload) = 8", g);
        CU_ASSERT_EQUAL(it_pg_qn(f.c, sql), 1);
    }
    CU_ASSERT_EQUAL(dead_letter_lines(&f), 0);
    sk_done(&f);
}

static CU_TestInfo tests[] = {
    { "20,000 orders into both schemas exactly once across 5 SIGKILLs of the sink",
      test_sink_end_to_end_kills },
    { "two sink instances, PostgreSQL stopped and started 3 times: exact, no deadlock, "
      "no spinning",
      test_sink_two_instances_postgres_restarts },
    { "a zombie with a stale epoch commits nothing and stops", test_sink_zombie_stops },
    { "a refused record and an undecodable one go to the dead-letter table once",
      test_sink_poison_to_dead_letters },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("sink", tests, NULL, cleanup)
