/*
 * processor.h - the processor plugin API. A processor is one const struct of
 * function pointers (struct rill_processor_def), registered by name in the
 * static table of processors/registry.c or loaded from a shared object that
 * exports RILL_PROCESSOR_ENTRY. A processor sees the world only through its
 * context (rill_ctx_t): the record in hand, its typed configuration, the stores
 * the YAML grants it, forwarding to its outputs, and punctuation schedules. It
 * never touches a Kafka handle or a database connection.
 *
 * Threading: one processor instance (state) belongs to one task, and all calls
 * on it come from that task's thread. The def itself is immutable and shared.
 *
 * Versions (after SQLite's iVersion): a plugin sets .version to the
 * RILL_PROCESSOR_VERSION of the header it was built with, and rill loads any
 * plugin whose version is from RILL_PROCESSOR_V1 to its own
 * RILL_PROCESSOR_VERSION, reading only the fields that version promises (a
 * V1 plugin's config rows end at doc). A plugin newer than the runtime, or
 * claiming a version below 1, is refused. So the ABI grows by appending
 * only: a new field goes at the end of its struct, with a comment naming the
 * version that added it, and RILL_PROCESSOR_VERSION goes up by one; no field
 * is removed, reordered or retyped, and no enum value (here or rill_err_t in
 * topology/rill.h) changes. The loader keeps a frozen copy of each older
 * layout (processors/processor_int.h).
 *
 * Lifetimes:
 *  - the def: read when the processor is created; a built-in's lives in
 *    rill, an external one's must stay valid while its library is loaded.
 *  - rill_ctx_t: one per processor instance, that is per processor per task
 *    (one input partition); valid from the call to init until close
 *    returns, and used only on the task's thread, inside the calls below.
 *  - the filled config struct (rill_ctx_conf(), and the STR strings in it):
 *    owned by the runtime, read-only, valid from init until close returns.
 *  - rill_record_t and everything it points to (topic, key, value, headers
 *    and their names and values): valid during the process call it is
 *    handed to only; copy what must outlive the call. The runtime copies
 *    what rill_ctx_forward() is given, so forwarding from it is fine.
 *  - stores (rill_ctx_store()): owned by the runtime, valid from init until
 *    close is called; not usable in close (what close writes would never
 *    commit).
 *  - state (*state from init): the processor's own, freed by its close.
 *
 * Which context call is legal where (close gets no ctx; the calls in its
 * column are those of a ctx a processor kept in its state):
 *
 *   call                               init  process  punctuate  close
 *   rill_ctx_forward, _forward_keep     -      yes      yes        -
 *   rill_ctx_reject, _reject_as         -      yes       -         -
 *   rill_ctx_store, rill_ctx_store_at  yes     yes      yes        -
 *   rill_ctx_schedule                  yes      -        -         -
 *   rill_ctx_conf, _name, _partition,  yes     yes      yes       yes
 *     _output_count, _output_name,
 *     _input_count, _input_name
 *   rill_ctx_log, _wall_clock_ms       yes     yes      yes       yes
 *   rill_record_header, _header_count,  on the record in hand, in process
 *     _header_at, _field, _json
 *
 * The runtime checks the first four rows: forward, reject, store and
 * schedule outside their columns (or between callbacks, e.g. from a thread
 * of the plugin's own) are refused, with RILL_ERR_INVALID, NULL for the
 * store calls, or nothing done for rill_ctx_reject, and one warning line
 * naming the processor and the call. What it cannot check cheaply (a ctx,
 * store or record pointer kept past its lifetime, a call from another
 * thread during a callback) is undefined behaviour.
 */
#ifndef RILL_PROCESSOR_H
#define RILL_PROCESSOR_H

#include <stddef.h>
#include <stdint.h>

#include "topology/rill.h"

#define RILL_PROCESSOR_V1 1 /* the first ABI */
#define RILL_PROCESSOR_V2 2 /* struct rill_conf_def gains min and max */
#define RILL_PROCESSOR_V3 3 /* struct rill_processor_def gains check */
#define RILL_PROCESSOR_V4 4 /* headers on demand: rill_record_t gains header_src */
#define RILL_PROCESSOR_VERSION RILL_PROCESSOR_V4 /* what this header describes */
/* The symbol an external processor .so exports: a const struct
 * rill_processor_def whose version is the RILL_PROCESSOR_VERSION it was built
 * against. */
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
    /* Since RILL_PROCESSOR_V2: the inclusive range of an INT or DOUBLE, in
     * YAML spelling; NULL: unbounded on that side. A V1 plugin's rows end at
     * doc (the runtime reads them with the V1 row layout). */
    const char *min;
    const char *max;
};

/* ---- records -------------------------------------------------------------- */

typedef struct {
    const char *name;
    const void *value; /* may be NULL (a null header) */
    size_t len;
} rill_header_t;

/* Where a record's headers are read from on demand: the runtime's. */
typedef struct rill_header_src rill_header_src_t;

typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;    /* ms since the epoch, as in the Kafka record */
    const void *key;
    size_t key_len;
    const void *value;    /* NULL for a tombstone */
    size_t value_len;
    /* Up to RILL_PROCESSOR_V3: every header of the record, in order. A V4
     * processor gets NULL and 0 here: it reads the headers it wants with
     * rill_record_header(), _header_count() and _header_at(), so that a
     * record's headers are looked at only when asked for, and forwards a
     * record's headers with rill_ctx_forward_keep(). */
    const rill_header_t *headers;
    size_t header_cnt;
    /* Since RILL_PROCESSOR_V4: what the calls below read; NULL: headers. */
    const rill_header_src_t *header_src;
} rill_record_t;

/* rec and its pointers are valid during the process call only (see the top
 * of this file). Both calls below only read rec. */

/* Finds the last header called name; returns 1 and fills *value and *len when
 * found, 0 when not. */
int rill_record_header(const rill_record_t *rec, const char *name, const void **value,
                       size_t *len);
/* Since RILL_PROCESSOR_V4: how many headers the record has, and the i-th of
 * them in order (returns 1 and fills *name, *value and *len; 0 past the
 * last). */
size_t rill_record_header_count(const rill_record_t *rec);
int rill_record_header_at(const rill_record_t *rec, size_t i, const char **name,
                          const void **value, size_t *len);

/* The record's value as JSON text in *json (not NUL-terminated) and *len:
 * the value itself when it is not Confluent-framed (magic byte 0 and a
 * 4-byte schema id; whether it is valid JSON is the reader's to find), else
 * the Avro value decoded with the schema of its id among the ones the
 * process knows (schemas/avro/), written as JSON: the schema's field names,
 * a union as its branch's value, bytes and fixed as base64. The text is
 * valid during the process call of rec only. Returns RILL_OK,
 * RILL_ERR_NOTFOUND for a tombstone, RILL_ERR_INVALID for a framed value
 * of an unknown id, that does not decode, or outside its process call,
 * RILL_ERR_NOMEM. */
rill_err_t rill_record_json(const rill_record_t *rec, const char **json, size_t *len);

/* Reads a field of the record's value as text into out: a dotted JSON path
 * ("status", "customer.id") into the value as rill_record_json() gives it
 * (so into JSON or Avro), or "header:NAME" for a header's bytes, or "key"
 * for the record key. Returns RILL_OK, RILL_ERR_NOTFOUND when the record has
 * no such field, RILL_ERR_INVALID when the value cannot be parsed or the field
 * is not a scalar, RILL_ERR_NOFIT when it does not fit out (RILL_ERR_NOMEM
 * before ABI V2). */
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
    int version;                         /* RILL_PROCESSOR_VERSION when built */
    const char *name;                    /* the YAML `type:` */
    const char *doc;                     /* one line */
    const struct rill_conf_def *conf;    /* terminated by a {NULL} row; may be NULL */
    size_t conf_size;                    /* sizeof the config struct conf fills */
    /* Optional: creates the per-task instance in *state; the filled config
     * struct is rill_ctx_conf(ctx). Returns RILL_OK, or an error with errstr
     * (errsz is RILL_ERRSTR_SIZE) after freeing what it made: close is not
     * called for an instance whose init failed. */
    rill_err_t (*init)(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz);
    /* One record; rec is valid during this call only. */
    rill_proc_result_t (*process)(rill_ctx_t *ctx, void *state, const rill_record_t *rec);
    /* Optional: called when a schedule set with rill_ctx_schedule() fires. */
    rill_proc_result_t (*punctuate)(rill_ctx_t *ctx, void *state, rill_punctuate_type_t type,
                                    int64_t now_ms);
    /* Optional: frees state; the last call on the instance. */
    void (*close)(void *state);
    /* Since RILL_PROCESSOR_V3, optional: checks the filled config struct as a
     * whole, for what one row's type and range cannot say (one key against
     * another, a STR that must be one of a few words). Returns RILL_OK, or an
     * error with errstr and *key set to the config key to blame (NULL: the
     * processor as a whole). `rill validate` (and every load that checks the
     * topology) reports it at that key's file:line:col. Must not keep conf. */
    rill_err_t (*check)(const void *conf, const char **key, char *errstr, size_t errsz);
};

/* ---- the context ----------------------------------------------------------- */

/* Forwards a record to the output topic named output, or to every output when
 * output is NULL. The runtime copies key, value and headers, and writes the
 * trace context itself (README, "Correlation ids"): the record gets a
 * `traceparent` header with the trace id of the record in hand (or of a new
 * trace, in punctuate) and a new parent id for this call, after the headers
 * given, in which a traceparent or tracestate is left out; the input's
 * tracestate follows it. The record keeps
 * the input's timestamp (in punctuate: the stream time). Legal in process and
 * punctuate. Returns RILL_OK, RILL_ERR_NOTFOUND for an unknown output name,
 * RILL_ERR_NOMEM, or RILL_ERR_INVALID outside process and punctuate. */
rill_err_t rill_ctx_forward(rill_ctx_t *ctx, const char *output, const void *key, size_t key_len,
                            const void *value, size_t value_len, const rill_header_t *headers,
                            size_t header_cnt);

/* Since RILL_PROCESSOR_V4: rill_ctx_forward() with the headers of the
 * record in hand (none in punctuate), what a V3 processor did by passing
 * rec->headers and rec->header_cnt. */
rill_err_t rill_ctx_forward_keep(rill_ctx_t *ctx, const char *output, const void *key,
                                 size_t key_len, const void *value, size_t value_len);

/* Marks the record in hand as rejected with a reason (printf-style); the
 * processor then returns RILL_PROC_REJECT. Legal in process only. The
 * reason's class is RILL_REJECT_OTHER. */
void rill_ctx_reject(rill_ctx_t *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Why a record went to the DLQ, in a few classes an operator can alert on:
 * the rill_dlq_records_total{reason} label and the DLQ record's
 * rill.error.class header (rill_reject_class_name()). */
typedef enum {
    RILL_REJECT_OTHER = 0,  /* rill_ctx_reject(), or a reason of no other class */
    RILL_REJECT_DECODE,     /* the key or value cannot be decoded (bad bytes, unknown schema) */
    RILL_REJECT_INVALID,    /* decoded, but a field is missing, of the wrong type or out of range */
    RILL_REJECT_UNROUTABLE, /* valid, but no output takes it */
    RILL_REJECT_ENCODE,     /* an output cannot be encoded */
    RILL_REJECT_LATE,       /* since V3: past its window's grace (windowed aggregations) */
    RILL_REJECT__COUNT      /* not a class: how many there are (grows by appending) */
} rill_reject_class_t;

/* rill_ctx_reject() with a class (an unknown class counts as OTHER). */
void rill_ctx_reject_as(rill_ctx_t *ctx, rill_reject_class_t cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "other", "decode", "invalid", "unroutable", "encode", "late". */
const char *rill_reject_class_name(rill_reject_class_t cls);

/* The store the YAML grants this processor under name, or NULL when not
 * granted. Owned by the runtime. The store API is state/store.h. Legal in
 * init, process and punctuate (NULL elsewhere). */
rill_store_t *rill_ctx_store(rill_ctx_t *ctx, const char *name);
/* The i-th store granted (YAML order), or NULL past the end. */
rill_store_t *rill_ctx_store_at(rill_ctx_t *ctx, size_t i);

/* Calls the processor's punctuate every interval_ms of the given time. Legal
 * in init only. RILL_ERR_INVALID also for interval_ms <= 0 or a processor
 * without punctuate; RILL_ERR_NOFIT past RILL_CTX_MAX_SCHEDULES (4) schedules
 * (RILL_ERR_NOMEM before ABI V2). */
#define RILL_CTX_MAX_SCHEDULES 4
rill_err_t rill_ctx_schedule(rill_ctx_t *ctx, rill_punctuate_type_t type, int64_t interval_ms);

/* The wall clock, in milliseconds since the Unix epoch: the system's
 * real-time clock under `rill run`, the controllable clock of the test driver
 * (rill_driver_advance_wall_clock()) there. For what must survive a restart
 * or a move to another host (a deadline kept in a store); punctuate's now_ms
 * may be another, monotonic clock. Legal from init until close returns. */
int64_t rill_ctx_wall_clock_ms(const rill_ctx_t *ctx);

/* Legal from init until close returns. */
const void *rill_ctx_conf(const rill_ctx_t *ctx);     /* the filled config struct */
const char *rill_ctx_name(const rill_ctx_t *ctx);     /* the processor's YAML name */
int32_t rill_ctx_partition(const rill_ctx_t *ctx);    /* the task's partition */
size_t rill_ctx_output_count(const rill_ctx_t *ctx);
const char *rill_ctx_output_name(const rill_ctx_t *ctx, size_t i);
/* The topics it reads, in YAML order (a record's rec->topic is one). */
size_t rill_ctx_input_count(const rill_ctx_t *ctx);
const char *rill_ctx_input_name(const rill_ctx_t *ctx, size_t i);

/* ---- logging ---------------------------------------------------------------- */

typedef enum {
    RILL_CTX_LOG_DEBUG,
    RILL_CTX_LOG_INFO,
    RILL_CTX_LOG_WARN,
    RILL_CTX_LOG_ERROR,
} rill_ctx_log_level_t;

/* Logs one line through rill's logger (stderr, its level filter
 * RILL_LOG_LEVEL): `... level=info comp=processor msg="<fmt's text>"
 * processor=<YAML name> partition=<task's partition>`, and in process
 * ` trace_id=<the record in hand's>`. As in rill's own log,
 * text after a '|' in the message is key=value pairs, printed before
 * processor=: rill_ctx_log(ctx, RILL_CTX_LOG_WARN, "slow lookup|ms=%d", ms).
 * The message is cut at 768 bytes. Legal from init until close returns;
 * thread-safe. */
void rill_ctx_log(const rill_ctx_t *ctx, rill_ctx_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
