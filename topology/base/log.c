/*
 * log.c - the structured logger declared in log.h: one line per event on
 * stderr, as logfmt (`2026-11-22T10:00:00.123Z level=info comp=engine
 * msg="..." key=value ...`) or as a JSON object per line (`{"ts":...,
 * "level":...,"comp":...,"msg":...,"key":"value",...}`), with a level for
 * the whole process and an optional one per component. The settings are made
 * before the threads start and only read afterwards.
 */
#include "topology/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX_COMPONENTS 16

static rill_log_level_t min_level = RILL_LOG_INFO;
static rill_log_format_t format = RILL_LOG_LOGFMT;
static struct {
    char name[32];
    rill_log_level_t level;
} comps[LOG_MAX_COMPONENTS];
static int ncomps;
/* The lowest level of min_level and every component's: below it, nothing
 * is written whatever the component. */
static rill_log_level_t floor_level = RILL_LOG_INFO;
static const char *const names[] = { "debug", "info", "warn", "error" };

static void floor_update(void)
{
    floor_level = min_level;
    for (int i = 0; i < ncomps; i++)
        if (comps[i].level < floor_level)
            floor_level = comps[i].level;
}

void rill_log_set_level(rill_log_level_t level)
{
    min_level = level;
    floor_update();
}

void rill_log_set_format(rill_log_format_t f) { format = f; }

int rill_log_level_parse(const char *name, rill_log_level_t *out)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcasecmp(name, names[i])) {
            *out = (rill_log_level_t)i;
            return 0;
        }
    return -1;
}

int rill_log_set_component_level(const char *comp, rill_log_level_t level)
{
    for (int i = 0; i < ncomps; i++)
        if (!strcmp(comps[i].name, comp)) {
            comps[i].level = level;
            floor_update();
            return 0;
        }
    if (ncomps == LOG_MAX_COMPONENTS || strlen(comp) >= sizeof comps[0].name)
        return -1;
    snprintf(comps[ncomps].name, sizeof comps[0].name, "%s", comp);
    comps[ncomps++].level = level;
    floor_update();
    return 0;
}

void rill_log_init_from_env(void)
{
    rill_log_level_t l;
    if (rill_log_level_parse(getenv("RILL_LOG_LEVEL"), &l) == 0)
        rill_log_set_level(l);
}

static rill_log_level_t level_of(const char *comp)
{
    for (int i = 0; i < ncomps; i++)
        if (!strcmp(comps[i].name, comp))
            return comps[i].level;
    return min_level;
}

const char *rill_log_value(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    for (; s && s[n] && n + 1 < size; n++)
        buf[n] = s[n] == '"' ? '\'' : s[n] == '\n' || s[n] == '\r' ? ' ' : s[n];
    if (size)
        buf[n] = '\0';
    return buf;
}

int rill_log_enabled(rill_log_level_t level, const char *comp)
{
    return level >= floor_level && level >= level_of(comp);
}

/* s as the inside of a JSON string, into out[*n..size). */
static void json_str(char *out, size_t size, size_t *n, const char *s, size_t len)
{
    for (size_t i = 0; i < len && *n + 7 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[(*n)++] = '\\';
            out[(*n)++] = (char)c;
        } else if (c < 0x20) {
            *n += (size_t)snprintf(out + *n, size - *n, "\\u%04x", c);
        } else {
            out[(*n)++] = (char)c;
        }
    }
}

static void json_put(char *out, size_t size, size_t *n, const char *raw)
{
    size_t l = strlen(raw);
    if (*n + l < size) {
        memcpy(out + *n, raw, l);
        *n += l;
    }
}

/* The pairs "k=v k2=\"v 2\"" as JSON members. A value in quotes runs to the
 * quote that ends it (followed by a space or the end); a word without '='
 * is kept under "extra". */
static void json_pairs(char *out, size_t size, size_t *n, const char *kv)
{
    const char *p = kv;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *key = p, *eq = NULL;
        while (*p && *p != ' ' && *p != '=')
            p++;
        if (*p == '=')
            eq = p++;
        const char *val = eq ? p : key, *end;
        if (eq && *p == '"') {
            val = ++p;
            while (*p && !(*p == '"' && (p[1] == ' ' || !p[1])))
                p++;
            end = p;
            if (*p)
                p++;
        } else {
            while (*p && *p != ' ')
                p++;
            end = p;
        }
        json_put(out, size, n, ",\"");
        if (eq)
            json_str(out, size, n, key, (size_t)(eq - key));
        else
            json_put(out, size, n, "extra");
        json_put(out, size, n, "\":\"");
        json_str(out, size, n, val, (size_t)(end - val));
        json_put(out, size, n, "\"");
    }
}

size_t rill_log_render(char *out, size_t size, rill_log_format_t f, const char *when,
                       rill_log_level_t level, const char *comp, const char *fmt_out)
{
    char body[1024];
    snprintf(body, sizeof body, "%s", fmt_out);
    char *kv = strchr(body, '|');
    if (kv)
        *kv++ = '\0';
    if (f == RILL_LOG_JSON) {
        size_t n = 0;
        json_put(out, size, &n, "{\"ts\":\"");
        json_str(out, size, &n, when, strlen(when));
        json_put(out, size, &n, "\",\"level\":\"");
        json_put(out, size, &n, names[level]);
        json_put(out, size, &n, "\",\"comp\":\"");
        json_str(out, size, &n, comp, strlen(comp));
        json_put(out, size, &n, "\",\"msg\":\"");
        json_str(out, size, &n, body, strlen(body));
        json_put(out, size, &n, "\"");
        if (kv)
            json_pairs(out, size, &n, kv);
        if (n + 2 >= size)
            n = size > 2 ? size - 3 : 0; /* cut, yet one line */
        out[n++] = '}';
        out[n++] = '\n';
        out[n] = '\0';
        return n;
    }
    /* Quotes in the message would break the format: make them single. */
    for (char *p = body; *p; p++)
        if (*p == '"' || *p == '\n')
            *p = *p == '"' ? '\'' : ' ';
    int n = snprintf(out, size, "%s level=%s comp=%s msg=\"%s\"%s%s\n", when, names[level], comp,
                     body, kv ? " " : "", kv ? kv : "");
    if (n > (int)size - 1)
        n = (int)size - 1;
    return n < 0 ? 0 : (size_t)n;
}

void rill_log(rill_log_level_t level, const char *comp, const char *fmt, ...)
{
    if (!rill_log_enabled(level, comp))
        return;
    char body[1024], line[2800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[64], secs[32];
    strftime(secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when, sizeof when, "%s.%03dZ", secs, (int)(ts.tv_nsec / 1000000));
    size_t n = rill_log_render(line, sizeof line, format, when, level, comp, body);
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
}
