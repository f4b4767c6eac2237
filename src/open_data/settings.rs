//! `[open_data]` in kartka.toml: the smallest group a published number may
//! describe, the days that count as holidays, and the publication key.

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OpenDataSettings {
    /// A published number must describe at least this many distinct cards;
    /// smaller ones are withheld, with their complements.
    #[serde(default = "d_min_cell")]
    pub min_cell: u32,
    /// Days counted with Sundays: "MM-DD" every year, or "YYYY-MM-DD" once
    /// (Easter and Trinity move).
    #[serde(default = "d_holidays")]
    pub holidays: Vec<String>,
    /// The city's Ed25519 publication key (32 bytes as 64 hex digits, mode
    /// 600), made at the first release; its public half beside it, `.pub`.
    #[serde(default = "d_signing_key")]
    pub signing_key: PathBuf,
}

fn d_min_cell() -> u32 {
    10
}

/// The fixed public holidays of the Labour Code (art. 73, as amended in
/// 2023): New Year, Women's Day, Labour Day, the Day of Remembrance and
/// Victory, Constitution Day, Statehood Day, Independence Day, Defenders'
/// Day, Christmas.
fn d_holidays() -> Vec<String> {
    [
        "01-01", "03-08", "05-01", "05-08", "06-28", "07-15", "08-24", "10-01", "12-25",
    ]
    .map(String::from)
    .to_vec()
}

fn d_signing_key() -> PathBuf {
    PathBuf::from("keys/open-data-signing.key")
}

impl Default for OpenDataSettings {
    fn default() -> Self {
        OpenDataSettings {
            min_cell: d_min_cell(),
            holidays: d_holidays(),
            signing_key: d_signing_key(),
        }
    }
}

impl OpenDataSettings {
    /// Checks the settings; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        if self.min_cell < 2 {
            return Err(format!(
                "[open_data] min_cell = {}: a cell of one card names a person; use 10 (the default) or more",
                self.min_cell
            ));
        }
        for h in &self.holidays {
            if parse_holiday(h).is_none() {
                return Err(format!(
                    "[open_data] holidays: {h:?} is not a day; write \"MM-DD\" for every year or \"YYYY-MM-DD\" for one"
                ));
            }
        }
        Ok(())
    }

    /// Is `date` a holiday?
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays
            .iter()
            .filter_map(|h| parse_holiday(h))
            .any(|h| match h {
                Holiday::Yearly(m, d) => date.month() == m && date.day() == d,
                Holiday::Once(x) => x == date,
            })
    }
}

enum Holiday {
    Yearly(u32, u32),
    Once(NaiveDate),
}

fn parse_holiday(text: &str) -> Option<Holiday> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(Holiday::Once(d));
    }
    let (m, d) = text.split_once('-')?;
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    // Checked against a leap year, so 02-29 is a day.
    NaiveDate::from_ymd_opt(2024, m, d)?;
    Some(Holiday::Yearly(m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yearly_and_one_off_holidays() {
        let s = OpenDataSettings {
            holidays: vec!["08-24".into(), "2026-04-12".into()],
            ..Default::default()
        };
        assert!(s.check().is_ok());
        let d = |t: &str| NaiveDate::parse_from_str(t, "%Y-%m-%d").unwrap();
        assert!(s.is_holiday(d("2026-08-24")));
        assert!(s.is_holiday(d("2031-08-24")));
        assert!(s.is_holiday(d("2026-04-12")));
        assert!(!s.is_holiday(d("2027-04-12")));
        assert!(!s.is_holiday(d("2026-08-25")));
    }

    #[test]
    fn a_bad_holiday_or_a_one_card_cell_is_refused_by_name() {
        let s = OpenDataSettings {
            holidays: vec!["13-01".into()],
            ..Default::default()
        };
        assert!(s.check().unwrap_err().contains("\"13-01\""));
        let s = OpenDataSettings {
            min_cell: 1,
            ..Default::default()
        };
        assert!(s.check().unwrap_err().contains("min_cell = 1"));
    }
}
