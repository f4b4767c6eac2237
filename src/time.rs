//! Time as kartka keeps it: stored in UTC, reported in Europe/Kyiv.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Europe::Kyiv;
use polars::prelude::{Expr, lit, when};

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

/// A month as `YYYY-MM` → its first day; `None` for anything else.
pub fn parse_month(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .ok()
        .filter(|d| text.trim().len() == 7 && d.year() >= 2000)
}

/// The first day of the month after the one `first` begins.
pub fn next_month(first: NaiveDate) -> NaiveDate {
    first
        .checked_add_months(chrono::Months::new(1))
        .expect("a next month")
}

/// The first day of the month before the one `first` begins.
pub fn previous_month(first: NaiveDate) -> NaiveDate {
    first
        .pred_opt()
        .and_then(|d| d.with_day(1))
        .expect("a previous month")
}

/// The Kyiv day of a UTC instant in milliseconds.
pub fn kyiv_day_of_ms(t_ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(t_ms)
        .map(|t| t.with_timezone(&Kyiv).date_naive())
        .unwrap_or_default()
}

/// The Kyiv month clock: the month's bounds in UTC milliseconds and its
/// UTC offsets (with its one DST change, if any), applied in integer
/// milliseconds so a polars pass counts Kyiv days without a time-zone
/// conversion per row.
pub const DAY_MS: i64 = 86_400_000;

/// A month in Kyiv time, as UTC milliseconds, with its UTC offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthClock {
    pub start_ms: i64,
    pub end_ms: i64,
    /// The offset before `switch_ms`, and after it.
    pub offset_before_ms: i64,
    pub offset_after_ms: i64,
    /// The DST change inside the month; `i64::MAX` when there is none.
    pub switch_ms: i64,
}

impl MonthClock {
    pub fn for_month(first: NaiveDate) -> MonthClock {
        use chrono::{Offset, TimeZone};
        let next = next_month(first);
        let start = kyiv_midnight_ms;
        let (start_ms, end_ms) = (start(first), start(next));
        let offset_at = |ms: i64| -> i64 {
            let t = chrono::DateTime::from_timestamp_millis(ms).expect("in range");
            i64::from(
                Kyiv.offset_from_utc_datetime(&t.naive_utc())
                    .fix()
                    .local_minus_utc(),
            ) * 1000
        };
        let (before, after) = (offset_at(start_ms), offset_at(end_ms - 1));
        let mut switch_ms = i64::MAX;
        if before != after {
            // Changes happen on the hour: find the first hour with the new offset.
            let mut t = start_ms;
            while offset_at(t) == before {
                t += 3_600_000;
            }
            switch_ms = t;
        }
        MonthClock {
            start_ms,
            end_ms,
            offset_before_ms: before,
            offset_after_ms: after,
            switch_ms,
        }
    }

    /// The tap's Kyiv wall-clock time, as milliseconds since the epoch.
    pub fn local(&self, t: Expr) -> Expr {
        when(t.clone().gt_eq(lit(self.switch_ms)))
            .then(lit(self.offset_after_ms))
            .otherwise(lit(self.offset_before_ms))
            + t
    }

    /// The tap's Kyiv day, as the Kyiv wall-clock milliseconds of its
    /// midnight (what the month's passes group by).
    pub fn local_day(&self, t: Expr) -> Expr {
        let local = self.local(t);
        local.clone() - local % lit(DAY_MS)
    }

    /// The Kyiv date of a `local_day` value in this month.
    pub fn date_of_local_day(&self, local_day_ms: i64) -> NaiveDate {
        DateTime::from_timestamp_millis(local_day_ms)
            .map(|t| t.date_naive())
            .unwrap_or_default()
    }

    /// The Kyiv days in the month.
    pub fn days(&self) -> i64 {
        (self.end_ms - self.start_ms + DAY_MS / 2) / DAY_MS
    }

    /// The Kyiv day of a UTC instant, as the Kyiv wall-clock milliseconds
    /// of its midnight (`local_day`, for one tap).
    pub fn local_day_ms(&self, t: i64) -> i64 {
        let local = self.local_ms(t);
        local - local.rem_euclid(DAY_MS)
    }

    pub fn local_ms(&self, t: i64) -> i64 {
        t + if t >= self.switch_ms {
            self.offset_after_ms
        } else {
            self.offset_before_ms
        }
    }
}
