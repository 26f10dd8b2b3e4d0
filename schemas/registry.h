/*
 * registry.h - a minimal Confluent Schema Registry client: registers an Avro
 * schema under a subject and returns the registry's global schema id. Since
 * the registry answers an identical schema with the id it already has,
 * registering is also how a schema's id is looked up. It speaks HTTP/1.1 over
 * a plain TCP socket, one connection per request (`Connection: close`), with
 * optional basic auth, a connect timeout, a deadline for the whole exchange
 * and answers bounded to RILL_REGISTRY_MAX_ANSWER bytes (Content-Length,
 * chunked, or up to the close).
 *
 * Not supported: https and mTLS (only http:// URLs; put a TLS-terminating
 * proxy or a private network in between), several URLs, credentials inside
 * the URL, redirects, other operations of the registry's REST API.
 *
 * Credentials never appear in a message: errors name the URL's host and path
 * and what the registry said, nothing else. The serde (serde.h) is the user:
 * rill_serde_new() reads the configuration from the environment.
 *
 * Threading: a rill_registry_t belongs to one thread at a time; requests
 * block for at most the connect timeout plus the request timeout (name
 * resolution, getaddrinfo, has no timeout of its own).
 */
#ifndef RILL_REGISTRY_H
#define RILL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "topology/rill.h"

#define RILL_REGISTRY_MAX_ANSWER (64 * 1024) /* bytes of an answer, head included */
#define RILL_REGISTRY_CONNECT_TIMEOUT_MS 5000
#define RILL_REGISTRY_TIMEOUT_MS 10000
#define RILL_REGISTRY_MAX_PASSWORD 1024      /* bytes of a password file */

/* Where the registry is and how to log in. Strings are the caller's and are
 * copied by rill_registry_new(). */
struct rill_registry_conf {
    const char *url;           /* http://host[:port][/base/path]; port 80 by default */
    const char *user;          /* basic auth user; NULL or "": no auth */
    const char *password;      /* the user's password ... */
    const char *password_file; /* ... or a file holding it (one trailing newline ignored) */
    int connect_timeout_ms;    /* 0: RILL_REGISTRY_CONNECT_TIMEOUT_MS */
    int timeout_ms;            /* sending a request and reading its whole answer;
                                * 0: RILL_REGISTRY_TIMEOUT_MS */
};

/* Fills conf from RILL_SCHEMA_REGISTRY_URL, RILL_SCHEMA_REGISTRY_USER,
 * RILL_SCHEMA_REGISTRY_PASSWORD and RILL_SCHEMA_REGISTRY_PASSWORD_FILE (unset
 * or empty: NULL) and default timeouts. The strings point into the
 * environment, which must not change while conf is used. conf->url NULL
 * means that no registry is configured. */
void rill_registry_conf_env(struct rill_registry_conf *conf);

typedef struct rill_registry rill_registry_t;

/* Checks conf (the URL's form, a user with exactly one of password and
 * password_file, a user without ':') and reads the password file. Does not
 * connect. Returns RILL_OK, or RILL_ERR_CONFIG / RILL_ERR_IO (password file)
 * / RILL_ERR_NOMEM with errstr. */
rill_err_t rill_registry_new(rill_registry_t **out, const struct rill_registry_conf *conf,
                             char *errstr, size_t errsz);
/* Wipes the credentials and frees r; NULL is fine. */
void rill_registry_destroy(rill_registry_t *r);

/* The URL as used, without a trailing slash, e.g. "http://registry:8081";
 * never holds credentials. Valid while r lives. */
const char *rill_registry_url(const rill_registry_t *r);

/* Registers schema (the schema text, sent as the JSON string "schema") under
 * subject with POST {url}/subjects/{subject}/versions and sets *id to the id
 * the registry answers. Errors, with errstr naming the request's URL:
 *   RILL_ERR_IO      cannot resolve or connect, timeout, connection closed
 *                    early, HTTP 5xx;
 *   RILL_ERR_AUTH    HTTP 401 or 403;
 *   RILL_ERR_CONFIG  any other status that is not 2xx (e.g. 409 incompatible,
 *                    422 invalid schema, 404 wrong path), with the registry's
 *                    error_code and message when it sent them;
 *   RILL_ERR_INVALID an answer that is not HTTP, too large, or has no id. */
rill_err_t rill_registry_register(rill_registry_t *r, const char *subject, const char *schema,
                                  int32_t *id, char *errstr, size_t errsz);

/* The RecordNameStrategy subject of an Avro record schema's text: its full
 * name, namespace + "." + name (or the name alone when it holds a dot or
 * there is no namespace), e.g. "io.rill.orders.OrderPlaced". Returns RILL_OK,
 * or RILL_ERR_INVALID when the text is not a JSON object with a valid Avro
 * name or the full name does not fit out. */
rill_err_t rill_registry_subject(const char *schema, char *out, size_t outsz, char *errstr,
                                 size_t errsz);

#endif
