/*
 * cmd_inspect.c - `rill inspect FILE`: what a topology's topics hold, read
 * from the broker: per topic (declared ones, the processors' DLQs and the
 * stores' changelogs) the partitions, the end offsets and the committed
 * records; per consumer group of a processor or sink the committed lag; and
 * what the records are: counted by event type and status (pipeline events
 * are decoded with the serde; other values are counted as opaque). With
 * --wait-pipeline SECONDS it re-reads until every decodable order has its
 * payment and inventory results, its final event (shipped or cancelled) and
 * its notifications, and exits 1 if that does not happen in time: the demo
 * uses it to know the pipeline is done. Read-only; reads read_committed by
 * assigning partitions (it never joins a group), so it commits nothing and
 * disturbs no one.
 */
#include "topology/cli/cli.h"
#include "topology/model/config.h"
#include "topology/cli/kprops.h"
#include "processors/orders/counters.h"
#include "schemas/serde.h"

#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 10000

struct itopic {
    char *name;
    const char *role;        /* "topic", "dlq", "changelog" */
    int parts;               /* -1: missing */
    int64_t end;             /* sum of high watermarks */
    int64_t records;         /* committed records read */
    int64_t opaque;          /* records that are not pipeline events */
};

struct counts {
    struct rill_order_counts orders; /* decoded pipeline events, by outcome */
    int64_t dlq;                     /* records in the DLQs */
};

struct inspect {
    const struct rill_topology *t;
    rd_kafka_conf_t *base;   /* duplicated for every client */
    rd_kafka_t *rk;          /* group-less consumer: metadata, watermarks, reads */
    rill_serde_t *serde;
    struct itopic *topics;
    size_t n;
};

static int add_topic(struct inspect *in, const char *name, const char *role)
{
    for (size_t i = 0; i < in->n; i++)
        if (!strcmp(in->topics[i].name, name))
            return 0;
    struct itopic *nt = realloc(in->topics, (in->n + 1) * sizeof *nt);
    if (!nt)
        return -1;
    in->topics = nt;
    in->topics[in->n] = (struct itopic){ .name = strdup(name), .role = role, .parts = -1 };
    return in->topics[in->n++].name ? 0 : -1;
}

/* Declared topics, then DLQs and changelogs, in YAML order. */
static int collect_topics(struct inspect *in)
{
    const struct rill_topology *t = in->t;
    char buf[512];
    for (size_t i = 0; i < t->ntopics; i++)
        if (add_topic(in, t->topics[i].name, "topic"))
            return -1;
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct rill_proc_conf *p = &t->procs[i];
        for (size_t k = 0; k < p->inputs.n; k++) {
            snprintf(buf, sizeof buf, "%s.dlq", p->inputs.v[k]);
            if (add_topic(in, p->dlq ? p->dlq : buf, "dlq"))
                return -1;
        }
        for (size_t k = 0; k < p->stores.n; k++) {
            const struct rill_store_conf *sc = rill_topology_store(t, p->stores.v[k]);
            if (sc && !sc->changelog)
                continue; /* `changelog: false`: no topic to show */
            /* buf is longer than any topic name Kafka accepts: one that
             * does not fit is reported as missing, by its truncated prefix. */
            (void)rill_topology_changelog(t, p->stores.v[k], buf, sizeof buf);
            if (add_topic(in, buf, "changelog"))
                return -1;
        }
    }
    return 0;
}

static int partitions_of(struct inspect *in, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(in->rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = -1;
    if (rd_kafka_metadata(in->rk, 0, rkt, &md, TIMEOUT_MS) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && !md->topics[0].err)
        n = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    return n;
}

static void count_record(struct inspect *in, struct itopic *tp, const rd_kafka_message_t *m,
                         struct counts *c)
{
    rill_event_t ev = { 0 };
    char err[RILL_ERRSTR_SIZE];
    tp->records++;
    if (!strcmp(tp->role, "dlq")) {
        c->dlq++;
        return;
    }
    if (!m->payload || strcmp(tp->role, "topic") ||
        rill_serde_decode(in->serde, m->key, m->key_len, m->payload, m->len, &ev, err,
                          sizeof err) != RILL_OK) {
        tp->opaque++;
        return;
    }
    rill_order_counts_add(&c->orders, &ev);
    rill_event_clear(&ev);
}

/* Reads every partition of tp from its start to its end (read_committed). */
static int read_topic(struct inspect *in, struct itopic *tp, struct counts *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(tp->parts);
    char *done = calloc((size_t)tp->parts, 1); /* a partition's end counts once */
    int64_t want = 0;
    if (!done) {
        rd_kafka_topic_partition_list_destroy(l);
        return -1;
    }
    for (int p = 0; p < tp->parts; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e =
            rd_kafka_query_watermark_offsets(in->rk, tp->name, p, &lo, &hi, TIMEOUT_MS);
        if (e) {
            fprintf(stderr, "rill inspect: cannot read the offsets of '%s' [%d]: %s\n", tp->name,
                    p, rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            free(done);
            return -1;
        }
        tp->end += hi;
        if (hi > lo) { /* empty partitions never signal EOF usefully: skip */
            rd_kafka_topic_partition_list_add(l, tp->name, p)->offset = lo;
            want++;
        }
    }
    int rc = 0;
    rd_kafka_resp_err_t ae = want ? rd_kafka_assign(in->rk, l) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (ae) {
        fprintf(stderr, "rill inspect: cannot read '%s': %s\n", tp->name, rd_kafka_err2str(ae));
        rc = -1;
        want = 0;
    }
    int64_t deadline = rill_now_ms() + 60000;
    while (want > 0) {
        if (rill_now_ms() > deadline) {
            fprintf(stderr, "rill inspect: reading '%s' did not reach its end in 60 s\n",
                    tp->name);
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(in->rk, 500);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < tp->parts && !done[m->partition]) {
                done[m->partition] = 1;
                want--;
            }
        }
        else if (!m->err)
            count_record(in, tp, m, c);
        else {
            fprintf(stderr, "rill inspect: reading '%s': %s\n", tp->name,
                    rd_kafka_message_errstr(m));
            rc = -1;
            want = 0;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(in->rk, NULL);
    rd_kafka_topic_partition_list_destroy(l);
    free(done);
    return rc;
}

static int scan(struct inspect *in, struct counts *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < in->n; i++) {
        struct itopic *tp = &in->topics[i];
        tp->end = tp->records = tp->opaque = 0;
        tp->parts = partitions_of(in, tp->name);
        if (tp->parts > 0 && read_topic(in, tp, c))
            return -1;
    }
    return 0;
}

/* Lag of one group: end offset minus committed offset over the partitions
 * it committed, per topic it reads. */
static void print_lag(struct inspect *in, const char *group)
{
    rd_kafka_t *adm = in->rk; /* the Admin API works on any client */
    rd_kafka_queue_t *q = rd_kafka_queue_new(adm);
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_ListConsumerGroupOffsets(adm, &req, 1, NULL, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TIMEOUT_MS);
    const rd_kafka_ListConsumerGroupOffsets_result_t *res =
        ev ? rd_kafka_event_ListConsumerGroupOffsets_result(ev) : NULL;
    size_t ng = 0;
    const rd_kafka_group_result_t **gr =
        res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &ng) : NULL;
    if (!ev || rd_kafka_event_error(ev) || ng != 1 || rd_kafka_group_result_error(gr[0])) {
        printf("  %-36s cannot ask: %s\n", group,
               !ev ? "timed out"
               : rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
               : ng == 1 && rd_kafka_group_result_error(gr[0])
                   ? rd_kafka_error_string(rd_kafka_group_result_error(gr[0]))
                   : "no answer");
    } else {
        const rd_kafka_topic_partition_list_t *pl = rd_kafka_group_result_partitions(gr[0]);
        int64_t lag = 0, parts = 0;
        for (int i = 0; pl && i < pl->cnt; i++) {
            int64_t lo, hi;
            if (pl->elems[i].offset < 0 ||
                rd_kafka_query_watermark_offsets(in->rk, pl->elems[i].topic,
                                                 pl->elems[i].partition, &lo, &hi, TIMEOUT_MS))
                continue;
            lag += hi - pl->elems[i].offset;
            parts++;
        }
        if (parts)
            printf("  %-36s lag %" PRId64 " over %" PRId64 " partitions\n", group, lag, parts);
        else
            printf("  %-36s no committed offsets\n", group);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
}

static void report(struct inspect *in, const struct counts *c)
{
    const struct rill_topology *t = in->t;
    printf("%-40s %-9s %10s %12s %10s\n", "topic", "role", "partitions", "end offsets",
           "records");
    for (size_t i = 0; i < in->n; i++) {
        const struct itopic *tp = &in->topics[i];
        if (tp->parts < 0)
            printf("%-40s %-9s %10s\n", tp->name, tp->role, "missing");
        else
            printf("%-40s %-9s %10d %12" PRId64 " %10" PRId64 "\n", tp->name, tp->role,
                   tp->parts, tp->end, tp->records);
    }
    printf("\nconsumer groups (lag = end offset - committed offset; a transaction's\n"
           "commit marker counts as one offset):\n");
    char group[512];
    for (size_t i = 0; i < t->nprocs; i++) {
        snprintf(group, sizeof group, "%s.%s", t->application_id, t->procs[i].name);
        print_lag(in, group);
    }
    for (size_t i = 0; i < t->nsinks; i++) {
        const char *g = rill_sink_group(t, &t->sinks[i], group, sizeof group);
        if (g)
            print_lag(in, g);
        else
            printf("  sink %-31s cannot ask: its group name is too long\n", t->sinks[i].name);
    }
    printf("\n");
    rill_order_counts_print(&c->orders, c->dlq, stdout);
}

static int usage(FILE *out, int rc)
{
    fprintf(out, "usage: rill inspect FILE [-F client.conf] [-X key=value]... "
                 "[--wait-pipeline SECONDS]\n");
    return rc;
}

int rill_cmd_inspect(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "wait-pipeline", required_argument, NULL, 'w' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    char err[RILL_ERRSTR_SIZE];
    struct inspect in = { 0 };
    struct rill_topology *t = NULL;
    long wait_s = -1;
    int opt, rc = 1;
    /* settings from the command line win over the file's: collect first */
    struct rill_kprops_args ka;
    if (rill_kprops_args_init(&ka, argc) != RILL_OK) {
        fprintf(stderr, "rill inspect: out of memory\n");
        return 1;
    }
    in.base = rd_kafka_conf_new();
    optind = 1;
    while ((opt = getopt_long(argc, argv, "F:X:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'F':
        case 'X':
            rill_kprops_args_add(&ka, opt, optarg);
            break;
        case 'w': {
            char *end;
            wait_s = strtol(optarg, &end, 10);
            if (*end || wait_s < 0) {
                rc = usage(stderr, 2);
                goto out;
            }
            break;
        }
        case 'h':
            rc = usage(stdout, 0);
            goto out;
        default:
            rc = usage(stderr, 2);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        rc = usage(stderr, 2);
        goto out;
    }
    if (rill_topology_load(argv[optind], &t, err, sizeof err) != RILL_OK ||
        rill_cli_serde_subjects(t, err, sizeof err)) {
        fprintf(stderr, "rill inspect: %s\n", err);
        goto out;
    }
    in.t = t;
    struct rill_kvlist props = { 0 };
    rill_err_t perr = rill_kprops_collect(&t->kafka, ka.files, ka.nfiles, ka.sets, ka.nsets,
                                          &props, err, sizeof err);
    if (!perr)
        perr = rill_kprops_conf(&props, in.base, err, sizeof err);
    rill_kvlist_clear(&props);
    if (perr) {
        fprintf(stderr, "rill inspect: %s\n", err);
        goto out;
    }
    rd_kafka_conf_t *cc = rd_kafka_conf_dup(in.base);
    /* librdkafka 2.0.2 wants a group.id to assign partitions; it is never
     * joined nor committed to */
    if (rd_kafka_conf_set(cc, "group.id", "rill-inspect", err, sizeof err) ||
        rd_kafka_conf_set(cc, "fetch.wait.max.ms", "10", err, sizeof err) ||
        rd_kafka_conf_set(cc, "isolation.level", "read_committed", err, sizeof err) ||
        rd_kafka_conf_set(cc, "enable.partition.eof", "true", err, sizeof err) ||
        rd_kafka_conf_set(cc, "enable.auto.commit", "false", err, sizeof err) ||
        !(in.rk = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err))) {
        rd_kafka_conf_destroy(cc);
        fprintf(stderr, "rill inspect: cannot create a consumer: %s\n", err);
        goto out;
    }
    if (rill_serde_new(&in.serde, err, sizeof err) != RILL_OK || collect_topics(&in)) {
        fprintf(stderr, "rill inspect: %s\n", in.serde ? "out of memory" : err);
        goto out;
    }
    struct counts c;
    int64_t deadline = rill_now_ms() + (wait_s > 0 ? wait_s : 0) * 1000;
    for (;;) {
        if (scan(&in, &c))
            goto out;
        if (wait_s < 0 || rill_order_counts_complete(&c.orders) || rill_now_ms() >= deadline)
            break;
    }
    report(&in, &c);
    rc = wait_s < 0 || rill_order_counts_complete(&c.orders) ? 0 : 1;
    if (rc)
        fprintf(stderr, "rill inspect: the pipeline did not finish within %ld s\n", wait_s);
out:
    for (size_t i = 0; i < in.n; i++)
        free(in.topics[i].name);
    free(in.topics);
    rill_serde_destroy(in.serde);
    if (in.rk) {
        rd_kafka_consumer_close(in.rk);
        rd_kafka_destroy(in.rk);
    }
    rd_kafka_conf_destroy(in.base);
    rill_kprops_args_free(&ka);
    rill_topology_free(t);
    return rc;
}
