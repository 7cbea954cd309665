/*  coord_tpe.c - the Tree-structured Parzen Estimator sampler (see coord_tpe.h)
 *
 *  One proposal, step by step (Bergstra et al. 2011, section 4; Optuna 3.1's
 *  TPESampler and _ParzenEstimator as described by Watanabe 2023):
 *
 *    1. The history is flattened once: one row per usable trial, sorted by trial
 *       number (so the input order never matters), with its rank class and signed
 *       value, and one column per parameter holding the value in the model's space
 *       (log for log domains, the index for categoricals, NaN when absent).
 *    2. Until n_startup_trials trials have finished: with startup "lhs", trials
 *       0 .. n_startup_trials - 1 form a Latin hypercube (s_propose_lhs); any other
 *       startup proposal is the random sampler's, drawn from the same stream
 *       sw_rng_seed2(seed, number).
 *    3. For each parameter (univariate) or for the always-active parameters jointly
 *       (multivariate), the trials holding it are split: the best
 *       min(ceil(gamma n), 25) eligible trials are "below" (good), the rest "above".
 *    4. Each side becomes a Parzen estimator: one component per observation,
 *       weighted 1 (weights "uniform") or by Optuna's default_weights (a ramp that
 *       down-weights trials older than the newest 25), plus a prior component (mean at the centre of the
 *       domain, sigma = its width, weight prior_weight). Bandwidths: the larger
 *       distance to a neighbour among the sorted means (prior included;
 *       consider_endpoints = false: the outermost use their inner neighbour), per
 *       parameter and, multivariate (the default), per kernel and dimension
 *       (multivariate_bandwidth "hyperopt"); or, multivariate_bandwidth "optuna",
 *       Optuna's 0.2 n^(-1/(d+4)) (high - low) for every kernel. All are clipped
 *       to [(high - low) / min(100, 1 + n_kernels), high - low] (the "magic clip").
 *       Numerical kernels are normals truncated to the domain; stepped and integer
 *       domains widen the domain by half a step on each side and give each lattice
 *       point the mass of its bin. Categorical kernels put weight 1 + p/k on the
 *       observed value and p/k on every value (p = prior_weight, k = kernels).
 *    5. n_ei_candidates points are drawn from "below"; the one with the largest
 *       log l(x) - log g(x) wins (the first on ties).
 *
 *  Speed (history of n trials): the history is read from the trials' numeric views
 *  (coord_sampler_trial_t.x; JSON only for a trial without one, through the same
 *  coord_sampler_view), into buffers kept from one call to the next (s_buf). The
 *  bad estimator has n components, so the cost is in evaluating g. Each
 *  component's truncation normaliser and log weight are computed once per call;
 *  each parameter's sorted order is kept from one call to the next and only the
 *  new or changed entries are sorted (radix) and merged in (s_column_order); and
 *  components at the clip (the narrowest allowed; multivariate: in the first
 *  dimension) are kept sorted by mean so that a candidate visits only those within
 *  8 sigma of it (univariate: two at a time, s_exp_v2, each lane computing what a
 *  scalar loop would; multivariate: from rows packed in that order, summing the
 *  dimensions until the squared distance passes 64). What is skipped is bounded (its
 *  total is at most exp(-32) times the sum of the narrow components' scaled
 *  weights) and checked against the sum found: when the bound exceeds 2^-24 of
 *  that sum, the full sum is taken instead, so a score is off by less than 6e-8
 *  relative.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "coordinator/coord_tpe.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_rng.h"

#define S_GAMMA_CAP 25          /* Optuna default_gamma: at most 25 good trials */
#define S_FLAT_WEIGHTS 25       /* Optuna default_weights: the newest 25 weigh 1 */
#define S_WINDOW 8.0            /* narrow components farther than this many sigmas
                                   from a candidate are skipped (bounded, checked) */
#define S_SKIP_TOL 0x1p-24      /* skipped mass must be below this fraction of the sum */
#define S_TAIL_Z 8.5            /* Phi(-8.5) < 2^-56: normaliser rounds to 1 beyond */
#define S_WINDOW_MIN_N 256      /* below this many components, always sum them all */
#define S_SQRT1_2 0.70710678118654752440
#define S_LOG_SQRT_2PI 0.91893853320467274178
#define S_TPE_SALT 0x5450455f73616d70ull   /* derives TPE's streams from the seed */
#define S_SLOT_USED 0xfffffffeu /* s_column_order: a cached entry taken */
#define S_SLOT_NONE 0xffffffffu /* s_column_order: no row to take */
#define S_LHS_SALT 0x4c48535f00000000ull   /* plus P: the startup hypercube's streams */

enum { S_CLS_COMPLETE, S_CLS_PRUNED, S_CLS_NONFINITE, S_CLS_RUNNING };

/* Scratch buffers kept from one call to the next (see s_buf), one per use. */
enum {
    S_B_ROWS, S_B_COL, S_B_VIEW,                             /* s_hist_build */
    S_B_IDX, S_B_BELOW, S_B_XB, S_B_XA, S_B_ORDER, S_B_OVAL, /* s_propose_one */
    S_B_RANK, S_B_WB, S_B_WA, S_B_MB, S_B_MA, S_B_RWB, S_B_RWA, S_B_ISBELOW,
    S_B_EL, S_B_EG,                                         /* s_uest_build */
    S_B_POS, S_B_MATCH, S_B_KEPT, S_B_FRESH,                /* s_column_order */
    S_B_KVAL, S_B_FX, S_B_KNUM, S_B_ONUM, S_B_KEYS, S_B_PERM, S_B_TMP,
    S_B_JIDX, S_B_JBELOW, S_B_JXB, S_B_JXA, S_B_JWB, S_B_JWA,   /* s_propose_joint */
    S_B_JSIDE, S_B_JORDB, S_B_JORDA, S_B_JVALB, S_B_JVALA, S_B_JCAND,
    S_B_MEL, S_B_MEG,                                       /* s_mest_build */
    S_B_COUNT
};
enum { S_CONT, S_DISC, S_CAT };

struct coord_tpe {
    const sw_spec_t *spec;      /* borrowed */
    int n_startup;              /* n_startup_trials */
    int n_ei;                   /* n_ei_candidates */
    double gamma;               /* fraction of good trials, capped at S_GAMMA_CAP */
    double prior_weight;
    bool multivariate;
    bool constant_liar;
    bool consider_endpoints;    /* outermost means use their outer gap too */
    bool optuna4;               /* estimator "optuna4": prior not a neighbour for the
                                   bandwidths, densities with their 1/sigma factor */
    bool uniform_weights;       /* weights "uniform" (else Optuna's default_weights) */
    bool lhs_startup;           /* startup "lhs" (else the random sampler's) */
    bool mv_hyperopt;           /* multivariate_bandwidth "hyperopt" (else "optuna") */
    struct s_sorted *sorted;    /* n_params caches of the last call's sorted columns */
    struct {
        void *p;
        size_t cap;             /* bytes */
    } scratch[S_B_COUNT];       /* grow-only buffers, reused by every call (no
                                   allocation, no page faults once the history stops
                                   growing much) */
};

/* One parameter's column as the last proposal sorted it: the trial numbers and
 * model-space values of every trial holding the parameter, ordered by (value,
 * number). A pure speed-up: the next call reuses the entries whose (number, value)
 * it finds again in its own history (compared bit for bit, so nothing about the
 * caller's memory is assumed) and sorts only the rest, so the order it produces is
 * exactly the one a full sort gives. */
typedef struct s_sorted {
    int64_t *num;               /* N trial numbers, in (value, number) order */
    size_t num_cap;             /* bytes allocated at NUM */
    double *val;                /* their values; CAP allocated */
    size_t n, cap;
    double *byn;                /* the same values by trial number: byn[k - byn_lo],
                                   NAN where absent; BYN_N entries (0: none) */
    int64_t byn_lo;
    size_t byn_n, byn_cap;
} s_sorted_t;

/* One usable history entry. */
typedef struct {
    int64_t number;             /* trial number */
    double key;                 /* value, negated when maximising (smaller = better) */
    int cls;                    /* S_CLS_*: rank class, smaller = better */
    const cJSON *params;        /* borrowed */
    const double *x;            /* borrowed numeric view, or NULL: read PARAMS */
} s_row_t;

/* A parameter's domain in the model's space. */
typedef struct {
    int kind;                   /* S_CONT, S_DISC or S_CAT */
    bool log;                   /* model space is log(value) */
    double lo, hi;              /* model-space bounds (discrete: widened half a step) */
    double low, step;           /* discrete: lattice LOW + k STEP, original units */
    int64_t count;              /* discrete: lattice points; categorical: values */
} s_dom_t;

/* ---------------------------------------------------------------------------
 *  Options
 */

coord_tpe_t *coord_tpe_new(const sw_spec_t *spec, sw_errs_t *errs)
{
    assert(spec);
    /* The rules live in sw_spec (one copy): a spec that parsed passes here too. */
    sw_tpe_opts_t o;
    if (sw_spec_tpe_options(spec->sampler, &o, errs) < 0)
        return NULL;
    coord_tpe_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->spec = spec;
    self->n_startup = o.n_startup_trials;
    self->n_ei = o.n_ei_candidates;
    self->gamma = o.gamma;
    self->prior_weight = o.prior_weight;
    self->multivariate = o.multivariate;
    self->constant_liar = o.constant_liar;
    self->consider_endpoints = o.consider_endpoints;
    self->optuna4 = o.estimator == SW_TPE_OPTUNA4;
    self->uniform_weights = o.weights == SW_TPE_WEIGHTS_UNIFORM;
    self->lhs_startup = o.startup == SW_TPE_STARTUP_LHS;
    self->mv_hyperopt = o.mv_bandwidth == SW_TPE_BW_HYPEROPT;
    self->sorted = calloc((size_t)spec->n_params + 1, sizeof *self->sorted);
    if (!self->sorted) {
        free(self);
        return NULL;
    }
    return self;
}

void coord_tpe_destroy(coord_tpe_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    coord_tpe_t *self = *self_p;
    for (int p = 0; p < self->spec->n_params; p++) {
        free(self->sorted[p].num);
        free(self->sorted[p].val);
        free(self->sorted[p].byn);
    }
    for (int b = 0; b < S_B_COUNT; b++)
        free(self->scratch[b].p);
    free(self->sorted);
    free(self);
    *self_p = NULL;
}

/* Scratch buffer SLOT (S_B_*) of at least BYTES, owned by SELF and valid until the
 * next s_buf() call on the same slot; its contents are undefined. NULL on OOM. */
static void *s_buf(coord_tpe_t *self, int slot, size_t bytes)
{
    if (self->scratch[slot].cap < bytes) {
        size_t cap = bytes + bytes / 4 + 64;
        void *p = malloc(cap);
        if (!p)
            return NULL;
        free(self->scratch[slot].p);
        self->scratch[slot].p = p;
        self->scratch[slot].cap = cap;
    }
    return self->scratch[slot].p;
}

/* s_buf() zero-filled. */
static void *s_zbuf(coord_tpe_t *self, int slot, size_t bytes)
{
    void *p = s_buf(self, slot, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

/* ---------------------------------------------------------------------------
 *  Small numerical helpers
 */

/* Phi(b) - Phi(a) for standardised a <= b, without cancellation in the tails. */
static double s_mass(double a, double b)
{
    if (a >= 0)
        return 0.5 * (erfc(a * S_SQRT1_2) - erfc(b * S_SQRT1_2));
    if (b <= 0)
        return 0.5 * (erfc(-b * S_SQRT1_2) - erfc(-a * S_SQRT1_2));
    return 1.0 - 0.5 * erfc(-a * S_SQRT1_2) - 0.5 * erfc(b * S_SQRT1_2);
}

/* exp(X) for -708 <= X <= 0 on two lanes at once (GCC vector extensions: SSE2 on
 * x86-64, generic code elsewhere), inline and branch-free: Cody-Waite reduction
 * X = k ln 2 + r, |r| <= ln 2 / 2, and the degree-12 Taylor polynomial of e^r
 * (truncation error below 2e-16 relative), scaled by 2^k through the exponent
 * bits. Within a few ulps of libm's exp; used where a sum of many kernels is
 * taken, so that it can be unrolled without a call per term. Each lane does the
 * same operations in the same order, so a lane's result does not depend on the
 * other lane. */
typedef double s_v2d __attribute__((vector_size(16)));
typedef int64_t s_v2i __attribute__((vector_size(16)));

static inline s_v2d s_exp_v2(s_v2d x)
{
    const double shift = 0x1.8p52;
    s_v2d k = (x * 1.4426950408889634 + shift) - shift;
    s_v2d r = (x - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    s_v2d p = r * (1.0 / 479001600.0) + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    /* 2^k: k + 2^52 + 1023 is exact and holds k + 1023 in its low mantissa bits,
     * which the shift moves into the exponent field. */
    s_v2i bits = (s_v2i)(k + 0x1.00000000003ffp52) << 52;
    return p * (s_v2d)bits;
}

/* s_exp_v2 on one value. */
static inline double s_exp(double x)
{
    s_v2d v = {x, x};
    return s_exp_v2(v)[0];
}

/* Truncation normaliser of N(mu, sigma) on [lo, hi] (mu inside). Beyond S_TAIL_Z
 * sigmas from both ends the exact value rounds to 1, so it is not computed. */
static double s_norm(double mu, double isig, double lo, double hi)
{
    double a = (lo - mu) * isig, b = (hi - mu) * isig;
    if (a < -S_TAIL_Z && b > S_TAIL_Z)
        return 1.0;
    return s_mass(a, b);
}

/* Optuna's default_weights(n), written to W[0..n): trial order, oldest first. */
static void s_default_weights(size_t n, double *w)
{
    if (n < S_FLAT_WEIGHTS) {
        for (size_t i = 0; i < n; i++)
            w[i] = 1.0;
        return;
    }
    size_t nr = n - S_FLAT_WEIGHTS;     /* numpy.linspace(1/n, 1, nr) */
    double start = 1.0 / (double)n;
    double step = nr > 1 ? (1.0 - start) / (double)(nr - 1) : 0.0;
    for (size_t i = 0; i < nr; i++)
        w[i] = nr > 1 && i == nr - 1 ? 1.0 : start + (double)i * step;
    for (size_t i = nr; i < n; i++)
        w[i] = 1.0;
}

/* The weights of N observations in trial order: all 1 with weights "uniform",
 * Optuna's default_weights with "optuna". */
static void s_weights(const coord_tpe_t *self, size_t n, double *w)
{
    if (!self->uniform_weights) {
        s_default_weights(n, w);
        return;
    }
    for (size_t i = 0; i < n; i++)
        w[i] = 1.0;
}

/* A draw from N(mu, sigma) truncated to [lo, hi], by rejection (acceptance is at
 * least Phi(1) - 1/2 = 0.34 because mu lies inside and sigma <= hi - lo). */
static double s_truncnorm(sw_rng_t *rng, double mu, double sigma, double lo, double hi)
{
    for (int i = 0; i < 200; i++) {
        double x = mu + sigma * sw_rng_normal(rng);
        if (x >= lo && x <= hi)
            return x;
    }
    return fmin(hi, fmax(lo, mu));     /* unreachable in practice (p < 1e-36) */
}

/* Order-preserving 64-bit key of a finite double. */
static inline uint64_t s_dkey(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? ~u : (u | 0x8000000000000000ull);
}

/* Stable sort of N doubles X ascending, returning the permutation in PERM
 * (PERM[i] = original index of the i-th smallest). LSD radix sort on 16-bit digits
 * (passes where every key shares the digit are skipped); TMP: 2N uint64_t and
 * N uint32_t of scratch. */
static void s_argsort(const double *x, size_t n, uint32_t *perm, uint64_t *keys, uint32_t *tmp)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    if (n < 64) {   /* insertion sort: stable */
        for (size_t i = 1; i < n; i++) {
            uint32_t p = perm[i];
            size_t j = i;
            while (j > 0 && x[perm[j - 1]] > x[p]) {
                perm[j] = perm[j - 1];
                j--;
            }
            perm[j] = p;
        }
        return;
    }
    uint64_t *k2 = keys + n;
    for (size_t i = 0; i < n; i++)
        keys[i] = s_dkey(x[i]);
    static const int radix_bits = 8;
    size_t *count = calloc((size_t)1 << radix_bits, sizeof *count);
    if (!count) {   /* fall back to insertion on OOM: slow but correct */
        for (size_t i = 1; i < n; i++) {
            uint32_t p = perm[i];
            size_t j = i;
            while (j > 0 && keys[perm[j - 1]] > keys[p]) {
                perm[j] = perm[j - 1];
                j--;
            }
            perm[j] = p;
        }
        return;
    }
    /* keys[] and perm[] travel together in sorted order. */
    for (int shift = 0; shift < 64; shift += radix_bits) {
        memset(count, 0, sizeof *count << radix_bits);
        for (size_t i = 0; i < n; i++)
            count[(keys[i] >> shift) & 0xff]++;
        if (count[(keys[0] >> shift) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (size_t d = 0; d < ((size_t)1 << radix_bits); d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = count[(keys[i] >> shift) & 0xff]++;
            k2[at] = keys[i];
            tmp[at] = perm[i];
        }
        memcpy(keys, k2, n * sizeof *keys);
        memcpy(perm, tmp, n * sizeof *perm);
    }
    free(count);
}

/* ---------------------------------------------------------------------------
 *  Domains and the history
 */

static void s_domain(const sw_param_t *p, s_dom_t *d)
{
    memset(d, 0, sizeof *d);
    if (p->type == SW_PARAM_CATEGORICAL) {
        d->kind = S_CAT;
        d->count = p->n_values;
        d->lo = 0;
        d->hi = p->n_values - 1;
        return;
    }
    d->log = p->log;
    double step = p->step > 0 ? p->step : (p->type == SW_PARAM_INT ? 1.0 : 0.0);
    if (step <= 0) {
        d->kind = S_CONT;
        d->lo = p->log ? log(p->low) : p->low;
        d->hi = p->log ? log(p->high) : p->high;
        return;
    }
    d->kind = S_DISC;
    d->low = p->low;
    d->step = step;
    d->count = sw_param_grid_count(p);
    double top = p->low + (double)(d->count - 1) * step;
    double lo = p->low - 0.5 * step, hi = top + 0.5 * step;
    if (p->log) {
        lo = lo > 0 ? lo : 0.5 * p->low;
        d->lo = log(lo);
        d->hi = log(hi);
    } else {
        d->lo = lo;
        d->hi = hi;
    }
}

/* Model-space value of V, parameter P's entry in a trial's numeric view
 * (coord_sampler_view: its own units, categorical index), or NAN when V is not a
 * usable value. */
static inline double s_internal(const sw_param_t *p, const s_dom_t *d, double v)
{
    if (d->kind == S_CAT)
        return v;
    if (!(v >= p->low && v <= p->high))
        return NAN;
    return d->log ? log(v) : v;
}

static int s_cmp_row(const void *pa, const void *pb)
{
    const s_row_t *a = pa, *b = pb;
    if (a->number != b->number)
        return a->number < b->number ? -1 : 1;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return 0;
}

/* Whether row A ranks strictly before row B (both eligible: finite values). */
static inline bool s_better(const s_row_t *a, const s_row_t *b)
{
    if (a->cls != b->cls)
        return a->cls < b->cls;
    if (a->key != b->key)
        return a->key < b->key;
    return a->number < b->number;
}

/* The flattened history of one call. */
typedef struct {
    s_row_t *rows;              /* N rows sorted by trial number */
    size_t n;
    size_t n_finished;          /* rows of class COMPLETE, PRUNED or NONFINITE */
    double *col;                /* n_params columns of N model-space values (NAN: absent) */
    double *view;               /* n_params scratch: the view of a trial without one */
} s_hist_t;     /* every array is scratch of the sampler (s_buf) */

static int s_hist_build(coord_tpe_t *self, int64_t number, const coord_sampler_trial_t *history,
                        size_t n_history, s_hist_t *h, const s_dom_t *dom)
{
    const sw_spec_t *spec = self->spec;
    memset(h, 0, sizeof *h);
    h->rows = s_buf(self, S_B_ROWS, (n_history + 1) * sizeof *h->rows);
    if (!h->rows)
        return SW_ENOMEM;
    bool sorted = true;
    for (size_t i = 0; i < n_history; i++) {
        const coord_sampler_trial_t *t = &history[i];
        if (t->number >= number || t->number < 0 || !t->params || t->failed)
            continue;       /* trial numbers are >= 0: others are not history */
        if (!t->finished && !self->constant_liar)
            continue;
        s_row_t *r = &h->rows[h->n];
        r->number = t->number;
        r->params = t->params;
        r->x = t->x;
        if (!t->finished) {
            r->cls = S_CLS_RUNNING;
            r->key = INFINITY;
        } else if (!isfinite(t->value)) {
            r->cls = S_CLS_NONFINITE;
            r->key = INFINITY;
        } else {
            r->cls = t->pruned ? S_CLS_PRUNED : S_CLS_COMPLETE;
            r->key = spec->direction == SW_DIR_MAXIMIZE ? -t->value : t->value;
        }
        h->n_finished += t->finished;
        if (h->n && s_cmp_row(&h->rows[h->n - 1], r) > 0)
            sorted = false;
        h->n++;
    }
    if (!sorted)
        qsort(h->rows, h->n, sizeof *h->rows, s_cmp_row);

    int np = spec->n_params;
    h->col = s_buf(self, S_B_COL, ((size_t)np * h->n + 1) * sizeof *h->col);
    h->view = s_buf(self, S_B_VIEW, ((size_t)np + 1) * sizeof *h->view);
    if (!h->col || !h->view)
        return SW_ENOMEM;
    /* The trials' numeric views (coord_sampler_trial_t.x); a trial without one is
     * read from its JSON through the same function that fills them. */
    for (size_t i = 0; i < h->n; i++) {
        const double *x = h->rows[i].x;
        if (!x) {
            coord_sampler_view(spec, h->rows[i].params, h->view);
            x = h->view;
        }
        for (int p = 0; p < np; p++)
            h->col[(size_t)p * h->n + i] = s_internal(&spec->params[p], &dom[p], x[p]);
    }
    return 0;
}

/* Split the rows listed in IDX (N of them, trial order) into below (good) and above:
 * BELOW[i] is set for the best min(ceil(gamma n), 25, eligible) of them. */
static void s_split(const coord_tpe_t *self, const s_hist_t *h, const uint32_t *idx, size_t n,
                    bool *below)
{
    memset(below, 0, n * sizeof *below);
    double g = ceil(self->gamma * (double)n);
    size_t k = g < S_GAMMA_CAP ? (size_t)g : S_GAMMA_CAP;
    uint32_t best[S_GAMMA_CAP];         /* positions into IDX, best first */
    size_t nb = 0;
    for (size_t i = 0; i < n && k > 0; i++) {
        const s_row_t *r = &h->rows[idx[i]];
        if (r->cls > S_CLS_PRUNED)
            continue;
        if (nb == k && !s_better(r, &h->rows[idx[best[nb - 1]]]))
            continue;
        size_t j = nb < k ? nb++ : nb - 1;
        while (j > 0 && s_better(r, &h->rows[idx[best[j - 1]]])) {
            best[j] = best[j - 1];
            j--;
        }
        best[j] = (uint32_t)i;
    }
    for (size_t j = 0; j < nb; j++)
        below[best[j]] = true;
}

/* Whether (VA, NA) sorts before (VB, NB): values by their radix keys (so -0 before
 * +0, as s_argsort), then trial numbers. */
static inline bool s_before(double va, int64_t na, double vb, int64_t nb)
{
    uint64_t ka = s_dkey(va), kb = s_dkey(vb);
    return ka != kb ? ka < kb : na < nb;
}

/* The N rows listed in IDX (trial order, every one holding parameter P: COL[IDX[i]]
 * is a number) sorted by (value, number): ORDER gets the N row indices and OVAL
 * their values. Reuses the order of the last call (self->sorted[P]) for the rows
 * whose (number, value) it holds, sorts the others and merges, then stores the new
 * order for the next call. The result does not depend on the cache. The passes
 * over rows and over the cached order are sequential; one index array (by trial
 * number) is read at random. Returns 0 or SW_ENOMEM. */
static int s_column_order(coord_tpe_t *self, const s_hist_t *h, int p, const double *col,
                          const uint32_t *idx, size_t n, uint32_t *order, double *oval)
{
    s_sorted_t *c = &self->sorted[p];
    int rc = SW_ENOMEM;
    int64_t lo = n ? h->rows[idx[0]].number : 0, hi = n ? h->rows[idx[n - 1]].number : 0;
    size_t span = n ? (size_t)(hi - lo) + 1 : 0;
    bool dense = n > 0 && span <= 4 * n + 1024;
    bool use_cache = dense && c->n > 0;
    /* slot[num - lo]: for the last row numbered NUM (rows are in trial order), its
     * row index when its value is the cached one, S_SLOT_NONE otherwise;
     * S_SLOT_USED once the cached entry has been taken. One array read at random
     * per cached entry. */
    uint32_t *slot = dense ? s_buf(self, S_B_POS, span * sizeof *slot) : NULL;
    uint8_t *match = s_zbuf(self, S_B_MATCH, n + 1);
    uint32_t *kept = s_buf(self, S_B_KEPT, (n + 1) * sizeof *kept);
    uint32_t *fresh = s_buf(self, S_B_FRESH, (n + 1) * sizeof *fresh);
    double *kval = s_buf(self, S_B_KVAL, (n + 1) * sizeof *kval);
    double *fx = s_zbuf(self, S_B_FX, (n + 1) * sizeof *fx);
    int64_t *knum = s_buf(self, S_B_KNUM, (n + 1) * sizeof *knum);
    int64_t *onum = s_buf(self, S_B_ONUM, (n + 1) * sizeof *onum);
    uint64_t *keys = s_buf(self, S_B_KEYS, (2 * n + 2) * sizeof *keys);
    uint32_t *perm = s_buf(self, S_B_PERM, (n + 1) * sizeof *perm);
    uint32_t *tmp = s_buf(self, S_B_TMP, (n + 1) * sizeof *tmp);
    if ((dense && !slot) || !match || !kept || !fresh || !kval || !fx || !knum || !onum || !keys
        || !perm || !tmp)
        goto done;
    size_t nk = 0;
    if (use_cache) {
        memset(slot, 0xff, span * sizeof *slot);        /* S_SLOT_NONE */
        for (size_t i = 0; i < n; i++) {
            int64_t num = h->rows[idx[i]].number;
            bool m = false;
            if (num >= c->byn_lo && (size_t)(num - c->byn_lo) < c->byn_n) {
                double v = col[idx[i]], w = c->byn[num - c->byn_lo];
                m = !memcmp(&v, &w, sizeof v);
            }
            match[i] = m;
            slot[num - lo] = m ? idx[i] : S_SLOT_NONE;
        }
        for (size_t j = 0; j < c->n; j++) {
            int64_t num = c->num[j];
            if (num < lo || num > hi)
                continue;
            uint32_t r = slot[num - lo];
            if (r >= S_SLOT_USED)
                continue;
            slot[num - lo] = S_SLOT_USED;
            kept[nk] = r;
            kval[nk] = c->val[j];
            knum[nk++] = num;
        }
    }
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t num = h->rows[idx[i]].number;
        bool last = i + 1 == n || h->rows[idx[i + 1]].number != num;
        if (!(use_cache && match[i] && last && slot[num - lo] == S_SLOT_USED)) {
            fresh[nf] = idx[i];
            fx[nf++] = col[idx[i]];
        }
    }
    s_argsort(fx, nf, perm, keys, tmp);     /* stable: ties keep trial order */
    size_t a = 0, b = 0, o = 0;
    while (a < nk || b < nf) {
        bool take_a = b >= nf;
        if (!take_a && a < nk) {
            uint32_t rb = fresh[perm[b]];
            take_a = s_before(kval[a], knum[a], fx[perm[b]], h->rows[rb].number);
        }
        if (take_a) {
            order[o] = kept[a];
            oval[o] = kval[a];
            onum[o++] = knum[a++];
        } else {
            uint32_t rb = fresh[perm[b]];
            order[o] = rb;
            oval[o] = fx[perm[b]];
            onum[o++] = h->rows[rb].number;
            b++;
        }
    }
    /* Store the new order, and the values by trial number when they are dense. */
    {   /* the new order becomes the cache; the old one, scratch */
        void *old = c->num;
        size_t old_cap = c->num_cap;
        c->num = onum;
        c->num_cap = self->scratch[S_B_ONUM].cap;
        self->scratch[S_B_ONUM].p = old;
        self->scratch[S_B_ONUM].cap = old ? old_cap : 0;
    }
    if (c->cap < n + 1) {
        double *nv = realloc(c->val, (n + n / 2 + 16) * sizeof *nv);
        if (!nv)
            goto done;
        c->val = nv;
        c->cap = n + n / 2 + 16;
    }
    memcpy(c->val, oval, n * sizeof *oval);
    c->n = n;
    c->byn_n = 0;
    if (dense) {
        if (c->byn_cap < span) {
            double *nb = realloc(c->byn, (span + span / 2 + 16) * sizeof *nb);
            if (!nb)
                goto done;
            c->byn = nb;
            c->byn_cap = span + span / 2 + 16;
        }
        for (size_t i = 0; i < span; i++)
            c->byn[i] = NAN;
        for (size_t i = 0; i < n; i++)
            c->byn[h->rows[idx[i]].number - lo] = col[idx[i]];
        c->byn_lo = lo;
        c->byn_n = span;
    }
    rc = 0;
done:
    if (rc < 0)
        c->n = 0;
    return rc;
}

/* ---------------------------------------------------------------------------
 *  Univariate numerical Parzen estimator
 */

typedef struct {
    size_t m;                   /* components, prior included */
    size_t n_narrow;            /* components [0, n_narrow) are narrow, sorted by mu */
    double *mu, *isig, *sig;    /* model space */
    double *c;                  /* weight / Z, scaled so that the largest is 1 */
    double *cw;                 /* cumulative weights, for sampling */
    double lcmax;               /* log of the scale of C (normalised weights; cont.:
                                   and - log sqrt(2 pi)) */
    double win;                 /* narrow window half-width, model units */
    double wn;                  /* sum over narrow components of C */
} s_uest_t;

/* The neighbour rule of Optuna's univariate bandwidth (Bergstra et al. 2011, section
 * 4.2) for the mean at position POS of K sorted ones, whose gaps to the previous and
 * the next (a domain end for the outermost) are LEFT and RIGHT: the larger of the
 * two; with consider_endpoints = false, the outermost of K >= 2 take their inner gap. */
static inline double s_neighbour_bw(const coord_tpe_t *self, double left, double right, size_t pos,
                                    size_t k)
{
    if (k >= 2 && !self->consider_endpoints) {
        if (pos == 0)
            return right;
        if (pos + 1 == k)
            return left;
    }
    return left > right ? left : right;
}

/* Build from N observations given sorted by (value, number): MUS (model space) and
 * their raw weights WRAW (Optuna's default_weights by trial order), plus the prior.
 * The arrays live in the sampler's scratch buffer SLOT. */
static int s_uest_build(coord_tpe_t *self, int slot, s_uest_t *e, const s_dom_t *d,
                        const double *mus, const double *wraw, size_t n)
{
    double prior_weight = self->prior_weight;
    size_t m = n + 1;
    memset(e, 0, sizeof *e);
    /* One block: 5 arrays of m doubles, then scratch: ws, t_mu, t_sig, t_w. */
    double *blk = s_buf(self, slot, 9 * m * sizeof *blk);
    if (!blk)
        return SW_ENOMEM;
    e->m = m;
    e->mu = blk;
    e->isig = e->mu + m;
    e->sig = e->isig + m;
    e->c = e->sig + m;
    e->cw = e->c + m;
    double *ws = e->cw + m, *t_mu = ws + m, *t_sig = t_mu + m, *t_w = t_sig + m;

    double lo = d->lo, hi = d->hi, range = hi - lo, centre = 0.5 * (lo + hi);
    double wsum = prior_weight;
    for (size_t i = 0; i < n; i++)
        wsum += wraw[i];
    /* The prior goes after every mean <= the centre (a stable sort of the means
     * followed by the prior would put it there). */
    size_t at = 0;
    {
        size_t a = 0, b = n;
        while (a < b) {
            size_t mid = (a + b) / 2;
            if (mus[mid] <= centre)
                a = mid + 1;
            else
                b = mid;
        }
        at = a;
    }
    double *mu = e->mu, *sig = e->sig;
    memcpy(mu, mus, at * sizeof *mu);
    mu[at] = centre;
    memcpy(mu + at + 1, mus + at, (n - at) * sizeof *mu);
    for (size_t i = 0; i < at; i++)
        ws[i] = wraw[i] / wsum;
    ws[at] = prior_weight / wsum;
    for (size_t i = at; i < n; i++)
        ws[i + 1] = wraw[i] / wsum;
    /* Optuna's univariate bandwidth (s_neighbour_bw), the prior among the means. */
    if (!self->optuna4) {
        for (size_t i = 0; i < m; i++)
            sig[i] = s_neighbour_bw(self, mu[i] - (i ? mu[i - 1] : lo),
                                    (i + 1 < m ? mu[i + 1] : hi) - mu[i], i, m);
    } else {
        /* Optuna 4's _ParzenEstimator: gaps among the observations only (the prior
         * is appended afterwards with sigma = range); the inner-gap rule for the
         * outermost needs at least two observations. */
        for (size_t i = 0; i < n; i++)
            t_sig[i] = s_neighbour_bw(self, mus[i] - (i ? mus[i - 1] : lo),
                                      (i + 1 < n ? mus[i + 1] : hi) - mus[i], i, n);
        memcpy(sig, t_sig, at * sizeof *sig);
        memcpy(sig + at + 1, t_sig + at, (n - at) * sizeof *sig);
    }
    double minsig = range / fmin(100.0, 1.0 + (double)m), maxsig = range;
    for (size_t i = 0; i < m; i++) {
        if (i == at)
            sig[i] = range;     /* the prior */
        sig[i] = sig[i] < minsig ? minsig : sig[i] > maxsig ? maxsig : sig[i];
    }
    /* Narrow components first (stable partition keeps both parts sorted by mu). */
    double thr = m >= S_WINDOW_MIN_N ? minsig * (1.0 + 0x1p-40) : -1.0;   /* the clipped ones */
    size_t nn = 0;
    for (size_t i = 0; i < m; i++)
        nn += sig[i] <= thr;
    {
        size_t a = 0, b = nn;
        for (size_t i = 0; i < m; i++) {
            size_t k = sig[i] <= thr ? a++ : b++;
            t_mu[k] = mu[i];
            t_sig[k] = sig[i];
            t_w[k] = ws[i];
        }
        memcpy(mu, t_mu, m * sizeof *mu);
        memcpy(sig, t_sig, m * sizeof *sig);
        memcpy(ws, t_w, m * sizeof *ws);
    }
    e->n_narrow = nn;
    /* Kernel scores follow Optuna 3.1's _truncnorm.logpdf, which standardises x
     * without the 1/sigma Jacobian: a component scores w phi(z) / Z. This is what
     * Optuna's published TPE figures were measured with, and on the standard test
     * functions it found better points than the normalised density (see
     * docs/SAMPLERS.md). Discrete domains use the bin's probability mass. */
    double cmax = 0, cum = 0, signarrow = 0;
    for (size_t i = 0; i < m; i++) {
        e->isig[i] = 1.0 / sig[i];
        e->c[i] = ws[i] / s_norm(mu[i], e->isig[i], lo, hi);
        if (self->optuna4 && d->kind == S_CONT)
            e->c[i] *= e->isig[i];      /* the normalised density */
        cmax = e->c[i] > cmax ? e->c[i] : cmax;
        cum += ws[i];
        e->cw[i] = cum;
        if (i < nn && sig[i] > signarrow)
            signarrow = sig[i];
    }
    double wn = 0;
    for (size_t i = 0; i < m; i++) {
        e->c[i] /= cmax;
        if (i < nn)
            wn += e->c[i];
    }
    e->lcmax = log(cmax) - (d->kind == S_CONT ? S_LOG_SQRT_2PI : 0.0);
    e->win = S_WINDOW * signarrow;
    e->wn = wn;
    return 0;
}

/* Index of the first of the N sorted values MU that is >= X. */
static size_t s_lower_bound(const double *mu, size_t n, double x)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (mu[mid] < x)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* Index of the first of the N sorted values MU that is > X. */
static size_t s_upper_bound(const double *mu, size_t n, double x)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (mu[mid] <= x)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* Scaled density term of component I: C times the kernel at X (continuous) or its
 * mass on the bin [BLO, BHI] (discrete). */
static inline double s_uterm(const s_uest_t *e, int kind, size_t i, double x, double blo, double bhi)
{
    if (kind == S_CONT) {
        double z = (x - e->mu[i]) * e->isig[i];
        return e->c[i] * exp(-0.5 * z * z);
    }
    return e->c[i] * s_mass((blo - e->mu[i]) * e->isig[i], (bhi - e->mu[i]) * e->isig[i]);
}

/* log density (continuous, at X) or log mass (discrete, of the bin [BLO, BHI]). */
static double s_uest_logpdf(const s_uest_t *e, int kind, double x, double blo, double bhi)
{
    double s = 0;
    size_t a = 0, b = e->n_narrow;
    if (e->n_narrow) {
        double l = kind == S_CONT ? x : blo, r = kind == S_CONT ? x : bhi;
        a = s_lower_bound(e->mu, e->n_narrow, l - e->win);
        b = s_upper_bound(e->mu, e->n_narrow, r + e->win);
    }
    if (kind == S_CONT) {
        /* The narrow components in the window, four independent partial sums
         * (added in a fixed order: the result does not depend on the machine). */
        const double *mu = e->mu, *isig = e->isig, *c = e->c;
        s_v2d v01 = {0, 0}, v23 = {0, 0};     /* lanes (s0, s1) and (s2, s3) */
        size_t i = a;
        for (; i + 4 <= b; i += 4) {
            s_v2d m01, m23, i01, i23, c01, c23;
            memcpy(&m01, mu + i, sizeof m01);
            memcpy(&m23, mu + i + 2, sizeof m23);
            memcpy(&i01, isig + i, sizeof i01);
            memcpy(&i23, isig + i + 2, sizeof i23);
            memcpy(&c01, c + i, sizeof c01);
            memcpy(&c23, c + i + 2, sizeof c23);
            s_v2d z01 = (x - m01) * i01, z23 = (x - m23) * i23;
            v01 += c01 * s_exp_v2(-0.5 * z01 * z01);
            v23 += c23 * s_exp_v2(-0.5 * z23 * z23);
        }
        double s0 = v01[0], s1 = v01[1], s2 = v23[0], s3 = v23[1];
        for (; i < b; i++) {
            double z = (x - mu[i]) * isig[i];
            s0 += c[i] * s_exp(-0.5 * z * z);
        }
        s = (s0 + s1) + (s2 + s3);
    } else {
        for (size_t i = a; i < b; i++)
            s += s_uterm(e, kind, i, x, blo, bhi);
    }
    for (size_t i = e->n_narrow; i < e->m; i++)
        s += s_uterm(e, kind, i, x, blo, bhi);
    bool skipped = a > 0 || b < e->n_narrow;
    if (s > 0x1p-900 && (!skipped || e->wn * exp(-0.5 * S_WINDOW * S_WINDOW) <= S_SKIP_TOL * s))
        return log(s) + e->lcmax;
    /* Exact log-sum-exp over every component. */
    double mx = -INFINITY;
    for (size_t i = 0; i < e->m; i++) {
        double t;
        if (kind == S_CONT) {
            double z = (x - e->mu[i]) * e->isig[i];
            t = log(e->c[i]) - 0.5 * z * z;
        } else {
            t = log(e->c[i]) + log(s_mass((blo - e->mu[i]) * e->isig[i], (bhi - e->mu[i]) * e->isig[i]));
        }
        mx = fmax(mx, t);
    }
    if (!isfinite(mx))
        return -INFINITY;
    s = 0;
    for (size_t i = 0; i < e->m; i++) {
        double t;
        if (kind == S_CONT) {
            double z = (x - e->mu[i]) * e->isig[i];
            t = log(e->c[i]) - 0.5 * z * z;
        } else {
            t = log(e->c[i]) + log(s_mass((blo - e->mu[i]) * e->isig[i], (bhi - e->mu[i]) * e->isig[i]));
        }
        s += exp(t - mx);
    }
    return log(s) + mx + e->lcmax;
}

/* Pick a component index by weight. */
static size_t s_pick(sw_rng_t *rng, const double *cw, size_t m)
{
    double u = sw_rng_uniform(rng) * cw[m - 1];
    size_t i = s_upper_bound(cw, m, u);
    return i < m ? i : m - 1;
}

/* Snap a model-space draw X of a discrete domain to its lattice index. */
static int64_t s_snap(const s_dom_t *d, double x)
{
    double v = d->log ? exp(x) : x;
    double k = nearbyint((v - d->low) / d->step);
    if (k < 0)
        k = 0;
    if (k > (double)(d->count - 1))
        k = (double)(d->count - 1);
    return (int64_t)k;
}

/* Bin edges (model space) of lattice index K. */
static void s_bin(const s_dom_t *d, int64_t k, double *blo, double *bhi)
{
    double v = d->low + (double)k * d->step;
    double a = v - 0.5 * d->step, b = v + 0.5 * d->step;
    if (d->log) {
        a = a > 0 ? log(a) : d->lo;
        b = log(b);
    }
    *blo = fmax(a, d->lo);
    *bhi = fmin(b, d->hi);
}

/* ---------------------------------------------------------------------------
 *  Proposals
 */

/* The random sampler's draw (one function for both: coord_sampler_draw). */
#define s_random_value coord_sampler_draw

/* TPE's own stream for (SALT, NUMBER): SALT = parameter index, or n_params for the
 * joint draws of the multivariate mode. */
static void s_stream(const coord_tpe_t *self, sw_rng_t *rng, uint64_t salt, int64_t number)
{
    uint64_t base = sw_rng_mix64(self->spec->seed ^ S_TPE_SALT) + sw_rng_mix64(salt);
    sw_rng_seed2(rng, base, (uint64_t)number);
}

/* The JSON value of a model-space value X of a numerical parameter. */
static cJSON *s_value_json(const sw_param_t *p, const s_dom_t *d, double x)
{
    if (d->kind == S_DISC) {
        if (p->type == SW_PARAM_INT && p->log) {   /* step 1 (sw_spec), lattice = integers */
            double v = nearbyint(exp(x));
            return cJSON_CreateNumber(fmin(p->high, fmax(p->low, v)));
        }
        return sw_param_grid_value(p, s_snap(d, x));
    }
    double v = d->log ? exp(x) : x;
    return cJSON_CreateNumber(fmin(p->high, fmax(p->low, v)));
}

/* Startup "lhs": parameter P of trial NUMBER (< n_startup) as a Latin hypercube
 * over trials 0 .. n_startup - 1 (McKay, Beckman & Conover, Technometrics 1979):
 * each parameter's domain (model space, so log domains log-uniformly; categoricals
 * by index) is cut into n_startup equal strata, a permutation drawn from the seed
 * and P gives trial NUMBER its stratum, and a uniform draw from the stream of
 * (P, NUMBER) places it inside. Every parameter's first n_startup trials thus cover
 * its range evenly, where independent draws leave gaps. A pure function of (seed,
 * P, NUMBER), like the random sampler, so resume is unaffected. *OUT = the JSON
 * value; returns 0 or SW_ENOMEM. */
static int s_propose_lhs(const coord_tpe_t *self, const s_dom_t *dom, int p, int64_t number,
                         cJSON **out)
{
    const sw_param_t *param = &self->spec->params[p];
    const s_dom_t *d = &dom[p];
    size_t n = (size_t)self->n_startup;
    uint32_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return SW_ENOMEM;
    sw_rng_t rng;
    s_stream(self, &rng, S_LHS_SALT + (uint64_t)p, 0);    /* the permutation: per seed and P */
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {                  /* Fisher-Yates */
        size_t j = (size_t)(sw_rng_uniform(&rng) * (double)(i + 1));
        j = j > i ? i : j;
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    s_stream(self, &rng, S_LHS_SALT + (uint64_t)p, number + 1);
    double u = ((double)perm[number] + sw_rng_uniform(&rng)) / (double)n;
    free(perm);
    if (d->kind == S_CAT) {
        int64_t k = (int64_t)(u * (double)d->count);
        *out = sw_param_grid_value(param, k < d->count ? k : d->count - 1);
    } else {
        double x = d->lo + u * (d->hi - d->lo);
        *out = s_value_json(param, d, fmin(d->hi, fmax(d->lo, x)));
    }
    return *out ? 0 : SW_ENOMEM;
}

/* Categorical: the collapsed mixture q[c] = sum_k w_k p_k(c) over N observations
 * (indices OBS, trial order) plus the uniform prior. */
static void s_cat_probs(const coord_tpe_t *self, const double *obs, size_t n, int C, double *w,
                        double *q)
{
    size_t m = n + 1;
    s_weights(self, n, w);
    double wsum = self->prior_weight;
    for (size_t i = 0; i < n; i++)
        wsum += w[i];
    double base = self->prior_weight / (double)m, norm = 1.0 + (double)C * base;
    double wobs = 0;
    for (int c = 0; c < C; c++)
        q[c] = 0;
    for (size_t i = 0; i < n; i++) {
        q[(int)obs[i]] += w[i] / wsum / norm;
        wobs += w[i] / wsum;
    }
    double flat = self->prior_weight / wsum / C + wobs * base / norm;
    for (int c = 0; c < C; c++)
        q[c] += flat;
}

/* Univariate proposal of parameter P in model space; *OUT = its JSON value. */
static int s_propose_one(coord_tpe_t *self, const s_hist_t *h, const s_dom_t *dom, int p,
                         int64_t number, cJSON **out)
{
    const sw_param_t *param = &self->spec->params[p];
    const s_dom_t *d = &dom[p];
    const double *col = h->col + (size_t)p * h->n;
    sw_rng_t rng;
    s_stream(self, &rng, (uint64_t)p, number);
    int rc = 0;

    uint32_t *idx = s_buf(self, S_B_IDX, (h->n + 1) * sizeof *idx);
    bool *below = s_buf(self, S_B_BELOW, h->n + 1);
    double *xb = s_buf(self, S_B_XB, (h->n + 1) * sizeof *xb);
    double *xa = s_buf(self, S_B_XA, (h->n + 1) * sizeof *xa);
    if (!idx || !below || !xb || !xa) {
        rc = SW_ENOMEM;
        goto done;
    }
    size_t n = 0, nfin = 0;
    for (size_t i = 0; i < h->n; i++)
        if (!isnan(col[i])) {
            idx[n++] = (uint32_t)i;
            nfin += h->rows[i].cls != S_CLS_RUNNING;
        }
    if (nfin < (size_t)self->n_startup) {
        *out = s_random_value(param, &rng);
        rc = *out ? 0 : SW_ENOMEM;
        goto done;
    }
    s_split(self, h, idx, n, below);
    size_t nb = 0, na = 0;
    for (size_t i = 0; i < n; i++) {
        if (below[i])
            xb[nb++] = col[idx[i]];
        else
            xa[na++] = col[idx[i]];
    }

    if (d->kind == S_CAT) {
        int C = (int)d->count;
        double *buf = malloc(((size_t)3 * C + n + 1) * sizeof *buf);
        if (!buf) {
            rc = SW_ENOMEM;
            goto done;
        }
        double *ql = buf, *qg = buf + C, *cum = buf + 2 * C, *w = buf + 3 * C;
        s_cat_probs(self, xb, nb, C, w, ql);
        s_cat_probs(self, xa, na, C, w, qg);
        double c = 0;
        for (int k = 0; k < C; k++)
            cum[k] = (c += ql[k]);
        int best = -1;
        double best_score = -INFINITY;
        for (int j = 0; j < self->n_ei; j++) {
            int k = (int)s_pick(&rng, cum, (size_t)C);
            double sc = log(ql[k]) - log(qg[k]);
            if (best < 0 || sc > best_score) {
                best = k;
                best_score = sc;
            }
        }
        free(buf);
        *out = sw_param_grid_value(param, best);
        rc = *out ? 0 : SW_ENOMEM;
        goto done;
    }

    /* Means sorted by (value, number) for both sides, with Optuna's default
     * weights by trial order within each side. */
    uint32_t *order = s_buf(self, S_B_ORDER, (n + 1) * sizeof *order);
    double *oval = s_buf(self, S_B_OVAL, (n + 1) * sizeof *oval);
    uint32_t *rank = s_buf(self, S_B_RANK, (h->n + 1) * sizeof *rank);
    double *wb = s_buf(self, S_B_WB, (nb + 1) * sizeof *wb);
    double *wa = s_buf(self, S_B_WA, (na + 1) * sizeof *wa);
    double *mb = s_buf(self, S_B_MB, (nb + 1) * sizeof *mb);
    double *ma = s_buf(self, S_B_MA, (na + 1) * sizeof *ma);
    double *rwb = s_buf(self, S_B_RWB, (nb + 1) * sizeof *rwb);
    double *rwa = s_buf(self, S_B_RWA, (na + 1) * sizeof *rwa);
    bool *is_below = s_buf(self, S_B_ISBELOW, h->n + 1);
    s_uest_t el, eg;
    memset(&el, 0, sizeof el);
    memset(&eg, 0, sizeof eg);
    if (!order || !oval || !rank || !wb || !wa || !mb || !ma || !rwb || !rwa || !is_below
        || (rc = s_column_order(self, h, p, col, idx, n, order, oval)) < 0) {
        rc = SW_ENOMEM;
    } else {
        /* Each side's weight of a row depends on its rank in trial order within
         * the side (uniform weights: on nothing, so the ranks are skipped). */
        bool ranked = !self->uniform_weights;
        size_t kb = 0, ka = 0;
        for (size_t i = 0; i < n; i++) {
            is_below[idx[i]] = below[i];
            if (ranked)
                rank[idx[i]] = (uint32_t)(below[i] ? kb++ : ka++);
        }
        s_weights(self, nb, wb);
        s_weights(self, na, wa);
        kb = ka = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t r = order[i];
            if (is_below[r]) {
                mb[kb] = oval[i];
                rwb[kb++] = ranked ? wb[rank[r]] : 1.0;
            } else {
                ma[ka] = oval[i];
                rwa[ka++] = ranked ? wa[rank[r]] : 1.0;
            }
        }
        if ((rc = s_uest_build(self, S_B_EL, &el, d, mb, rwb, nb)) >= 0)
            rc = s_uest_build(self, S_B_EG, &eg, d, ma, rwa, na);
    }
    if (rc < 0)
        goto done;
    double best_x = NAN, best_score = -INFINITY;
    for (int j = 0; j < self->n_ei; j++) {
        size_t k = s_pick(&rng, el.cw, el.m);
        double x = s_truncnorm(&rng, el.mu[k], el.sig[k], d->lo, d->hi);
        double blo = 0, bhi = 0;
        if (d->kind == S_DISC) {
            int64_t li = s_snap(d, x);
            s_bin(d, li, &blo, &bhi);
            double v = d->low + (double)li * d->step;
            x = d->log ? log(v) : v;
        }
        double sc = s_uest_logpdf(&el, d->kind, x, blo, bhi) - s_uest_logpdf(&eg, d->kind, x, blo, bhi);
        if (j == 0 || sc > best_score) {
            best_x = x;
            best_score = sc;
        }
    }
    *out = s_value_json(param, d, best_x);
    rc = *out ? 0 : SW_ENOMEM;
done:
    return rc;
}

/* ---------------------------------------------------------------------------
 *  Multivariate (joint) estimator over the always-active parameters
 */

typedef struct {
    size_t m;                   /* components: observations (trial order), then the prior */
    int D;                      /* joint dimensions */
    double *mu;                 /* m x D, model space (categorical: value index) */
    double *sig, *isig;         /* m x D: each component's bandwidth per dimension (the
                                   prior's row: the domain's width; categorical: 0) */
    double *lc;                 /* m: log weight - sum_d log Z_kd (- log sqrt(2 pi), cont.) */
    double *cw;                 /* m: cumulative weights */
    double *c;                  /* m: exp(lc - lcmax) */
    double *lpm, *lpo;          /* D: categorical log p at the observed / another value */
    double csum;                /* sum of C */
    double lcmax;
    /* All-continuous fast path (s_mest_logpdf): the components whose bandwidth in
     * dimension 0 is the clip's floor, sorted by their mean there, so that a
     * candidate visits only those within S_WINDOW floors of it in that dimension;
     * every other component is visited always. */
    size_t n_narrow, n_wide;
    uint32_t *narrow;           /* n_narrow component indices, by mu[., 0] */
    double *narrow_mu0;         /* their means in dimension 0, ascending */
    double *packed;             /* n_narrow rows of 2 D + 1: the means, the inverse
                                   bandwidths and C of each narrow component, in
                                   the order of NARROW (read in sequence) */
    uint32_t *wide;             /* n_wide component indices (the prior among them) */
    double win;                 /* S_WINDOW x the floor bandwidth of dimension 0 */
} s_mest_t;

/* Bandwidths of dimension DD of the N observations of E (rows 0 .. N - 1) by the
 * neighbour rule of the univariate estimator (s_uest_build): the larger gap to a
 * neighbouring mean, the prior's mean (the centre) among them (estimator "optuna4":
 * not), the domain's ends as the outermost neighbours (consider_endpoints = false:
 * the outermost means take their inner gap), clipped to [MINSIG, range]: E's
 * bandwidths must already hold MINSIG, and only the wider ones are written. ORD and VAL
 * list the observations and their values by (value, trial number). With NARROW, the
 * observations left at MINSIG are appended to E's narrow list, in that order. */
static void s_mest_gaps(const coord_tpe_t *self, s_mest_t *e, const s_dom_t *d, int dd,
                        const uint32_t *ord, const double *val, size_t n, double minsig,
                        bool narrow)
{
    const size_t D = (size_t)e->D;
    double centre = 0.5 * (d->lo + d->hi), range = d->hi - d->lo;
    /* the prior sits after every mean <= the centre, as a stable sort would put it */
    size_t at = self->optuna4 ? n + 1 : s_upper_bound(val, n, centre);
    size_t k = n + (at <= n);           /* neighbours, the prior included */
    for (size_t i = 0; i < n; i++) {
        size_t pos = i + (i >= at);     /* position among the K neighbours */
        double mi = val[i];
        double prev = i == 0 ? d->lo : val[i - 1];
        double next = i + 1 < n ? val[i + 1] : d->hi;
        if (pos == at + 1)
            prev = centre;
        if (pos + 1 == at)
            next = centre;
        double g = s_neighbour_bw(self, mi - prev, next - mi, pos, k);
        if (g > minsig) {       /* the caller set MINSIG everywhere: few are wider */
            g = g > range ? range : g;
            e->sig[(size_t)ord[i] * D + (size_t)dd] = g;
            e->isig[(size_t)ord[i] * D + (size_t)dd] = 1.0 / g;
        } else if (narrow) {
            e->narrow[e->n_narrow] = ord[i];
            e->narrow_mu0[e->n_narrow++] = mi;
        }
    }
}

/* Build from N observations: X is N x D (model space, trial order; it has room for
 * one more row, where the prior's mean is written, and becomes E's means) with raw weights
 * W (N + 1 entries: the last is overwritten with the prior's); JP[d] is the
 * parameter index of dimension d; ORD and VAL (hyperopt bandwidths only, else NULL)
 * are D x N: for each continuous or discrete dimension, the observations' indices
 * and values sorted by (value, trial number). The arrays live in the sampler's
 * scratch buffer SLOT. */
static int s_mest_build(coord_tpe_t *self, int slot, s_mest_t *e, const s_dom_t *dom, const int *jp,
                        int D, double *x, double *w, size_t n, const uint32_t *ord,
                        const double *val)
{
    size_t m = n + 1;
    memset(e, 0, sizeof *e);
    size_t md = m * (size_t)D;
    size_t pw = 2 * (size_t)D + 1;
    double *blk = s_buf(self, slot, (2 * md + 4 * m + 2 * (size_t)D + m * pw) * sizeof *blk
                                    + (3 * m + 1) * sizeof(uint32_t));
    if (!blk)
        return SW_ENOMEM;
    e->m = m;
    e->D = D;
    e->mu = x;
    e->sig = blk;
    e->isig = e->sig + md;
    e->lc = e->isig + md;
    e->cw = e->lc + m;
    e->c = e->cw + m;
    e->narrow_mu0 = e->c + m;
    e->lpm = e->narrow_mu0 + m;
    e->lpo = e->lpm + D;
    e->packed = e->lpo + D;
    e->narrow = (uint32_t *)(e->packed + m * pw);
    e->wide = e->narrow + m;
    /* the all-continuous fast path: narrow components exist at its sizes */
    bool narrow = ord && dom[jp[0]].kind == S_CONT && m >= S_WINDOW_MIN_N;
    w[n] = self->prior_weight;
    double wsum = 0;
    for (size_t k = 0; k < m; k++)
        wsum += w[k];
    double base = self->prior_weight / (double)m;
    for (int dd = 0; dd < D; dd++) {
        const s_dom_t *d = &dom[jp[dd]];
        if (d->kind == S_CAT) {
            double norm = 1.0 + (double)d->count * base;
            e->lpm[dd] = log((1.0 + base) / norm);
            e->lpo[dd] = log(base / norm);
            e->mu[n * (size_t)D + dd] = -1;    /* the prior: uniform */
            for (size_t k = 0; k < m; k++)
                e->sig[k * (size_t)D + dd] = e->isig[k * (size_t)D + dd] = 0;
            continue;
        }
        double range = d->hi - d->lo;
        e->mu[n * (size_t)D + dd] = 0.5 * (d->lo + d->hi);
        double minsig = range / fmin(100.0, 1.0 + (double)m);
        if (ord) {
            double imin = 1.0 / minsig;
            for (size_t k = 0; k < n; k++) {
                e->sig[k * (size_t)D + dd] = minsig;
                e->isig[k * (size_t)D + dd] = imin;
            }
            s_mest_gaps(self, e, d, dd, ord + (size_t)dd * n, val + (size_t)dd * n, n, minsig,
                        narrow && dd == 0);
        } else {
            /* Optuna's multivariate rule: 0.2 n^(-1/(d+4)) range for every kernel. */
            double s = 0.2 * pow(fmax((double)n, 1.0), -1.0 / (D + 4)) * range;
            s = s < minsig ? minsig : s > range ? range : s;
            for (size_t k = 0; k < n; k++) {
                e->sig[k * (size_t)D + dd] = s;
                e->isig[k * (size_t)D + dd] = 1.0 / s;
            }
        }
        e->sig[n * (size_t)D + dd] = range;     /* the prior */
        e->isig[n * (size_t)D + dd] = 1.0 / range;
    }
    /* Most components weigh the same and lie far from the domain's ends (Z = 1), so
     * the logs and exps of the previous component are reused when their inputs are
     * equal: the values are the same as computing each. */
    double lcmax = -INFINITY, c = 0, w_last = NAN, lw_last = 0;
    for (size_t k = 0; k < m; k++) {
        if (w[k] != w_last) {
            w_last = w[k];
            lw_last = log(w[k] / wsum);
        }
        double lc = lw_last;
        const double *isig = e->isig + k * (size_t)D;
        for (int dd = 0; dd < D; dd++) {
            const s_dom_t *d = &dom[jp[dd]];
            if (d->kind == S_CAT) {
                if (k == n)
                    lc -= log((double)d->count);
                continue;
            }
            double z = s_norm(e->mu[k * (size_t)D + dd], isig[dd], d->lo, d->hi);
            if (z != 1.0)
                lc -= log(z);
            if (d->kind == S_CONT) {
                lc -= S_LOG_SQRT_2PI;   /* no 1/sigma: as Optuna 3.1 (see s_uest_build) */
                if (self->optuna4)
                    lc += log(isig[dd]);
            }
        }
        e->lc[k] = lc;
        lcmax = fmax(lcmax, lc);
        c += w[k] / wsum;
        e->cw[k] = c;
    }
    e->lcmax = lcmax;
    e->csum = 0;
    double lc_last = NAN, c_last = 0;
    for (size_t k = 0; k < m; k++) {
        if (e->lc[k] != lc_last) {
            lc_last = e->lc[k];
            c_last = exp(lc_last - lcmax);
        }
        e->csum += e->c[k] = c_last;
    }
    /* The fast path's other list: every component not narrow. */
    if (narrow) {
        bool *is_narrow = (bool *)e->wide;      /* m bytes, before the list is written */
        memset(is_narrow, 0, m);
        for (size_t i = 0; i < e->n_narrow; i++)
            is_narrow[e->narrow[i]] = true;
        uint32_t *tmp = (uint32_t *)(e->wide + m);    /* scratch: m + 1 */
        for (size_t k = 0; k < m; k++)
            if (!is_narrow[k])
                tmp[e->n_wide++] = (uint32_t)k;
        memcpy(e->wide, tmp, e->n_wide * sizeof *tmp);
        for (size_t i = 0; i < e->n_narrow; i++) {
            size_t k = e->narrow[i];
            double *r = e->packed + i * pw;
            const double *mu = e->mu + k * (size_t)D, *isig = e->isig + k * (size_t)D;
            for (int dd = 0; dd < D; dd++) {
                r[dd] = mu[dd];
                r[D + dd] = isig[dd];
            }
            r[2 * D] = e->c[k];
        }
        e->win = S_WINDOW * (dom[jp[0]].hi - dom[jp[0]].lo) / fmin(100.0, 1.0 + (double)m);
    } else {
        for (size_t k = 0; k < m; k++)
            e->wide[e->n_wide++] = (uint32_t)k;
    }
    return 0;
}

/* log-pdf part of component K at X (D values, model space; discrete values are
 * lattice points with bins BLO/BHI), excluding lc. */
static inline double s_mpart(const s_mest_t *e, const s_dom_t *dom, const int *jp, size_t k,
                             const double *x, const double *blo, const double *bhi, bool all_cont)
{
    const double *mu = e->mu + k * (size_t)e->D;
    const double *isig = e->isig + k * (size_t)e->D;
    bool prior = k == e->m - 1;
    double t = 0;
    if (all_cont) {
        for (int dd = 0; dd < e->D; dd++) {
            double z = (x[dd] - mu[dd]) * isig[dd];
            t -= 0.5 * z * z;
        }
        return t;
    }
    for (int dd = 0; dd < e->D; dd++) {
        const s_dom_t *d = &dom[jp[dd]];
        if (d->kind == S_CONT) {
            double z = (x[dd] - mu[dd]) * isig[dd];
            t -= 0.5 * z * z;
        } else if (d->kind == S_DISC) {
            t += log(s_mass((blo[dd] - mu[dd]) * isig[dd], (bhi[dd] - mu[dd]) * isig[dd]));
        } else if (!prior) {
            t += x[dd] == mu[dd] ? e->lpm[dd] : e->lpo[dd];
        }
    }
    return t;
}

/* The scaled kernel of component K at X when its squared Mahalanobis distance is
 * at most LIM (the dimensions are summed until it exceeds LIM), else 0 with
 * *SKIPPED set. */
static inline double s_mterm(const s_mest_t *e, size_t k, const double *x, double lim, bool *skipped)
{
    const int D = e->D;
    const double *mu = e->mu + k * (size_t)D, *isig = e->isig + k * (size_t)D;
    double q = 0;
    for (int dd = 0; dd < D && q <= lim; dd++) {
        double z = (x[dd] - mu[dd]) * isig[dd];
        q += z * z;
    }
    if (q > lim) {
        *skipped = true;
        return 0;
    }
    return e->c[k] * s_exp(-0.5 * q);
}

static double s_mest_logpdf(const s_mest_t *e, const s_dom_t *dom, const int *jp, const double *x,
                            const double *blo, const double *bhi, bool all_cont)
{
    double s = 0;
    if (all_cont) {
        /* Components farther than S_WINDOW (Mahalanobis) are skipped: their total
         * is at most csum exp(-S_WINDOW^2 / 2), checked against the sum below. The
         * narrow ones outside the window in dimension 0 are farther than that. */
        const double lim = S_WINDOW * S_WINDOW;
        bool skipped = false;
        if (e->n_narrow) {
            size_t a = s_lower_bound(e->narrow_mu0, e->n_narrow, x[0] - e->win);
            size_t b = s_upper_bound(e->narrow_mu0, e->n_narrow, x[0] + e->win);
            skipped = a > 0 || b < e->n_narrow;
            const int D = e->D;
            const size_t pw = 2 * (size_t)D + 1;
            for (size_t i = a; i < b; i++) {    /* s_mterm on the packed rows */
                const double *r = e->packed + i * pw;
                double q = 0;
                for (int dd = 0; dd < D && q <= lim; dd++) {
                    double z = (x[dd] - r[dd]) * r[D + dd];
                    q += z * z;
                }
                if (q > lim)
                    skipped = true;
                else
                    s += r[2 * D] * s_exp(-0.5 * q);
            }
        }
        for (size_t i = 0; i < e->n_wide; i++)
            s += s_mterm(e, e->wide[i], x, lim, &skipped);
        if (s > 0x1p-900 && (!skipped || e->csum * exp(-0.5 * lim) <= S_SKIP_TOL * s))
            return log(s) + e->lcmax;
        s = 0;
    }
    for (size_t k = 0; k < e->m; k++) {
        double t = e->lc[k] - e->lcmax + s_mpart(e, dom, jp, k, x, blo, bhi, all_cont);
        if (t > -745.0)
            s += exp(t);
    }
    if (s > 0x1p-900)
        return log(s) + e->lcmax;
    double mx = -INFINITY;
    for (size_t k = 0; k < e->m; k++)
        mx = fmax(mx, e->lc[k] + s_mpart(e, dom, jp, k, x, blo, bhi, all_cont));
    if (!isfinite(mx))
        return -INFINITY;
    s = 0;
    for (size_t k = 0; k < e->m; k++)
        s += exp(e->lc[k] + s_mpart(e, dom, jp, k, x, blo, bhi, all_cont) - mx);
    return log(s) + mx;
}

/* Joint proposal of the JD parameters JP; writes their JSON values into VALUES.
 * Returns 1 when done, 0 when the joint history is too short (caller falls back to
 * the univariate path), or a negative error. */
static int s_propose_joint(coord_tpe_t *self, const s_hist_t *h, const s_dom_t *dom,
                           const int *jp, int D, int64_t number, cJSON **values)
{
    int rc = 0;
    size_t N = h->n + 1;
    uint32_t *idx = s_buf(self, S_B_JIDX, N * sizeof *idx);
    bool *below = s_buf(self, S_B_JBELOW, N);
    double *xb = s_buf(self, S_B_JXB, N * (size_t)D * sizeof *xb);
    double *xa = s_buf(self, S_B_JXA, N * (size_t)D * sizeof *xa);
    double *wb = s_buf(self, S_B_JWB, N * sizeof *wb);
    double *wa = s_buf(self, S_B_JWA, N * sizeof *wa);
    uint32_t *side = s_buf(self, S_B_JSIDE, N * sizeof *side);
    uint32_t *ordb = NULL, *orda = NULL;
    double *valb = NULL, *vala = NULL;
    double *cand = s_buf(self, S_B_JCAND, (size_t)D * 4 * sizeof *cand);
    s_mest_t el, eg;
    if (!idx || !below || !xb || !xa || !wb || !wa || !side || !cand) {
        rc = SW_ENOMEM;
        goto done;
    }
    size_t n = 0, nfin = 0;
    for (size_t i = 0; i < h->n; i++) {
        bool all = true;
        for (int dd = 0; dd < D && all; dd++)
            all = !isnan(h->col[(size_t)jp[dd] * h->n + i]);
        if (all) {
            idx[n++] = (uint32_t)i;
            nfin += h->rows[i].cls != S_CLS_RUNNING;
        }
    }
    if (nfin < (size_t)self->n_startup)
        goto done;   /* rc = 0 */
    s_split(self, h, idx, n, below);
    size_t nb = 0, na = 0;
    bool *is_below = s_buf(self, S_B_ISBELOW, h->n + 1);
    if (!is_below) {
        rc = SW_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        is_below[idx[i]] = below[i];
        side[idx[i]] = (uint32_t)(below[i] ? nb : na);
        double *dst = below[i] ? xb + nb++ * (size_t)D : xa + na++ * (size_t)D;
        for (int dd = 0; dd < D; dd++)
            dst[dd] = h->col[(size_t)jp[dd] * h->n + idx[i]];
    }
    s_weights(self, nb, wb);
    s_weights(self, na, wa);
    /* Neighbour bandwidths need each side's observations sorted per dimension: the
     * column's order over both sides (s_column_order, kept from call to call),
     * split. */
    if (self->mv_hyperopt) {
        ordb = s_buf(self, S_B_JORDB, ((size_t)D * nb + 1) * sizeof *ordb);
        orda = s_buf(self, S_B_JORDA, ((size_t)D * na + 1) * sizeof *orda);
        valb = s_buf(self, S_B_JVALB, ((size_t)D * nb + 1) * sizeof *valb);
        vala = s_buf(self, S_B_JVALA, ((size_t)D * na + 1) * sizeof *vala);
        uint32_t *order = s_buf(self, S_B_ORDER, N * sizeof *order);
        double *oval = s_buf(self, S_B_OVAL, N * sizeof *oval);
        if (!ordb || !orda || !valb || !vala || !order || !oval) {
            rc = SW_ENOMEM;
            goto done;
        }
        for (int dd = 0; dd < D; dd++) {
            int p = jp[dd];
            if (dom[p].kind == S_CAT)
                continue;
            if ((rc = s_column_order(self, h, p, h->col + (size_t)p * h->n, idx, n, order, oval)) < 0)
                goto done;
            size_t kb = 0, ka = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t r = order[i];
                if (is_below[r]) {
                    valb[(size_t)dd * nb + kb] = oval[i];
                    ordb[(size_t)dd * nb + kb++] = side[r];
                } else {
                    vala[(size_t)dd * na + ka] = oval[i];
                    orda[(size_t)dd * na + ka++] = side[r];
                }
            }
        }
    }
    bool all_cont = true;
    for (int dd = 0; dd < D; dd++)
        all_cont &= dom[jp[dd]].kind == S_CONT;

    if ((rc = s_mest_build(self, S_B_MEL, &el, dom, jp, D, xb, wb, nb, ordb, valb)) < 0
        || (rc = s_mest_build(self, S_B_MEG, &eg, dom, jp, D, xa, wa, na, orda, vala)) < 0)
        goto done;
    sw_rng_t rng;
    s_stream(self, &rng, (uint64_t)self->spec->n_params, number);
    double *x = cand, *blo = cand + D, *bhi = cand + 2 * D, *best = cand + 3 * D;
    double best_score = -INFINITY;
    for (int j = 0; j < self->n_ei; j++) {
        size_t k = s_pick(&rng, el.cw, el.m);
        bool prior = k == el.m - 1;
        for (int dd = 0; dd < D; dd++) {
            const s_dom_t *d = &dom[jp[dd]];
            double mu = el.mu[k * (size_t)D + dd];
            if (d->kind == S_CAT) {
                int C = (int)d->count;
                if (prior) {
                    x[dd] = (double)sw_rng_below(&rng, (uint64_t)C);
                } else {
                    /* observed value with p = exp(lpm), else uniform among the others */
                    double u = sw_rng_uniform(&rng);
                    if (u < exp(el.lpm[dd]) || C == 1) {
                        x[dd] = mu;
                    } else {
                        int o = (int)sw_rng_below(&rng, (uint64_t)(C - 1));
                        x[dd] = o >= (int)mu ? o + 1 : o;
                    }
                }
                continue;
            }
            x[dd] = s_truncnorm(&rng, mu, el.sig[k * (size_t)D + dd], d->lo, d->hi);
            if (d->kind == S_DISC) {
                int64_t li = s_snap(d, x[dd]);
                s_bin(d, li, &blo[dd], &bhi[dd]);
                double v = d->low + (double)li * d->step;
                x[dd] = d->log ? log(v) : v;
            }
        }
        double sc = s_mest_logpdf(&el, dom, jp, x, blo, bhi, all_cont)
                  - s_mest_logpdf(&eg, dom, jp, x, blo, bhi, all_cont);
        if (j == 0 || sc > best_score) {
            best_score = sc;
            memcpy(best, x, (size_t)D * sizeof *x);
        }
    }
    for (int dd = 0; dd < D; dd++) {
        const sw_param_t *p = &self->spec->params[jp[dd]];
        values[jp[dd]] = dom[jp[dd]].kind == S_CAT ? sw_param_grid_value(p, (int64_t)best[dd])
                                                   : s_value_json(p, &dom[jp[dd]], best[dd]);
        if (!values[jp[dd]]) {
            rc = SW_ENOMEM;
            goto done;
        }
    }
    rc = 1;
done:
    return rc;
}

/* ---------------------------------------------------------------------------
 *  Entry point
 */

cJSON *coord_tpe_propose(coord_tpe_t *self, int64_t number, const coord_sampler_trial_t *history,
                         size_t n_history, int *err)
{
    assert(self);
    const sw_spec_t *spec = self->spec;
    int np = spec->n_params;
    int rc = 0;
    cJSON *out = NULL;
    s_hist_t h;
    memset(&h, 0, sizeof h);
    cJSON **values = calloc((size_t)np + 1, sizeof *values);
    bool *active = calloc((size_t)np + 1, sizeof *active);
    s_dom_t *dom = calloc((size_t)np + 1, sizeof *dom);
    int *jp = calloc((size_t)np + 1, sizeof *jp);
    if (!values || !active || !dom || !jp) {
        rc = SW_ENOMEM;
        goto done;
    }
    if (number < 0) {
        rc = SW_EINVAL;
        goto done;
    }
    for (int p = 0; p < np; p++)
        s_domain(&spec->params[p], &dom[p]);
    if ((rc = s_hist_build(self, number, history, n_history, &h, dom)) < 0)
        goto done;

    if (h.n_finished < (size_t)self->n_startup && self->lhs_startup && number < self->n_startup) {
        for (int p = 0; p < np; p++)
            if ((rc = s_propose_lhs(self, dom, p, number, &values[p])) < 0)
                goto done;
    } else if (h.n_finished < (size_t)self->n_startup) {
        /* Startup: exactly the random sampler's proposal for NUMBER (startup
         * "random", or a trial numbered past the hypercube: parallel workers took
         * every startup number before n_startup_trials finished). */
        sw_rng_t rng;
        sw_rng_seed2(&rng, spec->seed, (uint64_t)number);
        for (int p = 0; p < np; p++)
            if (!(values[p] = s_random_value(&spec->params[p], &rng))) {
                rc = SW_ENOMEM;
                goto done;
            }
    } else {
        /* The joint kernels take the always-active parameters of positive, finite
         * width: a float pinned by low == high adds the same to every kernel and
         * is proposed by the univariate path (its value is its only one). */
        int D = 0;
        if (self->multivariate)
            for (int p = 0; p < np; p++)
                if (!spec->params[p].when
                    && (dom[p].kind == S_CAT || (dom[p].hi - dom[p].lo > 0 && isfinite(dom[p].hi - dom[p].lo))))
                    jp[D++] = p;
        if (D > 0 && (rc = s_propose_joint(self, &h, dom, jp, D, number, values)) < 0)
            goto done;
        for (int p = 0; p < np; p++)
            if (!values[p] && (rc = s_propose_one(self, &h, dom, p, number, &values[p])) < 0)
                goto done;
        rc = 0;
    }
    sw_spec_active(spec, (const cJSON *const *)values, active);
    out = cJSON_CreateObject();
    for (int p = 0; out && p < np; p++) {
        if (!active[p] || !values[p])
            continue;
        if (!cJSON_AddItemToObject(out, spec->params[p].name, values[p])) {
            cJSON_Delete(out);
            out = NULL;
            break;
        }
        values[p] = NULL;
    }
    if (!out)
        rc = SW_ENOMEM;
done:
    for (int p = 0; values && p < np; p++)
        cJSON_Delete(values[p]);
    free(values);
    free(active);
    free(dom);
    free(jp);
    if (err)
        *err = rc;
    return rc < 0 ? NULL : out;
}
