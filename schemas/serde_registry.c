/*
 * serde_registry.c - the serde's schema ids from a schema registry: each of
 * the seven compiled-in .avsc texts is registered, byte for byte, under its
 * RecordNameStrategy subject (the record's full name), and the ids the
 * registry answers are kept for the life of the process, per registry URL and
 * user, so that a process with many serdes asks once. Failures are not kept:
 * the next serde asks again. Not the HTTP client (registry.c) and not the
 * id map (serde.c).
 */
#include "schemas/registry.h"
#include "schemas/serde_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The ids a registry gave, by "url\nuser". Entries live until the process
 * exits. */
struct ids_entry {
    char *key;
    int32_t id[RILL_EVENT__COUNT];
    struct ids_entry *next;
};

static pthread_mutex_t ids_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ids_entry *ids_cache;

/* Registers every schema with r into id[]. */
static rill_err_t register_all(rill_registry_t *r, int32_t id[RILL_EVENT__COUNT], char *errstr,
                               size_t errsz)
{
    for (int t = 0; t < RILL_EVENT__COUNT; t++) {
        const char *text = rill_serde_schema_text((rill_event_type_t)t);
        char subject[256], why[128];
        if (!text || rill_registry_subject(text, subject, sizeof subject, why, sizeof why)) {
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "schema '%s' has no subject: %s", rill_event_type_name(t),
                     text ? why : "not compiled in");
        }
        rill_err_t err = rill_registry_register(r, subject, text, &id[t], errstr, errsz);
        if (err)
            return err;
        for (int u = 0; u < t; u++)
            if (id[u] == id[t]) {
                return rill_errf(errstr, errsz, RILL_ERR_INVALID, "schema registry %s gave id %d to both '%s' and '%s'",
                         rill_registry_url(r), (int)id[t], rill_event_type_name(u),
                         rill_event_type_name(t));
            }
    }
    return RILL_OK;
}

rill_err_t rill_serde_registry_ids(const struct rill_registry_conf *conf,
                                   int32_t id[RILL_EVENT__COUNT], char *errstr, size_t errsz)
{
    rill_registry_t *r;
    rill_err_t err = rill_registry_new(&r, conf, errstr, errsz);
    if (err)
        return err;
    const char *url = rill_registry_url(r), *user = conf->user ? conf->user : "";
    size_t klen = strlen(url) + 1 + strlen(user);
    char *key = malloc(klen + 1);
    if (!key) {
        rill_registry_destroy(r);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    snprintf(key, klen + 1, "%s\n%s", url, user);

    /* Held across the requests, so that serdes created at once wait for the
     * first one's answers instead of asking too. */
    pthread_mutex_lock(&ids_lock);
    struct ids_entry *e = ids_cache;
    while (e && strcmp(e->key, key))
        e = e->next;
    if (e) {
        memcpy(id, e->id, sizeof e->id);
    } else {
        int32_t got[RILL_EVENT__COUNT];
        err = register_all(r, got, errstr, errsz);
        if (!err && !(e = malloc(sizeof *e))) {
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
        if (!err) {
            e->key = key;
            key = NULL;
            memcpy(e->id, got, sizeof got);
            e->next = ids_cache;
            ids_cache = e;
            memcpy(id, got, sizeof got);
        }
    }
    pthread_mutex_unlock(&ids_lock);
    free(key);
    rill_registry_destroy(r);
    return err;
}
