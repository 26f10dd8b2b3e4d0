/*
 * cmd_generate.c - `rill generate`: produces synthetic order_placed events
 * (processors/orders/generate.h) to Kafka, Confluent-framed Avro by default or JSON,
 * keyed by location with the murmur2 partitioner every pipeline producer
 * uses, through an idempotent producer (acks=all): a retried send never
 * duplicates an order. At --rate R it paces to R orders a second, else as
 * fast as the broker takes them. Client settings come from -F FILE
 * (properties, e.g. the order_generator user's) and -X key=value; schema ids
 * from the schema registry of --schema-registry or the environment
 * (schemas/registry.h), registered under the record's name or, with
 * --subject-strategy topic, under "<topic>-value" of the topic written; else
 * the id map. Every order carries a traceparent header of its own new trace
 * (README, "Correlation ids"): the orders are the same bytes for the same
 * seed, their trace ids are new on every run. Nothing secret is printed.
 * Exits 0 when every order was delivered, 1 otherwise.
 */
#include "topology/cli/cli.h"
#include "processors/orders/generate.h"
#include "topology/cli/kprops.h"
#include "schemas/registry.h"
#include "schemas/serde.h"
#include "topology/base/trace.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

struct gen_run {
    int64_t delivered, failed;
    char first_error[256];
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct gen_run *r = opaque;
    if (!m->err) {
        r->delivered++;
        return;
    }
    if (!r->failed++)
        snprintf(r->first_error, sizeof r->first_error, "%s", rd_kafka_err2str(m->err));
}

static int usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill generate [-F client.conf] [-X key=value]... [options]\n"
            "  -F, --config FILE     librdkafka properties (bootstrap, SASL user, ...)\n"
            "  -X key=value          one librdkafka setting (repeatable)\n"
            "  -t, --topic NAME      topic to write (default order_placed)\n"
            "  -n, --orders N        orders to produce (default 10000)\n"
            "  -r, --rate R          orders per second (default 0: as fast as possible)\n"
            "  -s, --seed S          seed of the orders and catalogue (default 1)\n"
            "  --format avro|json    value encoding (default avro, Confluent framing)\n"
            "  --schema-registry URL register the schemas there and write its ids (http:// or\n"
            "                        https://; default $RILL_SCHEMA_REGISTRY_URL, else ids.map)\n"
            "  --subject-strategy record|topic  the registry subject: the record's full name\n"
            "                        or <topic>-value (default $RILL_SCHEMA_REGISTRY_SUBJECT_STRATEGY,\n"
            "                        else record)\n"
            "  --locations N --customers N --products N --max-lines N --max-quantity N\n"
            "  --start-ms MS --days D  event times spread over D days from MS (UTC)\n");
    return rc;
}

static int num_arg(const char *name, const char *s, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < min || v > max) {
        fprintf(stderr, "rill generate: %s must be a number in [%" PRId64 ", %" PRId64 "], not '%s'\n",
                name, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Produces one value with a traceparent header of a new trace (random
 * trace id and parent id: where an order enters, its trace starts), waiting
 * on a full queue (the broker sets the pace). Returns the produce error
 * (__QUEUE_FULL when stopped while waiting), or 0. */
static rd_kafka_resp_err_t produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *key,
                                   const void *val, size_t len)
{
    struct rill_trace t;
    char tp[RILL_TRACEPARENT_LEN + 1];
    rill_trace_new(&t);
    rill_trace_format(&t, tp);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)val, len),
            RD_KAFKA_V_KEY(key, strlen(key)),
            RD_KAFKA_V_HEADER(RILL_TRACEPARENT, tp, RILL_TRACEPARENT_LEN), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || stop)
            return err;
        rd_kafka_poll(rk, 100);
    }
}

int rill_cmd_generate(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_REGISTRY, O_STRATEGY, O_LOC, O_CUST, O_PROD, O_LINES, O_QTY, O_START, O_DAYS };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'F' }, { "topic", required_argument, NULL, 't' },
        { "orders", required_argument, NULL, 'n' }, { "rate", required_argument, NULL, 'r' },
        { "seed", required_argument, NULL, 's' }, { "format", required_argument, NULL, O_FORMAT },
        { "schema-registry", required_argument, NULL, O_REGISTRY },
        { "subject-strategy", required_argument, NULL, O_STRATEGY },
        { "locations", required_argument, NULL, O_LOC },
        { "customers", required_argument, NULL, O_CUST },
        { "products", required_argument, NULL, O_PROD },
        { "max-lines", required_argument, NULL, O_LINES },
        { "max-quantity", required_argument, NULL, O_QTY },
        { "start-ms", required_argument, NULL, O_START }, { "days", required_argument, NULL, O_DAYS },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    char err[RILL_ERRSTR_SIZE];
    struct rill_kprops_args ka;
    struct rill_gen_opts go = { .seed = 1 };
    const char *topic = "order_placed";
    struct rill_registry_conf reg;
    rill_registry_conf_env(&reg);
    const char *strategy = getenv("RILL_SCHEMA_REGISTRY_SUBJECT_STRATEGY");
    int64_t orders = 10000, rate = 0, v;
    int json = 0, opt, rc = 1;
    if (rill_kprops_args_init(&ka, argc) != RILL_OK) {
        fprintf(stderr, "rill generate: out of memory\n");
        return 1;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "F:X:t:n:r:s:h", longopts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'F':
        case 'X':
            rill_kprops_args_add(&ka, opt, optarg);
            break;
        case 't': topic = optarg; break;
        case 'n': bad = num_arg("--orders", optarg, 0, INT64_MAX, &orders) ? 2 : 0; break;
        case 'r': bad = num_arg("--rate", optarg, 0, 10000000, &rate) ? 2 : 0; break;
        case 's':
            bad = num_arg("--seed", optarg, 0, INT64_MAX, &v) ? 2 : 0;
            go.seed = (uint64_t)v;
            break;
        case O_FORMAT:
            if (!strcmp(optarg, "json"))
                json = 1;
            else if (strcmp(optarg, "avro")) {
                fprintf(stderr, "rill generate: --format is avro or json, not '%s'\n", optarg);
                bad = 2;
            }
            break;
        case O_REGISTRY: reg.url = optarg; break;
        case O_STRATEGY: strategy = optarg; break;
        case O_LOC: bad = num_arg("--locations", optarg, 1, 999999, &v) ? 2 : 0; go.locations = (int)v; break;
        case O_CUST: bad = num_arg("--customers", optarg, 1, 9999999, &v) ? 2 : 0; go.customers = (int)v; break;
        case O_PROD: bad = num_arg("--products", optarg, 1, 999999, &v) ? 2 : 0; go.products = (int)v; break;
        case O_LINES: bad = num_arg("--max-lines", optarg, 1, RILL_SERDE_MAX_ITEMS, &v) ? 2 : 0; go.max_lines = (int)v; break;
        case O_QTY: bad = num_arg("--max-quantity", optarg, 1, 1000000, &v) ? 2 : 0; go.max_quantity = (int)v; break;
        case O_START: bad = num_arg("--start-ms", optarg, 0, INT64_MAX / 2, &go.start_ms) ? 2 : 0; break;
        case O_DAYS:
            bad = num_arg("--days", optarg, 1, 36500, &v) ? 2 : 0;
            go.span_ms = v * 24 * 3600 * 1000;
            break;
        case 'h':
            rc = usage(stdout, 0);
            goto out_args;
        default:
            rc = usage(stderr, 2);
            goto out_args;
        }
        if (bad) {
            rc = 2;
            goto out_args;
        }
    }
    if (optind != argc) {
        rc = usage(stderr, 2);
        goto out_args;
    }
    if (strategy && *strategy && strcmp(strategy, "record") && strcmp(strategy, "topic")) {
        fprintf(stderr, "rill generate: the subject strategy is record or topic, not '%s'\n",
                strategy);
        rc = 2;
        goto out_args;
    }
    /* The topic strategy's one topic: the generator writes order_placed events only. */
    struct rill_serde_topic st = { topic, RILL_EVENT_ORDER_PLACED };
    int by_topic = strategy && !strcmp(strategy, "topic");
    if (rill_serde_set_subjects(by_topic ? RILL_SUBJECT_TOPIC : RILL_SUBJECT_RECORD, &st,
                                by_topic, err, sizeof err)) {
        fprintf(stderr, "rill generate: %s\n", err);
        goto out_args;
    }
    struct rill_kvlist props = { 0 };
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    rill_err_t perr = rill_kprops_collect(NULL, ka.files, ka.nfiles, ka.sets, ka.nsets, &props,
                                          err, sizeof err);
    rill_kprops_args_free(&ka);
    if (perr || rill_kprops_conf(&props, kc, err, sizeof err)) {
        fprintf(stderr, "rill generate: %s\n", err);
        rill_kvlist_clear(&props);
        rd_kafka_conf_destroy(kc);
        return 1;
    }
    rill_kvlist_clear(&props);
    go.orders = orders > 0 ? orders : 1;

    struct gen_run run = { 0 };
    rill_gen_t *gen = NULL;
    rill_serde_t *serde = NULL;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    rill_buf_t buf = { 0 };
    if (rd_kafka_conf_set(kc, "enable.idempotence", "true", err, sizeof err) ||
        rd_kafka_conf_set(kc, "partitioner", "murmur2_random", err, sizeof err) ||
        rd_kafka_conf_set(kc, "linger.ms", "5", err, sizeof err)) {
        fprintf(stderr, "rill generate: %s\n", err);
        rd_kafka_conf_destroy(kc);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
    rd_kafka_conf_set_opaque(kc, &run);
    if (!(gen = rill_gen_new(&go, err, sizeof err)) ||
        (reg.url ? rill_serde_new_registry(&serde, &reg, err, sizeof err)
                 : rill_serde_new(&serde, err, sizeof err)) != RILL_OK) {
        fprintf(stderr, "rill generate: %s\n", err);
        rd_kafka_conf_destroy(kc);
        goto out;
    }
    if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err))) {
        fprintf(stderr, "rill generate: cannot create producer: %s\n", err);
        rd_kafka_conf_destroy(kc);
        goto out;
    }
    if (!(rkt = rd_kafka_topic_new(rk, topic, NULL))) {
        fprintf(stderr, "rill generate: cannot use topic '%s': %s\n", topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    int64_t t0 = now_ns(), sent = 0;
    for (; sent < orders && !stop; sent++) {
        rill_event_t ev;
        rill_gen_next(gen, &ev);
        rill_err_t e = json ? rill_serde_encode_json(&ev, &buf, err, sizeof err)
                            : rill_serde_encode(serde, &ev, &buf, err, sizeof err);
        if (e != RILL_OK) {
            fprintf(stderr, "rill generate: cannot encode order %" PRId64 ": %s\n", sent, err);
            goto out;
        }
        if (rate > 0) { /* pace: order i is due at t0 + i/rate */
            int64_t due = t0 + sent * 1000000000 / rate;
            while (!stop && now_ns() < due)
                rd_kafka_poll(rk, (int)((due - now_ns()) / 1000000) + 1);
        }
        rd_kafka_resp_err_t sent_err = produce(rk, rkt, ev.u.order.location_id, buf.p, buf.len);
        if (sent_err) {
            if (!stop)
                fprintf(stderr, "rill generate: cannot produce to '%s': %s\n", topic,
                        rd_kafka_err2str(sent_err));
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    while (rd_kafka_outq_len(rk) > 0 && rd_kafka_flush(rk, 1000) == RD_KAFKA_RESP_ERR__TIMED_OUT &&
           !stop)
        ;
    double secs = (double)(now_ns() - t0) / 1e9;
    fprintf(stderr, "rill generate: %" PRId64 " orders delivered to '%s' in %.2f s (seed %" PRIu64
            ")%s%s\n", run.delivered, topic, secs, go.seed, run.failed ? ", failed: " : "",
            run.failed ? run.first_error : "");
    rc = run.delivered == orders && !run.failed ? 0 : 1;
out:
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (rk)
        rd_kafka_destroy(rk);
    rill_buf_free(&buf);
    rill_serde_destroy(serde);
    rill_gen_free(gen);
    return rc;
out_args:
    rill_kprops_args_free(&ka);
    return rc;
}
