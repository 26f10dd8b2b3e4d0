/*
 * test_pipeline.c - the order pipeline's processors (payment, inventory,
 * shipping, notification) run through the in-process test driver with memory
 * stores, fed with events encoded by the serde: each processor's rules one by
 * one, then the whole chain over generated orders checked against a reference
 * the test computes itself (its own copy of the payment hash, its own stock
 * bookkeeping), not against the processors' code.
 */
#include "tests/lib/suite.h"
#include "tests/lib/reference.h"
#include "tests/lib/util.h"
#include "tests/lib/drive.h"
#include "topology/cli/cli.h"
#include "processors/orders/generate.h"
#include "schemas/serde.h"
#include "state/store_rt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static rill_serde_t *serde;

static int setup(void)
{
    char err[RILL_ERRSTR_SIZE];
    return rill_serde_new(&serde, err, sizeof err) == RILL_OK ? 0 : -1;
}

static int teardown(void)
{
    rill_serde_destroy(serde);
    return 0;
}

/* Encodes ev and pipes it into topic at the partition its location picks
 * among np; expects the driver to take it (OK or DLQ, never RETRY). */
static void pipe_ev(rill_driver_t *d, const char *topic, int32_t np, const rill_event_t *ev)
{
    char err[RILL_ERRSTR_SIZE] = "";
    rill_buf_t b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(serde, ev, &b, err, sizeof err), RILL_OK);
    const char *loc = rill_event_location(ev);
    int32_t p = rill_partition_murmur2(loc, strlen(loc), np);
    rill_err_t res = rill_driver_pipe(d, topic, p, loc, strlen(loc), b.p, b.len, NULL, 0, 1000,
                                      err, sizeof err);
    if (res != RILL_OK)
        fprintf(stderr, "pipe %s: %s %s\n", topic, rill_err2str(res), err);
    CU_ASSERT_EQUAL(res, RILL_OK);
    rill_buf_free(&b);
}

static void pipe_raw(rill_driver_t *d, const char *topic, const char *key, const void *v,
                     size_t len)
{
    char err[RILL_ERRSTR_SIZE] = "";
    CU_ASSERT_EQUAL(rill_driver_pipe(d, topic, 0, key, strlen(key), v, len, NULL, 0, 1000, err,
                                     sizeof err),
                    RILL_OK);
}

/* Decodes captured record i of topic into ev (cleared first). */
static void got(rill_driver_t *d, const char *topic, size_t i, rill_event_t *ev)
{
    char err[RILL_ERRSTR_SIZE];
    const struct rill_captured *c = rill_driver_get(d, topic, i);
    rill_event_clear(ev);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    rill_err_t res = rill_serde_decode(serde, c->rec.key, c->rec.key_len, c->rec.value,
                                       c->rec.value_len, ev, err, sizeof err);
    if (res != RILL_OK)
        fprintf(stderr, "decode %s[%zu]: %s\n", topic, i, err);
    CU_ASSERT_EQUAL_FATAL(res, RILL_OK);
    /* every pipeline record is keyed by its location */
    const char *loc = rill_event_location(ev);
    CU_ASSERT(c->rec.key_len == strlen(loc) && !memcmp(c->rec.key, loc, c->rec.key_len));
}

static const char *dlq_reason(rill_driver_t *d, const char *topic, size_t i, char *buf, size_t sz)
{
    const struct rill_captured *c = rill_driver_get(d, topic, i);
    buf[0] = '\0';
    for (size_t h = 0; c && h < c->rec.header_cnt; h++)
        if (!strcmp(c->rec.headers[h].name, "rill.error.message"))
            snprintf(buf, sz, "%.*s", (int)c->rec.headers[h].len,
                     (const char *)c->rec.headers[h].value);
    return buf;
}

/* An order at loc with lines "P1:3,P2:1" (product:quantity, price 2.50). */
static rill_event_t order(const char *id, const char *loc, const char *lines,
                          rill_order_item_t *items)
{
    static char pids[16][16];
    size_t n = 0;
    int64_t total = 0;
    for (const char *s = lines; *s && n < 16;) {
        size_t len = strcspn(s, ":");
        snprintf(pids[n], sizeof pids[n], "%.*s", (int)len, s);
        int q = atoi(s + len + 1);
        items[n] = (rill_order_item_t){ pids[n], "toys", q, 25000 };
        total += q * 25000;
        n++;
        s += len + 1 + strcspn(s + len + 1, ",");
        if (*s == ',')
            s++;
    }
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){ id, "C1", loc, items, n, total, "EUR",
                                        RILL_STATUS_OPEN, 1790812800000, "corr-1" };
    return ev;
}

/* ---- payment ------------------------------------------------------------- */

static const char *payment_yaml =
    "application.id: a\n"
    "topics: {order_placed: {partitions: 3}, payment_result: {partitions: 3}}\n"
    "processors:\n"
    "  payment:\n"
    "    type: payment\n"
    "    inputs: [order_placed]\n"
    "    outputs: [payment_result]\n"
    "    config: {approve_rate: 0.9, seed: 42}\n";

static void test_payment_decisions(void)
{
    struct rill_topology *t = it_load(payment_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char err[RILL_ERRSTR_SIZE];
    struct rill_gen_opts go = { .seed = 3, .orders = 2000 };
    rill_gen_t *g = rill_gen_new(&go, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    int approved = 0;
    rill_event_t in, out = { 0 };
    for (size_t i = 0; i < 2000; i++) {
        rill_gen_next(g, &in);
        pipe_ev(d, "order_placed", 3, &in);
        got(d, "payment_result", i, &out);
        CU_ASSERT_EQUAL_FATAL(out.type, RILL_EVENT_PAYMENT_RESULT);
        const rill_payment_result_t *p = &out.u.payment;
        int want = it_payment_approves(42, in.u.order.order_id, 9000);
        approved += want;
        CU_ASSERT_EQUAL(p->approved, want);
        CU_ASSERT_EQUAL(p->status, want ? RILL_STATUS_PAID : RILL_STATUS_PAYMENT_REJECTED);
        CU_ASSERT_STRING_EQUAL(p->order_id, in.u.order.order_id);
        CU_ASSERT_STRING_EQUAL(p->customer_id, in.u.order.customer_id);
        CU_ASSERT_STRING_EQUAL(p->location_id, in.u.order.location_id);
        CU_ASSERT_STRING_EQUAL(p->correlation_id, in.u.order.correlation_id);
        CU_ASSERT_EQUAL(p->amount_e4, in.u.order.total_e4);
        CU_ASSERT_EQUAL(p->event_time, in.u.order.event_time);
        CU_ASSERT(want ? p->reason == NULL : p->reason && !strcmp(p->reason, "card_declined"));
    }
    /* about 90%: 2000 draws put the share within 1760..1840 with room */
    CU_ASSERT(approved > 1760 && approved < 1840);
    CU_ASSERT_EQUAL(rill_driver_count(d, "payment_result"), 2000);
    /* garbage and events of another kind go to the DLQ, nothing is emitted */
    pipe_raw(d, "order_placed", "L1", "\0\0\0\0\77xx", 7);
    rill_event_t rel = { .type = RILL_EVENT_STOCK_RELEASE };
    rill_item_qty_t q = { "P1", 1 };
    rel.u.release = (rill_stock_release_t){ "O1", "L1", &q, 1, "x", 1, "c" };
    pipe_ev(d, "order_placed", 3, &rel);
    CU_ASSERT_EQUAL(rill_driver_count(d, "payment_result"), 2000);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "order_placed.dlq"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(dlq_reason(d, "order_placed.dlq", 0, err, sizeof err),
                                  "schema id"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dlq_reason(d, "order_placed.dlq", 1, err, sizeof err),
                                  "expects order_placed"));
    rill_event_clear(&out);
    rill_gen_free(g);
    rill_driver_free(d);
    rill_topology_free(t);
}

static void test_payment_bad_config(void)
{
    static const char *yaml =
        "application.id: a\n"
        "topics: {order_placed: {partitions: 1}, payments: {partitions: 1}}\n"
        "processors:\n"
        "  payment: {type: payment, inputs: [order_placed], outputs: [payments],\n"
        "            config: {approve_rate: %s}}\n";
    char buf[512], err[RILL_ERRSTR_SIZE];
    rill_order_item_t items[1];
    rill_event_t ev = order("O1", "L1", "P1:1", items);
    rill_buf_t b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(serde, &ev, &b, err, sizeof err), RILL_OK);
    /* 1.5 is out of payment's range (0..1): the topology does not check */
    snprintf(buf, sizeof buf, yaml, "1.5");
    struct rill_topology *bad = it_load(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
    CU_ASSERT_PTR_NULL(rill_driver_new(bad, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "test.yaml:5:22: config key 'approve_rate' is above its "
                                       "maximum 1 (expects a number from 0 to 1) in processor "
                                       "'payment'"));
    rill_topology_free(bad);
    /* 0.5 is fine, the only output serves by default, but a named output
     * must exist */
    snprintf(buf, sizeof buf, yaml, "0.5, output: nope");
    struct rill_topology *t = it_load(buf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    err[0] = '\0';
    CU_ASSERT_NOT_EQUAL(rill_driver_pipe(d, "order_placed", 0, "L1", 2, b.p, b.len, NULL, 0, 1,
                                         err, sizeof err),
                        RILL_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no output 'nope'"));
    rill_driver_free(d);
    rill_topology_free(t);
    rill_buf_free(&b);
}

/* ---- inventory ----------------------------------------------------------- */

static const char *inventory_yaml =
    "application.id: a\n"
    "topics: {order_placed: {partitions: 1}, stock_release: {partitions: 1},\n"
    "         inventory_result: {partitions: 1}}\n"
    "processors:\n"
    "  inventory:\n"
    "    type: inventory\n"
    "    inputs: [order_placed, stock_release]\n"
    "    outputs: [inventory_result]\n"
    "    stores: [stock]\n"
    "    config: {initial_stock: 5, stock_overrides: \"GONE=0, RARE=1\"}\n";

static int64_t stock_of(rill_driver_t *d, const char *key)
{
    rill_store_t *s = rill_driver_store(d, "inventory", "stock", 0);
    int64_t v = -1;
    if (!s || rill_store_get_i64(s, key, strlen(key), &v) != RILL_OK)
        return -1;
    return v;
}

static void expect_result(rill_driver_t *d, size_t i, const char *order_id, int reserved,
                          const int64_t *avail, size_t n)
{
    rill_event_t ev = { 0 };
    got(d, "inventory_result", i, &ev);
    CU_ASSERT_EQUAL_FATAL(ev.type, RILL_EVENT_INVENTORY_RESULT);
    const rill_inventory_result_t *r = &ev.u.inventory;
    CU_ASSERT_STRING_EQUAL(r->order_id, order_id);
    CU_ASSERT_EQUAL(r->reserved, reserved);
    CU_ASSERT_EQUAL(r->status, reserved ? RILL_STATUS_RESERVED : RILL_STATUS_OUT_OF_STOCK);
    CU_ASSERT_EQUAL_FATAL(r->item_cnt, n);
    for (size_t k = 0; k < n; k++) {
        CU_ASSERT_EQUAL(r->items[k].available, avail[k]);
        CU_ASSERT_EQUAL(r->items[k].reserved, reserved ? r->items[k].requested : 0);
    }
    rill_event_clear(&ev);
}

static void test_inventory_all_or_nothing(void)
{
    struct rill_topology *t = it_load(inventory_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_order_item_t it[4];
    rill_event_t ev;

    ev = order("O1", "L1", "A:3", it);            /* 5 -> 2 */
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 0, "O1", 1, (int64_t[]){ 5 }, 1);
    CU_ASSERT_EQUAL(stock_of(d, "L1/A"), 2);

    ev = order("O2", "L1", "B:1,A:3", it);        /* A short: nothing taken, B stays 5 */
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 1, "O2", 0, (int64_t[]){ 5, 2 }, 2);
    CU_ASSERT_EQUAL(stock_of(d, "L1/A"), 2);
    CU_ASSERT_EQUAL(stock_of(d, "L1/B"), -1);     /* never written */

    ev = order("O3", "L1", "B:3,B:3", it);        /* one product on two lines: 6 > 5 */
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 2, "O3", 0, (int64_t[]){ 5, 5 }, 2);
    ev = order("O4", "L1", "B:2,C:1,B:3", it);    /* B 5 of 5 */
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 3, "O4", 1, (int64_t[]){ 5, 5, 5 }, 3);
    CU_ASSERT_EQUAL(stock_of(d, "L1/B"), 0);
    CU_ASSERT_EQUAL(stock_of(d, "L1/C"), 4);

    ev = order("O5", "L2", "A:5", it);            /* another location: its own stock */
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 4, "O5", 1, (int64_t[]){ 5 }, 1);
    CU_ASSERT_EQUAL(stock_of(d, "L2/A"), 0);
    CU_ASSERT_EQUAL(stock_of(d, "L1/A"), 2);

    ev = order("O6", "L1", "GONE:1", it);         /* overrides */
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 5, "O6", 0, (int64_t[]){ 0 }, 1);
    ev = order("O7", "L1", "RARE:1", it);
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 6, "O7", 1, (int64_t[]){ 1 }, 1);

    /* a release puts units back, and the next order sees them */
    rill_item_qty_t back[2] = { { "A", 3 }, { "B", 5 } };
    rill_event_t rel = { .type = RILL_EVENT_STOCK_RELEASE };
    rel.u.release = (rill_stock_release_t){ "O1", "L1", back, 2, "payment_rejected", 1, "c" };
    pipe_ev(d, "stock_release", 1, &rel);
    CU_ASSERT_EQUAL(rill_driver_count(d, "inventory_result"), 7);
    CU_ASSERT_EQUAL(stock_of(d, "L1/A"), 5);
    CU_ASSERT_EQUAL(stock_of(d, "L1/B"), 5);
    ev = order("O8", "L1", "A:5", it);
    pipe_ev(d, "order_placed", 1, &ev);
    expect_result(d, 7, "O8", 1, (int64_t[]){ 5 }, 1);

    /* a location with '/' would make an ambiguous key: DLQ, stock untouched */
    ev = order("O9", "L1/A", "X:1", it);
    pipe_ev(d, "order_placed", 1, &ev);
    char buf[256];
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "order_placed.dlq"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(dlq_reason(d, "order_placed.dlq", 0, buf, sizeof buf), "'/'"));
    CU_ASSERT_EQUAL(rill_driver_count(d, "inventory_result"), 8);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- shipping ------------------------------------------------------------ */

static const char *shipping_yaml =
    "application.id: a\n"
    "topics: {payment_result: {partitions: 1}, inventory_result: {partitions: 1},\n"
    "         order_shipped: {partitions: 1}, order_status: {partitions: 1},\n"
    "         stock_release: {partitions: 1}}\n"
    "processors:\n"
    "  shipping:\n"
    "    type: shipping\n"
    "    inputs: [payment_result, inventory_result]\n"
    "    outputs: [order_shipped, order_status, stock_release]\n"
    "    stores: [joins]\n";

static rill_event_t pay(const char *id, int ok, int64_t t)
{
    rill_event_t ev = { .type = RILL_EVENT_PAYMENT_RESULT };
    ev.u.payment = (rill_payment_result_t){ id, "C9", "L3", ok,
                                            ok ? RILL_STATUS_PAID : RILL_STATUS_PAYMENT_REJECTED,
                                            77500, "EUR", ok ? NULL : "card_declined", t, "k" };
    return ev;
}

static rill_event_t inv(const char *id, int ok, int64_t t, rill_item_reservation_t *r)
{
    r[0] = (rill_item_reservation_t){ "P1", 2, ok ? 2 : 0, 9 };
    r[1] = (rill_item_reservation_t){ "P2", 1, ok ? 1 : 0, ok ? 4 : 0 };
    rill_event_t ev = { .type = RILL_EVENT_INVENTORY_RESULT };
    ev.u.inventory = (rill_inventory_result_t){
        id, "C9", "L3", ok, ok ? RILL_STATUS_RESERVED : RILL_STATUS_OUT_OF_STOCK, r, 2, t, "k"
    };
    return ev;
}

static void test_shipping_join(void)
{
    struct rill_topology *t = it_load(shipping_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_item_reservation_t r[2];
    rill_event_t a, b, out = { 0 };
    /* paid + reserved, in both arrival orders: shipped, later time */
    a = pay("S1", 1, 10), b = inv("S1", 1, 20, r);
    pipe_ev(d, "payment_result", 1, &a);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_shipped"), 0);
    pipe_ev(d, "inventory_result", 1, &b);
    a = pay("S2", 1, 30), b = inv("S2", 1, 5, r);
    pipe_ev(d, "inventory_result", 1, &b);
    pipe_ev(d, "payment_result", 1, &a);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "order_shipped"), 2);
    got(d, "order_shipped", 0, &out);
    CU_ASSERT_STRING_EQUAL(out.u.shipped.order_id, "S1");
    CU_ASSERT_EQUAL(out.u.shipped.event_time, 20);
    CU_ASSERT_EQUAL(out.u.shipped.total_e4, 77500);
    CU_ASSERT_EQUAL(out.u.shipped.status, RILL_STATUS_SHIPPED);
    CU_ASSERT_EQUAL_FATAL(out.u.shipped.item_cnt, 2);
    CU_ASSERT_STRING_EQUAL(out.u.shipped.items[0].product_id, "P1");
    CU_ASSERT_EQUAL(out.u.shipped.items[0].quantity, 2);
    CU_ASSERT_EQUAL(out.u.shipped.items[1].quantity, 1);
    got(d, "order_shipped", 1, &out);
    CU_ASSERT_STRING_EQUAL(out.u.shipped.order_id, "S2");
    CU_ASSERT_EQUAL(out.u.shipped.event_time, 30);

    /* rejected + reserved: cancelled, and the reserved units go back */
    a = pay("S3", 0, 1), b = inv("S3", 1, 2, r);
    pipe_ev(d, "inventory_result", 1, &b);
    pipe_ev(d, "payment_result", 1, &a);
    /* paid + out of stock: cancelled, nothing to give back */
    a = pay("S4", 1, 1), b = inv("S4", 0, 2, r);
    pipe_ev(d, "payment_result", 1, &a);
    pipe_ev(d, "inventory_result", 1, &b);
    /* both failed */
    a = pay("S5", 0, 1), b = inv("S5", 0, 2, r);
    pipe_ev(d, "payment_result", 1, &a);
    pipe_ev(d, "inventory_result", 1, &b);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_shipped"), 2);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "order_status"), 3);
    static const char *why[] = { "payment_rejected", "out_of_stock",
                                 "payment_rejected+out_of_stock" };
    for (size_t i = 0; i < 3; i++) {
        got(d, "order_status", i, &out);
        CU_ASSERT_EQUAL(out.u.status.new_status, RILL_STATUS_CANCELLED);
        CU_ASSERT_STRING_EQUAL(out.u.status.reason, why[i]);
        CU_ASSERT_EQUAL(out.u.status.event_time, 2);
    }
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "stock_release"), 1);
    got(d, "stock_release", 0, &out);
    CU_ASSERT_STRING_EQUAL(out.u.release.order_id, "S3");
    CU_ASSERT_STRING_EQUAL(out.u.release.location_id, "L3");
    CU_ASSERT_EQUAL_FATAL(out.u.release.item_cnt, 2);
    CU_ASSERT_EQUAL(out.u.release.items[0].quantity, 2);
    CU_ASSERT_EQUAL(out.u.release.items[1].quantity, 1);

    /* joined orders leave nothing behind; a duplicate half goes to the DLQ */
    rill_store_t *s = rill_driver_store(d, "shipping", "joins", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_store_count(s), 0);
    a = pay("S6", 1, 1);
    pipe_ev(d, "payment_result", 1, &a);
    pipe_ev(d, "payment_result", 1, &a);
    CU_ASSERT_EQUAL(rill_store_count(s), 1);
    char buf[256];
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "payment_result.dlq"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(dlq_reason(d, "payment_result.dlq", 0, buf, sizeof buf),
                                  "duplicate payment_result for order 'S6'"));
    rill_event_clear(&out);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* The timeout of shipping's join on the driver's wall clock: a result
 * whose partner does not come within timeout.ms cancels its order once
 * (reason timeout), a reservation's stock goes back once, and a partner that
 * comes after all is not joined: a late reservation is released, a late
 * payment goes to the DLQ. Timed-out orders are forgotten after
 * late.retention.ms; joined ones leave nothing. */
static void test_shipping_timeout(void)
{
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s    config: {timeout.ms: 5000, timeout.check.ms: 100, "
             "late.retention.ms: 20000}\n", shipping_yaml);
    struct rill_topology *t = it_load(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_item_reservation_t r[2];
    rill_event_t a, b, out = { 0 };
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 1000), RILL_OK);
    a = pay("T1", 1, 10);
    pipe_ev(d, "payment_result", 1, &a);               /* waits from t=1000 */
    rill_store_t *s = rill_driver_store(d, "shipping", "joins", 0); /* made by the first record */
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(rill_store_count(s), 2);           /* the result and its index entry */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 3000), RILL_OK);
    b = inv("T2", 1, 20, r);
    pipe_ev(d, "inventory_result", 1, &b);             /* waits from t=4000 */
    a = pay("T3", 1, 30), b = inv("T3", 1, 31, r);     /* a join in time is a join */
    pipe_ev(d, "payment_result", 1, &a);
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 900), RILL_OK);
    pipe_ev(d, "inventory_result", 1, &b);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_shipped"), 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_status"), 0);
    /* t=6100: T1 waited 5100 ms */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 1200), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "order_status"), 1);
    got(d, "order_status", 0, &out);
    CU_ASSERT_STRING_EQUAL(out.u.status.order_id, "T1");
    CU_ASSERT_STRING_EQUAL(out.u.status.reason, "timeout");
    CU_ASSERT_EQUAL(out.u.status.new_status, RILL_STATUS_CANCELLED);
    CU_ASSERT_EQUAL(out.u.status.old_status, RILL_STATUS_PAID);
    CU_ASSERT_EQUAL(rill_driver_count(d, "stock_release"), 0);
    /* t=10100: T2 (waited 6100 ms) too, and its reservation goes back */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 4000), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "order_status"), 2);
    got(d, "order_status", 1, &out);
    CU_ASSERT_STRING_EQUAL(out.u.status.order_id, "T2");
    CU_ASSERT_STRING_EQUAL(out.u.status.reason, "timeout");
    CU_ASSERT_EQUAL(out.u.status.old_status, RILL_STATUS_RESERVED);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "stock_release"), 1);
    got(d, "stock_release", 0, &out);
    CU_ASSERT_STRING_EQUAL(out.u.release.order_id, "T2");
    CU_ASSERT_STRING_EQUAL(out.u.release.reason, "timeout");
    CU_ASSERT_EQUAL_FATAL(out.u.release.item_cnt, 2);
    CU_ASSERT_EQUAL(out.u.release.items[0].quantity, 2);
    /* checks later cancel nothing twice */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 6000), RILL_OK);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_status"), 2);
    /* the late partners: T1's reservation is released (and T1 forgotten),
     * T2's payment goes to the DLQ; neither order ships or cancels again */
    b = inv("T1", 1, 40, r);
    pipe_ev(d, "inventory_result", 1, &b);
    a = pay("T2", 1, 41);
    pipe_ev(d, "payment_result", 1, &a);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_shipped"), 1);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_status"), 2);
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "stock_release"), 2);
    got(d, "stock_release", 1, &out);
    CU_ASSERT_STRING_EQUAL(out.u.release.order_id, "T1");
    CU_ASSERT_STRING_EQUAL(out.u.release.reason, "timeout");
    char buf[256];
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "payment_result.dlq"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(dlq_reason(d, "payment_result.dlq", 0, buf, sizeof buf),
                                  "payment_result for order 'T2' came after the order timed out"));
    CU_ASSERT_EQUAL(rill_store_count(s), 2); /* T2 remembered: marker and its index entry */
    /* past late.retention.ms T2 is forgotten: the store is empty */
    CU_ASSERT_EQUAL(rill_driver_advance_wall_clock(d, 20000), RILL_OK);
    CU_ASSERT_EQUAL(rill_store_count(s), 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_status"), 2);
    rill_event_clear(&out);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- notification -------------------------------------------------------- */

static const char *notification_yaml =
    "application.id: a\n"
    "topics: {payment_result: {partitions: 1}, inventory_result: {partitions: 1},\n"
    "         order_shipped: {partitions: 1}, order_status: {partitions: 1},\n"
    "         notifications: {partitions: 1}}\n"
    "processors:\n"
    "  notification:\n"
    "    type: notification\n"
    "    inputs: [payment_result, inventory_result, order_shipped, order_status]\n"
    "    outputs: [notifications]\n"
    "    config: {channel: sms}\n";

static void test_notification_kinds(void)
{
    struct rill_topology *t = it_load(notification_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    rill_item_reservation_t r[2];
    rill_item_qty_t q = { "P1", 2 };
    rill_event_t ev, out = { 0 };
    ev = pay("N1", 1, 5); /* approved: silent */
    pipe_ev(d, "payment_result", 1, &ev);
    ev = inv("N1", 1, 5, r); /* reserved: silent */
    pipe_ev(d, "inventory_result", 1, &ev);
    CU_ASSERT_EQUAL(rill_driver_count(d, "notifications"), 0);
    ev = pay("N2", 0, 6);
    pipe_ev(d, "payment_result", 1, &ev);
    ev = inv("N3", 0, 7, r);
    pipe_ev(d, "inventory_result", 1, &ev);
    ev = (rill_event_t){ .type = RILL_EVENT_ORDER_SHIPPED };
    ev.u.shipped = (rill_order_shipped_t){ "N4", "C9", "L3", &q, 1, 100, "EUR",
                                           RILL_STATUS_SHIPPED, 8, "k" };
    pipe_ev(d, "order_shipped", 1, &ev);
    ev = (rill_event_t){ .type = RILL_EVENT_ORDER_STATUS };
    ev.u.status = (rill_order_status_t){ "N5", "C9", "L3", RILL_STATUS_PAID, RILL_STATUS_CANCELLED,
                                         "out_of_stock", 9, "k" };
    pipe_ev(d, "order_status", 1, &ev);
    static const struct { const char *id, *kind; int32_t status; int64_t t; } want[] = {
        { "N2:payment_rejected", "payment_rejected", 1150, 6 },
        { "N3:out_of_stock", "out_of_stock", 1250, 7 },
        { "N4:order_shipped", "order_shipped", 1300, 8 },
        { "N5:order_cancelled", "order_cancelled", 1900, 9 },
    };
    CU_ASSERT_EQUAL_FATAL(rill_driver_count(d, "notifications"), 4);
    for (size_t i = 0; i < 4; i++) {
        got(d, "notifications", i, &out);
        CU_ASSERT_EQUAL_FATAL(out.type, RILL_EVENT_NOTIFICATION);
        CU_ASSERT_STRING_EQUAL(out.u.notification.notification_id, want[i].id);
        CU_ASSERT_STRING_EQUAL(out.u.notification.kind, want[i].kind);
        CU_ASSERT_EQUAL(out.u.notification.status, want[i].status);
        CU_ASSERT_EQUAL(out.u.notification.event_time, want[i].t);
        CU_ASSERT_STRING_EQUAL(out.u.notification.channel, "sms");
        CU_ASSERT_PTR_NOT_NULL(strstr(out.u.notification.message, out.u.notification.order_id));
    }
    rill_event_clear(&out);
    rill_driver_free(d);
    rill_topology_free(t);
}


/* ---- the whole chain ------------------------------------------------------ */


#define CHAIN_ORDERS 3000
#define CHAIN_LOCS 5
#define CHAIN_PRODUCTS 40

/* The test's own bookkeeping of the stock, order after order: the driver
 * runs each order through the whole chain (a cancelled reserved order's
 * release included) before the next one, so this sequence is exact. */
static void test_chain_against_reference(void)
{
    struct rill_topology *t = it_load(it_chain_yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    rill_driver_t *d = it_driver(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    char err[RILL_ERRSTR_SIZE];
    struct rill_gen_opts go = { .seed = 9, .orders = CHAIN_ORDERS, .locations = CHAIN_LOCS,
                                .products = CHAIN_PRODUCTS };
    rill_gen_t *g = rill_gen_new(&go, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    static int64_t stock[CHAIN_LOCS + 1][CHAIN_PRODUCTS + 1];
    for (int l = 0; l <= CHAIN_LOCS; l++)
        for (int p = 0; p <= CHAIN_PRODUCTS; p++)
            stock[l][p] = 6;
    long paid = 0, reserved = 0, shipped = 0, released = 0;
    for (int i = 0; i < CHAIN_ORDERS; i++) {
        rill_event_t ev;
        rill_gen_next(g, &ev);
        const rill_order_placed_t *o = &ev.u.order;
        int l = atoi(o->location_id + 1), ok = 1;
        int64_t need[CHAIN_PRODUCTS + 1] = { 0 };
        for (size_t k = 0; k < o->item_cnt; k++)
            need[atoi(o->items[k].product_id + 1)] += o->items[k].quantity;
        for (int p = 1; p <= CHAIN_PRODUCTS; p++)
            ok &= stock[l][p] >= need[p];
        int pay = it_payment_approves(5, o->order_id, 7500);
        if (ok && pay)
            for (int p = 1; p <= CHAIN_PRODUCTS; p++)
                stock[l][p] -= need[p];
        paid += pay;
        reserved += ok;
        shipped += ok && pay;
        released += ok && !pay;
        pipe_ev(d, "order_placed", 4, &ev);
    }
    long n = CHAIN_ORDERS, rejected = n - paid, oos = n - reserved, cancelled = n - shipped;
    fprintf(stderr, "\n    chain: %ld orders, paid %ld, reserved %ld, shipped %ld, released %ld ",
            n, paid, reserved, shipped, released);
    CU_ASSERT(oos > n / 10); /* the stock is short enough to matter */
    CU_ASSERT(released > 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "payment_result"), n);
    CU_ASSERT_EQUAL(rill_driver_count(d, "inventory_result"), n);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_shipped"), shipped);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_status"), cancelled);
    CU_ASSERT_EQUAL(rill_driver_count(d, "stock_release"), released);
    CU_ASSERT_EQUAL(rill_driver_count(d, "notifications"), rejected + oos + shipped + cancelled);
    long reserved_seen = 0;
    rill_event_t out = { 0 };
    for (size_t i = 0; i < (size_t)n; i++) {
        got(d, "inventory_result", i, &out);
        reserved_seen += out.u.inventory.reserved;
    }
    CU_ASSERT_EQUAL(reserved_seen, reserved);
    rill_event_clear(&out);
    /* every stock counter the tasks hold is the reference's */
    long checked = 0, wrong = 0;
    for (int32_t part = 0; part < 4; part++) {
        rill_store_t *s = rill_driver_store(d, "inventory", "stock", part);
        if (!s)
            continue;
        rill_store_iter_t *it = rill_store_prefix(s, "L", 1);
        const void *k, *v;
        size_t kl, vl;
        while (it && rill_store_iter_next(it, &k, &kl, &v, &vl)) {
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)kl, (const char *)k);
            int l = atoi(key + 1), p = atoi(strchr(key, '/') + 2);
            int64_t val = 0;
            for (int b = 0; b < 8; b++)
                val = (int64_t)((uint64_t)val << 8 | ((const unsigned char *)v)[b]);
            wrong += val != stock[l][p];
            checked++;
        }
        rill_store_iter_free(it);
    }
    CU_ASSERT(checked > 0);
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(rill_driver_count(d, "order_placed.dlq"), 0);
    rill_gen_free(g);
    rill_driver_free(d);
    rill_topology_free(t);
}

/* ---- the generator --------------------------------------------------------- */

static void test_generator_is_deterministic_and_varied(void)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_gen_opts go = { .seed = 21, .orders = 2000 };
    rill_gen_t *a = rill_gen_new(&go, err, sizeof err), *b = rill_gen_new(&go, err, sizeof err);
    go.seed = 22;
    rill_gen_t *c = rill_gen_new(&go, err, sizeof err);
    CU_ASSERT_FATAL(a && b && c);
    rill_buf_t ba = { 0 }, bb = { 0 }, bc = { 0 };
    static char seen_loc[51], seen_cust[5001], seen_prod[201];
    int same_as_other_seed = 0, differ = 0, bad = 0;
    int64_t first_t = 0, last_t = 0;
    for (int i = 0; i < 2000; i++) {
        rill_event_t ea, eb, ec;
        rill_gen_next(a, &ea);
        rill_gen_next(b, &eb);
        rill_gen_next(c, &ec);
        bad |= rill_serde_encode(serde, &ea, &ba, err, sizeof err) != RILL_OK; /* validates */
        bad |= rill_serde_encode(serde, &eb, &bb, err, sizeof err) != RILL_OK;
        bad |= rill_serde_encode(serde, &ec, &bc, err, sizeof err) != RILL_OK;
        differ += ba.len != bb.len || memcmp(ba.p, bb.p, ba.len);
        /* ids embed the seed: compare what was ordered, where, by whom */
        int same = !strcmp(ea.u.order.location_id, ec.u.order.location_id) &&
                   !strcmp(ea.u.order.customer_id, ec.u.order.customer_id) &&
                   ea.u.order.item_cnt == ec.u.order.item_cnt;
        for (size_t k = 0; same && k < ea.u.order.item_cnt; k++)
            same = !strcmp(ea.u.order.items[k].product_id, ec.u.order.items[k].product_id) &&
                   ea.u.order.items[k].quantity == ec.u.order.items[k].quantity;
        same_as_other_seed += same;
        const rill_order_placed_t *o = &ea.u.order;
        seen_loc[atoi(o->location_id + 1)] = 1;
        seen_cust[atoi(o->customer_id + 1)] = 1;
        for (size_t k = 0; k < o->item_cnt; k++)
            seen_prod[atoi(o->items[k].product_id + 1)] = 1;
        if (i == 0)
            first_t = o->event_time;
        last_t = o->event_time;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(differ, 0);             /* same seed, same bytes */
    CU_ASSERT(same_as_other_seed < 20); /* another seed, other orders (a few may match) */
    int locs = 0, custs = 0, prods = 0;
    for (int i = 0; i <= 50; i++)
        locs += seen_loc[i];
    for (int i = 0; i <= 5000; i++)
        custs += seen_cust[i];
    for (int i = 0; i <= 200; i++)
        prods += seen_prod[i];
    CU_ASSERT_EQUAL(locs, 50);
    CU_ASSERT(custs > 1000);
    CU_ASSERT(prods > 150);
    /* spread over the 28 default days */
    CU_ASSERT(last_t - first_t > (int64_t)27 * 24 * 3600 * 1000);
    rill_buf_free(&ba);
    rill_buf_free(&bb);
    rill_buf_free(&bc);
    rill_gen_free(a);
    rill_gen_free(b);
    rill_gen_free(c);
}

/* `rill run` refuses a processor that cannot start before it joins any
 * group: no broker is needed to see it (the bootstrap is a closed port). */
static void test_run_refuses_a_processor_that_cannot_start(void)
{
    char path[64], out[1024];
    int fd = it_tmpfile(path, sizeof path, "unit-run");
    CU_ASSERT_FATAL(fd >= 0);
    static const char yaml[] =
        "application.id: x\n"
        "kafka: {bootstrap.servers: '127.0.0.1:1'}\n"
        "topics: {a: {partitions: 1}, b: {partitions: 1}, c: {partitions: 1}}\n"
        "processors:\n"
        "  ship: {type: shipping, inputs: [a], outputs: [b, c], stores: [j]}\n";
    CU_ASSERT_EQUAL_FATAL(write(fd, yaml, sizeof yaml - 1), (ssize_t)(sizeof yaml - 1));
    close(fd);
    alarm(60); /* were the processor to start, run would wait for a broker: fail, not hang */
    CU_ASSERT_EQUAL(it_capture(rill_cmd_run, out, sizeof out, 2, (char *[]){ "run", path, NULL }),
                    1);
    alarm(0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "processor 'ship' failed to start"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "set shipped_output"));
    unlink(path);
}

static CU_TestInfo tests[] = {
    { "payment decides from the order id and seed, rejects non-orders", test_payment_decisions },
    { "payment refuses a bad rate or a missing output", test_payment_bad_config },
    { "inventory reserves all lines or none, releases give stock back",
      test_inventory_all_or_nothing },
    { "shipping joins both results in either order", test_shipping_join },
    { "shipping's timeout cancels and releases once; late partners are not joined",
      test_shipping_timeout },
    { "notification: one per customer-facing event", test_notification_kinds },
    { "the whole chain equals the test's own bookkeeping", test_chain_against_reference },
    { "the generator: same seed same bytes, variety, dates", test_generator_is_deterministic_and_varied },
    { "rill run refuses a processor that cannot start", test_run_refuses_a_processor_that_cannot_start },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("pipeline", tests, setup, teardown)
