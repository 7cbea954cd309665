/*  test_coord_db.c - the SQLite store: schema, JSON types, exactly-once index, readers
 *
 *  Every test works on a real database file in a fresh temporary directory. The
 *  upgrade test writes a schema-version-1 file with SQLite directly, as sweepd 1 left
 *  it, and opens it with this build.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
/* only to write a database as an older sweepd left it (test_worker_key_upgrade) */
#include <sqlite3.h>

#include "common/sw_err.h"
#include "common/sw_log.h"
#include "coordinator/coord_db.h"

typedef struct {
    char *dir;      /* temporary directory, removed at teardown */
    char *path;     /* DIR/sweeps.db */
} fixture_t;

static int s_setup(void **state)
{
    sw_log_set_level(SW_LOG_ERROR);
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = test_mkdtemp();
    assert_non_null(f->dir);
    assert_true(asprintf(&f->path, "%s/sweeps.db", f->dir) > 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture_t *f = *state;
    test_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static int s_count_sweep(const coord_db_sweep_t *row, void *arg)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

/* A walk through the API: create, insert a sweep, a trial and an attempt, read back. */
static void test_schema_and_walkthrough(void **state)
{
    fixture_t *f = *state;
    int err = 1;
    coord_db_t *db = coord_db_new(f->path, false, &err);
    assert_non_null(db);
    assert_int_equal(err, 0);
    assert_int_equal(coord_db_schema_version(db), COORD_DB_SCHEMA_VERSION);

    int64_t sweep = 0, trial = 0, attempt = 0;
    assert_int_equal(coord_db_sweep_insert(db, "s1", "{\"name\":\"s1\"}", 1000, &sweep), 0);
    assert_true(coord_db_in_txn(db));
    assert_int_equal(coord_db_trial_insert(db, sweep, 0, "{\"x\":1}", "RUNNING", 1001, &trial), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, -1, "w1", 1002, &attempt), 0);
    assert_true(attempt > 0);
    assert_int_equal(coord_db_commit(db), 0);
    assert_false(coord_db_in_txn(db));

    /* a second sweep of the same name is refused */
    int64_t dup = 0;
    assert_int_equal(coord_db_sweep_insert(db, "s1", "{}", 1000, &dup), SW_EDB);
    coord_db_rollback(db);

    int n = 0;
    assert_int_equal(coord_db_sweeps(db, NULL, s_count_sweep, &n), 0);
    assert_int_equal(n, 1);
    coord_db_destroy(&db);
    assert_null(db);
    coord_db_destroy(&db);  /* twice is fine */
}

typedef struct {
    char params[256];
    double value;
    double value_std;
} trial_copy_t;

static int s_copy_trial(const coord_db_trial_t *row, void *arg)
{
    trial_copy_t *c = arg;
    snprintf(c->params, sizeof c->params, "%s", row->params);
    c->value = row->value;
    c->value_std = row->value_std;
    return 0;
}

/* Categorical values of every JSON type survive the file with their types. */
static void test_json_types_round_trip(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    const char *params = "{\"a\":10,\"b\":1.5,\"c\":\"adam\",\"d\":true,\"e\":false,"
                         "\"f\":null,\"g\":\"10\"}";
    int64_t sweep = 0, trial = 0;
    assert_int_equal(coord_db_sweep_insert(db, "types", "{}", 1, &sweep), 0);
    assert_int_equal(coord_db_trial_insert(db, sweep, 0, params, "PENDING", 1, &trial), 0);
    coord_db_trial_t upd = {.id = trial, .state = "COMPLETE", .value = 0.75,
                            .value_std = NAN, .folds_done = 1, .finished_unix_ms = 5};
    assert_int_equal(coord_db_trial_update(db, &upd), 0);
    assert_int_equal(coord_db_commit(db), 0);
    coord_db_destroy(&db);

    /* reopen the file: the text comes back byte for byte, and parses to the same types */
    db = coord_db_new(f->path, true, NULL);
    assert_non_null(db);
    trial_copy_t c = {0};
    assert_int_equal(coord_db_trials(db, sweep, s_copy_trial, &c), 0);
    assert_string_equal(c.params, params);
    assert_true(c.value == 0.75);
    assert_true(isnan(c.value_std));
    cJSON *j = cJSON_Parse(c.params);
    assert_non_null(j);
    cJSON *a = cJSON_GetObjectItem(j, "a");
    assert_true(cJSON_IsNumber(a) && a->valuedouble == 10.0);
    cJSON *b = cJSON_GetObjectItem(j, "b");
    assert_true(cJSON_IsNumber(b) && b->valuedouble == 1.5);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "c")), "adam");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "d")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "e")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "f")));
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "g")), "10");
    cJSON_Delete(j);
    coord_db_destroy(&db);
}

/* The partial UNIQUE index refuses a second COMPLETE attempt for one fold, but allows
 * any number of LOST or FAILED ones, and COMPLETE attempts of other folds. */
static void test_one_complete_attempt_per_fold(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    int64_t sweep = 0, trial = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0;
    assert_int_equal(coord_db_sweep_insert(db, "once", "{}", 1, &sweep), 0);
    assert_int_equal(coord_db_trial_insert(db, sweep, 0, "{}", "RUNNING", 1, &trial), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, 0, "w1", 2, &a1), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, 0, "w2", 3, &a2), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, 0, "w3", 3, &a3), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, 1, "w3", 3, &a4), 0);
    assert_int_equal(coord_db_commit(db), 0);

    coord_db_attempt_t r = {.id = a1, .state = "COMPLETE", .metrics = "{\"acc\":0.5}",
                            .value = 0.5, .last_step = 3, .finished_unix_ms = 4};
    assert_int_equal(coord_db_attempt_update(db, &r), 0);
    r.id = a2;
    assert_int_equal(coord_db_attempt_update(db, &r), SW_ESTATE);
    r.state = "LOST";
    assert_int_equal(coord_db_attempt_update(db, &r), 0);
    r.id = a3;
    assert_int_equal(coord_db_attempt_update(db, &r), 0);
    r.id = a4;
    r.state = "COMPLETE";
    assert_int_equal(coord_db_attempt_update(db, &r), 0);
    assert_int_equal(coord_db_commit(db), 0);
    coord_db_destroy(&db);
}

static int s_count_attempt(const coord_db_attempt_t *row, void *arg)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

/* A reader opened read-only sees the last committed state while the writer holds an
 * open transaction, and cannot write. */
static void test_readonly_while_writing(void **state)
{
    fixture_t *f = *state;
    coord_db_t *w = coord_db_new(f->path, false, NULL);
    assert_non_null(w);
    int64_t sweep = 0, trial = 0, a = 0;
    assert_int_equal(coord_db_sweep_insert(w, "live", "{}", 1, &sweep), 0);
    assert_int_equal(coord_db_trial_insert(w, sweep, 0, "{}", "RUNNING", 1, &trial), 0);
    assert_int_equal(coord_db_attempt_insert(w, trial, -1, "w1", 1, &a), 0);
    assert_int_equal(coord_db_commit(w), 0);
    /* the writer keeps a transaction open with one more attempt */
    assert_int_equal(coord_db_attempt_insert(w, trial, -1, "w2", 2, &a), 0);
    assert_true(coord_db_in_txn(w));

    coord_db_t *r = coord_db_new(f->path, true, NULL);
    assert_non_null(r);
    int n = 0;
    assert_int_equal(coord_db_attempts(r, sweep, "RUNNING", s_count_attempt, &n), 0);
    assert_int_equal(n, 1);
    int64_t id = 0;
    assert_int_equal(coord_db_sweep_insert(r, "no", "{}", 1, &id), SW_EDB);

    assert_int_equal(coord_db_commit(w), 0);
    n = 0;
    assert_int_equal(coord_db_attempts(r, sweep, "RUNNING", s_count_attempt, &n), 0);
    assert_int_equal(n, 2);
    coord_db_destroy(&r);
    coord_db_destroy(&w);
}

/* Migrating twice, or reopening, changes nothing; a read-only open of a file that is
 * not a sweepd database is refused. */
static void test_migrations_idempotent(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    int64_t sweep = 0;
    assert_int_equal(coord_db_sweep_insert(db, "kept", "{}", 1, &sweep), 0);
    assert_int_equal(coord_db_commit(db), 0);
    assert_int_equal(coord_db_migrate(db), 0);
    assert_int_equal(coord_db_migrate(db), 0);
    assert_int_equal(coord_db_schema_version(db), COORD_DB_SCHEMA_VERSION);
    coord_db_destroy(&db);

    db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    assert_int_equal(coord_db_schema_version(db), COORD_DB_SCHEMA_VERSION);
    int n = 0;
    assert_int_equal(coord_db_sweeps(db, "kept", s_count_sweep, &n), 0);
    assert_int_equal(n, 1);
    coord_db_destroy(&db);

    /* an empty file (a first start that failed before its migration) reads as an
     * empty sweepd database, and a writer initialises it */
    char *empty = test_write_file(f->dir, "empty.db", "");
    int err = 0;
    db = coord_db_new(empty, true, &err);
    assert_non_null(db);
    n = 0;
    assert_int_equal(coord_db_sweeps(db, NULL, s_count_sweep, &n), 0);
    assert_int_equal(n, 0);
    coord_db_destroy(&db);
    db = coord_db_new(empty, false, &err);
    assert_non_null(db);
    assert_int_equal(coord_db_schema_version(db), COORD_DB_SCHEMA_VERSION);
    coord_db_destroy(&db);
    char *missing = NULL;
    assert_true(asprintf(&missing, "%s/missing.db", f->dir) > 0);
    assert_null(coord_db_new(missing, true, &err));
    assert_int_equal(err, SW_EDB);
    free(empty);
    free(missing);
}

static int s_count_event(const coord_db_event_t *row, void *arg)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

/* Reports replace on a re-sent step; workers upsert; events filter by kind. */
static void test_reports_workers_events(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    int64_t sweep = 0, trial = 0, a = 0, n = 0;
    assert_int_equal(coord_db_sweep_insert(db, "r", "{}", 1, &sweep), 0);
    assert_int_equal(coord_db_trial_insert(db, sweep, 0, "{}", "RUNNING", 1, &trial), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, -1, "w1", 1, &a), 0);
    assert_int_equal(coord_db_report_insert(db, a, 1, "{\"loss\":1}", 2), 0);
    assert_int_equal(coord_db_report_insert(db, a, 2, "{\"loss\":0.5}", 3), 0);
    assert_int_equal(coord_db_report_insert(db, a, 2, "{\"loss\":0.5}", 4), 0);
    assert_int_equal(coord_db_report_count(db, a, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(coord_db_worker_upsert(db, "w1", "h", 12, 2, 10), 0);
    assert_int_equal(coord_db_worker_upsert(db, "w1", "h", 13, 4, 20), 0);
    assert_int_equal(coord_db_worker_set_state(db, "w1", "lost"), 0);
    assert_int_equal(coord_db_event_add(db, sweep, 5, "lease expired", "worker=w1"), 0);
    assert_int_equal(coord_db_event_add(db, 0, 6, "worker lost", NULL), 0);
    assert_int_equal(coord_db_commit(db), 0);
    int ne = 0;
    assert_int_equal(coord_db_events(db, 0, "lease expired", s_count_event, &ne), 0);
    assert_int_equal(ne, 1);
    ne = 0;
    assert_int_equal(coord_db_events(db, 0, NULL, s_count_event, &ne), 0);
    assert_int_equal(ne, 2);
    coord_db_destroy(&db);
}


/* Run FN(ARG) with stderr going to a file; returns what it wrote (caller frees). */
static char *s_stderr_of(void (*fn)(void *), void *arg)
{
    char path[] = "/tmp/sweepd-test-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    char *text = test_read_file(path, NULL);
    unlink(path);
    return text;
}

typedef struct {
    const char *path;
    bool readonly;
    coord_db_t *db;
    int err;
} open_t;

static void s_open_cb(void *arg)
{
    open_t *o = arg;
    o->db = coord_db_new(o->path, o->readonly, &o->err);
}

/* One writer per file: a second read-write open is refused naming the holder (pid and
 * host from PATH-lock), nothing written; readers keep working; the lock goes with the
 * handle (and with the process: flock), so the next open succeeds. */
static void test_one_writer(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    int64_t id = 0;
    assert_int_equal(coord_db_sweep_insert(db, "a", "{}", 1, &id), 0);
    assert_int_equal(coord_db_commit(db), 0);
    struct stat before;
    assert_int_equal(stat(f->path, &before), 0);

    open_t o = {f->path, false, NULL, 0};
    char *text = s_stderr_of(s_open_cb, &o);
    assert_null(o.db);
    assert_int_equal(o.err, SW_ESTATE);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char want[1024];
    snprintf(want, sizeof want, "database %s is served by another coordinator (pid %ld on host "
             "%s); stop it first", f->path, (long)getpid(), host);
    assert_non_null(strstr(text, want));
    free(text);
    struct stat after;
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(after.st_size, before.st_size);

    coord_db_t *reader = coord_db_new(f->path, true, NULL);
    assert_non_null(reader);
    int n = 0;
    assert_int_equal(coord_db_sweeps(reader, NULL, s_count_sweep, &n), 0);
    assert_int_equal(n, 1);
    coord_db_destroy(&reader);

    coord_db_destroy(&db);
    db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    coord_db_destroy(&db);
}

/* Open failures say why: no such directory, permission denied. */
static void test_open_errors_say_why(void **state)
{
    fixture_t *f = *state;
    char *missing = NULL;
    assert_true(asprintf(&missing, "%s/no/such/dir/s.db", f->dir) > 0);
    open_t o = {missing, false, NULL, 0};
    char *text = s_stderr_of(s_open_cb, &o);
    assert_null(o.db);
    assert_int_equal(o.err, SW_EDB);
    char want[1024];
    snprintf(want, sizeof want, "cannot open database '%s': no such directory '%s/no/such/dir'",
             missing, f->dir);
    assert_non_null(strstr(text, want));
    free(text);
    free(missing);

    if (geteuid() != 0) {   /* root ignores permissions */
        char *ro = NULL;
        assert_true(asprintf(&ro, "%s/ro", f->dir) > 0);
        assert_int_equal(mkdir(ro, 0555), 0);
        char *p = NULL;
        assert_true(asprintf(&p, "%s/s.db", ro) > 0);
        o = (open_t){p, false, NULL, 0};
        text = s_stderr_of(s_open_cb, &o);
        assert_null(o.db);
        assert_non_null(strstr(text, "permission denied"));
        free(text);
        free(p);
        chmod(ro, 0755);
        free(ro);
    }

    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    coord_db_destroy(&db);
    char *lock = NULL;
    assert_true(asprintf(&lock, "%s-lock", f->path) > 0);
    assert_int_equal(access(lock, F_OK), 0);   /* the lock file stays for the next start */
    free(lock);
}

/* A full disk (simulated with max_page_count): the write fails, the commit reports it
 * in words ("disk full (...)"), the rollback adds no "no transaction is active" line,
 * and what was committed before stays. */
typedef struct {
    coord_db_t *db;
    int insert_rc, commit_rc;
} full_t;

static void s_full_cb(void *arg)
{
    full_t *fu = arg;
    char big[4096];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    int64_t id = 0;
    for (int i = 0; i < 64 && !fu->insert_rc; i++) {
        char name[32];
        snprintf(name, sizeof name, "big-%d", i);
        fu->insert_rc = coord_db_sweep_insert(fu->db, name, big, 1, &id);
    }
    fu->commit_rc = coord_db_commit(fu->db);
    if (!fu->commit_rc)
        coord_db_rollback(fu->db);
}

static void test_disk_full(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    int64_t id = 0;
    assert_int_equal(coord_db_sweep_insert(db, "kept", "{}", 1, &id), 0);
    assert_int_equal(coord_db_commit(db), 0);
    assert_null(coord_db_last_error(db));
    assert_int_equal(coord_db_limit_pages(db, coord_db_page_count(db) + 2), 0);
    sw_log_set_level(SW_LOG_DEBUG);
    full_t fu = {db, 0, 0};
    char *text = s_stderr_of(s_full_cb, &fu);
    sw_log_set_level(SW_LOG_ERROR);
    assert_int_equal(fu.insert_rc, SW_EDB);
    assert_int_equal(fu.commit_rc, SW_EDB);
    assert_null(strstr(text, "no transaction is active"));
    free(text);
    assert_non_null(coord_db_last_error(db));
    assert_true(!strncmp(coord_db_last_error(db), "disk full (", 11));
    int n = 0;
    assert_int_equal(coord_db_sweeps(db, NULL, s_count_sweep, &n), 0);
    assert_int_equal(n, 1);
    coord_db_destroy(&db);
}

static int s_count_attempt_rows(const coord_db_attempt_t *row, void *arg)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

typedef struct {
    char state[16];
    char error[64];
    char reason[64];
    int64_t finished_unix_ms;
    double value;
    int folds_done;
} reopen_view_t;

static int s_reopen_trial(const coord_db_trial_t *row, void *arg)
{
    reopen_view_t *v = arg;
    snprintf(v->state, sizeof v->state, "%s", row->state);
    snprintf(v->error, sizeof v->error, "%s", row->error ? row->error : "(null)");
    v->finished_unix_ms = row->finished_unix_ms;
    v->value = row->value;
    v->folds_done = row->folds_done;
    return 0;
}

static int s_reopen_sweep(const coord_db_sweep_t *row, void *arg)
{
    reopen_view_t *v = arg;
    snprintf(v->state, sizeof v->state, "%s", row->state);
    snprintf(v->reason, sizeof v->reason, "%s", row->reason ? row->reason : "(null)");
    v->finished_unix_ms = row->finished_unix_ms;
    return 0;
}

/* The transitions of cancel and resume: a sweep CANCELLED and back to RUNNING (reason
 * and finished time cleared), a CANCELLED trial back to PENDING (error, value and
 * finished time NULL, folds_done kept), and the exactly-once index still refusing a
 * second COMPLETE attempt of a fold of the reopened trial while its new attempt on
 * another fold completes. */
static void test_cancel_resume_transitions(void **state)
{
    fixture_t *f = *state;
    int err = 0;
    coord_db_t *db = coord_db_new(f->path, false, &err);
    assert_non_null(db);
    int64_t sweep = 0, trial = 0, a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    assert_int_equal(coord_db_sweep_insert(db, "s", "{}", 1000, &sweep), 0);
    assert_int_equal(coord_db_trial_insert(db, sweep, 0, "{}", "RUNNING", 1001, &trial), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, 0, "w1", 1002, &a0), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, 1, "w1", 1002, &a1), 0);
    coord_db_attempt_t done = {.id = a0, .state = "COMPLETE", .value = 0.5, .last_step = -1,
                               .finished_unix_ms = 1003};
    assert_int_equal(coord_db_attempt_update(db, &done), 0);
    coord_db_attempt_t cancelled = {.id = a1, .state = "CANCELLED", .value = NAN,
                                    .error = "cancelled: by the user", .kind = "cancelled",
                                    .last_step = -1, .finished_unix_ms = 1004};
    assert_int_equal(coord_db_attempt_update(db, &cancelled), 0);
    coord_db_trial_t t = {.id = trial, .state = "CANCELLED", .value = NAN, .value_std = NAN,
                          .folds_done = 1, .error = "cancelled: by the user",
                          .started_unix_ms = 1001, .finished_unix_ms = 1004};
    assert_int_equal(coord_db_trial_update(db, &t), 0);
    assert_int_equal(coord_db_sweep_set_state(db, sweep, "CANCELLED", "cancelled: by the user",
                                              1004), 0);
    assert_int_equal(coord_db_commit(db), 0);

    reopen_view_t v;
    assert_int_equal(coord_db_sweeps(db, "s", s_reopen_sweep, &v), 0);
    assert_string_equal(v.state, "CANCELLED");
    assert_string_equal(v.reason, "cancelled: by the user");
    assert_int_equal(v.finished_unix_ms, 1004);

    /* resume --retry-failed */
    t = (coord_db_trial_t){.id = trial, .state = "PENDING", .value = NAN, .value_std = NAN,
                           .folds_done = 1, .error = NULL, .started_unix_ms = 1001,
                           .finished_unix_ms = 0};
    assert_int_equal(coord_db_trial_update(db, &t), 0);
    assert_int_equal(coord_db_sweep_set_state(db, sweep, "RUNNING", NULL, 0), 0);
    assert_int_equal(coord_db_commit(db), 0);
    assert_int_equal(coord_db_sweeps(db, "s", s_reopen_sweep, &v), 0);
    assert_string_equal(v.state, "RUNNING");
    assert_string_equal(v.reason, "(null)");
    assert_int_equal(v.finished_unix_ms, 0);
    assert_int_equal(coord_db_trials(db, sweep, s_reopen_trial, &v), 0);
    assert_string_equal(v.state, "PENDING");
    assert_string_equal(v.error, "(null)");
    assert_int_equal(v.finished_unix_ms, 0);
    assert_true(isnan(v.value));
    assert_int_equal(v.folds_done, 1);

    /* fold 0 is COMPLETE already: a new attempt there cannot complete it again */
    assert_int_equal(coord_db_attempt_insert(db, trial, 0, "w2", 1005, &a2), 0);
    assert_int_equal(coord_db_attempt_insert(db, trial, 1, "w2", 1005, &a3), 0);
    done.id = a2;
    assert_int_equal(coord_db_attempt_update(db, &done), SW_ESTATE);
    coord_db_rollback(db);
    assert_int_equal(coord_db_attempt_insert(db, trial, 1, "w2", 1005, &a3), 0);
    done.id = a3;
    assert_int_equal(coord_db_attempt_update(db, &done), 0);
    assert_int_equal(coord_db_commit(db), 0);
    int n = 0;
    assert_int_equal(coord_db_attempts(db, sweep, "COMPLETE", s_count_attempt_rows, &n), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(coord_db_attempts(db, sweep, NULL, s_count_attempt_rows, &n), 0);
    assert_int_equal(n, 3);                     /* the cancelled one stays in the history */
    coord_db_destroy(&db);
}

#define S_KEY_A "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define S_KEY_B "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"

typedef struct {
    int n;
    char ids[4][32];
    char keys[4][41];
    int64_t ms[4];
} s_keys_t;

static int s_collect_key(const coord_db_worker_key_t *row, void *arg)
{
    s_keys_t *k = arg;
    if (k->n < 4) {
        snprintf(k->ids[k->n], sizeof k->ids[0], "%s", row->worker_id);
        snprintf(k->keys[k->n], sizeof k->keys[0], "%s", row->public_key);
        k->ms[k->n] = row->bound_unix_ms;
    }
    k->n++;
    return 0;
}

/* A worker id's CURVE key binding is stored, survives a reopen, is never replaced,
 * and a key that is not 40 characters is refused. */
static void test_worker_key_binding(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    assert_int_equal(coord_db_worker_key_bind(db, "w2", S_KEY_B, 2000), 0);
    assert_int_equal(coord_db_worker_key_bind(db, "w1", S_KEY_A, 1000), 0);
    assert_int_equal(coord_db_worker_key_bind(db, "w1", S_KEY_B, 3000), SW_ESTATE);
    assert_int_equal(coord_db_worker_key_bind(db, "w1", S_KEY_A, 3000), SW_ESTATE);
    assert_int_equal(coord_db_worker_key_bind(db, "w3", "short", 3000), SW_ESTATE);
    assert_true(coord_db_in_txn(db));           /* refusals leave the transaction open */
    assert_int_equal(coord_db_commit(db), 0);
    coord_db_destroy(&db);

    db = coord_db_new(f->path, true, NULL);     /* read-only: what a restart loads */
    assert_non_null(db);
    s_keys_t k = {0};
    assert_int_equal(coord_db_worker_keys(db, s_collect_key, &k), 0);
    assert_int_equal(k.n, 2);
    assert_string_equal(k.ids[0], "w1");
    assert_string_equal(k.keys[0], S_KEY_A);
    assert_int_equal(k.ms[0], 1000);
    assert_string_equal(k.ids[1], "w2");
    assert_string_equal(k.keys[1], S_KEY_B);
    assert_int_equal(k.ms[1], 2000);
    coord_db_destroy(&db);

    /* a binding rolled back is not stored */
    db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    assert_int_equal(coord_db_worker_key_bind(db, "w3", S_KEY_A, 4000), 0);
    coord_db_rollback(db);
    memset(&k, 0, sizeof k);
    assert_int_equal(coord_db_worker_keys(db, s_collect_key, &k), 0);
    assert_int_equal(k.n, 2);
    coord_db_destroy(&db);
}

/* A database written by schema version 1 (no worker_key table) is upgraded on a
 * read-write open: its rows are kept, the table is added empty, bindings work; a
 * read-only open of the version-1 file (before the upgrade) is still accepted. */
static void test_worker_key_upgrade(void **state)
{
    fixture_t *f = *state;
    coord_db_t *db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    coord_db_destroy(&db);
    /* turn it into what sweepd 1 left: migrations only append, so version 1 is
     * version 2 without its table; with a sweep and a worker in it */
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(f->path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "DROP TABLE worker_key; PRAGMA user_version = 1; "
                                  "INSERT INTO sweeps (name, spec, state, created_unix_ms) "
                                  "VALUES ('old', '{}', 'RUNNING', 5); "
                                  "INSERT INTO workers (id, host, pid, slots, first_seen_unix_ms, "
                                  "last_seen_unix_ms, state) VALUES ('w1', 'h', 7, 1, 5, 6, 'lost')",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);

    db = coord_db_new(f->path, true, NULL);
    assert_non_null(db);
    assert_int_equal(coord_db_schema_version(db), 1);
    int n = 0;
    assert_int_equal(coord_db_sweeps(db, "old", s_count_sweep, &n), 0);
    assert_int_equal(n, 1);
    coord_db_destroy(&db);

    db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    assert_int_equal(coord_db_schema_version(db), 2);
    assert_int_equal(COORD_DB_SCHEMA_VERSION, 2);
    n = 0;
    assert_int_equal(coord_db_sweeps(db, "old", s_count_sweep, &n), 0);
    assert_int_equal(n, 1);
    s_keys_t k = {0};
    assert_int_equal(coord_db_worker_keys(db, s_collect_key, &k), 0);
    assert_int_equal(k.n, 0);
    assert_int_equal(coord_db_worker_key_bind(db, "w1", S_KEY_A, 9000), 0);
    assert_int_equal(coord_db_commit(db), 0);
    assert_int_equal(coord_db_migrate(db), 0);  /* nothing left to do */
    coord_db_destroy(&db);

    db = coord_db_new(f->path, false, NULL);
    assert_non_null(db);
    assert_int_equal(coord_db_schema_version(db), 2);
    assert_int_equal(coord_db_worker_keys(db, s_collect_key, &k), 0);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.ids[0], "w1");
    assert_string_equal(k.keys[0], S_KEY_A);
    assert_int_equal(k.ms[0], 9000);
    coord_db_destroy(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_and_walkthrough, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_json_types_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_one_complete_attempt_per_fold, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_readonly_while_writing, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_migrations_idempotent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reports_workers_events, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_one_writer, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors_say_why, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_disk_full, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_resume_transitions, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_worker_key_binding, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_worker_key_upgrade, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
