/*
 * pipeline_audit.c - the order-by-order audit of a run of the order
 * pipeline against the reference (pipeline_audit.h): every record decoded
 * and filed under its order, then each order's files compared with what the
 * reference says it must become.
 */
#include "tests/lib/pipeline_audit.h"
#include "tests/lib/reference.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_PLACED, T_PAYMENT, T_INVENTORY, T_SHIPPED, T_STATUS, T_RELEASE, T_NOTIFY };
static const rill_event_type_t types[PA_NTOPICS] = {
    RILL_EVENT_ORDER_PLACED, RILL_EVENT_PAYMENT_RESULT, RILL_EVENT_INVENTORY_RESULT,
    RILL_EVENT_ORDER_SHIPPED, RILL_EVENT_ORDER_STATUS,  RILL_EVENT_STOCK_RELEASE,
    RILL_EVENT_NOTIFICATION,
};

/* What the topics hold of one order. */
struct ord {
    char *id;
    int expected;
    long placed;               /* index + 1 of its first order_placed event, 0: none */
    int n[PA_NTOPICS];         /* records per topic (T_NOTIFY: all kinds) */
    int kinds[4];              /* notifications per kind */
    int approved, reserved;    /* of the first payment and inventory result */
    int units_bad;             /* a shipment whose units are not the order's */
    int status_new;            /* of the first order_status */
    char *status_reason;
};

struct pa_audit {
    struct ord *o;
    size_t n, cap;
    size_t *slot, nslot;       /* open addressing: index + 1 */
    rill_event_t *placed;      /* decoded order_placed events */
    long nplaced;
};

static uint64_t hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

static size_t *slot_of(const struct pa_audit *a, const char *id)
{
    size_t i = hash(id) & (a->nslot - 1);
    while (a->slot[i] && strcmp(a->o[a->slot[i] - 1].id, id))
        i = (i + 1) & (a->nslot - 1);
    return &a->slot[i];
}

static struct ord *find(const struct pa_audit *a, const char *id)
{
    size_t *s = a->nslot ? slot_of(a, id) : NULL;
    return s && *s ? &a->o[*s - 1] : NULL;
}

static struct ord *get(struct pa_audit *a, const char *id)
{
    struct ord *o = find(a, id);
    if (o)
        return o;
    if (2 * (a->n + 1) > a->nslot) {
        free(a->slot);
        a->nslot = a->nslot ? a->nslot * 2 : 4096;
        a->slot = calloc(a->nslot, sizeof *a->slot);
        for (size_t i = 0; i < a->n; i++)
            *slot_of(a, a->o[i].id) = i + 1;
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4096;
        a->o = realloc(a->o, a->cap * sizeof *a->o);
    }
    o = &a->o[a->n];
    memset(o, 0, sizeof *o);
    o->id = strdup(id);
    *slot_of(a, id) = ++a->n;
    return o;
}

struct reporter {
    int left;   /* problems still to print */
    int quiet;  /* none to print */
    const char *const *names;
};

static void problem(struct reporter *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct reporter *r, const char *fmt, ...)
{
    if (r->quiet)
        return;
    if (r->left-- <= 0) {
        if (r->left == -1)
            fprintf(stderr, "pipeline_check: (more problems not shown)\n");
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("pipeline_check: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* 1 when the shipment's units per product are the order's. */
static int same_units(const rill_order_placed_t *o, const rill_order_shipped_t *s)
{
    long order = 0, shipped = 0;
    for (size_t i = 0; i < o->item_cnt; i++)
        order += o->items[i].quantity;
    for (size_t i = 0; i < s->item_cnt; i++)
        shipped += s->items[i].quantity;
    if (order != shipped)
        return 0;
    for (size_t i = 0; i < o->item_cnt; i++) {
        long want = 0, got = 0;
        for (size_t j = 0; j < o->item_cnt; j++)
            want += strcmp(o->items[j].product_id, o->items[i].product_id) ? 0
                                                                           : o->items[j].quantity;
        for (size_t j = 0; j < s->item_cnt; j++)
            got += strcmp(s->items[j].product_id, o->items[i].product_id) ? 0
                                                                          : s->items[j].quantity;
        if (want != got)
            return 0;
    }
    return 1;
}

/* Files one decoded output event under its order. */
static void file_event(struct pa_audit *a, int t, const rill_event_t *ev, struct pa_result *res,
                       struct reporter *rep)
{
    const char *id = it_event_order_id(ev);
    struct ord *o = id ? find(a, id) : NULL;
    if (!o) {
        res->wrong++;
        problem(rep, "wrong: a record on %s for order %s, which is not on %s", rep->names[t],
                id ? id : "?", rep->names[T_PLACED]);
        return;
    }
    int first = o->n[t]++ == 0;
    switch (t) {
    case T_PAYMENT:
        if (first)
            o->approved = ev->u.payment.approved;
        break;
    case T_INVENTORY:
        if (first)
            o->reserved = ev->u.inventory.reserved;
        break;
    case T_SHIPPED:
        if (o->placed && !same_units(&a->placed[o->placed - 1].u.order, &ev->u.shipped))
            o->units_bad = 1;
        break;
    case T_STATUS:
        if (first) {
            o->status_new = ev->u.status.new_status;
            o->status_reason = strdup(ev->u.status.reason ? ev->u.status.reason : "");
        }
        break;
    case T_NOTIFY: {
        int bit = pref_kind_bit(ev->u.notification.kind);
        if (!bit) {
            res->wrong++;
            problem(rep, "wrong: order %s: a notification of kind '%s' on %s", o->id,
                    ev->u.notification.kind, rep->names[t]);
        }
        for (int k = 0; k < 4; k++)
            o->kinds[k] += bit == 1 << k;
        break;
    }
    default:
        break;
    }
}

/* Compares one record count with what the reference wants (0 or 1). */
static void expect_count(struct pa_result *res, struct reporter *rep, const struct ord *o, int t,
                         int have, int want, const char *what)
{
    if (have > 1) {
        res->dups[t] += have - 1;
        problem(rep, "duplicate: order %s: %d copies of its %s on %s", o->id, have, what,
                rep->names[t]);
    }
    if (want && !have) {
        res->missing++;
        problem(rep, "missing: order %s: no %s on %s", o->id, what, rep->names[t]);
    } else if (!want && have) {
        res->wrong++;
        problem(rep, "wrong: order %s: %s on %s, the reference wants none", o->id, what,
                rep->names[t]);
    }
}

static void judge(struct pa_audit *a, struct ord *o, const struct pref *ref,
                  struct pa_result *res, struct reporter *rep)
{
    res->orders++;
    res->expected += o->expected;
    res->other += !o->expected;
    if (!o->placed) {
        res->missing++;
        problem(rep, "missing: order %s is not on %s", o->id, rep->names[T_PLACED]);
        return;
    }
    if (o->n[T_PLACED] > 1) {
        res->dups[T_PLACED] += o->n[T_PLACED] - 1;
        problem(rep, "duplicate: order %s: %d copies of it on %s", o->id, o->n[T_PLACED],
                rep->names[T_PLACED]);
    }
    struct pref_outcome oc;
    pref_decide(ref, &a->placed[o->placed - 1].u.order, &oc);
    int decided = oc.reserved != PREF_UNDECIDED;
    if (!decided) {
        res->undecided++;
        pref_settle(&oc, o->n[T_INVENTORY] ? o->reserved : 1);
    }
    expect_count(res, rep, o, T_PAYMENT, o->n[T_PAYMENT], 1, "payment result");
    if (o->n[T_PAYMENT] && o->approved != oc.paid) {
        res->wrong++;
        problem(rep, "wrong: order %s: payment approved=%d, the reference says %d", o->id,
                o->approved, oc.paid);
    }
    expect_count(res, rep, o, T_INVENTORY, o->n[T_INVENTORY], 1, "inventory result");
    if (decided && o->n[T_INVENTORY] && o->reserved != oc.reserved) {
        res->wrong++;
        problem(rep, "wrong: order %s: reserved=%d, the reference says %d", o->id, o->reserved,
                oc.reserved);
    }
    /* exactly one final outcome: the shipment or the cancellation */
    expect_count(res, rep, o, T_SHIPPED, o->n[T_SHIPPED], oc.shipped, "shipment");
    expect_count(res, rep, o, T_STATUS, o->n[T_STATUS], oc.cancelled, "cancellation");
    if (o->n[T_SHIPPED] && o->units_bad) {
        res->wrong++;
        problem(rep, "wrong: order %s: shipped units are not the order's", o->id);
    }
    if (oc.cancelled && o->n[T_STATUS] &&
        (o->status_new != RILL_STATUS_CANCELLED || strcmp(o->status_reason, oc.reason))) {
        res->wrong++;
        problem(rep, "wrong: order %s: status %d reason '%s', the reference says 1900 '%s'",
                o->id, o->status_new, o->status_reason, oc.reason);
    }
    expect_count(res, rep, o, T_RELEASE, o->n[T_RELEASE], oc.released, "stock release");
    for (int k = 0; k < 4; k++) {
        char what[64];
        snprintf(what, sizeof what, "'%s' notification", pref_kind_name(1 << k));
        expect_count(res, rep, o, T_NOTIFY, o->kinds[k], (oc.notify >> k) & 1, what);
    }
    if (oc.shipped) {
        res->shipped++;
    } else {
        res->cancelled++;
        res->rejected += oc.paid ? 0 : oc.reserved ? 1 : 0;
        res->oos += oc.paid && !oc.reserved;
        res->both += !oc.paid && !oc.reserved;
    }
}

struct pa_audit *pa_run(const struct pref_conf *c, rill_serde_t *s,
                        struct it_rec *const recs[PA_NTOPICS], const long n[PA_NTOPICS],
                        char *const *expected_ids, long n_expected,
                        const char *const names[PA_NTOPICS], int report,
                        struct pa_result *res)
{
    struct pa_audit *a = calloc(1, sizeof *a);
    struct pref ref;
    memset(res, 0, sizeof *res);
    if (!a || pref_init(&ref, c) != 0) {
        free(a);
        return NULL;
    }
    struct reporter rep = { report, report <= 0, names };
    char err[256];
    a->placed = calloc((size_t)n[T_PLACED] + 1, sizeof *a->placed);
    for (long i = 0; i < n[T_PLACED]; i++) {
        const struct it_rec *r = &recs[T_PLACED][i];
        rill_event_t *ev = &a->placed[a->nplaced];
        if (rill_serde_decode(s, r->key, r->key_len, r->value, r->value_len, ev, err,
                              sizeof err) != RILL_OK ||
            ev->type != RILL_EVENT_ORDER_PLACED) {
            rill_event_clear(ev);
            memset(ev, 0, sizeof *ev);
            res->bad_input++;
            continue;
        }
        res->records[T_PLACED]++;
        struct ord *o = get(a, ev->u.order.order_id);
        if (!o->n[T_PLACED]++) {
            o->placed = ++a->nplaced;
            pref_demand(&ref, &ev->u.order);
        } else {
            rill_event_clear(ev);
            memset(ev, 0, sizeof *ev);
        }
    }
    for (long i = 0; i < n_expected; i++)
        get(a, expected_ids[i])->expected = 1;
    for (int t = T_PAYMENT; t < PA_NTOPICS; t++)
        for (long i = 0; i < n[t]; i++) {
            const struct it_rec *r = &recs[t][i];
            rill_event_t ev = { 0 };
            if (rill_serde_decode(s, r->key, r->key_len, r->value, r->value_len, &ev, err,
                                  sizeof err) != RILL_OK || ev.type != types[t]) {
                res->undecodable[t]++;
                problem(&rep, "wrong: %s [%d] offset %lld does not decode as %s", names[t],
                        (int)r->partition, (long long)r->offset, rill_event_type_name(types[t]));
            } else {
                res->records[t]++;
                file_event(a, t, &ev, res, &rep);
            }
            rill_event_clear(&ev);
        }
    for (size_t i = 0; i < a->n; i++)
        judge(a, &a->o[i], &ref, res, &rep);
    pref_free(&ref);
    return a;
}

int pa_reserved_of(const char *order_id, void *arg)
{
    const struct ord *o = find(arg, order_id);
    return o && o->n[T_INVENTORY] == 1 ? o->reserved : -1;
}

void pa_free(struct pa_audit *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->o[i].id);
        free(a->o[i].status_reason);
    }
    for (long i = 0; i < a->nplaced; i++)
        rill_event_clear(&a->placed[i]);
    free(a->placed);
    free(a->o);
    free(a->slot);
    free(a);
}
