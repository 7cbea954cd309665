/*  cmd_predict.c - `sweepd predict MODEL CSV`: one prediction per row with a saved model
 *
 *  Loads a sweepd-mlp model file (written by `sweepd refit`), reads the CSV with or
 *  without its target column, and writes one line per row: the class label or the
 *  value, with the class probabilities after it on request. The work is
 *  worker/trn_model.c.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/sw_err.h"
#include "worker/trn_model.h"

static const char s_usage[] =
    "usage: sweepd predict MODEL CSV [--out FILE] [--proba] [--header true|false|auto]\n"
    "                      [--delimiter C] [--column-names]\n"
    "\n"
    "Predict every row of CSV with MODEL (a file written by `sweepd refit`) and write one\n"
    "line per row: the class label (classification) or the value (regression). The CSV\n"
    "has the training file's columns (the target column is ignored) or only the features.\n"
    "Missing cells are filled by the model's imputer, or are an error naming row and column.\n"
    "\n"
    "  --out FILE        write the predictions to FILE instead of stdout\n"
    "  --proba           also write the probabilities (binary: of the positive class;\n"
    "                    multiclass: of every class, in the model's class order)\n"
    "  --header X        whether CSV's first row is a header (default auto)\n"
    "  --delimiter C     cell separator (default ,)\n"
    "  --column-names    start the output with a line naming its columns\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 done, 1 runtime failure, 2 usage, model or data error.\n";

int cli_cmd_predict(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},       {"proba", no_argument, NULL, 'p'},
        {"header", required_argument, NULL, 'H'},    {"delimiter", required_argument, NULL, 'd'},
        {"column-names", no_argument, NULL, 'c'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *out_path = NULL;
    bool proba = false, names = false;
    int header = -1;
    char delim = ',';
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'p': proba = true; break;
        case 'c': names = true; break;
        case 'H':
            if (strcmp(optarg, "true") == 0)
                header = 1;
            else if (strcmp(optarg, "false") == 0)
                header = 0;
            else if (strcmp(optarg, "auto") == 0)
                header = -1;
            else {
                fprintf(stderr, "sweepd predict: --header: expected true, false or auto\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'd':
            if (strlen(optarg) != 1 || optarg[0] == '"') {
                fprintf(stderr, "sweepd predict: --delimiter: must be one character\n");
                return CLI_EXIT_USAGE;
            }
            delim = optarg[0];
            break;
        case 'h':
            fputs(s_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "sweepd predict: expected MODEL and CSV\n%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    char err[1024] = "";
    int code = 0;
    trn_model_t *model = trn_model_load(argv[optind], err, sizeof err, &code);
    if (!model) {
        fprintf(stderr, "sweepd predict: %s\n", err);
        return code == SW_ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
    }
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "sweepd predict: %s: cannot write: %s\n", out_path, strerror(errno));
        trn_model_destroy(&model);
        return CLI_EXIT_FAILURE;
    }
    int rc = trn_model_predict_csv(model, argv[optind + 1], header, delim, proba, names, out, err,
                                   sizeof err);
    int status = CLI_EXIT_OK;
    if (out != stdout && fclose(out) != 0 && rc >= 0) {
        snprintf(err, sizeof err, "%s: cannot write: %s", out_path, strerror(errno));
        rc = -EIO;
    }
    if (rc < 0) {
        fprintf(stderr, "sweepd predict: %s\n", err);
        status = rc == SW_EDATA || rc == -ENOENT || rc == -EACCES ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    trn_model_destroy(&model);
    return status;
}
