/*  cmd_trials.c - `sweepd trials` (placeholder until implemented)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_trials(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sweepd trials: not implemented yet\n");
    return CLI_EXIT_FAILURE;
}

int cli_cmd_best(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sweepd best: not implemented yet\n");
    return CLI_EXIT_FAILURE;
}
