//! `kartka backup`, `backup verify` and `restore` (P21, K5): a realistic
//! home round-trips row for row and tap for tap; a second backup copies
//! only what is new; damage is found and named; a restore never writes
//! into a used folder nor from a bad backup; a backup taken while taps are
//! imported is consistent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::common::{Home, Run, ok};

/// A home with people, decisions, cards, a fleet, taps from signed dumps
/// and a vendor export, and a flag run. Returns the home and the dumps
/// generated but held back (for later imports).
fn realistic_home(held_back: usize) -> (Home, Vec<String>) {
    let h = Home::new();
    let r = h.kartka(&[
        "--quiet",
        "import",
        "applicants",
        "fixtures/applicants/office-2026-10.xlsx",
        "fixtures/applicants/terniv-2026-10.csv",
    ]);
    ok(r);
    ok(h.kartka(&["--quiet", "eligibility", "--as-of", "2026-10-01"]));
    ok(h.kartka(&["--quiet", "cards", "issue"]));
    ok(h.kartka(&[
        "--quiet",
        "generate",
        "month",
        "--month",
        "2026-10",
        "--taps",
        "3000",
        "--holders",
        "300",
        "--validators",
        "6",
        "--vehicles",
        "4",
        "--routes",
        "2",
        "--carriers",
        "2",
        "--format",
        "dumps",
        "--out",
        "gen",
    ]));
    ok(h.kartka(&["--quiet", "fleet", "import", "gen/fleet.csv"]));
    let mut dumps: Vec<String> = std::fs::read_dir(h.work.join("gen/dumps"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    dumps.sort();
    let later = dumps.split_off(dumps.len() - held_back);
    let mut args = vec!["--quiet", "taps", "import"];
    args.extend(dumps.iter().map(String::as_str));
    ok(h.kartka(&args));
    ok(h.kartka(&[
        "--quiet",
        "taps",
        "import",
        "fixtures/taps/vendor-2026-09.csv",
    ]));
    ok(h.kartka(&["--quiet", "taps", "flag", "--month", "2026-10"]));
    (h, later)
}

fn backup(h: &Home, dest: &Path) -> serde_json::Value {
    ok(h.kartka(&["--json", "--quiet", "backup", dest.to_str().unwrap()])).json()
}

/// Every table of a registry, each row as text, sorted: new tables (an
/// audit trail) are covered without changing this test.
fn tables(db: &Path) -> Vec<(String, Vec<String>)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(names.len() > 10, "{names:?}");
    names
        .into_iter()
        .map(|t| {
            let mut st = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = st.column_count();
            let mut rows: Vec<String> = st
                .query_map([], |r| {
                    (0..n)
                        .map(|i| r.get::<_, rusqlite::types::Value>(i))
                        .collect::<Result<Vec<_>, _>>()
                        .map(|v| format!("{v:?}"))
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            rows.sort();
            (t, rows)
        })
        .collect()
}

/// Every tap of a home's store, sorted by validator and sequence.
fn all_taps(root: &Path) -> DataFrame {
    let home = kartka::home::Home::new(root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let files = kartka::taps::parquet::live_files(&reg, None).unwrap();
    kartka::taps::parquet::read(&home, &files)
        .unwrap()
        .sort(["validator_id", "seq"], SortMultipleOptions::default())
        .unwrap()
}

fn status(h: &Home, home: &Path) -> serde_json::Value {
    let mut j = ok(h.kartka(&["--json", "--home", home.to_str().unwrap(), "status"])).json();
    j.as_object_mut().unwrap().remove("home");
    j
}

/// The ledger's live files and the Parquet files under taps/ are the same set.
fn assert_ledger_matches_store(root: &Path) {
    let home = kartka::home::Home::new(root);
    let reg = kartka::registry::Registry::open(&home.registry()).unwrap();
    let live: BTreeSet<String> = kartka::taps::parquet::live_files(&reg, None)
        .unwrap()
        .into_iter()
        .collect();
    let mut on_disk = BTreeSet::new();
    for month in std::fs::read_dir(home.taps()).unwrap() {
        let month = month.unwrap();
        for f in std::fs::read_dir(month.path()).unwrap() {
            let f = f.unwrap();
            on_disk.insert(format!(
                "taps/{}/{}",
                month.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            ));
        }
    }
    assert_eq!(
        live,
        on_disk,
        "ledger and store differ in {}",
        root.display()
    );
    let rows: i64 = reg
        .conn()
        .query_row(
            "SELECT coalesce(sum(rows), 0) FROM tap_files WHERE replaced_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(all_taps(root).height() as i64, rows);
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_restored_home_holds_every_row_and_tap_of_the_original_and_works() {
    let (h, _) = realistic_home(0);
    let dest = h.work.join("backup");
    let s = backup(&h, &dest);
    assert_eq!(s["files_kept"], 0, "{s}");
    assert_eq!(s["files_copied"], s["files"], "{s}");
    assert!(s["tap_files"].as_u64().unwrap() >= 2, "{s}");
    assert!(s["seconds"].is_number(), "{s}");

    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["format"], "kartka-backup/1");
    assert_eq!(m["kartka_version"], env!("CARGO_PKG_VERSION"));
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'), "{m}");
    let listed: BTreeSet<&str> = m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for want in [
        "registry.sqlite",
        "kartka.toml",
        "keys/card-master.key",
        "keys/dock-master.key",
        "flags/month=2026-10/flags.parquet",
    ] {
        assert!(listed.contains(want), "{want} not in {listed:?}");
    }
    assert!(
        listed.iter().any(|p| p.starts_with("dumps/v")),
        "{listed:?}"
    );
    assert!(
        listed.iter().any(|p| p.starts_with("dumps/vendor/")),
        "{listed:?}"
    );
    assert!(
        listed.iter().any(|p| p.starts_with("photos/")),
        "{listed:?}"
    );
    // Personal data and keys are private in DEST.
    assert_eq!(mode(&dest), 0o700);
    assert_eq!(mode(&dest.join("registry.sqlite")), 0o600);
    assert_eq!(mode(&dest.join("taps")), 0o700);
    let photo = listed.iter().find(|p| p.starts_with("photos/")).unwrap();
    assert_eq!(mode(&dest.join(photo)), 0o600);

    let r = ok(h.kartka(&["--json", "backup", "verify", dest.to_str().unwrap()]));
    assert_eq!(r.json()["files"], s["files"]);
    assert!(r.stderr.contains(": good."), "{}", r.stderr);

    let restored = h.work.join("restored");
    let r = ok(h.kartka(&[
        "--json",
        "--home",
        restored.to_str().unwrap(),
        "restore",
        dest.to_str().unwrap(),
    ]));
    assert_eq!(r.json()["files"], s["files"]);
    assert_eq!(mode(&restored), 0o700);
    assert_eq!(mode(&restored.join("keys/card-master.key")), 0o600);

    assert_eq!(
        tables(&h.root.join("registry.sqlite")),
        tables(&restored.join("registry.sqlite"))
    );
    let (a, b) = (all_taps(&h.root), all_taps(&restored));
    assert!(a.height() > 3000, "{}", a.height());
    assert!(a.equals_missing(&b), "the taps differ");
    assert_eq!(status(&h, &h.root), status(&h, &restored));
    assert_ledger_matches_store(&restored);

    // The restored home works: it takes writes and counts money.
    let rh = restored.to_str().unwrap();
    ok(h.kartka(&["--home", rh, "taps", "flag", "--month", "2026-10"]));
    ok(h.kartka(&[
        "--home",
        rh,
        "compensation",
        "--month",
        "2026-10",
        "--out",
        "comp",
    ]));
    ok(h.kartka(&["--home", rh, "cards", "blocklist"]));
}

#[test]
fn a_second_backup_copies_only_new_files_and_drops_compacted_ones() {
    let (h, later) = realistic_home(1);
    let dest = h.work.join("backup");
    let first = backup(&h, &dest);
    let before = h.count("SELECT count(*) FROM tap_files WHERE replaced_at IS NULL");

    ok(h.kartka(&["--quiet", "taps", "import", &later[0]]));
    let new_files = h.count("SELECT count(*) FROM tap_files WHERE replaced_at IS NULL") - before;
    assert!(new_files >= 1);
    let second = backup(&h, &dest);
    // The registry, the new dump, its Parquet file(s); everything else kept.
    assert_eq!(second["files_copied"], 2 + new_files, "{second}");
    assert_eq!(
        second["files_kept"].as_u64().unwrap(),
        first["files"].as_u64().unwrap() - 1,
        "{second}"
    );
    assert_eq!(second["files_removed"], 0, "{second}");
    assert!(
        second["bytes_copied"].as_u64().unwrap() < second["bytes"].as_u64().unwrap(),
        "{second}"
    );
    ok(h.kartka(&["--quiet", "backup", "verify", dest.to_str().unwrap()]));

    // Compaction replaces October's files: the next backup drops them.
    ok(h.kartka(&["--quiet", "taps", "compact", "--month", "2026-10"]));
    let third = backup(&h, &dest);
    assert_eq!(
        third["files_copied"], 2,
        "registry + compacted file: {third}"
    );
    assert!(third["files_removed"].as_u64().unwrap() >= 2, "{third}");
    ok(h.kartka(&["--quiet", "backup", "verify", dest.to_str().unwrap()]));

    let restored = h.work.join("restored");
    ok(h.kartka(&[
        "--quiet",
        "--home",
        restored.to_str().unwrap(),
        "restore",
        dest.to_str().unwrap(),
    ]));
    assert!(all_taps(&h.root).equals_missing(&all_taps(&restored)));
    assert_ledger_matches_store(&restored);
    assert_eq!(status(&h, &h.root), status(&h, &restored));
}

/// A fresh backup of `h` in `work/name`.
fn fresh_backup(h: &Home, name: &str) -> PathBuf {
    let dest = h.work.join(name);
    backup(h, &dest);
    dest
}

fn verify(h: &Home, dest: &Path) -> Run {
    h.kartka(&["backup", "verify", dest.to_str().unwrap()])
}

fn first_tap_file(dest: &Path) -> String {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("manifest.json")).unwrap())
            .unwrap();
    m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .find(|p| p.starts_with("taps/"))
        .unwrap()
}

#[test]
fn verify_names_an_edited_a_missing_and_an_extra_file_and_a_damaged_manifest() {
    let h = Home::new();
    ok(h.kartka(&[
        "--quiet",
        "taps",
        "import",
        "fixtures/taps/vendor-2026-09.csv",
    ]));

    // An edited tap file, same size.
    let dest = fresh_backup(&h, "edited");
    let tap = first_tap_file(&dest);
    let mut bytes = std::fs::read(dest.join(&tap)).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(dest.join(&tap), &bytes).unwrap();
    let r = verify(&h, &dest);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("{tap}: SHA-256 ")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("the manifest says"), "{}", r.stderr);

    // A missing file, a truncated one, and an unlisted one.
    let dest = fresh_backup(&h, "missing");
    std::fs::remove_file(dest.join("kartka.toml")).unwrap();
    std::fs::write(dest.join("keys/dock-master.key"), "x").unwrap();
    std::fs::write(dest.join("taps/stray.parquet"), "PAR1").unwrap();
    let r = verify(&h, &dest);
    assert_eq!(r.code, 65, "{}", r.stderr);
    for part in [
        "kartka.toml: missing",
        "keys/dock-master.key: 1 bytes, the manifest says",
        "taps/stray.parquet: present but not listed in the manifest",
        "Do not restore from it",
    ] {
        assert!(r.stderr.contains(part), "{part:?} not in {}", r.stderr);
    }

    // A damaged manifest: an error naming it, never a panic.
    let dest = fresh_backup(&h, "manifest");
    for (text, says) in [
        ("{ not json", "manifest.json: not a valid manifest"),
        (
            "{\"format\":\"kartka-backup/1\",\"kartka_version\":\"0\",\"created_at\":\"x\",\"source_home\":\"x\",\"schema_version\":5,\"files\":[{\"path\":\"../../etc/passwd\",\"size\":1,\"sha256\":\"00\"}]}",
            "is not a plain path inside the backup",
        ),
        (
            "{\"format\":\"other\"}",
            "manifest.json: not a valid manifest",
        ),
    ] {
        std::fs::write(dest.join("manifest.json"), text).unwrap();
        let r = verify(&h, &dest);
        assert_eq!(r.code, 65, "{}", r.stderr);
        assert!(r.stderr.contains(says), "{says:?} not in {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }

    // Not a backup at all.
    std::fs::create_dir(h.work.join("empty")).unwrap();
    let r = verify(&h, &h.work.join("empty"));
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("not a kartka backup: it has no manifest.json"),
        "{}",
        r.stderr
    );
    assert_eq!(verify(&h, &h.work.join("nowhere")).code, 66);

    // A backup refuses a folder of other files (it would remove them).
    let r = h.kartka(&["backup", "fixtures"]);
    assert_eq!(r.code, 73, "{}", r.stderr);
    assert!(r.stderr.contains("is not a kartka backup"), "{}", r.stderr);
    // And a folder inside the home.
    let r = h.kartka(&["backup", "home/exports/b"]);
    assert_eq!(r.code, 73, "{}", r.stderr);
}

#[test]
fn a_registry_copy_that_fails_sqlites_integrity_check_is_named() {
    let h = Home::new();
    ok(h.kartka(&["--quiet", "fleet", "import", "fixtures/fleet/fleet.csv"]));
    let dest = fresh_backup(&h, "b");
    let db = dest.join("registry.sqlite");
    let mut bytes = std::fs::read(&db).unwrap();
    // Scribble over the second page (a table's b-tree), keep the header.
    for b in &mut bytes[4096..4200] {
        *b = 0x5a;
    }
    std::fs::write(&db, &bytes).unwrap();
    let m = std::fs::read_to_string(dest.join("manifest.json")).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&m).unwrap();
    for e in m["files"].as_array_mut().unwrap() {
        if e["path"] == "registry.sqlite" {
            e["sha256"] = kartka::hash::sha256_hex(&bytes).into();
        }
    }
    std::fs::write(dest.join("manifest.json"), m.to_string()).unwrap();
    let r = verify(&h, &dest);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("registry.sqlite: "), "{}", r.stderr);
}

/// No staging folder (`.NAME.*.partial`) is left beside `dir`.
fn no_leftovers(parent: &Path) {
    for e in std::fs::read_dir(parent).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !(name.starts_with('.') && name.ends_with(".partial")),
            "left behind: {name}"
        );
    }
}

#[test]
fn restore_refuses_a_used_folder_and_a_bad_backup_and_leaves_nothing_behind() {
    let h = Home::new();
    ok(h.kartka(&[
        "--quiet",
        "taps",
        "import",
        "fixtures/taps/vendor-2026-09.csv",
    ]));
    let dest = fresh_backup(&h, "b");

    // A folder in use.
    let used = h.work.join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::write(used.join("notes.txt"), "mine").unwrap();
    let r = h.kartka(&["--home", "used", "restore", "b"]);
    assert_eq!(r.code, 73, "{}", r.stderr);
    assert!(
        r.stderr.contains("used: exists and is not empty"),
        "{}",
        r.stderr
    );
    let left: Vec<_> = std::fs::read_dir(&used).unwrap().collect();
    assert_eq!(left.len(), 1);
    no_leftovers(&h.work);

    // An empty folder is fine.
    std::fs::create_dir(h.work.join("empty")).unwrap();
    ok(h.kartka(&["--quiet", "--home", "empty", "restore", "b"]));
    ok(h.kartka(&["--quiet", "--home", "empty", "status"]));

    // A damaged backup: refused before anything is written.
    let tap = first_tap_file(&dest);
    std::fs::write(dest.join(&tap), "not parquet").unwrap();
    let r = h.kartka(&["--home", "new", "restore", "b"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains(&tap), "{}", r.stderr);
    assert!(!h.work.join("new").exists());
    no_leftovers(&h.work);

    // Not a backup.
    let r = h.kartka(&["--home", "new", "restore", "fixtures"]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(!h.work.join("new").exists());
}

#[test]
fn a_backup_taken_during_imports_is_consistent_and_both_succeed() {
    let (h, later) = realistic_home(4);
    // Imports, one process each, in a thread, while backups run.
    let importer = {
        let mut cmds: Vec<std::process::Command> = Vec::new();
        for d in &later {
            let mut c = h.command();
            c.env("KARTKA_LOCK_WAIT", "30")
                .args(["--quiet", "taps", "import", d]);
            cmds.push(c);
        }
        std::thread::spawn(move || {
            cmds.into_iter()
                .map(|mut c| {
                    let out = c.output().unwrap();
                    (
                        out.status.code(),
                        String::from_utf8_lossy(&out.stderr).into_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    // Each backup into its own folder, so every one can be restored.
    let mut dests = Vec::new();
    loop {
        let done = importer.is_finished();
        let dest = h.work.join(format!("backup-{}", dests.len()));
        let s = backup(&h, &dest);
        let v = ok(h.kartka(&[
            "--json",
            "--quiet",
            "backup",
            "verify",
            dest.to_str().unwrap(),
        ]));
        assert_eq!(v.json()["tap_files"], s["tap_files"]);
        dests.push(dest);
        if done {
            break;
        }
    }
    for (code, stderr) in importer.join().unwrap() {
        assert_eq!(
            code,
            Some(0),
            "an import failed beside the backup: {stderr}"
        );
    }
    assert!(dests.len() >= 2);
    let mut restored = PathBuf::new();
    for (i, dest) in dests.iter().enumerate() {
        restored = h.work.join(format!("restored-{i}"));
        ok(h.kartka(&[
            "--quiet",
            "--home",
            restored.to_str().unwrap(),
            "restore",
            dest.to_str().unwrap(),
        ]));
        // No file referenced but missing, none unreferenced.
        assert_ledger_matches_store(&restored);
    }
    // The last backup began after the last import: it holds everything.
    assert!(all_taps(&h.root).equals_missing(&all_taps(&restored)));
}
