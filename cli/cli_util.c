/*  cli_util.c - helpers shared by the subcommands
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

const char *cli_self_exe(void)
{
    static char path[PATH_MAX];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            snprintf(path, sizeof path, "sweepd");
        else
            path[n] = '\0';
    }
    return path;
}
