/*
 * kprops.h - librdkafka client settings for the commands that talk to Kafka
 * outside a topology run (apply, generate, inspect), taken the way kcat takes
 * them: a base map (a topology's kafka:, or none), then properties files
 * (-F FILE: `key=value` lines, '#' comments, blank lines), then single
 * `key=value` overrides (-X); later settings win. Values may be secrets:
 * messages name files, lines and keys, never values.
 */
#ifndef RILL_KPROPS_H
#define RILL_KPROPS_H

#include <librdkafka/rdkafka.h>

#include "topology/model/config.h"

/* Collects base (may be NULL), then each file, then each "key=value" of
 * sets into out, which must be empty; free it with rill_kvlist_clear(). */
rill_err_t rill_kprops_collect(const struct rill_kvlist *base, const char *const *files,
                               size_t nfiles, const char *const *sets, size_t nsets,
                               struct rill_kvlist *out, char *errstr, size_t errsz);

/* The -F files and -X settings of a command line, in the order given; room
 * for every argument of the command, so there is no limit to check. */
struct rill_kprops_args {
    const char **files, **sets;
    size_t nfiles, nsets;
};

/* Makes room for argc of each; RILL_ERR_NOMEM when it cannot. */
rill_err_t rill_kprops_args_init(struct rill_kprops_args *a, int argc);
/* Records arg as a file (opt 'F') or a setting (any other opt). */
void rill_kprops_args_add(struct rill_kprops_args *a, int opt, const char *arg);
void rill_kprops_args_free(struct rill_kprops_args *a);

/* Sets every pair of l on c. */
rill_err_t rill_kprops_conf(const struct rill_kvlist *l, rd_kafka_conf_t *c, char *errstr,
                            size_t errsz);

#endif
