/*  trn_data.h - tabular datasets for the built-in trainer: CSV loading, standardization,
 *  cross-validation folds
 *
 *  A dataset is a dense numeric table read from a CSV file: N_ROWS rows of N_FEATURES
 *  feature columns (row-major doubles) and one target column. Every cell must be a finite
 *  number; the loader reports the first bad cell with the file, the row and the column
 *  (both 1-based, the row counted as a line of the file, header included), so that
 *  a user can open the file at that line. Folds and the standard scaler work on row
 *  indices, so that training, validation and held-out rows never share statistics.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TRN_DATA_H
#define TRN_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How to read a CSV file. Zero-initialised options are not valid: use
 * trn_csv_opts_default(). */
typedef struct {
    int header;             /* 1 = first row is a header, 0 = no header, -1 = auto:
                               the first row is a header when one of its cells is a word
                               (not a number, not a missing-value marker) in a column
                               whose second-row cell is a number or missing (so a text
                               label column alone does not make a header) */
    char delimiter;         /* cell separator, e.g. ',' or ';' or '\t' */
    int target_index;       /* target column, 0-based; negative counts from the end
                               (-1 = last); ignored when TARGET_NAME is set;
                               TRN_NO_TARGET: every column is a feature (prediction) */
    const char *target_name;/* target column by header name, or NULL (borrowed) */
    bool missing_ok;        /* a missing feature cell (empty, '?', NaN, NA) is read as NaN
                               (to be imputed) instead of an error */
    bool text_labels;       /* target cells may be words: then every target cell is a
                               class name (classification) */
} trn_csv_opts_t;

/* target_index value for a file without a target column. */
#define TRN_NO_TARGET (-2147483647 - 1)

/* A loaded dataset (all fields owned by it). */
typedef struct {
    int n_rows;             /* data rows (header excluded) */
    int n_features;         /* feature columns (every column except the target) */
    double *x;              /* N_ROWS x N_FEATURES, row-major */
    double *y;              /* N_ROWS target values, as read */
    int *line;              /* N_ROWS: 1-based row of each data row in the file, for
                               messages about a row (e.g. a label that is not 0 or 1) */
    int target_col;         /* 0-based column of the target in the file; -1 without */
    int n_cols;             /* columns of the file: N_FEATURES (+ 1 with a target) */
    char **names;           /* N_COLS column names in file order when the file has a
                               header, else NULL */
    char **classes;         /* with text labels: the N_CLASSES distinct label strings,
                               sorted by strcmp (scikit-learn's LabelEncoder order), and
                               Y holds each row's index into them; else NULL */
    int n_classes;          /* entries of CLASSES (0 for numeric targets) */
    int n_missing;          /* feature cells read as NaN (only with missing_ok) */
    char *path;             /* the file name as given, for messages */
} trn_data_t;

/* Default options: header auto, ',' delimiter, the last column is the target. */
trn_csv_opts_t trn_csv_opts_default(void);

/* Read the CSV file PATH. Cells are numbers as strtod(3) reads them, optionally padded
 * with spaces and optionally inside double quotes; no embedded delimiters. Lines end
 * with LF or CRLF; the last line needs no newline; blank lines are skipped (as pandas
 * does).
 * Returns a dataset (caller owns; free with trn_data_destroy) or NULL with a message in
 * ERR (ERRLEN bytes, NUL-terminated) such as
 *     data.csv: row 12, column 3: 'abc' is not a number
 *     data.csv: row 7, column 2: missing value (empty cell); set trainer.impute to
 *         "mean" or "median" to fill it        (one line; likewise for '?', NaN, NA)
 *     data.csv: row 7, column 9: missing target value
 *     data.csv: row 9: 8 columns, expected 9
 *     data.csv: cannot read: No such file or directory
 *     data.csv: no column named 'label' in the header
 * *CODE_OUT (may be NULL) receives SW_EDATA for bad content or options, -errno for
 * an unreadable file, SW_ENOMEM when out of memory. */
trn_data_t *trn_data_load(const char *path, const trn_csv_opts_t *opts, char *err,
                          size_t errlen, int *code_out);

/* Build a dataset from memory: X is N_ROWS x N_FEATURES row-major, Y N_ROWS values;
 * both are copied. NAME names it in messages (copied; NULL = "memory").
 * Returns NULL when out of memory. Tests and benchmarks use it. */
trn_data_t *trn_data_from_arrays(const double *x, const double *y, int n_rows,
                                 int n_features, const char *name);

/* Free DATA and set *DATA_P to NULL; NULL and a NULL *DATA_P are fine. */
void trn_data_destroy(trn_data_t **data_p);

/* Per-feature standardization z = (x - mean) / scale, like scikit-learn's
 * StandardScaler: mean and population standard deviation (ddof 0) of the rows it was
 * fitted on; a constant feature gets scale 1. */
typedef struct {
    int n_features;
    double *mean;           /* N_FEATURES, owned */
    double *scale;          /* N_FEATURES, owned */
} trn_scaler_t;

/* Fit SCALER on the rows ROWS[0..N_ROWS-1] of X (stride N_FEATURES), and only those
 * (fit on training rows; validation and held-out rows are transformed with these
 * statistics, never fitted on); ROWS NULL means rows 0..N_ROWS-1. Returns 0 or
 * SW_ENOMEM. Free with trn_scaler_clear. */
int trn_scaler_fit(trn_scaler_t *scaler, const double *x, int n_features,
                   const int *rows, int n_rows);

/* Standardize N_ROWS rows of X (N_ROWS x N_FEATURES, row-major) in place. */
void trn_scaler_apply(const trn_scaler_t *scaler, double *x, int n_rows);

/* Free the scaler's arrays; it can be fitted again. */
void trn_scaler_clear(trn_scaler_t *scaler);

/* Imputation of missing feature values (NaN), like scikit-learn's SimpleImputer. */
typedef enum { TRN_IMPUTE_NONE = 0, TRN_IMPUTE_MEAN, TRN_IMPUTE_MEDIAN } trn_impute_t;

typedef struct {
    int n_features;
    trn_impute_t kind;
    double *fill;           /* N_FEATURES fill values, owned */
} trn_imputer_t;

/* Fit IMPUTER: per feature, the mean or the median (mean of the two middle values for
 * an even count) of the non-NaN values among rows ROWS[0..N_ROWS-1] of X (ROWS NULL: rows
 * 0..N_ROWS-1), and only those rows (no leakage from validation or held-out rows); a
 * feature with no value there is filled with 0. Returns 0 or SW_ENOMEM. */
int trn_imputer_fit(trn_imputer_t *imputer, trn_impute_t kind, const double *x, int n_features,
                    const int *rows, int n_rows);

/* Replace every NaN in N_ROWS rows of X (row-major) by its feature's fill value. */
void trn_imputer_apply(const trn_imputer_t *imputer, double *x, int n_rows);

/* Free the imputer's array. */
void trn_imputer_clear(trn_imputer_t *imputer);

/* Choose the held-out test rows of a sweep (the spec's trainer.test_split), before any
 * fold or tuning sees the data: sets IS_TEST[r] (caller's N bools) and returns how many.
 * Not stratified (CLASSES NULL): ceil(FRAC N) rows (as scikit-learn's train_test_split)
 * of a permutation drawn from SEED. Stratified: each class c gives round(FRAC n_c) of
 * its rows (at least 1 when FRAC N >= 1, and never all of them), chosen by a seeded
 * shuffle of the class's rows. Deterministic for a given N, CLASSES, FRAC and SEED.
 * Returns the count, SW_EINVAL for FRAC outside (0, 1) or a split that leaves no
 * training row, or SW_ENOMEM. */
int trn_holdout_assign(int n, double frac, const int *classes, uint64_t seed, bool *is_test);

/* Assign each of N rows to one of K folds (K >= 2, K <= N), deterministically from
 * SEED: FOLD_OF[r] in [0, K) (caller's array of N ints).
 *
 * Stratified (CLASSES != NULL: a class index >= 0 per row) follows scikit-learn's
 * StratifiedKFold(shuffle=True) (sklearn/model_selection/_split.py, _make_test_folds):
 * classes are numbered in order of first appearance; the rows sorted by class are dealt
 * round-robin to the folds (position j goes to fold j mod K), which fixes how many rows
 * of each class each fold gets; then, class by class, those fold labels are shuffled and
 * given to the class's rows in file order. Fold sizes differ by at most one per class
 * and class proportions are preserved. The shuffle uses sw_rng seeded with SEED, so the
 * folds match scikit-learn's counts but not its exact rows (numpy's generator differs).
 *
 * Not stratified (CLASSES == NULL; regression) follows KFold(shuffle=True): the rows
 * are permuted and cut into K contiguous parts, the first N mod K one row larger.
 *
 * Returns 0, SW_EINVAL when K is out of range or a class index is negative, or
 * SW_ENOMEM. */
int trn_folds_assign(int n, int k, const int *classes, uint64_t seed, int *fold_of);

#endif
