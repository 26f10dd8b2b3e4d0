/*
 * serde_show.c - a record value shown as JSON, for people and tools that
 * look at topics (`rill inspect read`): Confluent-framed Avro of one of the
 * serde's schema ids decoded generically (field names of the schema, a
 * union as the value of its branch, bytes and fixed as base64), a JSON text
 * re-emitted compactly, other UTF-8 text as a JSON string, anything else as
 * base64. The Avro path is the decoder's (header, id, the bounded walk, then
 * avro-c), so hostile bytes cost no more here than in a processor; a value
 * that is framed but does not decode says why and is shown as its bytes.
 *
 * Not the typed decode (serde.c) and no validation of the pipeline's rules:
 * an order whose total is wrong is still shown as it is.
 */
#include "schemas/serde_int.h"
#include "topology/base/jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void show_avro(rill_jsonw_t *w, avro_value_t *v, int depth);

static void show_double(rill_jsonw_t *w, double d)
{
    char num[40];
    if (!isfinite(d)) {
        rill_jsonw_null(w); /* JSON has no NaN nor infinity */
        return;
    }
    snprintf(num, sizeof num, "%.17g", d);
    /* a raw number through the compact path keeps the writer's commas */
    rill_jsonw_json(w, num, strlen(num));
}

static void show_avro(rill_jsonw_t *w, avro_value_t *v, int depth)
{
    size_t n = 0;
    const void *buf;
    const char *str, *name;
    avro_value_t child;
    int32_t i32;
    int64_t i64;
    int b;
    float f;
    double d;
    if (depth > RILL_SERDE_MAX_DEPTH) {
        rill_jsonw_null(w);
        return;
    }
    switch (avro_value_get_type(v)) {
    case AVRO_NULL: rill_jsonw_null(w); break;
    case AVRO_BOOLEAN:
        b = 0;
        avro_value_get_boolean(v, &b);
        rill_jsonw_bool(w, b);
        break;
    case AVRO_INT32:
        i32 = 0;
        avro_value_get_int(v, &i32);
        rill_jsonw_int(w, i32);
        break;
    case AVRO_INT64:
        i64 = 0;
        avro_value_get_long(v, &i64);
        rill_jsonw_int(w, i64);
        break;
    case AVRO_FLOAT:
        f = 0;
        avro_value_get_float(v, &f);
        show_double(w, f);
        break;
    case AVRO_DOUBLE:
        d = 0;
        avro_value_get_double(v, &d);
        show_double(w, d);
        break;
    case AVRO_STRING:
        str = NULL;
        if (avro_value_get_string(v, &str, &n) || !str)
            rill_jsonw_null(w);
        else
            rill_jsonw_string(w, str, n ? n - 1 : 0); /* size counts the NUL */
        break;
    case AVRO_BYTES:
        buf = NULL;
        avro_value_get_bytes(v, &buf, &n);
        rill_jsonw_base64(w, buf, buf ? n : 0);
        break;
    case AVRO_FIXED:
        buf = NULL;
        avro_value_get_fixed(v, &buf, &n);
        rill_jsonw_base64(w, buf, buf ? n : 0);
        break;
    case AVRO_ENUM:
        i32 = 0;
        avro_value_get_enum(v, &i32);
        rill_jsonw_cstr(w, avro_schema_enum_get(avro_value_get_schema(v), i32));
        break;
    case AVRO_RECORD:
    case AVRO_MAP:
        rill_jsonw_object_begin(w);
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++) {
            name = NULL;
            if (avro_value_get_by_index(v, i, &child, &name))
                break;
            rill_jsonw_key(w, name ? name : "");
            show_avro(w, &child, depth + 1);
        }
        rill_jsonw_object_end(w);
        break;
    case AVRO_ARRAY:
        rill_jsonw_array_begin(w);
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++) {
            if (avro_value_get_by_index(v, i, &child, NULL))
                break;
            show_avro(w, &child, depth + 1);
        }
        rill_jsonw_array_end(w);
        break;
    case AVRO_UNION:
        if (avro_value_get_current_branch(v, &child))
            rill_jsonw_null(w);
        else
            show_avro(w, &child, depth + 1);
        break;
    default: rill_jsonw_null(w); break;
    }
}

rill_err_t rill_serde_show(rill_serde_t *s, const void *value, size_t len, struct rill_jsonw *w,
                           struct rill_serde_shown *shown)
{
    const unsigned char *p = value;
    memset(shown, 0, sizeof *shown);
    shown->schema_id = -1;
    if (!p) {
        shown->format = RILL_SHOW_NULL;
        rill_jsonw_null(w);
    } else if (len >= RILL_SERDE_HEADER && p[0] == RILL_SERDE_MAGIC) {
        shown->schema_id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                                     (uint32_t)p[3] << 8 | (uint32_t)p[4]);
        int type = -1;
        struct rill_serde_tally tally;
        if (len > RILL_SERDE_MAX_VALUE)
            snprintf(shown->error, sizeof shown->error,
                     "value of %zu bytes exceeds the limit of %d", len, RILL_SERDE_MAX_VALUE);
        else
            rill_serde_read_avro(s, p, len, &type, &tally, shown->error, sizeof shown->error);
        if (!shown->error[0]) {
            shown->format = RILL_SHOW_AVRO;
            shown->schema = rill_event_type_name((rill_event_type_t)type);
            show_avro(w, &s->value[type], 0);
        }
    }
    if (p && shown->format != RILL_SHOW_AVRO) {
        if (!shown->error[0] && rill_jsonw_json(w, value, len) == 0) {
            shown->format = RILL_SHOW_JSON;
        } else if (rill_utf8_valid(p, len, 0)) {
            shown->format = RILL_SHOW_STRING;
            rill_jsonw_string(w, p, len);
        } else {
            shown->format = RILL_SHOW_BASE64;
            rill_jsonw_base64(w, p, len);
        }
    }
    return rill_jsonw_failed(w) ? RILL_ERR_NOMEM : RILL_OK;
}

const char *rill_serde_show_format_name(rill_show_format_t f)
{
    static const char *const names[] = { "null", "avro", "json", "string", "base64" };
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}
