/*
 * serde.h - the serdes of the order pipeline's events: typed C structs for the
 * seven event schemas of schemas/avro/, encoded as Avro binary (avro-c) framed
 * in the Confluent wire format (magic byte 0, 4-byte big-endian schema id,
 * payload), and decoded from that format or, for order_placed, from the JSON
 * shape {orderId, customerId, status, timestamp, total, items[]} that producers
 * without Avro can write.
 *
 * Decoding is for untrusted bytes: every length is bounded by the bytes left
 * in the record before anything is allocated, values over RILL_SERDE_MAX_VALUE
 * or with more than RILL_SERDE_MAX_ITEMS lines are refused, required fields
 * and their ranges are validated (quantity > 0, status codes, total equals the
 * sum of the lines, ...). A bad record is an error with a message naming what
 * is wrong; callers send it to the DLQ. Nothing here aborts or exits.
 *
 * Schema ids come from a Confluent Schema Registry when one is configured
 * (RILL_SCHEMA_REGISTRY_URL, registry.h): the schemas are registered under
 * the subjects of the process's subject strategy (their record's full name,
 * or "<topic>-value" of the topics that carry them) and the serde writes the
 * ids the registry gave; it reads those and any other id whose schema, as
 * the registry gives it, equals one of the seven. Otherwise the ids come
 * from the id map checked in as schemas/avro/ids.map and compiled into the
 * binary, and only those are read.
 *
 * Threading: a rill_serde_t is used by one thread at a time (avro-c values are
 * not shared); create one per processor instance. Events are plain data.
 */
#ifndef RILL_SERDE_H
#define RILL_SERDE_H

#include <stddef.h>
#include <stdint.h>

#include "topology/rill.h"

#define RILL_SERDE_MAGIC 0             /* first byte of the Confluent wire format */
#define RILL_SERDE_HEADER 5            /* magic + schema id */
#define RILL_SERDE_MAX_VALUE (1 << 20) /* bytes; larger values are refused */
#define RILL_SERDE_MAX_ITEMS 1000      /* lines per event */
#define RILL_SERDE_MAX_STRING 1024     /* bytes per string field */

/* Status codes of the pipeline (schemas/README.md). */
#define RILL_STATUS_OPEN 1000
#define RILL_STATUS_PAID 1100
#define RILL_STATUS_PAYMENT_REJECTED 1150
#define RILL_STATUS_RESERVED 1200
#define RILL_STATUS_OUT_OF_STOCK 1250
#define RILL_STATUS_SHIPPED 1300
#define RILL_STATUS_CANCELLED 1900

typedef enum {
    RILL_EVENT_ORDER_PLACED = 0, /* order_placed.avsc, OrderPlaced */
    RILL_EVENT_PAYMENT_RESULT,   /* payment_result.avsc, PaymentResult */
    RILL_EVENT_INVENTORY_RESULT, /* inventory_result.avsc, InventoryResult */
    RILL_EVENT_ORDER_SHIPPED,    /* order_shipped.avsc, OrderShipped */
    RILL_EVENT_ORDER_STATUS,     /* order_status.avsc, OrderStatusChanged */
    RILL_EVENT_STOCK_RELEASE,    /* stock_release.avsc, StockRelease */
    RILL_EVENT_NOTIFICATION,     /* notifications.avsc, Notification */
    RILL_EVENT__COUNT
} rill_event_type_t;

/* Strings of a decoded event point into the event's own arena and live until
 * rill_event_clear(); strings of an event built by hand are the caller's.
 * Every string field is non-NULL after a successful decode, except
 * rill_payment_result_t.reason, which is NULL when the Avro value is null. */

typedef struct {
    const char *product_id;
    const char *category;
    int32_t quantity;          /* > 0 */
    int64_t unit_price_e4;     /* >= 0 */
} rill_order_item_t;

typedef struct {
    const char *order_id, *customer_id, *location_id;
    rill_order_item_t *items;
    size_t item_cnt;           /* >= 1 */
    int64_t total_e4;          /* = sum of quantity * unit_price_e4 */
    const char *currency;      /* three upper-case letters */
    int32_t status;            /* RILL_STATUS_OPEN */
    int64_t event_time;        /* ms since the epoch, UTC */
    const char *correlation_id;
} rill_order_placed_t;

typedef struct {
    const char *order_id, *customer_id, *location_id;
    int approved;              /* 1: RILL_STATUS_PAID, 0: RILL_STATUS_PAYMENT_REJECTED */
    int32_t status;
    int64_t amount_e4;
    const char *currency;
    const char *reason;        /* NULL when approved */
    int64_t event_time;
    const char *correlation_id;
} rill_payment_result_t;

typedef struct {
    const char *product_id;
    int32_t requested;         /* > 0 */
    int32_t reserved;          /* requested or 0 */
    int64_t available;         /* stock before this order */
} rill_item_reservation_t;

typedef struct {
    const char *order_id, *customer_id, *location_id;
    int reserved;              /* 1: RILL_STATUS_RESERVED, 0: RILL_STATUS_OUT_OF_STOCK */
    int32_t status;
    rill_item_reservation_t *items;
    size_t item_cnt;
    int64_t event_time;
    const char *correlation_id;
} rill_inventory_result_t;

typedef struct {
    const char *product_id;
    int32_t quantity;          /* > 0 */
} rill_item_qty_t;             /* ShippedItem and ReleasedItem */

typedef struct {
    const char *order_id, *customer_id, *location_id;
    rill_item_qty_t *items;
    size_t item_cnt;
    int64_t total_e4;
    const char *currency;
    int32_t status;            /* RILL_STATUS_SHIPPED */
    int64_t event_time;
    const char *correlation_id;
} rill_order_shipped_t;

typedef struct {
    const char *order_id, *customer_id, *location_id;
    int32_t old_status, new_status;
    const char *reason;
    int64_t event_time;
    const char *correlation_id;
} rill_order_status_t;

typedef struct {
    const char *order_id, *location_id;
    rill_item_qty_t *items;
    size_t item_cnt;
    const char *reason;
    int64_t event_time;
    const char *correlation_id;
} rill_stock_release_t;

typedef struct {
    const char *notification_id, *customer_id, *order_id, *location_id;
    const char *channel;       /* email, sms or push */
    const char *kind;          /* payment_rejected, out_of_stock, order_shipped, order_cancelled */
    int32_t status;
    const char *message;
    int64_t event_time;
    const char *correlation_id;
} rill_notification_t;

typedef struct rill_event {
    rill_event_type_t type;
    union {
        rill_order_placed_t order;
        rill_payment_result_t payment;
        rill_inventory_result_t inventory;
        rill_order_shipped_t shipped;
        rill_order_status_t status;
        rill_stock_release_t release;
        rill_notification_t notification;
    } u;
    void *arena_;              /* private: what a decode allocated */
} rill_event_t;

/* A growable byte buffer for encoded values; zero-initialise, reuse across
 * calls (encode overwrites), free with rill_buf_free(). */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} rill_buf_t;

void rill_buf_free(rill_buf_t *b);

typedef struct rill_serde rill_serde_t;
struct rill_registry_conf; /* registry.h */

/* The subjects a serde with a registry registers the schemas under. */
typedef enum {
    RILL_SUBJECT_RECORD = 0, /* RecordNameStrategy: the record's full name, all seven */
    RILL_SUBJECT_TOPIC,      /* TopicNameStrategy: "<topic>-value" of each given topic */
} rill_subject_strategy_t;

/* A topic and the event type its values carry. */
struct rill_serde_topic {
    const char *topic;
    rill_event_type_t type;
};

/* Sets the subject strategy of the serdes made after it in this process
 * (default RILL_SUBJECT_RECORD); with RILL_SUBJECT_TOPIC each topics[i]'s
 * schema is registered under "<topic>-value", and a type that no topic
 * carries gets no id (encoding it is an error; decoding still looks ids up).
 * Copies topics. `rill run` and `rill inspect` call it from the topology
 * (schema.registry.subject.strategy), `rill generate` from its flag, before
 * they make serdes. RILL_ERR_INVALID for an empty topic or a bad type.
 * Thread-safe. */
rill_err_t rill_serde_set_subjects(rill_subject_strategy_t strategy,
                                   const struct rill_serde_topic *topics, size_t n,
                                   char *errstr, size_t errsz);

/* The event type a topic carries by its name: the type whose name
 * (rill_event_type_name()) the topic is, or ends in after a '.' (a prefix):
 * "order_placed" and "prod.order_placed" carry order_placed. -1 for any
 * other name. The rule behind the topic strategy of a topology, and the
 * order pipeline's default outputs (processors/orders/orders.h). */
int rill_event_type_of_topic(const char *topic);

/* Parses the compiled-in schemas and takes the schema ids from the schema
 * registry that the environment configures (rill_registry_conf_env(); see
 * rill_serde_new_registry()) or, when RILL_SCHEMA_REGISTRY_URL is unset or
 * empty, from the compiled-in id map. Returns RILL_OK or an error with
 * errstr; a registry that cannot be reached is an error, never a fall back
 * to the id map. Thread-safe. */
rill_err_t rill_serde_new(rill_serde_t **out, char *errstr, size_t errsz);

/* Like rill_serde_new(), with the ids of the registry that conf (not NULL)
 * describes, whatever the environment says: the schemas are registered
 * (rill_serde_schema_text(), under the subjects of rill_serde_set_subjects(),
 * by default their record's full name, e.g. io.rill.orders.OrderPlaced) once
 * per process per URL, user and subjects; later serdes of the same registry
 * reuse the ids without a request. The serde encodes with these ids; it
 * decodes them and looks up any other id (rill_serde_decode()). Errors are
 * rill_registry_new()'s and rill_registry_register()'s (errstr names the
 * request, never a credential), or RILL_ERR_INVALID when the registry gives
 * two schemas one id. Blocks for the requests (registry.h); thread-safe. */
rill_err_t rill_serde_new_registry(rill_serde_t **out, const struct rill_registry_conf *conf,
                                   char *errstr, size_t errsz);
void rill_serde_destroy(rill_serde_t *s);

/* Decodes a record value into ev (which must be cleared or zeroed before):
 *   - Confluent-framed Avro: the schema id selects the event type;
 *   - JSON (first non-blank byte '{'): an order_placed in the JSON shape;
 *     `locationId` may be absent, then key[0..key_len) is the location.
 * Returns RILL_OK, or RILL_ERR_INVALID with errstr saying what is wrong (bad
 * magic byte, unknown schema id, truncated, oversize length, missing or
 * out-of-range field, trailing bytes, malformed JSON). With a registry, an
 * id the serde does not know is looked up once per process (its schema must
 * equal one of the seven); RILL_ERR_IO when the registry cannot be asked,
 * which is not the record's fault: try it again later. ev holds nothing to
 * free after a failure. */
rill_err_t rill_serde_decode(rill_serde_t *s, const void *key, size_t key_len, const void *value,
                             size_t value_len, rill_event_t *ev, char *errstr, size_t errsz);

/* Encodes ev as Confluent-framed Avro into out (out->len is the value size).
 * The event is validated as a decode would; RILL_ERR_INVALID names the
 * field. RILL_ERR_CONFIG when the serde has no id for the type (the topic
 * strategy, no topic carrying it). */
rill_err_t rill_serde_encode(rill_serde_t *s, const rill_event_t *ev, rill_buf_t *out,
                             char *errstr, size_t errsz);

/* Encodes an order_placed event in the JSON shape into out, validated as
 * rill_serde_encode() does: every key written, money as exact decimal
 * strings ("12.34"), the timestamp as epoch ms (schemas/README.md). Other
 * event types are RILL_ERR_INVALID. */
rill_err_t rill_serde_encode_json(const rill_event_t *ev, rill_buf_t *out, char *errstr,
                                  size_t errsz);

/* The schema id the compiled-in id map gives type, and the type of a schema
 * id in that map (-1 when unknown, either way); a serde with a registry uses
 * the registry's ids instead. */
int32_t rill_serde_schema_id(rill_event_type_t type);
int rill_serde_type_of_id(int32_t id);
/* "order_placed", ... (the .avsc base name) and the .avsc text compiled in,
 * byte for byte (what a registry should be given); NULL for an unknown type. */
const char *rill_event_type_name(rill_event_type_t type);
const char *rill_serde_schema_text(rill_event_type_t type);

/* ---- showing any value (serde_show.c) ---- */

struct rill_jsonw; /* topology/base/jsonw.h */

typedef enum {
    RILL_SHOW_NULL = 0,        /* no value (a tombstone): null */
    RILL_SHOW_AVRO,            /* framed Avro of one of the serde's ids, decoded */
    RILL_SHOW_JSON,            /* a JSON text, re-emitted compactly */
    RILL_SHOW_STRING,          /* other UTF-8 text (no NUL): a JSON string */
    RILL_SHOW_BASE64,          /* anything else: a JSON string of its base64 */
} rill_show_format_t;

struct rill_serde_shown {
    rill_show_format_t format;
    int32_t schema_id;         /* the id of a Confluent header (magic 0, 5+ bytes), else -1 */
    const char *schema;        /* RILL_SHOW_AVRO: the .avsc base name, e.g. "order_placed" */
    char error[256];           /* why a framed value did not decode ("" when it did, or
                                * when it is not framed): then it is shown as its bytes */
};

/* Writes value[0..len) (NULL: a tombstone) into w as one JSON value, the
 * way serde_show.c's top says: Avro by the serde's schema ids (field names
 * of the schema, a union as its branch's value), JSON re-emitted, text as a
 * string, other bytes as base64; never fails on hostile bytes. *shown says
 * which. Returns RILL_OK, or RILL_ERR_NOMEM when the writer ran out. Uses
 * the serde's reader: one thread at a time, like a decode. */
rill_err_t rill_serde_show(rill_serde_t *s, const void *value, size_t len, struct rill_jsonw *w,
                           struct rill_serde_shown *shown);
/* "null", "avro", "json", "string" or "base64". */
const char *rill_serde_show_format_name(rill_show_format_t f);

/* Frees what a decode allocated and zeroes ev. */
void rill_event_clear(rill_event_t *ev);

/* The event's location_id (the Kafka key of every pipeline topic). */
const char *rill_event_location(const rill_event_t *ev);

#endif
