/*
 * cli.h - the command table of the rill binary. Each subcommand lives in its
 * own topology/cli/cmd_*.c file and is one row here: a name, an entry point that
 * takes the arguments after the subcommand name, and a one-line summary for
 * `rill --help`. Only the CLI may print to the terminal and exit.
 */
#ifndef RILL_CLI_H
#define RILL_CLI_H

#include <stddef.h>

struct rill_cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv);   /* returns the process exit status */
    const char *summary;
};

int rill_cmd_version(int argc, char **argv);
int rill_cmd_validate(int argc, char **argv);
int rill_cmd_apply(int argc, char **argv);
int rill_cmd_run(int argc, char **argv);
int rill_cmd_state(int argc, char **argv);
int rill_cmd_generate(int argc, char **argv);
int rill_cmd_inspect(int argc, char **argv);
int rill_cmd_migrate(int argc, char **argv);

struct rill_topology;
/* Hands the topology's schema.registry.subject.strategy (and, for the topic
 * strategy, its topics that carry an event type by name) to the serdes made
 * after it (rill_serde_set_subjects()); subjects.c. 0, or -1 with err. */
int rill_cli_serde_subjects(const struct rill_topology *t, char *err, size_t errsz);

#endif
