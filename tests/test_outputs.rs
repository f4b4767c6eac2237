//! What kartka writes, tried as an attacker and as bad luck would: every
//! output created new with its mode from the first byte (a link planted at
//! its name is replaced, never written through; a names file is owner-only
//! while it is written), part files of a killed run swept by the next run of
//! the same kind, formula text escaped in every CSV, text too long for an
//! Excel cell clipped, and money and limits in kartka.toml within bounds.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::common::{Home, month};

const PAYLOADS: [&str; 4] = [
    "=HYPERLINK(\"http://x\",\"y\")",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1)",
];

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The part files (`.NAME.*.part`) in `dir`.
fn parts(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with('.') && (n.ends_with(".part") || n.ends_with(".partial"))
        })
        .collect()
}

/// A generated, flagged month whose holders are named by the payloads
/// (each holder's surname one of them, in turn).
fn month_named_by_payloads() -> Home {
    let h = month::flagged_month();
    let db = h.db();
    for (i, p) in PAYLOADS.iter().enumerate() {
        db.execute(
            "UPDATE people SET surname = ?1 WHERE id % 4 = ?2",
            rusqlite::params![p, i as i64],
        )
        .unwrap();
    }
    h
}

fn flags_out(h: &Home, out: &str, names: bool) -> std::process::Command {
    let mut cmd = h.command();
    cmd.args(["taps", "flag", "--month", month::MONTH, "--out", out]);
    if names {
        cmd.arg("--with-names");
    }
    cmd
}

#[test]
fn a_names_export_is_owner_only_from_its_first_byte_and_a_killed_ones_part_is_swept() {
    let h = month::flagged_month();
    std::fs::create_dir_all(h.work.join("out")).unwrap();
    let out = flags_out(&h, "out/names.csv", true)
        .env("KARTKA_FAILPOINT", "flags-export-before-rename")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed by a signal");
    // Killed with every row written: the names sit in a part file that
    // only the owner may read; nothing is at the target.
    assert!(!h.work.join("out/names.csv").exists());
    let left = parts(&h.work.join("out"));
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(mode(&left[0]), 0o600, "owner-only before the rename");
    let text = std::fs::read_to_string(&left[0]).unwrap();
    assert!(
        text.lines().next().unwrap().contains(",holder,"),
        "{text:.200}"
    );
    // The next export of the same file sweeps it.
    let r = crate::common::Run::of(&mut flags_out(&h, "out/names.csv", true));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(mode(&h.work.join("out/names.csv")), 0o600);
    assert!(parts(&h.work.join("out")).is_empty());
}

#[test]
fn links_planted_at_an_outputs_name_are_replaced_never_written_through() {
    let h = month::flagged_month();
    let victim = h.work.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shared = h.work.join("shared");
    std::fs::create_dir_all(&shared).unwrap();
    for name in [
        "flags.csv",
        ".flags.csv.part",
        "flags.csv.tmp",
        "report.csv",
        ".report.csv.part",
    ] {
        std::os::unix::fs::symlink(&victim, shared.join(name)).unwrap();
    }
    let r = crate::common::Run::of(&mut flags_out(&h, "shared/flags.csv", true));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = h.kartka(&[
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "carrier",
        "--out",
        "shared/report.csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(mode(&victim), 0o644);
    for name in ["flags.csv", "report.csv"] {
        let meta = std::fs::symlink_metadata(shared.join(name)).unwrap();
        assert!(meta.is_file(), "{name} is a file of its own");
    }
    assert_eq!(mode(&shared.join("flags.csv")), 0o600, "names inside");
    assert_eq!(mode(&shared.join("report.csv")), 0o644, "no names");
}

/// Every cell of `csv` that holds one of the payloads holds it escaped;
/// returns how many cells held each payload.
fn escaped_everywhere(csv: &str, what: &str) -> [usize; 4] {
    let mut seen = [0; 4];
    let mut read = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes());
    for rec in read.records() {
        for cell in rec.unwrap().iter() {
            for (i, p) in PAYLOADS.iter().enumerate() {
                if cell.contains(p) {
                    assert!(
                        cell.starts_with(&format!("'{p}")),
                        "{what}: {cell:?} reaches the file unescaped"
                    );
                    seen[i] += 1;
                }
            }
        }
    }
    seen
}

#[test]
fn formula_text_in_names_reaches_every_csv_escaped() {
    let h = month_named_by_payloads();
    let r = crate::common::Run::of(&mut flags_out(&h, "flags.csv", true));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let flags = std::fs::read_to_string(h.work.join("flags.csv")).unwrap();
    let seen = escaped_everywhere(&flags, "flags.csv");
    assert!(
        seen.iter().all(|n| *n > 0),
        "every payload reached it: {seen:?}"
    );
    let r = h.kartka(&[
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "card",
        "--out",
        "cards.csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = std::fs::read_to_string(h.work.join("cards.csv")).unwrap();
    let seen = escaped_everywhere(&report, "report");
    assert!(
        seen.iter().all(|n| *n > 0),
        "every payload reached it: {seen:?}"
    );
    // Amounts kartka computes stay numbers: no cell of a money column
    // gets the quote.
    let mut rows = csv::Reader::from_reader(report.as_bytes());
    for rec in rows.records() {
        let rec = rec.unwrap();
        for cell in rec.iter().skip(2) {
            assert!(!cell.starts_with('\''), "{cell:?} in {rec:?}");
        }
    }
}

#[test]
fn a_surname_too_long_for_a_cell_is_clipped_in_the_decisions_workbook_and_the_export() {
    use calamine::{Reader, open_workbook_auto};
    let h = Home::new();
    let r = h.kartka(&[
        "--quiet",
        "import",
        "applicants",
        "fixtures/applicants/office-2026-10.xlsx",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let long = "Ш".repeat(40_000);
    let social: String = h
        .db()
        .query_row(
            "UPDATE people SET surname = ?1 WHERE id = (SELECT min(id) FROM people) RETURNING social_number",
            [&long],
            |r| r.get(0),
        )
        .unwrap();
    let clipped = |book: &Path| {
        let mut book = open_workbook_auto(book).unwrap();
        let mut found = 0;
        for name in book.sheet_names() {
            let range = book.worksheet_range(&name).unwrap();
            for cell in range.used_cells() {
                let text = cell.2.to_string();
                if text.starts_with("ШШШШ") {
                    assert_eq!(text.chars().count(), 32_767, "as much as a cell holds");
                    // The surname, the given name and the patronymic.
                    assert!(
                        text.contains("…[обрізано / clipped, 400")
                            && text.ends_with(" символів / characters]"),
                        "{}",
                        text.chars().skip(32_600).collect::<String>()
                    );
                    found += 1;
                }
            }
        }
        found
    };
    let r = h.kartka(&[
        "eligibility",
        "--all",
        "--as-of",
        "2026-11-01",
        "--out",
        "decisions.xlsx",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(clipped(&h.work.join("decisions.xlsx")) > 0);
    let r = h.kartka(&["person", "export", &social, "--out", "person.xlsx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(clipped(&h.work.join("person.xlsx")) > 0);
    assert_eq!(mode(&h.work.join("person.xlsx")), 0o600);
    // The registry keeps what it holds.
    let kept: i64 = h
        .db()
        .query_row(
            "SELECT length(surname) FROM people WHERE social_number = ?1",
            [&social],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 40_000);
}

fn with_config(h: &Home, extra: &str) {
    let config = h.root.join("kartka.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(extra);
    std::fs::write(&config, text).unwrap();
}

#[test]
fn a_fare_past_any_sane_bound_is_refused_naming_the_entry_and_nothing_is_paid() {
    let h = month::flagged_month();
    let before = std::fs::read_to_string(h.root.join("kartka.toml")).unwrap();
    with_config(
        &h,
        "\n[[tariffs]]\nfrom = \"2026-10-20\"\nfare_kopecks = 9223372036854775807\n",
    );
    let r = h.kartka(&["compensation", "--month", month::MONTH, "--out", "comp"]);
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(
        r.stderr.contains("[[tariffs]] entry")
            && r.stderr.contains(
                "(from 2026-10-20): fare_kopecks = 9223372036854775807 is more than kartka accepts, 1000000 (10000.00 UAH)"
            ),
        "{}",
        r.stderr
    );
    assert!(!h.work.join("comp").exists(), "nothing written");
    // Fees, budgets, tolerances and limits alike.
    let tolerance = before.replace(
        "tolerance_kopecks = 0",
        "tolerance_kopecks = 9223372036854775807",
    );
    for (config, says) in [
        (
            format!("{before}\n[[budget]]\nyear = 2026\namount_kopecks = 9223372036854775807\n"),
            "[[budget]] year 2026: amount_kopecks = 9223372036854775807 is more than kartka accepts",
        ),
        (
            format!("{before}\n[[flags.trip_limits]]\ncategory = \"*\"\nper_month = 4000000000\n"),
            "per_month = 4000000000 is more than kartka accepts, 100000",
        ),
        (
            tolerance,
            "[reconcile] tolerance_kopecks = 9223372036854775807 is more than kartka accepts",
        ),
    ] {
        std::fs::write(h.root.join("kartka.toml"), &config).unwrap();
        let r = h.kartka(&["compensation", "--month", month::MONTH, "--out", "comp"]);
        assert_eq!(r.code, 78, "{says}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{says}: {}", r.stderr);
        assert!(!h.work.join("comp").exists(), "nothing written");
    }
    // Within the bounds, the month is paid as before.
    std::fs::write(h.root.join("kartka.toml"), &before).unwrap();
    let r = h.kartka(&[
        "--json",
        "compensation",
        "--month",
        month::MONTH,
        "--out",
        "comp",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json()["total_kopecks"].as_i64().unwrap() > 0);
}

#[test]
fn a_killed_compensations_part_files_are_swept_by_the_next() {
    let h = month::flagged_month();
    let r = h.kartka(&[
        "--json",
        "compensation",
        "--month",
        month::MONTH,
        "--out",
        "comp",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = h.work.join("comp");
    let book = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".xlsx"))
        .unwrap();
    // What a kill leaves: a part file of this kind and one of the old kind.
    std::fs::write(dir.join(format!(".{book}.a1B2c3.part")), "half").unwrap();
    std::fs::write(dir.join(book.replace(".xlsx", ".xlsx.part")), "half").unwrap();
    let r = h.kartka(&[
        "--json",
        "compensation",
        "--month",
        month::MONTH,
        "--out",
        "comp",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_docking_or_imports_stray_part_files_are_swept_by_the_next_import() {
    let h = Home::new();
    let dumps = h.root.join("dumps/v00007");
    let frames = h.root.join("quarantine/frames");
    std::fs::create_dir_all(&dumps).unwrap();
    std::fs::create_dir_all(&frames).unwrap();
    let stray = [
        dumps.join(".v00007-s0000000001-0000000500-20261031T180000Z.kdump.partial"),
        dumps.join(".v00007-s0000000001-0000000500-20261031T180000Z.kdump.Xy12ab.part"),
        frames.join(".20261031T180000.000Z-v00007-bad_mac.frame.Qw34er.part"),
    ];
    for p in &stray {
        std::fs::write(p, "half a dump").unwrap();
    }
    // A link of that form is not kartka's: left alone, its target too.
    let victim = h.work.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let link = dumps.join(".link.kdump.partial");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let r = h.kartka(&["taps", "import", "fixtures/taps/vendor-2026-09.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for p in &stray {
        assert!(!p.exists(), "{} swept", p.display());
    }
    assert!(std::fs::symlink_metadata(&link).is_ok());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

/// Runs kartka on `h` as the OS user nobody (through setpriv), when this
/// test runs as root and setpriv is there; `None` otherwise.
fn as_nobody(h: &Home, args: &[&str]) -> Option<crate::common::Run> {
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    if !root || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipping: needs root and setpriv to run as another OS user");
        return None;
    }
    let mut cmd = std::process::Command::new("/usr/bin/setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(crate::common::BIN)
        .args(args)
        .current_dir("/")
        .env("KARTKA_HOME", &h.root);
    Some(crate::common::Run::of(&mut cmd))
}

#[test]
fn an_os_user_who_may_not_read_the_home_is_told_so_not_that_it_is_no_home() {
    let h = Home::new();
    let Some(r) = as_nobody(&h, &["status"]) else {
        return;
    };
    // The folders above the home keep this user out.
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the OS user nobody may not read this kartka home"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("not a kartka home"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("Run kartka as the user the home belongs to")
    );
    // The folders open, kartka.toml and the registry the owner's only:
    // whichever is opened first says so.
    for dir in [h.work.as_path(), h.root.as_path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let r = as_nobody(&h, &["status"]).unwrap();
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(
        r.stderr.contains("the OS user nobody may not read"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("not a kartka home"), "{}", r.stderr);
    // kartka.toml readable, the registry not.
    std::fs::set_permissions(
        h.root.join("kartka.toml"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let r = as_nobody(&h, &["status"]).unwrap();
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(
        r.stderr.contains("may not read the registry"),
        "{}",
        r.stderr
    );
    // Nothing changed for the owner.
    let r = h.kartka(&["status"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn links_planted_in_a_backups_folder_are_never_written_through() {
    let h = Home::new();
    let victim = h.work.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let dest = h.work.join("backup");
    std::fs::create_dir_all(&dest).unwrap();
    std::os::unix::fs::symlink(&victim, dest.join("registry.sqlite.part")).unwrap();
    std::os::unix::fs::symlink(&victim, dest.join(".manifest.json.part")).unwrap();
    let r = h.kartka(&["backup", "backup"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(
        std::fs::symlink_metadata(dest.join("registry.sqlite"))
            .unwrap()
            .is_file()
    );
    // A link at the backup's lock is refused, not followed.
    let dest = h.work.join("backup2");
    std::fs::create_dir_all(&dest).unwrap();
    let elsewhere = h.work.join("elsewhere.lock");
    std::os::unix::fs::symlink(&elsewhere, dest.join(".lock")).unwrap();
    let r = h.kartka(&["backup", "backup2"]);
    assert_eq!(r.code, 73, "{}", r.stdout);
    assert!(
        r.stderr.contains("backup2/.lock: cannot write"),
        "{}",
        r.stderr
    );
    assert!(!elsewhere.exists(), "nothing created through the link");
}

/// No cell of `csv` starts as a spreadsheet takes a formula to.
fn no_cell_opens_as_a_formula(csv: &str, what: &str) {
    let text = csv.trim_start_matches('\u{feff}');
    let semicolon = text.lines().next().unwrap_or("").contains(';');
    let mut read = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(if semicolon { b';' } else { b',' })
        .from_reader(text.as_bytes());
    for rec in read.records() {
        for cell in rec.unwrap().iter() {
            let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            assert!(
                !risky || cell.parse::<f64>().is_ok(),
                "{what}: {cell:?} opens as a formula"
            );
        }
    }
}

#[test]
fn formula_text_reaches_the_rejects_and_warnings_escaped_and_imports_again_as_written() {
    let h = crate::common::Home::new();
    let head = "Прізвище;Ім’я;По батькові;Дата народження;Стать;Документ, що засвідчує особу (Серія, №);Реєстраційний номер облікової картки платника податків;Документ, який підтверджує пільгу;Тип пільги;Громада;Дохід, грн;Телефон";
    // Each payload in a name of a row rejected for its date of birth, and
    // in the phone of an accepted row (a contact field: a warning).
    let mut text = format!("{head}\n");
    for (i, p) in PAYLOADS.iter().enumerate() {
        text.push_str(&format!(
            "{p};Марія;Іванівна;;ж;АК 48291{i};;ПП №234567{i};пенсіонери за віком;Тернівська ТГ;3200,50;\n"
        ));
    }
    text.push_str(&format!(
        "Коваленко;Марія;Іванівна;14.03.1952;ж;АВ 482913;1906610428;ПП №2345671;пенсіонери за віком;Тернівська ТГ;3200,50;{}\n",
        PAYLOADS[0]
    ));
    let input = h.work.join("payloads.csv");
    std::fs::write(&input, text).unwrap();
    let r = h.kartka(&["import", "applicants", input.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rejects = h.work.join("payloads.rejects.csv");
    let csv = std::fs::read_to_string(&rejects).unwrap();
    let cells: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes())
        .records()
        .flat_map(|r| r.unwrap().iter().map(String::from).collect::<Vec<_>>())
        .collect();
    for p in PAYLOADS {
        assert!(cells.contains(&format!("'{p}")), "{p} escaped in {csv}");
    }
    no_cell_opens_as_a_formula(&csv, "rejects");
    if let Ok(w) = std::fs::read_to_string(h.work.join("payloads.warnings.csv")) {
        no_cell_opens_as_a_formula(&w, "warnings");
    }
    // The rejects file, fixed (a date of birth given), imports again with
    // the names as the clerk wrote them, not with the escape.
    let fixed = csv
        .replace(";;ж;", ";14.03.1952;ж;")
        .replace(",,ж,", ",14.03.1952,ж,");
    assert_ne!(fixed, csv, "the date cell was found");
    std::fs::write(&rejects, fixed).unwrap();
    let r = h.kartka(&["--json", "import", "applicants", rejects.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let names: Vec<String> = {
        let db = h.db();
        let mut stmt = db.prepare("SELECT surname FROM people").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(
        names.iter().all(|n| !n.starts_with('\'')),
        "no stored name carries the escape: {names:?}"
    );
    // What is refused again is escaped once, not twice: the cells were
    // read as the clerk wrote them.
    let again = std::fs::read_to_string(h.work.join("payloads.rejects.rejects.csv"))
        .or_else(|_| std::fs::read_to_string(&rejects))
        .unwrap_or_default();
    assert!(!again.contains("''"), "{again}");
}

#[test]
fn a_vendor_rejects_file_escapes_formula_text_and_imports_again_as_written() {
    let h = crate::common::Home::new();
    crate::common::store::fleet(&h);
    let csv = h.work.join("vendor.csv");
    std::fs::write(
        &csv,
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n\
         7,1012,5,1,1000000008,04A1B2C3,2026-10-01T08:00:00+03:00,1,=HYPERLINK(\"http://x\"),1\n",
    )
    .unwrap();
    let r = h.kartka(&["taps", "import", csv.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rejects = h.work.join("vendor.rejects.csv");
    let text = std::fs::read_to_string(&rejects).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(!text.contains(",=HYPERLINK"), "{text}");
    // Fixed by the clerk: the result column put right, the escape kept in
    // the other cells; it imports.
    std::fs::write(
        &rejects,
        text.replace("'=HYPERLINK(\"\"http://x\"\")", "accepted"),
    )
    .unwrap();
    let r = h.kartka(&["--json", "taps", "import", rejects.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["taps_new"], 1, "{}", r.stdout);
}
