/*  test_sw_rng.c - the seeded random stream is reproducible and well spread
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>

#include "common/sw_rng.h"

static void test_same_seed_same_stream(void **state)
{
    (void)state;
    sw_rng_t a, b, c;
    sw_rng_seed(&a, 42);
    sw_rng_seed(&b, 42);
    sw_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sw_rng_next(&a);
        assert_int_equal(x, sw_rng_next(&b));
        differ += x != sw_rng_next(&c);
    }
    assert_true(differ > 990);
}

static void test_uniform_and_below(void **state)
{
    (void)state;
    sw_rng_t r;
    sw_rng_seed(&r, 0);
    double sum = 0;
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        double u = sw_rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
        counts[sw_rng_below(&r, 7)]++;
    }
    assert_true(fabs(sum / 70000 - 0.5) < 0.01);
    for (int k = 0; k < 7; k++)
        assert_true(counts[k] > 9500 && counts[k] < 10500);
}

static void test_normal_moments(void **state)
{
    (void)state;
    sw_rng_t r;
    sw_rng_seed2(&r, 7, 3);
    double s = 0, s2 = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        double z = sw_rng_normal(&r);
        s += z;
        s2 += z * z;
    }
    assert_true(fabs(s / n) < 0.02);
    assert_true(fabs(s2 / n - 1.0) < 0.02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_uniform_and_below),
        cmocka_unit_test(test_normal_moments),
    };
    return cmocka_run_group_tests_name("sw_rng", tests, NULL, NULL);
}
