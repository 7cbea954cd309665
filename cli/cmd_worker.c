/*  cmd_worker.c - `sweepd worker`: connect to a coordinator and run trials
 *
 *  Parses the options, builds the worker agent (worker/wrk.h) on one libuv loop with
 *  uv_signal handles for SIGINT and SIGTERM, runs the loop until the worker has
 *  stopped, and tears everything down so the loop closes cleanly. With
 *  --exit-with-parent (used by `sweepd run` for its local workers) the worker stops
 *  when its parent dies: the kernel sends SIGTERM (prctl PR_SET_PDEATHSIG), and a
 *  timer compares getppid() with the original parent in case the parent died before
 *  the prctl call or the signal was lost.
 *
 *  The first SIGINT/SIGTERM drains (BYE hands the running attempts back at once, their
 *  trainers get SIGTERM and a grace period); a second one kills the trainers' process
 *  groups with SIGKILL and exits without waiting.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <uv.h>

#include "cli/cli.h"
#include "common/sw_err.h"
#include "common/sw_log.h"
#include "worker/wrk.h"

#define PARENT_CHECK_MS 500

typedef struct {
    wrk_t *wrk;
    uv_signal_t sigint, sigterm;
    uv_timer_t parent_timer;
    bool parent_timer_on;
    pid_t parent;
    int signals;                /* SIGINT/SIGTERM received so far */
} s_ctx_t;

static void s_usage(FILE *out)
{
    fprintf(out,
        "usage: sweepd worker --connect ENDPOINT [options]\n\n"
        "Connect to a coordinator, ask for trials and train them here, one per slot.\n\n"
        "options:\n"
        "  --connect ENDPOINT       coordinator endpoint, e.g. tcp://host:5555 (required)\n"
        "  --slots N                trials run at once (default 1)\n"
        "  --id NAME                stable worker name (default HOST:PID)\n"
        "  --heartbeat-ms MS        heartbeat interval until the coordinator sets one\n"
        "                           (default 1000; WELCOME then sets the coordinator's)\n"
        "  --liveness N             silent heartbeat intervals before the worker drops its\n"
        "                           socket and reconnects (default 3)\n"
        "  --reconnect-min-ms MS    first reconnect backoff; doubles per failed try, with\n"
        "                           jitter (default 1000)\n"
        "  --reconnect-max-ms MS    backoff ceiling (default 32000)\n"
        "  --result-resend-ms MS    re-send an unacknowledged result this often (default 3000)\n"
        "  --grace-ms MS            SIGTERM -> SIGKILL delay when stopping a trainer\n"
        "                           (default 5000)\n"
        "  --state-dir DIR          keep unacknowledged results in DIR/spool and send them\n"
        "                           again after a restart (one worker per DIR; without\n"
        "                           --id the worker's id is kept there too)\n"
        "  --allow-command PATTERN  allow command trainers whose argv[0] matches this glob\n"
        "                           (fnmatch); repeatable; none allowed by default\n"
        "  --curve-secret FILE      this worker's secret certificate (NAME.key_secret from\n"
        "                           'sweepd keygen NAME'; its NAME.key goes into the\n"
        "                           coordinator's --curve-allow directory)\n"
        "  --coordinator-key FILE   the coordinator's public certificate; the worker talks\n"
        "                           only to the holder of that key. Both or neither\n"
        "  --insecure               allow plaintext to an endpoint on another host (without\n"
        "                           it a non-loopback tcp endpoint needs CURVE)\n"
        "  --exit-with-parent       stop when the parent process dies\n"
        "  --log-level LEVEL        error, warn, notice (default), info or debug\n"
        "  -h, --help               show this help\n\n"
        "SIGINT or SIGTERM stops taking work, hands running trials back at once (BYE) and\n"
        "stops their process groups (SIGTERM, grace period, SIGKILL); a second signal\n"
        "kills them at once.\n"
        "exit status: 0 stopped normally, 1 runtime failure, 2 usage error\n");
}

static int s_parse_long(const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static void s_close_ctx_handles(s_ctx_t *ctx)
{
    uv_close((uv_handle_t *)&ctx->sigint, NULL);
    uv_close((uv_handle_t *)&ctx->sigterm, NULL);
    if (ctx->parent_timer_on)
        uv_close((uv_handle_t *)&ctx->parent_timer, NULL);
}

static void s_done_cb(wrk_t *wrk, void *arg)
{
    (void)wrk;
    s_close_ctx_handles(arg);
}

static void s_signal_cb(uv_signal_t *handle, int signum)
{
    s_ctx_t *ctx = handle->data;
    const char *why = signum == SIGINT ? "signal SIGINT" : "signal SIGTERM";
    if (ctx->signals++ == 0)
        wrk_stop(ctx->wrk, why);
    else
        wrk_kill(ctx->wrk, why);
}

static void s_parent_cb(uv_timer_t *timer)
{
    s_ctx_t *ctx = timer->data;
    if (getppid() != ctx->parent) {
        sw_log_notice("parent process exited, stopping");
        uv_timer_stop(timer);
        wrk_stop(ctx->wrk, "parent exited");
    }
}

int cli_cmd_worker(int argc, char **argv)
{
    enum { OPT_CONNECT = 256, OPT_SLOTS, OPT_ID, OPT_HEARTBEAT, OPT_ALLOW, OPT_PARENT, OPT_LOG,
           OPT_LIVENESS, OPT_RMIN, OPT_RMAX, OPT_RESEND, OPT_GRACE, OPT_STATE,
           OPT_CURVE_SECRET, OPT_COORD_KEY, OPT_INSECURE };
    static const struct option longopts[] = {
        {"connect", required_argument, NULL, OPT_CONNECT},
        {"slots", required_argument, NULL, OPT_SLOTS},
        {"id", required_argument, NULL, OPT_ID},
        {"heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT},
        {"allow-command", required_argument, NULL, OPT_ALLOW},
        {"exit-with-parent", no_argument, NULL, OPT_PARENT},
        {"log-level", required_argument, NULL, OPT_LOG},
        {"liveness", required_argument, NULL, OPT_LIVENESS},
        {"reconnect-min-ms", required_argument, NULL, OPT_RMIN},
        {"reconnect-max-ms", required_argument, NULL, OPT_RMAX},
        {"result-resend-ms", required_argument, NULL, OPT_RESEND},
        {"grace-ms", required_argument, NULL, OPT_GRACE},
        {"state-dir", required_argument, NULL, OPT_STATE},
        {"curve-secret", required_argument, NULL, OPT_CURVE_SECRET},
        {"coordinator-key", required_argument, NULL, OPT_COORD_KEY},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    wrk_config_t cfg = {.slots = 1};
    bool exit_with_parent = false, insecure = false;
    const char *curve_secret = NULL, *coord_key = NULL;
    zcert_t *cert = NULL, *server = NULL;
    const char **allow = calloc((size_t)argc + 1, sizeof *allow);
    int n_allow = 0;
    long v;
    if (!allow)
        return CLI_EXIT_FAILURE;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CONNECT: cfg.endpoint = optarg; break;
        case OPT_ID: cfg.worker_id = optarg; break;
        case OPT_ALLOW: allow[n_allow++] = optarg; break;
        case OPT_PARENT: exit_with_parent = true; break;
        case OPT_SLOTS:
            if (s_parse_long(optarg, 1, 4096, &v)) {
                fprintf(stderr, "sweepd worker: --slots: '%s' is not an integer in 1..4096\n", optarg);
                goto usage;
            }
            cfg.slots = (int)v;
            break;
        case OPT_HEARTBEAT:
            if (s_parse_long(optarg, 10, 3600000, &v)) {
                fprintf(stderr, "sweepd worker: --heartbeat-ms: '%s' is not an integer in "
                                "10..3600000\n", optarg);
                goto usage;
            }
            cfg.heartbeat_ms = (uint64_t)v;
            break;
        case OPT_STATE: cfg.state_dir = optarg; break;
        case OPT_CURVE_SECRET: curve_secret = optarg; break;
        case OPT_COORD_KEY: coord_key = optarg; break;
        case OPT_INSECURE: insecure = true; break;
        case OPT_LIVENESS:
            if (s_parse_long(optarg, 1, 1000, &v)) {
                fprintf(stderr, "sweepd worker: --liveness: '%s' is not an integer in 1..1000\n", optarg);
                goto usage;
            }
            cfg.liveness = (int)v;
            break;
        case OPT_RMIN:
        case OPT_RMAX:
        case OPT_RESEND:
        case OPT_GRACE:
            if (s_parse_long(optarg, 1, 86400000, &v)) {
                fprintf(stderr, "sweepd worker: --%s: '%s' is not an integer in 1..86400000\n",
                        c == OPT_RMIN ? "reconnect-min-ms" : c == OPT_RMAX ? "reconnect-max-ms"
                        : c == OPT_RESEND ? "result-resend-ms" : "grace-ms", optarg);
                goto usage;
            }
            if (c == OPT_RMIN) cfg.reconnect_min_ms = (uint64_t)v;
            else if (c == OPT_RMAX) cfg.reconnect_max_ms = (uint64_t)v;
            else if (c == OPT_RESEND) cfg.result_resend_ms = (uint64_t)v;
            else cfg.grace_ms = (uint64_t)v;
            break;
        case OPT_LOG: {
            sw_log_level_t level;
            if (cli_parse_log_level(optarg, &level)) {
                fprintf(stderr, "sweepd worker: --log-level: unknown level '%s'\n", optarg);
                goto usage;
            }
            sw_log_set_level(level);
            break;
        }
        case 'h':
            s_usage(stdout);
            free(allow);
            return CLI_EXIT_OK;
        default:
            if (optopt)
                fprintf(stderr, "sweepd worker: option '%s' needs a value\n", argv[optind - 1]);
            else
                fprintf(stderr, "sweepd worker: unknown option '%s'\n", argv[optind - 1]);
            goto usage;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sweepd worker: unexpected argument '%s'\n", argv[optind]);
        goto usage;
    }
    if (!cfg.endpoint) {
        fprintf(stderr, "sweepd worker: --connect ENDPOINT is required\n");
        goto usage;
    }
    if (!curve_secret != !coord_key) {
        fprintf(stderr, "sweepd worker: --curve-secret and --coordinator-key go together: "
                "give both (CURVE) or neither\n");
        goto usage;
    }
    if (curve_secret) {
        cert = cli_load_cert("worker", "--curve-secret", curve_secret, true);
        server = cert ? cli_load_cert("worker", "--coordinator-key", coord_key, false) : NULL;
        if (!server)
            goto usage;
        cfg.curve_public_key = zcert_public_txt(cert);
        cfg.curve_secret_key = zcert_secret_txt(cert);
        cfg.coordinator_key = zcert_public_txt(server);
    }
    cfg.allow_commands = allow;
    cfg.self_exe = cli_self_exe();

    char ident[96];
    snprintf(ident, sizeof ident, "sweepd worker%s%.80s", cfg.worker_id ? " " : "",
             cfg.worker_id ? cfg.worker_id : "");
    sw_log_set_ident(ident);
    if (cli_check_endpoint("worker", cfg.endpoint, false, curve_secret != NULL, insecure,
                           "--curve-secret FILE and --coordinator-key FILE"))
        goto usage;
    signal(SIGPIPE, SIG_IGN);

    s_ctx_t ctx = {0};
    ctx.parent = getppid();
    if (exit_with_parent && prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
        sw_log_warn("cannot ask for a signal when the parent exits: %s", strerror(errno));

    uv_loop_t loop;
    if (uv_loop_init(&loop)) {
        free(allow);
        zcert_destroy(&cert);
        zcert_destroy(&server);
        return CLI_EXIT_FAILURE;
    }
    int status = CLI_EXIT_OK;
    ctx.wrk = wrk_new(&loop, &cfg);
    if (!ctx.wrk) {
        sw_log_error("cannot create the worker: out of memory");
        status = CLI_EXIT_FAILURE;
        goto close_loop;
    }
    uv_signal_init(&loop, &ctx.sigint);
    uv_signal_init(&loop, &ctx.sigterm);
    ctx.sigint.data = ctx.sigterm.data = &ctx;
    uv_signal_start(&ctx.sigint, s_signal_cb, SIGINT);
    uv_signal_start(&ctx.sigterm, s_signal_cb, SIGTERM);
    if (exit_with_parent) {
        uv_timer_init(&loop, &ctx.parent_timer);
        ctx.parent_timer.data = &ctx;
        ctx.parent_timer_on = true;
        uv_timer_start(&ctx.parent_timer, s_parent_cb, 0, PARENT_CHECK_MS);
    }
    int rc = wrk_start(ctx.wrk, s_done_cb, &ctx);
    if (rc) {
        sw_log_error("cannot start the worker endpoint=%s: %s", cfg.endpoint, sw_strerror(rc));
        s_close_ctx_handles(&ctx);
        status = CLI_EXIT_FAILURE;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    wrk_destroy(&ctx.wrk);
close_loop:
    if (uv_loop_close(&loop))
        sw_log_warn("event loop closed with handles still open");
    free(allow);
    zcert_destroy(&cert);
    zcert_destroy(&server);
    return status;

usage:
    free(allow);
    zcert_destroy(&cert);
    zcert_destroy(&server);
    fprintf(stderr, "try 'sweepd worker --help'\n");
    return CLI_EXIT_USAGE;
}
