/*
 * util.h - small helpers every test tier and the benchmarks share: numbers
 * from the environment (the knobs of the long tests and benches), fresh
 * scratch directories and files under /tmp, a whole file read into
 * memory, a process's CPU figures from /proc, and a double comparison for
 * medians. Test-only code.
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

/* A process's /proc/PID/stat figures: its parent and its CPU clock ticks
 * (its own and its waited-for children's). 0, or -1 when it is gone. */
struct it_pstat {
    int ppid;
    long utime, stime, cutime, cstime;
};
int it_proc_stat(int pid, struct it_pstat *ps);

/* qsort's comparison of two doubles, ascending. */
int it_cmp_double(const void *a, const void *b);

#endif
