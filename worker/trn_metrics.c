/*  trn_metrics.c - the built-in trainer's metric map, report lines and scores
 *
 *  Scores are computed from a whole set of outputs at once (an epoch's batch outputs,
 *  or a pass over validation or held-out rows), as Keras' stateful metrics accumulate
 *  them over batches. ROC AUC is exact (sorting), not Keras' 200-threshold
 *  approximation, so it matches scikit-learn's roc_auc_score.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/trn_metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "common/sw_err.h"
#include "worker/trn_mlp.h"

void trn_metrics_set(trn_metrics_t *m, const char *name, double value)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->name[i], name) == 0) {
            m->value[i] = value;
            return;
        }
    if (m->n == TRN_METRICS_MAX)
        return;
    snprintf(m->name[m->n], TRN_NAME_MAX, "%s", name);
    m->value[m->n++] = value;
}

const double *trn_metrics_get(const trn_metrics_t *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->name[i], name) == 0)
            return &m->value[i];
    return NULL;
}

char *trn_metrics_json(const trn_metrics_t *m, int step, bool final)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *mj = cJSON_CreateObject();
    char *text = NULL;
    if (!root || !mj) {
        cJSON_Delete(root);
        cJSON_Delete(mj);
        return NULL;
    }
    if (final)
        cJSON_AddTrueToObject(root, "final");
    else
        cJSON_AddNumberToObject(root, "step", step);
    cJSON_AddItemToObject(root, "metrics", mj);
    for (int i = 0; i < m->n; i++)
        cJSON_AddNumberToObject(mj, m->name[i], m->value[i]);
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static const char *s_base(const char *name)
{
    return strncmp(name, "val_", 4) == 0 ? name + 4 : name;
}

bool trn_metrics_known(const char *name, bool regression, bool has_lr)
{
    static const char *const cls[] = {"loss", "accuracy", "precision", "recall", "f1", "auc",
                                      "log_loss", NULL};
    static const char *const reg[] = {"loss", "mse", "mae", "r2", NULL};
    if (has_lr && strcmp(name, "lr") == 0)
        return true;
    const char *b = s_base(name);
    for (const char *const *p = regression ? reg : cls; *p; p++)
        if (strcmp(b, *p) == 0)
            return true;
    return false;
}

bool trn_metrics_higher_better(const char *name)
{
    const char *b = s_base(name);
    return strcmp(b, "accuracy") == 0 || strcmp(b, "auc") == 0 || strcmp(b, "precision") == 0 ||
           strcmp(b, "recall") == 0 || strcmp(b, "f1") == 0 || strcmp(b, "r2") == 0;
}

typedef struct {
    double score;
    int pos;
} s_pair_t;

static int s_cmp_pair(const void *a, const void *b)
{
    double x = ((const s_pair_t *)a)->score, y = ((const s_pair_t *)b)->score;
    return (x > y) - (x < y);
}

/* ROC AUC of scores P (stride K, column C) against positives POS(r); NAN with one class.
 * Mann-Whitney: (sum of positives' ranks - P(P+1)/2) / (P N), tied scores share their
 * mean rank. */
static double s_auc(s_pair_t *pairs, int n)
{
    qsort(pairs, (size_t)n, sizeof *pairs, s_cmp_pair);
    double rank_sum = 0.0;
    long n_pos = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && pairs[j].score == pairs[i].score)
            j++;
        double mean_rank = 0.5 * (double)(i + 1 + j);      /* ranks i+1 .. j */
        for (int t = i; t < j; t++)
            if (pairs[t].pos) {
                rank_sum += mean_rank;
                n_pos++;
            }
        i = j;
    }
    long n_neg = n - n_pos;
    if (n_pos == 0 || n_neg == 0)
        return NAN;
    return (rank_sum - 0.5 * (double)n_pos * (double)(n_pos + 1)) / ((double)n_pos * (double)n_neg);
}

static void s_set(trn_metrics_t *m, const char *prefix, const char *name, double v)
{
    char full[TRN_NAME_MAX];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    trn_metrics_set(m, full, v);
}

static double s_clip(double p)
{
    return p < 1e-7 ? 1e-7 : p > 1.0 - 1e-7 ? 1.0 - 1e-7 : p;
}

int trn_metrics_score(trn_metrics_t *m, const char *prefix, bool regression, int k,
                      const double *out, const double *y, int n, double loss)
{
    s_set(m, prefix, "loss", loss);
    if (n <= 0)
        return 0;
    if (regression) {
        double se = 0.0, ae = 0.0, mean = 0.0, tot = 0.0;
        size_t len = (size_t)n * (size_t)k;
        for (size_t i = 0; i < len; i++) {
            double d = out[i] - y[i];
            se += d * d;
            ae += fabs(d);
            mean += y[i];
        }
        mean /= (double)len;
        for (size_t i = 0; i < len; i++)
            tot += (y[i] - mean) * (y[i] - mean);
        s_set(m, prefix, "mse", se / (double)len);
        s_set(m, prefix, "mae", ae / (double)len);
        if (tot > 0.0)
            s_set(m, prefix, "r2", 1.0 - se / tot);
        return 0;
    }
    s_pair_t *pairs = malloc((size_t)n * sizeof *pairs);
    if (!pairs)
        return SW_ENOMEM;
    long correct = 0;
    double ll = 0.0;
    if (k == 1) {
        long tp = 0, fp = 0, fn = 0;
        for (int r = 0; r < n; r++) {
            bool pred = out[r] > 0.5, truth = y[r] > 0.5;
            correct += pred == truth;
            tp += pred && truth;
            fp += pred && !truth;
            fn += !pred && truth;
            double p = s_clip(out[r]);
            ll -= truth ? log(p) : log(1.0 - p);
            pairs[r].score = out[r];
            pairs[r].pos = truth;
        }
        double prec = tp + fp ? (double)tp / (double)(tp + fp) : 0.0;
        double rec = tp + fn ? (double)tp / (double)(tp + fn) : 0.0;
        s_set(m, prefix, "accuracy", (double)correct / n);
        s_set(m, prefix, "precision", prec);
        s_set(m, prefix, "recall", rec);
        s_set(m, prefix, "f1", prec + rec > 0.0 ? 2.0 * prec * rec / (prec + rec) : 0.0);
        double auc = s_auc(pairs, n);
        if (!isnan(auc))
            s_set(m, prefix, "auc", auc);
        s_set(m, prefix, "log_loss", ll / n);
        free(pairs);
        return 0;
    }
    /* K classes: argmax predictions, macro averages over the classes present */
    long *tp = calloc((size_t)k * 3, sizeof *tp);
    if (!tp) {
        free(pairs);
        return SW_ENOMEM;
    }
    long *pred_n = tp + k, *true_n = tp + 2 * k;
    for (int r = 0; r < n; r++) {
        const double *o = out + (size_t)r * (size_t)k;
        int ao = trn_argmax(o, k), at = trn_argmax(y + (size_t)r * (size_t)k, k);
        correct += ao == at;
        tp[ao] += ao == at;
        pred_n[ao]++;
        true_n[at]++;
        ll -= log(s_clip(o[at]));
    }
    double prec = 0.0, rec = 0.0, f1 = 0.0, auc = 0.0;
    int present = 0, auc_n = 0;
    for (int c = 0; c < k; c++) {
        if (true_n[c] == 0 && pred_n[c] == 0)
            continue;
        present++;
        double p = pred_n[c] ? (double)tp[c] / (double)pred_n[c] : 0.0;
        double rc = true_n[c] ? (double)tp[c] / (double)true_n[c] : 0.0;
        prec += p;
        rec += rc;
        f1 += p + rc > 0.0 ? 2.0 * p * rc / (p + rc) : 0.0;
        for (int r = 0; r < n; r++) {
            pairs[r].score = out[(size_t)r * (size_t)k + (size_t)c];
            pairs[r].pos = y[(size_t)r * (size_t)k + (size_t)c] > 0.5;
        }
        double a = s_auc(pairs, n);
        if (!isnan(a)) {
            auc += a;
            auc_n++;
        }
    }
    s_set(m, prefix, "accuracy", (double)correct / n);
    s_set(m, prefix, "precision", present ? prec / present : 0.0);
    s_set(m, prefix, "recall", present ? rec / present : 0.0);
    s_set(m, prefix, "f1", present ? f1 / present : 0.0);
    if (auc_n)
        s_set(m, prefix, "auc", auc / auc_n);
    s_set(m, prefix, "log_loss", ll / n);
    free(tp);
    free(pairs);
    return 0;
}
