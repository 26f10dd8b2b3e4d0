/*
 * drive.c - the unit tier's shortcuts to the test driver (drive.h).
 */
#include "drive.h"

#include <stdio.h>
#include <string.h>

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
