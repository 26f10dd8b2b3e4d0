/*
 * stack.h - what the integration and chaos tiers know about the local stack
 * that infra/local/ started: where the broker listens, the users' secrets, and
 * client configurations built from them. Reads $RILL_STACK_DIR (default
 * ./.stack); never starts or stops anything. Test-only code.
 */
#ifndef RILL_TEST_STACK_H
#define RILL_TEST_STACK_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

enum it_listener { IT_SASL_PLAINTEXT, IT_SASL_SSL };

/* A value from $RILL_STACK_DIR/kafka.env, or NULL. Static storage. */
const char *it_env(const char *key);
/* The contents of $SECRETS_DIR/name (malloc'd, trailing newline stripped), or NULL. */
char *it_secret(const char *name);
/* The path of $SECRETS_DIR/name, in a ring of 4 static slots. */
const char *it_secret_path(const char *name);
/* The stack directory. */
const char *it_stack_dir(void);

/* Errors reported through the error callback of a client built by it_kconf. */
struct it_errors {
    rd_kafka_resp_err_t last;
    int auth;          /* an authentication error was seen */
    int ssl;           /* an SSL / certificate error was seen */
    int count;
};

/* A client configuration for user over the given listener, with its real
 * password; password overrides it when not NULL. errs (may be NULL) receives
 * the error callback's reports. */
rd_kafka_conf_t *it_kconf(const char *user, enum it_listener l, const char *password,
                          struct it_errors *errs);
void it_kconf_set(rd_kafka_conf_t *conf, const char *key, const char *value);

/* A topic name unique to this run, in a ring of 8 static slots: copy it
 * when it must outlive 8 more calls. */
const char *it_topic(const char *prefix);

/* Creates topic with the admin user; returns 0 on success. */
int it_create_topic(const char *topic, int partitions);

/* Grants principal User:user the operation on a literal resource, as the
 * admin; returns 0 on success. */
int it_create_acl(rd_kafka_ResourceType_t type, const char *name, const char *user,
                  rd_kafka_AclOperation_t op);

int64_t it_now_ms(void);

#endif
