/*
 * group.c - the helpers of group.h for the keyed stateful processors.
 */
#include "processors/group.h"

#include <stdio.h>
#include <string.h>

rill_err_t rill_group_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    rill_store_t *store = rill_ctx_store_at(ctx, 0);
    if (!store) {
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "processor '%s' needs a store: add `stores: [%s]`",
                 rill_ctx_name(ctx), rill_ctx_name(ctx));
    }
    *state = store; /* the instance is just its store, owned by the runtime */
    return RILL_OK;
}

rill_proc_result_t rill_group_of(rill_ctx_t *ctx, const char *by, const rill_record_t *rec, char *buf,
                  size_t bufsz, const void **group, size_t *glen)
{
    if (!strcmp(by, "key")) {
        if (!rec->key) {
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot group by 'key': the record has no key");
            return RILL_PROC_REJECT;
        }
        *group = rec->key;
        *glen = rec->key_len;
        return RILL_PROC_OK;
    }
    rill_err_t err = rill_record_field(rec, by, buf, bufsz);
    if (err == RILL_OK) {
        *group = buf;
        *glen = strlen(buf);
        return RILL_PROC_OK;
    }
    if (err == RILL_ERR_NOTFOUND)
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot group by '%s': the %s has no such field", by,
                        rec->value ? "record" : "tombstone");
    else if (err == RILL_ERR_NOFIT)
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot group by '%s': the value is longer than %d bytes", by,
                        RILL_GROUP_MAX - 1);
    else
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot group by '%s': %s (not json, or not a scalar)", by,
                        rill_err2str(err));
    return RILL_PROC_REJECT;
}
