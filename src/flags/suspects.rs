//! Configuration suspects (issue 20): faults of the system told apart from
//! fraud before a carrier is accused.
//!
//! Three rules speak of the system as much as of a passenger: a route the
//! carrier does not serve (rule 7), a tap outside the route's service day
//! (rule 6) and a validator's clock (rule 9). When one of them fires on most
//! of a validator's taps in a Kyiv day (`suspect_share_pct`, and at least
//! `suspect_min_taps` taps), the fleet sheet or a setting is the likelier
//! cause: a fleet row without the route, a validator docked as another
//! vehicle, a route whose service day is not configured, a clock off by
//! hours. Those taps are held as one suspect (`S-<validator>-<YYYY-MM-DD>`,
//! rule `config_suspect`) with the evidence and the likely fix, instead of
//! under the rule; clearing the suspect clears them together, and a fixed
//! fleet sheet or kartka.toml followed by a re-run releases them (the rule
//! no longer fires).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::FxHashMap;

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
    pub validator: i32,
    /// The Kyiv day, YYYY-MM-DD.
    pub day: String,
    /// The validator's accepted taps that day.
    pub day_taps: u32,
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

/// Finds the suspects of a month's `flags` against `days` (the engine's
/// taps per validator and Kyiv day) and holds their taps as
/// `config_suspect` instead of under the rule that fired.
pub fn hold(
    flags: &mut [Flag],
    days: &DataFrame,
    settings: &FlagSettings,
    fleet: &Fleet,
    clock: &MonthClock,
) -> PolarsResult<Vec<Suspect>> {
    let day_taps: FxHashMap<(i32, i64), u32> = {
        let v = days.column("validator_id")?.i32()?;
        let d = days.column("day")?.i64()?;
        let n = days.column("taps")?.u32()?;
        (0..days.height())
            .filter_map(|i| Some(((v.get(i)?, d.get(i)?), n.get(i)?)))
            .collect()
    };
    let day_of = |t: i64| {
        let local = clock.local_ms(t);
        local - local.rem_euclid(DAY_MS)
    };
    // The flags each configuration rule fired on, per validator and day.
    let mut groups: BTreeMap<(i32, i64, Rule), Vec<usize>> = BTreeMap::new();
    for (i, f) in flags.iter().enumerate() {
        for h in f.rules.iter().filter(|h| CONFIG_RULES.contains(&h.rule)) {
            groups
                .entry((f.validator, day_of(f.tapped_at_ms), h.rule))
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
        let finding = diagnose(rule, v, date, of_day, &rows, flags, settings, fleet, clock);
        let entry = found.entry((v, day)).or_insert_with(|| {
            (
                Suspect {
                    id: suspect_id(v, date),
                    validator: v,
                    day: date.format("%Y-%m-%d").to_string(),
                    day_taps: of_day,
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
    Ok(out)
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
    f.rules.push(Hit {
        rule: Rule::ConfigSuspect,
        other: None,
        n: None,
        x: None,
        evidence_uk: format!("підозра на налаштування {}: {}", s.id, of(false)),
        evidence_en: format!("configuration suspect {}: {}", s.id, of(true)),
        cleared: false,
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

#[allow(clippy::too_many_arguments)]
fn diagnose(
    rule: Rule,
    validator: i32,
    date: NaiveDate,
    day_taps: u32,
    rows: &[usize],
    flags: &[Flag],
    settings: &FlagSettings,
    fleet: &Fleet,
    clock: &MonthClock,
) -> Finding {
    let month = date.format("%Y-%m");
    let day = date.format("%d.%m.%Y");
    let n = rows.len();
    let taps = || rows.iter().map(|&r| &flags[r]);
    let route = mode(taps().map(|f| f.route)).unwrap_or(0);
    let again_uk = format!("потім знову `kartka taps flag --month {month}`");
    let again_en = format!("then `kartka taps flag --month {month}` again");
    let share = |uk: &str, en: &str| {
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
                            "якщо валідатор перенесли в ТЗ {vehicle}, виправте його рядок у таблиці парку і виконайте `kartka fleet import ФАЙЛ`; якщо ні, задокуйте його (`kartka dock`), щоб він отримав налаштування ТЗ {fv}; підтверджені поїздки звільніть `kartka taps clear S-{validator}-{}`",
                            date.format("%Y-%m-%d")
                        ),
                        format!(
                            "if the validator was moved to vehicle {vehicle}, correct its row in the fleet sheet and run `kartka fleet import FILE`; if not, dock it (`kartka dock`) so it takes vehicle {fv}'s settings; release the confirmed trips with `kartka taps clear S-{validator}-{}`",
                            date.format("%Y-%m-%d")
                        ),
                    )
                }
                _ => (
                    Cause::RouteMissing {
                        vehicle,
                        carrier,
                        route,
                    },
                    share(
                        &format!(
                            "ТЗ {vehicle} перевізника {carrier_text} весь день на маршруті {route}, а в таблиці парку в перевізника {carrier_text} немає ТЗ з цим маршрутом"
                        ),
                        &format!(
                            "vehicle {vehicle} of carrier {carrier_text} on route {route} all day, and no vehicle of carrier {carrier_text} has that route in the fleet sheet"
                        ),
                    ),
                    format!(
                        "додайте маршрут {route} до маршрутів ТЗ {vehicle} (перевізник {carrier_text}) у таблиці парку, виконайте `kartka fleet import ФАЙЛ`, {again_uk}"
                    ),
                    format!(
                        "add route {route} to vehicle {vehicle}'s routes (carrier {carrier_text}) in the fleet sheet, run `kartka fleet import FILE`, {again_en}"
                    ),
                ),
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
            let (new_start, new_end) = match (early.clone().max(), late.clone().min()) {
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
            let id = suspect_id(validator, date);
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
    fn the_mode_breaks_ties_to_the_smaller() {
        assert_eq!(mode([3, 1, 3, 1, 2].into_iter()), Some(1));
        assert_eq!(mode([5, 5, 2].into_iter()), Some(5));
        assert_eq!(mode(std::iter::empty::<i32>()), None);
    }
}
