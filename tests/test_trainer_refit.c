/*  test_trainer_refit.c - new trainer settings (schedules, dropout, imputation, text
 *  labels, held-out test rows), refit with its verdict, and model files that predict
 *  exactly what the trained model did
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_err.h"
#include "worker/trn_fit.h"
#include "worker/trn_model.h"
#include "worker/trn_refit.h"

#define PIMA "examples/data/pima-indians-diabetes.csv"
#define DIGITS "examples/data/digits-8x8.csv"

typedef struct {
    int n;
    trn_metrics_t epochs[64];
} s_log_t;

static int s_record(void *arg, int step, bool final, const trn_metrics_t *m)
{
    s_log_t *log = arg;
    (void)step;
    if (!final && log->n < 64)
        log->epochs[log->n++] = *m;
    return 0;
}

static cJSON *s_json(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

static void s_config(trn_config_t *cfg, const char *trainer)
{
    cJSON *t = s_json(trainer);
    sw_errs_t errs = {0};
    int bad = trn_config_parse(cfg, t, NULL, &errs);
    if (bad) {
        char *msg = sw_errs_join(&errs, "\n");
        fprintf(stderr, "%s\n", msg);
        free(msg);
    }
    assert_int_equal(bad, 0);
    sw_errs_clear(&errs);
    cJSON_Delete(t);
}

static trn_data_t *s_load(const trn_config_t *cfg)
{
    char err[256];
    trn_data_t *d = trn_config_load_data(cfg, err, sizeof err, NULL);
    if (!d)
        fprintf(stderr, "%s\n", err);
    assert_non_null(d);
    return d;
}

static void s_check(const char *trainer, const char *parameters, const char *const *expected)
{
    cJSON *t = s_json(trainer), *p = parameters ? s_json(parameters) : NULL;
    sw_errs_t errs = {0};
    int n = trn_config_check(t, p, &errs), want = 0;
    while (expected[want])
        want++;
    for (size_t i = 0; i < errs.count; i++)
        if (i >= (size_t)want || strcmp(errs.items[i], expected[i]) != 0)
            fprintf(stderr, "got: %s\n", errs.items[i]);
    assert_int_equal(n, want);
    for (int i = 0; i < want; i++)
        assert_string_equal(errs.items[i], expected[i]);
    sw_errs_clear(&errs);
    cJSON_Delete(t);
    cJSON_Delete(p);
}

static void test_new_fields_are_checked(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    s_check("{\"type\": \"mlp\", \"dataset\": \"d.csv\", \"layers\": [8, 4], \"dropout\": [0.1, 0.2],"
            " \"l2\": 0.001, \"kernel_initializer\": \"he_normal\", \"optimizer\": \"adamw\","
            " \"weight_decay\": 0.01, \"lr_schedule\": {\"type\": \"plateau\", \"monitor\": \"val_auc\","
            " \"patience\": 2}, \"validation_split\": 0.2, \"validation_stratified\": true,"
            " \"impute\": \"median\", \"test_split\": 0.2, \"test_seed\": 3,"
            " \"early_stopping\": {\"monitor\": \"val_f1\", \"patience\": 3}}",
            "{\"dropout\": {\"type\": \"float\", \"low\": 0, \"high\": 0.5},"
            " \"kernel_initializer\": {\"type\": \"categorical\", \"values\": [\"glorot_uniform\", \"he_normal\"]}}",
            none);
    static const char *const e1[] = {
        "trainer.dropout[1]: must be a number in [0, 1)",
        "trainer.kernel_initializer: unknown initializer 'zeros' (expected glorot_uniform, he_normal)",
        "trainer.lr_schedule.type: unknown schedule 'exp' (expected step, cosine, plateau)",
        "trainer.impute: unknown strategy 'zero' (expected none, mean, median)",
        "trainer.test_split: must be a number in [0, 1)",
        "trainer.dropout: 2 rates for 1 hidden layer",
        "trainer.early_stopping.monitor: unknown metric 'val_r2' (expected loss, accuracy, "
        "precision, recall, f1, auc, log_loss or val_ of one)", NULL};
    s_check("{\"type\": \"mlp\", \"dataset\": \"d.csv\", \"dropout\": [0.1, 1.5],"
            " \"kernel_initializer\": \"zeros\", \"lr_schedule\": {\"type\": \"exp\"},"
            " \"impute\": \"zero\", \"test_split\": 1, \"validation_split\": 0.1,"
            " \"early_stopping\": {\"monitor\": \"val_r2\"}}", NULL, e1);
    static const char *const e2[] = {
        "trainer.lr_schedule.every: unknown setting for a cosine schedule",
        "trainer.lr_schedule.monitor: 'val_loss' needs validation_split > 0",
        NULL};
    static const char *const e2a[] = {e2[0], NULL}, *const e2b[] = {e2[1], NULL};
    (void)e2a;
    s_check("{\"type\": \"mlp\", \"dataset\": \"d.csv\", \"lr_schedule\": {\"type\": \"cosine\", \"every\": 3}}",
            NULL, (const char *const[]){"trainer.lr_schedule.every: unknown setting for a cosine schedule", NULL});
    s_check("{\"type\": \"mlp\", \"dataset\": \"d.csv\", \"lr_schedule\": {\"type\": \"plateau\"}}",
            NULL, e2b);
    static const char *const e3[] = {"parameters.dropout.high: must be a number in [0, 1)",
                                     "parameters.test_split: the mlp trainer has no setting 'test_split'",
                                     NULL};
    s_check("{\"type\": \"mlp\", \"dataset\": \"d.csv\"}",
            "{\"dropout\": {\"type\": \"float\", \"low\": 0, \"high\": 1},"
            " \"test_split\": {\"type\": \"float\", \"low\": 0.1, \"high\": 0.2}}", e3);
}

static void test_schedules_set_the_lr(void **state)
{
    (void)state;
    trn_config_t cfg;
    s_log_t *log = calloc(1, sizeof *log);
    char err[256];
    /* step: 0.01, 0.01, 0.005, 0.005, 0.0025 */
    s_config(&cfg, "{\"type\": \"mlp\", \"dataset\": \"" PIMA "\", \"optimizer\": \"sgd\", \"epochs\": 5,"
                   " \"lr_schedule\": {\"type\": \"step\", \"factor\": 0.5, \"every\": 2}}");
    trn_data_t *d = s_load(&cfg);
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, s_record, log, NULL, err, sizeof err), 0);
    const double want[] = {0.01, 0.01, 0.005, 0.005, 0.0025};
    for (int e = 0; e < 5; e++)
        assert_float_equal(*trn_metrics_get(&log->epochs[e], "lr"), want[e], 1e-15);
    trn_config_clear(&cfg);
    /* cosine over all steps down to alpha: the last step's lr is just above alpha lr0 */
    log->n = 0;
    s_config(&cfg, "{\"type\": \"mlp\", \"dataset\": \"" PIMA "\", \"epochs\": 4, \"batch_size\": 64,"
                   " \"lr_schedule\": {\"type\": \"cosine\", \"alpha\": 0.1}}");
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, s_record, log, NULL, err, sizeof err), 0);
    double last = *trn_metrics_get(&log->epochs[3], "lr");
    /* 12 steps per epoch, 48 in all; the last step is step 47: p = 47/48 */
    assert_float_equal(last, 0.001 * (0.9 * 0.5 * (1.0 + cos(M_PI * 47.0 / 48.0)) + 0.1), 1e-15);
    assert_true(*trn_metrics_get(&log->epochs[0], "lr") < 0.001);
    trn_config_clear(&cfg);
    /* plateau: patience 0 with min_delta 1 never improves after the first epoch, so the
     * lr falls by 10x each epoch from the second on */
    log->n = 0;
    s_config(&cfg, "{\"type\": \"mlp\", \"dataset\": \"" PIMA "\", \"epochs\": 4, \"validation_split\": 0.2,"
                   " \"lr_schedule\": {\"type\": \"plateau\", \"patience\": 1, \"min_delta\": 1}}");
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, s_record, log, NULL, err, sizeof err), 0);
    assert_float_equal(*trn_metrics_get(&log->epochs[0], "lr"), 1e-3, 1e-18);
    assert_float_equal(*trn_metrics_get(&log->epochs[1], "lr"), 1e-3, 1e-18);
    assert_float_equal(*trn_metrics_get(&log->epochs[2], "lr"), 1e-4, 1e-18);
    assert_float_equal(*trn_metrics_get(&log->epochs[3], "lr"), 1e-5, 1e-18);
    trn_config_clear(&cfg);
    trn_data_destroy(&d);
    free(log);
}

static void test_dropout_and_l2_train_and_stay_reproducible(void **state)
{
    (void)state;
    trn_config_t cfg;
    char err[256];
    s_config(&cfg, "{\"type\": \"mlp\", \"dataset\": \"" PIMA "\", \"layers\": [16, 8], \"dropout\": 0.2,"
                   " \"l2\": 0.001, \"kernel_initializer\": \"he_normal\", \"activation\": \"elu\","
                   " \"epochs\": 20, \"batch_size\": 16, \"validation_split\": 0.25, \"seed\": 4,"
                   " \"early_stopping\": {\"monitor\": \"val_auc\", \"patience\": 3, \"restore_best_weights\": true}}");
    trn_data_t *d = s_load(&cfg);
    trn_result_t a, b;
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, NULL, NULL, &a, err, sizeof err), 0);
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, NULL, NULL, &b, err, sizeof err), 0);
    assert_memory_equal(&a.final, &b.final, sizeof a.final);   /* masks from the seed */
    assert_true(*trn_metrics_get(&a.final, "val_auc") > 0.75);
    /* L2: the reported loss is the log loss plus the penalty */
    assert_true(*trn_metrics_get(&a.final, "val_loss") > *trn_metrics_get(&a.final, "val_log_loss"));
    trn_config_clear(&cfg);
    trn_data_destroy(&d);
}

static void test_imputation_and_text_labels(void **state)
{
    (void)state;
    char *dir = test_mkdtemp();
    assert_non_null(dir);
    /* 60 rows, two classes by name; x1 decides the class, x2 has holes */
    char *text = malloc(8192), *p = text;
    p += sprintf(p, "x1,x2,kind\n");
    for (int i = 0; i < 60; i++) {
        const char *x2 = i % 7 == 3 ? "?" : i % 11 == 5 ? "" : "1.5";
        p += sprintf(p, "%d,%s,%s\n", i % 2 ? 3 + i % 5 : -3 - i % 5, x2, i % 2 ? "yes" : "no");
    }
    char *path = test_write_file(dir, "holes.csv", text);
    char json[512], err[512];
    snprintf(json, sizeof json, "{\"type\": \"mlp\", \"dataset\": \"%s\", \"target\": \"kind\","
             " \"epochs\": 40, \"batch_size\": 8, \"lr\": 0.05}", path);
    cJSON *t = s_json(json);
    /* without impute: the first hole is an error naming its row and column */
    assert_int_equal(trn_run(t, NULL, NULL, -1, NULL, NULL, NULL, NULL, err, sizeof err), SW_EDATA);
    char want[600];
    snprintf(want, sizeof want, "%s: row 5, column 2: missing value '?'; set trainer.impute to "
             "\"mean\" or \"median\" to fill it", path);
    assert_string_equal(err, want);
    cJSON_AddStringToObject(t, "impute", "mean");
    cJSON_AddNumberToObject(t, "test_split", 0.25);
    trn_refit_t res;
    trn_model_t *model = NULL;
    assert_int_equal(trn_refit_run(t, NULL, NULL, NULL, &res, &model, err, sizeof err), 0);
    assert_int_equal(res.n_test, 16);                       /* round(0.25 * 30) = 8 per class */
    assert_int_equal(res.n_tuning, 44);
    assert_float_equal(*trn_metrics_get(&res.fit.eval_scores, "accuracy"), 1.0, 0);
    assert_string_equal(model->classes[0], "no");
    assert_string_equal(model->classes[1], "yes");
    assert_float_equal(model->fill[1], 1.5, 0);             /* the mean of the 1.5s */
    /* predict a file without the target column, with a hole */
    char *in = test_write_file(dir, "new.csv", "x1,x2\n4,?\n-5,1.5\n");
    char *out_path = test_write_file(dir, "pred.txt", "");
    FILE *out = fopen(out_path, "w");
    assert_int_equal(trn_model_predict_csv(model, in, -1, ',', false, false, out, err, sizeof err), 2);
    fclose(out);
    FILE *f = fopen(out_path, "r");
    char line1[64], line2[64];
    assert_non_null(fgets(line1, sizeof line1, f));
    assert_non_null(fgets(line2, sizeof line2, f));
    fclose(f);
    assert_string_equal(line1, "yes\n");
    assert_string_equal(line2, "no\n");
    trn_model_destroy(&model);
    cJSON_Delete(t);
    free(in);
    free(out_path);
    free(path);
    free(text);
    test_rmtree(dir);
    free(dir);
}

static void test_refit_digits_and_model_file_round_trip(void **state)
{
    (void)state;
    char *dir = test_mkdtemp();
    trn_config_t cfg;
    char err[512];
    s_config(&cfg, "{\"type\": \"mlp\", \"dataset\": \"" DIGITS "\", \"header\": false, \"task\": \"multiclass\","
                   " \"layers\": [32], \"epochs\": 8, \"validation_split\": 0.1, \"test_split\": 0.2,"
                   " \"test_seed\": 5, \"seed\": 1}");
    trn_data_t *d = s_load(&cfg);
    trn_cv_t cv = {.folds = 3, .stratified = true, .seed = 7};
    trn_refit_t res;
    trn_model_t *model = NULL;
    assert_int_equal(trn_refit(&cfg, d, &cv, &res, &model, err, sizeof err), 0);
    assert_int_equal(res.n_tuning + res.n_test, 1797);
    assert_in_range(res.n_test, 355, 365);                  /* ~ 20% of each class */
    assert_int_equal(res.fit.n_fit + res.fit.n_val, res.n_tuning);
    assert_true(res.has_cv);
    double test_acc = *trn_metrics_get(&res.fit.eval_scores, "accuracy");
    assert_true(test_acc > 0.9);
    assert_true(*trn_metrics_get(&res.cv, "accuracy") > 0.85);
    /* 8 epochs of a 32-unit layer: train 0.9567, test 0.9025, a gap just over 0.05 */
    double train_acc = *trn_metrics_get(&res.fit.fit_scores, "accuracy");
    assert_int_equal(res.verdict, train_acc - test_acc > TRN_OVERFIT_GAP_ACC ? TRN_VERDICT_OVERFIT
                                                                             : TRN_VERDICT_GOOD);
    assert_memory_equal(res.reason, "train accuracy ", 15);
    assert_float_equal(res.fit.majority, 36.0 / 359.0, 0.01);   /* about one class in ten */
    assert_int_equal(model->n_classes, 10);
    assert_string_equal(model->classes[9], "9");

    /* the held-out rows are never in a fold: a fit of fold 0 trains and scores tuning
     * rows only */
    trn_result_t r0;
    assert_int_equal(trn_fit(&cfg, d, &cv, 0, NULL, NULL, &r0, err, sizeof err), 0);
    assert_int_equal(r0.n_fit + r0.n_val + r0.n_eval, res.n_tuning);

    /* save, load, predict: the same bits */
    char path[512];
    snprintf(path, sizeof path, "%s/digits.model.json", dir);
    assert_int_equal(trn_model_save(model, path, err, sizeof err), 0);
    int code = 0;
    trn_model_t *back = trn_model_load(path, err, sizeof err, &code);
    assert_non_null(back);
    assert_int_equal(back->mlp->n_params, model->mlp->n_params);
    assert_memory_equal(back->mlp->params, model->mlp->params, model->mlp->n_params * sizeof(double));
    int n = 50, nf = d->n_features;
    double *x1 = malloc((size_t)n * nf * sizeof *x1), *x2 = malloc((size_t)n * nf * sizeof *x2);
    double *o1 = malloc((size_t)n * 10 * sizeof *o1), *o2 = malloc((size_t)n * 10 * sizeof *o2);
    memcpy(x1, d->x, (size_t)n * nf * sizeof *x1);
    memcpy(x2, d->x, (size_t)n * nf * sizeof *x2);
    assert_int_equal(trn_model_predict(model, x1, n, NULL, o1, err, sizeof err), 0);
    assert_int_equal(trn_model_predict(back, x2, n, NULL, o2, err, sizeof err), 0);
    assert_memory_equal(o1, o2, (size_t)n * 10 * sizeof *o1);

    /* a file that is not a model is refused with the field named */
    char *bad = test_write_file(dir, "bad.json", "{\"format\": \"sweepd-mlp\", \"version\": 2}");
    assert_null(trn_model_load(bad, err, sizeof err, &code));
    assert_int_equal(code, SW_EDATA);
    char want[600];
    snprintf(want, sizeof want, "%s: version: unsupported (this sweepd reads version 1)", bad);
    assert_string_equal(err, want);
    free(bad);
    free(x1);
    free(x2);
    free(o1);
    free(o2);
    trn_model_destroy(&model);
    trn_model_destroy(&back);
    trn_data_destroy(&d);
    trn_config_clear(&cfg);
    test_rmtree(dir);
    free(dir);
}

static void test_verdict_rule(void **state)
{
    (void)state;
    trn_metrics_t tr = {0}, ho = {0};
    char why[256];
    trn_metrics_set(&tr, "accuracy", 0.99);
    trn_metrics_set(&ho, "accuracy", 0.80);
    assert_int_equal(trn_refit_verdict(false, &tr, &ho, 0.65, why, sizeof why), TRN_VERDICT_OVERFIT);
    assert_string_equal(why, "train accuracy 0.9900 vs held-out 0.8000: gap 0.1900 > 0.05; "
                        "majority-class baseline 0.6500");
    trn_metrics_set(&tr, "accuracy", 0.82);
    assert_int_equal(trn_refit_verdict(false, &tr, &ho, 0.65, why, sizeof why), TRN_VERDICT_GOOD);
    /* baseline 0.65 + 0.25 * 0.35 = 0.7375 */
    trn_metrics_set(&tr, "accuracy", 0.70);
    trn_metrics_set(&ho, "accuracy", 0.69);
    assert_int_equal(trn_refit_verdict(false, &tr, &ho, 0.65, why, sizeof why), TRN_VERDICT_UNDERFIT);
    trn_metrics_set(&tr, "r2", 0.9);
    trn_metrics_set(&ho, "r2", 0.85);
    assert_int_equal(trn_refit_verdict(true, &tr, &ho, NAN, why, sizeof why), TRN_VERDICT_GOOD);
    trn_metrics_set(&ho, "r2", 0.7);
    assert_int_equal(trn_refit_verdict(true, &tr, &ho, NAN, why, sizeof why), TRN_VERDICT_OVERFIT);
    trn_metrics_set(&tr, "r2", 0.1);
    assert_int_equal(trn_refit_verdict(true, &tr, &ho, NAN, why, sizeof why), TRN_VERDICT_UNDERFIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_fields_are_checked),
        cmocka_unit_test(test_schedules_set_the_lr),
        cmocka_unit_test(test_dropout_and_l2_train_and_stay_reproducible),
        cmocka_unit_test(test_imputation_and_text_labels),
        cmocka_unit_test(test_refit_digits_and_model_file_round_trip),
        cmocka_unit_test(test_verdict_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
