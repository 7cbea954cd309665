#!/usr/bin/python3
"""sklearn_grid.py - the seed article's grid with scikit-learn's GridSearchCV, for comparison.

Same data (examples/data/pima-indians-diabetes.csv), same grid as
examples/pima-grid.json, except that scikit-learn has no RMSprop solver, so only adam
and sgd: batch_size {10, 20, 40} x epochs (max_iter) {10, 20, 30} x solver {adam, sgd},
MLPClassifier(hidden_layer_sizes=(12,), activation='relu') behind a StandardScaler
fitted on each training fold, 3-fold stratified CV, accuracy. Prints one JSON line:
wall seconds of GridSearchCV.fit and the best mean CV accuracy with its parameters.

Usage: /usr/bin/python3 bench/sklearn_grid.py [N_JOBS]
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def main():
    n_jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    data = np.loadtxt("examples/data/pima-indians-diabetes.csv", delimiter=",")
    x, y = data[:, :-1], data[:, -1].astype(int)
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(12,), activation="relu",
                                           random_state=7))])
    grid = {"mlp__batch_size": [10, 20, 40], "mlp__max_iter": [10, 20, 30],
            "mlp__solver": ["adam", "sgd"]}
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3), scoring="accuracy",
                          n_jobs=n_jobs, refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        t0 = time.perf_counter()
        search.fit(x, y)
        wall = time.perf_counter() - t0
    best = int(np.argmax(search.cv_results_["mean_test_score"]))
    print(json.dumps({
        "tool": "scikit-learn GridSearchCV", "n_jobs": n_jobs, "candidates": 18, "fits": 54,
        "wall_s": round(wall, 3),
        "best_mean_accuracy": round(float(search.cv_results_["mean_test_score"][best]), 4),
        "best_std": round(float(search.cv_results_["std_test_score"][best]), 4),
        "best_params": {k.replace("mlp__", ""): v
                        for k, v in search.cv_results_["params"][best].items()},
    }))


if __name__ == "__main__":
    main()
