//! The synthetic month's card holders into the registry (`generate month
//! --format store`), so the suspicious-tap rules join real rows: a person,
//! an eligible decision and a card for each, with the chip UID a print job
//! would have recorded, and the state the month plants (blocked from an
//! instant, expired, holder deceased). Cards the registry has already are
//! left alone, so storing a second month adds only the new holders.

use rusqlite::params;

use super::month::{GenCard, MonthSummary};
use crate::home::Home;
use crate::registry::Registry;

/// The last sequence number the home's store holds for each validator
/// (empty for a home without taps), so a generated month stored after
/// another continues each validator's numbering.
pub fn numbered(home: &Home) -> Result<std::collections::HashMap<u16, u32>, super::Error> {
    let reg = Registry::open(&home.registry())?;
    let held = crate::taps::ledger::Held::load(&reg)?;
    Ok(held.newest_each().collect())
}

/// What `generate month --format store` put into the home.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stored {
    /// Card holders the registry did not have.
    pub holders: usize,
    pub taps_new: usize,
    pub taps_duplicate: usize,
}

/// Stores a generated month (made with `keep`) into `home` (the caller
/// holds the home's lock): the fleet from the month's `fleet.csv`, the holders and their
/// cards, then the taps, through the same ingest as a dock or an import.
pub fn store_month(
    home: &Home,
    month: &mut MonthSummary,
    seed: u64,
    operator: &str,
) -> Result<Stored, super::Error> {
    let mut reg = Registry::open(&home.registry())?;
    let fleet_file = month.out.join("fleet.csv");
    let fleet = crate::fleet::read(&fleet_file)?;
    crate::fleet::import(&mut reg, &fleet_file, &fleet, operator)?;
    let holders = store_cards(&mut reg, &month.cards, operator)?;
    crate::taps::parquet::sweep(home, &reg)?;
    let mut held = crate::taps::ledger::Held::load(&reg)?;
    let source = crate::taps::Source {
        kind: "generated",
        file: None,
        sha256: format!("seed {seed}"),
        validator: None,
        rejected: 0,
    };
    let taps = std::mem::take(&mut month.kept);
    let stored = crate::taps::ingest(home, &mut reg, &mut held, taps, &source, operator)?;
    Ok(Stored {
        holders,
        taps_new: stored.taps_new,
        taps_duplicate: stored.taps_duplicate,
    })
}

const SURNAMES: [&str; 8] = [
    "Шевченко",
    "Коваленко",
    "Бондаренко",
    "Ткаченко",
    "Кравченко",
    "Олійник",
    "Мельник",
    "Поліщук",
];
const GIVEN: [(&str, &str); 8] = [
    ("Олена", "F"),
    ("Іван", "M"),
    ("Марія", "F"),
    ("Петро", "M"),
    ("Ганна", "F"),
    ("Микола", "M"),
    ("Ніна", "F"),
    ("Василь", "M"),
];

/// Inserts the holders and cards the registry lacks; returns how many.
pub fn store_cards(
    reg: &mut Registry,
    cards: &[GenCard],
    operator: &str,
) -> Result<usize, crate::registry::Error> {
    let path = reg.path().to_path_buf();
    let err = |e| crate::registry::Error::sqlite(&path, e);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let now = crate::time::now_utc_text();
    tx.execute(
        "INSERT OR IGNORE INTO decision_parameters (parameters) VALUES ('{\"generated\":true}')",
        [],
    )
    .map_err(err)?;
    let params_id: i64 = tx
        .query_row(
            "SELECT id FROM decision_parameters WHERE parameters = '{\"generated\":true}'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    let mut added = 0;
    {
        let mut exists = tx
            .prepare("SELECT 1 FROM cards WHERE number = ?1")
            .map_err(err)?;
        let mut person = tx
            .prepare(
                "INSERT OR IGNORE INTO people (passport, surname, given_name, patronymic, birth_date, sex, community, categories,
                    death_date, fingerprint, created_at, updated_at, source_file)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6, ?7, ?8, 'generated', ?9, ?9, 'generated')",
            )
            .map_err(err)?;
        let mut decision = tx
            .prepare(
                "INSERT INTO decisions (person_id, person_revision, decided_at, as_of, operator, outcome, category, community,
                    reason_codes, reasons_uk, reasons_en, parameters_id, trace, decision_key)
                 VALUES (?1, 1, ?2, ?3, ?4, 'eligible', ?5, ?6, '', '', '', ?7, '[]', 'generated')",
            )
            .map_err(err)?;
        let mut card = tx
            .prepare(
                "INSERT INTO cards (number, person_id, issue, decision_id, category, community, valid_from, valid_to,
                    fee_kopecks, cost_kopecks, cost_payer, created_at, operator)
                 VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, 0, 0, ?5, ?8, ?9)",
            )
            .map_err(err)?;
        let mut event = tx
            .prepare(
                "INSERT INTO card_events (card_id, state, reason, at, effective, operator, uid)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(err)?;
        for c in cards {
            if exists.exists([c.number]).map_err(err)? {
                continue;
            }
            let i = c.number as usize;
            let (given, sex) = GIVEN[i % GIVEN.len()];
            let passport = format!("9{:08}", c.number / 10 % 100_000_000);
            let inserted = person
                .execute(params![
                    passport,
                    SURNAMES[(i / 8) % SURNAMES.len()],
                    given,
                    format!("19{:02}-{:02}-{:02}", 40 + i % 30, 1 + i % 12, 1 + i % 28),
                    sex,
                    c.community,
                    c.category,
                    c.death.map(|d| d.to_string()),
                    now
                ])
                .map_err(err)?;
            if inserted == 0 {
                continue;
            }
            let person_id = tx.last_insert_rowid();
            decision
                .execute(params![
                    person_id,
                    now,
                    c.valid_from.to_string(),
                    operator,
                    c.category,
                    c.community,
                    params_id
                ])
                .map_err(err)?;
            let decision_id = tx.last_insert_rowid();
            card.execute(params![
                c.number,
                person_id,
                decision_id,
                c.category,
                c.community,
                c.valid_from.to_string(),
                c.valid_to.to_string(),
                now,
                operator
            ])
            .map_err(err)?;
            let card_id = tx.last_insert_rowid();
            let from = crate::time::kyiv_day_start_utc(c.valid_from);
            for (state, uid) in [
                ("issued", None),
                ("sent", Some(c.uid.as_str())),
                ("handed", None),
            ] {
                event
                    .execute(params![
                        card_id,
                        state,
                        None::<&str>,
                        now,
                        from,
                        operator,
                        uid
                    ])
                    .map_err(err)?;
            }
            if let Some(at) = c.blocked_at {
                let at = chrono::DateTime::from_timestamp(i64::from(at), 0)
                    .map(crate::time::utc_text)
                    .unwrap_or_default();
                event
                    .execute(params![
                        card_id,
                        "blocked",
                        "lost",
                        now,
                        at,
                        operator,
                        None::<&str>
                    ])
                    .map_err(err)?;
            }
            added += 1;
        }
    }
    tx.commit().map_err(err)?;
    Ok(added)
}
