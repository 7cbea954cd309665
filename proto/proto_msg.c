/*  proto_msg.c - protocol messages: build, encode to frames, decode and validate
 *
 *  A proto_msg_t is a command plus one cJSON object body; it owns the body. Encoding
 *  makes the three frames of proto/PROTOCOL.md; decoding checks, in this order, the
 *  frame count, the signature, the command name, the body size, that the body is one
 *  JSON object, and every field the command table (proto_cmd.c) lists. The first
 *  fault found becomes the one-line reason; nothing from a rejected message is
 *  trusted or kept. Foreign bytes are never printed raw: names and signatures are
 *  cut to a few printable characters in reasons.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "proto/proto.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct proto_msg {
    proto_cmd_t cmd;    /* a valid command */
    cJSON *body;        /* JSON object, owned */
};

proto_msg_t *proto_msg_new(proto_cmd_t cmd)
{
    assert(proto_cmd_info(cmd));
    proto_msg_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cmd = cmd;
    self->body = cJSON_CreateObject();
    if (!self->body) {
        free(self);
        return NULL;
    }
    return self;
}

void proto_msg_destroy(proto_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cJSON_Delete((*self_p)->body);
    free(*self_p);
    *self_p = NULL;
}

proto_cmd_t proto_msg_cmd(const proto_msg_t *self)
{
    assert(self);
    return self->cmd;
}

cJSON *proto_msg_body(proto_msg_t *self)
{
    assert(self);
    return self->body;
}

proto_msg_t *proto_msg_dup(const proto_msg_t *self)
{
    assert(self);
    proto_msg_t *copy = calloc(1, sizeof *copy);
    if (!copy)
        return NULL;
    copy->cmd = self->cmd;
    copy->body = cJSON_Duplicate(self->body, 1);
    if (!copy->body) {
        free(copy);
        return NULL;
    }
    return copy;
}

zmsg_t *proto_msg_encode(proto_msg_t **self_p)
{
    assert(self_p && *self_p);
    proto_msg_t *self = *self_p;
    zmsg_t *zmsg = NULL;
    char *text = cJSON_PrintUnformatted(self->body);
    if (!text)
        goto done;
    zmsg = zmsg_new();
    if (!zmsg || zmsg_addstr(zmsg, PROTO_SIGNATURE) || zmsg_addstr(zmsg, proto_cmd_name(self->cmd))
        || zmsg_addmem(zmsg, text, strlen(text)))
        zmsg_destroy(&zmsg);
done:
    free(text);
    proto_msg_destroy(self_p);
    return zmsg;
}

/* Copy at most 24 bytes of DATA into OUT as printable ASCII ('?' for others). */
static void s_printable(const void *data, size_t size, char *out, size_t outlen)
{
    const unsigned char *p = data;
    size_t n = size < 24 ? size : 24;
    if (n > outlen - 1)
        n = outlen - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = isprint(p[i]) ? (char)p[i] : '?';
    out[n] = '\0';
    if (size > n && n >= 3)
        memcpy(out + n - 3, "...", 3);
}

proto_msg_t *proto_msg_decode(zmsg_t **zmsg_p, char *err, size_t errlen)
{
    assert(zmsg_p && err && errlen > 0);
    char shown[32];
    proto_msg_t *self = NULL;
    zmsg_t *zmsg = *zmsg_p;
    *zmsg_p = NULL;
    err[0] = '\0';
    if (!zmsg) {
        snprintf(err, errlen, "no message");
        return NULL;
    }
    if (zmsg_size(zmsg) != 3) {
        snprintf(err, errlen, "expected 3 frames, got %zu", zmsg_size(zmsg));
        goto fail;
    }
    zframe_t *sig = zmsg_first(zmsg);
    zframe_t *name = zmsg_next(zmsg);
    zframe_t *body = zmsg_next(zmsg);
    size_t siglen = strlen(PROTO_SIGNATURE);
    if (zframe_size(sig) != siglen || memcmp(zframe_data(sig), PROTO_SIGNATURE, siglen)) {
        s_printable(zframe_data(sig), zframe_size(sig), shown, sizeof shown);
        snprintf(err, errlen, "bad signature '%s' (expected %s)", shown, PROTO_SIGNATURE);
        goto fail;
    }
    char cmdname[32];
    proto_cmd_t cmd = PROTO_INVALID_CMD;
    if (zframe_size(name) < sizeof cmdname) {
        memcpy(cmdname, zframe_data(name), zframe_size(name));
        cmdname[zframe_size(name)] = '\0';
        if (strlen(cmdname) == zframe_size(name))
            cmd = proto_cmd_lookup(cmdname);
    }
    if (cmd == PROTO_INVALID_CMD) {
        s_printable(zframe_data(name), zframe_size(name), shown, sizeof shown);
        snprintf(err, errlen, "unknown command '%s'", shown);
        goto fail;
    }
    const char *cname = proto_cmd_name(cmd);
    size_t size = zframe_size(body);
    if (size > PROTO_MAX_BODY) {
        snprintf(err, errlen, "%s: body of %zu bytes is over the limit of %u bytes", cname,
                 size, PROTO_MAX_BODY);
        goto fail;
    }
    const char *text = (const char *)zframe_data(body);
    const char *end = NULL;
    cJSON *json = size ? cJSON_ParseWithLengthOpts(text, size, &end, 0) : NULL;
    if (json) {
        /* cJSON stops after the first value; anything but whitespace after it is junk. */
        while (end < text + size && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end != text + size)
            cJSON_Delete(json), json = NULL;
    }
    if (!json) {
        snprintf(err, errlen, "%s: body is not valid JSON", cname);
        goto fail;
    }
    if (!cJSON_IsObject(json)) {
        snprintf(err, errlen, "%s: body must be a JSON object", cname);
        cJSON_Delete(json);
        goto fail;
    }
    if (proto_cmd_check(cmd, json, err, errlen)) {
        cJSON_Delete(json);
        goto fail;
    }
    self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "%s: out of memory", cname);
        cJSON_Delete(json);
        goto fail;
    }
    self->cmd = cmd;
    self->body = json;
fail:
    zmsg_destroy(&zmsg);
    return self;
}

cJSON *proto_msg_item(proto_msg_t *self, const char *field)
{
    assert(self && field);
    return cJSON_GetObjectItemCaseSensitive(self->body, field);
}

double proto_msg_number(proto_msg_t *self, const char *field, double default_value)
{
    cJSON *item = proto_msg_item(self, field);
    return cJSON_IsNumber(item) ? item->valuedouble : default_value;
}

int64_t proto_msg_int(proto_msg_t *self, const char *field, int64_t default_value)
{
    cJSON *item = proto_msg_item(self, field);
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble)
        || fabs(item->valuedouble) > 9007199254740992.0)
        return default_value;
    return (int64_t)item->valuedouble;
}

const char *proto_msg_string(proto_msg_t *self, const char *field, const char *default_value)
{
    cJSON *item = proto_msg_item(self, field);
    return cJSON_IsString(item) && item->valuestring ? item->valuestring : default_value;
}

char *proto_msg_describe(proto_msg_t *self)
{
    assert(self);
    static const char *const keys[] = {"worker_id", "attempt", "sweep", "trial", "fold", "step",
                                       "state", "action", "slots", "kind", "reason", NULL};
    char buf[512];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%s", proto_cmd_name(self->cmd));
    for (int i = 0; keys[i] && len < sizeof buf; i++) {
        cJSON *item = cJSON_GetObjectItemCaseSensitive(self->body, keys[i]);
        int n = 0;
        if (cJSON_IsNumber(item))
            n = snprintf(buf + len, sizeof buf - len, " %s=%.17g", keys[i], item->valuedouble);
        else if (cJSON_IsString(item) && item->valuestring)
            n = snprintf(buf + len, sizeof buf - len, " %s=%.60s", keys[i], item->valuestring);
        if (n > 0)
            len += (size_t)n;
    }
    return strdup(buf);
}
