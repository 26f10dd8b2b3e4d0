/*
 * sinkfx.h - the world of a PostgreSQL sink test on the real stack: topics
 * prefixed for the test, a PostgreSQL schema of its own (migrated with `rill
 * migrate`), the order pipeline's topology (topology/examples/ecommerce.yaml
 * adapted) and sink-only topologies for one or more sink instances, the
 * reference rows computed from order_placed alone (loaded into ref_* tables
 * of the schema), and the SQL comparisons of what the sinks wrote against
 * them. Test-only code.
 */
#ifndef RILL_TEST_SINKFX_H
#define RILL_TEST_SINKFX_H

#include "tests/lib/pgq.h"

#include <libpq-fe.h>
#include <stdint.h>

#define SK_NTOPICS 7
enum { SK_PLACED, SK_PAYMENT, SK_INVENTORY, SK_SHIPPED, SK_STATUS, SK_RELEASE, SK_NOTIFY };
#define SK_MAX_SINKS 2

struct sinkfx {
    char dir[64], app[64], schema[64];
    char dsnfile[128], pipe_yaml[128], pipe_log[128];
    char sink_yaml[SK_MAX_SINKS][128], sink_log[SK_MAX_SINKS][128];
    char topic[SK_NTOPICS][128];
    const char *sinks;       /* "oltp", "star" or "both" */
    PGconn *c;               /* on the test's schema */
    long orders, shipped, lines, shipped_lines; /* the reference's counts */
};

/* Sets up the world: schema, migrations, topologies (nsinks instances of
 * the sinks named by which: "oltp", "star" or "both"; linger in ms), topics
 * and ACLs by `rill apply`. extra_kafka is added to each sink's kafka: map
 * (may be ""). Returns 0 on success. */
int sk_init(struct sinkfx *f, const char *tag, const char *which, int nsinks, int linger_ms,
            const char *extra_kafka);
void sk_done(struct sinkfx *f);

/* The group of sink name in f ("<app>.<name>"), static storage (ring of 4). */
const char *sk_group(const struct sinkfx *f, const char *name);

/* 1 when rill_offsets of every sink of f has reached the end offsets of
 * its inputs. */
int sk_caught_up(struct sinkfx *f);
/* Loops until sk_caught_up() and, when want_final > 0, that many orders are
 * final in orders and want_facts rows in fact_sales (-1: not looked at), or
 * the deadline; returns 1 when reached. Each look is a round trip. */
int sk_wait(struct sinkfx *f, long want_final, long want_facts, int timeout_ms);

/* Reads order_placed, computes the reference (payment by the documented
 * hash at seed 7 and rate 0.9; stock never short but for the sold-out
 * products P0001 and P0006) into ref_orders, ref_items and ref_history.
 * Returns 0 on success. */
int sk_reference(struct sinkfx *f);

/* Rows in the symmetric difference of two queries (-1 on failure); prints a
 * few when there are some. */
long sk_diff(PGconn *c, const char *what, const char *a, const char *b);

/* Every comparison of the OLTP tables, the star schema, the views and the
 * positions against the reference; returns the number that failed. */
int sk_verify(struct sinkfx *f);

/* The PostgreSQL password of the stack's DSN (static storage). */
const char *sk_pg_password(void);

/* CPU time (user + system) of pid so far, in ms; -1 when unknown. */
long sk_cpu_ms(int pid);

#endif
