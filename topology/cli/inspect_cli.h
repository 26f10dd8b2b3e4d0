/*
 * inspect_cli.h - what the files of `rill inspect` share (cmd_inspect*.c):
 * the options every subcommand takes (-c FILE, -F, -X, -b, --json), the
 * connection made from them (a topology's kafka: map, then the -F files,
 * then -X, then -b, like the other commands), an aligned text table, and the
 * shapes a record is printed in (a JSON object, a table row). The data come
 * from topology/admin/inspect.h; this layer only parses arguments, prints
 * and picks the exit status.
 *
 * The record formatting is pure (the unit tier tests it): it never writes a
 * raw control byte, whatever the record holds.
 */
#ifndef RILL_CLI_INSPECT_CLI_H
#define RILL_CLI_INSPECT_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "schemas/serde.h"
#include "topology/admin/inspect.h"
#include "topology/base/jsonw.h"
#include "topology/cli/kprops.h"
#include "topology/model/config.h"

/* The subcommands (cmd_inspect.c dispatches; argv[0] is the subcommand). */
int rill_inspect_topics_cmd(int argc, char **argv);   /* cmd_inspect_topics.c */
int rill_inspect_describe_cmd(int argc, char **argv); /* cmd_inspect_topics.c */
int rill_inspect_groups_cmd(int argc, char **argv);   /* cmd_inspect_groups.c */
int rill_inspect_read_cmd(int argc, char **argv);     /* cmd_inspect_read.c */

/* The common options of every subcommand. */
struct rill_icli {
    const char *cmd;          /* "topics", ... (for messages: "rill inspect topics: ...") */
    const char *file;         /* the topology file (positional or -c) */
    int file_scopes;          /* the file also chose what to show (positional FILE) */
    int json;
    const char *brokers;      /* -b */
    struct rill_kprops_args ka;
    struct rill_topology *t;  /* loaded (and checked) when file is set */
    rill_inspect_t *in;       /* after rill_icli_connect() */
};

/* The getopt_long() entries of the common options, to copy into a
 * subcommand's table (ends with a zeroed entry), and their short options. */
#define RILL_ICLI_SHORTOPTS "c:F:X:b:h"
#define RILL_ICLI_LONGOPTS                                                                   \
    { "topology", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' },       \
        { "brokers", required_argument, NULL, 'b' }, { "help", no_argument, NULL, 'h' }

/* Prepares ic for argc arguments; -1 when out of memory (printed). */
int rill_icli_init(struct rill_icli *ic, const char *cmd, int argc);
/* Takes a common option: 1 when opt was one, 0 when it is the caller's. */
int rill_icli_option(struct rill_icli *ic, int opt, const char *arg);
/* Loads and checks the topology (when file is set) and connects; reads are
 * read_committed unless committed is 0. Prints the error and returns -1. */
int rill_icli_connect(struct rill_icli *ic, int committed);
void rill_icli_done(struct rill_icli *ic);
/* "rill inspect <cmd>: <msg>" on stderr. */
void rill_icli_error(const struct rill_icli *ic, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The help text of the common options. */
extern const char rill_icli_common_help[];

/* The topology's topics with their role ("topic", "dlq", "changelog"), as
 * `rill apply` makes them; free with rill_icli_topics_free(). -1 on error
 * (printed). */
int rill_icli_topology_topics(struct rill_icli *ic, char ***names, const char ***roles,
                              size_t *n);
void rill_icli_topics_free(char **names, const char **roles, size_t n);

/* ---- an aligned table ----------------------------------------------------------- */

struct rill_table {
    size_t ncols;
    const char *const *head;
    const char *align;        /* one 'l' or 'r' per column */
    char **cells;             /* nrows * ncols, owned */
    size_t nrows, cap;
    int oom;
    int no_head;              /* print the rows only (a later chunk of the same table) */
};

void rill_table_init(struct rill_table *t, size_t ncols, const char *const *head,
                     const char *align);
/* Adds a row of ncols cells (copied; NULL prints as "-"). */
void rill_table_add(struct rill_table *t, const char *const *cells);
/* Prints the head and the rows, columns as wide as their widest cell (in
 * UTF-8 characters), two blanks apart; the last column is not padded. */
void rill_table_print(const struct rill_table *t, FILE *out);
void rill_table_free(struct rill_table *t);

/* ---- records ------------------------------------------------------------------- */

struct rill_icli_header {
    const char *name;
    const void *value;        /* NULL: a header without a value */
    size_t len;
};

/* A record as read, free of librdkafka types (what the printers need). */
struct rill_icli_rec {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;        /* ms since the epoch; -1 when none */
    int tstype;               /* rd_kafka_timestamp_type_t */
    const void *key;          /* NULL: no key */
    size_t key_len;
    const void *value;        /* NULL: a tombstone */
    size_t value_len;
    const struct rill_icli_header *headers;
    size_t nheaders;
};

/* "2026-11-22T10:00:00.123Z" into buf (size 32 or more); "-" for ms < 0. */
void rill_icli_time(int64_t ms, char *buf, size_t size);

/* The record as one JSON object (a line of --json): topic, partition,
 * offset, timestamp, timestamp_type, time, key and key_format, headers
 * ([{name, value}], with "value_format":"base64" on a binary one), value
 * and value_format (rill_serde_show()), schema_id and schema when framed,
 * value_error when a framed value does not decode. RILL_ERR_NOMEM. */
rill_err_t rill_icli_record_json(rill_serde_t *s, const struct rill_icli_rec *r, rill_jsonw_t *w);

/* The record's cells for the read table: partition, offset, time, key,
 * headers, value (each escaped as a JSON string's inside, or base64: when
 * binary). cells[0..6) are malloc'd (free each); RILL_ERR_NOMEM. */
rill_err_t rill_icli_record_cells(rill_serde_t *s, const struct rill_icli_rec *r,
                                  char *cells[6]);

/* Bytes shown as text on a terminal: the inside of their JSON string when
 * they are UTF-8 without NUL (escapes and all), else "base64:..."; "-" for
 * NULL. malloc'd; NULL when out of memory. */
char *rill_icli_display(const void *p, size_t n);

#endif
