/*  cmd_run.c - `sweepd run`: a coordinator and N local workers, one command
 *
 *  The embedded default for one machine. It validates the spec, opens (or resumes)
 *  the sweep in the database, serves it from an in-process coordinator on a private
 *  ipc:// endpoint, and starts N `sweepd worker` processes against it (each with
 *  --exit-with-parent, so none outlives this process). On a terminal it keeps one
 *  progress line up to date: trials done/total, best so far, rate. When the sweep is
 *  final it prints the best trial: number, parameters, mean +- std of the objective
 *  over the folds.
 *
 *  Interrupting (SIGINT, SIGTERM) stops the workers (they hand their attempts back),
 *  commits and exits 130; running the same command again resumes the sweep: finished
 *  trials are kept, unfinished ones run again. A SIGKILL loses nothing committed
 *  either: the next run finds RUNNING attempts in the store and requeues them once
 *  their lease has expired.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "cli/cli.h"
#include "common/sw_clock.h"
#include "common/sw_log.h"
#include "common/sw_spec.h"
#include "coordinator/coord.h"

#define S_MAX_WORKERS 256

typedef struct run_s run_t;

typedef struct {
    uv_process_t proc;
    run_t *run;
    int index;
    bool spawned;           /* uv_spawn succeeded: handle needs uv_close */
    bool exited;
} run_worker_t;

struct run_s {
    uv_loop_t *loop;
    coord_t *coord;
    char *sweep;                    /* sweep name */
    char *metric;                   /* objective metric name */
    run_worker_t workers[S_MAX_WORKERS];
    int n_workers;
    int n_alive;
    uv_signal_t sigint, sigterm;
    uv_timer_t grace;               /* bounds how long we wait for workers to exit */
    bool interrupted;
    bool finished;                  /* done callback ran */
    bool closing;
    bool coord_closing;             /* coord_close() called */
    bool coord_closed;
    bool progress_shown;
    bool tty;
    bool quiet;
    uint64_t last_progress_ms;
    cJSON *final_status;            /* status document taken at the end (owned) */
};

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd run SPEC.json [--workers N] [--slots N] [--db FILE]\n"
            "                  [--lease-ms MS] [--heartbeat-ms MS] [--quiet] [--log-level LEVEL]\n\n"
            "Run a sweep on this machine: an in-process coordinator and N local worker\n"
            "processes. Prints a progress line on a terminal and, at the end, the best trial.\n"
            "Running the same command again with the same --db resumes the sweep: finished\n"
            "trials are kept, unfinished ones run again.\n\n"
            "options:\n"
            "  --workers N        worker processes (default: the number of CPUs)\n"
            "  --slots N          trials each worker runs at once (default 1)\n"
            "  --db FILE          trial database (default: NAME.db, NAME the sweep's name)\n"
            "  --lease-ms MS      a silent worker's attempts are requeued after MS (default 10000)\n"
            "  --heartbeat-ms MS  heartbeat interval (default 1000)\n"
            "  --quiet            no progress line\n"
            "  --log-level LEVEL  error, warn (default here), notice, info, debug\n\n"
            "A command trainer's program (argv[0]) is allowed on these local workers.\n"
            "exit status: 0 the sweep is complete, 1 it failed or could not run,\n"
            "2 usage error or invalid spec, 130 interrupted (resume with the same command)\n");
}

static void s_maybe_finish(run_t *run);

static void s_coord_closed_cb(void *arg)
{
    run_t *run = arg;
    run->coord_closed = true;
    run->coord = NULL;
    s_maybe_finish(run);
}

static void s_handle_closed_cb(uv_handle_t *h)
{
    (void)h;
}

static void s_close_handles(run_t *run)
{
    if (!uv_is_closing((uv_handle_t *)&run->sigint)) {
        uv_close((uv_handle_t *)&run->sigint, s_handle_closed_cb);
        uv_close((uv_handle_t *)&run->sigterm, s_handle_closed_cb);
        uv_close((uv_handle_t *)&run->grace, s_handle_closed_cb);
    }
}

/* Everything is closed or closing: stop the timers and signals so uv_run returns. */
static void s_maybe_finish(run_t *run)
{
    if (run->n_alive > 0 || !run->coord_closed)
        return;
    s_close_handles(run);
}

static void s_kill_workers(run_t *run, int signum)
{
    for (int i = 0; i < run->n_workers; i++)
        if (run->workers[i].spawned && !run->workers[i].exited)
            uv_process_kill(&run->workers[i].proc, signum);
}

static void s_grace_cb(uv_timer_t *t)
{
    run_t *run = t->data;
    sw_log_warn("workers did not exit in time; killing them");
    s_kill_workers(run, SIGKILL);
}

static void s_close_coord(run_t *run)
{
    if (run->coord_closing)
        return;
    run->coord_closing = true;
    if (run->coord && !run->finished) {
        /* interrupted: report what the store holds now, hand-backs included */
        int err = 0;
        cJSON_Delete(run->final_status);
        run->final_status = coord_status(run->coord, run->sweep, &err);
    }
    if (run->coord)
        coord_close(run->coord, s_coord_closed_cb, run);
    else
        s_coord_closed_cb(run);
}

/* Begin the end. With STOP_WORKERS the workers get SIGTERM first and the coordinator
 * stays up until they are gone, so that their BYE (the attempts they hand back) is
 * recorded and a resumed run neither waits for a lease nor counts a retry. */
static void s_shutdown(run_t *run, bool stop_workers)
{
    if (run->closing)
        return;
    run->closing = true;
    uv_timer_start(&run->grace, s_grace_cb, 10000, 0);
    if (stop_workers && run->n_alive > 0)
        s_kill_workers(run, SIGTERM);
    else
        s_close_coord(run);
}

static void s_clear_progress(run_t *run)
{
    if (run->progress_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        run->progress_shown = false;
    }
}

static void s_progress_cb(coord_t *coord, const coord_progress_t *p, void *arg)
{
    (void)coord;
    run_t *run = arg;
    if (run->quiet || !run->tty)
        return;
    uint64_t now = sw_clock_mono_ms();
    bool last = p->planned >= 0 && p->done >= p->planned;
    if (!last && now - run->last_progress_ms < 100)
        return;
    run->last_progress_ms = now;
    char total[32], best[64];
    if (p->planned >= 0)
        snprintf(total, sizeof total, "%lld", (long long)p->planned);
    else
        snprintf(total, sizeof total, "?");
    if (isfinite(p->best_value))
        snprintf(best, sizeof best, "best %s %.4f (#%lld)", run->metric, p->best_value,
                 (long long)p->best_number);
    else
        snprintf(best, sizeof best, "best -");
    fprintf(stderr, "\r\033[K[%s] %lld/%s trials  %lld running  %lld failed  %s  %.1f trials/min",
            p->sweep, (long long)p->done, total, (long long)p->running, (long long)p->failed,
            best, p->trials_per_min);
    fflush(stderr);
    run->progress_shown = true;
}

static void s_done_cb(coord_t *coord, void *arg)
{
    run_t *run = arg;
    int err = 0;
    run->finished = true;
    cJSON_Delete(run->final_status);
    run->final_status = coord_status(coord, run->sweep, &err);
    /* exit_when_done: the workers were sent SHUTDOWN and exit by themselves */
    s_shutdown(run, false);
}

static void s_signal_cb(uv_signal_t *sig, int signum)
{
    run_t *run = sig->data;
    s_clear_progress(run);
    if (run->closing) {
        sw_log_warn("second signal: killing workers");
        s_kill_workers(run, SIGKILL);
        return;
    }
    run->interrupted = true;
    fprintf(stderr, "sweepd run: %s: stopping the workers; their trials are handed back\n",
            signum == SIGINT ? "interrupted" : "terminated");
    s_shutdown(run, true);
}

static void s_worker_exit_cb(uv_process_t *proc, int64_t status, int term_signal)
{
    run_worker_t *w = proc->data;
    run_t *run = w->run;
    w->exited = true;
    run->n_alive--;
    if (!run->closing && (status != 0 || term_signal != 0)) {
        s_clear_progress(run);
        sw_log_warn("local worker %d exited (status %lld, signal %d)", w->index,
                    (long long)status, term_signal);
    }
    uv_close((uv_handle_t *)proc, s_handle_closed_cb);
    if (run->n_alive == 0) {
        if (!run->closing) {
            s_clear_progress(run);
            sw_log_error("every local worker exited before the sweep was done");
            s_shutdown(run, false);
        } else {
            s_close_coord(run);
        }
    }
    s_maybe_finish(run);
}

static int s_spawn_worker(run_t *run, int index, const char *endpoint, int slots,
                          uint64_t heartbeat_ms, const char *log_level, const char *allow)
{
    run_worker_t *w = &run->workers[index];
    char id[32], slots_s[16], hb[32];
    snprintf(id, sizeof id, "local-%d", index + 1);
    snprintf(slots_s, sizeof slots_s, "%d", slots);
    snprintf(hb, sizeof hb, "%llu", (unsigned long long)heartbeat_ms);
    char *args[20];
    int n = 0;
    args[n++] = (char *)cli_self_exe();
    args[n++] = (char *)"worker";
    args[n++] = (char *)"--connect";
    args[n++] = (char *)endpoint;
    args[n++] = (char *)"--id";
    args[n++] = id;
    args[n++] = (char *)"--slots";
    args[n++] = slots_s;
    args[n++] = (char *)"--exit-with-parent";
    args[n++] = (char *)"--log-level";
    args[n++] = (char *)log_level;
    if (heartbeat_ms) {
        args[n++] = (char *)"--heartbeat-ms";
        args[n++] = hb;
    }
    if (allow) {
        args[n++] = (char *)"--allow-command";
        args[n++] = (char *)allow;
    }
    args[n] = NULL;

    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = 2},   /* worker output goes to our stderr */
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t opts = {
        .exit_cb = s_worker_exit_cb,
        .file = args[0],
        .args = args,
        .stdio_count = 3,
        .stdio = stdio,
    };
    w->run = run;
    w->index = index + 1;
    w->proc.data = w;
    int rc = uv_spawn(run->loop, &w->proc, &opts);
    if (rc < 0) {
        /* libuv: the handle must be closed even when spawn fails */
        uv_close((uv_handle_t *)&w->proc, s_handle_closed_cb);
        sw_log_error("cannot start local worker %d: %s", index + 1, uv_strerror(rc));
        return rc;
    }
    w->spawned = true;
    run->n_alive++;
    return 0;
}

static void s_print_value(FILE *out, const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    fputs(s ? s : "?", out);
    free(s);
}

/* Print the end-of-run summary from the status document; returns the exit status. */
static int s_report(run_t *run)
{
    const cJSON *sweeps = cJSON_GetObjectItemCaseSensitive(run->final_status, "sweeps");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(sweeps, run->sweep);
    if (!s) {
        fprintf(stderr, "sweepd run: no status for sweep '%s'\n", run->sweep);
        return CLI_EXIT_FAILURE;
    }
    const char *state = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "state"));
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(s, "trials");
    printf("sweep %s: %s", run->sweep, state ? state : "?");
    const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "reason"));
    if (reason)
        printf(" (%s)", reason);
    printf("\ntrials:");
    static const char *states[] = {"COMPLETE", "PRUNED", "FAILED", "RUNNING", "PENDING", "CANCELLED"};
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(trials, states[i]);
        if (cJSON_IsNumber(c))
            printf(" %s %.0f", states[i], c->valuedouble);
    }
    printf("\n");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(s, "best");
    if (cJSON_IsObject(best)) {
        const cJSON *num = cJSON_GetObjectItemCaseSensitive(best, "number");
        const cJSON *val = cJSON_GetObjectItemCaseSensitive(best, "value");
        const cJSON *std = cJSON_GetObjectItemCaseSensitive(best, "value_std");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(best, "params");
        printf("best trial #%.0f: %s = %.4f", num ? num->valuedouble : -1.0, run->metric,
               cJSON_IsNumber(val) ? val->valuedouble : NAN);
        if (cJSON_IsNumber(std))
            printf(" +- %.4f", std->valuedouble);
        printf("\n");
        const cJSON *p;
        cJSON_ArrayForEach(p, params) {
            printf("  %s = ", p->string);
            s_print_value(stdout, p);
            printf("\n");
        }
    } else {
        printf("best trial: none\n");
    }
    if (run->interrupted) {
        printf("interrupted: run the same command again to resume (finished trials are kept)\n");
        return 130;
    }
    if (state && !strcmp(state, "COMPLETE"))
        return CLI_EXIT_OK;
    return CLI_EXIT_FAILURE;
}

int cli_cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"workers", required_argument, NULL, 'w'},
        {"slots", required_argument, NULL, 's'},
        {"db", required_argument, NULL, 'd'},
        {"lease-ms", required_argument, NULL, 'l'},
        {"heartbeat-ms", required_argument, NULL, 'b'},
        {"quiet", no_argument, NULL, 'q'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long n_workers = sysconf(_SC_NPROCESSORS_ONLN);
    long slots = 1;
    const char *db_arg = NULL, *log_level = "warn";
    uint64_t lease_ms = 0, heartbeat_ms = 0;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hqw:s:d:", opts, NULL)) != -1) {
        char *end = NULL;
        errno = 0;
        switch (c) {
        case 'w':
            n_workers = strtol(optarg, &end, 10);
            if (*end || n_workers < 1 || n_workers > S_MAX_WORKERS) {
                fprintf(stderr, "sweepd run: --workers: expected 1..%d, got '%s'\n", S_MAX_WORKERS, optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 's':
            slots = strtol(optarg, &end, 10);
            if (*end || slots < 1 || slots > 1024) {
                fprintf(stderr, "sweepd run: --slots: expected 1..1024, got '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'd':
            db_arg = optarg;
            break;
        case 'l':
        case 'b':
            if (cli_parse_ms(optarg, c == 'l' ? &lease_ms : &heartbeat_ms) < 0) {
                fprintf(stderr, "sweepd run: --%s: expected milliseconds (1..86400000), got '%s'\n",
                        c == 'l' ? "lease-ms" : "heartbeat-ms", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'q':
            quiet = true;
            break;
        case 'L': {
            sw_log_level_t level;
            if (cli_parse_log_level(optarg, &level) < 0) {
                fprintf(stderr, "sweepd run: --log-level: unknown level '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            sw_log_set_level(level);
            log_level = optarg;
            break;
        }
        case 'h':
            s_usage(stdout);
            return CLI_EXIT_OK;
        default:
            s_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    {
        /* a lease shorter than a few heartbeats makes every worker look lost */
        coord_options_t check = {.lease_ms = lease_ms, .heartbeat_ms = heartbeat_ms};
        char why[256];
        if (coord_options_check(&check, why, sizeof why) < 0) {
            fprintf(stderr, "sweepd run: %s\n", why);
            return CLI_EXIT_USAGE;
        }
    }
    if (!strcmp(log_level, "warn"))
        sw_log_set_level(SW_LOG_WARN);
    sw_log_set_ident("sweepd run");

    sw_spec_t *spec = cli_load_spec(argv[optind]);
    if (!spec)
        return CLI_EXIT_USAGE;

    int status = CLI_EXIT_FAILURE;
    char *db_path = NULL, *sock_dir = NULL, *endpoint = NULL, *allow = NULL;
    uv_loop_t loop;
    run_t *run = calloc(1, sizeof *run);
    if (!run || uv_loop_init(&loop) < 0) {
        free(run);
        sw_spec_destroy(&spec);
        return CLI_EXIT_FAILURE;
    }
    run->loop = &loop;
    /* initialised first: every exit path below closes them (s_maybe_finish) */
    uv_signal_init(&loop, &run->sigint);
    uv_signal_init(&loop, &run->sigterm);
    uv_timer_init(&loop, &run->grace);
    run->sigint.data = run->sigterm.data = run->grace.data = run;
    run->quiet = quiet;
    run->tty = isatty(STDERR_FILENO);
    run->n_workers = (int)n_workers;
    run->sweep = strdup(spec->name);
    run->metric = strdup(spec->metric);

    if (db_arg)
        db_path = strdup(db_arg);
    else if (asprintf(&db_path, "%s.db", spec->name) < 0)
        db_path = NULL;

    /* A command trainer's program is allowed on our own local workers: the user who
     * runs this command wrote the spec that names it. */
    const cJSON *ttype = cJSON_GetObjectItemCaseSensitive(spec->trainer, "type");
    if (cJSON_IsString(ttype) && !strcmp(ttype->valuestring, "command")) {
        const cJSON *argv0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(spec->trainer, "argv"), 0);
        if (cJSON_IsString(argv0))
            allow = strdup(argv0->valuestring);
    }

    const char *tmp = getenv("TMPDIR");
    if (asprintf(&sock_dir, "%s/sweepd-run-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 || !mkdtemp(sock_dir)) {
        fprintf(stderr, "sweepd run: cannot create a socket directory: %s\n", strerror(errno));
        free(sock_dir);
        sock_dir = NULL;
        goto out_loop;
    }
    if (asprintf(&endpoint, "ipc://%s/coordinator.sock", sock_dir) < 0) {
        endpoint = NULL;
        goto out_loop;
    }

    coord_options_t copts = {
        .endpoint = endpoint,
        .db_path = db_path,
        .lease_ms = lease_ms,
        .heartbeat_ms = heartbeat_ms,
        .exit_when_done = true,
        /* our local workers die with us, so RUNNING attempts found at start have no
         * worker to come back: requeue them at once instead of after a lease */
        .orphans_lost = true,
    };
    int err = 0;
    run->coord = coord_new(&loop, &copts, &err);
    if (!run->coord) {
        if (err == SW_ESTATE)   /* the coordinator logged who holds the database */
            fprintf(stderr, "sweepd run: %s is in use by another coordinator; stop it or use another --db\n",
                    db_path);
        else
            fprintf(stderr, "sweepd run: cannot start the coordinator on %s: %s\n", db_path, sw_strerror(err));
        goto out_loop;
    }
    run->coord_closed = false;
    sw_errs_t errs = {0};
    err = coord_add_sweep(run->coord, &spec, &errs);
    if (err < 0) {
        fprintf(stderr, "sweepd run: cannot serve sweep '%s' from %s: %s\n", run->sweep, db_path,
                sw_strerror(err));
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "  %s\n", errs.items[i]);
        if (err == SW_ECHANGED)
            fprintf(stderr, "  (give the sweep a new name, or use another --db)\n");
        sw_errs_clear(&errs);
        status = err == SW_ECHANGED || err == SW_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
        run->closing = true;
        s_close_coord(run);
        uv_run(&loop, UV_RUN_DEFAULT);
        goto out_loop;
    }
    coord_set_progress_cb(run->coord, s_progress_cb, run);
    coord_set_done_cb(run->coord, s_done_cb, run);

    uv_signal_start(&run->sigint, s_signal_cb, SIGINT);
    uv_signal_start(&run->sigterm, s_signal_cb, SIGTERM);

    if (coord_start(run->coord) < 0) {
        fprintf(stderr, "sweepd run: cannot start serving\n");
        s_shutdown(run, true);
    } else if (!run->closing) {
        for (int i = 0; i < run->n_workers; i++)
            if (s_spawn_worker(run, i, coord_endpoint(run->coord), (int)slots, heartbeat_ms,
                               log_level, allow) < 0) {
                s_shutdown(run, true);
                break;
            }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    s_clear_progress(run);
    if (run->final_status)
        status = s_report(run);
    else if (run->interrupted)
        status = 130;

out_loop:
    s_close_handles(run);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        sw_log_warn("event loop closed with live handles");
    if (sock_dir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/coordinator.sock", sock_dir);
        unlink(path);
        rmdir(sock_dir);
    }
    cJSON_Delete(run->final_status);
    free(run->sweep);
    free(run->metric);
    free(run);
    free(db_path);
    free(sock_dir);
    free(endpoint);
    free(allow);
    sw_spec_destroy(&spec);
    return status;
}
