//! Scopes hold in every command: `ana`, an analyst limited to carrier 1,
//! against each command that reads or changes taps, flags, clearings,
//! budgets, reports and open data. What the account may not see is in no
//! output (stdout, stderr, --json, the files written); what it may not
//! change is refused with 77, naming the account, its scope and the
//! carrier, recorded in the audit trail, and left exactly as it was.

use std::collections::BTreeSet;
use std::path::Path;

use polars::prelude::*;

use crate::common::month::{MONTH, flagged_month};
use crate::common::{Home, Run, ok};

/// The flagged month of test_compensation (three carriers) with `ana`,
/// an analyst limited to carrier 1.
fn scoped() -> Home {
    let h = flagged_month();
    ok(h.kartka(&[
        "accounts",
        "add",
        "ana",
        "--role",
        "analyst",
        "--carrier",
        "1",
    ]));
    h
}

/// One row of the month's stored flags (one per tap and rule).
#[derive(Debug, Clone)]
struct FlagRow {
    id: String,
    carrier: Option<i32>,
    route: i32,
    card: i64,
    uid: String,
    rule: String,
    suspect: Option<String>,
}

fn flag_rows(h: &Home) -> Vec<FlagRow> {
    let df = ParquetReader::new(
        std::fs::File::open(h.root.join(format!("flags/month={MONTH}/flags.parquet"))).unwrap(),
    )
    .finish()
    .unwrap();
    let c = |n: &str| df.column(n).unwrap().clone();
    let (id, carrier, route, card, uid, rule, suspect) = (
        c("flag_id"),
        c("carrier_id"),
        c("route"),
        c("card_number"),
        c("card_uid"),
        c("rule"),
        c("suspect_id"),
    );
    (0..df.height())
        .map(|i| FlagRow {
            id: id.str().unwrap().get(i).unwrap().to_string(),
            carrier: carrier.i32().unwrap().get(i),
            route: route.i32().unwrap().get(i).unwrap(),
            card: card.i64().unwrap().get(i).unwrap(),
            uid: uid.str().unwrap().get(i).unwrap().to_string(),
            rule: rule.str().unwrap().get(i).unwrap().to_string(),
            suspect: suspect.str().unwrap().get(i).map(String::from),
        })
        .collect()
}

/// What ana must never see: the flag ids of other carriers' flags, and
/// the card numbers and UIDs of those flags that no carrier-1 flag shares
/// (a card riding both carriers is carrier 1's to see too).
#[derive(Debug)]
struct Foreign {
    ids: BTreeSet<String>,
    cards: BTreeSet<String>,
    uids: BTreeSet<String>,
}

fn foreign(h: &Home) -> Foreign {
    let rows = flag_rows(h);
    let mine = |r: &&FlagRow| r.carrier == Some(1);
    let my_cards: BTreeSet<i64> = rows.iter().filter(mine).map(|r| r.card).collect();
    let my_uids: BTreeSet<&str> = rows.iter().filter(mine).map(|r| r.uid.as_str()).collect();
    let theirs: Vec<&FlagRow> = rows.iter().filter(|r| r.carrier != Some(1)).collect();
    let f = Foreign {
        ids: theirs.iter().map(|r| r.id.clone()).collect(),
        cards: theirs
            .iter()
            .filter(|r| !my_cards.contains(&r.card))
            .map(|r| r.card.to_string())
            .collect(),
        uids: theirs
            .iter()
            .filter(|r| !r.uid.is_empty() && !my_uids.contains(r.uid.as_str()))
            .map(|r| r.uid.clone())
            .collect(),
    };
    assert!(
        !f.ids.is_empty() && !f.cards.is_empty() && !f.uids.is_empty(),
        "the month has other carriers' flags to hide: {f:?}"
    );
    f
}

/// The words of a text: flag ids, numbers, UIDs, whole.
fn tokens(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

/// Everything a file written by kartka says, as text: a workbook's
/// cells, a Parquet file's values, any other file's bytes.
fn text_of(path: &Path) -> String {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "xlsx" => {
            use calamine::Reader;
            let mut book: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
            let mut out = String::new();
            for name in book.sheet_names().to_owned() {
                let range = book.worksheet_range(&name).unwrap();
                for row in range.rows() {
                    for cell in row {
                        out.push_str(&cell.to_string());
                        out.push('\t');
                    }
                    out.push('\n');
                }
            }
            out
        }
        "parquet" => {
            let df = ParquetReader::new(std::fs::File::open(path).unwrap())
                .finish()
                .unwrap();
            let mut out = String::new();
            for c in df.columns() {
                let s = c.cast(&DataType::String).unwrap();
                for v in s.str().unwrap().iter().flatten() {
                    out.push_str(v);
                    out.push('\n');
                }
            }
            out
        }
        _ => String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned(),
    }
}

fn assert_unseen(f: &Foreign, what: &str, text: &str) {
    let words = tokens(text);
    for (kind, set) in [("flag", &f.ids), ("card", &f.cards), ("UID", &f.uids)] {
        if let Some(x) = set.iter().find(|x| words.contains(*x)) {
            panic!("{what} shows another carrier's {kind} {x}");
        }
    }
}

fn assert_run_unseen(f: &Foreign, what: &str, r: &Run) {
    assert_unseen(f, &format!("{what} (stdout)"), &r.stdout);
    assert_unseen(f, &format!("{what} (stderr)"), &r.stderr);
}

fn refusals(h: &Home, user: &str) -> i64 {
    h.count(&format!(
        "SELECT count(*) FROM audit WHERE outcome = 'refused' AND user = '{user}'"
    ))
}

/// A refusal of ana's: 77, the account, its scope and `naming` in the
/// message, nothing on stdout, one more refusal in the audit trail.
fn assert_refused(h: &Home, r: &Run, before: i64, naming: &[&str]) {
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(
        r.stderr.contains("ana (analyst) may not run"),
        "{}",
        r.stderr
    );
    for n in naming {
        assert!(r.stderr.contains(n), "{n:?} in: {}", r.stderr);
    }
    assert!(r.stdout.is_empty(), "a refusal shows nothing: {}", r.stdout);
    assert_eq!(refusals(h, "ana"), before + 1, "the refusal is recorded");
}

/// The carrier-1 totals the admin's report shows (validations, held).
fn carrier_1(h: &Home) -> (i64, i64) {
    let all = ok(h.kartka(&[
        "--json",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "carrier",
    ]))
    .json();
    let row = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "1")
        .unwrap()
        .clone();
    (
        row["validations"].as_i64().unwrap(),
        row["held"].as_i64().unwrap(),
    )
}

#[test]
fn taps_flag_shows_and_writes_only_the_accounts_carriers() {
    let h = scoped();
    let f = foreign(&h);
    let rows = flag_rows(&h);
    let all_rows = rows.len();
    let mine: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.carrier == Some(1))
        .map(|r| r.id.as_str())
        .collect();
    // Of those, the taps a rule that holds flagged.
    let review = crate::common::month::review_rules();
    let held: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.carrier == Some(1) && !review.contains(&r.rule))
        .map(|r| r.id.as_str())
        .collect();
    let (validations, _) = carrier_1(&h);
    let runs = h.count("SELECT count(*) FROM flag_runs");

    for out in ["f.csv", "f.xlsx", "f.parquet"] {
        let r = ok(h.kartka_as(
            "ana",
            &["--json", "taps", "flag", "--month", MONTH, "--out", out],
        ));
        assert_run_unseen(&f, out, &r);
        assert_unseen(&f, out, &text_of(&h.work.join(out)));
        let s = r.json();
        assert_eq!(s["flagged"], mine.len(), "{out}: carrier 1's flags only");
        assert_eq!(s["taps"], validations, "{out}: carrier 1's taps judged");
        assert_eq!(s["held"], held.len(), "{out}: carrier 1's held taps");
        assert_eq!(
            s["review"],
            mine.len() - held.len(),
            "{out}: carrier 1's taps for review"
        );
    }
    // The names file: the holders of carrier 1's flags only.
    let r = ok(h.kartka_as(
        "ana",
        &[
            "taps",
            "flag",
            "--month",
            MONTH,
            "--with-names",
            "--out",
            "names.xlsx",
            "--purpose",
            "complaint 4/2026 about carrier 1",
        ],
    ));
    assert_run_unseen(&f, "--with-names", &r);
    assert_unseen(&f, "names.xlsx", &text_of(&h.work.join("names.xlsx")));

    // The run itself is the month's, as anyone's: every carrier's flags
    // are stored and held as before.
    assert_eq!(flag_rows(&h).len(), all_rows);
    assert_eq!(h.count("SELECT count(*) FROM flag_runs"), runs + 4);
    let admin = ok(h.kartka(&["--json", "taps", "flag", "--month", MONTH])).json();
    assert!(admin["flagged"].as_u64().unwrap() > mine.len() as u64);
}

/// A held flag of carrier 2's, and one of carrier 1's.
fn two_flags(h: &Home) -> (FlagRow, FlagRow) {
    let rows = flag_rows(h);
    let theirs = rows
        .iter()
        .find(|r| r.carrier == Some(2) && r.suspect.is_none())
        .unwrap()
        .clone();
    let mine = rows
        .iter()
        .find(|r| r.carrier == Some(1) && r.suspect.is_none())
        .unwrap()
        .clone();
    (theirs, mine)
}

fn cleared(h: &Home, id: &str) -> i64 {
    h.count(&format!(
        "SELECT count(*) FROM flag_clearings WHERE flag_id = '{id}'"
    ))
}

#[test]
fn taps_clear_of_another_carriers_tap_is_refused_and_it_stays_held() {
    let h = scoped();
    let f = foreign(&h);
    let (theirs, mine) = two_flags(&h);
    let clearings = h.count("SELECT count(*) FROM flag_clearings");
    let before = refusals(&h, "ana");
    let r = h.kartka_as(
        "ana",
        &["taps", "clear", &theirs.id, "--reason", "looks fine to me"],
    );
    assert_refused(
        &h,
        &r,
        before,
        &[
            &format!("{} is carrier 2's, route {}", theirs.id, theirs.route),
            "outside the account's scope (carriers 1)",
            "nothing was changed",
        ],
    );
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), clearings);

    // Mixed with one of its own: refused whole, its own not cleared either.
    let r = h.kartka_as(
        "ana",
        &[
            "taps",
            "clear",
            &mine.id,
            &theirs.id,
            "--reason",
            "both fine",
        ],
    );
    assert_refused(&h, &r, before + 1, &[&theirs.id, "carrier 2"]);
    assert!(
        !r.stderr.contains(&format!("{} is carrier", mine.id)),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), clearings);

    // Nor may it hold another carrier's tap: an analyst's hold is a
    // decision on that carrier's money too.
    let r = h.kartka_as(
        "ana",
        &["taps", "hold", &theirs.id, "--reason", "card handed on"],
    );
    assert_refused(
        &h,
        &r,
        before + 2,
        &[
            &format!("{} is carrier 2's", theirs.id),
            "nothing was changed",
        ],
    );
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), clearings);

    // The tap is still held: the admin's flag run holds it and the
    // compensation does not pay it.
    let v = ok(h.kartka(&["--json", "taps", "flag", "--month", MONTH])).json();
    assert_eq!(cleared(&h, &theirs.id), 0);
    assert!(v["held"].as_u64().unwrap() > 0);

    // Its own flag it clears.
    let r = ok(h.kartka_as(
        "ana",
        &["taps", "clear", &mine.id, "--reason", "a transfer (P14)"],
    ));
    assert_run_unseen(&f, "taps clear", &r);
    assert_eq!(cleared(&h, &mine.id), 1);
}

/// Kyiv "YYYY-MM-DD HH:MM" as UTC milliseconds.
fn kyiv_ms(text: &str) -> i64 {
    use chrono::TimeZone;
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
    chrono_tz::Europe::Kyiv
        .from_local_datetime(&local)
        .earliest()
        .unwrap()
        .timestamp_millis()
}

/// Carrier 2's validator 906 on vehicle 9006, whose fleet row gives it
/// route 1, runs route 77 all of 14 October: a configuration suspect of
/// carrier 2's, `S-906-2026-10-14`, after the admin's flag run.
fn carrier_2_suspect(h: &Home) -> String {
    let fleet = h.work.join("fleet-906.csv");
    std::fs::write(
        &fleet,
        "validator,vehicle,plate,carrier,carrier_name,edrpou,routes,zone\n906,9006,АЕ9006ВС,2,,,1,1\n",
    )
    .unwrap();
    ok(h.kartka(&["fleet", "import", "fleet-906.csv"]));
    let cards: Vec<(i64, String)> = flag_rows(h)
        .into_iter()
        .map(|r| (r.card, r.uid))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .take(30)
        .collect();
    let mut csv = String::from(
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq\n",
    );
    let start = kyiv_ms("2026-10-14 07:00");
    for (i, (card, uid)) in cards.iter().enumerate() {
        let at = chrono::DateTime::from_timestamp_millis(start + i as i64 * 24 * 60_000)
            .unwrap()
            .to_rfc3339();
        csv.push_str(&format!(
            "906,9006,77,,{card},{uid},{at},1,accepted,{}\n",
            i + 1
        ));
    }
    std::fs::write(h.work.join("day-906.csv"), csv).unwrap();
    ok(h.kartka(&["taps", "import", "day-906.csv"]));
    let v = ok(h.kartka(&["--json", "taps", "flag", "--month", MONTH])).json();
    let id = "S-906-2026-10-14";
    assert!(
        v["suspects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == id),
        "{}",
        v["suspects"]
    );
    id.to_string()
}

#[test]
fn taps_clear_of_another_carriers_configuration_suspect_is_refused() {
    let h = scoped();
    let suspect = carrier_2_suspect(&h);
    let clearings = h.count("SELECT count(*) FROM flag_clearings");
    let before = refusals(&h, "ana");
    let r = h.kartka_as(
        "ana",
        &["taps", "clear", &suspect, "--reason", "the fleet sheet"],
    );
    assert_refused(
        &h,
        &r,
        before,
        &[
            &format!("{suspect} (F-906-1) is carrier 2's, route 77"),
            "outside the account's scope (carriers 1)",
        ],
    );
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), clearings);
    // Nor does ana see it among the month's suspects.
    let r = ok(h.kartka_as("ana", &["--json", "taps", "flag", "--month", MONTH]));
    assert!(!r.stdout.contains(&suspect) && !r.stderr.contains(&suspect));
    // The admin clears it.
    ok(h.kartka(&["taps", "clear", &suspect, "--reason", "the fleet sheet"]));
    assert_eq!(
        h.count("SELECT count(*) FROM flag_clearings"),
        clearings + 30
    );
}

/// A filled-in review workbook: each (flag id, rule) marked to clear.
fn review_book(path: &Path, marks: &[(&str, &str)]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in [
        "Ідентифікатор",
        "Правило",
        "Зняти (так/ні)",
        "Причина зняття",
    ]
    .iter()
    .enumerate()
    {
        s.write_string(0, c as u16, *h).unwrap();
    }
    for (i, (id, rule)) in marks.iter().enumerate() {
        let r = i as u32 + 1;
        s.write_string(r, 0, *id).unwrap();
        s.write_string(r, 1, *rule).unwrap();
        s.write_string(r, 2, "так").unwrap();
        s.write_string(r, 3, "перевірено").unwrap();
    }
    book.save(path).unwrap();
}

#[test]
fn taps_review_import_with_another_carriers_row_is_refused_whole() {
    let h = scoped();
    let (theirs, mine) = two_flags(&h);
    let book = h.work.join("reviewed.xlsx");
    review_book(&book, &[(&mine.id, &mine.rule), (&theirs.id, &theirs.rule)]);
    let clearings = h.count("SELECT count(*) FROM flag_clearings");
    let before = refusals(&h, "ana");
    let r = h.kartka_as("ana", &["taps", "review", "--import", "reviewed.xlsx"]);
    assert_refused(
        &h,
        &r,
        before,
        &[&theirs.id, "carrier 2", "carriers 1", "nothing was changed"],
    );
    assert_eq!(h.count("SELECT count(*) FROM flag_clearings"), clearings);
    assert_eq!(cleared(&h, &mine.id), 0);

    review_book(&book, &[(&mine.id, &mine.rule)]);
    ok(h.kartka_as("ana", &["taps", "review", "--import", "reviewed.xlsx"]));
    assert_eq!(cleared(&h, &mine.id), 1);
}

#[test]
fn taps_quality_counts_the_accounts_flags_only() {
    let h = scoped();
    let rows = flag_rows(&h);
    let q = ok(h.kartka_as("ana", &["--json", "taps", "quality"])).json();
    let admin = ok(h.kartka(&["--json", "taps", "quality"])).json();
    for (r, a) in q["rules"]
        .as_array()
        .unwrap()
        .iter()
        .zip(admin["rules"].as_array().unwrap())
    {
        let code = r["rule"].as_str().unwrap();
        let mine = rows
            .iter()
            .filter(|x| x.carrier == Some(1) && x.rule == code)
            .count();
        let all = rows.iter().filter(|x| x.rule == code).count();
        assert_eq!(r["flagged"], mine, "{code}");
        assert_eq!(a["flagged"], all, "{code}");
    }
    assert_ne!(q["rules"], admin["rules"]);
}

/// The month's stored taps of carrier 1 (every result), and of all, by a
/// plain loop over the store's live files.
fn stored_taps(h: &Home) -> (i64, i64) {
    let db = h.db();
    let mut stmt = db
        .prepare("SELECT path FROM tap_files WHERE replaced_at IS NULL AND month = ?1")
        .unwrap();
    let files: Vec<String> = stmt
        .query_map([MONTH], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let (mut mine, mut all) = (0, 0);
    for f in files {
        let df = ParquetReader::new(std::fs::File::open(h.root.join(f)).unwrap())
            .finish()
            .unwrap();
        let c = df
            .column("carrier_id")
            .unwrap()
            .cast(&DataType::Int64)
            .unwrap();
        for v in c.i64().unwrap().iter() {
            all += 1;
            if v == Some(1) {
                mine += 1;
            }
        }
    }
    (mine, all)
}

#[test]
fn taps_months_and_status_count_the_accounts_taps_only() {
    let h = scoped();
    let (mine, all) = stored_taps(&h);
    assert!(mine < all);
    let r = ok(h.kartka_as("ana", &["--json", "taps", "months"])).json();
    assert_eq!(r[0]["month"], MONTH);
    assert_eq!(r[0]["taps"], mine);
    let r = ok(h.kartka(&["--json", "taps", "months"])).json();
    assert_eq!(r[0]["taps"], all);
    // The home's counts say the same.
    let r = ok(h.kartka_as("ana", &["--json", "status"])).json();
    assert_eq!(r["taps"], mine);
    let r = ok(h.kartka(&["--json", "status"])).json();
    assert_eq!(r["taps"], all);
}

/// The cards and UIDs that tapped on other carriers and never on
/// carrier 1, and other carriers' validators, by a loop over the store.
fn foreign_in_store(h: &Home) -> (Foreign, BTreeSet<String>) {
    let db = h.db();
    let mut stmt = db
        .prepare("SELECT path FROM tap_files WHERE replaced_at IS NULL AND month = ?1")
        .unwrap();
    let files: Vec<String> = stmt
        .query_map([MONTH], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let (mut mine, mut theirs) = (BTreeSet::new(), BTreeSet::new());
    let (mut my_uids, mut their_uids) = (BTreeSet::new(), BTreeSet::new());
    let (mut my_validators, mut their_validators) = (BTreeSet::new(), BTreeSet::new());
    for f in files {
        let df = ParquetReader::new(std::fs::File::open(h.root.join(f)).unwrap())
            .finish()
            .unwrap();
        let col = |n: &str| df.column(n).unwrap().cast(&DataType::String).unwrap();
        let (carrier, card, uid, validator) = (
            col("carrier_id"),
            col("card_number"),
            col("card_uid"),
            col("validator_id"),
        );
        for i in 0..df.height() {
            let get = |c: &Column| c.str().unwrap().get(i).unwrap_or("").to_string();
            let (c, n, u, v) = (get(&carrier), get(&card), get(&uid), get(&validator));
            if c == "1" {
                mine.insert(n);
                my_uids.insert(u);
                my_validators.insert(v);
            } else {
                theirs.insert(n);
                their_uids.insert(u);
                their_validators.insert(v);
            }
        }
    }
    let f = Foreign {
        ids: BTreeSet::new(),
        cards: theirs.difference(&mine).cloned().collect(),
        uids: their_uids
            .difference(&my_uids)
            .filter(|u| !u.is_empty())
            .cloned()
            .collect(),
    };
    assert!(!f.cards.is_empty(), "cards that never rode carrier 1");
    let validators = their_validators
        .difference(&my_validators)
        .cloned()
        .collect();
    (f, validators)
}

#[test]
fn the_report_by_every_key_covers_the_accounts_carriers_only() {
    let h = scoped();
    let (f, validators) = foreign_in_store(&h);
    let (validations, held) = carrier_1(&h);
    for by in [
        "validator",
        "card",
        "route",
        "carrier",
        "community",
        "category",
    ] {
        let out = format!("report-{by}.csv");
        let r = ok(h.kartka_as(
            "ana",
            &[
                "--json",
                "report",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
                "--by",
                by,
                "--out",
                &out,
            ],
        ));
        let v = r.json();
        assert_eq!(v["validations"], validations, "--by {by}");
        assert_eq!(v["held"], held, "--by {by}");
        assert_run_unseen(&f, &format!("--by {by}"), &r);
        let text = text_of(&h.work.join(&out));
        assert_unseen(&f, &out, &text);
        if by == "validator" {
            let keys: BTreeSet<String> = v["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["key"].as_str().unwrap().to_string())
                .collect();
            assert!(
                keys.is_disjoint(&validators),
                "other carriers' validators: {keys:?}"
            );
        }
    }
}

#[test]
fn compensation_writes_and_counts_the_accounts_carriers_only() {
    let h = scoped();
    let f = foreign(&h);
    let (validations, _) = carrier_1(&h);
    let r = ok(h.kartka_as(
        "ana",
        &["--json", "compensation", "--month", MONTH, "--out", "comp"],
    ));
    assert_run_unseen(&f, "compensation", &r);
    let v = r.json();
    assert_eq!(v["accepted"], validations, "carrier 1's taps, paid or held");
    assert_eq!(v["carriers"].as_array().unwrap().len(), 1);
    assert!(v["communities"].as_array().unwrap().is_empty());
    let files: Vec<_> = std::fs::read_dir(h.work.join("comp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_unseen(&f, "the carrier workbook", &text_of(&files[0]));

    // An analyst limited to a route: compensation covers whole carriers.
    ok(h.kartka(&[
        "accounts", "add", "rita", "--role", "analyst", "--route", "2",
    ]));
    let r = h.kartka_as(
        "rita",
        &["compensation", "--month", MONTH, "--out", "rita-comp"],
    );
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(
        r.stderr.contains("rita (analyst)") && r.stderr.contains("limited to routes 2"),
        "{}",
        r.stderr
    );
    assert!(!h.work.join("rita-comp").exists());
}

#[test]
fn reconcile_of_another_carrier_is_refused_before_its_month_is_counted() {
    let h = scoped();
    let args = |month: &'static str| {
        vec![
            "reconcile",
            "--month",
            month,
            "--carrier",
            "2",
            "--carrier-report",
            "fixtures/compensation/carrier-report-2026-10.csv",
            "--out",
            "rec.xlsx",
        ]
    };
    let before = refusals(&h, "ana");
    let r = h.kartka_as("ana", &args(MONTH));
    assert_refused(
        &h,
        &r,
        before,
        &["carrier 2 (id 2) is outside the account's scope (carriers 1)"],
    );
    // A month with no taps: the scope is refused first, not the month.
    let r = h.kartka_as("ana", &args("2026-11"));
    assert_refused(&h, &r, before + 1, &["carrier 2"]);
    assert!(!h.work.join("rec.xlsx").exists());
}

#[test]
fn city_wide_commands_are_refused_to_a_scoped_account() {
    let h = scoped();
    let f = foreign(&h);
    let tap_files = h.count("SELECT count(*) FROM tap_files");
    let vehicles = h.count("SELECT count(*) FROM vehicles");
    let cases: Vec<(Vec<&str>, &str, Option<&str>)> = vec![
        (
            vec!["budget", "--year", "2026", "--out", "budget.xlsx"],
            "the benefit budget covers every carrier",
            Some("budget.xlsx"),
        ),
        (
            vec![
                "open-data",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
                "--out",
                "open",
            ],
            "open data covers every carrier",
            Some("open"),
        ),
        (
            vec![
                "open-data",
                "--level",
                "research",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
                "--out",
                "study",
                "--purpose",
                "a study",
            ],
            "research data (pseudonymised trips) covers every carrier",
            Some("study"),
        ),
        (
            vec!["taps", "compact", "--month", MONTH],
            "the tap store covers every carrier",
            None,
        ),
        (
            vec!["taps", "import", "fixtures/taps/missing.kdump"],
            "the tap store covers every carrier",
            None,
        ),
        (
            vec!["fleet", "import", "fixtures/fleet/missing.csv"],
            "the fleet covers every carrier",
            None,
        ),
        (
            vec!["dock", "--port", "/dev/null"],
            "the tap store covers every carrier",
            None,
        ),
    ];
    for (args, why, out) in cases {
        let before = refusals(&h, "ana");
        let r = h.kartka_as("ana", &args);
        assert_refused(&h, &r, before, &[why, "limited to carriers 1"]);
        assert_run_unseen(&f, &args.join(" "), &r);
        if let Some(out) = out {
            assert!(!h.work.join(out).exists(), "{out} written");
        }
    }
    assert_eq!(h.count("SELECT count(*) FROM tap_files"), tap_files);
    assert_eq!(h.count("SELECT count(*) FROM vehicles"), vehicles);
    // The admin's budget runs.
    ok(h.kartka(&["budget", "--year", "2026"]));
}

#[test]
fn a_scoped_analyst_reaches_no_residents_taps_through_person_export() {
    let h = scoped();
    let person: String = h
        .db()
        .query_row(
            "SELECT p.social_number FROM people p JOIN cards c ON c.person_id = p.id ORDER BY c.id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let before = refusals(&h, "ana");
    let r = h.kartka_as(
        "ana",
        &[
            "person",
            "export",
            &person,
            "--out",
            "p.json",
            "--purpose",
            "curious",
        ],
    );
    assert_refused(&h, &r, before, &["for admin, clerk accounts only"]);
    assert!(!h.work.join("p.json").exists());
}

#[test]
fn a_scoped_account_neither_teaches_nor_reads_what_clerks_taught() {
    let h = scoped();
    for args in [
        &["vocab", "add", "category", "воїн-афганець", "combatant"][..],
        &["vocab", "list"],
        &["vocab", "remove", "category", "воїн-афганець"],
    ] {
        let before = refusals(&h, "ana");
        let r = h.kartka_as("ana", args);
        assert_refused(
            &h,
            &r,
            before,
            &["what the intake was taught", "admin, clerk"],
        );
    }
    assert_eq!(h.count("SELECT count(*) FROM vocabulary"), 0);
}
