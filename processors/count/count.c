/*
 * count.c - the `count` processor: counts records per group and forwards the
 * running count. The group is the record key by default, or any field (`by:`
 * a JSON path, `key`, or `header:NAME`). Each record adds one to its group's
 * counter in the processor's store (the first one the YAML grants it, an
 * 8-byte big-endian int64 per group key) and forwards key = the group,
 * value = the new count as decimal text, without headers, to every output.
 *
 * Tombstones (records without a value) are ignored: nothing is counted or
 * forwarded, as in Kafka Streams' count(). A record without the grouping field
 * (with `by: key`, a record without a key) goes to the DLQ. With `ttl.ms` a group
 * untouched that long is deleted (processors/ttl.h); it does not window; a failing store makes the record retry.
 */
#include "processors/group.h"
#include "processors/ttl.h"
#include "processors/processor.h"
#include "state/store.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>


struct count_conf {
    char *by;
    int64_t ttl_ms;
};

static const struct rill_conf_def count_conf_def[] = {
    { "by", RILL_CONF_STR, "key", offsetof(struct count_conf, by),
      "what to group by: `key`, a JSON path (a.b), or `header:NAME`", NULL, NULL },
    RILL_TTL_CONF_ROW(struct count_conf, ttl_ms),
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_err_t count_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct count_conf *c = rill_ctx_conf(ctx);
    return rill_ttl_init(ctx, c->ttl_ms, state, errstr, errsz);
}

static rill_proc_result_t count_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct count_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = rill_ttl_store(state);
    char buf[RILL_GROUP_MAX], text[24];
    const void *group;
    size_t glen;
    int64_t n;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_group_of(ctx, c->by, rec, buf, sizeof buf, &group, &glen) != RILL_PROC_OK ||
        rill_ttl_check(ctx, state, group, glen) != RILL_PROC_OK)
        return RILL_PROC_REJECT;
    if (rill_store_add_i64(store, group, glen, 1, &n) != RILL_OK ||
        rill_ttl_touch(ctx, state, group, glen) != RILL_OK)
        return RILL_PROC_RETRY;
    int len = snprintf(text, sizeof text, "%" PRId64, n);
    if (rill_ctx_forward(ctx, NULL, group, glen, text, (size_t)len, NULL, 0) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_count = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "count",
    .doc = "counts records per key or field, forwards the running count (needs a store)",
    .conf = count_conf_def,
    .conf_size = sizeof(struct count_conf),
    .init = count_init,
    .process = count_process,
    .punctuate = rill_ttl_punctuate,
    .close = rill_ttl_close,
};
