/*
 * inspect_topics.c - topics as inspect.h describes them: one metadata
 * request (partitions, leaders, replicas, ISR), the watermarks of every
 * partition in two batched ListOffsets rounds, and the configs in one
 * DescribeConfigs request. Not here: printing (topology/cli/), groups.
 */
#include "topology/admin/inspect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_topic(const void *a, const void *b)
{
    return strcmp(((const struct rill_insp_topic *)a)->name,
                  ((const struct rill_insp_topic *)b)->name);
}

static int32_t *copy_ids(const int32_t *v, int n)
{
    int32_t *c = malloc((size_t)(n > 0 ? n : 1) * sizeof *c);
    if (c && n > 0)
        memcpy(c, v, (size_t)n * sizeof *c);
    return c;
}

/* t's partitions from the metadata topic mt; -1 when out of memory. */
static int take_meta(struct rill_insp_topic *t, const struct rd_kafka_metadata_topic *mt)
{
    t->err = mt->err;
    t->end = -1;
    t->replication = -1;
    if (mt->err && !mt->partition_cnt)
        return 0;
    t->err = 0; /* a partition's trouble (no leader) is the partition's */
    if (!(t->parts = calloc((size_t)(mt->partition_cnt ? mt->partition_cnt : 1), sizeof *t->parts)))
        return -1;
    for (int i = 0; i < mt->partition_cnt; i++) {
        const struct rd_kafka_metadata_partition *mp = &mt->partitions[i];
        struct rill_insp_part *p = &t->parts[t->nparts];
        p->id = mp->id;
        p->leader = mp->leader;
        p->err = mp->err;
        p->low = p->high = -1;
        p->replicas = copy_ids(mp->replicas, mp->replica_cnt);
        p->isr = copy_ids(mp->isrs, mp->isr_cnt);
        t->nparts++;
        if (!p->replicas || !p->isr)
            return -1;
        p->nreplicas = mp->replica_cnt;
        p->nisr = mp->isr_cnt;
    }
    /* metadata lists partitions in no promised order */
    for (int i = 1; i < t->nparts; i++)
        for (int j = i; j > 0 && t->parts[j - 1].id > t->parts[j].id; j--) {
            struct rill_insp_part x = t->parts[j];
            t->parts[j] = t->parts[j - 1];
            t->parts[j - 1] = x;
        }
    for (int i = 0; i < t->nparts; i++)
        if (t->parts[i].id == 0)
            t->replication = t->parts[i].nreplicas;
    return 0;
}

/* Why a named topic is not in the listing: the broker answers a request for
 * that topic alone with its error (unknown, or not authorized). */
static int one_topic_error(rill_inspect_t *in, const char *name)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(in->meta.rk, name, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    rd_kafka_resp_err_t e = rkt ? rd_kafka_metadata(in->meta.rk, 0, rkt, &md, RILL_INSPECT_TIMEOUT_MS)
                                : RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (e)
        err = e;
    else if (md->topic_cnt == 1 && md->topics[0].err)
        err = md->topics[0].err;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return err;
}

static rill_err_t add_watermarks(rill_inspect_t *in, struct rill_insp_topics *out, char *errstr,
                                 size_t errsz)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (size_t i = 0; i < out->n; i++)
        for (int k = 0; k < out->v[i].nparts; k++)
            rd_kafka_topic_partition_list_add(l, out->v[i].name, out->v[i].parts[k].id);
    int64_t *low = calloc((size_t)(l->cnt ? l->cnt : 1), sizeof *low);
    int64_t *high = calloc((size_t)(l->cnt ? l->cnt : 1), sizeof *high);
    int first = 0;
    rill_err_t err = !low || !high ? rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory")
                                   : insp_watermarks(in->meta.rk, l, low, high, &first, errstr,
                                                     errsz);
    for (size_t i = 0, k = 0; !err && i < out->n; i++) {
        struct rill_insp_topic *t = &out->v[i];
        t->end = t->nparts ? 0 : -1;
        for (int j = 0; j < t->nparts; j++, k++) {
            t->parts[j].low = low[k];
            t->parts[j].high = high[k];
            if (high[k] < 0 || t->end < 0)
                t->end = -1;
            else
                t->end += high[k];
        }
    }
    free(low);
    free(high);
    rd_kafka_topic_partition_list_destroy(l);
    return err;
}

static rill_err_t add_configs(rill_inspect_t *in, struct rill_insp_topics *out, char *errstr,
                              size_t errsz)
{
    const char **names = calloc(out->n ? out->n : 1, sizeof *names);
    size_t n = 0;
    if (!names)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < out->n; i++)
        if (!out->v[i].err)
            names[n++] = out->v[i].name;
    struct rill_topic_configs *tc = NULL;
    rill_err_t err = rill_kclient_describe_configs(&in->meta, names, n, RILL_INSPECT_TIMEOUT_MS,
                                                   &tc, errstr, errsz);
    for (size_t i = 0, k = 0; !err && i < out->n; i++)
        if (!out->v[i].err) {
            out->v[i].configs = tc[k]; /* moved: tc[k] is left empty */
            memset(&tc[k++], 0, sizeof *tc);
        }
    rill_topic_configs_free(tc, n);
    free(names);
    return err;
}

rill_err_t rill_inspect_topics(rill_inspect_t *in, const char *const *names, size_t n, int what,
                               struct rill_insp_topics *out, char *errstr, size_t errsz)
{
    memset(out, 0, sizeof *out);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(in->meta.rk, 1, NULL, &md, RILL_INSPECT_TIMEOUT_MS);
    if (kerr)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot list topics: %s (%s)",
                         rd_kafka_err2str(kerr), rd_kafka_err2name(kerr));
    size_t want = names ? n : (size_t)md->topic_cnt;
    rill_err_t err = RILL_OK;
    if (!(out->v = calloc(want ? want : 1, sizeof *out->v)))
        err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !err && i < want; i++) {
        const struct rd_kafka_metadata_topic *mt = names ? NULL : &md->topics[i];
        for (int j = 0; names && j < md->topic_cnt; j++)
            if (!strcmp(md->topics[j].topic, names[i]))
                mt = &md->topics[j];
        struct rill_insp_topic *t = &out->v[out->n++];
        t->name = strdup(names ? names[i] : mt->topic);
        t->end = -1;
        t->replication = -1;
        if (!t->name)
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        else if (!mt)
            t->err = one_topic_error(in, t->name);
        else if (take_meta(t, mt))
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    rd_kafka_metadata_destroy(md);
    if (!err && !names)
        qsort(out->v, out->n, sizeof *out->v, cmp_topic);
    if (!err && (what & RILL_INSP_WATERMARKS))
        err = add_watermarks(in, out, errstr, errsz);
    if (!err && (what & RILL_INSP_CONFIGS))
        err = add_configs(in, out, errstr, errsz);
    if (err)
        rill_insp_topics_free(out);
    return err;
}

void rill_insp_topics_free(struct rill_insp_topics *t)
{
    for (size_t i = 0; t->v && i < t->n; i++) {
        for (int k = 0; k < t->v[i].nparts; k++) {
            free(t->v[i].parts[k].replicas);
            free(t->v[i].parts[k].isr);
        }
        free(t->v[i].parts);
        free(t->v[i].name);
        struct rill_topic_configs *c = &t->v[i].configs;
        for (size_t j = 0; j < c->n; j++) {
            free(c->v[j].name);
            free(c->v[j].value);
        }
        free(c->v);
        free(c->topic);
        free(c->error);
    }
    free(t->v);
    memset(t, 0, sizeof *t);
}

const struct rill_insp_topic *rill_insp_topic_find(const struct rill_insp_topics *t,
                                                   const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->v[i].name, name))
            return &t->v[i];
    return NULL;
}

void rill_insp_topic_error(const struct rill_insp_topic *t, char *buf, size_t size)
{
    if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        snprintf(buf, size, "unknown topic '%s'", t->name);
    else if (insp_denied(t->err))
        snprintf(buf, size, "not allowed to describe topic '%s' (%s)", t->name,
                 rd_kafka_err2name(t->err));
    else
        snprintf(buf, size, "cannot describe topic '%s': %s (%s)", t->name,
                 rd_kafka_err2str(t->err), rd_kafka_err2name(t->err));
}
