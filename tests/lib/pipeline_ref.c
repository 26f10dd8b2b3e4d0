/*
 * pipeline_ref.c - the tests' reference of the order pipeline
 * (pipeline_ref.h): the parameters, the units map, what each order must
 * become, and the counts and tallies the tests compare.
 */
#include "tests/lib/pipeline_ref.h"
#include "tests/lib/reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pref_conf_default(struct pref_conf *c)
{
    memset(c, 0, sizeof *c);
    c->payment_seed = 7;
    c->approve_rate_e4 = 9000;
    c->initial_stock = 13;
}

int pref_conf_overrides(struct pref_conf *c, const char *spec)
{
    const char *p = spec;
    while (p && *p) {
        size_t len = strcspn(p, ",");
        char tok[64];
        if (len == 0 || len >= sizeof tok || c->nov == PREF_MAX_OVERRIDES)
            return -1;
        memcpy(tok, p, len);
        tok[len] = '\0';
        char *eq = strchr(tok, '='), *end = NULL;
        if (!eq || eq == tok || (size_t)(eq - tok) >= sizeof c->ov[0].product)
            return -1;
        *eq = '\0';
        long units = strtol(eq + 1, &end, 10);
        if (!*(eq + 1) || *end || units < 0)
            return -1;
        memcpy(c->ov[c->nov].product, tok, (size_t)(eq - tok) + 1);
        c->ov[c->nov++].units = units;
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

long pref_initial_stock(const struct pref_conf *c, const char *product)
{
    for (size_t i = c->nov; i-- > 0;)
        if (!strcmp(c->ov[i].product, product))
            return c->ov[i].units;
    return c->initial_stock;
}

/* ---- units per location/product ----------------------------------------- */

struct unit_entry {
    char key[48];
    long units;
};

struct pref_units {
    struct unit_entry *e; /* in insertion order */
    size_t n, cap;
    size_t *slot;         /* open addressing: index + 1, 0 for empty */
    size_t nslot;
};

struct pref_units *pref_units_new(void)
{
    return calloc(1, sizeof(struct pref_units));
}

static uint64_t hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static size_t *find_slot(const struct pref_units *u, const char *key)
{
    size_t i = hash(key) & (u->nslot - 1);
    while (u->slot[i] && strcmp(u->e[u->slot[i] - 1].key, key))
        i = (i + 1) & (u->nslot - 1);
    return &u->slot[i];
}

static void rehash(struct pref_units *u)
{
    free(u->slot);
    u->nslot = u->nslot ? u->nslot * 2 : 1024;
    u->slot = calloc(u->nslot, sizeof *u->slot);
    for (size_t i = 0; i < u->n; i++)
        *find_slot(u, u->e[i].key) = i + 1;
}

void pref_units_add(struct pref_units *u, const char *location, const char *product, long units)
{
    char key[48];
    snprintf(key, sizeof key, "%s/%s", location, product);
    if (2 * (u->n + 1) > u->nslot)
        rehash(u);
    size_t *s = find_slot(u, key);
    if (*s) {
        u->e[*s - 1].units += units;
        return;
    }
    if (u->n == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 256;
        u->e = realloc(u->e, u->cap * sizeof *u->e);
    }
    snprintf(u->e[u->n].key, sizeof u->e[0].key, "%s", key);
    u->e[u->n].units = units;
    *s = ++u->n;
}

long pref_units_get(const struct pref_units *u, const char *key, int *found)
{
    size_t *s = u->nslot ? find_slot(u, key) : NULL;
    if (found)
        *found = s && *s;
    return s && *s ? u->e[*s - 1].units : 0;
}

size_t pref_units_count(const struct pref_units *u)
{
    return u->n;
}

const char *pref_units_at(const struct pref_units *u, size_t i, long *units)
{
    *units = u->e[i].units;
    return u->e[i].key;
}

void pref_units_free(struct pref_units *u)
{
    if (!u)
        return;
    free(u->e);
    free(u->slot);
    free(u);
}

/* ---- what each order becomes ---------------------------------------------- */

int pref_init(struct pref *r, const struct pref_conf *c)
{
    r->conf = *c;
    r->demand = pref_units_new();
    return r->demand ? 0 : -1;
}

void pref_demand(struct pref *r, const rill_order_placed_t *o)
{
    for (size_t k = 0; k < o->item_cnt; k++)
        pref_units_add(r->demand, o->location_id, o->items[k].product_id, o->items[k].quantity);
}

void pref_free(struct pref *r)
{
    pref_units_free(r->demand);
    r->demand = NULL;
}

void pref_settle(struct pref_outcome *out, int reserved)
{
    out->reserved = reserved;
    out->shipped = out->paid && reserved;
    out->cancelled = !out->shipped;
    out->released = !out->paid && reserved;
    out->notify = (out->paid ? 0 : PREF_N_PAYMENT_REJECTED) | (reserved ? 0 : PREF_N_OUT_OF_STOCK) |
                  (out->shipped ? PREF_N_SHIPPED : PREF_N_CANCELLED);
    /* schemas/README.md, order_status.reason of a 1900 */
    out->reason = out->shipped ? NULL
                  : !out->paid && !reserved ? "payment_rejected+out_of_stock"
                  : !out->paid              ? "payment_rejected"
                                            : "out_of_stock";
}

void pref_decide(const struct pref *r, const rill_order_placed_t *o, struct pref_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->paid = it_payment_approves(r->conf.payment_seed, o->order_id, r->conf.approve_rate_e4);
    /* every product of the order, summed over its lines (the order is
     * reserved whole or not at all) */
    int always = 1, never = 0;
    for (size_t k = 0; k < o->item_cnt; k++) {
        const char *pid = o->items[k].product_id;
        long need = 0;
        for (size_t j = 0; j < o->item_cnt; j++)
            need += strcmp(o->items[j].product_id, pid) ? 0 : o->items[j].quantity;
        char key[48];
        snprintf(key, sizeof key, "%s/%s", o->location_id, pid);
        long stock = pref_initial_stock(&r->conf, pid);
        never |= need > stock;
        always &= pref_units_get(r->demand, key, NULL) <= stock;
    }
    pref_settle(out, never ? 0 : always ? 1 : 0);
    if (!never && !always)
        out->reserved = PREF_UNDECIDED;
}

static const char *const kind_names[] = { "payment_rejected", "out_of_stock", "order_shipped",
                                          "order_cancelled" };

const char *pref_kind_name(int bit)
{
    for (int i = 0; i < 4; i++)
        if (bit == 1 << i)
            return kind_names[i];
    return "?";
}

int pref_kind_bit(const char *kind)
{
    for (int i = 0; i < 4; i++)
        if (kind && !strcmp(kind, kind_names[i]))
            return 1 << i;
    return 0;
}

/* ---- the tests' counts -------------------------------------------------------- */

int pref_expect_from(const struct pref_conf *c, rill_serde_t *s, const struct it_rec *recs,
                     long n, struct pref_expect *e)
{
    memset(e, 0, sizeof *e);
    struct pref r;
    rill_event_t *evs = calloc((size_t)n + 1, sizeof *evs);
    char *ok = calloc((size_t)n + 1, 1);
    e->units = pref_units_new();
    if (!evs || !ok || !e->units || pref_init(&r, c) != 0) {
        free(evs);
        free(ok);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        char err[256];
        ok[i] = rill_serde_decode(s, recs[i].key, recs[i].key_len, recs[i].value,
                                  recs[i].value_len, &evs[i], err, sizeof err) == RILL_OK &&
                evs[i].type == RILL_EVENT_ORDER_PLACED;
        if (ok[i])
            pref_demand(&r, &evs[i].u.order);
        else
            e->bad++;
    }
    for (long i = 0; i < n; i++) {
        if (ok[i]) {
            const rill_order_placed_t *o = &evs[i].u.order;
            struct pref_outcome out;
            pref_decide(&r, o, &out);
            e->orders++;
            e->undecided += out.reserved == PREF_UNDECIDED;
            e->paid += out.paid;
            e->rejected += !out.paid;
            e->reserved += out.reserved == 1;
            e->oos += out.reserved == 0;
            e->shipped += out.shipped;
            e->cancelled += out.cancelled;
            e->released += out.released;
            /* notified: rejected payments, out-of-stock results, shipments,
             * cancellations */
            e->notify += __builtin_popcount((unsigned)out.notify);
            for (size_t k = 0; out.shipped && k < o->item_cnt; k++)
                pref_units_add(e->units, o->location_id, o->items[k].product_id,
                               o->items[k].quantity);
        }
        rill_event_clear(&evs[i]);
    }
    pref_free(&r);
    free(evs);
    free(ok);
    return 0;
}

void pref_expect_free(struct pref_expect *e)
{
    pref_units_free(e->units);
    e->units = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct pref_tally pref_tally(const struct it_rec *recs, long nrecs, rill_serde_t *s,
                             rill_event_type_t type, int (*pick)(const rill_event_t *),
                             void (*each)(const rill_event_t *, void *), void *arg)
{
    struct pref_tally t = { 0 };
    char **ids = calloc((size_t)nrecs + 1, sizeof *ids);
    for (long i = 0; i < nrecs; i++) {
        rill_event_t ev = { 0 };
        char err[256];
        if (rill_serde_decode(s, recs[i].key, recs[i].key_len, recs[i].value, recs[i].value_len,
                              &ev, err, sizeof err) != RILL_OK || ev.type != type) {
            rill_event_clear(&ev);
            t.undecodable++;
            continue;
        }
        const char *id = type == RILL_EVENT_NOTIFICATION ? ev.u.notification.notification_id
                                                          : it_event_order_id(&ev);
        ids[t.n++] = strdup(id);
        t.hits += pick ? pick(&ev) : 1;
        if (each)
            each(&ev, arg);
        rill_event_clear(&ev);
    }
    qsort(ids, (size_t)t.n, sizeof *ids, cmp_str);
    for (long i = 1; i < t.n; i++)
        t.dups += !strcmp(ids[i - 1], ids[i]);
    for (long i = 0; i < t.n; i++)
        free(ids[i]);
    free(ids);
    return t;
}

int pref_is_approved(const rill_event_t *ev)
{
    return ev->u.payment.approved;
}

int pref_is_reserved(const rill_event_t *ev)
{
    return ev->u.inventory.reserved;
}

int pref_is_cancel(const rill_event_t *ev)
{
    return ev->u.status.new_status == RILL_STATUS_CANCELLED;
}

void pref_count_shipped(const rill_event_t *ev, void *arg)
{
    for (size_t k = 0; k < ev->u.shipped.item_cnt; k++)
        pref_units_add(arg, ev->u.shipped.location_id, ev->u.shipped.items[k].product_id,
                       ev->u.shipped.items[k].quantity);
}
