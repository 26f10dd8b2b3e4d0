/*
 * cdp.c - the web view test's Chrome DevTools Protocol client (cdp.h):
 * chromium over --remote-debugging-pipe, one flat page session, the page's
 * events recorded as they arrive while the client waits for its answers.
 * Messages are read with rill's bounded JSON reader.
 */
#include "tests/lib/cdp.h"
#include "tests/lib/proc.h"
#include "tests/lib/stack.h"
#include "topology/base/json.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct it_cdp {
    pid_t pid;
    int wfd, rfd;              /* chromium's fd 3 (commands) and fd 4 (answers, events) */
    char *buf;                 /* bytes read, not yet split into messages */
    size_t len, cap;
    int next_id;
    char session[128];         /* the page's sessionId; "" before it_cdp_open() */
    int loaded;                /* Page.loadEventFired seen */
    struct it_cdp_seen seen;
};

static void err(char *errstr, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void err(char *errstr, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errsz, fmt, ap);
    va_end(ap);
}

static void push(char ***v, size_t *n, const char *s)
{
    char **p = realloc(*v, (*n + 1) * sizeof *p);
    if (!p)
        return;
    *v = p;
    (*v)[(*n)++] = strdup(s);
}

/* s as a JSON string, quotes included, into a malloc'd buffer. */
static char *json_quote(const char *s)
{
    char *out = malloc(strlen(s) * 6 + 3), *o = out;
    if (!out)
        return NULL;
    *o++ = '"';
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            o += sprintf(o, "\\%c", ch);
        else if (ch < 0x20)
            o += sprintf(o, "\\u%04x", ch);
        else
            *o++ = (char)ch;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* The string or scalar at path of msg, into out; 0, or -1. */
static int field(const char *msg, size_t len, const char *path, char *out, size_t size)
{
    return rill_json_get(msg, len, path, out, size, NULL) == RILL_JSON_FOUND ? 0 : -1;
}

/* ---- reading and writing messages ----------------------------------------- */

static int send_msg(it_cdp_t *c, int with_session, const char *method, const char *params)
{
    int id = ++c->next_id;
    size_t n = strlen(method) + strlen(params ? params : "{}") + strlen(c->session) + 96;
    char *msg = malloc(n);
    if (!msg)
        return -1;
    int len = snprintf(msg, n, "{\"id\":%d,\"method\":\"%s\",\"params\":%s%s%s%s}", id, method,
                       params ? params : "{}", with_session ? ",\"sessionId\":\"" : "",
                       with_session ? c->session : "", with_session ? "\"" : "");
    len++; /* the NUL that ends a message */
    for (int off = 0; off < len;) {
        ssize_t w = write(c->wfd, msg + off, (size_t)(len - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(msg);
            return -1;
        }
        off += (int)w;
    }
    free(msg);
    return id;
}

/* The next message (malloc'd, *n its length), or NULL when none came
 * before deadline or the browser went away. */
static char *next_msg(it_cdp_t *c, int64_t deadline, size_t *n)
{
    for (;;) {
        char *end = c->len ? memchr(c->buf, '\0', c->len) : NULL;
        if (end) {
            *n = (size_t)(end - c->buf);
            char *m = malloc(*n + 1);
            if (!m)
                return NULL;
            memcpy(m, c->buf, *n + 1);
            memmove(c->buf, end + 1, c->len - *n - 1);
            c->len -= *n + 1;
            return m;
        }
        int64_t left = deadline - it_now_ms();
        struct pollfd p = { .fd = c->rfd, .events = POLLIN };
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return NULL;
        if (c->cap - c->len < 65536) {
            char *b = realloc(c->buf, c->cap * 2 + 65536);
            if (!b)
                return NULL;
            c->buf = b;
            c->cap = c->cap * 2 + 65536;
        }
        ssize_t r = read(c->rfd, c->buf + c->len, c->cap - c->len);
        if (r <= 0)
            return NULL;
        c->len += (size_t)r;
    }
}

/* Records what an event says about the page. */
static void on_event(it_cdp_t *c, const char *m, size_t n, const char *method)
{
    char a[4096], b[4096];
    if (!strcmp(method, "Page.loadEventFired")) {
        c->loaded = 1;
    } else if (!strcmp(method, "Network.requestWillBeSent")) {
        if (!field(m, n, "params.request.url", a, sizeof a))
            push(&c->seen.requests, &c->seen.nrequests, a);
    } else if (!strcmp(method, "Network.responseReceived")) {
        if (field(m, n, "params.response.url", a, sizeof a))
            return;
        if (field(m, n, "params.response.headers.Content-Security-Policy", b, sizeof b) &&
            field(m, n, "params.response.headers.content-security-policy", b, sizeof b))
            b[0] = '\0';
        char line[8200];
        snprintf(line, sizeof line, "%s\t%s", a, b);
        push(&c->seen.responses, &c->seen.nresponses, line);
    } else if (!strcmp(method, "Runtime.exceptionThrown")) {
        if (field(m, n, "params.exceptionDetails.exception.description", a, sizeof a) &&
            field(m, n, "params.exceptionDetails.text", a, sizeof a))
            snprintf(a, sizeof a, "an exception");
        push(&c->seen.errors, &c->seen.nerrors, a);
    } else if (!strcmp(method, "Log.entryAdded")) {
        if (!field(m, n, "params.entry.level", b, sizeof b) && !strcmp(b, "error") &&
            !field(m, n, "params.entry.text", a, sizeof a))
            push(&c->seen.errors, &c->seen.nerrors, a);
    } else if (!strcmp(method, "Runtime.consoleAPICalled")) {
        if (!field(m, n, "params.type", b, sizeof b) && !strcmp(b, "error"))
            push(&c->seen.errors, &c->seen.nerrors, "console.error called");
    }
}

/* Reads until the answer to id (returned, malloc'd, its length in *n) or
 * until want_load and the load event; events are recorded on the way. */
static char *await_msg(it_cdp_t *c, int id, int want_load, int64_t deadline, size_t *n)
{
    for (;;) {
        if (want_load && c->loaded)
            return NULL;
        char *m = next_msg(c, deadline, n);
        if (!m)
            return NULL;
        char v[256];
        if (!field(m, *n, "id", v, sizeof v)) {
            if (atoi(v) == id)
                return m;
        } else if (!field(m, *n, "method", v, sizeof v)) {
            on_event(c, m, *n, v);
        }
        free(m);
    }
}

/* Calls method; its answer's message (malloc'd), or NULL with errstr. */
static char *call(it_cdp_t *c, int with_session, const char *method, const char *params,
                  int timeout_ms, size_t *n, char *errstr, size_t errsz)
{
    int id = send_msg(c, with_session, method, params);
    char *m = id > 0 ? await_msg(c, id, 0, it_now_ms() + timeout_ms, n) : NULL;
    char e[512];
    if (!m) {
        err(errstr, errsz, "%s: no answer from chromium", method);
    } else if (!field(m, *n, "error.message", e, sizeof e)) {
        err(errstr, errsz, "%s: %s", method, e);
        free(m);
        m = NULL;
    }
    return m;
}

/* ---- the browser ------------------------------------------------------------- */

it_cdp_t *it_cdp_start(const char *profile_dir, const char *log, int timeout_ms, char *errstr,
                       size_t errsz)
{
    int cmd[2], ans[2];
    if (mkdir(profile_dir, 0700) != 0) {
        err(errstr, errsz, "cannot create profile '%s': %s", profile_dir, strerror(errno));
        return NULL;
    }
    if (pipe(cmd) || pipe(ans)) {
        err(errstr, errsz, "pipe: %s", strerror(errno));
        return NULL;
    }
    char profile[600];
    snprintf(profile, sizeof profile, "--user-data-dir=%s", profile_dir);
    const char *argv[32];
    int argc = 0;
    argv[argc++] = "chromium";
    argv[argc++] = "--headless";
    argv[argc++] = "--remote-debugging-pipe";
    argv[argc++] = profile;
    if (geteuid() == 0)
        argv[argc++] = "--no-sandbox"; /* root cannot use the sandbox */
    static const char *const quiet[] = {
        "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update",
        "--disable-default-apps", "--disable-extensions", "--disable-sync",
        "--disable-client-side-phishing-detection", "--disable-domain-reliability",
        "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
        "--window-size=1280,1000", "about:blank",
    };
    for (size_t i = 0; i < sizeof quiet / sizeof *quiet; i++)
        argv[argc++] = quiet[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        /* out of the way of 3 and 4 first, then into them */
        int in = fcntl(cmd[0], F_DUPFD, 10), out = fcntl(ans[1], F_DUPFD, 10);
        dup2(in, 3);
        dup2(out, 4);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
        }
        for (int i = 5; i < 1024; i++)
            close(i);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(cmd[0]);
    close(ans[1]);
    it_cdp_t *c = calloc(1, sizeof *c);
    if (pid < 0 || !c) {
        err(errstr, errsz, "cannot start chromium");
        close(cmd[1]);
        close(ans[0]);
        free(c);
        return NULL;
    }
    c->pid = pid;
    c->wfd = cmd[1];
    c->rfd = ans[0];
    fcntl(c->wfd, F_SETFD, FD_CLOEXEC);
    fcntl(c->rfd, F_SETFD, FD_CLOEXEC);
    size_t n;
    char *m = call(c, 0, "Browser.getVersion", NULL, timeout_ms, &n, errstr, errsz);
    if (!m) {
        it_cdp_stop(c);
        return NULL;
    }
    free(m);
    return c;
}

int it_cdp_open(it_cdp_t *c, const char *url, int timeout_ms, char *errstr, size_t errsz)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    size_t n;
    char id[256], params[1200];
    char *m = call(c, 0, "Target.createTarget", "{\"url\":\"about:blank\"}", timeout_ms, &n,
                   errstr, errsz);
    if (!m || field(m, n, "result.targetId", id, sizeof id)) {
        free(m);
        return -1;
    }
    free(m);
    snprintf(params, sizeof params, "{\"targetId\":\"%s\",\"flatten\":true}", id);
    m = call(c, 0, "Target.attachToTarget", params, timeout_ms, &n, errstr, errsz);
    if (!m || field(m, n, "result.sessionId", c->session, sizeof c->session)) {
        free(m);
        return -1;
    }
    free(m);
    static const char *const domains[] = { "Network.enable", "Page.enable", "Runtime.enable",
                                           "Log.enable" };
    for (size_t i = 0; i < sizeof domains / sizeof *domains; i++) {
        if (!(m = call(c, 1, domains[i], NULL, timeout_ms, &n, errstr, errsz)))
            return -1;
        free(m);
    }
    char *q = json_quote(url);
    snprintf(params, sizeof params, "{\"url\":%s}", q ? q : "\"\"");
    free(q);
    c->loaded = 0;
    if (!(m = call(c, 1, "Page.navigate", params, timeout_ms, &n, errstr, errsz)))
        return -1;
    char e[512];
    if (!field(m, n, "result.errorText", e, sizeof e)) {
        err(errstr, errsz, "cannot open %s: %s", url, e);
        free(m);
        return -1;
    }
    free(m);
    await_msg(c, -1, 1, deadline, &n);
    if (!c->loaded) {
        err(errstr, errsz, "%s did not load within %d ms", url, timeout_ms);
        return -1;
    }
    return 0;
}

char *it_cdp_eval(it_cdp_t *c, const char *expr, int timeout_ms, char *errstr, size_t errsz)
{
    char *q = json_quote(expr);
    size_t psz = (q ? strlen(q) : 0) + 128, n;
    char *params = malloc(psz);
    if (!q || !params) {
        free(q);
        free(params);
        return NULL;
    }
    snprintf(params, psz, "{\"expression\":%s,\"awaitPromise\":true,\"returnByValue\":true}", q);
    free(q);
    char *m = call(c, 1, "Runtime.evaluate", params, timeout_ms, &n, errstr, errsz);
    free(params);
    if (!m)
        return NULL;
    char type[64], *out = malloc(n + 1);
    if (!field(m, n, "result.exceptionDetails.text", type, sizeof type)) {
        err(errstr, errsz, "the page threw: %s", type);
        free(out);
        out = NULL;
    } else if (field(m, n, "result.result.type", type, sizeof type) || strcmp(type, "string") ||
               !out || field(m, n, "result.result.value", out, n + 1)) {
        err(errstr, errsz, "the expression's value is not a string");
        free(out);
        out = NULL;
    }
    free(m);
    return out;
}

int it_cdp_screenshot(it_cdp_t *c, const char *path, int timeout_ms, char *errstr,
                      size_t errsz)
{
    size_t n;
    char *m = call(c, 1, "Page.captureScreenshot", "{\"format\":\"png\"}", timeout_ms, &n,
                   errstr, errsz);
    char *b64 = m ? malloc(n + 1) : NULL;
    unsigned char *png = m ? malloc(n) : NULL;
    int rc = -1;
    size_t len;
    if (b64 && png && !field(m, n, "result.data", b64, n + 1) && (len = strlen(b64)) % 4 == 0) {
        int dec = EVP_DecodeBlock(png, (unsigned char *)b64, (int)len);
        size_t pad = (len && b64[len - 1] == '=') + (len > 1 && b64[len - 2] == '=');
        FILE *f = dec > 0 ? fopen(path, "wb") : NULL;
        if (f) {
            size_t w = fwrite(png, 1, (size_t)dec - pad, f);
            rc = fclose(f) == 0 && w == (size_t)dec - pad ? 0 : -1;
        }
        if (rc)
            err(errstr, errsz, "cannot write '%s'", path);
    } else if (m) {
        err(errstr, errsz, "no PNG in the answer to Page.captureScreenshot");
    }
    free(b64);
    free(png);
    free(m);
    return rc;
}

const struct it_cdp_seen *it_cdp_seen(const it_cdp_t *c)
{
    return &c->seen;
}

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void it_cdp_stop(it_cdp_t *c)
{
    if (!c)
        return;
    send_msg(c, 0, "Browser.close", NULL);
    it_rill_stop(c->pid, 0, 15000); /* waits; SIGKILL when it does not exit */
    close(c->wfd);
    close(c->rfd);
    strv_free(c->seen.requests, c->seen.nrequests);
    strv_free(c->seen.responses, c->seen.nresponses);
    strv_free(c->seen.errors, c->seen.nerrors);
    free(c->buf);
    free(c);
}
