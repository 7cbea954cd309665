#!/bin/sh
# it_fault_partition.sh - partitions between hosts (network namespaces; the link is cut
# on the coordinator's side, so the worker sees timeouts as in a real partition).
#
# Long: worker A's link is down for longer than its lease. The coordinator declares A
# lost and requeues its attempt; worker B completes it. A's trainer finishes during
# the partition; when the link comes back A reconnects, re-announces the attempt and
# re-sends its result, which is acknowledged and discarded (the first result won).
#
# Short: worker A's link is down for less than the lease. A reconnects (its own
# liveness count runs out), re-announces the attempt, and its result is recorded once;
# nothing is requeued and no retry is counted.
. tests/it-lib.sh
it_netns_setup 2
export IT_DIR="$T"
port=5555

spec() {
    cat > "$T/$1.json" <<JSON
{
  "name": "$1",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 2}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
}
WFLAGS="--allow-command $ROOT/tests/trainers/quad.sh --liveness 3 --reconnect-min-ms 200 --reconnect-max-ms 400 --log-level info"
have_started() { ls "$T"/started.* >/dev/null 2>&1; }

# ---- long partition ------------------------------------------------------------------
spec long
it_start_in "$NSC" coord1 "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/long.db" \
    --heartbeat-ms 200 --lease-ms 1500 "$T/long.json"
COORD=$PID
it_wait_line "$T/coord1.log" "listening" 10
IT_HOLD=1 it_start_in "$(it_ns 1)" wa1 "$SWEEPD" worker --connect "tcp://$(it_coord_addr 1):$port" --insecure \
    --id wa --state-dir "$T/wa-state" $WFLAGS
WA=$PID
it_wait_cond 20 have_started
attempt=$(ls "$T" | sed -n 's/^started\.//p' | head -n 1)
it_cut 1
pass "link of host 1 cut while worker A runs attempt $attempt"
lost() { it_has_event "$T/long.db" "worker lost"; }
it_wait_cond 10 lost
it_start_in "$(it_ns 2)" wb1 "$SWEEPD" worker --connect "tcp://$(it_coord_addr 2):$port" --insecure --id wb $WFLAGS
WB=$PID
all_complete() { [ "$(it_complete "$1")" -eq "$2" ]; }
it_wait_cond 20 all_complete "$T/long.db" 3
pass "A lost after its lease; B completed its trial: 3 of 3 COMPLETE"
: > "$T/release"
spooled() { grep -q "result spooled attempt=$attempt" "$T/wa1.log"; }
it_wait_cond 10 spooled
it_heal 1
discarded() { it_has_event "$T/long.db" "late duplicate discarded"; }
it_wait_cond 20 discarded
pass "link healed: A's late result for attempt $attempt acknowledged and discarded"
spool_empty() { [ -z "$(ls "$T/wa-state/spool")" ]; }
it_wait_cond 10 spool_empty
kill -TERM $COORD; it_wait_exit $COORD 10; [ "$RC" -eq 0 ] || fail "coordinator exited $RC on SIGTERM"
kill -TERM $WA $WB; it_wait_exit $WA 10; it_wait_exit $WB 10
"$SWEEPD" trials --db "$T/long.db" --attempts --format csv > "$T/long.csv"
trial=$(awk -F, -v a="$attempt" '$2 == a { print $3 }' "$T/long.csv")
[ "$(awk -F, -v t="$trial" '$3 == t && $5 == "COMPLETE"' "$T/long.csv" | wc -l)" -eq 1 ] \
    || fail "trial $trial does not have exactly one COMPLETE attempt: $(cat "$T/long.csv")"
awk -F, -v a="$attempt" '$2 == a && $5 == "LOST" && $6 == "lease"' "$T/long.csv" | grep -q . \
    || fail "A's attempt $attempt is not LOST by lease: $(cat "$T/long.csv")"
[ "$(it_event_count "$T/long.db" "late duplicate discarded")" -eq 1 ] || fail "expected one discarded duplicate"
pass "trial $trial recorded once (B's result), A's attempt LOST, one duplicate discarded"
it_final_checks "$T/long.db"
rm -f "$T"/started.* "$T/release"

# ---- short partition -----------------------------------------------------------------
spec short
it_start_in "$NSC" coord2 "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/short.db" \
    --heartbeat-ms 200 --lease-ms 6000 --exit-when-done "$T/short.json"
COORD=$PID
it_wait_line "$T/coord2.log" "listening" 10
IT_HOLD=1 it_start_in "$(it_ns 1)" wa2 "$SWEEPD" worker --connect "tcp://$(it_coord_addr 1):$port" --insecure \
    --id wa --slots 3 --state-dir "$T/wa2-state" $WFLAGS
WA=$PID
three_started() { [ "$(ls "$T" | grep -c '^started\.')" -eq 3 ]; }
it_wait_cond 20 three_started
it_cut 1
t0=$(date +%s%N)
reconnecting() { grep -q "reconnecting" "$T/wa2.log"; }
it_wait_cond 10 reconnecting
: > "$T/release"
spooled3() { [ "$(grep -c "result spooled" "$T/wa2.log")" -ge 3 ]; }
it_wait_cond 10 spooled3
it_heal 1
cut_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
pass "link of host 1 down for ${cut_ms} ms (lease 6000 ms); A gave up on the socket and its trainers finished"
it_wait_exit $COORD 30; [ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_wait_exit $WA 10; [ "$RC" -eq 0 ] || fail "worker A exited $RC"
[ "$(it_complete "$T/short.db")" -eq 3 ] || fail "expected 3 COMPLETE"
"$SWEEPD" trials --db "$T/short.db" --attempts --format csv > "$T/short.csv"
[ "$(tail -n +2 "$T/short.csv" | wc -l)" -eq 3 ] || fail "expected exactly 3 attempts: $(cat "$T/short.csv")"
[ "$(it_event_count "$T/short.db" "attempt requeued")" -eq 0 ] || fail "an attempt was requeued"
[ "$(it_event_count "$T/short.db" "late duplicate discarded")" -eq 0 ] || fail "a duplicate arrived"
grep -q "reconnects=[1-9]" "$T/wa2.log" || fail "worker A never reconnected"
pass "3 results recorded once each over a new connection; no requeue, no retry"
it_final_checks "$T/short.db"
