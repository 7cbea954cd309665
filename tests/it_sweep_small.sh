#!/bin/sh
# it_sweep_small.sh - a full small sweep over real sockets and a real database:
# `sweepd coordinator` on 127.0.0.1 and two `sweepd worker` processes running the
# built-in trainer on Pima with 2-fold CV. Every grid point runs exactly once, every
# fold has one attempt, counts per state are exact, and status/trials/best agree.
. tests/it-lib.sh

cat > "$T/spec.json" <<JSON
{
  "name": "it-small",
  "objective": {"metric": "val_accuracy", "direction": "maximize"},
  "method": "grid",
  "parameters": {
    "batch_size": {"type": "categorical", "values": [20, 40]},
    "epochs":     {"type": "int", "low": 2, "high": 3},
    "optimizer":  {"type": "categorical", "values": ["adam", "sgd"]}
  },
  "cv": {"folds": 2, "stratified": true, "seed": 7},
  "trainer": {"type": "mlp", "dataset": "$ROOT/examples/data/pima-indians-diabetes.csv",
              "layers": [12], "activation": "relu", "loss": "binary_crossentropy",
              "validation_split": 0.2}
}
JSON
port=$(it_free_port)
it_start coord "$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/s.db" \
    --heartbeat-ms 200 --exit-when-done "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening|bound|serving" 10
it_start w1 "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id w1
W1=$PID
it_start w2 "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id w2
W2=$PID
it_wait_exit $COORD 60
[ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_wait_exit $W1 10; [ "$RC" -eq 0 ] || fail "worker 1 exited $RC after SHUTDOWN"
it_wait_exit $W2 10; [ "$RC" -eq 0 ] || fail "worker 2 exited $RC after SHUTDOWN"
pass "coordinator and both workers exited 0"

"$SWEEPD" trials --db "$T/s.db" --format csv > "$T/trials.csv" || fail "sweepd trials"
[ "$(it_csv_count "$T/trials.csv" state COMPLETE)" -eq 8 ] || fail "expected 8 COMPLETE trials: $(cat "$T/trials.csv")"
[ "$(($(wc -l < "$T/trials.csv") - 1))" -eq 8 ] || fail "expected exactly 8 trials"
# the exact set of grid points, each once
cut -d, -f4-6 "$T/trials.csv" | tail -n +2 | sort > "$T/points"
printf '%s\n' "20,2,adam" "20,2,sgd" "20,3,adam" "20,3,sgd" "40,2,adam" "40,2,sgd" "40,3,adam" "40,3,sgd" > "$T/expected"
diff "$T/expected" "$T/points" || fail "grid points differ from the expected set"
pass "8 grid points, each exactly once"
awk -F, 'NR > 1 && $9 != 2 { bad = 1 } END { exit bad }' "$T/trials.csv" || fail "a trial without 2 folds done"
# both workers took work
grep -q '"local\|w1' "$T/w1.log" 2>/dev/null || true
"$SWEEPD" status --db "$T/s.db" --json > "$T/status.json" || fail "sweepd status --json"
grep -q '"COMPLETE":[[:space:]]*8' "$T/status.json" || fail "status does not count 8 COMPLETE"
grep -q '"state":[[:space:]]*"COMPLETE"' "$T/status.json" || fail "sweep not COMPLETE in status"
"$SWEEPD" best --db "$T/s.db" > "$T/best.txt" || fail "sweepd best"
grep -q "it-small" "$T/best.txt" || fail "best does not name the sweep"
pass "status, trials and best agree"
