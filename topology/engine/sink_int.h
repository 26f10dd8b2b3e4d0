/*
 * sink_int.h - internal: the sink runtime's parts (DESIGN.md sections 3.3
 * and 10) and what they share. sink_rows.c holds a batch's memory and the
 * rows sinks build (processors/sink.h's row helpers); sink_pg.c the
 * PostgreSQL session of a sink thread: connecting, claiming partitions
 * (epoch bump), the pipelined batch transaction with its fenced position
 * update, the read-back after an ambiguous COMMIT, and the savepoint
 * bisection that sends refused records to the dead-letter table;
 * sink_loop.c the sink thread: its consumer, rebalances, batching, retries
 * with backoff and the circuit-breaker log, Kafka offset commits.
 *
 * Threading: a struct sink_thread and all it holds belong to its thread
 * (and to the engine before pthread_create and after pthread_join).
 */
#ifndef RILL_SINK_INT_H
#define RILL_SINK_INT_H

#include "processors/sink.h"
#include "topology/engine/engine_int.h"
#include "topology/model/config.h"

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* ---- a batch's memory and statements (sink_rows.c) ------------------------ */

struct sink_chunk;

/* A queued statement: its parameters live in the tx arena. */
struct sink_stmt {
    const char *sql;
    int nparams;
    const char **values;
    int *lengths;           /* NULL: all text */
    int *formats;           /* NULL: all text; 1: binary */
    rill_sink_row_fn fn;    /* rows returned go here; NULL: none expected */
    void *opaque;
};

struct rill_sink_tx {
    struct sink_chunk *chunks; /* the arena: freed by sink_tx_reset() */
    size_t arena_bytes;
    struct sink_stmt *stmts;
    size_t nstmts, cap;
    int oom;                /* an allocation failed since the last reset */
    const char *group;      /* for dead-letter rows */
    const char *sink;       /* the sink's YAML name */
    /* The dead letters of the transaction being built, as the key=value
     * text of their log lines (malloc'd, not in the arena: they outlive
     * sink_tx_reset() until the transaction's fate is known). */
    char **rejects;
    size_t nrejects, rejects_cap;
};

void sink_tx_init(rill_sink_tx_t *tx, const char *group, const char *sink);
/* Frees the arena and forgets the statements. */
void sink_tx_reset(rill_sink_tx_t *tx);
void sink_tx_free(rill_sink_tx_t *tx);
/* Copies s (len bytes, NUL added) into the arena. */
char *sink_tx_strdup(rill_sink_tx_t *tx, const char *s, size_t len);
/* Queues a statement of n parameters (copied into the arena). */
rill_err_t sink_tx_queue(rill_sink_tx_t *tx, const char *sql, int n, const char *const *values,
                         const int *lengths, const int *formats, rill_sink_row_fn fn,
                         void *opaque);

/* The dead letters queued so far in this transaction, forgotten: all of
 * them (clear), or those after the first n (truncate: a part rolled back to
 * a savepoint). */
void sink_rejects_clear(rill_sink_tx_t *tx);
void sink_rejects_truncate(rill_sink_tx_t *tx, size_t n);
/* The transaction committed: logs one line per dead letter it holds
 * ("record to the dead-letter table", with its trace_id), forgets them and
 * returns how many there were. */
size_t sink_rejects_commit(rill_sink_tx_t *tx);

/* The trace id of rec as hex into out (RILL_TRACE_ID_HEX + 1 bytes): its
 * valid traceparent header's, else the one derived from its coordinates,
 * as every processor that read it derived it. */
void sink_rec_trace_id(const struct rill_sink_rec *rec, char *out);

/* The PostgreSQL array literal of values[0..n) (NULL: SQL NULL), quoted and
 * escaped, into the arena; NULL when out of memory. */
char *sink_array_literal(rill_sink_tx_t *tx, const char *const *values, size_t n);

/* ---- the PostgreSQL session (sink_pg.c) ------------------------------------ */

/* How a batch transaction ended. */
enum pg_outcome {
    PG_COMMITTED = 0,
    PG_TRANSIENT,           /* not committed; retry (connection lost before COMMIT,
                             * serialization failure, deadlock, lock timeout, ...) */
    PG_AMBIGUOUS,           /* the connection dropped during COMMIT: read back */
    PG_FENCED,              /* a newer owner holds a partition: nothing committed */
    PG_FATAL,               /* a bug or a configuration error (no such table, ...) */
};

/* One partition's position in a batch transaction. */
struct pg_advance {
    const char *topic;
    int32_t partition;
    int64_t epoch;
    int64_t expected;       /* rill_offsets.next_offset now */
    int64_t next;           /* what the batch moves it to */
};

struct pg_session {
    PGconn *conn;           /* NULL: not connected */
    const char *dsn;        /* never logged */
    const char *sink, *group;
    int timeout_ms;         /* how long one round trip may take */
};

/* Connects (when not connected) and sets the session's timeouts. An error
 * says why without the DSN. */
rill_err_t pg_connect(struct pg_session *s, char *errstr, size_t errsz);
void pg_disconnect(struct pg_session *s);

/* Bumps the epoch of each listed partition (creating its row at epoch 0,
 * next offset 0) and returns the new epochs and stored next offsets in
 * epochs[] and nexts[], in list order. RILL_ERR_RETRY on a transient
 * failure (the caller retries), another error otherwise. */
rill_err_t pg_claim(struct pg_session *s, const rd_kafka_topic_partition_list_t *parts,
                    int64_t *epochs, int64_t *nexts, char *errstr, size_t errsz);

/* Runs one batch: write() of def over recs[0..n) (none when n is 0: a
 * position-only transaction), the fenced advance of adv[0..nadv), COMMIT;
 * and when the database refuses the batch for its data, the bisection with
 * savepoints that puts the refused records in the dead-letter table.
 * *rejected counts them. errstr says why when not PG_COMMITTED. */
enum pg_outcome pg_batch(struct pg_session *s, rill_sink_tx_t *tx, const struct rill_sink_def *def,
                         void *state, const struct rill_sink_rec *recs, size_t n,
                         const struct pg_advance *adv, size_t nadv, size_t *rejected,
                         char *errstr, size_t errsz);

/* After PG_AMBIGUOUS: reads the positions back. PG_COMMITTED when every
 * partition is at its next with this epoch, PG_TRANSIENT when every one is
 * still at its expected offset (the batch must run again), PG_FENCED when
 * an epoch moved; PG_AMBIGUOUS again when it cannot be read yet. */
enum pg_outcome pg_read_back(struct pg_session *s, const struct pg_advance *adv, size_t nadv,
                             char *errstr, size_t errsz);

/* ---- the sink thread (sink_loop.c) ------------------------------------------ */

struct rill_engine;

struct sink_part {
    char *topic;
    int32_t partition;
    int64_t epoch;
    int64_t committed;      /* rill_offsets.next_offset as last committed */
    int64_t next;           /* after the last record of the batch; -1: none */
    int64_t last_ts;        /* timestamp (ms) of the last record taken; 0 none */
};

struct sink_thread {
    struct rill_engine *e;
    const struct rill_sink_conf *sc;
    const struct rill_sink_def *def;
    void *conf;             /* the filled config struct */
    void *state;            /* the sink instance */
    char group[512];
    pthread_t tid;
    rd_kafka_t *consumer;
    struct pg_session pg;
    rill_sink_tx_t tx;
    struct sink_part *parts;
    size_t nparts;
    rd_kafka_message_t **batch;
    size_t nbatch, batch_cap;
    int64_t batch_since;    /* when the batch's first record came */
    int64_t last_flush;
    int64_t last_lag;       /* when the lag was last published */
    int backoff_ms;         /* 0: the circuit is closed */
    int64_t retry_at;
    int64_t open_since;     /* when the circuit opened */
    int paused;
    int ambiguous;          /* the last COMMIT's fate is unknown: read back first */
    atomic_int failed;      /* stopped for good: err says why (read by the HTTP thread) */
    char err[1024];
    /* records_in: records committed; commits: batches; dlq: dead letters;
     * retries; rebalances; assigned: holds its claimed partitions */
    struct thread_metrics m;
    _Atomic int circuit_open;
    struct view view;       /* its claimed partitions, for /topology (view_int.h) */
};

/* Prepares st for sink sc of the engine (config filled, instance made);
 * an error with errstr. */
rill_err_t sink_thread_init(struct sink_thread *st, struct rill_engine *e,
                            const struct rill_sink_conf *sc, char *errstr, size_t errsz);
void *sink_thread_main(void *arg);
void sink_thread_fini(struct sink_thread *st);

#pragma GCC visibility pop

#endif
