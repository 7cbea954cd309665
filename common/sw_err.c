/*  sw_err.c - error codes and error lists (see sw_err.h)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_mem.h"

const char *sw_strerror(int code)
{
    switch (code) {
    case 0: return "success";
    case SW_EINVAL: return "invalid input";
    case SW_EPROTO: return "protocol error";
    case SW_EDB: return "database error";
    case SW_EDATA: return "unusable dataset";
    case SW_ECHANGED: return "sweep exists with a different spec";
    case SW_ENOMEM: return "out of memory";
    case SW_EEXHAUSTED: return "search space exhausted";
    case SW_ESTATE: return "not valid in the current state";
    default: break;
    }
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

int sw_errs_add(sw_errs_t *errs, const char *fmt, ...)
{
    if (sw_grow((void **)&errs->items, &errs->cap, errs->count + 1, sizeof *errs->items, 8))
        return SW_ENOMEM;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SW_ENOMEM;
    errs->items[errs->count++] = msg;
    return 0;
}

void sw_errs_clear(sw_errs_t *errs)
{
    if (!errs)
        return;
    for (size_t i = 0; i < errs->count; i++)
        free(errs->items[i]);
    free(errs->items);
    errs->items = NULL;
    errs->count = errs->cap = 0;
}

char *sw_errs_join(const sw_errs_t *errs, const char *sep)
{
    if (!errs || errs->count == 0)
        return NULL;
    size_t len = 1, seplen = strlen(sep);
    for (size_t i = 0; i < errs->count; i++)
        len += strlen(errs->items[i]) + seplen;
    char *out = malloc(len);
    if (!out)
        return NULL;
    char *p = out;
    for (size_t i = 0; i < errs->count; i++) {
        if (i) {
            memcpy(p, sep, seplen);
            p += seplen;
        }
        size_t l = strlen(errs->items[i]);
        memcpy(p, errs->items[i], l);
        p += l;
    }
    *p = '\0';
    return out;
}

void sw_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
