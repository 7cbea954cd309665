#!/bin/sh
# ops.sh MODE A - a command trainer for the sweep control test (it_sweep_ops.sh).
#
# Reports final metrics {"value": (A-3)^2} on the report pipe. Records "PID ATTEMPT"
# in $IT_DIR/trainer-pids so the test can stop it by pid. MODE:
#   quick  report at once;
#   hold   also record the pid in $IT_DIR/hold-pids, create $IT_DIR/started.ATTEMPT,
#          then wait (at most 60 s) until $IT_DIR/release exists: the test cancels
#          while the attempt surely runs and checks that its process is gone;
#   once   fail (exit 1, a line on stderr) while $IT_DIR/fixed does not exist: the
#          user's mistake that a later `sweepd resume --retry-failed` recovers from.
set -eu
mode=${1:?MODE}
a=${2:?A}
dir=${IT_DIR:-/tmp}
echo "$$ ${SWEEPD_ATTEMPT:-0}" >> "$dir/trainer-pids"
case "$mode" in
hold)
    echo "$$" >> "$dir/hold-pids"
    : > "$dir/started.${SWEEPD_ATTEMPT:-0}"
    n=0
    while [ ! -e "$dir/release" ] && [ $n -lt 1200 ]; do sleep 0.05 || true; n=$((n + 1)); done
    ;;
once)
    if [ ! -e "$dir/fixed" ]; then
        echo "ops.sh: $dir/fixed is missing" >&2
        exit 1
    fi
    ;;
esac
v=$(awk -v a="$a" 'BEGIN { printf "%.6f", (a - 3) * (a - 3) }')
echo "{\"final\": true, \"metrics\": {\"value\": $v}}" >&3
