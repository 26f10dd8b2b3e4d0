/*
 * log.c - the structured logger declared in log.h.
 */
#include "topology/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static rill_log_level_t min_level = RILL_LOG_INFO;
static const char *const names[] = { "debug", "info", "warn", "error" };

void rill_log_set_level(rill_log_level_t level) { min_level = level; }

void rill_log_init_from_env(void)
{
    const char *v = getenv("RILL_LOG_LEVEL");
    for (int i = 0; v && i < 4; i++)
        if (!strcasecmp(v, names[i]))
            min_level = (rill_log_level_t)i;
}

void rill_log(rill_log_level_t level, const char *comp, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char body[1024], line[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    char *kv = strchr(body, '|');
    if (kv)
        *kv++ = '\0';
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    /* Quotes in the message would break the format: make them single. */
    for (char *p = body; *p; p++)
        if (*p == '"' || *p == '\n')
            *p = *p == '"' ? '\'' : ' ';
    int n = snprintf(line, sizeof line, "%s.%03ldZ level=%s comp=%s msg=\"%s\"%s%s\n", when,
                     ts.tv_nsec / 1000000, names[level], comp, body, kv ? " " : "", kv ? kv : "");
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}
