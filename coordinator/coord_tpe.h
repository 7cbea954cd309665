/*  coord_tpe.h - the Tree-structured Parzen Estimator sampler
 *
 *  TPE (Bergstra, Bardenet, Bengio & Kegl, "Algorithms for Hyper-Parameter
 *  Optimization", NeurIPS 2011, section 4) with the components and defaults of
 *  Optuna's TPESampler as analysed by Watanabe ("Tree-Structured Parzen Estimator:
 *  Understanding Its Algorithm Components and Their Roles for Better Empirical
 *  Performance", 2023): the finished trials are split into a good set (the best
 *  gamma(n) = min(ceil(gamma n), 25)) and a bad set; each set gets a Parzen
 *  estimator (a weighted mixture of truncated normals, or of categorical kernels,
 *  plus a prior component); n_ei_candidates points are drawn from the good
 *  estimator l and the one maximising log l(x) - log g(x) is proposed. Defaults are
 *  Optuna 3.1's except four, chosen on tuning seeds (docs/SAMPLERS.md, "Choosing
 *  the defaults"): prior_weight 8 (Optuna: 1), gamma 0.12 (0.1), uniform weights
 *  (Optuna's ramp) and a Latin hypercube for the startup trials (McKay, Beckman &
 *  Conover, Technometrics 1979; Optuna: random); "estimator": "optuna4" selects
 *  Optuna 4's Parzen estimator.
 *  With multivariate = true the always-active parameters share joint kernels
 *  (Falkner, Klein & Hutter, "BOHB", ICML 2018; Optuna's multivariate=True).
 *  docs/SAMPLERS.md describes the algorithm, every option and its default.
 *
 *  Like every sampler (coord_sampler.h) a proposal is a pure function of the spec,
 *  the trial number and the history taken as a set: the same inputs give
 *  bit-identical output, whatever the order of HISTORY, so a resumed sweep
 *  proposes what an uninterrupted one would have.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef COORD_TPE_H
#define COORD_TPE_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "common/sw_err.h"
#include "common/sw_spec.h"
#include "coordinator/coord_sampler.h"

typedef struct coord_tpe coord_tpe_t;

/* New TPE sampler for SPEC (borrowed: must outlive the sampler). Reads the options
 * of spec->sampler (NULL = every default), an object such as
 *     {"type": "tpe", "n_startup_trials": 10, "n_ei_candidates": 24, "gamma": 0.12,
 *      "multivariate": false, "prior_weight": 8.0, "constant_liar": true}
 * read through sw_spec_tpe_options() (common/sw_spec.h: the one copy of the rules,
 * which sw_spec_parse applies too; also consider_endpoints, estimator, weights and
 * startup).
 * Returns the sampler (caller owns; free with coord_tpe_destroy), or NULL when an
 * option is bad or unknown, in which case one message per fault was appended to
 * ERRS ("sampler.n_ei_candidates: must be an integer >= 1"; ERRS may be NULL), or
 * on OOM (no message). */
coord_tpe_t *coord_tpe_new(const sw_spec_t *spec, sw_errs_t *errs);

/* Free the sampler and set *SELF_P to NULL; NULL or an already freed pointer is
 * fine. */
void coord_tpe_destroy(coord_tpe_t **self_p);

/* Propose the parameters of trial NUMBER (>= 0).
 * HISTORY: N_HISTORY earlier trials in any order (borrowed); an entry's numeric view
 * (x) is read when present, its params otherwise, with the same result. Entries whose number is
 * >= NUMBER are ignored. An entry with finished = true (COMPLETE, or PRUNED with its
 * last reported value) is an observation; one with finished = false is a RUNNING or
 * PENDING trial, counted as a worst-ranked observation when constant_liar is on and
 * ignored otherwise. Leave FAILED and CANCELLED trials out. Trial numbers must be
 * unique. Ranking, best first: COMPLETE trials by objective value (spec->direction),
 * then PRUNED trials by their last value, then trials whose value is NaN or
 * infinite, then running ones; only the first two classes can enter the good set.
 * Until n_startup_trials trials are finished, the proposal is exactly what the
 * random sampler (coord_sampler.c) proposes for NUMBER.
 * Returns a new JSON object name -> value holding the active parameters (a
 * parameter whose `when` is not met by the others is absent), typed as
 * coord_sampler_propose() describes (caller owns; cJSON_Delete); or NULL with
 * *ERR set to SW_EINVAL (NUMBER < 0) or SW_ENOMEM. *ERR is 0 on success; ERR may
 * be NULL. Not thread-safe on one SELF (it keeps scratch buffers); cost O(n log n)
 * in the history size with small constants (see docs/SAMPLERS.md for figures). */
cJSON *coord_tpe_propose(coord_tpe_t *self, int64_t number, const coord_sampler_trial_t *history,
                         size_t n_history, int *err);

#endif
