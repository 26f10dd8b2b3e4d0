/*
 * config.h - the topology as the YAML file describes it, after loading: plain
 * data, no Kafka or database handles. rill_topology_load() parses and checks
 * the file's shape (keys, types, ${VAR} and ${file:PATH} substitution);
 * rill_topology_check() checks the graph (names, processor and sink types
 * known, inputs produced or external, stores granted, co-partitioning, no
 * cycles, the topics of external clients declared). Every
 * error names file:line:column and what was expected.
 *
 * Ownership: a loaded topology owns all its strings; free it with
 * rill_topology_free(). Not thread-safe while loading; read-only after.
 */
#ifndef RILL_CONFIG_H
#define RILL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "topology/rill.h"

typedef enum {
    RILL_EXACTLY_ONCE_V2 = 0, /* "exactly_once_v2" (default) */
    RILL_AT_LEAST_ONCE,       /* "at_least_once" */
} rill_guarantee_t;

/* A key/value pair as written in the file, values already substituted. */
struct rill_kv {
    char *key;
    char *value;
    int line, col;            /* 1-based position of the key */
    int unresolved;           /* a lenient load could not substitute the key or the
                               * value: it is the text as written, not checked */
};

struct rill_kvlist {
    struct rill_kv *v;
    size_t n;
};

struct rill_strlist {
    char **v;
    size_t n;
    int line, col;
};

struct rill_topic_conf {
    char *name;
    int32_t partitions;       /* -1 when not given */
    int16_t replication;      /* -1 when not given */
    struct rill_kvlist configs; /* topic configs, e.g. retention.ms */
    int feedback;             /* 1: deliberately fed back upstream (`feedback: true`);
                               * the cycle check does not follow it */
    int line, col;
};

struct rill_store_conf {
    char *name;
    char *type;               /* "rocksdb" (default) or "memory" */
    int changelog;            /* 1 (default): backed by a changelog topic */
    int line, col;
};

struct rill_proc_conf {
    char *name;               /* the key under processors: */
    char *type;               /* registry name, e.g. "passthrough" */
    char *library;            /* path of an external processor .so, or NULL */
    struct rill_strlist inputs;  /* topic names */
    struct rill_strlist outputs; /* topic names */
    struct rill_strlist stores;  /* store names granted to this processor */
    char *dlq;                /* dead-letter topic, NULL: "<input>.dlq" */
    struct rill_kvlist config;   /* the processor's typed config, as strings */
    struct rill_kvlist kafka;    /* per-processor librdkafka overrides (its user) */
    struct rill_kvlist rekey;    /* `rekey:` as written (by, partitions); after loading the
                                  * processor reads the repartition topic (rekey.c) */
    int line, col;
};

struct rill_sink_conf {
    char *name;
    char *type;               /* a sink type of processors/sink.h, e.g. "postgres_oltp" */
    struct rill_strlist inputs;
    char *group;              /* consumer group and rill_offsets group; NULL:
                               * "<application.id>.<name>" (rill_sink_group()) */
    char *dsn;                /* libpq connection string (required); holds a password:
                               * never logged, never quoted in an error */
    int64_t batch_size;       /* records per PostgreSQL transaction at most */
    int64_t linger_ms;        /* how long a batch waits to fill after its first record */
    struct rill_kvlist config;   /* the sink type's typed config (config: map) */
    struct rill_kvlist kafka;    /* librdkafka properties of its consumer (its user) */
    int line, col;
};

/* An external client under `clients:`: not run by rill, but `rill apply`
 * grants its user Write on `writes`, Read on `reads` and Read on `group`. */
struct rill_client_conf {
    char *name;               /* the key under clients: */
    char *user;               /* its Kafka user (required) */
    struct rill_strlist writes;  /* topics it produces to */
    struct rill_strlist reads;   /* topics it consumes */
    char *group;              /* the consumer group it reads with, or NULL */
    int line, col;
};

/* What memory.bytes must leave beyond state.memory.bytes for the clients. */
#define RILL_CLIENT_MEMORY_MIN (16 << 20)

/* Where `rill run` serves its HTTP endpoints when http.address is not set. */
#define RILL_HTTP_DEFAULT_ADDRESS "127.0.0.1:9464"

struct rill_topology {
    char *path;               /* the file it came from */
    char *application_id;     /* required */
    rill_guarantee_t guarantee;
    int64_t commit_interval_ms;  /* default 100 under exactly-once, 30000 otherwise */
    char *state_dir;          /* default "/var/lib/rill" */
    int num_stream_threads;   /* default 1 */
    int num_standby_replicas; /* default 0: no standby replicas */
    int64_t state_memory_bytes; /* RocksDB budget of the process, default 64 MiB (min 4 MiB) */
    int64_t memory_bytes;       /* the process's buffers: state + Kafka queues; -1 (unset):
                                 * the queues keep librdkafka's bounds */
    int log_format;           /* 0 logfmt (default), 1 json: rill_log_format_t */
    int log_level;            /* 0 debug, 1 info (default), 2 warn, 3 error: rill_log_level_t */
    struct rill_kvlist log_levels; /* component -> level, over log_level */
    int subject_strategy;     /* schema.registry.subject.strategy: 0 record (default), 1 topic:
                               * rill_subject_strategy_t of schemas/serde.h */
    char *http_address;       /* host:port of /healthz, /readyz, /metrics; NULL: the default
                               * (RILL_HTTP_DEFAULT_ADDRESS, a warning when taken); "off" */
    int64_t health_stuck_ms;  /* /healthz: a thread silent this long is stuck; default 30000 */
    struct rill_kvlist kafka; /* passed as-is to librdkafka */
    struct rill_topic_conf *topics;
    size_t ntopics;
    struct rill_store_conf *stores;
    size_t nstores;
    struct rill_proc_conf *procs;
    size_t nprocs;
    struct rill_sink_conf *sinks;
    size_t nsinks;
    struct rill_client_conf *clients;
    size_t nclients;
};

/* Called with each note of a load or a check: one line, "file:line:col:
 * note: ...", naming the variable or file, never a substituted value. */
typedef void (*rill_note_fn)(void *opaque, const char *note);

struct rill_load_opts {
    /* 0 (rill run, rill apply): a ${VAR} that is not set or a ${file:PATH}
     * that cannot be read is an error. 1 (rill validate): it is a note, the
     * value is a placeholder (the text as written, so it passes as a string:
     * names, kafka: values, a sink's dsn) and loading goes on; a key of another
     * type with such a value gets a second note and is not checked. */
    int lenient_substitution;
    rill_note_fn note;        /* may be NULL: notes are dropped */
    void *note_opaque;
};

/* Loads path with opts (NULL: strict, as rill_topology_load()). On failure
 * returns an error and writes "file:line:col: message" into errstr; *out is
 * left NULL. Notes go to opts->note, in file order, as they are found. */
rill_err_t rill_topology_load_opts(const char *path, const struct rill_load_opts *opts,
                                   struct rill_topology **out, char *errstr, size_t errsz);

/* rill_topology_load_opts() with strict substitution. */
rill_err_t rill_topology_load(const char *path, struct rill_topology **out, char *errstr,
                              size_t errsz);

/* Same, from a buffer (name is used in messages). For tests and fuzzing. */
rill_err_t rill_topology_load_buf(const char *name, const char *buf, size_t len,
                                  struct rill_topology **out, char *errstr, size_t errsz);
rill_err_t rill_topology_load_buf_opts(const char *name, const char *buf, size_t len,
                                       const struct rill_load_opts *opts,
                                       struct rill_topology **out, char *errstr, size_t errsz);

struct rill_processor_def;
struct rill_sink_def;

/* Checks the graph, with procs (NULL-terminated) as the processor types a
 * processor without `library:` may name (the runtime passes the built-ins,
 * rill_proc_builtins) and sinks (NULL-terminated) as the sink types a sink
 * may name (rill_sink_builtins); the model never looks either up itself.
 * The first problem found goes to errstr as "file:line:col: message". */
rill_err_t rill_topology_check(const struct rill_topology *t,
                               const struct rill_processor_def *const *procs,
                               const struct rill_sink_def *const *sinks, char *errstr,
                               size_t errsz);

/* The same check of a topology loaded leniently: a processor's or sink's
 * config key whose key or value is not resolved (struct rill_kv's
 * unresolved) is not checked, and a note to opts->note says so (opts may be
 * NULL: no notes). */
rill_err_t rill_topology_check_opts(const struct rill_topology *t,
                                    const struct rill_processor_def *const *procs,
                                    const struct rill_sink_def *const *sinks,
                                    const struct rill_load_opts *opts, char *errstr,
                                    size_t errsz);

void rill_topology_free(struct rill_topology *t);

/* Lookups by name; NULL when absent. */
const struct rill_topic_conf *rill_topology_topic(const struct rill_topology *t, const char *name);
/* The store declared under the top-level stores: map; NULL for a store that
 * is only granted (implicitly rocksdb with a changelog). */
const struct rill_store_conf *rill_topology_store(const struct rill_topology *t, const char *name);
/* Splits every processor with `rekey:` into a `rekey` processor writing its
 * input, keyed by the field, to <application.id>-<name>-repartition, and the
 * processor reading that topic (rekey.c). Called by the loaders. Returns
 * RILL_OK, or RILL_ERR_CONFIG with file:line:col in errstr. */
rill_err_t rill_topology_expand_rekeys(struct rill_topology *t, char *errstr, size_t errsz);

const char *rill_kvlist_get(const struct rill_kvlist *l, const char *key);
/* Sets key to value in l, replacing an earlier value (its position kept);
 * RILL_OK, or RILL_ERR_NOMEM. */
rill_err_t rill_kvlist_set(struct rill_kvlist *l, const char *key, const char *value);

/* The changelog topic of store, "<application.id>-<store>-changelog", into
 * buf (the one place that spells it). Whether the store has a changelog at
 * all (`changelog: false`) is the caller's question. Returns RILL_OK, or
 * RILL_ERR_NOFIT when the name does not fit size (buf then holds a
 * truncated, NUL-terminated prefix). */
rill_err_t rill_topology_changelog(const struct rill_topology *t, const char *store, char *buf,
                                   size_t size);
/* The consumer group of sink s of t (also the group of its positions in
 * rill_offsets): its `group:`, or "<application.id>.<name>" written into buf
 * (the one place that spells it). NULL when that does not fit size. */
const char *rill_sink_group(const struct rill_topology *t, const struct rill_sink_conf *s,
                            char *buf, size_t size);
/* Frees every key, value and the array of l, and empties it. */
void rill_kvlist_clear(struct rill_kvlist *l);

/* A whole-string decimal int64 (optional '-'): RILL_OK, or RILL_ERR_INVALID
 * when s is not one (*out untouched). */
rill_err_t rill_parse_int64(const char *s, int64_t *out);

#endif
