//! Money as kartka keeps it: integer kopecks, everywhere. This is the one
//! place kopecks become text (for people and for a workbook formula's
//! stored result) or a spreadsheet number format.

/// The largest fare `[[tariffs]]` accepts: 10,000 UAH a trip.
pub const MAX_FARE: i64 = 1_000_000;
/// The largest card fee `[[cards.fees]]` accepts: 10,000 UAH.
pub const MAX_FEE: i64 = 1_000_000;
/// The largest amount a `[[budget]]` entry or a tolerance accepts:
/// 100 billion UAH. A thousand such entries still sum inside an `i64`.
pub const MAX_AMOUNT: i64 = 10_000_000_000_000;

/// `what = value` refused for being over `max` kopecks: the entry, the
/// value and the bound, for a configuration error.
pub fn over(what: &str, value: i128, max: i64) -> Option<String> {
    (value > i128::from(max)).then(|| {
        format!(
            "{what} = {value} is more than kartka accepts, {max} ({}); amounts are kopecks (1 UAH = 100)",
            uah(max)
        )
    })
}

/// The largest sum of money kartka keeps: 2^62 kopecks (about 46 million
/// billion UAH), so the difference of two sums also fits an `i64`.
pub const MAX_SUM: i64 = 1 << 62;

/// A sum of money past `MAX_SUM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a sum of money exceeds 46116860184273879.04 UAH, the most kartka counts: check the fares and fees in kartka.toml"
)]
pub struct Overflow;

fn within(v: Option<i64>) -> Result<i64, Overflow> {
    v.filter(|v| v.unsigned_abs() <= MAX_SUM.unsigned_abs())
        .ok_or(Overflow)
}

/// `a + b` kopecks; past `MAX_SUM` is an error, never a wrapped total.
pub fn add(a: i64, b: i64) -> Result<i64, Overflow> {
    within(a.checked_add(b))
}

/// `count` trips at `fare` kopecks each.
pub fn times(count: i64, fare: i64) -> Result<i64, Overflow> {
    within(count.checked_mul(fare))
}

/// The sum of `amounts`; an overflow is an error.
pub fn sum(amounts: impl IntoIterator<Item = i64>) -> Result<i64, Overflow> {
    amounts.into_iter().try_fold(0i64, add)
}

/// Kopecks as an exact decimal of hryvnias: `123456` → `1234.56`,
/// `-5` → `-0.05`. No float is involved.
pub fn decimal(kopecks: i64) -> String {
    let sign = if kopecks < 0 { "-" } else { "" };
    let k = kopecks.unsigned_abs();
    format!("{sign}{}.{:02}", k / 100, k % 100)
}

/// Kopecks for a CLI message: `1234.56 UAH`.
pub fn uah(kopecks: i64) -> String {
    format!("{} UAH", decimal(kopecks))
}

/// Kopecks for a Ukrainian reader: `1234.56 грн`.
pub fn grn(kopecks: i64) -> String {
    format!("{} грн", decimal(kopecks))
}

/// Kopecks as hryvnias in a spreadsheet cell's value. A workbook stores
/// the number; every total's cached value is `decimal` of the integer sum.
pub fn cell_value(kopecks: i64) -> f64 {
    decimal(kopecks).parse().expect("a decimal")
}

/// The money format of every workbook: grouped thousands, two decimals,
/// the hryvnia sign. Excel and LibreOffice show the grouping and the
/// decimal separator of the reader's locale (a Ukrainian one: `1 234,56 ₴`).
pub const XLSX_FORMAT: &str = "#,##0.00 \"₴\"";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kopecks_become_exact_text() {
        assert_eq!(decimal(123_456), "1234.56");
        assert_eq!(decimal(-5), "-0.05");
        assert_eq!(decimal(0), "0.00");
        assert_eq!(decimal(i64::MIN), "-92233720368547758.08");
        assert_eq!(uah(150_000), "1500.00 UAH");
        assert_eq!(grn(12_000), "120.00 грн");
        assert_eq!(cell_value(123_456), 1234.56);
    }

    #[test]
    fn sums_that_overflow_are_errors() {
        assert_eq!(sum([1, 2, 3]), Ok(6));
        assert_eq!(sum([i64::MAX, 1]), Err(Overflow));
        assert_eq!(sum([MAX_SUM, 1]), Err(Overflow));
        assert_eq!(sum([MAX_SUM, -MAX_SUM]), Ok(0));
        assert_eq!(decimal(MAX_SUM), "46116860184273879.04");
        assert_eq!(times(2, i64::MAX), Err(Overflow));
        assert_eq!(add(i64::MIN, -1), Err(Overflow));
        assert!(over("fare_kopecks", i128::from(i64::MAX), MAX_FARE).is_some_and(|m| m
            .contains("fare_kopecks = 9223372036854775807 is more than kartka accepts, 1000000 (10000.00 UAH)")));
        assert_eq!(over("fare_kopecks", 1_000_000, MAX_FARE), None);
    }
}
