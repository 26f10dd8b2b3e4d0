/*
 * generate.h - synthetic order_placed events for `rill generate`, the demo and
 * the tests: a catalogue of products (category, price) and a stream of orders
 * from many customers at many locations, spread over a date range, all drawn
 * from one seed. The same seed and options give the same orders, byte for
 * byte. Product popularity is skewed (a few products sell much more), so that
 * stock runs short where it would in a shop. It produces events; it does not
 * talk to Kafka (topology/cli/cmd_generate.c does, and puts on every order
 * the traceparent header of a new, random trace: not drawn from the seed,
 * so the same seed gives the same events but new trace ids).
 *
 * Threading: a generator belongs to one thread.
 */
#ifndef RILL_GENERATE_H
#define RILL_GENERATE_H

#include <stdint.h>

#include "schemas/serde.h"

struct rill_gen_opts {
    uint64_t seed;
    int locations;        /* ship-from locations L0001..; default 50 */
    int customers;        /* C000001..; default 5000 */
    int products;         /* P0001..; default 200 */
    int max_lines;        /* lines per order 1..max_lines; default 4 */
    int max_quantity;     /* units per line 1..max_quantity; default 3 */
    int64_t start_ms;     /* first event_time; default 2026-10-01T00:00:00Z */
    int64_t span_ms;      /* event_times spread over [start, start+span); default 28 days */
    int64_t orders;       /* how many orders the span is spread over (>= 1) */
    const char *currency; /* default "EUR" */
};

typedef struct rill_gen rill_gen_t;

/* Returns NULL with errstr on bad options or no memory. */
rill_gen_t *rill_gen_new(const struct rill_gen_opts *o, char *errstr, size_t errsz);

/* Fills ev with the next order (number n, from 0). The event's strings and
 * items belong to the generator and stay valid until the next call. */
void rill_gen_next(rill_gen_t *g, rill_event_t *ev);

void rill_gen_free(rill_gen_t *g);

#endif
