/*
 * error.c - descriptions for rill_err_t, and rill_errf(), the one errstr
 * formatter. The table is sized by RILL_ERR__COUNT; a code added without a
 * line here reads "unknown error", and test_basics fails on that (every code
 * must have its own description).
 */
#include "topology/rill.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const err_str[RILL_ERR__COUNT] = {
    [RILL_OK] = "success",
    [RILL_ERR_INVALID] = "invalid argument or input",
    [RILL_ERR_NOMEM] = "out of memory",
    [RILL_ERR_NOFIT] = "does not fit",
    [RILL_ERR_IO] = "i/o error",
    [RILL_ERR_CONFIG] = "configuration error",
    [RILL_ERR_NOTFOUND] = "not found",
    [RILL_ERR_KAFKA] = "kafka error",
    [RILL_ERR_AUTH] = "authentication or authorization failed",
    [RILL_ERR_PG] = "postgresql error",
    [RILL_ERR_STATE] = "state store error",
    [RILL_ERR_RETRY] = "transient error, retry",
    [RILL_ERR_FATAL] = "fatal error",
};

const char *rill_err2str(rill_err_t err)
{
    if ((int)err < 0 || err >= RILL_ERR__COUNT || !err_str[err])
        return "unknown error";
    return err_str[err];
}

rill_err_t rill_verrf(char *errstr, size_t errsz, rill_err_t err, const char *fmt, va_list ap)
{
    if (errstr && errsz)
        vsnprintf(errstr, errsz, fmt, ap);
    return err;
}

rill_err_t rill_errf(char *errstr, size_t errsz, rill_err_t err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill_verrf(errstr, errsz, err, fmt, ap);
    va_end(ap);
    return err;
}
