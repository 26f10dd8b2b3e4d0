/*
 * kprops.c - collecting librdkafka settings from a base map, -F files and -X
 * overrides, and handing them to a librdkafka config (kprops.h).
 */
#include "topology/cli/kprops.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static rill_err_t conf_file(const char *path, struct rill_kvlist *out, char *errstr, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        const char *why = strerror(errno);
        return rill_errf(errstr, errsz, RILL_ERR_IO, "cannot read kafka properties file '%s': %c%s", path,
                 tolower((unsigned char)why[0]), why + 1);
    }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    rill_err_t err = RILL_OK;
    while (!err && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            err = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d: expected key=value", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key) {
            err = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "%s:%d: expected key=value", path, lineno);
        } else if (rill_kvlist_set(out, key, value) != RILL_OK) {
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        }
    }
    free(line);
    fclose(f);
    return err;
}

rill_err_t rill_kprops_collect(const struct rill_kvlist *base, const char *const *files,
                               size_t nfiles, const char *const *sets, size_t nsets,
                               struct rill_kvlist *out, char *errstr, size_t errsz)
{
    rill_err_t err = RILL_OK;
    for (size_t i = 0; base && !err && i < base->n; i++)
        if (rill_kvlist_set(out, base->v[i].key, base->v[i].value) != RILL_OK)
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; !err && i < nfiles; i++)
        err = conf_file(files[i], out, errstr, errsz);
    for (size_t i = 0; !err && i < nsets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) {
            err = rill_errf(errstr, errsz, RILL_ERR_CONFIG, "-X expects key=value (argument %zu)", i + 1);
            break;
        }
        char *key = strndup(sets[i], (size_t)(eq - sets[i]));
        if (!key || rill_kvlist_set(out, key, eq + 1) != RILL_OK)
            err = rill_errf(errstr, errsz, RILL_ERR_NOMEM, "out of memory");
        free(key);
    }
    if (err)
        rill_kvlist_clear(out);
    return err;
}

rill_err_t rill_kprops_args_init(struct rill_kprops_args *a, int argc)
{
    size_t n = argc > 0 ? (size_t)argc : 1;
    a->files = calloc(n, sizeof *a->files);
    a->sets = calloc(n, sizeof *a->sets);
    a->nfiles = a->nsets = 0;
    if (a->files && a->sets)
        return RILL_OK;
    rill_kprops_args_free(a);
    return RILL_ERR_NOMEM;
}

void rill_kprops_args_add(struct rill_kprops_args *a, int opt, const char *arg)
{
    if (opt == 'F')
        a->files[a->nfiles++] = arg;
    else
        a->sets[a->nsets++] = arg;
}

void rill_kprops_args_free(struct rill_kprops_args *a)
{
    free(a->files);
    free(a->sets);
    a->files = a->sets = NULL;
}

rill_err_t rill_kprops_conf(const struct rill_kvlist *l, rd_kafka_conf_t *c, char *errstr,
                            size_t errsz)
{
    char err[RILL_ERRSTR_SIZE];
    for (size_t i = 0; i < l->n; i++)
        if (rd_kafka_conf_set(c, l->v[i].key, l->v[i].value, err, sizeof err) !=
            RD_KAFKA_CONF_OK) {
            return rill_errf(errstr, errsz, RILL_ERR_CONFIG, "kafka setting '%s': %s", l->v[i].key, err);
        }
    return RILL_OK;
}
