/*
 * serde.c - the serde of serde.h: the compiled-in schemas and id map, and the
 * Avro side. Encoding validates the event, fills the type's avro-c generic
 * value and writes it after the Confluent header (magic 0, big-endian schema
 * id). Decoding reads the header, lets the schema id pick the type, has the
 * payload walked with every length bounded (serde_walk.c) before avro-c reads
 * it, then copies the value into the typed struct, strings and items in one
 * allocation, and validates it (serde_check.c). JSON values are handed to
 * serde_json.c. Ids come from schemas/avro/ids.map or, with a schema
 * registry, from serde_registry.c.
 */
#include "schemas/registry.h"
#include "schemas/serde_int.h"
#include "topology/base/jsonw.h"

#include <stdarg.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[RILL_EVENT__COUNT] = {
    [RILL_EVENT_ORDER_PLACED] = "order_placed",
    [RILL_EVENT_PAYMENT_RESULT] = "payment_result",
    [RILL_EVENT_INVENTORY_RESULT] = "inventory_result",
    [RILL_EVENT_ORDER_SHIPPED] = "order_shipped",
    [RILL_EVENT_ORDER_STATUS] = "order_status",
    [RILL_EVENT_STOCK_RELEASE] = "stock_release",
    [RILL_EVENT_NOTIFICATION] = "notifications",
};

int rill_serde_utf8_ok(const unsigned char *s, size_t n)
{
    return rill_utf8_valid(s, n, 0);
}

rill_err_t rill_serde_buf_reserve(rill_buf_t *b, size_t n)
{
    if (n <= b->cap)
        return RILL_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < n)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return RILL_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return RILL_OK;
}

void rill_buf_free(rill_buf_t *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- the arena of a decoded event ---- */

static size_t item_room(size_t item_bytes)
{
    size_t a = alignof(max_align_t);
    return (item_bytes + a - 1) / a * a;
}

rill_err_t rill_serde_arena_new(struct rill_serde_arena *a, size_t item_bytes,
                                size_t str_bytes, char *errstr, size_t errsz)
{
    a->used = item_room(item_bytes);
    a->cap = a->used + str_bytes;
    a->base = malloc(a->cap ? a->cap : 1);
    if (!a->base) {
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory decoding a value");
    }
    return RILL_OK;
}

void *rill_serde_arena_items(struct rill_serde_arena *a)
{
    return a->base;
}

char *rill_serde_arena_str(struct rill_serde_arena *a, const char *s, size_t n)
{
    if (n >= a->cap - a->used)
        return NULL;
    char *d = (char *)a->base + a->used;
    memcpy(d, s, n);
    d[n] = '\0';
    a->used += n + 1;
    return d;
}

/* The size of one element of the event type's item array (0: it has none). */
static size_t serde_item_size(rill_event_type_t type)
{
    switch (type) {
    case RILL_EVENT_ORDER_PLACED: return sizeof(rill_order_item_t);
    case RILL_EVENT_INVENTORY_RESULT: return sizeof(rill_item_reservation_t);
    case RILL_EVENT_ORDER_SHIPPED:
    case RILL_EVENT_STOCK_RELEASE: return sizeof(rill_item_qty_t);
    default: return 0;
    }
}

/* ---- names, texts and the id map ---- */

const char *rill_event_type_name(rill_event_type_t type)
{
    return (unsigned)type < RILL_EVENT__COUNT ? type_names[type] : NULL;
}

const char *rill_serde_schema_text(rill_event_type_t type)
{
    const char *name = rill_event_type_name(type);
    for (size_t i = 0; name && i < rill_serde_avsc_cnt; i++)
        if (!strcmp(rill_serde_avsc[i].name, name))
            return rill_serde_avsc[i].text;
    return NULL;
}

static int type_by_name(const char *s, size_t n)
{
    for (int t = 0; t < RILL_EVENT__COUNT; t++)
        if (strlen(type_names[t]) == n && !memcmp(type_names[t], s, n))
            return t;
    return -1;
}

/* Parses the compiled-in ids.map into ids[] ("name id" per line, '#'
 * comments, ids 1..2^31-1, each schema and id once, every schema present).
 * Returns 0, or -1 with errstr. */
static int parse_ids(int32_t ids[RILL_EVENT__COUNT], char *errstr, size_t errsz)
{
    const char *p = rill_serde_ids_text, *end = p + rill_serde_ids_len;
    for (int t = 0; t < RILL_EVENT__COUNT; t++)
        ids[t] = 0;
    for (int line = 1; p < end; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *q = p;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        const char *name = q;
        while (q < eol && *q != ' ' && *q != '\t')
            q++;
        size_t nlen = (size_t)(q - name);
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        int64_t id = 0;
        const char *digits = q;
        while (q < eol && *q >= '0' && *q <= '9' && id <= INT32_MAX)
            id = id * 10 + (*q++ - '0');
        size_t dlen = (size_t)(q - digits);
        while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        p = eol + (eol < end);
        if (!nlen || *name == '#')
            continue;
        int t = type_by_name(name, nlen);
        if (t < 0) {
            rill_errf(errstr, errsz, RILL_ERR_INVALID, "ids.map:%d: unknown schema '%.*s'", line, (int)nlen,
                            name);
            return -1;
        }
        if (!dlen || q != eol || id < 1 || id > INT32_MAX) {
            rill_errf(errstr, errsz, RILL_ERR_INVALID, "ids.map:%d: schema '%s' needs an id 1..%d", line,
                            type_names[t], INT32_MAX);
            return -1;
        }
        if (ids[t]) {
            rill_errf(errstr, errsz, RILL_ERR_INVALID, "ids.map:%d: schema '%s' listed twice", line,
                            type_names[t]);
            return -1;
        }
        for (int u = 0; u < RILL_EVENT__COUNT; u++)
            if (ids[u] == id) {
                rill_errf(errstr, errsz, RILL_ERR_INVALID, "ids.map:%d: id %d given to '%s' and '%s'", line,
                                (int)id, type_names[u], type_names[t]);
                return -1;
            }
        ids[t] = (int32_t)id;
    }
    for (int t = 0; t < RILL_EVENT__COUNT; t++)
        if (!ids[t]) {
            rill_errf(errstr, errsz, RILL_ERR_INVALID, "ids.map: no id for schema '%s'", type_names[t]);
            return -1;
        }
    return 0;
}

int32_t rill_serde_schema_id(rill_event_type_t type)
{
    int32_t ids[RILL_EVENT__COUNT];
    char err[8];
    if ((unsigned)type >= RILL_EVENT__COUNT || parse_ids(ids, err, sizeof err))
        return -1;
    return ids[type];
}

int rill_serde_type_of_id(int32_t id)
{
    int32_t ids[RILL_EVENT__COUNT];
    char err[8];
    if (parse_ids(ids, err, sizeof err))
        return -1;
    for (int t = 0; t < RILL_EVENT__COUNT; t++)
        if (ids[t] == id)
            return t;
    return -1;
}

/* ---- the serde ---- */

void rill_serde_destroy(rill_serde_t *s)
{
    if (!s)
        return;
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        if (s->iface[t]) {
            avro_value_decref(&s->value[t]);
            avro_value_iface_decref(s->iface[t]);
        }
        if (s->schema[t])
            avro_schema_decref(s->schema[t]);
    }
    if (s->reader)
        avro_reader_free(s->reader);
    if (s->writer)
        avro_writer_free(s->writer);
    rill_serde_reg_close(s->reg);
    free(s);
}

/* Parses the schemas and sets the ids: the registry's when conf is set, else
 * the id map's. */
static rill_err_t serde_init(rill_serde_t *s, const struct rill_registry_conf *conf,
                             char *errstr, size_t errsz)
{
    static const char none[1];
    if (conf) {
        rill_err_t err = rill_serde_reg_open(conf, s->id, &s->reg, errstr, errsz);
        if (err)
            return err;
    } else if (parse_ids(s->id, errstr, errsz)) {
        return RILL_ERR_CONFIG;
    }
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        const char *text = rill_serde_schema_text((rill_event_type_t)t);
        if (!text) {
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "schema '%s' is not compiled in", type_names[t]);
        }
        if (avro_schema_from_json_length(text, strlen(text), &s->schema[t])) {
            s->schema[t] = NULL;
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "cannot parse schema '%s': %s", type_names[t],
                     avro_strerror());
        }
        avro_value_iface_t *iface = avro_generic_class_from_schema(s->schema[t]);
        if (!iface || avro_generic_value_new(iface, &s->value[t])) {
            if (iface)
                avro_value_iface_decref(iface);
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot build a value of schema '%s': %s", type_names[t],
                     avro_strerror());
        }
        s->iface[t] = iface;
    }
    s->reader = avro_reader_memory(none, 0);
    s->writer = avro_writer_memory(none, 0);
    if (!s->reader || !s->writer) {
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory creating avro-c readers");
    }
    return RILL_OK;
}

static rill_err_t serde_new(rill_serde_t **out, const struct rill_registry_conf *conf,
                            char *errstr, size_t errsz)
{
    *out = NULL;
    rill_serde_t *s = calloc(1, sizeof *s);
    if (!s) {
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory creating the serde");
    }
    rill_err_t err = serde_init(s, conf, errstr, errsz);
    if (err) {
        rill_serde_destroy(s);
        return err;
    }
    *out = s;
    return RILL_OK;
}

rill_err_t rill_serde_new(rill_serde_t **out, char *errstr, size_t errsz)
{
    struct rill_registry_conf conf;
    rill_registry_conf_env(&conf);
    return serde_new(out, conf.url ? &conf : NULL, errstr, errsz);
}

rill_err_t rill_serde_new_registry(rill_serde_t **out, const struct rill_registry_conf *conf,
                                   char *errstr, size_t errsz)
{
    return serde_new(out, conf, errstr, errsz);
}

/* ---- avro-c value access; a failure here means the value does not have the
 * compiled-in schema's shape, which only a bug can cause ---- */

struct io {
    struct rill_serde_arena *a; /* decode: where strings and items go */
    size_t max_items;           /* decode: the items the arena has room for */
    char *err;
    size_t errsz;
    int failed;
};

static void io_fail(struct io *io, const char *what, const char *field)
{
    if (!io->failed)
        snprintf(io->err, io->errsz, "avro-c cannot %s field '%s': %s", what, field,
                 avro_strerror());
    io->failed = 1;
}

static int field(struct io *io, avro_value_t *rec, const char *name, avro_value_t *f)
{
    if (io->failed)
        return -1;
    if (avro_value_get_by_name(rec, name, f, NULL)) {
        io_fail(io, "find", name);
        return -1;
    }
    return 0;
}

static const char *copy_str(struct io *io, avro_value_t *v, const char *name)
{
    const char *s;
    size_t n; /* avro-c counts the NUL */
    char *d;
    if (avro_value_get_string(v, &s, &n) || !n) {
        io_fail(io, "read", name);
        return NULL;
    }
    if (!(d = rill_serde_arena_str(io->a, s, n - 1))) {
        if (!io->failed)
            snprintf(io->err, io->errsz, "string '%s' does not fit the decoded event", name);
        io->failed = 1;
    }
    return d;
}

static const char *get_str(struct io *io, avro_value_t *rec, const char *name)
{
    avro_value_t f;
    return field(io, rec, name, &f) ? NULL : copy_str(io, &f, name);
}

static int32_t get_int(struct io *io, avro_value_t *rec, const char *name)
{
    avro_value_t f;
    int32_t v = 0;
    if (!field(io, rec, name, &f) && avro_value_get_int(&f, &v))
        io_fail(io, "read", name);
    return v;
}

static int64_t get_long(struct io *io, avro_value_t *rec, const char *name)
{
    avro_value_t f;
    int64_t v = 0;
    if (!field(io, rec, name, &f) && avro_value_get_long(&f, &v))
        io_fail(io, "read", name);
    return v;
}

static int get_bool(struct io *io, avro_value_t *rec, const char *name)
{
    avro_value_t f;
    int v = 0;
    if (!field(io, rec, name, &f) && avro_value_get_boolean(&f, &v))
        io_fail(io, "read", name);
    return v;
}

/* The ["null", "string"] union: NULL for the null branch. */
static const char *get_opt_str(struct io *io, avro_value_t *rec, const char *name)
{
    avro_value_t f, b;
    int d;
    if (field(io, rec, name, &f))
        return NULL;
    if (avro_value_get_discriminant(&f, &d) || avro_value_get_current_branch(&f, &b)) {
        io_fail(io, "read", name);
        return NULL;
    }
    return d == 0 ? NULL : copy_str(io, &b, name);
}

/* The items array: its element count, elements via get_item(). */
static size_t get_items(struct io *io, avro_value_t *rec, avro_value_t *arr)
{
    size_t n = 0;
    if (!field(io, rec, "items", arr) && avro_value_get_size(arr, &n))
        io_fail(io, "read", "items");
    if (!io->failed && n > io->max_items) {
        snprintf(io->err, io->errsz, "avro-c read %zu items where the walk counted %zu", n,
                 io->max_items);
        io->failed = 1;
    }
    return io->failed ? 0 : n;
}

static int get_item(struct io *io, avro_value_t *arr, size_t i, avro_value_t *item)
{
    if (avro_value_get_by_index(arr, i, item, NULL)) {
        io_fail(io, "read", "items");
        return -1;
    }
    return 0;
}

static void set_str(struct io *io, avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f;
    if (!field(io, rec, name, &f) && avro_value_set_string_len(&f, s, strlen(s) + 1))
        io_fail(io, "set", name);
}

static void set_int(struct io *io, avro_value_t *rec, const char *name, int32_t v)
{
    avro_value_t f;
    if (!field(io, rec, name, &f) && avro_value_set_int(&f, v))
        io_fail(io, "set", name);
}

static void set_long(struct io *io, avro_value_t *rec, const char *name, int64_t v)
{
    avro_value_t f;
    if (!field(io, rec, name, &f) && avro_value_set_long(&f, v))
        io_fail(io, "set", name);
}

static void set_bool(struct io *io, avro_value_t *rec, const char *name, int v)
{
    avro_value_t f;
    if (!field(io, rec, name, &f) && avro_value_set_boolean(&f, v))
        io_fail(io, "set", name);
}

static void set_opt_str(struct io *io, avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t f, b;
    if (field(io, rec, name, &f))
        return;
    if (avro_value_set_branch(&f, s ? 1 : 0, &b) ||
        (s ? avro_value_set_string_len(&b, s, strlen(s) + 1) : avro_value_set_null(&b)))
        io_fail(io, "set", name);
}

/* Appends an element to the items array (already looked up into arr). */
static int add_item(struct io *io, avro_value_t *arr, avro_value_t *item)
{
    size_t idx;
    if (io->failed)
        return -1;
    if (avro_value_append(arr, item, &idx)) {
        io_fail(io, "append to", "items");
        return -1;
    }
    return 0;
}

/* ---- Avro value <-> typed event ---- */

static void read_order(struct io *io, avro_value_t *v, rill_order_placed_t *o)
{
    avro_value_t arr, it;
    o->order_id = get_str(io, v, "order_id");
    o->customer_id = get_str(io, v, "customer_id");
    o->location_id = get_str(io, v, "location_id");
    o->item_cnt = get_items(io, v, &arr);
    o->items = rill_serde_arena_items(io->a);
    for (size_t i = 0; i < o->item_cnt && !get_item(io, &arr, i, &it); i++) {
        o->items[i].product_id = get_str(io, &it, "product_id");
        o->items[i].category = get_str(io, &it, "category");
        o->items[i].quantity = get_int(io, &it, "quantity");
        o->items[i].unit_price_e4 = get_long(io, &it, "unit_price_e4");
    }
    o->total_e4 = get_long(io, v, "total_e4");
    o->currency = get_str(io, v, "currency");
    o->status = get_int(io, v, "status");
    o->event_time = get_long(io, v, "event_time");
    o->correlation_id = get_str(io, v, "correlation_id");
}

static void write_order(struct io *io, avro_value_t *v, const rill_order_placed_t *o)
{
    avro_value_t arr, it;
    set_str(io, v, "order_id", o->order_id);
    set_str(io, v, "customer_id", o->customer_id);
    set_str(io, v, "location_id", o->location_id);
    field(io, v, "items", &arr);
    for (size_t i = 0; i < o->item_cnt && !add_item(io, &arr, &it); i++) {
        set_str(io, &it, "product_id", o->items[i].product_id);
        set_str(io, &it, "category", o->items[i].category);
        set_int(io, &it, "quantity", o->items[i].quantity);
        set_long(io, &it, "unit_price_e4", o->items[i].unit_price_e4);
    }
    set_long(io, v, "total_e4", o->total_e4);
    set_str(io, v, "currency", o->currency);
    set_int(io, v, "status", o->status);
    set_long(io, v, "event_time", o->event_time);
    set_str(io, v, "correlation_id", o->correlation_id);
}

static void read_payment(struct io *io, avro_value_t *v, rill_payment_result_t *p)
{
    p->order_id = get_str(io, v, "order_id");
    p->customer_id = get_str(io, v, "customer_id");
    p->location_id = get_str(io, v, "location_id");
    p->approved = get_bool(io, v, "approved");
    p->status = get_int(io, v, "status");
    p->amount_e4 = get_long(io, v, "amount_e4");
    p->currency = get_str(io, v, "currency");
    p->reason = get_opt_str(io, v, "reason");
    p->event_time = get_long(io, v, "event_time");
    p->correlation_id = get_str(io, v, "correlation_id");
}

static void write_payment(struct io *io, avro_value_t *v, const rill_payment_result_t *p)
{
    set_str(io, v, "order_id", p->order_id);
    set_str(io, v, "customer_id", p->customer_id);
    set_str(io, v, "location_id", p->location_id);
    set_bool(io, v, "approved", p->approved);
    set_int(io, v, "status", p->status);
    set_long(io, v, "amount_e4", p->amount_e4);
    set_str(io, v, "currency", p->currency);
    set_opt_str(io, v, "reason", p->reason);
    set_long(io, v, "event_time", p->event_time);
    set_str(io, v, "correlation_id", p->correlation_id);
}

static void read_inventory(struct io *io, avro_value_t *v, rill_inventory_result_t *r)
{
    avro_value_t arr, it;
    r->order_id = get_str(io, v, "order_id");
    r->customer_id = get_str(io, v, "customer_id");
    r->location_id = get_str(io, v, "location_id");
    r->reserved = get_bool(io, v, "reserved");
    r->status = get_int(io, v, "status");
    r->item_cnt = get_items(io, v, &arr);
    r->items = rill_serde_arena_items(io->a);
    for (size_t i = 0; i < r->item_cnt && !get_item(io, &arr, i, &it); i++) {
        r->items[i].product_id = get_str(io, &it, "product_id");
        r->items[i].requested = get_int(io, &it, "requested");
        r->items[i].reserved = get_int(io, &it, "reserved");
        r->items[i].available = get_long(io, &it, "available");
    }
    r->event_time = get_long(io, v, "event_time");
    r->correlation_id = get_str(io, v, "correlation_id");
}

static void write_inventory(struct io *io, avro_value_t *v, const rill_inventory_result_t *r)
{
    avro_value_t arr, it;
    set_str(io, v, "order_id", r->order_id);
    set_str(io, v, "customer_id", r->customer_id);
    set_str(io, v, "location_id", r->location_id);
    set_bool(io, v, "reserved", r->reserved);
    set_int(io, v, "status", r->status);
    field(io, v, "items", &arr);
    for (size_t i = 0; i < r->item_cnt && !add_item(io, &arr, &it); i++) {
        set_str(io, &it, "product_id", r->items[i].product_id);
        set_int(io, &it, "requested", r->items[i].requested);
        set_int(io, &it, "reserved", r->items[i].reserved);
        set_long(io, &it, "available", r->items[i].available);
    }
    set_long(io, v, "event_time", r->event_time);
    set_str(io, v, "correlation_id", r->correlation_id);
}

/* ShippedItem and ReleasedItem: product_id and quantity. */
static size_t read_qty_items(struct io *io, avro_value_t *v, rill_item_qty_t **items)
{
    avro_value_t arr, it;
    size_t n = get_items(io, v, &arr);
    *items = rill_serde_arena_items(io->a);
    for (size_t i = 0; i < n && !get_item(io, &arr, i, &it); i++) {
        (*items)[i].product_id = get_str(io, &it, "product_id");
        (*items)[i].quantity = get_int(io, &it, "quantity");
    }
    return n;
}

static void write_qty_items(struct io *io, avro_value_t *v, const rill_item_qty_t *items,
                            size_t n)
{
    avro_value_t arr, it;
    field(io, v, "items", &arr);
    for (size_t i = 0; i < n && !add_item(io, &arr, &it); i++) {
        set_str(io, &it, "product_id", items[i].product_id);
        set_int(io, &it, "quantity", items[i].quantity);
    }
}

static void read_shipped(struct io *io, avro_value_t *v, rill_order_shipped_t *s)
{
    s->order_id = get_str(io, v, "order_id");
    s->customer_id = get_str(io, v, "customer_id");
    s->location_id = get_str(io, v, "location_id");
    s->item_cnt = read_qty_items(io, v, &s->items);
    s->total_e4 = get_long(io, v, "total_e4");
    s->currency = get_str(io, v, "currency");
    s->status = get_int(io, v, "status");
    s->event_time = get_long(io, v, "event_time");
    s->correlation_id = get_str(io, v, "correlation_id");
}

static void write_shipped(struct io *io, avro_value_t *v, const rill_order_shipped_t *s)
{
    set_str(io, v, "order_id", s->order_id);
    set_str(io, v, "customer_id", s->customer_id);
    set_str(io, v, "location_id", s->location_id);
    write_qty_items(io, v, s->items, s->item_cnt);
    set_long(io, v, "total_e4", s->total_e4);
    set_str(io, v, "currency", s->currency);
    set_int(io, v, "status", s->status);
    set_long(io, v, "event_time", s->event_time);
    set_str(io, v, "correlation_id", s->correlation_id);
}

static void read_status(struct io *io, avro_value_t *v, rill_order_status_t *s)
{
    s->order_id = get_str(io, v, "order_id");
    s->customer_id = get_str(io, v, "customer_id");
    s->location_id = get_str(io, v, "location_id");
    s->old_status = get_int(io, v, "old_status");
    s->new_status = get_int(io, v, "new_status");
    s->reason = get_str(io, v, "reason");
    s->event_time = get_long(io, v, "event_time");
    s->correlation_id = get_str(io, v, "correlation_id");
}

static void write_status(struct io *io, avro_value_t *v, const rill_order_status_t *s)
{
    set_str(io, v, "order_id", s->order_id);
    set_str(io, v, "customer_id", s->customer_id);
    set_str(io, v, "location_id", s->location_id);
    set_int(io, v, "old_status", s->old_status);
    set_int(io, v, "new_status", s->new_status);
    set_str(io, v, "reason", s->reason);
    set_long(io, v, "event_time", s->event_time);
    set_str(io, v, "correlation_id", s->correlation_id);
}

static void read_release(struct io *io, avro_value_t *v, rill_stock_release_t *r)
{
    r->order_id = get_str(io, v, "order_id");
    r->location_id = get_str(io, v, "location_id");
    r->item_cnt = read_qty_items(io, v, &r->items);
    r->reason = get_str(io, v, "reason");
    r->event_time = get_long(io, v, "event_time");
    r->correlation_id = get_str(io, v, "correlation_id");
}

static void write_release(struct io *io, avro_value_t *v, const rill_stock_release_t *r)
{
    set_str(io, v, "order_id", r->order_id);
    set_str(io, v, "location_id", r->location_id);
    write_qty_items(io, v, r->items, r->item_cnt);
    set_str(io, v, "reason", r->reason);
    set_long(io, v, "event_time", r->event_time);
    set_str(io, v, "correlation_id", r->correlation_id);
}

static void read_notification(struct io *io, avro_value_t *v, rill_notification_t *n)
{
    n->notification_id = get_str(io, v, "notification_id");
    n->customer_id = get_str(io, v, "customer_id");
    n->order_id = get_str(io, v, "order_id");
    n->location_id = get_str(io, v, "location_id");
    n->channel = get_str(io, v, "channel");
    n->kind = get_str(io, v, "kind");
    n->status = get_int(io, v, "status");
    n->message = get_str(io, v, "message");
    n->event_time = get_long(io, v, "event_time");
    n->correlation_id = get_str(io, v, "correlation_id");
}

static void write_notification(struct io *io, avro_value_t *v, const rill_notification_t *n)
{
    set_str(io, v, "notification_id", n->notification_id);
    set_str(io, v, "customer_id", n->customer_id);
    set_str(io, v, "order_id", n->order_id);
    set_str(io, v, "location_id", n->location_id);
    set_str(io, v, "channel", n->channel);
    set_str(io, v, "kind", n->kind);
    set_int(io, v, "status", n->status);
    set_str(io, v, "message", n->message);
    set_long(io, v, "event_time", n->event_time);
    set_str(io, v, "correlation_id", n->correlation_id);
}

/* ---- decode and encode ---- */

rill_err_t rill_serde_read_avro(rill_serde_t *s, const unsigned char *p, size_t n, int *type,
                               struct rill_serde_tally *tally, char *errstr, size_t errsz)
{
    if (n < RILL_SERDE_HEADER)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                               "truncated record: header needs %d bytes, %zu left",
                               RILL_SERDE_HEADER, n);
    int32_t id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
                           (uint32_t)p[4]);
    *type = -1;
    for (int t = 0; t < RILL_EVENT__COUNT; t++)
        if (s->id[t] == id && id)
            *type = t;
    if (*type < 0 && !s->reg)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "unknown schema id %d", (int)id);
    rill_err_t rc = *type < 0 ? rill_serde_reg_type_of(s->reg, s->schema, id, type, errstr, errsz)
                              : RILL_OK;
    if (rc)
        return rc;
    const unsigned char *payload = p + RILL_SERDE_HEADER;
    size_t plen = n - RILL_SERDE_HEADER;
    if (rill_serde_walk(s->schema[*type], payload, plen, tally, errstr, errsz))
        return RILL_ERR_INVALID;
    avro_value_t *v = &s->value[*type];
    avro_value_reset(v);
    avro_reader_memory_set_source(s->reader, (const char *)payload, (int64_t)plen);
    if (avro_value_read(s->reader, v))
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "avro-c cannot read %s: %s",
                         type_names[*type], avro_strerror());
    return RILL_OK;
}

static rill_err_t decode_avro(rill_serde_t *s, const unsigned char *p, size_t n,
                              rill_event_t *ev, char *errstr, size_t errsz)
{
    int type;
    struct rill_serde_tally tally;
    rill_err_t rerr = rill_serde_read_avro(s, p, n, &type, &tally, errstr, errsz);
    if (rerr)
        return rerr;
    avro_value_t *v = &s->value[type];
    struct rill_serde_arena a;
    rill_err_t err = rill_serde_arena_new(&a, tally.items * serde_item_size(type),
                                          tally.str_bytes, errstr, errsz);
    if (err)
        return err;
    ev->type = (rill_event_type_t)type;
    ev->arena_ = a.base;
    struct io io = { &a, tally.items, errstr, errsz, 0 };
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED: read_order(&io, v, &ev->u.order); break;
    case RILL_EVENT_PAYMENT_RESULT: read_payment(&io, v, &ev->u.payment); break;
    case RILL_EVENT_INVENTORY_RESULT: read_inventory(&io, v, &ev->u.inventory); break;
    case RILL_EVENT_ORDER_SHIPPED: read_shipped(&io, v, &ev->u.shipped); break;
    case RILL_EVENT_ORDER_STATUS: read_status(&io, v, &ev->u.status); break;
    case RILL_EVENT_STOCK_RELEASE: read_release(&io, v, &ev->u.release); break;
    default: read_notification(&io, v, &ev->u.notification); break;
    }
    if (io.failed)
        return RILL_ERR_INVALID;
    return rill_serde_check(ev, errstr, errsz);
}

rill_err_t rill_serde_decode(rill_serde_t *s, const void *key, size_t key_len, const void *value,
                             size_t value_len, rill_event_t *ev, char *errstr, size_t errsz)
{
    const unsigned char *p = value;
    memset(ev, 0, sizeof *ev);
    if (!p || !value_len)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "empty value");
    if (value_len > RILL_SERDE_MAX_VALUE)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "value of %zu bytes exceeds the limit of %d",
                               value_len, RILL_SERDE_MAX_VALUE);
    rill_err_t err;
    if (p[0] == RILL_SERDE_MAGIC) {
        err = decode_avro(s, p, value_len, ev, errstr, errsz);
    } else {
        size_t i = 0;
        while (i < value_len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
            i++;
        if (i == value_len || p[i] != '{')
            return rill_errf(errstr, errsz, RILL_ERR_INVALID, "bad magic byte 0x%02x", p[0]);
        err = rill_serde_decode_json(key, key_len, value, value_len, ev, errstr, errsz);
    }
    if (err)
        rill_event_clear(ev);
    return err;
}

rill_err_t rill_serde_encode(rill_serde_t *s, const rill_event_t *ev, rill_buf_t *out,
                             char *errstr, size_t errsz)
{
    rill_err_t err = rill_serde_check(ev, errstr, errsz);
    if (err)
        return err;
    if (!s->id[ev->type]) /* checked: the type is valid */
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                         "no schema id for %s: no topic of the registry's topic subject "
                         "strategy carries it", type_names[ev->type]);
    avro_value_t *v = &s->value[ev->type];
    struct io io = { NULL, 0, errstr, errsz, 0 };
    avro_value_reset(v);
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED: write_order(&io, v, &ev->u.order); break;
    case RILL_EVENT_PAYMENT_RESULT: write_payment(&io, v, &ev->u.payment); break;
    case RILL_EVENT_INVENTORY_RESULT: write_inventory(&io, v, &ev->u.inventory); break;
    case RILL_EVENT_ORDER_SHIPPED: write_shipped(&io, v, &ev->u.shipped); break;
    case RILL_EVENT_ORDER_STATUS: write_status(&io, v, &ev->u.status); break;
    case RILL_EVENT_STOCK_RELEASE: write_release(&io, v, &ev->u.release); break;
    default: write_notification(&io, v, &ev->u.notification); break;
    }
    if (io.failed)
        return RILL_ERR_INVALID;
    size_t size;
    if (avro_value_sizeof(v, &size))
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "avro-c cannot size %s: %s", type_names[ev->type],
                               avro_strerror());
    if (size > RILL_SERDE_MAX_VALUE - RILL_SERDE_HEADER)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                               "encoded %s of %zu bytes exceeds the limit of %d",
                               type_names[ev->type], size + RILL_SERDE_HEADER,
                               RILL_SERDE_MAX_VALUE);
    if (rill_serde_buf_reserve(out, size + RILL_SERDE_HEADER)) {
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory encoding %s", type_names[ev->type]);
    }
    uint32_t id = (uint32_t)s->id[ev->type];
    out->p[0] = RILL_SERDE_MAGIC;
    out->p[1] = (unsigned char)(id >> 24);
    out->p[2] = (unsigned char)(id >> 16);
    out->p[3] = (unsigned char)(id >> 8);
    out->p[4] = (unsigned char)id;
    avro_writer_memory_set_dest(s->writer, (const char *)out->p + RILL_SERDE_HEADER,
                                (int64_t)size);
    if (avro_value_write(s->writer, v))
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "avro-c cannot write %s: %s", type_names[ev->type],
                               avro_strerror());
    out->len = size + RILL_SERDE_HEADER;
    return RILL_OK;
}

void rill_event_clear(rill_event_t *ev)
{
    if (!ev)
        return;
    free(ev->arena_);
    memset(ev, 0, sizeof *ev);
}

const char *rill_event_location(const rill_event_t *ev)
{
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED: return ev->u.order.location_id;
    case RILL_EVENT_PAYMENT_RESULT: return ev->u.payment.location_id;
    case RILL_EVENT_INVENTORY_RESULT: return ev->u.inventory.location_id;
    case RILL_EVENT_ORDER_SHIPPED: return ev->u.shipped.location_id;
    case RILL_EVENT_ORDER_STATUS: return ev->u.status.location_id;
    case RILL_EVENT_STOCK_RELEASE: return ev->u.release.location_id;
    case RILL_EVENT_NOTIFICATION: return ev->u.notification.location_id;
    default: return NULL;
    }
}
