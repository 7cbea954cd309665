/*  sw_mem.h - growable arrays
 *
 *  One way to grow the arrays sweepd keeps as (items, count, capacity): doubling,
 *  so that N appends cost O(N) copies in all.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_MEM_H
#define SW_MEM_H

#include <stddef.h>

/* Make the array *ITEMS (elements of SIZE bytes, *CAP of them allocated; may be NULL
 * with *CAP 0) hold at least NEED elements: when NEED > *CAP, the capacity becomes
 * FIRST (when *CAP is 0) or *CAP, doubled until it is >= NEED, and the array is
 * reallocated (its contents kept; new elements uninitialised). FIRST >= 1. Returns 0,
 * or SW_ENOMEM with *ITEMS and *CAP unchanged. */
int sw_grow(void **items, size_t *cap, size_t need, size_t size, size_t first);

#endif
