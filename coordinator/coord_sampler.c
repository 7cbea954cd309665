/*  coord_sampler.c - grid and random samplers (see coord_sampler.h)
 *
 *  Both samplers are pure functions of (spec, trial number): grid decodes the
 *  number into a grid point (sw_spec_grid_point owns the enumeration order),
 *  random seeds a fresh generator from (spec seed, number). Neither keeps state,
 *  so the proposal of trial n is the same whoever asks, in whatever order, before
 *  or after a coordinator restart. Conditional parameters whose `when` is not
 *  satisfied are left out of the proposal. TPE is not implemented yet:
 *  coord_sampler_new() returns NULL for it.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "coordinator/coord_sampler.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include "common/sw_rng.h"

struct coord_sampler {
    const sw_spec_t *spec;      /* borrowed */
};

coord_sampler_t *coord_sampler_new(const sw_spec_t *spec)
{
    assert(spec);
    if (spec->method != SW_METHOD_GRID && spec->method != SW_METHOD_RANDOM)
        return NULL;
    if (spec->method == SW_METHOD_GRID && spec->grid_size < 0)
        return NULL;    /* validation rejects this; be safe with hand-built specs */
    coord_sampler_t *self = calloc(1, sizeof *self);
    if (self)
        self->spec = spec;
    return self;
}

void coord_sampler_destroy(coord_sampler_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

int64_t coord_sampler_size(const coord_sampler_t *self)
{
    assert(self);
    return self->spec->method == SW_METHOD_GRID ? sw_spec_grid_size(self->spec) : -1;
}

/* Move every active value of VALUES into a new object; NULL on OOM. */
static cJSON *s_collect(const sw_spec_t *spec, cJSON **values, const bool *active)
{
    cJSON *out = cJSON_CreateObject();
    for (int p = 0; out && p < spec->n_params; p++) {
        if (!active[p] || !values[p])
            continue;
        if (!cJSON_AddItemToObject(out, spec->params[p].name, values[p])) {
            cJSON_Delete(out);
            out = NULL;
            break;
        }
        values[p] = NULL;   /* now owned by OUT */
    }
    return out;
}

/* One draw of PARAM from RNG, typed by domain. */
static cJSON *s_draw(const sw_param_t *param, sw_rng_t *rng)
{
    if (param->type == SW_PARAM_CATEGORICAL)
        return sw_param_grid_value(param, (int64_t)sw_rng_below(rng, (uint64_t)param->n_values));
    double lo = param->low, hi = param->high;
    if (param->type == SW_PARAM_INT) {
        if (param->log) {
            /* Uniform in log space over [low - 0.5, high + 0.5], rounded: each
             * integer gets the log-width of its rounding interval (as Optuna's
             * IntDistribution with log=True). */
            double a = log(lo - 0.5), b = log(hi + 0.5);
            double v = nearbyint(exp(a + sw_rng_uniform(rng) * (b - a)));
            return cJSON_CreateNumber(fmin(hi, fmax(lo, v)));
        }
        int64_t n = sw_param_grid_count(param);
        return sw_param_grid_value(param, (int64_t)sw_rng_below(rng, (uint64_t)n));
    }
    if (param->step > 0) {
        int64_t n = sw_param_grid_count(param);
        return sw_param_grid_value(param, (int64_t)sw_rng_below(rng, (uint64_t)n));
    }
    double u = sw_rng_uniform(rng), v;
    if (param->log)
        v = exp(log(lo) + u * (log(hi) - log(lo)));
    else
        v = lo + u * (hi - lo);
    return cJSON_CreateNumber(fmin(hi, fmax(lo, v)));
}

cJSON *coord_sampler_propose(coord_sampler_t *self, int64_t number,
                             const coord_sampler_trial_t *history, size_t n_history,
                             int *err)
{
    assert(self);
    (void)history;
    (void)n_history;
    const sw_spec_t *spec = self->spec;
    int n = spec->n_params;
    int rc = 0;
    cJSON *out = NULL;
    cJSON **values = calloc((size_t)n + 1, sizeof *values);
    bool *active = calloc((size_t)n + 1, sizeof *active);
    int64_t *idx = calloc((size_t)n + 1, sizeof *idx);
    if (!values || !active || !idx) {
        rc = SW_ENOMEM;
        goto done;
    }
    if (spec->method == SW_METHOD_GRID) {
        rc = sw_spec_grid_point(spec, number, idx);
        if (rc < 0)
            goto done;
        for (int p = 0; p < n; p++) {
            active[p] = idx[p] >= 0;
            if (active[p] && !(values[p] = sw_param_grid_value(&spec->params[p], idx[p]))) {
                rc = SW_ENOMEM;
                goto done;
            }
        }
    } else {
        if (number < 0) {
            rc = SW_EINVAL;
            goto done;
        }
        /* Every parameter is drawn, active or not, in name order: the values of
         * the active ones do not depend on which others happen to be active. */
        sw_rng_t rng;
        sw_rng_seed2(&rng, spec->seed, (uint64_t)number);
        for (int p = 0; p < n; p++)
            if (!(values[p] = s_draw(&spec->params[p], &rng))) {
                rc = SW_ENOMEM;
                goto done;
            }
        sw_spec_active(spec, (const cJSON *const *)values, active);
    }
    out = s_collect(spec, values, active);
    if (!out)
        rc = SW_ENOMEM;
done:
    for (int p = 0; values && p < n; p++)
        cJSON_Delete(values[p]);
    free(values);
    free(active);
    free(idx);
    if (err)
        *err = rc;
    return out;
}
