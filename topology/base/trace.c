/*
 * trace.c - W3C traceparent values (trace.h): the parser a receiver needs,
 * the version-00 writer, random ids from getrandom(2) through a small
 * per-thread buffer (one system call per 32 span ids), and the trace id
 * derived from a record's coordinates. Not where headers are read or
 * written: topology/engine/ (record.c, node.c, sink_rows.c) does that.
 */
#include "topology/base/trace.h"
#include "topology/base/log.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1; /* upper case is not allowed either */
}

/* n bytes from 2n lower-case hex digits; 0 when one is not. */
static int unhex(const unsigned char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 1;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int rill_trace_parse(const void *value, size_t len, struct rill_trace *t)
{
    const unsigned char *s = value;
    uint8_t version;
    struct rill_trace r;
    if (!s || len < RILL_TRACEPARENT_LEN || !unhex(s, 1, &version) || version == 0xff)
        return 0;
    if (version == 0 ? len != RILL_TRACEPARENT_LEN
                     : len > RILL_TRACEPARENT_LEN && s[RILL_TRACEPARENT_LEN] != '-')
        return 0;
    if (s[2] != '-' || s[35] != '-' || s[52] != '-' || !unhex(s + 3, 16, r.trace_id) ||
        !unhex(s + 36, 8, r.parent_id) || !unhex(s + 53, 1, &r.flags) ||
        all_zero(r.trace_id, 16) || all_zero(r.parent_id, 8))
        return 0;
    *t = r;
    return 1;
}

/* Every byte's two hex digits: a traceparent is written on every record a
 * processor emits, so this is on the record path. */
static const char pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* n (a constant where it is inlined: the loop unrolls) bytes as hex */
static inline void hex(const uint8_t *p, size_t n, char *out)
{
#pragma GCC unroll 16
    for (size_t i = 0; i < n; i++)
        memcpy(out + 2 * i, pairs + 2 * p[i], 2);
}

void rill_trace_format(const struct rill_trace *t, char *out)
{
    memcpy(out, "00-", 3);
    hex(t->trace_id, 16, out + 3);
    out[35] = '-';
    hex(t->parent_id, 8, out + 36);
    out[52] = '-';
    hex(&t->flags, 1, out + 53);
    out[RILL_TRACEPARENT_LEN] = '\0';
}

void rill_trace_id_hex(const uint8_t id[16], char *out)
{
    hex(id, 16, out);
    out[RILL_TRACE_ID_HEX] = '\0';
}

/* ---- random bytes ----------------------------------------------------------- */

#define POOL_BYTES 256

static _Thread_local struct {
    uint8_t b[POOL_BYTES];
    size_t left;        /* unread bytes at the end of b */
    uint64_t fallback;  /* the fallback generator's state; 0: not seeded */
} pool;

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Only when getrandom(2) fails: a generator seeded from the clocks and the
 * pool's address (which differs per thread). */
static void pool_fallback(void)
{
    static _Atomic int warned;
    if (!warned++)
        rill_log(RILL_LOG_WARN, "trace", "getrandom failed, trace ids from a clock-seeded "
                 "generator|error=\"%s\"", strerror(errno));
    if (!pool.fallback) {
        struct timespec a, b;
        clock_gettime(CLOCK_REALTIME, &a);
        clock_gettime(CLOCK_MONOTONIC, &b);
        pool.fallback = (uint64_t)a.tv_nsec ^ (uint64_t)a.tv_sec << 30 ^ (uint64_t)b.tv_nsec << 12 ^
                        (uint64_t)(uintptr_t)&pool;
    }
    for (size_t i = 0; i < POOL_BYTES; i += 8) {
        uint64_t v = splitmix(&pool.fallback);
        memcpy(pool.b + i, &v, 8);
    }
}

static void pool_fill(void)
{
    size_t got = 0;
    while (got < POOL_BYTES) {
        ssize_t n = getrandom(pool.b + got, POOL_BYTES - got, 0);
        if (n > 0)
            got += (size_t)n;
        else if (n < 0 && errno != EINTR)
            break;
    }
    if (got < POOL_BYTES)
        pool_fallback();
    pool.left = POOL_BYTES;
}

void rill_trace_random(void *out, size_t n)
{
    uint8_t *o = out;
    while (n) {
        if (!pool.left)
            pool_fill();
        size_t k = n < pool.left ? n : pool.left;
        memcpy(o, pool.b + POOL_BYTES - pool.left, k); /* each byte handed out once */
        pool.left -= k;
        o += k;
        n -= k;
    }
}

void rill_trace_span(uint8_t out[8])
{
    do
        rill_trace_random(out, 8);
    while (all_zero(out, 8));
}

void rill_trace_new(struct rill_trace *t)
{
    do
        rill_trace_random(t->trace_id, 16);
    while (all_zero(t->trace_id, 16));
    rill_trace_span(t->parent_id);
    t->flags = RILL_TRACE_FLAG_RANDOM;
}

/* ---- derived ids ------------------------------------------------------------ */

/* 8 bytes as a little-endian word, whatever the machine (every instance
 * must derive the same id) */
static uint64_t word_le(const char *p, size_t n)
{
    uint64_t w = 0;
    memcpy(&w, p, n);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w) >> (8 * (8 - n));
#endif
    return w;
}

/* murmur3's 64-bit finalizer */
static uint64_t fmix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    return k ^ (k >> 33);
}

void rill_trace_derive(const char *topic, int32_t partition, int64_t offset, int64_t timestamp,
                       uint8_t id[16])
{
    /* the topic eight bytes at a time, then the numbers one after the
     * other, each through the finalizer (on the record path: a record
     * without a traceparent takes this) */
    const char *t = topic ? topic : "";
    size_t len = strlen(t), i = 0;
    uint64_t h = 0x7261636574726163ULL ^ len;
    for (; i + 8 <= len; i += 8)
        h = fmix(h ^ word_le(t + i, 8));
    h = fmix(h ^ word_le(t + i, len - i));
    uint64_t a = fmix(h ^ (uint64_t)offset);
    a = fmix(a ^ (uint64_t)timestamp);
    a = fmix(a ^ (uint64_t)(uint32_t)partition);
    uint64_t b = fmix(a ^ h ^ 0x6c6c697274726163ULL);
    if (!a && !b)
        a = 1;
    /* a then b, most significant byte first */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    a = __builtin_bswap64(a);
    b = __builtin_bswap64(b);
#endif
    memcpy(id, &a, 8);
    memcpy(id + 8, &b, 8);
}

int rill_trace_of(const void *value, size_t len, const char *topic, int32_t partition,
                  int64_t offset, int64_t timestamp, struct rill_trace *t)
{
    if (value && rill_trace_parse(value, len, t)) {
        t->flags &= RILL_TRACE_FLAG_SAMPLED | RILL_TRACE_FLAG_RANDOM;
        return 1;
    }
    rill_trace_derive(topic, partition, offset, timestamp, t->trace_id);
    memset(t->parent_id, 0, sizeof t->parent_id);
    t->flags = 0;
    return 0;
}
