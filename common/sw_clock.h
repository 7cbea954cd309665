/*  sw_clock.h - the two clocks sweepd uses
 *
 *  Intervals, leases and heartbeats use the monotonic clock (milliseconds since an
 *  arbitrary point, never compared across machines). Wall-clock times (*_unix_ms)
 *  are only stored in the database and printed in logs.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_CLOCK_H
#define SW_CLOCK_H

#include <stdint.h>

/* Monotonic time in milliseconds (CLOCK_MONOTONIC). */
uint64_t sw_clock_mono_ms(void);

/* Monotonic time in nanoseconds, for benchmarks and rates. */
uint64_t sw_clock_mono_ns(void);

/* Wall-clock time in milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t sw_clock_unix_ms(void);

#endif
