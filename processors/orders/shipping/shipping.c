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
 * DLQ.
 *
 * Expiry (`timeout.ms` > 0): a result whose partner has not come within
 * timeout.ms of wall-clock time (rill_ctx_wall_clock_ms(), checked every
 * `timeout.check.ms`) cancels its order with reason `timeout` (and, when it
 * is a reservation that took stock, releases that stock); the order is then
 * remembered for `late.retention.ms`, so that a partner arriving after all
 * is not joined again: a late reservation that took stock is released, any
 * other late result goes to the DLQ (class late). With timeout.ms 0 (the
 * default) a result waits for its partner forever.
 *
 * The store (key -> value; BE64 is an 8-byte big-endian integer):
 *   <order id>                       -> 0x01 BE64(arrival ms) <result bytes>
 *                                       (before expiry existed: the bytes alone)
 *   0x01 BE64(arrival) <order id>    -> "w"   waiting, ordered by arrival
 *   0x02 <order id>                  -> BE64(timed out at)
 *   0x03 BE64(timed out at) <id>     -> "m"   timed out, ordered by time
 * The index keys are written only while timeout.ms > 0. Every write goes
 * through the store's changelog like any other, so expiry is exactly-once:
 * the cancellation, the release and the store changes commit together.
 */
#include "processors/orders/orders.h"
#include "state/store.h"
#include "topology/base/bytes.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shipping_conf {
    char *shipped_output, *status_output, *release_output;
    int64_t timeout_ms, check_ms, retention_ms;
};

static const struct rill_conf_def shipping_conf_def[] = {
    { "shipped_output", RILL_CONF_STR, "", offsetof(struct shipping_conf, shipped_output),
      "output of order_shipped events (default: order_shipped or *.order_shipped)", NULL, NULL },
    { "status_output", RILL_CONF_STR, "", offsetof(struct shipping_conf, status_output),
      "output of the order_status cancellations (default: order_status or *.order_status)", NULL, NULL },
    { "release_output", RILL_CONF_STR, "", offsetof(struct shipping_conf, release_output),
      "output of stock_release events (default: stock_release or *.stock_release)", NULL, NULL },
    { "timeout.ms", RILL_CONF_INT, "0", offsetof(struct shipping_conf, timeout_ms),
      "wall-clock ms a result waits for its partner before the order is cancelled with reason "
      "timeout (0: forever)", "0", NULL },
    { "timeout.check.ms", RILL_CONF_INT, "1000", offsetof(struct shipping_conf, check_ms),
      "how often waiting results are checked against timeout.ms", "10", "3600000" },
    { "late.retention.ms", RILL_CONF_INT, "86400000", offsetof(struct shipping_conf, retention_ms),
      "how long a timed-out order is remembered, so that a late partner is not joined", "1",
      NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

#define W_MARK 0x01  /* first byte of a waiting value with its arrival time */
#define IX_WAIT 0x01 /* index of waiting results by arrival */
#define IX_DONE 0x02 /* a timed-out order */
#define IX_DONE_AT 0x03 /* index of timed-out orders by time */
#define ID_MAX 200   /* longest order id that can wait with a deadline */
#define EXPIRE_BATCH 256

struct shipping {
    struct rill_orders o;
    rill_store_t *store;
    const char *shipped_out, *status_out, *release_out;
    int64_t timeout_ms, retention_ms;
    rill_event_t other; /* the waiting half, decoded */
    unsigned char (*keys)[9 + ID_MAX]; /* EXPIRE_BATCH index keys, while expiring */
    size_t *lens;
};


/* tag BE64(t) id: an index key, its length. */
static size_t ix_key(unsigned char *k, int tag, int64_t t, const char *id, size_t idlen)
{
    k[0] = (unsigned char)tag;
    rill_put_be64(k + 1, t);
    memcpy(k + 9, id, idlen);
    return 9 + idlen;
}

static void shipping_close(void *state)
{
    struct shipping *s = state;
    rill_event_clear(&s->other);
    rill_orders_fini(&s->o);
    free(s->keys);
    free(s->lens);
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
    s->timeout_ms = c->timeout_ms;
    s->retention_ms = c->retention_ms;
    if (c->timeout_ms > 0) {
        s->keys = malloc(EXPIRE_BATCH * sizeof *s->keys);
        s->lens = malloc(EXPIRE_BATCH * sizeof *s->lens);
        if (!s->keys || !s->lens) {
            shipping_close(s);
            return RILL_ERR_NOMEM;
        }
        if ((err = rill_ctx_schedule(ctx, RILL_PUNCTUATE_WALL_CLOCK, c->check_ms)) != RILL_OK) {
            shipping_close(s);
            return rill_errf(errstr, errsz, err,
                             "processor '%s': cannot schedule the timeout check",
                             rill_ctx_name(ctx));
        }
    }
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

/* One order_status cancellation of the order a result is about. */
static rill_proc_result_t cancel(rill_ctx_t *ctx, struct shipping *s, const char *order_id,
                                 const char *customer_id, const char *location_id,
                                 int32_t old_status, const char *why, int64_t t,
                                 const char *correlation_id)
{
    rill_event_t st = { .type = RILL_EVENT_ORDER_STATUS };
    st.u.status = (rill_order_status_t){
        .order_id = order_id,
        .customer_id = customer_id,
        .location_id = location_id,
        .old_status = old_status,
        .new_status = RILL_STATUS_CANCELLED,
        .reason = why,
        .event_time = t,
        .correlation_id = correlation_id,
    };
    return rill_orders_emit(ctx, &s->o, s->status_out, &st);
}

/* One stock_release of what a reservation took (nothing when it took none). */
static rill_proc_result_t release(rill_ctx_t *ctx, struct shipping *s,
                                  const rill_inventory_result_t *inv, const char *why, int64_t t)
{
    if (!inv->reserved)
        return RILL_PROC_OK;
    size_t n;
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
    rill_proc_result_t r = rill_orders_emit(ctx, &s->o, s->release_out, &rel);
    free(items);
    return r;
}

static rill_proc_result_t ship(rill_ctx_t *ctx, struct shipping *s,
                               const rill_payment_result_t *pay,
                               const rill_inventory_result_t *inv)
{
    int64_t t = pay->event_time > inv->event_time ? pay->event_time : inv->event_time;
    if (pay->approved && inv->reserved) {
        size_t n;
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
        rill_proc_result_t r = rill_orders_emit(ctx, &s->o, s->shipped_out, &out);
        free(items);
        return r;
    }
    const char *why = !pay->approved && !inv->reserved ? "payment_rejected+out_of_stock"
                      : !pay->approved                 ? "payment_rejected"
                                                       : "out_of_stock";
    rill_proc_result_t r = cancel(ctx, s, pay->order_id, pay->customer_id, pay->location_id,
                                  pay->approved ? inv->status : pay->status, why, t,
                                  pay->correlation_id);
    return r != RILL_PROC_OK ? r : release(ctx, s, inv, why, t);
}

/* A waiting value: the result's bytes, and its arrival time (INT64_MIN for
 * an entry written before expiry existed). */
static void waiting_bytes(const unsigned char *v, size_t len, const void **bytes, size_t *blen,
                          int64_t *arrival)
{
    if (len >= 9 && v[0] == W_MARK) {
        *arrival = rill_get_be64(v + 1);
        *bytes = v + 9;
        *blen = len - 9;
    } else {
        *arrival = INT64_MIN;
        *bytes = v;
        *blen = len;
    }
}

/* The first result of an order: it waits, with its index entry when results
 * expire. */
static rill_proc_result_t wait_for_partner(rill_ctx_t *ctx, struct shipping *s,
                                           const char *order_id, const rill_record_t *rec)
{
    size_t idlen = strlen(order_id);
    int64_t now = rill_ctx_wall_clock_ms(ctx);
    unsigned char *v = malloc(rec->value_len + 9);
    if (!v)
        return RILL_PROC_RETRY;
    v[0] = W_MARK;
    rill_put_be64(v + 1, now);
    memcpy(v + 9, rec->value, rec->value_len);
    rill_err_t err = rill_store_put(s->store, order_id, idlen, v, rec->value_len + 9);
    free(v);
    if (err == RILL_OK && s->timeout_ms > 0) {
        unsigned char k[9 + ID_MAX];
        err = rill_store_put(s->store, k, ix_key(k, IX_WAIT, now, order_id, idlen), "w", 1);
    }
    return err == RILL_OK ? RILL_PROC_OK : RILL_PROC_RETRY;
}

/* A result of an order that timed out before it came (`at` is when). */
static rill_proc_result_t late_partner(rill_ctx_t *ctx, struct shipping *s, const char *order_id,
                                       int64_t at)
{
    const rill_event_t *ev = &s->o.ev;
    if (ev->type == RILL_EVENT_INVENTORY_RESULT && ev->u.inventory.reserved) {
        /* the order is cancelled already: give the stock back, and forget it */
        rill_proc_result_t r = release(ctx, s, &ev->u.inventory, "timeout",
                                       ev->u.inventory.event_time);
        if (r != RILL_PROC_OK)
            return r;
        size_t idlen = strlen(order_id);
        unsigned char k[9 + ID_MAX];
        k[0] = IX_DONE;
        memcpy(k + 1, order_id, idlen);
        if (rill_store_delete(s->store, k, 1 + idlen) != RILL_OK ||
            rill_store_delete(s->store, k, ix_key(k, IX_DONE_AT, at, order_id, idlen)) != RILL_OK)
            return RILL_PROC_RETRY;
        return RILL_PROC_OK;
    }
    rill_ctx_reject_as(ctx, RILL_REJECT_LATE, "%s for order '%s' came after the order timed out",
                       rill_event_type_name(ev->type), order_id);
    return RILL_PROC_REJECT;
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
    size_t idlen = strlen(order_id);
    if (s->timeout_ms > 0 && (idlen == 0 || idlen > ID_MAX || (unsigned char)order_id[0] <= 0x03)) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "order id of %zu bytes cannot wait with a "
                           "timeout (1 to %d bytes, not starting with a control byte)",
                           idlen, ID_MAX);
        return RILL_PROC_REJECT;
    }
    void *waiting;
    size_t wlen;
    rill_err_t err = rill_store_get(s->store, order_id, idlen, &waiting, &wlen);
    if (err == RILL_ERR_NOTFOUND) {
        if (s->timeout_ms > 0) {
            unsigned char k[1 + ID_MAX];
            int64_t at;
            k[0] = IX_DONE;
            memcpy(k + 1, order_id, idlen);
            err = rill_store_get_i64(s->store, k, 1 + idlen, &at);
            if (err == RILL_OK)
                return late_partner(ctx, s, order_id, at);
            if (err != RILL_ERR_NOTFOUND)
                return RILL_PROC_RETRY;
        }
        return wait_for_partner(ctx, s, order_id, rec);
    }
    if (err != RILL_OK)
        return RILL_PROC_RETRY;
    char msg[256];
    const void *bytes;
    size_t blen;
    int64_t arrival;
    waiting_bytes(waiting, wlen, &bytes, &blen, &arrival);
    rill_event_clear(&s->other);
    err = rill_serde_decode(s->o.serde, NULL, 0, bytes, blen, &s->other, msg, sizeof msg);
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
    if (rill_store_delete(s->store, order_id, idlen) != RILL_OK)
        return RILL_PROC_RETRY;
    if (arrival != INT64_MIN && s->timeout_ms > 0) {
        unsigned char k[9 + ID_MAX];
        if (rill_store_delete(s->store, k, ix_key(k, IX_WAIT, arrival, order_id, idlen)) != RILL_OK)
            return RILL_PROC_RETRY;
    }
    if (ev->type == RILL_EVENT_PAYMENT_RESULT)
        return ship(ctx, s, &ev->u.payment, &s->other.u.inventory);
    return ship(ctx, s, &s->other.u.payment, &ev->u.inventory);
}

/* The entries of one index older than before (at most EXPIRE_BATCH): their
 * keys, copied, in keys[0..*n). Returns -1 when out of memory. */
static int expired(rill_store_t *store, int tag, int64_t before, unsigned char (*keys)[9 + ID_MAX],
                   size_t *lens, size_t *n)
{
    unsigned char lo[1] = { (unsigned char)tag }, hi[9];
    hi[0] = (unsigned char)tag;
    rill_put_be64(hi + 1, before);
    *n = 0;
    if (before <= 0) /* times are ms since the epoch: nothing is that old */
        return 0;
    rill_store_iter_t *it = rill_store_range(store, lo, 1, hi, 9);
    if (!it)
        return -1;
    const void *k, *v;
    size_t klen, vlen;
    while (*n < EXPIRE_BATCH && rill_store_iter_next(it, &k, &klen, &v, &vlen)) {
        if (klen < 10 || klen > 9 + ID_MAX)
            continue;
        memcpy(keys[*n], k, klen);
        lens[(*n)++] = klen;
    }
    rill_store_iter_free(it);
    return 0;
}

/* Cancels the order of one waiting result whose time is up. */
static rill_proc_result_t time_out(rill_ctx_t *ctx, struct shipping *s, const unsigned char *ix,
                                   size_t ixlen, int64_t now)
{
    const char *id = (const char *)ix + 9;
    size_t idlen = ixlen - 9;
    char oid[ID_MAX + 1];
    memcpy(oid, id, idlen);
    oid[idlen] = '\0';
    void *waiting;
    size_t wlen;
    rill_err_t err = rill_store_get(s->store, oid, idlen, &waiting, &wlen);
    if (err == RILL_OK) {
        const void *bytes;
        size_t blen;
        int64_t arrival;
        char msg[256];
        waiting_bytes(waiting, wlen, &bytes, &blen, &arrival);
        rill_event_clear(&s->other);
        err = rill_serde_decode(s->o.serde, NULL, 0, bytes, blen, &s->other, msg, sizeof msg);
        free(waiting);
        rill_proc_result_t r = RILL_PROC_OK;
        if (err != RILL_OK) {
            rill_ctx_log(ctx, RILL_CTX_LOG_WARN, "dropping a timed-out result that does not "
                         "decode|order_id=%s error=\"%s\"", oid, msg);
        } else if (s->other.type == RILL_EVENT_PAYMENT_RESULT) {
            const rill_payment_result_t *p = &s->other.u.payment;
            r = cancel(ctx, s, p->order_id, p->customer_id, p->location_id, p->status, "timeout",
                       p->event_time, p->correlation_id);
        } else {
            const rill_inventory_result_t *i = &s->other.u.inventory;
            r = cancel(ctx, s, i->order_id, i->customer_id, i->location_id, i->status, "timeout",
                       i->event_time, i->correlation_id);
            if (r == RILL_PROC_OK)
                r = release(ctx, s, i, "timeout", i->event_time);
        }
        if (r != RILL_PROC_OK)
            return r;
        unsigned char k[9 + ID_MAX];
        k[0] = IX_DONE;
        memcpy(k + 1, oid, idlen);
        if (rill_store_delete(s->store, oid, idlen) != RILL_OK ||
            rill_store_put_i64(s->store, k, 1 + idlen, now) != RILL_OK ||
            rill_store_put(s->store, k, ix_key(k, IX_DONE_AT, now, oid, idlen), "m", 1) != RILL_OK)
            return RILL_PROC_RETRY;
    } else if (err != RILL_ERR_NOTFOUND) {
        return RILL_PROC_RETRY;
    }
    return rill_store_delete(s->store, ix, ixlen) == RILL_OK ? RILL_PROC_OK : RILL_PROC_RETRY;
}

/* Every check: cancels what waited too long, forgets what timed out long
 * ago; a batch at a time, so that one punctuation stays short. */
static rill_proc_result_t shipping_punctuate(rill_ctx_t *ctx, void *state,
                                             rill_punctuate_type_t type, int64_t now_ms)
{
    (void)type;
    (void)now_ms; /* may be monotonic: deadlines are on the wall clock */
    struct shipping *s = state;
    int64_t now = rill_ctx_wall_clock_ms(ctx);
    unsigned char (*keys)[9 + ID_MAX] = s->keys;
    size_t *lens = s->lens, n;
    if (expired(s->store, IX_WAIT, now - s->timeout_ms, keys, lens, &n))
        return RILL_PROC_RETRY;
    for (size_t i = 0; i < n; i++) {
        rill_proc_result_t r = time_out(ctx, s, keys[i], lens[i], now);
        if (r != RILL_PROC_OK)
            return r;
    }
    if (expired(s->store, IX_DONE_AT, now - s->retention_ms, keys, lens, &n))
        return RILL_PROC_RETRY;
    for (size_t i = 0; i < n; i++) {
        unsigned char k[1 + ID_MAX];
        k[0] = IX_DONE;
        memcpy(k + 1, keys[i] + 9, lens[i] - 9);
        if (rill_store_delete(s->store, k, 1 + lens[i] - 9) != RILL_OK ||
            rill_store_delete(s->store, keys[i], lens[i]) != RILL_OK)
            return RILL_PROC_RETRY;
    }
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_shipping = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "shipping",
    .doc = "joins payment and inventory results per order: ships, or cancels and releases stock",
    .conf = shipping_conf_def,
    .conf_size = sizeof(struct shipping_conf),
    .init = shipping_init,
    .process = shipping_process,
    .punctuate = shipping_punctuate,
    .close = shipping_close,
};
