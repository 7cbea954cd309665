/*  main.c - `sweepd`: dispatch to a subcommand
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    cli_cmd_fn *fn;
    const char *summary;
} s_cmds[] = {
    {"run", cli_cmd_run, "run a sweep here: a coordinator and N local workers"},
    {"coordinator", cli_cmd_coordinator, "serve sweeps to workers over ZeroMQ"},
    {"worker", cli_cmd_worker, "connect to a coordinator and run trials"},
    {"submit", cli_cmd_submit, "add a sweep to a running coordinator"},
    {"cancel", cli_cmd_cancel, "cancel one sweep: its trials stop, others go on"},
    {"resume", cli_cmd_resume, "reopen a CANCELLED or FAILED sweep (--retry-failed: rerun its failures)"},
    {"status", cli_cmd_status, "show sweeps, trial counts per state, best trial, workers"},
    {"trials", cli_cmd_trials, "list every trial with its parameters and values"},
    {"best", cli_cmd_best, "print the best trial of a sweep"},
    {"train", cli_cmd_train, "one run of the built-in trainer (as a worker's child or by hand)"},
    {"refit", cli_cmd_refit, "retrain the best configuration, score the held-out rows, save the model"},
    {"predict", cli_cmd_predict, "predict the rows of a CSV file with a saved model"},
    {"validate", cli_cmd_validate, "check a sweep spec; print every error with its JSON path"},
    {"check", cli_cmd_check, "verify a trial database: integrity and exactly-once invariants"},
    {"keygen", cli_cmd_keygen, "make a CURVE key pair (NAME.key, NAME.key_secret) for secure links"},
};

static void s_usage(FILE *out)
{
    fprintf(out, "usage: sweepd COMMAND [ARGS...]\n\n"
                 "sweepd schedules hyperparameter sweeps: a coordinator holds each sweep's\n"
                 "search space and trial database, workers train and report metrics.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        fprintf(out, "  %-12s %s\n", s_cmds[i].name, s_cmds[i].summary);
    fprintf(out, "\n'sweepd COMMAND --help' describes each command.\n"
                 "exit status: 0 success, 1 runtime failure, 2 usage error or bad input,\n"
                 "130 'sweepd run' interrupted (run it again to resume)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        s_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("sweepd 0.1.0 (protocol SWPD/1)\n");
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof s_cmds / sizeof s_cmds[0]; i++)
        if (!strcmp(argv[1], s_cmds[i].name))
            return s_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sweepd: unknown command '%s'\n\n", argv[1]);
    s_usage(stderr);
    return CLI_EXIT_USAGE;
}
