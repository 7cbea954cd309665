#!/bin/sh
# it_tpe_resume.sh - a TPE sweep killed with SIGKILL half way and resumed proposes
# exactly the trials an uninterrupted run proposes: the sampler is a function of the
# sweep's seed and stored history, and the interrupted trial runs again before any new
# trial is created. One worker keeps both runs sequential, hence comparable.
. tests/it-lib.sh

cat > "$T/spec.json" <<JSON
{
  "name": "it-tpe",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "tpe",
  "seed": 5,
  "sampler": {"type": "tpe", "n_startup_trials": 5},
  "parameters": {"a": {"type": "float", "low": 0, "high": 6},
                 "b": {"type": "categorical", "values": [0, 1, 2]}},
  "limits": {"max_trials": 24},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/quad.sh", "{a}", "{b}"]}
}
JSON
export IT_DIR="$T" IT_SLEEP=0.1
it_start u "$SWEEPD" run "$T/spec.json" --workers 1 --db "$T/u.db" --quiet
it_wait_exit $PID 90
[ "$RC" -eq 0 ] || fail "uninterrupted run exited $RC"

complete_at_least() {
    "$SWEEPD" trials --db "$T/r.db" --format csv > "$T/r.csv" 2>/dev/null || return 1
    [ "$(it_csv_count "$T/r.csv" state COMPLETE)" -ge "$1" ]
}
it_start r1 "$SWEEPD" run "$T/spec.json" --workers 1 --db "$T/r.db" --quiet
it_wait_cond 60 complete_at_least 10
kill -KILL $PID
wait $PID 2>/dev/null
pass "TPE sweep killed with SIGKILL after $(it_csv_count "$T/r.csv" state COMPLETE) trials"
it_start r2 "$SWEEPD" run "$T/spec.json" --workers 1 --db "$T/r.db" --quiet
it_wait_exit $PID 90
[ "$RC" -eq 0 ] || fail "resumed run exited $RC"

"$SWEEPD" trials --db "$T/u.db" --format csv | cut -d, -f2-6 > "$T/u.csv"
"$SWEEPD" trials --db "$T/r.db" --format csv | cut -d, -f2-6 > "$T/r.csv"
[ "$(it_csv_count "$T/u.csv" state COMPLETE)" -eq 24 ] || fail "uninterrupted run: expected 24 COMPLETE"
diff "$T/u.csv" "$T/r.csv" || fail "the resumed sweep proposed other trials than the uninterrupted one"
# the mechanism: the attempt cut off by the kill runs again before any new trial
"$SWEEPD" trials --db "$T/r.db" --attempts --format csv > "$T/a.csv"
awk -F, 'NR > 1 { if (lost != "") { if ($3 != lost) { print "after the lost attempt of trial", lost, "came trial", $3; exit 1 } exit 0 }
                  if ($5 == "LOST" && $6 == "restart") lost = $3 }
         END { if (lost == "") { print "no attempt was cut off by the kill"; exit 1 } }' "$T/a.csv" \
    || fail "the interrupted trial did not run first after the restart"
pass "24 trials, parameters and values identical to the uninterrupted run"
