/*
 * test_registry_serde.c - unit tests of the serde with a schema registry
 * (rill_serde_new_registry(), rill_serde_new() configured by the
 * environment): the ids it registers and writes, once per process; the
 * subject strategies (record names, and <topic>-value of the topics a
 * topology names after event types); ids it does not know looked up by id
 * and matched to the compiled-in schemas; a registry that cannot be asked.
 * Against the scripted registry of tests/lib/fakereg.h, over https with the
 * test CA where the transport does not matter (the client's own tests are
 * test_registry.c). Every fake has its own URL, so the serde's per-process
 * caches never carry over between tests.
 */
#include "tests/lib/fakereg.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"
#include "topology/cli/cli.h"
#include "topology/model/config.h"
#include "schemas/registry.h"
#include "schemas/serde.h"

#include <avro.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define has fakereg_has
#define clean fakereg_clean

static char ca[600], cert[600], key[600];

static int suite_init(void)
{
    const char *so = getenv("RILL_TEST_SO_DIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/registry-tls", so && *so ? so : "build");
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    return fakereg_make_certs(dir);
}

/* Every test leaves the process's strategy as it found it: record names. */
static void record_strategy(void)
{
    char err[128];
    CU_ASSERT_EQUAL(rill_serde_set_subjects(RILL_SUBJECT_RECORD, NULL, 0, err, sizeof err),
                    RILL_OK);
}

static struct fakereg *start_opts(struct fakereg_opts o)
{
    o.cert = cert;
    o.key = key;
    return fakereg_start(&o);
}

static struct fakereg *start(enum fakereg_mode mode, const char *auth)
{
    return start_opts((struct fakereg_opts){ .mode = mode, .auth = auth });
}

static struct rill_registry_conf conf_of(struct fakereg *f, int with_auth)
{
    struct rill_registry_conf c = { .url = fakereg_url(f), .ca_file = ca, .timeout_ms = 3000 };
    if (with_auth) {
        c.user = FAKEREG_USER;
        c.password = FAKEREG_PASSWORD;
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

/* Re-frames b's payload with id. */
static void reframe(rill_buf_t *b, int32_t id)
{
    b->p[1] = (unsigned char)((uint32_t)id >> 24);
    b->p[2] = (unsigned char)((uint32_t)id >> 16);
    b->p[3] = (unsigned char)((uint32_t)id >> 8);
    b->p[4] = (unsigned char)id;
}

/* ---- record names ---- */

static void test_serde_uses_registry_ids(void)
{
    struct fakereg *f = start(FAKEREG_API, FAKEREG_AUTH);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 1);
    rill_serde_t *reg = NULL, *map = NULL;
    char err[512] = "";
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

        /* The id map's frame is refused by the registry's serde (the registry
         * has no schema of that id), and the other way round: the payloads
         * are the same, only the ids differ. */
        CU_ASSERT_EQUAL_FATAL(rill_serde_encode(map, &ev, &mb, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(frame_id(&mb), t + 1);
        CU_ASSERT_EQUAL(mb.len, b.len);
        CU_ASSERT(!memcmp(mb.p + 5, b.p + 5, b.len - 5));
        char want[64];
        CU_ASSERT_EQUAL(rill_serde_decode(reg, "L1", 2, mb.p, mb.len, &back, err, sizeof err),
                        RILL_ERR_INVALID);
        snprintf(want, sizeof want, "unknown schema id %d: the registry", t + 1);
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
    CU_ASSERT_STRING_EQUAL(fakereg_problem(f), "");
    /* Seven registrations, then one look-up of each id-map id. */
    CU_ASSERT_EQUAL(fakereg_requests(f), 2 * RILL_EVENT__COUNT);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/io.rill.orders.OrderPlaced/versions"), 1);
    CU_ASSERT_EQUAL(fakereg_count(f, "GET", "/schemas/ids/1"), 1);
    fakereg_stop(f);
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
    struct fakereg *f = start(FAKEREG_API, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
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
        for (int k = 0; k < 6 && m[i].s[k]; k++) {
            CU_ASSERT_EQUAL(rill_serde_encode(m[i].s[k], &ev, &b, err, sizeof err), RILL_OK);
            CU_ASSERT_EQUAL(frame_id(&b), 107);
            rill_serde_destroy(m[i].s[k]);
        }
    }
    CU_ASSERT_EQUAL(fakereg_requests(f), RILL_EVENT__COUNT);

    /* Another URL (the same server under another base path) is asked again;
     * the first one still is not. */
    char other[96];
    snprintf(other, sizeof other, "%s/other/", fakereg_url(f));
    struct rill_registry_conf c2 = c;
    c2.url = other;
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c2, err, sizeof err), RILL_OK);
    rill_serde_destroy(s);
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    rill_serde_destroy(s);
    rill_buf_free(&b);
    CU_ASSERT_EQUAL(fakereg_requests(f), 2 * RILL_EVENT__COUNT);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/other/subjects/io.rill.orders.Notification/versions"),
                    1);
    fakereg_stop(f);
}

static void test_failure_not_cached(void)
{
    static const char body[] =
        "{\"error_code\":50001,\"message\":\"Error in the backend data store\"}";
    char a[256];
    snprintf(a, sizeof a,
             "HTTP/1.1 500 X\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
             "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", sizeof body - 1, body);
    struct fakereg *f = start_opts((struct fakereg_opts){ .mode = FAKEREG_CANNED, .canned = a });
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    rill_serde_t *s = NULL;
    char err[512];
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT(has(err, "http 500: Error in the backend data store (error_code 50001)"));
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_ERR_IO);
    fakereg_set_mode(f, FAKEREG_API); /* the registry recovers */
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    rill_serde_destroy(s);
    CU_ASSERT_EQUAL(fakereg_requests(f), 2 + RILL_EVENT__COUNT);
    fakereg_stop(f);
}

static void test_one_id_for_two_schemas(void)
{
    /* It closes after each answer without saying so (no Connection: close). */
    static const char same[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"id\":101}";
    struct fakereg *f = start_opts((struct fakereg_opts){ .mode = FAKEREG_CANNED, .canned = same });
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    rill_serde_t *s = NULL;
    char err[256];
    CU_ASSERT_EQUAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(has(err, "gave id 101 to both 'order_placed' and 'payment_result'"));
    fakereg_stop(f);
}

static void test_environment(void)
{
    static const char *const keys[] = { "RILL_SCHEMA_REGISTRY_URL", "RILL_SCHEMA_REGISTRY_USER",
                                        "RILL_SCHEMA_REGISTRY_PASSWORD",
                                        "RILL_SCHEMA_REGISTRY_PASSWORD_FILE",
                                        "RILL_SCHEMA_REGISTRY_CA_FILE" };
    for (size_t i = 0; i < 5; i++)
        unsetenv(keys[i]);
    rill_serde_t *s = NULL;
    rill_event_t ev;
    rill_buf_t b = { 0 };
    char err[512];
    sample(RILL_EVENT_ORDER_PLACED, &ev);

    /* Unset or empty: the id map. */
    setenv("RILL_SCHEMA_REGISTRY_URL", "", 1);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(frame_id(&b), 1);
    rill_serde_destroy(s);

    /* URL, user, a password file (its newline is not part of it), CA file. */
    struct fakereg *f = start(FAKEREG_API, "Basic ZW52LXVzZXI6ZW52LVB3LTc3eA==");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char file[64];
    int fd = it_tmpfile(file, sizeof file, "reg-pw");
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "env-Pw-77x\n", 11), 11);
    close(fd);
    setenv("RILL_SCHEMA_REGISTRY_URL", fakereg_url(f), 1);
    setenv("RILL_SCHEMA_REGISTRY_USER", "env-user", 1);
    setenv("RILL_SCHEMA_REGISTRY_PASSWORD_FILE", file, 1);
    CU_ASSERT_EQUAL(rill_serde_new(&s, err, sizeof err), RILL_ERR_IO); /* no CA: not trusted */
    CU_ASSERT(has(err, "not trusted by the system's CAs"));
    setenv("RILL_SCHEMA_REGISTRY_CA_FILE", ca, 1);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(frame_id(&b), 101);
    rill_serde_destroy(s);
    fakereg_stop(f);

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
    for (size_t i = 0; i < 5; i++)
        unsetenv(keys[i]);
}

/* ---- topic names ---- */

static void test_topic_of_type(void)
{
    static const struct {
        const char *topic;
        int type;
    } cases[] = {
        { "order_placed", RILL_EVENT_ORDER_PLACED },
        { "prod.order_placed", RILL_EVENT_ORDER_PLACED },
        { "a.b.payment_result", RILL_EVENT_PAYMENT_RESULT },
        { "inventory_result", RILL_EVENT_INVENTORY_RESULT },
        { "order_shipped", RILL_EVENT_ORDER_SHIPPED },
        { "order_status", RILL_EVENT_ORDER_STATUS },
        { "stock_release", RILL_EVENT_STOCK_RELEASE },
        { "notifications", RILL_EVENT_NOTIFICATION },
        { "order_placed.dlq", -1 },
        { ".order_placed", -1 },
        { "xorder_placed", -1 },
        { "prod-order_placed", -1 },
        { "notification", -1 },
        { "", -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CU_ASSERT_EQUAL(rill_event_type_of_topic(cases[i].topic), cases[i].type);
    char err[128];
    struct rill_serde_topic bad[] = { { "", RILL_EVENT_ORDER_PLACED } };
    CU_ASSERT_EQUAL(rill_serde_set_subjects(RILL_SUBJECT_TOPIC, bad, 1, err, sizeof err),
                    RILL_ERR_INVALID);
    bad[0] = (struct rill_serde_topic){ "t", RILL_EVENT__COUNT };
    CU_ASSERT_EQUAL(rill_serde_set_subjects(RILL_SUBJECT_TOPIC, bad, 1, err, sizeof err),
                    RILL_ERR_INVALID);
}

/* A topology with schema.registry.subject.strategy: topic registers each
 * schema under <topic>-value of the topics named after its event type, and
 * nothing else; the ids are the registry's global ones. */
static void test_topic_strategy(void)
{
    static const char yaml[] =
        "application.id: reg-topics\n"
        "schema.registry.subject.strategy: topic\n"
        "topics:\n"
        "  order_placed: { partitions: 3 }\n"
        "  prod.payment_result: { partitions: 3 }\n"
        "  notifications: { partitions: 3 }\n"
        "  audit: { partitions: 3 }\n"
        "  order_placed.dlq: { partitions: 3 }\n"
        "processors:\n"
        "  copy: { type: passthrough, inputs: [order_placed], outputs: [audit] }\n";
    struct rill_topology *t = NULL;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(rill_topology_load_buf("topics.yaml", yaml, sizeof yaml - 1, &t, err,
                                                 sizeof err),
                          RILL_OK);
    CU_ASSERT_EQUAL(t->subject_strategy, RILL_SUBJECT_TOPIC);

    struct fakereg *f = start(FAKEREG_API, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    /* Another client registered the seven under record names first: ids
     * 101..107, global, so the topic subjects get the same ones. */
    for (int ty = 0; ty < RILL_EVENT__COUNT; ty++) {
        char subject[128];
        CU_ASSERT_EQUAL(rill_registry_subject(rill_serde_schema_text(ty), subject, sizeof subject,
                                              err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(fakereg_add(f, subject, rill_serde_schema_text(ty)), 101 + ty);
    }
    CU_ASSERT_EQUAL_FATAL(rill_cli_serde_subjects(t, err, sizeof err), 0);
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(fakereg_requests(f), 3);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/order_placed-value/versions"), 1);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/prod.payment_result-value/versions"), 1);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/notifications-value/versions"), 1);

    rill_event_t ev, back = { 0 };
    rill_buf_t b = { 0 };
    int32_t want[] = { 101, 102, 0, 0, 0, 0, 107 };
    for (int ty = 0; ty < RILL_EVENT__COUNT; ty++) {
        sample(ty, &ev);
        if (want[ty]) {
            CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
            CU_ASSERT_EQUAL(frame_id(&b), want[ty]);
        } else {
            CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_ERR_CONFIG);
            CU_ASSERT(has(err, "no schema id for "));
        }
    }
    /* A type no topic carries is still read: its id is looked up once. */
    rill_serde_t *rec = NULL;
    record_strategy();
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&rec, &c, err, sizeof err), RILL_OK);
    sample(RILL_EVENT_ORDER_SHIPPED, &ev);
    CU_ASSERT_EQUAL(rill_serde_encode(rec, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(frame_id(&b), 104);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(rill_serde_decode(s, "L1", 2, b.p, b.len, &back, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(back.type, RILL_EVENT_ORDER_SHIPPED);
        rill_event_clear(&back);
    }
    CU_ASSERT_EQUAL(fakereg_count(f, "GET", "/schemas/ids/104"), 1);
    CU_ASSERT_STRING_EQUAL(fakereg_problem(f), "");
    rill_buf_free(&b);
    rill_serde_destroy(rec);
    rill_serde_destroy(s);
    rill_topology_free(t);
    fakereg_stop(f);
}

/* A registry that numbers each subject's schema on its own: the serde writes
 * the first topic's id and reads both without asking. */
static void test_topic_ids_per_subject(void)
{
    struct fakereg *f = start_opts((struct fakereg_opts){ .mode = FAKEREG_API,
                                                          .per_subject_ids = 1 });
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    struct rill_serde_topic topics[] = { { "us.order_placed", RILL_EVENT_ORDER_PLACED },
                                         { "eu.order_placed", RILL_EVENT_ORDER_PLACED } };
    char err[512];
    CU_ASSERT_EQUAL_FATAL(rill_serde_set_subjects(RILL_SUBJECT_TOPIC, topics, 2, err, sizeof err),
                          RILL_OK);
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    record_strategy();
    rill_event_t ev, back = { 0 };
    rill_buf_t b = { 0 };
    sample(RILL_EVENT_ORDER_PLACED, &ev);
    CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(frame_id(&b), 101);
    reframe(&b, 102);
    CU_ASSERT_EQUAL(rill_serde_decode(s, "L1", 2, b.p, b.len, &back, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(back.type, RILL_EVENT_ORDER_PLACED);
    rill_event_clear(&back);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/us.order_placed-value/versions"), 1);
    CU_ASSERT_EQUAL(fakereg_count(f, "POST", "/subjects/eu.order_placed-value/versions"), 1);
    CU_ASSERT_EQUAL(fakereg_requests(f), 2);
    rill_buf_free(&b);
    rill_serde_destroy(s);
    fakereg_stop(f);
}

/* ---- ids the serde does not know ---- */

/* The schema of type t as avro-c writes it: the same schema in another
 * form (no doc, no default, its own spacing), as a Java producer's might be. */
static char *other_form(int t)
{
    avro_schema_t sc;
    const char *text = rill_serde_schema_text((rill_event_type_t)t);
    static char out[16384];
    if (avro_schema_from_json_length(text, strlen(text), &sc))
        return NULL;
    avro_writer_t w = avro_writer_memory(out, sizeof out - 1);
    int bad = avro_schema_to_json(sc, w);
    out[bad ? 0 : avro_writer_tell(w)] = '\0';
    avro_writer_free(w);
    avro_schema_decref(sc);
    return bad ? NULL : out;
}

static void test_lookup_unknown_ids(void)
{
    struct fakereg *f = start(FAKEREG_API, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    struct rill_registry_conf c = conf_of(f, 0);
    rill_serde_t *s = NULL;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&s, &c, err, sizeof err), RILL_OK);
    const char *form = other_form(RILL_EVENT_PAYMENT_RESULT);
    CU_ASSERT_PTR_NOT_NULL_FATAL(form);
    CU_ASSERT(strcmp(form, rill_serde_schema_text(RILL_EVENT_PAYMENT_RESULT)) != 0);
    int equal = fakereg_add(f, "payments-value", form);
    int foreign = fakereg_add(f, "x-value", "{\"type\":\"record\",\"name\":\"PaymentResult\","
                                            "\"namespace\":\"io.rill.orders\",\"fields\":"
                                            "[{\"name\":\"order_id\",\"type\":\"string\"}]}");
    CU_ASSERT_EQUAL(equal, 108);
    CU_ASSERT_EQUAL(foreign, 109);

    rill_event_t ev, back = { 0 };
    rill_buf_t b = { 0 };
    sample(RILL_EVENT_PAYMENT_RESULT, &ev);
    CU_ASSERT_EQUAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    for (int i = 0; i < 2; i++) {
        reframe(&b, equal);
        CU_ASSERT_EQUAL(rill_serde_decode(s, "L1", 2, b.p, b.len, &back, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(back.type, RILL_EVENT_PAYMENT_RESULT);
        CU_ASSERT_STRING_EQUAL(back.u.payment.order_id, "O1");
        rill_event_clear(&back);
        reframe(&b, foreign);
        CU_ASSERT_EQUAL(rill_serde_decode(s, "L1", 2, b.p, b.len, &back, err, sizeof err),
                        RILL_ERR_INVALID);
        CU_ASSERT(has(err, "unknown schema id 109: the registry "));
        CU_ASSERT(has(err, "none of rill's"));
        reframe(&b, 4242);
        CU_ASSERT_EQUAL(rill_serde_decode(s, "L1", 2, b.p, b.len, &back, err, sizeof err),
                        RILL_ERR_INVALID);
        CU_ASSERT(has(err, "unknown schema id 4242"));
    }
    /* Each asked once, whatever the answer; another serde asks no more. */
    rill_serde_t *s2 = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&s2, &c, err, sizeof err), RILL_OK);
    reframe(&b, equal);
    CU_ASSERT_EQUAL(rill_serde_decode(s2, "L1", 2, b.p, b.len, &back, err, sizeof err), RILL_OK);
    rill_event_clear(&back);
    CU_ASSERT_EQUAL(fakereg_count(f, "GET", "/schemas/ids/108"), 1);
    CU_ASSERT_EQUAL(fakereg_count(f, "GET", "/schemas/ids/109"), 1);
    CU_ASSERT_EQUAL(fakereg_count(f, "GET", "/schemas/ids/4242"), 1);

    /* A registry that does not answer: not the record's fault (RILL_ERR_IO),
     * and nothing kept, so that it is asked again once it answers. */
    rill_serde_destroy(s2);
    c.timeout_ms = 300;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new_registry(&s2, &c, err, sizeof err), RILL_OK); /* cached */
    int late = fakereg_add(f, "late-value", other_form(RILL_EVENT_ORDER_STATUS));
    fakereg_set_mode(f, FAKEREG_SILENT);
    reframe(&b, late);
    CU_ASSERT_EQUAL(rill_serde_decode(s2, "L1", 2, b.p, b.len, &back, err, sizeof err),
                    RILL_ERR_IO);
    CU_ASSERT(has(err, "unknown schema id 110, and the registry cannot be asked: "));
    CU_ASSERT(has(err, "no complete answer within 300 ms"));
    fakereg_set_mode(f, FAKEREG_API);
    sample(RILL_EVENT_ORDER_STATUS, &ev);
    CU_ASSERT_EQUAL(rill_serde_encode(s2, &ev, &b, err, sizeof err), RILL_OK);
    reframe(&b, late);
    CU_ASSERT_EQUAL(rill_serde_decode(s2, "L1", 2, b.p, b.len, &back, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(back.type, RILL_EVENT_ORDER_STATUS);
    rill_event_clear(&back);
    CU_ASSERT_EQUAL(fakereg_count(f, "GET", "/schemas/ids/110"), 2);
    rill_buf_free(&b);
    rill_serde_destroy(s2);
    rill_serde_destroy(s);
    fakereg_stop(f);
}

static CU_TestInfo tests[] = {
    { "the serde encodes with the registry's ids, reads them", test_serde_uses_registry_ids },
    { "one registration per subject per process for 24 serdes", test_once_per_process },
    { "a failure is not cached", test_failure_not_cached },
    { "one id for two schemas is refused", test_one_id_for_two_schemas },
    { "configured by the environment (https, ca file), never falls back", test_environment },
    { "the event type of a topic, by its name", test_topic_of_type },
    { "topic strategy: <topic>-value of the topology's event topics", test_topic_strategy },
    { "topic strategy: a registry with ids per subject", test_topic_ids_per_subject },
    { "unknown ids looked up once, matched by schema; a silent registry", test_lookup_unknown_ids },
    CU_TEST_INFO_NULL,
};
RILL_SUITE_FULL("registry_serde", tests, suite_init, NULL)
