/*  test_coord_sched.c - the scheduler without sockets: grid coverage, leases, duplicates,
 *  restart, retries, failures, best, spec changes
 *
 *  Fake workers are plain calls into coord_sched; the clock is a variable behind the
 *  coord_sched_now_fn hook, so lease expiry needs no sleeping. The store is a real
 *  SQLite file in a temporary directory, and the samplers are the real ones.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include "tests/test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "common/sw_err.h"
#include "common/sw_log.h"
#include "common/sw_spec.h"
#include "coordinator/coord_db.h"
#include "coordinator/coord_sched.h"

#define LEASE_MS 1000

typedef struct {
    char worker[32];
    int64_t attempt;
    int64_t trial;
    int fold;
    char params[128];
} assign_t;

typedef struct {
    char *dir;
    char *path;
    coord_db_t *db;
    coord_sched_t *sched;
    uint64_t now_ms;            /* the fake monotonic clock */
    assign_t assigns[512];      /* every ASSIGN seen, in order */
    int n_assigns;
    int64_t cancels[64];        /* attempt ids of CANCELs seen */
    int n_cancels;
    int n_acks;
    int n_prunes;
} fx_t;

static uint64_t s_clock(void *arg)
{
    return ((fx_t *)arg)->now_ms;
}

static void s_open(fx_t *f)
{
    int err = 0;
    f->db = coord_db_new(f->path, false, &err);
    assert_non_null(f->db);
    f->sched = coord_sched_new(f->db, LEASE_MS, s_clock, f, &err);
    assert_non_null(f->sched);
    assert_int_equal(err, 0);
}

static void s_close(fx_t *f)
{
    coord_sched_destroy(&f->sched);
    coord_db_destroy(&f->db);
}

static int s_setup(void **state)
{
    sw_log_set_level(SW_LOG_ERROR);
    fx_t *f = calloc(1, sizeof *f);
    f->dir = test_mkdtemp();
    assert_non_null(f->dir);
    assert_true(asprintf(&f->path, "%s/sweeps.db", f->dir) > 0);
    f->now_ms = 1000000;
    s_open(f);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fx_t *f = *state;
    s_close(f);
    test_rmtree(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

/* Commit the turn and record what would be sent. */
static void s_flush(fx_t *f)
{
    coord_sched_out_t *out = NULL;
    size_t n = 0;
    assert_int_equal(coord_sched_flush(f->sched, &out, &n), 0);
    for (size_t i = 0; i < n; i++) {
        cJSON *b = out[i].body;
        int64_t attempt = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(b, "attempt"));
        if (out[i].cmd == PROTO_ASSIGN) {
            assert_true(f->n_assigns < 512);
            assign_t *a = &f->assigns[f->n_assigns++];
            snprintf(a->worker, sizeof a->worker, "%s", out[i].worker_id);
            a->attempt = attempt;
            a->trial = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(b, "trial"));
            a->fold = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(b, "fold"));
            char *p = cJSON_PrintUnformatted(cJSON_GetObjectItem(b, "params"));
            snprintf(a->params, sizeof a->params, "%s", p);
            free(p);
            assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(b, "objective")), "acc");
        } else if (out[i].cmd == PROTO_CANCEL) {
            assert_true(f->n_cancels < 64);
            f->cancels[f->n_cancels++] = attempt;
        } else if (out[i].cmd == PROTO_ACK) {
            f->n_acks++;
        } else if (out[i].cmd == PROTO_DECISION) {
            f->n_prunes += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(b, "action")), "prune");
        }
    }
    coord_sched_out_free(out, n);
}

/* A spec: grid over a (3 ints) x b (4 strings) = 12 points, FOLDS folds (0: none). */
static sw_spec_t *s_spec(const char *name, int folds, const char *limits, const char *extra)
{
    char text[2048];
    char cv[64] = "";
    if (folds)
        snprintf(cv, sizeof cv, "\"cv\": {\"folds\": %d},", folds);
    snprintf(text, sizeof text,
             "{\"name\": \"%s\", \"objective\": {\"metric\": \"acc\", \"direction\": \"maximize\"},"
             " \"method\": \"grid\", %s"
             " \"parameters\": {\"a\": {\"type\": \"categorical\", \"values\": [1, 2, 3]},"
             "                 \"b\": {\"type\": \"categorical\", \"values\": [\"w\", \"x\", \"y\", \"z\"]}%s},"
             " \"limits\": {%s},"
             " \"trainer\": {\"type\": \"command\", \"argv\": [\"true\"]}}",
             name, cv, extra ? extra : "", limits ? limits : "");
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(text, strlen(text), "test", &errs);
    if (!spec)
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "spec: %s\n", errs.items[i]);
    sw_errs_clear(&errs);
    assert_non_null(spec);
    return spec;
}

static void s_add(fx_t *f, sw_spec_t *spec)
{
    sw_errs_t errs = {0};
    assert_int_equal(coord_sched_add_sweep(f->sched, &spec, &errs), 0);
    assert_null(spec);
    sw_errs_clear(&errs);
    s_flush(f);
}

static void s_hello(fx_t *f, const char *w, int slots, const int64_t *running, size_t n)
{
    assert_int_equal(coord_sched_hello(f->sched, w, "host", 1, slots, running, n), 0);
    assert_int_equal(coord_sched_request(f->sched, w, slots), 0);
    s_flush(f);
}

static void s_result(fx_t *f, const char *w, int64_t attempt, const char *state, double acc)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "acc", acc);
    assert_int_equal(coord_sched_result(f->sched, w, attempt, state, m,
                                        strcmp(state, "FAILED") ? NULL : "boom",
                                        strcmp(state, "FAILED") ? NULL : "trainer", 5), 0);
    cJSON_Delete(m);
}

/* The objective a fake trainer reports: a function of the params and the fold. */
static double s_acc(const char *params, int fold)
{
    cJSON *p = cJSON_Parse(params);
    double a = cJSON_GetNumberValue(cJSON_GetObjectItem(p, "a"));
    const char *b = cJSON_GetStringValue(cJSON_GetObjectItem(p, "b"));
    double v = a * 10 + (b[0] - 'w') + (fold > 0 ? fold : 0) * 0.1;
    cJSON_Delete(p);
    return v;
}

typedef struct {
    int complete, total;
    int per_fold[64][8];        /* COMPLETE attempts per (trial, fold+1) */
    char states[64][16];
    double value[64], value_std[64];
    char error[64][160];
} db_view_t;

static int s_view_attempt(const coord_db_attempt_t *row, void *arg)
{
    db_view_t *v = arg;
    v->total++;
    if (!strcmp(row->state, "COMPLETE")) {
        v->complete++;
        v->per_fold[row->trial_number][row->fold + 1]++;
    }
    return 0;
}

static int s_view_trial(const coord_db_trial_t *row, void *arg)
{
    db_view_t *v = arg;
    snprintf(v->states[row->number], sizeof v->states[0], "%s", row->state);
    v->value[row->number] = row->value;
    v->value_std[row->number] = row->value_std;
    snprintf(v->error[row->number], sizeof v->error[0], "%s", row->error ? row->error : "");
    return 0;
}

static void s_view(fx_t *f, db_view_t *v)
{
    memset(v, 0, sizeof *v);
    assert_int_equal(coord_db_attempts(f->db, 0, NULL, s_view_attempt, v), 0);
    assert_int_equal(coord_db_trials(f->db, 1, s_view_trial, v), 0);
}

static int s_event_counter(const coord_db_event_t *row, void *arg)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

static int s_events(fx_t *f, const char *kind)
{
    int n = 0;
    assert_int_equal(coord_db_events(f->db, 0, kind, s_event_counter, &n), 0);
    return n;
}

/* 12 grid points x 3 folds on 3 workers of 2 slots: every point exactly once, every
 * fold exactly once, trial values are fold means with population std. */
static void test_grid_three_workers(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("g", 3, NULL, NULL));
    s_hello(f, "w1", 2, NULL, 0);
    s_hello(f, "w2", 2, NULL, 0);
    s_hello(f, "w3", 2, NULL, 0);
    assert_int_equal(f->n_assigns, 6);
    /* the first trial's three folds went out together */
    assert_int_equal(f->assigns[0].trial, 0);
    assert_int_equal(f->assigns[1].trial, 0);
    assert_int_equal(f->assigns[2].trial, 0);
    for (int next = 0; next < f->n_assigns; next++) {
        assign_t a = f->assigns[next];
        f->now_ms += 10;
        s_result(f, a.worker, a.attempt, "COMPLETE", s_acc(a.params, a.fold));
        assert_int_equal(coord_sched_request(f->sched, a.worker, 1), 0);
        s_flush(f);
    }
    assert_int_equal(f->n_assigns, 36);
    assert_int_equal(f->n_acks, 36);
    /* every (trial, fold) once, 12 distinct params */
    int seen[12][3] = {{0}};
    for (int i = 0; i < 36; i++) {
        assert_true(f->assigns[i].trial >= 0 && f->assigns[i].trial < 12);
        seen[f->assigns[i].trial][f->assigns[i].fold]++;
        for (int j = 0; j < 36; j++)
            if (f->assigns[j].trial != f->assigns[i].trial)
                assert_string_not_equal(f->assigns[j].params, f->assigns[i].params);
    }
    for (int t = 0; t < 12; t++)
        for (int k = 0; k < 3; k++)
            assert_int_equal(seen[t][k], 1);

    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "g", &c), 0);
    assert_string_equal(c.state, "COMPLETE");
    assert_int_equal(c.planned, 12);
    assert_int_equal(c.complete, 12);
    assert_int_equal(c.pending + c.running + c.failed + c.pruned + c.cancelled, 0);
    assert_int_equal(c.best_number, 11);      /* a=3, b="z" */
    assert_true(fabs(c.best_value - 33.1) < 1e-9);
    assert_true(coord_sched_all_final(f->sched));

    db_view_t v;
    s_view(f, &v);
    assert_int_equal(v.complete, 36);
    assert_int_equal(v.total, 36);
    for (int t = 0; t < 12; t++) {
        assert_string_equal(v.states[t], "COMPLETE");
        assert_true(fabs(v.value_std[t] - sqrt(0.02 / 3)) < 1e-9);   /* population std */
    }

    int err = 0;
    cJSON *doc = coord_sched_status_db(f->db, "g", 0, &err);
    assert_non_null(doc);
    cJSON *s = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"), "g");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(s, "state")), "COMPLETE");
    cJSON *tr = cJSON_GetObjectItem(s, "trials");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(tr, "COMPLETE")), 12);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(tr, "PENDING")), 0);
    cJSON *best = cJSON_GetObjectItem(s, "best");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(best, "number")), 11);
    cJSON_Delete(doc);
}

/* A silent worker's attempt is requeued after the lease; its late result is
 * acknowledged and discarded: one COMPLETE attempt per fold. */
static void test_lease_expiry_and_late_duplicate(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("l", 0, "\"max_trials\": 2", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 1);
    int64_t first = f->assigns[0].attempt;
    assert_int_equal(f->assigns[0].fold, -1);

    f->now_ms += LEASE_MS - 1;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    assert_int_equal(coord_sched_touch(f->sched, "w1"), 0);   /* still alive */
    f->now_ms += LEASE_MS + 1;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    assert_int_equal(coord_sched_touch(f->sched, "w1"), SW_ESTATE);   /* lost: INVALID */

    s_hello(f, "w2", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 2);
    assert_int_equal(f->assigns[1].trial, 0);      /* requeued unit first */
    int64_t second = f->assigns[1].attempt;
    s_result(f, "w2", second, "COMPLETE", 0.7);
    s_flush(f);

    /* w1 comes back listing its attempt: the fold is done, so it is cancelled */
    assert_int_equal(coord_sched_hello(f->sched, "w1", "host", 1, 1, &first, 1), 0);
    s_flush(f);
    assert_int_equal(f->n_cancels, 1);
    assert_int_equal(f->cancels[0], first);
    /* and its result, sent anyway, is acknowledged and discarded */
    int acks = f->n_acks;
    s_result(f, "w1", first, "COMPLETE", 0.9);
    s_result(f, "w1", first, "COMPLETE", 0.9);
    s_flush(f);
    assert_int_equal(f->n_acks, acks + 2);
    assert_int_equal(coord_sched_stats(f->sched).duplicates, 2);
    assert_int_equal(s_events(f, "late duplicate discarded"), 2);
    assert_int_equal(s_events(f, "attempt requeued"), 1);

    db_view_t v;
    s_view(f, &v);
    assert_int_equal(v.per_fold[0][0], 1);
    assert_true(fabs(v.value[0] - 0.7) < 1e-12);

    /* a RESULT for an attempt nobody knows is acknowledged and counted */
    s_result(f, "w2", 9999, "COMPLETE", 1);
    s_flush(f);
    assert_int_equal(coord_sched_stats(f->sched).unknown_results, 1);
    assert_int_equal(f->n_acks, acks + 3);
}

/* Requeues that are no one's fault count no retry: a RESULT of kind busy (an ASSIGN
 * that crossed a reconnect), an attempt a leaving worker never started (its ASSIGN
 * crossed the BYE), and the orphans of a restart whose workers cannot come back
 * (`sweepd run` interrupted): coord_sched_orphans_lost() requeues them at the next
 * tick, not a lease later, as kind "restart". The status document then shows lost
 * attempts by kind and the events; a later lease expiry is the only retry. */
static void test_busy_bye_orphans_and_status(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("b", 0, "\"max_trials\": 3", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 1);
    int64_t first = f->assigns[0].attempt;
    assert_int_equal(coord_sched_result(f->sched, "w1", first, "FAILED", NULL,
                                        "no free slot on this worker (slots=1)", "busy", -1), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 1);         /* nothing more until its next REQUEST */
    assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 2);
    assert_int_equal(f->assigns[1].trial, 0);  /* the same trial again */

    /* w1 leaves handing back nothing while it holds attempt 2: no retry either */
    assert_int_equal(coord_sched_bye(f->sched, "w1", NULL, 0), 0);
    s_flush(f);
    s_hello(f, "w2", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 3);
    assert_int_equal(f->assigns[2].trial, 0);
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "b", &c), 0);
    assert_int_equal(c.retries, 0);

    /* a restart: w2's attempt is an orphan; orphans_lost requeues it at the next tick */
    s_close(f);
    s_open(f);
    assert_int_equal(coord_sched_orphans_lost(f->sched), 1);
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    assert_int_equal(coord_sched_counts(f->sched, "b", &c), 0);
    assert_int_equal(c.retries, 0);
    assert_int_equal(s_events(f, "attempt requeued"), 3);   /* busy, bye, orphan */
    /* the next worker's lease expires: that one is a retry */
    s_hello(f, "w3", 1, NULL, 0);
    f->now_ms += LEASE_MS + 1;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    assert_int_equal(coord_sched_counts(f->sched, "b", &c), 0);
    assert_int_equal(c.retries, 1);
    /* and a restarted scheduler counts the same from the store */
    s_close(f);
    s_open(f);
    assert_int_equal(coord_sched_counts(f->sched, "b", &c), 0);
    assert_int_equal(c.retries, 1);

    int err = 0;
    cJSON *doc = coord_sched_status_db(f->db, "b", 0, &err);
    assert_non_null(doc);
    cJSON *sw = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"), "b");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(sw, "retries")), 1);
    cJSON *tr = cJSON_GetObjectItem(sw, "trial_retries");
    assert_int_equal(cJSON_GetArraySize(tr), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(tr, "0")), 1);
    cJSON *lost = cJSON_GetObjectItem(sw, "attempts_lost");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lost, "busy")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lost, "handed_back")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lost, "restart")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lost, "lease")), 1);
    cJSON *ec = cJSON_GetObjectItem(doc, "event_counts");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(ec, "attempt requeued")), 4);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(ec, "worker gone")), 1);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "events")) >= 5);
    cJSON *w;
    int gone = 0;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(doc, "workers"))
        gone += !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(w, "state")), "gone");
    assert_int_equal(gone, 1);
    cJSON_Delete(doc);
}

/* The lost attempt delivers before its re-dispatch: first result wins, the re-dispatch
 * is cancelled. */
static void test_lost_attempt_delivers_first(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("r", 0, "\"max_trials\": 1", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    int64_t first = f->assigns[0].attempt;
    f->now_ms += LEASE_MS + 1;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    s_hello(f, "w2", 1, NULL, 0);
    int64_t second = f->assigns[1].attempt;
    assert_int_equal(coord_sched_hello(f->sched, "w1", "host", 1, 1, &first, 1), 0);
    s_flush(f);
    assert_int_equal(f->n_cancels, 0);      /* may still deliver first */
    s_result(f, "w1", first, "COMPLETE", 0.5);
    s_flush(f);
    assert_int_equal(f->n_cancels, 1);
    assert_int_equal(f->cancels[0], second);
    s_result(f, "w2", second, "COMPLETE", 0.6);   /* too late */
    s_flush(f);
    db_view_t v;
    s_view(f, &v);
    assert_int_equal(v.per_fold[0][0], 1);
    assert_string_equal(v.states[0], "COMPLETE");
    assert_true(fabs(v.value[0] - 0.5) < 1e-12);
    assert_true(coord_sched_all_final(f->sched));
}

/* Restart from the same file mid-sweep: finished trials stay, RUNNING ones wait one
 * lease for their worker, then are dispatched again; nothing is rerun. */
static void test_restart_resumes(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("re", 0, "\"max_trials\": 4", NULL));
    s_hello(f, "w1", 2, NULL, 0);
    assert_int_equal(f->n_assigns, 2);
    s_result(f, "w1", f->assigns[0].attempt, "COMPLETE", 0.25);
    s_flush(f);
    int64_t orphan = f->assigns[1].attempt;
    s_close(f);

    f->now_ms += 5000;
    s_open(f);
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "re", &c), 0);
    assert_int_equal(c.complete, 1);
    assert_int_equal(c.running, 1);
    /* a new worker gets the trials never started, not the orphan */
    s_hello(f, "w2", 4, NULL, 0);
    assert_int_equal(f->n_assigns, 4);
    assert_int_equal(f->assigns[2].trial, 2);
    assert_int_equal(f->assigns[3].trial, 3);
    f->now_ms += LEASE_MS / 2;
    assert_int_equal(coord_sched_touch(f->sched, "w2"), 0);
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 4);
    f->now_ms += LEASE_MS;
    assert_int_equal(coord_sched_touch(f->sched, "w2"), 0);
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    assert_int_equal(coord_sched_request(f->sched, "w2", 1), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 5);
    assert_int_equal(f->assigns[4].trial, 1);
    assert_true(f->assigns[4].attempt != orphan);
    for (int i = 2; i < 5; i++)
        s_result(f, "w2", f->assigns[i].attempt, "COMPLETE", 0.1 * i);
    s_flush(f);
    assert_true(coord_sched_all_final(f->sched));
    db_view_t v;
    s_view(f, &v);
    for (int t = 0; t < 4; t++) {
        assert_string_equal(v.states[t], "COMPLETE");
        assert_int_equal(v.per_fold[t][0], 1);
    }
    assert_true(fabs(v.value[0] - 0.25) < 1e-12);
    assert_int_equal(v.total, 5);     /* 4 + the one re-dispatch */
}

/* A worker re-attaching within the lease after a restart keeps its attempt. */
static void test_restart_reattach(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("ra", 0, "\"max_trials\": 1", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    int64_t id = f->assigns[0].attempt;
    s_close(f);
    s_open(f);
    assert_int_equal(coord_sched_hello(f->sched, "w1", "host", 1, 1, &id, 1), 0);
    s_flush(f);
    f->now_ms += LEASE_MS / 2;
    assert_int_equal(coord_sched_touch(f->sched, "w1"), 0);
    f->now_ms += LEASE_MS / 2 + 10;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    s_result(f, "w1", id, "COMPLETE", 0.8);
    s_flush(f);
    assert_int_equal(f->n_assigns, 1);
    db_view_t v;
    s_view(f, &v);
    assert_int_equal(v.total, 1);
    assert_string_equal(v.states[0], "COMPLETE");
}

/* Lost more than max_retries times: the trial FAILED with the reason; a sweep whose
 * every trial failed ends FAILED, not COMPLETE. */
static void test_max_retries(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("mr", 0, "\"max_trials\": 1, \"max_retries\": 1", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    f->now_ms += LEASE_MS + 1;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    s_hello(f, "w2", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 2);
    f->now_ms += LEASE_MS + 1;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    db_view_t v;
    s_view(f, &v);
    assert_string_equal(v.states[0], "FAILED");
    assert_string_equal(v.error[0], "lost 2 times (worker w2: lease expired)");
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "mr", &c), 0);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.retries, 2);
    assert_string_equal(c.state, "FAILED");
    int err = 0;
    cJSON *doc = coord_sched_status_db(f->db, "mr", 0, &err);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
                            cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"), "mr"), "reason")),
                        "every trial failed: lost 2 times (worker w2: lease expired)");
    cJSON_Delete(doc);
}

/* Lost once with max_retries 0: "lost once", not "lost 1 times". */
static void test_lost_once_wording(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("lo", 0, "\"max_trials\": 2, \"max_retries\": 0", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    f->now_ms += LEASE_MS + 1;
    assert_int_equal(coord_sched_tick(f->sched), 0);
    s_flush(f);
    db_view_t v;
    s_view(f, &v);
    assert_string_equal(v.states[0], "FAILED");
    assert_string_equal(v.error[0], "lost once (worker w1: lease expired)");
}

/* A trainer failure fails the trial, cancels its other folds, and max_failed ends
 * the sweep as FAILED. */
static void test_trainer_failure(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("tf", 3, "\"max_failed\": 1", NULL));
    s_hello(f, "w1", 3, NULL, 0);
    assert_int_equal(f->n_assigns, 3);
    s_result(f, "w1", f->assigns[0].attempt, "FAILED", 0);
    s_flush(f);
    assert_int_equal(f->n_cancels, 2);
    db_view_t v;
    s_view(f, &v);
    assert_string_equal(v.states[0], "FAILED");
    assert_string_equal(v.error[0], "boom");
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "tf", &c), 0);
    assert_string_equal(c.state, "FAILED");
    assert_true(coord_sched_all_final(f->sched));
    /* the cancelled folds' results, if they come, are discarded */
    s_result(f, "w1", f->assigns[1].attempt, "COMPLETE", 1);
    s_flush(f);
    s_view(f, &v);
    assert_int_equal(v.complete, 0);
}

/* A non-finite objective fails the attempt and is never best; ties go to the lower
 * trial number. */
static void test_nan_never_best(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("nan", 0, "\"max_trials\": 3", NULL));
    s_hello(f, "w1", 3, NULL, 0);
    assert_int_equal(f->n_assigns, 3);
    s_result(f, "w1", f->assigns[0].attempt, "COMPLETE", NAN);
    s_result(f, "w1", f->assigns[1].attempt, "COMPLETE", 0.5);
    s_result(f, "w1", f->assigns[2].attempt, "COMPLETE", 0.5);
    s_flush(f);
    db_view_t v;
    s_view(f, &v);
    assert_string_equal(v.states[0], "FAILED");
    assert_string_equal(v.error[0], "objective missing/not finite");
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "nan", &c), 0);
    assert_int_equal(c.best_number, 1);
    int err = 0;
    cJSON *doc = coord_sched_status_db(f->db, NULL, 0, &err);
    cJSON *best = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"),
                                                          "nan"), "best");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItem(best, "number")), 1);
    cJSON_Delete(doc);
}

static int s_count_sweeps(const coord_db_sweep_t *row, void *arg)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

/* A changed spec under an existing name is refused naming the paths; new limits
 * resume it. */
static void test_spec_change_refused(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("sc", 0, "\"max_trials\": 2", NULL));
    sw_spec_t *changed = s_spec("sc", 0, "\"max_trials\": 2",
                                ", \"c\": {\"type\": \"categorical\", \"values\": [true, false]}");
    sw_errs_t errs = {0};
    assert_int_equal(coord_sched_add_sweep(f->sched, &changed, &errs), SW_ECHANGED);
    assert_null(changed);
    assert_true(errs.count >= 1);
    char *all = sw_errs_join(&errs, ";");
    assert_non_null(strstr(all, "parameters.c"));
    free(all);
    sw_errs_clear(&errs);
    s_flush(f);

    /* also refused from the store by a fresh scheduler */
    s_close(f);
    s_open(f);
    changed = s_spec("sc", 0, NULL, ", \"c\": {\"type\": \"categorical\", \"values\": [null]}");
    assert_int_equal(coord_sched_add_sweep(f->sched, &changed, &errs), SW_ECHANGED);
    sw_errs_clear(&errs);
    s_flush(f);
    int n = 0;
    assert_int_equal(coord_db_sweeps(f->db, NULL, s_count_sweeps, &n), 0);
    assert_int_equal(n, 1);

    /* only limits changed: resumed with the new limits */
    s_add(f, s_spec("sc", 0, "\"max_trials\": 5", NULL));
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "sc", &c), 0);
    assert_int_equal(c.planned, 5);
}

static void s_fail(fx_t *f, const char *w, int64_t attempt, const char *error, const char *kind)
{
    assert_int_equal(coord_sched_result(f->sched, w, attempt, "FAILED", NULL, error, kind, -1), 0);
}

static const char *s_reason(fx_t *f, const char *sweep, cJSON **doc_out)
{
    int err = 0;
    *doc_out = coord_sched_status_db(f->db, sweep, 0, &err);
    assert_non_null(*doc_out);
    return cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(*doc_out, "sweeps"), sweep), "reason"));
}

/* Fail fast: the first 5 trials all FAILED by the trainer itself and none completed:
 * the sweep ends FAILED after 5 trials, not after the whole 12-point grid. A COMPLETE
 * trial first disarms it; a timeout is not the trainer's own failure, and its reason
 * is not doubled ("timeout: timeout after 4 s"). */
static void test_fail_fast(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("ff", 0, NULL, NULL));
    s_hello(f, "w1", 1, NULL, 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->n_assigns, i + 1);
        s_fail(f, "w1", f->assigns[i].attempt, "exit status 2 (stderr: no such file: data.csv)",
               "trainer");
        assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
        s_flush(f);
    }
    assert_int_equal(f->n_assigns, 5);          /* nothing more was dispatched */
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "ff", &c), 0);
    assert_string_equal(c.state, "FAILED");
    assert_int_equal(c.failed, 5);
    assert_int_equal(c.created, 5);
    cJSON *doc;
    assert_string_equal(s_reason(f, "ff", &doc), "every trial failed: exit status 2 (stderr: no "
                        "such file: data.csv) (stopped after the first 5)");
    cJSON_Delete(doc);

    /* one COMPLETE first: failures afterwards do not end the sweep */
    s_add(f, s_spec("ok", 0, "\"max_trials\": 6", NULL));
    assert_int_equal(f->n_assigns, 6);
    s_result(f, "w1", f->assigns[5].attempt, "COMPLETE", 0.5);
    assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
    s_flush(f);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->n_assigns, 7 + i);
        s_fail(f, "w1", f->assigns[f->n_assigns - 1].attempt, "boom", "trainer");
        assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
        s_flush(f);
    }
    assert_int_equal(coord_sched_counts(f->sched, "ok", &c), 0);
    assert_string_equal(c.state, "COMPLETE");
    assert_int_equal(c.failed, 5);
    assert_int_equal(c.complete, 1);

    /* timeouts are not the trainer's own failure: no fail fast, all 6 run; the reason
     * is said once; a sweep that ends with every trial failed is FAILED */
    s_add(f, s_spec("to", 0, "\"max_trials\": 6", NULL));
    for (int i = 0; i < 6; i++) {
        assert_int_equal(f->n_assigns, 12 + i);
        s_fail(f, "w1", f->assigns[f->n_assigns - 1].attempt, "timeout after 4 s", "timeout");
        assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
        s_flush(f);
    }
    assert_int_equal(coord_sched_counts(f->sched, "to", &c), 0);
    assert_string_equal(c.state, "FAILED");
    assert_int_equal(c.failed, 6);
    assert_string_equal(s_reason(f, "to", &doc), "every trial failed: timeout after 4 s");
    cJSON_Delete(doc);
    db_view_t v;
    memset(&v, 0, sizeof v);
    assert_int_equal(coord_db_trials(f->db, 3, s_view_trial, &v), 0);
    assert_string_equal(v.error[0], "timeout after 4 s");
}

/* A RESULT or REPORT for an attempt sent to another worker is rejected (nothing
 * stored, counted); a HELLO claiming it is answered CANCEL and the attempt stays with
 * its worker, whose own result then counts. */
static void test_foreign_result_rejected(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("fr", 0, "\"max_trials\": 1", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    int64_t id = f->assigns[0].attempt;
    assert_int_equal(coord_sched_hello(f->sched, "evil", "host", 2, 1, &id, 1), 0);
    s_flush(f);
    assert_int_equal(f->n_cancels, 1);
    assert_int_equal(f->cancels[0], id);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "acc", 99);
    int acks = f->n_acks;
    assert_int_equal(coord_sched_report(f->sched, "evil", id, 1, m), SW_ESTATE);
    assert_int_equal(coord_sched_result(f->sched, "evil", id, "COMPLETE", m, NULL, NULL, 1),
                     SW_ESTATE);
    s_flush(f);
    assert_int_equal(f->n_acks, acks);
    assert_int_equal(coord_sched_stats(f->sched).foreign, 2);
    int64_t n_reports = -1;
    assert_int_equal(coord_db_report_count(f->db, id, &n_reports), 0);
    assert_int_equal(n_reports, 0);
    db_view_t v;
    s_view(f, &v);
    assert_string_equal(v.states[0], "RUNNING");
    /* the real worker (also after reconnecting under the same id) delivers */
    assert_int_equal(coord_sched_hello(f->sched, "w1", "host", 1, 1, &id, 1), 0);
    s_result(f, "w1", id, "COMPLETE", 0.75);
    s_flush(f);
    assert_int_equal(f->n_acks, acks + 1);
    s_view(f, &v);
    assert_string_equal(v.states[0], "COMPLETE");
    assert_true(fabs(v.value[0] - 0.75) < 1e-12);
    /* a finished attempt stays its worker's too */
    assert_int_equal(coord_sched_result(f->sched, "evil", id, "COMPLETE", m, NULL, NULL, 1),
                     SW_ESTATE);
    s_flush(f);
    cJSON_Delete(m);
}

static int s_worker_json_count(cJSON *doc, const char *sweep, const char *key)
{
    cJSON *sw = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"), sweep);
    return (int)cJSON_GetNumberValue(cJSON_GetObjectItem(sw, key));
}

/* Capabilities: a worker whose HELLO does not cover the sweep's trainer gets none of
 * it; a worker that answers RESULT kind "worker" (cannot run it) has the attempt
 * requeued without a retry and gets no more of that sweep; status says when no
 * connected worker can run a sweep; a worker whose patterns match runs it. */
static void test_worker_cannot_run(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("cr", 0, "\"max_trials\": 2", NULL));     /* command ["true"] */
    cJSON *mlp_only = cJSON_Parse("[\"mlp\", \"function\"]");
    cJSON *cmd = cJSON_Parse("[\"mlp\", \"function\", \"command\"]");
    cJSON *usr_bin = cJSON_Parse("[\"/usr/bin/*\"]");
    cJSON *tru = cJSON_Parse("[\"tru*\"]");

    assert_int_equal(coord_sched_hello(f->sched, "w-mlp", "h", 1, 1, NULL, 0), 0);
    assert_int_equal(coord_sched_worker_caps(f->sched, "w-mlp", mlp_only, NULL), 0);
    assert_int_equal(coord_sched_request(f->sched, "w-mlp", 1), 0);
    assert_int_equal(coord_sched_hello(f->sched, "w-usr", "h", 1, 1, NULL, 0), 0);
    assert_int_equal(coord_sched_worker_caps(f->sched, "w-usr", cmd, usr_bin), 0);
    assert_int_equal(coord_sched_request(f->sched, "w-usr", 1), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 0);
    int err = 0;
    cJSON *doc = coord_sched_status(f->sched, "cr", &err);
    assert_non_null(doc);
    assert_int_equal(s_worker_json_count(doc, "cr", "workers_able"), 0);
    const char *warning = cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"), "cr"), "warning"));
    assert_non_null(warning);
    assert_string_equal(warning, "no connected worker can run this sweep (trainer command "
                                 "'true'; 2 workers connected)");
    cJSON_Delete(doc);

    /* an older worker announces nothing: tried, refuses, never tried again */
    s_hello(f, "w-old", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 1);
    assert_string_equal(f->assigns[0].worker, "w-old");
    s_fail(f, "w-old", f->assigns[0].attempt,
           "command 'true' not allowed on this worker (--allow-command)", "worker");
    s_flush(f);
    assert_int_equal(coord_sched_request(f->sched, "w-old", 1), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 1);
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "cr", &c), 0);
    assert_int_equal(c.retries, 0);
    assert_int_equal(c.failed, 0);
    assert_int_equal(s_events(f, "worker refused sweep"), 1);
    doc = coord_sched_status(f->sched, "cr", &err);
    cJSON *w;
    int refused = 0;
    cJSON_ArrayForEach(w, cJSON_GetObjectItem(doc, "workers"))
        refused += cJSON_GetArraySize(cJSON_GetObjectItem(w, "refused_sweeps"));
    assert_int_equal(refused, 1);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"),
                                                            "cr"), "warning"));
    cJSON_Delete(doc);

    /* a worker whose --allow-command pattern matches argv[0] runs both trials */
    assert_int_equal(coord_sched_hello(f->sched, "w-ok", "h", 1, 2, NULL, 0), 0);
    assert_int_equal(coord_sched_worker_caps(f->sched, "w-ok", cmd, tru), 0);
    assert_int_equal(coord_sched_request(f->sched, "w-ok", 2), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 3);
    assert_string_equal(f->assigns[1].worker, "w-ok");
    assert_string_equal(f->assigns[2].worker, "w-ok");
    assert_int_equal(f->assigns[1].trial, 0);      /* the refused trial first */
    s_result(f, "w-ok", f->assigns[1].attempt, "COMPLETE", 0.5);
    s_result(f, "w-ok", f->assigns[2].attempt, "COMPLETE", 0.6);
    s_flush(f);
    assert_int_equal(coord_sched_counts(f->sched, "cr", &c), 0);
    assert_string_equal(c.state, "COMPLETE");
    assert_int_equal(c.retries, 0);
    cJSON_Delete(mlp_only);
    cJSON_Delete(cmd);
    cJSON_Delete(usr_bin);
    cJSON_Delete(tru);
}

/* HELLO again from the same process (same host and pid) without an attempt it was
 * sent: the ASSIGN went down with the socket it replaced; requeued, no retry. From a
 * new pid (the worker restarted), the attempt is lost with a retry. */
static void test_assign_lost_in_reconnect(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("rc", 0, "\"max_trials\": 1", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 1);
    s_hello(f, "w1", 1, NULL, 0);                   /* same pid: a reconnect */
    assert_int_equal(f->n_assigns, 2);
    assert_int_equal(f->assigns[1].trial, 0);
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "rc", &c), 0);
    assert_int_equal(c.retries, 0);
    assert_int_equal(coord_sched_hello(f->sched, "w1", "host", 2, 1, NULL, 0), 0);   /* restart */
    assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 3);
    assert_int_equal(coord_sched_counts(f->sched, "rc", &c), 0);
    assert_int_equal(c.retries, 1);
    int err = 0;
    cJSON *doc = coord_sched_status_db(f->db, "rc", 0, &err);
    cJSON *lost = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweeps"), "rc"),
                                      "attempts_lost");
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lost, "reconnect")), 1);
    assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(lost, "lease")), 1);
    cJSON_Delete(doc);
}

/* Assert the trial counts of SWEEP: state, then COMPLETE, RUNNING, PENDING (created
 * trials only: pass the sweep's planned-but-uncreated as well when it runs), CANCELLED,
 * FAILED. */
static void s_counts_are(fx_t *f, const char *sweep, const char *state, int64_t complete,
                         int64_t running, int64_t pending, int64_t cancelled, int64_t failed)
{
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, sweep, &c), 0);
    assert_string_equal(c.state, state);
    assert_int_equal(c.complete, complete);
    assert_int_equal(c.running, running);
    assert_int_equal(c.pending, pending);
    assert_int_equal(c.cancelled, cancelled);
    assert_int_equal(c.failed, failed);
}

/* Complete every assignment from index FROM on, asking for one more each time, until
 * nothing more is assigned. */
static void s_complete_all(fx_t *f, int from)
{
    for (int next = from; next < f->n_assigns; next++) {
        assign_t a = f->assigns[next];
        s_result(f, a.worker, a.attempt, "COMPLETE", s_acc(a.params, a.fold));
        assert_int_equal(coord_sched_request(f->sched, a.worker, 1), 0);
        s_flush(f);
    }
}

/* A sweep that finished at max_trials, still loaded in the scheduler, is reopened
 * when the same spec comes again with max_trials raised: 3 more trials are handed out
 * at once (numbers 3-5), and it ends COMPLETE with 6. The same spec again, finished,
 * stays finished. */
static void test_raised_limit_reopens(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("rl", 0, "\"max_trials\": 3", NULL));
    s_hello(f, "w1", 1, NULL, 0);
    s_complete_all(f, 0);
    assert_int_equal(f->n_assigns, 3);
    assert_true(coord_sched_all_final(f->sched));
    s_add(f, s_spec("rl", 0, "\"max_trials\": 3", NULL));
    assert_int_equal(f->n_assigns, 3);              /* unchanged: stays finished */
    assert_true(coord_sched_all_final(f->sched));
    s_add(f, s_spec("rl", 0, "\"max_trials\": 6", NULL));
    assert_false(coord_sched_all_final(f->sched));
    assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
    s_flush(f);
    assert_int_equal(f->n_assigns, 4);
    assert_int_equal(f->assigns[3].trial, 3);
    s_complete_all(f, 3);
    assert_int_equal(f->n_assigns, 6);
    assert_int_equal(f->assigns[5].trial, 5);
    assert_true(coord_sched_all_final(f->sched));
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "rl", &c), 0);
    assert_int_equal(c.complete, 6);
    assert_int_equal(c.planned, 6);
    assert_string_equal(c.state, "COMPLETE");
    /* the status document names each event's sweep: finished, reopened, finished */
    int err = 0;
    cJSON *doc = coord_sched_status_db(f->db, "rl", 0, &err);
    assert_non_null(doc);
    int finished = 0, reopened = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "events")) {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind"));
        if (!strcmp(kind, "sweep finished") || !strcmp(kind, "sweep reopened")) {
            assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(e, "sweep")), "rl");
            finished += !strcmp(kind, "sweep finished");
            reopened += !strcmp(kind, "sweep reopened");
        }
    }
    assert_int_equal(finished, 2);
    assert_int_equal(reopened, 1);
    cJSON_Delete(doc);
}

/* Cancel a running sweep: exact counts per state before and after, CANCEL for the
 * running attempt, a result crossing the cancel acknowledged and discarded (also after
 * a resume reopened its trial), nothing handed out while cancelled; resume continues
 * only never-started work; resume --retry-failed then evaluates the cancelled grid
 * points once, with their old parameters, and the sweep completes with every point
 * COMPLETE exactly once. */
static void test_cancel_and_resume(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("g", 0, NULL, NULL));
    s_hello(f, "w1", 2, NULL, 0);
    s_hello(f, "w2", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 3);          /* trials 0, 1 on w1; 2 on w2 */
    assert_string_equal(f->assigns[2].worker, "w2");
    s_result(f, "w1", f->assigns[0].attempt, "COMPLETE", 5);
    int64_t handed = f->assigns[2].attempt;
    assert_int_equal(coord_sched_bye(f->sched, "w2", &handed, 1), 0);
    s_flush(f);
    /* trial 0 COMPLETE, 1 RUNNING, 2 PENDING (requeued), 9 planned not created */
    s_counts_are(f, "g", "RUNNING", 1, 1, 1 + 9, 0, 0);

    coord_sched_cancel_t cc;
    assert_int_equal(coord_sched_cancel_sweep(f->sched, "g", "wrong dataset", &cc), 0);
    s_flush(f);
    assert_string_equal(cc.state, "RUNNING");
    assert_int_equal(cc.pending, 1);
    assert_int_equal(cc.running, 1);
    assert_int_equal(cc.attempts, 1);
    assert_int_equal(cc.cancelled, 2);
    assert_int_equal(f->n_cancels, 1);
    assert_int_equal(f->cancels[0], f->assigns[1].attempt);
    s_counts_are(f, "g", "CANCELLED", 1, 0, 0, 2, 0);
    assert_int_equal(s_events(f, "sweep cancelled"), 1);
    cJSON *doc;
    assert_string_equal(s_reason(f, "g", &doc), "cancelled: wrong dataset");
    cJSON_Delete(doc);
    assert_true(coord_sched_all_final(f->sched));
    /* a second cancel, an unknown sweep */
    assert_int_equal(coord_sched_cancel_sweep(f->sched, "g", NULL, &cc), SW_ESTATE);
    assert_string_equal(cc.state, "CANCELLED");
    assert_int_equal(coord_sched_cancel_sweep(f->sched, "nope", NULL, &cc), SW_EINVAL);
    assert_string_equal(cc.state, "");

    /* the result that crossed the CANCEL: acknowledged, counted, reopens nothing */
    int acks = f->n_acks;
    s_result(f, "w1", f->assigns[1].attempt, "COMPLETE", 7);
    assert_int_equal(coord_sched_request(f->sched, "w1", 2), 0);
    s_flush(f);
    assert_int_equal(f->n_acks, acks + 1);
    assert_int_equal(coord_sched_stats(f->sched).duplicates, 1);
    assert_int_equal(f->n_assigns, 3);          /* nothing handed out */
    s_counts_are(f, "g", "CANCELLED", 1, 0, 0, 2, 0);

    /* a running sweep cannot be resumed; a cancelled one can */
    coord_sched_resume_t rs;
    assert_int_equal(coord_sched_resume_sweep(f->sched, "nope", false, &rs), SW_EINVAL);
    assert_int_equal(coord_sched_resume_sweep(f->sched, "g", false, &rs), 0);
    s_flush(f);
    assert_string_equal(rs.previous_state, "CANCELLED");
    assert_string_equal(rs.state, "RUNNING");
    assert_int_equal(rs.reopened, 0);           /* trials 1 and 2 had started */
    assert_int_equal(s_events(f, "sweep resumed"), 1);
    assert_int_equal(coord_sched_resume_sweep(f->sched, "g", false, &rs), SW_ESTATE);
    assert_string_equal(rs.previous_state, "RUNNING");
    /* w1's two free slots get the next never-started trials at once */
    assert_int_equal(f->n_assigns, 5);
    assert_int_equal(f->assigns[3].trial, 3);
    assert_int_equal(f->assigns[4].trial, 4);
    s_counts_are(f, "g", "RUNNING", 1, 2, 7, 2, 0);
    /* the crossed result, sent again now: still discarded */
    s_result(f, "w1", f->assigns[1].attempt, "COMPLETE", 7);
    s_flush(f);
    assert_int_equal(coord_sched_stats(f->sched).duplicates, 2);
    s_complete_all(f, 3);
    s_counts_are(f, "g", "COMPLETE", 10, 0, 0, 2, 0);
    assert_int_equal(f->n_assigns, 12);

    /* COMPLETE: only --retry-failed reopens it, for its cancelled trials */
    assert_int_equal(coord_sched_resume_sweep(f->sched, "g", false, &rs), SW_ESTATE);
    assert_string_equal(rs.previous_state, "COMPLETE");
    assert_int_equal(coord_sched_request(f->sched, "w1", 2), 0);
    assert_int_equal(coord_sched_resume_sweep(f->sched, "g", true, &rs), 0);
    s_flush(f);
    assert_int_equal(rs.reopened, 2);
    assert_string_equal(rs.state, "RUNNING");
    assert_int_equal(f->n_assigns, 14);
    assert_int_equal(f->assigns[12].trial, 1);
    assert_int_equal(f->assigns[13].trial, 2);
    assert_string_equal(f->assigns[12].params, f->assigns[1].params);
    assert_string_equal(f->assigns[13].params, f->assigns[2].params);
    s_counts_are(f, "g", "RUNNING", 10, 2, 0, 0, 0);
    s_complete_all(f, 12);
    s_counts_are(f, "g", "COMPLETE", 12, 0, 0, 0, 0);

    db_view_t v;
    s_view(f, &v);
    assert_int_equal(v.total, 14);              /* old attempts stay in the history */
    assert_int_equal(v.complete, 12);
    for (int t = 0; t < 12; t++) {
        assert_string_equal(v.states[t], "COMPLETE");
        assert_int_equal(v.per_fold[t][0], 1);  /* fold -1: exactly one COMPLETE */
        assert_string_equal(v.error[t], "");
    }
    assert_true(fabs(v.value[1] - s_acc(f->assigns[1].params, -1)) < 1e-9);
}

/* A sweep that ended FAILED (every trial failed by the trainer: fail fast) is reopened
 * in a later scheduler on the same store, as `sweepd resume --db --retry-failed` does:
 * the same five trials run again with the same parameters, and the grid completes with
 * every point COMPLETE once. A RUNNING or unknown sweep cannot be resumed. */
static void test_resume_failed_after_restart(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("ff", 0, NULL, NULL));
    s_hello(f, "w1", 1, NULL, 0);
    for (int i = 0; i < 5; i++) {
        s_fail(f, "w1", f->assigns[i].attempt, "exit status 1", "trainer");
        assert_int_equal(coord_sched_request(f->sched, "w1", 1), 0);
        s_flush(f);
    }
    s_counts_are(f, "ff", "FAILED", 0, 0, 0, 0, 5);
    s_close(f);

    s_open(f);
    coord_sched_counts_t c;
    assert_int_equal(coord_sched_counts(f->sched, "ff", &c), SW_EINVAL);   /* not served */
    coord_sched_resume_t rs;
    assert_int_equal(coord_sched_resume_sweep(f->sched, "ff", true, &rs), 0);
    s_flush(f);
    assert_string_equal(rs.previous_state, "FAILED");
    assert_string_equal(rs.state, "RUNNING");
    assert_int_equal(rs.reopened, 5);
    s_counts_are(f, "ff", "RUNNING", 0, 0, 12, 0, 0);
    cJSON *doc;
    assert_null(s_reason(f, "ff", &doc));
    cJSON_Delete(doc);
    s_hello(f, "w1", 1, NULL, 0);
    assert_int_equal(f->n_assigns, 6);
    assert_int_equal(f->assigns[5].trial, 0);
    assert_string_equal(f->assigns[5].params, f->assigns[0].params);
    s_complete_all(f, 5);
    s_counts_are(f, "ff", "COMPLETE", 12, 0, 0, 0, 0);
    db_view_t v;
    s_view(f, &v);
    assert_int_equal(v.total, 17);
    assert_int_equal(v.complete, 12);
    for (int t = 0; t < 12; t++)
        assert_int_equal(v.per_fold[t][0], 1);
    assert_int_equal(s_events(f, "sweep resumed"), 1);
}

/* A cancelled sweep with folds: the running folds' attempts are all cancelled, the
 * folds already COMPLETE are kept when --retry-failed reopens the trial, and only the
 * missing folds run again. */
static void test_cancel_keeps_complete_folds(void **state)
{
    fx_t *f = *state;
    s_add(f, s_spec("cv", 3, "\"max_trials\": 1", NULL));
    s_hello(f, "w1", 3, NULL, 0);
    assert_int_equal(f->n_assigns, 3);
    s_result(f, "w1", f->assigns[0].attempt, "COMPLETE", s_acc(f->assigns[0].params, 0));
    s_flush(f);
    coord_sched_cancel_t cc;
    assert_int_equal(coord_sched_cancel_sweep(f->sched, "cv", NULL, &cc), 0);
    s_flush(f);
    assert_int_equal(cc.running, 1);
    assert_int_equal(cc.attempts, 2);
    assert_int_equal(f->n_cancels, 2);
    s_counts_are(f, "cv", "CANCELLED", 0, 0, 0, 1, 0);
    cJSON *doc;
    assert_string_equal(s_reason(f, "cv", &doc), "cancelled: by the user");
    cJSON_Delete(doc);
    coord_sched_resume_t rs;
    assert_int_equal(coord_sched_request(f->sched, "w1", 3), 0);
    assert_int_equal(coord_sched_resume_sweep(f->sched, "cv", true, &rs), 0);
    s_flush(f);
    assert_int_equal(rs.reopened, 1);
    assert_int_equal(f->n_assigns, 5);          /* folds 1 and 2 only */
    assert_int_equal(f->assigns[3].fold, 1);
    assert_int_equal(f->assigns[4].fold, 2);
    s_complete_all(f, 3);
    s_counts_are(f, "cv", "COMPLETE", 1, 0, 0, 0, 0);
    db_view_t v;
    s_view(f, &v);
    for (int k = 1; k <= 3; k++)
        assert_int_equal(v.per_fold[0][k], 1);
    assert_true(fabs(v.value[0] - (s_acc(f->assigns[0].params, 0)
                                   + s_acc(f->assigns[0].params, 1)
                                   + s_acc(f->assigns[0].params, 2)) / 3) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grid_three_workers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lease_expiry_and_late_duplicate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_busy_bye_orphans_and_status, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lost_attempt_delivers_first, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_restart_resumes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_restart_reattach, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_max_retries, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_trainer_failure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_nan_never_best, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_spec_change_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_raised_limit_reopens, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_lost_once_wording, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_fail_fast, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_foreign_result_rejected, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_worker_cannot_run, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_assign_lost_in_reconnect, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_resume, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_resume_failed_after_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_keeps_complete_folds, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
