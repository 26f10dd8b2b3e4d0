/*
 * kprops.h - librdkafka client settings from the command line the way kcat
 * takes them: a properties file (-F FILE: `key=value` lines, '#' comments,
 * blank lines) and single `key=value` overrides (-X). Used by the commands
 * that talk to Kafka outside a topology run (generate, apply). Values may be
 * secrets: they are never echoed, only the key of a bad line is named.
 */
#ifndef RILL_KPROPS_H
#define RILL_KPROPS_H

#include <librdkafka/rdkafka.h>

#include "rill.h"

/* Applies every key=value line of path to c. */
rill_err_t rill_kprops_file(rd_kafka_conf_t *c, const char *path, char *errstr, size_t errsz);

/* Applies one "key=value" to c. */
rill_err_t rill_kprops_set(rd_kafka_conf_t *c, const char *kv, char *errstr, size_t errsz);

#endif
