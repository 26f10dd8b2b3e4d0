/*
 * test_serde.c - unit tests of the serdes (schemas/serde.h): the compiled-in
 * id map and schema texts; an Avro round trip of every event type compared
 * field by field; the Confluent framing and the Avro bytes against an encoder
 * written here from the Avro spec; the JSON shape of order_placed (exact
 * money, timestamps, defaults, the record key as location); and hostile or
 * wrong input, each refused with RILL_ERR_INVALID and a message that says
 * what is wrong, including every prefix of valid records. Inputs are copied
 * into exactly sized heap buffers so that ASan sees any read past the end.
 */
#include "tests/lib/suite.h"
#include "tests/lib/util.h"
#include "schemas/serde.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rill_serde_t *S;
static char err[512];

static int serde_suite_init(void)
{
    return rill_serde_new(&S, err, sizeof err) == RILL_OK ? 0 : -1;
}

static int serde_suite_cleanup(void)
{
    rill_serde_destroy(S);
    S = NULL;
    return 0;
}

/* ---- helpers ---- */

static rill_err_t decode(const void *key, size_t klen, const void *v, size_t n, rill_event_t *ev)
{
    /* An exact copy, so that a read past the end is an ASan error. */
    unsigned char *copy = malloc(n ? n : 1);
    if (n)
        memcpy(copy, v, n);
    err[0] = '\0';
    rill_err_t rc = rill_serde_decode(S, key, klen, copy, n, ev, err, sizeof err);
    free(copy);
    return rc;
}

static int has(const char *msg, const char *want)
{
    if (strstr(msg, want))
        return 1;
    fprintf(stderr, "\n    expected '%s' in '%s'\n", want, msg);
    return 0;
}

/* Decoding must fail with RILL_ERR_INVALID, a message holding want, and
 * nothing left to free in the event. */
static void expect_bad_key(const char *key, const void *v, size_t n, const char *want)
{
    rill_event_t ev = { 0 };
    rill_err_t rc = decode(key, key ? strlen(key) : 0, v, n, &ev);
    CU_ASSERT_EQUAL(rc, RILL_ERR_INVALID);
    CU_ASSERT_PTR_NULL(ev.arena_);
    CU_ASSERT(has(err, want));
    if (rc == RILL_OK)
        rill_event_clear(&ev);
}

static void expect_bad(const void *v, size_t n, const char *want)
{
    expect_bad_key("loc-key", v, n, want);
}

static void expect_bad_json(const char *json, const char *want)
{
    expect_bad(json, strlen(json), want);
}

static int ok(rill_err_t rc)
{
    if (rc != RILL_OK)
        fprintf(stderr, "\n    unexpected error: %s\n", err);
    return rc == RILL_OK;
}

static int str_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The name of the first field where a and b differ, "" when equal. */
static const char *diff(const rill_event_t *a, const rill_event_t *b)
{
    if (a->type != b->type)
        return "type";
    switch (a->type) {
    case RILL_EVENT_ORDER_PLACED: {
        const rill_order_placed_t *x = &a->u.order, *y = &b->u.order;
        if (!str_same(x->order_id, y->order_id)) return "order_id";
        if (!str_same(x->customer_id, y->customer_id)) return "customer_id";
        if (!str_same(x->location_id, y->location_id)) return "location_id";
        if (x->item_cnt != y->item_cnt) return "item_cnt";
        for (size_t i = 0; i < x->item_cnt; i++) {
            if (!str_same(x->items[i].product_id, y->items[i].product_id)) return "product_id";
            if (!str_same(x->items[i].category, y->items[i].category)) return "category";
            if (x->items[i].quantity != y->items[i].quantity) return "quantity";
            if (x->items[i].unit_price_e4 != y->items[i].unit_price_e4) return "unit_price_e4";
        }
        if (x->total_e4 != y->total_e4) return "total_e4";
        if (!str_same(x->currency, y->currency)) return "currency";
        if (x->status != y->status) return "status";
        if (x->event_time != y->event_time) return "event_time";
        if (!str_same(x->correlation_id, y->correlation_id)) return "correlation_id";
        return "";
    }
    case RILL_EVENT_PAYMENT_RESULT: {
        const rill_payment_result_t *x = &a->u.payment, *y = &b->u.payment;
        if (!str_same(x->order_id, y->order_id)) return "order_id";
        if (!str_same(x->customer_id, y->customer_id)) return "customer_id";
        if (!str_same(x->location_id, y->location_id)) return "location_id";
        if (x->approved != y->approved) return "approved";
        if (x->status != y->status) return "status";
        if (x->amount_e4 != y->amount_e4) return "amount_e4";
        if (!str_same(x->currency, y->currency)) return "currency";
        if (!str_same(x->reason, y->reason)) return "reason";
        if (x->event_time != y->event_time) return "event_time";
        if (!str_same(x->correlation_id, y->correlation_id)) return "correlation_id";
        return "";
    }
    case RILL_EVENT_INVENTORY_RESULT: {
        const rill_inventory_result_t *x = &a->u.inventory, *y = &b->u.inventory;
        if (!str_same(x->order_id, y->order_id)) return "order_id";
        if (!str_same(x->customer_id, y->customer_id)) return "customer_id";
        if (!str_same(x->location_id, y->location_id)) return "location_id";
        if (x->reserved != y->reserved) return "reserved";
        if (x->status != y->status) return "status";
        if (x->item_cnt != y->item_cnt) return "item_cnt";
        for (size_t i = 0; i < x->item_cnt; i++) {
            if (!str_same(x->items[i].product_id, y->items[i].product_id)) return "product_id";
            if (x->items[i].requested != y->items[i].requested) return "requested";
            if (x->items[i].reserved != y->items[i].reserved) return "items.reserved";
            if (x->items[i].available != y->items[i].available) return "available";
        }
        if (x->event_time != y->event_time) return "event_time";
        if (!str_same(x->correlation_id, y->correlation_id)) return "correlation_id";
        return "";
    }
    case RILL_EVENT_ORDER_SHIPPED: {
        const rill_order_shipped_t *x = &a->u.shipped, *y = &b->u.shipped;
        if (!str_same(x->order_id, y->order_id)) return "order_id";
        if (!str_same(x->customer_id, y->customer_id)) return "customer_id";
        if (!str_same(x->location_id, y->location_id)) return "location_id";
        if (x->item_cnt != y->item_cnt) return "item_cnt";
        for (size_t i = 0; i < x->item_cnt; i++) {
            if (!str_same(x->items[i].product_id, y->items[i].product_id)) return "product_id";
            if (x->items[i].quantity != y->items[i].quantity) return "quantity";
        }
        if (x->total_e4 != y->total_e4) return "total_e4";
        if (!str_same(x->currency, y->currency)) return "currency";
        if (x->status != y->status) return "status";
        if (x->event_time != y->event_time) return "event_time";
        if (!str_same(x->correlation_id, y->correlation_id)) return "correlation_id";
        return "";
    }
    case RILL_EVENT_ORDER_STATUS: {
        const rill_order_status_t *x = &a->u.status, *y = &b->u.status;
        if (!str_same(x->order_id, y->order_id)) return "order_id";
        if (!str_same(x->customer_id, y->customer_id)) return "customer_id";
        if (!str_same(x->location_id, y->location_id)) return "location_id";
        if (x->old_status != y->old_status) return "old_status";
        if (x->new_status != y->new_status) return "new_status";
        if (!str_same(x->reason, y->reason)) return "reason";
        if (x->event_time != y->event_time) return "event_time";
        if (!str_same(x->correlation_id, y->correlation_id)) return "correlation_id";
        return "";
    }
    case RILL_EVENT_STOCK_RELEASE: {
        const rill_stock_release_t *x = &a->u.release, *y = &b->u.release;
        if (!str_same(x->order_id, y->order_id)) return "order_id";
        if (!str_same(x->location_id, y->location_id)) return "location_id";
        if (x->item_cnt != y->item_cnt) return "item_cnt";
        for (size_t i = 0; i < x->item_cnt; i++) {
            if (!str_same(x->items[i].product_id, y->items[i].product_id)) return "product_id";
            if (x->items[i].quantity != y->items[i].quantity) return "quantity";
        }
        if (!str_same(x->reason, y->reason)) return "reason";
        if (x->event_time != y->event_time) return "event_time";
        if (!str_same(x->correlation_id, y->correlation_id)) return "correlation_id";
        return "";
    }
    case RILL_EVENT_NOTIFICATION: {
        const rill_notification_t *x = &a->u.notification, *y = &b->u.notification;
        if (!str_same(x->notification_id, y->notification_id)) return "notification_id";
        if (!str_same(x->customer_id, y->customer_id)) return "customer_id";
        if (!str_same(x->order_id, y->order_id)) return "order_id";
        if (!str_same(x->location_id, y->location_id)) return "location_id";
        if (!str_same(x->channel, y->channel)) return "channel";
        if (!str_same(x->kind, y->kind)) return "kind";
        if (x->status != y->status) return "status";
        if (!str_same(x->message, y->message)) return "message";
        if (x->event_time != y->event_time) return "event_time";
        if (!str_same(x->correlation_id, y->correlation_id)) return "correlation_id";
        return "";
    }
    default: return "unknown type";
    }
}

/* Encode, check the framing, decode, compare field by field. */
static void roundtrip(const rill_event_t *in)
{
    rill_buf_t b = { 0 };
    rill_event_t out = { 0 };
    CU_ASSERT_FATAL(ok(rill_serde_encode(S, in, &b, err, sizeof err)));
    int32_t id = rill_serde_schema_id(in->type);
    CU_ASSERT(b.len > RILL_SERDE_HEADER);
    CU_ASSERT_EQUAL(b.p[0], 0);
    CU_ASSERT_EQUAL((int32_t)((uint32_t)b.p[1] << 24 | (uint32_t)b.p[2] << 16 |
                              (uint32_t)b.p[3] << 8 | b.p[4]),
                    id);
    CU_ASSERT_FATAL(ok(decode("other-key", 9, b.p, b.len, &out)));
    CU_ASSERT_STRING_EQUAL(diff(in, &out), "");
    CU_ASSERT_STRING_EQUAL(rill_event_location(&out), rill_event_location(in));
    CU_ASSERT_PTR_NOT_NULL(out.arena_);
    rill_event_clear(&out);
    CU_ASSERT_PTR_NULL(out.arena_);
    rill_buf_free(&b);
    CU_ASSERT_PTR_NULL(b.p);
}

/* ---- sample events ---- */

static rill_order_item_t order_items[RILL_SERDE_MAX_ITEMS + 1];
static rill_item_reservation_t res_items[RILL_SERDE_MAX_ITEMS];
static rill_item_qty_t qty_items[RILL_SERDE_MAX_ITEMS];
static char item_names[RILL_SERDE_MAX_ITEMS + 1][32];

static rill_event_t sample_order(size_t n)
{
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    rill_order_placed_t *o = &ev.u.order;
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(item_names[i], sizeof item_names[i], "prod-%zu", i);
        order_items[i] = (rill_order_item_t){ item_names[i], i % 4 ? "books" : "",
                                              (int32_t)(i % 7 + 1),
                                              i % 5 ? (int64_t)i * 12345 + 1 : 0 };
        total += order_items[i].quantity * order_items[i].unit_price_e4;
    }
    o->order_id = "order-42";
    o->customer_id = "cust-\xc3\xa9t\xc3\xa9"; /* UTF-8 passes through */
    o->location_id = "store-7";
    o->items = order_items;
    o->item_cnt = n;
    o->total_e4 = total;
    o->currency = "EUR";
    o->status = RILL_STATUS_OPEN;
    o->event_time = 1709210096789;
    o->correlation_id = "corr-1";
    return ev;
}

static rill_event_t sample_payment(int approved, const char *reason)
{
    rill_event_t ev = { .type = RILL_EVENT_PAYMENT_RESULT };
    ev.u.payment = (rill_payment_result_t){
        "order-42", "cust-1", "store-7", approved,
        approved ? RILL_STATUS_PAID : RILL_STATUS_PAYMENT_REJECTED, 246801, "USD", reason,
        1709210096789, "corr-1",
    };
    return ev;
}

static rill_event_t sample_inventory(int reserved, size_t n)
{
    rill_event_t ev = { .type = RILL_EVENT_INVENTORY_RESULT };
    for (size_t i = 0; i < n; i++) {
        snprintf(item_names[i], sizeof item_names[i], "prod-%zu", i);
        res_items[i] = (rill_item_reservation_t){ item_names[i], (int32_t)i + 1,
                                                  reserved ? (int32_t)i + 1 : 0,
                                                  (int64_t)i * 1000000000LL };
    }
    ev.u.inventory = (rill_inventory_result_t){
        "order-42", "cust-1", "store-7", reserved,
        reserved ? RILL_STATUS_RESERVED : RILL_STATUS_OUT_OF_STOCK, res_items, n,
        1709210096789, "corr-1",
    };
    return ev;
}

static void fill_qty(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(item_names[i], sizeof item_names[i], "prod-%zu", i);
        qty_items[i] = (rill_item_qty_t){ item_names[i], (int32_t)(i * 3 + 1) };
    }
}

static rill_event_t sample_shipped(size_t n)
{
    rill_event_t ev = { .type = RILL_EVENT_ORDER_SHIPPED };
    fill_qty(n);
    ev.u.shipped = (rill_order_shipped_t){ "order-42", "cust-1", "store-7", qty_items, n,
                                           INT64_MAX, "CLF", RILL_STATUS_SHIPPED, 0, "corr-1" };
    return ev;
}

static rill_event_t sample_status(void)
{
    rill_event_t ev = { .type = RILL_EVENT_ORDER_STATUS };
    ev.u.status = (rill_order_status_t){ "order-42", "cust-1", "store-7", RILL_STATUS_PAID,
                                         RILL_STATUS_CANCELLED, "payment_rejected+out_of_stock",
                                         1709210096789, "corr-1" };
    return ev;
}

static rill_event_t sample_release(size_t n)
{
    rill_event_t ev = { .type = RILL_EVENT_STOCK_RELEASE };
    fill_qty(n);
    ev.u.release = (rill_stock_release_t){ "order-42", "store-7", qty_items, n,
                                           "payment_rejected", 1709210096789, "corr-1" };
    return ev;
}

static rill_event_t sample_notification(const char *message)
{
    rill_event_t ev = { .type = RILL_EVENT_NOTIFICATION };
    ev.u.notification = (rill_notification_t){
        "order-42:order_cancelled", "cust-1", "order-42", "store-7", "email",
        "order_cancelled", RILL_STATUS_CANCELLED, message, 1709210096789, "corr-1",
    };
    return ev;
}

/* ---- an Avro encoder written from the spec, for exact bytes and for
 * records the serde would never write ---- */

struct av {
    unsigned char b[1 << 16];
    size_t n;
};

static void av_varint(struct av *a, uint64_t v)
{
    do {
        unsigned char c = v & 0x7f;
        v >>= 7;
        a->b[a->n++] = c | (v ? 0x80 : 0);
    } while (v);
}

static void av_long(struct av *a, int64_t v)
{
    av_varint(a, v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1);
}

static void av_raw(struct av *a, const void *p, size_t n)
{
    memcpy(a->b + a->n, p, n);
    a->n += n;
}

static void av_str(struct av *a, const char *s)
{
    av_long(a, (int64_t)strlen(s));
    av_raw(a, s, strlen(s));
}

static void av_byte(struct av *a, unsigned char c)
{
    a->b[a->n++] = c;
}

static void av_hdr(struct av *a, uint32_t id)
{
    a->n = 0;
    av_byte(a, 0);
    av_byte(a, (unsigned char)(id >> 24));
    av_byte(a, (unsigned char)(id >> 16));
    av_byte(a, (unsigned char)(id >> 8));
    av_byte(a, (unsigned char)id);
}

struct line {
    const char *product;
    int32_t qty;
    int64_t price;
};

/* An order_placed record, lines in one block. */
static void av_order(struct av *a, const char *order_id, const struct line *lines, size_t n,
                     int64_t total, const char *currency, int32_t status)
{
    av_hdr(a, 1);
    av_str(a, order_id);
    av_str(a, "cust-1");
    av_str(a, "store-7");
    if (n) {
        av_long(a, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            av_str(a, lines[i].product);
            av_str(a, "cat");
            av_long(a, lines[i].qty);
            av_long(a, lines[i].price);
        }
    }
    av_long(a, 0);
    av_long(a, total);
    av_str(a, currency);
    av_long(a, status);
    av_long(a, 1709210096789);
    av_str(a, "corr-1");
}

/* A payment_result record; branch < 0 writes the reason's null branch. */
static void av_payment(struct av *a, unsigned char approved, int32_t status, int64_t branch,
                       const char *reason)
{
    av_hdr(a, 2);
    av_str(a, "order-42");
    av_str(a, "cust-1");
    av_str(a, "store-7");
    av_byte(a, approved);
    av_long(a, status);
    av_long(a, 246801);
    av_str(a, "USD");
    av_long(a, branch);
    if (reason)
        av_str(a, reason);
    av_long(a, 1709210096789);
    av_str(a, "corr-1");
}

/* order_status up to (not including) the reason string. */
static void av_status_head(struct av *a)
{
    av_hdr(a, 5);
    av_str(a, "order-42");
    av_str(a, "cust-1");
    av_str(a, "store-7");
    av_long(a, RILL_STATUS_PAID);
    av_long(a, RILL_STATUS_CANCELLED);
}

static void av_status_tail(struct av *a)
{
    av_long(a, 1709210096789);
    av_str(a, "corr-1");
}

/* ---- ids, names, texts ---- */

static void test_id_map(void)
{
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        CU_ASSERT_EQUAL(rill_serde_schema_id((rill_event_type_t)t), t + 1);
        CU_ASSERT_EQUAL(rill_serde_type_of_id(t + 1), t);
    }
    CU_ASSERT_EQUAL(rill_serde_schema_id(RILL_EVENT__COUNT), -1);
    CU_ASSERT_EQUAL(rill_serde_type_of_id(0), -1);
    CU_ASSERT_EQUAL(rill_serde_type_of_id(8), -1);
    CU_ASSERT_EQUAL(rill_serde_type_of_id(-1), -1);
}

static void test_names_and_texts(void)
{
    CU_ASSERT_STRING_EQUAL(rill_event_type_name(RILL_EVENT_ORDER_PLACED), "order_placed");
    CU_ASSERT_STRING_EQUAL(rill_event_type_name(RILL_EVENT_NOTIFICATION), "notifications");
    CU_ASSERT_PTR_NULL(rill_event_type_name(RILL_EVENT__COUNT));
    CU_ASSERT_PTR_NULL(rill_serde_schema_text(RILL_EVENT__COUNT));
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        char path[128];
        snprintf(path, sizeof path, "schemas/avro/%s.avsc",
                 rill_event_type_name((rill_event_type_t)t));
        char *file = it_read_file(path, NULL);
        const char *text = rill_serde_schema_text((rill_event_type_t)t);
        CU_ASSERT_PTR_NOT_NULL_FATAL(file);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        /* The file byte for byte: doc, logicalType and default included. */
        CU_ASSERT_STRING_EQUAL(text, file);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"logicalType\": \"timestamp-millis\""));
        free(file);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(rill_serde_schema_text(RILL_EVENT_PAYMENT_RESULT),
                                  "\"default\": null"));
}

/* ---- round trips ---- */

static void test_roundtrip_order(void)
{
    rill_event_t ev = sample_order(1);
    roundtrip(&ev);
    ev = sample_order(3);
    roundtrip(&ev);
    ev = sample_order(RILL_SERDE_MAX_ITEMS);
    roundtrip(&ev);
}

static void test_roundtrip_payment(void)
{
    rill_event_t ev = sample_payment(1, NULL);
    roundtrip(&ev);
    ev = sample_payment(0, ""); /* empty is not null */
    roundtrip(&ev);
    ev = sample_payment(0, "declined");
    roundtrip(&ev);
    ev = sample_payment(0, NULL);
    roundtrip(&ev);
}

static void test_roundtrip_inventory(void)
{
    rill_event_t ev = sample_inventory(1, 4);
    roundtrip(&ev);
    ev = sample_inventory(0, RILL_SERDE_MAX_ITEMS);
    roundtrip(&ev);
}

static void test_roundtrip_shipped(void)
{
    rill_event_t ev = sample_shipped(1);
    roundtrip(&ev);
    ev = sample_shipped(250);
    roundtrip(&ev);
}

static void test_roundtrip_status(void)
{
    rill_event_t ev = sample_status();
    roundtrip(&ev);
}

static void test_roundtrip_release(void)
{
    rill_event_t ev = sample_release(2);
    roundtrip(&ev);
}

static void test_roundtrip_notification(void)
{
    rill_event_t ev = sample_notification("Your order order-42 was cancelled.\n\"Sorry\"");
    roundtrip(&ev);
    ev = sample_notification("");
    roundtrip(&ev);
}

/* The framing and the Avro bytes, against the encoder written here. */
static void expect_bytes(const rill_event_t *ev, const struct av *a)
{
    rill_buf_t b = { 0 };
    CU_ASSERT_FATAL(ok(rill_serde_encode(S, ev, &b, err, sizeof err)));
    CU_ASSERT_EQUAL(b.len, a->n);
    CU_ASSERT(b.len == a->n && !memcmp(b.p, a->b, a->n));
    rill_buf_free(&b);
}

static void test_exact_bytes(void)
{
    static struct av a;
    rill_event_t ev = sample_status();
    av_status_head(&a);
    av_str(&a, "payment_rejected+out_of_stock");
    av_status_tail(&a);
    CU_ASSERT_EQUAL(a.b[0], 0);
    CU_ASSERT(!memcmp(a.b + 1, "\0\0\0\5", 4)); /* big-endian 5 */
    expect_bytes(&ev, &a);

    ev = sample_payment(1, NULL);
    av_payment(&a, 1, RILL_STATUS_PAID, 0, NULL);
    expect_bytes(&ev, &a);
    ev = sample_payment(0, "declined");
    av_payment(&a, 0, RILL_STATUS_PAYMENT_REJECTED, 1, "declined");
    expect_bytes(&ev, &a);

    struct line lines[] = { { "prod-0", 2, 123400 }, { "prod-1", 1, 1 } };
    ev = sample_order(0);
    rill_order_item_t its[] = { { "prod-0", "cat", 2, 123400 }, { "prod-1", "cat", 1, 1 } };
    ev.u.order.items = its;
    ev.u.order.item_cnt = 2;
    ev.u.order.customer_id = "cust-1";
    ev.u.order.total_e4 = 246801;
    av_order(&a, "order-42", lines, 2, 246801, "EUR", RILL_STATUS_OPEN);
    expect_bytes(&ev, &a);
}

/* Arrays in blocks with byte sizes (negative counts), as Java writers may
 * send them, decode like one block. */
static void test_blocked_array(void)
{
    static struct av a, item;
    rill_event_t ev = { 0 };
    av_hdr(&a, 1);
    av_str(&a, "order-42");
    av_str(&a, "cust-1");
    av_str(&a, "store-7");
    item.n = 0;
    av_str(&item, "prod-0");
    av_str(&item, "cat");
    av_long(&item, 2);
    av_long(&item, 50000);
    av_long(&a, -1);
    av_long(&a, (int64_t)item.n);
    av_raw(&a, item.b, item.n);
    av_long(&a, 2);
    av_raw(&a, item.b, item.n);
    av_raw(&a, item.b, item.n);
    av_long(&a, 0);
    av_long(&a, 300000);
    av_str(&a, "EUR");
    av_long(&a, RILL_STATUS_OPEN);
    av_long(&a, 1709210096789);
    av_str(&a, "corr-1");
    CU_ASSERT_FATAL(ok(decode(NULL, 0, a.b, a.n, &ev)));
    CU_ASSERT_EQUAL(ev.u.order.item_cnt, 3);
    CU_ASSERT_STRING_EQUAL(ev.u.order.items[2].product_id, "prod-0");
    CU_ASSERT_EQUAL(ev.u.order.items[2].unit_price_e4, 50000);
    rill_event_clear(&ev);
}

/* ---- JSON ---- */

static rill_err_t json(const char *text, const char *key, rill_event_t *ev)
{
    return decode(key, key ? strlen(key) : 0, text, strlen(text), ev);
}

static void test_json_sample_order(void)
{
    rill_event_t ev = { 0 };
    const char *text =
        " \n{\"orderId\":\"o-1\",\"customerId\":\"c-\\u00e9\",\"status\":1000,"
        "\"timestamp\":\"2024-02-29T12:34:56.789Z\",\"total\":\"24.6801\",\"extra\":{\"a\":"
        "[1,2,{\"b\":null}],\"items\":7},\"items\":[{\"productId\":\"p1\",\"quantity\":2,"
        "\"unitPrice\":\"12.34\",\"category\":\"books\"},{\"productId\":\"p2\",\"quantity\":1,"
        "\"unitPrice\":0.0001,\"ignored\":true}]}\n";
    CU_ASSERT_FATAL(ok(json(text, "store-7", &ev)));
    const rill_order_placed_t *o = &ev.u.order;
    CU_ASSERT_EQUAL(ev.type, RILL_EVENT_ORDER_PLACED);
    CU_ASSERT_STRING_EQUAL(o->order_id, "o-1");
    CU_ASSERT_STRING_EQUAL(o->customer_id, "c-\xc3\xa9");
    CU_ASSERT_STRING_EQUAL(o->location_id, "store-7"); /* from the key */
    CU_ASSERT_STRING_EQUAL(rill_event_location(&ev), "store-7");
    CU_ASSERT_EQUAL(o->status, RILL_STATUS_OPEN);
    CU_ASSERT_EQUAL(o->event_time, 1709210096789);
    CU_ASSERT_EQUAL(o->total_e4, 246801);
    CU_ASSERT_STRING_EQUAL(o->currency, "EUR");
    CU_ASSERT_STRING_EQUAL(o->correlation_id, "o-1");
    CU_ASSERT_EQUAL_FATAL(o->item_cnt, 2);
    CU_ASSERT_STRING_EQUAL(o->items[0].product_id, "p1");
    CU_ASSERT_STRING_EQUAL(o->items[0].category, "books");
    CU_ASSERT_EQUAL(o->items[0].quantity, 2);
    CU_ASSERT_EQUAL(o->items[0].unit_price_e4, 123400);
    CU_ASSERT_STRING_EQUAL(o->items[1].product_id, "p2");
    CU_ASSERT_STRING_EQUAL(o->items[1].category, "");
    CU_ASSERT_EQUAL(o->items[1].unit_price_e4, 1);

    /* JSON in, Avro out and back. */
    roundtrip(&ev);
    rill_event_clear(&ev);
}

static void test_json_optional_fields(void)
{
    rill_event_t ev = { 0 };
    CU_ASSERT_FATAL(ok(json("{\"orderId\":\"o-1\",\"customerId\":\"c\",\"status\":1000,"
                            "\"timestamp\":1700000000000,\"total\":5,\"locationId\":\"wh-2\","
                            "\"currency\":\"USD\",\"correlationId\":\"trace-9\",\"items\":"
                            "[{\"productId\":\"p\",\"quantity\":1,\"unitPrice\":5}]}",
                            "store-7", &ev)));
    CU_ASSERT_STRING_EQUAL(ev.u.order.location_id, "wh-2"); /* the field wins over the key */
    CU_ASSERT_STRING_EQUAL(ev.u.order.currency, "USD");
    CU_ASSERT_STRING_EQUAL(ev.u.order.correlation_id, "trace-9");
    CU_ASSERT_EQUAL(ev.u.order.event_time, 1700000000000);
    CU_ASSERT_EQUAL(ev.u.order.total_e4, 50000);
    rill_event_clear(&ev);
    /* Escaped keys are keys. */
    CU_ASSERT_FATAL(ok(json("{\"\\u006frderId\":\"o-1\",\"customerId\":\"c\",\"status\":1000,"
                            "\"timestamp\":0,\"total\":0,\"items\":[{\"productId\":\"p\","
                            "\"quantity\":1,\"unitPrice\":0}]}",
                            "k", &ev)));
    CU_ASSERT_STRING_EQUAL(ev.u.order.order_id, "o-1");
    rill_event_clear(&ev);
}

/* An order whose one line costs `price` (one unit) and whose total says the
 * same; returns the decoded unit price or -1 with err set. */
static int64_t json_price(const char *price)
{
    char text[512];
    rill_event_t ev = { 0 };
    snprintf(text, sizeof text,
             "{\"orderId\":\"o\",\"customerId\":\"c\",\"status\":1000,\"timestamp\":0,"
             "\"total\":%s,\"items\":[{\"productId\":\"p\",\"quantity\":1,\"unitPrice\":%s}]}",
             price, price);
    if (json(text, "k", &ev) != RILL_OK)
        return -1;
    int64_t v = ev.u.order.items[0].unit_price_e4;
    CU_ASSERT_EQUAL(ev.u.order.total_e4, v);
    rill_event_clear(&ev);
    return v;
}

static void test_json_money_exact(void)
{
    static const struct {
        const char *text;
        int64_t e4;
    } good[] = {
        { "\"12.34\"", 123400 }, { "12.34", 123400 }, { "\"0.0001\"", 1 }, { "0.0001", 1 },
        { "19.999", 199990 }, { "\"19.999\"", 199990 }, { "7", 70000 }, { "\"7\"", 70000 },
        { "0", 0 }, { "\"0.10\"", 1000 }, { "1234567.8901", 12345678901 },
        { "\"922337203685477.5807\"", INT64_MAX }, { "0.1", 1000 }, { "\"0.3\"", 3000 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = json_price(good[i].text);
        if (v != good[i].e4)
            fprintf(stderr, "\n    %s gave %lld (%s)\n", good[i].text, (long long)v, err);
        CU_ASSERT_EQUAL(v, good[i].e4);
    }
    static const struct {
        const char *text, *want;
    } bad[] = {
        { "\"1.00001\"", "field 'total' has more than 4 decimals" },
        { "12.34567", "more than 4 decimals" },
        { "1e3", "field 'total' must not use an exponent" },
        { "\"1E3\"", "must not use an exponent" },
        { "1.5e-2", "must not use an exponent" },
        { "\"922337203685477.5808\"", "field 'total' overflows" },
        { "99999999999999999999", "overflows" },
        { "\"01.5\"", "is not a decimal number" },
        { "\"1.\"", "is not a decimal number" },
        { "\".5\"", "is not a decimal number" },
        { "\"12,34\"", "is not a decimal number" },
        { "\" 1\"", "is not a decimal number" },
        { "\"\"", "is not a decimal number" },
        { "\"+1\"", "is not a decimal number" },
        { "true", "must be a decimal number or string" },
        { "null", "must be a decimal number or string" },
        { "-1", "field 'unit_price_e4' of items[0] must be >= 0" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(json_price(bad[i].text), -1);
        CU_ASSERT(has(err, bad[i].want));
    }
}

static int64_t json_time(const char *ts)
{
    char text[512];
    rill_event_t ev = { 0 };
    snprintf(text, sizeof text,
             "{\"orderId\":\"o\",\"customerId\":\"c\",\"status\":1000,\"timestamp\":%s,"
             "\"total\":1,\"items\":[{\"productId\":\"p\",\"quantity\":1,\"unitPrice\":1}]}",
             ts);
    if (json(text, "k", &ev) != RILL_OK)
        return -1;
    int64_t v = ev.u.order.event_time;
    rill_event_clear(&ev);
    return v;
}

static void test_json_timestamps(void)
{
    CU_ASSERT_EQUAL(json_time("\"2024-02-29T12:34:56.789Z\""), 1709210096789);
    CU_ASSERT_EQUAL(json_time("\"2024-02-29T12:34:56Z\""), 1709210096000);
    CU_ASSERT_EQUAL(json_time("\"1970-01-01T00:00:00Z\""), 0);
    CU_ASSERT_EQUAL(json_time("\"2000-03-01T00:00:00.5Z\""), 951868800500);
    CU_ASSERT_EQUAL(json_time("\"2099-12-31T23:59:59.999Z\""), 4102444799999);
    CU_ASSERT_EQUAL(json_time("1709210096789"), 1709210096789);
    static const char *const bad[] = {
        "\"2024-02-30T00:00:00Z\"", "\"2023-02-29T00:00:00Z\"", "\"2024-01-01T24:00:00Z\"",
        "\"2024-01-01T00:60:00Z\"", "\"2024-13-01T00:00:00Z\"", "\"2024-01-01 00:00:00Z\"",
        "\"2024-01-01T00:00:00\"", "\"2024-01-01T00:00:00.1234Z\"", "\"2024-01-01T00:00:00.Z\"",
        "\"2024-01-01T00:00:00+01:00\"", "\"1969-12-31T23:59:59Z\"", "\"1709210096789\"",
        "true",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(json_time(bad[i]), -1);
        CU_ASSERT(has(err, "field 'timestamp' must be epoch milliseconds or an iso-8601"));
    }
    CU_ASSERT_EQUAL(json_time("1.5"), -1);
    CU_ASSERT(has(err, "field 'timestamp' must be an integer"));
    CU_ASSERT_EQUAL(json_time("-1"), -1);
    CU_ASSERT(has(err, "field 'event_time' must be >= 0"));
}

static void test_json_missing_fields(void)
{
    static const char *const top[][2] = {
        { "orderId", "\"orderId\":\"o-1\"" },
        { "customerId", "\"customerId\":\"c-1\"" },
        { "status", "\"status\":1000" },
        { "timestamp", "\"timestamp\":1700000000000" },
        { "total", "\"total\":\"24.68\"" },
        { "items", "\"items\":[{\"productId\":\"p1\",\"quantity\":2,\"unitPrice\":\"12.34\"}]" },
    };
    static const char *const line[][2] = {
        { "productId", "\"productId\":\"p1\"" },
        { "quantity", "\"quantity\":2" },
        { "unitPrice", "\"unitPrice\":\"12.34\"" },
    };
    size_t ntop = sizeof top / sizeof top[0], nline = sizeof line / sizeof line[0];
    char text[1024], want[128];
    for (size_t skip = 0; skip <= ntop; skip++) {
        size_t n = (size_t)snprintf(text, sizeof text, "{");
        for (size_t k = 0; k < ntop; k++)
            if (k != skip)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", n > 1 ? "," : "",
                                      top[k][1]);
        snprintf(text + n, sizeof text - n, "}");
        if (skip == ntop) { /* nothing left out: the template itself is good */
            rill_event_t ev = { 0 };
            CU_ASSERT(ok(json(text, "k", &ev)));
            rill_event_clear(&ev);
            continue;
        }
        snprintf(want, sizeof want, "missing field '%s'", top[skip][0]);
        expect_bad_json(text, want);
    }
    for (size_t skip = 0; skip < nline; skip++) {
        size_t n = (size_t)snprintf(text, sizeof text,
                                    "{\"orderId\":\"o\",\"customerId\":\"c\",\"status\":1000,"
                                    "\"timestamp\":0,\"total\":\"24.68\",\"items\":[{");
        size_t open = n;
        for (size_t k = 0; k < nline; k++)
            if (k != skip)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", n > open ? "," : "",
                                      line[k][1]);
        snprintf(text + n, sizeof text - n, "}]}");
        snprintf(want, sizeof want, "missing field '%s' of items[0]", line[skip][0]);
        expect_bad_json(text, want);
    }
    /* No locationId and no key to fall back on. */
    expect_bad_key(NULL, "{\"orderId\":\"o\",\"customerId\":\"c\",\"status\":1000,\"timestamp\":0,"
                         "\"total\":0,\"items\":[{\"productId\":\"p\",\"quantity\":1,"
                         "\"unitPrice\":0}]}",
                   strlen("{\"orderId\":\"o\",\"customerId\":\"c\",\"status\":1000,"
                          "\"timestamp\":0,\"total\":0,\"items\":[{\"productId\":\"p\","
                          "\"quantity\":1,\"unitPrice\":0}]}"),
                   "missing field 'locationId' and no record key");
}

#define ORDER_HEAD "{\"orderId\":\"o\",\"customerId\":\"c\",\"timestamp\":0,"
#define ONE_LINE "\"items\":[{\"productId\":\"p\",\"quantity\":1,\"unitPrice\":1}]"

static void test_json_bad(void)
{
    expect_bad_json("{\"orderId\":", "malformed json at byte 11");
    expect_bad_json("{\"orderId\":\"o\",}", "malformed json");
    expect_bad_json("{\"orderId\":\"o\"} x", "malformed json");
    expect_bad_json("[1]", "bad magic byte 0x5b");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1," ONE_LINE ",\"orderId\":\"o2\"}",
                    "duplicate key 'orderId'");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1," ONE_LINE ",\"\\u006frderId\":\"x\"}",
                    "duplicate key 'orderId'");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"items\":[{\"productId\":\"p\","
                               "\"quantity\":1,\"quantity\":1,\"unitPrice\":1}]}",
                    "duplicate key 'quantity' of items[0]");
    expect_bad_json("{\"orderId\":5,\"customerId\":\"c\",\"timestamp\":0,\"status\":1000,"
                    "\"total\":1," ONE_LINE "}",
                    "field 'orderId' must be a string");
    expect_bad_json(ORDER_HEAD "\"status\":1001,\"total\":1," ONE_LINE "}",
                    "field 'status' must be 1000, not 1001");
    expect_bad_json(ORDER_HEAD "\"status\":\"1000\",\"total\":1," ONE_LINE "}",
                    "field 'status' must be an integer");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"items\":[]}",
                    "field 'items' must have at least one item");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"items\":{}}",
                    "field 'items' must be an array");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"items\":[1]}",
                    "items[0] must be an object");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":0,\"items\":[{\"productId\":\"p\","
                               "\"quantity\":0,\"unitPrice\":1}]}",
                    "field 'quantity' of items[0] must be > 0");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":2,\"items\":[{\"productId\":\"p\","
                               "\"quantity\":2.0,\"unitPrice\":1}]}",
                    "field 'quantity' of items[0] must be an integer");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":2,\"items\":[{\"productId\":\"p\","
                               "\"quantity\":4294967297,\"unitPrice\":1}]}",
                    "field 'quantity' of items[0] is out of range");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"items\":[{\"productId\":\"p\","
                               "\"quantity\":1,\"unitPrice\":\"12.34\"}]}",
                    "field 'total_e4' is 10000, but the items sum to 123400");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"currency\":\"eur\"," ONE_LINE "}",
                    "field 'currency' must be three upper-case letters");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"locationId\":\"a\\u0000b\"," ONE_LINE
                               "}",
                    "field 'locationId' contains a nul byte");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"locationId\":\"\xff\"," ONE_LINE "}",
                    "field 'locationId' is not valid utf-8");
    expect_bad_json(ORDER_HEAD "\"status\":1000,\"total\":1,\"locationId\":\"\"," ONE_LINE "}",
                    "field 'location_id' is empty");
    expect_bad_key("\xc3", ORDER_HEAD "\"status\":1000,\"total\":1," ONE_LINE "}",
                   strlen(ORDER_HEAD "\"status\":1000,\"total\":1," ONE_LINE "}"),
                   "record key is not utf-8");

    /* Nesting past the reader's bound, in a key nobody reads. */
    char deep[512];
    size_t n = (size_t)snprintf(deep, sizeof deep, "{\"x\":");
    for (int i = 0; i < 70; i++)
        deep[n++] = '[';
    for (int i = 0; i < 70; i++)
        deep[n++] = ']';
    snprintf(deep + n, sizeof deep - n, "}");
    expect_bad_json(deep, "malformed json");

    /* A string field longer than RILL_SERDE_MAX_STRING. */
    static char longer[4096];
    n = (size_t)snprintf(longer, sizeof longer, "{\"orderId\":\"");
    memset(longer + n, 'o', RILL_SERDE_MAX_STRING + 1);
    n += RILL_SERDE_MAX_STRING + 1;
    snprintf(longer + n, sizeof longer - n,
             "\",\"customerId\":\"c\",\"timestamp\":0,\"status\":1000,\"total\":1," ONE_LINE "}");
    expect_bad_json(longer, "field 'orderId' is longer than 1024 bytes");
}

static void test_json_too_many_items(void)
{
    size_t cap = 64 + (RILL_SERDE_MAX_ITEMS + 1) * 64;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, ORDER_HEAD "\"status\":1000,\"total\":%d,\"items\":[",
                                RILL_SERDE_MAX_ITEMS + 1);
    for (int i = 0; i <= RILL_SERDE_MAX_ITEMS; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s{\"productId\":\"p\",\"quantity\":1,"
                              "\"unitPrice\":1}", i ? "," : "");
    snprintf(text + n, cap - n, "]}");
    expect_bad_json(text, "field 'items' has more than 1000 items");
    free(text);
}

static void test_json_encode(void)
{
    rill_event_t ev = sample_order(0), back = { 0 };
    rill_order_item_t its[] = { { "p1", "a\tb", 2, 123400 }, { "p2", "", 1, 1 } };
    ev.u.order.items = its;
    ev.u.order.item_cnt = 2;
    ev.u.order.customer_id = "c-\"q\"\\";
    ev.u.order.total_e4 = 246801;
    rill_buf_t b = { 0 };
    CU_ASSERT_FATAL(ok(rill_serde_encode_json(&ev, &b, err, sizeof err)));
    const char *want =
        "{\"orderId\":\"order-42\",\"customerId\":\"c-\\\"q\\\"\\\\\",\"locationId\":"
        "\"store-7\",\"status\":1000,\"timestamp\":1709210096789,\"total\":\"24.6801\","
        "\"currency\":\"EUR\",\"correlationId\":\"corr-1\",\"items\":[{\"productId\":\"p1\","
        "\"category\":\"a\\u0009b\",\"quantity\":2,\"unitPrice\":\"12.34\"},{\"productId\":"
        "\"p2\",\"category\":\"\",\"quantity\":1,\"unitPrice\":\"0.0001\"}]}";
    CU_ASSERT_EQUAL(b.len, strlen(want));
    CU_ASSERT(b.len == strlen(want) && !memcmp(b.p, want, b.len));
    CU_ASSERT_FATAL(ok(decode(NULL, 0, b.p, b.len, &back)));
    CU_ASSERT_STRING_EQUAL(diff(&ev, &back), "");
    rill_event_clear(&back);

    /* Whole units print without a fraction; many lines survive the trip. */
    ev = sample_order(RILL_SERDE_MAX_ITEMS);
    CU_ASSERT_FATAL(ok(rill_serde_encode_json(&ev, &b, err, sizeof err)));
    CU_ASSERT_FATAL(ok(decode(NULL, 0, b.p, b.len, &back)));
    CU_ASSERT_STRING_EQUAL(diff(&ev, &back), "");
    rill_event_clear(&back);

    ev = sample_status();
    CU_ASSERT_EQUAL(rill_serde_encode_json(&ev, &b, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT(has(err, "only order_placed has a json shape, not 'order_status'"));
    rill_buf_free(&b);
}

/* ---- hostile and wrong Avro ---- */

static void test_framing_errors(void)
{
    static const unsigned char x[] = { 'x', 0, 0, 0, 1 };
    static const unsigned char one[] = { 1, 0, 0, 0, 1, 0 };
    static const unsigned char id77[] = { 0, 0, 0, 0, 77, 2, 'a' };
    static const unsigned char big_id[] = { 0, 0x80, 0, 0, 1, 2, 'a' };
    static const unsigned char shortv[] = { 0, 0, 0 };
    expect_bad("", 0, "empty value");
    expect_bad(NULL, 0, "empty value");
    expect_bad(x, sizeof x, "bad magic byte 0x78");
    expect_bad(one, sizeof one, "bad magic byte 0x01");
    expect_bad(id77, sizeof id77, "unknown schema id 77");
    expect_bad(big_id, sizeof big_id, "unknown schema id -2147483647");
    expect_bad(shortv, sizeof shortv, "truncated record: header needs 5 bytes, 3 left");
    /* Over the size limit: refused before anything is read. */
    size_t n = RILL_SERDE_MAX_VALUE + 1;
    unsigned char *huge = calloc(1, n);
    huge[4] = 1;
    expect_bad(huge, n, "value of 1048577 bytes exceeds the limit of 1048576");
    huge[0] = '{';
    expect_bad(huge, n, "exceeds the limit");
    free(huge);
}

/* Every prefix of a valid record fails cleanly. */
static void prefixes_fail(const rill_event_t *ev)
{
    rill_buf_t b = { 0 };
    CU_ASSERT_FATAL(ok(rill_serde_encode(S, ev, &b, err, sizeof err)));
    for (size_t i = 0; i < b.len; i++)
        expect_bad(b.p, i,
                   i == 0 ? "empty value"
                          : i < RILL_SERDE_HEADER ? "truncated record: header"
                                                  : "truncated record: ");
    /* The whole record is good, one more byte is not. */
    rill_event_t out = { 0 };
    CU_ASSERT(ok(decode(NULL, 0, b.p, b.len, &out)));
    rill_event_clear(&out);
    unsigned char *more = malloc(b.len + 1);
    memcpy(more, b.p, b.len);
    more[b.len] = 0;
    expect_bad(more, b.len + 1, "trailing bytes after the record: 1");
    free(more);
    rill_buf_free(&b);
}

static void test_every_prefix_fails(void)
{
    rill_event_t ev = sample_order(3);
    prefixes_fail(&ev);
    ev = sample_payment(0, "declined");
    prefixes_fail(&ev);
    ev = sample_payment(1, NULL);
    prefixes_fail(&ev);
    ev = sample_inventory(1, 2);
    prefixes_fail(&ev);
    ev = sample_shipped(2);
    prefixes_fail(&ev);
    ev = sample_status();
    prefixes_fail(&ev);
    ev = sample_release(2);
    prefixes_fail(&ev);
    ev = sample_notification("hello");
    prefixes_fail(&ev);
}

static void test_hostile_lengths(void)
{
    static struct av a;
    /* A string claiming 2^31 bytes, and one claiming a negative length. */
    av_status_head(&a);
    av_long(&a, (int64_t)1 << 31);
    av_raw(&a, "payment_rejected", 16);
    av_status_tail(&a);
    expect_bad(a.b, a.n, "truncated record: string 'reason' needs 2147483648 bytes, 29 left");
    av_status_head(&a);
    av_long(&a, -5);
    av_status_tail(&a);
    expect_bad(a.b, a.n, "string 'reason' has negative length -5");
    /* Present, but over the string limit. */
    static char big[RILL_SERDE_MAX_STRING + 2];
    memset(big, 'r', RILL_SERDE_MAX_STRING + 1);
    av_status_head(&a);
    av_str(&a, big);
    av_status_tail(&a);
    expect_bad(a.b, a.n, "string 'reason' of 1025 bytes exceeds the limit of 1024");
    /* Not UTF-8 (an overlong NUL), and a NUL inside. */
    av_status_head(&a);
    av_str(&a, "\xc0\x80");
    av_status_tail(&a);
    expect_bad(a.b, a.n, "string 'reason' is not utf-8 without nul bytes");
    av_status_head(&a);
    av_long(&a, 3);
    av_raw(&a, "a\0b", 3);
    av_status_tail(&a);
    expect_bad(a.b, a.n, "string 'reason' is not utf-8 without nul bytes");

    /* Array block counts: 10^9, -10^9, one over the limit, the extremes. */
    static const int64_t counts[] = { 1000000000, -1000000000, 1001, INT64_MIN, INT64_MAX };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        av_hdr(&a, 1);
        av_str(&a, "order-42");
        av_str(&a, "cust-1");
        av_str(&a, "store-7");
        av_long(&a, counts[i]);
        av_str(&a, "prod-0");
        expect_bad(a.b, a.n, "array 'items' has more than 1000 items");
    }
    /* More items than bytes left, and block sizes that lie. */
    av_hdr(&a, 1);
    av_str(&a, "order-42");
    av_str(&a, "cust-1");
    av_str(&a, "store-7");
    av_long(&a, 500);
    av_str(&a, "prod-0");
    expect_bad(a.b, a.n, "truncated record: array 'items' claims 500 items, 7 bytes left");
    struct line l = { "prod-0", 1, 1 };
    av_order(&a, "order-42", &l, 1, 1, "EUR", RILL_STATUS_OPEN);
    size_t at = 1 + 4 + 9 + 7 + 8; /* header, three strings: the block count */
    CU_ASSERT_EQUAL_FATAL(a.b[at], 2); /* count 1 */
    static struct av b;
    b.n = 0;
    av_raw(&b, a.b, at);
    av_long(&b, -1);
    av_long(&b, 3); /* the item takes 7 + 4 + 1 + 1 = 13 bytes */
    av_raw(&b, a.b + at + 1, a.n - at - 1);
    expect_bad(b.b, b.n, "array 'items' block size 3 does not match its 13 bytes of items");
    b.n = at;
    av_long(&b, -1);
    av_long(&b, -13);
    expect_bad(b.b, b.n, "array 'items' has negative block size -13");
    b.n = at;
    av_long(&b, -1);
    av_long(&b, 1000);
    expect_bad(b.b, b.n, "truncated record: array 'items' block needs 1000 bytes, 0 left");
}

static void test_hostile_varints(void)
{
    static struct av a;
    static const unsigned char eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                            0x80, 0x80, 0x80, 0x80, 0x01 };
    static const unsigned char over64[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                            0xff, 0xff, 0xff, 0xff, 0x7f };
    static const unsigned char six[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
    static const unsigned char over32[] = { 0xff, 0xff, 0xff, 0xff, 0x1f };
    /* event_time is a long, old_status an int. */
    av_status_head(&a);
    av_str(&a, "shipped");
    av_raw(&a, eleven, sizeof eleven);
    av_str(&a, "corr-1");
    expect_bad(a.b, a.n, "bad varint: long 'event_time' is longer than 10 bytes");
    av_status_head(&a);
    av_str(&a, "shipped");
    av_raw(&a, over64, sizeof over64);
    av_str(&a, "corr-1");
    expect_bad(a.b, a.n, "bad varint: long 'event_time' overflows 64 bits");
    av_hdr(&a, 5);
    av_str(&a, "order-42");
    av_str(&a, "cust-1");
    av_str(&a, "store-7");
    av_raw(&a, six, sizeof six);
    expect_bad(a.b, a.n, "bad varint: int 'old_status' is longer than 5 bytes");
    av_hdr(&a, 5);
    av_str(&a, "order-42");
    av_str(&a, "cust-1");
    av_str(&a, "store-7");
    av_raw(&a, over32, sizeof over32);
    expect_bad(a.b, a.n, "bad varint: int 'old_status' overflows 32 bits");
    /* A string length that never ends. */
    av_hdr(&a, 5);
    av_raw(&a, eleven, sizeof eleven);
    expect_bad(a.b, a.n, "bad varint: string length 'order_id' is longer than 10 bytes");
}

static void test_union_and_boolean(void)
{
    static struct av a;
    av_payment(&a, 0, RILL_STATUS_PAYMENT_REJECTED, 2, "declined");
    expect_bad(a.b, a.n, "union 'reason' has no branch 2");
    av_payment(&a, 0, RILL_STATUS_PAYMENT_REJECTED, -1, NULL);
    expect_bad(a.b, a.n, "union 'reason' has no branch -1");
    av_payment(&a, 2, RILL_STATUS_PAYMENT_REJECTED, 0, NULL);
    expect_bad(a.b, a.n, "boolean 'approved' is 0x02, not 0 or 1");
    av_payment(&a, 1, RILL_STATUS_PAYMENT_REJECTED, 0, NULL);
    expect_bad(a.b, a.n, "field 'status' must be 1100 when approved, not 1150");
    av_payment(&a, 0, RILL_STATUS_PAID, 0, NULL);
    expect_bad(a.b, a.n, "field 'status' must be 1150 when rejected, not 1100");
    av_payment(&a, 1, RILL_STATUS_PAID, 1, "because");
    expect_bad(a.b, a.n, "field 'reason' must be null when approved");
}

static void test_order_values(void)
{
    static struct av a;
    rill_event_t ev = { 0 };
    struct line three[] = { { "p0", 1, 100 }, { "p1", 2, 200 }, { "p2", 0, 300 } };
    av_order(&a, "order-42", three, 3, 500, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'quantity' of items[2] must be > 0, not 0");
    three[2].qty = -4;
    av_order(&a, "order-42", three, 3, 500, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'quantity' of items[2] must be > 0, not -4");
    three[2] = (struct line){ "p2", 1, -1 };
    av_order(&a, "order-42", three, 3, 499, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'unit_price_e4' of items[2] must be >= 0, not -1");
    three[2] = (struct line){ "p2", 1, 300 };
    av_order(&a, "order-42", three, 3, 800, "EUR", RILL_STATUS_OPEN); /* 100 + 400 + 300 */
    CU_ASSERT(ok(decode(NULL, 0, a.b, a.n, &ev)));
    rill_event_clear(&ev);
    av_order(&a, "order-42", three, 3, 801, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'total_e4' is 801, but the items sum to 800");
    av_order(&a, "order-42", three, 3, 800, "EUR", RILL_STATUS_PAID);
    expect_bad(a.b, a.n, "field 'status' must be 1000, not 1100");
    av_order(&a, "order-42", three, 3, 800, "Eur", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'currency' must be three upper-case letters");
    av_order(&a, "order-42", three, 3, 800, "EURO", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'currency' must be three upper-case letters");
    av_order(&a, "", three, 3, 800, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'order_id' is empty");
    av_order(&a, "order-42", three, 0, 0, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "field 'items' must have at least one item");
    /* Overflow: one line, and the sum of two lines; the largest total. */
    struct line over[] = { { "p0", 2, INT64_MAX / 2 + 1 } };
    av_order(&a, "order-42", over, 1, 0, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "quantity * unit_price_e4 of items[0] overflows int64");
    struct line sum[] = { { "p0", 1, INT64_MAX }, { "p1", 1, 1 } };
    av_order(&a, "order-42", sum, 2, 0, "EUR", RILL_STATUS_OPEN);
    expect_bad(a.b, a.n, "sum of the items overflows int64 at items[1]");
    struct line max[] = { { "p0", 1, INT64_MAX - 1 }, { "p1", 1, 1 } };
    av_order(&a, "order-42", max, 2, INT64_MAX, "EUR", RILL_STATUS_OPEN);
    CU_ASSERT(ok(decode(NULL, 0, a.b, a.n, &ev)));
    rill_event_clear(&ev);
}

/* Values the checks refuse, on the encode side (hand-built events). */
static void expect_encode_bad(const rill_event_t *ev, const char *want)
{
    rill_buf_t b = { 0 };
    CU_ASSERT_EQUAL(rill_serde_encode(S, ev, &b, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT(has(err, want));
    rill_buf_free(&b);
}

static void test_encode_checks(void)
{
    rill_event_t ev = sample_order(2);
    ev.u.order.order_id = NULL;
    expect_encode_bad(&ev, "field 'order_id' is missing");
    ev = sample_order(2);
    ev.u.order.item_cnt = RILL_SERDE_MAX_ITEMS + 1;
    expect_encode_bad(&ev, "field 'items' has 1001 items, more than 1000");
    ev = sample_order(2);
    ev.u.order.items[1].category = NULL;
    expect_encode_bad(&ev, "field 'category' of items[1] is missing");
    ev = sample_order(2);
    ev.u.order.customer_id = "\xff";
    expect_encode_bad(&ev, "field 'customer_id' is not valid utf-8");
    ev = sample_order(2);
    ev.u.order.event_time = -1;
    expect_encode_bad(&ev, "field 'event_time' must be >= 0, not -1");
    ev = sample_order(2);
    ev.type = RILL_EVENT__COUNT;
    expect_encode_bad(&ev, "unknown event type 7");

    ev = sample_payment(2, NULL);
    expect_encode_bad(&ev, "field 'approved' must be 0 or 1, not 2");
    ev = sample_payment(0, NULL);
    ev.u.payment.amount_e4 = -1;
    expect_encode_bad(&ev, "field 'amount_e4' must be >= 0");

    ev = sample_inventory(1, 2);
    ev.u.inventory.status = RILL_STATUS_OUT_OF_STOCK;
    expect_encode_bad(&ev, "field 'status' must be 1200 when reserved, not 1250");
    ev = sample_inventory(0, 2);
    res_items[1].reserved = 2;
    expect_encode_bad(&ev, "field 'reserved' of items[1] must be 0 when the order is not reserved");
    ev = sample_inventory(1, 2);
    res_items[0].reserved = 0;
    expect_encode_bad(&ev, "field 'reserved' of items[0] must be 1 when the order is reserved");
    ev = sample_inventory(1, 2);
    res_items[0].available = -1;
    expect_encode_bad(&ev, "field 'available' of items[0] must be >= 0");
    ev = sample_inventory(1, 2);
    res_items[1].requested = 0;
    expect_encode_bad(&ev, "field 'requested' of items[1] must be > 0");
    ev = sample_inventory(1, 0);
    expect_encode_bad(&ev, "field 'items' must have at least one item");

    ev = sample_shipped(1);
    ev.u.shipped.status = RILL_STATUS_PAID;
    expect_encode_bad(&ev, "field 'status' must be 1300, not 1100");
    ev = sample_shipped(1);
    ev.u.shipped.total_e4 = -5;
    expect_encode_bad(&ev, "field 'total_e4' must be >= 0, not -5");

    ev = sample_status();
    ev.u.status.new_status = RILL_STATUS_OPEN;
    expect_encode_bad(&ev, "field 'new_status' is 1000, not a status an order can change to");
    ev = sample_status();
    ev.u.status.old_status = 1234;
    expect_encode_bad(&ev, "field 'old_status' is 1234, not a status code");
    ev = sample_status();
    ev.u.status.reason = "";
    expect_encode_bad(&ev, "field 'reason' is empty");

    ev = sample_release(2);
    qty_items[1].quantity = 0;
    expect_encode_bad(&ev, "field 'quantity' of items[1] must be > 0, not 0");
    ev = sample_release(2);
    qty_items[0].product_id = "";
    expect_encode_bad(&ev, "field 'product_id' of items[0] is empty");

    ev = sample_notification("m");
    ev.u.notification.channel = "fax";
    expect_encode_bad(&ev, "field 'channel' must be email, sms or push");
    ev = sample_notification("m");
    ev.u.notification.kind = "hello";
    expect_encode_bad(&ev, "field 'kind' must be payment_rejected");
    ev = sample_notification("m");
    ev.u.notification.status = RILL_STATUS_SHIPPED;
    expect_encode_bad(&ev, "field 'status' must be 1900 for kind 'order_cancelled', not 1300");
    ev = sample_notification("m");
    ev.u.notification.notification_id = "order-42:order_shipped";
    expect_encode_bad(&ev, "field 'notification_id' must be order_id:kind");
    ev = sample_notification("m");
    ev.u.notification.notification_id = "order-4";
    expect_encode_bad(&ev, "field 'notification_id' must be order_id:kind");

    /* Strings over the limit, and an event over the value limit. */
    static char big[RILL_SERDE_MAX_STRING + 2];
    memset(big, 'x', RILL_SERDE_MAX_STRING + 1);
    ev = sample_status();
    ev.u.status.reason = big;
    expect_encode_bad(&ev, "field 'reason' is longer than 1024 bytes");
    big[RILL_SERDE_MAX_STRING] = '\0';
    ev = sample_order(RILL_SERDE_MAX_ITEMS);
    for (size_t i = 0; i < RILL_SERDE_MAX_ITEMS; i++)
        order_items[i].product_id = order_items[i].category = big;
    expect_encode_bad(&ev, "encoded order_placed of ");
    CU_ASSERT(has(err, "exceeds the limit of 1048576"));
    rill_buf_t b = { 0 };
    CU_ASSERT_EQUAL(rill_serde_encode_json(&ev, &b, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT(has(err, "json value exceeds the limit of 1048576 bytes"));
    rill_buf_free(&b);
}

/* Encoding reuses the buffer, and the decoder keeps nothing between values. */
static void test_reuse(void)
{
    rill_buf_t b = { 0 };
    rill_event_t big = sample_order(100), small = sample_status(), out = { 0 };
    CU_ASSERT_FATAL(ok(rill_serde_encode(S, &big, &b, err, sizeof err)));
    size_t cap = b.cap;
    CU_ASSERT_FATAL(ok(rill_serde_encode(S, &small, &b, err, sizeof err)));
    CU_ASSERT_EQUAL(b.cap, cap);
    CU_ASSERT_FATAL(ok(decode(NULL, 0, b.p, b.len, &out)));
    CU_ASSERT_STRING_EQUAL(diff(&small, &out), "");
    rill_event_clear(&out);
    /* A failed decode between two good ones leaves no trace. */
    expect_bad(b.p, b.len - 1, "truncated record");
    CU_ASSERT_FATAL(ok(decode(NULL, 0, b.p, b.len, &out)));
    CU_ASSERT_STRING_EQUAL(diff(&small, &out), "");
    rill_event_clear(&out);
    rill_event_clear(&out); /* twice is harmless */
    rill_buf_free(&b);
    rill_buf_free(&b);
}

static CU_TestInfo tests[] = {
    { "the id map gives ids 1..7 both ways", test_id_map },
    { "type names and the .avsc texts, byte for byte", test_names_and_texts },
    { "round trip: order_placed, 1 to 1000 lines", test_roundtrip_order },
    { "round trip: payment_result, null, empty and set reason", test_roundtrip_payment },
    { "round trip: inventory_result", test_roundtrip_inventory },
    { "round trip: order_shipped", test_roundtrip_shipped },
    { "round trip: order_status", test_roundtrip_status },
    { "round trip: stock_release", test_roundtrip_release },
    { "round trip: notifications", test_roundtrip_notification },
    { "framing and avro bytes match an encoder from the spec", test_exact_bytes },
    { "arrays in sized blocks decode", test_blocked_array },
    { "json: sample order, key as location, then avro", test_json_sample_order },
    { "json: optional fields and escaped keys", test_json_optional_fields },
    { "json: money converts exactly or is refused", test_json_money_exact },
    { "json: timestamps, epoch ms and iso-8601", test_json_timestamps },
    { "json: each required field missing", test_json_missing_fields },
    { "json: malformed, duplicate, wrong types and values", test_json_bad },
    { "json: more than 1000 items", test_json_too_many_items },
    { "json: encode shape, exact decimals, round trip", test_json_encode },
    { "framing: empty, magic, schema id, header, size", test_framing_errors },
    { "every prefix of every type fails cleanly", test_every_prefix_fails },
    { "hostile string lengths and array counts", test_hostile_lengths },
    { "over-long and overflowing varints", test_hostile_varints },
    { "union branches, booleans, payment consistency", test_union_and_boolean },
    { "order values: quantity, price, total, overflow", test_order_values },
    { "encode checks every type's values", test_encode_checks },
    { "buffers and the serde are reusable", test_reuse },
    CU_TEST_INFO_NULL,
};
RILL_SUITE_FULL("serde", tests, serde_suite_init, serde_suite_cleanup)
