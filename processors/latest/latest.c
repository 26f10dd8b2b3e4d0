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
#include "processor.h"
#include "store.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define LATEST_GROUP_MAX 1024 /* longest group taken from a field, NUL included */

struct latest_conf {
    char *by;
};

static const struct rill_conf_def latest_conf_def[] = {
    { "by", RILL_CONF_STR, "key", offsetof(struct latest_conf, by),
      "what to group by: `key`, a JSON path (a.b), or `header:NAME`" },
    { NULL, 0, NULL, 0, NULL },
};

static rill_err_t latest_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
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
static int latest_group(rill_ctx_t *ctx, const char *by, const rill_record_t *rec, char *buf,
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
        rill_ctx_reject(ctx, "cannot group by '%s': the %s has no such field", by,
                        rec->value ? "record" : "tombstone");
    else if (err == RILL_ERR_NOMEM)
        rill_ctx_reject(ctx, "cannot group by '%s': the value is longer than %d bytes", by,
                        LATEST_GROUP_MAX - 1);
    else
        rill_ctx_reject(ctx, "cannot group by '%s': %s (not json, or not a scalar)", by,
                        rill_err2str(err));
    return -1;
}

static rill_proc_result_t latest_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct latest_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = state;
    char buf[LATEST_GROUP_MAX];
    const void *group;
    size_t glen;
    if (latest_group(ctx, c->by, rec, buf, sizeof buf, &group, &glen) < 0)
        return RILL_PROC_REJECT;
    rill_err_t err = rec->value ? rill_store_put(store, group, glen, rec->value, rec->value_len)
                                : rill_store_delete(store, group, glen);
    if (err != RILL_OK && !(err == RILL_ERR_NOTFOUND && !rec->value))
        return RILL_PROC_RETRY;
    if (rill_ctx_forward(ctx, NULL, group, glen, rec->value, rec->value_len, rec->headers,
                         rec->header_cnt) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_latest = {
    .version = RILL_PROCESSOR_V1,
    .name = "latest",
    .doc = "keeps the last value per key or field, forwards every update (needs a store)",
    .conf = latest_conf_def,
    .conf_size = sizeof(struct latest_conf),
    .init = latest_init,
    .process = latest_process,
};
