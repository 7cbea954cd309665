/*  coord_sampler.h - samplers: propose the parameters of the next trial
 *
 *  A sampler turns a sweep's search space (sw_spec_t) into configurations. Every
 *  sampler is a pure function of (spec, trial number, stored history): it keeps no
 *  state that is not derived from those, so a coordinator restarted on the same
 *  database proposes exactly what an uninterrupted one would have (ARCHITECTURE.md,
 *  guarantee 3).
 *
 *    grid    trial number n is grid point n, decoded in mixed radix over the
 *            parameters sorted by name, the last name varying fastest (as
 *            scikit-learn's ParameterGrid); exhausted after sw_spec_grid_size() points.
 *    random  trial n draws from its own stream sw_rng_seed2(spec->seed, n), so the
 *            proposal of trial n does not depend on how many workers asked, or when.
 *    tpe     Bergstra et al. 2011, from the history (coordinator/coord_tpe.h); its
 *            startup trials are the random sampler's, drawn by coord_sampler_draw().
 *
 *  On a finite space (every parameter categorical, int or stepped float) random and
 *  tpe never propose a configuration the history already holds (finished, running
 *  or pending): a duplicate is replaced by the first unseen configuration among 64
 *  further random streams of the same trial, then in grid order; once the history
 *  holds every configuration, propose reports SW_EEXHAUSTED and the sweep ends.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef COORD_SAMPLER_H
#define COORD_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "common/sw_rng.h"
#include "common/sw_spec.h"

/* What a model-based sampler may read of one earlier trial. */
typedef struct {
    int64_t number;         /* trial number in the sweep */
    const cJSON *params;    /* JSON object: name -> value (borrowed) */
    const double *x;        /* optional numeric view of PARAMS (borrowed): spec->n_params
                               values in spec order, exactly as coord_sampler_view()
                               fills them from PARAMS; NULL: samplers read PARAMS.
                               Holders of a long history fill it once per trial so
                               that TPE never walks JSON when proposing; either way
                               the proposal is the same, bit for bit */
    bool finished;          /* COMPLETE or PRUNED: VALUE is meaningful */
    bool pruned;            /* PRUNED (VALUE is its last reported value) */
    bool failed;            /* FAILED or CANCELLED: no value. Model-based samplers leave
                               it out of their model (it is neither a result nor pending);
                               it stays in the history so that a finite space does not
                               propose its configuration again */
    double value;           /* objective value (mean over folds); NAN when none */
} coord_sampler_trial_t;

typedef struct coord_sampler coord_sampler_t;

/* New sampler for SPEC (borrowed: must outlive the sampler). Caller owns the result;
 * NULL when the spec's method is not supported, when a grid spec is not enumerable,
 * when the tpe options (spec->sampler) are bad, or on OOM. */
coord_sampler_t *coord_sampler_new(const sw_spec_t *spec);

/* Like coord_sampler_new(), appending one "sampler.KEY: reason" message per bad
 * option to ERRS (may be NULL). */
coord_sampler_t *coord_sampler_new_errs(const sw_spec_t *spec, sw_errs_t *errs);

/* One random draw of PARAM from RNG, typed by domain (see coord_sampler_propose,
 * random): the one draw function of the random sampler and of TPE's startup
 * trials, so that the two cannot drift apart. Returns a new cJSON value (caller
 * owns) or NULL on OOM. */
cJSON *coord_sampler_draw(const sw_param_t *param, sw_rng_t *rng);

/* The numeric view of a trial's PARAMS (a JSON object, or NULL) for
 * coord_sampler_trial_t.x: writes X[0..spec->n_params), one value per parameter in
 * spec order. int and float: the member's number as stored (its own units, no log
 * taken, no range check); categorical: the index (0-based, as listed in the spec) of
 * the first listed value equal to the member (sw_json_equal); NAN when the member
 * is absent, not a number (int, float) or not a listed value (categorical). A name
 * given twice counts its last member; names not in the spec are ignored. O(members
 * log n_params) with no allocation; X is caller-owned. */
void coord_sampler_view(const sw_spec_t *spec, const cJSON *params, double *x);

/* Free and set *SELF_P to NULL; NULL is fine. */
void coord_sampler_destroy(coord_sampler_t **self_p);

/* Number of configurations a finite sampler can propose (grid: the grid's size), or
 * -1 when unbounded (random, tpe). */
int64_t coord_sampler_size(const coord_sampler_t *self);

/* Propose the parameters of trial NUMBER (0-based; trials are numbered in creation
 * order). HISTORY holds the sweep's earlier trials (N_HISTORY entries, any order;
 * grid and random ignore it). Returns a new JSON object name -> value whose value
 * types follow the domain (int: integral number; float: number; categorical: a copy
 * of the listed JSON value), caller owns. tpe: see coord_tpe_propose() for how the
 * history is read (finished = observation; unfinished = constant liar). A conditional parameter whose `when` is
 * not satisfied is absent from the object (see sw_spec_active). On success *ERR
 * (may be NULL) is 0; on failure NULL with *ERR set to SW_EEXHAUSTED (a finite
 * space has no point NUMBER, including NUMBER < 0; random and tpe: every
 * configuration of a finite space is in HISTORY), SW_EINVAL (random, tpe: NUMBER < 0)
 * or SW_ENOMEM.
 *   grid:   point NUMBER of sw_spec_grid_point(); values from sw_param_grid_value().
 *   random: one xoshiro256** stream per trial, sw_rng_seed2(spec->seed, NUMBER);
 *           every parameter is drawn in name order (active or not), then the
 *           inactive ones are dropped. float: uniform on [low, high], or
 *           log-uniform with log; with step, uniform over the lattice points.
 *           int: uniform over low..high by step; with log, uniform in log space
 *           over [low - 0.5, high + 0.5] then rounded and clamped (as Optuna's
 *           IntDistribution). categorical: uniform over the listed values. */
cJSON *coord_sampler_propose(coord_sampler_t *self, int64_t number,
                             const coord_sampler_trial_t *history, size_t n_history,
                             int *err);

#endif
