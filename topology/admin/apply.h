/*
 * apply.h - what `rill apply` does, as a library. Three steps:
 *  1. rill_apply_want(): what a checked topology needs from the cluster,
 *     without a broker: its topics (declared ones, a compacted changelog per
 *     store with a changelog, a DLQ per processor or per input) with
 *     partitions and configs, and the ACLs of every Kafka user (processors,
 *     sinks, clients:);
 *  2. rill_apply_describe(): what the cluster has of it (librdkafka's
 *     metadata, DescribeConfigs and DescribeAcls; kwire.h for
 *     transactional-id ACLs, which librdkafka 2.0.2 cannot express);
 *  3. rill_apply_plan(): the actions from one to the other, each with the
 *     line `rill apply` prints, and rill_apply_execute() to carry them out.
 * Planning is pure (the unit tier tests it); only describe and execute talk
 * to Kafka. Nothing is ever deleted: not topics, partitions, ACLs, nor topic
 * configs the YAML does not name. Nothing here prints.
 *
 * Defaults (documented in the README): a topic whose partition count is not
 * declared keeps the count it has, or is created with
 * RILL_APPLY_DEFAULT_PARTITIONS; changelogs and DLQs follow the partition
 * count of their processor's inputs (the largest) and may have more;
 * replication is the broker's default unless declared; declared topics get
 * retention.ms of 7 days and DLQs 30 days unless the YAML sets retention.ms
 * (or a topic is compact-only); changelogs get cleanup.policy=compact.
 *
 * Ownership: every object is the caller's and is freed with its _free();
 * they borrow nothing from the topology. Not thread-safe.
 */
#ifndef RILL_APPLY_H
#define RILL_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "topology/model/config.h"
#include "topology/rill.h"

#define RILL_APPLY_DEFAULT_PARTITIONS 6
#define RILL_APPLY_EVENT_RETENTION_MS "604800000"  /* 7 days */
#define RILL_APPLY_DLQ_RETENTION_MS "2592000000"   /* 30 days */

/* Kafka's wire values; librdkafka's enums use the same numbers. */
enum rill_acl_resource { RILL_ACL_TOPIC = 2, RILL_ACL_GROUP = 3, RILL_ACL_TRANSACTIONAL_ID = 5 };
enum rill_acl_pattern { RILL_ACL_LITERAL = 3, RILL_ACL_PREFIXED = 4 };
enum rill_acl_op { RILL_ACL_READ = 3, RILL_ACL_WRITE = 4, RILL_ACL_DESCRIBE = 8 };

/* An ALLOW binding for any host ("*"). */
struct rill_acl {
    char *principal;          /* "User:payment_processor" */
    int resource;             /* enum rill_acl_resource */
    char *name;
    int pattern;              /* enum rill_acl_pattern */
    int op;                   /* enum rill_acl_op */
};

enum rill_topic_role {
    RILL_TOPIC_DECLARED,      /* under topics: */
    RILL_TOPIC_CHANGELOG,     /* <application.id>-<store>-changelog */
    RILL_TOPIC_DLQ,           /* a processor's dlq: or <input>.dlq */
};

struct rill_want_topic {
    char *name;
    int role;                 /* enum rill_topic_role; declared wins for partitions */
    int declared;             /* also declared under topics: */
    int32_t partitions;       /* declared count, or -1 */
    struct rill_strlist follows; /* undeclared changelogs and DLQs: the inputs
                                  * whose partition count they take (the largest) */
    int16_t replication;      /* declared, or -1 (the broker's default) */
    struct rill_kvlist configs;  /* wanted configs, defaults included */
};

struct rill_apply_want {
    struct rill_want_topic *topics;
    size_t ntopics;
    struct rill_acl *acls;
    size_t nacls;
    char **skipped;           /* "processor 'x'" (or sink) without a Kafka user */
    size_t nskipped;
};

/* What the cluster has: only what the plan needs to compare. */
struct rill_have_config {
    char *name;
    char *value;              /* NULL when the broker hides it (sensitive) */
    int dynamic;              /* set on the topic (AlterConfigs replaces these) */
};

struct rill_have_topic {
    char *name;
    int32_t partitions;
    int16_t replication;
    struct rill_have_config *configs;
    size_t nconfigs;
};

struct rill_apply_have {
    struct rill_have_topic *topics;
    size_t ntopics;
    struct rill_acl *acls;    /* ALLOW bindings for host "*" */
    size_t nacls;
};

enum rill_action_kind {
    RILL_ACT_CREATE_TOPIC,
    RILL_ACT_ADD_PARTITIONS,
    RILL_ACT_ALTER_CONFIGS,
    RILL_ACT_TOPIC_EXISTS,
    RILL_ACT_ADD_ACL,
    RILL_ACT_ACL_EXISTS,
    RILL_ACT_SKIP_ACLS,       /* a processor or sink without a Kafka user */
    RILL_ACT_REFUSE,          /* what Kafka cannot do (shrink, re-replicate) */
};

struct rill_action {
    int kind;                 /* enum rill_action_kind */
    char *topic;              /* topic actions */
    int32_t partitions;       /* CREATE, ADD_PARTITIONS: the new total */
    int16_t replication;      /* CREATE: -1 for the broker's default */
    struct rill_kvlist configs; /* CREATE: its configs; ALTER: the whole set to send
                                 * (the topic's dynamic configs with the wanted ones) */
    struct rill_acl acl;      /* ADD_ACL, ACL_EXISTS */
    char *line;               /* what `rill apply` prints, e.g. "create topic x partitions=6" */
    char error[512];          /* "cannot ...: why" when rill_apply_execute() failed it, else "" */
};

struct rill_apply_plan {
    struct rill_action *v;
    size_t n;
    size_t refused;           /* REFUSE actions: the plan cannot be applied */
};

/* Step 1. t must have passed rill_topology_check(). */
rill_err_t rill_apply_want(const struct rill_topology *t, struct rill_apply_want **out,
                           char *errstr, size_t errsz);
void rill_apply_want_free(struct rill_apply_want *w);

/* Step 3 (pure): have may be NULL (an empty cluster). */
rill_err_t rill_apply_plan(const struct rill_apply_want *w, const struct rill_apply_have *have,
                           struct rill_apply_plan **out, char *errstr, size_t errsz);
void rill_apply_plan_free(struct rill_apply_plan *p);

void rill_apply_have_free(struct rill_apply_have *h);

/* ---- Kafka (apply_kafka.c) ---- */

typedef struct rill_apply_conn rill_apply_conn_t;

/* Logs in to Kafka with conf (see rill_kprops_collect()); fails with one clear
 * line when the cluster is unreachable or refuses the credentials. */
rill_err_t rill_apply_connect(const struct rill_kvlist *conf, rill_apply_conn_t **out,
                              char *errstr, size_t errsz);

/* Step 2: the state of every topic and ACL that w names. */
rill_err_t rill_apply_describe(rill_apply_conn_t *c, const struct rill_apply_want *w,
                               struct rill_apply_have **out, char *errstr, size_t errsz);

/* Carries out the plan's CREATE, ADD_PARTITIONS, ALTER_CONFIGS and ADD_ACL
 * actions (topics first), batched per kind; each failed action gets its
 * `error`, the others are made. Then waits (at most 15 s) until the broker
 * shows every change made, re-describing w, so that what runs next finds
 * them. Refuses a plan with REFUSE actions and changes nothing then.
 * Returns RILL_OK when every action succeeded. p must come from w. */
rill_err_t rill_apply_execute(rill_apply_conn_t *c, const struct rill_apply_want *w,
                              struct rill_apply_plan *p, char *errstr, size_t errsz);

void rill_apply_disconnect(rill_apply_conn_t *c);

#endif
