/*
 * probe.c - an external processor used by the unit tests: built as a shared
 * object and loaded through `library:` like any third-party processor. It
 * exercises what built-ins do not: RETRY (each record is refused `retries`
 * times before it is forwarded), and punctuation on stream time and on the
 * wall clock (each firing forwards "stream@T" or "wall@T"). With a store
 * granted, every call to process adds 1 to the counter "calls" first, so a
 * test can see that the writes of a refused call are undone. With block_fifo
 * set, a record whose value is "block" makes process() wait on that FIFO
 * (opened for reading, read to its end) before it goes on: a stuck thread,
 * released when the test opens and closes the FIFO. With report_headers
 * set, it forwards what a V4 record says of its headers (no array; the
 * count, the last one by index and by name) instead of the value. Built again with
 * -DPROBE_ABI_VERSION=N as a library that claims a processor ABI this rill
 * does not run, which the loader must refuse.
 */
#include "processors/processor.h"
#include "state/store.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PROBE_ABI_VERSION
#define PROBE_ABI_VERSION RILL_PROCESSOR_VERSION
#endif

struct probe_conf {
    int64_t retries;
    int64_t retry_every;
    int64_t stream_ms;
    int64_t wall_ms;
    char *block_fifo;
    int report_headers;
};

static const struct rill_conf_def probe_conf_def[] = {
    { "retries", RILL_CONF_INT, "0", offsetof(struct probe_conf, retries),
      "how many times each record is refused with RETRY first", NULL, NULL },
    { "retry_every", RILL_CONF_INT, "1", offsetof(struct probe_conf, retry_every),
      "only every Nth accepted record is refused first", NULL, NULL },
    { "stream_ms", RILL_CONF_INT, "0", offsetof(struct probe_conf, stream_ms),
      "stream-time punctuation interval; 0: none", NULL, NULL },
    { "wall_ms", RILL_CONF_INT, "0", offsetof(struct probe_conf, wall_ms),
      "wall-clock punctuation interval; 0: none", NULL, NULL },
    { "block_fifo", RILL_CONF_STR, "", offsetof(struct probe_conf, block_fifo),
      "a FIFO a record \"block\" waits on (read to its end); empty: none", NULL, NULL },
    { "report_headers", RILL_CONF_BOOL, "false", offsetof(struct probe_conf, report_headers),
      "forward what the record says of its headers instead of its value", NULL, NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct probe {
    int64_t attempts;
    int64_t accepted;
};

static rill_err_t probe_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct probe_conf *c = rill_ctx_conf(ctx);
    if ((c->stream_ms && rill_ctx_schedule(ctx, RILL_PUNCTUATE_STREAM_TIME, c->stream_ms)) ||
        (c->wall_ms && rill_ctx_schedule(ctx, RILL_PUNCTUATE_WALL_CLOCK, c->wall_ms))) {
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "cannot schedule");
    }
    *state = calloc(1, sizeof(struct probe));
    return *state ? RILL_OK : RILL_ERR_NOMEM;
}

static rill_proc_result_t probe_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct probe *p = state;
    const struct probe_conf *c = rill_ctx_conf(ctx);
    rill_store_t *st = rill_ctx_store_at(ctx, 0);
    if (st && rill_store_add_i64(st, "calls", 5, 1, NULL) != RILL_OK)
        return RILL_PROC_RETRY;
    if (c->block_fifo && *c->block_fifo && rec->value_len == 5 &&
        !memcmp(rec->value, "block", 5)) {
        int fd = open(c->block_fifo, O_RDONLY); /* waits for a writer */
        char buf[64];
        while (fd >= 0 && read(fd, buf, sizeof buf) > 0)
            ;
        if (fd >= 0)
            close(fd);
    }
    /* forward first, then refuse: the runtime must drop what was held */
    if (c->report_headers) {
        /* a V4 record: no array; the headers read on demand */
        char v[256];
        const char *name = "-";
        const void *hv = NULL;
        size_t n = rill_record_header_count(rec), hl = 0;
        if (n)
            rill_record_header_at(rec, n - 1, &name, &hv, &hl);
        int found = rill_record_header(rec, name, &hv, &hl);
        int len = snprintf(v, sizeof v, "array=%zu ptr=%s count=%zu last=%s=%.*s found=%d",
                           rec->header_cnt, rec->headers ? "set" : "null", n, name,
                           found ? (int)hl : 0, found && hv ? (const char *)hv : "", found);
        rill_ctx_forward(ctx, NULL, rec->key, rec->key_len, v, (size_t)len, NULL, 0);
    } else {
        rill_ctx_forward(ctx, NULL, rec->key, rec->key_len, rec->value, rec->value_len, NULL, 0);
    }
    if (p->accepted % (c->retry_every > 0 ? c->retry_every : 1) == 0 && p->attempts < c->retries) {
        p->attempts++;
        return RILL_PROC_RETRY;
    }
    p->attempts = 0;
    p->accepted++;
    return RILL_PROC_OK;
}

static rill_proc_result_t probe_punctuate(rill_ctx_t *ctx, void *state,
                                          rill_punctuate_type_t type, int64_t now_ms)
{
    char v[64];
    (void)state;
    int n = snprintf(v, sizeof v, "%s@%lld", type == RILL_PUNCTUATE_STREAM_TIME ? "stream" : "wall",
                     (long long)now_ms);
    rill_ctx_forward(ctx, NULL, NULL, 0, v, (size_t)n, NULL, 0);
    return RILL_PROC_OK;
}

static void probe_close(void *state)
{
    free(state);
}

const struct rill_processor_def rill_processor_entry = {
    .version = PROBE_ABI_VERSION,
    .name = "probe",
    .doc = "test processor: retries and punctuations",
    .conf = probe_conf_def,
    .conf_size = sizeof(struct probe_conf),
    .init = probe_init,
    .process = probe_process,
    .punctuate = probe_punctuate,
    .close = probe_close,
};
