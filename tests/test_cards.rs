//! `kartka cards`: the card's life, print jobs read back from their files,
//! and the blocklist.

use std::path::Path;

use kartka::cards::blocklist::Blocklist;
use kartka_protocol::card::keys::{KeyKind, sector_key};
use kartka_protocol::card::mad::{Mad, TRANSPORT_AID};
use kartka_protocol::card::transport::TransportApp;
use kartka_protocol::card::{Trailer, value};

use crate::common::{Home, Run, ok};

const HEADER: &str = "ПІБ;Дата народження;Стать;РНОКПП;Паспорт;Категорія;Дохід;Документи;Пільга дійсна до;Громада;Фото;Дата смерті\n";
const DOCS: &str = "пенсійне посвідчення, посвідчення";

/// One applicant row: (name, birth date, sex, tax number, passport, community, photo, death).
fn row(who: (&str, &str, &str, &str, &str), community: &str, photo: &str, death: &str) -> String {
    let (name, born, sex, tax, passport) = who;
    format!(
        "{name};{born};{sex};{tax};{passport};Пенсіонер за віком;3000,00;{DOCS};;{community};{photo};{death}\n"
    )
}

const OLENA: (&str, &str, &str, &str, &str) = (
    "Ткаченко Олена Петрівна",
    "15.03.1950",
    "ж",
    "1833601200",
    "ВМ123457",
);
const IVAN: (&str, &str, &str, &str, &str) = (
    "Мельник Іван Степанович",
    "20.07.1955",
    "ч",
    "2028901214",
    "ВМ223344",
);
const PHOTO: &str = "fixtures/applicants/photos/kovalenko.jpg";

fn import(h: &Home, rows: &str) {
    std::fs::write(h.work.join("apps.csv"), format!("{HEADER}{rows}")).unwrap();
    let r = h.kartka(&["--quiet", "import", "applicants", "apps.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Two eligible people with photos (Olena in the city, Ivan in partner
/// Ternivka), decided and issued.
fn issued() -> (Home, String, String) {
    let h = Home::new();
    import(
        &h,
        &(row(OLENA, "Павлоград", PHOTO, "") + &row(IVAN, "Тернівка", PHOTO, "")),
    );
    ok(h.kartka(&["--quiet", "eligibility", "--as-of", "2026-11-01"]));
    let v = ok(h.kartka(&["--json", "cards", "issue"])).json();
    let issued: Vec<String> = v["issued"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    assert_eq!(issued.len(), 2, "{v}");
    (h, issued[0].clone(), issued[1].clone())
}

fn state(h: &Home, number: &str) -> String {
    h.db()
        .query_row(
            "SELECT e.state || coalesce(':' || e.reason, '') FROM card_events e JOIN cards c ON c.id = e.card_id \
             WHERE c.number = ?1 ORDER BY e.id DESC LIMIT 1",
            [number],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn issuing_is_idempotent_and_charges_partner_cards_to_their_community() {
    let (h, olena, ivan) = issued();
    let v = ok(h.kartka(&["--json", "cards", "issue"])).json();
    assert_eq!(v["issued"].as_array().unwrap().len(), 0);
    assert_eq!(v["already"], 2);
    assert_eq!(h.count("SELECT count(*) FROM cards"), 2);
    let (fee, cost, payer): (i64, i64, String) = h
        .db()
        .query_row(
            "SELECT fee_kopecks, cost_kopecks, cost_payer FROM cards WHERE number = ?1",
            [&ivan],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (fee, cost),
        (0, 12_000),
        "the first card is free to the holder"
    );
    assert_eq!(
        payer, "UA12120190000064981",
        "Ternivka pays for its resident's card (P18)"
    );
    let payer: String = h
        .db()
        .query_row(
            "SELECT cost_payer FROM cards WHERE number = ?1",
            [&olena],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(payer, "UA12120130000022766");
    // Valid from the decision's date for the configured 5 years.
    let (from, to): (String, String) = h
        .db()
        .query_row(
            "SELECT valid_from, valid_to FROM cards WHERE number = ?1",
            [&olena],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((from.as_str(), to.as_str()), ("2026-11-01", "2031-10-31"));
    assert!(kartka::cards::CardNumber::parse(&olena).is_ok());
}

#[test]
fn a_reissue_needs_the_block_and_the_receipt_and_never_happens_twice() {
    let (h, olena, _) = issued();
    let r = h.kartka(&["cards", "reissue", &olena, "--receipt", "R-1"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(
        r.stderr.contains("not blocked. Block it first"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Nothing was changed"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM cards"), 2);

    let r = ok(h.kartka(&["cards", "block", &olena, "--reason", "lost"]));
    assert!(
        r.stderr
            .contains("A replacement costs the holder 120.00 грн"),
        "{}",
        r.stderr
    );
    assert_eq!(state(&h, &olena), "blocked:lost");
    let r = h.kartka(&["cards", "block", &olena, "--reason", "damaged"]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("already blocked"), "{}", r.stderr);
    assert_eq!(state(&h, &olena), "blocked:lost", "the first block stands");

    // `issue` never hands out a free replacement for a lost card.
    let v = ok(h.kartka(&["--json", "cards", "issue"])).json();
    assert_eq!(v["issued"].as_array().unwrap().len(), 0);
    assert_eq!(v["awaiting_reissue"][0][1], olena.as_str());

    let r = h.kartka(&["cards", "reissue", &olena, "--receipt", "  "]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("no fee receipt"), "{}", r.stderr);
    assert_eq!(h.count("SELECT count(*) FROM cards"), 2);

    let v = ok(h.kartka(&[
        "--json",
        "cards",
        "reissue",
        &olena,
        "--receipt",
        "0.0.3456789.1",
    ]))
    .json();
    assert_eq!(v["replaces"], olena.as_str());
    assert_eq!(v["issue"], 2);
    assert_eq!(v["fee_kopecks"], 12_000);
    assert_eq!(v["receipt"], "0.0.3456789.1");
    assert_eq!(v["state"], "issued");

    let r = h.kartka(&["cards", "reissue", &olena, "--receipt", "R-2"]);
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("already replaced by card"),
        "{}",
        r.stderr
    );
    assert_eq!(h.count("SELECT count(*) FROM cards"), 3);
}

#[test]
fn events_are_history_the_database_refuses_to_rewrite() {
    let (h, olena, _) = issued();
    let db = h.db();
    let e = db
        .execute("UPDATE card_events SET state = 'handed'", [])
        .unwrap_err();
    assert!(e.to_string().contains("card events are history"), "{e}");
    let e = db.execute("DELETE FROM cards", []).unwrap_err();
    assert!(e.to_string().contains("never deleted"), "{e}");
    assert_eq!(state(&h, &olena), "issued");
}

#[test]
fn losing_the_right_or_dying_stops_the_card_from_the_decision_date() {
    let (h, olena, ivan) = issued();
    // Olena's income rises over the limit; Ivan's death is recorded.
    import(
        &h,
        &(row(OLENA, "Павлоград", PHOTO, "").replace("3000,00", "9000,00")
            + &row(IVAN, "Тернівка", PHOTO, "10.11.2026")),
    );
    let r = ok(h.kartka(&["eligibility", "--as-of", "2026-11-20"]));
    assert!(r.stderr.contains("Cards blocked (death)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Cards blocked (benefit-ended)"),
        "{}",
        r.stderr
    );
    assert_eq!(state(&h, &olena), "blocked:benefit-ended");
    assert_eq!(state(&h, &ivan), "blocked:death");
    let effective = |n: &str| -> String {
        h.db()
            .query_row(
                "SELECT effective FROM card_events e JOIN cards c ON c.id = e.card_id WHERE c.number = ?1 AND e.state = 'blocked'",
                [n],
                |r| r.get(0),
            )
            .unwrap()
    };
    // Midnight in Kyiv (UTC+2 in November) on the decision's date and the death's.
    assert_eq!(effective(&olena), "2026-11-19T22:00:00Z");
    assert_eq!(effective(&ivan), "2026-11-09T22:00:00Z");
    // No reissue of a card whose benefit ended.
    let r = h.kartka(&["cards", "reissue", &olena, "--receipt", "R-1"]);
    assert_eq!(r.code, 65);
    assert!(
        r.stderr.contains("not a case for a reissue"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_ended_benefit_term_expires_the_card_and_gives_no_dead_card() {
    let h = Home::new();
    let short = row(OLENA, "Павлоград", PHOTO, "").replace(";;Павлоград", ";31.01.2026;Павлоград");
    import(&h, &short);
    ok(h.kartka(&["--quiet", "eligibility", "--as-of", "2026-01-10"]));
    let v = ok(h.kartka(&["--json", "cards", "issue", "--as-of", "2026-01-10"])).json();
    let number = v["issued"][0].as_str().unwrap().to_string();
    let to: String = h
        .db()
        .query_row("SELECT valid_to FROM cards", [], |r| r.get(0))
        .unwrap();
    assert_eq!(to, "2026-01-31", "the card ends with the benefit");
    // Today is after the 31st: the card expires, and no new card is made.
    let v = ok(h.kartka(&["--json", "cards", "issue"])).json();
    assert_eq!(v["enforced"]["expired"][0], number.as_str());
    assert_eq!(v["issued"].as_array().unwrap().len(), 0);
    assert_eq!(v["term_ended"].as_array().unwrap().len(), 1);
    assert_eq!(state(&h, &number), "expired");
}

fn read_master(h: &Home) -> [u8; 16] {
    kartka::cards::keyfile::read(&h.root.join("keys/card-master.key")).unwrap()
}

fn print_job(h: &Home, out: &str) -> Run {
    h.kartka(&[
        "--json",
        "cards",
        "print-job",
        "--out",
        out,
        "--uids",
        "fixtures/cards/stock-uids.txt",
    ])
}

fn block(hex: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    for (i, x) in b.iter_mut().enumerate() {
        *x = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    b
}

#[test]
fn a_print_job_on_the_fixtures_reads_back_file_by_file() {
    let h = Home::new();
    ok(h.kartka(&[
        "--quiet",
        "import",
        "applicants",
        "fixtures/applicants/office-2026-10.xlsx",
        "fixtures/applicants/terniv-2026-10.csv",
        "fixtures/applicants/verbky-2026-10.ods",
        "fixtures/applicants/legacy-2025.xls",
    ]));
    ok(h.kartka(&["--quiet", "eligibility", "--as-of", "2026-11-01"]));
    let issued = ok(h.kartka(&["--json", "cards", "issue"])).json();
    let eligible = h.count(
        "SELECT count(*) FROM decisions WHERE outcome = 'eligible' AND id IN (SELECT max(id) FROM decisions GROUP BY person_id)",
    );
    assert_eq!(issued["issued"].as_array().unwrap().len() as i64, eligible);
    let with_photo = h.count(
        "SELECT count(*) FROM cards c JOIN people p ON p.id = c.person_id WHERE p.photo IS NOT NULL",
    );
    assert!(with_photo >= 2, "the fixtures have printable cards");

    let v = ok(print_job(&h, "job1")).json();
    let job = h.work.join("job1");
    let cards: Vec<String> = v["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cards.len() as i64, with_photo);
    // Names and photos left for the printer: one audit entry naming each holder (K5).
    assert_eq!(
        h.count(
            "SELECT count(*) FROM audit_people a JOIN audit e ON e.id = a.entry \
             WHERE e.outcome = 'exported' AND e.detail LIKE 'print job → %'"
        ),
        with_photo
    );
    let held = v["held_back"].as_array().unwrap();
    assert_eq!(
        held.len() as i64,
        eligible - with_photo,
        "nothing silently dropped"
    );
    assert!(
        held.iter()
            .all(|hb| hb["why"].as_str().unwrap().contains("no photo"))
    );
    assert_eq!(v["placeholder_design"], true);

    // cards.csv: BOM, the header in Ukrainian, one row per card.
    let csv = std::fs::read(job.join("cards.csv")).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header[..10],
        [
            "Номер",
            "Номер для друку",
            "Прізвище",
            "Ім'я",
            "По батькові",
            "Фото",
            "Штрихкод",
            "Категорія",
            "Громада",
            "Дійсна до"
        ]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), cards.len());
    for (row, number) in rows.iter().zip(&cards) {
        assert_eq!(&row[0], number);
        let surname: String = h
            .db()
            .query_row(
                "SELECT p.surname FROM cards c JOIN people p ON p.id = c.person_id WHERE c.number = ?1",
                [number],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(&row[2], surname);
        // Photo: 25 × 32 mm at 300 dpi.
        let photo = image::open(job.join(&row[5])).unwrap();
        assert_eq!((photo.width(), photo.height()), (295, 378));
        // Barcode: a 1-bit PNG.
        let png = png::Decoder::new(std::io::BufReader::new(
            std::fs::File::open(job.join(&row[6])).unwrap(),
        ));
        let reader = png.read_info().unwrap();
        assert_eq!(reader.info().bit_depth, png::BitDepth::One);
        assert!(
            row[9].len() == 10 && row[9].contains('.'),
            "dd.mm.yyyy: {}",
            &row[9]
        );
        assert_eq!(state(&h, number), "sent");
    }

    // proof.pdf: two CR80 pages per card, the Cyrillic names in the text.
    let pdf = lopdf::Document::load(job.join("proof.pdf")).unwrap();
    let pages = pdf.get_pages();
    assert_eq!(pages.len(), 2 * cards.len());
    for id in pages.values() {
        let page = pdf.get_dictionary(*id).unwrap();
        let mb: Vec<f32> = page
            .get(b"MediaBox")
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_float().unwrap())
            .collect();
        assert!((mb[2] / 72.0 * 25.4 - 85.60).abs() < 0.01, "width {mb:?}");
        assert!((mb[3] / 72.0 * 25.4 - 53.98).abs() < 0.01, "height {mb:?}");
    }
    let back = pdf.extract_text(&[2]).unwrap();
    assert!(back.contains(&rows[0][2]), "page 2 text: {back:?}");
    assert!(back.contains("Дійсна до"), "page 2 text: {back:?}");
    let front = pdf.extract_text(&[1]).unwrap();
    assert!(
        front.contains("Картка пільговика"),
        "page 1 text: {front:?}"
    );

    // encoding.json: decoded back with the protocol crate.
    let master = read_master(&h);
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(job.join("encoding.json")).unwrap()).unwrap();
    assert_eq!(doc["format"], "kartka-card-encoding");
    for (c, number) in doc["cards"].as_array().unwrap().iter().zip(&cards) {
        assert_eq!(c["number"].as_u64().unwrap().to_string(), *number);
        let uid = block(&format!(
            "{}000000000000000000000000",
            c["uid"].as_str().unwrap()
        ));
        let uid = &uid[..4];
        let s = &c["sectors"];
        let mad = Mad::decode(
            &block(s["0"]["1"].as_str().unwrap()),
            &block(s["0"]["2"].as_str().unwrap()),
        )
        .unwrap();
        assert_eq!(mad.find(TRANSPORT_AID), Some(1));
        let app = TransportApp::from_block(&block(s["1"]["4"].as_str().unwrap())).unwrap();
        assert_eq!(app.card.to_string(), *number);
        assert_eq!(app.issue, 1);
        assert_eq!(
            value::decode(&block(s["1"]["5"].as_str().unwrap())).unwrap(),
            (0, 5)
        );
        let t = Trailer::from_block(&block(s["1"]["7"].as_str().unwrap())).unwrap();
        assert_eq!(t.key_a, sector_key(&master, uid, 1, KeyKind::A));
        assert_eq!(t.key_b, sector_key(&master, uid, 1, KeyKind::B));
        let t0 = Trailer::from_block(&block(s["0"]["3"].as_str().unwrap())).unwrap();
        assert_eq!(t0.key_b, sector_key(&master, uid, 0, KeyKind::B));
        // Trailers are written last.
        let writes = c["writes"].as_array().unwrap();
        assert_eq!(writes.last().unwrap()["block"], 7);
        assert!(writes.iter().all(|w| w["key_a"] == "FFFFFFFFFFFF"));
        let recorded: String = h
            .db()
            .query_row(
                "SELECT e.uid FROM card_events e JOIN cards k ON k.id = e.card_id WHERE k.number = ?1 AND e.state = 'sent'",
                [number],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(recorded, c["uid"].as_str().unwrap());
    }
    // The key never leaves its file.
    let key_hex = std::fs::read_to_string(h.root.join("keys/card-master.key")).unwrap();
    for f in ["cards.csv", "encoding.json"] {
        let text = std::fs::read_to_string(job.join(f)).unwrap().to_lowercase();
        assert!(!text.contains(key_hex.trim()), "{f} holds the master key");
    }

    // Running again exports nothing new and writes no folder.
    let v = ok(print_job(&h, "job2")).json();
    assert_eq!(v["cards"].as_array().unwrap().len(), 0);
    assert!(!h.work.join("job2").exists());
    // A reprint takes the next unused UID.
    let first = &cards[0];
    let v = ok(h.kartka(&[
        "--json",
        "cards",
        "print-job",
        "--out",
        "job3",
        "--uids",
        "fixtures/cards/stock-uids.txt",
        "--reprint",
        first,
    ]))
    .json();
    assert_eq!(v["cards"][0], first.as_str());
    let uids: i64 = h.count(&format!(
        "SELECT count(DISTINCT uid) FROM card_events e JOIN cards c ON c.id = e.card_id WHERE c.number = {first}"
    ));
    assert_eq!(uids, 2);
    // Printed, then handed over.
    ok(h.kartka(&["cards", "printed", "--job", "1"]));
    assert_eq!(state(&h, &cards[cards.len() - 1]), "printed");
    ok(h.kartka(&["cards", "hand-over", &cards[cards.len() - 1]]));
    assert_eq!(state(&h, &cards[cards.len() - 1]), "handed");
    let r = h.kartka(&["cards", "hand-over", &cards[cards.len() - 1]]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("already handed over"), "{}", r.stderr);
}

#[test]
fn a_print_job_that_cannot_be_written_changes_no_card() {
    let (h, olena, _) = issued();
    // The output folder is not empty.
    std::fs::create_dir(h.work.join("busy")).unwrap();
    std::fs::write(h.work.join("busy/old.txt"), "x").unwrap();
    let r = print_job(&h, "busy");
    assert_eq!(r.code, 73, "{}", r.stderr);
    assert!(r.stderr.contains("not empty"), "{}", r.stderr);
    assert_eq!(state(&h, &olena), "issued");
    assert_eq!(h.count("SELECT count(*) FROM print_jobs"), 0);
    // The UID list is missing, or has a bad line.
    let r = h.kartka(&["cards", "print-job", "--out", "j", "--uids", "nope.txt"]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    std::fs::write(h.work.join("bad.txt"), "04A1B2C3\n04A1B2\n").unwrap();
    let r = h.kartka(&["cards", "print-job", "--out", "j", "--uids", "bad.txt"]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    // The key file is readable by others.
    let key = h.root.join("keys/card-master.key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let r = print_job(&h, "j");
    assert_eq!(r.code, 78, "{}", r.stderr);
    assert!(r.stderr.contains("readable by others"), "{}", r.stderr);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    // Not enough UIDs: the job takes what it can, the rest waits.
    std::fs::write(h.work.join("one.txt"), "04A1B2C3\n").unwrap();
    let v = ok(h.kartka(&[
        "--json",
        "cards",
        "print-job",
        "--out",
        "j",
        "--uids",
        "one.txt",
    ]))
    .json();
    assert_eq!(v["cards"].as_array().unwrap().len(), 1);
    assert!(
        v["held_back"][0]["why"]
            .as_str()
            .unwrap()
            .contains("no unused UID")
    );
    assert!(!Path::new(&h.work.join("j/.partial")).exists());
    assert_eq!(h.count("SELECT count(*) FROM print_jobs"), 1);
    assert_eq!(state(&h, &olena), "sent");
}

#[test]
fn a_print_job_killed_between_its_audit_entry_and_the_rename_leaves_the_entry() {
    let (h, olena, ivan) = issued();
    let out = h
        .command()
        .args([
            "cards",
            "print-job",
            "--out",
            "job",
            "--uids",
            "fixtures/cards/stock-uids.txt",
        ])
        .env("KARTKA_FAILPOINT", "print-job-before-rename")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), None, "killed by a signal");
    // The names and photos never reached the printer's folder, and no card
    // changed state; but the audit trail already names both holders. The
    // staging folder the kill left is the owner's only.
    assert!(!h.work.join("job").exists());
    let staged = staging(&h.work);
    assert_eq!(staged.len(), 1, "{staged:?}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&staged[0]).unwrap().permissions(),
    ) & 0o777;
    assert_eq!(mode, 0o700);
    assert_eq!(state(&h, &olena), "issued");
    assert_eq!(state(&h, &ivan), "issued");
    let (detail, outcome, people): (String, String, i64) = h
        .db()
        .query_row(
            "SELECT a.detail, a.outcome, (SELECT count(*) FROM audit_people p WHERE p.entry = a.id) \
             FROM audit a WHERE a.detail LIKE 'print job%' ORDER BY a.id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(detail.ends_with("job"), "{detail}");
    assert_eq!(outcome, "exported");
    assert_eq!(people, 2);
    // The chain still verifies, and the next job goes through.
    ok(h.kartka(&["audit", "verify"]));
    let v = ok(print_job(&h, "job")).json();
    assert_eq!(v["cards"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(state(&h, &olena), "sent");
    assert!(staging(&h.work).is_empty(), "the next job swept it");
}

/// The print jobs' staging folders (`.NAME.*.partial`) in `dir`.
fn staging(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(".job.") && n.ends_with(".partial")
        })
        .collect()
}

#[test]
fn the_blocklist_is_versioned_and_reads_back_in_the_protocol_form() {
    let (h, olena, ivan) = issued();
    let v = ok(h.kartka(&["--json", "cards", "blocklist", "--out", "bl/blocklist.kbl"])).json();
    assert_eq!(
        (v["version"].as_u64(), v["cards"].as_u64()),
        (Some(1), Some(0))
    );
    ok(h.kartka(&["cards", "block", &olena, "--reason", "lost"]));
    let v = ok(h.kartka(&["--json", "cards", "blocklist", "--out", "bl/blocklist.kbl"])).json();
    assert_eq!(
        (v["version"].as_u64(), v["new_version"].as_bool()),
        (Some(2), Some(true))
    );
    let list =
        Blocklist::from_bytes(&std::fs::read(h.work.join("bl/blocklist.kbl")).unwrap()).unwrap();
    assert_eq!(list.version, 2);
    assert_eq!(list.cards, vec![olena.parse::<u32>().unwrap()]);
    let csv = std::fs::read_to_string(h.work.join("bl/blocklist.csv")).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(
        csv.contains(&format!("{olena},")) && csv.contains("втрата"),
        "{csv}"
    );
    assert!(!csv.contains(&ivan));
    // Unchanged list: the same version.
    let v = ok(h.kartka(&["--json", "cards", "blocklist", "--out", "bl/blocklist.kbl"])).json();
    assert_eq!(
        (v["version"].as_u64(), v["new_version"].as_bool()),
        (Some(2), Some(false))
    );
    // English CSV for --lang en.
    ok(h.kartka(&["--lang", "en", "cards", "blocklist", "--out", "bl/en.kbl"]));
    let csv = std::fs::read_to_string(h.work.join("bl/en.csv")).unwrap();
    assert!(
        csv.contains("card,blocked_from,reason,valid_to") && csv.contains(",lost,"),
        "{csv}"
    );
}

#[test]
fn mistyped_and_unknown_numbers_are_told_apart() {
    let (h, olena, _) = issued();
    let mut typo = olena.clone().into_bytes();
    typo[9] = if typo[9] == b'9' { b'0' } else { typo[9] + 1 };
    let typo = String::from_utf8(typo).unwrap();
    let r = h.kartka(&["cards", "block", &typo, "--reason", "lost"]);
    assert_eq!(r.code, 65);
    assert!(r.stderr.contains("check digit is wrong"), "{}", r.stderr);
    let r = h.kartka(&["cards", "show", "4000000002"]);
    assert_eq!(r.code, 66, "{}", r.stderr);
    assert!(r.stderr.contains("no card 4000000002"), "{}", r.stderr);
    assert_eq!(state(&h, &olena), "issued");
    // A person's cards by tax number.
    let r = ok(h.kartka(&["cards", "show", OLENA.3]));
    assert!(r.stdout.contains("Ткаченко Олена Петрівна"), "{}", r.stdout);
    assert!(r.stdout.contains("free to the holder"), "{}", r.stdout);
}

#[test]
fn a_print_job_in_english_for_lang_en() {
    let (h, _, ivan) = issued();
    let r = ok(h.kartka(&[
        "--lang",
        "en",
        "--json",
        "cards",
        "print-job",
        "--out",
        "en",
        "--uids",
        "fixtures/cards/stock-uids.txt",
    ]));
    assert_eq!(r.json()["cards"].as_array().unwrap().len(), 2);
    let csv = std::fs::read_to_string(h.work.join("en/cards.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}number,number_printed,surname,given_name,patronymic,photo,barcode,category,community,valid_to,uid"), "{csv}");
    assert!(csv.contains("Pensioner by age"), "{csv}");
    assert!(
        csv.contains(&format!("{ivan},")) && csv.contains("2031-10-31"),
        "{csv}"
    );
    let pdf = lopdf::Document::load(h.work.join("en/proof.pdf")).unwrap();
    let back = pdf.extract_text(&[4]).unwrap();
    assert!(back.contains("Valid to 2031-10-31"), "{back:?}");
    assert!(back.contains("Мельник"), "names stay as written: {back:?}");
}

/// A chip kartka did not write, dumped by other tools (a filament spool's
/// tag from a public library of Proxmark3 dumps; fixtures/cards/foreign):
/// each of the three formats is read and explained the same way, the
/// finding named (no MAD, not kartka's card), exit 1, the registry
/// untouched.
#[test]
fn a_dump_of_a_foreign_chip_is_explained_in_every_format() {
    let h = Home::new();
    let registry = std::fs::read(h.root.join("registry.sqlite")).unwrap();
    let dir = crate::common::repo().join("fixtures/cards/foreign");
    for (file, format) in [
        ("hf-mf-15AD6004-dump.json", "Proxmark3 JSON"),
        ("hf-mf-15AD6004-dump.bin", "raw .bin"),
        ("hf-mf-15AD6004-dump.eml", ".eml"),
    ] {
        let path = dir.join(file);
        let r = h.kartka(&["cards", "inspect", path.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{file}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.is_empty(), "{file}: {}", r.stderr);
        assert!(
            r.stdout
                .starts_with(&format!("UID 15AD6004 ({format} dump)\n")),
            "{file}: {}",
            r.stdout
        );
        assert!(
            r.stdout.contains("ok   block 0: UID 15AD6004, BCC DC (right)")
                && r.stdout.contains(
                    "FAIL no MAD: sector 0's general purpose byte (69) says the card has no directory; not a card kartka wrote"
                ),
            "{file}: {}",
            r.stdout
        );
    }
    assert_eq!(
        std::fs::read(h.root.join("registry.sqlite")).unwrap(),
        registry,
        "inspecting changes nothing"
    );
}

#[test]
fn formula_text_in_a_name_reaches_the_printers_cards_csv_escaped() {
    let (h, _, _) = issued();
    let db = h.db();
    db.execute(
        "UPDATE people SET surname = '=HYPERLINK(\"http://x\",\"y\")', given_name = '@SUM(1)' \
         WHERE id = (SELECT min(id) FROM people)",
        [],
    )
    .unwrap();
    db.execute(
        "UPDATE people SET surname = '+cmd|'' /C calc''!A0', given_name = '-2+3' \
         WHERE id = (SELECT max(id) FROM people)",
        [],
    )
    .unwrap();
    ok(print_job(&h, "job"));
    let text = std::fs::read_to_string(h.work.join("job/cards.csv")).unwrap();
    let mut read = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut names = Vec::new();
    for rec in read.records() {
        let rec = rec.unwrap();
        names.push((rec[2].to_string(), rec[3].to_string()));
        // The card number, printed number and dates stay as they are.
        assert!(!rec[0].starts_with('\''), "{rec:?}");
    }
    names.sort();
    assert_eq!(
        names,
        [
            ("'+cmd|' /C calc'!A0".to_string(), "'-2+3".to_string()),
            (
                "'=HYPERLINK(\"http://x\",\"y\")".to_string(),
                "'@SUM(1)".to_string()
            ),
        ]
    );
}
