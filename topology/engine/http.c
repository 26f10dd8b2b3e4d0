/*
 * http.c - the HTTP endpoints of `rill run` (DESIGN.md section 11), served by
 * libmicrohttpd on its own thread at the topology's http.address:
 *  - /healthz: 200 while every stream and sink thread turned its loop (or
 *    waited on purpose) within HTTP_STUCK_MS; 503 naming the stuck ones;
 *  - /readyz: 200 when every stream thread holds its assignment with its
 *    tasks restored and every sink holds its claimed partitions; 503 with a
 *    JSON body saying which are not yet;
 *  - /metrics: Prometheus text format (version 0.0.4): per processor the
 *    records in and out, dead letters, transactions committed and aborted,
 *    rebalances and retries; per sink the records and batches committed,
 *    dead letters, retries and whether its circuit is open; readiness and
 *    the build; and each group's lag per input partition, in records and
 *    in seconds. Label values are processor, sink, group and topic names
 *    and partition numbers (no label grows with the data).
 * The counters are the threads' relaxed atomics (engine_int.h); nothing here
 * takes a lock the record path takes.
 */
#include "topology/engine/engine_int.h"
#include "topology/engine/sink_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A thread whose loop has not turned for this long is stuck. */
#define HTTP_STUCK_MS 30000
#define HTTP_MAX_CONNECTIONS 32
#define HTTP_CONNECTION_TIMEOUT_S 10

struct text {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    for (int tries = 0; !t->oom && tries < 8; tries++) {
        va_list ap;
        va_start(ap, fmt);
        int n = t->p ? vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 8192;
        if (n > 0 && cap < t->len + (size_t)n + 1)
            cap = t->len + (size_t)n + 1;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->oom = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

/* Names come from YAML keys; escape what the text format needs anyway. */
static void put_label(struct text *t, const char *v)
{
    for (; *v; v++)
        put(t, *v == '"' ? "\\\"" : *v == '\\' ? "\\\\" : *v == '\n' ? "\\n" : "%c", *v);
}

/* ---- what the threads say ------------------------------------------------------ */

static int stuck(const struct thread_metrics *m, int64_t now)
{
    return now - METRIC_GET(m->heartbeat) > HTTP_STUCK_MS;
}

static int stream_ready(const struct sthread *st)
{
    return METRIC_GET(st->m.assigned) && !METRIC_GET(st->m.restoring) &&
           st->state != STHREAD_DEAD;
}

static int sink_ready(const struct sink_thread *s)
{
    return METRIC_GET(s->m.assigned) && !METRIC_GET(s->m.restoring) && !s->failed;
}

static int all_ready(const struct rill_engine *e)
{
    for (size_t i = 0; i < e->nthreads; i++)
        if (!stream_ready(&e->threads[i]))
            return 0;
    for (size_t i = 0; i < e->nsinks; i++)
        if (!sink_ready(&e->sinks[i]))
            return 0;
    return 1;
}

static int healthz(const struct rill_engine *e, struct text *t)
{
    int64_t now = rill_now_ms();
    int ok = 1;
    put(t, "{\"stuck\":[");
    for (size_t i = 0; i < e->nthreads; i++)
        if (stuck(&e->threads[i].m, now)) {
            put(t, "%s{\"processor\":\"", ok ? "" : ",");
            put_label(t, e->threads[i].pc->name);
            put(t, "\",\"thread\":%d}", e->threads[i].idx);
            ok = 0;
        }
    for (size_t i = 0; i < e->nsinks; i++)
        if (stuck(&e->sinks[i].m, now) || e->sinks[i].failed) {
            put(t, "%s{\"sink\":\"", ok ? "" : ",");
            put_label(t, e->sinks[i].sc->name);
            put(t, "\",\"stopped\":%s}", e->sinks[i].failed ? "true" : "false");
            ok = 0;
        }
    put(t, "],\"healthy\":%s}\n", ok ? "true" : "false");
    return ok;
}

static int readyz(const struct rill_engine *e, struct text *t)
{
    int ok = all_ready(e);
    put(t, "{\"ready\":%s,\"threads\":[", ok ? "true" : "false");
    for (size_t i = 0; i < e->nthreads; i++) {
        const struct sthread *st = &e->threads[i];
        put(t, "%s{\"processor\":\"", i ? "," : "");
        put_label(t, st->pc->name);
        put(t, "\",\"thread\":%d,\"ready\":%s,\"restoring\":%s,\"state\":\"%s\"}", st->idx,
            stream_ready(st) ? "true" : "false", METRIC_GET(st->m.restoring) ? "true" : "false",
            sthread_state_name(st->state));
    }
    put(t, "],\"sinks\":[");
    for (size_t i = 0; i < e->nsinks; i++) {
        const struct sink_thread *s = &e->sinks[i];
        put(t, "%s{\"sink\":\"", i ? "," : "");
        put_label(t, s->sc->name);
        put(t, "\",\"ready\":%s,\"claiming\":%s,\"circuit_open\":%s}",
            sink_ready(s) ? "true" : "false", METRIC_GET(s->m.restoring) ? "true" : "false",
            METRIC_GET(s->circuit_open) ? "true" : "false");
    }
    put(t, "]}\n");
    return ok;
}

/* ---- lag -------------------------------------------------------------------------- */

void metrics_init(struct thread_metrics *m)
{
    m->lag.ready = pthread_mutex_init(&m->lag.lock, NULL) == 0;
}

void metrics_fini(struct thread_metrics *m)
{
    if (!m->lag.ready)
        return;
    pthread_mutex_destroy(&m->lag.lock);
    free(m->lag.v);
    m->lag.v = NULL;
    m->lag.n = 0;
    m->lag.ready = 0;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void metrics_lag(struct thread_metrics *m, rd_kafka_t *rk,
                 const rd_kafka_topic_partition_list_t *l, const int64_t *last_ts)
{
    if (!m->lag.ready)
        return;
    struct lag_entry *v = calloc(l->cnt ? (size_t)l->cnt : 1, sizeof *v);
    if (!v)
        return; /* the last snapshot stays */
    int64_t now = wall_ms();
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

static void put_lag(struct text *t, const char *group, struct thread_metrics *m, int seconds)
{
    if (!m->lag.ready)
        return;
    pthread_mutex_lock(&m->lag.lock);
    for (size_t i = 0; i < m->lag.n; i++) {
        const struct lag_entry *e = &m->lag.v[i];
        put(t, "rill_consumer_lag_%s{group=\"", seconds ? "seconds" : "records");
        put_label(t, group);
        put(t, "\",topic=\"");
        put_label(t, e->topic);
        if (seconds)
            put(t, "\",partition=\"%d\"} %.3f\n", (int)e->partition, e->seconds);
        else
            put(t, "\",partition=\"%d\"} %lld\n", (int)e->partition, (long long)e->records);
    }
    pthread_mutex_unlock(&m->lag.lock);
}

/* ---- /metrics ------------------------------------------------------------------ */

enum field { F_IN, F_OUT, F_DLQ, F_COMMITS, F_ABORTS, F_REBALANCES, F_RETRIES };

static uint64_t field_of(const struct thread_metrics *m, enum field f)
{
    switch (f) {
    case F_IN:
        return METRIC_GET(m->records_in);
    case F_OUT:
        return METRIC_GET(m->records_out);
    case F_DLQ:
        return METRIC_GET(m->dlq);
    case F_COMMITS:
        return METRIC_GET(m->commits);
    case F_ABORTS:
        return METRIC_GET(m->aborts);
    case F_REBALANCES:
        return METRIC_GET(m->rebalances);
    case F_RETRIES:
        return METRIC_GET(m->retries);
    }
    return 0;
}

static void head(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per processor: the sum over its threads. extra: more labels. */
static void per_processor(struct text *t, const struct rill_engine *e, const char *name,
                          enum field f, const char *extra)
{
    size_t per = (size_t)e->t->num_stream_threads;
    for (size_t p = 0; p < e->t->nprocs; p++) {
        uint64_t sum = 0;
        for (size_t i = 0; i < per; i++)
            sum += field_of(&e->threads[p * per + i].m, f);
        put(t, "%s{processor=\"", name);
        put_label(t, e->t->procs[p].name);
        put(t, "\"%s} %llu\n", extra, (unsigned long long)sum);
    }
}

static void per_sink(struct text *t, const struct rill_engine *e, const char *name, enum field f)
{
    for (size_t i = 0; i < e->nsinks; i++) {
        put(t, "%s{sink=\"", name);
        put_label(t, e->sinks[i].sc->name);
        put(t, "\"} %llu\n", (unsigned long long)field_of(&e->sinks[i].m, f));
    }
}

static void metrics(const struct rill_engine *e, struct text *t)
{
    head(t, "rill_build_info", "gauge", "The rill build, as a label.");
    put(t, "rill_build_info{version=\"");
    put_label(t, RILL_VERSION);
    put(t, "\"} 1\n");
    head(t, "rill_ready", "gauge", "1 when every task is restored and runs and every sink "
                                   "holds its partitions (what /readyz says).");
    put(t, "rill_ready %d\n", all_ready(e));
    head(t, "rill_start_time_seconds", "gauge", "When this process started, Unix time.");
    put(t, "rill_start_time_seconds %lld\n", (long long)e->started_wall);
    if (e->t->nprocs) {
        head(t, "rill_records_in_total", "counter", "Input records processed, per processor.");
        per_processor(t, e, "rill_records_in_total", F_IN, "");
        head(t, "rill_records_out_total", "counter",
             "Records produced to output topics, per processor (dead letters apart).");
        per_processor(t, e, "rill_records_out_total", F_OUT, "");
        head(t, "rill_dlq_records_total", "counter", "Records sent to a dead-letter topic.");
        per_processor(t, e, "rill_dlq_records_total", F_DLQ, "");
        head(t, "rill_transactions_total", "counter",
             "Commits (transactions under exactly_once_v2), by result.");
        per_processor(t, e, "rill_transactions_total", F_COMMITS, ",result=\"committed\"");
        per_processor(t, e, "rill_transactions_total", F_ABORTS, ",result=\"aborted\"");
        head(t, "rill_rebalances_total", "counter", "Assignments taken by the stream threads.");
        per_processor(t, e, "rill_rebalances_total", F_REBALANCES, "");
        head(t, "rill_retries_total", "counter", "Records a processor asked to retry.");
        per_processor(t, e, "rill_retries_total", F_RETRIES, "");
    }
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
    if (e->nsinks) {
        head(t, "rill_sink_records_total", "counter", "Records committed to PostgreSQL.");
        per_sink(t, e, "rill_sink_records_total", F_IN);
        head(t, "rill_sink_batches_total", "counter", "Batch transactions committed.");
        per_sink(t, e, "rill_sink_batches_total", F_COMMITS);
        head(t, "rill_sink_dead_letters_total", "counter",
             "Records written to rill_dead_letters.");
        per_sink(t, e, "rill_sink_dead_letters_total", F_DLQ);
        head(t, "rill_sink_retries_total", "counter", "Batches retried after a transient fault.");
        per_sink(t, e, "rill_sink_retries_total", F_RETRIES);
        head(t, "rill_sink_rebalances_total", "counter", "Assignments claimed by the sinks.");
        per_sink(t, e, "rill_sink_rebalances_total", F_REBALANCES);
        head(t, "rill_sink_circuit_open", "gauge",
             "1 while the sink waits for the database, its partitions paused.");
        for (size_t i = 0; i < e->nsinks; i++) {
            put(t, "rill_sink_circuit_open{sink=\"");
            put_label(t, e->sinks[i].sc->name);
            put(t, "\"} %d\n", METRIC_GET(e->sinks[i].circuit_open));
        }
    }
}

/* ---- the server ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             struct text *t)
{
    if (t->oom) {
        free(t->p);
        t->p = NULL;
        t->len = 0;
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(t->len, t->p ? t->p : (void *)"", t->p ? MHD_RESPMEM_MUST_FREE
                                                                          : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(t->p);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **req)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req;
    const struct rill_engine *e = cls;
    struct text t = { 0 };
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        put(&t, "only GET\n");
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", &t);
    }
    if (!strcmp(url, "/healthz")) {
        int ok = healthz(e, &t);
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", &t);
    }
    if (!strcmp(url, "/readyz")) {
        int ok = readyz(e, &t);
        return reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", &t);
    }
    if (!strcmp(url, "/metrics")) {
        metrics(e, &t);
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &t);
    }
    put(&t, "not found: try /healthz, /readyz or /metrics\n");
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", &t);
}

/* host:port into an IPv4 or IPv6 socket address. */
static rill_err_t parse_address(const char *addr, struct sockaddr_storage *ss, char *errstr,
                                size_t errsz)
{
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof host || !colon[1])
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                         "http.address '%s': want host:port (or off)", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV }, *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc || !res)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "http.address '%s': %s", addr,
                         rc ? gai_strerror(rc) : "no address");
    memset(ss, 0, sizeof *ss);
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return RILL_OK;
}

rill_err_t http_start(struct rill_engine *e, char *errstr, size_t errsz)
{
    const char *addr = e->t->http_address;
    int given = addr != NULL;
    if (!addr)
        addr = RILL_HTTP_DEFAULT_ADDRESS;
    if (!strcmp(addr, "off"))
        return RILL_OK;
    struct sockaddr_storage ss;
    rill_err_t err = parse_address(addr, &ss, errstr, errsz);
    if (err != RILL_OK)
        return err;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    e->http = MHD_start_daemon(flags, 0, NULL, NULL, answer, e, MHD_OPTION_SOCK_ADDR, &ss,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
                               MHD_OPTION_END);
    if (!e->http) {
        if (given)
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                             "http.address '%s': cannot listen there (in use?)", addr);
        rill_log(RILL_LOG_WARN, "http", "not serving: the default address is taken; set "
                 "http.address (port 0 for any)|address=%s", addr);
        return RILL_OK;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(e->http, MHD_DAEMON_INFO_BIND_PORT);
    char host[128] = "?";
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
    rill_log(RILL_LOG_INFO, "http", "listening|address=%s:%u endpoints=/healthz,/readyz,/metrics",
             host, info ? (unsigned)info->port : 0u);
    return RILL_OK;
}

void http_stop(struct rill_engine *e)
{
    if (e->http)
        MHD_stop_daemon(e->http);
    e->http = NULL;
}
