#!/bin/sh
# it_coordinator_kill.sh - kill -9 the coordinator half way, start it again on the same
# database: the sweep completes with every grid point exactly once, and nothing that
# was acknowledged is lost (each trial has exactly one COMPLETE result).
. tests/it-lib.sh

cat > "$T/spec.json" <<JSON
{
  "name": "it-crash",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 29},
                 "b": {"type": "categorical", "values": [0, 1]}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}", "{b}"]}
}
JSON
export IT_DIR="$T" IT_SLEEP=0.05
port=$(it_free_port)
start_coord() {
    it_start "coord$1" "$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/c.db" \
        --heartbeat-ms 200 --lease-ms 3000 --exit-when-done "$T/spec.json"
    COORD=$PID
}
start_coord 1
it_start w1 "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id w1 --slots 2 --allow-command "$ROOT/tests/trainers/*"
W1=$PID
it_start w2 "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id w2 --slots 2 --allow-command "$ROOT/tests/trainers/*"
W2=$PID

complete_at_least() {
    "$SWEEPD" trials --db "$T/c.db" --format csv > "$T/t.csv" 2>/dev/null || return 1
    [ "$(it_csv_count "$T/t.csv" state COMPLETE)" -ge "$1" ]
}
it_wait_cond 60 complete_at_least 20
kill -KILL $COORD
wait $COORD 2>/dev/null
pass "coordinator killed with SIGKILL after >= 20 of 60 trials"
start_coord 2
it_wait_exit $COORD 90
[ "$RC" -eq 0 ] || fail "restarted coordinator exited $RC"
it_wait_exit $W1 10
it_wait_exit $W2 10

"$SWEEPD" trials --db "$T/c.db" --format csv > "$T/t.csv" || fail "sweepd trials"
[ "$(it_csv_count "$T/t.csv" state COMPLETE)" -eq 60 ] || fail "expected 60 COMPLETE: $(grep -v COMPLETE "$T/t.csv")"
[ "$(tail -n +2 "$T/t.csv" | cut -d, -f4,5 | sort -u | wc -l)" -eq 60 ] || fail "a grid point repeats"
[ "$(tail -n +2 "$T/t.csv" | cut -d, -f2 | sort -n | uniq | wc -l)" -eq 60 ] || fail "a trial number repeats"
# values are those of the trainer: (a-3)^2 + b
awk -F, 'NR > 1 { want = ($4 - 3) * ($4 - 3) + $5; if ($6 + 0 != want) { print "trial", $2, $6, "!=", want; bad = 1 } } END { exit bad }' "$T/t.csv" \
    || fail "a recorded value is not the trainer's"
pass "60 grid points, each exactly once, with the trainer's values"
