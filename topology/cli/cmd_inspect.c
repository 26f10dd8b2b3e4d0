/*
 * cmd_inspect.c - `rill inspect`: the command-line stand-in for Control
 * Center's topic and consumer views. This file dispatches to the
 * subcommands (topics and describe: cmd_inspect_topics.c; read:
 * cmd_inspect_read.c; groups: cmd_inspect_groups.c) and holds the one that
 * came first, the summary of a topology (`rill inspect FILE`, also `rill
 * inspect summary FILE`): per topic (declared ones, the processors' DLQs and
 * the stores' changelogs) the partitions, the end offsets and the committed
 * records; per consumer group of a processor or sink its lag; and the order
 * pipeline's events counted by outcome (processors/orders/counters.h; other
 * values are counted as opaque). With --wait-pipeline SECONDS it follows
 * every topic from its start, counting as records come, until every
 * decodable order has its payment and inventory results, its final event
 * (shipped or cancelled) and its notifications and every group has read
 * all its input, and exits 1 if that does not happen in time: the demo and
 * the pipeline bench use it to know the pipeline is done. Read-only, like every subcommand: it joins no group and commits
 * nothing.
 */
#include "topology/cli/cli.h"
#include "topology/cli/inspect_cli.h"
#include "processors/orders/counters.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long one topic's read may go without a record or an end. */
#define SUMMARY_IDLE_MS 30000

struct itopic {
    const char *name, *role;  /* borrowed from the topic list */
    int parts;                /* -1: missing */
    int64_t end;              /* sum of the high watermarks */
    int64_t records;          /* committed records read */
};

struct counts {
    struct rill_order_counts orders; /* decoded pipeline events, by outcome */
    int64_t dlq;                     /* records in the DLQs */
};

static void count_record(rill_serde_t *serde, const struct itopic *tp,
                         const rd_kafka_message_t *m, struct counts *c)
{
    rill_event_t ev = { 0 };
    char err[RILL_ERRSTR_SIZE];
    if (!strcmp(tp->role, "dlq")) {
        c->dlq++;
        return;
    }
    if (!m->payload || strcmp(tp->role, "topic") ||
        rill_serde_decode(serde, m->key, m->key_len, m->payload, m->len, &ev, err,
                          sizeof err) != RILL_OK)
        return; /* not a pipeline event: counted as a record only */
    rill_order_counts_add(&c->orders, &ev);
    rill_event_clear(&ev);
}

/* Reads every partition of tp from its start to its end (read_committed). */
static int read_topic(struct rill_icli *ic, rill_serde_t *serde, struct itopic *tp,
                      struct counts *c)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_insp_read_opts o = { .partition = -1, .from = { RILL_FROM_BEGINNING, 0 }, .to = -1 };
    rill_insp_reader_t *r = NULL;
    if (rill_insp_reader_open(ic->in, tp->name, &o, &r, err, sizeof err) != RILL_OK) {
        rill_icli_error(ic, "%s", err);
        return -1;
    }
    int64_t idle_since = rill_now_ms();
    int rc = 0;
    while (!rill_insp_reader_done(r)) {
        rd_kafka_message_t *m = NULL;
        if (rill_insp_reader_next(r, 500, &m, err, sizeof err) != RILL_OK) {
            rill_icli_error(ic, "%s", err);
            rc = -1;
            break;
        }
        if (!m) {
            if (rill_now_ms() - idle_since > SUMMARY_IDLE_MS) {
                rill_icli_error(ic, "reading '%s' did not reach its end: nothing came for %d s",
                                tp->name, SUMMARY_IDLE_MS / 1000);
                rc = -1;
                break;
            }
            continue;
        }
        idle_since = rill_now_ms();
        tp->records++;
        count_record(serde, tp, m, c);
        rd_kafka_message_destroy(m);
    }
    rill_insp_reader_close(r);
    return rc;
}

/* Every topic's partitions (-1: missing) and end offsets, from the broker. */
static int refresh_topics(struct rill_icli *ic, struct itopic *tps, size_t n,
                          const char *const *names)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_insp_topics t;
    if (rill_inspect_topics(ic->in, names, n, RILL_INSP_WATERMARKS, &t, err, sizeof err)) {
        rill_icli_error(ic, "%s", err);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        tps[i].parts = t.v[i].err ? -1 : t.v[i].nparts;
        tps[i].end = t.v[i].end;
    }
    rill_insp_topics_free(&t);
    return 0;
}

/* Reads every topic once, start to end. */
static int scan(struct rill_icli *ic, rill_serde_t *serde, struct itopic *tps, size_t n,
                const char *const *names, struct counts *c)
{
    memset(c, 0, sizeof *c);
    if (refresh_topics(ic, tps, n, names))
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        tps[i].records = 0;
        if (tps[i].parts > 0)
            rc = read_topic(ic, serde, &tps[i], c);
    }
    return rc;
}

/* Asks for every processor's and sink's group into *g (freed by the
 * caller, also on failure). */
static rill_err_t ask_groups(struct rill_icli *ic, struct rill_insp_groups *g, char *err,
                             size_t errsz)
{
    const struct rill_topology *t = ic->t;
    size_t n = t->nprocs + t->nsinks;
    struct rill_insp_group_query *q = calloc(n ? n : 1, sizeof *q);
    char (*ids)[512] = calloc(n ? n : 1, sizeof *ids);
    rill_err_t rc = RILL_ERR_NOMEM;
    memset(g, 0, sizeof *g);
    if (!q || !ids) {
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < t->nprocs; i++) {
        snprintf(ids[i], sizeof ids[i], "%s.%s", t->application_id, t->procs[i].name);
        q[i] = (struct rill_insp_group_query){ ids[i], (const char *const *)t->procs[i].inputs.v,
                                               t->procs[i].inputs.n, NULL, 0 };
    }
    for (size_t i = 0; i < t->nsinks; i++) {
        const struct rill_sink_conf *s = &t->sinks[i];
        if (!rill_sink_group(t, s, ids[t->nprocs + i], sizeof ids[0]))
            snprintf(ids[t->nprocs + i], sizeof ids[0], "%s", s->name);
        q[t->nprocs + i] = (struct rill_insp_group_query){
            ids[t->nprocs + i], (const char *const *)s->inputs.v, s->inputs.n, NULL, 0
        };
    }
    rc = rill_inspect_groups(ic->in, q, n, g, err, errsz);
out:
    free(q);
    free(ids);
    return rc;
}

/* The lag line of every processor's and sink's group. */
static void print_groups(struct rill_icli *ic)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_insp_groups g;
    if (ask_groups(ic, &g, err, sizeof err) != RILL_OK) {
        printf("  cannot ask: %s\n", err);
        rill_insp_groups_free(&g);
        return;
    }
    for (size_t i = 0; i < g.n; i++) {
        const struct rill_insp_group *x = &g.v[i];
        int64_t off = 0;
        for (size_t k = 0; k < x->noffsets; k++)
            off += x->offsets[k].offset_lag > 0 ? x->offsets[k].offset_lag : 0;
        if (x->err)
            printf("  %-36s cannot ask: %s\n", x->id, x->error);
        else if (x->lag < 0)
            printf("  %-36s lag unknown over %zu partitions\n", x->id, x->noffsets);
        else
            printf("  %-36s lag %" PRId64 " records over %zu partitions (%" PRId64
                   " offsets behind the end)\n",
                   x->id, x->lag, x->noffsets, off);
    }
    rill_insp_groups_free(&g);
}

/* The lag of every processor's and sink's group summed, or -1 when one
 * cannot be told. */
static int64_t groups_lag(struct rill_icli *ic)
{
    char err[RILL_ERRSTR_SIZE];
    struct rill_insp_groups g;
    int64_t lag = ask_groups(ic, &g, err, sizeof err) == RILL_OK ? 0 : -1;
    for (size_t i = 0; i < g.n && lag >= 0; i++)
        lag = g.v[i].err || g.v[i].lag < 0 ? -1 : lag + g.v[i].lag;
    rill_insp_groups_free(&g);
    return lag;
}

/* How often the follower looks again for a topic that was missing. */
#define FOLLOW_MISSING_MS 1000
/* A reader's wait for its next record when none of them had one. */
#define FOLLOW_WAIT_MS 50

/* --wait-pipeline: one reader per topic from its start, kept open and
 * following (read_committed), counting as records come, until the orders
 * are complete or deadline; then, the readers closed (the group query
 * probes partitions with the same client), until every group has read its
 * input or deadline. Unlike reading each topic again until then, the end is
 * seen as it comes, not a whole read later. Returns 1 when done, 0 when out
 * of time, -1 with the error printed. */
static int follow_until_complete(struct rill_icli *ic, rill_serde_t *serde, struct itopic *tps,
                                 size_t n, const char *const *names, struct counts *c,
                                 int64_t deadline)
{
    char err[RILL_ERRSTR_SIZE];
    rill_insp_reader_t **r = calloc(n ? n : 1, sizeof *r);
    if (!r) {
        rill_icli_error(ic, "out of memory");
        return -1;
    }
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < n; i++)
        tps[i].records = 0;
    int rc = 0;
    int64_t looked = 0;
    while (!rc && !rill_order_counts_complete(&c->orders) && rill_now_ms() < deadline) {
        if (rill_now_ms() - looked >= FOLLOW_MISSING_MS) {
            looked = rill_now_ms();
            int missing = 0;
            for (size_t i = 0; i < n; i++)
                missing |= !r[i];
            if (missing && refresh_topics(ic, tps, n, names)) {
                rc = -1;
                break;
            }
            struct rill_insp_read_opts o = { .partition = -1, .from = { RILL_FROM_BEGINNING, 0 },
                                             .to = -1, .follow = 1 };
            for (size_t i = 0; i < n && !rc; i++)
                if (!r[i] && tps[i].parts > 0 &&
                    rill_insp_reader_open(ic->in, tps[i].name, &o, &r[i], err, sizeof err)) {
                    rill_icli_error(ic, "%s", err);
                    rc = -1;
                }
        }
        /* what each reader has; when none had anything, wait on one of
         * them for a moment (or, with none open yet, sleep that long) */
        size_t got = 0, waited = 0;
        for (int pass = 0; pass < 2 && !got && !rc; pass++)
            for (size_t i = 0; i < n && !rc; i++) {
                if (!r[i] || (pass && waited))
                    continue;
                waited += pass;
                for (int k = 0; k < 10000; k++) {
                    rd_kafka_message_t *m = NULL;
                    if (rill_insp_reader_next(r[i], pass ? FOLLOW_WAIT_MS : 0, &m, err,
                                              sizeof err) != RILL_OK) {
                        rill_icli_error(ic, "%s", err);
                        rc = -1;
                        break;
                    }
                    if (!m)
                        break;
                    got++;
                    tps[i].records++;
                    count_record(serde, &tps[i], m, c);
                    rd_kafka_message_destroy(m);
                }
            }
        if (!rc && !got && !waited)
            usleep(FOLLOW_WAIT_MS * 1000);
    }
    for (size_t i = 0; i < n; i++)
        if (r[i])
            rill_insp_reader_close(r[i]);
    free(r);
    if (rc)
        return rc;
    int done = rill_order_counts_complete(&c->orders);
    /* every group through its input: asked again until so (each answer
     * takes a few round trips) */
    while (done && groups_lag(ic) != 0 && (done = rill_now_ms() < deadline))
        usleep(FOLLOW_WAIT_MS * 1000);
    /* the report's end offsets: as they are now */
    if (refresh_topics(ic, tps, n, names))
        return -1;
    return done;
}

static void report(struct rill_icli *ic, const struct itopic *tps, size_t n, const struct counts *c)
{
    printf("%-40s %-9s %10s %12s %10s\n", "topic", "role", "partitions", "end offsets",
           "records");
    for (size_t i = 0; i < n; i++) {
        const struct itopic *tp = &tps[i];
        if (tp->parts < 0)
            printf("%-40s %-9s %10s\n", tp->name, tp->role, "missing");
        else
            printf("%-40s %-9s %10d %12" PRId64 " %10" PRId64 "\n", tp->name, tp->role,
                   tp->parts, tp->end, tp->records);
    }
    printf("\nconsumer groups (lag: records still to read; transaction markers take an\n"
           "offset each and are not counted):\n");
    print_groups(ic);
    printf("\n");
    rill_order_counts_print(&c->orders, c->dlq, stdout);
}

static int summary_usage(FILE *out, int rc)
{
    fprintf(out, "usage: rill inspect [summary] FILE [-F client.conf] [-X key=value]... "
                 "[--wait-pipeline SECONDS]\n");
    return rc;
}

static int summary(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "wait-pipeline", required_argument, NULL, 'w' },
        RILL_ICLI_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    struct rill_icli ic;
    rill_serde_t *serde = NULL;
    char **names = NULL;
    const char **roles = NULL;
    struct itopic *tps = NULL;
    size_t n = 0;
    long wait_s = -1;
    int opt, rc = 1;
    char err[RILL_ERRSTR_SIZE];
    if (rill_icli_init(&ic, "summary", argc))
        return 1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, RILL_ICLI_SHORTOPTS, longopts, NULL)) != -1) {
        if (rill_icli_option(&ic, opt, optarg))
            continue;
        if (opt == 'w') {
            char *end;
            wait_s = strtol(optarg, &end, 10);
            if (*end || wait_s < 0) {
                rc = summary_usage(stderr, 2);
                goto out;
            }
        } else {
            rc = summary_usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
            goto out;
        }
    }
    if (optind + 1 != argc || ic.file) {
        rc = summary_usage(stderr, 2);
        goto out;
    }
    ic.file = argv[optind];
    if (rill_icli_connect(&ic, 1) || rill_icli_topology_topics(&ic, &names, &roles, &n))
        goto out;
    if (rill_serde_new(&serde, err, sizeof err) != RILL_OK) {
        rill_icli_error(&ic, "%s", err);
        goto out;
    }
    if (!(tps = calloc(n ? n : 1, sizeof *tps))) {
        rill_icli_error(&ic, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        tps[i] = (struct itopic){ names[i], roles[i], -1, 0, 0 };
    struct counts c;
    int64_t deadline = rill_now_ms() + (wait_s > 0 ? wait_s : 0) * 1000;
    int done = 1;
    if (wait_s < 0) {
        if (scan(&ic, serde, tps, n, (const char *const *)names, &c))
            goto out;
    } else if ((done = follow_until_complete(&ic, serde, tps, n, (const char *const *)names, &c,
                                             deadline)) < 0) {
        goto out;
    }
    report(&ic, tps, n, &c);
    rc = done ? 0 : 1;
    if (rc)
        rill_icli_error(&ic, "the pipeline did not finish within %ld s", wait_s);
out:
    free(tps);
    rill_icli_topics_free(names, roles, n);
    rill_serde_destroy(serde);
    rill_icli_done(&ic);
    return rc;
}

static int usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill inspect topics [FILE] [options]     topics: partitions, replicas, ISR,\n"
            "                                                leaders, end offsets, configs\n"
            "       rill inspect describe TOPIC [options]    one topic, partition by partition\n"
            "       rill inspect read TOPIC [options]        records, decoded (Avro, JSON)\n"
            "       rill inspect groups [FILE] [options]     consumer groups: state, members,\n"
            "                                                committed offsets, lag\n"
            "       rill inspect [summary] FILE [--wait-pipeline SECONDS]\n"
            "                                                a topology's topics, groups and\n"
            "                                                order outcomes\n\n"
            "A FILE given as the argument chooses what is shown (that topology's topics or\n"
            "groups) and how to connect; -c FILE only how to connect. 'rill inspect\n"
            "<subcommand> --help' lists a subcommand's options.\n\n"
            "common options:\n%s",
            rill_icli_common_help);
    return rc;
}

int rill_cmd_inspect(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } subs[] = {
        { "topics", rill_inspect_topics_cmd },   { "describe", rill_inspect_describe_cmd },
        { "read", rill_inspect_read_cmd },       { "groups", rill_inspect_groups_cmd },
        { "summary", summary },
    };
    if (argc < 2)
        return usage(stderr, 2);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return usage(stdout, 0);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name))
            return subs[i].fn(argc - 1, argv + 1);
    return summary(argc, argv); /* `rill inspect FILE`, as before the subcommands */
}
