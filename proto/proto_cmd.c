/*  proto_cmd.c - the one table of protocol commands and the body check built on it
 *
 *  Every command of proto/PROTOCOL.md appears here exactly once, with its wire name,
 *  who may send it and the fields of its JSON body (name, JSON type, required or
 *  optional). The decoder, the log names and the tests all iterate over this table;
 *  nothing else in sweepd spells out a command name. Optional fields are type-checked
 *  when present; an optional field whose value is JSON null counts as absent. Unknown
 *  extra fields are ignored, so a newer peer may add fields without breaking an
 *  older one.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "proto/proto.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/sw_err.h"

#define REQ true
#define OPT false
#define W2C PROTO_DIR_W2C
#define C2W PROTO_DIR_C2W

static const proto_cmd_info_t s_cmds[PROTO_CMD_COUNT] = {
    [PROTO_HELLO] = {PROTO_HELLO, "HELLO", W2C, {
        {"worker_id", PROTO_TYPE_STR, REQ}, {"host", PROTO_TYPE_STR, REQ},
        {"pid", PROTO_TYPE_INT, REQ}, {"slots", PROTO_TYPE_INT, REQ},
        {"trainers", PROTO_TYPE_STRS, OPT}, {"commands", PROTO_TYPE_STRS, OPT},
        {"running", PROTO_TYPE_INTS, OPT}, {NULL, 0, 0}}},
    [PROTO_WELCOME] = {PROTO_WELCOME, "WELCOME", C2W, {
        {"heartbeat_ms", PROTO_TYPE_INT, REQ}, {"lease_ms", PROTO_TYPE_INT, REQ},
        {"coordinator_id", PROTO_TYPE_STR, OPT}, {NULL, 0, 0}}},
    [PROTO_REQUEST] = {PROTO_REQUEST, "REQUEST", W2C, {
        {"slots", PROTO_TYPE_INT, REQ}, {NULL, 0, 0}}},
    [PROTO_ASSIGN] = {PROTO_ASSIGN, "ASSIGN", C2W, {
        {"attempt", PROTO_TYPE_INT, REQ}, {"sweep", PROTO_TYPE_STR, REQ},
        {"trial", PROTO_TYPE_INT, REQ}, {"fold", PROTO_TYPE_INT, REQ},
        {"folds", PROTO_TYPE_INT, REQ}, {"params", PROTO_TYPE_OBJ, REQ},
        {"trainer", PROTO_TYPE_OBJ, REQ}, {"cv", PROTO_TYPE_OBJ, OPT},
        {"seed", PROTO_TYPE_INT, OPT}, {"timeout_s", PROTO_TYPE_NUM, OPT},
        {"objective", PROTO_TYPE_STR, OPT}, {NULL, 0, 0}}},
    [PROTO_HEARTBEAT] = {PROTO_HEARTBEAT, "HEARTBEAT", W2C | C2W, {
        {"running", PROTO_TYPE_INTS, OPT}, {NULL, 0, 0}}},
    [PROTO_REPORT] = {PROTO_REPORT, "REPORT", W2C, {
        {"attempt", PROTO_TYPE_INT, REQ}, {"step", PROTO_TYPE_INT, REQ},
        {"metrics", PROTO_TYPE_OBJ, REQ}, {NULL, 0, 0}}},
    [PROTO_DECISION] = {PROTO_DECISION, "DECISION", C2W, {
        {"attempt", PROTO_TYPE_INT, REQ}, {"action", PROTO_TYPE_STR, REQ}, {NULL, 0, 0}}},
    [PROTO_RESULT] = {PROTO_RESULT, "RESULT", W2C, {
        {"attempt", PROTO_TYPE_INT, REQ}, {"state", PROTO_TYPE_STR, REQ},
        {"metrics", PROTO_TYPE_OBJ, OPT}, {"error", PROTO_TYPE_STR, OPT},
        {"kind", PROTO_TYPE_STR, OPT}, {"last_step", PROTO_TYPE_INT, OPT}, {NULL, 0, 0}}},
    [PROTO_ACK] = {PROTO_ACK, "ACK", C2W, {
        {"attempt", PROTO_TYPE_INT, REQ}, {NULL, 0, 0}}},
    [PROTO_CANCEL] = {PROTO_CANCEL, "CANCEL", C2W, {
        {"attempt", PROTO_TYPE_INT, REQ}, {"reason", PROTO_TYPE_STR, OPT}, {NULL, 0, 0}}},
    [PROTO_BYE] = {PROTO_BYE, "BYE", W2C, {
        {"reason", PROTO_TYPE_STR, OPT}, {"handed_back", PROTO_TYPE_INTS, OPT}, {NULL, 0, 0}}},
    [PROTO_SHUTDOWN] = {PROTO_SHUTDOWN, "SHUTDOWN", C2W, {
        {"reason", PROTO_TYPE_STR, OPT}, {NULL, 0, 0}}},
    [PROTO_STATUS] = {PROTO_STATUS, "STATUS", PROTO_DIR_S2C, {
        {"sweep", PROTO_TYPE_STR, OPT}, {NULL, 0, 0}}},
    [PROTO_STATUS_REPLY] = {PROTO_STATUS_REPLY, "STATUS-REPLY", PROTO_DIR_C2S, {
        {NULL, 0, 0}}},
    [PROTO_ERROR] = {PROTO_ERROR, "ERROR", C2W | PROTO_DIR_C2S, {
        {"code", PROTO_TYPE_STR, REQ}, {"reason", PROTO_TYPE_STR, REQ},
        {"errors", PROTO_TYPE_STRS, OPT}, {NULL, 0, 0}}},
    [PROTO_INVALID] = {PROTO_INVALID, "INVALID", C2W, {
        {"reason", PROTO_TYPE_STR, OPT}, {NULL, 0, 0}}},
    [PROTO_SUBMIT] = {PROTO_SUBMIT, "SUBMIT", PROTO_DIR_S2C, {
        {"spec", PROTO_TYPE_OBJ, REQ}, {NULL, 0, 0}}},
    [PROTO_SUBMIT_REPLY] = {PROTO_SUBMIT_REPLY, "SUBMIT-REPLY", PROTO_DIR_C2S, {
        {"sweep", PROTO_TYPE_STR, REQ}, {"state", PROTO_TYPE_STR, REQ},
        {"resumed", PROTO_TYPE_BOOL, REQ}, {NULL, 0, 0}}},
    [PROTO_CANCEL_SWEEP] = {PROTO_CANCEL_SWEEP, "CANCEL-SWEEP", PROTO_DIR_S2C, {
        {"sweep", PROTO_TYPE_STR, REQ}, {"reason", PROTO_TYPE_STR, OPT}, {NULL, 0, 0}}},
    [PROTO_CANCEL_SWEEP_REPLY] = {PROTO_CANCEL_SWEEP_REPLY, "CANCEL-SWEEP-REPLY", PROTO_DIR_C2S, {
        {"sweep", PROTO_TYPE_STR, REQ}, {"state", PROTO_TYPE_STR, REQ},
        {"pending", PROTO_TYPE_INT, REQ}, {"running", PROTO_TYPE_INT, REQ},
        {"attempts", PROTO_TYPE_INT, REQ}, {"cancelled", PROTO_TYPE_INT, REQ}, {NULL, 0, 0}}},
    [PROTO_RESUME_SWEEP] = {PROTO_RESUME_SWEEP, "RESUME-SWEEP", PROTO_DIR_S2C, {
        {"sweep", PROTO_TYPE_STR, REQ}, {"retry_failed", PROTO_TYPE_BOOL, OPT}, {NULL, 0, 0}}},
    [PROTO_RESUME_SWEEP_REPLY] = {PROTO_RESUME_SWEEP_REPLY, "RESUME-SWEEP-REPLY", PROTO_DIR_C2S, {
        {"sweep", PROTO_TYPE_STR, REQ}, {"state", PROTO_TYPE_STR, REQ},
        {"previous_state", PROTO_TYPE_STR, REQ}, {"reopened", PROTO_TYPE_INT, REQ},
        {NULL, 0, 0}}},
};

const proto_cmd_info_t *proto_cmd_info(proto_cmd_t cmd)
{
    if ((int)cmd <= PROTO_INVALID_CMD || (int)cmd >= PROTO_CMD_COUNT)
        return NULL;
    return &s_cmds[cmd];
}

const char *proto_cmd_name(proto_cmd_t cmd)
{
    const proto_cmd_info_t *info = proto_cmd_info(cmd);
    return info ? info->name : "?";
}

proto_cmd_t proto_cmd_lookup(const char *name)
{
    if (!name)
        return PROTO_INVALID_CMD;
    for (int i = 1; i < PROTO_CMD_COUNT; i++)
        if (!strcmp(s_cmds[i].name, name))
            return (proto_cmd_t)i;
    return PROTO_INVALID_CMD;
}

const char *proto_type_describe(proto_type_t type)
{
    switch (type) {
    case PROTO_TYPE_INT:  return "an integer";
    case PROTO_TYPE_NUM:  return "a number";
    case PROTO_TYPE_STR:  return "a string";
    case PROTO_TYPE_BOOL: return "a boolean";
    case PROTO_TYPE_OBJ:  return "an object";
    case PROTO_TYPE_ARR:  return "an array";
    case PROTO_TYPE_INTS: return "an array of integers";
    case PROTO_TYPE_STRS: return "an array of strings";
    }
    return "?";
}

/* Integral and exactly representable: |v| <= 2^53. */
static bool s_is_int(const cJSON *item)
{
    if (!cJSON_IsNumber(item))
        return false;
    double v = item->valuedouble;
    return isfinite(v) && v == floor(v) && fabs(v) <= 9007199254740992.0;
}

static bool s_has_type(const cJSON *item, proto_type_t type)
{
    const cJSON *el;
    switch (type) {
    case PROTO_TYPE_INT:  return s_is_int(item);
    case PROTO_TYPE_NUM:  return cJSON_IsNumber(item) && isfinite(item->valuedouble);
    case PROTO_TYPE_STR:  return cJSON_IsString(item) && item->valuestring;
    case PROTO_TYPE_BOOL: return cJSON_IsBool(item);
    case PROTO_TYPE_OBJ:  return cJSON_IsObject(item);
    case PROTO_TYPE_ARR:  return cJSON_IsArray(item);
    case PROTO_TYPE_INTS:
        if (!cJSON_IsArray(item))
            return false;
        cJSON_ArrayForEach(el, item)
            if (!s_is_int(el))
                return false;
        return true;
    case PROTO_TYPE_STRS:
        if (!cJSON_IsArray(item))
            return false;
        cJSON_ArrayForEach(el, item)
            if (!cJSON_IsString(el) || !el->valuestring)
                return false;
        return true;
    }
    return false;
}

int proto_cmd_check(proto_cmd_t cmd, const cJSON *body, char *err, size_t errlen)
{
    const proto_cmd_info_t *info = proto_cmd_info(cmd);
    if (!info) {
        snprintf(err, errlen, "unknown command %d", (int)cmd);
        return SW_EPROTO;
    }
    if (!cJSON_IsObject(body)) {
        snprintf(err, errlen, "%s: body must be a JSON object", info->name);
        return SW_EPROTO;
    }
    for (const proto_field_t *f = info->fields; f->name; f++) {
        const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, f->name);
        if (!item || (!f->required && cJSON_IsNull(item))) {
            if (f->required) {
                snprintf(err, errlen, "%s: missing required field '%s'", info->name, f->name);
                return SW_EPROTO;
            }
            continue;
        }
        if (!s_has_type(item, f->type)) {
            snprintf(err, errlen, "%s: field '%s' must be %s", info->name, f->name,
                     proto_type_describe(f->type));
            return SW_EPROTO;
        }
    }
    return 0;
}
