#!/bin/sh
# it_fault_spool.sh - a worker killed right after its trainer finished but before the
# ACK: the coordinator (test facility --debug-drop-acks 1) records the first result but
# does not acknowledge it; the worker has spooled it in --state-dir and is killed with
# SIGKILL. Restarted on the same state directory it loads the spool, re-announces the
# attempt and re-sends the result: recorded exactly once, spool empty afterwards.
. tests/it-lib.sh
it_netns_setup 1
export IT_DIR="$T"
# each trial takes a second: the worker is killed while its second trial runs, so the
# sweep cannot finish (and the coordinator exit) before the restarted worker re-sends
export IT_SLEEP=1
port=5555
cat > "$T/spec.json" <<JSON
{
  "name": "fault-spool",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 3}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
it_start_in "$NSC" coord "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/s.db" \
    --heartbeat-ms 200 --lease-ms 3000 --exit-when-done --debug-drop-acks 1 "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
# no --id: the worker keeps the id it first had in its state directory (worker-id),
# so the coordinator knows the restarted process as the attempt's owner
WORKER="$SWEEPD worker --connect tcp://$(it_coord_addr 1):$port --insecure --state-dir $T/state
        --allow-command $ROOT/tests/trainers/quad.sh --result-resend-ms 60000 --log-level info"
# shellcheck disable=SC2086
it_start_in "$(it_ns 1)" wa1 $WORKER
WA=$PID
it_wait_line "$T/coord.log" "ACK dropped" 10
it_wait_line "$T/wa1.log" "result spooled attempt=" 10
attempt=$(sed -n 's/.*result spooled attempt=\([0-9]*\).*/\1/p' "$T/wa1.log" | head -n 1)
kill -KILL $WA
wait $WA 2>/dev/null
[ -f "$T/state/spool/$attempt.json" ] || fail "no spool file for attempt $attempt: $(ls "$T/state/spool")"
pass "worker killed with SIGKILL holding the unacknowledged result of attempt $attempt in its spool"

# shellcheck disable=SC2086
it_start_in "$(it_ns 1)" wa2 $WORKER
WA=$PID
it_wait_line "$T/wa2.log" "spooled result loaded, sending it again attempt=$attempt" 10
grep -q "worker id $(cat "$T/state/worker-id") kept from" "$T/wa2.log" || fail "restarted worker did not keep its id"
it_wait_exit $COORD 30; [ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_wait_exit $WA 10; [ "$RC" -eq 0 ] || fail "restarted worker exited $RC"
[ -z "$(ls "$T/state/spool")" ] || fail "spool not empty: $(ls "$T/state/spool")"
"$SWEEPD" trials --db "$T/s.db" --attempts --format csv > "$T/a.csv"
[ "$(awk -F, -v a="$attempt" '$2 == a && $5 == "COMPLETE"' "$T/a.csv" | wc -l)" -eq 1 ] \
    || fail "attempt $attempt not recorded COMPLETE once: $(cat "$T/a.csv")"
[ "$(it_event_count "$T/s.db" "late duplicate discarded")" -eq 1 ] || fail "the re-sent result was not seen as a duplicate"
pass "re-sent after restart: acknowledged as a duplicate, recorded once, spool empty"
it_final_checks "$T/s.db"
