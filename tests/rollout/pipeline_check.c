/*
 * pipeline_check.c - checks a finished run of the order pipeline
 * (topology/examples/ecommerce.yaml, and its PostgreSQL sinks of
 * ecommerce_sinks.yaml) against the tests' independent reference
 * (tests/lib/pipeline_ref.h, tests/lib/sinkref.h): the orders that `rill
 * generate -n N -s S` wrote (regenerated here from N and S) and every other
 * order on order_placed must each have exactly one final outcome, the one
 * the reference computes (approved and shipped, or cancelled with its
 * reason), with one payment result, one inventory result, the stock
 * release and the notifications the rules call for, and no record twice on
 * any topic; with --dsn the sink tables must hold each order once with its
 * status history, exactly the reference's rows. It reads every partition of
 * the seven topics read_committed with the client settings of -F files (as
 * kcat and `rill generate` read them) and -X settings, waits (the timeout
 * is the deadline) until the outputs are complete, prints a summary, and
 * exits 0 only when everything is exact: 1 when not, 2 on a usage or setup
 * error. The first problems are named on stderr; no setting's value is
 * printed. The integration tests of tests/integration/ share the reference.
 */
#include "processors/orders/generate.h"
#include "schemas/serde.h"
#include "tests/lib/pgq.h"
#include "tests/lib/pipeline_audit.h"
#include "tests/lib/pipeline_ref.h"
#include "tests/lib/reference.h"
#include "tests/lib/sinkref.h"
#include "topology/cli/kprops.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NT 7
enum { T_PLACED, T_PAYMENT, T_INVENTORY, T_SHIPPED, T_STATUS, T_RELEASE, T_NOTIFY };

struct opts {
    const char **files, **sets;
    size_t nfiles, nsets;
    long orders;
    uint64_t seed;
    const char *prefix, *dsn, *dsn_file, *sinks;
    struct pref_conf ref;
    long timeout_ms;
    int undecided_ok;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: pipeline_check -F CLIENT_CONF --orders N --seed S [options]\n"
            "  -F, --config FILE       librdkafka properties (repeatable; as kcat -F)\n"
            "  -X key=value            one librdkafka setting (repeatable)\n"
            "  -n, --orders N          orders `rill generate -n N` wrote\n"
            "  -s, --seed S            the seed it used (-s S)\n"
            "  --prefix P              topics P.order_placed ... (default: unprefixed)\n"
            "  --payment-seed N        payment's seed (default 7)\n"
            "  --approve-rate-e4 R     payment's approve_rate x 10000 (default 9000)\n"
            "  --initial-stock K       inventory's initial_stock (default 13)\n"
            "  --stock-overrides SPEC  inventory's stock_overrides, P1=0,P2=5 (default none)\n"
            "  --undecided-ok          accept orders whose reservation the reference cannot\n"
            "                          decide (stock that can run out): checked for\n"
            "                          consistency with their inventory_result only\n"
            "  --dsn DSN | --dsn-file FILE  check the sink tables too (libpq conninfo)\n"
            "  --sinks oltp|star|both  which sinks write there (default both)\n"
            "  --timeout-ms T          deadline for the outputs to complete (default 120000)\n"
            "exit: 0 exact, 1 not exact (or not complete by the deadline), 2 usage/setup\n");
    return rc;
}

static int num(const char *name, const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < min) {
        fprintf(stderr, "pipeline_check: %s must be a number >= %ld, not '%s'\n", name, min, s);
        return -1;
    }
    *out = (long)v;
    return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
    enum { O_PREFIX = 256, O_PSEED, O_RATE, O_STOCK, O_OVR, O_UNDEC, O_DSN, O_DSNF, O_SINKS,
           O_TIMEOUT };
    static const struct option lo[] = {
        { "config", required_argument, NULL, 'F' }, { "orders", required_argument, NULL, 'n' },
        { "seed", required_argument, NULL, 's' }, { "prefix", required_argument, NULL, O_PREFIX },
        { "payment-seed", required_argument, NULL, O_PSEED },
        { "approve-rate-e4", required_argument, NULL, O_RATE },
        { "initial-stock", required_argument, NULL, O_STOCK },
        { "stock-overrides", required_argument, NULL, O_OVR },
        { "undecided-ok", no_argument, NULL, O_UNDEC }, { "dsn", required_argument, NULL, O_DSN },
        { "dsn-file", required_argument, NULL, O_DSNF },
        { "sinks", required_argument, NULL, O_SINKS },
        { "timeout-ms", required_argument, NULL, O_TIMEOUT }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->files = calloc((size_t)argc + 1, sizeof *o->files);
    o->sets = calloc((size_t)argc + 1, sizeof *o->sets);
    o->orders = -1;
    o->sinks = "both";
    o->timeout_ms = 120000;
    pref_conf_default(&o->ref);
    long v, seed = -1;
    int opt;
    while ((opt = getopt_long(argc, argv, "F:X:n:s:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'F': o->files[o->nfiles++] = optarg; break;
        case 'X': o->sets[o->nsets++] = optarg; break;
        case 'n': bad = num("--orders", optarg, 0, &o->orders); break;
        case 's': bad = num("--seed", optarg, 0, &seed); break;
        case O_PREFIX: o->prefix = optarg; break;
        case O_PSEED:
            bad = num("--payment-seed", optarg, 0, &v);
            o->ref.payment_seed = (uint64_t)v;
            break;
        case O_RATE:
            bad = num("--approve-rate-e4", optarg, 0, &v) || v > 10000;
            o->ref.approve_rate_e4 = (int)v;
            break;
        case O_STOCK: bad = num("--initial-stock", optarg, 0, &o->ref.initial_stock); break;
        case O_OVR:
            if ((bad = pref_conf_overrides(&o->ref, optarg) != 0))
                fprintf(stderr, "pipeline_check: --stock-overrides is PRODUCT=UNITS,...\n");
            break;
        case O_UNDEC: o->undecided_ok = 1; break;
        case O_DSN: o->dsn = optarg; break;
        case O_DSNF: o->dsn_file = optarg; break;
        case O_SINKS:
            o->sinks = optarg;
            if ((bad = strcmp(optarg, "oltp") && strcmp(optarg, "star") && strcmp(optarg, "both")))
                fprintf(stderr, "pipeline_check: --sinks is oltp, star or both\n");
            break;
        case O_TIMEOUT: bad = num("--timeout-ms", optarg, 0, &o->timeout_ms); break;
        case 'h': exit(usage(stdout, 0));
        default: return -1;
        }
        if (bad)
            return -1;
    }
    if (optind != argc || o->orders < 0 || seed < 0 || !o->nfiles) {
        fprintf(stderr, "pipeline_check: -F, --orders and --seed are required\n");
        return -1;
    }
    o->seed = (uint64_t)seed;
    return 0;
}

/* ---- reading the topics ------------------------------------------------- */

struct topic {
    char name[256];
    int parts;
    int *eof;            /* per partition: at the end, nothing new since */
    struct it_rec *recs;
    long n, cap;
};

static char *dupn(const void *p, size_t n)
{
    char *s = malloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* A consumer with the settings of -F and -X, read_committed; in a group of
 * its own when group (it commits nothing; without one, it can only ask for
 * watermarks). */
static rd_kafka_t *consumer(const struct opts *o, int group)
{
    char err[512];
    struct rill_kvlist kv = { 0 };
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rill_kprops_collect(NULL, o->files, o->nfiles, o->sets, o->nsets, &kv, err,
                            sizeof err) != RILL_OK ||
        rill_kprops_conf(&kv, c, err, sizeof err) != RILL_OK) {
        fprintf(stderr, "pipeline_check: %s\n", err);
        rill_kvlist_clear(&kv);
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rill_kvlist_clear(&kv);
    char name[64], size[64];
    size_t sz = sizeof size;
    snprintf(name, sizeof name, "pipeline-check-%d", (int)getpid());
    if (group && (rd_kafka_conf_get(c, "group.id", size, &sz) != RD_KAFKA_CONF_OK || !*size))
        rd_kafka_conf_set(c, "group.id", name, NULL, 0);
    rd_kafka_conf_set(c, "isolation.level", "read_committed", NULL, 0);
    rd_kafka_conf_set(c, "enable.partition.eof", "true", NULL, 0);
    rd_kafka_conf_set(c, "enable.auto.commit", "false", NULL, 0);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "pipeline_check: %s\n", err);
        return NULL;
    }
    if (group)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

static int partitions_of(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 15000);
    if (!err && md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    else
        fprintf(stderr, "pipeline_check: topic %s: %s\n", topic,
                rd_kafka_err2str(err ? err : md->topic_cnt ? md->topics[0].err
                                                           : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC));
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

/* Assigns every partition of the topics from the beginning. */
static int assign_all(rd_kafka_t *rk, struct topic *t)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(64);
    for (int i = 0; i < NT; i++) {
        if ((t[i].parts = partitions_of(rk, t[i].name)) <= 0) {
            rd_kafka_topic_partition_list_destroy(l);
            return -1;
        }
        t[i].eof = calloc((size_t)t[i].parts, sizeof *t[i].eof);
        for (int p = 0; p < t[i].parts; p++)
            rd_kafka_topic_partition_list_add(l, t[i].name, p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        fprintf(stderr, "pipeline_check: assign: %s\n", rd_kafka_err2str(err));
    return err ? -1 : 0;
}

/* Consumes for up to wait_ms; returns 1 when something new arrived, -1 on
 * a fatal consumer error. */
static int consume(rd_kafka_t *rk, struct topic *t, int wait_ms)
{
    int news = 0;
    int64_t until = now_ms() + wait_ms;
    for (;;) {
        int64_t left = until - now_ms();
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, left > 0 ? (int)left : 0);
        if (!m)
            return news;
        int i = 0;
        while (i < NT && m->rkt && strcmp(rd_kafka_topic_name(m->rkt), t[i].name))
            i++;
        if (!m->rkt || i == NT) {
            if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "pipeline_check: consumer: %s\n", rd_kafka_message_errstr(m));
            int fatal = m->err == RD_KAFKA_RESP_ERR__FATAL ||
                        m->err == RD_KAFKA_RESP_ERR__AUTHENTICATION;
            rd_kafka_message_destroy(m);
            if (fatal)
                return -1;
            continue;
        }
        struct topic *tp = &t[i];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            tp->eof[m->partition] = 1;
        } else if (m->err) {
            fprintf(stderr, "pipeline_check: %s [%d]: %s\n", tp->name, (int)m->partition,
                    rd_kafka_message_errstr(m));
        } else {
            if (tp->n == tp->cap) {
                tp->cap = tp->cap ? tp->cap * 2 : 1024;
                tp->recs = realloc(tp->recs, (size_t)tp->cap * sizeof *tp->recs);
            }
            struct it_rec *r = &tp->recs[tp->n++];
            memset(r, 0, sizeof *r);
            r->partition = m->partition;
            r->offset = m->offset;
            r->timestamp = rd_kafka_message_timestamp(m, NULL);
            r->key = m->key ? dupn(m->key, m->key_len) : NULL;
            r->key_len = m->key ? m->key_len : 0;
            r->value = dupn(m->payload, m->payload ? m->len : 0);
            r->value_len = m->payload ? m->len : 0;
            r->headers = dupn("", 0);
            tp->eof[m->partition] = 0;
            news = 1;
        }
        rd_kafka_message_destroy(m);
    }
}

static int all_at_end(const struct topic *t)
{
    for (int i = 0; i < NT; i++)
        for (int p = 0; p < t[i].parts; p++)
            if (!t[i].eof[p])
                return 0;
    return 1;
}


/* The ids `rill generate -n N -s S` gives its orders (malloc'd). */
static char **generated_ids(const struct opts *o)
{
    struct rill_gen_opts go = { .seed = o->seed, .orders = o->orders > 0 ? o->orders : 1 };
    char err[256];
    rill_gen_t *g = rill_gen_new(&go, err, sizeof err);
    char **ids = calloc((size_t)o->orders + 1, sizeof *ids);
    if (!g || !ids) {
        fprintf(stderr, "pipeline_check: generator: %s\n", g ? "out of memory" : err);
        rill_gen_free(g);
        free(ids);
        return NULL;
    }
    for (long i = 0; i < o->orders; i++) {
        rill_event_t ev;
        rill_gen_next(g, &ev);
        ids[i] = strdup(ev.u.order.order_id);
    }
    rill_gen_free(g);
    return ids;
}

/* ---- the sink tables ------------------------------------------------------ */

static const int sink_inputs[] = { T_PLACED, T_PAYMENT, T_INVENTORY, T_SHIPPED, T_STATUS };

/* 1 when every sink group that keeps positions of the topics in
 * rill_offsets has reached their end offsets (and there is one at least).
 * wm is a client of its own: on the consuming one, each query would wait
 * behind a fetch's long poll. */
static int sinks_caught_up(PGconn *pg, rd_kafka_t *wm, const struct topic *t)
{
    int groups = 0;
    for (size_t k = 0; k < sizeof sink_inputs / sizeof *sink_inputs; k++) {
        const struct topic *tp = &t[sink_inputs[k]];
        long end = 0;
        for (int p = 0; p < tp->parts; p++) {
            int64_t lo, hi;
            if (rd_kafka_query_watermark_offsets(wm, tp->name, p, &lo, &hi, 10000))
                return 0;
            end += (long)hi;
        }
        const char *params[1] = { tp->name };
        PGresult *r = PQexecParams(pg, "SELECT group_id, sum(next_offset) FROM rill_offsets "
                                   "WHERE topic = $1 GROUP BY group_id", 1, NULL, params, NULL,
                                   NULL, 0);
        int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
        for (int i = 0; ok && i < PQntuples(r); i++)
            ok = atol(PQgetvalue(r, i, 1)) == end;
        if (ok && k == 0)
            groups = PQntuples(r);
        PQclear(r);
        if (!ok)
            return 0;
    }
    return groups > 0;
}

static char *read_dsn(const struct opts *o)
{
    if (o->dsn)
        return strdup(o->dsn);
    FILE *f = fopen(o->dsn_file, "r");
    if (!f) {
        fprintf(stderr, "pipeline_check: cannot read %s\n", o->dsn_file);
        return NULL;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return strdup(buf);
}

/* Waits (deadline) until the sinks have caught up, consuming on meanwhile,
 * then loads the reference into TEMP tables and compares. Returns the
 * number of failed comparisons, -1 on a setup error. */
static long check_tables(const struct opts *o, rd_kafka_t *rk, struct topic *t,
                         struct pa_audit *a, int64_t deadline)
{
    char *dsn = read_dsn(o);
    PGconn *pg = dsn ? PQconnectdb(dsn) : NULL;
    free(dsn);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        /* libpq's message names the host, never the password */
        fprintf(stderr, "pipeline_check: PostgreSQL: %s", pg ? PQerrorMessage(pg) : "no DSN\n");
        PQfinish(pg);
        return -1;
    }
    PQsetNoticeProcessor(pg, NULL, NULL);
    rd_kafka_t *wm = consumer(o, 0);
    int caught = 0;
    while (wm && !(caught = sinks_caught_up(pg, wm, t)) && now_ms() < deadline)
        consume(rk, t, 200); /* a real wait: new records, if any, are kept */
    if (wm)
        rd_kafka_destroy(wm);
    if (!caught)
        fprintf(stderr, "pipeline_check: the sinks' positions in rill_offsets have not reached "
                        "the topics' end offsets by the deadline\n");
    struct sr_counts k;
    long bad = !caught;
    int oltp = strcmp(o->sinks, "star") != 0, star = strcmp(o->sinks, "oltp") != 0;
    if (sr_load(pg, &o->ref, t[T_PLACED].recs, t[T_PLACED].n, 1, pa_reserved_of, a, &k) != 0) {
        PQfinish(pg);
        return -1;
    }
    long failed = sr_verify(pg, oltp, star);
    if (failed)
        fputc('\n', stderr); /* after sr_diff's lines */
    bad += failed;
    printf("pipeline_check: tables: ");
    if (oltp)
        printf("orders %ld (reference %ld, %ld final), order_items %ld (%ld), "
               "order_status_history %ld (%ld); ",
               it_pg_qn(pg, "SELECT count(*) FROM orders"), k.orders,
               it_pg_qn(pg, "SELECT count(*) FROM orders WHERE status IN (1300, 1900)"),
               it_pg_qn(pg, "SELECT count(*) FROM order_items"), k.lines,
               it_pg_qn(pg, "SELECT count(*) FROM order_status_history"),
               it_pg_qn(pg, "SELECT count(*) FROM ref_history"));
    if (star)
        printf("fact_sales %ld (reference %ld); ",
               it_pg_qn(pg, "SELECT count(*) FROM fact_sales"), k.shipped_lines);
    printf("dead letters %ld; %ld comparisons failed\n",
           it_pg_qn(pg, "SELECT count(*) FROM rill_dead_letters"), bad);
    PQfinish(pg);
    return bad;
}

/* ---- main ---------------------------------------------------------------------- */

/* The audit of what the topics hold so far (pa_run), naming up to `name`
 * problems. */
static struct pa_audit *audit(const struct opts *o, rill_serde_t *s, const struct topic *t,
                              char **ids, const char **names, int name, struct pa_result *res)
{
    struct it_rec *recs[NT];
    long n[NT];
    for (int i = 0; i < NT; i++) {
        recs[i] = t[i].recs;
        n[i] = t[i].n;
    }
    return pa_run(&o->ref, s, recs, n, ids, o->orders, names, name, res);
}

static long sum(const long *v)
{
    long s = 0;
    for (int i = 0; i < NT; i++)
        s += v[i];
    return s;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o) != 0)
        return usage(stderr, 2);
    int64_t deadline = now_ms() + o.timeout_ms;
    struct topic t[NT];
    const char *names[NT];
    memset(t, 0, sizeof t);
    for (int i = 0; i < NT; i++) {
        snprintf(t[i].name, sizeof t[i].name, "%s%s%s", o.prefix ? o.prefix : "",
                 o.prefix ? "." : "", it_pipeline_topics[i]);
        names[i] = t[i].name;
    }
    char err[512];
    rill_serde_t *s = NULL;
    char **ids = generated_ids(&o);
    rd_kafka_t *rk = ids ? consumer(&o, 1) : NULL;
    if (!rk || rill_serde_new(&s, err, sizeof err) != RILL_OK) {
        if (rk)
            fprintf(stderr, "pipeline_check: serde: %s\n", err);
        return 2;
    }
    if (assign_all(rk, t) != 0)
        return 2;
    /* Audit whenever every partition is at its end with something new
     * since the last audit; done when nothing is missing. */
    struct pa_result res;
    struct pa_audit *a = NULL;
    int fresh = 1, complete = 0, rounds = 0;
    for (;;) {
        int64_t left = deadline - now_ms();
        int got = consume(rk, t, left > 500 ? 500 : left > 0 ? (int)left : 0);
        if (got < 0)
            return 2;
        fresh |= got;
        if (all_at_end(t) && fresh) {
            pa_free(a);
            a = audit(&o, s, t, ids, names, 0, &res);
            if (!a)
                return 2;
            rounds++;
            fresh = 0;
            if (res.missing == 0) {
                complete = 1;
                break;
            }
        }
        if (now_ms() >= deadline)
            break;
    }
    /* the last audit again, with its problems named */
    pa_free(a);
    a = audit(&o, s, t, ids, names, 10, &res);
    if (!a)
        return 2;
    if (!complete)
        fprintf(stderr, "pipeline_check: the outputs were not complete by the deadline "
                        "(%ld ms; %d audits)\n", o.timeout_ms, rounds);
    long dups = sum(res.dups), undecodable = sum(res.undecodable);
    printf("pipeline_check: orders %ld (%ld generated with seed %llu, %ld others on %s; %ld "
           "undecodable input records)\n",
           res.orders, res.expected, (unsigned long long)o.seed, res.other, names[T_PLACED],
           res.bad_input);
    printf("pipeline_check: outcomes: shipped %ld, cancelled %ld (payment_rejected %ld, "
           "out_of_stock %ld, both %ld); reservation undecided by the reference %ld\n",
           res.shipped, res.cancelled, res.rejected, res.oos, res.both, res.undecided);
    printf("pipeline_check: records:");
    for (int i = 0; i < NT; i++)
        printf(" %s %ld%s", it_pipeline_topics[i], res.records[i], i + 1 < NT ? "," : "\n");
    printf("pipeline_check: duplicates %ld, missing %ld, wrong %ld, undecodable %ld\n", dups,
           res.missing, res.wrong, undecodable);
    long table_bad = 0;
    if (o.dsn || o.dsn_file)
        table_bad = check_tables(&o, rk, t, a, deadline);
    int undecided_bad = res.undecided && !o.undecided_ok;
    if (undecided_bad)
        fprintf(stderr, "pipeline_check: %ld orders' reservations depend on timing (stock that "
                        "can run out: raise the pipeline's initial_stock, and --initial-stock, "
                        "or pass --undecided-ok)\n", res.undecided);
    int exact = complete && !dups && !res.missing && !res.wrong && !undecodable && !undecided_bad &&
                table_bad == 0;
    if (exact && res.undecided)
        printf("pipeline_check: EXACT: every order has exactly one final outcome, the "
               "reference's (%ld reservations, which depend on timing, as inventory_result "
               "says)\n", res.undecided);
    else
        printf("pipeline_check: %s\n", exact ? "EXACT: every order has exactly one final "
                                              "outcome, the reference's" : "NOT EXACT");
    pa_free(a);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rill_serde_destroy(s);
    for (int i = 0; i < NT; i++) {
        it_recs_free(t[i].recs, t[i].n);
        free(t[i].eof);
    }
    for (long i = 0; i < o.orders; i++)
        free(ids[i]);
    free(ids);
    free(o.files);
    free(o.sets);
    return table_bad < 0 ? 2 : exact ? 0 : 1;
}
