/*
 * sink_pg.c - a sink thread's PostgreSQL session (DESIGN.md section 3.3):
 * connecting with the timeouts that keep a new owner from waiting for ever
 * behind a zombie (lock_timeout, idle_in_transaction_session_timeout,
 * statement_timeout), claiming partitions by bumping their epoch in
 * rill_offsets, and running a batch as one pipelined round trip: BEGIN, the
 * sink's statements, rill_advance() (the fenced position update, which
 * raises RL001 when a newer owner bumped an epoch) and COMMIT, with every
 * result checked. When the database refuses the batch for its data (SQLSTATE
 * classes 22 and 23), the batch runs again bisected with savepoints, until
 * each refused record alone goes to rill_dead_letters and the rest lands in
 * the same transaction. A connection lost while COMMIT was in flight is
 * ambiguous: pg_read_back() reads the positions to learn whether it landed.
 *
 * The socket is non-blocking and every wait is a poll() with a deadline, so
 * a dead server costs time, never a hang; the DSN (it may hold a password)
 * never reaches a log line or an error message.
 */
#include "topology/engine/sink_int.h"
#include "schemas/migrate.h"
#include "topology/base/log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



/* The session's settings: a new owner's claim waits at most LOCK_TIMEOUT
 * behind another session's lock; a session idle inside a transaction (a
 * stopped zombie) loses it after IDLE_TIMEOUT. */
#define PG_SESSION_SETUP                                                                 \
    "SET lock_timeout = '5s'; SET idle_in_transaction_session_timeout = '30s'; "         \
    "SET statement_timeout = '120s'; SET TIME ZONE 'UTC'"

/* What one round trip learned. */
struct roundtrip {
    int failed_at;          /* the first command that failed; -1 none */
    char sqlstate[6];
    char msg[512];          /* PostgreSQL's primary message (no detail: it may hold data) */
    int lost;               /* the connection broke before every result was read */
    int ncmds;              /* commands sent */
    int answered;           /* results read (the failed command's included) */
};

static const char *getenv_default(const char *v, const char *d)
{
    return v && *v ? v : d;
}

void pg_disconnect(struct pg_session *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
}

rill_err_t pg_connect(struct pg_session *s, char *errstr, size_t errsz)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return RILL_OK;
    pg_disconnect(s);
    char where[256];
    PGconn *c = NULL;
    rill_err_t err = rill_migrate_connect(s->dsn, &c, where, sizeof where, errstr, errsz);
    if (err != RILL_OK)
        return err;
    PGresult *r = PQexec(c, PG_SESSION_SETUP);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    char app[160];
    snprintf(app, sizeof app, "SET application_name = 'rill sink %.100s'",
             getenv_default(s->sink, "?"));
    /* the name comes from the YAML's key (no quote can be in it: names are
     * identifiers), so it needs no escaping */
    if (ok && !strchr(s->sink, '\'')) {
        r = PQexec(c, app);
        PQclear(r);
    }
    if (!ok || PQsetnonblocking(c, 1) != 0 || PQenterPipelineMode(c) != 1) {
        err = rill_errf(errstr, errsz, RILL_ERR_PG, "cannot set up the session on %s: %s", where,
                        PQerrorMessage(c));
        PQfinish(c);
        return err;
    }
    s->conn = c;
    rill_log(RILL_LOG_INFO, "sink", "connected|sink=%s to=%s", s->sink, where);
    return RILL_OK;
}

/* ---- one round trip ------------------------------------------------------ */

/* Waits until the socket is readable (or writable too, when out) or the
 * deadline passes; 0 when it is, -1 on a timeout or an error. */
static int wait_socket(PGconn *c, int out, int64_t deadline)
{
    int64_t left = deadline - rill_now_ms();
    if (left <= 0)
        return -1;
    struct pollfd p = { .fd = PQsocket(c), .events = (short)(POLLIN | (out ? POLLOUT : 0)) };
    if (p.fd < 0)
        return -1;
    int n = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
    if (n < 0 && errno != EINTR)
        return -1;
    return 0;
}

/* Pushes what libpq buffered to the server, reading meanwhile so that the
 * server is never stuck writing results nobody reads. */
static int flush_all(PGconn *c, int64_t deadline)
{
    for (;;) {
        int f = PQflush(c);
        if (f == 0)
            return 0;
        if (f < 0 || wait_socket(c, 1, deadline) != 0 || !PQconsumeInput(c))
            return -1;
    }
}

/* The next result, waiting at most until deadline; NULL with *lost set when
 * the connection broke or the deadline passed. */
static PGresult *next_result(PGconn *c, int64_t deadline, int *lost)
{
    while (PQisBusy(c)) {
        if (wait_socket(c, 0, deadline) != 0 || !PQconsumeInput(c)) {
            *lost = 1;
            return NULL;
        }
    }
    return PQgetResult(c);
}

static int transient_state(const char *st)
{
    return !strncmp(st, "08", 2) || !strncmp(st, "40", 2) || !strncmp(st, "53", 2) ||
           !strncmp(st, "57", 2) || !strncmp(st, "58", 2) || !strcmp(st, "55P03") ||
           !strcmp(st, "25P03");
}

static int data_state(const char *st)
{
    return !strncmp(st, "22", 2) || !strncmp(st, "23", 2);
}

/* Sends cmds[0..n) and a sync point, then reads every result in order,
 * handing returned rows to each command's fn. */
static void roundtrip(struct pg_session *s, const struct sink_stmt *cmds, size_t n,
                      struct roundtrip *rt)
{
    memset(rt, 0, sizeof *rt);
    rt->failed_at = -1;
    rt->ncmds = (int)n;
    PGconn *c = s->conn;
    int64_t deadline = rill_now_ms() + s->timeout_ms;
    if (!c) {
        rt->lost = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct sink_stmt *q = &cmds[i];
        if (!PQsendQueryParams(c, q->sql, q->nparams, NULL, q->values, q->lengths, q->formats,
                               0) ||
            flush_all(c, deadline) != 0) {
            rt->lost = 1;
            snprintf(rt->msg, sizeof rt->msg, "%s", PQerrorMessage(c));
            return;
        }
    }
    if (!PQpipelineSync(c) || flush_all(c, deadline) != 0) {
        rt->lost = 1;
        snprintf(rt->msg, sizeof rt->msg, "%s", PQerrorMessage(c));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        PGresult *r;
        int got = 0;
        while ((r = next_result(c, deadline, &rt->lost))) {
            ExecStatusType st = PQresultStatus(r);
            got = 1;
            if (st == PGRES_TUPLES_OK && cmds[i].fn) {
                int nc = PQnfields(r);
                const char *vals[RILL_SINK_MAX_COLS];
                for (int row = 0; row < PQntuples(r) && nc <= RILL_SINK_MAX_COLS; row++) {
                    for (int k = 0; k < nc; k++)
                        vals[k] = PQgetisnull(r, row, k) ? NULL : PQgetvalue(r, row, k);
                    cmds[i].fn(cmds[i].opaque, nc, vals);
                }
            } else if (st == PGRES_FATAL_ERROR && rt->failed_at < 0) {
                const char *ss = PQresultErrorField(r, PG_DIAG_SQLSTATE);
                const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
                rt->failed_at = (int)i;
                snprintf(rt->sqlstate, sizeof rt->sqlstate, "%s", ss ? ss : "");
                snprintf(rt->msg, sizeof rt->msg, "%s", m ? m : PQerrorMessage(c));
            }
            PQclear(r);
        }
        /* each answer gives the next one the whole timeout again: a
         * batch of several long statements is not cut short */
        deadline = rill_now_ms() + s->timeout_ms;
        if (rt->lost || !got) {
            rt->lost = 1;
            if (!rt->msg[0])
                snprintf(rt->msg, sizeof rt->msg, "%s", PQerrorMessage(c));
            return;
        }
        rt->answered = (int)i + 1;
    }
    PGresult *r = next_result(c, deadline, &rt->lost);
    if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC)
        rt->lost = 1;
    PQclear(r);
    rt->msg[strcspn(rt->msg, "\n")] = '\0';
}

static void simple(struct pg_session *s, const char *sql, struct roundtrip *rt)
{
    struct sink_stmt q = { .sql = sql };
    roundtrip(s, &q, 1, rt);
}

/* Ends a failed transaction; a connection that cannot is dropped. */
static void rollback(struct pg_session *s)
{
    if (!s->conn)
        return;
    if (PQtransactionStatus(s->conn) == PQTRANS_IDLE)
        return;
    struct roundtrip rt;
    simple(s, "ROLLBACK", &rt);
    if (rt.lost || rt.failed_at >= 0)
        pg_disconnect(s);
}

static enum pg_outcome classify(struct pg_session *s, const struct roundtrip *rt, char *errstr,
                                size_t errsz)
{
    if (rt->lost) {
        rill_errf(errstr, errsz, RILL_ERR_PG, "connection lost: %s",
                  rt->msg[0] ? rt->msg : "no answer");
        pg_disconnect(s);
        return PG_TRANSIENT;
    }
    rill_errf(errstr, errsz, RILL_ERR_PG, "%s (SQLSTATE %s)", rt->msg, rt->sqlstate);
    rollback(s);
    if (!strcmp(rt->sqlstate, "RL001"))
        return PG_FENCED;
    return transient_state(rt->sqlstate) ? PG_TRANSIENT : PG_FATAL;
}

/* ---- claiming partitions ---------------------------------------------------- */

static const char SQL_CLAIM[] =
    "INSERT INTO rill_offsets AS o (group_id, topic, partition) "
    "SELECT $1, u.topic, u.partition FROM unnest($2::text[], $3::int[]) AS u (topic, partition) "
    "ORDER BY 2, 3 "
    "ON CONFLICT (group_id, topic, partition) DO UPDATE SET epoch = o.epoch + 1, "
    "updated_at = now() "
    "RETURNING topic, partition, epoch, next_offset";

static const char SQL_READ_BACK[] =
    "SELECT topic, partition, epoch, next_offset FROM rill_offsets "
    "WHERE group_id = $1 AND (topic, partition) IN "
    "(SELECT * FROM unnest($2::text[], $3::int[]))";

struct positions {
    const char *const *topics;
    const int32_t *parts;
    size_t n;
    int64_t *epochs, *nexts;
    int *seen;
};

static void position_row(void *opaque, int ncols, const char *const *v)
{
    struct positions *p = opaque;
    if (ncols != 4 || !v[0] || !v[1] || !v[2] || !v[3])
        return;
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->topics[i], v[0]) && p->parts[i] == atoi(v[1])) {
            p->epochs[i] = strtoll(v[2], NULL, 10);
            p->nexts[i] = strtoll(v[3], NULL, 10);
            p->seen[i] = 1;
        }
}

/* Runs sql ($1 group, $2 topics, $3 partitions) and collects the rows. */
static rill_err_t positions_query(struct pg_session *s, const char *sql, struct positions *p,
                                  char *errstr, size_t errsz)
{
    rill_sink_tx_t tx;
    sink_tx_init(&tx, s->group, s->sink);
    const char **parts = rill_sink_tx_alloc(&tx, (p->n ? p->n : 1) * sizeof *parts);
    for (size_t i = 0; parts && i < p->n; i++) {
        char b[RILL_SINK_FMT_SIZE];
        parts[i] = sink_tx_strdup(&tx, rill_sink_fmt_int(b, p->parts[i]),
                                  strlen(rill_sink_fmt_int(b, p->parts[i])));
    }
    const char *params[3] = { s->group, sink_array_literal(&tx, p->topics, p->n),
                              parts ? sink_array_literal(&tx, parts, p->n) : NULL };
    if (tx.oom || !params[1] || !params[2] ||
        sink_tx_queue(&tx, sql, 3, params, NULL, NULL, position_row, p) != RILL_OK) {
        sink_tx_free(&tx);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    struct roundtrip rt;
    roundtrip(s, tx.stmts, 1, &rt);
    sink_tx_free(&tx);
    if (rt.lost || rt.failed_at >= 0) {
        enum pg_outcome o = classify(s, &rt, errstr, errsz);
        return o == PG_TRANSIENT ? RILL_ERR_RETRY : RILL_ERR_PG;
    }
    for (size_t i = 0; i < p->n; i++)
        if (!p->seen[i])
            return rill_errf(errstr, errsz, RILL_ERR_PG, "no position row for %s/%d",
                             p->topics[i], (int)p->parts[i]);
    return RILL_OK;
}

rill_err_t pg_claim(struct pg_session *s, const rd_kafka_topic_partition_list_t *l,
                    int64_t *epochs, int64_t *nexts, char *errstr, size_t errsz)
{
    rill_err_t err = pg_connect(s, errstr, errsz);
    if (err != RILL_OK)
        return err == RILL_ERR_PG ? RILL_ERR_RETRY : err;
    size_t n = (size_t)l->cnt;
    const char **topics = calloc(n ? n : 1, sizeof *topics);
    int32_t *parts = calloc(n ? n : 1, sizeof *parts);
    int *seen = calloc(n ? n : 1, sizeof *seen);
    if (!topics || !parts || !seen) {
        free(topics);
        free(parts);
        free(seen);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        topics[i] = l->elems[i].topic;
        parts[i] = l->elems[i].partition;
    }
    struct positions p = { topics, parts, n, epochs, nexts, seen };
    err = positions_query(s, SQL_CLAIM, &p, errstr, errsz);
    free(topics);
    free(parts);
    free(seen);
    return err;
}

enum pg_outcome pg_read_back(struct pg_session *s, const struct pg_advance *adv, size_t nadv,
                             char *errstr, size_t errsz)
{
    if (pg_connect(s, errstr, errsz) != RILL_OK)
        return PG_AMBIGUOUS;
    const char **topics = calloc(nadv ? nadv : 1, sizeof *topics);
    int32_t *parts = calloc(nadv ? nadv : 1, sizeof *parts);
    int64_t *epochs = calloc(nadv ? nadv : 1, sizeof *epochs);
    int64_t *nexts = calloc(nadv ? nadv : 1, sizeof *nexts);
    int *seen = calloc(nadv ? nadv : 1, sizeof *seen);
    enum pg_outcome o = PG_AMBIGUOUS;
    if (topics && parts && epochs && nexts && seen) {
        for (size_t i = 0; i < nadv; i++) {
            topics[i] = adv[i].topic;
            parts[i] = adv[i].partition;
        }
        struct positions p = { topics, parts, nadv, epochs, nexts, seen };
        if (positions_query(s, SQL_READ_BACK, &p, errstr, errsz) == RILL_OK) {
            size_t landed = 0, before = 0, moved = 0;
            for (size_t i = 0; i < nadv; i++) {
                if (epochs[i] != adv[i].epoch)
                    moved++;
                else if (nexts[i] == adv[i].next)
                    landed++;
                else if (nexts[i] == adv[i].expected)
                    before++;
                else
                    moved++;
            }
            o = moved ? PG_FENCED : landed == nadv ? PG_COMMITTED
                : before == nadv ? PG_TRANSIENT : PG_FENCED;
            if (o == PG_FENCED)
                rill_errf(errstr, errsz, RILL_ERR_PG,
                          "after a lost COMMIT, %zu of %zu positions are another owner's", moved,
                          nadv);
        }
    }
    free(topics);
    free(parts);
    free(epochs);
    free(nexts);
    free(seen);
    return o;
}

/* ---- the batch --------------------------------------------------------------- */

static const char SQL_ADVANCE[] = "SELECT rill_advance($1, $2::text[], $3::int[], $4::bigint[], "
                                  "$5::bigint[], $6::bigint[])";

/* Queues the fenced advance of adv[0..nadv). */
static rill_err_t queue_advance(rill_sink_tx_t *tx, const char *group,
                                const struct pg_advance *adv, size_t nadv)
{
    size_t n = nadv ? nadv : 1;
    const char **cols[5];
    for (int k = 0; k < 5; k++)
        if (!(cols[k] = rill_sink_tx_alloc(tx, n * sizeof *cols[k])))
            return RILL_ERR_NOMEM;
    for (size_t i = 0; i < nadv; i++) {
        char b[RILL_SINK_FMT_SIZE];
        int64_t v[4] = { adv[i].partition, adv[i].epoch, adv[i].expected, adv[i].next };
        cols[0][i] = adv[i].topic;
        for (int k = 0; k < 4; k++) {
            rill_sink_fmt_int(b, v[k]);
            if (!(cols[k + 1][i] = sink_tx_strdup(tx, b, strlen(b))))
                return RILL_ERR_NOMEM;
        }
    }
    const char *params[6] = { group };
    for (int k = 0; k < 5; k++)
        if (!(params[k + 1] = sink_array_literal(tx, cols[k], nadv)))
            return RILL_ERR_NOMEM;
    return sink_tx_queue(tx, SQL_ADVANCE, 6, params, NULL, NULL, NULL, NULL);
}

/* tx's statements between two fixed commands (head may be NULL). */
static void run_between(struct pg_session *s, rill_sink_tx_t *tx, const char *head,
                        const char *tail, size_t *first, struct roundtrip *rt)
{
    struct sink_stmt *cmds = malloc((tx->nstmts + 2) * sizeof *cmds);
    if (!cmds) {
        memset(rt, 0, sizeof *rt);
        rt->failed_at = -1;
        rt->lost = 1;
        snprintf(rt->msg, sizeof rt->msg, "out of memory");
        return;
    }
    size_t n = 0;
    if (head)
        cmds[n++] = (struct sink_stmt){ .sql = head };
    *first = n;
    for (size_t i = 0; i < tx->nstmts; i++)
        cmds[n++] = tx->stmts[i];
    if (tail)
        cmds[n++] = (struct sink_stmt){ .sql = tail };
    roundtrip(s, cmds, n, rt);
    free(cmds);
}

/* Calls the sink's write over recs[0..n) into a fresh tx. */
static enum pg_outcome write_part(rill_sink_tx_t *tx, const struct rill_sink_def *def,
                                  void *state, const struct rill_sink_rec *recs, size_t n,
                                  char *errstr, size_t errsz)
{
    sink_tx_reset(tx);
    if (n) {
        rill_err_t err = def->write(state, tx, recs, n, errstr, errsz);
        if (err == RILL_ERR_NOMEM || (err == RILL_OK && tx->oom))
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory building rows"),
                   PG_TRANSIENT;
        if (err != RILL_OK)
            return PG_FATAL;
    }
    return PG_COMMITTED;
}

static void sink_end(const struct rill_sink_def *def, void *state, int committed)
{
    if (def->end)
        def->end(state, committed);
}

/* Writes recs[0..n) inside the open transaction, bisecting what the
 * database refuses for its data; each refused record alone goes to the
 * dead-letter table. */
static enum pg_outcome bisect(struct pg_session *s, rill_sink_tx_t *tx,
                              const struct rill_sink_def *def, void *state,
                              const struct rill_sink_rec *recs, size_t n, size_t *rejected,
                              char *errstr, size_t errsz)
{
    size_t noted = tx->nrejects; /* the dead letters of the parts before */
    enum pg_outcome o = write_part(tx, def, state, recs, n, errstr, errsz);
    if (o != PG_COMMITTED)
        return o;
    struct roundtrip rt;
    size_t first;
    run_between(s, tx, "SAVEPOINT rill_part", "RELEASE SAVEPOINT rill_part", &first, &rt);
    if (!rt.lost && rt.failed_at < 0)
        return PG_COMMITTED;
    if (rt.lost || !data_state(rt.sqlstate) || rt.failed_at == 0)
        return classify(s, &rt, errstr, errsz);
    /* refused for its data: undo the part, then halve it */
    struct roundtrip rb;
    simple(s, "ROLLBACK TO SAVEPOINT rill_part", &rb);
    sink_end(def, state, 0);
    sink_rejects_truncate(tx, noted);
    if (rb.lost || rb.failed_at >= 0)
        return classify(s, &rb, errstr, errsz);
    if (n == 1) {
        char reason[600];
        snprintf(reason, sizeof reason, "%s (SQLSTATE %s)", rt.msg, rt.sqlstate);
        sink_tx_reset(tx);
        if (rill_sink_reject(tx, &recs[0], reason) != RILL_OK)
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory"), PG_TRANSIENT;
        run_between(s, tx, NULL, NULL, &first, &rt);
        if (rt.lost || rt.failed_at >= 0)
            return classify(s, &rt, errstr, errsz);
        (*rejected)++; /* its line is logged with the others once committed */
        return PG_COMMITTED;
    }
    o = bisect(s, tx, def, state, recs, n / 2, rejected, errstr, errsz);
    return o == PG_COMMITTED
               ? bisect(s, tx, def, state, recs + n / 2, n - n / 2, rejected, errstr, errsz)
               : o;
}

/* The end of a round trip that carried COMMIT: 1 with *out PG_COMMITTED,
 * or PG_AMBIGUOUS when the connection was lost before any error was seen
 * (COMMIT may have run); 0 when a statement failed (rt says which). */
static int commit_outcome(struct pg_session *s, const struct rill_sink_def *def, void *state,
                          const struct roundtrip *rt, enum pg_outcome *out, char *errstr,
                          size_t errsz)
{
    if (!rt->lost && rt->failed_at < 0) {
        sink_end(def, state, 1);
        *out = PG_COMMITTED;
        return 1;
    }
    sink_end(def, state, 0);
    /* an error before COMMIT: nothing committed. An error on COMMIT itself
     * with the connection gone (a server going down) may still have been
     * written: that is as unknown as no answer */
    if (rt->failed_at >= 0 && !(rt->lost && rt->failed_at == rt->ncmds - 1))
        return 0;
    rill_errf(errstr, errsz, RILL_ERR_PG, "connection lost before COMMIT was answered: %s",
              rt->msg[0] ? rt->msg : "no answer");
    pg_disconnect(s);
    *out = PG_AMBIGUOUS;
    return 1;
}

static enum pg_outcome batch_once(struct pg_session *s, rill_sink_tx_t *tx,
                                  const struct rill_sink_def *def, void *state,
                                  const struct rill_sink_rec *recs, size_t n,
                                  const struct pg_advance *adv, size_t nadv, size_t *rejected,
                                  char *errstr, size_t errsz);

enum pg_outcome pg_batch(struct pg_session *s, rill_sink_tx_t *tx, const struct rill_sink_def *def,
                         void *state, const struct rill_sink_rec *recs, size_t n,
                         const struct pg_advance *adv, size_t nadv, size_t *rejected,
                         char *errstr, size_t errsz)
{
    enum pg_outcome o = batch_once(s, tx, def, state, recs, n, adv, nadv, rejected, errstr,
                                   errsz);
    /* whatever did not commit, the sink forgets what it learned of it */
    if (o != PG_COMMITTED)
        sink_end(def, state, 0);
    return o;
}

static enum pg_outcome batch_once(struct pg_session *s, rill_sink_tx_t *tx,
                                  const struct rill_sink_def *def, void *state,
                                  const struct rill_sink_rec *recs, size_t n,
                                  const struct pg_advance *adv, size_t nadv, size_t *rejected,
                                  char *errstr, size_t errsz)
{
    *rejected = 0;
    sink_rejects_clear(tx);
    if (pg_connect(s, errstr, errsz) != RILL_OK)
        return PG_TRANSIENT;
    enum pg_outcome o = write_part(tx, def, state, recs, n, errstr, errsz);
    if (o != PG_COMMITTED)
        return o;
    if (queue_advance(tx, s->group, adv, nadv) != RILL_OK) {
        sink_tx_reset(tx);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory"), PG_TRANSIENT;
    }
    struct roundtrip rt;
    size_t first;
    run_between(s, tx, "BEGIN", "COMMIT", &first, &rt);
    size_t ncmds = tx->nstmts + 2;
    sink_tx_reset(tx);
    if (commit_outcome(s, def, state, &rt, &o, errstr, errsz)) {
        if (o == PG_COMMITTED)
            *rejected = sink_rejects_commit(tx);
        return o;
    }
    int at_sink = rt.failed_at >= (int)first && rt.failed_at < (int)(ncmds - 2);
    if (!at_sink || !data_state(rt.sqlstate))
        return classify(s, &rt, errstr, errsz);
    rollback(s);
    rill_log(RILL_LOG_INFO, "sink", "batch refused for its data, bisecting|sink=%s records=%zu "
             "reason=\"%s (SQLSTATE %s)\"", s->sink, n, rt.msg, rt.sqlstate);
    /* the slow path: the same batch in savepoint-guarded parts */
    sink_rejects_clear(tx);
    simple(s, "BEGIN", &rt);
    if (rt.lost || rt.failed_at >= 0)
        return classify(s, &rt, errstr, errsz);
    o = bisect(s, tx, def, state, recs, n, rejected, errstr, errsz);
    if (o != PG_COMMITTED) {
        rollback(s);
        *rejected = 0;
        return o;
    }
    sink_tx_reset(tx);
    if (queue_advance(tx, s->group, adv, nadv) != RILL_OK) {
        rollback(s);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory"), PG_TRANSIENT;
    }
    run_between(s, tx, NULL, "COMMIT", &first, &rt);
    sink_tx_reset(tx);
    if (commit_outcome(s, def, state, &rt, &o, errstr, errsz)) {
        if (o == PG_COMMITTED)
            *rejected = sink_rejects_commit(tx);
        return o;
    }
    *rejected = 0;
    return classify(s, &rt, errstr, errsz);
}
