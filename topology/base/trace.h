/*
 * trace.h - W3C Trace Context (https://www.w3.org/TR/trace-context/) as rill
 * uses it for correlation: the `traceparent` header value
 * `00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>`, parsed, checked,
 * written, and made anew. A trace id is created where an order enters (`rill
 * generate`: random) or where a record without a valid one is first read
 * (derived from the record's coordinates, so that every reader of that record
 * derives the same one); each processing step keeps the trace id and writes
 * a new parent id (its own span id) on what it emits. This file knows
 * nothing of records or headers (topology/engine/ applies it to them); it
 * records no spans and exports nothing to a tracing system.
 *
 * Threading: every call is thread-safe; the random bytes come from
 * getrandom(2), buffered per thread.
 */
#ifndef RILL_TRACE_H
#define RILL_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define RILL_TRACEPARENT "traceparent"          /* the header's name */
#define RILL_TRACESTATE "tracestate"            /* its vendor companion, passed along */
#define RILL_TRACEPARENT_LEN 55                 /* a version-00 value, in bytes */
#define RILL_TRACE_ID_HEX 32                    /* the trace id as hex, in bytes */
#define RILL_TRACE_FLAG_SAMPLED 0x01
#define RILL_TRACE_FLAG_RANDOM 0x02             /* Trace Context level 2: a random trace id */

struct rill_trace {
    uint8_t trace_id[16];
    uint8_t parent_id[8];
    uint8_t flags;
};

/* Parses a traceparent value (len bytes, not NUL-terminated) as the W3C
 * recommendation says a receiver must: version 00 is exactly 55 bytes; a
 * higher version (01..fe) is read for its first 55 bytes when it is that
 * long, or longer with a '-' after them; version ff, upper-case or other
 * non-hex digits, wrong dashes and an all-zero trace id or parent id are
 * invalid. Returns 1 and fills *t when valid, 0 when not (*t untouched). */
int rill_trace_parse(const void *value, size_t len, struct rill_trace *t);

/* Writes t as a version-00 traceparent into out (RILL_TRACEPARENT_LEN bytes
 * and a NUL). */
void rill_trace_format(const struct rill_trace *t, char *out);

/* The 16-byte trace id as 32 lower-case hex digits and a NUL into out. */
void rill_trace_id_hex(const uint8_t id[16], char *out);

/* n random bytes from getrandom(2) (a per-thread buffer refilled 256 bytes
 * at a time). Should getrandom fail, which Linux 3.17+ does not, the bytes
 * come from a clock-seeded generator instead, and a warning is logged once. */
void rill_trace_random(void *out, size_t n);

/* A new span id: 8 random bytes, never all zero. */
void rill_trace_span(uint8_t out[8]);

/* A new trace: random trace id and parent id (never all zero), flags
 * RILL_TRACE_FLAG_RANDOM (rill records no spans, so it never sets sampled). */
void rill_trace_new(struct rill_trace *t);

/* The trace id of a record that came without a valid traceparent, derived
 * from where it is stored: a 128-bit hash (murmur3's finalizer over the
 * topic's bytes and the numbers; not cryptographic) of its topic,
 * partition, offset and timestamp, never all zero. Every processor and sink
 * that reads the record, again after a retry or a replay, derives the same
 * id. */
void rill_trace_derive(const char *topic, int32_t partition, int64_t offset, int64_t timestamp,
                       uint8_t id[16]);

/* The trace context of a record whose traceparent header value is value
 * (len bytes; NULL when it has none): that value's when valid (its flags
 * cut to the ones defined, sampled and random), else the trace id derived
 * from the record's coordinates with a zero parent id and flags 0. Returns
 * 1 when it came from the header, 0 when derived. */
int rill_trace_of(const void *value, size_t len, const char *topic, int32_t partition,
                  int64_t offset, int64_t timestamp, struct rill_trace *t);

#endif
