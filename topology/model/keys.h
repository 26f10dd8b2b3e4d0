/*
 * keys.h - the one typed table of every topology key, after librdkafka's
 * property table (rdkafka_conf.c): for each key its scope (the top level, a
 * topic, a store, a processor, a sink, a client), type, default, range,
 * one-line doc and where it lands in the structs of config.h (offsetof).
 * The loader (config.c) reads it to walk a file, to refuse unknown keys
 * (listing the known ones), to check ranges and to apply defaults; `rill
 * validate --describe-all` and docs/CONFIGURATION.md print it. A key is
 * spelled once, here.
 *
 * Not here: the typed config of each processor and sink type (struct
 * rill_conf_def, in its own folder) and the librdkafka properties of kafka:
 * maps.
 * Immutable data; thread-safe.
 */
#ifndef RILL_MODEL_KEYS_H
#define RILL_MODEL_KEYS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RILL_SCOPE_TOP,       /* struct rill_topology */
    RILL_SCOPE_TOPIC,     /* struct rill_topic_conf, under topics: */
    RILL_SCOPE_STORE,     /* struct rill_store_conf, under stores: */
    RILL_SCOPE_PROCESSOR, /* struct rill_proc_conf, under processors: */
    RILL_SCOPE_SINK,      /* struct rill_sink_conf, under sinks: */
    RILL_SCOPE_CLIENT,    /* struct rill_client_conf, under clients: */
    RILL_SCOPE__COUNT
} rill_scope_t;

typedef enum {
    RILL_KEY_STRING,  /* char *, a non-empty scalar */
    RILL_KEY_INT,     /* int16_t, int32_t or int64_t (the row's size), in [min, max] */
    RILL_KEY_BOOL,    /* int, true or false */
    RILL_KEY_ENUM,    /* int: the index of the value in values */
    RILL_KEY_NAME,    /* char *: one of values, kept as its name */
    RILL_KEY_LIST,    /* struct rill_strlist of non-empty names */
    RILL_KEY_MAP,     /* struct rill_kvlist of scalars (kafka:, config:) */
    RILL_KEY_SECTION, /* a map of named entries of the row's sub scope */
    RILL_KEY_OTHER,   /* name "*": every other key, a scalar kept in the row's kvlist */
} rill_key_type_t;

/* The most rows one scope may have (the loader keeps a bit per row). */
#define RILL_SCOPE_KEYS_MAX 64

#define RILL_KEY_REQUIRED 0x1 /* the key must be given */
#define RILL_KEY_NONEMPTY 0x2 /* a LIST: at least one name */

struct rill_key_def {
    rill_scope_t scope;
    const char *name;
    rill_key_type_t type;
    unsigned flags;             /* RILL_KEY_REQUIRED, RILL_KEY_NONEMPTY */
    /* The default in YAML spelling; NULL: none (a STRING stays NULL, an INT
     * -1, a BOOL false, a LIST or MAP empty), and unset says what that means. */
    const char *def;
    /* A default that depends on another key of the same scope: when key
     * when_key has the value when_value, the default is when_def. */
    const char *when_key, *when_value, *when_def;
    int64_t min, max;           /* INT: the inclusive range */
    const char *const *values;  /* ENUM, NAME: the allowed values, NULL-terminated */
    const char *item;           /* LIST: what each name names ("topic", "store") */
    rill_scope_t sub;           /* SECTION: the scope of its entries */
    size_t offset;              /* offsetof() in the scope's struct */
    size_t size;                /* sizeof the field */
    const char *unset;          /* what no value means, when def is NULL; or NULL */
    const char *doc;            /* one line */
};

/* A scope: what its entries are called and where a section keeps them (the
 * section's key is the top-level SECTION row whose sub is this scope). */
struct rill_scope_def {
    rill_scope_t scope;
    const char *noun;           /* "topic", ...; NULL for the top level */
    int allow_null;             /* an entry may be nothing (`name:` or `name: ~`) */
    size_t size;                /* sizeof the entry struct */
    size_t name_off, line_off, col_off; /* its char *name, int line, int col */
    size_t array_off, count_off;        /* the array and its count in struct rill_topology */
    const char *doc;            /* one line */
};

/* Every key, grouped by scope in table order, terminated by a row whose name
 * is NULL. */
extern const struct rill_key_def rill_keys[];

/* The scope table, indexed by rill_scope_t. */
extern const struct rill_scope_def rill_scopes[RILL_SCOPE__COUNT];

/* The row of name in scope, or NULL (the OTHER row is not found by name). */
const struct rill_key_def *rill_key_find(rill_scope_t scope, const char *name);

/* The type as the docs spell it: "string", "int", "bool", "enum", "list",
 * "map", "section" or "any" (the OTHER row). */
const char *rill_key_type_name(rill_key_type_t type);

#endif
