/*  cmd_validate.c - `sweepd validate` (placeholder until implemented)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <stdio.h>

#include "cli/cli.h"

int cli_cmd_validate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "sweepd validate: not implemented yet\n");
    return CLI_EXIT_FAILURE;
}
