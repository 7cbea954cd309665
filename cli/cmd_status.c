/*  cmd_status.c - `sweepd status` (placeholder until implemented)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_status(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sweepd status: not implemented yet\n");
    return CLI_EXIT_FAILURE;
}
