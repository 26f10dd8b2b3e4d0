/*
 * http_state.c - GET /state/STORE/KEY: a lookup in this instance's local
 * copy of a store (DESIGN.md section 5's interactive query over HTTP).
 *
 * STORE and KEY are percent-decoded here, binary-safe (KEY is everything
 * after the first '/', so "a%2Fb" and "a/b" are the same key), KEY up to
 * STATE_KEY_MAX bytes. The store belongs to one processor (graph rule 9);
 * the key's task is the partition Kafka's default partitioner gives the key
 * among that processor's input partitions (murmur2, as a keyed producer
 * places it), or the one `?partition=N` names, or the one of
 * `?partition_key=K` (a record key), for a store whose keys are not the
 * records' keys (inventory's "location/product" counters live in the
 * location's task). When a stream thread of this instance holds that
 * task (its assignment view, view_int.h), the lookup is posted to that
 * thread's mailbox and answered by the thread itself between two records,
 * from the store's committed data (what a restart would find; writes of an
 * open transaction are not shown). The HTTP thread waits at most
 * LOOKUP_TIMEOUT_MS.
 *
 * Answers, all JSON with "store", "key", "partition":
 *   200 found: "value" and "encoding" (also in X-Rill-Value-Encoding):
 *       "json" when the value is a JSON document (given as is), "string"
 *       when it is UTF-8 text, else "base64"; an 8-byte value also as
 *       "int64", read big-endian (store.h's counters);
 *   404 "found": false: this instance owns the task and it has no such key;
 *   404 "owned": false: this instance holds no task of that partition
 *       (another instance of the group does, or none yet);
 *   404 unknown store, 400 a malformed escape or partition, 414 a key over
 *   STATE_KEY_MAX; 503 while the task restores, when the partition count
 *   is not known, or when the thread did not answer in time.
 * Not `rill state get` (the CLI reads a stopped or running instance's
 * RocksDB files itself).
 */
#include "topology/engine/http_int.h"
#include "topology/base/partition.h"
#include "topology/base/json.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest key a lookup takes, decoded. */
#define STATE_KEY_MAX 1024
/* The longest store name (a YAML key). */
#define STATE_NAME_MAX 256
/* The largest value shown; a larger one is refused (500). */
#define STATE_VALUE_MAX (16u << 20)

/* Percent-decodes s[0..n) into out (room for max bytes); the decoded
 * length, or -1 for a malformed escape, -2 when it does not fit. */
static long unescape(const char *s, size_t n, char *out, size_t max)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            int hi = i + 2 < n ? rill_json_hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? rill_json_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi << 4 | lo;
            i += 2;
        }
        if (len == max)
            return -2;
        out[len++] = (char)c;
    }
    return (long)len;
}

/* The index of the processor granted store; t->nprocs when none is. */
static size_t owner_of(const struct rill_topology *t, const char *store, size_t len)
{
    for (size_t p = 0; p < t->nprocs; p++)
        for (size_t i = 0; i < t->procs[p].stores.n; i++)
            if (strlen(t->procs[p].stores.v[i]) == len &&
                !memcmp(t->procs[p].stores.v[i], store, len))
                return p;
    return t->nprocs;
}

struct ask {
    const char *store;          /* decoded, NUL-terminated */
    const char *key;            /* decoded, klen bytes */
    size_t klen;
    int32_t partition;          /* -1: not yet known */
};

/* The start of every answer: {"store":..,"key":..,"partition":.. */
static void head(struct text *t, const struct ask *a)
{
    text_put(t, "{\"store\":");
    text_json(t, a->store);
    text_put(t, ",\"key\":");
    if (a->key)
        text_json_n(t, a->key, a->klen);
    else
        text_put(t, "null");
    if (a->partition >= 0)
        text_put(t, ",\"partition\":%d", (int)a->partition);
}

/* An answer without a value: head, then extra (JSON members with their
 * leading comma, or ""), then "error". */
static enum MHD_Result fail(struct MHD_Connection *c, const struct ask *a, unsigned status,
                            const char *extra, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result fail(struct MHD_Connection *c, const struct ask *a, unsigned status,
                            const char *extra, const char *fmt, ...)
{
    struct text t = { 0 };
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    head(&t, a);
    text_put(&t, "%s,\"error\":", extra);
    text_json(&t, msg);
    text_put(&t, "}\n");
    return http_reply(c, status, "application/json", &t, NULL, NULL);
}

/* The found value: as JSON, a string, or base64; and as an int64 when it
 * has 8 bytes. */
static enum MHD_Result found(struct MHD_Connection *c, const struct ask *a,
                             const unsigned char *v, size_t n)
{
    struct text t = { 0 };
    rill_json_val_t root;
    const char *enc = !text_readable(v, n) ? "base64"
                      : rill_json_parse((const char *)v, n, &root, NULL) == RILL_JSON_FOUND
                          ? "json" : "string";
    head(&t, a);
    text_put(&t, ",\"owned\":true,\"found\":true,\"encoding\":\"%s\",\"value\":", enc);
    if (!strcmp(enc, "json")) {
        text_put(&t, "%.*s", (int)n, (const char *)v);
    } else if (!strcmp(enc, "string")) {
        text_json_n(&t, v, n);
    } else {
        char *b64 = malloc(4 * ((n + 2) / 3) + 1);
        if (!b64)
            t.oom = 1;
        else
            EVP_EncodeBlock((unsigned char *)b64, v, (int)n);
        text_put(&t, "\"%s\"", b64 ? b64 : "");
        free(b64);
    }
    if (n == 8) {
        uint64_t x = 0;
        for (int i = 0; i < 8; i++)
            x = x << 8 | v[i];
        text_put(&t, ",\"int64\":%lld", (long long)(int64_t)x);
    }
    text_put(&t, "}\n");
    return http_reply(c, MHD_HTTP_OK, "application/json", &t, "X-Rill-Value-Encoding", enc);
}

static enum MHD_Result not_owned(struct MHD_Connection *c, const struct ask *a)
{
    return fail(c, a, MHD_HTTP_NOT_FOUND, ",\"owned\":false",
                "this instance does not own partition %d of store '%s'", (int)a->partition,
                a->store);
}

/* The partition of the key: ?partition=N, or murmur2 over n partitions of
 * ?partition_key=K (percent-decoded), or of the key itself. 0, -1 for a
 * malformed argument, -2 when n is not known. */
static int partition_of(struct MHD_Connection *c, const struct ask *a, int32_t n, int32_t *out)
{
    const char *arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "partition");
    const char *pk = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "partition_key");
    if (!arg) {
        char buf[STATE_KEY_MAX];
        long len = pk ? unescape(pk, strlen(pk), buf, sizeof buf) : 0;
        if (len < 0 || (pk && !len))
            return -1;
        if (n <= 0)
            return -2;
        *out = pk ? rill_partition_murmur2(buf, (size_t)len, n)
                  : rill_partition_murmur2(a->key, a->klen, n);
        return 0;
    }
    char *end;
    long p = strtol(arg, &end, 10);
    if (!*arg || *end || p < 0 || (n > 0 && p >= n) || p > INT32_MAX || pk)
        return -1;
    *out = (int32_t)p;
    return 0;
}

enum MHD_Result http_state(const struct rill_engine *e, struct MHD_Connection *c,
                           const char *path)
{
    char store[STATE_NAME_MAX + 1], key[STATE_KEY_MAX];
    struct ask a = { .store = store, .partition = -1 };
    const char *slash = strchr(path, '/');
    long sl = unescape(path, slash ? (size_t)(slash - path) : strlen(path), store,
                       sizeof store - 1);
    store[sl > 0 ? sl : 0] = '\0';
    if (sl < 0)
        return fail(c, &a, MHD_HTTP_BAD_REQUEST, "", "malformed or too long store name");
    if (!slash || !slash[1] || !sl)
        return fail(c, &a, MHD_HTTP_BAD_REQUEST, "", "want /state/STORE/KEY");
    long kl = unescape(slash + 1, strlen(slash + 1), key, sizeof key);
    if (kl == -2)
        return fail(c, &a, MHD_HTTP_URI_TOO_LONG, "", "key longer than %d bytes", STATE_KEY_MAX);
    if (kl < 0)
        return fail(c, &a, MHD_HTTP_BAD_REQUEST, "", "malformed percent-escape in the key");
    a.key = key;
    a.klen = (size_t)kl;
    size_t p = owner_of(e->t, store, (size_t)sl);
    if (p == e->t->nprocs || memchr(store, '\0', (size_t)sl))
        return fail(c, &a, MHD_HTTP_NOT_FOUND, "", "unknown store '%s': no processor is granted it",
                    store);
    const struct rill_proc_conf *pc = &e->t->procs[p];
    const struct view_topic *in = pc->inputs.n ? view_topic_find(e, pc->inputs.v[0]) : NULL;
    int rc = partition_of(c, &a, in ? in->partitions : -1, &a.partition);
    if (rc == -1)
        return fail(c, &a, MHD_HTTP_BAD_REQUEST, "",
                    "want ?partition=N with N in [0, %d), or ?partition_key=K",
                    in ? (int)in->partitions : 0);
    if (rc == -2)
        return fail(c, &a, MHD_HTTP_SERVICE_UNAVAILABLE, "",
                    "the partition count of '%s' is not known", pc->inputs.v[0]);
    size_t per = (size_t)e->t->num_stream_threads;
    for (size_t i = 0; i < per; i++) {
        struct sthread *st = &e->threads[p * per + i];
        struct view_task vt;
        if (!view_find(&st->view, a.partition, &vt))
            continue;
        if (vt.restoring)
            return fail(c, &a, MHD_HTTP_SERVICE_UNAVAILABLE, ",\"owned\":true",
                        "the task %s-%d is restoring", pc->name, (int)a.partition);
        struct lookup l = { .store = store, .key = key, .klen = a.klen,
                            .partition = a.partition };
        if (lookup_ask(&st->box, &l, LOOKUP_TIMEOUT_MS) != RILL_OK)
            return fail(c, &a, MHD_HTTP_SERVICE_UNAVAILABLE, ",\"owned\":true",
                        "processor '%s' thread %d did not answer within %d ms", pc->name,
                        st->idx, LOOKUP_TIMEOUT_MS);
        enum MHD_Result ret;
        if (l.status == LOOKUP_FOUND && l.vlen > STATE_VALUE_MAX)
            ret = fail(c, &a, MHD_HTTP_INTERNAL_SERVER_ERROR, ",\"owned\":true,\"found\":true",
                       "the value has %zu bytes, more than the %u shown", l.vlen,
                       STATE_VALUE_MAX);
        else if (l.status == LOOKUP_FOUND)
            ret = found(c, &a, l.value, l.vlen);
        else if (l.status == LOOKUP_ABSENT)
            ret = fail(c, &a, MHD_HTTP_NOT_FOUND, ",\"owned\":true,\"found\":false",
                       "no such key in store '%s'", store);
        else if (l.status == LOOKUP_FAILED)
            ret = fail(c, &a, MHD_HTTP_INTERNAL_SERVER_ERROR, ",\"owned\":true",
                       "store '%s': %s", store, rill_err2str(l.err));
        else
            ret = not_owned(c, &a);
        free(l.value);
        return ret;
    }
    return not_owned(c, &a);
}
