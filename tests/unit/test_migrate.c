/*
 * test_migrate.c - the migration set without a database: the set compiled
 * into rill is in version order with unique versions, each file non-empty
 * and opening with its comment paragraph, and byte for byte the files of
 * schemas/sql/ (their SHA-256 recomputed here); file names are parsed
 * strictly; a folder with two files of one version, an empty file, a bad
 * name or no migration is refused, other files are ignored; SHA-256 matches
 * the FIPS 180-2 vector; an unparseable DSN is refused without quoting it.
 */
#include "schemas/migrate.h"
#include "tests/lib/suite.h"
#include "tests/lib/util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* schemas/sql/ (found from __FILE__, tests/unit/) into buf. */
static const char *sql_dir(char *buf, size_t size)
{
    const char *slash = strrchr(__FILE__, '/');
    int dirlen = slash ? (int)(slash - __FILE__ + 1) : 0;
    snprintf(buf, size, "%.*s../../schemas/sql", dirlen, __FILE__);
    return buf;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[512];
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static void test_embedded_set(void)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_migration_set s;
    CU_ASSERT_EQUAL_FATAL(rill_migrate_set_embedded(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(s.n, 5);
    const char *names[] = { "0001_oltp", "0002_star", "0003_views", "0004_rill", "0005_sinks" };
    for (size_t i = 0; i < s.n; i++) {
        if (i < 5)
            CU_ASSERT_STRING_EQUAL(s.v[i].name, names[i]);
        if (i > 0)
            CU_ASSERT(s.v[i].version > s.v[i - 1].version);
        CU_ASSERT(s.v[i].len > 0);
        CU_ASSERT_EQUAL(strlen(s.v[i].sql), s.v[i].len);
        /* Each opens with its comment paragraph, naming its own file. */
        char head[80];
        snprintf(head, sizeof head, "-- %s.sql - ", s.v[i].name);
        CU_ASSERT_EQUAL(strncmp(s.v[i].sql, head, strlen(head)), 0);
        CU_ASSERT_EQUAL(strlen(s.v[i].checksum), 64);
    }
    rill_migrate_set_free(&s);
    CU_ASSERT_EQUAL(s.n, 0);
}

/* The embedded bytes and checksums are the files' in schemas/sql/, and
 * reading that folder gives the same set. */
static void test_embedded_equals_files(void)
{
    char err[RILL_ERRSTR_SIZE], dir[512], path[600];
    struct rill_migration_set s, d;
    CU_ASSERT_EQUAL_FATAL(rill_migrate_set_embedded(&s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL_FATAL(rill_migrate_set_from_dir(sql_dir(dir, sizeof dir), &d, err,
                                                    sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(d.n, s.n);
    for (size_t i = 0; i < s.n && i < d.n; i++) {
        snprintf(path, sizeof path, "%s/%s.sql", dir, s.v[i].name);
        size_t len = 0;
        char *text = it_read_file(path, &len);
        CU_ASSERT_PTR_NOT_NULL(text);
        if (!text)
            continue;
        char hex[RILL_MIGRATE_SHA256_HEX];
        rill_migrate_checksum(text, len, hex);
        CU_ASSERT_STRING_EQUAL(hex, s.v[i].checksum);
        CU_ASSERT_EQUAL(len, s.v[i].len);
        CU_ASSERT(len == s.v[i].len && !memcmp(text, s.v[i].sql, len));
        CU_ASSERT_STRING_EQUAL(d.v[i].name, s.v[i].name);
        CU_ASSERT_STRING_EQUAL(d.v[i].checksum, s.v[i].checksum);
        free(text);
    }
    rill_migrate_set_free(&s);
    rill_migrate_set_free(&d);
}

static void test_checksum(void)
{
    char hex[RILL_MIGRATE_SHA256_HEX];
    rill_migrate_checksum("abc", 3, hex);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rill_migrate_checksum("", 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* One byte more is another checksum. */
    char a[RILL_MIGRATE_SHA256_HEX], b[RILL_MIGRATE_SHA256_HEX];
    rill_migrate_checksum("CREATE TABLE t (id int);\n", 25, a);
    rill_migrate_checksum("CREATE TABLE t (id int);\n\n", 26, b);
    CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void test_names(void)
{
    char err[RILL_ERRSTR_SIZE], name[RILL_MIGRATE_MAX_NAME + 6];
    int v = -1;
    CU_ASSERT_EQUAL(rill_migrate_parse_name("0001_oltp.sql", &v, name, sizeof name, err,
                                            sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_STRING_EQUAL(name, "0001_oltp");
    CU_ASSERT_EQUAL(rill_migrate_parse_name("9999_a_b_2.sql", &v, name, sizeof name, err,
                                            sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(v, 9999);
    CU_ASSERT_STRING_EQUAL(name, "9999_a_b_2");
    const char *bad[] = {
        "0000_zero.sql", "001_short.sql", "00001_long.sql", "0001_.sql", "0001-dash.sql",
        "0001_Upper.sql", "0001_sp ace.sql", "0001_x.SQL", "0001_x.sql.bak", "0001_x",
        "abcd_x.sql", "0001_x-y.sql", ".sql", "",
        "0001_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sql", /* 65 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        v = -1;
        rill_err_t e = rill_migrate_parse_name(bad[i], &v, name, sizeof name, err, sizeof err);
        if (e == RILL_OK)
            fprintf(stderr, "\n  accepted '%s'\n", bad[i]);
        CU_ASSERT_EQUAL(e, RILL_ERR_INVALID);
        CU_ASSERT_EQUAL(v, -1);
        char quoted[200];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, quoted));
    }
    /* 64 characters is the limit. */
    char ok[80];
    snprintf(ok, sizeof ok, "0002_%.*s.sql", RILL_MIGRATE_MAX_NAME,
             "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    CU_ASSERT_EQUAL(rill_migrate_parse_name(ok, &v, name, sizeof name, err, sizeof err), RILL_OK);
}

static void test_dir(void)
{
    char err[RILL_ERRSTR_SIZE], dir[256];
    struct rill_migration_set s;
    CU_ASSERT_PTR_NOT_NULL_FATAL(it_tmpdir(dir, sizeof dir, "migrate-unit"));

    /* No migration at all. */
    write_file(dir, "README.md", "not a migration\n");
    CU_ASSERT_EQUAL(rill_migrate_set_from_dir(dir, &s, err, sizeof err), RILL_ERR_NOTFOUND);

    /* Sorted by version whatever the folder's order; other files ignored. */
    write_file(dir, "0010_later.sql", "CREATE TABLE later (id int);\n");
    write_file(dir, "0002_first.sql", "CREATE TABLE first (id int);\n");
    write_file(dir, ".0003_hidden.sql", "junk");
    write_file(dir, "0004_x.sql~", "junk");
    CU_ASSERT_EQUAL_FATAL(rill_migrate_set_from_dir(dir, &s, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(s.n, 2);
    if (s.n == 2) {
        CU_ASSERT_EQUAL(s.v[0].version, 2);
        CU_ASSERT_STRING_EQUAL(s.v[0].name, "0002_first");
        CU_ASSERT_STRING_EQUAL(s.v[0].sql, "CREATE TABLE first (id int);\n");
        CU_ASSERT_EQUAL(s.v[1].version, 10);
    }
    rill_migrate_set_free(&s);

    /* Two files of one version. */
    write_file(dir, "0002_second.sql", "CREATE TABLE second (id int);\n");
    CU_ASSERT_EQUAL(rill_migrate_set_from_dir(dir, &s, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'0002_first.sql' and '0002_second.sql'"));
    CU_ASSERT_PTR_NULL(s.v);
    char path[512];
    snprintf(path, sizeof path, "%s/0002_second.sql", dir);
    unlink(path);

    /* A .sql file with a bad name. */
    write_file(dir, "add_index.sql", "CREATE INDEX i ON first (id);\n");
    CU_ASSERT_EQUAL(rill_migrate_set_from_dir(dir, &s, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'add_index.sql'"));
    snprintf(path, sizeof path, "%s/add_index.sql", dir);
    unlink(path);

    /* An empty file. */
    write_file(dir, "0011_empty.sql", "");
    CU_ASSERT_EQUAL(rill_migrate_set_from_dir(dir, &s, err, sizeof err), RILL_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'0011_empty.sql' is empty"));

    CU_ASSERT_EQUAL(rill_migrate_set_from_dir("/nonexistent/rill-migrate", &s, err, sizeof err),
                    RILL_ERR_IO);
    remove_dir(dir);
}

/* libpq's own parse errors quote the string; rill's never does. */
static void test_bad_dsn_not_quoted(void)
{
    char err[RILL_ERRSTR_SIZE], where[256] = "x";
    PGconn *c = (PGconn *)1;
    const char *dsns[] = { "host=db password=hunter2-secret junk", "password='hunter2-secret",
                           "postgresql://u:hunter2-secret@db/x?nosuchoption=hunter2-secret" };
    for (size_t i = 0; i < sizeof dsns / sizeof dsns[0]; i++) {
        CU_ASSERT_EQUAL(rill_migrate_connect(dsns[i], &c, where, sizeof where, err, sizeof err),
                        RILL_ERR_CONFIG);
        CU_ASSERT_PTR_NULL(c);
        CU_ASSERT_STRING_EQUAL(where, "");
        CU_ASSERT_PTR_NULL(strstr(err, "hunter2"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot parse the connection string"));
    }
}

static CU_TestInfo tests[] = {
    { "the embedded set: in version order, unique, non-empty, commented", test_embedded_set },
    { "the embedded set is byte for byte schemas/sql/, checksums equal", test_embedded_equals_files },
    { "sha256 hex: the FIPS 180-2 vectors", test_checksum },
    { "file names: NNNN_name.sql only", test_names },
    { "a folder: sorted by version, duplicates, bad names and empty files refused", test_dir },
    { "an unparseable dsn is refused without quoting it", test_bad_dsn_not_quoted },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("migrate", tests)
