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
 * not have, is null. A stream record without a value joins nothing. A stream value that is not JSON goes to the DLQ (class
 * decode); so does a table value, when a record of the stream meets it.
 *
 * Both inputs must be co-partitioned and keyed alike (the graph check
 * refuses different partition counts), so a key's table entry and its
 * stream records meet in one task. The table is materialized in the store
 * from the topic, which its changelog restores after a crash; within a task,
 * records are joined in the order they are polled, not by timestamp.
 */
#include "processors/group.h"
#include "processors/processor.h"
#include "state/store.h"
#include "topology/base/json.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJ_MAX 32   /* fields of a projection */
#define NAME_MAX_ 64  /* longest field name */
#define PATH_MAX_ 256 /* longest path */

struct tj_conf {
    char *table, *join, *project;
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
    { NULL, 0, NULL, 0, NULL, NULL, NULL },
};

enum side { SIDE_STREAM, SIDE_TABLE, SIDE_KEY };

struct field {
    char name[NAME_MAX_];
    enum side side;
    char path[PATH_MAX_]; /* "" for the whole value */
};

struct tj {
    rill_store_t *store;
    const char *table;
    int left;
    struct field fields[PROJ_MAX];
    size_t nfields;
    char *out;
    size_t out_len, out_cap;
};

/* Parses a projection into f[0..*n); 0, or -1 with the reason in errstr. */
static int parse_project(const char *spec, struct field *f, size_t *n, char *errstr, size_t errsz)
{
    *n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, ','), *eq = strchr(p, '=');
        if (!end)
            end = p + strlen(p);
        if (*n == PROJ_MAX) {
            snprintf(errstr, errsz, "more than %d fields", PROJ_MAX);
            return -1;
        }
        if (!eq || eq > end) {
            snprintf(errstr, errsz, "'%.*s' is not NAME=SIDE[.PATH]", (int)(end - p), p);
            return -1;
        }
        const char *ne = eq;
        while (ne > p && ne[-1] == ' ')
            ne--;
        size_t nlen = (size_t)(ne - p);
        if (nlen == 0 || nlen >= NAME_MAX_) {
            snprintf(errstr, errsz, "field name '%.*s' must have 1 to %d characters",
                     (int)nlen, p, NAME_MAX_ - 1);
            return -1;
        }
        for (size_t i = 0; i < nlen; i++)
            if (!(p[i] == '_' || p[i] == '-' || p[i] == '.' || (p[i] >= '0' && p[i] <= '9') ||
                  ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z'))) {
                snprintf(errstr, errsz, "field name '%.*s' may hold only letters, digits, "
                         "'_', '-' and '.'", (int)nlen, p);
                return -1;
            }
        for (size_t j = 0; j < *n; j++)
            if (strlen(f[j].name) == nlen && !memcmp(f[j].name, p, nlen)) {
                snprintf(errstr, errsz, "field '%.*s' is projected twice", (int)nlen, p);
                return -1;
            }
        const char *s = eq + 1;
        while (*s == ' ')
            s++;
        const char *se = end;
        while (se > s && se[-1] == ' ')
            se--;
        size_t slen = (size_t)(se - s);
        struct field *x = &f[*n];
        memcpy(x->name, p, nlen);
        x->name[nlen] = '\0';
        const char *rest;
        if (slen >= 6 && !strncmp(s, "stream", 6))
            x->side = SIDE_STREAM, rest = s + 6;
        else if (slen >= 5 && !strncmp(s, "table", 5))
            x->side = SIDE_TABLE, rest = s + 5;
        else if (slen >= 3 && !strncmp(s, "key", 3) && (slen == 3 || s[3] == '.'))
            x->side = SIDE_KEY, rest = s + 3;
        else {
            snprintf(errstr, errsz, "'%.*s': the side must be stream, table or key",
                     (int)slen, s);
            return -1;
        }
        size_t plen = (size_t)(se - rest);
        if (plen && (x->side == SIDE_KEY || *rest != '.' || plen < 2 || plen > PATH_MAX_ ||
                     rest[plen - 1] == '.' || strstr(rest, ".."))) {
            snprintf(errstr, errsz, "'%.*s': after stream or table comes nothing or .PATH "
                     "(a dotted path of at most %d bytes); after key, nothing", (int)slen, s,
                     PATH_MAX_ - 1);
            return -1;
        }
        if (plen) {
            memcpy(x->path, rest + 1, plen - 1);
            x->path[plen - 1] = '\0';
        } else {
            x->path[0] = '\0';
        }
        (*n)++;
        p = end;
    }
    return 0;
}

static rill_err_t tj_check(const void *conf, const char **key, char *errstr, size_t errsz)
{
    const struct tj_conf *c = conf;
    *key = NULL;
    if (strcmp(c->join, "inner") && strcmp(c->join, "left")) {
        *key = "join";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "unknown join '%s' (expected inner or "
                         "left)", c->join);
    }
    struct field *f = malloc(PROJ_MAX * sizeof *f);
    size_t n;
    char why[512];
    int bad = !f || parse_project(c->project, f, &n, why, sizeof why);
    free(f);
    if (bad) {
        *key = "project";
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s",
                         f ? why : "out of memory");
    }
    return RILL_OK;
}

static void tj_close(void *state)
{
    struct tj *j = state;
    free(j->out);
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
    rill_store_t *store;
    if ((err = rill_group_init(ctx, (void **)&store, errstr, errsz)) != RILL_OK)
        return err;
    struct tj *j = calloc(1, sizeof *j);
    if (!j)
        return RILL_ERR_NOMEM;
    j->store = store;
    j->table = c->table;
    j->left = !strcmp(c->join, "left");
    char why[512];
    if (parse_project(c->project, j->fields, &j->nfields, why, sizeof why)) {
        tj_close(j);
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "bad projection: %s", why);
    }
    *state = j;
    return RILL_OK;
}

static int put(struct tj *j, const void *p, size_t n)
{
    if (j->out_len + n > j->out_cap) {
        size_t cap = j->out_cap ? j->out_cap : 256;
        while (cap < j->out_len + n)
            cap *= 2;
        char *o = realloc(j->out, cap);
        if (!o)
            return -1;
        j->out = o;
        j->out_cap = cap;
    }
    memcpy(j->out + j->out_len, p, n);
    j->out_len += n;
    return 0;
}

static int puts_(struct tj *j, const char *s) { return put(j, s, strlen(s)); }

/* The value at a dotted path below v (v itself for ""); 0 when absent. */
static int at_path(rill_json_val_t v, const char *path, rill_json_val_t *out)
{
    while (*path) {
        const char *dot = strchr(path, '.');
        size_t seg = dot ? (size_t)(dot - path) : strlen(path);
        if (v.type != RILL_JSON_OBJECT)
            return 0;
        size_t pos = 0;
        rill_json_val_t k, val;
        int found = 0;
        char name[PATH_MAX_];
        size_t nlen;
        while (rill_json_next(&v, &pos, &k, &val))
            if (rill_json_string(&k, name, sizeof name, &nlen) == RILL_JSON_FOUND &&
                nlen == seg && !memcmp(name, path, seg)) {
                found = 1;
                v = val;
                break;
            }
        if (!found)
            return 0;
        path += seg + (dot ? 1 : 0);
    }
    *out = v;
    return 1;
}

/* The key as a JSON string (escaped; bytes that are not printable ASCII as
 * \u00XX). */
static int put_key(struct tj *j, const unsigned char *k, size_t n)
{
    int bad = puts_(j, "\"");
    for (size_t i = 0; i < n && !bad; i++) {
        char e[8];
        if (k[i] == '"' || k[i] == '\\')
            snprintf(e, sizeof e, "\\%c", k[i]);
        else if (k[i] < 0x20 || k[i] >= 0x7f)
            snprintf(e, sizeof e, "\\u%04x", k[i]);
        else
            e[0] = (char)k[i], e[1] = '\0';
        bad = puts_(j, e);
    }
    return bad || puts_(j, "\"");
}

static rill_proc_result_t tj_process(rill_ctx_t *ctx, void *state, const rill_record_t *rec)
{
    struct tj *j = state;
    const void *key = rec->key ? rec->key : "";
    if (rec->topic && !strcmp(rec->topic, j->table)) {
        rill_err_t err = rec->value
                             ? rill_store_put(j->store, key, rec->key_len, rec->value, rec->value_len)
                             : rill_store_delete(j->store, key, rec->key_len);
        return err == RILL_OK || (err == RILL_ERR_NOTFOUND && !rec->value) ? RILL_PROC_OK
                                                                             : RILL_PROC_RETRY;
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
    rill_json_val_t sroot = { "null", 4, RILL_JSON_NULL }, troot = { "null", 4, RILL_JSON_NULL };
    rill_proc_result_t res = RILL_PROC_OK;
    if (rec->value && rill_json_parse(rec->value, rec->value_len, &sroot, NULL) != RILL_JSON_FOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "the stream value is not JSON");
        res = RILL_PROC_REJECT;
    } else if (tv && rill_json_parse(tv, tlen, &troot, NULL) != RILL_JSON_FOUND) {
        rill_ctx_reject_as(ctx, RILL_REJECT_DECODE, "the table's value for this key is not JSON");
        res = RILL_PROC_REJECT;
    }
    j->out_len = 0;
    int bad = 0;
    if (res == RILL_PROC_OK && !j->nfields) {
        bad = puts_(j, "{\"stream\":") || put(j, sroot.p, sroot.len) ||
              puts_(j, ",\"table\":") || put(j, troot.p, troot.len) || puts_(j, "}");
    } else if (res == RILL_PROC_OK) {
        bad = puts_(j, "{");
        for (size_t i = 0; i < j->nfields && !bad; i++) {
            const struct field *f = &j->fields[i];
            rill_json_val_t v;
            bad = (i && puts_(j, ",")) || puts_(j, "\"") || puts_(j, f->name) || puts_(j, "\":");
            if (bad)
                break;
            if (f->side == SIDE_KEY)
                bad = put_key(j, key, rec->key_len);
            else if (at_path(f->side == SIDE_STREAM ? sroot : troot, f->path, &v))
                bad = put(j, v.p, v.len);
            else
                bad = puts_(j, "null");
        }
        bad = bad || puts_(j, "}");
    }
    free(tv);
    if (res != RILL_PROC_OK)
        return res;
    if (bad)
        return RILL_PROC_RETRY;
    return rill_ctx_forward(ctx, NULL, rec->key, rec->key_len, j->out, j->out_len, rec->headers,
                            rec->header_cnt) == RILL_OK
               ? RILL_PROC_OK
               : RILL_PROC_RETRY;
}

const struct rill_processor_def rill_proc_table_join = {
    .version = RILL_PROCESSOR_VERSION,
    .name = "table_join",
    .doc = "enriches each stream record with the table's latest value for its key (inner or left)",
    .conf = tj_conf_def,
    .conf_size = sizeof(struct tj_conf),
    .init = tj_init,
    .process = tj_process,
    .close = tj_close,
    .check = tj_check,
};
