/*
 * test_inspect.c - `rill inspect` against the real stack and a running order
 * pipeline (topology/examples/ecommerce.yaml with this run's topic names, and
 * the postgres_oltp sink in a second `rill run`, tests/lib/sinkfx.h):
 *  - before the pipeline runs, `groups FILE --json` shows the payment and
 *    inventory groups behind by exactly the orders produced; once it runs,
 *    every processor group is Stable and its lag, in records, reaches 0 on
 *    every input partition (transactional inputs end with a commit marker,
 *    which the lag must not count), polled with a deadline; the sink's group
 *    reaches 0 from its positions in PostgreSQL, which equal rill_offsets;
 *  - `topics FILE --json` lists every topic of the topology with its role, 6
 *    partitions, leaders, replicas, ISR, configs, and end offsets equal to
 *    the broker's (order_placed: exactly what the test produced); `describe`
 *    agrees partition by partition;
 *  - `read --count K --json` returns K orders whose every field equals the
 *    record at the same partition and offset decoded by the serde, and the
 *    DLQ's records come with their headers, equal to what a consumer sees;
 *  - hostile values (bad magic byte, truncated Avro, unknown schema id,
 *    terminal escapes, binary keys and headers, a tombstone) are shown
 *    safely: exact bytes back from base64, no raw control byte in the table;
 *  - --from end-N, an offset with --to, a time; --follow tails until SIGTERM
 *    and exits 0, or stops by itself at --count;
 *  - an unknown topic, a user without ACLs and a refused group each give a
 *    clear error naming it and exit 1, quickly; the same over TLS works;
 *  - the summary (`rill inspect FILE --wait-pipeline`) the demo uses.
 */
#include "tests/lib/jsonq.h"
#include "tests/lib/proc.h"
#include "tests/lib/sinkfx.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"
#include "schemas/serde.h"

#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define ORDERS 600
#define PILLS 2
#define OUT_SIZE (4 << 20)

static pid_t live[3];
static char *out; /* OUT_SIZE, for every command's output */

static int setup(void)
{
    out = malloc(OUT_SIZE);
    return out ? 0 : -1;
}

static int cleanup(void)
{
    for (size_t i = 0; i < 3; i++)
        if (live[i] > 0) {
            it_rill_stop(live[i], SIGKILL, 10000);
            live[i] = 0;
        }
    free(out);
    out = NULL;
    return 0;
}

static const char *admin(void)
{
    static char path[300];
    snprintf(path, sizeof path, "%s", it_secret_path("admin.client.conf"));
    return path;
}

/* ---- producing what the test knows ------------------------------------------- */

struct rec {
    const void *key;
    size_t klen;
    const void *value;        /* NULL: a tombstone */
    size_t vlen;
    const char *hname;        /* one header, or NULL */
    const void *hvalue;
    size_t hlen;
    int64_t ts;               /* 0: the producer's clock */
};

/* Produces recs in order to partition 0 of topic as the admin (idempotent,
 * so the offsets are the order). */
static int produce(const char *topic, int32_t partition, const struct rec *recs, size_t n)
{
    char err[512];
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    it_kconf_set(c, "enable.idempotence", "true");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        return -1;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        if (recs[i].hname)
            rd_kafka_header_add(h, recs[i].hname, -1, recs[i].hvalue, (ssize_t)recs[i].hlen);
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY((void *)recs[i].key, recs[i].klen),
            RD_KAFKA_V_VALUE((void *)recs[i].value, recs[i].value ? recs[i].vlen : 0),
            RD_KAFKA_V_TIMESTAMP(recs[i].ts), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) {
            rd_kafka_headers_destroy(h);
            bad = 1;
        }
    }
    bad |= rd_kafka_flush(rk, 30000) != 0;
    rd_kafka_destroy(rk);
    return bad ? -1 : 0;
}

/* ---- reading what rill inspect printed --------------------------------------------- */

/* Splits out into its lines, each a JSON value: their roots in v (at most
 * max). Returns the count, or -1 when a line is not JSON. */
static long json_lines(char *text, rill_json_val_t *v, long max)
{
    long n = 0;
    for (char *p = text; *p && n < max;) {
        char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len && it_json_parse(p, len, &v[n++]) != 0) {
            fprintf(stderr, "\n    not json: %.200s", p);
            return -1;
        }
        p += len + (nl ? 1 : 0);
    }
    return n;
}

static long unbase64(const char *b64, size_t n, unsigned char *o)
{
    if (!b64 || n % 4)
        return -1;
    int len = EVP_DecodeBlock(o, (const unsigned char *)b64, (int)n);
    for (size_t i = n; len >= 0 && i > 0 && b64[i - 1] == '='; i--)
        len--;
    return len;
}

/* The group object of id in a `groups --json` document, or 0. */
static int group_of(const rill_json_val_t *root, const char *id, rill_json_val_t *g)
{
    char path[64];
    for (long i = 0; i < it_json_count(root, "groups"); i++) {
        snprintf(path, sizeof path, "groups.%ld.group", i);
        const char *gid = it_json_text(root, path);
        if (gid && !strcmp(gid, id)) {
            snprintf(path, sizeof path, "groups.%ld", i);
            return it_json_at(root, path, g);
        }
    }
    return 0;
}

/* `groups FILE --json`: 1 when every group named in ids is there, described,
 * with a member and a lag of 0 on all of its partitions (and, with
 * want_pg, every position read from PostgreSQL); *total gets the sum of the
 * lags (-1 when one is unknown). */
static int groups_caught_up(const char *yaml, const char *const *ids, size_t n, int want_pg,
                            long *total)
{
    *total = -1;
    if (it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "groups", yaml, "-F", admin(), "--json",
                      NULL) != 0)
        return 0;
    rill_json_val_t root, g;
    if (it_json_parse(out, strlen(out), &root))
        return 0;
    int ok = 1;
    *total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!group_of(&root, ids[i], &g))
            return 0;
        long lag = (long)it_json_num(&g, "lag", -1);
        *total = lag < 0 || *total < 0 ? -1 : *total + lag;
        const char *state = it_json_text(&g, "state");
        ok &= lag == 0 && state && !strcmp(state, "Stable") && it_json_count(&g, "members") >= 1;
        for (long k = 0; want_pg && k < it_json_count(&g, "partitions"); k++) {
            char path[64];
            snprintf(path, sizeof path, "partitions.%ld.position_source", k);
            const char *src = it_json_text(&g, path);
            ok &= src && !strcmp(src, "postgres");
        }
    }
    return ok;
}

/* ---- the checks ----------------------------------------------------------------------- */

static void check_groups_before(struct sinkfx *f, long produced)
{
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "groups", f->pipe_yaml,
                                        "-F", admin(), "--json", NULL),
                          0);
    rill_json_val_t root, g;
    CU_ASSERT_EQUAL_FATAL(it_json_parse(out, strlen(out), &root), 0);
    CU_ASSERT_EQUAL(it_json_count(&root, "groups"), 4);
    static const char *const readers[] = { "payment", "inventory" };
    for (int i = 0; i < 2; i++) {
        char id[160];
        snprintf(id, sizeof id, "%s.%s", f->app, readers[i]);
        CU_ASSERT_FATAL(group_of(&root, id, &g));
        CU_ASSERT_STRING_EQUAL(it_json_text(&g, "role"), "processor");
        /* nothing committed yet: behind by every record produced */
        long placed = 0;
        for (long k = 0; k < it_json_count(&g, "partitions"); k++) {
            char p[64], t[64];
            snprintf(t, sizeof t, "partitions.%ld.topic", k);
            snprintf(p, sizeof p, "partitions.%ld.lag", k);
            if (!strcmp(it_json_text(&g, t), f->topic[SK_PLACED]))
                placed += (long)it_json_num(&g, p, -1000000);
            snprintf(p, sizeof p, "partitions.%ld.position_source", k);
            CU_ASSERT_STRING_EQUAL(it_json_text(&g, p), "none");
        }
        CU_ASSERT_EQUAL(placed, produced);
    }
}

static void check_topics(struct sinkfx *f, long produced)
{
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "topics", f->pipe_yaml,
                                        "-F", admin(), "--json", NULL),
                          0);
    rill_json_val_t root, t;
    CU_ASSERT_EQUAL_FATAL(it_json_parse(out, strlen(out), &root), 0);
    long n = it_json_count(&root, "topics"), seen = 0, changelogs = 0, dlqs = 0;
    CU_ASSERT(n >= 7 + 2 + 1);
    for (long i = 0; i < n; i++) {
        char path[48];
        snprintf(path, sizeof path, "topics.%ld", i);
        CU_ASSERT_FATAL(it_json_at(&root, path, &t));
        char name[160], role[16];
        CU_ASSERT_PTR_NOT_NULL_FATAL(it_json_text(&t, "topic"));
        CU_ASSERT_PTR_NOT_NULL_FATAL(it_json_text(&t, "role"));
        /* copies: the lookups below reuse the strings' slots */
        snprintf(name, sizeof name, "%s", it_json_text(&t, "topic"));
        snprintf(role, sizeof role, "%s", it_json_text(&t, "role"));
        CU_ASSERT_TRUE(it_json_at(&t, "exists", &t) && t.type == RILL_JSON_TRUE);
        CU_ASSERT_FATAL(it_json_at(&root, path, &t));
        CU_ASSERT_EQUAL(it_json_num(&t, "partition_count", -1), 6);
        CU_ASSERT_EQUAL(it_json_count(&t, "partitions"), 6);
        CU_ASSERT_EQUAL(it_json_num(&t, "replication_factor", -1), 1);
        CU_ASSERT_EQUAL(it_json_num(&t, "end_offsets", -1), it_end_offsets(name));
        long sum = 0;
        for (int p = 0; p < 6; p++) {
            char k[64];
            snprintf(k, sizeof k, "partitions.%d.high", p);
            sum += (long)it_json_num(&t, k, -1000000);
            snprintf(k, sizeof k, "partitions.%d.leader", p);
            CU_ASSERT(it_json_num(&t, k, -1) >= 0);
            snprintf(k, sizeof k, "partitions.%d.isr", p);
            CU_ASSERT_EQUAL(it_json_count(&t, k), 1);
            snprintf(k, sizeof k, "partitions.%d.replicas", p);
            CU_ASSERT_EQUAL(it_json_count(&t, k), 1);
        }
        CU_ASSERT_EQUAL(sum, it_json_num(&t, "end_offsets", -2));
        /* the configs `rill apply` set are there, with where they come from */
        const char *want = !strcmp(role, "changelog") ? "cleanup.policy" : "retention.ms";
        const char *value = !strcmp(role, "changelog") ? "compact"
                            : !strcmp(role, "dlq")     ? "2592000000"
                                                       : "604800000";
        int found = 0;
        for (long c = 0; c < it_json_count(&t, "configs"); c++) {
            char k[64];
            snprintf(k, sizeof k, "configs.%ld.name", c);
            if (strcmp(it_json_text(&t, k), want))
                continue;
            snprintf(k, sizeof k, "configs.%ld.value", c);
            found = !strcmp(it_json_text(&t, k), value);
            snprintf(k, sizeof k, "configs.%ld.source", c);
            CU_ASSERT_STRING_EQUAL(it_json_text(&t, k), "DYNAMIC_TOPIC_CONFIG");
        }
        CU_ASSERT(found);
        if (!found)
            fprintf(stderr, "\n    %s: no %s=%s", name, want, value);
        changelogs += !strcmp(role, "changelog");
        dlqs += !strcmp(role, "dlq");
        for (int k = 0; k < SK_NTOPICS; k++)
            if (!strcmp(name, f->topic[k])) {
                seen++;
                CU_ASSERT_STRING_EQUAL(role, "topic");
                if (k == SK_PLACED)
                    CU_ASSERT_EQUAL(it_json_num(&t, "end_offsets", -1), produced);
            }
    }
    CU_ASSERT_EQUAL(seen, SK_NTOPICS);
    CU_ASSERT_EQUAL(changelogs, 2); /* stock, joins */
    CU_ASSERT(dlqs >= 1);

    /* the cluster's list (-c: settings only) holds them too */
    CU_ASSERT_EQUAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "topics", "-c", f->pipe_yaml,
                                  "-F", admin(), NULL),
                    0);
    for (int k = 0; k < SK_NTOPICS; k++)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, f->topic[k]));

    /* describe: watermarks partition by partition */
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "describe",
                                        f->topic[SK_PLACED], "-c", f->pipe_yaml, "-F", admin(),
                                        "--json", NULL),
                          0);
    CU_ASSERT_EQUAL_FATAL(it_json_parse(out, strlen(out), &t), 0);
    long high = 0;
    for (int p = 0; p < 6; p++) {
        char k[64];
        snprintf(k, sizeof k, "partitions.%d.high", p);
        high += (long)it_json_num(&t, k, -1000000);
        snprintf(k, sizeof k, "partitions.%d.low", p);
        CU_ASSERT_EQUAL(it_json_num(&t, k, -1), 0);
    }
    CU_ASSERT_EQUAL(high, produced);
    /* the same over TLS (the stack's CA), settings given as -b and -X */
    char ca[300];
    snprintf(ca, sizeof ca, "ssl.ca.location=%s", it_env("KAFKA_CA"));
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "describe",
                                        f->topic[SK_PLACED], "-F", admin(), "-b",
                                        it_env("KAFKA_BOOTSTRAP_SSL"), "-X",
                                        "security.protocol=SASL_SSL", "-X", ca, "--json", NULL),
                          0);
    CU_ASSERT_EQUAL_FATAL(it_json_parse(out, strlen(out), &t), 0);
    CU_ASSERT_EQUAL(it_json_num(&t, "end_offsets", -1), produced);
    CU_ASSERT_EQUAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "describe", f->topic[SK_PLACED],
                                  "-c", f->pipe_yaml, "-F", admin(), NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "retention.ms"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "PARTITION  LEADER  REPLICAS  ISR"));
}

/* The records of `read ... --json` against what a consumer reads at the
 * same coordinates, decoded by the serde. */
static void check_read_orders(struct sinkfx *f, rill_serde_t *s)
{
    enum { K = 25 };
    static rill_json_val_t lines[K + 5];
    struct it_rec *recs = NULL;
    long n = it_read_topic(f->topic[SK_PLACED], 1, 60000, &recs);
    CU_ASSERT_FATAL(n > K);
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read",
                                        f->topic[SK_PLACED], "-c", f->pipe_yaml, "-F", admin(),
                                        "--count", "25", "--json", NULL),
                          0);
    CU_ASSERT_EQUAL_FATAL(json_lines(out, lines, K + 5), K);
    long matched = 0;
    for (long i = 0; i < K; i++) {
        const rill_json_val_t *l = &lines[i];
        long p = (long)it_json_num(l, "partition", -1), o = (long)it_json_num(l, "offset", -1);
        const struct it_rec *r = NULL;
        for (long k = 0; k < n && !r; k++)
            if (recs[k].partition == p && recs[k].offset == o)
                r = &recs[k];
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        rill_event_t ev = { 0 };
        char err[256];
        if (rill_serde_decode(s, r->key, r->key_len, r->value, r->value_len, &ev, err,
                              sizeof err) != RILL_OK)
            continue; /* a pill: not an order */
        const rill_order_placed_t *x = &ev.u.order;
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "value_format"), "avro");
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "schema"), "order_placed");
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "key"), x->location_id);
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "value.order_id"), x->order_id);
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "value.customer_id"), x->customer_id);
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "value.location_id"), x->location_id);
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "value.currency"), x->currency);
        CU_ASSERT_STRING_EQUAL(it_json_text(l, "value.correlation_id"), x->correlation_id);
        CU_ASSERT_EQUAL(it_json_num(l, "value.total_e4", -1), x->total_e4);
        CU_ASSERT_EQUAL(it_json_num(l, "value.status", -1), x->status);
        CU_ASSERT_EQUAL(it_json_num(l, "value.event_time", -1), x->event_time);
        CU_ASSERT_EQUAL_FATAL(it_json_count(l, "value.items"), (long)x->item_cnt);
        for (size_t k = 0; k < x->item_cnt; k++) {
            char path[64];
            snprintf(path, sizeof path, "value.items.%zu.product_id", k);
            CU_ASSERT_STRING_EQUAL(it_json_text(l, path), x->items[k].product_id);
            snprintf(path, sizeof path, "value.items.%zu.quantity", k);
            CU_ASSERT_EQUAL(it_json_num(l, path, -1), x->items[k].quantity);
            snprintf(path, sizeof path, "value.items.%zu.unit_price_e4", k);
            CU_ASSERT_EQUAL(it_json_num(l, path, -1), x->items[k].unit_price_e4);
        }
        matched++;
        rill_event_clear(&ev);
    }
    CU_ASSERT(matched >= K - PILLS);
    fprintf(stderr, "\n    read: %ld of %d records compared field by field", matched, K);

    /* the last 3 of partition 0: exactly those offsets */
    long hi0 = 0;
    for (long k = 0; k < n; k++)
        if (recs[k].partition == 0 && recs[k].offset + 1 > hi0)
            hi0 = recs[k].offset + 1;
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read",
                                        f->topic[SK_PLACED], "-c", f->pipe_yaml, "-F", admin(),
                                        "-p", "0", "--from", "end-3", "--json", NULL),
                          0);
    long got = json_lines(out, lines, K);
    CU_ASSERT_EQUAL(got, hi0 >= 3 ? 3 : hi0);
    for (long i = 0; i < got; i++) {
        CU_ASSERT_EQUAL(it_json_num(&lines[i], "partition", -1), 0);
        CU_ASSERT_EQUAL(it_json_num(&lines[i], "offset", -1), hi0 - got + i);
    }
    it_recs_free(recs, n);
}

/* The DLQ's records carry the error headers: the same, in order, as a
 * consumer sees them. */
static void check_read_dlq(struct sinkfx *f)
{
    static rill_json_val_t lines[64];
    char dlq[200];
    snprintf(dlq, sizeof dlq, "%s.dlq", f->topic[SK_PLACED]);
    struct it_rec *recs = NULL;
    long n = it_read_topic(dlq, 1, 60000, &recs);
    CU_ASSERT_EQUAL_FATAL(n, 2 * PILLS); /* each pill, once per processor reading orders */
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read", dlq, "-c",
                                        f->pipe_yaml, "-F", admin(), "--json", NULL),
                          0);
    CU_ASSERT_EQUAL_FATAL(json_lines(out, lines, 64), n);
    for (long i = 0; i < n; i++) {
        const rill_json_val_t *l = &lines[i];
        const struct it_rec *r = NULL;
        for (long k = 0; k < n && !r; k++)
            if (recs[k].partition == it_json_num(l, "partition", -1) &&
                recs[k].offset == it_json_num(l, "offset", -1))
                r = &recs[k];
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        char text[4096] = "";
        size_t len = 0;
        long nh = it_json_count(l, "headers");
        CU_ASSERT(nh >= 5);
        for (long h = 0; h < nh; h++) {
            char pn[48], pv[48];
            snprintf(pn, sizeof pn, "headers.%ld.name", h);
            snprintf(pv, sizeof pv, "headers.%ld.value", h);
            len += (size_t)snprintf(text + len, sizeof text - len, "%s=%s\n",
                                    it_json_text(l, pn), it_json_text(l, pv));
        }
        CU_ASSERT_STRING_EQUAL(text, r->headers);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "rill.error.processor="));
    }
    it_recs_free(recs, n);
}

static void check_hostile(struct sinkfx *f, rill_serde_t *s)
{
    static rill_json_val_t lines[16];
    static unsigned char back[4096];
    char topic[128], err[256];
    snprintf(topic, sizeof topic, "%s", it_topic("inspect-hostile"));
    CU_ASSERT_EQUAL_FATAL(it_create_topic(topic, 1), 0);
    rill_order_item_t item = { "P1", "toys", 1, 100 };
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){ "O-h", "C-h", "L1", &item, 1, 100, "EUR",
                                        RILL_STATUS_OPEN, 1790812800000, "c" };
    rill_buf_t b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    unsigned char unknown[256];
    memcpy(unknown, b.p, b.len);
    unknown[4] = 99;
    static const unsigned char magic7[] = { 0x07, 0xff, 0x00, 0x1b, '[', '2', 'J' };
    static const char esc[] = "\x1b[31mred\x1b]0;title\x07 and \xc2\x9b";
    static const char pretty[] = "{\n  \"a\": [1, 2],\n  \"b\": \"x\\ny\"\n}\n";
    static const unsigned char binkey[] = { 0x00, 0xff };
    static const unsigned char binhdr[] = { 0x1b, 0x00, 0xfe };
    int64_t t0 = 1790812800000;
    const struct rec recs[] = {
        { "k0", 2, magic7, sizeof magic7, NULL, NULL, 0, t0 },
        { "k1", 2, b.p, b.len / 2, NULL, NULL, 0, t0 + 1000 },
        { "k2", 2, unknown, b.len, NULL, NULL, 0, t0 + 2000 },
        { "k3", 2, esc, strlen(esc), "h\x1b[2J", esc, strlen(esc), t0 + 3000 },
        { "k4", 2, pretty, strlen(pretty), NULL, NULL, 0, t0 + 4000 },
        { "k5", 2, NULL, 0, NULL, NULL, 0, t0 + 5000 },
        { binkey, 2, b.p, b.len, "bin", binhdr, sizeof binhdr, t0 + 6000 },
    };
    CU_ASSERT_EQUAL_FATAL(produce(topic, 0, recs, 7), 0);
    const char *y = f->pipe_yaml;
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read", topic, "-c", y,
                                        "-F", admin(), "--json", NULL),
                          0);
    CU_ASSERT_EQUAL_FATAL(json_lines(out, lines, 16), 7);
    for (int i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(it_json_num(&lines[i], "offset", -1), i);
    size_t len;
    /* 0: a bad magic byte and binary: its exact bytes, nothing claimed */
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[0], "value_format"), "base64");
    len = 0;
    const char *v = it_json_str(&lines[0], "value", &len);
    CU_ASSERT_EQUAL(unbase64(v, len, back), (long)sizeof magic7);
    CU_ASSERT_EQUAL(memcmp(back, magic7, sizeof magic7), 0);
    CU_ASSERT_FALSE(it_json_at(&lines[0], "value_error", &lines[15]));
    /* 1: truncated Avro, 2: an unknown id: the bytes and the reason */
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[1], "value_format"), "base64");
    CU_ASSERT_PTR_NOT_NULL(strstr(it_json_text(&lines[1], "value_error"), "truncated"));
    len = 0;
    v = it_json_str(&lines[1], "value", &len);
    CU_ASSERT_EQUAL(unbase64(v, len, back), (long)(b.len / 2));
    CU_ASSERT_EQUAL(memcmp(back, b.p, b.len / 2), 0);
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[2], "value_error"), "unknown schema id 99");
    CU_ASSERT_EQUAL(it_json_num(&lines[2], "schema_id", -1), 99);
    /* 3: terminal escapes, in the value and a header: text, exact */
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[3], "value_format"), "string");
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[3], "value"), esc);
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[3], "headers.0.name"), "h\x1b[2J");
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[3], "headers.0.value"), esc);
    /* 4: JSON as JSON, 5: a tombstone, 6: binary key and header, good value */
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[4], "value_format"), "json");
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[4], "value.b"), "x\ny");
    CU_ASSERT_EQUAL(it_json_num(&lines[4], "value.a.1", -1), 2);
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[5], "value_format"), "null");
    CU_ASSERT_TRUE(it_json_is_null(&lines[5], "value"));
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[6], "key_format"), "base64");
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[6], "key"), "AP8=");
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[6], "headers.0.value_format"), "base64");
    len = 0;
    v = it_json_str(&lines[6], "headers.0.value", &len);
    CU_ASSERT_EQUAL(unbase64(v, len, back), 3);
    CU_ASSERT_EQUAL(memcmp(back, binhdr, 3), 0);
    CU_ASSERT_STRING_EQUAL(it_json_text(&lines[6], "value.order_id"), "O-h");
    CU_ASSERT_EQUAL(it_json_num(&lines[6], "timestamp", -1), t0 + 6000);

    /* the table: never a raw control byte, whatever the records hold */
    CU_ASSERT_EQUAL_FATAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read", topic, "-c", y,
                                        "-F", admin(), NULL),
                          0);
    long raw = 0;
    for (const char *p = out; *p; p++)
        raw += ((unsigned char)*p < 0x20 && *p != '\n') || (unsigned char)*p == 0x7f ||
               ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] >= 0x80 &&
                (unsigned char)p[1] <= 0x9f);
    CU_ASSERT_EQUAL(raw, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\\u001b[31mred"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "(not decoded: unknown schema id 99)"));

    /* ranges: an offset with --to, a time, a count */
    CU_ASSERT_EQUAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read", topic, "-c", y, "-F",
                                  admin(), "--from", "2", "--to", "4", "--json", NULL),
                    0);
    CU_ASSERT_EQUAL(json_lines(out, lines, 16), 2);
    CU_ASSERT_EQUAL(it_json_num(&lines[0], "offset", -1), 2);
    CU_ASSERT_EQUAL(it_json_num(&lines[1], "offset", -1), 3);
    char at[32];
    snprintf(at, sizeof at, "@%lld", (long long)(t0 + 4500));
    CU_ASSERT_EQUAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read", topic, "-c", y, "-F",
                                  admin(), "--from", at, "-n", "1", "--json", NULL),
                    0);
    CU_ASSERT_EQUAL(json_lines(out, lines, 16), 1);
    CU_ASSERT_EQUAL(it_json_num(&lines[0], "offset", -1), 5);

    /* --follow: tails past the end until SIGTERM (exit 0); with -n it
     * stops by itself. It starts at offset 7, which does not exist yet, so
     * no record can slip in before it is reading. */
    char dir[64], log[128];
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "inspect-follow"));
    snprintf(log, sizeof log, "%s/follow.log", dir);
    live[2] = it_rill_spawn(log, "inspect", "read", topic, "-c", y, "-F", admin(), "--follow",
                            "--from", "7", "--json", (char *)NULL);
    const struct rec more[] = { { "k7", 2, "{\"late\":true}", 13, NULL, NULL, 0, 0 } };
    CU_ASSERT_EQUAL_FATAL(produce(topic, 0, more, 1), 0);
    CU_ASSERT_EQUAL(it_file_wait(log, "\"offset\":7", 1, 60000), 1);
    int st = it_rill_stop(live[2], SIGTERM, 30000);
    live[2] = 0;
    CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(it_file_count(log, "\"late\":true"), 1);
    CU_ASSERT_EQUAL(it_rill_exec3(out, OUT_SIZE, 60000, "inspect", "read", topic, "-c", y, "-F",
                                  admin(), "--follow", "--from", "6", "-n", "2", "--json", NULL),
                    0);
    CU_ASSERT_EQUAL(json_lines(out, lines, 16), 2);
    unlink(log);
    rmdir(dir);
    rill_buf_free(&b);
}

static void check_errors(struct sinkfx *f)
{
    char nosuch[160];
    snprintf(nosuch, sizeof nosuch, "%s.no-such-topic", f->app);
    const char *y = f->pipe_yaml;
    int64_t t0 = it_now_ms();
    CU_ASSERT_EQUAL(it_rill_exec_all(out, OUT_SIZE, 60000, "inspect", "read", nosuch, "-c", y,
                                     "-F", admin(), NULL),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown topic '"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, nosuch));
    CU_ASSERT_EQUAL(it_rill_exec_all(out, OUT_SIZE, 60000, "inspect", "describe", nosuch, "-c", y,
                                     "-F", admin(), "--json", NULL),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown topic '"));
    fprintf(stderr, "\n    unknown topic: two answers in %lld ms", (long long)(it_now_ms() - t0));
    CU_ASSERT(it_now_ms() - t0 < 20000);
    /* a user without any ACL on the topic, one that may write but not read,
     * and a group the user may not describe: the ACL error named */
    char conf[300];
    snprintf(conf, sizeof conf, "%s", it_secret_path("notification_handler.client.conf"));
    CU_ASSERT_EQUAL(it_rill_exec_all(out, OUT_SIZE, 60000, "inspect", "read", f->topic[SK_PLACED],
                                     "-c", y, "-F", conf, NULL),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "TOPIC_AUTHORIZATION_FAILED"));
    snprintf(conf, sizeof conf, "%s", it_secret_path("order_generator.client.conf"));
    CU_ASSERT_EQUAL(it_rill_exec_all(out, OUT_SIZE, 60000, "inspect", "read", f->topic[SK_PLACED],
                                     "-c", y, "-F", conf, "-n", "1", NULL),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "not allowed to read topic"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "TOPIC_AUTHORIZATION_FAILED"));
    char group[160];
    snprintf(group, sizeof group, "%s.payment", f->app);
    CU_ASSERT_EQUAL(it_rill_exec_all(out, OUT_SIZE, 60000, "inspect", "groups", "-c", y, "-F",
                                     conf, "--group", group, NULL),
                    1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "GROUP_AUTHORIZATION_FAILED"));
}

static void test_inspect_pipeline(void)
{
    struct sinkfx f;
    char err[512];
    rill_serde_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(sk_init(&f, "inspect", "oltp", 1, 50, ""), 0);
    /* the orders, then two poison pills (a bad magic byte, a truncated
     * order), all before the pipeline starts */
    char n[16];
    snprintf(n, sizeof n, "%d", ORDERS);
    int rc = it_rill_exec3(out, OUT_SIZE, 120000, "generate", "-F",
                           it_secret_path("order_generator.client.conf"), "-t",
                           f.topic[SK_PLACED], "--orders", n, "--seed", "3", NULL);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    rill_order_item_t item = { "P0002", "toys", 1, 10000 };
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){ "pill", "C1", "L0001", &item, 1, 10000, "EUR",
                                        RILL_STATUS_OPEN, 1790812800000, "c" };
    rill_buf_t b = { 0 };
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(s, &ev, &b, err, sizeof err), RILL_OK);
    const struct rec pills[PILLS] = {
        { "L0001", 5, "\x07not avro", 9, NULL, NULL, 0, 0 },
        { "L0001", 5, b.p, b.len / 2, NULL, NULL, 0, 0 },
    };
    CU_ASSERT_EQUAL_FATAL(produce(f.topic[SK_PLACED], 0, pills, PILLS), 0);
    rill_buf_free(&b);
    long produced = ORDERS + PILLS;
    CU_ASSERT_EQUAL_FATAL(it_end_offsets(f.topic[SK_PLACED]), produced);

    check_groups_before(&f, produced);

    live[0] = it_rill_start(f.pipe_yaml, f.pipe_log);
    live[1] = it_rill_start(f.sink_yaml[0], f.sink_log[0]);
    static const char *const procs[] = { "payment", "inventory", "shipping", "notification" };
    char ids[4][160];
    const char *idp[4];
    for (int i = 0; i < 4; i++) {
        snprintf(ids[i], sizeof ids[i], "%s.%s", f.app, procs[i]);
        idp[i] = ids[i];
    }
    /* every processor group catches up: its lag in records reaches 0 */
    long lag = -1, first_seen = -1;
    int64_t t0 = it_now_ms(), deadline = t0 + 180000;
    int done = 0;
    while (!done && it_now_ms() < deadline) {
        done = groups_caught_up(f.pipe_yaml, idp, 4, 0, &lag);
        if (first_seen < 0 && lag > 0)
            first_seen = lag;
    }
    fprintf(stderr, "\n    processor groups: lag 0 after %lld ms (a look on the way saw %ld)",
            (long long)(it_now_ms() - t0), first_seen);
    CU_ASSERT_FATAL(done);
    /* per partition: every input partition listed, at its end, its member
     * named; the raw offset difference may still count commit markers */
    rill_json_val_t root, g;
    CU_ASSERT_EQUAL_FATAL(it_json_parse(out, strlen(out), &root), 0);
    static const long nparts[4] = { 6, 12, 12, 24 };
    long markers = 0;
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_FATAL(group_of(&root, ids[i], &g));
        CU_ASSERT_EQUAL(it_json_count(&g, "partitions"), nparts[i]);
        for (long k = 0; k < it_json_count(&g, "partitions"); k++) {
            char p[64];
            snprintf(p, sizeof p, "partitions.%ld.lag", k);
            CU_ASSERT_EQUAL(it_json_num(&g, p, -1), 0);
            snprintf(p, sizeof p, "partitions.%ld.offset_lag", k);
            markers += it_json_num(&g, p, 0) > 0;
            snprintf(p, sizeof p, "partitions.%ld.member", k);
            CU_ASSERT_PTR_NOT_NULL(it_json_text(&g, p));
        }
    }
    fprintf(stderr, "\n    %ld partitions sit behind their end by markers only", markers);

    /* the sink's group, from its positions in PostgreSQL */
    char sink[160];
    snprintf(sink, sizeof sink, "%s", sk_group(&f, "orders_db"));
    const char *sp[1] = { sink };
    done = 0;
    deadline = it_now_ms() + 180000;
    while (!done && it_now_ms() < deadline)
        done = groups_caught_up(f.sink_yaml[0], sp, 1, 1, &lag);
    CU_ASSERT_FATAL(done);
    CU_ASSERT_EQUAL_FATAL(it_json_parse(out, strlen(out), &root), 0);
    CU_ASSERT_FATAL(group_of(&root, sink, &g));
    CU_ASSERT_STRING_EQUAL(it_json_text(&g, "role"), "sink");
    CU_ASSERT_TRUE(it_json_is_null(&g, "postgres_error"));
    long pos = 0;
    for (long k = 0; k < it_json_count(&g, "partitions"); k++) {
        char p[64];
        snprintf(p, sizeof p, "partitions.%ld.position", k);
        pos += (long)it_json_num(&g, p, -1000000);
    }
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT sum(next_offset) FROM rill_offsets WHERE group_id = '%s'",
             sink);
    CU_ASSERT_EQUAL(pos, it_pg_qn(f.c, sql));

    check_topics(&f, produced);
    check_read_orders(&f, s);
    check_read_dlq(&f);
    check_hostile(&f, s);
    check_errors(&f);

    /* the summary the demo prints: every group at 0, the orders decided */
    CU_ASSERT_EQUAL(it_rill_exec3(out, OUT_SIZE, 120000, "inspect", f.pipe_yaml, "-F", admin(),
                                  "--wait-pipeline", "60", NULL),
                    0);
    for (int i = 0; i < 4; i++) {
        const char *at = strstr(out, ids[i]);
        CU_ASSERT_PTR_NOT_NULL(at);
        if (at)
            CU_ASSERT_EQUAL(strncmp(strstr(at, "lag "), "lag 0 records", 13), 0);
    }

    for (int i = 0; i < 2; i++) {
        int st = it_rill_stop(live[i], SIGTERM, 60000);
        live[i] = 0;
        CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    sk_done(&f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f.dir);
    if (system(cmd))
        fprintf(stderr, "\n    cannot remove %s", f.dir);
    rill_serde_destroy(s);
}

static CU_TestInfo tests[] = {
    { "topics, group lag to 0, decoded records with headers, hostile values, errors",
      test_inspect_pipeline },
    CU_TEST_INFO_NULL,
};

RILL_SUITE_FULL("inspect", tests, setup, cleanup)
