/*  trn_model.h - a trained model of the built-in trainer: what prediction needs, saved
 *  to and loaded from a versioned file
 *
 *  A model is the network (architecture and weights) plus everything that turns a raw
 *  CSV row into its input (the imputer's fill values, the scaler's mean and scale, all
 *  fitted on the training rows) and its output back into a label (the classes). The
 *  file format ("sweepd-mlp", version 1) is one JSON document, described field by field
 *  in docs/TRAINER.md ("Model files").
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TRN_MODEL_H
#define TRN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "worker/trn_data.h"
#include "worker/trn_mlp.h"

#define TRN_MODEL_FORMAT  "sweepd-mlp"
#define TRN_MODEL_VERSION 1

typedef enum {
    TRN_TASK_BINARY = 0,            /* one sigmoid output, two classes */
    TRN_TASK_MULTICLASS,            /* softmax over the distinct labels */
    TRN_TASK_REGRESSION             /* linear (or tanh) outputs, any number */
} trn_task_t;

/* Name of a task ("binary", "multiclass", "regression"); static string. */
const char *trn_task_name(trn_task_t task);

/* A trained model. Every pointer is owned by the model. */
typedef struct {
    trn_task_t task;
    int n_features;                 /* network inputs */
    int n_cols;                     /* columns of the training file (features + target) */
    int target_col;                 /* 0-based column of the target in the training file */
    char **names;                   /* N_COLS column names of the training file, or NULL */
    int n_classes;                  /* classification: the labels, in output order; */
    char **classes;                 /*   binary: [negative, positive] */
    trn_impute_t impute;            /* imputer (NONE: missing cells are an error) */
    double *fill;                   /* N_FEATURES fill values, or NULL */
    double *mean, *scale;           /* N_FEATURES standardization, or NULL */
    trn_mlp_t *mlp;                 /* the network with its weights */
    char *info;                     /* JSON object text of extra facts (metrics, trainer
                                       settings) stored in the file as "info", or NULL */
} trn_model_t;

/* Free MODEL and everything it owns; set *MODEL_P to NULL. NULL is fine. */
void trn_model_destroy(trn_model_t **model_p);

/* Write MODEL to PATH (replaced atomically: a temporary file in the same directory,
 * then rename). Returns 0, or -errno / SW_ENOMEM with ERR set. */
int trn_model_save(const trn_model_t *model, const char *path, char *err, size_t errlen);

/* Read a model file. Returns the model (caller owns; trn_model_destroy) or NULL with
 * ERR set and *CODE_OUT (may be NULL) = -errno (unreadable), SW_EDATA (not a sweepd-mlp
 * file, an unsupported version, or a field missing or of the wrong shape: the message
 * names the field) or SW_ENOMEM. */
trn_model_t *trn_model_load(const char *path, char *err, size_t errlen, int *code_out);

/* Predict N rows of X (N x n_features, raw values as read, NaN for missing cells; changed
 * in place: imputed and standardized) into OUT (N x K outputs: probabilities for
 * classification, values for regression; K = 1 for binary). LINES (may be NULL) gives
 * each row's line for messages. Returns 0, or SW_EDATA with ERR naming the row and
 * column of a missing value when the model has no imputer. */
int trn_model_predict(trn_model_t *model, double *x, int n, const int *lines, double *out,
                      char *err, size_t errlen);

/* Outputs per row (K): 1 for binary and single-target regression, the class count for
 * multiclass. */
int trn_model_outputs(const trn_model_t *model);

/* `sweepd predict`: read the CSV file PATH (HEADER 1/0/-1 auto, DELIMITER) with or without
 * the target column (a file with n_cols columns has its target_col dropped; one with
 * n_features columns is all features), predict every row and write one line per row to
 * OUT: the class label (classification) or the value (regression); with PROBA the
 * class probabilities too, comma-separated after the label (binary: the positive
 * class's). With HEADER_OUT a first line names the columns. Returns the number of rows,
 * or a negative code with ERR set (as trn_data_load; SW_EDATA for a column count that
 * fits neither). */
int trn_model_predict_csv(trn_model_t *model, const char *path, int header, char delimiter,
                          bool proba, bool header_out, FILE *out, char *err, size_t errlen);

#endif
