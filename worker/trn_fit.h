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
#include "worker/trn_mlp.h"

#define TRN_MAX_LAYERS   64         /* hidden layers at most */
#define TRN_MAX_UNITS    65536      /* width of a layer at most */
#define TRN_METRICS_MAX  32         /* metrics in one report */
#define TRN_NAME_MAX     48         /* metric name length, NUL included */

typedef enum {
    TRN_TASK_BINARY = 0,            /* one sigmoid output, labels 0 or 1 */
    TRN_TASK_MULTICLASS,            /* softmax over the distinct integer labels */
    TRN_TASK_REGRESSION             /* one linear output, any number */
} trn_task_t;

typedef enum { TRN_MODE_AUTO = 0, TRN_MODE_MIN, TRN_MODE_MAX } trn_mode_t;

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
    trn_opt_cfg_t opt;              /* optimizer, lr and its hyperparameters */
    int batch_size;                 /* rows per step (32) */
    int epochs;                     /* passes over the training rows (10) */
    double validation_split;        /* last fraction of the training rows, [0, 1) */
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

/* A small ordered name -> value map of metrics, as reported. */
typedef struct {
    int n;
    char name[TRN_METRICS_MAX][TRN_NAME_MAX];
    double value[TRN_METRICS_MAX];
} trn_metrics_t;

/* Set NAME to VALUE (added at the end when new; ignored when the map is full). */
void trn_metrics_set(trn_metrics_t *m, const char *name, double value);

/* Value of NAME, or NULL when absent (borrowed pointer into M). */
const double *trn_metrics_get(const trn_metrics_t *m, const char *name);

/* Report line for M without the newline: {"step": STEP, "metrics": {...}}, or with FINAL
 * {"final": true, "metrics": {...}}. Caller frees; NULL when out of memory. */
char *trn_metrics_json(const trn_metrics_t *m, int step, bool final);

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
} trn_result_t;

/* Train CFG's network on DATA, Keras-style:
 *  - rows: all of DATA, or with CV (non-NULL) every fold except FOLD (0 <= FOLD < k);
 *  - validation_split: the last fraction floor-cut of those rows, before any shuffle
 *    (Keras: split_at = floor(n (1 - split)));
 *  - standardization fitted on the remaining training rows only;
 *  - each epoch: shuffle (seeded), batches of batch_size (the last one smaller), one
 *    optimizer step each; epoch metrics loss and accuracy are the sample-weighted mean
 *    over the epoch's batches computed before each step (as Keras' progress logs),
 *    val_loss and val_accuracy over the validation rows after the epoch;
 *  - EarlyStopping with Keras 3 semantics (keras/src/callbacks/early_stopping.py);
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
