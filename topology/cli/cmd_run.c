/*
 * cmd_run.c - `rill run FILE`: loads and checks the topology, runs the engine
 * until SIGTERM or SIGINT, then drains, commits and exits 0. A second signal
 * exits at once (status 130). Startup failures print one line and exit 1;
 * among them a processor that cannot start (checked first with an instance
 * of each over memory stores, before any group is joined).
 */
#include "topology/cli/cli.h"
#include "processors/registry.h"
#include "topology/model/config.h"
#include "topology/driver/driver.h"
#include "topology/engine/engine.h"
#include "topology/base/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static rill_engine_t *running;
static volatile sig_atomic_t signals;

static void on_signal(int sig)
{
    (void)sig;
    if (signals++) {
        static const char msg[] = "rill: second signal, exiting now\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(130);
    }
    if (running)
        rill_engine_stop(running);
}

/* The topology's log.format, log.level (RILL_LOG_LEVEL still wins) and
 * log.levels. */
static rill_err_t log_setup(const struct rill_topology *t, char *err, size_t errsz)
{
    rill_log_set_format((rill_log_format_t)t->log_format);
    rill_log_set_level((rill_log_level_t)t->log_level);
    rill_log_init_from_env();
    for (size_t i = 0; i < t->log_levels.n; i++) {
        const struct rill_kv *kv = &t->log_levels.v[i];
        rill_log_level_t l;
        if (rill_log_level_parse(kv->value, &l) != 0)
            return rill_errf(err, errsz, RILL_ERR_CONFIG,
                             "%s:%d:%d: log.levels: '%s' is not debug, info, warn or error",
                             t->path, kv->line, kv->col, kv->value);
        if (rill_log_set_component_level(kv->key, l) != 0)
            return rill_errf(err, errsz, RILL_ERR_CONFIG,
                             "%s:%d:%d: log.levels: too many components, or '%s' too long",
                             t->path, kv->line, kv->col, kv->key);
    }
    return RILL_OK;
}

int rill_cmd_run(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fprintf(argc == 2 ? stdout : stderr,
                "usage: rill run FILE\n\n"
                "Runs the topology in FILE until SIGTERM/SIGINT (drain, commit, exit 0);\n"
                "a second signal exits at once. Log level: RILL_LOG_LEVEL=debug|info|warn|error.\n");
        return argc == 2 ? 0 : 2;
    }
    rill_log_init_from_env();
    char err[RILL_ERRSTR_SIZE];
    struct rill_topology *t = NULL;
    if (rill_topology_load(argv[1], &t, err, sizeof err) != RILL_OK ||
        rill_topology_check(t, rill_proc_builtins, rill_sink_builtins, err, sizeof err) !=
            RILL_OK ||
        log_setup(t, err, sizeof err) != RILL_OK || rill_cli_serde_subjects(t, err, sizeof err)) {
        fprintf(stderr, "rill: %s\n", err);
        rill_topology_free(t);
        return 1;
    }
    rill_driver_t *pre = rill_driver_new(t, err, sizeof err);
    rill_err_t perr = pre ? rill_driver_preflight(pre, err, sizeof err) : RILL_ERR_CONFIG;
    rill_driver_free(pre);
    if (perr != RILL_OK) {
        fprintf(stderr, "rill: %s\n", err);
        rill_topology_free(t);
        return 1;
    }
    rill_engine_t *e = NULL;
    if (rill_engine_new(t, &e, err, sizeof err) != RILL_OK) {
        fprintf(stderr, "rill: %s\n", err);
        rill_topology_free(t);
        return 1;
    }
    running = e;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT); /* one handler at a time */
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rill_err_t rc = rill_engine_run(e, err, sizeof err);
    if (rc != RILL_OK)
        fprintf(stderr, "rill: %s\n", err);
    running = NULL;
    rill_engine_free(e);
    rill_topology_free(t);
    return rc == RILL_OK ? 0 : 1;
}
