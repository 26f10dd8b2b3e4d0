/*
 * notification.c - the `notification` processor of the order pipeline: turns
 * the customer-facing events among its inputs into one `notifications` record
 * each: a rejected payment (payment_result, 1150), an out-of-stock order
 * (inventory_result, 1250), a shipment (order_shipped, 1300) and a
 * cancellation (order_status with new status 1900). Approved payments,
 * reservations and other status changes are not customer-facing and produce
 * nothing. The notification id is "ORDER_ID:KIND", so a downstream sender can
 * drop duplicates; the channel is the configured one. It renders the text; it
 * does not deliver anything.
 *
 * Stateless. Records of other event types go to the DLQ.
 */
#include "processors/orders/orders.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct notification_conf {
    char *channel;
    char *output;
};

static const struct rill_conf_def notification_conf_def[] = {
    { "channel", RILL_CONF_STR, "email", offsetof(struct notification_conf, channel),
      "delivery channel written into each notification: email, sms or push", NULL, NULL },
    { "output", RILL_CONF_STR, "", offsetof(struct notification_conf, output),
      "output of the notifications (default: notifications, *.notifications or the only output)", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct notification {
    struct rill_orders o;
    const char *output;
};

static rill_err_t notification_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct notification_conf *c = rill_ctx_conf(ctx);
    if (strcmp(c->channel, "email") && strcmp(c->channel, "sms") && strcmp(c->channel, "push")) {
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "channel must be email, sms or push, not '%s'", c->channel);
    }
    const char *output;
    rill_err_t err = rill_orders_output(ctx, c->output, "notifications", "output", 1, &output,
                                        errstr, errsz);
    if (err != RILL_OK)
        return err;
    struct notification *n = malloc(sizeof *n);
    if (!n)
        return RILL_ERR_NOMEM;
    if ((err = rill_orders_init(&n->o, errstr, errsz)) != RILL_OK) {
        free(n);
        return err;
    }
    n->output = output;
    *state = n;
    return RILL_OK;
}

static rill_proc_result_t notify(rill_ctx_t *ctx, struct notification *n, const char *order_id,
                                 const char *customer_id, const char *location_id,
                                 const char *kind, int32_t status, int64_t event_time,
                                 const char *correlation_id)
{
    const struct notification_conf *c = rill_ctx_conf(ctx);
    char id[RILL_SERDE_MAX_STRING + 32], msg[RILL_SERDE_MAX_STRING + 128];
    size_t ol = strlen(order_id), kl = strlen(kind);
    if (ol + 1 + kl > RILL_SERDE_MAX_STRING) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "order id of %zu bytes is too long for a notification id "
                        "(order id, ':', kind: at most %d bytes)", ol, RILL_SERDE_MAX_STRING);
        return RILL_PROC_REJECT;
    }
    memcpy(id, order_id, ol);
    id[ol] = ':';
    memcpy(id + ol + 1, kind, kl + 1);
    if (!strcmp(kind, "payment_rejected"))
        snprintf(msg, sizeof msg, "Your payment for order %.200s was declined.", order_id);
    else if (!strcmp(kind, "out_of_stock"))
        snprintf(msg, sizeof msg, "Some items of order %.200s are out of stock.", order_id);
    else if (!strcmp(kind, "order_shipped"))
        snprintf(msg, sizeof msg, "Your order %.200s has shipped.", order_id);
    else
        snprintf(msg, sizeof msg, "Your order %.200s was cancelled.", order_id);
    rill_event_t out = { .type = RILL_EVENT_NOTIFICATION };
    out.u.notification = (rill_notification_t){
        .notification_id = id,
        .customer_id = customer_id,
        .order_id = order_id,
        .location_id = location_id,
        .channel = c->channel,
        .kind = kind,
        .status = status,
        .message = msg,
        .event_time = event_time,
        .correlation_id = correlation_id,
    };
    return rill_orders_emit(ctx, &n->o, n->output, &out);
}

static rill_proc_result_t notification_process(rill_ctx_t *ctx, void *state,
                                               const rill_record_t *rec)
{
    struct notification *o = state;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_orders_decode(ctx, &o->o, rec) != RILL_PROC_OK)
        return RILL_PROC_REJECT;
    const rill_event_t *ev = &o->o.ev;
    switch (ev->type) {
    case RILL_EVENT_PAYMENT_RESULT: {
        const rill_payment_result_t *p = &ev->u.payment;
        if (p->approved)
            return RILL_PROC_OK;
        return notify(ctx, o, p->order_id, p->customer_id, p->location_id, "payment_rejected",
                      p->status, p->event_time, p->correlation_id);
    }
    case RILL_EVENT_INVENTORY_RESULT: {
        const rill_inventory_result_t *i = &ev->u.inventory;
        if (i->reserved)
            return RILL_PROC_OK;
        return notify(ctx, o, i->order_id, i->customer_id, i->location_id, "out_of_stock",
                      i->status, i->event_time, i->correlation_id);
    }
    case RILL_EVENT_ORDER_SHIPPED: {
        const rill_order_shipped_t *s = &ev->u.shipped;
        return notify(ctx, o, s->order_id, s->customer_id, s->location_id, "order_shipped",
                      s->status, s->event_time, s->correlation_id);
    }
    case RILL_EVENT_ORDER_STATUS: {
        const rill_order_status_t *s = &ev->u.status;
        if (s->new_status != RILL_STATUS_CANCELLED)
            return RILL_PROC_OK;
        return notify(ctx, o, s->order_id, s->customer_id, s->location_id, "order_cancelled",
                      s->new_status, s->event_time, s->correlation_id);
    }
    default:
        rill_ctx_reject_as(ctx, RILL_REJECT_UNROUTABLE, "notification does not handle %s", rill_event_type_name(ev->type));
        return RILL_PROC_REJECT;
    }
}

static void notification_close(void *state)
{
    struct notification *n = state;
    rill_orders_fini(&n->o);
    free(n);
}

const struct rill_processor_def rill_proc_notification = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "notification",
    .doc = "one notification per customer-facing event (rejected, out of stock, shipped, cancelled)",
    .conf = notification_conf_def,
    .conf_size = sizeof(struct notification_conf),
    .init = notification_init,
    .process = notification_process,
    .close = notification_close,
};
