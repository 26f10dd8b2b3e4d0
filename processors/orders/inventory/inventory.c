/*
 * inventory.c - the `inventory` processor of the order pipeline: keeps the
 * stock of every (location, product) in its store and answers each
 * order_placed with one inventory_result. An order is reserved whole or not
 * at all: every product of the order (summed over its lines) must have enough
 * stock at the order's location, else nothing is taken and the result says
 * out of stock. stock_release events (from shipping, for cancelled orders
 * that had been reserved) put their units back.
 *
 * The store (the first one the YAML grants) maps "LOCATION/PRODUCT" to an
 * int64 count; an absent key holds the initial stock: `initial_stock`, or the
 * product's entry in `stock_overrides` ("P1=0,P2=5"). A location id may not
 * contain '/' (the key would be ambiguous): such an order goes to the DLQ.
 * The default stock (13 units) is sized to the generator's default run: of
 * 10,000 generated orders about 80% are reserved (popular products run out).
 * Exactly-once processing is what keeps a release from being applied twice;
 * under at-least-once a replayed release adds its units again.
 */
#include "processors/orders/orders.h"
#include "state/store.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inventory_conf {
    int64_t initial_stock;
    char *stock_overrides;
    char *output;
};

static const struct rill_conf_def inventory_conf_def[] = {
    { "initial_stock", RILL_CONF_INT, "13", offsetof(struct inventory_conf, initial_stock),
      "units of every product at every location before the first order", "0", NULL },
    { "stock_overrides", RILL_CONF_STR, "", offsetof(struct inventory_conf, stock_overrides),
      "initial stock of named products at every location: P1=0,P2=5", NULL, NULL },
    { "output", RILL_CONF_STR, "", offsetof(struct inventory_conf, output),
      "output of the inventory_result events (default: inventory_result, *.inventory_result or the only output)", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct override {
    char *product;
    int64_t stock;
};

struct inventory {
    struct rill_orders o;
    rill_store_t *store;
    const char *output;
    struct override *ov;
    size_t nov;
    /* per line, reused from order to order (cap lines): */
    size_t *first;     /* the product's first line in the order */
    int64_t *need;     /* at a product's first line: its units over the order */
    rill_item_reservation_t *res; /* the result's lines */
    size_t cap;
};

static void inventory_close(void *state)
{
    struct inventory *inv = state;
    for (size_t i = 0; i < inv->nov; i++)
        free(inv->ov[i].product);
    free(inv->ov);
    free(inv->need);
    free(inv->first);
    free(inv->res);
    rill_orders_fini(&inv->o);
    free(inv);
}

/* Parses "P1=0,P2=5" into inv->ov. */
static rill_err_t parse_overrides(struct inventory *inv, const char *s, char *errstr, size_t errsz)
{
    char *copy = strdup(s), *save = NULL;
    if (!copy)
        return RILL_ERR_NOMEM;
    rill_err_t err = RILL_OK;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strrchr(tok, '='), *end = NULL;
        while (*tok == ' ')
            tok++;
        errno = 0;
        long long n = eq ? strtoll(eq + 1, &end, 10) : -1;
        if (!eq || eq == tok || errno || end == eq + 1 || *end || n < 0) {
            err = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "stock_overrides: '%s' is not PRODUCT=UNITS", tok);
            break;
        }
        *eq = '\0';
        struct override *nv = realloc(inv->ov, (inv->nov + 1) * sizeof *nv);
        if (!nv || !(tok = strdup(tok))) {
            if (nv)
                inv->ov = nv;
            err = RILL_ERR_NOMEM;
            break;
        }
        inv->ov = nv;
        inv->ov[inv->nov++] = (struct override){ tok, n };
    }
    free(copy);
    return err;
}

static rill_err_t inventory_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct inventory_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = rill_ctx_store_at(ctx, 0);
    if (!store) {
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "processor '%s' needs a store for the stock (stores: [...])",
                 rill_ctx_name(ctx));
    }
    const char *output;
    rill_err_t err = rill_orders_output(ctx, c->output, "inventory_result", "output", 1, &output,
                                        errstr, errsz);
    if (err != RILL_OK)
        return err;
    struct inventory *inv = calloc(1, sizeof *inv);
    if (!inv)
        return RILL_ERR_NOMEM;
    if ((err = parse_overrides(inv, c->stock_overrides, errstr, errsz)) != RILL_OK ||
        (err = rill_orders_init(&inv->o, errstr, errsz)) != RILL_OK) {
        inventory_close(inv);
        return err;
    }
    inv->store = store;
    inv->output = output;
    *state = inv;
    return RILL_OK;
}

static int64_t initial(const struct inventory *inv, const struct inventory_conf *c,
                       const char *product)
{
    for (size_t i = 0; i < inv->nov; i++)
        if (!strcmp(inv->ov[i].product, product))
            return inv->ov[i].stock;
    return c->initial_stock;
}

/* The stock key of (location, product) into buf; its length, or 0 when it
 * does not fit. */
static size_t stock_key(char *buf, size_t sz, const char *loc, const char *product)
{
    int n = snprintf(buf, sz, "%s/%s", loc, product);
    return n > 0 && (size_t)n < sz ? (size_t)n : 0;
}

/* Current stock of (loc, product): the store's count or the initial one. */
static rill_err_t stock_get(struct inventory *inv, const struct inventory_conf *c,
                            const char *loc, const char *product, int64_t *out)
{
    char key[2 * RILL_SERDE_MAX_STRING + 2];
    size_t klen = stock_key(key, sizeof key, loc, product);
    rill_err_t err = rill_store_get_i64(inv->store, key, klen, out);
    if (err == RILL_ERR_NOTFOUND) {
        *out = initial(inv, c, product);
        return RILL_OK;
    }
    return err;
}

static rill_err_t stock_set(struct inventory *inv, const char *loc, const char *product,
                            int64_t v)
{
    char key[2 * RILL_SERDE_MAX_STRING + 2];
    size_t klen = stock_key(key, sizeof key, loc, product);
    return rill_store_put_i64(inv->store, key, klen, v);
}

static rill_proc_result_t reserve(rill_ctx_t *ctx, struct inventory *inv,
                                  const struct inventory_conf *c, const rill_order_placed_t *ord)
{
    size_t n = ord->item_cnt;
    if (n > inv->cap) {
        int64_t *need = realloc(inv->need, n * sizeof *need);
        if (need)
            inv->need = need;
        size_t *first = need ? realloc(inv->first, n * sizeof *first) : NULL;
        if (first)
            inv->first = first;
        rill_item_reservation_t *res = first ? realloc(inv->res, n * sizeof *res) : NULL;
        if (res)
            inv->res = res;
        if (!res)
            return RILL_PROC_RETRY;
        inv->cap = n;
    }
    /* A product may be on several lines: its first line sums them and reads
     * its stock once; then all or nothing. */
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        const char *pid = ord->items[i].product_id;
        size_t f = 0;
        while (strcmp(ord->items[f].product_id, pid))
            f++;
        inv->first[i] = f;
        if (f < i) {
            inv->need[f] += ord->items[i].quantity;
            continue;
        }
        inv->need[i] = ord->items[i].quantity;
        if (stock_get(inv, c, ord->location_id, pid, &inv->res[i].available) != RILL_OK)
            return RILL_PROC_RETRY;
    }
    for (size_t i = 0; i < n; i++)
        if (inv->first[i] == i && inv->res[i].available < inv->need[i])
            ok = 0;
    for (size_t i = 0; i < n; i++) {
        const rill_order_item_t *it = &ord->items[i];
        size_t f = inv->first[i];
        inv->res[i] = (rill_item_reservation_t){ it->product_id, it->quantity,
                                                 ok ? it->quantity : 0, inv->res[f].available };
        if (ok && f == i && stock_set(inv, ord->location_id, it->product_id,
                                      inv->res[i].available - inv->need[i]) != RILL_OK)
            return RILL_PROC_RETRY;
    }
    rill_event_t out = { .type = RILL_EVENT_INVENTORY_RESULT };
    out.u.inventory = (rill_inventory_result_t){
        .order_id = ord->order_id,
        .customer_id = ord->customer_id,
        .location_id = ord->location_id,
        .reserved = ok,
        .status = ok ? RILL_STATUS_RESERVED : RILL_STATUS_OUT_OF_STOCK,
        .items = inv->res,
        .item_cnt = n,
        .event_time = ord->event_time,
        .correlation_id = ord->correlation_id,
    };
    return rill_orders_emit(ctx, &inv->o, inv->output, &out);
}

static rill_proc_result_t release(struct inventory *inv, const struct inventory_conf *c,
                                  const rill_stock_release_t *rel)
{
    for (size_t i = 0; i < rel->item_cnt; i++) {
        int64_t v;
        if (stock_get(inv, c, rel->location_id, rel->items[i].product_id, &v) != RILL_OK ||
            stock_set(inv, rel->location_id, rel->items[i].product_id,
                      v + rel->items[i].quantity) != RILL_OK)
            return RILL_PROC_RETRY;
    }
    return RILL_PROC_OK;
}

static rill_proc_result_t inventory_process(rill_ctx_t *ctx, void *state,
                                            const rill_record_t *rec)
{
    const struct inventory_conf *c = rill_ctx_conf(ctx);
    struct inventory *inv = state;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_orders_decode(ctx, &inv->o, rec) != RILL_PROC_OK)
        return RILL_PROC_REJECT;
    const rill_event_t *ev = &inv->o.ev;
    const char *loc = rill_event_location(ev);
    if (strchr(loc, '/')) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "location_id '%s' contains '/'", loc);
        return RILL_PROC_REJECT;
    }
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED:
        return reserve(ctx, inv, c, &ev->u.order);
    case RILL_EVENT_STOCK_RELEASE:
        return release(inv, c, &ev->u.release);
    default:
        rill_ctx_reject_as(ctx, RILL_REJECT_UNROUTABLE, "inventory expects order_placed or stock_release, got %s",
                        rill_event_type_name(ev->type));
        return RILL_PROC_REJECT;
    }
}

const struct rill_processor_def rill_proc_inventory = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "inventory",
    .doc = "reserves all lines of an order from per-location stock or none (needs a store)",
    .conf = inventory_conf_def,
    .conf_size = sizeof(struct inventory_conf),
    .init = inventory_init,
    .process = inventory_process,
    .close = inventory_close,
};
