/*
 * orders.h - what the order pipeline's processors (payment, inventory,
 * shipping, notification) share: a per-instance serde with its encode buffer,
 * decoding the record in hand (a bad record is rejected to the DLQ with the
 * serde's reason), emitting an event to a named output keyed by its location,
 * checking at init that a configured output exists, and the deterministic
 * hash behind payment decisions. Not a general-purpose event library: the
 * typed events and their codecs are schemas/serde.h.
 *
 * Threading: a struct rill_orders belongs to one processor instance.
 */
#ifndef RILL_ORDERS_H
#define RILL_ORDERS_H

#include <stdint.h>

#include "processors/processor.h"
#include "schemas/serde.h"

struct rill_orders {
    rill_serde_t *serde;
    rill_buf_t buf;       /* encode buffer, reused */
    rill_event_t ev;      /* the decoded record in hand */
};

rill_err_t rill_orders_init(struct rill_orders *o, char *errstr, size_t errsz);
void rill_orders_fini(struct rill_orders *o);

/* Decodes rec's value into o->ev (clearing the previous one). Returns
 * RILL_PROC_OK, RILL_PROC_REJECT after rill_ctx_reject_as() (class decode)
 * with the serde's reason, or RILL_PROC_RETRY (logged) when the serde could
 * not decide (a schema registry that cannot be asked about an id, no
 * memory); the caller returns it. */
rill_proc_result_t rill_orders_decode(rill_ctx_t *ctx, struct rill_orders *o, const rill_record_t *rec);

/* Encodes ev and forwards it to output, keyed by its location_id. Returns
 * RILL_PROC_OK, RILL_PROC_REJECT (the event does not encode: rejected with the
 * reason) or RILL_PROC_RETRY (the runtime could not take it). */
rill_proc_result_t rill_orders_emit(rill_ctx_t *ctx, struct rill_orders *o, const char *output,
                                    const rill_event_t *ev);

/* Resolves the output a processor writes one kind of event to. configured
 * (the config key `key`) names it when not empty; else it is the output
 * called conventional or ending in "." conventional (a prefixed topic name),
 * else, when only_ok, the processor's only output (a processor writing
 * several kinds of events passes 0). *out points into the context's names.
 * RILL_ERR_CONFIG with a message saying what to set when none fits. */
rill_err_t rill_orders_output(rill_ctx_t *ctx, const char *configured, const char *conventional,
                              const char *key, int only_ok, const char **out, char *errstr,
                              size_t errsz);

/* FNV-1a 64 over the 8 little-endian bytes of seed, then the bytes of s:
 * the documented, reproducible hash behind payment decisions. */
uint64_t rill_orders_hash(uint64_t seed, const char *s);

#endif
