/*
 * cmd_inspect_topics.c - `rill inspect topics [FILE]` (every topic of the
 * cluster, or of a topology: partitions, replication factor, leaders, ISR,
 * end offsets, the configs set on it) and `rill inspect describe TOPIC` (one
 * topic partition by partition: leader, replicas, ISR, low and high
 * watermark; its configs), as a table or as one JSON document. What the
 * cluster holds comes from topology/admin/inspect.h; this file prints it.
 */
#include "topology/cli/inspect_cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A config worth a table row: set on the topic itself (what kafka-topics
 * --describe shows as its configs). */
static int config_set(const struct rill_topic_config *c)
{
    return c->source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
}

static void ids_json(rill_jsonw_t *w, const int32_t *v, int n)
{
    rill_jsonw_array_begin(w);
    for (int i = 0; i < n; i++)
        rill_jsonw_int(w, v[i]);
    rill_jsonw_array_end(w);
}

static void int_or_null(rill_jsonw_t *w, int64_t v)
{
    if (v >= 0)
        rill_jsonw_int(w, v);
    else
        rill_jsonw_null(w);
}

static void topic_json(rill_jsonw_t *w, const struct rill_insp_topic *t, const char *role)
{
    char err[600];
    rill_jsonw_object_begin(w);
    rill_jsonw_key(w, "topic");
    rill_jsonw_cstr(w, t->name);
    if (role) {
        rill_jsonw_key(w, "role");
        rill_jsonw_cstr(w, role);
    }
    rill_jsonw_key(w, "exists");
    rill_jsonw_bool(w, !t->err);
    rill_jsonw_key(w, "error");
    if (t->err) {
        rill_insp_topic_error(t, err, sizeof err);
        rill_jsonw_cstr(w, err);
    } else {
        rill_jsonw_null(w);
    }
    rill_jsonw_key(w, "partition_count");
    rill_jsonw_int(w, t->nparts);
    rill_jsonw_key(w, "replication_factor");
    int_or_null(w, t->replication);
    rill_jsonw_key(w, "end_offsets");
    int_or_null(w, t->end);
    rill_jsonw_key(w, "partitions");
    rill_jsonw_array_begin(w);
    for (int i = 0; i < t->nparts; i++) {
        const struct rill_insp_part *p = &t->parts[i];
        rill_jsonw_object_begin(w);
        rill_jsonw_key(w, "partition");
        rill_jsonw_int(w, p->id);
        rill_jsonw_key(w, "leader");
        int_or_null(w, p->leader);
        rill_jsonw_key(w, "replicas");
        ids_json(w, p->replicas, p->nreplicas);
        rill_jsonw_key(w, "isr");
        ids_json(w, p->isr, p->nisr);
        rill_jsonw_key(w, "low");
        int_or_null(w, p->low);
        rill_jsonw_key(w, "high");
        int_or_null(w, p->high);
        rill_jsonw_key(w, "error");
        rill_jsonw_cstr(w, p->err ? rd_kafka_err2name(p->err) : NULL);
        rill_jsonw_object_end(w);
    }
    rill_jsonw_array_end(w);
    rill_jsonw_key(w, "configs_error");
    rill_jsonw_cstr(w, t->configs.error);
    rill_jsonw_key(w, "configs");
    rill_jsonw_array_begin(w);
    for (size_t i = 0; i < t->configs.n; i++) {
        const struct rill_topic_config *c = &t->configs.v[i];
        rill_jsonw_object_begin(w);
        rill_jsonw_key(w, "name");
        rill_jsonw_cstr(w, c->name);
        rill_jsonw_key(w, "value");
        rill_jsonw_cstr(w, c->value);
        rill_jsonw_key(w, "source");
        rill_jsonw_cstr(w, rd_kafka_ConfigSource_name((rd_kafka_ConfigSource_t)c->source));
        rill_jsonw_key(w, "default");
        rill_jsonw_bool(w, c->is_default);
        rill_jsonw_key(w, "sensitive");
        rill_jsonw_bool(w, c->sensitive);
        rill_jsonw_key(w, "read_only");
        rill_jsonw_bool(w, c->read_only);
        rill_jsonw_object_end(w);
    }
    rill_jsonw_array_end(w);
    rill_jsonw_object_end(w);
}

/* Prints w's document and a newline; -1 when it is not whole. */
static int print_json(const struct rill_icli *ic, rill_jsonw_t *w)
{
    if (rill_jsonw_failed(w)) {
        rill_icli_error(ic, "out of memory");
        return -1;
    }
    fputs(w->p ? w->p : "null", stdout);
    fputc('\n', stdout);
    return 0;
}

/* "a,b,c" of ids into buf. */
static void ids_text(char *buf, size_t size, const int32_t *v, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? "," : "", (int)v[i]);
    if (!n)
        snprintf(buf, size, "-");
}

/* The configs set on t as "k=v,k=v" (malloc'd). */
static char *configs_text(const struct rill_insp_topic *t)
{
    size_t cap = 64, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[0] = '\0';
    if (t->configs.error)
        return strcpy(s, "?");
    for (size_t i = 0; i < t->configs.n; i++) {
        const struct rill_topic_config *c = &t->configs.v[i];
        if (!config_set(c))
            continue;
        char *v = rill_icli_display(c->value ? c->value : "(hidden)",
                                    strlen(c->value ? c->value : "(hidden)"));
        size_t need = len + strlen(c->name) + (v ? strlen(v) : 0) + 3;
        if (need > cap) {
            while (cap < need)
                cap *= 2;
            char *g = realloc(s, cap);
            if (!g) {
                free(v);
                free(s);
                return NULL;
            }
            s = g;
        }
        len += (size_t)snprintf(s + len, cap - len, "%s%s=%s", len ? "," : "", c->name,
                                v ? v : "");
        free(v);
    }
    if (!len)
        strcpy(s, "-");
    return s;
}

static void topics_table(const struct rill_insp_topics *t, const char *const *roles)
{
    static const char *const head[] = { "TOPIC", "ROLE", "PARTITIONS", "RF", "LEADERS",
                                        "IN SYNC", "END OFFSETS", "CONFIGS" };
    /* without a topology there is no ROLE column: the view skips it */
    static const char *const head_noroles[] = { "TOPIC", "PARTITIONS", "RF", "LEADERS",
                                                "IN SYNC", "END OFFSETS", "CONFIGS" };
    struct rill_table tab;
    if (roles)
        rill_table_init(&tab, 8, head, "llrrlrrl");
    else
        rill_table_init(&tab, 7, head_noroles, "lrrlrrl");
    for (size_t i = 0; i < t->n; i++) {
        const struct rill_insp_topic *x = &t->v[i];
        char parts[16] = "-", rf[16] = "-", leaders[256] = "-", insync[32] = "-", end[32] = "-",
             err[600];
        char *name = rill_icli_display(x->name, strlen(x->name)), *configs = NULL;
        if (x->err) {
            rill_insp_topic_error(x, err, sizeof err);
        } else {
            int synced = 0, nseen = 0;
            int32_t seen[64];
            for (int k = 0; k < x->nparts; k++) {
                const struct rill_insp_part *p = &x->parts[k];
                synced += p->nisr == p->nreplicas && p->leader >= 0;
                int dup = 0;
                for (int j = 0; j < nseen; j++)
                    dup |= seen[j] == p->leader;
                if (!dup && nseen < 64)
                    seen[nseen++] = p->leader;
            }
            snprintf(parts, sizeof parts, "%d", x->nparts);
            snprintf(rf, sizeof rf, "%d", x->replication);
            ids_text(leaders, sizeof leaders, seen, nseen);
            snprintf(insync, sizeof insync, "%d/%d", synced, x->nparts);
            if (x->end >= 0)
                snprintf(end, sizeof end, "%" PRId64, x->end);
            configs = configs_text(x);
        }
        const char *cells[] = { name, roles ? roles[i] : NULL, parts, rf, leaders, insync, end,
                                x->err ? err : configs };
        if (!roles)
            memmove(cells + 1, cells + 2, 6 * sizeof *cells);
        rill_table_add(&tab, cells);
        free(configs);
        free(name);
    }
    rill_table_print(&tab, stdout);
    rill_table_free(&tab);
}

static int topics_usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill inspect topics [FILE] [-c FILE] [-F client.conf] [-X key=value]... "
            "[--json]\n\n"
            "Lists the topics of the cluster (those the user may describe), or with FILE\n"
            "those of that topology (declared ones, DLQs, changelogs, with their role):\n"
            "partitions, replication factor, leaders, partitions in sync, end offsets (the sum\n"
            "of the high watermarks) and the configs set on each. --json gives every\n"
            "partition's leader, replicas, ISR and watermarks and every config.\n\n%s",
            rill_icli_common_help);
    return rc;
}

int rill_inspect_topics_cmd(int argc, char **argv)
{
    static const struct option longopts[] = { RILL_ICLI_LONGOPTS, { NULL, 0, NULL, 0 } };
    struct rill_icli ic;
    char **names = NULL;
    const char **roles = NULL;
    size_t n = 0;
    int opt, rc = 1;
    if (rill_icli_init(&ic, "topics", argc))
        return 1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, RILL_ICLI_SHORTOPTS, longopts, NULL)) != -1)
        if (!rill_icli_option(&ic, opt, optarg)) {
            rc = topics_usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
            goto out;
        }
    if (optind < argc) {
        if (optind + 1 != argc || ic.file) {
            rc = topics_usage(stderr, 2);
            goto out;
        }
        ic.file = argv[optind];
        ic.file_scopes = 1;
    }
    if (rill_icli_connect(&ic, 1) ||
        (ic.file_scopes && rill_icli_topology_topics(&ic, &names, &roles, &n)))
        goto out;
    char err[RILL_ERRSTR_SIZE];
    struct rill_insp_topics t;
    if (rill_inspect_topics(ic.in, (const char *const *)names, n,
                            RILL_INSP_WATERMARKS | RILL_INSP_CONFIGS, &t, err, sizeof err)) {
        rill_icli_error(&ic, "%s", err);
        goto out;
    }
    if (ic.json) {
        rill_jsonw_t w;
        rill_jsonw_init(&w);
        rill_jsonw_object_begin(&w);
        rill_jsonw_key(&w, "topics");
        rill_jsonw_array_begin(&w);
        for (size_t i = 0; i < t.n; i++)
            topic_json(&w, &t.v[i], roles ? roles[i] : NULL);
        rill_jsonw_array_end(&w);
        rill_jsonw_object_end(&w);
        rc = print_json(&ic, &w) ? 1 : 0;
        rill_jsonw_free(&w);
    } else {
        topics_table(&t, roles);
        rc = 0;
    }
    /* a topic that is not there yet is shown as missing; one the broker
     * refuses to describe is an error of the command */
    size_t refused = 0;
    for (size_t i = 0; i < t.n; i++)
        refused += t.v[i].err && t.v[i].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    if (refused) {
        rill_icli_error(&ic, "%zu topic%s could not be described (see above)", refused,
                        refused > 1 ? "s" : "");
        rc = 1;
    }
    rill_insp_topics_free(&t);
out:
    rill_icli_topics_free(names, roles, n);
    rill_icli_done(&ic);
    return rc;
}

/* ---- describe ------------------------------------------------------------------------ */

static void describe_table(const struct rill_insp_topic *t, int all)
{
    static const char *const ph[] = { "PARTITION", "LEADER", "REPLICAS", "ISR", "LOW", "HIGH" };
    static const char *const ch[] = { "CONFIG", "VALUE", "SOURCE" };
    char *name = rill_icli_display(t->name, strlen(t->name));
    printf("topic %s: %d partitions, replication factor %d, end offsets %" PRId64 "\n\n",
           name ? name : "?", t->nparts, t->replication, t->end);
    free(name);
    struct rill_table tab;
    rill_table_init(&tab, 6, ph, "rrllrr");
    for (int i = 0; i < t->nparts; i++) {
        const struct rill_insp_part *p = &t->parts[i];
        char id[16], leader[16], reps[256], isr[256], lo[32], hi[32];
        snprintf(id, sizeof id, "%d", (int)p->id);
        snprintf(leader, sizeof leader, "%d", (int)p->leader);
        ids_text(reps, sizeof reps, p->replicas, p->nreplicas);
        ids_text(isr, sizeof isr, p->isr, p->nisr);
        snprintf(lo, sizeof lo, "%" PRId64, p->low);
        snprintf(hi, sizeof hi, "%" PRId64, p->high);
        const char *cells[] = { id, p->leader >= 0 ? leader : "none", reps, isr, lo, hi };
        rill_table_add(&tab, cells);
    }
    rill_table_print(&tab, stdout);
    rill_table_free(&tab);
    printf("\n");
    if (t->configs.error) {
        printf("configs: cannot describe them: %s\n", t->configs.error);
        return;
    }
    rill_table_init(&tab, 3, ch, "lll");
    for (size_t i = 0; i < t->configs.n; i++) {
        const struct rill_topic_config *c = &t->configs.v[i];
        if (!all && !config_set(c))
            continue;
        char *v = c->value ? rill_icli_display(c->value, strlen(c->value))
                           : strdup(c->sensitive ? "(sensitive)" : "(null)");
        const char *cells[] = { c->name, v,
                                rd_kafka_ConfigSource_name((rd_kafka_ConfigSource_t)c->source) };
        rill_table_add(&tab, cells);
        free(v);
    }
    if (tab.nrows)
        rill_table_print(&tab, stdout);
    else
        printf("configs: none set on the topic (--all-configs lists every config)\n");
    rill_table_free(&tab);
}

static int describe_usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill inspect describe TOPIC [-c FILE] [-F client.conf] [-X key=value]... "
            "[--all-configs] [--json]\n\n"
            "One topic partition by partition: leader, replicas, ISR, low and high\n"
            "watermark; then the configs set on it (every config with --all-configs).\n"
            "Exit status 1 when the topic does not exist or may not be described.\n\n%s",
            rill_icli_common_help);
    return rc;
}

int rill_inspect_describe_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "all-configs", no_argument, NULL, 'A' }, RILL_ICLI_LONGOPTS, { NULL, 0, NULL, 0 }
    };
    struct rill_icli ic;
    int opt, rc = 1, all = 0;
    if (rill_icli_init(&ic, "describe", argc))
        return 1;
    optind = 1;
    while ((opt = getopt_long(argc, argv, RILL_ICLI_SHORTOPTS, longopts, NULL)) != -1) {
        if (rill_icli_option(&ic, opt, optarg))
            continue;
        if (opt == 'A') {
            all = 1;
            continue;
        }
        rc = describe_usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
        goto out;
    }
    if (optind + 1 != argc) {
        rc = describe_usage(stderr, 2);
        goto out;
    }
    const char *topic = argv[optind];
    if (rill_icli_connect(&ic, 1))
        goto out;
    char err[RILL_ERRSTR_SIZE];
    struct rill_insp_topics t;
    if (rill_inspect_topics(ic.in, &topic, 1, RILL_INSP_WATERMARKS | RILL_INSP_CONFIGS, &t, err,
                            sizeof err)) {
        rill_icli_error(&ic, "%s", err);
        goto out;
    }
    if (t.v[0].err) {
        rill_insp_topic_error(&t.v[0], err, sizeof err);
        rill_icli_error(&ic, "%s", err);
    } else if (ic.json) {
        rill_jsonw_t w;
        rill_jsonw_init(&w);
        topic_json(&w, &t.v[0], NULL);
        rc = print_json(&ic, &w) ? 1 : 0;
        rill_jsonw_free(&w);
    } else {
        describe_table(&t.v[0], all);
        rc = 0;
    }
    rill_insp_topics_free(&t);
out:
    rill_icli_done(&ic);
    return rc;
}
