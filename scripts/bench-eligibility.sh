#!/usr/bin/env bash
# Benchmark (issue 3): decide N applications in a fresh home. The home is
# imported once; each run decides on a fresh copy of it. Median of RUNS.
#
#   scripts/bench-eligibility.sh [N=200000] [RUNS=5]
set -euo pipefail
n="${1:-200000}"
runs="${2:-5}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet --bin kartka
bin="${CARGO_TARGET_DIR:-$repo/target}/release/kartka"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

"$bin" --quiet generate applicants --count "$n" --seed 42 --today 2026-11-01 --out "$work/a.xlsx"
"$bin" --quiet init --home "$work/base"
"$bin" --quiet --home "$work/base" import applicants "$work/a.xlsx"
echo "input: $n applications; machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"

: >"$work/times"
for i in $(seq "$runs"); do
  rm -rf "$work/home"
  cp -r "$work/base" "$work/home"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --home "$work/home" --json eligibility --as-of 2026-11-01 >"$work/out.json"
  cat "$work/time" >>"$work/times"
done
median=$(cut -d' ' -f1 "$work/times" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "kartka eligibility: median ${median} s over $runs runs (target < 3 s); last: $(cat "$work/out.json")"
echo "all runs (s, KiB peak): $(tr '\n' ' ' <"$work/times")"
