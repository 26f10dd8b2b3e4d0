/*
 * pipeline_audit.h - the order-by-order audit of a run of the order
 * pipeline against the tests' reference (tests/lib/pipeline_ref.h), for the
 * rollout's checker (tests/rollout/pipeline_check.c): given the records of
 * the seven topics and the ids of the orders that must be there, it says
 * for every order whether each topic holds exactly what the reference calls
 * for (one payment result with the reference's approval, one inventory
 * result with its reservation, one final outcome: the shipment with the
 * order's units, or the cancellation with its reason; the stock release and
 * the notifications the rules name) and counts what is missing, what is
 * duplicated (a record whose id another record of the same topic had) and
 * what is wrong. Test-only code.
 */
#ifndef RILL_TEST_PIPELINE_AUDIT_H
#define RILL_TEST_PIPELINE_AUDIT_H

#include "tests/lib/pipeline_ref.h"
#include "tests/lib/proc.h"

#define PA_NTOPICS 7 /* in the order of it_pipeline_topics */

struct pa_result {
    long orders;        /* distinct orders audited (expected ∪ on order_placed) */
    long expected, other; /* of those: expected ones; others found on order_placed */
    long bad_input;     /* order_placed records that do not decode (DLQ'd) */
    long shipped, cancelled, rejected, oos, both, undecided;
    long records[PA_NTOPICS];     /* decoded records per topic */
    long dups[PA_NTOPICS];        /* extra copies per topic */
    long undecodable[PA_NTOPICS]; /* output records that do not decode (not order_placed) */
    long missing, wrong;          /* expected records absent; records that should not be */
};

struct pa_audit;

/* Audits recs[t][0..n[t]) of the seven topics; expected_ids (n_expected,
 * may be 0) are orders that must be on order_placed. The first `report`
 * problems are printed to stderr, each with the order and the topic names
 * of names[]. Returns the audit (free with pa_free()), NULL when out of
 * memory; the counts in *res. */
struct pa_audit *pa_run(const struct pref_conf *c, rill_serde_t *s,
                        struct it_rec *const recs[PA_NTOPICS], const long n[PA_NTOPICS],
                        char *const *expected_ids, long n_expected,
                        const char *const names[PA_NTOPICS], int report,
                        struct pa_result *res);

/* The reservation an audited order's one inventory_result shows (0 or 1),
 * -1 when it has none or several: sinkref.h's reserved_of, arg the audit. */
int pa_reserved_of(const char *order_id, void *arg);

void pa_free(struct pa_audit *a);

#endif
