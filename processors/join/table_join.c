/*
 * table_join.c - the `table_join` processor: a stream-table join. Of its two
 * inputs, the one named by `table:` is a table (a compacted topic, latest
 * value per key): each of its records is kept in the processor's store under
 * its key, a tombstone deletes the key, and nothing is forwarded. Every
 * record of the other input (the stream) is looked up by its key in that
 * table and forwarded enriched, with the stream record's key, timestamp and
 * headers. `join: inner` (default) forwards only stream records whose key the
 * table holds; `join: left` forwards every one, the table side null when it
 * holds nothing.
 *
 * The output value is JSON. Without `project:` it is
 * {"stream": <stream value>, "table": <table value or null>}; with it, an
 * object of the declared fields: `project: "id=stream.order_id,
 * name=table.customer.name, k=key"`: a comma-separated list of
 * NAME=SIDE[.PATH], SIDE `stream` or `table` (a dotted JSON path into that
 * side's value; none: the whole value) or `key` (the key, as a JSON string).
 * Each value keeps its JSON type; a missing field, or a side the table does
 * not have, is null. A stream record without a value joins nothing. Values
 * are JSON, or Avro of a schema the process knows, read as JSON
 * (rill_record_json(); the table keeps the JSON); a value that is neither
 * goes to the DLQ (class decode); so does a table value that is not JSON,
 * when a record of the stream meets it.
 *
 * Both inputs must be co-partitioned and keyed alike (the graph check
 * refuses different partition counts), so a key's table entry and its
 * stream records meet in one task. The table is materialized in the store
 * from the topic, which its changelog restores after a crash; within a task,
 * records are joined in the order they are polled, not by timestamp.
 * `ttl.ms` (processors/ttl.h) deletes a table key that long after its last
 * update (a stream lookup does not extend it), with a changelog tombstone.
 */
#include "processors/group.h"
#include "processors/processor.h"
#include "state/store.h"
#include "processors/join/project.h"
#include "processors/ttl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tj_conf {
    char *table, *join, *project;
    int64_t ttl_ms;
    char *avro_schema;
    int64_t avro_id;
};

static const struct rill_conf_def tj_conf_def[] = {
    { "table", RILL_CONF_STR, NULL, offsetof(struct tj_conf, table),
      "the input that is the table (latest value per key); the other one is the stream", NULL,
      NULL },
    { "join", RILL_CONF_STR, "inner", offsetof(struct tj_conf, join),
      "inner (only stream records the table has a value for) or left (every stream record)",
      NULL, NULL },
    { "project", RILL_CONF_STR, "", offsetof(struct tj_conf, project),
      "output fields NAME=SIDE[.PATH], comma-separated, SIDE stream, table or key (empty: "
      "{\"stream\":..., \"table\":...})", NULL, NULL },
    { "ttl.ms", RILL_CONF_INT, "0", offsetof(struct tj_conf, ttl_ms),
      "wall-clock ms after its last table update that a table key is deleted from the store, "
      "with a tombstone in its changelog (0: never)", "0", NULL },
    RILL_PROJ_AVRO_ROWS(struct tj_conf, avro_schema, avro_id),
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

struct tj {
    void *ttl;             /* struct rill_ttl: the store, and expiry with ttl.ms */
    rill_store_t *store;
    const char *table;
    int left;
    struct rill_proj proj;
    struct rill_proj_out out;
};

static rill_err_t tj_check(const void *conf, const char **key, char *errstr, size_t errsz)
{
    const struct tj_conf *c = conf;
    *key = NULL;
    if (strcmp(c->join, "inner") && strcmp(c->join, "left")) {
        *key = "join";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "unknown join '%s' (expected inner or "
                         "left)", c->join);
    }
    struct rill_proj *p = calloc(1, sizeof *p);
    char why[512];
    int bad = !p || rill_proj_parse(p, c->project, "stream", "table", why, sizeof why);
    free(p);
    if (bad) {
        *key = "project";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s",
                         p ? why : "out of memory");
    }
    return rill_proj_out_init(NULL, c->avro_schema, c->avro_id, key, errstr, errsz);
}

static void tj_close(void *state)
{
    struct tj *j = state;
    rill_proj_free(&j->proj);
    rill_proj_out_free(&j->out);
    rill_ttl_close(j->ttl);
    free(j);
}

static rill_err_t tj_init(rill_ctx_t *ctx, void **state, char *errstr, size_t errsz)
{
    const struct tj_conf *c = rill_ctx_conf(ctx);
    const char *key;
    rill_err_t err = tj_check(c, &key, errstr, errsz);
    if (err)
        return err;
    if (rill_ctx_input_count(ctx) != 2 ||
        (strcmp(rill_ctx_input_name(ctx, 0), c->table) &&
         strcmp(rill_ctx_input_name(ctx, 1), c->table)) ||
        !strcmp(rill_ctx_input_name(ctx, 0), rill_ctx_input_name(ctx, 1)))
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "processor '%s' (table_join) needs two "
                         "inputs, a stream and the table '%s' it names in table:",
                         rill_ctx_name(ctx), c->table);
    void *ttl;
    if ((err = rill_ttl_init(ctx, c->ttl_ms, &ttl, errstr, errsz)) != RILL_OK)
        return err;
    rill_store_t *store = rill_ttl_store(ttl);
    struct tj *j = calloc(1, sizeof *j);
    if (!j) {
        rill_ttl_close(ttl);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    j->ttl = ttl;
    j->store = store;
    j->table = c->table;
    j->left = !strcmp(c->join, "left");
    char why[512];
    if (rill_proj_parse(&j->proj, c->project, "stream", "table", why, sizeof why)) {
        tj_close(j);
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s", why);
    }
    if ((err = rill_proj_out_init(&j->out, c->avro_schema, c->avro_id, &key, errstr, errsz))) {
        tj_close(j);
        return err;
    }
    *state = j;
    return RILL_OK;
}

static rill_proc_result_t tj_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct tj *j = state;
    const void *key = rec->key ? rec->key : "";
    const char *jv = NULL;
    size_t jlen = 0;
    if (rec->value && rill_record_json(rec, &jv, &jlen) != RILL_OK) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "the value is neither JSON nor Avro of a known "
                           "schema");
        return RILL_PROC_REJECT;
    }
    /* with ttl.ms, a key that could be taken for an index entry is refused */
    rill_proc_result_t ok = rill_ttl_check(ctx, j->ttl, key, rec->key_len);
    if (ok != RILL_PROC_OK)
        return ok;
    if (rec->topic && !strcmp(rec->topic, j->table)) {
        /* the table keeps the value as JSON, whatever the topic's format */
        rill_err_t err = rec->value ? rill_store_put(j->store, key, rec->key_len, jv, jlen)
                                    : rill_store_delete(j->store, key, rec->key_len);
        if (err != RILL_OK && !(err == RILL_ERR_NOTFOUND && !rec->value))
            return RILL_PROC_RETRY;
        /* the key's deadline moves with each update; a tombstone drops it */
        err = rec->value ? rill_ttl_touch(ctx, j->ttl, key, rec->key_len)
                         : rill_ttl_forget(j->ttl, key, rec->key_len);
        return err == RILL_OK || err == RILL_ERR_NOTFOUND ? RILL_PROC_OK : RILL_PROC_RETRY;
    }
    if (!rec->value)
        return RILL_PROC_OK; /* a stream tombstone joins nothing */
    void *tv = NULL;
    size_t tlen = 0;
    rill_err_t err = rill_store_get(j->store, key, rec->key_len, &tv, &tlen);
    if (err != RILL_OK && err != RILL_ERR_NOTFOUND)
        return RILL_PROC_RETRY;
    if (err == RILL_ERR_NOTFOUND && !j->left)
        return RILL_PROC_OK; /* an inner join forwards only what meets the table */
    rill_json_val_t sroot, troot;
    rill_proc_result_t res = RILL_PROC_OK;
    if (rill_json_parse(jv, jlen, &sroot, NULL) != RILL_JSON_FOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "the stream value is not JSON");
        res = RILL_PROC_REJECT;
    } else if (tv && rill_json_parse(tv, tlen, &troot, NULL) != RILL_JSON_FOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "the table's value for this key is not JSON");
        res = RILL_PROC_REJECT;
    } else if (rill_proj_build(&j->proj, &sroot, tv ? &troot : NULL, key, rec->key_len)) {
        res = RILL_PROC_RETRY;
    }
    const void *v = NULL;
    size_t vlen = 0;
    if (res == RILL_PROC_OK)
        res = rill_proj_out_value(ctx, &j->out, j->proj.out, j->proj.len, &v, &vlen);
    if (res == RILL_PROC_OK &&
        rill_ctx_forward_keep(ctx, NULL, rec->key, rec->key_len, v, vlen) != RILL_OK)
        res = RILL_PROC_RETRY;
    free(tv);
    return res;
}

static rill_proc_result_t tj_punctuate(rill_ctx_t *ctx, void *state, rill_punctuate_type_t type,
                                       int64_t now_ms)
{
    struct tj *j = state;
    return rill_ttl_punctuate(ctx, j->ttl, type, now_ms);
}

const struct rill_processor_def rill_proc_table_join = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "table_join",
    .doc = "enriches each stream record with the table's latest value for its key (inner or left)",
    .conf = tj_conf_def,
    .conf_size = sizeof(struct tj_conf),
    .init = tj_init,
    .process = tj_process,
    .punctuate = tj_punctuate,
    .close = tj_close,
    .check = tj_check,
};
