#!/usr/bin/python3
"""optuna_tpe.py - Optuna's TPE on the functions and budgets of bench/bench_tpe.c.

Prints one JSON document on stdout:
  quality: median [q25, q75] best value after 100 trials over seeds F..F+S-1 (F = 0 unless
           --first-seed), for
           TPESampler() and TPESampler(multivariate=True), on Branin (2-D),
           Hartmann6, Rosenbrock (4-D), Ackley (5-D), Styblinski-Tang (5-D), Levy (4-D)
           (definitions of the Virtual Library of Simulation Experiments, as
           common/sw_testfn.c);
  latency: median ms of ask() + 3 suggest_float() with 3 floats in [-5, 5] after N
           completed trials (value a quadratic), 30 timed steps after one warm-up,
           each followed by an untimed tell(), as ../shared/anchors/optuna_tpe_latency.py.

Usage: /usr/bin/python3 bench/optuna_tpe.py [--seeds 10] [--first-seed 0] [--trials 100]
           [--procs 2] [--variants tpe,tpe_mv]
           [--sizes 100,1000,5000] [--skip-quality] [--skip-latency]
Needs Optuna (Debian python3-optuna 3.1). About a minute for quality with 2 processes.

Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
"""
import argparse
import json
import math
import multiprocessing as mp
import statistics
import sys
import time
import warnings

import numpy as np
import optuna
from optuna.distributions import FloatDistribution

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore")


def branin(x):
    x1, x2 = x
    b, c, t = 5.1 / (4 * math.pi ** 2), 5.0 / math.pi, 1.0 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6.0) ** 2 + 10.0 * (1 - t) * math.cos(x1) + 10.0


H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
H6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H6_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]


def hartmann6(x):
    return -sum(H6_ALPHA[i] * math.exp(-sum(H6_A[i][j] * (x[j] - H6_P[i][j] * 1e-4) ** 2
                                            for j in range(6))) for i in range(4))


def rosenbrock(x):
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def ackley(x):
    d = len(x)
    return (-20.0 * math.exp(-0.2 * math.sqrt(sum(v * v for v in x) / d))
            - math.exp(sum(math.cos(2 * math.pi * v) for v in x) / d) + 20.0 + math.e)


def styblinski_tang(x):
    return 0.5 * sum(v ** 4 - 16 * v ** 2 + 5 * v for v in x)


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    return (math.sin(math.pi * w[0]) ** 2
            + sum((wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2) for wi in w[:-1])
            + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2))


FUNCS = {
    "branin2": (branin, [(-5.0, 10.0), (0.0, 15.0)]),
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6),
    "rosenbrock4": (rosenbrock, [(-5.0, 10.0)] * 4),
    "ackley5": (ackley, [(-32.768, 32.768)] * 5),
    "styblinski_tang5": (styblinski_tang, [(-5.0, 5.0)] * 5),
    "levy4": (levy, [(-10.0, 10.0)] * 4),
}


def run_one(job):
    fname, variant, seed, trials = job
    fn, bounds = FUNCS[fname]
    sampler = optuna.samplers.TPESampler(seed=seed, multivariate=(variant == "tpe_mv"))
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: fn([t.suggest_float(f"x{i}", lo, hi)
                                 for i, (lo, hi) in enumerate(bounds)]), n_trials=trials)
    return fname, variant, float(min(t.value for t in study.trials))


def quality(seeds, trials, procs, first_seed=0, variants=("tpe", "tpe_mv")):
    jobs = [(f, v, s, trials) for f in FUNCS for v in variants
            for s in range(first_seed, first_seed + seeds)]
    with mp.get_context("fork").Pool(procs) as pool:
        raw = pool.map(run_one, jobs, chunksize=1)
    out = {}
    for f in FUNCS:
        out[f] = {}
        for v in variants:
            vals = np.array([b for (ff, vv, b) in raw if ff == f and vv == v])
            out[f][v] = {"median": float(np.median(vals)), "q25": float(np.percentile(vals, 25)),
                         "q75": float(np.percentile(vals, 75)), "values": vals.tolist()}
    return out


def quad(p):
    return (p["x0"] - 1) ** 2 + (p["x1"] + 2) ** 2 + 0.5 * (p["x2"] - 0.5) ** 2


def latency(n, multivariate, asks=30):
    dists = {k: FloatDistribution(-5.0, 5.0) for k in ("x0", "x1", "x2")}
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=1, multivariate=multivariate))
    rng = np.random.default_rng(12345)
    trials = []
    for _ in range(n):
        p = {k: float(rng.uniform(-5, 5)) for k in dists}
        trials.append(optuna.trial.create_trial(params=p, distributions=dists, value=quad(p)))
    study.add_trials(trials)
    ms = []
    for i in range(asks + 1):
        t0 = time.perf_counter()
        tr = study.ask()
        p = {k: tr.suggest_float(k, -5.0, 5.0) for k in dists}
        t1 = time.perf_counter()
        study.tell(tr, quad(p))
        if i > 0:
            ms.append((t1 - t0) * 1e3)
    return statistics.median(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--variants", default="tpe,tpe_mv")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    a = ap.parse_args()
    out = {"optuna": optuna.__version__, "python": sys.executable, "seeds": a.seeds,
           "trials": a.trials}
    t0 = time.time()
    if not a.skip_quality:
        out["first_seed"] = a.first_seed
        out["quality"] = quality(a.seeds, a.trials, a.procs, a.first_seed,
                                 tuple(a.variants.split(",")))
    if not a.skip_latency:
        out["latency_ms"] = {v: {n: round(latency(int(n), v == "tpe_mv"), 3)
                                 for n in a.sizes.split(",")} for v in ("tpe", "tpe_mv")}
    out["wall_s"] = round(time.time() - t0, 1)
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
