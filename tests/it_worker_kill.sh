#!/bin/sh
# it_worker_kill.sh - kill -9 a worker while its attempt runs: the attempt's lease
# expires, the trial is requeued and completed by another worker, and the sweep
# completes with every grid point exactly once and one retry counted.
. tests/it-lib.sh

cat > "$T/spec.json" <<JSON
{
  "name": "it-worker-kill",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 5}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
export IT_DIR="$T"
port=$(it_free_port)
it_start coord "$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/w.db" \
    --heartbeat-ms 200 --lease-ms 1500 --exit-when-done "$T/spec.json"
COORD=$PID
# worker A's trainers hold until released, so its first attempt is surely running
IT_HOLD=1 it_start wa "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id wa --allow-command "$ROOT/tests/trainers/*"
WA=$PID
have_started() { ls "$T"/started.* >/dev/null 2>&1; }
it_wait_cond 20 have_started
kill -KILL $WA
wait $WA 2>/dev/null
# its trainer is in its own process group and outlives the worker: stop it too
while read -r p _; do kill -KILL "$p" 2>/dev/null; done < "$T/trainer-pids"
pass "worker A killed with SIGKILL while running attempt $(ls "$T" | sed -n 's/^started\.//p')"

it_start wb "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id wb --allow-command "$ROOT/tests/trainers/*"
WB=$PID
it_wait_exit $COORD 60
[ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_wait_exit $WB 10

"$SWEEPD" trials --db "$T/w.db" --format csv > "$T/t.csv" || fail "sweepd trials"
[ "$(it_csv_count "$T/t.csv" state COMPLETE)" -eq 6 ] || fail "expected 6 COMPLETE: $(cat "$T/t.csv")"
[ "$(tail -n +2 "$T/t.csv" | cut -d, -f4 | sort -u | wc -l)" -eq 6 ] || fail "a grid point repeats"
"$SWEEPD" status --db "$T/w.db" --json > "$T/status.json"
grep -q '"retries":[[:space:]]*1,' "$T/status.json" || fail "expected exactly one retry: $(grep retries "$T/status.json")"
grep -qi "lease expired\|lost" "$T/coord.log" || fail "coordinator did not log the lost worker"
pass "the killed attempt was requeued once and completed by worker B"
