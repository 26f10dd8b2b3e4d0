/*
 * cmd_migrate.c - `rill migrate DSN | --dsn-file FILE | -c FILE [--dir DIR]
 * [--status]`:
 * applies the PostgreSQL migrations (compiled into rill, or DIR's) to one
 * database, or to the database of every sink of a topology (each distinct
 * dsn once), and prints one line per migration applied and a summary;
 * --status lists what is applied and pending and changes nothing. Exit
 * status: 0 done, 1 failed or refused, 2 usage. The DSN is never printed,
 * nor its password: a database is named user@host:port/dbname. The runner
 * is schemas/migrate.c's.
 */
#include "schemas/migrate.h"
#include "topology/cli/cli.h"
#include "topology/model/config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int migrate_usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill migrate DSN [--dir DIR] [--status]\n"
            "       rill migrate --dsn-file FILE [--dir DIR] [--status]\n"
            "       rill migrate -c FILE [--dir DIR] [--status]\n"
            "\n"
            "Applies the PostgreSQL migrations rill was built with (schemas/sql/) that the\n"
            "database does not have yet, in version order, each in its own transaction,\n"
            "and records them in rill_schema_migrations in the connection's current schema.\n"
            "Re-running changes nothing; an applied migration that changed, or a version\n"
            "the set does not have, is refused before anything is applied.\n"
            "\n"
            "  DSN            a libpq connection string or postgresql:// URI\n"
            "  --dsn-file F   the DSN from file F (keeps the password off the command line)\n"
            "  -c FILE        the dsn of every sink of the topology in FILE, each once\n"
            "  --dir DIR      the NNNN_name.sql files of DIR instead of the built-in ones\n"
            "  --status       list applied and pending migrations; change nothing\n"
            "  --help         this text\n");
    return rc;
}

struct target {
    const char *dsn;
    char sinks[512];   /* the sinks that name it, for -c */
};

static void print_applied(void *opaque, const struct rill_migration *m, int64_t ms)
{
    (void)opaque;
    printf("applied %s (%" PRId64 " ms)\n", m->name, ms);
    fflush(stdout);
}

static const char *state_word(enum rill_migration_state s)
{
    switch (s) {
    case RILL_MIGRATION_APPLIED: return "applied";
    case RILL_MIGRATION_PENDING: return "pending";
    case RILL_MIGRATION_CHANGED: return "changed";
    case RILL_MIGRATION_UNKNOWN: return "unknown";
    case RILL_MIGRATION_OUT_OF_ORDER: return "pending";
    }
    return "?";
}

static int print_status(PGconn *c, const struct rill_migration_set *set, const char *where)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_migration_status *st = NULL;
    size_t n = 0, applied = 0, pending = 0, refused = 0;
    if (rill_migrate_status(c, set, &st, &n, err, sizeof err) != RILL_OK) {
        fprintf(stderr, "rill migrate: %s: %s\n", where, err);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        const struct rill_migration_status *s = &st[i];
        const struct rill_migration *m = NULL;
        for (size_t j = 0; j < set->n && !m; j++)
            if (set->v[j].version == s->version)
                m = &set->v[j];
        printf("%s %s", state_word(s->state), s->name);
        switch (s->state) {
        case RILL_MIGRATION_APPLIED:
            printf(" at %s sha256 %.12s", s->applied_at, s->db_checksum);
            applied++;
            break;
        case RILL_MIGRATION_PENDING:
            printf(" sha256 %.12s", m->checksum);
            pending++;
            break;
        case RILL_MIGRATION_CHANGED:
            printf(" at %s as %s: sha256 %.12s in the database, %.12s in the file (refused)",
                   s->applied_at, s->db_name, s->db_checksum, m->checksum);
            refused++;
            break;
        case RILL_MIGRATION_UNKNOWN:
            printf(" at %s sha256 %.12s: not in this set (refused)", s->applied_at,
                   s->db_checksum);
            refused++;
            break;
        case RILL_MIGRATION_OUT_OF_ORDER:
            printf(" sha256 %.12s: older than an applied version (refused)", m->checksum);
            refused++;
            break;
        }
        printf("\n");
    }
    printf("status: %zu applied, %zu pending%s\n", applied, pending,
           refused ? ", refused: see above" : "");
    free(st);
    fflush(stdout);
    if (refused)
        fprintf(stderr, "rill migrate: %s: %zu migration%s disagree%s with the database; "
                        "rill migrate would refuse to run\n",
                where, refused, refused == 1 ? "" : "s", refused == 1 ? "s" : "");
    return refused ? 1 : 0;
}

/* Migrates (or shows) one database; returns the exit status. */
static int migrate_one(const struct target *t, const struct rill_migration_set *set, int status)
{
    char err[RILL_ERRSTR_SIZE], where[512];
    PGconn *c = NULL;
    if (rill_migrate_connect(t->dsn, &c, where, sizeof where, err, sizeof err) != RILL_OK) {
        fflush(stdout);
        if (t->sinks[0])
            fprintf(stderr, "rill migrate: sink %s: %s\n", t->sinks, err);
        else
            fprintf(stderr, "rill migrate: %s\n", err);
        return 1;
    }
    PGresult *r = PQexec(c, "SELECT current_schema()");
    const char *schema = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
                                 !PQgetisnull(r, 0, 0)
                             ? PQgetvalue(r, 0, 0)
                             : "(none)";
    printf("database %s schema %s%s%s\n", where, schema, t->sinks[0] ? " sink " : "", t->sinks);
    fflush(stdout);
    PQclear(r);
    int rc;
    if (status) {
        rc = print_status(c, set, where);
    } else {
        size_t now = 0;
        if (rill_migrate_apply(c, set, print_applied, NULL, &now, err, sizeof err) != RILL_OK) {
            fflush(stdout);
            fprintf(stderr, "rill migrate: %s: %s\n", where, err);
            rc = 1;
        } else {
            if (now)
                printf("up to date: %zu migrations, %zu applied now\n", set->n, now);
            else
                printf("up to date: %zu migrations\n", set->n);
            rc = 0;
        }
    }
    fflush(stdout);
    PQfinish(c);
    return rc;
}

/* The distinct dsn of the sinks of t, into *out (malloc'd). */
static int sink_targets(const struct rill_topology *t, const char *file, struct target **out,
                        size_t *n)
{
    *out = calloc(t->nsinks ? t->nsinks : 1, sizeof **out);
    *n = 0;
    if (!*out) {
        fprintf(stderr, "rill migrate: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < t->nsinks; i++) {
        const char *dsn = t->sinks[i].dsn;
        if (!dsn) {
            printf("skip sink %s: no dsn\n", t->sinks[i].name);
            continue;
        }
        size_t j = 0;
        while (j < *n && strcmp((*out)[j].dsn, dsn))
            j++;
        struct target *tg = &(*out)[j];
        if (j == *n) {
            tg->dsn = dsn;
            (*n)++;
        }
        size_t used = strlen(tg->sinks);
        snprintf(tg->sinks + used, sizeof tg->sinks - used, "%s%s", used ? ", " : "",
                 t->sinks[i].name);
    }
    if (*n == 0) {
        fprintf(stderr, "rill migrate: no sink of %s has a dsn\n", file);
        return 1;
    }
    return 0;
}

/* The DSN in path: its first line, at most DSN_FILE_MAX bytes. Never quoted
 * in a message. */
#define DSN_FILE_MAX 16384
static char *read_dsn_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "rill migrate: cannot read --dsn-file '%s'\n", path);
        return NULL;
    }
    char *buf = malloc(DSN_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, DSN_FILE_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n == 0 || n > DSN_FILE_MAX) {
        fprintf(stderr, "rill migrate: --dsn-file '%s' %s\n", path,
                !buf ? ": out of memory" : bad ? "cannot be read" : n ? "is too long" : "is empty");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!buf[0]) {
        fprintf(stderr, "rill migrate: --dsn-file '%s' has no DSN on its first line\n", path);
        free(buf);
        return NULL;
    }
    return buf;
}

int rill_cmd_migrate(int argc, char **argv)
{
    const char *dsn = NULL, *file = NULL, *dir = NULL, *dsn_file = NULL;
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            return migrate_usage(stdout, 0);
        } else if (!strcmp(argv[i], "--status")) {
            status = 1;
        } else if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--dir") ||
                   !strcmp(argv[i], "--dsn-file")) {
            const char **slot = argv[i][1] == 'c' ? &file : !strcmp(argv[i], "--dir") ? &dir
                                                                                      : &dsn_file;
            if (i + 1 >= argc) {
                fprintf(stderr, "rill migrate: %s needs an argument\n", argv[i]);
                return migrate_usage(stderr, 2);
            }
            if (*slot) {
                fprintf(stderr, "rill migrate: %s given twice\n", argv[i]);
                return migrate_usage(stderr, 2);
            }
            *slot = argv[i + 1];
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "rill migrate: unknown option '%s'\n", argv[i]);
            return migrate_usage(stderr, 2);
        } else if (!dsn) {
            dsn = argv[i];
        } else {
            /* Not quoted: it may be a DSN with a password. */
            fprintf(stderr, "rill migrate: expected one DSN, got another argument too\n");
            return migrate_usage(stderr, 2);
        }
    }
    if ((dsn != NULL) + (file != NULL) + (dsn_file != NULL) != 1) {
        fprintf(stderr, "rill migrate: give a DSN, --dsn-file FILE or -c FILE (one of them)\n");
        return migrate_usage(stderr, 2);
    }
    char *dsn_read = NULL;
    if (dsn_file && !(dsn = dsn_read = read_dsn_file(dsn_file)))
        return 1;

    char err[RILL_ERRSTR_SIZE];
    struct rill_migration_set set = { 0 };
    rill_err_t e = dir ? rill_migrate_set_from_dir(dir, &set, err, sizeof err)
                       : rill_migrate_set_embedded(&set, err, sizeof err);
    if (e != RILL_OK) {
        fprintf(stderr, "rill migrate: %s\n", err);
        free(dsn_read);
        return 1;
    }
    struct rill_topology *t = NULL;
    struct target one = { .dsn = dsn }, *targets = &one;
    size_t ntargets = 1;
    int rc = 0;
    if (file) {
        if (rill_topology_load(file, &t, err, sizeof err) != RILL_OK) {
            fprintf(stderr, "rill migrate: %s\n", err);
            rill_migrate_set_free(&set);
            return 1;
        }
        targets = NULL;
        if (sink_targets(t, file, &targets, &ntargets) != 0)
            ntargets = 0, rc = 1;
    }
    /* Every database is tried, even after one failed. */
    for (size_t i = 0; i < ntargets; i++)
        rc |= migrate_one(&targets[i], &set, status);
    if (file)
        free(targets);
    rill_topology_free(t);
    rill_migrate_set_free(&set);
    free(dsn_read);
    return rc;
}
