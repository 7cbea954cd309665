/*  test_trainer_fit.c - the trainer's configuration, checks, fit loop, early stopping,
 *  cross-validation scoring and determinism on the Pima Indians diabetes data
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

#define PIMA "examples/data/pima-indians-diabetes.csv"

/* Every report the fit made. */
typedef struct {
    int n;
    trn_metrics_t epochs[200];
    trn_metrics_t final;
    int final_step, finals;
} s_log_t;

static int s_record(void *arg, int step, bool final, const trn_metrics_t *m)
{
    s_log_t *log = arg;
    if (final) {
        log->final = *m;
        log->final_step = step;
        log->finals++;
        return 0;
    }
    assert_int_equal(step, log->n + 1);     /* 1-based, consecutive */
    if (log->n < 200)
        log->epochs[log->n++] = *m;
    return 0;
}

static cJSON *s_json(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    return j;
}

/* Parse TRAINER (+ PARAMS) into CFG, expecting no errors. */
static void s_config(trn_config_t *cfg, const char *trainer, const char *params)
{
    cJSON *t = s_json(trainer), *p = params ? s_json(params) : NULL;
    sw_errs_t errs = {0};
    int bad = trn_config_parse(cfg, t, p, &errs);
    if (bad) {
        char *msg = sw_errs_join(&errs, "\n");
        fprintf(stderr, "%s\n", msg);
        free(msg);
    }
    assert_int_equal(bad, 0);
    sw_errs_clear(&errs);
    cJSON_Delete(t);
    cJSON_Delete(p);
}

static trn_data_t *s_pima(void)
{
    char err[256];
    trn_csv_opts_t o = trn_csv_opts_default();
    trn_data_t *d = trn_data_load(PIMA, &o, err, sizeof err, NULL);
    assert_non_null(d);
    return d;
}

/* The seed article's network: 8-12-1 relu/sigmoid, adam, batch 10; its validation split
 * of 0.33 (the last 254 rows); 30 epochs. */
#define SEED_NET "{\"type\": \"mlp\", \"dataset\": \"" PIMA "\", \"layers\": [12], " \
    "\"activation\": \"relu\", \"loss\": \"binary_crossentropy\", \"optimizer\": \"adam\", " \
    "\"batch_size\": 10, \"epochs\": 30, \"validation_split\": 0.33, \"seed\": 7}"

static void test_seed_network_reaches_074_on_pima(void **state)
{
    (void)state;
    trn_config_t cfg;
    s_config(&cfg, SEED_NET, NULL);
    trn_data_t *d = s_pima();
    s_log_t *log = calloc(1, sizeof *log);
    trn_result_t res;
    char err[256] = "";
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, s_record, log, &res, err, sizeof err), 0);
    assert_int_equal(log->n, 30);
    assert_int_equal(log->finals, 1);
    assert_int_equal(log->final_step, 30);
    assert_int_equal(res.epochs_run, 30);
    assert_false(res.stopped_early);
    /* metrics, in order, on every epoch line */
    static const char *const names[] = {"loss", "accuracy", "precision", "recall", "f1", "auc",
                                        "log_loss", "val_loss", "val_accuracy", "val_precision",
                                        "val_recall", "val_f1", "val_auc", "val_log_loss"};
    assert_int_equal(log->epochs[0].n, 14);
    for (int i = 0; i < 14; i++)
        assert_string_equal(log->epochs[0].name[i], names[i]);
    /* without L2 the loss is the log loss */
    assert_float_equal(log->epochs[3].value[0], log->epochs[3].value[6], 1e-12);
    assert_float_equal(log->epochs[3].value[7], log->epochs[3].value[13], 1e-12);
    /* seed 7 reaches val_accuracy 0.8031 (204 of the 254 validation rows); the loss falls */
    const double *va = trn_metrics_get(&res.final, "val_accuracy");
    assert_non_null(va);
    assert_true(*va >= 0.74);
    assert_float_equal(*va * 254, round(*va * 254), 1e-9);
    assert_true(log->epochs[29].value[0] < log->epochs[0].value[0]);
    /* the final line is the last epoch's */
    assert_memory_equal(&res.final, &log->epochs[29], sizeof res.final);
    free(log);
    trn_data_destroy(&d);
    trn_config_clear(&cfg);
}

static void test_same_seed_same_metrics_bit_for_bit(void **state)
{
    (void)state;
    trn_config_t cfg;
    s_config(&cfg, SEED_NET, "{\"epochs\": 8, \"optimizer\": \"rmsprop\"}");
    trn_data_t *d = s_pima();
    s_log_t *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
    char err[256];
    trn_cv_t cv = {.folds = 3, .stratified = true, .seed = 7};
    assert_int_equal(trn_fit(&cfg, d, &cv, 1, s_record, a, NULL, err, sizeof err), 0);
    assert_int_equal(trn_fit(&cfg, d, &cv, 1, s_record, b, NULL, err, sizeof err), 0);
    assert_int_equal(a->n, 8);
    assert_memory_equal(a->epochs, b->epochs, sizeof a->epochs);
    assert_memory_equal(&a->final, &b->final, sizeof a->final);
    cfg.seed = 8;
    assert_int_equal(trn_fit(&cfg, d, &cv, 1, s_record, c, NULL, err, sizeof err), 0);
    assert_true(a->epochs[7].value[0] != c->epochs[7].value[0]);
    free(a);
    free(b);
    free(c);
    trn_data_destroy(&d);
    trn_config_clear(&cfg);
}

static void test_cv_final_metrics_are_held_out_fold_scores(void **state)
{
    (void)state;
    trn_config_t cfg;
    s_config(&cfg, SEED_NET, "{\"epochs\": 20, \"validation_split\": 0.2}");
    trn_data_t *d = s_pima();
    trn_cv_t cv = {.folds = 3, .stratified = true, .seed = 7};
    char err[256];
    double sum = 0;
    for (int fold = 0; fold < 3; fold++) {
        s_log_t *log = calloc(1, sizeof *log);
        trn_result_t res;
        assert_int_equal(trn_fit(&cfg, d, &cv, fold, s_record, log, &res, err, sizeof err), 0);
        /* the training part is 512 rows; its last 20% (103 rows) validate each epoch,
         * the held-out fold (256 rows) gives the final val_* */
        double ev = *trn_metrics_get(&log->epochs[19], "val_accuracy");
        double fv = *trn_metrics_get(&res.final, "val_accuracy");
        assert_float_equal(ev * 103, round(ev * 103), 1e-9);
        assert_float_equal(fv * 256, round(fv * 256), 1e-9);
        assert_true(*trn_metrics_get(&res.final, "val_loss") !=
                    *trn_metrics_get(&log->epochs[19], "val_loss"));
        /* loss and accuracy stay those of the last epoch */
        assert_true(res.final.value[0] == log->epochs[19].value[0]);
        sum += fv;
        free(log);
    }
    assert_true(sum / 3 >= 0.72);
    /* a fold out of range */
    assert_int_equal(trn_fit(&cfg, d, &cv, 3, NULL, NULL, NULL, err, sizeof err), SW_EINVAL);
    assert_string_equal(err, "fold 3 is out of range (cv.folds is 3)");
    trn_data_destroy(&d);
    trn_config_clear(&cfg);
}

static void test_early_stopping_keras_semantics(void **state)
{
    (void)state;
    trn_config_t cfg;
    /* a large learning rate over-fits quickly: val_loss turns up and the fit stops */
    s_config(&cfg, SEED_NET, "{\"epochs\": 200, \"lr\": 0.05, \"units\": 64, \"patience\": 3}");
    cfg.early_stopping.restore_best_weights = true;
    assert_true(cfg.early_stopping.enabled);
    assert_string_equal(cfg.early_stopping.monitor, "val_loss");
    trn_data_t *d = s_pima();
    s_log_t *log = calloc(1, sizeof *log);
    trn_result_t res;
    char err[256];
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, s_record, log, &res, err, sizeof err), 0);
    assert_true(res.stopped_early);
    assert_true(res.epochs_run < 200);
    /* stopped `patience` epochs after the best one; the best is the least val_loss seen */
    assert_int_equal(res.epochs_run - res.best_epoch, 3);
    double best = INFINITY;
    for (int e = 0; e < log->n; e++)
        best = fmin(best, *trn_metrics_get(&log->epochs[e], "val_loss"));
    assert_true(*trn_metrics_get(&log->epochs[res.best_epoch - 1], "val_loss") == best);
    /* restored: the final metrics are the best epoch's */
    assert_memory_equal(&res.final, &log->epochs[res.best_epoch - 1], sizeof res.final);
    assert_int_equal(log->final_step, res.epochs_run);

    /* a min_delta larger than any change: no epoch after the first improves, the fit
     * stops at epoch 1 + patience */
    cfg.early_stopping.min_delta = 10.0;
    cfg.early_stopping.restore_best_weights = false;
    memset(log, 0, sizeof *log);
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, s_record, log, &res, err, sizeof err), 0);
    assert_int_equal(res.best_epoch, 1);
    assert_int_equal(res.epochs_run, 4);
    assert_memory_equal(&res.final, &log->epochs[3], sizeof res.final);
    free(log);
    trn_data_destroy(&d);
    trn_config_clear(&cfg);
}

static void test_parameter_overrides(void **state)
{
    (void)state;
    trn_config_t cfg;
    s_config(&cfg, SEED_NET, "{\"hidden_layers\": 3, \"units_2\": 5, \"optimizer\": \"sgd\", "
                             "\"momentum\": 0.9, \"nesterov\": true, \"batch_size\": 20}");
    assert_int_equal(cfg.n_hidden, 3);
    assert_int_equal(cfg.hidden[0], 12);
    assert_int_equal(cfg.hidden[1], 5);
    assert_int_equal(cfg.hidden[2], 12);
    assert_int_equal(cfg.opt.kind, TRN_OPT_SGD);
    assert_float_equal(cfg.opt.lr, 0.01, 0);    /* Keras' default for sgd */
    assert_float_equal(cfg.opt.momentum, 0.9, 0);
    assert_true(cfg.opt.nesterov);
    assert_int_equal(cfg.batch_size, 20);
    assert_int_equal(cfg.epochs, 30);
    assert_int_equal(cfg.seed, 7);
    trn_config_clear(&cfg);

    s_config(&cfg, SEED_NET, "{\"units\": 16, \"lr\": 0.02, \"activation\": \"tanh\"}");
    assert_int_equal(cfg.n_hidden, 1);
    assert_int_equal(cfg.hidden[0], 16);
    assert_float_equal(cfg.opt.lr, 0.02, 0);
    assert_int_equal(cfg.activation, TRN_ACT_TANH);
    assert_int_equal(cfg.output_activation, TRN_ACT_SIGMOID);
    assert_int_equal(cfg.task, TRN_TASK_BINARY);
    trn_config_clear(&cfg);

    /* defaults: task from loss, output from task */
    s_config(&cfg, "{\"type\": \"mlp\", \"dataset\": \"x.csv\", \"loss\": \"mse\"}", NULL);
    assert_int_equal(cfg.task, TRN_TASK_REGRESSION);
    assert_int_equal(cfg.output_activation, TRN_ACT_LINEAR);
    assert_int_equal(cfg.batch_size, 32);
    assert_int_equal(cfg.epochs, 10);
    assert_float_equal(cfg.opt.lr, 0.001, 0);
    trn_config_clear(&cfg);

    /* bad overrides name the parameter */
    cJSON *t = s_json(SEED_NET);
    cJSON *p = s_json("{\"foo\": 1, \"units_2\": 8, \"epochs\": 0}");
    sw_errs_t errs = {0};
    assert_int_equal(trn_config_parse(&cfg, t, p, &errs), 3);
    assert_string_equal(errs.items[0], "params.foo: the mlp trainer has no setting 'foo'");
    assert_string_equal(errs.items[1], "params.epochs: must be an integer >= 1");
    assert_string_equal(errs.items[2], "params.units_2: the network has 1 hidden layer");
    sw_errs_clear(&errs);
    trn_config_clear(&cfg);
    cJSON_Delete(t);
    cJSON_Delete(p);
}

/* trn_config_check on TRAINER and PARAMETERS gives exactly the messages EXPECTED
 * (NULL-terminated). */
static void s_check(const char *trainer, const char *parameters, const char *const *expected)
{
    cJSON *t = s_json(trainer), *p = parameters ? s_json(parameters) : NULL;
    sw_errs_t errs = {0};
    int n = trn_config_check(t, p, &errs);
    int want = 0;
    while (expected[want])
        want++;
    for (size_t i = 0; i < errs.count; i++)
        if (i >= (size_t)want || strcmp(errs.items[i], expected[i]) != 0)
            fprintf(stderr, "got: %s\n", errs.items[i]);
    assert_int_equal(n, want);
    assert_int_equal(errs.count, (size_t)want);
    for (int i = 0; i < want; i++)
        assert_string_equal(errs.items[i], expected[i]);
    sw_errs_clear(&errs);
    cJSON_Delete(t);
    cJSON_Delete(p);
}

static void test_config_check_messages(void **state)
{
    (void)state;
    static const char *const none[] = {NULL};
    s_check(SEED_NET, "{\"lr\": {\"type\": \"float\", \"low\": 1e-4, \"high\": 0.1, \"log\": true},"
                      " \"units\": {\"type\": \"int\", \"low\": 4, \"high\": 32}}", none);

    static const char *const e1[] = {"trainer.layers[0]: must be an integer >= 1",
                                     "trainer.optimizer: unknown optimizer 'adamx' (expected sgd, adam, rmsprop, adagrad, adamw)",
                                     "trainer.batch_size: must be an integer >= 1", NULL};
    s_check("{\"type\": \"mlp\", \"dataset\": \"d.csv\", \"layers\": [0, 4], \"optimizer\": \"adamx\","
            " \"batch_size\": 2.5}", NULL, e1);

    static const char *const e2[] = {"trainer.lr: must be a number > 0",
                                     "trainer.validation_split: must be a number in [0, 1)",
                                     "trainer.activation: unknown activation 'softmax' (expected relu, leaky_relu, elu, tanh, sigmoid, linear)",
                                     "trainer.foo: unknown setting",
                                     "trainer.dataset: required (a CSV file path)", NULL};
    s_check("{\"type\": \"mlp\", \"lr\": -1, \"validation_split\": 1, \"activation\": \"softmax\","
            " \"foo\": true}", NULL, e2);

    static const char *const e3[] = {"trainer.header: must be true, false or \"auto\"",
                                     "trainer.early_stopping.patience: must be an integer >= 0",
                                     "trainer.early_stopping.mode: unknown mode 'up' (expected auto, min, max)",
                                     "trainer.loss: 'mse' does not fit task 'binary'",
                                     "trainer.early_stopping.monitor: 'val_loss' needs validation_split > 0", NULL};
    s_check("{\"type\": \"mlp\", \"dataset\": \"d.csv\", \"header\": \"yes\", \"task\": \"binary\","
            " \"loss\": \"mse\", \"early_stopping\": {\"patience\": -1, \"mode\": \"up\"}}", NULL, e3);

    static const char *const e4[] = {"trainer.type: must be \"mlp\" for the built-in trainer",
                                     "trainer.output_activation: 'softmax' does not fit loss 'binary_crossentropy' (binary_crossentropy needs sigmoid)",
                                     NULL};
    s_check("{\"type\": \"command\", \"dataset\": \"d.csv\", \"output_activation\": \"softmax\","
            " \"loss\": \"binary_crossentropy\"}", NULL, e4);

    static const char *const e5[] = {"parameters.foo: the mlp trainer has no setting 'foo'",
                                     "parameters.optimizer.values[1]: unknown optimizer 'adamx' (expected sgd, adam, rmsprop, adagrad, adamw)",
                                     "parameters.lr.low: must be a number > 0",
                                     "parameters.batch_size.values[0]: must be an integer >= 1", NULL};
    s_check(SEED_NET, "{\"foo\": {\"type\": \"float\", \"low\": 0, \"high\": 1},"
                      " \"optimizer\": {\"type\": \"categorical\", \"values\": [\"adam\", \"adamx\"]},"
                      " \"lr\": {\"type\": \"float\", \"low\": 0, \"high\": 0.1},"
                      " \"batch_size\": {\"type\": \"categorical\", \"values\": [0, 10]},"
                      " \"units_1\": {\"type\": \"int\", \"low\": 4, \"high\": 8}}", e5);
}

static void test_label_errors_name_row(void **state)
{
    (void)state;
    double x[6] = {1, 2, 3, 4, 5, 6}, y[3] = {0, 2, 1};
    trn_data_t *d = trn_data_from_arrays(x, y, 3, 2, "tiny.csv");
    trn_config_t cfg;
    s_config(&cfg, "{\"type\": \"mlp\", \"dataset\": \"tiny.csv\"}", NULL);
    char err[256];
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, NULL, NULL, NULL, err, sizeof err), SW_EDATA);
    assert_string_equal(err, "tiny.csv: row 2, column 3: label 2 is not 0 or 1 (task binary)");
    /* a split that leaves no training rows (Keras: split_at = floor(3 * 0.3) = 0) */
    d->y[1] = 1;
    cfg.validation_split = 0.7;
    assert_int_equal(trn_fit(&cfg, d, NULL, -1, NULL, NULL, NULL, err, sizeof err), SW_EDATA);
    assert_string_equal(err, "tiny.csv: validation_split 0.7 of 3 training rows leaves no training rows");
    trn_data_destroy(&d);
    trn_config_clear(&cfg);
}

static void test_trn_run_and_report_lines(void **state)
{
    (void)state;
    cJSON *t = s_json(SEED_NET), *p = s_json("{\"epochs\": 2}");
    cJSON *cv = s_json("{\"folds\": 3, \"stratified\": true, \"seed\": 7}");
    s_log_t *log = calloc(1, sizeof *log);
    char err[256] = "";
    uint64_t seed = 3;
    assert_int_equal(trn_run(t, p, cv, 2, &seed, s_record, log, NULL, err, sizeof err), 0);
    assert_int_equal(log->n, 2);
    char *line = trn_metrics_json(&log->epochs[0], 1, false);
    assert_non_null(line);
    assert_memory_equal(line, "{\"step\":1,\"metrics\":{\"loss\":", 27);
    free(line);
    line = trn_metrics_json(&log->final, 2, true);
    assert_memory_equal(line, "{\"final\":true,\"metrics\":{\"loss\":", 32);
    free(line);
    /* a missing dataset is an error naming the file */
    cJSON_ReplaceItemInObject(t, "dataset", cJSON_CreateString("no/such.csv"));
    assert_int_equal(trn_run(t, p, NULL, -1, NULL, NULL, NULL, NULL, err, sizeof err), -2);
    assert_string_equal(err, "no/such.csv: cannot read: No such file or directory");
    /* configuration errors are joined */
    cJSON *bad = s_json("{\"epochs\": -1, \"lr\": \"x\"}");
    assert_int_equal(trn_run(t, bad, NULL, -1, NULL, NULL, NULL, NULL, err, sizeof err), SW_EINVAL);
    assert_string_equal(err, "params.epochs: must be an integer >= 1; params.lr: must be a number > 0");
    cJSON_Delete(bad);
    free(log);
    cJSON_Delete(t);
    cJSON_Delete(p);
    cJSON_Delete(cv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_network_reaches_074_on_pima),
        cmocka_unit_test(test_same_seed_same_metrics_bit_for_bit),
        cmocka_unit_test(test_cv_final_metrics_are_held_out_fold_scores),
        cmocka_unit_test(test_early_stopping_keras_semantics),
        cmocka_unit_test(test_parameter_overrides),
        cmocka_unit_test(test_config_check_messages),
        cmocka_unit_test(test_label_errors_name_row),
        cmocka_unit_test(test_trn_run_and_report_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
