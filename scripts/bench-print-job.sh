#!/usr/bin/env bash
# Benchmark (issue 5): a print job of N cards with photos (600 × 800 JPEG
# portraits, one per person), in a fresh copy of a home where the cards are
# issued. Median of RUNS. Target: 10,000 cards in under 60 s.
#
#   scripts/bench-print-job.sh [N=10000] [RUNS=3]
set -euo pipefail
n="${1:-10000}"
runs="${2:-3}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet --bin kartka
bin="${CARGO_TARGET_DIR:-$repo/target}/release/kartka"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Not every applicant is eligible: generate enough that N cards are issued.
count=$((n * 2))
"$bin" --quiet generate applicants --count "$count" --seed 42 --today 2026-11-01 --out "$work/a.csv" --photos "$work/photos"
"$bin" --quiet init --home "$work/base"
"$bin" --quiet --home "$work/base" import applicants "$work/a.csv"
"$bin" --quiet --home "$work/base" eligibility --as-of 2026-11-01
issued=$("$bin" --home "$work/base" --json --quiet cards issue | sed 's/.*"issued":\[\([^]]*\)\].*/\1/' | tr ',' '\n' | grep -c .)
seq 1 "$n" | awk '{printf "04%06X\n", $1}' >"$work/uids.txt"
echo "input: $issued cards issued, a job of $n with photos; machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"

: >"$work/times"
for i in $(seq "$runs"); do
  rm -rf "$work/home" "$work/job"
  cp -r "$work/base" "$work/home"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --home "$work/home" --json --quiet --purpose "benchmark" cards print-job \
    --out "$work/job" --uids "$work/uids.txt" --limit "$n" >"$work/out.json"
  cat "$work/time" >>"$work/times"
done
cards=$(grep -o '"cards":\[[^]]*\]' "$work/out.json" | tr ',' '\n' | grep -c '[0-9]')
median=$(cut -d' ' -f1 "$work/times" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "kartka cards print-job: $cards cards; median ${median} s over $runs runs (target < 60 s)"
echo "job folder: $(du -sh "$work/job" | cut -f1) (proof.pdf $(du -h "$work/job/proof.pdf" | cut -f1))"
echo "all runs (s, KiB peak): $(tr '\n' ' ' <"$work/times")"
