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
 * input's count. A processor with several inputs cannot be re-keyed (its
 * sides would merge into one topic).
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
    if (p->inputs.n != 1)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: processor '%s' has %zu "
                         "inputs: only a processor with one input can be re-keyed", t->path,
                         at->line, at->col, p->name, p->inputs.n);
    const struct rill_topic_conf *in = rill_topology_topic(t, p->inputs.v[0]);
    long n = in ? in->partitions : -1;
    int16_t replication = in ? in->replication : -1; /* t->topics moves below */
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
    char *topic = joined(t->application_id, "-", p->name);
    char *repart = topic ? joined(topic, "-repartition", "") : NULL;
    free(topic);
    if (!repart)
        return RILL_ERR_NOMEM;
    for (size_t k = 0; k < t->ntopics; k++)
        if (!strcmp(t->topics[k].name, repart)) {
            rill_err_t e = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d:%d: topic '%s' is "
                                     "the repartition topic of processor '%s': it cannot be "
                                     "declared", t->path, t->topics[k].line, t->topics[k].col,
                                     repart, p->name);
            free(repart);
            return e;
        }
    struct rill_topic_conf *tops = realloc(t->topics, (t->ntopics + 1) * sizeof *tops);
    struct rill_proc_conf *procs = tops ? realloc(t->procs, (t->nprocs + 1) * sizeof *procs)
                                        : NULL;
    if (tops)
        t->topics = tops;
    if (!procs) {
        free(repart);
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
    *r = (struct rill_proc_conf){ .line = p->line, .col = p->col };
    t->nprocs++;
    char *dlq = p->dlq ? strdup(p->dlq) : joined(p->inputs.v[0], ".dlq", "");
    if (!(r->name = joined(p->name, "-rekey", "")) || !(r->type = strdup("rekey")) ||
        strlist_one(&r->inputs, strdup(p->inputs.v[0]), p->inputs.line, p->inputs.col) ||
        strlist_one(&r->outputs, strdup(repart), at->line, at->col) ||
        !(r->dlq = p->dlq ? strdup(p->dlq) : joined(p->inputs.v[0], ".dlq", "")) ||
        rill_kvlist_set(&r->config, "by", by) != RILL_OK || kv_copy(&r->kafka, &p->kafka) ||
        !dlq) {
        free(dlq);
        return RILL_ERR_NOMEM;
    }
    r->config.v[0].line = at->line;
    r->config.v[0].col = at->col;
    /* P reads the topic; its rejects still go to its input's DLQ */
    char *in_name = p->inputs.v[0];
    if (!(p->inputs.v[0] = strdup(repart))) {
        p->inputs.v[0] = in_name;
        free(dlq);
        return RILL_ERR_NOMEM;
    }
    free(in_name);
    free(p->dlq);
    p->dlq = dlq;
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
