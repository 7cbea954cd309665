/*  test_proto_msg.c - the protocol codec round-trips every command and rejects bad frames
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <stdlib.h>
#include <string.h>

#include "common/sw_rng.h"
#include "proto/proto.h"

/* A body for CMD holding every field of the table with a value of its type. */
static proto_msg_t *s_full_msg(proto_cmd_t cmd, bool optional_too)
{
    proto_msg_t *msg = proto_msg_new(cmd);
    assert_non_null(msg);
    cJSON *body = proto_msg_body(msg);
    const proto_cmd_info_t *info = proto_cmd_info(cmd);
    for (const proto_field_t *f = info->fields; f->name; f++) {
        if (!f->required && !optional_too)
            continue;
        cJSON *arr;
        switch (f->type) {
        case PROTO_TYPE_INT: cJSON_AddNumberToObject(body, f->name, 9007199254740991.0); break;
        case PROTO_TYPE_NUM: cJSON_AddNumberToObject(body, f->name, 0.125); break;
        case PROTO_TYPE_STR: cJSON_AddStringToObject(body, f->name, "v\"al\xc3\xa9"); break;
        case PROTO_TYPE_BOOL: cJSON_AddTrueToObject(body, f->name); break;
        case PROTO_TYPE_OBJ:
            cJSON_AddNumberToObject(cJSON_AddObjectToObject(body, f->name), "lr", 0.01);
            break;
        case PROTO_TYPE_ARR: cJSON_AddArrayToObject(body, f->name); break;
        case PROTO_TYPE_INTS:
            arr = cJSON_AddArrayToObject(body, f->name);
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(3));
            cJSON_AddItemToArray(arr, cJSON_CreateNumber(-4));
            break;
        case PROTO_TYPE_STRS:
            arr = cJSON_AddArrayToObject(body, f->name);
            cJSON_AddItemToArray(arr, cJSON_CreateString("mlp"));
            break;
        }
    }
    return msg;
}

static zmsg_t *s_frames(const char *sig, const char *cmd, const char *body)
{
    zmsg_t *z = zmsg_new();
    if (sig)
        zmsg_addstr(z, sig);
    if (cmd)
        zmsg_addstr(z, cmd);
    if (body)
        zmsg_addstr(z, body);
    return z;
}

/* Decode Z and assert it is rejected with exactly REASON. */
static void s_reject(zmsg_t *z, const char *reason)
{
    char err[256];
    proto_msg_t *msg = proto_msg_decode(&z, err, sizeof err);
    assert_null(msg);
    assert_null(z);
    assert_string_equal(err, reason);
}

static void test_walkthrough(void **state)
{
    (void)state;
    proto_msg_t *msg = proto_msg_new(PROTO_REPORT);
    cJSON_AddNumberToObject(proto_msg_body(msg), "attempt", 12);
    cJSON_AddNumberToObject(proto_msg_body(msg), "step", 3);
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(proto_msg_body(msg), "metrics"),
                            "val_accuracy", 0.78);
    zmsg_t *z = proto_msg_encode(&msg);
    assert_null(msg);
    assert_int_equal(zmsg_size(z), 3);
    char *f0 = zframe_strdup(zmsg_first(z)), *f1 = zframe_strdup(zmsg_next(z));
    assert_string_equal(f0, "SWPD/1");
    assert_string_equal(f1, "REPORT");
    free(f0);
    free(f1);
    char err[256];
    msg = proto_msg_decode(&z, err, sizeof err);
    assert_non_null(msg);
    assert_null(z);
    assert_int_equal(proto_msg_cmd(msg), PROTO_REPORT);
    assert_int_equal(proto_msg_int(msg, "attempt", -1), 12);
    assert_int_equal(proto_msg_int(msg, "missing", -1), -1);
    assert_true(proto_msg_number(msg, "step", 0) == 3.0);
    assert_string_equal(proto_msg_string(msg, "nothing", "dflt"), "dflt");
    cJSON *acc = cJSON_GetObjectItem(proto_msg_item(msg, "metrics"), "val_accuracy");
    assert_true(acc->valuedouble == 0.78);
    char *text = proto_msg_describe(msg);
    assert_string_equal(text, "REPORT attempt=12 step=3");
    free(text);
    proto_msg_t *copy = proto_msg_dup(msg);
    proto_msg_destroy(&msg);
    assert_int_equal(proto_msg_int(copy, "attempt", -1), 12);
    proto_msg_destroy(&copy);
    proto_msg_destroy(&copy);
}

static void test_table(void **state)
{
    (void)state;
    assert_null(proto_cmd_info(PROTO_INVALID_CMD));
    assert_null(proto_cmd_info(PROTO_CMD_COUNT));
    assert_string_equal(proto_cmd_name(PROTO_CMD_COUNT), "?");
    assert_int_equal(proto_cmd_lookup("STATUS-REPLY"), PROTO_STATUS_REPLY);
    assert_int_equal(proto_cmd_lookup("hello"), PROTO_INVALID_CMD);
    for (int i = 1; i < PROTO_CMD_COUNT; i++) {
        const proto_cmd_info_t *info = proto_cmd_info((proto_cmd_t)i);
        assert_non_null(info);
        assert_int_equal(info->cmd, i);
        assert_int_equal(proto_cmd_lookup(info->name), i);
        assert_true(info->dir != 0);
    }
}

static void test_round_trip_every_command(void **state)
{
    (void)state;
    for (int i = 1; i < PROTO_CMD_COUNT; i++)
        for (int optional = 0; optional <= 1; optional++) {
            proto_msg_t *msg = s_full_msg((proto_cmd_t)i, optional);
            char *before = cJSON_PrintUnformatted(proto_msg_body(msg));
            zmsg_t *z = proto_msg_encode(&msg);
            char err[256];
            msg = proto_msg_decode(&z, err, sizeof err);
            if (!msg)
                fail_msg("%s: %s", proto_cmd_name((proto_cmd_t)i), err);
            assert_int_equal(proto_msg_cmd(msg), i);
            char *after = cJSON_PrintUnformatted(proto_msg_body(msg));
            assert_string_equal(before, after);
            free(before);
            free(after);
            proto_msg_destroy(&msg);
        }
}

static void test_rejections(void **state)
{
    (void)state;
    const char *ack = "{\"attempt\": 5}";
    s_reject(s_frames("SWPD/2", "ACK", ack), "bad signature 'SWPD/2' (expected SWPD/1)");
    s_reject(s_frames("MDPW01", "ACK", ack), "bad signature 'MDPW01' (expected SWPD/1)");
    s_reject(s_frames("SWPD/1", "FROB", ack), "unknown command 'FROB'");
    s_reject(s_frames("SWPD/1", "ACK", NULL), "expected 3 frames, got 2");
    zmsg_t *four = s_frames("SWPD/1", "ACK", ack);
    zmsg_addstr(four, "extra");
    s_reject(four, "expected 3 frames, got 4");
    s_reject(zmsg_new(), "expected 3 frames, got 0");
    s_reject(s_frames("SWPD/1", "ACK", "{\"attempt\": 5"), "ACK: body is not valid JSON");
    s_reject(s_frames("SWPD/1", "ACK", "{\"attempt\": 5} x"), "ACK: body is not valid JSON");
    s_reject(s_frames("SWPD/1", "ACK", ""), "ACK: body is not valid JSON");
    s_reject(s_frames("SWPD/1", "ACK", "[5]"), "ACK: body must be a JSON object");
    s_reject(s_frames("SWPD/1", "ACK", "{}"), "ACK: missing required field 'attempt'");
    s_reject(s_frames("SWPD/1", "ACK", "{\"attempt\": \"5\"}"),
             "ACK: field 'attempt' must be an integer");
    s_reject(s_frames("SWPD/1", "ACK", "{\"attempt\": 5.5}"),
             "ACK: field 'attempt' must be an integer");
    s_reject(s_frames("SWPD/1", "ACK", "{\"attempt\": 1e300}"),
             "ACK: field 'attempt' must be an integer");
    s_reject(s_frames("SWPD/1", "REPORT", "{\"attempt\": 1, \"step\": 2, \"metrics\": [1]}"),
             "REPORT: field 'metrics' must be an object");
    s_reject(s_frames("SWPD/1", "HELLO",
                      "{\"worker_id\": \"w\", \"host\": \"h\", \"pid\": 1, \"slots\": 1,"
                      " \"running\": [1, 2.5]}"),
             "HELLO: field 'running' must be an array of integers");
    s_reject(s_frames("SWPD/1", "ASSIGN", "{\"attempt\": 1}"),
             "ASSIGN: missing required field 'sweep'");
    /* Optional null counts as absent. */
    char err[256];
    zmsg_t *z = s_frames("SWPD/1", "CANCEL", "{\"attempt\": 1, \"reason\": null}");
    proto_msg_t *msg = proto_msg_decode(&z, err, sizeof err);
    assert_non_null(msg);
    proto_msg_destroy(&msg);
    /* Over PROTO_MAX_BODY. */
    size_t n = PROTO_MAX_BODY + 1;
    char *big = malloc(n);
    memset(big, ' ', n);
    z = s_frames("SWPD/1", "ACK", NULL);
    zmsg_addmem(z, big, n);
    free(big);
    s_reject(z, "ACK: body of 4194305 bytes is over the limit of 4194304 bytes");
    /* Non-printable bytes are not echoed. */
    z = zmsg_new();
    zmsg_addmem(z, "\x01\xff", 2);
    zmsg_addstr(z, "ACK");
    zmsg_addstr(z, ack);
    s_reject(z, "bad signature '?" "?' (expected SWPD/1)");
}

/* The sweep control commands: names, who sends them, and their field checks; PROTO_CANCEL
 * (one attempt, to a worker) and CANCEL-SWEEP (a whole sweep, from a client) differ. */
static void test_sweep_control_commands(void **state)
{
    (void)state;
    assert_int_equal(proto_cmd_lookup("SUBMIT"), PROTO_SUBMIT);
    assert_int_equal(proto_cmd_lookup("SUBMIT-REPLY"), PROTO_SUBMIT_REPLY);
    assert_int_equal(proto_cmd_lookup("CANCEL-SWEEP"), PROTO_CANCEL_SWEEP);
    assert_int_equal(proto_cmd_lookup("CANCEL-SWEEP-REPLY"), PROTO_CANCEL_SWEEP_REPLY);
    assert_int_equal(proto_cmd_lookup("RESUME-SWEEP"), PROTO_RESUME_SWEEP);
    assert_int_equal(proto_cmd_lookup("RESUME-SWEEP-REPLY"), PROTO_RESUME_SWEEP_REPLY);
    assert_int_equal(proto_cmd_info(PROTO_CANCEL)->dir, PROTO_DIR_C2W);
    assert_int_equal(proto_cmd_info(PROTO_CANCEL_SWEEP)->dir, PROTO_DIR_S2C);
    assert_int_equal(proto_cmd_info(PROTO_SUBMIT)->dir, PROTO_DIR_S2C);
    assert_int_equal(proto_cmd_info(PROTO_RESUME_SWEEP_REPLY)->dir, PROTO_DIR_C2S);
    s_reject(s_frames("SWPD/1", "SUBMIT", "{}"), "SUBMIT: missing required field 'spec'");
    s_reject(s_frames("SWPD/1", "SUBMIT", "{\"spec\": \"a.json\"}"),
             "SUBMIT: field 'spec' must be an object");
    s_reject(s_frames("SWPD/1", "CANCEL-SWEEP", "{\"reason\": \"x\"}"),
             "CANCEL-SWEEP: missing required field 'sweep'");
    s_reject(s_frames("SWPD/1", "RESUME-SWEEP", "{\"sweep\": \"s\", \"retry_failed\": 1}"),
             "RESUME-SWEEP: field 'retry_failed' must be a boolean");
    s_reject(s_frames("SWPD/1", "ERROR", "{\"code\": \"bad-spec\", \"reason\": \"r\","
                      " \"errors\": [\"a\", 2]}"),
             "ERROR: field 'errors' must be an array of strings");
    char err[256];
    zmsg_t *z = s_frames("SWPD/1", "RESUME-SWEEP", "{\"sweep\": \"s\", \"retry_failed\": true}");
    proto_msg_t *msg = proto_msg_decode(&z, err, sizeof err);
    assert_non_null(msg);
    assert_int_equal(proto_msg_cmd(msg), PROTO_RESUME_SWEEP);
    assert_true(cJSON_IsTrue(proto_msg_item(msg, "retry_failed")));
    assert_string_equal(proto_msg_string(msg, "sweep", NULL), "s");
    proto_msg_destroy(&msg);
}

static void test_random_frames_never_crash(void **state)
{
    (void)state;
    sw_rng_t rng;
    sw_rng_seed(&rng, 20260101);
    static const char *const bodies[] = {"{", "{}", "[]", "null", "{\"attempt\":1}", "\"x\"",
                                         "{\"attempt\":1,\"step\":2,\"metrics\":{}}"};
    int accepted = 0;
    for (int i = 0; i < 600; i++) {
        zmsg_t *z = zmsg_new();
        int frames = (int)sw_rng_below(&rng, 5);
        for (int f = 0; f < frames; f++) {
            unsigned char buf[64];
            size_t len = sw_rng_below(&rng, sizeof buf);
            for (size_t k = 0; k < len; k++)
                buf[k] = (unsigned char)sw_rng_below(&rng, 256);
            int mode = (int)sw_rng_below(&rng, 3);
            if (f == 0 && mode)
                zmsg_addstr(z, "SWPD/1");
            else if (f == 1 && mode)
                zmsg_addstr(z, proto_cmd_name((proto_cmd_t)(1 + sw_rng_below(&rng, 16))));
            else if (f == 2 && mode)
                zmsg_addstr(z, bodies[sw_rng_below(&rng, 7)]);
            else
                zmsg_addmem(z, buf, len);
        }
        char err[256];
        proto_msg_t *msg = proto_msg_decode(&z, err, sizeof err);
        assert_null(z);
        if (msg)
            accepted++;
        else
            assert_true(strlen(err) > 0);
        proto_msg_destroy(&msg);
    }
    /* Some well-formed combinations get through (HEARTBEAT {}, ACK {"attempt":1}). */
    assert_true(accepted > 0 && accepted < 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walkthrough),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_round_trip_every_command),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_sweep_control_commands),
        cmocka_unit_test(test_random_frames_never_crash),
    };
    return cmocka_run_group_tests_name("proto_msg", tests, NULL, NULL);
}
