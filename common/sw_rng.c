/*  sw_rng.c - xoshiro256** seeded by splitmix64 (see sw_rng.h)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_rng.h"

#include <math.h>

uint64_t sw_rng_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

void sw_rng_seed(sw_rng_t *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) {
        x += 0x9e3779b97f4a7c15ull;
        rng->s[i] = sw_rng_mix64(x);
    }
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        rng->s[0] = 1;
}

void sw_rng_seed2(sw_rng_t *rng, uint64_t seed, uint64_t stream)
{
    sw_rng_seed(rng, sw_rng_mix64(seed) ^ sw_rng_mix64(stream + 0x632be59bd9b4e019ull));
}

__extension__ typedef unsigned __int128 u128_t;

static inline uint64_t s_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sw_rng_next(sw_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

double sw_rng_uniform(sw_rng_t *rng)
{
    return (double)(sw_rng_next(rng) >> 11) * 0x1.0p-53;
}

uint64_t sw_rng_below(sw_rng_t *rng, uint64_t n)
{
    u128_t m = (u128_t)sw_rng_next(rng) * n;
    uint64_t l = (uint64_t)m;
    if (l < n) {
        uint64_t t = -n % n;
        while (l < t) {
            m = (u128_t)sw_rng_next(rng) * n;
            l = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double sw_rng_normal(sw_rng_t *rng)
{
    double u1 = 1.0 - sw_rng_uniform(rng);   /* (0, 1] so log() is finite */
    double u2 = sw_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
