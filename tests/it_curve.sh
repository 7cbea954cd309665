#!/bin/sh
# it_curve.sh - CURVE security end to end: real binaries, real sockets on 127.0.0.1, a
# real database. `sweepd keygen` makes the coordinator's, an allowed worker's, an
# unlisted worker's and a status client's keys (mode 0600, never overwritten without
# --force). A coordinator with --curve-secret/--curve-allow refuses an unlisted
# worker, a plaintext worker and a worker holding the wrong coordinator key: each
# runs zero trials and the coordinator logs each refusal with the peer and the
# reason. `sweepd status --connect` works with a listed key and is refused without.
# The allowed worker's key is added to the allow directory while the coordinator
# runs; that worker then runs the 9-point grid to the end. A listed client that
# claims the allowed worker's id with its own key is rejected (the id is bound to the
# key of its first HELLO), also after the coordinator restarts on the same database,
# while the worker's own key is still let in. The coordinator's refusal line names the
# refused key. A refusal the coordinator detects in the handshake itself (plaintext,
# wrong coordinator key) names the peer's ADDR:PORT, or peer=unknown: libzmq closes such
# a connection one round trip after accepting it, and under load that is often before
# the coordinator's monitor reads the connection's address (docs/OPERATIONS.md).
# Plaintext on a network endpoint is refused (exit 2) without --insecure.
# Without --curve-allow-ops the coordinator logs that sweep control is open to every
# allowed key. With it, a worker-only key's `cancel`, `resume` and `submit --connect`
# exit 2 with "permission denied" and leave the sweep as it was (9 of 9 pending, no
# new sweep); an operator's key cancels it; a key put into the operators directory
# while the coordinator runs (before: refused at the handshake) resumes it.
. tests/it-lib.sh

K="$T/keys"
A="$T/allow"
for name in coord wok wbad ops other; do
    "$SWEEPD" keygen "$name" --dir "$K" > "$T/$name.pub" 2> "$T/keygen.err" \
        || fail "keygen $name: $(cat "$T/keygen.err")"
done
pub=$(cat "$T/coord.pub")
[ "${#pub}" -eq 40 ] || fail "keygen printed '$pub', not a 40-character Z85 key"
grep -qF "public-key = \"$pub\"" "$K/coord.key" || fail "printed key is not the one in coord.key"
[ "$(stat -c %a "$K/wok.key_secret")" = 600 ] || fail "secret file mode is $(stat -c %a "$K/wok.key_secret")"
pass "keygen wrote NAME.key and NAME.key_secret (mode 600) and printed the public key"

cp "$K/wok.key_secret" "$T/wok.before"
"$SWEEPD" keygen wok --dir "$K" > /dev/null 2> "$T/keygen.err"; rc=$?
[ $rc -eq 2 ] || fail "keygen over an existing key exited $rc, want 2"
grep -q "exists; not overwriting" "$T/keygen.err" || fail "no clear message: $(cat "$T/keygen.err")"
cmp -s "$K/wok.key_secret" "$T/wok.before" || fail "the refused keygen changed wok.key_secret"
"$SWEEPD" keygen other --dir "$K" --force > "$T/other2.pub" 2>/dev/null || fail "keygen --force"
cmp -s "$T/other.pub" "$T/other2.pub" && fail "keygen --force did not make a new key"
pass "keygen refuses to overwrite (exit 2, file unchanged); --force replaces"

# a NAME the certificate's quoted name field cannot hold: refused before anything is
# written (such a file could not be loaded, and spoils the allow directory it goes to)
"$SWEEPD" keygen 'we"ird' --dir "$T/odd" > /dev/null 2> "$T/keygen.err"; rc=$?
[ $rc -eq 2 ] || fail "keygen of a NAME with a double quote exited $rc, want 2"
grep -q "double quote" "$T/keygen.err" || fail "no clear message: $(cat "$T/keygen.err")"
[ -e "$T/odd/we\"ird.key_secret" ] && fail "keygen wrote an unloadable certificate"
"$SWEEPD" keygen "$(printf 'n\303\251-1.x')" --dir "$T/odd" > /dev/null 2> "$T/keygen.err" \
    || fail "keygen refused a UTF-8 NAME: $(cat "$T/keygen.err")"
[ -e "$T/odd/$(printf 'n\303\251-1.x').key_secret" ] || fail "no UTF-8-named key written"
pass "keygen refuses a NAME with a double quote (exit 2), writes nothing; takes a UTF-8 NAME"

cat > "$T/spec.json" <<JSON
{
  "name": "curve-grid",
  "objective": {"metric": "value", "direction": "minimize"},
  "method": "grid",
  "parameters": {"x1": {"type": "int", "low": 0, "high": 2},
                 "x2": {"type": "int", "low": 0, "high": 2}},
  "trainer": {"type": "function", "name": "branin", "dims": 2}
}
JSON
port=$(it_free_port)

# ---- usage errors: exit 2 before anything listens --------------------------------------
"$SWEEPD" coordinator --bind "tcp://0.0.0.0:$port" --db "$T/u.db" "$T/spec.json" 2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] || fail "plaintext bind on 0.0.0.0 exited $rc, want 2"
grep -q "refusing to bind tcp://0.0.0.0:$port in plaintext" "$T/u.err" && grep -q -- "--insecure" "$T/u.err" \
    && grep -q -- "--curve-secret FILE and --curve-allow DIR" "$T/u.err" || fail "message: $(cat "$T/u.err")"
[ ! -e "$T/u.db" ] || fail "the refused coordinator created its database"
"$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/u.db" --curve-secret "$K/coord.key_secret" \
    2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] && grep -q "go together" "$T/u.err" || fail "--curve-secret alone: exit $rc: $(cat "$T/u.err")"
cp "$K/coord.key" "$T/pubonly.key"
"$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/u.db" --curve-secret "$T/pubonly.key" \
    --curve-allow "$A" 2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] || fail "missing allow directory: exit $rc"
mkdir -p "$A" && cp "$K/ops.key" "$A/"
"$SWEEPD" coordinator --bind "tcp://127.0.0.1:$port" --db "$T/u.db" --curve-secret "$T/pubonly.key" \
    --curve-allow "$A" 2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] && grep -q "holds no secret key" "$T/u.err" || fail "public key as secret: exit $rc: $(cat "$T/u.err")"
# 192.0.2.1 is TEST-NET-1: refused before any connection is tried
"$SWEEPD" worker --connect "tcp://192.0.2.1:$port" 2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] && grep -q "refusing to connect to tcp://192.0.2.1:$port in plaintext" "$T/u.err" \
    || fail "plaintext worker to a network address: exit $rc: $(cat "$T/u.err")"
"$SWEEPD" status --connect "tcp://192.0.2.1:$port" 2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] || fail "plaintext status to a network address: exit $rc"
pass "plaintext on a network endpoint, half a key pair, a public key as secret: exit 2"

# ---- the secured coordinator ------------------------------------------------------------
EP="tcp://127.0.0.1:$port"
it_start coord "$SWEEPD" coordinator --bind "$EP" --db "$T/c.db" --heartbeat-ms 200 \
    --curve-secret "$K/coord.key_secret" --curve-allow "$A" --log-level info "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord.log" "listening endpoint=$EP .*security=curve" 10

it_start wbad "$SWEEPD" worker --connect "$EP" --id wbad --curve-secret "$K/wbad.key_secret" \
    --coordinator-key "$K/coord.key"
WBAD=$PID
it_wait_line "$T/coord.log" "CURVE handshake refused peer=127\.0\.0\.1 key=.* reason=client key not in the allow list" 15
it_wait_line "$T/wbad.log" "CURVE handshake with $EP failed reason=the coordinator refused this key" 15
kill -TERM $WBAD; it_wait_exit $WBAD 10
# the refused key, exactly as keygen printed it (Z85 holds regex characters: -F)
grep -qF "CURVE handshake refused peer=127.0.0.1 key=$(cat "$T/wbad.pub") reason=client key not in the allow list" \
    "$T/coord.log" || fail "the coordinator's refusal line does not name wbad's key $(cat "$T/wbad.pub")"
pass "unlisted worker refused; both sides logged it, the coordinator naming the refused key"

it_start wplain "$SWEEPD" worker --connect "$EP" --id wplain
WPLAIN=$PID
# the exact line; each later retry of the same peer within 10 s is only counted
PEER_RE='peer=(127\.0\.0\.1:[0-9]+|unknown)'
it_wait_line "$T/coord.log" "W: CURVE handshake refused $PEER_RE reason=security mechanism mismatch: the client does not use CURVE \(plaintext or no key configured\) suppressed=[0-9]+\$" 15
kill -TERM $WPLAIN; it_wait_exit $WPLAIN 10
pass "plaintext worker refused (mechanism mismatch logged)"

it_start wwrong "$SWEEPD" worker --connect "$EP" --id wwrong --curve-secret "$K/wok.key_secret" \
    --coordinator-key "$K/other.key"
WWRONG=$PID
it_wait_line "$T/coord.log" "W: CURVE handshake refused $PEER_RE reason=cannot decrypt the client's handshake: the client uses a wrong coordinator key suppressed=[0-9]+\$" 15
it_wait_line "$T/wwrong.log" "CURVE handshake with $EP failed" 15
kill -TERM $WWRONG; it_wait_exit $WWRONG 10
pass "worker holding the wrong coordinator key refused"

"$SWEEPD" trials --db "$T/c.db" --attempts --format csv > "$T/a0.csv" || fail "sweepd trials --attempts"
[ "$(wc -l < "$T/a0.csv")" -eq 1 ] || fail "refused workers ran attempts: $(cat "$T/a0.csv")"
pass "the three refused workers ran zero attempts"

"$SWEEPD" status --connect "$EP" > "$T/st0.out" 2> "$T/st0.err"; rc=$?
[ $rc -eq 1 ] || fail "status without keys exited $rc, want 1"
grep -q "CURVE handshake with $EP failed" "$T/st0.err" || fail "status without keys: $(cat "$T/st0.err")"
"$SWEEPD" status --connect "$EP" --curve-secret "$K/wbad.key_secret" --coordinator-key "$K/coord.key" \
    > /dev/null 2> "$T/st1.err"; rc=$?
[ $rc -eq 1 ] && grep -q "refused this key" "$T/st1.err" || fail "status with an unlisted key: exit $rc: $(cat "$T/st1.err")"
"$SWEEPD" status --connect "$EP" --json --curve-secret "$K/ops.key_secret" --coordinator-key "$K/coord.key" \
    > "$T/st2.json" 2> "$T/st2.err" || fail "status with a listed key: $(cat "$T/st2.err")"
grep -q '"security":[[:space:]]*"curve"' "$T/st2.json" || fail "status document lacks security=curve"
grep -q '"curve-grid"' "$T/st2.json" || fail "status document lacks the sweep"
refused=$(sed -n 's/.*"refused_handshakes":[[:space:]]*\([0-9]*\).*/\1/p' "$T/st2.json")
[ "${refused:-0}" -ge 4 ] || fail "refused_handshakes is '$refused', want at least 4"
pass "status --connect: refused without a key and with an unlisted one, served with a listed one ($refused refusals counted)"

# ---- the allowed worker: its key is added while the coordinator runs -----------------------
cp "$K/wok.key" "$A/"
it_start wok "$SWEEPD" worker --connect "$EP" --id wok --curve-secret "$K/wok.key_secret" \
    --coordinator-key "$K/coord.key"
WOK=$PID
it_wait_line "$T/coord.log" "sweep finished sweep=curve-grid state=COMPLETE" 60
"$SWEEPD" trials --db "$T/c.db" --format csv > "$T/t.csv" || fail "sweepd trials"
[ "$(it_csv_count "$T/t.csv" state COMPLETE)" -eq 9 ] || fail "expected 9 COMPLETE trials: $(cat "$T/t.csv")"
"$SWEEPD" trials --db "$T/c.db" --attempts --format csv > "$T/a.csv" || fail "sweepd trials --attempts"
[ "$(it_csv_count "$T/a.csv" worker wok)" -eq 9 ] && [ "$(wc -l < "$T/a.csv")" -eq 10 ] \
    || fail "expected 9 attempts, all by wok: $(cat "$T/a.csv")"
grep -qF "worker id bound to its CURVE key worker=wok key=$(cat "$T/wok.pub")" "$T/coord.log" \
    || fail "the coordinator did not bind wok to its key"
pass "allowed worker (key added while running) completed 9 of 9 grid points, the only one to run any"

# a listed key speaking for another worker's id
it_start imp "$SWEEPD" worker --connect "$EP" --id wok --curve-secret "$K/ops.key_secret" \
    --coordinator-key "$K/coord.key"
IMP=$PID
it_wait_line "$T/coord.log" "message rejected, HELLO: this worker id is bound to another CURVE key code=not-yours" 15
kill -TERM $IMP; it_wait_exit $IMP 10
grep -qF "worker id bound to its CURVE key worker=wok key=$(cat "$T/ops.pub")" "$T/coord.log" \
    && fail "the impostor's key was bound"
pass "HELLO for worker id wok from another (listed) key rejected"

kill -TERM $WOK; it_wait_exit $WOK 10
[ "$RC" -eq 0 ] || fail "allowed worker exited $RC on SIGTERM"
kill -TERM $COORD; it_wait_exit $COORD 10
[ "$RC" -eq 0 ] || fail "coordinator exited $RC on SIGTERM"

# ---- the binding outlives a restart: it is in the database -----------------------------
it_start coord2 "$SWEEPD" coordinator --bind "$EP" --db "$T/c.db" --heartbeat-ms 200 \
    --curve-secret "$K/coord.key_secret" --curve-allow "$A" --log-level info "$T/spec.json"
COORD=$PID
it_wait_line "$T/coord2.log" "listening endpoint=$EP .*security=curve" 10
grep -q "worker key bindings loaded count=1" "$T/coord2.log" || fail "the restarted coordinator loaded no binding"
it_start imp2 "$SWEEPD" worker --connect "$EP" --id wok --curve-secret "$K/ops.key_secret" \
    --coordinator-key "$K/coord.key"
IMP=$PID
it_wait_line "$T/coord2.log" "message rejected, HELLO: this worker id is bound to another CURVE key code=not-yours" 15
kill -TERM $IMP; it_wait_exit $IMP 10
grep -q "worker joined worker=wok" "$T/coord2.log" && fail "the impostor joined as wok after the restart"
grep -q "worker id bound to its CURVE key" "$T/coord2.log" && fail "the restarted coordinator bound wok again"
pass "after a restart on the same database, a HELLO for wok from another listed key is still rejected"

it_start wok2 "$SWEEPD" worker --connect "$EP" --id wok --curve-secret "$K/wok.key_secret" \
    --coordinator-key "$K/coord.key"
WOK=$PID
it_wait_line "$T/coord2.log" "worker joined worker=wok " 15
kill -TERM $WOK; it_wait_exit $WOK 10
[ "$RC" -eq 0 ] || fail "allowed worker exited $RC on SIGTERM"
kill -TERM $COORD; it_wait_exit $COORD 10
[ "$RC" -eq 0 ] || fail "restarted coordinator exited $RC on SIGTERM"
pass "after the restart wok's own key is let in as wok"
# ---- operators' keys: only they control sweeps ------------------------------------------
grep -q "N: sweep control (SUBMIT, CANCEL-SWEEP, RESUME-SWEEP) is open to every key in the allow directory $A" \
    "$T/coord.log" || fail "the coordinator without --curve-allow-ops did not say that control is open"
pass "without --curve-allow-ops the coordinator says sweep control is open to every allowed key"

O="$T/ops"
mkdir -p "$O" && cp "$K/ops.key" "$O/"
"$SWEEPD" coordinator --bind "$EP" --db "$T/u.db" --curve-allow-ops "$O" 2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--curve-allow-ops needs --curve-secret and --curve-allow" "$T/u.err" \
    || fail "--curve-allow-ops alone: exit $rc: $(cat "$T/u.err")"
"$SWEEPD" coordinator --bind "$EP" --db "$T/u.db" --curve-secret "$K/coord.key_secret" --curve-allow "$A" \
    --curve-allow-ops "$T/no-such-dir" 2> "$T/u.err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--curve-allow-ops: '$T/no-such-dir' is not a directory" "$T/u.err" \
    || fail "missing operators directory: exit $rc: $(cat "$T/u.err")"
pass "--curve-allow-ops without CURVE, or naming no directory: exit 2"

sed 's/"curve-grid"/"ops-grid"/' "$T/spec.json" > "$T/ops-spec.json"
sed 's/"curve-grid"/"ops-new"/' "$T/spec.json" > "$T/new-spec.json"
it_start coord3 "$SWEEPD" coordinator --bind "$EP" --db "$T/o.db" --heartbeat-ms 200 \
    --curve-secret "$K/coord.key_secret" --curve-allow "$A" --curve-allow-ops "$O" \
    --log-level info "$T/ops-spec.json"
COORD=$PID
it_wait_line "$T/coord3.log" "listening endpoint=$EP .*security=curve" 10
grep -q "CURVE operators list loaded dir=$O keys=1" "$T/coord3.log" || fail "no operators list loaded: $(cat "$T/coord3.log")"
grep -q "open to every key" "$T/coord3.log" && fail "the notice shows with --curve-allow-ops"
WOKKEY="--curve-secret $K/wok.key_secret --coordinator-key $K/coord.key"
OPSKEY="--curve-secret $K/ops.key_secret --coordinator-key $K/coord.key"
TRIALS_ALL_PENDING='trials +pending 9 +running 0 +complete 0 +pruned 0 +failed 0 +cancelled 0 +\(of 9\)'
# (no grid point was handed out: a cancel leaves none pending, and none was stored)
TRIALS_NONE_LEFT='trials +pending 0 +running 0 +complete 0 +pruned 0 +failed 0 +cancelled 0 +\(of 9\)'
# shellcheck disable=SC2086
"$SWEEPD" status ops-grid --connect "$EP" $WOKKEY > "$T/os0.out" 2> "$T/os0.err" \
    || fail "status with a worker key: $(cat "$T/os0.err")"
grep -Eq "$TRIALS_ALL_PENDING" "$T/os0.out" || fail "before: $(cat "$T/os0.out")"

WOKPUB=$(cat "$T/wok.pub")
for op in cancel resume submit; do
    arg=ops-grid
    [ $op = submit ] && arg="$T/new-spec.json"
    # shellcheck disable=SC2086
    "$SWEEPD" $op "$arg" --connect "$EP" $WOKKEY > "$T/o-$op.out" 2> "$T/o-$op.err"; rc=$?
    case $op in cancel) cmd=CANCEL-SWEEP ;; resume) cmd=RESUME-SWEEP ;; submit) cmd=SUBMIT ;; esac
    [ $rc -eq 2 ] || fail "$op with a worker-only key exited $rc, want 2: $(cat "$T/o-$op.err")"
    grep -qF "sweepd $op: $cmd: permission denied: key $WOKPUB may not control sweeps (its certificate is not in the coordinator's operators directory, --curve-allow-ops)" \
        "$T/o-$op.err" || fail "$op with a worker-only key: $(cat "$T/o-$op.err")"
done
# shellcheck disable=SC2086
"$SWEEPD" status ops-grid --connect "$EP" $WOKKEY > "$T/os1.out" 2> "$T/os1.err" \
    || fail "status with a worker key: $(cat "$T/os1.err")"
grep -q "sweep ops-grid .* RUNNING" "$T/os1.out" && grep -Eq "$TRIALS_ALL_PENDING" "$T/os1.out" \
    || fail "the refused requests changed the sweep: $(cat "$T/os1.out")"
"$SWEEPD" status ops-new --connect "$EP" $WOKKEY > /dev/null 2>&1 && fail "the refused SUBMIT added ops-new"
grep -q "sweep cancelled\|sweep resumed\|sweep added sweep=ops-new" "$T/coord3.log" \
    && fail "the coordinator acted on a refused request"
grep -q "message rejected, CANCEL-SWEEP: permission denied: key .* code=permission-denied" "$T/coord3.log" \
    || fail "the coordinator did not log the refusal"
pass "a worker-only key's cancel, resume and submit: exit 2, 'permission denied' named, sweep untouched (9 pending of 9)"

# shellcheck disable=SC2086
"$SWEEPD" cancel ops-grid --connect "$EP" $OPSKEY > "$T/oc.out" 2> "$T/oc.err" \
    || fail "cancel with an operator's key: $(cat "$T/oc.err")"
# shellcheck disable=SC2086
"$SWEEPD" status ops-grid --connect "$EP" $WOKKEY > "$T/os2.out" 2>&1 || fail "status: $(cat "$T/os2.out")"
grep -q "sweep ops-grid .* CANCELLED" "$T/os2.out" && grep -Eq "$TRIALS_NONE_LEFT" "$T/os2.out" \
    && grep -q "sweep cancelled  *sweep=ops-grid pending=0 running=0 attempts=0" "$T/os2.out" \
    || fail "after the operator's cancel: $(cat "$T/os2.out")"
pass "an operator's key cancels the sweep (CANCELLED, 0 of 9 pending)"

# a key in no directory is refused at the handshake; once its certificate is put into
# the operators directory (no restart) it is let in and may resume
OTHERKEY="--curve-secret $K/other.key_secret --coordinator-key $K/coord.key"
# shellcheck disable=SC2086
"$SWEEPD" resume ops-grid --connect "$EP" $OTHERKEY > /dev/null 2> "$T/or0.err"; rc=$?
[ $rc -eq 1 ] && grep -q "refused this key" "$T/or0.err" || fail "resume with an unlisted key: exit $rc: $(cat "$T/or0.err")"
cp "$K/other.key" "$O/"
# shellcheck disable=SC2086
"$SWEEPD" resume ops-grid --connect "$EP" $OTHERKEY > "$T/or1.out" 2> "$T/or1.err" \
    || fail "resume with an operator's key added while running: $(cat "$T/or1.err")"
# shellcheck disable=SC2086
"$SWEEPD" status ops-grid --connect "$EP" $WOKKEY > "$T/os3.out" 2>&1 || fail "status: $(cat "$T/os3.out")"
grep -q "sweep ops-grid .* RUNNING" "$T/os3.out" && grep -Eq "$TRIALS_ALL_PENDING" "$T/os3.out" \
    || fail "after the added operator's resume: $(cat "$T/os3.out")"
grep -q "CURVE operators list loaded dir=$O keys=2" "$T/coord3.log" || fail "the added operator's key was not loaded"
kill -TERM $COORD; it_wait_exit $COORD 10
[ "$RC" -eq 0 ] || fail "coordinator with --curve-allow-ops exited $RC on SIGTERM"
pass "an operator's key added while the coordinator runs resumes the sweep without a restart (9 pending of 9)"
it_final_checks "$T/c.db"
