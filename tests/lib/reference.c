/*
 * reference.c - the tests' model of the pipeline's rules (reference.h).
 */
#include "tests/lib/reference.h"

int it_payment_approves(uint64_t seed, const char *order_id, int rate_e4)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 8; i++)
        h = (h ^ ((seed >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    for (const unsigned char *p = (const unsigned char *)order_id; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return (int)(h % 10000) < rate_e4;
}

const char *it_event_order_id(const rill_event_t *ev)
{
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED: return ev->u.order.order_id;
    case RILL_EVENT_PAYMENT_RESULT: return ev->u.payment.order_id;
    case RILL_EVENT_INVENTORY_RESULT: return ev->u.inventory.order_id;
    case RILL_EVENT_ORDER_SHIPPED: return ev->u.shipped.order_id;
    case RILL_EVENT_ORDER_STATUS: return ev->u.status.order_id;
    case RILL_EVENT_STOCK_RELEASE: return ev->u.release.order_id;
    case RILL_EVENT_NOTIFICATION: return ev->u.notification.order_id;
    default: return NULL;
    }
}
