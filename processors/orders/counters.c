/*
 * counters.c - the order pipeline's outcome counts (counters.h): what each
 * decoded event adds, when the pipeline is done with every order, and the
 * summary `rill inspect` and `make demo` print.
 */
#include "processors/orders/counters.h"

#include <inttypes.h>

void rill_order_counts_add(struct rill_order_counts *c, const rill_event_t *ev)
{
    if ((int)ev->type < 0 || ev->type >= RILL_EVENT__COUNT)
        return;
    c->by_type[ev->type]++;
    switch (ev->type) {
    case RILL_EVENT_PAYMENT_RESULT:
        ev->u.payment.approved ? c->approved++ : c->rejected++;
        break;
    case RILL_EVENT_INVENTORY_RESULT:
        ev->u.inventory.reserved ? c->reserved++ : c->out_of_stock++;
        break;
    case RILL_EVENT_ORDER_STATUS:
        c->cancelled += ev->u.status.new_status == RILL_STATUS_CANCELLED;
        break;
    default:
        break;
    }
}

int rill_order_counts_complete(const struct rill_order_counts *c)
{
    int64_t orders = c->by_type[RILL_EVENT_ORDER_PLACED];
    int64_t shipped = c->by_type[RILL_EVENT_ORDER_SHIPPED];
    return orders > 0 && c->by_type[RILL_EVENT_PAYMENT_RESULT] == orders &&
           c->by_type[RILL_EVENT_INVENTORY_RESULT] == orders && shipped + c->cancelled == orders &&
           c->by_type[RILL_EVENT_NOTIFICATION] ==
               c->rejected + c->out_of_stock + shipped + c->cancelled;
}

void rill_order_counts_print(const struct rill_order_counts *c, int64_t dlq, FILE *out)
{
    int64_t orders = c->by_type[RILL_EVENT_ORDER_PLACED];
    fprintf(out,
            "order pipeline (committed events):\n"
            "  orders placed       %8" PRId64 "\n"
            "  paid                %8" PRId64 "   payment rejected %8" PRId64 "\n"
            "  reserved            %8" PRId64 "   out of stock     %8" PRId64 "\n"
            "  shipped             %8" PRId64 "   cancelled        %8" PRId64 "\n"
            "  stock released      %8" PRId64 "\n"
            "  notifications       %8" PRId64 "\n"
            "  dead letters        %8" PRId64 "\n",
            orders, c->approved, c->rejected, c->reserved, c->out_of_stock,
            c->by_type[RILL_EVENT_ORDER_SHIPPED], c->cancelled,
            c->by_type[RILL_EVENT_STOCK_RELEASE], c->by_type[RILL_EVENT_NOTIFICATION], dlq);
    if (orders)
        fprintf(out, "  paid %.1f%%, reserved %.1f%%, shipped %.1f%% of the orders\n",
                100.0 * (double)c->approved / (double)orders,
                100.0 * (double)c->reserved / (double)orders,
                100.0 * (double)c->by_type[RILL_EVENT_ORDER_SHIPPED] / (double)orders);
}
