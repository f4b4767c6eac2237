//! `kartka budget` (issue 21, K3): the year's actuals are compensation's
//! figures to the kopeck, a late correction reaches the cached months, the
//! plan runs out where the months say, a fare scenario re-prices the
//! forecast, and bad asks compute nothing.

use std::collections::BTreeMap;

use crate::common::Home;

const CITY: &str = "UA12120130000022766";

/// Three generated, flagged months (August to October 2026) and a plan
/// for the city that the autumn outruns.
fn history() -> Home {
    let h = Home::new();
    for m in ["2026-08", "2026-09", "2026-10"] {
        let r = h.kartka(&[
            "generate",
            "month",
            "--month",
            m,
            "--taps",
            "12000",
            "--holders",
            "1200",
            "--validators",
            "6",
            "--vehicles",
            "4",
            "--routes",
            "2",
            "--carriers",
            "2",
            "--format",
            "store",
            "--out",
            &format!("gen-{m}"),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = h.kartka(&["taps", "flag", "--month", m]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[budget]]\nyear = 2026\namount_kopecks = 30000000\napproved = \"2025-12-20\"\n\n[[budget]]\nyear = 2026\ncommunity = \"{CITY}\"\namount_kopecks = 40000000\napproved = \"2026-06-01\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    h
}

/// community → (kopecks paid, card fees) of one month, by `kartka compensation`.
fn compensation(h: &Home, month: &str) -> BTreeMap<String, (i64, i64)> {
    let r = h.kartka(&[
        "compensation",
        "--month",
        month,
        "--out",
        &format!("comp-{month}"),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                (
                    c["amount_kopecks"].as_i64().unwrap(),
                    c["card_fees_kopecks"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

fn budget(h: &Home, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["budget", "--year", "2026", "--as-of", "2026-10", "--json"];
    args.extend_from_slice(extra);
    let r = h.kartka(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.json()
}

/// community → month → (kind, cost, fees) of a budget.
fn months(b: &serde_json::Value) -> BTreeMap<String, BTreeMap<String, (String, i64, i64)>> {
    b["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["code"].as_str().unwrap().to_string(),
                c["months"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| {
                        (
                            m["month"].as_str().unwrap().to_string(),
                            (
                                m["kind"].as_str().unwrap().to_string(),
                                m["cost"]["point"].as_i64().unwrap(),
                                m["fees_kopecks"].as_i64().unwrap(),
                            ),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn actuals_are_compensations_figures_and_a_late_correction_reaches_them() {
    let h = history();
    let b = budget(&h, &[]);
    let by = months(&b);
    for m in ["2026-08", "2026-09", "2026-10"] {
        let comp = compensation(&h, m);
        assert!(!comp.is_empty());
        for (code, (kop, fees)) in &comp {
            assert_eq!(
                by[code][m],
                ("actual".to_string(), *kop, *fees),
                "{code} {m}"
            );
        }
    }
    // January to July: nothing stored; November and December forecast.
    assert_eq!(by[CITY]["2026-01"].0, "no_taps");
    assert_eq!(by[CITY]["2026-11"].0, "forecast");
    assert_eq!(by[CITY].len(), 12);
    assert_eq!(b["history_months"], 3);
    assert_eq!(b["model"], "level");
    // The plan in force is the later approved one; it runs out in the
    // first month the running total passes it.
    let city = b["communities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == CITY)
        .unwrap();
    assert_eq!(city["plan_kopecks"], 40_000_000);
    let mut sum = 0;
    let mut runs_out = None;
    for (m, (_, cost, fees)) in &by[CITY] {
        sum += cost + fees;
        if runs_out.is_none() && sum > 40_000_000 {
            runs_out = Some(m.clone());
        }
    }
    assert!(runs_out.is_some(), "the test's plan is meant to run out");
    assert_eq!(city["runs_out"].as_str(), runs_out.as_deref());
    assert_eq!(
        city["plan_left_kopecks"].as_i64().unwrap(),
        40_000_000 - city["projected"]["point"].as_i64().unwrap()
    );
    let p = &city["projected"];
    assert!(p["lo95"].as_i64() <= p["lo80"].as_i64() && p["lo80"].as_i64() <= p["point"].as_i64());
    assert!(p["point"].as_i64() <= p["hi80"].as_i64() && p["hi80"].as_i64() <= p["hi95"].as_i64());

    // By carrier: every carrier's actual over the communities is what
    // compensation pays it (its ЄДРПОУ is 30000000 + id here), and the
    // projection is shared out whole.
    let mut by_carrier: BTreeMap<i64, i64> = BTreeMap::new();
    for c in b["communities"].as_array().unwrap() {
        let carriers = c["carriers"].as_array().unwrap();
        let sum: i64 = carriers
            .iter()
            .map(|k| k["actual_kopecks"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, c["actual_kopecks"].as_i64().unwrap(), "{}", c["code"]);
        let projected: i64 = carriers
            .iter()
            .map(|k| k["projected_kopecks"].as_i64().unwrap())
            .sum();
        let want =
            c["projected"]["point"].as_i64().unwrap() - c["actual_fees_kopecks"].as_i64().unwrap();
        assert!(
            (projected - want).abs() <= 50,
            "{}: {projected} vs {want}",
            c["code"]
        );
        for k in carriers {
            *by_carrier
                .entry(k["carrier"].as_i64().unwrap())
                .or_default() += k["actual_kopecks"].as_i64().unwrap();
        }
    }
    let mut paid: BTreeMap<i64, i64> = BTreeMap::new();
    for m in ["2026-08", "2026-09", "2026-10"] {
        let r = h.kartka(&[
            "--json",
            "compensation",
            "--month",
            m,
            "--out",
            &format!("c-{m}"),
        ]);
        for c in r.json()["carriers"].as_array().unwrap() {
            let id = c["code"].as_str().unwrap().parse::<i64>().unwrap() - 30_000_000;
            *paid.entry(id).or_default() += c["amount_kopecks"].as_i64().unwrap();
        }
    }
    assert_eq!(by_carrier, paid);

    // A late correction: a held October tap cleared. The cached month is
    // counted again and still equals compensation.
    let flags = h.work.join("flags.csv");
    let r = h.kartka(&[
        "--quiet",
        "taps",
        "flag",
        "--month",
        "2026-10",
        "--out",
        flags.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&flags).unwrap();
    let id = text
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let r = h.kartka(&["taps", "clear", &id, "--reason", "late correction"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = months(&budget(&h, &[]));
    let comp = compensation(&h, "2026-10");
    let mut changed = false;
    for (code, (kop, _)) in &comp {
        assert_eq!(after[code]["2026-10"].1, *kop, "{code}");
        changed |= after[code]["2026-10"].1 != by[code]["2026-10"].1;
    }
    assert!(changed, "the clearing changed October's figures");
    assert_eq!(after[CITY]["2026-08"], by[CITY]["2026-08"]);
}

#[test]
fn a_fare_scenario_reprices_the_forecast_only_and_the_workbook_has_its_charts() {
    let h = history();
    let base = months(&budget(&h, &[]));
    let dear = months(&budget(&h, &["--fare", "all=3000@2026-11-01"]));
    for (code, ms) in &base {
        for (m, (kind, cost, _)) in ms {
            let d = dear[code][m].1;
            if kind == "forecast" {
                // The generated month's fare is 15.00 UAH: twice as dear.
                assert!((d - 2 * cost).abs() <= 2, "{code} {m}: {d} vs {cost}");
            } else {
                assert_eq!(d, *cost, "{code} {m}");
            }
        }
    }
    let r = h.kartka(&[
        "budget",
        "--year",
        "2026",
        "--as-of",
        "2026-10",
        "--out",
        "budget.xlsx",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("written to budget.xlsx"), "{}", r.stderr);
    // A growth scenario grows its category's forecast only.
    let grown = budget(&h, &["--growth", "pensioner-age=20"]);
    let plain = budget(&h, &[]);
    let category = |b: &serde_json::Value, code: &str| -> (i64, i64) {
        let c = b["communities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == CITY)
            .unwrap();
        let k = c["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["code"] == code)
            .unwrap();
        (
            k["actual_kopecks"].as_i64().unwrap(),
            k["projected"]["point"].as_i64().unwrap(),
        )
    };
    let (a, p) = category(&plain, "pensioner-age");
    let (ga, gp) = category(&grown, "pensioner-age");
    assert_eq!(a, ga);
    let ratio = (gp - ga) as f64 / (p - a) as f64;
    // November 20 % a year for a month, December for two.
    let want = (1.2f64.powf(1.0 / 12.0) + 1.2f64.powf(2.0 / 12.0)) / 2.0;
    assert!((ratio - want).abs() < 0.002, "{ratio} vs {want}");
    assert_eq!(category(&grown, "combatant"), category(&plain, "combatant"));
    // The workbook in English too.
    let r = h.kartka(&[
        "--lang", "en", "budget", "--year", "2026", "--as-of", "2026-10", "--out", "en.xlsx",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    {
        use calamine::Reader;
        let book = calamine::open_workbook_auto(h.work.join("en.xlsx")).unwrap();
        assert_eq!(book.sheet_names()[0], "Summary");
    }
    let bytes = std::fs::read(h.work.join("budget.xlsx")).unwrap();
    let has = |name: &str| bytes.windows(name.len()).any(|w| w == name.as_bytes());
    let communities = base.len();
    assert!(communities >= 2);
    for i in 1..=communities {
        assert!(has(&format!("xl/charts/chart{i}.xml")), "chart {i}");
    }
    {
        use calamine::Reader;
        let book = calamine::open_workbook_auto(h.work.join("budget.xlsx")).unwrap();
        let names = book.sheet_names().to_owned();
        assert_eq!(names[0], "Підсумок");
        assert!(names.iter().any(|n| n.starts_with(CITY)), "{names:?}");
    }

    // Bad asks compute nothing and say what to give.
    for (args, code, says) in [
        (
            vec!["--fare", "all=x@2026-11-01"],
            2,
            "give ROUTE=KOPECKS@YYYY-MM-DD",
        ),
        (
            vec!["--growth", "nobody=5"],
            2,
            "--growth nobody: no such category",
        ),
        (
            vec!["--as-of", "2027-03"],
            2,
            "--as-of 2027-03 is outside 2026",
        ),
        (vec!["--out", "budget.pdf"], 2, "--out must end in .xlsx"),
    ] {
        let mut all = vec!["budget", "--year", "2026"];
        all.extend(args);
        let r = h.kartka(&all);
        assert_eq!(r.code, code, "{all:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{all:?}: {}", r.stderr);
    }
    assert!(!h.work.join("budget.pdf").exists());
    let empty = Home::new();
    let r = empty.kartka(&["budget", "--year", "2026"]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(r.stderr.contains("no counted month"), "{}", r.stderr);
}

/// The budget workbook printed through LibreOffice: each community's
/// chart is drawn, with its three kinds of series in the legend (actual,
/// forecast with its interval, plan).
#[test]
fn the_budget_charts_print_through_libreoffice() {
    let Some(soffice) = crate::common::soffice() else {
        eprintln!("soffice not installed: skipped");
        return;
    };
    let h = history();
    let r = h.kartka(&[
        "budget",
        "--year",
        "2026",
        "--as-of",
        "2026-10",
        "--out",
        "budget.xlsx",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = crate::common::pdf_text(&soffice, &h.work.join("budget.xlsx"), &h.work);
    let count = |s: &str| text.matches(s).count();
    // The chart's title is on no cell: one chart per community sheet.
    let sheets = count("наростаючим підсумком, грн");
    assert_eq!(sheets, 4, "{text}");
    // Each chart's legend names its series (the table's headers wrap).
    for series in [
        "Факт наростаючим",
        "Прогноз наростаючим",
        "80 % до, наростаючим",
    ] {
        assert!(
            count(series) >= sheets,
            "{series}: {} in {text}",
            count(series)
        );
    }
    // The plan is drawn for the community that has one: twelve months of
    // it in its table, and once more in its legend.
    assert!(text.contains("наростаючим План"), "{text}");
}

/// `report --by category`: the benefit per beneficiary (the amount paid
/// over the distinct cards) in --json, the CSV and the workbook, where the
/// totals row does not add it up.
#[test]
fn the_report_by_category_gives_the_benefit_per_beneficiary() {
    let h = history();
    let args = [
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "category",
    ];
    let mut json = vec!["--json"];
    json.extend(args);
    let r = h.kartka(&json);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let rows = j["rows"].as_array().unwrap();
    assert!(rows.len() >= 2);
    let mut paid = 0;
    for row in rows {
        let (amount, cards) = (
            row["amount_kopecks"].as_i64().unwrap(),
            row["cards"].as_i64().unwrap(),
        );
        assert!(cards > 0);
        assert_eq!(row["per_card_kopecks"], amount / cards, "{row}");
        paid += amount;
    }
    let comp = compensation(&h, "2026-10");
    assert_eq!(paid, comp.values().map(|c| c.0).sum::<i64>());
    let mut csv = args.to_vec();
    csv.extend(["--out", "by-category.csv"]);
    assert_eq!(h.kartka(&csv).code, 0);
    let text = std::fs::read_to_string(h.work.join("by-category.csv")).unwrap();
    let head = text.lines().next().unwrap();
    assert!(head.ends_with(",\"На пасажира, грн\""), "{head}");
    let mut xlsx = args.to_vec();
    xlsx.extend(["--out", "by-category.xlsx"]);
    assert_eq!(h.kartka(&xlsx).code, 0);
    use calamine::{DataType, Reader};
    let mut book = calamine::open_workbook_auto(h.work.join("by-category.xlsx")).unwrap();
    let range = book.worksheet_range("Звіт").unwrap();
    let header: Vec<String> = range
        .rows()
        .nth(2)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let col = header.iter().position(|c| c == "На пасажира, грн").unwrap();
    let first = range.rows().nth(3).unwrap();
    let want = rows[0]["per_card_kopecks"].as_i64().unwrap() as f64 / 100.0;
    assert_eq!(first[col].as_f64(), Some(want), "{first:?}");
    // The totals row leaves it empty.
    let total = range.rows().find(|r| r[0] == "Разом").unwrap();
    assert!(total[col].is_empty(), "{total:?}");
}

/// The backtest of issue 21: a generated 24-month history (a known season,
/// 6 % growth, 2 % noise); the forecast made at month 12 of the next 12
/// months is within 5 % of what happened for the city (the community with
/// more than 1,000 holders), and its 80 % interval covers at least 70 % of
/// the months.
#[test]
fn the_forecast_made_at_month_12_holds_for_the_next_year() {
    let h = Home::new();
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[[tariffs]]\nfrom = \"2024-01-01\"\nfare_kopecks = 1200\n");
    std::fs::write(&config, text).unwrap();
    let r = h.kartka(&[
        "generate",
        "history",
        "--from",
        "2024-01",
        "--months",
        "24",
        "--taps",
        "20000",
        "--holders",
        "3000",
        "--validators",
        "12",
        "--vehicles",
        "8",
        "--routes",
        "4",
        "--carriers",
        "2",
        "--growth",
        "6",
        "--noise",
        "2",
        "--out",
        "history",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let factors: Vec<(String, f64)> = std::fs::read_to_string(h.work.join("history/history.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].parse().unwrap())
        })
        .collect();
    assert_eq!(factors.len(), 24);
    // The season: September well above July, both years.
    assert!(factors[8].1 > factors[6].1 * 1.25 && factors[20].1 > factors[18].1 * 1.25);
    for (m, _) in &factors {
        let r = h.kartka(&["taps", "flag", "--month", m]);
        assert_eq!(r.code, 0, "{m}: {}", r.stderr);
    }
    let run = |as_of: &str| {
        let r = h.kartka(&["--json", "budget", "--year", "2025", "--as-of", as_of]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.json()
    };
    let made = run("2024-12");
    assert_eq!(made["model"], "seasonal");
    assert_eq!(made["history_months"], 12);
    let happened = run("2025-12");
    let city = |b: &serde_json::Value| {
        b["communities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["code"] == CITY)
            .unwrap()
            .clone()
    };
    let (f, a) = (city(&made), city(&happened));
    assert!(a["months"][0]["beneficiaries"].as_i64().unwrap() >= 1000);
    let months = |c: &serde_json::Value| c["months"].as_array().unwrap().clone();
    let (fm, am) = (months(&f), months(&a));
    assert!(fm.iter().all(|m| m["kind"] == "forecast"));
    assert!(am.iter().all(|m| m["kind"] == "actual"));
    let total = |ms: &[serde_json::Value]| {
        ms.iter()
            .map(|m| m["cost"]["point"].as_i64().unwrap())
            .sum::<i64>()
    };
    let (ft, at) = (total(&fm), total(&am));
    let error = (ft - at) as f64 / at as f64;
    let covered = fm
        .iter()
        .zip(&am)
        .filter(|(f, a)| {
            let v = a["cost"]["point"].as_i64().unwrap();
            f["cost"]["lo80"].as_i64().unwrap() <= v && v <= f["cost"]["hi80"].as_i64().unwrap()
        })
        .count();
    println!(
        "backtest: forecast {ft}, actual {at}, error {:.2} %, 80 % covers {covered} of 12",
        error * 100.0
    );
    assert!(error.abs() <= 0.05, "error {:.2} %", error * 100.0);
    assert!(covered * 10 >= 12 * 7, "covered {covered} of 12");
}
