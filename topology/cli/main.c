/*
 * main.c - the rill command line: finds the subcommand in the table and runs
 * it. This is the only place in rill that decides the process exit status;
 * library code returns errors.
 */
#include "topology/cli/cli.h"
#include "topology/rill.h"

#include <stdio.h>
#include <string.h>

static const struct rill_cli_cmd commands[] = {
    { "version", rill_cmd_version, "print the versions of rill and its libraries" },
    { "validate", rill_cmd_validate, "check a topology file and print its graph" },
    { "apply", rill_cmd_apply, "create or update the topics and acls a topology needs" },
    { "run", rill_cmd_run, "run a topology until SIGTERM/SIGINT" },
    { "generate", rill_cmd_generate, "produce synthetic order_placed events to Kafka" },
    { "inspect", rill_cmd_inspect, "topics, consumer groups and lag, records decoded (Avro, JSON)" },
    { "migrate", rill_cmd_migrate, "apply the PostgreSQL migrations (schemas/sql/) to a database" },
    { "state", rill_cmd_state, "read a local state store: get STORE KEY, dump STORE" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: rill <command> [args]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'rill <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version") || !strcmp(name, "-V"))
        name = "version";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "rill: unknown command '%s'\n", name);
    usage(stderr);
    return 2;
}
