/*  bench_tpe.c - TPE sampler figures: optimisation quality and ask latency
 *
 *  (a) quality: the best value after 50 and 100 trials on the standard test
 *      functions (common/sw_testfn.h), median [25th, 75th percentile] over seeds
 *      0-9, for sweepd's TPE (its defaults, which are multivariate, and univariate)
 *      and random search,
 *      beside Optuna 3.1's TPE measured on the same functions and budget
 *      (../shared/anchors/RESULTS.md, section 3; bench/optuna_tpe.py reruns it).
 *  (b) cost: median milliseconds of one coord_tpe_propose() with 3 float
 *      parameters in [-5, 5], after N completed trials (uniformly random, value a
 *      quadratic), 30 timed proposals each followed by its result (as Optuna's
 *      ask + tell in ../shared/anchors/optuna_tpe_latency.py). Each trial carries
 *      its numeric view (coord_sampler_trial_t.x), filled once when it is added, as
 *      the coordinator does; --json leaves the views out (TPE reads the JSON).
 *
 *  Usage: bench_tpe [quality|latency|all] [--seeds N] [--trials N] [--first-seed N]
 *                   [--tpe-only] [--sampler '"key":value,...'] [--defaults-only] [--cpu]
 *                   [--json] [--values FILE]
 *  --values appends every run's best value to FILE ("function variant seed best").
 *  --first-seed and --sampler serve tuning: options are chosen on seeds other than
 *  the reported 0-9 (docs/SAMPLERS.md), then 0-9 are run once.
 *  Figures, not pass/fail. Exit status 0, or 1 on a setup failure.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sw_clock.h"
#include "common/sw_rng.h"
#include "common/sw_spec.h"
#include "common/sw_testfn.h"
#include "coordinator/coord_sampler.h"
#include "coordinator/coord_tpe.h"

enum { V_TPE, V_TPE_UNI, V_RANDOM, V_COUNT };   /* defaults, "multivariate": false, random */

/* One benchmark problem and Optuna's median best after 100 trials (RESULTS.md 3). */
typedef struct {
    const char *fn;
    int d;
    double optuna_tpe, optuna_tpe_mv, optuna_random;
} s_problem_t;

static const s_problem_t s_problems[] = {
    {"branin", 2, 0.4142, 0.4871, 0.5963},
    {"hartmann6", 6, -3.046, -3.142, -2.037},
    {"rosenbrock", 4, 53.96, 55.91, 1121},
    {"ackley", 5, 7.93, 9.041, 17.11},
    {"styblinski_tang", 5, -166.9, -173.7, -139.6},
    {"levy", 4, 0.2479, 0.3643, 3.096},
};
#define S_NPROB ((int)(sizeof s_problems / sizeof s_problems[0]))

static int s_first_seed;            /* --first-seed: seeds FIRST .. FIRST + seeds - 1 */
static const char *s_extra = "";    /* --sampler: extra "key":value pairs for the tpe object */
static int s_tpe_only;              /* --tpe-only: skip the univariate and random columns */
static const char *s_values;        /* --values FILE: append "function variant seed best"
                                       lines, one per run (variant 0 TPE with its defaults,
                                       1 univariate TPE, 2 random) */

/* A spec with D float parameters x0..x{D-1} over FN's domain (or [-5, 5] when FN is
 * NULL). Caller owns. */
static sw_spec_t *s_spec(const sw_testfn_t *fn, int d, uint64_t seed, int variant)
{
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "{\"name\":\"bench\",\"objective\":{\"metric\":\"value\",\"direction\":\"minimize\"},"
                     "\"method\":\"%s\",\"seed\":%llu,\"trainer\":{\"type\":\"function\"},",
                     variant == V_RANDOM ? "random" : "tpe", (unsigned long long)seed);
    if (variant != V_RANDOM)
        n += snprintf(text + n, sizeof text - (size_t)n, "\"sampler\":{\"type\":\"tpe\"%s%s%s},",
                      variant == V_TPE_UNI ? ",\"multivariate\":false" : "", *s_extra ? "," : "",
                      s_extra);
    n += snprintf(text + n, sizeof text - (size_t)n, "\"parameters\":{");
    for (int i = 0; i < d; i++) {
        double lo = -5, hi = 5;
        if (fn)
            sw_testfn_bounds(fn, i, &lo, &hi);
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "%s\"x%d\":{\"type\":\"float\",\"low\":%.17g,\"high\":%.17g}", i ? "," : "", i,
                      lo, hi);
    }
    snprintf(text + n, sizeof text - (size_t)n, "}}");
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(text, strlen(text), "bench", &errs);
    if (!spec)
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "bench_tpe: %s\n", errs.items[i]);
    sw_errs_clear(&errs);
    return spec;
}

/* A sampler of either kind behind one call. */
typedef struct {
    coord_tpe_t *tpe;
    coord_sampler_t *rnd;
} s_sampler_t;

static cJSON *s_propose(s_sampler_t *s, int64_t number, const coord_sampler_trial_t *h, size_t n)
{
    int err = 0;
    return s->tpe ? coord_tpe_propose(s->tpe, number, h, n, &err)
                  : coord_sampler_propose(s->rnd, number, h, n, &err);
}

static double s_get(const cJSON *params, int i)
{
    char name[16];
    snprintf(name, sizeof name, "x%d", i);
    return cJSON_GetObjectItemCaseSensitive(params, name)->valuedouble;
}

/* One run: TRIALS trials; *B50 and *B100 get the best after 50 and after TRIALS. */
static int s_run(const s_problem_t *pb, int variant, uint64_t seed, int trials, double *b50, double *b100)
{
    const sw_testfn_t *fn = sw_testfn_find(pb->fn);
    sw_spec_t *spec = s_spec(fn, pb->d, seed, variant);
    if (!spec)
        return -1;
    s_sampler_t s = {0};
    if (variant == V_RANDOM)
        s.rnd = coord_sampler_new(spec);
    else
        s.tpe = coord_tpe_new(spec, NULL);
    coord_sampler_trial_t *h = calloc((size_t)trials, sizeof *h);
    double best = INFINITY, x[16];
    for (int t = 0; t < trials; t++) {
        cJSON *p = s_propose(&s, t, h, (size_t)t);
        if (!p) {
            fprintf(stderr, "bench_tpe: propose failed\n");
            return -1;
        }
        for (int i = 0; i < pb->d; i++)
            x[i] = s_get(p, i);
        double v = sw_testfn_eval(fn, x, pb->d);
        h[t] = (coord_sampler_trial_t){.number = t, .params = p, .finished = true, .value = v};
        best = fmin(best, v);
        if (t == 49)
            *b50 = best;
    }
    *b100 = best;
    for (int t = 0; t < trials; t++)
        cJSON_Delete((cJSON *)h[t].params);
    free(h);
    coord_tpe_destroy(&s.tpe);
    coord_sampler_destroy(&s.rnd);
    sw_spec_destroy(&spec);
    return 0;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy's default ('linear') percentile of N sorted values. */
static double s_pct(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

static int s_quality(int seeds, int trials)
{
    printf("(a) quality: best value after %d trials (lower is better), median [25th, 75th] over "
           "seeds %d-%d%s%s\n", trials, s_first_seed, s_first_seed + seeds - 1,
           *s_extra ? ", sampler options " : "", s_extra);
    printf("%-18s %-10s %-30s %-30s %-26s  %s\n", "function", "Optuna TPE", "sweepd TPE",
           "sweepd TPE univariate", "sweepd random", "TPE<=Optuna");
    int wins[V_COUNT] = {0};
    uint64_t t0 = sw_clock_mono_ms();
    for (int k = 0; k < S_NPROB; k++) {
        const s_problem_t *pb = &s_problems[k];
        char label[40], cell[V_COUNT][64];
        snprintf(label, sizeof label, "%s%d", pb->fn, pb->d);
        double med[V_COUNT];
        for (int v = 0; v < V_COUNT; v++) {
            if (s_tpe_only && v != V_TPE) {
                med[v] = NAN;
                snprintf(cell[v], sizeof cell[v], "-");
                continue;
            }
            double *b100 = calloc((size_t)seeds, sizeof *b100), b50;
            for (int s = 0; s < seeds; s++)
                if (s_run(pb, v, (uint64_t)(s_first_seed + s), trials, &b50, &b100[s]) < 0)
                    return -1;
            FILE *vf = s_values ? fopen(s_values, "a") : NULL;
            for (int s = 0; vf && s < seeds; s++)
                fprintf(vf, "%s %d %d %.17g\n", label, v, s_first_seed + s, b100[s]);
            if (vf)
                fclose(vf);
            qsort(b100, (size_t)seeds, sizeof *b100, s_cmp_double);
            med[v] = s_pct(b100, seeds, 0.5);
            snprintf(cell[v], sizeof cell[v], "%.4g [%.4g, %.4g]", med[v], s_pct(b100, seeds, 0.25),
                     s_pct(b100, seeds, 0.75));
            wins[v] += med[v] <= pb->optuna_tpe;
            free(b100);
        }
        printf("%-18s %-10.4g %-30s %-30s %-26s  %s / %s\n", label, pb->optuna_tpe, cell[V_TPE],
               cell[V_TPE_UNI], cell[V_RANDOM], med[V_TPE] <= pb->optuna_tpe ? "yes" : "no",
               med[V_TPE_UNI] <= pb->optuna_tpe ? "yes" : "no");
    }
    printf("functions where the median is at least as good as Optuna's TPE: TPE %d/%d, TPE univariate "
           "%d/%d, random %d/%d  (%.1f s)\n\n", wins[V_TPE], S_NPROB, wins[V_TPE_UNI], S_NPROB,
           wins[V_RANDOM], S_NPROB, (double)(sw_clock_mono_ms() - t0) / 1000.0);
    return 0;
}

static double s_quad(double x, double y, double z)
{
    return (x - 1) * (x - 1) + (y + 2) * (y + 2) + 0.5 * (z - 0.5) * (z - 0.5);
}

static cJSON *s_point(double x, double y, double z)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "x0", x);
    cJSON_AddNumberToObject(o, "x1", y);
    cJSON_AddNumberToObject(o, "x2", z);
    return o;
}

static int s_cpu_time;   /* --cpu: time proposals on the thread's CPU clock */
static int s_json_path;  /* --json: history without numeric views (TPE reads the JSON) */

/* Wall-clock (monotonic) ns, or with --cpu this thread's CPU time in ns: on a
 * shared, loaded machine the CPU time shows the cost without the waits. */
static uint64_t s_now_ns(void)
{
    if (!s_cpu_time)
        return sw_clock_mono_ns();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Median ms per proposal after N completed trials; ASKS timed steps after 1 warm-up. */
static double s_latency(int variant, int n, int asks, double *p90)
{
    sw_spec_t *spec = s_spec(NULL, 3, 1, variant);
    coord_tpe_t *tpe = spec ? coord_tpe_new(spec, NULL) : NULL;
    if (!tpe)
        return NAN;
    size_t cap = (size_t)n + (size_t)asks + 1;
    coord_sampler_trial_t *h = calloc(cap, sizeof *h);
    double *view = calloc(cap * 3, sizeof *view);   /* the trials' numeric views */
    sw_rng_t rng;
    sw_rng_seed(&rng, 12345);
    for (int i = 0; i < n; i++) {
        double x = -5 + 10 * sw_rng_uniform(&rng), y = -5 + 10 * sw_rng_uniform(&rng);
        double z = -5 + 10 * sw_rng_uniform(&rng);
        h[i] = (coord_sampler_trial_t){.number = i, .params = s_point(x, y, z), .finished = true,
                                       .value = s_quad(x, y, z)};
        if (!s_json_path) {
            coord_sampler_view(spec, h[i].params, view + 3 * (size_t)i);
            h[i].x = view + 3 * (size_t)i;
        }
    }
    double *ms = calloc((size_t)asks, sizeof *ms);
    size_t nh = (size_t)n;
    for (int a = 0; a <= asks; a++) {
        int err = 0;
        uint64_t t0 = s_now_ns();
        cJSON *p = coord_tpe_propose(tpe, (int64_t)nh, h, nh, &err);
        uint64_t t1 = s_now_ns();
        if (a > 0)
            ms[a - 1] = (double)(t1 - t0) / 1e6;
        h[nh] = (coord_sampler_trial_t){.number = (int64_t)nh, .params = p, .finished = true,
                                        .value = s_quad(s_get(p, 0), s_get(p, 1), s_get(p, 2))};
        if (!s_json_path) {     /* as the coordinator: the view is filled once per trial */
            coord_sampler_view(spec, p, view + 3 * nh);
            h[nh].x = view + 3 * nh;
        }
        nh++;
    }
    qsort(ms, (size_t)asks, sizeof *ms, s_cmp_double);
    double med = s_pct(ms, asks, 0.5);
    *p90 = ms[(int)(0.9 * asks) < asks ? (int)(0.9 * asks) : asks - 1];
    for (size_t i = 0; i < nh; i++)
        cJSON_Delete((cJSON *)h[i].params);
    free(h);
    free(view);
    free(ms);
    coord_tpe_destroy(&tpe);
    sw_spec_destroy(&spec);
    return med;
}

static int s_defaults_only;     /* --defaults-only: skip the univariate latency */

static int s_cost(void)
{
    static const int ns[] = {100, 1000, 5000, 50000};
    static const double optuna[] = {6.2, 21.4, 102.3, NAN}, optuna_mv[] = {5.6, 19.4, 72.6, NAN};
    printf("(b) cost: ms per proposal, 3 float params in [-5, 5], N completed trials "
           "(median of 30 [p90])\n");
    printf("%-8s %-20s %-22s %-16s %-16s\n", "N", "sweepd TPE", "sweepd TPE univariate",
           "Optuna TPE", "Optuna TPE mv");
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        double p90a, p90b;
        double a = s_latency(V_TPE, ns[k], 30, &p90a);
        double b = s_defaults_only ? NAN : s_latency(V_TPE_UNI, ns[k], 30, &p90b);
        char ca[40], cb[40], oa[24], ob[24];
        snprintf(ca, sizeof ca, "%.3f [%.3f]", a, p90a);
        if (isnan(b))
            snprintf(cb, sizeof cb, "-");
        else
            snprintf(cb, sizeof cb, "%.3f [%.3f]", b, p90b);
        snprintf(oa, sizeof oa, isnan(optuna[k]) ? "-" : "%.1f", optuna[k]);
        snprintf(ob, sizeof ob, isnan(optuna_mv[k]) ? "-" : "%.1f", optuna_mv[k]);
        printf("%-8d %-20s %-22s %-16s %-16s\n", ns[k], ca, cb, oa, ob);
        fflush(stdout);
    }
    printf("(Optuna 3.1 in memory, ask + 3 suggest_float, ../shared/anchors/RESULTS.md section 2)\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = "all";
    int seeds = 10, trials = 100;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            seeds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--first-seed") && i + 1 < argc)
            s_first_seed = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sampler") && i + 1 < argc)
            s_extra = argv[++i];
        else if (!strcmp(argv[i], "--values") && i + 1 < argc)
            s_values = argv[++i];
        else if (!strcmp(argv[i], "--tpe-only"))
            s_tpe_only = 1;
        else if (!strcmp(argv[i], "--cpu"))
            s_cpu_time = 1;
        else if (!strcmp(argv[i], "--json"))
            s_json_path = 1;
        else if (!strcmp(argv[i], "--defaults-only"))
            s_defaults_only = 1;
        else if (!strcmp(argv[i], "--trials") && i + 1 < argc)
            trials = atoi(argv[++i]);
        else if (!strcmp(argv[i], "quality") || !strcmp(argv[i], "latency") || !strcmp(argv[i], "all"))
            what = argv[i];
        else {
            fprintf(stderr, "usage: bench_tpe [quality|latency|all] [--seeds N] [--trials N] "
                            "[--defaults-only] [--cpu] [--json] [--first-seed N] [--tpe-only]\n"
                            "                 [--values FILE]\n"
                            "                 [--sampler '\"key\":value,...']\n");
            return 2;
        }
    }
    if (seeds < 1 || trials < 50) {
        fprintf(stderr, "bench_tpe: --seeds must be >= 1 and --trials >= 50\n");
        return 2;
    }
    printf("== sweepd TPE sampler bench\n\n");
    if (strcmp(what, "latency") && s_quality(seeds, trials) < 0)
        return 1;
    if (strcmp(what, "quality"))
        s_cost();
    return 0;
}
