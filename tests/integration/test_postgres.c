/*
 * test_postgres.c - proves the local PostgreSQL is real and password-protected:
 * the application DSN connects, a table round trip inside a transaction
 * works (and a rolled-back insert is gone), and a wrong password is refused.
 */
#include "tests/lib/stack.h"
#include "tests/lib/suite.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PGresult *exec_ok(PGconn *c, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != want)
        fprintf(stderr, "%s: %s\n", sql, PQerrorMessage(c));
    CU_ASSERT_EQUAL(PQresultStatus(r), want);
    return r;
}

static void test_round_trip(void)
{
    char *dsn = it_secret("pg.dsn");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dsn);
    PGconn *c = PQconnectdb(dsn);
    free(dsn);
    CU_ASSERT_EQUAL_FATAL(PQstatus(c), CONNECTION_OK);
    PQclear(exec_ok(c, "CREATE TEMP TABLE rt (id int PRIMARY KEY, note text)", PGRES_COMMAND_OK));
    PQclear(exec_ok(c, "BEGIN", PGRES_COMMAND_OK));
    const char *params[2] = { "7", "seven" };
    PGresult *r = PQexecParams(c, "INSERT INTO rt VALUES ($1::int, $2)", 2, NULL, params, NULL,
                               NULL, 0);
    CU_ASSERT_EQUAL(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQclear(exec_ok(c, "COMMIT", PGRES_COMMAND_OK));
    PQclear(exec_ok(c, "BEGIN", PGRES_COMMAND_OK));
    PQclear(exec_ok(c, "INSERT INTO rt VALUES (8, 'eight')", PGRES_COMMAND_OK));
    PQclear(exec_ok(c, "ROLLBACK", PGRES_COMMAND_OK));
    r = exec_ok(c, "SELECT id, note FROM rt ORDER BY id", PGRES_TUPLES_OK);
    CU_ASSERT_EQUAL(PQntuples(r), 1);
    if (PQntuples(r) == 1) {
        CU_ASSERT_STRING_EQUAL(PQgetvalue(r, 0, 0), "7");
        CU_ASSERT_STRING_EQUAL(PQgetvalue(r, 0, 1), "seven");
    }
    PQclear(r);
    PQfinish(c);
}

static void test_wrong_password(void)
{
    char *dsn = it_secret("pg.dsn");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dsn);
    char *pw = strstr(dsn, "password=");
    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    *pw = '\0';
    char bad[1024];
    snprintf(bad, sizeof bad, "%s password=wrong connect_timeout=10", dsn);
    free(dsn);
    PGconn *c = PQconnectdb(bad);
    CU_ASSERT_EQUAL(PQstatus(c), CONNECTION_BAD);
    CU_ASSERT_PTR_NOT_NULL(strstr(PQerrorMessage(c), "password authentication failed"));
    PQfinish(c);
}

static CU_TestInfo tests[] = {
    { "libpq round trip in transactions", test_round_trip },
    { "wrong password refused", test_wrong_password },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("postgres", tests)
