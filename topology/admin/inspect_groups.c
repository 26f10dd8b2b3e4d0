/*
 * inspect_groups.c - consumer groups as inspect.h describes them:
 * ListConsumerGroups, then per asked group DescribeConsumerGroups (state,
 * members and their assignments, in one request for all groups) and
 * ListConsumerGroupOffsets (librdkafka 2.0.2 takes one group per request),
 * the watermarks of the partitions, and the lag probe: the reading client
 * starts every partition that is behind at the group's position and waits
 * for its first record or its end, which tells records from markers.
 * Not here: where a sink's positions come from (the caller passes them).
 */
#include "topology/admin/inspect_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q)
{
    /* each request carries the timeout itself; this is its answer's way back */
    return rd_kafka_queue_poll(q, RILL_INSPECT_TIMEOUT_MS + 1000);
}

static rd_kafka_AdminOptions_t *admin_options(rill_inspect_t *in, rd_kafka_admin_op_t op)
{
    char e[RILL_ERRSTR_SIZE];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(in->meta.rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, RILL_INSPECT_TIMEOUT_MS, e, sizeof e);
    return o;
}

static rill_err_t event_error(rd_kafka_event_t *ev, const char *what, char *errstr, size_t errsz)
{
    if (!ev)
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot %s: no answer within %d ms", what,
                         RILL_INSPECT_TIMEOUT_MS);
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    if (!e)
        return RILL_OK;
    return rill_errf(errstr, errsz, insp_denied(e) ? RILL_ERR_AUTH : RILL_ERR_KAFKA,
                     "cannot %s: %s (%s)", what, rd_kafka_event_error_string(ev),
                     rd_kafka_err2name(e));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rill_insp_ids_free(char **ids, size_t n)
{
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

rill_err_t rill_inspect_list_groups(rill_inspect_t *in, char ***ids, size_t *n, char *errstr,
                                    size_t errsz)
{
    *ids = NULL;
    *n = 0;
    rd_kafka_queue_t *q = rd_kafka_queue_new(in->meta.rk);
    rd_kafka_AdminOptions_t *o = admin_options(in, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(in->meta.rk, o, q);
    rd_kafka_event_t *ev = admin_wait(q);
    rill_err_t err = event_error(ev, "list the consumer groups", errstr, errsz);
    if (!err) {
        const rd_kafka_ListConsumerGroups_result_t *res =
            rd_kafka_event_ListConsumerGroups_result(ev);
        size_t nv = 0, ne = 0;
        const rd_kafka_ConsumerGroupListing_t **v =
            rd_kafka_ListConsumerGroups_result_valid(res, &nv);
        const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &ne);
        if (ne && !nv)
            err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot list the consumer groups: %s (%s)",
                            rd_kafka_error_string(errs[0]), rd_kafka_error_name(errs[0]));
        else if (!(*ids = calloc(nv ? nv : 1, sizeof **ids)))
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !err && i < nv; i++)
            if (!((*ids)[(*n)++] = strdup(rd_kafka_ConsumerGroupListing_group_id(v[i]))))
                err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        if (!err)
            qsort(*ids, *n, sizeof **ids, cmp_str);
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    if (err) {
        rill_insp_ids_free(*ids, *n);
        *ids = NULL;
        *n = 0;
    }
    return err;
}

/* ---- one group -------------------------------------------------------------------- */

static int set_error(struct rill_insp_group *g, int code, const char *msg)
{
    char buf[512];
    g->err = code;
    snprintf(buf, sizeof buf, "%s: %s", rd_kafka_err2name(code), msg ? msg : rd_kafka_err2str(code));
    free(g->error);
    g->error = strdup(buf);
    return g->error ? 0 : -1;
}

/* State, members and assignor of g from its description; -1 when out of memory. */
static int take_description(struct rill_insp_group *g, const rd_kafka_ConsumerGroupDescription_t *d)
{
    const rd_kafka_error_t *e = rd_kafka_ConsumerGroupDescription_error(d);
    if (e)
        return set_error(g, rd_kafka_error_code(e), rd_kafka_error_string(e));
    g->state = insp_strdup(
        rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d)));
    g->simple = rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(d);
    const char *a = rd_kafka_ConsumerGroupDescription_partition_assignor(d);
    g->assignor = a && *a ? strdup(a) : NULL;
    const rd_kafka_Node_t *node = rd_kafka_ConsumerGroupDescription_coordinator(d);
    g->coordinator = node ? rd_kafka_Node_id(node) : -1;
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d);
    if (!g->state || !(g->members = calloc(nm ? nm : 1, sizeof *g->members)))
        return -1;
    for (size_t i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(d, i);
        struct rill_insp_member *x = &g->members[g->nmembers++];
        const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(m);
        const rd_kafka_topic_partition_list_t *pl = as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
        x->client_id = insp_strdup(rd_kafka_MemberDescription_client_id(m));
        x->consumer_id = insp_strdup(rd_kafka_MemberDescription_consumer_id(m));
        x->host = insp_strdup(rd_kafka_MemberDescription_host(m));
        x->instance_id = insp_strdup(rd_kafka_MemberDescription_group_instance_id(m));
        x->assignment = pl ? rd_kafka_topic_partition_list_copy(pl)
                           : rd_kafka_topic_partition_list_new(0);
        if (!x->client_id || !x->consumer_id || !x->host || !x->assignment)
            return -1;
    }
    return 0;
}

/* librdkafka 2.0.2 leaks about 200 bytes (in its coordinator lookup) for
 * every group request the broker refuses with GROUP_AUTHORIZATION_FAILED,
 * DescribeConsumerGroups and ListConsumerGroupOffsets alike (valgrind, a
 * ten-line program, nothing of rill's); a refused group is therefore asked
 * once (described) and its offsets are not fetched. */
static rill_err_t describe_all(rill_inspect_t *in, const struct rill_insp_group_query *q, size_t n,
                               struct rill_insp_groups *out, char *errstr, size_t errsz)
{
    const char **ids = calloc(n ? n : 1, sizeof *ids);
    if (!ids)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        ids[i] = q[i].id;
    rd_kafka_queue_t *qu = rd_kafka_queue_new(in->meta.rk);
    rd_kafka_AdminOptions_t *o = admin_options(in, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(in->meta.rk, ids, n, o, qu);
    rd_kafka_event_t *ev = admin_wait(qu);
    rill_err_t err = event_error(ev, "describe the consumer groups", errstr, errsz);
    if (!err) {
        size_t nd = 0;
        const rd_kafka_ConsumerGroupDescription_t **d = rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &nd);
        for (size_t i = 0; i < nd && !err; i++)
            for (size_t k = 0; k < out->n && !err; k++)
                if (!strcmp(out->v[k].id, rd_kafka_ConsumerGroupDescription_group_id(d[i])) &&
                    !out->v[k].state && !out->v[k].err && take_description(&out->v[k], d[i]))
                    err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(qu);
    free(ids);
    return err;
}

/* ---- committed offsets, a window of requests at a time ----------------------------- */

/* ListConsumerGroupOffsets requests in flight at once (one group each). */
#define OFFSETS_IN_FLIGHT 32

/* The answer to group g's offset request into *l, or g's error. */
static rill_err_t take_answer(struct rill_insp_group *g, rd_kafka_event_t *ev,
                              rd_kafka_topic_partition_list_t **l, char *errstr, size_t errsz)
{
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    if (e && !insp_denied(e))
        return rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot fetch the offsets of group '%s': %s (%s)",
                         g->id, rd_kafka_event_error_string(ev), rd_kafka_err2name(e));
    if (e) /* the group's own trouble, not the command's */
        return set_error(g, e, rd_kafka_event_error_string(ev))
                   ? rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory")
                   : RILL_OK;
    size_t ng = 0;
    const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &ng);
    const rd_kafka_error_t *ge = ng == 1 ? rd_kafka_group_result_error(gr[0]) : NULL;
    const rd_kafka_topic_partition_list_t *pl = ng == 1 ? rd_kafka_group_result_partitions(gr[0]) : NULL;
    if (ge)
        return set_error(g, rd_kafka_error_code(ge), rd_kafka_error_string(ge))
                   ? rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory")
                   : RILL_OK;
    *l = pl ? rd_kafka_topic_partition_list_copy(pl) : rd_kafka_topic_partition_list_new(0);
    return RILL_OK;
}

/* The committed offsets of every group not refused yet, for parts[i] (NULL:
 * all it committed), into l[i]. */
static rill_err_t fetch_offsets(rill_inspect_t *in, struct rill_insp_groups *out,
                                rd_kafka_topic_partition_list_t **parts,
                                rd_kafka_topic_partition_list_t **l, char *errstr, size_t errsz)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(in->meta.rk);
    size_t next = 0, pending = 0;
    rill_err_t err = RILL_OK;
    while (!err && (next < out->n || pending)) {
        for (; next < out->n && pending < OFFSETS_IN_FLIGHT; next++) {
            struct rill_insp_group *g = &out->v[next];
            if (g->err)
                continue; /* its description was refused: so would its offsets be */
            rd_kafka_AdminOptions_t *o = admin_options(in, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
            rd_kafka_AdminOptions_set_opaque(o, g);
            rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(
                g->id, parts[next] && parts[next]->cnt ? parts[next] : NULL);
            rd_kafka_ListConsumerGroupOffsets(in->meta.rk, &req, 1, o, q);
            rd_kafka_ListConsumerGroupOffsets_destroy(req);
            rd_kafka_AdminOptions_destroy(o);
            pending++;
        }
        if (!pending)
            break;
        rd_kafka_event_t *ev = admin_wait(q);
        if (!ev) {
            err = rill_errf(errstr, errsz, RILL_ERR_KAFKA,
                            "cannot fetch the groups' offsets: no answer within %d ms",
                            RILL_INSPECT_TIMEOUT_MS);
            break;
        }
        struct rill_insp_group *g = rd_kafka_event_opaque(ev);
        pending--;
        if (g && g >= out->v && g < out->v + out->n)
            err = take_answer(g, ev, &l[g - out->v], errstr, errsz);
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    return err;
}

/* ---- the partitions of all groups, once each ------------------------------------------ */

struct tp {
    const char *topic;
    int32_t partition;
    int64_t low, high;
    int wave;                 /* the last probe wave that started it; -1 */
};

static int cmp_tp(const void *a, const void *b)
{
    const struct tp *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

struct tps {
    struct tp *v;
    size_t n;
};

static struct tp *tp_find(const struct tps *t, const char *topic, int32_t partition)
{
    struct tp key = { topic, partition, 0, 0, 0 };
    return bsearch(&key, t->v, t->n, sizeof *t->v, cmp_tp);
}

/* Every partition of the lists, once, with its watermarks. */
static rill_err_t all_partitions(rill_inspect_t *in, rd_kafka_topic_partition_list_t **l, size_t n,
                                 struct tps *t, char *errstr, size_t errsz)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += l[i] ? (size_t)l[i]->cnt : 0;
    t->n = 0;
    if (!(t->v = calloc(total ? total : 1, sizeof *t->v)))
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        for (int k = 0; l[i] && k < l[i]->cnt; k++)
            t->v[t->n++] = (struct tp){ l[i]->elems[k].topic, l[i]->elems[k].partition, -1, -1, -1 };
    qsort(t->v, t->n, sizeof *t->v, cmp_tp);
    size_t u = 0;
    for (size_t i = 0; i < t->n; i++)
        if (!u || cmp_tp(&t->v[u - 1], &t->v[i]))
            t->v[u++] = t->v[i];
    t->n = u;
    rd_kafka_topic_partition_list_t *all = rd_kafka_topic_partition_list_new((int)(u ? u : 1));
    for (size_t i = 0; i < u; i++)
        rd_kafka_topic_partition_list_add(all, t->v[i].topic, t->v[i].partition);
    int64_t *low = calloc(u ? u : 1, sizeof *low), *high = calloc(u ? u : 1, sizeof *high);
    int first = 0;
    rill_err_t err = !low || !high ? rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory")
                                   : insp_watermarks(in->meta.rk, all, low, high, &first, errstr,
                                                     errsz);
    for (size_t i = 0; !err && i < u; i++) {
        t->v[i].low = low[i];
        t->v[i].high = high[i];
    }
    free(low);
    free(high);
    rd_kafka_topic_partition_list_destroy(all);
    return err;
}

static int cmp_offset(const void *a, const void *b)
{
    const struct rill_insp_offset *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static const char *member_of(const struct rill_insp_group *g, const char *topic, int32_t p)
{
    for (size_t i = 0; i < g->nmembers; i++) {
        const rd_kafka_topic_partition_list_t *a = g->members[i].assignment;
        for (int k = 0; k < a->cnt; k++)
            if (a->elems[k].partition == p && !strcmp(a->elems[k].topic, topic))
                return g->members[i].client_id;
    }
    return NULL;
}

/* The offsets of g from the committed list l, the watermarks in t and the
 * caller's positions. */
static rill_err_t take_offsets(struct rill_insp_group *g, const rd_kafka_topic_partition_list_t *l,
                               const struct tps *t, const struct rill_insp_group_query *q,
                               char *errstr, size_t errsz)
{
    if (!(g->offsets = calloc((size_t)(l->cnt ? l->cnt : 1), sizeof *g->offsets)))
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < l->cnt; i++) {
        const struct tp *w = tp_find(t, l->elems[i].topic, l->elems[i].partition);
        int64_t low = w ? w->low : -1;
        struct rill_insp_offset *o = &g->offsets[g->noffsets++];
        if (!(o->topic = strdup(l->elems[i].topic)))
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        o->partition = l->elems[i].partition;
        o->committed = l->elems[i].err || l->elems[i].offset < 0 ? -1 : l->elems[i].offset;
        o->end = w ? w->high : -1;
        o->position = o->committed;
        o->source = o->committed >= 0 ? RILL_INSP_POS_KAFKA : RILL_INSP_POS_NONE;
        for (size_t k = 0; k < q->npositions; k++)
            if (q->positions[k].partition == o->partition &&
                !strcmp(q->positions[k].topic, o->topic)) {
                o->position = q->positions[k].next_offset;
                o->source = RILL_INSP_POS_GIVEN;
            }
        if (o->source == RILL_INSP_POS_NONE)
            o->position = low; /* rill's groups start at the beginning */
        else if (o->position >= 0 && low > o->position)
            o->position = low; /* below the log start: it resumes at the start */
        o->offset_lag = o->end >= 0 && o->position >= 0 ? o->end - o->position : -1;
        if (o->offset_lag < 0 && o->end >= 0 && o->position >= 0)
            o->offset_lag = 0;
        o->lag = o->offset_lag;
        o->lag_exact = o->offset_lag == 0;
        o->member = member_of(g, o->topic, o->partition);
    }
    qsort(g->offsets, g->noffsets, sizeof *g->offsets, cmp_offset);
    return RILL_OK;
}

/* ---- the lag probe ------------------------------------------------------------------- */

struct probe_entry {
    struct rill_insp_offset *o;
    struct tp *tp;
    rd_kafka_topic_t *rkt;
    int state;                /* 0 waiting for a wave, 1 started, 2 answered */
};

/* One wave: every waiting entry whose partition no earlier entry of this
 * wave took is started at its position; each answers with its first
 * record or its end. Returns how many were started. */
static size_t probe_wave(rd_kafka_t *rk, struct probe_entry *e, size_t n, int wave)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    size_t started = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].state || e[i].tp->wave == wave)
            continue;
        e[i].tp->wave = wave;
        e[i].rkt = rd_kafka_topic_new(rk, e[i].o->topic, NULL);
        e[i].state = 2; /* unless it starts: then its offset_lag stays */
        if (e[i].rkt &&
            !rd_kafka_consume_start_queue(e[i].rkt, e[i].o->partition, e[i].o->position, q)) {
            e[i].state = 1;
            started++;
        }
    }
    size_t waiting = started;
    int64_t deadline = rill_now_ms() + RILL_INSPECT_TIMEOUT_MS;
    while (waiting && rill_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 100);
        if (!m)
            continue;
        const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        for (size_t i = 0; i < n; i++) {
            struct rill_insp_offset *o = e[i].o;
            if (e[i].state != 1 || e[i].tp->wave != wave || o->partition != m->partition ||
                strcmp(o->topic, topic))
                continue;
            if (!m->err || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* the first record's offset, or the end a reader reaches */
                int64_t at = m->offset > o->position ? m->offset : o->position;
                o->lag = o->end > at ? o->end - at : 0;
                o->lag_exact = 1;
            }
            e[i].state = 3; /* answered (an error keeps offset_lag) */
            waiting--;
        }
        rd_kafka_message_destroy(m);
    }
    for (size_t i = 0; i < n; i++) {
        if (e[i].rkt && e[i].tp->wave == wave && e[i].state != 0) {
            if (e[i].state == 1 || e[i].state == 3)
                rd_kafka_consume_stop(e[i].rkt, e[i].o->partition);
            rd_kafka_topic_destroy(e[i].rkt);
            e[i].rkt = NULL;
            e[i].state = 2;
        }
    }
    rd_kafka_queue_destroy(q);
    return started;
}

/* The lag of every partition that is behind its end, in waves that take a
 * partition once each (two groups behind on one partition need two). */
static rill_err_t probe(rill_inspect_t *in, struct rill_insp_groups *out, struct tps *t,
                        char *errstr, size_t errsz)
{
    size_t n = 0;
    for (size_t i = 0; i < out->n; i++)
        for (size_t k = 0; k < out->v[i].noffsets; k++)
            n += out->v[i].offsets[k].offset_lag > 0;
    if (!n)
        return RILL_OK;
    rd_kafka_t *rk;
    rill_err_t err = insp_reader(in, &rk, errstr, errsz);
    if (err)
        return err;
    struct probe_entry *e = calloc(n, sizeof *e);
    if (!e)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++)
        for (size_t j = 0; j < out->v[i].noffsets; j++) {
            struct rill_insp_offset *o = &out->v[i].offsets[j];
            struct tp *w = o->offset_lag > 0 ? tp_find(t, o->topic, o->partition) : NULL;
            if (w)
                e[k++] = (struct probe_entry){ o, w, NULL, 0 };
        }
    for (int wave = 0;; wave++) {
        size_t left = 0;
        for (size_t i = 0; i < k; i++)
            left += e[i].state == 0;
        if (!left)
            break;
        probe_wave(rk, e, k, wave);
    }
    free(e);
    return RILL_OK;
}

/* Every partition of each query's topics (one metadata request), for groups
 * that may not have committed them all; parts[i] NULL when q[i] names none. */
static rill_err_t query_parts(rill_inspect_t *in, const struct rill_insp_group_query *q, size_t n,
                              rd_kafka_topic_partition_list_t **parts, char *errstr, size_t errsz)
{
    int any = 0;
    for (size_t i = 0; i < n; i++)
        any |= q[i].topics && q[i].ntopics;
    if (!any)
        return RILL_OK;
    struct rill_insp_topics t;
    rill_err_t err = rill_inspect_topics(in, NULL, 0, 0, &t, errstr, errsz);
    if (err)
        return err;
    for (size_t i = 0; i < n; i++) {
        if (!q[i].topics || !q[i].ntopics)
            continue;
        parts[i] = rd_kafka_topic_partition_list_new(16);
        for (size_t j = 0; j < q[i].ntopics; j++) {
            const struct rill_insp_topic *x = rill_insp_topic_find(&t, q[i].topics[j]);
            for (int k = 0; x && k < x->nparts; k++)
                rd_kafka_topic_partition_list_add(parts[i], x->name, x->parts[k].id);
        }
    }
    rill_insp_topics_free(&t);
    return RILL_OK;
}

rill_err_t rill_inspect_groups(rill_inspect_t *in, const struct rill_insp_group_query *q,
                               size_t n, struct rill_insp_groups *out, char *errstr,
                               size_t errsz)
{
    memset(out, 0, sizeof *out);
    rd_kafka_topic_partition_list_t **parts = calloc(n ? n : 1, sizeof *parts),
                                    **l = calloc(n ? n : 1, sizeof *l);
    struct tps t = { 0 };
    rill_err_t err = RILL_OK;
    if (!parts || !l || !(out->v = calloc(n ? n : 1, sizeof *out->v)))
        err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n && !err; i++) {
        out->v[out->n].coordinator = -1;
        if (!(out->v[out->n++].id = strdup(q[i].id)))
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    if (!err && n)
        err = describe_all(in, q, n, out, errstr, errsz);
    if (!err)
        err = query_parts(in, q, n, parts, errstr, errsz);
    if (!err)
        err = fetch_offsets(in, out, parts, l, errstr, errsz);
    if (!err)
        err = all_partitions(in, l, n, &t, errstr, errsz);
    for (size_t i = 0; i < n && !err; i++)
        if (l[i])
            err = take_offsets(&out->v[i], l[i], &t, &q[i], errstr, errsz);
    if (!err)
        err = probe(in, out, &t, errstr, errsz);
    for (size_t i = 0; i < out->n && !err; i++) {
        struct rill_insp_group *g = &out->v[i];
        g->lag = g->err ? -1 : 0;
        for (size_t k = 0; k < g->noffsets && g->lag >= 0; k++)
            g->lag = g->offsets[k].lag < 0 ? -1 : g->lag + g->offsets[k].lag;
    }
    free(t.v); /* its topic names point into l */
    for (size_t i = 0; i < n; i++) {
        if (parts && parts[i])
            rd_kafka_topic_partition_list_destroy(parts[i]);
        if (l && l[i])
            rd_kafka_topic_partition_list_destroy(l[i]);
    }
    free(parts);
    free(l);
    if (err)
        rill_insp_groups_free(out);
    return err;
}

void rill_insp_groups_free(struct rill_insp_groups *g)
{
    for (size_t i = 0; g->v && i < g->n; i++) {
        struct rill_insp_group *x = &g->v[i];
        for (size_t k = 0; k < x->nmembers; k++) {
            free(x->members[k].client_id);
            free(x->members[k].consumer_id);
            free(x->members[k].host);
            free(x->members[k].instance_id);
            if (x->members[k].assignment)
                rd_kafka_topic_partition_list_destroy(x->members[k].assignment);
        }
        free(x->members);
        for (size_t k = 0; k < x->noffsets; k++)
            free(x->offsets[k].topic);
        free(x->offsets);
        free(x->id);
        free(x->state);
        free(x->assignor);
        free(x->error);
    }
    free(g->v);
    memset(g, 0, sizeof *g);
}
