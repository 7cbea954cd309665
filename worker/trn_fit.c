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
    bool mom_set, nesterov_set, beta1_set, beta2_set, rho_set, eps_set;
    double lr, momentum, beta_1, beta_2, rho, epsilon;
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
        sw_errs_add(errs, "%s: unknown activation '%s' (expected relu, sigmoid, tanh, linear%s)",
                    path, s, output ? ", softmax" : "");
        return 1;
    }
    *out = a;
    return 0;
}

static char *s_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Parameter names that override a trainer field one to one. */
static const char *const s_param_fields[] = {
    "batch_size", "epochs", "optimizer", "lr", "momentum", "nesterov", "activation",
    "output_activation", "validation_split", "loss", "beta_1", "beta_2", "rho", "epsilon",
    "shuffle", "standardize", NULL};

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
            const char *s;
            if (s_string(f, p, &s, errs))
                bad++;
            else if (strcmp(s, "auto") == 0)
                es->mode = TRN_MODE_AUTO;
            else if (strcmp(s, "min") == 0)
                es->mode = TRN_MODE_MIN;
            else if (strcmp(s, "max") == 0)
                es->mode = TRN_MODE_MAX;
            else
                bad += sw_errs_add(errs, "%s: unknown mode '%s' (expected auto, min, max)", p, s) == 0;
        } else if (strcmp(f->string, "restore_best_weights") == 0) {
            bad += s_bool(f, p, &es->restore_best_weights, errs);
        } else {
            bad += sw_errs_add(errs, "%s: unknown setting", p) == 0;
        }
    }
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
        cfg->dataset = s_strdup(s);
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
            cfg->target_name = s_strdup(it->valuestring);
            return 0;
        }
        sw_errs_add(errs, "%s: must be a column index (negative counts from the end) or a column name", path);
        return 1;
    }
    if (strcmp(key, "task") == 0) {
        if (s_string(it, path, &s, errs))
            return 1;
        if (strcmp(s, "binary") == 0)
            cfg->task = TRN_TASK_BINARY;
        else if (strcmp(s, "multiclass") == 0)
            cfg->task = TRN_TASK_MULTICLASS;
        else if (strcmp(s, "regression") == 0)
            cfg->task = TRN_TASK_REGRESSION;
        else {
            sw_errs_add(errs, "%s: unknown task '%s' (expected binary, multiclass, regression)", path, s);
            return 1;
        }
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
            sw_errs_add(errs, "%s: unknown optimizer '%s' (expected sgd, adam, rmsprop)", path, s);
            return 1;
        }
        return 0;
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
    if (strcmp(key, "seed") == 0) {
        double v;
        if (!s_integral(it, &v) || v < 0) {
            sw_errs_add(errs, "%s: must be an integer >= 0", path);
            return 1;
        }
        cfg->seed = (uint64_t)v;
        return 0;
    }
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
    pd->hidden_layers = -1;
}

static bool s_metric_max(const char *monitor)
{
    const char *base = strncmp(monitor, "val_", 4) == 0 ? monitor + 4 : monitor;
    return strcmp(base, "accuracy") == 0 || strcmp(base, "auc") == 0 ||
           strcmp(base, "precision") == 0 || strcmp(base, "recall") == 0 ||
           strcmp(base, "f1") == 0;
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
    cfg->opt = o;

    /* the monitored metric must exist */
    if (cfg->early_stopping.enabled) {
        const char *mon = cfg->early_stopping.monitor;
        const char *b = strncmp(mon, "val_", 4) == 0 ? mon + 4 : mon;
        bool known = strcmp(b, "loss") == 0 ||
                     (cfg->task != TRN_TASK_REGRESSION && strcmp(b, "accuracy") == 0);
        if (!known)
            bad += sw_errs_add(errs, "%s.early_stopping.monitor: unknown metric '%s' (expected "
                               "loss, val_loss%s)", base, mon,
                               cfg->task != TRN_TASK_REGRESSION ? ", accuracy, val_accuracy" : "") == 0;
        else if (b != mon && check_split && cfg->validation_split <= 0.0)
            bad += sw_errs_add(errs, "%s.early_stopping.monitor: '%s' needs validation_split > 0",
                               base, mon) == 0;
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

/* ---- metrics ------------------------------------------------------------------- */

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

/* ---- the fit ------------------------------------------------------------------- */

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
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

/* Mean loss and accuracy of the model on N rows of X / Y, in chunks of max_batch. */
static void s_evaluate(trn_mlp_t *mlp, const double *x, const double *y, int n, int nf, int k,
                       double *loss, double *acc)
{
    double ls = 0.0;
    long correct = 0;
    for (int b = 0; b < n; b += mlp->max_batch) {
        int nb = n - b < mlp->max_batch ? n - b : mlp->max_batch;
        const double *xb = x + (size_t)b * (size_t)nf, *yb = y + (size_t)b * (size_t)k;
        const double *out = trn_mlp_forward(mlp, xb, nb);
        ls += trn_mlp_loss_sum(mlp, out, yb, nb);
        correct += trn_mlp_correct(mlp, out, yb, nb);
    }
    *loss = ls / n;
    *acc = (double)correct / n;
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

int trn_fit(const trn_config_t *cfg, const trn_data_t *data, const trn_cv_t *cv, int fold,
            trn_report_fn *report, void *arg, trn_result_t *result, char *err, size_t errlen)
{
    openblas_set_num_threads(1);
    const int n = data->n_rows, nf = data->n_features, tcol = data->target_col + 1;
    const bool classify = cfg->task != TRN_TASK_REGRESSION;
    int rc = 0, k = 1, n_classes = 0;
    int *cls = NULL, *fold_of = NULL, *rows = NULL, *perm = NULL;
    double *uniq = NULL, *xf = NULL, *yf = NULL, *xv = NULL, *yv = NULL, *xt = NULL,
           *yt = NULL, *xb = NULL, *yb = NULL, *best_w = NULL;
    trn_mlp_t *mlp = NULL;
    trn_opt_t *opt = NULL;
    trn_scaler_t scaler = {0};
    trn_result_t res;
    memset(&res, 0, sizeof res);

    /* Targets: class indices for classification. */
    if (classify) {
        cls = malloc((size_t)n * sizeof *cls);
        uniq = malloc((size_t)n * sizeof *uniq);
        if (!cls || !uniq)
            goto nomem;
        for (int r = 0; r < n; r++) {
            double v = data->y[r];
            if (cfg->task == TRN_TASK_BINARY && v != 0.0 && v != 1.0) {
                s_err(err, errlen, "%s: row %d, column %d: label %g is not 0 or 1 (task binary)",
                      data->path, data->line[r], tcol, v);
                rc = SW_EDATA;
                goto out;
            }
            if (v != floor(v)) {
                s_err(err, errlen, "%s: row %d, column %d: label %g is not an integer class (task "
                      "multiclass)", data->path, data->line[r], tcol, v);
                rc = SW_EDATA;
                goto out;
            }
            uniq[r] = v;
        }
        if (cfg->task == TRN_TASK_BINARY) {
            n_classes = 2;
            for (int r = 0; r < n; r++)
                cls[r] = (int)data->y[r];
        } else {
            qsort(uniq, (size_t)n, sizeof *uniq, s_cmp_double);
            for (int r = 0; r < n; r++)
                if (r == 0 || uniq[r] != uniq[n_classes - 1])
                    uniq[n_classes++] = uniq[r];
            if (n_classes < 2) {
                s_err(err, errlen, "%s: column %d: a multiclass task needs at least 2 classes",
                      data->path, tcol);
                rc = SW_EDATA;
                goto out;
            }
            for (int r = 0; r < n; r++)
                cls[r] = (int)((double *)bsearch(&data->y[r], uniq, (size_t)n_classes,
                                                 sizeof *uniq, s_cmp_double) - uniq);
            k = n_classes;
        }
    }

    /* Rows: training part (all rows, or every fold but FOLD) then held-out fold. */
    rows = malloc((size_t)n * sizeof *rows);
    if (!rows)
        goto nomem;
    int n_train = 0, n_test = 0;
    if (cv) {
        if (fold < 0 || fold >= cv->folds) {
            s_err(err, errlen, "fold %d is out of range (cv.folds is %d)", fold, cv->folds);
            rc = SW_EINVAL;
            goto out;
        }
        if (cv->folds > n) {
            s_err(err, errlen, "%s: cv.folds %d exceeds the %d data rows", data->path, cv->folds, n);
            rc = SW_EDATA;
            goto out;
        }
        fold_of = malloc((size_t)n * sizeof *fold_of);
        if (!fold_of)
            goto nomem;
        rc = trn_folds_assign(n, cv->folds, classify && cv->stratified ? cls : NULL, cv->seed,
                              fold_of);
        if (rc < 0)
            goto out;
        for (int r = 0; r < n; r++)
            if (fold_of[r] != fold)
                rows[n_train++] = r;
        n_test = n - n_train;
        for (int r = 0, j = n_train; r < n; r++)
            if (fold_of[r] == fold)
                rows[j++] = r;
    } else {
        for (int r = 0; r < n; r++)
            rows[r] = r;
        n_train = n;
    }
    int n_fit = (int)floor((double)n_train * (1.0 - cfg->validation_split));
    int n_val = n_train - n_fit;
    if (n_fit <= 0 || (cfg->validation_split > 0.0 && n_val <= 0)) {
        s_err(err, errlen, "%s: validation_split %g of %d training rows leaves no %s rows",
              data->path, cfg->validation_split, n_train, n_fit <= 0 ? "training" : "validation");
        rc = SW_EDATA;
        goto out;
    }
    const int *fit_rows = rows, *val_rows = rows + n_fit, *test_rows = rows + n_train;

    /* Contiguous, standardized copies: fit, validation, held-out. */
    int bs = cfg->batch_size < n_fit ? cfg->batch_size : n_fit;
    int max_batch = bs > 256 ? bs : 256;
    xf = malloc(((size_t)n_fit * (size_t)nf + 1) * sizeof *xf);
    yf = malloc(((size_t)n_fit * (size_t)k + 1) * sizeof *yf);
    xv = malloc(((size_t)n_val * (size_t)nf + 1) * sizeof *xv);
    yv = malloc(((size_t)n_val * (size_t)k + 1) * sizeof *yv);
    xt = malloc(((size_t)n_test * (size_t)nf + 1) * sizeof *xt);
    yt = malloc(((size_t)n_test * (size_t)k + 1) * sizeof *yt);
    xb = malloc(((size_t)bs * (size_t)nf + 1) * sizeof *xb);
    yb = malloc(((size_t)bs * (size_t)k + 1) * sizeof *yb);
    perm = malloc((size_t)n_fit * sizeof *perm);
    if (!xf || !yf || !xv || !yv || !xt || !yt || !xb || !yb || !perm)
        goto nomem;
    const int *ycls = cfg->task == TRN_TASK_REGRESSION ? NULL : cls;
    s_gather(data, fit_rows, n_fit, ycls, k, xf, yf);
    s_gather(data, val_rows, n_val, ycls, k, xv, yv);
    s_gather(data, test_rows, n_test, ycls, k, xt, yt);
    if (cfg->standardize) {
        if (trn_scaler_fit(&scaler, data->x, nf, fit_rows, n_fit) < 0)
            goto nomem;
        trn_scaler_apply(&scaler, xf, n_fit);
        trn_scaler_apply(&scaler, xv, n_val);
        trn_scaler_apply(&scaler, xt, n_test);
    }

    /* The network and its optimizer. */
    int sizes[TRN_MAX_LAYERS + 2];
    sizes[0] = nf;
    for (int l = 0; l < cfg->n_hidden; l++)
        sizes[l + 1] = cfg->hidden[l];
    sizes[cfg->n_hidden + 1] = k;
    mlp = trn_mlp_new(cfg->n_hidden + 1, sizes, cfg->activation, cfg->output_activation,
                      cfg->loss, max_batch);
    if (!mlp)
        goto nomem;
    opt = trn_opt_new(&cfg->opt, mlp->n_params);
    best_w = malloc(mlp->n_params * sizeof *best_w);
    if (!opt || !best_w)
        goto nomem;
    sw_rng_t init_rng, shuf_rng;
    sw_rng_seed2(&init_rng, cfg->seed, 1);
    sw_rng_seed2(&shuf_rng, cfg->seed, 2);
    trn_mlp_init(mlp, &init_rng);
    for (int i = 0; i < n_fit; i++)
        perm[i] = i;

    /* Early stopping state, as Keras 3's EarlyStopping. */
    const trn_early_stop_t *es = &cfg->early_stopping;
    bool es_max = es->mode == TRN_MODE_MAX || (es->mode == TRN_MODE_AUTO && s_metric_max(es->monitor));
    double es_best = 0.0;
    bool es_has_best = false, es_has_weights = false;
    int es_wait = 0;
    trn_metrics_t logs, best_logs;
    memset(&best_logs, 0, sizeof best_logs);

    for (int e = 0; e < cfg->epochs; e++) {
        if (cfg->shuffle)
            s_shuffle(perm, n_fit, &shuf_rng);
        double loss_sum = 0.0;
        long correct = 0;
        for (int b = 0; b < n_fit; b += bs) {
            int nb = n_fit - b < bs ? n_fit - b : bs;
            for (int i = 0; i < nb; i++) {
                int r = perm[b + i];
                memcpy(xb + (size_t)i * (size_t)nf, xf + (size_t)r * (size_t)nf,
                       (size_t)nf * sizeof(double));
                memcpy(yb + (size_t)i * (size_t)k, yf + (size_t)r * (size_t)k,
                       (size_t)k * sizeof(double));
            }
            const double *out = trn_mlp_forward(mlp, xb, nb);
            loss_sum += trn_mlp_loss_sum(mlp, out, yb, nb);
            if (classify)
                correct += trn_mlp_correct(mlp, out, yb, nb);
            trn_mlp_backward(mlp, xb, yb, nb);
            trn_opt_step(opt, mlp->params, mlp->grads);
        }
        memset(&logs, 0, sizeof logs);
        trn_metrics_set(&logs, "loss", loss_sum / n_fit);
        if (classify)
            trn_metrics_set(&logs, "accuracy", (double)correct / n_fit);
        if (n_val > 0) {
            double vl, va;
            s_evaluate(mlp, xv, yv, n_val, nf, k, &vl, &va);
            trn_metrics_set(&logs, "val_loss", vl);
            if (classify)
                trn_metrics_set(&logs, "val_accuracy", va);
        }
        res.epochs_run = e + 1;
        if (report && (rc = report(arg, e + 1, false, &logs)) != 0)
            goto out;

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

    /* Final weights and metrics. */
    res.final = logs;
    if (es->enabled && es->restore_best_weights && es_has_weights) {
        memcpy(mlp->params, best_w, mlp->n_params * sizeof *best_w);
        res.final = best_logs;
    }
    if (cv) {
        double tl, ta;
        s_evaluate(mlp, xt, yt, n_test, nf, k, &tl, &ta);
        trn_metrics_set(&res.final, "val_loss", tl);
        if (classify)
            trn_metrics_set(&res.final, "val_accuracy", ta);
    }
    if (report && (rc = report(arg, res.epochs_run, true, &res.final)) != 0)
        goto out;
    if (result)
        *result = res;
    goto out;

nomem:
    s_err(err, errlen, "out of memory");
    rc = SW_ENOMEM;
out:
    trn_scaler_clear(&scaler);
    trn_opt_destroy(&opt);
    trn_mlp_destroy(&mlp);
    free(cls);
    free(uniq);
    free(fold_of);
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
    free(best_w);
    return rc;
}

int trn_run(const cJSON *trainer, const cJSON *params, const cJSON *cv_json, int fold,
            const uint64_t *seed, trn_report_fn *report, void *arg, trn_result_t *result,
            char *err, size_t errlen)
{
    sw_errs_t errs = {0};
    trn_config_t cfg;
    trn_cv_t cv;
    int rc;
    int bad = trn_config_parse(&cfg, trainer, params, &errs);
    if (cv_json && fold >= 0)
        bad += trn_cv_parse(cv_json, &cv, &errs);
    if (bad) {
        char *msg = sw_errs_join(&errs, "; ");
        s_err(err, errlen, "%s", msg ? msg : "invalid trainer configuration");
        free(msg);
        sw_errs_clear(&errs);
        trn_config_clear(&cfg);
        return SW_EINVAL;
    }
    sw_errs_clear(&errs);
    if (seed)
        cfg.seed = *seed;
    trn_data_t *data = trn_data_load(cfg.dataset, &cfg.csv, err, errlen, &rc);
    if (!data) {
        trn_config_clear(&cfg);
        return rc;
    }
    rc = trn_fit(&cfg, data, cv_json && fold >= 0 ? &cv : NULL, fold, report, arg, result, err,
                 errlen);
    trn_data_destroy(&data);
    trn_config_clear(&cfg);
    return rc;
}
