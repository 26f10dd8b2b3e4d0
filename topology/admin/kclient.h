/*
 * kclient.h - the librdkafka client of the commands that look at or prepare a
 * cluster from outside a topology run (`rill apply`, `rill inspect`): made
 * from a settings map (rill_kprops_collect()), logged in before it is handed
 * out, so that refused credentials or an unreachable cluster are one clear
 * error instead of a later hang; and the DescribeConfigs of topics that both
 * commands read. Nothing here prints; errors never quote a setting's value.
 *
 * Ownership: a struct rill_kclient is the caller's (its address is the
 * client's error-callback opaque: do not move it while open). Not
 * thread-safe.
 */
#ifndef RILL_ADMIN_KCLIENT_H
#define RILL_ADMIN_KCLIENT_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "topology/model/config.h"
#include "topology/rill.h"

/* How long the login may take (an unreachable cluster's wait). */
#define RILL_KCLIENT_LOGIN_MS 15000

struct rill_kclient {
    rd_kafka_t *rk;
    int auth_failed;          /* the error callback saw an authentication error */
    char reason[512];         /* the first error librdkafka reported */
};

/* Creates a client of type (RD_KAFKA_PRODUCER for admin requests; a
 * RD_KAFKA_CONSUMER without group.id reads partitions it is given and
 * joins no group) from conf, skipping the keys only the other type takes,
 * then extra (NULL or "key", "value", ..., NULL: settings of the caller's
 * own, set after conf), quiet librdkafka logs unless conf sets log_level.
 * Waits for an authenticated metadata answer for at most login_ms:
 * RILL_ERR_AUTH names the user when the credentials are refused,
 * RILL_ERR_KAFKA names the bootstrap servers when nothing answers,
 * RILL_ERR_CONFIG names a key librdkafka refuses. c is zeroed on failure. */
rill_err_t rill_kclient_open(struct rill_kclient *c, const struct rill_kvlist *conf,
                             rd_kafka_type_t type, const char *const *extra, int login_ms,
                             char *errstr, size_t errsz);
void rill_kclient_close(struct rill_kclient *c);

/* One topic config as DescribeConfigs returned it. */
struct rill_topic_config {
    char *name;
    char *value;              /* NULL: sensitive (hidden by the broker) or null */
    int source;               /* rd_kafka_ConfigSource_t */
    int is_default, sensitive, read_only;
};

/* The configs of one topic, or why the broker would not say. */
struct rill_topic_configs {
    char *topic;
    struct rill_topic_config *v;
    size_t n;
    int err;                  /* rd_kafka_resp_err_t of this topic; 0 */
    char *error;              /* the broker's message when err; else NULL */
};

/* DescribeConfigs of topics[0..n) in one request, waiting at most
 * timeout_ms. *out gets n entries in the order asked (free with
 * rill_topic_configs_free). A topic the broker refuses (unknown,
 * TOPIC_AUTHORIZATION_FAILED) is an entry with err set; RILL_ERR_KAFKA
 * only when the request as a whole failed or timed out. */
rill_err_t rill_kclient_describe_configs(struct rill_kclient *c, const char *const *topics,
                                         size_t n, int timeout_ms,
                                         struct rill_topic_configs **out, char *errstr,
                                         size_t errsz);
void rill_topic_configs_free(struct rill_topic_configs *v, size_t n);

#endif
