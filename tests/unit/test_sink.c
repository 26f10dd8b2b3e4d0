/*
 * test_sink.c - the sink runtime's row helpers and the two PostgreSQL sinks'
 * row building, without a database: the value spellings (exact decimals, UTC
 * timestamps), the array literals that carry a column (quoting, escaping,
 * NULL), dedupe (last value per key, sorted), append and project, and what
 * postgres_oltp and postgres_star queue for a batch of encoded events: the
 * statements, their rows, the dead-letter row of a record that does not
 * decode, and the star's inferred member and cache (learned only after a
 * commit). The database side (the pipeline, fencing, bisection) is the
 * integration tier's tests/integration/test_sink.c.
 */
#include "tests/lib/suite.h"
#include "topology/engine/sink_int.h"
#include "processors/registry.h"
#include "schemas/serde.h"

#include <stdio.h>
#include <string.h>

static void test_formats(void)
{
    char b[RILL_SINK_FMT_SIZE];
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_e4(b, 123400), "12.3400");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_e4(b, 1), "0.0001");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_e4(b, -1), "-0.0001");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_e4(b, 0), "0.0000");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_e4(b, INT64_MIN), "-922337203685477.5808");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_int(b, -42), "-42");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_ms(b, 0), "1970-01-01 00:00:00.000+00");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_ms(b, 1790812800123), "2026-10-01 00:00:00.123+00");
    CU_ASSERT_STRING_EQUAL(rill_sink_fmt_ms(b, -1), "1969-12-31 23:59:59.999+00");
}

static void test_array_literal(void)
{
    rill_sink_tx_t tx;
    sink_tx_init(&tx, "g", "s");
    const char *v[] = { "plain", "with \"quote\"", "back\\slash", NULL, "", "{,}" };
    CU_ASSERT_STRING_EQUAL(sink_array_literal(&tx, v, 6),
                           "{\"plain\",\"with \\\"quote\\\"\",\"back\\\\slash\",NULL,\"\","
                           "\"{,}\"}");
    CU_ASSERT_STRING_EQUAL(sink_array_literal(&tx, v, 0), "{}");
    sink_tx_free(&tx);
}

/* Column col of the first queued statement's parameters. */
static const char *param(const rill_sink_tx_t *tx, size_t stmt, int col)
{
    return stmt < tx->nstmts && col < tx->stmts[stmt].nparams ? tx->stmts[stmt].values[col]
                                                               : "";
}

static void test_cols(void)
{
    rill_sink_tx_t tx;
    sink_tx_init(&tx, "g", "s");
    rill_sink_cols_t *c = rill_sink_cols_new(&tx, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NULL(rill_sink_cols_new(&tx, 0));
    CU_ASSERT_PTR_NULL(rill_sink_cols_new(&tx, RILL_SINK_MAX_COLS + 1));
    const char *rows[][2] = { { "b", "1" }, { "a", "2" }, { "b", "3" }, { NULL, "4" },
                              { "a", "5" } };
    for (size_t i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(rill_sink_row(c, rows[i]), RILL_OK);
    /* the rows are copies */
    char mutable[] = "c";
    const char *r6[2] = { mutable, "6" };
    CU_ASSERT_EQUAL(rill_sink_row(c, r6), RILL_OK);
    mutable[0] = 'z';
    rill_sink_cols_dedupe(c, 1);
    CU_ASSERT_EQUAL(rill_sink_cols_rows(c), 4);
    CU_ASSERT_EQUAL(rill_sink_exec(&tx, "Q", c), RILL_OK);
    /* NULL first, then by key, the last appended of each key kept */
    CU_ASSERT_STRING_EQUAL(param(&tx, 0, 0), "{NULL,\"a\",\"b\",\"c\"}");
    CU_ASSERT_STRING_EQUAL(param(&tx, 0, 1), "{\"4\",\"5\",\"3\",\"6\"}");
    /* append and project */
    rill_sink_cols_t *d = rill_sink_cols_new(&tx, 2), *k = rill_sink_cols_new(&tx, 1);
    CU_ASSERT_EQUAL(rill_sink_cols_append(d, c), RILL_OK);
    CU_ASSERT_EQUAL(rill_sink_cols_append(d, c), RILL_OK);
    CU_ASSERT_EQUAL(rill_sink_cols_append(k, c), RILL_ERR_INVALID);
    CU_ASSERT_EQUAL(rill_sink_cols_rows(d), 8);
    CU_ASSERT_EQUAL(rill_sink_cols_project(k, c, 1), RILL_OK);
    CU_ASSERT_EQUAL(rill_sink_cols_project(k, c, 2), RILL_ERR_INVALID);
    CU_ASSERT_EQUAL(rill_sink_exec(&tx, "P", k), RILL_OK);
    CU_ASSERT_STRING_EQUAL(param(&tx, 1, 0), "{\"4\",\"5\",\"3\",\"6\"}");
    /* a set without rows queues nothing */
    CU_ASSERT_EQUAL(rill_sink_exec(&tx, "E", rill_sink_cols_new(&tx, 3)), RILL_OK);
    CU_ASSERT_EQUAL(tx.nstmts, 2);
    sink_tx_reset(&tx);
    CU_ASSERT_EQUAL(tx.nstmts, 0);
    CU_ASSERT_EQUAL(tx.arena_bytes, 0);
    sink_tx_free(&tx);
}

/* ---- the sinks' rows ---------------------------------------------------------- */

struct batch {
    rill_serde_t *serde;
    rill_buf_t bufs[8];
    struct rill_sink_rec recs[8];
    size_t n;
};

static void add_event(struct batch *b, const rill_event_t *ev, const char *topic)
{
    char err[256];
    rill_buf_t *buf = &b->bufs[b->n];
    CU_ASSERT_EQUAL_FATAL(rill_serde_encode(b->serde, ev, buf, err, sizeof err), RILL_OK);
    b->recs[b->n] = (struct rill_sink_rec){ topic, 2, 100 + (int64_t)b->n, 0, "L1", 2, buf->p,
                                            buf->len, NULL };
    b->n++;
}

static void add_raw(struct batch *b, const char *bytes, const char *topic)
{
    b->recs[b->n] = (struct rill_sink_rec){ topic, 2, 100 + (int64_t)b->n, 0, "L1", 2, bytes,
                                            strlen(bytes), NULL };
    b->n++;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < 8; i++)
        rill_buf_free(&b->bufs[i]);
    rill_serde_destroy(b->serde);
}

static rill_order_item_t items[2] = { { "P1", "toys", 2, 15000 }, { "P2", "books", 1, 99900 } };

static rill_event_t placed(const char *id)
{
    rill_event_t ev = { .type = RILL_EVENT_ORDER_PLACED };
    ev.u.order = (rill_order_placed_t){ id, "C1", "L1", items, 2, 129900, "EUR",
                                        RILL_STATUS_OPEN, 1790812800000, "corr" };
    return ev;
}

/* The statement of tx whose SQL starts with prefix, or NULL. */
static const struct sink_stmt *stmt(const rill_sink_tx_t *tx, const char *prefix)
{
    for (size_t i = 0; i < tx->nstmts; i++)
        if (!strncmp(tx->stmts[i].sql, prefix, strlen(prefix)))
            return &tx->stmts[i];
    return NULL;
}

static void test_oltp_rows(void)
{
    const struct rill_sink_def *d = rill_sink_lookup("postgres_oltp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct batch b = { 0 };
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&b.serde, err, sizeof err), RILL_OK);
    rill_event_t o = placed("O1"), pay = { .type = RILL_EVENT_PAYMENT_RESULT };
    pay.u.payment = (rill_payment_result_t){ "O1", "C1", "L1", 1, RILL_STATUS_PAID, 129900, "EUR",
                                             NULL, 1790812800000, "corr" };
    add_event(&b, &pay, "pay");   /* before its order: parked by the SQL, not here */
    add_event(&b, &o, "placed");
    add_event(&b, &o, "placed");  /* the same order again: one row */
    add_raw(&b, "not an event", "placed");
    void *state = NULL;
    CU_ASSERT_EQUAL_FATAL(d->init(&state, NULL, err, sizeof err), RILL_OK);
    rill_sink_tx_t tx;
    sink_tx_init(&tx, "grp", "orders_db");
    CU_ASSERT_EQUAL(d->write(state, &tx, b.recs, b.n, err, sizeof err), RILL_OK);
    const struct sink_stmt *dl = stmt(&tx, "INSERT INTO rill_dead_letters");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dl);
    CU_ASSERT_STRING_EQUAL(dl->values[0], "grp");
    CU_ASSERT_STRING_EQUAL(dl->values[3], "103");
    CU_ASSERT_STRING_EQUAL(dl->values[4], "orders_db");
    CU_ASSERT_EQUAL(dl->lengths[7], (int)strlen("not an event"));
    /* the order (at its own event) and its lines, in one statement */
    const struct sink_stmt *ord = stmt(&tx, "WITH ins AS (INSERT INTO orders");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ord);
    CU_ASSERT_EQUAL_FATAL(ord->nparams, 15);
    CU_ASSERT_STRING_EQUAL(ord->values[0], "{\"O1\"}");
    CU_ASSERT_STRING_EQUAL(ord->values[3], "{\"12.9900\"}");
    CU_ASSERT_STRING_EQUAL(ord->values[5], "{\"2026-10-01 00:00:00.000+00\"}");
    CU_ASSERT_STRING_EQUAL(ord->values[6], "{\"placed\"}");
    CU_ASSERT_STRING_EQUAL(ord->values[8], "{\"102\"}"); /* the last record of the order */
    CU_ASSERT_STRING_EQUAL(ord->values[9], "{\"O1\",\"O1\"}");
    CU_ASSERT_STRING_EQUAL(ord->values[10], "{\"1\",\"2\"}");
    CU_ASSERT_STRING_EQUAL(ord->values[14], "{\"1.5000\",\"9.9900\"}");
    /* three events, each once by its coordinates: the payment (with its
     * amount) and the order's own 1000, twice (two records) */
    const struct sink_stmt *ev = stmt(&tx, "WITH e AS");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
    CU_ASSERT_STRING_EQUAL(ev->values[1], "{\"1100\",\"1000\",\"1000\"}");
    CU_ASSERT_STRING_EQUAL(ev->values[3], "{\"12.9900\",NULL,NULL}");
    CU_ASSERT_STRING_EQUAL(ev->values[7], "{\"100\",\"101\",\"102\"}");
    CU_ASSERT_PTR_NOT_NULL(stmt(&tx, "WITH m AS"));
    const struct sink_stmt *cur = stmt(&tx, "UPDATE orders");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
    CU_ASSERT_STRING_EQUAL(cur->values[0], "{\"O1\"}");
    d->fini(state);
    sink_tx_free(&tx);
    batch_free(&b);
}

static void test_star_rows_and_cache(void)
{
    const struct rill_sink_def *d = rill_sink_lookup("postgres_star");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct batch b = { 0 };
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_serde_new(&b.serde, err, sizeof err), RILL_OK);
    rill_item_qty_t shipped_items[1] = { { "P9", 1 } };
    rill_event_t sh = { .type = RILL_EVENT_ORDER_SHIPPED };
    sh.u.shipped = (rill_order_shipped_t){ "O0", "C1", "L1", shipped_items, 1, 100, "EUR",
                                           RILL_STATUS_SHIPPED, 1790812800000, "corr" };
    rill_event_t o = placed("O1");
    add_event(&b, &sh, "shipped"); /* P9 only on a shipment: an inferred member */
    add_event(&b, &o, "placed");
    void *state = NULL;
    CU_ASSERT_EQUAL_FATAL(d->init(&state, NULL, err, sizeof err), RILL_OK);
    rill_sink_tx_t tx;
    sink_tx_init(&tx, "grp", "olap");
    CU_ASSERT_EQUAL(d->write(state, &tx, b.recs, b.n, err, sizeof err), RILL_OK);
    const struct sink_stmt *prod = stmt(&tx, "INSERT INTO dim_product");
    CU_ASSERT_PTR_NOT_NULL_FATAL(prod);
    CU_ASSERT_STRING_EQUAL(prod->values[0], "{\"P1\",\"P2\",\"P9\"}");
    CU_ASSERT_STRING_EQUAL(prod->values[1], "{\"toys\",\"books\",\"\"}");
    CU_ASSERT_STRING_EQUAL(prod->values[2], "{\"false\",\"false\",\"true\"}");
    const struct sink_stmt *lines = stmt(&tx, "INSERT INTO rill_star_lines");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
    CU_ASSERT_STRING_EQUAL(lines->values[0], "{\"O1\",\"O1\"}");
    const struct sink_stmt *out = stmt(&tx, "INSERT INTO rill_star_outcome");
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_STRING_EQUAL(out->values[0], "{\"O0\"}");
    CU_ASSERT_STRING_EQUAL(stmt(&tx, "WITH done AS")->values[0], "{\"O0\",\"O1\"}");
    /* the lookups answer; nothing is cached before the commit */
    const struct sink_stmt *look = stmt(&tx, "SELECT product_id, product_key");
    CU_ASSERT_PTR_NOT_NULL_FATAL(look);
    const char *p1[3] = { "P1", "11", "f" }, *p9[3] = { "P9", "19", "t" };
    look->fn(look->opaque, 3, p1);
    look->fn(look->opaque, 3, p9);
    const struct sink_stmt *cl = stmt(&tx, "SELECT customer_id");
    const char *c1[3] = { "C1", "5", "f" };
    cl->fn(cl->opaque, 3, c1);
    d->end(state, 0); /* rolled back: forgotten */
    sink_tx_reset(&tx);
    CU_ASSERT_EQUAL(d->write(state, &tx, b.recs + 1, 1, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(stmt(&tx, "INSERT INTO dim_product")->values[0], "{\"P1\",\"P2\"}");
    look = stmt(&tx, "SELECT product_id, product_key");
    look->fn(look->opaque, 3, p1);
    look->fn(look->opaque, 3, p9);
    cl = stmt(&tx, "SELECT customer_id");
    cl->fn(cl->opaque, 3, c1);
    d->end(state, 1); /* committed: learned */
    sink_tx_reset(&tx);
    CU_ASSERT_EQUAL(d->write(state, &tx, b.recs, b.n, err, sizeof err), RILL_OK);
    /* P1 and C1 are known; P9 is cached as inferred, and a shipment does not
     * fill it in, so it is not upserted again; P2 was never looked up */
    CU_ASSERT_STRING_EQUAL(stmt(&tx, "INSERT INTO dim_product")->values[0], "{\"P2\"}");
    CU_ASSERT_PTR_NULL(stmt(&tx, "INSERT INTO dim_customer"));
    CU_ASSERT_PTR_NOT_NULL(stmt(&tx, "INSERT INTO dim_store"));
    d->fini(state);
    sink_tx_free(&tx);
    batch_free(&b);
}

static CU_TestInfo tests[] = {
    { "value spellings: exact decimals, UTC timestamps", test_formats },
    { "array literals: quoted, escaped, NULL", test_array_literal },
    { "columns: copies, dedupe keeps the last per key sorted, append, project", test_cols },
    { "postgres_oltp: orders, items, events once per record, a bad record dead-lettered",
      test_oltp_rows },
    { "postgres_star: dimensions sorted, an inferred member, the cache learns on commit only",
      test_star_rows_and_cache },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("sink", tests)
