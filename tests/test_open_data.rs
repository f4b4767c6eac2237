//! `kartka open-data` (issue 24, K6, K5): public aggregates with small
//! numbers withheld so that they cannot be worked out from the totals, a
//! pseudonymised research level for analysts, and signed manifests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, TimeZone, Timelike};
use chrono_tz::Europe::Kyiv;
use polars::prelude::*;
use proptest::prelude::*;

use crate::common::{Home, ok};

const MONTH: &str = "2026-10";

fn month_home(taps: u32, holders: u32, seed: u64) -> Home {
    let h = Home::new();
    ok(h.line(&format!(
        "generate month --month {MONTH} --taps {taps} --holders {holders} --validators 10 \
         --vehicles 8 --routes 5 --carriers 3 --anomalies 0.02 --seed {seed} --format store --out gen"
    )));
    h
}

/// One card, alone on route 3 at 03:15 on Sunday 2026-10-18 (Kyiv): no
/// one else rides at that hour.
fn a_lone_night_rider(h: &Home) -> i64 {
    let card: i64 = h
        .db()
        .query_row(
            "SELECT number FROM cards ORDER BY number LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let csv = h.work.join("night.csv");
    std::fs::write(
        &csv,
        format!(
            "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n\
             950,9500,3,1,{card},04AABBCC,2026-10-18T03:15:00+03:00,1,accepted,1\n"
        ),
    )
    .unwrap();
    ok(h.kartka(&["taps", "import", csv.to_str().unwrap()]));
    card
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// The attacker: every number the release publishes, every relation
/// anyone can write between its tables, and elimination over the
/// withheld ones. Is the withheld number `target` determined?
struct Attack {
    /// Unknowns: (table, key) of each withheld number.
    unknowns: Vec<(String, String)>,
    /// Σ coefficient × unknown = constant.
    equations: Vec<(BTreeMap<usize, f64>, f64)>,
}

impl Attack {
    fn of(release: &Path) -> Attack {
        let en = release.join("csv/en");
        let mut value: BTreeMap<(String, String), Option<f64>> = BTreeMap::new();
        let mut put = |table: &str, key: String, row: &BTreeMap<String, String>| {
            let v = (row["suppressed"] == "false").then(|| row["trips"].parse::<f64>().unwrap());
            value.insert((table.to_string(), key), v);
        };
        let t1 = read_csv(&en.join("trips_by_route_hour.csv"));
        for r in &t1 {
            put(
                "t1",
                format!(
                    "{}|{}|{}|{}",
                    r["month"], r["route"], r["day_type"], r["hour"]
                ),
                r,
            );
        }
        let t2 = read_csv(&en.join("trips_by_route_group.csv"));
        for r in &t2 {
            put(
                "t2",
                format!("{}|{}|{}", r["month"], r["route"], r["category_group"]),
                r,
            );
        }
        for r in read_csv(&en.join("trips_by_community.csv")) {
            put("t3", format!("{}|{}", r["month"], r["community"]), &r);
        }
        for r in read_csv(&en.join("trips_by_carrier.csv")) {
            put("t4", format!("{}|{}", r["month"], r["carrier"]), &r);
        }
        for r in read_csv(&en.join("totals.csv")) {
            put("g", r["month"].clone(), &r);
        }
        let unknowns: Vec<(String, String)> = value
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        let index: BTreeMap<(String, String), usize> = unknowns
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let mut equations = Vec::new();
        // total = Σ parts, for every group of keys that adds up.
        let mut add = |total: (String, String), parts: Vec<(String, String)>| {
            let mut coef: BTreeMap<usize, f64> = BTreeMap::new();
            let mut constant = 0.0;
            for (k, sign) in
                std::iter::once((total, -1.0)).chain(parts.into_iter().map(|p| (p, 1.0)))
            {
                match value.get(&k) {
                    Some(Some(v)) => constant -= sign * v,
                    Some(None) => *coef.entry(index[&k]).or_default() += sign,
                    None => {} // absent: zero
                }
            }
            equations.push((coef, constant));
        };
        let key = |t: &str, k: String| (t.to_string(), k);
        let months: BTreeSet<String> = t1.iter().map(|r| r["month"].clone()).collect();
        for m in &months {
            let routes: BTreeSet<String> = t1
                .iter()
                .filter(|r| &r["month"] == m && r["route"] != "all")
                .map(|r| r["route"].clone())
                .collect();
            let hours: BTreeSet<(String, String)> = t1
                .iter()
                .filter(|r| &r["month"] == m && r["route"] == "all")
                .map(|r| (r["day_type"].clone(), r["hour"].clone()))
                .collect();
            let groups: BTreeSet<String> = t2
                .iter()
                .filter(|r| &r["month"] == m && r["route"] == "all")
                .map(|r| r["category_group"].clone())
                .collect();
            for r in &routes {
                let total = key("t2", format!("{m}|{r}|all"));
                add(
                    total.clone(),
                    hours
                        .iter()
                        .map(|(d, h)| key("t1", format!("{m}|{r}|{d}|{h}")))
                        .collect(),
                );
                add(
                    total,
                    groups
                        .iter()
                        .map(|g| key("t2", format!("{m}|{r}|{g}")))
                        .collect(),
                );
            }
            for (d, h) in &hours {
                add(
                    key("t1", format!("{m}|all|{d}|{h}")),
                    routes
                        .iter()
                        .map(|r| key("t1", format!("{m}|{r}|{d}|{h}")))
                        .collect(),
                );
            }
            for g in &groups {
                add(
                    key("t2", format!("{m}|all|{g}")),
                    routes
                        .iter()
                        .map(|r| key("t2", format!("{m}|{r}|{g}")))
                        .collect(),
                );
            }
            let total = key("g", m.clone());
            add(
                total.clone(),
                routes
                    .iter()
                    .map(|r| key("t2", format!("{m}|{r}|all")))
                    .collect(),
            );
            add(
                total.clone(),
                hours
                    .iter()
                    .map(|(d, h)| key("t1", format!("{m}|all|{d}|{h}")))
                    .collect(),
            );
            add(
                total.clone(),
                groups
                    .iter()
                    .map(|g| key("t2", format!("{m}|all|{g}")))
                    .collect(),
            );
            for t in ["t3", "t4"] {
                let parts: Vec<(String, String)> = value
                    .keys()
                    .filter(|(tt, k)| tt == t && k.starts_with(&format!("{m}|")))
                    .cloned()
                    .collect();
                add(total.clone(), parts);
            }
        }
        Attack {
            unknowns,
            equations,
        }
    }

    /// Whether elimination pins `target` down (its unit vector is in the
    /// row space of the equations over the unknowns).
    fn determines(&self, target: &(String, String)) -> bool {
        let Some(t) = self.unknowns.iter().position(|k| k == target) else {
            return true; // published
        };
        let n = self.unknowns.len();
        let mut rows: Vec<Vec<f64>> = self
            .equations
            .iter()
            .filter(|(c, _)| !c.is_empty())
            .map(|(c, _)| {
                let mut row = vec![0.0; n];
                for (&i, &v) in c {
                    row[i] = v;
                }
                row
            })
            .collect();
        let mut pivot_row_of = vec![None; n];
        let mut top = 0;
        for c in 0..n {
            let Some(p) =
                (top..rows.len()).max_by(|&a, &b| rows[a][c].abs().total_cmp(&rows[b][c].abs()))
            else {
                break;
            };
            if rows[p][c].abs() < 1e-9 {
                continue;
            }
            rows.swap(top, p);
            let d = rows[top][c];
            for v in rows[top].iter_mut() {
                *v /= d;
            }
            let pr = rows[top].clone();
            for (r, row) in rows.iter_mut().enumerate() {
                if r != top && row[c].abs() > 1e-12 {
                    let f = row[c];
                    for (v, p) in row.iter_mut().zip(&pr) {
                        *v -= f * p;
                    }
                }
            }
            pivot_row_of[c] = Some(top);
            top += 1;
        }
        match pivot_row_of[t] {
            None => false,
            Some(r) => rows[r]
                .iter()
                .enumerate()
                .all(|(i, v)| i == t || v.abs() < 1e-9),
        }
    }
}

fn publish(h: &Home, out: &str, min_cell: Option<u32>) -> serde_json::Value {
    if let Some(m) = min_cell {
        let config = h.root.join("kartka.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains("min_cell = 10"));
        std::fs::write(
            &config,
            text.replace("min_cell = 10", &format!("min_cell = {m}")),
        )
        .unwrap();
    }
    ok(h.line(&format!(
        "--json open-data --from 2026-10-01 --to 2026-10-31 --out {out}"
    )))
    .json()
}

#[test]
fn a_lone_night_rider_is_in_no_public_table_nor_in_their_totals() {
    let h = month_home(20_000, 1_200, 7);
    a_lone_night_rider(&h);
    let s = publish(&h, "open", None);
    let release = h.work.join("open");
    // The cell is there, withheld, and no sum of the tables gives it.
    let t1 = read_csv(&release.join("csv/en/trips_by_route_hour.csv"));
    let cell = t1
        .iter()
        .find(|r| r["route"] == "3" && r["day_type"] == "sunday_holiday" && r["hour"] == "3")
        .expect("the night cell is listed");
    assert_eq!(cell["suppressed"], "true");
    assert_eq!(cell["trips"], "");
    let hour = t1
        .iter()
        .find(|r| r["route"] == "all" && r["day_type"] == "sunday_holiday" && r["hour"] == "3")
        .unwrap();
    assert_eq!(
        hour["suppressed"], "true",
        "the hour's total is that one trip"
    );
    let attack = Attack::of(&release);
    let target = ("t1".to_string(), format!("{MONTH}|3|sunday_holiday|3"));
    assert!(
        !attack.determines(&target),
        "the lone rider's trip can be worked out"
    );
    // Nor any other withheld number.
    let exposed: Vec<_> = attack
        .unknowns
        .iter()
        .filter(|u| attack.determines(u))
        .collect();
    assert!(exposed.is_empty(), "withheld yet determined: {exposed:?}");
    // The Ukrainian copy says the same, in Ukrainian.
    let uk = read_csv(&release.join("csv/uk/trips_by_route_hour.csv"));
    assert!(uk[0].contains_key("маршрут") && uk[0].contains_key("приховано"));
    assert!(
        uk.iter()
            .any(|r| r["тип_дня"] == "неділя або свято" && r["приховано"] == "так")
    );
    // No card number, UID or holder field anywhere in the release.
    let card_numbers = card_numbers(&h);
    for f in walk(&release) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).to_string();
        for banned in [
            "card_number",
            "card_uid",
            "surname",
            "social_number",
            "04AABBCC",
        ] {
            assert!(!text.contains(banned), "{}: names {banned}", f.display());
        }
        if f.extension().is_some_and(|e| e == "csv") {
            for n in &card_numbers {
                assert!(
                    !text.contains(n.as_str()),
                    "{}: holds card {n}",
                    f.display()
                );
            }
        }
    }
    // Totals equal the report's for the period, before suppression.
    let report = ok(h.line("--json report --from 2026-10-01 --to 2026-10-31 --by route")).json();
    assert_eq!(s["trips"], report["validations"], "{s}");
    let totals = read_csv(&release.join("csv/en/totals.csv"));
    assert_eq!(totals[0]["trips"], report["validations"].to_string());
    // The withheld share is reported per table.
    let withheld = s["withheld"].as_array().unwrap();
    assert_eq!(withheld.len(), 4, "{s}");
    assert!(
        withheld
            .iter()
            .all(|w| w["withheld_pct"].as_f64().unwrap() < 100.0)
    );
    ok(h.line(&format!(
        "open-data verify open --key {}",
        h.root.join("keys/open-data-signing.pub").display()
    )));
}

/// Every card number of the registry, as text.
fn card_numbers(h: &Home) -> BTreeSet<String> {
    let db = h.db();
    let mut st = db.prepare("SELECT number FROM cards").unwrap();
    st.query_map([], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|n| n.unwrap().to_string())
        .collect()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Each published T1/T2/T3/T4 number with the distinct cards behind it,
/// counted straight from the tap store and the registry (Kyiv hours by
/// chrono-tz, not kartka's month clock).
fn cards_behind(h: &Home) -> BTreeMap<(String, String), usize> {
    let mut files = Vec::new();
    for e in walk(&h.root.join(format!("taps/month={MONTH}"))) {
        if e.extension().is_some_and(|x| x == "parquet") {
            files.push(e);
        }
    }
    let live: BTreeSet<String> = {
        let db = h.db();
        let mut st = db.prepare("SELECT path FROM tap_files").unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|p| p.unwrap())
            .collect()
    };
    let db = h.db();
    let mut st = db
        .prepare("SELECT number, category, community FROM cards")
        .unwrap();
    let registry: BTreeMap<i64, (String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .unwrap()
        .map(|x| x.unwrap())
        .collect();
    let config = kartka::config::Config::load(&h.root.join("kartka.toml")).unwrap();
    let group = |cat: &str| kartka::open_data::tables::group_of(&config, cat);
    let mut sets: BTreeMap<(String, String), BTreeSet<i64>> = BTreeMap::new();
    for f in files {
        let rel = f
            .strip_prefix(&h.root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        if !live.contains(&rel) {
            continue;
        }
        let df = ParquetReader::new(std::fs::File::open(&f).unwrap())
            .finish()
            .unwrap();
        let get = |n: &str| {
            df.column(n)
                .unwrap()
                .cast(&DataType::Int64)
                .unwrap()
                .i64()
                .unwrap()
                .clone()
        };
        let (card, route, carrier) = (get("card_number"), get("route"), get("carrier_id"));
        let t = df
            .column("tapped_at")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap()
            .i64()
            .unwrap()
            .clone();
        let result = df
            .column("result")
            .unwrap()
            .cast(&DataType::String)
            .unwrap()
            .str()
            .unwrap()
            .clone();
        for i in 0..df.height() {
            if result.get(i) != Some("accepted") {
                continue;
            }
            let at = Kyiv.timestamp_millis_opt(t.get(i).unwrap()).unwrap();
            let day = match at.weekday() {
                chrono::Weekday::Sat => "saturday",
                chrono::Weekday::Sun => "sunday_holiday",
                _ if [
                    (1, 1),
                    (3, 8),
                    (5, 1),
                    (5, 8),
                    (6, 28),
                    (7, 15),
                    (8, 24),
                    (10, 1),
                    (12, 25),
                ]
                .contains(&(at.month(), at.day())) =>
                {
                    "sunday_holiday"
                }
                _ => "weekday",
            };
            let c = card.get(i).unwrap();
            let r = route.get(i).unwrap();
            let (cat, com) = registry
                .get(&c)
                .map(|(a, b)| (group(a), b.clone()))
                .unwrap_or(("unknown".into(), "unknown".into()));
            let carrier = carrier.get(i).map(|x| x.to_string()).unwrap_or_default();
            for k in [
                ("t1".to_string(), format!("{r}|{day}|{}", at.hour())),
                ("t1".to_string(), format!("all|{day}|{}", at.hour())),
                ("t2".to_string(), format!("{r}|{cat}")),
                ("t2".to_string(), format!("all|{cat}")),
                ("t2".to_string(), format!("{r}|all")),
                ("t3".to_string(), com.clone()),
                ("t4".to_string(), carrier),
            ] {
                sets.entry(k).or_default().insert(c);
            }
        }
    }
    sets.into_iter().map(|(k, v)| (k, v.len())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random months: no published number stands for fewer than min_cell
    /// cards; every table adds up to the month's total with its withheld
    /// share; nothing withheld can be worked out.
    #[test]
    fn no_published_number_stands_for_fewer_cards_than_min_cell(
        seed in 1u64..1000,
        holders in 300u32..1500,
        min_cell in 5u32..15,
    ) {
        let h = month_home(8_000, holders, seed);
        let s = publish(&h, "open", Some(min_cell));
        let release = h.work.join("open");
        let behind = cards_behind(&h);
        let en = release.join("csv/en");
        let mut checked = 0;
        for (table, file, key) in [
            ("t1", "trips_by_route_hour.csv", &["route", "day_type", "hour"][..]),
            ("t2", "trips_by_route_group.csv", &["route", "category_group"][..]),
            ("t3", "trips_by_community.csv", &["community"][..]),
            ("t4", "trips_by_carrier.csv", &["carrier"][..]),
        ] {
            let rows = read_csv(&en.join(file));
            let mut published = 0i64;
            let mut cells = 0i64;
            for r in &rows {
                let k = key.iter().map(|c| r[*c].clone()).collect::<Vec<_>>().join("|");
                let is_cell = !k.contains("all");
                if r["suppressed"] == "false" {
                    let n = behind.get(&(table.to_string(), k.clone())).copied().unwrap_or(0);
                    prop_assert!(n >= min_cell as usize, "{table} {k}: {n} cards published");
                    checked += 1;
                    if is_cell {
                        published += r["trips"].parse::<i64>().unwrap();
                    }
                }
                cells += 1;
            }
            prop_assert!(cells > 0);
            let w = s["withheld"].as_array().unwrap().iter()
                .find(|w| w["table"] == file.trim_end_matches(".csv")).unwrap().clone();
            prop_assert_eq!(published + w["withheld_trips"].as_i64().unwrap(), s["trips"].as_i64().unwrap());
        }
        prop_assert!(checked > 0);
        let attack = Attack::of(&release);
        let exposed: Vec<_> = attack.unknowns.iter().filter(|u| attack.determines(u)).collect();
        prop_assert!(exposed.is_empty(), "withheld yet determined: {:?}", exposed);
    }
}

#[test]
fn verify_refuses_an_edited_byte_an_added_file_and_another_key() {
    let h = month_home(5_000, 600, 3);
    publish(&h, "open", None);
    let release = h.work.join("open");
    let key = h.root.join("keys/open-data-signing.pub");
    let verify = |key: &str| {
        h.kartka(&[
            "open-data",
            "verify",
            release.to_str().unwrap(),
            "--key",
            key,
        ])
    };
    let good = ok(verify(key.to_str().unwrap()));
    assert!(good.stderr.contains("verifies"), "{}", good.stderr);
    // Any byte edited, in any file, is caught, and the file named.
    let files = walk(&release);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for k in 0..24 {
        let f = &files[k % files.len()];
        let bytes = std::fs::read(f).unwrap();
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let at = (rng >> 33) as usize % bytes.len();
        let mut edited = bytes.clone();
        edited[at] ^= 1 << (k % 8);
        std::fs::write(f, &edited).unwrap();
        let r = verify(key.to_str().unwrap());
        assert_eq!(r.code, 65, "{} byte {at}: {}", f.display(), r.stderr);
        assert!(r.stderr.contains("does not verify"), "{}", r.stderr);
        std::fs::write(f, &bytes).unwrap();
    }
    ok(verify(key.to_str().unwrap()));
    // A file added.
    std::fs::write(release.join("csv/en/extra.csv"), "a\n1\n").unwrap();
    let r = verify(key.to_str().unwrap());
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("csv/en/extra.csv: not in the manifest"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(release.join("csv/en/extra.csv")).unwrap();
    // Another home's release, signed with its own key: refused under the
    // city's, and good under its own.
    let h2 = month_home(5_000, 600, 4);
    publish(&h2, "open2", None);
    let o_dir = h2.work.join("open2");
    let r = verify_with(&h, &o_dir, key.to_str().unwrap());
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("the signature does not hold"),
        "{}",
        r.stderr
    );
    let o_key = h2.root.join("keys/open-data-signing.pub");
    ok(verify_with(&h, &o_dir, o_key.to_str().unwrap()));
    // A file changed, its hash put right in the manifest, and the manifest
    // signed again with another key: refused under the city's key.
    let (other, _) =
        kartka::open_data::sign::load_or_create(&h2.root.join("keys/open-data-signing.key"))
            .unwrap();
    let totals = release.join("csv/en/totals.csv");
    let forged = std::fs::read_to_string(&totals)
        .unwrap()
        .replace("false", "true");
    std::fs::write(&totals, &forged).unwrap();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(release.join("manifest.json")).unwrap()).unwrap();
    for f in manifest["files"].as_array_mut().unwrap() {
        if f["path"] == "csv/en/totals.csv" {
            f["sha256"] = kartka::hash::sha256_hex(forged.as_bytes()).into();
            f["bytes"] = forged.len().into();
        }
    }
    let text = serde_json::to_string_pretty(&manifest).unwrap();
    std::fs::write(release.join("manifest.json"), &text).unwrap();
    std::fs::write(
        release.join("manifest.json.sig"),
        format!(
            "{}\n",
            kartka::open_data::sign::sign(&other, text.as_bytes())
        ),
    )
    .unwrap();
    let r = verify(key.to_str().unwrap());
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("the signature does not hold"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("totals.csv"),
        "the hashes match: {}",
        r.stderr
    );
    // A bad key is a usage error; a folder without a manifest, no input.
    assert_eq!(verify("abc").code, 2);
    let empty = h.work.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(verify_with(&h, &empty, key.to_str().unwrap()).code, 66);
}

fn verify_with(h: &Home, dir: &Path, key: &str) -> crate::common::Run {
    h.kartka(&["open-data", "verify", dir.to_str().unwrap(), "--key", key])
}

#[test]
fn a_research_release_is_pseudonymised_per_release_audited_and_for_analysts_only() {
    let h = month_home(6_000, 700, 5);
    ok(h.line("accounts add petro --role analyst"));
    ok(h.line("accounts add avto --role carrier --carrier 1"));
    let research = |user: &str, out: &str, purpose: Option<&str>| {
        let mut args = vec![
            "--json",
            "open-data",
            "--level",
            "research",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--out",
            out,
        ];
        if let Some(p) = purpose {
            args.extend(["--purpose", p]);
        }
        h.kartka_as(user, &args)
    };
    // A carrier account is refused, and so is an analyst without a purpose.
    let r = research("avto", "r0", Some("curious"));
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(!h.work.join("r0").exists());
    let r = research("petro", "r0", None);
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(r.stderr.contains("--purpose"), "{}", r.stderr);
    // The admin (test-clerk) neither: research is for analysts.
    assert_eq!(research("test-clerk", "r0", Some("x")).code, 77);
    assert!(!h.work.join("r0").exists());
    let a = ok(research("petro", "r1", Some("ridership study 12/2026"))).json();
    let b = ok(research("petro", "r2", Some("ridership study 12/2026"))).json();
    let rows1 = read_csv(&h.work.join("r1/csv/en/trips.csv"));
    let rows2 = read_csv(&h.work.join("r2/csv/en/trips.csv"));
    let report = ok(h.line("--json report --from 2026-10-01 --to 2026-10-31 --by route")).json();
    assert_eq!(rows1.len() as i64, report["validations"].as_i64().unwrap());
    assert_eq!(a["trips"], report["validations"]);
    // 15-minute times, groups not categories, no card number.
    for r in &rows1 {
        let minute: u32 = r["time"][3..].parse().unwrap();
        assert_eq!(minute % 15, 0, "{r:?}");
        assert_eq!(r["pseudonym"].len(), 16);
        assert!(!r["category_group"].contains('-'), "{r:?}");
    }
    // The same cards under other pseudonyms in another release.
    let p1: BTreeSet<&str> = rows1.iter().map(|r| r["pseudonym"].as_str()).collect();
    let p2: BTreeSet<&str> = rows2.iter().map(|r| r["pseudonym"].as_str()).collect();
    assert_eq!(p1.len(), p2.len());
    assert!(p1.is_disjoint(&p2), "two releases share pseudonyms");
    let numbers = card_numbers(&h);
    assert!(p1.iter().all(|p| !numbers.contains(*p)));
    // Private files, the key kept, never in the release.
    use std::os::unix::fs::PermissionsExt;
    for f in walk(&h.work.join("r1")) {
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o077;
        assert_eq!(mode, 0, "{} is readable by others", f.display());
    }
    let key = std::path::PathBuf::from(a["pseudonym_key"].as_str().unwrap());
    assert!(key.starts_with(h.root.join("keys/open-data")), "{key:?}");
    assert_ne!(a["pseudonym_key"], b["pseudonym_key"]);
    // Audited with every resident in it (K5): a rider sees the release.
    let social: String = h
        .db()
        .query_row(
            "SELECT p.social_number FROM people p JOIN cards c ON c.person_id = p.id ORDER BY c.number LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let seen = ok(h.line(&format!("--json audit person {social}"))).json();
    let text = seen.to_string();
    assert!(text.contains("open-data research release"), "{text}");
    assert!(text.contains("ridership study 12/2026"), "{text}");
    ok(h.line(&format!(
        "open-data verify r1 --key {}",
        h.root.join("keys/open-data-signing.pub").display()
    )));
}

#[test]
fn bad_asks_write_nothing() {
    let h = month_home(3_000, 400, 2);
    // --from after --to.
    let r = h.line("open-data --from 2026-10-31 --to 2026-10-01 --out x");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("--from 2026-10-31 is after --to 2026-10-01")
    );
    // A period with no taps.
    let r = h.line("open-data --from 2025-01-01 --to 2025-01-31 --out x");
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no taps stored between 2025-01-01 and 2025-01-31")
    );
    assert!(!h.work.join("x").exists() && !h.work.join("x.partial").exists());
    // A folder that holds something is never written into.
    std::fs::create_dir_all(h.work.join("full")).unwrap();
    std::fs::write(h.work.join("full/keep.txt"), "mine").unwrap();
    let r = h.line("open-data --from 2026-10-01 --to 2026-10-31 --out full");
    assert_eq!(r.code, 73, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("full: the folder exists and is not empty")
    );
    assert_eq!(
        std::fs::read_to_string(h.work.join("full/keep.txt")).unwrap(),
        "mine"
    );
    // A min_cell of one names people: refused as bad config.
    let config = h.root.join("kartka.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("min_cell = 10", "min_cell = 1")).unwrap();
    let r = h.line("open-data --from 2026-10-01 --to 2026-10-31 --out y");
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("min_cell = 1"), "{}", r.stderr);
    assert!(!h.work.join("y").exists());
}

#[test]
fn a_release_is_staged_in_a_new_folder_and_a_killed_ones_is_swept() {
    let h = month_home(3_000, 400, 2);
    // What a kill leaves, and a link another user planted at the old
    // staging name.
    let stale = h.work.join(".rel.Ab12Cd.partial");
    std::fs::create_dir_all(stale.join("csv")).unwrap();
    std::fs::write(stale.join("csv/half.csv"), "half").unwrap();
    let victim = h.work.join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::os::unix::fs::symlink(&victim, h.work.join("rel.partial")).unwrap();
    ok(h.line("open-data --from 2026-10-01 --to 2026-10-31 --out rel"));
    assert!(h.work.join("rel/manifest.json").is_file());
    assert!(!stale.exists(), "swept by the next release to rel");
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 0);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(h.work.join("rel")).unwrap().permissions(),
    ) & 0o777;
    assert_eq!(mode, 0o755, "a public release");
}
