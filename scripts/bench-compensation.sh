#!/usr/bin/env bash
# Benchmark of issue 8: `kartka compensation` (every workbook: per carrier,
# per community, the city) on a generated, flagged city month of N taps
# (default 10,000,000). Medians of RUNS runs (default 3): wall time, the
# split between counting (the polars pass and pricing) and writing the
# workbooks, and peak memory (RSS).
#
#   scripts/bench-compensation.sh [N=10000000] [RUNS=3]
set -euo pipefail
n="${1:-10000000}"
runs="${2:-3}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet --bin kartka -p kartka
bin="${CARGO_TARGET_DIR:-$repo/target}/release/kartka"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench-comp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -r)"
home="$work/home"
"$bin" --quiet --home "$home" init
"$bin" --quiet --home "$home" generate month --month 2026-10 --taps "$n" \
  --holders $(( n / 28 )) --format store --out "$work/gen"
"$bin" --quiet --home "$home" taps flag --month 2026-10
echo "input: $("$bin" --home "$home" taps months 2>&1 | grep 2026-10), flagged"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/runs"
for i in $(seq "$runs"); do
  rm -rf "$work/out"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --home "$home" --quiet --json \
    compensation --month 2026-10 --out "$work/out" >"$work/json"
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read().split()
print(t[0], int(t[1]) // 1024, round(j["compute_seconds"], 2), round(j["write_seconds"], 2))
' "$work/json" "$work/time" >>"$work/runs"
done
echo "runs (wall s, peak MiB, counting s, writing s):"; sed 's/^/  /' "$work/runs"
echo "median: $(cut -d' ' -f1 "$work/runs" | median) s wall, $(cut -d' ' -f2 "$work/runs" | median) MiB peak," \
  "$(cut -d' ' -f3 "$work/runs" | median) s counting, $(cut -d' ' -f4 "$work/runs" | median) s writing"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%d accepted taps; %d trips paid, %d kopecks; %d held; %d carrier and %d community workbooks + the city"
      % (j["accepted"], j["total_trips"], j["total_kopecks"], j["held_trips"], len(j["carriers"]), len(j["communities"])))
' "$work/json"
ls -la "$work/out" | awk 'NR>1 {s+=$5} END {print "workbooks: " NR-1 " files, " s " bytes"}'
