/*
 * stack.c - the integration tiers' view of the local stack (see stack.h).
 */
#include "tests/lib/stack.h"
#include "tests/lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *it_stack_dir(void)
{
    const char *d = getenv("RILL_STACK_DIR");
    return d && *d ? d : ".stack";
}

/* A secret file's text without its trailing newlines. */
static char *slurp(const char *path)
{
    size_t n = 0;
    char *buf = it_read_file(path, &n);
    while (buf && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return buf;
}

const char *it_env(const char *key)
{
    static char vals[16][512];
    static char keys[16][64];
    static int n;
    for (int i = 0; i < n; i++)
        if (!strcmp(keys[i], key))
            return vals[i];
    char path[1024];
    snprintf(path, sizeof path, "%s/kafka.env", it_stack_dir());
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[600];
    const char *found = NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!eq || (size_t)(eq - line) != strlen(key) || strncmp(line, key, strlen(key)))
            continue;
        if (n < 16) {
            snprintf(keys[n], sizeof keys[n], "%s", key);
            snprintf(vals[n], sizeof vals[n], "%s", eq + 1);
            found = vals[n++];
        }
        break;
    }
    fclose(f);
    return found;
}

char *it_secret(const char *name)
{
    const char *dir = it_env("SECRETS_DIR");
    if (!dir)
        return NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return slurp(path);
}

const char *it_secret_path(const char *name)
{
    static char path[4][1024];
    static unsigned slot;
    char *p = path[slot++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", it_env("SECRETS_DIR") ? it_env("SECRETS_DIR") : ".",
             name);
    return p;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct it_errors *e = opaque;
    (void)rk;
    if (!e)
        return;
    e->last = (rd_kafka_resp_err_t)err;
    e->count++;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
        err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)
        e->auth = 1;
    if (err == RD_KAFKA_RESP_ERR__SSL || strstr(reason, "SSL") || strstr(reason, "certificate"))
        e->ssl = 1;
}

void it_kconf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char err[256];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "it_kconf_set %s: %s\n", key, err);
        abort();
    }
}

rd_kafka_conf_t *it_kconf(const char *user, enum it_listener l, const char *password,
                          struct it_errors *errs)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *bs = it_env(l == IT_SASL_SSL ? "KAFKA_BOOTSTRAP_SSL" : "KAFKA_BOOTSTRAP");
    if (!bs) {
        fprintf(stderr, "no kafka.env in %s: is the stack up?\n", it_stack_dir());
        abort();
    }
    it_kconf_set(c, "bootstrap.servers", bs);
    it_kconf_set(c, "security.protocol", l == IT_SASL_SSL ? "SASL_SSL" : "SASL_PLAINTEXT");
    if (l == IT_SASL_SSL)
        it_kconf_set(c, "ssl.ca.location", it_env("KAFKA_CA"));
    it_kconf_set(c, "sasl.mechanisms", "SCRAM-SHA-512");
    it_kconf_set(c, "sasl.username", user);
    char name[128];
    snprintf(name, sizeof name, "%s.password", user);
    char *pw = password ? strdup(password) : it_secret(name);
    if (!pw) {
        fprintf(stderr, "no password for user %s\n", user);
        abort();
    }
    it_kconf_set(c, "sasl.password", pw);
    free(pw);
    it_kconf_set(c, "log_level", "2"); /* expected failures stay quiet */
    if (errs) {
        memset(errs, 0, sizeof *errs);
        rd_kafka_conf_set_opaque(c, errs);
        rd_kafka_conf_set_error_cb(c, error_cb);
    }
    return c;
}

const char *it_topic(const char *prefix)
{
    static char names[8][128];
    static unsigned slot, seq;
    char *n = names[slot++ % 8];
    snprintf(n, sizeof names[0], "%s-%d-%lld-%u", prefix, (int)getpid(),
             (long long)(it_now_ms() % 100000000), seq++);
    return n;
}

int it_create_topic(const char *topic, int partitions)
{
    char err[256];
    rd_kafka_conf_t *c = it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk)
        return -1;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opt, 20000, err, sizeof err);
    rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = -1;
    if (ev && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t n;
        const rd_kafka_topic_result_t **r =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rc = (n == 1 && rd_kafka_topic_result_error(r[0]) == RD_KAFKA_RESP_ERR_NO_ERROR) ? 0 : -1;
        if (rc)
            fprintf(stderr, "create topic %s: %s\n", topic,
                    n ? rd_kafka_topic_result_error_string(r[0]) : "no result");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

int it_create_acl(rd_kafka_ResourceType_t type, const char *name, const char *user,
                  rd_kafka_AclOperation_t op)
{
    char err[256], principal[128];
    snprintf(principal, sizeof principal, "User:%s", user);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, it_kconf("admin", IT_SASL_PLAINTEXT, NULL, NULL),
                                  err, sizeof err);
    if (!rk)
        return -1;
    rd_kafka_AclBinding_t *b = rd_kafka_AclBinding_new(type, name, RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                                                       principal, "*", op,
                                                       RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, err,
                                                       sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateAcls(rk, &b, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = -1;
    if (ev && !rd_kafka_event_error(ev)) {
        size_t n;
        const rd_kafka_acl_result_t **r =
            rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
        rc = (n == 1 && !rd_kafka_acl_result_error(r[0])) ? 0 : -1;
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AclBinding_destroy(b);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

int64_t it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
