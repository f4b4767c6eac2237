//! The thresholds of the suspicious-tap rules (`[flags]` in kartka.toml).
//! Every threshold is a setting (reference/suspicious-taps.md); the defaults
//! are the ones the reference gives.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FlagSettings {
    /// Rule 1 (P13): a second tap of a card in the same vehicle sooner than
    /// this is a repeat. Defaults to `[dock] repeat_timeout_s`.
    #[serde(default)]
    pub repeat_timeout_s: Option<u32>,
    /// Rule 2: the same card on another vehicle sooner than this.
    #[serde(default = "d_transfer")]
    pub transfer_min_s: u32,
    /// Rule 2: the network explains a quick change between two routes (a
    /// hub) when at least `hub_cards` different cards make it, on at least
    /// `hub_days` Kyiv days of the month, and at least `hub_regulars` of
    /// them make it on two days or more; a change on such a pair faster
    /// than its `hub_floor_pct` percentile is still impossible travel.
    #[serde(default = "d_hub_cards")]
    pub hub_cards: u32,
    #[serde(default = "d_hub_days")]
    pub hub_days: u32,
    #[serde(default = "d_hub_regulars")]
    pub hub_regulars: u32,
    #[serde(default = "d_hub_floor_pct")]
    pub hub_floor_pct: u32,
    /// Rule 2: at least this many different cards changing from one
    /// vehicle to one other on the same Kyiv day is a breakdown transfer.
    #[serde(default = "d_breakdown_cards")]
    pub breakdown_cards: u32,
    /// Rule 3: this many taps on one validator within `burst_window_s`.
    #[serde(default = "d_burst_cards")]
    pub burst_cards: u32,
    #[serde(default = "d_burst_window")]
    pub burst_window_s: u32,
    /// Rule 3: a burst is a driver's stack, not a queue boarding, when at
    /// least `burst_stack_share_pct` of its taps are on stack cards: cards
    /// with at least `burst_card_min_taps` taps in the month of which at
    /// least `burst_card_share_pct` are in bursts on this validator (a
    /// queue's passengers ride elsewhere too).
    #[serde(default = "d_burst_card_min_taps")]
    pub burst_card_min_taps: u32,
    #[serde(default = "d_burst_card_share")]
    pub burst_card_share_pct: u32,
    #[serde(default = "d_burst_stack_share")]
    pub burst_stack_share_pct: u32,
    /// Rule 3: a stack is one hand tapping: a gap longer than this ends it
    /// (a passenger boarding beside it is judged apart) ...
    #[serde(default = "d_burst_gap")]
    pub burst_gap_s: u32,
    /// ... and its gaps are as even as a hand's: their standard deviation
    /// at most this share of their mean. A group boarding, children at a
    /// school door, taps at uneven gaps.
    #[serde(default = "d_burst_even")]
    pub burst_even_pct: u32,
    /// Rule 3: a card with at least this many taps in the month, all on one
    /// vehicle.
    #[serde(default = "d_single_vehicle")]
    pub single_vehicle_min_taps: u32,
    /// Rule 4: more taps than this by one card in one Kyiv day
    /// (`companion_daily_extra` more for a category whose holder's
    /// companion rides on the card), and more than `daily_habit_pct`
    /// percent of the card's own habit: the most it rides on at least half
    /// the month's days.
    #[serde(default = "d_daily_max")]
    pub daily_max: u32,
    #[serde(default = "d_companion_daily_extra")]
    pub companion_daily_extra: u32,
    #[serde(default = "d_daily_habit_pct")]
    pub daily_habit_pct: u32,
    /// Rule 6: the service day, Kyiv time, "HH:MM"; a route may have its own.
    #[serde(default = "d_service_start")]
    pub service_start: String,
    #[serde(default = "d_service_end")]
    pub service_end: String,
    #[serde(default = "d_service_tolerance")]
    pub service_tolerance_min: u32,
    /// Rule 9: how far a tap's time may run ahead of the next tap's, behind
    /// the previous tap's, or past its docking, in seconds.
    #[serde(default = "d_clock_tolerance")]
    pub clock_tolerance_s: u32,
    /// Configuration suspects: when route_not_served, outside_service_hours
    /// or clock_anomaly fires on at least `suspect_share_pct` of a unit's
    /// taps (a validator's Kyiv day, a route's hour band) on several days of
    /// the month (`flags::suspects::MONTH_MIN_DAYS`), or on that share of a
    /// validator's day and on at least `suspect_min_taps` of its taps, the
    /// fleet sheet or a setting is the likelier cause: the taps are held as
    /// one configuration suspect, not under the rule.
    #[serde(default = "d_suspect_share")]
    pub suspect_share_pct: u32,
    #[serde(default = "d_suspect_min_taps")]
    pub suspect_min_taps: u32,
    /// `kartka taps quality`: a rule whose flags analysts kept (did not
    /// clear) less often than this, in percent, over at least
    /// `quality_min_flags` flags, is reported as one to look at.
    #[serde(default = "d_quality_min_precision")]
    pub quality_min_precision_pct: u32,
    #[serde(default = "d_quality_min_flags")]
    pub quality_min_flags: u32,
    /// Memory: a month of more taps than this is judged in slices of at
    /// most about this many (by validator, then by card), each read from the
    /// store on its own, so memory follows the slice, not the month.
    #[serde(default = "d_taps_per_slice")]
    pub taps_per_slice: u32,
    /// Rule 6: routes with their own service day (an end before the start
    /// runs past midnight: a night route).
    #[serde(default)]
    pub routes: Vec<RouteHours>,
    /// Rule 2: known hubs, where a change between any two of the routes
    /// named within `max_change_s` is a transfer.
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    /// Rule 10 (P9): trips a card may make in a month, per category
    /// (`category = "*"` for every category without its own entry).
    #[serde(default)]
    pub trip_limits: Vec<TripLimit>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteHours {
    pub route: i32,
    pub start: String,
    pub end: String,
}

/// A known hub (`[[flags.transfers]]`): the routes that meet there.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub routes: Vec<i32>,
    pub max_change_s: u32,
}

/// The most trips a `[[flags.trip_limits]]` entry may allow a month.
const MAX_PER_MONTH: u32 = 100_000;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TripLimit {
    pub category: String,
    pub per_month: u32,
}

fn d_transfer() -> u32 {
    300
}
fn d_hub_cards() -> u32 {
    10
}
fn d_hub_days() -> u32 {
    5
}
fn d_hub_regulars() -> u32 {
    3
}
fn d_hub_floor_pct() -> u32 {
    5
}
fn d_breakdown_cards() -> u32 {
    5
}
fn d_companion_daily_extra() -> u32 {
    3
}
fn d_daily_habit_pct() -> u32 {
    150
}
fn d_burst_cards() -> u32 {
    8
}
fn d_burst_window() -> u32 {
    30
}
fn d_burst_card_min_taps() -> u32 {
    3
}
fn d_burst_card_share() -> u32 {
    90
}
fn d_burst_stack_share() -> u32 {
    50
}
fn d_burst_gap() -> u32 {
    5
}
fn d_burst_even() -> u32 {
    50
}
fn d_suspect_share() -> u32 {
    50
}
fn d_suspect_min_taps() -> u32 {
    20
}
fn d_quality_min_precision() -> u32 {
    80
}
fn d_quality_min_flags() -> u32 {
    30
}
fn d_single_vehicle() -> u32 {
    10
}
fn d_daily_max() -> u32 {
    6
}
fn d_service_start() -> String {
    "05:30".into()
}
fn d_service_end() -> String {
    "23:30".into()
}
fn d_service_tolerance() -> u32 {
    15
}
fn d_clock_tolerance() -> u32 {
    600
}
fn d_taps_per_slice() -> u32 {
    12_000_000
}

impl Default for FlagSettings {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

/// Minutes after midnight of "HH:MM"; "24:00" is the end of the day.
pub fn minutes(text: &str) -> Option<i32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440).then_some(h * 60 + m)
}

impl FlagSettings {
    pub fn check(&self) -> Result<(), String> {
        let time = |what: &str, t: &str| {
            minutes(t).ok_or_else(|| format!("[flags] {what} = {t:?} is not a time of day HH:MM"))
        };
        let (a, b) = (
            time("service_start", &self.service_start)?,
            time("service_end", &self.service_end)?,
        );
        if a >= b {
            return Err(format!(
                "[flags] service_start {} must come before service_end {}",
                self.service_start, self.service_end
            ));
        }
        for r in &self.routes {
            let (a, b) = (time("routes.start", &r.start)?, time("routes.end", &r.end)?);
            // A start after the end is a service day past midnight (a
            // night route).
            if a == b {
                return Err(format!(
                    "[[flags.routes]] route {}: start and end are both {}; give the hours it runs (an end before the start runs past midnight)",
                    r.route, r.start
                ));
            }
        }
        if self.burst_cards < 2 {
            return Err("[flags] burst_cards must be at least 2".into());
        }
        if self.burst_gap_s == 0 {
            return Err("[flags] burst_gap_s must be at least 1".into());
        }
        for (name, pct) in [
            ("burst_card_share_pct", self.burst_card_share_pct),
            ("burst_stack_share_pct", self.burst_stack_share_pct),
            ("quality_min_precision_pct", self.quality_min_precision_pct),
            ("suspect_share_pct", self.suspect_share_pct),
            ("hub_floor_pct", self.hub_floor_pct),
        ] {
            if pct == 0 || pct > 100 {
                return Err(format!(
                    "[flags] {name} must be a percentage, 1 to 100 (got {pct})"
                ));
            }
        }
        if self.daily_habit_pct < 100 {
            return Err(format!(
                "[flags] daily_habit_pct = {} must be at least 100 (a day above the card's own habit)",
                self.daily_habit_pct
            ));
        }
        for t in &self.transfers {
            if t.routes.len() < 2 {
                return Err(format!(
                    "[[flags.transfers]] routes = {:?}: name at least two routes that meet at the hub",
                    t.routes
                ));
            }
            if t.max_change_s == 0 || t.max_change_s > 86_400 {
                return Err(format!(
                    "[[flags.transfers]] routes = {:?}: max_change_s = {} must be 1 to 86400 seconds",
                    t.routes, t.max_change_s
                ));
            }
        }
        if self.single_vehicle_min_taps < 2 {
            return Err("[flags] single_vehicle_min_taps must be at least 2".into());
        }
        if self.taps_per_slice < 1000 {
            return Err("[flags] taps_per_slice must be at least 1000".into());
        }
        self.check_bounds()?;
        for l in &self.trip_limits {
            if l.per_month == 0 {
                return Err(format!(
                    "[[flags.trip_limits]] {}: per_month must be above 0 (leave the entry out for no limit)",
                    l.category
                ));
            }
            if l.per_month > MAX_PER_MONTH {
                return Err(format!(
                    "[[flags.trip_limits]] {}: per_month = {} is more than kartka accepts, {MAX_PER_MONTH}",
                    l.category, l.per_month
                ));
            }
        }
        Ok(())
    }

    /// Every window and count within sane bounds: a day for a time window,
    /// what a card or a validator can do in a day or a month for a count.
    fn check_bounds(&self) -> Result<(), String> {
        const DAY_S: u32 = 86_400;
        let bounds = [
            (
                "repeat_timeout_s",
                self.repeat_timeout_s.unwrap_or(0),
                DAY_S,
            ),
            ("transfer_min_s", self.transfer_min_s, DAY_S),
            ("burst_window_s", self.burst_window_s, DAY_S),
            ("burst_gap_s", self.burst_gap_s, DAY_S),
            ("burst_even_pct", self.burst_even_pct, 1000),
            ("clock_tolerance_s", self.clock_tolerance_s, DAY_S),
            ("service_tolerance_min", self.service_tolerance_min, 1440),
            ("burst_cards", self.burst_cards, 100_000),
            (
                "burst_card_min_taps",
                self.burst_card_min_taps,
                MAX_PER_MONTH,
            ),
            (
                "single_vehicle_min_taps",
                self.single_vehicle_min_taps,
                MAX_PER_MONTH,
            ),
            ("daily_max", self.daily_max, 10_000),
            ("daily_habit_pct", self.daily_habit_pct, 10_000),
            ("companion_daily_extra", self.companion_daily_extra, 10_000),
            ("hub_cards", self.hub_cards, 10_000_000),
            ("hub_days", self.hub_days, 31),
            ("hub_regulars", self.hub_regulars, 10_000_000),
            ("breakdown_cards", self.breakdown_cards, 10_000_000),
            ("suspect_min_taps", self.suspect_min_taps, 10_000_000),
            ("quality_min_flags", self.quality_min_flags, 100_000_000),
            ("taps_per_slice", self.taps_per_slice, 1_000_000_000),
        ];
        for (name, value, max) in bounds {
            if value > max {
                return Err(format!(
                    "[flags] {name} = {value} is more than kartka accepts, {max}"
                ));
            }
        }
        Ok(())
    }

    /// How many slices a month of `taps` taps is judged in.
    pub fn slices(&self, taps: u64) -> u32 {
        u32::try_from(taps.div_ceil(u64::from(self.taps_per_slice.max(1))))
            .unwrap_or(u32::MAX)
            .max(1)
    }

    /// The known hub's longest change from route `from` to route `to`, if
    /// a `[[flags.transfers]]` entry names both.
    pub fn known_transfer_ms(&self, from: i32, to: i32) -> Option<i64> {
        self.transfers
            .iter()
            .filter(|t| from != to && t.routes.contains(&from) && t.routes.contains(&to))
            .map(|t| i64::from(t.max_change_s) * 1000)
            .max()
    }

    /// The trip limit for a category, if any.
    pub fn trip_limit(&self, category: &str) -> Option<u32> {
        self.trip_limits
            .iter()
            .find(|l| l.category == category)
            .or_else(|| self.trip_limits.iter().find(|l| l.category == "*"))
            .map(|l| l.per_month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_of_day_parse_and_bad_ones_are_named() {
        assert_eq!(minutes("05:30"), Some(330));
        assert_eq!(minutes("24:00"), Some(1440));
        assert_eq!(minutes("24:01"), None);
        assert_eq!(minutes("7"), None);
        let s = FlagSettings {
            service_start: "25:00".into(),
            ..FlagSettings::default()
        };
        assert!(s.check().unwrap_err().contains("service_start"));
        let s = FlagSettings {
            service_start: "23:00".into(),
            service_end: "06:00".into(),
            ..FlagSettings::default()
        };
        assert!(s.check().unwrap_err().contains("must come before"));
    }

    #[test]
    fn a_known_hub_needs_two_routes_and_a_change_time() {
        let hub = |routes: Vec<i32>, max_change_s: u32| FlagSettings {
            transfers: vec![Transfer {
                routes,
                max_change_s,
            }],
            ..FlagSettings::default()
        };
        assert_eq!(hub(vec![3, 7, 12], 300).check(), Ok(()));
        let e = hub(vec![3], 300).check().unwrap_err();
        assert!(e.contains("routes = [3]: name at least two routes"), "{e}");
        let e = hub(vec![3, 7], 0).check().unwrap_err();
        assert!(e.contains("max_change_s = 0 must be 1 to 86400"), "{e}");
        let s = hub(vec![3, 7, 12], 300);
        assert_eq!(s.known_transfer_ms(12, 3), Some(300_000));
        assert_eq!(s.known_transfer_ms(3, 3), None);
        assert_eq!(s.known_transfer_ms(3, 5), None);
        let habit = FlagSettings {
            daily_habit_pct: 90,
            ..FlagSettings::default()
        };
        assert!(habit.check().unwrap_err().contains("daily_habit_pct = 90"));
    }

    #[test]
    fn a_category_limit_beats_the_star() {
        let s = FlagSettings {
            trip_limits: vec![
                TripLimit {
                    category: "*".into(),
                    per_month: 100,
                },
                TripLimit {
                    category: "combatant".into(),
                    per_month: 60,
                },
            ],
            ..FlagSettings::default()
        };
        assert_eq!(s.trip_limit("combatant"), Some(60));
        assert_eq!(s.trip_limit("pensioner-age"), Some(100));
        assert_eq!(FlagSettings::default().trip_limit("x"), None);
    }

    #[test]
    fn a_night_route_runs_past_midnight_but_an_empty_day_is_refused() {
        let route = |start: &str, end: &str| FlagSettings {
            routes: vec![RouteHours {
                route: 76,
                start: start.into(),
                end: end.into(),
            }],
            ..FlagSettings::default()
        };
        assert_eq!(route("23:00", "05:00").check(), Ok(()));
        assert_eq!(route("06:00", "21:00").check(), Ok(()));
        let e = route("05:00", "05:00").check().unwrap_err();
        assert!(e.contains("route 76: start and end are both 05:00"), "{e}");
        let share = FlagSettings {
            suspect_share_pct: 0,
            ..FlagSettings::default()
        };
        assert!(share.check().unwrap_err().contains("suspect_share_pct"));
    }
}
