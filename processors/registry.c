/*
 * registry.c - the static tables of built-in processors and sinks, looked up by the
 * YAML `type:`. Adding a processor is one folder under processors/ and one
 * line here. External processors are not listed: they come from a .so.
 */
#include "processors/registry.h"

#include <string.h>

extern const struct rill_processor_def rill_proc_passthrough;
extern const struct rill_processor_def rill_proc_filter;
extern const struct rill_processor_def rill_proc_route;
extern const struct rill_processor_def rill_proc_count;
extern const struct rill_processor_def rill_proc_sum;
extern const struct rill_processor_def rill_proc_latest;
extern const struct rill_processor_def rill_proc_windowed_count;
extern const struct rill_processor_def rill_proc_windowed_sum;
extern const struct rill_processor_def rill_proc_windowed_min;
extern const struct rill_processor_def rill_proc_windowed_max;
extern const struct rill_processor_def rill_proc_windowed_avg;
extern const struct rill_processor_def rill_proc_table_join;
extern const struct rill_processor_def rill_proc_stream_join;
extern const struct rill_processor_def rill_proc_rekey;
extern const struct rill_processor_def rill_proc_flat_map;
extern const struct rill_processor_def rill_proc_payment;
extern const struct rill_processor_def rill_proc_inventory;
extern const struct rill_processor_def rill_proc_shipping;
extern const struct rill_processor_def rill_proc_notification;

const struct rill_processor_def *const rill_proc_builtins[] = {
    &rill_proc_passthrough,
    &rill_proc_filter,
    &rill_proc_route,
    &rill_proc_count,
    &rill_proc_sum,
    &rill_proc_latest,
    &rill_proc_windowed_count,
    &rill_proc_windowed_sum,
    &rill_proc_windowed_min,
    &rill_proc_windowed_max,
    &rill_proc_windowed_avg,
    &rill_proc_table_join,
    &rill_proc_stream_join,
    &rill_proc_rekey,
    &rill_proc_flat_map,
    &rill_proc_payment,
    &rill_proc_inventory,
    &rill_proc_shipping,
    &rill_proc_notification,
    NULL,
};

extern const struct rill_sink_def rill_sink_postgres_oltp;
extern const struct rill_sink_def rill_sink_postgres_star;

const struct rill_sink_def *const rill_sink_builtins[] = {
    &rill_sink_postgres_oltp,
    &rill_sink_postgres_star,
    NULL,
};

const struct rill_sink_def *rill_sink_lookup(const char *name)
{
    for (size_t i = 0; rill_sink_builtins[i]; i++)
        if (!strcmp(rill_sink_builtins[i]->name, name))
            return rill_sink_builtins[i];
    return NULL;
}

const struct rill_processor_def *rill_proc_lookup(const char *name)
{
    for (size_t i = 0; rill_proc_builtins[i]; i++)
        if (!strcmp(rill_proc_builtins[i]->name, name))
            return rill_proc_builtins[i];
    return NULL;
}

const struct rill_processor_def *rill_proc_at(size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (!rill_proc_builtins[k])
            return NULL;
    return rill_proc_builtins[i];
}
