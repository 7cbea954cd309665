/*  test_util.h - helpers for the cmocka unit tests
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
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

/* A signal at an exact point: test_util.c interposes poll(2) (the executable's poll
 * comes before libc's for libzmq too), and while WATCH is set, on every one-descriptor
 * poll except of SKIP_FD (-1: none), the next INJECT polls with timeout 0 fail with
 * EINTR, as when a signal arrives during them (libzmq polls a socket's mailbox with
 * timeout 0 for ZMQ_EVENTS and non-blocking receives), counted in INJECTED; a poll
 * that would wait (timeout != 0) is counted in WAITS and fails with EINTR too, so that
 * a blocking call shows up as a count instead of hanging the test. Unwatched polls go
 * to the real call. */
extern struct test_poll {
    bool watch;
    int skip_fd;
    int inject, injected, waits;
} test_poll;

#endif
