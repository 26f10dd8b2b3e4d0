/*
 * decode.h - what the two PostgreSQL sinks share: decoding a record of the
 * batch into an order event with the schemas' serde, and sending a record
 * that does not decode (or that the sink does not take) to the dead-letter
 * table with the reason. Not a sink itself: oltp.c and star.c are.
 *
 * Threading: a serde belongs to one sink instance.
 */
#ifndef RILL_PG_DECODE_H
#define RILL_PG_DECODE_H

#include "processors/sink.h"
#include "schemas/serde.h"

/* Decodes rec into *ev (cleared first). Returns 1 when decoded, 0 when the
 * record was rejected into the dead-letter table (ev is then empty), -1 when
 * even that failed or the serde could not decide (out of memory, a schema
 * registry that cannot be asked about an id): the batch is retried. */
int pg_decode(rill_serde_t *s, rill_sink_tx_t *tx, const struct rill_sink_rec *rec,
              rill_event_t *ev);

/* Rejects rec, an event of a type the sink named by sink does not take.
 * RILL_OK or RILL_ERR_NOMEM. */
rill_err_t pg_reject_type(rill_sink_tx_t *tx, const struct rill_sink_rec *rec, const char *sink,
                          const rill_event_t *ev);

#endif
