/*
 * log.h - rill's structured log: one line per event on stderr,
 * `2026-11-22T10:00:00.123Z level=info comp=engine msg="..." key=value ...`,
 * so that both people and log shippers can read it. Secrets never go through
 * here: callers pass names, never passwords. Thread-safe (one write per line).
 */
#ifndef RILL_LOG_H
#define RILL_LOG_H

typedef enum { RILL_LOG_DEBUG, RILL_LOG_INFO, RILL_LOG_WARN, RILL_LOG_ERROR } rill_log_level_t;

/* Lines below level are dropped; default INFO (RILL_LOG_LEVEL=debug|info|warn|error). */
void rill_log_set_level(rill_log_level_t level);
void rill_log_init_from_env(void);

/* comp: the subsystem ("engine", "task"); fmt: the message, then optional
 * " key=value" pairs are part of fmt's output after a '|' separator:
 * rill_log(RILL_LOG_INFO, "engine", "assigned|partitions=%d", n). */
void rill_log(rill_log_level_t level, const char *comp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
