/*  trn_fit.h - the built-in trainer: configuration, the Keras-style fit loop, early
 *  stopping, cross-validation folds, metrics and report lines
 *
 *  `sweepd train` is a thin layer over this header: it gets the spec's trainer object,
 *  the trial's parameters, the cv object and the fold, calls trn_run(), and forwards
 *  each report line to the worker. `sweepd validate` calls trn_config_check() to check
 *  an mlp trainer without reading its dataset. docs/TRAINER.md describes every field.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TRN_FIT_H
#define TRN_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "common/sw_err.h"
#include "worker/trn_data.h"
#include "worker/trn_metrics.h"
#include "worker/trn_mlp.h"
#include "worker/trn_model.h"

#define TRN_MAX_LAYERS   64         /* hidden layers at most */
#define TRN_MAX_UNITS    65536      /* width of a layer at most */

typedef enum { TRN_MODE_AUTO = 0, TRN_MODE_MIN, TRN_MODE_MAX } trn_mode_t;

/* Learning-rate schedules. */
typedef enum {
    TRN_SCHED_NONE = 0,
    TRN_SCHED_STEP,                 /* lr0 factor^floor(epoch / every), per epoch */
    TRN_SCHED_COSINE,               /* Keras CosineDecay, per step */
    TRN_SCHED_PLATEAU               /* Keras ReduceLROnPlateau, per epoch */
} trn_sched_kind_t;

/* The trainer's "lr_schedule" object (docs/TRAINER.md). */
typedef struct {
    trn_sched_kind_t kind;
    double factor;                  /* step: 0.5; plateau: 0.1 (multiplier, in (0, 1)) */
    int every;                      /* step: epochs between drops (10) */
    double alpha;                   /* cosine: final lr as a fraction of lr0 (0) */
    int decay_steps;                /* cosine: steps to decay over (0 = all of training) */
    char monitor[TRN_NAME_MAX];     /* plateau: metric (val_loss) */
    int patience;                   /* plateau: epochs without improvement (10) */
    double min_delta;               /* plateau: least improvement (1e-4) */
    int cooldown;                   /* plateau: epochs to wait after a reduction (0) */
    double min_lr;                  /* plateau: floor (0) */
    trn_mode_t mode;                /* plateau: auto | min | max */
} trn_schedule_t;

/* Keras' EarlyStopping settings. */
typedef struct {
    bool enabled;                   /* the trainer has an early_stopping object */
    char monitor[TRN_NAME_MAX];     /* metric name, default "val_loss" */
    int patience;                   /* epochs without improvement before stopping (0) */
    double min_delta;               /* least change that counts as improvement (0, >= 0) */
    trn_mode_t mode;                /* auto: max for accuracy-like metrics, else min */
    bool restore_best_weights;      /* end with the best epoch's weights (false) */
} trn_early_stop_t;

/* A complete trainer configuration (the trainer object with parameter overrides
 * applied and defaults filled in). Owns DATASET and TARGET_NAME. */
typedef struct {
    char *dataset;                  /* CSV path, relative to the working directory */
    trn_csv_opts_t csv;             /* header, delimiter, target (target_name borrowed
                                       from TARGET_NAME below) */
    char *target_name;              /* target column name or NULL */
    trn_task_t task;
    int n_hidden;                   /* hidden layers, 0..TRN_MAX_LAYERS */
    int hidden[TRN_MAX_LAYERS];     /* their widths */
    trn_act_t activation;           /* hidden activation */
    trn_act_t output_activation;
    trn_loss_t loss;
    trn_init_t init;                /* kernel_initializer (glorot_uniform) */
    double dropout[TRN_MAX_LAYERS]; /* dropout rate after each hidden layer (0) */
    double l2;                      /* L2 factor on kernels (0) */
    trn_opt_cfg_t opt;              /* optimizer, lr and its hyperparameters */
    trn_schedule_t schedule;        /* learning-rate schedule (none) */
    int batch_size;                 /* rows per step (32) */
    int epochs;                     /* passes over the training rows (10) */
    double validation_split;        /* last fraction of the training rows, [0, 1) */
    bool validation_stratified;     /* take the last fraction of each class instead */
    trn_impute_t impute;            /* missing feature values: error (none), mean, median */
    double test_split;              /* held-out test fraction, chosen before tuning (0) */
    uint64_t test_seed;             /* its seed (0) */
    bool test_stratified;           /* stratify it by class (true; not for regression) */
    bool shuffle;                   /* reshuffle the training rows each epoch (true) */
    bool standardize;               /* standardize features on training rows (true) */
    trn_early_stop_t early_stopping;
    uint64_t seed;                  /* weight init and shuffling */
} trn_config_t;

/* Cross-validation settings (the spec's "cv" object). */
typedef struct {
    int folds;                      /* k >= 2 */
    bool stratified;                /* by class for classification (default true) */
    uint64_t seed;                  /* fold assignment (default 0) */
} trn_cv_t;

/* Build CFG from TRAINER (an mlp trainer object) and PARAMS (a trial's parameters
 * object {name: value}, may be NULL), whose values override trainer fields (see
 * docs/TRAINER.md: batch_size, epochs, optimizer, lr, momentum, nesterov, activation,
 * validation_split, loss, units, units_1..units_k, hidden_layers, patience, ...).
 * Appends one "path: reason" message to ERRS per fault (paths "trainer.lr",
 * "params.units_3") and returns the number of faults; on 0 CFG is complete and owns
 * its strings (free with trn_config_clear, also after a failure). Reads no file. */
int trn_config_parse(trn_config_t *cfg, const cJSON *trainer, const cJSON *params,
                     sw_errs_t *errs);

/* Free the strings CFG owns; CFG may be parsed again. */
void trn_config_clear(trn_config_t *cfg);

/* Check an mlp trainer object for `sweepd validate`: the type and range of every
 * field (e.g. "trainer.layers[0]: must be an integer >= 1", "trainer.optimizer: unknown
 * optimizer 'adamx' (expected sgd, adam, rmsprop)"), and that every search-space
 * parameter in PARAMETERS (the spec's "parameters" object, may be NULL) names a setting
 * the trainer knows ("parameters.foo: the mlp trainer has no setting 'foo'"); a
 * categorical parameter's values and a numeric parameter's low/high are checked like the
 * field they set ("parameters.optimizer.values[1]: unknown optimizer 'adamx' ...").
 * Appends the messages to ERRS and returns their number. Does not read the dataset. */
int trn_config_check(const cJSON *trainer, const cJSON *parameters, sw_errs_t *errs);

/* Read the spec's "cv" object into CV (folds >= 2 required, stratified default true,
 * seed default 0). Appends "cv.folds: ..." messages; returns their number. */
int trn_cv_parse(const cJSON *cv_json, trn_cv_t *cv, sw_errs_t *errs);

/* Called once per epoch (STEP 1-based, FINAL false) and once at the end (STEP = the
 * number of epochs run, FINAL true). Returns 0 to go on, or a negative code that stops
 * the fit and is returned by it (e.g. -EPIPE when the report pipe is gone). */
typedef int (trn_report_fn)(void *arg, int step, bool final, const trn_metrics_t *metrics);

/* What a fit did. */
typedef struct {
    trn_metrics_t final;            /* the final metrics, as reported */
    int epochs_run;                 /* epochs completed */
    int best_epoch;                 /* 1-based epoch of the monitored best, 0 without
                                       early stopping */
    bool stopped_early;
    int n_fit, n_val, n_eval;       /* rows: optimizer steps, validation split, scored
                                       at the end (the held-out fold or test rows) */
    trn_metrics_t fit_scores;       /* the final model's scores on the N_FIT rows */
    trn_metrics_t val_scores;       /* ... on the validation rows (when N_VAL > 0) */
    trn_metrics_t eval_scores;      /* ... on the held-out rows (when N_EVAL > 0) */
    double majority;                /* classification: accuracy of always predicting the
                                       training rows' most frequent class, on the held-out
                                       rows (else on the validation rows); NAN otherwise */
} trn_result_t;

/* Train CFG's network on DATA, Keras-style:
 *  - rows: the tuning rows (all of DATA, less the held-out test rows when
 *    cfg->test_split > 0: those are never trained on or scored here), or with CV
 *    (non-NULL) the tuning rows of every fold except FOLD (0 <= FOLD < k), the folds
 *    being dealt over the tuning rows;
 *  - validation_split: the last fraction floor-cut of those rows, before any shuffle
 *    (Keras: split_at = floor(n (1 - split))), or of each class's rows with
 *    validation_stratified;
 *  - imputation and standardization fitted on the remaining training rows only;
 *  - each epoch: shuffle (seeded), batches of batch_size (the last one smaller), one
 *    optimizer step each (with dropout masks from the seeded generator); the epoch's
 *    train metrics (loss, accuracy, precision, ... see trn_metrics_score) are computed
 *    from each batch's outputs before its step, as Keras' stateful metrics, the val_*
 *    metrics over the validation rows after the epoch; "lr" too with a schedule;
 *  - learning-rate schedule, EarlyStopping with Keras 3 semantics
 *    (keras/src/callbacks/early_stopping.py);
 *  - final metrics: those of the last epoch (of the best one when its weights were
 *    restored); with CV the val_* metrics are instead the model's scores on fold FOLD.
 * REPORT (may be NULL) sees every epoch and the final metrics; RESULT (may be NULL)
 * receives them too. Deterministic: the same CFG (seed), DATA, CV and FOLD give
 * bit-identical metrics.
 * Returns 0; SW_EDATA with ERR set for data the configuration cannot use (a label that
 * is not 0 or 1, a split that leaves no rows); SW_EINVAL for a fold out of range;
 * SW_ENOMEM; or REPORT's negative code. */
int trn_fit(const trn_config_t *cfg, const trn_data_t *data, const trn_cv_t *cv, int fold,
            trn_report_fn *report, void *arg, trn_result_t *result, char *err, size_t errlen);

/* Load CFG's dataset with the options the configuration implies: its csv settings, text
 * labels allowed for classification, missing cells read as NaN when cfg->impute is set.
 * As trn_data_load. */
trn_data_t *trn_config_load_data(const trn_config_t *cfg, char *err, size_t errlen, int *code_out);

/* The rows a sweep tunes on: every row of DATA except the held-out test rows
 * (cfg->test_split, trn_holdout_assign with test_seed, stratified by class unless
 * test_stratified is false or the task is regression). Fills TUNING (N_ROWS ints) and
 * TEST (N_ROWS ints) with row indices in file order and their counts. Returns 0, or
 * SW_EDATA with ERR set (bad labels, a split that leaves no rows), SW_ENOMEM. */
int trn_fit_split_rows(const trn_config_t *cfg, const trn_data_t *data, int *tuning,
                       int *n_tuning, int *test, int *n_test, char *err, size_t errlen);

/* The core of every fit: train on TRAIN_ROWS (N_TRAIN row indices of DATA; the
 * validation split is cut from their end), then score EVAL_ROWS (N_EVAL, may be 0) into
 * RESULT->eval_scores, as trn_fit describes. With EVAL_AS_VAL the final metrics' val_*
 * are the EVAL rows' scores (cross-validation). With MODEL_OUT non-NULL the trained
 * model (network, imputer, scaler, classes) is returned there (caller owns;
 * trn_model_destroy). Same returns as trn_fit. */
int trn_fit_rows(const trn_config_t *cfg, const trn_data_t *data, const int *train_rows,
                 int n_train, const int *eval_rows, int n_eval, bool eval_as_val,
                 trn_report_fn *report, void *arg, trn_result_t *result,
                 trn_model_t **model_out, char *err, size_t errlen);

/* Parse TRAINER (the spec's trainer object) with PARAMS (the trial's parameters,
 * may be NULL) into *CFG, CV_JSON (may be NULL) into *CV, apply SEED (NULL: the
 * trainer's), and load the dataset into *DATA: the prologue shared by a training
 * run and a refit. Returns 0 with *CFG and *DATA owned by the caller (free with
 * trn_config_clear and trn_data_destroy); or SW_EINVAL with every configuration
 * fault joined by "; " in ERR, or the dataset loader's code (-ENOENT, SW_EDATA,
 * ...) with its row/column message in ERR; then nothing needs freeing. */
int trn_setup(const cJSON *trainer, const cJSON *params, const cJSON *cv_json,
              const uint64_t *seed, trn_config_t *cfg, trn_cv_t *cv, trn_data_t **data,
              char *err, size_t errlen);

/* The whole run of `sweepd train`: parse TRAINER + PARAMS (+ CV_JSON and FOLD when
 * CV_JSON is non-NULL; FOLD < 0 means no cross-validation), override the seed with
 * *SEED when SEED is non-NULL, load the dataset, fit, report. Sets OpenBLAS to one
 * thread (trials run side by side; a thread per trial is the right grain).
 * Returns 0; SW_EINVAL (configuration error) or SW_EDATA (dataset error) with the
 * message in ERR; -errno when the dataset cannot be read (ERR set); SW_ENOMEM; or
 * REPORT's negative code. */
int trn_run(const cJSON *trainer, const cJSON *params, const cJSON *cv_json, int fold,
            const uint64_t *seed, trn_report_fn *report, void *arg, trn_result_t *result,
            char *err, size_t errlen);

#endif
