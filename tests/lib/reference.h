/*
 * reference.h - the tests' own model of the order pipeline's documented
 * rules, written from the documentation and not from the processors' code,
 * so that a test compares the processors against an independent reference.
 * Test-only code.
 */
#ifndef RILL_TEST_REFERENCE_H
#define RILL_TEST_REFERENCE_H

#include <stdint.h>

#include "schemas/serde.h"

/* The payment rule: FNV-1a 64 over the seed's 8 little-endian bytes, then
 * the order id; approved iff the hash % 10000 is below rate_e4. */
int it_payment_approves(uint64_t seed, const char *order_id, int rate_e4);

/* The order an event of the pipeline is about (every event names one), or
 * NULL for an event type it does not know. */
const char *it_event_order_id(const rill_event_t *ev);

#endif
