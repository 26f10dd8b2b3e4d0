/*
 * test_security.c - proves the local broker is secured like production:
 * SCRAM-SHA-512 logins succeed with the right password and fail with a wrong
 * one or none, on both the plaintext and the TLS listener; TLS is verified
 * against the stack's CA; a user without ACLs cannot produce, consume or join
 * a group; the admin (super user) can create topics.
 */
#include "tests/lib/stack.h"
#include "tests/lib/util.h"
#include "tests/lib/suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Metadata round trip: returns the error of an all-topics metadata request. */
static rd_kafka_resp_err_t metadata(rd_kafka_t *rk, int timeout_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (md)
        rd_kafka_metadata_destroy(md);
    return err;
}

static rd_kafka_t *producer(rd_kafka_conf_t *c)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        fprintf(stderr, "rd_kafka_new: %s\n", err);
    return rk;
}

/* Polls until the error callback has reported an authentication error or
 * the deadline passes. */
static int wait_auth_error(rd_kafka_t *rk, struct it_errors *e, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    while (!e->auth && it_now_ms() < deadline)
        rd_kafka_poll(rk, 100);
    return e->auth;
}

static void login_ok(enum it_listener l)
{
    struct it_errors e;
    rd_kafka_t *rk = producer(it_kconf("payment_processor", l, NULL, &e));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT_EQUAL(metadata(rk, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(e.auth, 0);
    rd_kafka_destroy(rk);
}

static void login_wrong_password(enum it_listener l)
{
    struct it_errors e;
    rd_kafka_t *rk = producer(it_kconf("payment_processor", l, "not-the-password", &e));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT_TRUE(wait_auth_error(rk, &e, 20000));
    CU_ASSERT_NOT_EQUAL(metadata(rk, 2000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

static void test_scram_login_plaintext(void) { login_ok(IT_SASL_PLAINTEXT); }
static void test_scram_login_ssl(void) { login_ok(IT_SASL_SSL); }
static void test_wrong_password_plaintext(void) { login_wrong_password(IT_SASL_PLAINTEXT); }
static void test_wrong_password_ssl(void) { login_wrong_password(IT_SASL_SSL); }

static void test_unknown_user_refused(void)
{
    struct it_errors e;
    rd_kafka_t *rk = producer(it_kconf("no_such_user", IT_SASL_PLAINTEXT, "x", &e));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT_TRUE(wait_auth_error(rk, &e, 20000));
    rd_kafka_destroy(rk);
}

/* A client that does not authenticate at all never gets metadata. */
static void test_unauthenticated_refused(void)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    it_kconf_set(c, "bootstrap.servers", it_env("KAFKA_BOOTSTRAP"));
    it_kconf_set(c, "security.protocol", "plaintext");
    it_kconf_set(c, "log_level", "0");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT_NOT_EQUAL(metadata(rk, 5000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

/* The TLS listener's certificate is checked: a client trusting another CA
 * fails the handshake. */
static void test_tls_verifies_certificate(void)
{
    char dir[64], cmd[512], pem[300];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "it-ca"));
    snprintf(pem, sizeof pem, "%s/other-ca.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca "
             "-keyout %s/other-ca.key -out %s >/dev/null 2>&1",
             dir, pem);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    struct it_errors e;
    rd_kafka_conf_t *c = it_kconf("payment_processor", IT_SASL_SSL, NULL, &e);
    it_kconf_set(c, "ssl.ca.location", pem);
    rd_kafka_t *rk = producer(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    int64_t deadline = it_now_ms() + 20000;
    while (!e.ssl && it_now_ms() < deadline)
        rd_kafka_poll(rk, 100);
    CU_ASSERT_TRUE(e.ssl);
    CU_ASSERT_NOT_EQUAL(metadata(rk, 2000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_admin_creates_topic(void)
{
    const char *t = it_topic("it-create");
    CU_ASSERT_EQUAL_FATAL(it_create_topic(t, 3), 0);
    rd_kafka_t *rk = producer(it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, t, NULL);
    const struct rd_kafka_metadata *md = NULL;
    CU_ASSERT_EQUAL_FATAL(rd_kafka_metadata(rk, 0, rkt, &md, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(md->topic_cnt, 1);
    CU_ASSERT_EQUAL(md->topics[0].err, RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_EQUAL(md->topics[0].partition_cnt, 3);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

/* A processor user may not create topics on its own. */
static void test_user_cannot_create_topic(void)
{
    char err[256];
    rd_kafka_t *rk = producer(it_kconf("payment_processor", IT_SASL_PLAINTEXT, NULL, NULL));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(it_topic("it-nocreate"), 1, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t **r =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    CU_ASSERT_EQUAL(n, 1);
    if (n == 1)
        CU_ASSERT_EQUAL(rd_kafka_topic_result_error(r[0]),
                        RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    *(rd_kafka_resp_err_t *)m->_private = m->err;
    (void)opaque;
}

static void test_no_acl_cannot_produce(void)
{
    const char *t = it_topic("it-noacl-p");
    CU_ASSERT_EQUAL_FATAL(it_create_topic(t, 1), 0);
    rd_kafka_conf_t *c = it_kconf("notification_handler", IT_SASL_PLAINTEXT, NULL, NULL);
    rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
    it_kconf_set(c, "message.timeout.ms", "20000");
    rd_kafka_t *rk = producer(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_resp_err_t dr = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    CU_ASSERT_EQUAL_FATAL(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(t), RD_KAFKA_V_VALUE("x", 1),
                                            RD_KAFKA_V_OPAQUE(&dr), RD_KAFKA_V_END),
                          RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t deadline = it_now_ms() + 30000;
    while (dr == RD_KAFKA_RESP_ERR__IN_PROGRESS && it_now_ms() < deadline)
        rd_kafka_poll(rk, 100);
    CU_ASSERT_EQUAL(dr, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    rd_kafka_destroy(rk);
}

/* Consumes until a message with an error arrives; returns that error. */
static rd_kafka_resp_err_t first_consumer_error(rd_kafka_t *rk, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    while (it_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        rd_kafka_resp_err_t err = m->err;
        rd_kafka_message_destroy(m);
        if (err && err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return err;
    }
    return RD_KAFKA_RESP_ERR__TIMED_OUT;
}

static rd_kafka_t *consumer(const char *user, const char *group)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf(user, IT_SASL_PLAINTEXT, NULL, NULL);
    if (group) /* no group: assign() only, no coordinator involved */
        it_kconf_set(c, "group.id", group);
    it_kconf_set(c, "enable.auto.commit", "false");
    it_kconf_set(c, "auto.offset.reset", "earliest");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (rk)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Allowed into its group but not onto the topic: the subscription's fetch is
 * refused with a topic authorization error. */
static void test_no_acl_cannot_consume(void)
{
    const char *t = it_topic("it-noacl-c"), *g = it_topic("it-group-ok");
    CU_ASSERT_EQUAL_FATAL(it_create_topic(t, 1), 0);
    CU_ASSERT_EQUAL_FATAL(it_create_acl(RD_KAFKA_RESOURCE_GROUP, g, "notification_handler",
                                        RD_KAFKA_ACL_OPERATION_READ),
                          0);
    rd_kafka_t *rk = consumer("notification_handler", g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
    CU_ASSERT_EQUAL(rd_kafka_subscribe(rk, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
    CU_ASSERT_EQUAL(first_consumer_error(rk, 30000), RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void test_no_acl_cannot_join_group(void)
{
    const char *t = it_topic("it-noacl-g");
    CU_ASSERT_EQUAL_FATAL(it_create_topic(t, 1), 0);
    rd_kafka_t *rk = consumer("notification_handler", it_topic("it-group"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, t, RD_KAFKA_PARTITION_UA);
    CU_ASSERT_EQUAL(rd_kafka_subscribe(rk, l), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(l);
    CU_ASSERT_EQUAL(first_consumer_error(rk, 30000), RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static CU_TestInfo tests[] = {
    { "scram login, plaintext listener", test_scram_login_plaintext },
    { "scram login, tls listener", test_scram_login_ssl },
    { "wrong password refused, plaintext listener", test_wrong_password_plaintext },
    { "wrong password refused, tls listener", test_wrong_password_ssl },
    { "unknown user refused", test_unknown_user_refused },
    { "unauthenticated client refused", test_unauthenticated_refused },
    { "tls certificate verified against the stack ca", test_tls_verifies_certificate },
    { "admin creates a topic", test_admin_creates_topic },
    { "processor user cannot create a topic", test_user_cannot_create_topic },
    { "user without acls cannot produce", test_no_acl_cannot_produce },
    { "user without acls cannot consume", test_no_acl_cannot_consume },
    { "user without acls cannot join a group", test_no_acl_cannot_join_group },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("security", tests)
