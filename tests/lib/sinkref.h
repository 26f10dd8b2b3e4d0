/*
 * sinkref.h - the PostgreSQL side of the tests' reference of the order
 * pipeline (tests/lib/pipeline_ref.h), shared by the sink tests
 * (tests/lib/sinkfx.h) and the rollout's checker
 * (tests/rollout/pipeline_check.c): the rows the sinks must have written,
 * computed from order_placed's records alone and loaded into ref_orders,
 * ref_items and ref_history, and the comparisons of the sinks' tables and
 * views against them, each one a symmetric difference of two queries that
 * must be empty (so a duplicate row is a difference too). Test-only code.
 */
#ifndef RILL_TEST_SINKREF_H
#define RILL_TEST_SINKREF_H

#include <libpq-fe.h>

#include "tests/lib/pipeline_ref.h"
#include "tests/lib/proc.h"

/* The reference's counts. */
struct sr_counts {
    long orders, shipped, lines, shipped_lines;
};

/* Decodes order_placed's records (recs[0..n); those that do not decode
 * are skipped: the sinks dead-letter them), computes each order's outcome
 * with the reference of c and loads the rows into ref_orders, ref_items and
 * ref_history on the connection c (TEMP tables when temp, else in the
 * connection's schema), with the session's time zone set to UTC. An order
 * whose reservation the reference leaves undecided takes reserved_of's
 * answer (0 or 1; -1: unknown); without reserved_of, or unknown, it fails.
 * Returns 0, or -1 on failure (printed). */
int sr_load(PGconn *pg, const struct pref_conf *c, const struct it_rec *recs, long n, int temp,
            int (*reserved_of)(const char *order_id, void *arg), void *arg,
            struct sr_counts *out);

/* Rows in the symmetric difference of two queries (-1 on failure); prints a
 * few when there are some. */
long sr_diff(PGconn *c, const char *what, const char *a, const char *b);

/* Every comparison of the OLTP tables (oltp), of the star schema and its
 * views (star) against the loaded reference, and no dead letter; returns
 * the number that failed. */
int sr_verify(PGconn *c, int oltp, int star);

#endif
