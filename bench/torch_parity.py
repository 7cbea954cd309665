#!/usr/bin/python3
"""torch_parity.py - PyTorch's side of the accuracy parity check (bench/parity.sh)

For each dataset, the rows are permuted once with numpy's default_rng(7) and the first
floor(0.8 n) become the training rows, the rest the validation rows. The permuted file
(training rows first) is written to OUT_DIR so that sweepd, with validation_split 0.2
(Keras' rule: the last floor-cut fraction before shuffling), trains and validates on
exactly the same rows. Both sides standardize with the training rows' mean and population
std, initialize weights glorot_uniform with zero biases (Keras' Dense defaults; PyTorch's
own default differs), train with Adam (lr 1e-3, beta 0.9/0.999, eps 1e-7), reshuffle every
epoch, and report the validation accuracy after the last epoch.

Networks: pima 8-12-1 (relu, sigmoid, BCE), batch 10, 30 epochs;
breast cancer 30-16-1, batch 10, 30 epochs; digits 64-128-64-10 (relu, softmax via
CrossEntropyLoss), batch 32, 20 epochs. Seeds 0..4, torch.set_num_threads(1).

Usage: /usr/bin/python3 bench/torch_parity.py OUT_DIR [--data DIR] [--seeds N]
Prints one JSON object: {"pima": {"val_accuracy": [..], "mean": ..}, ...}.

Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
"""
import argparse
import json
import os

import numpy as np
import torch
from torch import nn

DATASETS = {
    "pima": ("pima-indians-diabetes.csv", [12], 10, 30),
    "breast_cancer": ("breast-cancer-wisconsin-diagnostic.csv", [16], 10, 30),
    "digits": ("digits-8x8.csv", [128, 64], 32, 20),
}


def run(x, y, hidden, batch, epochs, seed, multiclass):
    n = len(x)
    n_tr = int(np.floor(n * (1.0 - 0.2)))
    mu, sd = x[:n_tr].mean(0), x[:n_tr].std(0)
    sd[sd < 10 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(mu))] = 1.0
    xs = ((x - mu) / sd).astype(np.float32)
    xtr, xva = torch.from_numpy(xs[:n_tr]), torch.from_numpy(xs[n_tr:])
    torch.manual_seed(seed)
    sizes = [x.shape[1]] + hidden
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    k = int(y.max()) + 1 if multiclass else 1
    layers.append(nn.Linear(sizes[-1], k))
    if not multiclass:
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    for mod in model:
        if isinstance(mod, nn.Linear):
            nn.init.xavier_uniform_(mod.weight)
            nn.init.zeros_(mod.bias)
    if multiclass:
        ytr = torch.from_numpy(y[:n_tr].astype(np.int64))
        lossf = nn.CrossEntropyLoss()
    else:
        ytr = torch.from_numpy(y[:n_tr].astype(np.float32)).reshape(-1, 1)
        lossf = nn.BCELoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    for _ in range(epochs):
        idx = torch.randperm(n_tr)
        for s in range(0, n_tr, batch):
            bi = idx[s:s + batch]
            opt.zero_grad()
            loss = lossf(model(xtr[bi]), ytr[bi])
            loss.backward()
            opt.step()
    with torch.no_grad():
        out = model(xva).numpy()
    pred = out.argmax(1) if multiclass else (out[:, 0] > 0.5).astype(np.float64)
    return float((pred == y[n_tr:]).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "..", "examples", "data"))
    ap.add_argument("--seeds", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out_dir, exist_ok=True)
    result = {}
    for name, (fname, hidden, batch, epochs) in DATASETS.items():
        d = np.loadtxt(os.path.join(a.data, fname), delimiter=",", dtype=np.float64)
        d = d[np.random.default_rng(7).permutation(len(d))]
        # the permuted file, training rows first (%.17g keeps every value exact)
        np.savetxt(os.path.join(a.out_dir, name + ".csv"), d, delimiter=",", fmt="%.17g")
        x, y = d[:, :-1], d[:, -1]
        accs = [run(x, y, hidden, batch, epochs, s, name == "digits") for s in range(a.seeds)]
        result[name] = {"layers": hidden, "batch_size": batch, "epochs": epochs,
                        "val_accuracy": [round(v, 4) for v in accs],
                        "mean": round(float(np.mean(accs)), 4)}
    result["torch"] = torch.__version__
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
