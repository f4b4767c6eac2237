//! The forecast of a monthly series of trips, with 80 % and 95 %
//! intervals, by a stated model:
//!
//! - **seasonal with the riders' trend**, when the history has 12 months or
//!   more: a month is the same month a year before, grown by the yearly
//!   growth of the riders (the distinct cards that rode), fitted as a
//!   log-linear trend over the whole history. Trips per rider carry the
//!   season; the riders carry the growth (more beneficiaries). The interval
//!   comes from the log errors of that rule over the history where there
//!   are two years or more, else from the month-to-month spread of trips
//!   per rider; at least 3 %, widening with the square root of the years
//!   ahead;
//! - **level**, with fewer: the mean of the last three months, no season;
//!   the interval from the months' own log spread (at least 5 %), widened
//!   by half again, since the season is unknown.
//!
//! Why not a crate's seasonal model: a city starting kartka has one year of
//! months, and every seasonal model the Rust crates offer needs two seasons
//! at least (STL/MSTL decomposition in augurs), while augurs' ETS has no
//! seasonal models yet (its documentation says so).

/// z of the two-sided 80 % and 95 % normal intervals.
const Z80: f64 = 1.281_551_565_5;
const Z95: f64 = 1.959_963_985;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    Seasonal,
    Level,
}

impl Model {
    pub fn title(self, en: bool) -> &'static str {
        match (self, en) {
            (Model::Seasonal, false) => {
                "сезонна модель: той самий місяць торік × річне зростання кількості пасажирів"
            }
            (Model::Seasonal, true) => {
                "seasonal: the same month a year before × the riders' yearly growth"
            }
            (Model::Level, false) => {
                "рівень: середнє останніх трьох місяців (менше 12 місяців історії)"
            }
            (Model::Level, true) => {
                "level: the mean of the last three months (under 12 months of history)"
            }
        }
    }
}

/// A point forecast with its intervals, one value per month ahead.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Forecast {
    pub model: Model,
    /// The yearly growth the seasonal model used.
    pub growth: Option<f64>,
    pub point: Vec<f64>,
    pub lo80: Vec<f64>,
    pub hi80: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
}

/// The yearly growth of a log-linear trend fitted to `riders` (1 when it
/// cannot be fitted).
fn yearly_growth(riders: &[f64]) -> f64 {
    let points: Vec<(f64, f64)> = riders
        .iter()
        .enumerate()
        .filter(|(_, r)| **r > 0.0)
        .map(|(t, r)| (t as f64, r.ln()))
        .collect();
    if points.len() < 2 {
        return 1.0;
    }
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 {
        1.0
    } else {
        (12.0 * sxy / sxx).exp()
    }
}

/// Forecasts `horizon` months after `history` (one value a month, oldest
/// first, no gaps), with `riders` the distinct riders of the same months.
/// An empty history forecasts zeros.
pub fn forecast(history: &[f64], riders: &[f64], horizon: usize) -> Forecast {
    let n = history.len();
    let (model, growth, point, sigma): (Model, Option<f64>, Vec<f64>, Vec<f64>) = if n >= 12 {
        let g = yearly_growth(riders);
        let s = if n >= 24 {
            // The rule's own log errors over the second year on.
            let errors: Vec<f64> = (12..n)
                .filter(|&t| history[t] > 0.0 && history[t - 12] > 0.0)
                .map(|t| (history[t] / (history[t - 12] * g)).ln())
                .collect();
            spread(&errors)
        } else {
            // Month-to-month changes of trips per rider, as one month's
            // noise (the season's own changes make it wider).
            let per: Vec<f64> = history
                .iter()
                .zip(riders)
                .filter(|(y, r)| **y > 0.0 && **r > 0.0)
                .map(|(y, r)| (y / r).ln())
                .collect();
            let steps: Vec<f64> = per.windows(2).map(|w| w[1] - w[0]).collect();
            spread(&steps) / std::f64::consts::SQRT_2
        }
        .max(0.03);
        let mut extended = history.to_vec();
        let mut point = Vec::with_capacity(horizon);
        let mut sigma = Vec::with_capacity(horizon);
        for h in 1..=horizon {
            let v = extended[n + h - 1 - 12] * g;
            extended.push(v);
            point.push(v);
            let years = h.div_ceil(12) as f64;
            sigma.push(s * years.sqrt());
        }
        (Model::Seasonal, Some(g), point, sigma)
    } else {
        let last = &history[n.saturating_sub(3)..];
        let level = if last.is_empty() {
            0.0
        } else {
            last.iter().sum::<f64>() / last.len() as f64
        };
        let logs: Vec<f64> = history
            .iter()
            .filter(|v| **v > 0.0)
            .map(|v| v.ln())
            .collect();
        let s = spread(&logs).max(0.05) * 1.5;
        (
            Model::Level,
            None,
            vec![level; horizon],
            (1..=horizon)
                .map(|h| s * (h as f64 / 12.0).max(1.0).sqrt())
                .collect(),
        )
    };
    let band = |z: f64, sign: f64| -> Vec<f64> {
        point
            .iter()
            .zip(&sigma)
            .map(|(p, s)| p * (sign * z * s).exp())
            .collect()
    };
    Forecast {
        model,
        growth,
        lo80: band(Z80, -1.0),
        hi80: band(Z80, 1.0),
        lo95: band(Z95, -1.0),
        hi95: band(Z95, 1.0),
        point,
    }
}

/// The sample standard deviation (0 for fewer than two values).
fn spread(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known season (summer dip, September rise) and 6 % a year.
    fn season(m: usize) -> f64 {
        [
            1.0, 1.0, 1.05, 1.0, 0.95, 0.8, 0.7, 0.75, 1.15, 1.1, 1.05, 1.0,
        ][m % 12]
    }

    #[test]
    fn a_clean_season_grown_by_its_riders_is_forecast_exactly() {
        let growth = |t: usize| 1.06f64.powf(t as f64 / 12.0);
        let y: Vec<f64> = (0..30).map(|t| 1000.0 * season(t) * growth(t)).collect();
        let riders: Vec<f64> = (0..30).map(|t| 300.0 * growth(t)).collect();
        for n in [12, 18] {
            let f = forecast(&y[..n], &riders[..n], 12);
            assert_eq!(f.model, Model::Seasonal);
            assert!((f.growth.unwrap() - 1.06).abs() < 1e-9);
            for h in 0..12 {
                let want = y[n + h];
                assert!(
                    (f.point[h] - want).abs() / want < 1e-9,
                    "{n} {h}: {} vs {want}",
                    f.point[h]
                );
                assert!(f.lo80[h] < f.point[h] && f.point[h] < f.hi80[h]);
                assert!(f.lo95[h] < f.lo80[h] && f.hi80[h] < f.hi95[h]);
            }
        }
        // A second year ahead widens the interval.
        let f = forecast(&y[..12], &riders[..12], 24);
        assert!((f.hi80[23] / f.point[23]) > (f.hi80[0] / f.point[0]));
    }

    #[test]
    fn a_short_history_gets_the_level_and_a_wider_band() {
        let f = forecast(&[100.0, 110.0, 90.0, 100.0], &[10.0; 4], 3);
        assert_eq!(f.model, Model::Level);
        assert_eq!(f.point, vec![100.0; 3]);
        assert_eq!(forecast(&[], &[], 2).point, vec![0.0, 0.0]);
        assert_eq!(yearly_growth(&[5.0]), 1.0);
        assert_eq!(yearly_growth(&[0.0, 0.0, 0.0]), 1.0);
    }
}
