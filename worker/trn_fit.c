/*  trn_fit.c - configuration, fit loop, early stopping, cross-validation and report
 *  lines of the built-in trainer
 *
 *  Configuration: the trainer object is read field by field through one setter
 *  (s_set) that also applies a trial's parameter overrides, so a field and the
 *  parameter that overrides it are checked by the same code with the same message,
 *  only the JSON path differs ("trainer.lr" vs "params.lr"). Defaults that depend on
 *  other fields (task from loss, loss and output activation from task, lr from the
 *  optimizer) are filled in at the end (s_finish).
 *
 *  The fit loop mirrors Keras' Model.fit: validation rows cut off the end before any
 *  shuffling, per-epoch reshuffle, a step per batch with the last batch smaller, epoch
 *  metrics as sample-weighted means of the per-batch values, and EarlyStopping as in
 *  Keras 3 (keras/src/callbacks/early_stopping.py). All buffers are allocated before
 *  the first epoch; a step allocates nothing.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/trn_fit.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_rng.h"

/* ---- configuration ------------------------------------------------------------- */

/* Settings whose defaults depend on others, or that combine (units, hidden_layers). */
typedef struct {
    bool task_set, loss_set, out_set, lr_set;
    bool mom_set, nesterov_set, beta1_set, beta2_set, rho_set, eps_set, wd_set, iav_set;
    double lr, momentum, beta_1, beta_2, rho, epsilon, weight_decay, iav;
    double dropout;                 /* one rate for every hidden layer; < 0 = not given */
    int dropout_n;                  /* rates given as an array, -1 = not an array */
    bool test_strat_set;
    bool nesterov;
    int units;                      /* 0 = not given */
    int hidden_layers;              /* -1 = not given */
    int units_k[TRN_MAX_LAYERS];    /* 0 = not given; units_1 is [0] */
    const char *units_k_path[TRN_MAX_LAYERS];
    int units_k_max;                /* largest k given */
    const char *units_k_max_path;
    const char *hidden_layers_path;
} s_pending_t;

#define S_PATH_MAX 160

static void s_path(char *buf, const char *base, const char *key)
{
    snprintf(buf, S_PATH_MAX, "%s.%s", base, key);
}

static bool s_integral(const cJSON *it, double *v)
{
    if (!cJSON_IsNumber(it))
        return false;
    *v = it->valuedouble;
    return isfinite(*v) && *v == floor(*v) && fabs(*v) <= 9007199254740992.0;
}

/* Integer in [LO, HI]; 0 on success, 1 after appending an error. */
static int s_int(const cJSON *it, const char *path, long lo, long hi, int *out, sw_errs_t *errs)
{
    double v;
    if (!s_integral(it, &v) || v < (double)lo || v > (double)hi) {
        if (s_integral(it, &v) && v > (double)hi)
            sw_errs_add(errs, "%s: must be at most %ld", path, hi);
        else
            sw_errs_add(errs, "%s: must be an integer >= %ld", path, lo);
        return 1;
    }
    *out = (int)v;
    return 0;
}

/* Number with bounds; LO_OPEN / HI_OPEN exclude the bound; HI = INFINITY for none. */
static int s_num(const cJSON *it, const char *path, double lo, bool lo_open, double hi,
                 bool hi_open, double *out, sw_errs_t *errs)
{
    double v = cJSON_IsNumber(it) ? it->valuedouble : NAN;
    bool ok = isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
    if (!ok) {
        if (isinf(hi))
            sw_errs_add(errs, "%s: must be a number %s %g", path, lo_open ? ">" : ">=", lo);
        else
            sw_errs_add(errs, "%s: must be a number in %c%g, %g%c", path, lo_open ? '(' : '[', lo,
                        hi, hi_open ? ')' : ']');
        return 1;
    }
    *out = v;
    return 0;
}

/* A seed: an integer >= 0 into *OUT; 0, or 1 after one "PATH: ..." message. */
static int s_seed(const cJSON *it, const char *path, uint64_t *out, sw_errs_t *errs)
{
    double v;
    if (!s_integral(it, &v) || v < 0) {
        sw_errs_add(errs, "%s: must be an integer >= 0", path);
        return 1;
    }
    *out = (uint64_t)v;
    return 0;
}

static int s_bool(const cJSON *it, const char *path, bool *out, sw_errs_t *errs)
{
    if (!cJSON_IsBool(it)) {
        sw_errs_add(errs, "%s: must be true or false", path);
        return 1;
    }
    *out = cJSON_IsTrue(it);
    return 0;
}

static int s_string(const cJSON *it, const char *path, const char **out, sw_errs_t *errs)
{
    if (!cJSON_IsString(it) || !it->valuestring) {
        sw_errs_add(errs, "%s: must be a string", path);
        return 1;
    }
    *out = it->valuestring;
    return 0;
}

static int s_act(const cJSON *it, const char *path, bool output, trn_act_t *out, sw_errs_t *errs)
{
    const char *s;
    if (s_string(it, path, &s, errs))
        return 1;
    trn_act_t a;
    if (trn_act_parse(s, &a) < 0 || (!output && a == TRN_ACT_SOFTMAX)) {
        sw_errs_add(errs, "%s: unknown activation '%s' (expected relu, leaky_relu, elu, tanh, "
                    "sigmoid, linear%s)", path, s, output ? ", softmax" : "");
        return 1;
    }
    *out = a;
    return 0;
}


/* Parameter names that override a trainer field one to one. */
static const char *const s_param_fields[] = {
    "batch_size", "epochs", "optimizer", "lr", "momentum", "nesterov", "activation",
    "output_activation", "validation_split", "loss", "beta_1", "beta_2", "rho", "epsilon",
    "shuffle", "standardize", "dropout", "l2", "kernel_initializer", "weight_decay",
    "initial_accumulator_value", NULL};

/* units_K with 1 <= K <= TRN_MAX_LAYERS: returns K, else 0. */
static int s_units_index(const char *name)
{
    if (strncmp(name, "units_", 6) != 0 || name[6] < '1' || name[6] > '9')
        return 0;
    char *end;
    long k = strtol(name + 6, &end, 10);
    return *end == '\0' && k >= 1 && k <= TRN_MAX_LAYERS ? (int)k : 0;
}

static bool s_param_known(const char *name)
{
    for (int i = 0; s_param_fields[i]; i++)
        if (strcmp(name, s_param_fields[i]) == 0)
            return true;
    return strcmp(name, "units") == 0 || strcmp(name, "hidden_layers") == 0 ||
           strcmp(name, "patience") == 0 || strcmp(name, "min_delta") == 0 ||
           s_units_index(name) > 0;
}

/* IT (at PATH) as one of NAMES (NULL-terminated): its index to *OUT. Returns 0, or 1
 * after one "PATH: unknown WHAT 'x' (expected a, b, c)" message. */
static int s_enum(const cJSON *it, const char *path, const char *what,
                  const char *const *names, int *out, sw_errs_t *errs)
{
    const char *s;
    if (s_string(it, path, &s, errs))
        return 1;
    char expected[256] = "";
    size_t len = 0;
    for (int i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
        len += (size_t)snprintf(expected + len, len < sizeof expected ? sizeof expected - len : 0,
                                "%s%s", i ? ", " : "", names[i]);
    }
    sw_errs_add(errs, "%s: unknown %s '%s' (expected %s)", path, what, s, expected);
    return 1;
}

/* Mode name: auto | min | max (trn_mode_t order). */
static int s_mode(const cJSON *f, const char *p, trn_mode_t *mode, sw_errs_t *errs)
{
    static const char *const names[] = {"auto", "min", "max", NULL};
    int i;
    if (s_enum(f, p, "mode", names, &i, errs))
        return 1;
    *mode = (trn_mode_t)i;
    return 0;
}

static void s_es_defaults(trn_early_stop_t *es)
{
    memset(es, 0, sizeof *es);
    es->enabled = true;
    snprintf(es->monitor, sizeof es->monitor, "val_loss");
}

static int s_early_stopping(trn_config_t *cfg, const cJSON *it, const char *path, sw_errs_t *errs)
{
    if (cJSON_IsNull(it) || cJSON_IsFalse(it)) {
        cfg->early_stopping.enabled = false;
        return 0;
    }
    if (!cJSON_IsObject(it)) {
        sw_errs_add(errs, "%s: must be an object", path);
        return 1;
    }
    int bad = 0;
    trn_early_stop_t *es = &cfg->early_stopping;
    s_es_defaults(es);
    char p[S_PATH_MAX];
    const cJSON *f;
    cJSON_ArrayForEach(f, it) {
        s_path(p, path, f->string);
        if (strcmp(f->string, "monitor") == 0) {
            const char *s;
            if (s_string(f, p, &s, errs))
                bad++;
            else if (strlen(s) >= sizeof es->monitor || !*s)
                bad += sw_errs_add(errs, "%s: must be a metric name", p) == 0;
            else
                snprintf(es->monitor, sizeof es->monitor, "%s", s);
        } else if (strcmp(f->string, "patience") == 0) {
            bad += s_int(f, p, 0, 1000000, &es->patience, errs);
        } else if (strcmp(f->string, "min_delta") == 0) {
            bad += s_num(f, p, 0.0, false, INFINITY, false, &es->min_delta, errs);
        } else if (strcmp(f->string, "mode") == 0) {
            bad += s_mode(f, p, &es->mode, errs);
        } else if (strcmp(f->string, "restore_best_weights") == 0) {
            bad += s_bool(f, p, &es->restore_best_weights, errs);
        } else {
            bad += sw_errs_add(errs, "%s: unknown setting", p) == 0;
        }
    }
    return bad;
}

static int s_schedule(trn_config_t *cfg, const cJSON *it, const char *path, sw_errs_t *errs)
{
    trn_schedule_t *sc = &cfg->schedule;
    memset(sc, 0, sizeof *sc);
    if (cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsObject(it)) {
        sw_errs_add(errs, "%s: must be an object with a \"type\" (step, cosine, plateau)", path);
        return 1;
    }
    char p[S_PATH_MAX];
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(it, "type");
    s_path(p, path, "type");
    if (!type) {
        sw_errs_add(errs, "%s: required (step, cosine, plateau)", p);
        return 1;
    }
    static const char *const kinds[] = {"step", "cosine", "plateau", NULL};  /* from TRN_SCHED_STEP */
    int kind;
    if (s_enum(type, p, "schedule", kinds, &kind, errs))
        return 1;
    sc->kind = (trn_sched_kind_t)(TRN_SCHED_STEP + kind);
    sc->factor = sc->kind == TRN_SCHED_PLATEAU ? 0.1 : 0.5;
    sc->every = 10;
    sc->patience = 10;
    sc->min_delta = 1e-4;
    snprintf(sc->monitor, sizeof sc->monitor, "val_loss");
    int bad = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, it) {
        const char *k = f->string;
        s_path(p, path, k);
        bool step = sc->kind == TRN_SCHED_STEP, cos = sc->kind == TRN_SCHED_COSINE,
             pl = sc->kind == TRN_SCHED_PLATEAU;
        if (strcmp(k, "type") == 0)
            continue;
        if (strcmp(k, "factor") == 0 && (step || pl))
            bad += s_num(f, p, 0.0, true, 1.0, true, &sc->factor, errs);
        else if (strcmp(k, "every") == 0 && step)
            bad += s_int(f, p, 1, 1000000, &sc->every, errs);
        else if (strcmp(k, "alpha") == 0 && cos)
            bad += s_num(f, p, 0.0, false, 1.0, false, &sc->alpha, errs);
        else if (strcmp(k, "decay_steps") == 0 && cos)
            bad += s_int(f, p, 1, 1000000000, &sc->decay_steps, errs);
        else if (strcmp(k, "monitor") == 0 && pl) {
            const char *m;
            if (s_string(f, p, &m, errs))
                bad++;
            else if (!*m || strlen(m) >= sizeof sc->monitor)
                bad += sw_errs_add(errs, "%s: must be a metric name", p) == 0;
            else
                snprintf(sc->monitor, sizeof sc->monitor, "%s", m);
        } else if (strcmp(k, "patience") == 0 && pl)
            bad += s_int(f, p, 0, 1000000, &sc->patience, errs);
        else if (strcmp(k, "min_delta") == 0 && pl)
            bad += s_num(f, p, 0.0, false, INFINITY, false, &sc->min_delta, errs);
        else if (strcmp(k, "cooldown") == 0 && pl)
            bad += s_int(f, p, 0, 1000000, &sc->cooldown, errs);
        else if (strcmp(k, "min_lr") == 0 && pl)
            bad += s_num(f, p, 0.0, false, INFINITY, false, &sc->min_lr, errs);
        else if (strcmp(k, "mode") == 0 && pl)
            bad += s_mode(f, p, &sc->mode, errs);
        else
            bad += sw_errs_add(errs, "%s: unknown setting for a %s schedule", p, kinds[kind]) == 0;
    }
    return bad;
}

static int s_dropout(trn_config_t *cfg, s_pending_t *pd, const cJSON *it, const char *path,
                     sw_errs_t *errs)
{
    if (cJSON_IsNumber(it)) {
        pd->dropout_n = -1;
        return s_num(it, path, 0.0, false, 1.0, true, &pd->dropout, errs);
    }
    if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) > TRN_MAX_LAYERS) {
        sw_errs_add(errs, "%s: must be a rate in [0, 1) or an array of one rate per hidden layer",
                    path);
        return 1;
    }
    int bad = 0, i = 0;
    char p[S_PATH_MAX];
    const cJSON *v;
    pd->dropout = -1.0;
    cJSON_ArrayForEach(v, it) {
        snprintf(p, sizeof p, "%s[%d]", path, i);
        bad += s_num(v, p, 0.0, false, 1.0, true, &cfg->dropout[i], errs);
        i++;
    }
    pd->dropout_n = i;
    return bad;
}

static int s_layers(trn_config_t *cfg, const cJSON *it, const char *path, sw_errs_t *errs)
{
    if (!cJSON_IsArray(it)) {
        sw_errs_add(errs, "%s: must be an array of layer widths", path);
        return 1;
    }
    int n = cJSON_GetArraySize(it), bad = 0;
    if (n > TRN_MAX_LAYERS) {
        sw_errs_add(errs, "%s: at most %d hidden layers", path, TRN_MAX_LAYERS);
        return 1;
    }
    cfg->n_hidden = n;
    char p[S_PATH_MAX];
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s[%d]", path, i);
        bad += s_int(cJSON_GetArrayItem(it, i), p, 1, TRN_MAX_UNITS, &cfg->hidden[i], errs);
    }
    return bad;
}

/* Apply one setting KEY = IT (PATH names it in messages). FROM_PARAMS restricts KEY to
 * the names a search-space parameter may use. Returns the number of errors; unknown
 * keys are an error too. */
static int s_set(trn_config_t *cfg, s_pending_t *pd, const char *key, const cJSON *it,
                 const char *path, bool from_params, sw_errs_t *errs)
{
    const char *s;
    if (from_params) {
        int k = s_units_index(key);
        if (strcmp(key, "units") == 0)
            return s_int(it, path, 1, TRN_MAX_UNITS, &pd->units, errs);
        if (strcmp(key, "hidden_layers") == 0) {
            pd->hidden_layers_path = path;
            return s_int(it, path, 0, TRN_MAX_LAYERS, &pd->hidden_layers, errs);
        }
        if (k > 0) {
            pd->units_k_path[k - 1] = path;
            if (k > pd->units_k_max) {
                pd->units_k_max = k;
                pd->units_k_max_path = path;
            }
            return s_int(it, path, 1, TRN_MAX_UNITS, &pd->units_k[k - 1], errs);
        }
        if (strcmp(key, "patience") == 0 || strcmp(key, "min_delta") == 0) {
            if (!cfg->early_stopping.enabled)
                s_es_defaults(&cfg->early_stopping);
            if (key[0] == 'p')
                return s_int(it, path, 0, 1000000, &cfg->early_stopping.patience, errs);
            return s_num(it, path, 0.0, false, INFINITY, false, &cfg->early_stopping.min_delta, errs);
        }
        if (!s_param_known(key)) {
            sw_errs_add(errs, "%s: the mlp trainer has no setting '%s'", path, key);
            return 1;
        }
    }

    if (strcmp(key, "type") == 0) {
        if (s_string(it, path, &s, errs))
            return 1;
        if (strcmp(s, "mlp") != 0) {
            sw_errs_add(errs, "%s: must be \"mlp\" for the built-in trainer", path);
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "dataset") == 0) {
        if (s_string(it, path, &s, errs))
            return 1;
        if (!*s) {
            sw_errs_add(errs, "%s: must be a CSV file path", path);
            return 1;
        }
        free(cfg->dataset);
        cfg->dataset = strdup(s);
        return 0;
    }
    if (strcmp(key, "header") == 0) {
        if (cJSON_IsBool(it)) {
            cfg->csv.header = cJSON_IsTrue(it) ? 1 : 0;
            return 0;
        }
        if (cJSON_IsString(it) && strcmp(it->valuestring, "auto") == 0) {
            cfg->csv.header = -1;
            return 0;
        }
        sw_errs_add(errs, "%s: must be true, false or \"auto\"", path);
        return 1;
    }
    if (strcmp(key, "delimiter") == 0) {
        if (s_string(it, path, &s, errs))
            return 1;
        if (strlen(s) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r') {
            sw_errs_add(errs, "%s: must be one character (e.g. \",\", \";\", \"\\t\")", path);
            return 1;
        }
        cfg->csv.delimiter = s[0];
        return 0;
    }
    if (strcmp(key, "target") == 0) {
        double v;
        if (s_integral(it, &v) && fabs(v) <= 1000000) {
            cfg->csv.target_index = (int)v;
            free(cfg->target_name);
            cfg->target_name = NULL;
            return 0;
        }
        if (cJSON_IsString(it) && it->valuestring[0]) {
            free(cfg->target_name);
            cfg->target_name = strdup(it->valuestring);
            return 0;
        }
        sw_errs_add(errs, "%s: must be a column index (negative counts from the end) or a column name", path);
        return 1;
    }
    if (strcmp(key, "task") == 0) {
        static const char *const tasks[] = {"binary", "multiclass", "regression", NULL};
        int i;
        if (s_enum(it, path, "task", tasks, &i, errs))
            return 1;
        cfg->task = (trn_task_t)i;
        pd->task_set = true;
        return 0;
    }
    if (strcmp(key, "layers") == 0)
        return s_layers(cfg, it, path, errs);
    if (strcmp(key, "activation") == 0)
        return s_act(it, path, false, &cfg->activation, errs);
    if (strcmp(key, "output_activation") == 0) {
        pd->out_set = true;
        return s_act(it, path, true, &cfg->output_activation, errs);
    }
    if (strcmp(key, "loss") == 0) {
        if (s_string(it, path, &s, errs))
            return 1;
        if (trn_loss_parse(s, &cfg->loss) < 0) {
            sw_errs_add(errs, "%s: unknown loss '%s' (expected binary_crossentropy, "
                        "categorical_crossentropy, mse, mae)", path, s);
            return 1;
        }
        pd->loss_set = true;
        return 0;
    }
    if (strcmp(key, "optimizer") == 0) {
        if (s_string(it, path, &s, errs))
            return 1;
        if (trn_opt_parse(s, &cfg->opt.kind) < 0) {
            sw_errs_add(errs, "%s: unknown optimizer '%s' (expected sgd, adam, rmsprop, adagrad, "
                        "adamw)", path, s);
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "kernel_initializer") == 0) {
        if (s_string(it, path, &s, errs))
            return 1;
        if (trn_init_parse(s, &cfg->init) < 0) {
            sw_errs_add(errs, "%s: unknown initializer '%s' (expected glorot_uniform, he_normal)",
                        path, s);
            return 1;
        }
        return 0;
    }
    if (strcmp(key, "dropout") == 0)
        return s_dropout(cfg, pd, it, path, errs);
    if (strcmp(key, "l2") == 0)
        return s_num(it, path, 0.0, false, INFINITY, false, &cfg->l2, errs);
    if (strcmp(key, "weight_decay") == 0) {
        pd->wd_set = true;
        return s_num(it, path, 0.0, false, INFINITY, false, &pd->weight_decay, errs);
    }
    if (strcmp(key, "initial_accumulator_value") == 0) {
        pd->iav_set = true;
        return s_num(it, path, 0.0, false, INFINITY, false, &pd->iav, errs);
    }
    if (strcmp(key, "lr_schedule") == 0)
        return s_schedule(cfg, it, path, errs);
    if (strcmp(key, "validation_stratified") == 0)
        return s_bool(it, path, &cfg->validation_stratified, errs);
    if (strcmp(key, "impute") == 0) {
        static const char *const strategies[] = {"none", "mean", "median", NULL};
        int i;
        if (s_enum(it, path, "strategy", strategies, &i, errs))
            return 1;
        cfg->impute = (trn_impute_t)i;
        return 0;
    }
    if (strcmp(key, "test_split") == 0)
        return s_num(it, path, 0.0, false, 1.0, true, &cfg->test_split, errs);
    if (strcmp(key, "test_seed") == 0)
        return s_seed(it, path, &cfg->test_seed, errs);
    if (strcmp(key, "test_stratified") == 0) {
        pd->test_strat_set = true;
        return s_bool(it, path, &cfg->test_stratified, errs);
    }
    if (strcmp(key, "lr") == 0) {
        if (cJSON_IsNull(it)) {
            pd->lr_set = false;
            return 0;
        }
        pd->lr_set = true;
        return s_num(it, path, 0.0, true, INFINITY, false, &pd->lr, errs);
    }
    if (strcmp(key, "momentum") == 0) {
        pd->mom_set = true;
        return s_num(it, path, 0.0, false, 1.0, false, &pd->momentum, errs);
    }
    if (strcmp(key, "nesterov") == 0) {
        pd->nesterov_set = true;
        return s_bool(it, path, &pd->nesterov, errs);
    }
    if (strcmp(key, "beta_1") == 0) {
        pd->beta1_set = true;
        return s_num(it, path, 0.0, false, 1.0, true, &pd->beta_1, errs);
    }
    if (strcmp(key, "beta_2") == 0) {
        pd->beta2_set = true;
        return s_num(it, path, 0.0, false, 1.0, true, &pd->beta_2, errs);
    }
    if (strcmp(key, "rho") == 0) {
        pd->rho_set = true;
        return s_num(it, path, 0.0, false, 1.0, true, &pd->rho, errs);
    }
    if (strcmp(key, "epsilon") == 0) {
        pd->eps_set = true;
        return s_num(it, path, 0.0, true, INFINITY, false, &pd->epsilon, errs);
    }
    if (strcmp(key, "batch_size") == 0)
        return s_int(it, path, 1, 100000000, &cfg->batch_size, errs);
    if (strcmp(key, "epochs") == 0)
        return s_int(it, path, 1, 1000000, &cfg->epochs, errs);
    if (strcmp(key, "validation_split") == 0)
        return s_num(it, path, 0.0, false, 1.0, true, &cfg->validation_split, errs);
    if (strcmp(key, "shuffle") == 0)
        return s_bool(it, path, &cfg->shuffle, errs);
    if (strcmp(key, "standardize") == 0)
        return s_bool(it, path, &cfg->standardize, errs);
    if (strcmp(key, "early_stopping") == 0)
        return s_early_stopping(cfg, it, path, errs);
    if (strcmp(key, "seed") == 0)
        return s_seed(it, path, &cfg->seed, errs);
    sw_errs_add(errs, "%s: unknown setting", path);
    return 1;
}

static void s_defaults(trn_config_t *cfg, s_pending_t *pd)
{
    memset(cfg, 0, sizeof *cfg);
    memset(pd, 0, sizeof *pd);
    cfg->csv = trn_csv_opts_default();
    cfg->task = TRN_TASK_BINARY;
    cfg->n_hidden = 1;
    cfg->hidden[0] = 12;
    cfg->activation = TRN_ACT_RELU;
    cfg->output_activation = TRN_ACT_SIGMOID;
    cfg->loss = TRN_LOSS_BCE;
    cfg->opt = trn_opt_defaults(TRN_OPT_ADAM);
    cfg->batch_size = 32;
    cfg->epochs = 10;
    cfg->shuffle = true;
    cfg->standardize = true;
    cfg->test_stratified = true;
    pd->hidden_layers = -1;
    pd->dropout = -1.0;
    pd->dropout_n = -1;
}


/* Fill dependent defaults and check combinations. CHECK_SPLIT: a val_* monitor needs a
 * validation split (off when validation_split is itself a search-space parameter). */
static int s_finish(trn_config_t *cfg, s_pending_t *pd, const char *base, bool check_split,
                    sw_errs_t *errs)
{
    int bad = 0;
    /* hidden_layers, units, units_k (in that order) */
    if (pd->hidden_layers >= 0) {
        int width = pd->units ? pd->units : cfg->n_hidden > 0 ? cfg->hidden[0] : 0;
        if (pd->hidden_layers > 0 && width == 0)
            bad += sw_errs_add(errs, "%s: needs 'units' or trainer.layers[0] for the layer width",
                               pd->hidden_layers_path) == 0;
        cfg->n_hidden = pd->hidden_layers;
        for (int i = 0; i < cfg->n_hidden; i++)
            cfg->hidden[i] = width;
    }
    if (pd->units)
        for (int i = 0; i < cfg->n_hidden; i++)
            cfg->hidden[i] = pd->units;
    if (pd->units_k_max > cfg->n_hidden)
        bad += sw_errs_add(errs, "%s: the network has %d hidden layer%s", pd->units_k_max_path,
                           cfg->n_hidden, cfg->n_hidden == 1 ? "" : "s") == 0;
    else
        for (int i = 0; i < pd->units_k_max; i++)
            if (pd->units_k[i])
                cfg->hidden[i] = pd->units_k[i];

    /* task <-> loss <-> output activation */
    if (!pd->task_set && pd->loss_set)
        cfg->task = cfg->loss == TRN_LOSS_BCE ? TRN_TASK_BINARY
                    : cfg->loss == TRN_LOSS_CCE ? TRN_TASK_MULTICLASS : TRN_TASK_REGRESSION;
    if (!pd->loss_set)
        cfg->loss = cfg->task == TRN_TASK_BINARY ? TRN_LOSS_BCE
                    : cfg->task == TRN_TASK_MULTICLASS ? TRN_LOSS_CCE : TRN_LOSS_MSE;
    if (!pd->out_set)
        cfg->output_activation = cfg->task == TRN_TASK_BINARY ? TRN_ACT_SIGMOID
                                 : cfg->task == TRN_TASK_MULTICLASS ? TRN_ACT_SOFTMAX
                                 : TRN_ACT_LINEAR;
    static const char *const task_names[] = {"binary", "multiclass", "regression"};
    bool loss_ok = (cfg->task == TRN_TASK_BINARY && cfg->loss == TRN_LOSS_BCE) ||
                   (cfg->task == TRN_TASK_MULTICLASS && cfg->loss == TRN_LOSS_CCE) ||
                   (cfg->task == TRN_TASK_REGRESSION &&
                    (cfg->loss == TRN_LOSS_MSE || cfg->loss == TRN_LOSS_MAE));
    if (!loss_ok)
        bad += sw_errs_add(errs, "%s.loss: '%s' does not fit task '%s'", base,
                           trn_loss_name(cfg->loss), task_names[cfg->task]) == 0;
    else if ((cfg->loss == TRN_LOSS_BCE && cfg->output_activation != TRN_ACT_SIGMOID) ||
             (cfg->loss == TRN_LOSS_CCE && cfg->output_activation != TRN_ACT_SOFTMAX) ||
             (cfg->output_activation == TRN_ACT_SOFTMAX && cfg->loss != TRN_LOSS_CCE))
        bad += sw_errs_add(errs, "%s.output_activation: '%s' does not fit loss '%s' (%s)", base,
                           trn_act_name(cfg->output_activation), trn_loss_name(cfg->loss),
                           cfg->loss == TRN_LOSS_BCE ? "binary_crossentropy needs sigmoid"
                           : cfg->loss == TRN_LOSS_CCE ? "categorical_crossentropy needs softmax"
                           : "softmax needs categorical_crossentropy") == 0;

    /* optimizer: Keras defaults for what was not given */
    trn_opt_cfg_t o = trn_opt_defaults(cfg->opt.kind);
    if (pd->lr_set)
        o.lr = pd->lr;
    if (pd->mom_set)
        o.momentum = pd->momentum;
    if (pd->nesterov_set)
        o.nesterov = pd->nesterov;
    if (pd->beta1_set)
        o.beta_1 = pd->beta_1;
    if (pd->beta2_set)
        o.beta_2 = pd->beta_2;
    if (pd->rho_set)
        o.rho = pd->rho;
    if (pd->eps_set)
        o.epsilon = pd->epsilon;
    if (pd->wd_set)
        o.weight_decay = pd->weight_decay;
    if (pd->iav_set)
        o.initial_accumulator_value = pd->iav;
    cfg->opt = o;

    /* dropout: one rate for every hidden layer, or one per layer */
    if (pd->dropout >= 0.0)
        for (int i = 0; i < cfg->n_hidden; i++)
            cfg->dropout[i] = pd->dropout;
    else if (pd->dropout_n >= 0 && pd->dropout_n != cfg->n_hidden)
        bad += sw_errs_add(errs, "%s.dropout: %d rate%s for %d hidden layer%s", base,
                           pd->dropout_n, pd->dropout_n == 1 ? "" : "s", cfg->n_hidden,
                           cfg->n_hidden == 1 ? "" : "s") == 0;
    if (!pd->test_strat_set && cfg->task == TRN_TASK_REGRESSION)
        cfg->test_stratified = false;

    /* monitored metrics must be reported */
    bool regression = cfg->task == TRN_TASK_REGRESSION;
    bool has_lr = cfg->schedule.kind != TRN_SCHED_NONE;
    const char *expect = regression ? "loss, mse, mae, r2 or val_ of one"
                                    : "loss, accuracy, precision, recall, f1, auc, log_loss or "
                                      "val_ of one";
    const char *mons[2] = {cfg->early_stopping.enabled ? cfg->early_stopping.monitor : NULL,
                           cfg->schedule.kind == TRN_SCHED_PLATEAU ? cfg->schedule.monitor : NULL};
    const char *mon_paths[2] = {"early_stopping.monitor", "lr_schedule.monitor"};
    for (int i = 0; i < 2; i++) {
        const char *mon = mons[i];
        if (!mon)
            continue;
        if (!trn_metrics_known(mon, regression, has_lr && i == 0))
            bad += sw_errs_add(errs, "%s.%s: unknown metric '%s' (expected %s)", base, mon_paths[i],
                               mon, expect) == 0;
        else if (strncmp(mon, "val_", 4) == 0 && check_split && cfg->validation_split <= 0.0)
            bad += sw_errs_add(errs, "%s.%s: '%s' needs validation_split > 0", base, mon_paths[i],
                               mon) == 0;
    }
    cfg->csv.target_name = cfg->target_name;
    return bad;
}

static int s_parse_trainer(trn_config_t *cfg, s_pending_t *pd, const cJSON *trainer,
                           sw_errs_t *errs)
{
    s_defaults(cfg, pd);
    if (!cJSON_IsObject(trainer)) {
        sw_errs_add(errs, "trainer: must be an object");
        return 1;
    }
    int bad = 0;
    char p[S_PATH_MAX];
    const cJSON *it;
    cJSON_ArrayForEach(it, trainer) {
        s_path(p, "trainer", it->string);
        bad += s_set(cfg, pd, it->string, it, p, false, errs);
    }
    if (!cJSON_GetObjectItemCaseSensitive(trainer, "dataset"))
        bad += sw_errs_add(errs, "trainer.dataset: required (a CSV file path)") == 0;
    return bad;
}

int trn_config_parse(trn_config_t *cfg, const cJSON *trainer, const cJSON *params,
                     sw_errs_t *errs)
{
    s_pending_t pd;
    int bad = s_parse_trainer(cfg, &pd, trainer, errs);
    /* Paths must outlive s_finish (it names the parameter); keep them per parameter. */
    char (*paths)[S_PATH_MAX] = NULL;
    if (params) {
        if (!cJSON_IsObject(params)) {
            sw_errs_add(errs, "params: must be an object");
            return bad + 1;
        }
        int n = cJSON_GetArraySize(params), i = 0;
        paths = calloc((size_t)n + 1, sizeof *paths);
        if (!paths) {
            sw_errs_add(errs, "params: out of memory");
            return bad + 1;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, params) {
            s_path(paths[i], "params", it->string);
            bad += s_set(cfg, &pd, it->string, it, paths[i], true, errs);
            i++;
        }
    }
    bad += s_finish(cfg, &pd, "trainer", true, errs);
    free(paths);
    return bad;
}

void trn_config_clear(trn_config_t *cfg)
{
    free(cfg->dataset);
    free(cfg->target_name);
    cfg->dataset = cfg->target_name = NULL;
    cfg->csv.target_name = NULL;
}

int trn_config_check(const cJSON *trainer, const cJSON *parameters, sw_errs_t *errs)
{
    trn_config_t cfg;
    s_pending_t pd;
    int bad = s_parse_trainer(&cfg, &pd, trainer, errs);
    bool split_is_param = parameters &&
                          cJSON_GetObjectItemCaseSensitive(parameters, "validation_split");
    bad += s_finish(&cfg, &pd, "trainer", !split_is_param, errs);
    if (parameters && cJSON_IsObject(parameters)) {
        const cJSON *p;
        cJSON_ArrayForEach(p, parameters) {
            if (!s_param_known(p->string)) {
                bad += sw_errs_add(errs, "parameters.%s: the mlp trainer has no setting '%s'",
                                   p->string, p->string) == 0;
                continue;
            }
            /* Check each value the parameter can take like the field it sets. The
             * scratch copy shares CFG's strings, which parameters never replace. */
            trn_config_t scratch = cfg;
            s_pending_t spd = pd;
            char path[S_PATH_MAX];
            const cJSON *vals = cJSON_GetObjectItemCaseSensitive(p, "values");
            if (cJSON_IsArray(vals)) {
                int i = 0;
                const cJSON *v;
                cJSON_ArrayForEach(v, vals) {
                    snprintf(path, sizeof path, "parameters.%s.values[%d]", p->string, i++);
                    bad += s_set(&scratch, &spd, p->string, v, path, true, errs);
                }
            }
            static const char *const bounds[] = {"low", "high"};
            for (int b = 0; b < 2; b++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, bounds[b]);
                if (!cJSON_IsNumber(v))
                    continue;
                snprintf(path, sizeof path, "parameters.%s.%s", p->string, bounds[b]);
                bad += s_set(&scratch, &spd, p->string, v, path, true, errs);
            }
        }
    }
    trn_config_clear(&cfg);
    return bad;
}

int trn_cv_parse(const cJSON *cv_json, trn_cv_t *cv, sw_errs_t *errs)
{
    cv->folds = 0;
    cv->stratified = true;
    cv->seed = 0;
    if (!cJSON_IsObject(cv_json)) {
        sw_errs_add(errs, "cv: must be an object");
        return 1;
    }
    int bad = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cv_json) {
        char p[S_PATH_MAX];
        s_path(p, "cv", it->string);
        if (strcmp(it->string, "folds") == 0) {
            bad += s_int(it, p, 2, 1000000, &cv->folds, errs);
        } else if (strcmp(it->string, "stratified") == 0) {
            bad += s_bool(it, p, &cv->stratified, errs);
        } else if (strcmp(it->string, "seed") == 0) {
            double v;
            if (!s_integral(it, &v) || v < 0)
                bad += sw_errs_add(errs, "%s: must be an integer >= 0", p) == 0;
            else
                cv->seed = (uint64_t)v;
        } else {
            bad += sw_errs_add(errs, "%s: unknown setting", p) == 0;
        }
    }
    if (!cJSON_GetObjectItemCaseSensitive(cv_json, "folds"))
        bad += sw_errs_add(errs, "cv.folds: required (an integer >= 2)") == 0;
    return bad;
}

/* ---- the fit ------------------------------------------------------------------- */

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The targets as the network sees them. */
typedef struct {
    int k;                  /* network outputs */
    int n_classes;          /* 0 for regression */
    int *cls;               /* per data row: class index (classification), else NULL */
    char **names;           /* N_CLASSES labels as text, owned */
} s_targets_t;

static void s_targets_clear(s_targets_t *t)
{
    if (t->names)
        for (int c = 0; c < t->n_classes; c++)
            free(t->names[c]);
    free(t->names);
    free(t->cls);
    memset(t, 0, sizeof *t);
}

/* Classes of DATA's target for CFG's task: text labels in sorted order, 0/1 for binary,
 * sorted distinct integers for multiclass. */
static int s_targets(const trn_config_t *cfg, const trn_data_t *data, s_targets_t *t, char *err,
                     size_t errlen)
{
    memset(t, 0, sizeof *t);
    const int n = data->n_rows, tcol = data->target_col + 1;
    t->k = 1;
    if (cfg->task == TRN_TASK_REGRESSION)
        return 0;
    double *uniq = NULL;
    t->cls = malloc(((size_t)n + 1) * sizeof *t->cls);
    if (!t->cls)
        goto nomem;
    if (data->classes) {
        t->n_classes = data->n_classes;
        for (int r = 0; r < n; r++)
            t->cls[r] = (int)data->y[r];
        if (cfg->task == TRN_TASK_BINARY && data->n_classes != 2) {
            sw_errf(err, errlen, "%s: column %d: task binary needs 2 classes, found %d ('%s', '%s'%s)",
                    data->path, tcol, data->n_classes, data->classes[0],
                    data->n_classes > 1 ? data->classes[1] : "", data->n_classes > 2 ? ", ..." : "");
            s_targets_clear(t);
            return SW_EDATA;
        }
        t->names = calloc((size_t)t->n_classes, sizeof *t->names);
        if (!t->names)
            goto nomem;
        for (int c = 0; c < t->n_classes; c++)
            if (!(t->names[c] = strdup(data->classes[c])))
                goto nomem;
    } else {
        uniq = malloc(((size_t)n + 1) * sizeof *uniq);
        if (!uniq)
            goto nomem;
        for (int r = 0; r < n; r++) {
            double v = data->y[r];
            if (cfg->task == TRN_TASK_BINARY && v != 0.0 && v != 1.0) {
                sw_errf(err, errlen, "%s: row %d, column %d: label %g is not 0 or 1 (task binary)",
                        data->path, data->line[r], tcol, v);
                free(uniq);
                s_targets_clear(t);
                return SW_EDATA;
            }
            if (v != floor(v)) {
                sw_errf(err, errlen, "%s: row %d, column %d: label %g is not an integer class (task "
                        "multiclass)", data->path, data->line[r], tcol, v);
                free(uniq);
                s_targets_clear(t);
                return SW_EDATA;
            }
            uniq[r] = v;
        }
        if (cfg->task == TRN_TASK_BINARY) {
            uniq[0] = 0.0;
            uniq[1] = 1.0;
            t->n_classes = 2;
        } else {
            qsort(uniq, (size_t)n, sizeof *uniq, s_cmp_double);
            for (int r = 0; r < n; r++)
                if (r == 0 || uniq[r] != uniq[t->n_classes - 1])
                    uniq[t->n_classes++] = uniq[r];
        }
        for (int r = 0; r < n; r++)
            t->cls[r] = (int)((double *)bsearch(&data->y[r], uniq, (size_t)t->n_classes,
                                                sizeof *uniq, s_cmp_double) - uniq);
        t->names = calloc((size_t)t->n_classes, sizeof *t->names);
        if (!t->names)
            goto nomem;
        for (int c = 0; c < t->n_classes; c++) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.17g", uniq[c]);
            if (!(t->names[c] = strdup(buf)))
                goto nomem;
        }
        free(uniq);
        uniq = NULL;
    }
    if (cfg->task == TRN_TASK_MULTICLASS) {
        if (t->n_classes < 2) {
            sw_errf(err, errlen, "%s: column %d: a multiclass task needs at least 2 classes",
                    data->path, tcol);
            s_targets_clear(t);
            return SW_EDATA;
        }
        t->k = t->n_classes;
    }
    return 0;
nomem:
    free(uniq);
    s_targets_clear(t);
    sw_errf(err, errlen, "out of memory");
    return SW_ENOMEM;
}

/* Copy rows ROWS[0..N-1] of DATA into X (N x nf) and their targets into Y (N x K). */
static void s_gather(const trn_data_t *data, const int *rows, int n, const int *cls, int k,
                     double *x, double *y)
{
    size_t nf = (size_t)data->n_features;
    for (int i = 0; i < n; i++) {
        memcpy(x + (size_t)i * nf, data->x + (size_t)rows[i] * nf, nf * sizeof(double));
        if (k == 1) {
            y[i] = cls ? (double)cls[rows[i]] : data->y[rows[i]];
        } else {
            double *yr = y + (size_t)i * (size_t)k;
            memset(yr, 0, (size_t)k * sizeof(double));
            yr[cls[rows[i]]] = 1.0;
        }
    }
}

/* Inference outputs of N rows of X into OUT (N x K) in chunks of max_batch; returns the
 * mean loss (with the L2 penalty, as Keras' evaluate). */
static double s_predict(trn_mlp_t *mlp, const double *x, const double *y, int n, int nf, int k,
                        double *out)
{
    double ls = 0.0;
    for (int b = 0; b < n; b += mlp->max_batch) {
        int nb = n - b < mlp->max_batch ? n - b : mlp->max_batch;
        const double *o = trn_mlp_forward(mlp, x + (size_t)b * (size_t)nf, nb);
        ls += trn_mlp_loss_sum(mlp, o, y + (size_t)b * (size_t)k, nb);
        memcpy(out + (size_t)b * (size_t)k, o, (size_t)nb * (size_t)k * sizeof *o);
    }
    return n > 0 ? ls / n + trn_mlp_penalty(mlp) : NAN;
}

static void s_shuffle(int *a, int n, sw_rng_t *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sw_rng_below(rng, (uint64_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int trn_fit_split_rows(const trn_config_t *cfg, const trn_data_t *data, int *tuning,
                       int *n_tuning, int *test, int *n_test, char *err, size_t errlen)
{
    const int n = data->n_rows;
    *n_tuning = *n_test = 0;
    if (cfg->test_split <= 0.0) {
        for (int r = 0; r < n; r++)
            tuning[r] = r;
        *n_tuning = n;
        return 0;
    }
    s_targets_t t;
    int rc = s_targets(cfg, data, &t, err, errlen);
    if (rc < 0)
        return rc;
    bool *is_test = malloc(((size_t)n + 1) * sizeof *is_test);
    if (!is_test) {
        s_targets_clear(&t);
        sw_errf(err, errlen, "out of memory");
        return SW_ENOMEM;
    }
    rc = trn_holdout_assign(n, cfg->test_split, cfg->test_stratified ? t.cls : NULL,
                            cfg->test_seed, is_test);
    if (rc == SW_EINVAL) {
        sw_errf(err, errlen, "%s: test_split %g of %d rows leaves no training or no test rows",
                data->path, cfg->test_split, n);
        rc = SW_EDATA;
    } else if (rc == SW_ENOMEM) {
        sw_errf(err, errlen, "out of memory");
    } else {
        for (int r = 0; r < n; r++) {
            if (is_test[r])
                test[(*n_test)++] = r;
            else
                tuning[(*n_tuning)++] = r;
        }
        rc = 0;
    }
    free(is_test);
    s_targets_clear(&t);
    return rc;
}

/* The learning rate for optimizer step STEP (0-based) of a schedule that depends on
 * steps (cosine), per Keras' CosineDecay: lr0 ((1 - alpha) (1 + cos(pi p)) / 2 + alpha),
 * p = min(step, decay_steps) / decay_steps (Loshchilov & Hutter, ICLR 2017, without
 * restarts). */
static double s_cosine_lr(const trn_schedule_t *sc, double lr0, int64_t step, int64_t total)
{
    double ds = sc->decay_steps > 0 ? (double)sc->decay_steps : (double)(total > 0 ? total : 1);
    double p = fmin((double)step, ds) / ds;
    return lr0 * ((1.0 - sc->alpha) * 0.5 * (1.0 + cos(M_PI * p)) + sc->alpha);
}

static trn_model_t *s_model_new(const trn_config_t *cfg, const trn_data_t *data, s_targets_t *t,
                                const trn_imputer_t *imp, const trn_scaler_t *sc, trn_mlp_t **mlp)
{
    trn_model_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    size_t nf = (size_t)data->n_features;
    m->task = cfg->task;
    m->n_features = data->n_features;
    m->n_cols = data->n_cols;
    m->target_col = data->target_col;
    if (data->names) {
        m->names = calloc((size_t)data->n_cols, sizeof *m->names);
        if (!m->names)
            goto fail;
        for (int c = 0; c < data->n_cols; c++)
            if (!(m->names[c] = strdup(data->names[c])))
                goto fail;
    }
    m->n_classes = t->n_classes;
    m->classes = t->names;          /* taken over */
    t->names = NULL;
    if (imp->fill) {
        m->impute = imp->kind;
        if (!(m->fill = malloc(nf * sizeof *m->fill)))
            goto fail;
        memcpy(m->fill, imp->fill, nf * sizeof *m->fill);
    }
    if (sc->mean) {
        m->mean = malloc(nf * sizeof *m->mean);
        m->scale = malloc(nf * sizeof *m->scale);
        if (!m->mean || !m->scale)
            goto fail;
        memcpy(m->mean, sc->mean, nf * sizeof *m->mean);
        memcpy(m->scale, sc->scale, nf * sizeof *m->scale);
    }
    m->mlp = *mlp;                  /* taken over */
    *mlp = NULL;
    return m;
fail:
    trn_model_destroy(&m);
    return NULL;
}

int trn_fit_rows(const trn_config_t *cfg, const trn_data_t *data, const int *train_rows,
                 int n_train, const int *eval_rows, int n_eval, bool eval_as_val,
                 trn_report_fn *report, void *arg, trn_result_t *result,
                 trn_model_t **model_out, char *err, size_t errlen)
{
    openblas_set_num_threads(1);
    const int nf = data->n_features;
    const bool classify = cfg->task != TRN_TASK_REGRESSION;
    const bool regression = !classify;
    int rc = 0, k = 1;
    int *rows = NULL, *perm = NULL;
    double *xf = NULL, *yf = NULL, *xv = NULL, *yv = NULL, *xt = NULL, *yt = NULL,
           *xb = NULL, *yb = NULL, *best_w = NULL, *ep_out = NULL, *ep_y = NULL, *pout = NULL;
    trn_mlp_t *mlp = NULL;
    trn_opt_t *opt = NULL;
    trn_scaler_t scaler = {0};
    trn_imputer_t imputer = {0};
    s_targets_t tg = {0};
    trn_result_t res;
    memset(&res, 0, sizeof res);
    res.majority = NAN;

    if ((rc = s_targets(cfg, data, &tg, err, errlen)) < 0)
        return rc;
    k = tg.k;
    const int *ycls = classify ? tg.cls : NULL;

    /* Validation split: the last fraction of the training rows (of each class's rows
     * with validation_stratified), before any shuffling. */
    rows = malloc(((size_t)n_train + 1) * sizeof *rows);
    if (!rows)
        goto nomem;
    int n_fit = 0, n_val = 0;
    if (cfg->validation_stratified && classify && cfg->validation_split > 0.0) {
        int *cnt = calloc((size_t)tg.n_classes, sizeof *cnt), *seen = calloc((size_t)tg.n_classes,
                                                                              sizeof *seen);
        if (!cnt || !seen) {
            free(cnt);
            free(seen);
            goto nomem;
        }
        for (int i = 0; i < n_train; i++)
            cnt[tg.cls[train_rows[i]]]++;
        for (int i = 0; i < n_train; i++) {
            int c = tg.cls[train_rows[i]];
            if (seen[c]++ < (int)floor((double)cnt[c] * (1.0 - cfg->validation_split)))
                rows[n_fit++] = train_rows[i];
        }
        memset(seen, 0, (size_t)tg.n_classes * sizeof *seen);
        n_val = n_fit;
        for (int i = 0; i < n_train; i++) {
            int c = tg.cls[train_rows[i]];
            if (seen[c]++ >= (int)floor((double)cnt[c] * (1.0 - cfg->validation_split)))
                rows[n_val++] = train_rows[i];
        }
        n_val -= n_fit;
        free(cnt);
        free(seen);
    } else {
        memcpy(rows, train_rows, (size_t)n_train * sizeof *rows);
        n_fit = (int)floor((double)n_train * (1.0 - cfg->validation_split));
        n_val = n_train - n_fit;
    }
    if (n_fit <= 0 || (cfg->validation_split > 0.0 && n_val <= 0)) {
        sw_errf(err, errlen, "%s: validation_split %g of %d training rows leaves no %s rows",
                data->path, cfg->validation_split, n_train, n_fit <= 0 ? "training" : "validation");
        rc = SW_EDATA;
        goto out;
    }
    res.n_fit = n_fit;
    res.n_val = n_val;
    res.n_eval = n_eval;

    /* Contiguous copies: fit, validation, held-out; imputed and standardized with
     * statistics of the fit rows only. */
    int bs = cfg->batch_size < n_fit ? cfg->batch_size : n_fit;
    int max_batch = bs > 256 ? bs : 256;
    int n_most = n_fit > n_val ? n_fit : n_val;
    n_most = n_most > n_eval ? n_most : n_eval;
    xf = malloc(((size_t)n_fit * (size_t)nf + 1) * sizeof *xf);
    yf = malloc(((size_t)n_fit * (size_t)k + 1) * sizeof *yf);
    xv = malloc(((size_t)n_val * (size_t)nf + 1) * sizeof *xv);
    yv = malloc(((size_t)n_val * (size_t)k + 1) * sizeof *yv);
    xt = malloc(((size_t)n_eval * (size_t)nf + 1) * sizeof *xt);
    yt = malloc(((size_t)n_eval * (size_t)k + 1) * sizeof *yt);
    xb = malloc(((size_t)bs * (size_t)nf + 1) * sizeof *xb);
    yb = malloc(((size_t)bs * (size_t)k + 1) * sizeof *yb);
    ep_out = malloc(((size_t)n_fit * (size_t)k + 1) * sizeof *ep_out);
    ep_y = malloc(((size_t)n_fit * (size_t)k + 1) * sizeof *ep_y);
    pout = malloc(((size_t)n_most * (size_t)k + 1) * sizeof *pout);
    perm = malloc((size_t)n_fit * sizeof *perm);
    if (!xf || !yf || !xv || !yv || !xt || !yt || !xb || !yb || !ep_out || !ep_y || !pout || !perm)
        goto nomem;
    s_gather(data, rows, n_fit, ycls, k, xf, yf);
    s_gather(data, rows + n_fit, n_val, ycls, k, xv, yv);
    s_gather(data, eval_rows, n_eval, ycls, k, xt, yt);
    if (cfg->impute != TRN_IMPUTE_NONE) {
        if (trn_imputer_fit(&imputer, cfg->impute, xf, nf, NULL, n_fit) < 0)
            goto nomem;
        trn_imputer_apply(&imputer, xf, n_fit);
        trn_imputer_apply(&imputer, xv, n_val);
        trn_imputer_apply(&imputer, xt, n_eval);
    }
    if (cfg->standardize) {
        if (trn_scaler_fit(&scaler, xf, nf, NULL, n_fit) < 0)
            goto nomem;
        trn_scaler_apply(&scaler, xf, n_fit);
        trn_scaler_apply(&scaler, xv, n_val);
        trn_scaler_apply(&scaler, xt, n_eval);
    }

    /* The network and its optimizer. */
    int sizes[TRN_MAX_LAYERS + 2];
    sizes[0] = nf;
    for (int l = 0; l < cfg->n_hidden; l++)
        sizes[l + 1] = cfg->hidden[l];
    sizes[cfg->n_hidden + 1] = k;
    mlp = trn_mlp_new(cfg->n_hidden + 1, sizes, cfg->activation, cfg->output_activation,
                      cfg->loss, max_batch);
    if (!mlp || trn_mlp_set_dropout(mlp, cfg->dropout) < 0)
        goto nomem;
    trn_mlp_set_l2(mlp, cfg->l2);
    opt = trn_opt_new(&cfg->opt, mlp->n_params);
    best_w = malloc(mlp->n_params * sizeof *best_w);
    if (!opt || !best_w)
        goto nomem;
    sw_rng_t init_rng, shuf_rng, drop_rng;
    sw_rng_seed2(&init_rng, cfg->seed, 1);
    sw_rng_seed2(&shuf_rng, cfg->seed, 2);
    sw_rng_seed2(&drop_rng, cfg->seed, 4);
    trn_mlp_init_with(mlp, cfg->init, &init_rng);
    for (int i = 0; i < n_fit; i++)
        perm[i] = i;

    /* Early stopping state, as Keras 3's EarlyStopping; ReduceLROnPlateau's likewise. */
    const trn_early_stop_t *es = &cfg->early_stopping;
    bool es_max = es->mode == TRN_MODE_MAX ||
                  (es->mode == TRN_MODE_AUTO && trn_metrics_higher_better(es->monitor));
    double es_best = 0.0;
    bool es_has_best = false, es_has_weights = false;
    int es_wait = 0;
    const trn_schedule_t *sc = &cfg->schedule;
    bool pl_max = sc->mode == TRN_MODE_MAX ||
                  (sc->mode == TRN_MODE_AUTO && trn_metrics_higher_better(sc->monitor));
    double pl_best = pl_max ? -INFINITY : INFINITY;
    int pl_wait = 0, pl_cooldown = 0;
    const double lr0 = cfg->opt.lr;
    const int steps_per_epoch = (n_fit + bs - 1) / bs;
    const int64_t total_steps = (int64_t)steps_per_epoch * cfg->epochs;
    trn_metrics_t logs, best_logs;
    memset(&logs, 0, sizeof logs);
    memset(&best_logs, 0, sizeof best_logs);

    for (int e = 0; e < cfg->epochs; e++) {
        if (sc->kind == TRN_SCHED_STEP)
            opt->cfg.lr = lr0 * pow(sc->factor, floor((double)e / sc->every));
        if (cfg->shuffle)
            s_shuffle(perm, n_fit, &shuf_rng);
        double loss_sum = 0.0;
        for (int b = 0; b < n_fit; b += bs) {
            int nb = n_fit - b < bs ? n_fit - b : bs;
            for (int i = 0; i < nb; i++) {
                int r = perm[b + i];
                memcpy(xb + (size_t)i * (size_t)nf, xf + (size_t)r * (size_t)nf,
                       (size_t)nf * sizeof(double));
                memcpy(yb + (size_t)i * (size_t)k, yf + (size_t)r * (size_t)k,
                       (size_t)k * sizeof(double));
            }
            const double *o = trn_mlp_forward_train(mlp, xb, nb, &drop_rng);
            loss_sum += trn_mlp_loss_sum(mlp, o, yb, nb) + trn_mlp_penalty(mlp) * nb;
            memcpy(ep_out + (size_t)b * (size_t)k, o, (size_t)nb * (size_t)k * sizeof *o);
            memcpy(ep_y + (size_t)b * (size_t)k, yb, (size_t)nb * (size_t)k * sizeof *yb);
            trn_mlp_backward(mlp, xb, yb, nb);
            if (sc->kind == TRN_SCHED_COSINE)
                opt->cfg.lr = s_cosine_lr(sc, lr0, opt->iterations, total_steps);
            trn_opt_step(opt, mlp->params, mlp->grads);
        }
        memset(&logs, 0, sizeof logs);
        if (trn_metrics_score(&logs, "", regression, k, ep_out, ep_y, n_fit, loss_sum / n_fit) < 0)
            goto nomem;
        if (n_val > 0) {
            double vl = s_predict(mlp, xv, yv, n_val, nf, k, pout);
            if (trn_metrics_score(&logs, "val_", regression, k, pout, yv, n_val, vl) < 0)
                goto nomem;
        }
        if (sc->kind != TRN_SCHED_NONE)
            trn_metrics_set(&logs, "lr", opt->cfg.lr);
        res.epochs_run = e + 1;
        if (report && (rc = report(arg, e + 1, false, &logs)) != 0)
            goto out;

        /* ReduceLROnPlateau (keras/src/callbacks/reduce_lr_on_plateau.py) */
        const double *pcur = sc->kind == TRN_SCHED_PLATEAU ? trn_metrics_get(&logs, sc->monitor)
                                                           : NULL;
        if (pcur) {
            if (pl_cooldown > 0) {
                pl_cooldown--;
                pl_wait = 0;
            }
            if (pl_max ? *pcur > pl_best + sc->min_delta : *pcur < pl_best - sc->min_delta) {
                pl_best = *pcur;
                pl_wait = 0;
            } else if (pl_cooldown <= 0 && ++pl_wait >= sc->patience) {
                if (opt->cfg.lr > sc->min_lr) {
                    opt->cfg.lr = fmax(opt->cfg.lr * sc->factor, sc->min_lr);
                    pl_cooldown = sc->cooldown;
                    pl_wait = 0;
                }
            }
        }

        if (!es->enabled)
            continue;
        const double *cur = trn_metrics_get(&logs, es->monitor);
        if (!cur)
            continue;
        if (es->restore_best_weights && !es_has_weights) {
            memcpy(best_w, mlp->params, mlp->n_params * sizeof *best_w);
            es_has_weights = true;
            best_logs = logs;
            res.best_epoch = e + 1;
        }
        es_wait++;
        bool improved = !es_has_best || (es_max ? *cur - es->min_delta > es_best
                                                : *cur + es->min_delta < es_best);
        if (improved) {
            es_best = *cur;
            es_has_best = true;
            res.best_epoch = e + 1;
            if (es->restore_best_weights) {
                memcpy(best_w, mlp->params, mlp->n_params * sizeof *best_w);
                best_logs = logs;
            }
            es_wait = 0;
            continue;
        }
        if (es_wait >= es->patience && e > 0) {
            res.stopped_early = true;
            break;
        }
    }

    /* Final weights, scores and metrics. */
    res.final = logs;
    if (es->enabled && es->restore_best_weights && es_has_weights) {
        memcpy(mlp->params, best_w, mlp->n_params * sizeof *best_w);
        res.final = best_logs;
    }
    double l = s_predict(mlp, xf, yf, n_fit, nf, k, pout);
    if (trn_metrics_score(&res.fit_scores, "", regression, k, pout, yf, n_fit, l) < 0)
        goto nomem;
    if (n_val > 0) {
        l = s_predict(mlp, xv, yv, n_val, nf, k, pout);
        if (trn_metrics_score(&res.val_scores, "", regression, k, pout, yv, n_val, l) < 0)
            goto nomem;
    }
    if (n_eval > 0) {
        l = s_predict(mlp, xt, yt, n_eval, nf, k, pout);
        if (trn_metrics_score(&res.eval_scores, "", regression, k, pout, yt, n_eval, l) < 0)
            goto nomem;
        if (eval_as_val)
            for (int i = 0; i < res.eval_scores.n; i++) {
                char name[TRN_NAME_MAX + 4];
                snprintf(name, sizeof name, "val_%s", res.eval_scores.name[i]);
                trn_metrics_set(&res.final, name, res.eval_scores.value[i]);
            }
    }
    if (classify && (n_eval > 0 || n_val > 0)) {
        int *count = calloc((size_t)tg.n_classes, sizeof *count), top = 0;
        if (!count)
            goto nomem;
        for (int i = 0; i < n_fit; i++)
            count[tg.cls[rows[i]]]++;
        for (int c = 1; c < tg.n_classes; c++)
            if (count[c] > count[top])
                top = c;
        const int *er = n_eval > 0 ? eval_rows : rows + n_fit;
        int ne = n_eval > 0 ? n_eval : n_val, hit = 0;
        for (int i = 0; i < ne; i++)
            hit += tg.cls[er[i]] == top;
        res.majority = (double)hit / ne;
        free(count);
    }
    if (report && (rc = report(arg, res.epochs_run, true, &res.final)) != 0)
        goto out;
    if (model_out && !(*model_out = s_model_new(cfg, data, &tg, &imputer, &scaler, &mlp)))
        goto nomem;
    if (result)
        *result = res;
    goto out;

nomem:
    sw_errf(err, errlen, "out of memory");
    rc = SW_ENOMEM;
out:
    s_targets_clear(&tg);
    trn_scaler_clear(&scaler);
    trn_imputer_clear(&imputer);
    trn_opt_destroy(&opt);
    trn_mlp_destroy(&mlp);
    free(rows);
    free(perm);
    free(xf);
    free(yf);
    free(xv);
    free(yv);
    free(xt);
    free(yt);
    free(xb);
    free(yb);
    free(ep_out);
    free(ep_y);
    free(pout);
    free(best_w);
    return rc;
}

int trn_fit(const trn_config_t *cfg, const trn_data_t *data, const trn_cv_t *cv, int fold,
            trn_report_fn *report, void *arg, trn_result_t *result, char *err, size_t errlen)
{
    const int n = data->n_rows;
    int *tuning = malloc(((size_t)n + 1) * sizeof *tuning);
    int *test = malloc(((size_t)n + 1) * sizeof *test);
    int *fold_of = NULL, *cls = NULL, *train = NULL, *held = NULL;
    s_targets_t tg = {0};
    int n_tuning = 0, n_test = 0, rc;
    if (!tuning || !test)
        goto nomem;
    if ((rc = trn_fit_split_rows(cfg, data, tuning, &n_tuning, test, &n_test, err, errlen)) < 0)
        goto out;
    if (!cv) {
        rc = trn_fit_rows(cfg, data, tuning, n_tuning, NULL, 0, false, report, arg, result, NULL,
                          err, errlen);
        goto out;
    }
    if (fold < 0 || fold >= cv->folds) {
        sw_errf(err, errlen, "fold %d is out of range (cv.folds is %d)", fold, cv->folds);
        rc = SW_EINVAL;
        goto out;
    }
    if (cv->folds > n_tuning) {
        sw_errf(err, errlen, "%s: cv.folds %d exceeds the %d tuning rows", data->path, cv->folds,
                n_tuning);
        rc = SW_EDATA;
        goto out;
    }
    /* Folds are dealt over the tuning rows (stratified by their classes). */
    fold_of = malloc((size_t)n_tuning * sizeof *fold_of);
    cls = malloc((size_t)n_tuning * sizeof *cls);
    train = malloc((size_t)n_tuning * sizeof *train);
    held = malloc((size_t)n_tuning * sizeof *held);
    if (!fold_of || !cls || !train || !held)
        goto nomem;
    bool strat = cfg->task != TRN_TASK_REGRESSION && cv->stratified;
    if (strat) {
        if ((rc = s_targets(cfg, data, &tg, err, errlen)) < 0)
            goto out;
        for (int i = 0; i < n_tuning; i++)
            cls[i] = tg.cls[tuning[i]];
    }
    if ((rc = trn_folds_assign(n_tuning, cv->folds, strat ? cls : NULL, cv->seed, fold_of)) < 0)
        goto out;
    int n_train = 0, n_held = 0;
    for (int i = 0; i < n_tuning; i++) {
        if (fold_of[i] == fold)
            held[n_held++] = tuning[i];
        else
            train[n_train++] = tuning[i];
    }
    rc = trn_fit_rows(cfg, data, train, n_train, held, n_held, true, report, arg, result, NULL,
                      err, errlen);
    goto out;
nomem:
    sw_errf(err, errlen, "out of memory");
    rc = SW_ENOMEM;
out:
    s_targets_clear(&tg);
    free(tuning);
    free(test);
    free(fold_of);
    free(cls);
    free(train);
    free(held);
    return rc;
}

/* CSV options for CFG: text labels for classification, missing cells read as NaN when
 * an imputer will fill them. */
static trn_csv_opts_t s_csv_opts(const trn_config_t *cfg)
{
    trn_csv_opts_t o = cfg->csv;
    o.text_labels = cfg->task != TRN_TASK_REGRESSION;
    o.missing_ok = cfg->impute != TRN_IMPUTE_NONE;
    return o;
}

trn_data_t *trn_config_load_data(const trn_config_t *cfg, char *err, size_t errlen, int *code_out)
{
    trn_csv_opts_t o = s_csv_opts(cfg);
    return trn_data_load(cfg->dataset, &o, err, errlen, code_out);
}

int trn_setup(const cJSON *trainer, const cJSON *params, const cJSON *cv_json,
              const uint64_t *seed, trn_config_t *cfg, trn_cv_t *cv, trn_data_t **data,
              char *err, size_t errlen)
{
    sw_errs_t errs = {0};
    int rc;
    *data = NULL;
    int bad = trn_config_parse(cfg, trainer, params, &errs);
    if (cv_json)
        bad += trn_cv_parse(cv_json, cv, &errs);
    if (bad) {
        char *msg = sw_errs_join(&errs, "; ");
        sw_errf(err, errlen, "%s", msg ? msg : "invalid trainer configuration");
        free(msg);
        sw_errs_clear(&errs);
        trn_config_clear(cfg);
        return SW_EINVAL;
    }
    sw_errs_clear(&errs);
    if (seed)
        cfg->seed = *seed;
    *data = trn_config_load_data(cfg, err, errlen, &rc);
    if (!*data) {
        trn_config_clear(cfg);
        return rc;
    }
    return 0;
}

int trn_run(const cJSON *trainer, const cJSON *params, const cJSON *cv_json, int fold,
            const uint64_t *seed, trn_report_fn *report, void *arg, trn_result_t *result,
            char *err, size_t errlen)
{
    trn_config_t cfg;
    trn_cv_t cv;
    trn_data_t *data;
    bool use_cv = cv_json && fold >= 0;
    int rc = trn_setup(trainer, params, use_cv ? cv_json : NULL, seed, &cfg, &cv, &data, err,
                       errlen);
    if (rc)
        return rc;
    rc = trn_fit(&cfg, data, use_cv ? &cv : NULL, fold, report, arg, result, err, errlen);
    trn_data_destroy(&data);
    trn_config_clear(&cfg);
    return rc;
}
