/*
 * util.h - small helpers every test tier and the benchmarks share: numbers
 * from the environment (the knobs of the long tests and benches), fresh
 * scratch directories and files under /tmp, and a whole file read into
 * memory. Test-only code.
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

/* The whole file at path, NUL-terminated, malloc'd (the caller frees), its
 * length in *len when len is not NULL; NULL when it cannot be read. */
char *it_read_file(const char *path, size_t *len);

#endif
