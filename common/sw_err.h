/*  sw_err.h - error codes and error lists
 *
 *  Runtime failures are returned as 0 (success) or a negative code: either a
 *  negated errno value (-ENOENT, as libuv does) or one of the SW_E* codes below,
 *  which sit far below any errno. sw_strerror() describes both.
 *
 *  Bad input usually has several faults at once (a spec with three wrong fields);
 *  sw_errs_t collects every message, each naming where ("parameters.lr.low",
 *  "row 12, column 3") and why, so the user can fix them all in one pass.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_ERR_H
#define SW_ERR_H

#include <stddef.h>

enum {
    SW_EINVAL  = -10001,    /* bad input: spec, dataset, arguments */
    SW_EPROTO  = -10002,    /* malformed or unexpected protocol message */
    SW_EDB     = -10003,    /* database error (SQLite) */
    SW_EDATA   = -10004,    /* dataset could not be used */
    SW_ECHANGED= -10005,    /* a sweep of that name exists with a different spec */
    SW_ENOMEM  = -10006,    /* allocation failed */
    SW_EEXHAUSTED = -10007, /* a finite search space has no configuration left */
    SW_ESTATE  = -10008     /* operation not valid in the current state */
};

/* Describe CODE (negative errno or SW_E*); returns a static string. */
const char *sw_strerror(int code);

/* A growable list of error messages. Zero-initialise ({0}) before use. */
typedef struct {
    char **items;       /* COUNT messages, each owned by the list */
    size_t count;       /* number of messages */
    size_t cap;         /* allocated slots */
} sw_errs_t;

/* Format one message into ERR (ERRLEN bytes, always terminated, truncated when
 * longer), as vsnprintf; nothing when ERR is NULL or ERRLEN is 0. For functions that
 * report their one failure through a caller's buffer. */
void sw_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Append a formatted message; returns 0 or SW_ENOMEM. */
int sw_errs_add(sw_errs_t *errs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Free every message; the list is empty and reusable afterwards. NULL is fine. */
void sw_errs_clear(sw_errs_t *errs);

/* Join every message into one string separated by SEP; caller frees. NULL when empty. */
char *sw_errs_join(const sw_errs_t *errs, const char *sep);

#endif
