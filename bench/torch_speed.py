#!/usr/bin/python3
"""torch_speed.py - PyTorch's side of the trainer speed comparison (bench/parity.sh)

Times, single-threaded (torch.set_num_threads(1)), float32, on the same data and batch
sizes as bench/bench_trainer.c:
  * the seed network 8-12-1 (relu, sigmoid, BCELoss, Adam) on Pima at batch 10:
    microseconds per optimizer step (forward + loss + backward + step), median of
    per-epoch means, batches cut from one torch.randperm per epoch ("slices", the lean
    loop of /work/shared/anchors/torch_mlp_epoch.py);
  * the digits network 64-128-64-10 (relu, softmax via CrossEntropyLoss, Adam) at batch 32
    on the 80% training part of digits: milliseconds per epoch, median over epochs.
Prints one JSON object: {"pima_us_per_step": ..., "digits_ms_per_epoch": ...,
"peak_rss_kib": ..., ...}.

Usage: /usr/bin/python3 bench/torch_speed.py [--epochs N] [--data DIR]

Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn


def load(path):
    d = np.loadtxt(path, delimiter=",", dtype=np.float64)
    return d[:, :-1], d[:, -1]


def split_std(x, y, frac=0.2):
    n_tr = int(np.floor(len(x) * (1.0 - frac)))
    mu, sd = x[:n_tr].mean(0), x[:n_tr].std(0)
    sd[sd == 0] = 1.0
    return (x[:n_tr] - mu) / sd, y[:n_tr]


def time_epochs(model, lossf, xtr, ytr, batch, epochs):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    n = len(xtr)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        idx = torch.randperm(n)
        for s in range(0, n, batch):
            bi = idx[s:s + batch]
            opt.zero_grad()
            loss = lossf(model(xtr[bi]), ytr[bi])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return times, (n + batch - 1) // batch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "..", "examples", "data"))
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    x, y = load(os.path.join(a.data, "pima-indians-diabetes.csv"))
    xtr, ytr = split_std(x, y)
    xt = torch.tensor(xtr, dtype=torch.float32)
    yt = torch.tensor(ytr, dtype=torch.float32).reshape(-1, 1)
    m = nn.Sequential(nn.Linear(8, 12), nn.ReLU(), nn.Linear(12, 1), nn.Sigmoid())
    times, steps = time_epochs(m, nn.BCELoss(), xt, yt, 10, a.epochs)
    pima_us = statistics.median(times) * 1e6 / steps

    x, y = load(os.path.join(a.data, "digits-8x8.csv"))
    xtr, ytr = split_std(x, y)
    xt = torch.tensor(xtr, dtype=torch.float32)
    yt = torch.tensor(ytr, dtype=torch.int64)
    m = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                      nn.Linear(64, 10))
    times, dsteps = time_epochs(m, nn.CrossEntropyLoss(), xt, yt, 32, a.epochs)
    digits_ms = statistics.median(times) * 1e3

    out = {"side": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
           "dtype": "float32",
           "pima_us_per_step": round(pima_us, 2), "pima_steps_per_epoch": steps,
           "digits_ms_per_epoch": round(digits_ms, 3), "digits_steps_per_epoch": dsteps,
           "digits_us_per_step": round(digits_ms * 1e3 / dsteps, 2),
           "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
           "epochs": a.epochs, "python": sys.executable}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
