/*
 * util.c - environment numbers, scratch paths and file reading for the
 * tests (util.h).
 */
#include "tests/lib/util.h"

#include <stdio.h>
#include <stdlib.h>

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
