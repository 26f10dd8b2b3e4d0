/*
 * http.h - a minimal HTTP/1.0 GET over loopback for the tests of rill run's
 * endpoints (/healthz, /readyz, /metrics, /topology, /state, the web view).
 * Test-only code.
 */
#ifndef RILL_TEST_HTTP_H
#define RILL_TEST_HTTP_H

#include <stddef.h>

/* GETs path from 127.0.0.1:port; the body (NUL-terminated, cut to size)
 * into body. Returns the HTTP status, or -1 when no answer came. */
int it_http_get(int port, const char *path, char *body, size_t size);
/* The same, with the response's header lines (status line included, CRLF
 * kept) into head when head is not NULL. */
int it_http_get_head(int port, const char *path, char *head, size_t headsz, char *body,
                     size_t size);
/* The value of header name (case-insensitive) in head, into out; 0, or -1
 * when head has no such header. */
int it_http_header(const char *head, const char *name, char *out, size_t size);

/* The port of the "listening" line of rill's log at log, or 0 when none
 * came within timeout_ms. */
int it_http_port(const char *log, int timeout_ms);

#endif
