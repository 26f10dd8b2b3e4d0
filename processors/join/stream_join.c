/*
 * stream_join.c - the `stream_join` processor: a windowed stream-stream
 * join by key, as Kafka Streams' KStream-KStream join. Its first input is
 * the left side, its second the right. A record of one side joins every
 * record of the other side with the same key whose event time is at most
 * `window.ms` away (|t_left - t_right| <= window.ms): each such pair is
 * forwarded once, when its second record arrives, with the value the
 * projection builds (project.h; sides `left` and `right`; without
 * `project:`, {"left": ..., "right": ...}).
 *
 * `join: inner` (default) forwards pairs only. `left` also forwards every
 * left record that found no partner, with right null, once its window has
 * closed; `outer` does so for unmatched records of both sides. A window
 * closes when stream time (the largest event time the task has seen, kept
 * in the store) passes the record's time + window.ms + `grace.ms`; the
 * record is then deleted, so the store holds only records that can still
 * join. A record whose time is more than grace.ms behind stream time is late
 * (its partners may be gone): it goes to the DLQ with class `late`.
 *
 * Event time is the record timestamp, or a field of epoch milliseconds
 * (`time:` a JSON path or header:NAME). Values are JSON, or Avro of a schema
 * the process knows, read as JSON (rill_record_json(); a value that is
 * neither goes to the DLQ, class decode); records without a value join
 * nothing. The output is JSON, or Avro by `avro.schema` (project.h); with
 * Avro, a left or outer join refuses at arrival a record whose unmatched
 * result would not fit the schema, since that result is written later, in
 * another record's call. Both
 * inputs must be co-partitioned and keyed alike.
 *
 * Store (keys compare as bytes; BE is big-endian, so byte order is time
 * order; times are 0..2^62):
 *   "m"                                      -> stream time (int64)
 *   "r" side BE16(klen) key BE64(t) BE64(off) -> matched (1 byte), value
 *   "x" BE64(t) side BE16(klen) key BE64(off) -> "x" (the close-order index)
 * off is the record's input offset, so a replayed record overwrites itself.
 */
#include "processors/group.h"
#include "processors/join/project.h"
#include "processors/processor.h"
#include "state/store.h"
#include "topology/base/bytes.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SJ_TIME_MAX 4611686018427387903LL /* 2^62 - 1 */
#define SJ_KEY_MAX 1024                    /* longest key that can wait in the store */
#define SJ_EXPIRE_BATCH 512

struct sj_conf {
    int64_t window_ms, grace_ms;
    char *join, *time, *project;
    char *avro_schema;
    int64_t avro_id;
};

static const struct rill_conf_def sj_conf_def[] = {
    { "window.ms", RILL_CONF_INT, "0", offsetof(struct sj_conf, window_ms),
      "records of the two sides join when their event times are at most this far apart "
      "(required, > 0)", "0",
      "4611686018427387903" },
    { "grace.ms", RILL_CONF_INT, "0", offsetof(struct sj_conf, grace_ms),
      "how far behind stream time a record may come and still join", "0",
      "4611686018427387903" },
    { "join", RILL_CONF_STR, "inner", offsetof(struct sj_conf, join),
      "inner, left (also unmatched left records, right null) or outer (unmatched of both)",
      NULL, NULL },
    { "time", RILL_CONF_STR, "timestamp", offsetof(struct sj_conf, time),
      "event time: `timestamp` (the record's) or a field of epoch ms (JSON path, header:NAME)",
      NULL, NULL },
    { "project", RILL_CONF_STR, "", offsetof(struct sj_conf, project),
      "output fields NAME=SIDE[.PATH], comma-separated, SIDE left, right or key (empty: "
      "{\"left\":..., \"right\":...})", NULL, NULL },
    RILL_PROJ_AVRO_ROWS(struct sj_conf, avro_schema, avro_id),
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

enum { J_INNER, J_LEFT, J_OUTER };

struct partner {
    size_t key, klen, value, vlen; /* offsets into the arena */
};

struct sj {
    const struct sj_conf *c;
    rill_store_t *store;
    int join;
    struct rill_proj proj;
    struct rill_proj_out out;
    /* one call's copies of store entries (keys and values), reused */
    char *arena;
    size_t alen, acap;
    struct partner *pv;
    size_t np, pcap;
};

static int join_of(const char *s)
{
    return !strcmp(s, "inner") ? J_INNER : !strcmp(s, "left") ? J_LEFT
                                         : !strcmp(s, "outer") ? J_OUTER : -1;
}

static rill_err_t sj_check(const void *conf, const char **key, char *errstr, size_t errsz)
{
    const struct sj_conf *c = conf;
    *key = NULL;
    if (join_of(c->join) < 0) {
        *key = "join";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "unknown join '%s' (expected inner, "
                         "left or outer)", c->join);
    }
    if (c->window_ms <= 0) {
        *key = "window.ms";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "a stream_join needs window.ms > 0");
    }
    struct rill_proj *p = calloc(1, sizeof *p);
    char why[512];
    int bad = !p || rill_proj_parse(p, c->project, "left", "right", why, sizeof why);
    free(p);
    if (bad) {
        *key = "project";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s",
                         p ? why : "out of memory");
    }
    return rill_proj_out_init(NULL, c->avro_schema, c->avro_id, key, errstr, errsz);
}

static void sj_close(void *state)
{
    struct sj *j = state;
    rill_proj_free(&j->proj);
    rill_proj_out_free(&j->out);
    free(j->arena);
    free(j->pv);
    free(j);
}

static rill_err_t sj_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct sj_conf *c = rill_ctx_conf(ctx);
    const char *key;
    rill_err_t err = sj_check(c, &key, errstr, errsz);
    if (err)
        return err;
    if (rill_ctx_input_count(ctx) != 2 ||
        !strcmp(rill_ctx_input_name(ctx, 0), rill_ctx_input_name(ctx, 1)))
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "processor '%s' (stream_join) needs two "
                         "inputs: the left side, then the right", rill_ctx_name(ctx));
    rill_store_t *store;
    if ((err = rill_group_init(ctx, (void **)&store, errstr, errsz)) != RILL_OK)
        return err;
    struct sj *j = calloc(1, sizeof *j);
    if (!j)
        return RILL_ERR_NOMEM;
    j->c = c;
    j->store = store;
    j->join = join_of(c->join);
    char why[512];
    if (rill_proj_parse(&j->proj, c->project, "left", "right", why, sizeof why)) {
        sj_close(j);
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s", why);
    }
    if ((err = rill_proj_out_init(&j->out, c->avro_schema, c->avro_id, &key, errstr, errsz))) {
        sj_close(j);
        return err;
    }
    *state = j;
    return RILL_OK;
}

/* "r" side BE16(klen) key: the prefix of a side's records of one key. */
static size_t rec_prefix(unsigned char *b, int side, const void *key, size_t klen)
{
    b[0] = 'r';
    b[1] = (unsigned char)side;
    b[2] = (unsigned char)(klen >> 8);
    b[3] = (unsigned char)klen;
    memcpy(b + 4, key, klen);
    return 4 + klen;
}

/* The index key of a record key ("r" side BE16 key BE64(t) BE64(off)). */
static size_t index_of(unsigned char *x, const unsigned char *r, size_t rlen)
{
    x[0] = 'x';
    memcpy(x + 1, r + rlen - 16, 8);   /* t */
    memcpy(x + 9, r + 1, rlen - 17);   /* side BE16 key */
    memcpy(x + rlen - 8, r + rlen - 8, 8); /* off */
    return rlen;
}

/* ...and back. */
static size_t record_of(unsigned char *r, const unsigned char *x, size_t xlen)
{
    r[0] = 'r';
    memcpy(r + 1, x + 9, xlen - 17);
    memcpy(r + xlen - 16, x + 1, 8);
    memcpy(r + xlen - 8, x + xlen - 8, 8);
    return xlen;
}

static int keep(struct sj *j, const void *p, size_t n, size_t *at)
{
    if (j->alen + n > j->acap) {
        size_t cap = j->acap ? j->acap : 4096;
        while (cap < j->alen + n)
            cap *= 2;
        char *a = realloc(j->arena, cap);
        if (!a)
            return -1;
        j->arena = a;
        j->acap = cap;
    }
    memcpy(j->arena + j->alen, p, n);
    *at = j->alen;
    j->alen += n;
    return 0;
}

static int add_partner(struct sj *j, const void *k, size_t klen, const void *v, size_t vlen)
{
    if (j->np == j->pcap) {
        size_t cap = j->pcap ? j->pcap * 2 : 16;
        struct partner *pv = realloc(j->pv, cap * sizeof *pv);
        if (!pv)
            return -1;
        j->pv = pv;
        j->pcap = cap;
    }
    struct partner *p = &j->pv[j->np];
    if (keep(j, k, klen, &p->key) || keep(j, v, vlen, &p->value))
        return -1;
    p->klen = klen;
    p->vlen = vlen;
    j->np++;
    return 0;
}

/* Forwards the pair (or a half, the other NULL) built by the projection. */
static rill_proc_result_t emit(rill_ctx_t *ctx, struct sj *j, const void *key, size_t klen,
                               const char *lv, size_t llen, const char *rv, size_t rlen)
{
    rill_json_val_t l, r;
    if ((lv && rill_json_parse(lv, llen, &l, NULL) != RILL_JSON_FOUND) ||
        (rv && rill_json_parse(rv, rlen, &r, NULL) != RILL_JSON_FOUND) ||
        rill_proj_build(&j->proj, lv ? &l : NULL, rv ? &r : NULL, key, klen))
        return RILL_PROC_RETRY;
    const void *v;
    size_t vlen;
    rill_proc_result_t res = rill_proj_out_value(ctx, &j->out, j->proj.out, j->proj.len, &v, &vlen);
    if (res != RILL_PROC_OK)
        return res;
    return rill_ctx_forward(ctx, NULL, key, klen, v, vlen, NULL, 0) == RILL_OK ? RILL_PROC_OK
                                                                              : RILL_PROC_RETRY;
}

/* Closes every record whose window ended before st: forwards the unmatched
 * ones the join type wants, deletes them with their index entries. */
static rill_proc_result_t expire(rill_ctx_t *ctx, struct sj *j, int64_t st)
{
    int64_t before = st - j->c->window_ms - j->c->grace_ms;
    for (;;) {
        if (before <= 0)
            return RILL_PROC_OK;
        unsigned char lo[1] = { 'x' }, hi[9] = { 'x' };
        rill_put_be64(hi + 1, before);
        rill_store_iter_t *it = rill_store_range(j->store, lo, 1, hi, 9);
        if (!it)
            return RILL_PROC_RETRY;
        j->alen = j->np = 0;
        const void *k, *v;
        size_t klen, vlen;
        int bad = 0;
        while (!bad && j->np < SJ_EXPIRE_BATCH && rill_store_iter_next(it, &k, &klen, &v, &vlen))
            bad = klen < 20 || add_partner(j, k, klen, "", 0);
        rill_store_iter_free(it);
        if (bad)
            return RILL_PROC_RETRY;
        if (!j->np)
            return RILL_PROC_OK;
        size_t n = j->np;
        for (size_t i = 0; i < n; i++) {
            const unsigned char *x = (const unsigned char *)j->arena + j->pv[i].key;
            size_t xlen = j->pv[i].klen;
            unsigned char r[4 + SJ_KEY_MAX + 16];
            if (xlen > sizeof r)
                return RILL_PROC_RETRY;
            record_of(r, x, xlen);
            int side = r[1];
            void *val;
            size_t len;
            rill_err_t err = rill_store_get(j->store, r, xlen, &val, &len);
            if (err != RILL_OK && err != RILL_ERR_NOTFOUND)
                return RILL_PROC_RETRY;
            rill_proc_result_t res = RILL_PROC_OK;
            int wanted = j->join == J_OUTER || (j->join == J_LEFT && side == 0);
            if (err == RILL_OK && len >= 1 && !((unsigned char *)val)[0] && wanted) {
                size_t kl = (size_t)r[2] << 8 | r[3];
                res = side == 0 ? emit(ctx, j, r + 4, kl, (char *)val + 1, len - 1, NULL, 0)
                                : emit(ctx, j, r + 4, kl, NULL, 0, (char *)val + 1, len - 1);
            }
            if (err == RILL_OK)
                free(val);
            if (res == RILL_PROC_REJECT) {
                /* stored before the schema it must fit (arrivals are checked):
                 * the record in hand is not to blame, nor to be stalled */
                rill_ctx_log(ctx, RILL_CTX_LOG_WARN, "unmatched join result dropped: it does "
                             "not fit avro.schema|side=%s", side == 0 ? "left" : "right");
                res = RILL_PROC_OK;
            }
            if (res != RILL_PROC_OK)
                return res;
            if ((err == RILL_OK && rill_store_delete(j->store, r, xlen) != RILL_OK) ||
                rill_store_delete(j->store, x, xlen) != RILL_OK)
                return RILL_PROC_RETRY;
        }
    }
}

/* The record's event time, or a reject. */
static int event_time(rill_ctx_t *ctx, const struct sj *j, const rill_record_t *rec, int64_t *ts)
{
    if (!strcmp(j->c->time, "timestamp")) {
        *ts = rec->timestamp;
    } else {
        char buf[64], *end;
        rill_err_t err = rill_record_field(rec, j->c->time, buf, sizeof buf);
        if (err != RILL_OK) {
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot read event time '%s': %s",
                               j->c->time, err == RILL_ERR_NOTFOUND ? "no such field"
                                                                    : rill_err2str(err));
            return -1;
        }
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno || end == buf || *end) {
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot read event time '%s': '%s' is "
                               "not an integer of epoch milliseconds", j->c->time, buf);
            return -1;
        }
        *ts = v;
    }
    if (*ts < 0 || *ts > SJ_TIME_MAX) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "event time %" PRId64 " is outside "
                           "0..2^62 ms", *ts);
        return -1;
    }
    return 0;
}

static rill_proc_result_t sj_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct sj *j = state;
    if (!rec->value)
        return RILL_PROC_OK;
    int side = rec->topic && !strcmp(rec->topic, rill_ctx_input_name(ctx, 0)) ? 0 : 1;
    const void *key = rec->key ? rec->key : "";
    if (rec->key_len > SJ_KEY_MAX) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "key of %zu bytes (at most %d can join)",
                           rec->key_len, SJ_KEY_MAX);
        return RILL_PROC_REJECT;
    }
    /* the value as JSON (an Avro value decoded): kept and joined as JSON */
    const char *jv;
    size_t jlen;
    rill_json_val_t root;
    if (rill_record_json(rec, &jv, &jlen) != RILL_OK ||
        rill_json_parse(jv, jlen, &root, NULL) != RILL_JSON_FOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "the value is neither JSON nor Avro of a "
                           "known schema");
        return RILL_PROC_REJECT;
    }
    int64_t ts, st = -1;
    if (event_time(ctx, j, rec, &ts) < 0)
        return RILL_PROC_REJECT;
    rill_err_t err = rill_store_get_i64(j->store, "m", 1, &st);
    if (err != RILL_OK && err != RILL_ERR_NOTFOUND)
        return RILL_PROC_RETRY;
    if (err == RILL_OK && ts < st - j->c->grace_ms) {
        rill_ctx_reject_as(ctx, RILL_REJECT_LATE, "late record: event time %" PRId64 " is more "
                           "than the grace of %" PRId64 " ms behind stream time %" PRId64, ts,
                           j->c->grace_ms, st);
        return RILL_PROC_REJECT;
    }
    /* the other side's records of this key within the window */
    unsigned char lo[4 + SJ_KEY_MAX + 8], hi[4 + SJ_KEY_MAX + 8];
    size_t pl = rec_prefix(lo, !side, key, rec->key_len);
    memcpy(hi, lo, pl);
    rill_put_be64(lo + pl, ts - j->c->window_ms < 0 ? 0 : ts - j->c->window_ms);
    rill_put_be64(hi + pl, ts + j->c->window_ms + 1);
    rill_store_iter_t *it = rill_store_range(j->store, lo, pl + 8, hi, pl + 8);
    if (!it)
        return RILL_PROC_RETRY;
    j->alen = j->np = 0;
    const void *k, *v;
    size_t klen, vlen;
    int bad = 0;
    while (!bad && rill_store_iter_next(it, &k, &klen, &v, &vlen))
        bad = vlen < 1 || klen != pl + 16 || add_partner(j, k, klen, v, vlen);
    rill_store_iter_free(it);
    if (bad)
        return RILL_PROC_RETRY;
    rill_proc_result_t res = RILL_PROC_OK;
    for (size_t i = 0; i < j->np && res == RILL_PROC_OK; i++) {
        const struct partner *p = &j->pv[i];
        const char *pv = j->arena + p->value + 1;
        size_t plen = p->vlen - 1;
        res = side == 0 ? emit(ctx, j, key, rec->key_len, jv, jlen, pv, plen)
                        : emit(ctx, j, key, rec->key_len, pv, plen, jv, jlen);
        /* the partner has met someone: it will not be forwarded alone */
        if (res == RILL_PROC_OK && !j->arena[p->value] && j->join != J_INNER) {
            j->arena[p->value] = 1;
            if (rill_store_put(j->store, j->arena + p->key, p->klen, j->arena + p->value,
                               p->vlen) != RILL_OK)
                res = RILL_PROC_RETRY;
        }
    }
    if (res != RILL_PROC_OK)
        return res;
    /* Unmatched, its result may be written when its window closes, in the
     * call of another record: with Avro output, it must fit now, or that
     * record would be rejected for it. */
    if (j->out.w && !j->np && (j->join == J_OUTER || (j->join == J_LEFT && side == 0))) {
        const void *av;
        size_t alen;
        if (rill_proj_build(&j->proj, side == 0 ? &root : NULL, side == 1 ? &root : NULL, key,
                            rec->key_len))
            return RILL_PROC_RETRY;
        if ((res = rill_proj_out_value(ctx, &j->out, j->proj.out, j->proj.len, &av, &alen)) !=
            RILL_PROC_OK)
            return res;
    }
    /* this record waits for partners to come, while its window is open */
    unsigned char r[4 + SJ_KEY_MAX + 16], x[4 + SJ_KEY_MAX + 16];
    size_t rl = rec_prefix(r, side, key, rec->key_len);
    rill_put_be64(r + rl, ts);
    rill_put_be64(r + rl + 8, rec->offset);
    rl += 16;
    char *val = malloc(jlen + 1);
    if (!val)
        return RILL_PROC_RETRY;
    val[0] = j->np > 0;
    memcpy(val + 1, jv, jlen);
    err = rill_store_put(j->store, r, rl, val, jlen + 1);
    free(val);
    if (err != RILL_OK || rill_store_put(j->store, x, index_of(x, r, rl), "x", 1) != RILL_OK)
        return RILL_PROC_RETRY;
    if (ts > st) {
        if (rill_store_put_i64(j->store, "m", 1, ts) != RILL_OK)
            return RILL_PROC_RETRY;
        return expire(ctx, j, ts);
    }
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_stream_join = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "stream_join",
    .doc = "joins two streams by key within a time window (inner, left or outer)",
    .conf = sj_conf_def,
    .conf_size = sizeof(struct sj_conf),
    .init = sj_init,
    .process = sj_process,
    .close = sj_close,
    .check = sj_check,
};
