/*
 * phases.c - an external processor used by the unit tests to try every
 * context call in every callback and report what the runtime answered, so
 * that the legality table of processor.h is checked from a plugin's side.
 * Init, each process call and each punctuation forward (or, for init, keep
 * until the first record) one line "<phase>: <call>=<answer> ..."; close,
 * which cannot forward, writes its line into phases_close_report, which the
 * test reads through its own dlopen of this library. Init also looks up two
 * symbols of the binary that loaded it: rill_ctx_forward must be exported
 * and rill_topology_load must not (processors/plugin.exports), and logs one
 * line through rill_ctx_log. Needs one granted store and punctuates on
 * stream time every 1000 ms.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "processors/processor.h"
#include "state/store.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char phases_close_report[256];

struct phases {
    rill_ctx_t *ctx; /* kept only to try calls from close */
    char init_report[256];
    int reported;
};

static const char *answer(rill_err_t err)
{
    return err == RILL_OK ? "ok" : err == RILL_ERR_INVALID ? "invalid" : "other";
}

static const char *found(const void *p)
{
    return p ? "ok" : "null";
}

static rill_err_t phases_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    struct phases *p = calloc(1, sizeof *p);
    if (!p)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    p->ctx = ctx;
    rill_ctx_reject(ctx, "refused: not in process");
    snprintf(p->init_report, sizeof p->init_report,
             "init: forward=%s store=%s schedule=%s exports=%s/%s",
             answer(rill_ctx_forward(ctx, NULL, NULL, 0, "x", 1, NULL, 0)),
             found(rill_ctx_store_at(ctx, 0)),
             answer(rill_ctx_schedule(ctx, RILL_PUNCTUATE_STREAM_TIME, 1000)),
             dlsym(RTLD_DEFAULT, "rill_ctx_forward") ? "found" : "hidden",
             dlsym(RTLD_DEFAULT, "rill_topology_load") ? "found" : "hidden");
    rill_ctx_log(ctx, RILL_CTX_LOG_INFO, "phases started|answer=%d", 42);
    *state = p;
    return RILL_OK;
}

static void forward_line(rill_ctx_t *ctx, const char *line)
{
    rill_ctx_forward(ctx, NULL, NULL, 0, line, strlen(line), NULL, 0);
}

static rill_proc_result_t phases_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct phases *p = state;
    char line[256];
    if (!p->reported) {
        forward_line(ctx, p->init_report);
        p->reported = 1;
    }
    snprintf(line, sizeof line, "process: forward=%s store=%s schedule=%s name=%s",
             answer(rill_ctx_forward(ctx, "out", rec->key, rec->key_len, rec->value,
                                     rec->value_len, NULL, 0)),
             found(rill_ctx_store_at(ctx, 0)),
             answer(rill_ctx_schedule(ctx, RILL_PUNCTUATE_WALL_CLOCK, 10)), rill_ctx_name(ctx));
    forward_line(ctx, line);
    return RILL_PROC_OK;
}

static rill_proc_result_t phases_punctuate(rill_ctx_t *ctx, void *state,
                                           rill_punctuate_type_t type, int64_t now_ms)
{
    (void)state;
    (void)type;
    (void)now_ms;
    char line[256];
    rill_ctx_reject(ctx, "refused: not in process");
    snprintf(line, sizeof line, "punctuate: store=%s schedule=%s",
             found(rill_ctx_store_at(ctx, 0)),
             answer(rill_ctx_schedule(ctx, RILL_PUNCTUATE_WALL_CLOCK, 10)));
    forward_line(ctx, line); /* this forward is legal: the line arriving proves it */
    return RILL_PROC_OK;
}

static void phases_close(void *state)
{
    struct phases *p = state;
    rill_ctx_t *ctx = p->ctx;
    snprintf(phases_close_report, sizeof phases_close_report,
             "close: forward=%s store=%s store_by_name=%s schedule=%s name=%s partition=%d",
             answer(rill_ctx_forward(ctx, NULL, NULL, 0, "x", 1, NULL, 0)),
             found(rill_ctx_store_at(ctx, 0)), found(rill_ctx_store(ctx, "s")),
             answer(rill_ctx_schedule(ctx, RILL_PUNCTUATE_STREAM_TIME, 1000)),
             rill_ctx_name(ctx), (int)rill_ctx_partition(ctx));
    rill_ctx_log(ctx, RILL_CTX_LOG_WARN, "phases closing");
    free(p);
}

const struct rill_processor_def rill_processor_entry = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "phases",
    .doc = "test processor: tries every context call in every callback",
    .init = phases_init,
    .process = phases_process,
    .punctuate = phases_punctuate,
    .close = phases_close,
};
