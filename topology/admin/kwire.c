/*
 * kwire.c - the minimal Kafka protocol client of kwire.h: a blocking socket
 * (OpenSSL on top for ssl and sasl_ssl), SASL PLAIN or SCRAM (RFC 5802)
 * through SaslHandshake v1 and SaslAuthenticate v1, then CreateAcls v1 and
 * DescribeAcls v1 (non-flexible versions, served by Kafka 2.0 to 4.x). Every
 * read of a response is bounds-checked; a response larger than 64 MiB or
 * malformed is an error, never a crash.
 *
 * Not here: anything librdkafka can do (rill uses it for all else), retries,
 * broker discovery, printing.
 */
#include "topology/admin/kwire.h"
#include "topology/admin/scram.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#define API_DESCRIBE_ACLS 29
#define API_CREATE_ACLS 30
#define API_SASL_HANDSHAKE 17
#define API_SASL_AUTHENTICATE 36
#define MAX_RESPONSE (64 * 1024 * 1024)
#define QUOTE_ERRMSG_MAX 400 /* bytes of a broker's error_message field kept */
#define QUOTE_SERVER_MAX 100 /* bytes of a malformed bootstrap server quoted */

struct rill_kwire {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int32_t corr;
    char *client_id;
    char server[300];   /* "host:port", for messages */
};

/* ---- encoding ------------------------------------------------------------ */

struct wbuf {
    unsigned char *p;
    size_t len, cap;
    int oom;
};

static void w_raw(struct wbuf *b, const void *s, size_t n)
{
    if (b->oom || !n)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void w_int(struct wbuf *b, uint64_t v, int size)
{
    unsigned char x[8];
    for (int i = 0; i < size; i++)
        x[i] = (unsigned char)(v >> (8 * (size - 1 - i)));
    w_raw(b, x, (size_t)size);
}

/* A STRING, or a NULLABLE_STRING when s is NULL (length -1). */
static void w_str(struct wbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > INT16_MAX) {
        b->oom = 1; /* not representable; reported like an allocation failure */
        return;
    }
    w_int(b, s ? (uint64_t)n : 0xffff, 2);
    w_raw(b, s, n);
}

static void w_bytes(struct wbuf *b, const void *s, size_t n)
{
    w_int(b, (uint64_t)n, 4);
    w_raw(b, s, n);
}

/* ---- decoding ------------------------------------------------------------- */

struct rbuf {
    const unsigned char *p;
    size_t len, off;
    int bad;
};

static int64_t r_int(struct rbuf *b, int size)
{
    if (b->bad || b->len - b->off < (size_t)size) {
        b->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < size; i++)
        v = v << 8 | b->p[b->off++];
    if (size == 1)
        return (int8_t)v;
    if (size == 2)
        return (int16_t)v;
    if (size == 4)
        return (int32_t)v;
    return (int64_t)v;
}

/* A STRING or NULLABLE_STRING (NULL, length 0), or BYTES when size is 4. */
static const char *r_chunk(struct rbuf *b, int size, size_t *n)
{
    int64_t len = r_int(b, size);
    *n = 0;
    if (b->bad || len < 0)
        return NULL;
    if (b->len - b->off < (size_t)len) {
        b->bad = 1;
        return NULL;
    }
    const char *s = (const char *)b->p + b->off;
    b->off += (size_t)len;
    *n = (size_t)len;
    return s;
}

/* An array count: -1 (null) is empty; a count the remaining bytes cannot
 * hold is malformed. */
static size_t r_count(struct rbuf *b, size_t min_item)
{
    int64_t n = r_int(b, 4);
    if (b->bad || n < 0)
        return 0;
    if ((uint64_t)n > (b->len - b->off) / min_item) {
        b->bad = 1;
        return 0;
    }
    return (size_t)n;
}

/* ---- errors ---------------------------------------------------------------- */

/* The last OpenSSL error, or fallback. */
static const char *ssl_why(char *buf, size_t size, const char *fallback)
{
    unsigned long e = ERR_get_error();
    if (!e)
        return fallback;
    ERR_error_string_n(e, buf, size);
    ERR_clear_error();
    return buf;
}

/* A broker error: its message when it sent one, else librdkafka's text for
 * the code (broker codes and rd_kafka_resp_err_t agree). */
static void broker_error(char *out, size_t size, int16_t code, const char *msg, size_t msglen)
{
    if (msg && msglen)
        snprintf(out, size, "%.*s", (int)(msglen > QUOTE_ERRMSG_MAX ? QUOTE_ERRMSG_MAX : msglen), msg);
    else
        snprintf(out, size, "%s", rd_kafka_err2str((rd_kafka_resp_err_t)code));
}

/* ---- i/o ------------------------------------------------------------------- */

static int io_write(rill_kwire_t *w, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t r;
        if (w->ssl) {
            int s = SSL_write(w->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            r = s > 0 ? s : -1;
        } else {
            r = send(w->fd, p, n, MSG_NOSIGNAL);
            if (r < 0 && errno == EINTR)
                continue;
        }
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int io_read(rill_kwire_t *w, unsigned char *p, size_t n)
{
    while (n) {
        ssize_t r;
        if (w->ssl) {
            int s = SSL_read(w->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            r = s > 0 ? s : -1;
        } else {
            r = recv(w->fd, p, n, 0);
            if (r < 0 && errno == EINTR)
                continue;
        }
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Sends request `api` version `ver` with body, and reads its response into
 * *resp (malloc'd; the caller frees resp->p), positioned after the
 * correlation id. */
static rill_err_t roundtrip(rill_kwire_t *w, int api, int ver, const struct wbuf *body,
                            struct rbuf *resp, char *errstr, size_t errsz)
{
    struct wbuf req = { 0 };
    int32_t corr = ++w->corr;
    w_int(&req, 0, 4); /* size, filled below */
    w_int(&req, (uint64_t)api, 2);
    w_int(&req, (uint64_t)ver, 2);
    w_int(&req, (uint32_t)corr, 4);
    w_str(&req, w->client_id);
    w_raw(&req, body->p, body->len);
    if (req.oom || body->oom) {
        free(req.p);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    uint32_t size = (uint32_t)(req.len - 4);
    for (int i = 0; i < 4; i++)
        req.p[i] = (unsigned char)(size >> (24 - 8 * i));
    int r = io_write(w, req.p, req.len);
    free(req.p);
    if (r < 0)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot send to kafka broker '%s': %s",
                    w->server, errno == EAGAIN ? "timed out" : "connection lost");
    unsigned char hdr[4];
    if (io_read(w, hdr, 4) < 0)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "no answer from kafka broker '%s': %s",
                    w->server, errno == EAGAIN ? "timed out" : "connection closed");
    uint32_t len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
    if (len < 4 || len > MAX_RESPONSE)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                    "malformed answer from kafka broker '%s' (%u bytes)", w->server, len);
    unsigned char *p = malloc(len);
    if (!p)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    if (io_read(w, p, len) < 0) {
        free(p);
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "no answer from kafka broker '%s': %s",
                    w->server, errno == EAGAIN ? "timed out" : "connection closed");
    }
    *resp = (struct rbuf){ .p = p, .len = len };
    if (r_int(resp, 4) != corr) {
        free(p);
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                    "kafka broker '%s' answered another request", w->server);
    }
    return RILL_OK;
}

/* ---- connecting -------------------------------------------------------------- */

static const char *conf_get(const struct rill_kvlist *conf, const char *key)
{
    /* The last setting wins, as in librdkafka. */
    const char *v = NULL;
    for (size_t i = 0; conf && i < conf->n; i++)
        if (!strcmp(conf->v[i].key, key))
            v = conf->v[i].value;
    return v;
}

/* Splits the n-char server s ("host", "host:port", "[v6]:port", with an
 * optional "proto://" prefix) into host and port; 0 or -1. */
static int split_server(const char *s, size_t n, char *host, size_t hsz, char *port, size_t psz)
{
    const char *sep = memmem(s, n, "://", 3);
    if (sep) {
        n -= (size_t)(sep + 3 - s);
        s = sep + 3;
    }
    const char *h = s, *colon = NULL;
    size_t hlen = n;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return -1;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1 < s + n && close[1] == ':' ? close + 1 : NULL;
    } else {
        for (size_t i = n; i > 0; i--)
            if (s[i - 1] == ':') {
                colon = s + i - 1;
                hlen = (size_t)(colon - s);
                break;
            }
    }
    size_t plen = colon ? n - (size_t)(colon + 1 - s) : 0;
    if (!hlen || hlen >= hsz || plen >= psz || (colon && !plen))
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (colon) {
        memcpy(port, colon + 1, plen);
        port[plen] = '\0';
    } else {
        snprintf(port, psz, "9092");
    }
    return 0;
}

/* A connected blocking socket to host:port with send and receive timeouts,
 * or -1 with the reason in why. */
static int tcp_connect(const char *host, const char *port, int timeout_ms, char *why,
                       size_t whysz)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
    int r = getaddrinfo(host, port, &hints, &ai);
    if (r) {
        snprintf(why, whysz, "%s", gai_strerror(r));
        return -1;
    }
    int fd = -1;
    snprintf(why, whysz, "no address");
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            snprintf(why, whysz, "%s", strerror(errno));
            continue;
        }
        int err = 0;
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            err = errno;
            if (err == EINPROGRESS) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                socklen_t elen = sizeof err;
                r = poll(&p, 1, timeout_ms);
                if (r == 0)
                    err = ETIMEDOUT;
                else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
                    err = errno;
            }
        }
        if (err) {
            snprintf(why, whysz, "%s", strerror(err));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    why[0] = (char)tolower((unsigned char)why[0]);
    if (fd < 0)
        return -1;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    int one = 1;
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        snprintf(why, whysz, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static rill_err_t tls_start(rill_kwire_t *w, const struct rill_kvlist *conf, const char *host,
                            char *errstr, size_t errsz)
{
    char why[256];
    const char *verify_s = conf_get(conf, "enable.ssl.certificate.verification");
    const char *ident = conf_get(conf, "ssl.endpoint.identification.algorithm");
    const char *ca = conf_get(conf, "ssl.ca.location");
    const char *cert = conf_get(conf, "ssl.certificate.location");
    const char *key = conf_get(conf, "ssl.key.location");
    const char *keypass = conf_get(conf, "ssl.key.password");
    int verify = !verify_s || strcasecmp(verify_s, "false");
    if (!(w->ctx = SSL_CTX_new(TLS_client_method())) ||
        !SSL_CTX_set_min_proto_version(w->ctx, TLS1_2_VERSION))
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot set up tls: %s",
                    ssl_why(why, sizeof why, "out of memory"));
    if (verify) {
        SSL_CTX_set_verify(w->ctx, SSL_VERIFY_PEER, NULL);
        struct stat st;
        int ok;
        if (ca && strcmp(ca, "probe"))
            ok = stat(ca, &st) == 0 && S_ISDIR(st.st_mode)
                     ? SSL_CTX_load_verify_locations(w->ctx, NULL, ca)
                     : SSL_CTX_load_verify_locations(w->ctx, ca, NULL);
        else
            ok = SSL_CTX_set_default_verify_paths(w->ctx);
        if (!ok)
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "cannot load the ca certificates '%s': %s",
                        ca ? ca : "(system default)",
                        ssl_why(why, sizeof why, "unreadable"));
    }
    if (cert && SSL_CTX_use_certificate_chain_file(w->ctx, cert) != 1)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "cannot load ssl.certificate.location '%s': %s",
                    cert, ssl_why(why, sizeof why, "unreadable"));
    if (key) {
        SSL_CTX_set_default_passwd_cb_userdata(w->ctx, (void *)keypass);
        int ok = SSL_CTX_use_PrivateKey_file(w->ctx, key, SSL_FILETYPE_PEM) == 1 &&
                 (!cert || SSL_CTX_check_private_key(w->ctx) == 1);
        SSL_CTX_set_default_passwd_cb_userdata(w->ctx, NULL);
        if (!ok)
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "cannot load ssl.key.location '%s': %s",
                        key, ssl_why(why, sizeof why, "unreadable"));
    }
    if (!(w->ssl = SSL_new(w->ctx)) || !SSL_set_fd(w->ssl, w->fd))
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot set up tls: %s",
                    ssl_why(why, sizeof why, "out of memory"));
    unsigned char addr[16];
    int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(w->ssl, host);
    if (verify && (!ident || strcasecmp(ident, "none"))) {
        X509_VERIFY_PARAM *param = SSL_get0_param(w->ssl);
        if (!(is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host)
                    : X509_VERIFY_PARAM_set1_host(param, host, 0)))
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "cannot set up tls: out of memory");
    }
    if (SSL_connect(w->ssl) != 1) {
        long vr = SSL_get_verify_result(w->ssl);
        const char *reason = vr != X509_V_OK ? X509_verify_cert_error_string(vr)
                                             : ssl_why(why, sizeof why, "connection closed");
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "tls handshake with '%s' failed: %s",
                    w->server, reason);
    }
    return RILL_OK;
}

/* One SaslAuthenticate round: sends bytes, returns the broker's in *out. */
static rill_err_t sasl_round(rill_kwire_t *w, const char *user, const void *bytes, size_t n,
                             char **out, size_t *outn, char *errstr, size_t errsz)
{
    struct wbuf body = { 0 };
    struct rbuf resp;
    w_bytes(&body, bytes, n);
    rill_err_t err = roundtrip(w, API_SASL_AUTHENTICATE, 1, &body, &resp, errstr, errsz);
    free(body.p);
    if (err)
        return err;
    size_t mlen, alen;
    int16_t code = (int16_t)r_int(&resp, 2);
    const char *msg = r_chunk(&resp, 2, &mlen);
    const char *auth = r_chunk(&resp, 4, &alen);
    r_int(&resp, 8); /* session_lifetime_ms */
    if (resp.bad) {
        free((void *)resp.p);
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                    "malformed sasl answer from kafka broker '%s'", w->server);
    }
    if (code) {
        char why[512];
        broker_error(why, sizeof why, code, msg, mlen);
        free((void *)resp.p);
        return rill_errf(errstr, errsz, RILL_ERR_AUTH, "kafka authentication failed for user '%s': %s",
                    user, why);
    }
    *out = strndup(auth ? auth : "", alen);
    *outn = alen;
    free((void *)resp.p);
    return *out ? RILL_OK : rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
}

/* The SASL mechanism conf asks for: 256 or 512 for SCRAM, 0 for PLAIN;
 * -1 (with errstr) for what kwire cannot do or a missing user. */
static int sasl_mechanism(const struct rill_kvlist *conf, char *errstr, size_t errsz)
{
    const char *mech = conf_get(conf, "sasl.mechanisms");
    const char *alias = conf_get(conf, "sasl.mechanism");
    if (alias)
        mech = alias;
    if (!mech)
        mech = "GSSAPI"; /* librdkafka's default */
    int bits = !strcasecmp(mech, "SCRAM-SHA-256") ? 256 : !strcasecmp(mech, "SCRAM-SHA-512") ? 512 : 0;
    if (!bits && strcasecmp(mech, "PLAIN")) {
        rill_errf(errstr, errsz, RILL_ERR_CONFIG,
             "sasl mechanism '%s' is not supported for transactional-id acls (librdkafka "
             "2.0.2 cannot create them; rill does it for PLAIN, SCRAM-SHA-256 and "
             "SCRAM-SHA-512)",
             mech);
        return -1;
    }
    if (!conf_get(conf, "sasl.username") || !conf_get(conf, "sasl.password")) {
        rill_errf(errstr, errsz, RILL_ERR_CONFIG,
             "sasl mechanism '%s' needs sasl.username and sasl.password", mech);
        return -1;
    }
    return bits;
}

static rill_err_t sasl_login(rill_kwire_t *w, const struct rill_kvlist *conf, int bits,
                             char *errstr, size_t errsz)
{
    const char *user = conf_get(conf, "sasl.username");
    const char *pass = conf_get(conf, "sasl.password");
    struct wbuf body = { 0 };
    struct rbuf resp;
    char upper[32];
    snprintf(upper, sizeof upper, "%s", bits == 256 ? "SCRAM-SHA-256" : bits ? "SCRAM-SHA-512" : "PLAIN");
    w_str(&body, upper);
    rill_err_t err = roundtrip(w, API_SASL_HANDSHAKE, 1, &body, &resp, errstr, errsz);
    free(body.p);
    if (err)
        return err;
    int16_t code = (int16_t)r_int(&resp, 2);
    int bad = resp.bad;
    free((void *)resp.p);
    if (bad)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "malformed sasl answer from kafka broker '%s'",
                    w->server);
    if (code)
        return rill_errf(errstr, errsz, RILL_ERR_AUTH,
                    "kafka broker '%s' does not enable sasl mechanism '%s'", w->server, upper);

    char *answer = NULL;
    size_t alen = 0;
    if (!bits) {
        size_t ulen = strlen(user), plen = strlen(pass);
        char *msg = malloc(ulen + plen + 2);
        if (!msg)
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        msg[0] = '\0';
        memcpy(msg + 1, user, ulen);
        msg[1 + ulen] = '\0';
        memcpy(msg + 2 + ulen, pass, plen);
        err = sasl_round(w, user, msg, ulen + plen + 2, &answer, &alen, errstr, errsz);
        OPENSSL_cleanse(msg, ulen + plen + 2);
        free(msg);
        free(answer);
        return err;
    }
    unsigned char raw[18];
    char nonce[32], *first = NULL, *final = NULL;
    struct rill_scram s;
    if (RAND_bytes(raw, sizeof raw) != 1)
        return rill_errf(errstr, errsz, RILL_ERR_FATAL, "no random bytes for the scram nonce");
    EVP_EncodeBlock((unsigned char *)nonce, raw, sizeof raw);
    if (rill_scram_first(&s, bits, user, nonce, &first) != RILL_OK)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    err = sasl_round(w, user, first, strlen(first), &answer, &alen, errstr, errsz);
    free(first);
    if (!err)
        err = rill_scram_final(&s, pass, answer, alen, &final, errstr, errsz);
    free(answer);
    answer = NULL;
    if (!err)
        err = sasl_round(w, user, final, strlen(final), &answer, &alen, errstr, errsz);
    if (!err)
        err = rill_scram_verify(&s, answer, alen, errstr, errsz);
    free(final);
    free(answer);
    rill_scram_clear(&s);
    return err;
}

rill_err_t rill_kwire_connect(const struct rill_kvlist *conf, int timeout_ms, rill_kwire_t **out,
                              char *errstr, size_t errsz)
{
    static const char *const refused[] = { "ssl.ca.pem", "ssl.certificate.pem", "ssl.key.pem",
                                           "ssl.keystore.location", NULL };
    *out = NULL;
    for (size_t i = 0; refused[i]; i++)
        if (conf_get(conf, refused[i]))
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                        "kafka setting '%s' is not supported for transactional-id acls "
                        "(librdkafka 2.0.2 cannot create them; rill does it with "
                        "ssl.ca.location, ssl.certificate.location and ssl.key.location)",
                        refused[i]);
    const char *servers = conf_get(conf, "bootstrap.servers");
    if (!servers)
        servers = conf_get(conf, "metadata.broker.list");
    if (!servers || !*servers)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "no bootstrap.servers in the kafka settings");
    const char *proto = conf_get(conf, "security.protocol");
    if (!proto)
        proto = "plaintext";
    int tls = !strcasecmp(proto, "ssl") || !strcasecmp(proto, "sasl_ssl");
    int sasl = !strcasecmp(proto, "sasl_plaintext") || !strcasecmp(proto, "sasl_ssl");
    if (!tls && !sasl && strcasecmp(proto, "plaintext"))
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "unknown security.protocol '%s'", proto);
    int bits = sasl ? sasl_mechanism(conf, errstr, errsz) : 0;
    if (bits < 0)
        return RILL_ERR_CONFIG;

    rill_kwire_t *w = calloc(1, sizeof *w);
    if (!w)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    w->fd = -1;
    const char *cid = conf_get(conf, "client.id");
    if (!(w->client_id = strdup(cid ? cid : "rill-apply"))) {
        free(w);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    char host[256], port[32], why[256] = "no server";
    for (const char *s = servers; *s && w->fd < 0;) {
        size_t n = strcspn(s, ", ");
        if (n && split_server(s, n, host, sizeof host, port, sizeof port) == 0) {
            snprintf(w->server, sizeof w->server, "%s:%s", host, port);
            w->fd = tcp_connect(host, port, timeout_ms, why, sizeof why);
        } else if (n) {
            snprintf(why, sizeof why, "malformed server '%.*s'", (int)(n > QUOTE_SERVER_MAX ? QUOTE_SERVER_MAX : n), s);
        }
        s += n;
        s += strspn(s, ", ");
    }
    rill_err_t err = RILL_OK;
    if (w->fd < 0)
        err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot connect to kafka at '%s': %s", servers,
                   why);
    if (!err && tls)
        err = tls_start(w, conf, host, errstr, errsz);
    if (!err && sasl)
        err = sasl_login(w, conf, bits, errstr, errsz);
    if (err) {
        rill_kwire_close(w);
        return err;
    }
    *out = w;
    return RILL_OK;
}

void rill_kwire_close(rill_kwire_t *w)
{
    if (!w)
        return;
    if (w->ssl) {
        SSL_shutdown(w->ssl);
        SSL_free(w->ssl);
    }
    SSL_CTX_free(w->ctx);
    if (w->fd >= 0)
        close(w->fd);
    free(w->client_id);
    free(w);
}

/* ---- ACLs -------------------------------------------------------------------- */

rill_err_t rill_kwire_describe_acls(rill_kwire_t *w, int resource,
                                    void (*cb)(void *opaque, const struct rill_kwire_acl *acl),
                                    void *opaque, char *errstr, size_t errsz)
{
    struct wbuf body = { 0 };
    struct rbuf resp;
    w_int(&body, (uint64_t)resource, 1);
    w_str(&body, NULL);    /* any name */
    w_int(&body, 1, 1);    /* any pattern */
    w_str(&body, NULL);    /* any principal */
    w_str(&body, NULL);    /* any host */
    w_int(&body, 1, 1);    /* any operation */
    w_int(&body, 1, 1);    /* any permission */
    rill_err_t err = roundtrip(w, API_DESCRIBE_ACLS, 1, &body, &resp, errstr, errsz);
    free(body.p);
    if (err)
        return err;
    r_int(&resp, 4); /* throttle_time_ms */
    size_t mlen;
    int16_t code = (int16_t)r_int(&resp, 2);
    const char *msg = r_chunk(&resp, 2, &mlen);
    if (!resp.bad && code) {
        char why[512];
        broker_error(why, sizeof why, code, msg, mlen);
        free((void *)resp.p);
        return rill_errf(errstr, errsz, code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED
                                       ? RILL_ERR_AUTH
                                       : RILL_ERR_KAFKA,
                    "cannot describe transactional-id acls: %s", why);
    }
    size_t nres = r_count(&resp, 8);
    for (size_t i = 0; i < nres && !resp.bad && !err; i++) {
        size_t nlen;
        struct rill_kwire_acl a = { 0 };
        a.resource = (int)r_int(&resp, 1);
        const char *name = r_chunk(&resp, 2, &nlen);
        a.pattern = (int)r_int(&resp, 1);
        size_t nacl = r_count(&resp, 6);
        char *name_z = strndup(name ? name : "", nlen);
        if (!name_z)
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        for (size_t j = 0; j < nacl && !resp.bad && !err; j++) {
            size_t plen, hlen;
            const char *principal = r_chunk(&resp, 2, &plen);
            const char *host = r_chunk(&resp, 2, &hlen);
            a.op = (int)r_int(&resp, 1);
            a.permission = (int)r_int(&resp, 1);
            char *p_z = strndup(principal ? principal : "", plen);
            char *h_z = strndup(host ? host : "", hlen);
            if (!p_z || !h_z) {
                err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
            } else if (!resp.bad) {
                a.name = name_z;
                a.principal = p_z;
                a.host = h_z;
                cb(opaque, &a);
            }
            free(p_z);
            free(h_z);
        }
        free(name_z);
    }
    int bad = resp.bad;
    free((void *)resp.p);
    if (!err && bad)
        err = rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                   "malformed describe-acls answer from kafka broker '%s'", w->server);
    return err;
}

rill_err_t rill_kwire_create_acls(rill_kwire_t *w, const struct rill_kwire_acl *acls, size_t n,
                                  void (*cb)(void *opaque, size_t i, const char *error),
                                  void *opaque, char *errstr, size_t errsz)
{
    struct wbuf body = { 0 };
    struct rbuf resp;
    w_int(&body, (uint64_t)n, 4);
    for (size_t i = 0; i < n; i++) {
        w_int(&body, (uint64_t)acls[i].resource, 1);
        w_str(&body, acls[i].name);
        w_int(&body, (uint64_t)acls[i].pattern, 1);
        w_str(&body, acls[i].principal);
        w_str(&body, acls[i].host);
        w_int(&body, (uint64_t)acls[i].op, 1);
        w_int(&body, (uint64_t)acls[i].permission, 1);
    }
    rill_err_t err = roundtrip(w, API_CREATE_ACLS, 1, &body, &resp, errstr, errsz);
    free(body.p);
    if (err)
        return err;
    r_int(&resp, 4); /* throttle_time_ms */
    size_t nres = r_count(&resp, 4);
    if (!resp.bad && nres != n) {
        free((void *)resp.p);
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                    "kafka broker '%s' answered %zu of %zu acls", w->server, nres, n);
    }
    /* Parse everything first: a malformed answer reports nothing per acl. */
    size_t start = resp.off;
    for (size_t i = 0; i < nres && !resp.bad; i++) {
        size_t mlen;
        r_int(&resp, 2);
        r_chunk(&resp, 2, &mlen);
    }
    if (resp.bad) {
        free((void *)resp.p);
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                    "malformed create-acls answer from kafka broker '%s'", w->server);
    }
    resp.off = start;
    for (size_t i = 0; i < nres; i++) {
        size_t mlen;
        int16_t code = (int16_t)r_int(&resp, 2);
        const char *msg = r_chunk(&resp, 2, &mlen);
        char why[512];
        if (code)
            broker_error(why, sizeof why, code, msg, mlen);
        cb(opaque, i, code ? why : NULL);
    }
    free((void *)resp.p);
    return RILL_OK;
}
