/*
 * sink.h - the sink API (DESIGN.md section 10): a sink turns a batch of Kafka
 * records into rows; the runtime owns everything else. Per batch the runtime
 * opens one PostgreSQL transaction, calls the sink's write() with the batch,
 * and the sink queues its statements through the helpers below (each column
 * of rows goes as one array parameter, for `unnest($1::text[], ...)`); the
 * runtime then adds the fenced position update of every partition in the
 * batch and the COMMIT, sends it all pipelined (about one round trip per
 * batch), and checks every result. A sink never commits, never sees a
 * connection or a Kafka handle, and never retries: the runtime retries
 * transient faults (with the same batch), and when the database refuses a
 * batch for its data it bisects it with savepoints, calling write() again
 * with parts of the batch, until the refused records alone go to the
 * dead-letter table (rill_dead_letters) and the rest lands.
 *
 * So write() must be a function of the records it is handed (and of what
 * earlier committed transactions taught the sink), and replays must be
 * harmless: rows carry natural keys with ON CONFLICT DO NOTHING, current
 * state moves only forward, and a statement never touches a row twice
 * (rill_sink_cols_dedupe() keeps the last value per key, sorted, which also
 * gives two writers of the same rows one lock order).
 *
 * Threading: a sink instance and its tx belong to one sink thread. Every
 * pointer handed to write() (records, tx, columns) is valid during that call
 * only; a column set lives until the batch ends.
 */
#ifndef RILL_SINK_H
#define RILL_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "processors/processor.h"

#define RILL_SINK_VERSION 1

typedef struct rill_sink_tx rill_sink_tx_t;     /* the open transaction of a batch */
typedef struct rill_sink_cols rill_sink_cols_t; /* rows being built, column by column */

/* One record of the batch, in the order consumed (per partition, by offset). */
struct rill_sink_rec {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;   /* ms since the epoch; -1 when the record has none */
    const void *key;     /* NULL when the record has no key */
    size_t key_len;
    const void *value;   /* NULL for a tombstone */
    size_t value_len;
    /* The runtime's own: the Kafka message the record is, for the record's
     * trace id in the runtime's log lines; NULL in a record a test made. A
     * sink leaves it alone. */
    const void *origin;
};

/* ---- rows ------------------------------------------------------------------ */

/* The most columns (array parameters) of one statement. */
#define RILL_SINK_MAX_COLS 16

/* A new, empty set of ncols columns (1..RILL_SINK_MAX_COLS), owned by tx and
 * freed with the batch. NULL when out of memory or ncols is out of range. */
rill_sink_cols_t *rill_sink_cols_new(rill_sink_tx_t *tx, int ncols);

/* Appends one row: vals[0..ncols) in PostgreSQL's text form (a NULL pointer
 * is SQL NULL). The runtime copies them. RILL_OK or RILL_ERR_NOMEM: a value
 * PostgreSQL refuses (not UTF-8, too long for its column, out of range) is
 * found by the database, and the runtime's bisection sends its record to the
 * dead-letter table. */
rill_err_t rill_sink_row(rill_sink_cols_t *c, const char *const *vals);

/* Rows appended so far. */
size_t rill_sink_cols_rows(const rill_sink_cols_t *c);

/* Sorts the rows by their first nkey columns (bytewise, NULL first) and keeps
 * the last row appended of each key. */
void rill_sink_cols_dedupe(rill_sink_cols_t *c, int nkey);

/* Appends every row of src to dst (the same number of columns). RILL_OK,
 * RILL_ERR_NOMEM, or RILL_ERR_INVALID when the column counts differ. */
rill_err_t rill_sink_cols_append(rill_sink_cols_t *dst, const rill_sink_cols_t *src);

/* Appends column col of every row of src, as rows of dst (one column). */
rill_err_t rill_sink_cols_project(rill_sink_cols_t *dst, const rill_sink_cols_t *src, int col);

/* size bytes, zeroed, owned by tx and freed with the batch (for what must
 * outlive write(), such as a query callback's opaque). NULL when out of
 * memory. */
void *rill_sink_tx_alloc(rill_sink_tx_t *tx, size_t size);

/* Value spellings for rill_sink_row(), into buf (RILL_SINK_FMT_SIZE bytes),
 * returning buf: an int64, a number of ten-thousandths as an exact decimal
 * ("12.3400", "-0.0001"), and ms since the epoch as a UTC timestamptz
 * ("2026-12-01 10:00:00.123+00"). */
#define RILL_SINK_FMT_SIZE 40
const char *rill_sink_fmt_int(char *buf, int64_t v);
const char *rill_sink_fmt_e4(char *buf, int64_t v);
const char *rill_sink_fmt_ms(char *buf, int64_t ms);

/* ---- statements -------------------------------------------------------------- */

/* Queues sql in the batch's transaction, with column i of c as parameter
 * $(i+1), a PostgreSQL array literal (cast it in sql: $1::text[]). Nothing
 * is sent when c has no rows. The runtime checks the result. */
rill_err_t rill_sink_exec(rill_sink_tx_t *tx, const char *sql, const rill_sink_cols_t *c);

/* As rill_sink_exec() with the columns of several sets, numbered in order
 * ($1.. for sets[0]'s, then sets[1]'s, ...; RILL_SINK_MAX_COLS in all).
 * Nothing is sent when sets[0] has no rows. */
rill_err_t rill_sink_exec_sets(rill_sink_tx_t *tx, const char *sql,
                               const rill_sink_cols_t *const *sets, int nsets);

/* Called with each row a query returns (text values, NULL for SQL NULL),
 * before the transaction commits. The values are valid during the call. */
typedef void (*rill_sink_row_fn)(void *opaque, int ncols, const char *const *vals);

/* As rill_sink_exec(), and each row the statement returns goes to fn. */
rill_err_t rill_sink_query(rill_sink_tx_t *tx, const char *sql, const rill_sink_cols_t *c,
                           rill_sink_row_fn fn, void *opaque);

/* Sends rec to the dead-letter table with reason, in this transaction: for a
 * record the sink cannot turn into rows (it does not decode, ...). Once the
 * transaction commits, the runtime logs one line per dead letter, with the
 * record's trace id. */
rill_err_t rill_sink_reject(rill_sink_tx_t *tx, const struct rill_sink_rec *rec,
                            const char *reason);

/* ---- the sink ----------------------------------------------------------------- */

struct rill_sink_def {
    int version;                      /* RILL_SINK_VERSION when built */
    const char *name;                 /* the YAML `type:` */
    const char *doc;                  /* one line */
    const char *const *inputs_doc;    /* the kinds of input it reads, NULL-terminated (docs) */
    const struct rill_conf_def *conf; /* its `config:` keys, {NULL}-terminated; may be NULL */
    size_t conf_size;                 /* sizeof the struct conf fills */
    /* Creates the instance; conf is the filled config struct (valid until
     * fini). An error with errstr, after freeing what it made. */
    rill_err_t (*init)(void **state, const void *conf, char *errstr, size_t errsz);
    /* Turns recs[0..n) into statements of tx (or rejects some of them). An
     * error other than RILL_ERR_NOMEM is a bug of the sink: the batch is
     * rolled back and the sink stops. */
    rill_err_t (*write)(void *state, rill_sink_tx_t *tx, const struct rill_sink_rec *recs,
                        size_t n, char *errstr, size_t errsz);
    /* Optional: the statements of the last write() committed (1), or were
     * rolled back, wholly or to a savepoint (0). A cache learns here. */
    void (*end)(void *state, int committed);
    /* Optional: frees state. */
    void (*fini)(void *state);
};

#endif
