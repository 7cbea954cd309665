#!/bin/sh
# it_fault_status.sh - `sweepd status` shows health, asked live over the network from
# the coordinator's host and read from the database: worker A (host 1) killed with
# SIGKILL is "lost" with a heartbeat age past the lease; worker B (host 2) is "alive",
# fresh, with the attempt it runs and its trial number; the requeued trial shows its
# retry; the events list names what happened (worker lost, lease expired, attempt
# requeued); after B's SIGTERM it is "gone"; the rate counts served time, not 5 min.
. tests/it-lib.sh
it_netns_setup 2
export IT_DIR="$T"
port=5555
LEASE_MS=1500
cat > "$T/spec.json" <<JSON
{
  "name": "fault-status",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 3}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
it_start_in "$NSC" coord "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/st.db" \
    --heartbeat-ms 200 --lease-ms $LEASE_MS "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
n_started() { [ "$(ls "$T" | grep -c '^started\.')" -ge "$1" ]; }
IT_HOLD=1 it_start_in "$(it_ns 1)" wa "$SWEEPD" worker --connect "tcp://$(it_coord_addr 1):$port" --insecure \
    --id wa --allow-command "$ROOT/tests/trainers/*"
WA=$PID
it_wait_cond 20 n_started 1
kill -KILL $WA; wait $WA 2>/dev/null
while read -r p _; do kill -KILL "$p" 2>/dev/null; done < "$T/trainer-pids"
it_wait_cond 10 it_has_event "$T/st.db" "attempt requeued"
IT_HOLD=1 it_start_in "$(it_ns 2)" wb "$SWEEPD" worker --connect "tcp://$(it_coord_addr 2):$port" --insecure \
    --id wb --allow-command "$ROOT/tests/trainers/*"
WB=$PID
it_wait_cond 20 n_started 2
b_attempt=$(ls "$T" | sed -n 's/^started\.//p' | sort -n | tail -n 1)

it_in_coord "$SWEEPD" status --connect "tcp://127.0.0.1:$port" > "$T/live.txt" || fail "status --connect"
cat "$T/live.txt"
row() { awk -v id="$1" '$1 == id' "$T/live.txt"; }
row wa | awk -v l=$LEASE_MS '$3 == "lost" && $5 >= l { ok = 1 } END { exit !ok }' \
    || fail "worker A is not shown lost with a heartbeat age >= $LEASE_MS ms: $(row wa)"
row wb | awk '$3 == "alive" && $5 < 1000 { ok = 1 } END { exit !ok }' \
    || fail "worker B is not shown alive with a fresh heartbeat: $(row wb)"
row wb | grep -q "attempt $b_attempt (trial 0)" || fail "worker B's attempt is not shown: $(row wb)"
grep -q "retried  #0:1" "$T/live.txt" || fail "trial 0's retry is not shown"
grep -q "lost     lease 1" "$T/live.txt" || fail "the lost attempt's kind is not shown"
for e in "worker lost" "lease expired" "attempt requeued"; do
    grep -q "$e: 1;" "$T/live.txt" || fail "event '$e' is not counted"
    grep -q " s ago  $e " "$T/live.txt" || fail "event '$e' is not listed"
done
pass "live status: A lost, B alive running trial 0, one retry of trial 0, the events listed"

: > "$T/release"
it_wait_cond 20 sh -c "[ \"\$('$SWEEPD' trials --db '$T/st.db' --format csv | grep -c COMPLETE)\" -eq 4 ]"
kill -TERM $WB; it_wait_exit $WB 10; [ "$RC" -eq 0 ] || fail "worker B exited $RC"
it_wait_cond 5 it_has_event "$T/st.db" "worker gone"
"$SWEEPD" status --db "$T/st.db" > "$T/db.txt"
awk '$1 == "wb" && $3 == "gone"' "$T/db.txt" | grep -q . || fail "worker B is not shown gone: $(cat "$T/db.txt")"
rate=$(sed -n 's/.*rate *\([0-9.]*\) trials\/min.*/\1/p' "$T/db.txt")
awk -v r="$rate" 'BEGIN { exit !(r >= 10) }' || fail "rate $rate trials/min: 4 trials in a few seconds served should be >= 10"
pass "after SIGTERM worker B is gone; rate $rate trials/min over the served time"
kill -TERM $COORD; it_wait_exit $COORD 10; [ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_final_checks "$T/st.db"
