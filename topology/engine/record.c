/*
 * record.c - read access to a record for processors: headers by name,
 * fields by selector and the value as JSON, whether the value is JSON or
 * Confluent-framed Avro of a schema the process knows (the serde's, shown
 * as JSON by rill_serde_show(): field names of the schema, a union as its
 * branch's value), so that processors stay format-agnostic. An Avro value
 * is decoded once per record and node, into the node's view (node_int.h),
 * on first need. Also the runtime's reading of a record's trace context
 * (node_int.h).
 */
#include "processors/processor.h"
#include "schemas/serde.h"
#include "topology/engine/node_int.h"
#include "topology/base/json.h"

#include <librdkafka/rdkafka.h>
#include <string.h>

/* The node's view during its process call (node.c sets it). */
static _Thread_local struct rill_value_view *tl_view;

struct rill_value_view *rill_value_view_enter(struct rill_value_view *v, const rill_record_t *rec)
{
    struct rill_value_view *prev = tl_view;
    v->gen++;
    v->value = rec->value;
    v->value_len = rec->value_len;
    tl_view = v;
    return prev;
}

void rill_value_view_leave(struct rill_value_view *prev)
{
    if (tl_view)
        tl_view->value = NULL;
    tl_view = prev;
}

void rill_value_view_free(struct rill_value_view *v)
{
    rill_serde_destroy(v->serde);
    rill_jsonw_free(&v->w);
    memset(v, 0, sizeof *v);
}

/* A Confluent wire-format header (magic 0, a 4-byte schema id): never the
 * start of a JSON text, which cannot begin with a NUL byte. */
static int framed(const rill_record_t *rec)
{
    return rec->value_len >= RILL_SERDE_HEADER &&
           ((const unsigned char *)rec->value)[0] == RILL_SERDE_MAGIC;
}

static rill_err_t decode_view(struct rill_value_view *v, const rill_record_t *rec)
{
    if (v->done_gen == v->gen)
        return v->status;
    v->done_gen = v->gen;
    v->status = RILL_ERR_INVALID;
    if (rec->value_len > RILL_SERDE_MAX_VALUE)
        return v->status;
    if (!v->serde) {
        char err[RILL_ERRSTR_SIZE];
        if (rill_serde_new(&v->serde, err, sizeof err) != RILL_OK)
            return v->status = RILL_ERR_NOMEM;
    }
    struct rill_serde_shown shown;
    rill_jsonw_reset(&v->w);
    if (rill_serde_show(v->serde, rec->value, rec->value_len, &v->w, &shown) != RILL_OK ||
        rill_jsonw_failed(&v->w))
        return v->status = RILL_ERR_NOMEM;
    if (shown.format == RILL_SHOW_AVRO)
        v->status = RILL_OK;
    return v->status;
}

rill_err_t rill_record_json(const rill_record_t *rec, const char **json, size_t *len)
{
    *json = NULL;
    *len = 0;
    if (!rec->value)
        return RILL_ERR_NOTFOUND;
    if (!framed(rec)) {
        *json = rec->value;
        *len = rec->value_len;
        return RILL_OK;
    }
    struct rill_value_view *v = tl_view;
    if (!v || v->value != rec->value || v->value_len != rec->value_len)
        return RILL_ERR_INVALID; /* Avro is read during its own process call only */
    rill_err_t err = decode_view(v, rec);
    if (err == RILL_OK) {
        *json = v->w.p;
        *len = v->w.len;
    }
    return err;
}

/* The Kafka headers of src, parsed on the first call (NULL: none). */
static const rd_kafka_headers_t *kafka_headers(const rill_header_src_t *src)
{
    struct rill_header_src *s = (struct rill_header_src *)src; /* the cache is the runtime's */
    if (!s->looked) {
        rd_kafka_headers_t *h = NULL;
        s->parsed = rd_kafka_message_headers(s->m, &h) ? NULL : h;
        s->looked = 1;
    }
    return s->parsed;
}

/* The header sources the runtime has handed over on this thread and not
 * taken back (rill_header_src_enter). A record's header_src is read only
 * when it is one of them: a processor built before V4 knows a shorter
 * rill_record_t, and a copy it makes of a record has no header_src field,
 * only whatever lies past its end. */
#define HEADER_SRC_LIVE_MAX 8
static _Thread_local const struct rill_header_src *tl_src[HEADER_SRC_LIVE_MAX];
static _Thread_local int tl_nsrc;

void rill_header_src_enter(const struct rill_header_src *s)
{
    if (tl_nsrc < HEADER_SRC_LIVE_MAX)
        tl_src[tl_nsrc] = s;
    tl_nsrc++;
}

void rill_header_src_leave(void)
{
    if (tl_nsrc > 0)
        tl_nsrc--;
}

/* rec's header source, when it has no array and its source is live. */
static const struct rill_header_src *live_src(const rill_record_t *rec)
{
    if (rec->headers || !rec->header_src)
        return NULL;
    for (int i = 0; i < tl_nsrc && i < HEADER_SRC_LIVE_MAX; i++)
        if (tl_src[i] == rec->header_src)
            return rec->header_src;
    return NULL;
}

/* The array rec's headers are in (headers, or an array source); NULL with
 * *n 0 when they are a Kafka record's. */
static const rill_header_t *header_array(const rill_record_t *rec, size_t *n)
{
    const struct rill_header_src *s = live_src(rec);
    if (!s) {
        *n = rec->header_cnt;
        return rec->headers;
    }
    *n = s->m ? 0 : s->n;
    return s->m ? NULL : s->v;
}

int rill_record_header(const rill_record_t *rec, const char *name, const void **value,
                       size_t *len)
{
    size_t n;
    const rill_header_t *h = header_array(rec, &n);
    const struct rill_header_src *s = live_src(rec);
    if (s && s->m) {
        const rd_kafka_headers_t *kh = kafka_headers(s);
        return kh && !rd_kafka_header_get_last(kh, name, value, len);
    }
    for (size_t i = n; i-- > 0;)
        if (!strcmp(h[i].name, name)) {
            *value = h[i].value;
            *len = h[i].len;
            return 1;
        }
    return 0;
}

size_t rill_record_header_count(const rill_record_t *rec)
{
    size_t n;
    header_array(rec, &n);
    const struct rill_header_src *s = live_src(rec);
    if (!s || !s->m)
        return n;
    const rd_kafka_headers_t *kh = kafka_headers(s);
    return kh ? rd_kafka_header_cnt(kh) : 0;
}

int rill_record_header_at(const rill_record_t *rec, size_t i, const char **name,
                          const void **value, size_t *len)
{
    size_t n;
    const rill_header_t *h = header_array(rec, &n);
    const struct rill_header_src *s = live_src(rec);
    if (s && s->m) {
        const rd_kafka_headers_t *kh = kafka_headers(s);
        return kh && !rd_kafka_header_get_all(kh, i, name, value, len);
    }
    if (i >= n)
        return 0;
    *name = h[i].name;
    *value = h[i].value;
    *len = h[i].len;
    return 1;
}

static rill_err_t copy_bytes(const void *p, size_t n, char *out, size_t outsz)
{
    if (n + 1 > outsz)
        return RILL_ERR_NOFIT;
    if (n)
        memcpy(out, p, n);
    out[n] = '\0';
    return RILL_OK;
}

rill_err_t rill_record_field(const rill_record_t *rec, const char *selector, char *out,
                             size_t outsz)
{
    if (!outsz)
        return RILL_ERR_NOFIT;
    out[0] = '\0';
    if (!strncmp(selector, "header:", 7)) {
        const void *v;
        size_t n;
        if (!rill_record_header(rec, selector + 7, &v, &n) || !v)
            return RILL_ERR_NOTFOUND;
        return copy_bytes(v, n, out, outsz);
    }
    if (!strcmp(selector, "key")) {
        if (!rec->key)
            return RILL_ERR_NOTFOUND;
        return copy_bytes(rec->key, rec->key_len, out, outsz);
    }
    const char *json;
    size_t len;
    rill_err_t err = rill_record_json(rec, &json, &len);
    if (err != RILL_OK)
        return err;
    switch (rill_json_get(json, len, selector, out, outsz, NULL)) {
    case RILL_JSON_FOUND: return RILL_OK;
    case RILL_JSON_MISSING: return RILL_ERR_NOTFOUND;
    case RILL_JSON_TOOBIG: return RILL_ERR_NOFIT;
    default: return RILL_ERR_INVALID;
    }
}

int rill_record_trace(const rill_record_t *rec, struct rill_trace *t, const void **state,
                      size_t *state_len)
{
    /* the last of each name counts */
    const void *tp = NULL, *ts = NULL;
    size_t tpl = 0, tsl = 0;
    if (!rill_record_header(rec, RILL_TRACEPARENT, &tp, &tpl))
        tp = NULL, tpl = 0;
    int valid = rill_trace_of(tp, tp ? tpl : 0, rec->topic, rec->partition, rec->offset,
                              rec->timestamp, t);
    /* a tracestate goes along only with the valid traceparent it belongs to */
    if (state) {
        *state = valid && rill_record_header(rec, RILL_TRACESTATE, &ts, &tsl) && ts && tsl
                     ? ts : NULL;
        *state_len = *state ? tsl : 0;
    }
    return valid;
}

void rill_record_trace_id(const rill_record_t *rec, char *out)
{
    struct rill_trace t;
    rill_record_trace(rec, &t, NULL, NULL);
    rill_trace_id_hex(t.trace_id, out);
}
