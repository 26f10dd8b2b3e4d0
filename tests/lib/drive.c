/*
 * drive.c - the unit tier's shortcuts to the test driver and to running a
 * command in-process (drive.h).
 */
#include "tests/lib/drive.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct rill_topology *it_load(const char *yaml)
{
    struct rill_topology *t = NULL;
    char err[512];
    if (rill_topology_load_buf("test.yaml", yaml, strlen(yaml), &t, err, sizeof err) != RILL_OK)
        fprintf(stderr, "load: %s\n", err);
    return t;
}

rill_driver_t *it_driver(struct rill_topology *t)
{
    char err[512];
    rill_driver_t *d = rill_driver_new(t, err, sizeof err);
    if (!d)
        fprintf(stderr, "driver: %s\n", err);
    return d;
}

int it_capture(int (*cmd)(int, char **), char *out, size_t size, int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    FILE *tmp = tmpfile();
    if (!tmp)
        return -1;
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(tmp), 1);
    dup2(fileno(tmp), 2);
    int rc = cmd(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    rewind(tmp);
    size_t n = fread(out, 1, size - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return rc;
}
