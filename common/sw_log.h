/*  sw_log.h - one line per event on stderr, with a level letter and key=value fields
 *
 *  Every part of sweepd logs through these calls, never with fprintf(stderr) directly,
 *  so that the level filter and the line format are the same everywhere:
 *
 *      sweepd coordinator[1234] W: lease expired, requeueing trial=17 worker=gpu-03
 *
 *  Messages follow git's style: lowercase, failure first, no final full stop.
 *  The log is not thread-safe beyond what stdio guarantees (one fprintf per line).
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_LOG_H
#define SW_LOG_H

typedef enum {
    SW_LOG_ERROR = 0,   /* E: the operation failed */
    SW_LOG_WARN,        /* W: something was wrong but the process carries on */
    SW_LOG_NOTICE,      /* N: a normal but significant event (default level) */
    SW_LOG_INFO,        /* I: progress */
    SW_LOG_DEBUG        /* D: developer detail */
} sw_log_level_t;

/* Set the most verbose level that is printed (default SW_LOG_NOTICE). */
void sw_log_set_level(sw_log_level_t level);

/* Current level, so callers can skip building expensive messages. */
sw_log_level_t sw_log_level(void);

/* Set the ident printed before each line ("coordinator", "worker w1");
 * the string is copied (at most 63 bytes kept). NULL resets to "sweepd". */
void sw_log_set_ident(const char *ident);

/* Print one line at LEVEL if LEVEL is enabled; a newline is appended. */
void sw_log(sw_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define sw_log_error(...)  sw_log(SW_LOG_ERROR, __VA_ARGS__)
#define sw_log_warn(...)   sw_log(SW_LOG_WARN, __VA_ARGS__)
#define sw_log_notice(...) sw_log(SW_LOG_NOTICE, __VA_ARGS__)
#define sw_log_info(...)   sw_log(SW_LOG_INFO, __VA_ARGS__)
#define sw_log_debug(...)  sw_log(SW_LOG_DEBUG, __VA_ARGS__)

#endif
