/*
 * serde_registry.c - the serde's schema ids from a schema registry. The
 * compiled-in .avsc texts are registered, byte for byte, under the subjects
 * of the process's subject strategy: the record's full name for each of the
 * seven (RecordNameStrategy), or "<topic>-value" for each topic the strategy
 * was given with the event type it carries (TopicNameStrategy). The ids the
 * registry answers are kept for the life of the process, per registry URL,
 * user and subjects, so that a process with many serdes asks once; failures
 * are not kept. An id a record carries that the serde does not know is
 * looked up (GET /schemas/ids/{id}) and compared with the compiled-in
 * schemas (avro-c's avro_schema_equal); the answers are kept too, per
 * registry URL and user, up to RILL_SERDE_MAX_LOOKED_UP ids. Not the HTTP
 * client (registry.c) and not the id map (serde.c).
 */
#include "schemas/registry.h"
#include "schemas/serde_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the process's subject strategy ---- */

static pthread_mutex_t subjects_lock = PTHREAD_MUTEX_INITIALIZER;
static rill_subject_strategy_t subjects_strategy = RILL_SUBJECT_RECORD;
static struct rill_serde_topic *subjects_topics;
static size_t subjects_cnt;

int rill_event_type_of_topic(const char *topic)
{
    size_t n = strlen(topic);
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        const char *name = rill_event_type_name((rill_event_type_t)t);
        size_t len = strlen(name);
        if (!strcmp(topic, name) ||
            (n > len + 1 && topic[n - len - 1] == '.' && !strcmp(topic + n - len, name)))
            return t;
    }
    return -1;
}

static void topics_free(struct rill_serde_topic *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)t[i].topic);
    free(t);
}

rill_err_t rill_serde_set_subjects(rill_subject_strategy_t strategy,
                                   const struct rill_serde_topic *topics, size_t n,
                                   char *errstr, size_t errsz)
{
    if (strategy != RILL_SUBJECT_RECORD && strategy != RILL_SUBJECT_TOPIC)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID, "unknown subject strategy %d",
                         (int)strategy);
    if (strategy == RILL_SUBJECT_RECORD)
        n = 0;
    struct rill_serde_topic *copy = n ? calloc(n, sizeof *copy) : NULL;
    if (n && !copy)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!topics[i].topic || !*topics[i].topic || strchr(topics[i].topic, '\n') ||
            (unsigned)topics[i].type >= RILL_EVENT__COUNT) {
            topics_free(copy, i);
            return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                             "topic %zu of the subject strategy is empty or has no event type", i);
        }
        copy[i].type = topics[i].type;
        if (!(copy[i].topic = strdup(topics[i].topic))) {
            topics_free(copy, i);
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
    }
    pthread_mutex_lock(&subjects_lock);
    topics_free(subjects_topics, subjects_cnt);
    subjects_strategy = strategy;
    subjects_topics = copy;
    subjects_cnt = n;
    pthread_mutex_unlock(&subjects_lock);
    return RILL_OK;
}

/* ---- registering ---- */

/* The ids a registry gave, by "url\nuser\nsubjects". Entries live until the
 * process exits. */
struct ids_entry {
    char *key;
    int32_t id[RILL_EVENT__COUNT];
    struct ids_entry *next;
};

static pthread_mutex_t ids_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ids_entry *ids_cache;

/* What a registry's looked-up ids are, by "url\nuser": type, or -1 for a
 * schema that is none of the seven. */
struct seen_id {
    int32_t id;
    int type;
};
struct seen_entry {
    char *key;
    struct seen_id ids[RILL_SERDE_MAX_LOOKED_UP];
    size_t cnt;
    struct seen_entry *next;
};

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct seen_entry *seen_cache;

/* Adds (id, type) to the entry of key, which the caller has locked;
 * RILL_ERR_NOFIT when it is full. */
static rill_err_t seen_add(const char *key, int32_t id, int type, char *errstr, size_t errsz)
{
    struct seen_entry *e = seen_cache;
    while (e && strcmp(e->key, key))
        e = e->next;
    if (!e) {
        if (!(e = calloc(1, sizeof *e)) || !(e->key = strdup(key))) {
            free(e);
            return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
        e->next = seen_cache;
        seen_cache = e;
    }
    for (size_t i = 0; i < e->cnt; i++)
        if (e->ids[i].id == id)
            return RILL_OK;
    if (e->cnt == RILL_SERDE_MAX_LOOKED_UP)
        return rill_errf(errstr, errsz, RILL_ERR_NOFIT,
                         "more than %d schema ids looked up in the registry", RILL_SERDE_MAX_LOOKED_UP);
    e->ids[e->cnt++] = (struct seen_id){ id, type };
    return RILL_OK;
}

/* Registers text of type t under subject into *id. */
static rill_err_t register_one(rill_registry_t *r, int t, const char *subject, int32_t *id,
                               char *errstr, size_t errsz)
{
    const char *text = rill_serde_schema_text((rill_event_type_t)t);
    if (!text)
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "schema '%s' is not compiled in",
                         rill_event_type_name(t));
    return rill_registry_register(r, subject, text, id, errstr, errsz);
}

/* Registers every schema of the strategy with r into id[] (0: no subject of
 * the strategy carries that type). With the topic strategy a type on two
 * topics may get two ids: the first is written, the others are read too
 * (they go to the looked-up ids of reg_key). */
static rill_err_t register_all(rill_registry_t *r, const char *reg_key, int32_t id[RILL_EVENT__COUNT],
                               rill_subject_strategy_t strategy,
                               const struct rill_serde_topic *topics, size_t n, char *errstr,
                               size_t errsz)
{
    char subject[512], why[128];
    rill_err_t err = RILL_OK;
    memset(id, 0, sizeof(int32_t) * RILL_EVENT__COUNT);
    for (int t = 0; strategy == RILL_SUBJECT_RECORD && t < RILL_EVENT__COUNT && !err; t++) {
        const char *text = rill_serde_schema_text((rill_event_type_t)t);
        if (!text || rill_registry_subject(text, subject, sizeof subject, why, sizeof why))
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "schema '%s' has no subject: %s",
                             rill_event_type_name(t), text ? why : "not compiled in");
        err = register_one(r, t, subject, &id[t], errstr, errsz);
    }
    for (size_t i = 0; strategy == RILL_SUBJECT_TOPIC && i < n && !err; i++) {
        int t = (int)topics[i].type;
        int32_t got = 0;
        err = rill_registry_topic_subject(topics[i].topic, subject, sizeof subject, errstr, errsz);
        if (!err)
            err = register_one(r, t, subject, &got, errstr, errsz);
        if (!err && !id[t])
            id[t] = got;
        else if (!err && got != id[t]) {
            pthread_mutex_lock(&seen_lock);
            err = seen_add(reg_key, got, t, errstr, errsz);
            pthread_mutex_unlock(&seen_lock);
        }
    }
    for (int t = 0; t < RILL_EVENT__COUNT && !err; t++)
        for (int u = 0; u < t && id[t]; u++)
            if (id[u] == id[t])
                return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                                 "schema registry %s gave id %d to both '%s' and '%s'",
                                 rill_registry_url(r), (int)id[t], rill_event_type_name(u),
                                 rill_event_type_name(t));
    return err;
}

struct rill_serde_reg {
    rill_registry_t *r;
    char *key; /* "url\nuser" */
};

void rill_serde_reg_close(struct rill_serde_reg *g)
{
    if (!g)
        return;
    rill_registry_destroy(g->r);
    free(g->key);
    free(g);
}

/* The cache key of the strategy's subjects: "url\nuser\nrecord" or
 * "url\nuser\ntopic\n<type> <topic>\n...". */
static char *subjects_key(const char *reg_key, rill_subject_strategy_t strategy,
                          const struct rill_serde_topic *topics, size_t n)
{
    size_t len = strlen(reg_key) + 16;
    for (size_t i = 0; i < n; i++)
        len += strlen(topics[i].topic) + 8;
    char *k = malloc(len), *o = k;
    if (!k)
        return NULL;
    o += sprintf(o, "%s\n%s", reg_key, strategy == RILL_SUBJECT_TOPIC ? "topic" : "record");
    for (size_t i = 0; i < n; i++)
        o += sprintf(o, "\n%d %s", (int)topics[i].type, topics[i].topic);
    return k;
}

rill_err_t rill_serde_reg_open(const struct rill_registry_conf *conf,
                               int32_t id[RILL_EVENT__COUNT], struct rill_serde_reg **out,
                               char *errstr, size_t errsz)
{
    *out = NULL;
    struct rill_serde_reg *g = calloc(1, sizeof *g);
    if (!g)
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    rill_err_t err = rill_registry_new(&g->r, conf, errstr, errsz);
    if (err) {
        free(g);
        return err;
    }
    const char *url = rill_registry_url(g->r), *user = conf->user ? conf->user : "";
    size_t klen = strlen(url) + 1 + strlen(user);
    if (!(g->key = malloc(klen + 1))) {
        rill_serde_reg_close(g);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    snprintf(g->key, klen + 1, "%s\n%s", url, user);

    /* Held across the requests, so that serdes created at once wait for the
     * first one's answers instead of asking too; the strategy cannot change
     * meanwhile. */
    pthread_mutex_lock(&ids_lock);
    pthread_mutex_lock(&subjects_lock);
    char *key = subjects_key(g->key, subjects_strategy, subjects_topics, subjects_cnt);
    struct ids_entry *e = ids_cache;
    while (key && e && strcmp(e->key, key))
        e = e->next;
    if (!key) {
        err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    } else if (e) {
        memcpy(id, e->id, sizeof e->id);
    } else {
        int32_t got[RILL_EVENT__COUNT];
        err = register_all(g->r, g->key, got, subjects_strategy, subjects_topics, subjects_cnt,
                           errstr, errsz);
        if (!err && !(e = malloc(sizeof *e)))
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        if (!err) {
            e->key = key;
            key = NULL;
            memcpy(e->id, got, sizeof got);
            e->next = ids_cache;
            ids_cache = e;
            memcpy(id, got, sizeof got);
        }
    }
    pthread_mutex_unlock(&subjects_lock);
    pthread_mutex_unlock(&ids_lock);
    free(key);
    if (err) {
        rill_serde_reg_close(g);
        return err;
    }
    *out = g;
    return RILL_OK;
}

/* ---- ids the serde does not know ---- */

/* The type whose schema equals the registry's schema text, or -1. */
static int type_of_text(const avro_schema_t schema[RILL_EVENT__COUNT], const char *text)
{
    avro_schema_t got;
    if (avro_schema_from_json_length(text, strlen(text), &got))
        return -1;
    int type = -1;
    for (int t = 0; t < RILL_EVENT__COUNT && type < 0; t++)
        if (schema[t] && avro_schema_equal(schema[t], got))
            type = t;
    avro_schema_decref(got);
    return type;
}

rill_err_t rill_serde_reg_type_of(struct rill_serde_reg *g,
                                  const avro_schema_t schema[RILL_EVENT__COUNT], int32_t id,
                                  int *type, char *errstr, size_t errsz)
{
    pthread_mutex_lock(&seen_lock);
    int known = 0;
    for (struct seen_entry *e = seen_cache; e && !known; e = e->next)
        for (size_t i = 0; !strcmp(e->key, g->key) && i < e->cnt && !known; i++)
            if (e->ids[i].id == id) {
                known = 1;
                *type = e->ids[i].type;
            }
    pthread_mutex_unlock(&seen_lock);
    if (!known) {
        /* Asked without the lock: a slow registry holds back no other id. Two
         * threads asking for one id at once both add it; seen_add keeps one. */
        char *text = NULL, why[RILL_ERRSTR_SIZE];
        rill_err_t err = rill_registry_schema(g->r, id, &text, why, sizeof why);
        if (err == RILL_ERR_NOTFOUND) {
            *type = -1;
        } else if (err) {
            return rill_errf(errstr, errsz, err == RILL_ERR_INVALID ? RILL_ERR_INVALID : RILL_ERR_IO,
                             "unknown schema id %d, and the registry cannot be asked: %s",
                             (int)id, why);
        } else {
            *type = type_of_text(schema, text);
            free(text);
        }
        pthread_mutex_lock(&seen_lock);
        err = seen_add(g->key, id, *type, why, sizeof why);
        pthread_mutex_unlock(&seen_lock);
        if (err)
            return rill_errf(errstr, errsz, RILL_ERR_INVALID, "unknown schema id %d: %s", (int)id,
                             why);
    }
    if (*type < 0)
        return rill_errf(errstr, errsz, RILL_ERR_INVALID,
                         "unknown schema id %d: the registry %s has no such schema or it is "
                         "none of rill's", (int)id, rill_registry_url(g->r));
    return RILL_OK;
}
