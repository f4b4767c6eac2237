//! Time as kartka keeps it: stored in UTC, reported in Europe/Kyiv.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Kyiv;

/// Now, in UTC, as stored: `2026-11-26T10:54:39Z`.
pub fn now_utc_text() -> String {
    utc_text(Utc::now())
}

pub fn utc_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Today's date in Kyiv: the office's calendar day.
pub fn today_kyiv() -> NaiveDate {
    Utc::now().with_timezone(&Kyiv).date_naive()
}

/// A stored UTC timestamp shown in Kyiv time, for people.
pub fn kyiv_text(t: DateTime<Utc>) -> String {
    t.with_timezone(&Kyiv)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}
