//! The cards and their events in the registry. A card row is what the card
//! carries and never changes; each move in its life is an appended event
//! (with operator, time, reason), and its state is the latest event.

use chrono::{Datelike, NaiveDate};
use rusqlite::{Connection, Transaction, params};

use super::Error;
use super::lifecycle::{self, IssueStep, Move, OldCard, Reason, State};
use super::number::{CardNumber, FIRST_SERIAL};
use crate::config::Config;
use crate::registry::Registry;

/// One card with its current state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Card {
    #[serde(skip)]
    pub id: i64,
    pub number: String,
    #[serde(skip)]
    pub person_id: i64,
    pub social_number: String,
    pub holder: String,
    pub issue: i64,
    pub replaces: Option<String>,
    pub replaced_by: Option<String>,
    pub category: String,
    pub community: String,
    pub valid_from: String,
    pub valid_to: String,
    pub fee_kopecks: i64,
    pub receipt: Option<String>,
    pub cost_kopecks: i64,
    pub cost_payer: String,
    pub created_at: String,
    pub state: State,
    pub reason: Option<Reason>,
    /// When the current state took effect (UTC).
    pub since: String,
    pub uid: Option<String>,
}

/// One event in a card's life.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    pub state: State,
    pub reason: Option<Reason>,
    pub at: String,
    pub effective: String,
    pub operator: String,
    pub uid: Option<String>,
    pub printed_name: Option<String>,
    pub detail: Option<String>,
}

const CARD_SELECT: &str = "SELECT c.id, c.number, c.person_id, p.social_number, \
     p.surname || ' ' || p.given_name || coalesce(' ' || p.patronymic, ''), c.issue, r.number, \
     (SELECT n.number FROM cards n WHERE n.replaces = c.id), c.category, c.community, c.valid_from, \
     c.valid_to, c.fee_kopecks, c.receipt, c.cost_kopecks, c.cost_payer, c.created_at, e.state, e.reason, \
     e.effective, (SELECT u.uid FROM card_events u WHERE u.card_id = c.id AND u.uid IS NOT NULL ORDER BY u.id DESC LIMIT 1) \
     FROM cards c JOIN people p ON p.id = c.person_id \
     JOIN card_events e ON e.id = (SELECT max(x.id) FROM card_events x WHERE x.card_id = c.id) \
     LEFT JOIN cards r ON r.id = c.replaces";

fn card_row(r: &rusqlite::Row) -> rusqlite::Result<Card> {
    let state: String = r.get(17)?;
    let reason: Option<String> = r.get(18)?;
    Ok(Card {
        id: r.get(0)?,
        number: r.get::<_, i64>(1)?.to_string(),
        person_id: r.get(2)?,
        social_number: r.get(3)?,
        holder: r.get(4)?,
        issue: r.get(5)?,
        replaces: r.get::<_, Option<i64>>(6)?.map(|n| n.to_string()),
        replaced_by: r.get::<_, Option<i64>>(7)?.map(|n| n.to_string()),
        category: r.get(8)?,
        community: r.get(9)?,
        valid_from: r.get(10)?,
        valid_to: r.get(11)?,
        fee_kopecks: r.get(12)?,
        receipt: r.get(13)?,
        cost_kopecks: r.get(14)?,
        cost_payer: r.get(15)?,
        created_at: r.get(16)?,
        state: State::from_code(&state).unwrap_or(State::Blocked),
        reason: reason.as_deref().and_then(Reason::from_code),
        since: r.get(19)?,
        uid: r.get(20)?,
    })
}

fn cards_where(
    conn: &Connection,
    clause: &str,
    args: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Card>> {
    let mut stmt = conn.prepare(&format!("{CARD_SELECT} {clause}"))?;
    let rows = stmt.query_map(args, card_row)?;
    rows.collect()
}

fn card_by_number(conn: &Connection, number: CardNumber) -> rusqlite::Result<Option<Card>> {
    Ok(cards_where(conn, "WHERE c.number = ?1", [i64::from(number.value())])?.pop())
}

/// The events of one card, oldest first.
fn events(conn: &Connection, card_id: i64) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn.prepare(
        "SELECT state, reason, at, effective, operator, uid, printed_name, detail FROM card_events \
         WHERE card_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([card_id], |r| {
        Ok(Event {
            state: State::from_code(&r.get::<_, String>(0)?).unwrap_or(State::Blocked),
            reason: r
                .get::<_, Option<String>>(1)?
                .as_deref()
                .and_then(Reason::from_code),
            at: r.get(2)?,
            effective: r.get(3)?,
            operator: r.get(4)?,
            uid: r.get(5)?,
            printed_name: r.get(6)?,
            detail: r.get(7)?,
        })
    })?;
    rows.collect()
}

/// What an event records besides the state.
#[derive(Debug, Default, Clone)]
pub struct EventInfo<'a> {
    pub reason: Option<Reason>,
    /// When it counts, if not now (UTC text).
    pub effective: Option<String>,
    pub print_job: Option<i64>,
    pub uid: Option<&'a str>,
    pub printed_name: Option<&'a str>,
    pub photo: Option<&'a str>,
    pub detail: Option<String>,
}

pub(super) fn append_event(
    tx: &Connection,
    card_id: i64,
    state: State,
    operator: &str,
    info: EventInfo,
) -> rusqlite::Result<()> {
    let now = crate::time::now_utc_text();
    tx.execute(
        "INSERT INTO card_events (card_id, state, reason, at, effective, operator, print_job, uid, printed_name, photo, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            card_id,
            state.code(),
            info.reason.map(|r| r.code()),
            now,
            info.effective.unwrap_or_else(|| now.clone()),
            operator,
            info.print_job,
            info.uid,
            info.printed_name,
            info.photo,
            info.detail,
        ],
    )?;
    Ok(())
}

/// Cards stopped by the rules, not by a clerk: each list holds card numbers.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Enforced {
    /// The holder's death is recorded (P9).
    pub death: Vec<String>,
    /// The holder's latest decision is no longer "eligible" (P9).
    pub benefit_ended: Vec<String>,
    /// Past the last valid day.
    pub expired: Vec<String>,
    /// Printed with a name the registry no longer has: (number, printed, now).
    pub name_changed: Vec<(String, String, String)>,
}

impl Enforced {
    pub fn total(&self) -> usize {
        self.death.len() + self.benefit_ended.len() + self.expired.len()
    }
}

/// Blocks or expires every live card the registry says must stop: the
/// holder died, lost the right, or the card's term ended. Runs in the
/// caller's transaction; idempotent.
/// A card in use (issued, sent, printed or handed over) with what the
/// automatic stops look at: its last day, its holder's death and latest
/// decision, its holder's name now and as printed.
#[derive(Debug, Clone)]
pub struct LiveCard {
    pub id: i64,
    pub number: i64,
    pub valid_to: Option<NaiveDate>,
    pub death: Option<NaiveDate>,
    /// The holder's latest decision: (id, outcome, as of).
    pub decision: Option<(i64, String, Option<NaiveDate>)>,
    pub name: String,
    pub printed_name: Option<String>,
}

/// What the automatic stops do to one live card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Blocked for the holder's death, from that day.
    Death(NaiveDate),
    /// Blocked: the latest decision is not eligible, from its date.
    BenefitEnded {
        decision: i64,
        outcome: String,
        as_of: Option<NaiveDate>,
    },
    /// Expired the day after its last day.
    Expired(NaiveDate),
    /// Not stopped, but the holder's name changed since it was printed.
    NameChanged { printed: String, now: String },
}

/// The automatic stops (P9), as one pure rule over a live card: death
/// first, then a decision that is no longer eligible, then the card's own
/// last day; otherwise a changed name is reported.
pub fn stop_for(card: &LiveCard, today: NaiveDate) -> Option<Stop> {
    if let Some(death) = card.death {
        return Some(Stop::Death(death));
    }
    if let Some((decision, outcome, as_of)) = &card.decision
        && outcome != "eligible"
    {
        return Some(Stop::BenefitEnded {
            decision: *decision,
            outcome: outcome.clone(),
            as_of: *as_of,
        });
    }
    if let Some(last) = card.valid_to
        && last < today
    {
        return Some(Stop::Expired(last));
    }
    match &card.printed_name {
        Some(printed) if *printed != card.name => Some(Stop::NameChanged {
            printed: printed.clone(),
            now: card.name.clone(),
        }),
        _ => None,
    }
}

/// Every live card with its holder's death, latest decision and names.
fn live_cards(tx: &Transaction) -> rusqlite::Result<Vec<LiveCard>> {
    let mut stmt = tx.prepare(
        "WITH live AS (SELECT c.id, c.number, c.person_id, c.valid_to, e.state FROM cards c \
            JOIN card_events e ON e.id = (SELECT max(x.id) FROM card_events x WHERE x.card_id = c.id) \
            WHERE e.state IN ('issued', 'sent', 'printed', 'handed')) \
         SELECT l.id, l.number, l.valid_to, p.death_date, d.outcome, d.as_of, d.id, \
            p.surname || ' ' || p.given_name || coalesce(' ' || p.patronymic, ''), \
            (SELECT s.printed_name FROM card_events s WHERE s.card_id = l.id AND s.printed_name IS NOT NULL ORDER BY s.id DESC LIMIT 1) \
         FROM live l JOIN people p ON p.id = l.person_id \
         LEFT JOIN decisions d ON d.id = (SELECT max(y.id) FROM decisions y WHERE y.person_id = l.person_id) \
         ORDER BY l.number",
    )?;
    let date = |s: Option<String>| s.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    let rows = stmt.query_map([], |r| {
        let outcome: Option<String> = r.get(4)?;
        let as_of = date(r.get(5)?);
        let decision: Option<i64> = r.get(6)?;
        Ok(LiveCard {
            id: r.get(0)?,
            number: r.get(1)?,
            valid_to: date(r.get(2)?),
            death: date(r.get(3)?),
            decision: decision.zip(outcome).map(|(id, o)| (id, o, as_of)),
            name: r.get(7)?,
            printed_name: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// The automatic stops, applied: each live card's `stop_for`, appended as
/// its event.
pub fn enforce(tx: &Transaction, today: NaiveDate, operator: &str) -> rusqlite::Result<Enforced> {
    let mut out = Enforced::default();
    for card in live_cards(tx)? {
        let number = card.number.to_string();
        let (state, info) = match stop_for(&card, today) {
            None => continue,
            Some(Stop::NameChanged { printed, now }) => {
                out.name_changed.push((number, printed, now));
                continue;
            }
            Some(Stop::Death(death)) => {
                out.death.push(number);
                (
                    State::Blocked,
                    EventInfo {
                        reason: Some(Reason::Death),
                        effective: Some(crate::time::kyiv_day_start_utc(death)),
                        detail: Some(format!(
                            "automatic: the holder's death on {death} is recorded"
                        )),
                        ..Default::default()
                    },
                )
            }
            Some(Stop::BenefitEnded {
                decision,
                outcome,
                as_of,
            }) => {
                out.benefit_ended.push(number);
                (
                    State::Blocked,
                    EventInfo {
                        reason: Some(Reason::BenefitEnded),
                        effective: as_of.map(crate::time::kyiv_day_start_utc),
                        detail: Some(format!(
                            "automatic: decision {decision} as of {} is {outcome}",
                            as_of.map(|d| d.to_string()).unwrap_or_default()
                        )),
                        ..Default::default()
                    },
                )
            }
            Some(Stop::Expired(last)) => {
                out.expired.push(number);
                (
                    State::Expired,
                    EventInfo {
                        effective: last.succ_opt().map(crate::time::kyiv_day_start_utc),
                        detail: Some(format!("automatic: valid to {last}")),
                        ..Default::default()
                    },
                )
            }
        };
        append_event(tx, card.id, state, operator, info)?;
    }
    Ok(out)
}

/// What `kartka cards issue` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IssueSummary {
    /// New cards, first or renewed: their numbers.
    pub issued: Vec<String>,
    /// Of those, renewals after an expired card or an ended benefit.
    pub renewals: usize,
    /// Eligible people who already hold a live card.
    pub already: usize,
    /// Eligible people whose card is blocked and who need a paid reissue:
    /// (social number, card number, reason).
    pub awaiting_reissue: Vec<(String, String, String)>,
    /// Eligible people whose benefit term ended before today: a card would
    /// be dead on arrival; their eligibility needs deciding again.
    pub term_ended: Vec<String>,
    pub enforced: Enforced,
}

/// The latest decision per person, eligible ones, with what a card needs.
struct EligiblePerson {
    person_id: i64,
    social_number: String,
    decision_id: i64,
    category: String,
    community: String,
    as_of: NaiveDate,
    valid_until: Option<NaiveDate>,
}

fn eligible_people(tx: &Connection, person: Option<i64>) -> rusqlite::Result<Vec<EligiblePerson>> {
    let mut stmt = tx.prepare(
        "SELECT d.person_id, p.social_number, d.id, d.category, d.community, d.as_of, d.valid_until \
         FROM decisions d JOIN people p ON p.id = d.person_id \
         WHERE d.id IN (SELECT max(id) FROM decisions GROUP BY person_id) AND d.outcome = 'eligible' \
         AND p.death_date IS NULL AND (?1 IS NULL OR d.person_id = ?1) ORDER BY d.person_id",
    )?;
    let date = |s: String| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok();
    let rows = stmt.query_map([person], |r| {
        Ok(EligiblePerson {
            person_id: r.get(0)?,
            social_number: r.get(1)?,
            decision_id: r.get(2)?,
            category: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
            community: r.get(4)?,
            as_of: r
                .get::<_, String>(5)
                .ok()
                .and_then(date)
                .unwrap_or(NaiveDate::MIN),
            valid_until: r.get::<_, Option<String>>(6)?.and_then(date),
        })
    })?;
    rows.collect()
}

/// The last day a card made on `from` may be valid.
fn card_valid_to(config: &Config, from: NaiveDate, benefit_until: Option<NaiveDate>) -> NaiveDate {
    let years = config.cards.validity_years as i32;
    let term_end = from
        .with_year(from.year() + years)
        // 29 February: the anniversary falls on 1 March.
        .or_else(|| NaiveDate::from_ymd_opt(from.year() + years, 3, 1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(from);
    benefit_until.map_or(term_end, |b| b.min(term_end))
}

struct NewCard<'a> {
    person: &'a EligiblePerson,
    issue: i64,
    replaces: Option<i64>,
    valid_from: NaiveDate,
    fee_kopecks: i64,
    receipt: Option<&'a str>,
}

fn next_number(tx: &Connection) -> Result<CardNumber, rusqlite::Error> {
    let max: Option<i64> = tx.query_row("SELECT max(number) FROM cards", [], |r| r.get(0))?;
    let serial = max.map_or(FIRST_SERIAL, |m| (m / 10) as u32 + 1);
    CardNumber::from_serial(serial).ok_or_else(|| {
        rusqlite::Error::ToSqlConversionFailure("the card number range is used up".into())
    })
}

fn insert_card(
    tx: &Connection,
    config: &Config,
    today: NaiveDate,
    operator: &str,
    c: NewCard,
) -> rusqlite::Result<(i64, CardNumber)> {
    let number = next_number(tx)?;
    let valid_to = card_valid_to(config, c.valid_from, c.person.valid_until);
    let cost = config
        .cards
        .fees_on(today)
        .map_or(0, |f| f.card_cost_kopecks);
    let payer = if config.is_partner(&c.person.community) {
        c.person.community.clone()
    } else {
        config.city.community.clone()
    };
    tx.execute(
        "INSERT INTO cards (number, person_id, issue, replaces, decision_id, category, community, valid_from, \
         valid_to, fee_kopecks, receipt, cost_kopecks, cost_payer, created_at, operator) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            i64::from(number.value()),
            c.person.person_id,
            c.issue,
            c.replaces,
            c.person.decision_id,
            c.person.category,
            c.person.community,
            c.valid_from.to_string(),
            valid_to.to_string(),
            c.fee_kopecks,
            c.receipt,
            cost,
            payer,
            crate::time::now_utc_text(),
            operator,
        ],
    )?;
    let id = tx.last_insert_rowid();
    append_event(tx, id, State::Issued, operator, EventInfo::default())?;
    Ok((id, number))
}

/// A person's latest card: (number, issue, state, reason).
type Latest = (i64, i64, State, Option<Reason>);

fn latest_cards(tx: &Connection) -> rusqlite::Result<std::collections::HashMap<i64, Latest>> {
    let mut stmt = tx.prepare(
        "SELECT c.person_id, c.number, c.issue, e.state, e.reason FROM cards c \
         JOIN card_events e ON e.id = (SELECT max(x.id) FROM card_events x WHERE x.card_id = c.id) \
         WHERE c.id IN (SELECT max(id) FROM cards GROUP BY person_id)",
    )?;
    let rows = stmt.query_map([], |r| {
        let state: String = r.get(3)?;
        let reason: Option<String> = r.get(4)?;
        Ok((
            r.get(0)?,
            (
                r.get(1)?,
                r.get(2)?,
                State::from_code(&state).unwrap_or(State::Blocked),
                reason.as_deref().and_then(Reason::from_code),
            ),
        ))
    })?;
    rows.collect()
}

/// Gives every eligible person without a live card their card (first or
/// renewed, free); stops the cards the registry says must stop first.
pub fn issue(
    reg: &mut Registry,
    config: &Config,
    today: NaiveDate,
    operator: &str,
) -> Result<IssueSummary, Error> {
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let mut summary = IssueSummary {
        enforced: enforce(&tx, today, operator).map_err(err)?,
        ..Default::default()
    };
    let latest = latest_cards(&tx).map_err(err)?;
    for person in eligible_people(&tx, None).map_err(err)? {
        let last = latest.get(&person.person_id);
        let step = lifecycle::issue_step(last.map(|(_, _, s, r)| (*s, *r)));
        match step {
            IssueStep::HasCard => summary.already += 1,
            IssueStep::NeedsReissue(reason) => {
                let number = last.map_or(0, |(number, ..)| *number);
                summary.awaiting_reissue.push((
                    person.social_number.clone(),
                    number.to_string(),
                    reason.code().to_string(),
                ));
            }
            IssueStep::First | IssueStep::Renewal
                if person.valid_until.is_some_and(|until| until < today) =>
            {
                summary.term_ended.push(person.social_number.clone());
            }
            IssueStep::First | IssueStep::Renewal => {
                let (_, number) = insert_card(
                    &tx,
                    config,
                    today,
                    operator,
                    NewCard {
                        person: &person,
                        issue: last.map_or(1, |(_, issue, ..)| issue + 1),
                        replaces: None,
                        valid_from: if step == IssueStep::First {
                            person.as_of
                        } else {
                            person.as_of.max(today)
                        },
                        fee_kopecks: 0,
                        receipt: None,
                    },
                )
                .map_err(err)?;
                if step == IssueStep::Renewal {
                    summary.renewals += 1;
                }
                summary.issued.push(number.to_string());
            }
        }
    }
    tx.commit().map_err(err)?;
    Ok(summary)
}

/// One card of the registry, by number (no holder is shown: for the chip
/// image and its inspection).
pub fn card(reg: &Registry, number: CardNumber) -> Result<Card, Error> {
    require_card(reg.conn(), number, reg.path())
}

fn require_card(
    conn: &Connection,
    number: CardNumber,
    path: &std::path::Path,
) -> Result<Card, Error> {
    card_by_number(conn, number)
        .map_err(|e| Error::Registry(crate::registry::Error::sqlite(path, e)))?
        .ok_or_else(|| Error::UnknownCard(number.to_string()))
}

/// Blocks a card at once (P8, P9).
pub fn block(
    reg: &mut Registry,
    number: CardNumber,
    reason: Reason,
    operator: &str,
    note: Option<&str>,
) -> Result<Card, Error> {
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let card = require_card(&tx, number, &path)?;
    lifecycle::apply(card.state, Move::Block(reason)).map_err(|why| Error::Refused {
        number: number.to_string(),
        why: match card.reason {
            Some(r) if card.state == State::Blocked => {
                format!(
                    "it was already blocked on {} ({r})",
                    crate::time::stored_as_kyiv(&card.since)
                )
            }
            _ => why,
        },
    })?;
    append_event(
        &tx,
        card.id,
        State::Blocked,
        operator,
        EventInfo {
            reason: Some(reason),
            detail: note.map(String::from),
            ..Default::default()
        },
    )
    .map_err(err)?;
    let card = require_card(&tx, number, &path)?;
    tx.commit().map_err(err)?;
    Ok(card)
}

/// Makes the paid replacement of a blocked card (P8).
pub fn reissue(
    reg: &mut Registry,
    config: &Config,
    number: CardNumber,
    receipt: &str,
    today: NaiveDate,
    operator: &str,
) -> Result<(Card, Card), Error> {
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let old = require_card(&tx, number, &path)?;
    let live_text = cards_where(&tx, "WHERE c.person_id = ?1", [old.person_id])
        .map_err(err)?
        .into_iter()
        .find(|c| c.state.is_live())
        .map(|c| c.number);
    let person = eligible_people(&tx, Some(old.person_id))
        .map_err(err)?
        .pop();
    lifecycle::may_reissue(
        &OldCard {
            state: old.state,
            reason: old.reason,
            replaced_by: old.replaced_by.clone(),
        },
        receipt,
        live_text.as_deref(),
        person.is_some(),
    )
    .map_err(|why| Error::Refused {
        number: number.to_string(),
        why,
    })?;
    let person = person.expect("checked eligible");
    let latest_issue: i64 = tx
        .query_row(
            "SELECT max(issue) FROM cards WHERE person_id = ?1",
            [old.person_id],
            |r| r.get(0),
        )
        .map_err(err)?;
    let fee = config
        .cards
        .fees_on(today)
        .map_or(0, |f| f.reissue_fee_kopecks);
    let (_, new_number) = insert_card(
        &tx,
        config,
        today,
        operator,
        NewCard {
            person: &person,
            issue: latest_issue + 1,
            replaces: Some(old.id),
            valid_from: person.as_of.max(today),
            fee_kopecks: fee,
            receipt: Some(receipt.trim()),
        },
    )
    .map_err(err)?;
    let old = require_card(&tx, number, &path)?;
    let new = require_card(&tx, new_number, &path)?;
    tx.commit().map_err(err)?;
    Ok((old, new))
}

/// Records cards as printed and encoded, or handed over.
pub fn record(
    reg: &mut Registry,
    numbers: &[CardNumber],
    mv: Move,
    operator: &str,
) -> Result<Vec<Card>, Error> {
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let mut done = Vec::new();
    // All or nothing: one refused card leaves every card as it was.
    for &number in numbers {
        let card = require_card(&tx, number, &path)?;
        let state = lifecycle::apply(card.state, mv).map_err(|why| Error::Refused {
            number: number.to_string(),
            why,
        })?;
        append_event(&tx, card.id, state, operator, EventInfo::default()).map_err(err)?;
        done.push(require_card(&tx, number, &path)?);
    }
    tx.commit().map_err(err)?;
    Ok(done)
}

/// `kartka cards printed`: the cards named and those of print job `job`,
/// recorded as printed and encoded, all or none.
pub fn record_printed(
    reg: &mut Registry,
    numbers: &[CardNumber],
    job: Option<i64>,
    operator: &str,
) -> Result<Vec<Card>, Error> {
    let mut list = numbers.to_vec();
    if let Some(job) = job {
        let in_job = job_cards(reg.conn(), job).map_err(|e| Error::Registry(reg.err(e)))?;
        if in_job.is_empty() {
            return Err(Error::Refused {
                number: format!("(print job {job})"),
                why: format!("there is no print job {job} with cards"),
            });
        }
        list.extend(in_job);
    }
    if list.is_empty() {
        return Err(Error::Refused {
            number: "(none)".into(),
            why: "give card numbers or --job".into(),
        });
    }
    record(reg, &list, Move::Printed, operator)
}

/// The card numbers of a print job, in its order.
pub fn job_cards(conn: &Connection, job: i64) -> rusqlite::Result<Vec<CardNumber>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT c.number FROM card_events e JOIN cards c ON c.id = e.card_id \
         WHERE e.print_job = ?1 ORDER BY e.id",
    )?;
    let rows = stmt.query_map([job], |r| r.get::<_, i64>(0))?;
    let mut out = Vec::new();
    for n in rows {
        if let Some(n) = u32::try_from(n?).ok().and_then(CardNumber::from_u32) {
            out.push(n);
        }
    }
    Ok(out)
}

/// A card with its events.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shown {
    pub card: Card,
    pub events: Vec<Event>,
}

/// A card by number, or every card of a person (social number, tax number,
/// passport), with their events.
/// Cards of a number or a person, with their history, for `session`: the
/// holders are recorded in the audit trail before anything is returned.
pub fn show(
    reg: &mut Registry,
    session: &crate::access::Session,
    key: &str,
) -> Result<Vec<Shown>, Error> {
    let shown = find(reg, key)?;
    let people: Vec<String> = shown.iter().map(|s| s.card.social_number.clone()).collect();
    session.record(
        reg,
        crate::audit::Outcome::Shown,
        &people,
        "cards and their history",
    )?;
    Ok(shown)
}

fn find(reg: &Registry, key: &str) -> Result<Vec<Shown>, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let cards = match CardNumber::parse(key) {
        Ok(number) => vec![require_card(reg.conn(), number, reg.path())?],
        Err(parse_error) => {
            let person = match reg.find_person(key)? {
                Some(id) => id,
                None if key.trim().len() == 10 => return Err(Error::BadNumber(parse_error)),
                None => return Err(Error::UnknownHolder(key.trim().to_string())),
            };
            cards_where(reg.conn(), "WHERE c.person_id = ?1 ORDER BY c.id", [person])
                .map_err(err)?
        }
    };
    cards
        .into_iter()
        .map(|card| {
            Ok(Shown {
                events: events(reg.conn(), card.id).map_err(err)?,
                card,
            })
        })
        .collect()
}

/// Every card, or those in `state`, by number, with their holders, for
/// `session` (recorded in the audit trail first).
pub fn list(
    reg: &mut Registry,
    session: &crate::access::Session,
    state: Option<State>,
) -> Result<Vec<Card>, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let mut cards = cards_where(reg.conn(), "ORDER BY c.number", []).map_err(err)?;
    if let Some(s) = state {
        cards.retain(|c| c.state == s);
    }
    let people: Vec<String> = cards.iter().map(|c| c.social_number.clone()).collect();
    session.record(
        reg,
        crate::audit::Outcome::Shown,
        &people,
        "card list with holders",
    )?;
    Ok(cards)
}

/// The current state of card `number`.
pub(super) fn card_state(
    conn: &Connection,
    number: CardNumber,
    path: &std::path::Path,
) -> Result<State, Error> {
    Ok(require_card(conn, number, path)?.state)
}

/// Runs [`enforce`] in a transaction of its own.
pub fn enforce_now(
    reg: &mut Registry,
    today: NaiveDate,
    operator: &str,
) -> Result<Enforced, Error> {
    let path = reg.path().to_path_buf();
    let err = Error::sql(&path);
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let done = enforce(&tx, today, operator).map_err(err)?;
    tx.commit().map_err(err)?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_ends_the_day_before_its_anniversary_or_with_the_benefit() {
        let config = Config::default_config();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            card_valid_to(&config, d("2026-11-01"), None),
            d("2031-10-31")
        );
        assert_eq!(
            card_valid_to(&config, d("2028-02-29"), None),
            d("2033-02-28")
        );
        assert_eq!(
            card_valid_to(&config, d("2026-11-01"), Some(d("2027-06-30"))),
            d("2027-06-30")
        );
    }
}

#[cfg(test)]
mod stop_tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn card() -> LiveCard {
        LiveCard {
            id: 1,
            number: 1_000_000_008,
            valid_to: Some(d("2027-10-31")),
            death: None,
            decision: Some((5, "eligible".into(), Some(d("2026-11-01")))),
            name: "Коваль Олена".into(),
            printed_name: Some("Коваль Олена".into()),
        }
    }

    #[test]
    fn death_comes_first_then_the_decision_then_the_last_day() {
        let today = d("2026-11-20");
        assert_eq!(stop_for(&card(), today), None);
        let mut c = card();
        c.valid_to = Some(d("2026-11-19"));
        assert_eq!(stop_for(&c, today), Some(Stop::Expired(d("2026-11-19"))));
        c.decision = Some((6, "ineligible".into(), Some(d("2026-11-10"))));
        assert_eq!(
            stop_for(&c, today),
            Some(Stop::BenefitEnded {
                decision: 6,
                outcome: "ineligible".into(),
                as_of: Some(d("2026-11-10")),
            })
        );
        c.death = Some(d("2026-11-05"));
        assert_eq!(stop_for(&c, today), Some(Stop::Death(d("2026-11-05"))));
        // A card valid through today is not expired; a new surname is told.
        let mut c = card();
        c.valid_to = Some(today);
        c.name = "Шевченко Олена".into();
        assert_eq!(
            stop_for(&c, today),
            Some(Stop::NameChanged {
                printed: "Коваль Олена".into(),
                now: "Шевченко Олена".into(),
            })
        );
    }
}
