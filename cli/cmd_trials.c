/*  cmd_trials.c - `sweepd trials` (every trial) and `sweepd best` (the best trial)
 *
 *  Both read the database read-only (fine while a coordinator writes it). `trials`
 *  prints CSV (one column per parameter, in the spec's order) or JSON (parameters keep
 *  their JSON types). `best` picks, per sweep, the COMPLETE trial with the best finite
 *  value in the objective's direction; ties go to the lower trial number.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli/cli.h"
#include "common/sw_err.h"
#include "common/sw_spec.h"
#include "coordinator/coord_db.h"

typedef struct {
    int64_t id;
    char *name;
    sw_spec_t *spec;        /* NULL when the stored spec does not parse */
} sweep_ref_t;

typedef struct {
    sweep_ref_t *items;
    size_t n;
    const char *filter;
} sweeps_t;

static int s_collect_sweep(const coord_db_sweep_t *row, void *arg)
{
    sweeps_t *s = arg;
    if (s->filter && strcmp(s->filter, row->name))
        return 0;
    sweep_ref_t *p = realloc(s->items, (s->n + 1) * sizeof *p);
    if (!p)
        return SW_ENOMEM;
    s->items = p;
    sw_errs_t errs = {0};
    p[s->n].id = row->id;
    p[s->n].name = strdup(row->name);
    p[s->n].spec = sw_spec_parse(row->spec, strlen(row->spec), row->name, &errs);
    sw_errs_clear(&errs);
    s->n++;
    return 0;
}

static void s_sweeps_free(sweeps_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->items[i].name);
        sw_spec_destroy(&s->items[i].spec);
    }
    free(s->items);
}

/* Open DB_PATH read-only and list its sweeps (or SWEEP). Exit status on failure. */
static int s_open(const char *cmd, const char *db_path, const char *sweep, coord_db_t **db,
                  sweeps_t *sweeps)
{
    int err = 0;
    *db = coord_db_new(db_path, true, &err);
    if (!*db) {
        fprintf(stderr, "sweepd %s: cannot open '%s': %s\n", cmd, db_path, sw_strerror(err));
        return CLI_EXIT_FAILURE;
    }
    sweeps->filter = sweep;
    if (coord_db_sweeps(*db, NULL, s_collect_sweep, sweeps)) {
        fprintf(stderr, "sweepd %s: cannot read '%s'\n", cmd, db_path);
        return CLI_EXIT_FAILURE;
    }
    if (sweep && sweeps->n == 0) {
        fprintf(stderr, "sweepd %s: no sweep named '%s' in '%s'\n", cmd, sweep, db_path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* Trial as JSON: {sweep, number, state, params, value, value_std, folds_done, error}. */
static cJSON *s_trial_json(const char *sweep, const coord_db_trial_t *row)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sweep", sweep);
    cJSON_AddNumberToObject(o, "number", (double)row->number);
    cJSON_AddStringToObject(o, "state", row->state);
    cJSON *p = cJSON_Parse(row->params);
    cJSON_AddItemToObject(o, "params", p ? p : cJSON_CreateObject());
    if (isfinite(row->value))
        cJSON_AddNumberToObject(o, "value", row->value);
    else
        cJSON_AddNullToObject(o, "value");
    if (isfinite(row->value_std))
        cJSON_AddNumberToObject(o, "value_std", row->value_std);
    else
        cJSON_AddNullToObject(o, "value_std");
    cJSON_AddNumberToObject(o, "folds_done", row->folds_done);
    if (row->error)
        cJSON_AddStringToObject(o, "error", row->error);
    else
        cJSON_AddNullToObject(o, "error");
    return o;
}

static void s_csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

typedef struct {
    const sweep_ref_t *sweep;
    bool json;
    cJSON *arr;
} trials_ctx_t;

static int s_print_trial(const coord_db_trial_t *row, void *arg)
{
    trials_ctx_t *c = arg;
    if (c->json) {
        cJSON_AddItemToArray(c->arr, s_trial_json(c->sweep->name, row));
        return 0;
    }
    s_csv_field(c->sweep->name);
    printf(",%lld,%s", (long long)row->number, row->state);
    cJSON *p = cJSON_Parse(row->params);
    const sw_spec_t *spec = c->sweep->spec;
    for (int i = 0; spec && i < spec->n_params; i++) {
        putchar(',');
        cJSON *v = cJSON_GetObjectItemCaseSensitive(p, spec->params[i].name);
        if (!v || cJSON_IsNull(v))
            continue;
        if (cJSON_IsString(v)) {
            s_csv_field(v->valuestring);
        } else {
            char *t = cJSON_PrintUnformatted(v);
            s_csv_field(t ? t : "");
            free(t);
        }
    }
    cJSON_Delete(p);
    putchar(',');
    if (isfinite(row->value))
        printf("%.17g", row->value);
    putchar(',');
    if (isfinite(row->value_std))
        printf("%.17g", row->value_std);
    printf(",%d,", row->folds_done);
    if (row->error)
        s_csv_field(row->error);
    putchar('\n');
    return 0;
}

static int s_print_attempt(const coord_db_attempt_t *row, void *arg)
{
    trials_ctx_t *ctx = arg;
    if (ctx->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "sweep", ctx->sweep->name);
        cJSON_AddNumberToObject(o, "attempt", (double)row->id);
        cJSON_AddNumberToObject(o, "trial", (double)row->trial_number);
        cJSON_AddNumberToObject(o, "fold", row->fold);
        cJSON_AddStringToObject(o, "state", row->state);
        if (row->kind)
            cJSON_AddStringToObject(o, "kind", row->kind);
        else
            cJSON_AddNullToObject(o, "kind");
        cJSON_AddStringToObject(o, "worker", row->worker_id ? row->worker_id : "");
        if (isfinite(row->value))
            cJSON_AddNumberToObject(o, "value", row->value);
        else
            cJSON_AddNullToObject(o, "value");
        if (row->last_step >= 0)
            cJSON_AddNumberToObject(o, "last_step", (double)row->last_step);
        else
            cJSON_AddNullToObject(o, "last_step");
        if (row->error)
            cJSON_AddStringToObject(o, "error", row->error);
        else
            cJSON_AddNullToObject(o, "error");
        cJSON_AddItemToArray(ctx->arr, o);
        return 0;
    }
    printf("%s,%lld,%lld,%d,%s,%s,", ctx->sweep->name, (long long)row->id,
           (long long)row->trial_number, row->fold, row->state, row->kind ? row->kind : "");
    s_csv_field(row->worker_id ? row->worker_id : "");
    if (isfinite(row->value))
        printf(",%.17g,", row->value);
    else
        printf(",,");
    if (row->last_step >= 0)
        printf("%lld", (long long)row->last_step);
    putchar(',');
    s_csv_field(row->error ? row->error : "");
    putchar('\n');
    return 0;
}

int cli_cmd_trials(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"attempts", no_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL;
    bool json = false, attempts = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:f:ah", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'a': attempts = true; break;
        case 'f':
            if (!strcmp(optarg, "json")) {
                json = true;
            } else if (strcmp(optarg, "csv")) {
                fprintf(stderr, "sweepd trials: --format: expected csv or json, not '%s'\n", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            printf("usage: sweepd trials --db FILE [SWEEP] [--format csv|json] [--attempts]\n\n"
                   "Print every trial of SWEEP (default: every sweep): number, state, each\n"
                   "parameter (a CSV column each; JSON keeps their types), value (mean over\n"
                   "folds), value_std (population std over folds), folds done, error.\n"
                   "With --attempts, print every attempt instead: sweep, attempt id, trial\n"
                   "number, fold (-1 without cross-validation), state, kind (trainer,\n"
                   "lease, handed_back, timeout, worker, cancelled, ...), worker, value,\n"
                   "last_step (the last step reported: where a pruned attempt stopped),\n"
                   "error.\n\n"
                   "exit status: 0 ok, 1 unreadable database, 2 usage or unknown sweep\n");
            return CLI_EXIT_OK;
        default:
            fprintf(stderr, "usage: sweepd trials --db FILE [SWEEP] [--format csv|json]\n");
            return CLI_EXIT_USAGE;
        }
    }
    if (!db_path || argc - optind > 1) {
        fprintf(stderr, "usage: sweepd trials --db FILE [SWEEP] [--format csv|json]\n");
        return CLI_EXIT_USAGE;
    }
    coord_db_t *db = NULL;
    sweeps_t sweeps = {0};
    int status = s_open("trials", db_path, optind < argc ? argv[optind] : NULL, &db, &sweeps);
    if (status)
        goto out;
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < sweeps.n; i++) {
        const sweep_ref_t *sw = &sweeps.items[i];
        if (attempts) {
            if (!json && i == 0)
                printf("sweep,attempt,trial,fold,state,kind,worker,value,last_step,error\n");
            trials_ctx_t actx = {sw, json, arr};
            if (coord_db_attempts(db, sw->id, NULL, s_print_attempt, &actx)) {
                fprintf(stderr, "sweepd trials: cannot read '%s'\n", db_path);
                status = CLI_EXIT_FAILURE;
                break;
            }
            continue;
        }
        if (!json) {
            if (i)
                putchar('\n');
            printf("sweep,number,state");
            for (int k = 0; sw->spec && k < sw->spec->n_params; k++) {
                putchar(',');
                s_csv_field(sw->spec->params[k].name);
            }
            printf(",value,value_std,folds_done,error\n");
        }
        trials_ctx_t ctx = {sw, json, arr};
        if (coord_db_trials(db, sw->id, s_print_trial, &ctx)) {
            fprintf(stderr, "sweepd trials: cannot read '%s'\n", db_path);
            status = CLI_EXIT_FAILURE;
            break;
        }
    }
    if (json) {
        char *t = cJSON_Print(arr);
        if (!status)
            printf("%s\n", t ? t : "[]");
        free(t);
        cJSON_Delete(arr);
    }
out:
    s_sweeps_free(&sweeps);
    coord_db_destroy(&db);
    return status;
}

typedef struct {
    bool maximize;
    bool found;
    int64_t number;
    double value;
    cJSON *best;
    const char *sweep;
} best_ctx_t;

static int s_best_trial(const coord_db_trial_t *row, void *arg)
{
    best_ctx_t *c = arg;
    if (strcmp(row->state, "COMPLETE") || !isfinite(row->value))
        return 0;
    if (c->found && !(c->maximize ? row->value > c->value : row->value < c->value))
        return 0;
    c->found = true;
    c->number = row->number;
    c->value = row->value;
    cJSON_Delete(c->best);
    c->best = s_trial_json(c->sweep, row);
    return 0;
}

int cli_cmd_best(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db_path = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db_path = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: sweepd best --db FILE [SWEEP] [--json]\n\n"
                   "Print the best COMPLETE trial of SWEEP (default: of each sweep): the finite\n"
                   "value best in the objective's direction, ties to the lower trial number.\n\n"
                   "exit status: 0 ok, 1 unreadable database or no finished trial, 2 usage\n");
            return CLI_EXIT_OK;
        default:
            fprintf(stderr, "usage: sweepd best --db FILE [SWEEP] [--json]\n");
            return CLI_EXIT_USAGE;
        }
    }
    if (!db_path || argc - optind > 1) {
        fprintf(stderr, "usage: sweepd best --db FILE [SWEEP] [--json]\n");
        return CLI_EXIT_USAGE;
    }
    coord_db_t *db = NULL;
    sweeps_t sweeps = {0};
    int status = s_open("best", db_path, optind < argc ? argv[optind] : NULL, &db, &sweeps);
    if (status)
        goto out;
    cJSON *all = cJSON_CreateObject();
    for (size_t i = 0; i < sweeps.n; i++) {
        const sweep_ref_t *sw = &sweeps.items[i];
        best_ctx_t ctx = {.maximize = sw->spec && sw->spec->direction == SW_DIR_MAXIMIZE,
                          .sweep = sw->name};
        if (coord_db_trials(db, sw->id, s_best_trial, &ctx)) {
            status = CLI_EXIT_FAILURE;
            break;
        }
        if (!ctx.found) {
            fprintf(stderr, "sweepd best: sweep '%s' has no COMPLETE trial with a finite value\n",
                    sw->name);
            if (sweeps.n == 1)
                status = CLI_EXIT_FAILURE;
            cJSON_AddNullToObject(all, sw->name);
            continue;
        }
        if (!json) {
            char *p = cJSON_PrintUnformatted(cJSON_GetObjectItem(ctx.best, "params"));
            const cJSON *sd = cJSON_GetObjectItem(ctx.best, "value_std");
            printf("%s  trial %lld  %s %.17g", sw->name, (long long)ctx.number,
                   sw->spec ? sw->spec->metric : "value", ctx.value);
            if (cJSON_IsNumber(sd))
                printf(" +- %.6g", sd->valuedouble);
            printf("  %s\n", p ? p : "{}");
            free(p);
            cJSON_Delete(ctx.best);
        } else {
            cJSON_AddItemToObject(all, sw->name, ctx.best);
        }
    }
    if (json && status != CLI_EXIT_FAILURE) {
        char *t = cJSON_Print(all);
        printf("%s\n", t ? t : "{}");
        free(t);
    }
    cJSON_Delete(all);
out:
    s_sweeps_free(&sweeps);
    coord_db_destroy(&db);
    return status;
}
