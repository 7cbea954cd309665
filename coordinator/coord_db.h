/*  coord_db.h - the coordinator's store: sweeps, trials, attempts, reports, workers, events
 *
 *  The store is one SQLite database in WAL mode (docs/STORE.md describes every table
 *  for users who query it). coord_db.c is the only file of sweepd that includes
 *  sqlite3.h; everything else reads and writes through the calls below.
 *
 *  Transactions: the coordinator is the only writer and commits once per loop turn
 *  (group commit). Every write call opens a transaction when none is open
 *  (BEGIN IMMEDIATE); coord_db_commit() ends it. Nothing is durable, and nothing
 *  that depends on it may be sent, before coord_db_commit() returns 0.
 *
 *  Rows are returned through callbacks: each coord_db_<things>() call runs one query
 *  and calls FN once per row with a row struct whose strings are borrowed and valid
 *  only during that call. FN returns 0 to continue or any other value to stop; the
 *  query call then returns that value. Query calls return 0 or SW_EDB otherwise.
 *
 *  Every call is for the loop thread that owns the handle; a handle is not shared
 *  between threads. Times are wall-clock milliseconds since the Unix epoch (*_unix_ms)
 *  except served_ms, a duration.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef COORD_DB_H
#define COORD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this build writes (PRAGMA user_version). */
#define COORD_DB_SCHEMA_VERSION 2

/* A read-write open holds PATH COORD_DB_LOCK_SUFFIX ("sweeps.db-lock") with flock(2)
 * while it is open; the file holds "PID HOST" of the holder. */
#define COORD_DB_LOCK_SUFFIX "-lock"

typedef struct coord_db coord_db_t;

/* Open (and create, unless READONLY) the database at PATH. A read-write open first
 * takes the lock file PATH-lock (flock, exclusive, non-blocking: one writer per file;
 * the kernel releases it when the process dies, so a killed coordinator never blocks
 * the next start), then sets WAL mode and synchronous=FULL, enables foreign keys, and
 * migrates the schema to COORD_DB_SCHEMA_VERSION (a file left at user_version 0 by a
 * start that failed early is initialised like a new one). A read-only open
 * (SQLITE_OPEN_READONLY) takes no lock, works while a coordinator is writing (WAL
 * readers never block the writer) and refuses a database whose schema is unknown.
 * Both set a 5000 ms busy timeout.
 * Returns the handle (caller owns; coord_db_destroy) or NULL with *ERR set to
 * SW_ESTATE (another process holds the lock: logged as "database PATH is served by
 * another coordinator (pid N on host H); stop it first"; nothing was written), SW_EDB
 * (unopenable, with the cause logged: no such directory, permission denied, read-only
 * file system; not a sweepd database; schema too new) or SW_ENOMEM. ERR may be NULL. */
coord_db_t *coord_db_new(const char *path, bool readonly, int *err);

/* Roll back any open transaction, finalize statements, close, set *SELF_P = NULL.
 * NULL is fine. */
void coord_db_destroy(coord_db_t **self_p);

/* The last SQLite error message of SELF (borrowed, valid until the next call). */
const char *coord_db_errmsg(coord_db_t *self);

/* PRAGMA user_version of the open database; -1 on error. */
int coord_db_schema_version(coord_db_t *self);

/* Apply every numbered migration above the database's user_version, each in its own
 * transaction together with the user_version bump. Idempotent: a second call does
 * nothing. Returns 0, SW_EDB, or SW_ESTATE when the handle is read-only or the
 * database is newer than this build. Called by coord_db_new(). */
int coord_db_migrate(coord_db_t *self);

/* Open a write transaction unless one is open. 0 or SW_EDB. */
int coord_db_begin(coord_db_t *self);

/* Commit the open transaction (none: nothing to do). 0 or SW_EDB; after a failure
 * the transaction is rolled back and the caller must treat every change since the
 * last commit as lost. */
int coord_db_commit(coord_db_t *self);

/* Roll back the open transaction, if any (nothing when SQLite already rolled it back
 * after a full disk or an I/O error). */
void coord_db_rollback(coord_db_t *self);

/* The first write failure since the last successful commit, in words ("disk full
 * (database or disk is full)", "disk I/O error (Input/output error)"), or NULL when
 * none. Borrowed, valid until the next call on SELF. Write calls do not log their
 * failures: the caller that decides what to do about them does (coord.c). */
const char *coord_db_last_error(const coord_db_t *self);

/* Test and debug facility: cap the database at MAX_PAGES pages (PRAGMA
 * max_page_count), so that a write beyond fails as on a full disk (SQLITE_FULL).
 * 0 or SW_EDB. */
int coord_db_limit_pages(coord_db_t *self, int64_t max_pages);

/* Pages in the database now (PRAGMA page_count), or -1 on error. */
int64_t coord_db_page_count(coord_db_t *self);

/* Whether a write transaction is open. */
bool coord_db_in_txn(const coord_db_t *self);

/* ---- sweeps ------------------------------------------------------------------ */

typedef struct {
    int64_t id;                 /* row id */
    const char *name;           /* unique sweep name */
    const char *spec;           /* canonical spec JSON text */
    const char *state;          /* RUNNING, COMPLETE, FAILED, CANCELLED */
    const char *reason;         /* why it ended (NULL while RUNNING or when none) */
    int64_t served_ms;          /* time served by a coordinator, ms (max_time_s counts this) */
    int64_t created_unix_ms;
    int64_t finished_unix_ms;   /* 0 while not final */
} coord_db_sweep_t;

typedef int (coord_db_sweep_fn)(const coord_db_sweep_t *row, void *arg);

/* Every sweep (NAME NULL) or the one named NAME, by id. */
int coord_db_sweeps(coord_db_t *self, const char *name, coord_db_sweep_fn *fn, void *arg);

/* Insert a RUNNING sweep; its row id goes to *ID_OUT. SW_EDB (also when NAME exists). */
int coord_db_sweep_insert(coord_db_t *self, const char *name, const char *spec,
                          int64_t now_unix_ms, int64_t *id_out);

/* Replace the stored spec text of sweep ID (limits changed on resume). */
int coord_db_sweep_set_spec(coord_db_t *self, int64_t id, const char *spec);

/* Set the state of sweep ID, with REASON (may be NULL) and FINISHED_UNIX_MS (0 to
 * clear, e.g. when a finished sweep is reopened with raised limits). */
int coord_db_sweep_set_state(coord_db_t *self, int64_t id, const char *state,
                             const char *reason, int64_t finished_unix_ms);

/* Store the serving time of sweep ID, in ms. */
int coord_db_sweep_set_served(coord_db_t *self, int64_t id, int64_t served_ms);

/* ---- trials ------------------------------------------------------------------ */

typedef struct {
    int64_t id;                 /* row id */
    int64_t sweep_id;
    int64_t number;             /* trial number inside the sweep, from 0 */
    const char *params;         /* JSON object text: name -> value of any JSON type */
    const char *state;          /* PENDING, RUNNING, COMPLETE, PRUNED, FAILED, CANCELLED */
    double value;               /* mean objective over folds; NAN when NULL */
    double value_std;           /* population std over folds; NAN when NULL */
    int folds_done;             /* folds with a COMPLETE attempt */
    const char *error;          /* reason when FAILED or CANCELLED, else NULL */
    int64_t created_unix_ms;
    int64_t started_unix_ms;    /* 0 when never dispatched */
    int64_t finished_unix_ms;   /* 0 while not final */
} coord_db_trial_t;

typedef int (coord_db_trial_fn)(const coord_db_trial_t *row, void *arg);

/* Every trial of sweep SWEEP_ID, by number. */
int coord_db_trials(coord_db_t *self, int64_t sweep_id, coord_db_trial_fn *fn, void *arg);

/* Insert trial NUMBER of sweep SWEEP_ID in STATE with PARAMS (JSON object text,
 * stored verbatim); row id to *ID_OUT. SW_EDB also when the number exists. */
int coord_db_trial_insert(coord_db_t *self, int64_t sweep_id, int64_t number,
                          const char *params, const char *state, int64_t now_unix_ms,
                          int64_t *id_out);

/* Update ROW->id's state, value, value_std (NAN stores NULL), folds_done, error,
 * started_unix_ms and finished_unix_ms (0 stores NULL). Other fields are ignored. */
int coord_db_trial_update(coord_db_t *self, const coord_db_trial_t *row);

/* ---- attempts ---------------------------------------------------------------- */

typedef struct {
    int64_t id;                 /* attempt id, the one on the wire */
    int64_t trial_id;
    int64_t sweep_id;           /* of the trial (joined) */
    int64_t trial_number;       /* of the trial (joined) */
    int fold;                   /* 0-based; -1 without cross-validation */
    const char *state;          /* RUNNING, COMPLETE, PRUNED, FAILED, LOST, CANCELLED */
    const char *worker_id;
    const char *metrics;        /* final metrics JSON text or NULL */
    double value;               /* objective value of this fold; NAN when NULL */
    const char *error;          /* reason or NULL */
    const char *kind;           /* trainer, timeout, cancelled, pruned, lease, handed_back, or NULL */
    int64_t last_step;          /* -1 when NULL */
    int64_t started_unix_ms;
    int64_t finished_unix_ms;   /* 0 while RUNNING */
} coord_db_attempt_t;

typedef int (coord_db_attempt_fn)(const coord_db_attempt_t *row, void *arg);

/* Attempts of sweep SWEEP_ID (0: every sweep) in STATE (NULL: any), by id. */
int coord_db_attempts(coord_db_t *self, int64_t sweep_id, const char *state,
                      coord_db_attempt_fn *fn, void *arg);

/* The attempt with id ID: FN is called once when it exists. Returns FN's value, 0 when
 * there is no such attempt, or SW_EDB. */
int coord_db_attempt_get(coord_db_t *self, int64_t id, coord_db_attempt_fn *fn, void *arg);

/* Insert a RUNNING attempt of (TRIAL_ID, FOLD) on WORKER_ID; its id to *ID_OUT. */
int coord_db_attempt_insert(coord_db_t *self, int64_t trial_id, int fold,
                            const char *worker_id, int64_t now_unix_ms, int64_t *id_out);

/* Set ROW->id's state, metrics, value (NAN: NULL), error, kind, last_step (-1: NULL)
 * and finished_unix_ms. Returns SW_ESTATE when the partial UNIQUE index refuses a
 * second COMPLETE attempt for the same (trial, fold), else 0 or SW_EDB. */
int coord_db_attempt_update(coord_db_t *self, const coord_db_attempt_t *row);

/* ---- reports, workers, events ------------------------------------------------ */

/* Store (or replace, for a re-sent REPORT) the metrics of ATTEMPT_ID at STEP. */
int coord_db_report_insert(coord_db_t *self, int64_t attempt_id, int64_t step,
                           const char *metrics, int64_t now_unix_ms);

/* One stored report: trial NUMBER, the attempt's FOLD (as stored: 0 without folds),
 * STEP and METRICS (JSON text, borrowed for the call). Non-zero stops the walk. */
typedef int (coord_db_report_fn)(int64_t number, int fold, int64_t step, const char *metrics,
                                 void *arg);

/* Walk every report of sweep SWEEP_ID in arrival order (time stored, then attempt,
 * then step), so a pruner can rebuild its rungs after a restart exactly as they
 * filled. Returns 0, the callback's non-zero value, or SW_EDB. */
int coord_db_reports(coord_db_t *self, int64_t sweep_id, coord_db_report_fn *fn, void *arg);

/* Number of reports stored for ATTEMPT_ID, to *N_OUT. */
int coord_db_report_count(coord_db_t *self, int64_t attempt_id, int64_t *n_out);

typedef struct {
    const char *id;             /* worker id (stable per worker process) */
    const char *host;
    int64_t pid;
    int64_t slots;
    int64_t first_seen_unix_ms;
    int64_t last_seen_unix_ms;
    const char *state;          /* alive, lost, gone */
} coord_db_worker_t;

typedef int (coord_db_worker_fn)(const coord_db_worker_t *row, void *arg);

/* Every worker ever seen, by id. */
int coord_db_workers(coord_db_t *self, coord_db_worker_fn *fn, void *arg);

/* Insert or refresh worker ID as alive (HELLO). */
int coord_db_worker_upsert(coord_db_t *self, const char *id, const char *host, int64_t pid,
                           int64_t slots, int64_t now_unix_ms);

/* Set worker ID's last_seen_unix_ms (callers limit this to once a second). */
int coord_db_worker_seen(coord_db_t *self, const char *id, int64_t now_unix_ms);

/* Set worker ID's state: alive, lost or gone. */
int coord_db_worker_set_state(coord_db_t *self, const char *id, const char *state);

typedef struct {
    int64_t id;
    int64_t sweep_id;           /* 0 when the event concerns no sweep */
    int64_t unix_ms;
    const char *kind;           /* "worker lost", "lease expired", "attempt requeued", ... */
    const char *detail;         /* key=value text or NULL */
} coord_db_event_t;

typedef int (coord_db_event_fn)(const coord_db_event_t *row, void *arg);

/* Append an event; SWEEP_ID 0 for none; DETAIL may be NULL. */
int coord_db_event_add(coord_db_t *self, int64_t sweep_id, int64_t now_unix_ms,
                       const char *kind, const char *detail);

/* Events of SWEEP_ID (0: every event) of KIND (NULL: any), by id. */
int coord_db_events(coord_db_t *self, int64_t sweep_id, const char *kind,
                    coord_db_event_fn *fn, void *arg);

/* The LIMIT most recent events of SWEEP_ID (0: every event) together with the events
 * that concern no sweep (worker lost, worker gone), oldest first. */
int coord_db_events_recent(coord_db_t *self, int64_t sweep_id, int64_t limit,
                           coord_db_event_fn *fn, void *arg);

/* ---- worker keys (CURVE) ---------------------------------------------------- */

typedef struct {
    const char *worker_id;
    const char *public_key;     /* the CURVE public key, Z85 (40 characters) */
    int64_t bound_unix_ms;      /* when its first HELLO bound the id */
} coord_db_worker_key_t;

typedef int (coord_db_worker_key_fn)(const coord_db_worker_key_t *row, void *arg);

/* Every worker id bound to a CURVE key (schema version 2), by worker id. */
int coord_db_worker_keys(coord_db_t *self, coord_db_worker_key_fn *fn, void *arg);

/* Bind WORKER_ID to PUBLIC_KEY (Z85, exactly 40 characters) at NOW_UNIX_MS, inside
 * the group transaction: durable once coord_db_commit() returns 0. A binding is
 * never replaced: SW_ESTATE when WORKER_ID is already bound (to any key, the same
 * one included) or PUBLIC_KEY is not 40 characters (nothing written); SW_EDB
 * otherwise (the cause is in coord_db_last_error). */
int coord_db_worker_key_bind(coord_db_t *self, const char *worker_id, const char *public_key,
                             int64_t now_unix_ms);

/* Run PRAGMA integrity_check. Returns 0 when SQLite says "ok" (MSG = "ok"), the number
 * of problem lines found (MSG = the first one), or SW_EDB when the check itself cannot
 * run (MSG = SQLite's error). MSG (LEN bytes) is always a terminated string. */
int coord_db_integrity_check(coord_db_t *self, char *msg, size_t len);

#endif
