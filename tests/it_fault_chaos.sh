#!/bin/sh
# it_fault_chaos.sh - the coordinator crash loop of scripts/chaos.sh at test size: 400
# short trials on 4 workers, the coordinator killed with SIGKILL at 6 random moments
# and restarted each time; every trial exactly once, no acknowledged result lost.
# (make bench runs the full size: 2,000 trials and 20 kills.)
exec sh scripts/chaos.sh 400 6 4
