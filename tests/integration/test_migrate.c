/*
 * test_migrate.c - `rill migrate` against the real local PostgreSQL. Every
 * test works in a schema of its own (a unique name, dropped at the end),
 * reached through the test DSN with options='-csearch_path=<schema>'. A
 * fresh apply creates every table and view and five version rows; a re-run
 * changes nothing; --status changes nothing; -c FILE migrates each distinct
 * sink dsn once; an applied migration whose bytes or name changed, a
 * version the set lacks and a pending one older than an applied one are
 * refused with nothing applied; a failing migration rolls back entirely (a
 * syntax error, and an error at run time after statements that did run)
 * while the ones before it stay, and one that commits by itself is
 * reported;
 * two runs released at once apply each migration once; the constraints
 * refuse impossible rows; lookups by order id, customer and status use an
 * index; and no output of rill migrate, success or failure, holds the
 * password.
 */
#include "schemas/migrate.h"
#include "tests/lib/pgq.h"
#include "tests/lib/proc.h"
#include "tests/lib/stack.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_SIZE 65536
#define RUN_TIMEOUT_MS 120000

static char out[OUT_SIZE];

/* The stack's DSN and its password (static storage). */
static const char *base_dsn(void)
{
    static char *dsn;
    if (!dsn)
        dsn = it_secret("pg.dsn");
    return dsn;
}

static const char *dsn_value(const char *key)
{
    static char vals[4][256];
    static int slot;
    char *b = vals[slot++ % 4];
    b[0] = '\0';
    PQconninfoOption *o = PQconninfoParse(base_dsn(), NULL);
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (!strcmp(p->keyword, key) && p->val)
            snprintf(b, sizeof vals[0], "%s", p->val);
    PQconninfoFree(o);
    return b;
}

static const char *password(void)
{
    return dsn_value("password");
}

/* One test's schema and a connection whose search_path is it. */
struct fx {
    char schema[64];
    char dsn[2048];
    PGconn *c;
};

static int fx_open(struct fx *f, const char *tag)
{
    static unsigned seq;
    snprintf(f->schema, sizeof f->schema, "it_migrate_%s_%d_%u_%d", tag, (int)getpid(), seq++,
             rand() % 100000);
    snprintf(f->dsn, sizeof f->dsn, "%s options='-csearch_path=%s'", base_dsn(), f->schema);
    PGconn *a = PQconnectdb(base_dsn());
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", f->schema);
    PGresult *r = PQexec(a, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(a);
    CU_ASSERT(ok);
    f->c = ok ? PQconnectdb(f->dsn) : NULL;
    ok = ok && PQstatus(f->c) == CONNECTION_OK;
    CU_ASSERT(ok);
    return ok;
}

static void fx_close(struct fx *f)
{
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", f->schema);
    PQsetNoticeProcessor(f->c, NULL, NULL);
    PGresult *r = PQexec(f->c, "SET client_min_messages = warning");
    PQclear(r);
    r = PQexec(f->c, sql);
    CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(f->c);
}

/* The first value of sql's first row (tests/lib/pgq.h). */
static const char *q1(PGconn *c, const char *sql)
{
    return it_pg_q1(c, sql);
}

/* The SQLSTATE of running sql ("" when it succeeded). */
static const char *sqlstate(PGconn *c, const char *sql)
{
    static char state[8][8];
    static int slot;
    char *b = state[slot++ % 8];
    PGresult *r = PQexec(c, sql);
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(b, sizeof state[0], "%s", PQresultStatus(r) == PGRES_COMMAND_OK ? "" : s ? s : "?");
    PQclear(r);
    return b;
}

static void expect_state(PGconn *c, const char *sql, const char *want)
{
    const char *got = sqlstate(c, sql);
    if (strcmp(got, want))
        fprintf(stderr, "\n  %s: SQLSTATE '%s', wanted '%s'", sql, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
}

/* `$RILL_BIN migrate a...` (NULL-terminated after at most 5), stdout and
 * stderr into out; returns the exit status (-1: did not exit). Every output
 * is checked for the password. */
static int migrate(const char *a, const char *b, const char *c, const char *d, const char *e)
{
    char log[128];
    int fd = it_tmpfile(log, sizeof log, "it-migrate");
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    pid_t pid = it_rill_spawn(log, "migrate", a, b, c, d, e, (char *)NULL);
    int st = it_rill_stop(pid, 0, RUN_TIMEOUT_MS);
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(out, 1, sizeof out - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    unlink(log);
    CU_ASSERT(strlen(password()) >= 8);
    CU_ASSERT_PTR_NULL(strstr(out, password()));
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int has(const char *needle)
{
    int ok = strstr(out, needle) != NULL;
    if (!ok)
        fprintf(stderr, "\n  no '%s' in:\n%s\n", needle, out);
    return ok;
}

/* Lines of text that begin with prefix. */
static int lines_starting(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; *p;) {
        n += !strncmp(p, prefix, strlen(prefix));
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* "version:name:checksum,..." of the version table, as the set would have it. */
static void want_versions(char *buf, size_t size, const struct rill_migration_set *s, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < s->n; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%d:%s:%s", i ? "," : "",
                                 s->v[i].version, s->v[i].name, s->v[i].checksum);
}

static const char *versions(PGconn *c)
{
    return q1(c, "SELECT coalesce(string_agg(version || ':' || name || ':' || checksum, ',' "
                 "ORDER BY version), '') FROM rill_schema_migrations");
}

/* Writes the built-in migrations into dir, byte for byte. */
static void write_set(const char *dir, const struct rill_migration_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.sql", dir, s->v[i].name);
        FILE *f = fopen(path, "wb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(fwrite(s->v[i].sql, 1, s->v[i].len, f), s->v[i].len);
        CU_ASSERT_EQUAL(fclose(f), 0);
    }
}

/* A new folder holding the built-in migrations. */
static void copy_set(char *dir, size_t size, const struct rill_migration_set *s)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, size, "it-migrate-sql"));
    write_set(dir, s);
}

static void write_file(const char *dir, const char *name, const char *mode, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, mode);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

static void remove_file(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void remove_dir(const char *dir, const struct rill_migration_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s.sql", s->v[i].name);
        remove_file(dir, name);
    }
    remove_file(dir, "0006_new.sql");
    remove_file(dir, "0006_broken.sql");
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static void embedded(struct rill_migration_set *s)
{
    char err[RILL_ERRSTR_SIZE];
    CU_ASSERT_EQUAL_FATAL(rill_migrate_set_embedded(s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(s->n, 5);
}

static const char *TABLES = "dim_customer,dim_date,dim_product,dim_store,fact_sales,"
                            "order_items,order_status_history,orders,rill_dead_letters,"
                            "rill_offsets,rill_schema_migrations,rill_star_lines,rill_star_outcome,"
                            "rill_status_pending";
static const char *VIEWS = "v_daily_revenue,v_orders_by_status,v_sales_by_category,"
                           "v_top_customers";

static void test_fresh_apply_and_rerun(void)
{
    struct rill_migration_set s;
    embedded(&s);
    struct fx f;
    if (!fx_open(&f, "fresh")) {
        rill_migrate_set_free(&s);
        return;
    }
    char sql[512], want[1024], line[128];

    /* --status on a fresh schema: all pending, nothing created. */
    CU_ASSERT_EQUAL(migrate(f.dsn, "--status", NULL, NULL, NULL), 0);
    CU_ASSERT(has("pending 0001_oltp sha256 "));
    CU_ASSERT(has("status: 0 applied, 5 pending\n"));
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT count(*) FROM information_schema.tables WHERE "
                                   "table_schema = current_schema()"), "0");

    CU_ASSERT_EQUAL(migrate(f.dsn, NULL, NULL, NULL, NULL), 0);
    snprintf(line, sizeof line, "database %s@%s:%s/%s schema %s\n", dsn_value("user"),
             dsn_value("host"), dsn_value("port"), dsn_value("dbname"), f.schema);
    CU_ASSERT(has(line));
    for (size_t i = 0; i < s.n; i++) {
        snprintf(line, sizeof line, "\napplied %s (", s.v[i].name);
        CU_ASSERT(has(line));
    }
    CU_ASSERT(has("up to date: 5 migrations, 5 applied now\n"));

    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
                                   "information_schema.tables WHERE table_schema = "
                                   "current_schema() AND table_type = 'BASE TABLE'"),
                           TABLES);
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT string_agg(viewname, ',' ORDER BY viewname) FROM "
                                   "pg_views WHERE schemaname = current_schema()"),
                           VIEWS);
    want_versions(want, sizeof want, &s, 5);
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);
    /* dim_date: every day of 2020..2035, ISO weeks across a year's end. */
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT count(*) || ' ' || min(date_key) || ' ' || "
                                   "max(date_key) FROM dim_date"),
                           "5844 20200101 20351231");
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT concat_ws(' ', calendar_date, year, quarter, month, "
                                   "month_name, day, day_of_week, day_name, iso_year, iso_week, "
                                   "is_weekend) FROM dim_date WHERE date_key = 20210101"),
                           "2021-01-01 2021 1 1 January 1 5 Friday 2020 53 f");
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT concat_ws(' ', day_name, is_weekend) FROM dim_date "
                                   "WHERE date_key = 20261205"),
                           "Saturday t");
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT count(*) FROM dim_date WHERE date_key = 20240229"),
                           "1");

    /* A re-run changes nothing: the same rows, the same applied_at. */
    snprintf(sql, sizeof sql, "SELECT string_agg(version || ' ' || applied_at::text, ',' "
                              "ORDER BY version) FROM rill_schema_migrations");
    char before[1024];
    snprintf(before, sizeof before, "%s", q1(f.c, sql));
    CU_ASSERT_EQUAL(migrate(f.dsn, NULL, NULL, NULL, NULL), 0);
    CU_ASSERT(has("up to date: 5 migrations\n"));
    CU_ASSERT_EQUAL(lines_starting(out, "applied "), 0);
    CU_ASSERT_STRING_EQUAL(q1(f.c, sql), before);
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);

    CU_ASSERT_EQUAL(migrate(f.dsn, "--status", NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(lines_starting(out, "applied 000"), 5);
    snprintf(line, sizeof line, "applied 0002_star at ");
    CU_ASSERT(has(line));
    CU_ASSERT(has("status: 5 applied, 0 pending\n"));
    CU_ASSERT_STRING_EQUAL(q1(f.c, sql), before);

    fx_close(&f);
    rill_migrate_set_free(&s);
}

/* -c FILE: two sinks on one dsn and a third on another are two databases,
 * each migrated once; a topology with a sink without a dsn is refused (dsn
 * is a required sink key). The YAML takes the dsn from a file, as a
 * deployment would (no password in the topology). */
static void test_config_file(void)
{
    struct rill_migration_set s;
    embedded(&s);
    struct fx a, b;
    int ok_a = fx_open(&a, "cfg_a"), ok_b = ok_a && fx_open(&b, "cfg_b");
    char dir[256], yaml[512], dsn_a[512], dsn_b[512], want[1024], line[256];
    if (ok_b && it_tmpdir(dir, sizeof dir, "it-migrate-cfg")) {
        snprintf(dsn_a, sizeof dsn_a, "%s/a.dsn", dir);
        snprintf(dsn_b, sizeof dsn_b, "%s/b.dsn", dir);
        snprintf(yaml, sizeof yaml, "%s/topology.yaml", dir);
        write_file(dir, "a.dsn", "w", a.dsn);
        write_file(dir, "b.dsn", "w", b.dsn);
        FILE *f = fopen(yaml, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fprintf(f,
                "application.id: it-migrate\n"
                "topics: { order_placed: {}, order_shipped: {} }\n"
                "sinks:\n"
                "  oltp: { type: postgres_oltp, inputs: [order_placed], dsn: \"${file:%s}\" }\n"
                "  star: { type: postgres_star, inputs: [order_shipped], dsn: \"${file:%s}\" }\n"
                "  other: { type: postgres_oltp, inputs: [order_placed], dsn: \"${file:%s}\" }\n",
                dsn_a, dsn_a, dsn_b);
        CU_ASSERT_EQUAL(fclose(f), 0);

        CU_ASSERT_EQUAL(migrate("-c", yaml, NULL, NULL, NULL), 0);
        snprintf(line, sizeof line, "schema %s sink oltp, star\n", a.schema);
        CU_ASSERT(has(line));
        snprintf(line, sizeof line, "schema %s sink other\n", b.schema);
        CU_ASSERT(has(line));
        CU_ASSERT_EQUAL(lines_starting(out, "database "), 2);
        CU_ASSERT_EQUAL(lines_starting(out, "applied 000"), 10);
        CU_ASSERT_EQUAL(lines_starting(out, "up to date: 5 migrations, 5 applied now"), 2);
        want_versions(want, sizeof want, &s, 5);
        CU_ASSERT_STRING_EQUAL(versions(a.c), want);
        CU_ASSERT_STRING_EQUAL(versions(b.c), want);

        CU_ASSERT_EQUAL(migrate("-c", yaml, "--status", NULL, NULL), 0);
        CU_ASSERT_EQUAL(lines_starting(out, "status: 5 applied, 0 pending"), 2);

        /* A sink without a dsn: the file is refused, where it says so. */
        f = fopen(yaml, "a");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fprintf(f, "  elsewhere: { type: postgres_oltp, inputs: [order_placed] }\n");
        CU_ASSERT_EQUAL(fclose(f), 0);
        CU_ASSERT_EQUAL(migrate("-c", yaml, NULL, NULL, NULL), 1);
        CU_ASSERT(has("topology.yaml:7:3: missing key 'dsn' in sink 'elsewhere'"));
        CU_ASSERT_EQUAL(lines_starting(out, "database "), 0);

        /* The DSN from a file: the password stays off the command line. */
        CU_ASSERT_EQUAL(migrate("--dsn-file", dsn_a, "--status", NULL, NULL), 0);
        CU_ASSERT_EQUAL(lines_starting(out, "status: 5 applied, 0 pending"), 1);
        CU_ASSERT_EQUAL(migrate("--dsn-file", dsn_a, a.dsn, NULL, NULL), 2);
        CU_ASSERT_EQUAL(migrate("--dsn-file", "/nonexistent/dsn", NULL, NULL, NULL), 1);
        CU_ASSERT(has("cannot read --dsn-file '/nonexistent/dsn'"));

        /* Usage errors. */
        CU_ASSERT_EQUAL(migrate("-c", yaml, a.dsn, NULL, NULL), 2);
        CU_ASSERT_EQUAL(migrate("--dir", NULL, NULL, NULL, NULL), 2);
        CU_ASSERT_EQUAL(migrate(a.dsn, "--bogus", NULL, NULL, NULL), 2);

        unlink(dsn_a);
        unlink(dsn_b);
        unlink(yaml);
        CU_ASSERT_EQUAL(rmdir(dir), 0);
    }
    if (ok_b)
        fx_close(&b);
    if (ok_a)
        fx_close(&a);
    rill_migrate_set_free(&s);
}

/* A changed applied migration, a version the set lacks, and a pending one
 * older than an applied one: refused, with nothing new applied. */
static void test_refused(void)
{
    struct rill_migration_set s;
    embedded(&s);
    struct fx f;
    char dir[256], want[1024], msg[512];
    if (!fx_open(&f, "tamper")) {
        rill_migrate_set_free(&s);
        return;
    }
    copy_set(dir, sizeof dir, &s);
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 0);
    want_versions(want, sizeof want, &s, 5);
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);

    /* One applied file changed by one comment line, and a new one added. */
    const char *extra = "-- an innocent-looking edit\n";
    write_file(dir, "0002_star.sql", "a", extra);
    write_file(dir, "0006_new.sql", "w", "-- 0006_new.sql - a table t5.\nCREATE TABLE t5 (id int);\n");
    size_t len = s.v[1].len + strlen(extra);
    char *changed = malloc(len + 1), hex[RILL_MIGRATE_SHA256_HEX];
    CU_ASSERT_PTR_NOT_NULL_FATAL(changed);
    memcpy(changed, s.v[1].sql, s.v[1].len);
    memcpy(changed + s.v[1].len, extra, strlen(extra));
    rill_migrate_checksum(changed, len, hex);
    free(changed);
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 1);
    snprintf(msg, sizeof msg,
             "migration 0002_star was changed after it was applied: checksum %.12s in the "
             "database, %.12s in the file; refused, nothing applied",
             s.v[1].checksum, hex);
    CU_ASSERT(has(msg));
    CU_ASSERT_EQUAL(lines_starting(out, "applied "), 0);
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT to_regclass('t5') IS NULL"), "t");
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, "--status", NULL), 1);
    CU_ASSERT(has("changed 0002_star at "));
    CU_ASSERT(has("pending 0006_new sha256 "));

    /* The set without 0004 (and without the change): version 4 is unknown. */
    write_set(dir, &s);
    remove_file(dir, "0004_rill.sql");
    write_file(dir, "0006_new.sql", "w", "CREATE TABLE t5 (id int);\n");
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 1);
    CU_ASSERT(has("version 4 (0004_rill, applied "));
    CU_ASSERT(has("is in the database but not in this set of migrations; refused, nothing applied"));
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT to_regclass('t5') IS NULL"), "t");

    /* 0004 under another name, its bytes unchanged. */
    remove_file(dir, "0006_new.sql");
    write_file(dir, "0004_rill_tables.sql", "w", s.v[3].sql);
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 1);
    CU_ASSERT(has("version 4 was applied as 0004_rill but the set names it 0004_rill_tables; "
                  "refused, nothing applied"));
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);
    remove_file(dir, "0004_rill_tables.sql");
    remove_dir(dir, &s);
    fx_close(&f);

    /* 0001, 0002, 0004 and 0005 applied, then 0003 shows up: out of order. */
    if (fx_open(&f, "order")) {
        copy_set(dir, sizeof dir, &s);
        remove_file(dir, "0003_views.sql");
        CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 0);
        CU_ASSERT(has("up to date: 4 migrations, 4 applied now\n"));
        write_set(dir, &s);
        CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 1);
        CU_ASSERT(has("migration 0003_views is pending but a later version is applied already; "
                      "refused, nothing applied"));
        CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT string_agg(version::text, ',' ORDER BY version) "
                                       "FROM rill_schema_migrations"), "1,2,4,5");
        CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT count(*) FROM pg_views WHERE schemaname = "
                                       "current_schema()"), "0");
        remove_dir(dir, &s);
        fx_close(&f);
    }
    rill_migrate_set_free(&s);
}

/* A failing migration rolls back entirely; the ones before it stay. */
static void test_broken(void)
{
    struct rill_migration_set s;
    embedded(&s);
    struct fx f;
    char dir[256], want[1024];
    if (!fx_open(&f, "broken")) {
        rill_migrate_set_free(&s);
        return;
    }
    copy_set(dir, sizeof dir, &s);
    want_versions(want, sizeof want, &s, 5);

    /* A syntax error after a valid CREATE TABLE. PostgreSQL parses the
     * whole file before it runs any of it, so this fails before the CREATE
     * ran; the run-time error below is the case that does undo work. */
    write_file(dir, "0006_broken.sql", "w",
               "-- 0006_broken.sql - a table, then nonsense.\n"
               "CREATE TABLE broken_half (id int);\n"
               "SELEC 1;\n");
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 1);
    CU_ASSERT(has("applied 0004_rill ("));
    CU_ASSERT(has("migration 0006_broken.sql failed at line 3: syntax error at or near "
                  "\"SELEC\" [SQLSTATE 42601]; rolled back, nothing of it applied"));
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT to_regclass('broken_half') IS NULL"), "t");

    /* An error at run time, after a CREATE TABLE and an INSERT that ran. */
    write_file(dir, "0006_broken.sql", "w",
               "CREATE TABLE broken_half (id int);\n"
               "INSERT INTO broken_half VALUES (1);\n"
               "INSERT INTO no_such_table VALUES (1);\n");
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 1);
    CU_ASSERT(has("migration 0006_broken.sql failed at line 3: relation \"no_such_table\" does "
                  "not exist [SQLSTATE 42P01]; rolled back"));
    CU_ASSERT_EQUAL(lines_starting(out, "applied "), 0);
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT to_regclass('broken_half') IS NULL"), "t");

    /* Fixed, it applies, alone. */
    write_file(dir, "0006_broken.sql", "w",
               "CREATE TABLE broken_half (id int);\nINSERT INTO broken_half VALUES (1);\n");
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 0);
    CU_ASSERT_EQUAL(lines_starting(out, "applied "), 1);
    CU_ASSERT(has("applied 0006_broken ("));
    CU_ASSERT(has("up to date: 6 migrations, 1 applied now\n"));
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT count(*) FROM broken_half"), "1");
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT max(version) FROM rill_schema_migrations"), "6");

    /* A migration that commits by itself is reported, and not recorded. */
    write_file(dir, "0007_commits.sql", "w", "CREATE TABLE t7 (id int);\nCOMMIT;\n");
    CU_ASSERT_EQUAL(migrate(f.dsn, "--dir", dir, NULL, NULL), 1);
    CU_ASSERT(has("migration 0007_commits.sql ended its transaction itself"));
    CU_ASSERT_STRING_EQUAL(q1(f.c, "SELECT max(version) FROM rill_schema_migrations"), "6");
    remove_file(dir, "0007_commits.sql");

    remove_dir(dir, &s);
    fx_close(&f);
    rill_migrate_set_free(&s);
}

/* Two runs released at once on a fresh schema: the test holds the advisory
 * lock the runner takes until both runners wait for it (pg_locks shows
 * them), then lets go; each migration is applied by exactly one of them
 * and both exit 0. */
static void test_concurrent(void)
{
    struct rill_migration_set s;
    embedded(&s);
    struct fx f;
    char want[1024], sql[512], logs[2][128], texts[2][8192];
    if (!fx_open(&f, "race")) {
        rill_migrate_set_free(&s);
        return;
    }
    snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d, hashtext('%s'))",
             RILL_MIGRATE_LOCK_KEY, f.schema);
    CU_ASSERT_STRING_EQUAL(q1(f.c, sql), "");
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        int fd = it_tmpfile(logs[i], sizeof logs[i], "it-migrate-race");
        CU_ASSERT_FATAL(fd >= 0);
        close(fd);
        pids[i] = it_rill_spawn(logs[i], "migrate", f.dsn, (char *)NULL);
    }
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND "
             "classid = %d AND objid = (hashtext('%s')::bigint & 4294967295)::oid AND "
             "objsubid = 2",
             RILL_MIGRATE_LOCK_KEY, f.schema);
    int64_t deadline = it_now_ms() + 30000;
    int waiting = 0;
    /* Each look is a round trip to the server, which paces the loop. */
    while (!(waiting = !strcmp(q1(f.c, sql), "2")) && it_now_ms() < deadline)
        ;
    CU_ASSERT(waiting);
    snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d, hashtext('%s'))",
             RILL_MIGRATE_LOCK_KEY, f.schema);
    CU_ASSERT_STRING_EQUAL(q1(f.c, sql), "t");
    int applied = 0;
    for (int i = 0; i < 2; i++) {
        int st = it_rill_stop(pids[i], 0, RUN_TIMEOUT_MS);
        CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        FILE *fl = fopen(logs[i], "r");
        size_t n = fl ? fread(texts[i], 1, sizeof texts[i] - 1, fl) : 0;
        texts[i][n] = '\0';
        if (fl)
            fclose(fl);
        unlink(logs[i]);
        applied += lines_starting(texts[i], "applied 000");
        CU_ASSERT_PTR_NOT_NULL(strstr(texts[i], "up to date: 5 migrations"));
        CU_ASSERT_PTR_NULL(strstr(texts[i], password()));
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
            fprintf(stderr, "\n  run %d:\n%s\n", i, texts[i]);
    }
    CU_ASSERT_EQUAL(applied, 5);
    want_versions(want, sizeof want, &s, 5);
    CU_ASSERT_STRING_EQUAL(versions(f.c), want);
    fx_close(&f);
    rill_migrate_set_free(&s);
}

/* Applies the built-in set through the library, as a sink's test would. */
static int apply_lib(struct fx *f)
{
    struct rill_migration_set s;
    char err[RILL_ERRSTR_SIZE], where[256];
    PGconn *c = NULL;
    size_t now = 0;
    embedded(&s);
    rill_err_t e = rill_migrate_connect(f->dsn, &c, where, sizeof where, err, sizeof err);
    if (e == RILL_OK)
        e = rill_migrate_apply(c, &s, NULL, NULL, &now, err, sizeof err);
    if (e != RILL_OK)
        fprintf(stderr, "\n  %s\n", err);
    CU_ASSERT_EQUAL(e, RILL_OK);
    CU_ASSERT_EQUAL(now, 5);
    CU_ASSERT_PTR_NULL(strstr(err, password()));
    PQfinish(c);
    rill_migrate_set_free(&s);
    return e == RILL_OK;
}

static void test_constraints(void)
{
    struct fx f;
    if (!fx_open(&f, "check"))
        return;
    if (!apply_lib(&f)) {
        fx_close(&f);
        return;
    }
    PGconn *c = f.c;
    const char *order = "INSERT INTO orders (order_id, customer_id, location_id, status, total, "
                        "currency, created_at, updated_at) VALUES ";
    char sql[1024];
    snprintf(sql, sizeof sql, "%s('o-1', 'c-1', 'store-1', 1000, 24.68, 'EUR', "
                              "'2026-12-01 10:00Z', '2026-12-01 10:00Z')", order);
    expect_state(c, sql, "");
    expect_state(c, "INSERT INTO order_items VALUES ('o-1', 1, 'p-1', 'books', 2, 12.34)", "");
    expect_state(c, "INSERT INTO order_status_history (order_id, status, reason, at, topic, "
                    "partition, kafka_offset) VALUES ('o-1', 1000, NULL, now(), 'order_placed', "
                    "0, 7)", "");

    /* Impossible data: check_violation 23514, foreign_key_violation 23503,
     * unique_violation 23505. */
    expect_state(c, "INSERT INTO order_items VALUES ('o-1', 2, 'p-2', '', -1, 1)", "23514");
    expect_state(c, "INSERT INTO order_items VALUES ('o-1', 2, 'p-2', '', 0, 1)", "23514");
    expect_state(c, "INSERT INTO order_items VALUES ('o-1', 2, 'p-2', '', 1, -0.0001)", "23514");
    expect_state(c, "INSERT INTO order_items VALUES ('o-1', 0, 'p-2', '', 1, 1)", "23514");
    expect_state(c, "INSERT INTO order_items VALUES ('no-such-order', 1, 'p-2', '', 1, 1)",
                 "23503");
    expect_state(c, "INSERT INTO order_items VALUES ('o-1', 1, 'p-9', '', 1, 1)", "23505");
    snprintf(sql, sizeof sql, "%s('o-2', 'c-1', 'store-1', 1234, 1, 'EUR', now(), now())", order);
    expect_state(c, sql, "23514");
    snprintf(sql, sizeof sql, "%s('o-2', 'c-1', 'store-1', 1000, -0.01, 'EUR', now(), now())",
             order);
    expect_state(c, sql, "23514");
    snprintf(sql, sizeof sql, "%s('o-2', 'c-1', 'store-1', 1000, 1, 'eur', now(), now())", order);
    expect_state(c, sql, "23514");
    snprintf(sql, sizeof sql, "%s('o-2', 'c-1', 'store-1', 1000, 1, 'EUR', now(), "
                              "now() - interval '1 second')", order);
    expect_state(c, sql, "23514");
    expect_state(c, "UPDATE orders SET status = 1500 WHERE order_id = 'o-1'", "23514");
    expect_state(c, "INSERT INTO order_status_history (order_id, status, at, topic, partition, "
                    "kafka_offset) VALUES ('o-1', 1111, now(), 'order_status', 0, 1)", "23514");
    expect_state(c, "INSERT INTO order_status_history (order_id, status, at, topic, partition, "
                    "kafka_offset) VALUES ('no-such-order', 1900, now(), 'order_status', 0, 1)",
                 "23503");
    expect_state(c, "INSERT INTO order_status_history (order_id, status, at, topic, partition, "
                    "kafka_offset) VALUES ('o-1', 1300, now(), 'order_placed', 0, 7)", "23505");

    /* The star schema, and what its views say about one fact. */
    expect_state(c, "INSERT INTO dim_customer (customer_id) VALUES ('c-1')", "");
    expect_state(c, "INSERT INTO dim_customer (customer_id) VALUES ('c-1')", "23505");
    expect_state(c, "INSERT INTO dim_product (product_id, category) VALUES ('p-1', 'books')", "");
    expect_state(c, "INSERT INTO dim_store (location_id) VALUES ('store-1')", "");
    const char *fact = "INSERT INTO fact_sales (order_id, line, date_key, customer_key, "
                       "product_key, store_key, quantity, unit_price, revenue, currency) SELECT "
                       "'o-1', ";
    const char *keys = "(SELECT customer_key FROM dim_customer), (SELECT product_key FROM "
                       "dim_product), (SELECT store_key FROM dim_store)";
    snprintf(sql, sizeof sql, "%s1, 20261201, %s, 2, 12.34, 24.68, 'EUR'", fact, keys);
    expect_state(c, sql, "");
    snprintf(sql, sizeof sql, "%s1, 20261201, %s, 2, 12.34, 24.68, 'EUR'", fact, keys);
    expect_state(c, sql, "23505");
    snprintf(sql, sizeof sql, "%s2, 20261201, %s, 2, 12.34, 24.00, 'EUR'", fact, keys);
    expect_state(c, sql, "23514");
    snprintf(sql, sizeof sql, "%s2, 20361201, %s, 2, 12.34, 24.68, 'EUR'", fact, keys);
    expect_state(c, sql, "23503");
    snprintf(sql, sizeof sql, "%s2, 20261201, %s, -2, 12.34, -24.68, 'EUR'", fact, keys);
    expect_state(c, sql, "23514");
    expect_state(c, "INSERT INTO fact_sales (order_id, line, date_key, customer_key, "
                    "product_key, store_key, quantity, unit_price, revenue, currency) VALUES "
                    "('o-1', 2, 20261201, 999, 999, 999, 1, 1, 1, 'EUR')", "23503");
    CU_ASSERT_STRING_EQUAL(q1(c, "SELECT concat_ws(' ', date, currency, orders, units, revenue) "
                                 "FROM v_daily_revenue"),
                           "2026-12-01 EUR 1 2 24.6800");
    CU_ASSERT_STRING_EQUAL(q1(c, "SELECT concat_ws(' ', category, orders, units, revenue) FROM "
                                 "v_sales_by_category"),
                           "books 1 2 24.6800");
    CU_ASSERT_STRING_EQUAL(q1(c, "SELECT concat_ws(' ', customer_id, orders, revenue, "
                                 "revenue_rank) FROM v_top_customers"),
                           "c-1 1 24.6800 1");
    CU_ASSERT_STRING_EQUAL(q1(c, "SELECT string_agg(status || ' ' || name || ' ' || orders, ',' "
                                 "ORDER BY status) FROM v_orders_by_status"),
                           "1000 Open 1,1100 Paid 0,1150 Payment rejected 0,1200 Reserved 0,"
                           "1250 Out of stock 0,1300 Shipped 0,1900 Cancelled 0");

    /* rill's own tables. */
    expect_state(c, "INSERT INTO rill_offsets (group_id, topic, partition, epoch, next_offset) "
                    "VALUES ('g', 't', 0, 1, 42)", "");
    expect_state(c, "INSERT INTO rill_offsets (group_id, topic, partition, next_offset) VALUES "
                    "('g', 't', 0, 43)", "23505");
    expect_state(c, "INSERT INTO rill_offsets (group_id, topic, partition, next_offset) VALUES "
                    "('g', 't', 1, -1)", "23514");
    expect_state(c, "INSERT INTO rill_dead_letters (group_id, topic, partition, kafka_offset, "
                    "sink, reason, payload) VALUES ('g', 't', 0, 5, 'oltp', 'check', '\\x00ff')",
                 "");
    expect_state(c, "INSERT INTO rill_dead_letters (group_id, topic, partition, kafka_offset, "
                    "sink, reason) VALUES ('g', 't', 0, 5, 'oltp', 'again')", "23505");
    fx_close(&f);
}

/* The plans of lookups by order id, customer and status, with statistics
 * from ANALYZE over 5,000 orders (most shipped, 2% cancelled, 0.4% open):
 * the planner's own choice, not forced with enable_seqscan = off. */
static void test_explain_uses_indexes(void)
{
    struct fx f;
    if (!fx_open(&f, "explain"))
        return;
    if (!apply_lib(&f)) {
        fx_close(&f);
        return;
    }
    expect_state(f.c, "INSERT INTO orders (order_id, customer_id, location_id, status, total, "
                      "currency, created_at, updated_at) SELECT 'o-' || i, 'c-' || (i % 500), "
                      "'store-' || (i % 40), CASE WHEN i % 250 = 0 THEN 1000 WHEN i % 50 = 0 "
                      "THEN 1900 ELSE 1300 END, i, 'EUR', now(), now() FROM generate_series(1, "
                      "5000) AS i", "");
    expect_state(f.c, "ANALYZE orders", "");
    struct {
        const char *query, *index;
    } cases[] = {
        { "SELECT * FROM orders WHERE order_id = 'o-1234'", "orders_pkey" },
        { "SELECT * FROM orders WHERE customer_id = 'c-7'", "orders_customer_idx" },
        { "SELECT * FROM orders WHERE status = 1000", "orders_status_idx" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "EXPLAIN (COSTS OFF) %s", cases[i].query);
        PGresult *r = PQexec(f.c, sql);
        CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_TUPLES_OK);
        char plan[2048] = "";
        for (int j = 0; j < PQntuples(r); j++) {
            strncat(plan, PQgetvalue(r, j, 0), sizeof plan - strlen(plan) - 2);
            strcat(plan, "\n");
        }
        PQclear(r);
        int index = strstr(plan, "Index Scan") != NULL || strstr(plan, "Bitmap Index Scan");
        int named = strstr(plan, cases[i].index) != NULL;
        if (!index || !named || strstr(plan, "Seq Scan"))
            fprintf(stderr, "\n  %s:\n%s", cases[i].query, plan);
        CU_ASSERT(index);
        CU_ASSERT(named);
        CU_ASSERT_PTR_NULL(strstr(plan, "Seq Scan"));
    }
    fx_close(&f);
}

/* The password appears in no output, whatever fails: a wrong password in
 * key=value form and in a URI, a DSN libpq cannot parse. (Each migrate()
 * checks the real password; these check the wrong one too.) */
static void test_password_never_printed(void)
{
    const char *wrong = "not-the-right-one-4711";
    char dsn[2048];
    snprintf(dsn, sizeof dsn, "host=%s port=%s dbname=%s user=%s password=%s connect_timeout=10",
             dsn_value("host"), dsn_value("port"), dsn_value("dbname"), dsn_value("user"), wrong);
    CU_ASSERT_EQUAL(migrate(dsn, NULL, NULL, NULL, NULL), 1);
    CU_ASSERT(has("password authentication failed"));
    CU_ASSERT(has("cannot connect to "));
    CU_ASSERT_PTR_NULL(strstr(out, wrong));

    snprintf(dsn, sizeof dsn, "postgresql://%s:%s@%s:%s/%s?connect_timeout=10",
             dsn_value("user"), wrong, dsn_value("host"), dsn_value("port"), dsn_value("dbname"));
    CU_ASSERT_EQUAL(migrate(dsn, "--status", NULL, NULL, NULL), 1);
    CU_ASSERT(has("password authentication failed"));
    CU_ASSERT_PTR_NULL(strstr(out, wrong));

    /* libpq would quote "junk" and what is around it. */
    snprintf(dsn, sizeof dsn, "%s junk", base_dsn());
    CU_ASSERT_EQUAL(migrate(dsn, NULL, NULL, NULL, NULL), 1);
    CU_ASSERT(has("cannot parse the connection string"));
    CU_ASSERT_PTR_NULL(strstr(out, "junk"));

    /* And a success: migrate() checks its output for the real password. */
    struct fx f;
    if (fx_open(&f, "pw")) {
        CU_ASSERT_EQUAL(migrate(f.dsn, NULL, NULL, NULL, NULL), 0);
        CU_ASSERT(has("up to date: 5 migrations, 5 applied now\n"));
        fx_close(&f);
    }
}

static CU_TestInfo tests[] = {
    { "fresh apply creates every table and view; a re-run and --status change nothing",
      test_fresh_apply_and_rerun },
    { "-c FILE migrates each distinct sink dsn once", test_config_file },
    { "changed, unknown and out-of-order migrations are refused, nothing applied", test_refused },
    { "a failing migration rolls back entirely; the ones before it stay", test_broken },
    { "two runs at once apply each migration once, both exit 0", test_concurrent },
    { "constraints refuse impossible rows; the views answer", test_constraints },
    { "lookups by order id, customer and status use an index", test_explain_uses_indexes },
    { "the password is never printed, success or failure", test_password_never_printed },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("migrate", tests)
