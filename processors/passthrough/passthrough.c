/*
 * passthrough.c - the `passthrough` processor: forwards every record, key,
 * value and headers unchanged, to all of its outputs. The simplest proof of
 * the runtime and the subject of the exactly-once kill tests.
 */
#include "processors/processor.h"

static rill_proc_result_t passthrough_process(rill_ctx_t *ctx, void *state,
                                              const rill_record_t *rec)
{
    (void)state;
    if (rill_ctx_forward_keep(ctx, NULL, rec->key, rec->key_len, rec->value, rec->value_len) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_passthrough = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "passthrough",
    .doc = "forwards every record unchanged to all outputs",
    .process = passthrough_process,
};
