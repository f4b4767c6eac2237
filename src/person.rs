//! Everything kartka stores about one resident, for the resident (K5): the
//! record, its change history, decisions, cards and their events, the taps
//! of those cards, and who accessed the data.
//!
//! Registry sections are `SELECT *`, so a column added later is exported
//! without touching this file.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rusqlite::types::ValueRef;
use serde_json::Value;

use crate::home::Home;
use crate::registry::Registry;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
    #[error(transparent)]
    Lookup(#[from] crate::eligibility::Error),
    #[error(transparent)]
    Flags(#[from] crate::flags::Error),
    #[error("{path}: cannot read the tap store: {detail}")]
    Store { path: PathBuf, detail: String },
    #[error(
        "{path}: cannot write the export: {detail}.\n  Check the folder exists and is writable; use .xlsx or .json."
    )]
    Output { path: PathBuf, detail: String },
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Registry(e) => e.exit_code(),
            Error::Taps(e) => e.exit_code(),
            Error::Lookup(e) => e.exit_code(),
            Error::Flags(e) => e.exit_code(),
            Error::Store { .. } => ExitCode::IoErr,
            Error::Output { .. } => ExitCode::CantCreate,
        }
    }
}

/// One titled table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Section {
    pub key: &'static str,
    #[serde(skip)]
    pub title_uk: &'static str,
    #[serde(skip)]
    pub title_en: &'static str,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Export {
    pub social_number: String,
    pub generated_at: String,
    pub sections: Vec<Section>,
    /// The photo file under the home's photos/ (embedded in the workbook).
    #[serde(skip)]
    pub photo: Option<PathBuf>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Written {
    pub social_number: String,
    pub out: String,
    pub sections: usize,
    pub rows: usize,
}

fn value(v: ValueRef) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => Value::from(f),
        ValueRef::Text(t) => Value::from(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::from(format!("({} bytes)", b.len())),
    }
}

fn query(
    reg: &Registry,
    (key, title_uk, title_en): (&'static str, &'static str, &'static str),
    sql: &str,
    id: i64,
) -> Result<Section, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let mut st = reg.conn().prepare(sql).map_err(err)?;
    let columns: Vec<String> = st.column_names().map(|c| c.to_string()).collect();
    let n = columns.len();
    let mut rows = Vec::new();
    let mut q = st.query([id]).map_err(err)?;
    while let Some(r) = q.next().map_err(err)? {
        rows.push(
            (0..n)
                .map(|i| r.get_ref(i).map(value))
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?,
        );
    }
    Ok(Section {
        key,
        title_uk,
        title_en,
        columns,
        rows,
    })
}

/// Gathers the export of person `id` (the registry's row id).
pub fn collect(
    home: &Home,
    reg: &Registry,
    tariffs: &[crate::tariff::Tariff],
    id: i64,
) -> Result<Export, Error> {
    let mut sections = Vec::new();
    let person = query(
        reg,
        ("person", "Особа", "Person"),
        "SELECT * FROM people WHERE id = ?1",
        id,
    )?;
    let photo = person
        .columns
        .iter()
        .position(|c| c == "photo")
        .and_then(|i| person.rows.first()?.get(i)?.as_str().map(String::from))
        .map(|name| home.photos().join(name))
        .filter(|p| p.is_file());
    // The record as field/value pairs: one row per field reads better.
    let fields = Section {
        key: person.key,
        title_uk: person.title_uk,
        title_en: person.title_en,
        columns: vec!["field".into(), "value".into()],
        rows: person
            .rows
            .first()
            .map(|row| {
                person
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| vec![Value::from(c.clone()), v.clone()])
                    .collect()
            })
            .unwrap_or_default(),
    };
    sections.push(fields);
    for (names, sql) in [
        (
            ("history", "Історія змін", "Change history"),
            "SELECT * FROM person_history WHERE person_id = ?1 ORDER BY id",
        ),
        (
            ("decisions", "Рішення", "Decisions"),
            "SELECT * FROM decisions WHERE person_id = ?1 ORDER BY id",
        ),
        (
            ("cards", "Картки", "Cards"),
            "SELECT * FROM cards WHERE person_id = ?1 ORDER BY id",
        ),
        (
            ("card_events", "Події карток", "Card events"),
            "SELECT e.* FROM card_events e JOIN cards c ON c.id = e.card_id WHERE c.person_id = ?1 ORDER BY e.id",
        ),
        (
            ("accesses", "Доступ до даних", "Accesses to the data"),
            "SELECT a.id, a.at, a.user, a.role, a.command, a.purpose, a.outcome FROM audit a \
             WHERE a.id IN (SELECT entry FROM audit_people WHERE social_number = (SELECT social_number FROM people WHERE id = ?1)) ORDER BY a.id",
        ),
    ] {
        sections.push(query(reg, names, sql, id)?);
    }
    let numbers: Vec<i64> = {
        let mut st = reg
            .conn()
            .prepare("SELECT number FROM cards WHERE person_id = ?1")
            .map_err(|e| reg.err(e))?;
        st.query_map([id], |r| r.get(0))
            .map_err(|e| reg.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| reg.err(e))?
    };
    let (taps, benefit) = taps(home, reg, tariffs, &numbers)?;
    sections.insert(sections.len() - 1, taps);
    sections.insert(sections.len() - 1, benefit);
    Ok(Export {
        social_number: crate::identity::social_number(id),
        generated_at: crate::time::now_utc_text(),
        sections,
        photo,
    })
}

/// The taps of `cards` in every month of the store, and the benefit they
/// were (K3): per Kyiv month, the trips paid (accepted and not held by a
/// flag) and what they were worth at the tariff in force.
fn taps(
    home: &Home,
    reg: &Registry,
    tariffs: &[crate::tariff::Tariff],
    cards: &[i64],
) -> Result<(Section, Section), Error> {
    let columns = [
        "tapped_at",
        "validator_id",
        "seq",
        "vehicle_id",
        "carrier_id",
        "route",
        "result",
    ];
    let mut section = Section {
        key: "taps",
        title_uk: "Поїздки",
        title_en: "Taps",
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows: Vec::new(),
    };
    let mut benefit = Section {
        key: "benefit",
        title_uk: "Пільга за місяцями",
        title_en: "Benefit by month",
        columns: ["month", "trips_paid", "trips_held", "amount_uah", "flagged"]
            .iter()
            .map(|c| c.to_string())
            .collect(),
        rows: Vec::new(),
    };
    if cards.is_empty() {
        return Ok((section, benefit));
    }
    let Some(store) = crate::taps::month::all(home, reg)? else {
        return Ok((section, benefit));
    };
    let fail = |detail: PolarsError| Error::Store {
        path: home.taps(),
        detail: detail.to_string(),
    };
    let wanted = cards
        .iter()
        .map(|n| col("card_number").eq(lit(*n)))
        .reduce(|a, b| a.or(b))
        .expect("at least one card");
    let df = store
        .filter(wanted)
        .select([
            col("tapped_at").cast(DataType::Int64),
            col("validator_id").cast(DataType::Int64),
            col("seq"),
            col("vehicle_id").cast(DataType::Int64),
            col("carrier_id").cast(DataType::Int64),
            col("route").cast(DataType::Int64),
            col("result"),
            col("tariff_zone").cast(DataType::Int64),
        ])
        .sort(["tapped_at"], SortMultipleOptions::default())
        .collect()
        .map_err(fail)?;
    let ints = |name: &str| -> Result<Vec<Option<i64>>, Error> {
        df.column(name)
            .and_then(|c| c.i64().map(|a| (0..a.len()).map(|i| a.get(i)).collect()))
            .map_err(fail)
    };
    let at = ints("tapped_at")?;
    let validator = ints("validator_id")?;
    let seq = ints("seq")?;
    let vehicle = ints("vehicle_id")?;
    let carrier = ints("carrier_id")?;
    let route = ints("route")?;
    let zone = ints("tariff_zone")?;
    let result: Vec<Option<String>> = df
        .column("result")
        .and_then(|c| {
            c.str()
                .map(|a| (0..a.len()).map(|i| a.get(i).map(String::from)).collect())
        })
        .map_err(fail)?;
    for i in 0..df.height() {
        let when = at[i]
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(crate::time::kyiv_text);
        section.rows.push(vec![
            Value::from(when),
            Value::from(validator[i]),
            Value::from(seq[i]),
            Value::from(vehicle[i]),
            Value::from(carrier[i]),
            Value::from(route[i]),
            Value::from(result[i].clone()),
        ]);
    }
    // Month → (paid, held, kopecks), and whether the month was flagged.
    let mut months: std::collections::BTreeMap<String, (i64, i64, i64, bool)> = Default::default();
    let mut held: std::collections::BTreeMap<String, rustc_hash::FxHashSet<(i32, i64)>> =
        Default::default();
    for i in 0..df.height() {
        if result[i].as_deref() != Some("accepted") {
            continue;
        }
        let Some(t) = at[i] else { continue };
        let day = crate::time::kyiv_day_of_ms(t);
        let month = day.format("%Y-%m").to_string();
        if !held.contains_key(&month) {
            held.insert(month.clone(), crate::flags::store::held(home, reg, &month)?);
            let flagged = crate::flags::store::latest_run(reg, &month)?.is_some();
            months.insert(month.clone(), (0, 0, 0, flagged));
        }
        let key = (validator[i].unwrap_or(0) as i32, seq[i].unwrap_or(0));
        let m = months.get_mut(&month).expect("inserted");
        if held[&month].contains(&key) {
            m.1 += 1;
            continue;
        }
        m.0 += 1;
        let trip = crate::tariff::Trip {
            route: route[i].unwrap_or(0) as i32,
            carrier: carrier[i].map(|c| c as i32),
            zone: zone[i].map(|z| z as i32),
        };
        m.2 += crate::tariff::price(tariffs, &trip, day).map_or(0, |p| p.kopecks);
    }
    for (month, (paid, held, kopecks, flagged)) in months {
        benefit.rows.push(vec![
            Value::from(month),
            Value::from(paid),
            Value::from(held),
            Value::from(crate::money::decimal(kopecks)),
            Value::from(flagged),
        ]);
    }
    Ok((section, benefit))
}

fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `kartka person export` as one call: the person found by any of their
/// numbers, the export recorded in the audit trail first (it is one of the
/// accesses it lists), then collected and written.
pub fn export(
    home: &Home,
    reg: &mut Registry,
    session: &crate::access::Session,
    tariffs: &[crate::tariff::Tariff],
    key: &str,
    out: &Path,
    lang: crate::lang::Lang,
) -> Result<Written, Error> {
    let id = crate::eligibility::find_person(reg, key)?;
    let sn = crate::identity::social_number(id);
    session.record(
        reg,
        crate::audit::Outcome::Exported,
        std::slice::from_ref(&sn),
        &format!("everything stored about the person → {}", out.display()),
    )?;
    let export = collect(home, reg, tariffs, id)?;
    write(&export, out, lang)
}

/// Who accessed a person's data (`kartka audit person`).
#[derive(Debug, serde::Serialize)]
pub struct Accesses {
    pub social_number: String,
    pub entries: Vec<crate::audit::Entry>,
}

/// The audit trail's entries about the person any of their numbers name;
/// reading them is itself an access, recorded before they are handed back.
pub fn accesses(
    reg: &mut Registry,
    session: &crate::access::Session,
    key: &str,
) -> Result<Accesses, Error> {
    let id = crate::eligibility::find_person(reg, key)?;
    let social_number = crate::identity::social_number(id);
    let entries = crate::audit::person(reg, &social_number)?;
    session.record(
        reg,
        crate::audit::Outcome::Shown,
        std::slice::from_ref(&social_number),
        "who accessed this person's data",
    )?;
    Ok(Accesses {
        social_number,
        entries,
    })
}

/// Writes the export as .xlsx (one sheet per section, titles in `lang`,
/// the photo on the first sheet) or .json; readable by its owner only.
pub fn write(export: &Export, out: &Path, lang: crate::lang::Lang) -> Result<Written, Error> {
    let fail = |detail: String| Error::Output {
        path: out.to_path_buf(),
        detail,
    };
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let bytes = match ext.as_str() {
        "json" => serde_json::to_vec_pretty(export).map_err(|e| fail(e.to_string()))?,
        "xlsx" => workbook(export, lang).map_err(|e| fail(e.to_string()))?,
        other => return Err(fail(format!("'.{other}' is not .xlsx or .json"))),
    };
    crate::private::write(out, &bytes).map_err(|e| fail(e.to_string()))?;
    Ok(Written {
        social_number: export.social_number.clone(),
        out: out.display().to_string(),
        sections: export.sections.len(),
        rows: export.sections.iter().map(|s| s.rows.len()).sum(),
    })
}

fn workbook(
    export: &Export,
    lang: crate::lang::Lang,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Image, Workbook};
    let uk = lang == crate::lang::Lang::Uk;
    let mut book = Workbook::new();
    let f = crate::xlsx::formats();
    for (n, s) in export.sections.iter().enumerate() {
        let sheet = book.add_worksheet();
        sheet.set_name(if uk { s.title_uk } else { s.title_en })?;
        sheet.write_string_with_format(
            0,
            0,
            format!(
                "{} {} — {}",
                if uk {
                    "Соціальний номер"
                } else {
                    "Social number"
                },
                export.social_number,
                if uk { s.title_uk } else { s.title_en }
            ),
            &f.bold,
        )?;
        // Every stored value as it is: numbers as numbers, the rest as text
        // (ids and codes are not added up: no totals row).
        let table = crate::xlsx::Table {
            headers: s.columns.clone(),
            rows: s
                .rows
                .iter()
                .map(|row| {
                    row.iter()
                        .map(|v| match v {
                            Value::Number(x) if x.is_i64() => {
                                crate::xlsx::Val::Figure(x.as_i64().unwrap_or_default())
                            }
                            other => crate::xlsx::Val::Text(cell_text(other)),
                        })
                        .collect()
                })
                .collect(),
            total: None,
        };
        crate::xlsx::table(sheet, &f, 2, &table, false)?;
        if s.rows.is_empty() {
            sheet.write_string(3, 0, lang.t("(немає записів)", "(none)"))?;
        }
        crate::xlsx::print(
            sheet,
            lang.t(s.title_uk, s.title_en),
            &export.social_number,
            lang,
        );
        if n == 0
            && let Some(photo) = &export.photo
            && let Ok(img) = Image::new(photo)
        {
            sheet.insert_image_fit_to_cell(
                2,
                3,
                &img.set_scale_width(0.5).set_scale_height(0.5),
                false,
            )?;
        }
    }
    book.save_to_buffer()
}
