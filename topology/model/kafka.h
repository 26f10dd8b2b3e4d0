/*
 * kafka.h - the scope of librdkafka properties: a key only consumers take
 * (group.id, session.timeout.ms, ...) or only producers take (linger.ms,
 * transaction.timeout.ms, ...). Used to split one kafka: map between a
 * thread's consumer and producer, and to keep consumer keys away from
 * producer-type clients (rill apply's admin client). Both answer from
 * librdkafka's own property table, read once on the first call (kafka.c).
 * Thread-safe.
 */
#ifndef RILL_MODEL_KAFKA_H
#define RILL_MODEL_KAFKA_H

/* 1 when key is a librdkafka property only consumers take, else 0. */
int rill_kafka_consumer_only(const char *key);

/* 1 when key is a librdkafka property only producers take, else 0. */
int rill_kafka_producer_only(const char *key);

#endif
