/*  test_trainer_function.c - the function trainer: values, intermediate steps, errors
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>
#include <string.h>

#include "worker/trn_function.h"
#include "worker/trn_metrics.h"

typedef struct {
    int n;
    int step[64];
    bool final[64];
    double value[64];
} s_log_t;

static int s_report(void *arg, int step, bool final, const trn_metrics_t *m)
{
    s_log_t *log = arg;
    const double *v = trn_metrics_get(m, "value");
    assert_non_null(v);
    log->step[log->n] = step;
    log->final[log->n] = final;
    log->value[log->n++] = *v;
    return 0;
}

static int s_run(const char *trainer, const char *params, s_log_t *log, char *err)
{
    cJSON *t = cJSON_Parse(trainer), *p = cJSON_Parse(params);
    memset(log, 0, sizeof *log);
    int rc = trn_function_run(t, p, s_report, log, err, 256);
    cJSON_Delete(t);
    cJSON_Delete(p);
    return rc;
}

static void test_branin_minimum(void **state)
{
    (void)state;
    s_log_t log;
    char err[256] = "";
    assert_int_equal(s_run("{\"type\":\"function\",\"name\":\"branin\"}",
                           "{\"x1\":3.141592653589793,\"x2\":2.275}", &log, err), 0);
    assert_int_equal(log.n, 1);
    assert_true(log.final[0]);
    assert_true(fabs(log.value[0] - 0.397887357729739) < 1e-9);
}

static void test_steps_converge(void **state)
{
    (void)state;
    s_log_t log;
    char err[256] = "";
    assert_int_equal(s_run("{\"type\":\"function\",\"name\":\"rosenbrock\",\"dims\":3,\"steps\":4}",
                           "{\"x1\":0,\"x2\":0,\"x3\":0}", &log, err), 0);
    assert_int_equal(log.n, 5);     /* 4 steps and the final report */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(log.step[i], i + 1);
        assert_false(log.final[i]);
    }
    assert_true(log.final[4]);
    assert_int_equal(log.step[4], 4);
    double f = 2.0;                 /* rosenbrock(0,0,0) = 1 + 1 */
    assert_true(fabs(log.value[0] - (f + 3.0 * 3 / 4)) < 1e-12);
    assert_true(log.value[0] > log.value[1] && log.value[1] > log.value[2]);
    assert_true(fabs(log.value[3] - f) < 1e-12 && fabs(log.value[4] - f) < 1e-12);
}

static void test_errors(void **state)
{
    (void)state;
    s_log_t log;
    char err[256];
    assert_int_equal(s_run("{\"type\":\"function\",\"name\":\"sphere\"}", "{}", &log, err), -1);
    assert_string_equal(err, "trainer.name: unknown test function 'sphere' (known: branin, hartmann6, "
                             "rosenbrock, ackley, styblinski_tang, levy)");
    assert_int_equal(s_run("{\"type\":\"function\",\"name\":\"levy\",\"dims\":2}", "{\"x1\":1}", &log,
                           err), -1);
    assert_string_equal(err, "params.x2: missing or not a finite number");
    assert_int_equal(s_run("{\"type\":\"function\",\"name\":\"hartmann6\",\"dims\":3}", "{}", &log,
                           err), -1);
    assert_string_equal(err, "trainer.dims: not a dimension this function allows");
    assert_int_equal(log.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branin_minimum),
        cmocka_unit_test(test_steps_converge),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests_name("trainer_function", tests, NULL, NULL);
}
