#!/bin/sh
# it_fault_retries.sh - bounded retries, and the two kinds of failure kept apart. Trial
# "killworker" runs a trainer that kills its worker's host (SIGKILL of the worker, which
# a supervisor restarts, as systemd would); with max_retries 2 the third loss fails the
# trial with the reason. Trial "fail" runs a trainer that exits 3 by itself: FAILED at
# once, kind trainer, no retry. max_failed 2 then ends the sweep FAILED with its reason.
. tests/it-lib.sh
it_netns_setup 1
export IT_DIR="$T"
port=5555
cat > "$T/spec.json" <<JSON
{
  "name": "fault-retries",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "categorical", "values": ["killworker", "fail"]}},
  "limits": {"max_retries": 2, "max_failed": 2},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
it_start_in "$NSC" coord "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/r.db" \
    --heartbeat-ms 200 --lease-ms 2000 --exit-when-done "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
runs=0
while kill -0 $COORD 2>/dev/null && [ $runs -lt 8 ]; do
    runs=$((runs + 1))
    it_start_in "$(it_ns 1)" "w$runs" "$SWEEPD" worker --connect "tcp://$(it_coord_addr 1):$port" --insecure \
        --id w1 --allow-command "$ROOT/tests/trainers/*"
    it_wait_exit $PID 20
    [ "$RC" -eq 0 ] && break    # SHUTDOWN: every sweep is final
done
it_wait_exit $COORD 10; [ "$RC" -eq 0 ] || fail "coordinator exited $RC"
pass "the worker was started $runs times (killed by its trainer each time but the last)"
"$SWEEPD" trials --db "$T/r.db" --format csv > "$T/t.csv"
grep -q '^fault-retries,0,FAILED,killworker,.*lost 3 times (worker w1: ' "$T/t.csv" \
    || fail "trial 0 should be FAILED after 3 losses: $(cat "$T/t.csv")"
grep -q '^fault-retries,1,FAILED,fail,.*exit status 3 (stderr: quad.sh: failing on purpose)' "$T/t.csv" \
    || fail "trial 1 should be FAILED by its trainer: $(cat "$T/t.csv")"
"$SWEEPD" trials --db "$T/r.db" --attempts --format csv > "$T/a.csv"
[ "$(awk -F, '$3 == 0 && $5 == "LOST" && $6 == "lease"' "$T/a.csv" | wc -l)" -eq 3 ] \
    || fail "trial 0 should have 3 attempts LOST with their worker: $(cat "$T/a.csv")"
[ "$(awk -F, '$3 == 1' "$T/a.csv" | wc -l)" -eq 1 ] && awk -F, '$3 == 1 && $5 == "FAILED" && $6 == "trainer"' "$T/a.csv" | grep -q . \
    || fail "trial 1 should have one attempt FAILED by its trainer: $(cat "$T/a.csv")"
pass "trial 0: 3 attempts lost with the worker, then FAILED; trial 1: FAILED by its trainer, no retry"
"$SWEEPD" status --db "$T/r.db" > "$T/status.txt"
grep -q "fault-retries  grid  FAILED" "$T/status.txt" && grep -q "reason   max_failed reached: 2 trials failed" "$T/status.txt" \
    || fail "sweep should be FAILED by max_failed: $(cat "$T/status.txt")"
pass "the sweep ended FAILED: $(sed -n 's/^  reason   //p' "$T/status.txt")"
it_final_checks "$T/r.db"
