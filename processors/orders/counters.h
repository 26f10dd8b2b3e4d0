/*
 * counters.h - the order pipeline's events counted by outcome: orders placed,
 * paid or rejected, reserved or out of stock, shipped or cancelled, stock
 * released and notified, and whether every order has run its whole course.
 * Pure bookkeeping over decoded events; reading them from Kafka is the
 * caller's business (`rill inspect`).
 */
#ifndef RILL_ORDERS_COUNTERS_H
#define RILL_ORDERS_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

#include "schemas/serde.h"

struct rill_order_counts {
    int64_t by_type[RILL_EVENT__COUNT];
    int64_t approved, rejected, reserved, out_of_stock, cancelled;
};

/* Counts one decoded event. */
void rill_order_counts_add(struct rill_order_counts *c, const rill_event_t *ev);

/* 1 when at least one order was placed and every order has its payment and
 * inventory results, its final event (shipped or cancelled) and one
 * notification per customer-facing outcome; else 0. */
int rill_order_counts_complete(const struct rill_order_counts *c);

/* Prints the pipeline summary (with dlq, the dead letters counted beside). */
void rill_order_counts_print(const struct rill_order_counts *c, int64_t dlq, FILE *out);

#endif
