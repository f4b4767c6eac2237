#!/usr/bin/env bash
# Benchmark of issue 24: a public open-data release (`kartka open-data`:
# the tables counted, every number behind fewer than min_cell cards withheld
# with its complements, CSV and Parquet written, the manifest signed) of a
# generated city month of N taps (default 10,000,000; the fleet grows with
# the month as in bench-scale.sh). Medians of RUNS runs (default 3), peak
# memory, each table's withheld share; then the release verified. Target:
# a 10 M-tap month published in under 30 s.
#
#   scripts/bench-open-data.sh [N=10000000] [RUNS=3]
set -euo pipefail
n="${1:-10000000}"
runs="${2:-3}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet --bin kartka -p kartka
bin="${CARGO_TARGET_DIR:-$repo/target}/release/kartka"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench-open.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -r)"
home="$work/home"
validators=$(( n / 25000 > 400 ? n / 25000 : 400 ))
vehicles=$(( n / 40000 > 250 ? n / 40000 : 250 ))
"$bin" --quiet --home "$home" init
"$bin" --quiet --home "$home" generate month --month 2026-10 --taps "$n" --holders $(( n / 28 )) \
  --validators "$validators" --vehicles "$vehicles" --format store --out "$work/gen"
echo "input: $("$bin" --home "$home" taps months 2>&1 | grep 2026-10)"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: >"$work/runs"
for i in $(seq "$runs"); do
  rm -rf "$work/release"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --home "$home" --quiet --json \
    open-data --from 2026-10-01 --to 2026-10-31 --out "$work/release" >"$work/json"
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time" >>"$work/runs"
done
echo "runs (wall s, peak MiB):"; sed 's/^/  /' "$work/runs"
echo "median: $(cut -d' ' -f1 "$work/runs" | median) s wall, peak $(cut -d' ' -f2 "$work/runs" | sort -n | tail -1) MiB (target: under 30 s)"
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("%d trips, %d files" % (j["trips"], j["files"]))
for w in j["withheld"]:
    print("  %-22s %6d numbers, %5d withheld (%d small, %d complements): %.2f %% of the trips"
          % (w["table"], w["cells"], w["withheld_small"] + w["withheld_complement"],
             w["withheld_small"], w["withheld_complement"], w["withheld_pct"]))
' "$work/json"
/usr/bin/time -f "verify: %e s" "$bin" --quiet open-data verify "$work/release" --key "$home/keys/open-data-signing.pub"
