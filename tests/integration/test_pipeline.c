/*
 * test_pipeline.c - the order pipeline end to end on the real stack, from the
 * shipped topology/examples/ecommerce.yaml (topic names prefixed for this run, the
 * stack's secrets folder, a short session timeout): `rill apply` creates the
 * topics and each processor user's ACLs, `rill generate` writes orders as the
 * order_generator user (Avro, plus some JSON ones and four poison pills), and
 * `rill run` processes them exactly once while it is SIGKILLed several times.
 *
 * The expected outcome is computed from the order_placed topic alone, by
 * the tests' reference (tests/lib/pipeline_ref.h, shared with the rollout's
 * checker): the documented payment hash, and stock that
 * never runs out except for the products configured sold out (so every
 * order's reservation is decided by its own lines, whatever the timing of
 * stock releases). Every count must match exactly, every order must appear
 * once per topic, the poison pills must be in the DLQ once per processor that
 * reads them, and the final stock of every (location, product) must be the
 * initial stock minus the shipped units.
 */
#include "tests/lib/suite.h"
#include "tests/lib/pipeline_ref.h"
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

/* ecommerce.yaml's parameters as this run sets them */
static void ref_conf(struct pref_conf *c)
{
    pref_conf_default(c);
    c->payment_seed = SEED;
    c->initial_stock = INITIAL_STOCK;
    pref_conf_overrides(c, SOLD_OUT);
}

static int reference(const struct run *r, rill_serde_t *s, struct pref_expect *e)
{
    struct it_rec *in = NULL;
    long n = it_read_topic(r->topic[T_PLACED], 1, 60000, &in);
    if (n < 0)
        return -1;
    struct pref_conf c;
    ref_conf(&c);
    int rc = pref_expect_from(&c, s, in, n, e);
    it_recs_free(in, n);
    return rc;
}

/* ---- what came out ------------------------------------------------------ */

/* Every committed record of topic, tallied (pipeline_ref.h); n is -1 when
 * the topic could not be read. */
static struct pref_tally tally(const char *topic, rill_serde_t *s, rill_event_type_t type,
                               int (*pick)(const rill_event_t *),
                               void (*each)(const rill_event_t *, void *), void *arg)
{
    struct it_rec *recs = NULL;
    long n = it_read_topic(topic, 1, 60000, &recs);
    if (n < 0)
        return (struct pref_tally){ .n = -1 };
    struct pref_tally t = pref_tally(recs, n, s, type, pick, each, arg);
    it_recs_free(recs, n);
    return t;
}

/* `rill state dump` of the stock store against INITIAL_STOCK minus the
 * reference's shipped units: returns the number of mismatches. */
static long check_stock(const struct run *r, const struct pref_expect *e)
{
    char cmd[512], line[256];
    snprintf(cmd, sizeof cmd, "%s state dump -c %s stock --as i64",
             getenv("RILL_BIN") ? getenv("RILL_BIN") : "./rill", r->yaml);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    struct pref_conf c;
    ref_conf(&c);
    long bad = 0, keys = 0, covered = 0;
    while (fgets(line, sizeof line, p)) {
        char *tab = strchr(line, '\t');
        if (!tab) {
            bad++;
            continue;
        }
        *tab = '\0';
        int found = 0;
        long units = pref_units_get(e->units, line, &found);
        covered += found;
        const char *product = strchr(line, '/') ? strchr(line, '/') + 1 : "";
        long initial = pref_initial_stock(&c, product);
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
    bad += (long)pref_units_count(e->units) - covered;
    fprintf(stderr, "\n    stock: %ld counters checked, %zu with shipped units", keys,
            pref_units_count(e->units));
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

    struct pref_expect e = { 0 };
    CU_ASSERT_EQUAL_FATAL(reference(&r, s, &e), 0);
    CU_ASSERT_EQUAL(e.orders, orders + json);
    CU_ASSERT_EQUAL(e.bad, 4);
    CU_ASSERT_EQUAL(e.undecided, 0);
    /* done when every order has its final event and its notifications */
    int64_t deadline = it_now_ms() + 180000;
    while ((committed(&r, T_SHIPPED) + committed(&r, T_STATUS) < e.orders ||
            committed(&r, T_NOTIFY) < e.notify) &&
           it_now_ms() < deadline)
        ;
    st = it_rill_stop(pid, SIGTERM, 30000);
    live_run = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    struct pref_tally pay = tally(r.topic[T_PAYMENT], s, RILL_EVENT_PAYMENT_RESULT,
                                  pref_is_approved, NULL, NULL);
    struct pref_tally inv = tally(r.topic[T_INVENTORY], s, RILL_EVENT_INVENTORY_RESULT,
                                  pref_is_reserved, NULL, NULL);
    struct pref_units *shipped_units = pref_units_new();
    struct pref_tally shp = tally(r.topic[T_SHIPPED], s, RILL_EVENT_ORDER_SHIPPED, NULL,
                                  pref_count_shipped, shipped_units);
    struct pref_tally sts = tally(r.topic[T_STATUS], s, RILL_EVENT_ORDER_STATUS, pref_is_cancel,
                                  NULL, NULL);
    struct pref_tally rel = tally(r.topic[T_RELEASE], s, RILL_EVENT_STOCK_RELEASE, NULL, NULL,
                                  NULL);
    struct pref_tally ntf = tally(r.topic[T_NOTIFY], s, RILL_EVENT_NOTIFICATION, NULL, NULL,
                                  NULL);
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
    CU_ASSERT_EQUAL(pref_units_count(shipped_units), pref_units_count(e.units));
    for (size_t i = 0; i < pref_units_count(e.units); i++) {
        long want = 0, seen_units = -1;
        const char *key = pref_units_at(e.units, i, &want);
        int found = 0;
        long got = pref_units_get(shipped_units, key, &found);
        if (found)
            seen_units = got;
        CU_ASSERT_EQUAL(seen_units, want);
    }
    CU_ASSERT_EQUAL(check_stock(&r, &e), 0);
    pref_units_free(shipped_units);
    pref_expect_free(&e);
    rill_serde_destroy(s);
}

static CU_TestInfo tests[] = {
    { "20,000 orders exactly once through the pipeline across SIGKILLs",
      test_pipeline_end_to_end },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("pipeline", tests, NULL, cleanup)
