/*  sw_rng.h - small, fast, seedable pseudo-random numbers
 *
 *  xoshiro256** 1.0 (Blackman & Vigna, "Scrambled linear pseudorandom number
 *  generators", ACM TOMS 2021), seeded through splitmix64 so that any 64-bit seed,
 *  including 0, gives a well-mixed state. The same seed gives the same stream on
 *  every machine: samplers and the trainer rely on this for exact resume and
 *  bit-identical reruns. Not for cryptography.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_RNG_H
#define SW_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];      /* generator state; never all zero */
} sw_rng_t;

/* Seed RNG from SEED (any value). */
void sw_rng_seed(sw_rng_t *rng, uint64_t seed);

/* Seed RNG from a pair (SEED, STREAM): independent streams for, e.g., trial number
 * STREAM of a sweep seeded with SEED. */
void sw_rng_seed2(sw_rng_t *rng, uint64_t seed, uint64_t stream);

/* Next 64 random bits. */
uint64_t sw_rng_next(sw_rng_t *rng);

/* Uniform double in [0, 1), 53 random bits. */
double sw_rng_uniform(sw_rng_t *rng);

/* Uniform integer in [0, n) without modulo bias (Lemire's method); n > 0. */
uint64_t sw_rng_below(sw_rng_t *rng, uint64_t n);

/* Standard normal deviate (Box-Muller, one of the pair; no hidden cache, so the
 * stream position depends only on the number of calls). */
double sw_rng_normal(sw_rng_t *rng);

/* splitmix64 step: a 64-bit mixing function, handy to derive seeds from ids. */
uint64_t sw_rng_mix64(uint64_t x);

#endif
