/*
 * registry.h - a small Confluent Schema Registry client over libcurl:
 * registers an Avro schema under a subject and returns the registry's global
 * schema id (the registry answers an identical schema with the id it already
 * has, so registering is also how a schema's id is looked up), and fetches a
 * schema's text by its id. It speaks the registry's REST API (content type
 * application/vnd.schemaregistry.v1+json) over http:// or https://.
 *
 * Supported: https with the system's CAs or a CA file (the server's
 * certificate and host name are always verified), basic auth (a user and a
 * password or a password file), a connect timeout and a deadline for each
 * whole request (name resolution included), answers bounded to
 * RILL_REGISTRY_MAX_ANSWER bytes (the transfer is aborted when one grows
 * past it), proxies as libcurl takes them from the environment (http_proxy,
 * https_proxy, no_proxy); one connection per request. The registry's
 * errors are mapped by its error_code (rill_registry_register(),
 * rill_registry_schema()).
 *
 * Not supported: mTLS (client certificates), bearer or OAuth tokens, several
 * URLs (failover), credentials inside the URL, redirects (a 3xx is an error:
 * following one could send the credentials elsewhere), schema references,
 * registry contexts, schema types other than AVRO.
 *
 * Credentials never appear in a message: errors name the request's method,
 * the URL's scheme, host and path and what the registry or libcurl said,
 * nothing else. The serde (serde.h) is the user.
 *
 * Threading: libcurl's global state is set up once per process, under
 * pthread_once, by the first rill_registry_new(); after that registries may
 * be made and used on any threads. A rill_registry_t belongs to one thread at
 * a time; a request blocks for at most the connect timeout plus the request
 * timeout.
 */
#ifndef RILL_REGISTRY_H
#define RILL_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "topology/rill.h"

#define RILL_REGISTRY_MAX_ANSWER (64 * 1024) /* bytes of an answer's body */
#define RILL_REGISTRY_CONNECT_TIMEOUT_MS 5000
#define RILL_REGISTRY_TIMEOUT_MS 10000
#define RILL_REGISTRY_MAX_PASSWORD 1024      /* bytes of a password file */

/* Where the registry is and how to log in. Strings are the caller's and are
 * copied by rill_registry_new(). */
struct rill_registry_conf {
    const char *url;           /* http[s]://host[:port][/base/path]; port 80 or 443 by default */
    const char *user;          /* basic auth user; NULL or "": no auth */
    const char *password;      /* the user's password ... */
    const char *password_file; /* ... or a file holding it (one trailing newline ignored) */
    const char *ca_file;       /* https: PEM file of the CAs to trust instead of the
                                * system's; NULL or "": the system's */
    int connect_timeout_ms;    /* 0: RILL_REGISTRY_CONNECT_TIMEOUT_MS */
    int timeout_ms;            /* a whole request, connecting included;
                                * 0: RILL_REGISTRY_TIMEOUT_MS */
};

/* Fills conf from RILL_SCHEMA_REGISTRY_URL, RILL_SCHEMA_REGISTRY_USER,
 * RILL_SCHEMA_REGISTRY_PASSWORD, RILL_SCHEMA_REGISTRY_PASSWORD_FILE and
 * RILL_SCHEMA_REGISTRY_CA_FILE (unset or empty: NULL) and default timeouts.
 * The strings point into the environment, which must not change while conf
 * is used. conf->url NULL means that no registry is configured. */
void rill_registry_conf_env(struct rill_registry_conf *conf);

typedef struct rill_registry rill_registry_t;

/* Checks conf (the URL's form, a user with exactly one of password and
 * password_file, a user without ':', a CA file only with https) and reads
 * the password file. Does not connect. Returns RILL_OK, or RILL_ERR_CONFIG /
 * RILL_ERR_IO (password file, libcurl's global setup) / RILL_ERR_NOMEM with
 * errstr. */
rill_err_t rill_registry_new(rill_registry_t **out, const struct rill_registry_conf *conf,
                             char *errstr, size_t errsz);
/* Wipes the credentials and frees r; NULL is fine. */
void rill_registry_destroy(rill_registry_t *r);

/* The URL as used, without a trailing slash, e.g. "https://registry:8081";
 * never holds credentials. Valid while r lives. */
const char *rill_registry_url(const rill_registry_t *r);

/* Registers schema (the schema text, sent as the JSON string "schema") under
 * subject with POST {url}/subjects/{subject}/versions and sets *id to the id
 * the registry answers. Errors, with errstr naming the request and quoting
 * the registry's message and error_code:
 *   RILL_ERR_IO       cannot resolve or connect, TLS failure (a certificate
 *                     the CA file does not vouch for), timeout, connection
 *                     closed early, HTTP 5xx;
 *   RILL_ERR_AUTH     HTTP 401 or 403;
 *   RILL_ERR_NOTFOUND error_code 40401 (subject not found), 40402 (version
 *                     not found), 40403 (schema not found);
 *   RILL_ERR_INVALID  error_code 42201 (invalid schema), 42202, or an answer
 *                     that is too large or has no id;
 *   RILL_ERR_CONFIG   HTTP 409 (incompatible with the subject's earlier
 *                     versions under its compatibility level), a redirect,
 *                     any other status that is not 2xx (e.g. a 404 without
 *                     a registry error_code: the URL is not a registry). */
rill_err_t rill_registry_register(rill_registry_t *r, const char *subject, const char *schema,
                                  int32_t *id, char *errstr, size_t errsz);

/* Fetches the schema of id with GET {url}/schemas/ids/{id}: *schema (the
 * caller frees it) is the text of the answer's "schema". Errors as for
 * rill_registry_register(); a schema whose schemaType is not AVRO is
 * RILL_ERR_INVALID. */
rill_err_t rill_registry_schema(rill_registry_t *r, int32_t id, char **schema, char *errstr,
                                size_t errsz);

/* The RecordNameStrategy subject of an Avro record schema's text: its full
 * name, namespace + "." + name (or the name alone when it holds a dot or
 * there is no namespace), e.g. "io.rill.orders.OrderPlaced". Returns RILL_OK,
 * or RILL_ERR_INVALID when the text is not a JSON object with a valid Avro
 * name or the full name does not fit out. */
rill_err_t rill_registry_subject(const char *schema, char *out, size_t outsz, char *errstr,
                                 size_t errsz);

/* The TopicNameStrategy subject of a topic's values: "<topic>-value".
 * Returns RILL_OK, or RILL_ERR_INVALID when the topic is empty or the
 * subject does not fit out. */
rill_err_t rill_registry_topic_subject(const char *topic, char *out, size_t outsz,
                                       char *errstr, size_t errsz);

#endif
