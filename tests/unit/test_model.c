/*
 * test_model.c - unit tests of the model's tables: the consumer-only and
 * producer-only librdkafka properties (kafka.c, read from librdkafka's own
 * property table).
 */
#include "tests/lib/suite.h"
#include "topology/model/kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <string.h>

/* The keys the old hand-copied lists missed (delivery.timeout.ms, check.crcs,
 * fetch.error.backoff.ms), aliases (linger.ms), and keys both clients take. */
static void test_kafka_scopes(void)
{
    static const char *const producer[] = { "delivery.timeout.ms", "linger.ms",
                                            "queue.buffering.max.ms", "transaction.timeout.ms",
                                            "enable.idempotence", "acks" };
    static const char *const consumer[] = { "check.crcs", "fetch.error.backoff.ms", "group.id",
                                            "isolation.level", "auto.offset.reset",
                                            "session.timeout.ms" };
    static const char *const both[] = { "bootstrap.servers", "sasl.username", "client.id",
                                        "security.protocol", "no.such.property" };
    for (size_t i = 0; i < sizeof producer / sizeof *producer; i++) {
        if (!rill_kafka_producer_only(producer[i]) || rill_kafka_consumer_only(producer[i]))
            fprintf(stderr, "\n  %s: not producer-only\n", producer[i]);
        CU_ASSERT(rill_kafka_producer_only(producer[i]));
        CU_ASSERT(!rill_kafka_consumer_only(producer[i]));
    }
    for (size_t i = 0; i < sizeof consumer / sizeof *consumer; i++) {
        if (!rill_kafka_consumer_only(consumer[i]) || rill_kafka_producer_only(consumer[i]))
            fprintf(stderr, "\n  %s: not consumer-only\n", consumer[i]);
        CU_ASSERT(rill_kafka_consumer_only(consumer[i]));
        CU_ASSERT(!rill_kafka_producer_only(consumer[i]));
    }
    for (size_t i = 0; i < sizeof both / sizeof *both; i++) {
        CU_ASSERT(!rill_kafka_consumer_only(both[i]));
        CU_ASSERT(!rill_kafka_producer_only(both[i]));
    }
    CU_ASSERT(!rill_kafka_consumer_only(NULL));
    CU_ASSERT(!rill_kafka_producer_only(""));
    /* A prefix or a longer name is not the property. */
    CU_ASSERT(!rill_kafka_consumer_only("group.i"));
    CU_ASSERT(!rill_kafka_consumer_only("group.id.x"));
}

static CU_TestInfo tests[] = {
    { "kafka key scopes come from librdkafka's property table", test_kafka_scopes },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("model", tests)
