/*  cmd_validate.c - `sweepd validate SPEC.json [--json]`: check a sweep spec
 *
 *  Parses the spec with sw_spec_parse() and, for the built-in mlp trainer, checks
 *  the trainer object and the parameters it receives with trn_config_check(). Every
 *  fault is printed on stderr, one per line, as "FILE: json.path: reason", and the
 *  exit status is 2; a valid spec prints a one-line summary on stdout and exits 0.
 *  With --json, stdout carries one JSON object instead (for programs), and the
 *  messages still go to stderr. Nothing is written anywhere else.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli/cli.h"
#include "common/sw_file.h"
#include "common/sw_err.h"
#include "common/sw_spec.h"
#include "worker/trn_fit.h"

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: sweepd validate SPEC.json [--json]\n\n"
            "Check a sweep spec without running it: every field, the search space, the\n"
            "trainer (for the built-in mlp trainer, every setting and the parameters it\n"
            "receives). Prints every fault on stderr as 'FILE: json.path: reason'.\n\n"
            "options:\n"
            "  --json      print the result as one JSON object on stdout\n"
            "  -h, --help  show this help\n\n"
            "exit status: 0 valid, 1 runtime failure, 2 usage error or invalid spec\n"
            "docs/SPEC.md describes every field.\n");
}

/* Whether ERRS already holds a message "FILE: json.path: ..." for the json.path of
 * MSG ("json.path: reason"): both checkers see e.g. parameters.lr.low, and one
 * reason per path is enough. */
static bool s_path_reported(const sw_errs_t *errs, const char *file, const char *msg)
{
    const char *colon = strstr(msg, ": ");
    if (!colon)
        return false;
    size_t flen = strlen(file), plen = (size_t)(colon - msg) + 2;
    for (size_t i = 0; i < errs->count; i++) {
        const char *e = errs->items[i];
        if (!strncmp(e, file, flen) && !strncmp(e + flen, ": ", 2) && !strncmp(e + flen + 2, msg, plen))
            return true;
    }
    return false;
}

/* The mlp trainer's own checks, on the raw document so that they run even when
 * the rest of the spec has faults (the user sees every fault in one pass). */
static void s_check_trainer(const char *text, size_t len, const char *path, sw_errs_t *errs)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return;
    }
    const cJSON *trainer = cJSON_GetObjectItemCaseSensitive(root, "trainer");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "parameters");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(trainer, "type");
    if (cJSON_IsObject(trainer) && cJSON_IsString(type) && !strcmp(type->valuestring, "mlp")
        && (!params || cJSON_IsObject(params))) {
        sw_errs_t terrs = {0};
        trn_config_check(trainer, params, &terrs);
        for (size_t i = 0; i < terrs.count; i++)
            if (!s_path_reported(errs, path, terrs.items[i]))
                sw_errs_add(errs, "%s: %s", path, terrs.items[i]);
        sw_errs_clear(&terrs);
    }
    cJSON_Delete(root);
}

static const char *s_method_name(sw_method_t m)
{
    return m == SW_METHOD_GRID ? "grid" : m == SW_METHOD_RANDOM ? "random" : "tpe";
}

static void s_print_json(const char *path, const sw_spec_t *spec, const sw_errs_t *errs)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "file", path);
    cJSON_AddBoolToObject(out, "valid", errs->count == 0);
    if (errs->count == 0 && spec) {
        cJSON_AddStringToObject(out, "name", spec->name);
        cJSON_AddStringToObject(out, "method", s_method_name(spec->method));
        cJSON_AddNumberToObject(out, "parameters", spec->n_params);
        if (spec->method == SW_METHOD_GRID)
            cJSON_AddNumberToObject(out, "size", (double)sw_spec_grid_size(spec));
        else
            cJSON_AddNullToObject(out, "size");
        cJSON_AddNumberToObject(out, "folds", spec->cv_folds);
    }
    cJSON *list = cJSON_AddArrayToObject(out, "errors");
    for (size_t i = 0; i < errs->count; i++)
        cJSON_AddItemToArray(list, cJSON_CreateString(errs->items[i]));
    char *text = cJSON_PrintUnformatted(out);
    if (text)
        printf("%s\n", text);
    free(text);
    cJSON_Delete(out);
}

int cli_cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'j':
            json = true;
            break;
        case 'h':
            s_usage(stdout);
            return CLI_EXIT_OK;
        default:
            s_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "sweepd validate: expected one SPEC.json argument\n\n");
        s_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *path = argv[optind];

    sw_errs_t errs = {0};
    size_t len = 0;
    int rerr = 0;
    char *text = sw_file_read(path, (size_t)64 << 20, &len, &rerr);
    sw_spec_t *spec = NULL;
    if (!text) {
        sw_errs_add(&errs, "%s: cannot read: %s", path, sw_strerror(rerr));
    } else {
        spec = sw_spec_parse(text, len, path, &errs);
        s_check_trainer(text, len, path, &errs);
    }
    for (size_t i = 0; i < errs.count; i++)
        fprintf(stderr, "%s\n", errs.items[i]);
    if (json) {
        s_print_json(path, spec, &errs);
    } else if (errs.count == 0) {
        char size[64];
        if (spec->method == SW_METHOD_GRID && spec->max_trials > 0
            && spec->max_trials < sw_spec_grid_size(spec))
            snprintf(size, sizeof size, "%lld of %lld grid points (max_trials)",
                     (long long)spec->max_trials, (long long)sw_spec_grid_size(spec));
        else if (spec->method == SW_METHOD_GRID)
            snprintf(size, sizeof size, "%lld grid points", (long long)sw_spec_grid_size(spec));
        else if (spec->max_trials > 0)
            snprintf(size, sizeof size, "%lld trials (max_trials)", (long long)spec->max_trials);
        else
            snprintf(size, sizeof size, "unbounded (no max_trials)");
        char folds[32];
        if (spec->cv_folds >= 2)
            snprintf(folds, sizeof folds, "%d folds", spec->cv_folds);
        else
            snprintf(folds, sizeof folds, "no folds");
        printf("%s: valid: sweep %s, method %s, %d parameter%s, %s, %s\n", path, spec->name,
               s_method_name(spec->method), spec->n_params, spec->n_params == 1 ? "" : "s", size,
               folds);
    }
    int status = errs.count ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    sw_errs_clear(&errs);
    sw_spec_destroy(&spec);
    free(text);
    return status;
}
