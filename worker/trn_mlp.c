/*  trn_mlp.c - dense layers, activations, losses, backpropagation and the Keras
 *  optimizers of the built-in trainer
 *
 *  Matrix products go through CBLAS (cblas_dgemm, row-major). Everything else is plain
 *  loops over contiguous rows: for the trainer's typical network (8-12-1 at batch 10) a
 *  step is a few hundred flops, and the cost is call overhead, so the code keeps the
 *  number of BLAS calls per layer at one forward and two backward, and allocates only in
 *  trn_mlp_new and trn_opt_new.
 *
 *  Backpropagation follows Rumelhart, Hinton & Williams (Nature 1986): with
 *  delta_l = dL/dZ_l, dW_l = A_{l-1}^T delta_l, db_l = 1^T delta_l and
 *  delta_{l-1} = (delta_l W_l^T) * act'(A_{l-1}), each derivative written in terms of the
 *  activation's output (relu: A > 0, sigmoid: A(1-A), tanh: 1-A^2, leaky_relu: A > 0 ?
 *  1 : slope, elu: A > 0 ? 1 : A + 1).
 *
 *  Dropout is inverted dropout on a hidden layer's output: a training pass multiplies it
 *  by a mask of 0 or 1/(1-rate) drawn from the caller's seeded generator into a buffer
 *  allocated once, and the backward pass multiplies dL/dA by the same mask before the
 *  activation's derivative. The L2 penalty adds 2 l2 W to each kernel's gradient.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/trn_mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_err.h"

static const char *const s_act_names[] = {"linear", "relu", "sigmoid", "tanh", "softmax",
                                          "leaky_relu", "elu"};
static const char *const s_init_names[] = {"glorot_uniform", "he_normal"};
static const char *const s_loss_names[] = {"binary_crossentropy", "categorical_crossentropy",
                                           "mse", "mae"};
static const char *const s_opt_names[] = {"sgd", "adam", "rmsprop", "adagrad", "adamw"};

#define S_COUNT(a) ((int)(sizeof(a) / sizeof *(a)))

const char *trn_act_name(trn_act_t act)
{
    return (unsigned)act < sizeof s_act_names / sizeof *s_act_names ? s_act_names[act] : "?";
}

const char *trn_loss_name(trn_loss_t loss)
{
    return (unsigned)loss < sizeof s_loss_names / sizeof *s_loss_names ? s_loss_names[loss] : "?";
}

const char *trn_init_name(trn_init_t init)
{
    return (unsigned)init < sizeof s_init_names / sizeof *s_init_names ? s_init_names[init] : "?";
}

const char *trn_opt_name(trn_opt_kind_t kind)
{
    return (unsigned)kind < sizeof s_opt_names / sizeof *s_opt_names ? s_opt_names[kind] : "?";
}

static int s_lookup(const char *const *names, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int trn_act_parse(const char *name, trn_act_t *out)
{
    int i = s_lookup(s_act_names, S_COUNT(s_act_names), name);
    if (i < 0)
        return -1;
    *out = (trn_act_t)i;
    return 0;
}

int trn_loss_parse(const char *name, trn_loss_t *out)
{
    int i = s_lookup(s_loss_names, 4, name);
    if (i < 0 && name) {
        /* Keras' aliases */
        if (strcmp(name, "mean_squared_error") == 0)
            i = TRN_LOSS_MSE;
        else if (strcmp(name, "mean_absolute_error") == 0)
            i = TRN_LOSS_MAE;
    }
    if (i < 0)
        return -1;
    *out = (trn_loss_t)i;
    return 0;
}

int trn_opt_parse(const char *name, trn_opt_kind_t *out)
{
    int i = s_lookup(s_opt_names, S_COUNT(s_opt_names), name);
    if (i < 0)
        return -1;
    *out = (trn_opt_kind_t)i;
    return 0;
}

int trn_init_parse(const char *name, trn_init_t *out)
{
    int i = s_lookup(s_init_names, S_COUNT(s_init_names), name);
    if (i < 0)
        return -1;
    *out = (trn_init_t)i;
    return 0;
}

trn_mlp_t *trn_mlp_new(int n_layers, const int *sizes, trn_act_t hidden, trn_act_t output,
                       trn_loss_t loss, int max_batch)
{
    if (n_layers < 1 || max_batch < 1 || hidden == TRN_ACT_SOFTMAX)
        return NULL;
    for (int l = 0; l <= n_layers; l++)
        if (sizes[l] < 1)
            return NULL;
    trn_mlp_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->n_layers = n_layers;
    m->loss = loss;
    m->max_batch = max_batch;
    m->layers = calloc((size_t)n_layers, sizeof *m->layers);
    m->acts = calloc((size_t)n_layers, sizeof *m->acts);
    m->mask = calloc((size_t)n_layers, sizeof *m->mask);
    m->dout = calloc((size_t)n_layers, sizeof *m->dout);
    m->dropout = calloc((size_t)n_layers, sizeof *m->dropout);
    if (!m->layers || !m->acts || !m->mask || !m->dout || !m->dropout)
        goto fail;
    size_t off = 0;
    int widest = sizes[0];
    for (int l = 0; l < n_layers; l++) {
        trn_layer_t *ly = &m->layers[l];
        ly->n_in = sizes[l];
        ly->n_out = sizes[l + 1];
        ly->act = l == n_layers - 1 ? output : hidden;
        ly->w_off = off;
        off += (size_t)ly->n_in * (size_t)ly->n_out;
        ly->b_off = off;
        off += (size_t)ly->n_out;
        if (ly->n_out > widest)
            widest = ly->n_out;
        m->acts[l] = malloc((size_t)max_batch * (size_t)ly->n_out * sizeof(double));
        if (!m->acts[l])
            goto fail;
    }
    m->n_params = off;
    m->params = calloc(off, sizeof *m->params);
    m->grads = calloc(off, sizeof *m->grads);
    m->delta = malloc((size_t)max_batch * (size_t)widest * sizeof(double));
    m->delta2 = malloc((size_t)max_batch * (size_t)widest * sizeof(double));
    m->ones = malloc((size_t)max_batch * sizeof(double));
    if (!m->params || !m->grads || !m->delta || !m->delta2 || !m->ones)
        goto fail;
    for (int i = 0; i < max_batch; i++)
        m->ones[i] = 1.0;
    return m;
fail:
    trn_mlp_destroy(&m);
    return NULL;
}

void trn_mlp_destroy(trn_mlp_t **mlp_p)
{
    if (!mlp_p || !*mlp_p)
        return;
    trn_mlp_t *m = *mlp_p;
    for (int l = 0; l < m->n_layers; l++) {
        if (m->acts)
            free(m->acts[l]);
        if (m->mask)
            free(m->mask[l]);
        if (m->dout)
            free(m->dout[l]);
    }
    free(m->acts);
    free(m->mask);
    free(m->dout);
    free(m->dropout);
    free(m->layers);
    free(m->params);
    free(m->grads);
    free(m->delta);
    free(m->delta2);
    free(m->ones);
    free(m);
    *mlp_p = NULL;
}

void trn_mlp_init(trn_mlp_t *mlp, sw_rng_t *rng)
{
    trn_mlp_init_with(mlp, TRN_INIT_GLOROT_UNIFORM, rng);
}

void trn_mlp_init_with(trn_mlp_t *mlp, trn_init_t init, sw_rng_t *rng)
{
    for (int l = 0; l < mlp->n_layers; l++) {
        const trn_layer_t *ly = &mlp->layers[l];
        double *w = mlp->params + ly->w_off;
        size_t nw = (size_t)ly->n_in * (size_t)ly->n_out;
        if (init == TRN_INIT_HE_NORMAL) {
            double sd = sqrt(2.0 / (double)ly->n_in) / 0.87962566103423978;
            for (size_t i = 0; i < nw; i++) {
                double z;
                do
                    z = sw_rng_normal(rng);
                while (fabs(z) > 2.0);
                w[i] = sd * z;
            }
        } else {
            double limit = sqrt(6.0 / (double)(ly->n_in + ly->n_out));
            for (size_t i = 0; i < nw; i++)
                w[i] = (2.0 * sw_rng_uniform(rng) - 1.0) * limit;
        }
        memset(mlp->params + ly->b_off, 0, (size_t)ly->n_out * sizeof(double));
    }
}

int trn_mlp_set_dropout(trn_mlp_t *mlp, const double *rates)
{
    for (int l = 0; l + 1 < mlp->n_layers; l++)
        if (!(rates[l] >= 0.0 && rates[l] < 1.0))
            return SW_EINVAL;
    for (int l = 0; l + 1 < mlp->n_layers; l++) {
        mlp->dropout[l] = rates[l];
        size_t len = (size_t)mlp->max_batch * (size_t)mlp->layers[l].n_out;
        if (rates[l] > 0.0 && !mlp->mask[l]) {
            mlp->mask[l] = malloc(len * sizeof(double));
            mlp->dout[l] = malloc(len * sizeof(double));
            if (!mlp->mask[l] || !mlp->dout[l])
                return SW_ENOMEM;
            for (size_t i = 0; i < len; i++)
                mlp->mask[l][i] = 1.0;
        }
    }
    return 0;
}

void trn_mlp_set_l2(trn_mlp_t *mlp, double l2)
{
    mlp->l2 = l2;
}

double trn_mlp_penalty(const trn_mlp_t *mlp)
{
    if (mlp->l2 == 0.0)
        return 0.0;
    double s = 0.0;
    for (int l = 0; l < mlp->n_layers; l++) {
        const trn_layer_t *ly = &mlp->layers[l];
        const double *w = mlp->params + ly->w_off;
        size_t nw = (size_t)ly->n_in * (size_t)ly->n_out;
        for (size_t i = 0; i < nw; i++)
            s += w[i] * w[i];
    }
    return mlp->l2 * s;
}

/* Apply ACT in place to N rows of K values. */
static void s_activate(trn_act_t act, double *z, int n, int k)
{
    size_t len = (size_t)n * (size_t)k;
    switch (act) {
    case TRN_ACT_LINEAR:
        break;
    case TRN_ACT_RELU:
        for (size_t i = 0; i < len; i++)
            z[i] = z[i] > 0.0 ? z[i] : 0.0;
        break;
    case TRN_ACT_SIGMOID:
        for (size_t i = 0; i < len; i++)
            z[i] = 1.0 / (1.0 + exp(-z[i]));
        break;
    case TRN_ACT_TANH:
        for (size_t i = 0; i < len; i++)
            z[i] = tanh(z[i]);
        break;
    case TRN_ACT_LEAKY_RELU:
        for (size_t i = 0; i < len; i++)
            z[i] = z[i] > 0.0 ? z[i] : TRN_LEAKY_SLOPE * z[i];
        break;
    case TRN_ACT_ELU:
        for (size_t i = 0; i < len; i++)
            z[i] = z[i] > 0.0 ? z[i] : expm1(z[i]);
        break;
    case TRN_ACT_SOFTMAX:
        for (int r = 0; r < n; r++) {
            double *zr = z + (size_t)r * (size_t)k;
            double mx = zr[0], s = 0.0;
            for (int c = 1; c < k; c++)
                mx = zr[c] > mx ? zr[c] : mx;
            for (int c = 0; c < k; c++)
                s += (zr[c] = exp(zr[c] - mx));
            for (int c = 0; c < k; c++)
                zr[c] /= s;
        }
        break;
    }
}

/* D *= act'(A) elementwise, with the derivative written through the output A. */
static void s_act_grad(trn_act_t act, const double *a, double *d, size_t len)
{
    switch (act) {
    case TRN_ACT_LINEAR:
    case TRN_ACT_SOFTMAX: /* handled by the caller */
        break;
    case TRN_ACT_RELU:
        for (size_t i = 0; i < len; i++)
            d[i] = a[i] > 0.0 ? d[i] : 0.0;
        break;
    case TRN_ACT_SIGMOID:
        for (size_t i = 0; i < len; i++)
            d[i] *= a[i] * (1.0 - a[i]);
        break;
    case TRN_ACT_TANH:
        for (size_t i = 0; i < len; i++)
            d[i] *= 1.0 - a[i] * a[i];
        break;
    case TRN_ACT_LEAKY_RELU:
        for (size_t i = 0; i < len; i++)
            d[i] = a[i] > 0.0 ? d[i] : TRN_LEAKY_SLOPE * d[i];
        break;
    case TRN_ACT_ELU:
        for (size_t i = 0; i < len; i++)
            d[i] = a[i] > 0.0 ? d[i] : d[i] * (a[i] + 1.0);
        break;
    }
}

/* The forward pass; TRAIN applies dropout, drawing new masks from RNG when non-NULL. */
static const double *s_forward(trn_mlp_t *mlp, const double *x, int n, bool train,
                               sw_rng_t *rng)
{
    const double *in = x;
    mlp->train_pass = train;
    for (int l = 0; l < mlp->n_layers; l++) {
        const trn_layer_t *ly = &mlp->layers[l];
        double *z = mlp->acts[l];
        const double *b = mlp->params + ly->b_off;
        for (int r = 0; r < n; r++)
            memcpy(z + (size_t)r * (size_t)ly->n_out, b, (size_t)ly->n_out * sizeof(double));
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, ly->n_out, ly->n_in, 1.0,
                    in, ly->n_in, mlp->params + ly->w_off, ly->n_out, 1.0, z, ly->n_out);
        s_activate(ly->act, z, n, ly->n_out);
        in = z;
        if (train && mlp->mask[l] && mlp->dropout[l] > 0.0) {
            size_t len = (size_t)n * (size_t)ly->n_out;
            double *mk = mlp->mask[l], *o = mlp->dout[l];
            double rate = mlp->dropout[l], keep = 1.0 / (1.0 - rate);
            if (rng)
                for (size_t i = 0; i < len; i++)
                    mk[i] = sw_rng_uniform(rng) < rate ? 0.0 : keep;
            for (size_t i = 0; i < len; i++)
                o[i] = z[i] * mk[i];
            in = o;
        }
    }
    return mlp->acts[mlp->n_layers - 1];
}

const double *trn_mlp_forward(trn_mlp_t *mlp, const double *x, int n)
{
    return s_forward(mlp, x, n, false, NULL);
}

const double *trn_mlp_forward_train(trn_mlp_t *mlp, const double *x, int n, sw_rng_t *rng)
{
    return s_forward(mlp, x, n, true, rng);
}

static double s_clip(double p)
{
    return p < TRN_PROB_EPS ? TRN_PROB_EPS : p > 1.0 - TRN_PROB_EPS ? 1.0 - TRN_PROB_EPS : p;
}

double trn_mlp_loss_sum(const trn_mlp_t *mlp, const double *out, const double *y, int n)
{
    int k = mlp->layers[mlp->n_layers - 1].n_out;
    size_t len = (size_t)n * (size_t)k;
    double s = 0.0;
    switch (mlp->loss) {
    case TRN_LOSS_BCE:
        for (size_t i = 0; i < len; i++) {
            double p = s_clip(out[i]);
            s -= y[i] * log(p) + (1.0 - y[i]) * log(1.0 - p);
        }
        return s / k;
    case TRN_LOSS_CCE:
        for (size_t i = 0; i < len; i++)
            if (y[i] != 0.0)
                s -= y[i] * log(s_clip(out[i]));
        return s;
    case TRN_LOSS_MSE:
        for (size_t i = 0; i < len; i++)
            s += (out[i] - y[i]) * (out[i] - y[i]);
        return s / k;
    case TRN_LOSS_MAE:
        for (size_t i = 0; i < len; i++)
            s += fabs(out[i] - y[i]);
        return s / k;
    }
    return NAN;
}

int trn_argmax(const double *v, int k)
{
    int best = 0;
    for (int c = 1; c < k; c++)
        if (v[c] > v[best])
            best = c;
    return best;
}

int trn_mlp_correct(const trn_mlp_t *mlp, const double *out, const double *y, int n)
{
    int k = mlp->layers[mlp->n_layers - 1].n_out;
    int correct = 0;
    if (k == 1) {
        for (int r = 0; r < n; r++)
            correct += (out[r] > 0.5 ? 1.0 : 0.0) == y[r];
        return correct;
    }
    for (int r = 0; r < n; r++)
        correct += trn_argmax(out + (size_t)r * (size_t)k, k)
                   == trn_argmax(y + (size_t)r * (size_t)k, k);
    return correct;
}

/* dL/dZ of the output layer into D (N x K), for the mean batch loss. */
static void s_output_delta(const trn_mlp_t *mlp, const double *y, int n, double *d)
{
    const trn_layer_t *ly = &mlp->layers[mlp->n_layers - 1];
    const double *a = mlp->acts[mlp->n_layers - 1];
    int k = ly->n_out;
    size_t len = (size_t)n * (size_t)k;
    double scale = 1.0 / ((double)n * (mlp->loss == TRN_LOSS_CCE ? 1.0 : (double)k));

    if (mlp->loss == TRN_LOSS_BCE && ly->act == TRN_ACT_SIGMOID) {
        /* d/dz of -(y log p + (1-y) log(1-p)) with p = sigmoid(z) is p - y; zero where
         * the clip to [eps, 1-eps] is active. */
        for (size_t i = 0; i < len; i++) {
            double p = a[i];
            d[i] = (p < TRN_PROB_EPS || p > 1.0 - TRN_PROB_EPS) ? 0.0 : (p - y[i]) * scale;
        }
        return;
    }
    /* dL/dA first, then through the activation. */
    for (size_t i = 0; i < len; i++) {
        double p = a[i];
        switch (mlp->loss) {
        case TRN_LOSS_BCE:
            d[i] = (p < TRN_PROB_EPS || p > 1.0 - TRN_PROB_EPS)
                       ? 0.0 : (-y[i] / p + (1.0 - y[i]) / (1.0 - p)) * scale;
            break;
        case TRN_LOSS_CCE:
            d[i] = (p < TRN_PROB_EPS || p > 1.0 - TRN_PROB_EPS) ? 0.0 : -y[i] / p * scale;
            break;
        case TRN_LOSS_MSE:
            d[i] = 2.0 * (p - y[i]) * scale;
            break;
        case TRN_LOSS_MAE:
            d[i] = (p > y[i] ? 1.0 : p < y[i] ? -1.0 : 0.0) * scale;
            break;
        }
    }
    if (ly->act == TRN_ACT_SOFTMAX) {
        /* Softmax Jacobian: dz_j = p_j (g_j - sum_c p_c g_c). */
        for (int r = 0; r < n; r++) {
            const double *ar = a + (size_t)r * (size_t)k;
            double *dr = d + (size_t)r * (size_t)k;
            double s = 0.0;
            for (int c = 0; c < k; c++)
                s += ar[c] * dr[c];
            for (int c = 0; c < k; c++)
                dr[c] = ar[c] * (dr[c] - s);
        }
    } else {
        s_act_grad(ly->act, a, d, len);
    }
}

void trn_mlp_backward(trn_mlp_t *mlp, const double *x, const double *y, int n)
{
    double *d = mlp->delta, *d2 = mlp->delta2;
    s_output_delta(mlp, y, n, d);
    for (int l = mlp->n_layers - 1; l >= 0; l--) {
        const trn_layer_t *ly = &mlp->layers[l];
        bool dropped = l > 0 && mlp->train_pass && mlp->mask[l - 1] && mlp->dropout[l - 1] > 0.0;
        const double *in = l == 0 ? x : dropped ? mlp->dout[l - 1] : mlp->acts[l - 1];
        /* dW = A_{l-1}^T delta (+ 2 l2 W) */
        double *gw = mlp->grads + ly->w_off;
        if (mlp->l2 != 0.0) {
            size_t nw = (size_t)ly->n_in * (size_t)ly->n_out;
            const double *w = mlp->params + ly->w_off;
            for (size_t i = 0; i < nw; i++)
                gw[i] = 2.0 * mlp->l2 * w[i];
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, ly->n_in, ly->n_out, n, 1.0, in,
                    ly->n_in, d, ly->n_out, mlp->l2 != 0.0 ? 1.0 : 0.0, gw, ly->n_out);
        /* db = column sums of delta */
        double *gb = mlp->grads + ly->b_off;
        memset(gb, 0, (size_t)ly->n_out * sizeof(double));
        for (int r = 0; r < n; r++) {
            const double *dr = d + (size_t)r * (size_t)ly->n_out;
            for (int c = 0; c < ly->n_out; c++)
                gb[c] += dr[c];
        }
        if (l == 0)
            break;
        /* dA_{l-1} = delta W^T, then through the activation of layer l-1 */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, ly->n_in, ly->n_out, 1.0, d,
                    ly->n_out, mlp->params + ly->w_off, ly->n_out, 0.0, d2, ly->n_in);
        if (dropped) {
            const double *mk = mlp->mask[l - 1];
            size_t len = (size_t)n * (size_t)ly->n_in;
            for (size_t i = 0; i < len; i++)
                d2[i] *= mk[i];
        }
        s_act_grad(mlp->layers[l - 1].act, mlp->acts[l - 1], d2,
                   (size_t)n * (size_t)ly->n_in);
        double *t = d;
        d = d2;
        d2 = t;
    }
}

/* ---- optimizers ---------------------------------------------------------------- */

trn_opt_cfg_t trn_opt_defaults(trn_opt_kind_t kind)
{
    trn_opt_cfg_t c = {.kind = kind, .lr = 0.001, .momentum = 0.0, .nesterov = false,
                       .beta_1 = 0.9, .beta_2 = 0.999, .rho = 0.9, .epsilon = 1e-7,
                       .initial_accumulator_value = 0.1, .weight_decay = 0.0};
    if (kind == TRN_OPT_SGD)
        c.lr = 0.01;
    if (kind == TRN_OPT_ADAMW)
        c.weight_decay = 0.004;
    return c;
}

trn_opt_t *trn_opt_new(const trn_opt_cfg_t *cfg, size_t n)
{
    trn_opt_t *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->cfg = *cfg;
    o->n = n;
    o->m = calloc(n + 1, sizeof *o->m);
    o->v = calloc(n + 1, sizeof *o->v);
    if (!o->m || !o->v) {
        trn_opt_destroy(&o);
        return NULL;
    }
    if (cfg->kind == TRN_OPT_ADAGRAD)
        for (size_t i = 0; i < n; i++)
            o->v[i] = cfg->initial_accumulator_value;
    return o;
}

void trn_opt_destroy(trn_opt_t **opt_p)
{
    if (!opt_p || !*opt_p)
        return;
    free((*opt_p)->m);
    free((*opt_p)->v);
    free(*opt_p);
    *opt_p = NULL;
}

/* The adam update of elements [0, n - n % 4) with AVX: four lanes at a time, the same
 * operations in the same order as the scalar loop, so the same bits (IEEE sqrt, division,
 * multiplication are correctly rounded in every width; no fused multiply-add). The
 * scalar loop's sqrt keeps errno semantics and so is never vectorized by the compiler;
 * at the digits network's 17,226 parameters this is most of an optimizer step. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define S_HAVE_AVX 1
__attribute__((target("avx")))
static size_t s_adam_avx(size_t n, double *restrict w, const double *restrict g,
                         double *restrict m, double *restrict v, double b1, double b2,
                         double alpha, double eps)
{
    const __m256d vb1 = _mm256_set1_pd(b1), vb2 = _mm256_set1_pd(b2),
                  va = _mm256_set1_pd(alpha), ve = _mm256_set1_pd(eps);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d gi = _mm256_loadu_pd(g + i), mi = _mm256_loadu_pd(m + i),
                vi = _mm256_loadu_pd(v + i), wi = _mm256_loadu_pd(w + i);
        mi = _mm256_add_pd(mi, _mm256_mul_pd(_mm256_sub_pd(gi, mi), vb1));
        vi = _mm256_add_pd(vi, _mm256_mul_pd(_mm256_sub_pd(_mm256_mul_pd(gi, gi), vi), vb2));
        __m256d step = _mm256_div_pd(_mm256_mul_pd(mi, va),
                                     _mm256_add_pd(_mm256_sqrt_pd(vi), ve));
        _mm256_storeu_pd(m + i, mi);
        _mm256_storeu_pd(v + i, vi);
        _mm256_storeu_pd(w + i, _mm256_sub_pd(wi, step));
    }
    return i;
}

static bool s_avx(void)
{
    static int have = -1;
    if (have < 0)
        have = __builtin_cpu_supports("avx") ? 1 : 0;
    return have == 1;
}
#endif

void trn_opt_step(trn_opt_t *opt, double *restrict w, const double *restrict g)
{
    const trn_opt_cfg_t *c = &opt->cfg;
    size_t n = opt->n;
    double *restrict m = opt->m, *restrict v = opt->v;
    double lr = c->lr;
    switch (c->kind) {
    case TRN_OPT_SGD:
        if (c->momentum == 0.0) {
            for (size_t i = 0; i < n; i++)
                w[i] -= lr * g[i];
        } else if (c->nesterov) {
            for (size_t i = 0; i < n; i++) {
                m[i] = m[i] * c->momentum - g[i] * lr;
                w[i] += m[i] * c->momentum - g[i] * lr;
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                m[i] = m[i] * c->momentum - g[i] * lr;
                w[i] += m[i];
            }
        }
        break;
    case TRN_OPT_ADAMW:
    case TRN_OPT_ADAM: {
        if (c->kind == TRN_OPT_ADAMW && c->weight_decay != 0.0) {
            double f = c->weight_decay * lr;
            for (size_t i = 0; i < n; i++)
                w[i] -= w[i] * f;
        }
        double t = (double)(opt->iterations + 1);
        double alpha = lr * sqrt(1.0 - pow(c->beta_2, t)) / (1.0 - pow(c->beta_1, t));
        double b1 = 1.0 - c->beta_1, b2 = 1.0 - c->beta_2, eps = c->epsilon;
        size_t i0 = 0;
#ifdef S_HAVE_AVX
        if (s_avx())
            i0 = s_adam_avx(n, w, g, m, v, b1, b2, alpha, eps);
#endif
        for (size_t i = i0; i < n; i++) {
            m[i] += (g[i] - m[i]) * b1;
            v[i] += (g[i] * g[i] - v[i]) * b2;
            w[i] -= m[i] * alpha / (sqrt(v[i]) + eps);
        }
        break;
    }
    case TRN_OPT_RMSPROP: {
        double rho = c->rho, eps = c->epsilon;
        for (size_t i = 0; i < n; i++) {
            v[i] = rho * v[i] + (1.0 - rho) * g[i] * g[i];
            double inc = lr * g[i] / sqrt(v[i] + eps);
            if (c->momentum > 0.0) {
                m[i] = c->momentum * m[i] + inc;
                w[i] -= m[i];
            } else {
                w[i] -= inc;
            }
        }
        break;
    }
    case TRN_OPT_ADAGRAD: {
        double eps = c->epsilon;
        for (size_t i = 0; i < n; i++) {
            v[i] += g[i] * g[i];
            w[i] -= lr * g[i] / sqrt(v[i] + eps);
        }
        break;
    }
    }
    opt->iterations++;
}
