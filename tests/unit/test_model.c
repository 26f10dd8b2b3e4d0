/*
 * test_model.c - unit tests of the model's tables: the table of every
 * topology key (keys.c) and the loader's use of it (defaults, ranges and the
 * known keys of an unknown-key error, each derived from the table), and the
 * consumer-only and producer-only librdkafka properties (kafka.c, read from
 * librdkafka's own property table).
 */
#include "tests/lib/suite.h"
#include "topology/model/config.h"
#include "topology/model/kafka.h"
#include "topology/model/keys.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the key table ---------------------------------------------------------- */

static const char *const scope_yaml[RILL_SCOPE__COUNT][2] = {
    [RILL_SCOPE_TOP] = { "", "" },
    [RILL_SCOPE_TOPIC] = { "topics: { t: { ", " } }" },
    [RILL_SCOPE_STORE] = { "stores: { s: { ", " } }" },
    [RILL_SCOPE_PROCESSOR] = { "processors: { p: { type: x, inputs: [t], ", " } }" },
    [RILL_SCOPE_SINK] = { "sinks: { k: { type: x, inputs: [t], dsn: d, ", " } }" },
    [RILL_SCOPE_CLIENT] = { "clients: { c: { user: u, ", " } }" },
};

/* Loads "application.id: a" plus key: value in scope; returns the error. */
static rill_err_t load_key(rill_scope_t scope, const char *key, const char *value,
                           struct rill_topology **t, char *err, size_t errsz)
{
    char yaml[512];
    if (scope == RILL_SCOPE_TOP)
        snprintf(yaml, sizeof yaml, "application.id: a\n%s: %s\n", key, value);
    else
        snprintf(yaml, sizeof yaml, "application.id: a\n%s%s: %s%s\n", scope_yaml[scope][0], key,
                 value, scope_yaml[scope][1]);
    return rill_topology_load_buf("k.yaml", yaml, strlen(yaml), t, err, errsz);
}

/* The struct a row of scope lands in, in a loaded topology. */
static void *scope_base(struct rill_topology *t, rill_scope_t scope)
{
    if (scope == RILL_SCOPE_TOP)
        return t;
    const struct rill_scope_def *sd = &rill_scopes[scope];
    char *array;
    memcpy(&array, (char *)t + sd->array_off, sizeof array);
    return array;
}

static int64_t read_int(const void *base, const struct rill_key_def *row)
{
    const char *p = (const char *)base + row->offset;
    if (row->size == sizeof(int16_t)) {
        int16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    if (row->size == sizeof(int32_t)) {
        int32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void test_key_table_shape(void)
{
    size_t per_scope[RILL_SCOPE__COUNT] = { 0 };
    int has_section[RILL_SCOPE__COUNT] = { 0 };
    for (const struct rill_key_def *k = rill_keys; k->name; k++) {
        CU_ASSERT_FATAL(k->scope < RILL_SCOPE__COUNT);
        per_scope[k->scope]++;
        CU_ASSERT(k->doc && *k->doc);
        CU_ASSERT(k->type == RILL_KEY_SECTION ||
                  k->offset + k->size <= rill_scopes[k->scope].size);
        if (k->type != RILL_KEY_OTHER)
            CU_ASSERT_PTR_EQUAL(rill_key_find(k->scope, k->name), k);
        if (k->type == RILL_KEY_SECTION) {
            CU_ASSERT(k->scope == RILL_SCOPE_TOP && k->sub != RILL_SCOPE_TOP);
            has_section[k->sub]++;
        }
        if (k->type == RILL_KEY_INT) {
            CU_ASSERT(k->min <= k->max);
            CU_ASSERT(k->size == 2 || k->size == 4 || k->size == 8);
            /* the range fits the field */
            CU_ASSERT(k->size == 8 || k->max <= (k->size == 2 ? INT16_MAX : INT32_MAX));
        }
        if (k->def && k->type == RILL_KEY_INT) {
            int64_t v;
            CU_ASSERT_EQUAL(rill_parse_int64(k->def, &v), RILL_OK);
            CU_ASSERT(v >= k->min && v <= k->max);
        }
        if (k->def && k->type == RILL_KEY_BOOL)
            CU_ASSERT(!strcmp(k->def, "true") || !strcmp(k->def, "false"));
        if (k->type == RILL_KEY_ENUM || k->type == RILL_KEY_NAME) {
            CU_ASSERT_PTR_NOT_NULL_FATAL(k->values);
            int found = !k->def;
            for (size_t i = 0; k->values[i]; i++)
                found |= k->def && !strcmp(k->values[i], k->def);
            CU_ASSERT(found);
        }
        if (k->type == RILL_KEY_LIST)
            CU_ASSERT_PTR_NOT_NULL(k->item);
        /* the loader stores ENUM and BOOL as int, STRING and NAME as char * */
        if (k->type == RILL_KEY_ENUM || k->type == RILL_KEY_BOOL)
            CU_ASSERT_EQUAL(k->size, sizeof(int));
        if (k->type == RILL_KEY_STRING || k->type == RILL_KEY_NAME)
            CU_ASSERT_EQUAL(k->size, sizeof(char *));
        if (k->type == RILL_KEY_LIST)
            CU_ASSERT_EQUAL(k->size, sizeof(struct rill_strlist));
        if (k->type == RILL_KEY_MAP || k->type == RILL_KEY_OTHER)
            CU_ASSERT_EQUAL(k->size, sizeof(struct rill_kvlist));
        if (k->when_key) {
            const struct rill_key_def *dep = rill_key_find(k->scope, k->when_key);
            CU_ASSERT_PTR_NOT_NULL_FATAL(dep);
            CU_ASSERT_EQUAL(dep->type, RILL_KEY_ENUM);
            int64_t v;
            CU_ASSERT_EQUAL(rill_parse_int64(k->when_def, &v), RILL_OK);
            CU_ASSERT(v >= k->min && v <= k->max);
        }
    }
    for (int s = 0; s < RILL_SCOPE__COUNT; s++) {
        CU_ASSERT(per_scope[s] > 0 && per_scope[s] <= RILL_SCOPE_KEYS_MAX);
        CU_ASSERT_EQUAL(rill_scopes[s].scope, s);
        CU_ASSERT_EQUAL(has_section[s], s == RILL_SCOPE_TOP ? 0 : 1);
    }
}

/* Every default of the table is what a topology without the key gets. */
static void test_key_table_defaults(void)
{
    char err[RILL_ERRSTR_SIZE];
    for (const struct rill_key_def *k = rill_keys; k->name; k++) {
        if (k->type == RILL_KEY_SECTION || k->type == RILL_KEY_OTHER ||
            (k->flags & RILL_KEY_REQUIRED))
            continue;
        struct rill_topology *t = NULL;
        /* The entry itself, with none of the optional keys. */
        const char *yaml = NULL;
        char buf[256];
        if (k->scope == RILL_SCOPE_TOP) {
            yaml = "application.id: a\n";
        } else {
            snprintf(buf, sizeof buf, "application.id: a\n%s%s\n", scope_yaml[k->scope][0],
                     scope_yaml[k->scope][1]);
            /* "{ x: { , } }" is not yaml: drop the trailing comma */
            char *comma = strstr(buf, ",  }");
            if (comma)
                *comma = ' ';
            yaml = buf;
        }
        if (rill_topology_load_buf("d.yaml", yaml, strlen(yaml), &t, err, sizeof err) != RILL_OK)
            fprintf(stderr, "\n  %s: %s\n", k->name, err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(t);
        const void *base = scope_base(t, k->scope);
        CU_ASSERT_PTR_NOT_NULL_FATAL(base);
        const char *def = k->def;
        if (k->when_key) { /* the guarantee's default is not when_value */
            const struct rill_key_def *dep = rill_key_find(k->scope, k->when_key);
            CU_ASSERT(strcmp(dep->def, k->when_value) != 0);
        }
        switch (k->type) {
        case RILL_KEY_STRING:
        case RILL_KEY_NAME: {
            char *v;
            memcpy(&v, (const char *)base + k->offset, sizeof v);
            if (def) {
                CU_ASSERT(v && !strcmp(v, def));
            } else {
                CU_ASSERT_PTR_NULL(v);
            }
            break;
        }
        case RILL_KEY_INT: {
            int64_t want = -1;
            if (def) {
                CU_ASSERT_EQUAL(rill_parse_int64(def, &want), RILL_OK);
            }
            CU_ASSERT_EQUAL(read_int(base, k), want);
            break;
        }
        case RILL_KEY_BOOL: {
            int v;
            memcpy(&v, (const char *)base + k->offset, sizeof v);
            CU_ASSERT_EQUAL(v, def && !strcmp(def, "true"));
            break;
        }
        case RILL_KEY_ENUM: {
            int v;
            memcpy(&v, (const char *)base + k->offset, sizeof v);
            CU_ASSERT(v >= 0 && !strcmp(k->values[v], def));
            break;
        }
        default:
            break;
        }
        rill_topology_free(t);
    }
}

/* A default that depends on another key: the table's when_def applies when
 * that key has when_value, and a value given wins over both. */
static void test_key_table_when(void)
{
    char err[RILL_ERRSTR_SIZE], value[64];
    for (const struct rill_key_def *k = rill_keys; k->name; k++) {
        if (!k->when_key)
            continue;
        struct rill_topology *t = NULL;
        CU_ASSERT_EQUAL_FATAL(load_key(k->scope, k->when_key, k->when_value, &t, err, sizeof err),
                              RILL_OK);
        int64_t want;
        CU_ASSERT_EQUAL(rill_parse_int64(k->when_def, &want), RILL_OK);
        CU_ASSERT_EQUAL(read_int(scope_base(t, k->scope), k), want);
        rill_topology_free(t);
        snprintf(value, sizeof value, "%" PRId64 "", k->min);
        CU_ASSERT_EQUAL_FATAL(load_key(k->scope, k->name, value, &t, err, sizeof err), RILL_OK);
        CU_ASSERT_EQUAL(read_int(scope_base(t, k->scope), k), k->min);
        rill_topology_free(t);
    }
}

/* Every INT key takes its bounds and refuses one past them, with the range
 * from the table in the message. */
static void test_key_table_ranges(void)
{
    char err[RILL_ERRSTR_SIZE], value[64], want[256];
    int n = 0;
    for (const struct rill_key_def *k = rill_keys; k->name; k++) {
        if (k->type != RILL_KEY_INT)
            continue;
        n++;
        struct rill_topology *t = NULL;
        int64_t ok[2] = { k->min, k->max };
        for (int i = 0; i < 2; i++) {
            snprintf(value, sizeof value, "%" PRId64, ok[i]);
            rill_err_t r = load_key(k->scope, k->name, value, &t, err, sizeof err);
            if (r != RILL_OK)
                fprintf(stderr, "\n  %s: %s\n", k->name, err);
            CU_ASSERT_EQUAL_FATAL(r, RILL_OK);
            CU_ASSERT_EQUAL(read_int(scope_base(t, k->scope), k), ok[i]);
            rill_topology_free(t);
        }
        snprintf(want, sizeof want, "expected an integer from %" PRId64 " to %" PRId64 " for '%s'",
                 k->min, k->max, k->name);
        /* one below the minimum (every minimum here is above INT64_MIN) */
        snprintf(value, sizeof value, "%" PRId64, k->min - 1);
        CU_ASSERT_EQUAL(load_key(k->scope, k->name, value, &t, err, sizeof err), RILL_ERR_CONFIG);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
        if (k->max < INT64_MAX) {
            snprintf(value, sizeof value, "%" PRId64, k->max + 1);
            CU_ASSERT_EQUAL(load_key(k->scope, k->name, value, &t, err, sizeof err),
                            RILL_ERR_CONFIG);
            CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
        }
    }
    CU_ASSERT(n >= 5);
}

/* An unknown key's message lists the known keys of its scope, from the
 * table, in table order; scopes with an OTHER row take any key. */
static void test_key_table_unknown(void)
{
    char err[RILL_ERRSTR_SIZE], want[512];
    for (int s = 0; s < RILL_SCOPE__COUNT; s++) {
        size_t off = 0;
        int other = 0;
        want[0] = '\0';
        for (const struct rill_key_def *k = rill_keys; k->name; k++) {
            if (k->scope != (rill_scope_t)s)
                continue;
            if (k->type == RILL_KEY_OTHER)
                other = 1;
            else
                off += (size_t)snprintf(want + off, sizeof want - off, "%s%s", off ? ", " : "",
                                        k->name);
        }
        struct rill_topology *t = NULL;
        rill_err_t r = load_key((rill_scope_t)s, "no.such.key", "1", &t, err, sizeof err);
        if (other) {
            CU_ASSERT_EQUAL(r, RILL_OK);
            rill_topology_free(t);
            continue;
        }
        CU_ASSERT_EQUAL(r, RILL_ERR_CONFIG);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown key 'no.such.key'"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
    }
}

/* A ${VAR} name that does not fit the loader's buffer is RILL_ERR_NOFIT, one
 * that fits is substituted. */
static void test_varname_limit(void)
{
    char yaml[1024], err[RILL_ERRSTR_SIZE];
    struct rill_topology *t = NULL;
    for (int len = 200; len <= 300; len += 100) {
        int off = snprintf(yaml, sizeof yaml, "application.id: ${");
        for (int i = 0; i < len; i++)
            yaml[off++] = 'V';
        snprintf(yaml + off, sizeof yaml - (size_t)off, ":-fallback}\n");
        rill_err_t r = rill_topology_load_buf("v.yaml", yaml, strlen(yaml), &t, err, sizeof err);
        if (len == 200) {
            CU_ASSERT_EQUAL_FATAL(r, RILL_OK);
            CU_ASSERT_STRING_EQUAL(t->application_id, "fallback");
            rill_topology_free(t);
        } else {
            CU_ASSERT_EQUAL(r, RILL_ERR_NOFIT);
            CU_ASSERT_PTR_NOT_NULL(strstr(err, "v.yaml:1:17: variable name 'VVVV"));
            CU_ASSERT_PTR_NOT_NULL(strstr(err, "is too long (at most "));
        }
    }
}

/* ---- librdkafka property scopes ------------------------------------------- */

/* The keys the old hand-copied lists missed (delivery.timeout.ms, check.crcs,
 * fetch.error.backoff.ms), aliases (linger.ms), and keys both clients take. */
static void test_kafka_scopes(void)
{
    static const char *const producer[] = { "delivery.timeout.ms", "linger.ms",
                                            "queue.buffering.max.ms", "transaction.timeout.ms",
                                            "enable.idempotence", "acks" };
    static const char *const consumer[] = { "check.crcs", "fetch.error.backoff.ms", "group.id",
                                            "isolation.level", "auto.offset.reset",
                                            "session.timeout.ms" };
    static const char *const both[] = { "bootstrap.servers", "sasl.username", "client.id",
                                        "security.protocol", "no.such.property" };
    for (size_t i = 0; i < sizeof producer / sizeof *producer; i++) {
        if (!rill_kafka_producer_only(producer[i]) || rill_kafka_consumer_only(producer[i]))
            fprintf(stderr, "\n  %s: not producer-only\n", producer[i]);
        CU_ASSERT(rill_kafka_producer_only(producer[i]));
        CU_ASSERT(!rill_kafka_consumer_only(producer[i]));
    }
    for (size_t i = 0; i < sizeof consumer / sizeof *consumer; i++) {
        if (!rill_kafka_consumer_only(consumer[i]) || rill_kafka_producer_only(consumer[i]))
            fprintf(stderr, "\n  %s: not consumer-only\n", consumer[i]);
        CU_ASSERT(rill_kafka_consumer_only(consumer[i]));
        CU_ASSERT(!rill_kafka_producer_only(consumer[i]));
    }
    for (size_t i = 0; i < sizeof both / sizeof *both; i++) {
        CU_ASSERT(!rill_kafka_consumer_only(both[i]));
        CU_ASSERT(!rill_kafka_producer_only(both[i]));
    }
    CU_ASSERT(!rill_kafka_consumer_only(NULL));
    CU_ASSERT(!rill_kafka_producer_only(""));
    /* A prefix or a longer name is not the property. */
    CU_ASSERT(!rill_kafka_consumer_only("group.i"));
    CU_ASSERT(!rill_kafka_consumer_only("group.id.x"));
}

static CU_TestInfo tests[] = {
    { "key table: types, ranges, defaults and docs are consistent", test_key_table_shape },
    { "key table: a topology without a key gets the table's default", test_key_table_defaults },
    { "key table: a default that depends on another key", test_key_table_when },
    { "key table: every int key's range comes from the table", test_key_table_ranges },
    { "key table: unknown keys list the scope's keys from the table", test_key_table_unknown },
    { "a ${VAR} name too long for the loader is RILL_ERR_NOFIT", test_varname_limit },
    { "kafka key scopes come from librdkafka's property table", test_kafka_scopes },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("model", tests)
