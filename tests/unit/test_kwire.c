/*
 * test_kwire.c - unit tests of kwire.c, the minimal Kafka protocol client
 * behind transactional-id ACLs: the SCRAM client against RFC 7677's
 * SCRAM-SHA-256 example and its refusals (foreign nonce, weak iteration
 * count, forged server signature), refused settings, and DescribeAcls /
 * CreateAcls against a scripted broker on a loopback socket, including
 * truncated, lying and mismatched answers (errors, never crashes). The real
 * broker (SCRAM-SHA-512, TLS) is the integration tier's.
 */
#include "tests/lib/suite.h"
#include "topology/admin/kwire.h"
#include "topology/admin/scram.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* RFC 7677, section 3. */
#define C_NONCE "rOprNGfwEbeRWgbNEkqO"
#define S_FIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define C_FINAL                                                                                    \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsq" \
    "mmiz7AndVQ="
#define S_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static void test_scram_rfc7677(void)
{
    struct rill_scram s;
    char *first = NULL, *final = NULL, err[256];
    CU_ASSERT_EQUAL_FATAL(rill_scram_first(&s, 256, "user", C_NONCE, &first), RILL_OK);
    CU_ASSERT_STRING_EQUAL(first, "n,,n=user,r=" C_NONCE);
    CU_ASSERT_EQUAL_FATAL(
        rill_scram_final(&s, "pencil", S_FIRST, strlen(S_FIRST), &final, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(final, C_FINAL);
    CU_ASSERT_EQUAL(rill_scram_verify(&s, S_FINAL, strlen(S_FINAL), err, sizeof err), RILL_OK);
    /* A server that does not know the password cannot sign. */
    const char forged[] = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    CU_ASSERT_EQUAL(rill_scram_verify(&s, forged, strlen(forged), err, sizeof err), RILL_ERR_AUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "signature does not match"));
    CU_ASSERT_EQUAL(rill_scram_verify(&s, "e=invalid-proof", 15, err, sizeof err), RILL_ERR_AUTH);
    CU_ASSERT_STRING_EQUAL(err, "the broker refused the scram proof: invalid-proof");
    CU_ASSERT_PTR_NULL(strstr(err, "pencil"));
    free(first);
    free(final);
    rill_scram_clear(&s);
}

static void test_scram_refusals(void)
{
    struct rill_scram s;
    char *first = NULL, *final = NULL, err[256];
    /* saslname escaping */
    CU_ASSERT_EQUAL_FATAL(rill_scram_first(&s, 512, "a,b=c", "N0nce", &first), RILL_OK);
    CU_ASSERT_STRING_EQUAL(first, "n,,n=a=2Cb=3Dc,r=N0nce");
    free(first);
    static const char *const bad[] = {
        "r=Other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",      /* not our nonce */
        "r=N0nce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",      /* nothing added to it */
        "r=N0nceX,s=!!!,i=4096",                          /* salt not base64 */
        "r=N0nceX,i=4096",                                /* no salt */
        "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",              /* no nonce */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(rill_scram_final(&s, "pw", bad[i], strlen(bad[i]), &final, err,
                                         sizeof err),
                        RILL_ERR_AUTH);
        CU_ASSERT_STRING_EQUAL(err, "malformed scram server-first message");
        CU_ASSERT_PTR_NULL(final);
    }
    const char weak[] = "r=N0nceX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1";
    CU_ASSERT_EQUAL(rill_scram_final(&s, "pw", weak, strlen(weak), &final, err, sizeof err), RILL_ERR_AUTH);
    CU_ASSERT_STRING_EQUAL(err, "scram iteration count 1 outside 4096..100000");
    CU_ASSERT_EQUAL(rill_scram_final(&s, "pw", "e=unknown-user", 14, &final, err, sizeof err), RILL_ERR_AUTH);
    CU_ASSERT_STRING_EQUAL(err, "the broker refused the scram exchange: unknown-user");
    CU_ASSERT_EQUAL(rill_scram_final(&s, "pw", "r=a\0b", 5, &final, err, sizeof err), RILL_ERR_AUTH);
    rill_scram_clear(&s);
}

static rill_err_t connect_with(const char *const *kv, size_t n, char *err, size_t errsz,
                               rill_kwire_t **w)
{
    struct rill_kv v[8];
    for (size_t i = 0; i < n; i++)
        v[i] = (struct rill_kv){ (char *)kv[2 * i], (char *)kv[2 * i + 1], 1, 1, 0 };
    struct rill_kvlist l = { v, n };
    return rill_kwire_connect(&l, 2000, w, err, errsz);
}

static void test_refused_settings(void)
{
    char err[512];
    rill_kwire_t *w = (rill_kwire_t *)1;
    const char *none[] = { "security.protocol", "plaintext" };
    CU_ASSERT_EQUAL(connect_with(none, 1, err, sizeof err, &w), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "no bootstrap.servers in the kafka settings");
    CU_ASSERT_PTR_NULL(w);
    const char *pem[] = { "bootstrap.servers", "127.0.0.1:1", "ssl.ca.pem", "-----BEGIN" };
    CU_ASSERT_EQUAL(connect_with(pem, 2, err, sizeof err, &w), RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "kafka setting 'ssl.ca.pem' is not supported"));
    CU_ASSERT_PTR_NULL(strstr(err, "BEGIN"));
    const char *proto[] = { "bootstrap.servers", "127.0.0.1:1", "security.protocol", "carrier" };
    CU_ASSERT_EQUAL(connect_with(proto, 2, err, sizeof err, &w), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "unknown security.protocol 'carrier'");
    /* Nothing listens on port 1. */
    const char *down[] = { "bootstrap.servers", "PLAINTEXT://127.0.0.1:1" };
    CU_ASSERT_EQUAL(connect_with(down, 1, err, sizeof err, &w), RILL_ERR_KAFKA);
    CU_ASSERT_STRING_EQUAL(err, "cannot connect to kafka at 'PLAINTEXT://127.0.0.1:1': "
                                "connection refused");
}

/* ---- a scripted broker ---- */

enum script { ANSWER_ACLS, ANSWER_CREATE, ANSWER_TRUNCATED, ANSWER_LYING_COUNT, ANSWER_WRONG_ID,
              ANSWER_HANDSHAKE_REFUSED, ANSWER_AUTH_FAILED };

struct broker {
    int lfd;
    enum script script;
    int api;          /* the api key of the last request */
    unsigned char req[4096];
    size_t reqlen;
};

static void put(unsigned char *b, size_t *n, uint64_t v, int size)
{
    for (int i = 0; i < size; i++)
        b[(*n)++] = (unsigned char)(v >> (8 * (size - 1 - i)));
}

static void put_str(unsigned char *b, size_t *n, const char *s)
{
    if (!s) {
        put(b, n, 0xffff, 2);
        return;
    }
    put(b, n, strlen(s), 2);
    memcpy(b + *n, s, strlen(s));
    *n += strlen(s);
}

static int read_n(int fd, unsigned char *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void *broker_main(void *arg)
{
    struct broker *b = arg;
    int fd = accept(b->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    for (;;) {
        unsigned char hdr[4];
        if (read_n(fd, hdr, 4) < 0)
            break;
        size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
        if (len > sizeof b->req || read_n(fd, b->req, len) < 0)
            break;
        b->reqlen = len;
        b->api = b->req[0] << 8 | b->req[1];
        uint32_t corr = (uint32_t)b->req[4] << 24 | (uint32_t)b->req[5] << 16 |
                        (uint32_t)b->req[6] << 8 | b->req[7];
        unsigned char out[1024];
        size_t n = 4;
        put(out, &n, b->script == ANSWER_WRONG_ID ? corr + 1 : corr, 4);
        switch (b->script) {
        case ANSWER_ACLS: /* throttle, no error, 2 resources */
            put(out, &n, 0, 4);
            put(out, &n, 0, 2);
            put_str(out, &n, NULL);
            put(out, &n, 2, 4);
            put(out, &n, 5, 1);
            put_str(out, &n, "app.p.");
            put(out, &n, 4, 1);
            put(out, &n, 2, 4);
            put_str(out, &n, "User:a");
            put_str(out, &n, "*");
            put(out, &n, 4, 1);
            put(out, &n, 3, 1);
            put_str(out, &n, "User:b");
            put_str(out, &n, "10.0.0.1");
            put(out, &n, 8, 1);
            put(out, &n, 2, 1);
            put(out, &n, 5, 1);
            put_str(out, &n, "other");
            put(out, &n, 3, 1);
            put(out, &n, 0, 4);
            break;
        case ANSWER_CREATE: /* two results: ok, refused with a message */
            put(out, &n, 0, 4);
            put(out, &n, 2, 4);
            put(out, &n, 0, 2);
            put_str(out, &n, NULL);
            put(out, &n, 31, 2); /* CLUSTER_AUTHORIZATION_FAILED */
            put_str(out, &n, "not allowed");
            break;
        case ANSWER_TRUNCATED:
            put(out, &n, 0, 4);
            put(out, &n, 0, 2);
            put_str(out, &n, NULL);
            put(out, &n, 1, 4);
            put(out, &n, 5, 1);
            put(out, &n, 200, 2); /* a name longer than what follows */
            break;
        case ANSWER_LYING_COUNT:
            put(out, &n, 0, 4);
            put(out, &n, 0, 2);
            put_str(out, &n, NULL);
            put(out, &n, 0x7fffffff, 4);
            break;
        case ANSWER_WRONG_ID:
            put(out, &n, 0, 4);
            break;
        case ANSWER_HANDSHAKE_REFUSED: /* SaslHandshake: UNSUPPORTED_SASL_MECHANISM */
            put(out, &n, 33, 2);
            put(out, &n, 1, 4);
            put_str(out, &n, "GSSAPI");
            break;
        case ANSWER_AUTH_FAILED: /* handshake ok, then SASL_AUTHENTICATION_FAILED */
            if (b->api == 17) {
                put(out, &n, 0, 2);
                put(out, &n, 1, 4);
                put_str(out, &n, "PLAIN");
            } else {
                put(out, &n, 58, 2);
                put_str(out, &n, "Authentication failed: Invalid username or password");
                put(out, &n, 0, 4);
                put(out, &n, 0, 8);
            }
            break;
        }
        size_t body = n - 4;
        size_t z = 0;
        put(out, &z, body, 4);
        if (write(fd, out, n) != (ssize_t)n)
            break;
    }
    close(fd);
    return NULL;
}

struct run {
    struct broker b;
    pthread_t th;
    char addr[64];
};

static void broker_start(struct run *r, enum script script)
{
    memset(r, 0, sizeof *r);
    r->b.script = script;
    r->b.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    CU_ASSERT_FATAL(bind(r->b.lfd, (struct sockaddr *)&a, sizeof a) == 0);
    CU_ASSERT_FATAL(listen(r->b.lfd, 1) == 0);
    getsockname(r->b.lfd, (struct sockaddr *)&a, &alen);
    snprintf(r->addr, sizeof r->addr, "127.0.0.1:%d", ntohs(a.sin_port));
    pthread_create(&r->th, NULL, broker_main, &r->b);
}

static void broker_stop(struct run *r)
{
    pthread_join(r->th, NULL);
    close(r->b.lfd);
}

struct seen {
    int n;
    char text[4][128];
};

static void seen_acl(void *opaque, const struct rill_kwire_acl *a)
{
    struct seen *s = opaque;
    if (s->n < 4)
        snprintf(s->text[s->n], sizeof s->text[0], "%d %s %d %s %s %d %d", a->resource, a->name,
                 a->pattern, a->principal, a->host, a->op, a->permission);
    s->n++;
}

static void seen_result(void *opaque, size_t i, const char *error)
{
    struct seen *s = opaque;
    snprintf(s->text[i], sizeof s->text[0], "%s", error ? error : "ok");
    s->n++;
}

static rill_kwire_t *wire_to(struct run *r, const char *sec, const char *user)
{
    const char *kv[] = { "bootstrap.servers", r->addr, "security.protocol", sec,
                         "sasl.mechanism", "PLAIN", "sasl.username", user,
                         "sasl.password", "hunter2" };
    char err[512];
    rill_kwire_t *w = NULL;
    CU_ASSERT_EQUAL(connect_with(kv, user ? 5 : 2, err, sizeof err, &w), RILL_OK);
    return w;
}

static void test_describe_and_create(void)
{
    struct run r;
    char err[512];
    struct seen s = { 0 };
    broker_start(&r, ANSWER_ACLS);
    rill_kwire_t *w = wire_to(&r, "plaintext", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(rill_kwire_describe_acls(w, 5, seen_acl, &s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(r.b.api, 29);
    /* The request: resource type 5, any name, pattern, principal, host,
     * operation and permission, after a header with client id rill-apply. */
    static const unsigned char body[] = { 5, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff, 1, 1 };
    CU_ASSERT_EQUAL(r.b.reqlen, 8 + 2 + strlen("rill-apply") + sizeof body);
    CU_ASSERT(!memcmp(r.b.req + r.b.reqlen - sizeof body, body, sizeof body));
    CU_ASSERT_EQUAL(s.n, 2);
    CU_ASSERT_STRING_EQUAL(s.text[0], "5 app.p. 4 User:a * 4 3");
    CU_ASSERT_STRING_EQUAL(s.text[1], "5 app.p. 4 User:b 10.0.0.1 8 2");
    rill_kwire_close(w);
    broker_stop(&r);

    broker_start(&r, ANSWER_CREATE);
    w = wire_to(&r, "plaintext", NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct rill_kwire_acl acls[2] = {
        { 5, "app.p.", 4, "User:a", "*", 4, 3 },
        { 5, "app.p.", 4, "User:a", "*", 8, 3 },
    };
    memset(&s, 0, sizeof s);
    CU_ASSERT_EQUAL(rill_kwire_create_acls(w, acls, 2, seen_result, &s, err, sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(r.b.api, 30);
    CU_ASSERT_EQUAL(s.n, 2);
    CU_ASSERT_STRING_EQUAL(s.text[0], "ok");
    CU_ASSERT_STRING_EQUAL(s.text[1], "not allowed");
    rill_kwire_close(w);
    broker_stop(&r);
}

static void test_bad_answers(void)
{
    static const struct {
        enum script script;
        const char *want;
    } cases[] = {
        { ANSWER_TRUNCATED, "malformed describe-acls answer from kafka broker '127.0.0.1:" },
        { ANSWER_LYING_COUNT, "malformed describe-acls answer from kafka broker '127.0.0.1:" },
        { ANSWER_WRONG_ID, "answered another request" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r;
        char err[512] = "";
        struct seen s = { 0 };
        broker_start(&r, cases[i].script);
        rill_kwire_t *w = wire_to(&r, "plaintext", NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        CU_ASSERT_EQUAL(rill_kwire_describe_acls(w, 5, seen_acl, &s, err, sizeof err),
                        RILL_ERR_KAFKA);
        if (!strstr(err, cases[i].want))
            fprintf(stderr, "\n  want '%s', got '%s'\n", cases[i].want, err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want));
        CU_ASSERT_EQUAL(s.n, 0);
        rill_kwire_close(w);
        broker_stop(&r);
    }
}

static void test_sasl_refused(void)
{
    struct run r;
    char err[512];
    rill_kwire_t *w = NULL;
    broker_start(&r, ANSWER_HANDSHAKE_REFUSED);
    const char *kv[] = { "bootstrap.servers", r.addr, "security.protocol", "sasl_plaintext",
                         "sasl.mechanism", "PLAIN", "sasl.username", "u",
                         "sasl.password", "hunter2" };
    CU_ASSERT_EQUAL(connect_with(kv, 5, err, sizeof err, &w), RILL_ERR_AUTH);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not enable sasl mechanism 'PLAIN'"));
    broker_stop(&r);

    broker_start(&r, ANSWER_AUTH_FAILED);
    kv[1] = r.addr;
    CU_ASSERT_EQUAL(connect_with(kv, 5, err, sizeof err, &w), RILL_ERR_AUTH);
    CU_ASSERT_STRING_EQUAL(err, "kafka authentication failed for user 'u': Authentication "
                                "failed: Invalid username or password");
    CU_ASSERT_PTR_NULL(w);
    /* PLAIN carries an empty authzid, the user and the password, as BYTES. */
    static const unsigned char plain[] = { 0, 0, 0, 10, 0, 'u', 0, 'h', 'u', 'n', 't', 'e', 'r', '2' };
    CU_ASSERT_EQUAL(r.b.api, 36);
    CU_ASSERT(!memcmp(r.b.req + r.b.reqlen - sizeof plain, plain, sizeof plain));
    broker_stop(&r);

    /* Mechanisms it cannot do are refused before any connection. */
    const char *gss[] = { "bootstrap.servers", "127.0.0.1:1", "security.protocol",
                          "sasl_plaintext" };
    CU_ASSERT_EQUAL(connect_with(gss, 2, err, sizeof err, &w), RILL_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "sasl mechanism 'GSSAPI' is not supported"));
    const char *nopw[] = { "bootstrap.servers", "127.0.0.1:1", "security.protocol",
                           "SASL_SSL", "sasl.mechanisms", "SCRAM-SHA-512", "sasl.username", "u" };
    CU_ASSERT_EQUAL(connect_with(nopw, 4, err, sizeof err, &w), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "sasl mechanism 'SCRAM-SHA-512' needs sasl.username and "
                                "sasl.password");
}

static CU_TestInfo tests[] = {
    { "scram-sha-256 matches rfc 7677", test_scram_rfc7677 },
    { "scram refuses foreign nonces, weak counts, server errors", test_scram_refusals },
    { "settings it cannot honour are refused", test_refused_settings },
    { "describe and create acls against a scripted broker", test_describe_and_create },
    { "truncated, lying and mismatched answers are errors", test_bad_answers },
    { "sasl: mechanism refused, authentication failed", test_sasl_refused },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("kwire", tests)
