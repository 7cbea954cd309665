/*  cmd_check.c - `sweepd check`: verify a trial database and sweepd's exactly-once invariants
 *
 *  Opens the database read-only (fine while a coordinator writes it), runs SQLite's
 *  PRAGMA integrity_check, and then checks, for each sweep (or the one named), what
 *  sweepd promises (docs/STORE.md, "Invariants"):
 *
 *    - trial numbers are 0, 1, 2, ... with no gap and no repeat;
 *    - each (trial, fold) has at most one COMPLETE attempt; a COMPLETE trial has one
 *      for every fold and its value is their mean; folds_done matches;
 *    - a final trial has no RUNNING attempt and has finished_unix_ms set;
 *    - a sweep that is not RUNNING (COMPLETE, FAILED, CANCELLED) has every trial final:
 *      cancel ends every trial it does not finish, and resume reopens trials only
 *      together with the sweep (a reopened trial is PENDING with no finished time);
 *    - a grid sweep never evaluates one configuration twice (params differ pairwise);
 *    - with --final: the sweep is final, every trial is final, nothing is RUNNING;
 *    - with --acked FILE (lines "ATTEMPT STATE", as workers log "result acknowledged"):
 *      every acknowledged attempt is recorded (not RUNNING), and every acknowledged
 *      COMPLETE result left its fold COMPLETE (or its trial final): no acknowledged
 *      result was lost.
 *
 *  Prints one line per problem and a summary; --json prints a document instead.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli/cli.h"
#include "common/sw_err.h"
#include "common/sw_spec.h"
#include "common/sw_mem.h"
#include "coordinator/coord_db.h"

#define S_MAX_SHOWN 50          /* problems printed in full; the rest are counted */

typedef struct {
    int64_t id;
    int64_t number;
    char *state;
    char *params;
    double value;
    int folds_done;
    int64_t finished_unix_ms;
    int *complete;              /* COMPLETE attempts per fold */
    double *fold_value;         /* value of the COMPLETE attempt per fold */
    int running;                /* RUNNING attempts */
} trial_t;

typedef struct {
    cJSON *problems;            /* array of strings */
    int64_t n_problems;
    int64_t trials, attempts, running, complete, failed, lost, pruned, cancelled,
        duplicates_discarded;
} report_t;

typedef struct {
    trial_t *items;
    size_t n, cap;
    int folds;                  /* 1 without cross-validation */
} trials_t;

static void s_problem(report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_problem(report_t *r, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (r->n_problems++ < S_MAX_SHOWN)
        cJSON_AddItemToArray(r->problems, cJSON_CreateString(buf));
}

static bool s_final(const char *state)
{
    return strcmp(state, "PENDING") && strcmp(state, "RUNNING");
}

static int s_collect_trial(const coord_db_trial_t *row, void *arg)
{
    trials_t *ts = arg;
    if (sw_grow((void **)&ts->items, &ts->cap, ts->n + 1, sizeof *ts->items, 256))
        return SW_ENOMEM;
    trial_t *t = &ts->items[ts->n++];
    memset(t, 0, sizeof *t);
    t->id = row->id;
    t->number = row->number;
    t->state = strdup(row->state);
    t->params = strdup(row->params ? row->params : "");
    t->value = row->value;
    t->folds_done = row->folds_done;
    t->finished_unix_ms = row->finished_unix_ms;
    t->complete = calloc((size_t)ts->folds, sizeof *t->complete);
    t->fold_value = calloc((size_t)ts->folds, sizeof *t->fold_value);
    return t->state && t->params && t->complete && t->fold_value ? 0 : SW_ENOMEM;
}

static void s_trials_free(trials_t *ts)
{
    for (size_t i = 0; i < ts->n; i++) {
        free(ts->items[i].state);
        free(ts->items[i].params);
        free(ts->items[i].complete);
        free(ts->items[i].fold_value);
    }
    free(ts->items);
}

typedef struct {
    trials_t *ts;
    report_t *r;
    const char *sweep;
} attempts_ctx_t;

static trial_t *s_trial_by_number(trials_t *ts, int64_t number)
{
    if (number >= 0 && (size_t)number < ts->n && ts->items[number].number == number)
        return &ts->items[number];
    for (size_t i = 0; i < ts->n; i++)
        if (ts->items[i].number == number)
            return &ts->items[i];
    return NULL;
}

static int s_check_attempt(const coord_db_attempt_t *row, void *arg)
{
    attempts_ctx_t *c = arg;
    c->r->attempts++;
    trial_t *t = s_trial_by_number(c->ts, row->trial_number);
    if (!t) {
        s_problem(c->r, "%s: attempt %lld belongs to no trial of this sweep", c->sweep,
                  (long long)row->id);
        return 0;
    }
    int fold = c->ts->folds >= 2 ? row->fold : 0;
    if (fold < 0 || fold >= c->ts->folds || (c->ts->folds < 2 && row->fold != -1)) {
        s_problem(c->r, "%s: attempt %lld of trial %lld has fold %d outside the sweep's folds",
                  c->sweep, (long long)row->id, (long long)t->number, row->fold);
        return 0;
    }
    if (!strcmp(row->state, "COMPLETE")) {
        c->r->complete++;
        if (t->complete[fold]++)
            s_problem(c->r, "%s: trial %lld fold %d has %d COMPLETE attempts (a result was "
                      "recorded twice)", c->sweep, (long long)t->number, row->fold,
                      t->complete[fold]);
        t->fold_value[fold] = row->value;
    } else if (!strcmp(row->state, "RUNNING")) {
        c->r->running++;
        t->running++;
    } else if (!strcmp(row->state, "FAILED")) {
        c->r->failed++;
    } else if (!strcmp(row->state, "LOST")) {
        c->r->lost++;
    } else if (!strcmp(row->state, "PRUNED")) {
        c->r->pruned++;
    } else if (!strcmp(row->state, "CANCELLED")) {
        c->r->cancelled++;
    }
    return 0;
}

typedef struct {
    int64_t id;
    char state[16];
    int64_t trial_number;
    int64_t sweep_id;
    int fold;
    bool found;
} attempt_copy_t;

static int s_copy_attempt(const coord_db_attempt_t *row, void *arg)
{
    attempt_copy_t *a = arg;
    a->found = true;
    snprintf(a->state, sizeof a->state, "%s", row->state);
    a->trial_number = row->trial_number;
    a->sweep_id = row->sweep_id;
    a->fold = row->fold;
    return 0;
}

typedef struct {
    int64_t trial_number;
    int fold;
    bool complete;
    bool final;
} fold_state_t;

static int s_fold_complete(const coord_db_attempt_t *row, void *arg)
{
    fold_state_t *f = arg;
    if (row->trial_number == f->trial_number && row->fold == f->fold
        && !strcmp(row->state, "COMPLETE"))
        f->complete = true;
    return 0;
}

static int s_trial_final(const coord_db_trial_t *row, void *arg)
{
    fold_state_t *f = arg;
    if (row->number == f->trial_number && s_final(row->state))
        f->final = true;
    return 0;
}

/* Every attempt listed in PATH ("ATTEMPT STATE" per line) was recorded. */
static int s_check_acked(coord_db_t *db, const char *path, report_t *r, int64_t *n_acked)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        fprintf(stderr, "sweepd check: cannot read '%s'\n", path);
        return -1;
    }
    char line[256];
    while (fgets(line, sizeof line, f)) {
        long long id;
        char state[32] = "";
        if (sscanf(line, "%lld %31s", &id, state) < 1)
            continue;
        (*n_acked)++;
        attempt_copy_t a = {.id = id};
        if (coord_db_attempt_get(db, id, s_copy_attempt, &a) < 0) {
            fclose(f);
            return -1;
        }
        if (!a.found) {
            s_problem(r, "acknowledged attempt %lld is not in the database (lost)", id);
            continue;
        }
        if (!strcmp(a.state, "RUNNING")) {
            s_problem(r, "acknowledged attempt %lld is still RUNNING in the database (lost)", id);
            continue;
        }
        if (strcmp(state, "COMPLETE") || !strcmp(a.state, "COMPLETE"))
            continue;
        /* discarded as a duplicate: then its fold must be COMPLETE, or its trial final */
        fold_state_t fs = {.trial_number = a.trial_number, .fold = a.fold};
        if (coord_db_attempts(db, a.sweep_id, "COMPLETE", s_fold_complete, &fs) < 0
            || coord_db_trials(db, a.sweep_id, s_trial_final, &fs) < 0) {
            fclose(f);
            return -1;
        }
        if (!fs.complete && !fs.final)
            s_problem(r, "acknowledged COMPLETE result of attempt %lld (trial %lld fold %d) "
                      "is not recorded and its fold is not COMPLETE (lost)", id,
                      (long long)a.trial_number, a.fold);
    }
    fclose(f);
    return 0;
}

static int s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct {
    coord_db_t *db;
    const char *filter;
    bool final;
    report_t *r;
    int64_t sweeps;
    int rc;
} sweeps_ctx_t;

static int s_check_sweep(const coord_db_sweep_t *row, void *arg)
{
    sweeps_ctx_t *c = arg;
    if (c->filter && strcmp(c->filter, row->name))
        return 0;
    c->sweeps++;
    report_t *r = c->r;
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_parse(row->spec, strlen(row->spec), row->name, &errs);
    sw_errs_clear(&errs);
    if (!spec) {
        s_problem(r, "%s: the stored spec does not parse", row->name);
        return 0;
    }
    trials_t ts = {.folds = spec->cv_folds >= 2 ? spec->cv_folds : 1};
    attempts_ctx_t ac = {&ts, r, row->name};
    if (coord_db_trials(c->db, row->id, s_collect_trial, &ts)
        || coord_db_attempts(c->db, row->id, NULL, s_check_attempt, &ac)) {
        c->rc = -1;
        s_trials_free(&ts);
        sw_spec_destroy(&spec);
        return 1;
    }
    r->trials += (int64_t)ts.n;
    if (c->final && !strcmp(row->state, "RUNNING"))
        s_problem(r, "%s: the sweep is still RUNNING", row->name);
    for (size_t i = 0; i < ts.n; i++) {
        trial_t *t = &ts.items[i];
        if (t->number != (int64_t)i)
            s_problem(r, "%s: trial numbers have a gap or a repeat at %lld (expected %zu)",
                      row->name, (long long)t->number, i);
        bool final = s_final(t->state);
        int done = 0;
        double sum = 0;
        for (int f = 0; f < ts.folds; f++)
            if (t->complete[f]) {
                done++;
                sum += t->fold_value[f];
            }
        if (done != t->folds_done)
            s_problem(r, "%s: trial %lld says %d folds done but has %d COMPLETE folds",
                      row->name, (long long)t->number, t->folds_done, done);
        if (!strcmp(t->state, "COMPLETE")) {
            if (done != ts.folds)
                s_problem(r, "%s: trial %lld is COMPLETE with %d of %d folds COMPLETE",
                          row->name, (long long)t->number, done, ts.folds);
            else if (!(fabs(sum / ts.folds - t->value) <= 1e-9 * (1 + fabs(t->value))))
                s_problem(r, "%s: trial %lld value %.17g is not the mean of its folds (%.17g)",
                          row->name, (long long)t->number, t->value, sum / ts.folds);
        }
        if (final && t->running)
            s_problem(r, "%s: trial %lld is %s but has %d RUNNING attempts", row->name,
                      (long long)t->number, t->state, t->running);
        if (final != (t->finished_unix_ms != 0))
            s_problem(r, "%s: trial %lld is %s but finished_unix_ms is %s", row->name,
                      (long long)t->number, t->state, final ? "not set" : "set");
        if (c->final && !final)
            s_problem(r, "%s: trial %lld is %s, not final", row->name, (long long)t->number,
                      t->state);
        else if (!final && strcmp(row->state, "RUNNING"))
            s_problem(r, "%s: the sweep is %s but trial %lld is %s", row->name, row->state,
                      (long long)t->number, t->state);
        if (c->final && t->running)
            s_problem(r, "%s: trial %lld has a RUNNING attempt", row->name,
                      (long long)t->number);
    }
    if (spec->method == SW_METHOD_GRID && ts.n > 1) {
        char **p = malloc(ts.n * sizeof *p);
        if (p) {
            for (size_t i = 0; i < ts.n; i++)
                p[i] = ts.items[i].params;
            qsort(p, ts.n, sizeof *p, s_cmp_str);
            for (size_t i = 1; i < ts.n; i++)
                if (!strcmp(p[i - 1], p[i]))
                    s_problem(r, "%s: grid point %s appears more than once", row->name, p[i]);
            free(p);
        }
    }
    s_trials_free(&ts);
    sw_spec_destroy(&spec);
    return 0;
}

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd check --db FILE [SWEEP] [--final] [--acked FILE] [--json]\n\n"
            "Check a trial database: SQLite's integrity_check, then sweepd's invariants per\n"
            "sweep: trial numbers without gaps or repeats, at most one COMPLETE attempt per\n"
            "trial and fold, COMPLETE trials complete in every fold with the mean as value,\n"
            "no RUNNING attempt of a final trial, no trial left open in a sweep that is not\n"
            "RUNNING, no grid point evaluated twice.\n\n"
            "  --db FILE      the database (opened read-only; fine while a coordinator runs)\n"
            "  --final        also require every sweep and trial to be final, nothing RUNNING\n"
            "  --acked FILE   lines 'ATTEMPT STATE' of results workers saw acknowledged\n"
            "                 (their 'result acknowledged' log lines): each must be recorded\n"
            "  --json         print a JSON document instead of text\n\n"
            "exit status: 0 every check passed, 1 a problem found or unreadable database,\n"
            "2 usage or unknown sweep\n");
}

int cli_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"final", no_argument, NULL, 'F'},
        {"acked", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL, *acked = NULL;
    bool final = false, json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:Fa:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'F': final = true; break;
        case 'a': acked = optarg; break;
        case 'j': json = true; break;
        case 'h': s_usage(stdout); return CLI_EXIT_OK;
        default: s_usage(stderr); return CLI_EXIT_USAGE;
        }
    }
    if (!db_path || argc - optind > 1) {
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sweep = optind < argc ? argv[optind] : NULL;
    int err = 0;
    coord_db_t *db = coord_db_new(db_path, true, &err);
    if (!db) {
        fprintf(stderr, "sweepd check: cannot open '%s': %s\n", db_path, sw_strerror(err));
        return CLI_EXIT_FAILURE;
    }
    report_t r = {.problems = cJSON_CreateArray()};
    char integrity[512];
    int irc = coord_db_integrity_check(db, integrity, sizeof integrity);
    if (irc)
        s_problem(&r, "integrity_check: %s", integrity);
    sweeps_ctx_t sc = {db, sweep, final, &r, 0, 0};
    int status = CLI_EXIT_OK;
    int64_t n_acked = 0;
    if (coord_db_sweeps(db, NULL, s_check_sweep, &sc) || sc.rc
        || (acked && s_check_acked(db, acked, &r, &n_acked))) {
        fprintf(stderr, "sweepd check: cannot read '%s'\n", db_path);
        status = CLI_EXIT_FAILURE;
        goto out;
    }
    if (sweep && sc.sweeps == 0) {
        fprintf(stderr, "sweepd check: no sweep named '%s' in '%s'\n", sweep, db_path);
        status = CLI_EXIT_USAGE;
        goto out;
    }
    if (json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddBoolToObject(doc, "ok", r.n_problems == 0);
        cJSON_AddStringToObject(doc, "integrity_check", integrity);
        cJSON_AddNumberToObject(doc, "sweeps", (double)sc.sweeps);
        cJSON_AddNumberToObject(doc, "trials", (double)r.trials);
        cJSON_AddNumberToObject(doc, "attempts", (double)r.attempts);
        cJSON_AddNumberToObject(doc, "attempts_complete", (double)r.complete);
        cJSON_AddNumberToObject(doc, "attempts_running", (double)r.running);
        cJSON_AddNumberToObject(doc, "attempts_lost", (double)r.lost);
        cJSON_AddNumberToObject(doc, "attempts_failed", (double)r.failed);
        cJSON_AddNumberToObject(doc, "attempts_pruned", (double)r.pruned);
        cJSON_AddNumberToObject(doc, "attempts_cancelled", (double)r.cancelled);
        if (acked)
            cJSON_AddNumberToObject(doc, "acked_checked", (double)n_acked);
        cJSON_AddNumberToObject(doc, "problems_found", (double)r.n_problems);
        cJSON_AddItemToObject(doc, "problems", r.problems);
        r.problems = NULL;
        char *text = cJSON_Print(doc);
        printf("%s\n", text ? text : "{}");
        free(text);
        cJSON_Delete(doc);
    } else {
        const cJSON *p;
        cJSON_ArrayForEach(p, r.problems)
            printf("problem: %s\n", p->valuestring);
        if (r.n_problems > S_MAX_SHOWN)
            printf("problem: ... and %lld more\n", (long long)(r.n_problems - S_MAX_SHOWN));
        char pc[64] = "";   /* pruned and cancelled, only when there are any */
        if (r.pruned || r.cancelled)
            snprintf(pc, sizeof pc, ", %lld pruned, %lld cancelled", (long long)r.pruned,
                     (long long)r.cancelled);
        printf("check %s: integrity_check %s, %lld sweep%s, %lld trial%s, %lld attempt%s "
               "(%lld complete, %lld running, %lld lost, %lld failed%s)",
               r.n_problems ? "FAILED" : "ok", integrity, (long long)sc.sweeps,
               sc.sweeps == 1 ? "" : "s", (long long)r.trials, r.trials == 1 ? "" : "s",
               (long long)r.attempts, r.attempts == 1 ? "" : "s", (long long)r.complete,
               (long long)r.running, (long long)r.lost, (long long)r.failed, pc);
        if (acked)
            printf(", %lld acknowledged results recorded", (long long)n_acked);
        printf("\n");
    }
    if (r.n_problems)
        status = CLI_EXIT_FAILURE;
out:
    cJSON_Delete(r.problems);
    coord_db_destroy(&db);
    return status;
}
