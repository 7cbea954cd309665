/*  test_coord_sampler.c - grid, random and tpe samplers: exact grid order, exhaustion,
 *  value types, reproducibility, domains over many draws, order independence,
 *  conditional parameters
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_spec.h"
#include "coordinator/coord_sampler.h"

/* A spec with METHOD, PARAMS (inside of "parameters", single quotes) and SEED. */
static sw_spec_t *s_spec(const char *method, const char *params, int seed)
{
    char *t = NULL;
    assert_true(asprintf(&t,
                         "{'name':'s','objective':{'metric':'val_loss','direction':'minimize'},"
                         "'method':'%s','seed':%d,'parameters':{%s},'trainer':{'type':'mlp'}}",
                         method, seed, params) > 0);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(t, strlen(t), NULL, &errs);
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "unexpected: %s\n", errs.items[i]);
    assert_non_null(spec);
    sw_errs_clear(&errs);
    free(t);
    return spec;
}

/* Canonical text of trial NUMBER's proposal; caller frees. */
static char *s_propose(coord_sampler_t *s, int64_t number)
{
    int err = -1;
    cJSON *p = coord_sampler_propose(s, number, NULL, 0, &err);
    assert_non_null(p);
    assert_int_equal(err, 0);
    char *t = sw_json_canonical(p);
    cJSON_Delete(p);
    return t;
}

/* The walk: a small grid, every point in order, then exhaustion. */
static void test_grid_exact_order(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("grid",
                             "'c':{'type':'float','low':0,'high':1,'step':0.5},"
                             "'b':{'type':'categorical','values':[true,null]},"
                             "'a':{'type':'int','low':1,'high':3,'step':2}",
                             0);
    coord_sampler_t *s = coord_sampler_new(spec);
    assert_non_null(s);
    assert_int_equal(coord_sampler_size(s), 12);
    static const char *const want[] = {
        "{\"a\":1,\"b\":true,\"c\":0}",   "{\"a\":1,\"b\":true,\"c\":0.5}", "{\"a\":1,\"b\":true,\"c\":1}",
        "{\"a\":1,\"b\":null,\"c\":0}",   "{\"a\":1,\"b\":null,\"c\":0.5}", "{\"a\":1,\"b\":null,\"c\":1}",
        "{\"a\":3,\"b\":true,\"c\":0}",   "{\"a\":3,\"b\":true,\"c\":0.5}", "{\"a\":3,\"b\":true,\"c\":1}",
        "{\"a\":3,\"b\":null,\"c\":0}",   "{\"a\":3,\"b\":null,\"c\":0.5}", "{\"a\":3,\"b\":null,\"c\":1}",
    };
    for (int n = 0; n < 12; n++) {
        char *got = s_propose(s, n);
        assert_string_equal(got, want[n]);
        free(got);
    }
    int err = 0;
    assert_null(coord_sampler_propose(s, 12, NULL, 0, &err));
    assert_int_equal(err, SW_EEXHAUSTED);
    err = 0;
    assert_null(coord_sampler_propose(s, 1000000, NULL, 0, &err));
    assert_int_equal(err, SW_EEXHAUSTED);
    err = 0;
    assert_null(coord_sampler_propose(s, -1, NULL, 0, &err));
    assert_int_equal(err, SW_EEXHAUSTED);
    coord_sampler_destroy(&s);
    assert_null(s);
    coord_sampler_destroy(&s);
    sw_spec_destroy(&spec);
}

static void test_grid_pima_size_and_types(void **state)
{
    (void)state;
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_load("examples/pima-grid.json", &errs);
    assert_non_null(spec);
    coord_sampler_t *s = coord_sampler_new(spec);
    assert_int_equal(coord_sampler_size(s), 27);
    char *first = s_propose(s, 0), *last = s_propose(s, 26), *mid = s_propose(s, 13);
    assert_string_equal(first, "{\"batch_size\":10,\"epochs\":10,\"optimizer\":\"adam\"}");
    assert_string_equal(mid, "{\"batch_size\":20,\"epochs\":20,\"optimizer\":\"sgd\"}");
    assert_string_equal(last, "{\"batch_size\":40,\"epochs\":30,\"optimizer\":\"rmsprop\"}");
    free(first);
    free(mid);
    free(last);
    /* every point distinct */
    char *seen[27];
    for (int n = 0; n < 27; n++) {
        seen[n] = s_propose(s, n);
        for (int k = 0; k < n; k++)
            assert_string_not_equal(seen[k], seen[n]);
    }
    for (int n = 0; n < 27; n++)
        free(seen[n]);
    coord_sampler_destroy(&s);
    sw_spec_destroy(&spec);
}

static void test_categorical_types_kept(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("random", "'v':{'type':'categorical','values':[1,'1',true,null,2.5,false]}", 3);
    coord_sampler_t *s = coord_sampler_new(spec);
    int counts[6] = {0};
    for (int n = 0; n < 600; n++) {
        int err;
        cJSON *p = coord_sampler_propose(s, n, NULL, 0, &err);
        const cJSON *v = cJSON_GetObjectItem(p, "v");
        assert_non_null(v);
        int k = 0;
        for (const cJSON *it = spec->params[0].values->child; it; it = it->next, k++)
            if (sw_json_equal(it, v)) {
                assert_int_equal(it->type & 0xFF, v->type & 0xFF);
                counts[k]++;
            }
        cJSON_Delete(p);
    }
    for (int k = 0; k < 6; k++)
        assert_true(counts[k] > 60 && counts[k] < 140);     /* 100 expected each */
    coord_sampler_destroy(&s);
    sw_spec_destroy(&spec);

    /* grid keeps them too, in listed order */
    spec = s_spec("grid", "'v':{'type':'categorical','values':[1,'1',true,null,2.5,false]}", 0);
    s = coord_sampler_new(spec);
    static const char *const want[] = {"{\"v\":1}", "{\"v\":\"1\"}", "{\"v\":true}",
                                       "{\"v\":null}", "{\"v\":2.5}", "{\"v\":false}"};
    for (int n = 0; n < 6; n++) {
        char *got = s_propose(s, n);
        assert_string_equal(got, want[n]);
        free(got);
    }
    coord_sampler_destroy(&s);
    sw_spec_destroy(&spec);
}

static const char *P_MIX = "'lr':{'type':'float','low':0.0001,'high':0.1,'log':true},"
                           "'units':{'type':'int','low':4,'high':64},"
                           "'opt':{'type':'categorical','values':['adam','sgd','rmsprop']}";

static void test_random_reproducible(void **state)
{
    (void)state;
    sw_spec_t *a = s_spec("random", P_MIX, 1), *b = s_spec("random", P_MIX, 1), *c = s_spec("random", P_MIX, 2);
    coord_sampler_t *sa = coord_sampler_new(a), *sb = coord_sampler_new(b), *sc = coord_sampler_new(c);
    assert_int_equal(coord_sampler_size(sa), -1);
    char *prop[100];
    int same_as_c = 0;
    for (int n = 0; n < 100; n++) {
        prop[n] = s_propose(sa, n);
        char *pb = s_propose(sb, n), *pc = s_propose(sc, n);
        assert_string_equal(prop[n], pb);       /* same seed, same number: identical */
        same_as_c += !strcmp(prop[n], pc);
        free(pb);
        free(pc);
        for (int k = 0; k < n; k++)
            assert_string_not_equal(prop[k], prop[n]);  /* different numbers differ */
    }
    assert_int_equal(same_as_c, 0);              /* another seed, another sweep */
    for (int n = 0; n < 100; n++)
        free(prop[n]);
    coord_sampler_destroy(&sa);
    coord_sampler_destroy(&sb);
    coord_sampler_destroy(&sc);
    sw_spec_destroy(&a);
    sw_spec_destroy(&b);
    sw_spec_destroy(&c);
}

static void test_random_domains(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("random",
                             "'f':{'type':'float','low':0.5,'high':2.5},"
                             "'g':{'type':'float','low':0.0001,'high':0.1,'log':true},"
                             "'h':{'type':'float','low':0,'high':1,'step':0.25},"
                             "'i':{'type':'int','low':4,'high':64},"
                             "'j':{'type':'int','low':0,'high':10,'step':5},"
                             "'k':{'type':'int','low':1,'high':1000,'log':true}",
                             7);
    coord_sampler_t *s = coord_sampler_new(spec);
    const int N = 10000;
    int g_below = 0, k_below = 0, i_lo = 0, i_hi = 0, h_count[5] = {0}, j_count[3] = {0};
    double f_min = 9, f_max = -9;
    for (int n = 0; n < N; n++) {
        int err;
        cJSON *p = coord_sampler_propose(s, n, NULL, 0, &err);
        assert_non_null(p);
        assert_int_equal(cJSON_GetArraySize(p), 6);
        for (int q = 0; q < spec->n_params; q++) {
            const cJSON *v = cJSON_GetObjectItem(p, spec->params[q].name);
            assert_true(cJSON_IsNumber(v));
            if (!sw_param_contains(&spec->params[q], v))
                fail_msg("trial %d: %s = %.17g outside its domain", n, spec->params[q].name, v->valuedouble);
        }
        double f = cJSON_GetObjectItem(p, "f")->valuedouble, g = cJSON_GetObjectItem(p, "g")->valuedouble,
               h = cJSON_GetObjectItem(p, "h")->valuedouble, i = cJSON_GetObjectItem(p, "i")->valuedouble,
               j = cJSON_GetObjectItem(p, "j")->valuedouble, k = cJSON_GetObjectItem(p, "k")->valuedouble;
        f_min = fmin(f_min, f);
        f_max = fmax(f_max, f);
        g_below += g < 0.01;
        assert_true(h == 0 || h == 0.25 || h == 0.5 || h == 0.75 || h == 1);
        h_count[(int)(h * 4)]++;
        assert_true(i == floor(i) && i >= 4 && i <= 64);
        i_lo += i == 4;
        i_hi += i == 64;
        assert_true(j == 0 || j == 5 || j == 10);
        j_count[(int)j / 5]++;
        assert_true(k == floor(k) && k >= 1 && k <= 1000);
        k_below += k <= 31;
        cJSON_Delete(p);
    }
    assert_true(f_min >= 0.5 && f_min < 0.51 && f_max <= 2.5 && f_max > 2.49);
    /* log-uniform over 3 decades: 2 of them lie below 0.01 */
    assert_true(fabs((double)g_below / N - 2.0 / 3.0) < 0.02);
    for (int b = 0; b < 5; b++)
        assert_true(h_count[b] > 1800 && h_count[b] < 2200);  /* 2000 expected */
    for (int b = 0; b < 3; b++)
        assert_true(j_count[b] > 3100 && j_count[b] < 3600);  /* 3333 expected */
    /* both ends of an inclusive int range are drawn (~164 each expected) */
    assert_true(i_lo > 100 && i_hi > 100);
    /* log-int over [0.5, 1000.5]: P(k <= 31) = log(31.5/0.5)/log(1000.5/0.5) = 0.545 */
    assert_true(fabs((double)k_below / N - 0.545) < 0.02);
    coord_sampler_destroy(&s);
    sw_spec_destroy(&spec);
}

static void test_order_independent(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("random", P_MIX, 11);
    coord_sampler_t *s1 = coord_sampler_new(spec);
    char *fwd[50];
    for (int n = 0; n < 50; n++)
        fwd[n] = s_propose(s1, n);
    coord_sampler_destroy(&s1);
    coord_sampler_t *s2 = coord_sampler_new(spec);
    for (int n = 49; n >= 0; n -= 2) {      /* backwards, odd ones first, then even */
        char *p = s_propose(s2, n);
        assert_string_equal(p, fwd[n]);
        free(p);
    }
    for (int n = 0; n < 50; n += 2) {
        char *p = s_propose(s2, n);
        assert_string_equal(p, fwd[n]);
        free(p);
    }
    /* history is ignored by grid and random */
    coord_sampler_trial_t hist[1] = {{.number = 0, .params = NULL, .finished = true, .value = 0.5}};
    int err;
    cJSON *p = coord_sampler_propose(s2, 7, hist, 1, &err);
    char *t = sw_json_canonical(p);
    assert_string_equal(t, fwd[7]);
    free(t);
    cJSON_Delete(p);
    for (int n = 0; n < 50; n++)
        free(fwd[n]);
    coord_sampler_destroy(&s2);
    sw_spec_destroy(&spec);
}

static void test_conditional_grid(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("grid",
                             "'optimizer':{'type':'categorical','values':['adam','sgd']},"
                             "'momentum':{'type':'float','low':0,'high':0.9,'step':0.3,'when':{'optimizer':'sgd'}}",
                             0);
    coord_sampler_t *s = coord_sampler_new(spec);
    assert_int_equal(coord_sampler_size(s), 5);
    static const char *const want[] = {
        "{\"optimizer\":\"adam\"}",
        "{\"momentum\":0,\"optimizer\":\"sgd\"}",
        "{\"momentum\":0.3,\"optimizer\":\"sgd\"}",
        "{\"momentum\":0.6,\"optimizer\":\"sgd\"}",
        "{\"momentum\":0.9,\"optimizer\":\"sgd\"}",
    };
    for (int n = 0; n < 5; n++) {
        char *got = s_propose(s, n);
        assert_string_equal(got, want[n]);
        free(got);
    }
    int err;
    assert_null(coord_sampler_propose(s, 5, NULL, 0, &err));
    assert_int_equal(err, SW_EEXHAUSTED);
    coord_sampler_destroy(&s);
    sw_spec_destroy(&spec);
}

/* A conditional grid larger than the checkpoint table: every point decoded through
 * the checkpoints equals brute-force enumeration of the raw product. */
static void test_conditional_grid_large(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("grid",
                             "'a':{'type':'int','low':0,'high':999},"
                             "'b':{'type':'int','low':0,'high':99,'when':{'c':[1]}},"
                             "'c':{'type':'categorical','values':[0,1]}",
                             0);
    /* c=0: b inactive, 1000 points; c=1: 1000*100 points */
    assert_int_equal(sw_spec_grid_size(spec), 101000);
    int64_t idx[3];
    int64_t n = 0;
    for (int64_t a = 0; a < 1000; a++)
        for (int64_t b = 0; b < 100; b++)
            for (int64_t c = 0; c < 2; c++) {
                if (c == 0 && b != 0)
                    continue;
                assert_int_equal(sw_spec_grid_point(spec, n, idx), 0);
                if (idx[0] != a || idx[1] != (c == 0 ? -1 : b) || idx[2] != c)
                    fail_msg("point %lld: got (%lld,%lld,%lld)", (long long)n, (long long)idx[0],
                             (long long)idx[1], (long long)idx[2]);
                n++;
            }
    assert_int_equal(n, 101000);
    assert_int_equal(sw_spec_grid_point(spec, n, idx), SW_EEXHAUSTED);
    sw_spec_destroy(&spec);
}

static void test_conditional_random(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("random",
                             "'optimizer':{'type':'categorical','values':['adam','sgd','rmsprop']},"
                             "'momentum':{'type':'float','low':0,'high':0.99,'when':{'optimizer':'sgd'}},"
                             "'nesterov':{'type':'categorical','values':[true,false],'when':{'optimizer':'sgd'}}",
                             5);
    coord_sampler_t *s = coord_sampler_new(spec);
    int with = 0;
    for (int n = 0; n < 1000; n++) {
        int err;
        cJSON *p = coord_sampler_propose(s, n, NULL, 0, &err);
        const char *opt = cJSON_GetObjectItem(p, "optimizer")->valuestring;
        bool has_m = cJSON_GetObjectItem(p, "momentum") != NULL;
        assert_int_equal(has_m, !strcmp(opt, "sgd"));
        assert_int_equal(cJSON_GetObjectItem(p, "nesterov") != NULL, has_m);
        with += has_m;
        cJSON_Delete(p);
    }
    assert_true(with > 280 && with < 390);      /* 333 expected */
    coord_sampler_destroy(&s);
    sw_spec_destroy(&spec);
}

/* Method tpe goes through the same interface; while startup lasts, trials numbered
 * past its Latin hypercube (0-9) are exactly the random sampler's (one shared draw
 * function), and the hypercube's own differ from them. */
static void test_tpe_wired(void **state)
{
    (void)state;
    sw_spec_t *spec = s_spec("tpe", P_MIX, 5), *rspec = s_spec("random", P_MIX, 5);
    coord_sampler_t *s = coord_sampler_new(spec), *r = coord_sampler_new(rspec);
    assert_non_null(s);
    assert_non_null(r);
    assert_int_equal(coord_sampler_size(s), -1);
    int same = 0;
    for (int n = 0; n < 20; n++) {
        char *a = s_propose(s, n), *b = s_propose(r, n);
        if (n >= 10)
            assert_string_equal(a, b);
        else
            same += !strcmp(a, b);
        free(a);
        free(b);
    }
    assert_int_equal(same, 0);
    int err = 0;
    assert_null(coord_sampler_propose(s, -1, NULL, 0, &err));
    assert_int_equal(err, SW_EINVAL);
    coord_sampler_destroy(&s);
    coord_sampler_destroy(&r);
    sw_spec_destroy(&spec);
    sw_spec_destroy(&rspec);
}

/* Bad TPE options: no sampler, one message per fault. */
static void test_tpe_bad_options(void **state)
{
    (void)state;
    const char *t = "{\"name\":\"t\",\"objective\":{\"metric\":\"v\",\"direction\":\"minimize\"},"
                    "\"method\":\"tpe\",\"trainer\":{\"type\":\"function\"},"
                    "\"sampler\":{\"type\":\"tpe\",\"n_ei_candidates\":0},"
                    "\"parameters\":{\"x\":{\"type\":\"float\",\"low\":0,\"high\":1}}}";
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(t, strlen(t), NULL, &errs);
    if (!spec) {     /* sw_spec validates sampler options itself */
        assert_true(errs.count >= 1);
        assert_string_equal(errs.items[0], "sampler.n_ei_candidates: must be an integer >= 1");
        sw_errs_clear(&errs);
        return;
    }
    assert_null(coord_sampler_new_errs(spec, &errs));
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0], "sampler.n_ei_candidates: must be an integer >= 1");
    sw_errs_clear(&errs);
    sw_spec_destroy(&spec);
}

/* A finite space (3 x 2 = 6 configurations) under random and tpe: a history that
 * holds k configurations gets a 7th proposal outside them, and with all 6 the
 * sampler reports SW_EEXHAUSTED instead of repeating. */
static void test_finite_no_duplicates(void **state)
{
    (void)state;
    static const char *const methods[] = {"random", "tpe"};
    for (int m = 0; m < 2; m++) {
        sw_spec_t *spec = s_spec(methods[m],
                                 "'a':{'type':'categorical','values':['x','y','z']},"
                                 "'b':{'type':'int','low':1,'high':2}", 3);
        coord_sampler_t *s = coord_sampler_new(spec);
        assert_non_null(s);
        coord_sampler_trial_t hist[8];
        char *seen[8];
        int n = 0, err = -1;
        for (; n < 6; n++) {
            cJSON *p = coord_sampler_propose(s, n, hist, (size_t)n, &err);
            assert_non_null(p);
            assert_int_equal(err, 0);
            seen[n] = sw_json_canonical(p);
            for (int k = 0; k < n; k++)
                assert_string_not_equal(seen[k], seen[n]);
            hist[n] = (coord_sampler_trial_t){.number = n, .params = p, .finished = n % 2 == 0,
                                              .value = (double)n};
        }
        assert_null(coord_sampler_propose(s, 6, hist, 6, &err));
        assert_int_equal(err, SW_EEXHAUSTED);
        for (int k = 0; k < n; k++) {
            free(seen[k]);
            cJSON_Delete((cJSON *)hist[k].params);
        }
        coord_sampler_destroy(&s);
        sw_spec_destroy(&spec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_exact_order),
        cmocka_unit_test(test_grid_pima_size_and_types),
        cmocka_unit_test(test_categorical_types_kept),
        cmocka_unit_test(test_random_reproducible),
        cmocka_unit_test(test_random_domains),
        cmocka_unit_test(test_order_independent),
        cmocka_unit_test(test_conditional_grid),
        cmocka_unit_test(test_conditional_grid_large),
        cmocka_unit_test(test_conditional_random),
        cmocka_unit_test(test_tpe_wired),
        cmocka_unit_test(test_tpe_bad_options),
        cmocka_unit_test(test_finite_no_duplicates),
    };
    return cmocka_run_group_tests_name("coord_sampler", tests, NULL, NULL);
}
