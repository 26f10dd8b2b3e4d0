/*
 * serde_check.c - the value checks of serde.h, applied to every event a
 * decode produces (Avro or JSON) and to every event before it is encoded, so
 * that what one processor writes, the next can read: strings present, at most
 * RILL_SERDE_MAX_STRING bytes of UTF-8, ids non-empty; item counts; status
 * codes valid for the type; quantities > 0 and money >= 0; an order's total
 * equal to the exact sum of its lines (overflow checked); flags consistent
 * with statuses. Messages name the Avro field. Not a syntax check: the walk
 * (serde_walk.c) and the JSON decoder (serde_json.c) come first.
 */
#include "schemas/serde_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct chk {
    char *err;
    size_t errsz;
};

static int bad(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct chk *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill_verrf(c->err, c->errsz, RILL_ERR_INVALID, fmt, ap);
    va_end(ap);
    return -1;
}

/* " of items[i]" for a line's field, "" for the event's own. */
static const char *where(char *buf, size_t sz, long item)
{
    buf[0] = '\0';
    if (item >= 0)
        snprintf(buf, sz, " of items[%ld]", item);
    return buf;
}

enum { MAY_BE_EMPTY = 0, NON_EMPTY = 1 };

static int str_ok(struct chk *c, const char *field, long item, const char *s, int non_empty)
{
    char w[32];
    if (!s)
        return bad(c, "field '%s'%s is missing", field, where(w, sizeof w, item));
    size_t n = strlen(s);
    if (non_empty && !n)
        return bad(c, "field '%s'%s is empty", field, where(w, sizeof w, item));
    if (n > RILL_SERDE_MAX_STRING)
        return bad(c, "field '%s'%s is longer than %d bytes", field, where(w, sizeof w, item),
                   RILL_SERDE_MAX_STRING);
    if (!rill_serde_utf8_ok((const unsigned char *)s, n))
        return bad(c, "field '%s'%s is not valid utf-8", field, where(w, sizeof w, item));
    return 0;
}

static int one_of(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

static int currency_ok(struct chk *c, const char *cur)
{
    if (str_ok(c, "currency", -1, cur, NON_EMPTY))
        return -1;
    if (strlen(cur) != 3 || cur[0] < 'A' || cur[0] > 'Z' || cur[1] < 'A' || cur[1] > 'Z' ||
        cur[2] < 'A' || cur[2] > 'Z')
        return bad(c, "field 'currency' must be three upper-case letters");
    return 0;
}

static int time_ok(struct chk *c, int64_t t)
{
    if (t < 0)
        return bad(c, "field 'event_time' must be >= 0, not %lld", (long long)t);
    return 0;
}

static int flag_ok(struct chk *c, const char *field, int v)
{
    if (v != 0 && v != 1)
        return bad(c, "field '%s' must be 0 or 1, not %d", field, v);
    return 0;
}

static int items_ok(struct chk *c, const void *items, size_t cnt)
{
    if (!cnt)
        return bad(c, "field 'items' must have at least one item");
    if (cnt > RILL_SERDE_MAX_ITEMS)
        return bad(c, "field 'items' has %zu items, more than %d", cnt, RILL_SERDE_MAX_ITEMS);
    if (!items)
        return bad(c, "field 'items' is missing");
    return 0;
}

static int qty_ok(struct chk *c, const char *field, long item, int32_t q)
{
    if (q <= 0)
        return bad(c, "field '%s' of items[%ld] must be > 0, not %d", field, item, (int)q);
    return 0;
}

static int ids_ok(struct chk *c, const char *order_id, const char *location_id,
                  const char *correlation_id)
{
    if (str_ok(c, "order_id", -1, order_id, NON_EMPTY) ||
        str_ok(c, "location_id", -1, location_id, NON_EMPTY))
        return -1;
    return str_ok(c, "correlation_id", -1, correlation_id, NON_EMPTY);
}

static int customer_ok(struct chk *c, const char *customer_id)
{
    return str_ok(c, "customer_id", -1, customer_id, NON_EMPTY);
}

static int order_ok(struct chk *c, const rill_order_placed_t *o)
{
    if (ids_ok(c, o->order_id, o->location_id, o->correlation_id) ||
        customer_ok(c, o->customer_id) ||
        items_ok(c, o->items, o->item_cnt))
        return -1;
    int64_t sum = 0;
    for (size_t i = 0; i < o->item_cnt; i++) {
        const rill_order_item_t *it = &o->items[i];
        long li = (long)i;
        if (str_ok(c, "product_id", li, it->product_id, NON_EMPTY) ||
            str_ok(c, "category", li, it->category, MAY_BE_EMPTY) ||
            qty_ok(c, "quantity", li, it->quantity))
            return -1;
        if (it->unit_price_e4 < 0)
            return bad(c, "field 'unit_price_e4' of items[%ld] must be >= 0, not %lld", li,
                       (long long)it->unit_price_e4);
        if (it->unit_price_e4 > INT64_MAX / it->quantity)
            return bad(c, "quantity * unit_price_e4 of items[%ld] overflows int64", li);
        int64_t line = it->quantity * it->unit_price_e4;
        if (line > INT64_MAX - sum)
            return bad(c, "sum of the items overflows int64 at items[%ld]", li);
        sum += line;
    }
    if (o->total_e4 != sum)
        return bad(c, "field 'total_e4' is %lld, but the items sum to %lld",
                   (long long)o->total_e4, (long long)sum);
    if (currency_ok(c, o->currency))
        return -1;
    if (o->status != RILL_STATUS_OPEN)
        return bad(c, "field 'status' must be %d, not %d", RILL_STATUS_OPEN, (int)o->status);
    return time_ok(c, o->event_time);
}

static int payment_ok(struct chk *c, const rill_payment_result_t *p)
{
    if (ids_ok(c, p->order_id, p->location_id, p->correlation_id) ||
        customer_ok(c, p->customer_id) ||
        flag_ok(c, "approved", p->approved))
        return -1;
    int32_t want = p->approved ? RILL_STATUS_PAID : RILL_STATUS_PAYMENT_REJECTED;
    if (p->status != want)
        return bad(c, "field 'status' must be %d when %s, not %d", (int)want,
                   p->approved ? "approved" : "rejected", (int)p->status);
    if (p->amount_e4 < 0)
        return bad(c, "field 'amount_e4' must be >= 0, not %lld", (long long)p->amount_e4);
    if (currency_ok(c, p->currency))
        return -1;
    if (p->approved && p->reason)
        return bad(c, "field 'reason' must be null when approved");
    if (p->reason && str_ok(c, "reason", -1, p->reason, MAY_BE_EMPTY))
        return -1;
    return time_ok(c, p->event_time);
}

static int inventory_ok(struct chk *c, const rill_inventory_result_t *r)
{
    if (ids_ok(c, r->order_id, r->location_id, r->correlation_id) ||
        customer_ok(c, r->customer_id) ||
        flag_ok(c, "reserved", r->reserved))
        return -1;
    int32_t want = r->reserved ? RILL_STATUS_RESERVED : RILL_STATUS_OUT_OF_STOCK;
    if (r->status != want)
        return bad(c, "field 'status' must be %d when %s, not %d", (int)want,
                   r->reserved ? "reserved" : "not reserved", (int)r->status);
    if (items_ok(c, r->items, r->item_cnt))
        return -1;
    for (size_t i = 0; i < r->item_cnt; i++) {
        const rill_item_reservation_t *it = &r->items[i];
        long li = (long)i;
        if (str_ok(c, "product_id", li, it->product_id, NON_EMPTY) ||
            qty_ok(c, "requested", li, it->requested))
            return -1;
        int32_t got = r->reserved ? it->requested : 0;
        if (it->reserved != got)
            return bad(c, "field 'reserved' of items[%ld] must be %d when the order is %s, not %d",
                       li, (int)got, r->reserved ? "reserved" : "not reserved",
                       (int)it->reserved);
        if (it->available < 0)
            return bad(c, "field 'available' of items[%ld] must be >= 0, not %lld", li,
                       (long long)it->available);
    }
    return time_ok(c, r->event_time);
}

static int qty_items_ok(struct chk *c, const rill_item_qty_t *items, size_t cnt)
{
    if (items_ok(c, items, cnt))
        return -1;
    for (size_t i = 0; i < cnt; i++)
        if (str_ok(c, "product_id", (long)i, items[i].product_id, NON_EMPTY) ||
            qty_ok(c, "quantity", (long)i, items[i].quantity))
            return -1;
    return 0;
}

static int shipped_ok(struct chk *c, const rill_order_shipped_t *s)
{
    if (ids_ok(c, s->order_id, s->location_id, s->correlation_id) ||
        customer_ok(c, s->customer_id) ||
        qty_items_ok(c, s->items, s->item_cnt))
        return -1;
    if (s->total_e4 < 0)
        return bad(c, "field 'total_e4' must be >= 0, not %lld", (long long)s->total_e4);
    if (currency_ok(c, s->currency))
        return -1;
    if (s->status != RILL_STATUS_SHIPPED)
        return bad(c, "field 'status' must be %d, not %d", RILL_STATUS_SHIPPED, (int)s->status);
    return time_ok(c, s->event_time);
}

static int status_known(int32_t s)
{
    switch (s) {
    case RILL_STATUS_OPEN:
    case RILL_STATUS_PAID:
    case RILL_STATUS_PAYMENT_REJECTED:
    case RILL_STATUS_RESERVED:
    case RILL_STATUS_OUT_OF_STOCK:
    case RILL_STATUS_SHIPPED:
    case RILL_STATUS_CANCELLED: return 1;
    default: return 0;
    }
}

static int status_ok(struct chk *c, const rill_order_status_t *s)
{
    if (ids_ok(c, s->order_id, s->location_id, s->correlation_id) || customer_ok(c, s->customer_id))
        return -1;
    if (!status_known(s->old_status))
        return bad(c, "field 'old_status' is %d, not a status code", (int)s->old_status);
    if (s->new_status == RILL_STATUS_OPEN || !status_known(s->new_status))
        return bad(c, "field 'new_status' is %d, not a status an order can change to",
                   (int)s->new_status);
    if (str_ok(c, "reason", -1, s->reason, NON_EMPTY))
        return -1;
    return time_ok(c, s->event_time);
}

static int release_ok(struct chk *c, const rill_stock_release_t *r)
{
    if (ids_ok(c, r->order_id, r->location_id, r->correlation_id) ||
        qty_items_ok(c, r->items, r->item_cnt) || str_ok(c, "reason", -1, r->reason, NON_EMPTY))
        return -1;
    return time_ok(c, r->event_time);
}

static int notification_ok(struct chk *c, const rill_notification_t *n)
{
    static const char *const channels[] = { "email", "sms", "push", NULL };
    static const struct {
        const char *kind;
        int32_t status;
    } kinds[] = {
        { "payment_rejected", RILL_STATUS_PAYMENT_REJECTED },
        { "out_of_stock", RILL_STATUS_OUT_OF_STOCK },
        { "order_shipped", RILL_STATUS_SHIPPED },
        { "order_cancelled", RILL_STATUS_CANCELLED },
    };
    if (ids_ok(c, n->order_id, n->location_id, n->correlation_id) ||
        customer_ok(c, n->customer_id) ||
        str_ok(c, "notification_id", -1, n->notification_id, NON_EMPTY) ||
        str_ok(c, "channel", -1, n->channel, NON_EMPTY) ||
        str_ok(c, "kind", -1, n->kind, NON_EMPTY) ||
        str_ok(c, "message", -1, n->message, MAY_BE_EMPTY))
        return -1;
    if (!one_of(n->channel, channels))
        return bad(c, "field 'channel' must be email, sms or push");
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(n->kind, kinds[k].kind))
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return bad(c, "field 'kind' must be payment_rejected, out_of_stock, order_shipped or "
                      "order_cancelled");
    if (n->status != kinds[k].status)
        return bad(c, "field 'status' must be %d for kind '%s', not %d", (int)kinds[k].status,
                   kinds[k].kind, (int)n->status);
    size_t on = strlen(n->order_id);
    if (strncmp(n->notification_id, n->order_id, on) || n->notification_id[on] != ':' ||
        strcmp(n->notification_id + on + 1, n->kind))
        return bad(c, "field 'notification_id' must be order_id:kind");
    return time_ok(c, n->event_time);
}

rill_err_t rill_serde_check(const rill_event_t *ev, char *errstr, size_t errsz)
{
    struct chk c = { errstr, errsz };
    int rc;
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED: rc = order_ok(&c, &ev->u.order); break;
    case RILL_EVENT_PAYMENT_RESULT: rc = payment_ok(&c, &ev->u.payment); break;
    case RILL_EVENT_INVENTORY_RESULT: rc = inventory_ok(&c, &ev->u.inventory); break;
    case RILL_EVENT_ORDER_SHIPPED: rc = shipped_ok(&c, &ev->u.shipped); break;
    case RILL_EVENT_ORDER_STATUS: rc = status_ok(&c, &ev->u.status); break;
    case RILL_EVENT_STOCK_RELEASE: rc = release_ok(&c, &ev->u.release); break;
    case RILL_EVENT_NOTIFICATION: rc = notification_ok(&c, &ev->u.notification); break;
    default: rc = bad(&c, "unknown event type %d", (int)ev->type);
    }
    return rc ? RILL_ERR_INVALID : RILL_OK;
}
