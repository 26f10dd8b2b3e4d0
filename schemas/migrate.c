/*
 * migrate.c - the migration sets (compiled in, or a folder's *.sql) and the
 * runner of migrate.h: the version table, the comparison of a set with it,
 * and applying what is pending one transaction at a time under the advisory
 * lock. Not the command line (topology/cli/cmd_migrate.c prints and exits).
 */
#include "schemas/migrate.h"
#include "schemas/migrate_int.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VERSION_TABLE "rill_schema_migrations"

rill_err_t rill_migrate_parse_name(const char *file, int *version, char *name, size_t namesz,
                                   char *errstr, size_t errsz)
{
    size_t n = strlen(file);
    const char *want = "a name NNNN_name.sql (four digits 0001..9999, '_', lowercase letters, "
                       "digits or '_')";
    if (n < 10 || strcmp(file + n - 4, ".sql") || file[4] != '_')
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "bad migration file name '%s': want %s",
                         file, want);
    int v = 0;
    for (int i = 0; i < 4; i++) {
        if (file[i] < '0' || file[i] > '9')
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "bad migration file name '%s': want %s", file, want);
        v = v * 10 + (file[i] - '0');
    }
    if (v == 0)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                         "bad migration file name '%s': versions start at 0001", file);
    size_t len = n - 9; /* between "NNNN_" and ".sql" */
    if (len > RILL_MIGRATE_MAX_NAME)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                         "bad migration file name '%s': the name after NNNN_ is longer than %d",
                         file, RILL_MIGRATE_MAX_NAME);
    for (size_t i = 5; i < n - 4; i++) {
        char ch = file[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "bad migration file name '%s': want %s", file, want);
    }
    if (namesz < n - 3)
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT, "migration name '%s' does not fit", file);
    memcpy(name, file, n - 4);
    name[n - 4] = '\0';
    *version = v;
    return RILL_OK;
}

void rill_migrate_checksum(const void *p, size_t n, char hex[RILL_MIGRATE_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL))
        mdlen = 0; /* leaves "" below, which equals no file's checksum */
    for (unsigned int i = 0; i < mdlen && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[2 * (mdlen < 32 ? mdlen : 32)] = '\0';
}

void rill_migrate_set_free(struct rill_migration_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].sql);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* Adds a copy of the file's bytes to s (its array sized by the caller). */
static rill_err_t set_add(struct rill_migration_set *s, const char *file, const char *text,
                          size_t len, char *errstr, size_t errsz)
{
    struct rill_migration *m = &s->v[s->n];
    rill_err_t e = rill_migrate_parse_name(file, &m->version, m->name, sizeof m->name, errstr,
                                           errsz);
    if (e != RILL_OK)
        return e;
    if (len == 0)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "migration '%s' is empty", file);
    if (memchr(text, '\0', len))
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "migration '%s' holds a NUL byte",
                         file);
    m->sql = malloc(len + 1);
    if (!m->sql)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory reading '%s'", file);
    memcpy(m->sql, text, len);
    m->sql[len] = '\0';
    m->len = len;
    rill_migrate_checksum(text, len, m->checksum);
    s->n++;
    return RILL_OK;
}

static int by_version(const void *a, const void *b)
{
    const struct rill_migration *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* Sorts s by version and refuses two files with one version, or none. */
static rill_err_t set_finish(struct rill_migration_set *s, const char *where, char *errstr,
                             size_t errsz)
{
    if (s->n == 0)
        return rill_errf(errstr, errsz, RILL_ERR_NOTFOUND, "no migration (NNNN_name.sql) in %s",
                         where);
    qsort(s->v, s->n, sizeof s->v[0], by_version);
    for (size_t i = 1; i < s->n; i++)
        if (s->v[i].version == s->v[i - 1].version)
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "migrations '%s.sql' and '%s.sql' have the same version %d",
                             s->v[i - 1].name, s->v[i].name, s->v[i].version);
    return RILL_OK;
}

rill_err_t rill_migrate_set_embedded(struct rill_migration_set *out, char *errstr, size_t errsz)
{
    out->n = 0;
    out->v = calloc(rill_migrate_embedded_cnt ? rill_migrate_embedded_cnt : 1, sizeof *out->v);
    if (!out->v)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t e = RILL_OK;
    for (size_t i = 0; i < rill_migrate_embedded_cnt && e == RILL_OK; i++)
        e = set_add(out, rill_migrate_embedded[i].name, rill_migrate_embedded[i].text,
                    rill_migrate_embedded[i].len, errstr, errsz);
    if (e == RILL_OK)
        e = set_finish(out, "the migrations compiled into rill", errstr, errsz);
    if (e != RILL_OK)
        rill_migrate_set_free(out);
    return e;
}

/* Reads path (a regular file of at most RILL_MIGRATE_MAX_FILE bytes). */
static rill_err_t read_file(const char *path, char **buf, size_t *len, char *errstr,
                            size_t errsz)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot open '%s': %s", path,
                         strerror(errno));
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return rill_errf(errstr, errsz, RILL_ERR_IO, "'%s' is not a regular file", path);
    }
    if (st.st_size > RILL_MIGRATE_MAX_FILE) {
        fclose(f);
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                         "migration '%s' is larger than %d bytes", path, RILL_MIGRATE_MAX_FILE);
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (!*buf) {
        fclose(f);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory reading '%s'", path);
    }
    *len = fread(*buf, 1, (size_t)st.st_size, f);
    int bad = ferror(f) || *len != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(*buf);
        *buf = NULL;
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot read '%s'", path);
    }
    return RILL_OK;
}

rill_err_t rill_migrate_set_from_dir(const char *dir, struct rill_migration_set *out,
                                     char *errstr, size_t errsz)
{
    out->n = 0;
    out->v = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot open folder '%s': %s", dir,
                         strerror(errno));
    size_t cap = 0;
    rill_err_t e = RILL_OK;
    struct dirent *de;
    while (e == RILL_OK && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 4 || strcmp(de->d_name + n - 4, ".sql"))
            continue;
        if (out->n == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            struct rill_migration *v = realloc(out->v, ncap * sizeof *v);
            if (!v) {
                e = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
                break;
            }
            out->v = v;
            cap = ncap;
        }
        char path[4096], *buf = NULL;
        size_t len = 0;
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) {
            e = rill_errf(errstr, errsz, RILL_ERR_NOFIT, "path of '%s' in '%s' is too long",
                          de->d_name, dir);
            break;
        }
        e = read_file(path, &buf, &len, errstr, errsz);
        if (e == RILL_OK)
            e = set_add(out, de->d_name, buf, len, errstr, errsz);
        free(buf);
    }
    closedir(d);
    if (e == RILL_OK)
        e = set_finish(out, dir, errstr, errsz);
    if (e != RILL_OK)
        rill_migrate_set_free(out);
    return e;
}

/* ---- the connection ---- */

static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Replaces, in place, every occurrence of secret in s with "***" (with as
 * many '*' as it has bytes when it is shorter, so s never grows). */
static void scrub(char *s, const char *secret)
{
    size_t k = secret ? strlen(secret) : 0;
    if (!k)
        return;
    char *p;
    while ((p = strstr(s, secret))) {
        size_t stars = k < 3 ? k : 3;
        memset(p, '*', stars);
        memmove(p + stars, p + k, strlen(p + k) + 1);
    }
}

static void describe_where(PGconn *c, char *where, size_t wheresz)
{
    const char *u = PQuser(c), *h = PQhost(c), *p = PQport(c), *db = PQdb(c);
    snprintf(where, wheresz, "%s@%s:%s/%s", u ? u : "", h ? h : "", p && *p ? p : "5432",
             db ? db : "");
}

rill_err_t rill_migrate_connect(const char *dsn, PGconn **out, char *where, size_t wheresz,
                                char *errstr, size_t errsz)
{
    *out = NULL;
    if (wheresz)
        where[0] = '\0';
    /* libpq's parse errors quote pieces of the string (a password among
     * them), so they are not passed on. */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(dsn, &perr);
    if (!opts) {
        PQfreemem(perr);
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG,
                         "cannot parse the connection string (not shown: it may hold a "
                         "password): want libpq's 'key=value ...' form or a postgresql:// URI");
    }
    char *password = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (!strcmp(o->keyword, "password") && o->val && *o->val)
            password = strdup(o->val);
    PQconninfoFree(opts);

    /* a server that does not answer costs MIGRATE_CONNECT_TIMEOUT seconds,
     * never a hang; the DSN's own connect_timeout (later) wins */
    const char *const keys[] = { "connect_timeout", "dbname", NULL };
    const char *const vals[] = { RILL_MIGRATE_CONNECT_TIMEOUT, dsn, NULL };
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c) {
        free(password);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory connecting");
    }
    describe_where(c, where, wheresz);
    rill_err_t e = RILL_OK;
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[RILL_ERRSTR_SIZE];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
        msg[strcspn(msg, "\n")] = '\0';
        scrub(msg, password);
        scrub(msg, PQpass(c));
        e = rill_errf(errstr, errsz, RILL_ERR_PG, "cannot connect to %s: %s", where, msg);
        PQfinish(c);
    } else {
        PQsetNoticeProcessor(c, drop_notice, NULL);
        *out = c;
    }
    free(password);
    return e;
}

/* ---- the version table ---- */

/* One line of PostgreSQL's message of r (or the connection's). */
static const char *pg_msg(PGconn *c, const PGresult *r, char *buf, size_t size)
{
    const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    snprintf(buf, size, "%s", m ? m : PQerrorMessage(c));
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

/* Runs sql, expecting want (the result into *res when res is not NULL);
 * on failure rolls back the open transaction, if any. */
static rill_err_t exec(PGconn *c, const char *sql, ExecStatusType want, PGresult **res,
                       const char *what, char *errstr, size_t errsz)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != want) {
        char m[512];
        rill_err_t e = rill_errf(errstr, errsz, RILL_ERR_PG, "%s: %s", what,
                                 pg_msg(c, r, m, sizeof m));
        PQclear(r);
        if (PQtransactionStatus(c) != PQTRANS_IDLE)
            PQclear(PQexec(c, "ROLLBACK"));
        return e;
    }
    if (res)
        *res = r;
    else
        PQclear(r);
    return RILL_OK;
}

/* The quoted current schema, where the version table lives. */
static rill_err_t current_schema(PGconn *c, char *buf, size_t size, char *errstr, size_t errsz)
{
    PGresult *r;
    rill_err_t e = exec(c, "SELECT quote_ident(current_schema())", PGRES_TUPLES_OK, &r,
                        "cannot read the current schema", errstr, errsz);
    if (e != RILL_OK)
        return e;
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return rill_errf(errstr, errsz, RILL_ERR_PG,
                         "no current schema: the search_path names no schema that exists");
    }
    int fit = snprintf(buf, size, "%s", PQgetvalue(r, 0, 0)) < (int)size;
    PQclear(r);
    return fit ? RILL_OK : rill_errf(errstr, errsz, RILL_ERR_NOFIT, "schema name too long");
}

/* A row of the version table. */
struct applied {
    int version;
    char name[RILL_MIGRATE_MAX_NAME + 6];
    char checksum[RILL_MIGRATE_SHA256_HEX];
    char at[40];
};

/* Reads the version table of schema into *rows (NULL and 0 when it does
 * not exist). */
static rill_err_t read_applied(PGconn *c, const char *schema, struct applied **rows, size_t *n,
                               char *errstr, size_t errsz)
{
    char sql[1024];
    PGresult *r;
    *rows = NULL;
    *n = 0;
    snprintf(sql, sizeof sql, "SELECT to_regclass('%s." VERSION_TABLE "') IS NOT NULL", schema);
    rill_err_t e = exec(c, sql, PGRES_TUPLES_OK, &r, "cannot look for " VERSION_TABLE, errstr,
                        errsz);
    if (e != RILL_OK)
        return e;
    int exists = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!exists)
        return RILL_OK;
    snprintf(sql, sizeof sql,
             "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD HH24:MI:SS.US\"Z\"') FROM %s." VERSION_TABLE " ORDER BY version",
             schema);
    e = exec(c, sql, PGRES_TUPLES_OK, &r, "cannot read " VERSION_TABLE, errstr, errsz);
    if (e != RILL_OK)
        return e;
    int rn = PQntuples(r);
    *rows = calloc(rn ? (size_t)rn : 1, sizeof **rows);
    if (!*rows) {
        PQclear(r);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < rn; i++) {
        struct applied *a = &(*rows)[i];
        a->version = atoi(PQgetvalue(r, i, 0));
        snprintf(a->name, sizeof a->name, "%s", PQgetvalue(r, i, 1));
        snprintf(a->checksum, sizeof a->checksum, "%s", PQgetvalue(r, i, 2));
        snprintf(a->at, sizeof a->at, "%s", PQgetvalue(r, i, 3));
    }
    *n = (size_t)rn;
    PQclear(r);
    return RILL_OK;
}

/* Merges set and the applied rows by version into *out. */
static rill_err_t compare(const struct rill_migration_set *set, const struct applied *rows,
                          size_t nrows, struct rill_migration_status **out, size_t *n,
                          char *errstr, size_t errsz)
{
    struct rill_migration_status *v = calloc(set->n + nrows + 1, sizeof *v);
    if (!v)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    int max_applied = nrows ? rows[nrows - 1].version : 0;
    size_t i = 0, j = 0, k = 0;
    while (i < set->n || j < nrows) {
        struct rill_migration_status *s = &v[k++];
        const struct rill_migration *m = i < set->n ? &set->v[i] : NULL;
        const struct applied *a = j < nrows ? &rows[j] : NULL;
        if (m && (!a || m->version < a->version)) {
            s->version = m->version;
            snprintf(s->name, sizeof s->name, "%s", m->name);
            s->state = m->version < max_applied ? RILL_MIGRATION_OUT_OF_ORDER
                                                : RILL_MIGRATION_PENDING;
            i++;
            continue;
        }
        s->version = a->version;
        snprintf(s->db_name, sizeof s->db_name, "%s", a->name);
        snprintf(s->db_checksum, sizeof s->db_checksum, "%s", a->checksum);
        snprintf(s->applied_at, sizeof s->applied_at, "%s", a->at);
        if (m && m->version == a->version) {
            snprintf(s->name, sizeof s->name, "%s", m->name);
            s->state = strcmp(m->checksum, a->checksum) || strcmp(m->name, a->name)
                           ? RILL_MIGRATION_CHANGED
                           : RILL_MIGRATION_APPLIED;
            i++;
        } else {
            snprintf(s->name, sizeof s->name, "%s", a->name);
            s->state = RILL_MIGRATION_UNKNOWN;
        }
        j++;
    }
    *out = v;
    *n = k;
    return RILL_OK;
}

/* The first reason to refuse the set, into errstr; RILL_OK when there is none. */
static rill_err_t refusal(const struct rill_migration_set *set,
                          const struct rill_migration_status *st, size_t n, size_t applied_now,
                          char *errstr, size_t errsz)
{
    char tail[64];
    if (applied_now)
        snprintf(tail, sizeof tail, "refused, %zu applied before", applied_now);
    else
        snprintf(tail, sizeof tail, "refused, nothing applied");
    for (size_t i = 0; i < n; i++) {
        const struct rill_migration_status *s = &st[i];
        const struct rill_migration *m = NULL;
        for (size_t j = 0; j < set->n && !m; j++)
            if (set->v[j].version == s->version)
                m = &set->v[j];
        switch (s->state) {
        case RILL_MIGRATION_CHANGED:
            if (strcmp(m->checksum, s->db_checksum))
                return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                                 "migration %s was changed after it was applied: checksum "
                                 "%.12s in the database, %.12s in the file; %s (a change "
                                 "needs a new migration)",
                                 s->name, s->db_checksum, m->checksum, tail);
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "version %d was applied as %s but the set names it %s; %s",
                             s->version, s->db_name, s->name, tail);
        case RILL_MIGRATION_UNKNOWN:
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "version %d (%s, applied %s) is in the database but not in "
                             "this set of migrations; %s",
                             s->version, s->db_name, s->applied_at, tail);
        case RILL_MIGRATION_OUT_OF_ORDER:
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "migration %s is pending but a later version is applied "
                             "already; %s (give it a version after the last applied one)",
                             s->name, tail);
        default:
            break;
        }
    }
    return RILL_OK;
}

rill_err_t rill_migrate_status(PGconn *c, const struct rill_migration_set *set,
                               struct rill_migration_status **out, size_t *n, char *errstr,
                               size_t errsz)
{
    char schema[256];
    struct applied *rows = NULL;
    size_t nrows = 0;
    *out = NULL;
    *n = 0;
    rill_err_t e = current_schema(c, schema, sizeof schema, errstr, errsz);
    if (e == RILL_OK)
        e = read_applied(c, schema, &rows, &nrows, errstr, errsz);
    if (e == RILL_OK)
        e = compare(set, rows, nrows, out, n, errstr, errsz);
    free(rows);
    return e;
}

/* Opens a transaction holding the advisory lock of the current schema. */
static rill_err_t begin_locked(PGconn *c, char *errstr, size_t errsz)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "BEGIN; SELECT pg_advisory_xact_lock(%d, hashtext(current_schema()))",
             RILL_MIGRATE_LOCK_KEY);
    return exec(c, sql, PGRES_TUPLES_OK, NULL, "cannot take the migration lock", errstr, errsz);
}

/* The 1-based line of the 1-based character position pos in sql (UTF-8). */
static int line_of(const char *sql, long pos)
{
    int line = 1;
    long chars = 0;
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        if (++chars >= pos)
            break;
        line += *p == '\n';
    }
    return line;
}

/* Runs m's file and inserts its version row, in the open transaction. */
static rill_err_t run_one(PGconn *c, const char *schema, const struct rill_migration *m,
                          char *errstr, size_t errsz)
{
    PGresult *r = PQexec(c, m->sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        char msg[512], where[48] = "", detail[300] = "";
        const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        const char *det = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
        if (pos)
            snprintf(where, sizeof where, " at line %d", line_of(m->sql, atol(pos)));
        if (det)
            snprintf(detail, sizeof detail, " (%s)", det);
        rill_err_t e = rill_errf(errstr, errsz, RILL_ERR_PG,
                                 "migration %s.sql failed%s: %s%s [SQLSTATE %s]; rolled back, "
                                 "nothing of it applied",
                                 m->name, where, pg_msg(c, r, msg, sizeof msg), detail,
                                 state ? state : "?");
        PQclear(r);
        PQclear(PQexec(c, "ROLLBACK"));
        return e;
    }
    PQclear(r);
    if (PQtransactionStatus(c) != PQTRANS_INTRANS)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                         "migration %s.sql ended its transaction itself (COMMIT or ROLLBACK in "
                         "the file): what it committed stays, its version was not recorded",
                         m->name);
    char sql[512], version[16];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s." VERSION_TABLE " (version, name, checksum) VALUES ($1, $2, $3)",
             schema);
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[3] = { version, m->name, m->checksum };
    r = PQexecParams(c, sql, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char msg[512];
        rill_err_t e = rill_errf(errstr, errsz, RILL_ERR_PG,
                                 "cannot record migration %s: %s; rolled back", m->name,
                                 pg_msg(c, r, msg, sizeof msg));
        PQclear(r);
        PQclear(PQexec(c, "ROLLBACK"));
        return e;
    }
    PQclear(r);
    char what[128];
    snprintf(what, sizeof what, "cannot commit migration %s", m->name);
    return exec(c, "COMMIT", PGRES_COMMAND_OK, NULL, what, errstr, errsz);
}

rill_err_t rill_migrate_apply(PGconn *c, const struct rill_migration_set *set,
                              rill_migrate_applied_fn applied, void *opaque,
                              size_t *applied_now, char *errstr, size_t errsz)
{
    char schema[256], sql[1024];
    size_t done = 0;
    if (applied_now)
        *applied_now = 0;
    rill_err_t e = current_schema(c, schema, sizeof schema, errstr, errsz);
    if (e != RILL_OK)
        return e;

    /* The version table, created under the lock so that two first runs do
     * not both create it. */
    PGresult *r;
    if ((e = begin_locked(c, errstr, errsz)) != RILL_OK)
        return e;
    snprintf(sql, sizeof sql, "SELECT to_regclass('%s." VERSION_TABLE "') IS NOT NULL", schema);
    if ((e = exec(c, sql, PGRES_TUPLES_OK, &r, "cannot look for " VERSION_TABLE, errstr,
                  errsz)) != RILL_OK)
        return e;
    int exists = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!exists) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE %s." VERSION_TABLE " ("
                 "version int PRIMARY KEY CHECK (version BETWEEN 1 AND 9999), "
                 "name text NOT NULL, "
                 "checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'), "
                 "applied_at timestamptz NOT NULL DEFAULT now())",
                 schema);
        if ((e = exec(c, sql, PGRES_COMMAND_OK, NULL, "cannot create " VERSION_TABLE, errstr,
                      errsz)) != RILL_OK)
            return e;
    }
    if ((e = exec(c, "COMMIT", PGRES_COMMAND_OK, NULL, "cannot create " VERSION_TABLE, errstr,
                  errsz)) != RILL_OK)
        return e;

    /* Each migration in a transaction of its own that first reads the
     * table again under the lock: what another runner applied meanwhile is
     * seen, and a set the database disagrees with is refused before its
     * first migration. */
    for (size_t i = 0; i < set->n && e == RILL_OK; i++) {
        const struct rill_migration *m = &set->v[i];
        struct applied *rows = NULL;
        struct rill_migration_status *st = NULL;
        size_t nrows = 0, nst = 0;
        if ((e = begin_locked(c, errstr, errsz)) != RILL_OK)
            break;
        e = read_applied(c, schema, &rows, &nrows, errstr, errsz);
        if (e == RILL_OK)
            e = compare(set, rows, nrows, &st, &nst, errstr, errsz);
        if (e == RILL_OK)
            e = refusal(set, st, nst, done, errstr, errsz);
        int pending = 0;
        for (size_t j = 0; j < nst; j++)
            if (st[j].version == m->version)
                pending = st[j].state == RILL_MIGRATION_PENDING;
        free(rows);
        free(st);
        if (e != RILL_OK || !pending) {
            if (PQtransactionStatus(c) != PQTRANS_IDLE)
                PQclear(PQexec(c, "ROLLBACK"));
            continue;
        }
        int64_t t0 = rill_now_ms();
        e = run_one(c, schema, m, errstr, errsz);
        if (e == RILL_OK) {
            done++;
            if (applied)
                applied(opaque, m, rill_now_ms() - t0);
        }
    }
    if (applied_now)
        *applied_now = done;
    return e;
}
