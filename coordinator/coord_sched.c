/*  coord_sched.c - the scheduler: queues, trials, attempts, leases, retries, limits
 *
 *  Owns the in-memory picture of every served sweep: its trials (indexed by number),
 *  two FIFO queues of units (requeued, then pending), the running attempts and the
 *  workers. The store (coord_db) is the truth; this picture is rebuilt from it at
 *  start and every change is written to it before the outbox is released
 *  (coord_sched_flush). Sockets, routing ids and encoding belong to coord.c.
 *
 *  Queues use lazy deletion: a unit whose trial ended or whose fold is no longer
 *  QUEUED is skipped when popped, so ending a trial never walks the queues.
 *
 *  NEEDSWORK: running attempts and workers are kept in arrays searched linearly; that
 *  is fine for the hundreds of slots of a cluster but would want a hash beyond.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "coordinator/coord_sched.h"

#include <assert.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "common/sw_mem.h"
#include "coordinator/coord_pruner.h"
#include "coordinator/coord_sampler.h"

typedef enum { T_PENDING, T_RUNNING, T_COMPLETE, T_PRUNED, T_FAILED, T_CANCELLED, T_NSTATES } tstate_t;
static const char *const s_tstate[] = {"PENDING", "RUNNING", "COMPLETE", "PRUNED", "FAILED",
                                       "CANCELLED"};

typedef enum { S_RUNNING, S_COMPLETE, S_FAILED, S_CANCELLED } sstate_t;
static const char *const s_sstate[] = {"RUNNING", "COMPLETE", "FAILED", "CANCELLED"};

typedef enum { F_QUEUED, F_RUNNING, F_COMPLETE, F_STOPPED } fstate_t;

typedef struct {
    fstate_t state;
    int64_t attempt;        /* running attempt id when F_RUNNING */
    int retries;            /* attempts of this fold lost with a retry counted */
    double value;           /* objective value when F_COMPLETE */
} fold_t;

typedef struct {
    int64_t id;             /* trials.id */
    int64_t number;
    cJSON *params;          /* owned */
    double *x;              /* owned numeric view of PARAMS (coord_sampler_view), filled
                               once when the trial is created or loaded, so that TPE
                               does not walk JSON per proposal; NULL on OOM (the
                               sampler then reads PARAMS: same proposal, slower) */
    tstate_t state;
    int n_folds;            /* k >= 2, or 1 (fold -1 on the wire) */
    fold_t *folds;
    int folds_done;
    bool by_trainer;        /* FAILED by the trainer itself (not lost, not timed out) */
    double value, value_std;
    char *error;
    int64_t started_unix_ms, finished_unix_ms;
} trial_t;

typedef struct {
    trial_t *trial;
    int fold;               /* index 0..n_folds-1 */
} unit_t;

typedef struct {
    unit_t *items;
    size_t head, len, cap;  /* live units are items[head .. len) */
} queue_t;

typedef struct sweep {
    int64_t id;
    sw_spec_t *spec;        /* owned */
    coord_sampler_t *sampler;
    coord_pruner_t *pruner;  /* decides on REPORTs and finished folds; type none by default */
    sstate_t state;
    char *reason;
    trial_t **trials;       /* by number */
    int64_t n_trials;
    size_t cap_trials;
    queue_t requeue, pending;
    int64_t counts[T_NSTATES];
    int64_t retries;
    int64_t planned;        /* -1 unbounded */
    bool exhausted;         /* the sampler has no configuration left */
    bool time_up;           /* max_time_s reached: no new trials */
    int64_t served_ms;
    int64_t served_saved_ms;/* last value written to the store */
    int64_t best_number;
    double best_value;
    int64_t trainer_failed; /* trials FAILED by the trainer itself */
    char *last_error;       /* the error of the last FAILED trial */
} sweep_t;

typedef struct {
    char *id;
    char *host;
    int64_t pid;
    int slots;              /* HELLO slots */
    int free;               /* REQUEST's count, minus ASSIGNs since */
    bool alive;
    uint64_t expires_ms;    /* lease end, monotonic */
    uint64_t db_seen_ms;    /* last last_seen_unix_ms write, monotonic */
    uint64_t last_msg_ms;
    cJSON *trainers;        /* HELLO "trainers" (owned), or NULL: not announced (any) */
    cJSON *commands;        /* HELLO "commands" glob patterns (owned), or NULL: unknown */
    struct sweep **refused; /* sweeps it answered RESULT kind "worker" for: not sent again */
    size_t n_refused;
} worker_t;

typedef struct {
    int64_t id;
    sweep_t *sweep;
    trial_t *trial;
    int fold;
    char *worker_id;        /* owned; the worker it was sent to */
    bool attached;          /* a live worker holds it (false: orphan after restart) */
    bool orphan_no_retry;   /* orphan of workers that cannot come back: no retry counted */
    uint64_t orphan_deadline_ms;
    uint64_t deadline_ms;   /* trial_timeout_s + lease from dispatch; 0 none */
} attempt_t;

struct coord_sched {
    coord_db_t *db;                 /* borrowed */
    uint64_t lease_ms;
    coord_sched_now_fn *now_fn;
    void *now_arg;
    uint64_t start_ms;
    bool startup_swept;             /* workers left alive by a previous run marked lost */
    sweep_t **sweeps;
    size_t n_sweeps, cap_sweeps, rr;
    worker_t **workers;
    size_t n_workers, cap_workers, rr_worker;
    attempt_t **running;
    size_t n_running, cap_running;
    coord_sched_out_t *out;
    size_t n_out, cap_out;
    coord_sched_trial_cb *trial_cb;
    void *trial_cb_arg;
    coord_sched_prune_fn *prune_fn;
    void *prune_arg;
    coord_sched_stats_t stats;
    uint64_t last_tick_ms;
    int err;                        /* first store error of the turn */
    bool paused;                    /* coord_sched_pause: dispatch nothing more */
};

/* ---- small helpers ---- */

static uint64_t s_default_now(void *arg)
{
    (void)arg;
    return sw_clock_mono_ms();
}

static uint64_t s_now(coord_sched_t *self)
{
    return self->now_fn(self->now_arg);
}

static int64_t s_unix(void)
{
    return sw_clock_unix_ms();
}

/* Remember the first store error of the turn; flush reports it. */
static int s_db(coord_sched_t *self, int rc)
{
    if (rc && !self->err)
        self->err = rc == SW_ESTATE ? SW_EDB : rc;
    return rc;
}

static void s_event(coord_sched_t *self, sweep_t *sw, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_event(coord_sched_t *self, sweep_t *sw, const char *kind, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    s_db(self, coord_db_event_add(self->db, sw ? sw->id : 0, s_unix(), kind, detail));
}

static cJSON *s_out(coord_sched_t *self, const char *worker_id, proto_cmd_t cmd)
{
    if (!worker_id || sw_grow((void **)&self->out, &self->cap_out, self->n_out + 1,
                              sizeof *self->out, 8))
        return NULL;
    cJSON *body = cJSON_CreateObject();
    char *id = strdup(worker_id);
    if (!body || !id) {
        cJSON_Delete(body);
        free(id);
        return NULL;
    }
    self->out[self->n_out++] = (coord_sched_out_t){.worker_id = id, .cmd = cmd, .body = body};
    return body;
}

static bool s_queue_push(queue_t *q, trial_t *t, int fold)
{
    if (q->head > 0 && q->len == q->cap) {
        memmove(q->items, q->items + q->head, (q->len - q->head) * sizeof *q->items);
        q->len -= q->head;
        q->head = 0;
    }
    if (sw_grow((void **)&q->items, &q->cap, q->len + 1, sizeof *q->items, 8))
        return false;
    q->items[q->len++] = (unit_t){t, fold};
    return true;
}

static bool s_trial_final(const trial_t *t)
{
    return t->state >= T_COMPLETE;
}

/* Whether a LOST attempt of KIND counts as a retry of its fold: only when its worker
 * was lost (lease expired, crashed, restarted without it) or it timed out; not when it
 * was handed back (drain, signal), never started (busy; reconnect: the ASSIGN was lost
 * with the socket the same worker process replaced), could not run on that worker
 * (worker), or its workers could not come back after a restart (restart). */
static bool s_kind_counts_retry(const char *kind)
{
    static const char *const free_kinds[] = {"handed_back", "busy", "worker", "restart",
                                             "reconnect"};
    if (!kind)
        return true;
    for (size_t i = 0; i < sizeof free_kinds / sizeof free_kinds[0]; i++)
        if (!strcmp(kind, free_kinds[i]))
            return false;
    return true;
}

/* Pop the next live unit of Q. */
static bool s_queue_pop(queue_t *q, unit_t *u)
{
    while (q->head < q->len) {
        *u = q->items[q->head++];
        if (!s_trial_final(u->trial) && u->trial->folds[u->fold].state == F_QUEUED)
            return true;
    }
    q->head = q->len = 0;
    return false;
}

static int s_wire_fold(const trial_t *t, int fold)
{
    return t->n_folds >= 2 ? fold : -1;
}

static sweep_t *s_sweep_find(coord_sched_t *self, const char *name)
{
    for (size_t i = 0; i < self->n_sweeps; i++)
        if (!strcmp(self->sweeps[i]->spec->name, name))
            return self->sweeps[i];
    return NULL;
}

static worker_t *s_worker_find(coord_sched_t *self, const char *id)
{
    for (size_t i = 0; i < self->n_workers; i++)
        if (!strcmp(self->workers[i]->id, id))
            return self->workers[i];
    return NULL;
}

static attempt_t *s_attempt_find(coord_sched_t *self, int64_t id)
{
    for (size_t i = 0; i < self->n_running; i++)
        if (self->running[i]->id == id)
            return self->running[i];
    return NULL;
}

static int s_worker_running(coord_sched_t *self, const char *id)
{
    int n = 0;
    for (size_t i = 0; i < self->n_running; i++)
        if (self->running[i]->attached && !strcmp(self->running[i]->worker_id, id))
            n++;
    return n;
}

static void s_attempt_remove(coord_sched_t *self, attempt_t *a)
{
    for (size_t i = 0; i < self->n_running; i++)
        if (self->running[i] == a) {
            self->running[i] = self->running[--self->n_running];
            break;
        }
    free(a->worker_id);
    free(a);
}

static bool s_better(const sweep_t *sw, double v, double best)
{
    if (!isfinite(v))
        return false;
    if (!isfinite(best))
        return true;
    return sw->spec->direction == SW_DIR_MAXIMIZE ? v > best : v < best;
}

static void s_counts_fill(const sweep_t *sw, coord_sched_counts_t *c)
{
    memset(c, 0, sizeof *c);
    c->sweep = sw->spec->name;
    c->state = s_sstate[sw->state];
    c->planned = sw->planned;
    c->created = sw->n_trials;
    c->pending = sw->counts[T_PENDING];
    if (sw->state == S_RUNNING && sw->planned > sw->n_trials)
        c->pending += sw->planned - sw->n_trials;
    c->running = sw->counts[T_RUNNING];
    c->complete = sw->counts[T_COMPLETE];
    c->pruned = sw->counts[T_PRUNED];
    c->failed = sw->counts[T_FAILED];
    c->cancelled = sw->counts[T_CANCELLED];
    c->done = c->complete + c->pruned + c->failed + c->cancelled;
    c->retries = sw->retries;
    c->best_number = sw->best_number;
    c->best_value = sw->best_value;
    c->trials_per_min = sw->served_ms > 0 ? (double)c->done * 60000.0 / (double)sw->served_ms : 0;
}

static void s_notify(coord_sched_t *self, sweep_t *sw)
{
    if (!self->trial_cb)
        return;
    coord_sched_counts_t c;
    s_counts_fill(sw, &c);
    self->trial_cb(self->trial_cb_arg, &c);
}

static void s_trial_save(coord_sched_t *self, sweep_t *sw, trial_t *t)
{
    (void)sw;
    coord_db_trial_t row = {
        .id = t->id, .state = s_tstate[t->state], .value = t->value,
        .value_std = t->value_std, .folds_done = t->folds_done, .error = t->error,
        .started_unix_ms = t->started_unix_ms, .finished_unix_ms = t->finished_unix_ms,
    };
    s_db(self, coord_db_trial_update(self->db, &row));
}

static coord_pruner_outcome_t s_pruner_outcome(tstate_t state)
{
    return state == T_COMPLETE ? COORD_PRUNER_COMPLETE
           : state == T_PRUNED ? COORD_PRUNER_PRUNED : COORD_PRUNER_FAILED;
}

/* Move trial T to STATE (with ERROR for FAILED/CANCELLED), store it, notify. */
static void s_trial_set(coord_sched_t *self, sweep_t *sw, trial_t *t, tstate_t state,
                        const char *error)
{
    if (t->state == state && !error)
        return;
    sw->counts[t->state]--;
    sw->counts[state]++;
    t->state = state;
    if (error) {
        free(t->error);
        t->error = strdup(error);
    }
    if (state >= T_COMPLETE) {
        t->finished_unix_ms = s_unix();
        for (int f = 0; f < t->n_folds; f++)
            if (t->folds[f].state == F_QUEUED)
                t->folds[f].state = F_STOPPED;
        if (sw->pruner)
            coord_pruner_finish(sw->pruner, t->number, s_pruner_outcome(state), t->value);
    }
    if (state == T_RUNNING && !t->started_unix_ms)
        t->started_unix_ms = s_unix();
    if (state == T_COMPLETE && s_better(sw, t->value, sw->best_value)) {
        sw->best_value = t->value;
        sw->best_number = t->number;
    }
    s_trial_save(self, sw, t);
    s_notify(self, sw);
}

/* Every fold of T is recorded: its value is the mean over folds, with the population
 * standard deviation (numpy.std, GridSearchCV's std_test_score; NAN with one fold);
 * close it COMPLETE. */
static void s_trial_complete(coord_sched_t *self, sweep_t *sw, trial_t *t)
{
    double sum = 0, sq = 0;
    for (int f = 0; f < t->n_folds; f++)
        sum += t->folds[f].value;
    t->value = sum / t->n_folds;
    for (int f = 0; f < t->n_folds; f++)
        sq += (t->folds[f].value - t->value) * (t->folds[f].value - t->value);
    t->value_std = t->n_folds >= 2 ? sqrt(sq / t->n_folds) : NAN;
    s_trial_set(self, sw, t, T_COMPLETE, NULL);
}

/* PENDING or RUNNING, from the folds of a non-final trial. */
static void s_trial_refresh(coord_sched_t *self, sweep_t *sw, trial_t *t)
{
    if (s_trial_final(t))
        return;
    bool running = false;
    for (int f = 0; f < t->n_folds; f++)
        running |= t->folds[f].state == F_RUNNING;
    s_trial_set(self, sw, t, running ? T_RUNNING : T_PENDING, NULL);
}

static void s_sweep_end(coord_sched_t *self, sweep_t *sw, sstate_t state, const char *reason);

/* ---- attempts ending ---- */

/* Record attempt A as STATE in the store (not COMPLETE). */
static void s_attempt_close_row(coord_sched_t *self, int64_t id, const char *state,
                                const char *error, const char *kind)
{
    coord_db_attempt_t row = {.id = id, .state = state, .value = NAN, .error = error,
                              .kind = kind, .last_step = -1, .finished_unix_ms = s_unix()};
    s_db(self, coord_db_attempt_update(self->db, &row));
}

/* Cancel running attempt A (trial ended elsewhere): store CANCELLED, tell its worker. */
static void s_attempt_cancel(coord_sched_t *self, attempt_t *a, const char *reason)
{
    s_attempt_close_row(self, a->id, "CANCELLED", reason, "cancelled");
    if (a->attached) {
        cJSON *b = s_out(self, a->worker_id, PROTO_CANCEL);
        if (b) {
            cJSON_AddNumberToObject(b, "attempt", (double)a->id);
            cJSON_AddStringToObject(b, "reason", reason);
        }
    }
    trial_t *t = a->trial;
    if (t->folds[a->fold].state == F_RUNNING && t->folds[a->fold].attempt == a->id)
        t->folds[a->fold].state = s_trial_final(t) ? F_STOPPED : F_QUEUED;
    s_attempt_remove(self, a);
}

/* End trial T as STATE (FAILED, PRUNED, CANCELLED) with REASON; cancel its other
 * running folds. */
static void s_trial_end(coord_sched_t *self, sweep_t *sw, trial_t *t, tstate_t state,
                        const char *reason)
{
    s_trial_set(self, sw, t, state, reason);
    if (state == T_FAILED) {
        free(sw->last_error);
        sw->last_error = strdup(reason ? reason : "failed");
        sw->trainer_failed += t->by_trainer;
    }
    for (int f = 0; f < t->n_folds; f++) {
        if (t->folds[f].state != F_RUNNING)
            continue;
        attempt_t *a = s_attempt_find(self, t->folds[f].attempt);
        t->folds[f].state = F_STOPPED;
        if (a)
            s_attempt_cancel(self, a, reason ? reason : "trial ended");
    }
    if (state == T_FAILED && sw->state == S_RUNNING && sw->spec->max_failed > 0
        && sw->counts[T_FAILED] >= sw->spec->max_failed) {
        char why[256];
        snprintf(why, sizeof why, "max_failed reached: %lld trials failed (last: trial %lld: %.150s)",
                 (long long)sw->counts[T_FAILED], (long long)t->number, reason ? reason : "?");
        s_sweep_end(self, sw, S_FAILED, why);
    }
    /* fail fast: the first trials all failed by the trainer itself and none completed
     * (a missing dataset, a wrong command path, an objective typo): stop rather than
     * burn the whole search space on the same error */
    int64_t first = sw->planned >= 0 && sw->planned < COORD_SCHED_FAIL_FAST
                  ? sw->planned : COORD_SCHED_FAIL_FAST;
    if (state == T_FAILED && t->by_trainer && sw->state == S_RUNNING && first > 0
        && sw->trainer_failed >= first && !sw->counts[T_COMPLETE] && !sw->counts[T_PRUNED]) {
        char why[320];
        snprintf(why, sizeof why, "every trial failed: %.200s (stopped after the first %lld)",
                 reason ? reason : "?", (long long)sw->trainer_failed);
        s_sweep_end(self, sw, S_FAILED, why);
    }
}

/* The fold of A is lost (REASON): store LOST with KIND; requeue the fold, counting a
 * retry when COUNT_RETRY; past max_retries the trial fails. Frees A. */
static void s_attempt_lost(coord_sched_t *self, attempt_t *a, const char *kind,
                           const char *reason, bool count_retry)
{
    sweep_t *sw = a->sweep;
    trial_t *t = a->trial;
    int fold = a->fold;
    char worker[128];
    snprintf(worker, sizeof worker, "%s", a->worker_id ? a->worker_id : "?");
    int64_t id = a->id;
    s_attempt_close_row(self, id, "LOST", reason, kind);
    s_attempt_remove(self, a);
    self->stats.lost++;
    fold_t *fd = &t->folds[fold];
    if (fd->state != F_RUNNING || fd->attempt != id || s_trial_final(t))
        return;
    if (count_retry) {
        fd->retries++;
        sw->retries++;
    }
    sw_log_warn("attempt lost, %s trial=%lld fold=%d attempt=%lld worker=%s retries=%d",
                reason, (long long)t->number, s_wire_fold(t, fold), (long long)id, worker,
                fd->retries);
    if (count_retry && fd->retries > sw->spec->max_retries) {
        char why[256];
        char times[32];
        if (fd->retries == 1)
            snprintf(times, sizeof times, "once");
        else
            snprintf(times, sizeof times, "%d times", fd->retries);
        snprintf(why, sizeof why, "lost %s (worker %.100s: %.80s)", times, worker, reason);
        fd->state = F_STOPPED;
        s_event(self, sw, "trial failed", "trial=%lld reason=%s", (long long)t->number, why);
        s_trial_end(self, sw, t, T_FAILED, why);
        return;
    }
    fd->state = F_QUEUED;
    if (!s_queue_push(&sw->requeue, t, fold))
        self->err = SW_ENOMEM;
    s_event(self, sw, "attempt requeued", "trial=%lld fold=%d attempt=%lld worker=%s reason=%s",
            (long long)t->number, s_wire_fold(t, fold), (long long)id, worker, reason);
    s_trial_refresh(self, sw, t);
}

/* ---- sweeps ---- */

static void s_sweep_end(coord_sched_t *self, sweep_t *sw, sstate_t state, const char *reason)
{
    if (sw->state != S_RUNNING)
        return;
    sw->state = state;
    free(sw->reason);
    sw->reason = reason ? strdup(reason) : NULL;
    if (state != S_COMPLETE) {
        /* stop what runs; trials not final are cancelled */
        for (int64_t n = 0; n < sw->n_trials; n++) {
            trial_t *t = sw->trials[n];
            if (!s_trial_final(t))
                s_trial_end(self, sw, t, T_CANCELLED, reason ? reason : "sweep ended");
        }
    }
    s_db(self, coord_db_sweep_set_state(self->db, sw->id, s_sstate[state], reason, s_unix()));
    s_db(self, coord_db_sweep_set_served(self->db, sw->id, sw->served_ms));
    sw->served_saved_ms = sw->served_ms;
    s_event(self, sw, "sweep finished", "state=%s reason=%s", s_sstate[state],
            reason ? reason : "");
    sw_log_notice("sweep finished sweep=%s state=%s reason=\"%s\" complete=%lld failed=%lld",
                  sw->spec->name, s_sstate[state], reason ? reason : "",
                  (long long)sw->counts[T_COMPLETE], (long long)sw->counts[T_FAILED]);
    s_notify(self, sw);
}

static bool s_can_create(const sweep_t *sw)
{
    if (sw->state != S_RUNNING || sw->exhausted || sw->time_up)
        return false;
    return sw->planned < 0 || sw->n_trials < sw->planned;
}

/* Finish SW when nothing runs, nothing waits and nothing more can be created. */
static void s_sweep_check(coord_sched_t *self, sweep_t *sw)
{
    if (sw->state != S_RUNNING)
        return;
    if (sw->counts[T_RUNNING] || sw->counts[T_PENDING] || s_can_create(sw))
        return;
    if (!sw->counts[T_COMPLETE] && !sw->counts[T_PRUNED] && sw->counts[T_FAILED] > 0) {
        char failed[320];
        snprintf(failed, sizeof failed, "every trial failed: %.280s",
                 sw->last_error ? sw->last_error : "?");
        s_sweep_end(self, sw, S_FAILED, failed);
        return;
    }
    const char *why = sw->time_up ? "max_time_s reached"
                    : sw->exhausted || (sw->spec->method == SW_METHOD_GRID
                                        && coord_sampler_size(sw->sampler) == sw->n_trials)
                        ? "search space exhausted" : "max_trials reached";
    s_sweep_end(self, sw, S_COMPLETE, why);
}

static int64_t s_planned(const sweep_t *sw)
{
    int64_t size = coord_sampler_size(sw->sampler);
    int64_t max = sw->spec->max_trials;
    if (size >= 0 && (max <= 0 || size < max))
        return size;
    return max > 0 ? max : -1;
}

static trial_t *s_trial_alloc(const sweep_t *sw)
{
    trial_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n_folds = sw->spec->cv_folds >= 2 ? sw->spec->cv_folds : 1;
    t->folds = calloc((size_t)t->n_folds, sizeof *t->folds);
    if (!t->folds) {
        free(t);
        return NULL;
    }
    t->value = t->value_std = NAN;
    return t;
}

static void s_trial_free(trial_t *t)
{
    if (!t)
        return;
    cJSON_Delete(t->params);
    free(t->x);
    free(t->folds);
    free(t->error);
    free(t);
}

/* Fill T's numeric view of its params once (coord_sampler_trial_t.x). On OOM it
 * stays NULL and the sampler reads the JSON instead, with the same result. */
static void s_trial_view(const sweep_t *sw, trial_t *t)
{
    free(t->x);
    t->x = malloc(((size_t)sw->spec->n_params + 1) * sizeof *t->x);
    if (t->x)
        coord_sampler_view(sw->spec, t->params, t->x);
}

static int s_sweep_add_trial(sweep_t *sw, trial_t *t)
{
    if (sw_grow((void **)&sw->trials, &sw->cap_trials, (size_t)sw->n_trials + 1,
                sizeof *sw->trials, 8))
        return SW_ENOMEM;
    sw->trials[sw->n_trials++] = t;
    return 0;
}

/* Create trial number n_trials through the sampler; queue its folds. */
static trial_t *s_trial_create(coord_sched_t *self, sweep_t *sw)
{
    int64_t n = sw->n_trials;
    coord_sampler_trial_t *hist = NULL;
    if (n > 0) {
        hist = calloc((size_t)n, sizeof *hist);
        if (!hist)
            return NULL;
        for (int64_t i = 0; i < n; i++) {
            trial_t *h = sw->trials[i];
            hist[i] = (coord_sampler_trial_t){
                .number = h->number, .params = h->params, .x = h->x,
                .finished = h->state == T_COMPLETE || h->state == T_PRUNED,
                .pruned = h->state == T_PRUNED,
                .failed = h->state == T_FAILED || h->state == T_CANCELLED, .value = h->value};
        }
    }
    int err = 0;
    cJSON *params = coord_sampler_propose(sw->sampler, n, hist, (size_t)n, &err);
    free(hist);
    if (!params) {
        if (err == SW_EEXHAUSTED) {
            sw->exhausted = true;
        } else {
            sw_log_error("sampler failed sweep=%s trial=%lld: %s", sw->spec->name,
                         (long long)n, sw_strerror(err));
            sw->exhausted = true;
        }
        return NULL;
    }
    trial_t *t = s_trial_alloc(sw);
    char *text = cJSON_PrintUnformatted(params);
    if (!t || !text || s_sweep_add_trial(sw, t)) {
        cJSON_Delete(params);
        free(text);
        s_trial_free(t);
        self->err = SW_ENOMEM;
        return NULL;
    }
    t->number = n;
    t->params = params;
    s_trial_view(sw, t);
    t->state = T_PENDING;
    sw->counts[T_PENDING]++;
    if (s_db(self, coord_db_trial_insert(self->db, sw->id, n, text, "PENDING", s_unix(), &t->id)))
        t->id = 0;
    free(text);
    for (int f = 0; f < t->n_folds; f++)
        s_queue_push(&sw->pending, t, f);
    return t;
}

static bool s_sweep_next_unit(coord_sched_t *self, sweep_t *sw, unit_t *u)
{
    if (sw->state != S_RUNNING)
        return false;
    if (s_queue_pop(&sw->requeue, u) || s_queue_pop(&sw->pending, u))
        return true;
    if (!s_can_create(sw))
        return false;
    trial_t *t = s_trial_create(self, sw);
    if (!t)
        return false;
    s_notify(self, sw);
    return s_queue_pop(&sw->pending, u);
}

/* The sweep's trainer type ("mlp", "command", ...; "" when absent) and, for a command
 * trainer, its argv[0] (NULL when none). */
static const char *s_trainer_type(const sweep_t *sw, const char **argv0)
{
    const cJSON *tr = sw->spec->trainer;
    const cJSON *type = tr ? cJSON_GetObjectItemCaseSensitive(tr, "type") : NULL;
    const cJSON *argv = tr ? cJSON_GetObjectItemCaseSensitive(tr, "argv") : NULL;
    const cJSON *a0 = cJSON_IsArray(argv) ? cJSON_GetArrayItem(argv, 0) : NULL;
    if (argv0)
        *argv0 = cJSON_IsString(a0) ? a0->valuestring : NULL;
    return cJSON_IsString(type) ? type->valuestring : "";
}

static bool s_refused(const worker_t *w, const sweep_t *sw)
{
    for (size_t i = 0; i < w->n_refused; i++)
        if (w->refused[i] == sw)
            return true;
    return false;
}

/* Whether worker W can run sweep SW: it did not refuse it, and what it announced in
 * HELLO (trainer types; for command trainers the --allow-command patterns) covers the
 * sweep's trainer. A worker that announced nothing (an older worker) is tried. */
static bool s_worker_can(const worker_t *w, const sweep_t *sw)
{
    if (s_refused(w, sw))
        return false;
    const char *argv0 = NULL;
    const char *type = s_trainer_type(sw, &argv0);
    if (w->trainers) {
        bool found = false;
        const cJSON *it;
        cJSON_ArrayForEach(it, w->trainers)
            found |= cJSON_IsString(it) && !strcmp(it->valuestring, type);
        if (!found)
            return false;
    }
    if (!strcmp(type, "command") && w->commands) {
        if (!argv0)
            return false;
        const cJSON *it;
        cJSON_ArrayForEach(it, w->commands)
            if (cJSON_IsString(it) && fnmatch(it->valuestring, argv0, 0) == 0)
                return true;
        return false;
    }
    return true;
}

/* Round-robin over the sweeps worker W can run. */
static bool s_next_unit(coord_sched_t *self, const worker_t *w, unit_t *u, sweep_t **sw_out)
{
    for (size_t i = 0; i < self->n_sweeps; i++) {
        sweep_t *sw = self->sweeps[(self->rr + i) % self->n_sweeps];
        if (sw->state == S_RUNNING && s_worker_can(w, sw) && s_sweep_next_unit(self, sw, u)) {
            self->rr = (self->rr + i + 1) % self->n_sweeps;
            *sw_out = sw;
            return true;
        }
    }
    return false;
}

static void s_assign(coord_sched_t *self, worker_t *w, sweep_t *sw, unit_t u)
{
    trial_t *t = u.trial;
    attempt_t *a = calloc(1, sizeof *a);
    if (!a || sw_grow((void **)&self->running, &self->cap_running, self->n_running + 1,
                      sizeof *self->running, 8)) {
        free(a);
        self->err = SW_ENOMEM;
        return;
    }
    int wire_fold = s_wire_fold(t, u.fold);
    if (s_db(self, coord_db_attempt_insert(self->db, t->id, wire_fold, w->id, s_unix(), &a->id))) {
        free(a);
        return;
    }
    a->sweep = sw;
    a->trial = t;
    a->fold = u.fold;
    a->worker_id = strdup(w->id);
    a->attached = true;
    const sw_spec_t *spec = sw->spec;
    if (spec->trial_timeout_s > 0)
        a->deadline_ms = s_now(self) + (uint64_t)(spec->trial_timeout_s * 1000.0) + self->lease_ms;
    self->running[self->n_running++] = a;
    t->folds[u.fold].state = F_RUNNING;
    t->folds[u.fold].attempt = a->id;
    w->free--;
    self->stats.assigned++;
    s_trial_refresh(self, sw, t);

    cJSON *b = s_out(self, w->id, PROTO_ASSIGN);
    if (!b) {
        self->err = SW_ENOMEM;
        return;
    }
    cJSON_AddNumberToObject(b, "attempt", (double)a->id);
    cJSON_AddStringToObject(b, "sweep", spec->name);
    cJSON_AddNumberToObject(b, "trial", (double)t->number);
    cJSON_AddNumberToObject(b, "fold", wire_fold);
    cJSON_AddNumberToObject(b, "folds", t->n_folds);
    cJSON_AddItemToObject(b, "params", cJSON_Duplicate(t->params, 1));
    cJSON_AddItemToObject(b, "trainer", spec->trainer ? cJSON_Duplicate(spec->trainer, 1)
                                                      : cJSON_CreateObject());
    const cJSON *cv = spec->root ? cJSON_GetObjectItemCaseSensitive(spec->root, "cv") : NULL;
    if (cv)
        cJSON_AddItemToObject(b, "cv", cJSON_Duplicate(cv, 1));
    const cJSON *seed = spec->trainer ? cJSON_GetObjectItemCaseSensitive(spec->trainer, "seed")
                                      : NULL;
    cJSON_AddNumberToObject(b, "seed", cJSON_IsNumber(seed) ? seed->valuedouble
                                                            : (double)spec->seed);
    cJSON_AddNumberToObject(b, "timeout_s", spec->trial_timeout_s);
    cJSON_AddStringToObject(b, "objective", spec->metric);
    sw_log_info("assigned attempt=%lld sweep=%s trial=%lld fold=%d worker=%s",
                (long long)a->id, spec->name, (long long)t->number, wire_fold, w->id);
}

/* Fill free slots, one unit per worker per round (round-robin over workers too). */
static void s_dispatch(coord_sched_t *self)
{
    if (self->paused)
        return;
    bool progress = true;
    while (progress && !self->err) {
        progress = false;
        for (size_t i = 0; i < self->n_workers; i++) {
            worker_t *w = self->workers[(self->rr_worker + i) % self->n_workers];
            if (!w->alive || w->free <= 0)
                continue;
            unit_t u;
            sweep_t *sw;
            if (!s_next_unit(self, w, &u, &sw))
                continue;
            s_assign(self, w, sw, u);
            progress = true;
        }
        if (self->n_workers)
            self->rr_worker = (self->rr_worker + 1) % self->n_workers;
    }
}

static void s_check_all(coord_sched_t *self)
{
    for (size_t i = 0; i < self->n_sweeps; i++)
        s_sweep_check(self, self->sweeps[i]);
}

/* ---- loading from the store ---- */

typedef struct {
    coord_sched_t *self;
    sweep_t *sw;
    int rc;
} load_ctx_t;

static tstate_t s_tstate_parse(const char *s)
{
    for (int i = 0; i < T_NSTATES; i++)
        if (s && !strcmp(s, s_tstate[i]))
            return (tstate_t)i;
    return T_PENDING;
}

static int s_load_trial(const coord_db_trial_t *row, void *arg)
{
    load_ctx_t *ctx = arg;
    sweep_t *sw = ctx->sw;
    if (row->number != sw->n_trials) {
        sw_log_error("trial numbers of sweep %s have a gap at %lld", sw->spec->name,
                     (long long)row->number);
        ctx->rc = SW_EDB;
        return 1;
    }
    trial_t *t = s_trial_alloc(sw);
    if (!t || s_sweep_add_trial(sw, t)) {
        s_trial_free(t);
        ctx->rc = SW_ENOMEM;
        return 1;
    }
    t->id = row->id;
    t->number = row->number;
    t->params = cJSON_Parse(row->params);
    if (!t->params)
        t->params = cJSON_CreateObject();
    s_trial_view(sw, t);
    t->state = s_tstate_parse(row->state);
    t->value = row->value;
    t->value_std = row->value_std;
    t->error = row->error ? strdup(row->error) : NULL;
    t->started_unix_ms = row->started_unix_ms;
    t->finished_unix_ms = row->finished_unix_ms;
    for (int f = 0; f < t->n_folds; f++)
        t->folds[f].state = s_trial_final(t) ? F_STOPPED : F_QUEUED;
    sw->counts[t->state]++;
    if (t->state == T_COMPLETE && s_better(sw, t->value, sw->best_value)) {
        sw->best_value = t->value;
        sw->best_number = t->number;
    }
    return 0;
}

static int s_load_attempt(const coord_db_attempt_t *row, void *arg)
{
    load_ctx_t *ctx = arg;
    sweep_t *sw = ctx->sw;
    if (row->trial_number < 0 || row->trial_number >= sw->n_trials)
        return 0;
    trial_t *t = sw->trials[row->trial_number];
    int fold = t->n_folds >= 2 ? row->fold : 0;
    if (fold < 0 || fold >= t->n_folds)
        return 0;
    fold_t *fd = &t->folds[fold];
    if (!strcmp(row->state, "COMPLETE")) {
        fd->state = F_COMPLETE;
        fd->value = row->value;
        t->folds_done++;
    } else if (!strcmp(row->state, "FAILED")) {
        if (row->kind && !strcmp(row->kind, "trainer"))
            t->by_trainer = true;
    } else if (!strcmp(row->state, "LOST")) {
        if (s_kind_counts_retry(row->kind)) {
            fd->retries++;
            sw->retries++;
        }
    } else if (!strcmp(row->state, "RUNNING")) {
        if (s_trial_final(t)) {
            /* cannot happen with our writes; close it so it is not held forever */
            s_attempt_close_row(ctx->self, row->id, "CANCELLED", "trial already final",
                                "cancelled");
            return 0;
        }
        coord_sched_t *self = ctx->self;
        attempt_t *a = calloc(1, sizeof *a);
        if (!a || sw_grow((void **)&self->running, &self->cap_running, self->n_running + 1,
                          sizeof *self->running, 8)) {
            free(a);
            ctx->rc = SW_ENOMEM;
            return 1;
        }
        a->id = row->id;
        a->sweep = sw;
        a->trial = t;
        a->fold = fold;
        a->worker_id = strdup(row->worker_id ? row->worker_id : "?");
        a->attached = false;
        a->orphan_deadline_ms = s_now(self) + self->lease_ms;
        if (sw->spec->trial_timeout_s > 0)
            a->deadline_ms = s_now(self) + (uint64_t)(sw->spec->trial_timeout_s * 1000.0)
                             + self->lease_ms;
        self->running[self->n_running++] = a;
        fd->state = F_RUNNING;
        fd->attempt = a->id;
    }
    return 0;
}

static void s_sweep_free(sweep_t *sw)
{
    if (!sw)
        return;
    for (int64_t i = 0; i < sw->n_trials; i++)
        s_trial_free(sw->trials[i]);
    free(sw->trials);
    free(sw->requeue.items);
    free(sw->pending.items);
    coord_sampler_destroy(&sw->sampler);
    coord_pruner_destroy(&sw->pruner);
    sw_spec_destroy(&sw->spec);
    free(sw->reason);
    free(sw->last_error);
    free(sw);
}

static int s_replay_report(int64_t number, int fold, int64_t step, const char *metrics, void *arg)
{
    sweep_t *sw = arg;
    if (number < 0 || number >= sw->n_trials || !sw->trials[number])
        return 0;
    cJSON *m = cJSON_Parse(metrics);
    if (m)
        coord_pruner_replay(sw->pruner, number, s_wire_fold(sw->trials[number], fold), step, m);
    cJSON_Delete(m);
    return 0;
}

/* After a restart: feed the pruner every stored report in arrival order, then every
 * finished trial, so its rungs and medians are what they were (the pruner is a
 * function of the stored history, like the samplers). */
static int s_pruner_rebuild(coord_sched_t *self, sweep_t *sw)
{
    int rc = coord_db_reports(self->db, sw->id, s_replay_report, sw);
    if (rc)
        return rc;
    for (int64_t n = 0; n < sw->n_trials; n++) {
        trial_t *t = sw->trials[n];
        if (t && s_trial_final(t))
            coord_pruner_finish(sw->pruner, t->number, s_pruner_outcome(t->state), t->value);
    }
    return 0;
}

/* Build the in-memory sweep ID from the store with SPEC (consumed). */
static int s_sweep_load(coord_sched_t *self, int64_t id, sw_spec_t **spec_p,
                        int64_t served_ms, sstate_t state)
{
    sweep_t *sw = calloc(1, sizeof *sw);
    if (!sw) {
        sw_spec_destroy(spec_p);
        return SW_ENOMEM;
    }
    sw->id = id;
    sw->spec = *spec_p;
    *spec_p = NULL;
    sw->state = state;
    sw->served_ms = sw->served_saved_ms = served_ms;
    sw->best_number = -1;
    sw->best_value = NAN;
    sw->sampler = coord_sampler_new(sw->spec);
    if (!sw->sampler) {
        sw_log_error("no sampler for the method of sweep %s", sw->spec->name);
        s_sweep_free(sw);
        return SW_EINVAL;
    }
    sw->pruner = coord_pruner_new(sw->spec, NULL);
    if (!sw->pruner) {
        sw_log_error("no pruner for sweep %s (its pruner object is not valid)", sw->spec->name);
        s_sweep_free(sw);
        return SW_EINVAL;
    }
    sw->planned = s_planned(sw);
    load_ctx_t ctx = {self, sw, 0};
    int rc = coord_db_trials(self->db, id, s_load_trial, &ctx);
    if (!rc)
        rc = coord_db_attempts(self->db, id, NULL, s_load_attempt, &ctx);
    if (!rc)
        rc = s_pruner_rebuild(self, sw);
    if (rc || ctx.rc) {
        s_sweep_free(sw);
        return ctx.rc ? ctx.rc : SW_EDB;
    }
    if (sw_grow((void **)&self->sweeps, &self->cap_sweeps, self->n_sweeps + 1,
                sizeof *self->sweeps, 8)) {
        s_sweep_free(sw);
        return SW_ENOMEM;
    }
    self->sweeps[self->n_sweeps++] = sw;
    /* rebuild the queues: folds neither complete nor running wait, requeued first */
    int64_t orphans = 0;
    for (int64_t n = 0; n < sw->n_trials; n++) {
        trial_t *t = sw->trials[n];
        if (t->state == T_FAILED) {
            sw->trainer_failed += t->by_trainer;
            free(sw->last_error);
            sw->last_error = t->error ? strdup(t->error) : NULL;
        }
        if (s_trial_final(t))
            continue;
        if (t->folds_done == t->n_folds) {
            /* every fold recorded but the trial not closed: close it now */
            s_trial_complete(self, sw, t);
            continue;
        }
        for (int f = 0; f < t->n_folds; f++) {
            if (t->folds[f].state == F_QUEUED)
                s_queue_push(&sw->requeue, t, f);
            orphans += t->folds[f].state == F_RUNNING;
        }
        s_trial_refresh(self, sw, t);
    }
    sw_log_notice("serving sweep=%s method=%s trials=%lld complete=%lld running=%lld "
                  "waiting_for_workers=%lld", sw->spec->name,
                  sw->spec->method == SW_METHOD_GRID ? "grid"
                  : sw->spec->method == SW_METHOD_RANDOM ? "random" : "tpe",
                  (long long)sw->n_trials, (long long)sw->counts[T_COMPLETE],
                  (long long)sw->counts[T_RUNNING], (long long)orphans);
    return 0;
}

typedef struct {
    coord_sched_t *self;
    int rc;
} start_ctx_t;

static int s_load_sweep_row(const coord_db_sweep_t *row, void *arg)
{
    start_ctx_t *ctx = arg;
    if (strcmp(row->state, "RUNNING"))
        return 0;
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(row->spec, strlen(row->spec), row->name, &errs);
    if (!spec) {
        char *all = sw_errs_join(&errs, "; ");
        sw_log_error("stored spec of sweep %s does not parse, not serving it: %s", row->name,
                     all ? all : "?");
        free(all);
        sw_errs_clear(&errs);
        return 0;
    }
    sw_errs_clear(&errs);
    int rc = s_sweep_load(ctx->self, row->id, &spec, row->served_ms, S_RUNNING);
    if (rc && rc != SW_EINVAL) {
        ctx->rc = rc;
        return 1;
    }
    return 0;
}

coord_sched_t *coord_sched_new(coord_db_t *db, uint64_t lease_ms, coord_sched_now_fn *now_fn,
                               void *now_arg, int *err)
{
    assert(db);
    int dummy;
    if (!err)
        err = &dummy;
    coord_sched_t *self = calloc(1, sizeof *self);
    if (!self) {
        *err = SW_ENOMEM;
        return NULL;
    }
    self->db = db;
    self->lease_ms = lease_ms ? lease_ms : COORD_SCHED_LEASE_MS_DEFAULT;
    self->now_fn = now_fn ? now_fn : s_default_now;
    self->now_arg = now_arg;
    self->start_ms = self->last_tick_ms = s_now(self);
    start_ctx_t ctx = {self, 0};
    int rc = coord_db_sweeps(db, NULL, s_load_sweep_row, &ctx);
    if (!rc)
        rc = ctx.rc;
    if (!rc)
        rc = self->err;
    if (rc) {
        *err = rc < 0 ? rc : SW_EDB;
        coord_db_rollback(db);
        coord_sched_destroy(&self);
        return NULL;
    }
    *err = 0;
    return self;
}

void coord_sched_destroy(coord_sched_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    coord_sched_t *self = *self_p;
    coord_sched_out_free(self->out, self->n_out);
    for (size_t i = 0; i < self->n_running; i++) {
        free(self->running[i]->worker_id);
        free(self->running[i]);
    }
    free(self->running);
    for (size_t i = 0; i < self->n_workers; i++) {
        free(self->workers[i]->id);
        free(self->workers[i]->host);
        cJSON_Delete(self->workers[i]->trainers);
        cJSON_Delete(self->workers[i]->commands);
        free(self->workers[i]->refused);
        free(self->workers[i]);
    }
    free(self->workers);
    for (size_t i = 0; i < self->n_sweeps; i++)
        s_sweep_free(self->sweeps[i]);
    free(self->sweeps);
    free(self);
    *self_p = NULL;
}

void coord_sched_set_trial_cb(coord_sched_t *self, coord_sched_trial_cb *cb, void *arg)
{
    assert(self);
    self->trial_cb = cb;
    self->trial_cb_arg = arg;
}

void coord_sched_set_prune_fn(coord_sched_t *self, coord_sched_prune_fn *fn, void *arg)
{
    assert(self);
    self->prune_fn = fn;
    self->prune_arg = arg;
}

/* ---- adding sweeps ---- */

typedef struct {
    bool found;
    int64_t id;
    char *spec;
    char *state;
    int64_t served_ms;
} sweep_row_copy_t;

static int s_copy_sweep_row(const coord_db_sweep_t *row, void *arg)
{
    sweep_row_copy_t *c = arg;
    c->found = true;
    c->id = row->id;
    c->spec = strdup(row->spec);
    c->state = strdup(row->state);
    c->served_ms = row->served_ms;
    return 0;
}

/* Take the finished sweep SW out of the served list and free it, keeping its spec in
 * *SPEC_P. Workers' refusals of it move to REPLACEMENT later (s_refusals_move). */
static void s_sweep_unlink(coord_sched_t *self, sweep_t *sw, sw_spec_t **spec_p)
{
    for (size_t i = 0; i < self->n_sweeps; i++)
        if (self->sweeps[i] == sw) {
            memmove(&self->sweeps[i], &self->sweeps[i + 1],
                    (self->n_sweeps - i - 1) * sizeof *self->sweeps);
            self->n_sweeps--;
            break;
        }
    *spec_p = sw->spec;
    sw->spec = NULL;
    s_sweep_free(sw);
}

static void s_refusals_move(coord_sched_t *self, const sweep_t *from, sweep_t *to)
{
    for (size_t i = 0; i < self->n_workers; i++)
        for (size_t k = 0; k < self->workers[i]->n_refused; k++)
            if (self->workers[i]->refused[k] == from)
                self->workers[i]->refused[k] = to;
}

/* Rebuild sweep ID from the store as a restart would, RUNNING, with SERVED_MS served:
 * LIVE (may be NULL) is taken out first and *SPEC_P (NULL: LIVE's spec) becomes the
 * new sweep's (consumed either way). Workers' refusals of LIVE move to it; it is
 * notified and checked, so it ends again at once when nothing is left to do.
 * *OUT = the new sweep. Returns 0, or s_sweep_load's error. */
static int s_sweep_reload(coord_sched_t *self, sweep_t *live, int64_t id, sw_spec_t **spec_p,
                          int64_t served_ms, sweep_t **out)
{
    if (live) {
        sw_spec_t *old = NULL;
        s_sweep_unlink(self, live, &old);
        if (*spec_p)
            sw_spec_destroy(&old);
        else
            *spec_p = old;
    }
    int rc = s_sweep_load(self, id, spec_p, served_ms, S_RUNNING);
    if (rc)
        return rc;
    sweep_t *sw = self->sweeps[self->n_sweeps - 1];
    if (live)
        s_refusals_move(self, live, sw);
    s_notify(self, sw);
    s_sweep_check(self, sw);
    *out = sw;
    return 0;
}

int coord_sched_add_sweep(coord_sched_t *self, sw_spec_t **spec_p, sw_errs_t *errs)
{
    assert(self && spec_p && *spec_p && errs);
    sw_spec_t *spec = *spec_p;
    *spec_p = NULL;
    int rc = 0;
    sweep_row_copy_t row = {0};
    sw_spec_t *stored = NULL;
    sweep_t *live = s_sweep_find(self, spec->name);
    if (!live) {
        rc = coord_db_sweeps(self->db, spec->name, s_copy_sweep_row, &row);
        if (rc)
            goto done;
    }
    if (!live && !row.found) {
        /* a new sweep */
        coord_sampler_t *probe = coord_sampler_new(spec);
        if (!probe) {
            const cJSON *m = spec->root ? cJSON_GetObjectItemCaseSensitive(spec->root, "method")
                                        : NULL;
            sw_errs_add(errs, "method: '%s' is not supported by this coordinator "
                        "(supported: grid, random, tpe)",
                        cJSON_IsString(m) ? m->valuestring : "?");
            rc = SW_EINVAL;
            goto done;
        }
        coord_sampler_destroy(&probe);
        coord_pruner_t *pprobe = coord_pruner_new(spec, errs);
        if (!pprobe) {
            rc = SW_EINVAL;
            goto done;
        }
        coord_pruner_destroy(&pprobe);
        int64_t id = 0;
        rc = coord_db_sweep_insert(self->db, spec->name, spec->canonical, s_unix(), &id);
        if (!rc) {
            s_event(self, NULL, "sweep added", "sweep=%s", spec->name);
            sw_log_notice("sweep added sweep=%s", spec->name);
            rc = s_sweep_load(self, id, &spec, 0, S_RUNNING);
        }
        goto done;
    }
    const sw_spec_t *old = live ? live->spec : NULL;
    if (!old) {
        sw_errs_t perr = {0};
        stored = sw_spec_parse(row.spec, strlen(row.spec), spec->name, &perr);
        sw_errs_clear(&perr);
        if (!stored) {
            sw_errs_add(errs, "%s: the stored spec of this sweep no longer parses", spec->name);
            rc = SW_ECHANGED;
            goto done;
        }
        old = stored;
    }
    sw_errs_t diffs = {0};
    int nd = sw_spec_diff(old, spec, true, &diffs);
    if (nd > 0) {
        for (size_t i = 0; i < diffs.count; i++)
            if (strncmp(diffs.items[i], "limits", 6))
                sw_errs_add(errs, "%s", diffs.items[i]);
        sw_errs_clear(&diffs);
        rc = SW_ECHANGED;
        goto done;
    }
    sw_errs_clear(&diffs);
    bool limits_changed = strcmp(old->canonical, spec->canonical) != 0;
    int64_t id = live ? live->id : row.id;
    if (limits_changed) {
        sw_log_notice("sweep resumed with new limits sweep=%s", spec->name);
        rc = coord_db_sweep_set_spec(self->db, id, spec->canonical);
        if (rc)
            goto done;
        s_event(self, live, "limits changed", "sweep=%s", spec->name);
    } else {
        sw_log_notice("sweep resumed sweep=%s", spec->name);
    }
    if (live && limits_changed && live->state != S_RUNNING) {
        /* A finished sweep whose limits changed is reopened and rebuilt from the
         * store (s_sweep_reload). Nothing of a finished sweep runs. */
        s_db(self, coord_db_sweep_set_state(self->db, id, "RUNNING", NULL, 0));
        s_event(self, live, "sweep reopened", "sweep=%s", spec->name);
        sweep_t *sw;
        rc = self->err ? self->err : s_sweep_reload(self, live, id, &spec, live->served_ms, &sw);
        goto done;
    }
    if (live) {
        if (limits_changed) {
            /* swap the spec: the sampler borrows it, so rebuild it too */
            coord_sampler_t *sampler = coord_sampler_new(spec);
            if (!sampler) {
                rc = SW_ENOMEM;
                goto done;
            }
            coord_sampler_destroy(&live->sampler);
            sw_spec_destroy(&live->spec);
            live->spec = spec;
            spec = NULL;
            live->sampler = sampler;
            live->planned = s_planned(live);
        }
        s_sweep_check(self, live);
        goto done;
    }
    if (strcmp(row.state, "RUNNING")) {
        if (!limits_changed) {
            sw_log_notice("sweep already finished sweep=%s state=%s", spec->name, row.state);
            goto done;
        }
        rc = coord_db_sweep_set_state(self->db, id, "RUNNING", NULL, 0);
        if (rc)
            goto done;
        s_event(self, NULL, "sweep reopened", "sweep=%s", spec->name);
    }
    rc = s_sweep_load(self, id, &spec, row.served_ms, S_RUNNING);
    if (!rc)
        s_sweep_check(self, self->sweeps[self->n_sweeps - 1]);
done:
    if (!rc && self->err)
        rc = self->err;
    sw_spec_destroy(&stored);
    sw_spec_destroy(&spec);
    free(row.spec);
    free(row.state);
    if (!rc)
        s_dispatch(self);
    return rc;
}

/* ---- cancel and resume ---- */

int coord_sched_cancel_sweep(coord_sched_t *self, const char *name, const char *reason,
                             coord_sched_cancel_t *out)
{
    assert(self && name && out);
    memset(out, 0, sizeof *out);
    sweep_t *sw = s_sweep_find(self, name);
    if (!sw) {
        sweep_row_copy_t row = {0};
        int rc = coord_db_sweeps(self->db, name, s_copy_sweep_row, &row);
        if (!rc && row.found)
            snprintf(out->state, sizeof out->state, "%s", row.state);
        free(row.spec);
        free(row.state);
        if (rc)
            return SW_EDB;
        /* a RUNNING row this scheduler does not serve has a spec that no longer parses
         * (logged at start): nothing here can cancel its work */
        return row.found && strcmp(out->state, "RUNNING") ? SW_ESTATE : SW_EINVAL;
    }
    snprintf(out->state, sizeof out->state, "%s", s_sstate[sw->state]);
    if (sw->state != S_RUNNING)
        return SW_ESTATE;
    out->pending = sw->counts[T_PENDING];
    out->running = sw->counts[T_RUNNING];
    for (size_t i = 0; i < self->n_running; i++)
        out->attempts += self->running[i]->sweep == sw;
    char why[320];
    snprintf(why, sizeof why, "cancelled: %.300s", reason && *reason ? reason : "by the user");
    s_event(self, sw, "sweep cancelled", "sweep=%s pending=%lld running=%lld attempts=%lld "
            "reason=%s", sw->spec->name, (long long)out->pending, (long long)out->running,
            (long long)out->attempts, why);
    sw_log_notice("sweep cancelled sweep=%s pending=%lld running=%lld attempts=%lld "
                  "reason=\"%s\"", sw->spec->name, (long long)out->pending,
                  (long long)out->running, (long long)out->attempts, why);
    s_sweep_end(self, sw, S_CANCELLED, why);
    out->cancelled = sw->counts[T_CANCELLED];
    return self->err;
}

typedef struct {
    int64_t id;
    int folds_done;
    int64_t started_unix_ms;
} reopen_t;

typedef struct {
    bool retry_failed;
    reopen_t *items;
    size_t n, cap;
    int rc;
} reopen_ctx_t;

/* Collect the trials that a resume reopens. */
static int s_collect_reopen(const coord_db_trial_t *row, void *arg)
{
    reopen_ctx_t *c = arg;
    bool failed = !strcmp(row->state, "FAILED");
    bool cancelled = !strcmp(row->state, "CANCELLED");
    if (!(c->retry_failed ? failed || cancelled : cancelled && row->started_unix_ms == 0))
        return 0;
    if (sw_grow((void **)&c->items, &c->cap, c->n + 1, sizeof *c->items, 8)) {
        c->rc = SW_ENOMEM;
        return 1;
    }
    c->items[c->n++] = (reopen_t){row->id, row->folds_done, row->started_unix_ms};
    return 0;
}

int coord_sched_resume_sweep(coord_sched_t *self, const char *name, bool retry_failed,
                             coord_sched_resume_t *out)
{
    assert(self && name && out);
    memset(out, 0, sizeof *out);
    sweep_row_copy_t row = {0};
    reopen_ctx_t rc_ctx = {.retry_failed = retry_failed};
    sw_spec_t *spec = NULL;
    sweep_t *live = s_sweep_find(self, name);
    int rc = coord_db_sweeps(self->db, name, s_copy_sweep_row, &row);
    if (rc) {
        rc = SW_EDB;
        goto done;
    }
    if (!row.found) {
        rc = SW_EINVAL;
        goto done;
    }
    const char *prev = live ? s_sstate[live->state] : row.state;
    snprintf(out->previous_state, sizeof out->previous_state, "%s", prev);
    snprintf(out->state, sizeof out->state, "%s", prev);
    if (!strcmp(prev, "RUNNING")) {
        rc = SW_ESTATE;
        goto done;
    }
    /* nothing of a finished sweep runs: every trial is final (s_sweep_end) */
    for (size_t i = 0; live && i < self->n_running; i++)
        if (self->running[i]->sweep == live) {
            rc = SW_ESTATE;
            goto done;
        }
    rc = coord_db_trials(self->db, row.id, s_collect_reopen, &rc_ctx);
    if (rc || rc_ctx.rc) {
        rc = rc_ctx.rc ? rc_ctx.rc : SW_EDB;
        goto done;
    }
    if (!strcmp(prev, "COMPLETE") && (!retry_failed || rc_ctx.n == 0)) {
        rc = SW_ESTATE;
        goto done;
    }
    if (!live) {
        sw_errs_t errs = {0};
        spec = sw_spec_parse(row.spec, strlen(row.spec), name, &errs);
        sw_errs_clear(&errs);
        if (!spec) {
            sw_log_error("stored spec of sweep %s does not parse, cannot resume it", name);
            rc = SW_EINVAL;
            goto done;
        }
    }
    /* from here on the store changes */
    for (size_t i = 0; i < rc_ctx.n; i++) {
        coord_db_trial_t t = {.id = rc_ctx.items[i].id, .state = "PENDING", .value = NAN,
                              .value_std = NAN, .folds_done = rc_ctx.items[i].folds_done,
                              .error = NULL, .started_unix_ms = rc_ctx.items[i].started_unix_ms,
                              .finished_unix_ms = 0};
        s_db(self, coord_db_trial_update(self->db, &t));
    }
    s_db(self, coord_db_sweep_set_state(self->db, row.id, "RUNNING", NULL, 0));
    char detail[256];
    snprintf(detail, sizeof detail, "sweep=%s previous=%s reopened=%zu retry_failed=%s", name,
             prev, rc_ctx.n, retry_failed ? "true" : "false");
    s_db(self, coord_db_event_add(self->db, row.id, s_unix(), "sweep resumed", detail));
    sw_log_notice("sweep resumed sweep=%s previous=%s reopened=%zu retry_failed=%s", name, prev,
                  rc_ctx.n, retry_failed ? "true" : "false");
    if (self->err) {
        rc = self->err;
        goto done;
    }
    /* rebuild it from the store, as a restart would: the reopened trials are queued
     * first, the pruner replays the history without them as finished */
    sweep_t *sw;
    rc = s_sweep_reload(self, live, row.id, &spec, row.served_ms, &sw);
    if (rc) {
        self->err = self->err ? self->err : rc;
        goto done;
    }
    out->reopened = (int64_t)rc_ctx.n;
    snprintf(out->state, sizeof out->state, "%s", s_sstate[sw->state]);
    s_dispatch(self);
    rc = self->err;
done:
    sw_spec_destroy(&spec);
    free(rc_ctx.items);
    free(row.spec);
    free(row.state);
    return rc;
}

/* ---- worker messages ---- */

static void s_worker_seen(coord_sched_t *self, worker_t *w)
{
    uint64_t now = s_now(self);
    w->expires_ms = now + self->lease_ms;
    w->last_msg_ms = now;
    if (now - w->db_seen_ms >= 1000) {
        w->db_seen_ms = now;
        s_db(self, coord_db_worker_seen(self->db, w->id, s_unix()));
    }
}

static worker_t *s_worker_alive(coord_sched_t *self, const char *id)
{
    worker_t *w = s_worker_find(self, id);
    return w && w->alive ? w : NULL;
}

int coord_sched_touch(coord_sched_t *self, const char *worker_id)
{
    assert(self && worker_id);
    worker_t *w = s_worker_alive(self, worker_id);
    if (!w)
        return SW_ESTATE;
    s_worker_seen(self, w);
    return 0;
}

typedef struct {
    bool found;
    int64_t trial_number;
    int64_t sweep_id;
    int fold;
    char state[16];
    char worker_id[256];    /* "" when NULL */
} attempt_copy_t;

static int s_copy_attempt(const coord_db_attempt_t *row, void *arg)
{
    attempt_copy_t *c = arg;
    c->found = true;
    c->trial_number = row->trial_number;
    c->sweep_id = row->sweep_id;
    c->fold = row->fold;
    snprintf(c->state, sizeof c->state, "%s", row->state);
    snprintf(c->worker_id, sizeof c->worker_id, "%s", row->worker_id ? row->worker_id : "");
    return 0;
}

static sweep_t *s_sweep_by_id(coord_sched_t *self, int64_t id)
{
    for (size_t i = 0; i < self->n_sweeps; i++)
        if (self->sweeps[i]->id == id)
            return self->sweeps[i];
    return NULL;
}

/* The trial and fold index of a stored attempt that is not running; NULL when the
 * sweep is not served or the row does not fit. */
static trial_t *s_attempt_home(coord_sched_t *self, const attempt_copy_t *c, sweep_t **sw_out,
                               int *fold_out)
{
    sweep_t *sw = s_sweep_by_id(self, c->sweep_id);
    if (!sw || c->trial_number < 0 || c->trial_number >= sw->n_trials)
        return NULL;
    trial_t *t = sw->trials[c->trial_number];
    int fold = t->n_folds >= 2 ? c->fold : 0;
    if (fold < 0 || fold >= t->n_folds)
        return NULL;
    *sw_out = sw;
    *fold_out = fold;
    return t;
}

int coord_sched_hello(coord_sched_t *self, const char *worker_id, const char *host,
                      int64_t pid, int slots, const int64_t *running, size_t n_running)
{
    assert(self && worker_id);
    worker_t *w = s_worker_find(self, worker_id);
    if (!w) {
        if (sw_grow((void **)&self->workers, &self->cap_workers, self->n_workers + 1,
                    sizeof *self->workers, 8))
            return SW_ENOMEM;
        w = calloc(1, sizeof *w);
        if (!w || !(w->id = strdup(worker_id))) {
            free(w);
            return SW_ENOMEM;
        }
        self->workers[self->n_workers++] = w;
    }
    /* the same process (host and pid) saying HELLO again reconnected; a new pid means
     * the worker restarted and lost what it ran */
    bool same_process = w->host && w->pid == pid && !strcmp(w->host, host ? host : "");
    free(w->host);
    w->host = strdup(host ? host : "");
    w->pid = pid;
    w->slots = slots > 0 ? slots : 1;
    w->free = 0;
    w->alive = true;
    w->db_seen_ms = s_now(self);
    s_worker_seen(self, w);
    s_db(self, coord_db_worker_upsert(self->db, w->id, w->host, pid, w->slots, s_unix()));
    sw_log_notice("worker joined worker=%s host=%s slots=%d running=%zu", w->id, w->host,
                  w->slots, n_running);

    /* attempts we thought it ran but it does not list: lost */
    for (size_t i = 0; i < self->n_running;) {
        attempt_t *a = self->running[i];
        bool listed = false;
        for (size_t k = 0; k < n_running; k++)
            listed |= running[k] == a->id;
        if (a->attached && !strcmp(a->worker_id, w->id) && !listed) {
            if (same_process)   /* its ASSIGN went down with the replaced socket */
                s_attempt_lost(self, a, "reconnect", "assignment lost in a reconnect", false);
            else
                s_attempt_lost(self, a, "lease", "worker restarted without it", true);
            continue;   /* the array changed at i */
        }
        i++;
    }
    for (size_t k = 0; k < n_running; k++) {
        attempt_t *a = s_attempt_find(self, running[k]);
        if (a && !strcmp(a->worker_id, w->id)) {
            if (!a->attached)
                sw_log_notice("attempt re-attached attempt=%lld worker=%s",
                              (long long)a->id, w->id);
            a->attached = true;
            continue;
        }
        attempt_copy_t c = {0};
        s_db(self, coord_db_attempt_get(self->db, running[k], s_copy_attempt, &c));
        if (c.found && strcmp(c.worker_id, w->id)) {
            /* not its attempt: never let a worker claim another's work */
            sw_log_warn("HELLO lists an attempt of another worker, cancelling it there "
                        "attempt=%lld worker=%s owner=%s", (long long)running[k], w->id,
                        c.worker_id);
            cJSON *b = s_out(self, w->id, PROTO_CANCEL);
            if (b) {
                cJSON_AddNumberToObject(b, "attempt", (double)running[k]);
                cJSON_AddStringToObject(b, "reason", "not assigned to this worker");
            }
            continue;
        }
        sweep_t *sw = NULL;
        int fold = 0;
        trial_t *t = c.found ? s_attempt_home(self, &c, &sw, &fold) : NULL;
        /* a LOST attempt whose fold still waits may yet deliver first: let it run */
        if (t && !s_trial_final(t) && t->folds[fold].state != F_COMPLETE
            && strcmp(c.state, "CANCELLED"))
            continue;
        cJSON *b = s_out(self, w->id, PROTO_CANCEL);
        if (b) {
            cJSON_AddNumberToObject(b, "attempt", (double)running[k]);
            cJSON_AddStringToObject(b, "reason", c.found ? "already finished" : "unknown attempt");
        }
    }
    return self->err;
}

int coord_sched_worker_caps(coord_sched_t *self, const char *worker_id, const cJSON *trainers,
                            const cJSON *commands)
{
    assert(self && worker_id);
    worker_t *w = s_worker_find(self, worker_id);
    if (!w)
        return SW_ESTATE;
    cJSON_Delete(w->trainers);
    cJSON_Delete(w->commands);
    w->trainers = cJSON_IsArray(trainers) ? cJSON_Duplicate(trainers, 1) : NULL;
    w->commands = cJSON_IsArray(commands) ? cJSON_Duplicate(commands, 1) : NULL;
    return 0;
}

int coord_sched_request(coord_sched_t *self, const char *worker_id, int slots)
{
    assert(self && worker_id);
    worker_t *w = s_worker_alive(self, worker_id);
    if (!w)
        return SW_ESTATE;
    s_worker_seen(self, w);
    int cap = w->slots - s_worker_running(self, w->id);
    w->free = slots < cap ? slots : cap;
    if (w->free < 0)
        w->free = 0;
    s_dispatch(self);
    s_check_all(self);
    return self->err;
}

/* Find ATTEMPT (running: *A_OUT; else its stored row in *C) and check that WORKER_ID
 * is the worker it was sent to: only that worker may report on it or end it (the same
 * id after a reconnect, or a restart with the same id or state directory). A foreign
 * WHAT (REPORT, RESULT) is counted and logged; returns false then. An unknown attempt
 * is the caller's to handle (true, *A_OUT NULL, C->found false). */
static bool s_attempt_owned(coord_sched_t *self, const char *what, const char *worker_id,
                            int64_t attempt, attempt_t **a_out, attempt_copy_t *c)
{
    attempt_t *a = s_attempt_find(self, attempt);
    if (!a)
        s_db(self, coord_db_attempt_get(self->db, attempt, s_copy_attempt, c));
    *a_out = a;
    const char *owner = a ? a->worker_id : c->found ? c->worker_id : NULL;
    if (owner && strcmp(owner, worker_id)) {
        self->stats.foreign++;
        sw_log_warn("%s for another worker's attempt rejected, nothing stored attempt=%lld "
                    "worker=%s owner=%s", what, (long long)attempt, worker_id, owner);
        return false;
    }
    return true;
}

int coord_sched_report(coord_sched_t *self, const char *worker_id, int64_t attempt,
                       int64_t step, const cJSON *metrics)
{
    assert(self && worker_id);
    worker_t *w = s_worker_alive(self, worker_id);
    if (!w)
        return SW_ESTATE;
    s_worker_seen(self, w);
    attempt_copy_t c = {0};
    attempt_t *a = NULL;
    if (!s_attempt_owned(self, "REPORT", worker_id, attempt, &a, &c))
        return SW_ESTATE;
    const char *action = "continue";
    char *text = metrics ? cJSON_PrintUnformatted(metrics) : strdup("{}");
    if (a) {
        s_db(self, coord_db_report_insert(self->db, attempt, step, text ? text : "{}", s_unix()));
        if (coord_pruner_report(a->sweep->pruner, a->trial->number,
                                s_wire_fold(a->trial, a->fold), step, metrics))
            action = "prune";
        if (self->prune_fn && self->prune_fn(self->prune_arg, a->sweep->spec, a->trial->number,
                                             s_wire_fold(a->trial, a->fold), step, metrics))
            action = "prune";
    } else {
        sweep_t *sw = NULL;
        int fold = 0;
        trial_t *t = c.found ? s_attempt_home(self, &c, &sw, &fold) : NULL;
        if (c.found)
            s_db(self, coord_db_report_insert(self->db, attempt, step, text ? text : "{}",
                                              s_unix()));
        /* nothing can use this attempt any more: ask it to stop */
        if (!t || s_trial_final(t) || t->folds[fold].state == F_COMPLETE
            || !strcmp(c.state, "CANCELLED"))
            action = "prune";
    }
    free(text);
    cJSON *b = s_out(self, worker_id, PROTO_DECISION);
    if (b) {
        cJSON_AddNumberToObject(b, "attempt", (double)attempt);
        cJSON_AddStringToObject(b, "action", action);
    }
    return self->err;
}

static void s_ack(coord_sched_t *self, const char *worker_id, int64_t attempt)
{
    cJSON *b = s_out(self, worker_id, PROTO_ACK);
    if (b)
        cJSON_AddNumberToObject(b, "attempt", (double)attempt);
}

/* The fold value of a COMPLETE result: metrics[objective], finite, else NAN. */
static double s_objective(const sweep_t *sw, const cJSON *metrics)
{
    const cJSON *v = metrics ? cJSON_GetObjectItemCaseSensitive(metrics, sw->spec->metric) : NULL;
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

/* Fold FOLD of T is complete with VALUE; complete the trial when every fold is. */
static void s_fold_complete(coord_sched_t *self, sweep_t *sw, trial_t *t, int fold, double value)
{
    t->folds[fold].state = F_COMPLETE;
    t->folds[fold].value = value;
    t->folds_done++;
    if (t->folds_done < t->n_folds
        && coord_pruner_fold(sw->pruner, t->number, fold, t->n_folds, value)) {
        /* its first folds are already clearly worse than the median: stop the rest,
         * and keep the mean of the finished folds as its last value */
        double sum = 0;
        int n = 0;
        for (int f = 0; f < t->n_folds; f++)
            if (t->folds[f].state == F_COMPLETE) {
                sum += t->folds[f].value;
                n++;
            }
        t->value = n ? sum / n : NAN;
        s_event(self, sw, "folds pruned", "trial=%lld folds_done=%d of %d", (long long)t->number,
                t->folds_done, t->n_folds);
        s_trial_end(self, sw, t, T_PRUNED, NULL);
        return;
    }
    if (t->folds_done < t->n_folds) {
        s_trial_save(self, sw, t);
        s_trial_refresh(self, sw, t);
        return;
    }
    s_trial_complete(self, sw, t);
}

int coord_sched_result(coord_sched_t *self, const char *worker_id, int64_t attempt,
                       const char *state, const cJSON *metrics, const char *error,
                       const char *kind, int64_t last_step)
{
    assert(self && worker_id && state);
    bool complete = !strcmp(state, "COMPLETE");
    bool failed = !strcmp(state, "FAILED");
    bool pruned = !strcmp(state, "PRUNED");
    if (!complete && !failed && !pruned)
        return SW_EPROTO;
    worker_t *w = s_worker_alive(self, worker_id);
    if (w)
        s_worker_seen(self, w);
    attempt_copy_t c = {0};
    attempt_t *a = NULL;
    if (!s_attempt_owned(self, "RESULT", worker_id, attempt, &a, &c))
        return SW_ESTATE;
    self->stats.results++;
    char *mtext = metrics ? cJSON_PrintUnformatted(metrics) : NULL;
    if (a) {
        sweep_t *sw = a->sweep;
        trial_t *t = a->trial;
        int fold = a->fold;
        double value = s_objective(sw, metrics);
        const char *astate = state;
        const char *why = error;
        if (complete && isnan(value)) {
            astate = "FAILED";
            why = "objective missing/not finite";
            kind = "trainer";
        }
        bool busy = failed && kind && !strcmp(kind, "busy");
        bool cannot = failed && kind && !strcmp(kind, "worker");
        if (busy && w)
            w->free = 0;    /* our count was ahead of it: wait for its next REQUEST */
        if (cannot && w && !s_refused(w, sw)) {
            /* this worker cannot run this sweep (command not allowed, trainer missing):
             * requeue without a retry and never send it this sweep again */
            sweep_t **p = realloc(w->refused, (w->n_refused + 1) * sizeof *p);
            if (p) {
                w->refused = p;
                w->refused[w->n_refused++] = sw;
            }
            sw_log_warn("worker cannot run this sweep, not assigning it there again "
                        "worker=%s sweep=%s reason=\"%s\"", worker_id, sw->spec->name,
                        error ? error : "?");
            s_event(self, sw, "worker refused sweep", "worker=%s sweep=%s reason=%s", worker_id,
                    sw->spec->name, error ? error : "?");
        }
        if (failed && kind && (!strcmp(kind, "cancelled") || busy || cannot)) {
            /* the worker stopped it on its own (drain), or had no free slot for it (an
             * ASSIGN that crossed a reconnect): requeue, no retry */
            if (busy || cannot) {
                s_event(self, sw, "attempt requeued",
                        "trial=%lld fold=%d attempt=%lld worker=%s reason=%s",
                        (long long)t->number, s_wire_fold(t, fold), (long long)attempt,
                        worker_id, busy ? "worker busy" : "worker cannot run it");
            }
            if (busy) {
                sw_log_notice("attempt requeued, the worker had no free slot attempt=%lld "
                              "worker=%s", (long long)attempt, worker_id);
            }
            coord_db_attempt_t row = {.id = attempt, .state = "LOST", .metrics = mtext,
                                      .value = NAN, .error = error,
                                      .kind = busy ? "busy" : cannot ? "worker" : "handed_back",
                                      .last_step = last_step, .finished_unix_ms = s_unix()};
            s_db(self, coord_db_attempt_update(self->db, &row));
            fold_t *fd = &t->folds[fold];
            s_attempt_remove(self, a);
            if (fd->state == F_RUNNING && fd->attempt == attempt && !s_trial_final(t)) {
                fd->state = F_QUEUED;
                s_queue_push(&sw->requeue, t, fold);
                s_trial_refresh(self, sw, t);
            }
            goto ack;
        }
        coord_db_attempt_t row = {.id = attempt, .state = astate, .metrics = mtext,
                                  .value = value, .error = why, .kind = kind,
                                  .last_step = last_step, .finished_unix_ms = s_unix()};
        int rc = coord_db_attempt_update(self->db, &row);
        if (rc == SW_ESTATE) {
            /* another attempt of the fold is already COMPLETE */
            s_attempt_close_row(self, attempt, "CANCELLED", "fold already complete", "cancelled");
            self->stats.duplicates++;
            s_attempt_remove(self, a);
            goto ack;
        }
        s_db(self, rc);
        s_attempt_remove(self, a);
        if (!strcmp(astate, "COMPLETE")) {
            s_fold_complete(self, sw, t, fold, value);
        } else if (pruned) {
            t->value = value;
            s_trial_end(self, sw, t, T_PRUNED, NULL);
        } else {
            char reason[512];
            /* name the kind unless the trainer failed by itself or the text says it
             * already ("timeout after 4 s") */
            bool prefix = kind && strcmp(kind, "trainer") && (!why || strncmp(why, kind, strlen(kind)));
            snprintf(reason, sizeof reason, "%s%s%.480s", prefix ? kind : "", prefix ? ": " : "",
                     why ? why : "failed");
            t->by_trainer = !kind || !strcmp(kind, "trainer");
            sw_log_warn("trial failed sweep=%s trial=%lld fold=%d reason=\"%s\"", sw->spec->name,
                        (long long)t->number, s_wire_fold(t, fold), reason);
            s_trial_end(self, sw, t, T_FAILED, reason);
        }
        goto ack;
    }

    /* not running: final, lost and redispatched, or unknown */
    if (!c.found) {
        self->stats.unknown_results++;
        sw_log_warn("result for an unknown attempt, acknowledged attempt=%lld worker=%s",
                    (long long)attempt, worker_id);
        goto ack;
    }
    sweep_t *sw = NULL;
    int fold = 0;
    trial_t *t = s_attempt_home(self, &c, &sw, &fold);
    double value = sw ? s_objective(sw, metrics) : NAN;
    /* a CANCELLED attempt was stopped on purpose (its trial or sweep ended, or its fold
     * completed elsewhere): its result never counts, even once the trial is reopened */
    bool accept = t && complete && !isnan(value) && !s_trial_final(t)
                  && t->folds[fold].state != F_COMPLETE && strcmp(c.state, "COMPLETE")
                  && strcmp(c.state, "CANCELLED");
    if (accept) {
        coord_db_attempt_t row = {.id = attempt, .state = "COMPLETE", .metrics = mtext,
                                  .value = value, .error = NULL, .kind = kind,
                                  .last_step = last_step, .finished_unix_ms = s_unix()};
        int rc = coord_db_attempt_update(self->db, &row);
        if (rc == 0) {
            if (t->folds[fold].state == F_RUNNING) {
                attempt_t *other = s_attempt_find(self, t->folds[fold].attempt);
                if (other)
                    s_attempt_cancel(self, other, "an earlier attempt delivered first");
            }
            s_event(self, sw, "late result accepted", "trial=%lld fold=%d attempt=%lld worker=%s",
                    (long long)t->number, c.fold, (long long)attempt, worker_id);
            s_fold_complete(self, sw, t, fold, value);
            goto ack;
        }
        if (rc != SW_ESTATE)
            s_db(self, rc);
    }
    self->stats.duplicates++;
    s_event(self, sw, "late duplicate discarded", "attempt=%lld state=%s stored=%s worker=%s",
            (long long)attempt, state, c.state, worker_id);
    sw_log_info("late duplicate discarded attempt=%lld worker=%s", (long long)attempt, worker_id);
ack:
    free(mtext);
    s_ack(self, worker_id, attempt);
    s_check_all(self);
    s_dispatch(self);
    return self->err;
}

int coord_sched_bye(coord_sched_t *self, const char *worker_id, const int64_t *handed_back,
                    size_t n_handed_back)
{
    assert(self && worker_id);
    worker_t *w = s_worker_find(self, worker_id);
    if (!w || !w->alive)
        return SW_ESTATE;
    w->alive = false;
    w->free = 0;
    s_db(self, coord_db_worker_set_state(self->db, w->id, "gone"));
    s_event(self, NULL, "worker gone", "worker=%s handed_back=%zu", w->id, n_handed_back);
    sw_log_notice("worker left worker=%s handed_back=%zu", w->id, n_handed_back);
    for (size_t k = 0; k < n_handed_back; k++) {
        attempt_t *a = s_attempt_find(self, handed_back[k]);
        if (a && a->attached && !strcmp(a->worker_id, w->id))
            s_attempt_lost(self, a, "handed_back", "handed back on drain", false);
    }
    /* an attempt it did not hand back was assigned while it was leaving (the ASSIGN
     * crossed its BYE): it never ran, so no retry is counted */
    for (size_t i = 0; i < self->n_running;) {
        attempt_t *a = self->running[i];
        if (a->attached && !strcmp(a->worker_id, w->id)) {
            s_attempt_lost(self, a, "handed_back", "worker left before running it", false);
            continue;
        }
        i++;
    }
    s_check_all(self);
    s_dispatch(self);
    return self->err;
}

void coord_sched_pause(coord_sched_t *self)
{
    assert(self);
    self->paused = true;
}

int coord_sched_orphans_lost(coord_sched_t *self)
{
    assert(self);
    /* requeue them now, before any worker asks: their units then run before any new
     * trial is created, as in the uninterrupted run, so a model-based sampler sees
     * the same history when it proposes the next trial (exact resume) */
    int n = 0;
    for (size_t i = 0; i < self->n_running;) {
        attempt_t *a = self->running[i];
        if (a->attached) {
            i++;
            continue;
        }
        s_attempt_lost(self, a, "restart", "its worker cannot come back after a restart", false);
        n++;
    }
    return n;
}

/* Workers a previous coordinator left 'alive' that never came back: mark lost. */
static int s_mark_stale_worker(const coord_db_worker_t *row, void *arg)
{
    coord_sched_t *self = arg;
    if (!strcmp(row->state, "alive") && !s_worker_alive(self, row->id))
        s_db(self, coord_db_worker_set_state(self->db, row->id, "lost"));
    return 0;
}

int coord_sched_tick(coord_sched_t *self)
{
    assert(self);
    uint64_t now = s_now(self);
    uint64_t delta = now > self->last_tick_ms ? now - self->last_tick_ms : 0;
    self->last_tick_ms = now;
    /* silent workers */
    for (size_t i = 0; i < self->n_workers; i++) {
        worker_t *w = self->workers[i];
        if (!w->alive || w->expires_ms > now)
            continue;
        w->alive = false;
        w->free = 0;
        s_db(self, coord_db_worker_set_state(self->db, w->id, "lost"));
        s_event(self, NULL, "worker lost", "worker=%s silent_ms=%llu", w->id,
                (unsigned long long)(now - w->last_msg_ms));
        sw_log_warn("worker lost, lease expired worker=%s silent_ms=%llu", w->id,
                    (unsigned long long)(now - w->last_msg_ms));
        for (size_t k = 0; k < self->n_running;) {
            attempt_t *a = self->running[k];
            if (a->attached && !strcmp(a->worker_id, w->id)) {
                s_event(self, a->sweep, "lease expired", "attempt=%lld worker=%s",
                        (long long)a->id, w->id);
                s_attempt_lost(self, a, "lease", "lease expired", true);
                continue;
            }
            k++;
        }
    }
    /* orphans after a restart, and the server-side bound on trial_timeout_s */
    for (size_t k = 0; k < self->n_running;) {
        attempt_t *a = self->running[k];
        if (!a->attached && a->orphan_deadline_ms <= now) {
            if (a->orphan_no_retry)
                s_attempt_lost(self, a, "restart", "its worker cannot come back after a restart",
                               false);
            else
                s_attempt_lost(self, a, "lease", "not re-attached after restart", true);
            continue;
        }
        if (a->deadline_ms && a->deadline_ms <= now) {
            if (a->attached) {
                cJSON *b = s_out(self, a->worker_id, PROTO_CANCEL);
                if (b) {
                    cJSON_AddNumberToObject(b, "attempt", (double)a->id);
                    cJSON_AddStringToObject(b, "reason", "trial_timeout_s exceeded");
                }
            }
            s_attempt_lost(self, a, "timeout", "trial_timeout_s + lease exceeded", true);
            continue;
        }
        k++;
    }
    if (!self->startup_swept && now >= self->start_ms + self->lease_ms) {
        self->startup_swept = true;
        s_db(self, coord_db_workers(self->db, s_mark_stale_worker, self));
    }
    /* serving time and max_time_s */
    for (size_t i = 0; i < self->n_sweeps; i++) {
        sweep_t *sw = self->sweeps[i];
        if (sw->state != S_RUNNING)
            continue;
        sw->served_ms += (int64_t)delta;
        if (sw->spec->max_time_s > 0 && !sw->time_up
            && (double)sw->served_ms >= sw->spec->max_time_s * 1000.0) {
            sw->time_up = true;
            s_event(self, sw, "max_time_s reached", "served_ms=%lld", (long long)sw->served_ms);
        }
        if (sw->served_ms - sw->served_saved_ms >= 1000) {
            s_db(self, coord_db_sweep_set_served(self->db, sw->id, sw->served_ms));
            sw->served_saved_ms = sw->served_ms;
        }
    }
    s_check_all(self);
    s_dispatch(self);
    return self->err;
}

int coord_sched_flush(coord_sched_t *self, coord_sched_out_t **out, size_t *n_out)
{
    assert(self && out && n_out);
    *out = NULL;
    *n_out = 0;
    int rc = self->err;
    if (!rc)
        rc = coord_db_commit(self->db);
    else
        coord_db_rollback(self->db);
    if (rc) {
        sw_log_debug("cannot commit the scheduler's changes: %s", sw_strerror(rc));
        coord_sched_out_free(self->out, self->n_out);
        self->out = NULL;
        self->n_out = self->cap_out = 0;
        return SW_EDB;
    }
    *out = self->out;
    *n_out = self->n_out;
    self->out = NULL;
    self->n_out = self->cap_out = 0;
    return 0;
}

void coord_sched_out_free(coord_sched_out_t *out, size_t n)
{
    if (!out)
        return;
    for (size_t i = 0; i < n; i++) {
        free(out[i].worker_id);
        cJSON_Delete(out[i].body);
    }
    free(out);
}

bool coord_sched_all_final(const coord_sched_t *self)
{
    assert(self);
    for (size_t i = 0; i < self->n_sweeps; i++)
        if (self->sweeps[i]->state == S_RUNNING)
            return false;
    return true;
}

void coord_sched_each_worker(coord_sched_t *self, void (*fn)(void *arg, const char *id),
                             void *arg)
{
    assert(self && fn);
    for (size_t i = 0; i < self->n_workers; i++)
        if (self->workers[i]->alive)
            fn(arg, self->workers[i]->id);
}

int coord_sched_counts(coord_sched_t *self, const char *name, coord_sched_counts_t *out)
{
    assert(self && name && out);
    sweep_t *sw = s_sweep_find(self, name);
    if (!sw)
        return SW_EINVAL;
    s_counts_fill(sw, out);
    return 0;
}

coord_sched_stats_t coord_sched_stats(const coord_sched_t *self)
{
    assert(self);
    return self->stats;
}

/* ---- status document ---- */

typedef struct {
    const sw_spec_t *spec;      /* parsed stored spec, NULL when it does not parse */
    int64_t counts[T_NSTATES];
    int64_t created;
    int64_t recent;             /* trials finished in the last 5 minutes */
    int64_t now_unix_ms;
    int64_t best_number;
    double best_value, best_std;
    char *best_params;
} status_ctx_t;

#define S_RATE_WINDOW_MS (5 * 60 * 1000)

static int s_status_trial(const coord_db_trial_t *row, void *arg)
{
    status_ctx_t *c = arg;
    tstate_t st = s_tstate_parse(row->state);
    c->counts[st]++;
    c->created++;
    if (row->finished_unix_ms && row->finished_unix_ms >= c->now_unix_ms - S_RATE_WINDOW_MS)
        c->recent++;
    if (st == T_COMPLETE && isfinite(row->value)) {
        bool max = c->spec && c->spec->direction == SW_DIR_MAXIMIZE;
        if (c->best_number < 0 || (max ? row->value > c->best_value : row->value < c->best_value)) {
            c->best_number = row->number;
            c->best_value = row->value;
            c->best_std = row->value_std;
            free(c->best_params);
            c->best_params = strdup(row->params);
        }
    }
    return 0;
}

static int s_count_row(const coord_db_attempt_t *row, void *arg)
{
    if (s_kind_counts_retry(row->kind))
        (*(int64_t *)arg)++;
    return 0;
}

typedef struct {
    cJSON *trial_retries;   /* "NUMBER": retries of the trial (lost attempts, retry counted) */
    cJSON *lost;            /* kind -> LOST attempts */
    cJSON *failed;          /* kind -> FAILED attempts */
} attempt_kinds_t;

static void s_incr(cJSON *o, const char *key)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (it)
        cJSON_SetNumberValue(it, it->valuedouble + 1);
    else
        cJSON_AddNumberToObject(o, key, 1);
}

static int s_attempt_kinds(const coord_db_attempt_t *row, void *arg)
{
    attempt_kinds_t *k = arg;
    const char *kind = row->kind ? row->kind : "none";
    if (!strcmp(row->state, "LOST")) {
        s_incr(k->lost, kind);
        if (s_kind_counts_retry(row->kind)) {
            char num[32];
            snprintf(num, sizeof num, "%lld", (long long)row->trial_number);
            s_incr(k->trial_retries, num);
        }
    } else if (!strcmp(row->state, "FAILED")) {
        s_incr(k->failed, kind);
    }
    return 0;
}

static void s_add_number_or_null(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

typedef struct {
    coord_db_t *db;
    const char *filter;
    int64_t now_unix_ms;
    cJSON *sweeps;
    int rc;
    bool matched;
} status_all_t;

static int s_status_sweep(const coord_db_sweep_t *row, void *arg)
{
    status_all_t *all = arg;
    if (all->filter && strcmp(all->filter, row->name))
        return 0;
    all->matched = true;
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(row->spec, strlen(row->spec), row->name, &errs);
    sw_errs_clear(&errs);
    status_ctx_t c = {.spec = spec, .now_unix_ms = all->now_unix_ms, .best_number = -1,
                      .best_value = NAN, .best_std = NAN};
    int64_t retries = 0;
    if (coord_db_trials(all->db, row->id, s_status_trial, &c)
        || coord_db_attempts(all->db, row->id, "LOST", s_count_row, &retries)) {
        free(c.best_params);
        sw_spec_destroy(&spec);
        all->rc = SW_EDB;
        return 1;
    }
    cJSON *s = cJSON_AddObjectToObject(all->sweeps, row->name);
    const char *method = !spec ? "?" : spec->method == SW_METHOD_GRID ? "grid"
                       : spec->method == SW_METHOD_RANDOM ? "random" : "tpe";
    cJSON_AddStringToObject(s, "method", method);
    cJSON_AddStringToObject(s, "state", row->state);
    if (row->reason)
        cJSON_AddStringToObject(s, "reason", row->reason);
    else
        cJSON_AddNullToObject(s, "reason");
    if (spec)
        cJSON_AddStringToObject(s, "objective", spec->metric);
    if (spec)
        cJSON_AddStringToObject(s, "direction",
                                spec->direction == SW_DIR_MAXIMIZE ? "maximize" : "minimize");
    /* planned: the grid's size or max_trials, the smaller; unbounded: null */
    int64_t planned = -1;
    if (spec) {
        int64_t grid = spec->method == SW_METHOD_GRID ? sw_spec_grid_size(spec) : -1;
        planned = grid >= 0 && (spec->max_trials <= 0 || grid < spec->max_trials) ? grid
                : spec->max_trials > 0 ? spec->max_trials : -1;
    }
    int64_t pending = c.counts[T_PENDING];
    if (!strcmp(row->state, "RUNNING") && planned > c.created)
        pending += planned - c.created;
    cJSON *tr = cJSON_AddObjectToObject(s, "trials");
    for (int i = 0; i < T_NSTATES; i++)
        cJSON_AddNumberToObject(tr, s_tstate[i], (double)(i == T_PENDING ? pending : c.counts[i]));
    if (planned >= 0)
        cJSON_AddNumberToObject(s, "planned", (double)planned);
    else
        cJSON_AddNullToObject(s, "planned");
    cJSON_AddNumberToObject(s, "created", (double)c.created);
    if (c.best_number >= 0) {
        cJSON *b = cJSON_AddObjectToObject(s, "best");
        cJSON_AddNumberToObject(b, "number", (double)c.best_number);
        cJSON *p = cJSON_Parse(c.best_params);
        cJSON_AddItemToObject(b, "params", p ? p : cJSON_CreateObject());
        s_add_number_or_null(b, "value", c.best_value);
        s_add_number_or_null(b, "value_std", c.best_std);
    } else {
        cJSON_AddNullToObject(s, "best");
    }
    /* over the window, or over the serving time when the sweep was served for less */
    int64_t span = row->served_ms < S_RATE_WINDOW_MS ? row->served_ms : S_RATE_WINDOW_MS;
    cJSON_AddNumberToObject(s, "trials_per_minute",
                            span > 0 ? (double)c.recent * 60000.0 / (double)span : 0.0);
    cJSON_AddNumberToObject(s, "retries", (double)retries);
    cJSON *tr_retries = cJSON_AddObjectToObject(s, "trial_retries");
    cJSON *lost_kinds = cJSON_AddObjectToObject(s, "attempts_lost");
    cJSON *failed_kinds = cJSON_AddObjectToObject(s, "attempts_failed");
    attempt_kinds_t ak = {tr_retries, lost_kinds, failed_kinds};
    if (coord_db_attempts(all->db, row->id, NULL, s_attempt_kinds, &ak)) {
        free(c.best_params);
        sw_spec_destroy(&spec);
        all->rc = SW_EDB;
        return 1;
    }
    cJSON_AddNumberToObject(s, "served_s", (double)row->served_ms / 1000.0);
    free(c.best_params);
    sw_spec_destroy(&spec);
    return 0;
}

typedef struct {
    cJSON *workers;
    coord_db_t *db;
    int64_t now_unix_ms;
} status_workers_t;

typedef struct {
    const char *id;
    cJSON *arr;             /* attempt ids */
    cJSON *attempts;        /* {attempt, trial, fold} */
} running_of_t;

static int s_running_of(const coord_db_attempt_t *row, void *arg)
{
    running_of_t *r = arg;
    if (row->worker_id && !strcmp(row->worker_id, r->id)) {
        cJSON_AddItemToArray(r->arr, cJSON_CreateNumber((double)row->id));
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "attempt", (double)row->id);
        cJSON_AddNumberToObject(a, "trial", (double)row->trial_number);
        cJSON_AddNumberToObject(a, "fold", row->fold);
        cJSON_AddItemToArray(r->attempts, a);
    }
    return 0;
}

static int s_status_worker(const coord_db_worker_t *row, void *arg)
{
    status_workers_t *sw = arg;
    cJSON *w = cJSON_CreateObject();
    cJSON_AddItemToArray(sw->workers, w);
    cJSON_AddStringToObject(w, "id", row->id);
    cJSON_AddStringToObject(w, "host", row->host ? row->host : "");
    cJSON_AddStringToObject(w, "state", row->state);
    cJSON_AddNumberToObject(w, "slots", (double)row->slots);
    int64_t age = sw->now_unix_ms - row->last_seen_unix_ms;
    cJSON_AddNumberToObject(w, "last_heartbeat_age_ms", (double)(age > 0 ? age : 0));
    running_of_t r = {row->id, cJSON_AddArrayToObject(w, "running"),
                      cJSON_AddArrayToObject(w, "attempts")};
    return coord_db_attempts(sw->db, 0, "RUNNING", s_running_of, &r) ? 1 : 0;
}

#define S_STATUS_EVENTS 50     /* most recent events listed in the status document */

typedef struct {
    coord_db_t *db;
    cJSON *counts;          /* kind -> number of events */
    cJSON *list;            /* the most recent events */
    int64_t now_unix_ms;
    int64_t sweep_id;       /* 0: every sweep */
    cJSON *names;           /* sweep id (decimal text) -> sweep name */
} status_events_t;

static int s_sweep_name_of(const coord_db_sweep_t *row, void *arg)
{
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)row->id);
    return cJSON_AddStringToObject(arg, id, row->name) ? 0 : 1;
}

static int s_sweep_id_of(const coord_db_sweep_t *row, void *arg)
{
    *(int64_t *)arg = row->id;
    return 0;
}

/* Count ROW unless a sweep filter excludes it (events of no sweep always count). */
static int s_count_event(const coord_db_event_t *row, void *arg)
{
    status_events_t *ev = arg;
    if (!ev->sweep_id || !row->sweep_id || row->sweep_id == ev->sweep_id)
        s_incr(ev->counts, row->kind);
    return 0;
}

static int s_list_event(const coord_db_event_t *row, void *arg)
{
    status_events_t *ev = arg;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "unix_ms", (double)row->unix_ms);
    int64_t age = ev->now_unix_ms - row->unix_ms;
    cJSON_AddNumberToObject(e, "age_ms", (double)(age > 0 ? age : 0));
    cJSON_AddStringToObject(e, "kind", row->kind);
    if (row->sweep_id) {
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)row->sweep_id);
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev->names, id));
        if (name)
            cJSON_AddStringToObject(e, "sweep", name);
    }
    cJSON_AddStringToObject(e, "detail", row->detail ? row->detail : "");
    cJSON_AddItemToArray(ev->list, e);
    return 0;
}

cJSON *coord_sched_status_db(coord_db_t *db, const char *sweep, int64_t now_unix_ms, int *err)
{
    assert(db);
    int dummy;
    if (!err)
        err = &dummy;
    cJSON *doc = cJSON_CreateObject();
    if (!doc) {
        *err = SW_ENOMEM;
        return NULL;
    }
    status_all_t all = {db, sweep, now_unix_ms, cJSON_AddObjectToObject(doc, "sweeps"), 0, false};
    int rc = coord_db_sweeps(db, NULL, s_status_sweep, &all);
    if (!rc)
        rc = all.rc;
    status_workers_t ws = {cJSON_AddArrayToObject(doc, "workers"), db, now_unix_ms};
    if (!rc && coord_db_workers(db, s_status_worker, &ws))
        rc = SW_EDB;
    status_events_t ev = {db, cJSON_AddObjectToObject(doc, "event_counts"),
                          cJSON_AddArrayToObject(doc, "events"), now_unix_ms, 0,
                          cJSON_CreateObject()};
    if (!rc && (!ev.names || coord_db_sweeps(db, NULL, s_sweep_name_of, ev.names)))
        rc = SW_EDB;
    if (!rc && sweep)
        rc = coord_db_sweeps(db, sweep, s_sweep_id_of, &ev.sweep_id) < 0 ? SW_EDB : 0;
    if (!rc && (coord_db_events(db, 0, NULL, s_count_event, &ev)
                || coord_db_events_recent(db, ev.sweep_id, S_STATUS_EVENTS, s_list_event, &ev)))
        rc = SW_EDB;
    cJSON_Delete(ev.names);
    if (!rc && sweep && !all.matched)
        rc = SW_EINVAL;
    if (rc) {
        cJSON_Delete(doc);
        *err = rc < 0 ? rc : SW_EDB;
        return NULL;
    }
    *err = 0;
    return doc;
}

cJSON *coord_sched_status(coord_sched_t *self, const char *sweep, int *err)
{
    assert(self);
    cJSON *doc = coord_sched_status_db(self->db, sweep, s_unix(), err);
    if (!doc)
        return NULL;
    /* heartbeat ages from memory (the store's last_seen is written at most once a second) */
    uint64_t now = s_now(self);
    cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(doc, "workers")) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(w, "id"));
        worker_t *mw = id ? s_worker_find(self, id) : NULL;
        if (mw)
            cJSON_ReplaceItemInObject(w, "last_heartbeat_age_ms",
                                      cJSON_CreateNumber((double)(now - mw->last_msg_ms)));
    }
    /* what each live worker can run, and sweeps no connected worker can run */
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(doc, "workers")) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(w, "id"));
        worker_t *mw = id ? s_worker_find(self, id) : NULL;
        if (!mw)
            continue;
        cJSON *refused = cJSON_AddArrayToObject(w, "refused_sweeps");
        for (size_t i = 0; i < mw->n_refused; i++)
            cJSON_AddItemToArray(refused, cJSON_CreateString(mw->refused[i]->spec->name));
        if (mw->trainers)
            cJSON_AddItemToObject(w, "trainers", cJSON_Duplicate(mw->trainers, 1));
        if (mw->commands)
            cJSON_AddItemToObject(w, "commands", cJSON_Duplicate(mw->commands, 1));
    }
    cJSON *sweeps = cJSON_GetObjectItem(doc, "sweeps");
    for (size_t i = 0; i < self->n_sweeps; i++) {
        sweep_t *sw = self->sweeps[i];
        cJSON *js = cJSON_GetObjectItemCaseSensitive(sweeps, sw->spec->name);
        if (!js || sw->state != S_RUNNING)
            continue;
        int alive = 0, able = 0;
        for (size_t k = 0; k < self->n_workers; k++) {
            if (!self->workers[k]->alive)
                continue;
            alive++;
            able += s_worker_can(self->workers[k], sw);
        }
        cJSON_AddNumberToObject(js, "workers_able", able);
        if (alive > 0 && able == 0) {
            const char *argv0 = NULL;
            const char *type = s_trainer_type(sw, &argv0);
            char why[400];
            snprintf(why, sizeof why, "no connected worker can run this sweep (trainer %s%s%.200s%s; "
                     "%d workers connected)", type, argv0 ? " '" : "", argv0 ? argv0 : "",
                     argv0 ? "'" : "", alive);
            cJSON_AddStringToObject(js, "warning", why);
        }
    }
    cJSON *c = cJSON_AddObjectToObject(doc, "coordinator");
    cJSON_AddNumberToObject(c, "results", (double)self->stats.results);
    cJSON_AddNumberToObject(c, "foreign_rejected", (double)self->stats.foreign);
    cJSON_AddNumberToObject(c, "duplicates", (double)self->stats.duplicates);
    cJSON_AddNumberToObject(c, "unknown_results", (double)self->stats.unknown_results);
    cJSON_AddNumberToObject(c, "assigned", (double)self->stats.assigned);
    cJSON_AddNumberToObject(c, "lost", (double)self->stats.lost);
    return doc;
}

cJSON *coord_sched_cancel_doc(const char *sweep, const coord_sched_cancel_t *c)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "sweep", sweep)
        || !cJSON_AddStringToObject(j, "state", "CANCELLED")
        || !cJSON_AddNumberToObject(j, "pending", (double)c->pending)
        || !cJSON_AddNumberToObject(j, "running", (double)c->running)
        || !cJSON_AddNumberToObject(j, "attempts", (double)c->attempts)
        || !cJSON_AddNumberToObject(j, "cancelled", (double)c->cancelled)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *coord_sched_resume_doc(const char *sweep, const coord_sched_resume_t *r)
{
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddStringToObject(j, "sweep", sweep)
        || !cJSON_AddStringToObject(j, "state", r->state)
        || !cJSON_AddStringToObject(j, "previous_state", r->previous_state)
        || !cJSON_AddNumberToObject(j, "reopened", (double)r->reopened)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}
