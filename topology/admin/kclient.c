/*
 * kclient.c - the logged-in client and the DescribeConfigs of kclient.h.
 * The login is short metadata rounds, so that refused credentials end the
 * wait at once instead of after the whole time an unreachable cluster gets.
 */
#include "topology/admin/kclient.h"
#include "topology/model/kafka.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct rill_kclient *c = opaque;
    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
        c->auth_failed = 1;
    if (!c->reason[0] || err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
        snprintf(c->reason, sizeof c->reason, "%s", reason);
}

rill_err_t rill_kclient_open(struct rill_kclient *c, const struct rill_kvlist *conf,
                             rd_kafka_type_t type, const char *const *extra, int login_ms,
                             char *errstr, size_t errsz)
{
    char e[RILL_ERRSTR_SIZE];
    memset(c, 0, sizeof *c);
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    /* Quiet unless asked: failures come back as one line (error_cb). */
    rd_kafka_conf_set(kc, "log_level", "0", e, sizeof e);
    for (size_t i = 0; i < conf->n; i++) {
        const char *k = conf->v[i].key;
        if (type == RD_KAFKA_PRODUCER ? rill_kafka_consumer_only(k) : rill_kafka_producer_only(k))
            continue;
        if (rd_kafka_conf_set(kc, k, conf->v[i].value, e, sizeof e) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(kc);
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "kafka setting '%s': %s", k, e);
        }
    }
    for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
        if (rd_kafka_conf_set(kc, extra[i], extra[i + 1], e, sizeof e) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(kc);
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "kafka setting '%s': %s", extra[i],
                             e);
        }
    rd_kafka_conf_set_opaque(kc, c);
    rd_kafka_conf_set_error_cb(kc, error_cb);
    if (!(c->rk = rd_kafka_new(type, kc, e, sizeof e))) {
        rd_kafka_conf_destroy(kc);
        return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "cannot create a kafka client: %s", e);
    }
    rd_kafka_resp_err_t err;
    int64_t deadline = rill_now_ms() + login_ms;
    do {
        const struct rd_kafka_metadata *md = NULL;
        err = rd_kafka_metadata(c->rk, 0, NULL, &md, 500);
        if (md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_poll(c->rk, 0); /* serves error_cb */
    } while (err && !c->auth_failed && rill_now_ms() < deadline);
    const char *user = rill_kvlist_get(conf, "sasl.username");
    const char *servers = rill_kvlist_get(conf, "bootstrap.servers");
    rill_err_t rc = RILL_OK;
    if (c->auth_failed)
        rc = rill_errf(errstr, errsz, RILL_ERR_AUTH, "kafka authentication failed for user '%s'",
                       user ? user : "(none)");
    else if (err)
        rc = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot reach kafka at '%s': %s",
                       servers ? servers : "(no bootstrap.servers)",
                       c->reason[0] ? c->reason : rd_kafka_err2str(err));
    if (rc)
        rill_kclient_close(c);
    return rc;
}

void rill_kclient_close(struct rill_kclient *c)
{
    if (c->rk)
        rd_kafka_destroy(c->rk);
    memset(c, 0, sizeof *c);
}

void rill_topic_configs_free(struct rill_topic_configs *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        for (size_t j = 0; j < v[i].n; j++) {
            free(v[i].v[j].name);
            free(v[i].v[j].value);
        }
        free(v[i].v);
        free(v[i].topic);
        free(v[i].error);
    }
    free(v);
}

/* The entries of one resource into t; -1 when out of memory. */
static int take_configs(struct rill_topic_configs *t, const rd_kafka_ConfigResource_t *r)
{
    if (rd_kafka_ConfigResource_error(r)) {
        t->err = rd_kafka_ConfigResource_error(r);
        const char *why = rd_kafka_ConfigResource_error_string(r);
        t->error = strdup(why ? why : rd_kafka_err2str(t->err));
        return t->error ? 0 : -1;
    }
    size_t ne;
    const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(r, &ne);
    if (ne && !(t->v = calloc(ne, sizeof *t->v)))
        return -1;
    for (size_t j = 0; j < ne; j++) {
        struct rill_topic_config *tc = &t->v[t->n];
        const char *v = rd_kafka_ConfigEntry_value(e[j]);
        tc->sensitive = rd_kafka_ConfigEntry_is_sensitive(e[j]);
        tc->name = strdup(rd_kafka_ConfigEntry_name(e[j]));
        tc->value = v && !tc->sensitive ? strdup(v) : NULL;
        tc->source = (int)rd_kafka_ConfigEntry_source(e[j]);
        tc->is_default = rd_kafka_ConfigEntry_is_default(e[j]);
        tc->read_only = rd_kafka_ConfigEntry_is_read_only(e[j]);
        if (!tc->name || (v && !tc->sensitive && !tc->value)) {
            free(tc->name);
            free(tc->value);
            return -1;
        }
        t->n++;
    }
    return 0;
}

rill_err_t rill_kclient_describe_configs(struct rill_kclient *c, const char *const *topics,
                                         size_t n, int timeout_ms,
                                         struct rill_topic_configs **out, char *errstr,
                                         size_t errsz)
{
    char e[RILL_ERRSTR_SIZE];
    *out = NULL;
    struct rill_topic_configs *v = calloc(n ? n : 1, sizeof *v);
    rd_kafka_ConfigResource_t **res = calloc(n ? n : 1, sizeof *res);
    rill_err_t err = RILL_OK;
    for (size_t i = 0; v && res && i < n; i++)
        if (!(v[i].topic = strdup(topics[i])))
            err = RILL_ERR_NOMEM;
    if (!v || !res || err) {
        rill_topic_configs_free(v, n);
        free(res);
        return rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    }
    if (!n) {
        free(res);
        *out = v;
        return RILL_OK;
    }
    for (size_t i = 0; i < n; i++)
        res[i] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topics[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(c->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, e, sizeof e);
    rd_kafka_DescribeConfigs(c->rk, res, n, o, q);
    /* the request times out on its own; the extra second is its answer's way back */
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev || rd_kafka_event_error(ev)) {
        err = rill_errf(errstr, errsz, RILL_ERR_KAFKA, "cannot describe topic configs: %s",
                        ev ? rd_kafka_event_error_string(ev) : "timed out");
    } else {
        size_t nr;
        const rd_kafka_ConfigResource_t **r = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &nr);
        for (size_t i = 0; i < nr && !err; i++) {
            const char *name = rd_kafka_ConfigResource_name(r[i]);
            for (size_t j = 0; j < n && !err; j++)
                if (!strcmp(v[j].topic, name) && !v[j].n && !v[j].error &&
                    take_configs(&v[j], r[i]))
                    err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy_array(res, n);
    free(res);
    if (err) {
        rill_topic_configs_free(v, n);
        return err;
    }
    *out = v;
    return RILL_OK;
}
