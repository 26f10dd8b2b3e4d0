/*
 * sinkfx.c - the PostgreSQL sink tests' world (sinkfx.h): setting it up on
 * the real stack; the reference computed from order_placed alone and the
 * comparisons are tests/lib/sinkref.h's (shared with the rollout's checker).
 */
#include "tests/lib/sinkfx.h"
#include "tests/lib/pgq.h"
#include "tests/lib/proc.h"
#include "tests/lib/sinkref.h"
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

/* ---- the reference (tests/lib/sinkref.h) ---------------------------------------- */

int sk_reference(struct sinkfx *f)
{
    struct it_rec *in = NULL;
    long n = it_read_topic(f->topic[SK_PLACED], 1, 60000, &in);
    if (n < 0)
        return -1;
    struct pref_conf c;
    pref_conf_default(&c);
    c.payment_seed = SK_SEED;
    c.initial_stock = atol(SK_INITIAL_STOCK);
    pref_conf_overrides(&c, SK_SOLD_OUT);
    struct sr_counts k;
    int rc = sr_load(f->c, &c, in, n, 0, NULL, NULL, &k);
    it_recs_free(in, n);
    f->orders = k.orders;
    f->shipped = k.shipped;
    f->lines = k.lines;
    f->shipped_lines = k.shipped_lines;
    return rc;
}

long sk_diff(PGconn *c, const char *what, const char *a, const char *b)
{
    return sr_diff(c, what, a, b);
}

int sk_verify(struct sinkfx *f)
{
    return sr_verify(f->c, strcmp(f->sinks, "star") != 0, strcmp(f->sinks, "oltp") != 0) +
           !sk_caught_up(f);
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
