#!/bin/sh
# it_sweep_ops.sh - sweepd submit, cancel and resume with real processes on 127.0.0.1:
#  - a coordinator started with no sweep and one worker; `submit` a 4-point grid: it
#    completes 4/4; submitting it again resumes it (finished), a changed spec is
#    refused naming the field, a spec with an error exits 2 and stores nothing;
#  - a slower sweep is cancelled while two trials run: their trainer processes are
#    gone, its trials are CANCELLED 2, nothing else runs; `resume --retry-failed`
#    completes it with every grid point COMPLETE exactly once (sweepd check --final);
#  - a sweep whose every trial failed (a missing flag file) ends FAILED under `sweepd
#    run`; `resume --db` is refused while a coordinator holds the database; after the
#    fix, `resume NAME --db FILE --retry-failed` and `sweepd run` again complete it.
. tests/it-lib.sh
export IT_DIR="$T"
OPS="$ROOT/tests/trainers/ops.sh"

spec() {    # spec NAME MODE HIGH
    cat <<JSON
{
  "name": "$1",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "int", "low": 0, "high": $3}},
  "trainer": {"type": "command", "argv": ["$OPS", "$2", "{a}"]}
}
JSON
}
spec quick quick 3 > "$T/quick.json"
spec quick quick 4 > "$T/quick-changed.json"
spec slow hold 5 > "$T/slow.json"
spec once once 2 > "$T/once.json"
cat > "$T/bad.json" <<JSON
{
  "name": "bad",
  "objective": {"metric": "value", "direction": "sideways"},
  "method": "grid",
  "parameters": {"a": {"type": "float", "low": 0, "high": 1, "log": true}},
  "trainer": {"type": "command", "argv": ["$OPS", "quick", "{a}"]}
}
JSON

port=$(it_free_port)
EP="tcp://127.0.0.1:$port"
it_start coord "$SWEEPD" coordinator --bind "$EP" --db "$T/c.db" --heartbeat-ms 200
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
it_start worker "$SWEEPD" worker --connect "$EP" --id w1 --slots 2 --allow-command "$ROOT/tests/trainers/*"
WORKER=$PID
it_wait_line "$T/coord.log" "worker joined worker=w1" 10

# state COUNT DB SWEEP STATE N: the sweep has N trials in STATE
count() {
    "$SWEEPD" status --db "$1" "$2" --json 2>/dev/null > "$T/st.json" || return 1
    grep -q "\"$3\":[[:space:]]*$4\([^0-9]\|$\)" "$T/st.json"
}
sweep_state() {
    "$SWEEPD" status --db "$1" "$2" --json 2>/dev/null > "$T/ss.json" || return 1
    grep -q "\"state\":[[:space:]]*\"$3\"" "$T/ss.json"
}

# ---- submit ----
"$SWEEPD" submit "$T/quick.json" --connect "$EP" > "$T/sub.out" 2>&1 || fail "submit exited $?: $(cat "$T/sub.out")"
grep -q "^sweep quick submitted: RUNNING$" "$T/sub.out" || fail "submit said: $(cat "$T/sub.out")"
it_wait_cond 30 sweep_state "$T/c.db" quick COMPLETE
count "$T/c.db" quick COMPLETE 4 || fail "expected 4 COMPLETE: $(cat "$T/st.json")"
count "$T/c.db" quick FAILED 0 || fail "a trial failed: $(cat "$T/st.json")"
pass "a coordinator started with no sweep ran a submitted 4-point grid to COMPLETE 4"

"$SWEEPD" submit "$T/quick.json" --connect "$EP" > "$T/sub2.out" 2>&1 || fail "resubmit exited $?: $(cat "$T/sub2.out")"
grep -q "^sweep quick resumed: COMPLETE$" "$T/sub2.out" || fail "resubmit said: $(cat "$T/sub2.out")"
"$SWEEPD" submit "$T/quick-changed.json" --connect "$EP" > "$T/sub3.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a changed spec exited $rc: $(cat "$T/sub3.out")"
grep -q "changed: parameters.a" "$T/sub3.out" || fail "the changed field is not named: $(cat "$T/sub3.out")"
pass "the same spec resumes (already COMPLETE), a changed spec is refused (exit 2) naming parameters.a"

"$SWEEPD" submit "$T/bad.json" --connect "$EP" > "$T/bad.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a bad spec exited $rc: $(cat "$T/bad.out")"
grep -q "objective.direction" "$T/bad.out" || fail "no error for objective.direction: $(cat "$T/bad.out")"
grep -q "parameters.a.low" "$T/bad.out" || fail "no error for parameters.a.low: $(cat "$T/bad.out")"
"$SWEEPD" status --db "$T/c.db" bad > /dev/null 2>&1
[ $? -eq 2 ] || fail "the bad sweep was stored"
grep -q "sweep=bad" "$T/coord.log" && fail "the bad spec reached the coordinator"
pass "a spec with errors: exit 2, every error printed, nothing sent or stored"

# ---- cancel while trials run ----
"$SWEEPD" submit "$T/slow.json" --connect "$EP" > "$T/slow.out" 2>&1 || fail "submit slow exited $?"
two_started() { [ "$(ls "$T" | grep -c '^started\.')" -ge 2 ]; }
it_wait_cond 20 two_started
[ "$(wc -l < "$T/hold-pids")" -eq 2 ] || fail "expected 2 held trainers: $(cat "$T/hold-pids")"
for p in $(cat "$T/hold-pids"); do it_alive "$p" || fail "trainer $p is not running before the cancel"; done
"$SWEEPD" cancel slow --connect "$EP" --reason "testing cancel" > "$T/cancel.out" 2>&1 \
    || fail "cancel exited $?: $(cat "$T/cancel.out")"
grep -q "^sweep slow cancelled: trials cancelled: pending 0, running 2 (attempts stopped: 2); CANCELLED in all: 2$" \
    "$T/cancel.out" || fail "cancel said: $(cat "$T/cancel.out")"
trainers_gone() {
    for p in $(cat "$T/hold-pids"); do it_alive "$p" && return 1; done
    return 0
}
it_wait_cond 15 trainers_gone
pass "cancel stopped both running trainers (their processes are gone)"
sweep_state "$T/c.db" slow CANCELLED || fail "slow is not CANCELLED: $(cat "$T/ss.json")"
count "$T/c.db" slow CANCELLED 2 || fail "expected 2 CANCELLED: $(cat "$T/st.json")"
count "$T/c.db" slow RUNNING 0 || fail "a trial still runs: $(cat "$T/st.json")"
count "$T/c.db" slow PENDING 0 || fail "a trial is pending: $(cat "$T/st.json")"
count "$T/c.db" slow COMPLETE 0 || fail "a trial completed: $(cat "$T/st.json")"
grep -q '"reason":[[:space:]]*"cancelled: testing cancel"' "$T/ss.json" || fail "reason: $(cat "$T/ss.json")"
[ "$(it_event_count "$T/c.db" "sweep cancelled")" -eq 1 ] || fail "no 'sweep cancelled' event"
# the worker honoured both CANCELs and asks for work again; none is handed out
it_wait_line "$T/worker.log" "cancel" 10
[ "$(ls "$T" | grep -c '^started\.')" -eq 2 ] || fail "more trials were started after the cancel"
"$SWEEPD" cancel slow --connect "$EP" > "$T/cancel2.out" 2>&1
[ $? -eq 2 ] || fail "cancelling a CANCELLED sweep: $(cat "$T/cancel2.out")"
"$SWEEPD" cancel nope --connect "$EP" > "$T/cancel3.out" 2>&1
[ $? -eq 2 ] || fail "cancelling an unknown sweep did not exit 2"
grep -q "no sweep named 'nope'" "$T/cancel3.out" || fail "unknown sweep: $(cat "$T/cancel3.out")"
pass "slow: CANCELLED 2, RUNNING 0, PENDING 0, COMPLETE 0; a second cancel and an unknown sweep exit 2"

# ---- resume --retry-failed ----
: > "$T/release"
"$SWEEPD" resume slow --connect "$EP" --retry-failed > "$T/resume.out" 2>&1 \
    || fail "resume exited $?: $(cat "$T/resume.out")"
grep -q "^sweep slow resumed: CANCELLED -> RUNNING, trials reopened: 2$" "$T/resume.out" \
    || fail "resume said: $(cat "$T/resume.out")"
it_wait_cond 30 sweep_state "$T/c.db" slow COMPLETE
count "$T/c.db" slow COMPLETE 6 || fail "expected 6 COMPLETE: $(cat "$T/st.json")"
count "$T/c.db" slow CANCELLED 0 || fail "a trial stayed CANCELLED: $(cat "$T/st.json")"
"$SWEEPD" trials --db "$T/c.db" slow --format csv > "$T/slow.csv"
[ "$(($(wc -l < "$T/slow.csv") - 1))" -eq 6 ] || fail "expected 6 trials: $(cat "$T/slow.csv")"
"$SWEEPD" resume slow --connect "$EP" > "$T/resume2.out" 2>&1
[ $? -eq 2 ] || fail "resuming a COMPLETE sweep did not exit 2: $(cat "$T/resume2.out")"
pass "resume --retry-failed: slow COMPLETE 6 of 6; resuming it again exits 2"

kill -TERM "$WORKER" "$COORD"
it_wait_exit "$WORKER" 15
it_wait_exit "$COORD" 15
[ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_final_checks "$T/c.db"

# ---- a FAILED sweep, reopened through --db ----
"$SWEEPD" run "$T/once.json" --db "$T/f.db" --workers 1 --heartbeat-ms 200 --lease-ms 1500 \
    --quiet > "$T/once1.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "the failing run exited $rc: $(cat "$T/once1.out")"
sweep_state "$T/f.db" once FAILED || fail "once is not FAILED: $(cat "$T/ss.json")"
count "$T/f.db" once FAILED 3 || fail "expected 3 FAILED: $(cat "$T/st.json")"
port2=$(it_free_port)
it_start holder "$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port2" --db "$T/f.db"
HOLDER=$PID
it_wait_line "$T/holder.log" "listening" 10
"$SWEEPD" resume once --db "$T/f.db" --retry-failed > "$T/held.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "resume --db on a held database exited $rc: $(cat "$T/held.out")"
grep -q "use --connect\|with --connect" "$T/held.out" || fail "no hint at --connect: $(cat "$T/held.out")"
kill -TERM "$HOLDER"
it_wait_exit "$HOLDER" 15
pass "resume --db on a database a coordinator holds: exit 1, pointing at --connect"
: > "$T/fixed"
"$SWEEPD" resume once --db "$T/f.db" --retry-failed > "$T/once-resume.out" 2>&1 \
    || fail "resume --db exited $?: $(cat "$T/once-resume.out")"
grep -q "^sweep once resumed: FAILED -> RUNNING, trials reopened: 3" "$T/once-resume.out" \
    || fail "resume --db said: $(cat "$T/once-resume.out")"
"$SWEEPD" run "$T/once.json" --db "$T/f.db" --workers 1 --heartbeat-ms 200 --lease-ms 1500 \
    --quiet > "$T/once2.out" 2>&1 || fail "the second run exited $?: $(cat "$T/once2.out")"
count "$T/f.db" once COMPLETE 3 || fail "expected 3 COMPLETE: $(cat "$T/st.json")"
count "$T/f.db" once FAILED 0 || fail "a trial stayed FAILED: $(cat "$T/st.json")"
"$SWEEPD" cancel once --db "$T/f.db" > "$T/cancel-db.out" 2>&1
[ $? -eq 2 ] || fail "cancel --db of a COMPLETE sweep did not exit 2: $(cat "$T/cancel-db.out")"
pass "FAILED sweep: resume --db --retry-failed, then sweepd run completes 3 of 3"
it_final_checks "$T/f.db"
