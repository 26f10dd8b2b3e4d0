/*
 * subst.c - the loader's ${...} substitution (config.c's header says the
 * rules): ${VAR}, ${VAR:-text}, ${file:PATH} and $${, within the loader's
 * bounds on names, secrets and the bytes substituted. A value that cannot be
 * resolved is an error, or in a lenient load a note. Never quotes a
 * substituted value.
 */
#include "topology/model/loader_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sbuf {
    char *p;
    size_t len, cap;
};

static int sbuf_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

/* Reads the regular file path (bounded) into a new string, trailing newlines
 * stripped. On failure returns NULL with *why set to a static reason or an
 * errno text, or *oom set. */
static char *read_secret(const char *path, const char **why, int *oom)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        *why = strerror(errno);
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        close(fd);
        return NULL;
    }
    if (st.st_size > MAX_SECRET) {
        *why = "larger than 64 KiB";
        close(fd);
        return NULL;
    }
    char *data = malloc(MAX_SECRET + 1);
    if (!data) {
        *oom = 1;
        close(fd);
        return NULL;
    }
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, data + len, MAX_SECRET + 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *why = strerror(errno);
            free(data);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len > MAX_SECRET) {
            *why = "larger than 64 KiB";
            free(data);
            close(fd);
            return NULL;
        }
    }
    close(fd);
    if (memchr(data, '\0', len)) {
        *why = "contains a nul byte";
        free(data);
        return NULL;
    }
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    data[len] = '\0';
    return data;
}

static int valid_varname(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

/* A ${...} of n that cannot be resolved (why: the message): an error, or in
 * a lenient load a note, n marked unresolved and RILL_OK. */
static rill_err_t unresolvable(struct loader *L, struct ynode *n, const char *why)
{
    if (!L->opts->lenient_substitution)
        return LERR(L, n->line, n->col, RILL_ERR_CONFIG, "%s", why);
    LNOTE(L, n->line, n->col, "%s", why);
    n->unresolved = 1;
    return RILL_OK;
}

/* Substitutes ${...} in the scalar n in place; keeps the written text in
 * n->raw when anything changed. A lenient load leaves an unresolved scalar
 * as written (n->s and n->raw both the text of the file). */
rill_err_t rill_loader_subst(struct loader *L, struct ynode *n)
{
    const char *s = n->s;
    if (!strchr(s, '$'))
        return RILL_OK;
    struct sbuf b = { 0 };
    int changed = 0;
    rill_err_t err = RILL_OK;
    size_t i = 0;
    while (s[i]) {
        if (s[i] == '$' && s[i + 1] == '$' && s[i + 2] == '{') {
            if (sbuf_add(&b, "${", 2) < 0)
                goto oom;
            i += 3;
            changed = 1;
            continue;
        }
        if (!(s[i] == '$' && s[i + 1] == '{')) {
            size_t j = i + 1;
            while (s[j] && s[j] != '$')
                j++;
            if (sbuf_add(&b, s + i, j - i) < 0)
                goto oom;
            i = j;
            continue;
        }
        const char *body = s + i + 2;
        const char *end = strchr(body, '}');
        if (!end) {
            err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                       "unterminated '${' in '%s' (expected '}')", rill_loader_txt(n));
            goto out;
        }
        size_t blen = (size_t)(end - body);
        changed = 1;
        if (blen >= 5 && !strncmp(body, "file:", 5)) {
            size_t plen = blen - 5;
            if (!plen) {
                err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                           "empty path in '${file:}' (expected ${file:PATH})");
                goto out;
            }
            char *path;
            int dirlen = (body[5] != '/' && L->dir) ? (int)strlen(L->dir) + 1 : 0;
            path = malloc((size_t)dirlen + plen + 1);
            if (!path)
                goto oom;
            if (dirlen)
                snprintf(path, (size_t)dirlen + 1, "%s/", L->dir);
            memcpy(path + dirlen, body + 5, plen);
            path[dirlen + plen] = '\0';
            const char *why = NULL;
            int oom = 0;
            char *data = read_secret(path, &why, &oom);
            if (!data) {
                if (oom) {
                    free(path);
                    goto oom;
                }
                char msg[RILL_ERRSTR_SIZE];
                rill_errf(msg, sizeof msg, RILL_ERR_CONFIG,
                          "cannot read ${file:%.*s}: %c%s (looked for '%s')", (int)plen, body + 5,
                          tolower((unsigned char)why[0]), why + 1, path);
                free(path);
                if ((err = unresolvable(L, n, msg)) != RILL_OK)
                    goto out;
                i = (size_t)(end - s) + 1;
                continue;
            }
            free(path);
            size_t dlen = strlen(data);
            L->subst_total += dlen;
            int r = L->subst_total > MAX_SUBST_TOTAL ? 0 : sbuf_add(&b, data, dlen);
            free(data);
            if (r < 0)
                goto oom;
        } else {
            const char *dash = NULL;
            for (const char *p = body; p + 1 < end; p++)
                if (p[0] == ':' && p[1] == '-') {
                    dash = p;
                    break;
                }
            size_t nlen = dash ? (size_t)(dash - body) : blen;
            if (!valid_varname(body, nlen)) {
                err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                           "invalid variable name '%.*s' in '${...}' (expected letters, digits "
                           "and '_', ${VAR}, ${VAR:-default} or ${file:PATH})",
                           (int)(nlen > VARNAME_QUOTE_MAX ? VARNAME_QUOTE_MAX : nlen), body);
                goto out;
            }
            char name[MAX_VARNAME + 1];
            if (nlen > MAX_VARNAME) {
                err = LERR(L, n->line, n->col, RILL_ERR_NOFIT,
                           "variable name '%.64s...' is too long (at most %d characters)", body,
                           MAX_VARNAME);
                goto out;
            }
            memcpy(name, body, nlen);
            name[nlen] = '\0';
            const char *v = getenv(name);
            const char *val;
            size_t vlen;
            if (v && (*v || !dash)) {
                val = v;
                vlen = strlen(v);
            } else if (dash) {
                val = dash + 2;
                vlen = (size_t)(end - val);
            } else {
                char msg[RILL_ERRSTR_SIZE];
                rill_errf(msg, sizeof msg, RILL_ERR_CONFIG,
                          "undefined environment variable '%s' in ${%s} (set it, or write "
                          "${%s:-default})",
                          name, name, name);
                if ((err = unresolvable(L, n, msg)) != RILL_OK)
                    goto out;
                i = (size_t)(end - s) + 1;
                continue;
            }
            L->subst_total += vlen;
            if (L->subst_total <= MAX_SUBST_TOTAL && sbuf_add(&b, val, vlen) < 0)
                goto oom;
        }
        if (L->subst_total > MAX_SUBST_TOTAL || b.len > MAX_SCALAR) {
            err = LERR(L, n->line, n->col, RILL_ERR_CONFIG,
                       "value too long after substitution (at most %d bytes per value, %d per "
                       "file)",
                       MAX_SCALAR, MAX_SUBST_TOTAL);
            goto out;
        }
        i = (size_t)(end - s) + 1;
    }
    if (n->unresolved) {
        char *placeholder = strdup(n->s);
        if (!placeholder)
            goto oom;
        n->raw = n->s;
        n->s = placeholder;
    } else if (changed) {
        if (!b.p && sbuf_add(&b, "", 0) < 0)
            goto oom;
        n->raw = n->s;
        n->s = b.p;
        b.p = NULL;
    }
out:
    free(b.p);
    return err;
oom:
    free(b.p);
    return rill_loader_nomem(L, n->line, n->col);
}
