#!/bin/sh
# steps.sh A - a command trainer with a learning curve, for the pruning tests.
#
# Reports 9 steps, 0.1 s apart, of value (A-3)^2 + 9/step (falling towards the final
# (A-3)^2 + 1), then the final value. Appends "ATTEMPT STEP" to $IT_DIR/steps for each
# step it reached, so a test can tell where a pruned trial was stopped.
set -eu
a=${1:?A}
dir=${IT_DIR:-/tmp}
echo "$$" >> "$dir/trainer-pids"
s=1
while [ $s -le 9 ]; do
    v=$(awk -v a="$a" -v s="$s" 'BEGIN { printf "%.6f", (a - 3) * (a - 3) + 9 / s }')
    echo "{\"step\": $s, \"metrics\": {\"value\": $v}}" >&3
    echo "${SWEEPD_ATTEMPT:-0} $s" >> "$dir/steps"
    sleep 0.1
    s=$((s + 1))
done
echo "{\"final\": true, \"metrics\": {\"value\": $v}}" >&3
