/*  sw_spec.c - the sweep spec: parse, validate, canonical form, comparison
 *
 *  Owns everything about the spec document: the JSON parse (cJSON), every
 *  validation rule of docs/SPEC.md with its "json.path: reason" message, the
 *  parameter domains (membership, grid values), the activity of conditional
 *  parameters, the grid's enumeration order, and the canonical text that
 *  identifies a sweep across restarts. It does not check the inside of the mlp
 *  trainer object (the trainer module's trn_config_check does). The pruner and
 *  sampler options are checked here (sw_spec_pruner_options, sw_spec_tpe_options)
 *  and read through the same functions by coord_pruner and coord_tpe.
 *
 *  Validation never stops at the first fault: every check that can still be
 *  made is made, so the user fixes a spec in one pass. Checks that depend on a
 *  field that was itself bad are skipped rather than reported twice.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_spec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_file.h"

#define S_INT_MAX_EXACT 9007199254740992.0  /* 2^53: larger integers lose precision */
#define S_NAME_MAX      64
#define S_PATH_MAX      512
#define S_STEP_REL_TOL  1e-9                /* (high - low) / step integral within this */
#define S_CHECKPOINTS   65536               /* most checkpoints kept for a conditional grid */

/* One condition of a parameter's `when`: parameter Q must be active and equal to
 * ALLOWED (a value, or an array of values of which one must match). */
typedef struct {
    int q;                      /* index of the referenced parameter */
    const cJSON *allowed;       /* value or array of values (borrowed from root) */
    unsigned char *mask;        /* grid only: mask[i] = value i of Q is allowed */
} s_cond_t;

/* Private tables built after a successful validation. */
struct sw_spec_grid {
    int *cond_off;              /* N_PARAMS + 1 offsets into CONDS */
    s_cond_t *conds;            /* every parameter's conditions, grouped */
    int n_conds;
    int *order;                 /* parameters in dependency order (conditions first) */
    int64_t *radix;             /* per-parameter grid value count (-1: continuous) */
    int64_t full;               /* product of RADIX (saturated), -1 when continuous */
    bool conditional;           /* some parameter has a `when` */
    bool enumerable;            /* sw_spec_grid_point() can decode */
    int64_t stride;             /* canonical points between checkpoints */
    int64_t *check;             /* raw index of canonical point k*STRIDE */
    int64_t n_check;
};

/* Validation context: where messages go and how many there were. */
typedef struct {
    sw_errs_t *errs;
    const char *origin;
    int n;
} s_ctx_t;

__attribute__((format(printf, 3, 4)))
static void s_err(s_ctx_t *c, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->n++;
    if (!c->errs)
        return;
    if (c->origin)
        sw_errs_add(c->errs, "%s: %s: %s", c->origin, path, msg);
    else
        sw_errs_add(c->errs, "%s: %s", path, msg);
}

/* Forward the complete messages of E ("pruner.KEY: reason"), each counted as a
 * fault, prefixed with the origin like every other message. */
static void s_forward(s_ctx_t *c, const sw_errs_t *e)
{
    for (size_t i = 0; i < e->count; i++) {
        c->n++;
        if (!c->errs)
            continue;
        if (c->origin)
            sw_errs_add(c->errs, "%s: %s", c->origin, e->items[i]);
        else
            sw_errs_add(c->errs, "%s", e->items[i]);
    }
    if (e->count == 0)
        c->n++;     /* a fault without a message cannot happen; count it anyway */
}

/* PREFIX.KEY into BUF (just KEY at the root); keys are cut at 128 bytes. */
static const char *s_path(char *buf, const char *prefix, const char *key)
{
    if (!prefix || !*prefix)
        snprintf(buf, S_PATH_MAX, "%.128s", key);
    else
        snprintf(buf, S_PATH_MAX, "%.300s.%.128s", prefix, key);
    return buf;
}

static const char *s_type_name(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    return "invalid";
}

/* ---------------------------------------------------------------------------
 *  Canonical JSON text
 */

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} s_buf_t;

static void s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb) {
            b->oom = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void s_puts(s_buf_t *b, const char *s) { s_put(b, s, strlen(s)); }

/* Shortest of %.15g, %.16g, %.17g that reads back as D; integers plainly. */
static void s_fmt_number(char out[40], double d)
{
    if (!isfinite(d)) {
        strcpy(out, "null");
        return;
    }
    if (d == floor(d) && fabs(d) <= S_INT_MAX_EXACT) {
        snprintf(out, 40, "%lld", (long long)d);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static void s_put_string(s_buf_t *b, const char *s)
{
    s_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': s_put(b, "\\\"", 2); break;
        case '\\': s_put(b, "\\\\", 2); break;
        case '\b': s_put(b, "\\b", 2); break;
        case '\f': s_put(b, "\\f", 2); break;
        case '\n': s_put(b, "\\n", 2); break;
        case '\r': s_put(b, "\\r", 2); break;
        case '\t': s_put(b, "\\t", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                s_put(b, esc, 6);
            } else {
                s_put(b, (const char *)p, 1);
            }
        }
    }
    s_put(b, "\"", 1);
}

static int s_cmp_item_key(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

/* Children of an object, sorted by key; caller frees; *N set. NULL with *N = 0
 * for an empty object; *OOM set on allocation failure. */
static const cJSON **s_sorted_children(const cJSON *obj, int *n, bool *oom)
{
    *n = cJSON_GetArraySize(obj);
    if (*n == 0)
        return NULL;
    const cJSON **kids = malloc((size_t)*n * sizeof *kids);
    if (!kids) {
        *oom = true;
        *n = 0;
        return NULL;
    }
    int i = 0;
    for (const cJSON *it = obj->child; it; it = it->next)
        kids[i++] = it;
    qsort(kids, (size_t)*n, sizeof *kids, s_cmp_item_key);
    return kids;
}

static void s_canon(s_buf_t *b, const cJSON *v)
{
    char num[40];
    if (cJSON_IsObject(v)) {
        int n;
        const cJSON **kids = s_sorted_children(v, &n, &b->oom);
        s_put(b, "{", 1);
        for (int i = 0; i < n; i++) {
            if (i)
                s_put(b, ",", 1);
            s_put_string(b, kids[i]->string ? kids[i]->string : "");
            s_put(b, ":", 1);
            s_canon(b, kids[i]);
        }
        s_put(b, "}", 1);
        free(kids);
    } else if (cJSON_IsArray(v)) {
        s_put(b, "[", 1);
        for (const cJSON *it = v->child; it; it = it->next) {
            if (it != v->child)
                s_put(b, ",", 1);
            s_canon(b, it);
        }
        s_put(b, "]", 1);
    } else if (cJSON_IsNumber(v)) {
        s_fmt_number(num, v->valuedouble);
        s_puts(b, num);
    } else if (cJSON_IsString(v)) {
        s_put_string(b, v->valuestring ? v->valuestring : "");
    } else if (cJSON_IsTrue(v)) {
        s_puts(b, "true");
    } else if (cJSON_IsFalse(v)) {
        s_puts(b, "false");
    } else {
        s_puts(b, "null");
    }
}

char *sw_json_canonical(const cJSON *value)
{
    s_buf_t b = {0};
    s_canon(&b, value);
    if (b.oom) {
        free(b.buf);
        return NULL;
    }
    return b.buf;
}

bool sw_json_equal(const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return a == b;
    if (cJSON_IsNumber(a))
        return cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
    if (cJSON_IsString(a))
        return cJSON_IsString(b) && !strcmp(a->valuestring, b->valuestring);
    if (cJSON_IsTrue(a))
        return cJSON_IsTrue(b);
    if (cJSON_IsFalse(a))
        return cJSON_IsFalse(b);
    if (cJSON_IsNull(a))
        return cJSON_IsNull(b);
    if (cJSON_IsArray(a)) {
        if (!cJSON_IsArray(b))
            return false;
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next)
            if (!sw_json_equal(x, y))
                return false;
        return !x && !y;
    }
    if (cJSON_IsObject(a)) {
        if (!cJSON_IsObject(b) || cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return false;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y || !sw_json_equal(x, y))
                return false;
        }
        return true;
    }
    return false;
}

/* Short printable form of a JSON value for messages (canonical, cut at 60 bytes). */
static void s_show(char out[80], const cJSON *v)
{
    char *t = sw_json_canonical(v);
    if (!t) {
        strcpy(out, "?");
        return;
    }
    if (strlen(t) > 60)
        snprintf(out, 80, "%.57s...", t);
    else
        snprintf(out, 80, "%s", t);
    free(t);
}

/* ---------------------------------------------------------------------------
 *  Field readers: each reports its own fault and returns false
 */

static bool s_expect_type(s_ctx_t *c, const char *path, const cJSON *v, int type,
                          const char *what)
{
    if ((v->type & 0xFF) == type || (type == cJSON_True && cJSON_IsBool(v)))
        return true;
    s_err(c, path, "must be %s (got %s)", what, s_type_name(v));
    return false;
}

/* A finite number. */
static bool s_number(s_ctx_t *c, const char *path, const cJSON *v, double *out)
{
    if (!s_expect_type(c, path, v, cJSON_Number, "a number"))
        return false;
    if (!isfinite(v->valuedouble)) {
        s_err(c, path, "must be a finite number");
        return false;
    }
    *out = v->valuedouble;
    return true;
}

/* An integer in [MIN, MAX]. */
static bool s_integer(s_ctx_t *c, const char *path, const cJSON *v, double min, double max,
                      int64_t *out)
{
    double d;
    if (!s_number(c, path, v, &d))
        return false;
    if (d != floor(d)) {
        char got[40];
        s_fmt_number(got, d);
        s_err(c, path, "must be an integer (got %s)", got);
        return false;
    }
    if (d < min) {
        s_err(c, path, "must be >= %.0f (got %.0f)", min, d);
        return false;
    }
    if (d > max) {
        s_err(c, path, "must be <= %.0f (got %.0f)", max, d);
        return false;
    }
    *out = (int64_t)d;
    return true;
}

/* A finite number >= 0. */
static bool s_nonneg(s_ctx_t *c, const char *path, const cJSON *v, double *out)
{
    if (!s_number(c, path, v, out))
        return false;
    if (*out < 0) {
        char got[40];
        s_fmt_number(got, *out);
        s_err(c, path, "must be >= 0 (got %s)", got);
        return false;
    }
    return true;
}

static bool s_bool(s_ctx_t *c, const char *path, const cJSON *v, bool *out)
{
    if (!s_expect_type(c, path, v, cJSON_True, "a boolean"))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

static bool s_string(s_ctx_t *c, const char *path, const cJSON *v, const char **out)
{
    if (!s_expect_type(c, path, v, cJSON_String, "a string"))
        return false;
    *out = v->valuestring;
    return true;
}

static bool s_object(s_ctx_t *c, const char *path, const cJSON *v)
{
    return s_expect_type(c, path, v, cJSON_Object, "an object");
}

/* Report every key of OBJ not in ALLOWED (NULL-terminated) as "unknown field". */
static void s_known_keys(s_ctx_t *c, const char *prefix, const cJSON *obj,
                         const char *const *allowed)
{
    char path[S_PATH_MAX];
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool ok = false;
        for (int i = 0; allowed[i] && !ok; i++)
            ok = !strcmp(it->string, allowed[i]);
        if (!ok)
            s_err(c, s_path(path, prefix, it->string), "unknown field");
    }
}

/* Every object in the tree: duplicate keys are an error (cJSON keeps both and
 * reads the first, which would silently ignore the user's second value). */
static void s_check_duplicates(s_ctx_t *c, const char *path, const cJSON *v)
{
    char sub[S_PATH_MAX];
    if (cJSON_IsObject(v)) {
        bool oom = false;
        int n;
        const cJSON **kids = s_sorted_children(v, &n, &oom);
        for (int i = 1; i < n; i++)
            if (!strcmp(kids[i - 1]->string, kids[i]->string)
                && (i < 2 || strcmp(kids[i - 2]->string, kids[i]->string)))
                s_err(c, *path ? path : "(root)", "duplicate key '%.128s'", kids[i]->string);
        free(kids);
        for (const cJSON *it = v->child; it; it = it->next)
            s_check_duplicates(c, s_path(sub, path, it->string), it);
    } else if (cJSON_IsArray(v)) {
        int i = 0;
        for (const cJSON *it = v->child; it; it = it->next, i++) {
            snprintf(sub, sizeof sub, "%.400s[%d]", path, i);
            s_check_duplicates(c, sub, it);
        }
    }
}

/* ---------------------------------------------------------------------------
 *  Parameters
 */

static bool s_name_char(char ch, bool allow_dot)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
           || ch == '_' || ch == '-' || (allow_dot && ch == '.');
}

/* Sweep names (ALLOW_DOT) and parameter names: 1-64 characters of a safe set. */
static bool s_name_ok(const char *s, bool allow_dot)
{
    size_t n = strlen(s);
    if (n < 1 || n > S_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!s_name_char(*p, allow_dot))
            return false;
    return true;
}

int64_t sw_param_grid_count(const sw_param_t *param)
{
    if (param->type == SW_PARAM_CATEGORICAL)
        return param->n_values;
    double step = param->step > 0 ? param->step : (param->type == SW_PARAM_INT ? 1 : 0);
    if (step <= 0)
        return -1;
    double n = nearbyint((param->high - param->low) / step) + 1;
    if (n >= 9.2e18)
        return INT64_MAX;
    return (int64_t)n;
}

/* Round to 15 significant digits: drops the binary noise of LOW + I*STEP. */
static double s_clean(double x)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.15g", x);
    return strtod(buf, NULL);
}

cJSON *sw_param_grid_value(const sw_param_t *param, int64_t i)
{
    int64_t n = sw_param_grid_count(param);
    if (n < 0 || i < 0 || i >= n)
        return NULL;
    if (param->type == SW_PARAM_CATEGORICAL)
        return cJSON_Duplicate(cJSON_GetArrayItem(param->values, (int)i), true);
    double step = param->type == SW_PARAM_INT && param->step <= 0 ? 1 : param->step;
    double v;
    if (i == n - 1)
        v = param->high;
    else if (param->type == SW_PARAM_INT)
        v = param->low + (double)i * step;
    else
        v = s_clean(param->low + (double)i * step);
    return cJSON_CreateNumber(v);
}

bool sw_param_contains(const sw_param_t *param, const cJSON *value)
{
    if (!value)
        return false;
    if (param->type == SW_PARAM_CATEGORICAL) {
        for (const cJSON *it = param->values ? param->values->child : NULL; it; it = it->next)
            if (sw_json_equal(it, value))
                return true;
        return false;
    }
    if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble))
        return false;
    double v = value->valuedouble;
    if (v < param->low || v > param->high)
        return false;
    if (param->type == SW_PARAM_INT) {
        if (v != floor(v))
            return false;
        double step = param->step > 0 ? param->step : 1;
        return fmod(v - param->low, step) == 0;
    }
    if (param->step > 0) {
        double k = (v - param->low) / param->step;
        return fabs(k - nearbyint(k)) <= S_STEP_REL_TOL * fmax(1.0, fabs(k));
    }
    return true;
}

/* Check that STEP divides HIGH - LOW; report at PATH. */
static bool s_step_fits(s_ctx_t *c, const char *path, double low, double high, double step)
{
    double k = (high - low) / step;
    if (fabs(k - nearbyint(k)) <= S_STEP_REL_TOL * fmax(1.0, fabs(k)))
        return true;
    char a[40], b[40];
    s_fmt_number(a, high - low);
    s_fmt_number(b, step);
    s_err(c, path, "high - low (%s) is not a multiple of step (%s)", a, b);
    return false;
}

static const char *const s_float_keys[] = {"type", "low", "high", "log", "step", "when", NULL};
static const char *const s_cat_keys[] = {"type", "values", "when", NULL};

/* Validate one parameter object OBJ into P. Returns true when P's domain is usable. */
static bool s_parse_param(s_ctx_t *c, sw_param_t *p, const cJSON *obj)
{
    char pre[S_PATH_MAX], path[S_PATH_MAX];
    s_path(pre, "parameters", p->name);
    int before = c->n;
    if (!s_name_ok(p->name, false))
        s_err(c, pre, "invalid parameter name (use 1-64 characters from A-Z a-z 0-9 _ -)");
    if (!s_object(c, pre, obj))
        return false;

    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    const char *tname = NULL;
    if (!type) {
        s_err(c, s_path(path, pre, "type"), "required field is missing");
        return false;
    }
    if (!s_string(c, s_path(path, pre, "type"), type, &tname))
        return false;
    if (!strcmp(tname, "float")) {
        p->type = SW_PARAM_FLOAT;
    } else if (!strcmp(tname, "int")) {
        p->type = SW_PARAM_INT;
    } else if (!strcmp(tname, "categorical")) {
        p->type = SW_PARAM_CATEGORICAL;
    } else {
        s_err(c, path, "unknown type '%.64s' (expected float, int, categorical)", tname);
        return false;
    }

    /* Fields: unknown, or belonging to another type. */
    const char *const *mine = p->type == SW_PARAM_CATEGORICAL ? s_cat_keys : s_float_keys;
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool in_mine = false, in_other = false;
        for (int i = 0; mine[i]; i++)
            in_mine |= !strcmp(it->string, mine[i]);
        for (int i = 0; s_float_keys[i]; i++)
            in_other |= !strcmp(it->string, s_float_keys[i]);
        for (int i = 0; s_cat_keys[i]; i++)
            in_other |= !strcmp(it->string, s_cat_keys[i]);
        if (in_mine)
            continue;
        s_path(path, pre, it->string);
        if (in_other)
            s_err(c, path, "not allowed for type %s", tname);
        else
            s_err(c, path, "unknown field");
    }
    p->when = cJSON_GetObjectItemCaseSensitive(obj, "when");

    if (p->type == SW_PARAM_CATEGORICAL) {
        const cJSON *vals = cJSON_GetObjectItemCaseSensitive(obj, "values");
        s_path(path, pre, "values");
        if (!vals) {
            s_err(c, path, "required field is missing");
            return false;
        }
        if (!s_expect_type(c, path, vals, cJSON_Array, "an array"))
            return false;
        if (!vals->child) {
            s_err(c, path, "must not be empty");
            return false;
        }
        int i = 0;
        for (const cJSON *it = vals->child; it; it = it->next, i++) {
            char ipath[S_PATH_MAX];
            snprintf(ipath, sizeof ipath, "%.400s[%d]", path, i);
            if (cJSON_IsArray(it) || cJSON_IsObject(it)) {
                s_err(c, ipath, "must be a number, string, boolean or null (got %s)",
                      s_type_name(it));
                continue;
            }
            if (cJSON_IsNumber(it) && !isfinite(it->valuedouble)) {
                s_err(c, ipath, "must be a finite number");
                continue;
            }
            int j = 0;
            for (const cJSON *jt = vals->child; jt != it; jt = jt->next, j++)
                if (sw_json_equal(jt, it)) {
                    s_err(c, ipath, "duplicate of values[%d]", j);
                    break;
                }
        }
        p->values = vals;
        p->n_values = i;
        return c->n == before;
    }

    /* float and int */
    const cJSON *low = cJSON_GetObjectItemCaseSensitive(obj, "low");
    const cJSON *high = cJSON_GetObjectItemCaseSensitive(obj, "high");
    const cJSON *logv = cJSON_GetObjectItemCaseSensitive(obj, "log");
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(obj, "step");
    bool is_int = p->type == SW_PARAM_INT;
    bool low_ok = false, high_ok = false, step_ok = true;
    int64_t iv;
    if (!low)
        s_err(c, s_path(path, pre, "low"), "required field is missing");
    else if (is_int)
        low_ok = s_integer(c, s_path(path, pre, "low"), low, -S_INT_MAX_EXACT, S_INT_MAX_EXACT, &iv)
                 && ((p->low = (double)iv), true);
    else
        low_ok = s_number(c, s_path(path, pre, "low"), low, &p->low);
    if (!high)
        s_err(c, s_path(path, pre, "high"), "required field is missing");
    else if (is_int)
        high_ok = s_integer(c, s_path(path, pre, "high"), high, -S_INT_MAX_EXACT, S_INT_MAX_EXACT, &iv)
                  && ((p->high = (double)iv), true);
    else
        high_ok = s_number(c, s_path(path, pre, "high"), high, &p->high);
    if (logv)
        s_bool(c, s_path(path, pre, "log"), logv, &p->log);
    if (step) {
        s_path(path, pre, "step");
        if (is_int) {
            step_ok = s_integer(c, path, step, 1, S_INT_MAX_EXACT, &iv);
            if (step_ok)
                p->step = (double)iv;
        } else {
            step_ok = s_number(c, path, step, &p->step);
            if (step_ok && p->step <= 0) {
                char got[40];
                s_fmt_number(got, p->step);
                s_err(c, path, "must be > 0 (got %s)", got);
                step_ok = false;
            }
        }
    } else if (is_int) {
        p->step = 1;
    }
    if (low_ok && high_ok && p->low > p->high) {
        char a[40], b[40];
        s_fmt_number(a, p->low);
        s_fmt_number(b, p->high);
        s_err(c, s_path(path, pre, "low"), "must be <= high (%s > %s)", a, b);
        low_ok = false;
    }
    if (low_ok && high_ok && !isfinite(p->high - p->low)) {
        char a[40], b[40];
        s_fmt_number(a, p->low);
        s_fmt_number(b, p->high);
        s_err(c, s_path(path, pre, "high"), "high - low must be a finite number (%s - %s overflows)",
              b, a);
        high_ok = false;
    }
    if (p->log && low_ok) {
        if (is_int && p->low < 1)
            s_err(c, s_path(path, pre, "low"), "must be >= 1 when log is true");
        else if (!is_int && p->low <= 0)
            s_err(c, s_path(path, pre, "low"), "must be > 0 when log is true");
    }
    /* Optuna: step and log are exclusive (an int's default step 1 is fine). */
    if (p->log && step && step_ok && (!is_int || p->step != 1)) {
        s_err(c, s_path(path, pre, "step"), "cannot be combined with log");
        step_ok = false;
    }
    if (step && step_ok && low_ok && high_ok)
        s_step_fits(c, s_path(path, pre, "step"), p->low, p->high, p->step);
    return c->n == before;
}

static int s_cmp_param(const void *a, const void *b)
{
    return strcmp(((const sw_param_t *)a)->name, ((const sw_param_t *)b)->name);
}

static int s_param_index(const sw_spec_t *spec, const char *name)
{
    int lo = 0, hi = spec->n_params - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, r = strcmp(name, spec->params[mid].name);
        if (!r)
            return mid;
        if (r < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

const sw_param_t *sw_spec_param(const sw_spec_t *spec, const char *name)
{
    int i = s_param_index(spec, name);
    return i < 0 ? NULL : &spec->params[i];
}

/* Check every `when`. USABLE[i] says whether parameter i's domain is valid (its
 * values can be checked against). Returns false when some condition is bad. */
static bool s_check_when(s_ctx_t *c, const sw_spec_t *spec, const bool *usable)
{
    char pre[S_PATH_MAX], path[S_PATH_MAX], ipath[S_PATH_MAX], shown[80];
    int before = c->n;
    for (int i = 0; i < spec->n_params; i++) {
        const sw_param_t *p = &spec->params[i];
        if (!p->when)
            continue;
        snprintf(pre, sizeof pre, "parameters.%.128s.when", p->name);
        if (!s_object(c, pre, p->when))
            continue;
        if (!p->when->child) {
            s_err(c, pre, "must name at least one parameter");
            continue;
        }
        for (const cJSON *it = p->when->child; it; it = it->next) {
            s_path(path, pre, it->string);
            int q = s_param_index(spec, it->string);
            if (q < 0) {
                s_err(c, path, "unknown parameter '%.64s'", it->string);
                continue;
            }
            if (q == i) {
                s_err(c, path, "a parameter cannot depend on itself");
                continue;
            }
            if (cJSON_IsArray(it) && !it->child) {
                s_err(c, path, "must be a value or a non-empty array of values");
                continue;
            }
            if (!usable[q])
                continue;
            const sw_param_t *qp = &spec->params[q];
            if (qp->type == SW_PARAM_FLOAT && qp->step <= 0) {
                s_err(c, path, "%.64s is a continuous float: a condition on one of its values "
                      "almost never holds (give it a step, or make it categorical)", it->string);
                continue;
            }
            if (cJSON_IsArray(it)) {
                int k = 0;
                for (const cJSON *v = it->child; v; v = v->next, k++)
                    if (!sw_param_contains(&spec->params[q], v)) {
                        snprintf(ipath, sizeof ipath, "%.400s[%d]", path, k);
                        s_show(shown, v);
                        s_err(c, ipath, "%s is not in the domain of %.64s", shown, it->string);
                    }
            } else if (!sw_param_contains(&spec->params[q], it)) {
                s_show(shown, it);
                s_err(c, path, "%s is not in the domain of %.64s", shown, it->string);
            }
        }
    }
    return c->n == before;
}

/* Dependency edges p -> q for each q named in p's `when` (valid references only). */
static int s_deps(const sw_spec_t *spec, int p, int *out)
{
    int n = 0;
    const cJSON *w = spec->params[p].when;
    if (!cJSON_IsObject(w))
        return 0;
    for (const cJSON *it = w->child; it; it = it->next) {
        int q = s_param_index(spec, it->string);
        if (q >= 0 && q != p)
            out[n++] = q;
    }
    return n;
}

/* Depth-first search for cycles; ORDER receives a dependency-first order.
 * COLOR: 0 unseen, 1 on the stack, 2 done. */
static void s_dfs(s_ctx_t *c, const sw_spec_t *spec, int p, int *color, int *stack, int depth,
                  int *order, int *n_order)
{
    color[p] = 1;
    stack[depth] = p;
    int *deps = malloc(((size_t)spec->n_params + 1) * sizeof *deps);
    int nd = deps ? s_deps(spec, p, deps) : 0;
    for (int k = 0; k < nd; k++) {
        int q = deps[k];
        if (color[q] == 1) {
            /* cycle: q ... p -> q */
            char msg[S_PATH_MAX] = "", path[S_PATH_MAX];
            int start = 0;
            while (stack[start] != q)
                start++;
            size_t len = 0;
            for (int s = start; s <= depth && len < sizeof msg - 80; s++)
                len += (size_t)snprintf(msg + len, sizeof msg - len, "%.64s -> ",
                                        spec->params[stack[s]].name);
            snprintf(msg + len, sizeof msg - len, "%.64s", spec->params[q].name);
            snprintf(path, sizeof path, "parameters.%.128s.when", spec->params[q].name);
            s_err(c, path, "cycle %s", msg);
        } else if (color[q] == 0) {
            s_dfs(c, spec, q, color, stack, depth + 1, order, n_order);
        }
    }
    free(deps);
    color[p] = 2;
    order[(*n_order)++] = p;
}

/* ---------------------------------------------------------------------------
 *  Activity and grid enumeration
 */

static bool s_allowed_value(const cJSON *allowed, const cJSON *v)
{
    if (!v)
        return false;
    if (cJSON_IsArray(allowed)) {
        for (const cJSON *it = allowed->child; it; it = it->next)
            if (sw_json_equal(it, v))
                return true;
        return false;
    }
    return sw_json_equal(allowed, v);
}

void sw_spec_active(const sw_spec_t *spec, const cJSON *const *values, bool *active)
{
    const struct sw_spec_grid *g = spec->grid_;
    for (int k = 0; k < spec->n_params; k++) {
        int p = g ? g->order[k] : k;
        bool a = true;
        for (int j = g ? g->cond_off[p] : 0; g && j < g->cond_off[p + 1] && a; j++)
            a = active[g->conds[j].q] && s_allowed_value(g->conds[j].allowed, values[g->conds[j].q]);
        active[p] = a;
    }
}

/* Decode raw mixed-radix index R into IDX; fill ACTIVE; return whether the point is
 * canonical (every inactive parameter at index 0). */
static bool s_decode(const sw_spec_t *spec, int64_t r, int64_t *idx, bool *active)
{
    const struct sw_spec_grid *g = spec->grid_;
    for (int p = spec->n_params - 1; p >= 0; p--) {
        idx[p] = r % g->radix[p];
        r /= g->radix[p];
    }
    if (!g->conditional)
        return true;
    bool canonical = true;
    for (int k = 0; k < spec->n_params; k++) {
        int p = g->order[k];
        bool a = true;
        for (int j = g->cond_off[p]; j < g->cond_off[p + 1] && a; j++)
            a = active[g->conds[j].q] && g->conds[j].mask[idx[g->conds[j].q]];
        active[p] = a;
        if (!a && idx[p] != 0)
            canonical = false;
    }
    return canonical;
}

int sw_spec_grid_point(const sw_spec_t *spec, int64_t number, int64_t *idx)
{
    const struct sw_spec_grid *g = spec->grid_;
    if (!g || !g->enumerable)
        return SW_EINVAL;
    if (number < 0 || number >= spec->grid_size)
        return SW_EEXHAUSTED;
    bool *active = calloc((size_t)spec->n_params + 1, sizeof *active);
    if (!active)
        return SW_ENOMEM;
    if (!g->conditional) {
        s_decode(spec, number, idx, active);
    } else {
        int64_t k = number / g->stride, left = number % g->stride;
        for (int64_t r = g->check[k];; r++) {
            if (s_decode(spec, r, idx, active) && left-- == 0)
                break;
        }
        for (int p = 0; p < spec->n_params; p++)
            if (!active[p])
                idx[p] = -1;
    }
    free(active);
    return 0;
}

int64_t sw_spec_grid_size(const sw_spec_t *spec)
{
    return spec->grid_size;
}

static void s_grid_free(struct sw_spec_grid **gp)
{
    struct sw_spec_grid *g = *gp;
    if (!g)
        return;
    for (int j = 0; g->conds && j < g->n_conds; j++)
        free(g->conds[j].mask);
    free(g->conds);
    free(g->cond_off);
    free(g->order);
    free(g->radix);
    free(g->check);
    free(g);
    *gp = NULL;
}

/* Build the private tables of a valid spec; ORDER (dependency order) is taken over.
 * Returns 0 or SW_ENOMEM. */
static int s_grid_build(sw_spec_t *spec, int *order)
{
    int n = spec->n_params;
    struct sw_spec_grid *g = calloc(1, sizeof *g);
    if (!g) {
        free(order);
        return SW_ENOMEM;
    }
    spec->grid_ = g;
    g->order = order;
    g->cond_off = calloc((size_t)n + 1, sizeof *g->cond_off);
    g->radix = calloc((size_t)n + 1, sizeof *g->radix);
    int n_conds = 0;
    for (int p = 0; p < n; p++)
        n_conds += cJSON_IsObject(spec->params[p].when) ? cJSON_GetArraySize(spec->params[p].when) : 0;
    g->conds = calloc((size_t)n_conds + 1, sizeof *g->conds);
    if (!g->cond_off || !g->radix || !g->conds)
        return SW_ENOMEM;
    g->n_conds = n_conds;
    int j = 0;
    for (int p = 0; p < n; p++) {
        g->cond_off[p] = j;
        const cJSON *w = spec->params[p].when;
        for (const cJSON *it = w ? w->child : NULL; it; it = it->next) {
            g->conds[j].q = s_param_index(spec, it->string);
            g->conds[j].allowed = it;
            j++;
        }
    }
    g->cond_off[n] = j;
    g->conditional = j > 0;

    g->full = 1;
    for (int p = 0; p < n; p++) {
        g->radix[p] = sw_param_grid_count(&spec->params[p]);
        if (g->radix[p] < 0)
            g->full = -1;
        else if (g->full >= 0)
            g->full = g->radix[p] != 0 && g->full > INT64_MAX / g->radix[p] ? INT64_MAX
                                                                             : g->full * g->radix[p];
    }
    spec->grid_size = g->full;
    if (g->full < 0)
        return 0;
    if (!g->conditional) {
        g->enumerable = true;
        return 0;
    }
    if (g->full > SW_SPEC_GRID_MAX)
        return 0;   /* upper bound only; a grid this large was rejected by validation */

    /* Condition masks over the referenced parameter's grid values. */
    for (j = 0; j < g->cond_off[n]; j++) {
        s_cond_t *cd = &g->conds[j];
        int64_t m = g->radix[cd->q];
        cd->mask = calloc((size_t)m, 1);
        if (!cd->mask)
            return SW_ENOMEM;
        for (int64_t i = 0; i < m; i++) {
            cJSON *v = sw_param_grid_value(&spec->params[cd->q], i);
            if (!v)
                return SW_ENOMEM;
            cd->mask[i] = s_allowed_value(cd->allowed, v);
            cJSON_Delete(v);
        }
    }
    /* Two passes over the raw product: count the canonical points, then keep
     * one checkpoint every STRIDE of them, so a lookup scans at most a few
     * hundred raw points (see sw_spec_grid_point). */
    int64_t *idx = calloc((size_t)n, sizeof *idx);
    bool *active = calloc((size_t)n, sizeof *active);
    if (!idx || !active) {
        free(idx);
        free(active);
        return SW_ENOMEM;
    }
    int64_t count = 0;
    for (int64_t r = 0; r < g->full; r++)
        count += s_decode(spec, r, idx, active);
    g->stride = count / S_CHECKPOINTS + 1;
    g->n_check = count / g->stride + 1;
    g->check = calloc((size_t)g->n_check, sizeof *g->check);
    if (!g->check) {
        free(idx);
        free(active);
        return SW_ENOMEM;
    }
    int64_t seen = 0;
    for (int64_t r = 0; r < g->full; r++)
        if (s_decode(spec, r, idx, active)) {
            if (seen % g->stride == 0)
                g->check[seen / g->stride] = r;
            seen++;
        }
    free(idx);
    free(active);
    spec->grid_size = count;
    g->enumerable = true;
    return 0;
}

/* ---------------------------------------------------------------------------
 *  The document
 */

static const char *const s_top_keys[] = {"name", "objective", "method", "seed", "parameters",
                                         "cv", "limits", "pruner", "sampler", "trainer", NULL};
static const char *const s_objective_keys[] = {"metric", "direction", NULL};
static const char *const s_cv_keys[] = {"folds", "stratified", "seed", NULL};
static const char *const s_limits_keys[] = {"max_trials", "max_failed", "max_retries",
                                            "max_time_s", "trial_timeout_s", NULL};
static const char *const s_command_keys[] = {"type", "argv", NULL};


/* JSON syntax error at byte offset OFF of TEXT (LEN bytes). */
static void s_syntax_error(s_ctx_t *c, const char *text, size_t len, size_t off, const char *what)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char path[64];
    snprintf(path, sizeof path, "line %d, column %d", line, col);
    if (what) {
        s_err(c, path, "%s", what);
        return;
    }
    if (off >= len) {
        s_err(c, path, "JSON syntax error at end of input");
        return;
    }
    char near[24];
    size_t k = 0;
    for (size_t i = off; i < len && k < 16 && text[i] != '\n' && text[i] != '\r'; i++)
        near[k++] = text[i];
    near[k] = '\0';
    s_err(c, path, "JSON syntax error at '%s'", near);
}

static void s_parse_objective(s_ctx_t *c, sw_spec_t *spec, const cJSON *obj)
{
    if (!obj) {
        s_err(c, "objective", "required field is missing");
        return;
    }
    if (!s_object(c, "objective", obj))
        return;
    s_known_keys(c, "objective", obj, s_objective_keys);
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(obj, "metric");
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(obj, "direction");
    const char *s;
    if (!metric)
        s_err(c, "objective.metric", "required field is missing");
    else if (s_string(c, "objective.metric", metric, &s)) {
        if (!*s)
            s_err(c, "objective.metric", "must not be empty");
        else if (!(spec->metric = strdup(s)))
            c->n++;
    }
    if (!dir)
        s_err(c, "objective.direction", "required field is missing");
    else if (s_string(c, "objective.direction", dir, &s)) {
        if (!strcmp(s, "minimize"))
            spec->direction = SW_DIR_MINIMIZE;
        else if (!strcmp(s, "maximize"))
            spec->direction = SW_DIR_MAXIMIZE;
        else
            s_err(c, "objective.direction", "unknown direction '%.64s' (expected minimize, maximize)", s);
    }
}

/* Returns false when the parameters are unusable for later cross-checks. */
static bool s_parse_parameters(s_ctx_t *c, sw_spec_t *spec, const cJSON *obj, bool **usable_out)
{
    if (!obj) {
        s_err(c, "parameters", "required field is missing");
        return false;
    }
    if (!s_object(c, "parameters", obj))
        return false;
    int n = cJSON_GetArraySize(obj);
    if (n == 0) {
        s_err(c, "parameters", "must not be empty");
        return false;
    }
    spec->params = calloc((size_t)n, sizeof *spec->params);
    bool *usable = calloc((size_t)n, sizeof *usable);
    if (!spec->params || !usable) {
        free(usable);
        c->n++;
        return false;
    }
    /* Sort by name first, so checks run (and report) in grid order whatever the
     * key order in the file; WHEN holds the parameter's object until parsed. */
    int i = 0;
    for (const cJSON *it = obj->child; it; it = it->next, i++) {
        spec->params[i].name = strdup(it->string);
        spec->params[i].when = it;
        if (!spec->params[i].name) {
            free(usable);
            c->n++;
            return false;
        }
        spec->n_params = i + 1;
    }
    qsort(spec->params, (size_t)n, sizeof *spec->params, s_cmp_param);
    for (i = 0; i < n; i++) {
        const cJSON *pobj = spec->params[i].when;
        spec->params[i].when = NULL;
        usable[i] = s_parse_param(c, &spec->params[i], pobj);
    }
    *usable_out = usable;
    return true;
}

static void s_parse_cv(s_ctx_t *c, sw_spec_t *spec, const cJSON *obj)
{
    spec->cv_stratified = true;
    if (!obj)
        return;
    if (!s_object(c, "cv", obj))
        return;
    s_known_keys(c, "cv", obj, s_cv_keys);
    const cJSON *folds = cJSON_GetObjectItemCaseSensitive(obj, "folds");
    const cJSON *strat = cJSON_GetObjectItemCaseSensitive(obj, "stratified");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(obj, "seed");
    int64_t v;
    if (folds && s_integer(c, "cv.folds", folds, -S_INT_MAX_EXACT, S_INT_MAX_EXACT, &v)) {
        if (v < 0 || v == 1)
            s_err(c, "cv.folds", "must be 0 (no cross-validation) or >= 2 (got %lld)", (long long)v);
        else if (v > 100000)
            s_err(c, "cv.folds", "must be <= 100000 (got %lld)", (long long)v);
        else
            spec->cv_folds = (int)v;
    }
    if (strat)
        s_bool(c, "cv.stratified", strat, &spec->cv_stratified);
    if (seed && s_integer(c, "cv.seed", seed, 0, S_INT_MAX_EXACT, &v))
        spec->cv_seed = (uint64_t)v;
}

static void s_parse_limits(s_ctx_t *c, sw_spec_t *spec, const cJSON *obj)
{
    spec->max_retries = 3;
    if (!obj)
        return;
    if (!s_object(c, "limits", obj))
        return;
    s_known_keys(c, "limits", obj, s_limits_keys);
    const cJSON *v;
    int64_t iv;
    double d;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "max_trials"))
        && s_integer(c, "limits.max_trials", v, 0, S_INT_MAX_EXACT, &iv))
        spec->max_trials = iv;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "max_failed"))
        && s_integer(c, "limits.max_failed", v, 0, S_INT_MAX_EXACT, &iv))
        spec->max_failed = iv;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "max_retries"))
        && s_integer(c, "limits.max_retries", v, 0, 1000000, &iv))
        spec->max_retries = (int)iv;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "max_time_s"))
        && s_nonneg(c, "limits.max_time_s", v, &d))
        spec->max_time_s = d;
    if ((v = cJSON_GetObjectItemCaseSensitive(obj, "trial_timeout_s"))
        && s_nonneg(c, "limits.trial_timeout_s", v, &d))
        spec->trial_timeout_s = d;
}

/* pruner / sampler: an object with a string `type`; the rest is its module's. */
static const cJSON *s_parse_typed_object(s_ctx_t *c, const char *key, const cJSON *obj)
{
    if (!obj)
        return NULL;
    if (!s_object(c, key, obj))
        return NULL;
    char path[S_PATH_MAX];
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    const char *s;
    s_path(path, key, "type");
    if (!type) {
        s_err(c, path, "required field is missing");
        return NULL;
    }
    if (!s_string(c, path, type, &s))
        return NULL;
    if (!*s) {
        s_err(c, path, "must not be empty");
        return NULL;
    }
    return obj;
}

/* Check the placeholders of one argv element: "{name}" must name a parameter. */
static void s_check_placeholders(s_ctx_t *c, const sw_spec_t *spec, bool params_ok,
                                 const char *path, const char *arg)
{
    for (const char *p = strchr(arg, '{'); p; p = strchr(p + 1, '{')) {
        size_t k = 1;
        while (p[k] && s_name_char(p[k], false))
            k++;
        if (k == 1 || p[k] != '}')
            continue;   /* not a placeholder: literal text */
        char name[S_NAME_MAX * 4];
        snprintf(name, sizeof name, "%.*s", (int)(k - 1 < 200 ? k - 1 : 200), p + 1);
        if (params_ok && s_param_index(spec, name) < 0)
            s_err(c, path, "unknown placeholder '{%s}' (no parameter of that name)", name);
    }
}

static void s_parse_trainer(s_ctx_t *c, sw_spec_t *spec, const cJSON *obj, bool params_ok)
{
    if (!obj) {
        s_err(c, "trainer", "required field is missing");
        return;
    }
    if (!s_object(c, "trainer", obj))
        return;
    spec->trainer = obj;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
    const char *s;
    if (!type) {
        s_err(c, "trainer.type", "required field is missing");
        return;
    }
    if (!s_string(c, "trainer.type", type, &s))
        return;
    if (!strcmp(s, "mlp") || !strcmp(s, "function"))
        return;     /* the trainer module checks the rest */
    if (strcmp(s, "command")) {
        s_err(c, "trainer.type", "unknown trainer '%.64s' (expected mlp, command, function)", s);
        return;
    }
    s_known_keys(c, "trainer", obj, s_command_keys);
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(obj, "argv");
    if (!argv) {
        s_err(c, "trainer.argv", "required field is missing");
        return;
    }
    if (!s_expect_type(c, "trainer.argv", argv, cJSON_Array, "an array of strings"))
        return;
    if (!argv->child) {
        s_err(c, "trainer.argv", "must not be empty");
        return;
    }
    int i = 0;
    for (const cJSON *it = argv->child; it; it = it->next, i++) {
        char path[64];
        snprintf(path, sizeof path, "trainer.argv[%d]", i);
        const char *arg;
        if (!s_string(c, path, it, &arg))
            continue;
        if (i == 0 && !*arg)
            s_err(c, path, "must not be empty");
        s_check_placeholders(c, spec, params_ok, path, arg);
    }
}

sw_spec_t *sw_spec_parse(const char *text, size_t len, const char *origin, sw_errs_t *errs)
{
    s_ctx_t c = {.errs = errs, .origin = origin, .n = 0};
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        s_syntax_error(&c, text, len, (size_t)(nul - text), "NUL byte in JSON text");
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (!copy) {
        s_err(&c, "(root)", "out of memory");
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(copy, &end, 1);
    if (!root) {
        size_t off = end ? (size_t)(end - copy) : 0;
        const char *ep = cJSON_GetErrorPtr();
        if (!end && ep && ep >= copy && ep <= copy + len)
            off = (size_t)(ep - copy);
        s_syntax_error(&c, copy, len, off, NULL);
        free(copy);
        return NULL;
    }
    free(copy);

    sw_spec_t *spec = calloc(1, sizeof *spec);
    if (!spec) {
        cJSON_Delete(root);
        s_err(&c, "(root)", "out of memory");
        return NULL;
    }
    spec->root = root;
    spec->max_retries = 3;
    spec->cv_stratified = true;
    bool *usable = NULL;
    int *order = NULL;
    if (!s_object(&c, "(root)", root))
        goto done;
    s_check_duplicates(&c, "", root);
    s_known_keys(&c, "", root, s_top_keys);

    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "name");
    const char *s;
    if (!v)
        s_err(&c, "name", "required field is missing");
    else if (s_string(&c, "name", v, &s)) {
        if (!s_name_ok(s, true))
            s_err(&c, "name", "must be 1-64 characters from A-Z a-z 0-9 . _ - (got '%.80s')", s);
        else if (!(spec->name = strdup(s)))
            c.n++;
    }
    s_parse_objective(&c, spec, cJSON_GetObjectItemCaseSensitive(root, "objective"));

    v = cJSON_GetObjectItemCaseSensitive(root, "method");
    bool method_ok = false;
    if (!v)
        s_err(&c, "method", "required field is missing");
    else if (s_string(&c, "method", v, &s)) {
        method_ok = true;
        if (!strcmp(s, "grid"))
            spec->method = SW_METHOD_GRID;
        else if (!strcmp(s, "random"))
            spec->method = SW_METHOD_RANDOM;
        else if (!strcmp(s, "tpe"))
            spec->method = SW_METHOD_TPE;
        else {
            s_err(&c, "method", "unknown method '%.64s' (expected grid, random, tpe)", s);
            method_ok = false;
        }
    }
    int64_t iv;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "seed")) && s_integer(&c, "seed", v, 0, S_INT_MAX_EXACT, &iv))
        spec->seed = (uint64_t)iv;

    bool params_ok = s_parse_parameters(&c, spec, cJSON_GetObjectItemCaseSensitive(root, "parameters"), &usable);
    if (params_ok) {
        s_check_when(&c, spec, usable);
        /* cycles, and the dependency order used for activity */
        int n = spec->n_params;
        int *color = calloc((size_t)n, sizeof *color);
        int *stack = calloc((size_t)n, sizeof *stack);
        order = calloc((size_t)n, sizeof *order);
        if (!color || !stack || !order) {
            c.n++;
        } else {
            int n_order = 0;
            for (int p = 0; p < n; p++)
                if (!color[p])
                    s_dfs(&c, spec, p, color, stack, 0, order, &n_order);
        }
        free(color);
        free(stack);
        /* grid: finite domains, bounded size */
        if (method_ok && spec->method == SW_METHOD_GRID) {
            bool finite = true, all_usable = true;
            int64_t full = 1;
            for (int p = 0; p < n; p++) {
                all_usable &= usable[p];
                if (!usable[p])
                    continue;
                int64_t k = sw_param_grid_count(&spec->params[p]);
                if (k < 0) {
                    char path[S_PATH_MAX];
                    s_path(path, "parameters", spec->params[p].name);
                    s_err(&c, path, "the grid method needs a finite domain (give this float a step)");
                    finite = false;
                } else {
                    full = k != 0 && full > INT64_MAX / k ? INT64_MAX : full * k;
                }
            }
            if (finite && all_usable && full > SW_SPEC_GRID_MAX) {
                if (full == INT64_MAX)
                    s_err(&c, "parameters", "the grid has more than 2^63 points (at most %d)",
                          SW_SPEC_GRID_MAX);
                else
                    s_err(&c, "parameters", "the grid has %lld points (at most %d)", (long long)full,
                          SW_SPEC_GRID_MAX);
            }
        }
    }
    s_parse_cv(&c, spec, cJSON_GetObjectItemCaseSensitive(root, "cv"));
    s_parse_limits(&c, spec, cJSON_GetObjectItemCaseSensitive(root, "limits"));
    spec->pruner = s_parse_typed_object(&c, "pruner", cJSON_GetObjectItemCaseSensitive(root, "pruner"));
    if (spec->pruner) {
        sw_pruner_opts_t po;
        sw_errs_t e = {0};
        if (sw_spec_pruner_options(spec->pruner, spec->metric, spec->direction, &po, &e) < 0)
            s_forward(&c, &e);
        sw_errs_clear(&e);
    }
    if (spec->pruner) {
        const cJSON *pf = cJSON_GetObjectItemCaseSensitive(spec->pruner, "folds");
        if (cJSON_IsTrue(pf) && spec->cv_folds < 2)
            s_err(&c, "pruner.folds", "fold pruning needs cross-validation (cv.folds >= 2)");
    }
    spec->sampler = s_parse_typed_object(&c, "sampler", cJSON_GetObjectItemCaseSensitive(root, "sampler"));
    if (spec->sampler && spec->method != SW_METHOD_TPE) {
        s_err(&c, "sampler", "sampler options are only used with method tpe (method is %s)",
              spec->method == SW_METHOD_GRID ? "grid" : "random");
    } else if (spec->sampler) {
        sw_tpe_opts_t to;
        sw_errs_t e = {0};
        if (sw_spec_tpe_options(spec->sampler, &to, &e) < 0)
            s_forward(&c, &e);
        sw_errs_clear(&e);
    }
    s_parse_trainer(&c, spec, cJSON_GetObjectItemCaseSensitive(root, "trainer"), params_ok);

done:
    free(usable);
    if (c.n == 0) {
        int rc = s_grid_build(spec, order);
        order = NULL;
        spec->canonical = sw_json_canonical(root);
        if (rc < 0 || !spec->canonical)
            s_err(&c, "(root)", "out of memory");
    }
    free(order);
    if (c.n > 0)
        sw_spec_destroy(&spec);
    return spec;
}

sw_spec_t *sw_spec_load(const char *path, sw_errs_t *errs)
{
    size_t len = 0;
    int err = 0;
    char *buf = sw_file_read(path, (size_t)64 << 20, &len, &err);
    if (!buf) {
        if (errs)
            sw_errs_add(errs, "%s: cannot read: %s", path,
                        err == -EFBIG ? "larger than 64 MiB" : sw_strerror(err));
        return NULL;
    }
    sw_spec_t *spec = sw_spec_parse(buf, len, path, errs);
    free(buf);
    return spec;
}

void sw_spec_destroy(sw_spec_t **spec_p)
{
    if (!spec_p || !*spec_p)
        return;
    sw_spec_t *spec = *spec_p;
    s_grid_free(&spec->grid_);
    for (int i = 0; i < spec->n_params; i++)
        free(spec->params[i].name);
    free(spec->params);
    free(spec->name);
    free(spec->metric);
    free(spec->canonical);
    cJSON_Delete(spec->root);
    free(spec);
    *spec_p = NULL;
}

/* ---------------------------------------------------------------------------
 *  Comparison
 */

static int s_diff(const cJSON *a, const cJSON *b, const char *path, bool ignore_limits, sw_errs_t *diffs)
{
    char sub[S_PATH_MAX];
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        int n = 0;
        for (const cJSON *x = a->child; x; x = x->next) {
            const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            s_path(sub, path, x->string);
            if (y)
                n += s_diff(x, y, sub, ignore_limits, diffs);
            else
                n += s_diff(x, NULL, sub, ignore_limits, diffs);
        }
        for (const cJSON *y = b->child; y; y = y->next)
            if (!cJSON_GetObjectItemCaseSensitive(a, y->string))
                n += s_diff(NULL, y, s_path(sub, path, y->string), ignore_limits, diffs);
        return n;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b) && cJSON_GetArraySize(a) == cJSON_GetArraySize(b)) {
        int n = 0, i = 0;
        for (const cJSON *x = a->child, *y = b->child; x && y; x = x->next, y = y->next, i++) {
            snprintf(sub, sizeof sub, "%.400s[%d]", path, i);
            n += s_diff(x, y, sub, ignore_limits, diffs);
        }
        return n;
    }
    if (a && b && sw_json_equal(a, b))
        return 0;
    if (diffs)
        sw_errs_add(diffs, "%s", *path ? path : "(root)");
    bool is_limit = !strncmp(path, "limits", 6) && (path[6] == '\0' || path[6] == '.');
    return ignore_limits && is_limit ? 0 : 1;
}

int sw_spec_diff(const sw_spec_t *a, const sw_spec_t *b, bool ignore_limits, sw_errs_t *diffs)
{
    if (a->canonical && b->canonical && !strcmp(a->canonical, b->canonical))
        return 0;
    return s_diff(a->root, b->root, "", ignore_limits, diffs);
}

/* ---------------------------------------------------------------------------
 *  Pruner and sampler options (sw_spec_pruner_options, sw_spec_tpe_options)
 */

/* Whether KEY is in the NULL-terminated LIST (LIST may be NULL). */
static bool s_in(const char *key, const char *const *list)
{
    for (int i = 0; list && list[i]; i++)
        if (!strcmp(key, list[i]))
            return true;
    return false;
}

/* Number option KEY of object O (absent: *OUT unchanged). INTEGER: integral and
 * <= 1e9; the bound is MIN, open (>) or closed (>=). */
static bool s_opt_num(sw_errs_t *errs, const char *obj, const cJSON *o, const char *key,
                      double min, bool integer, bool min_open, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return true;
    bool ok = cJSON_IsNumber(v) && isfinite(v->valuedouble)
              && (min_open ? v->valuedouble > min : v->valuedouble >= min)
              && (!integer || (v->valuedouble == floor(v->valuedouble) && v->valuedouble <= 1e9));
    if (!ok) {
        if (errs)
            sw_errs_add(errs, "%s.%s: must be %s %s %g", obj, key,
                        integer ? "an integer" : "a number", min_open ? ">" : ">=", min);
        return false;
    }
    *out = v->valuedouble;
    return true;
}

static bool s_opt_int(sw_errs_t *errs, const char *obj, const cJSON *o, const char *key, int min,
                      int *out)
{
    double d = *out;
    bool ok = s_opt_num(errs, obj, o, key, min, true, false, &d);
    *out = (int)d;
    return ok;
}

/* String option KEY of object O naming one of CHOICES (NULL-terminated): *OUT = its
 * index (absent: *OUT unchanged). The message lists the choices. */
static bool s_opt_choice(sw_errs_t *errs, const char *obj, const cJSON *o, const char *key,
                         const char *const *choices, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return true;
    for (int i = 0; cJSON_IsString(v) && choices[i]; i++)
        if (!strcmp(v->valuestring, choices[i])) {
            *out = i;
            return true;
        }
    if (errs) {
        char list[256] = "";
        size_t n = 0;
        for (int i = 0; choices[i] && n < sizeof list; i++)
            n += (size_t)snprintf(list + n, sizeof list - n, "%s\"%s\"",
                                  !i ? "" : choices[i + 1] ? ", " : " or ", choices[i]);
        sw_errs_add(errs, "%s.%s: must be %s", obj, key, list);
    }
    return false;
}

static bool s_opt_bool(sw_errs_t *errs, const char *obj, const cJSON *o, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return true;
    if (!cJSON_IsBool(v)) {
        if (errs)
            sw_errs_add(errs, "%s.%s: must be true or false", obj, key);
        return false;
    }
    *out = cJSON_IsTrue(v);
    return true;
}

int sw_spec_pruner_options(const cJSON *o, const char *objective_metric,
                           sw_direction_t objective_direction, sw_pruner_opts_t *out,
                           sw_errs_t *errs)
{
    memset(out, 0, sizeof *out);
    out->type = SW_PRUNER_NONE;
    out->metric = objective_metric;
    out->direction = objective_direction;
    out->n_startup_trials = 5;
    out->interval_steps = 1;
    out->min_resource = 1;
    out->reduction_factor = 3;
    if (!o)
        return 0;
    if (!cJSON_IsObject(o)) {
        if (errs)
            sw_errs_add(errs, "pruner: must be an object");
        return SW_EINVAL;
    }
    static const char *const common[] = {"type", "metric", "direction", "folds", NULL};
    static const char *const median[] = {"n_startup_trials", "n_warmup_steps", "interval_steps", NULL};
    static const char *const asha[] = {"min_resource", "min_step", "reduction_factor", "max_resource",
                                       "min_early_stopping_rate", "n_startup_trials", NULL};
    static const char *const hyper[] = {"min_resource", "min_step", "reduction_factor", "max_resource",
                                        "n_startup_trials", NULL};
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    const char *ty = cJSON_IsString(type) ? type->valuestring : "";
    const char *const *own = NULL;
    if (!strcmp(ty, "none")) {
        out->type = SW_PRUNER_NONE;
    } else if (!strcmp(ty, "median")) {
        out->type = SW_PRUNER_MEDIAN;
        own = median;
    } else if (!strcmp(ty, "asha")) {
        out->type = SW_PRUNER_ASHA;
        own = asha;
    } else if (!strcmp(ty, "hyperband")) {
        out->type = SW_PRUNER_HYPERBAND;
        own = hyper;
    } else {
        if (errs)
            sw_errs_add(errs, "pruner.type: must be \"none\", \"median\", \"asha\" or \"hyperband\"");
        return SW_EINVAL;
    }
    bool ok = true;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        if (!s_in(k, common) && !s_in(k, own)) {
            if (errs)
                sw_errs_add(errs, "pruner.%s: unknown option for the %s pruner", k, ty);
            ok = false;
        }
    }
    if (out->type != SW_PRUNER_MEDIAN && !cJSON_GetObjectItemCaseSensitive(o, "n_startup_trials"))
        out->n_startup_trials = 0;     /* rungs need no startup unless asked */
    ok &= s_opt_int(errs, "pruner", o, "n_startup_trials", 0, &out->n_startup_trials);
    ok &= s_opt_int(errs, "pruner", o, "n_warmup_steps", 0, &out->n_warmup_steps);
    ok &= s_opt_int(errs, "pruner", o, "interval_steps", 1, &out->interval_steps);
    if (cJSON_GetObjectItemCaseSensitive(o, "min_step")
        && cJSON_GetObjectItemCaseSensitive(o, "min_resource")) {
        if (errs)
            sw_errs_add(errs, "pruner.min_step: give min_resource or its alias min_step, not both");
        ok = false;
    }
    ok &= s_opt_num(errs, "pruner", o, "min_step", 0, false, true, &out->min_resource);
    ok &= s_opt_num(errs, "pruner", o, "min_resource", 0, false, true, &out->min_resource);
    ok &= s_opt_num(errs, "pruner", o, "reduction_factor", 1, false, true, &out->reduction_factor);
    bool max_ok = s_opt_num(errs, "pruner", o, "max_resource", 0, false, true, &out->max_resource);
    ok &= max_ok;
    ok &= s_opt_int(errs, "pruner", o, "min_early_stopping_rate", 0, &out->min_early_stopping_rate);
    if (out->type == SW_PRUNER_HYPERBAND && !cJSON_GetObjectItemCaseSensitive(o, "max_resource")) {
        if (errs)
            sw_errs_add(errs, "pruner.max_resource: required field is missing");
        ok = false;
    }
    if (ok && out->max_resource > 0 && out->max_resource < out->min_resource) {
        if (errs)
            sw_errs_add(errs, "pruner.max_resource: must be >= min_resource");
        ok = false;
    }
    ok &= s_opt_bool(errs, "pruner", o, "folds", &out->folds);
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(o, "metric");
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(o, "direction");
    bool metric_ok = true;
    if (metric && (!cJSON_IsString(metric) || !*metric->valuestring)) {
        if (errs)
            sw_errs_add(errs, "pruner.metric: must be a non-empty string");
        ok = metric_ok = false;
    } else if (metric) {
        out->metric = metric->valuestring;
    }
    bool dir_ok = true;
    if (dir && (!cJSON_IsString(dir) || (strcmp(dir->valuestring, "minimize")
                                         && strcmp(dir->valuestring, "maximize")))) {
        if (errs)
            sw_errs_add(errs, "pruner.direction: must be \"minimize\" or \"maximize\"");
        ok = dir_ok = false;
    } else if (dir) {
        out->direction = !strcmp(dir->valuestring, "maximize") ? SW_DIR_MAXIMIZE : SW_DIR_MINIMIZE;
    }
    bool own_metric = metric && metric_ok && objective_metric && strcmp(out->metric, objective_metric);
    if (own_metric && !dir) {
        if (errs)
            sw_errs_add(errs, "pruner.direction: required when pruner.metric (\"%s\") is not the "
                        "objective's metric (\"%s\")", out->metric, objective_metric);
        ok = false;
    }
    if (!own_metric && objective_metric && metric_ok && dir && dir_ok
        && out->direction != objective_direction) {
        if (errs)
            sw_errs_add(errs, "pruner.direction: must match objective.direction when the pruner "
                        "monitors the objective's metric");
        ok = false;
    }
    return ok ? 0 : SW_EINVAL;
}

/* Defaults that differ from Optuna 3.1's are chosen on tuning seeds (100-299), never
 * on the reported 0-9: docs/SAMPLERS.md, "Choosing the defaults". */
#define S_TPE_N_EI_DEFAULT 24
#define S_TPE_GAMMA_DEFAULT 0.1
#define S_TPE_PRIOR_WEIGHT_DEFAULT 5.0

int sw_spec_tpe_options(const cJSON *o, sw_tpe_opts_t *out, sw_errs_t *errs)
{
    memset(out, 0, sizeof *out);
    out->n_startup_trials = 10;
    out->n_ei_candidates = S_TPE_N_EI_DEFAULT;
    out->gamma = S_TPE_GAMMA_DEFAULT;
    out->prior_weight = S_TPE_PRIOR_WEIGHT_DEFAULT;
    out->multivariate = true;
    out->constant_liar = true;
    out->estimator = SW_TPE_OPTUNA31;
    out->weights = SW_TPE_WEIGHTS_UNIFORM;
    out->startup = SW_TPE_STARTUP_LHS;
    if (!o)
        return 0;
    if (!cJSON_IsObject(o)) {
        if (errs)
            sw_errs_add(errs, "sampler: must be an object");
        return SW_EINVAL;
    }
    static const char *const keys[] = {"type", "n_startup_trials", "n_ei_candidates", "gamma",
                                       "prior_weight", "multivariate", "constant_liar",
                                       "consider_endpoints", "estimator", "weights", "startup",
                                       "multivariate_bandwidth", NULL};
    bool ok = true;
    for (const cJSON *it = o->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        if (!s_in(k, keys)) {
            if (errs)
                sw_errs_add(errs, "sampler.%s: unknown option for the tpe sampler (known: type, "
                            "n_startup_trials, n_ei_candidates, gamma, prior_weight, multivariate, "
                            "constant_liar, consider_endpoints, estimator, weights, startup, "
                            "multivariate_bandwidth)", k);
            ok = false;
        }
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "tpe")) {
        if (errs)
            sw_errs_add(errs, "sampler.type: must be \"tpe\" for the tpe sampler");
        ok = false;
    }
    ok &= s_opt_int(errs, "sampler", o, "n_startup_trials", 0, &out->n_startup_trials);
    ok &= s_opt_int(errs, "sampler", o, "n_ei_candidates", 1, &out->n_ei_candidates);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "gamma");
    if (v && (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble <= 1))) {
        if (errs)
            sw_errs_add(errs, "sampler.gamma: must be a number > 0 and <= 1");
        ok = false;
    } else if (v) {
        out->gamma = v->valuedouble;
    }
    v = cJSON_GetObjectItemCaseSensitive(o, "prior_weight");
    if (v && (!cJSON_IsNumber(v) || !(v->valuedouble > 0) || !isfinite(v->valuedouble))) {
        if (errs)
            sw_errs_add(errs, "sampler.prior_weight: must be a finite number > 0");
        ok = false;
    } else if (v) {
        out->prior_weight = v->valuedouble;
    }
    ok &= s_opt_bool(errs, "sampler", o, "multivariate", &out->multivariate);
    ok &= s_opt_bool(errs, "sampler", o, "constant_liar", &out->constant_liar);
    ok &= s_opt_bool(errs, "sampler", o, "consider_endpoints", &out->consider_endpoints);
    /* Each list is in the order of its enum (sw_spec.h). */
    static const char *const estimators[] = {"optuna3.1", "optuna4", NULL};
    static const char *const weights[] = {"uniform", "optuna", NULL};
    static const char *const startups[] = {"lhs", "random", NULL};
    static const char *const bandwidths[] = {"hyperopt", "optuna", NULL};
    int e = (int)out->estimator, w = (int)out->weights, st = (int)out->startup;
    int bw = (int)out->mv_bandwidth;
    ok &= s_opt_choice(errs, "sampler", o, "estimator", estimators, &e);
    ok &= s_opt_choice(errs, "sampler", o, "weights", weights, &w);
    ok &= s_opt_choice(errs, "sampler", o, "startup", startups, &st);
    ok &= s_opt_choice(errs, "sampler", o, "multivariate_bandwidth", bandwidths, &bw);
    out->estimator = (sw_tpe_estimator_t)e;
    out->weights = (sw_tpe_weights_t)w;
    out->startup = (sw_tpe_startup_t)st;
    out->mv_bandwidth = (sw_tpe_bandwidth_t)bw;
    return ok ? 0 : SW_EINVAL;
}
