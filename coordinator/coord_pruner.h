/*  coord_pruner.h - pruners: stop hopeless trials early from intermediate values
 *
 *  A pruner reads the intermediate reports of running attempts ("step" and the
 *  metrics object of a REPORT) and the outcomes of finished trials, and answers
 *  each report with continue or prune. It is a pure in-memory module: no sockets,
 *  no store. After a coordinator restart its state is rebuilt by replaying the
 *  stored reports (coord_pruner_replay) and outcomes (coord_pruner_finish) in the
 *  order they were stored; decisions only depend on that sequence.
 *
 *  Types (spec "pruner" object; absent = none):
 *    none       never prunes.
 *    median     Golovin et al., "Google Vizier", KDD 2017, section 3.2.2 (median
 *               stopping rule), as Optuna's MedianPruner: at step s, once
 *               n_startup_trials (5) trials are COMPLETE and s >= n_warmup_steps (0),
 *               prune when the trial's best value so far is worse than the median of
 *               the COMPLETE trials' values at step s (same fold). Options:
 *               n_startup_trials, n_warmup_steps, interval_steps (1).
 *    asha       Li et al., "A System for Massively Parallel Hyperparameter Tuning",
 *               MLSys 2020 (asynchronous successive halving), as Optuna's
 *               SuccessiveHalvingPruner: rung k sits at step min_resource *
 *               reduction_factor^(k + min_early_stopping_rate); a trial reaching a
 *               rung records its value there and continues only when that value is
 *               in the top 1/reduction_factor of the rung's values so far (the first
 *               reduction_factor - 1 arrivals: only when best). Rungs stop below
 *               max_resource (absent: unbounded). Options: min_resource (1; alias
 *               min_step), reduction_factor (3), max_resource, min_early_stopping_rate (0).
 *    hyperband  Li et al., "Hyperband", JMLR 2018: brackets b = 0 .. B-1 with
 *               B = floor(log_eta(max_resource / min_resource)) + 1, bracket b being
 *               ASHA with min_early_stopping_rate b; each trial joins one bracket,
 *               chosen from its number with the bracket sizes of the paper
 *               (n_s = ceil(B / (s + 1)) eta^s) as weights; rungs compare trials of
 *               the same bracket. Options: min_resource, max_resource (required),
 *               reduction_factor.
 *  Every type also takes "metric" (the monitored metric; default the objective's)
 *  and "direction" (required when "metric" differs from the objective's metric;
 *  otherwise the objective's direction), and "folds": true to enable fold pruning
 *  (coord_pruner_fold). A value that is NaN or infinite is the worst possible
 *  value: it is never kept as a trial's best and a trial reporting one is pruned
 *  once past the startup/warm-up conditions. A report without the monitored metric
 *  is answered continue and not recorded.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef COORD_PRUNER_H
#define COORD_PRUNER_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "common/sw_err.h"
#include "common/sw_spec.h"

typedef struct coord_pruner coord_pruner_t;

/* How a trial ended, for coord_pruner_finish(). */
typedef enum {
    COORD_PRUNER_COMPLETE,
    COORD_PRUNER_PRUNED,
    COORD_PRUNER_FAILED
} coord_pruner_outcome_t;

/* New pruner for SPEC (borrowed: must outlive the pruner), from spec->pruner (NULL:
 * type none), read through sw_spec_pruner_options() (common/sw_spec.h: the one copy
 * of the rules, which sw_spec_parse applies too; reduction_factor may be any number
 * > 1). Returns the pruner (caller owns; coord_pruner_destroy) or NULL when
 * the pruner object is bad, with one "pruner.KEY: reason" message per fault
 * appended to ERRS (may be NULL), or on OOM (no message). */
coord_pruner_t *coord_pruner_new(const sw_spec_t *spec, sw_errs_t *errs);

/* Free and set *SELF_P to NULL; NULL is fine. */
void coord_pruner_destroy(coord_pruner_t **self_p);

/* A REPORT of TRIAL (number >= 0), FOLD (-1 without folds, else 0..k-1) at STEP
 * (>= 0; the epoch) with METRICS (JSON object, borrowed): records the monitored
 * value and returns true when the attempt should be pruned. Reports may repeat a
 * step (the later value replaces the earlier). A trial already finished or pruned
 * gets false. This is the body of the scheduler's coord_sched_prune_fn. */
bool coord_pruner_report(coord_pruner_t *self, int64_t trial, int fold, int64_t step,
                         const cJSON *metrics);

/* Replay a stored report after a restart: records it exactly as
 * coord_pruner_report() did (rung arrivals included) and returns the decision it
 * gives now, which the caller may ignore. Same arguments. */
bool coord_pruner_replay(coord_pruner_t *self, int64_t trial, int fold, int64_t step,
                         const cJSON *metrics);

/* TRIAL ended with OUTCOME; VALUE is its objective value (mean over folds; NAN when
 * none). COMPLETE trials become the median pruner's reference. Idempotent. */
void coord_pruner_finish(coord_pruner_t *self, int64_t trial, coord_pruner_outcome_t outcome,
                         double value);

/* Fold pruning: FOLD of TRIAL (k folds in all) finished with objective VALUE.
 * Returns true when the trial's remaining folds should not run: fold pruning is on
 * ("folds": true), at least n_startup_trials trials (median's option, default 5)
 * are COMPLETE with every fold, fewer than K folds of TRIAL are done, and the mean
 * of TRIAL's finished folds is worse (objective direction) than the median of the
 * COMPLETE trials' means over the same folds, or is NaN/infinite. The trial is then
 * to be recorded PRUNED with that mean as its last value (Bergstra-style early
 * stopping across folds, as in Optuna's pruning of cross-validated objectives). */
bool coord_pruner_fold(coord_pruner_t *self, int64_t trial, int fold, int k, double value);

/* Number of rung arrivals recorded so far (asha, hyperband), for tests and status. */
int64_t coord_pruner_rung_count(const coord_pruner_t *self, int bracket, int rung);

/* The bracket of TRIAL (hyperband; 0 for the other types). */
int coord_pruner_bracket(const coord_pruner_t *self, int64_t trial);

#endif
