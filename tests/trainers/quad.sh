#!/bin/sh
# quad.sh A B - a command trainer for the integration tests.
#
# Reports step 1 and then final metrics {"value": (A-3)^2 + B} on the report pipe.
# Records "ATTEMPT PID" in $IT_DIR/trainer-pids so the test can stop it by pid.
# With IT_HOLD=1 it first creates $IT_DIR/started.ATTEMPT and waits (at most 60 s)
# until $IT_DIR/release exists: a test synchronizes on the first file and kills
# things while the attempt is surely running. With IT_IGNORE_TERM=1 it ignores SIGTERM
# (a trainer that only SIGKILL stops). Fault modes chosen by A: "killworker" sends
# SIGKILL to its worker (the parent process: a trainer that takes its host down);
# "fail" exits 3 by itself after a line on stderr.
set -eu
a=${1:?A}
b=${2:-0}
dir=${IT_DIR:-/tmp}
echo "$$ ${SWEEPD_ATTEMPT:-0}" >> "$dir/trainer-pids"
if [ "${IT_IGNORE_TERM:-0}" = 1 ]; then trap '' TERM; fi
case "$a" in
killworker) kill -KILL "$PPID"; exit 0 ;;
fail) echo "quad.sh: failing on purpose" >&2; exit 3 ;;
esac
if [ "${IT_HOLD:-0}" = 1 ]; then
    : > "$dir/started.${SWEEPD_ATTEMPT:-0}"
    n=0
    while [ ! -e "$dir/release" ] && [ $n -lt 1200 ]; do sleep 0.05 || true; n=$((n + 1)); done
fi
if [ -n "${IT_SLEEP:-}" ]; then sleep "$IT_SLEEP"; fi
v=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.6f", (a - 3) * (a - 3) + b }')
echo "{\"step\": 1, \"metrics\": {\"value\": $v}}" >&3
echo "{\"final\": true, \"metrics\": {\"value\": $v}}" >&3
