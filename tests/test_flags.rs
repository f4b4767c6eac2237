//! `kartka taps flag`, `clear` and `review` (issue 7), on generated months
//! stored in a real home: precision and recall of every rule against the
//! ground truth, clearings that survive a re-run, the review workbook round
//! trip, and the bad-input paths.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::common::Home;

/// A home with a generated October (planted anomalies, a trip limit of 60
/// for every category) in its store.
fn month(taps: &str, anomalies: &str) -> Home {
    let h = Home::new();
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[flags.trip_limits]]\ncategory = \"*\"\nper_month = 60\n");
    std::fs::write(&config, text).unwrap();
    let r = h.kartka(&[
        "generate",
        "month",
        "--month",
        "2026-10",
        "--taps",
        taps,
        "--holders",
        "6000",
        "--validators",
        "30",
        "--vehicles",
        "20",
        "--routes",
        "5",
        "--carriers",
        "2",
        "--anomalies",
        anomalies,
        "--format",
        "store",
        "--out",
        "gen",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    h
}

/// (validator, seq, rule) rows of a flags Parquet file.
fn flag_rows(path: &std::path::Path) -> Vec<(i64, i64, String)> {
    let df = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let v = df.column("validator_id").unwrap().i32().unwrap().to_vec();
    let s = df.column("seq").unwrap().i64().unwrap().to_vec();
    let r: Vec<String> = df
        .column("rule")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|x| x.unwrap().to_string())
        .collect();
    (0..df.height())
        .map(|i| (i64::from(v[i].unwrap()), s[i].unwrap(), r[i].clone()))
        .collect()
}

fn truth(h: &Home) -> BTreeMap<String, BTreeSet<(i64, i64)>> {
    let text = std::fs::read_to_string(h.work.join("gen/ground-truth.csv")).unwrap();
    let mut out: BTreeMap<String, BTreeSet<(i64, i64)>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        out.entry(f[3].to_string())
            .or_default()
            .insert((f[0].parse().unwrap(), f[1].parse().unwrap()));
    }
    out
}

#[test]
fn every_rule_finds_its_planted_taps_with_precision_and_recall_of_at_least_095() {
    let h = month("200000", "0.03");
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let flags = flag_rows(&h.root.join("flags/month=2026-10/flags.parquet"));
    let truth = truth(&h);
    // Every pattern was planted, each is a rule code.
    assert_eq!(
        truth.len(),
        kartka::generate::month::PATTERNS.len(),
        "{:?}",
        truth.keys()
    );
    let mut flagged: BTreeMap<String, BTreeSet<(i64, i64)>> = BTreeMap::new();
    for (v, s, rule) in &flags {
        flagged.entry(rule.clone()).or_default().insert((*v, *s));
    }
    let mut report = Vec::new();
    for (rule, planted) in &truth {
        let got = flagged.get(rule).cloned().unwrap_or_default();
        let tp = planted.intersection(&got).count() as f64;
        let precision = tp / got.len().max(1) as f64;
        let recall = tp / planted.len() as f64;
        report.push(format!(
            "{rule}: planted {} flagged {} precision {precision:.4} recall {recall:.4}",
            planted.len(),
            got.len()
        ));
        assert!(precision >= 0.95 && recall >= 0.95, "{}", report.join("\n"));
        assert_eq!(j["by_rule"][rule]["taps"], got.len(), "{rule}");
    }
    // Rules nothing was planted for flag nothing.
    for rule in flagged.keys() {
        assert!(truth.contains_key(rule), "{rule} fired on honest taps");
    }
    println!("{}", report.join("\n"));
    // The summary counts each tap once and prices what it holds: the taps a
    // rule that holds flagged; the others are for review, and paid.
    let taps: BTreeSet<(i64, i64)> = flags.iter().map(|f| (f.0, f.1)).collect();
    let review = crate::common::month::review_rules();
    let held: BTreeSet<(i64, i64)> = flags
        .iter()
        .filter(|f| !review.contains(&f.2))
        .map(|f| (f.0, f.1))
        .collect();
    assert!(held.len() < taps.len() && !held.is_empty());
    assert_eq!(j["flagged"], taps.len());
    assert_eq!(j["held"], held.len());
    assert_eq!(j["review"], taps.len() - held.len());
    assert_eq!(j["held_kopecks"], held.len() as i64 * 1500);
    assert_eq!(j["review_kopecks"], (taps.len() - held.len()) as i64 * 1500);
    for rule in kartka::flags::rule::ALL {
        let c = &j["by_rule"][rule.code()];
        let sev = if review.contains(rule.code()) {
            "review"
        } else {
            "hold"
        };
        if rule.code() != "repeat_same_vehicle" {
            assert_eq!(c["severity"], sev, "{}", rule.code());
        }
        let n = c["taps"].as_u64().unwrap();
        let (h, r) = (c["held"].as_u64().unwrap(), c["review"].as_u64().unwrap());
        assert_eq!(
            (h, r),
            if sev == "review" { (0, n) } else { (n, 0) },
            "{}",
            rule.code()
        );
    }
    // The SQL peers split the same taps the same way.
    if let Some(p) = peer_json(&h) {
        assert_eq!(
            (p["held"].clone(), p["review"].clone()),
            (j["held"].clone(), j["review"].clone())
        );
    }
    assert_eq!(j["taps"], h.count("SELECT sum(rows) FROM tap_files"));
    assert_eq!(
        h.count("SELECT count(*) FROM flag_runs WHERE month = '2026-10'"),
        1
    );
    // Judged in slices (memory bounded by the slice), the month gets the
    // same flags, evidence and all.
    let config = h.root.join("kartka.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("taps_per_slice = 12000000", "taps_per_slice = 45000");
    assert!(text.contains("taps_per_slice = 45000"));
    std::fs::write(&config, text).unwrap();
    let file = h.root.join("flags/month=2026-10/flags.parquet");
    let whole = ParquetReader::new(std::fs::File::open(&file).unwrap())
        .finish()
        .unwrap();
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sliced = ParquetReader::new(std::fs::File::open(&file).unwrap())
        .finish()
        .unwrap();
    assert!(sliced.equals_missing(&whole), "{sliced} vs {whole}");
    assert_eq!(r.json()["taps"], j["taps"]);
}

#[test]
fn a_clearing_is_recorded_with_its_operator_and_reason_and_survives_a_rerun() {
    let h = month("30000", "0.03");
    let first = h
        .kartka(&["taps", "flag", "--month", "2026-10", "--json"])
        .json();
    let flags = flag_rows(&h.root.join("flags/month=2026-10/flags.parquet"));
    // A tap only an unknown card's rule flagged: it holds.
    let once = |v: &i64, s: &i64| flags.iter().filter(|f| (f.0, f.1) == (*v, *s)).count() == 1;
    let (v, s, _) = flags
        .iter()
        .find(|f| f.2 == "card_unknown" && once(&f.0, &f.1))
        .unwrap();
    let id = format!("F-{v}-{s}");
    let r = h.kartka(&[
        "taps",
        "clear",
        &id,
        "--reason",
        "a tour guide's card, checked",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["cleared"][0], id.as_str());
    let (op, why): (String, String) = h
        .db()
        .query_row("SELECT operator, reason FROM flag_clearings", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(
        (op.as_str(), why.as_str()),
        ("test-clerk", "a tour guide's card, checked")
    );
    // The tap still carries its flag, but it is paid.
    let again = h
        .kartka(&["taps", "flag", "--month", "2026-10", "--json"])
        .json();
    assert_eq!(again["flagged"], first["flagged"]);
    assert_eq!(again["cleared"], 1);
    assert_eq!(again["held"], first["held"].as_u64().unwrap() - 1);
    assert_eq!(
        again["held_kopecks"],
        first["held_kopecks"].as_i64().unwrap() - 1500
    );
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let held = kartka::flags::store::held(&home, &reg, "2026-10").unwrap();
    assert!(!held.contains(&(*v as i32, *s)));
    assert_eq!(held.len() as u64, again["held"].as_u64().unwrap());
    // Clearing it again changes nothing.
    let r = h.kartka(&["taps", "clear", &id, "--reason", "again", "--json"]);
    assert_eq!(r.json()["already"][0], id.as_str());
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), 1);
}

#[test]
fn unknown_flag_ids_and_wrong_rules_clear_nothing() {
    let h = month("30000", "0.03");
    assert_eq!(h.kartka(&["taps", "flag", "--month", "2026-10"]).code, 0);
    let flags = flag_rows(&h.root.join("flags/month=2026-10/flags.parquet"));
    let real = format!("F-{}-{}", flags[0].0, flags[0].1);
    let r = h.kartka(&[
        "taps", "clear", &real, "F-9999-1", "nonsense", "--reason", "x",
    ]);
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("unknown flag id(s): F-9999-1, nonsense"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Nothing was cleared"), "{}", r.stderr);
    let other_rule = if flags[0].2 == "trip_limit" {
        "card_unknown"
    } else {
        "trip_limit"
    };
    let r = h.kartka(&[
        "taps", "clear", &real, "--rule", other_rule, "--reason", "x",
    ]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("did not flag this tap"), "{}", r.stderr);
    let r = h.kartka(&["taps", "clear", &real, "--reason", "  "]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("needs a reason"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), 0);
}

#[test]
fn the_review_workbook_goes_out_and_comes_back_filled_in() {
    use calamine::{Data, Reader, open_workbook_auto};
    let h = month("30000", "0.03");
    let r = h.kartka(&[
        "taps",
        "flag",
        "--month",
        "2026-10",
        "--out",
        "review.xlsx",
        "--with-names",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut book = open_workbook_auto(h.work.join("review.xlsx")).unwrap();
    let names = book.sheet_names().to_owned();
    // It opens on the configuration suspects (none in this month), then
    // the summary.
    assert_eq!(names[0], "Підозри на налаштування");
    assert_eq!(names[1], "Підсумок");
    let first = book.worksheet_range(&names[0]).unwrap();
    assert!(
        first.get_value((0, 0)).is_some_and(|c| c
            .to_string()
            .starts_with("Підозр на помилки налаштувань не знайдено")),
        "{first:?}"
    );
    // The taps for review come next, in their own sheet; a rule that
    // holds has a sheet of its own, a rule for review has none.
    assert_eq!(names[2], "До перевірки");
    assert!(names.iter().any(|n| n == "5 card_unknown"), "{names:?}");
    assert!(
        !names.iter().any(|n| n == "4 excessive_daily_use"),
        "{names:?}"
    );
    // The summary's total is a formula whose stored value is the count.
    let summary = book.worksheet_range("Підсумок").unwrap();
    let total_row = summary
        .rows()
        .find(|r| {
            r.first()
                .is_some_and(|c| c.to_string().starts_with("Усього"))
        })
        .unwrap();
    let flags = flag_rows(&h.root.join("flags/month=2026-10/flags.parquet"));
    assert_eq!(total_row[5], Data::Float(flags.len() as f64));
    let formulas = book.worksheet_formula("Підсумок").unwrap();
    assert!(
        formulas
            .rows()
            .any(|r| r.iter().any(|f| f.starts_with("SUM(F4:F")))
    );
    // A clerk marks two rows of the unknown-card sheet (one without a
    // reason first), in the columns the workbook gave.
    let sheet = book.worksheet_range("5 card_unknown").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(header.contains(&"Власник".to_string()));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .skip(1)
        .take(2)
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let write = |path: &str, reason: &str| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("5 card_unknown").unwrap();
        for (c, name) in header.iter().enumerate() {
            ws.write_string(0, c as u16, name).unwrap();
        }
        for (i, row) in rows.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, col("Ідентифікатор") as u16, &row[col("Ідентифікатор")])
                .unwrap();
            ws.write_string(r, col("Правило") as u16, &row[col("Правило")])
                .unwrap();
            ws.write_string(r, col("Зняти (так/ні)") as u16, "так")
                .unwrap();
            if i == 0 || !reason.is_empty() {
                ws.write_string(r, col("Причина зняття") as u16, "перевірено: екскурсовод")
                    .unwrap();
            }
        }
        wb.save(h.work.join(path)).unwrap();
    };
    write("half.xlsx", "");
    let r = h.kartka(&["taps", "review", "--import", "half.xlsx"]);
    assert_eq!(r.code, 65);
    assert!(
        r.stderr
            .contains("sheet \"5 card_unknown\", row 3: marked to clear but no reason given"),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), 0);
    write("filled.xlsx", "yes");
    let r = h.kartka(&["taps", "review", "--import", "filled.xlsx", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["cleared"].as_array().unwrap().len(), 2);
    assert_eq!(
        h.count("SELECT count(*) FROM flag_clearings WHERE source = 'filled.xlsx' AND rules = 'card_unknown'"),
        2
    );
    review_sheet_holds_and_clears(&h, &mut book);
    // Not a workbook, and a missing file.
    std::fs::write(h.work.join("notes.xlsx"), "hello").unwrap();
    let r = h.kartka(&["taps", "review", "--import", "notes.xlsx"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("notes.xlsx"), "{}", r.stderr);
    assert_eq!(
        h.kartka(&["taps", "review", "--import", "nope.xlsx"]).code,
        66
    );
}

/// The review sheet comes back with one row held and one cleared: a row
/// marked both ways, or held without a reason, refuses the file whole;
/// filled in right, the held tap is no longer paid.
fn review_sheet_holds_and_clears(
    h: &Home,
    book: &mut calamine::Sheets<std::io::BufReader<std::fs::File>>,
) {
    use calamine::Reader;
    let sheet = book.worksheet_range("До перевірки").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap() as u16;
    // Rows of three different taps, every one of a rule for review.
    let review = crate::common::month::review_rules();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for r in sheet.rows().skip(1) {
        let r: Vec<String> = r.iter().map(|c| c.to_string()).collect();
        assert!(review.contains(&r[1]), "{r:?}");
        if !rows.iter().any(|x| x[0] == r[0]) && rows.len() < 3 {
            rows.push(r);
        }
    }
    let before = h
        .kartka(&["taps", "flag", "--month", "2026-10", "--json"])
        .json();
    // (hold, clear, reason) for each of the three rows.
    let write = |path: &str, marks: [(&str, &str, &str); 3]| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet().set_name("До перевірки").unwrap();
        for (c, name) in header.iter().enumerate() {
            ws.write_string(0, c as u16, name).unwrap();
        }
        for (i, (row, (hold, clear, why))) in rows.iter().zip(marks).enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, &row[0]).unwrap();
            ws.write_string(r, 1, &row[1]).unwrap();
            ws.write_string(r, col("Утримати (так/ні)"), hold).unwrap();
            ws.write_string(r, col("Зняти (так/ні)"), clear).unwrap();
            ws.write_string(r, col("Причина рішення"), why).unwrap();
        }
        wb.save(h.work.join(path)).unwrap();
    };
    write(
        "review-bad.xlsx",
        [("так", "так", "x"), ("так", "", ""), ("", "", "")],
    );
    let r = h.kartka(&["taps", "review", "--import", "review-bad.xlsx"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    for want in [
        "2 problem(s)",
        "sheet \"До перевірки\", row 2: marked both to hold and to clear",
        "sheet \"До перевірки\", row 3: marked to hold but no reason given",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
    let decided = "SELECT count(*) FROM flag_clearings WHERE source LIKE 'review-%'";
    assert_eq!(h.count(decided), 0);
    write(
        "review-ok.xlsx",
        [
            ("так", "", "картку передано іншій особі"),
            ("", "так", "пересадка на вокзалі"),
            ("ні", "", ""),
        ],
    );
    let r = h.kartka(&["taps", "review", "--import", "review-ok.xlsx", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["held"], serde_json::json!([rows[0][0]]));
    assert_eq!(j["cleared"], serde_json::json!([rows[1][0]]));
    assert_eq!(
        h.count("SELECT count(*) FROM flag_clearings WHERE source = 'review-ok.xlsx' AND decision = 'hold'"),
        1
    );
    let after = h
        .kartka(&["taps", "flag", "--month", "2026-10", "--json"])
        .json();
    assert_eq!(
        after["held"].as_u64().unwrap(),
        before["held"].as_u64().unwrap() + 1
    );
}

#[test]
fn flags_go_out_as_csv_and_parquet_too() {
    let h = month("30000", "0.03");
    let r = h.kartka(&[
        "taps",
        "flag",
        "--month",
        "2026-10",
        "--out",
        "out/flags.csv",
        "--lang",
        "en",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let csv = std::fs::read_to_string(h.work.join("out/flags.csv")).unwrap();
    assert!(csv.starts_with("flag_id,rule,rule_number,severity,tapped_at_kyiv,"));
    let stored = flag_rows(&h.root.join("flags/month=2026-10/flags.parquet"));
    assert_eq!(csv.lines().count(), stored.len() + 1);
    assert!(!csv.contains(",holder,"), "names only when asked for");
    let r = h.kartka(&[
        "taps",
        "flag",
        "--month",
        "2026-10",
        "--out",
        "flags.parquet",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(flag_rows(&h.work.join("flags.parquet")), stored);
}

#[test]
fn bad_months_and_outputs_say_what_to_do() {
    let h = month("5000", "0.03");
    let r = h.kartka(&["taps", "flag", "--month", "2026-13"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not YYYY-MM"), "{}", r.stderr);
    let r = h.kartka(&["taps", "flag", "--month", "2026-09"]);
    assert_eq!(r.code, 66);
    assert!(r.stderr.contains("no taps for this month"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM flag_runs"), 0);
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--out", "flags.txt"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains(".xlsx, .csv or .parquet"), "{}", r.stderr);
    assert_eq!(
        h.count("SELECT count(*) FROM flag_runs"),
        0,
        "nothing was run"
    );
    let r = h.kartka(&["taps", "clear", "F-1-1", "--reason", "x"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
}

#[test]
fn each_rules_precision_is_measured_from_the_analysts_clearings() {
    use calamine::{Reader, open_workbook_auto};
    let h = month("30000", "0.03");
    let r = h.kartka(&["-q", "taps", "flag", "--month", "2026-10"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let flags = flag_rows(&h.root.join("flags/month=2026-10/flags.parquet"));
    let daily: Vec<String> = flags
        .iter()
        .filter(|f| f.2 == "excessive_daily_use")
        .map(|f| format!("F-{}-{}", f.0, f.1))
        .collect();
    assert!(daily.len() >= 30, "{} flags", daily.len());
    // The analysts found three in five of them were a tour guide's card.
    let clear: Vec<&str> = daily
        .iter()
        .take(daily.len() * 3 / 5)
        .map(String::as_str)
        .collect();
    let mut args = vec!["-q", "taps", "clear"];
    args.extend(&clear);
    args.extend([
        "--rule",
        "excessive_daily_use",
        "--reason",
        "a tour guide, checked",
    ]);
    assert_eq!(h.kartka(&args).code, 0);

    let r = h.kartka(&["--json", "taps", "quality", "--months", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let q = r.json();
    assert_eq!(q["months"], serde_json::json!(["2026-10"]));
    let rule = |code: &str| {
        q["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["rule"] == code)
            .unwrap()
            .clone()
    };
    let d = rule("excessive_daily_use");
    assert_eq!(d["flagged"], daily.len() as u64);
    assert_eq!(d["cleared"], clear.len() as u64);
    assert_eq!(d["kept"], (daily.len() - clear.len()) as u64);
    let precision = (daily.len() - clear.len()) as f64 / daily.len() as f64;
    assert!((d["precision"].as_f64().unwrap() - precision).abs() < 1e-9);
    assert_eq!(d["below"], true);
    let burst = rule("driver_burst");
    assert_eq!(
        (burst["cleared"].as_u64(), burst["below"].as_bool()),
        (Some(0), Some(false))
    );
    assert!(
        r.stderr
            .contains("WARNING: excessive_daily_use: analysts kept")
            && r.stderr.contains("quality_min_precision_pct = 80"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("WARNING: driver_burst"), "{}", r.stderr);

    // November's review workbook shows how the rules held up in October.
    let r = h.kartka(&[
        "-q",
        "generate",
        "month",
        "--month",
        "2026-11",
        "--taps",
        "3000",
        "--holders",
        "500",
        "--validators",
        "30",
        "--vehicles",
        "20",
        "--routes",
        "5",
        "--carriers",
        "2",
        "--format",
        "store",
        "--out",
        "gen-11",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Stored whole: each validator's numbering went on from October's.
    let months = h.kartka(&["--json", "taps", "months"]).json();
    let nov = months
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == "2026-11")
        .unwrap()["taps"]
        .as_u64()
        .unwrap();
    assert!(nov >= 3000, "{months}");
    assert_eq!(
        h.count("SELECT count(*) FROM tap_batches WHERE taps_duplicate > 0"),
        0
    );
    let r = h.kartka(&[
        "-q", "taps", "flag", "--month", "2026-11", "--out", "nov.xlsx",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut book = open_workbook_auto(h.work.join("nov.xlsx")).unwrap();
    let sheet = book.worksheet_range("Підсумок").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let title = rows
        .iter()
        .position(|r| r[0].starts_with("Точність правил за рішеннями аналітиків (2026-10)"))
        .unwrap_or_else(|| panic!("{rows:?}"));
    let line = rows[title..]
        .iter()
        .find(|r| r.get(1).map(String::as_str) == Some("excessive_daily_use"))
        .unwrap();
    assert_eq!(line[2], daily.len().to_string(), "{line:?}");
    assert_eq!(line[3], clear.len().to_string(), "{line:?}");
    assert_eq!(line[6], "так", "{line:?}");
}

/// The honest cards of the store that ride little and not at all on
/// 13–15 October: (card, its UID), each to be used once.
fn quiet_cards(h: &Home) -> Vec<(i64, String)> {
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let files = kartka::taps::parquet::live_files(&reg, None).unwrap();
    let df = kartka::taps::parquet::read(&home, &files).unwrap();
    let card = df.column("card_number").unwrap().i64().unwrap();
    let uid = df.column("card_uid").unwrap().str().unwrap();
    let t = df
        .column("tapped_at")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap();
    let t = t.i64().unwrap();
    let (from, to) = (kyiv_ms("2026-10-13 00:00"), kyiv_ms("2026-10-16 00:00"));
    let mut taps: BTreeMap<i64, (String, usize, bool)> = BTreeMap::new();
    for i in 0..df.height() {
        let e = taps
            .entry(card.get(i).unwrap())
            .or_insert_with(|| (uid.get(i).unwrap().to_string(), 0, false));
        e.1 += 1;
        let ti = t.get(i).unwrap();
        e.2 |= ti >= from && ti < to;
    }
    taps.into_iter()
        .filter(|(_, (_, n, near))| *n < 30 && !near)
        .map(|(c, (u, _, _))| (c, u))
        .collect()
}

/// Kyiv "YYYY-MM-DD HH:MM" as UTC milliseconds.
fn kyiv_ms(text: &str) -> i64 {
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    chrono_tz::Europe::Kyiv
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .timestamp_millis()
}

#[test]
fn each_configuration_fault_is_a_suspect_with_its_fix_and_no_fraud_hold() {
    // An honest month (nothing planted), then one Kyiv day, 14 October,
    // of four validators whose configuration is wrong, 30 taps each by
    // honest cards that ride nowhere else those days.
    let h = month("40000", "0");
    let r = h.kartka(&["fleet", "import", "fixtures/flags/suspects-fleet.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut cards = quiet_cards(&h).into_iter();
    let mut csv = String::from(
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n",
    );
    let mut add = |validator: i32, vehicle: i32, route: i32, first: &str, step_min: i64| {
        let start = kyiv_ms(&format!("2026-10-14 {first}"));
        for i in 0..30i64 {
            let (card, uid) = cards.next().expect("enough quiet cards");
            let at = chrono::DateTime::from_timestamp_millis(start + i * step_min * 60_000)
                .unwrap()
                .to_rfc3339();
            csv.push_str(&format!(
                "{validator},{vehicle},{route},,{card},{uid},{at},1,accepted,{}\n",
                i + 1
            ));
        }
    };
    // 901: vehicle 9001 runs route 77 all day; its fleet row has route 1.
    add(901, 9001, 77, "07:00", 24);
    // 902: the fleet sheet puts it on vehicle 9002 (carrier 1, route 78),
    // but it writes vehicle 9003's settings (carrier 2, which does not
    // serve route 78).
    add(902, 9003, 78, "07:00", 24);
    // 903: route 76, a night shuttle, 00:30–04:30; no [[flags.routes]].
    add(903, 9004, 76, "00:30", 8);
    // 904: docked at 14:00, its clock set ten hours behind: its afternoon
    // is dated 04:30–13:00, before the docking.
    add(904, 9005, 1, "04:30", 17);
    let path = h.work.join("fixtures/flags/suspect-day.csv");
    std::fs::write(&path, &csv).unwrap();
    let r = h.kartka(&["taps", "import", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let docked = chrono::DateTime::from_timestamp_millis(kyiv_ms("2026-10-14 14:00"))
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    h.db()
        .execute(
            "INSERT INTO dock_sessions (started_at, port, validator, clock_set, next, outcome, finished_at) VALUES (?1, '/dev/ttyACM0', 904, 1, 1, 'ok', ?1)",
            [&docked],
        )
        .unwrap();

    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let suspects = j["suspects"].as_array().unwrap();
    let ids: Vec<&str> = suspects.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "S-901-2026-10-14",
            "S-902-2026-10-14",
            "S-903-2026-10-14",
            "S-904-2026-10-14"
        ],
        "{}",
        r.stdout
    );
    let cause = |i: usize| &suspects[i]["findings"][0]["cause"];
    let fix = |i: usize| suspects[i]["findings"][0]["fix_en"].as_str().unwrap();
    for s in suspects {
        assert_eq!(s["day_taps"], 30);
        assert_eq!(s["taps"], 30);
        assert_eq!(s["cleared"], 0);
        assert_eq!(s["held_kopecks"], 30 * 1500);
        assert_eq!(s["findings"].as_array().unwrap().len(), 1, "{s}");
    }
    assert_eq!(
        cause(0),
        &serde_json::json!({"kind": "route_missing", "vehicle": 9001, "carrier": 1, "route": 77})
    );
    assert!(
        fix(0).contains("add route 77 to vehicle 9001's routes (carrier 1)")
            && fix(0).contains("kartka fleet import"),
        "{}",
        fix(0)
    );
    assert_eq!(
        cause(1),
        &serde_json::json!({"kind": "wrong_vehicle", "recorded_vehicle": 9003, "recorded_carrier": 2,
            "fleet_vehicle": 9002, "fleet_carrier": 1, "route": 78})
    );
    assert!(fix(1).contains("dock it"), "{}", fix(1));
    assert_eq!(
        cause(2),
        &serde_json::json!({"kind": "service_day", "route": 76, "start": "00:30", "end": "04:30"})
    );
    assert!(
        fix(2).contains(r#"[[flags.routes]] route = 76, start = "00:30", end = "04:30""#),
        "{}",
        fix(2)
    );
    assert_eq!(
        cause(3),
        &serde_json::json!({"kind": "clock", "ahead": false, "hours": 9})
    );
    assert!(fix(3).contains("dock validator 904 to set its clock"));
    // The human summary names them too.
    let r = h.kartka(&["taps", "flag", "--month", "2026-10"]);
    assert!(
        r.stderr
            .contains("configuration suspect S-901-2026-10-14: 30 of validator 901's 30 taps"),
        "{}",
        r.stderr
    );
    // Every tap of the four is held as config_suspect and under no fraud
    // rule; no honest validator is a suspect.
    let df = ParquetReader::new(
        std::fs::File::open(h.root.join("flags/month=2026-10/flags.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let v = df.column("validator_id").unwrap().i32().unwrap();
    let rule = df.column("rule").unwrap().str().unwrap();
    let sid = df.column("suspect_id").unwrap().str().unwrap();
    let mut per: BTreeMap<i32, BTreeSet<String>> = BTreeMap::new();
    for i in 0..df.height() {
        let (vi, ri) = (v.get(i).unwrap(), rule.get(i).unwrap());
        per.entry(vi).or_default().insert(ri.to_string());
        assert_eq!(
            ri == "config_suspect",
            vi > 900,
            "validator {vi}: {ri} ({:?})",
            sid.get(i)
        );
        if ri == "config_suspect" {
            assert_eq!(sid.get(i), Some(format!("S-{vi}-2026-10-14").as_str()));
        }
    }
    assert_eq!(j["by_rule"]["config_suspect"]["taps"], 120);
    assert_eq!(j["by_rule"]["config_suspect"]["number"], 0);
    for rule in ["route_not_served", "outside_service_hours", "clock_anomaly"] {
        assert_eq!(j["by_rule"][rule]["taps"], 0, "{rule}");
    }
    peer_agrees(&h);

    // The review workbook opens on the suspects.
    let out = h.work.join("review.xlsx");
    let r = h.kartka(&[
        "taps",
        "flag",
        "--month",
        "2026-10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    {
        use calamine::Reader;
        let mut book = calamine::open_workbook_auto(&out).unwrap();
        let first = book.sheet_names()[0].clone();
        assert_eq!(first, "Підозри на налаштування");
        let range = book.worksheet_range(&first).unwrap();
        let text: Vec<String> = range.rows().flatten().map(|c| c.to_string()).collect();
        for want in [
            "S-901-2026-10-14",
            "S-904-2026-10-14",
            "додайте маршрут 77 до маршрутів ТЗ 9001",
        ] {
            assert!(text.iter().any(|c| c.contains(want)), "{want}: {text:?}");
        }
    }

    // Bad asks clear nothing.
    let before = h.count("SELECT count(*) FROM flag_clearings");
    let r = h.kartka(&["taps", "clear", "S-901-2026-10-15", "--reason", "x"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("S-901-2026-10-15")
            && r.stderr
                .contains("no such configuration suspect in 2026-10"),
        "{}",
        r.stderr
    );
    let r = h.kartka(&[
        "taps",
        "clear",
        "S-904-2026-10-14",
        "--rule",
        "clock_anomaly",
        "--reason",
        "x",
    ]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("leave --rule out"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), before);

    // Clearing a suspect clears its taps together, and a re-run keeps it.
    let r = h.kartka(&[
        "taps",
        "clear",
        "S-904-2026-10-14",
        "--reason",
        "carrier's run sheet confirms the afternoon",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("30 flag(s) cleared"), "{}", r.stderr);
    // The fleet sheet fixed for 901, the night route configured for 903.
    let r = h.kartka(&["fleet", "import", "fixtures/flags/suspects-fleet-fixed.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[flags.routes]]\nroute = 76\nstart = \"00:30\"\nend = \"04:30\"\n");
    std::fs::write(&config, text).unwrap();
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let left: Vec<(&str, u64, u64)> = j["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap(),
                s["taps"].as_u64().unwrap(),
                s["cleared"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        left,
        [("S-902-2026-10-14", 30, 0), ("S-904-2026-10-14", 30, 30)]
    );
    assert_eq!(j["by_rule"]["config_suspect"]["held"], 30);
    assert_eq!(j["held"], 30);
    peer_agrees(&h);
    // The dockings and the suspects on Spark SQL too.
    spark_agrees(&h, &h.root.join("flags/month=2026-10/flags.parquet"));
}

/// Issue 35, item 1: configuration faults found from the month's pattern,
/// whatever the daily volume, one suspect per cause. On an honest month,
/// a small city's vehicle missing from the fleet for its route (6 taps a
/// day), a night route (23:00–01:30) missing from `[[flags.routes]]`, a
/// carrier-wide missing route on four busy validators, and a genuine
/// one-off tap outside the service day and on a route not served.
#[test]
fn a_months_configuration_faults_are_one_suspect_each_at_any_volume() {
    let h = month("20000", "0");
    let fleet = h.work.join("month-suspects-fleet.csv");
    std::fs::write(
        &fleet,
        "validator,vehicle,plate,carrier,carrier_name,edrpou,routes,zone\n\
         911,9011,АЕ9011ВС,1,,,1,1\n\
         913,9013,АЕ9013ВС,1,,,76,1\n\
         914,9014,АЕ9014ВС,1,,,75,1\n\
         916,9016,АЕ9016ВС,1,,,78,1\n\
         917,9017,АЕ9017ВС,1,,,80,1\n\
         919,9019,АЕ9019ВС,1,,,81,1\n\
         918,9018,АЕ9018ВС,2,,,2,1\n\
         921,9021,АЕ9021ВС,2,,,2,1\n\
         922,9022,АЕ9022ВС,2,,,2,1\n\
         923,9023,АЕ9023ВС,2,,,2,1\n\
         924,9024,АЕ9024ВС,2,,,2,1\n",
    )
    .unwrap();
    let r = h.kartka(&["fleet", "import", fleet.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut cards = quiet_cards(&h).into_iter();
    let mut csv = String::from(
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n",
    );
    let mut seqs: BTreeMap<i32, i64> = BTreeMap::new();
    let mut tap = |validator: i32, vehicle: i32, route: i32, at: &str| {
        let (card, uid) = cards.next().expect("enough quiet cards");
        let seq = seqs.entry(validator).or_default();
        *seq += 1;
        let at = chrono::DateTime::from_timestamp_millis(kyiv_ms(at))
            .unwrap()
            .to_rfc3339();
        csv.push_str(&format!(
            "{validator},{vehicle},{route},,{card},{uid},{at},1,accepted,{seq}\n"
        ));
    };
    for day in 1..=25 {
        let d = format!("2026-10-{day:02}");
        // A small city: vehicle 9011 runs route 77 (its fleet row says
        // route 1), six taps a day.
        for hm in ["07:10", "08:40", "10:15", "12:30", "15:05", "17:50"] {
            tap(911, 9011, 77, &format!("{d} {hm}"));
        }
        // The night route 76, 23:00–01:30, with no [[flags.routes]] entry.
        for hm in ["23:05", "23:35", "23:50"] {
            tap(913, 9013, 76, &format!("{d} {hm}"));
        }
        let next = format!("2026-10-{:02}", day + 1);
        for hm in ["00:20", "00:55", "01:25"] {
            tap(913, 9013, 76, &format!("{next} {hm}"));
        }
        // A sparser night route, 78: four taps a night, one before the
        // configured day's tolerance ends.
        tap(916, 9016, 78, &format!("{d} 23:15"));
        tap(916, 9016, 78, &format!("{d} 23:50"));
        for hm in ["00:40", "01:25"] {
            tap(916, 9016, 78, &format!("{next} {hm}"));
        }
        // Validator 917, in vehicle 9017 on route 80 by the fleet sheet,
        // writes vehicle 9018's settings (carrier 2) ten days, five taps a
        // day.
        if day <= 10 {
            for hm in ["07:00", "09:00", "11:00", "13:00", "15:00"] {
                tap(917, 9018, 80, &format!("{d} {hm}"));
            }
        }
        // Route 75 by day, a day route served and configured; one night,
        // one card on it at 03:10, and one day, one tap on route 74,
        // which carrier 1 does not serve: one-offs, under their rules.
        if day == 12 {
            tap(914, 9014, 75, &format!("{d} 03:10"));
        }
        for hm in ["08:00", "10:00", "12:00", "14:00", "16:00", "18:00"] {
            tap(914, 9014, 75, &format!("{d} {hm}"));
            if day == 13 && hm == "08:00" {
                tap(914, 9014, 74, &format!("{d} 09:00"));
            }
        }
    }
    // Vehicle 9019 runs route 81 (its fleet row's) to the 25th, then a
    // new route 82 no fleet row has yet, six taps a day: a fault from the
    // 26th on, six days of the month's 31.
    for day in 1..=31 {
        let route = if day <= 25 { 81 } else { 82 };
        for hm in ["07:20", "09:20", "11:20", "13:20", "15:20", "17:20"] {
            tap(919, 9019, route, &format!("2026-10-{day:02} {hm}"));
        }
    }
    // A bigger city: carrier 2's four vehicles run route 79 all day, ten
    // days, 25 taps a day each; no fleet row of carrier 2 has route 79.
    for day in 1..=10 {
        for (v, vehicle) in [(921, 9021), (922, 9022), (923, 9023), (924, 9024)] {
            for i in 0..25 {
                let m = 6 * 60 + i * 30;
                tap(
                    v,
                    vehicle,
                    79,
                    &format!("2026-10-{day:02} {:02}:{:02}", m / 60, m % 60),
                );
            }
        }
    }
    let path = h.work.join("month-suspects.csv");
    std::fs::write(&path, &csv).unwrap();
    let r = h.kartka(&["taps", "import", path.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let suspects = j["suspects"].as_array().unwrap();
    let ids: Vec<&str> = suspects.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "S-C1R77-2026-10",
            "S-C1R82-2026-10",
            "S-C2R79-2026-10",
            "S-V917-2026-10",
            "S-R76-2026-10",
            "S-R78-2026-10"
        ],
        "{}",
        r.stdout
    );
    let by = |id: &str| suspects.iter().find(|s| s["id"] == id).unwrap();
    let finding = |id: &str| &by(id)["findings"][0];
    // The small city's vehicle: its fleet row.
    let s = by("S-C1R77-2026-10");
    assert_eq!(s["scope"], "month");
    assert_eq!(s["taps"], 25 * 6);
    assert_eq!(s["days"].as_array().unwrap().len(), 25);
    assert_eq!(s["validators"], serde_json::json!([911]));
    assert_eq!(
        finding("S-C1R77-2026-10")["cause"],
        serde_json::json!({"kind": "route_missing", "vehicle": 9011, "carrier": 1, "route": 77})
    );
    let fix = finding("S-C1R77-2026-10")["fix_en"].as_str().unwrap();
    assert!(
        fix.contains("add route 77 to vehicle 9011's routes (carrier 1)"),
        "{fix}"
    );
    let ev = finding("S-C1R77-2026-10")["evidence_en"].as_str().unwrap();
    assert!(
        ev.contains("route_not_served on 150 taps by 150 cards on 25 days of 2026-10 (01.10.2026 to 25.10.2026), validators 911"),
        "{ev}"
    );
    let uk = finding("S-C1R77-2026-10")["fix_uk"].as_str().unwrap();
    assert!(
        uk.contains("додайте маршрут 77 до маршрутів ТЗ 9011"),
        "{uk}"
    );
    // The route added on the 26th: its six days.
    let s = by("S-C1R82-2026-10");
    assert_eq!(s["taps"], 36);
    assert_eq!(s["days"].as_array().unwrap().len(), 6);
    // The carrier-wide route: one suspect, every fleet row named.
    let s = by("S-C2R79-2026-10");
    assert_eq!(s["taps"], 4 * 10 * 25);
    assert_eq!(s["validators"], serde_json::json!([921, 922, 923, 924]));
    assert_eq!(
        finding("S-C2R79-2026-10")["cause"],
        serde_json::json!({"kind": "route_missing", "vehicle": 9021, "carrier": 2, "route": 79,
            "also": [9022, 9023, 9024]})
    );
    let fix = finding("S-C2R79-2026-10")["fix_en"].as_str().unwrap();
    assert!(
        fix.contains(
            "add route 79 to the routes of vehicles 9021, 9022, 9023, 9024 (each row) (carrier 2)"
        ),
        "{fix}"
    );
    // The validator docked as another vehicle: its fleet row or a docking.
    let s = by("S-V917-2026-10");
    assert_eq!(s["taps"], 50);
    assert_eq!(
        finding("S-V917-2026-10")["cause"],
        serde_json::json!({"kind": "wrong_vehicle", "recorded_vehicle": 9018, "recorded_carrier": 2,
            "fleet_vehicle": 9017, "fleet_carrier": 1, "route": 80})
    );
    let fix = finding("S-V917-2026-10")["fix_en"].as_str().unwrap();
    assert!(
        fix.contains("dock it") && fix.contains("kartka taps clear S-V917-2026-10"),
        "{fix}"
    );
    // The night route: the [[flags.routes]] entry with its hours.
    let s = by("S-R76-2026-10");
    let night = finding("S-R76-2026-10");
    assert_eq!(
        night["cause"],
        serde_json::json!({"kind": "service_day", "route": 76, "start": "23:00", "end": "01:30"})
    );
    let entry = r#"[[flags.routes]] route = 76, start = "23:00", end = "01:30""#;
    assert!(night["fix_en"].as_str().unwrap().contains(entry), "{night}");
    assert!(night["fix_uk"].as_str().unwrap().contains(entry), "{night}");
    // 23:50 and the three after midnight each night are outside the
    // configured day (05:30–23:30, 15 minutes' tolerance).
    assert_eq!(s["taps"], 25 * 4, "{s}");
    let sparse = by("S-R78-2026-10");
    assert_eq!(sparse["taps"], 25 * 3, "{sparse}");
    assert_eq!(
        sparse["findings"][0]["cause"],
        serde_json::json!({"kind": "service_day", "route": 78, "start": "23:00", "end": "01:30"})
    );
    // Nothing held under a fraud rule but the one-offs.
    let df = ParquetReader::new(
        std::fs::File::open(h.root.join("flags/month=2026-10/flags.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let v = df.column("validator_id").unwrap().i32().unwrap();
    let rule = df.column("rule").unwrap().str().unwrap();
    let mut under: BTreeMap<(i32, String), usize> = BTreeMap::new();
    for i in 0..df.height() {
        let (vi, ri) = (v.get(i).unwrap(), rule.get(i).unwrap());
        if vi > 900 && ri != "config_suspect" {
            *under.entry((vi, ri.to_string())).or_default() += 1;
        }
    }
    for rule in ["route_not_served", "outside_service_hours"] {
        assert_eq!(j["by_rule"][rule]["taps"], 1, "{rule}: {under:?}");
        assert_eq!(under.get(&(914, rule.to_string())), Some(&1), "{under:?}");
    }
    assert_eq!(j["by_rule"]["clock_anomaly"]["taps"], 0);
    // The summary names them; the review workbook lists them, Ukrainian by
    // default, English with --lang en.
    let r = h.kartka(&["taps", "flag", "--month", "2026-10"]);
    assert!(
        r.stderr.contains(
            "configuration suspect S-R76-2026-10: 100 taps on 26 days of 2026-10 (validators 913)"
        ),
        "{}",
        r.stderr
    );
    for (lang, sheet, want) in [
        (
            "uk",
            "Підозри на налаштування",
            "додайте маршрут 79 до маршрутів ТЗ 9021, 9022, 9023, 9024 (кожного)",
        ),
        (
            "en",
            "Configuration suspects",
            "add route 79 to the routes of vehicles 9021",
        ),
    ] {
        use calamine::Reader;
        let out = h.work.join(format!("review-{lang}.xlsx"));
        let r = h.kartka(&[
            "--lang",
            lang,
            "taps",
            "flag",
            "--month",
            "2026-10",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut book = calamine::open_workbook_auto(&out).unwrap();
        assert_eq!(book.sheet_names()[0], sheet);
        let range = book.worksheet_range(sheet).unwrap();
        let text: Vec<String> = range.rows().flatten().map(|c| c.to_string()).collect();
        for want in [want, "S-R76-2026-10", "S-C1R77-2026-10", entry] {
            assert!(text.iter().any(|c| c.contains(want)), "{want}: {text:?}");
        }
    }
    // Clearing a month's suspect by its id clears its taps together.
    let r = h.kartka(&[
        "taps",
        "clear",
        "S-C1R77-2026-10",
        "--reason",
        "the carrier's contract has route 77",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("150 flag(s) cleared"), "{}", r.stderr);
    // The suggested entry releases the night route.
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[flags.routes]]\nroute = 76\nstart = \"23:00\"\nend = \"01:30\"\n");
    std::fs::write(&config, text).unwrap();
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let ids: Vec<&str> = j["suspects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "S-C1R77-2026-10",
            "S-C1R82-2026-10",
            "S-C2R79-2026-10",
            "S-V917-2026-10",
            "S-R78-2026-10"
        ]
    );
    assert_eq!(j["suspects"][0]["cleared"], 150);
    assert_eq!(j["by_rule"]["outside_service_hours"]["taps"], 1);
}

/// Past one machine (docs/scale.md): the same rules on Spark SQL
/// (scripts/flag-spark.py, the DuckDB peer's SQL ported) flag exactly the
/// (validator, seq, rule) rows kartka stored, every rule planted and a trip
/// limit set; a flags file one row short is a difference, named.
#[test]
fn spark_sql_flags_the_same_taps_as_kartka() {
    if crate::common::python_with_spark("the Spark SQL flags").is_none() {
        return;
    }
    let h = month("40000", "0.05");
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let flags = h.root.join("flags/month=2026-10/flags.parquet");
    let rows = flag_rows(&flags);
    let planted: BTreeSet<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert!(planted.len() >= 14, "{planted:?}");
    // The same taps held, and the same for review only.
    let spark = spark_agrees(&h, &flags).expect("checked");
    assert_eq!(spark["held"], j["held"]);
    assert_eq!(spark["review"], j["review"]);
    assert!(j["review"].as_u64().unwrap() > 0);
    // One row short: Spark names the difference and exits 1.
    let mut df = ParquetReader::new(std::fs::File::open(&flags).unwrap())
        .finish()
        .unwrap();
    df = df.slice(1, df.height() - 1);
    let short = h.work.join("short.parquet");
    ParquetWriter::new(std::fs::File::create(&short).unwrap())
        .finish(&mut df)
        .unwrap();
    let out = spark_run(&h, &short);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Spark and kartka DIFFER on 1 (validator, seq, rule) rows"),
        "{stderr}"
    );
}

fn spark_run(h: &Home, compare: &std::path::Path) -> std::process::Output {
    let python = crate::common::python_with_spark("the Spark SQL flags").expect("checked");
    std::process::Command::new(&python)
        .arg(crate::common::repo().join("scripts/flag-spark.py"))
        .arg(&h.root)
        .arg("2026-10")
        .arg("--compare")
        .arg(compare)
        .env("SPARK_DRIVER_MEMORY", "1g")
        .env("SPARK_SHUFFLE_PARTITIONS", "2")
        .output()
        .unwrap()
}

/// Spark SQL flags exactly what `compare` holds (skipped without pyspark
/// and Java unless KARTKA_REQUIRE_SPARK is set).
/// Returns Spark's summary of the month.
fn spark_agrees(h: &Home, compare: &std::path::Path) -> Option<serde_json::Value> {
    crate::common::python_with_spark("the Spark SQL flags")?;
    let out = spark_run(h, compare);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.contains("Spark and kartka flag the same"),
        "{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The DuckDB peer's summary of the month (`--json`), having checked it
/// flags exactly what kartka stored; `None` without Python's duckdb
/// (unless KARTKA_REQUIRE_DUCKDB is set).
fn peer_json(h: &Home) -> Option<serde_json::Value> {
    let python = crate::common::python_with_duckdb("the DuckDB peer")?;
    let out = std::process::Command::new(&python)
        .arg(crate::common::repo().join("scripts/flag-duckdb.py"))
        .arg(&h.root)
        .arg("2026-10")
        .arg("--compare")
        .arg(h.root.join("flags/month=2026-10/flags.parquet"))
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The DuckDB peer flags exactly what kartka stored (skipped without
/// Python's duckdb unless KARTKA_REQUIRE_DUCKDB is set).
fn peer_agrees(h: &Home) {
    let Some(python) = crate::common::python_with_duckdb("the DuckDB peer") else {
        return;
    };
    let out = std::process::Command::new(&python)
        .arg(crate::common::repo().join("scripts/flag-duckdb.py"))
        .arg(&h.root)
        .arg("2026-10")
        .arg("--compare")
        .arg(h.root.join("flags/month=2026-10/flags.parquet"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Planted night-time fraud at a big city's density (a card on a day
/// route in the small hours, on many nights and every route) is not a
/// night route: no month's suspect, every planted tap under its rule.
#[test]
fn scattered_night_taps_on_day_routes_are_not_a_missing_night_route() {
    let h = month("200000", "0.05");
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["suspects"], serde_json::json!([]), "{}", j["suspects"]);
    let rows = flag_rows(&h.root.join("flags/month=2026-10/flags.parquet"));
    let truth = truth(&h);
    for rule in ["outside_service_hours", "route_not_served"] {
        let flagged: BTreeSet<(i64, i64)> = rows
            .iter()
            .filter(|r| r.2 == rule)
            .map(|r| (r.0, r.1))
            .collect();
        let planted = &truth[rule];
        assert!(planted.len() > 500, "{rule}: {}", planted.len());
        assert!(planted.is_subset(&flagged), "{rule}");
    }
}
