/*  test_sw_testfn.c - each test function equals its known minimum at its minimiser
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>

#include "common/sw_rng.h"
#include "common/sw_testfn.h"

/* Walk through the API: find, bounds, eval. */
static void test_api(void **state)
{
    (void)state;
    assert_int_equal(sw_testfn_count(), 6);
    const sw_testfn_t *b = sw_testfn_find("branin");
    assert_non_null(b);
    assert_int_equal(b->dim, 2);
    double lo, hi;
    sw_testfn_bounds(b, 0, &lo, &hi);
    assert_true(lo == -5.0 && hi == 10.0);
    sw_testfn_bounds(b, 1, &lo, &hi);
    assert_true(lo == 0.0 && hi == 15.0);
    assert_null(sw_testfn_find("nope"));
    assert_null(sw_testfn_find(NULL));
    assert_true(sw_testfn_dim_ok(sw_testfn_find("rosenbrock"), 4));
    assert_false(sw_testfn_dim_ok(sw_testfn_find("rosenbrock"), 1));
    assert_false(sw_testfn_dim_ok(b, 3));
    sw_testfn_bounds(sw_testfn_find("ackley"), 4, &lo, &hi);
    assert_true(lo == -32.768 && hi == 32.768);
}

/* At the known minimiser every function equals its known minimum within 1e-4, and
 * no point of 20,000 random ones in the domain is lower. */
static void test_minima(void **state)
{
    (void)state;
    const int dims[] = {2, 4, 5, 10};
    sw_rng_t rng;
    sw_rng_seed(&rng, 11);
    for (int i = 0; i < sw_testfn_count(); i++) {
        const sw_testfn_t *fn = sw_testfn_at(i);
        for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
            int d = fn->dim ? fn->dim : dims[k];
            if (!sw_testfn_dim_ok(fn, d))
                continue;
            double x[10];
            sw_testfn_argmin(fn, d, x);
            double fmin = sw_testfn_minimum(fn, d);
            double f = sw_testfn_eval(fn, x, d);
            if (fabs(f - fmin) > 1e-4)
                fail_msg("%s d=%d: f(argmin) = %.9g, known minimum %.9g", fn->name, d, f, fmin);
            for (int r = 0; r < 20000; r++) {
                for (int j = 0; j < d; j++) {
                    double lo, hi;
                    sw_testfn_bounds(fn, j, &lo, &hi);
                    x[j] = lo + sw_rng_uniform(&rng) * (hi - lo);
                }
                assert_true(sw_testfn_eval(fn, x, d) >= fmin - 1e-4);
            }
        }
    }
}

/* Values at fixed points, computed independently with Optuna's reference script. */
static void test_known_values(void **state)
{
    (void)state;
    double x2[2] = {-3.14159265358979323846, 12.275};
    assert_true(fabs(sw_testfn_eval(sw_testfn_find("branin"), x2, 2) - 0.397887) < 1e-5);
    double x3[2] = {9.42478, 2.475};
    assert_true(fabs(sw_testfn_eval(sw_testfn_find("branin"), x3, 2) - 0.397887) < 1e-5);
    double z[4] = {0, 0, 0, 0};
    assert_true(fabs(sw_testfn_eval(sw_testfn_find("rosenbrock"), z, 4) - 3.0) < 1e-12);
    assert_true(fabs(sw_testfn_eval(sw_testfn_find("styblinski_tang"), z, 4)) < 1e-12);
    double one[3] = {1, 1, 1};
    /* Ackley at (1,1,1): -20 exp(-0.2) - exp(cos 2pi) + 20 + e = 3.6253849384403627 */
    assert_true(fabs(sw_testfn_eval(sw_testfn_find("ackley"), one, 3) - 3.6253849384403627) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_minima),
        cmocka_unit_test(test_known_values),
    };
    return cmocka_run_group_tests_name("sw_testfn", tests, NULL, NULL);
}
