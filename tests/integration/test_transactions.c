/*
 * test_transactions.c - proves the broker runs real Kafka transactions: a
 * transactional producer commits, aborts and commits again; a read_committed
 * consumer sees exactly the committed records, in order; a read_uncommitted
 * consumer sees the aborted ones too (they are in the log); and the log holds
 * one control record (commit/abort marker) per transaction, which is what a
 * mock cluster cannot show. Run over the plaintext and the TLS listener.
 */
#include "tests/lib/stack.h"
#include "tests/lib/suite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TXN_TIMEOUT 30000

static int produce_n(rd_kafka_t *rk, const char *topic, const char *tag, int n)
{
    for (int i = 0; i < n; i++) {
        char v[64];
        int len = snprintf(v, sizeof v, "%s-%d", tag, i);
        if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_VALUE(v, (size_t)len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END))
            return -1;
    }
    return 0;
}

static int txn_ok(rd_kafka_error_t *e, const char *what)
{
    if (!e)
        return 1;
    fprintf(stderr, "%s: %s\n", what, rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return 0;
}

/* Reads partition 0 of topic from the start to its end with the given
 * isolation level; values are concatenated, comma-separated, into out. */
static int read_all(enum it_listener l, const char *topic, const char *isolation, char *out,
                    size_t outsz)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf("admin", l, NULL, NULL);
    it_kconf_set(c, "group.id", topic);
    it_kconf_set(c, "isolation.level", isolation);
    it_kconf_set(c, "enable.partition.eof", "true");
    it_kconf_set(c, "enable.auto.commit", "false");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk)
        return -1;
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(pl, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, pl);
    rd_kafka_topic_partition_list_destroy(pl);
    int n = 0, eof = 0;
    size_t used = 0;
    out[0] = '\0';
    int64_t deadline = it_now_ms() + 30000;
    while (!eof && it_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eof = 1;
        else if (m->err)
            fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m));
        else {
            used += (size_t)snprintf(out + used, outsz - used, "%s%.*s", n ? "," : "",
                                     (int)m->len, (const char *)m->payload);
            n++;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return eof ? n : -1;
}

static int64_t high_watermark(enum it_listener l, const char *topic)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, it_kconf("admin", l, NULL, NULL), err,
                                  sizeof err);
    int64_t lo = -1, hi = -1;
    if (rk) {
        rd_kafka_query_watermark_offsets(rk, topic, 0, &lo, &hi, 15000);
        rd_kafka_destroy(rk);
    }
    return hi;
}

static void commit_abort_commit(enum it_listener l)
{
    char err[256];
    const char *topic = it_topic(l == IT_SASL_SSL ? "it-txn-ssl" : "it-txn");
    CU_ASSERT_EQUAL_FATAL(it_create_topic(topic, 1), 0);

    rd_kafka_conf_t *c = it_kconf("admin", l, NULL, NULL);
    it_kconf_set(c, "transactional.id", topic);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rk);
    CU_ASSERT_FATAL(txn_ok(rd_kafka_init_transactions(rk, TXN_TIMEOUT), "init"));

    CU_ASSERT_FATAL(txn_ok(rd_kafka_begin_transaction(rk), "begin 1"));
    CU_ASSERT_EQUAL(produce_n(rk, topic, "c1", 10), 0);
    CU_ASSERT_FATAL(txn_ok(rd_kafka_commit_transaction(rk, TXN_TIMEOUT), "commit 1"));

    CU_ASSERT_FATAL(txn_ok(rd_kafka_begin_transaction(rk), "begin 2"));
    CU_ASSERT_EQUAL(produce_n(rk, topic, "ab", 10), 0);
    /* Make sure the aborted records reach the log before the abort, so
     * that read_committed has something to hide. */
    CU_ASSERT_EQUAL(rd_kafka_flush(rk, TXN_TIMEOUT), RD_KAFKA_RESP_ERR_NO_ERROR);
    CU_ASSERT_FATAL(txn_ok(rd_kafka_abort_transaction(rk, TXN_TIMEOUT), "abort"));

    CU_ASSERT_FATAL(txn_ok(rd_kafka_begin_transaction(rk), "begin 3"));
    CU_ASSERT_EQUAL(produce_n(rk, topic, "c2", 5), 0);
    CU_ASSERT_FATAL(txn_ok(rd_kafka_commit_transaction(rk, TXN_TIMEOUT), "commit 2"));
    rd_kafka_destroy(rk);

    static char got[4096];
    CU_ASSERT_EQUAL(read_all(l, topic, "read_committed", got, sizeof got), 15);
    CU_ASSERT_STRING_EQUAL(got, "c1-0,c1-1,c1-2,c1-3,c1-4,c1-5,c1-6,c1-7,c1-8,c1-9,"
                                "c2-0,c2-1,c2-2,c2-3,c2-4");
    CU_ASSERT_EQUAL(read_all(l, topic, "read_uncommitted", got, sizeof got), 25);
    CU_ASSERT_PTR_NOT_NULL(strstr(got, "ab-9"));
    /* 25 data records + 3 transaction markers (commit, abort, commit). */
    CU_ASSERT_EQUAL(high_watermark(l, topic), 28);
}

static void test_txn_plaintext(void) { commit_abort_commit(IT_SASL_PLAINTEXT); }
static void test_txn_ssl(void) { commit_abort_commit(IT_SASL_SSL); }

static CU_TestInfo tests[] = {
    { "commit/abort/commit, read_committed sees only commits", test_txn_plaintext },
    { "the same over the tls listener", test_txn_ssl },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("transactions", tests)
