/*
 * util.c - environment numbers, scratch paths and file reading for the
 * tests (util.h).
 */
#include "tests/lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long it_getenv_long(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? atol(v) : def;
}

/* mkdtemp() and mkstemp() replace the trailing six characters. */
static int scratch_name(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "/tmp/rill-%s-XXXXXX", name);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

char *it_tmpdir(char *buf, size_t size, const char *name)
{
    return scratch_name(buf, size, name) ? NULL : mkdtemp(buf);
}

int it_tmpfile(char *buf, size_t size, const char *name)
{
    return scratch_name(buf, size, name) ? -1 : mkstemp(buf);
}

char *it_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n = getdelim(&buf, &cap, '\0', f);
    fclose(f);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = (size_t)n;
    return buf;
}

int it_proc_stat(int pid, struct it_pstat *ps)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')');
    /* after the command: state, ppid, 9 more fields, then utime, stime,
     * cutime, cstime */
    if (!s || sscanf(s + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld %ld %ld",
                     &ps->ppid, &ps->utime, &ps->stime, &ps->cutime, &ps->cstime) != 5)
        return -1;
    return 0;
}

int it_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
