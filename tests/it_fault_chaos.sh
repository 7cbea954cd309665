#!/bin/sh
# it_fault_chaos.sh - the coordinator crash loop of scripts/chaos.sh at test size: 400
# short trials on 4 workers, the coordinator killed with SIGKILL at 6 random moments
# and restarted each time; every trial exactly once, no acknowledged result lost.
# (make bench runs the full size: 2,000 trials and 20 kills.)
#
# The loop binds and connects across network namespaces in plaintext, which sweepd
# refuses without --insecure: SWEEPD is wrapped so that `coordinator` and `worker`
# get it (exec keeps the pids the loop records).
: "${SWEEPD:=$(pwd)/build/sweepd}"
wrap=$(mktemp "${TMPDIR:-/tmp}/sweepd-insecure-XXXXXX")
trap 'rm -f "$wrap"' EXIT
cat > "$wrap" <<SH
#!/bin/sh
cmd=\$1; shift
case \$cmd in
coordinator|worker) exec "$SWEEPD" "\$cmd" --insecure "\$@" ;;
*) exec "$SWEEPD" "\$cmd" "\$@" ;;
esac
SH
chmod +x "$wrap"
SWEEPD=$wrap sh scripts/chaos.sh 400 6 4
