#!/usr/bin/env bash
# Benchmarks (issue 6), medians of RUNS runs each:
#  1. ingest of one raw dump of N taps (default 1,000,000) into a fresh home:
#     `kartka taps import` (every frame's CRC and MAC checked, dedupe, Parquet,
#     ledger) — target >= 500,000 taps/s;
#  2. docking kartka-sim over a pseudo-terminal: DOCK taps (default 20,000),
#     taps/s achieved and bytes/s on the wire, against a 115,200-baud link.
#
#   scripts/bench-taps.sh [N=1000000] [RUNS=5] [DOCK=20000]
set -euo pipefail
n="${1:-1000000}"
runs="${2:-5}"
dock_taps="${3:-20000}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
cargo build --release --quiet --bin kartka -p kartka -p kartka-sim
target="${CARGO_TARGET_DIR:-$repo/target}/release"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench.XXXXXX")"
trap 'pkill -f "kartka-sim serve --state $work" 2>/dev/null || true; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -r)"

measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# 1. One validator's dump of N taps, signed with the home's dock key.
"$target/kartka" --quiet init --home "$work/template"
"$target/kartka" --home "$work/template" --quiet generate month --month 2026-10 --taps "$n" \
  --holders 180000 --validators 1 --vehicles 1 --routes 1 --carriers 1 --anomalies 0 --out "$work/gen"
dump=$(ls "$work/gen/dumps/"*.kdump)
"$target/kartka" --home "$work/template" --quiet fleet import "$work/gen/fleet.csv"
echo "input: $dump ($(du -h "$dump" | cut -f1), $n taps)"
: >"$work/ingest"
for i in $(seq "$runs"); do
  rm -rf "$work/home"; cp -a "$work/template" "$work/home"
  measure "$target/kartka" --home "$work/home" --quiet --json taps import "$dump" >>"$work/ingest"
done
stored=$(python3 -c "import json,sys; print(json.load(open('$work/stdout'))['taps_new'])")
t=$(cut -d' ' -f1 "$work/ingest" | median)
mem=$(cut -d' ' -f2 "$work/ingest" | median)
echo "ingest: median ${t} s for $stored taps over $runs runs (peak ${mem} MiB)"
awk -v n="$stored" -v t="$t" 'BEGIN {printf "ingest rate: %.0f taps/s (target >= 500000)\n", n/t}'
echo "  runs (s, MiB): $(tr '\n' ' ' <"$work/ingest")"

# 2. Docking the simulator over a pseudo-terminal.
: >"$work/dock"
for i in $(seq "$runs"); do
  rm -rf "$work/home" "$work/sim"; cp -a "$work/template" "$work/home"
  "$target/kartka-sim" serve --no-serve --state "$work/sim" --validator 1 --vehicle 1001 --generate "$dock_taps" --cards 5000 2>/dev/null
  key=$(cat "$work/home/keys/dock-master.key")
  KARTKA_DOCK_MASTER="$key" "$target/kartka-sim" serve --state "$work/sim" --validator 1 --vehicle 1001 --idle-exit 30 >"$work/port" 2>/dev/null &
  for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
  port=$(head -1 "$work/port")
  measure "$target/kartka" --home "$work/home" --quiet --json dock --port "$port" >>"$work/dock"
  kill %1 2>/dev/null || true; wait 2>/dev/null || true
done
t=$(cut -d' ' -f1 "$work/dock" | median)
docked=$(python3 -c "import json; print(json.load(open('$work/stdout'))['taps_new'])")
[ "$docked" -gt 0 ] || { echo "the dock stored nothing" >&2; exit 1; }
dock_taps=$docked
wire=$("$target/kartka-sim" figures --taps "$dock_taps" | awk '/on the wire/ {print $4}')
echo "dock over a pty: median ${t} s for $dock_taps taps stored over $runs runs (the session whole: hello, clock, taps, dump, Parquet, ledger, ack, blocklist, settings)"
awk -v n="$dock_taps" -v t="$t" -v w="$wire" 'BEGIN {
  printf "dock rate: %.0f taps/s, %.0f bytes/s on the wire (%d bytes)\n", n/t, w/t, w;
  printf "a 115200-baud link carries 11520 bytes/s: %.0f taps/s; the pty ran %.1fx that\n", 11520*n/w, (w/t)/11520 }'
echo "  runs (s, MiB): $(tr '\n' ' ' <"$work/dock")"
