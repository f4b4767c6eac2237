//! `kartka compensation` (issue 8) on a generated month stored in a real
//! home: the totals rebuilt independently by a plain fold over the Parquet
//! files, the flags file and the registry, to the kopeck; the workbooks
//! read back with calamine (the formulas' stored values); Kyiv days at the
//! month's edges; a tariff change mid-month and a carrier's own fare; a
//! held tap then cleared; the bad-input paths.

use std::collections::{BTreeMap, BTreeSet};

use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use crate::common::Home;
use crate::common::month::{flagged_month, fold};

const MONTH: &str = "2026-10";

/// The cached value of a cell, as a number.
fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// The row whose first cell is `label`, from a sheet.
fn row_of(path: &std::path::Path, sheet: &str, label: &str) -> Vec<Data> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range
        .rows()
        .find(|r| {
            r.first()
                .is_some_and(|c| matches!(c, Data::String(s) if s == label))
        })
        .unwrap_or_else(|| panic!("{sheet}: no row {label}"))
        .to_vec()
}

/// The flag ids of the taps a single rule flagged, with that rule.
fn one_rule_taps(flags: &DataFrame) -> Vec<(String, String)> {
    let ids = flags.column("flag_id").unwrap().str().unwrap();
    let rules = flags.column("rule").unwrap().str().unwrap();
    let mut of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, rule) in ids.iter().zip(rules.iter()) {
        of.entry(id.unwrap().to_string())
            .or_default()
            .push(rule.unwrap().to_string());
    }
    of.into_iter()
        .filter(|(_, r)| r.len() == 1)
        .map(|(id, mut r)| (id, r.remove(0)))
        .collect()
}

/// Only a rule that holds withholds money: a tap flagged for review only is
/// paid; an analyst's hold (`taps hold`, recorded with who, when and why)
/// makes it unpaid, and a later clearing pays it again. Each time the
/// compensation matches the independent fold, and a hold of an unknown
/// id, without a reason or of a rule not on the tap records nothing.
#[test]
fn a_tap_for_review_is_paid_until_an_analyst_holds_it() {
    let h = flagged_month();
    let compensation = |h: &Home| {
        let out = h.work.join("out");
        let r = h.kartka(&[
            "--json",
            "compensation",
            "--month",
            MONTH,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let j = r.json();
        let f = fold(h);
        assert_eq!(j["held_trips"], f.held);
        assert_eq!(
            j["total_kopecks"],
            f.carriers.values().map(|v| v.1).sum::<i64>()
        );
        j
    };
    let flags = ParquetReader::new(
        std::fs::File::open(h.root.join(format!("flags/month={MONTH}/flags.parquet"))).unwrap(),
    )
    .finish()
    .unwrap();
    let review = crate::common::month::review_rules();
    let singles = one_rule_taps(&flags);
    let (held_id, _) = singles
        .iter()
        .find(|(_, r)| r == "card_blocked")
        .expect("a tap only blocked");
    let (review_id, _) = singles
        .iter()
        .find(|(_, r)| r == "excessive_daily_use")
        .expect("a tap only used too often");
    assert!(review.contains("excessive_daily_use") && !review.contains("card_blocked"));
    let before = compensation(&h);
    // Flagged taps outnumber held ones: those for review only are paid.
    let flagged: BTreeSet<&str> = flags
        .column("flag_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert!((flagged.len() as i64) > before["held_trips"].as_i64().unwrap());
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let held = kartka::flags::store::held(&home, &reg, MONTH).unwrap();
    let key = |id: &str| {
        let (v, s) = kartka::flags::parse_flag_id(id).unwrap();
        (v, s)
    };
    assert!(held.contains(&key(held_id)), "a blocked card's tap is held");
    assert!(!held.contains(&key(review_id)), "a heavy day's tap is paid");
    drop(reg);

    // Bad holds record nothing.
    for (args, message) in [
        (
            vec!["taps", "hold", "F-9999-1", "--reason", "x"],
            "unknown flag id(s): F-9999-1",
        ),
        (
            vec!["taps", "hold", review_id, "--reason", " "],
            "a hold needs a reason",
        ),
        (
            vec![
                "taps",
                "hold",
                review_id,
                "--reason",
                "x",
                "--rule",
                "card_blocked",
            ],
            "rule card_blocked did not flag this tap",
        ),
    ] {
        let r = h.kartka(&args);
        assert_eq!(r.code, 65, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{}", r.stderr);
        assert!(r.stderr.contains("Nothing was held."), "{}", r.stderr);
        assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), 0);
    }
    // A tap a rule holds already is not held twice.
    let r = h.kartka(&["--json", "taps", "hold", held_id, "--reason", "seen"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["already"][0], held_id.as_str());
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), 0);

    // The analyst holds the reviewed case: it is not paid.
    let r = h.kartka(&[
        "--json",
        "taps",
        "hold",
        review_id,
        "--reason",
        "ті самі 9 поїздок щодня, картку передано",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["held"][0], review_id.as_str());
    let (op, why, decision, rules): (String, String, String, String) = h
        .db()
        .query_row(
            "SELECT operator, reason, decision, rules FROM flag_clearings",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (op.as_str(), why.as_str(), decision.as_str(), rules.as_str()),
        (
            "test-clerk",
            "ті самі 9 поїздок щодня, картку передано",
            "hold",
            "excessive_daily_use"
        )
    );
    let after = compensation(&h);
    assert_eq!(
        after["held_trips"].as_i64().unwrap(),
        before["held_trips"].as_i64().unwrap() + 1
    );
    assert_eq!(
        after["total_trips"].as_i64().unwrap(),
        before["total_trips"].as_i64().unwrap() - 1
    );
    assert!(after["total_kopecks"].as_i64().unwrap() < before["total_kopecks"].as_i64().unwrap());
    // The next flag run keeps the hold; the summary counts it held.
    let r = h.kartka(&["--json", "taps", "flag", "--month", MONTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["held"], after["held_trips"]);
    assert_eq!(j["by_rule"]["excessive_daily_use"]["severity"], "review");
    assert_eq!(j["by_rule"]["card_blocked"]["severity"], "hold");
    assert_eq!(
        j["flagged"].as_u64().unwrap(),
        j["held"].as_u64().unwrap()
            + j["review"].as_u64().unwrap()
            + j["cleared"].as_u64().unwrap()
    );
    // Cleared later, it is paid again: the latest decision counts.
    let r = h.kartka(&[
        "taps",
        "clear",
        review_id,
        "--reason",
        "перевірено ще раз: лікарня",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let again = compensation(&h);
    assert_eq!(again["held_trips"], before["held_trips"]);
    assert_eq!(again["total_kopecks"], before["total_kopecks"]);
}

#[test]
fn the_totals_match_an_independent_fold_to_the_kopeck_and_the_workbooks_hold_them() {
    let h = flagged_month();
    let out = h.work.join("out");
    let r = h.kartka(&[
        "--json",
        "compensation",
        "--month",
        MONTH,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let f = fold(&h);
    assert!(f.held > 0, "the planted anomalies hold some taps");
    // Per carrier and per community, trips and kopecks, and the totals.
    // Files and lines name a carrier by its ЄДРПОУ (else its id).
    let db = h.db();
    let by_code: BTreeMap<String, i64> = db
        .prepare("SELECT coalesce(edrpou, id), id FROM carriers")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut got: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for c in j["carriers"].as_array().unwrap() {
        let id = by_code
            .get(c["code"].as_str().unwrap())
            .copied()
            .unwrap_or(-1);
        got.insert(
            id,
            (
                c["trips"].as_i64().unwrap(),
                c["amount_kopecks"].as_i64().unwrap(),
            ),
        );
    }
    assert_eq!(got, f.carriers);
    let total: i64 = f.carriers.values().map(|v| v.1).sum();
    assert_eq!(j["total_kopecks"], total);
    assert_eq!(
        j["total_trips"],
        f.carriers.values().map(|v| v.0).sum::<i64>()
    );
    assert_eq!(j["held_trips"], f.held);
    for c in j["communities"].as_array().unwrap() {
        let code = c["code"].as_str().unwrap();
        let want = f.communities.get(code).copied().unwrap_or_default();
        assert_eq!(
            (
                c["trips"].as_i64().unwrap(),
                c["amount_kopecks"].as_i64().unwrap()
            ),
            want,
            "{code}"
        );
    }
    // Both fares of the change were used, and carrier 2's own.
    let kopecks: BTreeSet<i64> = f
        .carriers
        .iter()
        .map(|(c, v)| if *c == 2 { v.1 % 1750 } else { 0 })
        .collect();
    assert_eq!(kopecks, BTreeSet::from([0]));

    // The city workbook: the grand total's formula holds the total.
    let city = out.join(format!("compensation-{MONTH}-city.xlsx"));
    let row = row_of(&city, "Суми, грн", "Усього");
    let last = row
        .iter()
        .rev()
        .find(|d| !matches!(d, Data::Empty))
        .unwrap();
    assert_eq!((number(last) * 100.0).round() as i64, total);
    let row = row_of(&city, "Поїздки", "Усього");
    let last = row
        .iter()
        .rev()
        .find(|d| !matches!(d, Data::Empty))
        .unwrap();
    assert_eq!(number(last) as i64, j["total_trips"].as_i64().unwrap());
    // A carrier's workbook: its summary total and its days at the month's
    // two Kyiv edges (a UTC day would move the night's taps).
    let first = &j["carriers"][0];
    let path = std::path::PathBuf::from(first["file"].as_str().unwrap());
    let row = row_of(&path, "Підсумок", "Усього до оплати");
    assert_eq!(
        (number(&row[3]) * 100.0).round() as i64,
        first["amount_kopecks"].as_i64().unwrap()
    );
    assert_eq!(number(&row[2]) as i64, first["trips"].as_i64().unwrap());
    let city_days = out.join(format!("compensation-{MONTH}-city.xlsx"));
    assert!(city_days.exists());
    let mut day_sum = BTreeMap::new();
    for c in j["carriers"].as_array().unwrap() {
        let p = std::path::PathBuf::from(c["file"].as_str().unwrap());
        for d in ["01.10.2026", "31.10.2026"] {
            let row = row_of(&p, "По днях, поїздки", d);
            let last = row
                .iter()
                .rev()
                .find(|d| !matches!(d, Data::Empty))
                .unwrap();
            *day_sum.entry(d).or_insert(0i64) += number(last) as i64;
        }
    }
    assert_eq!(
        day_sum["01.10.2026"],
        f.days[&NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()]
    );
    assert_eq!(
        day_sum["31.10.2026"],
        f.days[&NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()]
    );
    // The notes state the rule and the data sources with their hashes.
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let notes = wb.worksheet_range("Примітки").unwrap();
    let text: String = notes
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("P13") && text.contains("P14"), "{text}");
    assert!(text.contains("sha256"), "{text}");
    assert!(text.contains("Тариф з 15.10.2026"), "{text}");

    // A held tap, cleared, is paid at its fare the next time.
    let held = &j["held_trips"];
    let flags = ParquetReader::new(
        std::fs::File::open(h.root.join(format!("flags/month={MONTH}/flags.parquet"))).unwrap(),
    )
    .finish()
    .unwrap();
    // A tap with one rule only, a rule that holds: clearing it makes it
    // paid.
    let id = one_rule_taps(&flags)
        .into_iter()
        .find(|(_, rule)| !crate::common::month::review_rules().contains(rule))
        .unwrap()
        .0;
    let r = h.kartka(&["taps", "clear", &id, "--reason", "checked the bus log"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = h.kartka(&[
        "--json",
        "compensation",
        "--month",
        MONTH,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j2 = r.json();
    assert_eq!(
        j2["held_trips"].as_i64().unwrap(),
        held.as_i64().unwrap() - 1
    );
    assert_eq!(
        j2["total_trips"].as_i64().unwrap(),
        j["total_trips"].as_i64().unwrap() + 1
    );
    let f2 = fold(&h);
    assert_eq!(
        j2["total_kopecks"],
        f2.carriers.values().map(|v| v.1).sum::<i64>()
    );
    assert!(j2["total_kopecks"].as_i64().unwrap() > total);
}

#[test]
fn a_month_not_flagged_stale_flags_and_no_fare_say_what_to_do_and_write_nothing() {
    let h = flagged_month();
    let out = h.work.join("out");
    let o = out.to_str().unwrap();
    let r = h.kartka(&["compensation", "--month", "2026-13", "--out", o]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not YYYY-MM"), "{}", r.stderr);
    let r = h.kartka(&["compensation", "--month", "2026-09", "--out", o]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(r.stderr.contains("no taps"), "{}", r.stderr);
    // No fare in force for October: exit 78, nothing written.
    let config = h.root.join("kartka.toml");
    let good = std::fs::read_to_string(&config).unwrap();
    let bad = good
        .replace(
            "from = \"2026-01-01\"\nfare_kopecks = 1500",
            "from = \"2026-10-20\"\nfare_kopecks = 1500",
        )
        .replace(
            "from = \"2026-01-01\"\nfare_kopecks = 1750",
            "from = \"2026-10-20\"\nfare_kopecks = 1750",
        );
    assert_ne!(bad, good);
    std::fs::write(&config, &bad).unwrap();
    let r = h.kartka(&["compensation", "--month", MONTH, "--out", o]);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(
        r.stderr.contains("no fare in force") && r.stderr.contains("[[tariffs]]"),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing is written when a trip has no fare");
    std::fs::write(&config, &good).unwrap();
    // A tap stored after the flag run (a late vendor export): the flags
    // are stale.
    let (v, vehicle, carrier, routes): (i64, i64, i64, String) = h
        .db()
        .query_row(
            "SELECT v.id, x.id, x.carrier, x.routes FROM validators v JOIN vehicles x ON x.id = v.vehicle ORDER BY v.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    let route = routes.split(',').next().unwrap();
    let card: i64 = h
        .db()
        .query_row("SELECT number FROM cards LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let late = h.work.join("late.csv");
    std::fs::write(
        &late,
        format!(
            "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n{v},{vehicle},{route},{carrier},{card},04A1B2C3,2026-10-20T12:00:00+03:00,1,accepted,99999999\n"
        ),
    )
    .unwrap();
    let r = h.kartka(&["taps", "import", late.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = h.kartka(&["compensation", "--month", MONTH, "--out", o]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("kartka taps flag --month 2026-10"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
    // A home whose month was never flagged.
    let fresh = Home::new();
    let r = fresh.kartka(&[
        "generate",
        "month",
        "--month",
        MONTH,
        "--taps",
        "500",
        "--holders",
        "100",
        "--format",
        "store",
        "--out",
        "gen",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = fresh.kartka(&["compensation", "--month", MONTH, "--out", o]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("Run `kartka taps flag --month 2026-10` first"),
        "{}",
        r.stderr
    );
}

/// A carrier's report as an .xlsx in the documented form.
fn report_xlsx(path: &std::path::Path, rows: &[(i64, NaiveDate, i64, i64)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write(0, 0, "Звіт перевізника за жовтень 2026").unwrap();
    for (c, h) in ["Маршрут", "Дата", "Поїздки", "Сума, грн"]
        .iter()
        .enumerate()
    {
        ws.write(2, c as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("dd.mm.yyyy");
    for (i, (route, day, trips, kopecks)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write(r, 0, *route as f64).unwrap();
        let d = rust_xlsxwriter::ExcelDateTime::from_ymd(
            day.year() as u16,
            day.month() as u8,
            day.day() as u8,
        )
        .unwrap();
        ws.write_datetime_with_format(r, 1, &d, &date).unwrap();
        ws.write(r, 2, *trips as f64).unwrap();
        ws.write(r, 3, *kopecks as f64 / 100.0).unwrap();
    }
    let r = 3 + rows.len() as u32;
    ws.write(r, 0, "Усього").unwrap();
    wb.save(path).unwrap();
}

#[test]
fn a_carriers_report_is_reconciled_by_route_and_day_with_an_exit_status_for_cron() {
    let h = flagged_month();
    let f = fold(&h);
    let (carrier, edrpou): (i64, String) = h
        .db()
        .query_row(
            "SELECT id, edrpou FROM carriers ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let mut rows: Vec<(i64, NaiveDate, i64, i64)> = f
        .route_days
        .iter()
        .filter(|((c, _, _), _)| *c == carrier)
        .map(|((_, r, d), (n, k))| (*r, *d, *n, *k))
        .collect();
    assert!(rows.len() > 20);
    let report = h.work.join("report.xlsx");
    report_xlsx(&report, &rows);
    let out = h.work.join("reconcile.xlsx");
    let args = |report: &std::path::Path| {
        vec![
            "--json".to_string(),
            "reconcile".into(),
            "--month".into(),
            MONTH.into(),
            "--carrier".into(),
            edrpou.clone(),
            "--carrier-report".into(),
            report.display().to_string(),
            "--out".into(),
            out.display().to_string(),
        ]
    };
    let run = |a: Vec<String>| h.kartka(&a.iter().map(String::as_str).collect::<Vec<_>>());
    // The carrier claims what the system counted: they match.
    let r = run(args(&report));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["matches"], true);
    assert_eq!(j["differing"], 0);
    assert_eq!(j["claimed_kopecks"], j["counted_kopecks"]);
    let total: i64 = rows.iter().map(|r| r.3).sum();
    assert_eq!(j["counted_kopecks"], total);
    // It claims 3 trips more on one day and a day it has no trips on.
    rows[5].2 += 3;
    rows[5].3 += 3 * 1500;
    let (route, _, _, _) = rows[0];
    let missing_day = (1..=31)
        .map(|d| NaiveDate::from_ymd_opt(2026, 10, d).unwrap())
        .find(|d| !rows.iter().any(|r| r.0 == route && r.1 == *d));
    if let Some(d) = missing_day {
        rows.push((route, d, 2, 3000));
    } else {
        rows[0].2 += 2;
        rows[0].3 += 3000;
    }
    report_xlsx(&report, &rows);
    let r = run(args(&report));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("DOES NOT MATCH"), "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["matches"], false);
    assert_eq!(j["differing"], 2);
    assert_eq!(
        j["claimed_trips"].as_i64().unwrap() - j["counted_trips"].as_i64().unwrap(),
        5
    );
    assert_eq!(j["lines"].as_array().unwrap().len(), 2);
    // The workbook lists the two route-days; its total difference is the formula's value.
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let diff = wb.worksheet_range("Розбіжності").unwrap();
    assert_eq!(diff.height(), 1 + 2 + 1, "header, two route-days, total");
    let row = row_of(&out, "Розбіжності", "Усього");
    assert_eq!(number(&row[5]) as i64, 5);
    assert_eq!((number(&row[8]) * 100.0).round() as i64, 3 * 1500 + 3000);
    // Within a configured tolerance of 3 trips per route-day and 7500
    // kopecks it matches... but the month's 5 trips are over it.
    let config = h.root.join("kartka.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "tolerance_trips = 0\ntolerance_kopecks = 0",
            "tolerance_trips = 5\ntolerance_kopecks = 7500",
        ),
    )
    .unwrap();
    let r = run(args(&report));
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The same report as a clerk's CSV with Ukrainian amounts.
    let mut csv = String::from("Маршрут;Дата;Поїздки;Сума, грн\n");
    for (route, d, n, k) in &rows {
        csv.push_str(&format!(
            "{route};{};{n};{},{:02}\n",
            d.format("%d.%m.%Y"),
            k / 100,
            k % 100
        ));
    }
    csv.push_str("Разом;;;\n");
    let csv_path = h.work.join("report.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let r = run(args(&csv_path));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["claimed_kopecks"], j["claimed_kopecks"]);
}

#[test]
fn a_bad_report_or_carrier_is_refused_with_every_problem_named_and_nothing_written() {
    let h = flagged_month();
    let out = h.work.join("reconcile.xlsx");
    let o = out.to_str().unwrap();
    let edrpou: String = h
        .db()
        .query_row("SELECT edrpou FROM carriers ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let bad = crate::common::repo().join("fixtures/compensation/carrier-report-bad.csv");
    let b = bad.to_str().unwrap();
    let r = h.kartka(&[
        "reconcile",
        "--month",
        MONTH,
        "--carrier",
        &edrpou,
        "--carrier-report",
        b,
        "--out",
        o,
    ]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    for want in [
        "3 problem(s)",
        "row 3, column B",
        "outside 2026-10",
        "row 4, column C",
        "not a whole number",
        "row 5: route 7 on 02.10.2026 is already on row 2",
        "nothing was compared",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
    assert!(!out.exists());
    let none = crate::common::repo().join("fixtures/compensation/no-header.csv");
    let r = h.kartka(&[
        "reconcile",
        "--month",
        MONTH,
        "--carrier",
        &edrpou,
        "--carrier-report",
        none.to_str().unwrap(),
        "--out",
        o,
    ]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("no header row"), "{}", r.stderr);
    let r = h.kartka(&[
        "reconcile",
        "--month",
        MONTH,
        "--carrier",
        "99999999",
        "--carrier-report",
        b,
        "--out",
        o,
    ]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("not in the fleet"), "{}", r.stderr);
    let r = h.kartka(&[
        "reconcile",
        "--month",
        MONTH,
        "--carrier",
        &edrpou,
        "--carrier-report",
        "nowhere.xlsx",
        "--out",
        o,
    ]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(r.stderr.contains("no such file"), "{}", r.stderr);
    assert!(!out.exists());
}

/// The test's own reading of the zone and carrier tariffs below.
fn zoned_fare(carrier: Option<i64>, zone: Option<i64>, day: NaiveDate) -> i64 {
    let d = |n| NaiveDate::from_ymd_opt(2026, 10, n).unwrap();
    match (carrier, zone) {
        // The carrier's own fare in zone 2 is the most specific.
        (Some(1), Some(2)) if day >= d(20) => 3100,
        (_, Some(2)) if day >= d(20) => 2900,
        (_, Some(2)) => 2600,
        (Some(2), _) => 1750,
        _ if day >= d(15) => 2000,
        _ => 1500,
    }
}

/// Every number a held tap could be priced by in one place: the review
/// workbook's held amount, the flag run, the compensation workbooks and
/// JSON, `report --by carrier` and an independent fold, with carrier- and
/// zone-specific tariffs and changes in the middle of the month.
#[test]
fn held_and_paid_amounts_agree_to_the_kopeck_in_every_output() {
    let h = Home::new();
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(concat!(
        "\n[[tariffs]]\nfrom = \"2026-10-15\"\nfare_kopecks = 2000\n",
        "\n[[tariffs]]\nfrom = \"2026-01-01\"\nfare_kopecks = 1750\ncarriers = [2]\n",
        "\n[[tariffs]]\nfrom = \"2026-01-01\"\nfare_kopecks = 2600\nzones = [2]\n",
        "\n[[tariffs]]\nfrom = \"2026-10-20\"\nfare_kopecks = 2900\nzones = [2]\n",
        "\n[[tariffs]]\nfrom = \"2026-10-20\"\nfare_kopecks = 3100\ncarriers = [1]\nzones = [2]\n",
    ));
    std::fs::write(&config, text).unwrap();
    // Four routes: the fourth (carrier 1) runs in zone 2.
    ok_run(h.line(&format!(
        "generate month --month {MONTH} --taps 20000 --holders 1000 --validators 12 \
         --vehicles 8 --routes 4 --carriers 3 --anomalies 0.04 --format store --out gen"
    )));
    let run = ok_run(h.line(&format!(
        "--json taps flag --month {MONTH} --out review.xlsx"
    )))
    .json();

    // The independent fold: every held tap of the flags file (a rule that
    // holds flagged it), priced by the test's reading of the tariffs, by
    // carrier.
    let flags = ParquetReader::new(
        std::fs::File::open(h.root.join(format!("flags/month={MONTH}/flags.parquet"))).unwrap(),
    )
    .finish()
    .unwrap();
    let col = |n: &str| {
        flags
            .column(n)
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .clone()
    };
    let (v, s, t, carrier, zone) = (
        col("validator_id"),
        col("seq"),
        col("tapped_at"),
        col("carrier_id"),
        col("tariff_zone"),
    );
    let rule = flags.column("rule").unwrap().str().unwrap().clone();
    let review = crate::common::month::review_rules();
    let mut held: BTreeMap<(i64, i64), (Option<i64>, i64)> = BTreeMap::new();
    for i in 0..flags.height() {
        if review.contains(rule.get(i).unwrap()) {
            continue;
        }
        let day = chrono::DateTime::from_timestamp_millis(t.get(i).unwrap())
            .unwrap()
            .with_timezone(&chrono_tz::Europe::Kyiv)
            .date_naive();
        held.insert(
            (v.get(i).unwrap(), s.get(i).unwrap()),
            (carrier.get(i), zoned_fare(carrier.get(i), zone.get(i), day)),
        );
    }
    let mut want: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for (c, fare) in held.values() {
        let e = want.entry(c.unwrap_or(-1)).or_default();
        e.0 += 1;
        e.1 += fare;
    }
    let zone2_held = (0..flags.height()).any(|i| zone.get(i) == Some(2));
    assert!(zone2_held, "some held taps are in zone 2");
    let want_total: i64 = want.values().map(|w| w.1).sum();
    assert!(want.contains_key(&2), "carrier 2 has held taps: {want:?}");

    // The flag run and the review workbook.
    assert_eq!(run["held_kopecks"], want_total, "{run}");
    let review = h.work.join("review.xlsx");
    let mut wb: Xlsx<_> = open_workbook(&review).unwrap();
    let mut in_review = None;
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        for row in range.rows() {
            if row.iter().any(
                |c| matches!(c, Data::String(s) if s.starts_with("Одна валідація може порушити")),
            ) {
                in_review = Some((number(&row[8]) * 100.0).round() as i64);
            }
        }
    }
    assert_eq!(
        in_review,
        Some(want_total),
        "the review workbook's held amount"
    );

    // Compensation, per carrier, held and paid.
    let out = h.work.join("out");
    let comp = ok_run(h.kartka(&[
        "--json",
        "compensation",
        "--month",
        MONTH,
        "--out",
        out.to_str().unwrap(),
    ]))
    .json();
    assert_eq!(comp["held_kopecks"], want_total, "{comp}");
    let by_code: BTreeMap<String, i64> = h
        .db()
        .prepare("SELECT coalesce(edrpou, id), id FROM carriers")
        .unwrap()
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let mut paid: BTreeMap<i64, i64> = BTreeMap::new();
    for c in comp["carriers"].as_array().unwrap() {
        let id = by_code[c["code"].as_str().unwrap()];
        let (trips, kopecks) = want.get(&id).copied().unwrap_or_default();
        assert_eq!(c["held_trips"], trips, "carrier {id}");
        assert_eq!(c["held_kopecks"], kopecks, "carrier {id}");
        paid.insert(id, c["amount_kopecks"].as_i64().unwrap());
        // The carrier's own workbook says the same, and its held list sums
        // to it.
        let path = std::path::PathBuf::from(c["file"].as_str().unwrap());
        let row = row_of(&path, "Підсумок", "Утримано позначками (не оплачується)");
        assert_eq!(
            (number(&row[3]) * 100.0).round() as i64,
            kopecks,
            "{path:?}"
        );
        let row = row_of(&path, "Підсумок", "Усього до оплати");
        assert_eq!(
            (number(&row[3]) * 100.0).round() as i64,
            c["amount_kopecks"].as_i64().unwrap()
        );
    }

    // `report --by carrier`: the same held and paid amounts.
    let rep = ok_run(h.kartka(&[
        "--json",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "carrier",
    ]))
    .json();
    assert_eq!(rep["held_kopecks"], want_total, "{rep}");
    for r in rep["rows"].as_array().unwrap() {
        let id: i64 = r["key"].as_str().unwrap().parse().unwrap();
        let (trips, kopecks) = want.get(&id).copied().unwrap_or_default();
        assert_eq!(r["held"], trips, "carrier {id}");
        assert_eq!(r["held_kopecks"], kopecks, "carrier {id}");
        assert_eq!(r["amount_kopecks"], paid[&id], "carrier {id}");
    }
    assert_eq!(rep["amount_kopecks"], comp["total_kopecks"]);
}

fn ok_run(r: crate::common::Run) -> crate::common::Run {
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

/// A carrier's workbook printed to PDF through LibreOffice, as an
/// accountant would: every category name on its pages is whole.
#[test]
fn a_carrier_workbook_printed_through_libreoffice_cuts_no_name_short() {
    let Some(soffice) = crate::common::soffice() else {
        eprintln!("soffice not installed: skipped");
        return;
    };
    let h = flagged_month();
    let out = h.work.join("out");
    let j = h
        .kartka(&[
            "--json",
            "compensation",
            "--month",
            MONTH,
            "--out",
            out.to_str().unwrap(),
        ])
        .json();
    let book = std::path::PathBuf::from(j["carriers"][0]["file"].as_str().unwrap());
    let names: Vec<String> = kartka::config::Config::default_config()
        .categories
        .iter()
        .map(|c| c.name.clone())
        .collect();
    // The category names the workbook holds.
    let mut wb: Xlsx<_> = open_workbook(&book).unwrap();
    let mut held: BTreeSet<String> = BTreeSet::new();
    for sheet in wb.sheet_names() {
        for row in wb.worksheet_range(&sheet).unwrap().rows() {
            for c in row {
                if let Data::String(s) = c
                    && names.contains(s)
                {
                    held.insert(s.clone());
                }
            }
        }
    }
    assert!(
        held.iter().any(|n| n.chars().count() >= 20),
        "a long category name is in the workbook: {held:?}"
    );
    let text = crate::common::pdf_text(&soffice, &book, &h.work);
    for name in &held {
        assert!(
            text.contains(name.as_str()),
            "{name:?} is cut short on paper"
        );
    }
}

/// The step past one machine (docs/scale.md): the month's money on Spark
/// SQL over the same Hive-partitioned store, the same flags file less a
/// clearing, and the same tariffs (a mid-month change, a carrier's fare,
/// zones): the same totals, per carrier and per community, to the kopeck;
/// a compensation summary that differs is caught.
#[test]
fn spark_sql_over_the_same_store_pays_the_same_kopecks() {
    let Some(python) = crate::common::python_with_spark("the Spark SQL check") else {
        return;
    };
    let h = Home::new();
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(concat!(
        "\n[[tariffs]]\nfrom = \"2026-10-15\"\nfare_kopecks = 2000\n",
        "\n[[tariffs]]\nfrom = \"2026-01-01\"\nfare_kopecks = 1750\ncarriers = [2]\n",
        "\n[[tariffs]]\nfrom = \"2026-10-20\"\nfare_kopecks = 3100\ncarriers = [1]\nzones = [2]\n",
    ));
    std::fs::write(&config, text).unwrap();
    ok_run(h.line(&format!(
        "generate month --month {MONTH} --taps 20000 --holders 1000 --validators 12 \
         --vehicles 8 --routes 4 --carriers 3 --anomalies 0.04 --format store --out gen"
    )));
    let run = ok_run(h.line(&format!("--json taps flag --month {MONTH}"))).json();
    assert!(run["held"].as_i64().unwrap() > 0, "{run}");
    // One held tap cleared: Spark must read the clearings too.
    let flags = ParquetReader::new(
        std::fs::File::open(h.root.join(format!("flags/month={MONTH}/flags.parquet"))).unwrap(),
    )
    .finish()
    .unwrap();
    let id = |n: &str| {
        flags
            .column(n)
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap()
    };
    let flag_id = format!("F-{}-{}", id("validator_id"), id("seq"));
    ok_run(h.kartka(&["taps", "clear", &flag_id, "--reason", "перевірено"]));
    let out = h.kartka(&["--json", "compensation", "--month", MONTH, "--out", "comp"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let summary = h.root.join("comp.json");
    std::fs::write(&summary, &out.stdout).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/spark-month.py");
    let spark = |compare: &std::path::Path| {
        std::process::Command::new(&python)
            .arg(script)
            .arg(&h.root)
            .arg(MONTH)
            .arg("--compare")
            .arg(compare)
            .env("SPARK_DRIVER_MEMORY", "1g")
            .output()
            .unwrap()
    };
    let agreed = spark(&summary);
    let stderr = String::from_utf8_lossy(&agreed.stderr);
    assert!(agreed.status.success(), "{stderr}");
    let j = out.json();
    assert!(
        stderr.contains(&format!(
            "Spark and kartka agree: {} accepted taps, {} trips paid ({} kop.)",
            j["accepted"], j["total_trips"], j["total_kopecks"]
        )),
        "{stderr}"
    );
    // A summary one kopeck off is a difference, named.
    let mut off = j.clone();
    off["total_kopecks"] = serde_json::json!(j["total_kopecks"].as_i64().unwrap() + 1);
    let wrong = h.root.join("comp-off.json");
    std::fs::write(&wrong, off.to_string()).unwrap();
    let differed = spark(&wrong);
    let stderr = String::from_utf8_lossy(&differed.stderr);
    assert_eq!(differed.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Spark and kartka differ") && stderr.contains("total_kopecks: kartka"),
        "{stderr}"
    );
}
