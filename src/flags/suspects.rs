//! Configuration suspects (issues 20 and 35): faults of the system told
//! apart from fraud before a carrier is accused.
//!
//! Three rules speak of the system as much as of a passenger: a route the
//! carrier does not serve (rule 7), a tap outside the route's service day
//! (rule 6) and a validator's clock (rule 9). Their hits are first grouped
//! over the whole month by what would cause them: the carrier's route
//! missing from its fleet rows, a validator docked as another vehicle, a
//! route's hour band outside its configured day, a validator's clock. When
//! the rule fired on most of such a unit's taps on several days, whatever
//! the daily volume (a small city's vehicle, a night route), the fleet sheet
//! or a setting is the likelier cause: its taps are held as one suspect for
//! the month (`S-C1R77-2026-10`, `S-V902-…`, `S-R76-…`, `S-T904-…`; rule
//! `config_suspect`) with its days, validators and the fix. Of the hits
//! left, a validator's single day on which a rule fired on most of its taps
//! (`suspect_share_pct`, and at least `suspect_min_taps` taps) is one suspect
//! of its own (`S-<validator>-<YYYY-MM-DD>`). A one-off stays under its
//! rule. Clearing a suspect clears its taps together, and a fixed fleet
//! sheet or kartka.toml followed by a re-run releases them (the rule no
//! longer fires).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::engine::{DAY_MS, MonthClock};
use super::evidence::hhmm;
use super::{Error, Flag, FlagSettings, Hit, Rule};
use crate::registry::Registry;

/// The rules a configuration fault makes fire on a whole day.
pub const CONFIG_RULES: [Rule; 3] = [
    Rule::RouteNotServed,
    Rule::OutsideServiceHours,
    Rule::ClockAnomaly,
];

/// One validator's day that points at the configuration.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suspect {
    pub id: String,
    /// `day`: one validator's Kyiv day; `month`: one cause seen on several
    /// days of the month (`days`, on `validators`).
    pub scope: &'static str,
    /// The (first) validator.
    pub validator: i32,
    /// The Kyiv day, YYYY-MM-DD; the month, YYYY-MM, for a month's cause.
    pub day: String,
    /// The validators' accepted taps those days.
    pub day_taps: u32,
    /// The Kyiv days the cause showed on, and the validators it showed on.
    pub days: Vec<String>,
    pub validators: Vec<i32>,
    /// The taps it holds as `config_suspect`, of them cleared, and what the
    /// held ones are worth.
    pub taps: usize,
    pub cleared: usize,
    pub held_kopecks: i64,
    pub findings: Vec<Finding>,
}

/// One rule firing on most of the day, with its likely cause.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub taps: usize,
    pub cause: Cause,
    pub evidence_uk: String,
    pub evidence_en: String,
    pub fix_uk: String,
    pub fix_en: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// The fleet sheet's row of the vehicle lacks the route.
    RouteMissing {
        vehicle: i32,
        carrier: Option<i32>,
        route: i32,
        /// The carrier's other vehicles seen on the route that month.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        also: Vec<i32>,
    },
    /// The validator recorded another vehicle than the fleet sheet puts it
    /// on, one whose carrier does not serve the route.
    WrongVehicle {
        recorded_vehicle: i32,
        recorded_carrier: Option<i32>,
        fleet_vehicle: i32,
        fleet_carrier: i32,
        route: i32,
    },
    /// The route ran outside the configured service day: the entry that
    /// would cover what the taps show.
    ServiceDay {
        route: i32,
        start: String,
        end: String,
    },
    /// The validator's clock was off by `hours` or more: its taps dated
    /// later than its docking (`ahead`), or before the docking before.
    Clock { ahead: bool, hours: i64 },
}

/// What the fleet sheet says: each validator's vehicle, each vehicle's
/// carrier and routes.
#[derive(Debug, Default)]
pub struct Fleet {
    validators: FxHashMap<i32, i32>,
    vehicles: FxHashMap<i32, (i32, Vec<i32>)>,
}

impl Fleet {
    pub fn load(reg: &Registry) -> Result<Fleet, Error> {
        let err = |e| Error::Registry(reg.err(e));
        let mut fleet = Fleet::default();
        let mut stmt = reg
            .conn()
            .prepare("SELECT id, vehicle FROM validators")
            .map_err(err)?;
        for r in stmt
            .query_map([], |r| Ok((r.get::<_, i32>(0)?, r.get::<_, i32>(1)?)))
            .map_err(err)?
        {
            let (v, vehicle) = r.map_err(err)?;
            fleet.validators.insert(v, vehicle);
        }
        let mut stmt = reg
            .conn()
            .prepare("SELECT id, carrier, routes FROM vehicles")
            .map_err(err)?;
        for r in stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i32>(0)?,
                    r.get::<_, i32>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(err)?
        {
            let (id, carrier, routes) = r.map_err(err)?;
            let routes = routes
                .split(',')
                .filter_map(|r| r.trim().parse().ok())
                .collect();
            fleet.vehicles.insert(id, (carrier, routes));
        }
        Ok(fleet)
    }
}

/// A month's cause (a fleet row, a `[[flags.routes]]` entry, a clock) must
/// show on at least this many Kyiv days: a wrong setting is wrong every day
/// the route or the vehicle runs, while a fraud that looks like one (a tap
/// on a route the carrier does not serve, a ride at night) is a day or two.
pub const MONTH_MIN_DAYS: usize = 3;
/// ... and on at least this share, in percent, of the days its validators
/// (or its route) ran that month from the first day it showed: a night
/// route missing from the settings fires every night, a weekend-only one
/// still on a quarter of them, a route added on the 25th every day since.
pub const MONTH_MIN_DAY_SHARE_PCT: usize = 25;
/// ... and on the taps of at least this many different cards: one
/// passenger's own habit (the same card on the same route at night) is a
/// question about the card, not a setting.
pub const MONTH_MIN_CARDS: usize = 3;

/// A route's taps outside its service day are its timetable when they come
/// in runs: at least this share, in percent, of an hour band's taps is in a
/// run, where the validator has at least `RUN_MIN_TAPS` taps on the route
/// within `RUN_WINDOW_H` hours either side, `RUN_HIT_SHARE_PCT` of them
/// outside the service day too. A night route's passengers board one after
/// another through its run; a card misused at night is a lone tap in the
/// small hours, or one after the day route's last honest taps.
pub const MONTH_RUN_SHARE_PCT: usize = 50;
/// A route's timetable outside its configured day carries several
/// passengers a day: at least this many of its taps, on average, on each day
/// they show; cards misused at night are one here, one there.
pub const MONTH_MIN_NIGHT_TAPS_PER_DAY: usize = 2;
pub const RUN_MIN_TAPS: usize = 3;
pub const RUN_WINDOW_H: i64 = 2;
pub const RUN_HIT_SHARE_PCT: u64 = 50;

/// What a month's cause is: the thing whose fix releases its taps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    /// A carrier's route no vehicle row of it has (the fleet rows).
    Fleet { carrier: Option<i32>, route: i32 },
    /// A validator writing another vehicle than its fleet row's.
    Docked(i32),
    /// A route's taps outside its service day (the `[[flags.routes]]`
    /// entry).
    Hours(i32),
    /// A validator's clock.
    Clock(i32),
}

impl Unit {
    fn rule(self) -> Rule {
        match self {
            Unit::Fleet { .. } | Unit::Docked(_) => Rule::RouteNotServed,
            Unit::Hours(_) => Rule::OutsideServiceHours,
            Unit::Clock(_) => Rule::ClockAnomaly,
        }
    }

    /// `S-C1R77-2026-10`, `S-V902-2026-10`, `S-R76-2026-10`, `S-T904-2026-10`.
    fn id(self, month: &str) -> String {
        match self {
            Unit::Fleet { carrier, route } => {
                format!("S-C{}R{route}-{month}", carrier.unwrap_or(0))
            }
            Unit::Docked(v) => format!("S-V{v}-{month}"),
            Unit::Hours(r) => format!("S-R{r}-{month}"),
            Unit::Clock(v) => format!("S-T{v}-{month}"),
        }
    }
}

/// The engine's tap counts, by the units a suspect is measured against.
#[derive(Default)]
struct Counts {
    /// (validator, day) → taps.
    vday: FxHashMap<(i32, i64), u32>,
    /// (route, day, Kyiv hour) → taps.
    rhour: FxHashMap<(i32, i64, i8), u32>,
    /// (route, Kyiv hour) → the month's taps, and the days with any.
    route_hour: FxHashMap<(i32, i8), (u64, usize)>,
    /// (validator, route, Kyiv hour counted from the epoch) → taps.
    vrh: FxHashMap<(i32, i32, i64), u32>,
    /// The days each route, each validator ran.
    route_days: FxHashMap<i32, BTreeSet<i64>>,
    v_days: FxHashMap<i32, BTreeSet<i64>>,
}

impl Counts {
    /// The counts of `days` that the configuration rules' hits in `flags`
    /// are measured against: their validators' days, and the hours of the
    /// routes outside service hours (the rest of the month is not read).
    fn of(days: &DataFrame, flags: &[Flag], clock: &MonthClock) -> PolarsResult<Counts> {
        let mut validators: FxHashSet<i32> = FxHashSet::default();
        let mut routes: FxHashSet<i32> = FxHashSet::default();
        // The routes' hours a run around a hit may reach.
        let mut near: FxHashSet<(i32, i8)> = FxHashSet::default();
        for f in flags {
            for h in f.rules.iter().filter(|h| CONFIG_RULES.contains(&h.rule)) {
                validators.insert(f.validator);
                if h.rule == Rule::OutsideServiceHours {
                    routes.insert(f.route);
                    let hour = i64::from(hour_of(clock, f.tapped_at_ms));
                    for x in hour - RUN_WINDOW_H..=hour + RUN_WINDOW_H {
                        near.insert((f.route, x.rem_euclid(24) as i8));
                    }
                }
            }
        }
        let mut c = Counts::default();
        if validators.is_empty() {
            return Ok(c);
        }
        // Each validator's day, summed over routes and hours.
        let mask = |name: &str, keep: &FxHashSet<i32>| -> PolarsResult<BooleanChunked> {
            Ok(days
                .column(name)?
                .i32()?
                .iter()
                .map(|x| x.is_some_and(|x| keep.contains(&x)))
                .collect())
        };
        let by_day = days
            .filter(&mask("validator_id", &validators)?)?
            .lazy()
            .group_by([col("validator_id"), col("day")])
            .agg([col("taps").sum()])
            .collect()?;
        let v = by_day.column("validator_id")?.i32()?;
        let d = by_day.column("day")?.i64()?;
        let n = by_day.column("taps")?.u32()?;
        for ((v, d), n) in v.iter().zip(d.iter()).zip(n.iter()) {
            if let (Some(v), Some(d), Some(n)) = (v, d, n) {
                c.vday.insert((v, d), n);
                c.v_days.entry(v).or_default().insert(d);
            }
        }
        if routes.is_empty() {
            return Ok(c);
        }
        // The hours of the routes outside their service day.
        let of_routes = days.filter(&mask("route", &routes)?)?;
        let ran = of_routes
            .clone()
            .lazy()
            .group_by([col("route"), col("day")])
            .agg([col("taps").sum()])
            .collect()?;
        let r = ran.column("route")?.i32()?;
        let d = ran.column("day")?.i64()?;
        for (r, d) in r.iter().zip(d.iter()) {
            if let (Some(r), Some(d)) = (r, d) {
                c.route_days.entry(r).or_default().insert(d);
            }
        }
        // Each route's hours over the month: taps, and on how many days.
        let hours = of_routes
            .clone()
            .lazy()
            .group_by([col("route"), col("hour")])
            .agg([
                col("taps").sum().cast(DataType::UInt64).alias("taps"),
                col("day").n_unique().cast(DataType::UInt64).alias("days"),
            ])
            .collect()?;
        let r = hours.column("route")?.i32()?;
        let h = hours.column("hour")?.i8()?;
        let n = hours.column("taps")?.u64()?;
        let days_n = hours.column("days")?.u64()?;
        for ((r, h), (n, dn)) in r.iter().zip(h.iter()).zip(n.iter().zip(days_n.iter())) {
            if let (Some(r), Some(h), Some(n), Some(dn)) = (r, h, n, dn) {
                c.route_hour.insert((r, h), (n, dn as usize));
            }
        }
        let r = of_routes.column("route")?.i32()?;
        let h = of_routes.column("hour")?.i8()?;
        let close: BooleanChunked = r
            .iter()
            .zip(h.iter())
            .map(|(r, h)| r.zip(h).is_some_and(|k| near.contains(&k)))
            .collect();
        let of_hours = of_routes.filter(&close)?;
        let v = of_hours.column("validator_id")?.i32()?;
        let d = of_hours.column("day")?.i64()?;
        let r = of_hours.column("route")?.i32()?;
        let h = of_hours.column("hour")?.i8()?;
        let n = of_hours.column("taps")?.u32()?;
        for (((v, d), (r, h)), n) in v
            .iter()
            .zip(d.iter())
            .zip(r.iter().zip(h.iter()))
            .zip(n.iter())
        {
            let (Some(v), Some(d), Some(r), Some(h), Some(n)) = (v, d, r, h, n) else {
                continue;
            };
            *c.rhour.entry((r, d, h)).or_default() += n;
            *c.vrh
                .entry((v, r, d.div_euclid(3_600_000) + i64::from(h)))
                .or_default() += n;
        }
        Ok(c)
    }
}

/// Finds the suspects of a month's `flags` against `days` (the engine's
/// taps per validator, Kyiv day, route and hour) and holds their taps as
/// `config_suspect` instead of under the rule that fired.
///
/// First the month's causes: each configuration rule's hits grouped by
/// what would cause them (the carrier's route missing from its fleet
/// rows, a validator docked as another vehicle, a route's hour band
/// outside its service day, a validator's clock); a group on which the rule
/// fired on most of the unit's taps (`suspect_share_pct`) on several days
/// (`MONTH_MIN_DAYS`, `MONTH_MIN_DAY_SHARE_PCT`) and cards
/// (`MONTH_MIN_CARDS`) is one suspect, whatever the daily volume. Then, of
/// the hits left, a validator's single day on which a rule fired on most
/// of at least `suspect_min_taps` taps.
pub fn hold(
    flags: &mut [Flag],
    days: &DataFrame,
    settings: &FlagSettings,
    fleet: &Fleet,
    clock: &MonthClock,
) -> PolarsResult<Vec<Suspect>> {
    let counts = Counts::of(days, flags, clock)?;
    let mut out = month_causes(flags, &counts, settings, fleet, clock);
    out.extend(day_causes(flags, &counts.vday, settings, fleet, clock));
    Ok(out)
}

fn day_of(clock: &MonthClock, t: i64) -> i64 {
    let local = clock.local_ms(t);
    local - local.rem_euclid(DAY_MS)
}

fn hour_of(clock: &MonthClock, t: i64) -> i8 {
    (clock.local_ms(t).rem_euclid(DAY_MS) / 3_600_000) as i8
}

fn month_causes(
    flags: &mut [Flag],
    counts: &Counts,
    settings: &FlagSettings,
    fleet: &Fleet,
    clock: &MonthClock,
) -> Vec<Suspect> {
    let mut units: BTreeMap<Unit, Vec<usize>> = BTreeMap::new();
    for (i, f) in flags.iter().enumerate() {
        for h in f.rules.iter().filter(|h| CONFIG_RULES.contains(&h.rule)) {
            let unit = match h.rule {
                Rule::RouteNotServed => match fleet.validators.get(&f.validator) {
                    Some(&fv) if fv != f.vehicle => Unit::Docked(f.validator),
                    _ => Unit::Fleet {
                        carrier: f.carrier,
                        route: f.route,
                    },
                },
                Rule::OutsideServiceHours => Unit::Hours(f.route),
                _ => Unit::Clock(f.validator),
            };
            units.entry(unit).or_default().push(i);
        }
    }
    let share = u64::from(settings.suspect_share_pct);
    let enough_days = |hit: usize, ran: usize| {
        hit >= MONTH_MIN_DAYS && hit * 100 >= ran * MONTH_MIN_DAY_SHARE_PCT
    };
    let mut out = Vec::new();
    for (unit, rows) in units {
        let rows: Vec<usize> = match unit {
            Unit::Hours(route) => {
                // By Kyiv hour band: the band's days on which the rule
                // fired on most of the route's taps in it.
                let mut bands: BTreeMap<i8, BTreeMap<i64, Vec<usize>>> = BTreeMap::new();
                for &r in &rows {
                    let t = flags[r].tapped_at_ms;
                    bands
                        .entry(hour_of(clock, t))
                        .or_default()
                        .entry(day_of(clock, t))
                        .or_default()
                        .push(r);
                }
                // The days the route ran from a day on: a fault starts on
                // a day (a route added mid-month) and lasts.
                let ran_from = |first: i64| {
                    counts
                        .route_days
                        .get(&route)
                        .map_or(0, |d| d.range(first..).count())
                };
                // The route's hits on each validator by Kyiv hour (counted
                // from the month's start, across midnight).
                let abs_hour = |t: i64| clock.local_ms(t).div_euclid(3_600_000);
                let mut hits_at: FxHashMap<(i32, i64), u64> = FxHashMap::default();
                for &r in &rows {
                    let f = &flags[r];
                    *hits_at
                        .entry((f.validator, abs_hour(f.tapped_at_ms)))
                        .or_default() += 1;
                }
                let in_run: FxHashMap<usize, bool> = rows
                    .iter()
                    .map(|&r| {
                        let f = &flags[r];
                        let at = abs_hour(f.tapped_at_ms);
                        let (mut n, mut k) = (0u64, 0u64);
                        for a in at - RUN_WINDOW_H..=at + RUN_WINDOW_H {
                            n += u64::from(
                                counts
                                    .vrh
                                    .get(&(f.validator, route, a))
                                    .copied()
                                    .unwrap_or(0),
                            );
                            k += hits_at.get(&(f.validator, a)).copied().unwrap_or(0);
                        }
                        (
                            r,
                            n >= RUN_MIN_TAPS as u64 && k * 100 >= n * RUN_HIT_SHARE_PCT,
                        )
                    })
                    .collect();
                let runs = |by_day: &BTreeMap<i64, Vec<usize>>| {
                    let all = by_day.values().flatten();
                    let n = all.clone().count();
                    let ran = all.filter(|r| in_run[*r]).count();
                    ran * 100 >= n * MONTH_RUN_SHARE_PCT
                };
                let mut keep: BTreeSet<i8> = bands
                    .iter()
                    .filter(|(_, by_day)| runs(by_day))
                    .filter(|(h, by_day)| {
                        let most = by_day
                            .iter()
                            .filter(|(d, hits)| {
                                let n = counts.rhour.get(&(route, **d, **h)).copied();
                                hits.len() as u64 * 100 >= u64::from(n.unwrap_or(0)) * share
                            })
                            .count();
                        let first = by_day.keys().next().copied().unwrap_or(0);
                        enough_days(most, ran_from(first))
                    })
                    .map(|(h, _)| *h)
                    .collect();
                // A band next to one kept, on several days, is the same
                // run (the hour the tolerance cuts in two).
                loop {
                    let next: Vec<i8> = bands
                        .iter()
                        .filter(|(h, by_day)| {
                            !keep.contains(h)
                                && by_day.len() >= MONTH_MIN_DAYS
                                && runs(by_day)
                                && (keep.contains(&((**h + 1) % 24))
                                    || keep.contains(&((**h + 23) % 24)))
                        })
                        .map(|(h, _)| *h)
                        .collect();
                    if next.is_empty() {
                        break;
                    }
                    keep.extend(next);
                }
                keep.iter()
                    .flat_map(|h| bands[h].values().flatten().copied())
                    .collect()
            }
            _ => {
                // By validator-day: the days on which the rule fired on
                // most of a validator's taps.
                let mut by: BTreeMap<(i32, i64), usize> = BTreeMap::new();
                for &r in &rows {
                    let f = &flags[r];
                    *by.entry((f.validator, day_of(clock, f.tapped_at_ms)))
                        .or_default() += 1;
                }
                let most: BTreeSet<i64> = by
                    .iter()
                    .filter(|(vd, k)| {
                        **k as u64 * 100
                            >= u64::from(counts.vday.get(vd).copied().unwrap_or(0)) * share
                    })
                    .map(|((_, d), _)| *d)
                    .collect();
                let ran: BTreeSet<i64> = by
                    .keys()
                    .map(|(v, _)| *v)
                    .collect::<BTreeSet<_>>()
                    .iter()
                    .filter_map(|v| counts.v_days.get(v))
                    .flatten()
                    .copied()
                    .collect();
                // From the first day the cause showed: a fault starts on a
                // day and lasts.
                let first = by.keys().map(|(_, d)| *d).min().unwrap_or(0);
                if enough_days(most.len(), ran.range(first..).count()) {
                    rows
                } else {
                    Vec::new()
                }
            }
        };
        if rows.is_empty() {
            continue;
        }
        let cards: BTreeSet<i64> = rows.iter().map(|&r| flags[r].card).collect();
        if !matches!(unit, Unit::Clock(_)) && cards.len() < MONTH_MIN_CARDS {
            continue;
        }
        let hit_days: BTreeSet<i64> = rows
            .iter()
            .map(|&r| day_of(clock, flags[r].tapped_at_ms))
            .collect();
        if hit_days.len() < MONTH_MIN_DAYS
            || (matches!(unit, Unit::Hours(_))
                && rows.len() < hit_days.len() * MONTH_MIN_NIGHT_TAPS_PER_DAY)
        {
            continue;
        }
        let validators: Vec<i32> = rows
            .iter()
            .map(|&r| flags[r].validator)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let day_taps: u32 = validators
            .iter()
            .flat_map(|&v| hit_days.iter().map(move |&d| (v, d)))
            .filter_map(|vd| counts.vday.get(&vd))
            .sum();
        let first = clock.date_of_local_day(*hit_days.first().expect("days"));
        let month = first.format("%Y-%m").to_string();
        let dates: Vec<NaiveDate> = hit_days
            .iter()
            .map(|&d| clock.date_of_local_day(d))
            .collect();
        let id = unit.id(&month);
        let rule = unit.rule();
        let scope = Scope::Month {
            id: &id,
            dates: &dates,
            validators: &validators,
            route_hours: match unit {
                Unit::Hours(route) => {
                    Some(Box::new(route_hours(route, &rows, flags, counts, clock)))
                }
                _ => None,
            },
        };
        let finding = diagnose(rule, &scope, &rows, flags, settings, fleet, clock);
        let suspect = Suspect {
            id: id.clone(),
            scope: "month",
            validator: validators[0],
            day: month,
            day_taps,
            days: dates
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect(),
            validators,
            taps: 0,
            cleared: 0,
            held_kopecks: 0,
            findings: vec![finding],
        };
        for r in rows {
            relabel(&mut flags[r], &suspect, &[rule]);
        }
        out.push(suspect);
    }
    out
}

/// The route's hours over the month: each Kyiv hour's taps, and of them
/// the hits of `rows`, with the first and last hit's time of day in it.
fn route_hours(
    route: i32,
    rows: &[usize],
    flags: &[Flag],
    counts: &Counts,
    clock: &MonthClock,
) -> RouteHours {
    let mut h = RouteHours::default();
    let days = counts.route_days.get(&route).map_or(0, |d| d.len());
    let mut ran_days = [0usize; 24];
    for hour in 0..24i8 {
        if let Some(&(n, d)) = counts.route_hour.get(&(route, hour)) {
            h.taps[hour as usize] = n;
            ran_days[hour as usize] = d;
        }
    }
    // An hour the route runs in is one it ran in on several days.
    for (a, d) in h.active.iter_mut().zip(ran_days) {
        *a = d >= MONTH_MIN_DAYS.min(days.max(1));
    }
    for &r in rows {
        let tod = clock.local_ms(flags[r].tapped_at_ms).rem_euclid(DAY_MS);
        let hour = (tod / 3_600_000) as usize;
        h.hits[hour] += 1;
        h.active[hour] = true;
        let (lo, hi) = h.span[hour].get_or_insert((tod, tod));
        *lo = (*lo).min(tod);
        *hi = (*hi).max(tod);
    }
    h
}

#[derive(Default)]
struct RouteHours {
    taps: [u64; 24],
    hits: [u64; 24],
    active: [bool; 24],
    span: [Option<(i64, i64)>; 24],
}

/// The service day a route's month shows (`h`), against the configured
/// one (`open`, `close`, ms of the Kyiv day; `start`, `end` as written).
/// A route that runs only in the hours around its hits (a night route) runs
/// from the first of those hours to the last hit; one that runs all its
/// configured day too runs longer: earlier, later or both.
fn observed_hours(
    h: &RouteHours,
    open: i64,
    close: i64,
    start: &str,
    end: &str,
) -> (String, String) {
    let half_hour = 30 * 60_000;
    let floor = |t: i64| hhmm(t - t.rem_euclid(half_hour));
    let ceil = |t: i64| hhmm((t + half_hour - 1) / half_hour * half_hour);
    let hour = |ms: i64| (ms.rem_euclid(DAY_MS) / 3_600_000) as usize;
    let Some(first_hit) = (0..24).find(|&x| h.hits[x] > 0) else {
        return (start.to_string(), end.to_string());
    };
    // The run of hours the route runs in, around its hits.
    let mut b = first_hit;
    for _ in 0..23 {
        if !h.active[(b + 23) % 24] {
            break;
        }
        b = (b + 23) % 24;
    }
    let mut block = vec![b];
    while block.len() < 24 && h.active[(block[block.len() - 1] + 1) % 24] {
        block.push((block[block.len() - 1] + 1) % 24);
    }
    let covers =
        block.len() == 24 || (block.contains(&hour(open)) && block.contains(&hour(close - 60_000)));
    if !covers {
        let (first, last) = (block[0], block[block.len() - 1]);
        // An hour all of whose taps the rule fired on starts (ends) at its
        // first (last) tap; one with taps inside the configured day, at
        // the hour.
        let new_start = match h.span[first] {
            Some((lo, _)) if h.hits[first] >= h.taps[first] => floor(lo),
            _ => hhmm(first as i64 * 3_600_000),
        };
        let new_end = match h.span[last] {
            Some((_, hi)) if h.hits[last] >= h.taps[last] => ceil(hi),
            _ => hhmm(((last + 1) % 24) as i64 * 3_600_000),
        };
        return (new_start, new_end);
    }
    // Each hit is an evening's (nearer after the close) or a morning's
    // (nearer before the opening).
    // (distance from the configured day, time of day)
    let mut earliest: Option<(i64, i64)> = None;
    let mut latest: Option<(i64, i64)> = None;
    for (lo, hi) in h.span.iter().flatten() {
        for t in [*lo, *hi] {
            let after = (t - close).rem_euclid(DAY_MS);
            let before = (open - t).rem_euclid(DAY_MS);
            if after < before {
                if latest.is_none_or(|(d, _)| after > d) {
                    latest = Some((after, t));
                }
            } else if earliest.is_none_or(|(d, _)| before > d) {
                earliest = Some((before, t));
            }
        }
    }
    (
        earliest.map_or(start.to_string(), |(_, t)| floor(t)),
        latest.map_or(end.to_string(), |(_, t)| ceil(t)),
    )
}

/// What a finding speaks of: one validator's day, or a cause's month.
enum Scope<'a> {
    Day {
        validator: i32,
        date: NaiveDate,
        day_taps: u32,
    },
    Month {
        id: &'a str,
        dates: &'a [NaiveDate],
        validators: &'a [i32],
        route_hours: Option<Box<RouteHours>>,
    },
}

fn day_causes(
    flags: &mut [Flag],
    day_taps: &FxHashMap<(i32, i64), u32>,
    settings: &FlagSettings,
    fleet: &Fleet,
    clock: &MonthClock,
) -> Vec<Suspect> {
    // The flags each configuration rule fired on, per validator and day.
    let mut groups: BTreeMap<(i32, i64, Rule), Vec<usize>> = BTreeMap::new();
    for (i, f) in flags.iter().enumerate() {
        for h in f.rules.iter().filter(|h| CONFIG_RULES.contains(&h.rule)) {
            groups
                .entry((f.validator, day_of(clock, f.tapped_at_ms), h.rule))
                .or_default()
                .push(i);
        }
    }
    // Per validator-day: the suspect, and each rule's flags (indices).
    type Found = (Suspect, Vec<(Rule, Vec<usize>)>);
    let mut found: BTreeMap<(i32, i64), Found> = BTreeMap::new();
    for ((v, day, rule), rows) in groups {
        let of_day = day_taps.get(&(v, day)).copied().unwrap_or(0);
        let n = rows.len() as u64;
        if n < u64::from(settings.suspect_min_taps)
            || n * 100 < u64::from(of_day) * u64::from(settings.suspect_share_pct)
        {
            continue;
        }
        let date = clock.date_of_local_day(day);
        let scope = Scope::Day {
            validator: v,
            date,
            day_taps: of_day,
        };
        let finding = diagnose(rule, &scope, &rows, flags, settings, fleet, clock);
        let entry = found.entry((v, day)).or_insert_with(|| {
            let day = date.format("%Y-%m-%d").to_string();
            (
                Suspect {
                    id: suspect_id(v, date),
                    scope: "day",
                    validator: v,
                    day: day.clone(),
                    day_taps: of_day,
                    days: vec![day],
                    validators: vec![v],
                    taps: 0,
                    cleared: 0,
                    held_kopecks: 0,
                    findings: Vec::new(),
                },
                Vec::new(),
            )
        });
        entry.0.findings.push(finding);
        entry.1.push((rule, rows));
    }
    let mut out = Vec::new();
    for (_, (suspect, rules)) in found {
        let mut taps: BTreeMap<usize, Vec<Rule>> = BTreeMap::new();
        for (rule, rows) in rules {
            for r in rows {
                taps.entry(r).or_default().push(rule);
            }
        }
        for (r, rules) in taps {
            relabel(&mut flags[r], &suspect, &rules);
        }
        out.push(suspect);
    }
    out
}

/// Counts what each suspect holds, once the flags' fares and clearings
/// are known.
pub fn tally(suspects: &mut [Suspect], flags: &[Flag]) {
    let mut of: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, s) in suspects.iter().enumerate() {
        of.insert(s.id.as_str(), i);
    }
    let mut counts = vec![(0usize, 0usize, 0i64); suspects.len()];
    for f in flags {
        for h in &f.rules {
            let Some(&i) = h.suspect.as_deref().and_then(|id| of.get(id)) else {
                continue;
            };
            if h.cleared {
                counts[i].1 += 1;
            } else {
                counts[i].0 += 1;
                counts[i].2 += f.fare_kopecks;
            }
        }
    }
    for (s, (held, cleared, kopecks)) in suspects.iter_mut().zip(counts) {
        s.taps = held + cleared;
        s.cleared = cleared;
        s.held_kopecks = kopecks;
    }
}

pub fn suspect_id(validator: i32, day: NaiveDate) -> String {
    format!("S-{validator}-{}", day.format("%Y-%m-%d"))
}

/// `S-7-2026-10-12` → (7, 2026-10-12).
pub fn parse_suspect_id(id: &str) -> Option<(i32, NaiveDate)> {
    let id = id.trim();
    let rest = id.strip_prefix("S-").or_else(|| id.strip_prefix("s-"))?;
    let (v, day) = rest.split_once('-')?;
    Some((
        v.parse().ok()?,
        NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?,
    ))
}

/// The month a suspect's id names: `S-7-2026-10-12` (a validator's day)
/// or `S-R76-2026-10` (a month's cause) → 2026-10.
pub fn suspect_month(id: &str) -> Option<String> {
    if let Some((_, day)) = parse_suspect_id(id) {
        return Some(day.format("%Y-%m").to_string());
    }
    let id = id.trim().to_ascii_uppercase();
    let rest = id.strip_prefix("S-").filter(|r| r.is_ascii())?;
    let (unit, month) = rest.split_at(rest.len().checked_sub(8)?);
    let month = month.strip_prefix('-')?;
    let kind = unit.chars().next()?;
    let valid = match kind {
        'C' => {
            let (c, r) = unit[1..].split_once('R')?;
            c.parse::<i32>().is_ok() && r.parse::<i32>().is_ok()
        }
        'V' | 'R' | 'T' => unit[1..].parse::<i32>().is_ok(),
        _ => false,
    };
    (valid && NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_ok())
        .then(|| month.to_string())
}

/// The tap's hits of `rules` become one `config_suspect` hit.
fn relabel(f: &mut Flag, s: &Suspect, rules: &[Rule]) {
    f.rules.retain(|h| !rules.contains(&h.rule));
    let of = |en: bool| {
        s.findings
            .iter()
            .filter(|x| rules.iter().any(|r| r.code() == x.rule))
            .map(|x| {
                if en {
                    format!("{}; likely fix: {}", x.evidence_en, x.fix_en)
                } else {
                    format!("{}; ймовірне виправлення: {}", x.evidence_uk, x.fix_uk)
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    // A tap two causes explain stays with the first, naming both.
    if let Some(h) = f.rules.iter_mut().find(|h| h.rule == Rule::ConfigSuspect) {
        h.evidence_uk.push_str(&format!(
            "; підозра на налаштування {}: {}",
            s.id,
            of(false)
        ));
        h.evidence_en
            .push_str(&format!("; configuration suspect {}: {}", s.id, of(true)));
        return;
    }
    f.rules.push(Hit {
        rule: Rule::ConfigSuspect,
        other: None,
        n: None,
        x: None,
        evidence_uk: format!("підозра на налаштування {}: {}", s.id, of(false)),
        evidence_en: format!("configuration suspect {}: {}", s.id, of(true)),
        cleared: false,
        held: false,
        suspect: Some(s.id.clone()),
    });
}

/// The most frequent value.
fn mode<T: Ord + Copy>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(v, _)| v)
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn diagnose(
    rule: Rule,
    scope: &Scope<'_>,
    rows: &[usize],
    flags: &[Flag],
    settings: &FlagSettings,
    fleet: &Fleet,
    clock: &MonthClock,
) -> Finding {
    let n = rows.len();
    let taps = || rows.iter().map(|&r| &flags[r]);
    let route = mode(taps().map(|f| f.route)).unwrap_or(0);
    let (validator, month, id, day_taps) = match scope {
        Scope::Day {
            validator,
            date,
            day_taps,
        } => (
            *validator,
            date.format("%Y-%m").to_string(),
            suspect_id(*validator, *date),
            *day_taps,
        ),
        Scope::Month {
            id,
            dates,
            validators,
            ..
        } => (
            validators[0],
            dates[0].format("%Y-%m").to_string(),
            id.to_string(),
            0,
        ),
    };
    let monthly = matches!(scope, Scope::Month { .. });
    let again_uk = format!("потім знову `kartka taps flag --month {month}`");
    let again_en = format!("then `kartka taps flag --month {month}` again");
    let share = |uk: &str, en: &str| match scope {
        Scope::Day { date, .. } => {
            let day = date.format("%d.%m.%Y");
            (
                format!(
                    "правило {} на {n} з {day_taps} валідацій валідатора {validator} за {day} ({uk})",
                    rule.code()
                ),
                format!(
                    "{} on {n} of validator {validator}'s {day_taps} taps on {day} ({en})",
                    rule.code()
                ),
            )
        }
        Scope::Month {
            dates, validators, ..
        } => {
            let d = dates.len();
            let (first, last) = (dates[0].format("%d.%m.%Y"), dates[d - 1].format("%d.%m.%Y"));
            let cards = taps().map(|f| f.card).collect::<BTreeSet<_>>().len();
            let v = list(validators);
            (
                format!(
                    "правило {} на {n} валідаціях {cards} карток за {d} дн. місяця {month} ({first}–{last}), валідатори {v} ({uk})",
                    rule.code()
                ),
                format!(
                    "{} on {n} taps by {cards} cards on {d} days of {month} ({first} to {last}), validators {v} ({en})",
                    rule.code()
                ),
            )
        }
    };
    let (cause, (evidence_uk, evidence_en), fix_uk, fix_en) = match rule {
        Rule::RouteNotServed => {
            let (vehicle, carrier) =
                mode(taps().map(|f| (f.vehicle, f.carrier))).unwrap_or((0, None));
            let carrier_text = carrier.map_or("—".to_string(), |c| c.to_string());
            match fleet.validators.get(&validator).copied() {
                Some(fv) if fv != vehicle => {
                    let fc = fleet.vehicles.get(&fv).map_or(0, |v| v.0);
                    (
                        Cause::WrongVehicle {
                            recorded_vehicle: vehicle,
                            recorded_carrier: carrier,
                            fleet_vehicle: fv,
                            fleet_carrier: fc,
                            route,
                        },
                        share(
                            &format!(
                                "валідатор записував ТЗ {vehicle} перевізника {carrier_text} на маршруті {route}, а за таблицею парку він стоїть у ТЗ {fv} перевізника {fc}"
                            ),
                            &format!(
                                "the validator recorded vehicle {vehicle} of carrier {carrier_text} on route {route}, but the fleet sheet puts it on vehicle {fv} of carrier {fc}"
                            ),
                        ),
                        format!(
                            "якщо валідатор перенесли в ТЗ {vehicle}, виправте його рядок у таблиці парку і виконайте `kartka fleet import ФАЙЛ`; якщо ні, задокуйте його (`kartka dock`), щоб він отримав налаштування ТЗ {fv}; підтверджені поїздки звільніть `kartka taps clear {id}`"
                        ),
                        format!(
                            "if the validator was moved to vehicle {vehicle}, correct its row in the fleet sheet and run `kartka fleet import FILE`; if not, dock it (`kartka dock`) so it takes vehicle {fv}'s settings; release the confirmed trips with `kartka taps clear {id}`"
                        ),
                    )
                }
                _ => {
                    let also: Vec<i32> = if monthly {
                        taps()
                            .map(|f| f.vehicle)
                            .filter(|v| *v != vehicle)
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let (seen_uk, seen_en, rows_uk, rows_en) = if monthly {
                        let all = list(&[&[vehicle][..], &also[..]].concat());
                        (
                            format!("ТЗ {all} перевізника {carrier_text} на маршруті {route}"),
                            format!("vehicle(s) {all} of carrier {carrier_text} on route {route}"),
                            if also.is_empty() {
                                format!("ТЗ {vehicle}")
                            } else {
                                format!("ТЗ {all} (кожного)")
                            },
                            if also.is_empty() {
                                format!("vehicle {vehicle}'s routes")
                            } else {
                                format!("the routes of vehicles {all} (each row)")
                            },
                        )
                    } else {
                        (
                            format!(
                                "ТЗ {vehicle} перевізника {carrier_text} весь день на маршруті {route}"
                            ),
                            format!(
                                "vehicle {vehicle} of carrier {carrier_text} on route {route} all day"
                            ),
                            format!("ТЗ {vehicle}"),
                            format!("vehicle {vehicle}'s routes"),
                        )
                    };
                    (
                        Cause::RouteMissing {
                            vehicle,
                            carrier,
                            route,
                            also,
                        },
                        share(
                            &format!(
                                "{seen_uk}, а в таблиці парку в перевізника {carrier_text} немає ТЗ з цим маршрутом"
                            ),
                            &format!(
                                "{seen_en}, and no vehicle of carrier {carrier_text} has that route in the fleet sheet"
                            ),
                        ),
                        format!(
                            "додайте маршрут {route} до маршрутів {rows_uk} (перевізник {carrier_text}) у таблиці парку, виконайте `kartka fleet import ФАЙЛ`, {again_uk}"
                        ),
                        format!(
                            "add route {route} to {rows_en} (carrier {carrier_text}) in the fleet sheet, run `kartka fleet import FILE`, {again_en}"
                        ),
                    )
                }
            }
        }
        Rule::OutsideServiceHours => {
            let configured = settings.routes.iter().find(|r| r.route == route);
            let (start, end) = configured.map_or(
                (
                    settings.service_start.as_str(),
                    settings.service_end.as_str(),
                ),
                |r| (r.start.as_str(), r.end.as_str()),
            );
            let open = i64::from(super::settings::minutes(start).unwrap_or(0)) * 60_000;
            let tod = |f: &Flag| clock.local_ms(f.tapped_at_ms).rem_euclid(DAY_MS);
            // The route's taps outside its day on this validator all month:
            // a night route's evening and early morning fall on two days.
            let month: Vec<i64> = flags
                .iter()
                .filter(|f| f.validator == validator && f.route == route)
                .filter(|f| f.rules.iter().any(|h| h.rule == Rule::OutsideServiceHours))
                .map(tod)
                .collect();
            // Taps before the service day opens are the night's or the
            // early morning's; taps after it closes, the evening's.
            let early = month.iter().copied().filter(|&t| t < open);
            let late = month.iter().copied().filter(|&t| t >= open);
            let half_hour = 30 * 60_000;
            let floor = |t: i64| hhmm(t - t.rem_euclid(half_hour));
            let ceil = |t: i64| hhmm((t + half_hour - 1) / half_hour * half_hour);
            // Most of the day outside: the route runs only then.
            let only = n * 10 >= day_taps as usize * 9;
            let close = i64::from(super::settings::minutes(end).unwrap_or(0)) * 60_000;
            let (new_start, new_end) = if let Scope::Month {
                route_hours: Some(h),
                ..
            } = scope
            {
                observed_hours(h, open, close, start, end)
            } else {
                match (early.clone().max(), late.clone().min()) {
                    // Past midnight: from the evening's first tap to the
                    // night's last.
                    (Some(e), Some(l)) => (floor(l), ceil(e)),
                    (Some(e), None) => (
                        floor(early.min().unwrap_or(e)),
                        if only { ceil(e) } else { end.to_string() },
                    ),
                    (None, Some(l)) => (
                        if only { floor(l) } else { start.to_string() },
                        ceil(late.max().unwrap_or(l)),
                    ),
                    (None, None) => (start.to_string(), end.to_string()),
                }
            };
            let entry = format!(
                "[[flags.routes]] route = {route}, start = \"{new_start}\", end = \"{new_end}\""
            );
            (
                Cause::ServiceDay {
                    route,
                    start: new_start.clone(),
                    end: new_end.clone(),
                },
                share(
                    &format!(
                        "маршрут {route} працював {new_start}–{new_end}, а налаштовано {start}–{end}"
                    ),
                    &format!(
                        "route {route} ran {new_start}–{new_end}, its configured service day is {start}–{end}"
                    ),
                ),
                format!(
                    "якщо це розклад маршруту, додайте до kartka.toml запис {entry}, {again_uk}"
                ),
                format!("if that is the route's timetable, add {entry} to kartka.toml, {again_en}"),
            )
        }
        _ => {
            // Clock: n is the kind (1 ahead of the next tap, 2 behind the
            // previous one, 3 after it reached the store, 4 before the
            // previous docking), x the docking it contradicts.
            let hits: Vec<(i64, &Hit)> = taps()
                .filter_map(|f| {
                    let h = f.rules.iter().find(|h| h.rule == Rule::ClockAnomaly)?;
                    Some((f.tapped_at_ms, h))
                })
                .collect();
            let ahead = hits
                .iter()
                .filter(|(_, h)| matches!(h.n, Some(1) | Some(3)))
                .count()
                * 2
                >= hits.len();
            let offsets: Vec<i64> = hits
                .iter()
                .filter_map(|(t, h)| h.x.map(|x| (t - x).abs()))
                .collect();
            // The clock is off by at least the farthest tap's distance.
            let hours = offsets.iter().max().map_or(0, |o| o / 3_600_000);
            let (way_uk, way_en) = if ahead {
                ("пізніше за докування", "later than its docking")
            } else {
                ("раніше за попереднє докування", "before the docking before")
            };
            (
                Cause::Clock { ahead, hours },
                share(
                    &format!(
                        "годинник валідатора хибний щонайменше на {hours} год: валідації датовано {way_uk}"
                    ),
                    &format!("the validator's clock off by {hours} h or more: taps dated {way_en}"),
                ),
                format!(
                    "задокуйте валідатор {validator}, щоб виставити годинник, перевірте батарею годинника і часовий пояс; поїздки справжні, якщо рейс відбувся: підтверджені перевізником звільніть `kartka taps clear {id}`"
                ),
                format!(
                    "dock validator {validator} to set its clock, and check its clock battery and time zone; the trips are real if the run took place: once the carrier confirms them, release them with `kartka taps clear {id}`"
                ),
            )
        }
    };
    Finding {
        rule: rule.code(),
        taps: n,
        cause,
        evidence_uk,
        evidence_en,
        fix_uk,
        fix_en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspect_ids_round_trip_and_bad_ones_are_none() {
        let d = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
        assert_eq!(suspect_id(7, d), "S-7-2026-10-12");
        assert_eq!(parse_suspect_id("S-7-2026-10-12"), Some((7, d)));
        assert_eq!(parse_suspect_id(" s-7-2026-10-12 "), Some((7, d)));
        for bad in ["F-7-12", "S-7", "S-x-2026-10-12", "S-7-2026-13-01", ""] {
            assert_eq!(parse_suspect_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_months_suspect_id_names_its_month() {
        for (id, month) in [
            ("S-7-2026-10-12", Some("2026-10")),
            ("S-C1R77-2026-10", Some("2026-10")),
            (" s-r76-2026-11 ", Some("2026-11")),
            ("S-V902-2026-10", Some("2026-10")),
            ("S-T904-2026-10", Some("2026-10")),
            ("S-X1-2026-10", None),
            ("S-C1-2026-10", None),
            ("S-R76-2026-13", None),
            ("S-Rі76-2026-10", None),
            ("S-R76", None),
            ("F-7-12", None),
        ] {
            assert_eq!(suspect_month(id).as_deref(), month, "{id}");
        }
    }

    fn hours(taps: &[(usize, u64)], hits: &[(usize, u64, &str, &str)]) -> RouteHours {
        let ms = |t: &str| i64::from(crate::flags::settings::minutes(t).unwrap()) * 60_000;
        let mut h = RouteHours::default();
        for &(hour, n) in taps {
            h.taps[hour] = n;
            h.active[hour] = true;
        }
        for &(hour, n, lo, hi) in hits {
            h.hits[hour] = n;
            h.span[hour] = Some((ms(lo), ms(hi)));
        }
        h
    }

    #[test]
    fn a_routes_observed_hours_are_its_run_or_its_longer_day() {
        let (open, close) = (330 * 60_000, 1410 * 60_000); // 05:30–23:30
        let obs = |h: &RouteHours| observed_hours(h, open, close, "05:30", "23:30");
        // A night route: 23:00 on (23:00–23:45 within the tolerance), its
        // last tap at 01:25.
        let night = hours(
            &[(23, 75), (0, 50), (1, 50)],
            &[
                (23, 25, "23:50", "23:58"),
                (0, 50, "00:05", "00:55"),
                (1, 50, "01:00", "01:25"),
            ],
        );
        assert_eq!(obs(&night), ("23:00".into(), "01:30".into()));
        // A route running only 00:30–04:30, all of it outside.
        let small = hours(
            &[(0, 10), (1, 10), (2, 10), (3, 10), (4, 10)],
            &[
                (0, 10, "00:30", "00:50"),
                (1, 10, "01:00", "01:50"),
                (2, 10, "02:00", "02:50"),
                (3, 10, "03:00", "03:50"),
                (4, 10, "04:00", "04:25"),
            ],
        );
        assert_eq!(obs(&small), ("00:30".into(), "04:30".into()));
        // A day route running past midnight to 00:40 and from 04:50.
        let mut long: Vec<(usize, u64)> = (5..24).map(|h| (h, 40)).collect();
        long.extend([(0, 10), (4, 5)]);
        let longer = hours(
            &long,
            &[(0, 10, "00:00", "00:40"), (4, 5, "04:50", "04:58")],
        );
        assert_eq!(obs(&longer), ("04:30".into(), "01:00".into()));
        let later = hours(&long[..19], &[(23, 10, "23:46", "23:59")]);
        assert_eq!(obs(&later), ("05:30".into(), "24:00".into()));
    }

    #[test]
    fn the_mode_breaks_ties_to_the_smaller() {
        assert_eq!(mode([3, 1, 3, 1, 2].into_iter()), Some(1));
        assert_eq!(mode([5, 5, 2].into_iter()), Some(5));
        assert_eq!(mode(std::iter::empty::<i32>()), None);
    }
}
