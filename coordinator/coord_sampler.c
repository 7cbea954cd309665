/*  coord_sampler.c - grid and random samplers (see coord_sampler.h)
 *
 *  Both samplers are pure functions of (spec, trial number): grid decodes the
 *  number into a grid point (sw_spec_grid_point owns the enumeration order),
 *  random seeds a fresh generator from (spec seed, number). Neither keeps state,
 *  so the proposal of trial n is the same whoever asks, in whatever order, before
 *  or after a coordinator restart. Conditional parameters whose `when` is not
 *  satisfied are left out of the proposal. TPE (coord_tpe.c) sits behind the same
 *  interface; it shares coord_sampler_draw() for its startup trials. On finite
 *  spaces random and TPE proposals are de-duplicated against the history (a pure
 *  function of it, so resume still proposes what an uninterrupted run would).
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "coordinator/coord_sampler.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>

#include <string.h>

#include "common/sw_rng.h"
#include "coordinator/coord_tpe.h"

#define S_DEDUP_STREAMS 64      /* extra random streams tried for an unseen config */
#define S_DEDUP_SALT 0x6465647570ull

struct coord_sampler {
    const sw_spec_t *spec;      /* borrowed */
    coord_tpe_t *tpe;           /* method tpe: the model (owned) */
};

coord_sampler_t *coord_sampler_new_errs(const sw_spec_t *spec, sw_errs_t *errs)
{
    assert(spec);
    if (spec->method != SW_METHOD_GRID && spec->method != SW_METHOD_RANDOM
        && spec->method != SW_METHOD_TPE)
        return NULL;
    if (spec->method == SW_METHOD_GRID && spec->grid_size < 0)
        return NULL;    /* validation rejects this; be safe with hand-built specs */
    coord_sampler_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->spec = spec;
    if (spec->method == SW_METHOD_TPE && !(self->tpe = coord_tpe_new(spec, errs))) {
        free(self);
        return NULL;
    }
    return self;
}

/* Index of the parameter named NAME (params are sorted by strcmp), or -1. */
static int s_param_index(const sw_spec_t *spec, const char *name)
{
    int a = 0, b = spec->n_params - 1;
    while (a <= b) {
        int m = (a + b) / 2;
        int c = strcmp(name, spec->params[m].name);
        if (!c)
            return m;
        if (c < 0)
            b = m - 1;
        else
            a = m + 1;
    }
    return -1;
}

void coord_sampler_view(const sw_spec_t *spec, const cJSON *params, double *x)
{
    assert(spec && x);
    int np = spec->n_params;
    for (int p = 0; p < np; p++)
        x[p] = NAN;
    /* Stored params usually list names in spec order: try the next expected
     * parameter first, then search. */
    int expect = 0;
    for (const cJSON *it = params ? params->child : NULL; it; it = it->next) {
        if (!it->string)
            continue;
        int p = expect < np && !strcmp(it->string, spec->params[expect].name) ? expect : -1;
        if (p < 0)
            p = s_param_index(spec, it->string);
        if (p < 0)
            continue;
        expect = p + 1;
        const sw_param_t *param = &spec->params[p];
        x[p] = NAN;
        if (param->type == SW_PARAM_CATEGORICAL) {
            int i = 0;
            for (const cJSON *v = param->values ? param->values->child : NULL; v; v = v->next, i++)
                if (sw_json_equal(v, it)) {
                    x[p] = i;
                    break;
                }
        } else if (cJSON_IsNumber(it)) {
            x[p] = it->valuedouble;
        }
    }
}

coord_sampler_t *coord_sampler_new(const sw_spec_t *spec)
{
    return coord_sampler_new_errs(spec, NULL);
}

void coord_sampler_destroy(coord_sampler_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    coord_tpe_destroy(&(*self_p)->tpe);
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

cJSON *coord_sampler_draw(const sw_param_t *param, sw_rng_t *rng)
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

/* Grid point NUMBER, or random trial NUMBER drawn from stream (seed, STREAM). */
static cJSON *s_propose_plain(coord_sampler_t *self, int64_t number, uint64_t seed,
                              uint64_t stream, int *err)
{
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
        sw_rng_seed2(&rng, seed, stream);
        for (int p = 0; p < n; p++)
            if (!(values[p] = coord_sampler_draw(&spec->params[p], &rng))) {
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

/* Canonical texts of the history's configurations, in an open-addressing set. */
typedef struct {
    char **slot;
    size_t cap, n;
} s_set_t;

static uint64_t s_hash(const char *t)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *t; t++)
        h = (h ^ (unsigned char)*t) * 1099511628211ull;
    return h;
}

static bool s_set_has(const s_set_t *set, const char *t)
{
    for (size_t i = s_hash(t) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (!set->slot[i])
            return false;
        if (!strcmp(set->slot[i], t))
            return true;
    }
}

/* Insert T (consumed). */
static void s_set_add(s_set_t *set, char *t)
{
    if (s_set_has(set, t)) {
        free(t);
        return;
    }
    size_t i = s_hash(t) & (set->cap - 1);
    while (set->slot[i])
        i = (i + 1) & (set->cap - 1);
    set->slot[i] = t;
    set->n++;
}

static void s_set_free(s_set_t *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slot[i]);
    free(set->slot);
}

/* Whether P (a proposal) is already in SET; *SEEN_ERR = SW_ENOMEM on OOM. */
static bool s_seen(const s_set_t *set, const cJSON *p, int *seen_err)
{
    char *t = sw_json_canonical(p);
    if (!t) {
        *seen_err = SW_ENOMEM;
        return false;
    }
    bool has = s_set_has(set, t);
    free(t);
    return has;
}

cJSON *coord_sampler_propose(coord_sampler_t *self, int64_t number,
                             const coord_sampler_trial_t *history, size_t n_history,
                             int *err)
{
    assert(self);
    const sw_spec_t *spec = self->spec;
    int rc = 0;
    cJSON *out;
    if (spec->method == SW_METHOD_GRID)
        return s_propose_plain(self, number, spec->seed, (uint64_t)number, err);
    if (number < 0) {
        if (err)
            *err = SW_EINVAL;
        return NULL;
    }
    if (self->tpe)
        out = coord_tpe_propose(self->tpe, number, history, n_history, &rc);
    else
        out = s_propose_plain(self, number, spec->seed, (uint64_t)number, &rc);
    if (!out || spec->grid_size < 0 || spec->grid_size > SW_SPEC_GRID_MAX || n_history == 0) {
        if (err)
            *err = rc;
        return out;
    }
    /* Finite space: no configuration twice, and an end once all were seen. */
    s_set_t set = {0};
    set.cap = 16;
    while (set.cap < 2 * n_history + 2)
        set.cap *= 2;
    set.slot = calloc(set.cap, sizeof *set.slot);
    if (!set.slot) {
        rc = SW_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < n_history; i++) {
        if (!history[i].params || history[i].number == number)
            continue;
        char *t = sw_json_canonical(history[i].params);
        if (!t) {
            rc = SW_ENOMEM;
            goto fail;
        }
        s_set_add(&set, t);
    }
    if ((int64_t)set.n >= spec->grid_size) {
        rc = SW_EEXHAUSTED;
        goto fail;
    }
    if (!s_seen(&set, out, &rc) && rc == 0)
        goto done;
    uint64_t base = sw_rng_mix64(spec->seed ^ S_DEDUP_SALT);
    for (int k = 1; k <= S_DEDUP_STREAMS && rc == 0; k++) {
        cJSON_Delete(out);
        out = s_propose_plain(self, number, base + (uint64_t)k, (uint64_t)number, &rc);
        if (out && !s_seen(&set, out, &rc) && rc == 0)
            goto done;
    }
    for (int64_t g = 0; g < spec->grid_size && rc == 0; g++) {
        cJSON_Delete(out);
        int64_t *idx = calloc((size_t)spec->n_params + 1, sizeof *idx);
        out = NULL;
        if (!idx || sw_spec_grid_point(spec, g, idx) < 0) {
            free(idx);
            rc = SW_ENOMEM;
            break;
        }
        out = cJSON_CreateObject();
        for (int p = 0; out && p < spec->n_params; p++) {
            if (idx[p] < 0)
                continue;
            cJSON *v = sw_param_grid_value(&spec->params[p], idx[p]);
            if (!v || !cJSON_AddItemToObject(out, spec->params[p].name, v)) {
                cJSON_Delete(v);
                cJSON_Delete(out);
                out = NULL;
            }
        }
        free(idx);
        if (!out) {
            rc = SW_ENOMEM;
            break;
        }
        if (!s_seen(&set, out, &rc) && rc == 0)
            goto done;
    }
    if (rc == 0)
        rc = SW_EEXHAUSTED;
fail:
    cJSON_Delete(out);
    out = NULL;
done:
    s_set_free(&set);
    if (err)
        *err = rc;
    return out;
}
