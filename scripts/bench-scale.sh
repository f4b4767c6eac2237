#!/usr/bin/env bash
# Issue 22's scale table: for each month size (default 10 M, 40 M, 100 M
# taps; the fleet grows with the month as in bench-flags.sh), the time and
# peak memory of `generate month --format store`, `taps flag` (median of
# RUNS), the same rules on DuckDB (scripts/flag-duckdb.py, same Parquet, up
# to DUCKDB_MAX taps, default 40 M), `compensation` and `report --by
# carrier`; one Markdown table on stdout. Release build. Where Python has
# pyspark (and Java), the month's compensation totals are also computed on
# Spark SQL over the same store (scripts/spark-month.py) and the month's
# flags by the same rules on Spark SQL (scripts/flag-spark.py) up to
# SPARK_MAX taps (default 10 M), each checked equal to kartka's. STEPS picks what is
# timed besides generating (default all: flag duckdb spark compensation
# report); a month not timed for flag is still flagged once, untimed.
#
#   scripts/bench-scale.sh [RUNS=3] [SIZES="10000000 40000000 100000000"]
set -euo pipefail
runs="${1:-3}"
sizes="${2:-10000000 40000000 100000000}"
duckdb_max="${DUCKDB_MAX:-40000000}"
spark_max="${SPARK_MAX:-10000000}"
steps=" ${STEPS:-flag duckdb spark compensation report} "
on() { [[ "$steps" == *" $1 "* ]]; }
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
py="${KARTKA_PYTHON:-python3}"
cargo build --release --quiet --bin kartka -p kartka
k="${CARGO_TARGET_DIR:-$repo/target}/release/kartka"
work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-bench-scale.XXXXXX")"
trap 'rm -rf "$work"' EXIT
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; return 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
runs_of() { # runs_of LABEL CMD...: median seconds and peak MiB over $runs
  shift
  : >"$work/runs"
  for _ in $(seq "$runs"); do measure "$@" >>"$work/runs"; done
  echo "$(cut -d' ' -f1 "$work/runs" | median) $(cut -d' ' -f2 "$work/runs" | sort -n | tail -1)"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -r); runs: $runs" >&2
rows=()
for n in $sizes; do
  home="$work/home-$n"
  "$k" --quiet --home "$home" init
  validators=$(( n / 25000 > 400 ? n / 25000 : 400 ))
  vehicles=$(( n / 40000 > 250 ? n / 40000 : 250 ))
  read -r gs gm < <(measure "$k" --quiet --home "$home" generate month --month 2026-10 --taps "$n" \
    --holders $(( n / 28 )) --validators "$validators" --vehicles "$vehicles" --format store --out "$work/gen-$n")
  echo "$n: generated and stored in $gs s (peak $gm MiB)" >&2
  fs="—"; fm="—"
  if on flag; then
    read -r fs fm < <(runs_of flag "$k" --home "$home" --quiet taps flag --month 2026-10)
    echo "$n: taps flag $fs s (peak $fm MiB)" >&2
  else
    "$k" --home "$home" --quiet taps flag --month 2026-10
  fi
  ds="—"; dm="—"; ratio="—"
  if on duckdb && on flag && [ "$n" -le "$duckdb_max" ]; then
    read -r ds dm < <(runs_of duckdb "$py" scripts/flag-duckdb.py "$home" 2026-10 --json \
      --compare "$home/flags/month=2026-10/flags.parquet")
    ratio=$(echo "scale=2; $ds / $fs" | bc)
    echo "$n: DuckDB $ds s (peak $dm MiB), same flags" >&2
  fi
  cs="—"; cm="—"; rs="—"; rm="—"; spark="—"
  if on compensation; then
    read -r cs cm < <(runs_of comp "$k" --home "$home" --quiet compensation --month 2026-10 --out "$work/comp-$n")
  fi
  if on report; then
    read -r rs rm < <(runs_of report "$k" --home "$home" --quiet report --from 2026-10-01 --to 2026-10-31 --by carrier)
  fi
  echo "$n: compensation $cs s, report $rs s" >&2
  if on spark && [ "$n" -le "$spark_max" ] && "$py" -c "import pyspark" 2>/dev/null; then
    "$k" --home "$home" --json compensation --month 2026-10 --out "$work/comp-$n" >"$work/comp.json" 2>/dev/null
    /usr/bin/time -f "%e" -o "$work/time" "$py" scripts/spark-month.py "$home" 2026-10 \
      --compare "$work/comp.json" 2>"$work/spark.err" >/dev/null \
      || { grep -v WARN "$work/spark.err" >&2; exit 1; }
    spark="totals equal, $(cat "$work/time") s"
    echo "$n: Spark SQL: $(tail -1 "$work/spark.err")" >&2
    /usr/bin/time -f "%e" -o "$work/time" "$py" scripts/flag-spark.py "$home" 2026-10 \
      --compare "$home/flags/month=2026-10/flags.parquet" 2>"$work/spark.err" >/dev/null \
      || { grep -v WARN "$work/spark.err" >&2; exit 1; }
    spark="$spark; flags equal, $(cat "$work/time") s"
    echo "$n: Spark SQL: $(grep 'Spark and kartka' "$work/spark.err" | tail -1)" >&2
  fi
  rows+=("| $n | $gs s, $gm MiB | $fs s, $fm MiB | $ds s, $dm MiB | $ratio | $cs s, $cm MiB | $rs s, $rm MiB | $spark |")
  rm -rf "$home" "$work/gen-$n" "$work/comp-$n"
done
echo "| taps | generate --format store | taps flag (median) | DuckDB, same rules | DuckDB / kartka | compensation | report --by carrier | on Spark SQL |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
