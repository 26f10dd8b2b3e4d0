/*
 * node.c - one processor instance in one task, and the processor-facing
 * context functions of processor.h. Forwarded records are copied and held
 * until process() returns, so that a RETRY or a REJECT never leaves half of a
 * record's outputs behind; the copies go to one arena reused from record to
 * record, as this is on every record's path. Punctuations are driven from
 * here for both the engine and the test driver. Also here: the loader of
 * external processors (any ABI from V1 to RILL_PROCESSOR_VERSION, read
 * through its version's layout), and the check of processor.h's table of
 * which context call is legal in which callback. And the trace context of
 * each call (node_int.h): what a call emits carries its traceparent, and
 * the lines about the record in hand (its DLQ line, its debug line, the
 * processor's own rill_ctx_log lines) carry its trace_id.
 */
#include "topology/engine/node_int.h"
#include "processors/processor_int.h"
#include "processors/registry.h"
#include "topology/base/grow_int.h"
#include "topology/base/log.h"
#include "state/store_rt.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The dead-letter topic for records of input topic from the node of spec. */
static const char *dlq_topic(const struct rill_node_spec *spec, const char *input, char *buf,
                             size_t bufsz);
/* DLQ headers: rill.error.topic, .partition, .offset, .processor, .message,
 * .class. Fills hdrs[0..DLQ_HEADER_CNT) pointing into buf; returns the count.
 * The trace headers (hop_headers) follow them. */
#define DLQ_HEADER_CNT 6
/* traceparent, and tracestate when the input had one */
#define HOP_HEADER_MAX 2
static size_t dlq_headers(const rill_record_t *rec, const char *processor, const char *error,
                          rill_reject_class_t cls, rill_header_t *hdrs, char *buf, size_t bufsz);

struct rill_loaded {
    void *dl;
    struct rill_processor_def def;  /* the library's def, in the current layout */
    struct rill_conf_def *rows;     /* a V1 library's rows as V2 rows, or NULL */
};

void rill_node_unload(struct rill_loaded *lib)
{
    if (!lib)
        return;
    free(lib->rows);
    if (lib->dl)
        dlclose(lib->dl);
    free(lib);
}

static size_t conf_field_size(rill_conf_type_t type)
{
    switch (type) {
    case RILL_CONF_STR: return sizeof(char *);
    case RILL_CONF_INT: return sizeof(int64_t);
    case RILL_CONF_DOUBLE: return sizeof(double);
    case RILL_CONF_BOOL: return sizeof(int);
    }
    return 0;
}

/* A row the runtime would write outside the config struct, or with a type it
 * does not know, is the plugin's bug; refused before anything is filled. */
static rill_err_t conf_rows_check(const char *library, const struct rill_processor_def *d,
                                  char *errstr, size_t errsz)
{
    for (const struct rill_conf_def *c = d->conf; c && c->key; c++) {
        size_t sz = conf_field_size(c->type);
        if (!sz)
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "'%s': config key '%s' has an unknown type %d", library, c->key,
                             (int)c->type);
        if (c->offset > d->conf_size || sz > d->conf_size - c->offset)
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "'%s': config key '%s' lies outside its config struct (offset %zu, "
                             "size %zu)", library, c->key, c->offset, d->conf_size);
    }
    return RILL_OK;
}

/* Reads the def at sym through the layout of its version (V1 and V2 share
 * the def's layout, V3 appends check; V1's config rows are the shorter struct rill_conf_def_v1). */
static rill_err_t loaded_read(struct rill_loaded *lib, const char *library, const void *sym,
                              char *errstr, size_t errsz)
{
    const struct rill_processor_def_v1 *d1 = sym;
    int version = d1->version;
    if (version < RILL_PROCESSOR_V1 || version > RILL_PROCESSOR_VERSION)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                         "'%s' is built for processor ABI %d; this rill runs %d..%d", library,
                         version, RILL_PROCESSOR_V1, RILL_PROCESSOR_VERSION);
    lib->def = (struct rill_processor_def){
        .version = version, .name = d1->name, .doc = d1->doc, .conf = NULL,
        .conf_size = d1->conf_size, .init = d1->init, .process = d1->process,
        .punctuate = d1->punctuate, .close = d1->close,
        .check = version >= RILL_PROCESSOR_V3 ? ((const struct rill_processor_def *)sym)->check
                                              : NULL,
    };
    if (version == RILL_PROCESSOR_V1 && d1->conf) {
        size_t n = 0;
        while (d1->conf[n].key)
            n++;
        lib->rows = calloc(n + 1, sizeof *lib->rows);
        if (!lib->rows)
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            lib->rows[i] = (struct rill_conf_def){
                .key = d1->conf[i].key, .type = d1->conf[i].type, .def = d1->conf[i].def,
                .offset = d1->conf[i].offset, .doc = d1->conf[i].doc,
            };
        lib->def.conf = lib->rows;
    } else if (version >= RILL_PROCESSOR_V2) {
        lib->def.conf = ((const struct rill_processor_def *)sym)->conf;
    }
    if (!lib->def.name || !lib->def.process)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                         "'%s': its '%s' processor has no %s", library, RILL_PROCESSOR_ENTRY,
                         lib->def.name ? "process function" : "name");
    return conf_rows_check(library, &lib->def, errstr, errsz);
}

rill_err_t rill_node_resolve(const struct rill_node_spec *spec,
                             const struct rill_processor_def **def, struct rill_loaded **lib,
                             char *errstr, size_t errsz)
{
    *lib = NULL;
    *def = NULL;
    if (!spec->library) {
        *def = rill_proc_lookup(spec->type);
        if (!*def)
            return rill_errf(errstr, errsz, RILL_ERR_NOTFOUND, "unknown processor type '%s'",
                             spec->type);
        return RILL_OK;
    }
    struct rill_loaded *l = calloc(1, sizeof *l);
    if (!l)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    l->dl = dlopen(spec->library, RTLD_NOW | RTLD_LOCAL);
    if (!l->dl) {
        rill_errf(errstr, errsz, RILL_ERR_NOTFOUND, "cannot load processor library '%s': %s",
                  spec->library, dlerror());
        rill_node_unload(l);
        return RILL_ERR_NOTFOUND;
    }
    const void *sym = dlsym(l->dl, RILL_PROCESSOR_ENTRY);
    rill_err_t err = sym ? loaded_read(l, spec->library, sym, errstr, errsz)
                         : rill_errf(errstr, errsz, RILL_ERR_INVALID,
                                     "'%s' does not export '%s'", spec->library,
                                     RILL_PROCESSOR_ENTRY);
    if (err != RILL_OK) {
        rill_node_unload(l);
        return err;
    }
    *def = &l->def;
    *lib = l;
    return RILL_OK;
}

rill_node_t *rill_node_new(const struct rill_node_spec *spec, int32_t partition, rill_emit_fn emit,
                           void *emit_opaque, char *errstr, size_t errsz)
{
    return rill_node_new_bound(spec, partition, emit, emit_opaque, NULL, NULL, 0, errstr, errsz);
}

rill_node_t *rill_node_new_bound(const struct rill_node_spec *spec, int32_t partition,
                                 rill_emit_fn emit, void *emit_opaque, char *const *names,
                                 rill_store_t **stores, size_t nstores, char *errstr,
                                 size_t errsz)
{
    rill_node_t *n = calloc(1, sizeof *n);
    if (!n) {
        rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    n->spec = *spec;
    n->partition = partition;
    n->emit = emit;
    n->emit_opaque = emit_opaque;
    n->stream_time = INT64_MIN;
    if (nstores) {
        n->stores = calloc(nstores, sizeof *n->stores);
        if (!n->stores) {
            rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < nstores; i++)
            n->stores[i] = (struct rill_store_binding){ names[i], stores[i] };
        n->nstores = nstores;
    }
    if (rill_node_resolve(spec, &n->def, &n->lib, errstr, errsz) != RILL_OK)
        goto fail;
    if (n->def->conf_size) {
        n->conf = calloc(1, n->def->conf_size);
        if (!n->conf) {
            rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (spec->conf_fill(spec->conf_opaque, n->def->conf, n->conf, errstr, errsz) != RILL_OK) {
            spec->conf_release(n->def->conf, n->conf);
            free(n->conf);
            n->conf = NULL;
            goto fail;
        }
    }
    if (n->def->init) {
        char ierr[RILL_ERRSTR_SIZE] = "";
        n->phase = RILL_PHASE_INIT;
        rill_err_t err = n->def->init(n, &n->state, ierr, sizeof ierr);
        n->phase = RILL_PHASE_IDLE;
        if (err != RILL_OK) {
            rill_errf(errstr, errsz, err, "processor '%s' failed to start: %s", spec->name, ierr);
            goto fail;
        }
    }
    return n;
fail:
    n->state = NULL; /* a failed init cleans up after itself: no close */
    rill_node_free(n);
    return NULL;
}

/* An arena grown past this by one large record is given back once that
 * record's outputs are out, rather than kept for the node's lifetime. */
#define HELD_BYTES_KEEP (1u << 20)

static void held_clear(rill_node_t *n)
{
    n->nheld = 0;
    n->nhdrs = 0;
    n->bytes_len = 0;
    if (n->bytes_cap > HELD_BYTES_KEEP) {
        free(n->bytes);
        n->bytes = NULL;
        n->bytes_cap = 0;
    }
}

void rill_node_free(rill_node_t *n)
{
    if (!n)
        return;
    if (n->def && n->def->close && n->state) {
        n->phase = RILL_PHASE_CLOSE;
        n->def->close(n->state);
    }
    if (n->conf) {
        n->spec.conf_release(n->def ? n->def->conf : NULL, n->conf);
        free(n->conf);
    }
    free(n->held);
    free(n->bytes);
    free(n->hdrs);
    free(n->in_hdrs);
    free(n->hv);
    free(n->stores);
    rill_value_view_free(&n->view);
    rill_node_unload(n->lib);
    free(n);
}

/* The hop's trace id as hex (32 bytes, not NUL-terminated), once made. */
#define HOP_TRACE_ID(n) ((n)->hop_tp + 3)

/* The hop's trace context, made on its first use in a call. */
static void hop_make(rill_node_t *n)
{
    if (n->hop_ready)
        return;
    struct rill_trace t;
    if (n->cur) {
        rill_record_trace(n->cur, &t, &n->hop_state, &n->hop_state_len);
    } else { /* a punctuation: its outputs start a trace of their own */
        rill_trace_new(&t);
        n->hop_state = NULL;
        n->hop_state_len = 0;
    }
    rill_trace_span(t.parent_id);
    rill_trace_format(&t, n->hop_tp);
    n->hop_ready = 1;
}

/* A new call: its trace context is made when first needed. */
static void hop_reset(rill_node_t *n)
{
    n->hop_ready = 0;
    n->nfwd = 0;
}

/* The hop's trace headers into h (HOP_HEADER_MAX); returns their count. */
static size_t hop_headers(rill_node_t *n, rill_header_t *h)
{
    hop_make(n);
    h[0] = (rill_header_t){ RILL_TRACEPARENT, n->hop_tp, RILL_TRACEPARENT_LEN };
    if (!n->hop_state)
        return 1;
    h[1] = (rill_header_t){ RILL_TRACESTATE, n->hop_state, n->hop_state_len };
    return 2;
}

/* A header the runtime writes itself on what a node emits. */
static int hop_header_name(const char *name, size_t len)
{
    return (len == sizeof RILL_TRACEPARENT - 1 && !memcmp(name, RILL_TRACEPARENT, len)) ||
           (len == sizeof RILL_TRACESTATE - 1 && !memcmp(name, RILL_TRACESTATE, len));
}

static const void *held_ptr(const rill_node_t *n, size_t off)
{
    return off == RILL_HELD_NULL ? NULL : n->bytes + off;
}

/* Emits what the processor forwarded, in order, then forgets it. */
static rill_err_t held_flush(rill_node_t *n)
{
    rill_err_t err = RILL_OK;
    for (size_t i = 0; i < n->nheld && err == RILL_OK; i++) {
        const struct rill_held *h = &n->held[i];
        for (size_t k = 0; k < h->hdr_cnt; k++) {
            const struct rill_held_hdr *hh = &n->hdrs[h->hdr + k];
            n->hv[k] = (rill_header_t){ n->bytes + hh->name, held_ptr(n, hh->value), hh->len };
        }
        struct rill_out out = {
            .topic = h->topic, .partition = h->partition,
            .key = held_ptr(n, h->key), .key_len = h->key_len,
            .value = held_ptr(n, h->value), .value_len = h->value_len,
            .headers = h->hdr_cnt ? n->hv : NULL, .header_cnt = h->hdr_cnt,
            .timestamp = h->timestamp,
            /* forwards leave the partition to the partitioner; only the
             * changelog writes (rill_node_hold_raw) name theirs */
            .changelog = h->partition >= 0,
        };
        err = n->emit(n->emit_opaque, &out);
    }
    held_clear(n);
    return err;
}

static void stores_mark(rill_node_t *n)
{
    for (size_t i = 0; i < n->nstores; i++)
        if (n->stores[i].store)
            rill_store_mark(n->stores[i].store);
}

static void stores_settle(rill_node_t *n, int keep)
{
    for (size_t i = 0; i < n->nstores; i++)
        if (n->stores[i].store) {
            if (keep)
                rill_store_release(n->stores[i].store);
            else
                rill_store_rollback(n->stores[i].store);
        }
}

static rill_err_t settle(rill_node_t *n, const rill_record_t *rec, rill_proc_result_t res)
{
    stores_settle(n, res == RILL_PROC_OK);
    if (res == RILL_PROC_OK)
        return held_flush(n);
    held_clear(n);
    if (res != RILL_PROC_REJECT)
        return RILL_OK;
    char topic[512], hbuf[1024];
    rill_header_t h[DLQ_HEADER_CNT + HOP_HEADER_MAX];
    const char *input = rec && rec->topic ? rec->topic : "";
    const char *reason = n->reject[0] ? n->reject : "rejected";
    size_t nh = dlq_headers(rec, n->spec.name, reason, n->reject_class, h, hbuf, sizeof hbuf);
    nh += hop_headers(n, h + nh);
    const char *dlq = dlq_topic(&n->spec, input, topic, sizeof topic);
    char why[sizeof n->reject];
    rill_log(RILL_LOG_WARN, "record", "record rejected, to the DLQ|processor=%s partition=%" PRId32
             " topic=%s offset=%" PRId64 " dlq=%s class=%s reason=\"%s\" trace_id=%.32s",
             n->spec.name, n->partition, input, rec ? rec->offset : -1, dlq,
             rill_reject_class_name(n->reject_class), rill_log_value(reason, why, sizeof why),
             HOP_TRACE_ID(n));
    struct rill_out out = {
        .topic = dlq,
        .partition = -1,
        .key = rec ? rec->key : NULL,
        .key_len = rec ? rec->key_len : 0,
        .value = rec ? rec->value : NULL,
        .value_len = rec ? rec->value_len : 0,
        .headers = h,
        .header_cnt = nh,
        .timestamp = rec ? rec->timestamp : 0,
        .dlq = 1,
        .dlq_class = n->reject_class,
    };
    return n->emit(n->emit_opaque, &out);
}

static rill_err_t fire(rill_node_t *n, rill_punctuate_type_t type, int64_t now,
                       rill_proc_result_t *res)
{
    for (int i = 0; i < n->nsched; i++) {
        if (n->sched[i].type != type)
            continue;
        if (n->sched[i].next == INT64_MIN) { /* first sight of this clock */
            n->sched[i].next = now + n->sched[i].interval;
            continue;
        }
        if (now < n->sched[i].next)
            continue;
        /* Catch up without firing once per missed interval. */
        while (n->sched[i].next <= now)
            n->sched[i].next += n->sched[i].interval;
        n->cur = NULL;
        n->reject[0] = '\0';
        n->reject_class = RILL_REJECT_OTHER;
        hop_reset(n);
        stores_mark(n);
        n->phase = RILL_PHASE_PUNCTUATE;
        *res = n->def->punctuate(n, n->state, type, now);
        n->phase = RILL_PHASE_IDLE;
        rill_err_t err = settle(n, NULL, *res == RILL_PROC_REJECT ? RILL_PROC_RETRY : *res);
        if (err != RILL_OK)
            return err;
    }
    return RILL_OK;
}

static const char *const result_names[] = {
    [RILL_PROC_OK] = "ok", [RILL_PROC_RETRY] = "retry", [RILL_PROC_REJECT] = "reject",
};

/* The per-record debug line: what became of rec, with its trace id. */
static void log_record(rill_node_t *n, const rill_record_t *rec, rill_proc_result_t res)
{
    hop_make(n);
    rill_log(RILL_LOG_DEBUG, "record", "record processed|processor=%s partition=%" PRId32
             " topic=%s offset=%" PRId64 " result=%s outputs=%zu trace_id=%.32s", n->spec.name,
             n->partition, rec->topic ? rec->topic : "", rec->offset,
             (unsigned)res <= RILL_PROC_REJECT ? result_names[res] : "unknown",
             res == RILL_PROC_OK ? n->nfwd : 0, HOP_TRACE_ID(n));
}

/* rec's headers into n->in_hdrs: *cnt of them; RILL_ERR_NOMEM. */
static rill_err_t headers_array(rill_node_t *n, const rill_record_t *rec, size_t *cnt)
{
    *cnt = rill_record_header_count(rec);
    while (*cnt > n->in_hdrs_cap)
        if (rill_grow(&n->in_hdrs, n->in_hdrs_cap, &n->in_hdrs_cap, sizeof *n->in_hdrs, 8))
            return RILL_ERR_NOMEM;
    for (size_t i = 0; i < *cnt; i++) {
        rill_header_t *h = &n->in_hdrs[i];
        if (!rill_record_header_at(rec, i, &h->name, &h->value, &h->len))
            *cnt = i;
    }
    return RILL_OK;
}

/* What the processor's ABI promises about headers: an array up to V3 (the
 * Kafka record's parsed here), a source to read on demand from V4 (an
 * array handed in becomes one). Into *out; RILL_ERR_NOMEM. */
static rill_err_t record_for_abi(rill_node_t *n, const rill_record_t *rec, rill_record_t *out)
{
    *out = *rec;
    if (n->def->version >= RILL_PROCESSOR_V4) {
        if (rec->headers) {
            n->arr_src = (struct rill_header_src){ .v = rec->headers, .n = rec->header_cnt };
            out->header_src = &n->arr_src;
        }
        out->headers = NULL;
        out->header_cnt = 0;
        return RILL_OK;
    }
    if (rec->headers || !rec->header_src)
        return RILL_OK;
    size_t cnt;
    if (headers_array(n, rec, &cnt) != RILL_OK)
        return RILL_ERR_NOMEM;
    out->headers = cnt ? n->in_hdrs : NULL;
    out->header_cnt = cnt;
    return RILL_OK;
}

static rill_err_t node_process(rill_node_t *n, const rill_record_t *in, rill_proc_result_t *res);

rill_err_t rill_node_process(rill_node_t *n, const rill_record_t *in, rill_proc_result_t *res)
{
    /* the source of an array handed in, for a V4 processor, is live
     * during the call */
    rill_header_src_enter(&n->arr_src);
    rill_err_t err = node_process(n, in, res);
    rill_header_src_leave();
    return err;
}

static rill_err_t node_process(rill_node_t *n, const rill_record_t *in, rill_proc_result_t *res)
{
    rill_record_t abi;
    if (record_for_abi(n, in, &abi) != RILL_OK)
        return RILL_ERR_NOMEM;
    const rill_record_t *rec = &abi;
    n->cur = rec;
    n->reject[0] = '\0';
    n->reject_class = RILL_REJECT_OTHER;
    hop_reset(n);
    stores_mark(n);
    n->phase = RILL_PHASE_PROCESS;
    struct rill_value_view *prev = rill_value_view_enter(&n->view, rec);
    *res = n->def->process(n, n->state, rec);
    rill_value_view_leave(prev);
    n->phase = RILL_PHASE_IDLE;
    rill_err_t err = settle(n, rec, *res);
    if (rill_log_enabled(RILL_LOG_DEBUG, "record"))
        log_record(n, rec, *res);
    n->cur = NULL;
    if (err != RILL_OK || *res != RILL_PROC_OK)
        return err;
    if (rec->timestamp > n->stream_time) {
        rill_proc_result_t pres;
        n->stream_time = rec->timestamp;
        return fire(n, RILL_PUNCTUATE_STREAM_TIME, n->stream_time, &pres);
    }
    return RILL_OK;
}

rill_err_t rill_node_tick(rill_node_t *n, int64_t now_ms, rill_proc_result_t *res)
{
    *res = RILL_PROC_OK;
    return fire(n, RILL_PUNCTUATE_WALL_CLOCK, now_ms, res);
}

static const char *dlq_topic(const struct rill_node_spec *spec, const char *input, char *buf,
                             size_t bufsz)
{
    if (spec->dlq)
        return spec->dlq;
    snprintf(buf, bufsz, "%s.dlq", input);
    return buf;
}

static size_t dlq_headers(const rill_record_t *rec, const char *processor, const char *error,
                          rill_reject_class_t cls, rill_header_t *h, char *buf, size_t bufsz)
{
    /* partition and offset as decimal text, like Kafka Connect's DLQ headers */
    int a = snprintf(buf, bufsz, "%" PRId32, rec ? rec->partition : -1);
    int b = snprintf(buf + a + 1, bufsz - (size_t)a - 1, "%" PRId64, rec ? rec->offset : -1);
    const char *topic = rec && rec->topic ? rec->topic : "";
    h[0] = (rill_header_t){ "rill.error.topic", topic, strlen(topic) };
    h[1] = (rill_header_t){ "rill.error.partition", buf, (size_t)a };
    h[2] = (rill_header_t){ "rill.error.offset", buf + a + 1, (size_t)b };
    h[3] = (rill_header_t){ "rill.error.processor", processor, strlen(processor) };
    h[4] = (rill_header_t){ "rill.error.message", error, strlen(error) };
    const char *cname = rill_reject_class_name(cls);
    h[5] = (rill_header_t){ "rill.error.class", cname, strlen(cname) };
    return DLQ_HEADER_CNT;
}

/* ---- processor-facing context ------------------------------------------- */

#define IN(p) (1u << (p))
#define IN_INIT IN(RILL_PHASE_INIT)
#define IN_PROCESS IN(RILL_PHASE_PROCESS)
#define IN_PUNCTUATE IN(RILL_PHASE_PUNCTUATE)

static const char *const phase_names[] = {
    [RILL_PHASE_IDLE] = "no callback", [RILL_PHASE_INIT] = "init",
    [RILL_PHASE_PROCESS] = "process", [RILL_PHASE_PUNCTUATE] = "punctuate",
    [RILL_PHASE_CLOSE] = "close",
};

/* The legality table of processor.h: 1 when call may run in the current
 * phase, else 0 after one warning line naming the processor and the call. */
static int legal(const rill_ctx_t *ctx, unsigned phases, const char *call)
{
    if (phases & IN(ctx->phase))
        return 1;
    rill_log(RILL_LOG_WARN, "processor",
             "%s is not allowed in %s: refused|processor=%s partition=%" PRId32
             " call=%s phase=%s",
             call, phase_names[ctx->phase], ctx->spec.name, ctx->partition, call,
             phase_names[ctx->phase]);
    return 0;
}

/* The node's own copy of an output name (it outlives every held record),
 * or NULL when topic is not an output. */
static const char *output_name(const rill_ctx_t *ctx, const char *topic)
{
    for (size_t i = 0; i < ctx->spec.noutputs; i++)
        if (!strcmp(ctx->spec.outputs[i], topic))
            return ctx->spec.outputs[i];
    return NULL;
}

/* Copies len bytes into the arena; returns their offset, or RILL_HELD_NULL
 * for a NULL src. Room was reserved by the caller. */
static size_t arena_put(rill_ctx_t *ctx, const void *src, size_t len)
{
    if (!src)
        return RILL_HELD_NULL;
    size_t off = ctx->bytes_len;
    if (len)
        memcpy(ctx->bytes + off, src, len);
    ctx->bytes_len += len;
    return off;
}

/* Room for need more bytes; the arena always exists afterwards, so that an
 * empty key or value still has an address (empty is not NULL in Kafka). */
static rill_err_t arena_reserve(rill_ctx_t *ctx, size_t need)
{
    if (need > SIZE_MAX / 4 - ctx->bytes_len)
        return RILL_ERR_NOMEM;
    if (ctx->bytes && ctx->bytes_len + need <= ctx->bytes_cap)
        return RILL_OK;
    size_t cap = ctx->bytes_cap ? ctx->bytes_cap : 4096;
    while (cap < ctx->bytes_len + need)
        cap *= 2;
    char *p = realloc(ctx->bytes, cap);
    if (!p)
        return RILL_ERR_NOMEM;
    ctx->bytes = p;
    ctx->bytes_cap = cap;
    return RILL_OK;
}

/* Holds one record. A forward (traced) carries the hop's trace headers
 * after the processor's own, whose traceparent and tracestate, if any, are
 * left out; a changelog record carries no headers. */
static rill_err_t hold(rill_ctx_t *ctx, const char *topic, int32_t partition, const void *key,
                       size_t klen, const void *val, size_t vlen, const rill_header_t *hdrs,
                       size_t nh, int traced)
{
    rill_header_t hop[HOP_HEADER_MAX];
    size_t nhop = traced ? hop_headers(ctx, hop) : 0, total = nhop;
    size_t need = (key ? klen : 0) + (val ? vlen : 0);
    for (size_t i = 0; i < nh; i++) {
        size_t l = strlen(hdrs[i].name);
        if (traced && hop_header_name(hdrs[i].name, l))
            continue;
        need += l + 1 + (hdrs[i].value ? hdrs[i].len : 0);
        total++;
    }
    for (size_t i = 0; i < nhop; i++)
        need += strlen(hop[i].name) + 1 + hop[i].len;
    if (rill_grow(&ctx->held, ctx->nheld, &ctx->held_cap, sizeof *ctx->held, 4) != RILL_OK ||
        arena_reserve(ctx, need) != RILL_OK)
        return RILL_ERR_NOMEM;
    if (total) {
        /* Room for this record's header entries, and for their pointer form
         * when it is emitted, so that emitting cannot fail for memory. */
        while (ctx->hdrs_cap < ctx->nhdrs + total)
            if (rill_grow(&ctx->hdrs, ctx->hdrs_cap, &ctx->hdrs_cap, sizeof *ctx->hdrs, 8))
                return RILL_ERR_NOMEM;
        while (ctx->hv_cap < total)
            if (rill_grow(&ctx->hv, ctx->hv_cap, &ctx->hv_cap, sizeof *ctx->hv, 8))
                return RILL_ERR_NOMEM;
    }
    struct rill_held *h = &ctx->held[ctx->nheld];
    h->topic = topic;
    h->partition = partition;
    h->key = arena_put(ctx, key, klen);
    h->key_len = key ? klen : 0;
    h->value = arena_put(ctx, val, vlen);
    h->value_len = val ? vlen : 0;
    h->hdr = ctx->nhdrs;
    h->hdr_cnt = total;
    for (size_t i = 0; i < nh + nhop; i++) {
        const rill_header_t *src = i < nh ? &hdrs[i] : &hop[i - nh];
        size_t l = strlen(src->name);
        if (i < nh && traced && hop_header_name(src->name, l))
            continue;
        struct rill_held_hdr *hh = &ctx->hdrs[ctx->nhdrs++];
        hh->name = arena_put(ctx, src->name, l + 1);
        hh->value = arena_put(ctx, src->value, src->len);
        hh->len = src->value ? src->len : 0;
    }
    ctx->nfwd += traced;
    h->timestamp = ctx->cur ? ctx->cur->timestamp
                            : (ctx->stream_time == INT64_MIN ? 0 : ctx->stream_time);
    ctx->nheld++;
    return RILL_OK;
}

rill_err_t rill_ctx_forward(rill_ctx_t *ctx, const char *output, const void *key, size_t key_len,
                            const void *value, size_t value_len, const rill_header_t *headers,
                            size_t header_cnt)
{
    if (!legal(ctx, IN_PROCESS | IN_PUNCTUATE, "rill_ctx_forward"))
        return RILL_ERR_INVALID;
    if (output) {
        const char *name = output_name(ctx, output);
        if (!name)
            return RILL_ERR_NOTFOUND;
        return hold(ctx, name, -1, key, key_len, value, value_len, headers, header_cnt, 1);
    }
    for (size_t i = 0; i < ctx->spec.noutputs; i++) {
        rill_err_t err = hold(ctx, ctx->spec.outputs[i], -1, key, key_len, value, value_len,
                              headers, header_cnt, 1);
        if (err != RILL_OK)
            return err;
    }
    return RILL_OK;
}

rill_err_t rill_ctx_forward_keep(rill_ctx_t *ctx, const char *output, const void *key,
                                 size_t key_len, const void *value, size_t value_len)
{
    if (!legal(ctx, IN_PROCESS | IN_PUNCTUATE, "rill_ctx_forward_keep"))
        return RILL_ERR_INVALID;
    size_t cnt = 0;
    if (ctx->cur && headers_array(ctx, ctx->cur, &cnt) != RILL_OK)
        return RILL_ERR_NOMEM;
    return rill_ctx_forward(ctx, output, key, key_len, value, value_len,
                            cnt ? ctx->in_hdrs : NULL, cnt);
}

rill_err_t rill_node_hold_raw(rill_node_t *n, const char *topic, int32_t partition,
                              const void *key, size_t klen, const void *value, size_t vlen)
{
    return hold(n, topic, partition, key, klen, value, vlen, NULL, 0, 0);
}

void rill_ctx_reject(rill_ctx_t *ctx, const char *fmt, ...)
{
    if (!legal(ctx, IN_PROCESS, "rill_ctx_reject"))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->reject, sizeof ctx->reject, fmt, ap);
    va_end(ap);
    ctx->reject_class = RILL_REJECT_OTHER;
}

void rill_ctx_reject_as(rill_ctx_t *ctx, rill_reject_class_t cls, const char *fmt, ...)
{
    if (!legal(ctx, IN_PROCESS, "rill_ctx_reject_as"))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->reject, sizeof ctx->reject, fmt, ap);
    va_end(ap);
    ctx->reject_class = cls > RILL_REJECT_OTHER && cls < RILL_REJECT__COUNT ? cls : RILL_REJECT_OTHER;
}

const char *rill_reject_class_name(rill_reject_class_t cls)
{
    static const char *const names[RILL_REJECT__COUNT] = {
        [RILL_REJECT_OTHER] = "other",           [RILL_REJECT_DECODE] = "decode",
        [RILL_REJECT_INVALID] = "invalid",       [RILL_REJECT_UNROUTABLE] = "unroutable",
        [RILL_REJECT_ENCODE] = "encode",         [RILL_REJECT_LATE] = "late",
    };
    return cls >= 0 && cls < RILL_REJECT__COUNT ? names[cls] : "other";
}

rill_store_t *rill_ctx_store(rill_ctx_t *ctx, const char *name)
{
    if (!legal(ctx, IN_INIT | IN_PROCESS | IN_PUNCTUATE, "rill_ctx_store"))
        return NULL;
    for (size_t i = 0; i < ctx->nstores; i++)
        if (!strcmp(ctx->stores[i].name, name))
            return ctx->stores[i].store;
    return NULL;
}

rill_store_t *rill_ctx_store_at(rill_ctx_t *ctx, size_t i)
{
    if (!legal(ctx, IN_INIT | IN_PROCESS | IN_PUNCTUATE, "rill_ctx_store_at"))
        return NULL;
    return i < ctx->nstores ? ctx->stores[i].store : NULL;
}

rill_err_t rill_ctx_schedule(rill_ctx_t *ctx, rill_punctuate_type_t type, int64_t interval_ms)
{
    if (!legal(ctx, IN_INIT, "rill_ctx_schedule"))
        return RILL_ERR_INVALID;
    if (interval_ms <= 0 || !ctx->def->punctuate)
        return RILL_ERR_INVALID;
    if (ctx->nsched == RILL_NODE_MAX_SCHEDULES)
        return RILL_ERR_NOFIT;
    ctx->sched[ctx->nsched].type = type;
    ctx->sched[ctx->nsched].interval = interval_ms;
    /* A schedule starts at the first time its clock is seen after this
     * call; INT64_MIN marks "not started". */
    ctx->sched[ctx->nsched].next = INT64_MIN;
    ctx->nsched++;
    return RILL_OK;
}

void rill_node_set_clock(rill_node_t *n, int64_t (*clock)(void *), void *arg)
{
    n->clock = clock;
    n->clock_arg = arg;
}

int64_t rill_ctx_wall_clock_ms(const rill_ctx_t *ctx)
{
    if (ctx->clock)
        return ctx->clock(ctx->clock_arg);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const void *rill_ctx_conf(const rill_ctx_t *ctx) { return ctx->conf; }
const char *rill_ctx_name(const rill_ctx_t *ctx) { return ctx->spec.name; }
int32_t rill_ctx_partition(const rill_ctx_t *ctx) { return ctx->partition; }
size_t rill_ctx_output_count(const rill_ctx_t *ctx) { return ctx->spec.noutputs; }
size_t rill_ctx_input_count(const rill_ctx_t *ctx) { return ctx->spec.ninputs; }

const char *rill_ctx_input_name(const rill_ctx_t *ctx, size_t i)
{
    return i < ctx->spec.ninputs ? ctx->spec.inputs[i] : NULL;
}

const char *rill_ctx_output_name(const rill_ctx_t *ctx, size_t i)
{
    return i < ctx->spec.noutputs ? ctx->spec.outputs[i] : NULL;
}

void rill_ctx_log(const rill_ctx_t *ctx, rill_ctx_log_level_t level, const char *fmt, ...)
{
    rill_log_level_t to;
    switch (level) {
    case RILL_CTX_LOG_DEBUG: to = RILL_LOG_DEBUG; break;
    case RILL_CTX_LOG_INFO: to = RILL_LOG_INFO; break;
    case RILL_CTX_LOG_WARN: to = RILL_LOG_WARN; break;
    default: to = RILL_LOG_ERROR; break; /* RILL_CTX_LOG_ERROR, or a level unknown to us */
    }
    if (!rill_log_enabled(to, "processor"))
        return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* the plugin's own key=value pairs (after its '|') come first; in
     * process, the line is about the record in hand: its trace id follows */
    int about = ctx->phase == RILL_PHASE_PROCESS && ctx->cur;
    if (about)
        hop_make((rill_ctx_t *)ctx); /* the ctx is the runtime's, never const itself */
    rill_log(to, "processor", "%s%sprocessor=%s partition=%" PRId32 "%s%.32s", msg,
             strchr(msg, '|') ? " " : "|", ctx->spec.name, ctx->partition,
             about ? " trace_id=" : "", about ? HOP_TRACE_ID(ctx) : "");
}
