/*
 * drive.h - the unit tier's shortcuts to the in-process test driver: load a
 * topology from a YAML string and build a driver over it, printing the
 * error when either fails (the caller asserts on NULL); and running a CLI
 * command in-process with its output captured. Test-only code.
 */
#ifndef RILL_TEST_DRIVE_H
#define RILL_TEST_DRIVE_H

#include "topology/driver/driver.h"

struct rill_topology *it_load(const char *yaml);
rill_driver_t *it_driver(struct rill_topology *t);

/* Runs a CLI command's entry point in this process with stdout and stderr
 * captured into out (NUL-terminated); returns its exit status, or -1 when
 * the capture could not be set up. */
int it_capture(int (*cmd)(int, char **), char *out, size_t size, int argc, char **argv);

#endif
