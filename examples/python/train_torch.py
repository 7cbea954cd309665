#!/usr/bin/python3
"""train_torch.py - a PyTorch training script tuned by sweepd as a `command` trainer.

The seed network (Dense(12, relu) -> Dense(1, sigmoid)) on the Pima data, written the
way a PyTorch user would, reporting each epoch's validation metrics to sweepd through
sweepd_report. Parameters arrive as command-line flags (see examples/pima-torch.json);
with cross-validation, SWEEPD_FOLD names the fold to hold out.

    sweepd run examples/pima-torch.json --workers 2

Needs /usr/bin/python3 with torch and numpy (Debian: python3-torch).

Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweepd_report as sw  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--units", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--data", default="examples/data/pima-indians-diabetes.csv")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(7)
    data = np.loadtxt(args.data, delimiter=",", dtype=np.float32)
    x, y = data[:, :-1], data[:, -1:]
    order = np.random.default_rng(7).permutation(len(x))
    folds = np.array_split(order, 3)
    k = sw.fold() or 0
    val = folds[k]
    train = np.concatenate([f for i, f in enumerate(folds) if i != k])
    mean, std = x[train].mean(0), x[train].std(0) + 1e-7   # fitted on training rows only
    xt, yt = torch.from_numpy((x[train] - mean) / std), torch.from_numpy(y[train])
    xv, yv = torch.from_numpy((x[val] - mean) / std), torch.from_numpy(y[val])

    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], args.units), torch.nn.ReLU(),
                                torch.nn.Linear(args.units, 1), torch.nn.Sigmoid())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = torch.nn.BCELoss()
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), args.batch_size):
            idx = perm[i:i + args.batch_size]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        with torch.no_grad():
            pv = model(xv)
            val_loss = loss_fn(pv, yv).item()
            val_acc = ((pv > 0.5).float() == yv).float().mean().item()
        sw.report(epoch, val_loss=val_loss, val_accuracy=val_acc)
    sw.final(val_loss=val_loss, val_accuracy=val_acc)


if __name__ == "__main__":
    main()
