//! Eligibility decisions (`kartka eligibility`): every application decided by
//! the rules of `rules`, with the parameters in force on the decision date.
//! Decisions are history: a new one supersedes the last, never overwrites it,
//! and records the parameters it used.

mod rules;
mod workbook;

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use rusqlite::params;

pub use rules::{Application, Check, Decision, Outcome, Reason, decide};

use crate::config::Config;
use crate::home::Home;
use crate::registry::{self, Registry};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no person with social number, tax number or passport {0:?} in the registry.\n  Check the number; `kartka status` shows what the registry holds."
    )]
    UnknownPerson(String),
    #[error(
        "{path}: cannot write the workbook: {detail}.\n  Check the folder exists and is writable; decisions were kept."
    )]
    Workbook {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error(transparent)]
    Registry(#[from] registry::Error),
    #[error(transparent)]
    Cards(#[from] crate::cards::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::UnknownPerson(_) => ExitCode::NoInput,
            Error::Workbook { .. } => ExitCode::CantCreate,
            Error::Registry(e) => e.exit_code(),
            Error::Cards(e) => e.exit_code(),
        }
    }
}

pub use crate::lang::Lang;

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub decided: usize,
    pub eligible: usize,
    pub ineligible: usize,
    pub incomplete: usize,
    pub unchanged: usize,
    /// People who were eligible and are no longer: their cards must stop.
    #[serde(skip)]
    pub lost_right: Vec<LostRight>,
}

/// One person's decision, with their social number and name, for the workbook.
pub type Decided = (String, String, Decision);

#[derive(Debug, Clone)]
pub struct LostRight {
    pub social_number: String,
    pub outcome: Outcome,
    pub reasons_en: String,
}

struct Person {
    id: i64,
    social_number: String,
    revision: i64,
    name: String,
    app: Application,
}

struct Current {
    id: i64,
    revision: i64,
    outcome: Outcome,
    key: String,
}

fn load_people(reg: &Registry, filter: Option<i64>) -> Result<Vec<Person>, registry::Error> {
    let err = |e| reg.err(e);
    let date = |s: Option<String>| s.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok());
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT id, social_number, revision, surname || ' ' || given_name || coalesce(' ' || patronymic, ''), \
             birth_date, community, categories, chosen_category, benefit_document, benefit_valid_until, \
             income_pension, income_salary, income_aid, income_total, passport IS NOT NULL, \
             tax_number IS NOT NULL, documents, death_date FROM people WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map([filter], |r| {
            Ok(Person {
                id: r.get(0)?,
                social_number: r.get(1)?,
                revision: r.get(2)?,
                name: r.get(3)?,
                app: Application {
                    birth_date: date(r.get(4)?),
                    community: r.get(5)?,
                    categories: r
                        .get::<_, String>(6)?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                    chosen_category: r.get(7)?,
                    benefit_document: r.get(8)?,
                    benefit_valid_until: date(r.get(9)?),
                    income_pension: r.get(10)?,
                    income_salary: r.get(11)?,
                    income_aid: r.get(12)?,
                    income_total: r.get(13)?,
                    has_passport: r.get(14)?,
                    has_tax_number: r.get(15)?,
                    documents: r.get(16)?,
                    death_date: date(r.get(17)?),
                },
            })
        })
        .map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

/// What makes two decisions the same for the applicant.
fn decision_key(d: &Decision) -> String {
    format!(
        "{}|{}|{}|{}|{}|{}",
        d.outcome.code(),
        d.category.as_deref().unwrap_or(""),
        d.community,
        d.valid_until.map(|v| v.to_string()).unwrap_or_default(),
        d.reasons
            .iter()
            .map(|r| r.code)
            .collect::<Vec<_>>()
            .join(","),
        d.missing_documents.join(",")
    )
}

fn parameters_json(d: &Decision, config: &Config) -> String {
    let category = d.category.as_deref().and_then(|c| config.category(c));
    serde_json::json!({
        "income_limit_kopecks": d.income_limit.map(|l| l.0),
        "income_limit_from": d.income_limit.map(|l| l.1.to_string()),
        "income_counts": config.income.counts,
        "income_basis": config.income.basis,
        "income_inclusive": config.income.inclusive,
        "category_income_tested": category.map(|c| c.income_tested),
        "category_documents": category.map(|c| c.documents.clone()),
    })
    .to_string()
}

/// A decision with its stored forms, made on the deciding thread.
struct Prepared {
    decision: Decision,
    key: String,
    parameters: String,
    trace: String,
    reason_codes: String,
    reasons_uk: String,
    reasons_en: String,
}

impl Prepared {
    fn new(decision: Decision, config: &Config) -> Prepared {
        let join = |f: &dyn Fn(&Reason) -> &str, sep: &str| {
            decision.reasons.iter().map(f).collect::<Vec<_>>().join(sep)
        };
        Prepared {
            key: decision_key(&decision),
            parameters: parameters_json(&decision, config),
            trace: compact_trace(&decision.trace),
            reason_codes: join(&|r| r.code, ","),
            reasons_uk: join(&|r| r.uk.as_str(), "; "),
            reasons_en: join(&|r| r.en.as_str(), "; "),
            decision,
        }
    }
}

/// The id of a parameter set, stored once.
fn parameter_set(
    tx: &rusqlite::Transaction,
    known: &mut HashMap<String, i64>,
    json: String,
) -> rusqlite::Result<i64> {
    if let Some(id) = known.get(&json) {
        return Ok(*id);
    }
    tx.execute(
        "INSERT OR IGNORE INTO decision_parameters (parameters) VALUES (?1)",
        [&json],
    )?;
    let id = tx.query_row(
        "SELECT id FROM decision_parameters WHERE parameters = ?1",
        [&json],
        |r| r.get(0),
    )?;
    known.insert(json, id);
    Ok(id)
}

/// The rule trace as stored: each rule, the value seen and whether it
/// passed; the parameter side is in the decision's parameter set.
fn compact_trace(trace: &[Check]) -> String {
    let rows: Vec<(&str, &str, bool)> = trace
        .iter()
        .map(|c| (c.rule, c.seen.as_str(), c.pass))
        .collect();
    serde_json::to_string(&rows).expect("trace serialises")
}

/// Decides every application without a current decision (`all`: everyone),
/// as of `as_of`. Writes nothing when the decision would not change. Returns
/// the summary and, with `keep_decisions` (for the workbook), every person's
/// decision as of `as_of`.
pub fn decide_all(
    home: &Home,
    config: &Config,
    as_of: NaiveDate,
    all: bool,
    operator: &str,
    keep_decisions: bool,
) -> Result<(Summary, Vec<Decided>), Error> {
    let mut reg = Registry::open(&home.registry())?;
    let people = load_people(&reg, None)?;
    let path = reg.path().to_path_buf();
    let err = |e| Error::Registry(registry::Error::sqlite(&path, e));
    let mut current: HashMap<i64, Current> = HashMap::new();
    {
        let mut stmt = reg
            .conn()
            .prepare(
                "SELECT d.person_id, d.id, d.person_revision, d.outcome, d.decision_key FROM decisions d \
                 JOIN (SELECT person_id, max(id) AS id FROM decisions GROUP BY person_id) last ON last.id = d.id",
            )
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            current.insert(
                r.get(0).map_err(err)?,
                Current {
                    id: r.get(1).map_err(err)?,
                    revision: r.get(2).map_err(err)?,
                    outcome: Outcome::from_code(&r.get::<_, String>(3).map_err(err)?)
                        .unwrap_or(Outcome::Incomplete),
                    key: r.get(4).map_err(err)?,
                },
            );
        }
    }
    let now = crate::time::now_utc_text();
    let mut summary = Summary::default();
    let mut decided = Vec::new();
    let tx = reg.conn_mut().transaction().map_err(err)?;
    let mut parameter_ids: HashMap<String, i64> = HashMap::new();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO decisions (person_id, person_revision, decided_at, as_of, operator, outcome, category, \
                 other_categories, community, valid_until, reason_codes, reasons_uk, reasons_en, missing_documents, \
                 parameters_id, trace, decision_key, supersedes) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )
            .map_err(err)?;
        // Deciding is pure: one thread decides and serialises while this
        // one writes, batch by batch.
        std::thread::scope(|scope| -> Result<(), Error> {
            type Batch = Vec<(Person, Prepared)>;
            let (send, receive) = std::sync::mpsc::sync_channel::<Batch>(8);
            scope.spawn(move || {
                let mut people = people.into_iter().peekable();
                while people.peek().is_some() {
                    let batch: Batch = people
                        .by_ref()
                        .take(1024)
                        .map(|p| {
                            let prepared = Prepared::new(decide(&p.app, config, as_of), config);
                            (p, prepared)
                        })
                        .collect();
                    if send.send(batch).is_err() {
                        break;
                    }
                }
            });
            for (p, prep) in receive.into_iter().flatten() {
                let cur = current.get(&p.id);
                let stands =
                    cur.is_some_and(|c| c.revision == p.revision && (!all || c.key == prep.key));
                if !stands {
                    let parameters_id =
                        parameter_set(&tx, &mut parameter_ids, prep.parameters).map_err(err)?;
                    let d = &prep.decision;
                    insert
                        .execute(params![
                            p.id,
                            p.revision,
                            now,
                            as_of.to_string(),
                            operator,
                            d.outcome.code(),
                            d.category,
                            d.other_categories.join(","),
                            d.community,
                            d.valid_until.map(|v| v.to_string()),
                            prep.reason_codes,
                            prep.reasons_uk,
                            prep.reasons_en,
                            d.missing_documents.join(","),
                            parameters_id,
                            prep.trace,
                            prep.key,
                            cur.map(|c| c.id),
                        ])
                        .map_err(err)?;
                    summary.decided += 1;
                    match d.outcome {
                        Outcome::Eligible => summary.eligible += 1,
                        Outcome::Ineligible => summary.ineligible += 1,
                        Outcome::Incomplete => summary.incomplete += 1,
                    }
                    if cur.is_some_and(|c| c.outcome == Outcome::Eligible)
                        && d.outcome != Outcome::Eligible
                    {
                        summary.lost_right.push(LostRight {
                            social_number: p.social_number.clone(),
                            outcome: d.outcome,
                            reasons_en: prep.reasons_en.clone(),
                        });
                    }
                } else {
                    summary.unchanged += 1;
                }
                if keep_decisions {
                    decided.push((p.social_number, p.name, prep.decision));
                }
            }
            Ok(())
        })?;
    }
    tx.commit().map_err(err)?;
    Ok((summary, decided))
}

/// Finds a person by social number, tax number or passport.
pub fn find_person(reg: &Registry, key: &str) -> Result<i64, Error> {
    reg.find_person(key)?
        .ok_or_else(|| Error::UnknownPerson(key.trim().to_string()))
}

/// A person's rule trace as of `as_of`, and their stored decisions.
pub struct Explanation {
    pub social_number: String,
    pub name: String,
    pub decision: Decision,
    pub history: Vec<(String, String, String, String)>,
}

/// Explains the decision for one person. Reading it is a personal-data
/// access (K5): the session's audit entry is written before the trace is
/// handed back.
pub fn explain(
    home: &Home,
    config: &Config,
    session: &crate::access::Session,
    person: &str,
    as_of: NaiveDate,
) -> Result<Explanation, Error> {
    let mut reg = Registry::open(&home.registry())?;
    let id = find_person(&reg, person)?;
    let p = load_people(&reg, Some(id))?
        .pop()
        .ok_or_else(|| Error::UnknownPerson(person.to_string()))?;
    session.record(
        &mut reg,
        crate::audit::Outcome::Shown,
        std::slice::from_ref(&p.social_number),
        "eligibility trace",
    )?;
    let err = |e| reg.err(e);
    let mut stmt = reg
        .conn()
        .prepare("SELECT decided_at, as_of, outcome, reasons_en FROM decisions WHERE person_id = ?1 ORDER BY id")
        .map_err(err)?;
    let history = stmt
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    Ok(Explanation {
        decision: decide(&p.app, config, as_of),
        social_number: p.social_number,
        name: p.name,
        history,
    })
}

/// What `kartka eligibility` asks for.
pub struct Run<'a> {
    /// The decision date: the income limit in force on it applies.
    pub as_of: NaiveDate,
    /// Re-decide everyone, not only applications without a current
    /// decision.
    pub all: bool,
    /// The decisions workbook for the head of office.
    pub workbook: Option<&'a Path>,
    pub lang: Lang,
}

/// What a run decided, and the cards it stopped.
pub struct Ran {
    pub summary: Summary,
    /// Cards stopped now: a right that ended, a recorded death (P9).
    pub stopped: crate::cards::Enforced,
}

/// Decides the applications (every one with `all`), stops the cards
/// whose right ended (P9, effective from the decision's date; a recorded
/// death stops them with `death`), and writes the decisions workbook when
/// asked, after the session's audit entry for it (K5). The caller holds
/// the home's lock.
pub fn run(
    home: &Home,
    config: &Config,
    session: &crate::access::Session,
    run: &Run<'_>,
    operator: &str,
) -> Result<Ran, Error> {
    let (summary, decided) = decide_all(
        home,
        config,
        run.as_of,
        run.all,
        operator,
        run.workbook.is_some(),
    )?;
    let mut reg = Registry::open(&home.registry())?;
    let stopped = crate::cards::enforce_now(&mut reg, crate::time::today_kyiv(), operator)?;
    if let Some(out) = run.workbook {
        let people: Vec<String> = decided.iter().map(|d| d.0.clone()).collect();
        session.record(
            &mut reg,
            crate::audit::Outcome::Exported,
            &people,
            &format!("decisions workbook → {}", out.display()),
        )?;
        write_workbook(out, config, &decided, run.lang).map_err(|e| Error::Workbook {
            path: out.to_path_buf(),
            detail: e.to_string(),
        })?;
    }
    Ok(Ran { summary, stopped })
}

pub use workbook::write as write_workbook;
