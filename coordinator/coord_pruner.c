/*  coord_pruner.c - median, ASHA, Hyperband and fold pruning (see coord_pruner.h)
 *
 *  State, all keyed by trial number (dense in a sweep): each trial's intermediate
 *  series per fold (sorted by step) with its best value so far, the rungs it has
 *  reached, its fold values and its outcome; and for ASHA/Hyperband the values
 *  recorded at each rung of each bracket. Values are kept as keys, smaller is
 *  better (negated when maximising), non-finite values as +infinity, so every
 *  comparison below is a minimisation and the direction is handled in one place.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_mem.h"
#include "coordinator/coord_pruner.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define S_MAX_RUNGS 48
#define S_MAX_BRACKETS 16

enum { S_NONE, S_MEDIAN, S_ASHA, S_HYPERBAND };
enum { S_RUNNING, S_COMPLETE, S_PRUNED, S_FAILED };

typedef struct {
    int64_t step;
    double key;
} s_pt_t;

typedef struct {
    s_pt_t *pt;                 /* sorted by step */
    size_t n, cap;
    uint64_t rungs;             /* bit k: rung k reached */
} s_series_t;

typedef struct {
    bool known;
    int state;                  /* S_RUNNING ... */
    bool prune_sent;            /* a report was answered prune */
    double key;                 /* final value as a key */
    int n_series;               /* series[fold + 1] */
    s_series_t *series;
    int k;                      /* folds (0 until coord_pruner_fold) */
    double *fold_key;           /* K entries */
    uint8_t *fold_done;
} s_trial_t;

typedef struct {
    double *v;
    size_t n, cap;
} s_vec_t;

struct coord_pruner {
    const sw_spec_t *spec;      /* borrowed */
    int type;
    const char *metric;         /* borrowed from the spec */
    bool maximize;
    int n_startup, n_warmup, interval;
    double min_r, eta, max_r;   /* max_r 0: unbounded */
    int min_esr;
    bool folds;
    int n_brackets;
    s_trial_t *t;               /* by trial number */
    size_t cap;
    int64_t n_complete;
    s_vec_t rung[S_MAX_BRACKETS][S_MAX_RUNGS];
};

coord_pruner_t *coord_pruner_new(const sw_spec_t *spec, sw_errs_t *errs)
{
    assert(spec);
    /* The rules live in sw_spec (one copy): a spec that parsed passes here too. */
    sw_pruner_opts_t o;
    if (sw_spec_pruner_options(spec->pruner, spec->metric, spec->direction, &o, errs) < 0)
        return NULL;
    coord_pruner_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->spec = spec;
    self->type = o.type == SW_PRUNER_MEDIAN ? S_MEDIAN : o.type == SW_PRUNER_ASHA ? S_ASHA
               : o.type == SW_PRUNER_HYPERBAND ? S_HYPERBAND : S_NONE;
    self->metric = o.metric;
    self->maximize = o.direction == SW_DIR_MAXIMIZE;
    self->n_startup = o.n_startup_trials;
    self->n_warmup = o.n_warmup_steps;
    self->interval = o.interval_steps;
    self->min_r = o.min_resource;
    self->eta = o.reduction_factor;
    self->max_r = o.max_resource;
    self->min_esr = o.min_early_stopping_rate;
    self->folds = o.folds;
    self->n_brackets = 1;
    if (self->type == S_HYPERBAND) {
        int b = (int)floor(log(self->max_r / self->min_r) / log(self->eta) + 1e-9) + 1;
        self->n_brackets = b < 1 ? 1 : b > S_MAX_BRACKETS ? S_MAX_BRACKETS : b;
    }
    return self;
}

void coord_pruner_destroy(coord_pruner_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    coord_pruner_t *self = *self_p;
    for (size_t i = 0; i < self->cap; i++) {
        s_trial_t *t = &self->t[i];
        for (int f = 0; f < t->n_series; f++)
            free(t->series[f].pt);
        free(t->series);
        free(t->fold_key);
        free(t->fold_done);
    }
    free(self->t);
    for (int b = 0; b < S_MAX_BRACKETS; b++)
        for (int k = 0; k < S_MAX_RUNGS; k++)
            free(self->rung[b][k].v);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------
 *  Helpers
 */

static double s_key(const coord_pruner_t *self, double v)
{
    if (!isfinite(v))
        return INFINITY;
    return self->maximize ? -v : v;
}

static s_trial_t *s_trial(coord_pruner_t *self, int64_t number)
{
    if (number < 0 || number > (int64_t)1 << 40)
        return NULL;
    if ((size_t)number >= self->cap) {
        size_t cap = self->cap ? self->cap : 64;
        while (cap <= (size_t)number)
            cap *= 2;
        s_trial_t *t = realloc(self->t, cap * sizeof *t);
        if (!t)
            return NULL;
        memset(t + self->cap, 0, (cap - self->cap) * sizeof *t);
        self->t = t;
        self->cap = cap;
    }
    s_trial_t *t = &self->t[number];
    t->known = true;
    return t;
}

static s_series_t *s_series(s_trial_t *t, int fold)
{
    int i = fold + 1;
    if (i < 0 || i > 4096)
        return NULL;
    if (i >= t->n_series) {
        s_series_t *s = realloc(t->series, (size_t)(i + 1) * sizeof *s);
        if (!s)
            return NULL;
        memset(s + t->n_series, 0, (size_t)(i + 1 - t->n_series) * sizeof *s);
        t->series = s;
        t->n_series = i + 1;
    }
    return &t->series[i];
}

/* Index of STEP in S, or -1. */
static ssize_t s_find(const s_series_t *s, int64_t step)
{
    size_t a = 0, b = s->n;
    while (a < b) {
        size_t m = (a + b) / 2;
        if (s->pt[m].step < step)
            a = m + 1;
        else
            b = m;
    }
    return a < s->n && s->pt[a].step == step ? (ssize_t)a : -1;
}

static int s_record(s_series_t *s, int64_t step, double key)
{
    ssize_t at = s_find(s, step);
    if (at >= 0) {
        s->pt[at].key = key;
        return 0;
    }
    if (sw_grow((void **)&s->pt, &s->cap, s->n + 1, sizeof *s->pt, 16))
        return SW_ENOMEM;
    size_t i = s->n;
    while (i > 0 && s->pt[i - 1].step > step) {
        s->pt[i] = s->pt[i - 1];
        i--;
    }
    s->pt[i] = (s_pt_t){step, key};
    s->n++;
    return 0;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of N finite keys V (sorted in place); N > 0. */
static double s_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, s_cmp);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Hyperband bracket of trial NUMBER: weights n_s = ceil(B / (s + 1)) eta^s,
 * bracket b = B - 1 - s, picked by a hash of the number. */
static int s_bracket_of(const coord_pruner_t *self, int64_t number)
{
    if (self->type != S_HYPERBAND || self->n_brackets <= 1)
        return 0;
    int B = self->n_brackets;
    double w[S_MAX_BRACKETS], total = 0;
    for (int b = 0; b < B; b++) {
        int s = B - 1 - b;
        w[b] = ceil((double)B / (s + 1)) * pow(self->eta, s);
        total += w[b];
    }
    uint64_t h = (uint64_t)number * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    double u = (double)(h >> 11) * 0x1p-53 * total;
    for (int b = 0; b < B; b++) {
        if (u < w[b])
            return b;
        u -= w[b];
    }
    return B - 1;
}

/* ---------------------------------------------------------------------------
 *  Decisions
 */

static bool s_median_prune(coord_pruner_t *self, int64_t number, int fold, int64_t step,
                           const s_series_t *me)
{
    if (self->n_complete < self->n_startup || step < self->n_warmup)
        return false;
    if ((step - self->n_warmup) % self->interval)
        return false;
    double best = INFINITY;
    for (size_t i = 0; i < me->n && me->pt[i].step <= step; i++)
        best = me->pt[i].key < best ? me->pt[i].key : best;
    if (best == INFINITY)
        return true;    /* only NaN/infinite values so far */
    double *v = malloc((size_t)self->n_complete * sizeof *v + 1);
    size_t n = 0;
    if (!v)
        return false;
    for (size_t j = 0; j < self->cap && n < (size_t)self->n_complete; j++) {
        const s_trial_t *t = &self->t[j];
        if (!t->known || t->state != S_COMPLETE || (int64_t)j == number || fold + 1 >= t->n_series)
            continue;
        ssize_t at = s_find(&t->series[fold + 1], step);
        if (at >= 0 && isfinite(t->series[fold + 1].pt[at].key))
            v[n++] = t->series[fold + 1].pt[at].key;
    }
    bool prune = n > 0 && best > s_median(v, n);
    free(v);
    return prune;
}

/* ASHA over the rungs of BRACKET: record arrivals at every rung STEP has passed. */
static bool s_asha_prune(coord_pruner_t *self, int bracket, int64_t step, double key, s_series_t *me)
{
    bool prune = false;
    for (int k = 0; k < S_MAX_RUNGS; k++) {
        double r = self->min_r * pow(self->eta, k + self->min_esr + bracket);
        if (r > (double)step || (self->max_r > 0 && r >= self->max_r))
            break;
        if (me->rungs >> k & 1)
            continue;
        me->rungs |= (uint64_t)1 << k;
        s_vec_t *rv = &self->rung[bracket][k];
        if (sw_grow((void **)&rv->v, &rv->cap, rv->n + 1, sizeof *rv->v, 64))
            return false;
        rv->v[rv->n++] = key;
        if (key == INFINITY) {
            prune = true;
            break;
        }
        double *c = malloc(rv->n * sizeof *c);
        if (!c)
            return false;
        memcpy(c, rv->v, rv->n * sizeof *c);
        qsort(c, rv->n, sizeof *c, s_cmp);
        long idx = (long)floor((double)rv->n / self->eta) - 1;   /* eta may be real */
        if (idx < 0)
            idx = 0;
        bool promotable = key <= c[idx];
        free(c);
        if (!promotable) {
            prune = true;
            break;
        }
    }
    return prune;
}

static bool s_report(coord_pruner_t *self, int64_t number, int fold, int64_t step,
                     const cJSON *metrics, bool replay)
{
    assert(self);
    if (self->type == S_NONE || step < 0 || !cJSON_IsObject(metrics))
        return false;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(metrics, self->metric);
    if (!m)
        return false;
    double v = cJSON_IsNumber(m) ? m->valuedouble : NAN;    /* null = NaN on the wire */
    s_trial_t *t = s_trial(self, number);
    s_series_t *s = t ? s_series(t, fold) : NULL;
    if (!s)
        return false;
    if (!replay && t->state != S_RUNNING)
        return false;
    if (t->prune_sent)
        return true;
    double key = s_key(self, v);
    if (s_record(s, step, key) < 0)
        return false;
    bool prune = false;
    if (self->type == S_MEDIAN) {
        prune = s_median_prune(self, number, fold, step, s);
    } else {
        prune = s_asha_prune(self, s_bracket_of(self, number), step, key, s);
        if (self->n_complete < self->n_startup)
            prune = false;      /* the rung arrival is recorded all the same */
    }
    if (prune)
        t->prune_sent = true;
    return prune;
}

bool coord_pruner_report(coord_pruner_t *self, int64_t trial, int fold, int64_t step,
                         const cJSON *metrics)
{
    return s_report(self, trial, fold, step, metrics, false);
}

bool coord_pruner_replay(coord_pruner_t *self, int64_t trial, int fold, int64_t step,
                         const cJSON *metrics)
{
    return s_report(self, trial, fold, step, metrics, true);
}

void coord_pruner_finish(coord_pruner_t *self, int64_t trial, coord_pruner_outcome_t outcome,
                         double value)
{
    assert(self);
    s_trial_t *t = s_trial(self, trial);
    if (!t || t->state != S_RUNNING)
        return;
    t->state = outcome == COORD_PRUNER_COMPLETE ? S_COMPLETE
             : outcome == COORD_PRUNER_PRUNED ? S_PRUNED : S_FAILED;
    t->key = s_key(self, value);
    if (t->state == S_COMPLETE)
        self->n_complete++;
}

bool coord_pruner_fold(coord_pruner_t *self, int64_t trial, int fold, int k, double value)
{
    assert(self);
    if (k < 2 || fold < 0 || fold >= k || k > 4096)
        return false;
    s_trial_t *t = s_trial(self, trial);
    if (!t)
        return false;
    if (t->k != k) {
        double *fk = realloc(t->fold_key, (size_t)k * sizeof *fk);
        uint8_t *fd = fk ? realloc(t->fold_done, (size_t)k) : NULL;
        if (!fk || !fd) {
            t->fold_key = fk;
            return false;
        }
        if (t->k == 0)
            memset(fd, 0, (size_t)k);
        t->fold_key = fk;
        t->fold_done = fd;
        t->k = k;
    }
    /* Fold values are objective values: the objective's direction, not the pruner's. */
    bool maximize = self->spec->direction == SW_DIR_MAXIMIZE;
    t->fold_key[fold] = isfinite(value) ? (maximize ? -value : value) : INFINITY;
    t->fold_done[fold] = 1;
    if (!self->folds || t->state != S_RUNNING)
        return false;
    int done = 0;
    double mine = 0;
    for (int f = 0; f < k; f++)
        if (t->fold_done[f]) {
            done++;
            mine += t->fold_key[f];
        }
    if (done >= k)
        return false;
    mine /= done;
    double *v = malloc(((size_t)self->n_complete + 1) * sizeof *v);
    if (!v)
        return false;
    size_t n = 0;
    for (size_t j = 0; j < self->cap; j++) {
        const s_trial_t *o = &self->t[j];
        if (!o->known || o->state != S_COMPLETE || o->k != k || (int64_t)j == trial)
            continue;
        double sum = 0;
        bool all = true;
        for (int f = 0; f < k && all; f++)
            if (t->fold_done[f]) {
                all = o->fold_done[f] && isfinite(o->fold_key[f]);
                sum += o->fold_key[f];
            }
        if (all)
            v[n++] = sum / done;
    }
    bool prune = false;
    if (n >= (size_t)(self->n_startup > 0 ? self->n_startup : 1))
        prune = mine == INFINITY || mine > s_median(v, n);
    free(v);
    return prune;
}

int64_t coord_pruner_rung_count(const coord_pruner_t *self, int bracket, int rung)
{
    assert(self);
    if (bracket < 0 || bracket >= S_MAX_BRACKETS || rung < 0 || rung >= S_MAX_RUNGS)
        return 0;
    return (int64_t)self->rung[bracket][rung].n;
}

int coord_pruner_bracket(const coord_pruner_t *self, int64_t trial)
{
    assert(self);
    return s_bracket_of(self, trial);
}
