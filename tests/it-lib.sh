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
# What the processes of a test put in TMPDIR (the socket directory of a `sweepd run`
# killed with SIGKILL, say) goes with the test's directory.
export TMPDIR="$T"
IT_PIDS=""
IT_NAME=$(basename "$0" .sh)
IT_NETNS=""

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
        while read -r p _; do kill -KILL "-$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done < "$T/trainer-pids"
    fi
    # every process still inside a namespace of this test is one of ours: stop it by
    # pid, then delete the namespaces (their veth ends go with them)
    for ns in $IT_NETNS; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    done
    for ns in $IT_NETNS; do ip netns del "$ns" 2>/dev/null; done
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
# The port is taken below the kernel's ephemeral range (ip_local_port_range), so that
# no outgoing connection can hold it, and no worker connecting before the coordinator
# binds can connect to itself (TCP simultaneous open on loopback).
it_free_port() {
    lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
    span=$((lo - 10000))
    port=$(( 10000 + ($$ * 7 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % span ))
    while ss -tan 2>/dev/null | grep -q ":$port "; do port=$(( 10000 + (port - 10000 + 1) % span )); done
    echo "$port"
}

# it_csv_count FILE COLUMN VALUE: rows of a CSV (header first) whose named column equals VALUE.
it_csv_count() {
    awk -F, -v col="$2" -v val="$3" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
                                     c && $c == val { n++ } END { print n + 0 }' "$1"
}

# ---- several hosts on one machine: network namespaces joined by veth links ----------
#
# it_netns_setup N: a coordinator host "$NSC" and N worker hosts (it_ns I) in their own
# network namespaces, named after this test's pid so concurrent runs never collide.
# Worker host I reaches the coordinator host over its own veth pair at
# $(it_coord_addr I) (192.168.(100+I).1; the worker side is .2). These addresses
# exist only inside the namespaces: every command that uses them runs through
# `ip netns exec` (it_start_in). Without root or namespace support the test is
# skipped (exit 77) with the reason printed. The EXIT trap deletes the namespaces.
it_netns_setup() {
    n=$1
    IT_NSP="sw$$"
    NSC="${IT_NSP}c"
    if [ "$(id -u)" -ne 0 ]; then echo "skipped: network namespaces need root"; exit 77; fi
    command -v ip >/dev/null 2>&1 || { echo "skipped: no 'ip' command (iproute2)"; exit 77; }
    if ! ip netns add "$NSC" 2>"$T/netns.err"; then
        echo "skipped: cannot create a network namespace: $(cat "$T/netns.err")"; exit 77
    fi
    IT_NETNS="$NSC"
    # a namespace may be creatable but not enterable (e.g. inside a chroot, where
    # `ip netns exec` cannot remount /sys): that is "cannot run here", not a failure
    if ! ip -n "$NSC" link set lo up 2>"$T/netns.err" || ! ip netns exec "$NSC" true 2>>"$T/netns.err"; then
        echo "skipped: cannot enter a network namespace here: $(tr '\n' ' ' < "$T/netns.err")"
        exit 77
    fi
    i=1
    while [ "$i" -le "$n" ]; do
        ns="${IT_NSP}w$i"
        ip netns add "$ns" || fail "cannot create namespace $ns"
        IT_NETNS="$IT_NETNS $ns"
        ip link add "${IT_NSP}c$i" type veth peer name "${IT_NSP}w$i" || fail "cannot create veth $i"
        ip link set "${IT_NSP}c$i" netns "$NSC" && ip link set "${IT_NSP}w$i" netns "$ns" \
            && ip -n "$NSC" addr add "192.168.$((100 + i)).1/24" dev "${IT_NSP}c$i" \
            && ip -n "$ns" addr add "192.168.$((100 + i)).2/24" dev "${IT_NSP}w$i" \
            && ip -n "$NSC" link set "${IT_NSP}c$i" up && ip -n "$ns" link set "${IT_NSP}w$i" up \
            && ip -n "$ns" link set lo up || fail "cannot set up the link of worker host $i"
        i=$((i + 1))
    done
}

# it_ns I: the namespace of worker host I.
it_ns() { echo "${IT_NSP}w$1"; }

# it_coord_addr I: the coordinator's address as seen from worker host I.
it_coord_addr() { echo "192.168.$((100 + $1)).1"; }

# it_start_in NS NAME CMD...: it_start inside namespace NS (PID is the command's own pid:
# `ip netns exec` execs it).
it_start_in() {
    ns=$1; name=$2; shift 2
    it_start "$name" ip netns exec "$ns" "$@"
}

# it_cut I / it_heal I: take the link of worker host I down / up on the coordinator's
# side: the worker sees timeouts, as in a real partition.
it_cut() { ip -n "$NSC" link set "${IT_NSP}c$1" down || fail "cannot cut link $1"; }
it_heal() { ip -n "$NSC" link set "${IT_NSP}c$1" up || fail "cannot heal link $1"; }

# it_in_coord CMD...: run CMD on the coordinator host (e.g. sweepd status --connect).
it_in_coord() { ip netns exec "$NSC" "$@"; }

# it_status_json DB: the status document of DB (read-only), for grep.
it_status_json() { "$SWEEPD" status --db "$1" --json; }

# it_event_count DB KIND: how many events of KIND the database holds.
it_event_count() {
    it_status_json "$1" | awk -v k="\"$2\":" '
        /"event_counts":/ { inside = 1; next }
        inside && /}/ { inside = 0 }
        inside && index($0, k) { gsub(/[^0-9]/, "", $NF); print $NF; found = 1 }
        END { if (!found) print 0 }'
}

# it_has_event DB KIND: whether DB holds at least one event of KIND.
it_has_event() { [ "$(it_event_count "$1" "$2")" -gt 0 ]; }

# it_complete DB: COMPLETE trials of DB.
it_complete() {
    "$SWEEPD" trials --db "$1" --format csv 2>/dev/null > "$T/.complete.csv" || { echo 0; return; }
    it_csv_count "$T/.complete.csv" state COMPLETE
}

# it_alive PID: the process exists and is not a zombie.
it_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    st=$(sed -n 's/^[0-9]* ([^)]*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ "$st" != Z ]
}

# it_final_checks DB: what every fault test ends with: sweepd check (PRAGMA
# integrity_check ok, every trial final, each trial number and grid point exactly
# once, at most one COMPLETE attempt per fold) and no process of the test left running
# (every recorded pid has exited and the test's namespaces hold no process).
it_final_checks() {
    "$SWEEPD" check --db "$1" --final > "$T/check.out" 2>&1 || fail "sweepd check: $(cat "$T/check.out")"
    pass "$(tail -n 1 "$T/check.out")"
    for p in $IT_PIDS; do
        it_alive "$p" && fail "process $p of the test is still running"
    done
    # an orphaned trainer (its worker was killed) may still be on its way out: bounded wait
    if [ -f "$T/trainer-pids" ]; then
        while read -r p _; do
            n=0
            while it_alive "$p" && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
            it_alive "$p" && fail "trainer $p is still running"
        done < "$T/trainer-pids"
    fi
    for ns in $IT_NETNS; do
        left=""
        for p in $(ip netns pids "$ns" 2>/dev/null); do it_alive "$p" && left="$left $p"; done
        [ -z "$left" ] || fail "processes left in $ns:$left"
    done
    pass "no process of the test is left running"
}
