/*  test_trainer_mlp.c - the MLP's gradients match finite differences; the optimizers
 *  take Keras' steps
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_err.h"
#include "common/sw_rng.h"
#include "worker/trn_mlp.h"

/* Mean batch loss at the current parameters. */
static double s_loss(trn_mlp_t *m, const double *x, const double *y, int n)
{
    const double *out = trn_mlp_forward(m, x, n);
    return trn_mlp_loss_sum(m, out, y, n) / n;
}

/* Compare trn_mlp_backward with central differences (L(w+h) - L(w-h)) / 2h for every
 * parameter. With h = 1e-5 the truncation error is O(h^2 L''') ~ 1e-10 and the rounding
 * error ~ 1e-16 L / h ~ 1e-11, both far below the gradients' size (1e-3..1), so a
 * correct backward pass agrees to about 1e-8 relative; 1e-6 leaves a wide margin yet
 * catches any wrong term (a missing factor, a transposed product: errors of order 1).
 * The denominator's floor 1e-7 makes tiny gradients compare absolutely. Returns the
 * largest relative error. */
/* Options of the checked network: dropout on every hidden layer, L2 on the kernels. */
typedef struct {
    double dropout, l2;
} s_reg_t;

/* Mean batch loss plus penalty of a training pass that reuses the drawn masks. */
static double s_train_loss(trn_mlp_t *m, const double *x, const double *y, int n)
{
    const double *out = trn_mlp_forward_train(m, x, n, NULL);
    return trn_mlp_loss_sum(m, out, y, n) / n + trn_mlp_penalty(m);
}

static double s_grad_check_reg(int n_layers, const int *sizes, trn_act_t hidden, trn_act_t out,
                               trn_loss_t loss, int n, uint64_t seed, s_reg_t reg)
{
    trn_mlp_t *m = trn_mlp_new(n_layers, sizes, hidden, out, loss, n);
    assert_non_null(m);
    sw_rng_t rng;
    sw_rng_seed(&rng, seed);
    trn_mlp_init(m, &rng);
    double rates[8] = {0};
    for (int l = 0; l + 1 < n_layers; l++)
        rates[l] = reg.dropout;
    assert_int_equal(trn_mlp_set_dropout(m, rates), 0);
    trn_mlp_set_l2(m, reg.l2);
    for (size_t i = 0; i < m->n_params; i++)     /* non-zero biases too */
        m->params[i] += 0.1 * sw_rng_normal(&rng);
    int k = sizes[n_layers];
    double *x = malloc((size_t)n * (size_t)sizes[0] * sizeof *x);
    double *y = calloc((size_t)n * (size_t)k, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (int i = 0; i < n * sizes[0]; i++)
        x[i] = sw_rng_normal(&rng);
    for (int r = 0; r < n; r++) {
        if (loss == TRN_LOSS_CCE)
            y[r * k + (int)sw_rng_below(&rng, (uint64_t)k)] = 1.0;
        else if (loss == TRN_LOSS_BCE)
            for (int c = 0; c < k; c++)
                y[r * k + c] = (double)sw_rng_below(&rng, 2);
        else
            for (int c = 0; c < k; c++)
                y[r * k + c] = sw_rng_normal(&rng);
    }
    bool regularized = reg.dropout > 0.0 || reg.l2 > 0.0;
    if (regularized)
        trn_mlp_forward_train(m, x, n, &rng);
    else
        trn_mlp_forward(m, x, n);
    trn_mlp_backward(m, x, y, n);
    double worst = 0.0, h = 1e-5;
    for (size_t i = 0; i < m->n_params; i++) {
        double w = m->params[i];
        m->params[i] = w + h;
        double lp = regularized ? s_train_loss(m, x, y, n) : s_loss(m, x, y, n);
        m->params[i] = w - h;
        double lm = regularized ? s_train_loss(m, x, y, n) : s_loss(m, x, y, n);
        m->params[i] = w;
        double num = (lp - lm) / (2 * h), ana = m->grads[i];
        double rel = fabs(num - ana) / fmax(fmax(fabs(num), fabs(ana)), 1e-7);
        if (rel > worst)
            worst = rel;
    }
    free(x);
    free(y);
    trn_mlp_destroy(&m);
    assert_null(m);
    return worst;
}

static double s_grad_check(int n_layers, const int *sizes, trn_act_t hidden, trn_act_t out,
                           trn_loss_t loss, int n, uint64_t seed)
{
    s_reg_t none = {0.0, 0.0};
    return s_grad_check_reg(n_layers, sizes, hidden, out, loss, n, seed, none);
}

static void test_gradients_every_activation_and_loss(void **state)
{
    (void)state;
    const int bin[] = {5, 7, 4, 1};
    const int multi[] = {4, 6, 3};
    const int reg[] = {3, 5, 2};
    /* binary cross-entropy on sigmoid, through each hidden activation */
    assert_true(s_grad_check(3, bin, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 6, 1) < 1e-6);
    assert_true(s_grad_check(3, bin, TRN_ACT_TANH, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 6, 2) < 1e-6);
    assert_true(s_grad_check(3, bin, TRN_ACT_SIGMOID, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 6, 3) < 1e-6);
    assert_true(s_grad_check(3, bin, TRN_ACT_LINEAR, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 6, 4) < 1e-6);
    assert_true(s_grad_check(3, bin, TRN_ACT_LEAKY_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 6, 14) < 1e-6);
    assert_true(s_grad_check(3, bin, TRN_ACT_ELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 6, 15) < 1e-6);
    /* categorical cross-entropy on softmax */
    assert_true(s_grad_check(2, multi, TRN_ACT_TANH, TRN_ACT_SOFTMAX, TRN_LOSS_CCE, 5, 5) < 1e-6);
    /* regression: mse and mae on linear and tanh outputs */
    assert_true(s_grad_check(2, reg, TRN_ACT_RELU, TRN_ACT_LINEAR, TRN_LOSS_MSE, 5, 6) < 1e-6);
    assert_true(s_grad_check(2, reg, TRN_ACT_SIGMOID, TRN_ACT_TANH, TRN_LOSS_MSE, 5, 7) < 1e-6);
    assert_true(s_grad_check(2, reg, TRN_ACT_TANH, TRN_ACT_LINEAR, TRN_LOSS_MAE, 5, 8) < 1e-6);
    /* no hidden layer (logistic regression) and a batch of one */
    const int lin[] = {4, 1};
    assert_true(s_grad_check(1, lin, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 1, 9) < 1e-6);
    /* softmax + cce through leaky_relu and elu; regression through elu */
    assert_true(s_grad_check(2, multi, TRN_ACT_LEAKY_RELU, TRN_ACT_SOFTMAX, TRN_LOSS_CCE, 5, 16) < 1e-6);
    assert_true(s_grad_check(2, reg, TRN_ACT_ELU, TRN_ACT_LINEAR, TRN_LOSS_MSE, 5, 17) < 1e-6);
}

static void test_gradients_with_dropout_and_l2(void **state)
{
    (void)state;
    const int bin[] = {5, 7, 4, 1};
    const int multi[] = {4, 6, 5, 3};
    s_reg_t drop = {0.3, 0.0}, l2 = {0.0, 0.01}, both = {0.5, 0.02};
    /* a fixed mask: the check reuses the masks of the first training pass */
    assert_true(s_grad_check_reg(3, bin, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 8, 21, drop) < 1e-6);
    assert_true(s_grad_check_reg(3, bin, TRN_ACT_TANH, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 8, 22, l2) < 1e-6);
    assert_true(s_grad_check_reg(3, multi, TRN_ACT_ELU, TRN_ACT_SOFTMAX, TRN_LOSS_CCE, 8, 23, both) < 1e-6);
    assert_true(s_grad_check_reg(3, bin, TRN_ACT_SIGMOID, TRN_ACT_LINEAR, TRN_LOSS_MAE, 8, 24, both) < 1e-6);

    /* dropout masks: 0 or 1/(1-rate), about RATE of them zero, and an inference pass is
     * unaffected by them */
    const int sizes[] = {3, 200, 1};
    trn_mlp_t *m = trn_mlp_new(2, sizes, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 50);
    assert_non_null(m);
    double rate = 0.25, bad_rate = 1.0;
    assert_int_equal(trn_mlp_set_dropout(m, &bad_rate), SW_EINVAL);
    assert_int_equal(trn_mlp_set_dropout(m, &rate), 0);
    sw_rng_t rng;
    sw_rng_seed(&rng, 5);
    trn_mlp_init(m, &rng);
    double x[150];
    for (int i = 0; i < 150; i++)
        x[i] = sw_rng_normal(&rng);
    double eval1 = trn_mlp_forward(m, x, 50)[0];
    trn_mlp_forward_train(m, x, 50, &rng);
    int zeros = 0;
    for (int i = 0; i < 50 * 200; i++) {
        double v = m->mask[0][i];
        assert_true(v == 0.0 || v == 1.0 / 0.75);
        zeros += v == 0.0;
    }
    assert_in_range(zeros, 2300, 2700);     /* 10000 draws, p 0.25: mean 2500, sd 43 */
    assert_true(trn_mlp_forward(m, x, 50)[0] == eval1);
    trn_mlp_destroy(&m);
}

static void test_he_normal_init(void **state)
{
    (void)state;
    const int sizes[] = {100, 400, 1};
    trn_mlp_t *m = trn_mlp_new(2, sizes, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 1);
    assert_non_null(m);
    sw_rng_t rng;
    sw_rng_seed(&rng, 3);
    trn_mlp_init_with(m, TRN_INIT_HE_NORMAL, &rng);
    /* layer 1: 40000 weights, stddev sqrt(2/100) = 0.1414, truncated at 2 / 0.8796 of it */
    double s = 0.0, s2 = 0.0, lim = 2.0 * sqrt(2.0 / 100.0) / 0.87962566103423978;
    for (int i = 0; i < 40000; i++) {
        double w = m->params[i];
        assert_true(fabs(w) <= lim);
        s += w;
        s2 += w * w;
    }
    assert_true(fabs(s / 40000) < 0.003);
    assert_float_equal(sqrt(s2 / 40000), sqrt(0.02), 0.003);
    for (int i = 40000; i < 40400; i++)
        assert_true(m->params[i] == 0.0);
    trn_init_t init;
    assert_int_equal(trn_init_parse("he_normal", &init), 0);
    assert_int_equal(init, TRN_INIT_HE_NORMAL);
    assert_string_equal(trn_init_name(TRN_INIT_GLOROT_UNIFORM), "glorot_uniform");
    trn_mlp_destroy(&m);
}

static void test_glorot_init_and_shapes(void **state)
{
    (void)state;
    const int sizes[] = {8, 12, 1};
    trn_mlp_t *m = trn_mlp_new(2, sizes, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 10);
    assert_non_null(m);
    assert_int_equal(m->n_params, 8 * 12 + 12 + 12 + 1);
    sw_rng_t rng;
    sw_rng_seed(&rng, 0);
    trn_mlp_init(m, &rng);
    double l1 = sqrt(6.0 / 20.0), l2 = sqrt(6.0 / 13.0);
    for (int i = 0; i < 96; i++)
        assert_true(fabs(m->params[i]) <= l1);
    for (int i = 96; i < 108; i++)
        assert_true(m->params[i] == 0.0);
    for (int i = 108; i < 120; i++)
        assert_true(fabs(m->params[i]) <= l2);
    assert_true(m->params[120] == 0.0);
    /* softmax is not a hidden activation; sizes must be >= 1 */
    assert_null(trn_mlp_new(2, sizes, TRN_ACT_SOFTMAX, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 10));
    const int bad[] = {8, 0, 1};
    assert_null(trn_mlp_new(2, bad, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 10));
    trn_mlp_destroy(&m);
    trn_mlp_destroy(&m);
}

static void test_bce_clips_like_keras(void **state)
{
    (void)state;
    const int sizes[] = {1, 1};
    trn_mlp_t *m = trn_mlp_new(1, sizes, TRN_ACT_RELU, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 1);
    assert_non_null(m);
    m->params[0] = 100.0;       /* sigmoid(100) rounds to 1 */
    double x = 1.0, y = 0.0;
    const double *out = trn_mlp_forward(m, &x, 1);
    /* -log(1 - (1 - 1e-7)) = -log(1e-7) = 16.118..., not infinity */
    assert_float_equal(trn_mlp_loss_sum(m, out, &y, 1), -log(1e-7), 1e-6);
    trn_mlp_backward(m, &x, &y, 1);
    assert_true(m->grads[0] == 0.0);    /* the clip's gradient is zero */
    trn_mlp_destroy(&m);
}

/* Parameters and a constant gradient for the optimizer checks; the third gradient is
 * tiny so that where epsilon enters changes the step visibly. */
static const double s_w0[3] = {1.0, -0.5, 0.25};
static const double s_g[3] = {0.5, -0.25, 1e-4};

static void s_two_steps(trn_opt_cfg_t cfg, double *w)
{
    trn_opt_t *o = trn_opt_new(&cfg, 3);
    assert_non_null(o);
    memcpy(w, s_w0, sizeof s_w0);
    trn_opt_step(o, w, s_g);
    trn_opt_step(o, w, s_g);
    assert_int_equal(o->iterations, 2);
    trn_opt_destroy(&o);
    assert_null(o);
}

static void test_sgd_steps(void **state)
{
    (void)state;
    double w[3];
    /* plain: w - 2 * 0.01 * g */
    s_two_steps(trn_opt_defaults(TRN_OPT_SGD), w);
    assert_float_equal(w[0], 0.99, 1e-15);
    assert_float_equal(w[1], -0.495, 1e-15);
    /* momentum 0.9, lr 0.1: m1 = -0.05, w1 = 0.95; m2 = 0.9 m1 - 0.05 = -0.095, w2 = 0.855 */
    trn_opt_cfg_t c = trn_opt_defaults(TRN_OPT_SGD);
    c.lr = 0.1;
    c.momentum = 0.9;
    s_two_steps(c, w);
    assert_float_equal(w[0], 0.855, 1e-15);
    assert_float_equal(w[1], -0.4275, 1e-15);
    /* nesterov: w1 = 1 + 0.9 (-0.05) - 0.05 = 0.905; w2 = 0.905 + 0.9 (-0.095) - 0.05 = 0.7695 */
    c.nesterov = true;
    s_two_steps(c, w);
    assert_float_equal(w[0], 0.7695, 1e-15);
    assert_float_equal(w[1], -0.38475, 1e-15);
}

static void test_adam_steps(void **state)
{
    (void)state;
    double w[3];
    /* Keras defaults (lr 1e-3, 0.9, 0.999, eps 1e-7); values from the formulas of
     * keras/src/optimizers/adam.py evaluated independently in double precision.
     * By hand for w[0]: step 1 alpha = 1e-3 sqrt(1e-3) / 0.1, m = 0.05, v = 2.5e-4,
     * step = alpha m / (sqrt(v) + 1e-7) = 9.99994e-4; the two steps move 1.99999e-3. */
    s_two_steps(trn_opt_defaults(TRN_OPT_ADAM), w);
    assert_float_equal(w[0], 0.9980000107977498, 1e-13);
    assert_float_equal(w[1], -0.4980000215953794, 1e-13);
    /* epsilon outside the square root: the tiny gradient still moves ~2e-3 * 1e-4/1.01e-4 */
    assert_float_equal(w[2], 0.24805253039590372, 1e-13);
}

static void test_adam_vector_path_matches_scalar(void **state)
{
    (void)state;
    /* 11 parameters take the 4-wide path for 8 of them; one optimizer per parameter
     * (n = 1) takes the scalar loop; the bits must agree after 50 steps */
    enum { N = 11 };
    trn_opt_cfg_t c = trn_opt_defaults(TRN_OPT_ADAM);
    trn_opt_t *all = trn_opt_new(&c, N), *one[N];
    double w[N], w1[N], g[N];
    sw_rng_t rng;
    sw_rng_seed(&rng, 9);
    for (int i = 0; i < N; i++) {
        w[i] = w1[i] = sw_rng_normal(&rng);
        one[i] = trn_opt_new(&c, 1);
        assert_non_null(one[i]);
    }
    for (int t = 0; t < 50; t++) {
        for (int i = 0; i < N; i++)
            g[i] = sw_rng_normal(&rng) * (i + 1) * 1e-3;
        trn_opt_step(all, w, g);
        for (int i = 0; i < N; i++)
            trn_opt_step(one[i], &w1[i], &g[i]);
    }
    assert_memory_equal(w, w1, sizeof w);
    for (int i = 0; i < N; i++)
        trn_opt_destroy(&one[i]);
    trn_opt_destroy(&all);
}

static void test_rmsprop_steps(void **state)
{
    (void)state;
    double w[3];
    /* v1 = 0.1 g^2, inc1 = 1e-3 g / sqrt(v1 + 1e-7); v2 = 0.19 g^2 (keras/src/optimizers/
     * rmsprop.py: epsilon inside the square root) */
    s_two_steps(trn_opt_defaults(TRN_OPT_RMSPROP), w);
    assert_float_equal(w[0], 0.9945435737405609, 1e-13);
    assert_float_equal(w[1], -0.4945435999585926, 1e-13);
    assert_float_equal(w[2], 0.2493720758673979, 1e-13);
    trn_opt_cfg_t c = trn_opt_defaults(TRN_OPT_RMSPROP);
    c.momentum = 0.5;
    s_two_steps(c, w);
    assert_float_equal(w[0], 0.992962438072745, 1e-13);
    assert_float_equal(w[2], 0.249214746673516, 1e-13);
}

static void test_adagrad_and_adamw_steps(void **state)
{
    (void)state;
    double w[3];
    /* adagrad (keras/src/optimizers/adagrad.py): acc starts at 0.1; acc += g^2;
     * w -= lr g / sqrt(acc + eps). w[0]: 1 - 5e-4/sqrt(0.35+1e-7) - 5e-4/sqrt(0.6+1e-7) */
    s_two_steps(trn_opt_defaults(TRN_OPT_ADAGRAD), w);
    assert_float_equal(w[0], 0.9985093486954313, 1e-13);
    assert_float_equal(w[1], -0.49885278035830316, 1e-13);
    assert_float_equal(w[2], 0.24999936754483162, 1e-13);
    /* adamw: w -= w 0.004 lr before each adam step (Keras' _apply_weight_decay) */
    s_two_steps(trn_opt_defaults(TRN_OPT_ADAMW), w);
    assert_float_equal(w[0], 0.9979920148137245, 1e-13);
    assert_float_equal(w[1], -0.49799602560332884, 1e-13);
    assert_float_equal(w[2], 0.24805053427728999, 1e-13);
}

static void test_names_round_trip(void **state)
{
    (void)state;
    trn_act_t a;
    trn_loss_t l;
    trn_opt_kind_t o;
    assert_int_equal(trn_act_parse("tanh", &a), 0);
    assert_string_equal(trn_act_name(a), "tanh");
    assert_int_equal(trn_loss_parse("mean_squared_error", &l), 0);
    assert_string_equal(trn_loss_name(l), "mse");
    assert_int_equal(trn_opt_parse("rmsprop", &o), 0);
    assert_string_equal(trn_opt_name(o), "rmsprop");
    assert_int_equal(trn_opt_parse("adamx", &o), -1);
    assert_int_equal(trn_act_parse("gelu", &a), -1);
    assert_float_equal(trn_opt_defaults(TRN_OPT_SGD).lr, 0.01, 0);
    assert_float_equal(trn_opt_defaults(TRN_OPT_ADAM).lr, 0.001, 0);
    assert_float_equal(trn_opt_defaults(TRN_OPT_RMSPROP).epsilon, 1e-7, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_every_activation_and_loss),
        cmocka_unit_test(test_glorot_init_and_shapes),
        cmocka_unit_test(test_bce_clips_like_keras),
        cmocka_unit_test(test_sgd_steps),
        cmocka_unit_test(test_adam_steps),
        cmocka_unit_test(test_adam_vector_path_matches_scalar),
        cmocka_unit_test(test_rmsprop_steps),
        cmocka_unit_test(test_gradients_with_dropout_and_l2),
        cmocka_unit_test(test_he_normal_init),
        cmocka_unit_test(test_adagrad_and_adamw_steps),
        cmocka_unit_test(test_names_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
