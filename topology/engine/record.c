/*
 * record.c - read access to a record for processors: headers by name and
 * fields by selector. Field access understands JSON values today; the Avro
 * serde will plug in here so that processors stay format-agnostic. Also
 * the runtime's reading of a record's trace context (node_int.h).
 */
#include "processors/processor.h"
#include "topology/engine/node_int.h"
#include "topology/base/json.h"

#include <string.h>

int rill_record_header(const rill_record_t *rec, const char *name, const void **value,
                       size_t *len)
{
    for (size_t i = rec->header_cnt; i-- > 0;)
        if (!strcmp(rec->headers[i].name, name)) {
            *value = rec->headers[i].value;
            *len = rec->headers[i].len;
            return 1;
        }
    return 0;
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
    if (!rec->value)
        return RILL_ERR_NOTFOUND;
    switch (rill_json_get(rec->value, rec->value_len, selector, out, outsz, NULL)) {
    case RILL_JSON_FOUND: return RILL_OK;
    case RILL_JSON_MISSING: return RILL_ERR_NOTFOUND;
    case RILL_JSON_TOOBIG: return RILL_ERR_NOFIT;
    default: return RILL_ERR_INVALID;
    }
}

int rill_record_trace(const rill_record_t *rec, struct rill_trace *t, const void **state,
                      size_t *state_len)
{
    const rill_header_t *tp = NULL, *ts = NULL;
    /* one pass from the end: the last of each name counts */
    for (size_t i = rec->header_cnt; i-- > 0 && (!tp || !ts);) {
        const char *name = rec->headers[i].name;
        if (name[0] != 't' || name[1] != 'r')
            continue;
        if (!tp && !strcmp(name, RILL_TRACEPARENT))
            tp = &rec->headers[i];
        else if (!ts && !strcmp(name, RILL_TRACESTATE))
            ts = &rec->headers[i];
    }
    int valid = rill_trace_of(tp ? tp->value : NULL, tp ? tp->len : 0, rec->topic,
                              rec->partition, rec->offset, rec->timestamp, t);
    /* a tracestate goes along only with the valid traceparent it belongs to */
    if (state) {
        *state = valid && ts && ts->value && ts->len ? ts->value : NULL;
        *state_len = *state ? ts->len : 0;
    }
    return valid;
}

void rill_record_trace_id(const rill_record_t *rec, char *out)
{
    struct rill_trace t;
    rill_record_trace(rec, &t, NULL, NULL);
    rill_trace_id_hex(t.trace_id, out);
}
