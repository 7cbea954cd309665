#!/bin/sh
# bench_asha.sh BUILD - ASHA against the full budget on the same 81 configurations.
#
# Runs examples/digits-asha.json (random search over a 64-units-10 softmax network
# on the 8x8 digits, epochs as the resource: one trainer step per epoch, 27 epochs)
# twice with `sweepd run --workers 2`:
#   full  the same spec with "pruner": {"type": "none"}: every trial trains 27 epochs;
#   asha  the spec as it is: ASHA, reduction_factor 3, min_resource 1, max_resource 27
#         (rungs at epochs 1, 3 and 9).
# The random sampler draws trial n from its own stream (seed, n), so both runs
# train the same 81 configurations. Printed for each: wall time, the best
# validation accuracy of a COMPLETE trial, and the epochs trained (the sum over
# attempts of the last step each reached); then the ratios and the target
# (ASHA's best within 1 accuracy point of the full budget's, with at most 35% of
# its epochs). Also printed: what the pruner module decides when the full run's
# recorded learning curves are replayed through it in the order they were stored
# (build/bench/asha_replay), the expectation for the ASHA run.
# Usage: sh bench/bench_asha.sh BUILD   (needs BUILD/sweepd; BUILD/bench/asha_replay
# for the expectation line: make BUILD=BUILD bench). About a minute on 2 cores. Exit status: 0 when both criteria hold, 1 otherwise
# or on a failure.
set -eu
build=${1:-build}
SWEEPD=$(cd "$build" && pwd)/sweepd
REPLAY=$(cd "$build" && pwd)/bench/asha_replay
PY=/usr/bin/python3
spec=examples/digits-asha.json
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sweepd-asha-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }

# full-budget twin: same parameters, seed and trials; only the pruner and name differ
"$PY" - "$spec" "$tmp/full.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["name"] = s["name"] + "-full"
s["pruner"] = {"type": "none"}
json.dump(s, open(sys.argv[2], "w"), indent=1)
PY
cp "$spec" "$tmp/asha.json"

echo "== ASHA vs full budget: $spec, 81 trials, 2 workers ($(nproc) cores)"
for v in full asha; do
    t0=$(now)
    if ! "$SWEEPD" run "$tmp/$v.json" --workers 2 --db "$tmp/$v.db" --quiet > "$tmp/$v.out" 2> "$tmp/$v.err"; then
        echo "bench_asha: sweepd run ($v) failed:" >&2
        tail -5 "$tmp/$v.err" >&2
        exit 1
    fi
    t1=$(now)
    echo "$t0 $t1" > "$tmp/$v.time"
    "$SWEEPD" trials --db "$tmp/$v.db" --format csv > "$tmp/$v.trials.csv"
    "$SWEEPD" trials --attempts --db "$tmp/$v.db" --format csv > "$tmp/$v.attempts.csv"
done

"$PY" - "$tmp" <<'PY'
import csv, sqlite3, sys
tmp = sys.argv[1]
res = {}
for v in ("full", "asha"):
    t0, t1 = map(float, open(f"{tmp}/{v}.time").read().split())
    trials = list(csv.DictReader(open(f"{tmp}/{v}.trials.csv")))
    states = {}
    for t in trials:
        states[t["state"]] = states.get(t["state"], 0) + 1
    done = [float(t["value"]) for t in trials if t["state"] == "COMPLETE" and t["value"]]
    best = max(done) if done else float("nan")
    atts = list(csv.DictReader(open(f"{tmp}/{v}.attempts.csv")))
    if atts and "last_step" in atts[0]:
        epochs = sum(int(a["last_step"] or 0) for a in atts)
        how = "last_step of sweepd trials --attempts"
    else:   # older CLI without the column: the same figure from the store
        db = sqlite3.connect(f"file:{tmp}/{v}.db?mode=ro", uri=True)
        epochs = db.execute(
            "SELECT COALESCE(SUM(COALESCE(a.last_step,"
            " (SELECT MAX(step) FROM reports r WHERE r.attempt_id = a.id), 0)), 0)"
            " FROM attempts a").fetchone()[0]
        how = "attempts.last_step in the store"
    res[v] = (best, epochs, t1 - t0, states, len(trials))
    print(f"  {v:4s}: {len(trials)} trials {dict(sorted(states.items()))}, "
          f"{t1 - t0:5.1f} s wall, best val_accuracy {best:.4f}, epochs trained {epochs}")
(bf, ef, wf, _, _), (ba, ea, wa, sa, _) = res["full"], res["asha"]
ratio = ea / ef if ef else float("nan")
gap = (bf - ba) * 100
print(f"  ASHA / full: epochs {ratio:.1%}, wall {wa / wf:.1%}; best {gap:+.2f} accuracy points "
      f"below the full budget's (epochs from {how})")
ok_acc, ok_ep = gap <= 1.0, ratio <= 0.35
print(f"  target: best within 1 point: {'yes' if ok_acc else 'no'}; "
      f"<= 35% of the epochs: {'yes' if ok_ep else 'no'}")
if sa.get("PRUNED", 0) == 0:
    print("  note: the ASHA run pruned no trial: the scheduler does not call the pruner yet")
open(f"{tmp}/verdict", "w").write("ok" if ok_acc and ok_ep else "fail")
PY

if [ -x "$REPLAY" ]; then
    echo "  expectation: the full run's learning curves replayed through the pruner module:"
    "$REPLAY" "$tmp/full.db" "$tmp/asha.json" | sed 's/^/    /'
else
    echo "  (no $build/bench/asha_replay for the expectation: make BUILD=$build $build/bench/asha_replay)"
fi
[ "$(cat "$tmp/verdict")" = ok ]
