/*  test_wrk_proc.c - the runner: real /bin/sh trainers reporting on fd 3
 *
 *  Each test writes a small shell trainer to a temporary directory, runs it through
 *  wrk_proc_start on a fresh loop until the attempt's done callback, and checks the
 *  reports and the result. A watchdog timer fails a test that would otherwise hang.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cJSON.h>
#include <uv.h>

#include "worker/wrk_proc.h"

typedef struct {
    uv_loop_t loop;
    uv_timer_t watchdog;
    char *dir;
    int n_reports;
    int64_t steps[16];
    char *report_json[16];
    bool done;
    wrk_proc_state_t state;
    char *error;
    char *kind;
    cJSON *metrics;
    int64_t last_step;
    int exit_status, term_signal;
    char *stdout_tail, *stderr_tail;
    wrk_proc_state_t stop_on_report;   /* COMPLETE = do not stop */
    pid_t pid;
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    fx->dir = test_mkdtemp();
    assert_non_null(fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    for (int i = 0; i < fx->n_reports; i++)
        free(fx->report_json[i]);
    free(fx->error);
    free(fx->kind);
    free(fx->stdout_tail);
    free(fx->stderr_tail);
    cJSON_Delete(fx->metrics);
    test_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

static void s_report_cb(wrk_proc_t *proc, int64_t step, const cJSON *metrics, void *arg)
{
    fx_t *fx = arg;
    assert_true(fx->n_reports < 16);
    fx->steps[fx->n_reports] = step;
    fx->report_json[fx->n_reports++] = cJSON_PrintUnformatted(metrics);
    if (fx->stop_on_report != WRK_PROC_COMPLETE)
        wrk_proc_stop(proc, fx->stop_on_report, NULL);
}

static void s_done_cb(wrk_proc_t *proc, const wrk_proc_result_t *r, void *arg)
{
    fx_t *fx = arg;
    assert_false(fx->done);
    fx->done = true;
    fx->pid = wrk_proc_pid(proc);
    fx->state = r->state;
    fx->error = r->error ? strdup(r->error) : NULL;
    fx->kind = r->kind ? strdup(r->kind) : NULL;
    fx->metrics = r->metrics ? cJSON_Duplicate(r->metrics, 1) : NULL;
    fx->last_step = r->last_step;
    fx->exit_status = r->exit_status;
    fx->term_signal = r->term_signal;
    fx->stdout_tail = strdup(r->stdout_tail);
    fx->stderr_tail = strdup(r->stderr_tail);
    uv_close((uv_handle_t *)&fx->watchdog, NULL);
}

static void s_watchdog_cb(uv_timer_t *t)
{
    (void)t;
    fail_msg("attempt did not end within 20 s");
}

/* Run one attempt: ASSIGN_JSON with "@" replaced by the script path. */
static void s_run(fx_t *fx, const char *script, const char *assign_json, double grace_ms)
{
    char *path = script ? test_write_file(fx->dir, "trainer.sh", script) : strdup("");
    char *text = malloc(strlen(assign_json) + strlen(path) + 1);
    const char *at = strchr(assign_json, '@');
    if (at)
        sprintf(text, "%.*s%s%s", (int)(at - assign_json), assign_json, path, at + 1);
    else
        strcpy(text, assign_json);
    cJSON *assign = cJSON_Parse(text);
    assert_non_null(assign);
    static const char *const allow[] = {"/bin/sh", "/nonexistent/*", NULL};
    wrk_proc_config_t cfg = {.self_exe = "/bin/false", .allow = allow,
                             .grace_ms = (uint64_t)grace_ms};
    uv_timer_init(&fx->loop, &fx->watchdog);
    uv_timer_start(&fx->watchdog, s_watchdog_cb, 20000, 0);
    wrk_proc_t *proc = wrk_proc_start(&fx->loop, &cfg, assign, s_report_cb, s_done_cb, fx);
    assert_non_null(proc);
    cJSON_Delete(assign);
    assert_false(fx->done);     /* never called back from inside start */
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_true(fx->done);
    free(path);
    free(text);
}

#define ASSIGN(extra)                                                                   \
    "{\"attempt\": 41, \"sweep\": \"s\", \"trial\": 7, \"fold\": 2, \"folds\": 3,"      \
    " \"params\": {\"lr\": 0.001, \"name\": \"x y\"},"                                  \
    " \"trainer\": {\"type\": \"command\", \"argv\": [\"/bin/sh\", \"@\"]},"             \
    " \"seed\": 99, \"objective\": \"val_accuracy\"" extra "}"

static void test_good_run(void **state)
{
    fx_t *fx = *state;
    s_run(fx,
          "echo '{\"step\": 1, \"metrics\": {\"val_accuracy\": 0.5, \"val_loss\": 0.9}}' >&3\n"
          "echo '{\"step\": 2, \"metrics\": {\"val_accuracy\": 0.7}}' >&3\n"
          "printf '%s|%s|%s|%s|%s|%s|%s\\n' \"$SWEEPD_PARAMS\" \"$SWEEPD_TRIAL\" \"$SWEEPD_ATTEMPT\""
          " \"$SWEEPD_FOLD\" \"$SWEEPD_SEED\" \"$SWEEPD_REPORT_FD\" \"$OPENBLAS_NUM_THREADS\"\n"
          "echo 'a warning' >&2\n"
          "echo '{\"final\": true, \"metrics\": {\"val_accuracy\": 0.75, \"val_loss\": 0.4}}' >&3\n",
          ASSIGN(), 200);
    assert_int_equal(fx->n_reports, 2);
    assert_int_equal(fx->steps[0], 1);
    assert_int_equal(fx->steps[1], 2);
    assert_string_equal(fx->report_json[0], "{\"val_accuracy\":0.5,\"val_loss\":0.9}");
    assert_string_equal(fx->report_json[1], "{\"val_accuracy\":0.7}");
    assert_int_equal(fx->state, WRK_PROC_COMPLETE);
    assert_null(fx->error);
    assert_null(fx->kind);
    assert_int_equal(fx->last_step, 2);
    assert_int_equal(fx->exit_status, 0);
    char *m = cJSON_PrintUnformatted(fx->metrics);
    assert_string_equal(m, "{\"val_accuracy\":0.75,\"val_loss\":0.4}");
    free(m);
    assert_string_equal(fx->stdout_tail, "{\"lr\":0.001,\"name\":\"x y\"}|7|41|2|99|3|1\n");
    assert_string_equal(fx->stderr_tail, "a warning\n");
    assert_true(fx->pid > 0);
}

static void test_missing_objective(void **state)
{
    fx_t *fx = *state;
    s_run(fx, "echo '{\"final\": true, \"metrics\": {\"val_loss\": 0.4}}' >&3\n", ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "trainer exited without the objective metric 'val_accuracy'");
    assert_string_equal(fx->kind, "trainer");
}

static void test_nan_objective(void **state)
{
    fx_t *fx = *state;
    s_run(fx, "echo '{\"final\": true, \"metrics\": {\"val_accuracy\": NaN, \"x\": -Infinity}}' >&3\n",
          ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "objective 'val_accuracy' is not finite (nan)");
    assert_true(isinf(cJSON_GetObjectItem(fx->metrics, "x")->valuedouble));
}

static void test_exit_status_and_signal(void **state)
{
    fx_t *fx = *state;
    s_run(fx, "echo 'Traceback...' >&2\necho 'ValueError: bad lr' >&2\nexit 3\n", ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "exit status 3 (stderr: ValueError: bad lr)");
    assert_string_equal(fx->kind, "trainer");
    assert_int_equal(fx->exit_status, 3);
}

static void test_killed_by_signal(void **state)
{
    fx_t *fx = *state;
    s_run(fx, "kill -9 $$\n", ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "killed by signal 9");
    assert_int_equal(fx->term_signal, 9);
}

static void test_error_line(void **state)
{
    fx_t *fx = *state;
    s_run(fx, "echo '{\"error\": \"data.csv: row 12, column 3: not a number\"}' >&3\nexit 1\n",
          ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "data.csv: row 12, column 3: not a number");
}

static void test_malformed_line(void **state)
{
    fx_t *fx = *state;
    s_run(fx,
          "echo '{\"step\": 1, \"metrics\": {\"val_accuracy\": 0.5}}' >&3\n"
          "echo '{\"step\": 2, \"metrics\": ' >&3\n"
          "echo '{\"step\": 3, \"metrics\": {\"val_accuracy\": 0.6}}' >&3\n"
          "exec sleep 30\n",
          ASSIGN(), 200);
    assert_int_equal(fx->n_reports, 1);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "malformed report line 2: not valid JSON");
    assert_string_equal(fx->kind, "trainer");
    assert_int_equal(fx->term_signal, SIGTERM);

    free(fx->error);
    free(fx->kind);
    free(fx->stdout_tail);
    free(fx->stderr_tail);
    cJSON_Delete(fx->metrics);
    fx->done = false;
    for (int i = 0; i < fx->n_reports; i++)
        free(fx->report_json[i]);
    fx->n_reports = 0;
    s_run(fx, "echo '{\"step\": 1, \"metrics\": {\"acc\": \"high\"}}' >&3\n", ASSIGN(), 200);
    assert_string_equal(fx->error, "malformed report line 1: metric 'acc' is not a number");
}

/* Two "final" lines: not "the last one wins" but a malformed report, FAILED with the
 * reason; the trainer is stopped. */
static void test_second_final_line(void **state)
{
    fx_t *fx = *state;
    s_run(fx,
          "echo '{\"final\": true, \"metrics\": {\"val_accuracy\": 0.5}}' >&3\n"
          "echo '{\"final\": true, \"metrics\": {\"val_accuracy\": 0.9}}' >&3\n",
          ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "malformed report line 2: a second \"final\" line (one final "
                                   "report per attempt)");
    assert_string_equal(fx->kind, "trainer");
}

/* True once PID has terminated (gone or a zombie): the process may still be in the
 * middle of exiting when the pipes it held reach EOF (the kernel closes its files before
 * it becomes a zombie), so wait for its pidfd to become readable, which the kernel
 * signals at termination (at most 5 s). */
static bool s_process_gone(pid_t pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 5000);
    close(fd);
    return n == 1;
}

static void test_timeout_kills_process_group(void **state)
{
    fx_t *fx = *state;
    char script[512];
    snprintf(script, sizeof script,
             "sleep 300 &\necho $! > %s/grandchild.pid\n"
             "echo '{\"step\": 1, \"metrics\": {\"val_accuracy\": 0.5}}' >&3\n"
             "sleep 300\n", fx->dir);
    s_run(fx, script, ASSIGN(", \"timeout_s\": 0.3"), 300);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "timeout after 0.3 s");
    assert_string_equal(fx->kind, "timeout");
    assert_int_equal(fx->n_reports, 1);
    char path[600];
    snprintf(path, sizeof path, "%s/grandchild.pid", fx->dir);
    char *text = test_read_file(path, NULL);
    assert_non_null(text);
    pid_t gc = (pid_t)atol(text);
    free(text);
    assert_true(gc > 0);
    assert_true(s_process_gone(gc));
    assert_true(s_process_gone(fx->pid));
}

static void test_term_ignored_then_sigkill(void **state)
{
    fx_t *fx = *state;
    fx->stop_on_report = WRK_PROC_CANCELLED;
    s_run(fx, "trap '' TERM\necho '{\"step\": 1, \"metrics\": {\"val_accuracy\": 0.5}}' >&3\n"
              "while :; do sleep 1; done\n", ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_CANCELLED);
    assert_string_equal(fx->kind, "cancelled");
    assert_int_equal(fx->term_signal, SIGKILL);
}

static void test_cancel_and_prune(void **state)
{
    fx_t *fx = *state;
    fx->stop_on_report = WRK_PROC_PRUNED;
    s_run(fx, "echo '{\"step\": 4, \"metrics\": {\"val_accuracy\": 0.25}}' >&3\nexec sleep 30\n",
          ASSIGN(), 200);
    assert_int_equal(fx->state, WRK_PROC_PRUNED);
    assert_null(fx->error);
    assert_string_equal(fx->kind, "pruned");
    assert_int_equal(fx->last_step, 4);
    assert_true(cJSON_GetObjectItem(fx->metrics, "val_accuracy")->valuedouble == 0.25);
    assert_int_equal(fx->term_signal, SIGTERM);
}

static void test_argv_template(void **state)
{
    fx_t *fx = *state;
    char script[512];
    snprintf(script, sizeof script,
             "printf '%%s\\n' \"$#\" \"$@\" > %s/args\n"
             "echo '{\"final\": true, \"metrics\": {\"val_accuracy\": 1}}' >&3\n", fx->dir);
    s_run(fx, script,
          "{\"attempt\": 1, \"sweep\": \"s\", \"trial\": 0, \"fold\": -1, \"folds\": 0,"
          " \"params\": {\"name\": \"a b \\\"c\\\" 'd' $(x) ;\", \"lr\": 0.0001, \"bs\": 32,"
          " \"flag\": true, \"nothing\": null},"
          " \"trainer\": {\"type\": \"command\", \"argv\": [\"/bin/sh\", \"@\", \"{name}\","
          " \"--lr={lr}\", \"{bs}\", \"{flag}\", \"{nothing}\", \"{absent}\", \"{not a name}\"]},"
          " \"objective\": \"val_accuracy\"}", 200);
    assert_int_equal(fx->state, WRK_PROC_COMPLETE);
    char path[600];
    snprintf(path, sizeof path, "%s/args", fx->dir);
    char *args = test_read_file(path, NULL);
    assert_string_equal(args, "7\na b \"c\" 'd' $(x) ;\n--lr=0.0001\n32\ntrue\n\n\n{not a name}\n");
    free(args);

    char err[128];
    cJSON *tmpl = cJSON_Parse("[\"{x}{y}\", \"{z}\", \"{ten}\", \"{big}\", \"{huge}\"]");
    cJSON *params = cJSON_Parse("{\"x\": 0.1, \"y\": 1e-05, \"z\": [1, \"a\"], \"ten\": 10,"
                                " \"big\": 400000, \"huge\": 1e300}");
    char **argv = wrk_proc_argv_expand(tmpl, params, err, sizeof err);
    assert_string_equal(argv[0], "0.11e-05");
    assert_string_equal(argv[1], "[1,\"a\"]");
    assert_string_equal(argv[2], "10");       /* integers plainly: never "1e+01" */
    assert_string_equal(argv[3], "400000");
    assert_string_equal(argv[4], "1e+300");
    assert_null(argv[5]);
    wrk_proc_argv_free(argv);
    cJSON_Delete(tmpl);
    tmpl = cJSON_Parse("[\"ok\", 3]");
    assert_null(wrk_proc_argv_expand(tmpl, params, err, sizeof err));
    assert_string_equal(err, "trainer.argv[1] must be a string");
    cJSON_Delete(tmpl);
    cJSON_Delete(params);
}

static void test_not_allowed_and_not_startable(void **state)
{
    fx_t *fx = *state;
    s_run(fx, NULL,
          "{\"attempt\": 1, \"sweep\": \"s\", \"trial\": 0, \"fold\": -1, \"folds\": 0,"
          " \"params\": {}, \"trainer\": {\"type\": \"command\", \"argv\": [\"python3\", \"t.py\"]}}",
          200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "command 'python3' not allowed on this worker (--allow-command)");
    assert_string_equal(fx->kind, "worker");
    assert_int_equal(fx->exit_status, -1);
    assert_int_equal(fx->pid, 0);

    free(fx->error);
    free(fx->kind);
    free(fx->stdout_tail);
    free(fx->stderr_tail);
    fx->done = false;
    s_run(fx, NULL,
          "{\"attempt\": 1, \"sweep\": \"s\", \"trial\": 0, \"fold\": -1, \"folds\": 0,"
          " \"params\": {}, \"trainer\": {\"type\": \"command\", \"argv\": [\"/nonexistent/t\"]}}",
          200);
    assert_int_equal(fx->state, WRK_PROC_FAILED);
    assert_string_equal(fx->error, "cannot start trainer '/nonexistent/t': no such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_objective, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nan_objective, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_status_and_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_by_signal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_final_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_kills_process_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_term_ignored_then_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argv_template, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_allowed_and_not_startable, setup, teardown),
    };
    return cmocka_run_group_tests_name("wrk_proc", tests, NULL, NULL);
}
