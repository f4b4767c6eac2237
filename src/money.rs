//! Money as kartka keeps it: integer kopecks, everywhere. This is the one
//! place kopecks become text (for people and for a workbook formula's
//! stored result) or a spreadsheet number format.

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
}
