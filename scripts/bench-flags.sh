#!/usr/bin/env bash
# Benchmark of issue 7: every suspicious-tap rule over a generated city
# month of N taps (default 10,000,000), `kartka taps flag` (polars) against
# the same rules in SQL on DuckDB (scripts/flag-duckdb.py, Python's duckdb),
# on the same Parquet store and registry, in one run. Medians of RUNS runs
# (default 3) each, wall time and peak memory (RSS), the ratio, and a check
# that both flagged exactly the same (validator, seq, rule) rows. Then the
# precision and recall of each rule against the ground truth.
#
#   scripts/bench-flags.sh [N=10000000] [RUNS=3]
#
# Needs python3 with duckdb (`pip install duckdb`, or KARTKA_PYTHON=path).
set -euo pipefail
n="${1:-10000000}"
runs="${2:-3}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
py="${KARTKA_PYTHON:-python3}"
"$py" -c "import duckdb" || { echo "needs the duckdb Python package: pip install duckdb" >&2; exit 1; }
cargo build --release --quiet --bin kartka -p kartka
target="${CARGO_TARGET_DIR:-$repo/target}/release"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench-flags.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -r); duckdb $("$py" -c 'import duckdb; print(duckdb.__version__)')"

measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

home="$work/home"
"$target/kartka" --quiet --home "$home" init
holders=$(( n / 28 ))
# The fleet grows with the month (10 M: 400 validators, 250 vehicles), so a
# bigger N is a bigger city, not the same buses tapped 4× as often (which
# makes driver_burst fire on a fifth of all taps).
validators=$(( n / 25000 > 400 ? n / 25000 : 400 ))
vehicles=$(( n / 40000 > 250 ? n / 40000 : 250 ))
start=$(date +%s.%N)
"$target/kartka" --quiet --home "$home" generate month --month 2026-10 --taps "$n" \
  --holders "$holders" --validators "$validators" --vehicles "$vehicles" --format store --out "$work/gen"
echo "input: $("$target/kartka" --home "$home" taps months 2>&1 | grep 2026-10), $holders holders (+ planted cards), generated and stored in $(echo "$(date +%s.%N) - $start" | bc) s"

: >"$work/kartka"; : >"$work/duckdb"
for i in $(seq "$runs"); do
  measure "$target/kartka" --home "$home" --quiet --json taps flag --month 2026-10 >>"$work/kartka"
  cp "$work/stdout" "$work/kartka.json"
  measure "$py" scripts/flag-duckdb.py "$home" 2026-10 --json \
    --compare "$home/flags/month=2026-10/flags.parquet" >>"$work/duckdb" || {
    echo "DuckDB and kartka flagged different taps:" >&2; cat "$work/stdout" >&2; exit 1; }
  cp "$work/stdout" "$work/duckdb.json"
done
k_s=$(cut -d' ' -f1 "$work/kartka" | median); k_mb=$(cut -d' ' -f2 "$work/kartka" | median)
d_s=$(cut -d' ' -f1 "$work/duckdb" | median); d_mb=$(cut -d' ' -f2 "$work/duckdb" | median)
echo "kartka taps flag (polars): runs $(cut -d' ' -f1 "$work/kartka" | tr '\n' ' ')s; median $k_s s, peak $k_mb MiB"
echo "DuckDB, same rules in SQL: runs $(cut -d' ' -f1 "$work/duckdb" | tr '\n' ' ')s; median $d_s s, peak $d_mb MiB"
"$py" - "$work/kartka.json" "$work/duckdb.json" "$k_s" "$d_s" <<'EOF'
import json, sys
k, d = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(f"same flags: {d['same']} ({d['rows']} rows, {k['flagged']} taps of {k['taps']}); "
      f"DuckDB / kartka time: {float(sys.argv[4]) / float(sys.argv[3]):.2f}x")
print(f"burst windows (queues boarding and drivers' stacks): {d['burst_window_taps']} taps; "
      f"judged a driver's stack: {d['by_rule']['driver_burst']}")
print("DuckDB's last run, step by step: " + "; ".join(f"{k} {v:.2f} s" for k, v in d.get("timings_s", {}).items()))
EOF
"$py" scripts/flag-quality.py "$work/gen/ground-truth.csv" "$home/flags/month=2026-10/flags.parquet" --min 0 || true
