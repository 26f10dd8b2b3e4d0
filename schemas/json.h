/*
 * json.h - a small, bounded JSON reader for field access: finds the value at a
 * dotted path ("status", "customer.id") in a JSON object and copies it out as
 * text (strings unescaped, numbers/true/false/null verbatim). It does not build
 * a document; it scans once, checks syntax as it goes, and refuses nesting
 * deeper than RILL_JSON_MAX_DEPTH. Stateless and thread-safe.
 */
#ifndef RILL_JSON_H
#define RILL_JSON_H

#include <stddef.h>

#define RILL_JSON_MAX_DEPTH 64

typedef enum {
    RILL_JSON_FOUND = 0,
    RILL_JSON_MISSING,   /* valid JSON, no such path */
    RILL_JSON_MALFORMED, /* not valid JSON (or too deep) */
    RILL_JSON_TOOBIG,    /* found, but the value does not fit out */
    RILL_JSON_NOTSCALAR, /* found, but it is an object or an array */
} rill_json_res_t;

/* Looks up path in the JSON text buf[0..len). On RILL_JSON_FOUND, out holds
 * the NUL-terminated value and *outlen (if not NULL) its length. The whole
 * document is validated, not just the prefix up to the field. */
rill_json_res_t rill_json_get(const char *buf, size_t len, const char *path, char *out,
                              size_t outsz, size_t *outlen);

#endif
