/*
 * kwire.h - a minimal Kafka protocol client for the one thing librdkafka
 * 2.0.2 cannot do: ACLs on TRANSACTIONAL_ID resources. Its Admin API has no
 * resource type 5 (it arrived in librdkafka 2.6), and rd_kafka_CreateAcls()
 * re-validates every binding, so a transactional-id binding cannot reach the
 * wire. kwire speaks just enough of the protocol for `rill apply`:
 * CreateAcls v1 and DescribeAcls v1, to one bootstrap broker (any broker
 * forwards ACL changes to the controller), one request at a time.
 *
 * It reads the same client properties librdkafka gets: bootstrap.servers,
 * security.protocol (plaintext, ssl, sasl_plaintext, sasl_ssl),
 * sasl.mechanism(s) (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), sasl.username,
 * sasl.password, ssl.ca.location, ssl.certificate.location,
 * ssl.key.location, ssl.key.password, enable.ssl.certificate.verification,
 * ssl.endpoint.identification.algorithm and client.id; other properties are
 * librdkafka tuning and are ignored, except those that change how to log in
 * (other mechanisms, in-memory PEMs, keystores), which are refused. Not a
 * general client: no metadata, no retries, no pipelining.
 *
 * Ownership: a connection is the caller's until rill_kwire_close(). Not
 * thread-safe: one thread per connection. Messages never contain passwords.
 */
#ifndef RILL_KWIRE_H
#define RILL_KWIRE_H

#include <stddef.h>

#include "topology/model/config.h"
#include "topology/rill.h"

/* Kafka's wire value of an ALLOW binding (librdkafka's enum agrees). */
#define RILL_KWIRE_PERMISSION_ALLOW 3

typedef struct rill_kwire rill_kwire_t;

/* One ACL binding; every field as Kafka encodes it. */
struct rill_kwire_acl {
    int resource;          /* resource type, e.g. 5 transactional id */
    const char *name;
    int pattern;           /* 3 literal, 4 prefixed */
    const char *principal; /* "User:x" */
    const char *host;      /* "*" */
    int op;                /* 3 read, 4 write, 8 describe, ... */
    int permission;        /* 2 deny, 3 allow */
};

/* Connects to the first reachable server of bootstrap.servers in conf and
 * logs in as conf says; every step waits at most timeout_ms. */
rill_err_t rill_kwire_connect(const struct rill_kvlist *conf, int timeout_ms, rill_kwire_t **out,
                              char *errstr, size_t errsz);

/* Every binding on resources of type `resource` (any name, pattern,
 * principal, host, operation, permission), each handed to cb. The binding's
 * strings live only during the call. */
rill_err_t rill_kwire_describe_acls(rill_kwire_t *w, int resource,
                                    void (*cb)(void *opaque, const struct rill_kwire_acl *acl),
                                    void *opaque, char *errstr, size_t errsz);

/* Creates the n bindings in one request. The broker answers each one: cb
 * gets its index and NULL, or the broker's reason. Returns an error only when
 * the request as a whole failed (then cb is not called). */
rill_err_t rill_kwire_create_acls(rill_kwire_t *w, const struct rill_kwire_acl *acls, size_t n,
                                  void (*cb)(void *opaque, size_t i, const char *error),
                                  void *opaque, char *errstr, size_t errsz);

void rill_kwire_close(rill_kwire_t *w);

#endif
