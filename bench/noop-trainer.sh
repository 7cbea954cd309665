#!/bin/sh
# noop-trainer.sh - the cheapest possible trainer: report the objective and exit.
# Used by bench/noop.json to measure what the scheduler itself costs per trial.
echo '{"final": true, "metrics": {"value": 0}}' >&3
