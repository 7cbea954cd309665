#!/bin/sh
# run-unit.sh BUILD - run every cmocka unit test binary in BUILD/tests from the
# repository root; print each binary's output (stdout and stderr, where cmocka puts its
# summary) and a closing line; exit non-zero when any test failed.
set -u
build=${1:-build}
pass=0; fail=0; failed=""
for t in "$build"/tests/test_*; do
    case "$t" in *.o|*.d) continue ;; esac
    [ -x "$t" ] || continue
    name=$(basename "$t")
    echo "== $name"
    if "$t" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1)); failed="$failed $name"
    fi
done
echo "unit test binaries: $pass passed, $fail failed${failed:+ ($failed )}"
[ "$fail" -eq 0 ]
