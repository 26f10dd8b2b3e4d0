/*
 * registry.h - the built-in processors, by YAML `type:`. For the runtime and
 * the CLI, not for plugins: a plugin sees processor.h only. The model checks
 * a topology against a table it is handed (rill_topology_check()), so it
 * never depends on this one.
 */
#ifndef RILL_REGISTRY_H
#define RILL_REGISTRY_H

#include <stddef.h>

#include "processors/processor.h"

/* Every built-in processor, NULL-terminated, in listing order. */
extern const struct rill_processor_def *const rill_proc_builtins[];

/* The built-in processor called name, or NULL. */
const struct rill_processor_def *rill_proc_lookup(const char *name);
/* The i-th built-in processor, or NULL past the end (for listings). */
const struct rill_processor_def *rill_proc_at(size_t i);

#endif
