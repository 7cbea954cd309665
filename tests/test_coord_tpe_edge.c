/*  test_coord_tpe_edge.c - the multivariate TPE sampler under hostile but valid inputs
 *
 *  Histories of every size around the startup count and the estimator's
 *  fast-path threshold (256 kernels), degenerate geometry (every trial at one
 *  point, points on the domain's ends, domains 1e-12 and 1e12 wide, log domains
 *  over 24 decades), mixed domains with conditional parameters, NaN and infinite
 *  values, many running trials, 1 and 30 dimensions, both bandwidth rules and
 *  both estimators. Every proposal must lie in its domain, hold exactly the active
 *  parameters, and be the same JSON whatever the history's order and whether the
 *  sampler is new or reused. Two exact equivalences pin the model down: NaN and
 *  infinite trials weigh exactly as running ones (never good), and a history with
 *  every trial given twice (prior_weight doubled) proposes what the single
 *  history does, which compares the all-continuous fast path (>= 256 kernels)
 *  with the full sum it replaces.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_rng.h"
#include "common/sw_spec.h"
#include "coordinator/coord_sampler.h"
#include "coordinator/coord_tpe.h"

/* A spec with the PARAMS object text, DIRECTION, SEED and SAMPLER options (object
 * text or NULL). */
static sw_spec_t *s_spec(const char *params, const char *direction, int seed, const char *sampler)
{
    size_t cap = strlen(params) + (sampler ? strlen(sampler) : 0) + 512;
    char *text = malloc(cap);
    assert_non_null(text);
    snprintf(text, cap,
             "{\"name\":\"t\",\"objective\":{\"metric\":\"v\",\"direction\":\"%s\"},"
             "\"method\":\"tpe\",\"seed\":%d,\"trainer\":{\"type\":\"function\"},"
             "\"parameters\":%s%s%s}",
             direction, seed, params, sampler ? ",\"sampler\":" : "", sampler ? sampler : "");
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(text, strlen(text), NULL, &errs);
    if (!spec) {
        for (size_t i = 0; i < errs.count; i++)
            print_error("spec: %s\n", errs.items[i]);
        fail_msg("spec rejected: %s", text);
    }
    sw_errs_clear(&errs);
    free(text);
    return spec;
}

/* A history that owns its params (and, when given, their numeric views). */
typedef struct {
    coord_sampler_trial_t *t;
    size_t n, cap;
} s_hist_t;

static void s_add(s_hist_t *h, int64_t number, cJSON *params, bool finished, double value)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->t = realloc(h->t, h->cap * sizeof *h->t);
        assert_non_null(h->t);
    }
    h->t[h->n++] = (coord_sampler_trial_t){.number = number, .params = params, .finished = finished,
                                           .value = value};
}

static void s_free(s_hist_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        cJSON_Delete((cJSON *)h->t[i].params);
        free((double *)h->t[i].x);
    }
    free(h->t);
    memset(h, 0, sizeof *h);
}

/* Give every trial of H its numeric view, as the coordinator does. */
static void s_views(const sw_spec_t *spec, s_hist_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->t[i].x)
            continue;
        double *x = malloc(((size_t)spec->n_params + 1) * sizeof *x);
        assert_non_null(x);
        coord_sampler_view(spec, h->t[i].params, x);
        h->t[i].x = x;
    }
}

/* Shuffle H's entries in place (RNG seeded with SEED). */
static void s_shuffle(s_hist_t *h, uint64_t seed)
{
    sw_rng_t rng;
    sw_rng_seed(&rng, seed);
    for (size_t i = h->n; i > 1; i--) {
        size_t j = (size_t)sw_rng_below(&rng, i);
        coord_sampler_trial_t t = h->t[i - 1];
        h->t[i - 1] = h->t[j];
        h->t[j] = t;
    }
}

/* Fail unless P holds exactly SPEC's active parameters, each within its domain:
 * numbers finite and within the inclusive bounds, ints integral on their step
 * lattice, stepped floats on theirs, categoricals a listed value of the same JSON
 * type (sw_param_contains). WHAT names the case in the message. */
static void s_check_domain(const sw_spec_t *spec, const cJSON *p, const char *what)
{
    assert_non_null(p);
    assert_true(cJSON_IsObject(p));
    int np = spec->n_params;
    const cJSON **vals = calloc((size_t)np + 1, sizeof *vals);
    bool *active = calloc((size_t)np + 1, sizeof *active);
    assert_non_null(vals);
    assert_non_null(active);
    int present = 0;
    for (int k = 0; k < np; k++) {
        const sw_param_t *pa = &spec->params[k];
        vals[k] = cJSON_GetObjectItemCaseSensitive(p, pa->name);
        present += vals[k] != NULL;
        if (vals[k] && !sw_param_contains(pa, vals[k])) {
            char *txt = cJSON_PrintUnformatted(vals[k]);
            fail_msg("%s: %s = %s is outside its domain", what, pa->name, txt ? txt : "?");
        }
        if (vals[k] && pa->type == SW_PARAM_INT) {
            double v = vals[k]->valuedouble;
            if (v != floor(v) || fmod(v - pa->low, pa->step > 0 ? pa->step : 1) != 0)
                fail_msg("%s: %s = %.17g is not on its integer lattice", what, pa->name, v);
        }
    }
    assert_int_equal(present, cJSON_GetArraySize(p));      /* no unknown members */
    sw_spec_active(spec, (const cJSON *const *)vals, active);
    for (int k = 0; k < np; k++)
        if (active[k] != (vals[k] != NULL))
            fail_msg("%s: %s is %s but %s", what, spec->params[k].name,
                     vals[k] ? "present" : "absent", active[k] ? "active" : "inactive");
    free(vals);
    free(active);
}

/* The proposal of trial NUMBER by TPE, as compact JSON text (caller frees), after
 * checking it: in its domain; the same from a reused sampler (REUSED, may be NULL)
 * as from a new one; the same with the history shuffled; the same with and without
 * numeric views. H's order and views are changed on return. */
static char *s_propose_checked(const sw_spec_t *spec, coord_tpe_t *reused, s_hist_t *h,
                               int64_t number, const char *what)
{
    coord_tpe_t *fresh = coord_tpe_new(spec, NULL);
    assert_non_null(fresh);
    int err = -1;
    cJSON *p = coord_tpe_propose(fresh, number, h->t, h->n, &err);
    if (!p)
        fail_msg("%s: propose failed (%d)", what, err);
    assert_int_equal(err, 0);
    s_check_domain(spec, p, what);
    char *txt = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    assert_non_null(txt);

    s_shuffle(h, (uint64_t)number * 7919u + h->n);
    s_views(spec, h);
    coord_tpe_t *one = reused ? reused : fresh;
    for (int k = 0; k < 2; k++) {
        p = coord_tpe_propose(k ? fresh : one, number, h->t, h->n, &err);
        assert_non_null(p);
        char *again = cJSON_PrintUnformatted(p);
        if (strcmp(txt, again))
            fail_msg("%s: %s then %s (history shuffled, %s sampler)", what, txt, again,
                     k ? "same" : "reused");
        free(again);
        cJSON_Delete(p);
    }
    coord_tpe_destroy(&fresh);
    return txt;
}

/* Objective of a trial: a smooth function of its numeric parameters (each mapped
 * to [0, 1] of its range, log ranges in log space), plus 0.5 for any categorical
 * at its first value; absent parameters count 0.25. */
static double s_objective(const sw_spec_t *spec, const cJSON *p)
{
    double f = 0;
    for (int k = 0; k < spec->n_params; k++) {
        const sw_param_t *pa = &spec->params[k];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, pa->name);
        if (!v) {
            f += 0.25;
            continue;
        }
        if (pa->type == SW_PARAM_CATEGORICAL) {
            f += sw_json_equal(v, cJSON_GetArrayItem(pa->values, 0)) ? 0.5 : 0.0;
            continue;
        }
        double x = v->valuedouble, lo = pa->low, hi = pa->high;
        if (pa->log) {
            x = log(x);
            lo = log(lo);
            hi = log(hi);
        }
        double u = hi > lo ? (x - lo) / (hi - lo) : 0.0;
        f += (u - 0.3) * (u - 0.3) * (1 + k % 3);
    }
    return f;
}

/* A random configuration of SPEC (inactive parameters dropped); with probability
 * EDGE each numerical parameter sits on one of its domain's ends instead. */
static cJSON *s_random_params(const sw_spec_t *spec, sw_rng_t *rng, double edge)
{
    int np = spec->n_params;
    cJSON **vals = calloc((size_t)np + 1, sizeof *vals);
    bool *active = calloc((size_t)np + 1, sizeof *active);
    assert_non_null(vals);
    assert_non_null(active);
    for (int k = 0; k < np; k++) {
        const sw_param_t *pa = &spec->params[k];
        vals[k] = coord_sampler_draw(pa, rng);
        if (pa->type != SW_PARAM_CATEGORICAL && sw_rng_uniform(rng) < edge) {
            cJSON_Delete(vals[k]);
            int64_t n = sw_param_grid_count(pa);
            vals[k] = sw_rng_uniform(rng) < 0.5 ? cJSON_CreateNumber(pa->low)
                    : n > 0 ? sw_param_grid_value(pa, n - 1)
                            : cJSON_CreateNumber(pa->high);
        }
        assert_non_null(vals[k]);
    }
    sw_spec_active(spec, (const cJSON *const *)vals, active);
    cJSON *p = cJSON_CreateObject();
    for (int k = 0; k < np; k++) {
        if (active[k])
            cJSON_AddItemToObject(p, spec->params[k].name, vals[k]);
        else
            cJSON_Delete(vals[k]);
    }
    free(vals);
    free(active);
    return p;
}

/* A history of N trials numbered 0 .. N - 1: random configurations (a quarter of
 * the numerical values on a domain end), each trial finished with s_objective,
 * except: every 7th pruned, every 11th NaN, every 13th +inf, every 17th -inf,
 * every 19th running. */
static void s_hostile_history(const sw_spec_t *spec, s_hist_t *h, size_t n, uint64_t seed)
{
    sw_rng_t rng;
    sw_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        cJSON *p = s_random_params(spec, &rng, 0.25);
        double v = s_objective(spec, p);
        bool finished = i % 19 != 18;
        if (i % 11 == 10)
            v = NAN;
        else if (i % 13 == 12)
            v = INFINITY;
        else if (i % 17 == 16)
            v = -INFINITY;
        s_add(h, (int64_t)i, p, finished, finished ? v : NAN);
        h->t[h->n - 1].pruned = i % 7 == 6;
    }
}

/* A mixed space: float, log float (1e-12 .. 1e12), int, log int, stepped float,
 * stepped int, a categorical of mixed JSON types, and two conditional parameters
 * (one conditional on the other) that some trials lack. */
static const char s_mixed[] =
    "{\"a\":{\"type\":\"float\",\"low\":-3,\"high\":7},"
    "\"b\":{\"type\":\"float\",\"low\":1e-12,\"high\":1e12,\"log\":true},"
    "\"c\":{\"type\":\"int\",\"low\":-5,\"high\":5},"
    "\"d\":{\"type\":\"int\",\"low\":1,\"high\":100000,\"log\":true},"
    "\"e\":{\"type\":\"float\",\"low\":0.1,\"high\":0.9,\"step\":0.2},"
    "\"f\":{\"type\":\"int\",\"low\":-9,\"high\":21,\"step\":6},"
    "\"g\":{\"type\":\"categorical\",\"values\":[\"x\",1,true,null,2.5,\"1\"]},"
    "\"h\":{\"type\":\"float\",\"low\":0,\"high\":1,\"when\":{\"g\":[\"x\",1,true]}},"
    "\"i\":{\"type\":\"categorical\",\"values\":[false,0],\"when\":{\"e\":[0.1,0.3],\"g\":\"x\"}},"
    "\"j\":{\"type\":\"int\",\"low\":0,\"high\":3,\"when\":{\"i\":false}}}";

/* The sampler option sets every multivariate test runs under. */
static const char *const s_opts[] = {
    NULL,
    "{\"type\":\"tpe\",\"multivariate_bandwidth\":\"optuna\"}",
    "{\"type\":\"tpe\",\"estimator\":\"optuna4\",\"consider_endpoints\":true}",
    "{\"type\":\"tpe\",\"multivariate_bandwidth\":\"optuna\",\"estimator\":\"optuna4\","
    "\"consider_endpoints\":true,\"weights\":\"optuna\"}",
    "{\"type\":\"tpe\",\"consider_endpoints\":true,\"gamma\":1,\"prior_weight\":0.001,"
    "\"n_ei_candidates\":64}",
    "{\"type\":\"tpe\",\"n_startup_trials\":0,\"constant_liar\":false,\"estimator\":\"optuna3.1\"}",
};
enum { S_N_OPTS = sizeof s_opts / sizeof s_opts[0] };

/* Histories of 0, 1, 2, n_startup - 1, n_startup, n_startup + 1, 255, 256, 257 and
 * 3,000 trials on the mixed space, both directions, every option set (at 3,000: one
 * direction, three option sets): every
 * proposal in its domain, independent of the history's order, of the views and of
 * the sampler's cache. */
static void test_mixed_sizes(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 2, 9, 10, 11, 255, 256, 257, 3000};
    for (int o = 0; o < S_N_OPTS; o++) {
        for (int dir = 0; dir < 2; dir++) {
            sw_spec_t *spec = s_spec(s_mixed, dir ? "maximize" : "minimize", 40 + o, s_opts[o]);
            coord_tpe_t *reused = coord_tpe_new(spec, NULL);
            assert_non_null(reused);
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                if (sizes[s] == 3000 && (dir || o % 2))
                    continue;       /* time: three option sets, one direction at 3,000 */
                s_hist_t h = {0};
                s_hostile_history(spec, &h, sizes[s], 1000 + s);
                char what[160];
                snprintf(what, sizeof what, "opts %d, %s, %zu trials", o, dir ? "max" : "min", sizes[s]);
                for (int64_t k = 0; k < (sizes[s] < 3000 ? 2 : 1); k++)
                    free(s_propose_checked(spec, reused, &h, (int64_t)sizes[s] + k * 5, what));
                s_free(&h);
            }
            coord_tpe_destroy(&reused);
            sw_spec_destroy(&spec);
        }
    }
}

/* Build a history entry: a params object of the D values X named x00, x01, ... */
static cJSON *s_point(int D, const double *x)
{
    cJSON *p = cJSON_CreateObject();
    assert_non_null(p);
    for (int d = 0; d < D; d++) {
        char name[16];
        snprintf(name, sizeof name, "x%02d", d);
        assert_non_null(cJSON_AddNumberToObject(p, name, x[d]));
    }
    return p;
}

/* The PARAMS text of D floats x00 .. on [0, HIGH]. */
static char *s_floats(int D, double high)
{
    size_t cap = 64 + (size_t)D * 64;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t at = (size_t)snprintf(t, cap, "{");
    for (int d = 0; d < D; d++)
        at += (size_t)snprintf(t + at, cap - at, "%s\"x%02d\":{\"type\":\"float\",\"low\":0,\"high\":%g}",
                               d ? "," : "", d, high);
    snprintf(t + at, cap - at, "}");
    return t;
}

/* The fast path (>= 256 kernels, all-continuous: only the kernels within 8 sigma
 * of a candidate in the first dimension are visited) proposes what the full sum
 * proposes. No switch turns it off, so the test compares two histories whose
 * estimators are the same mixtures: history A of NB + NG trials, and history B
 * holding every trial of A twice (trial t as 2t and 2t + 1) with prior_weight
 * doubled and gamma such that ceil(gamma n) = NG for A and 2 NG for B. Every
 * kernel of B then has its twin, the pair weighing what the one kernel of A weighs,
 * and the same bandwidths, provided every gap is unchanged by the doubling: the
 * bad trials sit on a lattice finer than the clip's floor (range / 100) in every
 * dimension, so all their bandwidths are the floor; the good ones on a lattice of
 * spacing 1 with the domain's ends (consider_endpoints) and, for Optuna 3.1's
 * estimator, the prior's mean at the centre as neighbours 1 away. The candidates
 * are drawn from the same stream (same trial number) with the same kernels, so the
 * proposals must be equal, unless two candidates' scores tie within rounding.
 * NB = 250 keeps A's bad estimator (251 kernels) below the fast path and puts B's
 * (501) on it; NB = 1490 puts both on it (B: 2,981 kernels). 1, 2 and 5
 * dimensions, both estimators, 25 proposals each. */
static void test_fast_path_equivalence(void **state)
{
    (void)state;
    static const int dims[] = {1, 2, 5};
    static const int nbad[] = {250, 1490};
    const int NG = 10;
    for (int est = 0; est < 2; est++) {
        /* optuna3.1: [0, 12], good at 1..5, 7..11 (the prior at 6); optuna4: the
         * prior is no neighbour, so [0, 11] with good at 1..10 */
        double high = est ? 11 : 12;
        double good[10];
        for (int i = 0; i < NG; i++)
            good[i] = est ? i + 1 : i < 5 ? i + 1 : i + 2;
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
            int D = dims[di];
            char *params = s_floats(D, high);
            for (size_t bi = 0; bi < sizeof nbad / sizeof nbad[0]; bi++) {
                int NB = nbad[bi], n = NB + NG;
                double gamma = (NG - 0.25) / n;     /* ceil(gamma n) = NG, ceil(2 gamma n) = 2 NG */
                char oa[256], ob[256];
                snprintf(oa, sizeof oa, "{\"type\":\"tpe\",\"consider_endpoints\":true,\"gamma\":%.17g,"
                         "\"prior_weight\":2.5,\"estimator\":\"%s\"}", gamma, est ? "optuna4" : "optuna3.1");
                snprintf(ob, sizeof ob, "{\"type\":\"tpe\",\"consider_endpoints\":true,\"gamma\":%.17g,"
                         "\"prior_weight\":5,\"estimator\":\"%s\"}", gamma, est ? "optuna4" : "optuna3.1");
                sw_spec_t *sa = s_spec(params, "minimize", 5 + D, oa);
                sw_spec_t *sb = s_spec(params, "minimize", 5 + D, ob);
                /* per dimension, a permutation of the good and of the bad lattice;
                 * trial numbers a permutation of 0 .. n - 1 */
                sw_rng_t rng;
                sw_rng_seed(&rng, 31 * (uint64_t)D + (uint64_t)NB);
                int *perm = malloc((size_t)(D + 1) * (size_t)n * sizeof *perm);
                assert_non_null(perm);
                for (int d = 0; d <= D; d++) {
                    int *pp = perm + (size_t)d * (size_t)n;
                    int len = d < D ? NB : n;
                    for (int i = 0; i < len; i++)
                        pp[i] = i;
                    for (int i = len - 1; i > 0; i--) {
                        int j = (int)sw_rng_below(&rng, (uint64_t)i + 1);
                        int t = pp[i];
                        pp[i] = pp[j];
                        pp[j] = t;
                    }
                }
                s_hist_t ha = {0}, hb = {0};
                double *x = malloc((size_t)D * sizeof *x);
                double **gx = malloc((size_t)NG * sizeof *gx);
                assert_non_null(x);
                assert_non_null(gx);
                for (int i = 0; i < NG; i++) {
                    gx[i] = malloc((size_t)D * sizeof **gx);
                    assert_non_null(gx[i]);
                }
                /* the good lattice, shuffled per dimension (the good points are not
                 * on the diagonal) */
                for (int d = 0; d < D; d++) {
                    for (int i = NG - 1; i > 0; i--) {
                        int j = (int)sw_rng_below(&rng, (uint64_t)i + 1);
                        double t = good[i];
                        good[i] = good[j];
                        good[j] = t;
                    }
                    for (int i = 0; i < NG; i++)
                        gx[i][d] = good[i];
                }
                for (int i = 0; i < n; i++) {
                    int64_t num = perm[(size_t)D * (size_t)n + (size_t)i];
                    double v;
                    if (i < NG) {
                        memcpy(x, gx[i], (size_t)D * sizeof *x);
                        v = i;
                    } else {
                        for (int d = 0; d < D; d++)
                            x[d] = (perm[(size_t)d * (size_t)n + (size_t)(i - NG)] + 0.5) * high / NB;
                        v = 100 + i;
                    }
                    s_add(&ha, num, s_point(D, x), true, v);
                    s_add(&hb, 2 * num, s_point(D, x), true, v);
                    s_add(&hb, 2 * num + 1, s_point(D, x), true, v);
                }
                s_views(sa, &ha);
                s_views(sb, &hb);
                coord_tpe_t *ta = coord_tpe_new(sa, NULL), *tb = coord_tpe_new(sb, NULL);
                assert_non_null(ta);
                assert_non_null(tb);
                char *first = NULL;
                int differ = 0;
                for (int k = 0; k < 25; k++) {
                    int64_t number = 2 * (int64_t)n + k;
                    int err;
                    cJSON *pa = coord_tpe_propose(ta, number, ha.t, ha.n, &err);
                    cJSON *pb = coord_tpe_propose(tb, number, hb.t, hb.n, &err);
                    assert_non_null(pa);
                    assert_non_null(pb);
                    s_check_domain(sa, pa, "fast path, A");
                    char *ja = cJSON_PrintUnformatted(pa), *jb = cJSON_PrintUnformatted(pb);
                    if (strcmp(ja, jb))
                        fail_msg("%s, D = %d, %d bad trials, trial %lld: the single history "
                                 "proposes %s, the doubled one %s", est ? "optuna4" : "optuna3.1", D,
                                 NB, (long long)number, ja, jb);
                    if (!first)
                        first = ja;
                    else {
                        differ += strcmp(first, ja) != 0;
                        free(ja);
                    }
                    free(jb);
                    cJSON_Delete(pa);
                    cJSON_Delete(pb);
                }
                assert_int_equal(differ, 24);   /* 25 different proposals: not a constant */
                free(first);
                for (int i = 0; i < NG; i++)
                    free(gx[i]);
                free(gx);
                free(x);
                free(perm);
                s_free(&ha);
                s_free(&hb);
                coord_tpe_destroy(&ta);
                coord_tpe_destroy(&tb);
                sw_spec_destroy(&sa);
                sw_spec_destroy(&sb);
            }
            free(params);
        }
    }
}

/* The proposal of trial NUMBER from a new sampler on H, as JSON text (caller
 * frees), checked against SPEC's domains. */
static char *s_propose_text(const sw_spec_t *spec, const s_hist_t *h, int64_t number)
{
    coord_tpe_t *tpe = coord_tpe_new(spec, NULL);
    assert_non_null(tpe);
    int err = -1;
    cJSON *p = coord_tpe_propose(tpe, number, h->t, h->n, &err);
    if (!p)
        fail_msg("propose failed (%d)", err);
    s_check_domain(spec, p, "proposal");
    char *txt = cJSON_PrintUnformatted(p);
    assert_non_null(txt);
    cJSON_Delete(p);
    coord_tpe_destroy(&tpe);
    return txt;
}

/* NaN and infinite values are never good: a history whose non-finite trials (NaN,
 * +inf, -inf, and pruned NaN; -inf would be the best value of a minimisation and
 * +inf of a maximisation if taken as numbers) are turned into running trials
 * proposes exactly the same JSON, since both classes rank after every finite value
 * and neither may enter the good set. gamma = 1, so that every finite trial is
 * good and a non-finite one taken as good would change the good estimator. Mixed
 * space with conditional parameters, both directions, every option set that keeps
 * constant_liar on, 15 finite and 45 non-finite trials, 12 proposals each. */
static void test_nonfinite_never_good(void **state)
{
    (void)state;
    static const char *const opts[] = {
        "{\"type\":\"tpe\",\"gamma\":1,\"n_startup_trials\":0}",
        "{\"type\":\"tpe\",\"gamma\":1,\"n_startup_trials\":0,\"multivariate_bandwidth\":\"optuna\"}",
        "{\"type\":\"tpe\",\"gamma\":1,\"n_startup_trials\":0,\"estimator\":\"optuna4\","
        "\"consider_endpoints\":true}",
        "{\"type\":\"tpe\",\"gamma\":1,\"n_startup_trials\":0,\"multivariate\":false}",
    };
    const double bad[4] = {NAN, INFINITY, -INFINITY, NAN};
    for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
        for (int dir = 0; dir < 2; dir++) {
            sw_spec_t *spec = s_spec(s_mixed, dir ? "maximize" : "minimize", 3, opts[o]);
            sw_rng_t rng;
            sw_rng_seed(&rng, 500 + o);
            /* n_startup_trials 0: a non-finite trial counts as finished for the
             * startup count and a running one does not, which would make a
             * conditional parameter with few finite trials random in one history
             * and modelled in the other */
            s_hist_t ha = {0}, hb = {0};
            for (int t = 0; t < 60; t++) {
                cJSON *p = s_random_params(spec, &rng, 0.2);
                bool finite = t % 4 == 0;
                double v = finite ? s_objective(spec, p) : bad[(t / 4 + t) % 4];
                s_add(&ha, t, cJSON_Duplicate(p, true), true, v);
                ha.t[ha.n - 1].pruned = !finite && t % 4 == 3;
                s_add(&hb, t, p, finite, finite ? v : NAN);
            }
            for (int k = 0; k < 12; k++) {
                char *a = s_propose_text(spec, &ha, 60 + k), *b = s_propose_text(spec, &hb, 60 + k);
                if (strcmp(a, b))
                    fail_msg("%s, %s, trial %d: with non-finite values %s, with them running %s", opts[o],
                             dir ? "maximize" : "minimize", 60 + k, a, b);
                free(a);
                free(b);
            }
            s_free(&ha);
            s_free(&hb);
            sw_spec_destroy(&spec);
        }
    }
}

/* Constant liar with 202 finished trials and 1,818 running ones on a float, a log
 * float and an int: the 30 best finished trials lie in a corner (a in [0.25, 0.4],
 * c = 3) and the running ones crowd into it. With constant_liar off, the proposals
 * are exactly those of the history without the running trials, and at least 15 of
 * 20 land in the corner; with it on, every proposal is in its domain and the same
 * for any history order, and the liars push them out (at most 2 of 20 inside). */
static void test_liar_many_running(void **state)
{
    (void)state;
    const char *params = "{\"a\":{\"type\":\"float\",\"low\":0,\"high\":1},"
                         "\"b\":{\"type\":\"float\",\"low\":1e-6,\"high\":1,\"log\":true},"
                         "\"c\":{\"type\":\"int\",\"low\":0,\"high\":10}}";
    sw_spec_t *off = s_spec(params, "minimize", 8, "{\"type\":\"tpe\",\"constant_liar\":false}");
    sw_spec_t *on = s_spec(params, "minimize", 8, NULL);
    sw_rng_t rng;
    sw_rng_seed(&rng, 4242);
    s_hist_t full = {0}, done = {0};
    for (int t = 0; t < 2020; t++) {
        bool finished = t % 10 == 0;
        double a = sw_rng_uniform(&rng), b = exp(log(1e-6) * sw_rng_uniform(&rng));
        double c = (double)sw_rng_below(&rng, 11);
        if (finished && t / 10 < 30) {  /* the best finished trials: in the corner */
            a = 0.25 + 0.005 * (t / 10);
            c = 3;
        }
        if (!finished) {        /* running, crowded near the finished trials' optimum */
            a = 0.25 + 0.15 * sw_rng_uniform(&rng);
            c = 3;
        }
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "a", a);
        cJSON_AddNumberToObject(p, "b", b);
        cJSON_AddNumberToObject(p, "c", c);
        double v = (a - 0.32) * (a - 0.32) + 0.01 * (c - 3) * (c - 3);
        s_add(&full, t, p, finished, finished ? v : NAN);
        if (finished)
            s_add(&done, t, cJSON_Duplicate(p, true), true, v);
    }
    int crowded_on = 0, crowded_off = 0;
    coord_tpe_t *reused = coord_tpe_new(on, NULL);
    for (int k = 0; k < 20; k++) {
        char *x = s_propose_text(off, &full, 2020 + k), *y = s_propose_text(off, &done, 2020 + k);
        assert_string_equal(x, y);
        cJSON *px = cJSON_Parse(x);
        double a = cJSON_GetObjectItem(px, "a")->valuedouble, c = cJSON_GetObjectItem(px, "c")->valuedouble;
        crowded_off += a >= 0.25 && a <= 0.4 && c == 3;
        cJSON_Delete(px);
        free(x);
        free(y);
        char *z = s_propose_checked(on, reused, &full, 2020 + k, "liar");
        cJSON *pz = cJSON_Parse(z);
        a = cJSON_GetObjectItem(pz, "a")->valuedouble;
        c = cJSON_GetObjectItem(pz, "c")->valuedouble;
        crowded_on += a >= 0.25 && a <= 0.4 && c == 3;
        cJSON_Delete(pz);
        free(z);
    }
    assert_true(crowded_off >= 15);     /* 20 of 20 when written */
    assert_true(crowded_on <= 2);       /* 0 of 20 when written */
    coord_tpe_destroy(&reused);
    s_free(&full);
    s_free(&done);
    sw_spec_destroy(&off);
    sw_spec_destroy(&on);
}

/* Degenerate geometry, at 20, 300 and 3,000 trials (both sides of the fast path):
 * every trial at one point (all gaps zero: every bandwidth at the clip's floor,
 * every kernel on one mean), at the domain's lower corner, at its upper corner,
 * and trials spread over domains 1e-12 wide, 1e12 wide and log domains spanning
 * 1e-12 .. 1e12 with a third of the values exactly on an end. Every option set;
 * each proposal in its domain and the same for any history order. */
static void test_degenerate_geometry(void **state)
{
    (void)state;
    const char *params =
        "{\"n\":{\"type\":\"float\",\"low\":1,\"high\":1.000000000001},"
        "\"w\":{\"type\":\"float\",\"low\":-5e11,\"high\":5e11},"
        "\"l\":{\"type\":\"float\",\"low\":1e-12,\"high\":1e12,\"log\":true},"
        "\"k\":{\"type\":\"int\",\"low\":1,\"high\":1000000000000,\"log\":true},"
        "\"m\":{\"type\":\"int\",\"low\":-1000000000000,\"high\":1000000000000}}";
    static const size_t sizes[] = {20, 300, 3000};
    for (int o = 0; o < S_N_OPTS; o += (o == 0 ? 1 : 2)) {
        sw_spec_t *spec = s_spec(params, "minimize", 77 + o, s_opts[o]);
        coord_tpe_t *reused = coord_tpe_new(spec, NULL);
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            for (int layout = 0; layout < 4; layout++) {
                if (sizes[si] == 3000 && layout != 0)
                    continue;       /* time */
                s_hist_t h = {0};
                sw_rng_t rng;
                sw_rng_seed(&rng, 9 + si);
                for (size_t t = 0; t < sizes[si]; t++) {
                    cJSON *p;
                    if (layout == 0) {          /* one interior point */
                        p = cJSON_Parse("{\"n\":1.0000000000005,\"w\":12345,\"l\":3e-4,\"k\":77,\"m\":-5}");
                    } else if (layout == 1) {   /* the lower corner */
                        p = cJSON_Parse("{\"n\":1,\"w\":-5e11,\"l\":1e-12,\"k\":1,\"m\":-1000000000000}");
                    } else if (layout == 2) {   /* the upper corner */
                        p = cJSON_Parse("{\"n\":1.000000000001,\"w\":5e11,\"l\":1e12,\"k\":1000000000000,"
                                        "\"m\":1000000000000}");
                    } else {                    /* spread, a third on an end */
                        p = s_random_params(spec, &rng, 0.33);
                    }
                    assert_non_null(p);
                    /* values: distinct, so that the ranking is by value, or all
                     * equal for the one-point layouts at odd trials (ties) */
                    double v = layout < 3 && t % 2 ? 1.0 : s_objective(spec, p) + 1e-9 * (double)t;
                    s_add(&h, (int64_t)t, p, true, v);
                }
                char what[96];
                snprintf(what, sizeof what, "opts %d, %zu trials, layout %d", o, sizes[si], layout);
                for (int k = 0; k < 2; k++)
                    free(s_propose_checked(spec, reused, &h, (int64_t)sizes[si] + k, what));
                s_free(&h);
            }
        }
        coord_tpe_destroy(&reused);
        sw_spec_destroy(&spec);
    }
}

/* 30 dimensions (floats, log floats, ints, stepped floats, one categorical), 300
 * trials: the joint estimator over all 30 keeps every proposal in its domain and
 * independent of the history's order, both bandwidth rules; and it still finds
 * the good region: with the best 10% of the trials having every float below 0.2 of
 * its range, at least 9 of 12 proposals have most (>= 20 of 24) floats there
 * (Optuna's bandwidth, 18% of the range here, is too wide for that: at least half
 * of the 288 floats proposed are there, where random search puts a fifth). */
static void test_thirty_dims(void **state)
{
    (void)state;
    char params[8192];
    size_t at = (size_t)snprintf(params, sizeof params, "{");
    for (int d = 0; d < 30; d++) {
        const char *dom = d % 5 == 0 ? "\"type\":\"float\",\"low\":1e-6,\"high\":1,\"log\":true"
                        : d % 5 == 1 ? "\"type\":\"int\",\"low\":0,\"high\":9"
                        : d % 5 == 2 ? "\"type\":\"float\",\"low\":0,\"high\":1,\"step\":0.05"
                        : "\"type\":\"float\",\"low\":0,\"high\":1";
        if (d == 29)
            dom = "\"type\":\"categorical\",\"values\":[\"p\",\"q\",\"r\"]";
        at += (size_t)snprintf(params + at, sizeof params - at, "%s\"x%02d\":{%s}", d ? "," : "", d, dom);
    }
    snprintf(params + at, sizeof params - at, "}");
    static const char *const opts[] = {NULL, "{\"type\":\"tpe\",\"multivariate_bandwidth\":\"optuna\"}"};
    for (int o = 0; o < 2; o++) {
        sw_spec_t *spec = s_spec(params, "minimize", 30, opts[o]);
        coord_tpe_t *reused = coord_tpe_new(spec, NULL);
        sw_rng_t rng;
        sw_rng_seed(&rng, 3030);
        s_hist_t h = {0};
        for (int t = 0; t < 300; t++) {
            cJSON *p = s_random_params(spec, &rng, 0.05);
            double v = 1000 + t;
            if (t % 10 == 0) {      /* good: every float in the lowest fifth */
                for (int d = 0; d < 29; d++) {
                    if (d % 5 == 1)
                        continue;
                    char name[16];
                    snprintf(name, sizeof name, "x%02d", d);
                    double u = 0.2 * sw_rng_uniform(&rng);
                    double x = d % 5 == 0 ? exp(log(1e-6) * (1 - u)) : d % 5 == 2 ? 0.05 * floor(u / 0.05) : u;
                    cJSON_ReplaceItemInObject(p, name, cJSON_CreateNumber(x));
                }
                v = t;
            }
            s_add(&h, t, p, true, v);
        }
        int good = 0, total_low = 0;
        for (int k = 0; k < 12; k++) {
            char *txt = s_propose_checked(spec, reused, &h, 300 + k, "30 dims");
            cJSON *p = cJSON_Parse(txt);
            int low = 0;
            for (int d = 0; d < 29; d++) {
                if (d % 5 == 1)
                    continue;
                char name[16];
                snprintf(name, sizeof name, "x%02d", d);
                double x = cJSON_GetObjectItem(p, name)->valuedouble;
                double u = d % 5 == 0 ? 1 - log(x) / log(1e-6) : x;
                low += u <= 0.2 + 1e-12;
            }
            good += low >= 20;
            total_low += low;
            cJSON_Delete(p);
            free(txt);
        }
        if (o == 0)
            assert_true(good >= 9);         /* 12 of 12 when written */
        else
            assert_true(total_low >= 144);  /* half of 288; random: a fifth */
        coord_tpe_destroy(&reused);
        s_free(&h);
        sw_spec_destroy(&spec);
    }
}

/* A float pinned by low == high (a valid spec) takes no part in the joint kernels:
 * a zero width would make every kernel's bandwidth 0 and every score NaN, so that
 * the first of the 24 candidates always won. History: 40 trials x = -9.5 + 0.47 t,
 * z = 2, value (x - 1.3)^2; trials 40-59 are proposed with the defaults and with
 * n_ei_candidates 1: at most 5 of the 20 may be the same (1 of 20 when z spans
 * [1, 3]), every z is 2, and the defaults' best of the 20 is within 1e-2 of the
 * optimum. Trials with negative numbers are not history (numbers are >= 0): adding
 * some changes nothing. */
static void test_pinned_float(void **state)
{
    (void)state;
    const char *params = "{\"x\":{\"type\":\"float\",\"low\":-10,\"high\":10},"
                         "\"z\":{\"type\":\"float\",\"low\":2,\"high\":2}}";
    sw_spec_t *a = s_spec(params, "minimize", 1, "{\"type\":\"tpe\"}");
    sw_spec_t *b = s_spec(params, "minimize", 1, "{\"type\":\"tpe\",\"n_ei_candidates\":1}");
    coord_tpe_t *ta = coord_tpe_new(a, NULL), *tb = coord_tpe_new(b, NULL);
    assert_non_null(ta);
    assert_non_null(tb);
    s_hist_t h = {0}, hneg = {0};
    for (int i = 0; i < 40; i++) {
        double x = -9.5 + 0.47 * i;
        for (int k = 0; k < 2; k++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "x", x);
            cJSON_AddNumberToObject(p, "z", 2);
            s_add(k ? &hneg : &h, i, p, true, (x - 1.3) * (x - 1.3));
        }
    }
    for (int i = 0; i < 3; i++) {   /* INT64_MIN, -1, and one far below */
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "x", 9.9);
        cJSON_AddNumberToObject(p, "z", 2);
        s_add(&hneg, i == 0 ? INT64_MIN : i == 1 ? -1 : -1000000, p, true, -1e9);
    }
    int same = 0;
    double best = INFINITY;
    for (int k = 0; k < 20; k++) {
        int err = -1;
        cJSON *pa = coord_tpe_propose(ta, 40 + k, h.t, h.n, &err);
        assert_int_equal(err, 0);
        cJSON *pb = coord_tpe_propose(tb, 40 + k, h.t, h.n, &err);
        assert_int_equal(err, 0);
        cJSON *pn = coord_tpe_propose(ta, 40 + k, hneg.t, hneg.n, &err);
        assert_int_equal(err, 0);
        assert_true(cJSON_Compare(pa, pn, true));
        same += cJSON_Compare(pa, pb, true);
        double x = cJSON_GetObjectItemCaseSensitive(pa, "x")->valuedouble;
        assert_true(cJSON_GetObjectItemCaseSensitive(pa, "z")->valuedouble == 2.0);
        best = fmin(best, (x - 1.3) * (x - 1.3));
        cJSON_Delete(pa);
        cJSON_Delete(pb);
        cJSON_Delete(pn);
    }
    assert_true(same <= 5);
    assert_true(best <= 1e-2);
    s_free(&h);
    s_free(&hneg);
    coord_tpe_destroy(&ta);
    coord_tpe_destroy(&tb);
    sw_spec_destroy(&a);
    sw_spec_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_sizes),
        cmocka_unit_test(test_fast_path_equivalence),
        cmocka_unit_test(test_nonfinite_never_good),
        cmocka_unit_test(test_liar_many_running),
        cmocka_unit_test(test_degenerate_geometry),
        cmocka_unit_test(test_thirty_dims),
        cmocka_unit_test(test_pinned_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
