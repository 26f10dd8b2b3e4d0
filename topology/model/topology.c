/*
 * topology.c - the loaded topology as data (config.h): lookups by name, the
 * key/value lists, the names derived from it (a store's changelog topic, a
 * sink's group), freeing. Nothing here parses YAML; that is config.c's.
 */
#include "topology/model/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rill_err_t rill_parse_int64(const char *s, int64_t *out)
{
    if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
        return RILL_ERR_INVALID;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return RILL_ERR_INVALID;
    *out = v;
    return RILL_OK;
}

rill_err_t rill_kvlist_set(struct rill_kvlist *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].key, key)) {
            char *v = strdup(value);
            if (!v)
                return RILL_ERR_NOMEM;
            free(l->v[i].value);
            l->v[i].value = v;
            return RILL_OK;
        }
    struct rill_kv *v = realloc(l->v, (l->n + 1) * sizeof *v);
    if (!v)
        return RILL_ERR_NOMEM;
    l->v = v;
    struct rill_kv *kv = &l->v[l->n];
    memset(kv, 0, sizeof *kv);
    kv->key = strdup(key);
    kv->value = strdup(value);
    if (!kv->key || !kv->value) {
        free(kv->key);
        free(kv->value);
        return RILL_ERR_NOMEM;
    }
    l->n++;
    return RILL_OK;
}

void rill_kvlist_clear(struct rill_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void strlist_free(struct rill_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

void rill_topology_free(struct rill_topology *t)
{
    if (!t)
        return;
    free(t->path);
    free(t->application_id);
    free(t->state_dir);
    free(t->http_address);
    rill_kvlist_clear(&t->log_levels);
    rill_kvlist_clear(&t->kafka);
    for (size_t i = 0; i < t->ntopics; i++) {
        free(t->topics[i].name);
        rill_kvlist_clear(&t->topics[i].configs);
    }
    free(t->topics);
    for (size_t i = 0; i < t->nstores; i++) {
        free(t->stores[i].name);
        free(t->stores[i].type);
    }
    free(t->stores);
    for (size_t i = 0; i < t->nprocs; i++) {
        struct rill_proc_conf *p = &t->procs[i];
        free(p->name);
        free(p->type);
        free(p->library);
        strlist_free(&p->inputs);
        strlist_free(&p->outputs);
        strlist_free(&p->stores);
        free(p->dlq);
        rill_kvlist_clear(&p->config);
        rill_kvlist_clear(&p->kafka);
        rill_kvlist_clear(&p->rekey);
    }
    free(t->procs);
    for (size_t i = 0; i < t->nsinks; i++) {
        struct rill_sink_conf *s = &t->sinks[i];
        free(s->name);
        free(s->type);
        strlist_free(&s->inputs);
        free(s->group);
        free(s->dsn);
        rill_kvlist_clear(&s->config);
        rill_kvlist_clear(&s->kafka);
    }
    free(t->sinks);
    for (size_t i = 0; i < t->nclients; i++) {
        struct rill_client_conf *c = &t->clients[i];
        free(c->name);
        free(c->user);
        strlist_free(&c->writes);
        strlist_free(&c->reads);
        free(c->group);
    }
    free(t->clients);
    free(t);
}

const struct rill_topic_conf *rill_topology_topic(const struct rill_topology *t, const char *name)
{
    for (size_t i = 0; t && name && i < t->ntopics; i++)
        if (!strcmp(t->topics[i].name, name))
            return &t->topics[i];
    return NULL;
}

const struct rill_store_conf *rill_topology_store(const struct rill_topology *t, const char *name)
{
    for (size_t i = 0; i < t->nstores; i++)
        if (!strcmp(t->stores[i].name, name))
            return &t->stores[i];
    return NULL;
}

const char *rill_kvlist_get(const struct rill_kvlist *l, const char *key)
{
    for (size_t i = 0; l && key && i < l->n; i++)
        if (!strcmp(l->v[i].key, key))
            return l->v[i].value;
    return NULL;
}

rill_err_t rill_topology_changelog(const struct rill_topology *t, const char *store, char *buf,
                                   size_t size)
{
    int n = snprintf(buf, size, "%s-%s-changelog", t->application_id, store);
    return n >= 0 && (size_t)n < size ? RILL_OK : RILL_ERR_NOFIT;
}

const char *rill_sink_group(const struct rill_topology *t, const struct rill_sink_conf *s,
                            char *buf, size_t size)
{
    if (s->group)
        return s->group;
    int n = snprintf(buf, size, "%s.%s", t->application_id, s->name);
    return n >= 0 && (size_t)n < size ? buf : NULL;
}
