//! Rule 2 in the month's network and rule 4 by the card's own month
//! (issue 35), on a real home: a hub's regular changers, a breakdown's
//! passengers and a heavy rider are not flagged; a one-off change at the
//! hub, a change nobody else makes, a sudden day far above a card's habit
//! are, with evidence that says so; a companion's category rides more.
//! The DuckDB and Spark peers flag the same.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use crate::common::Home;
use crate::common::store::{Ride, vendor_csv_rides};

/// A home with an honest generated October (nothing planted).
fn honest_month() -> Home {
    let h = Home::new();
    let r = h.kartka(&[
        "generate",
        "month",
        "--month",
        "2026-10",
        "--taps",
        "20000",
        "--holders",
        "3000",
        "--validators",
        "12",
        "--vehicles",
        "8",
        "--routes",
        "3",
        "--carriers",
        "2",
        "--anomalies",
        "0",
        "--format",
        "store",
        "--out",
        "gen",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    h
}

/// Kyiv "YYYY-MM-DD HH:MM:SS" as UTC milliseconds.
fn kyiv(text: &str) -> i64 {
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    chrono_tz::Europe::Kyiv
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .timestamp_millis()
}

/// Registered cards that never ride in the store: category → (card, UID).
fn idle_cards(h: &Home) -> BTreeMap<String, Vec<(i64, String)>> {
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let files = kartka::taps::parquet::live_files(&reg, None).unwrap();
    let df = kartka::taps::parquet::read(&home, &files).unwrap();
    let riding: BTreeSet<i64> = df
        .column("card_number")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let db = h.db();
    let mut stmt = db
        .prepare(
            "SELECT c.number, c.category, (SELECT e.uid FROM card_events e WHERE e.card_id = c.id
               AND e.uid IS NOT NULL ORDER BY e.id DESC LIMIT 1) FROM cards c ORDER BY c.number",
        )
        .unwrap();
    let mut out: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
        })
        .unwrap();
    for row in rows {
        let (card, category, uid): (i64, String, String) = row.unwrap();
        if !riding.contains(&card) {
            out.entry(category).or_default().push((card, uid));
        }
    }
    out
}

/// The month's riding: (validator, vehicle, route) by stop name.
fn ride(v: i64, card: &(i64, String), at: i64) -> Ride {
    Ride {
        validator: v,
        vehicle: v * 10,
        route: v - 800,
        card: card.0,
        uid: card.1.clone(),
        at_ms: at,
    }
}

/// `card` on validator `from` at `at`, then on `to` `gap_s` later.
fn change(rides: &mut Vec<Ride>, card: &(i64, String), from: i64, to: i64, at: &str, gap_s: i64) {
    let t = kyiv(at);
    rides.push(ride(from, card, t));
    rides.push(ride(to, card, t + gap_s * 1000));
}

/// `n` taps by `card` on `day`, an hour apart from 06:10, on validators
/// 867 and 868 in turn.
fn day_of(rides: &mut Vec<Ride>, card: &(i64, String), day: u32, n: i64) {
    for k in 0..n {
        let at = kyiv(&format!("2026-10-{day:02} {:02}:10:00", 6 + k));
        rides.push(ride(if k % 2 == 0 { 867 } else { 868 }, card, at));
    }
}

#[test]
fn the_network_explains_transfers_and_a_cards_own_month_its_heavy_riding() {
    let h = honest_month();
    let idle = idle_cards(&h);
    let companions = ["disability-1", "child-disability", "war-disability"];
    let mut plain = idle
        .iter()
        .filter(|(c, _)| !companions.contains(&c.as_str()))
        .flat_map(|(_, cards)| cards.iter().cloned());
    let mut companion = companions
        .iter()
        .flat_map(|c| idle.get(*c).into_iter().flatten().cloned());
    let mut rides = Vec::new();
    // Hub: twelve cards change from route 61 (validator 861) to route 62
    // (862) in 150–205 s on six mornings, an hour apart.
    for k in 0..12 {
        let card = plain.next().unwrap();
        for day in 1..=6 {
            let at = format!("2026-10-{day:02} {:02}:00:00", 6 + k);
            change(&mut rides, &card, 861, 862, &at, 150 + k * 5);
        }
    }
    // A card changing there once; one changing between 63 and 64, which
    // no other card does.
    let once = plain.next().unwrap();
    change(&mut rides, &once, 861, 862, "2026-10-10 20:00:00", 180);
    let stray = plain.next().unwrap();
    change(&mut rides, &stray, 863, 864, "2026-10-10 20:00:00", 100);
    // A breakdown: six cards leave bus 8650 for bus 8660 within ten minutes.
    for k in 0..6 {
        let card = plain.next().unwrap();
        let at = format!("2026-10-15 09:{:02}:00", 10 + k * 2);
        change(&mut rides, &card, 865, 866, &at, 120);
    }
    // A heavy rider: nine taps a day on 28 days; fourteen on the 12th.
    let heavy = plain.next().unwrap();
    for day in 1..=28 {
        day_of(&mut rides, &heavy, day, if day == 12 { 14 } else { 9 });
    }
    // Eight taps on the 5th and two on the 6th: too many for a card
    // alone, not for one whose holder's companion rides on it.
    let alone = plain.next().unwrap();
    let with_companion = companion.next().unwrap();
    for card in [&alone, &with_companion] {
        day_of(&mut rides, card, 5, 8);
        day_of(&mut rides, card, 6, 2);
    }
    let csv = h.work.join("network-2026-10.csv");
    vendor_csv_rides(&csv, &rides);
    let r = h.kartka(&["taps", "import", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["breakdown_transfers"], 6, "{}", j["hubs"]);
    let hubs = j["hubs"].as_array().unwrap();
    assert_eq!(hubs.len(), 1, "{hubs:?}");
    assert_eq!(hubs[0]["from_route"], 61);
    assert_eq!(hubs[0]["to_route"], 62);
    assert_eq!(hubs[0]["cards"], 13);
    assert_eq!(hubs[0]["transfers"], 72);
    let flags = flags_of(&h);
    let of = |rule: &str| -> Vec<&(i64, String, String)> {
        flags.iter().filter(|f| f.1 == rule).collect()
    };
    let travel = of("impossible_travel");
    let cards: BTreeSet<i64> = travel.iter().map(|f| f.0).collect();
    assert_eq!(cards, BTreeSet::from([once.0, stray.0]), "{travel:?}");
    let text = |card: i64, rule: &str| -> String {
        of(rule)
            .iter()
            .find(|f| f.0 == card)
            .map(|f| f.2.clone())
            .unwrap_or_default()
    };
    let e = text(once.0, "impossible_travel");
    assert!(
        e.contains("route pair 61→62 is a hub (13 cards change in 150–205 s this month), but this card changed so on one day only"),
        "{e}"
    );
    let e = text(stray.0, "impossible_travel");
    assert!(
        e.contains("route pair 63→64 is no hub: 0 other cards changed so this month"),
        "{e}"
    );
    let busy = of("excessive_daily_use");
    let per_card: BTreeMap<i64, usize> = busy.iter().fold(BTreeMap::new(), |mut m, f| {
        *m.entry(f.0).or_default() += 1;
        m
    });
    assert_eq!(
        per_card,
        BTreeMap::from([(heavy.0, 14), (alone.0, 8)]),
        "{busy:?}"
    );
    let e = text(heavy.0, "excessive_daily_use");
    assert!(
        e.contains(
            "usually 9 a day, riding on 28 of 31 days; 14 on 2026-10-12 (allowance 6 a day)"
        ),
        "{e}"
    );
    let e = text(alone.0, "excessive_daily_use");
    assert!(
        e.contains("rides on 2 of 31 days only; 8 on 2026-10-05 (allowance 6 a day)"),
        "{e}"
    );
    peers_agree(&h);
    remembered(&h, heavy.0, &stray);
}

/// Decisions with a scope and an end month: the heavy rider's riding is
/// cleared in every run up to its end (and counted by `taps quality`), a
/// route pair becomes a hub; what is malformed records nothing.
fn remembered(h: &Home, heavy: i64, stray: &(i64, String)) {
    let before = h.count("SELECT count(*) FROM flag_decisions");
    for (args, says) in [
        (
            vec![
                "--card",
                "1",
                "--rule",
                "excessive_daily_use",
                "--until",
                "2027-13",
            ],
            "--until \"2027-13\" is not a month YYYY-MM",
        ),
        (
            vec!["--card", "1", "--rule", "excessive_daily_use"],
            "needs its last month: --until YYYY-MM",
        ),
        (
            vec!["--card", "1", "--until", "2027-06"],
            "--card needs the one rule it clears",
        ),
        (
            vec!["--hub", "3", "--until", "2027-06"],
            "give the two routes",
        ),
        (
            vec!["--hub", "3,3", "--until", "2027-06"],
            "two different routes",
        ),
        (
            vec![
                "--route",
                "8",
                "--hours",
                "25:00-01:30",
                "--until",
                "2027-06",
            ],
            "give the route's hours as HH:MM-HH:MM",
        ),
    ] {
        let mut all = vec!["taps", "clear"];
        all.extend(args.iter().copied());
        all.extend(["--reason", "checked"]);
        let r = h.kartka(&all);
        assert_eq!(r.code, 65, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("Nothing was cleared."), "{}", r.stderr);
    }
    assert_eq!(h.count("SELECT count(*) FROM flag_decisions"), before);
    let card = heavy.to_string();
    let r = h.kartka(&[
        "taps",
        "clear",
        "--card",
        &card,
        "--rule",
        "excessive_daily_use",
        "--until",
        "2027-06",
        "--reason",
        "hospital shuttle every day; 14 on the 12th: a second appointment",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("decision D-1 recorded up to 2027-06"),
        "{}",
        r.stderr
    );
    let r = h.kartka(&[
        "taps",
        "clear",
        "--hub",
        "63,64",
        "--until",
        "2026-10",
        "--reason",
        "new interchange",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // One that ended before the month changes nothing.
    let r = h.kartka(&[
        "taps",
        "clear",
        "--hub",
        "61,62",
        "--until",
        "2026-09",
        "--reason",
        "old interchange",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = h.kartka(&["taps", "flag", "--month", "2026-10", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(
        j["by_rule"]["excessive_daily_use"]["review"], 8,
        "{}",
        j["by_rule"]
    );
    let flags = flags_of(h);
    assert!(
        !flags.iter().any(|f| f.0 == stray.0),
        "the decided hub explains the stray change"
    );
    assert!(
        flags.iter().any(|f| f.1 == "impossible_travel"),
        "the one-off stays"
    );
    assert_eq!(
        h.count(
            "SELECT count(*) FROM flag_clearings WHERE source = 'decision D-1' AND rules = 'excessive_daily_use'"
        ),
        14
    );
    // A second run adds no clearing twice.
    let r = h.kartka(&["taps", "flag", "--month", "2026-10"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        h.count("SELECT count(*) FROM flag_clearings WHERE source = 'decision D-1'"),
        14
    );
    let r = h.kartka(&["taps", "quality", "--months", "1", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let q = r.json();
    let rule = q["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "excessive_daily_use")
        .unwrap()
        .clone();
    assert_eq!(
        (rule["flagged"].clone(), rule["cleared"].clone()),
        (22.into(), 14.into())
    );
    // The peers read the decisions too.
    peers_agree(h);
}

/// (card, rule, English evidence) of the month's flags.
fn flags_of(h: &Home) -> Vec<(i64, String, String)> {
    let df = ParquetReader::new(
        std::fs::File::open(h.root.join("flags/month=2026-10/flags.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
    let card = df.column("card_number").unwrap().i64().unwrap();
    let rule = df.column("rule").unwrap().str().unwrap();
    let en = df.column("evidence_en").unwrap().str().unwrap();
    (0..df.height())
        .map(|i| {
            (
                card.get(i).unwrap(),
                rule.get(i).unwrap().to_string(),
                en.get(i).unwrap().to_string(),
            )
        })
        .collect()
}

/// The DuckDB and Spark peers flag exactly what kartka stored (each
/// skipped without its Python package unless required).
fn peers_agree(h: &Home) {
    let flags = h.root.join("flags/month=2026-10/flags.parquet");
    for (script, python) in [
        (
            "scripts/flag-duckdb.py",
            crate::common::python_with_duckdb("the DuckDB peer"),
        ),
        (
            "scripts/flag-spark.py",
            crate::common::python_with_spark("the Spark SQL flags"),
        ),
    ] {
        let Some(python) = python else { continue };
        let out = std::process::Command::new(&python)
            .arg(crate::common::repo().join(script))
            .arg(&h.root)
            .arg("2026-10")
            .arg("--compare")
            .arg(&flags)
            .env("SPARK_DRIVER_MEMORY", "1g")
            .env("SPARK_SHUFFLE_PARTITIONS", "2")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
