/*  cmd_coordinator.c - `sweepd coordinator`: serve sweeps to workers over ZeroMQ
 *
 *  Loads and validates every SPEC given (printing every error, exit 2, before the
 *  database is touched), opens the store, adds the sweeps, and runs the coordinator on
 *  the default libuv loop until SIGINT/SIGTERM (commit and exit 0; workers are not
 *  told, they reconnect to the next coordinator) or, with --exit-when-done, until every
 *  sweep is final (workers get SHUTDOWN).
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <uv.h>

#include "cli/cli.h"
#include "common/sw_log.h"
#include "common/sw_spec.h"
#include "coordinator/coord.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd coordinator --bind ENDPOINT --db FILE [--lease-ms MS]\n"
            "                          [--heartbeat-ms MS] [--exit-when-done]\n"
            "                          [--curve-secret FILE --curve-allow DIR\n"
            "                           [--curve-allow-ops DIR] | --insecure]\n"
            "                          [--log-level LEVEL] [SPEC.json ...]\n\n"
            "Serve sweeps to workers. Every SPEC is validated first (all errors printed);\n"
            "a sweep whose name exists in FILE is resumed when its spec is the same\n"
            "(limits may change) and refused when it differs.\n\n"
            "  --bind ENDPOINT     ZeroMQ endpoint to bind, e.g. tcp://*:5555\n"
            "  --db FILE           SQLite trial database (created when missing)\n"
            "  --lease-ms MS       a silent worker is lost after MS ms (default 10000; at\n"
            "                      least 3 heartbeats, 5 or more recommended)\n"
            "  --heartbeat-ms MS   heartbeat interval sent to workers (default 1000)\n"
            "  --exit-when-done    when every sweep is final, tell workers to exit, exit 0\n"
            "  --curve-secret FILE this coordinator's secret certificate (NAME.key_secret from\n"
            "                      'sweepd keygen NAME'): workers and status clients must\n"
            "                      use CURVE and this coordinator's public key\n"
            "  --curve-allow DIR   directory of the public certificates (NAME.key) of the\n"
            "                      workers and status clients let in; files added later are\n"
            "                      picked up at the next connection. Both or neither.\n"
            "                      Without --curve-allow-ops every such key may also\n"
            "                      submit, cancel and resume sweeps (a notice says so)\n"
            "  --curve-allow-ops DIR  directory of the public certificates of the operators'\n"
            "                      keys: let in too, and the only keys that may submit,\n"
            "                      cancel and resume sweeps (the others may run trials\n"
            "                      and read status; their requests get 'permission\n"
            "                      denied'); read again like --curve-allow\n"
            "  --insecure          allow plaintext on an endpoint other hosts can reach\n"
            "                      (without it a non-loopback tcp endpoint needs CURVE)\n"
            "  --debug-drop-acks N test facility: record the first N results but do not\n"
            "                      acknowledge them (workers re-send; see docs/OPERATIONS.md)\n"
            "  --log-level LEVEL   error, warn, notice (default), info, debug\n\n"
            "exit status: 0 done or stopped by a signal, 1 runtime failure, 2 usage or bad spec\n");
}

typedef struct {
    coord_t *coord;
    uv_signal_t sigint, sigterm;
    int status;
    bool stopping;
} run_t;

static void s_closed(void *arg)
{
    run_t *r = arg;
    uv_close((uv_handle_t *)&r->sigint, NULL);
    uv_close((uv_handle_t *)&r->sigterm, NULL);
}

static void s_stop(run_t *r)
{
    if (r->stopping)
        return;
    r->stopping = true;
    if (coord_failed(r->coord))
        r->status = CLI_EXIT_FAILURE;
    coord_close(r->coord, s_closed, r);
}

static void s_signal_cb(uv_signal_t *h, int signum)
{
    run_t *r = h->data;
    sw_log_notice("signal %d, committing and exiting", signum);
    s_stop(r);
}

static void s_done_cb(coord_t *coord, void *arg)
{
    run_t *r = arg;
    if (coord_failed(coord)) {
        r->status = CLI_EXIT_FAILURE;
        s_stop(r);
    }
}

static void s_done_exit_cb(coord_t *coord, void *arg)
{
    run_t *r = arg;
    if (coord_failed(coord))
        r->status = CLI_EXIT_FAILURE;
    s_stop(r);
}

int cli_cmd_coordinator(int argc, char **argv)
{
    static const struct option opts[] = {
        {"bind", required_argument, NULL, 'b'},
        {"db", required_argument, NULL, 'd'},
        {"lease-ms", required_argument, NULL, 'l'},
        {"heartbeat-ms", required_argument, NULL, 'H'},
        {"exit-when-done", no_argument, NULL, 'x'},
        {"debug-drop-acks", required_argument, NULL, 'D'},
        {"log-level", required_argument, NULL, 'L'},
        {"curve-secret", required_argument, NULL, 'S'},
        {"curve-allow", required_argument, NULL, 'A'},
        {"curve-allow-ops", required_argument, NULL, 'O'},
        {"insecure", no_argument, NULL, 'I'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    coord_options_t o = {0};
    sw_log_level_t level = SW_LOG_NOTICE;
    const char *curve_secret = NULL, *curve_allow = NULL, *curve_ops = NULL;
    bool insecure = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:d:l:H:xD:L:S:A:O:Ih", opts, NULL)) != -1) {
        switch (c) {
        case 'b': o.endpoint = optarg; break;
        case 'd': o.db_path = optarg; break;
        case 'l':
            if (cli_parse_ms(optarg, &o.lease_ms)) {
                fprintf(stderr, "sweepd coordinator: --lease-ms: '%s' is not a positive number of ms\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'H':
            if (cli_parse_ms(optarg, &o.heartbeat_ms)) {
                fprintf(stderr, "sweepd coordinator: --heartbeat-ms: '%s' is not a positive number of ms\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'x': o.exit_when_done = true; break;
        case 'D': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 0 || v > 1000000) {
                fprintf(stderr, "sweepd coordinator: --debug-drop-acks: '%s' is not an integer in 0..1000000\n", optarg);
                return CLI_EXIT_USAGE;
            }
            o.debug_drop_acks = (int)v;
            break;
        }
        case 'L':
            if (cli_parse_log_level(optarg, &level)) {
                fprintf(stderr, "sweepd coordinator: --log-level: unknown level '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'S': curve_secret = optarg; break;
        case 'A': curve_allow = optarg; break;
        case 'O': curve_ops = optarg; break;
        case 'I': insecure = true; break;
        case 'h': s_usage(stdout); return CLI_EXIT_OK;
        default: s_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (!o.endpoint || !o.db_path) {
        fprintf(stderr, "sweepd coordinator: --bind and --db are required\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    char why[256];
    if (coord_options_check(&o, why, sizeof why)) {
        fprintf(stderr, "sweepd coordinator: %s\n", why);
        return CLI_EXIT_USAGE;
    }
    sw_log_set_level(level);
    sw_log_set_ident("coordinator");
    if (!curve_secret != !curve_allow) {
        fprintf(stderr, "sweepd coordinator: --curve-secret and --curve-allow go together: "
                "give both (CURVE) or neither\n");
        return CLI_EXIT_USAGE;
    }
    if (curve_ops && !curve_secret) {
        fprintf(stderr, "sweepd coordinator: --curve-allow-ops needs --curve-secret and "
                "--curve-allow (CURVE)\n");
        return CLI_EXIT_USAGE;
    }
    if (cli_check_endpoint("coordinator", o.endpoint, true, curve_secret != NULL, insecure,
                           "--curve-secret FILE and --curve-allow DIR"))
        return CLI_EXIT_USAGE;
    zcert_t *cert = NULL;
    if (curve_secret) {
        struct stat st;
        if (stat(curve_allow, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "sweepd coordinator: --curve-allow: '%s' is not a directory\n",
                    curve_allow);
            return CLI_EXIT_USAGE;
        }
        if (curve_ops && (stat(curve_ops, &st) != 0 || !S_ISDIR(st.st_mode))) {
            fprintf(stderr, "sweepd coordinator: --curve-allow-ops: '%s' is not a directory\n",
                    curve_ops);
            return CLI_EXIT_USAGE;
        }
        cert = cli_load_cert("coordinator", "--curve-secret", curve_secret, true);
        if (!cert)
            return CLI_EXIT_USAGE;
        o.curve_public_key = zcert_public_txt(cert);
        o.curve_secret_key = zcert_secret_txt(cert);
        o.curve_allow_dir = curve_allow;
        o.curve_ops_dir = curve_ops;
    }

    /* every spec first: nothing touches the database unless all are valid */
    int n_specs = argc - optind;
    sw_spec_t **specs = calloc((size_t)(n_specs > 0 ? n_specs : 1), sizeof *specs);
    if (!specs) {
        zcert_destroy(&cert);
        return CLI_EXIT_FAILURE;
    }
    int bad = 0;
    for (int i = 0; i < n_specs; i++) {
        sw_errs_t errs = {0};
        specs[i] = sw_spec_load(argv[optind + i], &errs);
        if (!specs[i]) {
            bad++;
            for (size_t k = 0; k < errs.count; k++)
                fprintf(stderr, "%s\n", errs.items[k]);
        }
        sw_errs_clear(&errs);
    }
    int status = CLI_EXIT_OK;
    if (bad) {
        status = CLI_EXIT_USAGE;
        goto out;
    }

    uv_loop_t *loop = uv_default_loop();
    int err = 0;
    run_t r = {.status = CLI_EXIT_OK};
    r.coord = coord_new(loop, &o, &err);
    if (!r.coord) {
        /* the store logged why (another coordinator serves the file, no such directory,
         * permission denied, ...) */
        fprintf(stderr, "sweepd coordinator: cannot start on %s: %s\n", o.db_path,
                err == SW_ESTATE ? "the database is in use by another coordinator"
                : err == SW_EDB ? "cannot open the database (see above)" : sw_strerror(err));
        status = CLI_EXIT_FAILURE;
        goto out;
    }
    for (int i = 0; i < n_specs; i++) {
        sw_errs_t errs = {0};
        const char *name = specs[i]->name;
        char *name_copy = strdup(name);
        int rc = coord_add_sweep(r.coord, &specs[i], &errs);
        if (rc) {
            if (rc == SW_ECHANGED) {
                fprintf(stderr, "sweepd coordinator: sweep '%s' refused: the database holds a "
                        "sweep of that name with a different spec\n", name_copy);
                for (size_t k = 0; k < errs.count; k++)
                    fprintf(stderr, "  changed: %s\n", errs.items[k]);
                fprintf(stderr, "  choose a new name for a different sweep\n");
            } else if (errs.count) {
                for (size_t k = 0; k < errs.count; k++)
                    fprintf(stderr, "sweepd coordinator: sweep '%s' refused: %s\n", name_copy,
                            errs.items[k]);
            } else {
                fprintf(stderr, "sweepd coordinator: sweep '%s' refused: %s\n", name_copy,
                        sw_strerror(rc));
            }
            status = rc == SW_ECHANGED || rc == SW_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
        }
        free(name_copy);
        sw_errs_clear(&errs);
    }
    if (status != CLI_EXIT_OK) {
        coord_close(r.coord, NULL, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        uv_loop_close(loop);
        goto out;
    }
    coord_set_done_cb(r.coord, o.exit_when_done ? s_done_exit_cb : s_done_cb, &r);
    uv_signal_init(loop, &r.sigint);
    uv_signal_init(loop, &r.sigterm);
    r.sigint.data = r.sigterm.data = &r;
    uv_signal_start(&r.sigint, s_signal_cb, SIGINT);
    uv_signal_start(&r.sigterm, s_signal_cb, SIGTERM);
    int rc = coord_start(r.coord);
    if (rc) {
        fprintf(stderr, "sweepd coordinator: cannot watch the socket: %s\n", uv_strerror(rc));
        r.status = CLI_EXIT_FAILURE;
        s_stop(&r);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop))
        sw_log_warn("event loop closed with handles still open");
    status = r.status;
out:
    for (int i = 0; i < n_specs; i++)
        sw_spec_destroy(&specs[i]);
    free(specs);
    zcert_destroy(&cert);
    return status;
}
