//! `kartka fleet` and `kartka taps`: the fleet list, dump and vendor-CSV
//! imports read back from the Parquet store, idempotence, rejects,
//! compaction, and DuckDB reading the store as is.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::store::{fleet, stored};
use crate::common::{Home, repo};

#[test]
fn a_fleet_list_is_imported_and_a_bad_one_refused_whole() {
    let h = Home::new();
    fleet(&h);
    assert_eq!(h.count("SELECT count(*) FROM validators"), 3);
    assert_eq!(h.count("SELECT count(*) FROM carriers"), 2);
    assert_eq!(
        h.count("SELECT count(*) FROM vehicles WHERE id = 1012 AND routes = '5,12'"),
        1
    );
    let r = h.kartka(&["fleet", "import", "fixtures/fleet/fleet-bad.csv"]);
    assert_eq!(r.code, 65);
    for part in [
        "fleet-bad.csv: row 3: validator `0` is not a number from 1 to 65535",
        "row 4: carrier `x` is not a number",
        "validator 7 is listed on vehicles 1012 and 1031",
        "nothing was changed",
    ] {
        assert!(r.stderr.contains(part), "{part:?} not in {}", r.stderr);
    }
    assert_eq!(h.count("SELECT count(*) FROM validators"), 3);
    assert_eq!(h.count("SELECT count(*) FROM vehicles WHERE id = 1031"), 0);
}

#[test]
fn a_vendor_export_is_stored_by_kyiv_month_its_bad_rows_rejected_and_a_second_import_adds_nothing()
{
    let h = Home::new();
    let r = h.kartka(&[
        "--json",
        "taps",
        "import",
        "fixtures/taps/vendor-2026-09.csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["taps_new"], 6);
    assert_eq!(j["rejected"], 3);
    assert_eq!(j["taps_duplicate"], 1, "the exact repeat of line 2");
    let rejects =
        std::fs::read_to_string(h.work.join("fixtures/taps/vendor-2026-09.rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 4, "{rejects}");
    assert!(lines[0].ends_with(",line,reason"));
    assert!(
        lines[1].contains(
            ",8,tapped_at: `2026-09-01T06:02:11` is not an ISO 8601 time with its UTC offset"
        ),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains(",9,card_uid: `ZZZ`"), "{}", lines[2]);
    assert!(
        lines[3].contains(",10,\"result: `lost` is not one of accepted"),
        "{}",
        lines[3]
    );
    // Nothing lost: every data row is stored, rejected or a counted repeat.
    let data_rows = std::fs::read_to_string(h.work.join("fixtures/taps/vendor-2026-09.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(6 + 3 + 1, data_rows);
    // 00:10 and 00:40 on 1 October in Kyiv are 30 September in UTC: they
    // are October's.
    assert_eq!(
        h.count("SELECT sum(rows) FROM tap_files WHERE month = '2026-09' AND replaced_at IS NULL"),
        4
    );
    assert_eq!(
        h.count("SELECT sum(rows) FROM tap_files WHERE month = '2026-10' AND replaced_at IS NULL"),
        2
    );
    assert!(h.root.join("taps/month=2026-10").is_dir());
    // The raw file is kept in the home.
    assert_eq!(
        std::fs::read_dir(h.root.join("dumps/vendor"))
            .unwrap()
            .count(),
        1
    );
    let again = h.kartka(&[
        "--json",
        "taps",
        "import",
        "fixtures/taps/vendor-2026-09.csv",
    ]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.json()["taps_new"], 0);
    assert_eq!(again.json()["taps_duplicate"], 7);
    assert_eq!(stored(&h).len(), 6);
}

#[test]
fn a_file_that_is_neither_dump_nor_export_stops_the_run_with_nothing_imported() {
    let h = Home::new();
    let r = h.kartka(&[
        "taps",
        "import",
        "fixtures/taps/vendor-2026-09.csv",
        "fixtures/fleet/fleet.csv",
    ]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("fleet.csv: not a vendor tap export: missing column(s) validator_id"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing was imported"));
    assert_eq!(h.count("SELECT count(*) FROM tap_batches"), 0);
    let r = h.kartka(&["taps", "import", "fixtures/taps/none.csv"]);
    assert_eq!(r.code, 66, "{}", r.stderr);
}

/// A generated month: its dumps import whole, its vendor CSV (the same
/// taps) adds nothing, an edited dump is refused, compaction keeps every
/// row.
#[test]
fn a_generated_month_imports_from_dumps_and_csv_exactly_once_and_compacts() {
    let h = Home::new();
    let r = h.kartka(&[
        "--json",
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
        "4",
        "--carriers",
        "2",
        "--format",
        "both",
        "--out",
        "gen",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let g = r.json();
    let total = g["taps"].as_u64().unwrap() as usize;
    assert!(total >= 20_000, "{g}");
    assert_eq!(g["validators"], 12);
    assert!(g["planted"].as_u64().unwrap() >= 150, "{g}");
    let truth = std::fs::read_to_string(h.work.join("gen/ground-truth.csv")).unwrap();
    let patterns: BTreeSet<&str> = truth
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap())
        .collect();
    // Every pattern but the trip limit, which needs a configured limit.
    assert_eq!(
        patterns.len(),
        kartka::generate::month::PATTERNS.len() - 1,
        "{patterns:?}"
    );
    assert!(!patterns.contains("trip_limit"));

    let dumps: Vec<String> = std::fs::read_dir(h.work.join("gen/dumps"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert_eq!(dumps.len(), 12);
    // Before the fleet is known, the dumps' validators are unknown.
    let mut args = vec!["taps", "import"];
    args.extend(dumps.iter().map(String::as_str));
    let r = h.kartka(&args);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("is not registered"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM tap_batches"), 0);

    let r = h.kartka(&["fleet", "import", "gen/fleet.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut json_args = vec!["--json"];
    json_args.extend(args.iter().copied());
    let r = h.kartka(&json_args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["taps_new"].as_u64().unwrap() as usize, total);
    let all = stored(&h);
    assert_eq!(all.len(), total);

    // The vendor CSV holds the same taps: nothing new.
    let r = h.kartka(&["--json", "taps", "import", "gen/taps.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["taps_new"], 0);
    assert_eq!(r.json()["taps_duplicate"].as_u64().unwrap() as usize, total);

    // An edited dump is refused and changes nothing.
    let mut bytes = std::fs::read(&dumps[0]).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    std::fs::write(h.work.join("edited.kdump"), &bytes).unwrap();
    let r = h.kartka(&["taps", "import", "edited.kdump"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("edited.kdump: frame "), "{}", r.stderr);
    assert_eq!(stored(&h).len(), total);

    // Compaction: one file a month, the same rows.
    let before = {
        let home = kartka::home::Home::new(&h.root);
        let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
        let files = kartka::taps::parquet::live_files(&reg, Some("2026-10")).unwrap();
        assert!(files.len() >= 12, "{files:?}");
        let df = kartka::taps::parquet::read(&home, &files).unwrap();
        df.sort(["validator_id", "seq"], Default::default())
            .unwrap()
    };
    let r = h.kartka(&["--json", "taps", "compact", "--month", "2026-10"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()[0]["files_after"], 1);
    let home = kartka::home::Home::new(&h.root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let files = kartka::taps::parquet::live_files(&reg, Some("2026-10")).unwrap();
    assert_eq!(files.len(), 1);
    let after = kartka::taps::parquet::read(&home, &files)
        .unwrap()
        .sort(["validator_id", "seq"], Default::default())
        .unwrap();
    assert!(before.equals_missing(&after), "compaction changed a row");
    let on_disk = std::fs::read_dir(h.root.join("taps/month=2026-10"))
        .unwrap()
        .count();
    assert_eq!(on_disk, 1, "the merged files are gone from the disk");

    duckdb_reads(&h.root.join("taps"), total);
}

/// DuckDB reads the store as is (Hive partitions, timestamps with time
/// zone): through Python's duckdb package, as `scripts/duckdb-check.py`.
fn duckdb_reads(taps: &Path, total: usize) {
    let Some(python) = crate::common::python_with_duckdb("the DuckDB check") else {
        return;
    };
    let out = std::process::Command::new(&python)
        .arg(repo().join("scripts/duckdb-check.py"))
        .arg(taps)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(counts["rows"].as_u64().unwrap() as usize, total, "{counts}");
    assert_eq!(counts["distinct_keys"].as_u64().unwrap() as usize, total);
    assert_eq!(counts["tapped_at_type"], "TIMESTAMP WITH TIME ZONE");
    let months = counts["months"].as_array().unwrap();
    assert!(months.contains(&serde_json::json!("2026-10")), "{counts}");
}
