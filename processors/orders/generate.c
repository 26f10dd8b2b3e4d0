/*
 * generate.c - the synthetic order source behind `rill generate`
 * (generate.h). Every order n is a pure function of (seed, n): a splitmix64
 * stream seeded from both draws its location, customer, lines (products with
 * a skewed popularity: index = products * u^2, so the first tenth of the
 * catalogue takes about a third of the picks) and quantities. The catalogue
 * (category and price per product) is a pure function of the seed.
 */
#include "processors/orders/generate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_ID 32

static const char *const categories[] = {
    "electronics", "books", "home", "garden", "toys", "sports", "grocery", "beauty",
};
#define NCATEGORIES (sizeof categories / sizeof categories[0])

struct rill_gen {
    struct rill_gen_opts o;
    int64_t *price_e4;     /* per product */
    uint8_t *category;     /* per product */
    rill_order_item_t *items;
    char (*product_ids)[GEN_ID];
    char order_id[GEN_ID], customer_id[GEN_ID], location_id[GEN_ID], correlation_id[GEN_ID];
    int64_t n;
};

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static int64_t pick(uint64_t *s, int64_t n)
{
    return (int64_t)(splitmix(s) % (uint64_t)n);
}

/* Fills unset (zero) options with the defaults of generate.h. */
static void gen_defaults(struct rill_gen_opts *o)
{
    if (!o->locations)
        o->locations = 50;
    if (!o->customers)
        o->customers = 5000;
    if (!o->products)
        o->products = 200;
    if (!o->max_lines)
        o->max_lines = 4;
    if (!o->max_quantity)
        o->max_quantity = 3;
    if (!o->start_ms)
        o->start_ms = INT64_C(1790812800000); /* 2026-10-01T00:00:00Z */
    if (!o->span_ms)
        o->span_ms = INT64_C(28) * 24 * 3600 * 1000;
    if (!o->orders)
        o->orders = 1;
    if (!o->currency)
        o->currency = "EUR";
}

rill_gen_t *rill_gen_new(const struct rill_gen_opts *opts, char *errstr, size_t errsz)
{
    struct rill_gen_opts o = *opts;
    gen_defaults(&o);
    if (o.locations < 1 || o.locations > 999999 || o.customers < 1 || o.customers > 9999999 ||
        o.products < 1 || o.products > 999999 || o.max_lines < 1 ||
        o.max_lines > RILL_SERDE_MAX_ITEMS || o.max_quantity < 1 || o.max_quantity > 1000000 ||
        o.span_ms < 1 || o.orders < 1 || o.start_ms < 0) {
        snprintf(errstr, errsz, "generator options out of range");
        return NULL;
    }
    rill_gen_t *g = calloc(1, sizeof *g);
    if (!g || !(g->price_e4 = calloc((size_t)o.products, sizeof *g->price_e4)) ||
        !(g->category = calloc((size_t)o.products, 1)) ||
        !(g->items = calloc((size_t)o.max_lines, sizeof *g->items)) ||
        !(g->product_ids = calloc((size_t)o.max_lines, sizeof *g->product_ids))) {
        rill_gen_free(g);
        snprintf(errstr, errsz, "out of memory");
        return NULL;
    }
    g->o = o;
    uint64_t s = o.seed ^ 0x636174616c6f67ULL; /* "catalog" */
    for (int i = 0; i < o.products; i++) {
        g->category[i] = (uint8_t)pick(&s, NCATEGORIES);
        g->price_e4[i] = (100 + pick(&s, 49900)) * 100; /* 1.00 .. 499.99 */
    }
    return g;
}

void rill_gen_next(rill_gen_t *g, rill_event_t *ev)
{
    const struct rill_gen_opts *o = &g->o;
    int64_t n = g->n++;
    uint64_t s = o->seed * 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    splitmix(&s);
    snprintf(g->order_id, GEN_ID, "O%" PRIu64 "-%08" PRId64, o->seed, n);
    snprintf(g->location_id, GEN_ID, "L%04" PRId64, 1 + pick(&s, o->locations));
    snprintf(g->customer_id, GEN_ID, "C%06" PRId64, 1 + pick(&s, o->customers));
    snprintf(g->correlation_id, GEN_ID, "%016" PRIx64, splitmix(&s));
    size_t lines = 1 + (size_t)pick(&s, o->max_lines);
    int64_t total = 0;
    for (size_t i = 0; i < lines; i++) {
        double u = (double)(splitmix(&s) >> 11) / 9007199254740992.0; /* [0, 1) */
        int p = (int)(u * u * o->products);
        snprintf(g->product_ids[i], GEN_ID, "P%04d", p + 1);
        g->items[i] = (rill_order_item_t){
            .product_id = g->product_ids[i],
            .category = categories[g->category[p]],
            .quantity = (int32_t)(1 + pick(&s, o->max_quantity)),
            .unit_price_e4 = g->price_e4[p],
        };
        total += g->items[i].quantity * g->items[i].unit_price_e4;
    }
    int64_t step = o->span_ms / o->orders;
    int64_t t = o->start_ms + (n % o->orders) * step + (step > 1 ? pick(&s, step) : 0);
    memset(ev, 0, sizeof *ev);
    ev->type = RILL_EVENT_ORDER_PLACED;
    ev->u.order = (rill_order_placed_t){
        .order_id = g->order_id,
        .customer_id = g->customer_id,
        .location_id = g->location_id,
        .items = g->items,
        .item_cnt = lines,
        .total_e4 = total,
        .currency = o->currency,
        .status = RILL_STATUS_OPEN,
        .event_time = t,
        .correlation_id = g->correlation_id,
    };
}

void rill_gen_free(rill_gen_t *g)
{
    if (!g)
        return;
    free(g->price_e4);
    free(g->category);
    free(g->items);
    free(g->product_ids);
    free(g);
}
