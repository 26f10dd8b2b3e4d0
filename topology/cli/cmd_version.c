/*
 * cmd_version.c - `rill version` / `rill --version`: prints rill's version and
 * the versions of the libraries it runs with.
 */
#include "topology/cli/cli.h"
#include "topology/rill.h"

#include <stdio.h>

int rill_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char buf[512];
    rill_version_describe(buf, sizeof buf);
    fputs(buf, stdout);
    return 0;
}
