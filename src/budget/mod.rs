//! The benefit budget (issue 21, K3): `kartka budget --year YYYY` puts the
//! year's actual cost of free travel (counted as compensation counts it,
//! `actuals`), the forecast of the months left and of the next year
//! (`forecast`, priced by the dated `[[tariffs]]` on each future day), and
//! the approved amounts (`settings`, `[[budget]]`) side by side, per
//! community and category: the projected year total, the month the plan
//! runs out, the cost per beneficiary; with fare and growth scenarios that
//! re-price the forecast without touching kartka.toml. `workbook` writes it
//! for the finance department, with native Excel line charts.

pub mod actuals;
pub mod forecast;
pub mod settings;
pub mod workbook;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use crate::config::Config;
use crate::home::Home;
use crate::money;
use crate::registry::Registry;
use crate::tariff::{Tariff, Trip};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}\n  Nothing was computed.")]
    Usage(String),
    #[error(
        "the store holds no counted month up to {as_of}: nothing to forecast from.\n  Store and flag the months first (`kartka taps months`, `kartka taps flag --month M`)."
    )]
    NoHistory { as_of: String },
    #[error(transparent)]
    Count(#[from] crate::compensation::Error),
    #[error("{0}; nothing was written")]
    Money(#[from] crate::money::Overflow),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
    #[error("{path}: cannot write: {message}\n  Check the folder exists and is writable.")]
    Output {
        path: std::path::PathBuf,
        message: String,
    },
}

impl Error {
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Usage(_) => ExitCode::Usage,
            Error::NoHistory { .. } => ExitCode::NoInput,
            Error::Count(e) => e.exit_code(),
            Error::Money(_) => ExitCode::Config,
            Error::Registry(e) => e.exit_code(),
            Error::Output { .. } => ExitCode::CantCreate,
        }
    }
}

/// A fare scenario: `ROUTE=KOPECKS@DATE` or `all=KOPECKS@DATE`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FareChange {
    pub route: Option<i32>,
    pub kopecks: i64,
    pub from: NaiveDate,
}

impl std::str::FromStr for FareChange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "--fare {s:?}: give ROUTE=KOPECKS@YYYY-MM-DD or all=KOPECKS@YYYY-MM-DD, e.g. all=2000@2027-01-01"
            )
        };
        let (what, rest) = s.split_once('=').ok_or_else(bad)?;
        let (kopecks, from) = rest.split_once('@').ok_or_else(bad)?;
        let route = match what.trim() {
            w if w.eq_ignore_ascii_case("all") => None,
            w => Some(w.parse().map_err(|_| bad())?),
        };
        let kopecks: i64 = kopecks.trim().parse().map_err(|_| bad())?;
        if kopecks <= 0 {
            return Err(bad());
        }
        if let Some(m) = crate::money::over("KOPECKS", i128::from(kopecks), crate::money::MAX_FARE)
        {
            return Err(format!("--fare {s:?}: {m}"));
        }
        Ok(FareChange {
            route,
            kopecks,
            from: from.trim().parse().map_err(|_| bad())?,
        })
    }
}

/// A growth scenario: `CATEGORY=PERCENT` a year.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Growth {
    pub category: String,
    pub percent: f64,
}

impl std::str::FromStr for Growth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--growth {s:?}: give CATEGORY=PERCENT, e.g. pensioner-age=5");
        let (c, p) = s.split_once('=').ok_or_else(bad)?;
        let percent: f64 = p.trim().trim_end_matches('%').parse().map_err(|_| bad())?;
        if !(-100.0..=1000.0).contains(&percent) || c.trim().is_empty() {
            return Err(bad());
        }
        Ok(Growth {
            category: c.trim().to_string(),
            percent,
        })
    }
}

/// What `kartka budget` is asked.
#[derive(Debug, Clone)]
pub struct Ask {
    pub year: i32,
    /// The last month counted as actual (its first day).
    pub as_of: NaiveDate,
    pub fares: Vec<FareChange>,
    pub growth: Vec<Growth>,
}

/// Forecast kopecks as an integer, within `money::MAX_SUM` (NaN is 0).
fn clamp_kopecks(v: f64) -> i64 {
    let max = crate::money::MAX_SUM as f64;
    v.round().clamp(-max, max) as i64
}

/// A figure with its 80 % and 95 % intervals, in kopecks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Range {
    pub point: i64,
    pub lo80: i64,
    pub hi80: i64,
    pub lo95: i64,
    pub hi95: i64,
}

impl Range {
    fn exact(v: i64) -> Range {
        Range {
            point: v,
            lo80: v,
            hi80: v,
            lo95: v,
            hi95: v,
        }
    }
    /// Adds `o`, each figure checked (`money::add`).
    fn add(&mut self, o: Range) -> Result<(), crate::money::Overflow> {
        use crate::money::add;
        *self = Range {
            point: add(self.point, o.point)?,
            lo80: add(self.lo80, o.lo80)?,
            hi80: add(self.hi80, o.hi80)?,
            lo95: add(self.lo95, o.lo95)?,
            hi95: add(self.hi95, o.hi95)?,
        };
        Ok(())
    }
}

/// One month of a community (or category) line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MonthLine {
    pub month: String,
    /// `actual`, `forecast`, `not_flagged` (stored but not judged yet:
    /// forecast, and named so), or `no_taps` (before the store's first
    /// month: nothing counted, nothing forecast).
    pub kind: &'static str,
    pub trips: i64,
    /// The trips' cost (actual, or the forecast with its intervals).
    pub cost: Range,
    /// Card-making costs (P18).
    pub fees_kopecks: i64,
    /// Cards valid in the month (the last actual month's, ahead).
    pub beneficiaries: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CategoryLine {
    pub code: String,
    pub actual_kopecks: i64,
    pub projected: Range,
    pub plan_kopecks: Option<i64>,
    pub next_year: Range,
}

/// What a community's trips on one carrier cost: actual, and the year
/// projected (the point forecast shared out by the lines' carrier mix).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CarrierLine {
    pub carrier: Option<i32>,
    pub actual_kopecks: i64,
    pub projected_kopecks: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CommunityBudget {
    pub code: String,
    pub name: String,
    pub plan_kopecks: Option<i64>,
    pub actual_kopecks: i64,
    pub actual_fees_kopecks: i64,
    /// Trips and card-making costs of the whole year, actual + forecast.
    pub projected: Range,
    /// Plan minus the projection (negative: short).
    pub plan_left_kopecks: Option<i64>,
    /// The first month the cumulative projection passes the plan.
    pub runs_out: Option<String>,
    pub cost_per_beneficiary_month_kopecks: Option<i64>,
    pub next_year: Range,
    pub months: Vec<MonthLine>,
    pub categories: Vec<CategoryLine>,
    pub carriers: Vec<CarrierLine>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Budget {
    pub year: i32,
    pub as_of: String,
    pub history_months: usize,
    pub model: forecast::Model,
    pub months_not_flagged: Vec<String>,
    pub fares: Vec<FareChange>,
    pub growth: Vec<Growth>,
    pub plan_kopecks: Option<i64>,
    pub actual_kopecks: i64,
    pub projected: Range,
    pub next_year: Range,
    pub communities: Vec<CommunityBudget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<std::path::PathBuf>,
    pub seconds: f64,
}

fn month_text(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

/// The months from `from` to `to`, both included, by their first days.
fn months(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut m = from;
    while m <= to {
        out.push(m);
        m = crate::time::next_month(m);
    }
    out
}

/// The tariffs with the scenario's fare changes: a route's change as its
/// own entry; `all` as an entry for every scope the tariffs price by, so
/// it is the most specific in force from its day.
fn with_fares(tariffs: &[Tariff], fares: &[FareChange]) -> Vec<Tariff> {
    let mut out = tariffs.to_vec();
    for f in fares {
        match f.route {
            Some(r) => out.push(Tariff {
                from: f.from,
                fare_kopecks: f.kopecks,
                routes: vec![r],
                carriers: Vec::new(),
                zones: Vec::new(),
            }),
            None => {
                let mut scopes: Vec<(Vec<i32>, Vec<i32>, Vec<i32>)> = tariffs
                    .iter()
                    .map(|t| (t.routes.clone(), t.carriers.clone(), t.zones.clone()))
                    .collect();
                scopes.push(Default::default());
                scopes.sort();
                scopes.dedup();
                for (routes, carriers, zones) in scopes {
                    out.push(Tariff {
                        from: f.from,
                        fare_kopecks: f.kopecks,
                        routes,
                        carriers,
                        zones,
                    });
                }
            }
        }
    }
    out
}

/// The mean fare of `trip` over the days of `month` (kopecks; 0 for a
/// day no tariff covers).
fn mean_fare(tariffs: &[Tariff], trip: &Trip, month: NaiveDate) -> f64 {
    let days = (crate::time::next_month(month) - month).num_days();
    let sum: i64 = (0..days)
        .map(|d| {
            crate::tariff::price(tariffs, trip, month + chrono::Duration::days(d))
                .map_or(0, |p| p.kopecks)
        })
        .sum();
    sum as f64 / days as f64
}

/// Cards valid in `month`, per (community, category).
fn beneficiaries(
    reg: &Registry,
    month: NaiveDate,
) -> Result<BTreeMap<(String, String), i64>, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let last = crate::time::next_month(month)
        .pred_opt()
        .expect("a day before");
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT community, category, count(*) FROM cards
             WHERE valid_from <= ?2 AND valid_to >= ?1 GROUP BY community, category",
        )
        .map_err(err)?;
    let rows = stmt
        .query_map(
            [
                month.format("%Y-%m-%d").to_string(),
                last.format("%Y-%m-%d").to_string(),
            ],
            |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)),
        )
        .map_err(err)?;
    rows.collect::<Result<_, _>>().map_err(err)
}

/// Computes the year's budget report.
pub fn run(home: &Home, reg: &Registry, config: &Config, ask: &Ask) -> Result<Budget, Error> {
    let started = std::time::Instant::now();
    let year_first = NaiveDate::from_ymd_opt(ask.year, 1, 1)
        .ok_or_else(|| Error::Usage(format!("--year {} is not a year", ask.year)))?;
    let next_year_first = NaiveDate::from_ymd_opt(ask.year + 1, 1, 1).expect("a year");
    let year_end = NaiveDate::from_ymd_opt(ask.year, 12, 1).expect("December");
    if ask.as_of > year_end
        || ask.as_of < NaiveDate::from_ymd_opt(ask.year - 1, 1, 1).expect("a year")
    {
        return Err(Error::Usage(format!(
            "--as-of {} is outside {} (give a month of the year, or of the year before)",
            month_text(ask.as_of),
            ask.year
        )));
    }
    for g in &ask.growth {
        if !config.categories.iter().any(|c| c.code == g.category) {
            return Err(Error::Usage(format!(
                "--growth {}: no such category; the codes: {}",
                g.category,
                config
                    .categories
                    .iter()
                    .map(|c| c.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let tariffs = with_fares(&config.tariffs, &ask.fares);
    // The history: up to three years of months before as_of, from the
    // first month the store holds.
    let first_stored = reg
        .conn()
        .query_row(
            "SELECT min(month) FROM tap_files WHERE replaced_at IS NULL",
            [],
            |r| r.get::<_, Option<String>>(0),
        )
        .map_err(|e| Error::Registry(reg.err(e)))?
        .and_then(|m| crate::time::parse_month(&m));
    let Some(first_stored) = first_stored else {
        return Err(Error::NoHistory {
            as_of: month_text(ask.as_of),
        });
    };
    let from = first_stored
        .max(NaiveDate::from_ymd_opt(ask.as_of.year() - 3, ask.as_of.month(), 1).expect("a month"));
    let fp = actuals::Fingerprint::of(reg, config)?;
    let mut history: Vec<actuals::Month> = Vec::new();
    for m in months(from, ask.as_of) {
        history.push(actuals::month(home, reg, config, &fp, &month_text(m))?);
    }
    // The forecast starts after the last counted month.
    let counted: Vec<&actuals::Month> = history
        .iter()
        .filter(|m| m.state == actuals::State::Counted)
        .collect();
    let Some(last) = counted.last() else {
        return Err(Error::NoHistory {
            as_of: month_text(ask.as_of),
        });
    };
    let last_first = crate::time::parse_month(&last.month).expect("a month");
    // Contiguous counted months ending at the last one.
    let mut run_start = counted.len() - 1;
    while run_start > 0 {
        let a = crate::time::parse_month(&counted[run_start - 1].month).expect("a month");
        let b = crate::time::parse_month(&counted[run_start].month).expect("a month");
        if crate::time::next_month(a) != b {
            break;
        }
        run_start -= 1;
    }
    let series_months = &counted[run_start..];
    let ahead = months(
        crate::time::next_month(last_first),
        NaiveDate::from_ymd_opt(ask.year + 1, 12, 1).expect("a month"),
    );
    let city = config.city.community.clone();
    let names: BTreeMap<String, String> = config
        .communities
        .iter()
        .map(|c| (c.code.clone(), c.name.clone()))
        .chain(std::iter::once((city.clone(), config.city.name.clone())))
        .collect();

    // Each (community, category) series: its monthly trips and its mix of
    // (carrier, route, zone) over the last twelve counted months.
    let mut keys: BTreeSet<(String, String)> = BTreeSet::new();
    for m in series_months {
        for l in &m.lines {
            keys.insert((l.community.clone(), l.category.clone()));
        }
    }
    let mix_months = &series_months[series_months.len().saturating_sub(12)..];
    let mut model = forecast::Model::Level;
    // (community, category) → per month ahead: trips, cost range.
    // ... and the point forecast's kopecks by carrier.
    type Ahead = (f64, Range, BTreeMap<Option<i32>, i64>);
    // The mean fare of each (trip, month ahead), shared by every line.
    let mut fares: rustc_hash::FxHashMap<(Trip, NaiveDate), f64> = Default::default();
    let mut ahead_of: BTreeMap<(String, String), Vec<Ahead>> = BTreeMap::new();
    for key in &keys {
        let trips: Vec<f64> = series_months
            .iter()
            .map(|m| {
                m.lines
                    .iter()
                    .filter(|l| l.community == key.0 && l.category == key.1)
                    .map(|l| l.trips as f64)
                    .sum()
            })
            .collect();
        let riders: Vec<f64> = series_months
            .iter()
            .map(|m| {
                m.riders
                    .iter()
                    .filter(|r| r.0 == key.0 && r.1 == key.1)
                    .map(|r| r.2 as f64)
                    .sum()
            })
            .collect();
        let f = forecast::forecast(&trips, &riders, ahead.len());
        model = f.model;
        let mut mix: BTreeMap<Trip, f64> = BTreeMap::new();
        let mut total = 0.0;
        for l in mix_months.iter().flat_map(|m| &m.lines) {
            if l.community == key.0 && l.category == key.1 {
                *mix.entry(Trip {
                    route: l.route,
                    carrier: l.carrier,
                    zone: l.zone,
                })
                .or_default() += l.trips as f64;
                total += l.trips as f64;
            }
        }
        let growth = ask
            .growth
            .iter()
            .find(|g| g.category == key.1)
            .map_or(0.0, |g| g.percent / 100.0);
        let mut rows = Vec::with_capacity(ahead.len());
        for (h, m) in ahead.iter().enumerate() {
            let mut by_carrier: BTreeMap<Option<i32>, f64> = BTreeMap::new();
            if total > 0.0 {
                for (t, n) in &mix {
                    *by_carrier.entry(t.carrier).or_default() += n / total
                        * *fares
                            .entry((*t, *m))
                            .or_insert_with(|| mean_fare(&tariffs, t, *m));
                }
            }
            let fare: f64 = by_carrier.values().sum();
            let scale = (1.0 + growth).powf((h + 1) as f64 / 12.0);
            // A forecast past what kartka counts is held at `MAX_SUM`: the
            // sums it enters then fail as an overflow, never wrap.
            let k = |v: f64| clamp_kopecks(v * scale * fare);
            let carriers = by_carrier
                .iter()
                .map(|(c, fc)| (*c, clamp_kopecks(f.point[h] * scale * fc)))
                .collect();
            rows.push((
                f.point[h] * scale,
                Range {
                    point: k(f.point[h]),
                    lo80: k(f.lo80[h]),
                    hi80: k(f.hi80[h]),
                    lo95: k(f.lo95[h]),
                    hi95: k(f.hi95[h]),
                },
                carriers,
            ));
        }
        ahead_of.insert(key.clone(), rows);
    }

    // Card-making costs ahead: the mean of this year's counted months (of
    // the last twelve when none yet), per community.
    let fee_months: Vec<&&actuals::Month> = {
        let this_year: Vec<_> = series_months
            .iter()
            .filter(|m| m.month.starts_with(&ask.year.to_string()))
            .collect();
        if this_year.is_empty() {
            mix_months.iter().collect()
        } else {
            this_year
        }
    };
    let fee_ahead = |community: &str| -> i64 {
        if fee_months.is_empty() {
            return 0;
        }
        let s: i64 = fee_months
            .iter()
            .map(|m| m.fees.get(community).map_or(0, |f| f.1))
            .sum();
        s / fee_months.len() as i64
    };

    let as_of_day = crate::time::next_month(ask.as_of)
        .pred_opt()
        .expect("a day");
    // The months reported, and the cards valid in each (the last actual
    // month's ahead of it), read once for every community.
    let report_months = months(
        year_first,
        NaiveDate::from_ymd_opt(ask.year + 1, 12, 1).expect("a month"),
    );
    let last_beneficiaries = beneficiaries(reg, last_first)?;
    let mut beneficiaries_of = Vec::with_capacity(report_months.len());
    for m in &report_months {
        beneficiaries_of.push(if *m <= last_first {
            beneficiaries(reg, *m)?
        } else {
            last_beneficiaries.clone()
        });
    }
    let mut communities_seen: BTreeSet<String> = keys.iter().map(|k| k.0.clone()).collect();
    for b in &config.budget {
        communities_seen.insert(b.community_or(&city).to_string());
    }
    let mut out_communities = Vec::new();
    let mut not_flagged = Vec::new();
    for code in &communities_seen {
        let mut months_out = Vec::new();
        let mut cats: BTreeMap<String, (i64, Range, Range)> = BTreeMap::new();
        // Carrier → (actual, projected) in the year.
        let mut carriers: BTreeMap<Option<i32>, (i64, i64)> = BTreeMap::new();
        let (mut actual, mut fees_actual) = (0i64, 0i64);
        let mut projected = Range::default();
        let mut next = Range::default();
        for (&m, bens) in report_months.iter().zip(&beneficiaries_of) {
            let text = month_text(m);
            let in_year = m < next_year_first;
            let stored = history.iter().find(|h| h.month == text);
            let ben: i64 = bens
                .iter()
                .filter(|(k, _)| &k.0 == code)
                .map(|(_, v)| v)
                .sum();
            if let Some(h) =
                stored.filter(|h| h.state == actuals::State::Counted && m <= last_first)
            {
                let lines: Vec<&actuals::Line> =
                    h.lines.iter().filter(|l| &l.community == code).collect();
                let kop = money::sum(lines.iter().map(|l| l.kopecks))?;
                let trips: i64 = lines.iter().map(|l| l.trips).sum();
                let fees = h.fees.get(code).map_or(0, |f| f.1);
                for l in &lines {
                    let c = cats.entry(l.category.clone()).or_default();
                    c.0 = money::add(c.0, l.kopecks)?;
                    c.1.add(Range::exact(l.kopecks))?;
                }
                if in_year {
                    for l in &lines {
                        let c = carriers.entry(l.carrier).or_default();
                        c.0 = money::add(c.0, l.kopecks)?;
                        c.1 = money::add(c.1, l.kopecks)?;
                    }
                    actual = money::add(actual, kop)?;
                    fees_actual = money::add(fees_actual, fees)?;
                    projected.add(Range::exact(money::add(kop, fees)?))?;
                    months_out.push(MonthLine {
                        month: text,
                        kind: "actual",
                        trips,
                        cost: Range::exact(kop),
                        fees_kopecks: fees,
                        beneficiaries: ben,
                    });
                }
                continue;
            }
            let Some(h) = ahead.iter().position(|a| *a == m) else {
                // Stored but not judged before the last counted month:
                // named, not counted.
                if in_year && stored.is_some_and(|s| s.state == actuals::State::NotFlagged) {
                    if !not_flagged.contains(&text) {
                        not_flagged.push(text.clone());
                    }
                    months_out.push(MonthLine {
                        month: text,
                        kind: "not_flagged",
                        trips: 0,
                        cost: Range::default(),
                        fees_kopecks: 0,
                        beneficiaries: ben,
                    });
                    continue;
                }
                // Before the store's first month: nothing is known.
                if in_year {
                    months_out.push(MonthLine {
                        month: text,
                        kind: "no_taps",
                        trips: 0,
                        cost: Range::default(),
                        fees_kopecks: 0,
                        beneficiaries: ben,
                    });
                }
                continue;
            };
            let mut cost = Range::default();
            let mut trips = 0.0;
            for (key, rows) in ahead_of.iter().filter(|(k, _)| &k.0 == code) {
                cost.add(rows[h].1)?;
                trips += rows[h].0;
                if in_year {
                    cats.entry(key.1.clone()).or_default().1.add(rows[h].1)?;
                    for (c, k) in &rows[h].2 {
                        carriers.entry(*c).or_default().1 += k;
                    }
                } else {
                    cats.entry(key.1.clone()).or_default().2.add(rows[h].1)?;
                }
            }
            let fees = fee_ahead(code);
            let mut with_fees = cost;
            with_fees.add(Range::exact(fees))?;
            if in_year {
                projected.add(with_fees)?;
                let kind = if stored.is_some_and(|s| s.state == actuals::State::NotFlagged) {
                    if !not_flagged.contains(&text) {
                        not_flagged.push(text.clone());
                    }
                    "not_flagged"
                } else {
                    "forecast"
                };
                months_out.push(MonthLine {
                    month: text,
                    kind,
                    trips: trips.round() as i64,
                    cost,
                    fees_kopecks: fees,
                    beneficiaries: ben,
                });
            } else {
                next.add(with_fees)?;
            }
        }
        let plan = settings::plan(&config.budget, &city, ask.year, code, None, as_of_day);
        // The month the cumulative projection passes the plan.
        let runs_out = plan.and_then(|p| {
            let mut sum = 0;
            months_out.iter().find_map(|m| {
                // A comparison with the plan: past it is past it.
                sum = i64::saturating_add(sum, m.cost.point.saturating_add(m.fees_kopecks));
                (sum > p).then(|| m.month.clone())
            })
        });
        let known = || months_out.iter().filter(|m| m.kind != "no_taps");
        let ben_months: i64 = known().map(|m| m.beneficiaries).sum();
        let cost_months = money::sum(known().map(|m| m.cost.point))?;
        out_communities.push(CommunityBudget {
            name: names.get(code).cloned().unwrap_or_default(),
            plan_kopecks: plan,
            actual_kopecks: actual,
            actual_fees_kopecks: fees_actual,
            plan_left_kopecks: plan.map(|p| p - projected.point),
            runs_out,
            cost_per_beneficiary_month_kopecks: (ben_months > 0).then(|| cost_months / ben_months),
            projected,
            next_year: next,
            months: months_out,
            carriers: carriers
                .into_iter()
                .map(
                    |(carrier, (actual_kopecks, projected_kopecks))| CarrierLine {
                        carrier,
                        actual_kopecks,
                        projected_kopecks,
                    },
                )
                .collect(),
            categories: cats
                .into_iter()
                .map(|(c, (a, p, n))| CategoryLine {
                    plan_kopecks: settings::plan(
                        &config.budget,
                        &city,
                        ask.year,
                        code,
                        Some(&c),
                        as_of_day,
                    ),
                    code: c,
                    actual_kopecks: a,
                    projected: p,
                    next_year: n,
                })
                .collect(),
            code: code.clone(),
        });
    }
    let mut projected = Range::default();
    let mut next = Range::default();
    for c in &out_communities {
        projected.add(c.projected)?;
        next.add(c.next_year)?;
    }
    let plans: Vec<i64> = out_communities
        .iter()
        .filter_map(|c| c.plan_kopecks)
        .collect();
    Ok(Budget {
        year: ask.year,
        as_of: month_text(ask.as_of),
        history_months: series_months.len(),
        model,
        months_not_flagged: not_flagged,
        fares: ask.fares.clone(),
        growth: ask.growth.clone(),
        plan_kopecks: if plans.is_empty() {
            None
        } else {
            Some(money::sum(plans.iter().copied())?)
        },
        actual_kopecks: money::sum(
            out_communities
                .iter()
                .map(|c| money::add(c.actual_kopecks, c.actual_fees_kopecks))
                .collect::<Result<Vec<_>, _>>()?,
        )?,
        projected,
        next_year: next,
        communities: out_communities,
        out: None,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_fare_past_the_bound_is_refused_and_sums_are_checked() {
        let ok: FareChange = "all=2000@2027-01-01".parse().unwrap();
        assert_eq!((ok.route, ok.kopecks), (None, 2000));
        let e = "3=9223372036854775807@2027-01-01"
            .parse::<FareChange>()
            .unwrap_err();
        assert!(
            e.contains(
                "--fare \"3=9223372036854775807@2027-01-01\": KOPECKS = 9223372036854775807 is more than kartka accepts, 1000000"
            ),
            "{e}"
        );
        let mut r = Range::exact(crate::money::MAX_SUM);
        assert!(r.add(Range::exact(1)).is_err());
        assert_eq!(clamp_kopecks(f64::INFINITY), crate::money::MAX_SUM);
        assert_eq!(clamp_kopecks(f64::NAN), 0);
        assert_eq!(clamp_kopecks(1234.4), 1234);
    }
}
