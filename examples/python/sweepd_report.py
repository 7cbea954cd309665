"""sweepd_report - let a Python training script (PyTorch, Keras, ...) talk to a sweepd worker.

A worker runs a `command` trainer as a child process with the trial's parameters in
SWEEPD_PARAMS (JSON) and a report pipe on the file descriptor named by
SWEEPD_REPORT_FD (3). This module reads the one and writes JSON lines to the other:

    import sweepd_report as sw
    p = sw.params()                      # {"lr": 0.01, "batch_size": 32, ...}
    for epoch in range(1, epochs + 1):
        ...
        if sw.report(epoch, val_loss=vl, val_accuracy=va) == "prune":
            break                        # the coordinator's pruner stopped this trial
    sw.final(val_loss=vl, val_accuracy=va)

Run by hand (no SWEEPD_REPORT_FD), the lines go to stdout, so a script works the same
inside and outside a sweep. Standard library only.

Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
"""
import json
import math
import os
import sys

_out = None


def _stream():
    global _out
    if _out is None:
        fd = os.environ.get("SWEEPD_REPORT_FD")
        _out = os.fdopen(int(fd), "w", buffering=1) if fd else sys.stdout
    return _out


def params():
    """The trial's parameters (dict), or {} when not run by a sweepd worker."""
    return json.loads(os.environ.get("SWEEPD_PARAMS", "{}"))


def fold():
    """The cross-validation fold to evaluate (0-based), or None without cv."""
    f = os.environ.get("SWEEPD_FOLD")
    return int(f) if f is not None else None


def _clean(metrics):
    out = {}
    for k, v in metrics.items():
        v = float(v)
        out[k] = v if math.isfinite(v) else None
    return out


def report(step, **metrics):
    """Report intermediate metrics for STEP (an epoch, 1-based). Returns "continue".

    Pruning decisions are enforced by the worker, which stops the trainer's process
    group; the return value is kept for scripts that want to stop cleanly themselves.
    """
    _stream().write(json.dumps({"step": int(step), "metrics": _clean(metrics)}) + "\n")
    return "continue"


def final(**metrics):
    """Report the final metrics; the objective must be among them."""
    _stream().write(json.dumps({"final": True, "metrics": _clean(metrics)}) + "\n")
    _stream().flush()


def error(reason):
    """Report why the trial failed (then exit non-zero)."""
    _stream().write(json.dumps({"error": str(reason)}) + "\n")
    _stream().flush()
