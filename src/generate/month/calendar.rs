//! The month's calendar in Kyiv time: its days with their weights (fewer
//! riders at weekends), each day's midnight (a DST day is 23 or 25 hours
//! long), and the service day, 05:30–23:30, with its morning and evening
//! peaks.

use chrono::{Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Europe::Kyiv;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Service runs from 05:30 to 23:30 (minutes after midnight).
const SERVICE_MINUTES: std::ops::Range<u32> = 330..1410;

pub(super) struct Calendar {
    /// The days and their weights.
    pub days: Vec<(NaiveDate, f64)>,
    total: f64,
    /// Each day's Kyiv midnight (UTC seconds).
    pub day_start: Vec<u32>,
    /// The midnight after the month's last day.
    pub month_end: u32,
}

impl Calendar {
    /// The month that `first` begins.
    pub fn of(first: NaiveDate) -> Self {
        let days = month_days(first);
        let midnight = |d: NaiveDate| crate::time::kyiv_midnight(d).timestamp() as u32;
        let day_start = days.iter().map(|(d, _)| midnight(*d)).collect();
        let month_end = midnight(
            days.last()
                .and_then(|l| l.0.succ_opt())
                .expect("a day after the month"),
        );
        Calendar {
            total: days.iter().map(|x| x.1).sum(),
            days,
            day_start,
            month_end,
        }
    }

    pub fn len(&self) -> usize {
        self.days.len()
    }

    /// The month's first instant.
    pub fn start(&self) -> u32 {
        self.day_start[0]
    }

    /// The month's day (from 0) that `t` falls on.
    pub fn day_of(&self, t: u32) -> usize {
        self.day_start
            .partition_point(|&s| s <= t)
            .saturating_sub(1)
    }

    /// Kyiv wall-clock time: `secs` after midnight of day `day`.
    pub fn at(&self, day: usize, secs: u32) -> u32 {
        let local = self.days[day].0.and_hms_opt(0, 0, 0).expect("midnight")
            + chrono::Duration::seconds(i64::from(secs));
        Kyiv.from_local_datetime(&local)
            .earliest()
            .map_or(self.day_start[day] + secs, |t| t.timestamp() as u32)
    }

    /// In the month and in service hours.
    pub fn in_service(&self, t: u32) -> bool {
        t >= self.start()
            && t < self.month_end
            && (SERVICE_MINUTES.start * 60..SERVICE_MINUTES.end * 60).contains(&time_of_day(t))
    }

    /// A day drawn by its weight.
    pub fn pick_day(&self, rng: &mut ChaCha8Rng) -> usize {
        let mut x = rng.random_range(0.0..self.total);
        for (i, (_, w)) in self.days.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        self.days.len() - 1
    }

    /// A time on day `day`, on the minute, drawn from the service profile.
    pub fn service_time(&self, rng: &mut ChaCha8Rng, day: usize) -> u32 {
        self.at(day, minute_of_day(rng) * 60)
    }
}

/// Minutes after midnight in service hours, peaks at 07:45 and 17:15.
pub(super) fn minute_of_day(rng: &mut ChaCha8Rng) -> u32 {
    let service = f64::from(SERVICE_MINUTES.start)..f64::from(SERVICE_MINUTES.end);
    loop {
        let pick: f64 = rng.random();
        let m = if pick < 0.3 {
            465.0 + normal(rng) * 50.0
        } else if pick < 0.55 {
            1035.0 + normal(rng) * 60.0
        } else {
            rng.random_range(service.clone())
        };
        if service.contains(&m) {
            return m as u32;
        }
    }
}

/// Minutes after midnight in a peak: the morning's (around 07:45) or the
/// evening's (around 17:15), as likely.
pub(super) fn peak_minute(rng: &mut ChaCha8Rng) -> u32 {
    let service = f64::from(SERVICE_MINUTES.start)..f64::from(SERVICE_MINUTES.end);
    loop {
        let m = if rng.random_bool(0.5) {
            465.0 + normal(rng) * 40.0
        } else {
            1035.0 + normal(rng) * 45.0
        };
        if service.contains(&m) {
            return m as u32;
        }
    }
}

/// Seconds after its Kyiv midnight.
fn time_of_day(t: u32) -> u32 {
    chrono::DateTime::<Utc>::from_timestamp(i64::from(t), 0)
        .unwrap_or_default()
        .with_timezone(&Kyiv)
        .num_seconds_from_midnight()
}

/// The days of the month that `first` begins, with their weights.
fn month_days(first: NaiveDate) -> Vec<(NaiveDate, f64)> {
    let mut days = Vec::new();
    let mut d = first;
    while d.month() == first.month() {
        let w = match d.weekday() {
            Weekday::Sat => 0.65,
            Weekday::Sun => 0.5,
            _ => 1.0,
        };
        days.push((d, w));
        d = d.succ_opt().expect("a next day");
    }
    days
}

/// A standard normal variate (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
