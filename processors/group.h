/*
 * group.h - what the keyed stateful processors (count, sum, latest) share:
 * taking the first store the YAML grants, and finding a record's group from
 * `by:` (the key bytes, a JSON path, or header:NAME) or rejecting the record
 * with a reason that names the field. Internal to processors/.
 */
#ifndef RILL_PROC_GROUP_H
#define RILL_PROC_GROUP_H

#include "processors/processor.h"

#define RILL_GROUP_MAX 1024 /* longest group taken from a field, NUL included */

/* init for processors whose instance is just their first granted store. */
rill_err_t rill_group_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz);

/* rec's group: the key bytes themselves for `by: key` (any length,
 * binary-safe), else the field's text in buf. Returns RILL_PROC_OK, or
 * rejects the record (rill_ctx_reject) and returns RILL_PROC_REJECT. */
rill_proc_result_t rill_group_of(rill_ctx_t *ctx, const char *by, const rill_record_t *rec, char *buf,
                  size_t bufsz, const void **group, size_t *glen);

#endif
