/*
 * filter.c - the `filter` processor: keeps the records whose field (a JSON
 * path, `key`, or `header:NAME`) equals a value, or merely exists when no
 * value is given; `negate: true` keeps the others instead. Dropped records go
 * nowhere. A value that is not valid JSON when a JSON field is asked for is a
 * bad record: it goes to the DLQ.
 */
#include "processors/processor.h"

#include <stddef.h>
#include <string.h>

struct filter_conf {
    char *field;
    char *equals;
    int negate;
};

static const struct rill_conf_def filter_conf_def[] = {
    { "field", RILL_CONF_STR, NULL, offsetof(struct filter_conf, field),
      "what to test: a JSON path (a.b), `key`, or `header:NAME`", NULL, NULL },
    { "equals", RILL_CONF_STR, "", offsetof(struct filter_conf, equals),
      "keep records whose field equals this; empty: keep records that have the field", NULL, NULL },
    { "negate", RILL_CONF_BOOL, "false", offsetof(struct filter_conf, negate),
      "keep the records that do not match instead", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_proc_result_t filter_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct filter_conf *c = rill_ctx_conf(ctx);
    char val[1024];
    (void)state;
    rill_err_t err = rill_record_field(rec, c->field, val, sizeof val);
    int match;
    if (err == RILL_OK)
        match = !c->equals[0] || !strcmp(val, c->equals);
    else if (err == RILL_ERR_NOTFOUND || err == RILL_ERR_NOFIT)
        match = 0; /* a field longer than any sane comparison value cannot be equal */
    else {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot read field '%s': %s", c->field, rill_err2str(err));
        return RILL_PROC_REJECT;
    }
    if (err == RILL_ERR_NOFIT && !c->equals[0])
        match = 1; /* it exists, it is just long */
    if (match == !c->negate &&
        rill_ctx_forward_keep(ctx, NULL, rec->key, rec->key_len, rec->value, rec->value_len) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_filter = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "filter",
    .doc = "keeps records whose field or header matches",
    .conf = filter_conf_def,
    .conf_size = sizeof(struct filter_conf),
    .process = filter_process,
};
