/*
 * decimal.h - exact fixed-point numbers for the numeric aggregations (sum and
 * the windowed sum, min, max, avg): a field's decimal text, "-12.50", read
 * into an int64 in units of 10^-scale, and written back with exactly scale
 * fraction digits, so money never goes through a float. Internal to
 * processors/; not a general number parser (no exponents, no spaces).
 */
#ifndef RILL_PROC_DECIMAL_H
#define RILL_PROC_DECIMAL_H

#include "processors/processor.h"

#define RILL_DECIMAL_MAX 128 /* longest number text, NUL included */
#define RILL_DECIMAL_SCALE_MAX 18 /* 10^18 is the largest power of ten in an int64 */

/* Reads rec's field (a JSON path, `key`, or `header:NAME`) as
 * [+-]digits[.digits] written at input_scale (0..scale: the text t stands
 * for t * 10^-input_scale, so the integer 123400 of a *_e4 money field at
 * input scale 4 is 12.34) into *v in units of 10^-scale. Returns 0, or
 * rejects the record (RILL_REJECT_INVALID, the reason starting "cannot
 * <verb> field '<field>'") and returns -1: no such field, not a decimal
 * number, more fraction digits than scale - input_scale (even trailing
 * zeros), an int64 overflow. */
int rill_decimal_field(rill_ctx_t *ctx, const char *verb, const char *field, int scale,
                       int input_scale, const rill_record_t *rec, int64_t *v);

/* The config row of `input.scale` (0..RILL_DECIMAL_SCALE_MAX) into an
 * int64_t member of struct S. */
#define RILL_DECIMAL_INPUT_SCALE_ROW(S, member)                                                 \
    { "input.scale", RILL_CONF_INT, "0", offsetof(S, member),                                    \
      "the scale the field is written at, 0..scale: at 4 the integer 123400 is 12.34 (the *_e4 " \
      "money fields of the order events)", "0", "18" }

/* Writes v (units of 10^-scale) with exactly scale fraction digits ("12.50",
 * "-0.05"); returns its length. out has room for 48 bytes. */
size_t rill_decimal_format(int64_t v, int scale, char *out, size_t outsz);

#endif
