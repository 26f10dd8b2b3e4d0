/*
 * test_registry.c - unit tests of the schema registry client (registry.h)
 * against the scripted registry of tests/lib/fakereg.h, over plain HTTP and
 * over TLS with a CA and server certificate made at suite start (the
 * openssl CLI, into the build folder; nothing committed). The fake answers
 * as Confluent's REST API documents it (content type, {"error_code",
 * "message"} bodies, global ids, subjects, versions, compatibility), or
 * badly on purpose (silent, garbage, too large, cut short), and records the
 * requests it got. What a real registry does beyond that documented
 * contract is not tested here. The serde's use of the registry is
 * test_registry_serde.c.
 */
#include "tests/lib/fakereg.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"
#include "schemas/registry.h"
#include "schemas/serde.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define has fakereg_has
#define clean fakereg_clean

static const char *const subjects[RILL_EVENT__COUNT] = {
    "io.rill.orders.OrderPlaced",   "io.rill.orders.PaymentResult",
    "io.rill.orders.InventoryResult", "io.rill.orders.OrderShipped",
    "io.rill.orders.OrderStatusChanged", "io.rill.orders.StockRelease",
    "io.rill.orders.Notification",
};

static char cert_dir[512], ca[600], other_ca[600], cert[600], key[600];

static int suite_init(void)
{
    const char *so = getenv("RILL_TEST_SO_DIR");
    snprintf(cert_dir, sizeof cert_dir, "%s/registry-tls", so && *so ? so : "build");
    snprintf(ca, sizeof ca, "%s/ca.pem", cert_dir);
    snprintf(other_ca, sizeof other_ca, "%s/other-ca.pem", cert_dir);
    snprintf(cert, sizeof cert, "%s/server.pem", cert_dir);
    snprintf(key, sizeof key, "%s/server.key", cert_dir);
    return fakereg_make_certs(cert_dir);
}

static struct fakereg *start(enum fakereg_mode mode, const char *auth, int tls)
{
    struct fakereg_opts o = { .mode = mode, .auth = auth, .cert = tls ? cert : NULL,
                              .key = tls ? key : NULL };
    return fakereg_start(&o);
}

static struct rill_registry_conf conf_of(struct fakereg *f, int with_auth)
{
    struct rill_registry_conf c = { .url = fakereg_url(f), .timeout_ms = 3000 };
    if (with_auth) {
        c.user = FAKEREG_USER;
        c.password = FAKEREG_PASSWORD;
    }
    if (!strncmp(c.url, "https:", 6))
        c.ca_file = ca;
    return c;
}

/* Registers order_placed with c; its result, the id in *id, errstr in err. */
static rill_err_t register_with(const struct rill_registry_conf *c, int32_t *id, char *err,
                                size_t errsz)
{
    rill_registry_t *r;
    rill_err_t rc = rill_registry_new(&r, c, err, errsz);
    if (rc)
        return rc;
    rc = rill_registry_register(r, subjects[0], rill_serde_schema_text(0), id, err, errsz);
    rill_registry_destroy(r);
    return rc;
}

/* ---- names and configuration ---- */

static void test_subjects(void)
{
    char out[128], err[256];
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        CU_ASSERT_EQUAL(rill_registry_subject(rill_serde_schema_text((rill_event_type_t)t), out,
                                              sizeof out, err, sizeof err),
                        RILL_OK);
        CU_ASSERT_STRING_EQUAL(out, subjects[t]);
    }
    static const struct {
        const char *schema, *want;
    } ok[] = {
        { "{\"type\":\"record\",\"name\":\"a.b.C\",\"namespace\":\"x.y\",\"fields\":[]}", "a.b.C" },
        { "{\"name\":\"C\",\"type\":\"record\",\"fields\":[]}", "C" },
        { "{\"type\":\"record\",\"namespace\":\"\",\"name\":\"_C1\"}", "_C1" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CU_ASSERT_EQUAL(rill_registry_subject(ok[i].schema, out, sizeof out, err, sizeof err),
                        RILL_OK);
        CU_ASSERT_STRING_EQUAL(out, ok[i].want);
    }
    static const struct {
        const char *schema, *want;
    } bad[] = {
        { "[1]", "not a json object" },
        { "{\"type\":\"record\",\"name\":", "not a json object" },
        { "{\"type\":\"enum\",\"name\":\"C\",\"symbols\":[]}", "not an avro record" },
        { "{\"type\":\"record\"}", "no valid avro name" },
        { "{\"type\":\"record\",\"name\":\"1C\",\"namespace\":\"x\"}", "no valid avro name" },
        { "{\"type\":\"record\",\"name\":\"C\",\"namespace\":\"x..y\"}", "no valid avro name" },
        { "{\"type\":\"record\",\"name\":\"C\",\"namespace\":\"x.\"}", "no valid avro name" },
        { "{\"type\":\"record\",\"name\":\"C-D\"}", "no valid avro name" },
        { "{\"type\":\"record\",\"name\":7}", "not a short string" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(rill_registry_subject(bad[i].schema, out, sizeof out, err, sizeof err),
                        RILL_ERR_INVALID);
        CU_ASSERT(has(err, bad[i].want));
    }
    CU_ASSERT_EQUAL(rill_registry_subject(rill_serde_schema_text(RILL_EVENT_ORDER_PLACED), out,
                                          10, err, sizeof err),
                    RILL_ERR_INVALID);
    CU_ASSERT(has(err, "too long"));

    CU_ASSERT_EQUAL(rill_registry_topic_subject("prod.order_placed", out, sizeof out, err,
                                                sizeof err),
                    RILL_OK);
    CU_ASSERT_STRING_EQUAL(out, "prod.order_placed-value");
    CU_ASSERT_EQUAL(rill_registry_topic_subject("", out, sizeof out, err, sizeof err),
                    RILL_ERR_INVALID);
    CU_ASSERT_EQUAL(rill_registry_topic_subject("order_placed", out, 12, err, sizeof err),
                    RILL_ERR_INVALID);
    CU_ASSERT(has(err, "too long"));
}

static void test_conf_checks(void)
{
    static const struct {
        const char *url, *want;
    } bad[] = {
        { "", "no schema registry url" },
        { "ftp://registry", "must start with http:// or https://" },
        { "registry:8081", "must start with http:// or https://" },
        { "http://" FAKEREG_USER ":" FAKEREG_PASSWORD "@registry:8081", "must not hold credentials" },
        { "https://" FAKEREG_USER ":pw/" FAKEREG_PASSWORD "@registry", "must not hold credentials" },
        { "http://a:8081,http://b:8081", "one url, not a list" },
        { "http://registry:8081/x?y=1", "query or fragment" },
        { "https://registry:8081#top", "query or fragment" },
        { "http://:8081", "no host" },
        { "https:///subjects", "no host" },
        { "http://reg istry:8081", "bad character in the host" },
        { "http://registry:0", "port must be 1..65535" },
        { "https://registry:65536", "port must be 1..65535" },
        { "http://registry:80a", "port must be 1..65535" },
        { "http://registry:", "port must be 1..65535" },
        { "http://[::1", "unclosed '['" },
        { "http://[::1]x", "bad host" },
        { "http://registry/a b", "space or a non-ascii byte" },
    };
    rill_registry_t *r = NULL;
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rill_registry_conf c = { .url = bad[i].url };
        CU_ASSERT_EQUAL(rill_registry_new(&r, &c, err, sizeof err), RILL_ERR_CONFIG);
        CU_ASSERT_PTR_NULL(r);
        CU_ASSERT(has(err, bad[i].want));
        CU_ASSERT(clean(err));
    }
    static const struct {
        const char *url, *want;
    } ok[] = {
        { "http://registry", "http://registry" },
        { "HTTP://Registry.example:8081/", "http://Registry.example:8081" },
        { "http://10.0.0.7:8081/base/path//", "http://10.0.0.7:8081/base/path" },
        { "http://[::1]:8081", "http://[::1]:8081" },
        { "HTTPS://registry.example/", "https://registry.example" },
        { "https://[::1]:8443/ccompat/v7", "https://[::1]:8443/ccompat/v7" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct rill_registry_conf c = { .url = ok[i].url };
        CU_ASSERT_EQUAL_FATAL(rill_registry_new(&r, &c, err, sizeof err), RILL_OK);
        CU_ASSERT_STRING_EQUAL(rill_registry_url(r), ok[i].want);
        rill_registry_destroy(r);
    }
    struct rill_registry_conf cf = { .url = "http://registry", .ca_file = ca };
    CU_ASSERT_EQUAL(rill_registry_new(&r, &cf, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT(has(err, "a schema registry ca file needs an https:// url"));

    /* Credentials: a user with exactly one of password and file; messages
     * name neither the user nor the password. */
    char file[64];
    int fd = it_tmpfile(file, sizeof file, "reg-pw");
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    static const struct {
        const char *user, *password;
        int use_file;
        const char *want;
    } creds[] = {
        { FAKEREG_USER, NULL, 0, "needs a password or a password file" },
        { FAKEREG_USER, FAKEREG_PASSWORD, 1, "needs a password or a password file" },
        { NULL, FAKEREG_PASSWORD, 0, "a schema registry password needs a user" },
        { "", NULL, 1, "a schema registry password needs a user" },
        { FAKEREG_USER ":x", FAKEREG_PASSWORD, 0, "must not contain ':'" },
        { FAKEREG_USER, NULL, 1, "is empty" },
    };
    for (size_t i = 0; i < sizeof creds / sizeof creds[0]; i++) {
        struct rill_registry_conf c = { .url = "http://registry:8081", .user = creds[i].user,
                                        .password = creds[i].password,
                                        .password_file = creds[i].use_file ? file : NULL };
        CU_ASSERT_EQUAL(rill_registry_new(&r, &c, err, sizeof err), RILL_ERR_CONFIG);
        CU_ASSERT(has(err, creds[i].want));
        CU_ASSERT(clean(err));
    }
    FILE *f = fopen(file, "w");
    for (int i = 0; i <= RILL_REGISTRY_MAX_PASSWORD; i++)
        fputc('p', f);
    fclose(f);
    struct rill_registry_conf c = { .url = "http://registry", .user = FAKEREG_USER,
                                    .password_file = file };
    CU_ASSERT_EQUAL(rill_registry_new(&r, &c, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT(has(err, "larger than 1024 bytes"));
    unlink(file);
    CU_ASSERT_EQUAL(rill_registry_new(&r, &c, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT(has(err, "cannot open schema registry password file '/tmp/rill-reg-pw-"));
}

/* ---- the documented API, over http and https ---- */

static void register_all_seven(int tls)
{
    struct fakereg *f = start(FAKEREG_API, FAKEREG_AUTH, tls);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 1);
    rill_registry_t *r;
    char err[512] = "";
    int32_t id = 0;
    CU_ASSERT_EQUAL_FATAL(rill_registry_new(&r, &c, err, sizeof err), RILL_OK);
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        const char *text = rill_serde_schema_text((rill_event_type_t)t);
        CU_ASSERT_EQUAL(rill_registry_register(r, subjects[t], text, &id, err, sizeof err),
                        RILL_OK);
        CU_ASSERT_EQUAL(id, 101 + t);
    }
    /* The client does not cache: registering again asks again, same id. */
    CU_ASSERT_EQUAL(rill_registry_register(r, subjects[0], rill_serde_schema_text(0), &id, err,
                                           sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(id, 101);
    /* And the schema comes back by its id, byte for byte. */
    char *text = NULL;
    CU_ASSERT_EQUAL(rill_registry_schema(r, 103, &text, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(text ? text : "", rill_serde_schema_text(2));
    free(text);
    rill_registry_destroy(r);
    CU_ASSERT_STRING_EQUAL(fakereg_problem(f), "");
    CU_ASSERT_EQUAL(fakereg_requests(f), 9);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/io.rill.orders.OrderPlaced/versions"), 2);
    CU_ASSERT_EQUAL(fakereg_count(f, "GET", "/schemas/ids/103"), 1);
    struct fakereg_req q;
    for (int i = 0; fakereg_request(f, i, &q); i++) {
        CU_ASSERT(q.auth_ok);
        CU_ASSERT_EQUAL(q.status, 200);
    }
    fakereg_stop(f);
}

static void test_register_http(void)
{
    register_all_seven(0);
}

static void test_register_https(void)
{
    register_all_seven(1);
}

static void test_tls_trust(void)
{
    struct fakereg *f = start(FAKEREG_API, NULL, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    char err[512] = "";
    int32_t id = 0;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(id, 101);

    /* A CA that did not sign the server's certificate. */
    c.ca_file = other_ca;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT(has(err, "tls: the server's certificate is not trusted by the ca file"));
    /* The system's CAs do not know the test CA either. */
    c.ca_file = NULL;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT(has(err, "tls: the server's certificate is not trusted by the system's CAs"));
    /* A CA file that is not there. */
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no-such-ca.pem", cert_dir);
    c.ca_file = missing;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT(has(err, "tls: cannot use the ca file '"));
    CU_ASSERT_EQUAL(fakereg_requests(f), 1); /* the refused handshakes sent nothing */

    /* localhost is in the certificate too; a plain http:// URL to the TLS
     * port gets no http answer. */
    char url[128];
    snprintf(url, sizeof url, "https://localhost:%s", strrchr(fakereg_url(f), ':') + 1);
    c.url = url;
    c.ca_file = ca;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_OK);
    snprintf(url, sizeof url, "http://%s", fakereg_url(f) + 8);
    c.ca_file = NULL;
    CU_ASSERT_NOT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_OK);
    fakereg_stop(f);

    /* https:// to a plain http server: the handshake fails. */
    f = start(FAKEREG_API, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    snprintf(url, sizeof url, "https://%s", fakereg_url(f) + 7);
    c.url = url;
    c.ca_file = ca;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT(has(err, "tls handshake failed"));
    fakereg_stop(f);
}

static void test_basic_auth(void)
{
    for (int tls = 0; tls < 2; tls++) {
        struct fakereg *f = start(FAKEREG_API, FAKEREG_AUTH, tls);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        struct rill_registry_conf c = conf_of(f, 1);
        char err[512] = "";
        int32_t id = 0;
        CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_OK);
        c.password = "wrong-" FAKEREG_PASSWORD;
        CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_ERR_AUTH);
        CU_ASSERT(has(err, "http 401: Unauthorized (error_code 401)"));
        CU_ASSERT(clean(err));
        c.user = c.password = NULL;
        CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_ERR_AUTH);
        CU_ASSERT(clean(err));
        struct fakereg_req q;
        CU_ASSERT(fakereg_request(f, 0, &q) && q.auth_ok);
        CU_ASSERT(fakereg_request(f, 1, &q) && !q.auth_ok && q.status == 401);
        CU_ASSERT(fakereg_request(f, 2, &q) && !q.auth_ok && q.status == 401);
        fakereg_stop(f);
    }
}

/* The registry's own refusals, from its state: compatibility, an invalid
 * schema, ids and subjects it does not have. */
static void test_api_refusals(void)
{
    struct fakereg *f = start(FAKEREG_API, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    rill_registry_t *r;
    char err[512] = "", *text = NULL;
    int32_t id = 0;
    CU_ASSERT_EQUAL_FATAL(rill_registry_new(&r, &c, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_registry_register(r, "orders-value", rill_serde_schema_text(0), &id, err,
                                           sizeof err),
                    RILL_OK);
    /* Another schema under the same subject: incompatible under BACKWARD. */
    CU_ASSERT_EQUAL(rill_registry_register(r, "orders-value", rill_serde_schema_text(1), &id, err,
                                           sizeof err),
                    RILL_ERR_CONFIG);
    CU_ASSERT(has(err, "http 409: Schema being registered is incompatible with an earlier schema "
                       "for subject \"orders-value\" (error_code 409: incompatible with an "
                       "earlier version of the subject)"));
    fakereg_set_compat(f, "orders-value", "NONE");
    CU_ASSERT_EQUAL(rill_registry_register(r, "orders-value", rill_serde_schema_text(1), &id, err,
                                           sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(id, 102);
    CU_ASSERT_EQUAL(rill_registry_register(r, "bad-value", "not json {", &id, err, sizeof err),
                    RILL_ERR_INVALID);
    CU_ASSERT(has(err, "http 422: Invalid schema (error_code 42201: invalid schema)"));
    CU_ASSERT_EQUAL(rill_registry_schema(r, 999, &text, err, sizeof err), RILL_ERR_NOTFOUND);
    CU_ASSERT_PTR_NULL(text);
    CU_ASSERT(has(err, "schema registry GET "));
    CU_ASSERT(has(err, "/schemas/ids/999: http 404: Schema 999 not found (error_code 40403: "
                       "schema not found)"));
    CU_ASSERT_EQUAL(rill_registry_schema(r, 0, &text, err, sizeof err), RILL_ERR_INVALID);
    rill_registry_destroy(r);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/orders-value/versions"), 3);
    fakereg_stop(f);
}

/* ---- answers scripted byte for byte ---- */

/* Registers against a fake answering canned (FAKEREG_CANNED) or in mode;
 * expects rc and every string of want in the message, and no credential. */
static void expect_failure(enum fakereg_mode mode, int tls, const char *canned, int timeout_ms,
                           rill_err_t rc, const char *const *want)
{
    struct fakereg_opts o = { .mode = mode, .auth = FAKEREG_AUTH, .canned = canned,
                              .cert = tls ? cert : NULL, .key = tls ? key : NULL };
    struct fakereg *f = fakereg_start(&o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 1);
    if (timeout_ms)
        c.timeout_ms = timeout_ms;
    char err[512] = "";
    int32_t id = 0;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), rc);
    char path[192];
    snprintf(path, sizeof path,
             "schema registry POST %s/subjects/io.rill.orders.OrderPlaced/versions: ",
             fakereg_url(f));
    CU_ASSERT(has(err, path));
    for (; *want; want++)
        CU_ASSERT(has(err, *want));
    CU_ASSERT(clean(err));
    CU_ASSERT_EQUAL(fakereg_requests(f), 1);
    fakereg_stop(f);
}

/* An answer with a JSON body and its Content-Length. */
static const char *json_answer(char *buf, size_t sz, const char *status, const char *json)
{
    snprintf(buf, sz,
             "HTTP/1.1 %s\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             status, strlen(json), json);
    return buf;
}

static void test_error_codes(void)
{
    static const struct {
        const char *status, *json;
        rill_err_t rc;
        const char *want;
    } cases[] = {
        { "404 Not Found", "{\"error_code\":40401,\"message\":\"Subject 'x' not found.\"}",
          RILL_ERR_NOTFOUND, "http 404: Subject 'x' not found. (error_code 40401: subject not found)" },
        { "404 Not Found", "{\"error_code\":40402,\"message\":\"Version 9 not found.\"}",
          RILL_ERR_NOTFOUND, "(error_code 40402: version not found)" },
        { "404 Not Found", "{\"error_code\":40403,\"message\":\"Schema 7 not found\"}",
          RILL_ERR_NOTFOUND, "http 404: Schema 7 not found (error_code 40403: schema not found)" },
        { "404 Not Found", "{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}",
          RILL_ERR_CONFIG, "http 404: HTTP 404 Not Found (error_code 404)" },
        { "422 Unprocessable Entity", "{\"error_code\":42201,\"message\":\"Invalid schema\"}",
          RILL_ERR_INVALID, "http 422: Invalid schema (error_code 42201: invalid schema)" },
        { "422 Unprocessable Entity", "{\"error_code\":42202,\"message\":\"Invalid version\"}",
          RILL_ERR_INVALID, "(error_code 42202: invalid version)" },
        { "409 Conflict", "{\"error_code\":409,\"message\":\"Schema being registered is "
                          "incompatible with an earlier schema\"}",
          RILL_ERR_CONFIG, "http 409: Schema being registered is incompatible" },
        { "401 Unauthorized", "{\"error_code\":401,\"message\":\"Unauthorized\"}", RILL_ERR_AUTH,
          "http 401: Unauthorized (error_code 401)" },
        { "403 Forbidden", "{\"error_code\":40301,\"message\":\"User is denied operation Write "
                           "on Subject\"}",
          RILL_ERR_AUTH, "http 403: User is denied" },
        { "500 Internal Server Error", "{\"error_code\":50001,\"message\":\"Error in the backend "
                                       "data store\"}",
          RILL_ERR_IO, "http 500: Error in the backend data store (error_code 50001)" },
        { "503 Service Unavailable", "{\"error_code\":50003,\"message\":\"Error while forwarding "
                                     "the request to the master\"}",
          RILL_ERR_IO, "(error_code 50003)" },
        { "502 Bad Gateway", "<html>bad gateway</html>", RILL_ERR_IO,
          "http 502 without a registry error" },
        { "200 OK", "not json", RILL_ERR_INVALID, "http 200 but the answer is not a json object" },
        { "200 OK", "{\"version\":1}", RILL_ERR_INVALID, "the answer has no id" },
        { "200 OK", "{\"id\":\"101\"}", RILL_ERR_INVALID, "the answer's id is not a schema id" },
        { "200 OK", "{\"id\":2147483648}", RILL_ERR_INVALID, "the answer's id is not a schema id" },
        { "200 OK", "{\"id\":0}", RILL_ERR_INVALID, "the answer's id is not a schema id" },
    };
    char a[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_failure(FAKEREG_CANNED, 0, json_answer(a, sizeof a, cases[i].status, cases[i].json),
                       0, cases[i].rc, (const char *[]){ cases[i].want, NULL });
    expect_failure(FAKEREG_CANNED, 0,
                   "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://elsewhere/\r\n"
                   "Content-Length: 0\r\n\r\n",
                   0, RILL_ERR_CONFIG,
                   (const char *[]){ "http 307: redirects are not followed", NULL });
    /* A long message with control bytes is cut and made printable. */
    char json[600];
    snprintf(json, sizeof json, "{\"message\":\"line1\\nline2 %0400d\",\"error_code\":42203}", 0);
    expect_failure(FAKEREG_CANNED, 0, json_answer(a, sizeof a, "422 Unprocessable Entity", json),
                   0, RILL_ERR_CONFIG,
                   (const char *[]){ "http 422: line1?line2 000", "000... (error_code 42203)",
                                     NULL });
}

static void test_schema_answers(void)
{
    struct fakereg *f = start(FAKEREG_API, NULL, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    /* Registered by another client, in another form: given back as stored. */
    static const char compact[] = "{\"type\":\"record\",\"name\":\"X\",\"fields\":[]}";
    int sid = fakereg_add(f, "x-value", compact);
    struct rill_registry_conf c = conf_of(f, 0);
    rill_registry_t *r;
    char err[512], *text = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_registry_new(&r, &c, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_registry_schema(r, sid, &text, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(text ? text : "", compact);
    free(text);
    rill_registry_destroy(r);
    fakereg_stop(f);

    static const struct {
        const char *json;
        const char *want;
    } bad[] = {
        { "{\"schema\":\"syntax = \\\"proto3\\\";\",\"schemaType\":\"PROTOBUF\"}",
          "the schema is of type PROTOBUF, not AVRO" },
        { "{\"schemaType\":\"AVRO\"}", "the answer has no schema string" },
        { "{\"schema\":7}", "the answer has no schema string" },
        { "{\"schema\":\"a\\u0000b\"}", "holds a nul byte" },
    };
    char a[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fakereg_opts o = { .mode = FAKEREG_CANNED,
                                  .canned = json_answer(a, sizeof a, "200 OK", bad[i].json) };
        f = fakereg_start(&o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        c = conf_of(f, 0);
        CU_ASSERT_EQUAL_FATAL(rill_registry_new(&r, &c, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(rill_registry_schema(r, 5, &text, err, sizeof err), RILL_ERR_INVALID);
        CU_ASSERT_PTR_NULL(text);
        CU_ASSERT(has(err, bad[i].want));
        rill_registry_destroy(r);
        fakereg_stop(f);
    }
}

/* ---- transport: bounds, timeouts, garbage ---- */

static void test_too_large(void)
{
    for (int tls = 0; tls < 2; tls++) {
        expect_failure(FAKEREG_HUGE, tls, NULL, 0, RILL_ERR_INVALID,
                       (const char *[]){ "answer exceeds the limit of 65536 bytes", NULL });
        expect_failure(FAKEREG_CANNED, tls, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n{",
                       0, RILL_ERR_INVALID,
                       (const char *[]){ "answer exceeds the limit of 65536 bytes", NULL });
    }
    /* Just under the limit is taken: a 65,000-byte error message. */
    static char big[66000];
    int n = snprintf(big, sizeof big, "{\"error_code\":50001,\"message\":\"");
    memset(big + n, 'm', 65000 - (size_t)n - 2);
    memcpy(big + 65000 - 2, "\"}", 3);
    static char ans[66200];
    expect_failure(FAKEREG_CANNED, 0, json_answer(ans, sizeof ans, "500 X", big), 0, RILL_ERR_IO,
                   (const char *[]){ "http 500: mmm", "m... (error_code 50001)", NULL });
}

static void test_timeouts(void)
{
    /* The fake reads the request and never answers: the request's deadline
     * ends it, over http and (after the handshake) over https. */
    expect_failure(FAKEREG_SILENT, 0, NULL, 300, RILL_ERR_IO,
                   (const char *[]){ "no complete answer within 300 ms", NULL });
    expect_failure(FAKEREG_SILENT, 1, NULL, 400, RILL_ERR_IO,
                   (const char *[]){ "no complete answer within 400 ms", NULL });
}

static void test_transport_errors(void)
{
    expect_failure(FAKEREG_CANNED, 0, "hello there\r\n\r\n", 0, RILL_ERR_INVALID,
                   (const char *[]){ "not an http answer", NULL });
    expect_failure(FAKEREG_CANNED, 0, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"id\"", 0,
                   RILL_ERR_IO,
                   (const char *[]){ "connection closed before the answer was complete", NULL });
    expect_failure(FAKEREG_CANNED, 0, "", 0, RILL_ERR_IO,
                   (const char *[]){ "connection closed without an answer", NULL });
    expect_failure(FAKEREG_CANNED, 0,
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"", 0,
                   RILL_ERR_IO,
                   (const char *[]){ "connection closed before the answer was complete", NULL });
    expect_failure(FAKEREG_CANNED, 0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                   0, RILL_ERR_IO, (const char *[]){ "chunked", NULL });

    /* Chunked answers, and one without Content-Length that the close ends. */
    struct fakereg *f = start(FAKEREG_CHUNKED, NULL, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    char err[512];
    int32_t id = 0;
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(id, 101);
    fakereg_stop(f);
    struct fakereg_opts o = { .mode = FAKEREG_CANNED, .canned = "HTTP/1.0 200 OK\r\n\r\n{\"id\": 55}" };
    CU_ASSERT_PTR_NOT_NULL_FATAL(f = fakereg_start(&o));
    c = conf_of(f, 0);
    CU_ASSERT_EQUAL(register_with(&c, &id, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(id, 55);
    fakereg_stop(f);

    /* Nobody listening. */
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CU_ASSERT_FATAL(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof a) &&
                    !getsockname(fd, (struct sockaddr *)&a, &al));
    close(fd); /* bound, never listened: refused */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/refused", ntohs(a.sin_port));
    struct rill_registry_conf rc = { .url = url, .user = FAKEREG_USER, .password = FAKEREG_PASSWORD };
    CU_ASSERT_EQUAL(register_with(&rc, &id, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT(has(err, "/refused/subjects/io.rill.orders.OrderPlaced/versions: cannot connect: "));
    CU_ASSERT(clean(err));
}

static CU_TestInfo tests[] = {
    { "subjects: record full names, <topic>-value", test_subjects },
    { "url, ca file and credential checks", test_conf_checks },
    { "register and fetch by id over http", test_register_http },
    { "register and fetch by id over https with a ca file", test_register_https },
    { "tls: the right ca, a wrong ca, the system's, a missing file", test_tls_trust },
    { "basic auth over http and https; refused, never quoted", test_basic_auth },
    { "the registry's refusals: 409, 42201, 40403", test_api_refusals },
    { "error codes mapped: 404xx, 422xx, 409, 401/403, 5xx, 3xx", test_error_codes },
    { "schema by id: as stored; not avro, missing, nul", test_schema_answers },
    { "an answer over the limit aborts the transfer", test_too_large },
    { "a silent registry hits the request timeout", test_timeouts },
    { "garbage, cut short, chunked, close-delimited, refused", test_transport_errors },
    CU_TEST_INFO_NULL,
};
RILL_SUITE_FULL("registry", tests, suite_init, NULL)
