/*
 * cmd_apply.c - `rill apply FILE [--dry-run] [-F FILE]... [-X key=value]...`:
 * creates or updates, idempotently, the topics, changelogs, DLQs and ACLs a
 * topology needs, and prints one line per action and a summary. The client
 * settings are the topology's top-level kafka: map, then each -F file, then
 * each -X (an operator passes admin credentials there, not in the YAML).
 * --dry-run reads the cluster and prints the plan without changing anything.
 * Exit status: 0 done, 1 failed (nothing or part applied, said which), 2
 * usage. The planning and the Kafka calls are apply.c's and apply_kafka.c's.
 */
#include "topology/admin/apply.h"
#include "processors/registry.h"
#include "topology/cli/kprops.h"
#include "topology/cli/cli.h"
#include "topology/model/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int apply_usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill apply FILE [--dry-run] [-F FILE]... [-X key=value]...\n"
            "\n"
            "Creates or updates, idempotently, what the topology in FILE needs from Kafka:\n"
            "its topics (partitions, 7-day retention unless set), a compacted changelog per\n"
            "store, a DLQ per processor or input (30-day retention), and the ACLs of every\n"
            "processor, sink and client user. Never deletes anything. Prints one line per\n"
            "action (create, alter, exists, add acl, ...) and a summary.\n"
            "\n"
            "  --dry-run      read the cluster and print the plan; change nothing\n"
            "  -F FILE        librdkafka properties file (key=value lines), read after the\n"
            "                 topology's kafka: map, e.g. the admin's credentials\n"
            "  -X key=value   one librdkafka property, read last\n"
            "  --help         this text\n");
    return rc;
}

struct counts {
    size_t created, altered, unchanged, added, acl_unchanged, skipped, failed;
};

/* Distinct topics altered: a topic may have both a partition and a config action. */
static int altered_before(const struct rill_apply_plan *p, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if ((p->v[j].kind == RILL_ACT_ADD_PARTITIONS || p->v[j].kind == RILL_ACT_ALTER_CONFIGS) &&
            !p->v[j].error[0] && !strcmp(p->v[j].topic, p->v[i].topic))
            return 1;
    return 0;
}

static struct counts count(const struct rill_apply_plan *p)
{
    struct counts c = { 0 };
    for (size_t i = 0; i < p->n; i++) {
        const struct rill_action *a = &p->v[i];
        if (a->error[0]) {
            c.failed++;
            continue;
        }
        switch (a->kind) {
        case RILL_ACT_CREATE_TOPIC:
            c.created++;
            break;
        case RILL_ACT_ADD_PARTITIONS:
        case RILL_ACT_ALTER_CONFIGS:
            c.altered += !altered_before(p, i);
            break;
        case RILL_ACT_TOPIC_EXISTS:
            c.unchanged++;
            break;
        case RILL_ACT_ADD_ACL:
            c.added++;
            break;
        case RILL_ACT_ACL_EXISTS:
            c.acl_unchanged++;
            break;
        case RILL_ACT_SKIP_ACLS:
            c.skipped++;
            break;
        default:
            break;
        }
    }
    return c;
}

int rill_cmd_apply(int argc, char **argv)
{
    const char *file = NULL;
    int dry = 0;
    struct rill_kprops_args ka;
    int rc = 2;
    if (rill_kprops_args_init(&ka, argc) != RILL_OK) {
        fprintf(stderr, "rill apply: out of memory\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            rc = apply_usage(stdout, 0);
            goto out_args;
        } else if (!strcmp(argv[i], "--dry-run")) {
            dry = 1;
        } else if (!strcmp(argv[i], "-F") || !strcmp(argv[i], "-X")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "rill apply: %s needs an argument\n", argv[i]);
                rc = apply_usage(stderr, 2);
                goto out_args;
            }
            rill_kprops_args_add(&ka, argv[i][1], argv[i + 1]);
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "rill apply: unknown option '%s'\n", argv[i]);
            rc = apply_usage(stderr, 2);
            goto out_args;
        } else if (!file) {
            file = argv[i];
        } else {
            fprintf(stderr, "rill apply: expected one FILE, got '%s' too\n", argv[i]);
            rc = apply_usage(stderr, 2);
            goto out_args;
        }
    }
    if (!file) {
        rc = apply_usage(stderr, 2);
        goto out_args;
    }

    char err[RILL_ERRSTR_SIZE];
    struct rill_topology *t = NULL;
    struct rill_kvlist conf = { 0 };
    struct rill_apply_want *want = NULL;
    struct rill_apply_have *have = NULL;
    struct rill_apply_plan *plan = NULL;
    rill_apply_conn_t *conn = NULL;
    rc = 1;
    if (rill_topology_load(file, &t, err, sizeof err) != RILL_OK ||
        rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, sizeof err) !=
            RILL_OK ||
        rill_kprops_collect(&t->kafka, ka.files, ka.nfiles, ka.sets, ka.nsets, &conf, err,
                            sizeof err) != RILL_OK ||
        rill_apply_want(t, &want, err, sizeof err) != RILL_OK ||
        rill_apply_connect(&conf, &conn, err, sizeof err) != RILL_OK ||
        rill_apply_describe(conn, want, &have, err, sizeof err) != RILL_OK ||
        rill_apply_plan(want, have, &plan, err, sizeof err) != RILL_OK) {
        fprintf(stderr, "rill apply: %s\n", err);
        goto out;
    }
    rill_err_t xerr = RILL_OK;
    if (!dry && !plan->refused)
        xerr = rill_apply_execute(conn, want, plan, err, sizeof err);
    for (size_t i = 0; i < plan->n; i++) {
        printf("%s\n", plan->v[i].line);
        if (plan->v[i].error[0]) {
            fflush(stdout);
            fprintf(stderr, "rill apply: %s\n", plan->v[i].error);
        }
    }
    struct counts c = count(plan);
    if (dry || plan->refused)
        printf("%s, nothing changed: topics: %zu to create, %zu to alter, %zu unchanged; "
               "acls: %zu to add, %zu unchanged",
               dry ? "dry run" : "refused", c.created, c.altered, c.unchanged, c.added,
               c.acl_unchanged);
    else
        printf("%s: topics: %zu created, %zu altered, %zu unchanged; acls: %zu added, %zu "
               "unchanged",
               xerr ? "failed" : "applied", c.created, c.altered, c.unchanged, c.added,
               c.acl_unchanged);
    if (c.skipped)
        printf("; %zu without a kafka user", c.skipped);
    if (c.failed)
        printf("; %zu failed", c.failed);
    printf("\n");
    fflush(stdout);
    if (plan->refused)
        fprintf(stderr, "rill apply: the plan has %zu error%s: %s\n", plan->refused,
                plan->refused == 1 ? "" : "s",
                dry ? "applying it would change nothing" : "nothing was changed");
    else if (xerr)
        fprintf(stderr, "rill apply: %s\n", err);
    rc = plan->refused || xerr ? 1 : 0;
out:
    rill_apply_plan_free(plan);
    rill_apply_have_free(have);
    rill_apply_disconnect(conn);
    rill_apply_want_free(want);
    rill_kvlist_clear(&conf);
    rill_topology_free(t);
out_args:
    rill_kprops_args_free(&ka);
    return rc;
}
