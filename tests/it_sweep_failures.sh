#!/bin/sh
# it_sweep_failures.sh - sweeps that cannot succeed end, and say why:
#  - a worker started without --allow-command never gets a command sweep (its HELLO
#    says what it can run); status says no connected worker can run it; a worker that
#    can, completes it with no failed trial and no retry;
#  - a trainer that fails every trial (wrong command): the sweep ends FAILED after the
#    first 5 trials, "every trial failed: ...", not after the whole grid;
#  - an interrupted `sweepd run` (SIGINT) with max_retries 0: its interrupted attempts
#    are requeued without a retry, and the resumed run completes every trial.
. tests/it-lib.sh
export IT_DIR="$T"

cat > "$T/cmd.json" <<JSON
{
  "name": "caps",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 5}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
port=$(it_free_port)
it_start coord "$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/c.db" \
    --heartbeat-ms 200 --exit-when-done "$T/cmd.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
it_start plain "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id plain
PLAIN=$PID
it_wait_line "$T/coord.log" "worker joined worker=plain" 10
no_worker_can() {
    "$SWEEPD" status --connect "tcp://127.0.0.1:$port" > "$T/st.txt" 2>&1 \
        && grep -q "warning  no connected worker can run this sweep (trainer command '$ROOT/tests/trainers/quad.sh'; 1 workers connected)" "$T/st.txt"
}
it_wait_cond 10 no_worker_can
grep -q "assigned attempt" "$T/coord.log" && fail "an attempt was assigned to the worker that cannot run it"
pass "a worker without --allow-command gets nothing; status: no connected worker can run it"
it_start able "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id able \
    --allow-command "$ROOT/tests/trainers/*"
ABLE=$PID
it_wait_exit "$COORD" 60
[ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_wait_exit "$PLAIN" 10
it_wait_exit "$ABLE" 10
"$SWEEPD" status --db "$T/c.db" --json > "$T/c.json"
grep -q '"COMPLETE":[[:space:]]*6' "$T/c.json" || fail "expected 6 COMPLETE: $(cat "$T/c.json")"
grep -q '"FAILED":[[:space:]]*0' "$T/c.json" || fail "a trial failed"
grep -q '"retries":[[:space:]]*0' "$T/c.json" || fail "a retry was counted"
pass "the able worker completed all 6 trials: 0 failed, 0 retries"
it_final_checks "$T/c.db"

# every trial fails by the trainer itself: FAILED after the first 5 of 10
cat > "$T/fail.json" <<JSON
{
  "name": "allfail",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "categorical", "values": ["fail"]},
                 "b": {"type": "int", "low": 0, "high": 9}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}", "{b}"]}
}
JSON
"$SWEEPD" run "$T/fail.json" --db "$T/f.db" --workers 1 --heartbeat-ms 200 --lease-ms 1500 \
    --quiet > "$T/fail.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "sweepd run of a sweep whose every trial fails exited $rc, expected 1: $(cat "$T/fail.out")"
grep -q "sweep allfail: FAILED (every trial failed: exit status 3 (stderr: quad.sh: failing on purpose) (stopped after the first 5))" \
    "$T/fail.out" || fail "unexpected summary: $(cat "$T/fail.out")"
"$SWEEPD" trials --db "$T/f.db" --format csv > "$T/f.csv"
[ "$(it_csv_count "$T/f.csv" state FAILED)" -eq 5 ] || fail "expected 5 FAILED trials: $(cat "$T/f.csv")"
[ "$(($(wc -l < "$T/f.csv") - 1))" -eq 5 ] || fail "expected 5 trials created of 10"
pass "every trial failed: sweep FAILED after 5 of 10 trials, sweepd run exits 1"

# sweepd run interrupted with SIGINT, max_retries 0: no retry, the resumed run completes
cat > "$T/int.json" <<JSON
{
  "name": "interrupted",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 3}},
  "limits": {"max_retries": 0},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
IT_HOLD=1 it_start run1 "$SWEEPD" run "$T/int.json" --db "$T/i.db" --workers 2 \
    --heartbeat-ms 200 --lease-ms 1500 --quiet
RUN1=$PID
two_started() { [ "$(ls "$T" | grep -c '^started\.')" -ge 2 ]; }
it_wait_cond 20 two_started
kill -INT "$RUN1"
it_wait_exit "$RUN1" 20
[ "$RC" -eq 130 ] || fail "interrupted sweepd run exited $RC, expected 130"
: > "$T/release"
it_start run2 "$SWEEPD" run "$T/int.json" --db "$T/i.db" --workers 2 --heartbeat-ms 200 \
    --lease-ms 1500 --quiet
it_wait_exit "$PID" 60
[ "$RC" -eq 0 ] || fail "resumed sweepd run exited $RC: $(cat "$T/run2.log")"
"$SWEEPD" status --db "$T/i.db" --json > "$T/i.json"
grep -q '"COMPLETE":[[:space:]]*4' "$T/i.json" || fail "expected 4 COMPLETE: $(cat "$T/i.json")"
grep -q '"retries":[[:space:]]*0' "$T/i.json" || fail "the interrupted attempts counted retries: $(cat "$T/i.json")"
grep -q "lost once" "$T/i.json" && fail "a trial failed as lost"
pass "interrupted sweepd run: attempts requeued without a retry, resumed run completes 4/4"
it_final_checks "$T/i.db"
