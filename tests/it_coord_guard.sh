#!/bin/sh
# it_coord_guard.sh - one coordinator per database, and flags that cannot work refused:
# a second `sweepd coordinator` (and `sweepd run`) on a database a running coordinator
# serves is refused at start naming the other process, exit 1, nothing written;
# readers (status, trials, check) keep working; a SIGKILLed coordinator leaves no
# lock that blocks the next start; --lease-ms under 3 heartbeats is a usage error; a
# sweep refused at start is refused before the coordinator says it listens.
. tests/it-lib.sh

cat > "$T/spec.json" <<JSON
{
  "name": "guard",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": 3}},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}"]}
}
JSON
"$SWEEPD" coordinator --bind tcp://127.0.0.1:1 --db "$T/x.db" --lease-ms 500 --heartbeat-ms 200 \
    > "$T/lease.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "--lease-ms 500 --heartbeat-ms 200 exited $rc, expected 2"
grep -q "lease-ms 500 is shorter than 3 heartbeats of 200 ms" "$T/lease.out" \
    || fail "no clear message: $(cat "$T/lease.out")"
[ ! -e "$T/x.db" ] || fail "the database was created for a refused command line"
pass "--lease-ms under 3 heartbeats: usage error (exit 2), nothing created"

port=$(it_free_port)
it_start coord1 "$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/s.db" \
    --heartbeat-ms 200 "$T/spec.json"
C1=$PID
it_wait_line "$T/coord1.log" "listening" 10
sum_before=$(cat "$T/s.db" "$T/s.db-wal" 2>/dev/null | cksum)
port2=$(it_free_port)
"$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port2" --db "$T/s.db" "$T/spec.json" > "$T/second.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "a second coordinator on the same database exited $rc, expected 1"
grep -q "database $T/s.db is served by another coordinator (pid $C1 on host $(hostname)); stop it first" \
    "$T/second.out" || fail "no message naming the other coordinator: $(cat "$T/second.out")"
grep -q "listening" "$T/second.out" && fail "the refused coordinator said it was listening"
"$SWEEPD" run "$T/spec.json" --db "$T/s.db" --workers 1 --quiet > "$T/run.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "sweepd run on a served database exited $rc, expected 1"
grep -q "served by another coordinator (pid $C1" "$T/run.out" || fail "sweepd run: $(cat "$T/run.out")"
sum_after=$(cat "$T/s.db" "$T/s.db-wal" 2>/dev/null | cksum)
[ "$sum_before" = "$sum_after" ] || fail "the refused openers wrote to the database"
pass "second coordinator and sweepd run refused (exit 1) naming pid $C1, nothing written"

"$SWEEPD" status --db "$T/s.db" > "$T/status.out" 2>&1 || fail "status --db while served: $(cat "$T/status.out")"
grep -q "sweep guard" "$T/status.out" || fail "status does not show the sweep"
"$SWEEPD" trials --db "$T/s.db" > /dev/null 2>&1 || fail "trials --db while served"
"$SWEEPD" check --db "$T/s.db" > "$T/check.out" 2>&1 || fail "check --db while served: $(cat "$T/check.out")"
grep -q "1 sweep, " "$T/check.out" || fail "check says: $(cat "$T/check.out")"
pass "status, trials and check read the database while it is served"

kill -KILL "$C1"
wait "$C1" 2>/dev/null
it_start coord2 "$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/s.db" \
    --heartbeat-ms 200 --exit-when-done "$T/spec.json"
C2=$PID
it_wait_line "$T/coord2.log" "listening" 10
pass "the lock of a SIGKILLed coordinator does not block the next start"
it_start w1 "$SWEEPD" worker --connect "tcp://127.0.0.1:$port" --id w1 \
    --allow-command "$ROOT/tests/trainers/*"
W1=$PID
export IT_DIR="$T"
it_wait_exit "$C2" 60
[ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_wait_exit "$W1" 10
[ "$(it_complete "$T/s.db")" -eq 4 ] || fail "expected 4 COMPLETE trials"
it_final_checks "$T/s.db"

# a sweep refused at start (its spec changed) is refused before anything listens
sed 's/"high": 3/"high": 4/' "$T/spec.json" > "$T/changed.json"
"$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/s.db" "$T/changed.json" > "$T/changed.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a changed spec exited $rc, expected 2"
grep -q "sweep 'guard' refused: the database holds a sweep of that name with a different spec" \
    "$T/changed.out" || fail "refusal says: $(cat "$T/changed.out")"
grep -q "changed: parameters.a" "$T/changed.out" || fail "refusal does not name the path: $(cat "$T/changed.out")"
grep -q "listening" "$T/changed.out" && fail "said listening before refusing: $(cat "$T/changed.out")"
pass "a changed spec is refused (exit 2) naming the path, before listening"
