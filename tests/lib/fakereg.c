/*
 * fakereg.c - the scripted schema registry of fakereg.h: a listening thread,
 * one thread per connection (keep-alive: libcurl reuses its connections),
 * optional TLS through OpenSSL on non-blocking sockets, every wait a poll()
 * that also watches the stop pipe, and the registry's state (schemas by id,
 * subjects with their versions, compatibility levels, the request log) under
 * one mutex. Test-only code; not a general HTTP server (no pipelining, no
 * chunked requests).
 */
#include "tests/lib/fakereg.h"

#include "topology/base/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CT "application/vnd.schemaregistry.v1+json"
#define MAX_SCHEMAS 64
#define MAX_SUBJECTS 64
#define MAX_VERSIONS 16
#define MAX_REQS 512
#define MAX_CONNS 64
#define MAX_REQUEST (256 * 1024)

struct subject {
    char name[256];
    int versions[MAX_VERSIONS]; /* schema ids, version i + 1 */
    int nversions;
    char compat[16];            /* "" : the global level */
};

struct fakereg {
    struct fakereg_opts o;
    int lfd, stop_r, stop_w;
    char base[16], url[64], host[32];
    SSL_CTX *tls;
    pthread_t acceptor;
    pthread_t conns[MAX_CONNS];
    int nconns;
    pthread_mutex_t lock;
    enum fakereg_mode mode;
    char *schemas[MAX_SCHEMAS]; /* by id - first_id */
    int nschemas;
    struct subject subjects[MAX_SUBJECTS];
    int nsubjects;
    char compat[16];
    struct fakereg_req reqs[MAX_REQS];
    int nreqs;
    char problem[512];
    char problem_copy[512]; /* what fakereg_problem() hands out */
};

struct conn {
    struct fakereg *f;
    int fd;
    SSL *ssl;
};

static int seq;

/* Notes the first problem; the caller holds f->lock. */
static void problem(struct fakereg *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct fakereg *f, const char *fmt, ...)
{
    if (!f->problem[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->problem, sizeof f->problem, fmt, ap);
        va_end(ap);
    }
}

/* ---- non-blocking I/O that the stop pipe interrupts ---- */

/* Waits for events on c's socket: 0, or -1 when the fake stops. */
static int wait_io(struct conn *c, short events)
{
    for (;;) {
        struct pollfd p[2] = { { c->fd, events, 0 }, { c->f->stop_r, POLLIN, 0 } };
        int rc = poll(p, 2, -1);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || p[1].revents)
            return -1;
        return 0;
    }
}

/* The SSL call's result: 1 go on, 0 retry after waiting, -1 give up. */
static int ssl_wait(struct conn *c, int rc)
{
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ)
        return wait_io(c, POLLIN) ? -1 : 0;
    if (e == SSL_ERROR_WANT_WRITE)
        return wait_io(c, POLLOUT) ? -1 : 0;
    return -1;
}

/* Reads some bytes: n > 0, 0 on a close, -1 on an error or a stop. */
static ssize_t conn_read(struct conn *c, char *buf, size_t len)
{
    for (;;) {
        if (c->ssl) {
            int n = SSL_read(c->ssl, buf, (int)len);
            if (n > 0)
                return n;
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_ZERO_RETURN)
                return 0;
            if (ssl_wait(c, n) < 0)
                return e == SSL_ERROR_SYSCALL ? 0 : -1;
            continue;
        }
        ssize_t n = recv(c->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if ((errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || wait_io(c, POLLIN))
            return -1;
    }
}

static int conn_write(struct conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w;
        if (c->ssl) {
            int rc = SSL_write(c->ssl, p, (int)n);
            if (rc <= 0) {
                if (ssl_wait(c, rc) < 0)
                    return -1;
                continue;
            }
            w = rc;
        } else {
            w = send(c->fd, p, n, MSG_NOSIGNAL);
            if (w < 0) {
                if ((errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
                    wait_io(c, POLLOUT))
                    return -1;
                continue;
            }
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- requests ---- */

struct request {
    char method[8];
    char path[512]; /* as sent */
    char auth[256], ctype[128], host[128], connection[32];
    char *body;
    size_t body_len;
};

static void header(const char *head, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *h = l + 2;
        if (!strncasecmp(h, name, nl) && h[nl] == ':') {
            h += nl + 1;
            while (*h == ' ')
                h++;
            snprintf(out, outsz, "%.*s", (int)strcspn(h, "\r"), h);
            return;
        }
    }
}

/* Reads one request into buf (MAX_REQUEST + 1 bytes) and r: 1, or 0 when the
 * client closed (or the fake stops). */
static int read_request(struct conn *c, char *buf, size_t *have, struct request *r)
{
    size_t need = 0, hlen = 0;
    for (;;) {
        if (*have && (buf[0] < 'A' || buf[0] > 'Z')) { /* not http, e.g. a TLS ClientHello */
            static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                      "Connection: close\r\n\r\n";
            conn_write(c, bad, sizeof bad - 1);
            return 0;
        }
        if (!need) {
            buf[*have] = '\0';
            char *e = strstr(buf, "\r\n\r\n");
            if (e) {
                hlen = (size_t)(e - buf) + 4;
                char v[32];
                e[2] = '\0';
                header(buf, "content-length", v, sizeof v);
                need = hlen + strtoul(v, NULL, 10);
                if (need > MAX_REQUEST)
                    return 0;
            }
        }
        if (need && *have >= need)
            break;
        if (*have == MAX_REQUEST)
            return 0;
        ssize_t n = conn_read(c, buf + *have, MAX_REQUEST - *have);
        if (n <= 0)
            return 0;
        *have += (size_t)n;
    }
    memset(r, 0, sizeof *r);
    if (sscanf(buf, "%7s %511s HTTP/1.1", r->method, r->path) != 2)
        r->method[0] = '\0';
    header(buf, "authorization", r->auth, sizeof r->auth);
    header(buf, "content-type", r->ctype, sizeof r->ctype);
    header(buf, "host", r->host, sizeof r->host);
    header(buf, "connection", r->connection, sizeof r->connection);
    r->body = buf + hlen;
    r->body_len = need - hlen;
    return 1;
}

/* Drops the request of len bytes from the front of buf. */
static void consume(char *buf, size_t *have, const struct request *r)
{
    size_t used = (size_t)(r->body - buf) + r->body_len;
    memmove(buf, buf + used, *have - used);
    *have -= used;
}

static void percent_decode(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *s && o + 1 < outsz; s++) {
        if (*s == '%' && rill_json_hexval(s[1]) >= 0 && rill_json_hexval(s[2]) >= 0) {
            out[o++] = (char)(rill_json_hexval(s[1]) * 16 + rill_json_hexval(s[2]));
            s += 2;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

/* ---- the registry's answers; called with f->lock held ---- */

struct out {
    int status;
    char body[MAX_REQUEST];
};

static int answer(struct out *o, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int answer(struct out *o, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->body, sizeof o->body, fmt, ap);
    va_end(ap);
    o->status = status;
    return status;
}

static int error(struct out *o, int status, int code, const char *msg)
{
    return answer(o, status, "{\"error_code\":%d,\"message\":\"%s\"}", code, msg);
}

/* s as a JSON string (quotes included) into out. */
static void json_str(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    out[o++] = '"';
    for (; *s && o + 8 < outsz; s++) {
        if (*s == '"' || *s == '\\') {
            out[o++] = '\\';
            out[o++] = *s;
        } else if ((unsigned char)*s < 0x20) {
            o += (size_t)snprintf(out + o, outsz - o, "\\u%04x", (unsigned char)*s);
        } else {
            out[o++] = *s;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

static struct subject *find_subject(struct fakereg *f, const char *name, int create)
{
    for (int i = 0; i < f->nsubjects; i++)
        if (!strcmp(f->subjects[i].name, name))
            return &f->subjects[i];
    if (!create || f->nsubjects == MAX_SUBJECTS)
        return NULL;
    struct subject *s = &f->subjects[f->nsubjects++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

/* The id of schema under subject: registered before, or new. -1 when full. */
static int add_schema(struct fakereg *f, struct subject *s, const char *schema)
{
    int id = -1;
    for (int v = 0; v < s->nversions && id < 0; v++)
        if (!strcmp(f->schemas[s->versions[v] - f->o.first_id], schema))
            return s->versions[v]; /* already a version of this subject */
    for (int i = 0; i < f->nschemas && id < 0 && !f->o.per_subject_ids; i++)
        if (!strcmp(f->schemas[i], schema))
            id = f->o.first_id + i;
    if (id < 0) {
        if (f->nschemas == MAX_SCHEMAS || !(f->schemas[f->nschemas] = strdup(schema)))
            return -1;
        id = f->o.first_id + f->nschemas++;
    }
    if (s->nversions == MAX_VERSIONS)
        return -1;
    s->versions[s->nversions++] = id;
    return id;
}

static int post_version(struct fakereg *f, const char *subject, const struct request *r,
                        struct out *o)
{
    static _Thread_local char schema[MAX_REQUEST];
    rill_json_val_t root;
    size_t n = 0;
    if (strcmp(r->ctype, CT))
        problem(f, "POST with content type '%s'", r->ctype);
    if (rill_json_get(r->body, r->body_len, "schema", schema, sizeof schema, &n) !=
            RILL_JSON_FOUND ||
        strlen(schema) != n)
        return error(o, 422, 42201, "Either the input schema or one its references is invalid");
    if (rill_json_parse(schema, n, &root, NULL) != RILL_JSON_FOUND)
        return error(o, 422, 42201, "Invalid schema");
    struct subject *s = find_subject(f, subject, 1);
    if (!s)
        return error(o, 500, 50001, "Error in the backend data store");
    const char *level = s->compat[0] ? s->compat : f->compat;
    if (s->nversions && strcasecmp(level, "NONE")) {
        const char *latest = f->schemas[s->versions[s->nversions - 1] - f->o.first_id];
        int known = 0;
        for (int i = 0; i < s->nversions; i++)
            known |= !strcmp(f->schemas[s->versions[i] - f->o.first_id], schema);
        if (!known && strcmp(latest, schema))
            return answer(o, 409,
                          "{\"error_code\":409,\"message\":\"Schema being registered is "
                          "incompatible with an earlier schema for subject \\\"%s\\\"\"}",
                          subject);
    }
    int id = add_schema(f, s, schema);
    if (id < 0)
        return error(o, 500, 50001, "Error in the backend data store");
    return answer(o, 200, "{\"id\":%d}", id);
}

static int api(struct fakereg *f, const char *path, const struct request *r, struct out *o)
{
    char name[512];
    /* A registry under a longer base path (a proxy's prefix): what follows it. */
    static const char *const roots[] = { "/subjects", "/schemas/", "/config" };
    const char *root = NULL;
    for (size_t i = 0; i < 3; i++) {
        const char *q = strstr(path, roots[i]);
        if (q && (!root || q < root))
            root = q;
    }
    if (root)
        path = root;
    int get = !strcmp(r->method, "GET"), post = !strcmp(r->method, "POST"),
        put = !strcmp(r->method, "PUT");
    const char *p;
    if (post && !strncmp(path, "/subjects/", 10) && (p = strstr(path + 10, "/versions")) &&
        !strcmp(p, "/versions")) {
        snprintf(name, sizeof name, "%.*s", (int)(p - (path + 10)), path + 10);
        return post_version(f, name, r, o);
    }
    if (get && !strncmp(path, "/schemas/ids/", 13)) {
        int id = atoi(path + 13);
        if (id < f->o.first_id || id >= f->o.first_id + f->nschemas)
            return answer(o, 404, "{\"error_code\":40403,\"message\":\"Schema %d not found\"}",
                          id);
        static _Thread_local char js[MAX_REQUEST];
        json_str(f->schemas[id - f->o.first_id], js, sizeof js);
        return answer(o, 200, "{\"schema\":%s}", js);
    }
    if (get && !strcmp(path, "/subjects")) {
        size_t n = (size_t)snprintf(o->body, sizeof o->body, "[");
        for (int i = 0; i < f->nsubjects; i++) {
            json_str(f->subjects[i].name, name, sizeof name);
            n += (size_t)snprintf(o->body + n, sizeof o->body - n, "%s%s", i ? "," : "", name);
        }
        snprintf(o->body + n, sizeof o->body - n, "]");
        return o->status = 200;
    }
    if (get && !strncmp(path, "/subjects/", 10) && (p = strstr(path + 10, "/versions")) &&
        !strcmp(p, "/versions")) {
        snprintf(name, sizeof name, "%.*s", (int)(p - (path + 10)), path + 10);
        struct subject *s = find_subject(f, name, 0);
        if (!s)
            return answer(o, 404, "{\"error_code\":40401,\"message\":\"Subject '%s' not found.\"}",
                          name);
        size_t n = (size_t)snprintf(o->body, sizeof o->body, "[");
        for (int v = 0; v < s->nversions; v++)
            n += (size_t)snprintf(o->body + n, sizeof o->body - n, "%s%d", v ? "," : "", v + 1);
        snprintf(o->body + n, sizeof o->body - n, "]");
        return o->status = 200;
    }
    if ((get || put) && (!strcmp(path, "/config") || !strncmp(path, "/config/", 8))) {
        char *level = f->compat;
        if (path[7] == '/') {
            struct subject *s = find_subject(f, path + 8, put);
            if (!s)
                return answer(o, 404, "{\"error_code\":40401,\"message\":\"Subject '%s' not "
                                      "found.\"}", path + 8);
            level = s->compat;
        }
        if (put) {
            char v[16];
            if (rill_json_get(r->body, r->body_len, "compatibility", v, sizeof v, NULL) !=
                RILL_JSON_FOUND)
                return error(o, 422, 42203, "Invalid compatibility level");
            snprintf(level, 16, "%s", v);
            return answer(o, 200, "{\"compatibility\":\"%s\"}", v);
        }
        return answer(o, 200, "{\"compatibilityLevel\":\"%s\"}", *level ? level : f->compat);
    }
    problem(f, "unknown request %s %s", r->method, path);
    return error(o, 404, 404, "HTTP 404 Not Found");
}

/* Answers r in FAKEREG_API or FAKEREG_CHUNKED mode. 0, or -1 to close. */
static int serve_api(struct conn *c, const struct request *r, int chunked)
{
    struct fakereg *f = c->f;
    static _Thread_local struct out o;
    char path[512], head[256];
    size_t blen = strlen(f->base);
    int auth_ok = !strcmp(r->auth, f->o.auth ? f->o.auth : "");
    const char *port = strchr(f->host, ':');
    pthread_mutex_lock(&f->lock);
    if ((strncmp(r->host, "127.0.0.1:", 10) && strncmp(r->host, "localhost:", 10)) ||
        strcmp(strchr(r->host, ':'), port))
        problem(f, "host '%s', not '%s'", r->host, f->host);
    if (strncmp(r->path, f->base, blen) || (r->path[blen] && r->path[blen] != '/')) {
        percent_decode(r->path, path, sizeof path);
        error(&o, 404, 404, "HTTP 404 Not Found");
    } else {
        percent_decode(r->path + blen, path, sizeof path);
        if (!auth_ok)
            error(&o, 401, 401, "Unauthorized");
        else
            api(f, path, r, &o);
    }
    if (f->nreqs < MAX_REQS) {
        struct fakereg_req *q = &f->reqs[f->nreqs++];
        snprintf(q->method, sizeof q->method, "%s", r->method);
        snprintf(q->path, sizeof q->path, "%s", path);
        q->status = o.status;
        q->auth_ok = auth_ok;
    }
    pthread_mutex_unlock(&f->lock);
    size_t len = strlen(o.body);
    if (!chunked) {
        int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: " CT "\r\n"
                         "Content-Length: %zu\r\n\r\n", o.status, len);
        return conn_write(c, head, (size_t)n) || conn_write(c, o.body, len) ? -1 : 0;
    }
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Type: " CT "\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n", o.status);
    if (conn_write(c, head, (size_t)n))
        return -1;
    for (size_t i = 0; i < len; i += 3) { /* 3-byte chunks, one with an extension */
        size_t k = len - i < 3 ? len - i : 3;
        n = snprintf(head, sizeof head, "%zx%s\r\n", k, i == 3 ? ";ext=1" : "");
        if (conn_write(c, head, (size_t)n) || conn_write(c, o.body + i, k) ||
            conn_write(c, "\r\n", 2))
            return -1;
    }
    return conn_write(c, "0\r\n\r\n", 5);
}

static void record(struct fakereg *f, const struct request *r, int status)
{
    pthread_mutex_lock(&f->lock);
    if (f->nreqs < MAX_REQS) {
        struct fakereg_req *q = &f->reqs[f->nreqs++];
        snprintf(q->method, sizeof q->method, "%s", r->method);
        size_t blen = strlen(f->base);
        percent_decode(strncmp(r->path, f->base, blen) ? r->path : r->path + blen, q->path,
                       sizeof q->path);
        q->status = status;
        q->auth_ok = !strcmp(r->auth, f->o.auth ? f->o.auth : "");
    }
    pthread_mutex_unlock(&f->lock);
}

static void *conn_main(void *arg)
{
    struct conn *c = arg;
    struct fakereg *f = c->f;
    sigset_t pipe_set; /* OpenSSL writes with write(): a closed peer is EPIPE here, no signal */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    char *buf = malloc(MAX_REQUEST + 1);
    size_t have = 0;
    struct request r;
    if (c->ssl) {
        int rc;
        while (buf && (rc = SSL_accept(c->ssl)) != 1)
            if (ssl_wait(c, rc) < 0)
                goto out; /* e.g. the client refused the certificate */
    }
    while (buf && read_request(c, buf, &have, &r)) {
        pthread_mutex_lock(&f->lock);
        enum fakereg_mode mode = f->mode;
        pthread_mutex_unlock(&f->lock);
        if (mode == FAKEREG_API || mode == FAKEREG_CHUNKED) {
            if (serve_api(c, &r, mode == FAKEREG_CHUNKED) || !strcasecmp(r.connection, "close"))
                break;
            consume(buf, &have, &r);
            continue;
        }
        record(f, &r, 0);
        if (mode == FAKEREG_CANNED) {
            conn_write(c, f->o.canned, strlen(f->o.canned));
        } else if (mode == FAKEREG_HUGE) {
            static const char x[4096] = { 'x' };
            conn_write(c, "HTTP/1.1 200 OK\r\n\r\n", 19);
            for (int i = 0; i < 256 && !conn_write(c, x, sizeof x); i++)
                ;
        } else { /* silent until the client gives up and closes, or the fake stops */
            char ch;
            while (conn_read(c, &ch, 1) > 0)
                ;
        }
        break;
    }
out:
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    close(c->fd);
    free(buf);
    free(c);
    return NULL;
}

static void *accept_main(void *arg)
{
    struct fakereg *f = arg;
    for (;;) {
        struct pollfd p[2] = { { f->lfd, POLLIN, 0 }, { f->stop_r, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return NULL;
        if (p[1].revents)
            return NULL;
        if (!(p[0].revents & POLLIN))
            continue;
        int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        struct conn *c = calloc(1, sizeof *c);
        if (!c || f->nconns == MAX_CONNS) {
            pthread_mutex_lock(&f->lock);
            problem(f, "more than %d connections", MAX_CONNS);
            pthread_mutex_unlock(&f->lock);
            free(c);
            close(fd);
            continue;
        }
        c->f = f;
        c->fd = fd;
        if (f->tls && (!(c->ssl = SSL_new(f->tls)) || !SSL_set_fd(c->ssl, fd))) {
            SSL_free(c->ssl);
            free(c);
            close(fd);
            continue;
        }
        if (pthread_create(&f->conns[f->nconns], NULL, conn_main, c)) {
            SSL_free(c->ssl);
            close(fd);
            free(c);
            continue;
        }
        f->nconns++; /* only this thread writes it; fakereg_stop reads it after the join */
    }
}

/* ---- the fake's life ---- */

struct fakereg *fakereg_start(const struct fakereg_opts *o)
{
    struct fakereg *f = calloc(1, sizeof *f);
    int pfd[2] = { -1, -1 };
    if (!f || pipe2(pfd, O_CLOEXEC)) {
        free(f);
        return NULL;
    }
    f->o = *o;
    if (!f->o.first_id)
        f->o.first_id = 101;
    f->mode = o->mode;
    f->stop_r = pfd[0];
    f->stop_w = pfd[1];
    snprintf(f->compat, sizeof f->compat, "BACKWARD");
    pthread_mutex_init(&f->lock, NULL);
    if (o->cert) {
        f->tls = SSL_CTX_new(TLS_server_method());
        if (!f->tls || SSL_CTX_use_certificate_chain_file(f->tls, o->cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(f->tls, o->key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "fakereg: cannot load %s / %s: %s\n", o->cert, o->key,
                    ERR_error_string(ERR_get_error(), NULL));
            goto fail;
        }
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) || listen(f->lfd, 64) ||
        getsockname(f->lfd, (struct sockaddr *)&a, &al)) {
        fprintf(stderr, "fakereg: cannot listen: %s\n", strerror(errno));
        goto fail;
    }
    snprintf(f->base, sizeof f->base, "/t%d", __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
    snprintf(f->host, sizeof f->host, "127.0.0.1:%d", ntohs(a.sin_port));
    snprintf(f->url, sizeof f->url, "%s://%s%s", o->cert ? "https" : "http", f->host, f->base);
    if (pthread_create(&f->acceptor, NULL, accept_main, f))
        goto fail;
    return f;
fail:
    if (f->lfd > 0)
        close(f->lfd);
    close(pfd[0]);
    close(pfd[1]);
    SSL_CTX_free(f->tls);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return NULL;
}

void fakereg_stop(struct fakereg *f)
{
    if (!f)
        return;
    if (write(f->stop_w, "x", 1) != 1)
        perror("fakereg: stop");
    pthread_join(f->acceptor, NULL);
    for (int i = 0; i < f->nconns; i++)
        pthread_join(f->conns[i], NULL);
    if (f->problem[0])
        fprintf(stderr, "\n    fake registry: %s\n", f->problem);
    close(f->lfd);
    close(f->stop_r);
    close(f->stop_w);
    SSL_CTX_free(f->tls);
    for (int i = 0; i < f->nschemas; i++)
        free(f->schemas[i]);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

const char *fakereg_url(const struct fakereg *f)
{
    return f->url;
}

void fakereg_set_mode(struct fakereg *f, enum fakereg_mode mode)
{
    pthread_mutex_lock(&f->lock);
    f->mode = mode;
    pthread_mutex_unlock(&f->lock);
}

int fakereg_add(struct fakereg *f, const char *subject, const char *schema)
{
    pthread_mutex_lock(&f->lock);
    struct subject *s = find_subject(f, subject, 1);
    int id = s ? add_schema(f, s, schema) : -1;
    pthread_mutex_unlock(&f->lock);
    return id;
}

void fakereg_set_compat(struct fakereg *f, const char *subject, const char *level)
{
    pthread_mutex_lock(&f->lock);
    struct subject *s = subject ? find_subject(f, subject, 1) : NULL;
    snprintf(s ? s->compat : f->compat, sizeof f->compat, "%s", level);
    pthread_mutex_unlock(&f->lock);
}

int fakereg_subject_id(struct fakereg *f, const char *subject)
{
    pthread_mutex_lock(&f->lock);
    struct subject *s = find_subject(f, subject, 0);
    int id = s && s->nversions ? s->versions[s->nversions - 1] : -1;
    pthread_mutex_unlock(&f->lock);
    return id;
}

int fakereg_subjects(struct fakereg *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->nsubjects;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int fakereg_requests(struct fakereg *f)
{
    pthread_mutex_lock(&f->lock);
    int n = f->nreqs;
    pthread_mutex_unlock(&f->lock);
    return n;
}

int fakereg_request(struct fakereg *f, int i, struct fakereg_req *out)
{
    pthread_mutex_lock(&f->lock);
    int ok = i >= 0 && i < f->nreqs;
    if (ok)
        *out = f->reqs[i];
    pthread_mutex_unlock(&f->lock);
    return ok;
}

int fakereg_count(struct fakereg *f, const char *method, const char *path)
{
    int n = 0;
    pthread_mutex_lock(&f->lock);
    for (int i = 0; i < f->nreqs; i++)
        n += !strcmp(f->reqs[i].method, method) && !strcmp(f->reqs[i].path, path);
    pthread_mutex_unlock(&f->lock);
    return n;
}

const char *fakereg_problem(struct fakereg *f)
{
    pthread_mutex_lock(&f->lock);
    memcpy(f->problem_copy, f->problem, sizeof f->problem);
    pthread_mutex_unlock(&f->lock);
    return f->problem_copy;
}

int fakereg_has(const char *msg, const char *want)
{
    if (strstr(msg, want))
        return 1;
    fprintf(stderr, "\n    expected '%s' in '%s'\n", want, msg);
    return 0;
}

int fakereg_clean(const char *msg)
{
    static const char *const secrets[] = { FAKEREG_PASSWORD, "cmlsbC1hcHA6", FAKEREG_USER,
                                           "env-Pw", "ZW52LXVz", "env-user" };
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(msg, secrets[i])) {
            fprintf(stderr, "\n    a credential in '%s'\n", msg);
            return 0;
        }
    return 1;
}

/* ---- throw-away certificates ---- */

int fakereg_make_certs(const char *dir)
{
    char cmd[2048];
    if (mkdir(dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "fakereg: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    snprintf(cmd, sizeof cmd,
             "cd '%s' && umask 077 && "
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nbasicConstraints=CA:FALSE\\n"
             "extendedKeyUsage=serverAuth\\n' > server.ext && "
             "openssl req -x509 %s -keyout ca.key -out ca.pem -days 2 -subj /CN=rill-test-ca && "
             "openssl req %s -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out server.pem -days 2 -extfile server.ext && "
             "openssl req -x509 %s -keyout other-ca.key -out other-ca.pem -days 2 "
             "-subj /CN=rill-other-ca",
             dir, ec, ec, ec);
    char full[2200];
    snprintf(full, sizeof full, "( %s ) > '%s/openssl.log' 2>&1", cmd, dir);
    if (system(full) != 0) {
        fprintf(stderr, "fakereg: the openssl CLI failed, see %s/openssl.log\n", dir);
        return -1;
    }
    return 0;
}
