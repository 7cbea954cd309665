/*  test_util.h - helpers for the cmocka unit tests
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Make a fresh temporary directory (under $TMPDIR or /tmp); caller frees the path.
 * test_rmtree() removes it with everything inside. */
char *test_mkdtemp(void);
void test_rmtree(const char *path);

/* Write TEXT to DIR/NAME; returns the full path (caller frees). */
char *test_write_file(const char *dir, const char *name, const char *text);

/* Read a whole file; caller frees; NULL when unreadable. *LEN_OUT may be NULL. */
char *test_read_file(const char *path, size_t *len_out);

#endif
