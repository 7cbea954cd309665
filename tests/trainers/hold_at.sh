#!/bin/sh
# hold_at.sh A B - quad.sh's objective, holding one chosen trial until released.
#
# Reports step 1 and then final metrics {"value": (A-3)^2 + B} on the report pipe, the
# same values as quad.sh for the same A and B. Records "PID ATTEMPT" in
# $IT_DIR/trainer-pids so the test can stop it by pid. When $IT_HOLD_TRIAL names this
# attempt's trial ($SWEEPD_TRIAL) and $IT_DIR/release does not exist, it first
# records its pid in $IT_DIR/hold-pids, creates $IT_DIR/started.TRIAL.ATTEMPT and
# waits (at most 60 s) for $IT_DIR/release: with one worker slot the test then knows
# that every trial numbered below TRIAL is COMPLETE and TRIAL surely runs, and cancels
# the sweep at that exact point. Without IT_HOLD_TRIAL it never holds.
set -eu
a=${1:?A}
b=${2:-0}
dir=${IT_DIR:-/tmp}
echo "$$ ${SWEEPD_ATTEMPT:-0}" >> "$dir/trainer-pids"
if [ -n "${IT_HOLD_TRIAL:-}" ] && [ "${SWEEPD_TRIAL:-}" = "$IT_HOLD_TRIAL" ] \
    && [ ! -e "$dir/release" ]; then
    echo "$$" >> "$dir/hold-pids"
    : > "$dir/started.$SWEEPD_TRIAL.${SWEEPD_ATTEMPT:-0}"
    n=0
    while [ ! -e "$dir/release" ] && [ $n -lt 1200 ]; do sleep 0.05 || true; n=$((n + 1)); done
fi
v=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f", (a - 3) * (a - 3) + b }')
echo "{\"step\": 1, \"metrics\": {\"value\": $v}}" >&3
echo "{\"final\": true, \"metrics\": {\"value\": $v}}" >&3
