#!/bin/sh
# it_fault_worker_kill.sh - three hosts (network namespaces): a coordinator and two
# workers. SIGKILL worker A while its attempt runs: the coordinator notices within one
# lease (no BYE, only silence), requeues the attempt, worker B completes it, and the
# sweep completes with every grid point exactly once.
. tests/it-lib.sh
it_netns_setup 2
LEASE_MS=1500

cat > "$T/spec.json" <<JSON
{
  "name": "fault-worker-kill",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 7}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
export IT_DIR="$T"
port=5555
it_start_in "$NSC" coord "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/w.db" \
    --heartbeat-ms 200 --lease-ms $LEASE_MS --exit-when-done "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
IT_HOLD=1 it_start_in "$(it_ns 1)" wa "$SWEEPD" worker --connect "tcp://$(it_coord_addr 1):$port" --insecure \
    --id wa --allow-command "$ROOT/tests/trainers/*"
WA=$PID
have_started() { ls "$T"/started.* >/dev/null 2>&1; }
it_wait_cond 20 have_started
attempt=$(ls "$T" | sed -n 's/^started\.//p' | head -n 1)
kill -KILL $WA
wait $WA 2>/dev/null
t0=$(date +%s%N)
# its trainer is in its own process group and outlives the worker: stop it too
while read -r p _; do kill -KILL "$p" 2>/dev/null; done < "$T/trainer-pids"
pass "worker A (host 1) killed with SIGKILL while running attempt $attempt"

requeued() { it_has_event "$T/w.db" "attempt requeued"; }
it_wait_cond 10 requeued
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# the lease plus one scheduler tick (250 ms) and the polling above
[ "$ms" -le $((LEASE_MS + 1000)) ] || fail "requeued after $ms ms, lease is $LEASE_MS ms"
pass "attempt $attempt requeued $ms ms after the kill (lease $LEASE_MS ms)"

it_start_in "$(it_ns 2)" wb "$SWEEPD" worker --connect "tcp://$(it_coord_addr 2):$port" --insecure \
    --id wb --allow-command "$ROOT/tests/trainers/*"
WB=$PID
it_wait_exit $COORD 60
[ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_wait_exit $WB 10
[ "$RC" -eq 0 ] || fail "worker B exited $RC"

"$SWEEPD" trials --db "$T/w.db" --attempts --format csv > "$T/a.csv" || fail "sweepd trials --attempts"
awk -F, -v a="$attempt" '$2 == a && $5 == "LOST" && $6 == "lease"' "$T/a.csv" | grep -q . \
    || fail "attempt $attempt is not LOST by lease: $(cat "$T/a.csv")"
trial=$(awk -F, -v a="$attempt" '$2 == a { print $3 }' "$T/a.csv")
awk -F, -v t="$trial" '$3 == t && $5 == "COMPLETE" && $7 == "wb"' "$T/a.csv" | grep -q . \
    || fail "trial $trial was not completed by worker B: $(cat "$T/a.csv")"
[ "$(it_complete "$T/w.db")" -eq 8 ] || fail "expected 8 COMPLETE trials"
pass "trial $trial completed elsewhere; 8 of 8 grid points COMPLETE"
it_final_checks "$T/w.db"
