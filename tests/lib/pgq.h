/*
 * pgq.h - one-value PostgreSQL queries for the tests that read what landed
 * in the database (migrations, sinks). Test-only code.
 */
#ifndef RILL_TEST_PGQ_H
#define RILL_TEST_PGQ_H

#include <libpq-fe.h>

/* The first value of sql's first row ("" for none or NULL, "ERROR" on
 * failure, which is printed), in a ring of 8 static slots of 4 KiB. */
const char *it_pg_q1(PGconn *c, const char *sql);
/* The same as a number; -1 on failure. */
long it_pg_qn(PGconn *c, const char *sql);

#endif
