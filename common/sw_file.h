/*  sw_file.h - read a whole file into memory
 *
 *  Specs, datasets and model files are read whole: they are small next to the work
 *  done with them. One reader serves them all, so every caller gets the same limits
 *  and the same error codes.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_FILE_H
#define SW_FILE_H

#include <stddef.h>

#define SW_FILE_MAX_DEFAULT ((size_t)1 << 30)   /* bytes: 1 GiB */

/* Read the file at PATH whole. Returns a buffer of *LEN_OUT bytes followed by a NUL
 * (so text can be parsed in place; the file itself may contain NULs), caller frees;
 * or NULL with *ERR set: -errno from open/read (-ENOENT, -EACCES, -EISDIR, ...),
 * -EFBIG when the file is larger than MAX_BYTES (0 = SW_FILE_MAX_DEFAULT), or
 * SW_ENOMEM. LEN_OUT and ERR may be NULL. */
char *sw_file_read(const char *path, size_t max_bytes, size_t *len_out, int *err);

#endif
