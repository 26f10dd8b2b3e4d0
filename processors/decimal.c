/*
 * decimal.c - the exact fixed-point numbers of decimal.h: parsing a field's
 * decimal text into an int64 at a scale, and formatting one back.
 */
#include "processors/decimal.h"

#include <inttypes.h>
#include <stdio.h>

typedef enum { DEC_PARSED, DEC_NOT_A_NUMBER, DEC_TOO_PRECISE, DEC_TOO_BIG } dec_parse_t;

/* Parses s, [+-]digits[.digits], exactly into units of 10^-scale. */
static dec_parse_t dec_parse(const char *s, int scale, int64_t *out)
{
    int neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return DEC_NOT_A_NUMBER;
    /* the magnitude may reach 2^63 only for a negative number: INT64_MIN */
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, mag = 0;
    int frac = -1; /* fraction digits seen; -1 before the point */
    dec_parse_t res = DEC_PARSED;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            if (s[1] < '0' || s[1] > '9')
                return DEC_NOT_A_NUMBER;
            continue;
        }
        if (*s < '0' || *s > '9')
            return DEC_NOT_A_NUMBER;
        if (res != DEC_PARSED)
            continue; /* keep scanning: "not a number" wins over the others */
        unsigned d = (unsigned)(*s - '0');
        if (frac >= 0 && ++frac > scale)
            res = DEC_TOO_PRECISE;
        else if (mag > (lim - d) / 10)
            res = DEC_TOO_BIG;
        else
            mag = mag * 10 + d;
    }
    if (res != DEC_PARSED)
        return res;
    for (int i = frac < 0 ? 0 : frac; i < scale; i++) {
        if (mag > lim / 10)
            return DEC_TOO_BIG;
        mag *= 10;
    }
    *out = !neg ? (int64_t)mag : mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
    return DEC_PARSED;
}

/* Writes v in units of 10^-scale as decimal text with exactly scale fraction
 * digits; returns its length. */
size_t rill_decimal_format(int64_t v, int scale, char *out, size_t outsz)
{
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, p = 1;
    for (int i = 0; i < scale; i++)
        p *= 10;
    int n = scale ? snprintf(out, outsz, "%s%" PRIu64 ".%0*" PRIu64, v < 0 ? "-" : "", mag / p,
                             scale, mag % p)
                  : snprintf(out, outsz, "%s%" PRIu64, v < 0 ? "-" : "", mag);
    return (size_t)n;
}

int rill_decimal_field(rill_ctx_t *ctx, const char *verb, const char *field, int scale,
                       int input_scale, const rill_record_t *rec, int64_t *v)
{
    char num[RILL_DECIMAL_MAX];
    rill_err_t err = rill_record_field(rec, field, num, sizeof num);
    if (err == RILL_ERR_NOTFOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                           "cannot %s field '%s': the record has no such field", verb, field);
        return -1;
    }
    if (err == RILL_ERR_NOMEM) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                           "cannot %s field '%s': not a decimal number (longer than %d bytes)",
                           verb, field, RILL_DECIMAL_MAX - 1);
        return -1;
    }
    if (err != RILL_OK) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                           "cannot %s field '%s': %s (not json, or not a scalar)", verb, field,
                           rill_err2str(err));
        return -1;
    }
    /* text t at input scale i is t * 10^-i: t read at scale - i (i <= scale) */
    switch (dec_parse(num, scale - input_scale, v)) {
    case DEC_PARSED:
        return 0;
    case DEC_NOT_A_NUMBER:
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                           "cannot %s field '%s': '%s' is not a decimal number", verb, field, num);
        break;
    case DEC_TOO_PRECISE:
        if (input_scale)
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                               "cannot %s field '%s': '%s' has more than %d fraction digits "
                               "(scale %d, input.scale %d)", verb, field, num,
                               scale - input_scale, scale, input_scale);
        else
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                               "cannot %s field '%s': '%s' has more than %d fraction digits "
                               "(scale %d)", verb, field, num, scale, scale);
        break;
    case DEC_TOO_BIG:
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID,
                           "cannot %s field '%s': '%s' overflows a 64-bit integer at scale %d",
                           verb, field, num, scale);
        break;
    }
    return -1;
}
