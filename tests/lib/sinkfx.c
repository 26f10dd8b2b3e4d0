/*
 * sinkfx.c - the PostgreSQL sink tests' world (sinkfx.h): setting it up on
 * the real stack, the reference computed from order_placed alone with the
 * tests' own rules (tests/lib/reference.h), and the comparisons, each one
 * a symmetric difference of two queries that must be empty.
 */
#include "tests/lib/sinkfx.h"
#include "tests/lib/pgq.h"
#include "tests/lib/proc.h"
#include "tests/lib/reference.h"
#include "tests/lib/util.h"
#include "schemas/serde.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SK_SEED 7          /* ecommerce.yaml's payment seed */
#define SK_INITIAL_STOCK "1000000"
#define SK_SOLD_OUT "P0001=0,P0006=0"

static const char *base_dsn(void)
{
    static char *dsn;
    if (!dsn)
        dsn = it_secret("pg.dsn");
    return dsn;
}

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "\n    %.200s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

const char *sk_group(const struct sinkfx *f, const char *name)
{
    static char g[4][160];
    static int slot;
    char *b = g[slot++ % 4];
    snprintf(b, sizeof g[0], "%s.%s", f->app, name);
    return b;
}

static int write_text(const char *path, const char *text)
{
    FILE *o = fopen(path, "w");
    if (!o)
        return -1;
    fputs(text, o);
    return fclose(o);
}

/* The sink-only topology of instance i. */
static int write_sink_yaml(struct sinkfx *f, int i, int linger_ms, const char *extra_kafka)
{
    char y[8192];
    const char *t[SK_NTOPICS];
    for (int k = 0; k < SK_NTOPICS; k++)
        t[k] = f->topic[k];
    int n = snprintf(y, sizeof y,
                     "application.id: %s\n"
                     "state.dir: %s/sink%d\n"
                     "kafka:\n"
                     "  bootstrap.servers: %s\n"
                     "  security.protocol: SASL_PLAINTEXT\n"
                     "  sasl.mechanisms: SCRAM-SHA-512\n"
                     "  sasl.username: pg_sink\n"
                     "  sasl.password: ${file:%s}\n"
                     "  session.timeout.ms: '6000'\n"
                     "  heartbeat.interval.ms: '1000'\n"
                     "  group.instance.id: %s-sinks%d\n"
                     "%s"
                     "topics:\n",
                     f->app, f->dir, i, it_env("KAFKA_BOOTSTRAP"),
                     it_secret_path("pg_sink.password"), f->app, i, extra_kafka);
    for (int k = 0; k < SK_NTOPICS; k++)
        n += snprintf(y + n, sizeof y - (size_t)n, "  %s: { partitions: 6 }\n", t[k]);
    n += snprintf(y + n, sizeof y - (size_t)n, "sinks:\n");
    if (strcmp(f->sinks, "star"))
        n += snprintf(y + n, sizeof y - (size_t)n,
                      "  orders_db:\n    type: postgres_oltp\n"
                      "    inputs: [%s, %s, %s, %s, %s]\n    dsn: ${file:%s}\n"
                      "    linger.ms: %d\n",
                      t[SK_PLACED], t[SK_PAYMENT], t[SK_INVENTORY], t[SK_SHIPPED], t[SK_STATUS],
                      f->dsnfile, linger_ms);
    if (strcmp(f->sinks, "oltp"))
        n += snprintf(y + n, sizeof y - (size_t)n,
                      "  olap:\n    type: postgres_star\n    inputs: [%s, %s, %s]\n"
                      "    dsn: ${file:%s}\n    linger.ms: %d\n",
                      t[SK_PLACED], t[SK_SHIPPED], t[SK_STATUS], f->dsnfile, linger_ms);
    return (size_t)n < sizeof y ? write_text(f->sink_yaml[i], y) : -1;
}

int sk_init(struct sinkfx *f, const char *tag, const char *which, int nsinks, int linger_ms,
            const char *extra_kafka)
{
    static unsigned seq;
    memset(f, 0, sizeof *f);
    f->sinks = which;
    if (!it_tmpdir(f->dir, sizeof f->dir, tag))
        return -1;
    snprintf(f->app, sizeof f->app, "%s", it_topic(tag));
    for (int i = 0; i < SK_NTOPICS; i++)
        snprintf(f->topic[i], sizeof f->topic[i], "%s.%s", f->app, it_pipeline_topics[i]);
    snprintf(f->schema, sizeof f->schema, "it_sink_%d_%u_%d", (int)getpid(), seq++,
             rand() % 100000);
    snprintf(f->dsnfile, sizeof f->dsnfile, "%s/pg.dsn", f->dir);
    snprintf(f->pipe_yaml, sizeof f->pipe_yaml, "%s/pipeline.yaml", f->dir);
    snprintf(f->pipe_log, sizeof f->pipe_log, "%s/pipeline.log", f->dir);
    char dsn[2048];
    snprintf(dsn, sizeof dsn, "%s options='-csearch_path=%s'\n", base_dsn(), f->schema);
    PGconn *a = PQconnectdb(base_dsn());
    char sql[160];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", f->schema);
    int ok = PQstatus(a) == CONNECTION_OK && exec_ok(a, sql);
    PQfinish(a);
    if (!ok || write_text(f->dsnfile, dsn) != 0)
        return -1;
    dsn[strcspn(dsn, "\n")] = '\0';
    f->c = PQconnectdb(dsn);
    if (PQstatus(f->c) != CONNECTION_OK)
        return -1;
    PQsetNoticeProcessor(f->c, NULL, NULL);
    char out[4096];
    if (it_rill_exec3(out, sizeof out, 120000, "migrate", "--dsn-file", f->dsnfile, NULL) != 0) {
        fprintf(stderr, "\n    rill migrate: %s", out);
        return -1;
    }
    const char *t[SK_NTOPICS];
    for (int k = 0; k < SK_NTOPICS; k++)
        t[k] = f->topic[k];
    if (it_pipeline_prepare(f->pipe_yaml, f->app, f->dir, SK_INITIAL_STOCK, SK_SOLD_OUT, t,
                            NULL) != 0)
        return -1;
    char dir[sizeof f->dir];
    memcpy(dir, f->dir, sizeof dir);
    for (int i = 0; i < nsinks; i++) {
        snprintf(f->sink_yaml[i], sizeof f->sink_yaml[i], "%s/sinks%d.yaml", dir, i);
        snprintf(f->sink_log[i], sizeof f->sink_log[i], "%s/sinks%d.log", dir, i);
        if (write_sink_yaml(f, i, linger_ms, extra_kafka) != 0)
            return -1;
    }
    const char *yamls[2] = { f->pipe_yaml, f->sink_yaml[0] };
    for (int i = 0; i < 2; i++)
        if (it_rill_exec3(out, sizeof out, 120000, "apply", yamls[i], "-F",
                          it_secret_path("admin.client.conf"), NULL) != 0) {
            fprintf(stderr, "\n    rill apply %s: %s", yamls[i], out);
            return -1;
        }
    return 0;
}

void sk_done(struct sinkfx *f)
{
    if (!f->c)
        return;
    char sql[160];
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", f->schema);
    if (!getenv("RILL_KEEP_SCHEMA") && exec_ok(f->c, "SET client_min_messages = warning"))
        exec_ok(f->c, sql);
    PQfinish(f->c);
    f->c = NULL;
}

/* ---- progress -------------------------------------------------------------------- */

/* The sum of next_offset of group over topic. */
static long stored(struct sinkfx *f, const char *group, const char *topic)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT coalesce(sum(next_offset), 0) FROM rill_offsets "
             "WHERE group_id = '%s' AND topic = '%s'", group, topic);
    return it_pg_qn(f->c, sql);
}

int sk_caught_up(struct sinkfx *f)
{
    static const int oltp[] = { SK_PLACED, SK_PAYMENT, SK_INVENTORY, SK_SHIPPED, SK_STATUS };
    static const int star[] = { SK_PLACED, SK_SHIPPED, SK_STATUS };
    if (strcmp(f->sinks, "star"))
        for (size_t i = 0; i < 5; i++)
            if (stored(f, sk_group(f, "orders_db"), f->topic[oltp[i]]) !=
                it_end_offsets(f->topic[oltp[i]]))
                return 0;
    if (strcmp(f->sinks, "oltp"))
        for (size_t i = 0; i < 3; i++)
            if (stored(f, sk_group(f, "olap"), f->topic[star[i]]) !=
                it_end_offsets(f->topic[star[i]]))
                return 0;
    return 1;
}

int sk_wait(struct sinkfx *f, long want_final, long want_facts, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    while (it_now_ms() < deadline) {
        if (want_final >= 0 &&
            it_pg_qn(f->c, "SELECT count(*) FROM orders WHERE status IN (1300, 1900)") < want_final)
            continue;
        if (want_facts >= 0 && it_pg_qn(f->c, "SELECT count(*) FROM fact_sales") < want_facts)
            continue;
        if (sk_caught_up(f))
            return 1;
    }
    return 0;
}

/* ---- the reference ------------------------------------------------------------------ */

static int sold_out(const char *product)
{
    return !strcmp(product, "P0001") || !strcmp(product, "P0006");
}

static void e4(char *b, size_t n, int64_t v)
{
    snprintf(b, n, "%s%lld.%04lld", v < 0 ? "-" : "", (long long)(v < 0 ? -v : v) / 10000,
             (long long)(v < 0 ? -v : v) % 10000);
}

/* COPY of text rows into table; rows is "a\tb\n..." */
static int copy_in(PGconn *c, const char *table, const char *rows, size_t len)
{
    char sql[160];
    snprintf(sql, sizeof sql, "COPY %s FROM STDIN", table);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    ok = ok && PQputCopyData(c, rows, (int)len) == 1;
    ok = PQputCopyEnd(c, ok ? NULL : "failed") == 1 && ok;
    r = PQgetResult(c);
    ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "\n    COPY %s: %s", table, PQerrorMessage(c));
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    return ok ? 0 : -1;
}

struct text {
    char *p;
    size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (t->p && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap ? t->cap * 2 : 1 << 20;
        t->p = realloc(t->p, t->cap);
    }
}

int sk_reference(struct sinkfx *f)
{
    struct it_rec *in = NULL;
    long n = it_read_topic(f->topic[SK_PLACED], 1, 60000, &in);
    rill_serde_t *s = NULL;
    char err[256];
    if (n < 0 || rill_serde_new(&s, err, sizeof err) != RILL_OK)
        return -1;
    if (!exec_ok(f->c, "CREATE TABLE ref_orders (order_id text, customer_id text, location_id "
                       "text, status smallint, total numeric(18,4), paid numeric(18,4), "
                       "currency text, created_at timestamptz, updated_at timestamptz)") ||
        !exec_ok(f->c, "CREATE TABLE ref_items (order_id text, line int, product_id text, "
                       "category text, quantity int, unit_price numeric(18,4))") ||
        !exec_ok(f->c, "CREATE TABLE ref_history (order_id text, status smallint)") ||
        !exec_ok(f->c, "SET TIME ZONE 'UTC'"))
        return -1;
    struct text o = { 0 }, it = { 0 }, h = { 0 };
    f->orders = f->shipped = f->lines = f->shipped_lines = 0;
    for (long i = 0; i < n; i++) {
        rill_event_t ev = { 0 };
        if (rill_serde_decode(s, in[i].key, in[i].key_len, in[i].value, in[i].value_len, &ev,
                              err, sizeof err) != RILL_OK) {
            rill_event_clear(&ev);
            continue;
        }
        const rill_order_placed_t *p = &ev.u.order;
        int paid = it_payment_approves(SK_SEED, p->order_id, 9000), reserved = 1;
        for (size_t k = 0; k < p->item_cnt; k++)
            reserved &= !sold_out(p->items[k].product_id);
        int final = paid && reserved ? 1300 : 1900;
        char total[40], at[64];
        e4(total, sizeof total, p->total_e4);
        snprintf(at, sizeof at, "%lld", (long long)p->event_time);
        add(&o, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p->order_id, p->customer_id,
            p->location_id, final, total, paid ? total : "\\N", p->currency, at, at);
        add(&h, "%s\t1000\n%s\t%d\n%s\t%d\n%s\t%d\n", p->order_id, p->order_id,
            paid ? 1100 : 1150, p->order_id, reserved ? 1200 : 1250, p->order_id, final);
        for (size_t k = 0; k < p->item_cnt; k++) {
            char price[40];
            e4(price, sizeof price, p->items[k].unit_price_e4);
            add(&it, "%s\t%zu\t%s\t%s\t%d\t%s\n", p->order_id, k + 1, p->items[k].product_id,
                p->items[k].category ? p->items[k].category : "", p->items[k].quantity, price);
        }
        f->orders++;
        f->lines += (long)p->item_cnt;
        f->shipped += final == 1300;
        f->shipped_lines += final == 1300 ? (long)p->item_cnt : 0;
        rill_event_clear(&ev);
    }
    it_recs_free(in, n);
    rill_serde_destroy(s);
    /* created_at goes in as epoch ms, then becomes a timestamptz */
    int bad = !exec_ok(f->c, "ALTER TABLE ref_orders ALTER created_at TYPE text, "
                             "ALTER updated_at TYPE text") ||
              copy_in(f->c, "ref_orders", o.p ? o.p : "", o.len) ||
              copy_in(f->c, "ref_items", it.p ? it.p : "", it.len) ||
              copy_in(f->c, "ref_history", h.p ? h.p : "", h.len) ||
              !exec_ok(f->c, "ALTER TABLE ref_orders ALTER created_at TYPE timestamptz USING "
                             "to_timestamp(created_at::bigint / 1000.0), ALTER updated_at TYPE "
                             "timestamptz USING to_timestamp(updated_at::bigint / 1000.0)");
    free(o.p);
    free(it.p);
    free(h.p);
    return bad ? -1 : 0;
}

/* ---- comparisons ----------------------------------------------------------------------- */

long sk_diff(PGconn *c, const char *what, const char *a, const char *b)
{
    size_t len = 2 * (strlen(a) + strlen(b)) + 256;
    char *sql = malloc(len);
    snprintf(sql, len, "SELECT count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) d",
             a, b, b, a);
    long n = it_pg_qn(c, sql);
    if (n != 0) {
        snprintf(sql, len, "(%s EXCEPT ALL %s) LIMIT 3", a, b);
        fprintf(stderr, "\n    %s differs in %ld rows; e.g. %s", what, n, it_pg_q1(c, sql));
    }
    free(sql);
    return n;
}

#define FACTS_REF                                                                           \
    "SELECT i.order_id, i.line, to_char(o.created_at AT TIME ZONE 'UTC', 'YYYYMMDD')::int, " \
    "o.customer_id, i.product_id, i.category, o.location_id, i.quantity, i.unit_price, "     \
    "i.quantity * i.unit_price, o.currency FROM ref_items i JOIN ref_orders o USING "        \
    "(order_id) WHERE o.status = 1300"

int sk_verify(struct sinkfx *f)
{
    PGconn *c = f->c;
    int bad = 0;
    int oltp = strcmp(f->sinks, "star") != 0, star = strcmp(f->sinks, "oltp") != 0;
    if (oltp) {
        bad += sk_diff(c, "orders",
                       "SELECT order_id, customer_id, location_id, status, total, paid, "
                       "currency, created_at, updated_at FROM orders",
                       "SELECT * FROM ref_orders") != 0;
        bad += sk_diff(c, "order_items",
                       "SELECT order_id, line, product_id, category, quantity, unit_price "
                       "FROM order_items", "SELECT * FROM ref_items") != 0;
        bad += sk_diff(c, "order_status_history",
                       "SELECT order_id, status FROM order_status_history",
                       "SELECT * FROM ref_history") != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM rill_status_pending") != 0;
        bad += sk_diff(c, "v_orders_by_status", "SELECT status, orders FROM v_orders_by_status",
                       "SELECT v.s, count(o.order_id) FROM (VALUES (1000), (1100), (1150), "
                       "(1200), (1250), (1300), (1900)) v (s) LEFT JOIN ref_orders o ON "
                       "o.status = v.s GROUP BY v.s") != 0;
    }
    if (star) {
        bad += sk_diff(c, "fact_sales",
                       "SELECT f.order_id, f.line, f.date_key, c.customer_id, p.product_id, "
                       "p.category, s.location_id, f.quantity, f.unit_price, f.revenue, "
                       "f.currency::text FROM fact_sales f JOIN dim_customer c USING "
                       "(customer_key) JOIN dim_product p USING (product_key) JOIN dim_store s "
                       "USING (store_key)", FACTS_REF) != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM dim_product WHERE is_inferred") != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM rill_star_outcome") != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM rill_star_lines") != 0;
        bad += sk_diff(c, "v_daily_revenue",
                       "SELECT date, currency::text, orders, units, revenue FROM v_daily_revenue",
                       "SELECT to_date(r.d::text, 'YYYYMMDD'), r.cur, count(DISTINCT r.oid), "
                       "sum(r.q), sum(r.rev) FROM (" FACTS_REF ") AS r (oid, l, d, cu, pr, ca, "
                       "lo, q, up, rev, cur) GROUP BY 1, 2") != 0;
        bad += sk_diff(c, "v_sales_by_category",
                       "SELECT category, currency::text, orders, units, revenue FROM "
                       "v_sales_by_category",
                       "SELECT r.ca, r.cur, count(DISTINCT r.oid), sum(r.q), sum(r.rev) FROM ("
                       FACTS_REF ") AS r (oid, l, d, cu, pr, ca, lo, q, up, rev, cur) "
                       "GROUP BY 1, 2") != 0;
        bad += sk_diff(c, "v_top_customers",
                       "SELECT customer_id, currency::text, orders, units, revenue, revenue_rank "
                       "FROM v_top_customers",
                       "SELECT r.cu, r.cur, count(DISTINCT r.oid), sum(r.q), sum(r.rev), "
                       "rank() OVER (PARTITION BY r.cur ORDER BY sum(r.rev) DESC) FROM ("
                       FACTS_REF ") AS r (oid, l, d, cu, pr, ca, lo, q, up, rev, cur) "
                       "GROUP BY 1, 2") != 0;
    }
    bad += it_pg_qn(c, "SELECT count(*) FROM rill_dead_letters") != 0;
    bad += !sk_caught_up(f);
    return bad;
}

const char *sk_pg_password(void)
{
    static char pw[256];
    PQconninfoOption *o = PQconninfoParse(base_dsn(), NULL);
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (!strcmp(p->keyword, "password") && p->val)
            snprintf(pw, sizeof pw, "%s", p->val);
    PQconninfoFree(o);
    return pw;
}

long sk_cpu_ms(int pid)
{
    struct it_pstat ps;
    if (it_proc_stat(pid, &ps) != 0)
        return -1;
    return (ps.utime + ps.stime) * 1000 / sysconf(_SC_CLK_TCK);
}
