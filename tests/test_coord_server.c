/*  test_coord_server.c - the coordinator server (coord.c) against raw ZeroMQ clients
 *
 *  The coordinator runs on a libuv loop in this thread, bound to an inproc endpoint of
 *  czmq's shared context; each client is a DEALER socket played by the test, sending
 *  frames by hand (also broken ones). Waiting turns the loop and polls the client with
 *  a deadline, so a hang becomes a failure and nothing sleeps. The store is a real
 *  SQLite file in a temporary directory.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <uv.h>

#include "common/sw_clock.h"
#include "common/sw_err.h"
#include "common/sw_log.h"
#include "common/sw_spec.h"
#include "coordinator/coord.h"
#include "proto/proto.h"

typedef struct {
    uv_loop_t loop;
    char *dir;
    char *db_path;
    char endpoint[64];
    coord_t *coord;
    bool closed;
} fx_t;

static int s_setup(void **state)
{
    static int n;
    sw_log_set_level(SW_LOG_ERROR);
    zsys_handler_set(NULL);
    fx_t *fx = calloc(1, sizeof *fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    fx->dir = test_mkdtemp();
    assert_true(asprintf(&fx->db_path, "%s/s.db", fx->dir) > 0);
    snprintf(fx->endpoint, sizeof fx->endpoint, "inproc://coord-test-%d", ++n);
    coord_options_t o = {.endpoint = fx->endpoint, .db_path = fx->db_path, .lease_ms = 10000,
                         .heartbeat_ms = 1000};
    int err = 0;
    fx->coord = coord_new(&fx->loop, &o, &err);
    assert_non_null(fx->coord);
    const char *text =
        "{\"name\": \"s\", \"objective\": {\"metric\": \"acc\", \"direction\": \"maximize\"},"
        " \"method\": \"grid\","
        " \"parameters\": {\"a\": {\"type\": \"categorical\", \"values\": [1, 2]}},"
        " \"trainer\": {\"type\": \"command\", \"argv\": [\"true\"]}}";
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(text, strlen(text), "test", &errs);
    assert_non_null(spec);
    assert_int_equal(coord_add_sweep(fx->coord, &spec, &errs), 0);
    sw_errs_clear(&errs);
    assert_int_equal(coord_start(fx->coord), 0);
    *state = fx;
    return 0;
}

static void s_closed_cb(void *arg)
{
    ((fx_t *)arg)->closed = true;
}

static int s_teardown(void **state)
{
    fx_t *fx = *state;
    coord_close(fx->coord, s_closed_cb, fx);
    while (!fx->closed)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_NOWAIT), 0);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    test_rmtree(fx->dir);
    free(fx->dir);
    free(fx->db_path);
    free(fx);
    return 0;
}

static zsock_t *s_client(fx_t *fx, int rcvhwm)
{
    zsock_t *c = zsock_new(ZMQ_DEALER);
    assert_non_null(c);
    zsock_set_linger(c, 0);
    if (rcvhwm)
        zsock_set_rcvhwm(c, rcvhwm);
    assert_int_equal(zsock_connect(c, "%s", fx->endpoint), 0);
    return c;
}

/* Send three raw frames (SIG, CMD, BODY) without blocking the loop for long. */
static void s_raw(fx_t *fx, zsock_t *c, const char *sig, const char *cmd, const char *body)
{
    zmsg_t *m = zmsg_new();
    zmsg_addstr(m, sig);
    zmsg_addstr(m, cmd);
    zmsg_addstr(m, body);
    uint64_t deadline = sw_clock_mono_ms() + 10000;
    while (zmsg_send(&m, c) != 0) {
        assert_true(sw_clock_mono_ms() < deadline);
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    }
}

static void s_send(fx_t *fx, zsock_t *c, const char *cmd, const char *body)
{
    s_raw(fx, c, PROTO_SIGNATURE, cmd, body);
}

/* Turn the loop until client C holds a message other than HEARTBEAT; return it
 * decoded (caller owns). Fails after 10 s. */
static proto_msg_t *s_recv(fx_t *fx, zsock_t *c)
{
    uint64_t deadline = sw_clock_mono_ms() + 10000;
    while (sw_clock_mono_ms() < deadline) {
        uv_run(&fx->loop, UV_RUN_NOWAIT);
        zmq_pollitem_t item = {zsock_resolve(c), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 2) <= 0)
            continue;
        zmsg_t *z = zmsg_recv(c);
        assert_non_null(z);
        char err[256];
        proto_msg_t *msg = proto_msg_decode(&z, err, sizeof err);
        if (!msg)
            fail_msg("coordinator sent a malformed message: %s", err);
        if (proto_msg_cmd(msg) == PROTO_HEARTBEAT) {
            proto_msg_destroy(&msg);
            continue;
        }
        return msg;
    }
    fail_msg("no message from the coordinator within 10 s");
    return NULL;
}

static proto_msg_t *s_expect(fx_t *fx, zsock_t *c, proto_cmd_t cmd)
{
    proto_msg_t *m = s_recv(fx, c);
    if (proto_msg_cmd(m) != cmd)
        fail_msg("expected %s, got %s (%s)", proto_cmd_name(cmd), proto_cmd_name(proto_msg_cmd(m)),
                 proto_msg_string(m, "reason", ""));
    return m;
}

/* ERROR with CODE and a reason containing WANT. */
static void s_expect_error(fx_t *fx, zsock_t *c, const char *code, const char *want)
{
    proto_msg_t *m = s_expect(fx, c, PROTO_ERROR);
    assert_string_equal(proto_msg_string(m, "code", ""), code);
    if (!strstr(proto_msg_string(m, "reason", ""), want))
        fail_msg("ERROR reason '%s' does not contain '%s'", proto_msg_string(m, "reason", ""), want);
    proto_msg_destroy(&m);
}

static double s_status_num(fx_t *fx, const char *group, const char *name)
{
    int err = 0;
    cJSON *doc = coord_status(fx->coord, NULL, &err);
    assert_non_null(doc);
    double v = cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, group), name));
    cJSON_Delete(doc);
    return v;
}

/* Broken frames are answered with ERROR, counted in status and never acted on: wrong
 * signature, unknown command, a body that is not JSON, a missing field, slots 0. */
static void test_rejected_frames(void **state)
{
    fx_t *fx = *state;
    zsock_t *c = s_client(fx, 0);
    s_raw(fx, c, "SWPD/2", "HELLO", "{}");
    s_expect_error(fx, c, "malformed", "bad signature 'SWPD/2' (expected SWPD/1)");
    s_send(fx, c, "FROB", "{}");
    s_expect_error(fx, c, "malformed", "unknown command 'FROB'");
    s_send(fx, c, "HELLO", "not json");
    s_expect_error(fx, c, "malformed", "HELLO: body is not valid JSON");
    s_send(fx, c, "HELLO", "{\"worker_id\": \"w1\", \"host\": \"h\", \"pid\": 1}");
    s_expect_error(fx, c, "malformed", "HELLO: missing required field 'slots'");
    s_send(fx, c, "HELLO", "{\"worker_id\": \"w1\", \"host\": \"h\", \"pid\": 1, \"slots\": 0}");
    s_expect_error(fx, c, "malformed", "HELLO: slots must be at least 1");
    s_send(fx, c, "ASSIGN", "{\"attempt\": 1, \"sweep\": \"s\", \"trial\": 0, \"fold\": -1,"
           " \"folds\": 0, \"params\": {}, \"trainer\": {}}");
    s_expect_error(fx, c, "unexpected", "ASSIGN is not sent to a coordinator");
    assert_int_equal(s_status_num(fx, "coordinator", "rejected_messages"), 6);
    /* none of them made a worker */
    int err = 0;
    cJSON *doc = coord_status(fx->coord, NULL, &err);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "workers")), 0);
    cJSON_Delete(doc);
    /* and over the wire: STATUS answers with the same count */
    s_send(fx, c, "STATUS", "{}");
    proto_msg_t *m = s_expect(fx, c, PROTO_STATUS_REPLY);
    cJSON *co = cJSON_GetObjectItem(proto_msg_body(m), "coordinator");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(co, "rejected_messages")), 6);
    proto_msg_destroy(&m);
    zsock_destroy(&c);
}

/* REPORT, RESULT and HEARTBEAT from a worker that said no HELLO get INVALID; a RESULT
 * for another worker's attempt gets ERROR and is not stored; BYE hands the attempt
 * back (requeued, no retry) and the worker is gone (INVALID again afterwards). */
static void test_invalid_foreign_and_bye(void **state)
{
    fx_t *fx = *state;
    zsock_t *w = s_client(fx, 0);
    zsock_t *evil = s_client(fx, 0);
    s_send(fx, w, "REPORT", "{\"attempt\": 1, \"step\": 1, \"metrics\": {\"acc\": 1}}");
    proto_msg_t *m = s_expect(fx, w, PROTO_INVALID);
    proto_msg_destroy(&m);
    s_send(fx, w, "RESULT", "{\"attempt\": 1, \"state\": \"COMPLETE\", \"metrics\": {\"acc\": 1}}");
    m = s_expect(fx, w, PROTO_INVALID);
    proto_msg_destroy(&m);

    s_send(fx, w, "HELLO", "{\"worker_id\": \"w1\", \"host\": \"h\", \"pid\": 1, \"slots\": 1,"
           " \"trainers\": [\"command\"], \"commands\": [\"tru*\"]}");
    m = s_expect(fx, w, PROTO_WELCOME);
    assert_int_equal(proto_msg_int(m, "lease_ms", 0), 10000);
    assert_int_equal(proto_msg_int(m, "heartbeat_ms", 0), 1000);
    proto_msg_destroy(&m);
    s_send(fx, w, "REQUEST", "{\"slots\": 1}");
    m = s_expect(fx, w, PROTO_ASSIGN);
    int64_t attempt = proto_msg_int(m, "attempt", -1);
    assert_true(attempt > 0);
    proto_msg_destroy(&m);

    char body[256];
    s_send(fx, evil, "HELLO", "{\"worker_id\": \"evil\", \"host\": \"h\", \"pid\": 2, \"slots\": 1,"
           " \"trainers\": [\"mlp\"]}");
    m = s_expect(fx, evil, PROTO_WELCOME);
    proto_msg_destroy(&m);
    snprintf(body, sizeof body, "{\"attempt\": %lld, \"state\": \"COMPLETE\", \"metrics\": "
             "{\"acc\": 99}}", (long long)attempt);
    s_send(fx, evil, "RESULT", body);
    s_expect_error(fx, evil, "not-yours", "RESULT: attempt not assigned to this worker");
    snprintf(body, sizeof body, "{\"attempt\": %lld, \"step\": 1, \"metrics\": {\"acc\": 99}}",
             (long long)attempt);
    s_send(fx, evil, "REPORT", body);
    s_expect_error(fx, evil, "not-yours", "REPORT: attempt not assigned to this worker");
    assert_int_equal(s_status_num(fx, "coordinator", "foreign_rejected"), 2);

    snprintf(body, sizeof body, "{\"reason\": \"SIGTERM\", \"handed_back\": [%lld]}",
             (long long)attempt);
    s_send(fx, w, "BYE", body);
    s_send(fx, w, "HEARTBEAT", "{}");
    m = s_expect(fx, w, PROTO_INVALID);
    proto_msg_destroy(&m);
    int err = 0;
    cJSON *doc = coord_status(fx->coord, "s", &err);
    cJSON *sw = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"), "s");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(sw, "retries")), 0);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(sw, "attempts_lost"), "handed_back")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(
                         cJSON_GetObjectItem(sw, "trials"), "COMPLETE")), 0);
    /* evil announced mlp only: it cannot run this sweep, and status says nobody can */
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(sw, "workers_able")), 0);
    assert_non_null(cJSON_GetObjectItem(sw, "warning"));
    cJSON *wk;
    cJSON_ArrayForEach(wk, cJSON_GetObjectItem(doc, "workers"))
        if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(wk, "id")), "w1"))
            assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(wk, "state")), "gone");
    cJSON_Delete(doc);
    zsock_destroy(&evil);
    zsock_destroy(&w);
}

/* A client that does not read: the coordinator's pipe to it fills (its receive HWM is
 * 1), further replies wait in the application send queue, the loop never blocks; once
 * the client reads, every reply arrives, in order. */
static void test_send_queue_when_peer_does_not_read(void **state)
{
    fx_t *fx = *state;
    zsock_t *c = s_client(fx, 1);
    enum { N = 2500 };
    for (int i = 0; i < N; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"sweep\": \"s\", \"n\": %d}", i);
        s_send(fx, c, "STATUS", body);
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    }
    /* let the coordinator handle every request (it reads in batches) */
    uint64_t deadline = sw_clock_mono_ms() + 20000;
    while (s_status_num(fx, "coordinator", "send_queue") < 1 && sw_clock_mono_ms() < deadline)
        uv_run(&fx->loop, UV_RUN_NOWAIT);
    double queued = s_status_num(fx, "coordinator", "send_queue");
    assert_true(queued >= 1);
    int got = 0;
    while (got < N) {
        proto_msg_t *m = s_expect(fx, c, PROTO_STATUS_REPLY);
        proto_msg_destroy(&m);
        got++;
    }
    assert_int_equal(got, N);
    assert_int_equal(s_status_num(fx, "coordinator", "send_queue"), 0);
    zsock_destroy(&c);
}

/* coord_options_check: the lease must span 3 heartbeats (defaults count). */
static void test_options_check(void **state)
{
    (void)state;
    char err[256];
    coord_options_t o = {.endpoint = "tcp://*:1", .db_path = "x"};
    assert_int_equal(coord_options_check(&o, err, sizeof err), 0);
    assert_string_equal(err, "");
    o.lease_ms = 2999;
    assert_int_equal(coord_options_check(&o, err, sizeof err), SW_EINVAL);
    assert_string_equal(err, "--lease-ms 2999 is shorter than 3 heartbeats of 1000 ms: every "
                             "worker would look lost; use at least 3000 (5 heartbeats or more "
                             "recommended)");
    o.lease_ms = 3000;
    assert_int_equal(coord_options_check(&o, err, sizeof err), 0);
    o.lease_ms = 500;
    o.heartbeat_ms = 200;
    assert_int_equal(coord_options_check(&o, NULL, 0), SW_EINVAL);
    o.lease_ms = 0;     /* default 10000 */
    o.heartbeat_ms = 5000;
    assert_int_equal(coord_options_check(&o, err, sizeof err), SW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rejected_frames, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_foreign_and_bye, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_send_queue_when_peer_does_not_read, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_options_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
