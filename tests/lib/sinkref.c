/*
 * sinkref.c - the PostgreSQL side of the tests' reference of the order
 * pipeline (sinkref.h): the reference rows, loaded with COPY, and the
 * comparisons of the sinks' tables and views against them.
 */
#include "tests/lib/sinkref.h"
#include "tests/lib/pgq.h"
#include "schemas/serde.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "\n    %.200s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
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

/* CREATE [TEMP] TABLE name (cols) */
static int create(PGconn *pg, int temp, const char *name, const char *cols)
{
    char sql[512];
    snprintf(sql, sizeof sql, "CREATE %sTABLE %s (%s)", temp ? "TEMP " : "", name, cols);
    return exec_ok(pg, sql);
}

int sr_load(PGconn *pg, const struct pref_conf *c, const struct it_rec *in, long n, int temp,
            int (*reserved_of)(const char *order_id, void *arg), void *arg,
            struct sr_counts *out)
{
    rill_serde_t *s = NULL;
    char err[256];
    struct pref r;
    memset(out, 0, sizeof *out);
    if (rill_serde_new(&s, err, sizeof err) != RILL_OK)
        return -1;
    rill_event_t *evs = calloc((size_t)n + 1, sizeof *evs);
    char *ok = calloc((size_t)n + 1, 1);
    if (!evs || !ok || pref_init(&r, c) != 0) {
        free(evs);
        free(ok);
        rill_serde_destroy(s);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        ok[i] = rill_serde_decode(s, in[i].key, in[i].key_len, in[i].value, in[i].value_len,
                                  &evs[i], err, sizeof err) == RILL_OK &&
                evs[i].type == RILL_EVENT_ORDER_PLACED;
        if (ok[i])
            pref_demand(&r, &evs[i].u.order);
    }
    int bad = !create(pg, temp, "ref_orders", "order_id text, customer_id text, location_id "
                      "text, status smallint, total numeric(18,4), paid numeric(18,4), "
                      "currency text, created_at timestamptz, updated_at timestamptz") ||
              !create(pg, temp, "ref_items", "order_id text, line int, product_id text, "
                      "category text, quantity int, unit_price numeric(18,4)") ||
              !create(pg, temp, "ref_history", "order_id text, status smallint") ||
              !exec_ok(pg, "SET TIME ZONE 'UTC'");
    struct text o = { 0 }, it = { 0 }, h = { 0 };
    for (long i = 0; i < n && !bad; i++) {
        if (!ok[i])
            continue;
        const rill_order_placed_t *p = &evs[i].u.order;
        struct pref_outcome oc;
        pref_decide(&r, p, &oc);
        if (oc.reserved == PREF_UNDECIDED) {
            int res = reserved_of ? reserved_of(p->order_id, arg) : -1;
            if (res < 0) {
                fprintf(stderr, "\n    reference: the reservation of %s is undecided",
                        p->order_id);
                bad = 1;
                break;
            }
            pref_settle(&oc, res);
        }
        int paid = oc.paid, reserved = oc.reserved, final = oc.shipped ? 1300 : 1900;
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
        out->orders++;
        out->lines += (long)p->item_cnt;
        out->shipped += final == 1300;
        out->shipped_lines += final == 1300 ? (long)p->item_cnt : 0;
    }
    for (long i = 0; i < n; i++)
        rill_event_clear(&evs[i]);
    free(evs);
    free(ok);
    pref_free(&r);
    rill_serde_destroy(s);
    /* created_at goes in as epoch ms, then becomes a timestamptz */
    bad = bad ||
          !exec_ok(pg, "ALTER TABLE ref_orders ALTER created_at TYPE text, "
                       "ALTER updated_at TYPE text") ||
          copy_in(pg, "ref_orders", o.p ? o.p : "", o.len) ||
          copy_in(pg, "ref_items", it.p ? it.p : "", it.len) ||
          copy_in(pg, "ref_history", h.p ? h.p : "", h.len) ||
          !exec_ok(pg, "ALTER TABLE ref_orders ALTER created_at TYPE timestamptz USING "
                       "to_timestamp(created_at::bigint / 1000.0), ALTER updated_at TYPE "
                       "timestamptz USING to_timestamp(updated_at::bigint / 1000.0)");
    free(o.p);
    free(it.p);
    free(h.p);
    return bad ? -1 : 0;
}

/* ---- comparisons ----------------------------------------------------------------------- */

long sr_diff(PGconn *c, const char *what, const char *a, const char *b)
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

int sr_verify(PGconn *c, int oltp, int star)
{
    int bad = 0;
    if (oltp) {
        bad += sr_diff(c, "orders",
                       "SELECT order_id, customer_id, location_id, status, total, paid, "
                       "currency, created_at, updated_at FROM orders",
                       "SELECT * FROM ref_orders") != 0;
        bad += sr_diff(c, "order_items",
                       "SELECT order_id, line, product_id, category, quantity, unit_price "
                       "FROM order_items", "SELECT * FROM ref_items") != 0;
        bad += sr_diff(c, "order_status_history",
                       "SELECT order_id, status FROM order_status_history",
                       "SELECT * FROM ref_history") != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM rill_status_pending") != 0;
        bad += sr_diff(c, "v_orders_by_status", "SELECT status, orders FROM v_orders_by_status",
                       "SELECT v.s, count(o.order_id) FROM (VALUES (1000), (1100), (1150), "
                       "(1200), (1250), (1300), (1900)) v (s) LEFT JOIN ref_orders o ON "
                       "o.status = v.s GROUP BY v.s") != 0;
    }
    if (star) {
        bad += sr_diff(c, "fact_sales",
                       "SELECT f.order_id, f.line, f.date_key, c.customer_id, p.product_id, "
                       "p.category, s.location_id, f.quantity, f.unit_price, f.revenue, "
                       "f.currency::text FROM fact_sales f JOIN dim_customer c USING "
                       "(customer_key) JOIN dim_product p USING (product_key) JOIN dim_store s "
                       "USING (store_key)", FACTS_REF) != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM dim_product WHERE is_inferred") != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM rill_star_outcome") != 0;
        bad += it_pg_qn(c, "SELECT count(*) FROM rill_star_lines") != 0;
        bad += sr_diff(c, "v_daily_revenue",
                       "SELECT date, currency::text, orders, units, revenue FROM v_daily_revenue",
                       "SELECT to_date(r.d::text, 'YYYYMMDD'), r.cur, count(DISTINCT r.oid), "
                       "sum(r.q), sum(r.rev) FROM (" FACTS_REF ") AS r (oid, l, d, cu, pr, ca, "
                       "lo, q, up, rev, cur) GROUP BY 1, 2") != 0;
        bad += sr_diff(c, "v_sales_by_category",
                       "SELECT category, currency::text, orders, units, revenue FROM "
                       "v_sales_by_category",
                       "SELECT r.ca, r.cur, count(DISTINCT r.oid), sum(r.q), sum(r.rev) FROM ("
                       FACTS_REF ") AS r (oid, l, d, cu, pr, ca, lo, q, up, rev, cur) "
                       "GROUP BY 1, 2") != 0;
        bad += sr_diff(c, "v_top_customers",
                       "SELECT customer_id, currency::text, orders, units, revenue, revenue_rank "
                       "FROM v_top_customers",
                       "SELECT r.cu, r.cur, count(DISTINCT r.oid), sum(r.q), sum(r.rev), "
                       "rank() OVER (PARTITION BY r.cur ORDER BY sum(r.rev) DESC) FROM ("
                       FACTS_REF ") AS r (oid, l, d, cu, pr, ca, lo, q, up, rev, cur) "
                       "GROUP BY 1, 2") != 0;
    }
    bad += it_pg_qn(c, "SELECT count(*) FROM rill_dead_letters") != 0;
    return bad;
}
