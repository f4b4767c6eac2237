//! Taps from sources that carry no validator's MAC (vendor exports) meet
//! the validators' signed taps: a sequence number names one tap, the
//! signed tap wins, nothing is dropped silently, a conflict is never acked
//! (issue 33, item 1); and the money reads only the flags file its run
//! recorded (item 5).

use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::common::sim::{Sim, dock, recorded};
use crate::common::store::{
    Contents, VendorRow, assert_exactly_once, contents, fleet, vendor_csv, vendor_csv_full,
};
use crate::common::{Home, ok};

fn keys(validator: i64, n: i64) -> BTreeSet<(i64, i64)> {
    (1..=n).map(|s| (validator, s)).collect()
}

/// `n` vendor rows of `validator` from `first` on, an hour apart from
/// `day` at 08:00 Kyiv, by card 1000000008.
fn planted(validator: i64, first: i64, n: i64, day: &str) -> Vec<(i64, i64, String, i64)> {
    (0..n)
        .map(|i| {
            let at = format!("{day}T08:{:02}:{:02}+03:00", (i / 60) % 60, i % 60);
            (validator, 1000000008, at, first + i)
        })
        .collect()
}

#[test]
fn a_vendor_file_cannot_take_a_validators_sequence_numbers() {
    let h = Home::new();
    fleet(&h);
    let state = recorded(&h, 2000, 7);
    // The attacker's export: validator 7, seq 1-500, taps it never made.
    let csv = h.work.join("vendor-7.csv");
    vendor_csv(&csv, &planted(7, 1, 500, "2026-10-02"));
    let r = ok(h.kartka(&["--json", "taps", "import", csv.to_str().unwrap()]));
    assert_eq!(r.json()["taps_new"], 500);

    let sim = Sim::start(&h, &state, &[]);
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    let read = j["docked"][0]["taps_read"].as_i64().unwrap();
    assert!(read > 1900, "{j}");
    assert_eq!(j["taps_new"], read, "every signed tap is stored: {j}");
    assert_eq!(j["taps_replaced"], 500);
    assert_eq!(j["taps_duplicate"], 0);
    assert_eq!(j["docked"][0]["acked_up_to"], read);
    assert!(
        r.stderr.contains("500 vendor rows replaced"),
        "{}",
        r.stderr
    );
    assert_exactly_once(&h, &keys(7, read));
    let dock_batch = h.count("SELECT max(id) FROM tap_batches WHERE source = 'dock'");
    let held = contents(&h);
    assert!(
        held.values()
            .all(|t| t.4 == dock_batch && t.1 != 1000000008),
        "only the validator's taps are in the money"
    );
    // The vendor rows are kept, in quarantine, with the batch that won.
    let r = ok(h.kartka(&["--json", "taps", "conflicts"]));
    let q = r.json();
    let q = q.as_array().unwrap();
    assert_eq!(q.len(), 500);
    assert!(
        q.iter()
            .all(|x| x["kind"] == "replaced" && x["card"] == 1000000008)
    );
    assert!(q.iter().all(|x| x["kept_batch"] == dock_batch));

    // The same export again is refused whole, the signed taps named.
    let r = h.kartka(&["taps", "import", csv.to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("500 row(s) carry a validator and seq the store holds")
            && r.stderr
                .contains("line 2: validator 7 seq 1 at 2026-10-02 08:00")
            && r.stderr.contains("a validator's signed tap")
            && r.stderr.contains("nothing of this file was stored"),
        "{}",
        r.stderr
    );
    assert_eq!(contents(&h), held, "nothing changed");
    // Docked again: every tap already stored, nothing replaced twice.
    let r = dock(&h, &sim.port);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["taps_new"], 0);
    assert_eq!(h.count("SELECT count(*) FROM tap_conflicts"), 500);
    sim.stop();
}

#[test]
fn a_vendor_whose_numbering_restarts_is_refused_whole_with_the_rows_named() {
    let h = Home::new();
    fleet(&h);
    let october = h.work.join("october.csv");
    vendor_csv(&october, &planted(9, 1, 300, "2026-10-05"));
    ok(h.kartka(&["taps", "import", october.to_str().unwrap()]));
    let before = contents(&h);
    // November's export numbers from 1 again.
    let november = h.work.join("november.csv");
    vendor_csv(&november, &planted(9, 1, 200, "2026-11-05"));
    let r = h.kartka(&["--json", "taps", "import", november.to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("200 row(s) carry a validator and seq")
            && r.stderr
                .contains("line 2: validator 9 seq 1 at 2026-11-05 07:00")
            && r.stderr.contains("the store holds a vendor row")
            && r.stderr.contains("numbering restarts"),
        "{}",
        r.stderr
    );
    assert_eq!(contents(&h), before, "nothing of November was stored");
    assert_eq!(
        h.count("SELECT count(*) FROM tap_batches"),
        1,
        "no batch recorded for the refused file"
    );
    // October again is the same taps: all already stored, exit 0.
    let r = ok(h.kartka(&["--json", "taps", "import", october.to_str().unwrap()]));
    assert_eq!(r.json()["taps_duplicate"], 300);
    // Numbering that goes on is taken.
    let go_on = h.work.join("november-continued.csv");
    vendor_csv(&go_on, &planted(9, 301, 200, "2026-11-05"));
    let r = ok(h.kartka(&["--json", "taps", "import", go_on.to_str().unwrap()]));
    assert_eq!(r.json()["taps_new"], 200);
    // Two files of one run that clash with each other: refused before
    // either is stored.
    let (a, b) = (h.work.join("a.csv"), h.work.join("b.csv"));
    vendor_csv(&a, &planted(9, 1000, 5, "2026-11-06"));
    vendor_csv(&b, &planted(9, 1000, 5, "2026-11-07"));
    let r = h.kartka(&["taps", "import", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("carries another tap under it"),
        "{}",
        r.stderr
    );
    assert_eq!(
        h.count("SELECT count(*) FROM tap_ranges WHERE seq_last >= 1000"),
        0
    );
}

#[test]
fn a_signed_tap_that_differs_from_a_signed_tap_stored_is_kept_apart_and_never_acked() {
    let h = Home::new();
    fleet(&h);
    let first = recorded(&h, 300, 7);
    let sim = Sim::start(&h, &first, &[]);
    assert_eq!(dock(&h, &sim.port).code, 0);
    sim.stop();
    let before = contents(&h);
    // Another validator 7 (a flash replaced, a second unit with id 7):
    // its own taps under the same numbers.
    let other = h.work.join("sim-7-other");
    let out = std::process::Command::new(crate::common::sim::sim_bin())
        .args(["serve", "--no-serve", "--validator", "7", "--seed", "2"])
        .args(["--start", "2026-10-09T06:00:00+03:00"])
        .arg("--state")
        .arg(&other)
        .args(["--generate", "300", "--cards", "50"])
        .output()
        .unwrap();
    assert!(out.status.success());
    for attempt in 0..2 {
        let sim = Sim::start(&h, &other, &[]);
        let r = dock(&h, &sim.port);
        assert_eq!(r.code, 65, "attempt {attempt}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("300 tap(s) differ from the signed taps stored under the same sequence numbers (first: seq 1, 2026-10-09 06:00")
                && r.stderr.contains("nothing acked")
                && r.stderr.contains("two validators carry id 7"),
            "{}",
            r.stderr
        );
        let d = &r.json()["docked"][0];
        assert_eq!(d["taps_read"], 300, "the validator still holds them all");
        assert!(d["acked_up_to"].is_null(), "{d}");
        assert_eq!(d["taps_conflict"], 300);
        sim.stop();
        assert_eq!(contents(&h), before, "the stored taps are untouched");
    }
    assert_eq!(
        h.count("SELECT count(*) FROM tap_conflicts WHERE kind = 'refused'"),
        300,
        "each conflicting tap recorded once however often it is docked"
    );
    let r = ok(h.kartka(&["taps", "conflicts"]));
    assert!(
        r.stderr.contains(
            "validator 7 seq 1: a signed tap that differs from the signed tap stored (not acked)"
        ),
        "{}",
        r.stderr
    );
}

/// A random interleaving of vendor imports (copies of the validators'
/// taps or taps they never made) and dockings of validators 7 and 8.
#[derive(Debug, Clone)]
enum Step {
    Vendor {
        validator: i64,
        first: i64,
        n: i64,
        copy: bool,
    },
    Dock(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (7i64..=8, 1i64..=120, 1i64..=60, any::<bool>()).prop_map(|(validator, first, n, copy)| {
            Step::Vendor {
                validator,
                first,
                n,
                copy,
            }
        }),
        (7i64..=8).prop_map(Step::Dock),
    ]
}

/// The validators' own logs, read by docking copies of their flash into a
/// scratch home.
fn logs(states: &[(i64, std::path::PathBuf)]) -> Contents {
    let scratch = Home::new();
    fleet(&scratch);
    for (v, state) in states {
        let copy = scratch.work.join(format!("copy-{v}"));
        crate::common::copy_dir(state, &copy);
        let sim = Sim::start(&scratch, &copy, &["--validator", &v.to_string()]);
        assert_eq!(dock(&scratch, &sim.port).code, 0);
    }
    contents(&scratch)
}

fn run(steps: &[Step]) {
    let h = Home::new();
    fleet(&h);
    let states: Vec<(i64, std::path::PathBuf)> = [7, 8]
        .iter()
        .map(|&v| (v, recorded(&h, 150, v as u16)))
        .collect();
    let truth = logs(&states);
    for (i, s) in steps.iter().enumerate() {
        match s {
            Step::Vendor {
                validator,
                first,
                n,
                copy,
            } => {
                let rows: Vec<VendorRow> = (*first..first + n)
                    .filter_map(|seq| {
                        let t = truth.get(&(*validator, seq))?;
                        let shift = if *copy { 0 } else { 60_000 };
                        let at = chrono::DateTime::from_timestamp_millis(t.0 + shift)?.to_rfc3339();
                        Some((*validator, t.1, t.2.clone(), at, t.3.clone(), seq))
                    })
                    .collect();
                let csv = h.work.join(format!("step-{i}.csv"));
                vendor_csv_full(&csv, &rows);
                let r = h.kartka(&["taps", "import", csv.to_str().unwrap()]);
                assert!(matches!(r.code, 0 | 65), "{}", r.stderr);
            }
            Step::Dock(v) => {
                let state = &states.iter().find(|s| s.0 == *v).unwrap().1;
                let sim = Sim::start(&h, state, &["--validator", &v.to_string()]);
                let r = dock(&h, &sim.port);
                assert_eq!(r.code, 0, "a conflict was raised: {}", r.stderr);
                let j = r.json();
                assert_eq!(j["taps_conflict"], 0);
            }
        }
    }
    for (v, state) in &states {
        let sim = Sim::start(&h, state, &["--validator", &v.to_string()]);
        let r = dock(&h, &sim.port);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let d = &r.json()["docked"][0];
        assert!(d["taps_read"] == 0 || d["acked_up_to"] == 150, "{d}");
    }
    // Every signed tap once, as the validator signed it; nothing else.
    let got = contents(&h);
    // What the tap said, without the batch that stored it.
    type Said = (i64, i64, String, String);
    let strip = |c: &Contents| -> Vec<((i64, i64), Said)> {
        c.iter()
            .map(|(k, v)| (*k, (v.0, v.1, v.2.clone(), v.3.clone())))
            .collect()
    };
    assert_eq!(strip(&got), strip(&truth));
    assert_exactly_once(&h, &truth.keys().copied().collect());
    if let Some(python) = crate::common::python_with_duckdb("the DuckDB count of the store") {
        let glob = h.root.join("taps/*/*.parquet");
        let out = std::process::Command::new(python)
            .args([
                "-c",
                "import duckdb,sys; print(duckdb.sql(f\"SELECT count(DISTINCT (validator_id, seq)), count(*) FROM read_parquet('{sys.argv[1]}')\").fetchall()[0])",
                glob.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            text.trim(),
            "(300, 300)",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    #[test]
    fn vendor_imports_and_dockings_in_any_order_never_lose_or_ack_a_conflict(
        steps in proptest::collection::vec(step(), 2..6)
    ) {
        run(&steps);
    }
}

#[test]
fn the_money_reads_only_the_flags_file_its_run_recorded() {
    let h = Home::new();
    ok(h.kartka(&[
        "generate",
        "month",
        "--month",
        "2026-10",
        "--taps",
        "4000",
        "--holders",
        "300",
        "--anomalies",
        "0.05",
        "--format",
        "store",
        "--out",
        "gen",
    ]));
    ok(h.kartka(&["taps", "flag", "--month", "2026-10"]));
    let recorded = std::fs::read(h.root.join("flags/month=2026-10/flags.parquet")).unwrap();
    // A second run with a stricter daily limit dies after writing its file
    // and before recording the run.
    let config = h.root.join("kartka.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("daily_max = 6", "daily_max = 2")).unwrap();
    let r = crate::common::Run::of(
        h.command()
            .env("KARTKA_FAILPOINT", "flags-before-record")
            .args(["taps", "flag", "--month", "2026-10"]),
    );
    assert_ne!(r.code, 0);
    let file = h.root.join("flags/month=2026-10/flags.parquet");
    assert_ne!(std::fs::read(&file).unwrap(), recorded, "the file changed");
    std::fs::write(&config, &text).unwrap();
    let out = h.work.join("out");
    let checks: [&[&str]; 4] = [
        &[
            "compensation",
            "--month",
            "2026-10",
            "--out",
            out.to_str().unwrap(),
        ],
        &[
            "report",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--by",
            "carrier",
        ],
        &[
            "budget", "--year", "2026", "--as-of", "2026-10", "--out", "b.xlsx",
        ],
        &["taps", "clear", "F-1-1", "--reason", "x"],
    ];
    for args in checks {
        let r = h.kartka(args);
        assert_eq!(r.code, 65, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("flags file is not the one its flag run recorded")
                && r.stderr
                    .contains("Run `kartka taps flag --month 2026-10` again"),
            "{args:?}: {}",
            r.stderr
        );
    }
    assert!(
        !out.exists() && !h.work.join("b.xlsx").exists(),
        "nothing written"
    );
    // A flags file edited by hand is refused the same way.
    std::fs::write(&file, &recorded[..recorded.len() / 2]).unwrap();
    let r = h.kartka(checks[0]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    // Flagged again: paid.
    ok(h.kartka(&["taps", "flag", "--month", "2026-10"]));
    ok(h.kartka(checks[0]));
}
