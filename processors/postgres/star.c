/*
 * star.c - the postgres_star sink: the star schema of
 * schemas/sql/0002_star.sql. It reads order_placed (the order's lines, with
 * product, category, quantity and unit price), order_shipped (the order
 * shipped: its lines become facts, dated by the shipment's event time) and
 * order_status (a cancellation, 1900: its lines are dropped). The two sides
 * of an order arrive on different topics in either order, so each waits in
 * a table of its own (rill_star_lines, rill_star_outcome) until the other is
 * in; then, in the same transaction, the shipped order's lines become
 * fact_sales rows (natural key order id and line: a replay inserts nothing)
 * and both parked sides go.
 *
 * The dimensions (dim_customer, dim_product, dim_store) are upserted before
 * the facts, each batch's new members sorted by natural key, so two writers
 * of the same members take their locks in one order and cannot deadlock. A
 * product first seen on a shipment (which carries no category) becomes an
 * inferred member (category '', is_inferred), filled in when an order line
 * brings its category. Members known to exist are cached in memory, natural
 * key to surrogate key, so that their upserts are skipped; the cache learns
 * only after its transaction commits (a rolled-back member is never cached)
 * and is dropped when it reaches STAR_CACHE_MAX entries.
 */
#include "processors/postgres/decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Members cached per dimension at most; the cache is emptied past it. */
#define STAR_CACHE_MAX 65536

static const char *const inputs_doc[] = { "order_placed", "order_shipped", "order_status", NULL };

enum dim { DIM_CUSTOMER, DIM_PRODUCT, DIM_STORE, DIM__COUNT };

/* An open-addressing set of natural keys with their surrogate keys. */
struct cache_entry {
    char *key;               /* NULL: empty slot */
    int64_t surrogate;
    int inferred;
};

struct cache {
    struct cache_entry *v;
    size_t cap, n;           /* cap: a power of two, at least 2 * STAR_CACHE_MAX */
};

struct star {
    rill_serde_t *serde;
    rill_event_t ev;
    struct cache dims[DIM__COUNT];
    /* what this transaction's lookups returned, cached at commit */
    struct cache pending[DIM__COUNT];
};

/* ---- the cache ----------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static struct cache_entry *cache_slot(struct cache *c, const char *key)
{
    if (!c->v)
        return NULL;
    for (size_t i = hash_str(key) & (c->cap - 1);; i = (i + 1) & (c->cap - 1))
        if (!c->v[i].key || !strcmp(c->v[i].key, key))
            return &c->v[i];
}

static const struct cache_entry *cache_get(struct cache *c, const char *key)
{
    struct cache_entry *e = cache_slot(c, key);
    return e && e->key ? e : NULL;
}

static void cache_clear(struct cache *c)
{
    for (size_t i = 0; c->v && i < c->cap; i++) {
        free(c->v[i].key);
        c->v[i].key = NULL;
    }
    c->n = 0;
}

static void cache_free(struct cache *c)
{
    cache_clear(c);
    free(c->v);
    c->v = NULL;
}

/* Adds or updates key; a failed allocation only means a cache miss later. */
static void cache_put(struct cache *c, const char *key, int64_t surrogate, int inferred)
{
    if (!c->v) {
        c->cap = 2 * STAR_CACHE_MAX;
        if (!(c->v = calloc(c->cap, sizeof *c->v)))
            return;
    }
    struct cache_entry *e = cache_slot(c, key);
    if (!e->key) {
        if (c->n >= STAR_CACHE_MAX) {
            cache_clear(c);
            e = cache_slot(c, key);
        }
        if (!(e->key = strdup(key)))
            return;
        c->n++;
    }
    e->surrogate = surrogate;
    e->inferred = inferred;
}

/* ---- statements -------------------------------------------------------------- */

static const char *const SQL_DIM_INSERT[DIM__COUNT] = {
    "INSERT INTO dim_customer (customer_id) SELECT * FROM unnest($1::text[]) "
    "ON CONFLICT (customer_id) DO NOTHING",
    "INSERT INTO dim_product (product_id, category, is_inferred) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[]) "
    "ON CONFLICT (product_id) DO UPDATE SET category = EXCLUDED.category, is_inferred = false "
    "WHERE dim_product.is_inferred AND NOT EXCLUDED.is_inferred",
    "INSERT INTO dim_store (location_id) SELECT * FROM unnest($1::text[]) "
    "ON CONFLICT (location_id) DO NOTHING",
};

static const char *const SQL_DIM_SELECT[DIM__COUNT] = {
    "SELECT customer_id, customer_key, false FROM dim_customer "
    "WHERE customer_id = ANY($1::text[])",
    "SELECT product_id, product_key, is_inferred FROM dim_product "
    "WHERE product_id = ANY($1::text[])",
    "SELECT location_id, store_key, false FROM dim_store WHERE location_id = ANY($1::text[])",
};

/* An order's lines, unless its facts are in already (a replay). */
static const char SQL_LINES[] =
    "INSERT INTO rill_star_lines (order_id, line, customer_id, location_id, product_id, "
    "quantity, unit_price, currency) "
    "SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::int[], "
    "$7::numeric[], $8::text[]) AS u (order_id, line, customer_id, location_id, product_id, "
    "quantity, unit_price, currency) "
    "WHERE NOT EXISTS (SELECT 1 FROM fact_sales f WHERE f.order_id = u.order_id) "
    "ON CONFLICT (order_id, line) DO NOTHING";

static const char SQL_OUTCOME[] =
    "INSERT INTO rill_star_outcome (order_id, shipped, at) "
    "SELECT * FROM unnest($1::text[], $2::boolean[], $3::timestamptz[]) AS u (order_id, "
    "shipped, at) "
    "WHERE NOT EXISTS (SELECT 1 FROM fact_sales f WHERE f.order_id = u.order_id) "
    "ON CONFLICT (order_id) DO NOTHING";

/* The touched orders that have both sides: facts for the shipped ones, and
 * both sides gone. The dimensions are left-joined: a member that is missing
 * (it never should be) makes a NULL key, which fact_sales refuses, so the
 * record goes to the dead-letter table instead of its lines vanishing. */
static const char SQL_FACTS[] =
    "WITH done AS (SELECT o.order_id, o.shipped, o.at FROM rill_star_outcome o "
    "WHERE o.order_id = ANY($1::text[]) "
    "AND EXISTS (SELECT 1 FROM rill_star_lines l WHERE l.order_id = o.order_id)), "
    "f AS (INSERT INTO fact_sales (order_id, line, date_key, customer_key, product_key, "
    "store_key, quantity, unit_price, revenue, currency) "
    "SELECT l.order_id, l.line, to_char(d.at AT TIME ZONE 'UTC', 'YYYYMMDD')::int, "
    "c.customer_key, p.product_key, s.store_key, l.quantity, l.unit_price, "
    "l.quantity * l.unit_price, l.currency "
    "FROM done d JOIN rill_star_lines l ON l.order_id = d.order_id "
    "LEFT JOIN dim_customer c ON c.customer_id = l.customer_id "
    "LEFT JOIN dim_product p ON p.product_id = l.product_id "
    "LEFT JOIN dim_store s ON s.location_id = l.location_id "
    "WHERE d.shipped ORDER BY l.order_id, l.line "
    "ON CONFLICT (order_id, line) DO NOTHING), "
    "gone AS (DELETE FROM rill_star_lines l USING done d WHERE l.order_id = d.order_id) "
    "DELETE FROM rill_star_outcome o USING done d WHERE o.order_id = d.order_id";

/* ---- the sink ------------------------------------------------------------------ */

static rill_err_t star_init(void **state, const void *conf, char *errstr, size_t errsz)
{
    (void)conf;
    struct star *s = calloc(1, sizeof *s);
    if (!s)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t err = rill_serde_new(&s->serde, errstr, errsz);
    if (err != RILL_OK) {
        free(s);
        return err;
    }
    *state = s;
    return RILL_OK;
}

static void star_fini(void *state)
{
    struct star *s = state;
    rill_event_clear(&s->ev);
    for (int d = 0; d < DIM__COUNT; d++) {
        cache_free(&s->dims[d]);
        cache_free(&s->pending[d]);
    }
    rill_serde_destroy(s->serde);
    free(s);
}

static void star_end(void *state, int committed)
{
    struct star *s = state;
    for (int d = 0; d < DIM__COUNT; d++) {
        struct cache *p = &s->pending[d];
        for (size_t i = 0; committed && p->v && i < p->cap; i++)
            if (p->v[i].key)
                cache_put(&s->dims[d], p->v[i].key, p->v[i].surrogate, p->v[i].inferred);
        cache_clear(p);
    }
}

struct lookup {
    struct star *s;
    enum dim d;
};

/* A row of a dimension lookup: natural key, surrogate key, is_inferred. */
static void looked_up(void *opaque, int ncols, const char *const *vals)
{
    struct lookup *l = opaque;
    if (ncols == 3 && vals[0] && vals[1])
        cache_put(&l->s->pending[l->d], vals[0], strtoll(vals[1], NULL, 10),
                  vals[2] && vals[2][0] == 't');
}

struct rows {
    rill_sink_cols_t *dim[DIM__COUNT];
    rill_sink_cols_t *inferred;   /* products seen on shipments only */
    rill_sink_cols_t *lines, *outcome, *touched;
};

/* A member of dimension d for the upsert, unless the cache knows it (a
 * cached inferred product is upserted again when its category comes). d ==
 * DIM__COUNT: a product without its category, an inferred member. */
static rill_err_t add_member(struct star *s, struct rows *r, enum dim d, const char *key,
                             const char *category)
{
    int inferred = d == DIM__COUNT;
    if (inferred)
        d = DIM_PRODUCT;
    const struct cache_entry *e = cache_get(&s->dims[d], key);
    if (e && !(d == DIM_PRODUCT && e->inferred && !inferred))
        return RILL_OK;
    if (d != DIM_PRODUCT) {
        const char *row[1] = { key };
        return rill_sink_row(r->dim[d], row);
    }
    const char *row[3] = { key, inferred ? "" : category, inferred ? "true" : "false" };
    return rill_sink_row(inferred ? r->inferred : r->dim[d], row);
}

static rill_err_t add_touched(struct rows *r, const char *order_id)
{
    const char *row[1] = { order_id };
    return rill_sink_row(r->touched, row);
}

static rill_err_t add_placed(struct star *s, struct rows *r, const rill_order_placed_t *o)
{
    rill_err_t err = add_member(s, r, DIM_CUSTOMER, o->customer_id, NULL);
    if (err == RILL_OK)
        err = add_member(s, r, DIM_STORE, o->location_id, NULL);
    for (size_t k = 0; k < o->item_cnt && err == RILL_OK; k++) {
        const rill_order_item_t *it = &o->items[k];
        char line[RILL_SINK_FMT_SIZE], qty[RILL_SINK_FMT_SIZE], price[RILL_SINK_FMT_SIZE];
        const char *row[8] = { o->order_id, rill_sink_fmt_int(line, (int64_t)k + 1),
                               o->customer_id, o->location_id, it->product_id,
                               rill_sink_fmt_int(qty, it->quantity),
                               rill_sink_fmt_e4(price, it->unit_price_e4), o->currency };
        err = add_member(s, r, DIM_PRODUCT, it->product_id, it->category ? it->category : "");
        if (err == RILL_OK)
            err = rill_sink_row(r->lines, row);
    }
    return err == RILL_OK ? add_touched(r, o->order_id) : err;
}

static rill_err_t add_outcome(struct rows *r, const char *order_id, int shipped, int64_t at_ms)
{
    char at[RILL_SINK_FMT_SIZE];
    const char *row[3] = { order_id, shipped ? "true" : "false", rill_sink_fmt_ms(at, at_ms) };
    rill_err_t err = rill_sink_row(r->outcome, row);
    return err == RILL_OK ? add_touched(r, order_id) : err;
}

static rill_err_t add_rows(struct star *s, struct rows *r, rill_sink_tx_t *tx,
                           const struct rill_sink_rec *rec, const rill_event_t *ev)
{
    rill_err_t err = RILL_OK;
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED:
        return add_placed(s, r, &ev->u.order);
    case RILL_EVENT_ORDER_SHIPPED: {
        const rill_order_shipped_t *sh = &ev->u.shipped;
        for (size_t k = 0; k < sh->item_cnt && err == RILL_OK; k++)
            err = add_member(s, r, DIM__COUNT, sh->items[k].product_id, NULL);
        if (err == RILL_OK)
            err = add_member(s, r, DIM_CUSTOMER, sh->customer_id, NULL);
        if (err == RILL_OK)
            err = add_member(s, r, DIM_STORE, sh->location_id, NULL);
        return err == RILL_OK ? add_outcome(r, sh->order_id, 1, sh->event_time) : err;
    }
    case RILL_EVENT_ORDER_STATUS:
        /* only a cancellation decides an order's lines; other changes are
         * not the star schema's */
        return ev->u.status.new_status == RILL_STATUS_CANCELLED
                   ? add_outcome(r, ev->u.status.order_id, 0, ev->u.status.event_time)
                   : RILL_OK;
    default:
        return pg_reject_type(tx, rec, "postgres_star", ev);
    }
}

/* The dimension upserts, then the lookups of their surrogate keys (for the
 * cache). The inferred products go first, so that where a batch also has a
 * product's category, that is the row the dedupe keeps. */
static rill_err_t queue_dimensions(struct star *s, struct rows *r, rill_sink_tx_t *tx,
                                   struct lookup *looks)
{
    rill_sink_cols_t *products = rill_sink_cols_new(tx, 3);
    if (!products || rill_sink_cols_append(products, r->inferred) != RILL_OK ||
        rill_sink_cols_append(products, r->dim[DIM_PRODUCT]) != RILL_OK)
        return RILL_ERR_NOMEM;
    r->dim[DIM_PRODUCT] = products;
    rill_err_t err = RILL_OK;
    for (int d = 0; d < DIM__COUNT && err == RILL_OK; d++) {
        rill_sink_cols_dedupe(r->dim[d], 1);
        err = rill_sink_exec(tx, SQL_DIM_INSERT[d], r->dim[d]);
    }
    for (int d = 0; d < DIM__COUNT && err == RILL_OK; d++) {
        rill_sink_cols_t *keys = rill_sink_cols_new(tx, 1);
        looks[d] = (struct lookup){ s, (enum dim)d };
        err = keys ? rill_sink_cols_project(keys, r->dim[d], 0) : RILL_ERR_NOMEM;
        if (err == RILL_OK)
            err = rill_sink_query(tx, SQL_DIM_SELECT[d], keys, looked_up, &looks[d]);
    }
    return err;
}

static rill_err_t star_write(void *state, rill_sink_tx_t *tx, const struct rill_sink_rec *recs,
                             size_t n, char *errstr, size_t errsz)
{
    struct star *s = state;
    struct rows r = { { rill_sink_cols_new(tx, 1), rill_sink_cols_new(tx, 3),
                        rill_sink_cols_new(tx, 1) },
                      rill_sink_cols_new(tx, 3), rill_sink_cols_new(tx, 8),
                      rill_sink_cols_new(tx, 3), rill_sink_cols_new(tx, 1) };
    if (!r.dim[0] || !r.dim[1] || !r.dim[2] || !r.inferred || !r.lines || !r.outcome ||
        !r.touched)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t err = RILL_OK;
    for (size_t i = 0; i < n && err == RILL_OK; i++) {
        int d = pg_decode(s->serde, tx, &recs[i], &s->ev);
        if (d < 0)
            err = RILL_ERR_NOMEM;
        else if (d > 0)
            err = add_rows(s, &r, tx, &recs[i], &s->ev);
        rill_event_clear(&s->ev);
    }
    /* the lookups' opaque must live until the results are read */
    struct lookup *looks = rill_sink_tx_alloc(tx, DIM__COUNT * sizeof *looks);
    if (err == RILL_OK)
        err = looks ? queue_dimensions(s, &r, tx, looks) : RILL_ERR_NOMEM;
    rill_sink_cols_dedupe(r.lines, 2);
    rill_sink_cols_dedupe(r.outcome, 1);
    rill_sink_cols_dedupe(r.touched, 1);
    if (err == RILL_OK)
        err = rill_sink_exec(tx, SQL_LINES, r.lines);
    if (err == RILL_OK)
        err = rill_sink_exec(tx, SQL_OUTCOME, r.outcome);
    if (err == RILL_OK)
        err = rill_sink_exec(tx, SQL_FACTS, r.touched);
    return err == RILL_OK ? RILL_OK
                          : rill_errf(errstr, errsz, err, "postgres_star: out of memory");
}

const struct rill_sink_def rill_sink_postgres_star = {
    .version = RILL_SINK_VERSION,
    .name = "postgres_star",
    .doc = "the star schema: fact_sales (one row per shipped order line) and its "
           "dimensions dim_customer, dim_product, dim_store (dim_date is pre-built)",
    .inputs_doc = inputs_doc,
    .init = star_init,
    .write = star_write,
    .end = star_end,
    .fini = star_fini,
};
