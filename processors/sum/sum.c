/*
 * sum.c - the `sum` processor: adds up a numeric field per group and forwards
 * the running sum. The group is the record key by default, or any field
 * (`by:`); the number is read from `field:` (a JSON path, `key`, or
 * `header:NAME`) as decimal text, "-12.50", and kept exactly as a fixed-point
 * int64 with `scale` fraction digits, so money never goes through a float.
 * Each group's sum lives in the processor's store (the first one the YAML
 * grants it, an 8-byte big-endian int64 in units of 10^-scale); the processor
 * forwards key = the group, value = the new sum with exactly `scale` fraction
 * digits ("12.50", "-0.05"), without headers, to every output.
 *
 * Rejected to the DLQ, with nothing forwarded or stored: a record without the
 * group or the field, a field that is not [+-]digits[.digits] (no exponent, no
 * spaces), one with more fraction digits than `scale` (even trailing zeros),
 * a value or a sum that overflows int64. Tombstones are ignored, as in Kafka
 * Streams' aggregations. A failing store makes the record retry.
 */
#include "processors/decimal.h"
#include "processors/group.h"
#include "processors/ttl.h"
#include "processors/processor.h"
#include "state/store.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define SUM_SCALE_MAX RILL_DECIMAL_SCALE_MAX
#define SUM_TEXT(x) #x
#define SUM_BOUND(x) SUM_TEXT(x) /* SUM_SCALE_MAX as the table's YAML text */

struct sum_conf {
    char *field;
    char *by;
    int64_t scale;
    int64_t input_scale;
    int64_t ttl_ms;
};

static const struct rill_conf_def sum_conf_def[] = {
    { "field", RILL_CONF_STR, NULL, offsetof(struct sum_conf, field),
      "the number to add: a JSON path (a.b), `key`, or `header:NAME`", NULL, NULL },
    { "by", RILL_CONF_STR, "key", offsetof(struct sum_conf, by),
      "what to group by: `key`, a JSON path (a.b), or `header:NAME`", NULL, NULL },
    { "scale", RILL_CONF_INT, "0", offsetof(struct sum_conf, scale),
      "fraction digits kept, 0..18 (fixed point: 2 sums cents exactly)", "0",
      SUM_BOUND(SUM_SCALE_MAX) },
    RILL_DECIMAL_INPUT_SCALE_ROW(struct sum_conf, input_scale),
    RILL_TTL_CONF_ROW(struct sum_conf, ttl_ms),
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

static rill_err_t sum_check(const void *conf, const char **key, char *errstr, size_t errsz)
{
    const struct sum_conf *c = conf;
    *key = NULL;
    if (c->input_scale > c->scale) {
        *key = "input.scale";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "input.scale (%" PRId64 ") is above "
                         "scale (%" PRId64 "): digits would be lost", c->input_scale, c->scale);
    }
    return RILL_OK;
}

static rill_err_t sum_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct sum_conf *c = rill_ctx_conf(ctx);
    const char *key;
    rill_err_t err = sum_check(c, &key, errstr, errsz);
    if (err != RILL_OK)
        return err;
    return rill_ttl_init(ctx, c->ttl_ms, state, errstr, errsz);
}

static rill_proc_result_t sum_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct sum_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = rill_ttl_store(state);
    char buf[RILL_GROUP_MAX], text[48];
    const void *group;
    size_t glen;
    int64_t v, sum = 0;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_group_of(ctx, c->by, rec, buf, sizeof buf, &group, &glen) != RILL_PROC_OK ||
        rill_ttl_check(ctx, state, group, glen) != RILL_PROC_OK ||
        rill_decimal_field(ctx, "sum", c->field, (int)c->scale, (int)c->input_scale, rec, &v) < 0)
        return RILL_PROC_REJECT;
    rill_err_t err = rill_store_get_i64(store, group, glen, &sum);
    if (err != RILL_OK && err != RILL_ERR_NOTFOUND)
        return RILL_PROC_RETRY;
    if (__builtin_add_overflow(sum, v, &sum)) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': the sum of its group overflows a 64-bit "
                        "integer at scale %d", c->field, (int)c->scale);
        return RILL_PROC_REJECT;
    }
    if (rill_store_put_i64(store, group, glen, sum) != RILL_OK ||
        rill_ttl_touch(ctx, state, group, glen) != RILL_OK)
        return RILL_PROC_RETRY;
    size_t len = rill_decimal_format(sum, (int)c->scale, text, sizeof text);
    if (rill_ctx_forward(ctx, NULL, group, glen, text, len, NULL, 0) != RILL_OK)
        return RILL_PROC_RETRY;
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_sum = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "sum",
    .doc = "sums a decimal field per key or field in exact fixed point (needs a store)",
    .conf = sum_conf_def,
    .conf_size = sizeof(struct sum_conf),
    .init = sum_init, /* scale is within 0..SUM_SCALE_MAX: its row says so */
    .process = sum_process,
    .punctuate = rill_ttl_punctuate,
    .close = rill_ttl_close,
    .check = sum_check,
};
