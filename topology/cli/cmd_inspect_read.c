/*
 * cmd_inspect_read.c - `rill inspect read TOPIC`: a topic's records with
 * partition, offset, timestamp, key, headers and the value decoded to JSON
 * (schemas/serde.h: Confluent-framed Avro by the serde's schema ids, JSON as
 * JSON, other text as a string, anything else as base64, so hostile bytes
 * never reach the terminal raw). From --from (beginning, end, end-N, an
 * offset, a time) to each partition's end, --to, --count records, or with
 * --follow until SIGINT or SIGTERM (exit 0). read_committed unless
 * --read-uncommitted; it joins no group and commits nothing. A table by
 * default (printed in chunks, so memory stays bounded), or --json: one JSON
 * object per line.
 */
#include "topology/cli/inspect_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A read that is not following fails when nothing (no record, no partition
 * end) comes for this long. */
#define READ_IDLE_MS 30000
/* Table rows printed per chunk (and whenever the topic is quiet). */
#define READ_TABLE_CHUNK 500
/* The most headers of one record shown. */
#define READ_MAX_HEADERS 1024

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill inspect read TOPIC [-c FILE] [-F client.conf] [-X key=value]...\n"
            "         [-p PARTITION] [-o FROM] [-n COUNT | --to OFFSET] [-f] [--read-uncommitted]"
            " [--json]\n\n"
            "Prints a topic's records: partition, offset, timestamp, key, headers and the\n"
            "value decoded to JSON (Avro in the Confluent wire format by the schema ids rill\n"
            "knows, JSON as JSON, other text as a string, anything else as base64).\n"
            "  -p, --partition P    only partition P (default: all)\n"
            "  -o, --from FROM      beginning (default), end, end-N (the last N of each\n"
            "                       partition), OFFSET, @MS or an ISO 8601 time\n"
            "                       (2026-11-22T10:00:00Z): the first record at or after it\n"
            "  -n, --count N        stop after N records\n"
            "      --to OFFSET      stop each partition before OFFSET\n"
            "  -f, --follow         at the end, wait for more until SIGINT/SIGTERM (exit 0);\n"
            "                       starts at the end unless --from says otherwise\n"
            "      --read-uncommitted  also records of open and aborted transactions\n"
            "  --json               one JSON object per record and line\n"
            "Exit status 0 when done, 1 on an error (unknown topic, not allowed, ...), 2 for\n"
            "usage. Without --follow, a read that gets nothing for %d s fails.\n\n%s",
            READ_IDLE_MS / 1000, rill_icli_common_help);
    return rc;
}

/* The record m as the printers take it; headers into h (room for
 * READ_MAX_HEADERS). */
static void as_rec(const rd_kafka_message_t *m, struct rill_icli_header *h, struct rill_icli_rec *r)
{
    rd_kafka_timestamp_type_t tstype;
    rd_kafka_headers_t *hdrs = NULL;
    memset(r, 0, sizeof *r);
    r->topic = rd_kafka_topic_name(m->rkt);
    r->partition = m->partition;
    r->offset = m->offset;
    r->timestamp = rd_kafka_message_timestamp(m, &tstype);
    r->tstype = (int)tstype;
    if (tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
        r->timestamp = -1;
    r->key = m->key;
    r->key_len = m->key ? m->key_len : 0;
    r->value = m->payload;
    r->value_len = m->payload ? m->len : 0;
    r->headers = h;
    /* rd_kafka_message_headers() wants a non-const message; it only parses */
    if (!rd_kafka_message_headers((rd_kafka_message_t *)m, &hdrs)) {
        const char *name;
        const void *val;
        size_t len;
        while (r->nheaders < READ_MAX_HEADERS &&
               !rd_kafka_header_get_all(hdrs, r->nheaders, &name, &val, &len)) {
            h[r->nheaders] = (struct rill_icli_header){ name, val, len };
            r->nheaders++;
        }
    }
}

static void flush_table(struct rill_table *t, int *headed)
{
    if (!t->nrows)
        return;
    t->no_head = *headed;
    rill_table_print(t, stdout);
    fflush(stdout);
    *headed = 1;
    size_t ncols = t->ncols;
    const char *const *head = t->head;
    const char *align = t->align;
    rill_table_free(t);
    rill_table_init(t, ncols, head, align);
}

int rill_inspect_read_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "partition", required_argument, NULL, 'p' },
        { "from", required_argument, NULL, 'o' },
        { "count", required_argument, NULL, 'n' },
        { "to", required_argument, NULL, 'T' },
        { "follow", no_argument, NULL, 'f' },
        { "read-uncommitted", no_argument, NULL, 'U' },
        RILL_ICLI_LONGOPTS,
        { NULL, 0, NULL, 0 },
    };
    static const char *const head[] = { "PARTITION", "OFFSET", "TIMESTAMP", "KEY", "HEADERS",
                                        "VALUE" };
    struct rill_icli ic;
    struct rill_insp_read_opts o = { .partition = -1, .to = -1 };
    int64_t count = -1;
    int opt, rc = 1, committed = 1, from_given = 0;
    char err[RILL_ERRSTR_SIZE];
    if (rill_icli_init(&ic, "read", argc))
        return 1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "p:o:n:f" RILL_ICLI_SHORTOPTS, longopts, NULL)) != -1) {
        if (rill_icli_option(&ic, opt, optarg))
            continue;
        int64_t v = 0;
        int bad = 0;
        switch (opt) {
        case 'p':
            bad = rill_parse_int64(optarg, &v) || v < 0 || v > INT32_MAX;
            o.partition = (int32_t)v;
            break;
        case 'o':
            if (rill_offset_spec_parse(optarg, &o.from, err, sizeof err)) {
                rill_icli_error(&ic, "--from %s", err);
                bad = 1;
            }
            from_given = 1;
            break;
        case 'n':
            bad = rill_parse_int64(optarg, &count) || count < 1;
            break;
        case 'T':
            bad = rill_parse_int64(optarg, &o.to) || o.to < 0;
            break;
        case 'f': o.follow = 1; break;
        case 'U': committed = 0; break;
        default:
            rc = usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
            goto out;
        }
        if (bad) {
            rc = usage(stderr, 2);
            goto out;
        }
    }
    if (optind + 1 != argc) {
        rc = usage(stderr, 2);
        goto out;
    }
    const char *topic = argv[optind];
    if (o.follow && !from_given)
        o.from.kind = RILL_FROM_END;
    if (rill_icli_connect(&ic, committed))
        goto out;
    rill_serde_t *serde = NULL;
    rill_insp_reader_t *r = NULL;
    if (rill_serde_new(&serde, err, sizeof err) != RILL_OK ||
        rill_insp_reader_open(ic.in, topic, &o, &r, err, sizeof err) != RILL_OK) {
        rill_icli_error(&ic, "%s", err);
        rill_serde_destroy(serde);
        goto out;
    }
    struct sigaction sa = { 0 }, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    struct rill_icli_header *h = calloc(READ_MAX_HEADERS, sizeof *h);
    struct rill_table tab;
    rill_table_init(&tab, 6, head, "rrllll");
    rill_jsonw_t w;
    rill_jsonw_init(&w);
    int64_t shown = 0, idle_since = rill_now_ms();
    int headed = 0;
    rc = h ? 0 : 1;
    while (!rc && !stop && (count < 0 || shown < count) && !rill_insp_reader_done(r)) {
        rd_kafka_message_t *m = NULL;
        if (rill_insp_reader_next(r, 200, &m, err, sizeof err) != RILL_OK) {
            rill_icli_error(&ic, "%s", err);
            rc = 1;
            break;
        }
        if (!m) {
            flush_table(&tab, &headed); /* quiet: show what came */
            if (!o.follow && rill_now_ms() - idle_since > READ_IDLE_MS) {
                rill_icli_error(&ic, "reading '%s' did not reach its end: nothing came for %d s",
                                topic, READ_IDLE_MS / 1000);
                rc = 1;
            }
            continue;
        }
        idle_since = rill_now_ms();
        struct rill_icli_rec rec;
        as_rec(m, h, &rec);
        if (ic.json) {
            rill_jsonw_reset(&w);
            if (rill_icli_record_json(serde, &rec, &w) == RILL_OK) {
                fputs(w.p, stdout);
                fputc('\n', stdout);
                fflush(stdout);
            } else {
                rc = 1;
            }
        } else {
            char *cells[6];
            if (rill_icli_record_cells(serde, &rec, cells) == RILL_OK) {
                rill_table_add(&tab, (const char *const *)cells);
                for (int i = 0; i < 6; i++)
                    free(cells[i]);
                if (tab.nrows >= READ_TABLE_CHUNK)
                    flush_table(&tab, &headed);
            } else {
                rc = 1;
            }
        }
        if (rc)
            rill_icli_error(&ic, "out of memory");
        rd_kafka_message_destroy(m);
        shown++;
    }
    flush_table(&tab, &headed);
    if (!rc && !ic.json && !headed)
        fprintf(stderr, "rill inspect read: no records\n");
    rill_table_free(&tab);
    rill_jsonw_free(&w);
    free(h);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    rill_insp_reader_close(r);
    rill_serde_destroy(serde);
out:
    rill_icli_done(&ic);
    return rc;
}
