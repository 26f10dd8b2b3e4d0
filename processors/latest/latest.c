/*
 * latest.c - the `latest` processor (a reduce that keeps the last value):
 * stores each record's value under its group, the record key by default or
 * any field (`by:` a JSON path, `key`, or `header:NAME`), in the processor's
 * store (the first one the YAML grants it), and forwards key = the group,
 * value = the record's value, headers = the record's headers, to every
 * output. A tombstone (a record without a value) deletes the group from the
 * store and forwards a tombstone for it; it can only be grouped by the key or
 * a header, since it has no JSON to read.
 *
 * It forwards on every record, even when the value equals the stored one
 * (no read before the write, and downstream sees every update). A record
 * without the grouping field goes to the DLQ; a failing store makes it retry.
 */
#include "processors/group.h"
#include "processors/ttl.h"
#include "processors/processor.h"
#include "state/store.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>


struct latest_conf {
    char *by;
    int64_t ttl_ms;
};

static const struct rill_conf_def latest_conf_def[] = {
    { "by", RILL_CONF_STR, "key", offsetof(struct latest_conf, by),
      "what to group by: `key`, a JSON path (a.b), or `header:NAME`", NULL, NULL },
    RILL_TTL_CONF_ROW(struct latest_conf, ttl_ms),
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_err_t latest_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct latest_conf *c = rill_ctx_conf(ctx);
    return rill_ttl_init(ctx, c->ttl_ms, state, errstr, errsz);
}

static rill_proc_result_t latest_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct latest_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = rill_ttl_store(state);
    char buf[RILL_GROUP_MAX];
    const void *group;
    size_t glen;
    if (rill_group_of(ctx, c->by, rec, buf, sizeof buf, &group, &glen) != RILL_PROC_OK ||
        rill_ttl_check(ctx, state, group, glen) != RILL_PROC_OK)
        return RILL_PROC_REJECT;
    rill_err_t err = rec->value ? rill_store_put(store, group, glen, rec->value, rec->value_len)
                                : rill_store_delete(store, group, glen);
    if (err != RILL_OK && !(err == RILL_ERR_NOTFOUND && !rec->value))
        return RILL_PROC_RETRY;
    if ((rec->value ? rill_ttl_touch(ctx, state, group, glen) : rill_ttl_forget(state, group, glen)) !=
        RILL_OK)
        return RILL_PROC_RETRY;
    if (rill_ctx_forward_keep(ctx, NULL, group, glen, rec->value, rec->value_len) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_latest = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "latest",
    .doc = "keeps the last value per key or field, forwards every update (needs a store)",
    .conf = latest_conf_def,
    .conf_size = sizeof(struct latest_conf),
    .init = latest_init,
    .process = latest_process,
    .punctuate = rill_ttl_punctuate,
    .close = rill_ttl_close,
};
