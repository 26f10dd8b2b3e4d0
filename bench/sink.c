/*
 * sink.c - `make bench-sink`: the postgres_oltp sink's throughput into the
 * OLTP tables (orders, order_items, order_status_history), side by side in
 * one run on the local stack with two ways of writing the same rows into
 * the same PostgreSQL:
 *
 *   sink    `rill run` of a sink-only topology (one postgres_oltp sink, the
 *           pg_sink Kafka user, batch.size 5,000) over BENCH_SINK_ORDERS
 *           order_placed records (default 50,000, 6 partitions, written
 *           once by `rill generate`); timed from the process start until
 *           the sum of its group's rill_offsets reaches the topic's end
 *           offsets, one query per look, every 20 ms;
 *   copy    the same records, read into memory first, decoded by the bench
 *           with the same serde into the same final row values and COPY'd
 *           (text format) into the same tables, one transaction of three
 *           COPYs per 5,000 records; timed from the first decode to the
 *           last COMMIT;
 *   insert  the rows of the first BENCH_SINK_INSERT_ORDERS records (default
 *           5,000), one autocommit single-row INSERT (PQexecParams) each.
 *
 * Every contender writes into a fresh schema migrated by `rill migrate`, so
 * tables, indexes, foreign keys and checks are the sink's own. BENCH_RUNS
 * rounds (default 3) run the three in turn; the report gives medians and
 * the spread. CPU is read from /proc: the rill process (user + system, its
 * whole life up to the moment it caught up), the bench itself for copy and
 * insert (its thread's CPU over the timed part), the PostgreSQL backend
 * serving the contender, the server's background processes (WAL writer,
 * checkpointer, autovacuum, ...) and the whole PostgreSQL server (the
 * postmaster, every child, and the children it reaped) over the window,
 * which also holds everybody else's work on the shared server; the noise of
 * each window goes into the report. A contender's run during which
 * PostgreSQL went away or restarted is run again, up to 3 tries, and listed.
 * Writes bench/results/sink.md, then deletes its topic. Not a test: nothing
 * asserts.
 */
#include "tests/lib/proc.h"
#include "tests/lib/util.h"
#include "processors/sink.h"
#include "schemas/serde.h"

#include <dirent.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PARTITIONS 6
#define BATCH 5000        /* the sink's batch.size, and the COPY transaction's records */
#define LINGER_MS 100     /* the sink's linger.ms (its default) */
#define POLL_MS 20        /* between two looks at rill_offsets */
#define MAXRUNS 9
#define ATTEMPTS 3        /* tries of one contender in one round */
#define GEN_SEED "11"

static char dir[64], app[64], topic[128], base_dsn[1024];
static long nrecs, ninsert, runs;
static struct it_rec *recs;
static long rows_all, rows_insert;
static unsigned seq;

/* ---- /proc --------------------------------------------------------------------- */

static double ticks_ms(long t)
{
    return (double)t * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* CPU ms of pid so far (its threads included); -1 when it is gone. */
static double cpu_ms(int pid)
{
    struct it_pstat ps;
    return pid > 0 && !it_proc_stat(pid, &ps) ? ticks_ms(ps.utime + ps.stime) : -1;
}

/* CPU ms of the whole PostgreSQL server: the postmaster, the children it
 * reaped, and every live child. */
static double server_cpu_ms(int postmaster)
{
    struct it_pstat ps;
    if (postmaster <= 0 || it_proc_stat(postmaster, &ps))
        return -1;
    long t = ps.utime + ps.stime + ps.cutime + ps.cstime;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        struct it_pstat c;
        if (pid > 0 && !it_proc_stat(pid, &c) && c.ppid == postmaster)
            t += c.utime + c.stime;
    }
    if (d)
        closedir(d);
    return ticks_ms(t);
}

/* The server's background processes: the postmaster's children that are
 * not client backends (a backend's title names its client's host(port)):
 * checkpointer, background writer, WAL writer, autovacuum launcher and
 * workers. */
#define MAXBG 64
struct bg {
    int n, pid[MAXBG];
    double ms[MAXBG];
};

static void bg_snapshot(int postmaster, struct bg *b)
{
    b->n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && b->n < MAXBG) {
        int pid = atoi(e->d_name);
        struct it_pstat c;
        if (pid <= 0 || it_proc_stat(pid, &c) || c.ppid != postmaster)
            continue;
        char path[64], title[256] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
        FILE *f = fopen(path, "r");
        size_t len = f ? fread(title, 1, sizeof title - 1, f) : 0;
        if (f)
            fclose(f);
        title[len] = '\0';
        if (len && !memchr(title, '(', len)) {
            b->pid[b->n] = pid;
            b->ms[b->n++] = ticks_ms(c.utime + c.stime);
        }
    }
    if (d)
        closedir(d);
}

/* CPU ms the background processes spent between a and b (one that started
 * in between counts whole; one that ended in between is lost). */
static double bg_delta(const struct bg *a, const struct bg *b)
{
    double t = 0;
    for (int i = 0; i < b->n; i++) {
        t += b->ms[i];
        for (int k = 0; k < a->n; k++)
            if (a->pid[k] == b->pid[i])
                t -= a->ms[k];
    }
    return t;
}

/* The machine's busy CPU ms (all cores) from /proc/stat, and in *steal the
 * time the hypervisor gave to others (part of busy). */
static double machine_busy_ms(double *steal)
{
    FILE *f = fopen("/proc/stat", "r");
    long long v[8] = { 0 };
    int n = f ? fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7]) : 0;
    if (f)
        fclose(f);
    if (n != 8)
        return -1;
    *steal = ticks_ms((long)v[7]);
    return ticks_ms((long)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]));
}

static int broker_pid(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/kafka/kafka.pid", it_stack_dir());
    char *s = it_read_file(path, NULL);
    int pid = s ? atoi(s) : -1;
    free(s);
    return pid;
}

/* Other processes that load the machine: rill instances and test binaries
 * that are not this bench's. */
static int others_running(int mine)
{
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid = atoi(e->d_name);
        if (pid <= 0 || pid == mine || pid == (int)getpid())
            continue;
        char path[64], comm[64] = "";
        snprintf(path, sizeof path, "/proc/%d/comm", pid);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(comm, sizeof comm, f))
                comm[0] = '\0';
            fclose(f);
        }
        comm[strcspn(comm, "\n")] = '\0';
        n += !strcmp(comm, "rill") || !strcmp(comm, "integration_tes") ||
             !strcmp(comm, "unit_tests");
    }
    if (d)
        closedir(d);
    return n;
}

static double load1(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l = -1;
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* ---- PostgreSQL ------------------------------------------------------------------ */

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf(stderr, "bench: %.120s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok;
}

/* The first value of sql's first row, into buf ("" when none or failed). */
static const char *q1(PGconn *c, const char *sql, char *buf, size_t size)
{
    PGresult *r = PQexec(c, sql);
    snprintf(buf, size, "%s",
             PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) && !PQgetisnull(r, 0, 0)
                 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return buf;
}

static long qn(PGconn *c, const char *sql)
{
    char b[64];
    const char *v = q1(c, sql, b, sizeof b);
    return *v ? atol(v) : -1;
}

/* Waits up to 180 s for PostgreSQL to take a connection (another tier's
 * tests stop and start it); 0 when it does. */
static int pg_wait(void)
{
    for (int i = 0; i < 180; i++) {
        PGconn *a = PQconnectdb(base_dsn);
        int up = PQstatus(a) == CONNECTION_OK;
        PQfinish(a);
        if (up)
            return 0;
        if (!i)
            fprintf(stderr, "bench: waiting for PostgreSQL\n");
        sleep_ms(1000);
    }
    return -1;
}

/* Writes text and a newline to a new file only its owner reads (a DSN
 * holds the password). */
static int write_secret(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int bad = fprintf(f, "%s\n", text) < 0;
    return fclose(f) || bad ? -1 : 0;
}

/* A fresh schema migrated by `rill migrate`, with its DSN file. */
struct schema {
    char name[64], dsnfile[160], dsn[1400];
};

static int schema_new(struct schema *s, const char *tag)
{
    snprintf(s->name, sizeof s->name, "bench_sink_%d_%s_%u", (int)getpid(), tag, seq++);
    snprintf(s->dsnfile, sizeof s->dsnfile, "%s/%s.dsn", dir, s->name);
    snprintf(s->dsn, sizeof s->dsn, "%s options='-csearch_path=%s'", base_dsn, s->name);
    PGconn *a = PQconnectdb(base_dsn);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", s->name);
    int ok = PQstatus(a) == CONNECTION_OK && exec_ok(a, sql);
    if (PQstatus(a) != CONNECTION_OK)
        fprintf(stderr, "bench: cannot connect: %s", PQerrorMessage(a));
    PQfinish(a);
    if (!ok || write_secret(s->dsnfile, s->dsn))
        return -1;
    char out[4096];
    if (it_rill_exec3(out, sizeof out, 120000, "migrate", "--dsn-file", s->dsnfile, NULL)) {
        fprintf(stderr, "bench: rill migrate: %s\n", out);
        return -1;
    }
    return 0;
}

static void schema_drop(const struct schema *s)
{
    if (getenv("RILL_KEEP_SCHEMA") || pg_wait())
        return;
    PGconn *a = PQconnectdb(base_dsn);
    char sql[128];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", s->name);
    if (PQstatus(a) == CONNECTION_OK) {
        exec_ok(a, "SET client_min_messages = warning");
        exec_ok(a, sql);
    }
    PQfinish(a);
}

static PGconn *connect_schema(const struct schema *s)
{
    PGconn *c = PQconnectdb(s->dsn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench: cannot connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, NULL, NULL);
    return c;
}

/* The postmaster: the parent of c's backend. */
static int postmaster_of(PGconn *c)
{
    struct it_pstat ps;
    return c && !it_proc_stat(PQbackendPID(c), &ps) ? ps.ppid : -1;
}

/* Rows in the three tables. */
static long rows_in(PGconn *c)
{
    return qn(c, "SELECT (SELECT count(*) FROM orders) + (SELECT count(*) FROM order_items) + "
                 "(SELECT count(*) FROM order_status_history)");
}

/* ---- the row values ------------------------------------------------------------------ */

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 20;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            fprintf(stderr, "bench: out of memory\n");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* One COPY text field (NULL: \N), then a tab or, when last, a newline. */
static void field(struct buf *b, const char *v, int last)
{
    if (!v) {
        put(b, "\\N", 2);
    } else {
        for (const char *s = v; *s;) {
            size_t plain = strcspn(s, "\\\t\n\r");
            put(b, s, plain);
            s += plain;
            if (!*s)
                break;
            const char *esc = *s == '\\' ? "\\\\" : *s == '\t' ? "\\t" : *s == '\n' ? "\\n" : "\\r";
            put(b, esc, 2);
            s++;
        }
    }
    put(b, last ? "\n" : "\t", 1);
}

/* The final values the sink leaves for one order_placed record: the order
 * (status 1000, updated_at = created_at, last_* = the record's coordinates:
 * what its UPDATE of the current status sets), the lines, the history row. */
struct order_rows {
    const char *order[11];  /* order_id customer_id location_id status total currency
                             * created_at updated_at last_topic last_partition last_offset */
    const char *hist[6];    /* order_id status at topic partition kafka_offset */
    char total[RILL_SINK_FMT_SIZE], at[RILL_SINK_FMT_SIZE], part[RILL_SINK_FMT_SIZE],
        off[RILL_SINK_FMT_SIZE];
};

static int order_rows(rill_serde_t *s, const struct it_rec *r, rill_event_t *ev,
                      struct order_rows *o)
{
    char err[RILL_ERRSTR_SIZE];
    rill_event_clear(ev);
    if (rill_serde_decode(s, r->key, r->key_len, r->value, r->value_len, ev, err, sizeof err) ||
        ev->type != RILL_EVENT_ORDER_PLACED) {
        fprintf(stderr, "bench: %s/%d@%lld does not decode as order_placed: %s\n", topic,
                (int)r->partition, (long long)r->offset, err);
        return -1;
    }
    const rill_order_placed_t *p = &ev->u.order;
    rill_sink_fmt_e4(o->total, p->total_e4);
    rill_sink_fmt_ms(o->at, p->event_time);
    rill_sink_fmt_int(o->part, r->partition);
    rill_sink_fmt_int(o->off, r->offset);
    const char *ord[11] = { p->order_id, p->customer_id, p->location_id, "1000", o->total,
                            p->currency, o->at, o->at, topic, o->part, o->off };
    const char *h[6] = { p->order_id, "1000", o->at, topic, o->part, o->off };
    memcpy(o->order, ord, sizeof ord);
    memcpy(o->hist, h, sizeof h);
    return 0;
}

/* The values of line k (0-based) of ev's order, into vals[6]; the numbers in n. */
static void item_row(const rill_event_t *ev, size_t k, const char *vals[6],
                     char n[3][RILL_SINK_FMT_SIZE])
{
    const rill_order_placed_t *p = &ev->u.order;
    const rill_order_item_t *it = &p->items[k];
    vals[0] = p->order_id;
    vals[1] = rill_sink_fmt_int(n[0], (int64_t)k + 1);
    vals[2] = it->product_id;
    vals[3] = it->category ? it->category : "";
    vals[4] = rill_sink_fmt_int(n[1], it->quantity);
    vals[5] = rill_sink_fmt_e4(n[2], it->unit_price_e4);
}

/* ---- results -------------------------------------------------------------------------- */

struct result {
    long rows;
    double secs;          /* from start to done */
    double rps;           /* rows / secs */
    double steady_rps;    /* rows after the first batch / time after it; 0: one batch */
    double first_s;       /* from start to the first batch committed */
    double client_cpu_ms; /* rill, or the bench thread */
    double backend_cpu_ms;
    double bg_cpu_ms;     /* the server's background processes over the window */
    double pg_cpu_ms;     /* backend + background */
    double server_cpu_ms; /* every PostgreSQL process over the window */
    double broker_cpu_ms;
    double busy_ms;       /* the machine, all cores, over the window */
    double steal_ms;      /* of which stolen by the hypervisor */
    double load_start, load_end;
    int others;           /* other rill / test processes seen at start or end */
    int round;            /* 1-based */
};

static struct bg bg0;
static double steal0;

static void window_start(struct result *r, int postmaster, double *srv0, double *brk0,
                         double *busy0, int mine)
{
    r->load_start = load1();
    bg_snapshot(postmaster, &bg0);
    r->others = others_running(mine);
    *srv0 = server_cpu_ms(postmaster);
    *brk0 = cpu_ms(broker_pid());
    *busy0 = machine_busy_ms(&steal0);
}

static void window_end(struct result *r, int postmaster, double srv0, double brk0, double busy0,
                       int mine)
{
    struct bg bg1;
    bg_snapshot(postmaster, &bg1);
    r->bg_cpu_ms = bg_delta(&bg0, &bg1);
    r->server_cpu_ms = server_cpu_ms(postmaster) - srv0;
    r->broker_cpu_ms = cpu_ms(broker_pid()) - brk0;
    double steal1 = 0;
    r->busy_ms = machine_busy_ms(&steal1) - busy0;
    r->steal_ms = steal1 - steal0;
    r->load_end = load1();
    int o = others_running(mine);
    if (o > r->others)
        r->others = o;
}

/* ---- contender: the sink ------------------------------------------------------------------- */

/* Records of partition p below offset next, as rows. */
struct pmap {
    long n;
    int64_t *off;
    long *cum;            /* cum[k]: rows of the first k records */
};
static struct pmap pm[PARTITIONS];

static long rows_below(int p, int64_t next)
{
    if (p < 0 || p >= PARTITIONS)
        return 0;
    long lo = 0, hi = pm[p].n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (pm[p].off[mid] < next)
            lo = mid + 1;
        else
            hi = mid;
    }
    return pm[p].cum[lo];
}

static int write_yaml(const char *path, const char *appid, const char *sink,
                      const struct schema *s)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f,
            "application.id: %s\n"
            "state.dir: %s/state-%s\n"
            "kafka:\n"
            "  bootstrap.servers: %s\n"
            "  security.protocol: SASL_PLAINTEXT\n"
            "  sasl.mechanisms: SCRAM-SHA-512\n"
            "  sasl.username: pg_sink\n"
            "  sasl.password: ${file:%s}\n"
            "  session.timeout.ms: '6000'\n"
            "  heartbeat.interval.ms: '1000'\n"
            "topics:\n"
            "  %s: { partitions: %d }\n"
            "clients:\n"
            "  generator: { user: order_generator, writes: [%s] }\n"
            "sinks:\n"
            "  %s:\n"
            "    type: postgres_oltp\n"
            "    inputs: [%s]\n"
            "    dsn: ${file:%s}\n"
            "    batch.size: %d\n"
            "    linger.ms: %d\n",
            appid, dir, appid, it_env("KAFKA_BOOTSTRAP"), it_secret_path("pg_sink.password"),
            topic, PARTITIONS, topic, sink, topic, s->dsnfile, BATCH, LINGER_MS);
    return fclose(f);
}

static int apply(const char *yaml)
{
    char out[8192];
    int rc = it_rill_exec3(out, sizeof out, 120000, "apply", yaml, "-F",
                           it_secret_path("admin.client.conf"), NULL);
    if (rc)
        fprintf(stderr, "bench: rill apply %s: %s\n", yaml, out);
    return rc;
}

/* The sum of the group's positions, and the rows below them; -1 on failure. */
static long positions(PGconn *c, const char *group, long *rows)
{
    const char *params[2] = { group, topic };
    PGresult *r = PQexecParams(c, "SELECT partition, next_offset FROM rill_offsets "
                               "WHERE group_id = $1 AND topic = $2", 2, NULL, params, NULL,
                               NULL, 0);
    long sum = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        sum = 0;
        *rows = 0;
        for (int i = 0; i < PQntuples(r); i++) {
            int64_t next = atoll(PQgetvalue(r, i, 1));
            sum += (long)next;
            *rows += rows_below(atoi(PQgetvalue(r, i, 0)), next);
        }
    }
    PQclear(r);
    return sum;
}

/* For the report: the sink's tables equal the COPY's, row for row. */
static long tables_differ(PGconn *c, const char *a, const char *b)
{
    static const char *const cols[3][2] = {
        { "orders", "order_id, customer_id, location_id, status, total, paid, currency, "
                    "created_at, updated_at, last_topic, last_partition, last_offset" },
        { "order_items", "order_id, line, product_id, category, quantity, unit_price" },
        { "order_status_history", "order_id, status, reason, amount, at, topic, partition, "
                                  "kafka_offset" },
    };
    long bad = 0;
    for (int t = 0; t < 3; t++) {
        char sql[2048];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM ((SELECT %s FROM %s.%s EXCEPT ALL SELECT %s FROM %s.%s) "
                 "UNION ALL (SELECT %s FROM %s.%s EXCEPT ALL SELECT %s FROM %s.%s)) d",
                 cols[t][1], a, cols[t][0], cols[t][1], b, cols[t][0], cols[t][1], b,
                 cols[t][0], cols[t][1], a, cols[t][0]);
        long n = qn(c, sql);
        bad += n < 0 ? 1 : n;
    }
    return bad;
}

static int run_sink(struct result *r, struct schema *s, char *why, size_t whysz)
{
    char appid[96], sink[64], yaml[256], log[256], group[192], appname[96];
    unsigned n = seq++;
    snprintf(appid, sizeof appid, "%s-r%u", app, n);
    snprintf(sink, sizeof sink, "bench_oltp_%d_%u", (int)getpid(), n);
    snprintf(group, sizeof group, "%s.%s", appid, sink);
    snprintf(appname, sizeof appname, "rill sink %s", sink);
    snprintf(yaml, sizeof yaml, "%s/%s.yaml", dir, appid);
    snprintf(log, sizeof log, "%s/%s.log", dir, appid);
    if (schema_new(s, "sink") || write_yaml(yaml, appid, sink, s) || apply(yaml))
        return snprintf(why, whysz, "setup failed"), -1;
    PGconn *mon = connect_schema(s);
    if (!mon)
        return snprintf(why, whysz, "cannot connect"), -1;
    int pm0 = postmaster_of(mon), backend = -1, ok = 0;
    double srv0, brk0, busy0, mon0 = cpu_ms(PQbackendPID(mon));
    window_start(r, pm0, &srv0, &brk0, &busy0, 0);
    double t0 = now_s(), t_first = 0, t_done = 0;
    long rows_first = 0;
    pid_t pid = it_rill_start(yaml, log);
    for (double deadline = t0 + 600; now_s() < deadline;) {
        long rows = 0, sum = positions(mon, group, &rows);
        double t = now_s();
        if (sum < 0) {
            snprintf(why, whysz, "lost PostgreSQL: %s", PQerrorMessage(mon));
            break;
        }
        if (sum > 0 && !t_first) {
            t_first = t;
            rows_first = rows;
            const char *p[1] = { appname };
            PGresult *q = PQexecParams(mon, "SELECT pid FROM pg_stat_activity WHERE "
                                       "application_name = $1", 1, NULL, p, NULL, NULL, 0);
            if (PQresultStatus(q) == PGRES_TUPLES_OK && PQntuples(q) == 1)
                backend = atoi(PQgetvalue(q, 0, 0));
            PQclear(q);
        }
        if (sum >= nrecs) {
            t_done = t;
            ok = 1;
            break;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            snprintf(why, whysz, "rill exited early (see %s)", log);
            pid = -1;
            break;
        }
        sleep_ms(POLL_MS);
    }
    if (ok) {
        r->client_cpu_ms = cpu_ms(pid);
        r->backend_cpu_ms = cpu_ms(backend);
        window_end(r, pm0, srv0, brk0, busy0, pid);
        r->server_cpu_ms -= cpu_ms(PQbackendPID(mon)) - mon0; /* not the bench's looks */
        r->secs = t_done - t0;
        if (r->backend_cpu_ms < 0)
            ok = 0, snprintf(why, whysz, "the sink's PostgreSQL backend was not found");
        if (postmaster_of(mon) != pm0)
            ok = 0, snprintf(why, whysz, "PostgreSQL restarted during the run");
    } else if (!why[0]) {
        snprintf(why, whysz, "not caught up in 600 s");
    }
    if (pid > 0 && it_rill_stop(pid, SIGTERM, 60000) == -1)
        fprintf(stderr, "bench: rill did not stop on SIGTERM (killed)\n");
    if (ok) {
        r->rows = rows_in(mon);
        long dead = qn(mon, "SELECT count(*) FROM rill_dead_letters");
        if (r->rows != rows_all || dead != 0)
            ok = 0, snprintf(why, whysz, "%ld rows (want %ld), %ld dead letters", r->rows,
                             rows_all, dead);
        r->rps = (double)r->rows / r->secs;
        r->first_s = t_first - t0;
        if (t_done > t_first && r->rows > rows_first)
            r->steady_rps = (double)(r->rows - rows_first) / (t_done - t_first);
    }
    PQfinish(mon);
    return ok ? 0 : -1;
}

/* ---- contender: COPY ------------------------------------------------------------------------- */

static int copy_in(PGconn *c, const char *sql, const struct buf *b)
{
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    ok = ok && PQputCopyData(c, b->p ? b->p : "", (int)b->len) == 1;
    ok = PQputCopyEnd(c, ok ? NULL : "failed") == 1 && ok;
    r = PQgetResult(c);
    ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    while ((r = PQgetResult(c)))
        PQclear(r);
    if (!ok)
        fprintf(stderr, "bench: %s: %s", sql, PQerrorMessage(c));
    return ok ? 0 : -1;
}

/* What a client contender (COPY, INSERT) opens and measures around its run:
 * its connection and serde, and the CPU windows of the server and broker. */
struct client_run {
    PGconn *c;
    rill_serde_t *serde;
    int pm0, backend;
    double srv0, brk0, busy0, be0, cpu0, t0;
};

static int client_open(struct client_run *k, struct result *r, struct schema *s,
                       const char *tag, char *why, size_t whysz)
{
    memset(k, 0, sizeof *k);
    if (schema_new(s, tag))
        return snprintf(why, whysz, "setup failed"), -1;
    k->c = connect_schema(s);
    char err[RILL_ERRSTR_SIZE];
    if (!k->c || rill_serde_new(&k->serde, err, sizeof err)) {
        PQfinish(k->c);
        return snprintf(why, whysz, "cannot connect"), -1;
    }
    k->pm0 = postmaster_of(k->c);
    k->backend = PQbackendPID(k->c);
    k->be0 = cpu_ms(k->backend);
    window_start(r, k->pm0, &k->srv0, &k->brk0, &k->busy0, 0);
    k->cpu0 = thread_cpu_ms();
    k->t0 = now_s();
    return 0;
}

/* Ends the windows; ok is the run's verdict so far (why says what failed),
 * then it must also have kept its server and written want rows. Returns
 * the run's duration in *secs. */
static int client_close(struct client_run *k, struct result *r, int ok, const char *what,
                        long want, double *secs, char *why, size_t whysz)
{
    double t_done = now_s();
    *secs = t_done - k->t0;
    r->client_cpu_ms = thread_cpu_ms() - k->cpu0;
    r->backend_cpu_ms = cpu_ms(k->backend) - k->be0;
    window_end(r, k->pm0, k->srv0, k->brk0, k->busy0, 0);
    rill_serde_destroy(k->serde);
    if (!ok)
        snprintf(why, whysz, "%s failed: %s", what, PQerrorMessage(k->c));
    else if (postmaster_of(k->c) != k->pm0)
        ok = 0, snprintf(why, whysz, "PostgreSQL restarted during the run");
    if (ok) {
        r->rows = rows_in(k->c);
        if (r->rows != want)
            ok = 0, snprintf(why, whysz, "%ld rows (want %ld)", r->rows, want);
        r->secs = *secs;
        r->rps = (double)r->rows / r->secs;
    }
    PQfinish(k->c);
    return ok;
}

static int run_copy(struct result *r, struct schema *s, char *why, size_t whysz)
{
    struct client_run cr;
    if (client_open(&cr, r, s, "copy", why, whysz))
        return -1;
    PGconn *c = cr.c;
    rill_serde_t *serde = cr.serde;
    int ok = 1;
    struct buf bo = { 0 }, bi = { 0 }, bh = { 0 };
    rill_event_t ev = { 0 };
    double t0 = cr.t0, t_first = 0;
    long rows = 0, rows_first = 0;
    for (long i = 0; i < nrecs && ok; i += BATCH) {
        bo.len = bi.len = bh.len = 0;
        for (long k = i; k < nrecs && k < i + BATCH && ok; k++) {
            struct order_rows o;
            if (order_rows(serde, &recs[k], &ev, &o)) {
                ok = 0;
                break;
            }
            for (int f = 0; f < 11; f++)
                field(&bo, o.order[f], f == 10);
            for (size_t l = 0; l < ev.u.order.item_cnt; l++) {
                const char *v[6];
                char num[3][RILL_SINK_FMT_SIZE];
                item_row(&ev, l, v, num);
                for (int f = 0; f < 6; f++)
                    field(&bi, v[f], f == 5);
            }
            for (int f = 0; f < 6; f++)
                field(&bh, o.hist[f], f == 5);
            rows += 2 + (long)ev.u.order.item_cnt;
        }
        ok = ok && exec_ok(c, "BEGIN") &&
             !copy_in(c, "COPY orders (order_id, customer_id, location_id, status, total, "
                         "currency, created_at, updated_at, last_topic, last_partition, "
                         "last_offset) FROM STDIN", &bo) &&
             !copy_in(c, "COPY order_items (order_id, line, product_id, category, quantity, "
                         "unit_price) FROM STDIN", &bi) &&
             !copy_in(c, "COPY order_status_history (order_id, status, at, topic, partition, "
                         "kafka_offset) FROM STDIN", &bh) &&
             exec_ok(c, "COMMIT");
        if (ok && !t_first) {
            t_first = now_s();
            rows_first = rows;
        }
    }
    rill_event_clear(&ev);
    free(bo.p);
    free(bi.p);
    free(bh.p);
    double secs;
    ok = client_close(&cr, r, ok, "COPY", rows_all, &secs, why, whysz);
    if (ok) {
        double t_done = t0 + secs;
        r->first_s = t_first - t0;
        if (t_done > t_first && r->rows > rows_first)
            r->steady_rps = (double)(r->rows - rows_first) / (t_done - t_first);
    }
    return ok ? 0 : -1;
}

/* ---- contender: one INSERT per row ---------------------------------------------------------- */

static int insert1(PGconn *c, const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "bench: INSERT: %s", PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

static int run_insert(struct result *r, struct schema *s, char *why, size_t whysz)
{
    struct client_run cr;
    if (client_open(&cr, r, s, "insert", why, whysz))
        return -1;
    PGconn *c = cr.c;
    rill_serde_t *serde = cr.serde;
    int ok = 1;
    rill_event_t ev = { 0 };
    for (long k = 0; k < ninsert && ok; k++) {
        struct order_rows o;
        ok = !order_rows(serde, &recs[k], &ev, &o) &&
             !insert1(c, "INSERT INTO orders (order_id, customer_id, location_id, status, "
                         "total, currency, created_at, updated_at, last_topic, last_partition, "
                         "last_offset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                      11, o.order);
        for (size_t l = 0; ok && l < ev.u.order.item_cnt; l++) {
            const char *v[6];
            char num[3][RILL_SINK_FMT_SIZE];
            item_row(&ev, l, v, num);
            ok = !insert1(c, "INSERT INTO order_items (order_id, line, product_id, category, "
                             "quantity, unit_price) VALUES ($1, $2, $3, $4, $5, $6)", 6, v);
        }
        ok = ok && !insert1(c, "INSERT INTO order_status_history (order_id, status, at, topic, "
                               "partition, kafka_offset) VALUES ($1, $2, $3, $4, $5, $6)",
                            6, o.hist);
    }
    rill_event_clear(&ev);
    double secs;
    ok = client_close(&cr, r, ok, "INSERT", rows_insert, &secs, why, whysz);
    if (ok) {
        r->steady_rps = r->rps;
        r->first_s = 0;
    }
    return ok ? 0 : -1;
}

/* Deletes the bench's input topic (as the admin); 0 when it is gone. */
static int topic_delete(const char *name)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, it_kconf("admin", IT_SASL_PLAINTEXT, NULL,
                                                              NULL), err, sizeof err);
    if (!rk)
        return -1;
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteTopics(rk, &dt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = -1;
    if (ev && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t n;
        const rd_kafka_topic_result_t **r =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        rc = n == 1 && rd_kafka_topic_result_error(r[0]) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteTopic_destroy(dt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- the report -------------------------------------------------------------------------------- */

struct series {
    const char *name;
    struct result r[MAXRUNS];
    int n;
};

/* The median of the field at offset off of s's results; lo and hi the spread. */
static double med(const struct series *s, size_t off, double *lo, double *hi)
{
    double v[MAXRUNS];
    for (int i = 0; i < s->n; i++)
        v[i] = *(const double *)((const char *)&s->r[i] + off);
    qsort(v, (size_t)s->n, sizeof *v, it_cmp_double);
    if (lo)
        *lo = s->n ? v[0] : 0;
    if (hi)
        *hi = s->n ? v[s->n - 1] : 0;
    return s->n ? (s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2) : 0;
}

/* Per-1000-rows medians of a CPU field. */
static double per_k(const struct series *s, size_t off)
{
    double v[MAXRUNS];
    for (int i = 0; i < s->n; i++)
        v[i] = *(const double *)((const char *)&s->r[i] + off) / (double)s->r[i].rows * 1000.0;
    qsort(v, (size_t)s->n, sizeof *v, it_cmp_double);
    return s->n ? (s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2) : 0;
}

#define F(x) offsetof(struct result, x)

/* The figures of one series, medians. */
struct fig {
    double rps, lo, hi, steady, first_s, client, pg, backend, server, broker;
};

static struct fig figures(const struct series *s)
{
    struct fig f;
    f.rps = med(s, F(rps), &f.lo, &f.hi);
    f.steady = med(s, F(steady_rps), NULL, NULL);
    f.first_s = med(s, F(first_s), NULL, NULL);
    f.client = per_k(s, F(client_cpu_ms));
    f.pg = per_k(s, F(pg_cpu_ms));
    f.backend = per_k(s, F(backend_cpu_ms));
    f.server = per_k(s, F(server_cpu_ms));
    f.broker = per_k(s, F(broker_cpu_ms));
    return f;
}

static const char *verdict(int met)
{
    return met ? "met" : "**missed**";
}

/* Writes bench/results/sink.md. */
static int report(const struct series *sr, long lines, long differ, const char *failures)
{
    char pgver[128] = "?", fsync[16] = "?", sync[16] = "?", shared[32] = "?";
    PGconn *a = PQconnectdb(base_dsn);
    if (PQstatus(a) == CONNECTION_OK) {
        q1(a, "SHOW server_version", pgver, sizeof pgver);
        q1(a, "SHOW fsync", fsync, sizeof fsync);
        q1(a, "SHOW synchronous_commit", sync, sizeof sync);
        q1(a, "SHOW shared_buffers", shared, sizeof shared);
    }
    PQfinish(a);
    struct fig f[3];
    for (int c = 0; c < 3; c++)
        f[c] = figures(&sr[c]);
    double r_copy = f[0].rps / f[1].rps, r_ins = f[0].rps / f[2].rps;
    FILE *md = fopen("bench/results/sink.md", "w");
    if (!md)
        return fprintf(stderr, "bench: cannot write bench/results/sink.md\n"), 1;
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(md, "# PostgreSQL sink: rill vs raw COPY vs row INSERT\n\n"
                "`make bench-sink` on %s (BENCH_SINK_ORDERS=%ld, BENCH_SINK_INSERT_ORDERS=%ld, "
                "BENCH_RUNS=%ld): %ld order_placed records (Avro, `rill generate --seed %s`, "
                "%d partitions) holding %ld order lines, so %ld rows in orders + order_items + "
                "order_status_history; the INSERT run writes the first %ld orders (%ld rows). "
                "%ld cores; PostgreSQL %s (fsync=%s, synchronous_commit=%s, "
                "shared_buffers=%s), one local Kafka broker, librdkafka %s, all on the same "
                "machine, nothing pinned. Each contender writes into a fresh schema made by "
                "`rill migrate`; the three run in turn, %ld round%s; medians, spread "
                "min..max.\n\n",
            when, nrecs, ninsert, runs, nrecs, GEN_SEED, PARTITIONS, lines, rows_all, ninsert,
            rows_insert, sysconf(_SC_NPROCESSORS_ONLN), pgver, fsync, sync, shared,
            rd_kafka_version_str(), runs, runs == 1 ? "" : "s");
    fprintf(md, "| contender | rows/s | spread | start to first commit, s | rows/s after the "
                "first batch |\n| --- | ---: | ---: | ---: | ---: |\n");
    for (int c = 0; c < 3; c++) {
        char stdy[32] = "-", first[32] = "-";
        if (c < 2 && f[c].steady > 0)
            snprintf(stdy, sizeof stdy, "%.0f", f[c].steady);
        if (c < 2)
            snprintf(first, sizeof first, "%.2f", f[c].first_s);
        fprintf(md, "| %s | %.0f | %.0f..%.0f | %s | %s |\n", sr[c].name, f[c].rps, f[c].lo,
                f[c].hi, first, stdy);
    }
    fprintf(md, "\nCPU, ms per 1,000 rows (medians):\n\n"
                "| contender | client | PostgreSQL: its backend + background processes | "
                "of which its backend | whole PostgreSQL server (shared) | Kafka broker |\n"
                "| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (int c = 0; c < 3; c++)
        fprintf(md, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f |\n", sr[c].name, f[c].client,
                f[c].pg, f[c].backend, f[c].server, f[c].broker);
    char rs[32] = "- (one batch)";
    if (f[0].steady > 0 && f[1].steady > 0)
        snprintf(rs, sizeof rs, "%.2f", f[0].steady / f[1].steady);
    fprintf(md, "\n## Ratios against the targets\n\n| ratio | measured | target | |\n"
                "| --- | ---: | ---: | --- |\n"
                "| sink / raw COPY, rows/s | %.2f | >= 0.7 | %s |\n"
                "| sink / row INSERT, rows/s | %.1f | >= 50 | %s |\n"
                "| sink / raw COPY, rows/s after the first batch (not the target's measure) "
                "| %s | | |\n"
                "| sink / raw COPY, PostgreSQL CPU per row | %.2f | | |\n",
            r_copy, verdict(r_copy >= 0.7), r_ins, verdict(r_ins >= 50), rs,
            f[0].pg / f[1].pg);
    /* the ratio within each round, the two measured minutes apart at most */
    for (int other = 1; other < 3; other++) {
        fprintf(md, "%s", other == 1 ? "\nPer round, sink / raw COPY:" : "; sink / row INSERT:");
        const char *sep = " ";
        for (int i = 0; i < sr[0].n; i++)
            for (int k = 0; k < sr[other].n; k++)
                if (sr[other].r[k].round == sr[0].r[i].round) {
                    fprintf(md, other == 1 ? "%sround %d %.2f" : "%sround %d %.1f", sep,
                            sr[0].r[i].round, sr[0].r[i].rps / sr[other].r[k].rps);
                    sep = ", ";
                }
    }
    fprintf(md, ".\n");
    fprintf(md, "\nThe sink's tables and the COPY's were compared row for row (every column "
                "but the history's identity) in the first round: %s.\n",
            differ == 0 ? "equal" : differ > 0 ? "**they differ**" : "not compared");
    fprintf(md, "\n## What is measured\n\n"
                "- **sink**: `rill run` of a sink-only topology: one `postgres_oltp` sink "
                "(batch.size %d, linger.ms %d) as the pg_sink user, reading the topic from "
                "the start. Time runs from the process start (so it includes start-up, the "
                "group join and the partition claim) to the first look, every %d ms, at which "
                "the sum of its group's `rill_offsets` equals the topic's end offsets. Each "
                "batch is the runtime's one pipelined transaction: BEGIN, the sink's five "
                "unnest-array statements (orders, items, history with the pending check, "
                "unpark, current status: an UPDATE of every new order), `rill_advance()`, "
                "COMMIT. Client CPU is the rill process's whole life to that moment, Kafka "
                "consumer included.\n"
                "- **raw COPY**: the records, read from the topic into memory before the "
                "clock starts, decoded by the bench with the same serde into the final row "
                "values the sink leaves (status 1000, the record's coordinates in last_*), "
                "COPY'd in text format, BEGIN + 3 COPYs + COMMIT per %d records, one "
                "connection. Timed from the first decode to the last COMMIT; client CPU is "
                "the bench thread's over that time. No positions are written.\n"
                "- **row INSERT**: the same values for the first %ld records, one "
                "`PQexecParams` INSERT per row, autocommit (a commit, so a WAL flush, per "
                "row).\n"
                "- \"after the first batch\": rows committed after the first batch over the "
                "time after it (for the sink, its first commit as seen at a look), which "
                "leaves rill's start-up out; shown to explain the gap, not used for the "
                "target.\n"
                "- CPU is user + system from /proc. \"Its backend\" is the one PostgreSQL "
                "session serving the contender (the sink's found by its application_name). "
                "\"Background processes\" are the postmaster's children that are not client "
                "backends (checkpointer, background writer, WAL writer, autovacuum), over the "
                "contender's window; they also work for other clients of the shared server, "
                "and an autovacuum worker that ended inside the window is not counted. "
                "\"Whole PostgreSQL server\" is the postmaster, every child and the children "
                "it reaped over the window, minus the bench's own monitoring session: it "
                "holds every other client's work too, so it is an upper bound, only as "
                "clean as the machine was quiet. The broker is the Kafka process over the "
                "same window (the sink's fetches, and everybody else's traffic).\n",
            BATCH, LINGER_MS, POLL_MS, BATCH, ninsert);
    fprintf(md, "\n## Noise\n\n| round | contender | s | load avg 1 min start / end | "
                "machine busy, cores | of which stolen by the hypervisor | other rill / test "
                "processes | whole server - its backend, CPU s |\n"
                "| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |\n");
    for (int round = 1; round <= runs; round++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < sr[c].n; i++) {
                const struct result *r = &sr[c].r[i];
                if (r->round != round)
                    continue;
                fprintf(md, "| %d | %s | %.1f | %.2f / %.2f | %.2f | %.2f | %d | %.1f |\n",
                        r->round, sr[c].name, r->secs, r->load_start, r->load_end,
                        r->busy_ms / 1000.0 / r->secs, r->steal_ms / 1000.0 / r->secs, r->others,
                        (r->server_cpu_ms - r->backend_cpu_ms) / 1000.0);
            }
    fprintf(md, "\nRuns that failed and were run again:\n\n%s",
            failures[0] ? failures : "- none\n");
    fprintf(md, "\nCommand: `make bench-sink` (or `RILL_BIN=$PWD/rill build/release/bench/sink`); "
                "knobs BENCH_SINK_ORDERS, BENCH_SINK_INSERT_ORDERS, BENCH_RUNS.\n");
    fclose(md);
    fprintf(stderr, "bench: sink / COPY %.2f, sink / INSERT %.1f; wrote bench/results/sink.md\n",
            r_copy, r_ins);
    return 0;
}

int main(void)
{
    nrecs = it_getenv_long("BENCH_SINK_ORDERS", 50000);
    ninsert = it_getenv_long("BENCH_SINK_INSERT_ORDERS", 5000);
    runs = it_getenv_long("BENCH_RUNS", 3);
    if (runs < 1 || runs > MAXRUNS)
        runs = runs < 1 ? 1 : MAXRUNS;
    if (ninsert > nrecs)
        ninsert = nrecs;
    if (!getenv("RILL_BIN"))
        return fprintf(stderr, "bench: RILL_BIN must be set\n"), 2;
    char *dsn = it_secret("pg.dsn");
    if (!dsn || !it_env("KAFKA_BOOTSTRAP"))
        return fprintf(stderr, "bench: no stack secrets (is the stack up? RILL_STACK_DIR)\n"), 1;
    snprintf(base_dsn, sizeof base_dsn, "%s", dsn);
    free(dsn);
    if (!it_tmpdir(dir, sizeof dir, "bench-sink"))
        return 1;
    snprintf(app, sizeof app, "bench-sink-%d", (int)getpid());
    snprintf(topic, sizeof topic, "%s.order_placed", app);

    /* the input, once: topic and ACLs by `rill apply`, orders by `rill generate` */
    char yaml[256], log[256], n[32];
    struct schema s0;
    snprintf(yaml, sizeof yaml, "%s/setup.yaml", dir);
    snprintf(log, sizeof log, "%s/generate.log", dir);
    /* the sink of this file never runs: its DSN file just has to exist */
    snprintf(s0.dsnfile, sizeof s0.dsnfile, "%s/setup.dsn", dir);
    if (write_secret(s0.dsnfile, base_dsn))
        return 1;
    if (write_yaml(yaml, app, "orders_db", &s0) || apply(yaml))
        return fprintf(stderr, "bench: cannot create the topic (is the stack up?)\n"), 1;
    snprintf(n, sizeof n, "%ld", nrecs);
    fprintf(stderr, "bench: generating %ld orders into %s\n", nrecs, topic);
    double tg = now_s();
    pid_t gen = it_rill_spawn(log, "generate", "-F", it_secret_path("order_generator.client.conf"),
                              "-t", topic, "--orders", n, "--rate", "0", "--seed", GEN_SEED,
                              (char *)NULL);
    int st = it_rill_stop(gen, 0, 600000);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st))
        return fprintf(stderr, "bench: rill generate failed (see %s)\n", log), 1;
    fprintf(stderr, "bench: generated in %.1f s\n", now_s() - tg);
    if (it_end_offsets(topic) != nrecs)
        return fprintf(stderr, "bench: %s holds %ld records, not %ld\n", topic,
                       it_end_offsets(topic), nrecs), 1;
    if (it_read_topic(topic, 1, 120000, &recs) != nrecs)
        return fprintf(stderr, "bench: cannot read %s back\n", topic), 1;
    /* rows per record, and per partition by offset for the sink's progress */
    rill_serde_t *serde = NULL;
    char err[RILL_ERRSTR_SIZE];
    if (rill_serde_new(&serde, err, sizeof err))
        return fprintf(stderr, "bench: %s\n", err), 1;
    for (int p = 0; p < PARTITIONS; p++) {
        pm[p].off = calloc((size_t)nrecs, sizeof *pm[p].off);
        pm[p].cum = calloc((size_t)nrecs + 1, sizeof *pm[p].cum);
    }
    long lines = 0;
    rill_event_t ev = { 0 };
    for (long i = 0; i < nrecs; i++) {
        struct order_rows o;
        int p = recs[i].partition;
        if (p < 0 || p >= PARTITIONS || order_rows(serde, &recs[i], &ev, &o))
            return 1;
        long nl = (long)ev.u.order.item_cnt;
        lines += nl;
        rows_all += 2 + nl;
        if (i < ninsert)
            rows_insert += 2 + nl;
        pm[p].off[pm[p].n] = recs[i].offset;
        pm[p].cum[pm[p].n + 1] = pm[p].cum[pm[p].n] + 2 + nl;
        pm[p].n++;
    }
    rill_event_clear(&ev);
    rill_serde_destroy(serde);
    fprintf(stderr, "bench: %ld orders, %ld lines: %ld rows (%ld for the INSERT run)\n", nrecs,
            lines, rows_all, rows_insert);

    struct series sr[3] = { { .name = "rill postgres_oltp sink" },
                            { .name = "raw COPY, one transaction per 5,000 records" },
                            { .name = "row INSERT, autocommit" } };
    int (*fn[3])(struct result *, struct schema *, char *, size_t) = { run_sink, run_copy,
                                                                       run_insert };
    char failures[4096] = "";
    size_t flen = 0;
    long differ = -1;
    for (int round = 0; round < runs; round++) {
        fprintf(stderr, "bench: round %d of %ld\n", round + 1, runs);
        struct schema sch[3];
        int have[3] = { 0, 0, 0 }, good[3] = { 0, 0, 0 };
        for (int c = 0; c < 3; c++) {
            for (int a = 0; a < ATTEMPTS; a++) {
                struct result r = { 0 };
                char why[512] = "";
                if (pg_wait())
                    return fprintf(stderr, "bench: PostgreSQL is down\n"), 1;
                if (have[c])
                    schema_drop(&sch[c]);
                have[c] = 1;
                if (!fn[c](&r, &sch[c], why, sizeof why)) {
                    r.pg_cpu_ms = r.backend_cpu_ms + r.bg_cpu_ms;
                    r.round = round + 1;
                    sr[c].r[sr[c].n++] = r;
                    good[c] = 1;
                    fprintf(stderr, "  %-46s %9.0f rows/s (%.1f s; steady %.0f rows/s)\n",
                            sr[c].name, r.rps, r.secs, r.steady_rps);
                    break;
                }
                for (char *w = why; *w; w++) /* one line, for the list */
                    if (*w == '\n' || *w == '\t')
                        *w = ' ';
                fprintf(stderr, "  %-46s failed: %s\n", sr[c].name, why);
                if (flen < sizeof failures - 600)
                    flen += (size_t)snprintf(failures + flen, sizeof failures - flen,
                                             "- round %d, %s: %s%s\n", round + 1, sr[c].name,
                                             why, a + 1 < ATTEMPTS ? " (run again)" : "");
            }
        }
        if (differ < 0 && good[0] && good[1]) {
            PGconn *a = PQconnectdb(base_dsn);
            if (PQstatus(a) == CONNECTION_OK)
                differ = tables_differ(a, sch[0].name, sch[1].name);
            PQfinish(a);
        }
        for (int c = 0; c < 3; c++)
            if (have[c])
                schema_drop(&sch[c]);
    }
    for (int c = 0; c < 3; c++)
        if (!sr[c].n)
            return fprintf(stderr, "bench: no successful run of %s\n", sr[c].name), 1;

    int rc = report(sr, lines, differ, failures);
    /* the input is the bench's own: gone with the scratch folder */
    if (topic_delete(topic))
        fprintf(stderr, "bench: cannot delete topic %s\n", topic);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        fprintf(stderr, "bench: cannot remove %s\n", dir);
    it_recs_free(recs, nrecs);
    return rc;
}
