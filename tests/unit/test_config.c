/*
 * test_config.c - unit tests of the YAML topology loader (config.c), the
 * graph checker and the typed config filler (check.c). Two corpora live in
 * tests/data/: yaml/good/ (*.yaml) must load and check, and every
 * yaml/bad/ file must fail with the message its first line announces
 * ("# expect: LINE:COL: text"; the error must contain "FILE:LINE:COL: text").
 * The built-in processors it relies on are passthrough, filter and route;
 * of the built-in sinks, only the names postgres_oltp and postgres_star (the
 * sink checks use a table of test sink types of their own).
 * `rill validate` (cmd_validate.c) runs in-process with its output captured.
 */
#include "tests/lib/suite.h"
#include "processors/registry.h"
#include "tests/lib/drive.h"
#include "topology/model/check.h"
#include "topology/cli/cli.h"
#include "topology/model/config.h"
#include "topology/model/keys.h"
#include "processors/processor.h"

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "hunter2-never-print-me"

/* tests/data/ (found from __FILE__, tests/unit/) + rel, into buf. */
static const char *here(char *buf, size_t size, const char *rel)
{
    const char *slash = strrchr(__FILE__, '/');
    int dirlen = slash ? (int)(slash - __FILE__ + 1) : 0;
    snprintf(buf, size, "%.*s../data/%s", dirlen, __FILE__, rel);
    return buf;
}

static void set_test_env(void)
{
    setenv("RILL_TEST_APP", "orders", 1);
    setenv("RILL_TEST_HOST", "kafka1", 1);
    setenv("RILL_TEST_PORT", "9092", 1);
    setenv("RILL_TEST_EMPTY", "", 1);
    setenv("RILL_TEST_SECRET", SECRET, 1);
    unsetenv("RILL_TEST_UNSET_USER");
    unsetenv("RILL_TEST_PARTITIONS");
    unsetenv("RILL_TEST_SURELY_UNDEFINED");
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Loads then checks path; returns the first error, or RILL_OK. */
static rill_err_t load_and_check(const char *path, char *err, size_t errsz)
{
    struct rill_topology *t = NULL;
    rill_err_t e = rill_topology_load(path, &t, err, errsz);
    if (e == RILL_OK) {
        CU_ASSERT_PTR_NOT_NULL(t);
        e = rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, errsz);
        rill_topology_free(t);
    } else {
        CU_ASSERT_PTR_NULL(t);
    }
    return e;
}

static struct rill_topology *load_good(const char *name)
{
    char path[512], rel[128], err[1024];
    struct rill_topology *t = NULL;
    snprintf(rel, sizeof rel, "yaml/good/%s", name);
    set_test_env();
    if (rill_topology_load(here(path, sizeof path, rel), &t, err, sizeof err) != RILL_OK)
        fprintf(stderr, "\n  %s\n", err);
    return t;
}

static void test_good_corpus(void)
{
    char dir[512], path[1024], err[1024];
    DIR *d = opendir(here(dir, sizeof dir, "yaml/good"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    set_test_env();
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!has_suffix(e->d_name, ".yaml"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        rill_err_t r = load_and_check(path, err, sizeof err);
        if (r != RILL_OK)
            fprintf(stderr, "\n  %s: unexpected error: %s\n", e->d_name, err);
        CU_ASSERT_EQUAL(r, RILL_OK);
        n++;
    }
    closedir(d);
    CU_ASSERT(n >= 8);
}

static void test_bad_corpus(void)
{
    char dir[512], path[1024], err[1024], line[512], want[1024];
    DIR *d = opendir(here(dir, sizeof dir, "yaml/bad"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    set_test_env();
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!has_suffix(e->d_name, ".yaml"))
            continue;
        n++;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        int ok = fgets(line, sizeof line, f) != NULL;
        fclose(f);
        if (!ok || strncmp(line, "# expect: ", 10)) {
            fprintf(stderr, "\n  %s: first line is not '# expect: ...'\n", e->d_name);
            CU_FAIL("bad corpus file without an expectation");
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        /* Positions are expected right after the file name; a bare message
         * (no position given) anywhere after "FILE:". */
        if (line[10] >= '0' && line[10] <= '9')
            snprintf(want, sizeof want, "%s:%s", e->d_name, line + 10);
        else
            snprintf(want, sizeof want, "%s", line + 10);
        err[0] = '\0';
        rill_err_t r = load_and_check(path, err, sizeof err);
        int good = r != RILL_OK && strstr(err, want) && !strncmp(err, path, strlen(path)) &&
                   err[strlen(path)] == ':' && !strstr(err, SECRET);
        if (!good)
            fprintf(stderr, "\n  %s:\n    want: %s\n    got:  %s\n", e->d_name, want,
                    r == RILL_OK ? "(no error)" : err);
        CU_ASSERT(good);
    }
    closedir(d);
    CU_ASSERT(n >= 60);
}

/* The processor called name in t, or NULL. */
static const struct rill_proc_conf *find_proc(const struct rill_topology *t, const char *name)
{
    for (size_t i = 0; t && i < t->nprocs; i++)
        if (!strcmp(t->procs[i].name, name))
            return &t->procs[i];
    return NULL;
}

static void assert_kv(const struct rill_kvlist *l, const char *key, const char *value)
{
    const char *v = rill_kvlist_get(l, key);
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v && strcmp(v, value))
        fprintf(stderr, "\n  %s: want '%s', got '%s'\n", key, value, v);
    CU_ASSERT(v && !strcmp(v, value));
}

static void assert_list(const struct rill_strlist *l, const char *const *want, size_t n)
{
    CU_ASSERT_EQUAL_FATAL(l->n, n);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(l->v[i], want[i]);
}

static void assert_pipeline(const struct rill_topology *t)
{
    CU_ASSERT_STRING_EQUAL(t->application_id, "orders");
    CU_ASSERT_EQUAL(t->guarantee, RILL_EXACTLY_ONCE_V2);
    CU_ASSERT_EQUAL(t->commit_interval_ms, 250);
    CU_ASSERT_STRING_EQUAL(t->state_dir, "/tmp/rill-state");
    CU_ASSERT_EQUAL(t->num_stream_threads, 4);
    CU_ASSERT_EQUAL(t->kafka.n, 2);
    assert_kv(&t->kafka, "bootstrap.servers", "localhost:9092");
    assert_kv(&t->kafka, "security.protocol", "SASL_SSL");

    CU_ASSERT_EQUAL_FATAL(t->ntopics, 3);
    const struct rill_topic_conf *tc = rill_topology_topic(t, "order_placed");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
    CU_ASSERT_EQUAL(tc->partitions, 6);
    CU_ASSERT_EQUAL(tc->replication, 3);
    CU_ASSERT_EQUAL(tc->configs.n, 1);
    assert_kv(&tc->configs, "retention.ms", "604800000");
    tc = rill_topology_topic(t, "payment_result");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
    CU_ASSERT_EQUAL(tc->partitions, 6);
    CU_ASSERT_EQUAL(tc->replication, -1);
    CU_ASSERT_EQUAL(tc->configs.n, 0);
    tc = rill_topology_topic(t, "big_orders");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
    assert_kv(&tc->configs, "cleanup.policy", "compact");
    CU_ASSERT_PTR_NULL(rill_topology_topic(t, "nope"));

    CU_ASSERT_EQUAL_FATAL(t->nstores, 1);
    CU_ASSERT_STRING_EQUAL(t->stores[0].name, "seen");
    CU_ASSERT_STRING_EQUAL(t->stores[0].type, "memory");
    CU_ASSERT_EQUAL(t->stores[0].changelog, 0);

    CU_ASSERT_EQUAL_FATAL(t->nprocs, 2);
    const struct rill_proc_conf *p = find_proc(t, "payment");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->type, "passthrough");
    CU_ASSERT_PTR_NULL(p->library);
    assert_list(&p->inputs, (const char *const[]){ "order_placed" }, 1);
    assert_list(&p->outputs, (const char *const[]){ "payment_result" }, 1);
    assert_list(&p->stores, (const char *const[]){ "seen", "ledger" }, 2);
    CU_ASSERT_STRING_EQUAL(p->dlq, "payment.dlq");
    CU_ASSERT_EQUAL(p->config.n, 0);
    assert_kv(&p->kafka, "sasl.username", "payment");
    p = find_proc(t, "big");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->type, "filter");
    assert_list(&p->inputs, (const char *const[]){ "payment_result", "order_placed" }, 2);
    assert_list(&p->outputs, (const char *const[]){ "big_orders" }, 1);
    CU_ASSERT_EQUAL(p->stores.n, 0);
    CU_ASSERT_PTR_NULL(p->dlq);
    CU_ASSERT_EQUAL(p->config.n, 2);
    assert_kv(&p->config, "field", "amount");
    assert_kv(&p->config, "negate", "true");
    CU_ASSERT_PTR_NULL(find_proc(t, "orders_db"));

    CU_ASSERT_EQUAL_FATAL(t->nsinks, 1);
    const struct rill_sink_conf *s = &t->sinks[0];
    CU_ASSERT_STRING_EQUAL(s->name, "orders_db");
    CU_ASSERT_STRING_EQUAL(s->type, "postgres_oltp");
    assert_list(&s->inputs, (const char *const[]){ "order_placed", "payment_result" }, 2);
    CU_ASSERT_STRING_EQUAL(s->group, "orders-db-v2");
    CU_ASSERT_STRING_EQUAL(s->dsn, "postgres://localhost/orders");
    CU_ASSERT_EQUAL(s->batch_size, 250);
    CU_ASSERT_EQUAL(s->linger_ms, 0);
    CU_ASSERT_EQUAL(s->config.n, 0);
    CU_ASSERT_EQUAL(s->kafka.n, 1);
    assert_kv(&s->kafka, "sasl.username", "pg_sink");
}

static void test_block_style(void)
{
    struct rill_topology *t = load_good("block.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    assert_pipeline(t);
    CU_ASSERT(has_suffix(t->path, "yaml/good/block.yaml"));
    /* Positions are 1-based and point at the key. */
    const struct rill_proc_conf *p = find_proc(t, "big");
    CU_ASSERT_EQUAL(p->line, 37);
    CU_ASSERT_EQUAL(p->col, 3);
    CU_ASSERT_EQUAL(p->inputs.line, 40);
    CU_ASSERT_EQUAL(p->inputs.col, 7);
    CU_ASSERT_EQUAL(p->config.v[0].line, 45);
    CU_ASSERT_EQUAL(p->config.v[0].col, 7);
    rill_topology_free(t);
}

static void test_flow_style(void)
{
    struct rill_topology *t = load_good("flow.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    assert_pipeline(t);
    const struct rill_proc_conf *p = find_proc(t, "big");
    CU_ASSERT_EQUAL(p->line, 15);
    CU_ASSERT_EQUAL(p->col, 5);
    rill_topology_free(t);
}

static void test_env_substitution(void)
{
    struct rill_topology *t = load_good("env.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t->application_id, "orders");
    assert_kv(&t->kafka, "bootstrap.servers", "kafka1:9092,backup-kafka1:9093");
    assert_kv(&t->kafka, "sasl.username", "orders-app");
    assert_kv(&t->kafka, "client.id", "fallback");
    assert_kv(&t->kafka, "client.rack", "xy");
    assert_kv(&t->kafka, "literal", "${NOT_SUBSTITUTED} costs $5");
    /* The secret file ends in newlines; they are stripped. */
    assert_kv(&t->kafka, "sasl.password", "s3cr3t-p@ss");
    const struct rill_topic_conf *tc = rill_topology_topic(t, "orders.in");
    CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
    CU_ASSERT_EQUAL(tc->partitions, 3);
    CU_ASSERT_STRING_EQUAL(t->procs[0].inputs.v[0], "orders.in");
    rill_topology_free(t);

    setenv("RILL_TEST_PARTITIONS", "12", 1);
    char path[512], err[512];
    CU_ASSERT_EQUAL_FATAL(
        rill_topology_load(here(path, sizeof path, "yaml/good/env.yaml"), &t, err, sizeof err),
        RILL_OK);
    CU_ASSERT_EQUAL(rill_topology_topic(t, "orders.in")->partitions, 12);
    rill_topology_free(t);
    unsetenv("RILL_TEST_PARTITIONS");
}

static void test_defaults(void)
{
    struct rill_topology *t = load_good("defaults.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->guarantee, RILL_AT_LEAST_ONCE);
    CU_ASSERT_EQUAL(t->commit_interval_ms, 30000);
    CU_ASSERT_STRING_EQUAL(t->state_dir, "/var/lib/rill");
    CU_ASSERT_EQUAL(t->num_stream_threads, 1);
    CU_ASSERT_EQUAL(t->kafka.n, 0);
    CU_ASSERT_EQUAL(t->nstores, 0);
    CU_ASSERT_EQUAL(t->nsinks, 0);
    CU_ASSERT_EQUAL_FATAL(t->ntopics, 1);
    CU_ASSERT_EQUAL(t->topics[0].partitions, -1);
    CU_ASSERT_EQUAL(t->topics[0].replication, -1);
    CU_ASSERT_EQUAL_FATAL(t->nprocs, 1);
    CU_ASSERT_EQUAL(t->procs[0].outputs.n, 0);
    CU_ASSERT_PTR_NULL(t->procs[0].library);
    CU_ASSERT_PTR_NULL(t->procs[0].dlq);
    rill_topology_free(t);

    const char *eos = "application.id: a\n";
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_buf("a.yaml", eos, strlen(eos), &t, err, sizeof err),
                          RILL_OK);
    CU_ASSERT_EQUAL(t->guarantee, RILL_EXACTLY_ONCE_V2);
    CU_ASSERT_EQUAL(t->commit_interval_ms, 100);
    rill_topology_free(t);
}

static void test_external_processor(void)
{
    struct rill_topology *t = load_good("external.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t->procs[0].library, "/usr/lib/rill/fraud_score.so");
    CU_ASSERT_STRING_EQUAL(t->procs[0].type, "fraud_score");
    assert_kv(&t->procs[0].config, "threshold", "0.8");
    rill_topology_free(t);
}

/* The changelog topic name, spelled in one place; a buffer that is too
 * small is an error, not a silently shorter topic. */
static void test_changelog_name(void)
{
    const char *y = "application.id: shop\n";
    char err[256], buf[64];
    struct rill_topology *t = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_buf("a.yaml", y, strlen(y), &t, err, sizeof err),
                          RILL_OK);
    CU_ASSERT_EQUAL(rill_topology_changelog(t, "ledger", buf, sizeof buf), RILL_OK);
    CU_ASSERT_STRING_EQUAL(buf, "shop-ledger-changelog");
    /* exactly fits: 21 characters and the NUL */
    CU_ASSERT_EQUAL(rill_topology_changelog(t, "ledger", buf, 22), RILL_OK);
    CU_ASSERT_EQUAL(rill_topology_changelog(t, "ledger", buf, 21), RILL_ERR_NOFIT);
    CU_ASSERT_EQUAL(strlen(buf), 20);
    rill_topology_free(t);
}

static void test_scalar_styles(void)
{
    struct rill_topology *t = load_good("scalars.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_STRING_EQUAL(t->application_id, "orders-'eu'");
    CU_ASSERT_STRING_EQUAL(t->state_dir, "/var/lib/rill/\xc3\xa9u");
    assert_kv(&t->kafka, "sasl.jaas.config", "line one\nline two\n");
    assert_kv(&t->kafka, "client.id", "folded text\n");
    assert_kv(&t->kafka, "linger.ms", "5");
    assert_kv(&t->kafka, "enable.idempotence", "true");
    CU_ASSERT_PTR_NOT_NULL(find_proc(t, "copy #1"));
    rill_topology_free(t);
}

/* Substituted values never reach a message, even when they are the problem. */
static void test_secret_not_in_errors(void)
{
    char err[512];
    struct rill_topology *t;
    setenv("RILL_TEST_SECRET", SECRET, 1);
    const char *cases[] = {
        "application.id: a\ntopics: { x: { partitions: \"${RILL_TEST_SECRET}\" } }\n",
        "application.id: a\nprocessing.guarantee: ${RILL_TEST_SECRET}\n",
        "application.id: a\nstores: { s: { type: \"${RILL_TEST_SECRET}\" } }\n",
        "application.id: a\n${RILL_TEST_SECRET}: 1\n",
        "application.id: a\nnum.stream.threads: x${RILL_TEST_SECRET}x\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_NOT_EQUAL(
            rill_topology_load_buf("s.yaml", cases[i], strlen(cases[i]), &t, err, sizeof err),
            RILL_OK);
        CU_ASSERT_PTR_NULL(t);
        CU_ASSERT(!strncmp(err, "s.yaml:2:", 9));
        if (strstr(err, SECRET))
            fprintf(stderr, "\n  leaked: %s\n", err);
        CU_ASSERT_PTR_NULL(strstr(err, SECRET));
    }
}

static void test_file_secret_relative(void)
{
    char path[512], err[1024];
    struct rill_topology *t;
    CU_ASSERT_NOT_EQUAL(rill_topology_load(here(path, sizeof path,
                                                "yaml/bad/missing_file_secret.yaml"),
                                           &t, err, sizeof err),
                        RILL_OK);
    /* Relative to the YAML file's directory, not the working directory. */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "yaml/bad/no-such-secret.txt')"));
}

static void test_limits(void)
{
    char err[256];
    struct rill_topology *t;
    size_t big = 1024 * 1024 + 1;
    char *buf = malloc(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    memset(buf, '#', big);
    CU_ASSERT_EQUAL(rill_topology_load_buf("big.yaml", buf, big, &t, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "big.yaml:1:1: file too large"));

    /* 12000 list items: more nodes than allowed, well under the size limit. */
    size_t off = (size_t)snprintf(buf, big, "application.id: a\nx:\n");
    for (int i = 0; i < 12000; i++)
        off += (size_t)snprintf(buf + off, big - off, "- a\n");
    CU_ASSERT_EQUAL(rill_topology_load_buf("many.yaml", buf, off, &t, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "too many yaml nodes"));
    free(buf);

    /* Not NUL-terminated: only len bytes are read. */
    const char src[] = "application.id: abcdef";
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_buf("n.yaml", src, 17, &t, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(t->application_id, "a");
    rill_topology_free(t);

    /* A zero-size errstr is allowed. */
    CU_ASSERT_EQUAL(rill_topology_load_buf("e.yaml", "x: 1", 4, &t, NULL, 0), RILL_ERR_CONFIG);
}

static void test_missing_file(void)
{
    char err[256];
    struct rill_topology *t = (struct rill_topology *)1;
    CU_ASSERT_EQUAL(rill_topology_load("/nonexistent/rill.yaml", &t, err, sizeof err),
                    RILL_ERR_IO);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_STRING_EQUAL(err,
                           "/nonexistent/rill.yaml:1:1: cannot open topology file: no such file "
                           "or directory");
    CU_ASSERT_EQUAL(rill_topology_load("/", &t, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
}

/* stock_release closes a loop inventory -> shipping -> inventory: allowed
 * only while it is marked as a feedback topic. */
static void test_feedback_topic(void)
{
    struct rill_topology *t = load_good("feedback.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(rill_topology_topic(t, "stock_release")->feedback, 1);
    CU_ASSERT_EQUAL(rill_topology_topic(t, "order_placed")->feedback, 0);
    /* feedback is not a topic config: only retention.ms is left. */
    CU_ASSERT_EQUAL(rill_topology_topic(t, "stock_release")->configs.n, 1);
    rill_topology_free(t);

    char path[512], err[1024];
    FILE *f = fopen(here(path, sizeof path, "yaml/good/feedback.yaml"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *flag = strstr(buf, "feedback: true,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(flag);
    memset(flag, ' ', strlen("feedback: true,"));
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_buf("loop.yaml", buf, n, &t, err, sizeof err),
                          RILL_OK);
    CU_ASSERT_EQUAL(rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cycle among processors: inventory -> shipping -> "
                                       "inventory"));
    rill_topology_free(t);
}

static void test_clients(void)
{
    struct rill_topology *t = load_good("clients.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL_FATAL(t->nclients, 3);
    const struct rill_client_conf *c = &t->clients[0];
    CU_ASSERT_STRING_EQUAL(c->name, "order_generator");
    CU_ASSERT_STRING_EQUAL(c->user, "order_generator");
    assert_list(&c->writes, (const char *const[]){ "order_placed" }, 1);
    CU_ASSERT_EQUAL(c->reads.n, 0);
    CU_ASSERT_PTR_NULL(c->group);
    c = &t->clients[1];
    CU_ASSERT_STRING_EQUAL(c->name, "reporting");
    CU_ASSERT_STRING_EQUAL(c->user, "analyst");
    CU_ASSERT_EQUAL(c->writes.n, 0);
    assert_list(&c->reads, (const char *const[]){ "notifications", "order_placed" }, 2);
    CU_ASSERT_STRING_EQUAL(c->group, "reporting");
    CU_ASSERT_EQUAL(c->line, 13);
    CU_ASSERT_EQUAL(c->col, 3);
    c = &t->clients[2];
    CU_ASSERT_EQUAL(c->writes.n, 0);
    CU_ASSERT_EQUAL(c->reads.n, 0);
    rill_topology_free(t);
}

/* ---- sinks -------------------------------------------------------------------- */

struct test_sink_conf {
    char *table;
    char *schema;
    int64_t retries;
};

static const struct rill_conf_def test_sink_rows[] = {
    { "table", RILL_CONF_STR, NULL, offsetof(struct test_sink_conf, table), "table written", NULL,
      NULL },
    { "schema", RILL_CONF_STR, "public", offsetof(struct test_sink_conf, schema), "its schema",
      NULL, NULL },
    { "retries", RILL_CONF_INT, "3", offsetof(struct test_sink_conf, retries), "attempts", "0",
      "10" },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

/* A table bug: a default above its own maximum (found by the checker's fill). */
static const struct rill_conf_def broken_sink_rows[] = {
    { "retries", RILL_CONF_INT, "11", offsetof(struct test_sink_conf, retries), "attempts", "0",
      "10" },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static const struct rill_sink_def test_sink = {
    .version = RILL_SINK_VERSION, .name = "test_sink", .doc = "a sink of the unit tests",
    .conf = test_sink_rows, .conf_size = sizeof(struct test_sink_conf),
};
static const struct rill_sink_def bare_sink = {
    .version = RILL_SINK_VERSION, .name = "bare_sink", .doc = "takes no config",
};
static const struct rill_sink_def broken_sink = {
    .version = RILL_SINK_VERSION, .name = "broken_sink", .doc = "a default out of range",
    .conf = broken_sink_rows, .conf_size = sizeof(struct test_sink_conf),
};
static const struct rill_sink_def *const test_sinks[] = { &test_sink, &bare_sink, &broken_sink,
                                                          NULL };

/* Loads yaml (strict) as s.yaml, then checks it against the built-in
 * processors and test_sinks; the check's result, the topology in *out. */
static rill_err_t sink_check(const char *yaml, struct rill_topology **out, char *err,
                             size_t errsz)
{
    rill_err_t r = rill_topology_load_buf("s.yaml", yaml, strlen(yaml), out, err, errsz);
    if (r != RILL_OK) {
        fprintf(stderr, "\n  %s\n", err);
        return r;
    }
    return rill_topology_check(*out, rill_proc_builtins, test_sinks, err, errsz);
}

/* Every sink key lands in its field; the defaults of the ones left out; the
 * group's default name spelled by rill_sink_group(). */
static void test_sink_keys(void)
{
    const char *yaml = "application.id: shop\n"
                       "topics: { orders: {}, payments: {} }\n"
                       "sinks:\n"
                       "  db:\n"
                       "    type: test_sink\n"
                       "    inputs: [orders, payments]\n"
                       "    group: shop-db-v2\n"
                       "    dsn: \"host=db password=${RILL_TEST_SECRET}\"\n"
                       "    batch.size: 1000000\n"
                       "    linger.ms: 600000\n"
                       "    config: { table: orders, retries: 10 }\n"
                       "    kafka: { sasl.username: pg_sink }\n"
                       "  plain: { type: test_sink, inputs: [orders], dsn: \"host=db\",\n"
                       "           config: { table: t } }\n";
    char err[RILL_ERRSTR_SIZE], buf[64];
    struct rill_topology *t = NULL;
    set_test_env();
    CU_ASSERT_EQUAL_FATAL(sink_check(yaml, &t, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(t->nsinks, 2);
    const struct rill_sink_conf *s = &t->sinks[0];
    CU_ASSERT_STRING_EQUAL(s->name, "db");
    CU_ASSERT_STRING_EQUAL(s->type, "test_sink");
    assert_list(&s->inputs, (const char *const[]){ "orders", "payments" }, 2);
    CU_ASSERT_STRING_EQUAL(s->group, "shop-db-v2");
    CU_ASSERT_STRING_EQUAL(s->dsn, "host=db password=" SECRET);
    CU_ASSERT_EQUAL(s->batch_size, 1000000);
    CU_ASSERT_EQUAL(s->linger_ms, 600000);
    CU_ASSERT_EQUAL(s->config.n, 2);
    assert_kv(&s->config, "table", "orders");
    assert_kv(&s->config, "retries", "10");
    CU_ASSERT_EQUAL(s->kafka.n, 1);
    assert_kv(&s->kafka, "sasl.username", "pg_sink");
    CU_ASSERT_EQUAL(s->line, 4);
    CU_ASSERT_EQUAL(s->col, 3);
    /* group: given wins */
    CU_ASSERT_STRING_EQUAL(rill_sink_group(t, s, buf, sizeof buf), "shop-db-v2");

    s = &t->sinks[1];
    CU_ASSERT_PTR_NULL(s->group);
    CU_ASSERT_EQUAL(s->batch_size, 5000);
    CU_ASSERT_EQUAL(s->linger_ms, 100);
    CU_ASSERT_EQUAL(s->kafka.n, 0);
    const char *g = rill_sink_group(t, s, buf, sizeof buf);
    CU_ASSERT_PTR_EQUAL(g, buf);
    CU_ASSERT_STRING_EQUAL(buf, "shop.plain");
    /* exactly fits: 10 characters and the NUL; one byte less does not */
    CU_ASSERT_PTR_EQUAL(rill_sink_group(t, s, buf, 11), buf);
    CU_ASSERT_PTR_NULL(rill_sink_group(t, s, buf, 10));

    /* The config fills with the sink type's table, as the runtime will. */
    struct test_sink_conf c;
    CU_ASSERT_EQUAL_FATAL(rill_conf_fill(test_sink.conf, &t->sinks[0].config, &c, err,
                                         sizeof err),
                          RILL_OK);
    CU_ASSERT_STRING_EQUAL(c.table, "orders");
    CU_ASSERT_STRING_EQUAL(c.schema, "public");
    CU_ASSERT_EQUAL(c.retries, 10);
    rill_conf_release(test_sink.conf, &c);

    /* The built-in table does not know test_sink: the known types are named. */
    CU_ASSERT_EQUAL(rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err,
                                        sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s.yaml:4:3: unknown sink type 'test_sink' in sink 'db' "
                                       "(expected one of: postgres_oltp, postgres_star)"));
    /* no table: no type is known */
    CU_ASSERT_EQUAL(rill_topology_check(t, rill_proc_builtins, NULL, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown sink type 'test_sink' in sink 'db' (no sink "
                                       "types are known)"));
    CU_ASSERT_PTR_NULL(strstr(err, SECRET));
    rill_topology_free(t);
}

/* A sink's config: is checked against its type's table, at the key's
 * file:line:col; messages never quote the dsn. */
static void test_sink_config_checked(void)
{
    static const char head[] = "application.id: shop\n"
                               "topics: { orders: {} }\n"
                               "sinks:\n"
                               "  db:\n"
                               "    dsn: \"${RILL_TEST_SECRET}\"\n"
                               "    inputs: [orders]\n";
    static const char *const cases[][2] = {
        { "    type: test_sink\n    config: { table: t, tabel: u }\n",
          "s.yaml:8:25: unknown config key 'tabel' (expected one of: table, schema, retries) in "
          "sink 'db' of type 'test_sink'" },
        { "    type: test_sink\n    config: { table: t, retries: 11 }\n",
          "s.yaml:8:25: config key 'retries' is above its maximum 10 (expects an integer from 0 "
          "to 10) in sink 'db' of type 'test_sink'" },
        { "    type: test_sink\n    config: { table: t, retries: x }\n",
          "s.yaml:8:25: config key 'retries' expects an integer in sink 'db' of type "
          "'test_sink'" },
        { "    type: test_sink\n    config: { schema: s }\n",
          "s.yaml:4:3: missing required config key 'table' (table written) in sink 'db' of type "
          "'test_sink'" },
        { "    type: bare_sink\n    config: { table: t }\n",
          "s.yaml:8:15: unknown config key 'table' (this type takes no config) in sink 'db' of "
          "type 'bare_sink'" },
        { "    type: broken_sink\n",
          "s.yaml:4:3: default of config key 'retries' is above its maximum 10 (expects an "
          "integer from 0 to 10) in sink 'db' of type 'broken_sink'" },
        { "    type: test_snik\n    config: { table: t }\n",
          "s.yaml:4:3: unknown sink type 'test_snik' in sink 'db' (expected one of: test_sink, "
          "bare_sink, broken_sink)" },
    };
    char yaml[1024], err[RILL_ERRSTR_SIZE];
    set_test_env();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rill_topology *t = NULL;
        snprintf(yaml, sizeof yaml, "%s%s", head, cases[i][0]);
        err[0] = '\0';
        CU_ASSERT_EQUAL(sink_check(yaml, &t, err, sizeof err), RILL_ERR_CONFIG);
        if (strcmp(err, cases[i][1]))
            fprintf(stderr, "\n  case %zu:\n    want: %s\n    got:  %s\n", i, cases[i][1], err);
        CU_ASSERT_STRING_EQUAL(err, cases[i][1]);
        CU_ASSERT_PTR_NULL(strstr(err, SECRET));
        rill_topology_free(t);
    }
    /* a type without config takes an empty config: */
    struct rill_topology *t = NULL;
    snprintf(yaml, sizeof yaml, "%s    type: bare_sink\n    config: {}\n", head);
    CU_ASSERT_EQUAL(sink_check(yaml, &t, err, sizeof err), RILL_OK);
    rill_topology_free(t);
}

/* ---- rill_conf_fill ---------------------------------------------------------- */

struct test_conf {
    char *name;
    char *label;
    int64_t count;
    double ratio;
    int on;
    int64_t zero;
};

static const struct rill_conf_def test_defs[] = {
    { "name", RILL_CONF_STR, NULL, offsetof(struct test_conf, name), "required", NULL, NULL },
    { "label", RILL_CONF_STR, "none", offsetof(struct test_conf, label), "optional", NULL, NULL },
    { "count", RILL_CONF_INT, "10", offsetof(struct test_conf, count), "an int", NULL, NULL },
    { "ratio", RILL_CONF_DOUBLE, "0.5", offsetof(struct test_conf, ratio), "a double", NULL, NULL },
    { "on", RILL_CONF_BOOL, "true", offsetof(struct test_conf, on), "a bool", NULL, NULL },
    { "zero", RILL_CONF_INT, NULL, offsetof(struct test_conf, zero), "no default", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_err_t fill1(const char *key, const char *value, struct test_conf *c, char *err,
                        size_t errsz)
{
    struct rill_kv kv[2] = { { (char *)"name", (char *)"n", 1, 1, 0 },
                             { (char *)key, (char *)value, 2, 1, 0 } };
    struct rill_kvlist l = { kv, key ? 2 : 1 };
    memset(c, 0x5a, sizeof *c);
    return rill_conf_fill(test_defs, &l, c, err, errsz);
}

static void test_conf_fill_types(void)
{
    struct test_conf c;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(fill1(NULL, NULL, &c, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(c.name, "n");
    CU_ASSERT_STRING_EQUAL(c.label, "none");
    CU_ASSERT_EQUAL(c.count, 10);
    CU_ASSERT_DOUBLE_EQUAL(c.ratio, 0.5, 1e-12);
    CU_ASSERT_EQUAL(c.on, 1);
    CU_ASSERT_EQUAL(c.zero, 0);
    rill_conf_release(test_defs, &c);
    CU_ASSERT_PTR_NULL(c.name);
    CU_ASSERT_PTR_NULL(c.label);
    rill_conf_release(test_defs, &c); /* twice is fine */

    CU_ASSERT_EQUAL_FATAL(fill1("count", "-9223372036854775808", &c, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(c.count, INT64_MIN);
    rill_conf_release(test_defs, &c);
    CU_ASSERT_EQUAL_FATAL(fill1("ratio", "-2.5e3", &c, err, sizeof err), RILL_OK);
    CU_ASSERT_DOUBLE_EQUAL(c.ratio, -2500.0, 1e-9);
    rill_conf_release(test_defs, &c);
    CU_ASSERT_EQUAL_FATAL(fill1("on", "false", &c, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(c.on, 0);
    rill_conf_release(test_defs, &c);
    CU_ASSERT_EQUAL_FATAL(fill1("label", "", &c, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(c.label, "");
    rill_conf_release(test_defs, &c);

    static const char *const bad[][2] = {
        { "count", "9223372036854775808" }, { "count", "12abc" }, { "count", "" },
        { "count", " 1" },                  { "count", "1.0" },   { "ratio", "nan" },
        { "ratio", "inf" },                 { "ratio", "1e999" }, { "ratio", "x" },
        { "on", "yes" },                    { "on", "1" },        { "on", "TRUE" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(fill1(bad[i][0], bad[i][1], &c, err, sizeof err), RILL_ERR_CONFIG);
        CU_ASSERT_PTR_NULL(c.name);
        CU_ASSERT_PTR_NULL(c.label);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "config key '"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i][0]));
    }
    CU_ASSERT_EQUAL(fill1("colour", "red", &c, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "unknown config key 'colour' (expected one of: name, label, "
                                "count, ratio, on, zero)");

    struct rill_kvlist empty = { NULL, 0 };
    memset(&c, 0x5a, sizeof c);
    CU_ASSERT_EQUAL(rill_conf_fill(test_defs, &empty, &c, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "missing required config key 'name' (required)");
    CU_ASSERT_PTR_NULL(c.name);
}

/* min and max of INT and DOUBLE rows: inclusive, either side optional, the
 * message names the key and the bound crossed, never the value. */
struct range_conf {
    int64_t count;
    double ratio;
    int64_t floor;
    double cap;
};

static const struct rill_conf_def range_defs[] = {
    { "count", RILL_CONF_INT, "1", offsetof(struct range_conf, count), "1..10", "1", "10" },
    { "ratio", RILL_CONF_DOUBLE, "0.5", offsetof(struct range_conf, ratio), "0..1", "0", "1" },
    { "floor", RILL_CONF_INT, "0", offsetof(struct range_conf, floor), ">= -5", "-5", NULL },
    { "cap", RILL_CONF_DOUBLE, "0", offsetof(struct range_conf, cap), "<= 2.5", NULL, "2.5" },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_err_t range1(const char *key, const char *value, struct range_conf *c, char *err)
{
    struct rill_kv kv = { (char *)key, (char *)value, 3, 9, 0 };
    struct rill_kvlist l = { &kv, 1 };
    memset(c, 0x5a, sizeof *c);
    return rill_conf_fill(range_defs, &l, c, err, RILL_ERRSTR_SIZE);
}

static void test_conf_fill_ranges(void)
{
    struct range_conf c;
    char err[RILL_ERRSTR_SIZE];
    static const char *const ok[][2] = {
        { "count", "1" },     { "count", "10" },    { "ratio", "0" },
        { "ratio", "1" },     { "ratio", "1e0" },   { "ratio", "0.999" },
        { "floor", "-5" },    { "floor", "9223372036854775807" },
        { "cap", "2.5" },     { "cap", "-1e300" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        rill_err_t r = range1(ok[i][0], ok[i][1], &c, err);
        if (r != RILL_OK)
            fprintf(stderr, "\n  %s: %s: %s\n", ok[i][0], ok[i][1], err);
        CU_ASSERT_EQUAL(r, RILL_OK);
    }
    CU_ASSERT_EQUAL_FATAL(range1("count", "10", &c, err), RILL_OK);
    CU_ASSERT_EQUAL(c.count, 10);
    CU_ASSERT_DOUBLE_EQUAL(c.ratio, 0.5, 1e-12);

#define INT_1_10 " (expects an integer from 1 to 10)"
#define NUM_0_1 " (expects a number from 0 to 1)"
    static const char *const bad[][3] = {
        { "count", "0", "config key 'count' is below its minimum 1" INT_1_10 },
        { "count", "11", "config key 'count' is above its maximum 10" INT_1_10 },
        { "count", "-9223372036854775808", "config key 'count' is below its minimum 1" INT_1_10 },
        { "ratio", "1.0000001", "config key 'ratio' is above its maximum 1" NUM_0_1 },
        { "ratio", "-0.5", "config key 'ratio' is below its minimum 0" NUM_0_1 },
        { "ratio", "2", "config key 'ratio' is above its maximum 1" NUM_0_1 },
        /* one-sided ranges say only their bound */
        { "floor", "-6", "config key 'floor' is below its minimum -5" },
        { "cap", "2.5000001", "config key 'cap' is above its maximum 2.5" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(range1(bad[i][0], bad[i][1], &c, err), RILL_ERR_CONFIG);
        if (strcmp(err, bad[i][2]))
            fprintf(stderr, "\n  %s: %s: got '%s'\n", bad[i][0], bad[i][1], err);
        CU_ASSERT_STRING_EQUAL(err, bad[i][2]);
    }

    /* The checker refuses the same with the value's file:line:col. */
    const char *yaml = "application.id: a\n"
                       "topics: { in: { partitions: 1 }, out: { partitions: 1 } }\n"
                       "processors:\n"
                       "  p: { type: payment, inputs: [in], outputs: [out],\n"
                       "       config: { approve_rate: -0.25 } }\n";
    struct rill_topology *t;
    CU_ASSERT_EQUAL_FATAL(
        rill_topology_load_buf("r.yaml", yaml, strlen(yaml), &t, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "r.yaml:5:18: config key 'approve_rate' is below its minimum 0 "
                                "(expects a number from 0 to 1) in processor 'p' of type "
                                "'payment'");
    rill_topology_free(t);

    /* A table whose bound is not of its type, or whose default is out of
     * range, is refused rather than half-applied. */
    static const struct rill_conf_def broken[][2] = {
        { { "n", RILL_CONF_INT, "1", 0, "bad max", NULL, "ten" },
          { NULL, 0, NULL, 0, NULL, NULL, NULL } },
        { { "n", RILL_CONF_INT, "11", 0, "default above max", "1", "10" },
          { NULL, 0, NULL, 0, NULL, NULL, NULL } },
    };
    int64_t n;
    CU_ASSERT_EQUAL(rill_conf_fill(broken[0], NULL, &n, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "the maximum of config key 'n' is not an integer");
    CU_ASSERT_EQUAL(rill_conf_fill(broken[1], NULL, &n, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "default of config key 'n' is above its maximum 10 (expects an "
                                "integer from 1 to 10)");
}

/* Every built-in processor's defaults fill within its own ranges. */
static void test_conf_builtin_ranges(void)
{
    char err[RILL_ERRSTR_SIZE];
    int ranged = 0;
    for (size_t i = 0; rill_proc_at(i); i++) {
        const struct rill_processor_def *def = rill_proc_at(i);
        for (const struct rill_conf_def *d = def->conf; d && d->key; d++) {
            ranged += d->min || d->max;
            CU_ASSERT(d->type == RILL_CONF_INT || d->type == RILL_CONF_DOUBLE ||
                      (!d->min && !d->max));
        }
        if (!def->conf_size)
            continue;
        /* the required STR keys get a value, nothing else */
        struct rill_kv kv[8];
        size_t n = 0;
        for (const struct rill_conf_def *d = def->conf; d && d->key && n < 8; d++)
            if (d->type == RILL_CONF_STR && !d->def)
                kv[n++] = (struct rill_kv){ (char *)d->key, (char *)"x", 1, 1, 0 };
        struct rill_kvlist l = { kv, n };
        void *conf = calloc(1, def->conf_size);
        CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
        rill_err_t r = rill_conf_fill(def->conf, &l, conf, err, sizeof err);
        if (r != RILL_OK)
            fprintf(stderr, "\n  %s: %s\n", def->name, err);
        CU_ASSERT_EQUAL(r, RILL_OK);
        rill_conf_release(def->conf, conf);
        free(conf);
    }
    CU_ASSERT(ranged >= 3); /* payment's approve_rate, inventory's initial_stock, sum's scale */
}

static void test_conf_fill_builtins(void)
{
    const struct rill_processor_def *filter = rill_proc_lookup("filter");
    const struct rill_processor_def *route = rill_proc_lookup("route");
    const struct rill_processor_def *pass = rill_proc_lookup("passthrough");
    CU_ASSERT_PTR_NOT_NULL_FATAL(filter);
    CU_ASSERT_PTR_NOT_NULL_FATAL(route);
    CU_ASSERT_PTR_NOT_NULL_FATAL(pass);
    CU_ASSERT_PTR_NULL(rill_proc_lookup("no_such_processor"));

    /* filter: field required, equals optional. */
    struct rill_topology *t = load_good("block.yaml");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    const struct rill_proc_conf *big = find_proc(t, "big");
    char err[256];
    void *conf = calloc(1, filter->conf_size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    CU_ASSERT_EQUAL_FATAL(rill_conf_fill(filter->conf, &big->config, conf, err, sizeof err),
                          RILL_OK);
    for (const struct rill_conf_def *d = filter->conf; d->key; d++) {
        if (!strcmp(d->key, "field")) {
            char *v;
            memcpy(&v, (char *)conf + d->offset, sizeof v);
            CU_ASSERT_STRING_EQUAL(v, "amount");
        } else if (!strcmp(d->key, "equals")) {
            char *v;
            memcpy(&v, (char *)conf + d->offset, sizeof v);
            CU_ASSERT_PTR_NOT_NULL(v);
        }
    }
    rill_conf_release(filter->conf, conf);
    free(conf);
    rill_topology_free(t);

    /* route without its required field. */
    struct rill_kvlist none = { NULL, 0 };
    conf = calloc(1, route->conf_size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    CU_ASSERT_EQUAL(rill_conf_fill(route->conf, &none, conf, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "missing required config key 'field'"));
    rill_conf_release(route->conf, conf);
    free(conf);

    /* passthrough takes nothing: an empty list fills, a key is refused. */
    CU_ASSERT_EQUAL(rill_conf_fill(pass->conf, &none, NULL, err, sizeof err), RILL_OK);
    struct rill_kv kv = { (char *)"field", (char *)"x", 1, 1, 0 };
    struct rill_kvlist one = { &kv, 1 };
    CU_ASSERT_EQUAL(rill_conf_fill(pass->conf, &one, NULL, err, sizeof err), RILL_ERR_CONFIG);
    rill_conf_release(NULL, NULL);
}

/* ---- rill validate ------------------------------------------------------------ */

/* Runs rill_cmd_validate with stdout and stderr captured into out. */
static int run_validate(char *out, size_t size, int argc, char **argv)
{
    return it_capture(rill_cmd_validate, out, size, argc, argv);
}

static void test_cmd_validate(void)
{
    static char out[16384];
    char path[512], bad[512];
    here(path, sizeof path, "yaml/good/block.yaml");
    here(bad, sizeof bad, "yaml/bad/cycle.yaml");
    set_test_env();

    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 2, (char *[]){ "validate", path, NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "block.yaml: ok\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "[order_placed] -> payment (passthrough) -> [payment_result]"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "[payment_result, order_placed] -> big (filter) -> [big_orders]"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "[order_placed, payment_result] -> orders_db (postgres_oltp)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "memory, no changelog, granted to payment"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "rocksdb, changelog, granted to payment"));

    CU_ASSERT_EQUAL(
        run_validate(out, sizeof out, 3, (char *[]){ "validate", "--dot", path, NULL }), 0);
    CU_ASSERT(!strncmp(out, "digraph \"orders\" {\n", 19));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"topic:order_placed\" -> \"proc:payment\";\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"proc:big\" -> \"topic:big_orders\";\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"topic:payment_result\" -> \"sink:orders_db\";\n"));
    CU_ASSERT(has_suffix(out, "}\n"));

    /* An error is one line on stderr and exit status 1. */
    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 2, (char *[]){ "validate", bad, NULL }), 1);
    CU_ASSERT(!strncmp(out, bad, strlen(bad)));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":9:3: cycle among processors: a -> b -> c -> a\n"));
    const char *nl = strchr(out, '\n');
    CU_ASSERT(nl && nl[1] == '\0');

    char fb[512], cl[512];
    here(fb, sizeof fb, "yaml/good/feedback.yaml");
    here(cl, sizeof cl, "yaml/good/clients.yaml");
    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 2, (char *[]){ "validate", fb, NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "stock_release                6 partitions, feedback\n"));
    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 2, (char *[]){ "validate", cl, NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nclients:\n  order_generator (user order_generator): "
                                       "writes [order_placed], reads []\n  reporting (user "
                                       "analyst): writes [], reads [notifications, "
                                       "order_placed], group reporting\n"));

    CU_ASSERT_EQUAL(
        run_validate(out, sizeof out, 3, (char *[]){ "validate", "--describe", "filter", NULL }),
        0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "filter - "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "field"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "(required)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "negate"));
    CU_ASSERT_EQUAL(
        run_validate(out, sizeof out, 3, (char *[]){ "validate", "--describe", "nope", NULL }), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown processor or sink type 'nope'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "sink types: postgres_oltp, postgres_star)"));
    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 3,
                                 (char *[]){ "validate", "--describe", "postgres_oltp", NULL }),
                    0);
    CU_ASSERT(!strncmp(out, "postgres_oltp - ", 16));

    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 1, (char *[]){ "validate", NULL }), 2);
    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 2, (char *[]){ "validate", "--help", NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: rill validate FILE [--dot]"));
    CU_ASSERT_EQUAL(
        run_validate(out, sizeof out, 3, (char *[]){ "validate", "--bogus", path, NULL }), 2);
}

/* ---- lenient substitution (rill validate offline) ------------------------------ */

struct notes {
    char text[4096];
    size_t len;
    int n;
};

static void collect_note(void *opaque, const char *note)
{
    struct notes *ns = opaque;
    ns->n++;
    int r = snprintf(ns->text + ns->len, sizeof ns->text - ns->len, "%s\n", note);
    if (r > 0 && (size_t)r < sizeof ns->text - ns->len)
        ns->len += (size_t)r;
}

static void unset_offline_env(void)
{
    set_test_env();
    unsetenv("RILL_TEST_OFFLINE_APP");
    unsetenv("RILL_TEST_OFFLINE_INTERVAL");
    unsetenv("RILL_TEST_OFFLINE_PARTITIONS");
    unsetenv("RILL_TEST_OFFLINE_SEED");
}

/* Strict (rill run, rill apply, rill validate --strict): the first value that
 * cannot be resolved is an error, as ever. */
static void test_unresolved_strict(void)
{
    char path[512], err[RILL_ERRSTR_SIZE];
    struct rill_topology *t = (struct rill_topology *)1;
    unset_offline_env();
    here(path, sizeof path, "yaml/good/offline/unresolved.yaml");
    struct rill_load_opts strict = { 0 };
    CU_ASSERT_EQUAL(rill_topology_load_opts(path, &strict, &t, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unresolved.yaml:4:17: undefined environment variable "
                                       "'RILL_TEST_OFFLINE_APP'"));
    CU_ASSERT_EQUAL(rill_topology_load(path, &t, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unresolved.yaml:4:17: undefined environment variable"));
    /* once the variables are set, the missing file is the first error */
    setenv("RILL_TEST_OFFLINE_APP", "orders", 1);
    setenv("RILL_TEST_OFFLINE_INTERVAL", "250", 1);
    CU_ASSERT_EQUAL(rill_topology_load(path, &t, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unresolved.yaml:9:18: cannot read "
                                       "${file:no-such-secret.txt}: no such file or directory"));
    unset_offline_env();
}

/* Lenient (rill validate): each unresolved value is a note naming file:line:col
 * and the variable or file, loading and checking go on, strings get the text
 * as written and other types are left unchecked. */
static void test_unresolved_lenient(void)
{
    char path[512], err[RILL_ERRSTR_SIZE];
    struct rill_topology *t = NULL;
    struct notes ns = { .n = 0 };
    unset_offline_env();
    here(path, sizeof path, "yaml/good/offline/unresolved.yaml");
    struct rill_load_opts opts = { .lenient_substitution = 1, .note = collect_note,
                                   .note_opaque = &ns };
    rill_err_t r = rill_topology_load_opts(path, &opts, &t, err, sizeof err);
    if (r != RILL_OK)
        fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL_FATAL(r, RILL_OK);
    static const char *const want[] = {
        "unresolved.yaml:4:17: note: undefined environment variable 'RILL_TEST_OFFLINE_APP' in "
        "${RILL_TEST_OFFLINE_APP}",
        "unresolved.yaml:5:21: note: undefined environment variable 'RILL_TEST_OFFLINE_INTERVAL'",
        "unresolved.yaml:5:21: note: 'commit.interval.ms' is not checked: its value is not "
        "resolved",
        "unresolved.yaml:9:18: note: cannot read ${file:no-such-secret.txt}: no such file or "
        "directory (looked for '",
        "unresolved.yaml:11:31: note: undefined environment variable "
        "'RILL_TEST_OFFLINE_PARTITIONS'",
        "unresolved.yaml:11:31: note: 'partitions' in topic 'order_placed' is not checked: its "
        "value is not resolved",
        "unresolved.yaml:18:40: note: undefined environment variable 'RILL_TEST_OFFLINE_SEED'",
    };
    size_t nwant = sizeof want / sizeof want[0];
    CU_ASSERT_EQUAL(ns.n, (int)nwant);
    const char *at = ns.text;
    for (size_t i = 0; i < nwant; i++) {
        const char *hit = strstr(at, want[i]);
        if (!hit)
            fprintf(stderr, "\n  want: %s\n  in:\n%s\n", want[i], ns.text);
        CU_ASSERT_PTR_NOT_NULL_FATAL(hit); /* and in file order */
        at = hit;
    }
    CU_ASSERT_PTR_NULL(strstr(ns.text, SECRET));
    /* strings are the text as written; the rest keeps its default */
    CU_ASSERT_STRING_EQUAL(t->application_id, "${RILL_TEST_OFFLINE_APP}");
    CU_ASSERT_EQUAL(t->commit_interval_ms, 100);
    assert_kv(&t->kafka, "sasl.password", "${file:no-such-secret.txt}");
    assert_kv(&t->kafka, "bootstrap.servers", "kafka1:9092");
    CU_ASSERT_EQUAL(rill_topology_topic(t, "order_placed")->partitions, -1);
    const struct rill_proc_conf *p = find_proc(t, "payment");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->config.n, 2);
    CU_ASSERT_EQUAL(p->config.v[0].unresolved, 0);
    CU_ASSERT_EQUAL(p->config.v[1].unresolved, 1);

    /* The check goes on: seed is not checked, with a note; approve_rate is. */
    ns.n = 0;
    ns.len = 0;
    ns.text[0] = '\0';
    r = rill_topology_check_opts(t, rill_proc_builtins, rill_sink_builtins, &opts, err, sizeof err);
    if (r != RILL_OK)
        fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL(r, RILL_OK);
    CU_ASSERT_EQUAL(ns.n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ns.text, "unresolved.yaml:18:34: note: config key 'seed' in "
                                           "processor 'payment' of type 'payment' is not "
                                           "checked"));
    /* without opts there are no notes, and the check is the same */
    CU_ASSERT_EQUAL(rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, sizeof err),
                    RILL_OK);
    /* a leniently loaded entry cannot be filled: there is no value */
    const struct rill_processor_def *pay = rill_proc_lookup("payment");
    void *conf = calloc(1, pay->conf_size);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    CU_ASSERT_EQUAL(rill_conf_fill(pay->conf, &p->config, conf, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "config key 'seed' is not resolved");
    free(conf);
    rill_topology_free(t);

    /* A lenient load still refuses what is wrong with the file itself, and
     * an unresolved value of another key is still a note, not a pass. */
    const char *bad = "application.id: ${RILL_TEST_OFFLINE_APP}\n"
                      "topics: { t: { partitions: 0 } }\n";
    ns.n = 0;
    CU_ASSERT_EQUAL(rill_topology_load_buf_opts("b.yaml", bad, strlen(bad), &opts, &t, err,
                                                sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "b.yaml:2:28: expected an integer from 1 to"));
    CU_ASSERT_EQUAL(ns.n, 1);
    /* an unresolved key is not an unknown key */
    const char *key = "application.id: a\n${RILL_TEST_OFFLINE_APP}: 1\n";
    ns.n = 0;
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_buf_opts("k.yaml", key, strlen(key), &opts, &t, err,
                                                      sizeof err),
                          RILL_OK);
    CU_ASSERT_EQUAL(ns.n, 2);
    rill_topology_free(t);
    /* the syntax of ${...} is checked either way */
    const char *syntax = "application.id: ${1abc}\n";
    CU_ASSERT_EQUAL(rill_topology_load_buf_opts("s.yaml", syntax, strlen(syntax), &opts, &t, err,
                                                sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "invalid variable name '1abc'"));
}

/* A sink loaded leniently: its unresolved dsn passes as the text as written,
 * an unresolved config value is a note and is not checked (nor filled). */
static void test_sink_lenient(void)
{
    const char *yaml = "application.id: shop\n"
                       "topics: { orders: {} }\n"
                       "sinks:\n"
                       "  db: { type: test_sink, inputs: [orders], dsn: \"${file:no-such.dsn}\",\n"
                       "        config: { table: t, retries: \"${RILL_TEST_OFFLINE_SEED}\" } }\n";
    char err[RILL_ERRSTR_SIZE];
    struct notes ns = { .n = 0 };
    struct rill_topology *t = NULL;
    unset_offline_env();
    CU_ASSERT_EQUAL(rill_topology_load_buf("s.yaml", yaml, strlen(yaml), &t, err, sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot read ${file:no-such.dsn}"));
    struct rill_load_opts opts = { .lenient_substitution = 1, .note = collect_note,
                                   .note_opaque = &ns };
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_buf_opts("s.yaml", yaml, strlen(yaml), &opts, &t,
                                                      err, sizeof err),
                          RILL_OK);
    CU_ASSERT_STRING_EQUAL(t->sinks[0].dsn, "${file:no-such.dsn}");
    CU_ASSERT_EQUAL(ns.n, 2);
    ns.n = 0;
    ns.len = 0;
    ns.text[0] = '\0';
    rill_err_t r = rill_topology_check_opts(t, rill_proc_builtins, test_sinks, &opts, err,
                                            sizeof err);
    if (r != RILL_OK)
        fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL(r, RILL_OK);
    CU_ASSERT_EQUAL(ns.n, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(ns.text, "s.yaml:5:29: note: config key 'retries' in sink 'db' "
                                           "of type 'test_sink' is not checked"));
    rill_topology_free(t);
}

/* rill validate: notes on stderr and exit 0; --strict exits 1. */
static void test_cmd_validate_offline(void)
{
    static char out[16384];
    char path[512], eco[512];
    unset_offline_env();
    here(path, sizeof path, "yaml/good/offline/unresolved.yaml");
    CU_ASSERT_EQUAL(run_validate(out, sizeof out, 2, (char *[]){ "validate", path, NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unresolved.yaml:4:17: note: undefined environment "
                                       "variable 'RILL_TEST_OFFLINE_APP'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unresolved.yaml:9:18: note: cannot read "
                                       "${file:no-such-secret.txt}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unresolved.yaml: ok\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "8 notes"));
    CU_ASSERT_PTR_NULL(strstr(out, SECRET));

    CU_ASSERT_EQUAL(
        run_validate(out, sizeof out, 3, (char *[]){ "validate", "--strict", path, NULL }), 1);
    CU_ASSERT(!strncmp(out, path, strlen(path)));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":4:17: undefined environment variable "
                                       "'RILL_TEST_OFFLINE_APP'"));
    CU_ASSERT_PTR_NULL(strstr(out, "note:"));

    /* rill run and rill apply load strictly: they stop at the first one,
     * before any broker is contacted */
    CU_ASSERT_EQUAL(it_capture(rill_cmd_run, out, sizeof out, 2, (char *[]){ "run", path, NULL }),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":4:17: undefined environment variable "
                                       "'RILL_TEST_OFFLINE_APP'"));
    CU_ASSERT_PTR_NULL(strstr(out, "note:"));
    CU_ASSERT_EQUAL(it_capture(rill_cmd_apply, out, sizeof out, 3,
                               (char *[]){ "apply", "--dry-run", path, NULL }),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, ":4:17: undefined environment variable "
                                       "'RILL_TEST_OFFLINE_APP'"));
    CU_ASSERT_PTR_NULL(strstr(out, "note:"));

    /* every example topology validates on a fresh clone (no .stack/secrets) */
    const char *slash = strrchr(__FILE__, '/');
    static const char *const examples[] = { "ecommerce", "ecommerce_sinks", "passthrough",
                                            "revenue_by_category" };
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
        char ok[64];
        snprintf(eco, sizeof eco, "%.*s../../topology/examples/%s.yaml",
                 slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__, examples[i]);
        snprintf(ok, sizeof ok, "%s.yaml: ok\n", examples[i]);
        CU_ASSERT_EQUAL(run_validate(out, sizeof out, 2, (char *[]){ "validate", eco, NULL }),
                        0);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, ok));
    }
    /* the revenue example re-keys its lines by category before the window */
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "revenue_daily-rekey (rekey)"));
}

/* ---- rill validate --describe-all and docs/CONFIGURATION.md ------------------- */

#define DOCS_MAX (256 * 1024)

/* docs/CONFIGURATION.md as checked in is what the binary prints: regenerate
 * it with `make docs` after changing a key table. */
static void test_docs_up_to_date(void)
{
    static char out[DOCS_MAX], file[DOCS_MAX];
    char path[512];
    CU_ASSERT_EQUAL_FATAL(run_validate(out, sizeof out, 3,
                                       (char *[]){ "validate", "--describe-all", "--markdown",
                                                   NULL }),
                          0);
    CU_ASSERT_FATAL(strlen(out) < sizeof out - 1); /* the capture held all of it */
    FILE *f = fopen(here(path, sizeof path, "../../docs/CONFIGURATION.md"), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t n = fread(file, 1, sizeof file - 1, f);
    fclose(f);
    file[n] = '\0';
    int same = !strcmp(out, file);
    if (!same)
        fprintf(stderr, "\n  docs/CONFIGURATION.md is stale: run `make docs`\n");
    CU_ASSERT(same);
    CU_ASSERT(!strncmp(file, "# rill configuration\n\n_Generated by `rill validate "
                             "--describe-all --markdown`",
                       70));
    CU_ASSERT_PTR_NOT_NULL(strstr(file, "Do not edit by hand."));
}

/* Every key of every table shows, in the text and in the markdown, with its
 * default and range as the tables give them. */
static void test_describe_all(void)
{
    static char text[DOCS_MAX], md[DOCS_MAX];
    char want[256];
    CU_ASSERT_EQUAL_FATAL(
        run_validate(text, sizeof text, 2, (char *[]){ "validate", "--describe-all", NULL }), 0);
    CU_ASSERT_EQUAL_FATAL(run_validate(md, sizeof md, 3,
                                       (char *[]){ "validate", "--describe-all", "--markdown",
                                                   NULL }),
                          0);
    for (const struct rill_key_def *k = rill_keys; k->name; k++) {
        if (k->type == RILL_KEY_OTHER)
            continue;
        snprintf(want, sizeof want, "\n  %-22s %s", k->name, "");
        CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
        snprintf(want, sizeof want, "| `%s` | ", k->name);
        CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
        if (k->def && !k->when_key && k->type != RILL_KEY_STRING) {
            snprintf(want, sizeof want, "| `%s` | %s | %s |", k->name,
                     rill_key_type_name(k->type), k->def);
            if (!strstr(md, want))
                fprintf(stderr, "\n  missing: %s\n", want);
            CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
        }
        if (k->type == RILL_KEY_INT && k->max < INT64_MAX) {
            snprintf(want, sizeof want, "| %lld .. %lld |", (long long)k->min,
                     (long long)k->max);
            CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
        }
        if (k->flags & RILL_KEY_REQUIRED) {
            snprintf(want, sizeof want, "| `%s` | %s | (required) |", k->name,
                     rill_key_type_name(k->type));
            CU_ASSERT(k->type == RILL_KEY_LIST || strstr(md, want));
        }
    }
    int nprocs = 0;
    for (size_t i = 0; rill_proc_at(i); i++, nprocs++) {
        const struct rill_processor_def *def = rill_proc_at(i);
        snprintf(want, sizeof want, "\n### %s\n", def->name);
        CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
        snprintf(want, sizeof want, "\n%s - ", def->name);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
        for (const struct rill_conf_def *d = def->conf; d && d->key; d++) {
            if (d->min && d->max)
                snprintf(want, sizeof want, "| `%s` | %s | %s | %s .. %s |", d->key,
                         d->type == RILL_CONF_INT ? "int" : "double", d->def, d->min, d->max);
            else if (d->min)
                snprintf(want, sizeof want, "| `%s` | %s | %s | >= %s |", d->key,
                         d->type == RILL_CONF_INT ? "int" : "double", d->def, d->min);
            else
                snprintf(want, sizeof want, "| `%s` | ", d->key);
            if (!strstr(md, want))
                fprintf(stderr, "\n  missing: %s\n", want);
            CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
        }
    }
    CU_ASSERT(nprocs >= 10);
    CU_ASSERT_PTR_NOT_NULL(strstr(md, "\n## Sinks\n"));
    for (size_t i = 0; rill_sink_builtins[i]; i++) {
        const struct rill_sink_def *def = rill_sink_builtins[i];
        snprintf(want, sizeof want, "\n### %s\n", def->name);
        CU_ASSERT_PTR_NOT_NULL(strstr(strstr(md, "\n## Sinks\n"), want));
        snprintf(want, sizeof want, "\n%s - ", def->name);
        CU_ASSERT_PTR_NOT_NULL(strstr(strstr(text, "\nsinks\n"), want));
        for (const struct rill_conf_def *d = def->conf; d && d->key; d++) {
            snprintf(want, sizeof want, "| `%s` | ", d->key);
            CU_ASSERT_PTR_NOT_NULL(strstr(md, want));
        }
    }
    /* --describe shows the range column too */
    CU_ASSERT_EQUAL(
        run_validate(text, sizeof text, 3, (char *[]){ "validate", "--describe", "sum", NULL }),
        0);
    const struct rill_processor_def *sum = rill_proc_lookup("sum");
    for (const struct rill_conf_def *d = sum->conf; d->key; d++)
        if (d->min && d->max) {
            snprintf(want, sizeof want, "%s .. %s", d->min, d->max);
            CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
        }
    /* options that do not go together */
    CU_ASSERT_EQUAL(
        run_validate(text, sizeof text, 2, (char *[]){ "validate", "--markdown", NULL }), 2);
    CU_ASSERT_EQUAL(run_validate(text, sizeof text, 3,
                                 (char *[]){ "validate", "--describe-all", "x.yaml", NULL }),
                    2);
    CU_ASSERT_EQUAL(run_validate(text, sizeof text, 4,
                                 (char *[]){ "validate", "--describe-all", "--describe", "sum",
                                             NULL }),
                    2);
}

static CU_TestInfo tests[] = {
    { "every good yaml file loads and checks", test_good_corpus },
    { "every bad yaml file fails with its expected message", test_bad_corpus },
    { "block style loads every field", test_block_style },
    { "flow style loads the same as block style", test_flow_style },
    { "${VAR}, ${VAR:-default}, $${ and ${file:PATH} substitute", test_env_substitution },
    { "defaults apply", test_defaults },
    { "external processors are not looked up", test_external_processor },
    { "quoted, literal, folded and tagged scalars", test_scalar_styles },
    { "substituted values never appear in errors", test_secret_not_in_errors },
    { "${file:PATH} is relative to the yaml file", test_file_secret_relative },
    { "size and node limits", test_limits },
    { "a missing file is an error with a position", test_missing_file },
    { "a feedback topic may close a cycle, no other", test_feedback_topic },
    { "clients: user, writes, reads, group", test_clients },
    { "sinks: every key, the defaults, rill_sink_group()", test_sink_keys },
    { "sinks: type and config: checked against the sink table", test_sink_config_checked },
    { "sinks: unresolved dsn and config values when lenient", test_sink_lenient },
    { "conf_fill parses every type and refuses bad values", test_conf_fill_types },
    { "conf_fill with the built-in filter, route, passthrough", test_conf_fill_builtins },
    { "conf_fill and the checker refuse INT and DOUBLE out of range", test_conf_fill_ranges },
    { "every built-in's defaults lie in its ranges", test_conf_builtin_ranges },
    { "the changelog topic name, and a buffer too small for it", test_changelog_name },
    { "rill validate prints the graph, dot, config tables and errors", test_cmd_validate },
    { "unresolved ${VAR} and ${file:} are errors when strict", test_unresolved_strict },
    { "unresolved ${VAR} and ${file:} are notes when lenient", test_unresolved_lenient },
    { "rill validate works offline; --strict refuses", test_cmd_validate_offline },
    { "docs/CONFIGURATION.md is what --describe-all --markdown prints", test_docs_up_to_date },
    { "--describe-all shows every key, default and range of every table", test_describe_all },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("config", tests)
