/*
 * avro_writer.h - a JSON value written as Avro binary by a schema the
 * topology declares (the `avro.schema` of the joins and flat_map), framed in
 * the Confluent wire format with a declared schema id: what a generic
 * operator's output is when it is to be Avro rather than JSON.
 *
 * The schema is parsed once by avro-c (so it is valid Avro) and walked by
 * hand per value: null, boolean, int and long (JSON integers in range),
 * float and double (JSON numbers), string (a JSON string, its UTF-8
 * bytes), bytes and fixed (a JSON string of their base64, as serde_show.c
 * shows them, so Avro read as JSON is written back the same), enum (a
 * symbol),
 * array, map, record (members by field name; a missing field is null when
 * its type is a union with null, else an error; members the schema does not
 * name are left out) and union (JSON null the null branch, else the first
 * branch that takes the value). Logical types are the underlying type, as
 * avro-c has them. A value that does not fit is an error naming the field.
 *
 * Threading: a writer belongs to one processor instance.
 */
#ifndef RILL_AVRO_WRITER_H
#define RILL_AVRO_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/serde.h"

typedef struct rill_serde_writer rill_serde_writer_t;

/* Parses the schema text (len bytes) for values framed with id (0 to
 * 2^31 - 1). Returns RILL_OK, or RILL_ERR_CONFIG with the reason, or
 * RILL_ERR_NOMEM. */
rill_err_t rill_serde_writer_new(const char *schema, size_t len, int64_t id,
                                 rill_serde_writer_t **out, char *errstr, size_t errsz);

/* Writes the JSON text json[0..len) into out (overwritten): magic byte,
 * the id big-endian, the Avro payload. Returns RILL_OK, RILL_ERR_INVALID
 * with the reason when the value does not fit the schema, RILL_ERR_NOMEM. */
rill_err_t rill_serde_writer_encode(rill_serde_writer_t *w, const char *json, size_t len,
                                    rill_buf_t *out, char *errstr, size_t errsz);

void rill_serde_writer_free(rill_serde_writer_t *w);

#endif
