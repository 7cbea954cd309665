#!/bin/sh
# it_fault_drain.sh - graceful stops. SIGTERM to worker A (host 1) while it runs an
# attempt: it stops taking work, hands the attempt back at once (BYE, no retry, no
# lease wait: the lease is 30 s) and exits 0. Worker C (host 2) runs a trainer that
# ignores SIGTERM with a 60 s grace period: the first SIGTERM hands back and waits, the
# second kills the trainer's process group and exits. SIGTERM to the coordinator
# commits and exits 0; a restarted coordinator completes the sweep.
. tests/it-lib.sh
it_netns_setup 2
export IT_DIR="$T"
port=5555
cat > "$T/spec.json" <<JSON
{
  "name": "fault-drain",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 3}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
start_coord() {
    it_start_in "$NSC" "coord$1" "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/d.db" \
        --heartbeat-ms 200 --lease-ms 30000 $2 "$T/spec.json"
    COORD=$PID
    it_wait_line "$T/coord$1.log" "listening" 10
}
n_started() { [ "$(ls "$T" | grep -c '^started\.')" -ge "$1" ]; }
t_start=$(date +%s)
start_coord 1 ""
IT_HOLD=1 it_start_in "$(it_ns 1)" wa "$SWEEPD" worker --connect "tcp://$(it_coord_addr 1):$port" --insecure \
    --id wa --allow-command "$ROOT/tests/trainers/*"
WA=$PID
it_wait_cond 20 n_started 1
kill -TERM $WA
it_wait_exit $WA 5; [ "$RC" -eq 0 ] || fail "worker A exited $RC after SIGTERM"
handed() { it_has_event "$T/d.db" "worker gone"; }
it_wait_cond 5 handed
"$SWEEPD" trials --db "$T/d.db" --attempts --format csv > "$T/a1.csv"
awk -F, '$2 == 1 && $5 == "LOST" && $6 == "handed_back"' "$T/a1.csv" | grep -q . \
    || fail "attempt 1 was not handed back: $(cat "$T/a1.csv")"
pass "SIGTERM: worker A handed attempt 1 back at once and exited 0"

IT_HOLD=1 IT_IGNORE_TERM=1 it_start_in "$(it_ns 2)" wc "$SWEEPD" worker \
    --connect "tcp://$(it_coord_addr 2):$port" --insecure --id wc --grace-ms 60000 --allow-command "$ROOT/tests/trainers/*"
WC=$PID
it_wait_cond 20 n_started 2
trainer=$(awk '$2 == 2 { print $1 }' "$T/trainer-pids")
kill -TERM $WC
it_wait_line "$T/wc.log" "worker stopping" 5
it_wait_cond 5 it_has_event "$T/d.db" "worker gone"
it_alive $WC || fail "worker C exited before its trainer (which ignores SIGTERM) stopped"
it_alive "$trainer" || fail "the trainer of worker C is gone after the first SIGTERM"
kill -TERM $WC
it_wait_exit $WC 5; [ "$RC" -eq 0 ] || fail "worker C exited $RC after the second SIGTERM"
gone() { ! it_alive "$trainer"; }
it_wait_cond 5 gone
pass "worker C: first SIGTERM handed back and waited, second SIGTERM killed trainer $trainer and exited"

kill -TERM $COORD
it_wait_exit $COORD 5; [ "$RC" -eq 0 ] || fail "coordinator exited $RC after SIGTERM"
"$SWEEPD" check --db "$T/d.db" > "$T/check1.out" || fail "database after SIGTERM: $(cat "$T/check1.out")"
pass "coordinator: SIGTERM committed and exited 0; database consistent"

start_coord 2 --exit-when-done
it_start_in "$(it_ns 2)" wb "$SWEEPD" worker --connect "tcp://$(it_coord_addr 2):$port" --insecure \
    --id wb --allow-command "$ROOT/tests/trainers/*"
WB=$PID
it_wait_exit $COORD 30; [ "$RC" -eq 0 ] || fail "restarted coordinator exited $RC"
it_wait_exit $WB 10
[ "$(it_complete "$T/d.db")" -eq 4 ] || fail "expected 4 COMPLETE"
"$SWEEPD" status --db "$T/d.db" > "$T/status.txt"
grep -q "retries 0 " "$T/status.txt" || fail "a handed-back attempt counted as a retry: $(cat "$T/status.txt")"
elapsed=$(( $(date +%s) - t_start ))
[ "$elapsed" -lt 30 ] || fail "took ${elapsed}s: something waited for the 30 s lease"
pass "sweep completed in ${elapsed}s (lease 30 s) with 0 retries"
it_final_checks "$T/d.db"
