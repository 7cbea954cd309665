/*  sw_testfn.h - standard optimisation test functions with their domains and minima
 *
 *  The functions used to compare samplers (sweepd's TPE against Optuna's, random
 *  search, ...): Branin, Hartmann6, Rosenbrock, Ackley, Styblinski-Tang and Levy,
 *  with the definitions, standard domains and known global minima of the Virtual
 *  Library of Simulation Experiments (S. Surjanovic and D. Bingham,
 *  https://www.sfu.ca/~ssurjano/optimization.html). Branin uses a=1, b=5.1/(4 pi^2),
 *  c=5/pi, r=6, s=10, t=1/(8 pi); Hartmann6 the standard alpha/A/P; Ackley a=20,
 *  b=0.2, c=2 pi. Functions defined for any dimension take D as an argument; Branin
 *  (2-D) and Hartmann6 (6-D) have a fixed one. Every function is to be minimised.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_TESTFN_H
#define SW_TESTFN_H

#include <stdbool.h>

/* One test function. Read-only descriptors from a static table. */
typedef struct {
    const char *name;       /* "branin", "hartmann6", "rosenbrock", "ackley",
                               "styblinski_tang", "levy" */
    int dim;                /* fixed dimension, or 0 when any D >= dim_min works */
    int dim_min;            /* smallest dimension allowed (fixed ones: = dim) */
    /* Value at X (D coordinates); D must be valid for the function. */
    double (*eval)(const double *x, int d);
    const double *lo;       /* per-coordinate lower bounds: DIM entries for a fixed
                               dimension, one entry (for every coordinate) otherwise */
    const double *hi;       /* upper bounds, same layout as LO */
} sw_testfn_t;

/* Find a test function by NAME; borrowed pointer to a static descriptor, or NULL
 * when there is none of that name. */
const sw_testfn_t *sw_testfn_find(const char *name);

/* Number of functions in the table, and function I (0 <= I < count), borrowed. */
int sw_testfn_count(void);
const sw_testfn_t *sw_testfn_at(int i);

/* Whether D coordinates are allowed for FN. */
bool sw_testfn_dim_ok(const sw_testfn_t *fn, int d);

/* Standard search domain of coordinate I (0-based): *LO and *HI, inclusive. */
void sw_testfn_bounds(const sw_testfn_t *fn, int i, double *lo, double *hi);

/* Value of FN at X (D coordinates). D must satisfy sw_testfn_dim_ok (asserted). */
double sw_testfn_eval(const sw_testfn_t *fn, const double *x, int d);

/* Known global minimum of FN in D dimensions (Styblinski-Tang: -39.16616570377142 D). */
double sw_testfn_minimum(const sw_testfn_t *fn, int d);

/* A known global minimiser of FN in D dimensions, written to X (D entries). Branin
 * has three; this returns (pi, 2.275). Hartmann6's is known to 6 digits, so the
 * value there matches the minimum to about 1e-5. */
void sw_testfn_argmin(const sw_testfn_t *fn, int d, double *x);

#endif
