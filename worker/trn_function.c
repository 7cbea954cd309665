/*  trn_function.c - the function trainer (see trn_function.h)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/trn_function.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/sw_rng.h"
#include "common/sw_testfn.h"
#include "worker/trn_metrics.h"

#define S_MAX_DIMS 64

static int s_fail(char *err, size_t errlen, const char *msg, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, msg, what);
    return -1;
}

static bool s_int_field(const cJSON *o, const char *key, int min, int max, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min
        || v->valuedouble > max)
        return false;
    *out = (int)v->valuedouble;
    return true;
}

int trn_function_run(const cJSON *trainer, const cJSON *params, trn_report_fn *report, void *arg,
                     char *err, size_t errlen)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(trainer, "name");
    if (!cJSON_IsString(name))
        return s_fail(err, errlen, "trainer.name: %s", "must be a string naming a test function");
    const sw_testfn_t *fn = sw_testfn_find(name->valuestring);
    if (!fn)
        return s_fail(err, errlen, "trainer.name: unknown test function '%s' (known: branin, "
                      "hartmann6, rosenbrock, ackley, styblinski_tang, levy)", name->valuestring);
    int d = fn->dim ? fn->dim : 2, steps = 0, seed = 0;
    if (!s_int_field(trainer, "dims", 1, S_MAX_DIMS, &d) || !sw_testfn_dim_ok(fn, d))
        return s_fail(err, errlen, "trainer.dims: %s", "not a dimension this function allows");
    if (!s_int_field(trainer, "steps", 0, 100000, &steps))
        return s_fail(err, errlen, "trainer.steps: %s", "must be an integer >= 0");
    if (!s_int_field(trainer, "seed", 0, 2147483647, &seed))
        return s_fail(err, errlen, "trainer.seed: %s", "must be an integer >= 0");
    double noise = 0;
    const cJSON *nz = cJSON_GetObjectItemCaseSensitive(trainer, "noise");
    if (nz && (!cJSON_IsNumber(nz) || !(nz->valuedouble >= 0) || !isfinite(nz->valuedouble)))
        return s_fail(err, errlen, "trainer.noise: %s", "must be a finite number >= 0");
    if (nz)
        noise = nz->valuedouble;
    double x[S_MAX_DIMS];
    bool one_based = cJSON_GetObjectItemCaseSensitive(params, "x1") != NULL
                     && (d > 1 || !cJSON_GetObjectItemCaseSensitive(params, "x0"));
    for (int i = 0; i < d; i++) {
        char key[16];
        snprintf(key, sizeof key, "x%d", one_based ? i + 1 : i);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, key);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return s_fail(err, errlen, "params.%s: missing or not a finite number", key);
        x[i] = v->valuedouble;
    }
    double f = sw_testfn_eval(fn, x, d);
    trn_metrics_t m;
    for (int s = 1; s <= steps + 1; s++) {
        bool final = s == steps + 1;
        double v = final ? f : f + (1.0 + fabs(f)) * (double)(steps - s) / (double)steps;
        if (noise > 0) {
            sw_rng_t rng;
            sw_rng_seed2(&rng, (uint64_t)seed, (uint64_t)s);
            v += noise * sw_rng_normal(&rng);
        }
        memset(&m, 0, sizeof m);
        trn_metrics_set(&m, "value", v);
        int rc = report(arg, final ? steps : s, final, &m);
        if (rc < 0)
            return rc;
    }
    return 0;
}
