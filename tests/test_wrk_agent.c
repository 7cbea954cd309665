/*  test_wrk_agent.c - the worker agent against a real ROUTER socket played by the test
 *
 *  The test binds a ROUTER on a loopback TCP port, runs the worker agent on a libuv
 *  loop in the same thread, and plays the coordinator: it waits for each message the
 *  worker must send (turning the loop while it waits; a deadline turns a hang into a
 *  failure) and answers as a coordinator would. Trainers are /bin/sh scripts.
 *
 *  The link test at the end interposes poll(2) (test_poll, tests/test_util.h) to make
 *  a signal arrive at an exact point: libzmq waits on a socket's mailbox with poll, and
 *  ZMQ_EVENTS polls it with timeout 0, so a timeout-0 poll that fails with EINTR is
 *  what a trainer's SIGCHLD does to ZMQ_EVENTS when it arrives during the call.
 *  ZeroMQ itself is real.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "common/sw_clock.h"
#include "common/sw_err.h"
#include "proto/proto.h"
#include "worker/wrk.h"
#include "worker/wrk_link.h"

typedef struct {
    uv_loop_t loop;
    zsock_t *router;
    char endpoint[64];
    char *dir;
    wrk_t *wrk;
    bool done;
    zframe_t *peer;         /* routing id of the last message's sender */
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    zsys_handler_set(NULL);
    fx->router = zsock_new(ZMQ_ROUTER);
    assert_non_null(fx->router);
    zsock_set_linger(fx->router, 0);
    int port = zsock_bind(fx->router, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    snprintf(fx->endpoint, sizeof fx->endpoint, "tcp://127.0.0.1:%d", port);
    fx->dir = test_mkdtemp();
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    wrk_destroy(&fx->wrk);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    zframe_destroy(&fx->peer);
    zsock_destroy(&fx->router);
    test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void s_done_cb(wrk_t *wrk, void *arg)
{
    (void)wrk;
    ((fx_t *)arg)->done = true;
}

static void s_start_worker_in(fx_t *fx, int slots, const char *state_dir)
{
    static const char *const allow[] = {"/bin/sh", NULL};
    wrk_config_t cfg = {
        .endpoint = fx->endpoint, .worker_id = "w1", .slots = slots, .heartbeat_ms = 100,
        .reconnect_min_ms = 20, .reconnect_max_ms = 100, .result_resend_ms = 60000,
        .grace_ms = 500, .allow_commands = allow, .state_dir = state_dir,
    };
    fx->wrk = wrk_new(&fx->loop, &cfg);
    assert_non_null(fx->wrk);
    assert_int_equal(wrk_start(fx->wrk, s_done_cb, fx), 0);
}

static void s_start_worker(fx_t *fx, int slots)
{
    s_start_worker_in(fx, slots, NULL);
}

/* Turn the loop and the router until a message other than HEARTBEAT arrives; assert
 * it is CMD. Caller owns the message. Fails after 10 s. */
static proto_msg_t *s_expect(fx_t *fx, proto_cmd_t cmd)
{
    uint64_t deadline = sw_clock_mono_ms() + 10000;
    while (sw_clock_mono_ms() < deadline) {
        uv_run(&fx->loop, UV_RUN_NOWAIT);
        zmq_pollitem_t item = {zsock_resolve(fx->router), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 5) <= 0)
            continue;
        zmsg_t *z = zmsg_recv(fx->router);
        assert_non_null(z);
        zframe_destroy(&fx->peer);
        fx->peer = zmsg_pop(z);
        char err[256];
        proto_msg_t *msg = proto_msg_decode(&z, err, sizeof err);
        if (!msg)
            fail_msg("worker sent a malformed message: %s", err);
        if (proto_msg_cmd(msg) == PROTO_HEARTBEAT) {
            proto_msg_destroy(&msg);
            continue;
        }
        if (proto_msg_cmd(msg) != cmd)
            fail_msg("expected %s, got %s", proto_cmd_name(cmd), proto_cmd_name(proto_msg_cmd(msg)));
        return msg;
    }
    fail_msg("no %s within 10 s", proto_cmd_name(cmd));
    return NULL;
}

/* Send CMD with BODY (JSON text) to the last sender. */
static void s_send(fx_t *fx, proto_cmd_t cmd, const char *body)
{
    proto_msg_t *msg = proto_msg_new(cmd);
    cJSON *json = cJSON_Parse(body);
    assert_non_null(json);
    cJSON *item;
    while ((item = json->child))
        cJSON_AddItemToObject(proto_msg_body(msg), item->string,
                              cJSON_DetachItemViaPointer(json, item));
    cJSON_Delete(json);
    zmsg_t *z = proto_msg_encode(&msg);
    zmsg_prepend(z, &(zframe_t *){zframe_dup(fx->peer)});
    assert_int_equal(zmsg_send(&z, fx->router), 0);
}

static void s_bound_cb(uv_timer_t *timer)
{
    *(bool *)timer->data = true;
    uv_stop(timer->loop);
}

/* Turn the loop until the worker has stopped, then until nothing is left on it: the
 * handshake monitor of the worker's last socket lets go of the loop once that socket,
 * destroyed, has said MONITOR_STOPPED (sw_curve_monitor_close). Each phase is bounded
 * (an unreferenced timer for the second: a bound, not a synchronization). */
static void s_run_until_done(fx_t *fx)
{
    uint64_t deadline = sw_clock_mono_ms() + 10000;
    while (!fx->done && sw_clock_mono_ms() < deadline)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_true(fx->done);
    bool timed_out = false;
    uv_timer_t bound;
    uv_timer_init(&fx->loop, &bound);
    bound.data = &timed_out;
    uv_timer_start(&bound, s_bound_cb, 5000, 0);
    uv_unref((uv_handle_t *)&bound);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&bound, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_false(timed_out);
    /* Nothing may be left on the loop. */
    assert_int_equal(uv_run(&fx->loop, UV_RUN_NOWAIT), 0);
}

static char *s_ids(proto_msg_t *msg, const char *field)
{
    return cJSON_PrintUnformatted(proto_msg_item(msg, field));
}

static void s_assert_ids(proto_msg_t *msg, const char *field, const char *expected)
{
    char *text = s_ids(msg, field);
    assert_string_equal(text, expected);
    free(text);
}

static char *s_assign(fx_t *fx, int attempt, const char *script)
{
    char name[32];
    snprintf(name, sizeof name, "t%d.sh", attempt);
    char *path = test_write_file(fx->dir, name, script);
    char *body = NULL;
    assert_true(asprintf(&body,
        "{\"attempt\": %d, \"sweep\": \"s\", \"trial\": %d, \"fold\": -1, \"folds\": 0,"
        " \"params\": {\"lr\": 0.1}, \"objective\": \"val_accuracy\","
        " \"trainer\": {\"type\": \"command\", \"argv\": [\"/bin/sh\", \"%s\", \"{lr}\"]}}",
        attempt, attempt, path) > 0);
    free(path);
    return body;
}

static void test_session_result_until_ack(void **state)
{
    fx_t *fx = *state;
    s_start_worker(fx, 1);
    proto_msg_t *m = s_expect(fx, PROTO_HELLO);
    assert_string_equal(proto_msg_string(m, "worker_id", ""), "w1");
    assert_int_equal(proto_msg_int(m, "slots", 0), 1);
    assert_int_equal(proto_msg_int(m, "pid", 0), getpid());
    s_assert_ids(m, "trainers", "[\"command\"]");
    s_assert_ids(m, "commands", "[\"/bin/sh\"]");
    s_assert_ids(m, "running", "[]");
    proto_msg_destroy(&m);
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 200, \"lease_ms\": 2000}");
    m = s_expect(fx, PROTO_REQUEST);
    assert_int_equal(proto_msg_int(m, "slots", -1), 1);
    proto_msg_destroy(&m);

    char *assign = s_assign(fx, 7,
        "echo \"{\\\"step\\\": 1, \\\"metrics\\\": {\\\"val_accuracy\\\": $1}}\" >&3\n"
        "echo '{\"step\": 2, \"metrics\": {\"val_accuracy\": 0.8}}' >&3\n"
        "echo '{\"final\": true, \"metrics\": {\"val_accuracy\": 0.9}}' >&3\n");
    s_send(fx, PROTO_ASSIGN, assign);
    free(assign);
    for (int step = 1; step <= 2; step++) {
        m = s_expect(fx, PROTO_REPORT);
        assert_int_equal(proto_msg_int(m, "attempt", -1), 7);
        assert_int_equal(proto_msg_int(m, "step", -1), step);
        double acc = cJSON_GetObjectItem(proto_msg_item(m, "metrics"), "val_accuracy")->valuedouble;
        assert_true(acc == (step == 1 ? 0.1 : 0.8));
        proto_msg_destroy(&m);
    }
    m = s_expect(fx, PROTO_RESULT);
    assert_int_equal(proto_msg_int(m, "attempt", -1), 7);
    assert_string_equal(proto_msg_string(m, "state", ""), "COMPLETE");
    assert_true(cJSON_GetObjectItem(proto_msg_item(m, "metrics"), "val_accuracy")->valuedouble == 0.9);
    assert_int_equal(proto_msg_int(m, "last_step", -1), 2);
    assert_null(proto_msg_item(m, "error"));
    proto_msg_destroy(&m);
    m = s_expect(fx, PROTO_REQUEST);
    assert_int_equal(proto_msg_int(m, "slots", -1), 1);
    proto_msg_destroy(&m);
    assert_int_equal(wrk_unacked(fx->wrk), 1);

    /* The coordinator forgot us: HELLO lists the unacknowledged attempt, the RESULT is
     * sent again after WELCOME. Several INVALIDs in a row (one per message the worker
     * had sent) get one HELLO, not one each: the next message after HELLO is the
     * RESULT that follows WELCOME. */
    s_send(fx, PROTO_INVALID, "{\"reason\": \"unknown worker\"}");
    s_send(fx, PROTO_INVALID, "{\"reason\": \"unknown worker\"}");
    s_send(fx, PROTO_INVALID, "{\"reason\": \"unknown worker\"}");
    m = s_expect(fx, PROTO_HELLO);
    s_assert_ids(m, "running", "[7]");
    proto_msg_destroy(&m);
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 200, \"lease_ms\": 2000}");
    m = s_expect(fx, PROTO_RESULT);
    assert_int_equal(proto_msg_int(m, "attempt", -1), 7);
    assert_string_equal(proto_msg_string(m, "state", ""), "COMPLETE");
    proto_msg_destroy(&m);
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);
    s_send(fx, PROTO_ACK, "{\"attempt\": 7}");
    s_send(fx, PROTO_SHUTDOWN, "{\"reason\": \"sweep finished\"}");
    m = s_expect(fx, PROTO_BYE);
    s_assert_ids(m, "handed_back", "[]");
    proto_msg_destroy(&m);
    s_run_until_done(fx);
    assert_int_equal(wrk_unacked(fx->wrk), 0);
    assert_true(wrk_shutdown_received(fx->wrk));
}

static void test_reconnect_when_coordinator_silent(void **state)
{
    fx_t *fx = *state;
    s_start_worker(fx, 2);
    proto_msg_t *m = s_expect(fx, PROTO_HELLO);
    proto_msg_destroy(&m);
    zframe_t *first_peer = zframe_dup(fx->peer);
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 50, \"lease_ms\": 500}");
    m = s_expect(fx, PROTO_REQUEST);
    assert_int_equal(proto_msg_int(m, "slots", -1), 2);
    proto_msg_destroy(&m);
    char *assign = s_assign(fx, 11, "echo '{\"error\": \"bad data\"}' >&3\nexit 1\n");
    s_send(fx, PROTO_ASSIGN, assign);
    free(assign);
    m = s_expect(fx, PROTO_RESULT);
    assert_string_equal(proto_msg_string(m, "state", ""), "FAILED");
    assert_string_equal(proto_msg_string(m, "error", ""), "bad data");
    assert_string_equal(proto_msg_string(m, "kind", ""), "trainer");
    proto_msg_destroy(&m);
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);
    /* Silence: after 3 heartbeats the worker drops its socket and says HELLO on a new
     * one, listing the attempt whose result is not acknowledged. */
    m = s_expect(fx, PROTO_HELLO);
    s_assert_ids(m, "running", "[11]");
    assert_false(zframe_eq(first_peer, fx->peer));
    zframe_destroy(&first_peer);
    proto_msg_destroy(&m);
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 1000, \"lease_ms\": 10000}");
    m = s_expect(fx, PROTO_RESULT);
    assert_int_equal(proto_msg_int(m, "attempt", -1), 11);
    assert_string_equal(proto_msg_string(m, "error", ""), "bad data");
    proto_msg_destroy(&m);
    s_send(fx, PROTO_ACK, "{\"attempt\": 11}");
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);
    /* the REQUEST may leave before the ACK is read: wait for the ACK itself */
    uint64_t deadline = sw_clock_mono_ms() + 10000;
    while (wrk_unacked(fx->wrk) != 0 && sw_clock_mono_ms() < deadline)
        uv_run(&fx->loop, UV_RUN_ONCE);
    wrk_stop(fx->wrk, "test over");
    m = s_expect(fx, PROTO_BYE);
    proto_msg_destroy(&m);
    s_run_until_done(fx);
    assert_int_equal(wrk_unacked(fx->wrk), 0);
    assert_false(wrk_shutdown_received(fx->wrk));
}

static void test_prune_cancel_and_stop(void **state)
{
    fx_t *fx = *state;
    s_start_worker(fx, 1);
    proto_msg_t *m = s_expect(fx, PROTO_HELLO);
    proto_msg_destroy(&m);
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 1000, \"lease_ms\": 10000}");
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);
    const char *sleeper = "echo '{\"step\": 3, \"metrics\": {\"val_accuracy\": 0.5}}' >&3\n"
                          "exec sleep 30\n";

    /* Prune: RESULT PRUNED with the last step. */
    char *assign = s_assign(fx, 21, sleeper);
    s_send(fx, PROTO_ASSIGN, assign);
    free(assign);
    m = s_expect(fx, PROTO_REPORT);
    proto_msg_destroy(&m);
    s_send(fx, PROTO_DECISION, "{\"attempt\": 21, \"action\": \"prune\"}");
    m = s_expect(fx, PROTO_RESULT);
    assert_string_equal(proto_msg_string(m, "state", ""), "PRUNED");
    assert_string_equal(proto_msg_string(m, "kind", ""), "pruned");
    assert_int_equal(proto_msg_int(m, "last_step", -1), 3);
    proto_msg_destroy(&m);
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);
    s_send(fx, PROTO_ACK, "{\"attempt\": 21}");

    /* Cancel: no RESULT, the slot is requested again. */
    assign = s_assign(fx, 22, sleeper);
    s_send(fx, PROTO_ASSIGN, assign);
    free(assign);
    m = s_expect(fx, PROTO_REPORT);
    proto_msg_destroy(&m);
    s_send(fx, PROTO_CANCEL, "{\"attempt\": 22, \"reason\": \"sweep cancelled\"}");
    m = s_expect(fx, PROTO_REQUEST);
    assert_int_equal(proto_msg_int(m, "slots", -1), 1);
    proto_msg_destroy(&m);
    assert_int_equal(wrk_running(fx->wrk), 0);
    assert_int_equal(wrk_unacked(fx->wrk), 0);

    /* An ASSIGN beyond the free slots fails at once; stopping hands back the running one. */
    assign = s_assign(fx, 23, sleeper);
    s_send(fx, PROTO_ASSIGN, assign);
    free(assign);
    m = s_expect(fx, PROTO_REPORT);
    proto_msg_destroy(&m);
    assign = s_assign(fx, 24, sleeper);
    s_send(fx, PROTO_ASSIGN, assign);
    free(assign);
    m = s_expect(fx, PROTO_RESULT);
    assert_int_equal(proto_msg_int(m, "attempt", -1), 24);
    assert_string_equal(proto_msg_string(m, "error", ""), "no free slot on this worker (slots=1)");
    assert_string_equal(proto_msg_string(m, "kind", ""), "busy");
    proto_msg_destroy(&m);
    wrk_stop(fx->wrk, "signal SIGTERM");
    m = s_expect(fx, PROTO_BYE);
    assert_string_equal(proto_msg_string(m, "reason", ""), "signal SIGTERM");
    s_assert_ids(m, "handed_back", "[23]");
    proto_msg_destroy(&m);
    s_run_until_done(fx);
    assert_int_equal(wrk_running(fx->wrk), 0);
}

static bool s_exists(const char *dir, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* The spool keeps an unacknowledged result across a restart of the worker; a second
 * worker on the same state directory is refused; a bad spool file is set aside. */
static void test_spool_survives_restart(void **state)
{
    fx_t *fx = *state;
    char state_dir[512], spool[600];
    snprintf(state_dir, sizeof state_dir, "%s/state", fx->dir);
    snprintf(spool, sizeof spool, "%s/spool", state_dir);
    s_start_worker_in(fx, 1, state_dir);
    proto_msg_t *m = s_expect(fx, PROTO_HELLO);
    s_assert_ids(m, "running", "[]");
    proto_msg_destroy(&m);
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 200, \"lease_ms\": 2000}");
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);

    /* a second worker on the same state directory is refused while the first runs */
    wrk_config_t other = {.endpoint = fx->endpoint, .worker_id = "w2", .state_dir = state_dir};
    wrk_t *w2 = wrk_new(&fx->loop, &other);
    assert_non_null(w2);
    assert_int_equal(wrk_start(w2, NULL, NULL), SW_ESTATE);
    wrk_destroy(&w2);

    char *assign = s_assign(fx, 7, "echo '{\"final\": true, \"metrics\": {\"val_accuracy\": 0.9}}' >&3\n");
    s_send(fx, PROTO_ASSIGN, assign);
    free(assign);
    m = s_expect(fx, PROTO_RESULT);
    assert_int_equal(proto_msg_int(m, "attempt", -1), 7);
    proto_msg_destroy(&m);
    assert_true(s_exists(spool, "7.json"));
    /* the worker goes away before the ACK; the result stays in the spool */
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);
    wrk_stop(fx->wrk, "test");
    m = s_expect(fx, PROTO_BYE);
    proto_msg_destroy(&m);
    s_run_until_done(fx);
    wrk_destroy(&fx->wrk);
    fx->done = false;
    assert_true(s_exists(spool, "7.json"));
    char *bad = test_write_file(spool, "9.json", "{\"attempt\": 9, \"state\": 3}");
    free(bad);
    char *tmp = test_write_file(spool, "8.json.tmp", "{\"attempt\"");
    free(tmp);

    /* restarted on the same directory: HELLO lists 7, RESULT 7 again after WELCOME */
    s_start_worker_in(fx, 1, state_dir);
    assert_int_equal(wrk_unacked(fx->wrk), 1);
    assert_true(s_exists(spool, "9.json.bad"));
    assert_false(s_exists(spool, "9.json"));
    assert_false(s_exists(spool, "8.json.tmp"));
    m = s_expect(fx, PROTO_HELLO);
    s_assert_ids(m, "running", "[7]");
    proto_msg_destroy(&m);
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 200, \"lease_ms\": 2000}");
    m = s_expect(fx, PROTO_RESULT);
    assert_int_equal(proto_msg_int(m, "attempt", -1), 7);
    assert_string_equal(proto_msg_string(m, "state", ""), "COMPLETE");
    assert_true(cJSON_GetObjectItem(proto_msg_item(m, "metrics"), "val_accuracy")->valuedouble == 0.9);
    proto_msg_destroy(&m);
    m = s_expect(fx, PROTO_REQUEST);
    proto_msg_destroy(&m);
    s_send(fx, PROTO_ACK, "{\"attempt\": 7}");
    s_send(fx, PROTO_SHUTDOWN, "{\"reason\": \"done\"}");
    m = s_expect(fx, PROTO_BYE);
    proto_msg_destroy(&m);
    s_run_until_done(fx);
    assert_int_equal(wrk_unacked(fx->wrk), 0);
    assert_false(s_exists(spool, "7.json"));
}

/* ---- a signal at the worst moment ------------------------------------------------- */


typedef struct {
    fx_t *fx;
    int received;               /* messages handed to recv_fn */
    proto_cmd_t last;
    int arm_at;                 /* at this message: signals hit the next ZeroMQ calls */
    const char *then_send;      /* and the router sends this ERROR reason right away */
    bool closed;
} s_lfx_t;

static void s_link_connect_cb(wrk_link_t *link, void *arg)
{
    (void)arg;
    proto_msg_t *hello = proto_msg_new(PROTO_HELLO);
    assert_non_null(hello);
    cJSON *body = proto_msg_body(hello);
    cJSON_AddStringToObject(body, "worker_id", "w1");
    cJSON_AddStringToObject(body, "host", "h");
    cJSON_AddNumberToObject(body, "pid", 1);
    cJSON_AddNumberToObject(body, "slots", 1);
    cJSON_AddArrayToObject(body, "trainers");
    cJSON_AddArrayToObject(body, "running");
    assert_int_equal(wrk_link_send(link, &hello), 0);
}

static void s_link_recv_cb(wrk_link_t *link, proto_msg_t **msg_p, void *arg)
{
    (void)link;
    s_lfx_t *l = arg;
    l->received++;
    l->last = proto_msg_cmd(*msg_p);
    if (l->received == l->arm_at) {
        /* the trainer's SIGCHLD arrives now: the link's next ZeroMQ calls are
         * interrupted, ZMQ_EVENTS first */
        test_poll.inject = 3;
        test_poll.injected = 0;
        test_poll.watch = true;
        if (l->then_send) {
            char body[128];
            snprintf(body, sizeof body, "{\"code\": \"test\", \"reason\": \"%s\"}", l->then_send);
            s_send(l->fx, PROTO_ERROR, body);
        }
    }
}

static void s_link_closed_cb(wrk_link_t *link, void *arg)
{
    (void)link;
    ((s_lfx_t *)arg)->closed = true;
}

/* Turn the loop (never blocking in it: the link's timers are far away) until the link
 * has received WANT messages or 5 s have passed. */
static void s_link_run_until(s_lfx_t *l, int want)
{
    uint64_t deadline = sw_clock_mono_ms() + 5000;
    while (l->received < want && sw_clock_mono_ms() < deadline) {
        uv_run(&l->fx->loop, UV_RUN_NOWAIT);
        zmq_pollitem_t item = {zsock_resolve(l->fx->router), 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, 2);
    }
}

/* A signal that interrupts ZMQ_EVENTS right after a message was handled (a trainer
 * that ends in milliseconds sends SIGCHLD just then) must neither block the loop in a
 * receive (the coordinator, killed meanwhile, would never send the message it waits
 * for, and no timer or child would be served again) nor end the drain while a message
 * is waiting (no new edge on ZMQ_FD would announce it). */
static void test_link_survives_interrupted_events(void **state)
{
    fx_t *fx = *state;
    s_lfx_t l = {.fx = fx};
    wrk_link_config_t cfg = {
        .endpoint = fx->endpoint, .heartbeat_ms = 60000, .liveness = 100,
        .connect_fn = s_link_connect_cb, .recv_fn = s_link_recv_cb, .arg = &l,
    };
    wrk_link_t *link = wrk_link_new(&fx->loop, &cfg);
    assert_non_null(link);
    assert_int_equal(wrk_link_start(link), 0);
    proto_msg_t *m = s_expect(fx, PROTO_HELLO);
    proto_msg_destroy(&m);
    memset(&test_poll, 0, sizeof test_poll);
    test_poll.skip_fd = zsock_fd(fx->router);

    /* One message, then silence: the interrupted ZMQ_EVENTS is retried, the link never
     * waits inside ZeroMQ. */
    l.arm_at = 1;
    s_send(fx, PROTO_WELCOME, "{\"heartbeat_ms\": 60000, \"lease_ms\": 600000}");
    s_link_run_until(&l, 1);
    assert_int_equal(l.received, 1);
    assert_int_equal(l.last, PROTO_WELCOME);
    assert_int_equal(test_poll.injected, 3);
    assert_int_equal(test_poll.waits, 0);
    test_poll.watch = false;

    /* A second message sent while the first is handled: it is read in the same drain
     * (or on its own edge), not left waiting for the next heartbeat a minute away. */
    l.arm_at = 2;
    l.then_send = "second";
    s_send(fx, PROTO_HEARTBEAT, "{}");
    s_link_run_until(&l, 3);
    assert_int_equal(l.received, 3);
    assert_int_equal(l.last, PROTO_ERROR);
    assert_int_equal(test_poll.injected, 3);
    assert_int_equal(test_poll.waits, 0);
    test_poll.watch = false;

    /* the link still sends and receives */
    proto_msg_t *req = proto_msg_new(PROTO_REQUEST);
    assert_non_null(req);
    cJSON_AddNumberToObject(proto_msg_body(req), "slots", 1);
    assert_int_equal(wrk_link_send(link, &req), 0);
    m = s_expect(fx, PROTO_REQUEST);
    assert_int_equal(proto_msg_int(m, "slots", -1), 1);
    proto_msg_destroy(&m);
    wrk_link_close(link, s_link_closed_cb);
    uint64_t deadline = sw_clock_mono_ms() + 5000;
    while (!l.closed && sw_clock_mono_ms() < deadline)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_true(l.closed);
    wrk_link_destroy(&link);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_result_until_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconnect_when_coordinator_silent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_cancel_and_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_survives_interrupted_events, setup, teardown),
    };
    return cmocka_run_group_tests_name("wrk_agent", tests, NULL, NULL);
}
