/*
 * partition.c - Kafka's default partitioner for keyed records (murmur2, the
 * Java client's and librdkafka's "murmur2_random" for non-NULL keys), so that
 * rill can say which partition a key lives in without a producer. Pure
 * function: no state, thread-safe.
 */
#include "topology/base/partition.h"

int32_t rill_partition_murmur2(const void *key, size_t len, int32_t cnt)
{
    const uint32_t m = 0x5bd1e995u, seed = 0x9747b28cu;
    const int r = 24;
    const unsigned char *data = key;
    uint32_t h = seed ^ (uint32_t)len;
    size_t n4 = len / 4;
    for (size_t i = 0; i < n4; i++) {
        const unsigned char *p = data + i * 4;
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const unsigned char *tail = data + n4 * 4;
    switch (len & 3) {
    case 3: h ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)((h & 0x7fffffffu) % (uint32_t)cnt);
}
