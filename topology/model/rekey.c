/*
 * rekey.c - re-keying by rewriting the loaded topology (config.h): a
 * processor P with `rekey: {by: FIELD}` becomes two, as a Kafka Streams
 * sub-topology split does:
 *
 *   P-rekey (type `rekey`, processors/rekey): reads P's input, forwards each
 *           record unchanged but keyed by FIELD to the internal topic
 *           <application.id>-P-repartition (partitioned by the new key);
 *   P:      reads that topic instead of its input.
 *
 * Both run as P's Kafka user (P-rekey gets a copy of P's kafka: map), so
 * `rill apply` creates the repartition topic and grants that user what both
 * halves need; each half is exactly-once on its own (P-rekey's transaction
 * commits its outputs with its input offsets, P reads read_committed), which
 * is how the re-keyed records reach P exactly once. P's rejects keep going to
 * its input's DLQ. The repartition topic has `partitions:` of rekey, or the
 * input's count. A processor with several inputs (a stream_join) gets one
 * rekey processor P-rekey-<input> and one topic <app>-P-<input>-repartition
 * per input, all keyed by the same FIELD and with the same partition count
 * (the largest input's, or `partitions:`), so they are co-partitioned; its
 * order of inputs is kept (left stays left). It needs a `dlq:` of its own,
 * and an input its config names (a table_join's `table:`) cannot be
 * re-keyed this way.
 */
#include "topology/model/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *joined(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static int strlist_one(struct rill_strlist *l, char *s, int line, int col)
{
    l->v = calloc(1, sizeof *l->v);
    if (!l->v || !s) {
        free(l->v);
        free(s);
        l->v = NULL;
        return -1;
    }
    l->v[0] = s;
    l->n = 1;
    l->line = line;
    l->col = col;
    return 0;
}

static int kv_copy(struct rill_kvlist *to, const struct rill_kvlist *from)
{
    for (size_t i = 0; i < from->n; i++) {
        if (rill_kvlist_set(to, from->v[i].key, from->v[i].value) != RILL_OK)
            return -1;
        to->v[to->n - 1].line = from->v[i].line;
        to->v[to->n - 1].col = from->v[i].col;
    }
    return 0;
}

/* The name of input k's repartition topic (one input: <app>-P-repartition,
 * several: <app>-P-<input>-repartition) or of its rekey processor
 * (P-rekey, P-rekey-<input>); NULL without memory. */
static char *half_name(const struct rill_topology *t, const struct rill_proc_conf *p, size_t k,
                       int topic)
{
    const char *in = p->inputs.v[k];
    int many = p->inputs.n > 1;
    char *a = topic ? joined(t->application_id, "-", p->name) : joined(p->name, "-rekey", "");
    char *b = a && many ? joined(a, "-", in) : a;
    if (b != a)
        free(a);
    char *c = b && topic ? joined(b, "-repartition", "") : b;
    if (c != b)
        free(b);
    return c;
}

/* Re-keys input k of procs[i] through repart (n partitions): a `rekey`
 * processor in front writing to it, procs[i] reading it. */
static rill_err_t split_input(struct rill_topology *t, size_t i, size_t k, const char *by,
                              const struct rill_kv *at, long n, int16_t replication)
{
    struct rill_proc_conf *p = &t->procs[i];
    char *repart = half_name(t, p, k, 1), *rname = half_name(t, p, k, 0);
    struct rill_topic_conf *tops = repart && rname
                                       ? realloc(t->topics, (t->ntopics + 1) * sizeof *tops)
                                       : NULL;
    if (tops)
        t->topics = tops;
    struct rill_proc_conf *procs = tops ? realloc(t->procs, (t->nprocs + 1) * sizeof *procs)
                                        : NULL;
    if (!procs) {
        free(repart);
        free(rname);
        return RILL_ERR_NOMEM;
    }
    t->procs = procs;
    p = &t->procs[i];
    t->topics[t->ntopics++] = (struct rill_topic_conf){
        .name = repart, .partitions = (int32_t)n, .replication = replication,
        .line = at->line, .col = at->col,
    };
    /* P-rekey: P's input, its user, its DLQ; keyed by `by` into the topic */
    struct rill_proc_conf *r = &t->procs[t->nprocs];
    *r = (struct rill_proc_conf){ .line = p->line, .col = p->col, .name = rname };
    t->nprocs++;
    if (!(r->type = strdup("rekey")) ||
        strlist_one(&r->inputs, strdup(p->inputs.v[k]), p->inputs.line, p->inputs.col) ||
        strlist_one(&r->outputs, strdup(repart), at->line, at->col) ||
        !(r->dlq = p->dlq ? strdup(p->dlq) : joined(p->inputs.v[k], ".dlq", "")) ||
        rill_kvlist_set(&r->config, "by", by) != RILL_OK || kv_copy(&r->kafka, &p->kafka))
        return RILL_ERR_NOMEM;
    r->config.v[0].line = at->line;
    r->config.v[0].col = at->col;
    /* P reads the topic */
    char *in_name = p->inputs.v[k];
    if (!(p->inputs.v[k] = strdup(repart))) {
        p->inputs.v[k] = in_name;
        return RILL_ERR_NOMEM;
    }
    free(in_name);
    return RILL_OK;
}

/* Splits procs[i]; returns RILL_OK or an error naming the rekey: entry. */
static rill_err_t split(struct rill_topology *t, size_t i, char *errstr, size_t errsz)
{
    struct rill_proc_conf *p = &t->procs[i];
    const struct rill_kv *at = p->rekey.v;
    const char *by = NULL, *parts = NULL;
    for (size_t k = 0; k < p->rekey.n; k++) {
        const struct rill_kv *kv = &p->rekey.v[k];
        if (!strcmp(kv->key, "by"))
            by = kv->value;
        else if (!strcmp(kv->key, "partitions"))
            parts = kv->value;
        else
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: unknown key '%s' in "
                             "rekey of processor '%s' (expected by, partitions)", t->path,
                             kv->line, kv->col, kv->key, p->name);
    }
    if (!by || !*by)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: rekey of processor '%s' "
                         "needs by: (a JSON path or header:NAME)", t->path, at->line, at->col,
                         p->name);
    if (p->inputs.n < 1)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: processor '%s' has no "
                         "input to re-key", t->path, at->line, at->col, p->name);
    if (p->inputs.n > 1 && !p->dlq)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: processor '%s' re-keys %zu "
                         "inputs: it needs dlq: (its inputs become repartition topics)",
                         t->path, at->line, at->col, p->name, p->inputs.n);
    /* an input the config names (a table_join's table:) would lose its name */
    for (size_t k = 0; k < p->inputs.n; k++)
        for (size_t c = 0; c < p->config.n && p->inputs.n > 1; c++)
            if (!strcmp(p->config.v[c].key, "table") &&
                !strcmp(p->config.v[c].value, p->inputs.v[k]))
                return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: processor '%s' "
                                 "names its input '%s' in config key '%s': re-keying would "
                                 "rename it (re-key the other input with a processor of type "
                                 "rekey)", t->path, at->line, at->col, p->name, p->inputs.v[k],
                                 p->config.v[c].key);
    /* every repartition topic gets the same count: co-partitioned */
    long n = -1;
    int16_t replication = -1;
    for (size_t k = 0; k < p->inputs.n; k++) {
        const struct rill_topic_conf *in = rill_topology_topic(t, p->inputs.v[k]);
        if (in && in->partitions > n)
            n = in->partitions, replication = in->replication;
    }
    if (parts) {
        char *end;
        n = strtol(parts, &end, 10);
        if (*end || n < 1 || n > 100000)
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: rekey partitions of "
                             "processor '%s' must be an integer from 1 to 100000", t->path,
                             at->line, at->col, p->name);
    }
    if (n < 1)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: rekey of processor '%s' "
                         "needs partitions: (its input '%s' declares none)", t->path, at->line,
                         at->col, p->name, p->inputs.v[0]);
    for (size_t k = 0; k < p->inputs.n; k++) {
        char *repart = half_name(t, p, k, 1);
        if (!repart)
            return RILL_ERR_NOMEM;
        for (size_t x = 0; x < t->ntopics; x++)
            if (!strcmp(t->topics[x].name, repart)) {
                rill_err_t e = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: topic '%s' "
                                         "is the repartition topic of processor '%s': it "
                                         "cannot be declared", t->path, t->topics[x].line,
                                         t->topics[x].col, repart, p->name);
                free(repart);
                return e;
            }
        free(repart);
    }
    /* P's rejects keep going to its input's DLQ (several inputs: its dlq:) */
    char *dlq = p->dlq ? NULL : joined(p->inputs.v[0], ".dlq", "");
    if (!p->dlq && !dlq)
        return RILL_ERR_NOMEM;
    for (size_t k = 0; k < t->procs[i].inputs.n; k++) {
        rill_err_t err = split_input(t, i, k, by, at, n, replication);
        if (err) {
            free(dlq);
            return err;
        }
    }
    if (dlq) {
        free(t->procs[i].dlq);
        t->procs[i].dlq = dlq;
    }
    return RILL_OK;
}

rill_err_t rill_topology_expand_rekeys(struct rill_topology *t, char *errstr, size_t errsz)
{
    size_t n = t->nprocs; /* the halves added are not split again */
    for (size_t i = 0; i < n; i++) {
        if (!t->procs[i].rekey.n)
            continue;
        rill_err_t err = split(t, i, errstr, errsz);
        if (err == RILL_ERR_NOMEM)
            return rill_errf(errstr, errsz, err, "%s: out of memory", t->path);
        if (err)
            return err;
    }
    return RILL_OK;
}
