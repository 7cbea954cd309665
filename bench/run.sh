#!/bin/sh
# run.sh BUILD - print sweepd's figures side by side with its peers, in one run.
#
#  1. the seed grid (examples/pima-grid.json, 27 trials x 3 folds) with 1 and 2 workers:
#     wall time and best mean CV accuracy;
#  2. scikit-learn's GridSearchCV on the same grid (adam and sgd only: it has no rmsprop);
#  3. no-op trials per second through the coordinator (bench/noop.json: a trivial
#     trainer, 2 workers, durable SQLite store);
#  4. the coordinator crash loop (scripts/chaos.sh): 2,000 trials, 4 workers, 20
#     SIGKILLs of the coordinator: kills survived, duplicates, lost, wall time.
# Figures, not pass/fail: the machine is shared and noisy; run it twice to compare.
set -eu
build=${1:-build}
SWEEPD=$(cd "$build" && pwd)/sweepd
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sweepd-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "== sweepd bench ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "-- seed grid: examples/pima-grid.json, 27 trials x 3 folds"
for w in 1 2; do
    t0=$(now)
    "$SWEEPD" run examples/pima-grid.json --workers $w --db "$tmp/grid$w.db" --quiet > "$tmp/grid$w.out" 2> "$tmp/grid$w.err"
    t1=$(now)
    best=$("$SWEEPD" best --db "$tmp/grid$w.db" --json | /usr/bin/python3 -c 'import json,sys; b=list(json.load(sys.stdin).values())[0]; print("%.4f +- %.4f  %s" % (b["value"], b.get("value_std") or 0, json.dumps(b["params"], sort_keys=True)))')
    printf '  sweepd run, %d worker(s):       %6ss wall   best %s\n' "$w" "$(elapsed "$t0" "$t1")" "$best"
done
for j in 1 2; do
    PYTHONWARNINGS=ignore /usr/bin/python3 bench/sklearn_grid.py $j > "$tmp/sk$j.json"
    /usr/bin/python3 - "$tmp/sk$j.json" "$j" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("  scikit-learn GridSearchCV, n_jobs=%s: %6.2fs wall   best %.4f +- %.4f  %s  (18 candidates: no rmsprop)"
      % (sys.argv[2], r["wall_s"], r["best_mean_accuracy"], r["best_std"], json.dumps(r["best_params"], sort_keys=True)))
PY
done
echo
echo "-- scheduler overhead: bench/noop.json, 2000 no-op trials, 2 workers, SQLite store"
t0=$(now)
"$SWEEPD" run bench/noop.json --workers 2 --db "$tmp/noop.db" --quiet > "$tmp/noop.out" 2> "$tmp/noop.err"
t1=$(now)
n=$("$SWEEPD" status --db "$tmp/noop.db" --json | /usr/bin/python3 -c 'import json,sys; s=list(json.load(sys.stdin)["sweeps"].values())[0]; print(s["trials"]["COMPLETE"])')
w=$(elapsed "$t0" "$t1")
printf '  sweepd: %s trials in %ss = %s trials/s (each trial spawns a trainer process)\n' "$n" "$w" "$(awk -v n="$n" -v w="$w" 'BEGIN { printf "%.0f", n / w }')"
PYTHONWARNINGS=ignore /usr/bin/python3 bench/optuna_throughput.py 500 "$tmp/optuna.db" > "$tmp/optuna.json"
/usr/bin/python3 - "$tmp/optuna.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("  Optuna %s: %d trials in %.2fs = %.0f trials/s (SQLite store, one process, no trainer process)"
      % (r["version"], r["trials"], r["wall_s"], r["trials_per_s"]))
PY
echo
echo "-- coordinator crash loop: scripts/chaos.sh, 2000 trials, 4 workers, 20 SIGKILLs"
SWEEPD="$SWEEPD" sh scripts/chaos.sh 2000 20 4 2>&1 | sed -n 's/^chaos: /  /p'

echo
echo "-- built-in trainer beside PyTorch (bench/parity.sh): accuracy over 5 seeds, speed, memory"
sh bench/parity.sh "$build" || echo "  (a parity or speed check above did not pass)"

echo
echo "-- TPE beside Optuna's TPE (bench/bench_tpe, bench/optuna_tpe.py): best after 100 trials,"
echo "   median over seeds 0-9 (lower is better), and the cost of one proposal"
"$build/bench/bench_tpe" all --seeds 10 | sed 's/^/  /'
PYTHONWARNINGS=ignore /usr/bin/python3 bench/optuna_tpe.py --seeds 10 --procs 2 --sizes 100,1000,5000 \
    > "$tmp/optuna_tpe.json" 2>/dev/null
/usr/bin/python3 - "$tmp/optuna_tpe.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("  Optuna %s, measured in this run (same functions, seeds and trials):" % r["optuna"])
for fn, v in r["quality"].items():
    print("    %-18s TPE %-10.4g TPE mv %.4g" % (fn, v["tpe"]["median"], v["tpe_mv"]["median"]))
for var, sizes in r.get("latency_ms", {}).items():
    print("    ms per ask + 3 suggest_float, %-7s %s" % (var, "  ".join("N=%s: %.1f" % kv for kv in sizes.items())))
PY

n=${BENCH_TPE_SEEDS:-0}
if [ "$n" -gt 10 ] 2>/dev/null; then
    echo
    echo "-- TPE beside Optuna's TPE on seeds 0-$((n - 1)) (BENCH_TPE_SEEDS=$n; ten seeds are few:"
    echo "   see docs/SAMPLERS.md), both run here: median [25th, 75th] best after 100 trials"
    rm -f "$tmp/tpe_values.txt"
    "$build/bench/bench_tpe" quality --tpe-only --seeds "$n" --values "$tmp/tpe_values.txt" > /dev/null
    PYTHONWARNINGS=ignore /usr/bin/python3 bench/optuna_tpe.py --seeds "$n" --procs 2 --variants tpe \
        --skip-latency > "$tmp/optuna_tpe_n.json" 2>/dev/null
    /usr/bin/python3 bench/tpe_compare.py "$tmp/tpe_values.txt" "$tmp/optuna_tpe_n.json" | sed 's/^/  /'
fi

echo
echo "-- ASHA beside the full budget on the same 81 configurations (bench/bench_asha.sh)"
sh bench/bench_asha.sh "$build" | sed 's/^/  /' || echo "  (the ASHA target above was not met)"
