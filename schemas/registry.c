/*
 * registry.c - the schema registry client of registry.h: the URL and
 * credential checks, one HTTP/1.1 exchange per request over a non-blocking
 * socket with poll()ed deadlines, the answer read to its end (Content-Length,
 * chunked, or the close) within RILL_REGISTRY_MAX_ANSWER bytes, and the
 * registry's JSON ({"id": N}, or {"error_code": .., "message": ..}) read with
 * the bounded reader of json.h. Knows nothing of the serde or its schemas.
 */
#include "schemas/registry.h"

#include "topology/base/json.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"
#define MAX_SHOWN 200 /* bytes of the registry's message quoted in an error */
#define POLL_SLICE_MS 60000 /* one poll() never waits longer (its timeout is an int) */

struct rill_registry {
    char *url;       /* "http://" authority base-path: for messages */
    const char *authority; /* into url: host[:port] as given, the Host header */
    size_t authority_len;
    const char *path;      /* into url: the base path, "" or "/..." */
    char *host;            /* the authority's host, IPv6 without brackets */
    char port[6];
    char *auth;            /* "Basic " base64(user:password), or NULL */
    int connect_timeout_ms, timeout_ms;
};


static const char *env(const char *key)
{
    const char *v = getenv(key);
    return v && *v ? v : NULL;
}

void rill_registry_conf_env(struct rill_registry_conf *conf)
{
    memset(conf, 0, sizeof *conf);
    conf->url = env("RILL_SCHEMA_REGISTRY_URL");
    conf->user = env("RILL_SCHEMA_REGISTRY_USER");
    conf->password = env("RILL_SCHEMA_REGISTRY_PASSWORD");
    conf->password_file = env("RILL_SCHEMA_REGISTRY_PASSWORD_FILE");
}

/* ---- configuration ---- */

void rill_registry_destroy(rill_registry_t *r)
{
    if (!r)
        return;
    if (r->auth) {
        explicit_bzero(r->auth, strlen(r->auth));
        free(r->auth);
    }
    free(r->url);
    free(r->host);
    free(r);
}

const char *rill_registry_url(const rill_registry_t *r)
{
    return r->url;
}

static int host_char(char c, int ipv6)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.')
        return 1;
    if (ipv6)
        return c == ':';
    return (c >= 'g' && c <= 'z') || (c >= 'G' && c <= 'Z') || c == '-' || c == '_';
}

/* Splits url into r's fields. Messages never quote the URL: whatever it
 * holds, it may be a mistyped secret. */
static rill_err_t parse_url(rill_registry_t *r, const char *url, char *errstr, size_t errsz)
{
    const rill_err_t E = RILL_ERR_CONFIG;
    if (!url || !*url)
        return rill_errf(errstr, errsz, E, "no schema registry url");
    if (!strncasecmp(url, "https://", 8))
        return rill_errf(errstr, errsz, E,
                    "schema registry url: https is not supported, only http:// (no tls)");
    if (strncasecmp(url, "http://", 7))
        return rill_errf(errstr, errsz, E, "schema registry url must start with http://");
    if (strchr(url, '@'))
        return rill_errf(errstr, errsz, E,
                    "schema registry url must not hold credentials; configure a user and "
                    "password instead");
    if (strchr(url, ','))
        return rill_errf(errstr, errsz, E, "schema registry url: give one url, not a list");
    const char *a = url + 7;
    size_t alen = strcspn(a, "/?#");
    const char *path = a + alen;
    if (path[strcspn(path, "?#")])
        return rill_errf(errstr, errsz, E, "schema registry url must not have a query or fragment");
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return rill_errf(errstr, errsz, E,
                        "schema registry url: the path has a space or a non-ascii byte");

    const char *h = a, *hend, *port = NULL;
    int ipv6 = a[0] == '[';
    if (ipv6) {
        h = a + 1;
        hend = memchr(h, ']', alen - 1);
        if (!hend)
            return rill_errf(errstr, errsz, E, "schema registry url: unclosed '[' in the host");
        if (hend + 1 < a + alen && hend[1] != ':')
            return rill_errf(errstr, errsz, E, "schema registry url: bad host");
        if (hend + 1 < a + alen)
            port = hend + 2;
    } else {
        hend = memchr(a, ':', alen);
        if (hend)
            port = hend + 1;
        else
            hend = a + alen;
    }
    if (hend == h)
        return rill_errf(errstr, errsz, E, "schema registry url has no host");
    for (const char *p = h; p < hend; p++)
        if (!host_char(*p, ipv6))
            return rill_errf(errstr, errsz, E, "schema registry url: bad character in the host");
    long pnum = 80;
    if (port) {
        size_t plen = (size_t)(a + alen - port);
        int ok = plen >= 1 && plen <= 5;
        pnum = 0;
        for (size_t i = 0; ok && i < plen; i++) {
            ok = port[i] >= '0' && port[i] <= '9';
            pnum = pnum * 10 + (port[i] - '0');
        }
        if (!ok || pnum < 1 || pnum > 65535)
            return rill_errf(errstr, errsz, E, "schema registry url: the port must be 1..65535");
    }
    snprintf(r->port, sizeof r->port, "%ld", pnum);

    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/')
        plen--;
    r->host = strndup(h, (size_t)(hend - h));
    r->url = malloc(7 + alen + plen + 1);
    if (!r->host || !r->url)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    memcpy(r->url, "http://", 7);
    memcpy(r->url + 7, a, alen);
    memcpy(r->url + 7 + alen, path, plen);
    r->url[7 + alen + plen] = '\0';
    r->authority = r->url + 7;
    r->authority_len = alen;
    r->path = r->url + 7 + alen;
    return RILL_OK;
}

/* Reads the password file into buf (RILL_REGISTRY_MAX_PASSWORD + 2 bytes),
 * without its trailing newline. */
static rill_err_t read_password(const char *file, char *buf, char *errstr, size_t errsz)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot open schema registry password file '%s': %s",
                    file, strerror(errno));
    size_t n = fread(buf, 1, RILL_REGISTRY_MAX_PASSWORD + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot read schema registry password file '%s'",
                    file);
    if (n > RILL_REGISTRY_MAX_PASSWORD)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                    "schema registry password file '%s' is larger than %d bytes", file,
                    RILL_REGISTRY_MAX_PASSWORD);
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (!n || memchr(buf, '\0', n))
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                    "schema registry password file '%s' is empty or holds a nul byte", file);
    return RILL_OK;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        *out++ = tab[in[i] >> 2];
        *out++ = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
        *out++ = tab[(in[i + 1] & 15) << 2 | in[i + 2] >> 6];
        *out++ = tab[in[i + 2] & 63];
    }
    if (i < n) {
        *out++ = tab[in[i] >> 2];
        if (i + 1 < n) {
            *out++ = tab[(in[i] & 3) << 4 | in[i + 1] >> 4];
            *out++ = tab[(in[i + 1] & 15) << 2];
        } else {
            *out++ = tab[(in[i] & 3) << 4];
            *out++ = '=';
        }
        *out++ = '=';
    }
    *out = '\0';
}

/* Sets r->auth from user and the password (or its file). Messages name
 * neither the user nor the password. */
static rill_err_t set_auth(rill_registry_t *r, const struct rill_registry_conf *c, char *errstr,
                           size_t errsz)
{
    const rill_err_t E = RILL_ERR_CONFIG;
    int has_user = c->user && *c->user;
    if (!has_user)
        return c->password || c->password_file
                   ? rill_errf(errstr, errsz, E, "a schema registry password needs a user")
                   : RILL_OK;
    if (strchr(c->user, ':'))
        return rill_errf(errstr, errsz, E, "the schema registry user must not contain ':'");
    if (!c->password == !c->password_file)
        return rill_errf(errstr, errsz, E,
                    "the schema registry user needs a password or a password file (one of "
                    "them)");
    char file_pw[RILL_REGISTRY_MAX_PASSWORD + 2];
    const char *pw = c->password;
    if (c->password_file) {
        rill_err_t err = read_password(c->password_file, file_pw, errstr, errsz);
        if (err) {
            explicit_bzero(file_pw, sizeof file_pw);
            return err;
        }
        pw = file_pw;
    }
    size_t ulen = strlen(c->user), plen = strlen(pw), n = ulen + 1 + plen;
    unsigned char *cred = malloc(n);
    if (cred) {
        memcpy(cred, c->user, ulen);
        cred[ulen] = ':';
        memcpy(cred + ulen + 1, pw, plen);
        if ((r->auth = malloc(6 + (n + 2) / 3 * 4 + 1))) {
            memcpy(r->auth, "Basic ", 6);
            base64(cred, n, r->auth + 6);
        }
        explicit_bzero(cred, n);
        free(cred);
    }
    explicit_bzero(file_pw, sizeof file_pw);
    return r->auth ? RILL_OK : rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
}

rill_err_t rill_registry_new(rill_registry_t **out, const struct rill_registry_conf *conf,
                             char *errstr, size_t errsz)
{
    *out = NULL;
    rill_registry_t *r = calloc(1, sizeof *r);
    if (!r)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t err = parse_url(r, conf->url, errstr, errsz);
    if (!err)
        err = set_auth(r, conf, errstr, errsz);
    if (err) {
        rill_registry_destroy(r);
        return err;
    }
    r->connect_timeout_ms =
        conf->connect_timeout_ms > 0 ? conf->connect_timeout_ms : RILL_REGISTRY_CONNECT_TIMEOUT_MS;
    r->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : RILL_REGISTRY_TIMEOUT_MS;
    *out = r;
    return RILL_OK;
}

/* ---- the subject ---- */

/* 1 when s is an Avro full name: dot-separated [A-Za-z_][A-Za-z0-9_]*. */
static int avro_name_ok(const char *s)
{
    int start = 1;
    for (; *s; s++) {
        char c = *s;
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (c == '.' && !start)
            start = 1;
        else if (alpha || (!start && c >= '0' && c <= '9'))
            start = 0;
        else
            return 0;
    }
    return !start;
}

rill_err_t rill_registry_subject(const char *schema, char *out, size_t outsz, char *errstr,
                                 size_t errsz)
{
    rill_json_val_t root, key, val;
    char k[16], name[256] = "", ns[256] = "", type[16] = "";
    size_t pos = 0;
    if (rill_json_parse(schema, strlen(schema), &root, NULL) != RILL_JSON_FOUND ||
        root.type != RILL_JSON_OBJECT)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "schema is not a json object");
    while (rill_json_next(&root, &pos, &key, &val)) {
        char *dst = NULL;
        size_t dsz = 0;
        if (rill_json_string(&key, k, sizeof k, NULL) != RILL_JSON_FOUND)
            continue;
        if (!strcmp(k, "name"))
            dst = name, dsz = sizeof name;
        else if (!strcmp(k, "namespace"))
            dst = ns, dsz = sizeof ns;
        else if (!strcmp(k, "type"))
            dst = type, dsz = sizeof type;
        if (dst && rill_json_string(&val, dst, dsz, NULL) != RILL_JSON_FOUND)
            return rill_errf(errstr, errsz, RILL_ERR_INVALID, "schema's '%s' is not a short string", k);
    }
    if (strcmp(type, "record"))
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "schema is not an avro record");
    int full = strchr(name, '.') || !*ns;
    if (!avro_name_ok(name) || (!full && !avro_name_ok(ns)))
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                    "schema has no valid avro name and namespace");
    int n = full ? snprintf(out, outsz, "%s", name) : snprintf(out, outsz, "%s.%s", ns, name);
    if (n < 0 || (size_t)n >= outsz)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "schema's full name is too long");
    return RILL_OK;
}

/* ---- one HTTP exchange ---- */

/* Waits for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - rill_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = { fd, events, 0 };
        int rc = poll(&p, 1, (int)(left > POLL_SLICE_MS ? POLL_SLICE_MS : left));
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* What a request is called in messages: "schema registry POST http://h:p/x". */
struct xchg {
    const rill_registry_t *r;
    const char *what;
    char *errstr;
    size_t errsz;
};

static rill_err_t xfail(struct xchg *x, rill_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rill_err_t xfail(struct xchg *x, rill_err_t err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    rill_verrf(msg, sizeof msg, err, fmt, ap);
    va_end(ap);
    return rill_errf(x->errstr, x->errsz, err, "%s: %s", x->what, msg);
}

static rill_err_t connect_to(struct xchg *x, int *out)
{
    const rill_registry_t *r = x->r;
    struct addrinfo hints = { 0 }, *ai;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(r->host, r->port, &hints, &ai);
    if (rc)
        return xfail(x, RILL_ERR_IO, "cannot resolve '%s': %s", r->host, gai_strerror(rc));
    int64_t deadline = rill_now_ms() + r->connect_timeout_ms;
    int fd = -1, last = 0;
    for (struct addrinfo *p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, p->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
            break;
        last = errno;
        if (last == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            socklen_t sl = sizeof last;
            if (w == 0)
                last = ETIMEDOUT;
            else if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &sl))
                last = errno;
            if (!last)
                break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0 && last == ETIMEDOUT)
        return xfail(x, RILL_ERR_IO, "no connection within %d ms", r->connect_timeout_ms);
    if (fd < 0)
        return xfail(x, RILL_ERR_IO, "cannot connect: %s", strerror(last));
    *out = fd;
    return RILL_OK;
}

static rill_err_t send_all(struct xchg *x, int fd, const char *p, size_t n, int64_t deadline)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return xfail(x, RILL_ERR_IO, "cannot send the request: %s", strerror(errno));
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc == 0)
            return xfail(x, RILL_ERR_IO, "request not sent within %d ms", x->r->timeout_ms);
        if (rc < 0)
            return xfail(x, RILL_ERR_IO, "cannot send the request: %s", strerror(errno));
    }
    return RILL_OK;
}

/* An answer's head: status, Content-Length (-1: none), chunked. */
struct head {
    int status;
    long long clen;
    int chunked;
};

/* Parses the head p[0..n) (the status line and header lines, each ending in
 * CRLF, without the empty line). Returns NULL, or what is wrong with it. */
static const char *parse_head(const char *p, size_t n, struct head *h)
{
    const char *end = p + n;
    h->clen = -1;
    h->chunked = 0;
    if (n < 12 || memcmp(p, "HTTP/1.", 7) || p[8] != ' ' || p[9] < '1' || p[9] > '5' ||
        p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
        (n > 12 && p[12] != ' ' && p[12] != '\r'))
        return "not an http answer";
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    const char *line = (const char *)memmem(p, n, "\r\n", 2) + 2;
    while (line < end) {
        const char *eol = memmem(line, (size_t)(end - line), "\r\n", 2);
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (!colon || colon == line)
            return "malformed header line";
        const char *v = colon + 1, *vend = eol;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        size_t nlen = (size_t)(colon - line), vlen = (size_t)(vend - v);
        if (nlen == 14 && !strncasecmp(line, "content-length", 14)) {
            long long cl = 0;
            if (!vlen || vlen > 12)
                return "bad content-length";
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return "bad content-length";
                cl = cl * 10 + (v[i] - '0');
            }
            if (h->clen >= 0 && h->clen != cl)
                return "two different content-lengths";
            h->clen = cl;
        } else if (nlen == 17 && !strncasecmp(line, "transfer-encoding", 17)) {
            if (vlen != 7 || strncasecmp(v, "chunked", 7))
                return "unsupported transfer-encoding (only chunked is read)";
            h->chunked = 1;
        }
        line = eol + 2;
    }
    return NULL;
}

/* Decodes the chunked body p[0..n); with write, moves the data to the front
 * of p (it only moves backwards). Returns 1 when the body is complete
 * (*outlen its data length), 0 when more bytes are needed, -1 when it is
 * malformed. */
static int dechunk(char *p, size_t n, int write, size_t *outlen)
{
    size_t i = 0, o = 0;
    for (;;) {
        size_t size = 0, digits = 0;
        for (; i < n && rill_json_hexval(p[i]) >= 0; i++) {
            if (++digits > 7) /* more than any answer we accept */
                return -1;
            size = size * 16 + (size_t)rill_json_hexval(p[i]);
        }
        if (i == n)
            return 0;
        if (!digits || (p[i] != '\r' && p[i] != ';' && p[i] != ' ' && p[i] != '\t'))
            return -1;
        const char *eol = memmem(p + i, n - i, "\r\n", 2); /* extensions are skipped */
        if (!eol)
            return 0;
        i = (size_t)(eol - p) + 2;
        if (!size) { /* the last chunk, then trailer lines up to an empty one */
            for (;;) {
                eol = memmem(p + i, n - i, "\r\n", 2);
                if (!eol)
                    return 0;
                size_t len = (size_t)(eol - (p + i));
                i += len + 2;
                if (!len) {
                    *outlen = o;
                    return 1;
                }
            }
        }
        if (n - i < size + 2)
            return 0;
        if (p[i + size] != '\r' || p[i + size + 1] != '\n')
            return -1;
        if (write)
            memmove(p + o, p + i, size);
        o += size;
        i += size + 2;
    }
}

/* The answer: buf[0..len) as read; the body at buf + body, body_len bytes. */
struct answer {
    char *buf;
    size_t len, body, body_len;
    struct head h;
};

/* Reads the whole answer from fd within deadline. */
static rill_err_t read_answer(struct xchg *x, int fd, int64_t deadline, struct answer *a)
{
    const size_t max = RILL_REGISTRY_MAX_ANSWER;
    int have_head = 0;
    if (!(a->buf = malloc(max + 1)))
        return xfail(x, RILL_ERR_NOMEM, "out of memory");
    for (;;) {
        if (!have_head) {
            const char *e = memmem(a->buf, a->len, "\r\n\r\n", 4);
            if (e) {
                const char *why = parse_head(a->buf, (size_t)(e - a->buf) + 2, &a->h);
                if (why)
                    return xfail(x, RILL_ERR_INVALID, "%s", why);
                a->body = (size_t)(e - a->buf) + 4;
                have_head = 1;
                if (!a->h.chunked && a->h.clen > (long long)(max - a->body))
                    return xfail(x, RILL_ERR_INVALID, "answer of %lld bytes exceeds the limit of %zu",
                                 a->h.clen, max);
            }
        }
        if (have_head) {
            size_t got = a->len - a->body;
            if (a->h.chunked) {
                int rc = dechunk(a->buf + a->body, got, 0, &a->body_len);
                if (rc < 0)
                    return xfail(x, RILL_ERR_INVALID, "malformed chunked answer");
                if (rc > 0) {
                    dechunk(a->buf + a->body, got, 1, &a->body_len);
                    return RILL_OK;
                }
            } else if (a->h.clen >= 0 && got >= (size_t)a->h.clen) {
                a->body_len = (size_t)a->h.clen;
                return RILL_OK;
            }
        }
        if (a->len == max)
            return xfail(x, RILL_ERR_INVALID, "answer exceeds the limit of %zu bytes", max);
        int w = wait_fd(fd, POLLIN, deadline);
        if (w == 0)
            return xfail(x, RILL_ERR_IO, "no complete answer within %d ms", x->r->timeout_ms);
        ssize_t n = w < 0 ? -1 : recv(fd, a->buf + a->len, max - a->len, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n < 0)
            return xfail(x, RILL_ERR_IO, "cannot read the answer: %s", strerror(errno));
        if (n == 0) {
            if (have_head && !a->h.chunked && a->h.clen < 0) { /* the close ends the body */
                a->body_len = a->len - a->body;
                return RILL_OK;
            }
            return xfail(x, RILL_ERR_IO, "connection closed %s",
                         a->len ? "before the answer was complete" : "without an answer");
        }
        a->len += (size_t)n;
    }
}

/* Writes the request head for path and a body of blen bytes into buf (sz
 * bytes, 0 to measure); returns its length. */
static size_t request_head(const rill_registry_t *r, const char *path, size_t blen, char *buf,
                           size_t sz)
{
    int n = snprintf(buf, sz,
                     "POST %s HTTP/1.1\r\nHost: %.*s\r\nUser-Agent: rill\r\n"
                     "Accept: " CONTENT_TYPE ", application/json\r\n"
                     "Content-Type: " CONTENT_TYPE "\r\nContent-Length: %zu\r\n"
                     "%s%s%sConnection: close\r\n\r\n",
                     path, (int)r->authority_len, r->authority, blen,
                     r->auth ? "Authorization: " : "", r->auth ? r->auth : "",
                     r->auth ? "\r\n" : "");
    return n < 0 ? 0 : (size_t)n;
}

/* POSTs body (JSON) to path and reads the answer into a. */
static rill_err_t exchange(struct xchg *x, const char *path, const char *body, size_t blen,
                           struct answer *a)
{
    const rill_registry_t *r = x->r;
    size_t hlen = request_head(r, path, blen, NULL, 0), total = hlen + blen;
    char *req = malloc(total + 1);
    if (!req)
        return xfail(x, RILL_ERR_NOMEM, "out of memory");
    request_head(r, path, blen, req, hlen + 1);
    memcpy(req + hlen, body, blen);

    int fd = -1;
    rill_err_t err = connect_to(x, &fd);
    if (!err) {
        int64_t deadline = rill_now_ms() + r->timeout_ms;
        err = send_all(x, fd, req, total, deadline);
        if (!err)
            err = read_answer(x, fd, deadline, a);
        close(fd);
    }
    explicit_bzero(req, hlen); /* the Authorization header */
    free(req);
    return err;
}

/* ---- register ---- */

/* The JSON body {"schema": "<schema, escaped>"}; *len its length. */
static char *schema_body(const char *schema, size_t *len)
{
    size_t n = strlen(schema);
    char *b = malloc(n * 6 + 16), *o = b;
    if (!b)
        return NULL;
    o += sprintf(o, "{\"schema\":\"");
    for (const unsigned char *s = (const unsigned char *)schema; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
            *o++ = (char)*s;
        } else if (*s == '\n') {
            o += sprintf(o, "\\n");
        } else if (*s < 0x20) {
            o += sprintf(o, "\\u%04x", *s);
        } else {
            *o++ = (char)*s;
        }
    }
    o += sprintf(o, "\"}");
    *len = (size_t)(o - b);
    return b;
}

/* Percent-encodes s for a path segment into out (3 * strlen(s) + 1). */
static void path_segment(const char *s, char *out)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            *out++ = (char)c;
        else
            out += sprintf(out, "%%%02X", c);
    }
    *out = '\0';
}

/* The registry's error in a failed answer: "http 409: <message> (error_code
 * 409)", the message cut at MAX_SHOWN bytes, control bytes replaced. */
static rill_err_t status_error(struct xchg *x, const struct answer *a)
{
    int st = a->h.status;
    rill_err_t err = st == 401 || st == 403 ? RILL_ERR_AUTH
                     : st >= 500            ? RILL_ERR_IO
                                            : RILL_ERR_CONFIG;
    const char *body = a->buf + a->body;
    rill_json_val_t root, key, val;
    char k[16], code[24] = "";
    char *msg = malloc(a->body_len + 1);
    size_t pos = 0, mlen = 0;
    if (msg && rill_json_parse(body, a->body_len, &root, NULL) == RILL_JSON_FOUND) {
        while (rill_json_next(&root, &pos, &key, &val)) {
            if (rill_json_string(&key, k, sizeof k, NULL) != RILL_JSON_FOUND)
                continue;
            if (!strcmp(k, "error_code") && val.type == RILL_JSON_NUMBER && val.len < sizeof code)
                snprintf(code, sizeof code, "%.*s", (int)val.len, val.p);
            else if (!strcmp(k, "message") &&
                     rill_json_string(&val, msg, a->body_len + 1, &mlen) != RILL_JSON_FOUND)
                mlen = 0;
        }
    }
    if (mlen > MAX_SHOWN) {
        memcpy(msg + MAX_SHOWN - 3, "...", 3);
        mlen = MAX_SHOWN;
    }
    for (size_t i = 0; i < mlen; i++)
        if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
            msg[i] = '?';
    if (st >= 300 && st < 400)
        err = xfail(x, err, "http %d: redirects are not followed", st);
    else if (mlen || *code)
        err = xfail(x, err, "http %d: %.*s%s(error_code %s)", st, (int)mlen, mlen ? msg : "",
                    mlen ? " " : "", *code ? code : "none");
    else
        err = xfail(x, err, "http %d without a registry error in the answer", st);
    free(msg);
    return err;
}

/* The id of a 2xx answer {"id": N, ...}. */
static rill_err_t answer_id(struct xchg *x, const struct answer *a, int32_t *id)
{
    rill_json_val_t root, key, val;
    char k[8];
    size_t pos = 0;
    if (rill_json_parse(a->buf + a->body, a->body_len, &root, NULL) != RILL_JSON_FOUND ||
        root.type != RILL_JSON_OBJECT)
        return xfail(x, RILL_ERR_INVALID, "http %d but the answer is not a json object",
                     a->h.status);
    while (rill_json_next(&root, &pos, &key, &val)) {
        if (rill_json_string(&key, k, sizeof k, NULL) != RILL_JSON_FOUND || strcmp(k, "id"))
            continue;
        long long v = 0;
        size_t i = 0;
        for (; i < val.len && i < 11 && val.p[i] >= '0' && val.p[i] <= '9'; i++)
            v = v * 10 + (val.p[i] - '0');
        if (val.type != RILL_JSON_NUMBER || i != val.len || v < 1 || v > INT32_MAX)
            return xfail(x, RILL_ERR_INVALID, "the answer's id is not a schema id 1..%d",
                         INT32_MAX);
        *id = (int32_t)v;
        return RILL_OK;
    }
    return xfail(x, RILL_ERR_INVALID, "the answer has no id");
}

rill_err_t rill_registry_register(rill_registry_t *r, const char *subject, const char *schema,
                                  int32_t *id, char *errstr, size_t errsz)
{
    size_t slen = strlen(subject), blen = 0;
    size_t psz = strlen(r->path) + 3 * slen + 32;
    char *path = malloc(psz), *what = malloc(strlen(r->url) + 3 * slen + 64);
    char *body = schema_body(schema, &blen);
    struct answer a = { 0 };
    rill_err_t err = RILL_ERR_NOMEM;
    if (!path || !what || !body) {
        rill_errf(errstr, errsz, err, "out of memory registering schema '%s'", subject);
        goto out;
    }
    int n = snprintf(path, psz, "%s/subjects/", r->path);
    path_segment(subject, path + n);
    strcat(path, "/versions");
    sprintf(what, "schema registry POST %s%s", r->url, path + strlen(r->path));
    struct xchg x = { r, what, errstr, errsz };
    err = exchange(&x, path, body, blen, &a);
    if (!err)
        err = a.h.status >= 200 && a.h.status < 300 ? answer_id(&x, &a, id) : status_error(&x, &a);
out:
    free(a.buf);
    free(body);
    free(what);
    free(path);
    return err;
}
