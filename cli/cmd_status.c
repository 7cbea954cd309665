/*  cmd_status.c - `sweepd status`: sweeps, trial counts per state, best trial, workers
 *
 *  Reads the status document either from the database, opened read-only (works while
 *  a coordinator writes it), or from a live coordinator over STATUS / STATUS-REPLY with
 *  a 3 s timeout, and prints it as JSON (--json) or as a compact table per sweep.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <czmq.h>

#include "cli/cli.h"
#include "common/sw_clock.h"
#include "common/sw_curve.h"
#include "common/sw_err.h"
#include "common/sw_log.h"
#include "coordinator/coord_db.h"
#include "coordinator/coord_sched.h"
#include "proto/proto.h"

#define S_CONNECT_TIMEOUT_MS 3000

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd status (--db FILE | --connect ENDPOINT) [SWEEP] [--json]\n"
            "                     [--curve-secret FILE --coordinator-key FILE | --insecure]\n\n"
            "Show each sweep (or SWEEP): method, state, trials per state, the best trial,\n"
            "the rate of finished trials, retries (per trial too), lost and failed attempts\n"
            "by kind; then the workers (alive, lost or gone, heartbeat age, the attempts\n"
            "they run) and the scheduler's recent events (worker lost, lease expired,\n"
            "attempt requeued, late duplicate discarded, ...). docs/OPERATIONS.md explains\n"
            "how to read them.\n\n"
            "  --db FILE            read the database (read-only; fine while a coordinator runs)\n"
            "  --connect ENDPOINT   ask a running coordinator (3 s timeout)\n"
            "  --json               print the status document as JSON\n"
            "  --curve-secret FILE  with --connect: this client's secret certificate (its\n"
            "                       NAME.key must be in the coordinator's --curve-allow)\n"
            "  --coordinator-key FILE  the coordinator's public certificate. Both or neither\n"
            "  --insecure           allow plaintext to a coordinator on another host\n\n"
            "PENDING counts trials created and waiting plus trials planned but not yet\n"
            "created (the grid's size or max_trials, the smaller, minus trials created)\n"
            "while the sweep runs.\n\n"
            "exit status: 0 ok, 1 database or coordinator unreachable, 2 usage or unknown sweep\n");
}

/* Ask ENDPOINT for its status document; caller owns. NULL with a message printed. */
static cJSON *s_ask(const char *endpoint, const char *sweep, zcert_t *cert, zcert_t *server)
{
    proto_msg_t *msg = proto_msg_new(PROTO_STATUS);
    if (!msg)
        return NULL;
    if (sweep)
        cJSON_AddStringToObject(proto_msg_body(msg), "sweep", sweep);
    proto_msg_t *r = cli_request("status", endpoint, &msg, cert, server, S_CONNECT_TIMEOUT_MS);
    if (!r)
        return NULL;
    cJSON *doc = NULL;
    if (proto_msg_cmd(r) == PROTO_STATUS_REPLY) {
        doc = cJSON_Duplicate(proto_msg_body(r), 1);
    } else {
        fprintf(stderr, "sweepd status: %s: %s\n", proto_cmd_name(proto_msg_cmd(r)),
                proto_msg_string(r, "reason", "?"));
    }
    proto_msg_destroy(&r);
    return doc;
}

static double s_num(const cJSON *o, const char *name)
{
    return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, name));
}

static const char *s_str(const cJSON *o, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, name));
    return s ? s : "";
}

static void s_print_human(const cJSON *doc)
{
    const cJSON *sw;
    cJSON_ArrayForEach(sw, cJSON_GetObjectItemCaseSensitive(doc, "sweeps")) {
        printf("sweep %s  %s  %s", sw->string, s_str(sw, "method"), s_str(sw, "state"));
        if (*s_str(sw, "objective"))
            printf("  %s %s", s_str(sw, "direction"), s_str(sw, "objective"));
        printf("\n");
        if (*s_str(sw, "reason"))
            printf("  reason   %s\n", s_str(sw, "reason"));
        if (*s_str(sw, "warning"))
            printf("  warning  %s\n", s_str(sw, "warning"));
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(sw, "trials");
        printf("  trials   pending %.0f  running %.0f  complete %.0f  pruned %.0f  failed %.0f"
               "  cancelled %.0f", s_num(t, "PENDING"), s_num(t, "RUNNING"),
               s_num(t, "COMPLETE"), s_num(t, "PRUNED"), s_num(t, "FAILED"),
               s_num(t, "CANCELLED"));
        const cJSON *planned = cJSON_GetObjectItemCaseSensitive(sw, "planned");
        if (cJSON_IsNumber(planned))
            printf("  (of %.0f)", planned->valuedouble);
        printf("\n");
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(sw, "best");
        if (cJSON_IsObject(b)) {
            char *p = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(b, "params"));
            const cJSON *sd = cJSON_GetObjectItemCaseSensitive(b, "value_std");
            printf("  best     #%.0f  %.6g", s_num(b, "number"), s_num(b, "value"));
            if (cJSON_IsNumber(sd))
                printf(" +- %.4g", sd->valuedouble);
            printf("  %s\n", p ? p : "{}");
            free(p);
        } else {
            printf("  best     -\n");
        }
        printf("  rate     %.2f trials/min (last 5 min or served time)  retries %.0f  served %.0f s\n",
               s_num(sw, "trials_per_minute"), s_num(sw, "retries"), s_num(sw, "served_s"));
        const cJSON *it;
        const cJSON *tr = cJSON_GetObjectItemCaseSensitive(sw, "trial_retries");
        if (cJSON_GetArraySize(tr) > 0) {
            printf("  retried ");
            int shown = 0;
            cJSON_ArrayForEach(it, tr) {
                if (shown++ == 20) {
                    printf(" ...");
                    break;
                }
                printf(" #%s:%.0f", it->string, it->valuedouble);
            }
            printf("  (trial:retries)\n");
        }
        const char *groups[] = {"attempts_lost", "attempts_failed"};
        for (int g = 0; g < 2; g++) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(sw, groups[g]);
            if (cJSON_GetArraySize(o) == 0)
                continue;
            printf("  %-8s", g == 0 ? "lost" : "failed");
            cJSON_ArrayForEach(it, o)
                printf(" %s %.0f", it->string, it->valuedouble);
            printf("  (attempts by kind)\n");
        }
    }
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(doc, "workers");
    printf("workers %d\n", cJSON_GetArraySize(ws));
    if (cJSON_GetArraySize(ws) > 0)
        printf("  %-24s %-16s %-6s %6s %10s  %s\n", "ID", "HOST", "STATE", "SLOTS", "AGE_MS",
               "RUNNING");
    const cJSON *w;
    cJSON_ArrayForEach(w, ws) {
        printf("  %-24s %-16s %-6s %6.0f %10.0f  ", s_str(w, "id"), s_str(w, "host"),
               s_str(w, "state"), s_num(w, "slots"), s_num(w, "last_heartbeat_age_ms"));
        const cJSON *a;
        int k = 0;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(w, "attempts")) {
            printf("%sattempt %.0f (trial %.0f", k++ ? ", " : "", s_num(a, "attempt"),
                   s_num(a, "trial"));
            if (s_num(a, "fold") >= 0)
                printf(" fold %.0f", s_num(a, "fold"));
            printf(")");
        }
        printf("%s", k ? "" : "-");
        const cJSON *refused = cJSON_GetObjectItemCaseSensitive(w, "refused_sweeps");
        if (cJSON_GetArraySize(refused) > 0) {
            printf("  cannot run:");
            cJSON_ArrayForEach(a, refused)
                printf(" %s", cJSON_GetStringValue(a) ? cJSON_GetStringValue(a) : "?");
        }
        printf("\n");
    }
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(doc, "event_counts");
    if (cJSON_GetArraySize(counts) > 0) {
        const cJSON *it;
        printf("events ");
        cJSON_ArrayForEach(it, counts)
            printf(" %s: %.0f;", it->string, it->valuedouble);
        printf("\n");
        const cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "events");
        int n = cJSON_GetArraySize(events), from = n > 10 ? n - 10 : 0, i = 0;
        cJSON_ArrayForEach(it, events) {
            if (i++ < from)
                continue;
            /* name the sweep unless the detail already does */
            const char *ev_sweep = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "sweep"));
            const char *detail = s_str(it, "detail");
            bool named = ev_sweep && !strstr(detail, "sweep=");
            printf("  %8.1f s ago  %-26s %s%s%s%s\n", s_num(it, "age_ms") / 1000.0,
                   s_str(it, "kind"), named ? "sweep=" : "", named ? ev_sweep : "",
                   named && *detail ? " " : "", detail);
        }
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "coordinator");
    if (c) {
        printf("coordinator  results %.0f  duplicates %.0f  rejected_messages %.0f",
               s_num(c, "results"), s_num(c, "duplicates"), s_num(c, "rejected_messages"));
        if (cJSON_GetObjectItemCaseSensitive(c, "security"))
            printf("  security %s  refused_handshakes %.0f", s_str(c, "security"),
                   s_num(c, "refused_handshakes"));
        printf("\n");
    }
}

int cli_cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"connect", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"curve-secret", required_argument, NULL, 'S'},
        {"coordinator-key", required_argument, NULL, 'K'},
        {"insecure", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *endpoint = NULL;
    const char *curve_secret = NULL, *coord_key = NULL;
    bool json = false, insecure = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:c:jS:K:Ih", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'c': endpoint = optarg; break;
        case 'j': json = true; break;
        case 'S': curve_secret = optarg; break;
        case 'K': coord_key = optarg; break;
        case 'I': insecure = true; break;
        case 'h': s_usage(stdout); return CLI_EXIT_OK;
        default: s_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (!db_path == !endpoint || argc - optind > 1) {
        fprintf(stderr, "sweepd status: give exactly one of --db and --connect, and at most one SWEEP\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sweep = optind < argc ? argv[optind] : NULL;
    cJSON *doc = NULL;
    if (db_path) {
        int err = 0;
        coord_db_t *db = coord_db_new(db_path, true, &err);
        if (!db) {
            fprintf(stderr, "sweepd status: cannot open '%s': %s\n", db_path, sw_strerror(err));
            return CLI_EXIT_FAILURE;
        }
        doc = coord_sched_status_db(db, sweep, sw_clock_unix_ms(), &err);
        coord_db_destroy(&db);
        if (!doc) {
            if (err == SW_EINVAL) {
                fprintf(stderr, "sweepd status: no sweep named '%s' in '%s'\n", sweep, db_path);
                return CLI_EXIT_USAGE;
            }
            fprintf(stderr, "sweepd status: cannot read '%s': %s\n", db_path, sw_strerror(err));
            return CLI_EXIT_FAILURE;
        }
    } else {
        zcert_t *cert = NULL, *server = NULL;
        if (cli_client_keys("status", endpoint, curve_secret, coord_key, insecure, &cert,
                            &server))
            return CLI_EXIT_USAGE;
        doc = s_ask(endpoint, sweep, cert, server);
        zcert_destroy(&cert);
        zcert_destroy(&server);
        if (!doc)
            return CLI_EXIT_FAILURE;
    }
    if (json) {
        char *text = cJSON_Print(doc);
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        s_print_human(doc);
    }
    cJSON_Delete(doc);
    return CLI_EXIT_OK;
}
