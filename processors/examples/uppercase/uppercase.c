/*
 * uppercase.c - an example external processor, built outside rill the way a
 * third party builds one (processors/examples/README.md): it needs only
 * processors/processor.h and state/store.h, compiles with -fPIC -shared, and
 * exports one symbol, rill_processor_entry. It forwards each record with its
 * value in ASCII upper case (the key and headers as they came, plus an
 * optional tag header); a tombstone stays a tombstone; a value longer than
 * max_bytes is rejected to the DLQ. When the YAML grants it a store, it
 * counts the records it upper-cased there under the key "records".
 *
 * Not a model of speed: it copies every value once, into a buffer of
 * max_bytes allocated per task when the task starts.
 */
#include "processors/processor.h"
#include "state/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPPERCASE_MAX_BYTES_MIN 1
#define UPPERCASE_MAX_BYTES_MAX 1048576 /* 1 MiB, Kafka's default message size */
#define STR_(x) #x
#define STR(x) STR_(x)

struct uppercase_conf {
    int64_t max_bytes;
    char *tag;
};

static const struct rill_conf_def uppercase_conf_def[] = {
    { "max_bytes", RILL_CONF_INT, "65536", offsetof(struct uppercase_conf, max_bytes),
      "longest value upper-cased; a longer one goes to the DLQ",
      STR(UPPERCASE_MAX_BYTES_MIN), STR(UPPERCASE_MAX_BYTES_MAX) },
    { "tag", RILL_CONF_STR, "", offsetof(struct uppercase_conf, tag),
      "when not empty, every output carries the header uppercase.tag with this value", NULL,
      NULL },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct uppercase {
    char *buf;           /* max_bytes */
    rill_header_t *hdrs; /* the record's headers plus the tag */
    size_t hdrs_cap;
};

static rill_err_t uppercase_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct uppercase_conf *c = rill_ctx_conf(ctx);
    /* max_bytes is within its row's min and max: rill refuses the rest
     * before init. */
    struct uppercase *u = calloc(1, sizeof *u);
    if (!u || !(u->buf = malloc((size_t)c->max_bytes))) {
        free(u);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    rill_ctx_log(ctx, RILL_CTX_LOG_INFO, "uppercase started|max_bytes=%lld tag=%s",
                 (long long)c->max_bytes, c->tag[0] ? c->tag : "-");
    *state = u;
    return RILL_OK;
}

/* The record's headers followed by the tag, in u->hdrs; returns the count,
 * or (size_t)-1 when out of memory. */
static size_t with_tag(struct uppercase *u, const rill_record_t *rec, const char *tag)
{
    size_t have = rill_record_header_count(rec), n = have + 1;
    if (n > u->hdrs_cap) {
        rill_header_t *h = realloc(u->hdrs, n * sizeof *h);
        if (!h)
            return (size_t)-1;
        u->hdrs = h;
        u->hdrs_cap = n;
    }
    for (size_t i = 0; i < have; i++)
        rill_record_header_at(rec, i, &u->hdrs[i].name, &u->hdrs[i].value, &u->hdrs[i].len);
    u->hdrs[have] = (rill_header_t){ "uppercase.tag", tag, strlen(tag) };
    return n;
}

static rill_proc_result_t uppercase_process(rill_ctx_t *ctx, void *state,
                                            const rill_record_t *rec)
{
    struct uppercase *u = state;
    const struct uppercase_conf *c = rill_ctx_conf(ctx);
    if (rec->value && rec->value_len > (size_t)c->max_bytes) {
        rill_ctx_reject(ctx, "value of %zu bytes is longer than max_bytes %lld", rec->value_len,
                        (long long)c->max_bytes);
        return RILL_PROC_REJECT;
    }
    const char *in = rec->value;
    for (size_t i = 0; in && i < rec->value_len; i++)
        u->buf[i] = in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 'a' + 'A') : in[i];
    rill_err_t err;
    if (c->tag[0]) {
        size_t nh = with_tag(u, rec, c->tag);
        if (nh == (size_t)-1)
            return RILL_PROC_RETRY;
        err = rill_ctx_forward(ctx, NULL, rec->key, rec->key_len, rec->value ? u->buf : NULL,
                               rec->value_len, u->hdrs, nh);
    } else {
        err = rill_ctx_forward_keep(ctx, NULL, rec->key, rec->key_len,
                                    rec->value ? u->buf : NULL, rec->value_len);
    }
    if (err != RILL_OK)
        return RILL_PROC_RETRY; /* out of memory: try the record again */
    rill_store_t *count = rill_ctx_store_at(ctx, 0);
    if (count && rec->value && rill_store_add_i64(count, "records", 7, 1, NULL) != RILL_OK)
        return RILL_PROC_RETRY; /* the runtime undoes the forward too */
    return RILL_PROC_OK;
}

static void uppercase_close(void *state)
{
    struct uppercase *u = state;
    free(u->buf);
    free(u->hdrs);
    free(u);
}

const struct rill_processor_def rill_processor_entry = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "uppercase",
    .doc = "example: upper-cases values (ASCII), counts them in a granted store",
    .conf = uppercase_conf_def,
    .conf_size = sizeof(struct uppercase_conf),
    .init = uppercase_init,
    .process = uppercase_process,
    .close = uppercase_close,
};
