/*  trn_data.c - CSV loading, standardization and cross-validation folds for the
 *  built-in trainer
 *
 *  The loader reads the whole file into memory (tabular training sets for the built-in
 *  trainer are small: Pima is 24 KB), splits it into lines and cells in place, and
 *  converts every cell with strtod. It stops at the first bad cell or ragged row and
 *  says where: the row is the 1-based line number of the file, header included, so
 *  `sed -n 12p data.csv` shows the offending line. It never reads a cell twice and
 *  allocates once per output array.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/trn_data.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/sw_err.h"
#include "common/sw_file.h"
#include "common/sw_rng.h"

trn_csv_opts_t trn_csv_opts_default(void)
{
    trn_csv_opts_t o = {.header = -1, .delimiter = ',', .target_index = -1, .target_name = NULL};
    return o;
}

/* Trim spaces and one pair of surrounding double quotes from the cell [*B, *E). */
static void s_trim(char **b, char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
    if (*e - *b >= 2 && **b == '"' && (*e)[-1] == '"') {
        (*b)++;
        (*e)--;
    }
}

/* Parse the NUL-terminated cell S as a finite number; returns 0 or -1. */
static int s_number(const char *s, double *out)
{
    if (*s == '\0')
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* One line of the file split into cells: pointers into the buffer, NUL-terminated. */
typedef struct {
    char **cell;
    int n, cap;
} s_cells_t;

static int s_split(char *line, char delim, s_cells_t *cells)
{
    cells->n = 0;
    char *p = line;
    for (;;) {
        char *b = p;
        while (*p && *p != delim)
            p++;
        char *e = p;
        int last = *p == '\0';
        s_trim(&b, &e);
        *e = '\0';
        if (cells->n == cells->cap) {
            int nc = cells->cap ? cells->cap * 2 : 16;
            char **ncell = realloc(cells->cell, (size_t)nc * sizeof *ncell);
            if (!ncell)
                return SW_ENOMEM;
            cells->cell = ncell;
            cells->cap = nc;
        }
        cells->cell[cells->n++] = b;
        if (last)
            break;
        p++;
    }
    return 0;
}

/* A missing-value marker: empty, '?', NaN (any case) or NA. */
static bool s_missing(const char *s)
{
    return s[0] == '\0' || strcmp(s, "?") == 0 || strcasecmp(s, "nan") == 0 ||
           strcmp(s, "NA") == 0;
}

static int s_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return 0;
    return 1;
}


static trn_data_t *s_data_alloc(int n_rows, int n_features, const char *path)
{
    trn_data_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->n_rows = n_rows;
    d->n_features = n_features;
    d->x = malloc(((size_t)n_rows * (size_t)n_features + 1) * sizeof *d->x);
    d->y = malloc(((size_t)n_rows + 1) * sizeof *d->y);
    d->line = malloc(((size_t)n_rows + 1) * sizeof *d->line);
    d->path = strdup(path ? path : "memory");
    d->target_col = n_features;
    d->n_cols = n_features + 1;
    if (!d->x || !d->y || !d->line || !d->path)
        trn_data_destroy(&d);
    return d;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Text labels: D->classes = the sorted distinct TCELL strings, D->y = their indices. */
static int s_text_classes(trn_data_t *d, const char **tcell)
{
    int n = d->n_rows;
    const char **sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted)
        return SW_ENOMEM;
    memcpy(sorted, tcell, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, s_cmp_str);
    int k = 0;
    for (int r = 0; r < n; r++)
        if (r == 0 || strcmp(sorted[r], sorted[k - 1]) != 0)
            sorted[k++] = sorted[r];
    d->classes = calloc((size_t)k, sizeof *d->classes);
    if (!d->classes) {
        free(sorted);
        return SW_ENOMEM;
    }
    d->n_classes = k;
    for (int c = 0; c < k; c++)
        if (!(d->classes[c] = strdup(sorted[c]))) {
            free(sorted);
            return SW_ENOMEM;
        }
    for (int r = 0; r < n; r++) {
        const char **hit = bsearch(&tcell[r], sorted, (size_t)k, sizeof *sorted, s_cmp_str);
        d->y[r] = (double)(hit - sorted);
    }
    free(sorted);
    return 0;
}

trn_data_t *trn_data_load(const char *path, const trn_csv_opts_t *opts, char *err,
                          size_t errlen, int *code_out)
{
    int dummy;
    int *code = code_out ? code_out : &dummy;
    *code = 0;
    size_t len = 0;
    char *buf = sw_file_read(path, 0, &len, code);
    if (!buf) {
        sw_errf(err, errlen, "%s: cannot read: %s", path, sw_strerror(*code));
        return NULL;
    }

    /* Split into lines in place, remembering each non-blank line and its number. */
    int n_lines = 0, cap_lines = 1024;
    char **lines = malloc((size_t)cap_lines * sizeof *lines);
    int *lineno = malloc((size_t)cap_lines * sizeof *lineno);
    s_cells_t cells = {0};
    trn_data_t *d = NULL;
    char **names = NULL, *first_copy = NULL;
    const char **tcell = NULL;
    if (!lines || !lineno)
        goto nomem;
    {
        char *p = buf;
        int no = 0;
        while (p < buf + len) {
            char *b = p;
            char *nl = memchr(p, '\n', (size_t)(buf + len - p));
            char *e = nl ? nl : buf + len;
            p = nl ? nl + 1 : buf + len;
            no++;
            if (e > b && e[-1] == '\r')
                e--;
            *e = '\0';
            if (s_blank(b))
                continue;
            if (n_lines == cap_lines) {
                cap_lines *= 2;
                char **nlines = realloc(lines, (size_t)cap_lines * sizeof *lines);
                if (!nlines)
                    goto nomem;
                lines = nlines;
                int *nno = realloc(lineno, (size_t)cap_lines * sizeof *lineno);
                if (!nno)
                    goto nomem;
                lineno = nno;
            }
            lines[n_lines] = b;
            lineno[n_lines++] = no;
        }
    }
    if (n_lines == 0) {
        sw_errf(err, errlen, "%s: no data rows", path);
        *code = SW_EDATA;
        goto fail;
    }

    /* The first line decides the column count and, in auto mode, the header. Split a
     * copy: splitting writes NULs, and the line may be data, split again below. */
    first_copy = strdup(lines[0]);
    if (!first_copy || s_split(first_copy, opts->delimiter, &cells) < 0)
        goto nomem;
    int n_cols = cells.n;
    int has_header = opts->header;
    if (has_header < 0) {
        /* A word above a number (or above a missing cell, or in a one-row file) marks a
         * header; a word above a word is a text column (labels). */
        s_cells_t second = {0};
        char *second_copy = n_lines > 1 ? strdup(lines[1]) : NULL;
        if (n_lines > 1 && (!second_copy || s_split(second_copy, opts->delimiter, &second) < 0)) {
            free(second_copy);
            free(second.cell);
            goto nomem;
        }
        has_header = 0;
        for (int c = 0; c < cells.n; c++) {
            double v;
            if (s_missing(cells.cell[c]) || s_number(cells.cell[c], &v) == 0)
                continue;
            if (n_lines < 2 || c >= second.n || s_missing(second.cell[c]) ||
                s_number(second.cell[c], &v) == 0)
                has_header = 1;
        }
        free(second_copy);
        free(second.cell);
    }
    if (has_header) {
        names = calloc((size_t)n_cols, sizeof *names);
        if (!names)
            goto nomem;
        for (int c = 0; c < n_cols; c++)
            if (!(names[c] = strdup(cells.cell[c])))
                goto nomem;
    }
    if (n_cols < 2) {
        sw_errf(err, errlen, "%s: row %d: %d column, expected at least 2 (features and a target)",
                path, lineno[0], n_cols);
        *code = SW_EDATA;
        goto fail;
    }

    int target = -1;
    bool no_target = !opts->target_name && opts->target_index == TRN_NO_TARGET;
    if (no_target) {
        target = -1;
    } else if (opts->target_name) {
        if (!names) {
            sw_errf(err, errlen, "%s: target '%s' is a column name but the file has no header",
                    path, opts->target_name);
            *code = SW_EDATA;
            goto fail;
        }
        for (int c = 0; c < n_cols && target < 0; c++)
            if (strcmp(names[c], opts->target_name) == 0)
                target = c;
        if (target < 0) {
            sw_errf(err, errlen, "%s: no column named '%s' in the header", path, opts->target_name);
            *code = SW_EDATA;
            goto fail;
        }
    } else {
        target = opts->target_index < 0 ? n_cols + opts->target_index : opts->target_index;
        if (target < 0 || target >= n_cols) {
            sw_errf(err, errlen, "%s: target column %d is out of range (the file has %d columns)",
                    path, opts->target_index, n_cols);
            *code = SW_EDATA;
            goto fail;
        }
    }

    int first = has_header ? 1 : 0;
    int n_rows = n_lines - first;
    if (n_rows <= 0) {
        sw_errf(err, errlen, "%s: no data rows after the header", path);
        *code = SW_EDATA;
        goto fail;
    }
    d = s_data_alloc(n_rows, no_target ? n_cols : n_cols - 1, path);
    tcell = opts->text_labels && !no_target ? calloc((size_t)n_rows + 1, sizeof *tcell) : NULL;
    if (!d || (opts->text_labels && !no_target && !tcell))
        goto nomem;
    d->target_col = target;
    d->n_cols = n_cols;
    d->names = names;
    names = NULL;
    bool text_target = false;
    for (int r = 0; r < n_rows; r++) {
        int li = first + r;
        if (s_split(lines[li], opts->delimiter, &cells) < 0)
            goto nomem;
        if (cells.n != n_cols) {
            sw_errf(err, errlen, "%s: row %d: %d column%s, expected %d", path, lineno[li],
                    cells.n, cells.n == 1 ? "" : "s", n_cols);
            *code = SW_EDATA;
            goto fail;
        }
        double *xr = d->x + (size_t)r * (size_t)d->n_features;
        for (int c = 0, f = 0; c < n_cols; c++) {
            double v = 0.0;
            const char *cell = cells.cell[c];
            if (c == target && s_missing(cell)) {
                sw_errf(err, errlen, "%s: row %d, column %d: missing target value", path,
                        lineno[li], c + 1);
                *code = SW_EDATA;
                goto fail;
            }
            if (c == target && tcell) {
                tcell[r] = cell;
                if (s_number(cell, &v) < 0)
                    text_target = true;
                d->y[r] = v;
                continue;
            }
            if (s_number(cell, &v) < 0) {
                if (s_missing(cell) && opts->missing_ok) {
                    xr[f++] = NAN;
                    d->n_missing++;
                    continue;
                }
                if (s_missing(cell))
                    sw_errf(err, errlen, "%s: row %d, column %d: missing value %s%.40s%s; set "
                            "trainer.impute to \"mean\" or \"median\" to fill it", path,
                            lineno[li], c + 1, cell[0] ? "'" : "(empty cell", cell,
                            cell[0] ? "'" : ")");
                else
                    sw_errf(err, errlen, "%s: row %d, column %d: '%.40s' is not a number", path,
                            lineno[li], c + 1, cell);
                *code = SW_EDATA;
                goto fail;
            }
            if (c == target)
                d->y[r] = v;
            else
                xr[f++] = v;
        }
        d->line[r] = lineno[li];
    }
    if (text_target && s_text_classes(d, tcell) < 0)
        goto nomem;
    free(tcell);
    free(first_copy);
    free(cells.cell);
    free(lines);
    free(lineno);
    free(buf);
    return d;

nomem:
    sw_errf(err, errlen, "%s: out of memory", path);
    *code = SW_ENOMEM;
fail:
    if (names) {
        for (int c = 0; c < n_cols; c++)
            free(names[c]);
        free(names);
    }
    trn_data_destroy(&d);
    free(tcell);
    free(first_copy);
    free(cells.cell);
    free(lines);
    free(lineno);
    free(buf);
    return NULL;
}

trn_data_t *trn_data_from_arrays(const double *x, const double *y, int n_rows,
                                 int n_features, const char *name)
{
    trn_data_t *d = s_data_alloc(n_rows, n_features, name);
    if (!d)
        return NULL;
    memcpy(d->x, x, (size_t)n_rows * (size_t)n_features * sizeof *x);
    memcpy(d->y, y, (size_t)n_rows * sizeof *y);
    for (int r = 0; r < n_rows; r++)
        d->line[r] = r + 1;
    return d;
}

void trn_data_destroy(trn_data_t **data_p)
{
    if (!data_p || !*data_p)
        return;
    trn_data_t *d = *data_p;
    if (d->names) {
        for (int c = 0; c < d->n_cols; c++)
            free(d->names[c]);
        free(d->names);
    }
    if (d->classes) {
        for (int c = 0; c < d->n_classes; c++)
            free(d->classes[c]);
        free(d->classes);
    }
    free(d->x);
    free(d->y);
    free(d->line);
    free(d->path);
    free(d);
    *data_p = NULL;
}

int trn_scaler_fit(trn_scaler_t *scaler, const double *x, int n_features,
                   const int *rows, int n_rows)
{
    trn_scaler_clear(scaler);
    scaler->mean = calloc((size_t)n_features + 1, sizeof *scaler->mean);
    scaler->scale = calloc((size_t)n_features + 1, sizeof *scaler->scale);
    if (!scaler->mean || !scaler->scale) {
        trn_scaler_clear(scaler);
        return SW_ENOMEM;
    }
    scaler->n_features = n_features;
    /* Two passes (mean, then squared deviations): exact enough and deterministic. */
    for (int i = 0; i < n_rows; i++) {
        const double *xr = x + (size_t)(rows ? rows[i] : i) * (size_t)n_features;
        for (int f = 0; f < n_features; f++)
            scaler->mean[f] += xr[f];
    }
    for (int f = 0; f < n_features; f++)
        scaler->mean[f] = n_rows > 0 ? scaler->mean[f] / n_rows : 0.0;
    for (int i = 0; i < n_rows; i++) {
        const double *xr = x + (size_t)(rows ? rows[i] : i) * (size_t)n_features;
        for (int f = 0; f < n_features; f++) {
            double dv = xr[f] - scaler->mean[f];
            scaler->scale[f] += dv * dv;
        }
    }
    for (int f = 0; f < n_features; f++) {
        double sd = n_rows > 0 ? sqrt(scaler->scale[f] / n_rows) : 0.0;
        /* scikit-learn's _handle_zeros_in_scale: a (near) constant feature keeps scale 1 */
        scaler->scale[f] = sd < 10.0 * 2.220446049250313e-16 * fmax(1.0, fabs(scaler->mean[f])) ? 1.0 : sd;
    }
    return 0;
}

void trn_scaler_apply(const trn_scaler_t *scaler, double *x, int n_rows)
{
    int nf = scaler->n_features;
    for (int i = 0; i < n_rows; i++) {
        double *xr = x + (size_t)i * (size_t)nf;
        for (int f = 0; f < nf; f++)
            xr[f] = (xr[f] - scaler->mean[f]) / scaler->scale[f];
    }
}

void trn_scaler_clear(trn_scaler_t *scaler)
{
    free(scaler->mean);
    free(scaler->scale);
    scaler->mean = scaler->scale = NULL;
    scaler->n_features = 0;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int trn_imputer_fit(trn_imputer_t *imputer, trn_impute_t kind, const double *x, int n_features,
                    const int *rows, int n_rows)
{
    trn_imputer_clear(imputer);
    imputer->fill = calloc((size_t)n_features + 1, sizeof *imputer->fill);
    double *col = malloc(((size_t)n_rows + 1) * sizeof *col);
    if (!imputer->fill || !col) {
        free(col);
        trn_imputer_clear(imputer);
        return SW_ENOMEM;
    }
    imputer->n_features = n_features;
    imputer->kind = kind;
    for (int f = 0; f < n_features; f++) {
        int m = 0;
        for (int i = 0; i < n_rows; i++) {
            double v = x[(size_t)(rows ? rows[i] : i) * (size_t)n_features + (size_t)f];
            if (!isnan(v))
                col[m++] = v;
        }
        double fill = 0.0;
        if (m > 0 && kind == TRN_IMPUTE_MEDIAN) {
            qsort(col, (size_t)m, sizeof *col, s_cmp_double);
            fill = m % 2 ? col[m / 2] : 0.5 * (col[m / 2 - 1] + col[m / 2]);
        } else if (m > 0) {
            for (int i = 0; i < m; i++)
                fill += col[i];
            fill /= m;
        }
        imputer->fill[f] = fill;
    }
    free(col);
    return 0;
}

void trn_imputer_apply(const trn_imputer_t *imputer, double *x, int n_rows)
{
    int nf = imputer->n_features;
    for (int i = 0; i < n_rows; i++) {
        double *xr = x + (size_t)i * (size_t)nf;
        for (int f = 0; f < nf; f++)
            if (isnan(xr[f]))
                xr[f] = imputer->fill[f];
    }
}

void trn_imputer_clear(trn_imputer_t *imputer)
{
    free(imputer->fill);
    imputer->fill = NULL;
    imputer->n_features = 0;
}

/* Fisher-Yates shuffle of A[0..N-1] with RNG. */
static void s_shuffle(int *a, int n, sw_rng_t *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sw_rng_below(rng, (uint64_t)i + 1);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int trn_folds_assign(int n, int k, const int *classes, uint64_t seed, int *fold_of)
{
    if (k < 2 || k > n)
        return SW_EINVAL;
    sw_rng_t rng;
    sw_rng_seed(&rng, seed);
    if (!classes) {
        int *perm = malloc((size_t)n * sizeof *perm);
        if (!perm)
            return SW_ENOMEM;
        for (int i = 0; i < n; i++)
            perm[i] = i;
        s_shuffle(perm, n, &rng);
        int pos = 0;
        for (int f = 0; f < k; f++) {
            int size = n / k + (f < n % k ? 1 : 0);
            for (int j = 0; j < size; j++)
                fold_of[perm[pos++]] = f;
        }
        free(perm);
        return 0;
    }

    int max_class = -1;
    for (int i = 0; i < n; i++) {
        if (classes[i] < 0)
            return SW_EINVAL;
        if (classes[i] > max_class)
            max_class = classes[i];
    }
    int nc = max_class + 1;
    /* Renumber classes by first appearance, as scikit-learn does (class_perm). */
    int *order = malloc((size_t)nc * sizeof *order);
    int *count = calloc((size_t)nc, sizeof *count);
    int *alloc = calloc((size_t)nc * (size_t)k, sizeof *alloc);
    int *labels = malloc((size_t)n * sizeof *labels);
    int *pos = calloc((size_t)nc, sizeof *pos);
    int rc = 0;
    if (!order || !count || !alloc || !labels || !pos) {
        rc = SW_ENOMEM;
        goto out;
    }
    for (int c = 0; c < nc; c++)
        order[c] = -1;
    int seen = 0;
    for (int i = 0; i < n; i++)
        if (order[classes[i]] < 0)
            order[classes[i]] = seen++;
    for (int i = 0; i < n; i++)
        count[order[classes[i]]]++;
    /* y_order = sorted encoded labels; position j goes to fold j mod k. */
    for (int c = 0, j = 0; c < seen; c++)
        for (int m = 0; m < count[c]; m++, j++)
            alloc[c * k + j % k]++;
    /* For each class: the fold labels it was dealt, shuffled, given in row order. */
    int start = 0;
    for (int c = 0; c < seen; c++) {
        int m = 0;
        for (int f = 0; f < k; f++)
            for (int a = 0; a < alloc[c * k + f]; a++)
                labels[start + m++] = f;
        s_shuffle(labels + start, count[c], &rng);
        pos[c] = start;
        start += count[c];
    }
    for (int i = 0; i < n; i++) {
        int c = order[classes[i]];
        fold_of[i] = labels[pos[c]++];
    }
out:
    free(order);
    free(count);
    free(alloc);
    free(labels);
    free(pos);
    return rc;
}

int trn_holdout_assign(int n, double frac, const int *classes, uint64_t seed, bool *is_test)
{
    if (!(frac > 0.0 && frac < 1.0) || n < 2)
        return SW_EINVAL;
    sw_rng_t rng;
    sw_rng_seed2(&rng, seed, 3);
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!perm)
        return SW_ENOMEM;
    memset(is_test, 0, (size_t)n * sizeof *is_test);
    int total = 0;
    if (!classes) {
        int n_test = (int)ceil(frac * n - 1e-9);
        if (n_test >= n) {
            free(perm);
            return SW_EINVAL;
        }
        for (int i = 0; i < n; i++)
            perm[i] = i;
        s_shuffle(perm, n, &rng);
        for (int i = 0; i < n_test; i++)
            is_test[perm[i]] = true;
        free(perm);
        return n_test;
    }
    int max_class = -1;
    for (int i = 0; i < n; i++)
        max_class = classes[i] > max_class ? classes[i] : max_class;
    for (int c = 0; c <= max_class; c++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (classes[i] == c)
                perm[m++] = i;
        if (m == 0)
            continue;
        int take = (int)floor(frac * m + 0.5);
        if (take == 0 && frac * n >= 1.0 && m > 1)
            take = 1;
        if (take >= m)
            take = m - 1;
        s_shuffle(perm, m, &rng);
        for (int i = 0; i < take; i++)
            is_test[perm[i]] = true;
        total += take;
    }
    free(perm);
    return total > 0 && total < n ? total : SW_EINVAL;
}
