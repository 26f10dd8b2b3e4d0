/*
 * cdp.h - a tiny Chrome DevTools Protocol client for the web view's test:
 * starts Debian's chromium headless with the protocol on a pipe
 * (--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4, no
 * WebSocket), opens one page in a flat session, and records what the page
 * does while the test drives it: every network request and response
 * (their URLs and the responses' Content-Security-Policy headers), the
 * exceptions it throws and the errors it logs (a CSP refusal is one). Also
 * evaluating an expression in the page and a PNG screenshot. Test-only
 * code; not a general CDP library.
 */
#ifndef RILL_TEST_CDP_H
#define RILL_TEST_CDP_H

#include <stddef.h>

typedef struct it_cdp it_cdp_t;

/* What the page did, as recorded from the protocol's events. */
struct it_cdp_seen {
    char **requests;           /* every request's URL, in order */
    size_t nrequests;
    char **responses;          /* "URL\tCSP header value" ("" when none) of each response */
    size_t nresponses;
    char **errors;             /* exceptions thrown and console/log errors, as text */
    size_t nerrors;
};

/* Starts chromium with a fresh profile in profile_dir (created; it must not
 * exist), its stderr appended to log. NULL with errstr when it cannot be
 * started or does not answer the protocol within timeout_ms. */
it_cdp_t *it_cdp_start(const char *profile_dir, const char *log, int timeout_ms, char *errstr,
                       size_t errsz);

/* Opens url in a new page (network, page, runtime and log events
 * recorded) and waits for its load event. 0, or -1 with errstr. */
int it_cdp_open(it_cdp_t *c, const char *url, int timeout_ms, char *errstr, size_t errsz);

/* Evaluates expr in the page, awaiting it when it is a promise; its value
 * must be a string (JSON.stringify it): a malloc'd copy, or NULL on a
 * timeout, an exception, or a non-string value (errstr says which). */
char *it_cdp_eval(it_cdp_t *c, const char *expr, int timeout_ms, char *errstr, size_t errsz);

/* Writes a PNG screenshot of the page to path. 0, or -1 with errstr. */
int it_cdp_screenshot(it_cdp_t *c, const char *path, int timeout_ms, char *errstr,
                      size_t errsz);

/* What was recorded so far; owned by c. */
const struct it_cdp_seen *it_cdp_seen(const it_cdp_t *c);

/* Closes the browser (and kills it if it does not exit), frees c. */
void it_cdp_stop(it_cdp_t *c);

#endif
