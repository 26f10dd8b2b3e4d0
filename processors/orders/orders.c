/*
 * orders.c - the helpers the order pipeline's processors share (orders.h):
 * serde lifetime, decode-or-reject, encode-and-forward keyed by location,
 * output checks and the payment hash. Holds no pipeline logic itself.
 */
#include "processors/orders/orders.h"

#include <stdio.h>
#include <string.h>

rill_err_t rill_orders_init(struct rill_orders *o, char *errstr, size_t errsz)
{
    memset(o, 0, sizeof *o);
    return rill_serde_new(&o->serde, errstr, errsz);
}

void rill_orders_fini(struct rill_orders *o)
{
    rill_event_clear(&o->ev);
    rill_buf_free(&o->buf);
    rill_serde_destroy(o->serde);
    memset(o, 0, sizeof *o);
}

rill_proc_result_t rill_orders_decode(rill_ctx_t *ctx, struct rill_orders *o, const rill_record_t *rec)
{
    char err[RILL_ERRSTR_SIZE];
    rill_event_clear(&o->ev);
    rill_err_t e = rill_serde_decode(o->serde, rec->key, rec->key_len, rec->value, rec->value_len,
                                     &o->ev, err, sizeof err);
    if (e == RILL_ERR_IO || e == RILL_ERR_NOMEM) { /* not the record's fault: try it again */
        rill_ctx_log(ctx, RILL_CTX_LOG_WARN, "cannot decode, will retry|error=\"%s\"", err);
        return RILL_PROC_RETRY;
    }
    if (e != RILL_OK) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "%s", err);
        return RILL_PROC_REJECT;
    }
    return RILL_PROC_OK;
}

rill_proc_result_t rill_orders_emit(rill_ctx_t *ctx, struct rill_orders *o, const char *output,
                                    const rill_event_t *ev)
{
    char err[RILL_ERRSTR_SIZE];
    if (rill_serde_encode(o->serde, ev, &o->buf, err, sizeof err) != RILL_OK) {
        rill_ctx_reject_as(ctx, RILL_REJECT_ENCODE, "cannot encode %s: %s", rill_event_type_name(ev->type), err);
        return RILL_PROC_REJECT;
    }
    const char *loc = rill_event_location(ev);
    if (rill_ctx_forward(ctx, output, loc, strlen(loc), o->buf.p, o->buf.len, NULL, 0) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

rill_err_t rill_orders_output(rill_ctx_t *ctx, const char *configured, const char *conventional,
                              const char *key, int only_ok, const char **out, char *errstr,
                              size_t errsz)
{
    size_t n = rill_ctx_output_count(ctx), cl = strlen(conventional);
    for (size_t i = 0; i < n; i++) {
        const char *name = rill_ctx_output_name(ctx, i);
        size_t len = strlen(name);
        int hit = configured && *configured
                      ? !strcmp(name, configured)
                      : !strcmp(name, conventional) ||
                            (len > cl && name[len - cl - 1] == '.' &&
                             !strcmp(name + len - cl, conventional));
        if (hit) {
            *out = name;
            return RILL_OK;
        }
    }
    if (!(configured && *configured) && n == 1 && only_ok) {
        *out = rill_ctx_output_name(ctx, 0);
        return RILL_OK;
    }
    if (configured && *configured)
        snprintf(errstr, errsz, "processor '%s' has no output '%s' (%s)", rill_ctx_name(ctx),
                 configured, key);
    else
        snprintf(errstr, errsz,
                 "processor '%s' has no output named '%s' or '*.%s': set %s to one of its outputs",
                 rill_ctx_name(ctx), conventional, conventional, key);
    return RILL_ERR_CONFIG;
}

uint64_t rill_orders_hash(uint64_t seed, const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (int i = 0; i < 8; i++) {
        h ^= (seed >> (8 * i)) & 0xff;
        h *= 1099511628211ULL;
    }
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}
