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

/// The first instant of a Kyiv calendar day.
pub fn kyiv_midnight(date: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    Kyiv.from_local_datetime(&midnight)
        .earliest()
        .unwrap_or_else(|| Kyiv.from_utc_datetime(&midnight))
        .with_timezone(&Utc)
}

/// The first instant of a Kyiv calendar day, in UTC milliseconds.
pub fn kyiv_midnight_ms(date: NaiveDate) -> i64 {
    kyiv_midnight(date).timestamp_millis()
}

/// The first instant of a Kyiv calendar day, in UTC as stored.
pub fn kyiv_day_start_utc(date: NaiveDate) -> String {
    utc_text(kyiv_midnight(date))
}

/// A stored UTC text shown in Kyiv time; unparsable text is shown as is.
pub fn stored_as_kyiv(text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .map(|t| kyiv_text(t.with_timezone(&Utc)))
        .unwrap_or_else(|_| text.to_string())
}
