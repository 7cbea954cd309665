/*  sw_testfn.c - standard optimisation test functions (see sw_testfn.h)
 *
 *  Definitions follow the Virtual Library of Simulation Experiments (Surjanovic &
 *  Bingham), as Optuna's comparison script in the project's performance anchors
 *  uses them, so that best values found by sweepd and by Optuna can be compared
 *  number for number.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_testfn.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define S_PI 3.14159265358979323846

static double s_branin(const double *x, int d)
{
    (void)d;
    const double a = 1.0, b = 5.1 / (4.0 * S_PI * S_PI), c = 5.0 / S_PI;
    const double r = 6.0, s = 10.0, t = 1.0 / (8.0 * S_PI);
    double u = x[1] - b * x[0] * x[0] + c * x[0] - r;
    return a * u * u + s * (1.0 - t) * cos(x[0]) + s;
}

static const double s_h6_alpha[4] = {1.0, 1.2, 3.0, 3.2};
static const double s_h6_a[4][6] = {
    {10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
    {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
static const double s_h6_p[4][6] = {
    {1312, 1696, 5569, 124, 8283, 5886}, {2329, 4135, 8307, 3736, 1004, 9991},
    {2348, 1451, 3522, 2883, 3047, 6650}, {4047, 8828, 8732, 5743, 1091, 381}};

static double s_hartmann6(const double *x, int d)
{
    (void)d;
    double tot = 0.0;
    for (int i = 0; i < 4; i++) {
        double inner = 0.0;
        for (int j = 0; j < 6; j++) {
            double u = x[j] - s_h6_p[i][j] * 1e-4;
            inner += s_h6_a[i][j] * u * u;
        }
        tot += s_h6_alpha[i] * exp(-inner);
    }
    return -tot;
}

static double s_rosenbrock(const double *x, int d)
{
    double tot = 0.0;
    for (int i = 0; i + 1 < d; i++) {
        double u = x[i + 1] - x[i] * x[i], v = 1.0 - x[i];
        tot += 100.0 * u * u + v * v;
    }
    return tot;
}

static double s_ackley(const double *x, int d)
{
    const double a = 20.0, b = 0.2, c = 2.0 * S_PI;
    double s1 = 0.0, s2 = 0.0;
    for (int i = 0; i < d; i++) {
        s1 += x[i] * x[i];
        s2 += cos(c * x[i]);
    }
    return -a * exp(-b * sqrt(s1 / d)) - exp(s2 / d) + a + exp(1.0);
}

static double s_styblinski_tang(const double *x, int d)
{
    double tot = 0.0;
    for (int i = 0; i < d; i++) {
        double v = x[i], v2 = v * v;
        tot += v2 * v2 - 16.0 * v2 + 5.0 * v;
    }
    return 0.5 * tot;
}

static double s_levy(const double *x, int d)
{
    double w0 = 1.0 + (x[0] - 1.0) / 4.0, wd = 1.0 + (x[d - 1] - 1.0) / 4.0;
    double s0 = sin(S_PI * w0), sd = sin(2.0 * S_PI * wd);
    double tot = s0 * s0 + (wd - 1.0) * (wd - 1.0) * (1.0 + sd * sd);
    for (int i = 0; i + 1 < d; i++) {
        double w = 1.0 + (x[i] - 1.0) / 4.0, s = sin(S_PI * w + 1.0);
        tot += (w - 1.0) * (w - 1.0) * (1.0 + 10.0 * s * s);
    }
    return tot;
}

static const double s_branin_lo[2] = {-5.0, 0.0}, s_branin_hi[2] = {10.0, 15.0};
static const double s_h6_lo[6] = {0, 0, 0, 0, 0, 0}, s_h6_hi[6] = {1, 1, 1, 1, 1, 1};
static const double s_rosen_lo[1] = {-5.0}, s_rosen_hi[1] = {10.0};
static const double s_ackley_lo[1] = {-32.768}, s_ackley_hi[1] = {32.768};
static const double s_st_lo[1] = {-5.0}, s_st_hi[1] = {5.0};
static const double s_levy_lo[1] = {-10.0}, s_levy_hi[1] = {10.0};

static const sw_testfn_t s_table[] = {
    {"branin", 2, 2, s_branin, s_branin_lo, s_branin_hi},
    {"hartmann6", 6, 6, s_hartmann6, s_h6_lo, s_h6_hi},
    {"rosenbrock", 0, 2, s_rosenbrock, s_rosen_lo, s_rosen_hi},
    {"ackley", 0, 1, s_ackley, s_ackley_lo, s_ackley_hi},
    {"styblinski_tang", 0, 1, s_styblinski_tang, s_st_lo, s_st_hi},
    {"levy", 0, 1, s_levy, s_levy_lo, s_levy_hi},
};
#define S_COUNT ((int)(sizeof s_table / sizeof s_table[0]))

/* Styblinski-Tang in 1-D: minimiser and minimum (root of 4x^3 - 32x + 5). */
#define S_ST_ARGMIN (-2.903534027771178)
#define S_ST_MIN1 (-39.16616570377142)

const sw_testfn_t *sw_testfn_find(const char *name)
{
    for (int i = 0; name && i < S_COUNT; i++)
        if (!strcmp(s_table[i].name, name))
            return &s_table[i];
    return NULL;
}

int sw_testfn_count(void) { return S_COUNT; }

const sw_testfn_t *sw_testfn_at(int i)
{
    return i >= 0 && i < S_COUNT ? &s_table[i] : NULL;
}

bool sw_testfn_dim_ok(const sw_testfn_t *fn, int d)
{
    return fn->dim ? d == fn->dim : d >= fn->dim_min;
}

void sw_testfn_bounds(const sw_testfn_t *fn, int i, double *lo, double *hi)
{
    int k = fn->dim ? i : 0;
    *lo = fn->lo[k];
    *hi = fn->hi[k];
}

double sw_testfn_eval(const sw_testfn_t *fn, const double *x, int d)
{
    assert(fn && x && sw_testfn_dim_ok(fn, d));
    return fn->eval(x, d);
}

double sw_testfn_minimum(const sw_testfn_t *fn, int d)
{
    if (fn->eval == s_branin)
        return 0.39788735772973816;
    if (fn->eval == s_hartmann6)
        return -3.32237;
    if (fn->eval == s_styblinski_tang)
        return S_ST_MIN1 * d;
    return 0.0;   /* Rosenbrock, Ackley, Levy */
}

void sw_testfn_argmin(const sw_testfn_t *fn, int d, double *x)
{
    static const double h6[6] = {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573};
    if (fn->eval == s_branin) {
        x[0] = S_PI;
        x[1] = 2.275;
        return;
    }
    for (int i = 0; i < d; i++) {
        if (fn->eval == s_hartmann6)
            x[i] = h6[i];
        else if (fn->eval == s_styblinski_tang)
            x[i] = S_ST_ARGMIN;
        else if (fn->eval == s_ackley)
            x[i] = 0.0;
        else
            x[i] = 1.0;   /* Rosenbrock, Levy */
    }
}
