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
#include "processors/group.h"
#include "processors/processor.h"
#include "state/store.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define SUM_NUMBER_MAX 128 /* longest number text, NUL included */
#define SUM_SCALE_MAX 18   /* 10^18 is the largest power of ten in an int64 */
#define SUM_TEXT(x) #x
#define SUM_BOUND(x) SUM_TEXT(x) /* SUM_SCALE_MAX as the table's YAML text */

struct sum_conf {
    char *field;
    char *by;
    int64_t scale;
};

static const struct rill_conf_def sum_conf_def[] = {
    { "field", RILL_CONF_STR, NULL, offsetof(struct sum_conf, field),
      "the number to add: a JSON path (a.b), `key`, or `header:NAME`", NULL, NULL },
    { "by", RILL_CONF_STR, "key", offsetof(struct sum_conf, by),
      "what to group by: `key`, a JSON path (a.b), or `header:NAME`", NULL, NULL },
    { "scale", RILL_CONF_INT, "0", offsetof(struct sum_conf, scale),
      "fraction digits kept, 0..18 (fixed point: 2 sums cents exactly)", "0",
      SUM_BOUND(SUM_SCALE_MAX) },
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

typedef enum { SUM_PARSED, SUM_NOT_A_NUMBER, SUM_TOO_PRECISE, SUM_TOO_BIG } sum_parse_t;

/* Parses s, [+-]digits[.digits], exactly into units of 10^-scale. */
static sum_parse_t sum_parse(const char *s, int scale, int64_t *out)
{
    int neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return SUM_NOT_A_NUMBER;
    /* the magnitude may reach 2^63 only for a negative number: INT64_MIN */
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, mag = 0;
    int frac = -1; /* fraction digits seen; -1 before the point */
    sum_parse_t res = SUM_PARSED;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            if (s[1] < '0' || s[1] > '9')
                return SUM_NOT_A_NUMBER;
            continue;
        }
        if (*s < '0' || *s > '9')
            return SUM_NOT_A_NUMBER;
        if (res != SUM_PARSED)
            continue; /* keep scanning: "not a number" wins over the others */
        unsigned d = (unsigned)(*s - '0');
        if (frac >= 0 && ++frac > scale)
            res = SUM_TOO_PRECISE;
        else if (mag > (lim - d) / 10)
            res = SUM_TOO_BIG;
        else
            mag = mag * 10 + d;
    }
    if (res != SUM_PARSED)
        return res;
    for (int i = frac < 0 ? 0 : frac; i < scale; i++) {
        if (mag > lim / 10)
            return SUM_TOO_BIG;
        mag *= 10;
    }
    *out = !neg ? (int64_t)mag : mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
    return SUM_PARSED;
}

/* Writes v in units of 10^-scale as decimal text with exactly scale fraction
 * digits; returns its length. */
static size_t sum_format(int64_t v, int scale, char *out, size_t outsz)
{
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, p = 1;
    for (int i = 0; i < scale; i++)
        p *= 10;
    int n = scale ? snprintf(out, outsz, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / p,
                             scale, mag % p)
                  : snprintf(out, outsz, "%s%" PRIu64, v < 0 ? "-" : "", mag);
    return (size_t)n;
}

/* Reads the field as a number into *v, or rejects the record and returns -1. */
static int sum_amount(rill_ctx_t *ctx, const struct sum_conf *c, const rill_record_t *rec,
                      int64_t *v)
{
    char num[SUM_NUMBER_MAX];
    int scale = (int)c->scale;
    rill_err_t err = rill_record_field(rec, c->field, num, sizeof num);
    if (err == RILL_ERR_NOTFOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': the record has no such field", c->field);
        return -1;
    }
    if (err == RILL_ERR_NOMEM) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': not a decimal number (longer than %d bytes)",
                        c->field, SUM_NUMBER_MAX - 1);
        return -1;
    }
    if (err != RILL_OK) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': %s (not json, or not a scalar)", c->field,
                        rill_err2str(err));
        return -1;
    }
    switch (sum_parse(num, scale, v)) {
    case SUM_PARSED:
        return 0;
    case SUM_NOT_A_NUMBER:
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': '%s' is not a decimal number", c->field,
                        num);
        break;
    case SUM_TOO_PRECISE:
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': '%s' has more than %d fraction digits "
                        "(scale %d)", c->field, num, scale, scale);
        break;
    case SUM_TOO_BIG:
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': '%s' overflows a 64-bit integer at scale %d",
                        c->field, num, scale);
        break;
    }
    return -1;
}

static rill_proc_result_t sum_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    const struct sum_conf *c = rill_ctx_conf(ctx);
    rill_store_t *store = state;
    char buf[RILL_GROUP_MAX], text[48];
    const void *group;
    size_t glen;
    int64_t v, sum = 0;
    if (!rec->value)
        return RILL_PROC_OK;
    if (rill_group_of(ctx, c->by, rec, buf, sizeof buf, &group, &glen) != RILL_PROC_OK ||
        sum_amount(ctx, c, rec, &v) < 0)
        return RILL_PROC_REJECT;
    rill_err_t err = rill_store_get_i64(store, group, glen, &sum);
    if (err != RILL_OK && err != RILL_ERR_NOTFOUND)
        return RILL_PROC_RETRY;
    if (__builtin_add_overflow(sum, v, &sum)) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "cannot sum field '%s': the sum of its group overflows a 64-bit "
                        "integer at scale %d", c->field, (int)c->scale);
        return RILL_PROC_REJECT;
    }
    if (rill_store_put_i64(store, group, glen, sum) != RILL_OK)
        return RILL_PROC_RETRY;
    size_t len = sum_format(sum, (int)c->scale, text, sizeof text);
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
    .init = rill_group_init, /* scale is within 0..SUM_SCALE_MAX: its row says so */
    .process = sum_process,
};
