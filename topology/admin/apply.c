/*
 * apply.c - the pure half of apply.h: from a checked topology to the topics
 * and ACLs it needs (rill_apply_want()), and from those and the cluster's
 * state to a plan of printable actions (rill_apply_plan()). No Kafka here;
 * the broker half is apply_kafka.c.
 *
 * The ACLs of a Kafka user, all ALLOW for host "*", LITERAL unless said:
 *  - processor: READ on each input, WRITE on each output and DLQ, READ and
 *    WRITE on the changelog of each store it is granted, READ on its group
 *    <app>.<processor>; under exactly_once_v2 also WRITE and DESCRIBE on the
 *    transactional ids <app>.<processor>. (PREFIXED);
 *  - sink: READ on each input and on its group (`group:`, else <app>.<sink>:
 *    rill_sink_group());
 *  - client: WRITE on `writes`, READ on `reads` and on `group`.
 * The user is the `sasl.username` of the processor's or sink's own kafka:
 * map, else of the top-level one; clients name theirs. No CREATE, no cluster
 * ACLs, no wildcards.
 */
#include "topology/admin/apply.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topology/base/grow_int.h"

static rill_err_t oom(char *errstr, size_t errsz)
{
    return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
}


/* Adds s to l unless it is there already. */
static rill_err_t strlist_add(struct rill_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s))
            return RILL_OK;
    char **v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return RILL_ERR_NOMEM;
    l->v = v;
    if (!(l->v[l->n] = strdup(s)))
        return RILL_ERR_NOMEM;
    l->n++;
    return RILL_OK;
}

static void strlist_clear(struct rill_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void acl_clear(struct rill_acl *a)
{
    free(a->principal);
    free(a->name);
}

static int acl_equal(const struct rill_acl *a, const struct rill_acl *b)
{
    return a->resource == b->resource && a->pattern == b->pattern && a->op == b->op &&
           !strcmp(a->principal, b->principal) && !strcmp(a->name, b->name);
}

/* ---- step 1: what the topology wants ------------------------------------------ */

struct wctx {
    const struct rill_topology *t;
    struct rill_apply_want *w;
    size_t tcap, acap;
    int oom;
};

static struct rill_want_topic *want_find(struct rill_apply_want *w, const char *name)
{
    for (size_t i = 0; i < w->ntopics; i++)
        if (!strcmp(w->topics[i].name, name))
            return &w->topics[i];
    return NULL;
}

/* The wanted topic name, added with role when new; NULL when out of memory. */
static struct rill_want_topic *want_topic(struct wctx *c, const char *name, int role)
{
    struct rill_want_topic *wt = want_find(c->w, name);
    if (wt)
        return wt;
    if (rill_grow(&c->w->topics, c->w->ntopics, &c->tcap, sizeof *c->w->topics, 16)) {
        c->oom = 1;
        return NULL;
    }
    wt = &c->w->topics[c->w->ntopics];
    memset(wt, 0, sizeof *wt);
    wt->role = role;
    wt->partitions = -1;
    wt->replication = -1;
    if (!(wt->name = strdup(name))) {
        c->oom = 1;
        return NULL;
    }
    c->w->ntopics++;
    return wt;
}

/* A derived topic (changelog or DLQ) that follows the given inputs. */
static void want_derived(struct wctx *c, const char *name, int role,
                         const struct rill_strlist *inputs, size_t only)
{
    struct rill_want_topic *wt = want_topic(c, name, role);
    if (!wt)
        return;
    wt->role = role;
    for (size_t i = 0; i < inputs->n; i++)
        if ((only == (size_t)-1 || i == only) && strlist_add(&wt->follows, inputs->v[i]) != RILL_OK)
            c->oom = 1;
}

static void want_acl(struct wctx *c, const char *principal, int resource, const char *name,
                     int pattern, int op)
{
    struct rill_acl a = { (char *)principal, resource, (char *)name, pattern, op };
    for (size_t i = 0; i < c->w->nacls; i++)
        if (acl_equal(&c->w->acls[i], &a))
            return;
    if (rill_grow(&c->w->acls, c->w->nacls, &c->acap, sizeof *c->w->acls, 32)) {
        c->oom = 1;
        return;
    }
    struct rill_acl *n = &c->w->acls[c->w->nacls];
    n->resource = resource;
    n->pattern = pattern;
    n->op = op;
    n->principal = strdup(principal);
    n->name = strdup(name);
    if (!n->principal || !n->name) {
        acl_clear(n);
        c->oom = 1;
        return;
    }
    c->w->nacls++;
}

/* The changelog topic of store, into buf; NULL when it has none. */
static const char *changelog_of(const struct rill_topology *t, const char *store, char *buf,
                                size_t size)
{
    const struct rill_store_conf *sc = rill_topology_store(t, store);
    if (sc && !sc->changelog)
        return NULL;
    /* buf is longer than any topic name Kafka accepts (249): a name that
     * does not fit is refused by the broker, by its truncated prefix. */
    (void)rill_topology_changelog(t, store, buf, size);
    return buf;
}

static void principal_of(char *buf, size_t size, const char *user)
{
    snprintf(buf, size, "User:%s", user);
}

/* The Kafka user of a processor or sink: its own sasl.username, else the
 * top-level one; NULL when neither says. */
static const char *user_of(const struct rill_topology *t, const struct rill_kvlist *own)
{
    const char *u = rill_kvlist_get(own, "sasl.username");
    return u ? u : rill_kvlist_get(&t->kafka, "sasl.username");
}

static void want_skip(struct wctx *c, const char *kind, const char *name)
{
    char **v = realloc(c->w->skipped, (c->w->nskipped + 1) * sizeof *v);
    if (!v) {
        c->oom = 1;
        return;
    }
    c->w->skipped = v;
    size_t n = strlen(kind) + strlen(name) + 4;
    if (!(v[c->w->nskipped] = malloc(n))) {
        c->oom = 1;
        return;
    }
    snprintf(v[c->w->nskipped++], n, "%s '%s'", kind, name);
}

static void want_proc_acls(struct wctx *c, const struct rill_proc_conf *p)
{
    const struct rill_topology *t = c->t;
    const char *user = user_of(t, &p->kafka);
    if (!user) {
        want_skip(c, "processor", p->name);
        return;
    }
    char pr[300], name[600];
    principal_of(pr, sizeof pr, user);
    for (size_t i = 0; i < p->inputs.n; i++)
        want_acl(c, pr, RILL_ACL_TOPIC, p->inputs.v[i], RILL_ACL_LITERAL, RILL_ACL_READ);
    for (size_t i = 0; i < p->outputs.n; i++)
        want_acl(c, pr, RILL_ACL_TOPIC, p->outputs.v[i], RILL_ACL_LITERAL, RILL_ACL_WRITE);
    if (p->dlq)
        want_acl(c, pr, RILL_ACL_TOPIC, p->dlq, RILL_ACL_LITERAL, RILL_ACL_WRITE);
    for (size_t i = 0; !p->dlq && i < p->inputs.n; i++) {
        snprintf(name, sizeof name, "%s.dlq", p->inputs.v[i]);
        want_acl(c, pr, RILL_ACL_TOPIC, name, RILL_ACL_LITERAL, RILL_ACL_WRITE);
    }
    for (size_t i = 0; i < p->stores.n; i++) {
        const char *cl = changelog_of(t, p->stores.v[i], name, sizeof name);
        if (!cl)
            continue;
        want_acl(c, pr, RILL_ACL_TOPIC, cl, RILL_ACL_LITERAL, RILL_ACL_READ);
        want_acl(c, pr, RILL_ACL_TOPIC, cl, RILL_ACL_LITERAL, RILL_ACL_WRITE);
    }
    snprintf(name, sizeof name, "%s.%s", t->application_id, p->name);
    want_acl(c, pr, RILL_ACL_GROUP, name, RILL_ACL_LITERAL, RILL_ACL_READ);
    if (t->guarantee == RILL_EXACTLY_ONCE_V2) {
        snprintf(name, sizeof name, "%s.%s.", t->application_id, p->name);
        want_acl(c, pr, RILL_ACL_TRANSACTIONAL_ID, name, RILL_ACL_PREFIXED, RILL_ACL_WRITE);
        want_acl(c, pr, RILL_ACL_TRANSACTIONAL_ID, name, RILL_ACL_PREFIXED, RILL_ACL_DESCRIBE);
    }
}

rill_err_t rill_apply_want(const struct rill_topology *t, struct rill_apply_want **out,
                           char *errstr, size_t errsz)
{
    struct wctx c = { .t = t };
    *out = NULL;
    if (!(c.w = calloc(1, sizeof *c.w)))
        return oom(errstr, errsz);
    for (size_t i = 0; i < t->ntopics && !c.oom; i++) {
        const struct rill_topic_conf *tc = &t->topics[i];
        struct rill_want_topic *wt = want_topic(&c, tc->name, RILL_TOPIC_DECLARED);
        if (!wt)
            break;
        wt->declared = 1;
        wt->partitions = tc->partitions;
        wt->replication = tc->replication;
        for (size_t j = 0; j < tc->configs.n; j++)
            if (rill_kvlist_set(&wt->configs, tc->configs.v[j].key, tc->configs.v[j].value) != RILL_OK)
                c.oom = 1;
    }
    char name[600];
    for (size_t i = 0; i < t->nprocs && !c.oom; i++) {
        const struct rill_proc_conf *p = &t->procs[i];
        for (size_t s = 0; s < p->stores.n; s++) {
            const char *cl = changelog_of(t, p->stores.v[s], name, sizeof name);
            if (cl)
                want_derived(&c, cl, RILL_TOPIC_CHANGELOG, &p->inputs, (size_t)-1);
        }
        if (p->dlq)
            want_derived(&c, p->dlq, RILL_TOPIC_DLQ, &p->inputs, (size_t)-1);
        for (size_t j = 0; !p->dlq && j < p->inputs.n; j++) {
            snprintf(name, sizeof name, "%s.dlq", p->inputs.v[j]);
            want_derived(&c, name, RILL_TOPIC_DLQ, &p->inputs, j);
        }
    }
    /* Defaults by role, where the YAML says nothing. */
    for (size_t i = 0; i < c.w->ntopics && !c.oom; i++) {
        struct rill_want_topic *wt = &c.w->topics[i];
        const char *policy = rill_kvlist_get(&wt->configs, "cleanup.policy");
        rill_err_t r = RILL_OK;
        if (wt->role == RILL_TOPIC_CHANGELOG && !policy)
            r = rill_kvlist_set(&wt->configs, "cleanup.policy", "compact");
        else if (wt->role != RILL_TOPIC_CHANGELOG && !rill_kvlist_get(&wt->configs, "retention.ms") &&
                 !(policy && !strcmp(policy, "compact")))
            r = rill_kvlist_set(&wt->configs, "retention.ms",
                       wt->role == RILL_TOPIC_DLQ ? RILL_APPLY_DLQ_RETENTION_MS
                                                  : RILL_APPLY_EVENT_RETENTION_MS);
        if (r != RILL_OK)
            c.oom = 1;
    }
    for (size_t i = 0; i < t->nprocs && !c.oom; i++)
        want_proc_acls(&c, &t->procs[i]);
    for (size_t i = 0; i < t->nsinks && !c.oom; i++) {
        const struct rill_sink_conf *s = &t->sinks[i];
        const char *user = user_of(t, &s->kafka);
        if (!user) {
            want_skip(&c, "sink", s->name);
            continue;
        }
        char pr[300];
        principal_of(pr, sizeof pr, user);
        for (size_t j = 0; j < s->inputs.n; j++)
            want_acl(&c, pr, RILL_ACL_TOPIC, s->inputs.v[j], RILL_ACL_LITERAL, RILL_ACL_READ);
        /* Sized so that the default name always fits. */
        size_t gsz = strlen(t->application_id) + strlen(s->name) + 2;
        char *gbuf = malloc(gsz);
        const char *group = gbuf ? rill_sink_group(t, s, gbuf, gsz) : NULL;
        if (group)
            want_acl(&c, pr, RILL_ACL_GROUP, group, RILL_ACL_LITERAL, RILL_ACL_READ);
        else
            c.oom = 1;
        free(gbuf);
    }
    for (size_t i = 0; i < t->nclients && !c.oom; i++) {
        const struct rill_client_conf *cl = &t->clients[i];
        char pr[300];
        principal_of(pr, sizeof pr, cl->user);
        for (size_t j = 0; j < cl->writes.n; j++)
            want_acl(&c, pr, RILL_ACL_TOPIC, cl->writes.v[j], RILL_ACL_LITERAL, RILL_ACL_WRITE);
        for (size_t j = 0; j < cl->reads.n; j++)
            want_acl(&c, pr, RILL_ACL_TOPIC, cl->reads.v[j], RILL_ACL_LITERAL, RILL_ACL_READ);
        if (cl->group)
            want_acl(&c, pr, RILL_ACL_GROUP, cl->group, RILL_ACL_LITERAL, RILL_ACL_READ);
    }
    if (c.oom) {
        rill_apply_want_free(c.w);
        return oom(errstr, errsz);
    }
    *out = c.w;
    return RILL_OK;
}

void rill_apply_want_free(struct rill_apply_want *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->ntopics; i++) {
        free(w->topics[i].name);
        strlist_clear(&w->topics[i].follows);
        rill_kvlist_clear(&w->topics[i].configs);
    }
    free(w->topics);
    for (size_t i = 0; i < w->nacls; i++)
        acl_clear(&w->acls[i]);
    free(w->acls);
    for (size_t i = 0; i < w->nskipped; i++)
        free(w->skipped[i]);
    free(w->skipped);
    free(w);
}

void rill_apply_have_free(struct rill_apply_have *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->ntopics; i++) {
        struct rill_have_topic *ht = &h->topics[i];
        for (size_t j = 0; j < ht->nconfigs; j++) {
            free(ht->configs[j].name);
            free(ht->configs[j].value);
        }
        free(ht->configs);
        free(ht->name);
    }
    free(h->topics);
    for (size_t i = 0; i < h->nacls; i++)
        acl_clear(&h->acls[i]);
    free(h->acls);
    free(h);
}

/* ---- step 3: the plan ------------------------------------------------------------ */

struct pctx {
    const struct rill_apply_want *w;
    const struct rill_apply_have *have;
    struct rill_apply_plan *p;
    size_t cap;
    int oom;
};

static const struct rill_have_topic *have_topic(const struct rill_apply_have *h, const char *name)
{
    for (size_t i = 0; h && i < h->ntopics; i++)
        if (!strcmp(h->topics[i].name, name))
            return &h->topics[i];
    return NULL;
}

static const struct rill_have_config *have_config(const struct rill_have_topic *ht,
                                                  const char *name)
{
    for (size_t i = 0; i < ht->nconfigs; i++)
        if (!strcmp(ht->configs[i].name, name))
            return &ht->configs[i];
    return NULL;
}

/* A new action of kind, its line printed from fmt; NULL when out of memory. */
static struct rill_action *act(struct pctx *c, int kind, const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static struct rill_action *act(struct pctx *c, int kind, const char *topic, const char *fmt, ...)
{
    if (rill_grow(&c->p->v, c->p->n, &c->cap, sizeof *c->p->v, 32)) {
        c->oom = 1;
        return NULL;
    }
    struct rill_action *a = &c->p->v[c->p->n];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->replication = -1;
    va_list ap;
    va_start(ap, fmt);
    int r = vasprintf(&a->line, fmt, ap);
    va_end(ap);
    if (r < 0 || (topic && !(a->topic = strdup(topic)))) {
        if (r >= 0)
            free(a->line);
        c->oom = 1;
        return NULL;
    }
    c->p->n++;
    if (kind == RILL_ACT_REFUSE)
        c->p->refused++;
    return a;
}

/* Appends " key=value" for each of l to *line. */
static rill_err_t line_add_configs(char **line, const struct rill_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        char *s;
        if (asprintf(&s, "%s %s=%s", *line, l->v[i].key, l->v[i].value) < 0)
            return RILL_ERR_NOMEM;
        free(*line);
        *line = s;
    }
    return RILL_OK;
}

/* The partition count topic f has or will have after this plan. */
static int32_t count_of(const struct pctx *c, const char *f)
{
    for (size_t i = 0; i < c->w->ntopics; i++)
        if (!strcmp(c->w->topics[i].name, f) && c->w->topics[i].partitions > 0)
            return c->w->topics[i].partitions;
    const struct rill_have_topic *hf = have_topic(c->have, f);
    return hf ? hf->partitions : RILL_APPLY_DEFAULT_PARTITIONS;
}

static const char *resource_name(int resource)
{
    return resource == RILL_ACL_TOPIC   ? "topic"
           : resource == RILL_ACL_GROUP ? "group"
                                        : "transactional-id";
}

static const char *op_name(int op)
{
    return op == RILL_ACL_READ ? "READ" : op == RILL_ACL_WRITE ? "WRITE" : "DESCRIBE";
}

static void plan_topic(struct pctx *c, const struct rill_want_topic *wt)
{
    const struct rill_have_topic *ht = have_topic(c->have, wt->name);
    int32_t want;
    int exact = wt->partitions > 0;
    if (exact)
        want = wt->partitions;
    else if (wt->follows.n) {
        want = 0;
        for (size_t i = 0; i < wt->follows.n; i++)
            if (count_of(c, wt->follows.v[i]) > want)
                want = count_of(c, wt->follows.v[i]);
    } else {
        want = ht ? ht->partitions : RILL_APPLY_DEFAULT_PARTITIONS;
    }

    if (!ht) {
        char repl[32] = "";
        if (wt->replication > 0)
            snprintf(repl, sizeof repl, " replication=%d", (int)wt->replication);
        struct rill_action *a = act(c, RILL_ACT_CREATE_TOPIC, wt->name,
                                    "create topic %s partitions=%d%s", wt->name, (int)want, repl);
        if (!a)
            return;
        a->partitions = want;
        a->replication = wt->replication;
        for (size_t i = 0; i < wt->configs.n; i++)
            if (rill_kvlist_set(&a->configs, wt->configs.v[i].key, wt->configs.v[i].value) != RILL_OK)
                c->oom = 1;
        if (line_add_configs(&a->line, &wt->configs) != RILL_OK)
            c->oom = 1;
        return;
    }

    int changed = 0;
    if (wt->replication > 0 && ht->replication != wt->replication) {
        act(c, RILL_ACT_REFUSE, wt->name,
            "error: topic '%s' has replication factor %d, the topology asks for %d (rill apply "
            "does not move replicas)",
            wt->name, (int)ht->replication, (int)wt->replication);
        changed = 1;
    }
    if (exact && ht->partitions > want) {
        act(c, RILL_ACT_REFUSE, wt->name,
            "error: topic '%s' has %d partitions, the topology asks for %d (kafka cannot remove "
            "partitions)",
            wt->name, (int)ht->partitions, (int)want);
        changed = 1;
    } else if (ht->partitions < want) {
        struct rill_action *a = act(c, RILL_ACT_ADD_PARTITIONS, wt->name,
                                    "alter topic %s partitions=%d (was %d)", wt->name, (int)want,
                                    (int)ht->partitions);
        if (a)
            a->partitions = want;
        changed = 1;
    }

    /* Configs: AlterConfigs (the only kind librdkafka 2.0.2 has) replaces
     * every dynamic config of the topic, so the set to send is the topic's
     * dynamic configs with the wanted values over them. */
    char *diff = strdup("");
    struct rill_kvlist send = { 0 };
    const char *hidden = NULL;
    int differs = 0;
    if (!diff)
        c->oom = 1;
    for (size_t i = 0; diff && i < wt->configs.n; i++) {
        const struct rill_kv *kv = &wt->configs.v[i];
        const struct rill_have_config *hc = have_config(ht, kv->key);
        if (hc && hc->value && !strcmp(hc->value, kv->value))
            continue;
        char *s;
        if (asprintf(&s, "%s %s=%s (was %s)", diff, kv->key, kv->value,
                     !hc ? "unset" : hc->value ? hc->value : "hidden") < 0) {
            c->oom = 1;
            break;
        }
        free(diff);
        diff = s;
        differs = 1;
    }
    for (size_t i = 0; differs && i < ht->nconfigs; i++) {
        const struct rill_have_config *hc = &ht->configs[i];
        if (!hc->dynamic || rill_kvlist_get(&wt->configs, hc->name))
            continue;
        if (!hc->value)
            hidden = hc->name;
        else if (rill_kvlist_set(&send, hc->name, hc->value) != RILL_OK)
            c->oom = 1;
    }
    for (size_t i = 0; differs && i < wt->configs.n; i++)
        if (rill_kvlist_set(&send, wt->configs.v[i].key, wt->configs.v[i].value) != RILL_OK)
            c->oom = 1;
    if (differs && hidden) {
        act(c, RILL_ACT_REFUSE, wt->name,
            "error: cannot alter topic '%s': its config '%s' is hidden by the broker and "
            "altering would reset it",
            wt->name, hidden);
        changed = 1;
    } else if (differs) {
        struct rill_action *a = act(c, RILL_ACT_ALTER_CONFIGS, wt->name, "alter topic %s%s",
                                    wt->name, diff);
        if (a) {
            a->configs = send;
            send = (struct rill_kvlist){ 0 };
        }
        changed = 1;
    }
    rill_kvlist_clear(&send);
    free(diff);
    if (!changed)
        act(c, RILL_ACT_TOPIC_EXISTS, wt->name, "exists topic %s partitions=%d", wt->name,
            (int)ht->partitions);
}

static void plan_acl(struct pctx *c, const struct rill_acl *acl)
{
    int exists = 0;
    for (size_t i = 0; c->have && i < c->have->nacls && !exists; i++)
        exists = acl_equal(&c->have->acls[i], acl);
    struct rill_action *a =
        act(c, exists ? RILL_ACT_ACL_EXISTS : RILL_ACT_ADD_ACL, NULL, "%s acl %s %s %s %s%s",
            exists ? "exists" : "add", acl->principal, op_name(acl->op),
            resource_name(acl->resource), acl->name,
            acl->pattern == RILL_ACL_PREFIXED ? " (prefixed)" : "");
    if (!a)
        return;
    a->acl = *acl;
    a->acl.principal = strdup(acl->principal);
    a->acl.name = strdup(acl->name);
    if (!a->acl.principal || !a->acl.name)
        c->oom = 1;
}

rill_err_t rill_apply_plan(const struct rill_apply_want *w, const struct rill_apply_have *have,
                           struct rill_apply_plan **out, char *errstr, size_t errsz)
{
    struct pctx c = { .w = w, .have = have };
    *out = NULL;
    if (!(c.p = calloc(1, sizeof *c.p)))
        return oom(errstr, errsz);
    for (size_t i = 0; i < w->ntopics && !c.oom; i++)
        plan_topic(&c, &w->topics[i]);
    for (size_t i = 0; i < w->nskipped && !c.oom; i++)
        act(&c, RILL_ACT_SKIP_ACLS, NULL,
            "skip acls for %s: no sasl.username in its kafka: map or the top-level one",
            w->skipped[i]);
    for (size_t i = 0; i < w->nacls && !c.oom; i++)
        plan_acl(&c, &w->acls[i]);
    if (c.oom) {
        rill_apply_plan_free(c.p);
        return oom(errstr, errsz);
    }
    *out = c.p;
    return RILL_OK;
}

void rill_apply_plan_free(struct rill_apply_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        struct rill_action *a = &p->v[i];
        free(a->topic);
        rill_kvlist_clear(&a->configs);
        acl_clear(&a->acl);
        free(a->line);
    }
    free(p->v);
    free(p);
}

/* ---- client settings -------------------------------------------------------------- */

