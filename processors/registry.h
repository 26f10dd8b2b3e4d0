/*
 * registry.h - the built-in processors and sinks, by YAML `type:`. For the runtime and
 * the CLI, not for plugins: a plugin sees processor.h only. The model checks
 * a topology against a table it is handed (rill_topology_check()), so it
 * never depends on this one.
 */
#ifndef RILL_REGISTRY_H
#define RILL_REGISTRY_H

#include <stddef.h>

#include "processors/processor.h"
#include "processors/sink.h"

/* Every built-in processor, NULL-terminated, in listing order. */
extern const struct rill_processor_def *const rill_proc_builtins[];

/* The built-in processor called name, or NULL. */
const struct rill_processor_def *rill_proc_lookup(const char *name);
/* The i-th built-in processor, or NULL past the end (for listings). */
const struct rill_processor_def *rill_proc_at(size_t i);

/* Every built-in sink (processors/postgres/), NULL-terminated. */
extern const struct rill_sink_def *const rill_sink_builtins[];

/* The built-in sink type called name, or NULL. */
const struct rill_sink_def *rill_sink_lookup(const char *name);

#endif
