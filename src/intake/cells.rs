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
    match cell {
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

fn text_date(s: &str, kind: DateKind, today: NaiveDate) -> Result<NaiveDate, Why> {
    let bad = || {
        why!(
            "{s:?} — не дата; очікується дата на зразок 28.02.1948",
            "{s:?} is not a date; expected a date like 28.02.1948"
        )
    };
    // ISO, possibly with a time part (ODS writes 1948-02-28T00:00:00).
    let iso = s.split(['T', ' ']).next().unwrap_or(s);
    if let Ok(d) = NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        return Ok(d);
    }
    let parts: Vec<&str> = s.split(['.', '/', '-']).map(str::trim).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    let (d, m, y) = (parts[0], parts[1], parts[2]);
    if d.len() > 2 || m.len() > 2 {
        return Err(bad());
    }
    let day: u32 = d.parse().map_err(|_| bad())?;
    let month: u32 = m.parse().map_err(|_| bad())?;
    let year: i32 = match y.len() {
        4 => y.parse().map_err(|_| bad())?,
        2 => {
            let yy: i32 = y.parse().map_err(|_| bad())?;
            let century = today.year() / 100 * 100;
            match kind {
                // A birth date is in the past: `5.3.52` is 1952.
                DateKind::Past if century + yy > today.year() => century - 100 + yy,
                _ => century + yy,
            }
        }
        _ => return Err(bad()),
    };
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        why!(
            "{s:?} — такої дати не існує (день {day}, місяць {month}, рік {year})",
            "{s:?} is not a real date (day {day}, month {month}, year {year})"
        )
    })
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

fn text_kopecks(raw: &str) -> Result<Option<i64>, Why> {
    let bad = || not_an_amount(&format!("{raw:?}"));
    let lowered = raw.to_lowercase();
    let s: String = lowered
        .trim()
        .trim_end_matches("грн.")
        .trim_end_matches("грн")
        .trim_end_matches("uah")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\'')
        .collect();
    if s.is_empty() {
        return Ok(None);
    }
    if s.starts_with('-') {
        return Err(negative(&format!("{raw:?}")));
    }
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
        }

        #[test]
        fn typed_amounts_round_trip(k in 0i64..10_000_000_000) {
            let typed = format!("{},{:02}", k / 100, k % 100);
            prop_assert_eq!(kopecks(&Data::String(typed)), Ok(Some(k)));
        }
    }
}
