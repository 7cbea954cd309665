#!/usr/bin/python3
"""tpe_compare.py - sweepd's TPE and Optuna's side by side on the same seeds.

Usage: tpe_compare.py SWEEPD_VALUES OPTUNA_JSON

SWEEPD_VALUES: the file `bench_tpe quality --values FILE` appends to, one line per
run, "function variant seed best" (variant 0 is TPE). OPTUNA_JSON: the document
bench/optuna_tpe.py prints (its quality.FUNCTION.tpe.values are the best values of
seeds first_seed, first_seed + 1, ...). For every function both sides ran, prints
the median [25th, 75th percentile] of the best value after the budget over the
seeds both ran (numpy's linear percentiles), and whether sweepd's median is at
least as good (lower or equal: every function is minimised). Exit status 0, or 2
when a file cannot be read or the two share no seed.

Copyright (c) 2026 the sweepd authors. SPDX-License-Identifier: MIT
"""
import json
import statistics
import sys


def pct(v, q):
    """numpy's default ('linear') percentile Q in [0, 1] of the values V."""
    v = sorted(v)
    pos = q * (len(v) - 1)
    i = int(pos)
    if i >= len(v) - 1:
        return v[-1]
    return v[i] + (pos - i) * (v[i + 1] - v[i])


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    ours = {}
    try:
        with open(argv[1]) as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if len(parts) != 4:
                    print("tpe_compare: %s:%d: expected 'function variant seed best'" % (argv[1], n),
                          file=sys.stderr)
                    return 2
                fn, variant, seed, best = parts
                if variant == "0":
                    ours.setdefault(fn, {})[int(seed)] = float(best)
        with open(argv[2]) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print("tpe_compare: %s" % e, file=sys.stderr)
        return 2
    first = doc.get("first_seed", 0)
    wins = total = 0
    seeds_used = None
    print("%-18s %-32s %-32s %s" % ("function", "Optuna TPE", "sweepd TPE", "sweepd <= Optuna"))
    for fn, v in doc.get("quality", {}).items():
        theirs = {first + i: x for i, x in enumerate(v["tpe"]["values"])}
        # bench_tpe labels a function by name and dimension (hartmann66 for hartmann6)
        mine = ours.get(fn) or ours.get(fn + fn[-1]) or {}
        common = sorted(set(theirs) & set(mine))
        if not common:
            continue
        seeds_used = common
        a = [theirs[s] for s in common]
        b = [mine[s] for s in common]
        ma, mb = statistics.median(a), statistics.median(b)
        ok = mb <= ma
        wins += ok
        total += 1
        print("%-18s %-32s %-32s %s" % (
            fn, "%.4g [%.4g, %.4g]" % (ma, pct(a, .25), pct(a, .75)),
            "%.4g [%.4g, %.4g]" % (mb, pct(b, .25), pct(b, .75)), "yes" if ok else "no"))
    if not total:
        print("tpe_compare: the two files share no function and seed", file=sys.stderr)
        return 2
    print("seeds %d-%d (%d): sweepd's median at least as good on %d of %d functions"
          % (seeds_used[0], seeds_used[-1], len(seeds_used), wins, total))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
