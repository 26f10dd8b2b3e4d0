/*
 * kafka.c - which librdkafka properties of a topology's kafka: maps concern
 * only one kind of client, so that each client is given only the keys it
 * takes (librdkafka warns about the others). The engine's consumers and
 * producers and rill apply's admin client read the same answer.
 */
#include "topology/model/kafka.h"

#include <string.h>

static const char *const consumer_only[] = {
    "group.id", "group.instance.id", "session.timeout.ms", "max.poll.interval.ms",
    "heartbeat.interval.ms", "auto.offset.reset", "isolation.level", "fetch.max.bytes",
    "fetch.min.bytes", "fetch.wait.max.ms", "max.partition.fetch.bytes",
    "partition.assignment.strategy", "enable.auto.commit", "auto.commit.interval.ms",
    "queued.min.messages", "queued.max.messages.kbytes", NULL,
};
static const char *const producer_only[] = {
    "transaction.timeout.ms", "linger.ms", "queue.buffering.max.ms", "batch.num.messages",
    "batch.size", "compression.type", "compression.codec", "acks", "request.required.acks",
    "message.timeout.ms", "queue.buffering.max.messages", "queue.buffering.max.kbytes",
    "enable.idempotence", "partitioner", "retries", NULL,
};

static int listed(const char *const *l, const char *k)
{
    for (; *l; l++)
        if (!strcmp(*l, k))
            return 1;
    return 0;
}

int rill_kafka_consumer_only(const char *key)
{
    return listed(consumer_only, key);
}

int rill_kafka_producer_only(const char *key)
{
    return listed(producer_only, key);
}
