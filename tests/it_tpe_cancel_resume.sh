#!/bin/sh
# it_tpe_cancel_resume.sh - a TPE sweep and a random-search sweep, cancelled with
# `sweepd cancel --connect` while a trial past TPE's startup runs, then reopened with
# `sweepd resume --retry-failed`, propose exactly the trials an uninterrupted run
# proposes: same parameters for every trial number, same values, every trial
# COMPLETE once.
#
# Why the expectation is exact. With one worker slot the sweep is sequential: trial n
# is proposed when trial n - 1 has finished, from the history 0 .. n-1, all COMPLETE
# (the reference run, `sweepd run --workers 1`). The test holds trial H (> TPE's
# n_startup_trials) in its trainer, so at the cancel trials 0 .. H-1 are COMPLETE and
# H is RUNNING; the cancel makes H CANCELLED. While it is CANCELLED, H is no
# observation (samplers leave FAILED and CANCELLED trials out of their model): a
# trial H+1 proposed then would come from another history than the reference's. So
# `--retry-failed` must run H again, with its old parameters, before H+1 is proposed;
# H then completes with the value it has in the reference, and H+1 .. N-1 see the
# reference's history. The store records H's two attempts: one CANCELLED (kind
# cancelled) and one COMPLETE, and the first attempt after the resume is H's.
. tests/it-lib.sh
export IT_DIR="$T"
TRAINER="$ROOT/tests/trainers/hold_at.sh"
N=16          # max_trials
STARTUP=5     # TPE's n_startup_trials
H=8           # the trial held (RUNNING) at the cancel: 3 model-based trials COMPLETE

spec() {    # spec NAME METHOD SAMPLER_MEMBER
    cat <<JSON
{
  "name": "$1",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "$2",
  "seed": 11,$3
  "parameters": {"a": {"type": "float", "low": 0, "high": 6},
                 "b": {"type": "categorical", "values": [0, 1, 2]}},
  "limits": {"max_trials": $N},
  "trainer": {"type": "command", "argv": ["$TRAINER", "{a}", "{b}"]}
}
JSON
}
spec cr-tpe tpe "
  \"sampler\": {\"type\": \"tpe\", \"n_startup_trials\": $STARTUP}," > "$T/cr-tpe.json"
spec cr-random random "" > "$T/cr-random.json"

# ---- the references: each sweep uninterrupted and sequential ----
it_start ref-tpe "$SWEEPD" run "$T/cr-tpe.json" --workers 1 --db "$T/ref-tpe.db" --quiet
REF_TPE=$PID
it_start ref-random "$SWEEPD" run "$T/cr-random.json" --workers 1 --db "$T/ref-random.db" --quiet
REF_RANDOM=$PID
it_wait_exit $REF_TPE 30
[ "$RC" -eq 0 ] || fail "the uninterrupted TPE run exited $RC"
it_wait_exit $REF_RANDOM 30
[ "$RC" -eq 0 ] || fail "the uninterrupted random run exited $RC"
for m in tpe random; do
    "$SWEEPD" trials --db "$T/ref-$m.db" "cr-$m" --format csv | cut -d, -f2-6 > "$T/ref-$m.csv" \
        || fail "trials of ref-$m.db"
    [ "$(it_csv_count "$T/ref-$m.csv" state COMPLETE)" -eq $N ] \
        || fail "uninterrupted $m run: expected $N COMPLETE: $(cat "$T/ref-$m.csv")"
    [ "$(($(wc -l < "$T/ref-$m.csv") - 1))" -eq $N ] || fail "uninterrupted $m run: expected $N trials"
    "$SWEEPD" check --db "$T/ref-$m.db" --final > "$T/check-ref-$m.out" 2>&1 \
        || fail "sweepd check of ref-$m.db: $(cat "$T/check-ref-$m.out")"
done
pass "references: $N trials COMPLETE for tpe and random, one worker (sequential)"

# ---- one coordinator, one worker of one slot; the worker's trainer holds trial H ----
port=$(it_free_port)
EP="tcp://127.0.0.1:$port"
it_start coord "$SWEEPD" coordinator --bind "$EP" --db "$T/c.db" --heartbeat-ms 200
COORD=$PID
it_wait_line "$T/coord.log" "listening" 10
IT_HOLD_TRIAL=$H it_start worker "$SWEEPD" worker --connect "$EP" --id w1 --slots 1 \
    --grace-ms 1000 --allow-command "$ROOT/tests/trainers/*"
WORKER=$PID
it_wait_line "$T/coord.log" "worker joined worker=w1" 10

# trials_csv SWEEP: the sweep's trials in c.db (number,state,a,b,value) in $T/SWEEP.csv
trials_csv() {
    "$SWEEPD" trials --db "$T/c.db" "$1" --format csv 2>/dev/null | cut -d, -f2-6 > "$T/$1.csv"
}
sweep_state() {    # sweep_state SWEEP STATE
    "$SWEEPD" status --db "$T/c.db" "$1" --json 2>/dev/null > "$T/ss.json" || return 1
    grep -q "\"state\":[[:space:]]*\"$2\"" "$T/ss.json"
}
held() { ls "$T" | grep -q "^started\.$H\."; }
held_gone() {
    for p in $(cat "$T/hold-pids"); do it_alive "$p" && return 1; done
    return 0
}

# cancel_resume METHOD: the scenario for sweep cr-METHOD, compared with ref-METHOD.csv
cancel_resume() {
    m=$1
    s="cr-$m"
    rm -f "$T/release" "$T/hold-pids" "$T"/started.*
    "$SWEEPD" submit "$T/$s.json" --connect "$EP" > "$T/sub-$m.out" 2>&1 \
        || fail "submit $s exited $?: $(cat "$T/sub-$m.out")"
    it_wait_cond 20 held
    [ "$(wc -l < "$T/hold-pids")" -eq 1 ] || fail "$s: expected one held trainer: $(cat "$T/hold-pids")"

    # the cut: trials 0 .. H-1 COMPLETE exactly as in the reference, H RUNNING, no other
    trials_csv "$s"
    [ "$(($(wc -l < "$T/$s.csv") - 1))" -eq $((H + 1)) ] || fail "$s: expected $((H + 1)) trials at the cut: $(cat "$T/$s.csv")"
    [ "$(it_csv_count "$T/$s.csv" state COMPLETE)" -eq $H ] || fail "$s: expected $H COMPLETE at the cut: $(cat "$T/$s.csv")"
    [ "$(it_csv_count "$T/$s.csv" state RUNNING)" -eq 1 ] || fail "$s: expected trial $H RUNNING: $(cat "$T/$s.csv")"
    head -n $((H + 1)) "$T/ref-$m.csv" > "$T/ref-$m-cut.csv"
    head -n $((H + 1)) "$T/$s.csv" | diff "$T/ref-$m-cut.csv" - \
        || fail "$s: trials 0 .. $((H - 1)) differ from the uninterrupted run before the cancel"
    # trial H's parameters as proposed, to compare after the retry (a,b are fields 3,4)
    hold_params=$(awk -F, -v h=$H '$1 == h { print $3 "," $4 }' "$T/$s.csv")
    [ -n "$hold_params" ] || fail "$s: trial $H has no row"

    "$SWEEPD" cancel "$s" --connect "$EP" --reason "cut at trial $H" > "$T/cancel-$m.out" 2>&1 \
        || fail "cancel $s exited $?: $(cat "$T/cancel-$m.out")"
    grep -q "^sweep $s cancelled: trials cancelled: pending 0, running 1 (attempts stopped: 1); CANCELLED in all: 1$" \
        "$T/cancel-$m.out" || fail "cancel said: $(cat "$T/cancel-$m.out")"
    it_wait_cond 15 held_gone
    sweep_state "$s" CANCELLED || fail "$s is not CANCELLED: $(cat "$T/ss.json")"
    trials_csv "$s"
    [ "$(it_csv_count "$T/$s.csv" state COMPLETE)" -eq $H ] || fail "$s: COMPLETE changed at the cancel: $(cat "$T/$s.csv")"
    [ "$(awk -F, -v h=$H '$1 == h { print $2 }' "$T/$s.csv")" = CANCELLED ] \
        || fail "$s: trial $H is not CANCELLED: $(cat "$T/$s.csv")"
    [ "$(($(wc -l < "$T/$s.csv") - 1))" -eq $((H + 1)) ] || fail "$s: a trial was created after the cancel"
    pass "$s: cancelled with trials 0 .. $((H - 1)) COMPLETE and trial $H running; its trainer is gone, $H CANCELLED"

    # the retry runs H first with its old parameters; the release file keeps it from holding
    : > "$T/release"
    "$SWEEPD" resume "$s" --connect "$EP" --retry-failed > "$T/resume-$m.out" 2>&1 \
        || fail "resume $s exited $?: $(cat "$T/resume-$m.out")"
    grep -q "^sweep $s resumed: CANCELLED -> RUNNING, trials reopened: 1$" "$T/resume-$m.out" \
        || fail "resume said: $(cat "$T/resume-$m.out")"
    it_wait_cond 30 sweep_state "$s" COMPLETE

    trials_csv "$s"
    diff "$T/ref-$m.csv" "$T/$s.csv" \
        || fail "$s: the resumed sweep proposed other trials than the uninterrupted one"
    [ "$(awk -F, -v h=$H '$1 == h { print $3 "," $4 }' "$T/$s.csv")" = "$hold_params" ] \
        || fail "$s: trial $H ran again with other parameters than $hold_params"
    for st in COMPLETE:$N PENDING:0 RUNNING:0 PRUNED:0 FAILED:0 CANCELLED:0; do
        [ "$(it_csv_count "$T/$s.csv" state "${st%%:*}")" -eq "${st#*:}" ] \
            || fail "$s: expected ${st%%:*} ${st#*:}: $(cat "$T/$s.csv")"
    done
    grep -q '"COMPLETE":[[:space:]]*'$N'\([^0-9]\|$\)' "$T/ss.json" || fail "$s: status: $(cat "$T/ss.json")"
    grep -q '"CANCELLED":[[:space:]]*0\([^0-9]\|$\)' "$T/ss.json" || fail "$s: status: $(cat "$T/ss.json")"

    # the attempts as the store records them: N + 1, trial H's CANCELLED one, then its
    # COMPLETE retry as the very next attempt (before H+1 existed), every other trial once
    "$SWEEPD" trials --db "$T/c.db" "$s" --attempts --format csv > "$T/$s-att.csv"
    [ "$(($(wc -l < "$T/$s-att.csv") - 1))" -eq $((N + 1)) ] || fail "$s: expected $((N + 1)) attempts: $(cat "$T/$s-att.csv")"
    [ "$(it_csv_count "$T/$s-att.csv" state COMPLETE)" -eq $N ] || fail "$s: expected $N COMPLETE attempts"
    [ "$(it_csv_count "$T/$s-att.csv" state CANCELLED)" -eq 1 ] || fail "$s: expected 1 CANCELLED attempt"
    awk -F, -v h=$H -v n=$N '
        NR == 1 { next }
        { seq = seq " " $3 ":" $5 (($5 == "CANCELLED") ? "/" $6 : "") }
        END {
            for (i = 0; i < n; i++) {
                want = want " " i ":" ((i == h) ? "CANCELLED/cancelled " i ":" : "") "COMPLETE"
            }
            if (seq != want) { print "attempts (trial:state/kind):" seq; print "expected:" want; exit 1 }
        }' "$T/$s-att.csv" || fail "$s: attempts not in the expected order"
    pass "$s: resume --retry-failed: trial $H again with its parameters, then $((H + 1)) .. $((N - 1)); parameters and values identical to the uninterrupted run; COMPLETE $N, CANCELLED 0; $((N + 1)) attempts (trial $H: CANCELLED, COMPLETE)"
}

cancel_resume tpe
cancel_resume random

kill -TERM "$WORKER" "$COORD"
it_wait_exit "$WORKER" 15
[ "$RC" -eq 0 ] || fail "worker exited $RC"
it_wait_exit "$COORD" 15
[ "$RC" -eq 0 ] || fail "coordinator exited $RC"
it_final_checks "$T/c.db"
