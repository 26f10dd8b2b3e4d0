/*
 * apply_kafka.c - the broker half of apply.h: logs in with librdkafka
 * (a producer-type client: the Admin API needs no more), reads what the
 * cluster has of the wanted topics and ACLs (metadata, DescribeConfigs,
 * DescribeAcls), and carries a plan out with one batched request per kind
 * (CreateTopics, CreatePartitions, AlterConfigs, CreateAcls), then waits
 * until the broker shows the changes.
 * Transactional-id ACLs go through kwire.h instead: librdkafka 2.0.2 has no
 * resource type for them. Not here: deciding what to do (apply.c), printing.
 */
#include "topology/admin/apply.h"

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "topology/base/grow_int.h"
#include "topology/admin/kclient.h"
#include "topology/admin/kwire.h"

#define TIMEOUT_MS 30000
#define SETTLE_MS 15000

struct rill_apply_conn {
    struct rill_kclient kc;   /* the logged-in admin client */
    struct rill_kvlist conf;  /* a copy of the settings, for kwire */
    rill_kwire_t *wire;       /* opened on first need */
};

rill_err_t rill_apply_connect(const struct rill_kvlist *conf, rill_apply_conn_t **out,
                              char *errstr, size_t errsz)
{
    *out = NULL;
    rill_apply_conn_t *c = calloc(1, sizeof *c);
    if (!c || !(c->conf.v = calloc(conf->n ? conf->n : 1, sizeof *c->conf.v))) {
        free(c);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < conf->n; i++) {
        struct rill_kv *kv = &c->conf.v[c->conf.n++];
        kv->key = strdup(conf->v[i].key);
        kv->value = strdup(conf->v[i].value);
        if (!kv->key || !kv->value) {
            rill_apply_disconnect(c);
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
    }
    rill_err_t err = rill_kclient_open(&c->kc, conf, RD_KAFKA_PRODUCER, NULL,
                                       RILL_KCLIENT_LOGIN_MS, errstr, errsz);
    if (err) {
        rill_apply_disconnect(c);
        return err;
    }
    *out = c;
    return RILL_OK;
}

void rill_apply_disconnect(rill_apply_conn_t *c)
{
    if (!c)
        return;
    rill_kwire_close(c->wire);
    rill_kclient_close(&c->kc);
    rill_kvlist_clear(&c->conf);
    free(c);
}

/* ---- describing --------------------------------------------------------------- */

/* Runs one admin request on its own queue and returns its result event,
 * or NULL (timed out). */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q)
{
    return rd_kafka_queue_poll(q, TIMEOUT_MS + 15000);
}

static rd_kafka_AdminOptions_t *admin_options(rill_apply_conn_t *c, rd_kafka_admin_op_t op)
{
    char e[RILL_ERRSTR_SIZE];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(c->kc.rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, TIMEOUT_MS + 10000, e, sizeof e);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS ||
        op == RD_KAFKA_ADMIN_OP_ALTERCONFIGS)
        rd_kafka_AdminOptions_set_operation_timeout(o, TIMEOUT_MS, e, sizeof e);
    return o;
}

struct hctx {
    struct rill_apply_have *h;
    size_t tcap, acap;
    int oom;
};

static void have_acl(struct hctx *x, const char *principal, int resource, const char *name,
                     int pattern, int op)
{
    if (rill_grow(&x->h->acls, x->h->nacls, &x->acap, sizeof *x->h->acls, 64)) {
        x->oom = 1;
        return;
    }
    struct rill_acl *a = &x->h->acls[x->h->nacls];
    a->principal = strdup(principal);
    a->name = strdup(name);
    a->resource = resource;
    a->pattern = pattern;
    a->op = op;
    if (!a->principal || !a->name) {
        free(a->principal);
        free(a->name);
        x->oom = 1;
        return;
    }
    x->h->nacls++;
}

static void wire_acl_cb(void *opaque, const struct rill_kwire_acl *a)
{
    if (a->permission == RILL_KWIRE_PERMISSION_ALLOW && !strcmp(a->host, "*"))
        have_acl(opaque, a->principal, a->resource, a->name, a->pattern, a->op);
}

static rill_err_t describe_configs(rill_apply_conn_t *c, struct hctx *x, char *errstr,
                                   size_t errsz)
{
    struct rill_apply_have *h = x->h;
    if (!h->ntopics)
        return RILL_OK;
    const char **names = calloc(h->ntopics, sizeof *names);
    if (!names)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < h->ntopics; i++)
        names[i] = h->topics[i].name;
    struct rill_topic_configs *tc = NULL;
    rill_err_t err = rill_kclient_describe_configs(&c->kc, names, h->ntopics, TIMEOUT_MS + 10000,
                                                   &tc, errstr, errsz);
    free(names);
    for (size_t i = 0; !err && i < h->ntopics; i++) {
        struct rill_have_topic *ht = &h->topics[i];
        if (tc[i].err) {
            err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot describe the configs of topic "
                            "'%s': %s", ht->name, tc[i].error);
            break;
        }
        if (tc[i].n && !(ht->configs = calloc(tc[i].n, sizeof *ht->configs))) {
            x->oom = 1;
            break;
        }
        for (size_t j = 0; j < tc[i].n; j++) {
            struct rill_have_config *hc = &ht->configs[ht->nconfigs++];
            /* moved, not copied: tc's entries are left empty */
            hc->name = tc[i].v[j].name;
            hc->value = tc[i].v[j].value;
            hc->dynamic = tc[i].v[j].source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
            tc[i].v[j].name = tc[i].v[j].value = NULL;
        }
    }
    rill_topic_configs_free(tc, h->ntopics);
    return err;
}

static rill_err_t describe_acls(rill_apply_conn_t *c, struct hctx *x, rd_kafka_ResourceType_t type,
                                char *errstr, size_t errsz)
{
    char e[RILL_ERRSTR_SIZE];
    rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
        type, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL, RD_KAFKA_ACL_OPERATION_ANY,
        RD_KAFKA_ACL_PERMISSION_TYPE_ANY, e, sizeof e);
    if (!f)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot describe acls: %s", e);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->kc.rk);
    rd_kafka_AdminOptions_t *o = admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBEACLS);
    rd_kafka_DescribeAcls(c->kc.rk, f, o, q);
    rd_kafka_event_t *ev = admin_wait(q);
    rill_err_t err = RILL_OK;
    if (!ev || rd_kafka_event_error(ev)) {
        err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot describe %s acls: %s",
                   type == RD_KAFKA_RESOURCE_TOPIC ? "topic" : "group",
                   ev ? rd_kafka_event_error_string(ev) : "timed out");
    } else {
        size_t n;
        const rd_kafka_AclBinding_t **b =
            rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_AclBinding_permission_type(b[i]) == RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW &&
                !strcmp(rd_kafka_AclBinding_host(b[i]), "*"))
                have_acl(x, rd_kafka_AclBinding_principal(b[i]),
                         (int)rd_kafka_AclBinding_restype(b[i]), rd_kafka_AclBinding_name(b[i]),
                         (int)rd_kafka_AclBinding_resource_pattern_type(b[i]),
                         (int)rd_kafka_AclBinding_operation(b[i]));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_AclBinding_destroy(f);
    return err;
}

static rill_err_t wire(rill_apply_conn_t *c, char *errstr, size_t errsz)
{
    if (c->wire)
        return RILL_OK;
    return rill_kwire_connect(&c->conf, TIMEOUT_MS, &c->wire, errstr, errsz);
}

rill_err_t rill_apply_describe(rill_apply_conn_t *c, const struct rill_apply_want *w,
                               struct rill_apply_have **out, char *errstr, size_t errsz)
{
    struct hctx x = { 0 };
    *out = NULL;
    if (!(x.h = calloc(1, sizeof *x.h)))
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(c->kc.rk, 1, NULL, &md, TIMEOUT_MS);
    rill_err_t err = RILL_OK;
    if (kerr)
        err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot list topics: %s", rd_kafka_err2str(kerr));
    for (size_t i = 0; !err && i < w->ntopics; i++) {
        const struct rd_kafka_metadata_topic *mt = NULL;
        for (int j = 0; j < md->topic_cnt; j++)
            if (!strcmp(md->topics[j].topic, w->topics[i].name))
                mt = &md->topics[j];
        if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            continue;
        if (mt->err && !mt->partition_cnt) {
            err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot describe topic '%s': %s", mt->topic,
                       rd_kafka_err2str(mt->err));
            break;
        }
        if (rill_grow(&x.h->topics, x.h->ntopics, &x.tcap, sizeof *x.h->topics, 16)) {
            x.oom = 1;
            break;
        }
        struct rill_have_topic *ht = &x.h->topics[x.h->ntopics];
        memset(ht, 0, sizeof *ht);
        if (!(ht->name = strdup(mt->topic))) {
            x.oom = 1;
            break;
        }
        ht->partitions = mt->partition_cnt;
        ht->replication = mt->partition_cnt ? (int16_t)mt->partitions[0].replica_cnt : -1;
        x.h->ntopics++;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    if (!err && !x.oom)
        err = describe_configs(c, &x, errstr, errsz);
    if (!err && !x.oom)
        err = describe_acls(c, &x, RD_KAFKA_RESOURCE_TOPIC, errstr, errsz);
    if (!err && !x.oom)
        err = describe_acls(c, &x, RD_KAFKA_RESOURCE_GROUP, errstr, errsz);
    int txn = 0;
    for (size_t i = 0; i < w->nacls; i++)
        txn |= w->acls[i].resource == RILL_ACL_TRANSACTIONAL_ID;
    if (!err && !x.oom && txn && !(err = wire(c, errstr, errsz)))
        err = rill_kwire_describe_acls(c->wire, RILL_ACL_TRANSACTIONAL_ID, wire_acl_cb, &x,
                                       errstr, errsz);
    if (!err && x.oom)
        err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    if (err) {
        rill_apply_have_free(x.h);
        return err;
    }
    *out = x.h;
    return RILL_OK;
}

/* ---- executing ------------------------------------------------------------------ */

/* Marks action a failed: "cannot <what>: <why>". */
static void failed(struct rill_action *a, const char *what, const char *why)
{
    snprintf(a->error, sizeof a->error, "cannot %.290s: %.200s", what, why);
}

/* Matches per-topic results to the actions of kind, by topic name. */
static void topic_results(struct rill_apply_plan *p, int kind, const rd_kafka_topic_result_t **r,
                          size_t n, const char *verb)
{
    for (size_t i = 0; i < n; i++) {
        if (!rd_kafka_topic_result_error(r[i]))
            continue;
        const char *name = rd_kafka_topic_result_name(r[i]);
        const char *why = rd_kafka_topic_result_error_string(r[i]);
        for (size_t j = 0; j < p->n; j++)
            if (p->v[j].kind == kind && !strcmp(p->v[j].topic, name)) {
                char what[400];
                snprintf(what, sizeof what, verb, name);
                failed(&p->v[j], what, why ? why : rd_kafka_err2str(rd_kafka_topic_result_error(r[i])));
            }
    }
}

/* Every topic action of kind failed for the same reason (the request failed). */
static void all_failed(struct rill_apply_plan *p, int kind, const char *verb, const char *why)
{
    for (size_t j = 0; j < p->n; j++)
        if (p->v[j].kind == kind) {
            char what[400];
            snprintf(what, sizeof what, verb, p->v[j].topic);
            failed(&p->v[j], what, why);
        }
}

static size_t count_kind(const struct rill_apply_plan *p, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->v[i].kind == kind;
    return n;
}

static void create_topics(rill_apply_conn_t *c, struct rill_apply_plan *p)
{
    static const char verb[] = "create topic '%s'";
    size_t n = count_kind(p, RILL_ACT_CREATE_TOPIC), k = 0;
    if (!n)
        return;
    rd_kafka_NewTopic_t **nt = calloc(n, sizeof *nt);
    if (!nt) {
        all_failed(p, RILL_ACT_CREATE_TOPIC, verb, "out of memory");
        return;
    }
    char e[RILL_ERRSTR_SIZE];
    for (size_t i = 0; i < p->n; i++) {
        struct rill_action *a = &p->v[i];
        if (a->kind != RILL_ACT_CREATE_TOPIC)
            continue;
        rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(a->topic, a->partitions, a->replication, e,
                                                       sizeof e);
        for (size_t j = 0; t && j < a->configs.n; j++)
            if (rd_kafka_NewTopic_set_config(t, a->configs.v[j].key, a->configs.v[j].value)) {
                snprintf(e, sizeof e, "invalid config '%s'", a->configs.v[j].key);
                rd_kafka_NewTopic_destroy(t);
                t = NULL;
            }
        if (t) {
            nt[k++] = t;
        } else {
            char what[400];
            snprintf(what, sizeof what, verb, a->topic);
            failed(a, what, e);
        }
    }
    if (k) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(c->kc.rk);
        rd_kafka_AdminOptions_t *o = admin_options(c, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_CreateTopics(c->kc.rk, nt, k, o, q);
        rd_kafka_event_t *ev = admin_wait(q);
        if (!ev || rd_kafka_event_error(ev)) {
            all_failed(p, RILL_ACT_CREATE_TOPIC, verb,
                       ev ? rd_kafka_event_error_string(ev) : "timed out");
        } else {
            size_t nr;
            const rd_kafka_topic_result_t **r =
                rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &nr);
            topic_results(p, RILL_ACT_CREATE_TOPIC, r, nr, verb);
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_NewTopic_destroy_array(nt, k);
    free(nt);
}

static void add_partitions(rill_apply_conn_t *c, struct rill_apply_plan *p)
{
    static const char verb[] = "add partitions to topic '%s'";
    size_t n = count_kind(p, RILL_ACT_ADD_PARTITIONS), k = 0;
    if (!n)
        return;
    rd_kafka_NewPartitions_t **np = calloc(n, sizeof *np);
    if (!np) {
        all_failed(p, RILL_ACT_ADD_PARTITIONS, verb, "out of memory");
        return;
    }
    char e[RILL_ERRSTR_SIZE];
    for (size_t i = 0; i < p->n; i++) {
        struct rill_action *a = &p->v[i];
        if (a->kind != RILL_ACT_ADD_PARTITIONS)
            continue;
        if (!(np[k] = rd_kafka_NewPartitions_new(a->topic, (size_t)a->partitions, e, sizeof e))) {
            char what[400];
            snprintf(what, sizeof what, verb, a->topic);
            failed(a, what, e);
        } else {
            k++;
        }
    }
    if (k) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(c->kc.rk);
        rd_kafka_AdminOptions_t *o = admin_options(c, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
        rd_kafka_CreatePartitions(c->kc.rk, np, k, o, q);
        rd_kafka_event_t *ev = admin_wait(q);
        if (!ev || rd_kafka_event_error(ev)) {
            all_failed(p, RILL_ACT_ADD_PARTITIONS, verb,
                       ev ? rd_kafka_event_error_string(ev) : "timed out");
        } else {
            size_t nr;
            const rd_kafka_topic_result_t **r = rd_kafka_CreatePartitions_result_topics(
                rd_kafka_event_CreatePartitions_result(ev), &nr);
            topic_results(p, RILL_ACT_ADD_PARTITIONS, r, nr, verb);
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_NewPartitions_destroy_array(np, k);
    free(np);
}

static void alter_configs(rill_apply_conn_t *c, struct rill_apply_plan *p)
{
    static const char verb[] = "alter the configs of topic '%s'";
    size_t n = count_kind(p, RILL_ACT_ALTER_CONFIGS), k = 0;
    if (!n)
        return;
    rd_kafka_ConfigResource_t **res = calloc(n, sizeof *res);
    if (!res) {
        all_failed(p, RILL_ACT_ALTER_CONFIGS, verb, "out of memory");
        return;
    }
    for (size_t i = 0; i < p->n; i++) {
        struct rill_action *a = &p->v[i];
        if (a->kind != RILL_ACT_ALTER_CONFIGS)
            continue;
        res[k] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, a->topic);
        for (size_t j = 0; j < a->configs.n; j++)
            rd_kafka_ConfigResource_set_config(res[k], a->configs.v[j].key, a->configs.v[j].value);
        k++;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->kc.rk);
    rd_kafka_AdminOptions_t *o = admin_options(c, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(c->kc.rk, res, k, o, q);
    rd_kafka_event_t *ev = admin_wait(q);
    if (!ev || rd_kafka_event_error(ev)) {
        all_failed(p, RILL_ACT_ALTER_CONFIGS, verb,
                   ev ? rd_kafka_event_error_string(ev) : "timed out");
    } else {
        size_t nr;
        const rd_kafka_ConfigResource_t **r =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &nr);
        for (size_t i = 0; i < nr; i++) {
            if (!rd_kafka_ConfigResource_error(r[i]))
                continue;
            const char *name = rd_kafka_ConfigResource_name(r[i]);
            const char *why = rd_kafka_ConfigResource_error_string(r[i]);
            for (size_t j = 0; j < p->n; j++)
                if (p->v[j].kind == RILL_ACT_ALTER_CONFIGS && !strcmp(p->v[j].topic, name)) {
                    char what[400];
                    snprintf(what, sizeof what, verb, name);
                    failed(&p->v[j], what,
                           why ? why : rd_kafka_err2str(rd_kafka_ConfigResource_error(r[i])));
                }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy_array(res, k);
    free(res);
}

/* "add acl User:x READ topic t" without the leading "add acl ". */
static const char *acl_text(const struct rill_action *a)
{
    return a->line + strlen("add acl ");
}

static void acl_failed(struct rill_action *a, const char *why)
{
    char what[600];
    snprintf(what, sizeof what, "add acl %s", acl_text(a));
    failed(a, what, why);
}

/* Topic and group ACLs, through librdkafka. */
static void create_acls(rill_apply_conn_t *c, struct rill_apply_plan *p)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->v[i].kind == RILL_ACT_ADD_ACL && p->v[i].acl.resource != RILL_ACL_TRANSACTIONAL_ID;
    if (!n)
        return;
    rd_kafka_AclBinding_t **b = calloc(n, sizeof *b);
    size_t *idx = calloc(n, sizeof *idx);
    char e[RILL_ERRSTR_SIZE];
    for (size_t i = 0; i < p->n; i++) {
        struct rill_action *a = &p->v[i];
        if (a->kind != RILL_ACT_ADD_ACL || a->acl.resource == RILL_ACL_TRANSACTIONAL_ID)
            continue;
        if (!b || !idx) {
            acl_failed(a, "out of memory");
            continue;
        }
        b[k] = rd_kafka_AclBinding_new((rd_kafka_ResourceType_t)a->acl.resource, a->acl.name,
                                       (rd_kafka_ResourcePatternType_t)a->acl.pattern,
                                       a->acl.principal, "*", (rd_kafka_AclOperation_t)a->acl.op,
                                       RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, e, sizeof e);
        if (b[k])
            idx[k++] = i;
        else
            acl_failed(a, e);
    }
    if (k) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(c->kc.rk);
        rd_kafka_AdminOptions_t *o = admin_options(c, RD_KAFKA_ADMIN_OP_CREATEACLS);
        rd_kafka_CreateAcls(c->kc.rk, b, k, o, q);
        rd_kafka_event_t *ev = admin_wait(q);
        size_t nr = 0;
        const rd_kafka_acl_result_t **r = NULL;
        if (ev && !rd_kafka_event_error(ev))
            r = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &nr);
        for (size_t j = 0; j < k; j++) {
            const rd_kafka_error_t *re = j < nr ? rd_kafka_acl_result_error(r[j]) : NULL;
            if (!ev || rd_kafka_event_error(ev))
                acl_failed(&p->v[idx[j]], ev ? rd_kafka_event_error_string(ev) : "timed out");
            else if (j >= nr)
                acl_failed(&p->v[idx[j]], "no answer for it");
            else if (re)
                acl_failed(&p->v[idx[j]], rd_kafka_error_string(re));
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_AclBinding_destroy_array(b, k);
    free(b);
    free(idx);
}

struct wire_result {
    struct rill_apply_plan *p;
    const size_t *idx;
};

static void wire_result_cb(void *opaque, size_t i, const char *error)
{
    struct wire_result *r = opaque;
    if (error)
        acl_failed(&r->p->v[r->idx[i]], error);
}

/* Transactional-id ACLs, through kwire. */
static void create_txn_acls(rill_apply_conn_t *c, struct rill_apply_plan *p)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < p->n; i++)
        n += p->v[i].kind == RILL_ACT_ADD_ACL && p->v[i].acl.resource == RILL_ACL_TRANSACTIONAL_ID;
    if (!n)
        return;
    struct rill_kwire_acl *acls = calloc(n, sizeof *acls);
    size_t *idx = calloc(n, sizeof *idx);
    char e[RILL_ERRSTR_SIZE];
    rill_err_t err = acls && idx ? wire(c, e, sizeof e) : RILL_ERR_NOMEM;
    if (err == RILL_ERR_NOMEM)
        snprintf(e, sizeof e, "out of memory");
    for (size_t i = 0; i < p->n; i++) {
        struct rill_action *a = &p->v[i];
        if (a->kind != RILL_ACT_ADD_ACL || a->acl.resource != RILL_ACL_TRANSACTIONAL_ID)
            continue;
        if (err) {
            acl_failed(a, e);
            continue;
        }
        acls[k] = (struct rill_kwire_acl){ a->acl.resource, a->acl.name, a->acl.pattern,
                                           a->acl.principal, "*", a->acl.op,
                                           RILL_KWIRE_PERMISSION_ALLOW };
        idx[k++] = i;
    }
    struct wire_result r = { p, idx };
    if (k && rill_kwire_create_acls(c->wire, acls, k, wire_result_cb, &r, e, sizeof e))
        for (size_t j = 0; j < k; j++)
            acl_failed(&p->v[idx[j]], e);
    free(acls);
    free(idx);
}

static int is_change(int kind)
{
    return kind == RILL_ACT_CREATE_TOPIC || kind == RILL_ACT_ADD_PARTITIONS ||
           kind == RILL_ACT_ALTER_CONFIGS || kind == RILL_ACT_ADD_ACL;
}

/* Changes the plan `now` still holds that p did not fail to make. */
static size_t pending(const struct rill_apply_plan *now, const struct rill_apply_plan *p)
{
    size_t n = 0;
    for (size_t i = 0; i < now->n; i++) {
        if (!is_change(now->v[i].kind))
            continue;
        int failed_before = 0;
        for (size_t j = 0; j < p->n && !failed_before; j++)
            failed_before = p->v[j].error[0] && !strcmp(p->v[j].line, now->v[i].line);
        n += !failed_before;
    }
    return n;
}

/* Kafka answers a change once its controller has it; the broker's own view
 * (metadata, configs, authorizer) follows a moment later. Waits, at most
 * SETTLE_MS, until the broker shows every change made, so that what runs
 * next (rill run, a client) finds them. */
static rill_err_t settle(rill_apply_conn_t *c, const struct rill_apply_want *w,
                         const struct rill_apply_plan *p, char *errstr, size_t errsz)
{
    int64_t deadline = rill_now_ms() + SETTLE_MS;
    for (;;) {
        struct rill_apply_have *h = NULL;
        struct rill_apply_plan *now = NULL;
        rill_err_t err = rill_apply_describe(c, w, &h, errstr, errsz);
        if (!err)
            err = rill_apply_plan(w, h, &now, errstr, errsz);
        size_t n = err ? 0 : pending(now, p);
        rill_apply_plan_free(now);
        rill_apply_have_free(h);
        if (err || !n)
            return err;
        if (rill_now_ms() >= deadline)
            return rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                        "the broker does not show %zu of the changes after %d s", n,
                        SETTLE_MS / 1000);
        struct timespec pause = { 0, 100 * 1000000 };
        nanosleep(&pause, NULL);
    }
}

rill_err_t rill_apply_execute(rill_apply_conn_t *c, const struct rill_apply_want *w,
                              struct rill_apply_plan *p, char *errstr, size_t errsz)
{
    if (p->refused)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                    "the plan has %zu error%s: nothing was changed", p->refused,
                    p->refused == 1 ? "" : "s");
    create_topics(c, p);
    add_partitions(c, p);
    alter_configs(c, p);
    create_acls(c, p);
    create_txn_acls(c, p);
    size_t nfailed = 0, nchanges = 0;
    for (size_t i = 0; i < p->n; i++) {
        nfailed += p->v[i].error[0] != '\0';
        nchanges += is_change(p->v[i].kind);
    }
    if (nfailed < nchanges) {
        rill_err_t err = settle(c, w, p, errstr, errsz);
        if (err)
            return err;
    }
    if (nfailed)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "%zu of %zu changes failed", nfailed,
                    nchanges);
    return RILL_OK;
}
