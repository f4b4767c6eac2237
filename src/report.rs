//! Period reports (P19, P18): validations between two Kyiv dates, grouped
//! by validator, card, route, carrier, community or category, with the
//! trips held by flags and the paid amount at the tariff, in kopecks.
//!
//! One polars pass over the months the period touches, a bounded chunk at
//! a time (`taps::month::count_chunked`): accepted taps in the period and
//! the account's scope, joined with each month's held taps and with the
//! registry's cards, counted by the key and by what prices a trip
//! (carrier, route, zone, Kyiv day), with each key's distinct cards in a
//! bitmap (`taps::month::CardsPerKey`); each group is priced in Rust by the
//! one pricing function.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::access::Scope;
use crate::config::Config;
use crate::home::Home;
use crate::money;
use crate::registry::Registry;
use crate::taps::month::{CardFrame, CardsPerKey, held_frame};
use crate::tariff::Trip;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Validator,
    Card,
    Route,
    Carrier,
    Community,
    Category,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    Count,
    Amount,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "--from {from} is after --to {to}.\n  Give the first and the last day of the period (Kyiv dates)."
    )]
    Period { from: NaiveDate, to: NaiveDate },
    #[error(
        "no taps stored between {from} and {to}.\n  See the months the store holds: kartka taps months"
    )]
    NoTaps { from: NaiveDate, to: NaiveDate },
    #[error(
        "{path}: cannot write the report: {detail}.\n  Use .xlsx or .csv, in a folder that exists and is writable."
    )]
    Output { path: PathBuf, detail: String },
    #[error("the tap store: {0}")]
    Polars(String),
    #[error(transparent)]
    Compensation(#[from] crate::compensation::Error),
    #[error("{0}; nothing was written")]
    Money(#[from] crate::money::Overflow),
    #[error(transparent)]
    Flags(#[from] crate::flags::Error),
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Period { .. } => ExitCode::Usage,
            Error::NoTaps { .. } => ExitCode::NoInput,
            Error::Output { .. } => ExitCode::CantCreate,
            Error::Polars(_) => ExitCode::Software,
            Error::Money(_) => ExitCode::Config,
            Error::Compensation(e) => e.exit_code(),
            Error::Flags(e) => e.exit_code(),
            Error::Taps(e) => e.exit_code(),
            Error::Registry(e) => e.exit_code(),
        }
    }
}

fn polars(e: PolarsError) -> Error {
    Error::Polars(e.to_string())
}

/// One group of the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Row {
    pub key: String,
    /// The carrier's, community's or category's name; the holder's for a
    /// card when the account may see names.
    pub name: String,
    pub validations: i64,
    /// Of those, held by a flag nobody cleared (not paid).
    pub held: i64,
    /// What the held ones would have been paid, at the tariff.
    pub held_kopecks: i64,
    pub amount_kopecks: i64,
    /// Distinct cards: for a community, the residents it carried (P18).
    pub cards: i64,
    /// The benefit per beneficiary: the amount paid over the distinct
    /// cards (K3), in kopecks.
    pub per_card_kopecks: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub social_number: Option<String>,
    #[serde(skip)]
    pub photo: Option<PathBuf>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: By,
    pub sort: Sort,
    pub scope: Scope,
    pub names: bool,
    pub rows: Vec<Row>,
    pub validations: i64,
    pub held: i64,
    pub held_kopecks: i64,
    pub amount_kopecks: i64,
    /// Months of the period with no flag run: nothing is held there.
    pub unflagged_months: Vec<String>,
    /// Trips no tariff covers: counted, priced at 0.
    pub unpriced: i64,
}

pub struct Options {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: By,
    pub sort: Sort,
    pub scope: Scope,
    /// Holders' names and photos (`--by card`, for accounts that may see them).
    pub names: bool,
}

/// What becomes of a report: its first `limit` rows, written to `out`.
pub struct Delivery<'a> {
    pub limit: Option<usize>,
    pub out: Option<&'a Path>,
    pub lang: crate::lang::Lang,
}

/// `kartka report` as one call: the report for `session`, cut to its
/// limit; a report with holders' names is recorded in the audit trail
/// before it is returned or written.
pub fn deliver(
    home: &Home,
    reg: &mut Registry,
    config: &Config,
    session: &crate::access::Session,
    o: &Options,
    d: &Delivery<'_>,
) -> Result<Report, Error> {
    let mut r = run(home, reg, config, o)?;
    if let Some(n) = d.limit {
        r.rows.truncate(n);
    }
    if r.names {
        let people: Vec<String> = r
            .rows
            .iter()
            .filter_map(|x| x.social_number.clone())
            .collect();
        let (outcome, detail) = match d.out {
            Some(p) => (
                crate::audit::Outcome::Exported,
                format!("card report with names and photos → {}", p.display()),
            ),
            None => (
                crate::audit::Outcome::Shown,
                "card report with names".to_string(),
            ),
        };
        session.record(reg, outcome, &people, &detail)?;
    }
    if let Some(out) = d.out {
        write(&r, out, d.lang)?;
    }
    Ok(r)
}

fn months(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    use chrono::Datelike;
    let mut m = from.with_day(1).expect("day 1");
    let mut out = Vec::new();
    while m <= to {
        out.push(m);
        m = m
            .checked_add_months(chrono::Months::new(1))
            .expect("in range");
    }
    out
}

pub fn run(home: &Home, reg: &Registry, config: &Config, o: &Options) -> Result<Report, Error> {
    if o.from > o.to {
        return Err(Error::Period {
            from: o.from,
            to: o.to,
        });
    }
    let lo = crate::time::kyiv_midnight_ms(o.from);
    let hi = crate::time::kyiv_midnight_ms(o.to + chrono::Days::new(1));
    let mut chunks = Vec::new();
    let mut held: FxHashSet<(i32, i64)> = FxHashSet::default();
    let mut unflagged = Vec::new();
    for first in months(o.from, o.to) {
        let month = first.format("%Y-%m").to_string();
        let month_chunks =
            crate::taps::month::accepted(home, reg, first, crate::taps::month::MONEY_CHUNK)?;
        if month_chunks.is_empty() {
            continue;
        }
        if crate::flags::store::latest_run(reg, &month)?.is_some() {
            held.extend(crate::flags::store::held(home, reg, &month)?);
        } else {
            unflagged.push(month);
        }
        chunks.extend(month_chunks);
    }
    if chunks.is_empty() {
        return Err(Error::NoTaps {
            from: o.from,
            to: o.to,
        });
    }
    // The account's carriers and routes only (`access::scope`).
    let scope_filter = o.scope.tap_filter();
    // The registry's cards only where the key is theirs.
    let card_frame = matches!(o.by, By::Community | By::Category)
        .then(|| CardFrame::load(reg))
        .transpose()?;
    let key = match o.by {
        By::Validator => col("validator_id"),
        By::Card => col("card_number"),
        By::Route => col("route").cast(DataType::Int64),
        By::Carrier => col("carrier_id").cast(DataType::Int64),
        By::Community => col("_com").cast(DataType::Int64),
        By::Category => col("_cat").cast(DataType::Int64),
    }
    .fill_null(lit(-1i64))
    .alias("_k");
    let held_df = held_frame(&held).map_err(polars)?;
    // Per chunk: the period's taps in scope, held or not, with their key;
    // counted per (key, carrier, route, zone, Kyiv day, held) to be priced,
    // and each key's distinct cards gathered.
    let mut cards_per_key = CardsPerKey::default();
    let counted = crate::taps::month::count_chunked_with(
        chunks,
        |lf| {
            let mut lf = lf.filter(col("t").gt_eq(lit(lo)).and(col("t").lt(lit(hi))));
            if let Some(f) = &scope_filter {
                lf = lf.filter(f.clone());
            }
            lf = lf.left_join(held_df.clone().lazy(), col("_key"), col("_key"));
            if let Some(f) = &card_frame {
                lf = lf.left_join(
                    f.cards.clone().lazy(),
                    col("card_number"),
                    col("card_number"),
                );
            }
            lf.select([
                key.clone(),
                col("card_number"),
                col("carrier_id"),
                col("route"),
                col("tariff_zone"),
                col("_day"),
                col("_held").fill_null(lit(false)),
            ])
        },
        &[&["_k", "carrier_id", "route", "tariff_zone", "_day", "_held"]],
        &mut |df| cards_per_key.add(df, "_k", "card_number"),
    )
    .map_err(polars)?;
    let cells = &counted[0];

    // Each (trip, Kyiv day) priced once, by the one pricing function.
    let mut fares: FxHashMap<(Trip, chrono::NaiveDate), Option<i64>> = FxHashMap::default();
    let mut rows: BTreeMap<i64, Row> = BTreeMap::new();
    let mut unpriced = 0;
    let mut total = 0i64;
    {
        let c = |n: &str| cells.column(n).map_err(polars);
        let k = c("_k")?.i64().map_err(polars)?;
        let carrier = c("carrier_id")?.i32().map_err(polars)?;
        let route = c("route")?.i32().map_err(polars)?;
        let zone = c("tariff_zone")?.i32().map_err(polars)?;
        let day = c("_day")?.i64().map_err(polars)?;
        let is_held = c("_held")?.bool().map_err(polars)?;
        let n = c("n")?.i64().map_err(polars)?;
        for i in 0..cells.height() {
            // `_day` is a Kyiv midnight as wall-clock milliseconds.
            let date = chrono::DateTime::from_timestamp_millis(day.get(i).unwrap_or(0))
                .map(|t| t.date_naive())
                .unwrap_or(o.from);
            let trip = Trip {
                route: route.get(i).unwrap_or(0),
                carrier: carrier.get(i),
                zone: zone.get(i),
            };
            let fare = *fares.entry((trip, date)).or_insert_with(|| {
                crate::tariff::price(&config.tariffs, &trip, date).map(|p| p.kopecks)
            });
            let trips = n.get(i).unwrap_or(0);
            let row = rows.entry(k.get(i).unwrap_or(-1)).or_default();
            row.validations += trips;
            let kopecks = money::times(trips, fare.unwrap_or(0))?;
            // The grand total is checked: every row's sum is within it.
            total = money::add(total, kopecks)?;
            if is_held.get(i).unwrap_or(false) {
                row.held += trips;
                row.held_kopecks += kopecks;
            } else {
                row.amount_kopecks += kopecks;
                if fare.is_none() {
                    unpriced += trips;
                }
            }
        }
        for (k, row) in rows.iter_mut() {
            row.cards = cards_per_key.count(*k);
            if row.cards > 0 {
                row.per_card_kopecks = row.amount_kopecks / row.cards;
            }
        }
    }
    let carriers = crate::fleet::carrier_names(reg)?;
    let holders = if o.names && o.by == By::Card {
        holder_names(home, reg)?
    } else {
        Default::default()
    };
    let mut list: Vec<Row> = rows
        .into_iter()
        .map(|(k, mut row)| {
            let pick = |list: &[String]| list.get(k as usize).cloned().unwrap_or_default();
            (row.key, row.name) = match o.by {
                _ if k < 0 => ("—".into(), "(unknown)".into()),
                By::Validator | By::Route => (k.to_string(), String::new()),
                By::Carrier => (k.to_string(), carriers.get(&k).cloned().unwrap_or_default()),
                By::Community => {
                    let code = card_frame
                        .as_ref()
                        .map(|f| pick(&f.communities))
                        .unwrap_or_default();
                    let name = config
                        .communities
                        .iter()
                        .find(|c| c.code == code)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    (code, name)
                }
                By::Category => {
                    let code = card_frame
                        .as_ref()
                        .map(|f| pick(&f.categories))
                        .unwrap_or_default();
                    let name = config
                        .category(&code)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    (code, name)
                }
                By::Card => (k.to_string(), String::new()),
            };
            if let Some((social, name, photo)) = holders.get(&k) {
                row.name = name.clone();
                row.social_number = Some(social.clone());
                row.photo = photo.clone();
            }
            row
        })
        .collect();
    match o.sort {
        Sort::Count => {
            list.sort_by(|a, b| b.validations.cmp(&a.validations).then(a.key.cmp(&b.key)))
        }
        Sort::Amount => list.sort_by(|a, b| {
            b.amount_kopecks
                .cmp(&a.amount_kopecks)
                .then(a.key.cmp(&b.key))
        }),
    }
    Ok(Report {
        from: o.from,
        to: o.to,
        by: o.by,
        sort: o.sort,
        scope: o.scope.clone(),
        names: o.names && o.by == By::Card,
        validations: list.iter().map(|r| r.validations).sum(),
        held: list.iter().map(|r| r.held).sum(),
        held_kopecks: money::sum(list.iter().map(|r| r.held_kopecks))?,
        amount_kopecks: money::sum(list.iter().map(|r| r.amount_kopecks))?,
        rows: list,
        unflagged_months: unflagged,
        unpriced,
    })
}

type Holder = (String, String, Option<PathBuf>);

/// Card number → (social number, full name, photo file).
fn holder_names(home: &Home, reg: &Registry) -> Result<BTreeMap<i64, Holder>, Error> {
    let mut st = reg
        .conn()
        .prepare(
            "SELECT c.number, p.social_number, p.surname || ' ' || p.given_name || coalesce(' ' || p.patronymic, ''), p.photo
             FROM cards c JOIN people p ON p.id = c.person_id",
        )
        .map_err(|e| reg.err(e))?;
    let rows = st
        .query_map([], |r| {
            let photo: Option<String> = r.get(3)?;
            Ok((
                r.get::<_, i64>(0)?,
                (
                    r.get(1)?,
                    r.get(2)?,
                    photo.map(|p| home.photos().join(p)).filter(|p| p.is_file()),
                ),
            ))
        })
        .map_err(|e| reg.err(e))?
        .collect::<Result<_, _>>()
        .map_err(|e| reg.err(e))?;
    Ok(rows)
}

struct Labels {
    key: &'static str,
    name: &'static str,
    validations: &'static str,
    held: &'static str,
    paid: &'static str,
    held_amount: &'static str,
    amount: &'static str,
    cards: &'static str,
    per_card: &'static str,
    social: &'static str,
    photo: &'static str,
    total: &'static str,
    title: &'static str,
}

fn labels(by: By, uk: bool) -> Labels {
    let key = match (by, uk) {
        (By::Validator, true) => "Валідатор",
        (By::Card, true) => "Картка",
        (By::Route, true) => "Маршрут",
        (By::Carrier, true) => "Перевізник",
        (By::Community, true) => "Громада (КАТОТТГ)",
        (By::Category, true) => "Категорія",
        (By::Validator, false) => "Validator",
        (By::Card, false) => "Card",
        (By::Route, false) => "Route",
        (By::Carrier, false) => "Carrier",
        (By::Community, false) => "Community (KATOTTH)",
        (By::Category, false) => "Category",
    };
    if uk {
        Labels {
            key,
            name: "Назва / власник",
            validations: "Валідації",
            held: "Затримано",
            paid: "До оплати, поїздок",
            held_amount: "Утримано, грн",
            amount: "Сума, грн",
            cards: "Карток (пасажирів)",
            per_card: "На пасажира, грн",
            social: "Соціальний номер",
            photo: "Фото",
            total: "Разом",
            title: "Звіт про валідації",
        }
    } else {
        Labels {
            key,
            name: "Name / holder",
            validations: "Validations",
            held: "Held",
            paid: "Paid trips",
            held_amount: "Held, UAH",
            amount: "Amount, UAH",
            cards: "Cards (passengers)",
            per_card: "Per passenger, UAH",
            social: "Social number",
            photo: "Photo",
            total: "Total",
            title: "Validations report",
        }
    }
}

/// Writes the report as .xlsx (with photos for a card report with names)
/// or .csv; a report with names is readable by its owner only.
pub fn write(report: &Report, out: &Path, lang: crate::lang::Lang) -> Result<(), Error> {
    let fail = |detail: String| Error::Output {
        path: out.to_path_buf(),
        detail,
    };
    let l = labels(report.by, lang == crate::lang::Lang::Uk);
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mut header = vec![l.key, l.name];
    if report.names {
        header.push(l.social);
    }
    header.extend([
        l.validations,
        l.held,
        l.paid,
        l.held_amount,
        l.amount,
        l.cards,
        l.per_card,
    ]);
    let bytes = match ext.as_str() {
        "csv" => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut write = || -> Result<(), csv::Error> {
                w.write_record(&header)?;
                for r in &report.rows {
                    let mut rec = vec![r.key.clone(), r.name.clone()];
                    if report.names {
                        rec.push(r.social_number.clone().unwrap_or_default());
                    }
                    rec.extend([
                        r.validations.to_string(),
                        r.held.to_string(),
                        (r.validations - r.held).to_string(),
                        crate::money::decimal(r.held_kopecks),
                        crate::money::decimal(r.amount_kopecks),
                        r.cards.to_string(),
                        crate::money::decimal(r.per_card_kopecks),
                    ]);
                    w.write_record(crate::text::csv_row(&rec))?;
                }
                w.flush()?;
                Ok(())
            };
            write().map_err(|e| fail(e.to_string()))?;
            w.into_inner().map_err(|e| fail(e.to_string()))?
        }
        "xlsx" => workbook(report, &l, &header, lang).map_err(|e| fail(e.to_string()))?,
        other => return Err(fail(format!("'.{other}' is not .xlsx or .csv"))),
    };
    let mode = if report.names {
        crate::private::Mode::Private
    } else {
        crate::private::Mode::Public
    };
    crate::private::write_mode(out, &bytes, mode).map_err(|e| fail(e.to_string()))
}

fn workbook(
    report: &Report,
    l: &Labels,
    header: &[&str],
    lang: crate::lang::Lang,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::xlsx::{Table, Val};
    use rust_xlsxwriter::{Image, Workbook};
    let mut book = Workbook::new();
    let f = crate::xlsx::formats();
    let sheet = book.add_worksheet();
    sheet.set_name(lang.t("Звіт", "Report"))?;
    let period = format!(
        "{} — {} {}",
        report.from.format("%d.%m.%Y"),
        report.to.format("%d.%m.%Y"),
        lang.t("(за київським часом)", "(Kyiv time)")
    );
    sheet.write_string_with_format(0, 0, format!("{}: {period}", l.title), &f.bold)?;
    let rows = report
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![Val::Text(r.key.clone()), Val::Text(r.name.clone())];
            if report.names {
                row.push(Val::Text(r.social_number.clone().unwrap_or_default()));
            }
            row.extend([
                Val::Int(r.validations),
                Val::Int(r.held),
                Val::Int(r.validations - r.held),
                Val::Money(r.held_kopecks),
                Val::Money(r.amount_kopecks),
                // Distinct cards do not add up across groups.
                Val::Figure(r.cards),
                // Nor do the amounts per card.
                Val::MoneyFigure(r.per_card_kopecks),
            ]);
            row
        })
        .collect();
    let table = Table {
        headers: header.iter().map(|h| h.to_string()).collect(),
        rows,
        total: Some(l.total.to_string()),
    };
    let first = 2u32;
    crate::xlsx::table(sheet, &f, first, &table, true)?;
    // Holders' photos, beside their rows (a card report with names).
    let photo_col = header.len() as u16;
    if report.names && report.rows.iter().any(|r| r.photo.is_some()) {
        sheet.write_string_with_format(first, photo_col, l.photo, &f.header)?;
        sheet.set_column_width(photo_col, 12)?;
        for (i, r) in report.rows.iter().enumerate() {
            let row = first + 1 + i as u32;
            if let Some(p) = &r.photo
                && let Ok(img) = Image::new(p)
            {
                sheet.set_row_height(row, 60)?;
                sheet.insert_image_fit_to_cell(row, photo_col, &img, true)?;
            }
        }
    }
    crate::xlsx::print(sheet, l.title, &period, lang);
    book.save_to_buffer()
}
