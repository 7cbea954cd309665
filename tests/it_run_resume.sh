#!/bin/sh
# it_run_resume.sh - interrupt `sweepd run` half way (SIGKILL, then SIGINT), run the
# same command again with the same --db: finished trials are not rerun, unfinished
# ones are, and the grid completes with every point exactly once.
. tests/it-lib.sh

cat > "$T/spec.json" <<JSON
{
  "name": "it-resume",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 39}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
export IT_DIR="$T" IT_SLEEP=0.05
run() { it_start "$1" "$SWEEPD" run "$T/spec.json" --workers 2 --db "$T/r.db" --lease-ms 1000 --heartbeat-ms 200 --quiet; }
complete_count() {
    "$SWEEPD" trials --db "$T/r.db" --format csv > "$T/t.csv" 2>/dev/null || { echo 0; return; }
    it_csv_count "$T/t.csv" state COMPLETE
}
complete_at_least() { [ "$(complete_count)" -ge "$1" ]; }

run run1
it_wait_cond 60 complete_at_least 8
kill -KILL $PID
wait $PID 2>/dev/null
n1=$(complete_count)
pass "sweepd run killed with SIGKILL after $n1 trials"
cp "$T/t.csv" "$T/after-kill.csv"

run run2
it_wait_cond 60 complete_at_least $((n1 + 8))
# status reads the database while the coordinator writes it
"$SWEEPD" status --db "$T/r.db" --json > "$T/live.json" || fail "sweepd status --db during the run"
grep -q '"state":[[:space:]]*"RUNNING"' "$T/live.json" || fail "live status does not show the sweep RUNNING"
live=$(sed -n 's/.*"COMPLETE":[[:space:]]*\([0-9]*\).*/\1/p' "$T/live.json" | head -1)
[ "$live" -ge $((n1 + 8)) ] && [ "$live" -le 40 ] || fail "live status counts $live COMPLETE"
"$SWEEPD" status --db "$T/r.db" > "$T/live.txt" || fail "sweepd status (text) during the run"
grep -q "it-resume" "$T/live.txt" || fail "live status does not name the sweep"
pass "status --db during the run: RUNNING, $live COMPLETE"
kill -INT $PID
it_wait_exit $PID 20
[ "$RC" -eq 130 ] || fail "sweepd run exited $RC after SIGINT, expected 130"
n2=$(complete_count)
pass "sweepd run interrupted with SIGINT after $n2 trials (exit 130)"

run run3
it_wait_exit $PID 60
[ "$RC" -eq 0 ] || fail "resumed sweepd run exited $RC"
grep -q "best trial #3" "$T/run3.log" || fail "the best trial is not #3 (a=3): $(cat "$T/run3.log")"
"$SWEEPD" trials --db "$T/r.db" --format csv > "$T/t.csv"
[ "$(it_csv_count "$T/t.csv" state COMPLETE)" -eq 40 ] || fail "expected 40 COMPLETE"
[ "$(tail -n +2 "$T/t.csv" | cut -d, -f4 | sort -u | wc -l)" -eq 40 ] || fail "a grid point repeats"
[ "$(($(wc -l < "$T/t.csv") - 1))" -eq 40 ] || fail "expected exactly 40 trials"
# trials finished before the kill were not rerun: the trainer ran each a exactly once,
# except attempts cut off by the kill or the interrupt (at most 2 workers x 2 stops)
runs=$(wc -l < "$T/trainer-pids")
[ "$runs" -ge 40 ] && [ "$runs" -le 44 ] || fail "trainer ran $runs times for 40 points"
pass "40 grid points, each exactly once; $runs trainer runs in all"
