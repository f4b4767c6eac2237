//! A multi-month synthetic history (`kartka generate history`), so the
//! budget's forecast can be tested against what happened: consecutive
//! months stored into a home, each a generated month whose taps follow a
//! known season (a summer dip, a September rise), a yearly growth of the
//! riders and their trips, and noise; `history.csv` records each month's
//! factor, taps and holders.

use std::path::PathBuf;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::month::MonthOptions;
use crate::home::Home;

/// The season: trips in a calendar month relative to the year's mean
/// (January first): winter steady, a summer dip (holidays, dachas), the
/// September rise (school, work).
pub const SEASON: [f64; 12] = [
    1.00, 1.00, 1.04, 1.02, 0.97, 0.86, 0.78, 0.82, 1.14, 1.12, 1.07, 1.03,
];

#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// The first month (its first day).
    pub from: NaiveDate,
    pub months: u32,
    /// Taps of a mean month at the start.
    pub taps: usize,
    /// Holders at the start.
    pub holders: u32,
    /// Yearly growth of holders and trips, percent.
    pub growth_pct: f64,
    /// The month-to-month noise, percent (one standard deviation).
    pub noise_pct: f64,
    /// Everything else of a month: fleet, anomalies, seed, the city.
    pub month: MonthOptions,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryMonth {
    pub month: String,
    pub factor: f64,
    pub taps: usize,
    pub holders: u32,
    pub taps_new: usize,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct History {
    pub months: Vec<HistoryMonth>,
    pub out: PathBuf,
}

/// Generates and stores the months one after the other (each continuing
/// the validators' numbering), under the home's lock.
pub fn store(home: &Home, o: &HistoryOptions, operator: &str) -> Result<History, super::Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(o.month.seed ^ 0x6869_7374);
    let mut months = Vec::new();
    let mut csv = String::from("month,factor,taps,holders\n");
    let mut first = o.from;
    for t in 0..o.months {
        let years = f64::from(t) / 12.0;
        let growth = (1.0 + o.growth_pct / 100.0).powf(years);
        // A normal draw from two uniforms (Box–Muller).
        let (u1, u2): (f64, f64) = (rng.random_range(1e-9..1.0), rng.random_range(0.0..1.0));
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let factor = SEASON[first.month0() as usize] * growth * (1.0 + o.noise_pct / 100.0 * z);
        let taps = (o.taps as f64 * factor).round().max(1.0) as usize;
        let holders = (f64::from(o.holders) * growth).round().max(1.0) as u32;
        let text = first.format("%Y-%m").to_string();
        let opts = MonthOptions {
            month: first,
            taps,
            holders,
            seed: o.month.seed + u64::from(t),
            out: o.month.out.join(format!("month={text}")),
            keep: true,
            dumps: false,
            csv: false,
            numbered: super::registry::numbered(home)?,
            ..o.month.clone()
        };
        let mut s = super::month::generate(&opts)?;
        let stored = super::registry::store_month(home, &mut s, opts.seed, operator)?;
        csv.push_str(&format!("{text},{factor:.6},{taps},{holders}\n"));
        months.push(HistoryMonth {
            month: text,
            factor,
            taps: s.taps,
            holders,
            taps_new: stored.taps_new,
        });
        first = crate::time::next_month(first);
    }
    let path = o.month.out.join("history.csv");
    std::fs::create_dir_all(&o.month.out)
        .and_then(|()| crate::private::write(&path, csv.as_bytes()))
        .map_err(|e| super::Error::Write {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    Ok(History {
        months,
        out: o.month.out.clone(),
    })
}
