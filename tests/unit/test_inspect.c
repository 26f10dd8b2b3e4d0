/*
 * test_inspect.c - unit tests of the pure parts of `rill inspect`, no broker:
 * the JSON writer (commas, escapes of every kind of hostile byte, base64 by
 * RFC 4648's vectors and a round trip, compact re-emission of JSON, the
 * depth limit); a value shown by the serde (Avro decoded with the schema's
 * field names and unions as their branch, JSON compacted, text, binary,
 * and framed values that do not decode: truncated at every length, an
 * unknown id, a hostile length, all shown as their exact bytes with the
 * reason; random bytes always give valid JSON without a raw control byte);
 * the offset specs and how they resolve against watermarks; a record as a
 * JSON line and as table cells (keys and headers binary, text with
 * terminal escapes); the aligned table; and the command line's usage
 * errors, run in-process.
 */
#include "tests/lib/drive.h"
#include "tests/lib/jsonq.h"
#include "tests/lib/suite.h"
#include "schemas/serde.h"
#include "topology/admin/inspect.h"
#include "topology/base/jsonw.h"
#include "topology/cli/cli.h"
#include "topology/cli/inspect_cli.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rill_serde_t *S;

static int init(void)
{
    char err[256];
    return rill_serde_new(&S, err, sizeof err) == RILL_OK ? 0 : -1;
}

static int cleanup(void)
{
    rill_serde_destroy(S);
    S = NULL;
    return 0;
}

/* No byte below 0x20 and no DEL anywhere in s[0..n) (newlines included). */
static int no_raw_controls(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) {
            fprintf(stderr, "\n    raw control byte 0x%02x at %zu", (unsigned char)s[i], i);
            return 0;
        }
    return 1;
}

/* base64 text (no quotes) decoded into out; its length, or -1. */
static long unbase64(const char *b64, size_t n, unsigned char *out)
{
    if (!b64 || n % 4)
        return -1;
    int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (len < 0)
        return -1;
    for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
        len--;
    return len;
}

/* ---- the JSON writer -------------------------------------------------------------- */

static void test_jsonw_structure(void)
{
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    rill_jsonw_object_begin(&w);
    rill_jsonw_key(&w, "a");
    rill_jsonw_int(&w, -5);
    rill_jsonw_key(&w, "b");
    rill_jsonw_array_begin(&w);
    rill_jsonw_bool(&w, 1);
    rill_jsonw_null(&w);
    rill_jsonw_object_begin(&w);
    rill_jsonw_object_end(&w);
    rill_jsonw_array_begin(&w);
    rill_jsonw_array_end(&w);
    rill_jsonw_cstr(&w, NULL);
    rill_jsonw_array_end(&w);
    rill_jsonw_key(&w, "c");
    rill_jsonw_cstr(&w, "x");
    rill_jsonw_object_end(&w);
    CU_ASSERT_FALSE(rill_jsonw_failed(&w));
    CU_ASSERT_STRING_EQUAL(w.p, "{\"a\":-5,\"b\":[true,null,{},[],null],\"c\":\"x\"}");
    rill_jsonw_reset(&w);
    rill_jsonw_int(&w, INT64_MIN);
    CU_ASSERT_STRING_EQUAL(w.p, "-9223372036854775808");
    rill_jsonw_free(&w);
    /* deeper than the limit: failed, not a crash nor a bad text */
    rill_jsonw_init(&w);
    for (int i = 0; i < RILL_JSONW_MAX_DEPTH + 2; i++)
        rill_jsonw_array_begin(&w);
    CU_ASSERT_TRUE(rill_jsonw_failed(&w));
    rill_jsonw_free(&w);
}

static void test_jsonw_escapes(void)
{
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    /* quote, backslash, newline, ESC (a terminal escape), DEL, the C1 CSI
     * U+009B, a lone 0xff, a truncated 3-byte sequence, an overlong '/',
     * a surrogate, then é and an emoji that pass as they are, and a NUL */
    static const char in[] = "q\"b\\n\n\x1b[31m\x7f\xc2\x9b\xff\xe2\x82\xc0\xaf\xed\xa0\x80"
                             "\xc3\xa9\xf0\x9f\x98\x80z";
    rill_jsonw_string(&w, in, sizeof in); /* the trailing NUL too */
    CU_ASSERT_STRING_EQUAL(w.p, "\"q\\\"b\\\\n\\u000a\\u001b[31m\\u007f\\u009b\\ufffd\\ufffd"
                                "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xc3\xa9\xf0\x9f\x98\x80"
                                "z\\u0000\"");
    CU_ASSERT(no_raw_controls(w.p, w.len));
    /* and what it wrote is JSON a reader takes back */
    rill_json_val_t root;
    CU_ASSERT_EQUAL(it_json_parse(w.p, w.len, &root), 0);
    rill_jsonw_free(&w);

    CU_ASSERT_TRUE(rill_utf8_valid((const unsigned char *)"\xc3\xa9", 2, 0));
    CU_ASSERT_FALSE(rill_utf8_valid((const unsigned char *)"a\0b", 3, 0));
    CU_ASSERT_TRUE(rill_utf8_valid((const unsigned char *)"a\0b", 3, 1));
    CU_ASSERT_FALSE(rill_utf8_valid((const unsigned char *)"\xf4\x90\x80\x80", 4, 0)); /* > U+10FFFF */
    CU_ASSERT_FALSE(rill_utf8_valid((const unsigned char *)"\xc3", 1, 0));
}

static void test_jsonw_base64(void)
{
    /* RFC 4648 section 10 */
    static const char *const in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const out[] = { "\"\"", "\"Zg==\"", "\"Zm8=\"", "\"Zm9v\"",
                                       "\"Zm9vYg==\"", "\"Zm9vYmE=\"", "\"Zm9vYmFy\"" };
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    for (int i = 0; i < 7; i++) {
        rill_jsonw_reset(&w);
        rill_jsonw_base64(&w, in[i], strlen(in[i]));
        CU_ASSERT_STRING_EQUAL(w.p, out[i]);
    }
    /* a value larger than one chunk comes back byte for byte */
    size_t n = 10007;
    unsigned char *big = malloc(n), *back = malloc(n + 8);
    for (size_t i = 0; i < n; i++)
        big[i] = (unsigned char)(i * 131 + 7);
    rill_jsonw_reset(&w);
    rill_jsonw_base64(&w, big, n);
    CU_ASSERT_EQUAL(unbase64(w.p + 1, w.len - 2, back), (long)n);
    CU_ASSERT_EQUAL(memcmp(big, back, n), 0);
    free(big);
    free(back);
    rill_jsonw_free(&w);
}

static void test_jsonw_reemit(void)
{
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    static const char pretty[] = " {\n  \"a\" : [ 1, 2.5e3 , {\"b\": \"c\\n\\u001b\"} ],\n"
                                 "\t\"d\\u00e9\": true , \"n\": null\n} \n";
    CU_ASSERT_EQUAL(rill_jsonw_json(&w, pretty, strlen(pretty)), 0);
    CU_ASSERT_STRING_EQUAL(w.p, "{\"a\":[1,2.5e3,{\"b\":\"c\\u000a\\u001b\"}],\"d\xc3\xa9\":true,"
                                "\"n\":null}");
    /* inside an array, with the writer's commas */
    rill_jsonw_reset(&w);
    rill_jsonw_array_begin(&w);
    rill_jsonw_int(&w, 1);
    CU_ASSERT_EQUAL(rill_jsonw_json(&w, "\"x\"", 3), 0);
    CU_ASSERT_EQUAL(rill_jsonw_json(&w, "{oops", 5), -1);
    rill_jsonw_array_end(&w);
    CU_ASSERT_STRING_EQUAL(w.p, "[1,\"x\"]");
    rill_jsonw_free(&w);
}

/* ---- values shown by the serde ------------------------------------------------------- */

static rill_order_item_t items[2] = { { "P0001", "toys", 2, 12500 }, { "P0002", "books", 1, 100 } };

static rill_event_t order(void)
{
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){ "O-1", "C-\xc3\xa9", "L0007", items, 2, 25100, "EUR",
                                        RILL_STATUS_OPEN, 1790812800000, "corr-1" };
    return ev;
}

struct shown_text {
    char text[1 << 16];
    size_t len;
    struct rill_serde_shown info;
    rill_json_val_t root;
};

/* Shows value[0..n) (copied to an exact heap buffer for ASan); the JSON it
 * wrote must parse and hold no raw control byte. */
static int show(const void *value, size_t n, struct shown_text *out)
{
    unsigned char *copy = value ? malloc(n ? n : 1) : NULL;
    if (copy && n)
        memcpy(copy, value, n);
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    rill_err_t rc = rill_serde_show(S, copy, n, &w, &out->info);
    free(copy);
    out->len = w.len < sizeof out->text - 1 ? w.len : sizeof out->text - 1;
    memcpy(out->text, w.p ? w.p : "", out->len);
    out->text[out->len] = '\0';
    rill_jsonw_free(&w);
    int ok = rc == RILL_OK && it_json_parse(out->text, out->len, &out->root) == 0 &&
             no_raw_controls(out->text, out->len);
    if (!ok)
        fprintf(stderr, "\n    shown: %.300s", out->text);
    return ok;
}

static void test_show_avro(void)
{
    static struct shown_text s;
    rill_event_t ev = order();
    rill_buf_t b = { 0 };
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(S, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_FATAL(show(b.p, b.len, &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_AVRO);
    CU_ASSERT_EQUAL(s.info.schema_id, rill_serde_schema_id(RILL_EVENT_ORDER_PLACED));
    CU_ASSERT_STRING_EQUAL(s.info.schema, "order_placed");
    CU_ASSERT_STRING_EQUAL(s.info.error, "");
    CU_ASSERT_STRING_EQUAL(it_json_text(&s.root, "order_id"), "O-1");
    CU_ASSERT_STRING_EQUAL(it_json_text(&s.root, "customer_id"), "C-\xc3\xa9");
    CU_ASSERT_EQUAL(it_json_num(&s.root, "total_e4", -1), 25100);
    CU_ASSERT_EQUAL(it_json_num(&s.root, "event_time", -1), 1790812800000LL);
    CU_ASSERT_EQUAL(it_json_count(&s.root, "items"), 2);
    CU_ASSERT_STRING_EQUAL(it_json_text(&s.root, "items.1.product_id"), "P0002");
    CU_ASSERT_EQUAL(it_json_num(&s.root, "items.0.quantity", -1), 2);
    CU_ASSERT_EQUAL(it_json_count(&s.root, ""), 9); /* every field of the schema */

    /* a union: null, then its string branch, as plain values */
    ev = (rill_event_t){ .type = RILL_EVENT_PAYMENT_RESULT };
    ev.u.payment = (rill_payment_result_t){ "O-1", "C-1", "L1", 1, RILL_STATUS_PAID, 25100,
                                            "EUR", NULL, 1790812800000, "corr-1" };
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(S, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_FATAL(show(b.p, b.len, &s));
    CU_ASSERT_STRING_EQUAL(s.info.schema, "payment_result");
    CU_ASSERT_TRUE(it_json_is_null(&s.root, "reason"));
    CU_ASSERT_TRUE(it_json_at(&s.root, "approved", &s.root) && s.root.type == RILL_JSON_TRUE);
    ev.u.payment.approved = 0;
    ev.u.payment.status = RILL_STATUS_PAYMENT_REJECTED;
    ev.u.payment.reason = "card \"declined\"";
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(S, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_FATAL(show(b.p, b.len, &s));
    CU_ASSERT_STRING_EQUAL(it_json_text(&s.root, "reason"), "card \"declined\"");
    rill_buf_free(&b);
}

/* A framed value that does not decode: shown as its exact bytes, in
 * base64, with the reason. */
static void expect_undecoded(const unsigned char *v, size_t n, const char *why)
{
    static struct shown_text s;
    static unsigned char back[1 << 15];
    CU_ASSERT_FATAL(show(v, n, &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_BASE64);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.info.error, why));
    if (!strstr(s.info.error, why))
        fprintf(stderr, "\n    error '%s', wanted '%s'", s.info.error, why);
    size_t len = 0;
    const char *b64 = it_json_str(&s.root, "", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b64);
    CU_ASSERT_EQUAL(unbase64(b64, len, back), (long)n);
    CU_ASSERT_EQUAL(memcmp(back, v, n), 0);
}

static void test_show_hostile(void)
{
    static struct shown_text s;
    rill_event_t ev = order();
    rill_buf_t b = { 0 };
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(S, &ev, &b, err, sizeof err), RILL_OK);
    /* every truncation of a good record */
    for (size_t n = RILL_SERDE_HEADER; n < b.len; n++)
        expect_undecoded(b.p, n, "");
    expect_undecoded(b.p, b.len / 2, "truncated");
    /* trailing garbage, an unknown id, a string claiming 2^30 bytes */
    unsigned char *longer = malloc(b.len + 1);
    memcpy(longer, b.p, b.len);
    longer[b.len] = 0x01;
    expect_undecoded(longer, b.len + 1, "trailing");
    free(longer);
    unsigned char unknown[64];
    memcpy(unknown, b.p, 64);
    unknown[4] = 99;
    expect_undecoded(unknown, 64, "unknown schema id 99");
    static const unsigned char huge[] = { 0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x08, 'x' };
    expect_undecoded(huge, sizeof huge, "order_id");
    rill_buf_free(&b);

    /* not framed: a bad magic byte with text after it is text, escaped */
    static const char magic7[] = "\x07\x1b]0;owned\x07 plain";
    CU_ASSERT_FATAL(show(magic7, strlen(magic7), &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_STRING);
    CU_ASSERT_EQUAL(s.info.schema_id, -1);
    CU_ASSERT_STRING_EQUAL(s.info.error, "");
    size_t len = 0;
    const char *text = it_json_str(&s.root, "", &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(memcmp(text, magic7, strlen(magic7)), 0);
    CU_ASSERT_EQUAL(len, strlen(magic7));
    /* binary, and a framed-looking value too short for a header */
    static const unsigned char bin[] = { 0xff, 0xfe, 0x00, 0x01 };
    CU_ASSERT_FATAL(show(bin, sizeof bin, &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_BASE64);
    CU_ASSERT_STRING_EQUAL(s.text, "\"//4AAQ==\"");
    CU_ASSERT_FATAL(show("\0\0\0", 3, &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_BASE64);
    CU_ASSERT_STRING_EQUAL(s.info.error, "");
    /* JSON compacted, a tombstone, an empty value */
    static const char js[] = "{\n \"orderId\": \"O-1\",\n \"items\": [ ]\n}\n";
    CU_ASSERT_FATAL(show(js, strlen(js), &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_JSON);
    CU_ASSERT_STRING_EQUAL(s.text, "{\"orderId\":\"O-1\",\"items\":[]}");
    CU_ASSERT_FATAL(show(NULL, 0, &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_NULL);
    CU_ASSERT_STRING_EQUAL(s.text, "null");
    CU_ASSERT_FATAL(show("", 0, &s));
    CU_ASSERT_EQUAL(s.info.format, RILL_SHOW_STRING);
    CU_ASSERT_STRING_EQUAL(s.text, "\"\"");
}

static void test_show_random(void)
{
    static struct shown_text s;
    unsigned char buf[96];
    unsigned seed = 12345;
    int formats[5] = { 0 };
    for (int i = 0; i < 3000; i++) {
        size_t n = (size_t)(rand_r(&seed) % (int)sizeof buf);
        for (size_t k = 0; k < n; k++)
            buf[k] = (unsigned char)rand_r(&seed);
        if (i % 3 == 0 && n >= 5) /* framed with a known id, random payload */
            buf[0] = buf[1] = buf[2] = buf[3] = 0, buf[4] = (unsigned char)(1 + i % 7);
        if (!show(buf, n, &s)) {
            CU_FAIL("a random value did not show as valid, safe JSON");
            break;
        }
        formats[s.info.format]++;
    }
    /* the cases were met, not all one kind */
    CU_ASSERT(formats[RILL_SHOW_BASE64] > 100);
}

/* ---- offset specs ---------------------------------------------------------------------- */

static void test_offset_spec(void)
{
    struct rill_offset_spec s;
    char err[256];
    CU_ASSERT_EQUAL(rill_offset_spec_parse("beginning", &s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(s.kind, RILL_FROM_BEGINNING);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("latest", &s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(s.kind, RILL_FROM_END);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("end-25", &s, err, sizeof err), RILL_OK);
    CU_ASSERT(s.kind == RILL_FROM_TAIL && s.value == 25);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("-3", &s, err, sizeof err), RILL_OK);
    CU_ASSERT(s.kind == RILL_FROM_TAIL && s.value == 3);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("1234", &s, err, sizeof err), RILL_OK);
    CU_ASSERT(s.kind == RILL_FROM_OFFSET && s.value == 1234);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("@1790812800123", &s, err, sizeof err), RILL_OK);
    CU_ASSERT(s.kind == RILL_FROM_TIME && s.value == 1790812800123LL);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("2026-10-01T00:00:00Z", &s, err, sizeof err), RILL_OK);
    CU_ASSERT(s.kind == RILL_FROM_TIME && s.value == 1790812800000LL);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("@2026-10-01T02:30:00.5+02:30", &s, err, sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(s.value, 1790812800500LL);
    CU_ASSERT_EQUAL(rill_offset_spec_parse("2026-10-01", &s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(s.value, 1790812800000LL);
    static const char *const bad[] = { "", "end-", "end-x", "12x", "@", "@12x",
                                       "2026-02-30T00:00:00Z", "2026-10-01T10:00:00",
                                       "2026-13-01", "99999999999999999999", "soon" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(rill_offset_spec_parse(bad[i], &s, err, sizeof err), RILL_ERR_INVALID);
        CU_ASSERT(err[0] != '\0');
    }

    /* against watermarks [10, 20) */
    struct rill_offset_spec b = { RILL_FROM_BEGINNING, 0 }, e = { RILL_FROM_END, 0 },
                            t5 = { RILL_FROM_TAIL, 5 }, t50 = { RILL_FROM_TAIL, 50 },
                            o3 = { RILL_FROM_OFFSET, 3 }, o15 = { RILL_FROM_OFFSET, 15 },
                            o99 = { RILL_FROM_OFFSET, 99 }, tm = { RILL_FROM_TIME, 1 };
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&b, 10, 20, -1), 10);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&e, 10, 20, -1), 20);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&t5, 10, 20, -1), 15);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&t50, 10, 20, -1), 10);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&o3, 10, 20, -1), 10);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&o15, 10, 20, -1), 15);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&o99, 10, 20, -1), 20);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&tm, 10, 20, 17), 17);
    CU_ASSERT_EQUAL(rill_offset_spec_resolve(&tm, 10, 20, -1), 20); /* nothing that new */
}

/* ---- records ------------------------------------------------------------------------------ */

static void test_record_json_and_cells(void)
{
    rill_event_t ev = order();
    rill_buf_t b = { 0 };
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(S, &ev, &b, err, sizeof err), RILL_OK);
    static const unsigned char binkey[] = { 0x00, 0xff, 0x1b };
    struct rill_icli_header h[3] = {
        { "traceparent", "00-abc-01", 9 },
        { "bin\x1b[2J", "\x00\xff", 2 },
        { "none", NULL, 0 },
    };
    struct rill_icli_rec r = { "orders", 3, 42, 1790812800123LL, 1, binkey, 3, b.p, b.len, h, 3 };
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    CU_ASSERT_EQUAL_FATAL(rill_icli_record_json(S, &r, &w), RILL_OK);
    rill_json_val_t root;
    CU_ASSERT_EQUAL_FATAL(it_json_parse(w.p, w.len, &root), 0);
    CU_ASSERT(no_raw_controls(w.p, w.len));
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "topic"), "orders");
    CU_ASSERT_EQUAL(it_json_num(&root, "partition", -1), 3);
    CU_ASSERT_EQUAL(it_json_num(&root, "offset", -1), 42);
    CU_ASSERT_EQUAL(it_json_num(&root, "timestamp", -1), 1790812800123LL);
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "timestamp_type"), "create");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "time"), "2026-10-01T00:00:00.123Z");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "key_format"), "base64");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "key"), "AP8b");
    CU_ASSERT_EQUAL(it_json_count(&root, "headers"), 3);
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "headers.0.name"), "traceparent");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "headers.0.value"), "00-abc-01");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "headers.1.name"), "bin\x1b[2J");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "headers.1.value"), "AP8=");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "headers.1.value_format"), "base64");
    CU_ASSERT_TRUE(it_json_is_null(&root, "headers.2.value"));
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "value_format"), "avro");
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "schema"), "order_placed");
    CU_ASSERT_EQUAL(it_json_num(&root, "schema_id", -1), 1);
    CU_ASSERT_STRING_EQUAL(it_json_text(&root, "value.location_id"), "L0007");
    CU_ASSERT_FALSE(it_json_at(&root, "value_error", &root));

    /* the table's cells: escaped text, base64: for binary, never a raw
     * control byte; a framed value that does not decode says why */
    r.value_len = b.len - 3;
    char *cells[6];
    CU_ASSERT_EQUAL_FATAL(rill_icli_record_cells(S, &r, cells), RILL_OK);
    CU_ASSERT_STRING_EQUAL(cells[0], "3");
    CU_ASSERT_STRING_EQUAL(cells[1], "42");
    CU_ASSERT_STRING_EQUAL(cells[2], "2026-10-01T00:00:00.123Z");
    CU_ASSERT_STRING_EQUAL(cells[3], "base64:AP8b");
    CU_ASSERT_STRING_EQUAL(cells[4], "traceparent=00-abc-01; bin\\u001b[2J=base64:AP8=; none=-");
    CU_ASSERT_PTR_NOT_NULL(strstr(cells[5], "(not decoded: truncated"));
    CU_ASSERT_EQUAL(strncmp(cells[5], "base64:", 7), 0);
    for (int i = 0; i < 6; i++) {
        CU_ASSERT(no_raw_controls(cells[i], strlen(cells[i])));
        free(cells[i]);
    }
    rill_jsonw_free(&w);
    rill_buf_free(&b);
}

static void test_table(void)
{
    static const char *const head[] = { "NAME", "N", "NOTE" };
    struct rill_table t;
    rill_table_init(&t, 3, head, "lrl");
    const char *r1[] = { "a", "1", "x" }, *r2[] = { "\xc3\xa9t\xc3\xa9", "100", NULL };
    rill_table_add(&t, r1);
    rill_table_add(&t, r2);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rill_table_print(&t, f);
    fclose(f);
    /* é counts as one column */
    CU_ASSERT_STRING_EQUAL(text, "NAME    N  NOTE\n"
                                 "a       1  x\n"
                                 "\xc3\xa9t\xc3\xa9   100  -\n");
    free(text);
    rill_table_free(&t);
}

/* ---- the command line --------------------------------------------------------------------- */

static int run(char *out, size_t size, int argc, char **argv)
{
    return it_capture(rill_cmd_inspect, out, size, argc, argv);
}

static void test_cli_usage(void)
{
    static char out[16384];
    CU_ASSERT_EQUAL(run(out, sizeof out, 2, (char *[]){ "inspect", "--help", NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "rill inspect read TOPIC"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "rill inspect groups [FILE]"));
    CU_ASSERT_EQUAL(run(out, sizeof out, 1, (char *[]){ "inspect", NULL }), 2);
    CU_ASSERT_EQUAL(run(out, sizeof out, 3, (char *[]){ "inspect", "read", "--help", NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--follow"));
    CU_ASSERT_EQUAL(run(out, sizeof out, 2, (char *[]){ "inspect", "read", NULL }), 2);
    CU_ASSERT_EQUAL(run(out, sizeof out, 5, (char *[]){ "inspect", "read", "t", "--from", "soon", NULL }),
                    2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "'soon' is not an offset"));
    CU_ASSERT_EQUAL(run(out, sizeof out, 5, (char *[]){ "inspect", "read", "t", "-n", "0", NULL }), 2);
    CU_ASSERT_EQUAL(run(out, sizeof out, 5, (char *[]){ "inspect", "read", "t", "-p", "x", NULL }), 2);
    CU_ASSERT_EQUAL(run(out, sizeof out, 4, (char *[]){ "inspect", "topics", "a", "b", NULL }), 2);
    CU_ASSERT_EQUAL(run(out, sizeof out, 4, (char *[]){ "inspect", "groups", "--bogus", "x", NULL }),
                    2);
    CU_ASSERT_EQUAL(run(out, sizeof out, 2, (char *[]){ "inspect", "describe", NULL }), 2);
    /* nothing to connect to: one clear line, exit 1, no wait */
    CU_ASSERT_EQUAL(run(out, sizeof out, 2, (char *[]){ "inspect", "topics", NULL }), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no bootstrap.servers"));
    CU_ASSERT_EQUAL(run(out, sizeof out, 3, (char *[]){ "inspect", "topics", "/nonexistent.yaml", NULL }),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "nonexistent.yaml"));
}

static CU_TestInfo tests[] = {
    { "json writer: commas, nesting, the depth limit", test_jsonw_structure },
    { "json writer: every hostile byte escaped, utf-8 checked", test_jsonw_escapes },
    { "json writer: base64 by RFC 4648, large values round trip", test_jsonw_base64 },
    { "json writer: a json text re-emitted compactly", test_jsonw_reemit },
    { "show: avro with field names and unions as their branch", test_show_avro },
    { "show: truncated, unknown, hostile, binary, text, json, null", test_show_hostile },
    { "show: 3,000 random values are valid, safe json", test_show_random },
    { "offset specs: parse and resolve against watermarks", test_offset_spec },
    { "a record as a json line and as table cells", test_record_json_and_cells },
    { "the aligned table", test_table },
    { "rill inspect: usage errors and help", test_cli_usage },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("inspect", tests, init, cleanup)
