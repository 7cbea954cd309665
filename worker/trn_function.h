/*  trn_function.h - the function trainer: a standard test function as a "training run"
 *
 *  For benchmarks and tests of samplers and pruners without a network: the trainer
 *  object {"type": "function", "name": "branin", "dims": N, "steps": S, "noise": SD,
 *  "seed": K} evaluates the named function of common/sw_testfn.h (branin, hartmann6,
 *  rosenbrock, ackley, styblinski_tang, levy) at the trial's parameters x1..xN (or
 *  x0..x{N-1}) and reports it as the metric "value" (to be minimised). With STEPS > 0
 *  it first reports S intermediate values v_s = f + (1 + |f|) (S - s) / S, s = 1..S,
 *  which decrease to the final one, so pruners can be exercised; NOISE > 0 adds a
 *  normal deviate of that standard deviation to every reported value, drawn from a
 *  stream seeded by (seed, step).
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TRN_FUNCTION_H
#define TRN_FUNCTION_H

#include <stddef.h>

#include <cJSON.h>

#include "worker/trn_fit.h"

/* Run the function trainer TRAINER (the spec's trainer object, borrowed) on PARAMS
 * (the trial's parameters object, borrowed). Calls REPORT(ARG, s, false, m) for
 * s = 1..steps and REPORT(ARG, steps, true, m) once at the end (steps 0: step 0),
 * each M holding "value". Returns 0; -1 with a "trainer.name: ..." or "params.x3:
 * ..." message in ERR (ERRLEN bytes) on a bad trainer object or missing or
 * non-numeric parameter; or the negative code REPORT returned (the run stops). */
int trn_function_run(const cJSON *trainer, const cJSON *params, trn_report_fn *report, void *arg,
                     char *err, size_t errlen);

#endif
