/*
 * flat_map.c - the `flat_map` processor: one record in, one record out per
 * element of an array in its value (`each:` a dotted JSON path into the
 * value, JSON or Avro of a schema the process knows, as rill_record_json()
 * reads it), like Kafka Streams' flatMapValues: the order lines of an order,
 * say. Each output keeps the input's key, timestamp and headers; its value
 * is the element's JSON, or with `project:` an object of declared fields
 * (processors/join/project.h) of the two sides `item` (the element) and
 * `value` (the whole input value) and `key`, products of two integers
 * included: `project: "category=item.category,
 * amount_e4=item.quantity*item.unit_price_e4, at=value.event_time"`. An
 * empty array forwards nothing; a tombstone neither. A value that is
 * neither JSON nor known Avro goes to the DLQ (class decode), one without
 * the array, with more than max.items elements, or whose outputs would
 * pass 16 MiB together goes there too (class invalid), so a hostile record
 * cannot make an unbounded transaction. Stateless.
 */
#include "processors/join/project.h"
#include "processors/processor.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Most bytes of output values one record may make (a projection that copies
 * the whole value repeats it per element). */
#define FM_MAX_OUTPUT (16 << 20)

struct fm_conf {
    char *each;
    char *project;
    int64_t max_items;
    char *avro_schema;
    int64_t avro_id;
};

static const struct rill_conf_def fm_conf_def[] = {
    { "each", RILL_CONF_STR, NULL, offsetof(struct fm_conf, each),
      "the array to flatten: a dotted JSON path into the value (JSON or Avro)", NULL, NULL },
    { "project", RILL_CONF_STR, "", offsetof(struct fm_conf, project),
      "the output of each element: NAME=SIDE[.PATH] or NAME=A*B (an integer product), "
      "comma-separated; SIDE `item`, `value` or `key` (empty: the element as it is)", NULL, NULL },
    { "max.items", RILL_CONF_INT, "10000", offsetof(struct fm_conf, max_items),
      "most elements a record may have; a record with more goes to the DLQ", "1", "1000000" },
    RILL_PROJ_AVRO_ROWS(struct fm_conf, avro_schema, avro_id),
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct fm {
    struct rill_proj proj;
    struct rill_proj_out out;
    int projected;
};

static rill_err_t fm_check(const void *conf, const char **key, char *errstr, size_t errsz)
{
    const struct fm_conf *c = conf;
    struct rill_proj p = { 0 };
    char why[512];
    *key = NULL;
    if (!c->each[0]) {
        *key = "each";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "each must name the array to flatten");
    }
    if (rill_proj_parse(&p, c->project, "item", "value", why, sizeof why)) {
        *key = "project";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s", why);
    }
    return rill_proj_out_init(NULL, c->avro_schema, c->avro_id, key, errstr, errsz);
}

static void fm_close(void *state)
{
    struct fm *f = state;
    if (!f)
        return;
    rill_proj_free(&f->proj);
    rill_proj_out_free(&f->out);
    free(f);
}

static rill_err_t fm_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct fm_conf *c = rill_ctx_conf(ctx);
    const char *key;
    rill_err_t err = fm_check(c, &key, errstr, errsz);
    if (err != RILL_OK)
        return err;
    struct fm *f = calloc(1, sizeof *f);
    if (!f)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    char why[512];
    if (rill_proj_parse(&f->proj, c->project, "item", "value", why, sizeof why)) {
        fm_close(f);
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s", why);
    }
    if ((err = rill_proj_out_init(&f->out, c->avro_schema, c->avro_id, &key, errstr, errsz))) {
        fm_close(f);
        return err;
    }
    f->projected = f->proj.n > 0;
    *state = f;
    return RILL_OK;
}

static rill_proc_result_t fm_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct fm *f = state;
    const struct fm_conf *c = rill_ctx_conf(ctx);
    if (!rec->value)
        return RILL_PROC_OK;
    const char *jv;
    size_t jlen;
    rill_json_val_t root, arr, el;
    if (rill_record_json(rec, &jv, &jlen) != RILL_OK ||
        rill_json_parse(jv, jlen, &root, NULL) != RILL_JSON_FOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "the value is neither JSON nor Avro of a "
                           "known schema");
        return RILL_PROC_REJECT;
    }
    if (!rill_proj_at(root, c->each, &arr) || arr.type != RILL_JSON_ARRAY) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "the value has no array at '%s'", c->each);
        return RILL_PROC_REJECT;
    }
    size_t pos = 0, n = 0;
    while (rill_json_next(&arr, &pos, NULL, &el))
        n++;
    if (n > (size_t)c->max_items) {
        rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "'%s' has %zu elements, more than max.items "
                           "(%lld)", c->each, n, (long long)c->max_items);
        return RILL_PROC_REJECT;
    }
    pos = 0;
    size_t total = 0;
    while (rill_json_next(&arr, &pos, NULL, &el)) {
        const void *out = el.p;
        size_t olen = el.len;
        if (f->projected) {
            if (rill_proj_build(&f->proj, &el, &root, rec->key, rec->key_len))
                return RILL_PROC_RETRY;
            out = f->proj.out;
            olen = f->proj.len;
        }
        rill_proc_result_t res = rill_proj_out_value(ctx, &f->out, out, olen, &out, &olen);
        if (res != RILL_PROC_OK)
            return res;
        if ((total += olen) > FM_MAX_OUTPUT) {
            rill_ctx_reject_as(ctx, RILL_REJECT_INVALID, "'%s' would make more than %d bytes of "
                               "output", c->each, FM_MAX_OUTPUT);
            return RILL_PROC_REJECT;
        }
        if (rill_ctx_forward_keep(ctx, NULL, rec->key, rec->key_len, out, olen) != RILL_OK)
            return RILL_PROC_RETRY;
    }
    return RILL_PROC_OK;
}

const struct rill_processor_def rill_proc_flat_map = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "flat_map",
    .doc = "forwards one record per element of an array in the value (JSON or Avro), projected",
    .conf = fm_conf_def,
    .conf_size = sizeof(struct fm_conf),
    .init = fm_init,
    .process = fm_process,
    .close = fm_close,
    .check = fm_check,
};
