#!/usr/bin/env bash
# Benchmark (issue 2): import N synthetic applicants from one .xlsx into a
# fresh home, against calamine alone reading the same workbook's cells, in one
# run. Reports the median of RUNS runs of each, the ratio, and peak memory.
#
#   scripts/bench-import.sh [N=200000] [RUNS=5]
set -euo pipefail
n="${1:-200000}"
runs="${2:-5}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet --bin kartka --example calamine_only
target="${CARGO_TARGET_DIR:-$repo/target}/release"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

xlsx="$work/applicants-$n.xlsx"
"$target/kartka" --quiet generate applicants --count "$n" --bad-share 0.01 --seed 42 --out "$xlsx"
echo "input: $xlsx ($(du -h "$xlsx" | cut -f1), $n rows); machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"

# One measurement: wall seconds and peak RSS in MiB, from GNU time.
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$work/cal"; : >"$work/imp"
for i in $(seq "$runs"); do
  measure "$target/examples/calamine_only" "$xlsx" >>"$work/cal"
  rm -rf "$work/home"
  "$target/kartka" --quiet init --home "$work/home"
  measure "$target/kartka" --home "$work/home" --quiet --json import applicants "$xlsx" >>"$work/imp"
done
cal=$(cut -d' ' -f1 "$work/cal" | median)
imp=$(cut -d' ' -f1 "$work/imp" | median)
cal_mem=$(cut -d' ' -f2 "$work/cal" | median)
imp_mem=$(cut -d' ' -f2 "$work/imp" | median)
people=$(sqlite3 "$work/home/registry.sqlite" "select count(*) from people" 2>/dev/null || echo "?")
echo "calamine alone:   median ${cal} s over $runs runs (peak ${cal_mem} MiB)"
echo "kartka import:    median ${imp} s over $runs runs (peak ${imp_mem} MiB), $people people stored"
awk -v a="$imp" -v b="$cal" 'BEGIN {printf "ratio import/calamine: %.2f (target <= 1.5; import target < 10 s)\n", a/b}'
echo "all runs (s, MiB): calamine: $(tr '\n' ' ' <"$work/cal")| import: $(tr '\n' ' ' <"$work/imp")"
