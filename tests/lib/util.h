/*
 * util.h - small helpers every test tier and the benchmarks share: numbers
 * from the environment (the knobs of the long tests and benches) and fresh
 * scratch directories and files under /tmp. Test-only code.
 */
#ifndef RILL_TEST_UTIL_H
#define RILL_TEST_UTIL_H

#include <stddef.h>

/* The environment variable name as a number, or def when unset or empty. */
long it_getenv_long(const char *name, long def);

/* Creates a new directory /tmp/rill-<name>-<random> and writes its path into
 * buf; returns buf, or NULL when it cannot. */
char *it_tmpdir(char *buf, size_t size, const char *name);

/* Creates a new empty file /tmp/rill-<name>-<random>, its path into buf;
 * returns the open descriptor (the caller closes and unlinks), or -1. */
int it_tmpfile(char *buf, size_t size, const char *name);

#endif
