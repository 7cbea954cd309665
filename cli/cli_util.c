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
