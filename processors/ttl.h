/*
 * ttl.h - expiry of the keyed processors' groups (`ttl.ms` of count, sum and
 * latest): a group untouched for ttl.ms of wall-clock time is deleted from
 * the store, so its changelog gets a tombstone in the same transaction as
 * any other store write. The store keeps, beside each group, two index
 * entries under keys that begin with byte 0x00 (so, with ttl.ms set, a group
 * that begins with 0x00 or is longer than RILL_GROUP_MAX - 1 bytes is
 * refused to the DLQ): "\0G"+group -> its deadline, and "\0E"+deadline+group
 * (deadline 8 bytes big-endian), so that expiry is a range scan in deadline
 * order. A wall-clock schedule, every ttl.ms / 10 (10 ms to 1 s), deletes
 * the expired groups, at most RILL_TTL_PER_CHECK per call (in scans of
 * RILL_TTL_BATCH), so a group goes at most one check late while expiries
 * keep up. Internal to processors/.
 */
#ifndef RILL_PROC_TTL_H
#define RILL_PROC_TTL_H

#include "processors/processor.h"
#include "state/store.h"

#define RILL_TTL_BATCH 64
#define RILL_TTL_PER_CHECK 1024

/* The `ttl.ms` row of a processor's config table (an int64_t member). */
#define RILL_TTL_CONF_ROW(type, member)                                                       \
    { "ttl.ms", RILL_CONF_INT, "0", offsetof(type, member),                                 \
      "wall-clock ms a group may stay untouched before it is deleted from the store, with a " \
      "tombstone in its changelog (0: never)", "0", NULL }

struct rill_ttl;

/* init for count, sum and latest: the first granted store, and with ttl_ms
 * > 0 the expiry schedule. *state is a struct rill_ttl (rill_ttl_close). */
rill_err_t rill_ttl_init(rill_ctx_t *ctx, int64_t ttl_ms, void **state, char *errstr,
                         size_t errsz);
rill_store_t *rill_ttl_store(void *state);
/* RILL_PROC_OK, or the group is refused (rejected as invalid) because its
 * bytes could be taken for the index's. Always OK without ttl.ms. */
rill_proc_result_t rill_ttl_check(rill_ctx_t *ctx, void *state, const void *group, size_t glen);
/* Moves the group's deadline to now + ttl.ms (nothing without ttl.ms). */
rill_err_t rill_ttl_touch(rill_ctx_t *ctx, void *state, const void *group, size_t glen);
/* Drops the group's index entries (the group itself was deleted). */
rill_err_t rill_ttl_forget(void *state, const void *group, size_t glen);
rill_proc_result_t rill_ttl_punctuate(rill_ctx_t *ctx, void *state, rill_punctuate_type_t type,
                                      int64_t now_ms);
void rill_ttl_close(void *state);

#endif
