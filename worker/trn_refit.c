/*  trn_refit.c - retrain the best configuration on all tuning rows, score the held-out
 *  test rows, judge over- or underfitting, keep the model
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/trn_refit.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_err.h"

const char *trn_verdict_name(trn_verdict_t verdict)
{
    switch (verdict) {
    case TRN_VERDICT_GOOD:
        return "good fit";
    case TRN_VERDICT_OVERFIT:
        return "overfitting";
    case TRN_VERDICT_UNDERFIT:
        return "underfitting";
    }
    return "?";
}

trn_verdict_t trn_refit_verdict(bool regression, const trn_metrics_t *train,
                                const trn_metrics_t *heldout, double majority, char *reason,
                                size_t reasonlen)
{
    const char *name = regression ? "r2" : "accuracy";
    const double *tr = trn_metrics_get(train, name);
    const double *ho = heldout ? trn_metrics_get(heldout, name) : NULL;
    double t = tr ? *tr : NAN, h = ho ? *ho : NAN;
    double floor_ = regression ? TRN_UNDERFIT_R2 : majority + TRN_UNDERFIT_SHARE * (1.0 - majority);
    double gap_max = regression ? TRN_OVERFIT_GAP_R2 : TRN_OVERFIT_GAP_ACC;
    trn_verdict_t v = TRN_VERDICT_GOOD;
    if (!(t >= floor_))
        v = TRN_VERDICT_UNDERFIT;
    else if (!isnan(h) && t - h > gap_max)
        v = TRN_VERDICT_OVERFIT;
    if (reason && reasonlen) {
        if (v == TRN_VERDICT_UNDERFIT)
            snprintf(reason, reasonlen, "train %s %.4f is below %.4f (%s)", name, t, floor_,
                     regression ? "r2 floor" : "majority-class baseline + a quarter of the rest");
        else if (isnan(h))
            snprintf(reason, reasonlen, "train %s %.4f; no held-out score to compare", name, t);
        else
            snprintf(reason, reasonlen, "train %s %.4f vs held-out %.4f: gap %.4f %s %.2f%s", name,
                     t, h, t - h, v == TRN_VERDICT_OVERFIT ? ">" : "<=", gap_max,
                     regression ? "" : "; majority-class baseline");
        if (!regression && v != TRN_VERDICT_UNDERFIT && !isnan(h)) {
            size_t n = strlen(reason);
            snprintf(reason + n, reasonlen - n, " %.4f", majority);
        }
    }
    return v;
}

int trn_refit(const trn_config_t *cfg, const trn_data_t *data, const trn_cv_t *cv,
              trn_refit_t *out, trn_model_t **model_out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const int n = data->n_rows;
    int *tuning = malloc(((size_t)n + 1) * sizeof *tuning);
    int *test = malloc(((size_t)n + 1) * sizeof *test);
    int rc;
    if (!tuning || !test) {
        free(tuning);
        free(test);
        snprintf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    rc = trn_fit_split_rows(cfg, data, tuning, &out->n_tuning, test, &out->n_test, err, errlen);
    if (rc == 0)
        rc = trn_fit_rows(cfg, data, tuning, out->n_tuning, test, out->n_test, false, NULL, NULL,
                          &out->fit, model_out, err, errlen);
    for (int f = 0; rc == 0 && cv && f < cv->folds; f++) {
        trn_result_t r;
        if ((rc = trn_fit(cfg, data, cv, f, NULL, NULL, &r, err, errlen)) < 0)
            break;
        for (int i = 0; i < r.final.n; i++) {
            if (strncmp(r.final.name[i], "val_", 4) != 0)
                continue;
            const double *prev = trn_metrics_get(&out->cv, r.final.name[i] + 4);
            trn_metrics_set(&out->cv, r.final.name[i] + 4,
                            (prev ? *prev : 0.0) + r.final.value[i] / cv->folds);
        }
        out->has_cv = true;
    }
    if (rc == 0) {
        const trn_metrics_t *ho = out->fit.n_eval > 0 ? &out->fit.eval_scores
                                  : out->has_cv ? &out->cv
                                  : out->fit.n_val > 0 ? &out->fit.val_scores : NULL;
        out->verdict = trn_refit_verdict(cfg->task == TRN_TASK_REGRESSION, &out->fit.fit_scores,
                                         ho, out->fit.majority, out->reason, sizeof out->reason);
    } else if (model_out) {
        trn_model_destroy(model_out);
    }
    free(tuning);
    free(test);
    return rc;
}

static cJSON *s_metrics_json(const trn_metrics_t *m)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < m->n; i++)
        cJSON_AddNumberToObject(o, m->name[i], m->value[i]);
    return o;
}

int trn_refit_run(const cJSON *trainer, const cJSON *params, const cJSON *cv_json,
                  const uint64_t *seed, trn_refit_t *out, trn_model_t **model_out, char *err,
                  size_t errlen)
{
    trn_config_t cfg;
    trn_cv_t cv;
    trn_data_t *data;
    int rc = trn_setup(trainer, params, cv_json, seed, &cfg, &cv, &data, err, errlen);
    if (rc)
        return rc;
    rc = trn_refit(&cfg, data, cv_json ? &cv : NULL, out, model_out, err, errlen);
    if (rc == 0 && model_out && *model_out) {
        cJSON *info = cJSON_CreateObject(), *m = cJSON_CreateObject();
        if (info && m) {
            cJSON_AddItemToObject(info, "trainer", cJSON_Duplicate(trainer, true));
            cJSON_AddItemToObject(info, "params", params ? cJSON_Duplicate(params, true)
                                                         : cJSON_CreateObject());
            cJSON_AddItemToObject(info, "metrics", m);
            m = NULL;
            cJSON *mm = cJSON_GetObjectItemCaseSensitive(info, "metrics");
            cJSON_AddItemToObject(mm, "train", s_metrics_json(&out->fit.fit_scores));
            if (out->fit.n_val > 0)
                cJSON_AddItemToObject(mm, "validation", s_metrics_json(&out->fit.val_scores));
            if (out->has_cv)
                cJSON_AddItemToObject(mm, "cv", s_metrics_json(&out->cv));
            if (out->fit.n_eval > 0)
                cJSON_AddItemToObject(mm, "test", s_metrics_json(&out->fit.eval_scores));
            cJSON_AddStringToObject(info, "verdict", trn_verdict_name(out->verdict));
            (*model_out)->info = cJSON_PrintUnformatted(info);
        }
        cJSON_Delete(m);
        cJSON_Delete(info);
    }
    trn_data_destroy(&data);
    trn_config_clear(&cfg);
    return rc;
}
