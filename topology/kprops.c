/*
 * kprops.c - -F FILE and -X key=value for librdkafka configs (kprops.h).
 */
#include "kprops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rill_err_t set_pair(rd_kafka_conf_t *c, char *k, char *v, const char *where,
                           char *errstr, size_t errsz)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) {
        snprintf(errstr, errsz, "%skafka setting '%s': %s", where, k, err);
        return RILL_ERR_CONFIG;
    }
    return RILL_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

rill_err_t rill_kprops_set(rd_kafka_conf_t *c, const char *kv, char *errstr, size_t errsz)
{
    char *copy = strdup(kv);
    if (!copy)
        return RILL_ERR_NOMEM;
    char *eq = strchr(copy, '=');
    rill_err_t err;
    if (!eq || eq == copy) {
        snprintf(errstr, errsz, "expected key=value, not '%.*s'", eq ? 0 : 64, copy);
        err = RILL_ERR_CONFIG;
    } else {
        *eq = '\0';
        err = set_pair(c, trim(copy), eq + 1, "", errstr, errsz);
    }
    free(copy);
    return err;
}

rill_err_t rill_kprops_file(rd_kafka_conf_t *c, const char *path, char *errstr, size_t errsz)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errsz, "cannot open '%s': %s", path, strerror(errno));
        return RILL_ERR_IO;
    }
    char line[4096], where[512];
    rill_err_t err = RILL_OK;
    for (int lineno = 1; err == RILL_OK && fgets(line, sizeof line, f); lineno++) {
        char *s = trim(line), *eq;
        if (!*s || *s == '#')
            continue;
        snprintf(where, sizeof where, "%s:%d: ", path, lineno);
        if (!(eq = strchr(s, '=')) || eq == s) {
            snprintf(errstr, errsz, "%sexpected key=value", where);
            err = RILL_ERR_CONFIG;
            break;
        }
        *eq = '\0';
        err = set_pair(c, trim(s), trim(eq + 1), where, errstr, errsz);
    }
    fclose(f);
    return err;
}
