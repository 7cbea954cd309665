/*  trn_refit.h - verify the winner: retrain a sweep's best configuration on all tuning
 *  rows, score it on the held-out test rows, judge the fit, keep the model
 *
 *  The last step of the seed article's workflow. The sweep tuned on the tuning rows
 *  only (trainer.test_split held some rows out before any fold was dealt); refit trains
 *  the best parameters once more on all of the tuning rows (with the same
 *  validation_split, so early stopping behaves as in tuning), then scores the held-out
 *  rows, which no attempt ever trained or scored on. `sweepd refit` prints the result;
 *  the model goes to a sweepd-mlp file for `sweepd predict`.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TRN_REFIT_H
#define TRN_REFIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "worker/trn_fit.h"

/* How well the refit model fits (docs/TRAINER.md, "Refit and the verdict"). */
typedef enum {
    TRN_VERDICT_GOOD = 0,           /* train and held-out scores close, above baseline */
    TRN_VERDICT_OVERFIT,            /* train score well above the held-out score */
    TRN_VERDICT_UNDERFIT            /* even the train score is near the baseline */
} trn_verdict_t;

/* "good fit", "overfitting", "underfitting"; static string. */
const char *trn_verdict_name(trn_verdict_t verdict);

/* The thresholds of the verdict. */
#define TRN_OVERFIT_GAP_ACC   0.05  /* train accuracy - held-out accuracy above this */
#define TRN_UNDERFIT_SHARE    0.25  /* train accuracy below baseline + this share of
                                       (1 - baseline), baseline = majority class */
#define TRN_OVERFIT_GAP_R2    0.10  /* regression: train r2 - held-out r2 above this */
#define TRN_UNDERFIT_R2       0.25  /* regression: train r2 below this */

/* Judge a fit from TRAIN and HELDOUT scores (trn_metrics_score names without prefix;
 * HELDOUT: the test rows, else the validation rows or the CV mean) and MAJORITY (the
 * majority-class accuracy on the held-out rows; ignored for REGRESSION). Classification
 * uses accuracy: underfitting when train accuracy < MAJORITY + TRN_UNDERFIT_SHARE (1 -
 * MAJORITY), else overfitting when train - held-out accuracy > TRN_OVERFIT_GAP_ACC, else
 * a good fit; regression the same with r2 (TRN_UNDERFIT_R2, TRN_OVERFIT_GAP_R2). Writes
 * the figures behind it to REASON (REASONLEN bytes). */
trn_verdict_t trn_refit_verdict(bool regression, const trn_metrics_t *train,
                                const trn_metrics_t *heldout, double majority, char *reason,
                                size_t reasonlen);

/* What a refit found. */
typedef struct {
    trn_result_t fit;               /* the refit: fit.fit_scores are the train scores,
                                       fit.val_scores the validation split's, fit.eval_scores
                                       the held-out test rows' (fit.n_eval of them) */
    trn_metrics_t cv;               /* with CV: the mean over folds of each fold's final
                                       val_* scores, names without "val_" */
    bool has_cv;
    int n_tuning, n_test;           /* rows tuned on / held out */
    trn_verdict_t verdict;
    char reason[256];               /* the figures behind the verdict */
} trn_refit_t;

/* Refit CFG on DATA: train on all tuning rows (trn_fit_split_rows), score the test rows;
 * with CV non-NULL also run every fold as the tuning did and average their scores into
 * OUT->cv. The verdict compares the train scores with the test scores (or, without
 * test rows, with the CV mean, else the validation split). With MODEL_OUT the trained
 * model is returned (caller owns). Returns 0 or a code as trn_fit. */
int trn_refit(const trn_config_t *cfg, const trn_data_t *data, const trn_cv_t *cv,
              trn_refit_t *out, trn_model_t **model_out, char *err, size_t errlen);

/* `sweepd refit` without the printing: parse TRAINER + PARAMS (+ CV_JSON, may be NULL),
 * override the seed with *SEED when non-NULL, load the dataset and refit. The model's
 * info records the trainer object, the parameters, the scores and the verdict. Returns
 * 0, SW_EINVAL (configuration, ERR set), SW_EDATA / -errno (dataset, ERR set) or
 * SW_ENOMEM. */
int trn_refit_run(const cJSON *trainer, const cJSON *params, const cJSON *cv_json,
                  const uint64_t *seed, trn_refit_t *out, trn_model_t **model_out, char *err,
                  size_t errlen);

#endif
