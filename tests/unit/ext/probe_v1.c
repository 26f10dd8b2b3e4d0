/*
 * probe_v1.c - an external processor built against the first processor ABI
 * (tests/unit/ext/processor_v1.h, a frozen copy of the V1 headers), as a
 * plugin built before V2 would be: its config rows have five fields, no min
 * or max. The unit tests load it into today's rill and check that every
 * config value, default or from the YAML, reaches it at the offset it gave,
 * and that the error numbers it was built with still mean what they meant.
 * Each record is forwarded as one line saying what it saw, its headers
 * from the array V1 promised:
 *   "<prefix> times=<n> scale=<x> upper=<0|1> unknown-output=<err> headers=<n>
 *    last=<name of the last header, or ->: <value>"
 */
#include "tests/unit/ext/processor_v1.h"

#include <stdio.h>
#include <string.h>

struct probe_v1_conf {
    char *prefix;
    int64_t times;
    double scale;
    int upper;
};

static const struct rill_conf_def probe_v1_conf_def[] = {
    { "prefix", RILL_CONF_STR, "v1", offsetof(struct probe_v1_conf, prefix), "line prefix" },
    { "times", RILL_CONF_INT, "1", offsetof(struct probe_v1_conf, times), "a number" },
    { "scale", RILL_CONF_DOUBLE, "0.5", offsetof(struct probe_v1_conf, scale), "a double" },
    { "upper", RILL_CONF_BOOL, "false", offsetof(struct probe_v1_conf, upper), "a bool" },
    { NULL, 0, NULL, 0, NULL },
};

static rill_proc_result_t probe_v1_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    (void)state;
    const struct probe_v1_conf *c = rill_ctx_conf(ctx);
    rill_err_t e = rill_ctx_forward(ctx, "no-such-output", NULL, 0, "x", 1, NULL, 0);
    char line[256];
    /* V1 promised every header in rec->headers */
    const char *last = rec->header_cnt ? rec->headers[rec->header_cnt - 1].name : "-";
    int n = snprintf(line, sizeof line,
                     "%s times=%lld scale=%g upper=%d unknown-output=%s headers=%zu last=%s: %.*s",
                     c->prefix, (long long)c->times, c->scale, c->upper,
                     e == RILL_ERR_NOTFOUND ? "notfound" : "other", rec->header_cnt, last,
                     (int)rec->value_len, (const char *)rec->value);
    if (n < 0 || (size_t)n >= sizeof line)
        return RILL_PROC_REJECT;
    return rill_ctx_forward(ctx, NULL, rec->key, rec->key_len, line, (size_t)n, NULL, 0) == RILL_OK
               ? RILL_PROC_OK
               : RILL_PROC_RETRY;
}

const struct rill_processor_def rill_processor_entry = {
    .version = RILL_PROCESSOR_V1,
    .name = "probe_v1",
    .doc = "test processor built against the V1 ABI",
    .conf = probe_v1_conf_def,
    .conf_size = sizeof(struct probe_v1_conf),
    .process = probe_v1_process,
};
