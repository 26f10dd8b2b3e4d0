/*
 * bytes.h - big-endian integers in byte strings, the one encoding of the
 * numbers inside store keys and values (an int64 as 8 bytes, most
 * significant first, so that byte order is numeric order for values >= 0):
 * the store's typed helpers, the windowed aggregations' and the joins' keys,
 * shipping's deadlines. Header-only; nothing here is exported to plugins.
 */
#ifndef RILL_BYTES_H
#define RILL_BYTES_H

#include <stdint.h>

static inline void rill_put_be64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (unsigned char)u;
}

static inline int64_t rill_get_be64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
}

#endif
