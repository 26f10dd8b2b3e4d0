/*
 * drive.h - the unit tier's shortcuts to the in-process test driver: load a
 * topology from a YAML string and build a driver over it, printing the
 * error when either fails (the caller asserts on NULL); running a CLI
 * command in-process with its output captured; a captured record's header;
 * the order pipeline as a driver topology. Test-only code.
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

/* The value of a captured record's header name as text in buf, or NULL when
 * it has none (c may be NULL). */
const char *it_header(const struct rill_captured *c, const char *name, char *buf, size_t sz);

/* The order pipeline's four processors over 4-partition topics of their
 * plain names, for the driver (payment approving 75% with seed 5, 6 units of
 * stock per product). */
extern const char *const it_chain_yaml;

#endif
