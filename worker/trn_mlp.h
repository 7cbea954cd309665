/*  trn_mlp.h - the built-in trainer's model: a multilayer perceptron of dense layers,
 *  its losses, forward and backward passes, and the Keras optimizers
 *
 *  Numbers are doubles. The networks are small (tens to thousands of weights), so a step
 *  costs far more in call overhead than in arithmetic; double halves nothing that
 *  matters, keeps bit-identical reruns easy, lets the gradient check run on the
 *  production code path, and keeps long sums (epoch losses) accurate.
 *
 *  All weights and biases live in one contiguous parameter vector (layer by layer: the
 *  weight matrix, n_in x n_out row-major, then the n_out biases), with a gradient vector
 *  of the same layout. Optimizers therefore update one flat array, and later additions
 *  (L2 penalties, weight snapshots for early stopping, saving a model) touch one array.
 *
 *  A batch is an n x n_in row-major matrix. Layer l computes
 *      Z_l = A_{l-1} W_l + 1 b_l^T,   A_l = act_l(Z_l)
 *  with cblas_dgemm. Every buffer is sized once for MAX_BATCH rows in trn_mlp_new, so a
 *  training step allocates nothing.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TRN_MLP_H
#define TRN_MLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/sw_rng.h"

/* Activations (Keras names). SOFTMAX is for the output layer only. */
typedef enum {
    TRN_ACT_LINEAR = 0,
    TRN_ACT_RELU,
    TRN_ACT_SIGMOID,
    TRN_ACT_TANH,
    TRN_ACT_SOFTMAX,
    TRN_ACT_LEAKY_RELU,     /* x > 0 ? x : 0.2 x (keras.activations.leaky_relu default) */
    TRN_ACT_ELU             /* x > 0 ? x : exp(x) - 1 (alpha 1, Clevert et al., ICLR 2016) */
} trn_act_t;

/* Negative slope of leaky_relu: Keras' activation default (keras.activations.leaky_relu;
 * the LeakyReLU layer's default is 0.3, but Dense(activation="leaky_relu") uses 0.2). */
#define TRN_LEAKY_SLOPE 0.2

/* Weight initializers (Keras names); biases always start at zero. */
typedef enum {
    TRN_INIT_GLOROT_UNIFORM = 0,    /* Keras' Dense default */
    TRN_INIT_HE_NORMAL              /* truncated normal, stddev sqrt(2 / fan_in) */
} trn_init_t;

/* Losses (Keras names). Each is the mean over the batch of a per-sample loss:
 *   BCE  -(y log p + (1-y) log(1-p)), p clipped to [1e-7, 1-1e-7] (Keras' epsilon), mean
 *        over outputs; needs a sigmoid output.
 *   CCE  -sum_c y_c log p_c, p clipped likewise; needs a softmax output, one-hot Y.
 *   MSE  mean over outputs of (a - y)^2.
 *   MAE  mean over outputs of |a - y|. */
typedef enum {
    TRN_LOSS_BCE = 0,
    TRN_LOSS_CCE,
    TRN_LOSS_MSE,
    TRN_LOSS_MAE
} trn_loss_t;

/* Dense layers a network may have (hidden layers and the output layer). */
#define TRN_MLP_MAX_LAYERS 65

/* Keras' epsilon, the probability clip of the cross-entropies. */
#define TRN_PROB_EPS 1e-7

/* Keras name of an activation or loss ("relu", "binary_crossentropy"); static string. */
const char *trn_act_name(trn_act_t act);
const char *trn_loss_name(trn_loss_t loss);
const char *trn_init_name(trn_init_t init);

/* Parse a Keras name; returns 0 or -1 when unknown. */
int trn_act_parse(const char *name, trn_act_t *out);
int trn_loss_parse(const char *name, trn_loss_t *out);
int trn_init_parse(const char *name, trn_init_t *out);

/* One dense layer: offsets into the parameter vector and activation buffers. */
typedef struct {
    int n_in, n_out;        /* fan in, fan out */
    trn_act_t act;
    size_t w_off;           /* offset of W (n_in x n_out, row-major) in params */
    size_t b_off;           /* offset of b (n_out) in params */
} trn_layer_t;

/* The network. Fields are readable; change them only through the functions below
 * (tests read params and grads directly). */
typedef struct {
    int n_layers;           /* dense layers, output layer included */
    trn_layer_t *layers;    /* N_LAYERS, owned */
    trn_loss_t loss;
    int max_batch;          /* rows a forward or backward pass may take */
    size_t n_params;        /* length of params and grads */
    double *params;         /* all weights and biases, owned */
    double *grads;          /* d(mean batch loss)/d(params) after trn_mlp_backward, owned */
    double **acts;          /* acts[l]: layer l's output, max_batch x n_out (owned);
                               acts[n_layers-1] holds the network output */
    double *delta;          /* max_batch x widest layer: dL/dZ of the current layer */
    double *delta2;         /* same size: dL/dA of the layer below */
    double *ones;           /* max_batch ones, for the bias gradient as a product */
    double *dropout;        /* N_LAYERS rates: dropout applied to layer l's output while
                               training (Keras Dropout after Dense l); the output layer's
                               is 0; owned */
    double **mask;          /* mask[l]: max_batch x n_out of 0 or 1/(1-rate), NULL where
                               the rate is 0; owned */
    double **dout;          /* dout[l]: layer l's output after dropout (the next layer's
                               input in a training pass), NULL where the rate is 0 */
    double l2;              /* L2 factor on kernels: penalty l2 * sum(W^2) (Keras
                               regularizers.L2), 0 = none */
    bool train_pass;        /* the last forward pass applied dropout */
} trn_mlp_t;

/* Build a network of N_LAYERS dense layers: SIZES[0] inputs, then layer l has SIZES[l+1]
 * units (SIZES has N_LAYERS + 1 entries, all >= 1); hidden layers use HIDDEN, the last
 * OUTPUT. Parameters are zero until trn_mlp_init. MAX_BATCH >= 1 bounds the rows of a
 * pass. Returns the network (caller owns; trn_mlp_destroy) or NULL when out of memory or
 * when the arguments are invalid (softmax in a hidden layer, a size < 1). */
trn_mlp_t *trn_mlp_new(int n_layers, const int *sizes, trn_act_t hidden, trn_act_t output,
                       trn_loss_t loss, int max_batch);

/* Free the network and set *MLP_P to NULL; NULL is fine. */
void trn_mlp_destroy(trn_mlp_t **mlp_p);

/* Keras' defaults: weights glorot_uniform, U(-L, L) with L = sqrt(6 / (fan_in +
 * fan_out)) (Glorot & Bengio, AISTATS 2010, eq. 16), biases zero. Draws the weights in
 * parameter order from RNG. */
void trn_mlp_init(trn_mlp_t *mlp, sw_rng_t *rng);

/* Initialize weights with INIT (biases zero), drawing in parameter order from RNG:
 *   glorot_uniform  U(-L, L), L = sqrt(6 / (fan_in + fan_out)) (as trn_mlp_init);
 *   he_normal       s z with s = sqrt(2 / fan_in) / 0.87962566103423978 and z a standard
 *                   normal redrawn until |z| <= 2: Keras 3's VarianceScaling(2.0,
 *                   "fan_in", "truncated_normal") (He et al., ICCV 2015, section 2.2;
 *                   the constant is the stddev of a standard normal truncated to [-2, 2],
 *                   so the weights' stddev is sqrt(2 / fan_in)). */
void trn_mlp_init_with(trn_mlp_t *mlp, trn_init_t init, sw_rng_t *rng);

/* Set dropout: RATES has N_LAYERS - 1 entries (one per hidden layer, each in [0, 1)), the
 * rate of the Dropout applied to that layer's output in training passes (inverted
 * dropout: kept units are scaled by 1/(1-rate), Srivastava et al., JMLR 2014, as Keras).
 * Allocates the masks once (max_batch x width). Returns 0, SW_EINVAL for a rate out of
 * range, or SW_ENOMEM. */
int trn_mlp_set_dropout(trn_mlp_t *mlp, const double *rates);

/* Set the L2 factor on every kernel (not biases), as Keras' kernel_regularizer
 * regularizers.L2(L2): the loss gains L2 * sum(W^2), the gradient 2 L2 W. */
void trn_mlp_set_l2(trn_mlp_t *mlp, double l2);

/* The regularization penalty L2 * sum over kernels of W^2 at the current parameters
 * (0 without L2); Keras adds it to the reported loss and val_loss. */
double trn_mlp_penalty(const trn_mlp_t *mlp);

/* Forward pass of N rows (1 <= N <= max_batch) of X (N x n_in, row-major), for
 * inference: no dropout. Returns the output, N x n_out row-major (borrowed, valid until
 * the next pass). */
const double *trn_mlp_forward(trn_mlp_t *mlp, const double *x, int n);

/* Forward pass for training: as trn_mlp_forward, with dropout. With RNG non-NULL each
 * dropped layer draws a new mask (one uniform per unit and row); with RNG NULL the masks
 * of the previous training pass are used again (the gradient check needs this). Draws
 * nothing and allocates nothing when no layer has dropout. */
const double *trn_mlp_forward_train(trn_mlp_t *mlp, const double *x, int n, sw_rng_t *rng);

/* Sum over N rows of the per-sample loss of OUT (N x n_out) against Y (N x n_out; for
 * BCE 0/1, for CCE one-hot). Divide by N for the batch loss. */
double trn_mlp_loss_sum(const trn_mlp_t *mlp, const double *out, const double *y, int n);

/* Index of the largest of the K values V (K >= 1; the first on ties), as Keras'
 * categorical_accuracy and a predicted class read a row of K outputs. Pure. */
int trn_argmax(const double *v, int k);

/* Number of the N rows that OUT classifies correctly against Y: for one output, Keras'
 * binary_accuracy (p > 0.5 equals y); for several, categorical_accuracy (argmax of OUT
 * equals argmax of Y, first maximum wins). */
int trn_mlp_correct(const trn_mlp_t *mlp, const double *out, const double *y, int n);

/* Backward pass for the batch of the immediately preceding trn_mlp_forward or
 * trn_mlp_forward_train (same X and N; through the dropout masks after a training pass):
 * fills GRADS with the gradient of the mean batch loss (plus the L2 penalty) against Y
 * (N x n_out).
 * Sigmoid + BCE and softmax + CCE use the fused output gradient (p - y) / N; where a
 * probability is clipped, the clip's gradient is zero, as in Keras. */
void trn_mlp_backward(trn_mlp_t *mlp, const double *x, const double *y, int n);

/* ---- optimizers ------------------------------------------------------------------- */

typedef enum {
    TRN_OPT_SGD = 0,
    TRN_OPT_ADAM,
    TRN_OPT_RMSPROP,
    TRN_OPT_ADAGRAD,
    TRN_OPT_ADAMW
} trn_opt_kind_t;

/* Optimizer settings; trn_opt_defaults() gives Keras' defaults for a kind. */
typedef struct {
    trn_opt_kind_t kind;
    double lr;              /* learning rate */
    double momentum;        /* sgd, rmsprop: momentum (0 = none) */
    bool nesterov;          /* sgd: Nesterov momentum */
    double beta_1, beta_2;  /* adam */
    double rho;             /* rmsprop */
    double epsilon;         /* adam, adamw, rmsprop, adagrad */
    double initial_accumulator_value;   /* adagrad */
    double weight_decay;    /* adamw: decoupled decay factor */
} trn_opt_cfg_t;

/* Keras 3 defaults: sgd lr 0.01, momentum 0; adam lr 0.001, beta_1 0.9, beta_2 0.999,
 * epsilon 1e-7; rmsprop lr 0.001, rho 0.9, momentum 0, epsilon 1e-7; adagrad lr 0.001,
 * initial_accumulator_value 0.1, epsilon 1e-7; adamw as adam plus weight_decay 0.004. */
trn_opt_cfg_t trn_opt_defaults(trn_opt_kind_t kind);

/* Keras name ("sgd", "adam", "rmsprop", "adagrad", "adamw") and its parse (0 or -1). */
const char *trn_opt_name(trn_opt_kind_t kind);
int trn_opt_parse(const char *name, trn_opt_kind_t *out);

/* An optimizer with its slots for N parameters. */
typedef struct {
    trn_opt_cfg_t cfg;
    size_t n;               /* parameters */
    int64_t iterations;     /* steps taken (Keras' optimizer.iterations) */
    double *m;              /* sgd: velocity; adam(w): first moment; rmsprop: momentum */
    double *v;              /* adam(w): second moment; rmsprop: velocity (mean square);
                               adagrad: accumulator (starts at initial_accumulator_value) */
} trn_opt_t;

/* Create an optimizer for N parameters with CFG (copied); slots start at zero.
 * Returns NULL when out of memory. Caller owns; trn_opt_destroy. */
trn_opt_t *trn_opt_new(const trn_opt_cfg_t *cfg, size_t n);

/* Free the optimizer and set *OPT_P to NULL; NULL is fine. */
void trn_opt_destroy(trn_opt_t **opt_p);

/* Apply one update to W (N params) from gradient G with Keras 3's formulas
 * (keras/src/optimizers/{sgd,adam,rmsprop}.py):
 *   sgd       m = momentum m - lr g;  w += m  (nesterov: w += momentum m - lr g);
 *             without momentum w -= lr g
 *   adam      t = iterations + 1; alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t);
 *             m += (g - m)(1 - beta_1); v += (g^2 - v)(1 - beta_2);
 *             w -= alpha m / (sqrt(v) + epsilon)     (epsilon is "epsilon hat" of
 *             Kingma & Ba, ICLR 2015, end of section 2: outside the square root and
 *             not bias-corrected)
 *   rmsprop   v = rho v + (1 - rho) g^2; inc = lr g / sqrt(v + epsilon) (epsilon
 *             inside the square root); with momentum m = momentum m + inc, w -= m;
 *             else w -= inc
 *   adagrad   v += g^2; w -= lr g / sqrt(v + epsilon)   (Duchi et al., JMLR 2011)
 *   adamw     w -= w weight_decay lr (Keras' _apply_weight_decay, before the update, on
 *             every parameter, biases included), then the adam step (Loshchilov &
 *             Hutter, ICLR 2019, decoupled weight decay)
 * then iterations += 1. CFG.LR may be changed between steps (learning-rate schedules). */
void trn_opt_step(trn_opt_t *opt, double *w, const double *g);

#endif
