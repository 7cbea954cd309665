/*  wrk_proc.h - the runner: one trainer child process per attempt, supervised on a libuv loop
 *
 *  wrk_proc_start() turns an ASSIGN body into a child process: the built-in trainer
 *  (`sweepd train`, for trainer types "mlp" and "function") or a user command (type
 *  "command", argv template with {name} placeholders, allowed only when its argv[0]
 *  matches one of the worker's --allow-command glob patterns). The child runs in its
 *  own session and process group, with the environment of proto/PROTOCOL.md
 *  ("Trainer report protocol") and a report pipe on fd 3. Each JSON line it writes
 *  there that carries a "step" is passed to the report callback; the final metrics,
 *  an error line, the exit status, a timeout and stop requests decide the result.
 *  Stopping always signals the whole process group: SIGTERM, then SIGKILL after the
 *  grace period. The attempt ends only after the child has exited AND every pipe has
 *  reached EOF (a child's exit may be seen before its last output is read); any
 *  process left in the group after the leader exits is killed the same way.
 *
 *  The runner is the only code in sweepd that calls uv_spawn.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef WRK_PROC_H
#define WRK_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cJSON.h>
#include <uv.h>

#define WRK_PROC_TAIL_BYTES   4096          /* kept of the child's stdout and of its stderr */
#define WRK_PROC_LINE_MAX     65536         /* a longer report line is malformed */
#define WRK_PROC_GRACE_MS     5000          /* default SIGTERM -> SIGKILL grace period */

typedef enum {
    WRK_PROC_COMPLETE = 0,
    WRK_PROC_FAILED,
    WRK_PROC_PRUNED,
    WRK_PROC_CANCELLED
} wrk_proc_state_t;

/* Protocol name of STATE: "COMPLETE", "FAILED", "PRUNED", "CANCELLED". Static. */
const char *wrk_proc_state_name(wrk_proc_state_t state);

/* How the worker runs trainers; borrowed by wrk_proc_start for the call only. */
typedef struct {
    const char *self_exe;           /* absolute path of the sweepd binary, run as
                                       `SELF_EXE train` for "mlp" and "function" */
    const char *const *allow;       /* NULL-terminated fnmatch(3) patterns that a command
                                       trainer's argv[0] must match; NULL = none allowed */
    uint64_t grace_ms;              /* SIGTERM -> SIGKILL delay; 0 = WRK_PROC_GRACE_MS */
} wrk_proc_config_t;

/* The outcome of an attempt, passed to the done callback; every pointer is borrowed
 * and valid only during the callback. */
typedef struct {
    int64_t attempt;                /* attempt id from ASSIGN */
    wrk_proc_state_t state;
    const char *error;              /* reason when FAILED, e.g. "exit status 3"; else NULL
                                       (a stop's REASON is only logged) */
    const char *kind;               /* "trainer", "timeout", "worker" (could not start:
                                       not allowed, bad trainer), "pruned", "cancelled";
                                       NULL when COMPLETE */
    const cJSON *metrics;           /* final metrics (object name -> number, non-finite
                                       values as NaN/inf numbers), the last step's metrics
                                       when PRUNED or when no final line came; or NULL */
    int64_t last_step;              /* last reported step; -1 when none */
    int exit_status;                /* child's exit status; -1 when it did not run */
    int term_signal;                /* signal that ended the child, or 0 */
    const char *stdout_tail;        /* last WRK_PROC_TAIL_BYTES of stdout ("" when none) */
    const char *stderr_tail;        /* last WRK_PROC_TAIL_BYTES of stderr ("" when none) */
} wrk_proc_result_t;

typedef struct wrk_proc wrk_proc_t;

/* Called for each report line with a step. METRICS (object name -> number) is
 * borrowed for the call. */
typedef void (wrk_proc_report_fn)(wrk_proc_t *proc, int64_t step, const cJSON *metrics,
                                  void *arg);

/* Called once when the attempt has ended: the child exited, every pipe reached EOF,
 * every handle is closed. The runner frees itself when this callback returns; PROC
 * must not be used afterwards. */
typedef void (wrk_proc_done_fn)(wrk_proc_t *proc, const wrk_proc_result_t *result, void *arg);

/* Start the attempt described by ASSIGN (an ASSIGN body as checked by proto_cmd.c:
 * attempt, trial, fold, params, trainer, and optionally cv, seed, timeout_s in
 * seconds (0 or absent = none), objective). ASSIGN is read during the call only.
 * Returns the runner, owned by the loop until DONE_FN has run, or NULL when out of
 * memory (no callback then). Every other failure (a command not allowed on this
 * worker, an unknown trainer type, a binary that cannot be executed) still returns a
 * runner and ends the attempt FAILED through DONE_FN on a later loop turn, never
 * from inside this call. Loop thread only. */
wrk_proc_t *wrk_proc_start(uv_loop_t *loop, const wrk_proc_config_t *config,
                           const cJSON *assign, wrk_proc_report_fn *report_fn,
                           wrk_proc_done_fn *done_fn, void *arg);

/* Stop the attempt: SIGTERM to the process group, SIGKILL after the grace period;
 * the result will have STATE (WRK_PROC_PRUNED or WRK_PROC_CANCELLED; WRK_PROC_FAILED
 * with REASON as its error, kind "worker"). REASON may be NULL. Does nothing when the
 * attempt is already stopping or its child has exited (its own result stands). */
void wrk_proc_stop(wrk_proc_t *self, wrk_proc_state_t state, const char *reason);

/* SIGKILL the attempt's process group now, without waiting for the grace period; the
 * attempt then ends through DONE_FN as a stop would (CANCELLED when it was not already
 * decided). Does nothing once the attempt is finishing. */
void wrk_proc_kill(wrk_proc_t *self);

/* The attempt id from ASSIGN. */
int64_t wrk_proc_attempt(const wrk_proc_t *self);

/* The child's pid (also its process group id), or 0 when it did not start. */
pid_t wrk_proc_pid(const wrk_proc_t *self);

/* Build the argv of a command trainer: each element of TEMPLATE (a JSON array of
 * strings) with every "{name}" replaced by PARAMS' value for name (strings as they
 * are, numbers in shortest round-trip form, booleans true/false, null or an absent
 * parameter as empty); each element stays one argv element, no shell is involved.
 * Braces not around a name ([A-Za-z0-9_.-]+) are kept. Returns a NULL-terminated
 * array (caller frees with wrk_proc_argv_free) or NULL with a reason in ERR. */
char **wrk_proc_argv_expand(const cJSON *template, const cJSON *params, char *err,
                            size_t errlen);

/* Free an array from wrk_proc_argv_expand; NULL is fine. */
void wrk_proc_argv_free(char **argv);

#endif
