/*  wrk.c - the worker agent (see wrk.h): slots, REQUEST/ASSIGN, RESULT kept until ACK
 *
 *  Each attempt the worker knows is one s_attempt_t, keyed by attempt id, in one of
 *  three phases: running (PROC set), finished with a RESULT not yet acknowledged
 *  (RESULT set), or gone (removed). A slot is busy only while its attempt runs; a
 *  finished attempt waiting for its ACK does not hold a slot, so a slow or absent
 *  coordinator never idles a worker that could train. The agent never talks to
 *  ZeroMQ or spawns a process itself: wrk_link.c and wrk_proc.c do.
 *
 *  The spool (see wrk.h) is written with the classic durable-replace sequence: write a
 *  temporary file, fsync it, rename it over the final name, fsync the directory, so a
 *  crash leaves either no file or a whole one. It is written before the RESULT is first
 *  handed to the link, and removed only on ACK or CANCEL: a result the coordinator may
 *  not have recorded is never forgotten.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/wrk.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sw_curve.h"
#include "common/sw_err.h"
#include "common/sw_file.h"
#include "common/sw_log.h"
#include "proto/proto.h"
#include "worker/wrk_link.h"
#include "worker/wrk_proc.h"

typedef struct s_attempt {
    int64_t id;
    wrk_proc_t *proc;           /* running; NULL once done */
    proto_msg_t *result;        /* RESULT waiting for its ACK, or NULL */
    uint64_t result_sent_ms;    /* loop time of the last send */
    bool cancelled;             /* CANCEL or shutdown: send no RESULT */
    struct s_attempt *next;
} s_attempt_t;

struct wrk {
    uv_loop_t *loop;
    wrk_config_t cfg;           /* strings point at the copies below */
    char *endpoint, *worker_id, *self_exe, *state_dir;
    char *spool_dir;            /* STATE_DIR/spool, or NULL without a state directory */
    int lock_fd;                /* STATE_DIR/lock held with flock, or -1 */
    bool id_given;              /* --id was given: never replaced by STATE_DIR/worker-id */
    char **allow;               /* NULL-terminated copy */
    char host[256];
    wrk_link_t *link;
    bool curve;                 /* the three keys below are set */
    char curve_public[SW_CURVE_KEY_TXT_LEN + 1], curve_secret[SW_CURVE_KEY_TXT_LEN + 1];
    char coordinator_key[SW_CURVE_KEY_TXT_LEN + 1];
    sw_curve_monitor_t *monitor;    /* of the current socket's handshakes */
    uv_timer_t resend;          /* re-sends unacknowledged results */
    s_attempt_t *attempts;
    int running;
    bool started, welcomed, stopping, shutdown_received, link_closed, resend_closed;
    bool done_called, killing;
    uint64_t lease_ms;
    wrk_done_fn *done_fn;
    void *done_arg;
};

/* ---- bookkeeping --------------------------------------------------------------- */

static s_attempt_t *s_find(wrk_t *self, int64_t id)
{
    for (s_attempt_t *a = self->attempts; a; a = a->next)
        if (a->id == id)
            return a;
    return NULL;
}

/* ---- the spool ------------------------------------------------------------------- */

static void s_spool_path(const wrk_t *self, int64_t id, const char *suffix, char *buf,
                         size_t len)
{
    snprintf(buf, len, "%s/%lld.json%s", self->spool_dir, (long long)id, suffix);
}

/* Write RESULT durably to the spool. 0 or -errno (logged; the result stays in memory). */
static int s_spool_write(wrk_t *self, int64_t id, proto_msg_t *result)
{
    if (!self->spool_dir)
        return 0;
    char tmp[4200], path[4200];
    s_spool_path(self, id, ".tmp", tmp, sizeof tmp);
    s_spool_path(self, id, "", path, sizeof path);
    char *text = cJSON_PrintUnformatted(proto_msg_body(result));
    if (!text)
        return SW_ENOMEM;
    int rc = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        off += (size_t)n;
    }
    if (!rc && fsync(fd))
        rc = -errno;
    close(fd);
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (!rc) {
        int dfd = open(self->spool_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    if (rc)
        unlink(tmp);
out:
    free(text);
    if (rc)
        sw_log_error("cannot spool the result of attempt=%lld in %s: %s (kept in memory)",
                     (long long)id, self->spool_dir, sw_strerror(rc));
    else
        sw_log_info("result spooled attempt=%lld", (long long)id);
    return rc;
}

static void s_spool_remove(wrk_t *self, int64_t id)
{
    if (!self->spool_dir)
        return;
    char path[4200];
    s_spool_path(self, id, "", path, sizeof path);
    if (unlink(path) && errno != ENOENT)
        sw_log_warn("cannot remove spool file %s: %s", path, strerror(errno));
}

static void s_remove(wrk_t *self, s_attempt_t *gone)
{
    for (s_attempt_t **p = &self->attempts; *p; p = &(*p)->next)
        if (*p == gone) {
            *p = gone->next;
            if (gone->result)
                s_spool_remove(self, gone->id);
            proto_msg_destroy(&gone->result);
            free(gone);
            return;
        }
}

/* Create DIR when missing (one level). 0 or -errno. */
static int s_mkdir(const char *dir)
{
    if (mkdir(dir, 0755) == 0 || errno == EEXIST)
        return 0;
    return -errno;
}

/* Load one spool file NAME ("ATTEMPT.json"); a bad one is renamed to .bad. */
static void s_spool_load_one(wrk_t *self, const char *name)
{
    char *end = NULL;
    long long id = strtoll(name, &end, 10);
    if (end != name && id >= 0 && !strcmp(end, ".json.tmp")) {
        /* a write cut short by a crash: that result was never sent, and the attempt
         * is lost with this worker's previous process; the coordinator requeues it */
        char tmp[4200];
        s_spool_path(self, id, ".tmp", tmp, sizeof tmp);
        sw_log_notice("removing an unfinished spool file %s", tmp);
        unlink(tmp);
        return;
    }
    if (end == name || strcmp(end, ".json") || id < 0)
        return;     /* .bad files, anything else */
    char path[4200];
    s_spool_path(self, id, "", path, sizeof path);
    char err[256] = "";
    cJSON *body = NULL;
    FILE *f = fopen(path, "re");
    if (f) {
        char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        if (!feof(f))
            snprintf(err, sizeof err, "larger than %zu bytes", sizeof buf - 1);
        fclose(f);
        if (!*err && !(body = cJSON_Parse(buf)))
            snprintf(err, sizeof err, "not valid JSON");
    } else {
        snprintf(err, sizeof err, "%s", strerror(errno));
    }
    if (body && !*err && proto_cmd_check(PROTO_RESULT, body, err, sizeof err) == 0) {
        cJSON *att = cJSON_GetObjectItemCaseSensitive(body, "attempt");
        if ((long long)att->valuedouble != id)
            snprintf(err, sizeof err, "holds attempt %.0f, not %lld", att->valuedouble, id);
    } else if (body && !*err) {
        snprintf(err, sizeof err, "not a RESULT body");
    }
    proto_msg_t *msg = !*err ? proto_msg_new(PROTO_RESULT) : NULL;
    s_attempt_t *a = msg && !s_find(self, id) ? calloc(1, sizeof *a) : NULL;
    if (*err || !a) {
        if (*err) {
            char bad[4200];
            s_spool_path(self, id, ".bad", bad, sizeof bad);
            sw_log_error("spool file %s skipped: %s (renamed to %s)", path, err, bad);
            rename(path, bad);
        }
        proto_msg_destroy(&msg);
        cJSON_Delete(body);
        return;
    }
    cJSON *dst = proto_msg_body(msg);
    while (body->child) {
        cJSON *it = cJSON_DetachItemViaPointer(body, body->child);
        cJSON_AddItemToObject(dst, it->string, it);
    }
    cJSON_Delete(body);
    a->id = id;
    a->result = msg;
    a->next = self->attempts;
    self->attempts = a;
    sw_log_notice("spooled result loaded, sending it again attempt=%lld state=%s", id,
                  proto_msg_string(msg, "state", "?"));
}

/* Without --id, a worker with a state directory keeps the id it first had there
 * (STATE_DIR/worker-id), so that after a restart the coordinator recognises it as
 * the owner of the attempts whose results its spool re-sends. 0 or a negative code. */
static int s_state_worker_id(wrk_t *self)
{
    if (self->id_given)
        return 0;
    char path[4200], tmp[4220];
    snprintf(path, sizeof path, "%s/worker-id", self->state_dir);
    int err = 0;
    size_t len = 0;
    char *text = sw_file_read(path, 256, &len, &err);
    if (text) {
        while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
            text[--len] = '\0';
        if (len) {
            free(self->worker_id);
            self->worker_id = text;
            self->cfg.worker_id = self->worker_id;
            sw_log_notice("worker id %s kept from %s", self->worker_id, path);
            return 0;
        }
        free(text);
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", self->worker_id) < 0 || fflush(f) || fsync(fileno(f))) {
        int e = errno;
        if (f)
            fclose(f);
        sw_log_error("cannot write %s: %s", tmp, strerror(e));
        return -e;
    }
    fclose(f);
    if (rename(tmp, path)) {
        int e = errno;
        sw_log_error("cannot rename %s to %s: %s", tmp, path, strerror(e));
        return -e;
    }
    return 0;
}

/* Lock STATE_DIR and load its spool. 0 or a negative code (logged). */
static int s_state_open(wrk_t *self)
{
    if (!self->state_dir)
        return 0;
    int rc = s_mkdir(self->state_dir);
    if (rc) {
        sw_log_error("cannot create the state directory %s: %s", self->state_dir,
                     sw_strerror(rc));
        return rc;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", self->state_dir, WRK_LOCK_FILE);
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (self->lock_fd < 0) {
        rc = -errno;
        sw_log_error("cannot open %s: %s", path, strerror(errno));
        return rc;
    }
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB)) {
        sw_log_error("state directory %s is in use by another worker (%s is locked)",
                     self->state_dir, path);
        close(self->lock_fd);
        self->lock_fd = -1;
        return SW_ESTATE;
    }
    if ((rc = s_state_worker_id(self)))
        return rc;
    if (asprintf(&self->spool_dir, "%s/%s", self->state_dir, WRK_SPOOL_DIR) < 0) {
        self->spool_dir = NULL;
        return SW_ENOMEM;
    }
    if ((rc = s_mkdir(self->spool_dir))) {
        sw_log_error("cannot create the spool directory %s: %s", self->spool_dir,
                     sw_strerror(rc));
        return rc;
    }
    DIR *d = opendir(self->spool_dir);
    if (!d) {
        rc = -errno;
        sw_log_error("cannot read the spool directory %s: %s", self->spool_dir,
                     sw_strerror(rc));
        return rc;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            s_spool_load_one(self, e->d_name);
    closedir(d);
    return 0;
}

int wrk_running(const wrk_t *self)
{
    assert(self);
    return self->running;
}

int wrk_unacked(const wrk_t *self)
{
    assert(self);
    int n = 0;
    for (s_attempt_t *a = self->attempts; a; a = a->next)
        n += a->result != NULL;
    return n;
}

bool wrk_shutdown_received(const wrk_t *self)
{
    assert(self);
    return self->shutdown_received;
}

/* ---- sending --------------------------------------------------------------------- */

static void s_send(wrk_t *self, proto_msg_t **msg_p)
{
    if (!*msg_p)
        return;
    if (self->link && !self->link_closed)
        wrk_link_send(self->link, msg_p);
    proto_msg_destroy(msg_p);
}

static void s_send_hello(wrk_t *self)
{
    proto_msg_t *msg = proto_msg_new(PROTO_HELLO);
    if (!msg)
        return;
    cJSON *body = proto_msg_body(msg);
    cJSON_AddStringToObject(body, "worker_id", self->worker_id);
    cJSON_AddStringToObject(body, "host", self->host);
    cJSON_AddNumberToObject(body, "pid", (double)getpid());
    cJSON_AddNumberToObject(body, "slots", self->cfg.slots);
    cJSON *trainers = cJSON_AddArrayToObject(body, "trainers");
    if (self->self_exe) {
        cJSON_AddItemToArray(trainers, cJSON_CreateString("mlp"));
        cJSON_AddItemToArray(trainers, cJSON_CreateString("function"));
    }
    if (self->allow && self->allow[0])
        cJSON_AddItemToArray(trainers, cJSON_CreateString("command"));
    /* the --allow-command patterns: the coordinator sends a command sweep only to the
     * workers whose patterns match its argv[0] */
    cJSON *commands = cJSON_AddArrayToObject(body, "commands");
    for (char **p = self->allow; p && *p; p++)
        cJSON_AddItemToArray(commands, cJSON_CreateString(*p));
    cJSON *running = cJSON_AddArrayToObject(body, "running");
    for (s_attempt_t *a = self->attempts; a; a = a->next)
        if (!a->cancelled)
            cJSON_AddItemToArray(running, cJSON_CreateNumber((double)a->id));
    s_send(self, &msg);
}

static void s_send_request(wrk_t *self)
{
    if (!self->welcomed || self->stopping)
        return;
    proto_msg_t *msg = proto_msg_new(PROTO_REQUEST);
    if (!msg)
        return;
    int free_slots = self->cfg.slots - self->running;
    cJSON_AddNumberToObject(proto_msg_body(msg), "slots", free_slots > 0 ? free_slots : 0);
    s_send(self, &msg);
}

static void s_send_result(wrk_t *self, s_attempt_t *a)
{
    if (!a->result || !self->welcomed)
        return;
    proto_msg_t *copy = proto_msg_dup(a->result);
    a->result_sent_ms = uv_now(self->loop);
    s_send(self, &copy);
}

/* ---- stopping ---------------------------------------------------------------------- */

static void s_maybe_done(wrk_t *self)
{
    if (!self->stopping || self->running > 0 || self->done_called)
        return;
    if (!self->link_closed || !self->resend_closed)
        return;
    self->done_called = true;
    if (self->done_fn)
        self->done_fn(self, self->done_arg);
}

static void s_link_closed_cb(wrk_link_t *link, void *arg)
{
    (void)link;
    wrk_t *self = arg;
    sw_curve_monitor_close(&self->monitor);
    self->link_closed = true;
    s_maybe_done(self);
}

static void s_resend_close_cb(uv_handle_t *handle)
{
    wrk_t *self = handle->data;
    self->resend_closed = true;
    s_maybe_done(self);
}

/* Every trainer has ended: close the link and the timer. */
static void s_close_all(wrk_t *self)
{
    if (self->running > 0)
        return;
    if (self->link && !self->link_closed)
        wrk_link_close(self->link, s_link_closed_cb);
    if (!uv_is_closing((uv_handle_t *)&self->resend))
        uv_close((uv_handle_t *)&self->resend, s_resend_close_cb);
}

void wrk_stop(wrk_t *self, const char *reason)
{
    assert(self);
    if (self->stopping || !self->started)
        return;
    self->stopping = true;
    sw_log_notice("worker stopping reason=%s running=%d unacked=%d", reason ? reason : "-",
                  self->running, wrk_unacked(self));
    proto_msg_t *bye = proto_msg_new(PROTO_BYE);
    if (bye) {
        cJSON_AddStringToObject(proto_msg_body(bye), "reason", reason ? reason : "stopping");
        cJSON *back = cJSON_AddArrayToObject(proto_msg_body(bye), "handed_back");
        for (s_attempt_t *a = self->attempts; a; a = a->next)
            if (a->proc && !a->cancelled)
                cJSON_AddItemToArray(back, cJSON_CreateNumber((double)a->id));
        s_send(self, &bye);
    }
    for (s_attempt_t *a = self->attempts; a; a = a->next)
        if (a->proc) {
            a->cancelled = true;
            wrk_proc_stop(a->proc, WRK_PROC_CANCELLED, "worker stopping");
        }
    s_close_all(self);
}

void wrk_kill(wrk_t *self, const char *reason)
{
    assert(self);
    if (!self->started || self->killing)
        return;
    wrk_stop(self, reason);
    self->killing = true;
    sw_log_notice("killing the trainers now reason=%s running=%d", reason ? reason : "-",
                  self->running);
    for (s_attempt_t *a = self->attempts; a; a = a->next)
        if (a->proc)
            wrk_proc_kill(a->proc);
}

/* ---- runner callbacks ------------------------------------------------------------ */

static void s_report_cb(wrk_proc_t *proc, int64_t step, const cJSON *metrics, void *arg)
{
    wrk_t *self = arg;
    s_attempt_t *a = s_find(self, wrk_proc_attempt(proc));
    if (!a || a->cancelled || !self->welcomed)
        return;
    proto_msg_t *msg = proto_msg_new(PROTO_REPORT);
    if (!msg)
        return;
    cJSON *body = proto_msg_body(msg);
    cJSON_AddNumberToObject(body, "attempt", (double)a->id);
    cJSON_AddNumberToObject(body, "step", (double)step);
    cJSON_AddItemToObject(body, "metrics", cJSON_Duplicate(metrics, 1));
    s_send(self, &msg);
}

static void s_done_cb(wrk_proc_t *proc, const wrk_proc_result_t *r, void *arg)
{
    wrk_t *self = arg;
    s_attempt_t *a = s_find(self, wrk_proc_attempt(proc));
    assert(a && a->proc == proc);
    a->proc = NULL;
    self->running--;
    sw_log_notice("attempt ended attempt=%lld state=%s%s%s", (long long)a->id,
                  wrk_proc_state_name(r->state), r->error ? " error=" : "",
                  r->error ? r->error : "");
    if (a->cancelled || r->state == WRK_PROC_CANCELLED) {
        s_remove(self, a);
    } else {
        proto_msg_t *msg = proto_msg_new(PROTO_RESULT);
        if (msg) {
            cJSON *body = proto_msg_body(msg);
            cJSON_AddNumberToObject(body, "attempt", (double)a->id);
            cJSON_AddStringToObject(body, "state", wrk_proc_state_name(r->state));
            if (r->metrics)
                cJSON_AddItemToObject(body, "metrics", cJSON_Duplicate(r->metrics, 1));
            if (r->error)
                cJSON_AddStringToObject(body, "error", r->error);
            if (r->kind)
                cJSON_AddStringToObject(body, "kind", r->kind);
            if (r->last_step >= 0)
                cJSON_AddNumberToObject(body, "last_step", (double)r->last_step);
            a->result = msg;
            s_spool_write(self, a->id, msg);
            s_send_result(self, a);
        } else
            s_remove(self, a);
    }
    if (self->stopping)
        s_close_all(self);
    else
        s_send_request(self);
    s_maybe_done(self);
}

/* ---- coordinator messages ------------------------------------------------------------ */

/* A finished RESULT for an attempt that never ran: KIND "busy" (no free slot: the
 * coordinator requeues it without a retry) or "worker" (out of memory). */
static void s_fail_now(wrk_t *self, int64_t id, const char *kind, const char *reason)
{
    s_attempt_t *a = calloc(1, sizeof *a);
    proto_msg_t *msg = proto_msg_new(PROTO_RESULT);
    if (!a || !msg) {
        free(a);
        proto_msg_destroy(&msg);
        return;
    }
    cJSON *body = proto_msg_body(msg);
    cJSON_AddNumberToObject(body, "attempt", (double)id);
    cJSON_AddStringToObject(body, "state", "FAILED");
    cJSON_AddStringToObject(body, "error", reason);
    cJSON_AddStringToObject(body, "kind", kind);
    a->id = id;
    a->result = msg;
    a->next = self->attempts;
    self->attempts = a;
    s_spool_write(self, id, msg);
    s_send_result(self, a);
}

static void s_on_assign(wrk_t *self, proto_msg_t *msg)
{
    int64_t id = proto_msg_int(msg, "attempt", -1);
    if (self->stopping) {
        sw_log_info("ignoring ASSIGN while stopping attempt=%lld", (long long)id);
        return;
    }
    s_attempt_t *a = s_find(self, id);
    if (a) {
        /* A duplicate: the attempt runs already, or its result waits for an ACK. */
        sw_log_info("duplicate ASSIGN attempt=%lld", (long long)id);
        s_send_result(self, a);
        return;
    }
    if (self->running >= self->cfg.slots) {
        char reason[96];
        snprintf(reason, sizeof reason, "no free slot on this worker (slots=%d)", self->cfg.slots);
        sw_log_warn("ASSIGN beyond free slots attempt=%lld slots=%d", (long long)id,
                    self->cfg.slots);
        s_fail_now(self, id, "busy", reason);
        return;
    }
    a = calloc(1, sizeof *a);
    if (!a) {
        s_fail_now(self, id, "worker", "out of memory on the worker");
        return;
    }
    a->id = id;
    a->next = self->attempts;
    self->attempts = a;
    wrk_proc_config_t pcfg = {.self_exe = self->self_exe,
                              .allow = (const char *const *)self->allow,
                              .grace_ms = self->cfg.grace_ms};
    self->running++;
    a->proc = wrk_proc_start(self->loop, &pcfg, proto_msg_body(msg), s_report_cb, s_done_cb, self);
    if (!a->proc) {
        self->running--;
        s_remove(self, a);
        s_fail_now(self, id, "worker", "out of memory on the worker");
        return;
    }
    sw_log_info("attempt assigned attempt=%lld sweep=%s trial=%lld fold=%lld", (long long)id,
                proto_msg_string(msg, "sweep", "?"), (long long)proto_msg_int(msg, "trial", -1),
                (long long)proto_msg_int(msg, "fold", -1));
}

static void s_recv_cb(wrk_link_t *link, proto_msg_t **msg_p, void *arg)
{
    (void)link;
    wrk_t *self = arg;
    proto_msg_t *msg = *msg_p;
    s_attempt_t *a;
    switch (proto_msg_cmd(msg)) {
    case PROTO_WELCOME: {
        int64_t hb = proto_msg_int(msg, "heartbeat_ms", 0);
        self->lease_ms = (uint64_t)proto_msg_int(msg, "lease_ms", 0);
        if (hb > 0)
            wrk_link_set_heartbeat(self->link, (uint64_t)hb);
        bool again = self->welcomed;
        self->welcomed = true;
        sw_log_notice("welcomed by the coordinator at %s coordinator_id=%s heartbeat_ms=%lld "
                      "lease_ms=%llu", self->endpoint,
                      proto_msg_string(msg, "coordinator_id", "-"), (long long)hb,
                      (unsigned long long)self->lease_ms);
        for (a = self->attempts; a; a = a->next)
            s_send_result(self, a);
        if (!again)
            s_send_request(self);
        break;
    }
    case PROTO_ASSIGN:
        s_on_assign(self, msg);
        break;
    case PROTO_DECISION: {
        const char *action = proto_msg_string(msg, "action", "");
        a = s_find(self, proto_msg_int(msg, "attempt", -1));
        if (!strcmp(action, "prune")) {
            if (a && a->proc)
                wrk_proc_stop(a->proc, WRK_PROC_PRUNED, NULL);
        } else if (strcmp(action, "continue"))
            sw_log_warn("unknown DECISION action '%.40s' attempt=%lld", action,
                        (long long)proto_msg_int(msg, "attempt", -1));
        break;
    }
    case PROTO_ACK:
        a = s_find(self, proto_msg_int(msg, "attempt", -1));
        if (a && a->result && !a->proc) {
            sw_log_info("result acknowledged attempt=%lld state=%s", (long long)a->id,
                        proto_msg_string(a->result, "state", "?"));
            s_remove(self, a);
        }
        break;
    case PROTO_CANCEL:
        a = s_find(self, proto_msg_int(msg, "attempt", -1));
        if (a) {
            sw_log_notice("attempt cancelled attempt=%lld reason=%s", (long long)a->id,
                          proto_msg_string(msg, "reason", "-"));
            a->cancelled = true;
            if (a->proc)
                wrk_proc_stop(a->proc, WRK_PROC_CANCELLED, NULL);
            else
                s_remove(self, a);
        }
        break;
    case PROTO_SHUTDOWN:
        self->shutdown_received = true;
        wrk_stop(self, proto_msg_string(msg, "reason", "coordinator shutdown"));
        break;
    case PROTO_INVALID:
        /* One HELLO per INVALID burst: every message sent before the coordinator learnt
         * of us is answered INVALID, but only the first needs a HELLO. Until WELCOME
         * answers it, further INVALIDs are for messages sent before it (one pipe keeps
         * order both ways), so they are dropped. If the HELLO is lost, liveness
         * reconnects and says HELLO on the new socket. */
        if (!self->welcomed) {
            sw_log_debug("INVALID while waiting for WELCOME, ignored");
            break;
        }
        sw_log_notice("coordinator does not know this worker, saying HELLO again reason=%s",
                      proto_msg_string(msg, "reason", "-"));
        self->welcomed = false;
        if (!self->stopping)
            s_send_hello(self);
        break;
    case PROTO_ERROR:
        sw_log_warn("coordinator rejected a message code=%s: %s",
                    proto_msg_string(msg, "code", "?"), proto_msg_string(msg, "reason", "?"));
        break;
    case PROTO_HEARTBEAT:
        break;
    default:
        sw_log_warn("unexpected %s from coordinator", proto_cmd_name(proto_msg_cmd(msg)));
        break;
    }
}

/* Each new socket: CURVE client keys, and a monitor for its handshakes (the previous
 * socket is gone: its monitor goes too). Plaintext sockets are monitored too, so that
 * a worker without keys facing a CURVE coordinator says why it gets nothing. */
static int s_socket_cb(wrk_link_t *link, zsock_t *sock, void *arg)
{
    (void)link;
    wrk_t *self = arg;
    if (self->curve) {
        zsock_set_curve_publickey(sock, self->curve_public);
        zsock_set_curve_secretkey(sock, self->curve_secret);
        zsock_set_curve_serverkey(sock, self->coordinator_key);
    }
    sw_curve_monitor_close(&self->monitor);
    self->monitor = sw_curve_monitor_new(self->loop, sock, false, self->endpoint);
    return 0;
}

static void s_connect_cb(wrk_link_t *link, void *arg)
{
    (void)link;
    wrk_t *self = arg;
    self->welcomed = false;
    if (!self->stopping)
        s_send_hello(self);
}

static bool s_heartbeat_cb(wrk_link_t *link, cJSON *body, void *arg)
{
    (void)link;
    wrk_t *self = arg;
    if (!self->welcomed)
        return false;
    cJSON *running = cJSON_AddArrayToObject(body, "running");
    for (s_attempt_t *a = self->attempts; a; a = a->next)
        if (a->proc && !a->cancelled)
            cJSON_AddItemToArray(running, cJSON_CreateNumber((double)a->id));
    return true;
}

static void s_resend_cb(uv_timer_t *timer)
{
    wrk_t *self = timer->data;
    uint64_t now = uv_now(self->loop);
    for (s_attempt_t *a = self->attempts; a; a = a->next)
        if (a->result && now - a->result_sent_ms >= self->cfg.result_resend_ms)
            s_send_result(self, a);
}

/* ---- lifecycle --------------------------------------------------------------------- */

wrk_t *wrk_new(uv_loop_t *loop, const wrk_config_t *config)
{
    assert(loop && config);
    if (!config->endpoint)
        return NULL;
    wrk_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->cfg = *config;
    self->lock_fd = -1;
    if (self->cfg.slots <= 0)
        self->cfg.slots = 1;
    if (!self->cfg.result_resend_ms)
        self->cfg.result_resend_ms = WRK_RESULT_RESEND_MS;
    if (gethostname(self->host, sizeof self->host - 1))
        snprintf(self->host, sizeof self->host, "localhost");
    self->endpoint = strdup(config->endpoint);
    self->id_given = config->worker_id != NULL;
    if (config->worker_id)
        self->worker_id = strdup(config->worker_id);
    else if (asprintf(&self->worker_id, "%s:%ld", self->host, (long)getpid()) < 0)
        self->worker_id = NULL;
    self->self_exe = config->self_exe ? strdup(config->self_exe) : NULL;
    self->state_dir = config->state_dir ? strdup(config->state_dir) : NULL;
    size_t n = 0;
    while (config->allow_commands && config->allow_commands[n])
        n++;
    self->allow = calloc(n + 1, sizeof *self->allow);
    bool ok = self->endpoint && self->worker_id && self->allow
              && (!config->self_exe || self->self_exe)
              && (!config->state_dir || self->state_dir);
    for (size_t i = 0; ok && i < n; i++)
        ok = (self->allow[i] = strdup(config->allow_commands[i])) != NULL;
    const char *keys[3] = {config->curve_public_key, config->curve_secret_key,
                           config->coordinator_key};
    char *dst[3] = {self->curve_public, self->curve_secret, self->coordinator_key};
    int given = 0;
    for (int k = 0; k < 3; k++)
        if (keys[k]) {
            given++;
            if (strlen(keys[k]) != SW_CURVE_KEY_TXT_LEN)
                ok = false;
            else
                memcpy(dst[k], keys[k], SW_CURVE_KEY_TXT_LEN + 1);
        }
    if (given != 0 && given != 3)
        ok = false;
    self->curve = given == 3;
    if (ok) {
        wrk_link_config_t lcfg = {
            .endpoint = self->endpoint,
            .heartbeat_ms = config->heartbeat_ms,
            .liveness = config->liveness,
            .reconnect_min_ms = config->reconnect_min_ms,
            .reconnect_max_ms = config->reconnect_max_ms,
            .connect_fn = s_connect_cb,
            .recv_fn = s_recv_cb,
            .heartbeat_fn = s_heartbeat_cb,
            .socket_fn = s_socket_cb,
            .arg = self,
        };
        self->link = wrk_link_new(loop, &lcfg);
        ok = self->link != NULL;
    }
    if (!ok) {
        wrk_destroy(&self);
        return NULL;
    }
    self->cfg.endpoint = self->endpoint;
    self->cfg.curve_public_key = self->curve ? self->curve_public : NULL;
    self->cfg.curve_secret_key = self->curve ? self->curve_secret : NULL;
    self->cfg.coordinator_key = self->curve ? self->coordinator_key : NULL;
    self->cfg.worker_id = self->worker_id;
    self->cfg.self_exe = self->self_exe;
    self->cfg.state_dir = self->state_dir;
    self->cfg.allow_commands = (const char *const *)self->allow;
    return self;
}

int wrk_start(wrk_t *self, wrk_done_fn *done_fn, void *arg)
{
    assert(self);
    if (self->started)
        return SW_ESTATE;
    self->done_fn = done_fn;
    self->done_arg = arg;
    int src = s_state_open(self);
    if (src)
        return src;
    uv_timer_init(self->loop, &self->resend);
    self->resend.data = self;
    self->started = true;
    uv_timer_start(&self->resend, s_resend_cb, self->cfg.result_resend_ms,
                   self->cfg.result_resend_ms);
    sw_log_notice("worker starting id=%s endpoint=%s slots=%d state_dir=%s spooled=%d "
                  "security=%s", self->worker_id, self->endpoint, self->cfg.slots,
                  self->state_dir ? self->state_dir : "-", wrk_unacked(self),
                  self->curve ? "curve" : "plaintext");
    int rc = wrk_link_start(self->link);
    if (rc) {
        /* Close what was opened; DONE_FN is not called for a failed start. */
        self->done_fn = NULL;
        self->stopping = true;
        s_close_all(self);
    }
    return rc;
}

void wrk_destroy(wrk_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    wrk_t *self = *self_p;
    assert(!self->started || (self->link_closed && self->resend_closed && self->running == 0));
    /* what is still held here is in the spool (when there is one): keep the files */
    while (self->attempts) {
        s_attempt_t *a = self->attempts;
        self->attempts = a->next;
        proto_msg_destroy(&a->result);
        free(a);
    }
    if (self->lock_fd >= 0)
        close(self->lock_fd);
    free(self->state_dir);
    free(self->spool_dir);
    wrk_link_destroy(&self->link);
    free(self->endpoint);
    free(self->worker_id);
    free(self->self_exe);
    for (char **p = self->allow; p && *p; p++)
        free(*p);
    free(self->allow);
    free(self);
    *self_p = NULL;
}
