/*  cmd_refit.c - `sweepd refit`: verify the winner of a sweep on its held-out test rows
 *
 *  Retrains a configuration (the sweep's best trial, or parameters given by hand) on all
 *  tuning rows, scores the rows that trainer.test_split held out of tuning, prints train
 *  / validation / CV / test metrics and a verdict (good fit, overfitting, underfitting),
 *  and saves the model for `sweepd predict`. The work is worker/trn_refit.c; this file
 *  gathers the inputs (a spec file, or a sweep's stored spec and best trial) and prints.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli/cli.h"
#include "common/sw_file.h"
#include "common/sw_err.h"
#include "coordinator/coord_db.h"
#include "worker/trn_refit.h"

static const char s_usage[] =
    "usage: sweepd refit --spec SPEC.json --params JSON [--out MODEL] [--seed N] [--json]\n"
    "       sweepd refit --db FILE SWEEP [--out MODEL] [--seed N] [--json]\n"
    "\n"
    "Retrain a configuration of the built-in trainer on all tuning rows (every row except\n"
    "the trainer.test_split held out of tuning), score the held-out rows, print train,\n"
    "validation, cross-validation and test metrics with a verdict (good fit, overfitting,\n"
    "underfitting; docs/TRAINER.md says the rule), and save the model.\n"
    "\n"
    "  --spec SPEC.json  the sweep spec (its trainer and cv objects)\n"
    "  --params JSON     the configuration, e.g. '{\"batch_size\": 10, \"epochs\": 20}'\n"
    "  --db FILE SWEEP   take the spec and the best COMPLETE trial of SWEEP from the database\n"
    "  --out MODEL       model file to write (default: SWEEP.model.json or refit.model.json)\n"
    "  --seed N          seed for weight init and shuffling (default: trainer.seed)\n"
    "  --json            print one JSON object instead of the table\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 done, 1 runtime failure, 2 usage, configuration or dataset error.\n";

/* The sweep row and its best trial, from the database. */
typedef struct {
    int64_t sweep_id;
    char *spec;
    bool maximize;
    bool found;
    double best;
    int64_t number;
    char *params;
} s_best_t;

static int s_sweep_cb(const coord_db_sweep_t *row, void *arg)
{
    s_best_t *b = arg;
    b->sweep_id = row->id;
    free(b->spec);
    b->spec = strdup(row->spec);
    return b->spec ? 0 : SW_ENOMEM;
}

static int s_trial_cb(const coord_db_trial_t *row, void *arg)
{
    s_best_t *b = arg;
    if (strcmp(row->state, "COMPLETE") != 0 || isnan(row->value))
        return 0;
    if (b->found && !(b->maximize ? row->value > b->best : row->value < b->best))
        return 0;
    free(b->params);
    b->params = strdup(row->params);
    if (!b->params)
        return SW_ENOMEM;
    b->found = true;
    b->best = row->value;
    b->number = row->number;
    return 0;
}

static void s_print_row(const char *label, const trn_metrics_t *m, int rows)
{
    printf("%-11s %6d", label, rows);
    static const char *const names[] = {"loss", "accuracy", "precision", "recall", "f1", "auc",
                                        "mse", "mae", "r2"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const double *v = trn_metrics_get(m, names[i]);
        if (v)
            printf("  %s %.4f", names[i], *v);
    }
    printf("\n");
}

static cJSON *s_metrics_json(const trn_metrics_t *m)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < m->n; i++)
        cJSON_AddNumberToObject(o, m->name[i], m->value[i]);
    return o;
}

int cli_cmd_refit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spec", required_argument, NULL, 'S'}, {"params", required_argument, NULL, 'p'},
        {"db", required_argument, NULL, 'd'},   {"out", required_argument, NULL, 'o'},
        {"seed", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    const char *spec_path = NULL, *params_text = NULL, *db_path = NULL, *out_path = NULL,
               *seed_text = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'S': spec_path = optarg; break;
        case 'p': params_text = optarg; break;
        case 'd': db_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 's': seed_text = optarg; break;
        case 'j': json = true; break;
        case 'h':
            fputs(s_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    const char *sweep = optind < argc ? argv[optind] : NULL;
    if ((db_path && (spec_path || params_text || !sweep || argc - optind != 1)) ||
        (!db_path && (!spec_path || !params_text || argc != optind))) {
        fprintf(stderr, "sweepd refit: give --spec and --params, or --db FILE SWEEP\n%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    uint64_t seed = 0;
    if (seed_text) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(seed_text, &end, 10);
        if (errno || *end || !*seed_text || *seed_text == '-') {
            fprintf(stderr, "sweepd refit: --seed: '%s' is not an integer >= 0\n", seed_text);
            return CLI_EXIT_USAGE;
        }
        seed = v;
    }

    int status = CLI_EXIT_USAGE;
    char *spec_text = NULL, *params_owned = NULL, *default_out = NULL;
    cJSON *spec = NULL, *params = NULL;
    s_best_t best = {0};
    trn_model_t *model = NULL;
    trn_refit_t *res = calloc(1, sizeof *res);
    char err[1024] = "";
    if (!res) {
        fprintf(stderr, "sweepd refit: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    if (db_path) {
        int dberr = 0;
        coord_db_t *db = coord_db_new(db_path, true, &dberr);
        if (!db) {
            fprintf(stderr, "sweepd refit: %s: cannot open the trial database (%s)\n", db_path,
                    sw_strerror(dberr));
            status = CLI_EXIT_FAILURE;
            goto done;
        }
        int rc = coord_db_sweeps(db, sweep, s_sweep_cb, &best);
        if (rc == 0 && best.spec) {
            cJSON *sp = cJSON_Parse(best.spec);
            const cJSON *obj = cJSON_GetObjectItemCaseSensitive(sp, "objective");
            const cJSON *dir = cJSON_GetObjectItemCaseSensitive(obj, "direction");
            best.maximize = cJSON_IsString(dir) && strcmp(dir->valuestring, "maximize") == 0;
            cJSON_Delete(sp);
            rc = coord_db_trials(db, best.sweep_id, s_trial_cb, &best);
        }
        coord_db_destroy(&db);
        if (rc < 0) {
            fprintf(stderr, "sweepd refit: %s: cannot read sweep '%s' (%s)\n", db_path, sweep,
                    sw_strerror(rc));
            status = CLI_EXIT_FAILURE;
            goto done;
        }
        if (!best.spec) {
            fprintf(stderr, "sweepd refit: %s: no sweep named '%s'\n", db_path, sweep);
            goto done;
        }
        if (!best.found) {
            fprintf(stderr, "sweepd refit: sweep '%s' has no COMPLETE trial yet\n", sweep);
            goto done;
        }
        spec_text = best.spec;
        best.spec = NULL;
        params_text = params_owned = best.params;
        best.params = NULL;
        if (!json)
            printf("sweep %s: best trial %lld, value %.6g\n", sweep, (long long)best.number,
                   best.best);
    } else {
        int rerr = 0;
        spec_text = sw_file_read(spec_path, 0, NULL, &rerr);
        if (!spec_text) {
            fprintf(stderr, "sweepd refit: %s: cannot read: %s\n", spec_path, sw_strerror(rerr));
            goto done;
        }
    }
    spec = cJSON_Parse(spec_text);
    const char *where = spec_path ? spec_path : sweep;
    if (!cJSON_IsObject(spec)) {
        fprintf(stderr, "sweepd refit: %s: not a JSON object\n", where);
        goto done;
    }
    const cJSON *trainer = cJSON_GetObjectItemCaseSensitive(spec, "trainer");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(trainer, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "mlp") != 0) {
        fprintf(stderr, "sweepd refit: %s: trainer: refit needs the built-in trainer (type mlp)\n",
                where);
        goto done;
    }
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(spec, "cv");
    if (cJSON_IsNull(cv))
        cv = NULL;
    params = cJSON_Parse(params_text);
    if (!cJSON_IsObject(params)) {
        fprintf(stderr, "sweepd refit: params: not a JSON object: %.200s\n", params_text);
        goto done;
    }
    int rc = trn_refit_run(trainer, params, cv, seed_text ? &seed : NULL, res, &model, err,
                           sizeof err);
    if (rc < 0) {
        fprintf(stderr, "sweepd refit: %s\n", err);
        status = rc == SW_ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
        goto done;
    }
    if (!out_path) {
        size_t n = (sweep ? strlen(sweep) : 5) + 16;
        default_out = malloc(n);
        if (!default_out) {
            status = CLI_EXIT_FAILURE;
            goto done;
        }
        snprintf(default_out, n, "%s.model.json", sweep ? sweep : "refit");
        out_path = default_out;
    }
    if ((rc = trn_model_save(model, out_path, err, sizeof err)) < 0) {
        fprintf(stderr, "sweepd refit: %s\n", err);
        status = CLI_EXIT_FAILURE;
        goto done;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "params", cJSON_Duplicate(params, true));
        cJSON_AddNumberToObject(o, "tuning_rows", res->n_tuning);
        cJSON_AddNumberToObject(o, "test_rows", res->n_test);
        cJSON_AddNumberToObject(o, "epochs_run", res->fit.epochs_run);
        cJSON_AddItemToObject(o, "train", s_metrics_json(&res->fit.fit_scores));
        if (res->fit.n_val > 0)
            cJSON_AddItemToObject(o, "validation", s_metrics_json(&res->fit.val_scores));
        if (res->has_cv)
            cJSON_AddItemToObject(o, "cv", s_metrics_json(&res->cv));
        if (res->fit.n_eval > 0)
            cJSON_AddItemToObject(o, "test", s_metrics_json(&res->fit.eval_scores));
        if (!isnan(res->fit.majority))
            cJSON_AddNumberToObject(o, "majority_baseline", res->fit.majority);
        cJSON_AddStringToObject(o, "verdict", trn_verdict_name(res->verdict));
        cJSON_AddStringToObject(o, "reason", res->reason);
        cJSON_AddStringToObject(o, "model", out_path);
        char *text = cJSON_PrintUnformatted(o);
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
    } else {
        printf("refit on %d tuning rows (%d fit, %d validation), %d epochs; %d held-out test rows\n",
               res->n_tuning, res->fit.n_fit, res->fit.n_val, res->fit.epochs_run, res->n_test);
        s_print_row("train", &res->fit.fit_scores, res->fit.n_fit);
        if (res->fit.n_val > 0)
            s_print_row("validation", &res->fit.val_scores, res->fit.n_val);
        if (res->has_cv)
            s_print_row("cv (mean)", &res->cv, res->n_tuning);
        if (res->fit.n_eval > 0)
            s_print_row("test", &res->fit.eval_scores, res->n_test);
        else
            printf("test        (none: set trainer.test_split to hold rows out of tuning)\n");
        printf("verdict: %s (%s)\nmodel: %s\n", trn_verdict_name(res->verdict), res->reason,
               out_path);
    }
    status = CLI_EXIT_OK;
done:
    trn_model_destroy(&model);
    cJSON_Delete(spec);
    cJSON_Delete(params);
    free(spec_text);
    free(params_owned);
    free(best.spec);
    free(best.params);
    free(default_out);
    free(res);
    return status;
}
