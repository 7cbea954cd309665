#!/bin/sh
# chaos.sh [TRIALS] [KILLS] [WORKERS] - coordinator crash loop: a grid sweep of TRIALS
# short trials (default 2000) on WORKERS workers (default 4), each with a result spool,
# while the coordinator is killed with SIGKILL at KILLS (default 20) random moments and
# restarted on the same database each time. At the end it checks the database (sweepd
# check: PRAGMA integrity_check, every trial final, each grid point and trial number
# exactly once) and that every result a worker saw acknowledged is recorded, then
# prints the figures: kills survived, trials, duplicates (must be 0), lost (must be 0),
# wall time. Exit status 0 when the figures are as they must be.
#
# The coordinator runs on its own host (a network namespace) with each worker on
# another, joined by veth links, when this runs as root with namespace support;
# otherwise everything runs on 127.0.0.1. Moments are random (seeded by CHAOS_SEED,
# default: the time): kill k comes once about k/(KILLS+1) of the trials are complete,
# plus a random 0-150 ms. SWEEPD names the binary (default build/sweepd); KEEP=1 keeps
# the logs. Used by `make bench` (full size) and tests/it_fault_chaos.sh (smaller).
#
# Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
set -u
TRIALS=${1:-2000}
KILLS=${2:-20}
WORKERS=${3:-4}
cd "$(dirname "$0")/.." || exit 1
: "${SWEEPD:=$(pwd)/build/sweepd}"
. tests/it-lib.sh
SEED=${CHAOS_SEED:-$(date +%s)}

port=5555
netns_usable() {
    ip netns add "sw$$probe" 2>/dev/null || return 1
    ip netns exec "sw$$probe" true 2>/dev/null
    rc=$?
    ip netns del "sw$$probe" 2>/dev/null
    return $rc
}
if [ "${CHAOS_NETNS:-auto}" != no ] && [ "$(id -u)" -eq 0 ] && netns_usable; then
    it_netns_setup "$WORKERS"
    where="$WORKERS+1 hosts (network namespaces)"
    coord_run() { it_start_in "$NSC" "$@"; }
    worker_run() { i=$1; shift; it_start_in "$(it_ns "$i")" "$@"; }
    worker_addr() { it_coord_addr "$1"; }
    bind="tcp://0.0.0.0:$port"
    insecure=--insecure     # plaintext across namespaces: said explicitly (docs/OPERATIONS.md)
else
    port=$(it_free_port)
    where="one host (127.0.0.1)"
    coord_run() { it_start "$@"; }
    worker_run() { shift; it_start "$@"; }
    worker_addr() { echo 127.0.0.1; }
    bind="tcp://127.0.0.1:$port"
    insecure=
fi

cat > "$T/spec.json" <<JSON
{
  "name": "chaos",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": $((TRIALS / 2 - 1))},
                 "b": {"type": "categorical", "values": [0, 1]}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}", "{b}"]}
}
JSON
export IT_DIR="$T"
coord_n=0
start_coord() {
    coord_n=$((coord_n + 1))
    coord_run "coord$coord_n" "$SWEEPD" coordinator $insecure --bind "$bind" --db "$T/chaos.db" \
        --heartbeat-ms 100 --lease-ms 2000 --exit-when-done "$T/spec.json"
    COORD=$PID
}
complete_count() { it_complete "$T/chaos.db"; }

t0=$(date +%s%N)
start_coord
i=1; WPIDS=""
while [ $i -le "$WORKERS" ]; do
    worker_run $i "w$i" "$SWEEPD" worker $insecure --connect "tcp://$(worker_addr $i):$port" --id "w$i" \
        --state-dir "$T/state$i" --liveness 3 --reconnect-min-ms 100 --reconnect-max-ms 500 \
        --result-resend-ms 500 --allow-command "$ROOT/tests/trainers/*" --log-level info
    WPIDS="$WPIDS $PID"
    i=$((i + 1))
done

kills=0
k=1
while [ $k -le "$KILLS" ]; do
    target=$(( TRIALS * k / (KILLS + 1) ))
    reached() { [ "$(complete_count)" -ge "$target" ] || ! kill -0 "$COORD" 2>/dev/null; }
    it_wait_cond 300 reached
    kill -0 "$COORD" 2>/dev/null || break       # finished before this kill
    delay=$(awk -v s="$SEED" -v k="$k" 'BEGIN { srand(s * 1000 + k); printf "%.3f", rand() * 0.15 }')
    sleep "$delay"
    kill -KILL "$COORD" 2>/dev/null && kills=$((kills + 1))
    wait "$COORD" 2>/dev/null
    start_coord
    k=$((k + 1))
done
it_wait_exit "$COORD" 600
[ "$RC" -eq 0 ] || fail "the last coordinator exited $RC"
for p in $WPIDS; do it_wait_exit "$p" 30; done
t1=$(date +%s%N)

cat "$T"/w*.log | sed -n 's/.*result acknowledged attempt=\([0-9]*\) state=\([A-Z]*\).*/\1 \2/p' > "$T/acked.txt"
"$SWEEPD" check --db "$T/chaos.db" --final --acked "$T/acked.txt" > "$T/check.txt" 2>&1
check_rc=$?
"$SWEEPD" trials --db "$T/chaos.db" --attempts --format csv > "$T/attempts.csv"
"$SWEEPD" trials --db "$T/chaos.db" --format csv > "$T/trials.csv"
complete=$(it_csv_count "$T/trials.csv" state COMPLETE)
# duplicates: folds with more than one COMPLETE attempt, and grid points recorded twice
dups=$(awk -F, '$5 == "COMPLETE" { n[$3 "," $4]++ } END { d = 0; for (k in n) if (n[k] > 1) d += n[k] - 1; print d }' "$T/attempts.csv")
gdups=$(tail -n +2 "$T/trials.csv" | cut -d, -f4,5 | sort | uniq -d | wc -l)
dups=$((dups + gdups))
# lost: trials not COMPLETE, plus acknowledged results the database does not hold
lost_ack=$(grep -c "(lost)" "$T/check.txt")
lost=$(( TRIALS - complete + lost_ack ))
runs=$(wc -l < "$T/trainer-pids")
requeued=$(awk -F, '$5 == "LOST"' "$T/attempts.csv" | wc -l)
acked=$(wc -l < "$T/acked.txt")
wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
echo "chaos: $where, $WORKERS workers, seed $SEED"
echo "chaos: kills survived $kills of $KILLS, trials $complete of $TRIALS COMPLETE, duplicates $dups, lost $lost, wall ${wall}s"
echo "chaos: $runs trainer runs, $requeued attempts requeued, $acked results acknowledged and all recorded: $( [ "$lost_ack" -eq 0 ] && echo yes || echo no)"
tail -n 1 "$T/check.txt" | sed 's/^/chaos: /'
[ "$check_rc" -eq 0 ] || fail "sweepd check: $(cat "$T/check.txt")"
[ "$dups" -eq 0 ] && [ "$lost" -eq 0 ] && [ "$complete" -eq "$TRIALS" ] || fail "duplicates $dups, lost $lost"
[ "$kills" -eq "$KILLS" ] || fail "only $kills of $KILLS kills happened before the sweep ended"
it_final_checks "$T/chaos.db" > /dev/null
