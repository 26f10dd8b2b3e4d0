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
 * (with `by: key`, a record without a key) goes to the DLQ. It does not window
 * or expire counts; a failing store makes the record retry.
 */
#include "processor.h"
#include "store.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define COUNT_GROUP_MAX 1024 /* longest group taken from a field, NUL included */

struct count_conf {
    char *by;
};

static const struct rill_conf_def count_conf_def[] = {
    { "by", RILL_CONF_STR, "key", offsetof(struct count_conf, by),
      "what to group by: `key`, a JSON path (a.b), or `header:NAME`" },
    { NULL, 0, NULL, 0, NULL },
};

static rill_err_t count_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    rill_store_t *store = rill_ctx_store_at(ctx, 0);
    if (!store) {
        snprintf(errstr, errsz, "processor '%s' needs a store: add `stores: [%s]`",
                 rill_ctx_name(ctx), rill_ctx_name(ctx));
        return RILL_ERR_CONFIG;
    }
    *state = store; /* the instance is just its store, owned by the runtime */
    return RILL_OK;
}

/* Finds rec's group: the key bytes themselves for `by: key` (any length,
 * binary-safe), else the field's text in buf. Returns 0, or rejects the
 * record and returns -1. */
static int count_group(rill_ctx_t *ctx, const char *by, const rill_record_t *rec, char *buf,
                       size_t bufsz, const void **group, size_t *glen)
{
    if (!strcmp(by, "key")) {
        if (!rec->key) {
            rill_ctx_reject(ctx, "cannot group by 'key': the record has no key");
            return -1;
        }
        *group = rec->key;
        *glen = rec->key_len;
        return 0;
    }
    rill_err_t err = rill_record_field(rec, by, buf, bufsz);
    if (err == RILL_OK) {
        *group = buf;
        *glen = strlen(buf);
        return 0;
    }
    if (err == RILL_ERR_NOTFOUND)
        rill_ctx_reject(ctx, "cannot group by '%s': the record has no such field", by);
    else if (err == RILL_ERR_NOMEM)
        rill_ctx_reject(ctx, "cannot group by '%s': the value is longer than %d bytes", by,
                        COUNT_GROUP_MAX - 1);
    else
        rill_ctx_reject(ctx, "cannot group by '%s': %s (not json, or not a scalar)", by,
                        rill_err2str(err));
    return -1;
}

static rill_proc_result_t count_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct count_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = state;
    char buf[COUNT_GROUP_MAX], text[24];
    const void *group;
    size_t glen;
    int64_t n;
    if (!rec->value)
        return RILL_PROC_OK;
    if (count_group(ctx, c->by, rec, buf, sizeof buf, &group, &glen) < 0)
        return RILL_PROC_REJECT;
    if (rill_store_add_i64(store, group, glen, 1, &n) != RILL_OK)
        return RILL_PROC_RETRY;
    int len = snprintf(text, sizeof text, "%" PRId64, n);
    if (rill_ctx_forward(ctx, NULL, group, glen, text, (size_t)len, NULL, 0) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_count = {
    .version = RILL_PROCESSOR_V1,
    .name = "count",
    .doc = "counts records per key or field, forwards the running count (needs a store)",
    .conf = count_conf_def,
    .conf_size = sizeof(struct count_conf),
    .init = count_init,
    .process = count_process,
};
