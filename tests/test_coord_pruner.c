/*  test_coord_pruner.c - median, ASHA, Hyperband and fold pruning decisions on
 *  hand-built histories, in both directions, with NaN values and after a replay
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_spec.h"
#include "coordinator/coord_pruner.h"

static sw_spec_t *s_spec(const char *direction, const char *pruner)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"name\":\"p\",\"objective\":{\"metric\":\"acc\",\"direction\":\"%s\"},"
             "\"method\":\"random\",\"trainer\":{\"type\":\"function\"},"
             "\"parameters\":{\"x\":{\"type\":\"float\",\"low\":0,\"high\":1}}%s%s%s}",
             direction, pruner ? ",\"pruner\":" : "", pruner ? pruner : "",
             pruner && strstr(pruner, "\"folds\":true") ? ",\"cv\":{\"folds\":3}" : "");
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(text, strlen(text), NULL, &errs);
    for (size_t i = 0; i < errs.count; i++)
        print_error("spec: %s\n", errs.items[i]);
    assert_non_null(spec);
    sw_errs_clear(&errs);
    return spec;
}

static bool s_rep(coord_pruner_t *p, int64_t trial, int64_t step, double v)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "acc", v);   /* NaN prints as null; the number stays NaN */
    bool r = coord_pruner_report(p, trial, -1, step, m);
    cJSON_Delete(m);
    return r;
}

/* Trials 0-4 complete with value (trial + 1) * SCALE at steps 0..3. */
static void s_fill(coord_pruner_t *p, double scale)
{
    for (int t = 0; t < 5; t++) {
        for (int s = 0; s < 4; s++)
            assert_false(s_rep(p, t, s, (t + 1) * scale));
        coord_pruner_finish(p, t, COORD_PRUNER_COMPLETE, (t + 1) * scale);
    }
}

static void test_median_minimize(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("minimize", "{\"type\":\"median\",\"n_warmup_steps\":1}");
    coord_pruner_t *p = coord_pruner_new(spec, NULL);
    assert_non_null(p);
    s_fill(p, 1.0);                         /* median at every step: 3 */
    assert_false(s_rep(p, 5, 0, 10));       /* warm-up step */
    assert_true(s_rep(p, 5, 1, 10));        /* 10 > 3 */
    assert_true(s_rep(p, 5, 2, 1));         /* answered prune once: stays pruned */
    assert_false(s_rep(p, 6, 1, 2.5));      /* better than the median */
    assert_false(s_rep(p, 6, 2, 3));        /* best so far 2.5 <= 3 */
    assert_true(s_rep(p, 7, 1, 3.5));
    coord_pruner_finish(p, 6, COORD_PRUNER_COMPLETE, 3);
    assert_false(s_rep(p, 6, 3, 100));      /* finished trials are not judged */
    coord_pruner_destroy(&p);
    assert_null(p);
    sw_spec_destroy(&spec);
}

static void test_median_maximize(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("maximize", "{\"type\":\"median\"}");
    coord_pruner_t *p = coord_pruner_new(spec, NULL);
    s_fill(p, 0.25);                        /* accuracies 0.25 .. 1.25, median 0.75 */
    assert_false(s_rep(p, 5, 0, 1.5));      /* the best trial is never pruned */
    assert_false(s_rep(p, 5, 1, 1.6));
    assert_true(s_rep(p, 6, 0, 0.5));
    assert_false(s_rep(p, 7, 0, 0.75));     /* equal to the median: continue */
    coord_pruner_destroy(&p);
    sw_spec_destroy(&spec);
}

static void test_median_startup_and_nan(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("minimize", "{\"type\":\"median\",\"n_startup_trials\":5}");
    coord_pruner_t *p = coord_pruner_new(spec, NULL);
    for (int t = 0; t < 4; t++) {
        assert_false(s_rep(p, t, 0, t));
        coord_pruner_finish(p, t, COORD_PRUNER_COMPLETE, t);
    }
    assert_false(s_rep(p, 10, 0, 1000));    /* 4 complete < n_startup_trials */
    assert_false(s_rep(p, 4, 0, NAN));      /* NaN before startup: kept, not judged */
    coord_pruner_finish(p, 4, COORD_PRUNER_COMPLETE, NAN);
    assert_true(s_rep(p, 11, 0, NAN));      /* NaN: the worst value */
    assert_true(s_rep(p, 12, 0, INFINITY));
    assert_false(s_rep(p, 13, 0, 1));       /* median of the finite 0,1,2,3 is 1.5 */
    /* a report without the monitored metric: continue, nothing recorded */
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "loss", 1e9);
    assert_false(coord_pruner_report(p, 14, -1, 0, m));
    cJSON_Delete(m);
    coord_pruner_destroy(&p);
    sw_spec_destroy(&spec);
}

static void test_asha_both_directions(void **state)
{
    (void)state;
    const char *pr = "{\"type\":\"asha\",\"min_resource\":1,\"reduction_factor\":3}";
    for (int d = 0; d < 2; d++) {
        sw_spec_t *spec = s_spec(d ? "maximize" : "minimize", pr);
        coord_pruner_t *p = coord_pruner_new(spec, NULL);
        double sg = d ? -1 : 1;             /* maximize: the same history negated */
        assert_false(s_rep(p, 0, 0, sg * 5));   /* before rung 0 (step 1) */
        assert_false(s_rep(p, 0, 1, sg * 5));   /* first arrival: promoted */
        assert_true(s_rep(p, 1, 1, sg * 6));    /* 2 arrivals: only the best goes on */
        assert_false(s_rep(p, 2, 1, sg * 4));   /* new best */
        assert_true(s_rep(p, 3, 1, sg * 4.5));  /* 4 arrivals: the top 4/3 = 1 is 4: pruned */
        assert_int_equal(coord_pruner_rung_count(p, 0, 0), 4);
        coord_pruner_destroy(&p);
        sw_spec_destroy(&spec);
    }
}

static void test_asha_rungs_and_max(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("minimize", "{\"type\":\"asha\",\"min_resource\":1,"
                                         "\"reduction_factor\":3,\"max_resource\":9}");
    coord_pruner_t *p = coord_pruner_new(spec, NULL);
    /* 9 trials reach rung 0 (step 1) with values 0..8: rung 0 keeps the top third */
    int kept = 0;
    for (int t = 0; t < 9; t++)
        kept += !s_rep(p, t, 1, t);
    assert_int_equal(kept, 1);              /* values rise: only trial 0 led on arrival */
    /* trial 0 goes on to rung 1 (step 3) alone: promoted; no rung at 9 (max) */
    assert_false(s_rep(p, 0, 3, 0));
    assert_false(s_rep(p, 0, 9, 100));
    assert_int_equal(coord_pruner_rung_count(p, 0, 1), 1);
    assert_int_equal(coord_pruner_rung_count(p, 0, 2), 0);
    coord_pruner_destroy(&p);
    sw_spec_destroy(&spec);
}

static void test_hyperband(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("minimize", "{\"type\":\"hyperband\",\"min_resource\":1,"
                                         "\"max_resource\":81,\"reduction_factor\":3}");
    coord_pruner_t *p = coord_pruner_new(spec, NULL);
    int count[8] = {0};
    for (int t = 0; t < 3000; t++) {
        int b = coord_pruner_bracket(p, t);
        assert_true(b >= 0 && b < 5);
        assert_int_equal(b, coord_pruner_bracket(p, t));
        count[b]++;
    }
    /* weights ceil(5/(s+1)) 3^s for s = 4..0: 81, 54, 18, 6, 5 (of 164) */
    assert_true(count[0] > 1300 && count[0] < 1650);
    assert_true(count[4] > 40 && count[4] < 150);
    /* bracket b's first rung is at 3^b: a trial of bracket 4 is not judged before 81 */
    int64_t t4 = 0;
    while (coord_pruner_bracket(p, t4) != 4)
        t4++;
    assert_false(s_rep(p, t4, 27, 1e9));
    assert_int_equal(coord_pruner_rung_count(p, 4, 0), 0);
    coord_pruner_destroy(&p);
    sw_spec_destroy(&spec);
}

/* Replaying the stored reports and outcomes rebuilds the same state. */
static void test_replay(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("minimize", "{\"type\":\"asha\",\"reduction_factor\":2}");
    coord_pruner_t *a = coord_pruner_new(spec, NULL), *b = coord_pruner_new(spec, NULL);
    double vals[12] = {5, 3, 8, 1, 9, 2, 7, 4, 6, 0.5, 10, 3.5};
    for (int t = 0; t < 12; t++) {
        for (int s = 1; s <= 4; s++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "acc", vals[t] / s);
            bool pa = coord_pruner_report(a, t, -1, s, m);
            coord_pruner_replay(b, t, -1, s, m);
            cJSON_Delete(m);
            if (pa)
                break;
        }
        coord_pruner_finish(a, t, COORD_PRUNER_COMPLETE, vals[t]);
        coord_pruner_finish(b, t, COORD_PRUNER_COMPLETE, vals[t]);
    }
    for (int k = 0; k < 3; k++)
        assert_int_equal(coord_pruner_rung_count(a, 0, k), coord_pruner_rung_count(b, 0, k));
    assert_int_equal(s_rep(a, 20, 1, 4.0), s_rep(b, 20, 1, 4.0));
    assert_int_equal(s_rep(a, 21, 1, 0.1), s_rep(b, 21, 1, 0.1));
    coord_pruner_destroy(&a);
    coord_pruner_destroy(&b);
    sw_spec_destroy(&spec);
}

static void test_fold_pruning(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("maximize", "{\"type\":\"median\",\"folds\":true,\"n_startup_trials\":3}");
    coord_pruner_t *p = coord_pruner_new(spec, NULL);
    for (int t = 0; t < 3; t++) {
        for (int f = 0; f < 3; f++)
            assert_false(coord_pruner_fold(p, t, f, 3, 0.70 + 0.01 * t + 0.001 * f));
        coord_pruner_finish(p, t, COORD_PRUNER_COMPLETE, 0.71);
    }
    /* fold 0 median over trials 0-2: 0.71 */
    assert_true(coord_pruner_fold(p, 3, 0, 3, 0.60));
    assert_false(coord_pruner_fold(p, 4, 0, 3, 0.80));
    assert_false(coord_pruner_fold(p, 4, 1, 3, 0.80));
    assert_false(coord_pruner_fold(p, 4, 2, 3, 0.10));  /* the last fold: nothing left to stop */
    assert_true(coord_pruner_fold(p, 5, 1, 3, NAN));
    coord_pruner_destroy(&p);
    sw_spec_destroy(&spec);
}

static void test_options(void **state)
{
    (void)state;
    static const struct {
        const char *pruner, *msg;
    } bad[] = {
        {"{\"type\":\"asha\",\"reduction_factor\":1}", "pruner.reduction_factor: must be a number > 1"},
        {"{\"type\":\"median\",\"metric\":\"val_loss\"}",
         "pruner.direction: required when pruner.metric (\"val_loss\") is not the objective's "
         "metric (\"acc\")"},
        {"{\"type\":\"median\",\"direction\":\"minimize\"}",
         "pruner.direction: must match objective.direction when the pruner monitors the "
         "objective's metric"},
        {"{\"type\":\"hyperband\"}", "pruner.max_resource: required field is missing"},
        {"{\"type\":\"sha\"}", "pruner.type: must be \"none\", \"median\", \"asha\" or \"hyperband\""},
        {"{\"type\":\"median\",\"min_resource\":1}", "pruner.min_resource: unknown option for the median pruner"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* sw_spec_parse refuses these (tests/test_sw_spec.c); a spec built by hand
         * gets the same message here, from the same rules (sw_spec_pruner_options). */
        sw_spec_t *spec = s_spec("maximize", NULL);
        cJSON *obj = cJSON_Parse(bad[i].pruner);
        spec->pruner = obj;
        sw_errs_t errs = {0};
        assert_null(coord_pruner_new(spec, &errs));
        assert_int_equal(errs.count, 1);
        assert_string_equal(errs.items[0], bad[i].msg);
        sw_errs_clear(&errs);
        sw_spec_destroy(&spec);
        cJSON_Delete(obj);
    }
    /* a monitored metric of its own, with its own direction */
    sw_spec_t *spec = s_spec("maximize", "{\"type\":\"median\",\"metric\":\"val_loss\","
                                         "\"direction\":\"minimize\",\"n_startup_trials\":1}");
    coord_pruner_t *p = coord_pruner_new(spec, NULL);
    assert_non_null(p);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "val_loss", 0.5);
    assert_false(coord_pruner_report(p, 0, -1, 0, m));
    coord_pruner_finish(p, 0, COORD_PRUNER_COMPLETE, 0.9);
    cJSON_SetNumberValue(cJSON_GetObjectItem(m, "val_loss"), 0.7);
    assert_true(coord_pruner_report(p, 1, -1, 0, m));     /* higher loss: worse */
    cJSON_Delete(m);
    coord_pruner_destroy(&p);
    sw_spec_destroy(&spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median_minimize),
        cmocka_unit_test(test_median_maximize),
        cmocka_unit_test(test_median_startup_and_nan),
        cmocka_unit_test(test_asha_both_directions),
        cmocka_unit_test(test_asha_rungs_and_max),
        cmocka_unit_test(test_hyperband),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_fold_pruning),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests_name("coord_pruner", tests, NULL, NULL);
}
