/*  asha_replay.c - what a pruner would have done to a full-budget sweep
 *
 *  Reads the learning curves a sweep stored (the reports table of its SQLite
 *  store: one row per attempt and step) and replays them, in the order they were
 *  stored, through the pruner of another spec (coordinator/coord_pruner.[ch]): each
 *  report goes to coord_pruner_report(); an attempt answered "prune" trains no
 *  further step; one that reaches its last stored step is finished COMPLETE with
 *  the objective of that step. Prints the trials pruned, the epochs (steps) trained
 *  against the stored ones, and the best objective of a trial that completed beside
 *  the best of all. Used by bench/bench_asha.sh as the expectation for an ASHA run
 *  of the same configurations: same curves, only the interleaving of workers may
 *  differ in a live run.
 *
 *  Usage: asha_replay FULL.db SPEC.json   (SPEC's pruner and objective are used)
 *  Exit status 0, or 1 on an unreadable store or spec.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sqlite3.h>

#include "common/sw_err.h"
#include "common/sw_spec.h"
#include "coordinator/coord_pruner.h"

/* One attempt's replay state. */
typedef struct {
    int64_t id, trial;
    int fold;
    int64_t last_step;          /* stored: the last step it reported */
    int64_t trained;            /* replayed: steps trained */
    double final;               /* objective at its last replayed step */
    int pruned, done;
} s_att_t;

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: asha_replay FULL.db SPEC.json\n");
        return 2;
    }
    sw_errs_t errs = {0};
    sw_spec_t *spec = sw_spec_load(argv[2], &errs);
    coord_pruner_t *pr = spec ? coord_pruner_new(spec, &errs) : NULL;
    if (!pr) {
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "asha_replay: %s\n", errs.items[i]);
        sw_errs_clear(&errs);
        sw_spec_destroy(&spec);
        return 1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "asha_replay: %s: %s\n", argv[1], sqlite3_errmsg(db));
        sqlite3_close(db);
        coord_pruner_destroy(&pr);
        sw_spec_destroy(&spec);
        return 1;
    }
    /* Attempts with their trial number and last stored step. */
    size_t n = 0, cap = 0;
    s_att_t *att = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT a.id, t.number, a.fold, (SELECT MAX(step) FROM reports r"
                                " WHERE r.attempt_id = a.id) FROM attempts a JOIN trials t"
                                " ON t.id = a.trial_id ORDER BY a.id", -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 128;
            s_att_t *na = realloc(att, cap * sizeof *na);
            if (!na) {
                rc = SQLITE_NOMEM;
                break;
            }
            att = na;
        }
        att[n++] = (s_att_t){.id = sqlite3_column_int64(st, 0), .trial = sqlite3_column_int64(st, 1),
                             .fold = sqlite3_column_int(st, 2), .last_step = sqlite3_column_int64(st, 3),
                             .final = NAN};
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "SELECT attempt_id, step, metrics FROM reports"
                                    " ORDER BY unix_ms, attempt_id, step", -1, &st, NULL);
    if (rc != SQLITE_OK) {
        fprintf(stderr, "asha_replay: %s: %s\n", argv[1], sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        free(att);
        coord_pruner_destroy(&pr);
        sw_spec_destroy(&spec);
        return 1;
    }
    int64_t stored = 0;
    for (size_t i = 0; i < n; i++)
        stored += att[i].last_step;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), step = sqlite3_column_int64(st, 1);
        s_att_t *a = NULL;
        for (size_t lo = 0, hi = n; lo < hi;) {     /* attempts are sorted by id */
            size_t mid = (lo + hi) / 2;
            if (att[mid].id == id) {
                a = &att[mid];
                break;
            }
            if (att[mid].id < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (!a || a->pruned || a->done)
            continue;
        cJSON *m = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
        if (!m)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, spec->metric);
        a->final = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        a->trained = step;
        if (coord_pruner_report(pr, a->trial, a->fold, step, m)) {
            a->pruned = 1;
            coord_pruner_finish(pr, a->trial, COORD_PRUNER_PRUNED, a->final);
        } else if (step >= a->last_step) {
            a->done = 1;
            coord_pruner_finish(pr, a->trial, COORD_PRUNER_COMPLETE, a->final);
        }
        cJSON_Delete(m);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);

    int64_t trained = 0;
    int pruned = 0;
    bool maximize = spec->direction == SW_DIR_MAXIMIZE;
    double best_all = NAN, best_kept = NAN;
    for (size_t i = 0; i < n; i++) {
        trained += att[i].trained;
        pruned += att[i].pruned;
        double f = att[i].pruned ? NAN : att[i].final;
        if (isfinite(f) && (isnan(best_kept) || (maximize ? f > best_kept : f < best_kept)))
            best_kept = f;
    }
    /* The full run's best: every attempt's stored final value. */
    sqlite3 *db2 = NULL;
    if (sqlite3_open_v2(argv[1], &db2, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db2, maximize ? "SELECT MAX(value) FROM trials WHERE state = 'COMPLETE'"
                                             : "SELECT MIN(value) FROM trials WHERE state = 'COMPLETE'",
                               -1, &q, NULL) == SQLITE_OK
            && sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
            best_all = sqlite3_column_double(q, 0);
        sqlite3_finalize(q);
    }
    sqlite3_close(db2);
    printf("%d of %zu attempts pruned; %lld of %lld epochs trained (%.1f%%); best %s of a completed "
           "trial %.4f, of all %.4f (%+.2f points)\n",
           pruned, n, (long long)trained, (long long)stored,
           stored ? 100.0 * (double)trained / (double)stored : 0.0, spec->metric, best_kept, best_all,
           100.0 * (maximize ? best_all - best_kept : best_kept - best_all));
    free(att);
    coord_pruner_destroy(&pr);
    sw_spec_destroy(&spec);
    return 0;
}
