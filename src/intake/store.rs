//! Writing applicants into the registry: an idempotent upsert keyed on the
//! tax number (the passport for people without one), with the history of
//! every changed field (K1: each person keeps one social number for life).

use rustc_hash::FxHashMap as HashMap;

use super::applicant::{Applicant, COLUMNS, Read, value_text};
use super::why::{Why, why};
use rusqlite::types::Value;
use rusqlite::{Transaction, params, params_from_iter};

/// Where a row came from, for history and messages.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub file: &'a str,
    pub sheet: &'a str,
    pub row: usize,
}

impl Source<'_> {
    pub fn place(&self) -> String {
        if self.sheet.is_empty() {
            format!("{}, row {}", self.file, self.row)
        } else {
            format!("{}, sheet \"{}\", row {}", self.file, self.sheet, self.row)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Inserted {
        social_number: String,
    },
    Updated {
        social_number: String,
        fields: Vec<&'static str>,
    },
    Unchanged {
        social_number: String,
    },
}

struct Known {
    fingerprint: u128,
    tax_number: Option<String>,
    passport: Option<String>,
}

/// The people already in the registry, by their keys: loaded once per run so
/// that an import of a whole city is one pass with no look-up queries.
pub struct Index {
    by_tax: HashMap<String, i64>,
    by_passport: HashMap<String, i64>,
    known: HashMap<i64, Known>,
    /// People this run has already written, and from where.
    seen: HashMap<i64, (String, u128)>,
    next_id: i64,
}

use crate::identity::social_number;

impl Index {
    pub fn load(tx: &Transaction) -> rusqlite::Result<Index> {
        let mut index = Index {
            by_tax: HashMap::default(),
            by_passport: HashMap::default(),
            known: HashMap::default(),
            seen: HashMap::default(),
            next_id: 1,
        };
        let mut stmt = tx.prepare("SELECT id, tax_number, passport, fingerprint FROM people")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let tax_number: Option<String> = r.get(1)?;
            let passport: Option<String> = r.get(2)?;
            if let Some(t) = &tax_number {
                index.by_tax.insert(t.clone(), id);
            }
            if let Some(p) = &passport {
                index.by_passport.insert(p.clone(), id);
            }
            index.known.insert(
                id,
                Known {
                    fingerprint: u128::from_str_radix(&r.get::<_, String>(3)?, 16).unwrap_or(0),
                    tax_number,
                    passport,
                },
            );
            index.next_id = index.next_id.max(id + 1);
        }
        Ok(index)
    }

    /// The registry id this applicant is, if known; an error sentence when
    /// the tax number and passport point at two different people.
    fn find(&self, a: &Applicant) -> Result<Option<i64>, Why> {
        let by_tax = a
            .tax_number
            .as_ref()
            .and_then(|t| self.by_tax.get(t))
            .copied();
        let by_passport = a
            .passport
            .as_ref()
            .and_then(|p| self.by_passport.get(p))
            .copied();
        match (by_tax, by_passport) {
            (Some(x), Some(y)) if x != y => Err(why!(
                "паспорт {} зареєстровано на іншу особу (соціальний номер {}), ніж РНОКПП {} (соціальний номер {})",
                "passport {} is registered to another person (social number {}) than tax number {} (social number {})",
                a.passport.as_deref().unwrap_or_default(),
                social_number(y),
                a.tax_number.as_deref().unwrap_or_default(),
                social_number(x)
            )),
            (Some(x), _) => Ok(Some(x)),
            (None, Some(y)) => match (&self.known[&y].tax_number, &a.tax_number) {
                (Some(theirs), Some(ours)) => Err(why!(
                    "паспорт {} зареєстровано на особу з РНОКПП {theirs} (соціальний номер {}), а не {ours}",
                    "passport {} is registered to a person with tax number {theirs} (social number {}), not {ours}",
                    a.passport.as_deref().unwrap_or_default(),
                    social_number(y)
                )),
                _ => Ok(Some(y)),
            },
            (None, None) => Ok(None),
        }
    }
}

const UPDATE_SQL: &str = "UPDATE people SET tax_number=?1, passport=?2, surname=?3, given_name=?4, \
    patronymic=?5, birth_date=?6, sex=?7, phone=?8, email=?9, community=?10, categories=?11, \
    chosen_category=?12, benefit_document=?13, benefit_valid_until=?14, income_pension=?15, \
    income_salary=?16, income_aid=?17, income_total=?18, documents=?19, photo=?20, \
    application_date=?21, death_date=?22, fingerprint=?23, revision=revision+1, updated_at=?24, \
    source_file=?25, source_sheet=?26, source_row=?27 WHERE id=?28";

const INSERT_SQL: &str = "INSERT INTO people (tax_number, passport, surname, given_name, \
    patronymic, birth_date, sex, phone, email, community, categories, chosen_category, \
    benefit_document, benefit_valid_until, income_pension, income_salary, income_aid, \
    income_total, documents, photo, application_date, death_date, fingerprint, created_at, \
    updated_at, source_file, source_sheet, source_row, id) VALUES \
    (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
    ?21, ?22, ?23, ?24, ?24, ?25, ?26, ?27, ?28)";

/// Stores one applicant. `Err` is a sentence for the rejects file: a key
/// conflict, or the same person twice in this run with different data.
pub fn upsert(
    tx: &Transaction,
    index: &mut Index,
    read: &Read,
    src: &Source,
    operator: &str,
    now: &str,
) -> Result<Result<Outcome, Why>, rusqlite::Error> {
    let (a, values, fp) = (&read.applicant, &read.values, read.fingerprint);
    let id = match index.find(a) {
        Ok(id) => id,
        Err(conflict) => return Ok(Err(conflict)),
    };
    if let Some(id) = id
        && let Some((place, seen_fp)) = index.seen.get(&id)
    {
        return Ok(if *seen_fp == fp {
            Ok(Outcome::Unchanged {
                social_number: social_number(id),
            })
        } else {
            Err(why!(
                "та сама особа (соціальний номер {}) є також у {place} з іншими даними; залиште один рядок",
                "the same person (social number {}) is also in {place} with different data; keep one row",
                social_number(id)
            ))
        });
    }
    let source_values = [
        Value::Text(src.file.to_string()),
        Value::Text(src.sheet.to_string()),
        Value::Integer(src.row as i64),
    ];
    let outcome = match id {
        None => {
            let id = index.next_id;
            index.next_id += 1;
            let sn = social_number(id);
            let mut stmt = tx.prepare_cached(INSERT_SQL)?;
            let extra = [
                Value::Text(format!("{fp:032x}")),
                Value::Text(now.to_string()),
                Value::Integer(id),
            ];
            stmt.execute(params_from_iter(
                values
                    .iter()
                    .chain(&extra[..2])
                    .chain(&source_values)
                    .chain(&extra[2..]),
            ))?;
            remember(index, id, a, fp);
            index.seen.insert(id, (src.place(), fp));
            Outcome::Inserted { social_number: sn }
        }
        Some(id) if index.known[&id].fingerprint == fp => {
            index.seen.insert(id, (src.place(), fp));
            Outcome::Unchanged {
                social_number: social_number(id),
            }
        }
        Some(id) => {
            let old: Vec<Value> = tx.query_row(
                &format!(
                    "SELECT {}, revision FROM people WHERE id = ?1",
                    COLUMNS.join(", ")
                ),
                [id],
                |r| (0..=COLUMNS.len()).map(|i| r.get::<_, Value>(i)).collect(),
            )?;
            let revision = match old[COLUMNS.len()] {
                Value::Integer(r) => r + 1,
                _ => 1,
            };
            let mut history = tx.prepare_cached(
                "INSERT INTO person_history (person_id, revision, field, old_value, new_value, \
                 changed_at, operator, source_file, source_sheet, source_row) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut fields = Vec::new();
            for (i, column) in COLUMNS.iter().enumerate() {
                let (before, after) = (value_text(&old[i]), value_text(&values[i]));
                if before != after {
                    fields.push(*column);
                    history.execute(params![
                        id,
                        revision,
                        column,
                        before,
                        after,
                        now,
                        operator,
                        src.file,
                        src.sheet,
                        src.row as i64
                    ])?;
                }
            }
            let mut stmt = tx.prepare_cached(UPDATE_SQL)?;
            let extra = [
                Value::Text(format!("{fp:032x}")),
                Value::Text(now.to_string()),
                Value::Integer(id),
            ];
            stmt.execute(params_from_iter(
                values
                    .iter()
                    .chain(&extra[..2])
                    .chain(&source_values)
                    .chain(&extra[2..]),
            ))?;
            let before = index.known.remove(&id).expect("known id");
            if let Some(t) = before.tax_number {
                index.by_tax.remove(&t);
            }
            if let Some(p) = before.passport {
                index.by_passport.remove(&p);
            }
            remember(index, id, a, fp);
            index.seen.insert(id, (src.place(), fp));
            Outcome::Updated {
                social_number: social_number(id),
                fields,
            }
        }
    };
    Ok(Ok(outcome))
}

fn remember(index: &mut Index, id: i64, a: &Applicant, fp: u128) {
    if let Some(t) = &a.tax_number {
        index.by_tax.insert(t.clone(), id);
    }
    if let Some(p) = &a.passport {
        index.by_passport.insert(p.clone(), id);
    }
    index.known.insert(
        id,
        Known {
            fingerprint: fp,
            tax_number: a.tax_number.clone(),
            passport: a.passport.clone(),
        },
    );
}
