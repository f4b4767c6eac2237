//! `kartka import applicants`; `hostile`: the same fed by an attacker.

mod fields;
mod forms;
mod hostile;
mod offices;
mod taught;

use std::collections::HashMap;

use crate::common::{Home, repo};

const ALL: [&str; 4] = [
    "fixtures/applicants/office-2026-10.xlsx",
    "fixtures/applicants/terniv-2026-10.csv",
    "fixtures/applicants/verbky-2026-10.ods",
    "fixtures/applicants/legacy-2025.xls",
];

fn import(h: &Home, extra: &[&str], files: &[&str]) -> crate::common::Run {
    let mut args = vec!["--json", "import", "applicants"];
    args.extend_from_slice(extra);
    args.extend_from_slice(files);
    h.kartka(&args)
}

/// What the clerk reads for the office's one-letter passport.
const PASSPORT_REASON_UK: &str = "стовпець H «Паспорт (серія, номер)»: \"А123456\" — не документ, що посвідчує особу; очікуються паспорт (2 кириличні літери і 6 цифр, АВ123456), ID-картка (9 цифр) або свідоцтво про народження дитини (І-АП 123456)";

/// The words of our reason for each kind of bad row named in
/// fixtures/applicants/README.md.
fn reason_words(kind: &str) -> &'static [&'static str] {
    match kind {
        "tax-check-digit" => &["fails the check digit"],
        "tax-birth-date-mismatch" => &["encodes birth date", "one of them is wrong"],
        "tax-sex-mismatch" => &["encodes sex", "one of them is wrong"],
        "passport-format" => &["is not an identity document", "АВ123456"],
        "unknown-category" => &["is not a known category"],
        "unknown-community" => &["is not a known community"],
        "income-missing" => &["no income given", "income-tested"],
        "birth-date-invalid" => &["\"Дата народження\"", "date"],
        "surname-missing" => &["\"Прізвище\"", "the surname is required"],
        "photo-missing" => &["not found"],
        "photo-invalid" => &["is not a JPEG or PNG"],
        "identity-missing" => &["no tax number (РНОКПП) and no passport"],
        other => panic!("the fixture README names a kind the test does not know: {other}"),
    }
}

/// (file, row) → kind, from the fixtures' README table of bad rows.
fn expected_bad_rows() -> HashMap<(String, usize), String> {
    let readme = std::fs::read_to_string(repo().join("fixtures/applicants/README.md")).unwrap();
    let section = readme
        .split("## Bad rows")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    let mut rows = HashMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let file = cells[1].trim_matches('`').to_string();
        let row: usize = cells[3].parse().unwrap();
        rows.insert((file, row), cells[5].trim_matches('`').to_string());
    }
    assert_eq!(rows.len(), 20);
    rows
}

pub(crate) fn read_rejects(h: &Home, path: &str) -> Vec<HashMap<String, String>> {
    let bytes = std::fs::read(h.work.join(path)).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn the_messy_fixtures_import_with_every_bad_row_reported() {
    let h = Home::new();
    let r = import(&h, &[], &ALL);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["read"], 54);
    assert_eq!(v["inserted"], 34);
    assert_eq!(v["updated"], 0);
    assert_eq!(v["unchanged"], 0);
    assert_eq!(v["rejected"], 20);
    assert!(v["warnings"].as_u64().unwrap() >= 1);
    assert_eq!(h.count("SELECT count(*) FROM people"), 34);

    let rejects_file = v["rejects_file"].as_str().unwrap().to_string();
    assert!(rejects_file.ends_with("fixtures/applicants/office-2026-10.rejects.csv"));
    let rejects = read_rejects(&h, &rejects_file);
    let expected = expected_bad_rows();
    assert_eq!(rejects.len(), expected.len());
    for rej in &rejects {
        let file = rej["Файл"].rsplit('/').next().unwrap().to_string();
        let row: usize = rej["Рядок"].parse().unwrap();
        let kind = expected.get(&(file.clone(), row)).unwrap_or_else(|| {
            panic!(
                "{file} row {row} was rejected but is good: {}",
                rej["Reason"]
            )
        });
        for w in reason_words(kind) {
            assert!(
                rej["Reason"].contains(w),
                "{file} row {row} ({kind}): {:?} lacks {w:?}",
                rej["Reason"]
            );
        }
        // Every bad row's message on stderr names file, sheet and row.
        let sheet = &rej["Аркуш"];
        let place = if sheet.is_empty() {
            format!("{file}, row {row}:")
        } else {
            format!("{file}, sheet \"{sheet}\", row {row}:")
        };
        assert!(r.stderr.contains(&place), "stderr lacks {place}");
    }
    // The original cells travel with the reason.
    let bad_passport = rejects
        .iter()
        .find(|r| r["Reason"].contains("passport") && r["Файл"].ends_with(".xlsx"))
        .unwrap();
    assert_eq!(bad_passport["Паспорт (серія, номер)"], "А123456");
    // The reason a clerk reads is in Ukrainian, with the English beside it.
    assert_eq!(bad_passport["Причина"], PASSPORT_REASON_UK);
    // Contact data never refuses a person: kept as written, with a warning.
    assert!(
        r.stderr
            .contains("\"12345\" is not a number that can be dialled"),
        "{}",
        r.stderr
    );
    assert!(
        rejects.iter().all(|r| r["Причина"].contains("стовп")
            || r["Причина"].contains("немає")
            || r["Причина"].contains("дохід")),
        "every reason has its Ukrainian text"
    );
    assert!(!bad_passport["Прізвище"].is_empty());
    assert!(
        r.stderr.contains("sheet \"Довідник\": skipped"),
        "{}",
        r.stderr
    );
    // The import ledger: one row per file, the rejects file on those with rejects.
    assert_eq!(h.count("SELECT count(*) FROM imports"), 4);
    assert_eq!(
        h.count("SELECT count(*) FROM imports WHERE rejected > 0 AND rejects_file LIKE '%office-2026-10.rejects.csv'"),
        3
    );
    assert_eq!(
        h.count("SELECT count(*) FROM imports WHERE rejected = 0 AND rejects_file IS NULL"),
        1
    );
    assert_eq!(h.count("SELECT sum(read) FROM imports"), 54);
}

/// Every person's social number with what would change on any write.
fn people_snapshot(h: &Home) -> Vec<(String, String)> {
    let db = h.db();
    let mut s = db
        .prepare(
            "SELECT social_number, fingerprint || revision || updated_at FROM people ORDER BY id",
        )
        .unwrap();
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The import summary's counts, in the order of the JSON object.
fn counts(v: &serde_json::Value) -> [u64; 5] {
    ["read", "inserted", "updated", "unchanged", "rejected"].map(|k| v[k].as_u64().unwrap())
}

#[test]
fn a_second_import_of_the_same_files_changes_nothing() {
    let h = Home::new();
    assert_eq!(import(&h, &[], &ALL).code, 0);
    let before = people_snapshot(&h);
    let r = import(&h, &[], &ALL);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(counts(&v), [54, 0, 0, 34, 20]);
    let after = people_snapshot(&h);
    assert_eq!(before, after);
    assert_eq!(h.count("SELECT count(*) FROM person_history"), 0);
}

#[test]
fn normalised_values_match_the_fixture_table() {
    let h = Home::new();
    assert_eq!(import(&h, &[], &ALL).code, 0);
    let get = |tax: &str, col: &str| -> Option<String> {
        h.db()
            .query_row(
                &format!(
                    "SELECT CAST({col} AS TEXT) FROM people WHERE tax_number = ?1 OR passport = ?1"
                ),
                [tax],
                |r| r.get(0),
            )
            .unwrap()
    };
    // A tax number stored as a number, leading zero restored; two categories.
    assert_eq!(
        get("0971104520", "categories").as_deref(),
        Some("pensioner-age,combatant")
    );
    assert_eq!(
        get("0971104520", "birth_date").as_deref(),
        Some("1926-08-03")
    );
    // No tax number: identified by the passport (also when written in the tax column).
    assert_eq!(get("КЕ305118", "tax_number"), None);
    assert_eq!(get("ВК482913", "surname").as_deref(), Some("Гончаренко"));
    // Apostrophes and Latin look-alikes from the Windows-1251 CSV.
    assert_eq!(
        h.count("SELECT count(*) FROM people WHERE surname = 'Лукʼяненко'"),
        1
    );
    assert_eq!(
        h.count("SELECT count(*) FROM people WHERE surname = 'Сорока'"),
        1
    );
    assert_eq!(h.count("SELECT count(*) FROM people WHERE surname GLOB '*[a-zA-Z]*' OR given_name GLOB '*[a-zA-Z]*'"), 0);
    // Money in kopecks, phones in E.164.
    assert_eq!(
        get("1759013776", "income_pension").as_deref(),
        Some("412050")
    );
    assert_eq!(get("1759013776", "phone").as_deref(), Some("+380673184290"));
    assert_eq!(
        h.count("SELECT count(*) FROM people WHERE phone NOT LIKE '+380%'"),
        h.count("SELECT count(*) FROM people WHERE phone = '12345'")
    );
    assert_eq!(
        h.count("SELECT count(*) FROM people WHERE email = 'ivan@@ukr'"),
        1
    );
    // Photos are copied into the home under their content hash.
    let photos = std::fs::read_dir(h.root.join("photos")).unwrap().count();
    assert_eq!(
        photos as i64,
        h.count("SELECT count(DISTINCT photo) FROM people WHERE photo IS NOT NULL")
    );
    assert!(photos >= 1);
    // Social numbers are unique and stable.
    assert_eq!(
        h.count("SELECT count(DISTINCT social_number) FROM people"),
        34
    );
}

#[test]
fn a_changed_row_updates_the_person_and_keeps_the_history() {
    let h = Home::new();
    let csv = h.work.join("one.csv");
    let header = "ПІБ;Дата народження;Стать;РНОКПП;Категорія;Дохід;Телефон\n";
    std::fs::write(&csv, format!("{header}Коваленко Петро Іванович;28.02.1948;ч;1759013776;Пенсіонер за віком;4120,50;0671234567\n")).unwrap();
    let r = import(&h, &["--community", "Павлоград"], &["one.csv"]);
    assert_eq!(r.json()["inserted"], 1, "{}", r.stderr);
    let sn: String = h
        .db()
        .query_row("SELECT social_number FROM people", [], |r| r.get(0))
        .unwrap();
    std::fs::write(&csv, format!("{header}Коваленко Петро Іванович;28.02.1948;ч;1759013776;Пенсіонер за віком;4700,00;0671234567\n")).unwrap();
    let r = import(&h, &["--community", "Павлоград"], &["one.csv"]);
    let v = r.json();
    assert_eq!(
        (v["updated"].as_u64(), v["inserted"].as_u64()),
        (Some(1), Some(0)),
        "{}",
        r.stderr
    );
    let (field, old, new, file, row, op): (String, String, String, String, i64, String) = h
        .db()
        .query_row(
            "SELECT field, old_value, new_value, source_file, source_row, operator FROM person_history",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(
        (field.as_str(), old.as_str(), new.as_str()),
        ("income_total", "412050", "470000")
    );
    assert_eq!(
        (file.as_str(), row, op.as_str()),
        ("one.csv", 2, "test-clerk")
    );
    let (sn2, revision): (String, i64) = h
        .db()
        .query_row("SELECT social_number, revision FROM people", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(sn2, sn, "the social number never changes");
    assert_eq!(revision, 2);
}

#[test]
fn the_same_person_twice_with_different_data_is_rejected_not_flipped() {
    let h = Home::new();
    let csv = h.work.join("dup.csv");
    std::fs::write(
        &csv,
        "ПІБ;Дата народження;Стать;РНОКПП;Категорія\n\
         Бондар Олексій Вікторович;14.11.1975;ч;2771109178;УБД\n\
         Бондар Олексій Вікторович;14.11.1975;ч;2771109178;УБД\n\
         Бондар Олексій Вікторович;14.11.1975;ч;2771109178;Особа з інвалідністю II групи\n",
    )
    .unwrap();
    let v = import(&h, &["--community", "UA12120130000022766"], &["dup.csv"]).json();
    assert_eq!(counts(&v), [3, 1, 0, 1, 1]);
    let rejects = read_rejects(&h, v["rejects_file"].as_str().unwrap());
    assert!(
        rejects[0]["Reason"].contains("row 2 with different data"),
        "{:?}",
        rejects[0]
    );
    assert_eq!(
        h.count("SELECT count(*) FROM people WHERE categories = 'combatant'"),
        1
    );
}

#[test]
fn a_fixed_rejects_file_imports_again() {
    let h = Home::new();
    let v = import(&h, &[], &["fixtures/applicants/terniv-2026-10.csv"]).json();
    assert_eq!(v["rejected"], 4);
    let path = v["rejects_file"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(h.work.join(&path)).unwrap();
    let fixed = text
        .replace(";Харківська;", ";Тернівська;")
        .replace(",Харківська,", ",Тернівська,");
    assert_ne!(fixed, text);
    std::fs::write(h.work.join("fixed.csv"), fixed).unwrap();
    let v = import(&h, &[], &["fixed.csv"]).json();
    assert_eq!(v["read"], 4);
    assert_eq!(v["inserted"], 1, "only the community row was fixed");
    assert_eq!(v["rejected"], 3);
}

#[test]
fn dry_run_counts_the_same_and_writes_nothing() {
    let h = Home::new();
    let r = import(&h, &["--dry-run"], &ALL);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(counts(&v), [54, 34, 0, 0, 20]);
    assert!(v["rejects_file"].is_null());
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
    assert_eq!(h.count("SELECT count(*) FROM imports"), 0);
    assert!(!h.fixture("office-2026-10.rejects.csv").exists());
    assert_eq!(std::fs::read_dir(h.root.join("photos")).unwrap().count(), 0);
}

#[test]
fn strict_exits_65_after_importing_the_good_rows() {
    let h = Home::new();
    let r = import(
        &h,
        &["--strict"],
        &["fixtures/applicants/terniv-2026-10.csv"],
    );
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("--strict: 4 row(s) rejected"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["inserted"], 9);
    assert_eq!(h.count("SELECT count(*) FROM people"), 9);
    let r = import(&h, &["--strict"], &["fixtures/applicants/legacy-2025.xls"]);
    assert_eq!(r.code, 0, "no rejects: {}", r.stderr);
}

#[test]
fn a_missing_file_is_66_and_nothing_is_imported() {
    let h = Home::new();
    let r = import(
        &h,
        &[],
        &["fixtures/applicants/legacy-2025.xls", "nope.xlsx"],
    );
    assert_eq!(r.code, 66);
    assert!(r.stderr.contains("nope.xlsx: no such file"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
}

#[test]
fn a_file_that_is_not_a_spreadsheet_is_65_and_nothing_is_imported() {
    let h = Home::new();
    std::fs::copy(h.fixture("photos/bondar.png"), h.work.join("scan.xlsx")).unwrap();
    let r = import(
        &h,
        &[],
        &["fixtures/applicants/legacy-2025.xls", "scan.xlsx"],
    );
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("scan.xlsx: not a spreadsheet"),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);

    std::fs::write(h.work.join("zip.xlsx"), b"PK\x03\x04garbage").unwrap();
    let r = import(&h, &[], &["zip.xlsx"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("zip.xlsx: cannot be read as a spreadsheet"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_sheet_without_a_header_or_a_required_column_is_65_naming_it() {
    let h = Home::new();
    std::fs::write(
        h.work.join("notes.csv"),
        "Примітка;Дата\nпередзвонити;01.10.2026\n",
    )
    .unwrap();
    let r = import(&h, &[], &["notes.csv"]);
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("notes.csv: no header row"),
        "{}",
        r.stderr
    );

    std::fs::write(
        h.work.join("nocat.csv"),
        "Прізвище;Ім'я;Дата народження;РНОКПП\nБондар;Олексій;14.11.1975;2771109178\n",
    )
    .unwrap();
    let r = import(&h, &[], &["nocat.csv"]);
    assert_eq!(r.code, 65);
    assert!(
        r.stderr
            .contains("lacks required column(s): category (Категорія пільги)"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Found: \"Прізвище\", \"Ім'я\""),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
}

#[test]
fn sheet_picks_one_sheet_and_a_wrong_name_lists_the_sheets() {
    let h = Home::new();
    let r = import(
        &h,
        &["--sheet", "Заяви"],
        &["fixtures/applicants/office-2026-10.xlsx"],
    );
    assert_eq!(r.json()["read"], 27);
    let r = import(
        &h,
        &["--sheet", "Лист9"],
        &["fixtures/applicants/office-2026-10.xlsx"],
    );
    assert_eq!(r.code, 65);
    assert!(
        r.stderr
            .contains("no sheet named \"Лист9\"; the sheets are: Заяви, Довідник"),
        "{}",
        r.stderr
    );
    let r = import(
        &h,
        &["--sheet", "Довідник"],
        &["fixtures/applicants/office-2026-10.xlsx"],
    );
    assert_eq!(r.code, 65, "{}", r.stderr);
}

#[test]
fn rejects_path_can_be_chosen() {
    let h = Home::new();
    let r = import(
        &h,
        &["--rejects", "out/bad.csv"],
        &["fixtures/applicants/verbky-2026-10.ods"],
    );
    assert_eq!(r.code, 73, "the folder does not exist: {}", r.stderr);
    assert!(
        r.stderr
            .contains("out/bad.csv: cannot write the rejects file"),
        "{}",
        r.stderr
    );
    assert_eq!(
        h.count("SELECT count(*) FROM people"),
        0,
        "nothing imported when rejects cannot be kept"
    );
    std::fs::create_dir(h.work.join("out")).unwrap();
    let r = import(
        &h,
        &["--rejects", "out/bad.csv"],
        &["fixtures/applicants/verbky-2026-10.ods"],
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.json()["rejects_file"], "out/bad.csv");
    assert_eq!(read_rejects(&h, "out/bad.csv").len(), 4);
}

#[test]
fn a_second_writing_run_waits_then_exits_75() {
    let h = Home::new();
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(h.root.join(".lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let r = import(&h, &[], &["fixtures/applicants/legacy-2025.xls"]);
    assert_eq!(r.code, 75, "{}", r.stderr);
    assert!(
        r.stderr.contains("another kartka run holds the home lock"),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
    drop(lock);
    assert_eq!(
        import(&h, &[], &["fixtures/applicants/legacy-2025.xls"]).code,
        0
    );
}

#[test]
fn generated_applicants_import_with_exactly_the_bad_rows_rejected() {
    let h = Home::new();
    for ext in ["xlsx", "csv"] {
        let out = format!("gen.{ext}");
        let g = h.kartka(&[
            "--json",
            "generate",
            "applicants",
            "--count",
            "400",
            "--bad-share",
            "0.1",
            "--seed",
            "7",
            "--out",
            &out,
        ]);
        assert_eq!(g.code, 0, "{}", g.stderr);
        let bad = g.json()["bad_rows"].as_u64().unwrap();
        assert!(bad > 10);
        let r = import(&h, &["--dry-run"], &[&out]);
        let v = r.json();
        assert_eq!(v["read"], 400);
        assert_eq!(v["rejected"].as_u64().unwrap(), bad, "{ext}: {}", r.stderr);
    }
}

#[test]
fn quiet_json_prints_only_the_object() {
    let h = Home::new();
    let r = h.kartka(&[
        "--json",
        "--quiet",
        "import",
        "applicants",
        "fixtures/applicants/legacy-2025.xls",
    ]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let v = r.json();
    for key in [
        "read",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "warnings",
        "rejects_file",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    assert_eq!(r.stdout.trim().lines().count(), 1);
}

#[test]
fn a_damaged_workbook_is_65_with_a_message_not_a_crash() {
    let h = Home::new();
    for (name, keep) in [
        ("legacy-2025.xls", 3),
        ("office-2026-10.xlsx", 2),
        ("verbky-2026-10.ods", 2),
    ] {
        let bytes = std::fs::read(h.fixture(name)).unwrap();
        let broken = format!("broken-{name}");
        std::fs::write(h.work.join(&broken), &bytes[..bytes.len() * keep / 4]).unwrap();
        let r = import(&h, &[], &[&broken]);
        assert_eq!(r.code, 65, "{name}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{broken}: cannot be read as a spreadsheet")),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
}

/// A damaged .xls whose cell record claims row and column 65,534 would make
/// calamine reserve a dense grid of billions of cells; in-process the failed
/// allocation aborts. Read in the memory-limited child, the file is refused
/// with a message, and the run imports nothing.
#[test]
fn a_damaged_xls_is_refused_not_a_crash() {
    let h = Home::new();
    let r = h.kartka(&[
        "import",
        "applicants",
        "fixtures/intake/damaged-huge-range.xls",
        "fixtures/intake/clerk-2026-11.csv",
    ]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("damaged-huge-range.xls"), "{}", r.stderr);
    assert!(r.stderr.contains("the file is damaged"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was imported"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM people"), 0);
    assert_eq!(h.count("SELECT count(*) FROM imports"), 0);
}

proptest::proptest! {
    // Random seeds: every run tries new damage. The .xls and .ods are read
    // in the memory-limited child (the `kartka` binary), the .xlsx is
    // streamed in-process.
    #![proptest_config(proptest::test_runner::Config {
        cases: 128,
        ..proptest::test_runner::Config::default()
    })]
    #[test]
    fn damaged_real_workbooks_open_or_fail_cleanly(
        file in proptest::sample::select(vec!["office-2026-10.xlsx", "verbky-2026-10.ods", "legacy-2025.xls"]),
        flips in proptest::collection::vec((proptest::num::usize::ANY, proptest::num::u8::ANY), 1..8),
        cut in proptest::option::of(proptest::num::usize::ANY),
    ) {
        kartka::intake::isolate::set_reader(crate::common::BIN);
        let path = repo().join("fixtures/applicants").join(file);
        let mut bytes = std::fs::read(&path).unwrap();
        for (at, value) in flips {
            let at = at % bytes.len();
            bytes[at] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        match kartka::intake::read::open(&path, bytes) {
            Ok((_, sheets)) => {
                for sheet in sheets {
                    let _ = sheet.for_each_row(0, &mut |_, _| true);
                }
            }
            Err(e) => {
                let text = e.to_string();
                proptest::prop_assert!(text.contains(file), "{}", text);
                proptest::prop_assert!(text.to_lowercase().contains("nothing was imported"), "{}", text);
            }
        }
    }
}
