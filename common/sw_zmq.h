/*  sw_zmq.h - ZeroMQ socket calls that a signal cannot derail
 *
 *  A process with children (a worker's trainers) or with signal handlers (every
 *  sweepd daemon) gets signals at any moment, and a ZeroMQ call made while one
 *  arrives fails with EINTR: ZMQ_EVENTS included, whose internal poll of the socket's
 *  mailbox is interrupted. czmq's zsock_events() ignores that failure and returns an
 *  uninitialised int; when that garbage has the ZMQ_POLLIN bit, a blocking receive
 *  that trusts it waits for a message that may never come, and a libuv loop that
 *  called it stops. These two calls retry on EINTR and never block.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef SW_ZMQ_H
#define SW_ZMQ_H

#include <czmq.h>

/* ZMQ_EVENTS of SOCK (ZMQ_POLLIN | ZMQ_POLLOUT bits), the call retried while a signal
 * interrupts it. Returns the bits (>= 0), or -1 with errno set when the call fails
 * otherwise (e.g. ETERM, ENOTSOCK). */
int sw_zmq_events(zsock_t *sock);

/* Take one whole message off SOCK without blocking: every frame is received with
 * ZMQ_DONTWAIT, each retried while a signal interrupts it. The frames after the first
 * are there already (ZeroMQ delivers a multipart message whole) and are always read
 * to the end, so a frame that cannot be copied drops its own message and never
 * starts the next one. Returns 1 when a message was taken: *ZMSG_P is set to it
 * (caller owns; zmsg_destroy), or to NULL when it was dropped for want of memory;
 * 0 when none is waiting (*ZMSG_P NULL); -1 with errno set when ZeroMQ fails
 * otherwise (*ZMSG_P NULL). The frames are copies: the message's metadata
 * (zframe_meta(), e.g. the CURVE User-Id) is not kept; where it is needed, ask
 * sw_zmq_events() for ZMQ_POLLIN and then receive with czmq, which cannot block
 * while a whole message is waiting. */
int sw_zmq_recv_now(zsock_t *sock, zmsg_t **zmsg_p);

#endif
