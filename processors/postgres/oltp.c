/*
 * oltp.c - the postgres_oltp sink: the order tables of
 * schemas/sql/0001_oltp.sql from the order pipeline's events. An
 * order_placed inserts the order (status 1000) and its lines once; every
 * status event (the order's own 1000, payment 1100/1150, inventory
 * 1200/1250, shipment 1300, and whatever order_status carries, 1900 among
 * them) becomes one order_status_history row, keyed by its Kafka
 * coordinates; and an order's current status is the highest code of its
 * history (codes only move forward: schemas/README.md), with updated_at and
 * last_* from that event and paid from its approved payment. A status event
 * that arrives before its order (another topic, read independently) waits
 * in rill_status_pending and moves into the history when the order lands.
 * Every statement is idempotent, so a replayed batch changes nothing.
 *
 * Per batch: four statements, each taking its rows as arrays.
 */
#include "processors/postgres/decode.h"

#include <stdlib.h>
#include <string.h>

static const char *const inputs_doc[] = {
    "order_placed", "payment_result", "inventory_result", "order_shipped", "order_status", NULL,
};

struct oltp {
    rill_serde_t *serde;
    rill_event_t ev;
};

/* A new order, already at its own event (1000, its coordinates, so the
 * status update below writes only the orders whose status moves), and the
 * lines of the orders this statement inserted: an order's lines come with
 * it, so lines need no conflict check of their own. */
static const char SQL_ORDERS[] =
    "WITH ins AS (INSERT INTO orders (order_id, customer_id, location_id, status, total, "
    "currency, created_at, updated_at, last_topic, last_partition, last_offset) "
    "SELECT u.order_id, u.customer_id, u.location_id, 1000, u.total, u.currency, u.at, u.at, "
    "u.topic, u.partition, u.kafka_offset "
    "FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[], "
    "$6::timestamptz[], $7::text[], $8::int[], $9::bigint[]) AS u (order_id, customer_id, "
    "location_id, total, currency, at, topic, partition, kafka_offset) "
    "ON CONFLICT (order_id) DO NOTHING RETURNING order_id) "
    "INSERT INTO order_items (order_id, line, product_id, category, quantity, unit_price) "
    "SELECT i.* FROM unnest($10::text[], $11::int[], $12::text[], $13::text[], $14::int[], "
    "$15::numeric[]) AS i (order_id, line, product_id, category, quantity, unit_price) "
    "WHERE i.order_id IN (SELECT order_id FROM ins)";

/* Events of known orders into the history, the others parked. */
static const char SQL_EVENTS[] =
    "WITH e AS (SELECT * FROM unnest($1::text[], $2::smallint[], $3::text[], $4::numeric[], "
    "$5::timestamptz[], $6::text[], $7::int[], $8::bigint[]) "
    "AS u (order_id, status, reason, amount, at, topic, partition, kafka_offset)), "
    "h AS (INSERT INTO order_status_history (order_id, status, reason, amount, at, topic, "
    "partition, kafka_offset) "
    "SELECT e.* FROM e WHERE EXISTS (SELECT 1 FROM orders o WHERE o.order_id = e.order_id) "
    "ON CONFLICT (topic, partition, kafka_offset) DO NOTHING) "
    "INSERT INTO rill_status_pending (order_id, status, reason, amount, at, topic, partition, "
    "kafka_offset) "
    "SELECT e.* FROM e WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.order_id = e.order_id) "
    "ON CONFLICT (topic, partition, kafka_offset) DO NOTHING";

/* Parked events whose order landed in this batch. */
static const char SQL_UNPARK[] =
    "WITH m AS (DELETE FROM rill_status_pending p WHERE p.order_id = ANY($1::text[]) "
    "AND EXISTS (SELECT 1 FROM orders o WHERE o.order_id = p.order_id) RETURNING p.*) "
    "INSERT INTO order_status_history (order_id, status, reason, amount, at, topic, partition, "
    "kafka_offset) "
    "SELECT order_id, status, reason, amount, at, topic, partition, kafka_offset FROM m "
    "ON CONFLICT (topic, partition, kafka_offset) DO NOTHING";

/* Each touched order to its highest status (ties: the later event); it
 * never moves back, and last_* and updated_at move with the status only. */
static const char SQL_CURRENT[] =
    "UPDATE orders o SET status = greatest(o.status, h.status), "
    "updated_at = CASE WHEN h.status > o.status THEN greatest(o.created_at, h.at) "
    "ELSE o.updated_at END, "
    "last_topic = CASE WHEN h.status > o.status THEN h.topic ELSE o.last_topic END, "
    "last_partition = CASE WHEN h.status > o.status THEN h.partition ELSE o.last_partition END, "
    "last_offset = CASE WHEN h.status > o.status THEN h.kafka_offset ELSE o.last_offset END, "
    "paid = coalesce(h.paid, o.paid) "
    "FROM (SELECT DISTINCT ON (order_id) order_id, status, at, topic, partition, kafka_offset, "
    "max(amount) FILTER (WHERE status = 1100) OVER (PARTITION BY order_id) AS paid "
    "FROM order_status_history WHERE order_id = ANY($1::text[]) "
    "ORDER BY order_id, status DESC, at DESC, topic DESC, partition DESC, kafka_offset DESC) h "
    "WHERE o.order_id = h.order_id AND (h.status > o.status "
    "OR (h.paid IS NOT NULL AND o.paid IS NULL))";

static rill_err_t oltp_init(void **state, const void *conf, char *errstr, size_t errsz)
{
    (void)conf;
    struct oltp *o = calloc(1, sizeof *o);
    if (!o)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t err = rill_serde_new(&o->serde, errstr, errsz);
    if (err != RILL_OK) {
        free(o);
        return err;
    }
    *state = o;
    return RILL_OK;
}

static void oltp_fini(void *state)
{
    struct oltp *o = state;
    rill_event_clear(&o->ev);
    rill_serde_destroy(o->serde);
    free(o);
}

/* The columns of one batch. */
struct rows {
    rill_sink_cols_t *orders, *items, *events, *touched, *placed;
};

/* One status event of rec. */
static rill_err_t add_event(struct rows *r, const struct rill_sink_rec *rec, const char *order_id,
                            int status, const char *reason, const int64_t *amount_e4,
                            int64_t at_ms)
{
    char st[RILL_SINK_FMT_SIZE], amt[RILL_SINK_FMT_SIZE], at[RILL_SINK_FMT_SIZE];
    char part[RILL_SINK_FMT_SIZE], off[RILL_SINK_FMT_SIZE];
    const char *ev[8] = {
        order_id, rill_sink_fmt_int(st, status), reason,
        amount_e4 ? rill_sink_fmt_e4(amt, *amount_e4) : NULL, rill_sink_fmt_ms(at, at_ms),
        rec->topic, rill_sink_fmt_int(part, rec->partition), rill_sink_fmt_int(off, rec->offset),
    };
    const char *touched[1] = { order_id };
    rill_err_t err = rill_sink_row(r->events, ev);
    return err == RILL_OK ? rill_sink_row(r->touched, touched) : err;
}

static rill_err_t add_placed(struct rows *r, const struct rill_sink_rec *rec,
                             const rill_order_placed_t *o)
{
    char total[RILL_SINK_FMT_SIZE], at[RILL_SINK_FMT_SIZE], part[RILL_SINK_FMT_SIZE];
    char off[RILL_SINK_FMT_SIZE];
    const char *row[9] = { o->order_id, o->customer_id, o->location_id,
                           rill_sink_fmt_e4(total, o->total_e4), o->currency,
                           rill_sink_fmt_ms(at, o->event_time), rec->topic,
                           rill_sink_fmt_int(part, rec->partition),
                           rill_sink_fmt_int(off, rec->offset) };
    const char *id[1] = { o->order_id };
    rill_err_t err = rill_sink_row(r->orders, row);
    if (err == RILL_OK)
        err = rill_sink_row(r->placed, id);
    for (size_t k = 0; k < o->item_cnt && err == RILL_OK; k++) {
        const rill_order_item_t *it = &o->items[k];
        char line[RILL_SINK_FMT_SIZE], qty[RILL_SINK_FMT_SIZE], price[RILL_SINK_FMT_SIZE];
        const char *item[6] = { o->order_id, rill_sink_fmt_int(line, (int64_t)k + 1),
                                it->product_id, it->category ? it->category : "",
                                rill_sink_fmt_int(qty, it->quantity),
                                rill_sink_fmt_e4(price, it->unit_price_e4) };
        err = rill_sink_row(r->items, item);
    }
    if (err == RILL_OK)
        err = add_event(r, rec, o->order_id, RILL_STATUS_OPEN, NULL, NULL, o->event_time);
    return err;
}

/* The rows of one decoded event; an event of another kind is rejected. */
static rill_err_t add_rows(struct rows *r, rill_sink_tx_t *tx, const struct rill_sink_rec *rec,
                           const rill_event_t *ev)
{
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED:
        return add_placed(r, rec, &ev->u.order);
    case RILL_EVENT_PAYMENT_RESULT: {
        const rill_payment_result_t *p = &ev->u.payment;
        const char *why = p->approved ? "payment_approved"
                                      : (p->reason && *p->reason ? p->reason : "payment_rejected");
        return add_event(r, rec, p->order_id, p->approved ? RILL_STATUS_PAID
                                                          : RILL_STATUS_PAYMENT_REJECTED,
                         why, p->approved ? &p->amount_e4 : NULL, p->event_time);
    }
    case RILL_EVENT_INVENTORY_RESULT: {
        const rill_inventory_result_t *i = &ev->u.inventory;
        return add_event(r, rec, i->order_id,
                         i->reserved ? RILL_STATUS_RESERVED : RILL_STATUS_OUT_OF_STOCK,
                         i->reserved ? "stock_reserved" : "out_of_stock", NULL, i->event_time);
    }
    case RILL_EVENT_ORDER_SHIPPED:
        return add_event(r, rec, ev->u.shipped.order_id, RILL_STATUS_SHIPPED, "shipped", NULL,
                         ev->u.shipped.event_time);
    case RILL_EVENT_ORDER_STATUS: {
        const rill_order_status_t *s = &ev->u.status;
        return add_event(r, rec, s->order_id, s->new_status, s->reason, NULL, s->event_time);
    }
    default:
        return pg_reject_type(tx, rec, "postgres_oltp", ev);
    }
}

static rill_err_t oltp_write(void *state, rill_sink_tx_t *tx, const struct rill_sink_rec *recs,
                             size_t n, char *errstr, size_t errsz)
{
    struct oltp *o = state;
    struct rows r = {
        rill_sink_cols_new(tx, 9), rill_sink_cols_new(tx, 6), rill_sink_cols_new(tx, 8),
        rill_sink_cols_new(tx, 1), rill_sink_cols_new(tx, 1),
    };
    if (!r.orders || !r.items || !r.events || !r.touched || !r.placed)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t err = RILL_OK;
    for (size_t i = 0; i < n && err == RILL_OK; i++) {
        int d = pg_decode(o->serde, tx, &recs[i], &o->ev);
        if (d < 0)
            err = RILL_ERR_NOMEM;
        else if (d > 0)
            err = add_rows(&r, tx, &recs[i], &o->ev);
        rill_event_clear(&o->ev);
    }
    if (err != RILL_OK)
        return rill_errf(errstr, errsz, err, "postgres_oltp: out of memory");
    /* one row per key, in key order: no statement touches a row twice */
    rill_sink_cols_dedupe(r.orders, 1);
    rill_sink_cols_dedupe(r.items, 2);
    rill_sink_cols_dedupe(r.touched, 1);
    rill_sink_cols_dedupe(r.placed, 1);
    const rill_sink_cols_t *placed[2] = { r.orders, r.items };
    if ((err = rill_sink_exec_sets(tx, SQL_ORDERS, placed, 2)) != RILL_OK ||
        (err = rill_sink_exec(tx, SQL_EVENTS, r.events)) != RILL_OK ||
        (err = rill_sink_exec(tx, SQL_UNPARK, r.placed)) != RILL_OK ||
        (err = rill_sink_exec(tx, SQL_CURRENT, r.touched)) != RILL_OK)
        return rill_errf(errstr, errsz, err, "postgres_oltp: out of memory");
    return RILL_OK;
}

const struct rill_sink_def rill_sink_postgres_oltp = {
    .version = RILL_SINK_VERSION,
    .name = "postgres_oltp",
    .doc = "the order tables: orders with their current status, order_items, "
           "order_status_history",
    .inputs_doc = inputs_doc,
    .init = oltp_init,
    .write = oltp_write,
    .fini = oltp_fini,
};
