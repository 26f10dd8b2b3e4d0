/*
 * cmd_inspect_groups.c - `rill inspect groups [FILE]`: consumer groups with
 * their state, members, and per partition the committed offset, the end
 * offset and the lag (in records: transaction markers are not counted; see
 * topology/admin/inspect.h). Without FILE: every group of the cluster (or
 * those of --group); with FILE: the groups of that topology's processors and
 * sinks, with every partition of their inputs.
 *
 * A rill sink keeps its position in PostgreSQL (rill_offsets, DESIGN.md
 * section 3.3) and commits the same offsets to Kafka only after each
 * PostgreSQL commit, for lag tools. Given the sinks' topology, the positions
 * are read from the sink's own database (its dsn:, never printed) and the lag
 * is counted from them; Kafka's copy is shown beside them.
 */
#include "topology/cli/inspect_cli.h"
#include "schemas/migrate.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PG_SETUP "SET statement_timeout = '10s'"
#define PG_POSITIONS "SELECT topic, partition, next_offset FROM rill_offsets WHERE group_id = $1"

static const char NOTE[] =
    "a rill sink keeps its position in PostgreSQL (rill_offsets); Kafka holds a copy, "
    "committed after each PostgreSQL commit. Give the sinks' topology file to read the "
    "positions themselves.";

/* One group to show, with what the topology says of it. */
struct gq {
    char id[512];
    const char *role;         /* "processor", "sink", or NULL */
    const char *name;         /* its YAML name */
    const struct rill_sink_conf *sink;
    struct rill_insp_position *pos; /* from PostgreSQL */
    size_t npos;
    char *pg_where;           /* user@host:port/db the positions came from */
    char *pg_error;           /* why they could not be read */
};

/* The positions of q's sink from its database into q->pos. */
static void pg_positions(struct gq *q)
{
    char err[RILL_ERRSTR_SIZE], where[256];
    PGconn *c = NULL;
    if (rill_migrate_connect(q->sink->dsn, &c, where, sizeof where, err, sizeof err) != RILL_OK) {
        q->pg_error = strdup(err);
        return;
    }
    q->pg_where = strdup(where);
    PGresult *r = PQexec(c, PG_SETUP);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    const char *params[1] = { q->id };
    r = ok ? PQexecParams(c, PG_POSITIONS, 1, NULL, params, NULL, NULL, 0) : NULL;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, sizeof err, "cannot read rill_offsets on %s: %s", where,
                 PQresultErrorMessage(r) && *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
                                                                      : PQerrorMessage(c));
        err[strcspn(err, "\n")] = '\0';
        q->pg_error = strdup(err);
    } else {
        int n = PQntuples(r);
        q->pos = calloc((size_t)(n ? n : 1), sizeof *q->pos);
        for (int i = 0; q->pos && i < n; i++) {
            char *topic = strdup(PQgetvalue(r, i, 0));
            if (!topic)
                break;
            q->pos[q->npos++] = (struct rill_insp_position){
                topic, (int32_t)atoi(PQgetvalue(r, i, 1)), strtoll(PQgetvalue(r, i, 2), NULL, 10)
            };
        }
        if (!q->pos)
            q->pg_error = strdup("out of memory");
    }
    PQclear(r);
    PQfinish(c);
}

static void gq_free(struct gq *q, size_t n)
{
    for (size_t i = 0; q && i < n; i++) {
        for (size_t k = 0; k < q[i].npos; k++)
            free((char *)q[i].pos[k].topic);
        free(q[i].pos);
        free(q[i].pg_where);
        free(q[i].pg_error);
    }
    free(q);
}

/* The topology's groups: its processors', then its sinks'. */
static struct gq *topology_groups(const struct rill_topology *t, size_t *n)
{
    *n = t->nprocs + t->nsinks;
    struct gq *q = calloc(*n ? *n : 1, sizeof *q);
    for (size_t i = 0; q && i < t->nprocs; i++) {
        snprintf(q[i].id, sizeof q[i].id, "%s.%s", t->application_id, t->procs[i].name);
        q[i].role = "processor";
        q[i].name = t->procs[i].name;
    }
    for (size_t i = 0; q && i < t->nsinks; i++) {
        struct gq *x = &q[t->nprocs + i];
        if (!rill_sink_group(t, &t->sinks[i], x->id, sizeof x->id))
            snprintf(x->id, sizeof x->id, "%s", t->sinks[i].name);
        x->role = "sink";
        x->name = t->sinks[i].name;
        x->sink = &t->sinks[i];
        if (t->sinks[i].dsn)
            pg_positions(x);
        else
            x->pg_error = strdup("the sink has no dsn");
    }
    return q;
}

static const char *source_name(int s)
{
    return s == RILL_INSP_POS_GIVEN ? "postgres" : s == RILL_INSP_POS_KAFKA ? "kafka" : "none";
}

static void int_or_null(rill_jsonw_t *w, int64_t v)
{
    if (v >= 0)
        rill_jsonw_int(w, v);
    else
        rill_jsonw_null(w);
}

static void group_json(rill_jsonw_t *w, const struct rill_insp_group *g, const struct gq *q)
{
    rill_jsonw_object_begin(w);
    rill_jsonw_key(w, "group");
    rill_jsonw_cstr(w, g->id);
    rill_jsonw_key(w, "role");
    rill_jsonw_cstr(w, q ? q->role : NULL);
    rill_jsonw_key(w, "name");
    rill_jsonw_cstr(w, q ? q->name : NULL);
    rill_jsonw_key(w, "state");
    rill_jsonw_cstr(w, g->state);
    rill_jsonw_key(w, "simple");
    rill_jsonw_bool(w, g->simple);
    rill_jsonw_key(w, "assignor");
    rill_jsonw_cstr(w, g->assignor);
    rill_jsonw_key(w, "coordinator");
    int_or_null(w, g->coordinator);
    rill_jsonw_key(w, "error");
    rill_jsonw_cstr(w, g->error);
    rill_jsonw_key(w, "lag");
    int_or_null(w, g->lag);
    if (q && q->sink) {
        rill_jsonw_key(w, "postgres");
        rill_jsonw_cstr(w, q->pg_where);
        rill_jsonw_key(w, "postgres_error");
        rill_jsonw_cstr(w, q->pg_error);
    }
    rill_jsonw_key(w, "members");
    rill_jsonw_array_begin(w);
    for (size_t i = 0; i < g->nmembers; i++) {
        const struct rill_insp_member *m = &g->members[i];
        rill_jsonw_object_begin(w);
        rill_jsonw_key(w, "client_id");
        rill_jsonw_cstr(w, m->client_id);
        rill_jsonw_key(w, "consumer_id");
        rill_jsonw_cstr(w, m->consumer_id);
        rill_jsonw_key(w, "host");
        rill_jsonw_cstr(w, m->host);
        rill_jsonw_key(w, "group_instance_id");
        rill_jsonw_cstr(w, m->instance_id);
        rill_jsonw_key(w, "assignment");
        rill_jsonw_array_begin(w);
        for (int k = 0; k < m->assignment->cnt; k++) {
            rill_jsonw_object_begin(w);
            rill_jsonw_key(w, "topic");
            rill_jsonw_cstr(w, m->assignment->elems[k].topic);
            rill_jsonw_key(w, "partition");
            rill_jsonw_int(w, m->assignment->elems[k].partition);
            rill_jsonw_object_end(w);
        }
        rill_jsonw_array_end(w);
        rill_jsonw_object_end(w);
    }
    rill_jsonw_array_end(w);
    rill_jsonw_key(w, "partitions");
    rill_jsonw_array_begin(w);
    for (size_t i = 0; i < g->noffsets; i++) {
        const struct rill_insp_offset *o = &g->offsets[i];
        rill_jsonw_object_begin(w);
        rill_jsonw_key(w, "topic");
        rill_jsonw_cstr(w, o->topic);
        rill_jsonw_key(w, "partition");
        rill_jsonw_int(w, o->partition);
        rill_jsonw_key(w, "committed");
        int_or_null(w, o->committed);
        rill_jsonw_key(w, "position");
        int_or_null(w, o->position);
        rill_jsonw_key(w, "position_source");
        rill_jsonw_cstr(w, source_name(o->source));
        rill_jsonw_key(w, "end");
        int_or_null(w, o->end);
        rill_jsonw_key(w, "lag");
        int_or_null(w, o->lag);
        rill_jsonw_key(w, "offset_lag");
        int_or_null(w, o->offset_lag);
        rill_jsonw_key(w, "lag_exact");
        rill_jsonw_bool(w, o->lag_exact);
        rill_jsonw_key(w, "member");
        rill_jsonw_cstr(w, o->member);
        rill_jsonw_object_end(w);
    }
    rill_jsonw_array_end(w);
    rill_jsonw_object_end(w);
}

static void num(char *buf, size_t size, int64_t v)
{
    if (v >= 0)
        snprintf(buf, size, "%" PRId64, v);
    else
        snprintf(buf, size, "-");
}

static void groups_tables(const struct rill_insp_groups *g, const struct gq *q)
{
    static const char *const sh[] = { "GROUP", "ROLE", "STATE", "MEMBERS", "PARTITIONS", "LAG",
                                      "POSITIONS" };
    static const char *const sh_noroles[] = { "GROUP", "STATE", "MEMBERS", "PARTITIONS", "LAG",
                                              "POSITIONS" };
    static const char *const ph[] = { "GROUP", "TOPIC", "PARTITION", "COMMITTED", "POSITION",
                                      "END", "LAG", "MEMBER" };
    struct rill_table tab;
    if (q)
        rill_table_init(&tab, 7, sh, "lllrrrl");
    else /* no ROLE without a topology */
        rill_table_init(&tab, 6, sh_noroles, "llrrrl");
    for (size_t i = 0; i < g->n; i++) {
        const struct rill_insp_group *x = &g->v[i];
        char members[16], parts[16], lag[32], where[600];
        snprintf(members, sizeof members, "%zu", x->nmembers);
        snprintf(parts, sizeof parts, "%zu", x->noffsets);
        num(lag, sizeof lag, x->lag);
        if (q && q[i].sink && q[i].pg_error)
            snprintf(where, sizeof where, "kafka (postgres: %s)", q[i].pg_error);
        else
            snprintf(where, sizeof where, "%s", q && q[i].sink ? "postgres" : "kafka");
        const char *cells[] = { x->id, q ? q[i].role : NULL, x->err ? x->error : x->state,
                                members, parts, lag, where };
        if (!q)
            memmove(cells + 1, cells + 2, 5 * sizeof *cells);
        rill_table_add(&tab, cells);
    }
    rill_table_print(&tab, stdout);
    rill_table_free(&tab);
    rill_table_init(&tab, 8, ph, "llrrrrrl");
    for (size_t i = 0; i < g->n; i++)
        for (size_t k = 0; k < g->v[i].noffsets; k++) {
            const struct rill_insp_offset *o = &g->v[i].offsets[k];
            char p[16], c[32], pos[48], end[32], lag[48];
            snprintf(p, sizeof p, "%d", (int)o->partition);
            num(c, sizeof c, o->committed);
            num(pos, sizeof pos, o->position);
            if (o->source == RILL_INSP_POS_GIVEN)
                strncat(pos, " (pg)", sizeof pos - strlen(pos) - 1);
            else if (o->source == RILL_INSP_POS_NONE)
                strncat(pos, " (start)", sizeof pos - strlen(pos) - 1);
            num(end, sizeof end, o->end);
            num(lag, sizeof lag, o->lag);
            if (!o->lag_exact && o->lag > 0)
                strncat(lag, " (offsets)", sizeof lag - strlen(lag) - 1);
            const char *cells[] = { g->v[i].id, o->topic, p, c, pos, end, lag, o->member };
            rill_table_add(&tab, cells);
        }
    if (tab.nrows) {
        printf("\n");
        rill_table_print(&tab, stdout);
    }
    rill_table_free(&tab);
}

static int usage(FILE *out, int rc)
{
    fprintf(out,
            "usage: rill inspect groups [FILE] [-c FILE] [--group GROUP]... [-F client.conf] "
            "[-X key=value]... [--json]\n\n"
            "Consumer groups: state, members and what each holds, and per partition the\n"
            "committed offset, where the group resumes, the end offset and the lag in\n"
            "records (transaction markers take an offset but are not records, so they are\n"
            "not counted; --json also gives offset_lag, the plain difference Kafka's tools\n"
            "show). Without FILE: every group the user may describe, or those of --group.\n"
            "With FILE: the groups of that topology's processors and sinks, every partition\n"
            "of their inputs; a sink's position is read from its PostgreSQL database.\n\n%s",
            rill_icli_common_help);
    return rc;
}

int rill_inspect_groups_cmd(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "group", required_argument, NULL, 'g' }, RILL_ICLI_LONGOPTS, { NULL, 0, NULL, 0 }
    };
    struct rill_icli ic;
    const char **only = calloc(argc > 0 ? (size_t)argc : 1, sizeof *only);
    size_t nonly = 0, nq = 0, nids = 0;
    char **ids = NULL;
    struct gq *gq = NULL;
    struct rill_insp_group_query *q = NULL;
    struct rill_insp_groups g = { 0 };
    int opt, rc = 1;
    char err[RILL_ERRSTR_SIZE];
    if (!only || rill_icli_init(&ic, "groups", argc)) {
        free(only);
        return 1;
    }
    optind = 1;
    while ((opt = getopt_long(argc, argv, "g:" RILL_ICLI_SHORTOPTS, longopts, NULL)) != -1) {
        if (rill_icli_option(&ic, opt, optarg))
            continue;
        if (opt == 'g') {
            only[nonly++] = optarg;
            continue;
        }
        rc = usage(opt == 'h' ? stdout : stderr, opt == 'h' ? 0 : 2);
        goto out;
    }
    if (optind < argc) {
        if (optind + 1 != argc || ic.file || nonly) {
            rc = usage(stderr, 2);
            goto out;
        }
        ic.file = argv[optind];
        ic.file_scopes = 1;
    }
    if (rill_icli_connect(&ic, 1))
        goto out;
    if (ic.file_scopes) {
        if (!(gq = topology_groups(ic.t, &nq)))
            goto oom;
    } else {
        if (!nonly && rill_inspect_list_groups(ic.in, &ids, &nids, err, sizeof err)) {
            rill_icli_error(&ic, "%s", err);
            goto out;
        }
        nq = nonly ? nonly : nids;
    }
    if (!(q = calloc(nq ? nq : 1, sizeof *q)))
        goto oom;
    for (size_t i = 0; i < nq; i++) {
        q[i].id = gq ? gq[i].id : nonly ? only[i] : ids[i];
        if (gq && gq[i].role[0] == 'p') {
            const struct rill_proc_conf *p = &ic.t->procs[i];
            q[i].topics = (const char *const *)p->inputs.v;
            q[i].ntopics = p->inputs.n;
        } else if (gq) {
            q[i].topics = (const char *const *)gq[i].sink->inputs.v;
            q[i].ntopics = gq[i].sink->inputs.n;
            q[i].positions = gq[i].pos;
            q[i].npositions = gq[i].npos;
        }
    }
    if (rill_inspect_groups(ic.in, q, nq, &g, err, sizeof err)) {
        rill_icli_error(&ic, "%s", err);
        goto out;
    }
    /* a group the broker refused is an error of the command; one that does
     * not exist is shown as it is (Dead, nothing committed) */
    int refused = 0;
    for (size_t i = 0; i < g.n; i++)
        if (g.v[i].err)
            refused++;
    if (ic.json) {
        rill_jsonw_t w;
        rill_jsonw_init(&w);
        rill_jsonw_object_begin(&w);
        rill_jsonw_key(&w, "groups");
        rill_jsonw_array_begin(&w);
        for (size_t i = 0; i < g.n; i++)
            group_json(&w, &g.v[i], gq ? &gq[i] : NULL);
        rill_jsonw_array_end(&w);
        rill_jsonw_key(&w, "note");
        rill_jsonw_cstr(&w, NOTE);
        rill_jsonw_object_end(&w);
        if (rill_jsonw_failed(&w)) {
            rill_jsonw_free(&w);
            goto oom;
        }
        printf("%s\n", w.p);
        rill_jsonw_free(&w);
    } else {
        groups_tables(&g, gq);
        if (!gq)
            printf("\nnote: %s\n", NOTE);
    }
    rc = refused ? 1 : 0;
    if (refused)
        rill_icli_error(&ic, "%d group%s could not be described (see above)", refused,
                        refused > 1 ? "s" : "");
    goto out;
oom:
    rill_icli_error(&ic, "out of memory");
out:
    rill_insp_groups_free(&g);
    free(q);
    gq_free(gq, nq);
    rill_insp_ids_free(ids, nids);
    free(only);
    rill_icli_done(&ic);
    return rc;
}
