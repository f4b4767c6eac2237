//! The one workbook kit every .xlsx kartka writes is built with (the
//! decisions, the print summary, the flags review, compensation,
//! reconciliation, reports, a resident's export): a `Table` of `Val`s
//! (text, counts, kopecks) written under a bold wrapped header, with a
//! totals row of SUM formulas whose cached values are the exact integer
//! sums (money as `money::decimal`, never a float sum); one money format
//! (`money::XLSX_FORMAT`); columns as wide as their text, so a printed page
//! cuts no name short; and the print set-up (landscape, fitted to the page
//! width, title and period in the header, page numbers in the footer).

use std::borrow::Cow;
use std::path::Path;

use rust_xlsxwriter::{Format, FormatAlign, Formula, Workbook, Worksheet, XlsxError};

use crate::lang::Lang;
use crate::private::Mode;

/// The most characters an Excel cell holds.
pub const CELL_MAX: usize = 32_767;

/// `s` as a cell can hold it: text longer than Excel's 32,767 characters
/// is cut, and the cut said at its end (`…[обрізано, 40000 символів]`,
/// the original length in characters), so a stored value too long for a
/// cell never fails the whole workbook.
pub fn clip(s: &str) -> Cow<'_, str> {
    let chars = s.chars().count();
    if chars <= CELL_MAX {
        return Cow::Borrowed(s);
    }
    let marker = format!("…[обрізано / clipped, {chars} символів / characters]");
    let keep = CELL_MAX - marker.chars().count();
    let mut out: String = s.chars().take(keep).collect();
    out.push_str(&marker);
    Cow::Owned(out)
}

/// Saves `book` as `path` through `private::NewFile` with `mode`: created
/// new beside it, renamed into place whole.
pub fn save(book: &mut Workbook, path: &Path, mode: Mode) -> Result<(), XlsxError> {
    let bytes = book.save_to_buffer()?;
    crate::private::write_mode(path, &bytes, mode).map_err(XlsxError::IoError)
}

/// Adds `n` to a totals row's sum; an overflow is an error, never a
/// wrapped total.
fn add(sum: &mut i64, n: i64) -> Result<(), XlsxError> {
    *sum = sum.checked_add(n).ok_or_else(|| {
        XlsxError::ParameterError("a column's total exceeds the largest number kept".into())
    })?;
    Ok(())
}

/// A value in a table cell.
#[derive(Debug, Clone)]
pub enum Val {
    Text(String),
    Int(i64),
    /// Kopecks, shown as UAH.
    Money(i64),
    /// A number the totals row does not add (e.g. distinct cards).
    Figure(i64),
    /// Kopecks shown as UAH that the totals row does not add (e.g. an
    /// amount per card).
    MoneyFigure(i64),
}

impl Val {
    /// A count, or kopecks when `money`.
    pub fn number(money: bool, v: i64) -> Val {
        if money { Val::Money(v) } else { Val::Int(v) }
    }
}

/// A table: header row, rows, and a totals row of SUM formulas under the
/// number columns.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Val>>,
    /// The label of the totals row (first column); no totals row when None.
    pub total: Option<String>,
}

pub struct Formats {
    pub header: Format,
    pub money: Format,
    pub bold: Format,
    pub money_bold: Format,
    pub int_bold: Format,
    pub wrap: Format,
}

pub fn formats() -> Formats {
    let money = crate::money::XLSX_FORMAT;
    Formats {
        header: Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_background_color("#DDEBF7"),
        money: Format::new().set_num_format(money),
        bold: Format::new().set_bold(),
        money_bold: Format::new().set_bold().set_num_format(money),
        int_bold: Format::new().set_bold().set_num_format("#,##0"),
        wrap: Format::new().set_text_wrap(),
    }
}

pub fn col_name(c: u16) -> String {
    let mut n = u32::from(c) + 1;
    let mut s = String::new();
    while n > 0 {
        let r = ((n - 1) % 26) as u8;
        s.insert(0, (b'A' + r) as char);
        n = (n - 1) / 26;
    }
    s
}

/// Writes `t` with its header on `top`; returns the row after the table.
pub fn table(
    ws: &mut Worksheet,
    f: &Formats,
    top: u32,
    t: &Table,
    freeze: bool,
) -> Result<u32, XlsxError> {
    for (c, h) in t.headers.iter().enumerate() {
        ws.write_with_format(top, c as u16, h.as_str(), &f.header)?;
    }
    let first = top + 1;
    let width = t.headers.len();
    let mut sums: Vec<Option<(bool, i64)>> = vec![None; width];
    for (i, row) in t.rows.iter().enumerate() {
        let r = first + i as u32;
        for (c, v) in row.iter().enumerate() {
            let c16 = c as u16;
            match v {
                Val::Text(s) => {
                    ws.write_string(r, c16, clip(s))?;
                }
                Val::Int(n) => {
                    ws.write(r, c16, *n as f64)?;
                    let e = sums[c].get_or_insert((false, 0));
                    add(&mut e.1, *n)?;
                }
                Val::Figure(n) => {
                    ws.write(r, c16, *n as f64)?;
                }
                Val::Money(k) => {
                    ws.write_with_format(r, c16, crate::money::cell_value(*k), &f.money)?;
                    let e = sums[c].get_or_insert((true, 0));
                    add(&mut e.1, *k)?;
                }
                Val::MoneyFigure(k) => {
                    ws.write_with_format(r, c16, crate::money::cell_value(*k), &f.money)?;
                }
            }
        }
    }
    let last = first + t.rows.len() as u32; // one past the last data row
    if freeze {
        ws.set_freeze_panes(first, 0)?;
    }
    ws.autofilter(
        top,
        0,
        last.saturating_sub(1).max(top),
        (width.max(1) - 1) as u16,
    )?;
    let mut next = last;
    if let Some(label) = &t.total {
        ws.write_with_format(last, 0, label.as_str(), &f.bold)?;
        for (c, s) in sums.iter().enumerate() {
            let Some((money, sum)) = s else { continue };
            let col = col_name(c as u16);
            let range = if t.rows.is_empty() {
                "0".to_string()
            } else {
                format!("SUM({col}{}:{col}{})", first + 1, last)
            };
            let (result, fmt) = if *money {
                (crate::money::decimal(*sum), &f.money_bold)
            } else {
                (sum.to_string(), &f.int_bold)
            };
            ws.write_formula_with_format(
                last,
                c as u16,
                Formula::new(format!("={range}")).set_result(result),
                fmt,
            )?;
        }
        next = last + 1;
    }
    fit_columns(ws, t)?;
    Ok(next)
}

/// Print set-up: landscape, fitted to the page width, the period and the
/// document's title in the header, page numbers in the footer.
pub fn print(ws: &mut Worksheet, title: &str, period: &str, lang: Lang) {
    ws.set_landscape();
    ws.set_print_fit_to_pages(1, 0);
    let title = title.replace('&', "&&");
    ws.set_header(format!("&L{title}&R{period}"));
    let page = match lang {
        Lang::Uk => "Сторінка &P з &N",
        Lang::En => "Page &P of &N",
    };
    ws.set_footer(format!("&C{page}"));
}

/// The width, in characters, a column needs for `text`: its longest line
/// (a header wraps at spaces, so its longest word counts, or a third of
/// it when longer).
fn text_width(text: &str, header: bool) -> usize {
    if header {
        let longest_word = text
            .split_whitespace()
            .map(|w| w.chars().count())
            .max()
            .unwrap_or(0);
        longest_word.max(text.chars().count() / 3)
    } else {
        text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }
}

/// Sets every column of `t` as wide as its widest cell (8 to 80
/// characters): names, categories and money are never cut short on screen
/// or on paper.
pub fn fit_columns(ws: &mut Worksheet, t: &Table) -> Result<(), XlsxError> {
    let mut widths: Vec<usize> = t.headers.iter().map(|h| text_width(h, true)).collect();
    let mut grow = |c: usize, n: usize| {
        if c >= widths.len() {
            widths.resize(c + 1, 0);
        }
        widths[c] = widths[c].max(n);
    };
    for row in &t.rows {
        for (c, v) in row.iter().enumerate() {
            let n = match v {
                Val::Text(s) => text_width(s, false),
                // Grouped thousands add a separator per three digits.
                Val::Int(n) | Val::Figure(n) => {
                    let d = n.unsigned_abs().to_string().len();
                    d + d / 3 + 1
                }
                Val::Money(k) | Val::MoneyFigure(k) => {
                    let d = (k.unsigned_abs() / 100).to_string().len();
                    d + d / 3 + 6
                }
            };
            grow(c, n);
        }
    }
    if let Some(label) = &t.total {
        grow(0, text_width(label, false));
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, column_width(*w))?;
    }
    Ok(())
}

/// A column width in Excel's units for `chars` characters of text.
pub fn column_width(chars: usize) -> f64 {
    (chars.clamp(6, 78) as f64 * 1.1 + 2.0).round()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_and_widths() {
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(col_name(27), "AB");
        // A long category name gets its whole width; a header wraps.
        let name = "Дитина з інвалідністю підгрупи А (з супроводом)";
        assert!(column_width(text_width(name, false)) >= name.chars().count() as f64);
        assert_eq!(text_width("Сума утримано, грн", true), 9);
        assert_eq!(column_width(200), 88.0);
    }

    #[test]
    fn text_too_long_for_a_cell_is_clipped_and_says_so() {
        let long = "Ш".repeat(40_000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), CELL_MAX);
        assert!(
            c.ends_with("clipped, 40000 символів / characters]"),
            "{}",
            &c[c.len() - 80..]
        );
        assert!(c.starts_with("ШШШ"));
        assert!(matches!(clip("Шевченко"), Cow::Borrowed("Шевченко")));
        let exact = "a".repeat(CELL_MAX);
        assert_eq!(clip(&exact), exact.as_str());
    }

    #[test]
    fn formula_text_is_written_as_a_string_cell() {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        let t = Table {
            headers: vec!["name".into(), "sum".into()],
            rows: vec![vec![
                Val::Text("=HYPERLINK(\"http://x\",\"y\")".into()),
                Val::Money(i64::MAX),
            ]],
            total: None,
        };
        table(ws, &formats(), 0, &t, false).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        use calamine::Reader;
        let mut read: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let cells = read.worksheet_range("Sheet1").unwrap();
        assert_eq!(
            cells.get_value((1, 0)),
            Some(&calamine::Data::String(
                "=HYPERLINK(\"http://x\",\"y\")".into()
            ))
        );
        let formulas = read.worksheet_formula("Sheet1").unwrap();
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "no formula cell"
        );
        // Two sums past i64 are an error, never a wrapped total.
        let mut ws = Worksheet::new();
        let t = Table {
            total: Some("Total".into()),
            rows: vec![
                vec![Val::Text("a".into()), Val::Money(i64::MAX)],
                vec![Val::Text("b".into()), Val::Money(1)],
            ],
            ..t
        };
        assert!(table(&mut ws, &formats(), 0, &t, false).is_err());
    }
}
