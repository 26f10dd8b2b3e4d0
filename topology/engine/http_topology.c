/*
 * http_topology.c - GET /topology: the topology as JSON, with what this
 * instance holds of it right now. One object:
 *
 *   { "application_id", "instance", "guarantee", "version",
 *     "nodes": [
 *       { "kind": "topic", "name", "role": "topic"|"changelog"|"dlq",
 *         "feedback": bool (fed back upstream), "partitions": N or null },
 *       { "kind": "processor", "name", "type", "group", "inputs", "outputs",
 *         "dlq": [topics], "stores": [{ "name", "type", "changelog": topic or null }],
 *         "partitions": N or null (of its inputs),
 *         "threads": [{ "thread": i, "tasks": [{ "id": "<processor>-<partition>",
 *           "partition", "partitions": [{ "topic", "partition" }],
 *           "state": "restoring"|"running",
 *           "restore": { "store", "done", "total" or null } or null }] }] },
 *       { "kind": "sink", "name", "type", "group", "inputs",
 *         "partitions": [{ "topic", "partition", "state": "claiming"|"running" }] } ] }
 *
 * Topics come in the engine's topic table (every topic the topology names;
 * partition counts from the YAML or the startup probe); tasks from each
 * thread's assignment view (view_int.h), copied under its lock: nothing a
 * stream or sink thread changes is read here otherwise but the threads'
 * relaxed-atomic restore metrics: changelog offsets of the store being
 * restored, done of total. Not the web view's
 * drawing of it (web/web.js).
 */
#include "topology/engine/http_int.h"
#include "topology/engine/sink_int.h"
#include "topology/rill.h"

#include <stdlib.h>

static const char *const roles[] = {
    [VIEW_TOPIC] = "topic", [VIEW_CHANGELOG] = "changelog", [VIEW_DLQ] = "dlq",
};

static void put_list(struct text *t, const struct rill_strlist *l)
{
    text_put(t, "[");
    for (size_t i = 0; i < l->n; i++) {
        text_put(t, "%s", i ? "," : "");
        text_json(t, l->v[i]);
    }
    text_put(t, "]");
}

static void put_partitions(struct text *t, int32_t n)
{
    if (n >= 0)
        text_put(t, "%d", (int)n);
    else
        text_put(t, "null");
}

static void put_topic(struct text *t, const struct rill_engine *e, const struct view_topic *vt)
{
    const struct rill_topic_conf *tc = rill_topology_topic(e->t, vt->name);
    text_put(t, "{\"kind\":\"topic\",\"name\":");
    text_json(t, vt->name);
    text_put(t, ",\"role\":\"%s\",\"feedback\":%s,\"partitions\":", roles[vt->kind],
             tc && tc->feedback ? "true" : "false");
    put_partitions(t, vt->partitions);
    text_put(t, "}");
}

static void put_stores(struct text *t, const struct rill_engine *e,
                       const struct rill_proc_conf *pc)
{
    text_put(t, "[");
    for (size_t i = 0; i < pc->stores.n; i++) {
        const struct rill_store_conf *sc = rill_topology_store(e->t, pc->stores.v[i]);
        char cl[ENGINE_TOPIC_SIZE];
        int has_cl = (!sc || sc->changelog) &&
                     rill_topology_changelog(e->t, pc->stores.v[i], cl, sizeof cl) == RILL_OK;
        text_put(t, "%s{\"name\":", i ? "," : "");
        text_json(t, pc->stores.v[i]);
        text_put(t, ",\"type\":");
        text_json(t, sc && sc->type ? sc->type : "rocksdb");
        text_put(t, ",\"changelog\":");
        text_json(t, has_cl ? cl : NULL);
        text_put(t, "}");
    }
    text_put(t, "]");
}

/* How far a restoring task is: the thread's restore metrics (engine_int.h),
 * when they are about this task: the store, and changelog offsets done of
 * total (null while the end is not known). null otherwise. */
static void put_restore(struct text *t, const struct sthread *st, const struct view_task *vt)
{
    const struct restore_metrics *r = &st->m.restore;
    int s = METRIC_GET(r->store);
    if (!vt->restoring || METRIC_GET(r->partition) != vt->partition || s < 0 ||
        (size_t)s >= st->pc->stores.n) {
        text_put(t, "null");
        return;
    }
    int64_t from = METRIC_GET(r->at.from), at = METRIC_GET(r->at.at), to = METRIC_GET(r->at.to);
    text_put(t, "{\"store\":");
    text_json(t, st->pc->stores.v[s]);
    if (from < 0 || to < 0)
        text_put(t, ",\"done\":0,\"total\":null}");
    else
        text_put(t, ",\"done\":%lld,\"total\":%lld}", (long long)(at > from ? at - from : 0),
                 (long long)(to > from ? to - from : 0));
}

static void put_tasks(struct text *t, struct sthread *st)
{
    struct view_task *v = NULL;
    size_t n = view_copy(&st->view, &v);
    text_put(t, "{\"thread\":%d,\"tasks\":[", st->idx);
    for (size_t i = 0; i < n; i++) {
        text_put(t, "%s{\"id\":", i ? "," : "");
        char id[ENGINE_TOPIC_SIZE + 16];
        snprintf(id, sizeof id, "%s-%d", st->pc->name, (int)v[i].partition);
        text_json(t, id);
        text_put(t, ",\"partition\":%d,\"partitions\":[", (int)v[i].partition);
        for (size_t k = 0; k < st->pc->inputs.n; k++) {
            text_put(t, "%s{\"topic\":", k ? "," : "");
            text_json(t, st->pc->inputs.v[k]);
            text_put(t, ",\"partition\":%d}", (int)v[i].partition);
        }
        text_put(t, "],\"state\":\"%s\",\"restore\":", v[i].restoring ? "restoring" : "running");
        put_restore(t, st, &v[i]);
        text_put(t, "}");
    }
    text_put(t, "]}");
    free(v);
}

static void put_processor(struct text *t, const struct rill_engine *e, size_t p)
{
    const struct rill_proc_conf *pc = &e->t->procs[p];
    size_t per = (size_t)e->t->num_stream_threads;
    text_put(t, "{\"kind\":\"processor\",\"name\":");
    text_json(t, pc->name);
    text_put(t, ",\"type\":");
    text_json(t, pc->library ? "library" : pc->type);
    text_put(t, ",\"group\":");
    text_json(t, e->threads[p * per].group);
    text_put(t, ",\"inputs\":");
    put_list(t, &pc->inputs);
    text_put(t, ",\"outputs\":");
    put_list(t, &pc->outputs);
    text_put(t, ",\"dlq\":[");
    if (pc->dlq) /* one for every input */
        text_json(t, pc->dlq);
    for (size_t i = 0; !pc->dlq && i < pc->inputs.n; i++) {
        char dlq[ENGINE_TOPIC_SIZE];
        snprintf(dlq, sizeof dlq, "%s.dlq", pc->inputs.v[i]);
        text_put(t, "%s", i ? "," : "");
        text_json(t, dlq);
    }
    text_put(t, "],\"stores\":");
    put_stores(t, e, pc);
    const struct view_topic *in = pc->inputs.n ? view_topic_find(e, pc->inputs.v[0]) : NULL;
    text_put(t, ",\"partitions\":");
    put_partitions(t, in ? in->partitions : -1);
    text_put(t, ",\"threads\":[");
    for (size_t i = 0; i < per; i++) {
        text_put(t, "%s", i ? "," : "");
        put_tasks(t, &e->threads[p * per + i]);
    }
    text_put(t, "]}");
}

static void put_sink(struct text *t, struct sink_thread *s)
{
    struct view_task *v = NULL;
    size_t n = view_copy(&s->view, &v);
    text_put(t, "{\"kind\":\"sink\",\"name\":");
    text_json(t, s->sc->name);
    text_put(t, ",\"type\":");
    text_json(t, s->sc->type);
    text_put(t, ",\"group\":");
    text_json(t, s->group);
    text_put(t, ",\"inputs\":");
    put_list(t, &s->sc->inputs);
    text_put(t, ",\"partitions\":[");
    for (size_t i = 0; i < n; i++) {
        text_put(t, "%s{\"topic\":", i ? "," : "");
        text_json(t, v[i].topic);
        text_put(t, ",\"partition\":%d,\"state\":\"%s\"}", (int)v[i].partition,
                 v[i].restoring ? "claiming" : "running");
    }
    text_put(t, "]}");
    free(v);
}

enum MHD_Result http_topology(const struct rill_engine *e, struct MHD_Connection *c)
{
    struct text t = { 0 };
    text_put(&t, "{\"application_id\":");
    text_json(&t, e->t->application_id);
    text_put(&t, ",\"instance\":");
    text_json(&t, e->instance_id);
    text_put(&t, ",\"guarantee\":\"%s\",\"version\":",
             e->eos ? "exactly_once_v2" : "at_least_once");
    text_json(&t, RILL_VERSION);
    text_put(&t, ",\"nodes\":[");
    int first = 1;
    for (size_t i = 0; i < e->ntopics; i++, first = 0) {
        text_put(&t, "%s", first ? "" : ",");
        put_topic(&t, e, &e->topics[i]);
    }
    for (size_t p = 0; p < e->t->nprocs; p++, first = 0) {
        text_put(&t, "%s", first ? "" : ",");
        put_processor(&t, e, p);
    }
    for (size_t i = 0; i < e->nsinks; i++, first = 0) {
        text_put(&t, "%s", first ? "" : ",");
        put_sink(&t, &e->sinks[i]);
    }
    text_put(&t, "]}\n");
    return http_reply(c, MHD_HTTP_OK, "application/json", &t, NULL, NULL);
}
