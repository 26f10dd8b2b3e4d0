/*
 * shipping.c - the `shipping` processor of the order pipeline: joins each
 * order's payment_result with its inventory_result (both keyed by location,
 * so they meet in the same task) by order id. The first result to arrive
 * waits in the processor's store (key: order id, value: the record's bytes as
 * they came); the second completes the join and deletes it. Then:
 *   - paid and reserved: one order_shipped (status 1300) with the reserved
 *     lines and the paid amount;
 *   - otherwise: one order_status cancellation (1900) whose reason names what
 *     failed, and, when the stock had been reserved (payment rejected), one
 *     stock_release giving the reserved units back to inventory.
 * Derived events carry the later event_time of the two results.
 *
 * A second result of the same kind for a waiting order is rejected to the
 * DLQ. A result whose partner never comes waits forever (no expiry yet).
 */
#include "processors/orders/orders.h"
#include "state/store.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shipping_conf {
    char *shipped_output, *status_output, *release_output;
};

static const struct rill_conf_def shipping_conf_def[] = {
    { "shipped_output", RILL_CONF_STR, "", offsetof(struct shipping_conf, shipped_output),
      "output of order_shipped events (default: order_shipped or *.order_shipped)", NULL, NULL },
    { "status_output", RILL_CONF_STR, "", offsetof(struct shipping_conf, status_output),
      "output of the order_status cancellations (default: order_status or *.order_status)", NULL, NULL },
    { "release_output", RILL_CONF_STR, "", offsetof(struct shipping_conf, release_output),
      "output of stock_release events (default: stock_release or *.stock_release)", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct shipping {
    struct rill_orders o;
    rill_store_t *store;
    const char *shipped_out, *status_out, *release_out;
    rill_event_t other; /* the waiting half, decoded */
};

static void shipping_close(void *state)
{
    struct shipping *s = state;
    rill_event_clear(&s->other);
    rill_orders_fini(&s->o);
    free(s);
}

static rill_err_t shipping_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct shipping_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = rill_ctx_store_at(ctx, 0);
    if (!store) {
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "processor '%s' needs a store for the join (stores: [...])",
                 rill_ctx_name(ctx));
    }
    rill_err_t err;
    const char *shipped, *status, *release;
    if ((err = rill_orders_output(ctx, c->shipped_output, "order_shipped", "shipped_output", 0,
                                  &shipped, errstr, errsz)) ||
        (err = rill_orders_output(ctx, c->status_output, "order_status", "status_output", 0, &status,
                                  errstr, errsz)) ||
        (err = rill_orders_output(ctx, c->release_output, "stock_release", "release_output", 0,
                                  &release, errstr, errsz)))
        return err;
    struct shipping *s = calloc(1, sizeof *s);
    if (!s)
        return RILL_ERR_NOMEM;
    if ((err = rill_orders_init(&s->o, errstr, errsz)) != RILL_OK) {
        free(s);
        return err;
    }
    s->store = store;
    s->shipped_out = shipped;
    s->status_out = status;
    s->release_out = release;
    *state = s;
    return RILL_OK;
}

/* The lines of a reservation that took stock (all of them when it was
 * reserved), as product and units: what ships, or what goes back. NULL when
 * out of memory; *n gets the count. */
static rill_item_qty_t *reserved_lines(const rill_inventory_result_t *inv, size_t *n)
{
    rill_item_qty_t *items = calloc(inv->item_cnt, sizeof *items);
    *n = 0;
    for (size_t i = 0; items && i < inv->item_cnt; i++)
        if (inv->items[i].reserved > 0)
            items[(*n)++] = (rill_item_qty_t){ inv->items[i].product_id, inv->items[i].reserved };
    return items;
}

static rill_proc_result_t ship(rill_ctx_t *ctx, struct shipping *s,
                               const rill_payment_result_t *pay,
                               const rill_inventory_result_t *inv)
{
    int64_t t = pay->event_time > inv->event_time ? pay->event_time : inv->event_time;
    rill_proc_result_t r;
    size_t n;
    if (pay->approved && inv->reserved) {
        rill_item_qty_t *items = reserved_lines(inv, &n);
        if (!items)
            return RILL_PROC_RETRY;
        rill_event_t out = { .type = RILL_EVENT_ORDER_SHIPPED };
        out.u.shipped = (rill_order_shipped_t){
            .order_id = pay->order_id,
            .customer_id = pay->customer_id,
            .location_id = pay->location_id,
            .items = items,
            .item_cnt = n,
            .total_e4 = pay->amount_e4,
            .currency = pay->currency,
            .status = RILL_STATUS_SHIPPED,
            .event_time = t,
            .correlation_id = pay->correlation_id,
        };
        r = rill_orders_emit(ctx, &s->o, s->shipped_out, &out);
        free(items);
        return r;
    }
    const char *why = !pay->approved && !inv->reserved ? "payment_rejected+out_of_stock"
                      : !pay->approved                 ? "payment_rejected"
                                                       : "out_of_stock";
    rill_event_t st = { .type = RILL_EVENT_ORDER_STATUS };
    st.u.status = (rill_order_status_t){
        .order_id = pay->order_id,
        .customer_id = pay->customer_id,
        .location_id = pay->location_id,
        .old_status = pay->approved ? inv->status : pay->status,
        .new_status = RILL_STATUS_CANCELLED,
        .reason = why,
        .event_time = t,
        .correlation_id = pay->correlation_id,
    };
    if ((r = rill_orders_emit(ctx, &s->o, s->status_out, &st)) != RILL_PROC_OK ||
        !inv->reserved)
        return r;
    rill_item_qty_t *items = reserved_lines(inv, &n);
    if (!items)
        return RILL_PROC_RETRY;
    rill_event_t rel = { .type = RILL_EVENT_STOCK_RELEASE };
    rel.u.release = (rill_stock_release_t){
        .order_id = inv->order_id,
        .location_id = inv->location_id,
        .items = items,
        .item_cnt = n,
        .reason = why,
        .event_time = t,
        .correlation_id = inv->correlation_id,
    };
    r = rill_orders_emit(ctx, &s->o, s->release_out, &rel);
    free(items);
    return r;
}

static rill_proc_result_t shipping_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct shipping *s = state;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_orders_decode(ctx, &s->o, rec) != RILL_PROC_OK)
        return RILL_PROC_REJECT;
    const rill_event_t *ev = &s->o.ev;
    const char *order_id;
    if (ev->type == RILL_EVENT_PAYMENT_RESULT)
        order_id = ev->u.payment.order_id;
    else if (ev->type == RILL_EVENT_INVENTORY_RESULT)
        order_id = ev->u.inventory.order_id;
    else {
        rill_ctx_reject_as(ctx, RILL_REJECT_UNROUTABLE, "shipping expects payment_result or inventory_result, got %s",
                        rill_event_type_name(ev->type));
        return RILL_PROC_REJECT;
    }
    void *waiting;
    size_t wlen;
    rill_err_t err = rill_store_get(s->store, order_id, strlen(order_id), &waiting, &wlen);
    if (err == RILL_ERR_NOTFOUND)
        return rill_store_put(s->store, order_id, strlen(order_id), rec->value,
                              rec->value_len) == RILL_OK
                   ? RILL_PROC_OK
                   : RILL_PROC_RETRY;
    if (err != RILL_OK)
        return RILL_PROC_RETRY;
    char msg[256];
    rill_event_clear(&s->other);
    err = rill_serde_decode(s->o.serde, NULL, 0, waiting, wlen, &s->other, msg, sizeof msg);
    free(waiting);
    if (err != RILL_OK) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "waiting result of order '%s' does not decode: %s", order_id, msg);
        return RILL_PROC_REJECT;
    }
    if (s->other.type == ev->type) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "duplicate %s for order '%s'", rill_event_type_name(ev->type),
                        order_id);
        return RILL_PROC_REJECT;
    }
    if (rill_store_delete(s->store, order_id, strlen(order_id)) != RILL_OK)
        return RILL_PROC_RETRY;
    if (ev->type == RILL_EVENT_PAYMENT_RESULT)
        return ship(ctx, s, &ev->u.payment, &s->other.u.inventory);
    return ship(ctx, s, &s->other.u.payment, &ev->u.inventory);
}

const struct rill_processor_def rill_proc_shipping = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "shipping",
    .doc = "joins payment and inventory results per order: ships, or cancels and releases stock",
    .conf = shipping_conf_def,
    .conf_size = sizeof(struct shipping_conf),
    .init = shipping_init,
    .process = shipping_process,
    .close = shipping_close,
};
