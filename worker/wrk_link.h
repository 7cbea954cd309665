/*  wrk_link.h - the worker's link to its coordinator: one DEALER socket on a libuv loop
 *
 *  The link connects a DEALER socket to the coordinator's endpoint, watches its
 *  ZMQ_FD with uv_poll, sends through an application queue (flushed whenever ZeroMQ
 *  takes more), decodes every incoming message with proto_msg_decode and hands the
 *  valid ones to the owner. Heartbeating and reconnection follow the ZeroMQ guide's
 *  Paranoid Pirate worker (examples/C/ppworker.c): every heartbeat interval the link
 *  asks its owner for a HEARTBEAT and counts liveness down; any valid message resets
 *  it; at zero the socket is dropped and a new one connects after a backoff that
 *  doubles from reconnect_min_ms up to reconnect_max_ms, with random jitter (half the
 *  interval fixed, half random) so that many workers do not reconnect in step. Each
 *  new socket is announced through connect_fn, where the owner says HELLO.
 *
 *  Messages queued but not yet taken by ZeroMQ are dropped when the socket is
 *  replaced: after a reconnect the owner re-announces what matters (HELLO with its
 *  running attempts, unacknowledged RESULTs after WELCOME).
 *
 *  The link is the only code on the worker side that touches zsock_t. It disables
 *  czmq's own SIGINT/SIGTERM handlers (zsys_handler_set(NULL)) so that the owner's
 *  uv_signal handles see those signals.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef WRK_LINK_H
#define WRK_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "proto/proto.h"

#define WRK_LINK_HEARTBEAT_MS      1000     /* default interval until WELCOME sets one */
#define WRK_LINK_LIVENESS          3        /* silent intervals before reconnecting */
#define WRK_LINK_RECONNECT_MIN_MS  1000
#define WRK_LINK_RECONNECT_MAX_MS  32000
#define WRK_LINK_LINGER_MS         200      /* how long a closed socket tries to deliver */
#define WRK_LINK_QUEUE_MAX         100000   /* messages; beyond, new ones are dropped */

typedef struct wrk_link wrk_link_t;

/* A new socket is connected (first start and each reconnect): send HELLO. */
typedef void (wrk_link_connect_fn)(wrk_link_t *link, void *arg);

/* A valid message arrived. The callee takes *MSG_P (sets it to NULL) or leaves it
 * for the link to destroy. The callee may send and may call wrk_link_close. */
typedef void (wrk_link_recv_fn)(wrk_link_t *link, proto_msg_t **msg_p, void *arg);

/* Heartbeat time: fill BODY of a HEARTBEAT (e.g. "running") and return true to send
 * it, false to send nothing this interval (e.g. before WELCOME). */
typedef bool (wrk_link_heartbeat_fn)(wrk_link_t *link, cJSON *body, void *arg);

/* A new DEALER socket SOCK is made and not yet connected (first start and each
 * reconnect): set its security options (CURVE keys) or attach a monitor. Return 0, or
 * a negative code to give the connect up (the socket is destroyed; a reconnect is
 * tried after the backoff). SOCK is borrowed: the link destroys it when it drops the
 * connection. */
typedef int (wrk_link_socket_fn)(wrk_link_t *link, zsock_t *sock, void *arg);

/* Every handle of the link is closed; wrk_link_destroy may now be called. */
typedef void (wrk_link_closed_fn)(wrk_link_t *link, void *arg);

typedef struct {
    const char *endpoint;           /* "tcp://host:5555", "ipc:///path"; copied */
    uint64_t heartbeat_ms;          /* 0 = WRK_LINK_HEARTBEAT_MS */
    int liveness;                   /* 0 = WRK_LINK_LIVENESS */
    uint64_t reconnect_min_ms;      /* 0 = WRK_LINK_RECONNECT_MIN_MS */
    uint64_t reconnect_max_ms;      /* 0 = WRK_LINK_RECONNECT_MAX_MS */
    int linger_ms;                  /* 0 = WRK_LINK_LINGER_MS */
    wrk_link_connect_fn *connect_fn;
    wrk_link_recv_fn *recv_fn;
    wrk_link_heartbeat_fn *heartbeat_fn;    /* may be NULL: no HEARTBEATs */
    wrk_link_socket_fn *socket_fn;  /* may be NULL: plaintext, no monitor */
    void *arg;                      /* passed to every callback */
} wrk_link_config_t;

/* A new, unconnected link on LOOP. CONFIG is copied. Caller owns; NULL on OOM. */
wrk_link_t *wrk_link_new(uv_loop_t *loop, const wrk_link_config_t *config);

/* Connect the first socket and start heartbeating; connect_fn runs from inside this
 * call. Returns 0, or a negative code (SW_ESTATE when already started or closing,
 * -errno from ZeroMQ when the endpoint is malformed). */
int wrk_link_start(wrk_link_t *self);

/* Queue *MSG_P for the coordinator (consumed: *MSG_P = NULL) and flush what ZeroMQ
 * will take now. Returns 0; -ENOTCONN when no socket is connected (waiting to
 * reconnect, or closing: the message is dropped); -ENOBUFS when the queue is full;
 * SW_ENOMEM. Loop thread only. */
int wrk_link_send(wrk_link_t *self, proto_msg_t **msg_p);

/* Use HEARTBEAT_MS (milliseconds, > 0) as the interval from now on (from WELCOME). */
void wrk_link_set_heartbeat(wrk_link_t *self, uint64_t heartbeat_ms);

/* Number of reconnections so far (not counting the first connect). */
uint64_t wrk_link_reconnects(const wrk_link_t *self);

/* True while a socket is connected (not waiting in backoff, not closed). */
bool wrk_link_connected(const wrk_link_t *self);

/* Hand what is queued to ZeroMQ (best effort), close the socket (it lingers
 * linger_ms to deliver) and every handle; CLOSED_FN (may be NULL) runs when the last
 * handle is closed. No callback runs after this call except CLOSED_FN. Safe from
 * inside recv_fn. Calling it twice does nothing. */
void wrk_link_close(wrk_link_t *self, wrk_link_closed_fn *closed_fn);

/* Free the link and set *SELF_P to NULL; NULL is fine. The link must never have
 * been started, or its closed_fn must have run. */
void wrk_link_destroy(wrk_link_t **self_p);

#endif
