/*
 * serde_json.c - order_placed in the JSON shape that producers without Avro
 * write: {orderId, customerId, status, timestamp, total, items[{productId,
 * quantity, unitPrice, category?}], locationId?, currency?, correlationId?}.
 * Decoding validates the document with the bounded reader of json.h, picks
 * the keys it knows (unknown keys are ignored, a known key twice is refused),
 * converts money from decimal text to ten-thousandths exactly (no floating
 * point anywhere) and timestamps from epoch milliseconds or ISO-8601 UTC, and
 * applies the checks every decode applies. Encoding writes the same shape.
 * Only order_placed has a JSON shape; the other events travel as Avro.
 */
#include "schemas/serde_int.h"
#include "topology/base/json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_CURRENCY "EUR"

enum { K_ORDER_ID, K_CUSTOMER_ID, K_LOCATION_ID, K_STATUS, K_TIMESTAMP, K_TOTAL, K_CURRENCY,
       K_CORRELATION_ID, K_ITEMS, K__COUNT };
static const char *const order_keys[K__COUNT] = {
    "orderId", "customerId", "locationId", "status", "timestamp", "total", "currency",
    "correlationId", "items",
};

enum { I_PRODUCT_ID, I_CATEGORY, I_QUANTITY, I_UNIT_PRICE, I__COUNT };
static const char *const item_keys[I__COUNT] = { "productId", "category", "quantity",
                                                 "unitPrice" };

struct jd {
    struct rill_serde_arena a;
    char *err;
    size_t errsz;
    char where[32]; /* "" for the order's own fields, " of items[i]" for a line's */
    rill_err_t code; /* what a failure returns */
};

static int fail(struct jd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct jd *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill_verrf(d->err, d->errsz, RILL_ERR_INVALID, fmt, ap);
    va_end(ap);
    return -1;
}

/* Picks the members of obj named in names[0..n) into vals (type RILL_JSON_NULL
 * with p NULL when absent). A known key seen twice is an error. */
static int members(struct jd *d, const rill_json_val_t *obj, const char *const *names, size_t n,
                   rill_json_val_t *vals)
{
    rill_json_val_t k, v;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++)
        vals[i] = (rill_json_val_t){ NULL, 0, RILL_JSON_NULL };
    while (rill_json_next(obj, &pos, &k, &v)) {
        char key[32];
        size_t klen;
        if (rill_json_string(&k, key, sizeof key, &klen) != RILL_JSON_FOUND)
            continue; /* longer than any key we know */
        for (size_t i = 0; i < n; i++) {
            if (klen != strlen(names[i]) || memcmp(key, names[i], klen))
                continue;
            if (vals[i].p)
                return fail(d, "duplicate key '%s'%s", names[i], d->where);
            vals[i] = v;
        }
    }
    return 0;
}

static int str(struct jd *d, const rill_json_val_t *v, const char *name, const char **out)
{
    char tmp[RILL_SERDE_MAX_STRING + 1];
    size_t n;
    switch (rill_json_string(v, tmp, sizeof tmp, &n)) {
    case RILL_JSON_FOUND: break;
    case RILL_JSON_TOOBIG:
        return fail(d, "field '%s'%s is longer than %d bytes", name, d->where,
                    RILL_SERDE_MAX_STRING);
    default: return fail(d, "field '%s'%s must be a string", name, d->where);
    }
    if (memchr(tmp, 0, n))
        return fail(d, "field '%s'%s contains a nul byte", name, d->where);
    if (!rill_serde_utf8_ok((const unsigned char *)tmp, n))
        return fail(d, "field '%s'%s is not valid utf-8", name, d->where);
    if (!(*out = rill_serde_arena_str(&d->a, tmp, n)))
        return fail(d, "field '%s'%s does not fit the decoded event", name, d->where);
    return 0;
}

/* Decimal digits at s[*i..n) into *v; -1 on int64 overflow. */
static int digits(const char *s, size_t n, size_t *i, int64_t *v, int *count)
{
    *v = 0;
    *count = 0;
    for (; *i < n && s[*i] >= '0' && s[*i] <= '9'; (*i)++, (*count)++) {
        int dg = s[*i] - '0';
        if (*v > (INT64_MAX - dg) / 10)
            return -1;
        *v = *v * 10 + dg;
    }
    return 0;
}

/* A JSON number without fraction or exponent, in [min, max]. */
static int integer(struct jd *d, const rill_json_val_t *v, const char *name, int64_t min,
                   int64_t max, int64_t *out)
{
    const char *s = v->p;
    size_t i = 0, n = v->len;
    int neg = 0, cnt;
    int64_t x;
    if (v->type != RILL_JSON_NUMBER)
        return fail(d, "field '%s'%s must be an integer", name, d->where);
    if (s[0] == '-')
        neg = 1, i++;
    if (digits(s, n, &i, &x, &cnt))
        return fail(d, "field '%s'%s is out of range", name, d->where);
    if (i != n)
        return fail(d, "field '%s'%s must be an integer", name, d->where);
    x = neg ? -x : x;
    if (x < min || x > max)
        return fail(d, "field '%s'%s is out of range", name, d->where);
    *out = x;
    return 0;
}

/* Money: a JSON number or a string in decimal notation, at most 4 fraction
 * digits, no exponent, no leading zeros: "12.34" is 123400. Exact. */
static int money(struct jd *d, const rill_json_val_t *v, const char *name, int64_t *out)
{
    char tmp[64];
    const char *s = v->p;
    size_t n = v->len, i = 0;
    if (v->type == RILL_JSON_STRING) {
        if (rill_json_string(v, tmp, sizeof tmp, &n) != RILL_JSON_FOUND)
            return fail(d, "field '%s'%s is not a decimal number", name, d->where);
        s = tmp;
    } else if (v->type != RILL_JSON_NUMBER) {
        return fail(d, "field '%s'%s must be a decimal number or string", name, d->where);
    }
    int neg = 0, icnt, fcnt = 0;
    int64_t ip, fp = 0;
    if (i < n && s[i] == '-')
        neg = 1, i++;
    size_t istart = i;
    if (digits(s, n, &i, &ip, &icnt))
        return fail(d, "field '%s'%s overflows", name, d->where);
    if (!icnt || (icnt > 1 && s[istart] == '0'))
        return fail(d, "field '%s'%s is not a decimal number", name, d->where);
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (fcnt < 4)
                fp = fp * 10 + (s[i] - '0');
            fcnt++, i++;
        }
        if (!fcnt)
            return fail(d, "field '%s'%s is not a decimal number", name, d->where);
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E'))
        return fail(d, "field '%s'%s must not use an exponent", name, d->where);
    if (i != n)
        return fail(d, "field '%s'%s is not a decimal number", name, d->where);
    if (fcnt > 4)
        return fail(d, "field '%s'%s has more than 4 decimals", name, d->where);
    for (int k = fcnt; k < 4; k++)
        fp *= 10;
    if (ip > (INT64_MAX - fp) / 10000)
        return fail(d, "field '%s'%s overflows", name, d->where);
    *out = (ip * 10000 + fp) * (neg ? -1 : 1);
    return 0;
}

static int num(const char *s, int len)
{
    int v = 0;
    for (int i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dm[m - 1] + (m == 2 && leap);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian, y >= 1970). */
static int64_t days_from_civil(int y, int m, int dd)
{
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + dd - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* YYYY-MM-DDTHH:MM:SS[.s{1,3}]Z, from 1970, to ms since the epoch; -1 when
 * malformed or out of range. */
static int iso_ms(const char *s, size_t n, int64_t *out)
{
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    int y = num(s, 4), mo = num(s + 5, 2), dd = num(s + 8, 2);
    int h = num(s + 11, 2), mi = num(s + 14, 2), se = num(s + 17, 2), ms = 0;
    if (y < 1970 || mo < 1 || mo > 12 || dd < 1 || dd > days_in_month(y, mo) || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || se < 0 || se > 59)
        return -1;
    size_t i = 19;
    if (s[i] == '.') {
        int k = 0;
        for (i++; i < n && k < 3 && s[i] >= '0' && s[i] <= '9'; i++, k++)
            ms = ms * 10 + (s[i] - '0');
        if (!k)
            return -1;
        for (; k < 3; k++)
            ms *= 10;
    }
    if (i + 1 != n || s[i] != 'Z')
        return -1;
    *out = ((days_from_civil(y, mo, dd) * 24 + h) * 60 + mi) * 60000 + (int64_t)se * 1000 + ms;
    return 0;
}

static int timestamp(struct jd *d, const rill_json_val_t *v, int64_t *out)
{
    char tmp[40];
    size_t n;
    if (v->type == RILL_JSON_NUMBER)
        return integer(d, v, "timestamp", INT64_MIN, INT64_MAX, out);
    if (v->type != RILL_JSON_STRING || rill_json_string(v, tmp, sizeof tmp, &n) != RILL_JSON_FOUND ||
        iso_ms(tmp, n, out))
        return fail(d, "field 'timestamp' must be epoch milliseconds or an iso-8601 utc time "
                       "yyyy-mm-ddThh:mm:ss[.sss]Z");
    return 0;
}

static int item(struct jd *d, const rill_json_val_t *obj, size_t i, rill_order_item_t *it)
{
    rill_json_val_t f[I__COUNT];
    int64_t q;
    snprintf(d->where, sizeof d->where, " of items[%zu]", i);
    if (obj->type != RILL_JSON_OBJECT)
        return fail(d, "items[%zu] must be an object", i);
    if (members(d, obj, item_keys, I__COUNT, f))
        return -1;
    for (int k = 0; k < I__COUNT; k++)
        if (k != I_CATEGORY && !f[k].p)
            return fail(d, "missing field '%s'%s", item_keys[k], d->where);
    if (str(d, &f[I_PRODUCT_ID], "productId", &it->product_id) ||
        integer(d, &f[I_QUANTITY], "quantity", INT32_MIN, INT32_MAX, &q) ||
        money(d, &f[I_UNIT_PRICE], "unitPrice", &it->unit_price_e4))
        return -1;
    it->quantity = (int32_t)q;
    if (f[I_CATEGORY].p)
        return str(d, &f[I_CATEGORY], "category", &it->category);
    it->category = rill_serde_arena_str(&d->a, "", 0);
    return 0;
}

static int location(struct jd *d, const rill_json_val_t *v, const void *key, size_t key_len,
                    const char **out)
{
    if (v->p)
        return str(d, v, "locationId", out);
    if (!key || !key_len)
        return fail(d, "missing field 'locationId' and no record key");
    if (key_len > RILL_SERDE_MAX_STRING)
        return fail(d, "record key of %zu bytes is longer than %d", key_len,
                    RILL_SERDE_MAX_STRING);
    if (!rill_serde_utf8_ok(key, key_len))
        return fail(d, "record key is not utf-8 without nul bytes");
    *out = rill_serde_arena_str(&d->a, key, key_len);
    return 0;
}

static int order(struct jd *d, const rill_json_val_t *root, const void *key, size_t key_len,
                 rill_order_placed_t *o)
{
    static const int required[] = { K_ORDER_ID, K_CUSTOMER_ID, K_STATUS, K_TIMESTAMP, K_TOTAL,
                                    K_ITEMS };
    rill_json_val_t f[K__COUNT], it;
    int64_t status;
    if (members(d, root, order_keys, K__COUNT, f))
        return -1;
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
        if (!f[required[k]].p)
            return fail(d, "missing field '%s'", order_keys[required[k]]);
    if (f[K_ITEMS].type != RILL_JSON_ARRAY)
        return fail(d, "field 'items' must be an array");
    size_t cnt = 0, pos = 0;
    while (rill_json_next(&f[K_ITEMS], &pos, NULL, &it))
        if (++cnt > RILL_SERDE_MAX_ITEMS)
            return fail(d, "field 'items' has more than %d items", RILL_SERDE_MAX_ITEMS);
    /* Every string of the text unescapes to no more than its quoted form, so
     * the text's length holds them all; then the key, "EUR" and the empty
     * categories. */
    size_t room = (size_t)(root->len + key_len + 1 + sizeof DEFAULT_CURRENCY + cnt);
    rill_err_t err = rill_serde_arena_new(&d->a, cnt * sizeof(rill_order_item_t), room, d->err,
                                          d->errsz);
    if (err) {
        d->code = err;
        return -1;
    }
    o->items = rill_serde_arena_items(&d->a);
    o->item_cnt = cnt;
    if (str(d, &f[K_ORDER_ID], "orderId", &o->order_id) ||
        str(d, &f[K_CUSTOMER_ID], "customerId", &o->customer_id) ||
        location(d, &f[K_LOCATION_ID], key, key_len, &o->location_id) ||
        integer(d, &f[K_STATUS], "status", INT32_MIN, INT32_MAX, &status) ||
        timestamp(d, &f[K_TIMESTAMP], &o->event_time) ||
        money(d, &f[K_TOTAL], "total", &o->total_e4))
        return -1;
    o->status = (int32_t)status;
    if (f[K_CURRENCY].p) {
        if (str(d, &f[K_CURRENCY], "currency", &o->currency))
            return -1;
    } else {
        o->currency = rill_serde_arena_str(&d->a, DEFAULT_CURRENCY, strlen(DEFAULT_CURRENCY));
    }
    if (f[K_CORRELATION_ID].p) {
        if (str(d, &f[K_CORRELATION_ID], "correlationId", &o->correlation_id))
            return -1;
    } else {
        o->correlation_id = o->order_id;
    }
    pos = 0;
    for (size_t i = 0; rill_json_next(&f[K_ITEMS], &pos, NULL, &it); i++)
        if (item(d, &it, i, &o->items[i]))
            return -1;
    return 0;
}

rill_err_t rill_serde_decode_json(const void *key, size_t key_len, const char *value,
                                  size_t value_len, rill_event_t *ev, char *errstr,
                                  size_t errsz)
{
    struct jd d = { .err = errstr, .errsz = errsz, .code = RILL_ERR_INVALID };
    rill_json_val_t root;
    size_t off;
    if (rill_json_parse(value, value_len, &root, &off) != RILL_JSON_FOUND)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                               "malformed json at byte %zu (or nested deeper than %d)", off,
                               RILL_JSON_MAX_DEPTH);
    ev->type = RILL_EVENT_ORDER_PLACED;
    int rc = order(&d, &root, key, key_len, &ev->u.order);
    ev->arena_ = d.a.base;
    if (rc)
        return d.code;
    return rill_serde_check(ev, errstr, errsz);
}

/* ---- encoding ---- */

struct jw {
    rill_buf_t *b;
    int over, nomem;
};

static void put(struct jw *w, const char *s, size_t n)
{
    if (w->over || w->nomem)
        return;
    if (n > RILL_SERDE_MAX_VALUE - w->b->len) {
        w->over = 1;
        return;
    }
    if (rill_serde_buf_reserve(w->b, w->b->len + n)) {
        w->nomem = 1;
        return;
    }
    memcpy(w->b->p + w->b->len, s, n);
    w->b->len += n;
}

static void puts_(struct jw *w, const char *s)
{
    put(w, s, strlen(s));
}

/* A JSON string: quotes, backslashes and control characters escaped; the
 * text is valid UTF-8 (checked), so the rest passes as is. */
static void put_str(struct jw *w, const char *key, const char *s)
{
    char esc[8];
    puts_(w, key);
    put(w, "\"", 1);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(w, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(w, esc, 6);
        } else {
            put(w, p, 1);
        }
    }
    put(w, "\"", 1);
}

static void put_int(struct jw *w, const char *key, int64_t v)
{
    char num[32];
    puts_(w, key);
    snprintf(num, sizeof num, "%lld", (long long)v);
    puts_(w, num);
}

/* Money as an exact decimal string, trailing zeros dropped: "12.34", "5",
 * "0.0001". */
static void put_money(struct jw *w, const char *key, int64_t e4)
{
    char num[40];
    int n = snprintf(num, sizeof num, "\"%lld.%04lld", (long long)(e4 / 10000),
                     (long long)(e4 % 10000));
    while (num[n - 1] == '0')
        n--;
    if (num[n - 1] == '.')
        n--;
    num[n++] = '"';
    puts_(w, key);
    put(w, num, (size_t)n);
}

rill_err_t rill_serde_encode_json(const rill_event_t *ev, rill_buf_t *out, char *errstr,
                                  size_t errsz)
{
    if (ev->type != RILL_EVENT_ORDER_PLACED)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "only order_placed has a json shape, not '%s'",
                               rill_event_type_name(ev->type) ? rill_event_type_name(ev->type)
                                                              : "?");
    rill_err_t err = rill_serde_check(ev, errstr, errsz);
    if (err)
        return err;
    const rill_order_placed_t *o = &ev->u.order;
    struct jw w = { out, 0, 0 };
    out->len = 0;
    put_str(&w, "{\"orderId\":", o->order_id);
    put_str(&w, ",\"customerId\":", o->customer_id);
    put_str(&w, ",\"locationId\":", o->location_id);
    put_int(&w, ",\"status\":", o->status);
    put_int(&w, ",\"timestamp\":", o->event_time);
    put_money(&w, ",\"total\":", o->total_e4);
    put_str(&w, ",\"currency\":", o->currency);
    put_str(&w, ",\"correlationId\":", o->correlation_id);
    puts_(&w, ",\"items\":[");
    for (size_t i = 0; i < o->item_cnt; i++) {
        const rill_order_item_t *it = &o->items[i];
        put_str(&w, i ? ",{\"productId\":" : "{\"productId\":", it->product_id);
        put_str(&w, ",\"category\":", it->category);
        put_int(&w, ",\"quantity\":", it->quantity);
        put_money(&w, ",\"unitPrice\":", it->unit_price_e4);
        puts_(&w, "}");
    }
    puts_(&w, "]}");
    if (w.nomem) {
        out->len = 0;
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory encoding json");
    }
    if (w.over) {
        out->len = 0;
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "json value exceeds the limit of %d bytes",
                               RILL_SERDE_MAX_VALUE);
    }
    return RILL_OK;
}
