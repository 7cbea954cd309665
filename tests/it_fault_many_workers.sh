#!/bin/sh
# it_fault_many_workers.sh - 64 workers started in the same second on 4 hosts (network
# namespaces, 16 workers each) against one coordinator: all register, all share the
# work, no error is logged and no message is rejected; each grid point runs once.
. tests/it-lib.sh
HOSTS=4; PER_HOST=16; N=$((HOSTS * PER_HOST)); TRIALS=192
it_netns_setup $HOSTS
export IT_DIR="$T" IT_SLEEP=0.4
port=5555
cat > "$T/spec.json" <<JSON
{
  "name": "fault-many",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": $((TRIALS - 1))}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
it_start_in "$NSC" coord "$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --insecure --db "$T/m.db" \
    --heartbeat-ms 1000 --lease-ms 10000 --exit-when-done "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
# Each worker waits at a barrier (the file $T/go) and then execs sweepd worker, so
# all 64 start within a few milliseconds of each other, not as fast as a shell loop
# can spawn them; PID stays the worker's own (exec).
h=1; WPIDS=""
while [ $h -le $HOSTS ]; do
    k=1
    while [ $k -le $PER_HOST ]; do
        it_start_in "$(it_ns $h)" "w$h-$k" sh -c 'while [ ! -e "$1" ]; do sleep 0.01; done; shift; exec "$@"' \
            sh "$T/go" "$SWEEPD" worker --connect "tcp://$(it_coord_addr $h):$port" --insecure \
            --id "w$h-$k" --allow-command "$ROOT/tests/trainers/*"
        WPIDS="$WPIDS $PID"
        k=$((k + 1))
    done
    h=$((h + 1))
done
t0=$(date +%s%N)
: > "$T/go"
started() { [ "$(grep -c "worker starting" "$T"/w*.log | awk -F: '{ n += $2 } END { print n }')" -ge $N ]; }
it_wait_cond 30 started
start_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
registered() { [ "$(grep -c "worker joined" "$T/coord.log")" -ge $N ]; }
it_wait_cond 30 registered
reg_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
pass "$N workers started in $start_ms ms, all registered after $reg_ms ms"
it_wait_exit $COORD 120; [ "$RC" -eq 0 ] || fail "coordinator exited $RC"
for p in $WPIDS; do it_wait_exit "$p" 10; [ "$RC" -eq 0 ] || fail "worker $p exited $RC"; done
wall_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$(it_complete "$T/m.db")" -eq $TRIALS ] || fail "expected $TRIALS COMPLETE"
"$SWEEPD" trials --db "$T/m.db" --attempts --format csv > "$T/a.csv"
used=$(tail -n +2 "$T/a.csv" | cut -d, -f7 | sort -u | wc -l)
[ "$used" -eq $N ] || fail "only $used of $N workers ran an attempt"
[ "$(tail -n +2 "$T/a.csv" | wc -l)" -eq $TRIALS ] || fail "attempts were retried: $(grep -v COMPLETE "$T/a.csv" | head)"
if grep -l " [EW]: " "$T"/w*.log "$T/coord.log" >/dev/null 2>&1; then
    fail "errors or warnings logged: $(grep -h " [EW]: " "$T"/w*.log "$T/coord.log" | head -n 5)"
fi
grep -q "rejected" "$T/coord.log" && fail "the coordinator rejected messages"
pass "$TRIALS trials on all $N workers in $wall_ms ms; one attempt each; no error, warning or rejection"
it_final_checks "$T/m.db"
