/*  wrk_proc.c - the runner: spawn one trainer child, read its reports, decide its result
 *
 *  Each runner owns up to six libuv handles: the process, three pipes (stdout, stderr
 *  and the report pipe the child sees as fd 3), a timeout timer and a kill timer
 *  (grace period, and the deferred failure of an attempt that could not start). They
 *  are closed as soon as they are done with; the runner calls back and frees itself
 *  in the last close callback, so it never frees memory under a live handle.
 *
 *  Result rules (proto/PROTOCOL.md): the first cause wins. A stop request (prune,
 *  cancel), a timeout or a malformed report line decides the result before the child
 *  is gone; otherwise, after exit: an {"error": ...} line, then a signal, then a
 *  non-zero exit status, then a missing or non-finite objective in the final line.
 *  The last line of stderr is appended to the reason when the reason itself says
 *  little (exit status, signal, missing objective).
 *
 *  Report lines are JSON, except that bare NaN, Infinity and -Infinity are accepted
 *  as numbers (Python's json.dumps writes them), so that a non-finite objective fails
 *  with that reason rather than as a malformed line.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/wrk_proc.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sw_log.h"

extern char **environ;

typedef struct {
    char buf[2 * WRK_PROC_TAIL_BYTES + 1];
    size_t len;
} s_tail_t;

struct wrk_proc {
    uv_loop_t *loop;
    int64_t attempt;
    char *objective;            /* metric name or NULL */
    double timeout_s;           /* 0 = none */
    uint64_t grace_ms;
    wrk_proc_report_fn *report_fn;
    wrk_proc_done_fn *done_fn;
    void *arg;

    uv_process_t process;
    uv_pipe_t out, err, rep;
    uv_timer_t timeout_timer, kill_timer;
    int open_handles;           /* handles initialised and not yet closed */
    bool spawned;               /* process handle is live */
    bool exited;                /* exit callback has run */
    bool out_open, err_open, rep_open;  /* pipe not yet at EOF/closed */
    bool killed;                /* SIGKILL sent */
    bool finishing;             /* all handles closing; done_fn pending */
    pid_t pid;
    int exit_status, term_signal;

    /* decided before exit (first cause wins) */
    bool decided;
    wrk_proc_state_t state;
    char *error;
    const char *kind;

    char *error_line;           /* from an {"error": ...} line */
    cJSON *final_metrics;       /* from the final line */
    cJSON *last_metrics;        /* from the last step line */
    int64_t last_step;

    char *line;                 /* report pipe line buffer, WRK_PROC_LINE_MAX + 1 */
    size_t line_len;
    bool line_overflow;         /* dropping the rest of an over-long line */
    int64_t line_no;

    s_tail_t out_tail, err_tail;
};

const char *wrk_proc_state_name(wrk_proc_state_t state)
{
    switch (state) {
    case WRK_PROC_COMPLETE:  return "COMPLETE";
    case WRK_PROC_FAILED:    return "FAILED";
    case WRK_PROC_PRUNED:    return "PRUNED";
    case WRK_PROC_CANCELLED: return "CANCELLED";
    }
    return "?";
}

int64_t wrk_proc_attempt(const wrk_proc_t *self)
{
    assert(self);
    return self->attempt;
}

pid_t wrk_proc_pid(const wrk_proc_t *self)
{
    assert(self);
    return self->spawned ? self->pid : 0;
}

/* ---- argv templating --------------------------------------------------------- */

void wrk_proc_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

/* Shortest text that strtod() reads back as V; integral values plainly ("10", never
 * "1e+01": a trainer's int parser must accept what it is given). */
static void s_format_number(double v, char *out, size_t outlen)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(out, outlen, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, outlen, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

typedef struct {
    char *data;
    size_t len, cap;
} s_buf_t;

static int s_buf_add(s_buf_t *b, const char *text, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *data = realloc(b->data, cap);
        if (!data)
            return -1;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, text, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static bool s_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* Expand one template element; returns a new string or NULL on OOM. */
static char *s_expand(const char *tmpl, const cJSON *params)
{
    s_buf_t b = {0};
    if (s_buf_add(&b, "", 0))
        return NULL;
    const char *p = tmpl;
    while (*p) {
        const char *close = NULL;
        if (*p == '{') {
            const char *q = p + 1;
            while (s_name_char(*q))
                q++;
            if (*q == '}' && q > p + 1)
                close = q;
        }
        int rc;
        if (!close) {
            rc = s_buf_add(&b, p, 1);
            p++;
        } else {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, name);
            char num[64] = "";
            const char *text = "";
            if (cJSON_IsString(v) && v->valuestring)
                text = v->valuestring;
            else if (cJSON_IsNumber(v)) {
                s_format_number(v->valuedouble, num, sizeof num);
                text = num;
            } else if (cJSON_IsBool(v))
                text = cJSON_IsTrue(v) ? "true" : "false";
            else if (v && !cJSON_IsNull(v)) {
                /* An array or object value: its compact JSON text. */
                char *json = cJSON_PrintUnformatted(v);
                rc = json ? s_buf_add(&b, json, strlen(json)) : -1;
                free(json);
                if (rc) {
                    free(b.data);
                    return NULL;
                }
            }
            rc = s_buf_add(&b, text, strlen(text));
            p = close + 1;
        }
        if (rc) {
            free(b.data);
            return NULL;
        }
    }
    return b.data;
}

char **wrk_proc_argv_expand(const cJSON *tmpl, const cJSON *params, char *err, size_t errlen)
{
    if (!cJSON_IsArray(tmpl) || cJSON_GetArraySize(tmpl) < 1) {
        snprintf(err, errlen, "trainer.argv must be a non-empty array of strings");
        return NULL;
    }
    int n = cJSON_GetArraySize(tmpl);
    char **argv = calloc((size_t)n + 1, sizeof *argv);
    if (!argv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    int i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, tmpl) {
        if (!cJSON_IsString(el) || !el->valuestring) {
            snprintf(err, errlen, "trainer.argv[%d] must be a string", i);
            wrk_proc_argv_free(argv);
            return NULL;
        }
        argv[i] = s_expand(el->valuestring, params);
        if (!argv[i]) {
            snprintf(err, errlen, "out of memory");
            wrk_proc_argv_free(argv);
            return NULL;
        }
        i++;
    }
    return argv;
}

/* ---- finishing ---------------------------------------------------------------- */

static void s_tail_add(s_tail_t *t, const char *data, size_t n)
{
    if (n >= WRK_PROC_TAIL_BYTES) {
        memcpy(t->buf, data + n - WRK_PROC_TAIL_BYTES, WRK_PROC_TAIL_BYTES);
        t->len = WRK_PROC_TAIL_BYTES;
    } else {
        if (t->len + n > sizeof t->buf - 1) {
            size_t keep = WRK_PROC_TAIL_BYTES - n;
            memmove(t->buf, t->buf + t->len - keep, keep);
            t->len = keep;
        }
        memcpy(t->buf + t->len, data, n);
        t->len += n;
    }
    t->buf[t->len] = '\0';
}

/* The tail as a string of at most WRK_PROC_TAIL_BYTES (drops older bytes). */
static const char *s_tail_str(s_tail_t *t)
{
    if (t->len > WRK_PROC_TAIL_BYTES) {
        memmove(t->buf, t->buf + t->len - WRK_PROC_TAIL_BYTES, WRK_PROC_TAIL_BYTES);
        t->len = WRK_PROC_TAIL_BYTES;
    }
    t->buf[t->len] = '\0';
    return t->buf;
}

/* Last non-empty line of the stderr tail into OUT (at most 300 bytes), "" if none. */
static void s_stderr_last_line(wrk_proc_t *self, char *out, size_t outlen)
{
    const char *s = s_tail_str(&self->err_tail);
    size_t end = strlen(s);
    while (end > 0 && isspace((unsigned char)s[end - 1]))
        end--;
    size_t start = end;
    while (start > 0 && s[start - 1] != '\n')
        start--;
    size_t n = end - start;
    if (n > 300)
        start = end - 300, n = 300;
    snprintf(out, outlen, "%.*s", (int)n, s + start);
}

static char *s_with_stderr(wrk_proc_t *self, const char *reason)
{
    char last[320], *text = NULL;
    s_stderr_last_line(self, last, sizeof last);
    int rc = last[0] ? asprintf(&text, "%s (stderr: %s)", reason, last)
                     : asprintf(&text, "%s", reason);
    return rc < 0 ? NULL : text;
}

static void s_decide(wrk_proc_t *self, wrk_proc_state_t state, const char *kind,
                     const char *error)
{
    if (self->decided)
        return;
    self->decided = true;
    self->state = state;
    self->kind = kind;
    self->error = error ? strdup(error) : NULL;
}

/* After exit and EOF: the result when nothing decided it earlier. */
static void s_decide_after_exit(wrk_proc_t *self)
{
    if (self->decided)
        return;
    char reason[512];
    if (self->error_line) {
        s_decide(self, WRK_PROC_FAILED, "trainer", self->error_line);
        return;
    }
    if (self->term_signal || self->exit_status) {
        if (self->term_signal)
            snprintf(reason, sizeof reason, "killed by signal %d", self->term_signal);
        else
            snprintf(reason, sizeof reason, "exit status %d", self->exit_status);
        char *text = s_with_stderr(self, reason);
        s_decide(self, WRK_PROC_FAILED, "trainer", text ? text : reason);
        free(text);
        return;
    }
    if (!self->objective) {
        if (self->final_metrics)
            s_decide(self, WRK_PROC_COMPLETE, NULL, NULL);
        else {
            const char *plain = "trainer exited without a final report";
            char *text = s_with_stderr(self, plain);
            s_decide(self, WRK_PROC_FAILED, "trainer", text ? text : plain);
            free(text);
        }
        return;
    }
    const cJSON *v = self->final_metrics
        ? cJSON_GetObjectItemCaseSensitive(self->final_metrics, self->objective) : NULL;
    if (!cJSON_IsNumber(v)) {
        snprintf(reason, sizeof reason, "trainer exited without the objective metric '%.200s'",
                 self->objective);
        char *text = s_with_stderr(self, reason);
        s_decide(self, WRK_PROC_FAILED, "trainer", text ? text : reason);
        free(text);
    } else if (!isfinite(v->valuedouble)) {
        snprintf(reason, sizeof reason, "objective '%.200s' is not finite (%s)", self->objective,
                 isnan(v->valuedouble) ? "nan" : v->valuedouble > 0 ? "inf" : "-inf");
        s_decide(self, WRK_PROC_FAILED, "trainer", reason);
    } else
        s_decide(self, WRK_PROC_COMPLETE, NULL, NULL);
}

static void s_free(wrk_proc_t *self)
{
    free(self->objective);
    free(self->error);
    free(self->error_line);
    cJSON_Delete(self->final_metrics);
    cJSON_Delete(self->last_metrics);
    free(self->line);
    free(self);
}

static void s_close_cb(uv_handle_t *handle)
{
    wrk_proc_t *self = handle->data;
    assert(self->open_handles > 0);
    if (--self->open_handles > 0 || !self->finishing)
        return;
    s_decide_after_exit(self);
    wrk_proc_result_t result = {
        .attempt = self->attempt,
        .state = self->state,
        .error = self->state == WRK_PROC_FAILED ? self->error : NULL,
        .kind = self->state == WRK_PROC_COMPLETE ? NULL : self->kind,
        .metrics = self->final_metrics ? self->final_metrics : self->last_metrics,
        .last_step = self->last_step,
        .exit_status = self->spawned ? self->exit_status : -1,
        .term_signal = self->term_signal,
        .stdout_tail = s_tail_str(&self->out_tail),
        .stderr_tail = s_tail_str(&self->err_tail),
    };
    if (self->state == WRK_PROC_PRUNED && self->last_metrics)
        result.metrics = self->last_metrics;
    if (self->done_fn)
        self->done_fn(self, &result, self->arg);
    s_free(self);
}

static void s_close(uv_handle_t *handle)
{
    if (!uv_is_closing(handle))
        uv_close(handle, s_close_cb);
}

/* Close every handle still open; done_fn runs in the last close callback. */
static void s_finish(wrk_proc_t *self)
{
    if (self->finishing)
        return;
    self->finishing = true;
    s_close((uv_handle_t *)&self->timeout_timer);
    s_close((uv_handle_t *)&self->kill_timer);
    if (self->spawned)
        s_close((uv_handle_t *)&self->process);
    s_close((uv_handle_t *)&self->out);
    s_close((uv_handle_t *)&self->err);
    s_close((uv_handle_t *)&self->rep);
}

static void s_maybe_finish(wrk_proc_t *self)
{
    if ((self->exited || !self->spawned) && !self->out_open && !self->err_open && !self->rep_open)
        s_finish(self);
}

/* ---- signals ------------------------------------------------------------------- */

static void s_signal_group(wrk_proc_t *self, int sig)
{
    if (!self->spawned || self->pid <= 0)
        return;
    if (kill(-self->pid, sig) && errno != ESRCH)
        sw_log_warn("cannot signal process group pgid=%ld signal=%d attempt=%lld: %s",
                    (long)self->pid, sig, (long long)self->attempt, strerror(errno));
}

static void s_kill_timer_cb(uv_timer_t *timer)
{
    wrk_proc_t *self = timer->data;
    if (!self->spawned) {       /* deferred failure of an attempt that did not start */
        s_maybe_finish(self);
        return;
    }
    self->killed = true;
    s_signal_group(self, SIGKILL);
    if (self->exited) {
        /* The leader is gone and the pipes are still open after the grace period:
         * stop waiting for EOF. */
        uv_read_stop((uv_stream_t *)&self->out);
        uv_read_stop((uv_stream_t *)&self->err);
        uv_read_stop((uv_stream_t *)&self->rep);
        self->out_open = self->err_open = self->rep_open = false;
        s_maybe_finish(self);
    }
}

/* SIGTERM the group now, SIGKILL after the grace period. */
static void s_terminate(wrk_proc_t *self)
{
    if (!self->spawned || uv_is_active((uv_handle_t *)&self->kill_timer) || self->killed)
        return;
    s_signal_group(self, SIGTERM);
    uv_timer_start(&self->kill_timer, s_kill_timer_cb, self->grace_ms, 0);
}

void wrk_proc_stop(wrk_proc_t *self, wrk_proc_state_t state, const char *reason)
{
    assert(self);
    if (self->decided || self->exited || self->finishing)
        return;
    const char *kind = state == WRK_PROC_PRUNED ? "pruned"
                     : state == WRK_PROC_CANCELLED ? "cancelled" : "worker";
    s_decide(self, state, kind, reason ? reason : kind);
    s_terminate(self);
}

void wrk_proc_kill(wrk_proc_t *self)
{
    assert(self);
    if (self->finishing || !self->spawned)
        return;
    if (!self->decided && !self->exited)
        s_decide(self, WRK_PROC_CANCELLED, "cancelled", "killed");
    uv_timer_stop(&self->kill_timer);
    s_kill_timer_cb(&self->kill_timer);
}

static void s_timeout_cb(uv_timer_t *timer)
{
    wrk_proc_t *self = timer->data;
    if (self->decided || self->exited)
        return;
    char reason[64];
    snprintf(reason, sizeof reason, "timeout after %g s", self->timeout_s);
    s_decide(self, WRK_PROC_FAILED, "timeout", reason);
    sw_log_notice("attempt timed out, stopping its process group attempt=%lld timeout_s=%g",
                  (long long)self->attempt, self->timeout_s);
    s_terminate(self);
}

static void s_exit_cb(uv_process_t *process, int64_t exit_status, int term_signal)
{
    wrk_proc_t *self = process->data;
    self->exited = true;
    self->exit_status = (int)exit_status;
    self->term_signal = term_signal;
    uv_timer_stop(&self->timeout_timer);
    sw_log_debug("trainer exited attempt=%lld pid=%ld status=%lld signal=%d",
                 (long long)self->attempt, (long)self->pid, (long long)exit_status, term_signal);
    if (self->out_open || self->err_open || self->rep_open) {
        /* Something else in the group may hold the pipes open: no orphans. */
        if (!self->killed) {
            uv_timer_stop(&self->kill_timer);
            s_signal_group(self, SIGTERM);
            uv_timer_start(&self->kill_timer, s_kill_timer_cb, self->grace_ms, 0);
        }
    }
    s_maybe_finish(self);
}

/* ---- report lines ---------------------------------------------------------------- */

/* Copy LINE with bare NaN / Infinity / -Infinity tokens (outside strings) turned into
 * the strings "NaN", "Infinity", "-Infinity". Caller frees. */
static char *s_quote_nonfinite(const char *line, size_t len)
{
    char *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        char c = line[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            out[o++] = c;
            continue;
        }
        if (c == '"') {
            in_str = true;
            out[o++] = c;
            continue;
        }
        static const char *const toks[] = {"-Infinity", "Infinity", "NaN"};
        bool done = false;
        for (int t = 0; t < 3 && !done; t++) {
            size_t tl = strlen(toks[t]);
            if (len - i >= tl && !memcmp(line + i, toks[t], tl)
                && (i + tl == len || !isalnum((unsigned char)line[i + tl]))) {
                out[o++] = '"';
                memcpy(out + o, toks[t], tl);
                o += tl;
                out[o++] = '"';
                i += tl - 1;
                done = true;
            }
        }
        if (!done)
            out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* Check that METRICS is an object of numbers; turn "NaN"/"Infinity"/"-Infinity"
 * strings into numbers. Returns 0 or -1 with the reason in WHY. */
static int s_check_metrics(cJSON *metrics, char *why, size_t whylen)
{
    if (!cJSON_IsObject(metrics)) {
        snprintf(why, whylen, "\"metrics\" must be an object");
        return -1;
    }
    cJSON *m = metrics->child;
    while (m) {
        cJSON *next = m->next;
        if (cJSON_IsString(m) && m->valuestring
            && (!strcmp(m->valuestring, "NaN") || !strcmp(m->valuestring, "Infinity")
                || !strcmp(m->valuestring, "-Infinity"))) {
            double v = !strcmp(m->valuestring, "NaN") ? NAN
                     : m->valuestring[0] == '-' ? -INFINITY : INFINITY;
            /* Turn the item into a number in place, keeping its key. */
            cJSON_free(m->valuestring);
            m->valuestring = NULL;
            m->type = cJSON_Number;
            m->valueint = 0;
            m->valuedouble = v;
        } else if (!cJSON_IsNumber(m)) {
            snprintf(why, whylen, "metric '%.100s' is not a number", m->string ? m->string : "?");
            return -1;
        }
        m = next;
    }
    return 0;
}

static void s_malformed(wrk_proc_t *self, const char *why)
{
    char reason[400];
    snprintf(reason, sizeof reason, "malformed report line %lld: %s", (long long)self->line_no,
             why);
    sw_log_warn("trainer wrote a malformed report line, stopping it attempt=%lld line=%lld: %s",
                (long long)self->attempt, (long long)self->line_no, why);
    s_decide(self, WRK_PROC_FAILED, "trainer", reason);
    s_terminate(self);
}

static void s_handle_line(wrk_proc_t *self, const char *line, size_t len)
{
    self->line_no++;
    if (self->decided)
        return;             /* the result is settled; ignore the rest */
    size_t i = 0;
    while (i < len && isspace((unsigned char)line[i]))
        i++;
    if (i == len)
        return;
    char why[256];
    char *text = s_quote_nonfinite(line, len);
    if (!text) {
        s_malformed(self, "out of memory");
        return;
    }
    const char *end = NULL;
    cJSON *json = cJSON_ParseWithOpts(text, &end, 0);
    if (json) {
        while (*end && isspace((unsigned char)*end))
            end++;
        if (*end)
            cJSON_Delete(json), json = NULL;
    }
    free(text);
    if (!json) {
        s_malformed(self, "not valid JSON");
        return;
    }
    if (!cJSON_IsObject(json)) {
        s_malformed(self, "not a JSON object");
        cJSON_Delete(json);
        return;
    }
    cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");
    cJSON *final = cJSON_GetObjectItemCaseSensitive(json, "final");
    cJSON *step = cJSON_GetObjectItemCaseSensitive(json, "step");
    cJSON *metrics = cJSON_GetObjectItemCaseSensitive(json, "metrics");
    if (error) {
        if (!cJSON_IsString(error) || !error->valuestring) {
            s_malformed(self, "\"error\" must be a string");
        } else if (!self->error_line) {
            self->error_line = strdup(error->valuestring);
        }
    } else if (cJSON_IsTrue(final)) {
        if (self->final_metrics) {
            s_malformed(self, "a second \"final\" line (one final report per attempt)");
        } else if (s_check_metrics(metrics, why, sizeof why)) {
            s_malformed(self, why);
        } else {
            cJSON_Delete(self->final_metrics);
            self->final_metrics = cJSON_DetachItemViaPointer(json, metrics);
        }
    } else if (step) {
        double v = cJSON_IsNumber(step) ? step->valuedouble : -1;
        if (!(v >= 0 && v <= 9007199254740992.0 && v == floor(v))) {
            s_malformed(self, "\"step\" must be a non-negative integer");
        } else if (s_check_metrics(metrics, why, sizeof why)) {
            s_malformed(self, why);
        } else {
            self->last_step = (int64_t)v;
            cJSON_Delete(self->last_metrics);
            self->last_metrics = cJSON_DetachItemViaPointer(json, metrics);
            if (self->report_fn)
                self->report_fn(self, self->last_step, self->last_metrics, self->arg);
        }
    } else {
        s_malformed(self, "expected \"step\", \"final\": true or \"error\"");
    }
    cJSON_Delete(json);
}

static void s_alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    static char storage[65536];     /* loop thread only; consumed before the next read */
    (void)suggested;
    buf->base = storage;
    buf->len = sizeof storage;
}

static void s_pipe_eof(wrk_proc_t *self, uv_stream_t *stream)
{
    uv_read_stop(stream);
    if (stream == (uv_stream_t *)&self->out)
        self->out_open = false;
    else if (stream == (uv_stream_t *)&self->err)
        self->err_open = false;
    else
        self->rep_open = false;
    s_maybe_finish(self);
}

static void s_tail_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    wrk_proc_t *self = stream->data;
    if (nread < 0) {
        s_pipe_eof(self, stream);
        return;
    }
    s_tail_add(stream == (uv_stream_t *)&self->out ? &self->out_tail : &self->err_tail,
               buf->base, (size_t)nread);
}

static void s_report_read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    wrk_proc_t *self = stream->data;
    if (nread < 0) {
        if (self->line_len > 0 && !self->line_overflow)
            s_handle_line(self, self->line, self->line_len);
        self->line_len = 0;
        s_pipe_eof(self, stream);
        return;
    }
    for (ssize_t i = 0; i < nread; i++) {
        char c = buf->base[i];
        if (c == '\n') {
            if (self->line_overflow) {
                self->line_no++;
                if (!self->decided) {
                    char why[80];
                    snprintf(why, sizeof why, "longer than %d bytes", WRK_PROC_LINE_MAX);
                    s_malformed(self, why);
                }
            } else
                s_handle_line(self, self->line, self->line_len);
            self->line_len = 0;
            self->line_overflow = false;
        } else if (self->line_len < WRK_PROC_LINE_MAX) {
            self->line[self->line_len++] = c;
        } else
            self->line_overflow = true;
    }
}

/* ---- start ------------------------------------------------------------------------- */

static int s_env_add(char ***envp, size_t *n, size_t *cap, const char *name, const char *value)
{
    if (*n + 2 > *cap) {
        size_t ncap = (*cap + 8) * 2;
        char **nenv = realloc(*envp, ncap * sizeof *nenv);
        if (!nenv)
            return -1;
        *envp = nenv;
        *cap = ncap;
    }
    char *entry = NULL;
    if (asprintf(&entry, "%s=%s", name, value) < 0)
        return -1;
    (*envp)[(*n)++] = entry;
    (*envp)[*n] = NULL;
    return 0;
}

/* The child's environment: ours without SWEEPD_* and OPENBLAS_NUM_THREADS, then the
 * trainer variables. Caller frees with wrk_proc_argv_free. */
static char **s_build_env(const cJSON *assign, char *err, size_t errlen)
{
    char **env = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (char **e = environ; e && *e && !rc; e++) {
        if (!strncmp(*e, "SWEEPD_", 7) || !strncmp(*e, "OPENBLAS_NUM_THREADS=", 21))
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        rc = s_env_add(&env, &n, &cap, name, eq + 1);
    }
    char num[64];
    const cJSON *v;
#define ADD_INT(var, field, always)                                                     \
    if (!rc && ((v = cJSON_GetObjectItemCaseSensitive(assign, field)), cJSON_IsNumber(v)) \
        && (always || v->valuedouble >= 0)) {                                           \
        snprintf(num, sizeof num, "%lld", (long long)v->valuedouble);                   \
        rc = s_env_add(&env, &n, &cap, var, num);                                       \
    }
    ADD_INT("SWEEPD_TRIAL", "trial", true)
    ADD_INT("SWEEPD_ATTEMPT", "attempt", true)
    ADD_INT("SWEEPD_FOLD", "fold", false)
    ADD_INT("SWEEPD_SEED", "seed", true)
#undef ADD_INT
    static const char *const json_vars[][2] = {
        {"SWEEPD_PARAMS", "params"}, {"SWEEPD_TRAINER", "trainer"}, {"SWEEPD_CV", "cv"}};
    for (int i = 0; i < 3 && !rc; i++) {
        v = cJSON_GetObjectItemCaseSensitive(assign, json_vars[i][1]);
        if (!cJSON_IsObject(v))
            continue;
        char *json = cJSON_PrintUnformatted(v);
        rc = json ? s_env_add(&env, &n, &cap, json_vars[i][0], json) : -1;
        free(json);
    }
    if (!rc)
        rc = s_env_add(&env, &n, &cap, "SWEEPD_REPORT_FD", "3");
    if (!rc)
        rc = s_env_add(&env, &n, &cap, "OPENBLAS_NUM_THREADS", "1");
    if (rc) {
        snprintf(err, errlen, "out of memory");
        wrk_proc_argv_free(env);
        return NULL;
    }
    return env;
}

/* The argv for ASSIGN's trainer, or NULL with the reason in ERR. */
static char **s_build_argv(const wrk_proc_config_t *config, const cJSON *assign, char *err,
                           size_t errlen)
{
    const cJSON *trainer = cJSON_GetObjectItemCaseSensitive(assign, "trainer");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(trainer, "type");
    const char *tname = cJSON_IsString(type) && type->valuestring ? type->valuestring : "";
    if (!strcmp(tname, "mlp") || !strcmp(tname, "function")) {
        if (!config->self_exe) {
            snprintf(err, errlen, "trainer '%s' needs the sweepd binary, unknown here", tname);
            return NULL;
        }
        char **argv = calloc(3, sizeof *argv);
        if (argv && (argv[0] = strdup(config->self_exe)) && (argv[1] = strdup("train")))
            return argv;
        wrk_proc_argv_free(argv);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (strcmp(tname, "command")) {
        snprintf(err, errlen, "unknown trainer type '%.60s'", tname);
        return NULL;
    }
    char **argv = wrk_proc_argv_expand(cJSON_GetObjectItemCaseSensitive(trainer, "argv"),
                                       cJSON_GetObjectItemCaseSensitive(assign, "params"), err,
                                       errlen);
    if (!argv)
        return NULL;
    bool allowed = false;
    for (const char *const *p = config->allow; p && *p && !allowed; p++)
        allowed = fnmatch(*p, argv[0], 0) == 0;
    if (!allowed) {
        snprintf(err, errlen, "command '%.200s' not allowed on this worker (--allow-command)",
                 argv[0]);
        wrk_proc_argv_free(argv);
        return NULL;
    }
    return argv;
}

wrk_proc_t *wrk_proc_start(uv_loop_t *loop, const wrk_proc_config_t *config,
                           const cJSON *assign, wrk_proc_report_fn *report_fn,
                           wrk_proc_done_fn *done_fn, void *arg)
{
    assert(loop && config && assign);
    wrk_proc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->line = malloc(WRK_PROC_LINE_MAX + 1);
    const cJSON *obj = cJSON_GetObjectItemCaseSensitive(assign, "objective");
    if (cJSON_IsString(obj) && obj->valuestring)
        self->objective = strdup(obj->valuestring);
    if (!self->line || (cJSON_IsString(obj) && !self->objective)) {
        s_free(self);
        return NULL;
    }
    self->loop = loop;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(assign, "attempt");
    self->attempt = cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
    v = cJSON_GetObjectItemCaseSensitive(assign, "timeout_s");
    self->timeout_s = cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble : 0;
    self->grace_ms = config->grace_ms ? config->grace_ms : WRK_PROC_GRACE_MS;
    self->report_fn = report_fn;
    self->done_fn = done_fn;
    self->arg = arg;
    self->last_step = -1;

    uv_timer_init(loop, &self->timeout_timer);
    uv_timer_init(loop, &self->kill_timer);
    uv_pipe_init(loop, &self->out, 0);
    uv_pipe_init(loop, &self->err, 0);
    uv_pipe_init(loop, &self->rep, 0);
    self->open_handles = 5;
    self->timeout_timer.data = self->kill_timer.data = self;
    self->out.data = self->err.data = self->rep.data = self;
    self->process.data = self;

    char err[512];
    char **argv = s_build_argv(config, assign, err, sizeof err);
    char **env = argv ? s_build_env(assign, err, sizeof err) : NULL;
    if (!argv || !env) {
        sw_log_warn("cannot start trainer attempt=%lld: %s", (long long)self->attempt, err);
        s_decide(self, WRK_PROC_FAILED, "worker", err);
        wrk_proc_argv_free(argv);
        wrk_proc_argv_free(env);
        uv_timer_start(&self->kill_timer, s_kill_timer_cb, 0, 0);   /* call back later */
        return self;
    }

    uv_stdio_container_t stdio[4];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&self->out;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&self->err;
    stdio[3].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[3].data.stream = (uv_stream_t *)&self->rep;
    uv_process_options_t options = {
        .exit_cb = s_exit_cb,
        .file = argv[0],
        .args = argv,
        .env = env,
        .flags = UV_PROCESS_DETACHED,   /* setsid(): own session and process group */
        .stdio_count = 4,
        .stdio = stdio,
    };
    int rc = uv_spawn(loop, &self->process, &options);
    /* uv_spawn needs uv_close even when it fails. */
    self->open_handles++;
    self->spawned = true;
    if (rc) {
        snprintf(err, sizeof err, "cannot start trainer '%.200s': %s", argv[0], uv_strerror(rc));
        sw_log_warn("%s attempt=%lld", err, (long long)self->attempt);
        s_decide(self, WRK_PROC_FAILED, "trainer", err);
        self->spawned = false;
        uv_close((uv_handle_t *)&self->process, s_close_cb);
        uv_timer_start(&self->kill_timer, s_kill_timer_cb, 0, 0);
    } else {
        self->pid = self->process.pid;
        self->out_open = self->err_open = self->rep_open = true;
        uv_read_start((uv_stream_t *)&self->out, s_alloc_cb, s_tail_read_cb);
        uv_read_start((uv_stream_t *)&self->err, s_alloc_cb, s_tail_read_cb);
        uv_read_start((uv_stream_t *)&self->rep, s_alloc_cb, s_report_read_cb);
        if (self->timeout_s > 0)
            uv_timer_start(&self->timeout_timer, s_timeout_cb,
                           (uint64_t)(self->timeout_s * 1000.0 + 0.5), 0);
        sw_log_info("trainer started attempt=%lld pid=%ld argv0=%s", (long long)self->attempt,
                    (long)self->pid, argv[0]);
    }
    wrk_proc_argv_free(argv);
    wrk_proc_argv_free(env);
    return self;
}
