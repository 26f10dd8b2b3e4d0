/*
 * test_apply.c - `rill apply` against the real broker: it creates the topics
 * with their partitions and retention, compacted changelogs and DLQs; a
 * second apply changes nothing; a changed retention or partition count is
 * applied (other dynamic configs kept), a shrink is refused with nothing
 * changed; --dry-run changes nothing, over the TLS listener too. And least
 * privilege, with the users' real SCRAM credentials: after apply the payment
 * user consumes its input with its group and produces its output in a
 * transaction under its transactional-id prefix, and is refused, each with
 * the specific authorization error, writing another processor's output,
 * reading with another group, using another processor's transactional id
 * and creating a topic; the generator client writes its topic and cannot
 * read it. Every run uses its own application id and topic names.
 */
#include "tests/lib/proc.h"
#include "tests/lib/stack.h"
#include "tests/lib/suite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_SIZE 65536
#define TXN_TIMEOUT 30000

static char out[OUT_SIZE];

/* A fresh application id; topic names are built from it. */
static void new_app(char *app, size_t size, const char *prefix)
{
    snprintf(app, size, "%s", it_topic(prefix));
}

/* Writes the YAML at path: the top-level kafka: map reaches the broker but
 * carries no user (apply gets the admin from -F), then body. */
static void write_yaml(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void write_yaml(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f,
            "state.dir: /tmp/rill-it-apply-state\n"
            "kafka:\n"
            "  bootstrap.servers: %s\n"
            "  security.protocol: SASL_PLAINTEXT\n"
            "  sasl.mechanisms: SCRAM-SHA-512\n",
            it_env("KAFKA_BOOTSTRAP"));
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

/* A processor's own kafka: map with its user's real password. */
static const char *creds(const char *user)
{
    static char buf[4][512];
    static int slot;
    char *b = buf[slot++ % 4];
    snprintf(b, sizeof buf[0], "{ sasl.username: %s, sasl.password: \"${file:%s/%s.password}\" }",
             user, it_env("SECRETS_DIR"), user);
    return b;
}

/* `rill apply yaml -F admin.client.conf [a] [b] ...`, stdout into out. */
static int apply(const char *yaml, const char *a, const char *b, const char *c, const char *d,
                 const char *e, const char *f)
{
    char admin[512];
    snprintf(admin, sizeof admin, "%s/admin.client.conf", it_env("SECRETS_DIR"));
    return it_rill_exec3(out, sizeof out, 60000, "apply", yaml, "-F", admin, a, b, c, d, e, f,
                         (char *)NULL);
}

/* out holds line as a whole line. */
static int has_line(const char *line)
{
    size_t n = strlen(line);
    int ok = 0;
    for (const char *p = out; *p && !ok;) {
        ok = !strncmp(p, line, n) && p[n] == '\n';
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    if (!ok)
        fprintf(stderr, "\n  no line '%s' in:\n%s\n", line, out);
    return ok;
}

/* Lines of out that begin with prefix. */
static int lines_starting(const char *prefix)
{
    int n = 0;
    for (const char *p = out; *p;) {
        n += !strncmp(p, prefix, strlen(prefix));
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

static rd_kafka_t *admin_client(void)
{
    char err[256];
    return rd_kafka_new(RD_KAFKA_PRODUCER, it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL), err,
                        sizeof err);
}

/* Partition count of topic, or -1 when it does not exist. */
static int partitions_of(const char *topic)
{
    rd_kafka_t *rk = admin_client();
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (!rd_kafka_metadata(rk, 1, NULL, &md, 15000))
        for (int i = 0; i < md->topic_cnt; i++)
            if (!strcmp(md->topics[i].topic, topic) && !md->topics[i].err)
                n = md->topics[i].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    return n;
}

/* The value of topic config key into val; *dynamic: set on the topic.
 * Returns 0, or -1 when the topic or key is unknown. */
static int config_of(const char *topic, const char *key, char *val, size_t size, int *dynamic)
{
    rd_kafka_t *rk = admin_client();
    rd_kafka_ConfigResource_t *r = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &r, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = -1;
    if (ev && !rd_kafka_event_error(ev)) {
        size_t n, ne;
        const rd_kafka_ConfigResource_t **res =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        const rd_kafka_ConfigEntry_t **e =
            n == 1 && !rd_kafka_ConfigResource_error(res[0])
                ? rd_kafka_ConfigResource_configs(res[0], &ne)
                : NULL;
        for (size_t i = 0; e && i < ne; i++)
            if (!strcmp(rd_kafka_ConfigEntry_name(e[i]), key)) {
                snprintf(val, size, "%s", rd_kafka_ConfigEntry_value(e[i]));
                *dynamic = rd_kafka_ConfigEntry_source(e[i]) ==
                           RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
                rc = 0;
            }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(r);
    rd_kafka_destroy(rk);
    return rc;
}

static void assert_config(const char *topic, const char *key, const char *want, int want_dynamic)
{
    char v[256] = "";
    int dynamic = -1;
    CU_ASSERT_EQUAL(config_of(topic, key, v, sizeof v, &dynamic), 0);
    if (strcmp(v, want) || dynamic != want_dynamic)
        fprintf(stderr, "\n  %s %s: want %s (%s), got %s (%s)\n", topic, key, want,
                want_dynamic ? "dynamic" : "default", v, dynamic ? "dynamic" : "default");
    CU_ASSERT_STRING_EQUAL(v, want);
    CU_ASSERT_EQUAL(dynamic, want_dynamic);
}

/* The ALLOW bindings of principal on resources whose name starts with
 * prefix, one "RESTYPE OPERATION NAME PATTERN" line each into buf (sorted by
 * the broker); returns their number. Transactional-id bindings come back as
 * resource type UNKNOWN from librdkafka 2.0.2. */
static int acls_of(const char *principal, const char *prefix, char *buf, size_t size)
{
    char err[256];
    rd_kafka_t *rk = admin_client();
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, principal, NULL,
        RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeAcls(rk, f, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int count = -1;
    size_t used = 0;
    buf[0] = '\0';
    if (ev && !rd_kafka_event_error(ev)) {
        size_t n;
        const rd_kafka_AclBinding_t **b =
            rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
        count = 0;
        for (size_t i = 0; i < n; i++) {
            if (strncmp(rd_kafka_AclBinding_name(b[i]), prefix, strlen(prefix)))
                continue;
            count++;
            used += (size_t)snprintf(
                buf + used, used < size ? size - used : 0, "%s %s %s %s\n",
                rd_kafka_ResourceType_name(rd_kafka_AclBinding_restype(b[i])),
                rd_kafka_AclOperation_name(rd_kafka_AclBinding_operation(b[i])),
                rd_kafka_AclBinding_name(b[i]),
                rd_kafka_ResourcePatternType_name(rd_kafka_AclBinding_resource_pattern_type(b[i])));
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AclBinding_destroy(f);
    rd_kafka_destroy(rk);
    return count;
}

/* ---- topics ---- */

static void test_creates_then_nothing(void)
{
    char app[128], yaml[256], t[8][256];
    new_app(app, sizeof app, "apc");
    snprintf(yaml, sizeof yaml, "/tmp/rill-it-%s.yaml", app);
    write_yaml(yaml,
               "application.id: %s\n"
               "topics:\n"
               "  %s.orders: { partitions: 3 }\n"
               "  %s.payments: { partitions: 3 }\n"
               "  %s.table: { partitions: 1, cleanup.policy: compact }\n"
               "processors:\n"
               "  payment:\n"
               "    type: passthrough\n"
               "    inputs: [%s.orders]\n"
               "    outputs: [%s.payments]\n"
               "    stores: [ledger]\n"
               "    kafka: %s\n"
               "  audit:\n"
               "    type: passthrough\n"
               "    inputs: [%s.payments]\n"
               "    outputs: [%s.table]\n"
               "    dlq: %s.audit.dlq\n"
               "    kafka: %s\n",
               app, app, app, app, app, app, creds("payment_processor"), app, app, app,
               creds("shipping_handler"));
    snprintf(t[0], sizeof t[0], "%s.orders", app);
    snprintf(t[1], sizeof t[1], "%s-ledger-changelog", app);
    snprintf(t[2], sizeof t[2], "%s.orders.dlq", app);
    snprintf(t[3], sizeof t[3], "%s.audit.dlq", app);
    snprintf(t[4], sizeof t[4], "%s.table", app);

    CU_ASSERT_EQUAL_FATAL(apply(yaml, NULL, NULL, NULL, NULL, NULL, NULL), 0);
    char line[512];
    snprintf(line, sizeof line, "create topic %s partitions=3 retention.ms=604800000", t[0]);
    CU_ASSERT(has_line(line));
    snprintf(line, sizeof line, "create topic %s partitions=3 cleanup.policy=compact", t[1]);
    CU_ASSERT(has_line(line));
    snprintf(line, sizeof line, "create topic %s partitions=3 retention.ms=2592000000", t[2]);
    CU_ASSERT(has_line(line));
    snprintf(line, sizeof line,
             "add acl User:payment_processor WRITE transactional-id %s.payment. (prefixed)", app);
    CU_ASSERT(has_line(line));
    CU_ASSERT(has_line("applied: topics: 6 created, 0 altered, 0 unchanged; acls: 14 added, 0 "
                       "unchanged"));

    /* What the broker has. */
    CU_ASSERT_EQUAL(partitions_of(t[0]), 3);
    assert_config(t[0], "retention.ms", "604800000", 1);
    CU_ASSERT_EQUAL(partitions_of(t[1]), 3);
    assert_config(t[1], "cleanup.policy", "compact", 1);
    CU_ASSERT_EQUAL(partitions_of(t[2]), 3);
    assert_config(t[2], "retention.ms", "2592000000", 1);
    CU_ASSERT_EQUAL(partitions_of(t[3]), 3);
    CU_ASSERT_EQUAL(partitions_of(t[4]), 1);
    assert_config(t[4], "cleanup.policy", "compact", 1);
    assert_config(t[4], "retention.ms", "604800000", 0); /* the broker's default, not ours */

    /* Again: nothing to do, and nothing done. */
    CU_ASSERT_EQUAL(apply(yaml, NULL, NULL, NULL, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(lines_starting("create "), 0);
    CU_ASSERT_EQUAL(lines_starting("alter "), 0);
    CU_ASSERT_EQUAL(lines_starting("add "), 0);
    CU_ASSERT_EQUAL(lines_starting("exists topic "), 6);
    CU_ASSERT_EQUAL(lines_starting("exists acl "), 14);
    snprintf(line, sizeof line, "exists topic %s partitions=3", t[0]);
    CU_ASSERT(has_line(line));
    CU_ASSERT(has_line("applied: topics: 0 created, 0 altered, 6 unchanged; acls: 0 added, 14 "
                       "unchanged"));
    CU_ASSERT_EQUAL(partitions_of(t[0]), 3);
    unlink(yaml);
}

static void test_changes_applied_shrink_refused(void)
{
    char app[128], yaml[256], topic[256], dlq[256], line[512];
    new_app(app, sizeof app, "apx");
    snprintf(yaml, sizeof yaml, "/tmp/rill-it-%s.yaml", app);
    snprintf(topic, sizeof topic, "%s.events", app);
    snprintf(dlq, sizeof dlq, "%s.events.dlq", app);
    const char *body = "application.id: %s\n"
                       "topics:\n"
                       "  %s: { partitions: %d, retention.ms: %s%s }\n"
                       "processors:\n"
                       "  p: { type: passthrough, inputs: [%s], kafka: %s }\n";
    write_yaml(yaml, body, app, topic, 2, "3600000", ", max.message.bytes: 2000000", topic,
               creds("payment_processor"));
    CU_ASSERT_EQUAL_FATAL(apply(yaml, NULL, NULL, NULL, NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(partitions_of(topic), 2);
    CU_ASSERT_EQUAL(partitions_of(dlq), 2);

    /* More partitions and another retention; max.message.bytes no longer
     * named: it stays as it is (apply never removes). */
    write_yaml(yaml, body, app, topic, 4, "7200000", "", topic, creds("payment_processor"));
    CU_ASSERT_EQUAL(apply(yaml, "--dry-run", NULL, NULL, NULL, NULL, NULL), 0);
    snprintf(line, sizeof line, "alter topic %s partitions=4 (was 2)", topic);
    CU_ASSERT(has_line(line));
    snprintf(line, sizeof line, "alter topic %s retention.ms=7200000 (was 3600000)", topic);
    CU_ASSERT(has_line(line));
    snprintf(line, sizeof line, "alter topic %s partitions=4 (was 2)", dlq);
    CU_ASSERT(has_line(line));
    CU_ASSERT_EQUAL(lines_starting("dry run, nothing changed: topics: 0 to create, 2 to alter"), 1);
    CU_ASSERT_EQUAL(partitions_of(topic), 2);
    assert_config(topic, "retention.ms", "3600000", 1);

    CU_ASSERT_EQUAL(apply(yaml, NULL, NULL, NULL, NULL, NULL, NULL), 0);
    CU_ASSERT(has_line(line));
    CU_ASSERT_EQUAL(partitions_of(topic), 4);
    CU_ASSERT_EQUAL(partitions_of(dlq), 4);
    assert_config(topic, "retention.ms", "7200000", 1);
    assert_config(topic, "max.message.bytes", "2000000", 1);

    /* Fewer partitions: refused, and the retention asked beside it is not
     * applied either. */
    write_yaml(yaml, body, app, topic, 3, "1000", "", topic, creds("payment_processor"));
    CU_ASSERT_EQUAL(apply(yaml, NULL, NULL, NULL, NULL, NULL, NULL), 1);
    snprintf(line, sizeof line,
             "error: topic '%s' has 4 partitions, the topology asks for 3 (kafka cannot remove "
             "partitions)",
             topic);
    CU_ASSERT(has_line(line));
    CU_ASSERT(has_line("refused, nothing changed: topics: 0 to create, 1 to alter, 1 unchanged; "
                       "acls: 0 to add, 5 unchanged"));
    CU_ASSERT_EQUAL(partitions_of(topic), 4);
    assert_config(topic, "retention.ms", "7200000", 1);
    unlink(yaml);
}

/* Over the TLS listener: the dry run reads everything and changes nothing;
 * the apply then creates the topics and every ACL, transactional ids too. */
static void test_dry_run_then_apply_over_tls(void)
{
    char app[128], yaml[256], topic[256], acls[4096], prefix[160];
    new_app(app, sizeof app, "apd");
    snprintf(yaml, sizeof yaml, "/tmp/rill-it-%s.yaml", app);
    snprintf(topic, sizeof topic, "%s.in", app);
    snprintf(prefix, sizeof prefix, "%s", app);
    write_yaml(yaml,
               "application.id: %s\n"
               "topics: { %s: { partitions: 2 } }\n"
               "processors: { p: { type: passthrough, inputs: [%s], kafka: %s } }\n",
               app, topic, topic, creds("payment_processor"));
    /* The TLS listener, from a second properties file over the admin's. */
    char tls[256], admin[512];
    snprintf(tls, sizeof tls, "/tmp/rill-it-%s.tls.conf", app);
    snprintf(admin, sizeof admin, "%s/admin.client.conf", it_env("SECRETS_DIR"));
    FILE *f = fopen(tls, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "bootstrap.servers=%s\nsecurity.protocol=SASL_SSL\nssl.ca.location=%s\n",
            it_env("KAFKA_BOOTSTRAP_SSL"), it_env("KAFKA_CA"));
    CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
    CU_ASSERT_EQUAL(it_rill_exec3(out, sizeof out, 60000, "apply", yaml, "-X", (char *)NULL), 2);
    /* Without the admin's file the yaml has no user: refused. */
    CU_ASSERT_EQUAL(it_rill_exec3(out, sizeof out, 60000, "apply", yaml, "--dry-run", "-F", tls,
                                  (char *)NULL),
                    1);
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, sizeof out, 60000, "apply", yaml, "--dry-run", "-F",
                                        admin, "-F", tls, (char *)NULL),
                          0);
    char line[512];
    snprintf(line, sizeof line, "create topic %s partitions=2 retention.ms=604800000", topic);
    CU_ASSERT(has_line(line));
    snprintf(line, sizeof line,
             "add acl User:payment_processor DESCRIBE transactional-id %s.p. (prefixed)", app);
    CU_ASSERT(has_line(line));
    CU_ASSERT(has_line("dry run, nothing changed: topics: 2 to create, 0 to alter, 0 unchanged; "
                       "acls: 5 to add, 0 unchanged"));
    CU_ASSERT_EQUAL(partitions_of(topic), -1);
    CU_ASSERT_EQUAL(acls_of("User:payment_processor", prefix, acls, sizeof acls), 0);

    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, sizeof out, 60000, "apply", yaml, "-F", admin, "-F",
                                        tls, (char *)NULL),
                          0);
    CU_ASSERT_EQUAL(partitions_of(topic), 2);
    int n = acls_of("User:payment_processor", prefix, acls, sizeof acls);
    if (n != 5)
        fprintf(stderr, "\n  acls:\n%s", acls);
    CU_ASSERT_EQUAL(n, 5);
    char want[512];
    snprintf(want, sizeof want, "UNKNOWN WRITE %s.p. PREFIXED\n", app);
    CU_ASSERT_PTR_NOT_NULL(strstr(acls, want));
    snprintf(want, sizeof want, "UNKNOWN DESCRIBE %s.p. PREFIXED\n", app);
    CU_ASSERT_PTR_NOT_NULL(strstr(acls, want));
    unlink(tls);
    unlink(yaml);
}

/* ---- least privilege ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    *(rd_kafka_resp_err_t *)m->_private = m->err;
}

/* Produces one record as user (not transactional); returns its delivery
 * result. */
static rd_kafka_resp_err_t produce_as(const char *user, const char *topic)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf(user, IT_SASL_PLAINTEXT, NULL, NULL);
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    it_kconf_set(c, "message.timeout.ms", "20000");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        return RD_KAFKA_RESP_ERR__FAIL;
    rd_kafka_resp_err_t dr = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY("o1", 2),
                          RD_KAFKA_V_VALUE("order-1", 7), RD_KAFKA_V_OPAQUE(&dr), RD_KAFKA_V_END))
        dr = RD_KAFKA_RESP_ERR__FAIL;
    int64_t deadline = it_now_ms() + 30000;
    while (dr == RD_KAFKA_RESP_ERR__IN_PROGRESS && it_now_ms() < deadline)
        rd_kafka_poll(rk, 100);
    rd_kafka_destroy(rk);
    return dr;
}

/* Subscribes to topic as user in group; returns NO_ERROR once a record
 * arrives, or the first error the consumer reports. */
static rd_kafka_resp_err_t consume_as(const char *user, const char *group, const char *topic)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf(user, IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "group.id", group);
    it_kconf_set(c, "auto.offset.reset", "earliest");
    it_kconf_set(c, "enable.auto.commit", "false");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk)
        return RD_KAFKA_RESP_ERR__FAIL;
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t res = rd_kafka_subscribe(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t deadline = it_now_ms() + 30000;
    int done = res != RD_KAFKA_RESP_ERR_NO_ERROR;
    res = done ? res : RD_KAFKA_RESP_ERR__TIMED_OUT;
    while (!done && it_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            res = m->err;
            done = 1;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return res;
}

/* Reads partition 0.. of topic without a group (the simple consumer: what
 * a client without a group ACL can try); returns the first error. */
static rd_kafka_resp_err_t read_without_group(const char *user, const char *topic)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, it_kconf(user, IT_SASL_PLAINTEXT, NULL, NULL),
                                  err, sizeof err);
    if (!rk)
        return RD_KAFKA_RESP_ERR__FAIL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t res = RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (rd_kafka_consume_start(rkt, 0, RD_KAFKA_OFFSET_BEGINNING) == -1) {
        res = rd_kafka_last_error();
    } else {
        int64_t deadline = it_now_ms() + 30000;
        while (res == RD_KAFKA_RESP_ERR__TIMED_OUT && it_now_ms() < deadline) {
            rd_kafka_message_t *m = rd_kafka_consume(rkt, 0, 200);
            if (!m)
                continue;
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                res = m->err;
            rd_kafka_message_destroy(m);
        }
        rd_kafka_consume_stop(rkt, 0);
    }
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return res;
}

/* A transactional producer of user with txnid: NO_ERROR when init, a
 * produce to topic and the commit all succeed, else the first error. */
static rd_kafka_resp_err_t transact_as(const char *user, const char *txnid, const char *topic)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf(user, IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "transactional.id", txnid);
    it_kconf_set(c, "log_level", "0"); /* the refused one logs a fatal error */
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        return RD_KAFKA_RESP_ERR__FAIL;
    rd_kafka_error_t *e = rd_kafka_init_transactions(rk, TXN_TIMEOUT);
    if (!e)
        e = rd_kafka_begin_transaction(rk);
    if (!e && rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE("paid", 4),
                                RD_KAFKA_V_END))
        e = rd_kafka_error_new(RD_KAFKA_RESP_ERR__FAIL, "produce failed");
    if (!e)
        e = rd_kafka_commit_transaction(rk, TXN_TIMEOUT);
    rd_kafka_resp_err_t res = e ? rd_kafka_error_code(e) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (e) {
        if (res != RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
            fprintf(stderr, "\n  transaction of %s as %s: %s\n", txnid, user,
                    rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    rd_kafka_destroy(rk);
    return res;
}

static rd_kafka_resp_err_t create_topic_as(const char *user, const char *topic)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, it_kconf(user, IT_SASL_PLAINTEXT, NULL, NULL),
                                  err, sizeof err);
    if (!rk)
        return RD_KAFKA_RESP_ERR__FAIL;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, -1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    rd_kafka_resp_err_t res = RD_KAFKA_RESP_ERR__TIMED_OUT;
    if (ev) {
        size_t n = 0;
        const rd_kafka_topic_result_t **r =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        res = rd_kafka_event_error(ev) ? rd_kafka_event_error(ev)
              : n == 1                 ? rd_kafka_topic_result_error(r[0])
                                       : RD_KAFKA_RESP_ERR__FAIL;
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return res;
}

static void test_least_privilege(void)
{
    char app[128], yaml[256], placed[256], paid[256], shipped[256], g[256], x[256], acls[4096];
    new_app(app, sizeof app, "apl");
    snprintf(yaml, sizeof yaml, "/tmp/rill-it-%s.yaml", app);
    snprintf(placed, sizeof placed, "%s.order_placed", app);
    snprintf(paid, sizeof paid, "%s.payment_result", app);
    snprintf(shipped, sizeof shipped, "%s.order_shipped", app);
    write_yaml(yaml,
               "application.id: %s\n"
               "topics:\n"
               "  %s: { partitions: 3 }\n"
               "  %s: { partitions: 3 }\n"
               "  %s: { partitions: 3 }\n"
               "processors:\n"
               "  payment: { type: passthrough, inputs: [%s], outputs: [%s], kafka: %s }\n"
               "  shipping: { type: passthrough, inputs: [%s], outputs: [%s], kafka: %s }\n"
               "clients:\n"
               "  generator: { user: order_generator, writes: [%s] }\n",
               app, placed, paid, shipped, placed, paid, creds("payment_processor"), paid, shipped,
               creds("shipping_handler"), placed);
    CU_ASSERT_EQUAL_FATAL(apply(yaml, NULL, NULL, NULL, NULL, NULL, NULL), 0);

    /* Exactly the payment processor's grants, nothing else. */
    int n = acls_of("User:payment_processor", app, acls, sizeof acls);
    char want[6][300];
    snprintf(want[0], sizeof want[0], "TOPIC READ %s LITERAL\n", placed);
    snprintf(want[1], sizeof want[1], "TOPIC WRITE %s LITERAL\n", paid);
    snprintf(want[2], sizeof want[2], "TOPIC WRITE %s.dlq LITERAL\n", placed);
    snprintf(want[3], sizeof want[3], "GROUP READ %s.payment LITERAL\n", app);
    snprintf(want[4], sizeof want[4], "UNKNOWN WRITE %s.payment. PREFIXED\n", app);
    snprintf(want[5], sizeof want[5], "UNKNOWN DESCRIBE %s.payment. PREFIXED\n", app);
    if (n != 6)
        fprintf(stderr, "\n  acls:\n%s", acls);
    CU_ASSERT_EQUAL(n, 6);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(acls, want[i]));

    /* The generator writes order_placed; the payment user reads it with its
     * group and writes its output in a transaction of its own prefix. */
    CU_ASSERT_EQUAL(produce_as("order_generator", placed), RD_KAFKA_RESP_ERR_NO_ERROR);
    snprintf(g, sizeof g, "%s.payment", app);
    CU_ASSERT_EQUAL(consume_as("payment_processor", g, placed), RD_KAFKA_RESP_ERR_NO_ERROR);
    snprintf(x, sizeof x, "%s.payment.x", app);
    CU_ASSERT_EQUAL(transact_as("payment_processor", x, paid), RD_KAFKA_RESP_ERR_NO_ERROR);

    /* And nothing more. */
    CU_ASSERT_EQUAL(produce_as("payment_processor", shipped),
                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    snprintf(g, sizeof g, "%s.other", app);
    CU_ASSERT_EQUAL(consume_as("payment_processor", g, placed),
                    RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
    snprintf(x, sizeof x, "%s.shipping.x", app);
    CU_ASSERT_EQUAL(transact_as("payment_processor", x, paid),
                    RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    snprintf(x, sizeof x, "%s.payment-new", app);
    CU_ASSERT_EQUAL(create_topic_as("payment_processor", x),
                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    CU_ASSERT_EQUAL(partitions_of(x), -1);
    CU_ASSERT_EQUAL(read_without_group("order_generator", placed),
                    RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    unlink(yaml);
}

static CU_TestInfo tests[] = {
    { "apply creates topics, changelogs, dlqs; again changes nothing", test_creates_then_nothing },
    { "retention and partitions applied, shrink refused", test_changes_applied_shrink_refused },
    { "dry run changes nothing; apply over tls grants transactional ids",
      test_dry_run_then_apply_over_tls },
    { "least privilege of the payment user and the generator client", test_least_privilege },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("apply", tests)
