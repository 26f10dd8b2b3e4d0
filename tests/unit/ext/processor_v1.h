/*
 * processor_v1.h - a frozen copy of the first processor ABI
 * (RILL_PROCESSOR_V1: processors/processor.h and the error enum of
 * topology/rill.h as of commit c4f0f95), for tests/unit/ext/probe_v1.c, a
 * plugin built the way one built before V2 existed. Never edit it to follow
 * processor.h: that it stays old is the point.
 */
#ifndef RILL_PROCESSOR_V1_FROZEN_H
#define RILL_PROCESSOR_V1_FROZEN_H

#include <stddef.h>
#include <stdint.h>

/* from topology/rill.h */
/* One error enum for the whole runtime. Fallible calls return a rill_err_t
 * and, where a message helps, fill a caller-provided errstr buffer. */
typedef enum {
    RILL_OK = 0,
    RILL_ERR_INVALID,   /* bad argument or malformed input */
    RILL_ERR_NOMEM,     /* allocation failed */
    RILL_ERR_IO,        /* file or socket I/O failed */
    RILL_ERR_CONFIG,    /* configuration rejected */
    RILL_ERR_NOTFOUND,  /* the named thing does not exist */
    RILL_ERR_KAFKA,     /* a Kafka client call failed */
    RILL_ERR_AUTH,      /* authentication or authorization refused */
    RILL_ERR_PG,        /* a PostgreSQL call failed */
    RILL_ERR_STATE,     /* a state store failed */
    RILL_ERR_RETRY,     /* transient: try the same thing again later */
    RILL_ERR_FATAL,     /* unrecoverable for this component (e.g. fenced) */
    RILL_ERR__COUNT
} rill_err_t;

/* A static, lowercase description of err; never NULL. */
const char *rill_err2str(rill_err_t err);

#define RILL_PROCESSOR_V1 1
/* The symbol an external processor .so exports: a const struct
 * rill_processor_def with version RILL_PROCESSOR_V1. */
#define RILL_PROCESSOR_ENTRY "rill_processor_entry"

typedef struct rill_ctx rill_ctx_t;
typedef struct rill_store rill_store_t;

/* ---- typed configuration tables (after Fluent Bit's config_map) ---------- */

typedef enum {
    RILL_CONF_STR,    /* char *, owned by the runtime, NULL when unset */
    RILL_CONF_INT,    /* int64_t */
    RILL_CONF_DOUBLE, /* double */
    RILL_CONF_BOOL,   /* int, 0 or 1 ("true"/"false") */
} rill_conf_type_t;

struct rill_conf_def {
    const char *key;
    rill_conf_type_t type;
    const char *def;      /* default in YAML spelling; NULL: required for STR */
    size_t offset;        /* offsetof() into the processor's config struct */
    const char *doc;      /* one line */
};

/* ---- records -------------------------------------------------------------- */

typedef struct {
    const char *name;
    const void *value; /* may be NULL (a null header) */
    size_t len;
} rill_header_t;

typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;    /* ms since the epoch, as in the Kafka record */
    const void *key;
    size_t key_len;
    const void *value;    /* NULL for a tombstone */
    size_t value_len;
    const rill_header_t *headers;
    size_t header_cnt;
} rill_record_t;

/* Finds the last header called name; returns 1 and fills *value and *len when
 * found, 0 when not. */
int rill_record_header(const rill_record_t *rec, const char *name, const void **value,
                       size_t *len);

/* Reads a field of the record's value as text into out: a dotted JSON path
 * ("status", "customer.id"), or "header:NAME" for a header's bytes, or "key"
 * for the record key. Returns RILL_OK, RILL_ERR_NOTFOUND when the record has
 * no such field, RILL_ERR_INVALID when the value cannot be parsed or the field
 * is not a scalar, RILL_ERR_NOMEM when it does not fit out. */
rill_err_t rill_record_field(const rill_record_t *rec, const char *selector, char *out,
                             size_t outsz);

/* ---- the processor ---------------------------------------------------------- */

typedef enum {
    RILL_PROC_OK = 0,
    RILL_PROC_RETRY,   /* transient: the runtime backs off and retries the record */
    RILL_PROC_REJECT,  /* the record is bad: it goes to the DLQ with the reason
                          given through rill_ctx_reject() */
} rill_proc_result_t;

typedef enum {
    RILL_PUNCTUATE_STREAM_TIME, /* advances with record timestamps */
    RILL_PUNCTUATE_WALL_CLOCK,  /* advances with the system clock */
} rill_punctuate_type_t;

struct rill_processor_def {
    int version;                         /* RILL_PROCESSOR_V1 */
    const char *name;                    /* the YAML `type:` */
    const char *doc;                     /* one line */
    const struct rill_conf_def *conf;    /* terminated by a {NULL} row; may be NULL */
    size_t conf_size;                    /* sizeof the config struct conf fills */
    /* Creates the per-task instance; conf is the filled config struct (also
     * reachable as rill_ctx_conf()). Returns RILL_OK or an error with errstr. */
    rill_err_t (*init)(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz);
    rill_proc_result_t (*process)(rill_ctx_t *ctx, void *state, const rill_record_t *rec);
    /* Optional: called when a schedule set with rill_ctx_schedule() fires. */
    rill_proc_result_t (*punctuate)(rill_ctx_t *ctx, void *state, rill_punctuate_type_t type,
                                    int64_t now_ms);
    void (*close)(void *state);          /* may be NULL */
};

/* ---- the context ----------------------------------------------------------- */

/* Forwards a record to the output topic named output, or to every output when
 * output is NULL. The runtime copies key, value and headers. The record keeps
 * the input's timestamp. Returns RILL_OK, or RILL_ERR_NOTFOUND for an unknown
 * output name. */
rill_err_t rill_ctx_forward(rill_ctx_t *ctx, const char *output, const void *key, size_t key_len,
                            const void *value, size_t value_len, const rill_header_t *headers,
                            size_t header_cnt);

/* Marks the record in hand as rejected with a reason (printf-style); the
 * processor then returns RILL_PROC_REJECT. */
void rill_ctx_reject(rill_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The store the YAML grants this processor under name, or NULL when not
 * granted. Owned by the runtime. The store API is state/store.h. */
rill_store_t *rill_ctx_store(rill_ctx_t *ctx, const char *name);
/* The i-th store granted (YAML order), or NULL past the end. */
rill_store_t *rill_ctx_store_at(rill_ctx_t *ctx, size_t i);

/* Calls the processor's punctuate every interval_ms of the given time. */
rill_err_t rill_ctx_schedule(rill_ctx_t *ctx, rill_punctuate_type_t type, int64_t interval_ms);

const void *rill_ctx_conf(const rill_ctx_t *ctx);     /* the filled config struct */
const char *rill_ctx_name(const rill_ctx_t *ctx);     /* the processor's YAML name */
int32_t rill_ctx_partition(const rill_ctx_t *ctx);    /* the task's partition */
size_t rill_ctx_output_count(const rill_ctx_t *ctx);
const char *rill_ctx_output_name(const rill_ctx_t *ctx, size_t i);

#endif
