//! Issue 9: accounts and roles (each role against each command), scope
//! filtering for a carrier account, `--purpose` and the audit trail (its
//! chain broken on purpose), a resident's export, and the period report
//! checked against an independent fold of the store.

use std::os::unix::fs::PermissionsExt;

use crate::common::month::{flagged_month, fold};
use crate::common::{Home, ok};

const MONTH: &str = "2026-10";

/// The month of test_compensation, with an account of every role; carrier
/// account `avto` sees carrier 1 only.
fn staffed() -> Home {
    let h = flagged_month();
    for (user, role) in [("olena", "clerk"), ("petro", "analyst"), ("ira", "auditor")] {
        ok(h.kartka(&["accounts", "add", user, "--role", role]));
    }
    ok(h.kartka(&[
        "accounts",
        "add",
        "avto",
        "--role",
        "carrier",
        "--carrier",
        "1",
    ]));
    h
}

fn a_social_number(h: &Home) -> String {
    h.db()
        .query_row(
            "SELECT p.social_number FROM people p JOIN cards c ON c.person_id = p.id ORDER BY c.id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn each_role_against_each_command() {
    let h = staffed();
    let person = a_social_number(&h);
    let card: String = h
        .db()
        .query_row(
            "SELECT CAST(number AS TEXT) FROM cards ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let p = "--purpose";
    let why = "a test of the roles";
    // (command, the roles that may run it)
    let matrix: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["status"],
            &["test-clerk", "olena", "petro", "avto", "ira"],
        ),
        (vec!["accounts", "list"], &["test-clerk", "ira"]),
        (
            vec!["accounts", "add", "newcomer", "--role", "clerk"],
            &["test-clerk"],
        ),
        (
            vec!["cards", "show", &card, p, why],
            &["test-clerk", "olena", "petro"],
        ),
        (
            vec!["cards", "list", p, why],
            &["test-clerk", "olena", "petro"],
        ),
        (vec!["cards", "issue"], &["test-clerk", "olena"]),
        (
            vec!["eligibility", "explain", &person, p, why],
            &["test-clerk", "olena", "petro"],
        ),
        (vec!["fleet", "list"], &["test-clerk", "olena", "petro"]),
        (vec!["taps", "months"], &["test-clerk", "petro", "ira"]),
        (
            vec!["taps", "flag", "--month", MONTH],
            &["test-clerk", "petro"],
        ),
        (
            vec!["compensation", "--month", MONTH, "--out", "comp"],
            &["test-clerk", "petro", "avto"],
        ),
        (
            vec![
                "report",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
                "--by",
                "route",
            ],
            &["test-clerk", "petro", "avto"],
        ),
        (
            vec![
                "report",
                "--from",
                "2026-10-01",
                "--to",
                "2026-10-31",
                "--by",
                "card",
                p,
                why,
            ],
            &["test-clerk", "petro"],
        ),
        (vec!["audit", "verify"], &["test-clerk", "ira"]),
        (vec!["audit", "log"], &["test-clerk", "ira"]),
        (
            vec!["audit", "person", &person, p, why],
            &["test-clerk", "olena", "ira"],
        ),
        (
            vec!["person", "export", &person, "--out", "p.json", p, why],
            &["test-clerk", "olena"],
        ),
    ];
    let users = ["test-clerk", "olena", "petro", "avto", "ira"];
    for (args, allowed) in &matrix {
        for user in users {
            let before = h.count("SELECT count(*) FROM audit WHERE outcome = 'refused'");
            let r = h.kartka_as(user, args);
            let line = args.join(" ");
            if allowed.contains(&user) {
                assert_ne!(r.code, 77, "{user} should run `{line}`: {}", r.stderr);
                assert_eq!(r.code, 0, "{user} `{line}`: {}", r.stderr);
            } else {
                assert_eq!(r.code, 77, "{user} must not run `{line}`: {}", r.stderr);
                assert!(
                    r.stderr.contains(&format!("{user} (")) && r.stderr.contains("may not run"),
                    "{user} `{line}`: {}",
                    r.stderr
                );
                assert!(r.stdout.is_empty(), "a refusal shows nothing: {}", r.stdout);
                let after = h.count("SELECT count(*) FROM audit WHERE outcome = 'refused'");
                assert_eq!(
                    after,
                    before + 1,
                    "the refusal of {user} `{line}` is recorded"
                );
            }
        }
    }
    // Nobody without an account, whatever the command.
    let r = h.kartka_as("stranger", &["status"]);
    assert_eq!(r.code, 77);
    assert!(
        r.stderr.contains("'stranger' has no kartka account"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("kartka accounts add stranger"),
        "{}",
        r.stderr
    );
    // The export is the resident's own data: readable by its owner only.
    let mode = std::fs::metadata(h.work.join("p.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let mode = std::fs::metadata(h.root.join("registry.sqlite"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn personal_data_needs_a_purpose_and_every_access_is_recorded_for_the_resident() {
    let h = staffed();
    let person = a_social_number(&h);
    let entries = h.count("SELECT count(*) FROM audit");
    let r = h.kartka_as("olena", &["cards", "show", &person]);
    assert_eq!(r.code, 77);
    assert!(r.stderr.contains("--purpose"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert_eq!(
        h.count("SELECT count(*) FROM audit"),
        entries + 1,
        "the attempt is recorded"
    );

    ok(h.kartka_as(
        "olena",
        &[
            "cards",
            "show",
            &person,
            "--purpose",
            "the holder called about a lost card",
        ],
    ));
    ok(h.kartka_as(
        "petro",
        &[
            "eligibility",
            "explain",
            &person,
            "--purpose",
            "appeal 17/2026",
        ],
    ));
    // The resident asks who looked, and why.
    let r = ok(h.kartka_as(
        "ira",
        &[
            "--json",
            "audit",
            "person",
            &person,
            "--purpose",
            "the resident's request",
        ],
    ));
    let v = r.json();
    let list = v["entries"].as_array().unwrap();
    let seen: Vec<(String, String, String)> = list
        .iter()
        .map(|e| {
            (
                e["user"].as_str().unwrap().to_string(),
                e["command"].as_str().unwrap().to_string(),
                e["purpose"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        seen.contains(&(
            "olena".into(),
            format!("cards show {person} --purpose \"the holder called about a lost card\""),
            "the holder called about a lost card".into()
        )),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(u, c, p)| u == "petro" && c.contains("explain") && p == "appeal 17/2026")
    );
    // A refused attempt named nobody: it is in the trail, not in the person's list.
    assert!(
        !seen
            .iter()
            .any(|(u, c, _)| u == "olena" && !c.contains("--purpose"))
    );
    // The purpose from the environment (cron) counts as one.
    let r = h
        .command()
        .env("SUDO_USER", "olena")
        .env("KARTKA_PURPOSE", "nightly check")
        .args(["cards", "list"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(0));
    assert_eq!(
        h.count("SELECT count(*) FROM audit WHERE user = 'olena' AND purpose = 'nightly check' AND outcome = 'shown'"),
        1
    );
    ok(h.kartka(&["audit", "verify"]));
}

#[test]
fn a_carrier_account_sees_only_its_own_carrier() {
    let h = staffed();
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
    let mine = ok(h.kartka_as(
        "avto",
        &[
            "--json",
            "report",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--by",
            "carrier",
        ],
    ))
    .json();
    let rows = mine["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{mine}");
    assert_eq!(rows[0]["key"], "1");
    let theirs = all["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "1")
        .unwrap();
    assert_eq!(
        rows[0], *theirs,
        "the carrier's own row is the same as the city's"
    );
    assert!(all["rows"].as_array().unwrap().len() > 1);

    // A card report for a carrier: card numbers, never names.
    let cards = ok(h.kartka_as(
        "avto",
        &[
            "--json",
            "report",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--by",
            "card",
        ],
    ))
    .json();
    assert_eq!(cards["names"], false);
    assert!(
        cards["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] == "" && r.get("social_number").is_none())
    );
    let r = h.kartka_as(
        "avto",
        &[
            "report",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--by",
            "card",
            "--purpose",
            "x",
        ],
    );
    assert_eq!(r.code, 77, "{}", r.stderr);

    // Compensation: only its own workbook; reconcile only its own carrier.
    let r = ok(h.kartka_as(
        "avto",
        &[
            "--json",
            "compensation",
            "--month",
            MONTH,
            "--out",
            "avto-comp",
        ],
    ));
    let v = r.json();
    let files: Vec<String> = std::fs::read_dir(h.work.join("avto-comp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with("compensation-2026-10-carrier-"),
        "{files:?}"
    );
    assert_eq!(v["carriers"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["communities"].as_array().unwrap().is_empty(), "{v}");
    let r = h.kartka_as(
        "avto",
        &[
            "reconcile",
            "--month",
            MONTH,
            "--carrier",
            "2",
            "--carrier-report",
            "fixtures/compensation/carrier-report-2026-10.csv",
            "--out",
            "rec.xlsx",
        ],
    );
    assert_eq!(r.code, 77, "{}", r.stderr);
    assert!(r.stderr.contains("carrier 2"), "{}", r.stderr);
    assert!(!h.work.join("rec.xlsx").exists());
}

#[test]
fn the_report_matches_an_independent_fold_of_the_store() {
    let h = flagged_month();
    let f = fold(&h);
    let v = ok(h.kartka(&[
        "--json",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "carrier",
        "--sort",
        "amount",
        "--out",
        "by-carrier.xlsx",
    ]))
    .json();
    let rows = v["rows"].as_array().unwrap();
    for r in rows {
        let id: i64 = r["key"].as_str().unwrap().parse().unwrap();
        let (trips, kopecks) = f.carriers[&id];
        let paid = r["validations"].as_i64().unwrap() - r["held"].as_i64().unwrap();
        assert_eq!(paid, trips, "carrier {id}");
        assert_eq!(
            r["amount_kopecks"].as_i64().unwrap(),
            kopecks,
            "carrier {id}"
        );
    }
    assert_eq!(v["held"].as_i64().unwrap(), f.held);
    let amounts: Vec<i64> = rows
        .iter()
        .map(|r| r["amount_kopecks"].as_i64().unwrap())
        .collect();
    assert!(
        amounts.windows(2).all(|w| w[0] >= w[1]),
        "sorted by amount: {amounts:?}"
    );
    assert!(h.work.join("by-carrier.xlsx").is_file());

    // Per community (P18): paid trips as the fold, and residents carried.
    let v = ok(h.kartka(&[
        "--json",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "community",
        "--out",
        "by-community.csv",
    ]))
    .json();
    for r in v["rows"].as_array().unwrap() {
        // Unknown cards (planted) have no community: "—" here, "" in the fold.
        let code = match r["key"].as_str().unwrap() {
            "—" => "",
            code => code,
        };
        let (trips, kopecks) = f.communities.get(code).copied().unwrap_or_default();
        assert_eq!(
            r["validations"].as_i64().unwrap() - r["held"].as_i64().unwrap(),
            trips
        );
        assert_eq!(r["amount_kopecks"].as_i64().unwrap(), kopecks);
        assert!(r["cards"].as_i64().unwrap() > 0);
    }
    let csv = std::fs::read_to_string(h.work.join("by-community.csv")).unwrap();
    assert!(csv.starts_with("Громада (КАТОТТГ),"), "{csv}");

    // A week: fewer validations than the month; one day at the month's edge.
    let week = ok(h.kartka(&[
        "--json",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-07",
        "--by",
        "route",
    ]))
    .json();
    let month = ok(h.kartka(&[
        "--json",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "route",
    ]))
    .json();
    assert!(week["validations"].as_i64().unwrap() < month["validations"].as_i64().unwrap());
    assert!(week["validations"].as_i64().unwrap() > 0);

    // Bad input: dates reversed (2), a period with no taps (66), a bad file (73).
    let r = h.kartka(&[
        "report",
        "--from",
        "2026-10-31",
        "--to",
        "2026-10-01",
        "--by",
        "route",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is after --to"), "{}", r.stderr);
    let r = h.kartka(&[
        "report",
        "--from",
        "2025-01-01",
        "--to",
        "2025-01-31",
        "--by",
        "route",
    ]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(r.stderr.contains("kartka taps months"), "{}", r.stderr);
    let r = h.kartka(&[
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "route",
        "--out",
        "r.pdf",
    ]);
    assert_eq!(r.code, 73, "{}", r.stderr);
    assert!(!h.work.join("r.pdf").exists());

    // With names (a purpose given): each card's holder, and the file is private.
    let v = ok(h.kartka(&[
        "--json",
        "report",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        "--by",
        "card",
        "--limit",
        "5",
        "--purpose",
        "the five heaviest users",
        "--out",
        "cards.xlsx",
    ]))
    .json();
    assert_eq!(v["names"], true);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let counts: Vec<i64> = rows
        .iter()
        .map(|r| r["validations"].as_i64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let people: Vec<String> = rows
        .iter()
        .filter_map(|r| r["social_number"].as_str().map(String::from))
        .collect();
    assert!(!people.is_empty());
    for sn in &people {
        assert_eq!(
            h.count(&format!(
                "SELECT count(*) FROM audit_people a JOIN audit e ON e.id = a.entry WHERE a.social_number = '{sn}' AND e.outcome = 'exported'"
            )),
            1,
            "{sn}"
        );
    }
    let mode = std::fs::metadata(h.work.join("cards.xlsx"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn the_audit_chain_broken_on_purpose_is_found() {
    let h = staffed();
    let person = a_social_number(&h);
    for i in 0..3 {
        ok(h.kartka_as(
            "olena",
            &["cards", "show", &person, "--purpose", &format!("call {i}")],
        ));
    }
    let v = ok(h.kartka_as("ira", &["--json", "audit", "verify"])).json();
    assert!(v["broken"].as_array().unwrap().is_empty());
    let head = v["head"].as_str().unwrap().to_string();
    let db = h.db();
    // The triggers keep the trail append-only…
    let e = db
        .execute("DELETE FROM audit WHERE user = 'olena'", [])
        .unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    // …someone with the sqlite3 shell drops them and rewrites a purpose.
    db.execute_batch(
        "DROP TRIGGER audit_is_history; DROP TRIGGER audit_stays;
         DROP TRIGGER audit_people_are_history; DROP TRIGGER audit_people_stay;",
    )
    .unwrap();
    let edited: i64 = db
        .query_row(
            "SELECT min(id) FROM audit WHERE purpose = 'call 1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        "UPDATE audit SET purpose = 'routine' WHERE id = ?1",
        [edited],
    )
    .unwrap();
    let r = h.kartka_as("ira", &["audit", "verify"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("entry {edited}: its content was edited")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("tampered"), "{}", r.stderr);
    // Put it back; then delete one instead.
    db.execute(
        "UPDATE audit SET purpose = 'call 1' WHERE id = ?1",
        [edited],
    )
    .unwrap();
    ok(h.kartka_as("ira", &["audit", "verify"]));
    db.execute("DELETE FROM audit_people WHERE entry = ?1", [edited])
        .unwrap();
    db.execute("DELETE FROM audit WHERE id = ?1", [edited])
        .unwrap();
    let r = h.kartka_as("ira", &["audit", "verify"]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("missing (deleted)"), "{}", r.stderr);
    // The person's own list no longer shows the deleted access — and the
    // verify above is what tells.
    // Cutting off the newest entries: only an anchor catches it.
    let h2 = staffed();
    ok(h2.kartka_as("olena", &["cards", "list", "--purpose", "x"]));
    let v = ok(h2.kartka(&["--json", "audit", "verify"])).json();
    let anchor = v["head"].as_str().unwrap().to_string();
    let (id, _) = anchor.split_once(':').unwrap();
    let db2 = h2.db();
    db2.execute_batch("DROP TRIGGER audit_stays; DROP TRIGGER audit_people_stay;")
        .unwrap();
    db2.execute("DELETE FROM audit_people WHERE entry >= ?1", [id])
        .unwrap();
    db2.execute("DELETE FROM audit WHERE id >= ?1", [id])
        .unwrap();
    let r = h2.kartka_as("ira", &["audit", "verify", "--anchor", &anchor]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("cut off"), "{}", r.stderr);
    let r = h2.kartka_as("ira", &["audit", "verify", "--anchor", "12:xyz"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("ID:HASH"), "{}", r.stderr);
    let _ = head;
}

#[test]
fn accounts_are_checked_and_the_last_admin_stays() {
    let h = staffed();
    let r = h.kartka(&["accounts", "add", "x", "--role", "carrier"]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("needs --carrier"), "{}", r.stderr);
    let r = h.kartka(&[
        "accounts",
        "add",
        "x",
        "--role",
        "carrier",
        "--carrier",
        "999",
    ]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("no such carrier"), "{}", r.stderr);
    let r = h.kartka(&["accounts", "add", "x", "--role", "clerk", "--route", "12"]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("has no scope"), "{}", r.stderr);
    let r = h.kartka(&["accounts", "add", "bad name", "--role", "clerk"]);
    assert_eq!(r.code, 65);
    let r = h.kartka(&["accounts", "remove", "test-clerk"]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("last admin"), "{}", r.stderr);
    let r = h.kartka(&["accounts", "remove", "nobody"]);
    assert_eq!(r.code, 66);
    let before = h.count("SELECT count(*) FROM accounts");
    assert_eq!(before, 5);
    ok(h.kartka(&["accounts", "remove", "olena"]));
    assert_eq!(h.count("SELECT count(*) FROM accounts"), 4);
    assert_eq!(h.kartka_as("olena", &["status"]).code, 77);
    // An analyst limited to a route sees that route only.
    ok(h.kartka(&[
        "accounts", "add", "petro", "--role", "analyst", "--route", "2",
    ]));
    let v = ok(h.kartka_as(
        "petro",
        &[
            "--json",
            "report",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--by",
            "route",
        ],
    ))
    .json();
    let keys: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["2"]);
    // Every change is in the trail.
    assert_eq!(
        h.count("SELECT count(*) FROM audit WHERE outcome = 'changed' AND detail LIKE 'account %'"),
        1 + 4 + 1 + 1
    );
}

#[test]
fn a_resident_gets_everything_stored_about_them() {
    let h = staffed();
    let person = a_social_number(&h);
    ok(h.kartka_as("olena", &["cards", "show", &person, "--purpose", "a call"]));
    ok(h.kartka_as(
        "olena",
        &[
            "person",
            "export",
            &person,
            "--out",
            "me.json",
            "--purpose",
            "the resident's request",
        ],
    ));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(h.work.join("me.json")).unwrap()).unwrap();
    assert_eq!(v["social_number"], person.as_str());
    let section = |key: &str| {
        v["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap_or_else(|| panic!("no section {key}"))
            .clone()
    };
    let fields = section("person");
    assert!(
        fields["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "surname")
    );
    let cards = section("cards");
    let numbers: Vec<i64> = cards["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let i = cards["columns"]
                .as_array()
                .unwrap()
                .iter()
                .position(|c| c == "number")
                .unwrap();
            r[i].as_i64().unwrap()
        })
        .collect();
    assert!(!numbers.is_empty());
    // Every tap of their cards in the store, no more.
    let taps = section("taps")["rows"].as_array().unwrap().len() as i64;
    let mut expected = 0i64;
    for f in std::fs::read_dir(h.root.join(format!("taps/month={MONTH}"))).unwrap() {
        use polars::prelude::*;
        let path = f.unwrap().path();
        let live = h.count(&format!(
            "SELECT count(*) FROM tap_files WHERE replaced_at IS NULL AND path LIKE '%{}'",
            path.file_name().unwrap().to_string_lossy()
        ));
        if live == 0 {
            continue;
        }
        let df = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        let c = df.column("card_number").unwrap().i64().unwrap();
        expected += (0..df.height())
            .filter(|&i| numbers.contains(&c.get(i).unwrap()))
            .count() as i64;
    }
    assert_eq!(taps, expected);
    // The benefit they received (K3): the month's paid trips and amount are
    // what `report --by card` pays for their cards, and with the held ones
    // they are every accepted tap.
    let benefit = section("benefit");
    assert_eq!(
        benefit["columns"],
        serde_json::json!(["month", "trips_paid", "trips_held", "amount_uah", "flagged"])
    );
    let rows = benefit["rows"].as_array().unwrap();
    let october = rows.iter().find(|r| r[0] == MONTH).unwrap();
    assert_eq!(october[4], true);
    let report = ok(h.kartka_as(
        "petro",
        &[
            "--json",
            "report",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--by",
            "card",
        ],
    ))
    .json();
    let (mut paid, mut held, mut kopecks) = (0i64, 0i64, 0i64);
    for r in report["rows"].as_array().unwrap() {
        if numbers.contains(&r["key"].as_str().unwrap().parse::<i64>().unwrap()) {
            paid += r["validations"].as_i64().unwrap() - r["held"].as_i64().unwrap();
            held += r["held"].as_i64().unwrap();
            kopecks += r["amount_kopecks"].as_i64().unwrap();
        }
    }
    assert!(paid > 0);
    assert_eq!(october[1], paid, "{october}");
    assert_eq!(october[2], held, "{october}");
    assert_eq!(october[3], kartka::money::decimal(kopecks), "{october}");
    // Who looked: the call, and this export itself.
    let accesses = section("accesses");
    let purposes: Vec<&str> = accesses["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[5].as_str().unwrap())
        .collect();
    assert!(
        purposes.contains(&"a call") && purposes.contains(&"the resident's request"),
        "{purposes:?}"
    );
    // The workbook form, in Ukrainian.
    ok(h.kartka_as(
        "olena",
        &[
            "person",
            "export",
            &person,
            "--out",
            "me.xlsx",
            "--purpose",
            "the resident's request",
        ],
    ));
    use calamine::Reader;
    let book: calamine::Xlsx<_> = calamine::open_workbook(h.work.join("me.xlsx")).unwrap();
    let names = book.sheet_names();
    for s in ["Особа", "Картки", "Поїздки", "Доступ до даних"] {
        assert!(names.iter().any(|n| n == s), "{names:?}");
    }
    // Bad input: an unknown person (66), a bad extension (73), nothing written.
    let r = h.kartka_as(
        "olena",
        &[
            "person",
            "export",
            "99999999",
            "--out",
            "x.json",
            "--purpose",
            "p",
        ],
    );
    assert_eq!(r.code, 66, "{}", r.stderr);
    let r = h.kartka_as(
        "olena",
        &[
            "person",
            "export",
            &person,
            "--out",
            "x.txt",
            "--purpose",
            "p",
        ],
    );
    assert_eq!(r.code, 73, "{}", r.stderr);
    assert!(r.stderr.contains(".xlsx or .json"), "{}", r.stderr);
    assert!(!h.work.join("x.txt").exists() && !h.work.join("x.json").exists());
}
