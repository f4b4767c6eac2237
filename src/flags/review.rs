//! `kartka taps review --import FILE`: the review workbook comes back
//! filled in. Every row marked in the "clear" column (так, yes, x, 1, +)
//! clears that row's rule on that tap, with the row's reason; every row of
//! the review sheet marked in its "hold" column holds it. Any problem (a
//! mark without a reason, both marks on a row, an unknown flag id or rule)
//! refuses the whole file, every problem listed by sheet and row; nothing
//! is cleared or held.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};

use super::export::{
    CLEAR_HEADERS, DECISION_REASON_HEADERS, HOLD_HEADERS, ID_HEADERS, REASON_HEADERS, RULE_HEADERS,
};
use super::store::{Ask, Cleared, Decision};
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

/// The decisions the workbook asks for.
pub fn read(path: &Path) -> Result<Vec<(Decision, Ask)>, Error> {
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
        let (Some(id), Some(rule), Some(reason)) = (
            find(ID_HEADERS),
            find(RULE_HEADERS),
            find(REASON_HEADERS).or_else(|| find(DECISION_REASON_HEADERS)),
        ) else {
            continue;
        };
        let (clear, hold) = (find(CLEAR_HEADERS), find(HOLD_HEADERS));
        if clear.is_none() && hold.is_none() {
            continue;
        }
        review_sheets += 1;
        for (i, row) in rows.enumerate() {
            let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).map(text).unwrap_or_default();
            let at = format!("sheet {name:?}, row {}", i + 2);
            let marks = [
                (Decision::Clear, "clear", cell(clear)),
                (Decision::Hold, "hold", cell(hold)),
            ];
            let mut asked = Vec::new();
            for (decision, column, mark) in marks {
                if mark.is_empty()
                    || matches!(mark.to_lowercase().as_str(), "ні" | "no" | "n" | "0" | "-")
                {
                    continue;
                }
                if !marked(&mark) {
                    problems.push(format!(
                        "  {at}: {mark:?} in the {column} column; write так/yes to {column}, or leave it empty"
                    ));
                    continue;
                }
                asked.push(decision);
            }
            let Some(&decision) = asked.first() else {
                continue;
            };
            if asked.len() > 1 {
                problems.push(format!(
                    "  {at}: marked both to hold and to clear; keep one"
                ));
                continue;
            }
            let why = cell(Some(reason));
            if why.is_empty() {
                problems.push(format!(
                    "  {at}: marked to {} but no reason given",
                    match decision {
                        Decision::Clear => "clear",
                        Decision::Hold => "hold",
                    }
                ));
                continue;
            }
            let code = cell(Some(rule));
            let Some(r) = Rule::from_code(&code) else {
                problems.push(format!("  {at}: unknown rule {code:?}"));
                continue;
            };
            asks.push((
                decision,
                Ask {
                    id: cell(Some(id)),
                    rules: vec![r],
                    reason: why,
                },
            ));
        }
    }
    if review_sheets == 0 {
        return Err(Error::Unreadable {
            path: path.to_path_buf(),
            message: "no review sheet (a sheet with the flag id, rule, clear or hold, and reason columns).\n  Give the .xlsx written by `kartka taps flag --out`, filled in.".into(),
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

/// Clears and holds what the filled-in workbook at `path` asks for, for
/// `session`: all or nothing (see `store::decide`).
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
    super::store::decide(home, reg, &asks, session, &source)
}
