/*
 * keys.c - the table of every topology key (keys.h): the one place where a
 * key's name, type, default, range and doc are written. The loader, `rill
 * validate --describe-all` and docs/CONFIGURATION.md read it; edit a row
 * here and run `make docs`.
 *
 * Not here: walking a file (config.c), the graph checks (check.c).
 */
#include "topology/model/keys.h"

#include <stdint.h>
#include <string.h>

#include "topology/model/config.h"

#define TOP(f) offsetof(struct rill_topology, f), sizeof(((struct rill_topology *)0)->f)
#define TOPIC(f) offsetof(struct rill_topic_conf, f), sizeof(((struct rill_topic_conf *)0)->f)
#define STORE(f) offsetof(struct rill_store_conf, f), sizeof(((struct rill_store_conf *)0)->f)
#define PROC(f) offsetof(struct rill_proc_conf, f), sizeof(((struct rill_proc_conf *)0)->f)
#define SINK(f) offsetof(struct rill_sink_conf, f), sizeof(((struct rill_sink_conf *)0)->f)
#define CLIENT(f) offsetof(struct rill_client_conf, f), sizeof(((struct rill_client_conf *)0)->f)

/* Indexed by rill_guarantee_t. */
static const char *const guarantees[] = { "exactly_once_v2", "at_least_once", NULL };
static const char *const store_types[] = { "rocksdb", "memory", NULL };
/* Indexed by rill_log_format_t and rill_log_level_t (topology/base/log.h). */
static const char *const log_formats[] = { "logfmt", "json", NULL };
static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
/* Indexed by rill_subject_strategy_t (schemas/serde.h). */
static const char *const subject_strategies[] = { "record", "topic", NULL };

const struct rill_key_def rill_keys[] = {
    /* ---- the top level ---- */
    { .scope = RILL_SCOPE_TOP, .name = "application.id", .type = RILL_KEY_STRING,
      .flags = RILL_KEY_REQUIRED, .offset = TOP(application_id),
      .doc = "the application's name: consumer group and transactional id prefix" },
    { .scope = RILL_SCOPE_TOP, .name = "processing.guarantee", .type = RILL_KEY_ENUM,
      .def = "exactly_once_v2", .values = guarantees, .offset = TOP(guarantee),
      .doc = "exactly_once_v2: transactions (KIP-447); at_least_once: an idempotent producer "
             "and offsets committed after delivery" },
    { .scope = RILL_SCOPE_TOP, .name = "commit.interval.ms", .type = RILL_KEY_INT,
      .def = "100", .when_key = "processing.guarantee", .when_value = "at_least_once",
      .when_def = "30000", .min = 1, .max = INT64_MAX, .offset = TOP(commit_interval_ms),
      .doc = "how often each stream thread commits (a transaction under exactly_once_v2)" },
    { .scope = RILL_SCOPE_TOP, .name = "state.dir", .type = RILL_KEY_STRING,
      .def = "/var/lib/rill", .offset = TOP(state_dir),
      .doc = "where the state stores, the instance id and its lock live" },
    { .scope = RILL_SCOPE_TOP, .name = "num.stream.threads", .type = RILL_KEY_INT, .def = "1",
      .min = 1, .max = INT32_MAX, .offset = TOP(num_stream_threads),
      .doc = "stream threads per processor; each owns a consumer, a producer and its tasks" },
    { .scope = RILL_SCOPE_TOP, .name = "num.standby.replicas", .type = RILL_KEY_INT, .def = "0",
      .min = 0, .max = 8, .offset = TOP(num_standby_replicas),
      .doc = "warm copies of stores this instance does not own: each instance keeps, fed from "
             "the changelogs, the tasks the range assignor would give it if up to this many "
             "other instances died (every task, without static membership), so that such a "
             "takeover replays only the changelog tail" },
    { .scope = RILL_SCOPE_TOP, .name = "state.memory.bytes", .type = RILL_KEY_INT,
      .def = "67108864", .min = 4 << 20, .max = INT64_MAX, .offset = TOP(state_memory_bytes),
      .doc = "the RocksDB memory budget of the process (block cache and write buffers), "
             "part of memory.bytes" },
    { .scope = RILL_SCOPE_TOP, .name = "memory.bytes", .type = RILL_KEY_INT,
      .min = 0, .max = INT64_MAX, .offset = TOP(memory_bytes),
      .unset = "librdkafka's own queue bounds (up to 64 MiB of prefetch per consumer partition, "
               "1 GiB per producer)",
      .doc = "what the process may buffer: state.memory.bytes for RocksDB, and the rest shared "
             "evenly by every Kafka client's queue (a producer's queue.buffering.max.kbytes; a "
             "consumer's queued.max.messages.kbytes, split over the partitions it may read, at "
             "least 256 KiB each) unless kafka: sets them; at least state.memory.bytes + 16 MiB. "
             "librdkafka 2.0.2 pauses a partition whose prefetch is full for about a second, so "
             "less than about a second of input per partition costs throughput" },
    { .scope = RILL_SCOPE_TOP, .name = "log.format", .type = RILL_KEY_ENUM, .def = "logfmt",
      .values = log_formats, .offset = TOP(log_format),
      .doc = "logfmt: key=value lines; json: one JSON object per line (on stderr)" },
    { .scope = RILL_SCOPE_TOP, .name = "log.level", .type = RILL_KEY_ENUM, .def = "info",
      .values = log_levels, .offset = TOP(log_level),
      .doc = "the lowest level logged; the environment's RILL_LOG_LEVEL overrides it" },
    { .scope = RILL_SCOPE_TOP, .name = "log.levels", .type = RILL_KEY_MAP,
      .offset = TOP(log_levels),
      .doc = "a level per component over log.level, e.g. { sink: debug, kafka: warn } "
             "(components: engine, task, sink, http, kafka, processor, ...)" },
    { .scope = RILL_SCOPE_TOP, .name = "schema.registry.subject.strategy", .type = RILL_KEY_ENUM,
      .def = "record", .values = subject_strategies, .offset = TOP(subject_strategy),
      .doc = "with a schema registry (RILL_SCHEMA_REGISTRY_URL), the subjects the event schemas "
             "are registered under: record, the record's full name "
             "(io.rill.orders.OrderPlaced); topic, <topic>-value of each topic that carries an "
             "event type, by its name (order_placed or <prefix>.order_placed)" },
    { .scope = RILL_SCOPE_TOP, .name = "http.address", .type = RILL_KEY_STRING,
      .offset = TOP(http_address),
      .unset = RILL_HTTP_DEFAULT_ADDRESS ", and when that port is taken a warning and no HTTP",
      .doc = "host:port of /healthz, /readyz and /metrics (port 0: any free port, logged); "
             "off: none. Set, it must bind or rill run exits 1" },
    { .scope = RILL_SCOPE_TOP, .name = "health.stuck.ms", .type = RILL_KEY_INT, .def = "30000",
      .min = 100, .max = 86400000, .offset = TOP(health_stuck_ms),
      .doc = "/healthz fails when a stream or sink thread has not turned its loop (or been "
             "waiting on purpose, restoring included) for this long" },
    { .scope = RILL_SCOPE_TOP, .name = "kafka", .type = RILL_KEY_MAP, .offset = TOP(kafka),
      .doc = "librdkafka properties for every client, passed as-is (consumer-only and "
             "producer-only keys go to their kind of client only). Except group.instance.id: "
             "every group consumer is a static member (KIP-345) by default, its id "
             "<prefix>.<processor or sink>-<thread> with the state directory's instance id as "
             "the prefix; group.instance.id sets another prefix, and off turns static "
             "membership off. A static member's session.timeout.ms is 10000 unless set here; "
             "under exactly_once_v2, transaction.timeout.ms is three commit intervals, 10000 "
             "to 900000, unless set here (or message.timeout.ms or socket.timeout.ms is)" },
    { .scope = RILL_SCOPE_TOP, .name = "topics", .type = RILL_KEY_SECTION,
      .sub = RILL_SCOPE_TOPIC, .doc = "the topics read and written, by name" },
    { .scope = RILL_SCOPE_TOP, .name = "stores", .type = RILL_KEY_SECTION,
      .sub = RILL_SCOPE_STORE,
      .doc = "state stores, by name (a store only granted is rocksdb with a changelog)" },
    { .scope = RILL_SCOPE_TOP, .name = "processors", .type = RILL_KEY_SECTION,
      .sub = RILL_SCOPE_PROCESSOR, .doc = "the processors, by name" },
    { .scope = RILL_SCOPE_TOP, .name = "sinks", .type = RILL_KEY_SECTION,
      .sub = RILL_SCOPE_SINK, .doc = "the sinks, by name" },
    { .scope = RILL_SCOPE_TOP, .name = "clients", .type = RILL_KEY_SECTION,
      .sub = RILL_SCOPE_CLIENT,
      .doc = "external clients rill does not run but `rill apply` grants, by name" },

    /* ---- topics: ---- */
    { .scope = RILL_SCOPE_TOPIC, .name = "partitions", .type = RILL_KEY_INT, .min = 1,
      .max = INT32_MAX, .offset = TOPIC(partitions), .unset = "the broker's count",
      .doc = "partition count; equal counts are checked for a processor's inputs" },
    { .scope = RILL_SCOPE_TOPIC, .name = "replication.factor", .type = RILL_KEY_INT, .min = 1,
      .max = INT16_MAX, .offset = TOPIC(replication), .unset = "the broker's default",
      .doc = "replicas of each partition, for `rill apply`" },
    { .scope = RILL_SCOPE_TOPIC, .name = "feedback", .type = RILL_KEY_BOOL, .def = "false",
      .offset = TOPIC(feedback),
      .doc = "fed back upstream on purpose: the cycle check does not follow it (not a "
             "topic config)" },
    { .scope = RILL_SCOPE_TOPIC, .name = "*", .type = RILL_KEY_OTHER, .offset = TOPIC(configs),
      .doc = "any other key is a Kafka topic config for `rill apply`, e.g. retention.ms" },

    /* ---- stores: ---- */
    { .scope = RILL_SCOPE_STORE, .name = "type", .type = RILL_KEY_NAME, .def = "rocksdb",
      .values = store_types, .offset = STORE(type),
      .doc = "rocksdb: on disk under state.dir; memory: in memory, rebuilt from its changelog" },
    { .scope = RILL_SCOPE_STORE, .name = "changelog", .type = RILL_KEY_BOOL, .def = "true",
      .offset = STORE(changelog),
      .doc = "backed by a compacted changelog topic, restored from it on start" },

    /* ---- processors: ---- */
    { .scope = RILL_SCOPE_PROCESSOR, .name = "type", .type = RILL_KEY_STRING,
      .flags = RILL_KEY_REQUIRED, .offset = PROC(type),
      .doc = "a built-in processor type, or the name of the external one in library" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "library", .type = RILL_KEY_STRING,
      .offset = PROC(library), .unset = "a built-in type",
      .doc = "path of an external processor .so exporting rill_processor_entry" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "inputs", .type = RILL_KEY_LIST,
      .flags = RILL_KEY_REQUIRED | RILL_KEY_NONEMPTY, .item = "topic", .offset = PROC(inputs),
      .doc = "the topics it reads (several: co-partitioned)" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "outputs", .type = RILL_KEY_LIST, .item = "topic",
      .offset = PROC(outputs), .doc = "the topics it may forward to, declared under topics:" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "stores", .type = RILL_KEY_LIST, .item = "store",
      .offset = PROC(stores), .doc = "the state stores granted to it (each to one processor)" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "dlq", .type = RILL_KEY_STRING,
      .offset = PROC(dlq), .unset = "<input>.dlq",
      .doc = "dead-letter topic of the records it rejects" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "config", .type = RILL_KEY_MAP,
      .offset = PROC(config),
      .doc = "its typed config, checked against its type's table (rill validate --describe)" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "kafka", .type = RILL_KEY_MAP,
      .offset = PROC(kafka),
      .doc = "librdkafka properties of its own clients over the top-level kafka: (its user)" },
    { .scope = RILL_SCOPE_PROCESSOR, .name = "rekey", .type = RILL_KEY_MAP,
      .offset = PROC(rekey), .unset = "the input's own keys",
      .doc = "{by: FIELD, partitions: N}: re-key its input by a field (JSON path, header:NAME) "
             "through the internal topic <application.id>-<name>-repartition (N: default the "
             "input's partitions) before it runs" },

    /* ---- sinks: ---- */
    { .scope = RILL_SCOPE_SINK, .name = "type", .type = RILL_KEY_STRING,
      .flags = RILL_KEY_REQUIRED, .offset = SINK(type),
      .doc = "a built-in sink type, e.g. postgres_oltp (rill validate --describe)" },
    { .scope = RILL_SCOPE_SINK, .name = "inputs", .type = RILL_KEY_LIST,
      .flags = RILL_KEY_REQUIRED | RILL_KEY_NONEMPTY, .item = "topic", .offset = SINK(inputs),
      .doc = "the topics it reads" },
    { .scope = RILL_SCOPE_SINK, .name = "group", .type = RILL_KEY_STRING,
      .offset = SINK(group), .unset = "<application.id>.<name>",
      .doc = "its consumer group, also the group of its positions in rill_offsets" },
    { .scope = RILL_SCOPE_SINK, .name = "dsn", .type = RILL_KEY_STRING,
      .flags = RILL_KEY_REQUIRED, .offset = SINK(dsn),
      .doc = "a libpq connection string, from ${VAR} or ${file:PATH}; never logged" },
    { .scope = RILL_SCOPE_SINK, .name = "batch.size", .type = RILL_KEY_INT, .def = "5000",
      .min = 1, .max = 1000000, .offset = SINK(batch_size),
      .doc = "records per PostgreSQL transaction at most" },
    { .scope = RILL_SCOPE_SINK, .name = "linger.ms", .type = RILL_KEY_INT, .def = "100",
      .min = 0, .max = 600000, .offset = SINK(linger_ms),
      .doc = "how long a batch waits to fill after its first record" },
    { .scope = RILL_SCOPE_SINK, .name = "config", .type = RILL_KEY_MAP, .offset = SINK(config),
      .doc = "its typed config, checked against its type's table (rill validate --describe)" },
    { .scope = RILL_SCOPE_SINK, .name = "kafka", .type = RILL_KEY_MAP, .offset = SINK(kafka),
      .doc = "librdkafka properties of its consumer over the top-level kafka: (its user)" },

    /* ---- clients: ---- */
    { .scope = RILL_SCOPE_CLIENT, .name = "user", .type = RILL_KEY_STRING,
      .flags = RILL_KEY_REQUIRED, .offset = CLIENT(user), .doc = "its Kafka user" },
    { .scope = RILL_SCOPE_CLIENT, .name = "writes", .type = RILL_KEY_LIST, .item = "topic",
      .offset = CLIENT(writes), .doc = "topics it produces to (granted Write)" },
    { .scope = RILL_SCOPE_CLIENT, .name = "reads", .type = RILL_KEY_LIST, .item = "topic",
      .offset = CLIENT(reads), .doc = "topics it consumes (granted Read)" },
    { .scope = RILL_SCOPE_CLIENT, .name = "group", .type = RILL_KEY_STRING,
      .offset = CLIENT(group), .unset = "reads without a group",
      .doc = "the consumer group it reads with (granted Read)" },

    { .name = NULL },
};

#define ENTRY(type, array, count)                                                           \
    sizeof(struct type), offsetof(struct type, name), offsetof(struct type, line),          \
        offsetof(struct type, col), offsetof(struct rill_topology, array),                  \
        offsetof(struct rill_topology, count)

const struct rill_scope_def rill_scopes[RILL_SCOPE__COUNT] = {
    [RILL_SCOPE_TOP] = { RILL_SCOPE_TOP, NULL, 0, sizeof(struct rill_topology), 0, 0, 0,
                         0, 0, "Keys at the top level of the file" },
    [RILL_SCOPE_TOPIC] = { RILL_SCOPE_TOPIC, "topic", 1,
                           ENTRY(rill_topic_conf, topics, ntopics),
                           "A topic's map; `name:` alone is a topic with no keys" },
    [RILL_SCOPE_STORE] = { RILL_SCOPE_STORE, "store", 1,
                           ENTRY(rill_store_conf, stores, nstores),
                           "A store's map; `name:` alone is a store with the defaults" },
    [RILL_SCOPE_PROCESSOR] = { RILL_SCOPE_PROCESSOR, "processor", 0,
                               ENTRY(rill_proc_conf, procs, nprocs),
                               "A processor's map" },
    [RILL_SCOPE_SINK] = { RILL_SCOPE_SINK, "sink", 0,
                          ENTRY(rill_sink_conf, sinks, nsinks), "A sink's map" },
    [RILL_SCOPE_CLIENT] = { RILL_SCOPE_CLIENT, "client", 0,
                            ENTRY(rill_client_conf, clients, nclients),
                            "An external client's map: a user rill does not run but `rill "
                            "apply` grants" },
};

const struct rill_key_def *rill_key_find(rill_scope_t scope, const char *name)
{
    for (const struct rill_key_def *k = rill_keys; k->name; k++)
        if (k->scope == scope && k->type != RILL_KEY_OTHER && !strcmp(k->name, name))
            return k;
    return NULL;
}

const char *rill_key_type_name(rill_key_type_t type)
{
    switch (type) {
    case RILL_KEY_STRING:
        return "string";
    case RILL_KEY_INT:
        return "int";
    case RILL_KEY_BOOL:
        return "bool";
    case RILL_KEY_ENUM:
    case RILL_KEY_NAME:
        return "enum";
    case RILL_KEY_LIST:
        return "list";
    case RILL_KEY_MAP:
        return "map";
    case RILL_KEY_SECTION:
        return "section";
    case RILL_KEY_OTHER:
        return "any";
    }
    return "?";
}
