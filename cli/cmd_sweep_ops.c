/*  cmd_sweep_ops.c - `sweepd submit`, `sweepd cancel`, `sweepd resume`: control sweeps
 *
 *  submit sends a spec to a running coordinator (SUBMIT), after validating it here as
 *  `sweepd validate` does (nothing is sent from a spec with errors). cancel and resume
 *  either ask a running coordinator (CANCEL-SWEEP, RESUME-SWEEP over --connect, with the
 *  same CURVE options as `sweepd status`) or, with --db, change a database that no
 *  coordinator holds: the single-writer lock tells, and a held lock sends the user to
 *  --connect. Both paths run the same scheduler code (coord_sched_cancel_sweep,
 *  coord_sched_resume_sweep), so a database changed either way reads the same.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <czmq.h>

#include "cli/cli.h"
#include "common/sw_err.h"
#include "common/sw_log.h"
#include "common/sw_spec.h"
#include "coordinator/coord_db.h"
#include "coordinator/coord_sched.h"
#include "proto/proto.h"

#define S_REQUEST_TIMEOUT_MS 5000

#define S_KEYS_USAGE \
    "  --connect ENDPOINT   the coordinator's endpoint (5 s timeout)\n" \
    "  --curve-secret FILE  with --connect: this client's secret certificate (its\n" \
    "                       NAME.key must be in the coordinator's --curve-allow;\n" \
    "                       to submit, cancel or resume on a coordinator given\n" \
    "                       --curve-allow-ops, in that directory)\n" \
    "  --coordinator-key FILE  the coordinator's public certificate. Both or neither\n" \
    "  --insecure           allow plaintext to a coordinator on another host\n"

/* Options shared by the three commands. */
typedef struct {
    const char *endpoint, *db_path, *curve_secret, *coord_key, *reason;
    bool insecure, retry_failed, json;
} ops_opts_t;

/* Exit status for an ERROR reply: the request was refused for what it asked (2) or the
 * coordinator failed (1). */
static int s_error_status(proto_msg_t *r)
{
    const char *code = proto_msg_string(r, "code", "");
    return !strcmp(code, "internal") ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
}

/* Print an ERROR reply of subcommand CMD: its reason, then every listed error. */
static void s_print_error(const char *cmd, proto_msg_t *r)
{
    if (proto_msg_cmd(r) != PROTO_ERROR) {
        fprintf(stderr, "sweepd %s: unexpected answer %s\n", cmd, proto_cmd_name(proto_msg_cmd(r)));
        return;
    }
    fprintf(stderr, "sweepd %s: %s\n", cmd, proto_msg_string(r, "reason", "?"));
    const cJSON *it;
    const char *code = proto_msg_string(r, "code", "");
    cJSON_ArrayForEach(it, proto_msg_item(r, "errors"))
        fprintf(stderr, "  %s%s\n", !strcmp(code, "spec-changed") ? "changed: " : "",
                cJSON_GetStringValue(it) ? cJSON_GetStringValue(it) : "?");
}

/* Send MSG (consumed) with O's keys; the reply or NULL (printed), *STATUS set on NULL. */
static proto_msg_t *s_send(const char *cmd, const ops_opts_t *o, proto_msg_t *msg, int *status)
{
    zcert_t *cert = NULL, *server = NULL;
    if (cli_client_keys(cmd, o->endpoint, o->curve_secret, o->coord_key, o->insecure, &cert,
                        &server)) {
        proto_msg_destroy(&msg);
        *status = CLI_EXIT_USAGE;
        return NULL;
    }
    proto_msg_t *r = cli_request(cmd, o->endpoint, &msg, cert, server, S_REQUEST_TIMEOUT_MS);
    zcert_destroy(&cert);
    zcert_destroy(&server);
    if (!r)
        *status = CLI_EXIT_FAILURE;
    return r;
}

/* Print DOC (consumed) as JSON (--json). */
static void s_print_doc(cJSON *doc)
{
    char *text = doc ? cJSON_Print(doc) : NULL;
    printf("%s\n", text ? text : "{}");
    free(text);
    cJSON_Delete(doc);
}

/* Print the reply body as JSON (--json). */
static void s_print_json(proto_msg_t *r)
{
    s_print_doc(cJSON_Duplicate(proto_msg_body(r), 1));
}

/* Parse the options of CMD into *O (DB_OK: it takes --db as well as --connect).
 * Returns -1 to go on, or an exit status. */
static int s_parse(const char *cmd, int argc, char **argv, ops_opts_t *o,
                   void (*usage)(FILE *), bool db_ok)
{
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, 'd'},
        {"curve-secret", required_argument, NULL, 'S'},
        {"coordinator-key", required_argument, NULL, 'K'},
        {"insecure", no_argument, NULL, 'I'},
        {"reason", required_argument, NULL, 'r'},
        {"retry-failed", no_argument, NULL, 'R'},
        {"json", no_argument, NULL, 'j'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sw_log_level_t level = SW_LOG_WARN;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:S:K:Ir:RjL:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': o->endpoint = optarg; break;
        case 'd': o->db_path = optarg; break;
        case 'S': o->curve_secret = optarg; break;
        case 'K': o->coord_key = optarg; break;
        case 'I': o->insecure = true; break;
        case 'r': o->reason = optarg; break;
        case 'R': o->retry_failed = true; break;
        case 'j': o->json = true; break;
        case 'L':
            if (cli_parse_log_level(optarg, &level)) {
                fprintf(stderr, "sweepd %s: --log-level: unknown level '%s'\n", cmd, optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return CLI_EXIT_OK;
        default: usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    sw_log_set_level(level);
    sw_log_set_ident(cmd);
    bool bad = argc - optind != 1;
    if (db_ok)
        bad |= !o->endpoint == !o->db_path;
    else
        bad |= !o->endpoint || o->db_path;
    if (bad) {
        fprintf(stderr, db_ok ? "sweepd %s: give one SWEEP and exactly one of --connect and --db\n"
                              : "sweepd %s: give one SPEC.json and --connect ENDPOINT\n", cmd);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (o->db_path && (o->curve_secret || o->coord_key || o->insecure)) {
        fprintf(stderr, "sweepd %s: --curve-secret, --coordinator-key and --insecure go with "
                "--connect, not --db\n", cmd);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* ---- submit ---- */

static void s_submit_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd submit SPEC.json --connect ENDPOINT\n"
            "                     [--curve-secret FILE --coordinator-key FILE | --insecure]\n"
            "                     [--json]\n\n"
            "Add a sweep to a running coordinator; its trials go to the connected workers at\n"
            "once. SPEC is validated here first: every error is printed with its JSON path\n"
            "and nothing is sent. A sweep whose name the coordinator's database holds is\n"
            "resumed when its spec is the same (limits may change) and refused, naming the\n"
            "fields that changed, when it differs. A finished sweep whose limits changed\n"
            "(say limits.max_trials raised) is reopened; otherwise it stays finished\n"
            "('sweepd resume' reopens a FAILED or CANCELLED one).\n\n"
            S_KEYS_USAGE
            "  --json               print the coordinator's reply as JSON\n\n"
            "exit status: 0 served, 1 coordinator unreachable or failed, 2 usage, invalid\n"
            "or changed spec, or permission denied (the key is not an operator's)\n");
}

int cli_cmd_submit(int argc, char **argv)
{
    ops_opts_t o = {0};
    int status = s_parse("submit", argc, argv, &o, s_submit_usage, false);
    if (status >= 0)
        return status;
    sw_spec_t *spec = cli_load_spec(argv[optind]);
    if (!spec)
        return CLI_EXIT_USAGE;      /* every error printed, nothing sent */
    proto_msg_t *msg = proto_msg_new(PROTO_SUBMIT);
    if (!msg) {
        sw_spec_destroy(&spec);
        return CLI_EXIT_FAILURE;
    }
    cJSON_AddItemToObject(proto_msg_body(msg), "spec", cJSON_Duplicate(spec->root, 1));
    sw_spec_destroy(&spec);
    status = CLI_EXIT_OK;
    proto_msg_t *r = s_send("submit", &o, msg, &status);
    if (!r)
        return status;
    if (proto_msg_cmd(r) != PROTO_SUBMIT_REPLY) {
        s_print_error("submit", r);
        status = proto_msg_cmd(r) == PROTO_ERROR ? s_error_status(r) : CLI_EXIT_FAILURE;
    } else if (o.json) {
        s_print_json(r);
    } else {
        const char *state = proto_msg_string(r, "state", "?");
        bool resumed = cJSON_IsTrue(proto_msg_item(r, "resumed"));
        const char *name = proto_msg_string(r, "sweep", "?");
        printf("sweep %s %s: %s\n", name, resumed ? "resumed" : "submitted", state);
        if (!strcmp(state, "COMPLETE"))
            printf("it is finished: raise its limits (limits.max_trials, limits.max_time_s) "
                   "and submit it again to go on\n");
        else if (strcmp(state, "RUNNING"))
            printf("it is finished: 'sweepd resume %s' reopens it\n", name);
    }
    proto_msg_destroy(&r);
    return status;
}

/* ---- cancel and resume on a database no coordinator holds ---- */

typedef enum { S_OP_CANCEL, S_OP_RESUME } s_op_t;

static int s_db_op(s_op_t op, const char *sweep, const ops_opts_t *o)
{
    const char *cmd = op == S_OP_CANCEL ? "cancel" : "resume";
    if (access(o->db_path, F_OK) != 0) {
        fprintf(stderr, "sweepd %s: no database '%s'\n", cmd, o->db_path);
        return CLI_EXIT_FAILURE;
    }
    int err = 0;
    coord_db_t *db = coord_db_new(o->db_path, false, &err);
    if (!db) {
        if (err == SW_ESTATE)
            fprintf(stderr, "sweepd %s: a coordinator holds '%s'; ask it with --connect "
                    "ENDPOINT instead\n", cmd, o->db_path);
        else
            fprintf(stderr, "sweepd %s: cannot open '%s': %s\n", cmd, o->db_path,
                    sw_strerror(err));
        return CLI_EXIT_FAILURE;
    }
    int status = CLI_EXIT_OK;
    coord_sched_t *sched = coord_sched_new(db, 0, NULL, NULL, &err);
    if (!sched) {
        fprintf(stderr, "sweepd %s: cannot read '%s': %s\n", cmd, o->db_path, sw_strerror(err));
        coord_db_destroy(&db);
        return CLI_EXIT_FAILURE;
    }
    coord_sched_cancel_t cc;
    coord_sched_resume_t rs;
    int rc = op == S_OP_CANCEL ? coord_sched_cancel_sweep(sched, sweep, o->reason, &cc)
                               : coord_sched_resume_sweep(sched, sweep, o->retry_failed, &rs);
    coord_sched_out_t *out = NULL;
    size_t n = 0;
    if (!rc && (rc = coord_sched_flush(sched, &out, &n)) == 0)
        coord_sched_out_free(out, n);   /* no worker listens: CANCELs of orphans go nowhere */
    else
        coord_db_rollback(db);
    const char *state = op == S_OP_CANCEL ? cc.state : rs.previous_state;
    if (rc == SW_EINVAL) {
        fprintf(stderr, "sweepd %s: no sweep named '%s' in '%s'\n", cmd, sweep, o->db_path);
        status = CLI_EXIT_USAGE;
    } else if (rc == SW_ESTATE) {
        fprintf(stderr, "sweepd %s: cannot %s sweep '%s': it is %s%s\n", cmd, cmd, sweep, state,
                op == S_OP_RESUME && !strcmp(state, "COMPLETE")
                ? " (--retry-failed reopens its FAILED and CANCELLED trials, when it has any)"
                : "");
        status = CLI_EXIT_USAGE;
    } else if (rc) {
        fprintf(stderr, "sweepd %s: cannot write '%s': %s\n", cmd, o->db_path, sw_strerror(rc));
        status = CLI_EXIT_FAILURE;
    } else if (op == S_OP_CANCEL) {
        if (o->json) {
            s_print_doc(coord_sched_cancel_doc(sweep, &cc));
        } else
            printf("sweep %s cancelled: trials cancelled: pending %lld, running %lld "
                   "(attempts stopped: %lld); CANCELLED in all: %lld\n", sweep,
                   (long long)cc.pending, (long long)cc.running, (long long)cc.attempts,
                   (long long)cc.cancelled);
    } else {
        if (o->json) {
            s_print_doc(coord_sched_resume_doc(sweep, &rs));
        } else
            printf("sweep %s resumed: %s -> %s, trials reopened: %lld; the next 'sweepd run' "
                   "or 'sweepd coordinator' on %s serves it\n", sweep, rs.previous_state,
                   rs.state, (long long)rs.reopened, o->db_path);
    }
    coord_sched_destroy(&sched);
    coord_db_destroy(&db);
    return status;
}

/* ---- cancel ---- */

static void s_cancel_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd cancel SWEEP (--connect ENDPOINT | --db FILE) [--reason TEXT]\n"
            "                     [--curve-secret FILE --coordinator-key FILE | --insecure]\n"
            "                     [--json]\n\n"
            "Cancel one sweep: its PENDING and RUNNING trials become CANCELLED, its running\n"
            "attempts are stopped (the workers end their trainers' process groups), nothing\n"
            "more of it is handed out; other sweeps go on. Results that arrive afterwards\n"
            "for its attempts are acknowledged and discarded. 'sweepd resume' reopens it.\n\n"
            S_KEYS_USAGE
            "  --db FILE            change a database that no coordinator holds (with one\n"
            "                       running, use --connect)\n"
            "  --reason TEXT        why, kept as the sweep's reason (\"cancelled: TEXT\")\n"
            "  --json               print the reply as JSON\n\n"
            "exit status: 0 cancelled, 1 coordinator unreachable, database held or failed,\n"
            "2 usage, unknown sweep, sweep not RUNNING, or permission denied (the key is not\n"
            "an operator's)\n");
}

int cli_cmd_cancel(int argc, char **argv)
{
    ops_opts_t o = {0};
    int status = s_parse("cancel", argc, argv, &o, s_cancel_usage, true);
    if (status >= 0)
        return status;
    const char *sweep = argv[optind];
    if (o.db_path)
        return s_db_op(S_OP_CANCEL, sweep, &o);
    proto_msg_t *msg = proto_msg_new(PROTO_CANCEL_SWEEP);
    if (!msg)
        return CLI_EXIT_FAILURE;
    cJSON_AddStringToObject(proto_msg_body(msg), "sweep", sweep);
    if (o.reason)
        cJSON_AddStringToObject(proto_msg_body(msg), "reason", o.reason);
    status = CLI_EXIT_OK;
    proto_msg_t *r = s_send("cancel", &o, msg, &status);
    if (!r)
        return status;
    if (proto_msg_cmd(r) != PROTO_CANCEL_SWEEP_REPLY) {
        s_print_error("cancel", r);
        status = proto_msg_cmd(r) == PROTO_ERROR ? s_error_status(r) : CLI_EXIT_FAILURE;
    } else if (o.json) {
        s_print_json(r);
    } else {
        printf("sweep %s cancelled: trials cancelled: pending %lld, running %lld "
               "(attempts stopped: %lld); CANCELLED in all: %lld\n", sweep,
               (long long)proto_msg_int(r, "pending", 0), (long long)proto_msg_int(r, "running", 0),
               (long long)proto_msg_int(r, "attempts", 0),
               (long long)proto_msg_int(r, "cancelled", 0));
    }
    proto_msg_destroy(&r);
    return status;
}

/* ---- resume ---- */

static void s_resume_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd resume SWEEP (--connect ENDPOINT | --db FILE) [--retry-failed]\n"
            "                     [--curve-secret FILE --coordinator-key FILE | --insecure]\n"
            "                     [--json]\n\n"
            "Reopen a CANCELLED or FAILED sweep: it is RUNNING again (max_time_s counts\n"
            "only time served). Without --retry-failed only work never started continues:\n"
            "cancelled trials never dispatched, and the trials the sampler has yet to\n"
            "propose. With --retry-failed its FAILED and CANCELLED trials get new attempts\n"
            "(same trial numbers and parameters; folds already COMPLETE are kept; the old\n"
            "attempts stay in the history); a COMPLETE sweep with such trials may be\n"
            "reopened this way. A RUNNING sweep cannot be resumed.\n\n"
            S_KEYS_USAGE
            "  --db FILE            change a database that no coordinator holds; the next\n"
            "                       'sweepd run' or 'sweepd coordinator' on it serves the sweep\n"
            "  --retry-failed       also rerun the FAILED and CANCELLED trials\n"
            "  --json               print the reply as JSON\n\n"
            "exit status: 0 reopened, 1 coordinator unreachable, database held or failed,\n"
            "2 usage, unknown sweep, sweep RUNNING or COMPLETE, or permission denied (the\n"
            "key is not an operator's)\n");
}

int cli_cmd_resume(int argc, char **argv)
{
    ops_opts_t o = {0};
    int status = s_parse("resume", argc, argv, &o, s_resume_usage, true);
    if (status >= 0)
        return status;
    const char *sweep = argv[optind];
    if (o.db_path)
        return s_db_op(S_OP_RESUME, sweep, &o);
    proto_msg_t *msg = proto_msg_new(PROTO_RESUME_SWEEP);
    if (!msg)
        return CLI_EXIT_FAILURE;
    cJSON_AddStringToObject(proto_msg_body(msg), "sweep", sweep);
    cJSON_AddBoolToObject(proto_msg_body(msg), "retry_failed", o.retry_failed);
    status = CLI_EXIT_OK;
    proto_msg_t *r = s_send("resume", &o, msg, &status);
    if (!r)
        return status;
    if (proto_msg_cmd(r) != PROTO_RESUME_SWEEP_REPLY) {
        s_print_error("resume", r);
        status = proto_msg_cmd(r) == PROTO_ERROR ? s_error_status(r) : CLI_EXIT_FAILURE;
    } else if (o.json) {
        s_print_json(r);
    } else {
        printf("sweep %s resumed: %s -> %s, trials reopened: %lld\n", sweep,
               proto_msg_string(r, "previous_state", "?"), proto_msg_string(r, "state", "?"),
               (long long)proto_msg_int(r, "reopened", 0));
    }
    proto_msg_destroy(&r);
    return status;
}
