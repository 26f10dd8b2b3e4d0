/*
 * pgq.c - one-value PostgreSQL queries for the tests (pgq.h).
 */
#include "tests/lib/pgq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *it_pg_q1(PGconn *c, const char *sql)
{
    static char vals[8][4096];
    static int slot;
    char *b = vals[slot++ % 8];
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "\n  %.300s: %s", sql, PQerrorMessage(c));
        snprintf(b, sizeof vals[0], "ERROR");
    } else {
        snprintf(b, sizeof vals[0], "%s",
                 PQntuples(r) && !PQgetisnull(r, 0, 0) ? PQgetvalue(r, 0, 0) : "");
    }
    PQclear(r);
    return b;
}

long it_pg_qn(PGconn *c, const char *sql)
{
    const char *v = it_pg_q1(c, sql);
    return strcmp(v, "ERROR") ? atol(v) : -1;
}
