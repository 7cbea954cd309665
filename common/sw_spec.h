/*  sw_spec.h - the sweep spec: parse, validate, canonical form, comparison
 *
 *  A sweep spec is a JSON document (see docs/SPEC.md for every field):
 *
 *      { "name": "pima-mlp",
 *        "objective": {"metric": "val_accuracy", "direction": "maximize"},
 *        "method": "grid" | "random" | "tpe",   "seed": 42,
 *        "parameters": { NAME: {"type": "float"|"int"|"categorical", ...}, ... },
 *        "cv": {"folds": 3, "stratified": true, "seed": 7},
 *        "limits": {"max_trials": 200, "max_failed": 20, "max_retries": 3,
 *                   "max_time_s": 3600, "trial_timeout_s": 600},
 *        "pruner": {...},                        (optional)
 *        "trainer": {"type": "mlp", ...} | {"type": "command", "argv": [...]} }
 *
 *  sw_spec_parse() checks everything it can before anything is stored, and reports
 *  every fault with its JSON path and the reason, e.g.
 *      parameters.lr.low: must be > 0 when log is true
 *  The parsed spec is read-only afterwards. Parameters are kept sorted by name:
 *  that order is the grid's enumeration order (the last name varies fastest, as in
 *  scikit-learn's ParameterGrid) and does not depend on key order in the file.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_SPEC_H
#define SW_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include <cJSON.h>

#include "common/sw_err.h"

typedef enum { SW_PARAM_FLOAT, SW_PARAM_INT, SW_PARAM_CATEGORICAL } sw_param_type_t;
typedef enum { SW_DIR_MINIMIZE, SW_DIR_MAXIMIZE } sw_direction_t;
typedef enum { SW_METHOD_GRID, SW_METHOD_RANDOM, SW_METHOD_TPE } sw_method_t;

/* One hyperparameter's domain. Bounds are inclusive for int and float. */
typedef struct {
    char *name;             /* search-space name, owned */
    sw_param_type_t type;
    double low, high;       /* float and int: inclusive bounds */
    double step;            /* float and int: lattice step from LOW; 0 = none (int: 1) */
    bool log;               /* float and int: sample uniformly in log space */
    const cJSON *values;    /* categorical: JSON array of values of any JSON type
                               (borrowed from the spec's root) */
    int n_values;           /* categorical: number of values */
    const cJSON *when;      /* condition object {other_param: value or [values]}, or NULL
                               when the parameter is always active (borrowed) */
} sw_param_t;

/* A parsed, validated spec. Read-only after sw_spec_parse(); fields are public so
 * samplers and the scheduler can read them directly. */
typedef struct {
    char *name;             /* sweep name, unique inside a database */
    char *metric;           /* objective metric name, e.g. "val_accuracy" */
    sw_direction_t direction;
    sw_method_t method;
    uint64_t seed;          /* sampler seed (default 0) */
    int n_params;
    sw_param_t *params;     /* N_PARAMS parameters sorted by name (strcmp) */
    int cv_folds;           /* 0 or 1 = no cross-validation; k >= 2 = k folds */
    bool cv_stratified;     /* default true */
    uint64_t cv_seed;       /* fold assignment seed (default 0) */
    int64_t max_trials;     /* 0 = unlimited (grid: the grid's size) */
    int64_t max_failed;     /* 0 = unlimited */
    int max_retries;        /* retries of an attempt lost with its worker (default 3) */
    double max_time_s;      /* 0 = unlimited; counts serving time only */
    double trial_timeout_s; /* per attempt; 0 = none */
    const cJSON *pruner;    /* pruner object or NULL (borrowed) */
    const cJSON *sampler;   /* sampler options object or NULL (borrowed), e.g. TPE's */
    const cJSON *trainer;   /* trainer object (borrowed); "type" is "mlp", "command"
                               or "function" */
    cJSON *root;            /* the whole document, owned */
    char *canonical;        /* canonical JSON text (keys sorted, no spaces), owned */
} sw_spec_t;

/* Parse and validate a spec from TEXT (LEN bytes, need not be NUL-terminated).
 * ORIGIN names the source in messages (a file name; may be NULL).
 * Returns the spec (caller owns; free with sw_spec_destroy) or NULL, in which case
 * every fault found was appended to ERRS as "json.path: reason" (a JSON syntax
 * error reports its line and column). */
sw_spec_t *sw_spec_parse(const char *text, size_t len, const char *origin, sw_errs_t *errs);

/* Read the file at PATH and parse it as sw_spec_parse() does. An unreadable file
 * is reported in ERRS as "PATH: reason". Caller owns the result. */
sw_spec_t *sw_spec_load(const char *path, sw_errs_t *errs);

/* Free SPEC and set *SPEC_P to NULL; NULL or an already freed pointer is fine. */
void sw_spec_destroy(sw_spec_t **spec_p);

/* Find a parameter by name; borrowed pointer or NULL. */
const sw_param_t *sw_spec_param(const sw_spec_t *spec, const char *name);

/* Compare two specs by their canonical forms. Returns 0 when equal; otherwise
 * appends one entry per differing JSON path ("parameters.lr.high") to DIFFS and
 * returns the number of paths that differ. Changes under "limits" are listed but
 * not counted when IGNORE_LIMITS is true (raising max_trials extends a sweep). */
int sw_spec_diff(const sw_spec_t *a, const sw_spec_t *b, bool ignore_limits, sw_errs_t *diffs);

/* Number of grid points (product of every parameter's value count), or -1 when a
 * parameter is continuous (float without step). Saturates at INT64_MAX. */
int64_t sw_spec_grid_size(const sw_spec_t *spec);

/* Whether VALUE (a JSON value) lies in PARAM's domain (type, bounds, step lattice,
 * categorical membership). Used to check stored and trainer-facing values. */
bool sw_param_contains(const sw_param_t *param, const cJSON *value);

/* Canonical JSON text of any cJSON value: object keys sorted, numbers printed
 * with the shortest round-trip form, no whitespace. Caller frees. */
char *sw_json_canonical(const cJSON *value);

#endif
