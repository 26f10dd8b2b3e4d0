/*
 * inspect_read.c - reading a topic's records for `rill inspect` (inspect.h):
 * where to start (the offset spec: beginning, end, end-N, an offset, a
 * time), the watermarks and timestamps that resolve it, and a simple
 * consumer on one queue over the partitions asked for, each started at its
 * own offset and done at its end (enable.partition.eof; under
 * read_committed the end is the last stable offset) or before `to`. It
 * never joins a group and commits nothing.
 */
#include "topology/admin/inspect_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the offset spec (pure) ---------------------------------------------------------- */

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int num(const char *s, int64_t *out)
{
    if (!all_digits(s) || strlen(s) > 18)
        return -1;
    *out = strtoll(s, NULL, 10);
    return 0;
}

/* 1 when s starts with pat, where 'D' stands for any digit: read one
 * character at a time, so never past the end of s. */
static int match(const char *s, const char *pat)
{
    for (; *pat; s++, pat++)
        if (*pat == 'D' ? !isdigit((unsigned char)*s) : *s != *pat)
            return 0;
    return 1;
}

/* The n digits at s (match() has seen them). */
static int digits_n(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* "YYYY-MM-DD[THH:MM[:SS[.fff]](Z|+HH:MM|+HHMM|-...)]" (a date alone is UTC
 * midnight) into ms since the epoch; -1 when it is not one. */
static int iso_time(const char *s, int64_t *out)
{
    struct tm tm = { 0 };
    if (!match(s, "DDDD-DD-DD"))
        return -1;
    int y = digits_n(s, 4), mo = digits_n(s + 5, 2), d = digits_n(s + 8, 2);
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    const char *p = s + 10;
    int h = 0, mi = 0, sec = 0, ms = 0, off = 0;
    if (*p == 'T' || *p == ' ') {
        if (!match(p + 1, "DD:DD"))
            return -1;
        h = digits_n(p + 1, 2);
        mi = digits_n(p + 4, 2);
        if (h > 23 || mi > 59)
            return -1;
        p += 6;
        if (*p == ':') {
            if (!match(p + 1, "DD") || (sec = digits_n(p + 1, 2)) > 60)
                return -1;
            p += 3;
            if (*p == '.') {
                int k = 0;
                for (p++; isdigit((unsigned char)*p); p++, k++)
                    if (k < 3)
                        ms = ms * 10 + (*p - '0');
                if (!k)
                    return -1;
                for (; k < 3; k++)
                    ms *= 10;
            }
        }
        if (*p == 'Z') {
            p++;
        } else if ((*p == '+' || *p == '-') && (match(p + 1, "DD:DD") || match(p + 1, "DDDD"))) {
            int colon = p[3] == ':';
            int oh = digits_n(p + 1, 2), om = digits_n(p + (colon ? 4 : 3), 2);
            if (oh > 23 || om > 59)
                return -1;
            off = (*p == '-' ? -1 : 1) * (oh * 60 + om);
            p += colon ? 6 : 5;
        } else {
            return -1; /* a time says its zone */
        }
    }
    if (*p)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* timegm normalises 31 February */
        return -1;
    *out = ((int64_t)t - (int64_t)off * 60) * 1000 + ms;
    return 0;
}

rill_err_t rill_offset_spec_parse(const char *s, struct rill_offset_spec *out, char *errstr,
                                  size_t errsz)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "an empty offset");
    if (!strcmp(s, "beginning") || !strcmp(s, "earliest")) {
        out->kind = RILL_FROM_BEGINNING;
        return RILL_OK;
    }
    if (!strcmp(s, "end") || !strcmp(s, "latest")) {
        out->kind = RILL_FROM_END;
        return RILL_OK;
    }
    const char *tail = !strncmp(s, "end-", 4) ? s + 4 : s[0] == '-' ? s + 1 : NULL;
    if (tail) {
        out->kind = RILL_FROM_TAIL;
        if (num(tail, &out->value))
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "'%s': end-N wants a number of records", s);
        return RILL_OK;
    }
    if (all_digits(s)) {
        out->kind = RILL_FROM_OFFSET;
        if (num(s, &out->value))
            return rill_errf(errstr, errsz, RILL_ERR_INVALID, "offset '%s' is too large", s);
        return RILL_OK;
    }
    const char *t = s[0] == '@' ? s + 1 : s;
    out->kind = RILL_FROM_TIME;
    if ((t != s && !num(t, &out->value)) || !iso_time(t, &out->value))
        return RILL_OK;
    return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                     "'%s' is not an offset: beginning, end, end-N, OFFSET, @MS or an ISO 8601 "
                     "time such as 2026-11-22T10:00:00Z",
                     s);
}

int64_t rill_offset_spec_resolve(const struct rill_offset_spec *s, int64_t low, int64_t high,
                                 int64_t ts_offset)
{
    int64_t at;
    switch (s->kind) {
    case RILL_FROM_BEGINNING: return low;
    case RILL_FROM_END: return high;
    case RILL_FROM_TAIL: at = high - s->value; break;
    case RILL_FROM_TIME: at = ts_offset < 0 ? high : ts_offset; break;
    default: at = s->value; break;
    }
    return at < low ? low : at > high ? high : at;
}

/* ---- the reader ------------------------------------------------------------------------ */

struct rpart {
    int32_t id;
    int64_t start, end;       /* where reading started; the end when opened */
    int started, done;
};

struct rill_insp_reader {
    rd_kafka_t *rk;           /* the inspect handle's reading client (borrowed) */
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *q;
    char *topic;
    struct rpart *p;
    int n, ndone;
    int follow;
    int64_t to;
};

static void part_done(rill_insp_reader_t *r, struct rpart *p)
{
    if (p->done)
        return;
    p->done = 1;
    r->ndone++;
    if (p->started)
        rd_kafka_consume_stop(r->rkt, p->id);
    p->started = 0;
}

/* The broker's first offset at or after the spec's time, per partition. */
static rill_err_t time_offsets(rill_insp_reader_t *r, int64_t ms, int64_t *out, char *errstr,
                               size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->n);
    for (int i = 0; i < r->n; i++)
        rd_kafka_topic_partition_list_add(l, r->topic, r->p[i].id)->offset = ms;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(r->rk, l, RILL_INSPECT_TIMEOUT_MS);
    rill_err_t err = RILL_OK;
    if (e)
        err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot find the offsets of '%s' at %lld: %s (%s)",
                        r->topic, (long long)ms, rd_kafka_err2str(e), rd_kafka_err2name(e));
    for (int i = 0; !err && i < l->cnt; i++)
        out[i] = l->elems[i].err ? -1 : l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

static rill_err_t start(rill_insp_reader_t *r, const struct rill_insp_read_opts *o, char *errstr,
                        size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->n);
    for (int i = 0; i < r->n; i++)
        rd_kafka_topic_partition_list_add(l, r->topic, r->p[i].id);
    int64_t *low = calloc((size_t)r->n, sizeof *low), *high = calloc((size_t)r->n, sizeof *high),
            *ts = calloc((size_t)r->n, sizeof *ts);
    int first = 0;
    rill_err_t err = !low || !high || !ts
                         ? rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory")
                         : insp_watermarks(r->rk, l, low, high, &first, errstr, errsz);
    if (!err && first)
        err = rill_errf(errstr, errsz, insp_denied(first) ? RILL_ERR_AUTH : RILL_ERR_KAFKA,
                        "cannot read the offsets of '%s': %s (%s)", r->topic,
                        rd_kafka_err2str(first), rd_kafka_err2name(first));
    if (!err && o->from.kind == RILL_FROM_TIME)
        err = time_offsets(r, o->from.value, ts, errstr, errsz);
    for (int i = 0; !err && i < r->n; i++) {
        struct rpart *p = &r->p[i];
        p->start = rill_offset_spec_resolve(&o->from, low[i], high[i], ts[i]);
        p->end = high[i];
        if ((!r->follow && p->start >= p->end) || (r->to >= 0 && p->start >= r->to)) {
            part_done(r, p);
            continue;
        }
        if (rd_kafka_consume_start_queue(r->rkt, p->id, p->start, r->q) == -1) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot read '%s' [%d]: %s", r->topic,
                            (int)p->id, rd_kafka_err2str(e));
        } else {
            p->started = 1;
        }
    }
    free(low);
    free(high);
    free(ts);
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

rill_err_t rill_insp_reader_open(rill_inspect_t *in, const char *topic,
                                 const struct rill_insp_read_opts *o,
                                 rill_insp_reader_t **out, char *errstr, size_t errsz)
{
    *out = NULL;
    struct rill_insp_topics t;
    rill_err_t err = rill_inspect_topics(in, &topic, 1, 0, &t, errstr, errsz);
    if (err)
        return err;
    const struct rill_insp_topic *ti = &t.v[0];
    if (ti->err) {
        rill_insp_topic_error(ti, errstr, errsz);
        err = ti->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? RILL_ERR_NOTFOUND
              : insp_denied(ti->err)                           ? RILL_ERR_AUTH
                                                               : RILL_ERR_KAFKA;
        rill_insp_topics_free(&t);
        return err;
    }
    rill_insp_reader_t *r = calloc(1, sizeof *r);
    if (!r || !(r->p = calloc((size_t)(ti->nparts ? ti->nparts : 1), sizeof *r->p)) ||
        !(r->topic = strdup(topic))) {
        if (r)
            free(r->p);
        free(r);
        rill_insp_topics_free(&t);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    r->follow = o->follow;
    r->to = o->to;
    for (int i = 0; i < ti->nparts; i++)
        if (o->partition < 0 || ti->parts[i].id == o->partition)
            r->p[r->n++].id = ti->parts[i].id;
    if (o->partition >= 0 && !r->n)
        err = rill_errf(errstr, errsz, RILL_ERR_NOTFOUND, "topic '%s' has no partition %d (it has %d)",
                        topic, (int)o->partition, ti->nparts);
    rill_insp_topics_free(&t);
    if (!err)
        err = insp_reader(in, &r->rk, errstr, errsz);
    if (!err) {
        r->q = rd_kafka_queue_new(r->rk);
        r->rkt = rd_kafka_topic_new(r->rk, topic, NULL);
        if (!r->rkt)
            err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot read '%s': %s", topic,
                            rd_kafka_err2str(rd_kafka_last_error()));
    }
    if (!err)
        err = start(r, o, errstr, errsz);
    if (err) {
        rill_insp_reader_close(r);
        return err;
    }
    *out = r;
    return RILL_OK;
}

static struct rpart *part_of(rill_insp_reader_t *r, int32_t id)
{
    for (int i = 0; i < r->n; i++)
        if (r->p[i].id == id)
            return &r->p[i];
    return NULL;
}

rill_err_t rill_insp_reader_next(rill_insp_reader_t *r, int wait_ms, rd_kafka_message_t **m,
                                 char *errstr, size_t errsz)
{
    *m = NULL;
    int64_t deadline = rill_now_ms() + wait_ms;
    while (!rill_insp_reader_done(r)) {
        int64_t left = deadline - rill_now_ms();
        rd_kafka_message_t *msg = rd_kafka_consume_queue(r->q, (int)(left > 0 ? left : 0));
        if (!msg) {
            if (left <= 0)
                break;
            continue;
        }
        struct rpart *p = part_of(r, msg->partition);
        if (!p || p->done) {
            rd_kafka_message_destroy(msg);
            continue;
        }
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (!r->follow)
                part_done(r, p);
            rd_kafka_message_destroy(msg);
            continue;
        }
        if (msg->err) {
            rill_err_t err =
                rill_errf(errstr, errsz, insp_denied(msg->err) ? RILL_ERR_AUTH : RILL_ERR_KAFKA,
                          "%s topic '%s' [%d]: %s (%s)",
                          insp_denied(msg->err) ? "not allowed to read" : "cannot read", r->topic,
                          (int)p->id, rd_kafka_message_errstr(msg), rd_kafka_err2name(msg->err));
            rd_kafka_message_destroy(msg);
            return err;
        }
        if (r->to >= 0 && msg->offset >= r->to) {
            part_done(r, p);
            rd_kafka_message_destroy(msg);
            continue;
        }
        *m = msg;
        return RILL_OK;
    }
    return RILL_OK;
}

int rill_insp_reader_done(const rill_insp_reader_t *r)
{
    return r->ndone >= r->n;
}

int rill_insp_reader_partitions(const rill_insp_reader_t *r)
{
    return r->n;
}

void rill_insp_reader_range(const rill_insp_reader_t *r, int i, int32_t *partition,
                            int64_t *start_at, int64_t *end)
{
    *partition = r->p[i].id;
    *start_at = r->p[i].start;
    *end = r->p[i].end;
}

void rill_insp_reader_close(rill_insp_reader_t *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++)
        if (r->p[i].started)
            rd_kafka_consume_stop(r->rkt, r->p[i].id);
    if (r->rkt)
        rd_kafka_topic_destroy(r->rkt);
    if (r->q)
        rd_kafka_queue_destroy(r->q);
    free(r->p);
    free(r->topic);
    free(r);
}
