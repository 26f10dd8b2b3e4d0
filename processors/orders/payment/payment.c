/*
 * payment.c - the `payment` processor of the order pipeline: reads
 * order_placed events and answers each with one payment_result. There is no
 * payment provider behind it: the decision is a pure function of the order id
 * and a seed, so that a re-run (or a test's reference) decides the same way:
 * approved iff rill_orders_hash(seed, order_id) % 10000 is below
 * approve_rate * 10000 (rounded). The amount is the order total; a rejection
 * carries the reason `card_declined`.
 *
 * Stateless. Records that are not order_placed events go to the DLQ.
 */
#include "processors/orders/orders.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

struct payment_conf {
    double approve_rate;
    int64_t seed;
    char *output;
};

static const struct rill_conf_def payment_conf_def[] = {
    { "approve_rate", RILL_CONF_DOUBLE, "0.9", offsetof(struct payment_conf, approve_rate),
      "share of orders approved, 0..1, decided from the order id and the seed", "0", "1" },
    { "seed", RILL_CONF_INT, "0", offsetof(struct payment_conf, seed),
      "seed of the approval hash: the same seed decides the same orders the same way", NULL, NULL },
    { "output", RILL_CONF_STR, "", offsetof(struct payment_conf, output),
      "output of the payment_result events (default: payment_result, *.payment_result or the only output)", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct payment {
    struct rill_orders o;
    const char *output;
    uint64_t threshold; /* approved iff hash % 10000 < threshold */
};

static rill_err_t payment_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct payment_conf *c = rill_ctx_conf(ctx);
    const char *output;
    rill_err_t err = rill_orders_output(ctx, c->output, "payment_result", "output", 1, &output,
                                        errstr, errsz);
    if (err != RILL_OK)
        return err;
    struct payment *p = calloc(1, sizeof *p);
    if (!p)
        return RILL_ERR_NOMEM;
    if ((err = rill_orders_init(&p->o, errstr, errsz)) != RILL_OK) {
        free(p);
        return err;
    }
    p->threshold = (uint64_t)llround(c->approve_rate * 10000.0);
    p->output = output;
    *state = p;
    return RILL_OK;
}

static rill_proc_result_t payment_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct payment_conf *c = rill_ctx_conf(ctx);
    struct payment *p = state;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_orders_decode(ctx, &p->o, rec) != RILL_PROC_OK)
        return RILL_PROC_REJECT;
    if (p->o.ev.type != RILL_EVENT_ORDER_PLACED) {
        rill_ctx_reject_as(ctx, RILL_REJECT_UNROUTABLE, "payment expects order_placed, got %s",
                        rill_event_type_name(p->o.ev.type));
        return RILL_PROC_REJECT;
    }
    const rill_order_placed_t *ord = &p->o.ev.u.order;
    int ok = rill_orders_hash((uint64_t)c->seed, ord->order_id) % 10000 < p->threshold;
    rill_event_t out = { .type = RILL_EVENT_PAYMENT_RESULT };
    out.u.payment = (rill_payment_result_t){
        .order_id = ord->order_id,
        .customer_id = ord->customer_id,
        .location_id = ord->location_id,
        .approved = ok,
        .status = ok ? RILL_STATUS_PAID : RILL_STATUS_PAYMENT_REJECTED,
        .amount_e4 = ord->total_e4,
        .currency = ord->currency,
        .reason = ok ? NULL : "card_declined",
        .event_time = ord->event_time,
        .correlation_id = ord->correlation_id,
    };
    return rill_orders_emit(ctx, &p->o, p->output, &out);
}

static void payment_close(void *state)
{
    struct payment *p = state;
    rill_orders_fini(&p->o);
    free(p);
}

const struct rill_processor_def rill_proc_payment = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "payment",
    .doc = "approves or rejects each order_placed (deterministic from order id and seed)",
    .conf = payment_conf_def,
    .conf_size = sizeof(struct payment_conf),
    .init = payment_init,
    .process = payment_process,
    .close = payment_close,
};
