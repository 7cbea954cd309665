/*  wrk_link.c - the worker's DEALER socket on a libuv loop: queue, drain, heartbeat, reconnect
 *
 *  ZMQ_FD is edge-triggered and also fires on send-side changes, so the link never
 *  trusts a single wake-up: s_drain() loops on ZMQ_EVENTS, sending from the queue
 *  while ZMQ_POLLOUT holds and receiving while ZMQ_POLLIN holds, until neither makes
 *  progress. It runs on every poll wake-up, right after each connect (a fresh pipe
 *  raises no edge for its first message) and after every send (a send can consume
 *  the edge of a pending inbound message). Sends and receives both use ZMQ_DONTWAIT:
 *  a full pipe (SNDHWM) leaves the message in the application queue, an empty one
 *  ends the drain; nothing ever blocks inside a libuv callback. Callbacks may
 *  re-enter (a recv_fn that sends); re-entry only marks the running drain to go round
 *  once more.
 *
 *  Signals: every trainer's exit sends SIGCHLD to this process, and ZeroMQ calls made
 *  while it arrives fail with EINTR, ZMQ_EVENTS included (its internal poll of the
 *  socket's mailbox is interrupted). Each such call is retried (common/sw_zmq.h).
 *  czmq's zsock_events() is not used: it ignores that failure and returns an
 *  uninitialised int. When that
 *  garbage had the ZMQ_POLLIN bit, the blocking zmsg_recv() that followed waited for a
 *  message the coordinator, killed meanwhile, would never send, and the loop stopped
 *  (no trainer reaped, no heartbeat, no reconnect) until the next signal; without it,
 *  the drain could end with a message waiting that no edge would announce before the
 *  next heartbeat.
 *
 *  Handles: one tick timer (heartbeat + liveness), one reconnect timer, and one
 *  uv_poll_t per socket, allocated with the socket and freed in its close callback
 *  (the fd is removed from epoll by uv_poll_stop before the socket closes it).
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "worker/wrk_link.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/sw_clock.h"
#include "common/sw_err.h"
#include "common/sw_log.h"
#include "common/sw_rng.h"
#include "common/sw_zmq.h"

struct wrk_link {
    uv_loop_t *loop;
    wrk_link_config_t cfg;          /* endpoint points at ENDPOINT below */
    char *endpoint;
    zsock_t *sock;                  /* NULL while waiting to reconnect or closed */
    uv_poll_t *poll;                /* watches the current socket's ZMQ_FD */
    uv_timer_t tick;                /* every heartbeat_ms: heartbeat, liveness */
    uv_timer_t reconnect;           /* backoff before the next socket */
    zlist_t *queue;                 /* zmsg_t * waiting for ZeroMQ to take them */
    int liveness;                   /* intervals left before reconnecting */
    uint64_t backoff_ms;            /* next reconnect delay (before jitter) */
    uint64_t reconnects;
    uint64_t rejected;              /* malformed messages received */
    sw_rng_t rng;                   /* jitter */
    bool started, closing, draining, drain_again;
    bool heard;                     /* a valid message came on the current socket */
    int open_handles;
    wrk_link_closed_fn *closed_fn;
};

static void s_drain(wrk_link_t *self);

wrk_link_t *wrk_link_new(uv_loop_t *loop, const wrk_link_config_t *config)
{
    assert(loop && config && config->endpoint);
    wrk_link_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->cfg = *config;
    self->endpoint = strdup(config->endpoint);
    self->queue = zlist_new();
    if (!self->endpoint || !self->queue) {
        free(self->endpoint);
        zlist_destroy(&self->queue);
        free(self);
        return NULL;
    }
    self->cfg.endpoint = self->endpoint;
    if (!self->cfg.heartbeat_ms)
        self->cfg.heartbeat_ms = WRK_LINK_HEARTBEAT_MS;
    if (self->cfg.liveness <= 0)
        self->cfg.liveness = WRK_LINK_LIVENESS;
    if (!self->cfg.reconnect_min_ms)
        self->cfg.reconnect_min_ms = WRK_LINK_RECONNECT_MIN_MS;
    if (self->cfg.reconnect_max_ms < self->cfg.reconnect_min_ms)
        self->cfg.reconnect_max_ms = self->cfg.reconnect_min_ms > WRK_LINK_RECONNECT_MAX_MS
                                   ? self->cfg.reconnect_min_ms : WRK_LINK_RECONNECT_MAX_MS;
    if (self->cfg.linger_ms <= 0)
        self->cfg.linger_ms = WRK_LINK_LINGER_MS;
    self->backoff_ms = self->cfg.reconnect_min_ms;
    sw_rng_seed(&self->rng, sw_clock_mono_ns() ^ ((uint64_t)getpid() << 32));
    return self;
}

static void s_queue_clear(wrk_link_t *self)
{
    zmsg_t *z;
    while ((z = zlist_pop(self->queue)))
        zmsg_destroy(&z);
}

void wrk_link_destroy(wrk_link_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    wrk_link_t *self = *self_p;
    assert(!self->started || (self->closing && self->open_handles == 0));
    s_queue_clear(self);
    zlist_destroy(&self->queue);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

uint64_t wrk_link_reconnects(const wrk_link_t *self)
{
    assert(self);
    return self->reconnects;
}

bool wrk_link_connected(const wrk_link_t *self)
{
    assert(self);
    return self->sock != NULL && !self->closing;
}

static void s_handle_close_cb(uv_handle_t *handle)
{
    wrk_link_t *self = handle->data;
    if (handle != (uv_handle_t *)&self->tick && handle != (uv_handle_t *)&self->reconnect)
        free(handle);       /* a per-socket uv_poll_t */
    assert(self->open_handles > 0);
    if (--self->open_handles == 0 && self->closing && self->closed_fn)
        self->closed_fn(self, self->cfg.arg);
}

/* Drop the socket and its poll handle; the queue goes with it. */
static void s_disconnect(wrk_link_t *self)
{
    if (self->poll) {
        uv_poll_stop(self->poll);
        uv_close((uv_handle_t *)self->poll, s_handle_close_cb);
        self->poll = NULL;
    }
    zsock_destroy(&self->sock);
    s_queue_clear(self);
}

static void s_poll_cb(uv_poll_t *poll, int status, int events)
{
    (void)events;
    wrk_link_t *self = poll->data;
    if (status < 0)
        sw_log_warn("poll on the coordinator socket failed: %s", uv_strerror(status));
    s_drain(self);
}

/* Make a socket, connect it, watch it, announce it. Returns 0 or a negative code. */
static int s_connect(wrk_link_t *self)
{
    assert(!self->sock);
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return SW_ENOMEM;
    zsock_set_linger(sock, self->cfg.linger_ms);
    if (self->cfg.socket_fn) {
        int src = self->cfg.socket_fn(self, sock, self->cfg.arg);
        if (src) {
            zsock_destroy(&sock);
            return src;
        }
    }
    if (zsock_connect(sock, "%s", self->endpoint) != 0) {
        int rc = errno ? -errno : SW_EINVAL;
        zsock_destroy(&sock);
        return rc;
    }
    uv_poll_t *poll = calloc(1, sizeof *poll);
    if (!poll) {
        zsock_destroy(&sock);
        return SW_ENOMEM;
    }
    int rc = uv_poll_init(self->loop, poll, zsock_fd(sock));
    if (rc) {
        free(poll);
        zsock_destroy(&sock);
        return rc;
    }
    poll->data = self;
    self->open_handles++;
    uv_poll_start(poll, UV_READABLE, s_poll_cb);
    self->sock = sock;
    self->poll = poll;
    self->liveness = self->cfg.liveness;
    self->heard = false;
    sw_log_info("connected to coordinator endpoint=%s reconnects=%llu", self->endpoint,
                (unsigned long long)self->reconnects);
    if (self->cfg.connect_fn)
        self->cfg.connect_fn(self, self->cfg.arg);
    s_drain(self);
    return 0;
}

static void s_reconnect_cb(uv_timer_t *timer)
{
    wrk_link_t *self = timer->data;
    if (self->closing)
        return;
    self->reconnects++;
    int rc = s_connect(self);
    if (rc) {
        sw_log_error("cannot reconnect to coordinator endpoint=%s: %s", self->endpoint,
                     sw_strerror(rc));
        uv_timer_start(&self->reconnect, s_reconnect_cb, self->backoff_ms, 0);
    }
}

static void s_tick_cb(uv_timer_t *timer)
{
    wrk_link_t *self = timer->data;
    if (self->closing || !self->sock)
        return;
    if (--self->liveness <= 0) {
        /* Paranoid Pirate: the coordinator is silent; drop the socket, back off. */
        uint64_t half = self->backoff_ms / 2;
        uint64_t delay = half + sw_rng_below(&self->rng, self->backoff_ms - half + 1);
        if (self->heard)
            sw_log_warn("coordinator silent for %d heartbeats, reconnecting endpoint=%s "
                        "delay_ms=%llu", self->cfg.liveness, self->endpoint,
                        (unsigned long long)delay);
        else
            sw_log_warn("no answer from a coordinator at %s in %d heartbeats (none listening, "
                        "or a refused handshake: see the lines above), reconnecting delay_ms=%llu",
                        self->endpoint, self->cfg.liveness, (unsigned long long)delay);
        s_disconnect(self);
        uv_timer_start(&self->reconnect, s_reconnect_cb, delay, 0);
        if (self->backoff_ms < self->cfg.reconnect_max_ms) {
            self->backoff_ms *= 2;
            if (self->backoff_ms > self->cfg.reconnect_max_ms)
                self->backoff_ms = self->cfg.reconnect_max_ms;
        }
        return;
    }
    if (!self->cfg.heartbeat_fn)
        return;
    proto_msg_t *hb = proto_msg_new(PROTO_HEARTBEAT);
    if (hb && self->cfg.heartbeat_fn(self, proto_msg_body(hb), self->cfg.arg))
        wrk_link_send(self, &hb);
    proto_msg_destroy(&hb);
}

int wrk_link_start(wrk_link_t *self)
{
    assert(self);
    if (self->started || self->closing)
        return SW_ESTATE;
    /* czmq would otherwise install its SIGINT/SIGTERM handlers on its first socket,
     * over the owner's uv_signal handlers. */
    zsys_handler_set(NULL);
    uv_timer_init(self->loop, &self->tick);
    uv_timer_init(self->loop, &self->reconnect);
    self->tick.data = self->reconnect.data = self;
    self->open_handles += 2;
    self->started = true;
    uv_timer_start(&self->tick, s_tick_cb, self->cfg.heartbeat_ms, self->cfg.heartbeat_ms);
    int rc = s_connect(self);
    if (rc)
        sw_log_error("cannot connect to coordinator endpoint=%s: %s", self->endpoint,
                     sw_strerror(rc));
    return rc;
}

void wrk_link_set_heartbeat(wrk_link_t *self, uint64_t heartbeat_ms)
{
    assert(self && heartbeat_ms > 0);
    if (heartbeat_ms == self->cfg.heartbeat_ms || !self->started || self->closing)
        return;
    self->cfg.heartbeat_ms = heartbeat_ms;
    uv_timer_start(&self->tick, s_tick_cb, heartbeat_ms, heartbeat_ms);
}

/* Hand ZMSG's frames to ZeroMQ without blocking. 0 when taken, -1 when ZeroMQ is full
 * (EAGAIN) or failed; a multipart message is taken whole once its first frame is. */
static int s_send_now(wrk_link_t *self, zmsg_t *zmsg)
{
    void *handle = zsock_resolve(self->sock);
    size_t n = zmsg_size(zmsg), i = 0;
    for (zframe_t *f = zmsg_first(zmsg); f; f = zmsg_next(zmsg), i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        int rc;
        /* a signal (SIGCHLD from a trainer) may interrupt the call: try the frame again */
        while ((rc = zmq_send(handle, zframe_data(f), zframe_size(f), flags)) < 0 && errno == EINTR)
            ;
        if (rc < 0) {
            if (i > 0 || errno != EAGAIN)
                sw_log_warn("cannot send to coordinator: %s", zmq_strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void s_dispatch(wrk_link_t *self, zmsg_t *zmsg)
{
    char err[256];
    proto_msg_t *msg = proto_msg_decode(&zmsg, err, sizeof err);
    if (!msg) {
        self->rejected++;
        if (self->rejected <= 10 || self->rejected % 1000 == 0)
            sw_log_warn("rejected a message from the coordinator rejected=%llu: %s",
                        (unsigned long long)self->rejected, err);
        return;
    }
    /* Every valid message proves the coordinator alive (MDP: any command counts). */
    self->liveness = self->cfg.liveness;
    self->heard = true;
    self->backoff_ms = self->cfg.reconnect_min_ms;
    if (sw_log_level() >= SW_LOG_DEBUG) {
        char *text = proto_msg_describe(msg);
        sw_log_debug("received %s", text ? text : "?");
        free(text);
    }
    if (self->cfg.recv_fn)
        self->cfg.recv_fn(self, &msg, self->cfg.arg);
    proto_msg_destroy(&msg);
}

/* ZMQ_EVENTS of the current socket (ZMQ_POLLIN | ZMQ_POLLOUT bits); a signal that
 * interrupts the call is retried; 0 when the call fails otherwise (logged). */
static int s_events(wrk_link_t *self)
{
    int events = sw_zmq_events(self->sock);
    if (events < 0) {
        sw_log_warn("cannot read the coordinator socket's events: %s", zmq_strerror(errno));
        return 0;
    }
    return events;
}

/* One whole message off the socket without blocking (sw_zmq_recv_now) into *ZMSG_P.
 * Returns 1 when a message was taken (*ZMSG_P set; NULL when it was dropped for want
 * of memory, logged), 0 when none is waiting or ZeroMQ failed (logged). */
static int s_recv_now(wrk_link_t *self, zmsg_t **zmsg_p)
{
    int rc = sw_zmq_recv_now(self->sock, zmsg_p);
    if (rc < 0)
        sw_log_warn("cannot receive from coordinator: %s", zmq_strerror(errno));
    else if (rc == 1 && !*zmsg_p)
        sw_log_warn("out of memory receiving from coordinator, message dropped");
    return rc > 0;
}

static void s_drain(wrk_link_t *self)
{
    if (self->draining) {
        self->drain_again = true;
        return;
    }
    self->draining = true;
    do {
        self->drain_again = false;
        while (self->sock && !self->closing) {
            int events = s_events(self);
            bool progressed = false;
            if ((events & ZMQ_POLLOUT) && zlist_size(self->queue) > 0) {
                zmsg_t *z = zlist_first(self->queue);
                if (s_send_now(self, z) == 0 || errno != EAGAIN) {
                    zlist_pop(self->queue);
                    zmsg_destroy(&z);
                    progressed = true;
                }
            }
            if (self->sock && !self->closing && (events & ZMQ_POLLIN)) {
                zmsg_t *z = NULL;
                if (s_recv_now(self, &z)) {
                    if (z)
                        s_dispatch(self, z);
                    progressed = true;
                }
            }
            if (!progressed)
                break;
        }
    } while (self->drain_again && self->sock && !self->closing);
    self->draining = false;
}

int wrk_link_send(wrk_link_t *self, proto_msg_t **msg_p)
{
    assert(self && msg_p && *msg_p);
    if (!self->sock || self->closing) {
        proto_msg_destroy(msg_p);
        return -ENOTCONN;
    }
    if (zlist_size(self->queue) >= WRK_LINK_QUEUE_MAX) {
        sw_log_warn("send queue full, dropping %s", proto_cmd_name(proto_msg_cmd(*msg_p)));
        proto_msg_destroy(msg_p);
        return -ENOBUFS;
    }
    if (sw_log_level() >= SW_LOG_DEBUG) {
        char *text = proto_msg_describe(*msg_p);
        sw_log_debug("sending %s", text ? text : "?");
        free(text);
    }
    zmsg_t *z = proto_msg_encode(msg_p);
    if (!z || zlist_append(self->queue, z)) {
        zmsg_destroy(&z);
        return SW_ENOMEM;
    }
    s_drain(self);
    return 0;
}

void wrk_link_close(wrk_link_t *self, wrk_link_closed_fn *closed_fn)
{
    assert(self);
    if (self->closing)
        return;
    self->closed_fn = closed_fn;
    if (self->sock) {
        /* Best effort: hand ZeroMQ what it takes now; the linger delivers it. */
        zmsg_t *z;
        while ((z = zlist_first(self->queue)) && (s_events(self) & ZMQ_POLLOUT)
               && s_send_now(self, z) == 0) {
            zlist_pop(self->queue);
            zmsg_destroy(&z);
        }
    }
    self->closing = true;
    if (!self->started) {
        if (closed_fn)
            closed_fn(self, self->cfg.arg);
        return;
    }
    s_disconnect(self);
    uv_timer_stop(&self->tick);
    uv_timer_stop(&self->reconnect);
    uv_close((uv_handle_t *)&self->tick, s_handle_close_cb);
    uv_close((uv_handle_t *)&self->reconnect, s_handle_close_cb);
}
