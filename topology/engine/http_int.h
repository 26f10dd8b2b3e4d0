/*
 * http_int.h - internal: what the HTTP endpoint files of the engine share
 * (http.c: the server, /healthz, /readyz, /metrics; http_topology.c:
 * /topology; http_state.c: /state/STORE/KEY; http_web.c: the web view at
 * /): JSON string escaping beyond engine_int.h's text_put() and
 * text_label(), and the functions that queue a response. All of it runs on
 * libmicrohttpd's threads; nothing here touches a stream thread's data.
 */
#ifndef RILL_HTTP_INT_H
#define RILL_HTTP_INT_H

#include "topology/engine/engine_int.h"

#include <microhttpd.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Appends n bytes of v as a JSON string, quotes included: control bytes
 * and bytes that are not valid UTF-8 as \u escapes (invalid bytes as
 * U+FFFD), so that any bytes give valid JSON. */
void text_json_n(struct text *t, const void *v, size_t n);
/* The same for a NUL-terminated string; NULL writes null. */
void text_json(struct text *t, const char *v);
/* 1 when p[0..n) is valid UTF-8 without control characters (but tab,
 * newline and carriage return): text a person can read. */
int text_readable(const void *p, size_t n);

/* Every response carries Content-Security-Policy: HTTP_CSP (the web view
 * loads only its own files and asks only its own origin), no caching and
 * X-Content-Type-Options: nosniff. */
#define HTTP_CSP "default-src 'self'"

/* Queues t (its buffer is taken over) with status and type; header/value
 * (both NULL: none) is one more header. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, const char *type,
                           struct text *t, const char *header, const char *value);
/* Queues the n bytes at p, which outlive the server (a compiled-in file). */
enum MHD_Result http_reply_static(struct MHD_Connection *c, const char *type, const void *p,
                                  size_t n);

/* The web view's files (web/), compiled in by web/embed.sh: name (the
 * file's base name), its bytes and their count. */
struct http_web_file {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct http_web_file http_web_files[];
extern const size_t http_web_files_cnt;

/* ---- the endpoints of the other files, called by http.c's router ---------- */

/* GET /topology: the graph and this instance's tasks, as JSON. */
enum MHD_Result http_topology(const struct rill_engine *e, struct MHD_Connection *c);
/* GET /state/STORE/KEY (path: what follows "/state/"). */
enum MHD_Result http_state(const struct rill_engine *e, struct MHD_Connection *c,
                           const char *path);
/* GET of a file of the web view (url "/" or one of its files): 1 with the
 * queued reply's result in *ret, or 0 when url is none of them. */
int http_web(struct MHD_Connection *c, const char *url, enum MHD_Result *ret);

#pragma GCC visibility pop

#endif
