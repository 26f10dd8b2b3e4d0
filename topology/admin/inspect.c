/*
 * inspect.c - the handle of inspect.h: its two clients and what the topic,
 * group and record readers share. The metadata client reads
 * read_uncommitted, so that its end offsets are the high watermarks; the
 * reader is made on first need with the isolation the caller chose.
 */
#include "topology/admin/inspect_int.h"

#include <stdlib.h>
#include <string.h>

char *insp_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int insp_denied(int err)
{
    return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

/* The settings every inspect client has: a consumer that joins nothing and
 * commits nothing, and sees partition ends. The simple consumer's prefetch
 * budget (queued.max.messages.kbytes) is per partition, 64 MiB by default:
 * RILL_INSPECT_PREFETCH_KB instead. Not smaller: librdkafka 2.0.2 fetches a
 * partition whose queue was full again only after a pause of about a
 * second, so a small budget makes a large read slow (measured on a 120 MB
 * topic of 6 partitions: 1.6 s with 64 MiB, 4.3 s with 16, 10 s with 8). */
static const char *const common[] = {
    "enable.auto.commit", "false",
    "enable.auto.offset.store", "false",
    "enable.partition.eof", "true",
    "fetch.wait.max.ms", "100",
    "queued.max.messages.kbytes", RILL_INSPECT_PREFETCH_KB,
};

static rill_err_t open_client(rill_inspect_t *in, struct rill_kclient *c, const char *isolation,
                              char *errstr, size_t errsz)
{
    const char *extra[sizeof common / sizeof common[0] + 3];
    size_t n = 0;
    for (; n < sizeof common / sizeof common[0]; n++)
        extra[n] = common[n];
    extra[n++] = "isolation.level";
    extra[n++] = isolation;
    extra[n] = NULL;
    /* a group.id from the settings would make this a group consumer; it
     * reads partitions it is given instead */
    struct rill_kvlist conf = { 0 };
    rill_err_t err = RILL_OK;
    for (size_t i = 0; !err && i < in->conf.n; i++)
        if (strcmp(in->conf.v[i].key, "group.id") && strcmp(in->conf.v[i].key, "group.instance.id"))
            err = rill_kvlist_set(&conf, in->conf.v[i].key, in->conf.v[i].value);
    if (err) {
        rill_kvlist_clear(&conf);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    err = rill_kclient_open(c, &conf, RD_KAFKA_CONSUMER, extra, RILL_KCLIENT_LOGIN_MS, errstr,
                            errsz);
    rill_kvlist_clear(&conf);
    return err;
}

rill_err_t rill_inspect_open(const struct rill_kvlist *conf, int committed,
                             rill_inspect_t **out, char *errstr, size_t errsz)
{
    *out = NULL;
    rill_inspect_t *in = calloc(1, sizeof *in);
    if (!in)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    in->committed = committed;
    for (size_t i = 0; i < conf->n; i++)
        if (rill_kvlist_set(&in->conf, conf->v[i].key, conf->v[i].value)) {
            rill_inspect_close(in);
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
    rill_err_t err = open_client(in, &in->meta, "read_uncommitted", errstr, errsz);
    if (err) {
        rill_inspect_close(in);
        return err;
    }
    *out = in;
    return RILL_OK;
}

void rill_inspect_close(rill_inspect_t *in)
{
    if (!in)
        return;
    if (in->reader.rk)
        rill_kclient_close(&in->reader);
    if (in->meta.rk)
        rill_kclient_close(&in->meta);
    rill_kvlist_clear(&in->conf);
    free(in);
}

rill_err_t insp_reader(rill_inspect_t *in, rd_kafka_t **rk, char *errstr, size_t errsz)
{
    if (!in->reader.rk) {
        rill_err_t err = open_client(in, &in->reader,
                                     in->committed ? "read_committed" : "read_uncommitted",
                                     errstr, errsz);
        if (err)
            return err;
    }
    *rk = in->reader.rk;
    return RILL_OK;
}

/* One ListOffsets round for every partition of l at the special timestamp
 * ts (-1: latest, -2: earliest) into out[]. */
static rill_err_t list_offsets(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *l,
                               int64_t ts, int64_t *out, int *first_err, char *errstr,
                               size_t errsz)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);
    for (int i = 0; i < c->cnt; i++)
        c->elems[i].offset = ts;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, c, RILL_INSPECT_TIMEOUT_MS);
    if (e) {
        rd_kafka_topic_partition_list_destroy(c);
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot read the end offsets: %s (%s)",
                         rd_kafka_err2str(e), rd_kafka_err2name(e));
    }
    for (int i = 0; i < c->cnt; i++) {
        out[i] = c->elems[i].err ? -1 : c->elems[i].offset;
        if (c->elems[i].err && !*first_err)
            *first_err = c->elems[i].err;
    }
    rd_kafka_topic_partition_list_destroy(c);
    return RILL_OK;
}

rill_err_t insp_watermarks(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *l,
                           int64_t *low, int64_t *high, int *first_err, char *errstr,
                           size_t errsz)
{
    *first_err = 0;
    if (!l->cnt)
        return RILL_OK;
    rill_err_t err = list_offsets(rk, l, RD_KAFKA_OFFSET_BEGINNING, low, first_err, errstr, errsz);
    if (!err)
        err = list_offsets(rk, l, RD_KAFKA_OFFSET_END, high, first_err, errstr, errsz);
    return err;
}
