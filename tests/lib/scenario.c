/*
 * scenario.c - the shared frame of the end-to-end runtime tests (scenario.h).
 */
#include "tests/lib/scenario.h"
#include "tests/lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int it_scenario_init(struct it_scenario *s, const char *name, long total, long rate,
                     int bad_every, const char *processor, const char *guarantee,
                     int commit_ms, const char *extra_kafka)
{
    memset(s, 0, sizeof *s);
    s->total = total;
    s->rate = rate < 100 ? 100 : rate;
    s->bad_every = bad_every;
    snprintf(s->app, sizeof s->app, "%s", it_topic(name));
    snprintf(s->in, sizeof s->in, "%s.in", s->app);
    snprintf(s->out, sizeof s->out, "%s.out", s->app);
    snprintf(s->dlq, sizeof s->dlq, "%s.in.dlq", s->app);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (!it_tmpdir(s->dir, sizeof s->dir, "it") || it_create_topic(s->in, IT_PARTITIONS) ||
        it_create_topic(s->out, IT_PARTITIONS) || it_create_topic(s->dlq, IT_PARTITIONS))
        return -1;
    for (int i = 0; i < 4; i++) {
        char path[256], body[2048];
        it_scenario_yaml(s, i, path, sizeof path);
        snprintf(body, sizeof body,
                 "%s"
                 "application.id: %s\n"
                 "processing.guarantee: %s\n"
                 "commit.interval.ms: %d\n"
                 "state.dir: %s/state-%d\n"
                 "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n"
                 "processors:\n  p: {type: %s, inputs: [%s], outputs: [%s]}\n",
                 extra_kafka, s->app, guarantee, commit_ms, s->dir, i, s->in, IT_PARTITIONS,
                 s->out, IT_PARTITIONS, s->dlq, IT_PARTITIONS, processor, s->in, s->out);
        if (it_write_yaml(path, body))
            return -1;
    }
    return 0;
}

int it_scenario_topology(struct it_scenario *s, const char *name, int commit_ms,
                         const char *const *declared, const char *const *internal,
                         const char *processors, char *yaml, size_t ysz, char *log, size_t lsz)
{
    char body[4096];
    size_t n = (size_t)snprintf(body, sizeof body,
                                "application.id: %s\n"
                                "processing.guarantee: exactly_once_v2\n"
                                "commit.interval.ms: %d\n"
                                "state.dir: %s/state\n"
                                "topics:\n  %s: {partitions: %d}\n  %s: {partitions: %d}\n",
                                s->app, commit_ms, s->dir, s->in, IT_PARTITIONS, s->out,
                                IT_PARTITIONS);
    for (size_t i = 0; declared && declared[i] && n < sizeof body; i++) {
        if (it_create_topic(declared[i], IT_PARTITIONS))
            return -1;
        n += (size_t)snprintf(body + n, sizeof body - n, "  %s: {partitions: %d}\n", declared[i],
                              IT_PARTITIONS);
    }
    for (size_t i = 0; internal && internal[i]; i++)
        if (it_create_topic(internal[i], IT_PARTITIONS))
            return -1;
    if (n < sizeof body)
        n += (size_t)snprintf(body + n, sizeof body - n, "processors:\n%s", processors);
    if (n >= sizeof body)
        return -1;
    snprintf(yaml, ysz, "%s/%s.yaml", s->dir, name);
    snprintf(log, lsz, "%s/%s.log", s->dir, name);
    return it_write_yaml(yaml, body);
}

const char *it_scenario_yaml(struct it_scenario *s, int i, char *buf, size_t sz)
{
    snprintf(buf, sz, "%s/instance-%d.yaml", s->dir, i);
    return buf;
}

const char *it_scenario_log(struct it_scenario *s, char *buf, size_t sz)
{
    snprintf(buf, sz, "%s/rill.log", s->dir);
    return buf;
}

static void announce(struct it_scenario *s, long n, int failed)
{
    pthread_mutex_lock(&s->mu);
    s->produced = n;
    s->feed_failed |= failed;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Numbered records, keys over 1000 keys, Java-compatible partitioning,
 * paced to s->rate. */
static void *feed(void *arg)
{
    struct it_scenario *s = arg;
    char err[256];
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "partitioner", "murmur2_random");
    it_kconf_set(c, "enable.idempotence", "true");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) {
        announce(s, 0, 1);
        return NULL;
    }
    int64_t start = it_now_ms();
    for (long i = 0; i < s->total; i++) {
        char k[32], v[64];
        int kl = snprintf(k, sizeof k, "k%ld", i % 1000);
        int bad = s->bad_every && i % s->bad_every == s->bad_every - 1;
        int vl = bad ? snprintf(v, sizeof v, "not-json-%08ld", i)
                     : snprintf(v, sizeof v, "{\"seq\":%ld}", i);
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(s->in), RD_KAFKA_V_KEY(k, (size_t)kl),
                                 RD_KAFKA_V_VALUE(v, (size_t)vl),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (i % 50 == 49) {
            /* Pace by serving delivery reports until this slot is due. */
            int64_t due = start + (i + 1) * 1000 / s->rate;
            while (it_now_ms() < due)
                rd_kafka_poll(rk, (int)(due - it_now_ms()));
            announce(s, i + 1, 0);
        }
    }
    int failed = rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_destroy(rk);
    announce(s, s->total, failed);
    return NULL;
}

void it_scenario_feed_start(struct it_scenario *s)
{
    if (pthread_create(&s->feeder, NULL, feed, s))
        announce(s, 0, 1);
}

int it_scenario_feed_join(struct it_scenario *s)
{
    pthread_join(s->feeder, NULL);
    return s->feed_failed ? -1 : 0;
}

void it_scenario_wait_produced(struct it_scenario *s, long n)
{
    pthread_mutex_lock(&s->mu);
    while (s->produced < n && s->produced < s->total && !s->feed_failed)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

long it_scenario_produced(struct it_scenario *s)
{
    pthread_mutex_lock(&s->mu);
    long n = s->produced;
    pthread_mutex_unlock(&s->mu);
    return n;
}

long it_scenario_wait_output(struct it_scenario *s, long more_than, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    long n;
    while ((n = it_count_committed(s->out, 30000)) <= more_than && it_now_ms() < deadline)
        ;
    return n;
}

static int cmp_rec(const void *a, const void *b)
{
    const struct it_rec *x = a, *y = b;
    if (x->partition != y->partition)
        return x->partition < y->partition ? -1 : 1;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int is_bad(const struct it_rec *r)
{
    return !strncmp(r->value, "not-json-", 9);
}

/* Exactly-once: the expected records (input records that are bad or not,
 * as want_bad says) and got, both sorted by partition then offset, must be
 * the same sequence. */
static long exact(const struct it_rec *in, long nin, int want_bad, const struct it_rec *got,
                  long ngot)
{
    long bad = 0, j = 0;
    for (long i = 0; i < nin; i++) {
        if (is_bad(&in[i]) != want_bad)
            continue;
        if (j < ngot && got[j].partition == in[i].partition && !strcmp(got[j].value, in[i].value) &&
            !strcmp(got[j].key, in[i].key))
            j++;
        else
            bad++;
    }
    return bad + (ngot - j);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* At-least-once: every expected value is in got; *dups gets how many of
 * got's records repeat an earlier one. Values are unique per input record. */
static long atleast(const struct it_rec *in, long nin, int want_bad, const struct it_rec *got,
                    long ngot, long *dups)
{
    char **v = malloc((size_t)(ngot ? ngot : 1) * sizeof *v);
    for (long j = 0; j < ngot; j++)
        v[j] = got[j].value;
    qsort(v, (size_t)ngot, sizeof *v, cmp_str);
    long d = 0, bad = 0, expected = 0;
    for (long j = 1; j < ngot; j++)
        d += !strcmp(v[j], v[j - 1]);
    for (long i = 0; i < nin; i++) {
        if (is_bad(&in[i]) != want_bad)
            continue;
        expected++;
        char *key = in[i].value;
        if (!bsearch(&key, v, (size_t)ngot, sizeof *v, cmp_str))
            bad++;
    }
    free(v);
    *dups += d;
    return bad + (ngot - d - expected > 0 ? ngot - d - expected : 0);
}

long it_scenario_verify(struct it_scenario *s, int allow_dups, long *dups)
{
    struct it_rec *in = NULL, *out = NULL, *dlq = NULL;
    long nin = it_read_topic(s->in, 1, 60000, &in);
    long nout = it_read_topic(s->out, 1, 60000, &out);
    long ndlq = s->bad_every ? it_read_topic(s->dlq, 1, 60000, &dlq) : 0;
    if (nin != s->total || nout < 0 || ndlq < 0) {
        fprintf(stderr, "\n    verify: read %ld input (want %ld), %ld output, %ld dlq\n", nin,
                s->total, nout, ndlq);
        return 1 + labs(nin - s->total);
    }
    qsort(in, (size_t)nin, sizeof *in, cmp_rec);
    qsort(out, (size_t)nout, sizeof *out, cmp_rec);
    long d = 0;
    long bad = allow_dups ? atleast(in, nin, 0, out, nout, &d) : exact(in, nin, 0, out, nout);
    if (s->bad_every) {
        qsort(dlq, (size_t)ndlq, sizeof *dlq, cmp_rec);
        bad += allow_dups ? atleast(in, nin, 1, dlq, ndlq, &d) : exact(in, nin, 1, dlq, ndlq);
        it_recs_free(dlq, ndlq);
    }
    if (dups)
        *dups = d;
    it_recs_free(in, nin);
    it_recs_free(out, nout);
    return bad;
}

long it_scenario_aborted(struct it_scenario *s)
{
    struct it_rec *r = NULL;
    long all = it_read_topic(s->out, 0, 60000, &r);
    if (all > 0)
        it_recs_free(r, all);
    long committed = it_count_committed(s->out, 60000);
    return all - committed;
}

int it_scenario_markers_readable(struct it_scenario *s)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL),
                                  err, sizeof err);
    if (!rk)
        return 0;
    for (int p = 0; p < IT_PARTITIONS; p++)
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(s->out), RD_KAFKA_V_PARTITION(p),
                          RD_KAFKA_V_KEY("marker", 6), RD_KAFKA_V_VALUE("marker", 6),
                          RD_KAFKA_V_END);
    int ok = rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_destroy(rk);
    struct it_rec *r = NULL;
    long n = it_read_topic(s->out, 1, 60000, &r);
    int markers = 0;
    for (long i = 0; i < n; i++)
        markers += !strcmp(r[i].value, "marker");
    if (n > 0)
        it_recs_free(r, n);
    return ok && markers == IT_PARTITIONS;
}

void it_scenario_done(struct it_scenario *s, int keep)
{
    if (keep) {
        fprintf(stderr, "    kept %s for inspection\n", s->dir);
    } else {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
        if (system(cmd))
            fprintf(stderr, "    cannot remove %s\n", s->dir);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
}

/* A plain producer as admin, keys placed as Java's client would. */
static rd_kafka_t *admin_producer(void)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "partitioner", "murmur2_random");
    it_kconf_set(c, "linger.ms", "20");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        rd_kafka_conf_destroy(c);
    return rk;
}

int it_produce_value(const char *topic, const char *key, const char *value)
{
    rd_kafka_t *rk = admin_producer();
    if (!rk)
        return -1;
    int rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                               RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                               RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)
                 ? -1 : 0;
    if (rd_kafka_flush(rk, 60000))
        rc = -1;
    rd_kafka_destroy(rk);
    return rc;
}

int it_produce_each(const char *topic, long n,
                    int (*make)(long i, char *key, size_t ksz, char *value, size_t vsz, void *arg),
                    void *arg)
{
    rd_kafka_t *rk = admin_producer();
    if (!rk)
        return -1;
    int bad = 0;
    for (long i = 0; i < n && !bad; i++) {
        char k[64], v[256];
        if (!make(i, k, sizeof k, v, sizeof v, arg))
            continue;
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(k, strlen(k)),
                                      RD_KAFKA_V_VALUE(v, strlen(v)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        bad = e != RD_KAFKA_RESP_ERR_NO_ERROR;
        rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 120000))
        bad = 1;
    rd_kafka_destroy(rk);
    return bad ? -1 : 0;
}

static int padded(long i, char *k, size_t ksz, char *v, size_t vsz, void *arg)
{
    long key_space = *(const long *)arg;
    snprintf(k, ksz, "key-%09ld", key_space ? i % key_space : i);
    snprintf(v, vsz, "{\"seq\":%ld,\"pad\":\"%0120ld\"}", i, i);
    return 1;
}

int it_produce_padded(const char *topic, long n, long key_space)
{
    return it_produce_each(topic, n, padded, &key_space);
}
