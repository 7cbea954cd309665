/*  proto.h - the sweepd wire protocol: commands, messages, encode and decode
 *
 *  proto/PROTOCOL.md is the specification; this header is its C face. Every message
 *  is a ZeroMQ multipart message of three frames:
 *
 *      [signature "SWPD/1"] [command name, e.g. "ASSIGN"] [JSON object body]
 *
 *  (on the coordinator's ROUTER socket the peer's routing id comes first; only
 *  coord_peer.c sees it). A foreign or stale peer is rejected on the first frame,
 *  before any JSON is parsed. proto_cmd.c holds the one table of commands with the
 *  required fields of each and their JSON types; decoding checks a body against it,
 *  so code that handles a decoded message may read required fields without
 *  re-checking their presence or type.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#ifndef PROTO_H
#define PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>
#include <czmq.h>

#define PROTO_SIGNATURE "SWPD/1"

/* Commands. W = worker, C = coordinator, S = status or control client (sweepd status,
 * submit, cancel, resume). */
typedef enum {
    PROTO_INVALID_CMD = 0,
    PROTO_HELLO,        /* W->C  worker_id, host, pid, slots, trainers[], running[] */
    PROTO_WELCOME,      /* C->W  heartbeat_ms, lease_ms, coordinator_id */
    PROTO_REQUEST,      /* W->C  slots (free slots) */
    PROTO_ASSIGN,       /* C->W  attempt, sweep, trial, fold, folds, params{}, trainer{}, cv, seed, timeout_s */
    PROTO_HEARTBEAT,    /* W<->C running[] (attempt ids, W->C only) */
    PROTO_REPORT,       /* W->C  attempt, step, metrics{} */
    PROTO_DECISION,     /* C->W  attempt, action ("continue" | "prune") */
    PROTO_RESULT,       /* W->C  attempt, state, metrics{}, error, kind, last_step */
    PROTO_ACK,          /* C->W  attempt */
    PROTO_CANCEL,       /* C->W  attempt, reason */
    PROTO_BYE,          /* W->C  reason, handed_back[] */
    PROTO_SHUTDOWN,     /* C->W  reason: the coordinator has no more work and asks workers to exit */
    PROTO_STATUS,       /* S->C  sweep (optional) */
    PROTO_STATUS_REPLY, /* C->S  the same document as `sweepd status --json` */
    PROTO_ERROR,        /* C->W/S  code, reason, errors[] (optional: every spec error of a
                                   SUBMIT): the message was rejected */
    PROTO_INVALID,      /* C->W  reason: unknown worker; send HELLO again */
    PROTO_SUBMIT,       /* S->C  spec{} (a sweep spec, as `sweepd validate` reads it): serve it */
    PROTO_SUBMIT_REPLY, /* C->S  sweep, state, resumed (bool: the name existed with this spec) */
    PROTO_CANCEL_SWEEP, /* S->C  sweep, reason: cancel the whole sweep (not PROTO_CANCEL: that
                                 one is C->W, one attempt) */
    PROTO_CANCEL_SWEEP_REPLY, /* C->S  sweep, state, pending, running, attempts, cancelled:
                                 trials PENDING and RUNNING that were cancelled, running
                                 attempts stopped, CANCELLED trials now */
    PROTO_RESUME_SWEEP, /* S->C  sweep, retry_failed (bool): reopen a CANCELLED or FAILED sweep */
    PROTO_RESUME_SWEEP_REPLY, /* C->S  sweep, state, previous_state, reopened (trials made
                                 PENDING again) */
    PROTO_CMD_COUNT
} proto_cmd_t;

/* Name of CMD ("HELLO"), or "?" for an unknown value. Static string. */
const char *proto_cmd_name(proto_cmd_t cmd);

/* Command for NAME, or PROTO_INVALID_CMD when unknown. */
proto_cmd_t proto_cmd_lookup(const char *name);

typedef struct proto_msg proto_msg_t;

/* New message for CMD with an empty JSON object body. Caller owns; NULL on OOM. */
proto_msg_t *proto_msg_new(proto_cmd_t cmd);

/* Free a message and set *SELF_P to NULL; NULL is fine. */
void proto_msg_destroy(proto_msg_t **self_p);

/* The command of SELF. */
proto_cmd_t proto_msg_cmd(const proto_msg_t *self);

/* The JSON object body; borrowed, valid until the message is destroyed. Add fields
 * with cJSON_Add*ToObject before encoding. */
cJSON *proto_msg_body(proto_msg_t *self);

/* Encode SELF into a new zmsg of three frames and destroy SELF (*SELF_P = NULL).
 * Returns the zmsg (caller owns) or NULL on OOM. */
zmsg_t *proto_msg_encode(proto_msg_t **self_p);

/* Decode the frames of *ZMSG_P (consumed: *ZMSG_P = NULL) into a message. Checks the
 * signature, the command name, that the body is a JSON object of at most
 * PROTO_MAX_BODY bytes, and every required field of the command with its JSON type.
 * Returns the message (caller owns) or NULL with a one-line reason in ERR (ERRLEN
 * bytes, NUL-terminated), e.g. "REPORT: field 'step' must be a number". */
proto_msg_t *proto_msg_decode(zmsg_t **zmsg_p, char *err, size_t errlen);

#define PROTO_MAX_BODY (4u << 20)   /* bytes; larger bodies are rejected */

/* Convenience accessors for decoded bodies: a field's value, or DEFAULT_VALUE when
 * absent or of another type. Strings are borrowed from the message. */
double      proto_msg_number(proto_msg_t *self, const char *field, double default_value);
const char *proto_msg_string(proto_msg_t *self, const char *field, const char *default_value);
cJSON      *proto_msg_item(proto_msg_t *self, const char *field);   /* borrowed or NULL */

/* A short description for logs: "REPORT attempt=12 step=3". Caller frees. */
char *proto_msg_describe(proto_msg_t *self);

/* ---- The command table (proto_cmd.c) -------------------------------------------- */

/* JSON types of body fields. PROTO_TYPE_INT is a number with an integral value within
 * +-2^53; PROTO_TYPE_INTS an array of such numbers; PROTO_TYPE_STRS an array of
 * strings. */
typedef enum {
    PROTO_TYPE_INT = 1,
    PROTO_TYPE_NUM,
    PROTO_TYPE_STR,
    PROTO_TYPE_BOOL,
    PROTO_TYPE_OBJ,
    PROTO_TYPE_ARR,
    PROTO_TYPE_INTS,
    PROTO_TYPE_STRS
} proto_type_t;

/* Who may send a command (bit flags). */
enum {
    PROTO_DIR_W2C = 1 << 0,     /* worker to coordinator */
    PROTO_DIR_C2W = 1 << 1,     /* coordinator to worker */
    PROTO_DIR_S2C = 1 << 2,     /* status client to coordinator */
    PROTO_DIR_C2S = 1 << 3      /* coordinator to status client */
};

#define PROTO_MAX_FIELDS 12

/* One body field of a command: its name, JSON type and whether it must be present.
 * Optional fields are type-checked when present. */
typedef struct {
    const char *name;       /* NULL ends the list */
    proto_type_t type;
    bool required;
} proto_field_t;

/* One row of the command table. */
typedef struct {
    proto_cmd_t cmd;
    const char *name;       /* wire name, e.g. "STATUS-REPLY" */
    unsigned dir;           /* PROTO_DIR_* flags */
    proto_field_t fields[PROTO_MAX_FIELDS];     /* ends with a NULL name */
} proto_cmd_info_t;

/* The table row of CMD, or NULL for PROTO_INVALID_CMD and out-of-range values.
 * Static data. Tests and logs iterate from 1 to PROTO_CMD_COUNT - 1. */
const proto_cmd_info_t *proto_cmd_info(proto_cmd_t cmd);

/* Name of a JSON type for messages ("an integer", "a string"). Static string. */
const char *proto_type_describe(proto_type_t type);

/* Check BODY (a JSON object) against the fields of CMD. Returns 0, or SW_EPROTO with
 * a one-line reason in ERR (ERRLEN bytes): "REPORT: missing required field 'step'",
 * "REPORT: field 'step' must be an integer". */
int proto_cmd_check(proto_cmd_t cmd, const cJSON *body, char *err, size_t errlen);

/* ---- More message helpers (proto_msg.c) ------------------------------------------ */

/* A deep copy of SELF (command and body). Caller owns; NULL on OOM. Used to keep a
 * RESULT for re-sending while a copy goes out. */
proto_msg_t *proto_msg_dup(const proto_msg_t *self);

/* An integer field of a decoded body (INT fields are checked integral and within
 * +-2^53), or DEFAULT_VALUE when absent or not a number. */
int64_t proto_msg_int(proto_msg_t *self, const char *field, int64_t default_value);

#endif
