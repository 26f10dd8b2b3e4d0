/*
 * jsonw.h - a small JSON writer into a growable buffer: objects and arrays
 * with the commas placed for the caller, strings escaped so that any bytes
 * come out as valid JSON (and safe on a terminal), numbers, base64, and a
 * JSON text re-emitted compactly (one line) after it was validated. Also the
 * UTF-8 check the escaping goes by. The writer never fails half-way: an
 * allocation failure or a nesting deeper than RILL_JSONW_MAX_DEPTH is
 * remembered (rill_jsonw_failed()) and later calls do nothing.
 *
 * Not a reader (json.h is) and not a pretty-printer. Single-threaded per
 * writer; no global state.
 */
#ifndef RILL_JSONW_H
#define RILL_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define RILL_JSONW_MAX_DEPTH 64

typedef struct rill_jsonw {
    char *p;                   /* the text, NUL-terminated (NULL before the first write) */
    size_t len, cap;
    int failed;                /* out of memory or too deep: the text is not whole */
    int depth;
    unsigned char more[RILL_JSONW_MAX_DEPTH + 1]; /* a value was written at this level */
    unsigned char keyed;       /* a key was just written: its value needs no comma */
} rill_jsonw_t;

/* Zero-initialise, or call this; rill_jsonw_reset() empties it for reuse,
 * rill_jsonw_free() frees the text. */
void rill_jsonw_init(rill_jsonw_t *w);
void rill_jsonw_reset(rill_jsonw_t *w);
void rill_jsonw_free(rill_jsonw_t *w);
int rill_jsonw_failed(const rill_jsonw_t *w);

void rill_jsonw_object_begin(rill_jsonw_t *w);
void rill_jsonw_object_end(rill_jsonw_t *w);
void rill_jsonw_array_begin(rill_jsonw_t *w);
void rill_jsonw_array_end(rill_jsonw_t *w);
/* An object member's name; the next call writes its value. */
void rill_jsonw_key(rill_jsonw_t *w, const char *name);

/* s[0..n) as a JSON string: '"' and '\' escaped, control characters, DEL and
 * the C1 controls (U+0080..U+009F) as \u00XX, every byte that is not part of
 * well-formed UTF-8 as U+FFFD. Never raw control bytes in the output. */
void rill_jsonw_string(rill_jsonw_t *w, const void *s, size_t n);
/* A NUL-terminated string, or null when s is NULL. */
void rill_jsonw_cstr(rill_jsonw_t *w, const char *s);
void rill_jsonw_int(rill_jsonw_t *w, int64_t v);
void rill_jsonw_bool(rill_jsonw_t *w, int v);
void rill_jsonw_null(rill_jsonw_t *w);
/* p[0..n) as a JSON string of its standard base64 (RFC 4648, padded). */
void rill_jsonw_base64(rill_jsonw_t *w, const void *p, size_t n);

/* Validates text[0..n) as one JSON value (json.h's reader) and writes it
 * compactly: no blanks between tokens, every string re-escaped as
 * rill_jsonw_string() does. Returns 0, or -1 (nothing written) when it is
 * not JSON or nests deeper than the reader allows. */
int rill_jsonw_json(rill_jsonw_t *w, const char *text, size_t n);

/* The length of the well-formed UTF-8 sequence at s[0..n) (1..4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 when s does
 * not start with one. n must be at least 1. */
size_t rill_utf8_len(const unsigned char *s, size_t n);

/* 1 when s[0..n) is all well-formed UTF-8 (NUL bytes allowed when nul_ok). */
int rill_utf8_valid(const unsigned char *s, size_t n, int nul_ok);

#endif
