//! `kartka taps review --import FILE`: the review workbook comes back
//! filled in. Every row marked in the "clear" column (так, yes, x, 1, +)
//! clears that row's rule on that tap, with the row's reason. Any problem
//! (a mark without a reason, an unknown flag id or rule) refuses the whole
//! file, every problem listed by sheet and row; nothing is cleared.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};

use super::export::{CLEAR_HEADERS, ID_HEADERS, REASON_HEADERS, RULE_HEADERS};
use super::store::{Ask, Cleared};
use super::{Error, Rule};
use crate::home::Home;
use crate::registry::Registry;

fn text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string().trim().to_string(),
    }
}

fn marked(s: &str) -> bool {
    matches!(
        s.trim().to_lowercase().as_str(),
        "так" | "т" | "yes" | "y" | "x" | "х" | "1" | "+" | "true" | "зняти" | "clear"
    )
}

/// The clearings the workbook asks for.
pub fn read(path: &Path) -> Result<Vec<Ask>, Error> {
    if !path.exists() {
        return Err(Error::Missing {
            path: path.to_path_buf(),
        });
    }
    let mut book = open_workbook_auto(path).map_err(|e| Error::Unreadable {
        path: path.to_path_buf(),
        message: format!(
            "not a workbook kartka can read ({e}).\n  Give the .xlsx written by `kartka taps flag --out`, filled in."
        ),
    })?;
    let mut asks = Vec::new();
    let mut problems = Vec::new();
    let mut review_sheets = 0;
    for name in book.sheet_names().to_owned() {
        let Ok(range) = book.worksheet_range(&name) else {
            continue;
        };
        let mut rows = range.rows();
        let Some(header) = rows.next() else { continue };
        let find = |names: [&str; 2]| {
            header
                .iter()
                .position(|c| names.contains(&text(c).as_str()))
        };
        let (Some(id), Some(rule), Some(clear), Some(reason)) = (
            find(ID_HEADERS),
            find(RULE_HEADERS),
            find(CLEAR_HEADERS),
            find(REASON_HEADERS),
        ) else {
            continue;
        };
        review_sheets += 1;
        for (i, row) in rows.enumerate() {
            let cell = |c: usize| row.get(c).map(text).unwrap_or_default();
            let mark = cell(clear);
            if mark.is_empty()
                || matches!(mark.to_lowercase().as_str(), "ні" | "no" | "n" | "0" | "-")
            {
                continue;
            }
            let at = format!("sheet {name:?}, row {}", i + 2);
            if !marked(&mark) {
                problems.push(format!(
                    "  {at}: {:?} in the clear column; write так/yes to clear, or leave it empty",
                    mark
                ));
                continue;
            }
            let why = cell(reason);
            if why.is_empty() {
                problems.push(format!("  {at}: marked to clear but no reason given"));
                continue;
            }
            let code = cell(rule);
            let Some(r) = Rule::from_code(&code) else {
                problems.push(format!("  {at}: unknown rule {code:?}"));
                continue;
            };
            asks.push(Ask {
                id: cell(id),
                rules: vec![r],
                reason: why,
            });
        }
    }
    if review_sheets == 0 {
        return Err(Error::Unreadable {
            path: path.to_path_buf(),
            message: "no review sheet (a sheet with the flag id, rule, clear and reason columns).\n  Give the .xlsx written by `kartka taps flag --out`, filled in.".into(),
        });
    }
    if !problems.is_empty() {
        return Err(Error::Review {
            path: path.to_path_buf(),
            problems: problems.len(),
            list: problems.join("\n"),
        });
    }
    Ok(asks)
}

/// Clears what the filled-in workbook at `path` asks for, for `session`:
/// all or nothing (see `store::clear`).
pub fn import(
    home: &Home,
    reg: &mut Registry,
    path: &Path,
    session: &crate::access::Session,
) -> Result<Cleared, Error> {
    let asks = read(path)?;
    let source = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    super::store::clear(home, reg, &asks, session, &source)
}
