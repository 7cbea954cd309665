/*  sw_zmq.c - ZeroMQ socket calls that a signal cannot derail (see sw_zmq.h)
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "common/sw_zmq.h"

#include <errno.h>
#include <stdbool.h>

int sw_zmq_events(zsock_t *sock)
{
    void *handle = zsock_resolve(sock);
    for (;;) {
        int events = 0;
        size_t len = sizeof events;
        if (zmq_getsockopt(handle, ZMQ_EVENTS, &events, &len) == 0)
            return events;
        if (errno != EINTR)
            return -1;
    }
}

int sw_zmq_recv_now(zsock_t *sock, zmsg_t **zmsg_p)
{
    void *handle = zsock_resolve(sock);
    *zmsg_p = NULL;
    zmsg_t *zmsg = zmsg_new();
    bool ok = zmsg != NULL, more = true;
    for (size_t i = 0; more; i++) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        int rc;
        while ((rc = zmq_msg_recv(&part, handle, ZMQ_DONTWAIT)) < 0 && errno == EINTR)
            ;
        if (rc < 0) {
            int e = errno;
            zmq_msg_close(&part);
            zmsg_destroy(&zmsg);
            if (i == 0 && e == EAGAIN)
                return 0;
            errno = e;
            return -1;
        }
        more = zmq_msg_more(&part);
        zframe_t *frame = ok ? zframe_new(zmq_msg_data(&part), zmq_msg_size(&part)) : NULL;
        zmq_msg_close(&part);
        if (!frame || zmsg_append(zmsg, &frame)) {
            zframe_destroy(&frame);
            ok = false;
        }
    }
    if (!ok)
        zmsg_destroy(&zmsg);
    *zmsg_p = zmsg;
    return 1;
}
