/*  coord_sched.h - the scheduler: queues, trials, attempts, leases, retries, limits
 *
 *  The scheduler is the coordinator without sockets. It keeps the in-memory state of
 *  every sweep it serves (rebuilt from the store at start), creates trials through the
 *  sampler, turns each trial into units of work (one per fold, or one with fold -1),
 *  dispatches units to workers' free slots as attempts, and handles what workers say:
 *  HELLO, REQUEST, REPORT, RESULT, BYE, and silence (lease expiry, checked by
 *  coord_sched_tick()). Every decision is written to the store inside the open group
 *  transaction; the messages it implies are queued in an outbox.
 *
 *  The caller (coord.c, or a test) runs one "turn" at a time: feed any number of
 *  inputs, then coord_sched_flush(), which commits the transaction and only then
 *  hands over the outbox to send. Nothing is sent that the store does not hold.
 *
 *  Work order inside a sweep: requeued units first, then the remaining folds of
 *  started trials, then new trials (whose folds are queued together, so trials finish
 *  early). Sweeps are served round-robin. A worker's free slots are the last REQUEST's
 *  count, bounded by its HELLO slots minus the attempts it runs.
 *
 *  Time: the scheduler reads a monotonic clock in ms through a coord_sched_now_fn
 *  hook (tests drive it by hand); wall-clock times for the store come from
 *  sw_clock_unix_ms(). Single-threaded: every call from the loop thread.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef COORD_SCHED_H
#define COORD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "common/sw_err.h"
#include "common/sw_spec.h"
#include "coordinator/coord_db.h"
#include "proto/proto.h"

#define COORD_SCHED_LEASE_MS_DEFAULT 10000   /* ms a worker may stay silent */

typedef struct coord_sched coord_sched_t;

/* Monotonic clock hook: milliseconds from an arbitrary origin. */
typedef uint64_t (coord_sched_now_fn)(void *arg);

/* Pruner hook, called for every stored REPORT of a RUNNING attempt: return true to
 * answer DECISION prune. SPEC is the sweep's spec; METRICS is the report's object
 * (borrowed). NULL hook: always continue. */
typedef bool (coord_sched_prune_fn)(void *arg, const sw_spec_t *spec, int64_t trial,
                                    int fold, int64_t step, const cJSON *metrics);

/* Per-sweep counts, for progress and status. */
typedef struct {
    const char *sweep;      /* sweep name (borrowed, valid during the callback/call) */
    const char *state;      /* RUNNING, COMPLETE, FAILED, CANCELLED (static) */
    int64_t planned;        /* trials the sweep will create in all: grid size or
                               max_trials (the smaller); -1 when unbounded */
    int64_t created;        /* trials created so far */
    int64_t pending;        /* PENDING: created-and-waiting plus planned-but-unstarted
                               (planned - created) while the sweep runs */
    int64_t running, complete, pruned, failed, cancelled;
    int64_t done;           /* complete + pruned + failed + cancelled */
    int64_t retries;        /* attempts lost and requeued with a retry counted */
    int64_t best_number;    /* best trial number, -1 when none */
    double best_value;      /* its value; NAN when none */
    double trials_per_min;  /* finished trials per minute of serving time */
} coord_sched_counts_t;

/* Called after every trial state change (and sweep state change) of sweep COUNTS->sweep. */
typedef void (coord_sched_trial_cb)(void *arg, const coord_sched_counts_t *counts);

/* One outgoing message: send CMD with BODY to worker WORKER_ID. */
typedef struct {
    char *worker_id;        /* destination worker id (owned) */
    proto_cmd_t cmd;        /* ASSIGN, DECISION, ACK, CANCEL, INVALID, ERROR, ... */
    cJSON *body;            /* JSON object body (owned) */
} coord_sched_out_t;

/* Counters since start. */
typedef struct {
    int64_t results;        /* RESULT messages handled */
    int64_t duplicates;     /* late or duplicate results discarded */
    int64_t unknown_results;/* RESULT for an attempt id the store does not know */
    int64_t assigned;       /* attempts dispatched */
    int64_t lost;           /* attempts lost (lease, timeout, bye, restart) */
    int64_t foreign;        /* RESULT/REPORT for an attempt of another worker, rejected */
} coord_sched_stats_t;

/* A sweep ends FAILED when its first COORD_SCHED_FAIL_FAST trials (or all of them
 * when it plans fewer) all FAILED by the trainer itself with none COMPLETE or PRUNED:
 * reason "every trial failed: LAST ERROR (stopped after the first N)". */
#define COORD_SCHED_FAIL_FAST 5

/* New scheduler on DB (borrowed; must outlive it), with LEASE_MS (0: default) and the
 * clock NOW_FN(NOW_ARG) (NULL: sw_clock_mono_ms). Loads every RUNNING sweep of the
 * store: RUNNING attempts become orphans that wait one lease for a worker's HELLO to
 * re-attach them. A stored spec that no longer parses is logged and its sweep not
 * served. Returns the scheduler (caller owns) or NULL with *ERR = SW_EDB/SW_ENOMEM. */
coord_sched_t *coord_sched_new(coord_db_t *db, uint64_t lease_ms, coord_sched_now_fn *now_fn,
                               void *now_arg, int *err);

/* Free everything and set *SELF_P to NULL. Does not commit: call coord_sched_flush()
 * first. NULL is fine. */
void coord_sched_destroy(coord_sched_t **self_p);

/* Install CB (called with ARG after a trial of a sweep changes state) or FN (asked
 * whether to prune, with ARG; see coord_sched_prune_fn); NULL removes it. ARG is
 * borrowed. Replaces an earlier one. */
void coord_sched_set_trial_cb(coord_sched_t *self, coord_sched_trial_cb *cb, void *arg);
void coord_sched_set_prune_fn(coord_sched_t *self, coord_sched_prune_fn *fn, void *arg);

/* Add the sweep *SPEC_P (consumed: *SPEC_P = NULL whatever the result). A new name is
 * inserted; an existing name with the same spec (limits aside) is resumed, storing
 * the new limits with a notice (a finished sweep whose limits changed is reopened).
 * Returns 0; SW_ECHANGED with one "path" per changed field in ERRS when the stored
 * spec differs (nothing written); SW_EINVAL when the spec's method has no sampler;
 * SW_EDB. */
int coord_sched_add_sweep(coord_sched_t *self, sw_spec_t **spec_p, sw_errs_t *errs);

/* What coord_sched_cancel_sweep() did. */
typedef struct {
    char state[16];         /* the sweep's state before the call (RUNNING when cancelled;
                               "" when there is no such sweep) */
    int64_t pending;        /* PENDING trials cancelled */
    int64_t running;        /* RUNNING trials cancelled */
    int64_t attempts;       /* running attempts stopped (CANCEL queued to each attached
                               worker) */
    int64_t cancelled;      /* CANCELLED trials of the sweep after the call */
} coord_sched_cancel_t;

/* Cancel the RUNNING sweep NAME with REASON (a sentence; NULL: "cancelled by the
 * user"): its PENDING and RUNNING trials become CANCELLED with error "cancelled:
 * REASON", every running attempt of it is stored CANCELLED (kind "cancelled") and its
 * worker gets CANCEL (the worker stops the trainer's process group), nothing more of it
 * is dispatched, and the sweep is stored CANCELLED with the reason. Event "sweep
 * cancelled". A RESULT that arrives later for one of those attempts is acknowledged
 * and discarded (stats.duplicates), also after coord_sched_resume_sweep(). Fills *OUT.
 * Returns 0; SW_EINVAL when the store holds no sweep NAME; SW_ESTATE when the sweep is
 * not RUNNING (OUT->state says what it is); SW_EDB. Nothing is written on error. */
int coord_sched_cancel_sweep(coord_sched_t *self, const char *name, const char *reason,
                             coord_sched_cancel_t *out);

/* The document that reports what coord_sched_cancel_sweep() did to sweep SWEEP: {sweep,
 * state: "CANCELLED", pending, running, attempts, cancelled} (the CANCEL-SWEEP-REPLY
 * body and `sweepd cancel --json`). Returns a new object (caller owns), NULL on OOM. */
cJSON *coord_sched_cancel_doc(const char *sweep, const coord_sched_cancel_t *c);

/* What coord_sched_resume_sweep() did. */
typedef struct {
    char previous_state[16];/* the sweep's state before the call ("" when none) */
    char state[16];         /* after the call: RUNNING, or final again when nothing was
                               left to do */
    int64_t reopened;       /* trials made PENDING again */
} coord_sched_resume_t;

/* The document that reports what coord_sched_resume_sweep() did to sweep SWEEP:
 * {sweep, state, previous_state, reopened} (the RESUME-SWEEP-REPLY body and `sweepd
 * resume --json`). Returns a new object (caller owns), NULL on OOM. */
cJSON *coord_sched_resume_doc(const char *sweep, const coord_sched_resume_t *r);

/* Reopen sweep NAME, CANCELLED or FAILED (or COMPLETE, with RETRY_FAILED, when it holds
 * FAILED or CANCELLED trials): the sweep is RUNNING again (finished time cleared,
 * served time kept: max_time_s counts only time served) and served by this scheduler.
 * Reopened trials become PENDING (error and finished time cleared; folds with a
 * COMPLETE attempt stay complete; old attempts stay in the history) and are queued
 * before new trials: with RETRY_FAILED every FAILED and CANCELLED trial, without it only
 * CANCELLED trials never dispatched (started_unix_ms 0). Trials the sampler has not yet
 * proposed follow as usual. The sweep is then checked as after any change: with nothing
 * left to do it ends again at once (OUT->state says so). Event "sweep resumed".
 * Returns 0; SW_EINVAL when the store holds no sweep NAME (or its stored spec no longer
 * parses); SW_ESTATE when it is RUNNING, or COMPLETE without RETRY_FAILED or without
 * such trials; SW_EDB, SW_ENOMEM. Nothing is written on SW_EINVAL or SW_ESTATE. */
int coord_sched_resume_sweep(coord_sched_t *self, const char *name, bool retry_failed,
                             coord_sched_resume_t *out);

/* HELLO from WORKER_ID (host, pid, SLOTS >= 1). RUNNING lists attempt ids the worker
 * still runs (N_RUNNING): those the scheduler holds as RUNNING are re-attached to it;
 * those whose fold is finished are cancelled; attempts the scheduler thought this
 * worker ran but it does not list are lost. Returns 0 or SW_EDB. */
int coord_sched_hello(coord_sched_t *self, const char *worker_id, const char *host,
                      int64_t pid, int slots, const int64_t *running, size_t n_running);

/* What WORKER_ID announced it can run (HELLO "trainers": trainer types, "commands":
 * the glob patterns a command trainer's argv[0] must match; either may be NULL or not
 * an array: not announced, the worker is tried). Copied. Call after coord_sched_hello.
 * The scheduler assigns a sweep only to workers whose announcement covers its
 * trainer, and never again to a worker that answered RESULT kind "worker" for it.
 * Returns 0 or SW_ESTATE (unknown worker). */
int coord_sched_worker_caps(coord_sched_t *self, const char *worker_id, const cJSON *trainers,
                            const cJSON *commands);

/* Any message from WORKER_ID: extend its lease by lease_ms. Returns 0, or SW_ESTATE
 * when the worker is unknown or was declared lost/gone (the caller answers INVALID). */
int coord_sched_touch(coord_sched_t *self, const char *worker_id);

/* REQUEST: WORKER_ID has SLOTS free slots (replaces the earlier count); dispatches.
 * 0, SW_ESTATE (unknown worker), SW_EDB. */
int coord_sched_request(coord_sched_t *self, const char *worker_id, int slots);

/* REPORT: store METRICS (JSON object) of ATTEMPT at STEP and queue a DECISION.
 * 0, SW_ESTATE (unknown worker, or ATTEMPT was sent to another worker: nothing stored,
 * nothing queued, counted in stats.foreign; the caller answers ERROR), SW_EDB. */
int coord_sched_report(coord_sched_t *self, const char *worker_id, int64_t attempt,
                       int64_t step, const cJSON *metrics);

/* RESULT: record ATTEMPT's end (STATE "COMPLETE", "FAILED" or "PRUNED"; METRICS final
 * metrics or NULL; ERROR, KIND may be NULL; LAST_STEP -1 when unknown) exactly once
 * and queue ACK. Idempotent: duplicates and late results are acknowledged and
 * discarded (counted, logged as events). FAILED of kind "busy" (no free slot) or
 * "worker" (this worker cannot run it) requeues the fold without a retry; "worker"
 * also stops assigning the sweep to WORKER_ID (logged once, event "worker refused
 * sweep"). A trial FAILED by the trainer itself counts towards COORD_SCHED_FAIL_FAST.
 * Returns 0; SW_EPROTO for a STATE outside the three (the caller answers ERROR;
 * nothing queued); SW_ESTATE when ATTEMPT was sent to another worker (nothing stored
 * or queued; counted in stats.foreign; the caller answers ERROR); SW_EDB. */
int coord_sched_result(coord_sched_t *self, const char *worker_id, int64_t attempt,
                       const char *state, const cJSON *metrics, const char *error,
                       const char *kind, int64_t last_step);

/* BYE: WORKER_ID leaves; HANDED_BACK attempts are requeued with no retry counted; its
 * other running attempts are lost (a retry each). 0 or SW_EDB. */
int coord_sched_bye(coord_sched_t *self, const char *worker_id, const int64_t *handed_back,
                    size_t n_handed_back);

/* Dispatch nothing from now on (the coordinator is closing: it still records BYE and
 * RESULT, but sends no new ASSIGN). There is no resume: a new scheduler starts fresh. */
void coord_sched_pause(coord_sched_t *self);

/* The workers that ran the RUNNING attempts loaded from the store cannot come back
 * (`sweepd run` restarted: its local workers died with it): let the next
 * coord_sched_tick() requeue every attempt not yet re-attached (LOST, kind "restart",
 * no retry counted: the trial did nothing wrong) instead of waiting one lease.
 * Returns how many attempts that concerns. */
int coord_sched_orphans_lost(coord_sched_t *self);

/* Periodic work (every few hundred ms): expire leases of silent workers, orphans not
 * re-attached after a restart, attempts past trial_timeout_s + lease; account serving
 * time and max_time_s; finish sweeps. 0 or SW_EDB. */
int coord_sched_tick(coord_sched_t *self);

/* Commit the turn's transaction, then give the outbox: *OUT (caller owns; free with
 * coord_sched_out_free) with *N_OUT messages, in order. On commit failure returns
 * SW_EDB, discards the outbox and the scheduler must be destroyed (its memory no
 * longer matches the store; a restart recovers from the store). */
int coord_sched_flush(coord_sched_t *self, coord_sched_out_t **out, size_t *n_out);

/* Free N messages of OUT and the array. NULL is fine. */
void coord_sched_out_free(coord_sched_out_t *out, size_t n);

/* Whether every sweep served is final (also true with no sweep). */
bool coord_sched_all_final(const coord_sched_t *self);

/* Worker ids alive now; calls FN(ARG, id) for each. */
void coord_sched_each_worker(coord_sched_t *self, void (*fn)(void *arg, const char *id),
                             void *arg);

/* Counts of sweep NAME into *OUT (strings borrowed until the next call). 0 or
 * SW_EINVAL when the scheduler does not serve NAME. */
int coord_sched_counts(coord_sched_t *self, const char *name, coord_sched_counts_t *out);

/* Counters since start. */
coord_sched_stats_t coord_sched_stats(const coord_sched_t *self);

/* The status document (the one `sweepd status --json` prints) built from DB alone,
 * read-only: {"sweeps": {NAME: {...}}, "workers": [...], "event_counts": {KIND: n},
 * "events": [...]}; SWEEP (NULL: all) filters the sweeps and the events (events that
 * concern no sweep, such as "worker lost", are always listed). Each sweep has its
 * counts per state, "retries", "trial_retries" ({"NUMBER": retries} for trials with
 * at least one), "attempts_lost" and "attempts_failed" (kind -> count: "lease",
 * "handed_back", "timeout"; "trainer", "worker", ...), and "trials_per_minute" over the
 * last 5 minutes or the serving time when shorter. Each worker has "state" (alive,
 * lost, gone), "last_heartbeat_age_ms", "running" (attempt ids) and "attempts"
 * ({attempt, trial, fold}). "events" lists the 50 most recent events ({unix_ms,
 * age_ms, kind, detail}), oldest first; docs/OPERATIONS.md explains each kind.
 * NOW_UNIX_MS dates heartbeat ages and rates. Returns a new cJSON (caller owns) or
 * NULL with *ERR = SW_EDB/SW_ENOMEM, or SW_EINVAL when SWEEP names no sweep. */
cJSON *coord_sched_status_db(coord_db_t *db, const char *sweep, int64_t now_unix_ms, int *err);

/* The live status: coord_sched_status_db() with the workers' heartbeat ages and
 * running attempts from memory and a "coordinator" object of counters. Caller owns. */
cJSON *coord_sched_status(coord_sched_t *self, const char *sweep, int *err);

#endif
