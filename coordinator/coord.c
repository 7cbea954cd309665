/*  coord.c - the coordinator server: a ROUTER socket on a libuv loop (see coord.h)
 *
 *  Owns the ROUTER socket (the only coordinator file that touches zsock_t), the table
 *  of workers' routing ids, the application send queue, the timers, and the turn
 *  structure: receive everything the socket holds, let the scheduler decide, commit
 *  once (coord_sched_flush), then send. The scheduler and the store own every
 *  decision; this file owns only transport.
 *
 *  ZeroMQ inside libuv (ENVIRONMENT.md): ZMQ_FD is edge-triggered, so each wake-up
 *  drains while ZMQ_EVENTS shows POLLIN, and again after every batch of sends (a send
 *  can consume the edge). Sends use ZMQ_DONTWAIT; EAGAIN (HWM reached) parks the
 *  message in an application queue that is flushed when ZMQ_EVENTS shows POLLOUT.
 *  ROUTER_MANDATORY makes a send to a vanished peer fail (EHOSTUNREACH) instead of
 *  vanishing silently; such messages are dropped with a debug line: the worker will
 *  HELLO again and everything it needs is in the store.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "coordinator/coord.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "common/sw_clock.h"
#include "common/sw_curve.h"
#include "common/sw_log.h"
#include "common/sw_mem.h"
#include "common/sw_zmq.h"
#include "coordinator/coord_db.h"
#include "proto/proto.h"

#define S_BATCH 256             /* messages per group commit at most */
#define S_REJECT_LOG_MS 1000    /* at most one rejection line per second */

typedef struct {
    char *worker_id;
    zframe_t *route;            /* routing id frame (owned) */
} route_t;

struct coord {
    uv_loop_t *loop;
    char *endpoint;
    char *db_path;
    uint64_t lease_ms, heartbeat_ms;
    bool exit_when_done;
    int drop_acks;              /* test hook: ACKs still to drop */
    coord_db_t *db;
    coord_sched_t *sched;
    zsock_t *router;
    sw_curve_auth_t *auth;      /* the ZAP handler, with CURVE only */
    sw_curve_monitor_t *monitor;    /* logs refused handshakes, with CURVE only */
    sw_curve_keydir_t *ops;     /* keys that may control sweeps; NULL: every allowed key */
    bool curve;
    zhash_t *keys;              /* worker id -> CURVE public key (Z85) of its first HELLO */
    uv_poll_t poll;
    uv_timer_t heartbeat_timer;
    uv_timer_t cron_timer;
    int open_handles;           /* handles initialised and not yet closed */
    zlist_t *sendq;             /* zmsg_t * waiting for POLLOUT */
    route_t *routes;
    size_t n_routes, cap_routes;
    int64_t rejected;
    int64_t rejected_unlogged;
    uint64_t reject_logged_ms;
    bool started, closing, failed, done_called, shutdown_sent;
    bool draining;              /* coord_close is reading what the socket holds */
    coord_progress_cb *progress_cb;
    void *progress_arg;
    coord_done_cb *done_cb;
    void *done_arg;
    coord_close_cb *close_cb;
    void *close_arg;
};

static uint64_t s_uv_now(void *arg)
{
    return uv_now(((coord_t *)arg)->loop);
}

/* ---- routes ---- */

static route_t *s_route_by_worker(coord_t *self, const char *worker_id)
{
    for (size_t i = 0; i < self->n_routes; i++)
        if (!strcmp(self->routes[i].worker_id, worker_id))
            return &self->routes[i];
    return NULL;
}

static route_t *s_route_by_frame(coord_t *self, zframe_t *frame)
{
    for (size_t i = 0; i < self->n_routes; i++)
        if (zframe_eq(self->routes[i].route, frame))
            return &self->routes[i];
    return NULL;
}

static void s_route_drop(coord_t *self, route_t *r)
{
    free(r->worker_id);
    zframe_destroy(&r->route);
    *r = self->routes[--self->n_routes];
}

static int s_route_set(coord_t *self, const char *worker_id, zframe_t *frame)
{
    route_t *r;
    while ((r = s_route_by_frame(self, frame)) != NULL)
        s_route_drop(self, r);
    while ((r = s_route_by_worker(self, worker_id)) != NULL)
        s_route_drop(self, r);
    if (sw_grow((void **)&self->routes, &self->cap_routes, self->n_routes + 1,
                sizeof *self->routes, 16))
        return SW_ENOMEM;
    self->routes[self->n_routes++] = (route_t){strdup(worker_id), zframe_dup(frame)};
    return 0;
}

/* ---- sending ---- */

/* Try to send M without blocking: 0 sent (or dropped for good), EAGAIN to retry later.
 * Consumes M unless EAGAIN. */
static int s_try_send(coord_t *self, zmsg_t *m)
{
    void *sock = zsock_resolve(self->router);
    size_t n = zmsg_size(m);
    size_t i = 0;
    for (zframe_t *f = zmsg_first(m); f; f = zmsg_next(m), i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        int rc;
        /* a signal may interrupt the call: try the frame again rather than drop it */
        while ((rc = zmq_send(sock, zframe_data(f), zframe_size(f), flags)) < 0
               && zmq_errno() == EINTR)
            ;
        if (rc < 0) {
            int e = zmq_errno();
            if (i == 0 && e == EAGAIN)
                return EAGAIN;
            sw_log_debug("message dropped, peer unreachable: %s", zmq_strerror(e));
            break;
        }
    }
    zmsg_destroy(&m);
    return 0;
}

static void s_flush_sendq(coord_t *self)
{
    zmsg_t *m;
    while ((m = zlist_first(self->sendq)) != NULL) {
        zlist_remove(self->sendq, m);
        if (s_try_send(self, m) == EAGAIN) {
            zlist_push(self->sendq, m);
            return;
        }
    }
}

/* Send M (consumed), keeping order behind queued messages. */
static void s_send(coord_t *self, zmsg_t *m)
{
    if (!m)
        return;
    if (zlist_size(self->sendq) == 0 && s_try_send(self, m) != EAGAIN)
        return;
    zlist_append(self->sendq, m);
}

/* Move every field of SRC into DST. */
static void s_body_move(cJSON *dst, cJSON *src)
{
    while (src && src->child) {
        cJSON *it = cJSON_DetachItemViaPointer(src, src->child);
        cJSON_AddItemToObject(dst, it->string, it);
    }
}

/* Send CMD with BODY (consumed; may be NULL) to ROUTE. */
static void s_send_to(coord_t *self, zframe_t *route, proto_cmd_t cmd, cJSON *body)
{
    proto_msg_t *msg = proto_msg_new(cmd);
    if (!msg) {
        cJSON_Delete(body);
        return;
    }
    s_body_move(proto_msg_body(msg), body);
    cJSON_Delete(body);
    zmsg_t *m = proto_msg_encode(&msg);
    if (!m)
        return;
    zmsg_pushmem(m, zframe_data(route), zframe_size(route));
    s_send(self, m);
}

static void s_send_worker(coord_t *self, const char *worker_id, proto_cmd_t cmd, cJSON *body)
{
    route_t *r = s_route_by_worker(self, worker_id);
    if (!r) {
        sw_log_debug("no route to worker, %s dropped worker=%s", proto_cmd_name(cmd), worker_id);
        cJSON_Delete(body);
        return;
    }
    s_send_to(self, r->route, cmd, body);
}

static void s_reject(coord_t *self, zframe_t *route, const char *code, const char *reason)
{
    self->rejected++;
    uint64_t now = uv_now(self->loop);
    if (now - self->reject_logged_ms >= S_REJECT_LOG_MS || !self->reject_logged_ms) {
        sw_log_warn("message rejected, %s code=%s suppressed=%lld", reason, code,
                    (long long)self->rejected_unlogged);
        self->reject_logged_ms = now;
        self->rejected_unlogged = 0;
    } else {
        self->rejected_unlogged++;
    }
    if (!route)
        return;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "code", code);
    cJSON_AddStringToObject(b, "reason", reason);
    s_send_to(self, route, PROTO_ERROR, b);
}

static void s_invalid(coord_t *self, zframe_t *route, const char *reason)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "reason", reason);
    s_send_to(self, route, PROTO_INVALID, b);
}

/* ---- the turn ---- */

static void s_check_done(coord_t *self);

/* Commit the turn, then send what it decided. */
static void s_end_turn(coord_t *self)
{
    if (self->failed)
        return;
    coord_sched_out_t *out = NULL;
    size_t n = 0;
    if (coord_sched_flush(self->sched, &out, &n)) {
        self->failed = true;
        const char *why = coord_db_last_error(self->db);
        sw_log_error("database write failed: %s; stopping; the sweep resumes from the last "
                     "commit when restarted", why ? why : "commit refused");
        if (self->started)
            uv_poll_stop(&self->poll);
        if (self->done_cb && !self->done_called) {
            self->done_called = true;
            self->done_cb(self, self->done_arg);
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (out[i].cmd == PROTO_ACK && self->drop_acks > 0) {
            self->drop_acks--;
            sw_log_warn("debug: ACK dropped (--debug-drop-acks) worker=%s attempt=%.0f left=%d",
                        out[i].worker_id,
                        cJSON_GetNumberValue(cJSON_GetObjectItem(out[i].body, "attempt")),
                        self->drop_acks);
            continue;
        }
        s_send_worker(self, out[i].worker_id, out[i].cmd, out[i].body);
        out[i].body = NULL;
    }
    coord_sched_out_free(out, n);
    s_check_done(self);
}

static size_t s_int_array(cJSON *arr, int64_t *ids, size_t cap)
{
    size_t n = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (n < cap && cJSON_IsNumber(it))
            ids[n++] = (int64_t)it->valuedouble;
    }
    return n;
}

#define S_MAX_IDS 4096

/* With CURVE: whether KEY (the sender's public key) may speak for worker ID, that is
 * whether ID is unbound or bound to KEY (REPORT, RESULT). Always true in plaintext. */
static bool s_key_ok(coord_t *self, const char *id, const char *key)
{
    if (!self->curve || !self->keys)
        return true;
    const char *bound = zhash_lookup(self->keys, id);
    return !bound || !strcmp(bound, key);
}

/* With CURVE, for a HELLO: the first HELLO of an ID binds it to KEY, in the store (table
 * worker_key) and in self->keys, its cache; the binding is committed here, before the
 * WELCOME goes out, so no restart can forget it. Returns 0 (ID was bound to KEY or is
 * now; nothing to do in plaintext), SW_ESTATE (ID is bound to another key: refuse),
 * SW_EDB (the store failed: the coordinator stops; logged by s_end_turn) or
 * SW_ENOMEM. */
static int s_key_bind(coord_t *self, const char *id, const char *key)
{
    if (!self->curve || !self->keys || !*key)
        return 0;
    const char *bound = zhash_lookup(self->keys, id);
    if (bound)
        return strcmp(bound, key) ? SW_ESTATE : 0;
    int rc = coord_db_worker_key_bind(self->db, id, key, sw_clock_unix_ms());
    if (rc == SW_ESTATE)        /* the store holds a binding the cache lacks: refuse */
        return SW_ESTATE;
    s_end_turn(self);           /* commits the binding (and the turn so far) */
    if (self->failed || rc)
        return SW_EDB;
    if (zhash_insert(self->keys, id, (void *)key) != 0)    /* copied: autofree */
        return SW_ENOMEM;
    sw_log_info("worker id bound to its CURVE key worker=%s key=%s", id, key);
    return 0;
}

static int s_key_load(const coord_db_worker_key_t *row, void *arg)
{
    zhash_t *keys = arg;
    if (row->worker_id && row->public_key
        && strlen(row->public_key) == SW_CURVE_KEY_TXT_LEN)
        zhash_update(keys, row->worker_id, (void *)row->public_key);
    return 0;
}

/* ---- sweep control: SUBMIT, CANCEL-SWEEP, RESUME-SWEEP ---- */

/* Answer ROUTE with ERROR CODE, REASON and, when ERRS holds any, every one of them. */
static void s_control_error(coord_t *self, zframe_t *route, const char *code,
                            const char *reason, const sw_errs_t *errs)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "code", code);
    cJSON_AddStringToObject(b, "reason", reason);
    if (errs && errs->count) {
        cJSON *arr = cJSON_AddArrayToObject(b, "errors");
        for (size_t i = 0; i < errs->count; i++)
            cJSON_AddItemToArray(arr, cJSON_CreateString(errs->items[i]));
    }
    sw_log_notice("request refused code=%s reason=\"%s\"", code, reason);
    s_send_to(self, route, PROTO_ERROR, b);
}

typedef struct {
    bool found;
    char state[16];
} s_row_state_t;

static int s_row_state(const coord_db_sweep_t *row, void *arg)
{
    s_row_state_t *st = arg;
    st->found = true;
    snprintf(st->state, sizeof st->state, "%s", row->state);
    return 0;
}

/* The state of sweep NAME, served or only stored; false when the store has none. */
static bool s_sweep_state(coord_t *self, const char *name, char *state, size_t len)
{
    coord_sched_counts_t c;
    if (coord_sched_counts(self->sched, name, &c) == 0) {
        snprintf(state, len, "%s", c.state);
        return true;
    }
    s_row_state_t st = {0};
    if (coord_db_sweeps(self->db, name, s_row_state, &st) != 0 || !st.found)
        return false;
    snprintf(state, len, "%s", st.state);
    return true;
}

/* A sweep runs again: the done callback may be due once more when it ends (not while
 * closing, nor after SHUTDOWN went out). */
static void s_rearm_done(coord_t *self)
{
    if (!self->draining && !self->shutdown_sent && !coord_sched_all_final(self->sched))
        self->done_called = false;
}

static void s_submit(coord_t *self, zframe_t *route, proto_msg_t *msg)
{
    char reason[320];
    sw_errs_t errs = {0};
    char *text = cJSON_PrintUnformatted(proto_msg_item(msg, "spec"));
    sw_spec_t *spec = text ? sw_spec_parse(text, strlen(text), NULL, &errs) : NULL;
    free(text);
    if (!spec) {
        snprintf(reason, sizeof reason, "the spec is not valid (%zu error%s); nothing stored",
                 errs.count, errs.count == 1 ? "" : "s");
        s_control_error(self, route, "bad-spec", reason, &errs);
        sw_errs_clear(&errs);
        return;
    }
    char name[256];
    snprintf(name, sizeof name, "%s", spec->name);
    char state[16] = "";
    bool known = s_sweep_state(self, name, state, sizeof state);
    int rc = coord_add_sweep(self, &spec, &errs);
    if (rc == SW_ECHANGED) {
        snprintf(reason, sizeof reason, "sweep '%.200s' exists with a different spec (the "
                 "changed fields follow); choose a new name for a different sweep", name);
        s_control_error(self, route, "spec-changed", reason, &errs);
    } else if (rc == SW_EINVAL) {
        snprintf(reason, sizeof reason, "sweep '%.200s' refused", name);
        s_control_error(self, route, "bad-spec", reason, &errs);
    } else if (rc) {
        snprintf(reason, sizeof reason, "sweep '%.200s' not stored: %s", name, sw_strerror(rc));
        s_control_error(self, route, "internal", reason, NULL);
    } else {
        if (!s_sweep_state(self, name, state, sizeof state))
            snprintf(state, sizeof state, "?");
        sw_log_notice("sweep submitted sweep=%s resumed=%s state=%s", name,
                      known ? "true" : "false", state);
        s_rearm_done(self);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "sweep", name);
        cJSON_AddStringToObject(b, "state", state);
        cJSON_AddBoolToObject(b, "resumed", known);
        s_send_to(self, route, PROTO_SUBMIT_REPLY, b);
    }
    sw_errs_clear(&errs);
}

/* ERROR for SW_EINVAL / SW_ESTATE / other of a cancel or resume of NAME. */
static void s_control_refused(coord_t *self, zframe_t *route, int rc, const char *what,
                              const char *name, const char *state)
{
    char reason[400];
    if (rc == SW_EINVAL) {
        snprintf(reason, sizeof reason, "no sweep named '%.200s'", name);
        s_control_error(self, route, "unknown-sweep", reason, NULL);
    } else if (rc == SW_ESTATE) {
        snprintf(reason, sizeof reason, "cannot %s sweep '%.200s': it is %s%s", what, name,
                 state, !strcmp(what, "resume") && !strcmp(state, "COMPLETE")
                 ? " (--retry-failed reopens its FAILED and CANCELLED trials, when it has any)"
                 : "");
        s_control_error(self, route, "bad-state", reason, NULL);
    } else {
        snprintf(reason, sizeof reason, "cannot %s sweep '%.200s': %s", what, name,
                 sw_strerror(rc));
        s_control_error(self, route, "internal", reason, NULL);
    }
}

static void s_cancel_sweep(coord_t *self, zframe_t *route, proto_msg_t *msg)
{
    const char *name = proto_msg_string(msg, "sweep", "");
    coord_sched_cancel_t out;
    int rc = coord_cancel_sweep(self, name, proto_msg_string(msg, "reason", NULL), &out);
    if (rc) {
        s_control_refused(self, route, rc, "cancel", name, out.state);
        return;
    }
    s_send_to(self, route, PROTO_CANCEL_SWEEP_REPLY, coord_sched_cancel_doc(name, &out));
}

static void s_resume_sweep(coord_t *self, zframe_t *route, proto_msg_t *msg)
{
    const char *name = proto_msg_string(msg, "sweep", "");
    coord_sched_resume_t out;
    int rc = coord_resume_sweep(self, name, cJSON_IsTrue(proto_msg_item(msg, "retry_failed")),
                                &out);
    if (rc) {
        s_control_refused(self, route, rc, "resume", name, out.previous_state);
        return;
    }
    s_send_to(self, route, PROTO_RESUME_SWEEP_REPLY, coord_sched_resume_doc(name, &out));
}

static void s_handle(coord_t *self, zmsg_t *m)
{
    zframe_t *route = zmsg_pop(m);
    if (!route || zmsg_size(m) == 0) {
        s_reject(self, NULL, "malformed", "empty message");
        zframe_destroy(&route);
        zmsg_destroy(&m);
        return;
    }
    /* the client's CURVE public key (the ZAP handler sets User-Id); empty in plaintext */
    char key[SW_CURVE_KEY_TXT_LEN + 1] = "";
    if (self->curve) {
        const char *uid = zframe_meta(zmsg_first(m), "User-Id");
        if (uid)
            snprintf(key, sizeof key, "%s", uid);
    }
    char err[256];
    proto_msg_t *msg = proto_msg_decode(&m, err, sizeof err);
    zmsg_destroy(&m);
    if (!msg) {
        s_reject(self, route, "malformed", err);
        zframe_destroy(&route);
        return;
    }
    proto_cmd_t cmd = proto_msg_cmd(msg);
    static int64_t ids[S_MAX_IDS];
    if (cmd == PROTO_STATUS) {
        int e = 0;
        cJSON *doc = coord_status(self, proto_msg_string(msg, "sweep", NULL), &e);
        if (doc) {
            s_send_to(self, route, PROTO_STATUS_REPLY, doc);
        } else {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "code", e == SW_EINVAL ? "unknown-sweep" : "internal");
            cJSON_AddStringToObject(b, "reason", e == SW_EINVAL ? "no sweep of that name"
                                                                 : sw_strerror(e));
            s_send_to(self, route, PROTO_ERROR, b);
        }
        goto done;
    }
    if (cmd == PROTO_SUBMIT || cmd == PROTO_CANCEL_SWEEP || cmd == PROTO_RESUME_SWEEP) {
        if (self->curve && self->ops
            && sw_curve_role(NULL, self->ops, key) != SW_CURVE_ROLE_OPS) {
            char why[256];
            snprintf(why, sizeof why, "%s: permission denied: key %s may not control sweeps "
                     "(its certificate is not in the coordinator's operators directory, "
                     "--curve-allow-ops)", proto_cmd_name(cmd), *key ? key : "(none)");
            s_reject(self, route, "permission-denied", why);
        } else if (self->failed) {
            s_control_error(self, route, "internal", "the coordinator stopped after a database "
                            "failure", NULL);
        } else {
            /* commit what this batch decided so far: a refusal below then rolls back
             * nothing but its own writes, and the reply leaves after its own commit */
            s_end_turn(self);
            if (cmd == PROTO_SUBMIT)
                s_submit(self, route, msg);
            else if (cmd == PROTO_CANCEL_SWEEP)
                s_cancel_sweep(self, route, msg);
            else
                s_resume_sweep(self, route, msg);
        }
        goto done;
    }
    if (cmd == PROTO_HELLO) {
        const char *id = proto_msg_string(msg, "worker_id", "");
        if (!*id) {
            s_reject(self, route, "malformed", "HELLO: worker_id must not be empty");
            goto done;
        }
        double slots = proto_msg_number(msg, "slots", 0);
        if (slots < 1 || slots > 1e6) {
            s_reject(self, route, "malformed", "HELLO: slots must be at least 1");
            goto done;
        }
        int krc = s_key_bind(self, id, key);
        if (krc == SW_ESTATE) {
            s_reject(self, route, "not-yours", "HELLO: this worker id is bound to another "
                     "CURVE key");
            goto done;
        }
        if (krc) {
            if (!self->failed)
                s_reject(self, route, "internal", "HELLO: the worker id's key binding "
                         "cannot be stored");
            goto done;
        }
        size_t n = s_int_array(proto_msg_item(msg, "running"), ids, S_MAX_IDS);
        s_route_set(self, id, route);
        cJSON *b = cJSON_CreateObject();
        cJSON_AddNumberToObject(b, "heartbeat_ms", (double)self->heartbeat_ms);
        cJSON_AddNumberToObject(b, "lease_ms", (double)self->lease_ms);
        cJSON_AddStringToObject(b, "coordinator_id", self->endpoint);
        s_send_to(self, route, PROTO_WELCOME, b);
        coord_sched_hello(self->sched, id, proto_msg_string(msg, "host", ""),
                          (int64_t)proto_msg_number(msg, "pid", 0), (int)slots, ids, n);
        coord_sched_worker_caps(self->sched, id, proto_msg_item(msg, "trainers"),
                                proto_msg_item(msg, "commands"));
        goto done;
    }
    if (cmd != PROTO_REQUEST && cmd != PROTO_HEARTBEAT && cmd != PROTO_REPORT
        && cmd != PROTO_RESULT && cmd != PROTO_BYE) {
        char why[96];
        snprintf(why, sizeof why, "%s is not sent to a coordinator", proto_cmd_name(cmd));
        s_reject(self, route, "unexpected", why);
        goto done;
    }
    route_t *r = s_route_by_frame(self, route);
    if (!r || coord_sched_touch(self->sched, r->worker_id) == SW_ESTATE) {
        if (r)
            s_route_drop(self, r);
        s_invalid(self, route, "unknown worker; send HELLO");
        goto done;
    }
    const char *wid = r->worker_id;
    if ((cmd == PROTO_REPORT || cmd == PROTO_RESULT) && !s_key_ok(self, wid, key)) {
        s_reject(self, route, "not-yours", cmd == PROTO_RESULT
                 ? "RESULT: this worker id is bound to another CURVE key"
                 : "REPORT: this worker id is bound to another CURVE key");
        goto done;
    }
    switch (cmd) {
    case PROTO_REQUEST:
        coord_sched_request(self->sched, wid, (int)proto_msg_number(msg, "slots", 0));
        break;
    case PROTO_HEARTBEAT:
        break;
    case PROTO_REPORT:
        if (coord_sched_report(self->sched, wid, (int64_t)proto_msg_number(msg, "attempt", -1),
                               (int64_t)proto_msg_number(msg, "step", 0),
                               proto_msg_item(msg, "metrics")) == SW_ESTATE)
            s_reject(self, route, "not-yours", "REPORT: attempt not assigned to this worker");
        break;
    case PROTO_RESULT: {
        int rc = coord_sched_result(self->sched, wid, (int64_t)proto_msg_number(msg, "attempt", -1),
                                    proto_msg_string(msg, "state", ""),
                                    proto_msg_item(msg, "metrics"),
                                    proto_msg_string(msg, "error", NULL),
                                    proto_msg_string(msg, "kind", NULL),
                                    (int64_t)proto_msg_number(msg, "last_step", -1));
        if (rc == SW_EPROTO)
            s_reject(self, route, "malformed", "RESULT: state must be COMPLETE, FAILED or PRUNED");
        else if (rc == SW_ESTATE)
            s_reject(self, route, "not-yours", "RESULT: attempt not assigned to this worker");
        break;
    }
    case PROTO_BYE: {
        size_t n = s_int_array(proto_msg_item(msg, "handed_back"), ids, S_MAX_IDS);
        char *id = strdup(wid);
        coord_sched_bye(self->sched, id, ids, n);
        s_route_drop(self, r);
        free(id);
        break;
    }
    default:
        break;
    }
done:
    proto_msg_destroy(&msg);
    zframe_destroy(&route);
}

/* Drain the socket, one group commit per batch, until it holds nothing. */
static void s_pump(coord_t *self)
{
    while (!self->closing && !self->failed) {
        int n = 0;
        /* ZMQ_EVENTS read so that a signal cannot derail it (common/sw_zmq.h): czmq's
         * zsock_events() returns an uninitialised int when interrupted, and a
         * blocking receive trusting a false POLLIN waits for a message no worker
         * sends, with the loop stopped. With POLLIN true a whole message is waiting,
         * so zmsg_recv() (which keeps the frames' User-Id) returns at once, or NULL
         * when a signal interrupts it, and the loop asks again. */
        while (n < S_BATCH) {
            int events = sw_zmq_events(self->router);
            if (events < 0 || !(events & ZMQ_POLLIN))
                break;
            zmsg_t *m = zmsg_recv(self->router);
            if (!m) {
                if (zmq_errno() == EINTR)
                    continue;       /* interrupted by a signal: read again */
                break;
            }
            s_handle(self, m);
            n++;
        }
        s_end_turn(self);
        int events = sw_zmq_events(self->router);
        if (events > 0 && (events & ZMQ_POLLOUT))
            s_flush_sendq(self);
        if (n == 0)
            break;
    }
}

static void s_poll_cb(uv_poll_t *handle, int status, int events)
{
    (void)events;
    coord_t *self = handle->data;
    if (status < 0)
        sw_log_warn("socket poll failed: %s", uv_strerror(status));
    s_pump(self);
}

static void s_heartbeat_each(void *arg, const char *id)
{
    coord_t *self = arg;
    s_send_worker(self, id, PROTO_HEARTBEAT, cJSON_CreateObject());
}

static void s_heartbeat_cb(uv_timer_t *t)
{
    coord_t *self = t->data;
    if (self->closing || self->failed)
        return;
    coord_sched_each_worker(self->sched, s_heartbeat_each, self);
    s_pump(self);
}

static void s_cron_cb(uv_timer_t *t)
{
    coord_t *self = t->data;
    if (self->closing || self->failed)
        return;
    coord_sched_tick(self->sched);
    s_end_turn(self);
    s_pump(self);
}

static void s_shutdown_each(void *arg, const char *id)
{
    coord_t *self = arg;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "reason", "every sweep is final");
    s_send_worker(self, id, PROTO_SHUTDOWN, b);
    /* told to exit: gone, not lost (committed by coord_close) */
    coord_db_worker_set_state(self->db, id, "gone");
}

static void s_check_done(coord_t *self)
{
    if (self->done_called || !self->started || !coord_sched_all_final(self->sched))
        return;
    self->done_called = true;
    if (self->exit_when_done) {
        sw_log_notice("every sweep is final, telling the workers to exit");
        coord_sched_each_worker(self->sched, s_shutdown_each, self);
        self->shutdown_sent = true;
    }
    if (self->done_cb)
        self->done_cb(self, self->done_arg);
}

static void s_on_trial(void *arg, const coord_sched_counts_t *counts)
{
    coord_t *self = arg;
    if (self->progress_cb)
        self->progress_cb(self, counts, self->progress_arg);
}

/* ---- public ---- */

int coord_options_check(const coord_options_t *o, char *err, size_t errlen)
{
    assert(o);
    uint64_t lease = o->lease_ms ? o->lease_ms : COORD_SCHED_LEASE_MS_DEFAULT;
    uint64_t hb = o->heartbeat_ms ? o->heartbeat_ms : COORD_HEARTBEAT_MS_DEFAULT;
    if (lease < COORD_LEASE_HEARTBEATS_MIN * hb) {
        if (err && errlen)
            snprintf(err, errlen, "--lease-ms %llu is shorter than %d heartbeats of %llu ms: "
                     "every worker would look lost; use at least %llu (5 heartbeats or more "
                     "recommended)", (unsigned long long)lease, COORD_LEASE_HEARTBEATS_MIN,
                     (unsigned long long)hb,
                     (unsigned long long)(COORD_LEASE_HEARTBEATS_MIN * hb));
        return SW_EINVAL;
    }
    if (err && errlen)
        err[0] = 0;
    return 0;
}

/* Make the ROUTER a CURVE server behind the ZAP handler (before it binds: no window
 * without authentication), and load the worker key bindings from the store. */
static int s_curve_setup(coord_t *self, const coord_options_t *opts)
{
    const char *pub = opts->curve_public_key, *sec = opts->curve_secret_key;
    if (!pub || !sec || !opts->curve_allow_dir || strlen(pub) != SW_CURVE_KEY_TXT_LEN
        || strlen(sec) != SW_CURVE_KEY_TXT_LEN) {
        sw_log_error("CURVE needs the coordinator's key pair (40 Z85 characters each) and an "
                     "allow directory");
        return SW_EINVAL;
    }
    self->auth = sw_curve_auth_new(opts->curve_allow_dir, opts->curve_ops_dir);
    if (!self->auth) {
        sw_log_error("cannot start the authenticator on '%s'", opts->curve_allow_dir);
        return SW_EINVAL;
    }
    if (opts->curve_ops_dir) {
        /* this thread's own copy (the handler's lives in its thread), quiet: the
         * handler logs the loads */
        self->ops = sw_curve_keydir_new(opts->curve_ops_dir, NULL);
        if (!self->ops)
            return SW_ENOMEM;
    } else {
        sw_log_notice("sweep control (SUBMIT, CANCEL-SWEEP, RESUME-SWEEP) is open to every "
                      "key in the allow directory %s; an operators directory "
                      "(--curve-allow-ops) limits it to the keys listed there",
                      opts->curve_allow_dir);
    }
    zsock_set_curve_publickey(self->router, pub);
    zsock_set_curve_secretkey(self->router, sec);
    zsock_set_curve_server(self->router, 1);
    self->keys = zhash_new();
    if (!self->keys)
        return SW_ENOMEM;
    zhash_autofree(self->keys);
    /* the bindings made before a restart hold as they did */
    if (coord_db_worker_keys(self->db, s_key_load, self->keys) != 0) {
        sw_log_error("cannot read the worker key bindings from the database");
        return SW_EDB;
    }
    if (zhash_size(self->keys))
        sw_log_info("worker key bindings loaded count=%zu", zhash_size(self->keys));
    self->curve = true;
    return 0;
}

coord_t *coord_new(uv_loop_t *loop, const coord_options_t *opts, int *err)
{
    assert(loop && opts && opts->endpoint && opts->db_path);
    int dummy;
    if (!err)
        err = &dummy;
    *err = 0;
    coord_t *self = calloc(1, sizeof *self);
    if (!self) {
        *err = SW_ENOMEM;
        return NULL;
    }
    self->loop = loop;
    self->endpoint = strdup(opts->endpoint);
    self->db_path = strdup(opts->db_path);
    self->lease_ms = opts->lease_ms ? opts->lease_ms : COORD_SCHED_LEASE_MS_DEFAULT;
    self->heartbeat_ms = opts->heartbeat_ms ? opts->heartbeat_ms : COORD_HEARTBEAT_MS_DEFAULT;
    self->exit_when_done = opts->exit_when_done;
    self->drop_acks = opts->debug_drop_acks > 0 ? opts->debug_drop_acks : 0;
    self->sendq = zlist_new();
    if (!self->endpoint || !self->db_path || !self->sendq) {
        *err = SW_ENOMEM;
        goto fail;
    }
    self->db = coord_db_new(opts->db_path, false, err);
    if (!self->db)
        goto fail;
    uv_update_time(loop);
    self->sched = coord_sched_new(self->db, self->lease_ms, s_uv_now, self, err);
    if (!self->sched)
        goto fail;
    coord_sched_set_trial_cb(self->sched, s_on_trial, self);
    if (opts->orphans_lost) {
        int n = coord_sched_orphans_lost(self->sched);
        if (n)
            sw_log_notice("requeueing %d attempts of workers that cannot come back", n);
    }
    if (coord_db_commit(self->db)) {
        *err = SW_EDB;
        goto fail;
    }
    /* libuv handles the signals; czmq must not install its own handler */
    zsys_handler_set(NULL);
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router) {
        *err = SW_ENOMEM;
        goto fail;
    }
    zsock_set_router_mandatory(self->router, 1);
    zsock_set_linger(self->router, 0);
    if (opts->curve_public_key || opts->curve_secret_key || opts->curve_allow_dir
        || opts->curve_ops_dir) {
        *err = s_curve_setup(self, opts);
        if (*err)
            goto fail;
    }
    if (zsock_bind(self->router, "%s", opts->endpoint) < 0) {
        sw_log_error("cannot bind '%s': %s", opts->endpoint, zmq_strerror(zmq_errno()));
        *err = SW_EINVAL;
        goto fail;
    }
    char *bound = zsock_last_endpoint(self->router);
    if (bound) {
        free(self->endpoint);
        self->endpoint = bound;
    }
    return self;
fail:
    zsock_destroy(&self->router);
    sw_curve_auth_destroy(&self->auth);
    sw_curve_keydir_destroy(&self->ops);
    zhash_destroy(&self->keys);
    coord_sched_destroy(&self->sched);
    coord_db_destroy(&self->db);
    zlist_destroy(&self->sendq);
    free(self->endpoint);
    free(self->db_path);
    free(self);
    return NULL;
}

int coord_add_sweep(coord_t *self, sw_spec_t **spec_p, sw_errs_t *errs)
{
    assert(self && spec_p && errs);
    int rc = coord_sched_add_sweep(self->sched, spec_p, errs);
    if (rc) {
        coord_db_rollback(self->db);
        /* the scheduler wrote nothing on refusal; drop its pending messages too */
        coord_sched_out_t *out = NULL;
        size_t n = 0;
        if (coord_sched_flush(self->sched, &out, &n) == 0)
            coord_sched_out_free(out, n);
        return rc;
    }
    s_end_turn(self);
    return self->failed ? SW_EDB : 0;
}

int coord_cancel_sweep(coord_t *self, const char *name, const char *reason,
                       coord_sched_cancel_t *out)
{
    assert(self && name && out);
    int rc = coord_sched_cancel_sweep(self->sched, name, reason, out);
    if (rc == SW_EINVAL || rc == SW_ESTATE)
        return rc;      /* nothing was written */
    s_end_turn(self);
    return self->failed ? SW_EDB : rc;
}

int coord_resume_sweep(coord_t *self, const char *name, bool retry_failed,
                       coord_sched_resume_t *out)
{
    assert(self && name && out);
    int rc = coord_sched_resume_sweep(self->sched, name, retry_failed, out);
    if (rc == SW_EINVAL || rc == SW_ESTATE)
        return rc;      /* nothing was written */
    s_end_turn(self);
    if (self->failed)
        return SW_EDB;
    if (!rc)
        s_rearm_done(self);
    return rc;
}

void coord_set_progress_cb(coord_t *self, coord_progress_cb *cb, void *arg)
{
    assert(self);
    self->progress_cb = cb;
    self->progress_arg = arg;
}

void coord_set_done_cb(coord_t *self, coord_done_cb *cb, void *arg)
{
    assert(self);
    self->done_cb = cb;
    self->done_arg = arg;
}

int coord_start(coord_t *self)
{
    assert(self && !self->started);
    int rc = uv_poll_init(self->loop, &self->poll, zsock_fd(self->router));
    if (rc)
        return rc;
    self->poll.data = self;
    self->open_handles++;
    if (self->curve) {
        self->monitor = sw_curve_monitor_new(self->loop, self->router, true, NULL);
        sw_curve_monitor_set_log_auth(self->monitor, false);   /* the ZAP handler logs them */
    }
    uv_timer_init(self->loop, &self->heartbeat_timer);
    self->heartbeat_timer.data = self;
    self->open_handles++;
    uv_timer_init(self->loop, &self->cron_timer);
    self->cron_timer.data = self;
    self->open_handles++;
    self->started = true;
    rc = uv_poll_start(&self->poll, UV_READABLE, s_poll_cb);
    if (rc)
        return rc;
    /* said only now: a sweep refused by coord_add_sweep never reaches this point */
    sw_log_notice("coordinator listening endpoint=%s db=%s lease_ms=%llu heartbeat_ms=%llu "
                  "security=%s", self->endpoint, self->db_path,
                  (unsigned long long)self->lease_ms, (unsigned long long)self->heartbeat_ms,
                  self->curve ? "curve" : "plaintext");
    uint64_t cron_ms = self->lease_ms / 4 < 250 ? self->lease_ms / 4 : 250;
    uv_timer_start(&self->heartbeat_timer, s_heartbeat_cb, self->heartbeat_ms, self->heartbeat_ms);
    uv_timer_start(&self->cron_timer, s_cron_cb, cron_ms ? cron_ms : 1, cron_ms ? cron_ms : 1);
    /* a sweep may already be final (resumed after its end); and drain once, since a
     * fresh socket raises no edge for what is already queued */
    s_check_done(self);
    s_pump(self);
    return 0;
}

static void s_free(coord_t *self)
{
    coord_close_cb *cb = self->close_cb;
    void *arg = self->close_arg;
    if (self->router && self->shutdown_sent)
        zsock_set_linger(self->router, 500);   /* let SHUTDOWN leave */
    zmsg_t *m;
    while ((m = zlist_pop(self->sendq)) != NULL)
        zmsg_destroy(&m);
    zlist_destroy(&self->sendq);
    zsock_destroy(&self->router);
    sw_curve_auth_destroy(&self->auth);     /* after the router: never a socket without it */
    sw_curve_keydir_destroy(&self->ops);
    zhash_destroy(&self->keys);
    coord_sched_destroy(&self->sched);
    coord_db_destroy(&self->db);
    for (size_t i = 0; i < self->n_routes; i++) {
        free(self->routes[i].worker_id);
        zframe_destroy(&self->routes[i].route);
    }
    free(self->routes);
    free(self->endpoint);
    free(self->db_path);
    free(self);
    if (cb)
        cb(arg);
}

static void s_close_cb(uv_handle_t *h)
{
    coord_t *self = h->data;
    if (--self->open_handles == 0)
        s_free(self);
}

void coord_close(coord_t *self, coord_close_cb *cb, void *arg)
{
    assert(self);
    if (self->closing)
        return;
    if (!self->failed && self->started) {
        /* read what the socket already holds (a BYE that names the attempts its worker
         * hands back, a last RESULT) so that it is recorded: requeued now, no retry, no
         * lease spent. Nothing new is dispatched, and the done callback is not called
         * again from inside this call. */
        self->done_called = true;
        self->draining = true;
        coord_sched_pause(self->sched);
        s_pump(self);
    }
    if (!self->failed) {
        s_end_turn(self);   /* commit whatever the turn holds */
        if (self->router)
            s_flush_sendq(self);
    }
    self->closing = true;
    self->close_cb = cb;
    self->close_arg = arg;
    if (self->open_handles == 0) {
        s_free(self);
        return;
    }
    sw_curve_monitor_close(&self->monitor);
    if (self->started) {
        uv_close((uv_handle_t *)&self->poll, s_close_cb);
        uv_close((uv_handle_t *)&self->heartbeat_timer, s_close_cb);
        uv_close((uv_handle_t *)&self->cron_timer, s_close_cb);
    }
}

cJSON *coord_status(coord_t *self, const char *sweep, int *err)
{
    assert(self);
    cJSON *doc = coord_sched_status(self->sched, sweep, err);
    if (!doc)
        return NULL;
    cJSON *c = cJSON_GetObjectItem(doc, "coordinator");
    if (c) {
        cJSON_AddNumberToObject(c, "rejected_messages", (double)self->rejected);
        cJSON_AddNumberToObject(c, "send_queue", (double)zlist_size(self->sendq));
        cJSON_AddStringToObject(c, "endpoint", self->endpoint);
        cJSON_AddNumberToObject(c, "lease_ms", (double)self->lease_ms);
        cJSON_AddStringToObject(c, "security", self->curve ? "curve" : "plaintext");
        cJSON_AddNumberToObject(c, "refused_handshakes",
                                (double)sw_curve_monitor_failures(self->monitor));
    }
    return doc;
}

const char *coord_endpoint(const coord_t *self)
{
    assert(self);
    return self->endpoint;
}

bool coord_failed(const coord_t *self)
{
    assert(self);
    return self->failed;
}
