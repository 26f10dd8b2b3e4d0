/*
 * project.h - the projection the join processors share: parses a
 * `project:` spec of comma-separated NAME=SIDE[.PATH] (SIDE one of the two
 * side names the processor gives, or `key`) or NAME=OPERAND*OPERAND (each
 * operand SIDE[.PATH] or key) and builds the output JSON object from the
 * two sides' parsed values and the key, each value copied with its JSON
 * type, a product as the exact integer (null when an operand is not a
 * JSON integer, or on an int64 overflow); with no fields,
 * {"<side 0>": v0, "<side 1>": v1}. A missing path or an absent side is
 * null. Used by the joins and flat_map. Internal to processors/.
 */
#ifndef RILL_PROC_PROJECT_H
#define RILL_PROC_PROJECT_H

#include <stddef.h>

#include "processors/processor.h"
#include "schemas/avro_writer.h"
#include "topology/base/json.h"

#define RILL_PROJ_MAX 32      /* fields of a projection */
#define RILL_PROJ_NAME_MAX 64 /* longest field name, NUL included */
#define RILL_PROJ_PATH_MAX 256

struct rill_proj_field {
    char name[RILL_PROJ_NAME_MAX];
    int side; /* 0, 1, or 2 for the key */
    char path[RILL_PROJ_PATH_MAX]; /* "" for the whole value */
    int mul;  /* a product: side/path times side_b/path_b */
    int side_b;
    char path_b[RILL_PROJ_PATH_MAX];
};

struct rill_proj {
    const char *sides[2];
    struct rill_proj_field f[RILL_PROJ_MAX];
    size_t n;
    char *out; /* the last built value */
    size_t len, cap;
};

/* Parses spec for sides s0 and s1 (names that outlive p). Returns 0, or -1
 * with the reason in errstr. */
int rill_proj_parse(struct rill_proj *p, const char *spec, const char *s0, const char *s1,
                    char *errstr, size_t errsz);

/* Builds the value into p->out/p->len from side values v0 and v1 (NULL:
 * absent) and the key. Returns 0, or -1 when out of memory. */
int rill_proj_build(struct rill_proj *p, const rill_json_val_t *v0, const rill_json_val_t *v1,
                    const void *key, size_t klen);

void rill_proj_free(struct rill_proj *p);

/* The value at a dotted path below v (v itself for ""): 1 and *out, or 0
 * when absent. */
int rill_proj_at(rill_json_val_t v, const char *path, rill_json_val_t *out);

/* The output encoding of a projected value: JSON as built, or Avro by the
 * processor's `avro.schema` (the schema's text; `${file:x.avsc}` reads it
 * from a file) framed with `avro.schema.id`. */
struct rill_proj_out {
    rill_serde_writer_t *w;   /* NULL: JSON */
    rill_buf_t buf;
};

/* The two config rows, for char * and int64_t members of struct S. */
#define RILL_PROJ_AVRO_ROWS(S, schema, id)                                                      \
    { "avro.schema", RILL_CONF_STR, "", offsetof(S, schema),                                     \
      "write the output as Avro by this schema (its JSON text; ${file:x.avsc} reads a file), "   \
      "framed in the Confluent wire format (empty: JSON)", NULL, NULL },                         \
    { "avro.schema.id", RILL_CONF_INT, "0", offsetof(S, id),                                     \
      "the schema id the Avro output is framed with", "0", "2147483647" }

/* Checks the rows (`rill validate`): RILL_OK, or an error naming the key in
 * *key. o may be NULL; else it gets the writer. */
rill_err_t rill_proj_out_init(struct rill_proj_out *o, const char *schema, int64_t id,
                              const char **key, char *errstr, size_t errsz);
/* The bytes to forward for the projected JSON: itself, or its Avro in o->buf.
 * Returns RILL_PROC_OK with *p and *n, RILL_PROC_REJECT after rejecting the
 * record (class invalid, the field that does not fit), RILL_PROC_RETRY
 * without memory. */
rill_proc_result_t rill_proj_out_value(rill_ctx_t *ctx, struct rill_proj_out *o, const char *json,
                                       size_t len, const void **p, size_t *n);
void rill_proj_out_free(struct rill_proj_out *o);

#endif
