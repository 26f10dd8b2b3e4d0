/*
 * test_pipeline.c - the order pipeline end to end on the real stack, from the
 * shipped topology/examples/ecommerce.yaml (topic names prefixed for this run, the
 * stack's secrets folder, a short session timeout): `rill apply` creates the
 * topics and each processor user's ACLs, `rill generate` writes orders as the
 * order_generator user (Avro, plus some JSON ones and four poison pills), and
 * `rill run` processes them exactly once while it is SIGKILLed several times.
 *
 * The expected outcome is computed here from the order_placed topic alone,
 * with the test's own rules: the documented payment hash, and stock that
 * never runs out except for the products configured sold out (so every
 * order's reservation is decided by its own lines, whatever the timing of
 * stock releases). Every count must match exactly, every order must appear
 * once per topic, the poison pills must be in the DLQ once per processor that
 * reads them, and the final stock of every (location, product) must be the
 * initial stock minus the shipped units.
 */
#include "tests/lib/suite.h"
#include "tests/lib/reference.h"
#include "tests/lib/util.h"
#include "tests/lib/proc.h"
#include "schemas/serde.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTOPICS 7
enum { T_PLACED, T_PAYMENT, T_INVENTORY, T_SHIPPED, T_STATUS, T_RELEASE, T_NOTIFY };
static const char *const *const names = it_pipeline_topics;

#define INITIAL_STOCK 1000000
#define SOLD_OUT "P0001=0,P0006=0"
#define SEED 7 /* ecommerce.yaml's payment seed */

struct run {
    char dir[64], app[64], yaml[128], log[128];
    char topic[NTOPICS][128];
};

/* topology/examples/ecommerce.yaml, adapted to this run. */
static int write_yaml(struct run *r)
{
    const char *topics[NTOPICS];
    for (int i = 0; i < NTOPICS; i++)
        topics[i] = r->topic[i];
    return it_ecommerce_yaml(r->yaml, topics);
}

static int run_init(struct run *r)
{
    if (!it_tmpdir(r->dir, sizeof r->dir, "it-pipeline"))
        return -1;
    snprintf(r->app, sizeof r->app, "%s", it_topic("orders"));
    for (int i = 0; i < NTOPICS; i++)
        snprintf(r->topic[i], sizeof r->topic[i], "%s.%s", r->app, names[i]);
    snprintf(r->yaml, sizeof r->yaml, "%s/ecommerce.yaml", r->dir);
    snprintf(r->log, sizeof r->log, "%s/rill.log", r->dir);
    char state[128], stock[32];
    snprintf(state, sizeof state, "%s/state", r->dir);
    snprintf(stock, sizeof stock, "%d", INITIAL_STOCK);
    setenv("RILL_APP_ID", r->app, 1);
    setenv("RILL_STATE_DIR", state, 1);
    setenv("KAFKA_BOOTSTRAP", it_env("KAFKA_BOOTSTRAP"), 1);
    setenv("RILL_INITIAL_STOCK", stock, 1);
    setenv("RILL_STOCK_OVERRIDES", SOLD_OUT, 1);
    return write_yaml(r);
}

static int sold_out(const char *product)
{
    return !strcmp(product, "P0001") || !strcmp(product, "P0006");
}

struct shipped_qty { /* units shipped per "LOCATION/PRODUCT" */
    char key[48];
    long units;
};

struct expect {
    long orders, bad, paid, rejected, reserved, oos, shipped, cancelled, released, notify;
    struct shipped_qty *q;
    size_t nq;
};

static void add_units(struct expect *e, const char *loc, const char *product, long units)
{
    char key[48];
    snprintf(key, sizeof key, "%s/%s", loc, product);
    for (size_t i = 0; i < e->nq; i++)
        if (!strcmp(e->q[i].key, key)) {
            e->q[i].units += units;
            return;
        }
    e->q = realloc(e->q, (e->nq + 1) * sizeof *e->q);
    snprintf(e->q[e->nq].key, sizeof e->q[e->nq].key, "%s", key);
    e->q[e->nq++].units = units;
}

static int reference(const struct run *r, rill_serde_t *s, struct expect *e)
{
    struct it_rec *in = NULL;
    long n = it_read_topic(r->topic[T_PLACED], 1, 60000, &in);
    if (n < 0)
        return -1;
    memset(e, 0, sizeof *e);
    for (long i = 0; i < n; i++) {
        rill_event_t ev = { 0 };
        char err[256];
        if (rill_serde_decode(s, in[i].key, in[i].key_len, in[i].value, in[i].value_len, &ev,
                              err, sizeof err) != RILL_OK) {
            e->bad++;
            continue;
        }
        const rill_order_placed_t *o = &ev.u.order;
        int paid = it_payment_approves(SEED, o->order_id, 9000), reserved = 1;
        for (size_t k = 0; k < o->item_cnt; k++)
            reserved &= !sold_out(o->items[k].product_id);
        e->orders++;
        e->paid += paid;
        e->rejected += !paid;
        e->reserved += reserved;
        e->oos += !reserved;
        e->shipped += paid && reserved;
        e->cancelled += !(paid && reserved);
        e->released += !paid && reserved;
        for (size_t k = 0; paid && reserved && k < o->item_cnt; k++)
            add_units(e, o->location_id, o->items[k].product_id, o->items[k].quantity);
        rill_event_clear(&ev);
    }
    /* notified: rejected payments, out-of-stock results, shipments, cancellations */
    e->notify = e->rejected + e->oos + e->shipped + e->cancelled;
    it_recs_free(in, n);
    return 0;
}

/* ---- what came out ------------------------------------------------------ */

/* Decodes every committed record of topic; counts them in *n, and the
 * records of the wanted type whose pick() is true in *hits. Each record's
 * id (order id, or notification id) must be new: *dups counts the others. */
struct tally {
    long n, hits, dups, undecodable;
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct tally tally(const char *topic, rill_serde_t *s, rill_event_type_t type,
                          int (*pick)(const rill_event_t *), void (*each)(const rill_event_t *,
                                                                         void *),
                          void *arg)
{
    struct tally t = { 0 };
    struct it_rec *recs = NULL;
    long n = it_read_topic(topic, 1, 60000, &recs);
    if (n < 0) {
        t.n = -1;
        return t;
    }
    char **ids = calloc((size_t)n + 1, sizeof *ids);
    for (long i = 0; i < n; i++) {
        rill_event_t ev = { 0 };
        char err[256];
        if (rill_serde_decode(s, recs[i].key, recs[i].key_len, recs[i].value, recs[i].value_len,
                              &ev, err, sizeof err) != RILL_OK || ev.type != type) {
            t.undecodable++;
            continue;
        }
        const char *id = type == RILL_EVENT_NOTIFICATION ? ev.u.notification.notification_id
                                                          : it_event_order_id(&ev);
        ids[t.n++] = strdup(id);
        t.hits += pick ? pick(&ev) : 1;
        if (each)
            each(&ev, arg);
        rill_event_clear(&ev);
    }
    qsort(ids, (size_t)t.n, sizeof *ids, cmp_str);
    for (long i = 1; i < t.n; i++)
        t.dups += !strcmp(ids[i - 1], ids[i]);
    for (long i = 0; i < t.n; i++)
        free(ids[i]);
    free(ids);
    it_recs_free(recs, n);
    return t;
}

static int is_approved(const rill_event_t *ev)
{
    return ev->u.payment.approved;
}

static int is_reserved(const rill_event_t *ev)
{
    return ev->u.inventory.reserved;
}

static int is_cancel(const rill_event_t *ev)
{
    return ev->u.status.new_status == RILL_STATUS_CANCELLED;
}

/* Units shipped per location/product, from the order_shipped topic. */
static void count_shipped(const rill_event_t *ev, void *arg)
{
    for (size_t k = 0; k < ev->u.shipped.item_cnt; k++)
        add_units(arg, ev->u.shipped.location_id, ev->u.shipped.items[k].product_id,
                  ev->u.shipped.items[k].quantity);
}

/* `rill state dump` of the stock store against INITIAL_STOCK minus the
 * reference's shipped units: returns the number of mismatches. */
static long check_stock(const struct run *r, const struct expect *e)
{
    char cmd[512], line[256];
    snprintf(cmd, sizeof cmd, "%s state dump -c %s stock --as i64",
             getenv("RILL_BIN") ? getenv("RILL_BIN") : "./rill", r->yaml);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    long bad = 0, keys = 0, covered = 0;
    while (fgets(line, sizeof line, p)) {
        char *tab = strchr(line, '\t');
        if (!tab) {
            bad++;
            continue;
        }
        *tab = '\0';
        long units = 0;
        for (size_t i = 0; i < e->nq; i++)
            if (!strcmp(e->q[i].key, line)) {
                units = e->q[i].units;
                covered++;
            }
        const char *product = strchr(line, '/') ? strchr(line, '/') + 1 : "";
        long initial = sold_out(product) ? 0 : INITIAL_STOCK;
        if (atol(tab + 1) != initial - units) {
            if (bad < 5)
                fprintf(stderr, "\n    stock %s: %ld, expected %ld", line, atol(tab + 1),
                        initial - units);
            bad++;
        }
        keys++;
    }
    if (pclose(p) != 0)
        bad++;
    /* every location/product that shipped something has its counter */
    bad += (long)e->nq - covered;
    fprintf(stderr, "\n    stock: %ld counters checked, %zu with shipped units", keys, e->nq);
    return bad;
}

static long dlq_pills(const struct run *r, long *processors_ok)
{
    char dlq[160];
    struct it_rec *recs = NULL;
    snprintf(dlq, sizeof dlq, "%s.dlq", r->topic[T_PLACED]);
    long n = it_read_topic(dlq, 1, 60000, &recs);
    long pay = 0, inv = 0;
    for (long i = 0; i < n; i++) {
        pay += strstr(recs[i].headers, "rill.error.processor=payment\n") != NULL;
        inv += strstr(recs[i].headers, "rill.error.processor=inventory\n") != NULL;
    }
    *processors_ok = pay == inv && pay + inv == n;
    it_recs_free(recs, n);
    return n;
}

/* Four records that are not orders: garbage after a valid frame header, an
 * unknown schema id, a truncated order and an order whose first string
 * claims 2^30 bytes. Produced as the order_generator user. */
static int produce_pills(const struct run *r, rill_serde_t *s)
{
    rill_order_item_t item = { "P0002", "toys", 1, 10000 };
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){ "pill", "C1", "L0001", &item, 1, 10000, "EUR",
                                        RILL_STATUS_OPEN, 1790812800000, "c" };
    rill_buf_t b = { 0 };
    char err[256];
    if (rill_serde_encode(s, &ev, &b, err, sizeof err) != RILL_OK)
        return -1;
    unsigned char garbage[] = { 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f };
    unsigned char unknown[64];
    memcpy(unknown, b.p, b.len < sizeof unknown ? b.len : sizeof unknown);
    unknown[4] = 99;
    unsigned char huge[16] = { 0, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x08, 'x' }; /* 2^30 */
    unknown[1] = unknown[2] = unknown[3] = 0;
    struct { const void *p; size_t len; } pills[] = {
        { garbage, sizeof garbage }, { unknown, b.len < 64 ? b.len : 64 },
        { b.p, b.len / 2 }, { huge, 11 },
    };
    char errs[512];
    rd_kafka_conf_t *c = it_kconf("order_generator", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "partitioner", "murmur2_random");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errs, sizeof errs);
    int bad = !rk;
    for (size_t i = 0; rk && i < 4; i++)
        bad |= rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(r->topic[T_PLACED]),
                                 RD_KAFKA_V_KEY("L0001", 5),
                                 RD_KAFKA_V_VALUE((void *)pills[i].p, pills[i].len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) != 0;
    if (rk) {
        bad |= rd_kafka_flush(rk, 30000) != 0;
        rd_kafka_destroy(rk);
    }
    rill_buf_free(&b);
    return bad ? -1 : 0;
}

/* What this suite started, stopped by the suite's cleanup when a fatal
 * assertion left the test early (a pipeline must not outlive its test). */
static pid_t live_run, live_gen;

static int cleanup(void)
{
    pid_t *pids[] = { &live_run, &live_gen };
    it_rill_kill_all(pids, 2);
    return 0;
}

static long committed(const struct run *r, int t)
{
    return it_count_committed(r->topic[t], 30000);
}

static void test_pipeline_end_to_end(void)
{
    struct run r;
    char err[4096], conf[300], n_avro[24], n_json[24];
    rill_serde_t *s = NULL;
    long orders = it_getenv_long("PIPELINE_ORDERS", 20000), json = orders / 40;
    int kills = (int)it_getenv_long("PIPELINE_KILLS", 4);
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(run_init(&r), 0);
    int rc = it_rill_exec3(err, sizeof err, 120000, "apply", r.yaml, "-F",
                           it_secret_path("admin.client.conf"), NULL);
    if (rc != 0)
        fprintf(stderr, "\n    rill apply: %s", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);

    /* orders arrive over several seconds while the pipeline is killed */
    snprintf(conf, sizeof conf, "%s", it_secret_path("order_generator.client.conf"));
    snprintf(n_avro, sizeof n_avro, "%ld", orders);
    snprintf(n_json, sizeof n_json, "%ld", json);
    pid_t gen = live_gen =
        it_rill_spawn(r.log, "generate", "-F", conf, "-t", r.topic[T_PLACED], "--orders",
                      n_avro, "--rate", "2000", "--seed", "11", (char *)NULL);
    pid_t pid = live_run = it_rill_start(r.yaml, r.log);
    /* Every order ends shipped or cancelled and each of those is notified,
     * so the notifications' end offsets reach at least `orders`. Kill k comes
     * once they pass k/(kills+1) of that: every kill lands while the pipeline
     * works through the orders. (Waiting for more committed notifications
     * than at the last kill could wait for ever once a life had finished
     * everything, and a read_committed count only ends when no transaction
     * is open, which under load is late.) */
    for (int k = 0; k < kills; k++) {
        long now = 0, want = (long)(k + 1) * orders / (kills + 1);
        int64_t deadline = it_now_ms() + 60000;
        while ((now = it_end_offsets(r.topic[T_NOTIFY])) < want && it_now_ms() < deadline)
            ;
        CU_ASSERT_FATAL(now >= want);
        CU_ASSERT(it_rill_stop(pid, SIGKILL, 10000) != -1);
        pid = live_run = it_rill_start(r.yaml, r.log);
    }
    int st = it_rill_stop(gen, 0, 120000);
    live_gen = 0;
    CU_ASSERT_FATAL(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* JSON orders from another seed (distinct ids), then the poison pills */
    gen = live_gen = it_rill_spawn(r.log, "generate", "-F", conf, "-t", r.topic[T_PLACED],
                                   "--orders", n_json, "--format", "json", "--seed", "12",
                                   (char *)NULL);
    st = it_rill_stop(gen, 0, 60000);
    live_gen = 0;
    CU_ASSERT_FATAL(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(produce_pills(&r, s), 0);

    struct expect e = { 0 };
    CU_ASSERT_EQUAL_FATAL(reference(&r, s, &e), 0);
    CU_ASSERT_EQUAL(e.orders, orders + json);
    CU_ASSERT_EQUAL(e.bad, 4);
    /* done when every order has its final event and its notifications */
    int64_t deadline = it_now_ms() + 180000;
    while ((committed(&r, T_SHIPPED) + committed(&r, T_STATUS) < e.orders ||
            committed(&r, T_NOTIFY) < e.notify) &&
           it_now_ms() < deadline)
        ;
    st = it_rill_stop(pid, SIGTERM, 30000);
    live_run = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    struct tally pay = tally(r.topic[T_PAYMENT], s, RILL_EVENT_PAYMENT_RESULT, is_approved, NULL,
                             NULL);
    struct tally inv = tally(r.topic[T_INVENTORY], s, RILL_EVENT_INVENTORY_RESULT, is_reserved,
                             NULL, NULL);
    struct expect shipped_units = { 0 };
    struct tally shp = tally(r.topic[T_SHIPPED], s, RILL_EVENT_ORDER_SHIPPED, NULL,
                             count_shipped, &shipped_units);
    struct tally sts = tally(r.topic[T_STATUS], s, RILL_EVENT_ORDER_STATUS, is_cancel, NULL,
                             NULL);
    struct tally rel = tally(r.topic[T_RELEASE], s, RILL_EVENT_STOCK_RELEASE, NULL, NULL, NULL);
    struct tally ntf = tally(r.topic[T_NOTIFY], s, RILL_EVENT_NOTIFICATION, NULL, NULL, NULL);
    long pills_ok = 0, pills = dlq_pills(&r, &pills_ok);
    fprintf(stderr,
            "\n    pipeline: %ld orders (%ld JSON), %d kills; paid %ld/%ld rejected %ld/%ld "
            "reserved %ld/%ld out-of-stock %ld/%ld shipped %ld/%ld cancelled %ld/%ld released "
            "%ld/%ld notifications %ld/%ld dlq %ld/8",
            e.orders, json, kills, pay.hits, e.paid, pay.n - pay.hits, e.rejected, inv.hits,
            e.reserved, inv.n - inv.hits, e.oos, shp.n, e.shipped, sts.hits, e.cancelled, rel.n,
            e.released, ntf.n, e.notify, pills);
    CU_ASSERT_EQUAL(pay.n, e.orders);
    CU_ASSERT_EQUAL(pay.hits, e.paid);
    CU_ASSERT_EQUAL(inv.n, e.orders);
    CU_ASSERT_EQUAL(inv.hits, e.reserved);
    CU_ASSERT_EQUAL(shp.n, e.shipped);
    CU_ASSERT_EQUAL(sts.n, e.cancelled);
    CU_ASSERT_EQUAL(sts.hits, e.cancelled);
    CU_ASSERT_EQUAL(rel.n, e.released);
    CU_ASSERT_EQUAL(ntf.n, e.notify);
    CU_ASSERT_EQUAL(pay.dups + inv.dups + shp.dups + sts.dups + rel.dups + ntf.dups, 0);
    CU_ASSERT_EQUAL(pay.undecodable + inv.undecodable + shp.undecodable + sts.undecodable +
                        rel.undecodable + ntf.undecodable,
                    0);
    /* each pill rejected once by each of the two processors reading orders */
    CU_ASSERT_EQUAL(pills, 8);
    CU_ASSERT(pills_ok);
    /* the shipped units seen on the topic are the reference's */
    CU_ASSERT_EQUAL(shipped_units.nq, e.nq);
    for (size_t i = 0; i < e.nq && i < shipped_units.nq; i++) {
        long want = e.q[i].units, seen_units = -1;
        for (size_t j = 0; j < shipped_units.nq; j++)
            if (!strcmp(shipped_units.q[j].key, e.q[i].key))
                seen_units = shipped_units.q[j].units;
        CU_ASSERT_EQUAL(seen_units, want);
    }
    CU_ASSERT_EQUAL(check_stock(&r, &e), 0);
    free(shipped_units.q);
    free(e.q);
    rill_serde_destroy(s);
}

static CU_TestInfo tests[] = {
    { "20,000 orders exactly once through the pipeline across SIGKILLs",
      test_pipeline_end_to_end },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("pipeline", tests, NULL, cleanup)
