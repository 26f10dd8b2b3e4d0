/*
 * test_group.c - rill instances sharing an application through Kafka's
 * consumer group, and what happens at startup when something is wrong.
 *
 * - Scale out and in: one, then two, then three instances of the same
 *   topology while input flows, then back to one (SIGTERM, exit 0); the
 *   output equals the input per partition, in order, exactly once.
 * - Zombie fencing: one of two instances is SIGSTOPped past
 *   max.poll.interval.ms and transaction.timeout.ms, the group moves on
 *   without it, then it is SIGCONTed: it must log that it was fenced, and the
 *   output holds no duplicate.
 * - Static membership at the defaults (no group.instance.id in the YAML, a
 *   30 s session so that waiting one out cannot pass): a SIGKILLed instance
 *   restarted at once commits output again within 15 s; a second instance
 *   stopped with SIGTERM leaves the group, and the first takes its
 *   partitions back within 15 s of its exit; the output stays exact.
 * - Startup failures exit 1 with one clear line: a wrong password, an input
 *   topic that does not exist, a malformed topology.
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

static pid_t start(struct it_scenario *s, int i)
{
    char yaml[256], log[256];
    snprintf(log, sizeof log, "%s/rill-%d.log", s->dir, i);
    return it_rill_start(it_scenario_yaml(s, i, yaml, sizeof yaml), log);
}

static int stopped_cleanly(pid_t pid)
{
    int status = it_rill_stop(pid, SIGTERM, 60000);
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_scale_out_and_in(void)
{
    struct it_scenario s;
    long total = 20000;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "scale", total, total / 60, 0, "passthrough",
                                           "exactly_once_v2", 2000, ""),
                          0);
    it_scenario_feed_start(&s);
    pid_t a = start(&s, 0);
    long seen = it_scenario_wait_output(&s, 0, 60000);
    CU_ASSERT_FATAL(seen > 0);
    pid_t b = start(&s, 1);
    char log[256];
    snprintf(log, sizeof log, "%s/rill-1.log", s.dir);
    CU_ASSERT_FATAL(it_file_wait(log, "partitions assigned", 1, 60000) >= 1);
    seen = it_scenario_wait_output(&s, seen, 60000);
    pid_t c = start(&s, 2);
    snprintf(log, sizeof log, "%s/rill-2.log", s.dir);
    CU_ASSERT_FATAL(it_file_wait(log, "partitions assigned", 1, 60000) >= 1);
    seen = it_scenario_wait_output(&s, seen, 60000);
    CU_ASSERT(stopped_cleanly(b));
    CU_ASSERT(stopped_cleanly(c));
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    CU_ASSERT(it_scenario_wait_output(&s, total - 1, 120000) >= total);
    CU_ASSERT(stopped_cleanly(a));
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 0, NULL), 0);
    CU_ASSERT(it_scenario_markers_readable(&s));
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static void test_zombie_is_fenced(void)
{
    struct it_scenario s;
    long total = 12000;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "zombie", total, 300, 0, "passthrough",
                                           "exactly_once_v2", 2000,
                                           "  max.poll.interval.ms: '8000'\n"
                                           "  transaction.timeout.ms: '8000'\n"),
                          0);
    it_scenario_feed_start(&s);
    pid_t a = start(&s, 0), b = start(&s, 1);
    char loga[256], logb[256];
    snprintf(loga, sizeof loga, "%s/rill-0.log", s.dir);
    snprintf(logb, sizeof logb, "%s/rill-1.log", s.dir);
    CU_ASSERT_FATAL(it_file_wait(loga, "partitions assigned", 1, 60000) >= 1);
    CU_ASSERT_FATAL(it_file_wait(logb, "partitions assigned", 1, 60000) >= 1);
    long seen = it_scenario_wait_output(&s, 0, 60000);
    CU_ASSERT_FATAL(seen > 0);
    int b_assigned = it_file_count(logb, "partitions assigned");
    /* Freeze A in the middle of its work; B must take A's partitions over. */
    kill(a, SIGSTOP);
    CU_ASSERT_FATAL(it_file_wait(logb, "partitions assigned", b_assigned + 1, 60000) > b_assigned);
    /* Keep A frozen well past max.poll.interval.ms and the transaction
     * timeout: 12 s of input at the feeder's steady rate. */
    it_scenario_wait_produced(&s, it_scenario_produced(&s) + 12 * s.rate);
    kill(a, SIGCONT);
    CU_ASSERT(it_file_wait(loga, "fenced=true", 1, 60000) >= 1);
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    CU_ASSERT(it_scenario_wait_output(&s, total - 1, 120000) >= total);
    CU_ASSERT(stopped_cleanly(a));
    CU_ASSERT(stopped_cleanly(b));
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 0, NULL), 0);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* The session of the static membership test's instances, and how soon
 * their work must move: well below it, so that an instance that waits out
 * a dead or stopped member's session fails. */
#define STATIC_SESSION "30000"
#define STATIC_DEADLINE_MS 15000

static void test_default_static_membership(void)
{
    struct it_scenario s;
    long total = 9000;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "static", total, total / 45, 0,
                                           "passthrough, kafka: {session.timeout.ms: '"
                                           STATIC_SESSION "'}",
                                           "exactly_once_v2", 1000, ""),
                          0);
    char loga[256], logb[256];
    snprintf(loga, sizeof loga, "%s/rill-0.log", s.dir);
    snprintf(logb, sizeof logb, "%s/rill-1.log", s.dir);
    it_scenario_feed_start(&s);
    pid_t a = start(&s, 0);
    CU_ASSERT_FATAL(it_scenario_wait_output(&s, 0, 60000) > 0);
    /* SIGKILL, restart at once: the same member takes its partitions back */
    CU_ASSERT_FATAL(it_rill_stop(a, SIGKILL, 10000) != -1);
    long before = it_count_committed(s.out, 30000);
    int64_t t0 = it_now_ms();
    a = start(&s, 0);
    long after = it_scenario_wait_output(&s, before, STATIC_DEADLINE_MS);
    int64_t resumed_ms = it_now_ms() - t0;
    CU_ASSERT(after > before);
    CU_ASSERT(resumed_ms < STATIC_DEADLINE_MS);
    /* a second instance joins, and its SIGTERM hands its partitions back */
    int na = it_file_count(loga, "partitions assigned");
    pid_t b = start(&s, 1);
    CU_ASSERT_FATAL(it_file_wait(logb, "partitions assigned", 1, 60000) >= 1);
    CU_ASSERT_FATAL(it_file_wait(loga, "partitions assigned", na + 1, 60000) > na);
    na = it_file_count(loga, "partitions assigned");
    CU_ASSERT(stopped_cleanly(b));
    int64_t t1 = it_now_ms();
    CU_ASSERT(it_file_wait(loga, "partitions assigned", na + 1, STATIC_DEADLINE_MS) > na);
    int64_t handed_ms = it_now_ms() - t1;
    CU_ASSERT(handed_ms < STATIC_DEADLINE_MS);
    CU_ASSERT_FATAL(it_scenario_feed_join(&s) == 0);
    CU_ASSERT(it_scenario_wait_output(&s, total - 1, 120000) >= total);
    CU_ASSERT(stopped_cleanly(a));
    CU_ASSERT_EQUAL(it_scenario_verify(&s, 0, NULL), 0);
    CU_ASSERT(it_scenario_markers_readable(&s));
    fprintf(stderr, "\n    static: output again %lld ms after a SIGKILL and restart, partitions "
                    "back %lld ms after a SIGTERMed peer's exit (session " STATIC_SESSION " ms)\n",
            (long long)resumed_ms, (long long)handed_ms);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

/* One line on stderr, exit 1, and the line says what. */
static void expect_startup_failure(const char *yaml_body, const char *needle)
{
    char dir[64], yaml[256], err[4096];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "it-start"));
    snprintf(yaml, sizeof yaml, "%s/t.yaml", dir);
    CU_ASSERT_EQUAL_FATAL(it_write_yaml(yaml, yaml_body), 0);
    int status = it_rill_exec(err, sizeof err, 60000, "run", yaml);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
    char *nl = strchr(err, '\n');
    CU_ASSERT(nl && nl[1] == '\0'); /* exactly one line */
    if (!strstr(err, needle) || !nl || nl[1])
        fprintf(stderr, "\n    stderr was: %s\n", err);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_startup_failures(void)
{
    char body[1024], topic[128];
    snprintf(topic, sizeof topic, "%s", it_topic("start"));
    CU_ASSERT_EQUAL_FATAL(it_create_topic(topic, 1), 0);
    /* it_write_yaml puts admin's credentials first; a second sasl.password
     * is a duplicate key, so wrong credentials get a file of their own. */
    snprintf(body, sizeof body,
             "application.id: start\nstate.dir: /tmp/rill-it-start-state\n"
             "topics: {%s: {partitions: 1}, nowhere: {partitions: 1}}\n"
             "processors:\n  p: {type: passthrough, inputs: [%s], outputs: [nowhere]}\n",
             topic, topic);
    expect_startup_failure(body, "output topic 'nowhere' does not exist");

    snprintf(body, sizeof body,
             "application.id: start\nstate.dir: /tmp/rill-it-start-state\n"
             "topics: {%s: {partitions: 1}}\n"
             "processors:\n  p:\n    type: passthrough\n    inputs: [%s]\n"
             "    kafka: {sasl.username: payment_processor, sasl.password: wrong}\n",
             topic, topic);
    expect_startup_failure(body, "kafka authentication failed for user 'payment_processor'");

    expect_startup_failure("application.id: start\nprocessors:\n  p: {type: passthrough, inptus: [x]}\n",
                           "t.yaml:");
    CU_ASSERT_EQUAL(system("rm -rf /tmp/rill-it-start-state"), 0);
}

/* Two signals while stopped: both are pending when it resumes, and the second
 * must end the process at once (130) instead of waiting for the drain. */
static void test_second_signal_exits_at_once(void)
{
    struct it_scenario s;
    CU_ASSERT_EQUAL_FATAL(it_scenario_init(&s, "signals", 100, 100, 0, "passthrough",
                                           "exactly_once_v2", 1000, ""),
                          0);
    char log[256];
    snprintf(log, sizeof log, "%s/rill-0.log", s.dir);
    pid_t pid = start(&s, 0);
    CU_ASSERT_FATAL(it_file_wait(log, "partitions assigned", 1, 60000) >= 1);
    kill(pid, SIGSTOP);
    kill(pid, SIGTERM);
    kill(pid, SIGINT);
    int status = it_rill_stop(pid, SIGCONT, 30000);
    CU_ASSERT(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 130);
    CU_ASSERT_EQUAL(it_file_count(log, "second signal, exiting now"), 1);
    /* and a single signal drains and exits 0 */
    pid = start(&s, 0);
    CU_ASSERT_FATAL(it_file_wait(log, "partitions assigned", 2, 60000) >= 2);
    CU_ASSERT(stopped_cleanly(pid));
    CU_ASSERT_EQUAL(it_file_count(log, "msg=\"stopped\""), 1);
    it_scenario_done(&s, CU_get_number_of_failures() > 0);
}

static CU_TestInfo tests[] = {
    { "a second signal exits at once, a single one drains", test_second_signal_exits_at_once },
    { "scale out to three instances and back in to one", test_scale_out_and_in },
    { "a frozen instance is fenced and writes no duplicate", test_zombie_is_fenced },
    { "default static membership: quick restart, clean leave", test_default_static_membership },
    { "startup failures exit 1 with one clear line", test_startup_failures },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("group", tests)
