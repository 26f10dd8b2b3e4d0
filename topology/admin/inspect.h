/*
 * inspect.h - what `rill inspect` reads from a cluster, as a library, the way
 * Control Center's topic and consumer views read it: topics with their
 * partitions (leader, replicas, ISR, watermarks) and configs
 * (inspect_topics.c); consumer groups with their state, members, committed
 * offsets and lag (inspect_groups.c); and the records of a topic from a
 * chosen offset, timestamp or tail, to its end or for ever
 * (inspect_read.c). Read-only: it joins no group and commits nothing; its
 * consumers are given partitions (librdkafka's simple consumer, which needs
 * no group.id, so no group ACL either).
 *
 * Two clients: one for metadata, the Admin API and watermarks (end offsets
 * are high watermarks, read_uncommitted, as Kafka's own tools show them),
 * one that reads records (read_committed unless asked otherwise), made on
 * first need. Every request is bounded by RILL_INSPECT_TIMEOUT_MS.
 *
 * Lag is counted in records, not offsets: a transactional producer's commit
 * marker takes an offset but holds no record, so a consumer that has read
 * everything can sit one offset (or more, after aborts) below the end for
 * good. The lag of a partition is therefore the end offset minus the offset
 * of the first record a read_committed reader gets at or after the group's
 * position, and 0 when only markers and aborted records are left; the raw
 * end-minus-position is kept beside it (offset_lag). What Kafka's
 * kafka-consumer-groups shows as LAG is offset_lag.
 *
 * Nothing here prints; errors name the topic or group and librdkafka's
 * error name (TOPIC_AUTHORIZATION_FAILED, ...). Not thread-safe; objects are
 * the caller's and are freed with their _free().
 */
#ifndef RILL_ADMIN_INSPECT_H
#define RILL_ADMIN_INSPECT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "topology/admin/kclient.h"
#include "topology/model/config.h"
#include "topology/rill.h"

/* One request's bound: metadata, watermarks, an Admin API call, a probe. */
#define RILL_INSPECT_TIMEOUT_MS 10000
/* The records read ahead per partition, in KiB (librdkafka's
 * queued.max.messages.kbytes): what bounds a read's memory. */
#define RILL_INSPECT_PREFETCH_KB "16384"

typedef struct rill_inspect rill_inspect_t;

/* Logs in with conf (rill_kprops_collect()); records are read
 * read_committed unless committed is 0. Errors are rill_kclient_open()'s. */
rill_err_t rill_inspect_open(const struct rill_kvlist *conf, int committed,
                             rill_inspect_t **out, char *errstr, size_t errsz);
void rill_inspect_close(rill_inspect_t *in);

/* ---- topics (inspect_topics.c) --------------------------------------------------- */

struct rill_insp_part {
    int32_t id;
    int32_t leader;           /* broker id; -1 when none */
    int32_t *replicas, *isr;  /* broker ids */
    int nreplicas, nisr;
    int64_t low, high;        /* watermarks; -1 when they could not be read */
    int err;                  /* this partition's metadata error (rd_kafka_resp_err_t); 0 */
};

struct rill_insp_topic {
    char *name;
    int err;                  /* 0, or why the broker would not describe it:
                               * UNKNOWN_TOPIC_OR_PART, TOPIC_AUTHORIZATION_FAILED, ... */
    struct rill_insp_part *parts;
    int nparts;
    int replication;          /* replicas of partition 0; -1 when it has none */
    int64_t end;              /* sum of the high watermarks; -1 when one is unknown */
    struct rill_topic_configs configs; /* RILL_INSP_CONFIGS: its configs, or its err */
};

struct rill_insp_topics {
    struct rill_insp_topic *v;
    size_t n;
};

enum { RILL_INSP_WATERMARKS = 1, RILL_INSP_CONFIGS = 2 };

/* names NULL (n 0): every topic the broker shows this user, by name;
 * otherwise names[0..n) in that order, each with its err when it is missing
 * or hidden. what: RILL_INSP_WATERMARKS and/or RILL_INSP_CONFIGS. Returns
 * RILL_ERR_KAFKA when the metadata request itself fails. */
rill_err_t rill_inspect_topics(rill_inspect_t *in, const char *const *names, size_t n, int what,
                               struct rill_insp_topics *out, char *errstr, size_t errsz);
void rill_insp_topics_free(struct rill_insp_topics *t);
/* The topic of that name in t, or NULL. */
const struct rill_insp_topic *rill_insp_topic_find(const struct rill_insp_topics *t,
                                                   const char *name);

/* "TOPIC_AUTHORIZATION_FAILED: Broker: Topic authorization failed" for a
 * topic's error, with what failed in front: "unknown topic 'x'" for
 * UNKNOWN_TOPIC_OR_PART, "not allowed to describe topic 'x'
 * (TOPIC_AUTHORIZATION_FAILED)" for that one. */
void rill_insp_topic_error(const struct rill_insp_topic *t, char *buf, size_t size);

/* ---- consumer groups (inspect_groups.c) -------------------------------------------- */

struct rill_insp_member {
    char *client_id, *consumer_id, *host;
    char *instance_id;        /* group.instance.id (static membership), or NULL */
    rd_kafka_topic_partition_list_t *assignment; /* never NULL */
};

enum rill_insp_source {
    RILL_INSP_POS_NONE = 0,   /* no commit: the group would start at the beginning */
    RILL_INSP_POS_KAFKA,      /* Kafka's committed offset */
    RILL_INSP_POS_GIVEN,      /* the caller's (a sink's position in PostgreSQL) */
};

struct rill_insp_offset {
    char *topic;
    int32_t partition;
    int64_t committed;        /* Kafka's committed offset; -1 when none */
    int64_t position;         /* where the group resumes (by source); -1 unknown */
    int source;               /* enum rill_insp_source */
    int64_t end;              /* the high watermark; -1 when unknown */
    int64_t lag;              /* records still to read (see the top); -1 unknown */
    int64_t offset_lag;       /* end - position; -1 unknown */
    int lag_exact;            /* 1: the probe said; 0: offset_lag taken for lag */
    const char *member;       /* client id of the member holding it (in members), or NULL */
};

struct rill_insp_group {
    char *id;
    char *state;              /* "Stable", "Empty", ...; NULL when it could not be described */
    int simple;               /* a simple (assign-only) consumer group */
    char *assignor;           /* NULL when none */
    int32_t coordinator;      /* broker id; -1 */
    struct rill_insp_member *members;
    size_t nmembers;
    struct rill_insp_offset *offsets; /* by topic, then partition */
    size_t noffsets;
    int64_t lag;              /* the sum of the offsets' lag; -1 when one is unknown */
    int err;                  /* why it could not be described or its offsets fetched */
    char *error;              /* "GROUP_AUTHORIZATION_FAILED: ..." when err; else NULL */
};

struct rill_insp_groups {
    struct rill_insp_group *v;
    size_t n;
};

/* A position the caller knows better than Kafka (a sink's rill_offsets). */
struct rill_insp_position {
    const char *topic;
    int32_t partition;
    int64_t next_offset;
};

/* One group to describe. topics (may be NULL) are the topics it reads:
 * their every partition is listed, with or without a commit; otherwise only
 * what it committed. positions[0..npositions) replace Kafka's committed
 * offsets as where the group resumes. */
struct rill_insp_group_query {
    const char *id;
    const char *const *topics;
    size_t ntopics;
    const struct rill_insp_position *positions;
    size_t npositions;
};

/* The ids of every consumer group the broker shows this user
 * (ListConsumerGroups), sorted; free with rill_insp_ids_free(). */
rill_err_t rill_inspect_list_groups(rill_inspect_t *in, char ***ids, size_t *n, char *errstr,
                                    size_t errsz);
void rill_insp_ids_free(char **ids, size_t n);

/* Describes q[0..n) (DescribeConsumerGroups, ListConsumerGroupOffsets, the
 * watermarks) and probes the lag of every partition behind its end. A group
 * the broker refuses is an entry with err (GROUP_AUTHORIZATION_FAILED,
 * ...); RILL_ERR_KAFKA only when a request as a whole fails. */
rill_err_t rill_inspect_groups(rill_inspect_t *in, const struct rill_insp_group_query *q,
                               size_t n, struct rill_insp_groups *out, char *errstr,
                               size_t errsz);
void rill_insp_groups_free(struct rill_insp_groups *g);

/* ---- reading records (inspect_read.c) ----------------------------------------------- */

enum rill_from_kind {
    RILL_FROM_BEGINNING = 0,  /* the low watermark */
    RILL_FROM_END,            /* the end: only what comes next */
    RILL_FROM_OFFSET,         /* an absolute offset (clamped to the watermarks) */
    RILL_FROM_TAIL,           /* the last value records of each partition */
    RILL_FROM_TIME,           /* the first record at or after value ms since the epoch */
};

struct rill_offset_spec {
    int kind;                 /* enum rill_from_kind */
    int64_t value;
};

/* Parses "beginning" (or "earliest"), "end" (or "latest"), "end-N" (or
 * "-N"), an offset, "@MS" (ms since the epoch) or an ISO 8601 time
 * "2026-11-22T10:00:00[.123](Z|+01:00)" (also after '@'). RILL_ERR_INVALID
 * says what is wrong. Pure. */
rill_err_t rill_offset_spec_parse(const char *s, struct rill_offset_spec *out, char *errstr,
                                  size_t errsz);

/* Where reading starts in a partition with watermarks [low, high), for the
 * kinds that need no broker (all but RILL_FROM_TIME, which gets the broker's
 * answer as ts_offset: -1 when no record is that new). Pure. */
int64_t rill_offset_spec_resolve(const struct rill_offset_spec *s, int64_t low, int64_t high,
                                 int64_t ts_offset);

struct rill_insp_read_opts {
    int32_t partition;        /* -1: every partition */
    struct rill_offset_spec from;
    int64_t to;               /* stop each partition before this offset; -1: at its end */
    int follow;               /* at the end, wait for more (to still applies) */
};

typedef struct rill_insp_reader rill_insp_reader_t;

/* Starts reading topic as o says. RILL_ERR_NOTFOUND for an unknown topic or
 * partition, RILL_ERR_AUTH when the broker refuses to describe it, both
 * naming it. */
rill_err_t rill_insp_reader_open(rill_inspect_t *in, const char *topic,
                                 const struct rill_insp_read_opts *o,
                                 rill_insp_reader_t **out, char *errstr, size_t errsz);
/* The next record within wait_ms into *m (the caller destroys it), or *m
 * NULL when none came (then see rill_insp_reader_done()). RILL_ERR_AUTH or
 * RILL_ERR_KAFKA when the broker refuses the fetch (the error names the
 * partition and librdkafka's error name). */
rill_err_t rill_insp_reader_next(rill_insp_reader_t *r, int wait_ms, rd_kafka_message_t **m,
                                 char *errstr, size_t errsz);
/* 1 once every partition reached its end (or `to`); never when following
 * without `to`. */
int rill_insp_reader_done(const rill_insp_reader_t *r);
/* The partitions read and, for each, where reading started and the end
 * it had when opened (-1 when unknown), for reports. */
int rill_insp_reader_partitions(const rill_insp_reader_t *r);
void rill_insp_reader_range(const rill_insp_reader_t *r, int i, int32_t *partition,
                            int64_t *start, int64_t *end);
void rill_insp_reader_close(rill_insp_reader_t *r);

#endif
