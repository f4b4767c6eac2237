//! Reading one cell of a clerk's sheet into a value: text, dates (Excel
//! serials, ODS ISO dates, typed text), money in kopecks, phones, e-mail.
//! Each function returns the value or the sentence that tells the clerk what
//! was expected.

use calamine::{Data, ExcelDateTime, ExcelDateTimeType};
use chrono::{Datelike, NaiveDate};

use super::why::{Why, why};

/// The most characters of one cell that reading a sheet keeps: a longer
/// cell is cut (`clip`), and no field takes that many (`applicant::max_chars`).
pub const CELL_CHARS: usize = 1000;

/// Ends a cell cut at `CELL_CHARS`, followed by the full length in
/// characters. A Unicode noncharacter: no text a clerk types holds it.
const CUT: char = '\u{FDD0}';

/// The most characters of a cell a message quotes.
pub const QUOTE_CHARS: usize = 80;

/// `s`, cut to `CELL_CHARS` characters (with its full length kept) when
/// longer: a sheet's cell costs at most that much memory however long it is.
pub fn clip(s: String) -> String {
    if s.len() <= CELL_CHARS {
        return s;
    }
    match s.char_indices().nth(CELL_CHARS) {
        None => s,
        Some((at, _)) => {
            let full = s[at..].chars().count() + CELL_CHARS;
            format!("{}{CUT}{full}", &s[..at])
        }
    }
}

/// A cell's text without the mark of a cut, and its full length in
/// characters.
pub fn uncut(s: &str) -> (&str, usize) {
    if let Some((head, full)) = s.rsplit_once(CUT)
        && let Ok(full) = full.parse::<usize>()
    {
        return (head, full);
    }
    (s, s.chars().count())
}

/// `s` quoted for a message: at most `QUOTE_CHARS` characters, and when it
/// is longer, an ellipsis and its full length: `"Іваненко…" (32767 characters)`.
pub fn quoted(s: &str) -> String {
    quote(s, "characters")
}

/// `quoted` for a Ukrainian message: `"Іваненко…" (32767 символів)`.
pub fn quoted_uk(s: &str) -> String {
    quote(s, "символів")
}

fn quote(s: &str, unit: &str) -> String {
    let (head, full) = uncut(s);
    match head.char_indices().nth(QUOTE_CHARS) {
        None if full == head.chars().count() => format!("{head:?}"),
        None => format!("\"{}…\" ({full} {unit})", head.escape_debug()),
        Some((at, _)) => format!("\"{}…\" ({full} {unit})", head[..at].escape_debug()),
    }
}

/// The cell as text, trimmed; numbers without a spurious `.0`.
pub fn text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => crate::text::squeeze(s),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Int(i) => i.to_string(),
        other => other.to_string().trim().to_string(),
    }
}

/// Whether the cell holds nothing but whitespace.
pub fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// What kind of date a column holds: a two-digit year means the past for a
/// birth date, this century otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateKind {
    Past,
    Any,
}

fn excel_serial_date(serial: f64, is_1904: bool) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let (y, m, d, ..) =
        ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, is_1904).to_ymd_hms_milli();
    NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
}

/// A date from a cell: a real spreadsheet date, an Excel serial number, an
/// ISO date (ODS), or text as a clerk types it: `28.02.1948`, `5.3.52`,
/// `1948-02-28`, `28/02/1948`.
pub fn date(cell: &Data, kind: DateKind, today: NaiveDate) -> Result<NaiveDate, Why> {
    date_noted(cell, kind, today).map(|(d, _)| d)
}

/// A date from a cell, with a note for the clerk when the text was an
/// Excel date serial (a date column of a workbook saved as CSV: «19432»).
pub fn date_noted(
    cell: &Data,
    kind: DateKind,
    today: NaiveDate,
) -> Result<(NaiveDate, Option<Why>), Why> {
    if let Data::String(s) = cell
        && let Some(read) = text_serial(s.trim(), kind, today)
    {
        return read.map(|(d, note)| (d, Some(note)));
    }
    cell_date(cell, kind, today).map(|d| (d, None))
}

/// The last serial Excel's 1900 system gives a date this century
/// (2099-12-31).
const LAST_SERIAL: u64 = 73_050;

/// A date written as the Excel serial a General-formatted date becomes in
/// CSV: whole days, `1` being 1900-01-01, with Excel's 29 February 1900
/// (serial 60) that never was. `None` when the text is not a whole number.
fn text_serial(s: &str, kind: DateKind, today: NaiveDate) -> Option<Result<(NaiveDate, Why), Why>> {
    let whole = match s.split_once(['.', ',']) {
        Some((w, zeros)) if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => w,
        Some(_) => return None,
        None => s,
    };
    if whole.is_empty() || whole.len() > 9 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = whole.parse().ok()?;
    if year_alone(n) {
        return Some(Err(only_a_year(s)));
    }
    let date = match n {
        // Excel's 29 February 1900.
        60 => return Some(Err(not_a_date(s))),
        1..=59 => NaiveDate::from_ymd_opt(1899, 12, 31)? + chrono::Days::new(n),
        61..LAST_SERIAL => NaiveDate::from_ymd_opt(1899, 12, 30)? + chrono::Days::new(n),
        _ => return Some(Err(not_a_date(s))),
    };
    if kind == DateKind::Past && date > today {
        return Some(Err(not_a_date(s)));
    }
    let (uk, iso) = (date.format("%d.%m.%Y"), date.format("%Y-%m-%d"));
    Some(Ok((
        date,
        why!(
            "{s} прочитано як порядковий номер дати Excel: {uk}; перевірте дату",
            "read {s} as an Excel date serial: {iso}; check the date"
        ),
    )))
}

/// A whole number that reads as a year (1800 to 2100) rather than a day
/// of 1904 or 1905.
fn year_alone(n: u64) -> bool {
    (1800..=2100).contains(&n)
}

fn only_a_year(s: &str) -> Why {
    why!(
        "{s:?} — лише рік; очікується повна дата на зразок 28.02.1948",
        "{s:?} is only a year; expected a full date like 28.02.1948"
    )
}

fn cell_date(cell: &Data, kind: DateKind, today: NaiveDate) -> Result<NaiveDate, Why> {
    match cell {
        Data::Float(f) if f.fract() == 0.0 && year_alone(*f as u64) => {
            Err(only_a_year(&f.to_string()))
        }
        Data::Int(i) if year_alone(*i as u64) => Err(only_a_year(&i.to_string())),
        Data::DateTime(dt) => {
            let (y, m, d, ..) = dt.to_ymd_hms_milli();
            NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)).ok_or_else(|| {
                why!(
                    "{cell} — не реальна дата; очікується дата на зразок 28.02.1948",
                    "{cell} is not a real date; expected a date like 28.02.1948"
                )
            })
        }
        Data::Float(f) => excel_serial_date(*f, false).ok_or_else(|| {
            why!(
                "число {f} — не дата; очікується дата на зразок 28.02.1948",
                "the number {f} is not a date; expected a date like 28.02.1948"
            )
        }),
        Data::Int(i) => excel_serial_date(*i as f64, false).ok_or_else(|| {
            why!(
                "число {i} — не дата; очікується дата на зразок 28.02.1948",
                "the number {i} is not a date; expected a date like 28.02.1948"
            )
        }),
        Data::DateTimeIso(s) | Data::String(s) => text_date(s.trim(), kind, today),
        other => Err(why!(
            "{other:?} — не дата; очікується дата на зразок 28.02.1948",
            "{other:?} is not a date; expected a date like 28.02.1948"
        )),
    }
}

fn not_a_date(s: &str) -> Why {
    why!(
        "{s:?} — не дата; очікується дата на зразок 28.02.1948 або 28 лютого 1948 р.",
        "{s:?} is not a date; expected a date like 28.02.1948 or 28 лютого 1948 р."
    )
}

/// The months' names: the genitive a date is written with, and the
/// nominative.
const MONTHS: [[&str; 2]; 12] = [
    ["січня", "січень"],
    ["лютого", "лютий"],
    ["березня", "березень"],
    ["квітня", "квітень"],
    ["травня", "травень"],
    ["червня", "червень"],
    ["липня", "липень"],
    ["серпня", "серпень"],
    ["вересня", "вересень"],
    ["жовтня", "жовтень"],
    ["листопада", "листопад"],
    ["грудня", "грудень"],
];

/// The month a Ukrainian month word names: in the genitive or the
/// nominative, or cut to three letters or more («бер.», «лист.»).
pub fn month_number(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    if w.chars().count() < 3 || !w.chars().all(char::is_alphabetic) {
        return None;
    }
    let hits: Vec<usize> = (0..12)
        .filter(|&i| MONTHS[i].iter().any(|name| name.starts_with(w.as_str())))
        .collect();
    match hits.as_slice() {
        [i] => Some(*i as u32 + 1),
        _ => None,
    }
}

/// The text without the year word after the year: «1951 р.», «1951р.»,
/// «1951 року».
fn without_year_word(s: &str) -> &str {
    let mut t = s.trim_end();
    // A time after the date, as a spreadsheet exports a date-time cell.
    if let Some((date, time)) = t.rsplit_once(' ')
        && time.contains(':')
        && time.chars().all(|c| c.is_ascii_digit() || c == ':')
    {
        t = date.trim_end();
    }
    for word in ["року", "рік", "р.н.", "р.н", "р.", "р", "г.", "г"] {
        if let Some(head) = t.strip_suffix(word)
            && head.trim_end().ends_with(|c: char| c.is_ascii_digit())
        {
            return head.trim_end();
        }
    }
    t
}

fn text_date(written: &str, kind: DateKind, today: NaiveDate) -> Result<NaiveDate, Why> {
    let bad = || not_a_date(written);
    let unquoted: String = written
        .chars()
        .filter(|c| !matches!(c, '«' | '»' | '"' | '“' | '”'))
        .collect();
    let s = without_year_word(&unquoted);
    // ISO, possibly with a time part (ODS writes 1948-02-28T00:00:00).
    let iso = s.split(['T', ' ']).next().unwrap_or(s);
    if let Ok(d) = NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        return Ok(d);
    }
    let words: Vec<&str> = s.split_whitespace().collect();
    let (d, m, y) = match words.as_slice() {
        [d, m, y] if !m.starts_with(|c: char| c.is_ascii_digit()) => {
            let month = month_number(m).ok_or_else(bad)?;
            (*d, month, *y)
        }
        _ => {
            let parts: Vec<&str> = s.split(['.', '/', '-']).map(str::trim).collect();
            let [d, m, y] = parts.as_slice() else {
                return Err(bad());
            };
            if let Some(month) = roman_month(m) {
                (*d, month, *y)
            } else if m.is_empty() || m.len() > 2 || !m.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            } else {
                (*d, m.parse().map_err(|_| bad())?, *y)
            }
        }
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(d) || !digits(y) || d.len() > 2 {
        return Err(bad());
    }
    let day: u32 = d.parse().map_err(|_| bad())?;
    let year = full_year(y, kind, today).ok_or_else(bad)?;
    NaiveDate::from_ymd_opt(year, m, day).ok_or_else(|| {
        why!(
            "{written:?} — такої дати не існує (день {day}, місяць {m}, рік {year})",
            "{written:?} is not a real date (day {day}, month {m}, year {year})"
        )
    })
}

/// A month in Roman numerals, as older documents write it («12.III.1951»),
/// in Latin letters or their Cyrillic look-alikes.
fn roman_month(m: &str) -> Option<u32> {
    let latin: String = m
        .chars()
        .map(|c| match c.to_ascii_uppercase() {
            'І' | 'і' => 'I',
            'Х' | 'х' => 'X',
            c => c,
        })
        .collect();
    const ROMAN: [&str; 12] = [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
    ];
    ROMAN.iter().position(|r| *r == latin).map(|i| i as u32 + 1)
}

/// A year written with four digits, or two: a birth date is in the past
/// (`52` is 1952), any other date in this century.
fn full_year(y: &str, kind: DateKind, today: NaiveDate) -> Option<i32> {
    match y.len() {
        4 => y.parse().ok(),
        2 => {
            let yy: i32 = y.parse().ok()?;
            let century = today.year() / 100 * 100;
            Some(match kind {
                DateKind::Past if century + yy > today.year() => century - 100 + yy,
                _ => century + yy,
            })
        }
        _ => None,
    }
}

/// An amount of hryvnias as integer kopecks: `4120.5`, `4 120,50`,
/// `4120,50 грн`. Negative amounts and fractions of a kopeck are refused.
fn not_an_amount(shown: &str) -> Why {
    why!(
        "{shown} — не сума; очікується сума в гривнях, наприклад 4120,50",
        "{shown} is not an amount; expected an amount in UAH such as 4120,50"
    )
}

fn negative(shown: &str) -> Why {
    why!(
        "{shown} — від'ємна сума; очікується сума в гривнях, наприклад 4120,50",
        "{shown} is negative; expected an amount in UAH such as 4120,50"
    )
}

pub fn kopecks(cell: &Data) -> Result<Option<i64>, Why> {
    match cell {
        Data::Empty => Ok(None),
        Data::Float(f) => float_kopecks(*f).map(Some),
        Data::Int(i) if *i >= 0 => Ok(Some(i * 100)),
        Data::Int(i) => Err(negative(&i.to_string())),
        Data::String(s) => text_kopecks(s),
        other => Err(not_an_amount(&other.to_string())),
    }
}

fn float_kopecks(f: f64) -> Result<i64, Why> {
    if !f.is_finite() || f < 0.0 {
        return Err(not_an_amount(&f.to_string()));
    }
    let k = (f * 100.0).round();
    // A value stored as binary floating point: accept only whole kopecks.
    if (f * 100.0 - k).abs() > 1e-6 || k > 1e13 {
        return Err(why!(
            "{f} має частки копійки; очікується не більше двох знаків після коми",
            "{f} has fractions of a kopeck; expected at most two decimals"
        ));
    }
    Ok(k as i64)
}

/// Whether a cell says "none" in words or with a dash: «-», «—», «немає».
pub fn says_none(raw: &str) -> bool {
    let key = crate::text::match_key(raw);
    key.chars().all(|c| matches!(c, '-' | '—' | '–' | ' '))
        || [
            "немає",
            "нема",
            "відсутній",
            "відсутня",
            "відсутнє",
            "не має",
            "н/д",
        ]
        .contains(&key.as_str())
}

/// «3120 грн 50 коп.»: hryvnias and kopecks in words; `None` when the text
/// names no kopecks.
fn hryvnias_and_kopecks(raw: &str, lowered: &str) -> Option<Result<Option<i64>, Why>> {
    let (head, tail) = lowered.split_once("коп")?;
    let (hryvnias, kop) = match head.split_once("грн") {
        Some((h, k)) => (h, k),
        None => ("", head),
    };
    let kop = kop.trim().trim_start_matches('.').trim();
    let tail_ok = tail.trim().trim_start_matches('.').trim().is_empty();
    let whole = match text_kopecks(hryvnias) {
        Ok(w) => w.unwrap_or(0),
        Err(e) => return Some(Err(e)),
    };
    Some(match kop.parse::<i64>() {
        Ok(k) if tail_ok && k < 100 && kop.len() <= 2 && whole % 100 == 0 => Ok(Some(whole + k)),
        _ => Err(not_an_amount(&format!("{raw:?}"))),
    })
}

fn text_kopecks(raw: &str) -> Result<Option<i64>, Why> {
    let bad = || not_an_amount(&format!("{raw:?}"));
    if says_none(raw) {
        return Ok(None);
    }
    let lowered = raw.to_lowercase();
    if let Some(read) = hryvnias_and_kopecks(raw, &lowered) {
        return read;
    }
    let s: String = lowered
        .trim()
        .trim_end_matches("грн.")
        .trim_end_matches("грн")
        .trim_end_matches("uah")
        .trim_end_matches('₴')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\'')
        .collect();
    if s.is_empty() {
        return Ok(None);
    }
    if s.starts_with('-') {
        return Err(negative(&format!("{raw:?}")));
    }
    // An accountant's hryvnias and kopecks joined by a dash («3 987-40»).
    let s = match s.split_once(['-', '–']) {
        Some((whole, kop))
            if !whole.is_empty()
                && whole.chars().all(|c| c.is_ascii_digit())
                && kop.len() == 2
                && kop.chars().all(|c| c.is_ascii_digit()) =>
        {
            format!("{whole}.{kop}")
        }
        _ => s,
    };
    // Both separators: the last is the decimal one, the other groups
    // thousands («3,200.50» as LibreOffice saves an English-locale CSV,
    // «3.200,50»); one alone is the decimal separator.
    let s = match (s.rfind(','), s.rfind('.')) {
        (Some(comma), Some(dot)) => {
            let (group, at) = if comma < dot {
                (',', dot)
            } else {
                ('.', comma)
            };
            let groups: Vec<&str> = s[..at].split(group).collect();
            if groups[0].is_empty()
                || groups[0].len() > 3
                || groups[1..].iter().any(|g| g.len() != 3)
            {
                return Err(bad());
            }
            format!("{}.{}", groups.concat(), &s[at + 1..])
        }
        _ => s.replace(',', "."),
    };
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s.as_str(), ""),
    };
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 11
    {
        return Err(bad());
    }
    if frac.len() > 2 {
        return Err(why!(
            "{raw:?} має більше двох знаків після коми; очікуються щонайбільше копійки",
            "{raw:?} has more than two decimals; expected kopecks at most"
        ));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    Ok(Some(whole * 100 + frac))
}

/// A phone number in E.164 form, `+380…`. Numbers without a country code are
/// read as Ukrainian.
fn not_a_phone(raw: &str) -> Why {
    why!(
        "{raw:?} — не номер телефону; очікується, наприклад, 067 123 45 67 або +380671234567",
        "{raw:?} is not a phone number; expected e.g. 067 123 45 67 or +380671234567"
    )
}

pub fn phone(raw: &str) -> Result<String, Why> {
    let bad = || not_a_phone(raw);
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 9 || digits.len() > 15 {
        return Err(bad());
    }
    let number = phonenumber::parse(Some(phonenumber::country::Id::UA), raw).map_err(|_| bad())?;
    if !phonenumber::is_valid(&number) {
        return Err(bad());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Reads phone numbers, remembering which Ukrainian number ranges are valid.
///
/// `phonenumber` decides validity from the country's numbering-plan patterns;
/// for Ukraine every national number has nine digits and its type (mobile
/// operator or fixed-line area) is fixed by its leading digits. So a plainly
/// written Ukrainian number asks the crate once per 5-digit range, and a whole
/// city's sheet does not pay the crate's regular expressions on every row.
/// Anything else (a foreign number, letters, extensions) goes to the crate.
#[derive(Debug, Default)]
pub struct Phones {
    ranges: std::collections::HashMap<[u8; 5], bool>,
}

impl Phones {
    pub fn read(&mut self, raw: &str) -> Result<String, Why> {
        let plain = raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '-' | '+' | '.'));
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        let national = match digits.len() {
            _ if !plain => None,
            10 if digits.starts_with('0') && !raw.trim_start().starts_with('+') => {
                Some(&digits[1..])
            }
            12 if digits.starts_with("380") => Some(&digits[3..]),
            // The old long-distance prefix: «8 067 123 45 67».
            11 if digits.starts_with("80") && !raw.trim_start().starts_with('+') => {
                Some(&digits[2..])
            }
            _ => None,
        };
        let Some(national) = national else {
            return phone(raw);
        };
        let mut range = [0u8; 5];
        range.copy_from_slice(&national.as_bytes()[..5]);
        let e164 = format!("+380{national}");
        let valid = *self
            .ranges
            .entry(range)
            .or_insert_with(|| phone(&e164).is_ok());
        if valid {
            Ok(e164)
        } else {
            Err(not_a_phone(raw))
        }
    }
}

/// What a contact cell gave: the text to keep, and a note for the clerk
/// when it was not one number (or one address) as such.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub kept: Option<String>,
    pub note: Option<Why>,
}

/// The stretches of a cell that may be phone numbers: digits with the
/// spaces, brackets, dashes and dots written between them.
fn number_spans(raw: &str) -> Vec<(usize, usize)> {
    let part =
        |c: char| c.is_ascii_digit() || matches!(c, ' ' | '\u{a0}' | '(' | ')' | '-' | '.' | '+');
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in raw.char_indices().chain([(raw.len(), 'x')]) {
        match (part(c) && i < raw.len(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.extend(trim_span(raw, s, i));
                start = None;
            }
            _ => {}
        }
    }
    spans
        .into_iter()
        .flat_map(|(s, e)| split_glued(raw, s, e))
        .collect()
}

/// A span without the spaces and punctuation at its ends (a bracket kept
/// when it opens an area code).
fn trim_span(raw: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let text = &raw[s..e];
    let first = text.find(|c: char| c.is_ascii_digit() || c == '+' || c == '(')?;
    let last = text.rfind(|c: char| c.is_ascii_digit())? + 1;
    let mut first = s + first;
    if raw[first..s + last].starts_with('(') && !raw[first..s + last].contains(')') {
        first += 1;
    }
    raw[first..s + last]
        .contains(|c: char| c.is_ascii_digit())
        .then_some((first, s + last))
}

/// Two ten-digit numbers written one after the other with only a space
/// between them: split where the first ends.
fn split_glued(raw: &str, s: usize, e: usize) -> Vec<(usize, usize)> {
    let text = &raw[s..e];
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if digits != 20 || !text.starts_with('0') {
        return vec![(s, e)];
    }
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if c.is_ascii_digit() {
            seen += 1;
            if seen == 10 {
                let rest = &text[i + 1..];
                let next = rest
                    .find(|c: char| c.is_ascii_digit())
                    .map_or(e, |k| s + i + 1 + k);
                return vec![(s, s + i + 1), (next, e)];
            }
        }
    }
    vec![(s, e)]
}

impl Phones {
    /// A phone cell read the way a clerk reads it: every number in it in
    /// E.164, what is not a number (a note, a local number) kept as written.
    /// Never an error: a person is not refused for contact data.
    pub fn contact(&mut self, raw: &str) -> Contact {
        let written = raw.trim();
        if says_none(written) {
            return Contact {
                kept: None,
                note: None,
            };
        }
        let spans = number_spans(written);
        let mut kept = String::new();
        let mut read = Vec::new();
        let mut at = 0;
        for (s, e) in &spans {
            kept.push_str(&written[at..*s]);
            match self.read(&written[*s..*e]) {
                Ok(n) => {
                    kept.push_str(&n);
                    read.push(n);
                }
                Err(_) => kept.push_str(&written[*s..*e]),
            }
            at = *e;
        }
        kept.push_str(&written[at..]);
        let kept = crate::text::squeeze(&kept);
        if read.len() == 1 && kept == read[0] {
            return Contact {
                kept: Some(kept),
                note: None,
            };
        }
        let (uk, en) = (quoted_uk(raw), quoted(raw));
        let note = if read.is_empty() {
            why!(
                "{uk} — не номер, який можна набрати (місцевий номер без коду міста?); збережено як написано",
                "{en} is not a number that can be dialled (a local number without its area code?); kept as written"
            )
        } else {
            why!(
                "{uk}: номерів прочитано: {}; збережено {kept:?}",
                "{en}: {} number(s) read; kept as {kept:?}",
                read.len()
            )
        };
        Contact {
            kept: Some(kept),
            note: Some(note),
        }
    }
}

/// An e-mail cell: the address, or the text as written with a note.
pub fn email_contact(raw: &str) -> Contact {
    let written = raw.trim();
    if says_none(written) {
        return Contact {
            kept: None,
            note: None,
        };
    }
    match email(written) {
        Ok(e) => Contact {
            kept: Some(e),
            note: None,
        },
        Err(why) => Contact {
            kept: Some(crate::text::squeeze(written)),
            note: Some(Why {
                uk: format!("{}; збережено як написано", why.uk),
                en: format!("{}; kept as written", why.en),
            }),
        },
    }
}

/// An e-mail address: one `@`, a dotted domain, no spaces. The domain is
/// lower-cased.
pub fn email(raw: &str) -> Result<String, Why> {
    let bad = || {
        why!(
            "{raw:?} — не адреса електронної пошти; очікується, наприклад, name@ukr.net",
            "{raw:?} is not an e-mail address; expected e.g. name@ukr.net"
        )
    };
    let s = raw.trim();
    let (local, domain) = s.split_once('@').ok_or_else(bad)?;
    let ok_local =
        !local.is_empty() && !local.contains(char::is_whitespace) && !local.contains('@');
    let ok_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if ok_local && ok_domain {
        Ok(format!("{local}@{}", domain.to_lowercase()))
    } else {
        Err(bad())
    }
}

/// The sex an abbreviation of «чоловіча»/«жіноча» names: «ч», «чол.»,
/// «чолов.», «жіноч.», «жінка».
pub fn sex(raw: &str) -> Option<crate::identity::Sex> {
    use crate::identity::Sex;
    let key: String = raw
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    if key.is_empty() || raw.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let letters = key.chars().count();
    // A child's sex is written boy or girl: at least «хл.», «дів.».
    [
        ("чоловіча", Sex::Male, 1),
        ("чоловічий", Sex::Male, 1),
        ("чоловік", Sex::Male, 1),
        ("жіноча", Sex::Female, 1),
        ("жіночий", Sex::Female, 1),
        ("жінка", Sex::Female, 1),
        ("хлопчик", Sex::Male, 2),
        ("хлопець", Sex::Male, 2),
        ("дівчинка", Sex::Female, 3),
        ("дівчина", Sex::Female, 3),
    ]
    .into_iter()
    .find(|(full, _, least)| letters >= *least && full.starts_with(key.as_str()))
    .map(|(_, s, _)| s)
}

/// What identifies a person: a passport booklet, an ID card, or a child's
/// birth certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdDocument {
    Passport(crate::identity::Passport),
    BirthCertificate(String),
}

impl IdDocument {
    pub fn as_str(&self) -> &str {
        match self {
            IdDocument::Passport(p) => p.as_str(),
            IdDocument::BirthCertificate(s) => s,
        }
    }
}

/// An identity document as read, with the УНЗР written beside an ID card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdRead {
    pub document: IdDocument,
    pub unzr: Option<String>,
}

/// The text without what a spreadsheet or a clerk puts around a value:
/// Excel's leading apostrophe that marks text («'1234567890»), quotes
/// around it, and invisible characters (zero-width spaces, a BOM, a soft
/// hyphen); spaces squeezed.
pub fn unmarked(raw: &str) -> String {
    let visible: String = raw
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
            )
        })
        .collect();
    let s = crate::text::squeeze(&visible);
    let s = s.trim_start_matches(['\'', '’', '‘', '`', 'ʼ']);
    s.trim_matches(['"', '«', '»', '“', '”', '„'])
        .trim()
        .to_string()
}

/// Words written around a document's series and number.
const ID_WORDS: &[&str] = &[
    "серія",
    "серії",
    "сер",
    "номер",
    "ном",
    "паспорт",
    "паспорта",
    "пасп",
    "рнокпп",
    "іпн",
    "громадянина",
    "україни",
    "id",
    "ід",
    "картка",
    "карта",
    "свідоцтво",
    "свідоцтва",
    "св-во",
    "с-во",
    "про",
    "народження",
    "народж",
    "док",
    "документ",
    "у",
    "формі",
    "картки",
    "книжечки",
    "зразка",
    "старого",
    "n",
    "no",
    "іd",
    "запис",
    "запису",
    "свід",
];

/// Cut words of «свідоцтво про народження» that could be a passport's
/// series: words only beside «про» («св. про нар.»).
const BIRTH_WORDS: &[&str] = &["св", "нар"];

/// The part of an identity cell before the issuing authority and date
/// («МК 512345, виданий Павлоградським МВ УМВС 12.03.1999», «орган 1223»).
fn before_issuer(text: &str) -> &str {
    let lower = text.to_lowercase();
    let cut = ["видан", "вид.", "від ", "орган", "дата видачі", "дійсний"]
        .iter()
        .filter_map(|w| lower.find(w))
        .min();
    match cut {
        // `lower` may differ in length from `text` only for letters whose
        // case changes it; the cut is then taken on a char boundary.
        Some(at) if text.is_char_boundary(at) && lower.len() == text.len() => &text[..at],
        _ => text,
    }
}

/// The УНЗР in a text (`YYYYMMDD-NNNNC`, maybe after «УНЗР» and in
/// brackets), and the text without it.
fn take_unzr(text: &str) -> (String, Option<String>) {
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len() {
        let is = |a: usize, n: usize| {
            chars.len() >= a + n && chars[a..a + n].iter().all(char::is_ascii_digit)
        };
        let before = i == 0 || !chars[i - 1].is_ascii_digit();
        let after = chars.get(i + 14).is_none_or(|c| !c.is_ascii_digit());
        if before && is(i, 8) && chars.get(i + 8) == Some(&'-') && is(i + 9, 5) && after {
            let unzr: String = chars[i..i + 14].iter().collect();
            let rest: String = chars[..i].iter().chain(&chars[i + 14..]).collect();
            let rest = rest
                .replace("УНЗР", " ")
                .replace("унзр", " ")
                .replace(['(', ')', ','], " ");
            return (rest, Some(unzr));
        }
    }
    (text.to_string(), None)
}

/// «І-АП № 123456»: a Roman numeral (I, V, X, in Latin or Cyrillic
/// letters), a dash (or none), two Cyrillic letters and six digits; stored
/// as `I-АП123456`.
fn birth_certificate(cleaned: &str) -> Option<String> {
    let chars: Vec<char> = cleaned
        .chars()
        .filter(|&c| c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    let letters = chars.len().checked_sub(6)?;
    if letters < 3 || !chars[letters..].iter().all(char::is_ascii_digit) {
        return None;
    }
    let roman: String = chars[..letters - 2]
        .iter()
        .map(|c| match c {
            'І' | 'I' | '1' => Some('I'),
            'V' => Some('V'),
            'Х' | 'X' => Some('X'),
            _ => None,
        })
        .collect::<Option<String>>()?;
    let series: String = chars[letters - 2..letters]
        .iter()
        .map(|&c| crate::text::cyrillic_lookalike(c).unwrap_or(c))
        .collect();
    let cyrillic = |c: char| ('А'..='Я').contains(&c) || matches!(c, 'І' | 'Ї' | 'Є' | 'Ґ');
    let digits: String = chars[letters..].iter().collect();
    (roman.len() <= 4 && series.chars().all(cyrillic)).then(|| format!("{roman}-{series}{digits}"))
}

/// A document's series and number as written (one cell or two): a booklet
/// «серія МК № 512345», an ID card «ID-картка № 002345678 (УНЗР
/// 19510312-01234)», the series column holding «ID» or a dash, or a birth
/// certificate «І-АП № 123456». `None` when it is none of them.
pub fn id_document(series: Option<&str>, number: &str) -> Option<IdRead> {
    let series = series.map(unmarked).filter(|s| !says_none(s));
    let joined = format!(
        "{} {}",
        series.unwrap_or_default(),
        before_issuer(&unmarked(number))
    );
    let (text, unzr) = take_unzr(&joined.replace(['–', '—', '‐', '‑', '−'], "-"));
    let text = crate::text::brackets(&text).0;
    let lower = text.to_lowercase();
    let about_birth = lower.split_whitespace().any(|w| w == "про")
        || ["св.", "св-во", "свід"].iter().any(|w| lower.contains(w));
    let words: Vec<String> = text
        .split(|c: char| {
            c.is_whitespace() || matches!(c, '№' | '#' | ':' | ',' | '(' | ')' | '/' | ';')
        })
        .map(|w| w.trim_matches(['.', '\'', '’', '"', '«', '»']).to_string())
        .filter(|w| !w.is_empty())
        .filter(|w| {
            let key = w.to_lowercase();
            let word = |k: &str| ID_WORDS.contains(&k) || (about_birth && BIRTH_WORDS.contains(&k));
            !word(&key) && !key.split('-').all(word)
        })
        .collect();
    let concat = words.concat();
    let cleaned = concat.trim_start_matches('-');
    if let Some(b) = birth_certificate(cleaned) {
        return Some(IdRead {
            document: IdDocument::BirthCertificate(b),
            unzr,
        });
    }
    crate::identity::parse_passport(cleaned).map(|p| IdRead {
        document: IdDocument::Passport(p),
        unzr,
    })
}

/// A УНЗР's date of birth and whether its check digit holds; `None` when
/// it is not `YYYYMMDD-NNNNC` with a real date. The check digit (ICAO 9303,
/// weights 7, 3, 1) is not confirmed on real samples: a mismatch is a
/// warning.
pub fn unzr_check(unzr: &str) -> Option<(NaiveDate, bool)> {
    let digits: Vec<u32> = unzr.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 13 || unzr.len() != 14 || unzr.as_bytes()[8] != b'-' {
        return None;
    }
    let date = NaiveDate::parse_from_str(&unzr[..8], "%Y%m%d").ok()?;
    let sum: u32 = digits[..12]
        .iter()
        .zip([7, 3, 1].iter().cycle())
        .map(|(d, w)| d * w)
        .sum();
    Some((date, sum % 10 == digits[12]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }
    const TODAY: fn() -> NaiveDate = || NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();

    #[test]
    fn dates_come_in_every_usual_form() {
        let s = |v: &str| Data::String(v.into());
        for (text, kind, expected) in [
            ("28.02.1948", DateKind::Past, d(1948, 2, 28)),
            ("5.3.52", DateKind::Past, d(1952, 3, 5)),
            ("5.3.25", DateKind::Past, d(2025, 3, 5)),
            ("5.3.27", DateKind::Any, d(2027, 3, 5)),
            ("1948-02-28", DateKind::Past, d(1948, 2, 28)),
            ("28/02/1948", DateKind::Past, d(1948, 2, 28)),
        ] {
            assert_eq!(date(&s(text), kind, TODAY()), Ok(expected), "{text}");
        }
        assert_eq!(
            date(
                &Data::DateTimeIso("1948-02-28T00:00:00".into()),
                DateKind::Past,
                TODAY()
            ),
            Ok(d(1948, 2, 28))
        );
        // 17591 is 1948-02-28 in Excel's 1900 system.
        assert_eq!(
            date(&Data::Float(17591.0), DateKind::Past, TODAY()),
            Ok(d(1948, 2, 28))
        );
        assert_eq!(
            date(&Data::Int(17591), DateKind::Past, TODAY()),
            Ok(d(1948, 2, 28))
        );
    }

    #[test]
    fn impossible_dates_say_why() {
        let s = |v: &str| Data::String(v.into());
        let e = date(&s("31.02.1950"), DateKind::Past, TODAY()).unwrap_err();
        assert!(e.en.contains("not a real date"), "{e}");
        assert!(e.uk.contains("такої дати не існує"), "{}", e.uk);
        let e = date(&s("вчора"), DateKind::Past, TODAY()).unwrap_err();
        assert!(e.en.contains("expected a date like 28.02.1948"), "{e}");
        assert!(date(&Data::Float(-3.0), DateKind::Past, TODAY()).is_err());
        assert!(date(&s("12.1948"), DateKind::Past, TODAY()).is_err());
    }

    #[test]
    fn money_becomes_integer_kopecks() {
        let s = |v: &str| Data::String(v.into());
        assert_eq!(kopecks(&s("4 120,50")), Ok(Some(412050)));
        assert_eq!(kopecks(&s("4120.5")), Ok(Some(412050)));
        assert_eq!(kopecks(&s("4660 грн")), Ok(Some(466000)));
        assert_eq!(kopecks(&s("4\u{a0}660,00")), Ok(Some(466000)));
        assert_eq!(kopecks(&s(",5")), Ok(Some(50)));
        assert_eq!(kopecks(&Data::Float(4120.5)), Ok(Some(412050)));
        assert_eq!(kopecks(&Data::Float(0.1 + 0.2)), Ok(Some(30)));
        assert_eq!(kopecks(&Data::Int(4660)), Ok(Some(466000)));
        assert_eq!(kopecks(&Data::Empty), Ok(None));
        assert_eq!(kopecks(&s("  ")), Ok(None));
        assert!(kopecks(&s("-5")).unwrap_err().en.contains("negative"));
        assert!(
            kopecks(&s("4120,505"))
                .unwrap_err()
                .en
                .contains("more than two decimals")
        );
        assert!(
            kopecks(&Data::Float(4120.505))
                .unwrap_err()
                .en
                .contains("fractions of a kopeck")
        );
        assert!(kopecks(&s("багато")).is_err());
        assert!(kopecks(&s("1.2.3")).is_err());
        // Thousands grouped, as LibreOffice saves a CSV in an English or a
        // German locale.
        assert_eq!(kopecks(&s("3,200.50")), Ok(Some(320050)));
        assert_eq!(kopecks(&s("1,234,567.00")), Ok(Some(123456700)));
        assert_eq!(kopecks(&s("3.200,50")), Ok(Some(320050)));
        assert!(kopecks(&s("32,00.50")).is_err());
        assert!(kopecks(&s(",200.50")).is_err());
        // An accountant's dash between hryvnias and kopecks.
        assert_eq!(kopecks(&s("3 987-40")), Ok(Some(398740)));
        assert_eq!(kopecks(&s("4215-00 грн")), Ok(Some(421500)));
        assert!(kopecks(&s("3987-4")).is_err());
        assert!(kopecks(&s("39-87-40")).is_err());
    }

    /// One mobile number written the usual ways.
    const ONE_MOBILE: [&str; 5] = [
        "067 123 45 67",
        "(067)1234567",
        "+38 067-123-45-67",
        "380671234567",
        "0671234567",
    ];

    #[test]
    fn phones_become_e164() {
        for raw in ONE_MOBILE {
            assert_eq!(phone(raw).as_deref(), Ok("+380671234567"), "{raw}");
        }
        assert_eq!(phone("0563 12 34 56").as_deref(), Ok("+380563123456"));
        assert!(phone("12345").is_err());
        assert!(phone("067 123 45 6").is_err());
    }

    #[test]
    fn remembered_ranges_agree_with_the_crate() {
        let mut phones = Phones::default();
        for raw in ONE_MOBILE.into_iter().chain([
            "0563 12 34 56",
            "12345",
            "067 123 45 6",
            "0001234567",
            "+44 20 7946 0958",
            "0671234567 дом.",
            "+380 99 000 00 00",
            "0441234567",
            "0991234567",
        ]) {
            assert_eq!(phones.read(raw), phone(raw), "{raw}");
            // Asked twice: the remembered answer is the same.
            assert_eq!(phones.read(raw), phone(raw), "{raw}");
        }
    }

    #[test]
    fn emails_are_checked_and_domains_lowercased() {
        assert_eq!(email(" Ivan.P@UKR.NET ").as_deref(), Ok("Ivan.P@ukr.net"));
        for bad in [
            "ivan@@ukr",
            "ivan",
            "@ukr.net",
            "ivan@ukr",
            "iv an@ukr.net",
            "ivan@ukr..net",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_cells_are_cut_and_quoted_short_with_their_length() {
        let long = "я".repeat(32_767);
        let cut = clip(long.clone());
        assert!(cut.chars().count() < CELL_CHARS + 10);
        assert_eq!(uncut(&cut).1, 32_767);
        assert_eq!(uncut(&cut).0, "я".repeat(CELL_CHARS));
        assert_eq!(clip("коротко".into()), "коротко");
        assert_eq!(uncut("коротко"), ("коротко", 7));
        let q = quoted(&cut);
        assert_eq!(
            q,
            format!("\"{}…\" (32767 characters)", "я".repeat(QUOTE_CHARS))
        );
        assert_eq!(
            quoted(&"я".repeat(81)),
            format!("\"{}…\" (81 characters)", "я".repeat(80))
        );
        assert_eq!(quoted("a\"b"), "\"a\\\"b\"");
        assert!(quoted_uk(&cut).ends_with("(32767 символів)"));
    }

    #[test]
    fn numbers_read_as_text_lose_no_digits() {
        assert_eq!(text(&Data::Float(759013776.0)), "759013776");
        assert_eq!(text(&Data::Int(42)), "42");
        assert_eq!(text(&Data::String("  a  b ".into())), "a b");
    }

    const GENITIVE: [&str; 12] = [
        "січня",
        "лютого",
        "березня",
        "квітня",
        "травня",
        "червня",
        "липня",
        "серпня",
        "вересня",
        "жовтня",
        "листопада",
        "грудня",
    ];

    /// A date as offices write it: `form` picks one of the usual ways.
    fn written_date(date: NaiveDate, form: usize) -> String {
        let (d, m, y) = (date.day(), date.month(), date.year());
        let month = GENITIVE[m as usize - 1];
        let short: String = month.chars().take(3).collect();
        match form {
            0 => format!("{d}.{m}.{y}"),
            1 => format!("{d:02}.{m:02}.{y} р."),
            2 => format!("{d:02}.{m:02}.{y}р."),
            3 => format!("{d} {month} {y} р."),
            4 => format!("{d:02} {month} {y}"),
            5 => format!("{d} {month} {y} року"),
            6 => format!("{d} {short}. {y} р."),
            _ => format!("{d:02}.{m:02}.{y}"),
        }
    }

    #[test]
    fn month_names_in_the_genitive_nominative_and_cut_short() {
        assert_eq!(month_number("березня"), Some(3));
        assert_eq!(month_number("Березень"), Some(3));
        assert_eq!(month_number("лист."), Some(11));
        assert_eq!(month_number("бер."), Some(3));
        assert_eq!(month_number("березоля"), None);
        assert_eq!(month_number("бе"), None);
        let s = |v: &str| Data::String(v.into());
        assert_eq!(
            date(&s("2.3.1951"), DateKind::Past, TODAY()),
            Ok(d(1951, 3, 2))
        );
        assert_eq!(
            date(&s("12 березня 51 р."), DateKind::Past, TODAY()),
            Ok(d(1951, 3, 12))
        );
        let e = date(&s("12 березоля 1950 р."), DateKind::Past, TODAY()).unwrap_err();
        assert!(
            e.en.contains("\"12 березоля 1950 р.\" is not a date"),
            "{e}"
        );
        let e = date(&s("31 лютого 1950 р."), DateKind::Past, TODAY()).unwrap_err();
        assert!(e.uk.contains("такої дати не існує"), "{}", e.uk);
        assert_eq!(
            date(&s("«12» березня 1951 р."), DateKind::Past, TODAY()),
            Ok(d(1951, 3, 12))
        );
        assert_eq!(
            date(&s("12.03.1951 р.н."), DateKind::Past, TODAY()),
            Ok(d(1951, 3, 12))
        );
        assert_eq!(
            date(&s("12.03.1951 0:00:00"), DateKind::Past, TODAY()),
            Ok(d(1951, 3, 12))
        );
        assert!(date(&s("р."), DateKind::Past, TODAY()).is_err());
        assert!(date(&s("12 13 1950"), DateKind::Past, TODAY()).is_err());
    }

    #[test]
    fn money_in_words_and_a_dash_for_none() {
        let s = |v: &str| Data::String(v.into());
        assert_eq!(kopecks(&s("3120 грн 50 коп.")), Ok(Some(312050)));
        assert_eq!(kopecks(&s("3 120 грн. 05 коп")), Ok(Some(312005)));
        assert_eq!(kopecks(&s("3 120,50 грн")), Ok(Some(312050)));
        assert_eq!(kopecks(&s("50 коп.")), Ok(Some(50)));
        assert_eq!(kopecks(&s("3120,50 ₴")), Ok(Some(312050)));
        for none in ["-", "—", "–", "немає", " - "] {
            assert_eq!(kopecks(&s(none)), Ok(None), "{none}");
        }
        assert!(kopecks(&s("3120 грн 150 коп.")).is_err());
        assert!(kopecks(&s("3120,50 грн 50 коп.")).is_err());
        assert!(kopecks(&s("-5")).unwrap_err().en.contains("negative"));
    }

    #[test]
    fn sex_abbreviations_of_the_words() {
        use crate::identity::Sex;
        for (raw, expected) in [
            ("чолов.", Sex::Male),
            ("чол.", Sex::Male),
            ("Ч", Sex::Male),
            ("чоловіча", Sex::Male),
            ("жіноч.", Sex::Female),
            ("жін.", Sex::Female),
            ("жіноча", Sex::Female),
            ("Ж", Sex::Female),
        ] {
            assert_eq!(sex(raw), Some(expected), "{raw}");
        }
        assert_eq!(sex("чоловічо-жіноча"), None);
        assert_eq!(sex("х"), None);
        assert_eq!(sex("д"), None);
        assert_eq!(sex("1"), None);
        assert_eq!(sex(""), None);
    }

    #[test]
    fn a_childs_sex_is_written_boy_or_girl() {
        use crate::identity::Sex;
        for (raw, expected) in [
            ("хл.", Sex::Male),
            ("хл", Sex::Male),
            ("Хл.", Sex::Male),
            ("ХЛ", Sex::Male),
            ("хлопч.", Sex::Male),
            ("хлопчик", Sex::Male),
            ("Хлопчик", Sex::Male),
            ("дів.", Sex::Female),
            ("Дів", Sex::Female),
            ("ДІВ.", Sex::Female),
            ("дівч.", Sex::Female),
            ("дівчинка", Sex::Female),
            ("Дівчинка", Sex::Female),
        ] {
            assert_eq!(sex(raw), Some(expected), "{raw}");
        }
    }

    #[test]
    fn a_date_typed_as_an_excel_serial_is_read_with_a_note() {
        let s = |v: &str| Data::String(v.into());
        for (text, expected) in [
            ("19432", d(1953, 3, 14)),
            ("19432.0", d(1953, 3, 14)),
            (" 19432 ", d(1953, 3, 14)),
            ("17591", d(1948, 2, 28)),
            ("61", d(1900, 3, 1)),
            ("59", d(1900, 2, 28)),
            ("2", d(1900, 1, 2)),
        ] {
            let (date, note) = date_noted(&s(text), DateKind::Past, TODAY()).unwrap();
            assert_eq!(date, expected, "{text}");
            let note = note.expect("a note");
            let shown = expected.format("%Y-%m-%d");
            assert!(
                note.en.contains(&format!(
                    "read {} as an Excel date serial: {shown}",
                    text.trim()
                )),
                "{note}"
            );
            assert!(
                note.uk.contains("як порядковий номер дати Excel"),
                "{}",
                note.uk
            );
        }
        // No 29 February 1900 (Excel's leap-year bug), nothing after today,
        // nothing a year alone or a date without its dots could be.
        for text in [
            "60", "0", "-5", "73050", "46353", "1951", "12031951", "19432.5", "1e4",
        ] {
            let e = date(&s(text), DateKind::Past, TODAY()).unwrap_err();
            assert!(e.en.contains(&format!("{text:?}")), "{text}: {e}");
        }
        let e = date(&s("1951"), DateKind::Past, TODAY()).unwrap_err();
        assert!(e.en.contains("only a year"), "{e}");
        // A real date cell needs no note.
        assert_eq!(
            date_noted(&Data::Float(17591.0), DateKind::Past, TODAY()),
            Ok((d(1948, 2, 28), None))
        );
        assert_eq!(
            date_noted(&s("28.02.1948"), DateKind::Past, TODAY()),
            Ok((d(1948, 2, 28), None))
        );
    }

    #[test]
    fn dates_with_the_year_word_and_two_digit_years() {
        let s = |v: &str| Data::String(v.into());
        for (text, expected) in [
            ("23.07.85", d(1985, 7, 23)),
            ("12.03.1951 р.", d(1951, 3, 12)),
            ("12.03.1951р.", d(1951, 3, 12)),
            ("12.03.1951 року", d(1951, 3, 12)),
            ("5 лютого 1962 р.", d(1962, 2, 5)),
            ("5 лютого 1962р.", d(1962, 2, 5)),
            ("05 лютого 1962 року", d(1962, 2, 5)),
            ("«5» лютого 1962 р.", d(1962, 2, 5)),
            ("12.III.1951", d(1951, 3, 12)),
            ("12.ІІІ.1951 р.", d(1951, 3, 12)),
            ("1.XII.49", d(1949, 12, 1)),
            ("01.ix.1960", d(1960, 9, 1)),
        ] {
            assert_eq!(
                date(&s(text), DateKind::Past, TODAY()),
                Ok(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn contact_cells_keep_what_is_written_and_read_every_number() {
        let mut phones = Phones::default();
        let c = phones.contact("067 123 45 67, 050 765 43 21");
        assert_eq!(c.kept.as_deref(), Some("+380671234567, +380507654321"));
        assert!(c.note.is_some());
        let c = phones.contact("0671234567 0507654321");
        assert_eq!(c.kept.as_deref(), Some("+380671234567 +380507654321"));
        let c = phones.contact("8 067 1234567");
        assert_eq!(
            c,
            Contact {
                kept: Some("+380671234567".into()),
                note: None
            }
        );
        let c = phones.contact("+38 (067) 123-45-67 (син)");
        assert_eq!(c.kept.as_deref(), Some("+380671234567 (син)"));
        let note = c.note.unwrap();
        assert!(note.en.contains("\"+38 (067) 123-45-67 (син)\""), "{note}");
        let c = phones.contact("12-34-56");
        assert_eq!(c.kept.as_deref(), Some("12-34-56"));
        assert!(c.note.unwrap().uk.contains("збережено як написано"));
        for none in ["немає", "-", "—", "нема"] {
            assert_eq!(
                phones.contact(none),
                Contact {
                    kept: None,
                    note: None
                }
            );
            assert_eq!(
                email_contact(none),
                Contact {
                    kept: None,
                    note: None
                }
            );
        }
        let e = email_contact("maria@");
        assert_eq!(e.kept.as_deref(), Some("maria@"));
        assert!(e.note.unwrap().en.ends_with("kept as written"));
        assert_eq!(
            email_contact("A@UKR.NET").kept.as_deref(),
            Some("A@ukr.net")
        );
    }

    #[test]
    fn identity_documents_in_the_forms_of_the_law() {
        use crate::identity::Passport;
        let id = |s: Option<&str>, n: &str| id_document(s, n).map(|r| r.document);
        let booklet = Some(IdDocument::Passport(Passport::Booklet("МК512345".into())));
        assert_eq!(id(None, "серія МК № 512345"), booklet);
        assert_eq!(id(Some("МК"), "512345"), booklet);
        assert_eq!(id(Some("серія MK"), "№ 512345"), booklet);
        let card = Some(IdDocument::Passport(Passport::IdCard("002345678".into())));
        assert_eq!(id(None, "ID 002345678"), card);
        assert_eq!(id(None, "ID-картка № 002345678"), card);
        assert_eq!(id(Some("ID"), "002345678"), card);
        assert_eq!(id(Some("—"), "002345678"), card);
        let r = id_document(Some("—"), "002345678, УНЗР 19510312-01234").unwrap();
        assert_eq!(r.document, card.clone().unwrap());
        assert_eq!(r.unzr.as_deref(), Some("19510312-01234"));
        let r = id_document(None, "ID-картка № 002345678 (УНЗР 19510312-01234)").unwrap();
        assert_eq!(r.unzr.as_deref(), Some("19510312-01234"));
        let cert = Some(IdDocument::BirthCertificate("I-АП123456".into()));
        assert_eq!(id(None, "І-АП № 123456"), cert);
        assert_eq!(id(Some("І-АП"), "123456"), cert);
        assert_eq!(id(None, "свідоцтво про народження I-AП 123456"), cert);
        assert_eq!(
            id(None, "МК 512345, виданий Павлоградським МВ УМВС 12.03.1999"),
            booklet
        );
        assert_eq!(id(None, "ID-картка 002345678, орган 1223"), card);
        assert_eq!(
            id(None, "паспорт громадянина України у формі картки 002345678"),
            card
        );
        assert_eq!(id(None, "паспорт старого зразка МК 512345"), booklet);
        assert_eq!(id(None, "св-во про народж. І-АП № 123456"), cert);
        assert_eq!(id(None, "св. І-АП 123456"), cert);
        assert_eq!(id(None, "пасп. МК 512345"), booklet);
        assert_eq!(
            id(None, "СВ 512345"),
            Some(IdDocument::Passport(Passport::Booklet("СВ512345".into())))
        );
        assert_eq!(
            id(None, "паспорт МК 512345 (зберігається в сейфі закладу)"),
            booklet
        );
        assert_eq!(
            id(None, "МК 512345, вид. Тернівським МВ УМВС 1999 р."),
            booklet
        );
        for (series, number) in [
            (None, "свідоцтво про народження І-АП № 123456"),
            (None, "св-во про народж. І-АП 123456"),
            (None, "І-АП №123456"),
            (None, "I-АП 123456"),
            (None, "І - АП № 123456"),
            (None, "І–АП № 123456"),
            (None, "Свідоцтво про народження серія І-АП номер 123456"),
            (
                None,
                "свідоцтво про народження серії І-АП № 123456, видане 12.03.2015",
            ),
            (None, "I-AП N 123456"),
            (Some("І-АП"), "123456"),
            (Some("І - АП"), "№ 123456"),
            (Some("I-АП"), "123456"),
            (Some("I-AП"), "№123456"),
            (Some("серія І-АП"), "№ 123456"),
        ] {
            assert_eq!(id(series, number), cert, "{series:?} {number}");
        }
        let other = |s: &str| Some(IdDocument::BirthCertificate(s.to_string()));
        assert_eq!(id(Some("ІІ-КГ"), "623400"), other("II-КГ623400"));
        assert_eq!(id(None, "ХІІ-ОЕ 000123"), other("XII-ОЕ000123"));
        for written in [
            "св. про народж. І-АП №123456",
            "свід. про нар. І-АП 123456",
            "ІАП 123456",
            "I АП 123456",
            "1-АП 123456",
        ] {
            assert_eq!(id(None, written), cert, "{written}");
        }
        assert_eq!(id(Some("І"), "АП 123456"), cert);
        assert_eq!(id(None, "МК/512345"), booklet);
        assert_eq!(id(None, "ІD 002345678"), card);
        assert_eq!(
            id(None, "ID картка №002345678, запис № 19510312-01234"),
            card
        );
        assert_eq!(id(None, "АВ 12345"), None);
        assert_eq!(
            id(Some("СВ"), "123456"),
            Some(IdDocument::Passport(Passport::Booklet("СВ123456".into())))
        );
        assert_eq!(id(None, "'МК512345"), booklet);
        assert_eq!(id(Some("'МК"), "'512345"), booklet);
        assert_eq!(id(Some("МК"), "5123"), None);
        assert_eq!(id(None, "А123456"), None);
        assert_eq!(id(None, "ID 12345"), None);
    }

    #[test]
    fn unzr_dates_and_check_digits() {
        let (date, ok) = unzr_check("19510312-01234").unwrap();
        assert_eq!(date, d(1951, 3, 12));
        let digits = "195103120123";
        let sum: u32 = digits
            .chars()
            .filter_map(|c| c.to_digit(10))
            .zip([7, 3, 1].iter().cycle())
            .map(|(d, w)| d * w)
            .sum();
        assert_eq!(ok, sum % 10 == 4);
        assert_eq!(unzr_check("19511312-01234"), None);
        assert_eq!(unzr_check("1951031201234"), None);
    }

    proptest! {
        #[test]
        fn cell_readers_never_panic(s in "\\PC{0,30}", f in proptest::num::f64::ANY) {
            let cell = Data::String(s.clone());
            let _ = date(&cell, DateKind::Past, TODAY());
            let _ = date(&Data::Float(f), DateKind::Any, TODAY());
            let _ = kopecks(&cell);
            let _ = kopecks(&Data::Float(f));
            let _ = phone(&s);
            let _ = email(&s);
            let _ = id_document(Some(&s), &s);
            let _ = unzr_check(&s);
            let _ = sex(&s);
            let _ = month_number(&s);
        }

        #[test]
        fn dates_read_in_every_office_form(days in 0i64..46_000, form in 0usize..8) {
            let born = d(1900, 1, 1) + chrono::Duration::days(days);
            let written = written_date(born, form);
            prop_assert_eq!(
                date(&Data::String(written.clone()), DateKind::Past, TODAY()),
                Ok(born),
                "{}", written
            );
        }

        #[test]
        fn sex_words_cut_short_in_any_case(
            word in prop::sample::select(vec![
                ("чоловіча", 1usize, true),
                ("жіноча", 1, false),
                ("хлопчик", 2, true),
                ("дівчинка", 3, false),
            ]),
            cut in 0usize..8,
            upper in any::<bool>(),
            dot in any::<bool>(),
        ) {
            let (full, least, male) = word;
            let n = least + cut % (full.chars().count() - least + 1);
            let mut written: String = full.chars().take(n).collect();
            if upper {
                written = written.to_uppercase();
            }
            if dot {
                written.push('.');
            }
            let expected = if male { crate::identity::Sex::Male } else { crate::identity::Sex::Female };
            prop_assert_eq!(sex(&written), Some(expected), "{}", written);
        }

        #[test]
        fn excel_serials_typed_as_text_read_back(days in 0i64..46_000, dot in any::<bool>()) {
            let born = d(1900, 3, 1) + chrono::Duration::days(days);
            let serial = (born - d(1899, 12, 30)).num_days();
            prop_assume!(!year_alone(serial as u64));
            let written = if dot { format!("{serial}.0") } else { serial.to_string() };
            let (got, note) =
                date_noted(&Data::String(written.clone()), DateKind::Past, TODAY()).unwrap();
            prop_assert_eq!(got, born);
            let said = format!("read {written} as");
            prop_assert!(note.unwrap().en.contains(&said));
            prop_assert_eq!(date(&Data::Float(serial as f64), DateKind::Past, TODAY()), Ok(born));
        }

        #[test]
        fn two_digit_years_of_birth_are_in_the_past(days in 0i64..36_000) {
            let born = TODAY() - chrono::Duration::days(days);
            let written = format!("{:02}.{:02}.{:02}", born.day(), born.month(), born.year() % 100);
            prop_assert_eq!(date(&Data::String(written), DateKind::Past, TODAY()), Ok(born));
        }

        #[test]
        fn hryvnias_and_kopecks_in_words(h in 0i64..10_000_000, k in 0i64..100) {
            let grouped = {
                let digits = h.to_string();
                let mut out = String::new();
                for (i, c) in digits.chars().enumerate() {
                    if i > 0 && (digits.len() - i) % 3 == 0 {
                        out.push(' ');
                    }
                    out.push(c);
                }
                out
            };
            let s = |v: String| Data::String(v);
            prop_assert_eq!(kopecks(&s(format!("{h} грн {k:02} коп."))), Ok(Some(h * 100 + k)));
            prop_assert_eq!(kopecks(&s(format!("{grouped},{k:02} грн"))), Ok(Some(h * 100 + k)));
        }

        #[test]
        fn phones_in_every_office_form_are_read(
            op in prop::sample::select(vec!["67", "50", "97", "63", "66", "95", "99", "73", "68"]),
            n in 0u32..10_000_000,
            m in 0u32..10_000_000,
            note in prop::sample::select(vec!["", " (син)", " дом.", " - дочка"]),
        ) {
            let e164 = format!("+380{op}{n:07}");
            let other = format!("+38050{m:07}");
            let plain = format!("0{op}{n:07}");
            let spaced = format!("0{op} {} {} {}", &format!("{n:07}")[..3], &format!("{n:07}")[3..5], &format!("{n:07}")[5..]);
            let mut phones = Phones::default();
            for written in [
                plain.clone(),
                spaced.clone(),
                format!("8 0{op} {n:07}"),
                format!("+38 (0{op}) {n:07}"),
            ] {
                let cell = format!("{written}{note}");
                let c = phones.contact(&cell);
                prop_assert_eq!(c.kept.clone(), Some(format!("{e164}{note}")), "{}", cell);
                prop_assert_eq!(c.note.is_some(), !note.is_empty());
            }
            for two in [format!("{spaced}, 050{m:07}"), format!("{plain} 050{m:07}"), format!("{plain}; 050 {m:07}")] {
                let c = phones.contact(&two);
                let kept = c.kept.unwrap_or_default();
                prop_assert!(kept.contains(&e164) && kept.contains(&other), "{} -> {}", two, kept);
            }
        }

        #[test]
        fn contact_cells_never_refuse_and_keep_something(s in "\\PC{1,40}") {
            let mut phones = Phones::default();
            let c = phones.contact(&s);
            prop_assert!(c.kept.is_some() || says_none(&s) || s.trim().is_empty());
            let e = email_contact(&s);
            prop_assert!(e.kept.is_some() || says_none(&s) || s.trim().is_empty());
        }

        #[test]
        fn passports_in_every_written_form(
            a in prop::sample::select(vec!['А', 'В', 'К', 'М', 'Н', 'С', 'Т', 'Ю', 'Є', 'І']),
            b in prop::sample::select(vec!['А', 'В', 'Е', 'К', 'Н', 'О', 'Р', 'Я']),
            n in 0u32..1_000_000,
            id in 0u32..1_000_000_000,
            form in 0usize..5,
        ) {
            use crate::identity::Passport;
            let series = format!("{a}{b}");
            let number = format!("{n:06}");
            let (s, num): (Option<String>, String) = match form {
                0 => (None, format!("серія {series} № {number}")),
                1 => (Some(series.clone()), number.clone()),
                2 => (Some(format!("серія {series}")), format!("№ {number}")),
                3 => (None, format!("{series} {number}")),
                _ => (None, format!("{}-{number}", series.to_lowercase())),
            };
            prop_assert_eq!(
                id_document(s.as_deref(), &num).map(|r| r.document),
                Some(IdDocument::Passport(Passport::Booklet(format!("{series}{number}"))))
            );
            let card = format!("{id:09}");
            let unzr = format!("19{:02}0101-{:05}", id % 100, n % 100_000);
            for (s, num) in [
                (None, format!("ID {card}")),
                (None, format!("ID-картка № {card} (УНЗР {unzr})")),
                (Some("ID".to_string()), card.clone()),
                (Some("—".to_string()), format!("{card}, УНЗР {unzr}")),
            ] {
                let r = id_document(s.as_deref(), &num).unwrap();
                prop_assert_eq!(r.document, IdDocument::Passport(Passport::IdCard(card.clone())));
                prop_assert_eq!(r.unzr.is_some(), num.contains("УНЗР"));
            }
            let roman = ["І", "II", "ІІІ", "IV", "V"][form];
            let latin = ["I", "II", "III", "IV", "V"][form];
            prop_assert_eq!(
                id_document(None, &format!("{roman}-{series} № {number}")).map(|r| r.document),
                Some(IdDocument::BirthCertificate(format!("{latin}-{series}{number}")))
            );
        }

        #[test]
        fn birth_certificates_in_every_written_form(
            roman in prop::sample::select(vec!["І", "II", "ІІІ", "IV", "V", "VI", "ІХ", "X", "ХІІ"]),
            a in prop::sample::select(vec!['А', 'В', 'Е', 'К', 'М', 'Н', 'О', 'Р', 'С', 'Т', 'Ж', 'П', 'Л']),
            b in prop::sample::select(vec!['А', 'Б', 'Г', 'Д', 'К', 'П', 'Р', 'Т', 'Ю', 'Я']),
            n in 0u32..1_000_000,
            form in 0usize..7,
            latin in any::<bool>(),
        ) {
            let to_latin = |c: char| match c {
                'А' => 'A', 'В' => 'B', 'Е' => 'E', 'К' => 'K', 'М' => 'M', 'Н' => 'H',
                'О' => 'O', 'Р' => 'P', 'С' => 'C', 'Т' => 'T', 'І' => 'I', 'Х' => 'X',
                c => c,
            };
            let typed = |s: String| if latin { s.chars().map(to_latin).collect() } else { s };
            let series = typed(format!("{a}{b}"));
            let roman_typed = typed(roman.to_string());
            let number = format!("{n:06}");
            let (s, num): (Option<String>, String) = match form {
                0 => (None, format!("свідоцтво про народження {roman_typed}-{series} № {number}")),
                1 => (None, format!("св-во про народж. {roman_typed}-{series} {number}")),
                2 => (None, format!("{roman_typed} - {series} №{number}")),
                3 => (None, format!("{roman_typed}–{series} {number}")),
                4 => (Some(format!("{roman_typed}-{series}")), number.clone()),
                5 => (Some(format!("{roman_typed} - {series}")), format!("№ {number}")),
                _ => (None, format!("{roman_typed}{series} {number}")),
            };
            let stored: String = roman.chars().map(to_latin).collect();
            prop_assert_eq!(
                id_document(s.as_deref(), &num).map(|r| r.document),
                Some(IdDocument::BirthCertificate(format!("{stored}-{a}{b}{number}")))
            );
        }

        #[test]
        fn typed_amounts_round_trip(k in 0i64..10_000_000_000) {
            let typed = format!("{},{:02}", k / 100, k % 100);
            prop_assert_eq!(kopecks(&Data::String(typed)), Ok(Some(k)));
        }
    }
}
