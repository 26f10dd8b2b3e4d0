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
 * [+-]digits[.digits] into *v in units of 10^-scale. Returns 0, or rejects the
 * record (RILL_REJECT_INVALID, the reason starting "cannot <verb> field
 * '<field>'") and returns -1: no such field, not a decimal number, more
 * fraction digits than scale (even trailing zeros), an int64 overflow. */
int rill_decimal_field(rill_ctx_t *ctx, const char *verb, const char *field, int scale,
                       const rill_record_t *rec, int64_t *v);

/* Writes v (units of 10^-scale) with exactly scale fraction digits ("12.50",
 * "-0.05"); returns its length. out has room for 48 bytes. */
size_t rill_decimal_format(int64_t v, int scale, char *out, size_t outsz);

#endif
