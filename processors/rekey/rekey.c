/*
 * rekey.c - the `rekey` processor: forwards every record with its value,
 * timestamp and headers unchanged and its key replaced by a field of it
 * (`by:` a JSON path, header:NAME, or key), so that the output topic's
 * partitioner places it by the new key. A topology does not usually name
 * it: `rekey: {by: FIELD}` on a processor puts one in front of it, writing
 * to the internal repartition topic (topology/model/rekey.c). A record
 * without the field goes to the DLQ (class invalid).
 */
#include "processors/group.h"
#include "processors/processor.h"

#include <stddef.h>

struct rekey_conf {
    char *by;
};

static const struct rill_conf_def rekey_conf_def[] = {
    { "by", RILL_CONF_STR, NULL, offsetof(struct rekey_conf, by),
      "the new key: a JSON path (a.b), `header:NAME`, or `key`", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_proc_result_t rekey_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    (void)state;
    const struct rekey_conf *c = rill_ctx_conf(ctx);
    char buf[RILL_GROUP_MAX];
    const void *key;
    size_t klen;
    if (rill_group_of(ctx, c->by, rec, buf, sizeof buf, &key, &klen) != RILL_PROC_OK)
        return RILL_PROC_REJECT;
    return rill_ctx_forward_keep(ctx, NULL, key, klen, rec->value, rec->value_len) == RILL_OK
               ? RILL_PROC_OK
               : RILL_PROC_RETRY;
}

const struct rill_processor_def rill_proc_rekey = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "rekey",
    .doc = "forwards each record keyed by one of its fields (what `rekey:` puts in front)",
    .conf = rekey_conf_def,
    .conf_size = sizeof(struct rekey_conf),
    .process = rekey_process,
};
