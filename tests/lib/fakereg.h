/*
 * fakereg.h - a scripted Confluent Schema Registry for the unit tests of the
 * registry client and the serde: an HTTP/1.1 server on 127.0.0.1 (an
 * ephemeral port), plain or over TLS, that answers the REST API as
 * Confluent's API reference documents it (content type
 * application/vnd.schemaregistry.v1+json, {"error_code", "message"} error
 * bodies, global schema ids, subjects, versions, compatibility levels), or
 * badly on purpose (canned bytes, silence, a huge answer). It records every
 * request it got. Also: a throw-away CA and server certificate made with the
 * openssl CLI for the TLS tests. Test-only code.
 *
 * What it serves in FAKEREG_API mode:
 *   POST /subjects/{s}/versions {"schema": ".."}  -> {"id": N}; a schema text
 *        already registered anywhere gets its id (ids are global), unless
 *        per_subject_ids; 42201 when the schema is not JSON; 409 when the
 *        subject has a different latest version and its compatibility level
 *        is not NONE (scripted: the fake does not run Avro's rules)
 *   GET  /schemas/ids/{id}              -> {"schema": ".."}, or 404 40403
 *   GET  /subjects                      -> ["s", ...]
 *   GET  /subjects/{s}/versions         -> [1, ...], or 404 40401
 *   GET|PUT /config[/{s}]               -> {"compatibilityLevel": ".."}
 * and 401 (error_code 401) when the Authorization header is not the one
 * expected. Every path starts with the fake's own base path (its URL's),
 * unique per fake, so that the serde's per-process caches never carry over
 * between tests.
 *
 * Starting returns once the socket listens; stopping wakes every thread
 * through a pipe and joins them (no sleeps, no polling intervals).
 */
#ifndef RILL_TEST_FAKEREG_H
#define RILL_TEST_FAKEREG_H

#include <stddef.h>

enum fakereg_mode {
    FAKEREG_API,     /* the registry, as above */
    FAKEREG_CHUNKED, /* the same answers, chunked */
    FAKEREG_CANNED,  /* reads a request, sends opts.canned byte for byte, closes */
    FAKEREG_SILENT,  /* reads a request, never answers (until the client closes) */
    FAKEREG_HUGE,    /* a 1 MiB answer without Content-Length */
};

struct fakereg_opts {
    enum fakereg_mode mode;
    const char *auth;      /* the Authorization header expected; NULL: none */
    const char *cert, *key; /* PEM files: serve TLS */
    const char *canned;    /* FAKEREG_CANNED's answer; must outlive the fake */
    int first_id;          /* the first id given; 0: 101 */
    int per_subject_ids;   /* a new id for each (subject, schema), like a registry that
                            * numbers versions, not schemas */
};

/* One request as the fake saw it. */
struct fakereg_req {
    char method[8];
    char path[512];      /* without the base path, percent-decoded */
    int status;          /* what it answered; 0: nothing */
    int auth_ok;         /* the Authorization header was the one expected */
};

struct fakereg;

/* Starts a fake; NULL when it cannot (a message on stderr). */
struct fakereg *fakereg_start(const struct fakereg_opts *o);
/* Stops it, joins its threads, frees it; prints the first protocol problem
 * it saw, if any (see fakereg_problem()). NULL is fine. */
void fakereg_stop(struct fakereg *f);

/* "http[s]://127.0.0.1:PORT/tN": the registry's URL for the client. */
const char *fakereg_url(const struct fakereg *f);
/* Changes what later requests get. */
void fakereg_set_mode(struct fakereg *f, enum fakereg_mode mode);
/* Registers schema under subject as a POST would (no checks); its id. */
int fakereg_add(struct fakereg *f, const char *subject, const char *schema);
/* Sets the compatibility level of subject (NULL: the global one). */
void fakereg_set_compat(struct fakereg *f, const char *subject, const char *level);

/* The id of subject's latest version, or -1 when it has none. */
int fakereg_subject_id(struct fakereg *f, const char *subject);
/* How many subjects it holds. */
int fakereg_subjects(struct fakereg *f);

/* The requests it got so far, and a copy of the i-th (0 when there is none). */
int fakereg_requests(struct fakereg *f);
int fakereg_request(struct fakereg *f, int i, struct fakereg_req *out);
/* How many requests had method and path (without the base path). */
int fakereg_count(struct fakereg *f, const char *method, const char *path);
/* The first thing a request did wrong (no or another content type on a
 * POST, a Host header that is not the URL's, an unknown path), or "": a copy,
 * valid until the next call or fakereg_stop(). */
const char *fakereg_problem(struct fakereg *f);

/* The credentials the tests use, and their basic auth header. */
#define FAKEREG_USER "rill-app"
#define FAKEREG_PASSWORD "pw-Secret-4"
#define FAKEREG_AUTH "Basic cmlsbC1hcHA6cHctU2VjcmV0LTQ=" /* base64("rill-app:pw-Secret-4") */

/* 1 when want is in msg, else 0 with both on stderr. */
int fakereg_has(const char *msg, const char *want);
/* 1 when msg holds no credential of the tests, plain or base64: the user,
 * the passwords FAKEREG_PASSWORD and "env-Pw-77x", and "env-user". */
int fakereg_clean(const char *msg);

/* A throw-away CA, a server certificate it signs for 127.0.0.1 and
 * localhost, and a second CA that signed nothing, made with the openssl CLI
 * into dir (created): ca.pem, server.pem, server.key, other-ca.pem. 0, or
 * -1 with a message on stderr. */
int fakereg_make_certs(const char *dir);

#endif
