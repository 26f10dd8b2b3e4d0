/*
 * pipeline_ref.h - the tests' reference of the order pipeline
 * (topology/examples/ecommerce.yaml), shared by the integration tests and
 * the rollout's checker (tests/rollout/pipeline_check.c): from the orders
 * alone and the pipeline's parameters (payment seed and approve rate,
 * initial stock and its per-product overrides) it says what every order
 * must become, with the documented rules (tests/lib/reference.h for the
 * payment hash, schemas/README.md for the reasons and notifications), not
 * the processors' code.
 *
 * Stock is the one rule whose outcome can depend on timing: a release of
 * a cancelled order's units comes back through a feedback topic whenever
 * shipping gets to it. So the reference decides a reservation only where
 * timing cannot matter: a (location, product) whose stock covers every
 * unit all orders ask of it always reserves, one whose stock is below what
 * an order asks never does (stock never exceeds its initial value). Any
 * other order's reservation is PREF_UNDECIDED. Then the tallies of what
 * came out of each topic and the expected counts the tests compare.
 * Test-only code.
 */
#ifndef RILL_TEST_PIPELINE_REF_H
#define RILL_TEST_PIPELINE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/serde.h"
#include "tests/lib/proc.h"

#define PREF_MAX_OVERRIDES 64

/* The pipeline's parameters; pref_conf_default() gives ecommerce.yaml's. */
struct pref_conf {
    uint64_t payment_seed;  /* payment's seed: 7 */
    int approve_rate_e4;    /* payment's approve_rate in ten-thousandths: 9000 */
    long initial_stock;     /* inventory's initial_stock: 13 */
    struct {
        char product[32];
        long units;
    } ov[PREF_MAX_OVERRIDES]; /* inventory's stock_overrides */
    size_t nov;
};

void pref_conf_default(struct pref_conf *c);
/* Adds the overrides of spec ("P1=0,P2=5", as stock_overrides; "" none).
 * Returns 0, or -1 when spec is malformed or too long. */
int pref_conf_overrides(struct pref_conf *c, const char *spec);
/* The stock of product at every location before the first order. */
long pref_initial_stock(const struct pref_conf *c, const char *product);

/* Units per "LOCATION/PRODUCT" (a hash map). */
struct pref_units;
struct pref_units *pref_units_new(void);
void pref_units_add(struct pref_units *u, const char *location, const char *product, long units);
/* The units of key "LOCATION/PRODUCT"; 0 when it has none, and *found
 * (may be NULL) says whether it has an entry. */
long pref_units_get(const struct pref_units *u, const char *key, int *found);
size_t pref_units_count(const struct pref_units *u);
/* The i-th entry (0 <= i < pref_units_count(), any order): its key, and its
 * units in *units. */
const char *pref_units_at(const struct pref_units *u, size_t i, long *units);
void pref_units_free(struct pref_units *u);

/* The reference over a set of orders: pref_demand() each one first, then
 * pref_decide() any. */
struct pref {
    struct pref_conf conf;
    struct pref_units *demand; /* units asked per location/product, all orders */
};

int pref_init(struct pref *r, const struct pref_conf *c);
void pref_demand(struct pref *r, const rill_order_placed_t *o);
void pref_free(struct pref *r);

#define PREF_UNDECIDED (-1)

/* Notification kinds (schemas/README.md), as bits. */
enum {
    PREF_N_PAYMENT_REJECTED = 1,
    PREF_N_OUT_OF_STOCK = 2,
    PREF_N_SHIPPED = 4,
    PREF_N_CANCELLED = 8,
};

/* What one order must become. */
struct pref_outcome {
    int paid;      /* payment_result approved */
    int reserved;  /* inventory_result reserved, or PREF_UNDECIDED */
    /* derived from both (meaningless while reserved is undecided): */
    int shipped;   /* one order_shipped, status 1300 */
    int cancelled; /* one order_status 1900 with reason */
    int released;  /* one stock_release (paid 0, reserved 1) */
    int notify;    /* PREF_N_* bits: one notification of each */
    const char *reason; /* the cancellation's reason, or NULL */
};

void pref_decide(const struct pref *r, const rill_order_placed_t *o, struct pref_outcome *out);
/* Fills the derived fields of out from out->paid and reserved (0 or 1). */
void pref_settle(struct pref_outcome *out, int reserved);
/* The notification kind of a PREF_N_* bit ("payment_rejected", ...). */
const char *pref_kind_name(int bit);
/* The PREF_N_* bit of a kind name, 0 when it is none. */
int pref_kind_bit(const char *kind);

/* ---- the tests' counts -------------------------------------------------- */

/* The expected counts over order_placed's records, and the units shipped
 * per location/product. */
struct pref_expect {
    long orders, bad, undecided;
    long paid, rejected, reserved, oos, shipped, cancelled, released, notify;
    struct pref_units *units; /* shipped units per location/product */
};

/* Decodes every record of order_placed (recs[0..n)) with s and computes
 * the expectation into e (zeroed here; free with pref_expect_free()):
 * records that do not decode are counted in e->bad. Returns 0, or -1 on
 * failure. */
int pref_expect_from(const struct pref_conf *c, rill_serde_t *s, const struct it_rec *recs,
                     long n, struct pref_expect *e);
void pref_expect_free(struct pref_expect *e);

/* What came out of one topic: its records decoded; n counts those of the
 * wanted type, hits those whose pick() is true (all when pick is NULL),
 * dups those whose id (order id, or notification id) an earlier one had,
 * undecodable the others. each (may be NULL) sees every decoded one. */
struct pref_tally {
    long n, hits, dups, undecodable;
};

struct pref_tally pref_tally(const struct it_rec *recs, long nrecs, rill_serde_t *s,
                             rill_event_type_t type, int (*pick)(const rill_event_t *),
                             void (*each)(const rill_event_t *, void *), void *arg);

/* pick()s for pref_tally: approved payment, reserved stock, cancellation. */
int pref_is_approved(const rill_event_t *ev);
int pref_is_reserved(const rill_event_t *ev);
int pref_is_cancel(const rill_event_t *ev);
/* each() for pref_tally over order_shipped: adds the shipped units to the
 * struct pref_units *arg. */
void pref_count_shipped(const rill_event_t *ev, void *arg);

#endif
