/*  trn_metrics.h - the built-in trainer's metrics: the ordered name -> value map that
 *  report lines carry, and the scores computed from a model's outputs
 *
 *  Classification reports accuracy, precision, recall, f1, auc and log_loss beside the
 *  loss; regression reports mse, mae and r2. The same names with a "val_" prefix are the
 *  validation rows' scores, so any of them can be an objective or an early-stopping or
 *  learning-rate monitor.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TRN_METRICS_H
#define TRN_METRICS_H

#include <stdbool.h>

#define TRN_METRICS_MAX  32         /* metrics in one report */
#define TRN_NAME_MAX     48         /* metric name length, NUL included */

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

/* Whether NAME (with or without "val_") is a metric the trainer reports for a
 * classification (REGRESSION false) or regression task: loss, accuracy, precision,
 * recall, f1, auc, log_loss / loss, mse, mae, r2; "lr" too when a learning-rate
 * schedule is set (HAS_LR). */
bool trn_metrics_known(const char *name, bool regression, bool has_lr);

/* Whether larger is better for NAME (accuracy, precision, recall, f1, auc, r2, with or
 * without "val_"): EarlyStopping's and ReduceLROnPlateau's mode "auto". */
bool trn_metrics_higher_better(const char *name);

/* Add the scores of N rows to M, each name prefixed with PREFIX ("" or "val_"):
 *   OUT   N x K network outputs (probabilities for classification, values otherwise);
 *   Y     N x K targets as the network sees them (0/1 for K = 1 classification, one-hot
 *         rows for K > 1, values for regression);
 *   LOSS  the mean loss to report as "loss" (the caller's, with any L2 penalty).
 * Classification (REGRESSION false): accuracy (K = 1: p > 0.5, Keras' binary_accuracy;
 * else argmax), precision, recall and f1 of the positive class at p > 0.5 (K = 1) or
 * macro-averaged over the classes (K > 1; a class never predicted has precision 0, as
 * scikit-learn's zero_division=0), auc (ROC AUC, exact: the Mann-Whitney statistic with
 * ties counted half, as scikit-learn's roc_auc_score; for K > 1 the macro one-vs-rest
 * mean over classes present; left out when only one class is present) and log_loss
 * (mean cross-entropy with probabilities clipped to [1e-7, 1 - 1e-7], no penalty).
 * Regression: mse, mae and r2 (1 - SS_res / SS_tot; left out when Y is constant).
 * Returns 0 or SW_ENOMEM (the AUC sorts a copy). */
int trn_metrics_score(trn_metrics_t *m, const char *prefix, bool regression, int k,
                      const double *out, const double *y, int n, double loss);

#endif
