//! The variant corpus (fixtures/intake/variants/): how clerks really write
//! categories, communities, sex, benefit documents and headers, each with
//! its expected reading. Every unambiguous variant must map to its value,
//! none to a wrong one, and every ambiguous one must be refused with its
//! candidates.

use std::collections::BTreeMap;

use calamine::Data;
use kartka::config::Config;
use kartka::intake::applicant::category_parts;
use kartka::intake::{Synonyms, find_header};
use kartka::vocab::{self, Match, Vocabulary};

use crate::common::repo;

struct Case {
    line: usize,
    variant: String,
    expected: String,
    kind: String,
    /// Every field of the line (headers.tsv has four).
    fields: Vec<String>,
}

fn corpus(name: &str) -> Vec<Case> {
    let path = repo().join("fixtures/intake/variants").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .enumerate()
        .skip(1)
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 2, "{name}:{}: {l:?}", i + 1);
            Case {
                line: i + 1,
                variant: f[0].to_string(),
                expected: f[1].to_string(),
                kind: f.get(2).unwrap_or(&"").to_string(),
                fields: f.iter().map(|s| s.to_string()).collect(),
            }
        })
        .collect()
}

#[derive(Default, Debug)]
struct Tally {
    right: usize,
    exact: usize,
    wrong: Vec<String>,
    refused_right: usize,
    missed: Vec<String>,
}

/// Checks one corpus against a matcher; returns the tally (asserted by the
/// caller, so every failure is listed at once).
fn check(name: &str, find: impl Fn(&str) -> Match) -> Tally {
    let mut t = Tally::default();
    for c in corpus(name) {
        let got = find(&c.variant);
        let place = format!("{name}:{} {:?} ({})", c.line, c.variant, c.kind);
        if let Some(cands) = c.expected.strip_prefix("ambiguous:") {
            match &got {
                Match::Ambiguous(named)
                    if cands.split('|').all(|x| named.iter().any(|n| n == x)) =>
                {
                    t.refused_right += 1
                }
                Match::Variant { .. } | Match::Exact(_) => t.wrong.push(format!(
                    "{place}: expected ambiguous {cands}, taken as {got:?}"
                )),
                other => t.missed.push(format!(
                    "{place}: expected ambiguous {cands}, got {other:?}"
                )),
            }
        } else if c.expected == "unknown" {
            match &got {
                Match::Unknown(_) => t.refused_right += 1,
                Match::Ambiguous(_) => t.refused_right += 1,
                _ => t
                    .wrong
                    .push(format!("{place}: expected unknown, taken as {got:?}")),
            }
        } else {
            match got.code() {
                Some(code) if code == c.expected => {
                    t.right += 1;
                    if matches!(got, Match::Exact(_)) {
                        t.exact += 1;
                    }
                }
                Some(code) => t
                    .wrong
                    .push(format!("{place}: expected {}, taken as {code}", c.expected)),
                None => t
                    .missed
                    .push(format!("{place}: expected {}, got {got:?}", c.expected)),
            }
        }
    }
    eprintln!(
        "{name}: {} mapped right ({} exact, {} variants), {} refused as expected, {} wrong, {} missed",
        t.right,
        t.exact,
        t.right - t.exact,
        t.refused_right,
        t.wrong.len(),
        t.missed.len()
    );
    t
}

fn assert_all(t: Tally) {
    assert!(
        t.wrong.is_empty() && t.missed.is_empty(),
        "wrong:\n  {}\nmissed:\n  {}",
        t.wrong.join("\n  "),
        t.missed.join("\n  ")
    );
}

/// A category cell is read as intake reads it: whole, or split into parts.
fn category(v: &Vocabulary, raw: &str) -> Match {
    let parts = category_parts(raw, |t| v.find(t));
    if parts.len() == 1 {
        parts.into_iter().next().unwrap().1
    } else {
        Match::Unknown(Vec::new())
    }
}

#[test]
fn every_category_variant_maps_to_its_category() {
    let v = Config::default_config().category_vocabulary();
    assert_all(check("categories.tsv", |t| category(&v, t)));
}

#[test]
fn every_community_variant_maps_to_its_community() {
    let v = Config::default_config().community_vocabulary();
    assert_all(check("communities.tsv", |t| v.find(t)));
}

#[test]
fn every_sex_and_document_variant_maps_right() {
    let s = vocab::sexes();
    let mut sex = check("sex.tsv", |t| s.find(t));
    let d = vocab::documents();
    let docs = check("documents.tsv", |t| d.find(t));
    sex.wrong.extend(docs.wrong);
    sex.missed.extend(docs.missed);
    assert_all(sex);
}

#[test]
fn every_office_header_style_maps_its_columns() {
    let syn = Synonyms::new(&BTreeMap::new());
    let mut styles: BTreeMap<String, Vec<(usize, String, String)>> = BTreeMap::new();
    for c in corpus("headers.tsv") {
        // headers.tsv: style, column, header, expected.
        let f = &c.fields;
        styles.entry(f[0].clone()).or_default().push((
            f[1].parse().unwrap(),
            f[2].clone(),
            f[3].clone(),
        ));
    }
    assert!(
        styles.len() >= 6,
        "at least 6 office styles: {:?}",
        styles.keys()
    );
    let mut problems = Vec::new();
    for (style, cols) in &styles {
        let width = cols.iter().map(|c| c.0).max().unwrap() + 1;
        let mut row = vec![Data::Empty; width];
        for (c, h, _) in cols {
            row[*c] = Data::String(h.clone());
        }
        let title = vec![Data::String("Реєстр заяв".into())];
        let rows = [title, vec![], row];
        let Some(h) = find_header(rows.iter().map(|r| r.as_slice()), &syn) else {
            problems.push(format!("{style}: no header found"));
            continue;
        };
        assert_eq!(h.row, 2, "{style}");
        for (c, header, expected) in cols {
            let got = h
                .columns
                .iter()
                .find(|(_, col)| **col == *c)
                .map(|(f, _)| f.key());
            let want = (expected != "-").then_some(expected.as_str());
            if got != want {
                problems.push(format!(
                    "{style}: column {c} {header:?}: expected {expected}, got {got:?}"
                ));
            }
        }
        if !h.missing_required().is_empty() && style != "english" {
            problems.push(format!("{style}: missing {:?}", h.missing_required()));
        }
    }
    eprintln!(
        "headers.tsv: {} styles, {} problems",
        styles.len(),
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A new user's office workbook headed with the order's own field names
/// (fixtures/intake/order-2026-11.xlsx, written with openpyxl by
/// scripts/fixtures/make_intake_variants.py): no row is refused for its
/// naming, every row lands with the expected category and community, and
/// the pensioners whose benefit-document cell names a pension certificate
/// are decided on their income.
#[test]
fn the_orders_own_workbook_imports_and_is_decided_on_income() {
    use crate::common::{Home, ok};
    let h = Home::new();
    let file = h.work.join("fixtures/intake/order-2026-11.xlsx");
    let v = ok(h.kartka(&["--json", "import", "applicants", file.to_str().unwrap()])).json();
    assert_eq!(v["read"], 30, "{v}");
    assert_eq!(v["inserted"], 30, "{v}");
    assert_eq!(v["rejected"], 0, "{v}");
    // Every non-literal value is listed, with what it was taken as.
    let matched = v["matched"].as_array().unwrap();
    assert!(matched.len() >= 30, "{v}");
    let row9 = matched
        .iter()
        .find(|m| m["row"] == 9 && m["field"] == "category")
        .unwrap();
    assert_eq!(row9["taken_as"], "pensioner-age");
    assert_eq!(row9["written"], "пенсіоенр за віком");
    // The warnings file names each one in Ukrainian and English.
    let warnings_file = v["warnings_file"].as_str().unwrap();
    let warnings = std::fs::read_to_string(h.work.join(warnings_file))
        .unwrap_or_else(|_| std::fs::read_to_string(warnings_file).unwrap());
    assert!(
        warnings.contains("прийнято як «Пенсіонер за віком»"),
        "{warnings}"
    );
    assert_eq!(
        warnings.lines().count(),
        1 + v["warnings"].as_u64().unwrap() as usize
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(warnings_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the warnings file quotes applicants' cells"
        );
    }

    let expected =
        std::fs::read_to_string(repo().join("fixtures/intake/order-2026-11.expected.tsv")).unwrap();
    let db = h.db();
    ok(h.kartka(&["eligibility", "--as-of", "2026-11-01"]));
    let mut pensioners_on_income = 0;
    for line in expected.lines().skip(1).filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let (row, identity, category, community, outcome) = (f[0], f[1], f[2], f[3], f[4]);
        let (cats, com, got, trace): (String, String, String, String) = db
            .query_row(
                "SELECT p.categories, p.community, d.outcome, d.trace FROM people p \
                 JOIN decisions d ON d.person_id = p.id \
                 WHERE p.tax_number = ?1 OR p.passport = ?1 ORDER BY d.id DESC LIMIT 1",
                [identity],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap_or_else(|e| panic!("row {row} ({identity}): {e}"));
        assert_eq!(cats, category, "row {row}");
        assert_eq!(com, community, "row {row}");
        assert_eq!(got, outcome, "row {row}: {trace}");
        if category.starts_with("pensioner") {
            assert!(
                trace.contains("pension-certificate (from the benefit-document field"),
                "row {row}: {trace}"
            );
            assert!(trace.contains("[\"income\""), "row {row}: {trace}");
            pensioners_on_income += 1;
        }
        if !identity.bytes().all(|b| b.is_ascii_digit()) {
            // Identified by the passport: not told to bring a tax-number certificate.
            assert!(
                trace.contains("tax-number not required"),
                "row {row}: {trace}"
            );
        }
    }
    assert!(pensioners_on_income >= 14);
    // explain says which field each document came from.
    let r = ok(h.kartka(&[
        "eligibility",
        "explain",
        "АЕ093312",
        "--as-of",
        "2026-11-01",
    ]));
    assert!(
        r.stdout.contains("from the benefit-document field «ПП"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("from the passport field"), "{}", r.stdout);
}

/// The same workbook as LibreOffice saves it (.ods, .xls, and a CSV with
/// English-locale amounts «3,200.50»): read and decided as the .xlsx is.
#[test]
fn the_orders_workbook_saved_by_libreoffice_reads_the_same() {
    use crate::common::{Home, ok};
    for file in [
        "order-2026-11.ods",
        "order-2026-11.xls",
        "order-2026-11.csv",
    ] {
        let h = Home::new();
        let path = h.work.join("fixtures/intake/libreoffice").join(file);
        let v = ok(h.kartka(&["--json", "import", "applicants", path.to_str().unwrap()])).json();
        assert_eq!(
            (v["read"].as_u64(), v["rejected"].as_u64()),
            (Some(30), Some(0)),
            "{file}: {v}"
        );
        assert_eq!(v["matched"].as_array().unwrap().len(), 47, "{file}");
        let d = ok(h.kartka(&["--json", "eligibility", "--as-of", "2026-11-01"])).json();
        assert_eq!(
            (
                d["eligible"].as_u64(),
                d["ineligible"].as_u64(),
                d["incomplete"].as_u64()
            ),
            (Some(23), Some(2), Some(5)),
            "{file}: {d}"
        );
    }
}
