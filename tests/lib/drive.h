/*
 * drive.h - the unit tier's shortcuts to the in-process test driver: load a
 * topology from a YAML string and build a driver over it, printing the
 * error when either fails (the caller asserts on NULL). Test-only code.
 */
#ifndef RILL_TEST_DRIVE_H
#define RILL_TEST_DRIVE_H

#include "driver.h"

struct rill_topology *it_load(const char *yaml);
rill_driver_t *it_driver(struct rill_topology *t);

#endif
