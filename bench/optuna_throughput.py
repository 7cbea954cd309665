#!/usr/bin/python3
"""optuna_throughput.py - Optuna's trial throughput with a trivial objective, for comparison.

The peer of bench/noop.json: RandomSampler over one float, objective x (no work), a
durable SQLite store (like sweepd's), one process. Prints one JSON line with trials
per second.

Usage: /usr/bin/python3 bench/optuna_throughput.py N_TRIALS DB_PATH
"""
import json
import os
import sys
import time

import optuna


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    path = sys.argv[2] if len(sys.argv) > 2 else "/tmp/optuna-throughput.db"
    if os.path.exists(path):
        os.remove(path)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage="sqlite:///" + path,
                                sampler=optuna.samplers.RandomSampler(seed=1))
    t0 = time.perf_counter()
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=n)
    wall = time.perf_counter() - t0
    done = sum(1 for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
    print(json.dumps({"tool": "optuna", "version": optuna.__version__, "storage": "sqlite",
                      "trials": done, "wall_s": round(wall, 3),
                      "trials_per_s": round(done / wall, 1)}))


if __name__ == "__main__":
    main()
