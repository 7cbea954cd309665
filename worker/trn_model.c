/*  trn_model.c - save, load and apply a trained model of the built-in trainer
 *
 *  The file is one JSON document (docs/TRAINER.md, "Model files"). JSON rather than a
 *  binary blob: the models are small (the digits network's 17,226 weights make about
 *  400 KB), a user can read the architecture, classes and scaler with any tool, and
 *  every double is printed with 17 significant digits, which strtod reads back to the
 *  same bits, so a loaded model predicts exactly what the saved one did. The
 *  format and version fields come first so that a reader rejects foreign files early.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/trn_model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "common/sw_err.h"
#include "common/sw_file.h"

static const char *const s_task_names[] = {"binary", "multiclass", "regression"};

const char *trn_task_name(trn_task_t task)
{
    return (unsigned)task < 3 ? s_task_names[task] : "?";
}


static void s_free_strings(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void trn_model_destroy(trn_model_t **model_p)
{
    if (!model_p || !*model_p)
        return;
    trn_model_t *m = *model_p;
    s_free_strings(m->names, m->n_cols);
    s_free_strings(m->classes, m->n_classes);
    free(m->fill);
    free(m->mean);
    free(m->scale);
    free(m->info);
    trn_mlp_destroy(&m->mlp);
    free(m);
    *model_p = NULL;
}

int trn_model_outputs(const trn_model_t *model)
{
    return model->mlp->layers[model->mlp->n_layers - 1].n_out;
}

/* ---- save ---------------------------------------------------------------------- */

/* A JSON array of N doubles, each printed with %.17g (17 significant digits read back
 * by strtod to the same bits; cJSON's own printing settles for 15 digits when they
 * compare equal within an epsilon, which is not exact). Added as a raw item. */
static cJSON *s_doubles(const double *v, size_t n)
{
    size_t cap = n * 26 + 3, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    buf[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, i ? ",%.17g" : "%.17g", v[i]);
    buf[len++] = ']';
    buf[len] = '\0';
    cJSON *a = cJSON_CreateRaw(buf);
    free(buf);
    return a;
}

static cJSON *s_strings(char *const *v, int n)
{
    if (!v)
        return cJSON_CreateNull();
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *s_to_json(const trn_model_t *m)
{
    const trn_mlp_t *mlp = m->mlp;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "format", TRN_MODEL_FORMAT);
    cJSON_AddNumberToObject(root, "version", TRN_MODEL_VERSION);
    cJSON_AddStringToObject(root, "task", trn_task_name(m->task));
    cJSON_AddNumberToObject(root, "features", m->n_features);
    cJSON_AddNumberToObject(root, "columns", m->n_cols);
    cJSON_AddNumberToObject(root, "target_column", m->target_col);
    cJSON_AddItemToObject(root, "column_names", s_strings(m->names, m->n_cols));
    cJSON_AddItemToObject(root, "classes", s_strings(m->classes, m->n_classes));
    cJSON_AddStringToObject(root, "loss", trn_loss_name(mlp->loss));
    if (m->fill) {
        cJSON *imp = cJSON_AddObjectToObject(root, "imputer");
        cJSON_AddStringToObject(imp, "strategy", m->impute == TRN_IMPUTE_MEDIAN ? "median" : "mean");
        cJSON_AddItemToObject(imp, "fill", s_doubles(m->fill, (size_t)m->n_features));
    } else {
        cJSON_AddNullToObject(root, "imputer");
    }
    if (m->mean) {
        cJSON *sc = cJSON_AddObjectToObject(root, "scaler");
        cJSON_AddItemToObject(sc, "mean", s_doubles(m->mean, (size_t)m->n_features));
        cJSON_AddItemToObject(sc, "scale", s_doubles(m->scale, (size_t)m->n_features));
    } else {
        cJSON_AddNullToObject(root, "scaler");
    }
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int l = 0; layers && l < mlp->n_layers; l++) {
        const trn_layer_t *ly = &mlp->layers[l];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(layers, o);
        cJSON_AddNumberToObject(o, "inputs", ly->n_in);
        cJSON_AddNumberToObject(o, "units", ly->n_out);
        cJSON_AddStringToObject(o, "activation", trn_act_name(ly->act));
        cJSON_AddNumberToObject(o, "dropout", mlp->dropout[l]);
        cJSON_AddItemToObject(o, "kernel", s_doubles(mlp->params + ly->w_off,
                                                     (size_t)ly->n_in * (size_t)ly->n_out));
        cJSON_AddItemToObject(o, "bias", s_doubles(mlp->params + ly->b_off, (size_t)ly->n_out));
    }
    cJSON *info = m->info ? cJSON_Parse(m->info) : NULL;
    if (info)
        cJSON_AddItemToObject(root, "info", info);
    return root;
}

int trn_model_save(const trn_model_t *model, const char *path, char *err, size_t errlen)
{
    cJSON *root = s_to_json(model);
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        sw_errf(err, errlen, "%s: out of memory", path);
        return SW_ENOMEM;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        free(text);
        sw_errf(err, errlen, "%s: out of memory", path);
        return SW_ENOMEM;
    }
    snprintf(tmp, n, "%s.tmp", path);
    int rc = 0;
    FILE *f = fopen(tmp, "wb");
    if (!f || fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        rc = errno ? -errno : -EIO;
        sw_errf(err, errlen, "%s: cannot write: %s", tmp, strerror(-rc));
    }
    if (f && fclose(f) != 0 && rc == 0) {
        rc = errno ? -errno : -EIO;
        sw_errf(err, errlen, "%s: cannot write: %s", tmp, strerror(-rc));
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
        sw_errf(err, errlen, "%s: cannot rename into place: %s", path, strerror(errno));
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(text);
    return rc;
}

/* ---- load ---------------------------------------------------------------------- */

/* Read array FIELD of exactly N finite numbers into V (malloc'd when *V is NULL). */
static int s_read_doubles(const cJSON *arr, size_t n, double *v)
{
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != n)
        return -1;
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
            return -1;
        v[i++] = x->valuedouble;
    }
    return 0;
}

static int s_read_strings(const cJSON *arr, char ***out, int *n_out)
{
    *out = NULL;
    if (cJSON_IsNull(arr) || !arr) {
        *n_out = 0;
        return 0;
    }
    if (!cJSON_IsArray(arr))
        return -1;
    int n = cJSON_GetArraySize(arr), i = 0;
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v)
        return SW_ENOMEM;
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) {
        if (!cJSON_IsString(x) || !(v[i] = strdup(x->valuestring))) {
            s_free_strings(v, n);
            return cJSON_IsString(x) ? SW_ENOMEM : -1;
        }
        i++;
    }
    *out = v;
    *n_out = n;
    return 0;
}

static int s_int_field(const cJSON *root, const char *name, int lo, int hi, int *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);
    if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
        it->valuedouble < lo || it->valuedouble > hi)
        return -1;
    *out = (int)it->valuedouble;
    return 0;
}

trn_model_t *trn_model_load(const char *path, char *err, size_t errlen, int *code_out)
{
    int dummy, *code = code_out ? code_out : &dummy;
    *code = 0;
    char *text = sw_file_read(path, 0, NULL, code);
    if (!text) {
        sw_errf(err, errlen, "%s: cannot read: %s", path,
                *code == SW_ENOMEM ? "out of memory" : strerror(-*code));
        return NULL;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    trn_model_t *m = calloc(1, sizeof *m);
    const char *bad = NULL;
    int sizes[TRN_MLP_MAX_LAYERS + 1];
    trn_act_t acts[TRN_MLP_MAX_LAYERS];
    double drop[TRN_MLP_MAX_LAYERS];
    const cJSON *layers = NULL, *it;
    if (!m) {
        *code = SW_ENOMEM;
        sw_errf(err, errlen, "%s: out of memory", path);
        goto fail_nomsg;
    }
    if (!cJSON_IsObject(root)) {
        bad = "not a JSON object";
        goto fail;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "format");
    if (!cJSON_IsString(it) || strcmp(it->valuestring, TRN_MODEL_FORMAT) != 0) {
        bad = "format: not a sweepd-mlp model file";
        goto fail;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsNumber(it) || it->valuedouble != TRN_MODEL_VERSION) {
        bad = "version: unsupported (this sweepd reads version 1)";
        goto fail;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "task");
    int t = -1;
    for (int i = 0; i < 3 && cJSON_IsString(it); i++)
        if (strcmp(it->valuestring, s_task_names[i]) == 0)
            t = i;
    if (t < 0) {
        bad = "task: must be binary, multiclass or regression";
        goto fail;
    }
    m->task = (trn_task_t)t;
    if (s_int_field(root, "features", 1, 10000000, &m->n_features) < 0) {
        bad = "features: must be an integer >= 1";
        goto fail;
    }
    if (s_int_field(root, "columns", m->n_features, m->n_features + 1, &m->n_cols) < 0) {
        bad = "columns: must be features or features + 1";
        goto fail;
    }
    if (s_int_field(root, "target_column", -1, m->n_cols - 1, &m->target_col) < 0) {
        bad = "target_column: out of range";
        goto fail;
    }
    int n_names = 0, rc;
    if ((rc = s_read_strings(cJSON_GetObjectItemCaseSensitive(root, "column_names"), &m->names,
                             &n_names)) != 0 || (m->names && n_names != m->n_cols)) {
        bad = rc == SW_ENOMEM ? "out of memory" : "column_names: must be null or one string per column";
        goto fail;
    }
    if ((rc = s_read_strings(cJSON_GetObjectItemCaseSensitive(root, "classes"), &m->classes,
                             &m->n_classes)) != 0 ||
        (m->task != TRN_TASK_REGRESSION && m->n_classes < 2)) {
        bad = rc == SW_ENOMEM ? "out of memory" : "classes: must list at least 2 class labels";
        goto fail;
    }
    trn_loss_t loss;
    it = cJSON_GetObjectItemCaseSensitive(root, "loss");
    if (!cJSON_IsString(it) || trn_loss_parse(it->valuestring, &loss) < 0) {
        bad = "loss: unknown loss";
        goto fail;
    }
    size_t nf = (size_t)m->n_features;
    it = cJSON_GetObjectItemCaseSensitive(root, "imputer");
    if (it && !cJSON_IsNull(it)) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "strategy");
        m->impute = cJSON_IsString(st) && strcmp(st->valuestring, "median") == 0
                    ? TRN_IMPUTE_MEDIAN : TRN_IMPUTE_MEAN;
        m->fill = malloc(nf * sizeof *m->fill);
        if (!m->fill || s_read_doubles(cJSON_GetObjectItemCaseSensitive(it, "fill"), nf, m->fill)) {
            bad = "imputer.fill: must hold one number per feature";
            goto fail;
        }
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "scaler");
    if (it && !cJSON_IsNull(it)) {
        m->mean = malloc(nf * sizeof *m->mean);
        m->scale = malloc(nf * sizeof *m->scale);
        if (!m->mean || !m->scale ||
            s_read_doubles(cJSON_GetObjectItemCaseSensitive(it, "mean"), nf, m->mean) ||
            s_read_doubles(cJSON_GetObjectItemCaseSensitive(it, "scale"), nf, m->scale)) {
            bad = "scaler: mean and scale must hold one number per feature";
            goto fail;
        }
        for (size_t f = 0; f < nf; f++)
            if (m->scale[f] == 0.0) {
                bad = "scaler.scale: must not be 0";
                goto fail;
            }
    }
    layers = cJSON_GetObjectItemCaseSensitive(root, "layers");
    int n_layers = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : 0;
    if (n_layers < 1 || n_layers > TRN_MLP_MAX_LAYERS) {
        bad = "layers: must be a non-empty array of layers";
        goto fail;
    }
    sizes[0] = m->n_features;
    int l = 0;
    cJSON_ArrayForEach(it, layers) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(it, "activation");
        int in, units;
        if (s_int_field(it, "inputs", 1, 10000000, &in) < 0 || in != sizes[l] ||
            s_int_field(it, "units", 1, 10000000, &units) < 0 || !cJSON_IsString(a) ||
            trn_act_parse(a->valuestring, &acts[l]) < 0 ||
            (acts[l] == TRN_ACT_SOFTMAX && l + 1 < n_layers)) {
            bad = "layers: each needs inputs (the previous width), units and a known activation";
            goto fail;
        }
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "dropout");
        drop[l] = cJSON_IsNumber(d) ? d->valuedouble : 0.0;
        sizes[++l] = units;
    }
    int k = sizes[n_layers];
    if ((m->task == TRN_TASK_BINARY && (k != 1 || m->n_classes != 2)) ||
        (m->task == TRN_TASK_MULTICLASS && k != m->n_classes)) {
        bad = "layers: the output width does not fit the classes";
        goto fail;
    }
    m->mlp = trn_mlp_new(n_layers, sizes, acts[0] == TRN_ACT_SOFTMAX ? TRN_ACT_LINEAR : acts[0],
                         acts[n_layers - 1], loss, 256);
    if (!m->mlp) {
        bad = "out of memory";
        goto fail;
    }
    l = 0;
    cJSON_ArrayForEach(it, layers) {
        trn_layer_t *ly = &m->mlp->layers[l];
        ly->act = acts[l];
        m->mlp->dropout[l] = drop[l];
        if (s_read_doubles(cJSON_GetObjectItemCaseSensitive(it, "kernel"),
                           (size_t)ly->n_in * (size_t)ly->n_out, m->mlp->params + ly->w_off) ||
            s_read_doubles(cJSON_GetObjectItemCaseSensitive(it, "bias"), (size_t)ly->n_out,
                           m->mlp->params + ly->b_off)) {
            bad = "layers: kernel must hold inputs x units numbers and bias units numbers";
            goto fail;
        }
        l++;
    }
    it = cJSON_GetObjectItemCaseSensitive(root, "info");
    if (cJSON_IsObject(it))
        m->info = cJSON_PrintUnformatted(it);
    cJSON_Delete(root);
    return m;

fail:
    *code = strcmp(bad, "out of memory") == 0 ? SW_ENOMEM : SW_EDATA;
    sw_errf(err, errlen, "%s: %s", path, bad);
fail_nomsg:
    cJSON_Delete(root);
    trn_model_destroy(&m);
    return NULL;
}

/* ---- predict ------------------------------------------------------------------- */

int trn_model_predict(trn_model_t *model, double *x, int n, const int *lines, double *out,
                      char *err, size_t errlen)
{
    int nf = model->n_features, k = trn_model_outputs(model);
    for (int r = 0; r < n; r++) {
        double *xr = x + (size_t)r * (size_t)nf;
        for (int f = 0; f < nf; f++) {
            if (!isnan(xr[f]))
                continue;
            if (!model->fill) {
                sw_errf(err, errlen, "row %d, column %d: missing value; the model has no imputer",
                        lines ? lines[r] : r + 1, f + 1);
                return SW_EDATA;
            }
            xr[f] = model->fill[f];
        }
        if (model->mean)
            for (int f = 0; f < nf; f++)
                xr[f] = (xr[f] - model->mean[f]) / model->scale[f];
    }
    int mb = model->mlp->max_batch;
    for (int b = 0; b < n; b += mb) {
        int nb = n - b < mb ? n - b : mb;
        const double *o = trn_mlp_forward(model->mlp, x + (size_t)b * (size_t)nf, nb);
        memcpy(out + (size_t)b * (size_t)k, o, (size_t)nb * (size_t)k * sizeof *o);
    }
    return 0;
}

int trn_model_predict_csv(trn_model_t *model, const char *path, int header, char delimiter,
                          bool proba, bool header_out, FILE *out, char *err, size_t errlen)
{
    trn_csv_opts_t o = trn_csv_opts_default();
    o.header = header;
    o.delimiter = delimiter;
    o.target_index = TRN_NO_TARGET;
    o.missing_ok = true;
    int code = 0;
    trn_data_t *d = trn_data_load(path, &o, err, errlen, &code);
    if (!d)
        return code;
    int nf = model->n_features, n = d->n_rows, k = trn_model_outputs(model);
    double *x = NULL, *y = NULL;
    int rc = 0;
    if (d->n_features != nf && !(d->n_features == model->n_cols && model->target_col >= 0)) {
        sw_errf(err, errlen, "%s: %d columns, expected %d (features)%s", path, d->n_features, nf,
                model->n_cols > nf ? " or the training file's columns" : "");
        rc = SW_EDATA;
        goto out;
    }
    x = malloc(((size_t)n * (size_t)nf + 1) * sizeof *x);
    y = malloc(((size_t)n * (size_t)k + 1) * sizeof *y);
    if (!x || !y) {
        sw_errf(err, errlen, "out of memory");
        rc = SW_ENOMEM;
        goto out;
    }
    for (int r = 0; r < n; r++) {
        const double *src = d->x + (size_t)r * (size_t)d->n_features;
        double *dst = x + (size_t)r * (size_t)nf;
        for (int c = 0, f = 0; c < d->n_features; c++)
            if (d->n_features == nf || c != model->target_col)
                dst[f++] = src[c];
    }
    char msg[256];
    if ((rc = trn_model_predict(model, x, n, d->line, y, msg, sizeof msg)) < 0) {
        sw_errf(err, errlen, "%s: %s", path, msg);
        goto out;
    }
    if (header_out) {
        fputs(model->task == TRN_TASK_REGRESSION ? "prediction" : "label", out);
        if (proba && model->task == TRN_TASK_BINARY)
            fprintf(out, ",p_%s", model->classes[1]);
        else if (proba && model->task == TRN_TASK_MULTICLASS)
            for (int c = 0; c < k; c++)
                fprintf(out, ",p_%s", model->classes[c]);
        fputc('\n', out);
    }
    for (int r = 0; r < n; r++) {
        const double *p = y + (size_t)r * (size_t)k;
        if (model->task == TRN_TASK_REGRESSION) {
            for (int c = 0; c < k; c++)
                fprintf(out, c ? ",%.17g" : "%.17g", p[c]);
        } else if (k == 1) {
            fputs(model->classes[p[0] > 0.5 ? 1 : 0], out);
            if (proba)
                fprintf(out, ",%.17g", p[0]);
        } else {
            fputs(model->classes[trn_argmax(p, k)], out);
            if (proba)
                for (int c = 0; c < k; c++)
                    fprintf(out, ",%.17g", p[c]);
        }
        fputc('\n', out);
    }
    if (ferror(out)) {
        sw_errf(err, errlen, "cannot write the predictions: %s", strerror(errno));
        rc = -EIO;
        goto out;
    }
    rc = n;
out:
    free(x);
    free(y);
    trn_data_destroy(&d);
    return rc;
}
