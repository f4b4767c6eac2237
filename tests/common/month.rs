//! Scenario: a generated, flagged month in a real home, and the test's own
//! fold of what compensation must pay (shared by the compensation and
//! access tests).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

use super::Home;

pub const MONTH: &str = "2026-10";

/// A home with a generated, flagged October, a fare change on the 15th
/// and carrier 2's own fare.
pub fn flagged_month() -> Home {
    let h = Home::new();
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(
        "\n[[tariffs]]\nfrom = \"2026-10-15\"\nfare_kopecks = 2000\n\n[[tariffs]]\nfrom = \"2026-01-01\"\nfare_kopecks = 1750\ncarriers = [2]\n",
    );
    std::fs::write(&config, text).unwrap();
    let r = h.kartka(&[
        "generate",
        "month",
        "--month",
        MONTH,
        "--taps",
        "30000",
        "--holders",
        "1500",
        "--validators",
        "12",
        "--vehicles",
        "8",
        "--routes",
        "4",
        "--carriers",
        "3",
        "--anomalies",
        "0.03",
        "--format",
        "store",
        "--out",
        "gen",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = h.kartka(&["taps", "flag", "--month", MONTH]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    h
}

/// The fare by the test's own reading of the config above.
fn fare(carrier: Option<i32>, day: NaiveDate) -> i64 {
    if carrier == Some(2) {
        1750
    } else if day >= NaiveDate::from_ymd_opt(2026, 10, 15).unwrap() {
        2000
    } else {
        1500
    }
}

#[derive(Default, Debug, PartialEq)]
pub struct Fold {
    /// carrier → (trips, kopecks) paid.
    pub carriers: BTreeMap<i64, (i64, i64)>,
    /// community → (trips, kopecks) paid.
    pub communities: BTreeMap<String, (i64, i64)>,
    /// Kyiv day → trips paid.
    pub days: BTreeMap<NaiveDate, i64>,
    /// (carrier, route, Kyiv day) → (trips, kopecks) paid.
    pub route_days: BTreeMap<(i64, i64, NaiveDate), (i64, i64)>,
    pub held: i64,
}

/// The rules whose hits are for review (paid unless an analyst holds
/// them), from the severity table kartka and its SQL peers read.
pub fn review_rules() -> BTreeSet<String> {
    let text = std::fs::read_to_string(super::repo().join("src/flags/severity.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .filter(|(_, sev)| *sev == "review")
        .map(|(code, _)| code.to_string())
        .collect()
}

/// Every paid trip, by a plain loop over the store's files, the flags
/// file, the clearings and the cards.
pub fn fold(h: &Home) -> Fold {
    let db = h.db();
    let mut community: BTreeMap<i64, String> = BTreeMap::new();
    let mut stmt = db.prepare("SELECT number, community FROM cards").unwrap();
    for r in stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (n, c) = r.unwrap();
        community.insert(n, c);
    }
    // The analysts' latest decision on each tap's rule: cleared or held.
    let mut decided: BTreeMap<(i64, i64, String), bool> = BTreeMap::new();
    let mut stmt = db
        .prepare("SELECT validator, seq, rules, decision FROM flag_clearings ORDER BY id")
        .unwrap();
    for r in stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })
        .unwrap()
    {
        let (v, s, rules, decision) = r.unwrap();
        for rule in rules.split(',') {
            decided.insert((v, s, rule.trim().to_string()), decision == "hold");
        }
    }
    let review = review_rules();
    let flags = ParquetReader::new(
        std::fs::File::open(h.root.join(format!("flags/month={MONTH}/flags.parquet"))).unwrap(),
    )
    .finish()
    .unwrap();
    let mut held: BTreeSet<(i64, i64)> = BTreeSet::new();
    for i in 0..flags.height() {
        let v = i64::from(
            flags
                .column("validator_id")
                .unwrap()
                .i32()
                .unwrap()
                .get(i)
                .unwrap(),
        );
        let s = flags.column("seq").unwrap().i64().unwrap().get(i).unwrap();
        let rule = flags
            .column("rule")
            .unwrap()
            .str()
            .unwrap()
            .get(i)
            .unwrap()
            .to_string();
        let holds = match decided.get(&(v, s, rule.clone())) {
            Some(held) => *held,
            None => !review.contains(&rule),
        };
        if holds {
            held.insert((v, s));
        }
    }
    let mut out = Fold::default();
    let mut stmt = db
        .prepare("SELECT path FROM tap_files WHERE replaced_at IS NULL AND month = ?1")
        .unwrap();
    let files: Vec<String> = stmt
        .query_map([MONTH], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for f in files {
        let df = ParquetReader::new(std::fs::File::open(h.root.join(f)).unwrap())
            .finish()
            .unwrap();
        let t = df
            .column("tapped_at")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        let t = t.i64().unwrap();
        let v = df
            .column("validator_id")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        let v = v.i64().unwrap();
        let s = df.column("seq").unwrap().cast(&DataType::Int64).unwrap();
        let s = s.i64().unwrap();
        let card = df
            .column("card_number")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        let card = card.i64().unwrap();
        let carrier = df
            .column("carrier_id")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        let carrier = carrier.i64().unwrap();
        let result = df.column("result").unwrap().str().unwrap();
        let route = df.column("route").unwrap().cast(&DataType::Int64).unwrap();
        let route = route.i64().unwrap();
        for i in 0..df.height() {
            if result.get(i) != Some("accepted") {
                continue;
            }
            if held.contains(&(v.get(i).unwrap(), s.get(i).unwrap())) {
                out.held += 1;
                continue;
            }
            let day = chrono::DateTime::from_timestamp_millis(t.get(i).unwrap())
                .unwrap()
                .with_timezone(&chrono_tz::Europe::Kyiv)
                .date_naive();
            assert_eq!(
                (day.year(), day.month()),
                (2026, 10),
                "a tap outside the Kyiv month"
            );
            let c = carrier.get(i);
            let k = fare(c.map(|c| c as i32), day);
            let e = out.carriers.entry(c.unwrap_or(-1)).or_default();
            e.0 += 1;
            e.1 += k;
            let com = community
                .get(&card.get(i).unwrap())
                .cloned()
                .unwrap_or_default();
            let e = out.communities.entry(com).or_default();
            e.0 += 1;
            e.1 += k;
            *out.days.entry(day).or_default() += 1;
            let e = out
                .route_days
                .entry((c.unwrap_or(-1), route.get(i).unwrap(), day))
                .or_default();
            e.0 += 1;
            e.1 += k;
        }
    }
    out
}
