/*
 * registry.c - the schema registry client of registry.h: the URL and
 * credential checks, one libcurl easy handle per registry (a connection per
 * request) with the timeouts, the CA file, basic auth,
 * no redirects and an answer bounded to RILL_REGISTRY_MAX_ANSWER bytes, and
 * the registry's JSON ({"id": N}, {"schema": ".."}, or {"error_code": ..,
 * "message": ..}) read with the bounded reader of json.h. Knows nothing of
 * the serde or its schemas; speaks no HTTP itself.
 */
#include "schemas/registry.h"

#include "topology/base/json.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"
#define MAX_SHOWN 200 /* bytes of the registry's message quoted in an error */

struct rill_registry {
    char *url;      /* scheme "://" authority base-path, the scheme lower case */
    char *user;     /* NULL: no auth */
    char *password; /* wiped on destroy */
    char *ca_file;  /* NULL: the system's CAs */
    int https;
    int connect_timeout_ms, timeout_ms;
    CURL *curl;                /* made by the first request, reused */
    struct curl_slist *headers;
    char curl_err[CURL_ERROR_SIZE];
};

/* ---- libcurl's global state, once per process ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* curl_global_init() is not thread-safe before curl 7.84 (and never with
 * every TLS backend), so it runs once, here, whichever thread makes the
 * first registry. Its curl_global_cleanup() is left to the process's exit:
 * other threads may still hold registries. */
static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

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
    conf->ca_file = env("RILL_SCHEMA_REGISTRY_CA_FILE");
}

/* ---- configuration ---- */

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void rill_registry_destroy(rill_registry_t *r)
{
    if (!r)
        return;
    if (r->curl)
        curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    wipe_free(r->user);
    wipe_free(r->password);
    free(r->ca_file);
    free(r->url);
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

/* Checks url and sets r->url (the scheme lower case, no trailing slash) and
 * r->https. Messages never quote the URL: whatever it holds, it may be a
 * mistyped secret. */
static rill_err_t parse_url(rill_registry_t *r, const char *url, char *errstr, size_t errsz)
{
    const rill_err_t E = RILL_ERR_CONFIG;
    if (!url || !*url)
        return rill_errf(errstr, errsz, E, "no schema registry url");
    size_t slen;
    if (!strncasecmp(url, "https://", 8))
        r->https = 1, slen = 8;
    else if (!strncasecmp(url, "http://", 7))
        slen = 7;
    else
        return rill_errf(errstr, errsz, E,
                         "schema registry url must start with http:// or https://");
    if (strchr(url, '@'))
        return rill_errf(errstr, errsz, E,
                    "schema registry url must not hold credentials; configure a user and "
                    "password instead");
    if (strchr(url, ','))
        return rill_errf(errstr, errsz, E, "schema registry url: give one url, not a list");
    const char *a = url + slen;
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
    if (port) {
        size_t plen = (size_t)(a + alen - port);
        int ok = plen >= 1 && plen <= 5;
        long pnum = 0;
        for (size_t i = 0; ok && i < plen; i++) {
            ok = port[i] >= '0' && port[i] <= '9';
            pnum = pnum * 10 + (port[i] - '0');
        }
        if (!ok || pnum < 1 || pnum > 65535)
            return rill_errf(errstr, errsz, E, "schema registry url: the port must be 1..65535");
    }
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/')
        plen--;
    if (!(r->url = malloc(slen + alen + plen + 1)))
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    memcpy(r->url, r->https ? "https://" : "http://", slen);
    memcpy(r->url + slen, a, alen);
    memcpy(r->url + slen + alen, path, plen);
    r->url[slen + alen + plen] = '\0';
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

/* Sets r->user and r->password from the user and the password (or its
 * file). Messages name neither the user nor the password. */
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
    r->user = strdup(c->user);
    r->password = strdup(pw);
    explicit_bzero(file_pw, sizeof file_pw);
    return r->user && r->password ? RILL_OK
                                  : rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
}

rill_err_t rill_registry_new(rill_registry_t **out, const struct rill_registry_conf *conf,
                             char *errstr, size_t errsz)
{
    *out = NULL;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot set up libcurl: %s",
                         curl_easy_strerror(curl_init_rc));
    rill_registry_t *r = calloc(1, sizeof *r);
    if (!r)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t err = parse_url(r, conf->url, errstr, errsz);
    if (!err)
        err = set_auth(r, conf, errstr, errsz);
    if (!err && conf->ca_file && *conf->ca_file) {
        if (!r->https)
            err = rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                            "a schema registry ca file needs an https:// url");
        else if (!(r->ca_file = strdup(conf->ca_file)))
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
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

rill_err_t rill_registry_topic_subject(const char *topic, char *out, size_t outsz,
                                       char *errstr, size_t errsz)
{
    if (!topic || !*topic)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "no topic for a topic subject");
    int n = snprintf(out, outsz, "%s-value", topic);
    if (n < 0 || (size_t)n >= outsz)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "the subject of topic '%s' is too long",
                         topic);
    return RILL_OK;
}

/* ---- one request ---- */

/* What a request is called in messages: "schema registry POST http://h:p/x". */
struct xchg {
    rill_registry_t *r;
    const char *what;
    char *errstr;
    size_t errsz;
};

static rill_err_t xfail(struct xchg *x, rill_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static rill_err_t xfail(struct xchg *x, rill_err_t err, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    rill_verrf(msg, sizeof msg, err, fmt, ap);
    va_end(ap);
    return rill_errf(x->errstr, x->errsz, err, "%s: %s", x->what, msg);
}

/* The answer's body, at most RILL_REGISTRY_MAX_ANSWER bytes. */
struct answer {
    long status;
    char *buf;
    size_t len;
    int too_large; /* the write callback refused more */
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t len = size * n;
    if (len > RILL_REGISTRY_MAX_ANSWER - a->len) {
        a->too_large = 1;
        return 0; /* less than given: libcurl aborts the transfer */
    }
    memcpy(a->buf + a->len, p, len);
    a->len += len;
    return len;
}

/* Makes r's easy handle and the options every request shares. */
static rill_err_t handle(struct xchg *x)
{
    rill_registry_t *r = x->r;
    if (r->curl)
        return RILL_OK;
    struct curl_slist *h = NULL, *t;
    static const char *const lines[] = {
        "Accept: " CONTENT_TYPE ", application/json",
        "Content-Type: " CONTENT_TYPE,
        "Expect:", /* no 100-continue round trip before a body */
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!(t = curl_slist_append(h, lines[i]))) {
            curl_slist_free_all(h);
            return xfail(x, RILL_ERR_NOMEM, "out of memory");
        }
        h = t;
    }
    CURL *c = curl_easy_init();
    if (!c) {
        curl_slist_free_all(h);
        return xfail(x, RILL_ERR_NOMEM, "cannot make a libcurl handle");
    }
    int bad = 0;
#define SET(opt, val) bad |= curl_easy_setopt(c, opt, val) != CURLE_OK
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* One connection per request: curl 7.88 counts the retries of requests
     * sent on a kept-alive connection the server had closed over the whole
     * life of a handle and gives up after 5 (the registry tests saw it with a
     * server that closes after each answer without saying so). A serde makes
     * a handful of requests, so keep-alive saves nothing worth that. */
    SET(CURLOPT_FORBID_REUSE, 1L);
    SET(CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM around name resolution */
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)r->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RILL_REGISTRY_MAX_ANSWER);
    SET(CURLOPT_HTTPHEADER, h);
    SET(CURLOPT_USERAGENT, "rill/" RILL_VERSION);
    SET(CURLOPT_ERRORBUFFER, r->curl_err);
    SET(CURLOPT_WRITEFUNCTION, on_data);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (r->ca_file)
        SET(CURLOPT_CAINFO, r->ca_file);
    if (r->user) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, r->user);
        SET(CURLOPT_PASSWORD, r->password);
    }
#undef SET
    if (bad) {
        curl_easy_cleanup(c);
        curl_slist_free_all(h);
        return xfail(x, RILL_ERR_CONFIG, "libcurl refused an option (is it built with https?)");
    }
    r->curl = c;
    r->headers = h;
    return RILL_OK;
}

/* What a failed transfer says; libcurl's messages name the host and port,
 * never the credentials. */
static rill_err_t transfer_error(struct xchg *x, CURLcode rc, const struct answer *a)
{
    rill_registry_t *r = x->r;
    const char *why = r->curl_err[0] ? r->curl_err : curl_easy_strerror(rc);
    switch (rc) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (a->too_large || rc == CURLE_FILESIZE_EXCEEDED)
            return xfail(x, RILL_ERR_INVALID, "answer exceeds the limit of %d bytes",
                         RILL_REGISTRY_MAX_ANSWER);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        return xfail(x, RILL_ERR_IO, "no complete answer within %d ms (%s)", r->timeout_ms, why);
    case CURLE_COULDNT_RESOLVE_HOST:
        return xfail(x, RILL_ERR_IO, "cannot resolve the host: %s", why);
    case CURLE_COULDNT_CONNECT:
        return xfail(x, RILL_ERR_IO, "cannot connect: %s", why);
    case CURLE_PEER_FAILED_VERIFICATION:
        return xfail(x, RILL_ERR_IO,
                     "tls: the server's certificate is not trusted%s: %s",
                     r->ca_file ? " by the ca file" : " by the system's CAs", why);
    case CURLE_SSL_CACERT_BADFILE:
        return xfail(x, RILL_ERR_CONFIG, "tls: cannot use the ca file '%s': %s", r->ca_file,
                     why);
    case CURLE_SSL_CONNECT_ERROR:
        return xfail(x, RILL_ERR_IO, "tls handshake failed: %s", why);
    case CURLE_GOT_NOTHING:
        return xfail(x, RILL_ERR_IO, "connection closed without an answer");
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
        return xfail(x, RILL_ERR_IO, "connection closed before the answer was complete (%s)",
                     why);
    case CURLE_OUT_OF_MEMORY:
        return xfail(x, RILL_ERR_NOMEM, "out of memory");
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
        return xfail(x, RILL_ERR_INVALID, "not an http answer: %s", why);
    default:
        break;
    }
    return xfail(x, RILL_ERR_IO, "%s", why);
}

/* Sends a request (POST with body, or GET when body is NULL) to url and
 * reads its status and body into a (a->buf is the caller's, max + 1 bytes;
 * the body is NUL-terminated). */
static rill_err_t exchange(struct xchg *x, const char *url, const char *body, struct answer *a)
{
    rill_err_t err = handle(x);
    if (err)
        return err;
    rill_registry_t *r = x->r;
    CURL *c = r->curl;
    r->curl_err[0] = '\0';
    int bad = curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
              curl_easy_setopt(c, CURLOPT_WRITEDATA, a) != CURLE_OK;
    if (body)
        bad |= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
               curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body)) !=
                   CURLE_OK;
    else
        bad |= curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    if (bad)
        return xfail(x, RILL_ERR_NOMEM, "libcurl refused the request's options");
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        return transfer_error(x, rc, a);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    a->buf[a->len] = '\0';
    return RILL_OK;
}

/* ---- the registry's answers ---- */

/* The meaning of the registry's error codes that rill maps (Confluent's
 * API reference), and the rill error each is. */
static const struct {
    long code;
    rill_err_t err;
    const char *meaning;
} codes[] = {
    { 40401, RILL_ERR_NOTFOUND, "subject not found" },
    { 40402, RILL_ERR_NOTFOUND, "version not found" },
    { 40403, RILL_ERR_NOTFOUND, "schema not found" },
    { 42201, RILL_ERR_INVALID, "invalid schema" },
    { 42202, RILL_ERR_INVALID, "invalid version" },
    { 409, RILL_ERR_CONFIG, "incompatible with an earlier version of the subject" },
    { 40901, RILL_ERR_CONFIG, "incompatible with an earlier version of the subject" },
};

/* The registry's error in a failed answer: "http 409: <message> (error_code
 * 409: <meaning>)", the message cut at MAX_SHOWN bytes, control bytes
 * replaced. */
static rill_err_t status_error(struct xchg *x, const struct answer *a)
{
    long st = a->status;
    rill_err_t err = st == 401 || st == 403 ? RILL_ERR_AUTH
                     : st >= 500            ? RILL_ERR_IO
                                            : RILL_ERR_CONFIG;
    rill_json_val_t root, key, val;
    char k[16], code[24] = "";
    char *msg = malloc(a->len + 1);
    size_t pos = 0, mlen = 0;
    if (msg && rill_json_parse(a->buf, a->len, &root, NULL) == RILL_JSON_FOUND) {
        while (rill_json_next(&root, &pos, &key, &val)) {
            if (rill_json_string(&key, k, sizeof k, NULL) != RILL_JSON_FOUND)
                continue;
            if (!strcmp(k, "error_code") && val.type == RILL_JSON_NUMBER && val.len < sizeof code)
                snprintf(code, sizeof code, "%.*s", (int)val.len, val.p);
            else if (!strcmp(k, "message") &&
                     rill_json_string(&val, msg, a->len + 1, &mlen) != RILL_JSON_FOUND)
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
    const char *meaning = NULL;
    long c = *code ? strtol(code, NULL, 10) : 0;
    if (st != 401 && st != 403 && st < 500)
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
            if (codes[i].code == c || (!*code && codes[i].code == st)) {
                err = codes[i].err;
                meaning = codes[i].meaning;
            }
    if (st >= 300 && st < 400)
        err = xfail(x, err, "http %ld: redirects are not followed", st);
    else if (mlen || *code)
        err = xfail(x, err, "http %ld: %.*s%s(error_code %s%s%s)", st, (int)mlen,
                    mlen ? msg : "", mlen ? " " : "", *code ? code : "none",
                    meaning ? ": " : "", meaning ? meaning : "");
    else
        err = xfail(x, err, "http %ld without a registry error in the answer", st);
    free(msg);
    return err;
}

/* The answer parsed as a JSON object. */
static rill_err_t answer_object(struct xchg *x, const struct answer *a, rill_json_val_t *root)
{
    if (rill_json_parse(a->buf, a->len, root, NULL) != RILL_JSON_FOUND ||
        root->type != RILL_JSON_OBJECT)
        return xfail(x, RILL_ERR_INVALID, "http %ld but the answer is not a json object",
                     a->status);
    return RILL_OK;
}

/* The id of a 2xx answer {"id": N, ...}. */
static rill_err_t answer_id(struct xchg *x, const struct answer *a, int32_t *id)
{
    rill_json_val_t root, key, val;
    char k[8];
    size_t pos = 0;
    rill_err_t err = answer_object(x, a, &root);
    if (err)
        return err;
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

/* The schema of a 2xx answer {"schema": "...", "schemaType"?: "AVRO"}. */
static rill_err_t answer_schema(struct xchg *x, const struct answer *a, char **schema)
{
    rill_json_val_t root, key, val, text = { 0 };
    char k[16], type[16] = "AVRO";
    size_t pos = 0;
    rill_err_t err = answer_object(x, a, &root);
    if (err)
        return err;
    while (rill_json_next(&root, &pos, &key, &val)) {
        if (rill_json_string(&key, k, sizeof k, NULL) != RILL_JSON_FOUND)
            continue;
        if (!strcmp(k, "schema"))
            text = val;
        else if (!strcmp(k, "schemaType") &&
                 rill_json_string(&val, type, sizeof type, NULL) != RILL_JSON_FOUND)
            return xfail(x, RILL_ERR_INVALID, "the answer's schemaType is not a short string");
    }
    if (strcmp(type, "AVRO"))
        return xfail(x, RILL_ERR_INVALID, "the schema is of type %s, not AVRO", type);
    if (!text.p || text.type != RILL_JSON_STRING)
        return xfail(x, RILL_ERR_INVALID, "the answer has no schema string");
    size_t n = 0;
    char *s = malloc(text.len + 1);
    if (!s)
        return xfail(x, RILL_ERR_NOMEM, "out of memory");
    if (rill_json_string(&text, s, text.len + 1, &n) != RILL_JSON_FOUND || strlen(s) != n) {
        free(s);
        return xfail(x, RILL_ERR_INVALID, "the answer's schema holds a nul byte");
    }
    *schema = s;
    return RILL_OK;
}

/* ---- requests ---- */

/* The JSON body {"schema": "<schema, escaped>"}. */
static char *schema_body(const char *schema)
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
    sprintf(o, "\"}");
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

/* Runs one request on r: method POST (body) or GET (body NULL) on the URL
 * r->url + path; on a 2xx answer calls take, else maps the error. */
static rill_err_t request(rill_registry_t *r, const char *path, const char *body,
                          rill_err_t (*take)(struct xchg *, const struct answer *, void *),
                          void *arg, char *errstr, size_t errsz)
{
    size_t ulen = strlen(r->url) + strlen(path) + 1;
    char *url = malloc(ulen), *what = malloc(ulen + 32);
    struct answer a = { .buf = malloc(RILL_REGISTRY_MAX_ANSWER + 1) };
    rill_err_t err;
    if (!url || !what || !a.buf) {
        err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory for a registry request");
        goto out;
    }
    snprintf(url, ulen, "%s%s", r->url, path);
    snprintf(what, ulen + 32, "schema registry %s %s", body ? "POST" : "GET", url);
    struct xchg x = { r, what, errstr, errsz };
    err = exchange(&x, url, body, &a);
    if (!err)
        err = a.status >= 200 && a.status < 300 ? take(&x, &a, arg) : status_error(&x, &a);
out:
    free(a.buf);
    free(what);
    free(url);
    return err;
}

static rill_err_t take_id(struct xchg *x, const struct answer *a, void *arg)
{
    return answer_id(x, a, arg);
}

static rill_err_t take_schema(struct xchg *x, const struct answer *a, void *arg)
{
    return answer_schema(x, a, arg);
}

rill_err_t rill_registry_register(rill_registry_t *r, const char *subject, const char *schema,
                                  int32_t *id, char *errstr, size_t errsz)
{
    char *path = malloc(3 * strlen(subject) + 32), *body = schema_body(schema);
    rill_err_t err;
    if (!path || !body) {
        err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory registering schema '%s'",
                        subject);
    } else {
        strcpy(path, "/subjects/");
        path_segment(subject, path + strlen(path));
        strcat(path, "/versions");
        err = request(r, path, body, take_id, id, errstr, errsz);
    }
    free(body);
    free(path);
    return err;
}

rill_err_t rill_registry_schema(rill_registry_t *r, int32_t id, char **schema, char *errstr,
                                size_t errsz)
{
    char path[40];
    *schema = NULL;
    if (id < 1)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "schema id %d is not 1..%d", (int)id,
                         INT32_MAX);
    snprintf(path, sizeof path, "/schemas/ids/%d", (int)id);
    return request(r, path, NULL, take_schema, schema, errstr, errsz);
}
