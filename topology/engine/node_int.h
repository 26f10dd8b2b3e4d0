/*
 * node_int.h - internal: one processor instance inside one task (a "node"),
 * and the record-level rules the engine and the test driver share: how a
 * processor is created from what the engine hands over (struct
 * rill_node_spec: the node knows no YAML) and its def, how a record is
 * handed to it,
 * where forwarded and rejected records go (through an emit callback), how
 * punctuations fire, and which headers a DLQ record carries. The engine and
 * the driver differ only in what emit does with a record.
 */
#ifndef RILL_NODE_INT_H
#define RILL_NODE_INT_H

#include "processors/processor.h"
#include "topology/base/jsonw.h"
#include "topology/base/trace.h"

struct rd_kafka_message_s;
struct rd_kafka_headers_s;

/* A record's headers, read on demand (processor.h's rill_header_src_t):
 * those of a Kafka record, parsed by librdkafka on the first call that
 * asks, or an array. The runtime's own, on the stack of the loop that
 * hands the record over; the calls that read it fill the cache. */
struct rill_header_src {
    struct rd_kafka_message_s *m;       /* the Kafka record, or NULL: v[0..n) */
    struct rd_kafka_headers_s *parsed;  /* m's, once looked at (NULL: none) */
    int looked;
    const rill_header_t *v;
    size_t n;
};

/* Marks s live on this thread while a record carrying it is handed over
 * (between enter and leave, nested); a header_src that is not live is
 * never read (record.c). */
void rill_header_src_enter(const struct rill_header_src *s);
void rill_header_src_leave(void);

struct rill_serde;

/* A node's JSON view of the record in hand, for rill_record_field() and
 * rill_record_json() on a Confluent-framed Avro value (record.c): decoded
 * once per record, on first need, by the node's own serde (made on first
 * need). rill_node_process() makes the node's view the thread's current one
 * for the process call (and puts back the one before, so nested calls
 * work); outside a process call there is none. */
struct rill_value_view {
    struct rill_serde *serde;
    rill_jsonw_t w;            /* the decoded value as JSON */
    uint64_t gen;              /* bumped per process call */
    uint64_t done_gen;         /* the call whose record w holds (0: none) */
    const void *value;         /* the value of the current call's record */
    size_t value_len;
    rill_err_t status;         /* RILL_OK, or why the value has no JSON view */
};

/* A record leaving a node: to an output topic, or to the DLQ. Everything
 * points into memory owned by the caller of emit, valid during the call. */
struct rill_out {
    const char *topic;
    int32_t partition;        /* -1: the producer's partitioner decides */
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    const rill_header_t *headers;
    size_t header_cnt;
    int64_t timestamp;
    int dlq;                  /* a dead-letter record (counted apart) */
    rill_reject_class_t dlq_class; /* a dead letter's reason class */
    int changelog;            /* a store's changelog record (not an output) */
};

typedef rill_err_t (*rill_emit_fn)(void *opaque, const struct rill_out *out);

/* What a node is made from, handed over by the engine or the driver from
 * the topology's processor entry (topology/engine/spec.h builds one), so
 * that the node knows no YAML. The node copies the struct; every pointer in
 * it must outlive the node. */
struct rill_node_spec {
    const char *name;          /* the processor's YAML name */
    const char *type;          /* a built-in's type, when library is NULL */
    const char *library;       /* an external processor's .so, or NULL */
    const char *dlq;           /* NULL: "<input>.dlq" */
    char *const *outputs;      /* output topic names */
    size_t noutputs;
    char *const *inputs;       /* input topic names (none for a node made without them) */
    size_t ninputs;
    /* Fills the config struct at out from the processor's configuration
     * (conf_opaque) against defs, and on failure frees what it filled;
     * conf_release frees what a fill left in out. */
    rill_err_t (*conf_fill)(const void *conf_opaque, const struct rill_conf_def *defs, void *out,
                            char *errstr, size_t errsz);
    void (*conf_release)(const struct rill_conf_def *defs, void *out);
    const void *conf_opaque;
};

#define RILL_NODE_MAX_SCHEDULES RILL_CTX_MAX_SCHEDULES
#define RILL_HELD_NULL ((size_t)-1)

/* Which callback of the processor is running: what its context may do
 * depends on it (the legality table of processor.h). */
typedef enum {
    RILL_PHASE_IDLE,          /* between callbacks */
    RILL_PHASE_INIT,
    RILL_PHASE_PROCESS,
    RILL_PHASE_PUNCTUATE,
    RILL_PHASE_CLOSE,
} rill_phase_t;

struct rill_ctx {
    struct rill_node_spec spec;
    rill_phase_t phase;
    const struct rill_processor_def *def;
    struct rill_loaded *lib;   /* an external processor's library, or NULL */
    void *conf;                /* filled config struct (def->conf_size bytes) */
    void *state;               /* the processor's instance */
    int32_t partition;
    const rill_record_t *cur;  /* the record in hand */
    char reject[256];
    rill_reject_class_t reject_class;
    rill_emit_fn emit;
    void *emit_opaque;
    struct {
        rill_punctuate_type_t type;
        int64_t interval, next;
    } sched[RILL_NODE_MAX_SCHEDULES];
    int nsched;
    int64_t stream_time;       /* max record timestamp seen */
    int64_t (*clock)(void *);  /* rill_ctx_wall_clock_ms(); NULL: the system's */
    void *clock_arg;
    /* Forwarded during process(), not yet emitted. The bytes of every held
     * record (keys, values, header names and values) are copied into one
     * arena, kept from record to record, so that holding costs no allocation
     * once it has grown; positions are offsets, as the arena may move. */
    struct rill_held {
        const char *topic;       /* an output or changelog name: outlives the node */
        int32_t partition;
        int64_t timestamp;
        size_t key, value;       /* offsets into bytes; RILL_HELD_NULL: NULL */
        size_t key_len, value_len;
        size_t hdr, hdr_cnt;     /* its entries in hdrs */
    } *held;
    size_t nheld, held_cap;
    char *bytes;
    size_t bytes_len, bytes_cap;
    struct rill_held_hdr {
        size_t name, value, len; /* offsets into bytes; value RILL_HELD_NULL: NULL */
    } *hdrs;
    size_t nhdrs, hdrs_cap;
    rill_header_t *hv;           /* one record's headers as pointers, while emitted */
    size_t hv_cap;
    /* The record in hand's headers as an array, for a processor older than
     * V4 (rec->headers) and for rill_ctx_forward_keep(); and the source
     * over an array a caller handed in, for a V4 processor. */
    rill_header_t *in_hdrs;
    size_t in_hdrs_cap;
    struct rill_header_src arr_src;
    struct rill_store_binding {
        const char *name;
        rill_store_t *store;
    } *stores;
    size_t nstores;
    /* The trace context of this hop (one process or punctuate call), made
     * on first need: an output, a DLQ record, a log line about the record.
     * Its trace id is the input's (or a new one), its parent id a new span
     * id; every record the call emits carries hop_tp. */
    int hop_ready;
    char hop_tp[RILL_TRACEPARENT_LEN + 1];  /* the outputs' traceparent; its
                                             * trace id is the 32 bytes at +3 */
    const void *hop_state;                  /* the input's tracestate, or NULL */
    size_t hop_state_len;
    size_t nfwd;                            /* records forwarded by this call */
    struct rill_value_view view;            /* the record's Avro value as JSON */
};

typedef struct rill_ctx rill_node_t;

/* Makes v the thread's view of rec for one process call; returns the view
 * it replaces, to hand to rill_value_view_leave() after the call. */
struct rill_value_view *rill_value_view_enter(struct rill_value_view *v, const rill_record_t *rec);
void rill_value_view_leave(struct rill_value_view *prev);
/* Frees what v holds (the node's free calls it). */
void rill_value_view_free(struct rill_value_view *v);

/* An external processor as loaded: its dlopen handle and its def in the
 * current layout (struct rill_processor_def, V2 config rows), whatever
 * version the library was built for. */
struct rill_loaded;

/* Resolves the processor def for spec: a built-in (*lib NULL), or the
 * RILL_PROCESSOR_ENTRY of the library spec->library names, whose version must
 * be from RILL_PROCESSOR_V1 to RILL_PROCESSOR_VERSION. Only the fields that
 * version promises are read: a V1 library's config rows are copied into V2
 * rows (min and max NULL) that *lib owns. *def stays valid until
 * rill_node_unload(*lib). Returns RILL_ERR_NOTFOUND (unknown type, library
 * that does not load) or RILL_ERR_INVALID (no entry symbol, a version this
 * rill does not run, a def or config row that cannot be right), with errstr. */
rill_err_t rill_node_resolve(const struct rill_node_spec *spec,
                             const struct rill_processor_def **def, struct rill_loaded **lib,
                             char *errstr, size_t errsz);
/* Closes the library and frees what rill_node_resolve() made; NULL is a no-op. */
void rill_node_unload(struct rill_loaded *lib);

/* Creates the instance of spec for one partition: fills its config and
 * calls init. Returns NULL with errstr on failure. */
rill_node_t *rill_node_new(const struct rill_node_spec *spec, int32_t partition, rill_emit_fn emit,
                           void *emit_opaque, char *errstr, size_t errsz);

/* Same, with the granted stores bound before init runs (names[i] ->
 * stores[i]); the node does not own them. */
rill_node_t *rill_node_new_bound(const struct rill_node_spec *spec, int32_t partition,
                                 rill_emit_fn emit, void *emit_opaque, char *const *names,
                                 rill_store_t **stores, size_t nstores, char *errstr,
                                 size_t errsz);

/* The wall clock rill_ctx_wall_clock_ms() reads for this node (the test
 * driver's controllable one); NULL restores the system's real-time clock. */
void rill_node_set_clock(rill_node_t *n, int64_t (*clock)(void *), void *arg);

/* Hands rec to the processor and stores its verdict in *res. What it
 * forwards, and the changelog records of its store writes, are held back
 * until it returns, and its store writes are marked: on RILL_PROC_OK the held
 * records are emitted in order and the writes kept; on RILL_PROC_RETRY both
 * are undone, so a retried record leaves nothing behind; on RILL_PROC_REJECT
 * both are undone and rec goes to the DLQ with the rill.error.* headers. Stream-time punctuations due after this record
 * fire before it returns. Returns RILL_OK, or the first emit error (the
 * engine then aborts the transaction; what was emitted before is undone
 * with it). */
rill_err_t rill_node_process(rill_node_t *n, const rill_record_t *rec, rill_proc_result_t *res);

/* Holds a record that is not a processor output (a changelog record for
 * the given partition) with the same contract as forwards. topic is not
 * copied: it must stay valid as long as the node. */
rill_err_t rill_node_hold_raw(rill_node_t *n, const char *topic, int32_t partition,
                              const void *key, size_t klen, const void *value, size_t vlen);

/* Fires the wall-clock punctuations due at now_ms; same contract. */
rill_err_t rill_node_tick(rill_node_t *n, int64_t now_ms, rill_proc_result_t *res);

void rill_node_free(rill_node_t *n);

/* ---- trace context (record.c) ----------------------------------------------
 * The rule every processor's records follow (README "Correlation ids"): a
 * record's trace id is its valid traceparent header's, or, when it has
 * none or an invalid one, the one derived from its topic, partition, offset
 * and timestamp (topology/base/trace.h), so every reader agrees. What a
 * node emits for it (forwards and its DLQ record, not changelog records)
 * carries `traceparent: 00-<that trace id>-<a new span id per call>-<flags>`
 * in place of any the processor forwarded, and the input's tracestate when
 * its traceparent was valid. */

/* rec's trace context into *t; when state is not NULL, *state and
 * *state_len get its tracestate header (NULL when none or when the
 * traceparent was not valid). Returns 1 when the traceparent was valid. */
int rill_record_trace(const rill_record_t *rec, struct rill_trace *t, const void **state,
                      size_t *state_len);
/* rec's trace id as hex into out (RILL_TRACE_ID_HEX + 1 bytes). */
void rill_record_trace_id(const rill_record_t *rec, char *out);

#endif
