/*  cmd_train.c - `sweepd train`: one run of the built-in MLP trainer
 *
 *  As a worker's child it takes everything from the environment (SWEEPD_TRAINER,
 *  SWEEPD_PARAMS, SWEEPD_CV, SWEEPD_FOLD, SWEEPD_SEED) and writes its report lines to
 *  SWEEPD_REPORT_FD (proto/PROTOCOL.md, "Trainer report protocol"). By hand it reads the
 *  trainer and cv objects from a spec file and prints the same lines on stdout. The
 *  training itself is worker/trn_fit.c; this file only gathers the inputs, writes the
 *  lines and picks the exit status.
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli/cli.h"
#include "common/sw_file.h"
#include "common/sw_err.h"
#include "worker/trn_fit.h"
#include "worker/trn_function.h"

static const char s_usage[] =
    "usage: sweepd train SPEC.json [--params JSON] [--fold I] [--seed N]\n"
    "       sweepd train            (as a worker's child: inputs from the environment)\n"
    "\n"
    "Run the built-in MLP trainer once and print one JSON line per epoch,\n"
    "  {\"step\": E, \"metrics\": {\"loss\": ..., \"accuracy\": ..., \"val_loss\": ..., ...}}\n"
    "then {\"final\": true, \"metrics\": {...}}; on bad input {\"error\": \"...\"}.\n"
    "\n"
    "  SPEC.json        a sweep spec; its \"trainer\" object (type mlp) and \"cv\" object are used\n"
    "  --params JSON    parameter overrides, e.g. '{\"lr\": 0.01, \"units\": 16}'\n"
    "  --fold I         with the spec's cv: train on the other folds, score fold I (0-based);\n"
    "                   without --fold the cv object is not used\n"
    "  --seed N         seed for weight init and shuffling (overrides trainer.seed)\n"
    "  -h, --help       this text\n"
    "\n"
    "Environment (as set by `sweepd worker`; used when no SPEC.json is given):\n"
    "  SWEEPD_TRAINER   the trainer object, JSON      SWEEPD_PARAMS  parameters, JSON object\n"
    "  SWEEPD_CV        the cv object, JSON           SWEEPD_FOLD    fold to score, 0-based\n"
    "  SWEEPD_SEED      seed (integer)                SWEEPD_REPORT_FD  fd for the report lines\n"
    "                                                 (default: stdout)\n"
    "\n"
    "Exit status: 0 trained, 1 runtime failure, 2 usage, configuration or dataset error.\n"
    "See docs/TRAINER.md for every trainer field.\n";

typedef struct {
    int fd;             /* report fd */
} s_sink_t;

static int s_write_line(int fd, const char *line)
{
    size_t len = strlen(line);
    char *buf = malloc(len + 2);
    if (!buf)
        return SW_ENOMEM;
    memcpy(buf, line, len);
    buf[len++] = '\n';
    size_t off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        off += (size_t)w;
    }
    free(buf);
    return rc;
}

static int s_report_cb(void *arg, int step, bool final, const trn_metrics_t *metrics)
{
    s_sink_t *sink = arg;
    char *line = trn_metrics_json(metrics, step, final);
    if (!line)
        return SW_ENOMEM;
    int rc = s_write_line(sink->fd, line);
    free(line);
    return rc;
}

/* Report MSG as {"error": MSG} on the report fd and on stderr. */
static void s_report_error(int fd, const char *msg)
{
    fprintf(stderr, "sweepd train: %s\n", msg);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "error", msg);
    char *line = cJSON_PrintUnformatted(o);
    if (line)
        (void)s_write_line(fd, line);
    free(line);
    cJSON_Delete(o);
}

static int s_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int s_parse_fold(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : -1;
    if (!s || !*s || errno || *end || v < 0 || v > 1000000)
        return -1;
    *out = (int)v;
    return 0;
}

int cli_cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"params", required_argument, NULL, 'p'},
        {"fold", required_argument, NULL, 'f'},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *params_text = NULL, *fold_text = NULL, *seed_text = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            params_text = optarg;
            break;
        case 'f':
            fold_text = optarg;
            break;
        case 's':
            seed_text = optarg;
            break;
        case 'h':
            fputs(s_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(s_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "sweepd train: expected at most one SPEC.json\n%s", s_usage);
        return CLI_EXIT_USAGE;
    }
    const char *spec_path = optind < argc ? argv[optind] : NULL;

    /* Where the lines go. */
    s_sink_t sink = {.fd = STDOUT_FILENO};
    const char *fd_text = getenv("SWEEPD_REPORT_FD");
    if (fd_text && *fd_text) {
        int fold_dummy;
        if (s_parse_fold(fd_text, &fold_dummy) < 0) {
            fprintf(stderr, "sweepd train: SWEEPD_REPORT_FD: '%s' is not a file descriptor\n", fd_text);
            return CLI_EXIT_USAGE;
        }
        sink.fd = fold_dummy;
    }

    /* Inputs: from the spec file and flags, or from the environment. */
    cJSON *spec = NULL, *trainer_owned = NULL, *params = NULL, *cv_owned = NULL;
    const cJSON *trainer = NULL, *cv = NULL;
    char err[1024] = "";
    int status = CLI_EXIT_USAGE;
    if (spec_path) {
        int rerr = 0;
        char *text = sw_file_read(spec_path, 0, NULL, &rerr);
        if (!text) {
            snprintf(err, sizeof err, "%s: cannot read: %s", spec_path, sw_strerror(rerr));
            goto fail;
        }
        spec = cJSON_Parse(text);
        free(text);
        if (!cJSON_IsObject(spec)) {
            snprintf(err, sizeof err, "%s: not a JSON object", spec_path);
            goto fail;
        }
        trainer = cJSON_GetObjectItemCaseSensitive(spec, "trainer");
        if (!trainer) {
            snprintf(err, sizeof err, "%s: trainer: required", spec_path);
            goto fail;
        }
        cv = cJSON_GetObjectItemCaseSensitive(spec, "cv");
        if (cJSON_IsNull(cv))
            cv = NULL;
    } else {
        const char *t = getenv("SWEEPD_TRAINER");
        if (!t) {
            fprintf(stderr, "sweepd train: give SPEC.json, or set SWEEPD_TRAINER\n%s", s_usage);
            return CLI_EXIT_USAGE;
        }
        trainer = trainer_owned = cJSON_Parse(t);
        if (!trainer_owned) {
            snprintf(err, sizeof err, "SWEEPD_TRAINER: not valid JSON");
            goto fail;
        }
        const char *cvt = getenv("SWEEPD_CV");
        if (cvt && *cvt) {
            cv = cv_owned = cJSON_Parse(cvt);
            if (!cv_owned) {
                snprintf(err, sizeof err, "SWEEPD_CV: not valid JSON");
                goto fail;
            }
        }
        if (!params_text)
            params_text = getenv("SWEEPD_PARAMS");
        if (!fold_text)
            fold_text = getenv("SWEEPD_FOLD");
        if (!seed_text)
            seed_text = getenv("SWEEPD_SEED");
    }
    if (params_text && *params_text) {
        params = cJSON_Parse(params_text);
        if (!cJSON_IsObject(params)) {
            snprintf(err, sizeof err, "params: not a JSON object: %.200s", params_text);
            goto fail;
        }
    }
    int fold = -1;
    if (fold_text && *fold_text) {
        if (s_parse_fold(fold_text, &fold) < 0) {
            snprintf(err, sizeof err, "fold: '%.100s' is not an integer >= 0", fold_text);
            goto fail;
        }
        if (!cv) {
            snprintf(err, sizeof err, "fold %d given but there is no cv object", fold);
            goto fail;
        }
    }
    uint64_t seed = 0;
    bool has_seed = false;
    if (seed_text && *seed_text) {
        if (s_parse_u64(seed_text, &seed) < 0) {
            snprintf(err, sizeof err, "seed: '%.100s' is not an integer >= 0", seed_text);
            goto fail;
        }
        has_seed = true;
    }

    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(trainer, "type"));
    int rc;
    if (type && !strcmp(type, "function")) {
        /* the synthetic objective functions (benchmarks, tests): no data, no folds */
        rc = trn_function_run(trainer, params, s_report_cb, &sink, err, sizeof err);
        if (rc == -1)
            rc = SW_EINVAL;
    } else {
        rc = trn_run(trainer, params, fold >= 0 ? cv : NULL, fold, has_seed ? &seed : NULL,
                     s_report_cb, &sink, NULL, err, sizeof err);
    }
    if (rc == 0) {
        status = CLI_EXIT_OK;
    } else if (rc == SW_EINVAL || rc == SW_EDATA || rc == -ENOENT || rc == -EACCES ||
               rc == -EISDIR) {
        status = CLI_EXIT_USAGE;
        s_report_error(sink.fd, err);
    } else {
        status = CLI_EXIT_FAILURE;
        if (!err[0])
            snprintf(err, sizeof err, "training failed: %s", sw_strerror(rc));
        s_report_error(sink.fd, err);
    }
    goto done;

fail:
    s_report_error(sink.fd, err);
done:
    cJSON_Delete(spec);
    cJSON_Delete(trainer_owned);
    cJSON_Delete(cv_owned);
    cJSON_Delete(params);
    return status;
}
