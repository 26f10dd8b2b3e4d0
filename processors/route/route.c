/*
 * route.c - the `route` processor: sends each record to the output topic
 * named by the value of a field (a JSON path, `key`, or `header:NAME`),
 * optionally through a prefix (`prefix: orders.` turns "eu" into
 * "orders.eu"). A record whose field is missing goes to `default` when set,
 * else to the DLQ; a value naming no output is rejected to the DLQ too.
 */
#include "processors/processor.h"

#include <stddef.h>
#include <stdio.h>

struct route_conf {
    char *field;
    char *prefix;
    char *fallback;
};

static const struct rill_conf_def route_conf_def[] = {
    { "field", RILL_CONF_STR, NULL, offsetof(struct route_conf, field),
      "what decides the output: a JSON path (a.b), `key`, or `header:NAME`", NULL, NULL },
    { "prefix", RILL_CONF_STR, "", offsetof(struct route_conf, prefix),
      "prepended to the field's value to form the output topic name", NULL, NULL },
    { "default", RILL_CONF_STR, "", offsetof(struct route_conf, fallback),
      "output for records without the field or with an unknown value; empty: DLQ", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_proc_result_t route_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct route_conf *c = rill_ctx_conf(ctx);
    char val[512], out[768];
    (void)state;
    rill_err_t err = rill_record_field(rec, c->field, val, sizeof val);
    if (err == RILL_ERR_INVALID) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot read field '%s': %s", c->field, rill_err2str(err));
        return RILL_PROC_REJECT;
    }
    const char *target = out;
    if (err == RILL_OK)
        snprintf(out, sizeof out, "%s%s", c->prefix, val);
    else
        target = c->fallback;
    err = target[0] ? rill_ctx_forward_keep(ctx, target, rec->key, rec->key_len, rec->value,
                                       rec->value_len)
                    : RILL_ERR_NOTFOUND;
    if (err == RILL_ERR_NOTFOUND && c->fallback[0] && target != c->fallback)
        err = rill_ctx_forward_keep(ctx, c->fallback, rec->key, rec->key_len, rec->value,
                               rec->value_len);
    if (err == RILL_ERR_NOTFOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_UNROUTABLE, "no output for field '%s' = '%s'", c->field, val);
        return RILL_PROC_REJECT;
    }
    return err == RILL_OK ? RILL_PROC_OK : RILL_PROC_RETRY;
}

const struct rill_processor_def rill_proc_route = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "route",
    .doc = "sends each record to the output named by a field's value",
    .conf = route_conf_def,
    .conf_size = sizeof(struct route_conf),
    .process = route_process,
};
