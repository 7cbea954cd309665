/*  sw_mem.c - growable arrays (see sw_mem.h)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_mem.h"

#include <stdlib.h>

#include "common/sw_err.h"

int sw_grow(void **items, size_t *cap, size_t need, size_t size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap * 2 : first;
    while (n < need)
        n *= 2;
    void *p = realloc(*items, n * size);
    if (!p)
        return SW_ENOMEM;
    *items = p;
    *cap = n;
    return 0;
}
