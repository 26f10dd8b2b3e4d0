/*
 * test_trace.c - correlation ids on the real stack: the order pipeline of
 * topology/examples/ecommerce.yaml (topics prefixed for the run, per-record
 * log lines on with `log.levels: { record: debug }`) processes orders from
 * `rill generate` and two malformed records, one with a traceparent of the
 * test's and one with none. Then, reading every pipeline topic
 * read_committed: every order carries a valid traceparent of its own, and
 * every record derived from it (payment and inventory results, shipments,
 * cancellations, stock releases, notifications) carries that order's trace
 * id; the DLQ records carry the malformed record's (the test's, or the one
 * derived from its coordinates, the same for both processors); and the log
 * has each order's trace id on a line of every processor that took one of
 * its records, and on the DLQ lines. Not the parser's or the rule's details:
 * the unit suite `trace` has those.
 */
#include "tests/lib/suite.h"
#include "tests/lib/proc.h"
#include "tests/lib/reference.h"
#include "tests/lib/util.h"
#include "schemas/serde.h"
#include "topology/base/trace.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define NTOPICS 7
enum { T_PLACED, T_PAYMENT, T_INVENTORY, T_SHIPPED, T_STATUS, T_RELEASE, T_NOTIFY };

#define ORDERS 400
/* the test's own traceparent on the first malformed record */
static const char pill_tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
static const char pill_id[] = "0af7651916cd43dd8448eb211c80319c";

struct run {
    char dir[64], app[64], yaml[128], log[128], dlq[160];
    char topic[NTOPICS][128];
};

static pid_t live_run, live_gen;

static int cleanup(void)
{
    pid_t *pids[] = { &live_run, &live_gen };
    it_rill_kill_all(pids, 2);
    return 0;
}

static int run_init(struct run *r)
{
    if (!it_tmpdir(r->dir, sizeof r->dir, "it-trace"))
        return -1;
    snprintf(r->app, sizeof r->app, "%s", it_topic("traced"));
    const char *topics[NTOPICS];
    for (int i = 0; i < NTOPICS; i++) {
        snprintf(r->topic[i], sizeof r->topic[i], "%s.%s", r->app, it_pipeline_topics[i]);
        topics[i] = r->topic[i];
    }
    snprintf(r->dlq, sizeof r->dlq, "%s.dlq", r->topic[T_PLACED]);
    snprintf(r->yaml, sizeof r->yaml, "%s/ecommerce.yaml", r->dir);
    snprintf(r->log, sizeof r->log, "%s/rill.log", r->dir);
    /* some out of stock; the per-record lines at debug */
    return it_pipeline_prepare(r->yaml, r->app, r->dir, "1000000", "P0001=0,P0006=0", topics,
                               "log.levels: { record: debug }\n");
}

/* Two records that are not orders, as the order_generator user: the first
 * with the test's traceparent, the second with none. */
static int produce_pills(const struct run *r)
{
    static const unsigned char garbage[] = { 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x7f };
    char err[512];
    rd_kafka_conf_t *c = it_kconf("order_generator", IT_SASL_PLAINTEXT, NULL, NULL);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        return -1;
    int bad = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(r->topic[T_PLACED]),
                                RD_KAFKA_V_KEY("L0001", 5),
                                RD_KAFKA_V_VALUE((void *)garbage, sizeof garbage),
                                RD_KAFKA_V_HEADER("traceparent", pill_tp, 55),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) != 0;
    bad |= rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(r->topic[T_PLACED]),
                             RD_KAFKA_V_KEY("L0002", 5),
                             RD_KAFKA_V_VALUE((void *)garbage, sizeof garbage - 1),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) != 0;
    bad |= rd_kafka_flush(rk, 30000) != 0;
    rd_kafka_destroy(rk);
    return bad ? -1 : 0;
}

/* The trace id (hex) of a record's traceparent into out: 1 when it has
 * exactly one and it is a valid version-00 value. */
static int trace_of(const struct it_rec *rec, char *out, uint8_t *flags)
{
    const char *h = rec->headers, *found = NULL;
    int n = 0;
    for (const char *p = h; (p = strstr(p, "traceparent=")); p++)
        if (p == h || p[-1] == '\n') {
            found = p + strlen("traceparent=");
            n++;
        }
    struct rill_trace t;
    if (n != 1 || strlen(found) < 56 || found[55] != '\n' || strncmp(found, "00-", 3) ||
        !rill_trace_parse(found, 55, &t))
        return 0;
    rill_trace_id_hex(t.trace_id, out);
    if (flags)
        *flags = t.flags;
    return 1;
}

struct order_trace {
    char order_id[48];
    char id[RILL_TRACE_ID_HEX + 1];
};

static int by_order(const void *a, const void *b)
{
    return strcmp(((const struct order_trace *)a)->order_id,
                  ((const struct order_trace *)b)->order_id);
}

static int by_id(const void *a, const void *b)
{
    return strcmp(((const struct order_trace *)a)->id, ((const struct order_trace *)b)->id);
}

/* Results counted: the orders rejected by payment, those out of stock. */
static long count_where(const char *topic, rill_serde_t *s, int payment)
{
    struct it_rec *recs = NULL;
    long n = it_read_topic(topic, 1, 60000, &recs), hits = 0;
    for (long i = 0; i < n; i++) {
        rill_event_t ev = { 0 };
        char err[256];
        if (rill_serde_decode(s, recs[i].key, recs[i].key_len, recs[i].value, recs[i].value_len,
                              &ev, err, sizeof err) == RILL_OK)
            hits += payment ? !ev.u.payment.approved : !ev.u.inventory.reserved;
        rill_event_clear(&ev);
    }
    if (n > 0)
        it_recs_free(recs, n);
    return n < 0 ? -1 : hits;
}

/* Waits until committed(topic) reaches want; the count reached. */
static long wait_committed(const char *topic, long want, int64_t deadline)
{
    long n = 0;
    while ((n = it_count_committed(topic, 30000)) < want && it_now_ms() < deadline)
        ;
    return n;
}

/* Every record of topic against its order's trace id: returns the number
 * that carry none or another; *n the records read. */
static long check_topic(const char *topic, rill_serde_t *s, const struct order_trace *ot,
                        size_t nord, long *n)
{
    struct it_rec *recs = NULL;
    long got = it_read_topic(topic, 1, 60000, &recs), bad = got < 0;
    for (long i = 0; i < got; i++) {
        rill_event_t ev = { 0 };
        char err[256];
        struct order_trace key = { .id = "" };
        const struct order_trace *o = NULL;
        if (rill_serde_decode(s, recs[i].key, recs[i].key_len, recs[i].value, recs[i].value_len,
                              &ev, err, sizeof err) == RILL_OK) {
            snprintf(key.order_id, sizeof key.order_id, "%s", it_event_order_id(&ev));
            o = bsearch(&key, ot, nord, sizeof *ot, by_order);
        }
        if (!o || !trace_of(&recs[i], key.id, NULL) || strcmp(key.id, o->id)) {
            if (bad < 3)
                fprintf(stderr, "\n    %s[%d@%lld]: order %s trace %s, want %s", topic,
                        (int)recs[i].partition, (long long)recs[i].offset, key.order_id,
                        key.id[0] ? key.id : "(none)", o ? o->id : "(no such order)");
            bad++;
        }
        rill_event_clear(&ev);
    }
    *n = got;
    if (got > 0)
        it_recs_free(recs, got);
    return bad;
}

/* The log's per-record lines as "trace_id processor" pairs, sorted. */
struct seen {
    char (*v)[96];
    size_t n, cap;
};

static int cmp_seen(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void log_pairs(const char *path, struct seen *s)
{
    char *text = it_read_file(path, NULL);
    for (char *l = text, *end; l && *l; l = end ? end + 1 : NULL) {
        end = strchr(l, '\n');
        if (end)
            *end = '\0';
        const char *p = strstr(l, " processor="), *t = strstr(l, " trace_id=");
        if (!strstr(l, "msg=\"record processed\"") || !p || !t)
            continue;
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 4096;
            s->v = realloc(s->v, s->cap * sizeof *s->v);
        }
        snprintf(s->v[s->n++], sizeof s->v[0], "%.32s %.*s", t + 10,
                 (int)strcspn(p + 11, " "), p + 11);
    }
    free(text);
    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_seen);
}

static int has_pair(const struct seen *s, const char *id, const char *processor)
{
    char key[96];
    snprintf(key, sizeof key, "%s %s", id, processor);
    return s->n && bsearch(key, s->v, s->n, sizeof *s->v, cmp_seen) != NULL;
}

/* Lines of the log that say the DLQ took a record from processor with id. */
static int dlq_lines(const char *log, const char *processor, const char *id)
{
    char *text = it_read_file(log, NULL);
    int n = 0;
    char want[96], who[64];
    snprintf(want, sizeof want, " trace_id=%s", id);
    snprintf(who, sizeof who, " processor=%s ", processor);
    for (char *l = text, *end; l && *l; l = end ? end + 1 : NULL) {
        end = strchr(l, '\n');
        if (end)
            *end = '\0';
        n += strstr(l, "msg=\"record rejected, to the DLQ\"") && strstr(l, who) &&
             strstr(l, want);
    }
    free(text);
    return n;
}

static void test_trace_through_the_pipeline(void)
{
    static const int derived[] = { T_PAYMENT, T_INVENTORY, T_SHIPPED, T_STATUS, T_RELEASE,
                                   T_NOTIFY };
    struct run r;
    char err[4096], n_orders[16];
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(run_init(&r), 0);
    int rc = it_rill_exec3(err, sizeof err, 120000, "apply", r.yaml, "-F",
                           it_secret_path("admin.client.conf"), NULL);
    if (rc != 0)
        fprintf(stderr, "\n    rill apply: %s", err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    live_run = it_rill_start(r.yaml, r.log);
    snprintf(n_orders, sizeof n_orders, "%d", ORDERS);
    live_gen = it_rill_spawn(r.log, "generate", "-F",
                             it_secret_path("order_generator.client.conf"), "-t",
                             r.topic[T_PLACED], "--orders", n_orders, "--rate", "1000", "--seed",
                             "21", (char *)NULL);
    int st = it_rill_stop(live_gen, 0, 60000);
    live_gen = 0;
    CU_ASSERT_FATAL(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(produce_pills(&r), 0);

    /* done when every order is decided, finished and notified: one
     * notification per rejection, per out-of-stock result and per final
     * event (a shipment or a cancellation) */
    int64_t deadline = it_now_ms() + 180000;
    CU_ASSERT_FATAL(wait_committed(r.topic[T_PAYMENT], ORDERS, deadline) == ORDERS);
    CU_ASSERT_FATAL(wait_committed(r.topic[T_INVENTORY], ORDERS, deadline) == ORDERS);
    long rejected = count_where(r.topic[T_PAYMENT], s, 1);
    long oos = count_where(r.topic[T_INVENTORY], s, 0);
    CU_ASSERT(rejected > 0 && oos > 0);
    long finished = 0;
    while ((finished = it_count_committed(r.topic[T_SHIPPED], 30000) +
                       it_count_committed(r.topic[T_STATUS], 30000)) < ORDERS &&
           it_now_ms() < deadline)
        ;
    CU_ASSERT_EQUAL(finished, ORDERS);
    CU_ASSERT(wait_committed(r.topic[T_NOTIFY], rejected + oos + ORDERS, deadline) ==
              rejected + oos + ORDERS);
    CU_ASSERT(wait_committed(r.dlq, 4, deadline) == 4); /* two pills, two readers each */
    st = it_rill_stop(live_run, SIGTERM, 30000);
    live_run = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);

    /* each order with a trace of its own, from the generator */
    struct it_rec *in = NULL;
    long nin = it_read_topic(r.topic[T_PLACED], 1, 60000, &in);
    CU_ASSERT_EQUAL_FATAL(nin, ORDERS + 2);
    static struct order_trace ot[ORDERS], byid[ORDERS];
    size_t nord = 0;
    long untraced = 0, unflagged = 0;
    char pill2_id[RILL_TRACE_ID_HEX + 1] = "";
    for (long i = 0; i < nin; i++) {
        rill_event_t ev = { 0 };
        char e2[256];
        uint8_t flags = 0;
        if (rill_serde_decode(s, in[i].key, in[i].key_len, in[i].value, in[i].value_len, &ev,
                              e2, sizeof e2) != RILL_OK) {
            if (!strstr(in[i].headers, "traceparent=")) { /* the second pill */
                uint8_t id[16];
                rill_trace_derive(r.topic[T_PLACED], in[i].partition, in[i].offset,
                                  in[i].timestamp, id);
                rill_trace_id_hex(id, pill2_id);
            }
            continue;
        }
        CU_ASSERT_FATAL(nord < ORDERS);
        snprintf(ot[nord].order_id, sizeof ot[nord].order_id, "%s", ev.u.order.order_id);
        if (!trace_of(&in[i], ot[nord].id, &flags))
            untraced++;
        unflagged += flags != RILL_TRACE_FLAG_RANDOM;
        nord++;
        rill_event_clear(&ev);
    }
    it_recs_free(in, nin);
    CU_ASSERT_EQUAL(nord, ORDERS);
    CU_ASSERT_EQUAL(untraced, 0);
    CU_ASSERT_EQUAL(unflagged, 0);
    CU_ASSERT_NOT_EQUAL(pill2_id[0], '\0');
    memcpy(byid, ot, sizeof ot);
    qsort(byid, nord, sizeof byid[0], by_id);
    long same = 0;
    for (size_t i = 1; i < nord; i++)
        same += !strcmp(byid[i - 1].id, byid[i].id);
    CU_ASSERT_EQUAL(same, 0);
    qsort(ot, nord, sizeof ot[0], by_order);

    /* every derived record carries its order's trace id */
    long n[NTOPICS] = { 0 }, wrong = 0;
    for (size_t k = 0; k < sizeof derived / sizeof derived[0]; k++) {
        wrong += check_topic(r.topic[derived[k]], s, ot, nord, &n[derived[k]]);
        CU_ASSERT(n[derived[k]] > 0);
    }
    fprintf(stderr, "\n    trace: %zu orders; checked %ld payment, %ld inventory, %ld shipped, "
            "%ld status, %ld releases, %ld notifications; %ld without their order's trace id",
            nord, n[T_PAYMENT], n[T_INVENTORY], n[T_SHIPPED], n[T_STATUS], n[T_RELEASE],
            n[T_NOTIFY], wrong);
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT_EQUAL(n[T_PAYMENT], ORDERS);
    CU_ASSERT_EQUAL(n[T_SHIPPED] + n[T_STATUS], ORDERS);

    /* the DLQ records: the test's trace id, and the derived one, twice each */
    struct it_rec *dlq = NULL;
    long ndlq = it_read_topic(r.dlq, 1, 60000, &dlq), mine = 0, other = 0;
    for (long i = 0; i < ndlq; i++) {
        char id[RILL_TRACE_ID_HEX + 1] = "";
        trace_of(&dlq[i], id, NULL);
        mine += !strcmp(id, pill_id);
        other += !strcmp(id, pill2_id);
    }
    if (ndlq > 0)
        it_recs_free(dlq, ndlq);
    CU_ASSERT_EQUAL(ndlq, 4);
    CU_ASSERT_EQUAL(mine, 2);
    CU_ASSERT_EQUAL(other, 2);

    /* the log: every order's trace id on a line of each processor that
     * took one of its records, and on the DLQ lines */
    struct seen sn = { 0 };
    log_pairs(r.log, &sn);
    static const char *const procs[] = { "payment", "inventory", "shipping", "notification" };
    long missing = 0;
    for (size_t i = 0; i < nord; i++)
        for (size_t p = 0; p < 4; p++)
            if (!has_pair(&sn, ot[i].id, procs[p]) && missing++ < 3)
                fprintf(stderr, "\n    no %s line for trace %s", procs[p], ot[i].id);
    fprintf(stderr, "\n    trace: %zu per-record log lines, %ld order/processor pairs missing ",
            sn.n, missing);
    CU_ASSERT(sn.n >= 4 * (size_t)ORDERS);
    CU_ASSERT_EQUAL(missing, 0);
    free(sn.v);
    CU_ASSERT(dlq_lines(r.log, "payment", pill_id) >= 1);
    CU_ASSERT(dlq_lines(r.log, "inventory", pill_id) >= 1);
    CU_ASSERT(dlq_lines(r.log, "payment", pill2_id) >= 1);
    CU_ASSERT(dlq_lines(r.log, "inventory", pill2_id) >= 1);
    rill_serde_destroy(s);
}

static CU_TestInfo tests[] = {
    { "an order's trace id on every record derived from it and on the lines about it",
      test_trace_through_the_pipeline },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("trace", tests, NULL, cleanup)
