# it-lib.sh - shared helpers for the integration tests (sourced, not run)
#
# Every test starts real `sweepd` processes on real sockets and real SQLite files in a
# fresh temporary directory. it_start records each pid; the EXIT trap stops every one
# of them by pid (TERM, then KILL), pass or fail, and removes the directory unless
# KEEP=1. Waiting is on events (a line in a log, a file appearing, a status count),
# each bounded by a timeout, never on fixed sleeps.
#
# Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT

set -u
: "${SWEEPD:=$(pwd)/build/sweepd}"
ROOT=$(pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/sweepd-it-XXXXXX")
IT_PIDS=""
IT_NAME=$(basename "$0" .sh)

it_cleanup() {
    rc=$?
    for p in $IT_PIDS; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in $IT_PIDS; do
        n=0
        while kill -0 "$p" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
        kill -KILL "$p" 2>/dev/null
    done
    # trainer children live in their own process groups; kill any the test recorded
    if [ -f "$T/trainer-pids" ]; then
        while read -r p; do kill -KILL "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done < "$T/trainer-pids"
    fi
    if [ $rc -ne 0 ]; then
        echo "--- $IT_NAME failed (exit $rc); logs in $T:" >&2
        for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
    elif [ "${KEEP:-0}" != 1 ]; then
        rm -rf "$T"
    fi
    exit $rc
}
trap it_cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "  ok: $*"; }

# it_start NAME CMD...: run CMD in the background, stdout+stderr to $T/NAME.log; sets PID.
it_start() {
    name=$1; shift
    "$@" > "$T/$name.log" 2>&1 &
    PID=$!
    IT_PIDS="$IT_PIDS $PID"
}

# it_wait_line FILE REGEX [TIMEOUT_S]: wait until a line of FILE matches REGEX.
it_wait_line() {
    file=$1; re=$2; to=${3:-30}
    touch "$file"
    timeout "$to" tail -n +1 -F "$file" 2>/dev/null | grep -E -q -m1 -- "$re" \
        || fail "timed out after ${to}s waiting for /$re/ in $file"
}

# it_wait_cond TIMEOUT_S CMD...: poll CMD (every 50 ms) until it succeeds.
it_wait_cond() {
    to=$1; shift
    end=$(( $(date +%s) + to ))
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || fail "timed out after ${to}s waiting for: $*"
        sleep 0.05
    done
}

# it_wait_exit PID [TIMEOUT_S]: wait for a background process to exit; sets RC.
it_wait_exit() {
    pid=$1; to=${2:-60}
    end=$(( $(date +%s) + to ))
    while kill -0 "$pid" 2>/dev/null; do
        [ "$(date +%s)" -lt "$end" ] || fail "pid $pid still running after ${to}s"
        sleep 0.05
    done
    wait "$pid"; RC=$?
}

# it_free_port: a free TCP port on 127.0.0.1.
it_free_port() {
    port=$(( 20000 + ($$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % 30000 ))
    while ss -ltn 2>/dev/null | grep -q ":$port "; do port=$((port + 1)); done
    echo "$port"
}

# it_csv_count FILE COLUMN VALUE: rows of a CSV (header first) whose named column equals VALUE.
it_csv_count() {
    awk -F, -v col="$2" -v val="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
                                     c && $c == val { n++ } END { print n + 0 }' "$1"
}
