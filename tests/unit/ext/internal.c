/*
 * internal.c - an external processor that calls a function of the runtime
 * outside the plugin API (rill_topology_load, declared here by hand as a
 * careless plugin would). The rill binary does not export it
 * (processors/plugin.exports), so the unit tests expect this library to
 * fail to load, naming the symbol.
 */
#include "processors/processor.h"

struct rill_topology;
rill_err_t rill_topology_load(const char *path, struct rill_topology **out, char *errstr,
                              size_t errsz);

static rill_proc_result_t internal_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    (void)ctx;
    (void)state;
    struct rill_topology *t = NULL;
    char err[RILL_ERRSTR_SIZE];
    return rill_topology_load(rec->topic, &t, err, sizeof err) == RILL_OK ? RILL_PROC_OK
                                                                          : RILL_PROC_RETRY;
}

const struct rill_processor_def rill_processor_entry = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "internal",
    .doc = "test processor: calls a runtime internal",
    .process = internal_process,
};
