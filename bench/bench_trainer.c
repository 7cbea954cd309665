/*  bench_trainer.c - speed of the built-in trainer: microseconds per optimizer step of
 *  the seed network, milliseconds per epoch of the digits network, peak memory
 *
 *  Measures what bench/torch_speed.py measures on PyTorch, on the same data, split and
 *  batch sizes, single-threaded:
 *    - the seed network 8-12-1 (relu, sigmoid, binary cross-entropy, adam) on the first
 *      80% of Pima's rows, batch 10: microseconds per optimizer step (shuffle, batch
 *      gather, forward, loss, backward, adam), the median over epochs;
 *    - the digits network 64-128-64-10 (relu, softmax, categorical cross-entropy, adam)
 *      on the first 80% of digits' rows, batch 32: milliseconds per epoch, the median;
 *    - the same digits epoch through trn_fit, with everything a report line needs (the
 *      epoch's train metrics including AUC, validation pass and metrics);
 *    - peak resident memory of the process (getrusage ru_maxrss).
 *  Prints one JSON object on stdout.
 *
 *  Usage: build/bench/bench_trainer [--epochs N] [--data DIR]
 *
 *  Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/sw_rng.h"
#include "worker/trn_data.h"
#include "worker/trn_fit.h"
#include "worker/trn_mlp.h"

static double s_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int s_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Train SIZES on the first 80% of DATA (standardized), batch BS, EPOCHS epochs; returns
 * the median epoch time in seconds and the steps per epoch in *STEPS. */
static double s_time(const trn_data_t *d, int n_layers, const int *sizes, trn_act_t out_act,
                     trn_loss_t loss, int bs, int epochs, int *steps)
{
    int nf = d->n_features, k = sizes[n_layers], n = d->n_rows * 8 / 10;
    double *x = malloc((size_t)n * (size_t)nf * sizeof *x);
    double *y = calloc((size_t)n * (size_t)k, sizeof *y);
    double *xb = malloc((size_t)bs * (size_t)nf * sizeof *xb);
    double *yb = malloc((size_t)bs * (size_t)k * sizeof *yb);
    int *perm = malloc((size_t)n * sizeof *perm);
    double *times = malloc((size_t)epochs * sizeof *times);
    if (!x || !y || !xb || !yb || !perm || !times) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memcpy(x, d->x, (size_t)n * (size_t)nf * sizeof *x);
    for (int r = 0; r < n; r++) {
        if (k == 1)
            y[r] = d->y[r];
        else
            y[(size_t)r * (size_t)k + (size_t)d->y[r]] = 1.0;
        perm[r] = r;
    }
    trn_scaler_t sc = {0};
    trn_scaler_fit(&sc, x, nf, NULL, n);
    trn_scaler_apply(&sc, x, n);
    trn_scaler_clear(&sc);
    trn_mlp_t *m = trn_mlp_new(n_layers, sizes, TRN_ACT_RELU, out_act, loss, bs);
    sw_rng_t rng, shuf, drop;
    sw_rng_seed2(&rng, 0, 1);
    sw_rng_seed2(&shuf, 0, 2);
    sw_rng_seed2(&drop, 0, 4);
    trn_mlp_init(m, &rng);
    trn_opt_cfg_t oc = trn_opt_defaults(TRN_OPT_ADAM);
    trn_opt_t *opt = trn_opt_new(&oc, m->n_params);
    double sink = 0.0;
    for (int e = 0; e < epochs; e++) {
        double t0 = s_now();
        for (int i = n - 1; i > 0; i--) {
            int j = (int)sw_rng_below(&shuf, (uint64_t)i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int b = 0; b < n; b += bs) {
            int nb = n - b < bs ? n - b : bs;
            for (int i = 0; i < nb; i++) {
                memcpy(xb + (size_t)i * (size_t)nf, x + (size_t)perm[b + i] * (size_t)nf,
                       (size_t)nf * sizeof *x);
                memcpy(yb + (size_t)i * (size_t)k, y + (size_t)perm[b + i] * (size_t)k,
                       (size_t)k * sizeof *y);
            }
            const double *o = trn_mlp_forward_train(m, xb, nb, &drop);
            sink += trn_mlp_loss_sum(m, o, yb, nb);
            trn_mlp_backward(m, xb, yb, nb);
            trn_opt_step(opt, m->params, m->grads);
        }
        times[e] = s_now() - t0;
    }
    if (sink != sink)
        fprintf(stderr, "loss is NaN\n");
    qsort(times, (size_t)epochs, sizeof *times, s_cmp);
    double med = times[epochs / 2];
    *steps = (n + bs - 1) / bs;
    trn_opt_destroy(&opt);
    trn_mlp_destroy(&m);
    free(x);
    free(y);
    free(xb);
    free(yb);
    free(perm);
    free(times);
    return med;
}

static trn_data_t *s_load(const char *dir, const char *file)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    trn_csv_opts_t o = trn_csv_opts_default();
    o.header = 0;
    trn_data_t *d = trn_data_load(path, &o, err, sizeof err, NULL);
    if (!d) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return d;
}

static int s_count(void *arg, int step, bool final, const trn_metrics_t *m)
{
    (void)step;
    (void)final;
    (void)m;
    (*(int *)arg)++;
    return 0;
}

int main(int argc, char **argv)
{
    int epochs = 30;
    const char *dir = "examples/data";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--epochs") == 0 && i + 1 < argc)
            epochs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench_trainer [--epochs N] [--data DIR]\n");
            return 2;
        }
    }
    if (epochs < 1)
        epochs = 1;
    openblas_set_num_threads(1);
    trn_data_t *pima = s_load(dir, "pima-indians-diabetes.csv");
    trn_data_t *digits = s_load(dir, "digits-8x8.csv");

    const int seed_net[] = {8, 12, 1}, digits_net[] = {64, 128, 64, 10};
    int p_steps, d_steps;
    double p_epoch = s_time(pima, 2, seed_net, TRN_ACT_SIGMOID, TRN_LOSS_BCE, 10, epochs * 10,
                            &p_steps);
    double d_epoch = s_time(digits, 3, digits_net, TRN_ACT_SOFTMAX, TRN_LOSS_CCE, 32, epochs,
                            &d_steps);

    /* The whole trn_fit on digits (80/20 validation split, metrics every epoch). */
    char json[512];
    snprintf(json, sizeof json, "{\"type\": \"mlp\", \"dataset\": \"%s/digits-8x8.csv\", "
             "\"task\": \"multiclass\", \"layers\": [128, 64], \"batch_size\": 32, \"epochs\": %d, "
             "\"validation_split\": 0.2, \"header\": false}", dir, epochs);
    cJSON *t = cJSON_Parse(json);
    trn_config_t cfg;
    sw_errs_t errs = {0};
    if (trn_config_parse(&cfg, t, NULL, &errs) != 0) {
        fprintf(stderr, "bad benchmark configuration\n");
        return 1;
    }
    int lines = 0;
    trn_result_t res;
    char err[256];
    double t0 = s_now();
    if (trn_fit(&cfg, digits, NULL, -1, s_count, &lines, &res, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double fit_s = s_now() - t0;
    const double *va = trn_metrics_get(&res.final, "val_accuracy");

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"side\": \"sweepd\", \"threads\": 1, \"dtype\": \"float64\", "
           "\"pima_us_per_step\": %.3f, \"pima_steps_per_epoch\": %d, "
           "\"digits_ms_per_epoch\": %.4f, \"digits_steps_per_epoch\": %d, "
           "\"digits_us_per_step\": %.2f, \"digits_fit_ms_per_epoch_with_metrics\": %.4f, "
           "\"digits_fit_val_accuracy\": %.4f, \"peak_rss_kib\": %ld, \"epochs\": %d}\n",
           p_epoch * 1e6 / p_steps, p_steps, d_epoch * 1e3, d_steps, d_epoch * 1e6 / d_steps,
           fit_s * 1e3 / res.epochs_run, va ? *va : -1.0, ru.ru_maxrss, epochs);
    cJSON_Delete(t);
    trn_config_clear(&cfg);
    trn_data_destroy(&pima);
    trn_data_destroy(&digits);
    return 0;
}
