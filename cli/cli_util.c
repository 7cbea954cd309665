/*  cli_util.c - helpers shared by the subcommands
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/sw_curve.h"
#include "common/sw_log.h"
#include "proto/proto.h"
#include "worker/trn_fit.h"

const char *cli_self_exe(void)
{
    static char path[PATH_MAX];
    if (!path[0]) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0)
            snprintf(path, sizeof path, "sweepd");
        else
            path[n] = '\0';
    }
    return path;
}

sw_spec_t *cli_load_spec(const char *path)
{
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_load(path, &errs);
    if (spec) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(spec->trainer, "type");
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "mlp")) {
            sw_errs_t terrs = {0};
            trn_config_check(spec->trainer,
                             cJSON_GetObjectItemCaseSensitive(spec->root, "parameters"), &terrs);
            for (size_t i = 0; i < terrs.count; i++)
                sw_errs_add(&errs, "%s: %s", path, terrs.items[i]);
            sw_errs_clear(&terrs);
        }
    }
    if (errs.count) {
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "%s\n", errs.items[i]);
        sw_errs_clear(&errs);
        sw_spec_destroy(&spec);
        return NULL;
    }
    return spec;
}

int cli_parse_ms(const char *text, uint64_t *ms)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *text == '-' || *end || errno || v == 0 || v > 86400000ULL)
        return -1;
    *ms = v;
    return 0;
}

int cli_parse_log_level(const char *name, sw_log_level_t *level)
{
    static const char *const names[] = {"error", "warn", "notice", "info", "debug"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i])) {
            *level = (sw_log_level_t)i;
            return 0;
        }
    return -1;
}

zcert_t *cli_load_cert(const char *cmd, const char *option, const char *path, bool need_secret)
{
    char err[512];
    zcert_t *cert = sw_curve_cert_load(path, need_secret, err, sizeof err);
    if (!cert)
        fprintf(stderr, "sweepd %s: %s: %s\n", cmd, option, err);
    return cert;
}

int cli_check_endpoint(const char *cmd, const char *endpoint, bool bind, bool curve,
                       bool insecure, const char *fix)
{
    sw_curve_scope_t scope = sw_curve_endpoint_scope(endpoint);
    if (scope == SW_CURVE_SCOPE_INVALID) {
        fprintf(stderr, "sweepd %s: '%s' is not a valid endpoint (tcp://HOST:PORT, "
                "tcp://[IPV6]:PORT or ipc://PATH)\n", cmd, endpoint ? endpoint : "");
        return CLI_EXIT_USAGE;
    }
    if (scope == SW_CURVE_SCOPE_LOCAL || curve)
        return 0;
    if (insecure) {
        /* asked for explicitly: a notice, not a warning */
        sw_log_notice("%s %s without CURVE (--insecure): anyone who can reach it can %s",
                    bind ? "serving on" : "connecting to", endpoint,
                    bind ? "take trials and write results" : "read the trials sent here");
        return 0;
    }
    fprintf(stderr, "sweepd %s: refusing to %s %s in plaintext: it is reachable from other "
            "hosts. Give %s (make keys with 'sweepd keygen NAME'), use a loopback or ipc:// "
            "endpoint, or pass --insecure on a network you trust\n", cmd,
            bind ? "bind" : "connect to", endpoint, fix);
    return CLI_EXIT_USAGE;
}

int cli_client_keys(const char *cmd, const char *endpoint, const char *curve_secret,
                    const char *coord_key, bool insecure, zcert_t **cert_out,
                    zcert_t **server_out)
{
    *cert_out = *server_out = NULL;
    if (!curve_secret != !coord_key) {
        fprintf(stderr, "sweepd %s: --curve-secret and --coordinator-key go together: "
                "give both (CURVE) or neither\n", cmd);
        return CLI_EXIT_USAGE;
    }
    if (cli_check_endpoint(cmd, endpoint, false, curve_secret != NULL, insecure,
                           "--curve-secret FILE and --coordinator-key FILE"))
        return CLI_EXIT_USAGE;
    if (curve_secret) {
        *cert_out = cli_load_cert(cmd, "--curve-secret", curve_secret, true);
        *server_out = *cert_out ? cli_load_cert(cmd, "--coordinator-key", coord_key, false)
                                : NULL;
        if (!*server_out) {
            zcert_destroy(cert_out);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* After no answer: say why when the socket monitor MON saw a failed handshake. */
static void s_explain(const char *cmd, zsock_t *mon, const char *endpoint)
{
    zmsg_t *ev;
    bool connected = false;
    while (mon && (ev = zmsg_recv_nowait(mon)) != NULL) {
        zframe_t *head = zmsg_first(ev);
        if (head && zframe_size(head) >= 6) {
            uint16_t id;
            uint32_t value;
            memcpy(&id, zframe_data(head), 2);
            memcpy(&value, zframe_data(head) + 2, 4);
            if (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                || id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) {
                char why[256];
                fprintf(stderr, "sweepd %s: CURVE handshake with %s failed: %s\n", cmd, endpoint,
                        sw_curve_event_describe(id, value, false, why, sizeof why));
                zmsg_destroy(&ev);
                return;
            }
            connected |= id == ZMQ_EVENT_CONNECTED;
        }
        zmsg_destroy(&ev);
    }
    if (mon && !connected)
        fprintf(stderr, "sweepd %s: no connection to %s was made: is a coordinator listening "
                "there?\n", cmd, endpoint);
}

proto_msg_t *cli_request(const char *cmd, const char *endpoint, proto_msg_t **msg_p,
                         zcert_t *cert, zcert_t *server, int timeout_ms)
{
    zsys_handler_set(NULL);
    zsock_t *s = zsock_new(ZMQ_DEALER);
    if (!s) {
        proto_msg_destroy(msg_p);
        return NULL;
    }
    zsock_set_linger(s, 0);
    if (cert && server) {
        zcert_apply(cert, s);
        zsock_set_curve_serverkey(s, zcert_public_txt(server));
    }
    static unsigned seq;
    char name[64];
    snprintf(name, sizeof name, "inproc://sweepd-client-monitor-%u", ++seq);
    zsock_t *mon = NULL;
    if (zmq_socket_monitor(zsock_resolve(s), name, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                           | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_CONNECTED) == 0) {
        mon = zsock_new(ZMQ_PAIR);
        if (mon && zsock_connect(mon, "%s", name) != 0)
            zsock_destroy(&mon);
    }
    zsock_set_rcvtimeo(s, timeout_ms);
    zsock_set_sndtimeo(s, timeout_ms);
    proto_msg_t *r = NULL;
    if (zsock_connect(s, "%s", endpoint) < 0) {
        fprintf(stderr, "sweepd %s: cannot connect to '%s'\n", cmd, endpoint);
        proto_msg_destroy(msg_p);
        goto done;
    }
    zmsg_t *m = proto_msg_encode(msg_p);
    bool encoded = m != NULL;
    if (!m || zmsg_send(&m, s) < 0) {
        /* A send times out when no connection ever completes its handshake (a
         * refused key, CURVE on one side only): the monitor says why, as for a
         * missing answer. */
        bool timed_out = encoded && zmq_errno() == EAGAIN;
        zmsg_destroy(&m);
        if (timed_out)
            fprintf(stderr, "sweepd %s: could not send to '%s' within %d ms\n", cmd, endpoint,
                    timeout_ms);
        else
            fprintf(stderr, "sweepd %s: cannot send to '%s'\n", cmd, endpoint);
        s_explain(cmd, mon, endpoint);
        goto done;
    }
    zmsg_t *reply = zmsg_recv(s);
    if (!reply) {
        fprintf(stderr, "sweepd %s: no answer from '%s' within %d ms\n", cmd, endpoint,
                timeout_ms);
        s_explain(cmd, mon, endpoint);
        goto done;
    }
    char err[256];
    r = proto_msg_decode(&reply, err, sizeof err);
    if (!r)
        fprintf(stderr, "sweepd %s: bad answer from '%s': %s\n", cmd, endpoint, err);
done:
    zsock_destroy(&s);
    zsock_destroy(&mon);
    return r;
}
