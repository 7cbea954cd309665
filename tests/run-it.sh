#!/bin/sh
# run-it.sh BUILD - run every integration test tests/it_*.sh against BUILD/sweepd.
# Each test starts real sweepd processes on real sockets and database files and stops
# every process it started by pid, pass or fail. Exit status 77 means skipped.
set -u
build=${1:-build}
SWEEPD=$(cd "$build" && pwd)/sweepd
export SWEEPD
pass=0; fail=0; skip=0; failed=""
for t in tests/it_*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    echo "== $name"
    sh "$t"
    rc=$?
    if [ $rc -eq 0 ]; then pass=$((pass + 1)); echo "ok $name"
    elif [ $rc -eq 77 ]; then skip=$((skip + 1)); echo "skipped $name"
    else fail=$((fail + 1)); failed="$failed $name"; echo "FAILED $name (exit $rc)"
    fi
done
echo "integration: $pass passed, $fail failed, $skip skipped${failed:+ ($failed )}"
[ "$fail" -eq 0 ]
