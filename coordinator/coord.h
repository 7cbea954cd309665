/*  coord.h - the coordinator server: a ROUTER socket on a libuv loop
 *
 *  coord_t binds one ZeroMQ ROUTER socket, watches it with uv_poll on the caller's
 *  uv_loop_t, and feeds every worker message to the scheduler (coord_sched). Each loop
 *  turn is one group commit: messages are handled, the store commits, and only then
 *  do ACKs and ASSIGNs leave. It also keeps the table of workers' routing ids, sends
 *  HEARTBEAT every heartbeat_ms, runs the scheduler's periodic work (lease expiry,
 *  timeouts, limits), answers STATUS with the status document and the control requests
 *  SUBMIT, CANCEL-SWEEP and RESUME-SWEEP (each committed before its reply), and rejects malformed
 *  frames (counted, logged rate-limited, answered with ERROR when addressable).
 *
 *  Embedding (what `sweepd coordinator` and `sweepd run` do):
 *
 *      coord_options_t o = {.endpoint = "tcp://0.0.0.0:5555", .db_path = "sweeps.db"};
 *      coord_t *c = coord_new(loop, &o, &err);
 *      coord_add_sweep(c, &spec, &errs);          (any number, before or after start)
 *      coord_set_progress_cb(c, on_progress, arg);
 *      coord_set_done_cb(c, on_done, arg);
 *      coord_start(c);
 *      uv_run(loop, UV_RUN_DEFAULT);               ... on_done or a signal: coord_close()
 *
 *  Only the loop thread may call these. This is the only coordinator file that touches
 *  zsock_t.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef COORD_H
#define COORD_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "common/sw_err.h"
#include "common/sw_spec.h"
#include "coordinator/coord_sched.h"

#define COORD_HEARTBEAT_MS_DEFAULT 1000     /* ms between HEARTBEATs to each worker */
#define COORD_LEASE_HEARTBEATS_MIN 3        /* the lease must span this many heartbeats */

typedef struct coord coord_t;

typedef struct {
    const char *endpoint;   /* ZeroMQ endpoint to bind, e.g. "tcp://0.0.0.0:5555" (copied) */
    const char *db_path;    /* SQLite file, created when missing (copied) */
    uint64_t lease_ms;      /* worker lease; 0: COORD_SCHED_LEASE_MS_DEFAULT (10000) */
    uint64_t heartbeat_ms;  /* HEARTBEAT interval; 0: COORD_HEARTBEAT_MS_DEFAULT (1000) */
    bool exit_when_done;    /* when every sweep is final: send SHUTDOWN to the workers,
                               then call the done callback */
    bool orphans_lost;      /* the workers of RUNNING attempts found in the store cannot
                               come back (`sweepd run` restarting with new local workers):
                               requeue those attempts at once instead of waiting a lease */
    int debug_drop_acks;    /* test and debug facility: do not send the first N ACKs (the
                               results are recorded; workers re-send and get ACKed then).
                               0 in normal use */
    const char *curve_public_key;   /* CURVE: the coordinator's key pair, Z85 text (40
                                       characters each, copied); NULL: plaintext */
    const char *curve_secret_key;
    const char *curve_allow_dir;    /* CURVE: directory of the public certificates of the
                                       workers and status clients let in (sw_curve_auth;
                                       files added later are picked up at the next
                                       handshake); required with the keys */
    const char *curve_ops_dir;      /* CURVE: directory of the public certificates of the
                                       operators' keys (copied), which are let in too and
                                       alone may send SUBMIT, CANCEL-SWEEP and
                                       RESUME-SWEEP; read again like curve_allow_dir.
                                       NULL: every allowed key may (a notice is logged) */
} coord_options_t;

/* Progress of one sweep (the scheduler's counts): done = complete + pruned + failed +
 * cancelled out of planned (-1: unbounded), best_value (NAN: none), trials_per_min. */
typedef coord_sched_counts_t coord_progress_t;

/* Called on every trial (or sweep) state change, in the loop turn that makes it; the
 * change is committed at the end of that same turn. PROGRESS is borrowed for the call. */
typedef void (coord_progress_cb)(coord_t *coord, const coord_progress_t *progress, void *arg);

/* Called once when every sweep served is final (after SHUTDOWN went out when
 * exit_when_done is set). Typical use: coord_close(). */
typedef void (coord_done_cb)(coord_t *coord, void *arg);

/* Called from the last uv_close callback, after which COORD is freed. */
typedef void (coord_close_cb)(void *arg);

/* Check OPTS before coord_new (0 values mean the defaults): the lease must be at least
 * COORD_LEASE_HEARTBEATS_MIN heartbeat intervals, or every worker would look lost
 * between two heartbeats. Returns 0, or SW_EINVAL with a one-line reason naming the
 * flags in ERR (ERRLEN bytes, always terminated; ERR may be NULL). Callers treat a
 * failure as a usage error (exit 2). */
int coord_options_check(const coord_options_t *o, char *err, size_t errlen);

/* New coordinator on LOOP (borrowed; must outlive it) with OPTS: opens (or creates) the
 * store, rebuilds the scheduler from it, and binds the ROUTER socket. Nothing runs
 * until coord_start(). Returns the coordinator (caller owns; release with coord_close)
 * or NULL with *ERR: SW_ESTATE (another coordinator serves OPTS->db_path: logged as
 * "database X is served by another coordinator (pid N on host H); stop it first";
 * nothing written), SW_EDB (store; the cause is logged), SW_EINVAL (bad endpoint or
 * cannot bind; a key that is not 40 Z85 characters, or keys without an allow
 * directory; logged), SW_ENOMEM.
 *
 * With curve_* set, the ROUTER is a CURVE server (RFC 26) behind the ZAP handler
 * sw_curve_auth_new, which lets in only the keys found in curve_allow_dir and logs each
 * refused client with its key; a socket monitor logs the other failed handshakes
 * (peer address and reason, rate-limited; see sw_curve_monitor_new). The first HELLO
 * of a worker id binds that id to the sender's public key (frame metadata "User-Id"):
 * the binding is stored (coord_db_worker_key_bind) and committed before the WELCOME,
 * and loaded again by the next coord_new on the same database; a later HELLO, REPORT
 * or RESULT for the id from another key is rejected with ERROR code "not-yours". With
 * curve_ops_dir, a SUBMIT, CANCEL-SWEEP or RESUME-SWEEP from a key not listed there
 * (looked up per message, sw_curve_role) is rejected with ERROR code
 * "permission-denied" and not acted on; without it, every allowed key may control
 * sweeps. The policy of refusing plaintext on a network endpoint lives in the CLI, not
 * here. */
coord_t *coord_new(uv_loop_t *loop, const coord_options_t *opts, int *err);

/* Serve the sweep *SPEC_P (consumed whatever the result; validated by the caller):
 * new, resumed, or refused. Returns 0; SW_ECHANGED with the changed JSON paths in
 * ERRS (nothing written); SW_EINVAL; SW_EDB. The change is committed before return. */
int coord_add_sweep(coord_t *self, sw_spec_t **spec_p, sw_errs_t *errs);

/* Cancel the RUNNING sweep NAME (coord_sched_cancel_sweep: its trials CANCELLED, its
 * running attempts stopped through CANCEL to their workers) and commit; the CANCELs
 * leave after the commit. Fills *OUT. Returns 0; SW_EINVAL (no such sweep), SW_ESTATE
 * (not RUNNING; OUT->state says what it is): nothing written; SW_EDB (the coordinator
 * stopped, see coord_failed). The same is answered to CANCEL-SWEEP. */
int coord_cancel_sweep(coord_t *self, const char *name, const char *reason,
                       coord_sched_cancel_t *out);

/* Reopen sweep NAME (coord_sched_resume_sweep) and commit; its work is dispatched to
 * connected workers at once. Returns 0; SW_EINVAL, SW_ESTATE (RUNNING, or COMPLETE
 * without RETRY_FAILED or without FAILED/CANCELLED trials): nothing written; SW_EDB.
 * The same is answered to RESUME-SWEEP. SUBMIT is answered through coord_add_sweep. */
int coord_resume_sweep(coord_t *self, const char *name, bool retry_failed,
                       coord_sched_resume_t *out);

/* Call CB with ARG (borrowed) after each trial event (progress) or once every sweep is
 * final (done); NULL CB stops the calls. Replaces an earlier callback. */
void coord_set_progress_cb(coord_t *self, coord_progress_cb *cb, void *arg);
void coord_set_done_cb(coord_t *self, coord_done_cb *cb, void *arg);

/* Start watching the socket and the timers. 0 or a negative libuv error. */
int coord_start(coord_t *self);

/* Read what the socket already holds (a worker's BYE, a last RESULT), commit, stop
 * serving, close the socket and the store, and free SELF in the last
 * uv_close callback, which then calls CB(ARG) (CB may be NULL). Workers are not told
 * (they reconnect to the next coordinator). Safe to call from any coord callback;
 * a second call does nothing. */
void coord_close(coord_t *self, coord_close_cb *cb, void *arg);

/* The live status document (as `sweepd status --json` prints), SWEEP NULL for all.
 * Caller owns. NULL with *ERR on failure (SW_EINVAL: no such sweep). */
cJSON *coord_status(coord_t *self, const char *sweep, int *err);

/* The endpoint actually bound (after a "tcp://127.0.0.1:*" wildcard port: the port
 * chosen). Borrowed, valid until close. */
const char *coord_endpoint(const coord_t *self);

/* Whether a store commit failed: the coordinator stopped serving and must be closed;
 * the CLI then exits 1 (a restart recovers from the store). */
bool coord_failed(const coord_t *self);

#endif
