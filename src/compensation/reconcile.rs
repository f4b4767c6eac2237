//! `kartka reconcile`: a carrier's own monthly report against the trips
//! the system counted (P17). The report is a spreadsheet (.xlsx, .ods,
//! .xls or .csv) with one row per route and day and four columns, found by
//! their headers (Ukrainian or English): route (Маршрут), day (Дата),
//! trips claimed (Поїздки), amount claimed in UAH (Сума, грн). A totals row
//! (Усього / Разом / Total) is skipped. The result is a discrepancy
//! workbook by route and day (claimed, counted, held, difference) with a
//! summary, and whether the two match within `[reconcile]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::Data;
use chrono::NaiveDate;
use rust_xlsxwriter::XlsxError;

use super::Error;
use super::count::Month;
use super::workbook::{Books, Table, Val, Written, formats, print, t, table};
use crate::intake::cells;

pub use super::settings::Tolerance;

/// One row of a carrier's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub route: i32,
    pub day: NaiveDate,
    pub trips: i64,
    pub kopecks: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    Route,
    Day,
    Trips,
    Amount,
}

fn column_of(header: &str) -> Option<Col> {
    let h = header.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| h.contains(w));
    if has(&["сума", "amount", "грн", "uah"]) {
        Some(Col::Amount)
    } else if has(&["поїзд", "trip", "перевез"]) {
        Some(Col::Trips)
    } else if has(&["дата", "день", "date", "day"]) {
        Some(Col::Day)
    } else if has(&["маршрут", "route"]) {
        Some(Col::Route)
    } else {
        None
    }
}

/// Reads a carrier's report. Every problem is listed (sheet row and
/// column); any problem refuses the whole report.
pub fn read_report(path: &Path, month: &Month) -> Result<Vec<Claim>, Error> {
    let report = |message: String| Error::Report {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Missing {
            path: path.to_path_buf(),
        },
        _ => report(format!("cannot read: {e}")),
    })?;
    let (_, sheets) = crate::intake::read::open(path, bytes).map_err(|e| report(e.to_string()))?;
    let sheet = sheets.first().ok_or_else(|| {
        report("the file has no sheet.\n  Give the carrier's monthly report.".into())
    })?;
    let head = sheet.head();
    let (r0, c0) = sheet.origin();
    let mut found: Option<(usize, BTreeMap<usize, Col>)> = None;
    for (i, row) in head.iter().enumerate() {
        let cols: BTreeMap<usize, Col> = row
            .iter()
            .enumerate()
            .filter_map(|(c, d)| column_of(&cells::text(d)).map(|k| (c, k)))
            .collect();
        let kinds: std::collections::BTreeSet<_> = cols.values().map(|k| *k as u8).collect();
        if kinds.len() == 4 {
            found = Some((i, cols));
            break;
        }
    }
    let Some((header, cols)) = found else {
        return Err(report(format!(
            "sheet {:?}: no header row with the four columns route (Маршрут), day (Дата), trips (Поїздки) and amount (Сума, грн) in its first {} rows.\n  Use the documented form: commands/compensation.md.",
            sheet.name,
            crate::intake::read::HEAD_ROWS
        )));
    };
    let at = |k: Col| {
        cols.iter()
            .find(|(_, v)| **v == k)
            .map(|(c, _)| *c)
            .unwrap_or(0)
    };
    let (cr, cd, ct, ca) = (
        at(Col::Route),
        at(Col::Day),
        at(Col::Trips),
        at(Col::Amount),
    );
    let letter = |c: usize| super::workbook::col_name((c0 + c) as u16);
    let last = month.first + chrono::Days::new(u64::from(month.days) - 1);
    let mut claims: Vec<Claim> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut seen: BTreeMap<(i32, NaiveDate), usize> = BTreeMap::new();
    // The amounts' absolute sum so far: past `money::MAX_SUM` is a problem
    // of the report, never a wrapped total.
    let mut claimed = 0i64;
    let today = crate::time::today_kyiv();
    let read = sheet.for_each_row(header + 1, &mut |i, row| {
        let line = r0 + i + 1;
        let cell = |c: usize| row.get(c).cloned().unwrap_or(Data::Empty);
        if row.iter().all(cells::is_blank) {
            return true;
        }
        let first = cells::text(&cell(cr)).to_lowercase();
        if ["усього", "разом", "всього", "total"]
            .iter()
            .any(|w| first.starts_with(w))
        {
            return true;
        }
        let mut bad = |c: usize, what: String| {
            problems.push(format!("row {line}, column {}: {what}", letter(c)))
        };
        let route = match cells::text(&cell(cr)).parse::<i32>() {
            Ok(r) => Some(r),
            Err(_) => {
                bad(
                    cr,
                    format!("route {:?} is not a route number", cells::text(&cell(cr))),
                );
                None
            }
        };
        let day = match cells::date(&cell(cd), cells::DateKind::Any, today) {
            Ok(d) if d >= month.first && d <= last => Some(d),
            Ok(d) => {
                bad(
                    cd,
                    format!("{} is outside {}", d.format("%d.%m.%Y"), month.month),
                );
                None
            }
            Err(w) => {
                bad(cd, w.en);
                None
            }
        };
        let trips = match &cell(ct) {
            Data::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f <= MAX_TRIPS as f64 => {
                Some(*f as i64)
            }
            Data::Int(n) if (0..=MAX_TRIPS).contains(n) => Some(*n),
            other => match cells::text(other).replace(' ', "").parse::<i64>() {
                Ok(n) if (0..=MAX_TRIPS).contains(&n) => Some(n),
                _ => {
                    bad(
                        ct,
                        format!(
                            "trips {:?} is not a whole number of trips",
                            cells::text(other)
                        ),
                    );
                    None
                }
            },
        };
        let kopecks = match cells::kopecks(&cell(ca)) {
            Ok(Some(k)) if k.unsigned_abs() > crate::money::MAX_AMOUNT.unsigned_abs() => {
                bad(
                    ca,
                    format!(
                        "the amount {} is more than kartka accepts ({})",
                        crate::money::uah(k),
                        crate::money::uah(crate::money::MAX_AMOUNT)
                    ),
                );
                None
            }
            Ok(Some(k)) => Some(k),
            Ok(None) => {
                bad(ca, "the amount is empty".into());
                None
            }
            Err(w) => {
                bad(ca, w.en);
                None
            }
        };
        let kopecks = kopecks.filter(|k| match crate::money::add(claimed, k.abs()) {
            Ok(total) => {
                claimed = total;
                true
            }
            Err(e) => {
                bad(ca, e.to_string());
                false
            }
        });
        if let (Some(route), Some(day), Some(trips), Some(kopecks)) = (route, day, trips, kopecks) {
            if let Some(before) = seen.insert((route, day), line) {
                problems.push(format!(
                    "row {line}: route {route} on {} is already on row {before}",
                    day.format("%d.%m.%Y")
                ));
            }
            claims.push(Claim {
                route,
                day,
                trips,
                kopecks,
            });
        }
        true
    });
    read.map_err(report)?;
    if !problems.is_empty() {
        let n = problems.len();
        let shown: Vec<String> = problems
            .into_iter()
            .take(20)
            .map(|p| format!("  {p}"))
            .collect();
        return Err(report(format!(
            "{n} problem(s) in the carrier's report; nothing was compared:\n{}{}",
            shown.join("\n"),
            if n > 20 { "\n  …" } else { "" }
        )));
    }
    Ok(claims)
}

/// The most trips a report's row may claim for a route and day; with
/// amounts bounded by `money::MAX_AMOUNT`, a report's sums stay inside an
/// `i64` for any number of rows a sheet can hold.
const MAX_TRIPS: i64 = 1_000_000_000;

/// One route and day, both sides.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Line {
    pub route: i32,
    pub day: String,
    pub claimed_trips: i64,
    pub counted_trips: i64,
    pub held_trips: i64,
    pub claimed_kopecks: i64,
    pub counted_kopecks: i64,
}

impl Line {
    pub fn trips_diff(&self) -> i64 {
        self.claimed_trips - self.counted_trips
    }
    pub fn kopecks_diff(&self) -> i64 {
        self.claimed_kopecks - self.counted_kopecks
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub month: String,
    pub carrier: String,
    pub lines: Vec<Line>,
    pub claimed_trips: i64,
    pub counted_trips: i64,
    pub held_trips: i64,
    pub claimed_kopecks: i64,
    pub counted_kopecks: i64,
    /// Route-days that differ by more than the tolerance.
    pub differing: usize,
    pub matches: bool,
    pub out: Option<PathBuf>,
}

/// Compares `claims` with what `month` counted for `carrier`.
pub fn compare(month: &Month, carrier: Option<i32>, claims: &[Claim], tol: &Tolerance) -> Outcome {
    let mut lines: BTreeMap<(i32, NaiveDate), Line> = BTreeMap::new();
    let blank = |route: i32, day: NaiveDate| Line {
        route,
        day: day.format("%d.%m.%Y").to_string(),
        ..Line::default()
    };
    for c in month.cells.iter().filter(|c| c.carrier == carrier) {
        let l = lines
            .entry((c.route, c.day))
            .or_insert_with(|| blank(c.route, c.day));
        if c.held {
            l.held_trips += c.trips;
        } else {
            l.counted_trips += c.trips;
            l.counted_kopecks += c.amount();
        }
    }
    for c in claims {
        let l = lines
            .entry((c.route, c.day))
            .or_insert_with(|| blank(c.route, c.day));
        l.claimed_trips += c.trips;
        l.claimed_kopecks += c.kopecks;
    }
    let lines: Vec<Line> = lines.into_values().collect();
    let sum = |f: fn(&Line) -> i64| lines.iter().map(f).sum::<i64>();
    let (claimed_trips, counted_trips, held_trips) = (
        sum(|l| l.claimed_trips),
        sum(|l| l.counted_trips),
        sum(|l| l.held_trips),
    );
    let (claimed_kopecks, counted_kopecks) =
        (sum(|l| l.claimed_kopecks), sum(|l| l.counted_kopecks));
    let tt = i64::from(tol.tolerance_trips);
    let differing = lines.iter().filter(|l| l.trips_diff().abs() > tt).count();
    let matches = differing == 0
        && (claimed_trips - counted_trips).abs() <= tt
        && (claimed_kopecks - counted_kopecks).unsigned_abs() <= tol.tolerance_kopecks;
    Outcome {
        month: month.month.clone(),
        carrier: String::new(),
        lines,
        claimed_trips,
        counted_trips,
        held_trips,
        claimed_kopecks,
        counted_kopecks,
        differing,
        matches,
        out: None,
    }
}

/// The discrepancy workbook: a summary, the route-days that differ, and
/// every route-day.
pub fn write(
    books: &Books<'_>,
    o: &Outcome,
    carrier_name: &str,
    report: &Path,
    path: &Path,
) -> Result<Written, Error> {
    let lang = books.lang;
    let f = formats();
    let title = format!(
        "{} {}: {}",
        t(
            lang,
            "Звірка звіту перевізника,",
            "Carrier report reconciliation,"
        ),
        o.month,
        carrier_name
    );
    let mut wb = books.new_book(&title);
    let x = |e: XlsxError| Error::Output {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let period = books.period();
    {
        let ws = wb.add_worksheet();
        ws.set_name(t(lang, "Підсумок", "Summary")).map_err(x)?;
        let verdict = if o.matches {
            t(
                lang,
                "збігається в межах допуску",
                "matches within the tolerance",
            )
        } else {
            t(lang, "НЕ збігається", "does NOT match")
        };
        let tb = Table {
            headers: vec![
                t(lang, "Показник", "Figure").into(),
                t(lang, "Поїздки", "Trips").into(),
                t(lang, "Сума, грн", "Amount, UAH").into(),
            ],
            rows: vec![
                vec![
                    Val::Text(t(lang, "Заявлено перевізником", "Claimed by the carrier").into()),
                    Val::Int(o.claimed_trips),
                    Val::Money(o.claimed_kopecks),
                ],
                vec![
                    Val::Text(t(lang, "Враховано системою", "Counted by the system").into()),
                    Val::Int(o.counted_trips),
                    Val::Money(o.counted_kopecks),
                ],
                vec![
                    Val::Text(t(lang, "Утримано позначками", "Held by flags").into()),
                    Val::Int(o.held_trips),
                    Val::Text(String::new()),
                ],
                vec![
                    Val::Text(
                        t(
                            lang,
                            "Різниця (заявлено − враховано)",
                            "Difference (claimed − counted)",
                        )
                        .into(),
                    ),
                    Val::Int(o.claimed_trips - o.counted_trips),
                    Val::Money(o.claimed_kopecks - o.counted_kopecks),
                ],
                vec![
                    Val::Text(
                        t(
                            lang,
                            "Днів і маршрутів з розбіжністю",
                            "Route-days that differ",
                        )
                        .into(),
                    ),
                    Val::Int(o.differing as i64),
                    Val::Text(String::new()),
                ],
                vec![
                    Val::Text(t(lang, "Висновок", "Verdict").into()),
                    Val::Text(verdict.into()),
                    Val::Text(String::new()),
                ],
                vec![
                    Val::Text(t(lang, "Звіт перевізника", "Carrier's report").into()),
                    Val::Text(report.display().to_string()),
                    Val::Text(String::new()),
                ],
            ],
            total: None,
        };
        table(ws, &f, 0, &tb, true).map_err(x)?;
        ws.set_column_width(0, 40).map_err(x)?;
        print(ws, &title, &period, lang);
    }
    let headers = || -> Vec<String> {
        vec![
            t(lang, "Маршрут", "Route").into(),
            t(lang, "Дата", "Date").into(),
            t(lang, "Заявлено поїздок", "Trips claimed").into(),
            t(lang, "Враховано поїздок", "Trips counted").into(),
            t(lang, "Утримано", "Held").into(),
            t(lang, "Різниця поїздок", "Trips difference").into(),
            t(lang, "Заявлено, грн", "Claimed, UAH").into(),
            t(lang, "Враховано, грн", "Counted, UAH").into(),
            t(lang, "Різниця, грн", "Difference, UAH").into(),
        ]
    };
    let row = |l: &Line| {
        vec![
            Val::Text(l.route.to_string()),
            Val::Text(l.day.clone()),
            Val::Int(l.claimed_trips),
            Val::Int(l.counted_trips),
            Val::Int(l.held_trips),
            Val::Int(l.trips_diff()),
            Val::Money(l.claimed_kopecks),
            Val::Money(l.counted_kopecks),
            Val::Money(l.kopecks_diff()),
        ]
    };
    for (sheet, only_diff) in [
        (t(lang, "Розбіжності", "Differences"), true),
        (t(lang, "Усі дні", "All days"), false),
    ] {
        let ws = wb.add_worksheet();
        ws.set_name(sheet).map_err(x)?;
        let tb = Table {
            headers: headers(),
            rows: o
                .lines
                .iter()
                .filter(|l| !only_diff || l.trips_diff() != 0 || l.kopecks_diff() != 0)
                .map(row)
                .collect(),
            total: Some(t(lang, "Усього", "Total").into()),
        };
        table(ws, &f, 0, &tb, true).map_err(x)?;
        print(ws, &title, &period, lang);
    }
    books.save(wb, path.to_path_buf(), "reconcile", o.carrier.clone())
}
