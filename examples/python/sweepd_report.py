"""sweepd_report - let a Python training script (PyTorch, Keras, ...) talk to a sweepd worker.

A worker runs a `command` trainer as a child process with the trial's parameters in
SWEEPD_PARAMS (JSON) and a report pipe on the file descriptor named by
SWEEPD_REPORT_FD (3). This module reads the one and writes JSON lines to the other:

    import sweepd_report as sw
    p = sw.params()                      # {"lr": 0.01, "batch_size": 32, ...}
    for epoch in range(1, epochs + 1):
        ...
        sw.report(epoch, val_loss=vl, val_accuracy=va)   # a pruned trial is stopped here
    sw.final(val_loss=vl, val_accuracy=va)

Run by hand (no SWEEPD_REPORT_FD), the lines go to stdout, so a script works the same
inside and outside a sweep. Standard library only.

Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
"""
import json
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
    # NaN and infinities are written as JSON's NaN / Infinity extensions, which the
    # worker reads: a diverging step is reported as such, and a non-finite objective
    # fails the trial with that reason instead of a parse error.
    return {k: float(v) for k, v in metrics.items()}


def report(step, **metrics):
    """Report intermediate metrics for STEP (an epoch, 1-based).

    When the sweep's pruner stops this trial, the worker ends the trainer's whole
    process group (SIGTERM, then SIGKILL after a grace period): a script needs no
    code of its own for pruning, and may catch SIGTERM to clean up.
    """
    _stream().write(json.dumps({"step": int(step), "metrics": _clean(metrics)}) + "\n")


def final(**metrics):
    """Report the final metrics; the objective must be among them."""
    _stream().write(json.dumps({"final": True, "metrics": _clean(metrics)}) + "\n")
    _stream().flush()


def error(reason):
    """Report why the trial failed (then exit non-zero)."""
    _stream().write(json.dumps({"error": str(reason)}) + "\n")
    _stream().flush()
