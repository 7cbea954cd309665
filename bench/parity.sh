#!/bin/sh
# parity.sh - sweepd's built-in trainer beside PyTorch: validation accuracy over 5 seeds
# on Pima, breast cancer and digits (same rows, architecture, optimizer, batch, epochs),
# then speed side by side (single thread) and peak memory.
#
#   sh bench/parity.sh [BUILD]      (BUILD defaults to build; needs BUILD/sweepd and
#                                    BUILD/bench/bench_trainer, and /usr/bin/python3 with
#                                    torch)
#
# Accuracy passes when sweepd's mean is within 1.5 points of PyTorch's on each dataset;
# speed passes when the seed network takes <= 10 us per step and the digits epoch is at
# least 1.5x faster than PyTorch's. Exit status 1 when a check fails.
#
# Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
set -eu
BUILD=${1:-build}
SWEEPD=$BUILD/sweepd
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
PY=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1

echo "PyTorch side (5 seeds per dataset) ..." >&2
$PY bench/torch_parity.py "$TMP" > "$TMP/torch.json"

for ds in pima breast_cancer digits; do
    case $ds in
    pima)          layers='[12]';      bs=10; ep=30; task=binary ;;
    breast_cancer) layers='[16]';      bs=10; ep=30; task=binary ;;
    digits)        layers='[128, 64]'; bs=32; ep=20; task=multiclass ;;
    esac
    cat > "$TMP/$ds.json" <<SPEC
{"name": "parity-$ds", "objective": {"metric": "val_accuracy", "direction": "maximize"},
 "method": "grid", "parameters": {"batch_size": {"type": "categorical", "values": [$bs]}},
 "trainer": {"type": "mlp", "dataset": "$TMP/$ds.csv", "header": false, "task": "$task",
             "layers": $layers, "activation": "relu", "optimizer": "adam",
             "batch_size": $bs, "epochs": $ep, "validation_split": 0.2}}
SPEC
    for seed in 0 1 2 3 4; do
        $SWEEPD train "$TMP/$ds.json" --seed $seed | tail -n 1 > "$TMP/$ds.$seed.final"
    done
done

echo "speed (single thread) ..." >&2
$BUILD/bench/bench_trainer > "$TMP/c_speed.json"
$PY bench/torch_speed.py > "$TMP/torch_speed.json"

$PY - "$TMP" <<'PYEOF'
import json, sys, os
tmp = sys.argv[1]
torch = json.load(open(os.path.join(tmp, "torch.json")))
ok = True
print("parity: mean validation accuracy over 5 seeds (same 80/20 rows, glorot init, adam defaults)")
print("%-14s %-16s %5s %6s  %-8s %-8s %-6s %s" % ("dataset", "network", "batch", "epochs", "sweepd", "pytorch", "diff", "within 1.5 pt"))
nets = {"pima": "8-12-1", "breast_cancer": "30-16-1", "digits": "64-128-64-10"}
for ds in ("pima", "breast_cancer", "digits"):
    accs = [json.load(open(os.path.join(tmp, "%s.%d.final" % (ds, s))))["metrics"]["val_accuracy"] for s in range(5)]
    mine = sum(accs) / len(accs)
    t = torch[ds]
    diff = (mine - t["mean"]) * 100
    good = abs(diff) <= 1.5
    ok &= good
    print("%-14s %-16s %5d %6d  %-8.4f %-8.4f %+5.2f  %s" % (ds, nets[ds], t["batch_size"], t["epochs"], mine, t["mean"], diff, "yes" if good else "NO"))
    print("%-14s sweepd  %s" % ("", " ".join("%.4f" % a for a in accs)))
    print("%-14s pytorch %s" % ("", " ".join("%.4f" % a for a in t["val_accuracy"])))
c = json.load(open(os.path.join(tmp, "c_speed.json")))
p = json.load(open(os.path.join(tmp, "torch_speed.json")))
print()
print("speed, single thread, same data and batch (sweepd float64, PyTorch %s float32)" % p["torch"])
print("%-44s %12s %12s %8s" % ("", "sweepd", "pytorch", "ratio"))
r1 = p["pima_us_per_step"] / c["pima_us_per_step"]
r2 = p["digits_ms_per_epoch"] / c["digits_ms_per_epoch"]
print("%-44s %12.2f %12.2f %7.1fx" % ("8-12-1 batch 10, us per optimizer step", c["pima_us_per_step"], p["pima_us_per_step"], r1))
print("%-44s %12.3f %12.3f %7.1fx" % ("64-128-64-10 batch 32, ms per epoch", c["digits_ms_per_epoch"], p["digits_ms_per_epoch"], r2))
print("%-44s %12.3f %12s" % ("  same, trn_fit with all epoch metrics", c["digits_fit_ms_per_epoch_with_metrics"], "-"))
print("%-44s %12.1f %12.1f" % ("peak RSS, MiB", c["peak_rss_kib"] / 1024, p["peak_rss_kib"] / 1024))
ok &= c["pima_us_per_step"] <= 10 and r2 >= 1.5
print()
print("all checks pass" if ok else "a check FAILED")
sys.exit(0 if ok else 1)
PYEOF
