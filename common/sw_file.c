/*  sw_file.c - read a whole file into memory (see sw_file.h)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/sw_err.h"

char *sw_file_read(const char *path, size_t max_bytes, size_t *len_out, int *err)
{
    int dummy;
    if (!err)
        err = &dummy;
    if (!max_bytes)
        max_bytes = SW_FILE_MAX_DEFAULT;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = -errno;
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        *err = -EISDIR;
        return NULL;
    }
    size_t cap = 1 << 14, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        *err = SW_ENOMEM;
        return NULL;
    }
    for (;;) {
        if (cap - len < 2) {
            if (cap > max_bytes) {
                free(buf);
                fclose(f);
                *err = -EFBIG;
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                *err = SW_ENOMEM;
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || len > max_bytes) {
        *err = len > max_bytes ? -EFBIG : (errno ? -errno : -EIO);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    if (len_out)
        *len_out = len;
    *err = 0;
    return buf;
}
