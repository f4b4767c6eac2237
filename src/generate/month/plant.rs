//! The planted anomalies, one method per suspicious-tap rule. Each plant
//! breaks its own rule and no other: it keeps clear of the card's other
//! taps, stays in the month and in service hours (but for the pattern that
//! is about them), and a card anchors one plant at most.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rustc_hash::{FxHashMap, FxHashSet};

use super::calendar::Calendar;
use super::fleet::Fleet;
use super::riders::Riders;
use super::{Draft, GenCard, MonthOptions, PATTERNS, uid_of};
use crate::cards::number::CardNumber;
use crate::flags::rule::Rule;

/// What the plants are laid on: the month, the fleet, the holders and
/// their honest taps (sorted by card and time), and the registry's cards,
/// which plants add to.
pub(super) struct Planter<'a> {
    opts: &'a MonthOptions,
    cal: &'a Calendar,
    fleet: &'a Fleet,
    riders: &'a Riders<'a>,
    honest: &'a [Draft],
    /// Where each card's honest taps are in `honest`.
    card_range: FxHashMap<u32, (usize, usize)>,
    /// Each validator's honest tap times, sorted.
    by_validator: Vec<Vec<u32>>,
    /// Cards that anchor a plant already.
    used: FxHashSet<u32>,
    pub cards: Vec<GenCard>,
    rng: &'a mut ChaCha8Rng,
}

/// An honest tap a plant is laid next to, and the pattern it plants.
struct Anchor {
    tap: Draft,
    day: usize,
    /// The card may ride once more within its trip limit.
    room: bool,
    /// Index of the pattern in `PATTERNS`.
    pattern: u8,
    /// Plants of this pattern so far.
    n: usize,
}

impl Anchor {
    fn mark(&self, d: Draft) -> Draft {
        Draft {
            pattern: Some(self.pattern),
            ..d
        }
    }
}

/// The plants, and how many taps each pattern planted (by rule code).
pub(super) struct Plants {
    pub taps: Vec<Draft>,
    pub by_pattern: BTreeMap<&'static str, usize>,
}

impl<'a> Planter<'a> {
    pub fn new(
        opts: &'a MonthOptions,
        cal: &'a Calendar,
        fleet: &'a Fleet,
        riders: &'a Riders<'a>,
        honest: &'a [Draft],
        rng: &'a mut ChaCha8Rng,
    ) -> Self {
        let mut card_range: FxHashMap<u32, (usize, usize)> = FxHashMap::default();
        for (i, d) in honest.iter().enumerate() {
            card_range
                .entry(d.card)
                .and_modify(|r| r.1 = i + 1)
                .or_insert((i, i + 1));
        }
        let mut by_validator: Vec<Vec<u32>> = vec![Vec::new(); fleet.max_validator() as usize + 1];
        for d in honest {
            by_validator[fleet.validator_of(d) as usize].push(d.time);
        }
        for v in &mut by_validator {
            v.sort_unstable();
        }
        Planter {
            opts,
            cal,
            fleet,
            riders,
            honest,
            card_range,
            by_validator,
            used: FxHashSet::default(),
            cards: riders.registry(),
            rng,
        }
    }

    /// `target` planted taps, each pattern an equal share (`trip_limit`
    /// only when a limit is configured).
    pub fn plant_all(&mut self, target: usize) -> Plants {
        let patterns: Vec<Rule> = PATTERNS
            .iter()
            .copied()
            .filter(|p| *p != Rule::TripLimit || self.opts.city.trip_limit.is_some())
            .collect();
        let per_pattern = target / patterns.len().max(1);
        let mut plants = Plants {
            taps: Vec::new(),
            by_pattern: BTreeMap::new(),
        };
        for (p, rule) in PATTERNS.iter().enumerate() {
            if !patterns.contains(rule) {
                continue;
            }
            let mut n = 0;
            let mut attempts = 0;
            while n < per_pattern && !self.honest.is_empty() && attempts < per_pattern * 50 + 100 {
                attempts += 1;
                let tap = self.honest[self.rng.random_range(0..self.honest.len())];
                let anchor = Anchor {
                    tap,
                    day: self.cal.day_of(tap.time),
                    room: self
                        .card_range
                        .get(&tap.card)
                        .is_some_and(|r| ((r.1 - r.0) as u32) < self.riders.limit_of(tap.holder)),
                    pattern: p as u8,
                    n,
                };
                let add = self.plant(*rule, &anchor);
                // Two plants on one card could add up to another rule (a
                // day's count, the trip limit).
                if add.iter().any(|d| d.card == tap.card) {
                    self.used.insert(tap.card);
                }
                let planted_now = add.iter().filter(|d| d.pattern.is_some()).count();
                n += planted_now;
                *plants.by_pattern.entry(rule.code()).or_insert(0) += planted_now;
                plants.taps.extend(add);
            }
        }
        plants
    }

    /// One attempt at planting `rule` by `anchor`: the taps it adds (none
    /// when the place does not suit), marked where they break the rule.
    fn plant(&mut self, rule: Rule, a: &Anchor) -> Vec<Draft> {
        match rule {
            Rule::RepeatSameVehicle => self.repeat_same_vehicle(a),
            Rule::ImpossibleTravel => self.impossible_travel(a),
            Rule::DriverBurst => self.driver_burst(a),
            Rule::SingleVehicleCard => self.single_vehicle_card(a),
            Rule::ExcessiveDailyUse => self.excessive_daily_use(a),
            Rule::CardUnknown => self.card_unknown(a),
            Rule::CardBlocked | Rule::CardExpired | Rule::HolderDeceased => {
                self.card_state_change(rule, a)
            }
            Rule::OutsideServiceHours => self.outside_service_hours(a),
            Rule::RouteNotServed => self.route_not_served(a),
            Rule::ClonedUid => self.cloned_uid(a),
            Rule::CounterBackwards => self.counter_backwards(a),
            Rule::ClockAnomaly => self.clock_anomaly(a),
            Rule::TripLimit => self.trip_limit(a),
            // Not a pattern of riding: what a misconfiguration looks like.
            Rule::ConfigSuspect => Vec::new(),
        }
    }

    /// A tap of the anchor's card at `t` may go in: in service, within its
    /// limit, the card not used by another plant, clear of its other taps.
    fn card_ok(&self, a: &Anchor, t: u32) -> bool {
        self.cal.in_service(t) && a.room && self.card_free(a, t, Some(a.tap.time))
    }

    fn card_free(&self, a: &Anchor, t: u32, except: Option<u32>) -> bool {
        !self.used.contains(&a.tap.card) && self.free(a.tap.card, t, except)
    }

    /// No honest tap of `card` within 20 minutes of `t` (but `except`).
    fn free(&self, card: u32, t: u32, except: Option<u32>) -> bool {
        let Some(&(a, b)) = self.card_range.get(&card) else {
            return true;
        };
        let times: Vec<u32> = self.honest[a..b].iter().map(|d| d.time).collect();
        !near(&times, t, 20 * 60, except)
    }

    /// A card only planted anomalies use, never seen in honest riding
    /// (one with a trip limit when `limited`): its number and index.
    fn fresh(&mut self, limited: bool) -> (u32, u32) {
        loop {
            let i = self.cards.len() as u32;
            let card = self.riders.card(i);
            let number = card.number;
            self.cards.push(card);
            if !limited || self.riders.limit_of(i) != u32::MAX {
                return (number, i);
            }
        }
    }

    /// A card's everyday riding, for the cards whose state changes in the
    /// month: `per_day` taps most days on its home routes.
    fn everyday(&mut self, card: u32, holder: u32, per_day: u32) -> Vec<Draft> {
        let mut out = Vec::new();
        for day in 0..self.cal.len() {
            if per_day < 3 && !self.rng.random_bool(0.8) {
                continue;
            }
            for j in 0..per_day {
                let time = self
                    .cal
                    .at(day, (380 + j * 150) * 60 + self.rng.random_range(0..3000));
                let route = self.riders.home_route(holder as usize, j % 2 == 1);
                let vehicle = self.fleet.vehicle_on(self.rng, route);
                out.push(Draft::honest(time, card, holder, vehicle, 0, route));
            }
        }
        out
    }

    /// The same card again on the same vehicle within minutes, at the
    /// other door where there is one.
    fn repeat_same_vehicle(&mut self, a: &Anchor) -> Vec<Draft> {
        let t = a.tap.time + self.rng.random_range(60..840);
        if !self.card_ok(a, t) {
            return Vec::new();
        }
        let doors = self.fleet.vehicles[a.tap.vehicle].doors;
        let door = if doors == 2 {
            1 - a.tap.door
        } else {
            a.tap.door
        };
        vec![a.mark(Draft {
            time: t,
            door,
            ..a.tap
        })]
    }

    /// The same card on another route's vehicle minutes later.
    fn impossible_travel(&mut self, a: &Anchor) -> Vec<Draft> {
        let route = 1 + (a.tap.route % self.opts.routes);
        let other = self.fleet.vehicle_on(self.rng, route);
        let t = a.tap.time + self.rng.random_range(30..240);
        if other == a.tap.vehicle || !self.card_ok(a, t) {
            return Vec::new();
        }
        vec![a.mark(Draft {
            time: t,
            vehicle: other,
            door: 0,
            route,
            ..a.tap
        })]
    }

    /// A driver's stack: twelve fresh cards (lost, stolen, a dead
    /// holder's) tapped one after another, a second or two apart, on the
    /// anchor's validator, on four to eight days where the validator is
    /// otherwise quiet; the cards ride nowhere else. Fewer than three quiet
    /// days: no plant (a stack seen once looks like a queue).
    fn driver_burst(&mut self, a: &Anchor) -> Vec<Draft> {
        let list = &self.by_validator[self.fleet.validator_of(&a.tap) as usize];
        let days = self.rng.random_range(4..=8);
        let mut starts: Vec<u32> = Vec::with_capacity(days);
        for _ in 0..days {
            let day = self.rng.random_range(0..self.cal.len());
            let t0 = self.cal.service_time(self.rng, day);
            let quiet = self.cal.in_service(t0)
                && self.cal.in_service(t0 + 40)
                && !near(list, t0 + 15, 75, None)
                && starts.iter().all(|s| self.cal.day_of(*s) != day);
            if quiet {
                starts.push(t0);
            }
        }
        if starts.len() < 3 {
            return Vec::new();
        }
        let stack: Vec<(u32, u32)> = (0..12).map(|_| self.fresh(false)).collect();
        let mut add = Vec::with_capacity(starts.len() * stack.len());
        for t0 in starts {
            let mut t = t0;
            for &(card, holder) in &stack {
                add.push(a.mark(Draft {
                    time: t,
                    card,
                    holder,
                    uid: uid_of(card, 0),
                    ..a.tap
                }));
                t += self.rng.random_range(1..=2);
            }
        }
        add
    }

    /// A fresh card that rides only the anchor's vehicle, once a day for
    /// twenty days.
    fn single_vehicle_card(&mut self, a: &Anchor) -> Vec<Draft> {
        let (card, holder) = self.fresh(false);
        (0..self.cal.len().min(20))
            .map(|day| {
                let t = self.cal.service_time(self.rng, day);
                a.mark(Draft {
                    time: t,
                    card,
                    holder,
                    uid: uid_of(card, 0),
                    ..a.tap
                })
            })
            .collect()
    }

    /// A fresh card riding eighteen times in one day, every 50 minutes.
    fn excessive_daily_use(&mut self, a: &Anchor) -> Vec<Draft> {
        let (card, holder) = self.fresh(false);
        (0..18u32)
            .map(|k| {
                let route = 1 + ((a.tap.route + k as u16) % self.opts.routes);
                a.mark(Draft {
                    time: self.cal.at(a.day, 6 * 3600 + k * 50 * 60),
                    card,
                    holder,
                    uid: uid_of(card, 0),
                    vehicle: self.fleet.vehicle_on(self.rng, route),
                    door: 0,
                    route,
                    ..a.tap
                })
            })
            .collect()
    }

    /// A card number the registry never issued.
    fn card_unknown(&mut self, a: &Anchor) -> Vec<Draft> {
        let card = CardNumber::from_serial(400_000_000 + self.rng.random_range(0..1_000_000))
            .expect("in range")
            .value();
        vec![a.mark(Draft {
            time: a.tap.time + self.rng.random_range(2..30),
            card,
            holder: u32::MAX,
            uid: uid_of(card, 0),
            ..a.tap
        })]
    }

    /// A fresh card riding every day while, mid-month, it is blocked, it
    /// expires or its holder dies: the taps after are marked.
    fn card_state_change(&mut self, rule: Rule, a: &Anchor) -> Vec<Draft> {
        let (card, holder) = self.fresh(false);
        let days = self.cal.len();
        let day = self.rng.random_range(days / 5..days * 4 / 5);
        let taps = self.everyday(card, holder, 2);
        let from = match rule {
            Rule::CardBlocked => {
                let when = self.cal.at(day, self.rng.random_range(8 * 3600..20 * 3600));
                self.last_card().blocked_at = Some(when);
                when
            }
            Rule::CardExpired => {
                self.last_card().valid_to = self.cal.days[day].0.pred_opt().expect("a day before");
                self.cal.day_start[day]
            }
            _ => {
                self.last_card().death = Some(self.cal.days[day].0);
                self.cal.day_start[day]
            }
        };
        taps.into_iter()
            .map(|d| if d.time >= from { a.mark(d) } else { d })
            .collect()
    }

    fn last_card(&mut self) -> &mut GenCard {
        self.cards.last_mut().expect("just made")
    }

    /// The anchor's card in the small hours, 00:01–04:00.
    fn outside_service_hours(&mut self, a: &Anchor) -> Vec<Draft> {
        let day = self.rng.random_range(0..self.cal.len());
        let t = self.cal.at(day, self.rng.random_range(60..4 * 3600));
        if !a.room || !self.card_free(a, t, None) {
            return Vec::new();
        }
        vec![a.mark(Draft { time: t, ..a.tap })]
    }

    /// A fresh card tapped with a route the vehicle does not serve.
    fn route_not_served(&mut self, a: &Anchor) -> Vec<Draft> {
        let (card, holder) = self.fresh(false);
        vec![a.mark(Draft {
            time: a.tap.time + self.rng.random_range(2..30),
            card,
            holder,
            uid: uid_of(card, 0),
            route: self.opts.routes + 1 + self.rng.random_range(0..5),
            ..a.tap
        })]
    }

    /// The anchor's card number under another UID, on another route.
    fn cloned_uid(&mut self, a: &Anchor) -> Vec<Draft> {
        let route = 1 + ((a.tap.route + 3) % self.opts.routes);
        let t = a.tap.time + self.rng.random_range(1800..7200);
        if !self.card_ok(a, t) {
            return Vec::new();
        }
        vec![a.mark(Draft {
            time: t,
            uid: uid_of(a.tap.card, 1 + a.n as u32),
            vehicle: self.fleet.vehicle_on(self.rng, route),
            door: 0,
            route,
            ..a.tap
        })]
    }

    /// A tap whose trip counter went back (`count_trips` gives it an old
    /// value).
    fn counter_backwards(&mut self, a: &Anchor) -> Vec<Draft> {
        let t = a.tap.time + self.rng.random_range(1800..7200);
        if !self.card_ok(a, t) {
            return Vec::new();
        }
        vec![a.mark(Draft {
            time: t,
            trips: Some(0),
            ..a.tap
        })]
    }

    /// The validator's clock jumps a day or two for one tap.
    fn clock_anomaly(&mut self, a: &Anchor) -> Vec<Draft> {
        let t = a.tap.time + self.rng.random_range(1800..7200);
        let skew: i64 = [86_400, 2 * 86_400, -2 * 86_400][self.rng.random_range(0..3)];
        let shown = i64::from(t) + skew;
        let in_month =
            shown >= i64::from(self.cal.start()) && shown < i64::from(self.cal.month_end);
        if !self.card_ok(a, t) || !in_month {
            return Vec::new();
        }
        vec![a.mark(Draft {
            time: t,
            skew: skew as i32,
            ..a.tap
        })]
    }

    /// A fresh card with a trip limit riding past it: the taps over the
    /// limit are marked.
    fn trip_limit(&mut self, a: &Anchor) -> Vec<Draft> {
        let limit = self.opts.city.trip_limit.as_ref().map_or(0, |l| l.1);
        let (card, holder) = self.fresh(true);
        let per_day = (limit + 10).div_ceil(self.cal.len() as u32).clamp(3, 6);
        let mut taps = self.everyday(card, holder, per_day);
        taps.sort_unstable_by_key(|d| d.time);
        taps.into_iter()
            .enumerate()
            .map(|(i, d)| if i as u32 >= limit { a.mark(d) } else { d })
            .collect()
    }
}

/// A time in `list` (sorted) within `margin` of `t`, but `except`.
fn near(list: &[u32], t: u32, margin: u32, except: Option<u32>) -> bool {
    let lo = list.partition_point(|&x| x + margin < t);
    list[lo..]
        .iter()
        .take_while(|&&x| x <= t + margin)
        .any(|&x| Some(x) != except)
}
