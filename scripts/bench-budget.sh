#!/usr/bin/env bash
# Benchmark of issue 21: `kartka budget` over a generated history of MONTHS
# months (default 24) of N taps each (default 5,000,000), every month
# flagged: the first run (each month counted through compensation's count
# and cached) and the cached runs (medians of RUNS, default 3), wall time
# and peak memory; then the backtest (the forecast made at month 12 of the
# next 12 months against what happened, per community).
#
#   scripts/bench-budget.sh [N=5000000] [MONTHS=24] [RUNS=3]
set -euo pipefail
n="${1:-5000000}"
months="${2:-24}"
runs="${3:-3}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet --bin kartka -p kartka
k="${CARGO_TARGET_DIR:-$repo/target}/release/kartka"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench-budget.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -r)"
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
home="$work/home"
"$k" --quiet --home "$home" init
printf '\n[[tariffs]]\nfrom = "2024-01-01"\nfare_kopecks = 1200\n' >>"$home/kartka.toml"
start=$(date +%s.%N)
"$k" --quiet --home "$home" generate history --from 2024-01 --months "$months" --taps "$n" \
  --holders $(( n / 28 )) --out "$work/history"
for m in $(tail -n +2 "$work/history/history.csv" | cut -d, -f1); do
  "$k" --quiet --home "$home" taps flag --month "$m"
done
echo "input: $months months of about $n taps, generated, stored and flagged in $(echo "$(date +%s.%N) - $start" | bc) s"
last=$(tail -1 "$work/history/history.csv" | cut -d, -f1)
year=${last%-*}
read -r t m < <(measure "$k" --home "$home" --json budget --year "$year" --as-of "$last")
echo "budget --year $year, first run (every month counted and cached): $t s, peak $m MiB"
times=(); mems=()
for _ in $(seq "$runs"); do
  read -r t m < <(measure "$k" --home "$home" --json budget --year "$year" --as-of "$last")
  times+=("$t"); mems+=("$m")
done
echo "budget, cached: runs ${times[*]} s; median $(printf '%s\n' "${times[@]}" | median) s, peak $(printf '%s\n' "${mems[@]}" | median) MiB"
cp "$work/stdout" "$work/happened.json"
"$k" --home "$home" --quiet --json budget --year "$year" --as-of "$((year - 1))-12" >"$work/made.json"
python3 - "$work/made.json" "$work/happened.json" <<'PY'
import json, sys
made, happened = (json.load(open(p)) for p in sys.argv[1:3])
print(f"backtest: forecast made at {made['as_of']} ({made['model']}, {made['history_months']} months) of {happened['year']}, against its actuals")
for f, a in zip(made["communities"], happened["communities"]):
    fm = {m["month"]: m for m in f["months"]}
    ft = sum(m["cost"]["point"] for m in f["months"])
    at = sum(m["cost"]["point"] for m in a["months"])
    cov = sum(1 for m in a["months"] if fm[m["month"]]["cost"]["lo80"] <= m["cost"]["point"] <= fm[m["month"]]["cost"]["hi80"])
    holders = a["months"][0]["beneficiaries"]
    print(f"  {f['code']} ({holders} beneficiaries): error {(ft - at) / at * 100:+.2f} %, 80 % interval covers {cov} of {len(a['months'])} months")
PY
