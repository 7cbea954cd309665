/*  cmd_coordinator.c - `sweepd coordinator` (placeholder until implemented)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_coordinator(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sweepd coordinator: not implemented yet\n");
    return CLI_EXIT_FAILURE;
}
