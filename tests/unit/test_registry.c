/*
 * test_registry.c - unit tests of the schema registry client (registry.h)
 * and of the serde with a registry (rill_serde_new_registry(), and
 * rill_serde_new() configured by the environment).
 *
 * There is no real Confluent Schema Registry here: these tests run against a
 * scripted HTTP server in a thread of the test, on 127.0.0.1 and an
 * ephemeral port. It checks every request (method, path, content type, basic
 * auth header, and that the body's "schema" is exactly the .avsc text after
 * JSON unescaping) and answers the way the registry's REST API documents it
 * ({"id": N}, 4xx/5xx with {"error_code", "message"}), or badly on purpose:
 * silent, garbage, too large, cut short, chunked. What a real registry would
 * do beyond that documented contract is not tested here. Every test uses its
 * own URL (a unique base path), so the serde's per-process id cache does not
 * carry over between tests.
 */
#include "tests/lib/suite.h"
#include "tests/lib/util.h"
#include "topology/base/json.h"
#include "schemas/registry.h"
#include "schemas/serde.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PASSWORD "pw-Secret-4"
#define USER "rill-app"
#define AUTH "Basic cmlsbC1hcHA6cHctU2VjcmV0LTQ=" /* base64("rill-app:pw-Secret-4") */

static const char *const subjects[RILL_EVENT__COUNT] = {
    "io.rill.orders.OrderPlaced",   "io.rill.orders.PaymentResult",
    "io.rill.orders.InventoryResult", "io.rill.orders.OrderShipped",
    "io.rill.orders.OrderStatusChanged", "io.rill.orders.StockRelease",
    "io.rill.orders.Notification",
};

static int has(const char *msg, const char *want)
{
    if (strstr(msg, want))
        return 1;
    fprintf(stderr, "\n    expected '%s' in '%s'\n", want, msg);
    return 0;
}

/* No credential, plain or base64, in msg. */
static int clean(const char *msg)
{
    return !strstr(msg, PASSWORD) && !strstr(msg, "cmlsbC1hcHA6") && !strstr(msg, USER) &&
           !strstr(msg, "env-Pw") && !strstr(msg, "ZW52LXVz");
}

/* ---- the scripted registry ---- */

enum fake_mode {
    FAKE_IDS,     /* {"id": 101 + type}, after checking the request */
    FAKE_CHUNKED, /* the same answer, chunked */
    FAKE_SAME_ID, /* {"id": 101} whatever the subject */
    FAKE_CANNED,  /* f->canned, byte for byte, then close */
    FAKE_SILENT,  /* reads the request, never answers */
    FAKE_HUGE,    /* a 1 MiB answer without Content-Length */
};

struct fake {
    int lfd;
    pthread_t tid;
    atomic_int stop, mode;
    const char *canned;
    char base[32]; /* the URL's base path, unique per fake */
    char url[64];
    const char *auth; /* the Authorization header expected; NULL: none */
    atomic_int requests, per_type[RILL_EVENT__COUNT];
    char problem[512]; /* the first request check that failed; read after fake_stop() */
};

static void problem(struct fake *f, const char *fmt, const char *arg)
{
    if (!f->problem[0])
        snprintf(f->problem, sizeof f->problem, fmt, arg);
}

/* Reads a whole request (head and Content-Length body) into buf. Returns its
 * length, the head's length in *hlen; 0 on a close or after 2 s. */
static size_t read_request(int fd, char *buf, size_t cap, size_t *hlen)
{
    size_t len = 0, need = 0;
    while (len < cap) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 2000) <= 0)
            return 0;
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n <= 0)
            return 0;
        len += (size_t)n;
        buf[len] = '\0';
        char *e = strstr(buf, "\r\n\r\n");
        if (e && !need) {
            *hlen = (size_t)(e - buf) + 4;
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            need = *hlen + (cl && cl < e ? strtoul(cl + 17, NULL, 10) : 0);
        }
        if (need && len >= need)
            return len;
    }
    return 0;
}

/* The value of header name (lower case, with the colon) in the head, or "". */
static void header(const char *head, size_t hlen, const char *name, char *out, size_t outsz)
{
    char *copy = strndup(head, hlen);
    const char *h = strcasestr(copy, name);
    out[0] = '\0';
    if (h) {
        h += strlen(name);
        while (*h == ' ')
            h++;
        snprintf(out, outsz, "%.*s", (int)strcspn(h, "\r"), h);
    }
    free(copy);
}

/* Checks a register request; returns the event type of its subject or -1. */
static int check_request(struct fake *f, const char *req, size_t len, size_t hlen)
{
    char path[512], v[256];
    if (sscanf(req, "POST %511s HTTP/1.1\r\n", path) != 1) {
        problem(f, "not a POST: %.40s", req);
        return -1;
    }
    size_t blen = strlen(f->base);
    const char *s = strstr(path, "/subjects/"), *ver = strstr(path, "/versions");
    if (strncmp(path, f->base, blen) || !s || !ver || strcmp(ver, "/versions")) {
        problem(f, "bad path %.200s", path);
        return -1;
    }
    s += 10;
    int t = -1;
    for (int i = 0; i < RILL_EVENT__COUNT; i++)
        if (strlen(subjects[i]) == (size_t)(ver - s) && !strncmp(s, subjects[i], (size_t)(ver - s)))
            t = i;
    if (t < 0) {
        problem(f, "unexpected subject in %.200s", path);
        return -1;
    }
    header(req, hlen, "\r\ncontent-type:", v, sizeof v);
    if (strcmp(v, "application/vnd.schemaregistry.v1+json"))
        problem(f, "content type '%s'", v);
    header(req, hlen, "\r\nauthorization:", v, sizeof v);
    if (strcmp(v, f->auth ? f->auth : ""))
        problem(f, "authorization '%s'", v);
    header(req, hlen, "\r\nhost:", v, sizeof v);
    if (strncmp(v, "127.0.0.1:", 10))
        problem(f, "host '%s'", v);
    static char schema[64 * 1024];
    size_t n = 0;
    const char *text = rill_serde_schema_text((rill_event_type_t)t);
    if (rill_json_get(req + hlen, len - hlen, "schema", schema, sizeof schema, &n) !=
            RILL_JSON_FOUND ||
        n != strlen(text) || memcmp(schema, text, n))
        problem(f, "the body's schema is not the .avsc text of %s", subjects[t]);
    return t;
}

static void send_str(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void answer_id(int fd, int id, int chunked)
{
    char body[32], out[256];
    int n = snprintf(body, sizeof body, "{\"id\":%d}", id);
    if (!chunked) {
        n = snprintf(out, sizeof out,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
                     "Content-Length: %d\r\n\r\n%s",
                     n, body);
        send_str(fd, out, (size_t)n);
        return;
    }
    /* 3-byte chunks, one with an extension, then an empty trailer. */
    size_t o = (size_t)snprintf(out, sizeof out,
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < n; i += 3) {
        int k = n - i < 3 ? n - i : 3;
        o += (size_t)snprintf(out + o, sizeof out - o, "%x%s\r\n%.*s\r\n", k,
                              i == 3 ? ";ext=1" : "", k, body + i);
    }
    o += (size_t)snprintf(out + o, sizeof out - o, "0\r\n\r\n");
    send_str(fd, out, o);
}

static void serve(struct fake *f, int fd)
{
    static char req[128 * 1024];
    size_t hlen = 0, len = read_request(fd, req, sizeof req - 1, &hlen);
    if (!len)
        return;
    atomic_fetch_add(&f->requests, 1);
    int t = check_request(f, req, len, hlen);
    if (t >= 0)
        atomic_fetch_add(&f->per_type[t], 1);
    switch (atomic_load(&f->mode)) {
    case FAKE_IDS: answer_id(fd, 101 + (t < 0 ? 0 : t), 0); break;
    case FAKE_CHUNKED: answer_id(fd, 101 + (t < 0 ? 0 : t), 1); break;
    case FAKE_SAME_ID: answer_id(fd, 101, 0); break;
    case FAKE_CANNED: send_str(fd, f->canned, strlen(f->canned)); break;
    case FAKE_SILENT:
        while (!atomic_load(&f->stop)) { /* until the client gives up and closes */
            struct pollfd p = { fd, POLLIN, 0 };
            char c;
            if (poll(&p, 1, 20) > 0 && recv(fd, &c, 1, 0) <= 0)
                break;
        }
        break;
    case FAKE_HUGE: {
        static char chunk[4096];
        memset(chunk, 'x', sizeof chunk);
        send_str(fd, "HTTP/1.1 200 OK\r\n\r\n", 19);
        for (int i = 0; i < 256; i++)
            send_str(fd, chunk, sizeof chunk);
        break;
    }
    }
}

static void *fake_main(void *arg)
{
    struct fake *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = { f->lfd, POLLIN, 0 };
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(f, fd);
        close(fd);
    }
    return NULL;
}

/* A free port on 127.0.0.1, listening (lfd) or just closed (lfd NULL). */
static int loopback_port(int *lfd)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64) ||
        getsockname(fd, (struct sockaddr *)&a, &al)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (lfd)
        *lfd = fd;
    else
        close(fd);
    return ntohs(a.sin_port);
}

static int fake_seq;

/* Starts a fake registry in mode; auth is the header it expects. */
static int fake_start(struct fake *f, enum fake_mode mode, const char *auth)
{
    memset(f, 0, sizeof *f);
    atomic_init(&f->stop, 0);
    atomic_init(&f->mode, (int)mode);
    atomic_init(&f->requests, 0);
    for (int t = 0; t < RILL_EVENT__COUNT; t++)
        atomic_init(&f->per_type[t], 0);
    f->auth = auth;
    int port = loopback_port(&f->lfd);
    if (port < 0)
        return -1;
    snprintf(f->base, sizeof f->base, "/t%d", ++fake_seq);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d%s", port, f->base);
    if (pthread_create(&f->tid, NULL, fake_main, f)) {
        close(f->lfd);
        return -1;
    }
    return 0;
}

static void fake_stop(struct fake *f)
{
    atomic_store(&f->stop, 1);
    pthread_join(f->tid, NULL);
    close(f->lfd);
    if (f->problem[0])
        fprintf(stderr, "\n    fake registry: %s\n", f->problem);
}

static struct rill_registry_conf conf_of(const struct fake *f, int with_auth)
{
    struct rill_registry_conf c = { .url = f->url, .timeout_ms = 2000 };
    if (with_auth) {
        c.user = USER;
        c.password = PASSWORD;
    }
    return c;
}

/* ---- sample events, one per type ---- */

static rill_order_item_t order_items[] = { { "P1", "books", 2, 12500 } };
static rill_item_reservation_t reservations[] = { { "P1", 2, 2, 10 } };
static rill_item_qty_t qty_items[] = { { "P1", 2 } };

static void sample(int t, rill_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = (rill_event_type_t)t;
    switch (ev->type) {
    case RILL_EVENT_ORDER_PLACED:
        ev->u.order = (rill_order_placed_t){ "O1", "C1", "L1", order_items, 1, 25000, "EUR",
                                             RILL_STATUS_OPEN, 1000, "O1" };
        break;
    case RILL_EVENT_PAYMENT_RESULT:
        ev->u.payment = (rill_payment_result_t){ "O1", "C1", "L1", 1, RILL_STATUS_PAID, 25000,
                                                 "EUR", NULL, 1000, "O1" };
        break;
    case RILL_EVENT_INVENTORY_RESULT:
        ev->u.inventory = (rill_inventory_result_t){ "O1", "C1", "L1", 1, RILL_STATUS_RESERVED,
                                                     reservations, 1, 1000, "O1" };
        break;
    case RILL_EVENT_ORDER_SHIPPED:
        ev->u.shipped = (rill_order_shipped_t){ "O1", "C1", "L1", qty_items, 1, 25000, "EUR",
                                                RILL_STATUS_SHIPPED, 1000, "O1" };
        break;
    case RILL_EVENT_ORDER_STATUS:
        ev->u.status = (rill_order_status_t){ "O1", "C1", "L1", RILL_STATUS_OPEN,
                                              RILL_STATUS_PAID, "payment_approved", 1000, "O1" };
        break;
    case RILL_EVENT_STOCK_RELEASE:
        ev->u.release = (rill_stock_release_t){ "O1", "L1", qty_items, 1, "payment_rejected",
                                                1000, "O1" };
        break;
    default:
        ev->u.notification = (rill_notification_t){ "O1:order_shipped", "C1", "O1", "L1",
                                                    "email", "order_shipped",
                                                    RILL_STATUS_SHIPPED, "shipped", 1000, "O1" };
        break;
    }
}

static int32_t frame_id(const rill_buf_t *b)
{
    return (int32_t)((uint32_t)b->p[1] << 24 | (uint32_t)b->p[2] << 16 | (uint32_t)b->p[3] << 8 |
                     b->p[4]);
}

/* ---- tests ---- */

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
}

static void test_conf_checks(void)
{
    static const struct {
        const char *url, *want;
    } bad[] = {
        { "", "no schema registry url" },
        { "https://registry:8081", "https is not supported" },
        { "HTTPS://registry:8081", "https is not supported" },
        { "ftp://registry", "must start with http://" },
        { "registry:8081", "must start with http://" },
        { "http://" USER ":" PASSWORD "@registry:8081", "must not hold credentials" },
        { "http://" USER ":pw/" PASSWORD "@registry:8081", "must not hold credentials" },
        { "http://a:8081,http://b:8081", "one url, not a list" },
        { "http://registry:8081/x?y=1", "query or fragment" },
        { "http://registry:8081#top", "query or fragment" },
        { "http://:8081", "no host" },
        { "http:///subjects", "no host" },
        { "http://reg istry:8081", "bad character in the host" },
        { "http://registry:0", "port must be 1..65535" },
        { "http://registry:65536", "port must be 1..65535" },
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
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct rill_registry_conf c = { .url = ok[i].url };
        CU_ASSERT_EQUAL_FATAL(rill_registry_new(&r, &c, err, sizeof err), RILL_OK);
        CU_ASSERT_STRING_EQUAL(rill_registry_url(r), ok[i].want);
        rill_registry_destroy(r);
    }

    /* Credentials: a user with exactly one of password and file; messages
     * name neither the user nor the password. */
    char file[64];
    int fd = it_tmpfile(file, sizeof file, "reg-pw");
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    static const struct {
        const char *user, *password;
        int use_file;
        rill_err_t rc;
        const char *want;
    } creds[] = {
        { USER, NULL, 0, RILL_ERR_CONFIG, "needs a password or a password file" },
        { USER, PASSWORD, 1, RILL_ERR_CONFIG, "needs a password or a password file" },
        { NULL, PASSWORD, 0, RILL_ERR_CONFIG, "a schema registry password needs a user" },
        { "", NULL, 1, RILL_ERR_CONFIG, "a schema registry password needs a user" },
        { USER ":x", PASSWORD, 0, RILL_ERR_CONFIG, "must not contain ':'" },
        { USER, NULL, 1, RILL_ERR_CONFIG, "is empty" },
    };
    for (size_t i = 0; i < sizeof creds / sizeof creds[0]; i++) {
        struct rill_registry_conf c = { .url = "http://registry:8081", .user = creds[i].user,
                                        .password = creds[i].password,
                                        .password_file = creds[i].use_file ? file : NULL };
        CU_ASSERT_EQUAL(rill_registry_new(&r, &c, err, sizeof err), creds[i].rc);
        CU_ASSERT(has(err, creds[i].want));
        CU_ASSERT(clean(err));
    }
    FILE *f = fopen(file, "w");
    for (int i = 0; i <= RILL_REGISTRY_MAX_PASSWORD; i++)
        fputc('p', f);
    fclose(f);
    struct rill_registry_conf c = { .url = "http://registry", .user = USER, .password_file = file };
    CU_ASSERT_EQUAL(rill_registry_new(&r, &c, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT(has(err, "larger than 1024 bytes"));
    unlink(file);
    CU_ASSERT_EQUAL(rill_registry_new(&r, &c, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT(has(err, "cannot open schema registry password file '/tmp/rill-reg-pw-"));
}

static void test_register(void)
{
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_IDS, AUTH) == 0);
    struct rill_registry_conf c = conf_of(&f, 1);
    rill_registry_t *r;
    char err[256] = "";
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
    rill_registry_destroy(r);
    fake_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.problem, "");
    CU_ASSERT_EQUAL(f.requests, 8);
    CU_ASSERT_EQUAL(f.per_type[0], 2);
}

static void test_serde_uses_registry_ids(void)
{
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_IDS, AUTH) == 0);
    struct rill_registry_conf c = conf_of(&f, 1);
    rill_serde_t *reg = NULL, *map = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&reg, &c, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&map, err, sizeof err), RILL_OK);
    rill_buf_t b = { 0 }, mb = { 0 };
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        rill_event_t ev, back = { 0 };
        sample(t, &ev);
        CU_ASSERT_EQUAL_FATAL(rill_serde_encode(reg, &ev, &b, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(b.p[0], 0);
        CU_ASSERT_EQUAL(frame_id(&b), 101 + t);
        CU_ASSERT_EQUAL(rill_serde_decode(reg, "L1", 2, b.p, b.len, &back, err, sizeof err),
                        RILL_OK);
        CU_ASSERT_EQUAL(back.type, (rill_event_type_t)t);
        CU_ASSERT_STRING_EQUAL(rill_event_location(&back), "L1");
        rill_event_clear(&back);

        /* The id map's frame is refused by the registry's serde, and the
         * other way round: the payloads are the same, only the ids differ. */
        CU_ASSERT_EQUAL_FATAL(rill_serde_encode(map, &ev, &mb, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(frame_id(&mb), t + 1);
        CU_ASSERT_EQUAL(mb.len, b.len);
        CU_ASSERT(!memcmp(mb.p + 5, b.p + 5, b.len - 5));
        char want[64];
        CU_ASSERT_EQUAL(rill_serde_decode(reg, "L1", 2, mb.p, mb.len, &back, err, sizeof err),
                        RILL_ERR_INVALID);
        snprintf(want, sizeof want, "unknown schema id %d", t + 1);
        CU_ASSERT(has(err, want));
        CU_ASSERT_EQUAL(rill_serde_decode(map, "L1", 2, b.p, b.len, &back, err, sizeof err),
                        RILL_ERR_INVALID);
        snprintf(want, sizeof want, "unknown schema id %d", 101 + t);
        CU_ASSERT(has(err, want));
    }
    rill_buf_free(&b);
    rill_buf_free(&mb);
    rill_serde_destroy(reg);
    rill_serde_destroy(map);
    fake_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.problem, "");
    CU_ASSERT_EQUAL(f.requests, RILL_EVENT__COUNT);
}

/* 24 serdes, as for 24 processor instances, made by 4 threads at once. */
struct maker {
    const struct rill_registry_conf *conf;
    rill_serde_t *s[6];
    int failed;
};

static void *make_serdes(void *arg)
{
    struct maker *m = arg;
    char err[256];
    for (int i = 0; i < 6; i++)
        m->failed += rill_serde_new_registry(&m->s[i], m->conf, err, sizeof err) != RILL_OK;
    return NULL;
}

static void test_once_per_process(void)
{
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_IDS, NULL) == 0);
    struct rill_registry_conf c = conf_of(&f, 0);
    struct maker m[4];
    pthread_t tid[4];
    for (int i = 0; i < 4; i++) {
        m[i] = (struct maker){ .conf = &c };
        CU_ASSERT_FATAL(pthread_create(&tid[i], NULL, make_serdes, &m[i]) == 0);
    }
    rill_event_t ev;
    rill_buf_t b = { 0 };
    char err[256];
    sample(RILL_EVENT_NOTIFICATION, &ev);
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
        CU_ASSERT_EQUAL(m[i].failed, 0);
        for (int k = 0; k < 6; k++) {
            CU_ASSERT_EQUAL(rill_serde_encode(m[i].s[k], &ev, &b, err, sizeof err), RILL_OK);
            CU_ASSERT_EQUAL(frame_id(&b), 107);
            rill_serde_destroy(m[i].s[k]);
        }
    }
    CU_ASSERT_EQUAL(f.requests, RILL_EVENT__COUNT);
    for (int t = 0; t < RILL_EVENT__COUNT; t++)
        CU_ASSERT_EQUAL(f.per_type[t], 1);

    /* Another URL (the same server under another base path) is asked again;
     * the first one still is not. */
    char other[96];
    snprintf(other, sizeof other, "%s/other/", f.url);
    struct rill_registry_conf c2 = { .url = other };
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c2, err, sizeof err), RILL_OK);
    rill_serde_destroy(s);
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    rill_serde_destroy(s);
    rill_buf_free(&b);
    fake_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.problem, "");
    CU_ASSERT_EQUAL(f.requests, 2 * RILL_EVENT__COUNT);
}

static void test_chunked(void)
{
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_CHUNKED, AUTH) == 0);
    struct rill_registry_conf c = conf_of(&f, 1);
    rill_serde_t *s = NULL;
    rill_event_t ev;
    rill_buf_t b = { 0 };
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    sample(RILL_EVENT_STOCK_RELEASE, &ev);
    CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(frame_id(&b), 106);
    rill_buf_free(&b);
    rill_serde_destroy(s);
    fake_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.problem, "");
}

/* Makes a serde against a fake answering canned (FAKE_CANNED) or in mode;
 * expects rc and every string of want in the message, and no credential. */
static void expect_failure(enum fake_mode mode, const char *canned, int timeout_ms, rill_err_t rc,
                           const char *const *want)
{
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, mode, AUTH) == 0);
    f.canned = canned;
    struct rill_registry_conf c = conf_of(&f, 1);
    if (timeout_ms)
        c.timeout_ms = timeout_ms;
    rill_serde_t *s = (rill_serde_t *)&f; /* must be reset to NULL */
    char err[512] = "";
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), rc);
    CU_ASSERT_PTR_NULL(s);
    char path[192];
    snprintf(path, sizeof path, "schema registry POST %s/subjects/io.rill.orders.OrderPlaced/versions: ",
             f.url);
    CU_ASSERT(has(err, path));
    for (; *want; want++)
        CU_ASSERT(has(err, *want));
    CU_ASSERT(clean(err));
    fake_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.problem, "");
    CU_ASSERT_EQUAL(f.requests, 1);
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

static void test_registry_errors(void)
{
    char a[1024];
    expect_failure(FAKE_CANNED,
                   json_answer(a, sizeof a, "422 Unprocessable Entity",
                               "{\"error_code\":42201,\"message\":\"Invalid schema\"}"),
                   0, RILL_ERR_CONFIG,
                   (const char *[]){ "http 422: Invalid schema (error_code 42201)", NULL });
    expect_failure(FAKE_CANNED,
                   json_answer(a, sizeof a, "409 Conflict",
                               "{\"error_code\":409,\"message\":\"Schema being registered is "
                               "incompatible with an earlier schema\"}"),
                   0, RILL_ERR_CONFIG,
                   (const char *[]){ "http 409: Schema being registered is incompatible", NULL });
    expect_failure(FAKE_CANNED,
                   json_answer(a, sizeof a, "401 Unauthorized",
                               "{\"error_code\":401,\"message\":\"Unauthorized\"}"),
                   0, RILL_ERR_AUTH, (const char *[]){ "http 401: Unauthorized", NULL });
    expect_failure(FAKE_CANNED,
                   json_answer(a, sizeof a, "403 Forbidden",
                               "{\"error_code\":40301,\"message\":\"User is denied operation "
                               "Write on Subject\"}"),
                   0, RILL_ERR_AUTH, (const char *[]){ "http 403: User is denied", NULL });
    expect_failure(FAKE_CANNED,
                   json_answer(a, sizeof a, "500 Internal Server Error",
                               "{\"error_code\":50001,\"message\":\"Error in the backend data "
                               "store\"}"),
                   0, RILL_ERR_IO,
                   (const char *[]){ "http 500: Error in the backend data store (error_code 50001)",
                                     NULL });
    expect_failure(FAKE_CANNED,
                   json_answer(a, sizeof a, "502 Bad Gateway", "<html>bad gateway</html>"), 0,
                   RILL_ERR_IO, (const char *[]){ "http 502 without a registry error", NULL });
    expect_failure(FAKE_CANNED,
                   "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://elsewhere/\r\n"
                   "Content-Length: 0\r\n\r\n",
                   0, RILL_ERR_CONFIG,
                   (const char *[]){ "http 307: redirects are not followed", NULL });
    /* A long message with control bytes is cut and made printable. */
    char json[600];
    snprintf(json, sizeof json, "{\"message\":\"line1\\nline2 %0400d\",\"error_code\":42203}", 0);
    expect_failure(FAKE_CANNED, json_answer(a, sizeof a, "422 Unprocessable Entity", json), 0,
                   RILL_ERR_CONFIG,
                   (const char *[]){ "http 422: line1?line2 000", "000... (error_code 42203)",
                                     NULL });
}

static void test_transport_errors(void)
{
    char a[256];
    expect_failure(FAKE_SILENT, NULL, 300, RILL_ERR_IO,
                   (const char *[]){ "no complete answer within 300 ms", NULL });
    expect_failure(FAKE_CANNED, "hello there\r\n\r\n", 0, RILL_ERR_INVALID,
                   (const char *[]){ "not an http answer", NULL });
    expect_failure(FAKE_CANNED, "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 0, RILL_ERR_INVALID,
                   (const char *[]){ "malformed header line", NULL });
    expect_failure(FAKE_CANNED, json_answer(a, sizeof a, "200 OK", "not json"), 0,
                   RILL_ERR_INVALID, (const char *[]){ "http 200 but the answer is not a json object", NULL });
    expect_failure(FAKE_CANNED, json_answer(a, sizeof a, "200 OK", "{\"version\":1}"), 0,
                   RILL_ERR_INVALID, (const char *[]){ "the answer has no id", NULL });
    expect_failure(FAKE_CANNED, json_answer(a, sizeof a, "200 OK", "{\"id\":\"101\"}"), 0,
                   RILL_ERR_INVALID, (const char *[]){ "the answer's id is not a schema id", NULL });
    expect_failure(FAKE_CANNED, json_answer(a, sizeof a, "200 OK", "{\"id\":2147483648}"), 0,
                   RILL_ERR_INVALID, (const char *[]){ "the answer's id is not a schema id", NULL });
    expect_failure(FAKE_CANNED, json_answer(a, sizeof a, "200 OK", "{\"id\":0}"), 0,
                   RILL_ERR_INVALID, (const char *[]){ "the answer's id is not a schema id", NULL });
    expect_failure(FAKE_CANNED, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n{", 0,
                   RILL_ERR_INVALID,
                   (const char *[]){ "answer of 1000000 bytes exceeds the limit of 65536", NULL });
    expect_failure(FAKE_CANNED, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 0,
                   RILL_ERR_INVALID, (const char *[]){ "two different content-lengths", NULL });
    expect_failure(FAKE_HUGE, NULL, 0, RILL_ERR_INVALID,
                   (const char *[]){ "answer exceeds the limit of 65536 bytes", NULL });
    expect_failure(FAKE_CANNED, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"id\"", 0,
                   RILL_ERR_IO,
                   (const char *[]){ "connection closed before the answer was complete", NULL });
    expect_failure(FAKE_CANNED, "", 0, RILL_ERR_IO,
                   (const char *[]){ "connection closed without an answer", NULL });
    expect_failure(FAKE_CANNED,
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n{\"id\":101}\r\n0\r\n\r\n",
                   0, RILL_ERR_INVALID, (const char *[]){ "malformed chunked answer", NULL });
    expect_failure(FAKE_CANNED, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
                   RILL_ERR_INVALID, (const char *[]){ "malformed chunked answer", NULL });
    expect_failure(FAKE_CANNED, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"", 0,
                   RILL_ERR_IO,
                   (const char *[]){ "connection closed before the answer was complete", NULL });
    expect_failure(FAKE_CANNED, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 0,
                   RILL_ERR_INVALID, (const char *[]){ "unsupported transfer-encoding", NULL });
    /* Without Content-Length, the close ends the body. */
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_CANNED, NULL) == 0);
    f.canned = "HTTP/1.0 200 OK\r\n\r\n{\"id\": 55}";
    struct rill_registry_conf c = conf_of(&f, 0);
    rill_registry_t *r;
    char err[256];
    int32_t id = 0;
    CU_ASSERT_EQUAL_FATAL(rill_registry_new(&r, &c, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_registry_register(r, subjects[1], rill_serde_schema_text(1), &id, err,
                                           sizeof err),
                    RILL_OK);
    CU_ASSERT_EQUAL(id, 55);
    rill_registry_destroy(r);
    fake_stop(&f);

    /* Nobody listening. */
    int port = loopback_port(NULL);
    CU_ASSERT_FATAL(port > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/refused", port);
    struct rill_registry_conf rc = { .url = url, .user = USER, .password = PASSWORD };
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &rc, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(has(err, url));
    CU_ASSERT(has(err, "/refused/subjects/io.rill.orders.OrderPlaced/versions: cannot connect: "));
    CU_ASSERT(clean(err));
}

static void test_failure_not_cached(void)
{
    char a[256];
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_CANNED, NULL) == 0);
    f.canned = json_answer(a, sizeof a, "500 Internal Server Error",
                           "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}");
    struct rill_registry_conf c = conf_of(&f, 0);
    rill_serde_t *s = NULL;
    char err[256];
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_ERR_IO);
    atomic_store(&f.mode, FAKE_IDS); /* the registry recovers */
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    rill_serde_destroy(s);
    fake_stop(&f);
    CU_ASSERT_EQUAL(f.requests, 2 + RILL_EVENT__COUNT);
}

static void test_one_id_for_two_schemas(void)
{
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_SAME_ID, NULL) == 0);
    struct rill_registry_conf c = conf_of(&f, 0);
    rill_serde_t *s = NULL;
    char err[256];
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(has(err, "gave id 101 to both 'order_placed' and 'payment_result'"));
    fake_stop(&f);
}

static void test_environment(void)
{
    static const char *const keys[] = { "RILL_SCHEMA_REGISTRY_URL", "RILL_SCHEMA_REGISTRY_USER",
                                        "RILL_SCHEMA_REGISTRY_PASSWORD",
                                        "RILL_SCHEMA_REGISTRY_PASSWORD_FILE" };
    for (size_t i = 0; i < 4; i++)
        unsetenv(keys[i]);
    rill_serde_t *s = NULL;
    rill_event_t ev;
    rill_buf_t b = { 0 };
    char err[256];
    sample(RILL_EVENT_ORDER_PLACED, &ev);

    /* Unset or empty: the id map. */
    setenv("RILL_SCHEMA_REGISTRY_URL", "", 1);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(frame_id(&b), 1);
    rill_serde_destroy(s);

    /* URL, user and a password file (its newline is not part of it). */
    struct fake f;
    CU_ASSERT_FATAL(fake_start(&f, FAKE_IDS, "Basic ZW52LXVzZXI6ZW52LVB3LTc3eA==") == 0);
    char file[64];
    int fd = it_tmpfile(file, sizeof file, "reg-pw");
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "env-Pw-77x\n", 11), 11);
    close(fd);
    setenv("RILL_SCHEMA_REGISTRY_URL", f.url, 1);
    setenv("RILL_SCHEMA_REGISTRY_USER", "env-user", 1);
    setenv("RILL_SCHEMA_REGISTRY_PASSWORD_FILE", file, 1);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(frame_id(&b), 101);
    rill_serde_destroy(s);
    fake_stop(&f);
    CU_ASSERT_STRING_EQUAL(f.problem, "");
    CU_ASSERT_EQUAL(f.requests, RILL_EVENT__COUNT);

    /* Password and password file: refused, neither quoted. */
    setenv("RILL_SCHEMA_REGISTRY_PASSWORD", "env-Pw-77x", 1);
    CU_ASSERT_EQUAL(rill_serde_new(&s, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT(has(err, "needs a password or a password file (one of them)"));
    CU_ASSERT(clean(err));

    /* A registry that is down is an error, not the id map. The fake is
     * stopped, so its port refuses (the id cache holds only this URL's
     * success under another user, so it is not consulted). */
    unsetenv("RILL_SCHEMA_REGISTRY_PASSWORD_FILE");
    setenv("RILL_SCHEMA_REGISTRY_USER", "other-user", 1);
    CU_ASSERT_EQUAL(rill_serde_new(&s, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(has(err, "cannot connect"));
    CU_ASSERT(clean(err));

    unlink(file);
    rill_buf_free(&b);
    for (size_t i = 0; i < 4; i++)
        unsetenv(keys[i]);
}

static CU_TestInfo tests[] = {
    { "subjects are the records' full names", test_subjects },
    { "url and credential checks", test_conf_checks },
    { "register sends the .avsc text and reads the id", test_register },
    { "the serde encodes with the registry's ids, decodes only them", test_serde_uses_registry_ids },
    { "one registration per subject per process for 24 serdes", test_once_per_process },
    { "chunked answers", test_chunked },
    { "registry errors: 4xx and 5xx with error_code and message", test_registry_errors },
    { "silent, garbage, huge, cut short, refused", test_transport_errors },
    { "a failure is not cached", test_failure_not_cached },
    { "one id for two schemas is refused", test_one_id_for_two_schemas },
    { "configured by the environment, never falls back", test_environment },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("registry", tests)
