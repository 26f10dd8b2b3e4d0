/*
 * metrics.c - what /metrics says (http.c serves it): the threads' counters
 * (engine_int.h: relaxed atomics the record path writes without a lock),
 * the latency histograms, the lags and store sizes each thread samples
 * every LAG_INTERVAL_MS, the restore progress, and the librdkafka
 * statistics of each client (parsed from its stats callback). Rendered in
 * Prometheus text format 0.0.4: base units (seconds, bytes), `_total`
 * counters, histograms with one set of bucket bounds so that instances
 * aggregate, and labels whose values come from the topology (processor,
 * sink, group, topic, store, partition, thread) or from small fixed sets
 * (result, reason, client, state, broker id), never from the data. Not the
 * HTTP server and not /healthz or /readyz.
 */
#include "topology/engine/engine_int.h"
#include "topology/engine/sink_int.h"

#include "topology/base/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- clocks and histograms --------------------------------------------------- */

int64_t metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t metrics_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 10 us to 60 s: processing takes microseconds, commits and end-to-end
 * latency milliseconds to seconds. */
const int64_t hist_bounds_us[HIST_BUCKETS] = {
    10,      50,      100,     250,     500,      1000,     2500,     5000,     10000,    25000,
    50000,   100000,  250000,  500000,  1000000,  2500000,  5000000,  10000000, 30000000, 60000000,
};

void hist_observe_us(struct histogram *h, int64_t us)
{
    if (us < 0)
        us = 0;
    size_t i = 0;
    while (i < HIST_BUCKETS && us > hist_bounds_us[i])
        i++;
    METRIC_ADD(h->bucket[i], 1);
    METRIC_ADD(h->sum_us, (uint64_t)us);
}

/* ---- a thread's metrics --------------------------------------------------------- */

rill_err_t metrics_init(struct thread_metrics *m, size_t ninputs, size_t noutputs)
{
    m->lag.ready = pthread_mutex_init(&m->lag.lock, NULL) == 0;
    if (!m->lag.ready)
        return RILL_ERR_NOMEM;
    if (pthread_mutex_init(&m->kstats.lock, NULL)) {
        pthread_mutex_destroy(&m->lag.lock);
        m->lag.ready = 0;
        return RILL_ERR_NOMEM;
    }
    METRIC_SET(m->restore.partition, -1);
    m->restore.at.beat = &m->heartbeat;
    m->ninputs = ninputs;
    m->noutputs = noutputs;
    m->in_by_input = ninputs ? calloc(ninputs, sizeof *m->in_by_input) : NULL;
    m->out_by_output = noutputs ? calloc(noutputs, sizeof *m->out_by_output) : NULL;
    if ((ninputs && !m->in_by_input) || (noutputs && !m->out_by_output)) {
        metrics_fini(m);
        return RILL_ERR_NOMEM;
    }
    return RILL_OK;
}

void metrics_fini(struct thread_metrics *m)
{
    if (!m->lag.ready)
        return;
    pthread_mutex_destroy(&m->lag.lock);
    pthread_mutex_destroy(&m->kstats.lock);
    free(m->lag.v);
    free(m->sizes);
    free((void *)m->in_by_input);
    free((void *)m->out_by_output);
    m->lag.v = NULL;
    m->sizes = NULL;
    m->in_by_input = m->out_by_output = NULL;
    m->lag.n = m->nsizes = 0;
    m->lag.ready = 0;
}

void metrics_lag(struct thread_metrics *m, rd_kafka_t *rk,
                 const rd_kafka_topic_partition_list_t *l, const int64_t *last_ts)
{
    if (!m->lag.ready)
        return;
    struct lag_entry *v = calloc(l->cnt ? (size_t)l->cnt : 1, sizeof *v);
    if (!v)
        return; /* the last snapshot stays */
    int64_t now = metrics_wall_ms();
    size_t n = 0;
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(rk, l->elems[i].topic, l->elems[i].partition, &lo,
                                           &hi) || hi < 0)
            continue; /* not fetched yet: no watermark known */
        int64_t pos = l->elems[i].offset >= 0 ? l->elems[i].offset : lo >= 0 ? lo : 0;
        struct lag_entry *e = &v[n++];
        snprintf(e->topic, sizeof e->topic, "%s", l->elems[i].topic);
        e->partition = l->elems[i].partition;
        e->records = hi > pos ? hi - pos : 0;
        e->seconds = e->records && last_ts[i] > 0 && now > last_ts[i]
                         ? (double)(now - last_ts[i]) / 1000.0 : 0.0;
    }
    pthread_mutex_lock(&m->lag.lock);
    free(m->lag.v);
    m->lag.v = v;
    m->lag.n = n;
    pthread_mutex_unlock(&m->lag.lock);
}

void metrics_sizes(struct thread_metrics *m, struct store_size *v, size_t n)
{
    if (!m->lag.ready) {
        free(v);
        return;
    }
    pthread_mutex_lock(&m->lag.lock);
    free(m->sizes);
    m->sizes = v;
    m->nsizes = n;
    pthread_mutex_unlock(&m->lag.lock);
}

void metrics_forget(struct thread_metrics *m)
{
    if (!m->lag.ready)
        return;
    pthread_mutex_lock(&m->lag.lock);
    free(m->lag.v);
    free(m->sizes);
    m->lag.v = NULL;
    m->sizes = NULL;
    m->lag.n = m->nsizes = 0;
    pthread_mutex_unlock(&m->lag.lock);
}

/* ---- librdkafka statistics --------------------------------------------------- */

static double num_of(const rill_json_val_t *v)
{
    char buf[64];
    if (v->type != RILL_JSON_NUMBER || v->len >= sizeof buf)
        return 0;
    memcpy(buf, v->p, v->len);
    buf[v->len] = '\0';
    return strtod(buf, NULL);
}

static int key_is(const rill_json_val_t *k, const char *name)
{
    size_t n = strlen(name);
    return k->len == n + 2 && !memcmp(k->p + 1, name, n); /* keys rdkafka writes need no unescaping */
}

/* The member name of o, or NULL. */
static int member(const rill_json_val_t *o, const char *name, rill_json_val_t *out)
{
    size_t pos = 0;
    rill_json_val_t k, v;
    while (rill_json_next(o, &pos, &k, &v))
        if (key_is(&k, name)) {
            *out = v;
            return 1;
        }
    return 0;
}

/* Sums fetchq_cnt over the assigned partitions of every topic. */
static int64_t fetch_queue(const rill_json_val_t *topics)
{
    int64_t sum = 0;
    size_t tp = 0;
    rill_json_val_t tk, t, parts;
    while (rill_json_next(topics, &tp, &tk, &t)) {
        if (!member(&t, "partitions", &parts))
            continue;
        size_t pp = 0;
        rill_json_val_t pk, p, v;
        while (rill_json_next(&parts, &pp, &pk, &p))
            if (!(pk.len > 1 && pk.p[1] == '-') && member(&p, "fetchq_cnt", &v))
                sum += (int64_t)num_of(&v);
    }
    return sum;
}

void metrics_kafka_stats(struct thread_metrics *m, enum stats_client which, const char *json,
                         size_t len)
{
    rill_json_val_t root, v;
    if (which < 0 || which >= STATS__COUNT || !m->lag.ready ||
        rill_json_parse(json, len, &root, NULL) != RILL_JSON_FOUND)
        return;
    struct client_stats cs = { .seen = 1 };
    if (member(&root, "type", &v) && v.len == 10 && !memcmp(v.p, "\"producer\"", 10)) {
        if (member(&root, "msg_cnt", &v))
            cs.queue = (int64_t)num_of(&v);
    } else if (member(&root, "topics", &v)) {
        cs.queue = fetch_queue(&v);
    }
    rill_json_val_t eos, st;
    if (member(&root, "eos", &eos) && member(&eos, "txn_state", &st))
        rill_json_string(&st, cs.txn_state, sizeof cs.txn_state, NULL);
    rill_json_val_t brokers, bk, b, id, rtt, avg;
    size_t pos = 0;
    if (member(&root, "brokers", &brokers))
        while (cs.nbrokers < STATS_MAX_BROKERS && rill_json_next(&brokers, &pos, &bk, &b)) {
            if (!member(&b, "nodeid", &id) || num_of(&id) < 0 || !member(&b, "rtt", &rtt) ||
                !member(&rtt, "avg", &avg))
                continue; /* a bootstrap entry, not a broker */
            cs.brokers[cs.nbrokers].id = (int32_t)num_of(&id);
            cs.brokers[cs.nbrokers++].rtt_s = num_of(&avg) / 1e6; /* rdkafka: microseconds */
        }
    pthread_mutex_lock(&m->kstats.lock);
    m->kstats.c[which] = cs;
    pthread_mutex_unlock(&m->kstats.lock);
}

/* ---- rendering ------------------------------------------------------------------- */

static void head(struct text *t, const char *name, const char *type, const char *help)
{
    text_put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The stream threads of processor p: e->threads[p * per .. p * per + per). */
#define PER(e) ((size_t)(e)->t->num_stream_threads)
#define THREADS_OF(e, p, th) \
    for (const struct sthread *th = &(e)->threads[(p) * PER(e)]; \
         th < &(e)->threads[(p) * PER(e) + PER(e)]; th++)

typedef uint64_t (*field_fn)(const struct thread_metrics *m, size_t i);

static uint64_t f_in(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->records_in); }
static uint64_t f_dlq(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->dlq); }
static uint64_t f_commits(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->commits); }
static uint64_t f_aborts(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->aborts); }
static uint64_t f_rebalances(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->rebalances); }
static uint64_t f_retries(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->retries); }
static uint64_t f_kicks(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->fetch_kicks); }
static uint64_t f_restored(const struct thread_metrics *m, size_t i) { (void)i; return METRIC_GET(m->restore.records); }
static uint64_t f_in_topic(const struct thread_metrics *m, size_t i)
{
    return i < m->ninputs ? METRIC_GET(m->in_by_input[i]) : 0;
}
static uint64_t f_out_topic(const struct thread_metrics *m, size_t i)
{
    return i < m->noutputs ? METRIC_GET(m->out_by_output[i]) : 0;
}
static uint64_t f_dlq_class(const struct thread_metrics *m, size_t i)
{
    return i < RILL_REJECT__COUNT ? METRIC_GET(m->dlq_by_class[i]) : 0;
}

/* One sample per processor, summed over its threads: name{processor="P"extra} */
static void per_processor(struct text *t, const struct rill_engine *e, const char *name,
                          field_fn f, size_t i, const char *label, const char *value)
{
    for (size_t p = 0; p < e->t->nprocs; p++) {
        uint64_t sum = 0;
        THREADS_OF(e, p, th)
            sum += f(&th->m, i);
        text_put(t, "%s{processor=\"", name);
        text_label(t, e->t->procs[p].name);
        if (label) {
            text_put(t, "\",%s=\"", label);
            text_label(t, value);
        }
        text_put(t, "\"} %llu\n", (unsigned long long)sum);
    }
}

/* Per processor and topic: its inputs (in) or its outputs. */
static void per_topic(struct text *t, const struct rill_engine *e, const char *name, int in)
{
    for (size_t p = 0; p < e->t->nprocs; p++) {
        const struct rill_strlist *l = in ? &e->t->procs[p].inputs : &e->t->procs[p].outputs;
        for (size_t k = 0; k < l->n; k++) {
            uint64_t sum = 0;
            THREADS_OF(e, p, th)
                sum += in ? f_in_topic(&th->m, k) : f_out_topic(&th->m, k);
            text_put(t, "%s{processor=\"", name);
            text_label(t, e->t->procs[p].name);
            text_put(t, "\",topic=\"");
            text_label(t, l->v[k]);
            text_put(t, "\"} %llu\n", (unsigned long long)sum);
        }
    }
}

enum hist_of { H_PROCESS, H_E2E, H_COMMIT };

static const struct histogram *hist_of(const struct thread_metrics *m, enum hist_of h)
{
    return h == H_PROCESS ? &m->process : h == H_E2E ? &m->e2e : &m->commit;
}

static void histogram(struct text *t, const struct rill_engine *e, const char *name,
                      enum hist_of which)
{
    for (size_t p = 0; p < e->t->nprocs; p++) {
        uint64_t b[HIST_BUCKETS + 1] = { 0 }, sum_us = 0, cum = 0;
        THREADS_OF(e, p, th) {
            const struct histogram *h = hist_of(&th->m, which);
            for (size_t i = 0; i <= HIST_BUCKETS; i++)
                b[i] += METRIC_GET(h->bucket[i]);
            sum_us += METRIC_GET(h->sum_us);
        }
        for (size_t i = 0; i <= HIST_BUCKETS; i++) {
            cum += b[i];
            text_put(t, "%s_bucket{processor=\"", name);
            text_label(t, e->t->procs[p].name);
            if (i < HIST_BUCKETS)
                text_put(t, "\",le=\"%g\"} %llu\n", (double)hist_bounds_us[i] / 1e6,
                         (unsigned long long)cum);
            else
                text_put(t, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        text_put(t, "%s_sum{processor=\"", name);
        text_label(t, e->t->procs[p].name);
        text_put(t, "\"} %.6f\n%s_count{processor=\"", (double)sum_us / 1e6, name);
        text_label(t, e->t->procs[p].name);
        text_put(t, "\"} %llu\n", (unsigned long long)cum);
    }
}

static void put_lag(struct text *t, const char *group, struct thread_metrics *m, int seconds)
{
    if (!m->lag.ready)
        return;
    pthread_mutex_lock(&m->lag.lock);
    for (size_t i = 0; i < m->lag.n; i++) {
        const struct lag_entry *le = &m->lag.v[i];
        text_put(t, "rill_consumer_lag_%s{group=\"", seconds ? "seconds" : "records");
        text_label(t, group);
        text_put(t, "\",topic=\"");
        text_label(t, le->topic);
        if (seconds)
            text_put(t, "\",partition=\"%d\"} %.3f\n", (int)le->partition, le->seconds);
        else
            text_put(t, "\",partition=\"%d\"} %lld\n", (int)le->partition,
                     (long long)le->records);
    }
    pthread_mutex_unlock(&m->lag.lock);
}

/* Per processor and store: the estimates summed over this instance's tasks. */
static void store_sizes(struct text *t, const struct rill_engine *e, int bytes)
{
    for (size_t p = 0; p < e->t->nprocs; p++) {
        const struct rill_strlist *stores = &e->t->procs[p].stores;
        for (size_t s = 0; s < stores->n; s++) {
            uint64_t sum = 0;
            THREADS_OF(e, p, th) {
                struct thread_metrics *m = (struct thread_metrics *)&th->m;
                pthread_mutex_lock(&m->lag.lock);
                for (size_t i = 0; i < m->nsizes; i++)
                    if (m->sizes[i].store == (int)s)
                        sum += bytes ? m->sizes[i].bytes : m->sizes[i].keys;
                pthread_mutex_unlock(&m->lag.lock);
            }
            text_put(t, "%s{processor=\"", bytes ? "rill_store_estimated_bytes"
                                                 : "rill_store_estimated_keys");
            text_label(t, e->t->procs[p].name);
            text_put(t, "\",store=\"");
            text_label(t, stores->v[s]);
            text_put(t, "\"} %llu\n", (unsigned long long)sum);
        }
    }
}

/* Per processor and store: how far the restore of that store is, the
 * least advanced of the threads restoring it; 1 when none restores it. */
static void restore_ratio(struct text *t, const struct rill_engine *e)
{
    for (size_t p = 0; p < e->t->nprocs; p++) {
        const struct rill_strlist *stores = &e->t->procs[p].stores;
        for (size_t s = 0; s < stores->n; s++) {
            double ratio = 1.0;
            THREADS_OF(e, p, th) {
                const struct restore_metrics *r = &th->m.restore;
                int64_t from = METRIC_GET(r->at.from), at = METRIC_GET(r->at.at),
                        to = METRIC_GET(r->at.to);
                if (METRIC_GET(r->partition) < 0 || METRIC_GET(r->store) != (int)s)
                    continue;
                double q = to < 0 || from < 0 ? 0.0
                           : to > from        ? (double)(at - from) / (double)(to - from)
                                              : 1.0;
                if (q < ratio)
                    ratio = q < 0 ? 0 : q;
            }
            text_put(t, "rill_restore_progress_ratio{processor=\"");
            text_label(t, e->t->procs[p].name);
            text_put(t, "\",store=\"");
            text_label(t, stores->v[s]);
            text_put(t, "\"} %.4f\n", ratio);
        }
    }
}

static void restore_remaining(struct text *t, const struct rill_engine *e)
{
    for (size_t p = 0; p < e->t->nprocs; p++) {
        int64_t left = 0;
        THREADS_OF(e, p, th) {
            const struct restore_metrics *r = &th->m.restore;
            int64_t at = METRIC_GET(r->at.at), to = METRIC_GET(r->at.to);
            if (METRIC_GET(r->partition) >= 0 && to > at)
                left += to - at;
        }
        text_put(t, "rill_restore_remaining_records{processor=\"");
        text_label(t, e->t->procs[p].name);
        text_put(t, "\"} %lld\n", (long long)left);
    }
}

static const char *const client_names[STATS__COUNT] = { "consumer", "producer", "restorer" };

/* The librdkafka statistics of every stream thread's clients. */
static void kafka_stats(struct text *t, const struct rill_engine *e)
{
    static const char *const names[] = { "rill_kafka_broker_rtt_seconds",
                                         "rill_kafka_queue_messages", "rill_kafka_txn_state" };
    static const char *const helps[] = {
        "Average round-trip time to each broker, per client (librdkafka statistics).",
        "Messages waiting in a client: the producer's queue, the consumer's fetch queues.",
        "1 for the transactional producer's current state (librdkafka's eos.txn_state).",
    };
    for (int what = 0; what < 3; what++) {
        head(t, names[what], "gauge", helps[what]);
        for (size_t i = 0; i < e->nthreads; i++) {
            struct sthread *st = &e->threads[i];
            pthread_mutex_lock(&st->m.kstats.lock);
            for (int c = 0; c < STATS__COUNT; c++) {
                const struct client_stats *cs = &st->m.kstats.c[c];
                if (!cs->seen || (what == 2 && !cs->txn_state[0]))
                    continue;
                size_t n = what == 0 ? cs->nbrokers : 1;
                for (size_t b = 0; b < n; b++) {
                    text_put(t, "%s{processor=\"", names[what]);
                    text_label(t, st->pc->name);
                    text_put(t, "\",thread=\"%d\",client=\"%s\"", st->idx, client_names[c]);
                    if (what == 0)
                        text_put(t, ",broker=\"%d\"} %.6f\n", (int)cs->brokers[b].id,
                                 cs->brokers[b].rtt_s);
                    else if (what == 1)
                        text_put(t, "} %lld\n", (long long)cs->queue);
                    else {
                        text_put(t, ",state=\"");
                        text_label(t, cs->txn_state);
                        text_put(t, "\"} 1\n");
                    }
                }
            }
            pthread_mutex_unlock(&st->m.kstats.lock);
        }
    }
}

static void processors(const struct rill_engine *e, struct text *t)
{
    head(t, "rill_records_in_total", "counter", "Input records processed, per processor and topic.");
    per_topic(t, e, "rill_records_in_total", 1);
    head(t, "rill_records_out_total", "counter",
         "Records produced to output topics, per processor and topic (dead letters apart).");
    per_topic(t, e, "rill_records_out_total", 0);
    head(t, "rill_dlq_records_total", "counter",
         "Records sent to a dead-letter topic, by reason class.");
    for (size_t c = 0; c < RILL_REJECT__COUNT; c++)
        per_processor(t, e, "rill_dlq_records_total", f_dlq_class, c, "reason",
                      rill_reject_class_name((rill_reject_class_t)c));
    head(t, "rill_transactions_total", "counter",
         "Commits (transactions under exactly_once_v2), by result.");
    per_processor(t, e, "rill_transactions_total", f_commits, 0, "result", "committed");
    per_processor(t, e, "rill_transactions_total", f_aborts, 0, "result", "aborted");
    head(t, "rill_rebalances_total", "counter", "Assignments taken by the stream threads.");
    per_processor(t, e, "rill_rebalances_total", f_rebalances, 0, NULL, NULL);
    head(t, "rill_retries_total", "counter", "Records a processor asked to retry.");
    per_processor(t, e, "rill_retries_total", f_retries, 0, NULL, NULL);
    head(t, "rill_fetch_wakeups_total", "counter",
         "Times an empty queue woke the consumer's fetchers (librdkafka 2.0.2 pauses them).");
    per_processor(t, e, "rill_fetch_wakeups_total", f_kicks, 0, NULL, NULL);
    head(t, "rill_processing_seconds", "histogram",
         "Time a processor took for one input record (its callback and what it produced).");
    histogram(t, e, "rill_processing_seconds", H_PROCESS);
    head(t, "rill_end_to_end_latency_seconds", "histogram",
         "From an input record's timestamp to its outputs being produced.");
    histogram(t, e, "rill_end_to_end_latency_seconds", H_E2E);
    head(t, "rill_commit_duration_seconds", "histogram",
         "How long a commit took (the transaction's offsets and commit, or an at-least-once "
         "flush and offset commit).");
    histogram(t, e, "rill_commit_duration_seconds", H_COMMIT);
    head(t, "rill_restore_remaining_records", "gauge",
         "Changelog records still to replay into the store being restored (0: none).");
    restore_remaining(t, e);
    head(t, "rill_restore_progress_ratio", "gauge",
         "How far the restore of a store is (the least advanced task restoring it); 1 when "
         "none is restoring.");
    restore_ratio(t, e);
    head(t, "rill_restore_records_total", "counter", "Changelog records replayed into stores.");
    per_processor(t, e, "rill_restore_records_total", f_restored, 0, NULL, NULL);
    head(t, "rill_store_estimated_keys", "gauge",
         "Keys in a store, as its backend estimates them, summed over this instance's tasks.");
    store_sizes(t, e, 0);
    head(t, "rill_store_estimated_bytes", "gauge",
         "Bytes of a store's data, as its backend estimates them, summed over this instance's "
         "tasks.");
    store_sizes(t, e, 1);
    kafka_stats(t, e);
}

static void sinks(const struct rill_engine *e, struct text *t)
{
    static const struct {
        const char *name, *help;
        field_fn f;
    } rows[] = {
        { "rill_sink_records_total", "Records committed to PostgreSQL.", f_in },
        { "rill_sink_batches_total", "Batch transactions committed.", f_commits },
        { "rill_sink_dead_letters_total", "Records written to rill_dead_letters.", f_dlq },
        { "rill_sink_retries_total", "Batches retried after a transient fault.", f_retries },
        { "rill_sink_rebalances_total", "Assignments claimed by the sinks.", f_rebalances },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        head(t, rows[r].name, "counter", rows[r].help);
        for (size_t i = 0; i < e->nsinks; i++) {
            text_put(t, "%s{sink=\"", rows[r].name);
            text_label(t, e->sinks[i].sc->name);
            text_put(t, "\"} %llu\n", (unsigned long long)rows[r].f(&e->sinks[i].m, 0));
        }
    }
    head(t, "rill_sink_circuit_open", "gauge",
         "1 while the sink waits for the database, its partitions paused.");
    for (size_t i = 0; i < e->nsinks; i++) {
        text_put(t, "rill_sink_circuit_open{sink=\"");
        text_label(t, e->sinks[i].sc->name);
        text_put(t, "\"} %d\n", METRIC_GET(e->sinks[i].circuit_open));
    }
}

void metrics_render(const struct rill_engine *e, struct text *t)
{
    head(t, "rill_build_info", "gauge", "The rill build, as a label.");
    text_put(t, "rill_build_info{version=\"");
    text_label(t, RILL_VERSION);
    text_put(t, "\"} 1\n");
    head(t, "rill_ready", "gauge", "1 when every task is restored and runs and every sink "
                                   "holds its partitions (what /readyz says).");
    text_put(t, "rill_ready %d\n", engine_ready(e));
    head(t, "rill_start_time_seconds", "gauge", "When this process started, Unix time.");
    text_put(t, "rill_start_time_seconds %lld\n", (long long)e->started_wall);
    if (e->t->nprocs)
        processors(e, t);
    for (int seconds = 0; seconds < 2; seconds++) {
        head(t, seconds ? "rill_consumer_lag_seconds" : "rill_consumer_lag_records", "gauge",
             seconds ? "How old the last record processed in a partition is, while it is "
                       "behind (0 when caught up)."
                     : "High watermark minus the consumer's position (stream threads) or the "
                       "committed position (sinks), per group and partition.");
        for (size_t i = 0; i < e->nthreads; i++)
            put_lag(t, e->threads[i].group, (struct thread_metrics *)&e->threads[i].m, seconds);
        for (size_t i = 0; i < e->nsinks; i++)
            put_lag(t, e->sinks[i].group, (struct thread_metrics *)&e->sinks[i].m, seconds);
    }
    if (e->nsinks)
        sinks(e, t);
}
