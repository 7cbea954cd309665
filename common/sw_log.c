/*  sw_log.c - stderr logger with levels (see sw_log.h)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sw_log_level_t s_level = SW_LOG_NOTICE;
static char s_ident[64] = "sweepd";

void sw_log_set_level(sw_log_level_t level) { s_level = level; }

sw_log_level_t sw_log_level(void) { return s_level; }

void sw_log_set_ident(const char *ident)
{
    snprintf(s_ident, sizeof s_ident, "%s", ident ? ident : "sweepd");
}

void sw_log(sw_log_level_t level, const char *fmt, ...)
{
    static const char letters[] = "EWNID";
    if (level > s_level)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s[%ld] %c: %s\n", s_ident, (long)getpid(),
            letters[level <= SW_LOG_DEBUG ? level : SW_LOG_DEBUG], line);
}
