/*
 * cli.h - the command table of the rill binary. Each subcommand lives in its
 * own topology/cli/cmd_*.c file and is one row here: a name, an entry point that
 * takes the arguments after the subcommand name, and a one-line summary for
 * `rill --help`. Only the CLI may print to the terminal and exit.
 */
#ifndef RILL_CLI_H
#define RILL_CLI_H

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

#endif
