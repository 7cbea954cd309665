/*  wrk.h - the worker agent: glue between the coordinator link and the trainer runner
 *
 *  A worker has SLOTS slots, each running at most one attempt. The agent says HELLO
 *  on every new connection (with the attempts it still runs or holds unacknowledged
 *  results for), REQUESTs work for its free slots after WELCOME and after each
 *  attempt ends, starts a runner (wrk_proc) for each ASSIGN, forwards every report
 *  line as REPORT, stops an attempt on DECISION prune (RESULT PRUNED) or CANCEL (no
 *  RESULT), and keeps each RESULT until the coordinator ACKs it: it re-sends it after
 *  every WELCOME and every resend interval. INVALID makes it say HELLO again.
 *  SHUTDOWN and wrk_stop() end the worker: BYE (with the attempts handed back), the
 *  running process groups are stopped, the link and every handle closed.
 *
 *  Attempts are keyed by their id, so a duplicate ASSIGN is ignored (or answered with
 *  the kept RESULT), a late ACK or CANCEL for an unknown attempt is harmless.
 *
 *  Result spool: with a state directory, every RESULT is also written to
 *  STATE_DIR/spool/ATTEMPT.json (the RESULT body, written to a temporary file, synced,
 *  renamed, directory synced) before it is first sent, and the file is removed when the
 *  coordinator ACKs or CANCELs the attempt. A worker started on the same state
 *  directory loads every spooled result, lists those attempts in its HELLO and sends
 *  them again after WELCOME, so a result survives a kill -9 of the worker between the
 *  end of its trainer and the ACK. STATE_DIR/lock (flock) keeps two workers off one
 *  state directory.
 *
 *  Drain: wrk_stop() hands the running attempts back at once (BYE) and stops their
 *  process groups gracefully (SIGTERM, grace period, SIGKILL); wrk_kill() sends
 *  SIGKILL to them now (a second SIGTERM).
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef WRK_H
#define WRK_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#define WRK_RESULT_RESEND_MS 3000   /* re-send an unacknowledged RESULT this often */

typedef struct wrk wrk_t;

typedef struct {
    const char *endpoint;           /* coordinator endpoint, e.g. "tcp://host:5555" */
    const char *worker_id;          /* stable name; NULL = "HOST:PID" */
    int slots;                      /* attempts run at once, >= 1 (0 = 1) */
    uint64_t heartbeat_ms;          /* interval until WELCOME sets it; 0 = link default */
    int liveness;                   /* silent intervals before reconnecting; 0 = default */
    uint64_t reconnect_min_ms;      /* backoff bounds; 0 = link defaults */
    uint64_t reconnect_max_ms;
    uint64_t result_resend_ms;      /* 0 = WRK_RESULT_RESEND_MS */
    uint64_t grace_ms;              /* SIGTERM -> SIGKILL for trainers; 0 = runner default */
    const char *self_exe;           /* sweepd binary for "mlp" and "function" trainers;
                                       NULL = those trainers are not offered */
    const char *const *allow_commands;  /* NULL-terminated --allow-command patterns; NULL
                                       or empty = "command" trainers are not offered */
    const char *state_dir;          /* directory for the result spool and the lock (created
                                       when missing); NULL = results kept in memory only */
    const char *curve_public_key;   /* CURVE: this worker's key pair and the coordinator's
                                       public key, Z85 text (40 characters each, copied);
                                       all three or none (NULL: plaintext) */
    const char *curve_secret_key;
    const char *coordinator_key;
} wrk_config_t;

#define WRK_SPOOL_DIR "spool"       /* under state_dir: one ATTEMPT.json per unacked result */
#define WRK_LOCK_FILE "lock"        /* under state_dir: flock(2) held while the worker runs */

/* Called once when the worker has stopped and every handle it owns is closed. The
 * handshake monitor of its last socket (sw_curve_monitor_close) lets go of the loop a
 * little later, when that socket's MONITOR_STOPPED is read: run the loop until it
 * returns before closing it. */
typedef void (wrk_done_fn)(wrk_t *wrk, void *arg);

/* A new worker agent on LOOP; strings in CONFIG are copied. Caller owns; NULL on OOM,
 * when CONFIG has no endpoint, or when the CURVE keys are not all three 40-character
 * Z85 strings (or all NULL). With CURVE, every socket the link makes is a CURVE client
 * of coordinator_key, and a monitor logs each failed handshake with the coordinator
 * (rate-limited; see sw_curve_monitor_new). */
wrk_t *wrk_new(uv_loop_t *loop, const wrk_config_t *config);

/* Lock and load the state directory (when configured: spooled results become
 * unacknowledged results to re-send), connect and say HELLO. DONE_FN (may be NULL)
 * runs once when the worker has stopped (SHUTDOWN from the coordinator, or wrk_stop)
 * and closed every handle. Returns 0 or a negative code: a malformed endpoint
 * (-EINVAL and similar from ZeroMQ); SW_ESTATE when already started, or when another
 * process holds the state directory's lock (logged); -errno when the state directory
 * cannot be created or read (logged). A spool file that does not hold a valid RESULT
 * body is logged, renamed to ATTEMPT.json.bad and skipped. */
int wrk_start(wrk_t *self, wrk_done_fn *done_fn, void *arg);

/* Stop: send BYE with REASON (may be NULL) and handed_back = the running attempts,
 * stop their process groups (SIGTERM, grace, SIGKILL) without sending RESULTs, then
 * close the link and every handle, then call DONE_FN. Calling it again does nothing.
 * Loop thread only (call it from a uv_signal callback for SIGINT/SIGTERM). */
void wrk_stop(wrk_t *self, const char *reason);

/* Kill now: SIGKILL to the process group of every running attempt (after wrk_stop:
 * a second SIGTERM does not wait for the grace period). Starts wrk_stop first when it
 * has not run. Loop thread only. */
void wrk_kill(wrk_t *self, const char *reason);

/* True once SHUTDOWN was received from the coordinator (the exit is a normal one). */
bool wrk_shutdown_received(const wrk_t *self);

/* Attempts running now. */
int wrk_running(const wrk_t *self);

/* Results sent but not yet acknowledged. */
int wrk_unacked(const wrk_t *self);

/* Free the worker and set *SELF_P to NULL; NULL is fine. Only before wrk_start or
 * after DONE_FN has run. */
void wrk_destroy(wrk_t **self_p);

#endif
