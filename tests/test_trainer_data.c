/*  test_trainer_data.c - CSV loading errors name the row and column; standardization
 *  uses training rows only; stratified folds partition the rows
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_err.h"
#include "worker/trn_data.h"

typedef struct {
    char *dir;
} s_fix_t;

static int s_setup(void **state)
{
    s_fix_t *f = calloc(1, sizeof *f);
    f->dir = test_mkdtemp();
    *state = f;
    return f->dir ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_fix_t *f = *state;
    test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* Load TEXT written to DIR/data.csv; on failure copy the message (after the file name)
 * to MSG and return NULL. */
static trn_data_t *s_load(s_fix_t *f, const char *text, const trn_csv_opts_t *opts, char *msg,
                          int *code)
{
    char *path = test_write_file(f->dir, "data.csv", text);
    assert_non_null(path);
    char err[512] = "";
    trn_csv_opts_t o = opts ? *opts : trn_csv_opts_default();
    trn_data_t *d = trn_data_load(path, &o, err, sizeof err, code);
    if (!d) {
        size_t n = strlen(path);
        assert_memory_equal(err, path, n);      /* every message names the file first */
        assert_true(err[n] == ':');
        strcpy(msg, err + n + 2);
    }
    free(path);
    return d;
}

static void test_load_plain_and_target_by_index(void **state)
{
    s_fix_t *f = *state;
    char msg[512];
    int code = 1;
    trn_data_t *d = s_load(f, "1,2,0\n3,4,1\n5,6,1\n", NULL, msg, &code);
    assert_non_null(d);
    assert_int_equal(code, 0);
    assert_int_equal(d->n_rows, 3);
    assert_int_equal(d->n_features, 2);
    assert_null(d->names);
    assert_float_equal(d->x[4], 5.0, 0);
    assert_float_equal(d->y[2], 1.0, 0);
    assert_int_equal(d->line[2], 3);
    trn_data_destroy(&d);
    /* target first column, ';' delimiter, spaces and quotes around numbers */
    trn_csv_opts_t o = trn_csv_opts_default();
    o.target_index = 0;
    o.delimiter = ';';
    d = s_load(f, "1; 2 ;\"3\"\n0;5;6\n", &o, msg, &code);
    assert_non_null(d);
    assert_int_equal(d->target_col, 0);
    assert_float_equal(d->y[0], 1.0, 0);
    assert_float_equal(d->x[1], 3.0, 0);
    assert_float_equal(d->x[3], 6.0, 0);
    trn_data_destroy(&d);
    assert_null(d);
}

static void test_header_detection_and_target_by_name(void **state)
{
    s_fix_t *f = *state;
    char msg[512];
    int code;
    trn_csv_opts_t o = trn_csv_opts_default();
    o.target_name = "label";
    trn_data_t *d = s_load(f, "a,label,b\n1,0,2\n3,1,4\n", &o, msg, &code);
    assert_non_null(d);
    assert_int_equal(d->n_rows, 2);
    assert_int_equal(d->target_col, 1);
    assert_string_equal(d->names[1], "label");
    assert_float_equal(d->x[2], 3.0, 0);
    assert_float_equal(d->y[1], 1.0, 0);
    assert_int_equal(d->line[0], 2);        /* header is row 1 */
    trn_data_destroy(&d);
    /* header false: a word in row 1 is a bad cell */
    o = trn_csv_opts_default();
    o.header = 0;
    assert_null(s_load(f, "a,b,c\n1,2,3\n", &o, msg, &code));
    assert_string_equal(msg, "row 1, column 1: 'a' is not a number");
    assert_int_equal(code, SW_EDATA);
    /* header true: an all-numeric first row is taken as names */
    o.header = 1;
    d = s_load(f, "10,20,30\n1,2,3\n", &o, msg, &code);
    assert_non_null(d);
    assert_int_equal(d->n_rows, 1);
    assert_string_equal(d->names[0], "10");
    trn_data_destroy(&d);
    /* unknown target name */
    o = trn_csv_opts_default();
    o.target_name = "y";
    assert_null(s_load(f, "a,b\n1,2\n", &o, msg, &code));
    assert_string_equal(msg, "no column named 'y' in the header");
    /* target index out of range */
    o = trn_csv_opts_default();
    o.target_index = 5;
    assert_null(s_load(f, "1,2\n", &o, msg, &code));
    assert_string_equal(msg, "target column 5 is out of range (the file has 2 columns)");
}

static void test_crlf_and_missing_final_newline(void **state)
{
    s_fix_t *f = *state;
    char msg[512];
    int code;
    trn_data_t *d = s_load(f, "x,y\r\n1.5,0\r\n2.5,1", NULL, msg, &code);
    assert_non_null(d);
    assert_int_equal(d->n_rows, 2);
    assert_string_equal(d->names[1], "y");  /* no stray \r */
    assert_float_equal(d->x[1], 2.5, 0);
    assert_float_equal(d->y[1], 1.0, 0);
    trn_data_destroy(&d);
    /* a blank line is skipped, but rows keep their numbers in messages */
    assert_null(s_load(f, "1,0\r\n\r\n2,x\r\n", NULL, msg, &code));
    assert_string_equal(msg, "row 3, column 2: 'x' is not a number");
}

static void test_bad_cells_name_row_and_column(void **state)
{
    s_fix_t *f = *state;
    char msg[512];
    int code;
    assert_null(s_load(f, "a,b,c\n1,2,3\n4,abc,6\n", NULL, msg, &code));
    assert_string_equal(msg, "row 3, column 2: 'abc' is not a number");
    assert_int_equal(code, SW_EDATA);
    assert_null(s_load(f, "1,2,3\n4,,6\n", NULL, msg, &code));
    assert_string_equal(msg, "row 2, column 2: missing value (empty cell); set trainer.impute "
                        "to \"mean\" or \"median\" to fill it");
    assert_null(s_load(f, "1,2,3\n4,5,\n", NULL, msg, &code));
    assert_string_equal(msg, "row 2, column 3: missing target value");
    assert_null(s_load(f, "1,2,3\n4,5,nan\n", NULL, msg, &code));
    assert_string_equal(msg, "row 2, column 3: missing target value");
    assert_null(s_load(f, "1,2,3\n4,5,6\n7,?,1\n", NULL, msg, &code));
    assert_string_equal(msg, "row 3, column 2: missing value '?'; set trainer.impute to "
                        "\"mean\" or \"median\" to fill it");
    assert_null(s_load(f, "1,2,3\nNaN,5,6\n", NULL, msg, &code));
    assert_string_equal(msg, "row 2, column 1: missing value 'NaN'; set trainer.impute to "
                        "\"mean\" or \"median\" to fill it");
    assert_int_equal(code, SW_EDATA);
    assert_null(s_load(f, "a;b;c\n1;2;x\n", NULL, msg, &code));   /* ';' is not the delimiter */
    assert_string_equal(msg, "row 1: 1 column, expected at least 2 (features and a target)");
    assert_null(s_load(f, "1,2,3\n4,5,6\n7,8\n", NULL, msg, &code));
    assert_string_equal(msg, "row 3: 2 columns, expected 3");
    assert_null(s_load(f, "1,2,3\n4,5,6,7\n", NULL, msg, &code));
    assert_string_equal(msg, "row 2: 4 columns, expected 3");
    assert_null(s_load(f, "", NULL, msg, &code));
    assert_string_equal(msg, "no data rows");
    assert_null(s_load(f, "a,b\n", NULL, msg, &code));
    assert_string_equal(msg, "no data rows after the header");
}

static void test_missing_values_imputed_from_training_rows(void **state)
{
    s_fix_t *f = *state;
    char msg[512];
    int code;
    trn_csv_opts_t o = trn_csv_opts_default();
    o.missing_ok = true;
    o.delimiter = ';';
    /* header detected (a word above a number, a '?' does not count), ';' delimiter */
    trn_data_t *d = s_load(f, "a;b;y\r\n1;?;0\r\n3;10;1\r\nNaN;20;0\r\n100;;1", &o, msg, &code);
    assert_non_null(d);
    assert_int_equal(d->n_rows, 4);
    assert_int_equal(d->n_missing, 3);
    assert_true(isnan(d->x[1]) && isnan(d->x[4]) && isnan(d->x[7]));
    /* fitted on rows 0..2 only: a = mean(1, 3) = 2 (row 3's 100 is not seen), b = 15 */
    const int rows[] = {0, 1, 2};
    trn_imputer_t imp = {0};
    assert_int_equal(trn_imputer_fit(&imp, TRN_IMPUTE_MEAN, d->x, 2, rows, 3), 0);
    assert_float_equal(imp.fill[0], 2.0, 0);
    assert_float_equal(imp.fill[1], 15.0, 0);
    assert_int_equal(trn_imputer_fit(&imp, TRN_IMPUTE_MEDIAN, d->x, 2, NULL, 4), 0);
    assert_float_equal(imp.fill[0], 3.0, 0);        /* median of 1, 3, 100 */
    assert_float_equal(imp.fill[1], 15.0, 0);       /* median of 10, 20 */
    trn_imputer_apply(&imp, d->x, 4);
    assert_float_equal(d->x[1], 15.0, 0);
    assert_float_equal(d->x[4], 3.0, 0);
    assert_float_equal(d->x[6], 100.0, 0);
    trn_imputer_clear(&imp);
    trn_data_destroy(&d);
}

static void test_text_labels_and_no_target(void **state)
{
    s_fix_t *f = *state;
    char msg[512];
    int code;
    trn_csv_opts_t o = trn_csv_opts_default();
    o.text_labels = true;
    /* no header: a text column above text is labels, not names */
    trn_data_t *d = s_load(f, "1,2,setosa\n3,4,virginica\n5,6,setosa\n7,8,versicolor", &o, msg, &code);
    assert_non_null(d);
    assert_null(d->names);
    assert_int_equal(d->n_rows, 4);
    assert_int_equal(d->n_classes, 3);
    assert_string_equal(d->classes[0], "setosa");
    assert_string_equal(d->classes[1], "versicolor");
    assert_string_equal(d->classes[2], "virginica");
    assert_float_equal(d->y[1], 2.0, 0);
    assert_float_equal(d->y[3], 1.0, 0);
    trn_data_destroy(&d);
    /* with a header and text labels */
    d = s_load(f, "w,h,kind\n1,2,cat\n3,4,dog\n", &o, msg, &code);
    assert_non_null(d);
    assert_string_equal(d->names[2], "kind");
    assert_int_equal(d->n_classes, 2);
    trn_data_destroy(&d);
    /* numeric labels stay numbers */
    d = s_load(f, "1,2,5\n3,4,7\n", &o, msg, &code);
    assert_non_null(d);
    assert_null(d->classes);
    assert_float_equal(d->y[1], 7.0, 0);
    trn_data_destroy(&d);
    /* without text_labels a word label is a bad cell */
    assert_null(s_load(f, "1,2,3\n1,2,cat\n", NULL, msg, &code));
    assert_string_equal(msg, "row 2, column 3: 'cat' is not a number");
    /* no target: every column is a feature */
    o = trn_csv_opts_default();
    o.target_index = TRN_NO_TARGET;
    d = s_load(f, "1,2,3\n4,5,6\n", &o, msg, &code);
    assert_non_null(d);
    assert_int_equal(d->n_features, 3);
    assert_int_equal(d->target_col, -1);
    assert_float_equal(d->x[5], 6.0, 0);
    trn_data_destroy(&d);
}

static void test_holdout_is_deterministic_and_stratified(void **state)
{
    (void)state;
    enum { N = 200 };
    int cls[N];
    bool a[N], b[N], c[N];
    for (int i = 0; i < N; i++)
        cls[i] = i < 150 ? 0 : 1;               /* 150 / 50 */
    assert_int_equal(trn_holdout_assign(N, 0.2, cls, 11, a), 40);
    assert_int_equal(trn_holdout_assign(N, 0.2, cls, 11, b), 40);
    assert_int_equal(trn_holdout_assign(N, 0.2, cls, 12, c), 40);
    int ones = 0, differ = 0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(a[i], b[i]);
        differ += a[i] != c[i];
        ones += a[i] && cls[i] == 1;
    }
    assert_int_equal(ones, 10);                 /* 30 of class 0, 10 of class 1 */
    assert_true(differ > 10);
    /* plain: ceil(0.25 * 10) = 3 rows */
    assert_int_equal(trn_holdout_assign(10, 0.25, NULL, 1, a), 3);
    assert_int_equal(trn_holdout_assign(10, 1.0, NULL, 1, a), SW_EINVAL);
    assert_int_equal(trn_holdout_assign(10, 0.0, NULL, 1, a), SW_EINVAL);
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[256];
    int code = 0;
    trn_csv_opts_t o = trn_csv_opts_default();
    assert_null(trn_data_load("/nonexistent/pima.csv", &o, err, sizeof err, &code));
    assert_string_equal(err, "/nonexistent/pima.csv: cannot read: No such file or directory");
    assert_int_equal(code, -ENOENT);
}

static void test_scaler_fits_training_rows_only(void **state)
{
    (void)state;
    /* one feature: training rows 0..3 = 1,2,3,4 (mean 2.5, sd sqrt(1.25)); row 4 = 100 is
     * held out and must not move the statistics */
    double x[5] = {1, 2, 3, 4, 100}, y[5] = {0};
    trn_data_t *d = trn_data_from_arrays(x, y, 5, 1, NULL);
    assert_non_null(d);
    int train[4] = {0, 1, 2, 3};
    trn_scaler_t s = {0};
    assert_int_equal(trn_scaler_fit(&s, d->x, 1, train, 4), 0);
    assert_float_equal(s.mean[0], 2.5, 1e-15);
    assert_float_equal(s.scale[0], sqrt(1.25), 1e-15);
    trn_scaler_apply(&s, d->x, 5);
    assert_float_equal(d->x[0], -1.5 / sqrt(1.25), 1e-12);
    assert_float_equal(d->x[4], 97.5 / sqrt(1.25), 1e-12);
    /* a constant feature keeps scale 1 */
    double c[3] = {7, 7, 7};
    int all[3] = {0, 1, 2};
    assert_int_equal(trn_scaler_fit(&s, c, 1, all, 3), 0);
    assert_float_equal(s.scale[0], 1.0, 0);
    trn_scaler_clear(&s);
    trn_data_destroy(&d);
}

static void test_stratified_folds_partition_and_preserve_classes(void **state)
{
    (void)state;
    char err[256];
    trn_csv_opts_t o = trn_csv_opts_default();
    trn_data_t *d = trn_data_load("examples/data/pima-indians-diabetes.csv", &o, err, sizeof err,
                                  NULL);
    assert_non_null(d);
    int n = d->n_rows;
    assert_int_equal(n, 768);
    int *cls = malloc((size_t)n * sizeof *cls);
    int *fa = malloc((size_t)n * sizeof *fa), *fb = malloc((size_t)n * sizeof *fb);
    int *fc = malloc((size_t)n * sizeof *fc);
    int pos = 0;
    for (int r = 0; r < n; r++) {
        cls[r] = (int)d->y[r];
        pos += cls[r];
    }
    assert_int_equal(pos, 268);             /* 500 negatives, 268 positives */
    assert_int_equal(trn_folds_assign(n, 3, cls, 7, fa), 0);
    assert_int_equal(trn_folds_assign(n, 3, cls, 7, fb), 0);
    assert_int_equal(trn_folds_assign(n, 3, cls, 8, fc), 0);
    int size[3] = {0}, ones[3] = {0}, differ = 0;
    for (int r = 0; r < n; r++) {
        assert_true(fa[r] >= 0 && fa[r] < 3);   /* every row in exactly one fold */
        assert_int_equal(fa[r], fb[r]);         /* same seed, same folds */
        differ += fa[r] != fc[r];
        size[fa[r]]++;
        ones[fa[r]] += cls[r];
    }
    assert_true(differ > 300);                  /* another seed, other folds */
    /* classes are numbered by first appearance (row 1 is a positive, so positives are
     * class 0); the sorted labels are dealt round-robin: 268 positives -> 90,89,89, then
     * the 500 negatives continue at position 268 (fold 1) -> 166,167,167 */
    assert_int_equal(ones[0], 90);
    assert_int_equal(ones[1], 89);
    assert_int_equal(ones[2], 89);
    assert_int_equal(size[0], 90 + 166);
    assert_int_equal(size[1], 89 + 167);
    assert_int_equal(size[2], 89 + 167);
    /* plain k-fold: sizes 256 each, a partition, deterministic */
    assert_int_equal(trn_folds_assign(n, 3, NULL, 7, fa), 0);
    assert_int_equal(trn_folds_assign(n, 3, NULL, 7, fb), 0);
    memset(size, 0, sizeof size);
    for (int r = 0; r < n; r++) {
        assert_int_equal(fa[r], fb[r]);
        size[fa[r]]++;
    }
    assert_int_equal(size[0], 256);
    assert_int_equal(size[2], 256);
    /* bad k */
    assert_int_equal(trn_folds_assign(n, 1, cls, 7, fa), SW_EINVAL);
    assert_int_equal(trn_folds_assign(3, 4, NULL, 7, fa), SW_EINVAL);
    free(cls);
    free(fa);
    free(fb);
    free(fc);
    trn_data_destroy(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_plain_and_target_by_index, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_header_detection_and_target_by_name, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_crlf_and_missing_final_newline, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_cells_name_row_and_column, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_values_imputed_from_training_rows, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_text_labels_and_no_target, s_setup, s_teardown),
        cmocka_unit_test(test_holdout_is_deterministic_and_stratified),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_scaler_fits_training_rows_only),
        cmocka_unit_test(test_stratified_folds_partition_and_preserve_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
