/*  test_sw_zmq.c - ZeroMQ events and receives that never block and survive signals
 *
 *  Real ZeroMQ sockets over inproc (no mocks). poll(2) is interposed (test_poll in
 *  tests/test_util.h) so that a signal arrives at an exact point: libzmq polls a
 *  socket's mailbox with timeout 0 for ZMQ_EVENTS and non-blocking receives, and a
 *  poll failing with EINTR is what a signal during it does (czmq's zsock_events()
 *  then returns an uninitialised int).
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <string.h>

#include "common/sw_zmq.h"

/* A connected PAIR of sockets over a fresh inproc endpoint: A binds, B connects. */
static void s_pair(zsock_t **a, zsock_t **b, const char *name)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://test-sw-zmq-%s", name);
    *a = zsock_new(ZMQ_PAIR);
    *b = zsock_new(ZMQ_PAIR);
    assert_non_null(*a);
    assert_non_null(*b);
    assert_int_equal(zsock_bind(*a, "%s", ep), 0);
    assert_int_equal(zsock_connect(*b, "%s", ep), 0);
}

/* Nothing waiting: no POLLIN, receive returns 0 at once; a three-frame message:
 * POLLIN, taken whole with its frames in order; then nothing again. */
static void test_events_and_recv(void **state)
{
    (void)state;
    zsock_t *a, *b;
    s_pair(&a, &b, "basic");
    int ev = sw_zmq_events(a);
    assert_true(ev >= 0);
    assert_int_equal(ev & ZMQ_POLLIN, 0);
    assert_true(ev & ZMQ_POLLOUT);
    zmsg_t *m = (zmsg_t *)1;
    assert_int_equal(sw_zmq_recv_now(a, &m), 0);
    assert_null(m);
    assert_int_equal(zstr_sendx(b, "one", "", "three", NULL), 0);
    /* inproc delivers at once: the message is in A's pipe when the send returns */
    assert_true(sw_zmq_events(a) & ZMQ_POLLIN);
    assert_int_equal(sw_zmq_recv_now(a, &m), 1);
    assert_non_null(m);
    assert_int_equal(zmsg_size(m), 3);
    char *f = zmsg_popstr(m);
    assert_string_equal(f, "one");
    free(f);
    f = zmsg_popstr(m);
    assert_string_equal(f, "");
    free(f);
    f = zmsg_popstr(m);
    assert_string_equal(f, "three");
    free(f);
    zmsg_destroy(&m);
    assert_int_equal(sw_zmq_events(a) & ZMQ_POLLIN, 0);
    assert_int_equal(sw_zmq_recv_now(a, &m), 0);
    zsock_destroy(&a);
    zsock_destroy(&b);
}


/* Signals at the worst moments: with a message waiting (its arrival signalled on the
 * mailbox), the first polls of ZMQ_EVENTS and of the receive fail with EINTR. The
 * events are still exactly POLLIN | POLLOUT, the message is taken whole, and then
 * nothing is waiting: no call ever waited. Each interrupted call is really hit
 * (INJECTED counts them), for 1 to 3 interruptions in a row. */
static void test_signals_do_not_derail(void **state)
{
    (void)state;
    zsock_t *a, *b;
    s_pair(&a, &b, "signals");
    for (int k = 1; k <= 3; k++) {
        char text[16];
        snprintf(text, sizeof text, "msg%d", k);
        assert_int_equal(zstr_sendx(b, text, "tail", NULL), 0);
        test_poll.inject = k;
        test_poll.injected = 0;
        test_poll.waits = 0;
        test_poll.watch = true;
        int ev = sw_zmq_events(a);
        int hit_events = test_poll.injected;
        test_poll.inject = k;
        zmsg_t *m = NULL;
        int rc = sw_zmq_recv_now(a, &m);
        int ev_after = sw_zmq_events(a);
        zmsg_t *none = NULL;
        int rc_after = sw_zmq_recv_now(a, &none);
        test_poll.watch = false;
        assert_int_equal(ev, ZMQ_POLLIN | ZMQ_POLLOUT);
        assert_int_equal(hit_events, k);
        assert_int_equal(rc, 1);
        assert_non_null(m);
        assert_int_equal(zmsg_size(m), 2);
        char *t = zmsg_popstr(m);
        assert_string_equal(t, text);
        free(t);
        zmsg_destroy(&m);
        assert_int_equal(ev_after & ZMQ_POLLIN, 0);
        assert_int_equal(rc_after, 0);
        assert_null(none);
        assert_int_equal(test_poll.waits, 0);
    }
    zsock_destroy(&a);
    zsock_destroy(&b);
}

int main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_and_recv),
        cmocka_unit_test(test_signals_do_not_derail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
