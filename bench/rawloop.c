/*
 * rawloop.c - the ceiling of the throughput benchmark: the smallest sound
 * consume-then-produce loop on librdkafka, with none of rill's machinery.
 * Record by record it copies each input record (key, value, timestamp) to the
 * output topic, keeping the key-hash partitioning.
 *   alo  idempotent producer; every commit interval: flush, then commit the
 *        consumed offsets
 *   eos  transactional producer; a transaction per commit interval carrying
 *        the offsets (send_offsets_to_transaction)
 * Runs as the admin user of the local stack until SIGTERM.
 * Usage: rawloop IN OUT GROUP alo|eos COMMIT_MS
 */
#include "tests/lib/stack.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die_err(const char *what, rd_kafka_error_t *e)
{
    fprintf(stderr, "rawloop: %s: %s\n", what, rd_kafka_error_string(e));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 6)
        return fprintf(stderr, "usage: rawloop IN OUT GROUP alo|eos COMMIT_MS\n"), 2;
    const char *in = argv[1], *out = argv[2], *group = argv[3];
    int eos = !strcmp(argv[4], "eos");
    int64_t interval = atoll(argv[5]);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    char err[256];
    rd_kafka_conf_t *pc = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(pc, "partitioner", "murmur2_random");
    if (eos) {
        char txid[300];
        snprintf(txid, sizeof txid, "%s-raw", group);
        it_kconf_set(pc, "transactional.id", txid);
    } else {
        it_kconf_set(pc, "enable.idempotence", "true");
    }
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof err);
    rd_kafka_conf_t *cc = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(cc, "group.id", group);
    it_kconf_set(cc, "enable.auto.commit", "false");
    it_kconf_set(cc, "auto.offset.reset", "earliest");
    it_kconf_set(cc, "isolation.level", "read_committed");
    /* as rill's consumers: without it librdkafka 2.0.2 pauses fetching for
     * a second whenever the queue holds 100,000 records, and the ratio
     * would measure that cliff rather than rill's cost */
    it_kconf_set(cc, "queued.min.messages", "262144");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    if (!p || !c)
        return fprintf(stderr, "rawloop: %s\n", err), 1;
    rd_kafka_poll_set_consumer(c);
    rd_kafka_error_t *e;
    if (eos && (e = rd_kafka_init_transactions(p, 30000)))
        die_err("init", e);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, in, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(c, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    int open = 0, dirty = 0;
    int64_t last = mono_ms();
    while (!stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 20);
        if (m && !m->err) {
            if (eos && !open) {
                if ((e = rd_kafka_begin_transaction(p)))
                    die_err("begin", e);
                open = 1;
            }
            rd_kafka_timestamp_type_t tt;
            while (rd_kafka_producev(p, RD_KAFKA_V_TOPIC(out), RD_KAFKA_V_KEY(m->key, m->key_len),
                                     RD_KAFKA_V_VALUE(m->payload, m->len),
                                     RD_KAFKA_V_TIMESTAMP(rd_kafka_message_timestamp(m, &tt)),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ==
                   RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(p, 10);
            dirty = 1;
        }
        if (m)
            rd_kafka_message_destroy(m);
        rd_kafka_poll(p, 0);
        if (dirty && mono_ms() - last >= interval) {
            rd_kafka_topic_partition_list_t *pos;
            rd_kafka_assignment(c, &pos);
            rd_kafka_position(c, pos);
            if (eos) {
                rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(c);
                if ((e = rd_kafka_send_offsets_to_transaction(p, pos, md, 30000)))
                    die_err("send offsets", e);
                rd_kafka_consumer_group_metadata_destroy(md);
                if ((e = rd_kafka_commit_transaction(p, 30000)))
                    die_err("commit", e);
                open = 0;
            } else {
                rd_kafka_flush(p, 30000);
                rd_kafka_commit(c, pos, 0);
            }
            rd_kafka_topic_partition_list_destroy(pos);
            dirty = 0;
            last = mono_ms();
        }
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_flush(p, 10000);
    rd_kafka_destroy(p);
    return 0;
}
