#!/usr/bin/env bash
# The demo month on the fixtures, into a temporary home: what a new user runs
# first (README, "Set-up"). Prints where every output is.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
# One build of the whole workspace's programs, with the workspace's one
# feature set (Cargo.toml unifies the test build's features too), so the
# README's second command, `cargo test --workspace`, compiles no crate again.
cargo build --quiet --workspace --bins
bin="${CARGO_TARGET_DIR:-$repo/target}/debug/kartka"
sim="${CARGO_TARGET_DIR:-$repo/target}/debug/kartka-sim"

work="$(mktemp -d "${TMPDIR:-/tmp}/kartka-demo.XXXXXX")"
cp -r fixtures "$work/"
export KARTKA_HOME="$work/home"
# Identity is the OS user running kartka (issue 9); init makes it the admin.
cd "$work"

echo "== kartka init"
"$bin" init
echo
echo "== kartka import applicants (the month's applications: office workbook, partner CSV and ODS, legacy XLS)"
# Exit 0 even with rejected rows: they are in the rejects file.
"$bin" import applicants fixtures/applicants/office-2026-10.xlsx fixtures/applicants/terniv-2026-10.csv \
  fixtures/applicants/verbky-2026-10.ods fixtures/applicants/legacy-2025.xls
echo
echo "== a new office's workbook, headed with the order's own field names: first what kartka makes of it, then the import"
"$bin" import applicants --columns fixtures/intake/order-2026-11.xlsx
"$bin" --quiet import applicants fixtures/intake/order-2026-11.xlsx
echo "   (every value not written as configured is in fixtures/intake/order-2026-11.warnings.csv, with what it was taken as)"
echo
echo "== kartka import applicants, again: nothing changes"
"$bin" --json import applicants fixtures/applicants/office-2026-10.xlsx fixtures/applicants/terniv-2026-10.csv \
  fixtures/applicants/verbky-2026-10.ods fixtures/applicants/legacy-2025.xls --quiet
echo
echo "== kartka eligibility (who may ride free, as of the 1st of this month)"
as_of="$(date +%Y-%m-01)"
"$bin" eligibility --as-of "$as_of" --out "$work/decisions.xlsx" --purpose "the demo: decisions for the head of office"
echo
echo "== kartka cards issue (a card for every eligible person)"
"$bin" cards issue
echo
echo "== kartka cards print-job (the card printer's batch; the UIDs of box 7 of blank cards)"
"$bin" cards print-job --purpose "the demo: print run" --out "$work/print-job-1" --uids fixtures/cards/stock-uids.txt
echo
echo "== the printer reports the batch done; a card is handed over, lost, blocked and reissued (P8)"
"$bin" cards printed --job 1
# The second card of the printed batch (cards.csv: the number first).
card="$(awk -F, 'NR == 3 { print $1 }' "$work/print-job-1/cards.csv")"
"$bin" cards hand-over "$card"
"$bin" cards block "$card" --reason lost
"$bin" cards reissue "$card" --receipt DEMO-0.0.3456789.1
echo
echo "== kartka cards blocklist (for the dock to push to validators)"
"$bin" cards blocklist
echo
echo "== kartka cards image / inspect (a card's chip as a Proxmark3 dump, explained: keys by NXP AN10922, registry, blocklist)"
live="$(awk -F, 'NR == 2 { print $1 }' "$work/print-job-1/cards.csv")"
"$bin" cards image "$live" --out "$work/card-$live.json"
"$bin" cards inspect "$work/card-$live.json"
"$bin" --quiet cards image "$card" --format eml --out "$work/card-$card.eml"
"$bin" cards inspect "$work/card-$card.eml" || echo "   (exit $?: the lost card is on the blocklist)"
echo
echo "== kartka fleet import (the carriers, vehicles and validators)"
"$bin" fleet import fixtures/fleet/fleet.csv
echo
echo "== a validator on bus 1012 (kartka-sim: the real firmware core, simulated reader and flash)"
"$sim" serve --state "$work/validator-7" --validator 7 --vehicle 1012 --route 5 \
  --generate 2000 --cards 300 --start "$(date +%Y-%m-01)T06:00:00+03:00" --no-serve
"$sim" figures --taps 50000 --baud 115200
echo
echo "== kartka dock (the validator on a pseudo-terminal: taps up; clock, blocklist, settings down)"
KARTKA_DOCK_MASTER="$(cat "$KARTKA_HOME/keys/dock-master.key")" \
  "$sim" serve --state "$work/validator-7" --idle-exit 20 >"$work/validator-7.port" 2>/dev/null &
for _ in $(seq 50); do [ -s "$work/validator-7.port" ] && break; sleep 0.1; done
"$bin" dock --port "$(head -1 "$work/validator-7.port")"
echo "   docked again: nothing new, nothing twice"
"$bin" dock --port "$(head -1 "$work/validator-7.port")"
kill %1 2>/dev/null || true
echo
echo "== kartka taps import (a migrating city's vendor export; bad rows to a rejects file)"
"$bin" taps import fixtures/taps/vendor-2026-09.csv
echo
echo "== kartka generate month (a synthetic month of a small city, 200,000 taps with planted anomalies) into a second home"
"$bin" --home "$work/city" --quiet init
# Last month: a month still running has taps dated in the future.
month=$(date -d "$(date +%Y-%m-01) -1 day" +%Y-%m)
"$bin" --home "$work/city" generate month --month "$month" --taps 200000 --holders 20000 \
  --validators 40 --vehicles 25 --routes 6 --carriers 3 --format store --out "$work/month"
"$bin" --home "$work/city" taps months
echo
echo "== kartka taps flag on a fleet sheet that lacks route 6 (carrier 3 took it over; the sheet was not updated):"
echo "   configuration suspects, not fraud; the review workbook opens on them"
awk -F, -v OFS=, 'NR > 1 && $7 == "6" { $7 = "3" } { print }' "$work/month/fleet.csv" >"$work/fleet-without-route-6.csv"
"$bin" --home "$work/city" fleet import "$work/fleet-without-route-6.csv"
"$bin" --home "$work/city" taps flag --month "$month" --out "$work/flags-fleet-fault.xlsx"
echo
echo "== the fleet sheet put right and the month flagged again (every rule; the review workbook in Ukrainian): the suspects' taps are released"
"$bin" --home "$work/city" fleet import "$work/month/fleet.csv"
"$bin" --home "$work/city" taps flag --month "$month" --out "$work/flags.xlsx"
first=$(awk -F, 'NR==2 {print $1}' <("$bin" --home "$work/city" --quiet taps flag --month "$month" --out "$work/flags.csv"; cat "$work/flags.csv"))
echo "   clearing $first as a false positive (recorded with operator and reason; it is paid):"
"$bin" --home "$work/city" taps clear "$first" --reason "demo: checked with the carrier"
echo
echo "== kartka compensation (workbooks per carrier, per community and the city, in Ukrainian)"
"$bin" --home "$work/city" compensation --month "$month" --out "$work/compensation"
echo
echo "== kartka reconcile (carrier 1's report has one day only: every route-day it leaves out differs, exit 1 for cron)"
printf 'Маршрут;Дата;Поїздки;Сума, грн\n1;01.%s.%s;3;45,00\n' "${month#*-}" "${month%-*}" >"$work/carrier-report.csv"
"$bin" --home "$work/city" reconcile --month "$month" --carrier 1 \
  --carrier-report "$work/carrier-report.csv" --out "$work/reconcile.xlsx" || echo "   (exit $?: the report differs; see $work/reconcile.xlsx)"
echo
echo "== kartka report (validations by community for the month: residents carried, P18) and a carrier's account"
"$bin" --home "$work/city" report --from "$month-01" --to "$(date -d "$month-01 +1 month -1 day" +%F)" \
  --by community --out "$work/report-communities.xlsx"
"$bin" --home "$work/city" accounts add demo-carrier --role carrier --carrier 1
echo "   the carrier's own view (its routes only; no names):"
SUDO_USER=demo-carrier "$bin" --home "$work/city" report --from "$month-01" \
  --to "$(date -d "$month-01 +1 month -1 day" +%F)" --by route
echo "   the carrier asks for a card's holder: refused (77), and the attempt is in the audit trail:"
SUDO_USER=demo-carrier "$bin" --home "$work/city" cards list --purpose "curious" || echo "   (exit $?)"
echo
echo "== kartka audit (who looked at personal data, and why: a hash chain, verified)"
"$bin" --home "$work/city" audit log
"$bin" --home "$work/city" audit verify
echo
echo "== kartka backup (a consistent, incremental copy; verified; restored into a new home)"
"$bin" backup "$work/backup"
"$bin" backup verify "$work/backup"
"$bin" restore "$work/backup" --home "$work/restored"
echo
echo "== kartka budget (the year's free-travel budget: actual, forecast with its intervals, the approved plan; K3)"
printf '\n[[budget]]\nyear = %s\namount_kopecks = 3000000000\napproved = "%s-01-15"\n' "${month%-*}" "${month%-*}" >>"$work/city/kartka.toml"
"$bin" --home "$work/city" budget --year "${month%-*}" --as-of "$month" --out "$work/budget.xlsx"
echo
echo "== kartka open-data (the month as open data: small numbers withheld, signed; K6) and its verification"
last_day="$(date -d "$month-01 +1 month -1 day" +%F)"
"$bin" --home "$work/city" open-data --from "$month-01" --to "$last_day" --out "$work/open-data"
"$bin" open-data verify "$work/open-data" --key "$work/city/keys/open-data-signing.pub"
echo
echo "== kartka status"
"$bin" status
echo
echo "Outputs:"
echo "  home (registry.sqlite, kartka.toml, photos/): $KARTKA_HOME"
echo "  rejected rows with reasons:                   $work/fixtures/applicants/office-2026-10.rejects.csv"
echo "  decisions workbook (Ukrainian):               $work/decisions.xlsx"
echo "  print job (cards.csv, photos/, barcodes/, proof.pdf, encoding.json): $work/print-job-1/"
echo "  blocklist (.kbl for the dock, .csv):          $KARTKA_HOME/exports/blocklist.kbl"
echo "  validator 7's flash (tap log, settings):      $work/validator-7/"
echo "  the tap store (Parquet by month):             $KARTKA_HOME/taps/"
echo "  raw dumps as received:                        $KARTKA_HOME/dumps/"
echo "  synthetic month (fleet, cards, ground truth): $work/month/ (stored in the home $work/city)"
echo "  suspicious taps, review workbook:             $work/flags.xlsx (and $work/flags.csv)"
echo "  the same on the fleet sheet without route 6:   $work/flags-fleet-fault.xlsx (opens on the configuration suspects)"
echo "  the year's benefit budget, with charts:        $work/budget.xlsx"
echo "  the month's open data (CSV, Parquet, signed):  $work/open-data/ (public key: $work/city/keys/open-data-signing.pub)"
echo "  a card's chip as a Proxmark3 dump:             $work/card-$live.json"
echo "  compensation workbooks:                       $(ls "$work"/compensation/*.xlsx | tr '\n' ' ')"
echo "  a carrier report's reconciliation:            $work/reconcile.xlsx"
echo "  validations by community (P18):               $work/report-communities.xlsx"
echo "  a backup, and the home restored from it:      $work/backup/ → $work/restored/"
echo "    serve its dock on a pseudo-terminal with:   $sim serve --state $work/validator-7"
echo "Remove it all with: rm -rf $work"
