/*
 * log.h - rill's structured log: one line per event on stderr,
 * `2026-11-22T10:00:00.123Z level=info comp=engine msg="..." key=value ...`
 * (logfmt) or the same as one JSON object per line, so that both people and
 * log shippers can read it. Secrets never go through
 * here: callers pass names, never passwords. Thread-safe (one write per line).
 */
#ifndef RILL_LOG_H
#define RILL_LOG_H

#include <stddef.h>

typedef enum { RILL_LOG_DEBUG, RILL_LOG_INFO, RILL_LOG_WARN, RILL_LOG_ERROR } rill_log_level_t;

typedef enum { RILL_LOG_LOGFMT, RILL_LOG_JSON } rill_log_format_t;

/* Lines below level are dropped; default INFO (RILL_LOG_LEVEL=debug|info|warn|error). */
void rill_log_set_level(rill_log_level_t level);
void rill_log_init_from_env(void);
/* logfmt (default) or one JSON object per line. */
void rill_log_set_format(rill_log_format_t f);
/* A level for one component ("sink", "kafka", ...) over the process's;
 * at most 16 components. 0, or -1 when the table is full. */
int rill_log_set_component_level(const char *comp, rill_log_level_t level);
/* "debug", "info", "warn" or "error" (any case) into *out: 0, else -1. */
int rill_log_level_parse(const char *name, rill_log_level_t *out);
/* One line as rill_log() writes it (when: the timestamp text; body: the
 * formatted message with its '|' pairs), into out; returns its length.
 * For tests. */
size_t rill_log_render(char *out, size_t size, rill_log_format_t f, const char *when,
                       rill_log_level_t level, const char *comp, const char *body);

/* 1 when a line of level from comp would be written, else 0. One
 * comparison when level is below every level set, so that a per-record
 * debug line costs nothing while debug is off: guard its arguments' work
 * with it. */
int rill_log_enabled(rill_log_level_t level, const char *comp);

/* s made safe as a quoted key="value" of a line (a double quote becomes a
 * single one, a newline a space), cut to fit, into buf; returns buf. For
 * text from elsewhere: a database's or a decoder's message. */
const char *rill_log_value(const char *s, char *buf, size_t size);

/* comp: the subsystem ("engine", "task"); fmt: the message, then optional
 * " key=value" pairs are part of fmt's output after a '|' separator:
 * rill_log(RILL_LOG_INFO, "engine", "assigned|partitions=%d", n). */
void rill_log(rill_log_level_t level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
