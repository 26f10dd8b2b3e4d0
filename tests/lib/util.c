/*
 * util.c - environment numbers and scratch paths for the tests (util.h).
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
