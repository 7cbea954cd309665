#!/bin/sh
# it_pruning.sh - intermediate reports reach the coordinator's pruner, which answers
# prune; the worker stops the trainer's process group and the trial is recorded PRUNED
# with its last value. One worker and a trainer that spends 0.1 s per step make the
# order of reports, and so every decision, deterministic.
. tests/it-lib.sh

cat > "$T/spec.json" <<JSON
{
  "name": "it-asha",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"a": {"type": "categorical", "values": [3, 8, 7, 6, 2, 5, 4, 1, 0]}},
  "pruner": {"type": "asha", "min_resource": 1, "reduction_factor": 3, "max_resource": 9},
  "trainer": {"type": "command", "argv": ["$ROOT/tests/trainers/steps.sh", "{a}"]}
}
JSON
export IT_DIR="$T"
it_start run "$SWEEPD" run "$T/spec.json" --workers 1 --db "$T/p.db" --quiet
it_wait_exit $PID 60
[ "$RC" -eq 0 ] || fail "sweepd run exited $RC"
"$SWEEPD" trials --db "$T/p.db" --format csv | cut -d, -f2-5 > "$T/t.csv"
cat > "$T/want.csv" <<CSV
number,state,a,value
0,COMPLETE,3,1
1,PRUNED,8,34
2,PRUNED,7,25
3,PRUNED,6,18
4,PRUNED,2,10
5,PRUNED,5,13
6,PRUNED,4,4
7,PRUNED,1,13
8,PRUNED,0,18
CSV
diff "$T/want.csv" "$T/t.csv" || fail "trial states or values differ"
pass "trial 0 (the optimum) completes; trial 6 (a=4) is pruned at rung 3, the other 7 at rung 1, each with its value there"
# each pruned trainer was stopped right after the report that reached its rung
# (attempt n runs trial n-1 with one worker): at most one step more
awk '{ if ($2 > max[$1]) max[$1] = $2 }
     END { for (a in max) { lim = a == 1 ? 9 : a == 7 ? 4 : 2
                            if (max[a] > lim) { print "attempt", a, "reached step", max[a]; bad = 1 } }
           exit bad }' "$T/steps" || fail "a pruned trainer ran on past its rung"
[ "$(awk '$1 == 1 && $2 == 9' "$T/steps" | wc -l)" -eq 1 ] || fail "trial 0 did not run all 9 steps"
while read -r p; do kill -0 "$p" 2>/dev/null && fail "trainer $p still running"; done < "$T/trainer-pids"
pass "pruned trainers were stopped at their rung; none is left running"
"$SWEEPD" check --db "$T/p.db" --final > /dev/null || fail "sweepd check"
