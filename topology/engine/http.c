/*
 * http.c - the HTTP endpoints of `rill run` (DESIGN.md section 11), served by
 * libmicrohttpd on a small pool of its own threads at the topology's
 * http.address:
 *  - /healthz: 200 while every stream and sink thread turned its loop (or
 *    waited on purpose, restoring included) within health.stuck.ms; 503
 *    naming the stuck ones;
 *  - /readyz: 200 when every stream thread holds its assignment with its
 *    tasks restored and every sink holds its claimed partitions; 503 with a
 *    JSON body saying which are not yet, and for a restore which store of
 *    which partition and how far along;
 *  - /metrics: Prometheus text format, rendered by metrics.c;
 *  - and routes /topology (http_topology.c), /state/STORE/KEY
 *    (http_state.c) and the web view's files (http_web.c); every reply
 *    goes through http_text.c's, which adds the CSP.
 * What the threads say comes from their relaxed atomics (engine_int.h);
 * nothing here takes a lock the record path takes. Also the growing text
 * every answer is written into (text_put).
 */
#include "topology/engine/http_int.h"
#include "topology/engine/sink_int.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTTP_MAX_CONNECTIONS 32
#define HTTP_CONNECTION_TIMEOUT_S 10
/* Threads serving requests. */
#define HTTP_THREADS 4

void text_put(struct text *t, const char *fmt, ...)
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

/* Names come from YAML keys; escape what JSON and the text format need anyway. */
void text_label(struct text *t, const char *v)
{
    for (; *v; v++)
        text_put(t, *v == '"' ? "\\\"" : *v == '\\' ? "\\\\" : *v == '\n' ? "\\n" : "%c", *v);
}

/* ---- what the threads say ------------------------------------------------------ */

/* A thread whose loop has not turned for health.stuck.ms is stuck. */
static int stuck(const struct rill_engine *e, const struct thread_metrics *m, int64_t now)
{
    return now - METRIC_GET(m->heartbeat) > e->t->health_stuck_ms;
}

static int stream_ready(const struct sthread *st)
{
    return METRIC_GET(st->m.assigned) && !METRIC_GET(st->m.restoring) &&
           METRIC_GET(st->m.state) != STHREAD_DEAD;
}

static int sink_ready(const struct sink_thread *s)
{
    return METRIC_GET(s->m.assigned) && !METRIC_GET(s->m.restoring) && !s->failed;
}

int engine_ready(const struct rill_engine *e)
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
    text_put(t, "{\"stuck\":[");
    for (size_t i = 0; i < e->nthreads; i++)
        if (stuck(e, &e->threads[i].m, now)) {
            text_put(t, "%s{\"processor\":\"", ok ? "" : ",");
            text_label(t, e->threads[i].pc->name);
            text_put(t, "\",\"thread\":%d}", e->threads[i].idx);
            ok = 0;
        }
    for (size_t i = 0; i < e->nsinks; i++)
        if (stuck(e, &e->sinks[i].m, now) || e->sinks[i].failed) {
            text_put(t, "%s{\"sink\":\"", ok ? "" : ",");
            text_label(t, e->sinks[i].sc->name);
            text_put(t, "\",\"stopped\":%s}", e->sinks[i].failed ? "true" : "false");
            ok = 0;
        }
    text_put(t, "],\"healthy\":%s}\n", ok ? "true" : "false");
    return ok;
}

/* While a store is being restored: which, and how far along. */
static void restore_progress(struct text *t, const struct sthread *st)
{
    const struct restore_metrics *r = &st->m.restore;
    int32_t p = METRIC_GET(r->partition);
    int s = METRIC_GET(r->store);
    if (p < 0 || s < 0 || (size_t)s >= st->pc->stores.n)
        return;
    int64_t from = METRIC_GET(r->at.from), at = METRIC_GET(r->at.at), to = METRIC_GET(r->at.to);
    text_put(t, ",\"restore\":{\"partition\":%d,\"store\":\"", (int)p);
    text_label(t, st->pc->stores.v[s]);
    if (to < 0 || from < 0) {
        text_put(t, "\",\"phase\":\"checking\"}"); /* the changelog's end not known yet */
        return;
    }
    int64_t done = at > from ? at - from : 0, total = to > from ? to - from : 0;
    text_put(t, "\",\"phase\":\"replaying\",\"replayed\":%lld,\"remaining\":%lld,"
                "\"progress\":%.3f,\"partitions_left\":%d}",
             (long long)done, (long long)(total > done ? total - done : 0),
             total ? (double)done / (double)total : 1.0, METRIC_GET(r->parts_left));
}

static int readyz(const struct rill_engine *e, struct text *t)
{
    int ok = engine_ready(e);
    text_put(t, "{\"ready\":%s,\"threads\":[", ok ? "true" : "false");
    for (size_t i = 0; i < e->nthreads; i++) {
        const struct sthread *st = &e->threads[i];
        text_put(t, "%s{\"processor\":\"", i ? "," : "");
        text_label(t, st->pc->name);
        text_put(t, "\",\"thread\":%d,\"ready\":%s,\"restoring\":%s,\"state\":\"%s\"", st->idx,
            stream_ready(st) ? "true" : "false", METRIC_GET(st->m.restoring) ? "true" : "false",
            sthread_state_name((enum sthread_state)METRIC_GET(st->m.state)));
        restore_progress(t, st);
        text_put(t, "}");
    }
    text_put(t, "],\"sinks\":[");
    for (size_t i = 0; i < e->nsinks; i++) {
        const struct sink_thread *s = &e->sinks[i];
        text_put(t, "%s{\"sink\":\"", i ? "," : "");
        text_label(t, s->sc->name);
        text_put(t, "\",\"ready\":%s,\"claiming\":%s,\"circuit_open\":%s}",
            sink_ready(s) ? "true" : "false", METRIC_GET(s->m.restoring) ? "true" : "false",
            METRIC_GET(s->circuit_open) ? "true" : "false");
    }
    text_put(t, "]}\n");
    return ok;
}

/* ---- the server ---------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             struct text *t)
{
    return http_reply(c, status, type, t, NULL, NULL);
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
        text_put(&t, "only GET\n");
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
        metrics_render(e, &t);
        return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &t);
    }
    if (!strcmp(url, "/topology"))
        return http_topology(e, c);
    if (!strncmp(url, "/state/", 7))
        return http_state(e, c, url + 7);
    enum MHD_Result ret;
    if (http_web(c, url, &ret))
        return ret;
    text_put(&t, "not found: try /, /healthz, /readyz, /metrics, /topology or /state/STORE/KEY\n");
    return reply(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", &t);
}

/* URLs reach answer() as sent, percent-escapes and all: /state decodes its
 * key itself, binary-safe (libmicrohttpd's decoding would cut it at a
 * %00). */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
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
    /* a pool, so that a /state lookup waiting for its stream thread holds
     * up one thread, not /healthz */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    e->http = MHD_start_daemon(flags, 0, NULL, NULL, answer, e, MHD_OPTION_SOCK_ADDR, &ss,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
                               MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
                               MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_END);
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
    rill_log(RILL_LOG_INFO, "http", "listening|address=%s:%u "
             "endpoints=/,/healthz,/readyz,/metrics,/topology,/state",
             host, info ? (unsigned)info->port : 0u);
    return RILL_OK;
}

void http_stop(struct rill_engine *e)
{
    if (e->http)
        MHD_stop_daemon(e->http);
    e->http = NULL;
}
