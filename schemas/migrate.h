/*
 * migrate.h - versioned PostgreSQL migrations (schemas/sql/NNNN_name.sql):
 * the set compiled into rill or read from a folder, and the runner behind
 * `rill migrate`. The runner keeps rill_schema_migrations(version, name,
 * checksum, applied_at) in the connection's current schema and applies the
 * pending migrations in version order, each with its version row in one
 * transaction under a transaction-level advisory lock, so that two runners
 * never apply one twice. It refuses, before applying anything, a set that
 * disagrees with the database: an applied migration whose checksum (SHA-256
 * of the file's bytes) or name changed, a version applied in the database
 * that the set lacks, and a pending migration older than an applied one. A
 * migration must not end its transaction itself (BEGIN/COMMIT in the file)
 * nor use statements that cannot run in one (CREATE INDEX CONCURRENTLY).
 *
 * Not a SQL parser and not a downgrade tool: migrations only go forward.
 * Nothing here prints or exits; errors go to errstr and never hold the
 * connection string or its password. Not thread-safe on one connection.
 */
#ifndef RILL_SCHEMAS_MIGRATE_H
#define RILL_SCHEMAS_MIGRATE_H

#include "topology/rill.h"

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* The first key of the advisory lock; the second is
 * hashtext(current_schema()), so runners on different schemas do not wait
 * for each other: pg_advisory_xact_lock(RILL_MIGRATE_LOCK_KEY,
 * hashtext(current_schema())). 0x72696c6c is "rill". */
#define RILL_MIGRATE_LOCK_KEY 1919511660
/* The largest migration file read from a folder. */
#define RILL_MIGRATE_MAX_FILE (16 * 1024 * 1024)
/* The longest name after "NNNN_" and before ".sql". */
#define RILL_MIGRATE_MAX_NAME 64
#define RILL_MIGRATE_SHA256_HEX 65 /* 64 hex digits and the NUL */
/* rill_migrate_connect()'s connect_timeout in seconds, unless the DSN sets
 * its own. */
#define RILL_MIGRATE_CONNECT_TIMEOUT "10"

struct rill_migration {
    int version;                   /* NNNN, 1..9999 */
    char name[RILL_MIGRATE_MAX_NAME + 6]; /* "0001_oltp": the file name without .sql */
    char *sql;                     /* the file's bytes, NUL-terminated (owned) */
    size_t len;
    char checksum[RILL_MIGRATE_SHA256_HEX]; /* lowercase SHA-256 hex of the bytes */
};

/* Migrations in ascending version order, versions unique. */
struct rill_migration_set {
    struct rill_migration *v;
    size_t n;
};

/* Parses a file name "NNNN_name.sql": four digits (0001..9999), '_', a name
 * of 1..RILL_MIGRATE_MAX_NAME lowercase letters, digits and '_', ".sql".
 * On success sets *version and writes "NNNN_name" into name (size
 * RILL_MIGRATE_MAX_NAME + 6); otherwise RILL_ERR_INVALID with a message
 * that quotes the file name. */
rill_err_t rill_migrate_parse_name(const char *file, int *version, char *name, size_t namesz,
                                   char *errstr, size_t errsz);

/* The lowercase SHA-256 hex of n bytes at p into hex. */
void rill_migrate_checksum(const void *p, size_t n, char hex[RILL_MIGRATE_SHA256_HEX]);

/* The set compiled into rill from schemas/sql/ (a copy the caller frees with
 * rill_migrate_set_free). */
rill_err_t rill_migrate_set_embedded(struct rill_migration_set *out, char *errstr, size_t errsz);

/* The set of the *.sql files of dir (other files and dot files are ignored;
 * a .sql file with a bad name, an empty or unreadable one, one over
 * RILL_MIGRATE_MAX_FILE, one holding a NUL byte, two files with one version,
 * or no migration at all is an error naming the file). */
rill_err_t rill_migrate_set_from_dir(const char *dir, struct rill_migration_set *out,
                                     char *errstr, size_t errsz);

void rill_migrate_set_free(struct rill_migration_set *s);

/* Connects to dsn (a libpq keyword string or URI), with notices dropped
 * (they would go to stderr). Writes where it connected into where,
 * "user@host:port/dbname", even when the connection failed (empty when the
 * DSN cannot be parsed). An error never quotes the DSN, and libpq's message
 * has the password cut out. *out is NULL on failure; PQfinish() it. */
rill_err_t rill_migrate_connect(const char *dsn, PGconn **out, char *where, size_t wheresz,
                                char *errstr, size_t errsz);

/* What one migration is in the database, for --status. */
enum rill_migration_state {
    RILL_MIGRATION_APPLIED,  /* applied, same checksum and name */
    RILL_MIGRATION_PENDING,  /* in the set, not applied */
    RILL_MIGRATION_CHANGED,  /* applied with another checksum or name: refused */
    RILL_MIGRATION_UNKNOWN,  /* applied, but not in the set: refused */
    RILL_MIGRATION_OUT_OF_ORDER, /* pending, older than an applied one: refused */
};

struct rill_migration_status {
    int version;
    char name[RILL_MIGRATE_MAX_NAME + 6];    /* the set's name, else the database's */
    enum rill_migration_state state;
    char db_name[RILL_MIGRATE_MAX_NAME + 6]; /* as applied ("" when not applied) */
    char db_checksum[RILL_MIGRATE_SHA256_HEX];
    char applied_at[40];                     /* as PostgreSQL prints it, "" when not */
};

/* Reads the version table of the current schema (none: everything pending)
 * and compares it with set, changing nothing. *out (malloc'd, free()) gets
 * one entry per version of the set or the database, in version order. */
rill_err_t rill_migrate_status(PGconn *c, const struct rill_migration_set *set,
                               struct rill_migration_status **out, size_t *n, char *errstr,
                               size_t errsz);

/* Called after each migration the runner applied, with the milliseconds it
 * took (the migration's transaction, commit included). */
typedef void (*rill_migrate_applied_fn)(void *opaque, const struct rill_migration *m,
                                        int64_t ms);

/* Creates the version table if need be, then applies the pending
 * migrations of set in version order, calling applied (may be NULL) after
 * each. *applied_now (may be NULL) gets how many this call applied. A set
 * the database disagrees with (see the top of this file) is refused with
 * RILL_ERR_INVALID before anything is applied; a failing migration is
 * rolled back entirely (RILL_ERR_PG, naming its file, the line and
 * PostgreSQL's message), the ones before it stay applied. */
rill_err_t rill_migrate_apply(PGconn *c, const struct rill_migration_set *set,
                              rill_migrate_applied_fn applied, void *opaque,
                              size_t *applied_now, char *errstr, size_t errsz);

#endif
