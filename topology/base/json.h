/*
 * json.h - a small, bounded JSON reader for field access: finds the value at a
 * dotted path ("status", "customer.id") in a JSON object and copies it out as
 * text (strings unescaped, numbers/true/false/null verbatim); or, for readers
 * of a whole shape (the JSON serde), validates a document once and then steps
 * through the members of its objects and the elements of its arrays. It does
 * not build a document: values are spans of the caller's text, and stepping
 * keeps its position in the caller's variable. Syntax is checked as it scans,
 * nesting deeper than RILL_JSON_MAX_DEPTH is refused. Stateless and
 * thread-safe. Not a writer.
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

typedef enum {
    RILL_JSON_OBJECT,
    RILL_JSON_ARRAY,
    RILL_JSON_STRING,
    RILL_JSON_NUMBER,
    RILL_JSON_TRUE,
    RILL_JSON_FALSE,
    RILL_JSON_NULL,
} rill_json_type_t;

/* A value of a document that rill_json_parse() accepted: its text p[0..len)
 * (a string includes its quotes) and its type. Points into the caller's
 * buffer, which must outlive it. */
typedef struct {
    const char *p;
    size_t len;
    rill_json_type_t type;
} rill_json_val_t;

/* Validates the whole JSON text buf[0..len) (one value, blanks around it) and
 * sets *root to its value. Returns RILL_JSON_FOUND, or RILL_JSON_MALFORMED
 * with *err_off (if not NULL) the byte offset where the text went wrong. */
rill_json_res_t rill_json_parse(const char *buf, size_t len, rill_json_val_t *root,
                                size_t *err_off);

/* Steps through an object's members or an array's elements: set *pos to 0,
 * then each call that returns 1 gives the next one in *val and, for an
 * object, its key (a RILL_JSON_STRING value) in *key (key may be NULL). Returns
 * 0 after the last one, or when c is not an object or array. c must be
 * rill_json_parse()'s root or a value it led to. */
int rill_json_next(const rill_json_val_t *c, size_t *pos, rill_json_val_t *key,
                   rill_json_val_t *val);

/* Copies the unescaped text of a string value to out (NUL-terminated) and its
 * length to *outlen (if not NULL); the text may contain NUL bytes (\u0000).
 * Returns RILL_JSON_FOUND, RILL_JSON_TOOBIG when it does not fit outsz,
 * RILL_JSON_NOTSCALAR when v is not a string, or RILL_JSON_MALFORMED when v
 * did not come from rill_json_parse(). */
rill_json_res_t rill_json_string(const rill_json_val_t *v, char *out, size_t outsz,
                                 size_t *outlen);

/* The value of one hexadecimal digit, or -1. */
int rill_json_hexval(char c);

#endif
