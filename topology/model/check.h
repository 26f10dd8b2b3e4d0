/*
 * check.h - typed processor and sink configuration from the YAML: fills a
 * processor's or sink's config struct from its def's table (struct
 * rill_conf_def) and the `config:` strings of its YAML, and releases it
 * again. rill_topology_check() (in config.h) uses the same parsing rules and
 * fills once itself, so a topology that validates fills.
 * Not the graph checker's interface (that is rill_topology_check()).
 *
 * Thread-safety: both functions touch only their arguments.
 */
#ifndef RILL_CHECK_H
#define RILL_CHECK_H

#include <stddef.h>

#include "topology/model/config.h"
#include "processors/processor.h"

/* Fills the struct at out from defs (terminated by a {NULL} row; may be NULL
 * for a processor or sink without configuration): first every default (STR
 * fields with a NULL default start as NULL), then every key of kv (may be
 * NULL). STR values are strdup'd and owned by out until rill_conf_release().
 * Fails on an unknown key, a value that does not parse as its declared type
 * (INT: decimal int64; DOUBLE: finite number; BOOL: true or false), an INT or
 * DOUBLE outside the row's min..max ("config key 'x' is above its maximum 1
 * ...") or a missing required STR key; the message (no file position) goes
 * to errstr. A default outside its row's range is refused too (a table bug).
 * On failure the STR fields are already released and NULL. */
rill_err_t rill_conf_fill(const struct rill_conf_def *defs, const struct rill_kvlist *kv,
                          void *out, char *errstr, size_t errsz);

/* Frees the STR fields of out that rill_conf_fill() set, and sets them to
 * NULL; safe to call twice, and with defs == NULL. Does not free out. */
void rill_conf_release(const struct rill_conf_def *defs, void *out);

#endif
