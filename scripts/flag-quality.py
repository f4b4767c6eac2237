#!/usr/bin/env python3
"""Precision and recall of `kartka taps flag` per rule, against the
ground truth of a generated month.

    flag-quality.py GROUND_TRUTH.csv FLAGS.parquet [--min 0.95]

A flagged tap counts for a rule when that rule flagged it; it is a true
positive when the ground truth planted that rule's pattern on it. Prints a
table (and JSON with --json); exits 1 when a rule with planted taps is
below --min on either figure.
"""
import csv, json, sys

def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    minimum = 0.95
    if "--min" in sys.argv:
        minimum = float(sys.argv[sys.argv.index("--min") + 1])
        args = [a for a in args if a != sys.argv[sys.argv.index("--min") + 1]]
    truth_path, flags_path = args[:2]
    import duckdb
    truth = {}
    with open(truth_path, newline="") as f:
        for row in csv.DictReader(f):
            truth.setdefault(row["pattern"], set()).add((int(row["validator_id"]), int(row["seq"])))
    con = duckdb.connect()
    flagged = {}
    for v, s, rule in con.execute(f"SELECT validator_id, seq, rule FROM read_parquet('{flags_path}')").fetchall():
        flagged.setdefault(rule, set()).add((v, s))
    out, bad = {}, []
    for rule in sorted(set(truth) | set(flagged)):
        t, f = truth.get(rule, set()), flagged.get(rule, set())
        tp = len(t & f)
        p = tp / len(f) if f else (1.0 if not t else 0.0)
        r = tp / len(t) if t else (1.0 if not f else 0.0)
        out[rule] = {"planted": len(t), "flagged": len(f), "true_positives": tp, "precision": round(p, 4), "recall": round(r, 4)}
        if p < minimum or r < minimum:
            bad.append(rule)
    if "--json" in sys.argv:
        print(json.dumps(out))
    else:
        print(f"{'rule':<22} {'planted':>8} {'flagged':>8} {'precision':>9} {'recall':>7}")
        for rule, o in out.items():
            print(f"{rule:<22} {o['planted']:>8} {o['flagged']:>8} {o['precision']:>9.4f} {o['recall']:>7.4f}")
    if bad:
        print("below", minimum, ":", ", ".join(bad), file=sys.stderr)
        sys.exit(1)

main()
