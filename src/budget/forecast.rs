//! The forecast of a monthly series of trips, with 80 % and 95 %
//! intervals, by a stated model:
//!
//! - **seasonal naive with growth**, when the history has 13 months or
//!   more: a month is the same month a year before times the growth `r`,
//!   the last (up to) twelve months over the same months a year earlier;
//!   the interval comes from the log errors of that rule over the history
//!   (at least 3 %), widening with the square root of the years ahead;
//! - **level**, with fewer: the mean of the last three months, no season;
//!   the interval from the months' own log spread (at least 5 %), widened
//!   by half again, since the season is unknown.

/// z of the two-sided 80 % and 95 % normal intervals.
const Z80: f64 = 1.281_551_565_5;
const Z95: f64 = 1.959_963_985;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    SeasonalNaiveGrowth,
    Level,
}

impl Model {
    pub fn title(self, en: bool) -> &'static str {
        match (self, en) {
            (Model::SeasonalNaiveGrowth, false) => {
                "сезонна модель: той самий місяць торік × річне зростання"
            }
            (Model::SeasonalNaiveGrowth, true) => {
                "seasonal: the same month a year before × the yearly growth"
            }
            (Model::Level, false) => {
                "рівень: середнє останніх трьох місяців (менше 13 місяців історії)"
            }
            (Model::Level, true) => {
                "level: the mean of the last three months (under 13 months of history)"
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

/// Forecasts `horizon` months after `history` (one value a month, oldest
/// first, no gaps). An empty history forecasts zeros.
pub fn forecast(history: &[f64], horizon: usize) -> Forecast {
    let n = history.len();
    let (model, growth, point, sigma): (Model, Option<f64>, Vec<f64>, Vec<f64>) = if n >= 13 {
        let k = (n - 12).min(12);
        let recent: f64 = history[n - k..].iter().sum();
        let before: f64 = history[n - k - 12..n - 12].iter().sum();
        let r = if before > 0.0 { recent / before } else { 1.0 };
        // The rule's log errors over the history.
        let errors: Vec<f64> = (12..n)
            .filter(|&t| history[t] > 0.0 && history[t - 12] > 0.0)
            .map(|t| (history[t] / (history[t - 12] * r)).ln())
            .collect();
        let s = spread(&errors).max(0.03);
        let mut extended = history.to_vec();
        let mut point = Vec::with_capacity(horizon);
        let mut sigma = Vec::with_capacity(horizon);
        for h in 1..=horizon {
            let v = extended[n + h - 1 - 12] * r;
            extended.push(v);
            point.push(v);
            let years = h.div_ceil(12) as f64;
            sigma.push(s * years.sqrt());
        }
        (Model::SeasonalNaiveGrowth, Some(r), point, sigma)
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
    fn a_clean_season_with_growth_is_forecast_exactly() {
        let y: Vec<f64> = (0..24)
            .map(|t| 1000.0 * season(t) * 1.06f64.powf(t as f64 / 12.0))
            .collect();
        let f = forecast(&y[..12 + 6], 6);
        assert_eq!(f.model, Model::SeasonalNaiveGrowth);
        for h in 0..6 {
            let want = y[18 + h];
            assert!(
                (f.point[h] - want).abs() / want < 1e-9,
                "{h}: {} vs {want}",
                f.point[h]
            );
            assert!(f.lo80[h] < f.point[h] && f.point[h] < f.hi80[h]);
            assert!(f.lo95[h] < f.lo80[h] && f.hi80[h] < f.hi95[h]);
        }
        assert!((f.growth.unwrap() - 1.06).abs() < 1e-9);
    }

    #[test]
    fn a_short_history_gets_the_level_and_a_wider_band() {
        let f = forecast(&[100.0, 110.0, 90.0, 100.0], 3);
        assert_eq!(f.model, Model::Level);
        assert_eq!(f.point, vec![100.0; 3]);
        let width = |f: &Forecast| (f.hi80[0] - f.lo80[0]) / f.point[0];
        let long: Vec<f64> = (0..13).map(|t| 100.0 + (t % 3) as f64 * 10.0).collect();
        assert!(width(&f) > width(&forecast(&long, 1)));
        assert_eq!(forecast(&[], 2).point, vec![0.0, 0.0]);
    }
}
