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
    int cv_folds;           /* 0 = no cross-validation; k >= 2 = k folds (1 is rejected) */
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
    int64_t grid_size;      /* what sw_spec_grid_size() returns, computed once by parse */
    struct sw_spec_grid *grid_; /* private: grid enumeration tables (see sw_spec_grid_point) */
} sw_spec_t;

/* Most points a grid may have; a larger grid is a validation error. */
#define SW_SPEC_GRID_MAX 10000000

/* Parse and validate a spec from TEXT (LEN bytes, need not be NUL-terminated).
 * ORIGIN names the source in messages (a file name; may be NULL): when given, every
 * message is prefixed with "ORIGIN: ".
 * Returns the spec (caller owns; free with sw_spec_destroy) or NULL, in which case
 * every fault found was appended to ERRS as "json.path: reason", in a fixed order
 * (duplicate keys, unknown top-level fields, then name, objective, method, seed,
 * parameters sorted by name, cv, limits, pruner, sampler, trainer; a JSON syntax
 * error is one message
 * "line L, column C: JSON syntax error ..."; the root is named "(root)").
 * docs/SPEC.md lists every field and its constraints. ERRS may be NULL. */
sw_spec_t *sw_spec_parse(const char *text, size_t len, const char *origin, sw_errs_t *errs);

/* Read the file at PATH and parse it as sw_spec_parse() does with ORIGIN = PATH,
 * so every message starts with "PATH: ". An unreadable file is reported in ERRS as
 * "PATH: reason". Caller owns the result. */
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
 * parameter is continuous (float without step). Saturates at INT64_MAX.
 * With conditional parameters (`when`) it counts distinct configurations: points
 * that differ only in inactive parameters count once. That count needs the full
 * product to be at most SW_SPEC_GRID_MAX; above it (possible only for non-grid
 * methods, which do not enumerate) the full product is returned as an upper bound. */
int64_t sw_spec_grid_size(const sw_spec_t *spec);

/* Decode grid point NUMBER (0-based, in grid order) into one value index per
 * parameter: IDX is an array of spec->n_params entries (same order as
 * spec->params), filled with the index of the parameter's value on its grid (see
 * sw_param_grid_value) or -1 when the parameter is inactive at that point.
 * Grid order is the mixed-radix decoding of the point over the parameters sorted
 * by name, the last name varying fastest (scikit-learn's ParameterGrid); with
 * conditions, the points whose inactive parameters are not all at index 0 are
 * skipped, so each distinct configuration appears once. Cost: O(n_params) without
 * conditions, a scan of at most a few hundred raw points with them.
 * Returns 0; SW_EEXHAUSTED when NUMBER < 0 or >= sw_spec_grid_size(); SW_EINVAL
 * when the spec is not enumerable (continuous parameter, or a conditional product
 * above SW_SPEC_GRID_MAX). */
int sw_spec_grid_point(const sw_spec_t *spec, int64_t number, int64_t *idx);

/* Number of values of PARAM on a grid: categorical n_values, int and stepped float
 * (high - low) / step + 1; -1 for a float without step. Saturates at INT64_MAX. */
int64_t sw_param_grid_count(const sw_param_t *param);

/* Value I (0 <= I < sw_param_grid_count) of PARAM on its grid, as a new cJSON item
 * (caller owns; cJSON_Delete): categorical: a copy of values[I] keeping its JSON
 * type; int: LOW + I*STEP (an integral number); float: LOW + I*STEP rounded to 15
 * significant digits to drop binary noise (0.30000000000000004 -> 0.3), the last
 * point snapped to HIGH. NULL when I is out of range or on OOM. */
cJSON *sw_param_grid_value(const sw_param_t *param, int64_t i);

/* Which parameters are active given their values. VALUES: spec->n_params JSON
 * values in spec->params order (borrowed; NULL for a parameter without a value).
 * ACTIVE (out): spec->n_params booleans. A parameter is active when it has no
 * `when`, or when every parameter its `when` names is itself active and has a value
 * equal (sw_json_equal) to the listed value or to one of the listed values. */
void sw_spec_active(const sw_spec_t *spec, const cJSON *const *values, bool *active);

/* Whether two JSON values are equal: same type, numbers equal as doubles (10 and
 * 10.0 are equal), strings byte-equal, arrays element-wise, objects key-wise
 * (order-insensitive). */
bool sw_json_equal(const cJSON *a, const cJSON *b);

/* Whether VALUE (a JSON value) lies in PARAM's domain (type, bounds, step lattice,
 * categorical membership). Used to check stored and trainer-facing values. */
bool sw_param_contains(const sw_param_t *param, const cJSON *value);

/* Canonical JSON text of any cJSON value: object keys sorted (byte order, at every
 * depth), integers up to 2^53 printed without exponent or ".0", other numbers with
 * the fewest of 15, 16 or 17 significant digits that reads back to the same double
 * (non-finite numbers as null), strings escaped as JSON, no whitespace.
 * Caller frees; NULL on OOM. */
char *sw_json_canonical(const cJSON *value);

/* ---------------------------------------------------------------------------
 *  Pruner and sampler options: the one place their rules live. sw_spec_parse()
 *  runs both on the spec's "pruner" and "sampler" objects, and coord_pruner_new()
 *  and coord_tpe_new() read their settings through the same two functions, so a
 *  spec that parses always builds its pruner and sampler.
 */

typedef enum {
    SW_PRUNER_NONE,
    SW_PRUNER_MEDIAN,
    SW_PRUNER_ASHA,
    SW_PRUNER_HYPERBAND
} sw_pruner_type_t;

/* Parsed "pruner" object (docs/SAMPLERS.md, coordinator/coord_pruner.h). */
typedef struct {
    sw_pruner_type_t type;
    const char *metric;         /* monitored metric (borrowed: from the pruner object,
                                   or OBJECTIVE_METRIC when absent) */
    sw_direction_t direction;   /* its direction */
    bool folds;                 /* fold pruning */
    int n_startup_trials;       /* median: 5; asha, hyperband: 0 unless given */
    int n_warmup_steps;         /* median: 0 */
    int interval_steps;         /* median: 1 */
    double min_resource;        /* asha, hyperband: 1 (alias min_step), > 0 */
    double reduction_factor;    /* asha, hyperband: 3, > 1 */
    double max_resource;        /* asha: 0 = unbounded; hyperband: required; >= min */
    int min_early_stopping_rate;/* asha: 0 */
} sw_pruner_opts_t;

/* Read the pruner object PRUNER (NULL: type none) of a sweep whose objective is
 * OBJECTIVE_METRIC (borrowed) with OBJECTIVE_DIRECTION into *OUT (defaults first,
 * then the given fields). Rules: "type" one of none, median, asha, hyperband; only
 * the options of that type (plus metric, direction, folds); n_startup_trials and
 * n_warmup_steps integers >= 0; interval_steps an integer >= 1; min_resource (or
 * min_step) a number > 0; reduction_factor a number > 1; max_resource a number > 0
 * and >= min_resource (required for hyperband); min_early_stopping_rate an integer
 * >= 0; folds a boolean; metric a non-empty string; direction "minimize" or
 * "maximize", required when metric is not the objective's and equal to the
 * objective's when it is. Returns 0, or SW_EINVAL after appending one
 * "pruner.KEY: reason" message per fault to ERRS (may be NULL), e.g.
 * "pruner.reduction_factor: must be a number > 1". */
int sw_spec_pruner_options(const cJSON *pruner, const char *objective_metric,
                           sw_direction_t objective_direction, sw_pruner_opts_t *out,
                           sw_errs_t *errs);

/* TPE's kernel-density estimator variant. */
typedef enum {
    SW_TPE_OPTUNA31,            /* "optuna3.1": Optuna 3.1's _ParzenEstimator */
    SW_TPE_OPTUNA4              /* "optuna4": Optuna 4's (prior outside the bandwidth
                                   neighbours, normalised densities) */
} sw_tpe_estimator_t;

/* Weights of the observations in each Parzen estimator. */
typedef enum {
    SW_TPE_WEIGHTS_UNIFORM,     /* "uniform": every observation weighs 1 */
    SW_TPE_WEIGHTS_OPTUNA       /* "optuna": Optuna's default_weights, a ramp from 1/n
                                   to 1 over all but the newest 25 observations */
} sw_tpe_weights_t;

/* How TPE proposes its first n_startup_trials trials. */
typedef enum {
    SW_TPE_STARTUP_LHS,         /* "lhs": a Latin hypercube over trials 0 .. n - 1 */
    SW_TPE_STARTUP_RANDOM       /* "random": the random sampler's proposals */
} sw_tpe_startup_t;

/* Bandwidths of the multivariate estimator's kernels (univariate estimators always
 * use the neighbour rule). */
typedef enum {
    SW_TPE_BW_HYPEROPT,         /* "hyperopt": per kernel and dimension, the larger gap
                                   to a neighbouring mean (Bergstra et al. 2011's rule,
                                   as the univariate estimator; Watanabe 2023, Table 6) */
    SW_TPE_BW_OPTUNA            /* "optuna": Optuna's multivariate TPE, one bandwidth
                                   0.2 n^(-1/(d+4)) (high - low) per dimension */
} sw_tpe_bandwidth_t;

/* Parsed "sampler" object of the tpe method (docs/SAMPLERS.md has each default and
 * how the ones that differ from Optuna 3.1's were chosen). */
typedef struct {
    int n_startup_trials;       /* 10; integer >= 0 */
    int n_ei_candidates;        /* 24; integer >= 1 */
    double gamma;               /* 0.1; (0, 1] */
    double prior_weight;        /* 5.0; finite > 0 */
    bool multivariate;          /* true */
    bool constant_liar;         /* true */
    bool consider_endpoints;    /* false */
    sw_tpe_estimator_t estimator;   /* "optuna3.1" */
    sw_tpe_weights_t weights;       /* "uniform" */
    sw_tpe_startup_t startup;       /* "lhs" */
    sw_tpe_bandwidth_t mv_bandwidth;    /* "hyperopt" (key "multivariate_bandwidth") */
} sw_tpe_opts_t;

/* Read the sampler object SAMPLER (NULL: every default) into *OUT. Rules: "type"
 * must be "tpe"; no other keys than those of sw_tpe_opts_t; each in its range
 * above; booleans are JSON booleans; estimator "optuna3.1" or "optuna4"; weights
 * "uniform" or "optuna"; startup "lhs" or "random"; multivariate_bandwidth
 * "hyperopt" or "optuna".
 * Returns 0, or SW_EINVAL after appending one "sampler.KEY: reason" message per
 * fault to ERRS (may be NULL), e.g. "sampler.n_ei_candidates: must be an integer
 * >= 1". */
int sw_spec_tpe_options(const cJSON *sampler, sw_tpe_opts_t *out, sw_errs_t *errs);

#endif
