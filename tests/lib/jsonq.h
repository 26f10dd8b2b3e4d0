/*
 * jsonq.h - looking things up in a JSON document in the tests (what rill
 * prints with --json): a path of member names and array indexes ("groups.0.
 * partitions.3.lag") over topology/base/json.h's validated reader, and the
 * value there as a number or a string. Test-only code.
 */
#ifndef RILL_TEST_JSONQ_H
#define RILL_TEST_JSONQ_H

#include "topology/base/json.h"

#include <stddef.h>

/* Parses text[0..len) into *root: 0, or -1 when it is not one JSON value. */
int it_json_parse(const char *text, size_t len, rill_json_val_t *root);
/* The value at path under v ("" is v itself): 1 found, 0 not. */
int it_json_at(const rill_json_val_t *v, const char *path, rill_json_val_t *out);
/* The number at path, or def when there is none (or it is not a number). */
long long it_json_num(const rill_json_val_t *v, const char *path, long long def);
/* The unescaped string at path (NUL-terminated; *len its length, may be
 * NULL) in a ring of 8 static slots of 64 KiB, or NULL when there is none. */
const char *it_json_str(const rill_json_val_t *v, const char *path, size_t *len);
/* The same, "(missing)" when there is none: never NULL, so that a
 * comparison fails instead of crashing. */
const char *it_json_text(const rill_json_val_t *v, const char *path);
/* 1 when the value at path is JSON null. */
int it_json_is_null(const rill_json_val_t *v, const char *path);
/* The number of members or elements at path; -1 when it is neither. */
long it_json_count(const rill_json_val_t *v, const char *path);

#endif
