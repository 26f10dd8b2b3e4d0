/*
 * partition.h - which partition a key belongs to under Kafka's default
 * partitioner. rill's producers let librdkafka partition ("murmur2_random");
 * this is the same function for the places that must know a key's partition
 * without producing: the in-process test driver, and the owner of a key in a
 * store lookup. Not a partitioner callback for librdkafka.
 */
#ifndef RILL_PARTITION_H
#define RILL_PARTITION_H

#include <stddef.h>
#include <stdint.h>

/* The partition of key (len bytes) among cnt partitions (cnt > 0), as the
 * Java client and librdkafka's murmur2 partitioners place it. */
int32_t rill_partition_murmur2(const void *key, size_t len, int32_t cnt);

#endif
