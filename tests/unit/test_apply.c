/*
 * test_apply.c - unit tests of `rill apply`'s planning (apply.c), without a
 * broker: the topics a topology wants (declared, changelogs, DLQs, their
 * partitions and default configs), the ACLs of each user, the plan against
 * an empty cluster and against hand-made cluster states (exists, more
 * partitions, refused shrink and re-replication, altered configs sent with
 * the topic's other dynamic configs), the client settings (-F, -X) and the
 * command line's usage errors. The broker half is the integration tier's.
 */
#include "tests/lib/suite.h"
#include "processors/registry.h"
#include "tests/lib/drive.h"
#include "topology/admin/apply.h"
#include "topology/cli/kprops.h"
#include "topology/cli/cli.h"
#include "topology/model/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "s3cret-never-printed"

static const char pipeline[] =
    "application.id: shop\n"
    "kafka: { bootstrap.servers: 'k:9092', sasl.username: admin, sasl.password: " SECRET " }\n"
    "topics:\n"
    "  orders: { partitions: 6 }\n"
    "  payments: { partitions: 6, retention.ms: 86400000 }\n"
    "  stock_release: { partitions: 6, feedback: true }\n"
    "  table: { cleanup.policy: compact }\n"
    "  shared.dlq: { partitions: 2 }\n"
    "stores:\n"
    "  cache: { type: memory, changelog: false }\n"
    "processors:\n"
    "  payment:\n"
    "    type: passthrough\n"
    "    inputs: [orders]\n"
    "    outputs: [payments]\n"
    "    stores: [ledger, cache]\n"
    "    kafka: { sasl.username: payment_processor, sasl.password: " SECRET " }\n"
    "  inventory:\n"
    "    type: passthrough\n"
    "    inputs: [orders, stock_release]\n"
    "    outputs: [table]\n"
    "    dlq: shared.dlq\n"
    "    kafka: { sasl.username: inventory_manager }\n"
    "  shipping:\n"
    "    type: passthrough\n"
    "    inputs: [payments]\n"
    "    outputs: [stock_release]\n"
    "sinks:\n"
    "  db: { type: postgres_oltp, inputs: [payments], dsn: \"host=db password=" SECRET "\",\n"
    "        kafka: { sasl.username: pg_sink } }\n"
    "clients:\n"
    "  gen: { user: order_generator, writes: [orders] }\n"
    "  report: { user: analyst, reads: [payments], group: reports }\n";

static struct rill_topology *load(const char *yaml)
{
    char err[1024];
    struct rill_topology *t = NULL;
    if (rill_topology_load_buf("apply.yaml", yaml, strlen(yaml), &t, err, sizeof err) ||
        rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, sizeof err)) {
        fprintf(stderr, "\n  %s\n", err);
        rill_topology_free(t);
        return NULL;
    }
    return t;
}

static struct rill_apply_want *want_of(const char *yaml)
{
    char err[256];
    struct rill_topology *t = load(yaml);
    struct rill_apply_want *w = NULL;
    if (t)
        CU_ASSERT_EQUAL(rill_apply_want(t, &w, err, sizeof err), RILL_OK);
    rill_topology_free(t); /* the want borrows nothing */
    return w;
}

static const struct rill_want_topic *wtopic(const struct rill_apply_want *w, const char *name)
{
    for (size_t i = 0; i < w->ntopics; i++)
        if (!strcmp(w->topics[i].name, name))
            return &w->topics[i];
    return NULL;
}

static int has_acl(const struct rill_apply_want *w, const char *principal, int resource,
                   const char *name, int pattern, int op)
{
    for (size_t i = 0; i < w->nacls; i++) {
        const struct rill_acl *a = &w->acls[i];
        if (!strcmp(a->principal, principal) && a->resource == resource &&
            !strcmp(a->name, name) && a->pattern == pattern && a->op == op)
            return 1;
    }
    return 0;
}

static size_t acls_of(const struct rill_apply_want *w, const char *principal)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nacls; i++)
        n += !strcmp(w->acls[i].principal, principal);
    return n;
}

static void assert_config(const struct rill_want_topic *wt, const char *key, const char *value)
{
    const char *v = rill_kvlist_get(&wt->configs, key);
    if (!value) {
        CU_ASSERT_PTR_NULL(v);
        return;
    }
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v && strcmp(v, value))
        fprintf(stderr, "\n  %s %s: want '%s', got '%s'\n", wt->name, key, value, v);
    CU_ASSERT(v && !strcmp(v, value));
}

static void test_want_topics(void)
{
    struct rill_apply_want *w = want_of(pipeline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(w->ntopics, 8);

    const struct rill_want_topic *t = wtopic(w, "orders");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->role, RILL_TOPIC_DECLARED);
    CU_ASSERT_EQUAL(t->partitions, 6);
    CU_ASSERT_EQUAL(t->replication, -1);
    assert_config(t, "retention.ms", "604800000");

    assert_config(wtopic(w, "payments"), "retention.ms", "86400000");
    assert_config(wtopic(w, "stock_release"), "retention.ms", "604800000");
    /* Compact-only: retention would mean nothing. */
    t = wtopic(w, "table");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->partitions, -1);
    assert_config(t, "retention.ms", NULL);

    t = wtopic(w, "shop-ledger-changelog");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->role, RILL_TOPIC_CHANGELOG);
    CU_ASSERT_EQUAL(t->declared, 0);
    CU_ASSERT_EQUAL(t->partitions, -1);
    CU_ASSERT_EQUAL_FATAL(t->follows.n, 1);
    CU_ASSERT_STRING_EQUAL(t->follows.v[0], "orders");
    assert_config(t, "cleanup.policy", "compact");
    assert_config(t, "retention.ms", NULL);
    CU_ASSERT_PTR_NULL(wtopic(w, "shop-cache-changelog"));

    /* A DLQ per input by default, the processor's dlq: otherwise. */
    t = wtopic(w, "orders.dlq");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->role, RILL_TOPIC_DLQ);
    assert_config(t, "retention.ms", "2592000000");
    CU_ASSERT_PTR_NOT_NULL(wtopic(w, "payments.dlq"));
    CU_ASSERT_PTR_NULL(wtopic(w, "stock_release.dlq"));
    t = wtopic(w, "shared.dlq");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(t->role, RILL_TOPIC_DLQ);
    CU_ASSERT_EQUAL(t->declared, 1);
    CU_ASSERT_EQUAL(t->partitions, 2);
    CU_ASSERT_EQUAL(t->follows.n, 2);
    assert_config(t, "retention.ms", "2592000000");
    rill_apply_want_free(w);
}

static void test_want_acls(void)
{
    struct rill_apply_want *w = want_of(pipeline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    const char *pp = "User:payment_processor";
    CU_ASSERT(has_acl(w, pp, RILL_ACL_TOPIC, "orders", RILL_ACL_LITERAL, RILL_ACL_READ));
    CU_ASSERT(has_acl(w, pp, RILL_ACL_TOPIC, "payments", RILL_ACL_LITERAL, RILL_ACL_WRITE));
    CU_ASSERT(has_acl(w, pp, RILL_ACL_TOPIC, "orders.dlq", RILL_ACL_LITERAL, RILL_ACL_WRITE));
    CU_ASSERT(has_acl(w, pp, RILL_ACL_TOPIC, "shop-ledger-changelog", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT(has_acl(w, pp, RILL_ACL_TOPIC, "shop-ledger-changelog", RILL_ACL_LITERAL,
                      RILL_ACL_WRITE));
    CU_ASSERT(has_acl(w, pp, RILL_ACL_GROUP, "shop.payment", RILL_ACL_LITERAL, RILL_ACL_READ));
    CU_ASSERT(has_acl(w, pp, RILL_ACL_TRANSACTIONAL_ID, "shop.payment.", RILL_ACL_PREFIXED,
                      RILL_ACL_WRITE));
    CU_ASSERT(has_acl(w, pp, RILL_ACL_TRANSACTIONAL_ID, "shop.payment.", RILL_ACL_PREFIXED,
                      RILL_ACL_DESCRIBE));
    CU_ASSERT_EQUAL(acls_of(w, pp), 8); /* nothing else */

    const char *inv = "User:inventory_manager";
    CU_ASSERT(has_acl(w, inv, RILL_ACL_TOPIC, "stock_release", RILL_ACL_LITERAL, RILL_ACL_READ));
    CU_ASSERT(has_acl(w, inv, RILL_ACL_TOPIC, "shared.dlq", RILL_ACL_LITERAL, RILL_ACL_WRITE));
    CU_ASSERT_EQUAL(acls_of(w, inv), 7);

    /* No own user: the top-level one. */
    CU_ASSERT(has_acl(w, "User:admin", RILL_ACL_GROUP, "shop.shipping", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT(has_acl(w, "User:pg_sink", RILL_ACL_TOPIC, "payments", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT(has_acl(w, "User:pg_sink", RILL_ACL_GROUP, "shop.db", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT_EQUAL(acls_of(w, "User:pg_sink"), 2);
    CU_ASSERT(has_acl(w, "User:order_generator", RILL_ACL_TOPIC, "orders", RILL_ACL_LITERAL,
                      RILL_ACL_WRITE));
    CU_ASSERT_EQUAL(acls_of(w, "User:order_generator"), 1);
    CU_ASSERT(has_acl(w, "User:analyst", RILL_ACL_TOPIC, "payments", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT(has_acl(w, "User:analyst", RILL_ACL_GROUP, "reports", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT_EQUAL(acls_of(w, "User:analyst"), 2);
    for (size_t i = 0; i < w->nacls; i++)
        CU_ASSERT(w->acls[i].op != RILL_ACL_WRITE || w->acls[i].resource != RILL_ACL_GROUP);
    CU_ASSERT_EQUAL(w->nskipped, 0);
    rill_apply_want_free(w);
}

/* A sink's group ACL is for its `group:` when given, <app>.<sink> otherwise
 * (rill_sink_group()); the plan's line names it. */
static void test_want_sink_group(void)
{
    const char *yaml = "application.id: shop\n"
                       "kafka: { sasl.username: admin }\n"
                       "topics: { payments: {} }\n"
                       "sinks:\n"
                       "  db: { type: postgres_oltp, inputs: [payments], group: orders-db-v2,\n"
                       "        dsn: \"host=db\", kafka: { sasl.username: pg_sink } }\n"
                       "  star: { type: postgres_star, inputs: [payments], dsn: \"host=db\" }\n";
    struct rill_apply_want *w = want_of(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT(has_acl(w, "User:pg_sink", RILL_ACL_GROUP, "orders-db-v2", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT(!has_acl(w, "User:pg_sink", RILL_ACL_GROUP, "shop.db", RILL_ACL_LITERAL,
                       RILL_ACL_READ));
    CU_ASSERT(has_acl(w, "User:pg_sink", RILL_ACL_TOPIC, "payments", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT_EQUAL(acls_of(w, "User:pg_sink"), 2);
    CU_ASSERT(has_acl(w, "User:admin", RILL_ACL_GROUP, "shop.star", RILL_ACL_LITERAL,
                      RILL_ACL_READ));
    CU_ASSERT_EQUAL(acls_of(w, "User:admin"), 2);
    struct rill_apply_plan *p = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_apply_plan(w, NULL, &p, err, sizeof err), RILL_OK);
    int found = 0;
    for (size_t i = 0; i < p->n; i++) {
        found += !strcmp(p->v[i].line, "add acl User:pg_sink READ group orders-db-v2");
        CU_ASSERT_PTR_NULL(strstr(p->v[i].line, "shop.db"));
    }
    CU_ASSERT_EQUAL(found, 1);
    rill_apply_plan_free(p);
    rill_apply_want_free(w);
}

/* at_least_once uses no transactional ids; a processor without any user
 * gets no ACLs, and the plan says so. */
static void test_want_alos_and_no_user(void)
{
    const char *yaml = "application.id: a\n"
                       "processing.guarantee: at_least_once\n"
                       "topics: { in: {}, out: {} }\n"
                       "processors:\n"
                       "  p: { type: passthrough, inputs: [in], outputs: [out],\n"
                       "       kafka: { sasl.username: u } }\n"
                       "  q: { type: passthrough, inputs: [out] }\n";
    struct rill_apply_want *w = want_of(yaml);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_EQUAL(acls_of(w, "User:u"), 4); /* in, out, in.dlq, group */
    for (size_t i = 0; i < w->nacls; i++)
        CU_ASSERT_NOT_EQUAL(w->acls[i].resource, RILL_ACL_TRANSACTIONAL_ID);
    CU_ASSERT_EQUAL_FATAL(w->nskipped, 1);
    CU_ASSERT_STRING_EQUAL(w->skipped[0], "processor 'q'");
    struct rill_apply_plan *p = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_apply_plan(w, NULL, &p, err, sizeof err), RILL_OK);
    int found = 0;
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].kind == RILL_ACT_SKIP_ACLS) {
            CU_ASSERT_STRING_EQUAL(p->v[i].line, "skip acls for processor 'q': no sasl.username "
                                                 "in its kafka: map or the top-level one");
            found++;
        }
    CU_ASSERT_EQUAL(found, 1);
    rill_apply_plan_free(p);
    rill_apply_want_free(w);
}

static const struct rill_action *find_line(const struct rill_apply_plan *p, const char *line)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i].line, line))
            return &p->v[i];
    fprintf(stderr, "\n  no line '%s' in:\n", line);
    for (size_t i = 0; i < p->n; i++)
        fprintf(stderr, "    %s\n", p->v[i].line);
    return NULL;
}

static size_t count_kind(const struct rill_apply_plan *p, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->v[i].kind == kind;
    return n;
}

static void test_plan_empty_cluster(void)
{
    struct rill_apply_want *w = want_of(pipeline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct rill_apply_plan *p = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(rill_apply_plan(w, NULL, &p, err, sizeof err), RILL_OK);
    CU_ASSERT_EQUAL(p->refused, 0);
    CU_ASSERT_EQUAL(count_kind(p, RILL_ACT_CREATE_TOPIC), w->ntopics);
    CU_ASSERT_EQUAL(count_kind(p, RILL_ACT_ADD_ACL), w->nacls);
    CU_ASSERT_EQUAL(p->n, w->ntopics + w->nacls);
    const struct rill_action *a =
        find_line(p, "create topic orders partitions=6 retention.ms=604800000");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->partitions, 6);
    CU_ASSERT_EQUAL(a->replication, -1);
    CU_ASSERT_STRING_EQUAL(a->topic, "orders");
    /* Undeclared partitions: the default; derived topics follow their input. */
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "create topic table partitions=6 cleanup.policy=compact"));
    CU_ASSERT_PTR_NOT_NULL(
        find_line(p, "create topic shop-ledger-changelog partitions=6 cleanup.policy=compact"));
    CU_ASSERT_PTR_NOT_NULL(
        find_line(p, "create topic shared.dlq partitions=2 retention.ms=2592000000"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "add acl User:payment_processor READ topic orders"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "add acl User:payment_processor READ group shop.payment"));
    a = find_line(p, "add acl User:payment_processor WRITE transactional-id shop.payment. "
                     "(prefixed)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->acl.resource, RILL_ACL_TRANSACTIONAL_ID);
    CU_ASSERT_EQUAL(a->acl.pattern, RILL_ACL_PREFIXED);
    CU_ASSERT_STRING_EQUAL(a->acl.principal, "User:payment_processor");
    /* Topics come first, in the order of the file, then the ACLs. */
    CU_ASSERT_STRING_EQUAL(p->v[0].line, "create topic orders partitions=6 retention.ms=604800000");
    CU_ASSERT_EQUAL(p->v[w->ntopics].kind, RILL_ACT_ADD_ACL);
    for (size_t i = 0; i < p->n; i++)
        CU_ASSERT_PTR_NULL(strstr(p->v[i].line, SECRET));
    rill_apply_plan_free(p);
    rill_apply_want_free(w);
}

/* ---- hand-made cluster states ---- */

static struct rill_have_topic *have_add(struct rill_apply_have *h, const char *name,
                                        int32_t partitions, int16_t replication)
{
    h->topics = realloc(h->topics, (h->ntopics + 1) * sizeof *h->topics);
    struct rill_have_topic *t = &h->topics[h->ntopics++];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->partitions = partitions;
    t->replication = replication;
    return t;
}

static void have_config(struct rill_have_topic *t, const char *name, const char *value,
                        int dynamic)
{
    t->configs = realloc(t->configs, (t->nconfigs + 1) * sizeof *t->configs);
    struct rill_have_config *c = &t->configs[t->nconfigs++];
    c->name = strdup(name);
    c->value = value ? strdup(value) : NULL;
    c->dynamic = dynamic;
}

/* A cluster with everything w wants, as rill apply would have made it. */
static struct rill_apply_have *have_all(const struct rill_apply_want *w)
{
    struct rill_apply_have *h = calloc(1, sizeof *h);
    for (size_t i = 0; i < w->ntopics; i++) {
        const struct rill_want_topic *wt = &w->topics[i];
        int32_t n = wt->partitions > 0 ? wt->partitions : 6;
        struct rill_have_topic *t = have_add(h, wt->name, n, 1);
        for (size_t j = 0; j < wt->configs.n; j++)
            have_config(t, wt->configs.v[j].key, wt->configs.v[j].value, 1);
        have_config(t, "segment.bytes", "1073741824", 0);
    }
    h->acls = calloc(w->nacls, sizeof *h->acls);
    for (size_t i = 0; i < w->nacls; i++) {
        h->acls[i] = w->acls[i];
        h->acls[i].principal = strdup(w->acls[i].principal);
        h->acls[i].name = strdup(w->acls[i].name);
    }
    h->nacls = w->nacls;
    return h;
}

static struct rill_have_topic *have_find(struct rill_apply_have *h, const char *name)
{
    for (size_t i = 0; i < h->ntopics; i++)
        if (!strcmp(h->topics[i].name, name))
            return &h->topics[i];
    return NULL;
}

static struct rill_have_config *have_cfg(struct rill_have_topic *t, const char *name)
{
    for (size_t i = 0; i < t->nconfigs; i++)
        if (!strcmp(t->configs[i].name, name))
            return &t->configs[i];
    return NULL;
}

static struct rill_apply_plan *plan_of(const struct rill_apply_want *w,
                                       const struct rill_apply_have *h)
{
    struct rill_apply_plan *p = NULL;
    char err[256];
    CU_ASSERT_EQUAL(rill_apply_plan(w, h, &p, err, sizeof err), RILL_OK);
    return p;
}

static void test_plan_all_exists(void)
{
    struct rill_apply_want *w = want_of(pipeline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct rill_apply_have *h = have_all(w);
    struct rill_apply_plan *p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(count_kind(p, RILL_ACT_TOPIC_EXISTS), w->ntopics);
    CU_ASSERT_EQUAL(count_kind(p, RILL_ACT_ACL_EXISTS), w->nacls);
    CU_ASSERT_EQUAL(p->n, w->ntopics + w->nacls);
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "exists topic orders partitions=6"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "exists acl User:analyst READ group reports"));
    rill_apply_plan_free(p);
    rill_apply_have_free(h);
    rill_apply_want_free(w);
}

static void test_plan_partitions(void)
{
    struct rill_apply_want *w = want_of(pipeline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct rill_apply_have *h = have_all(w);
    /* More asked than exist: added. The input's DLQ and changelog follow. */
    have_find(h, "orders")->partitions = 4;
    have_find(h, "orders.dlq")->partitions = 4;
    have_find(h, "shop-ledger-changelog")->partitions = 12; /* more is fine */
    have_find(h, "table")->partitions = 3;                  /* undeclared: kept */
    struct rill_apply_plan *p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->refused, 0);
    const struct rill_action *a = find_line(p, "alter topic orders partitions=6 (was 4)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->kind, RILL_ACT_ADD_PARTITIONS);
    CU_ASSERT_EQUAL(a->partitions, 6);
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "alter topic orders.dlq partitions=6 (was 4)"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "exists topic shop-ledger-changelog partitions=12"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "exists topic table partitions=3"));
    rill_apply_plan_free(p);

    /* Fewer asked than exist: refused, whatever else the plan holds. An
     * undeclared replication factor is whatever the topic has. */
    have_find(h, "orders")->partitions = 8;
    have_find(h, "payments")->replication = 3;
    p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->refused, 1);
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "exists topic payments partitions=6"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "error: topic 'orders' has 8 partitions, the topology "
                                        "asks for 6 (kafka cannot remove partitions)"));
    rill_apply_plan_free(p);
    rill_apply_have_free(h);
    rill_apply_want_free(w);

    /* A declared replication factor the topic does not have: refused. */
    w = want_of("application.id: a\ntopics: { in: { replication.factor: 3 } }\n"
                "processors: { p: { type: passthrough, inputs: [in] } }\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    h = have_all(w);
    p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->refused, 1);
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "error: topic 'in' has replication factor 1, the "
                                        "topology asks for 3 (rill apply does not move "
                                        "replicas)"));
    rill_apply_plan_free(p);
    rill_apply_have_free(h);
    rill_apply_want_free(w);
}

static void test_plan_configs(void)
{
    struct rill_apply_want *w = want_of(pipeline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct rill_apply_have *h = have_all(w);
    struct rill_have_topic *t = have_find(h, "payments");
    free(have_cfg(t, "retention.ms")->value);
    have_cfg(t, "retention.ms")->value = strdup("604800000");
    have_config(t, "max.message.bytes", "2000000", 1); /* set by someone: kept */
    /* A broker-default value equal to the wanted one needs no change. */
    t = have_find(h, "orders");
    have_cfg(t, "retention.ms")->dynamic = 0;
    t = have_find(h, "table");
    free(have_cfg(t, "cleanup.policy")->value);
    have_cfg(t, "cleanup.policy")->value = strdup("delete");
    struct rill_apply_plan *p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->refused, 0);
    const struct rill_action *a =
        find_line(p, "alter topic payments retention.ms=86400000 (was 604800000)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->kind, RILL_ACT_ALTER_CONFIGS);
    /* AlterConfigs replaces every dynamic config: the others are sent too,
     * the static ones are not. */
    CU_ASSERT_EQUAL(a->configs.n, 2);
    CU_ASSERT_STRING_EQUAL(rill_kvlist_get(&a->configs, "retention.ms"), "86400000");
    CU_ASSERT_STRING_EQUAL(rill_kvlist_get(&a->configs, "max.message.bytes"), "2000000");
    CU_ASSERT_PTR_NULL(rill_kvlist_get(&a->configs, "segment.bytes"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "exists topic orders partitions=6"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "alter topic table cleanup.policy=compact (was delete)"));
    rill_apply_plan_free(p);

    /* A wanted config the broker does not report, and a hidden dynamic one
     * that AlterConfigs would reset: refused. */
    t = have_find(h, "orders");
    for (size_t i = 0; i < t->nconfigs; i++)
        if (!strcmp(t->configs[i].name, "retention.ms"))
            t->configs[i].name[0] = 'X';
    have_config(t, "sasl.secret.thing", NULL, 1);
    p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->refused, 1);
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "error: cannot alter topic 'orders': its config "
                                        "'sasl.secret.thing' is hidden by the broker and "
                                        "altering would reset it"));
    rill_apply_plan_free(p);
    rill_apply_have_free(h);
    rill_apply_want_free(w);

    /* Without a hidden config, an unset one is reported as such. */
    w = want_of("application.id: a\ntopics: { in: { partitions: 1 } }\n"
                "processors: { p: { type: passthrough, inputs: [in] } }\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    h = calloc(1, sizeof *h);
    have_add(h, "in", 1, 1);
    p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "alter topic in retention.ms=604800000 (was unset)"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "create topic in.dlq partitions=1 "
                                        "retention.ms=2592000000"));
    rill_apply_plan_free(p);
    rill_apply_have_free(h);
    rill_apply_want_free(w);
}

/* An undeclared input keeps the partition count it has; its DLQ follows. */
static void test_plan_undeclared_input(void)
{
    struct rill_apply_want *w =
        want_of("application.id: a\ntopics: { in: {} }\n"
                "processors: { p: { type: passthrough, inputs: [in], stores: [s] } }\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    struct rill_apply_have *h = calloc(1, sizeof *h);
    have_config(have_add(h, "in", 3, 1), "retention.ms", "604800000", 1);
    struct rill_apply_plan *p = plan_of(w, h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "exists topic in partitions=3"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "create topic in.dlq partitions=3 "
                                        "retention.ms=2592000000"));
    CU_ASSERT_PTR_NOT_NULL(find_line(p, "create topic a-s-changelog partitions=3 "
                                        "cleanup.policy=compact"));
    rill_apply_plan_free(p);
    rill_apply_have_free(h);
    rill_apply_want_free(w);
}

/* ---- client settings ---- */

static void test_conf(void)
{
    struct rill_topology *t = load(pipeline);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    char path[] = "/tmp/rill-unit-conf.XXXXXX", err[512];
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    const char body[] = "# admin\n\n  sasl.username = root \nsasl.password=" SECRET "\r\n"
                        "bootstrap.servers=other:9092\n";
    CU_ASSERT_EQUAL(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
    close(fd);
    struct rill_kvlist conf = { 0 };
    const char *files[] = { path };
    const char *sets[] = { "bootstrap.servers=last:9092", "client.id=a=b" };
    CU_ASSERT_EQUAL_FATAL(rill_kprops_collect(&t->kafka, files, 1, sets, 2, &conf, err, sizeof err), RILL_OK);
    CU_ASSERT_STRING_EQUAL(rill_kvlist_get(&conf, "sasl.username"), "root");
    CU_ASSERT_STRING_EQUAL(rill_kvlist_get(&conf, "sasl.password"), SECRET);
    CU_ASSERT_STRING_EQUAL(rill_kvlist_get(&conf, "bootstrap.servers"), "last:9092");
    CU_ASSERT_STRING_EQUAL(rill_kvlist_get(&conf, "client.id"), "a=b");
    CU_ASSERT_EQUAL(conf.n, 4); /* one entry per key */
    rill_kvlist_clear(&conf);
    CU_ASSERT_EQUAL(conf.n, 0);

    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("a=1\n" SECRET "\n", f);
    fclose(f);
    CU_ASSERT_EQUAL(rill_kprops_collect(&t->kafka, files, 1, NULL, 0, &conf, err, sizeof err),
                    RILL_ERR_CONFIG);
    char want[600];
    snprintf(want, sizeof want, "%s:2: expected key=value", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_EQUAL(conf.n, 0);
    const char *bad[] = { SECRET };
    CU_ASSERT_EQUAL(rill_kprops_collect(&t->kafka, NULL, 0, bad, 1, &conf, err, sizeof err), RILL_ERR_CONFIG);
    CU_ASSERT_STRING_EQUAL(err, "-X expects key=value (argument 1)");
    unlink(path);
    CU_ASSERT_EQUAL(rill_kprops_collect(&t->kafka, files, 1, NULL, 0, &conf, err, sizeof err), RILL_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot read kafka properties file '/tmp/rill-unit-conf."));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "': no such file or directory"));
    rill_topology_free(t);
}

/* ---- the command line, where it needs no broker ---- */

static int run_apply(char *out, size_t size, int argc, char **argv)
{
    return it_capture(rill_cmd_apply, out, size, argc, argv);
}

static void test_cmd_usage(void)
{
    static char out[8192];
    CU_ASSERT_EQUAL(run_apply(out, sizeof out, 1, (char *[]){ "apply", NULL }), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: rill apply FILE [--dry-run]"));
    CU_ASSERT_EQUAL(run_apply(out, sizeof out, 2, (char *[]){ "apply", "--help", NULL }), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--dry-run"));
    CU_ASSERT_EQUAL(run_apply(out, sizeof out, 3, (char *[]){ "apply", "--bogus", "f", NULL }), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "unknown option '--bogus'"));
    CU_ASSERT_EQUAL(run_apply(out, sizeof out, 3, (char *[]){ "apply", "f", "-X", NULL }), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "-X needs an argument"));
    CU_ASSERT_EQUAL(run_apply(out, sizeof out, 3, (char *[]){ "apply", "f", "g", NULL }), 2);
    /* A file that does not load: one line, status 1, before any network. */
    CU_ASSERT_EQUAL(
        run_apply(out, sizeof out, 2, (char *[]){ "apply", "/nonexistent/t.yaml", NULL }), 1);
    CU_ASSERT_STRING_EQUAL(out, "rill apply: /nonexistent/t.yaml:1:1: cannot open topology "
                                "file: no such file or directory\n");
}

static CU_TestInfo tests[] = {
    { "topics: declared, changelogs, dlqs, default configs", test_want_topics },
    { "acls per processor, sink and client user, nothing else", test_want_acls },
    { "a sink's group acl follows its group:", test_want_sink_group },
    { "at_least_once: no transactional ids; no user: acls skipped", test_want_alos_and_no_user },
    { "plan against an empty cluster creates everything", test_plan_empty_cluster },
    { "plan against an applied cluster: everything exists", test_plan_all_exists },
    { "partitions: added, followed, never removed; replication refused",
      test_plan_partitions },
    { "configs: altered with the topic's other dynamic configs", test_plan_configs },
    { "an undeclared input keeps its partition count", test_plan_undeclared_input },
    { "client settings: kafka map, -F files, -X, later wins", test_conf },
    { "rill apply usage errors and a bad file", test_cmd_usage },
    CU_TEST_INFO_NULL,
};
RILL_SUITE("apply", tests)
