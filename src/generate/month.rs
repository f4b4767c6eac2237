//! A synthetic city month of taps (issue 6), for tests, the demo and the
//! benchmarks: a fleet (carriers, vehicles on routes, one or two validators
//! each), card holders with skewed use, a daily profile in Kyiv time
//! (morning and evening peaks, quieter weekends, no service at night), and
//! anomalies planted on purpose, each written to `ground-truth.csv` with
//! the pattern it plants.
//!
//! Output folder:
//! - `fleet.csv` — for `kartka fleet import`;
//! - `cards.csv` — card number, UID, community of every holder;
//! - `ground-truth.csv` — validator_id, seq, card_number, pattern;
//! - the taps, as `dumps/*.kdump` (one per validator, signed with the dock
//!   master key given), as the vendor CSV `taps.csv`, or both.

use crate::flags::rule::Rule;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Kyiv;
use kartka_protocol::auth::{DockKey, Session, validator_key};
use kartka_protocol::frame::{MAX_WIRE, encode};
use kartka_protocol::message::{Batch, MAX_BATCH_RECORDS, Message};
use kartka_protocol::record::Uid;
use kartka_protocol::{TapRecord, TapResult};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cards::number::CardNumber;
use crate::taps::dump;

use super::Error;

#[derive(Debug, Clone)]
pub struct MonthOptions {
    /// The first day of the month (Kyiv).
    pub month: NaiveDate,
    pub taps: usize,
    pub holders: u32,
    pub validators: u16,
    pub vehicles: u16,
    pub routes: u16,
    pub carriers: u16,
    /// Share of taps planted as anomalies, 0.0–0.2.
    pub anomaly_share: f64,
    pub seed: u64,
    pub out: PathBuf,
    pub dumps: bool,
    pub csv: bool,
    /// Hand the taps back (to store them straight into a home).
    pub keep: bool,
    /// Signs the dumps.
    pub dock_master: DockKey,
    /// The city's community code first, then the partner communities'.
    pub communities: Vec<String>,
    /// Category codes, given to holders in turn.
    pub categories: Vec<String>,
    /// A configured trip limit (category or "*", trips a month): honest
    /// riders keep within it, and `trip_limit` is planted.
    pub trip_limit: Option<(String, u32)>,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MonthSummary {
    pub taps: usize,
    pub planted: usize,
    pub by_pattern: std::collections::BTreeMap<&'static str, usize>,
    pub validators: usize,
    pub vehicles: usize,
    pub holders: u32,
    pub dumps: usize,
    pub out: PathBuf,
    #[serde(skip)]
    pub kept: Vec<crate::taps::Tap>,
    /// Every card, with its registry state (when `keep`).
    #[serde(skip)]
    pub cards: Vec<GenCard>,
}

/// The patterns planted, one per suspicious-tap rule meant to catch it
/// (the ground truth names each by the rule's code); `trip_limit` is
/// planted only when a limit is configured.
pub const PATTERNS: [Rule; 15] = crate::flags::rule::ALL;

/// A card as the registry should hold it for the month.
#[derive(Debug, Clone)]
pub struct GenCard {
    pub number: u32,
    pub uid: String,
    pub community: String,
    pub category: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// Blocked from this instant (UTC seconds), reason lost.
    pub blocked_at: Option<u32>,
    pub death: Option<NaiveDate>,
}

fn uid_hex(uid: Uid) -> String {
    uid.as_bytes().iter().map(|b| format!("{b:02X}")).collect()
}

#[derive(Clone, Copy)]
struct Vehicle {
    id: u16,
    carrier: u16,
    route: u16,
    validators: [u16; 2],
    doors: usize,
    /// The tariff zone: the last route (of three or more) runs out to the
    /// suburbs, zone 2; the rest are zone 1.
    zone: u8,
}

/// A tap before sequence numbers are given.
#[derive(Clone, Copy)]
struct Draft {
    /// When it happened (UTC seconds)...
    time: u32,
    /// ...and how far the validator's clock was off.
    skew: i32,
    card: u32,
    /// The holder's index; `u32::MAX` for a card nobody holds.
    holder: u32,
    uid: Uid,
    vehicle: usize,
    door: usize,
    route: u16,
    trips: Option<u16>,
    pattern: Option<u8>,
}

fn uid_of(card: u32, variant: u32) -> Uid {
    let h = (card ^ variant.wrapping_mul(0x9E37_79B9)).wrapping_mul(0x85EB_CA6B) ^ 0xC2B2_AE35;
    let b = h.to_le_bytes();
    Uid::four([0x04 | (b[0] & 0xF0), b[1], b[2], b[3]])
}

pub fn generate(opts: &MonthOptions) -> Result<MonthSummary, Error> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| Error::Write {
            path: path.clone(),
            detail: e.to_string(),
        }
    };
    std::fs::create_dir_all(&opts.out).map_err(write_err(&opts.out))?;

    let vehicles = plan_fleet(opts);
    let by_route: Vec<Vec<usize>> = (1..=opts.routes)
        .map(|r| {
            (0..vehicles.len())
                .filter(|&i| vehicles[i].route == r)
                .collect()
        })
        .collect();
    write_fleet(&opts.out.join("fleet.csv"), &vehicles)?;

    // Holders: skewed use (a few ride daily, most now and then), each on a
    // home route and a second one. The weights are capped so the busiest
    // holder rides about three times a day, as a real one might.
    let holders = opts.holders.max(1);
    let serial = |i: u32| {
        CardNumber::from_serial(100_000_000 + i)
            .expect("in range")
            .value()
    };
    let cards: Vec<u32> = (0..holders).map(serial).collect();
    let mut cumulative = Vec::with_capacity(cards.len());
    let mut total = 0f64;
    for _ in 0..cards.len() {
        let u: f64 = rng.random_range(0.0001..1.0);
        total += u.powf(-0.7).min(8.0); // Pareto-like weights
        cumulative.push(total);
    }
    let home_route = |card: usize, second: bool| -> u16 {
        let h = (card as u32).wrapping_mul(2_654_435_761) >> 7;
        1 + ((h + u32::from(second) * 7) % u32::from(opts.routes)) as u16
    };
    let categories: Vec<String> = if opts.categories.is_empty() {
        vec!["pensioner-age".into()]
    } else {
        opts.categories.clone()
    };
    let limit_of = |holder: u32| -> u32 {
        match &opts.trip_limit {
            Some((cat, n))
                if cat == "*" || *cat == categories[holder as usize % categories.len()] =>
            {
                *n
            }
            _ => u32::MAX,
        }
    };

    // Days of the month and their weights; the service day's hourly profile.
    let days = month_days(opts.month);
    let day_total: f64 = days.iter().map(|x| x.1).sum();
    // Minutes after 05:30 (service to 23:30), peaks at 07:45 and 17:15.
    let minute_of_day = |rng: &mut ChaCha8Rng| -> u32 {
        loop {
            let pick: f64 = rng.random();
            let m = if pick < 0.3 {
                465.0 + normal(rng) * 50.0
            } else if pick < 0.55 {
                1035.0 + normal(rng) * 60.0
            } else {
                rng.random_range(330.0..1410.0)
            };
            if (330.0..1410.0).contains(&m) {
                return m as u32;
            }
        }
    };
    let midnight = |d: NaiveDate| -> u32 { crate::time::kyiv_midnight(d).timestamp() as u32 };
    let day_start: Vec<u32> = days.iter().map(|(d, _)| midnight(*d)).collect();
    let month_end = midnight(
        days.last()
            .and_then(|l| l.0.succ_opt())
            .expect("a day after the month"),
    );
    let day_of = |t: u32| day_start.partition_point(|&s| s <= t).saturating_sub(1);
    // Kyiv wall-clock time: `secs` after midnight of the month's day `day`
    // (a DST day is 23 or 25 hours long), and a time's seconds after its
    // Kyiv midnight.
    let at = |day: usize, secs: u32| -> u32 {
        let local = days[day].0.and_hms_opt(0, 0, 0).expect("midnight")
            + chrono::Duration::seconds(i64::from(secs));
        Kyiv.from_local_datetime(&local)
            .earliest()
            .map_or(day_start[day] + secs, |t| t.timestamp() as u32)
    };
    let tod = |t: u32| -> u32 {
        use chrono::Timelike;
        let local = chrono::DateTime::<Utc>::from_timestamp(i64::from(t), 0)
            .unwrap_or_default()
            .with_timezone(&Kyiv);
        local.num_seconds_from_midnight()
    };
    let in_service =
        |t: u32| t >= day_start[0] && t < month_end && (330 * 60..1410 * 60).contains(&tod(t));
    let pick_day = |rng: &mut ChaCha8Rng| -> usize {
        let mut x = rng.random_range(0.0..day_total);
        for (i, (_, w)) in days.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        days.len() - 1
    };
    let vehicle_on = |rng: &mut ChaCha8Rng, route: u16| -> usize {
        let list = &by_route[(route - 1) as usize];
        list[rng.random_range(0..list.len())]
    };

    // Honest riding: taps drawn at random, then made plausible: a card taps
    // at least 25 minutes after its previous tap, at most 4 times a Kyiv
    // day and within its trip limit; what breaks that is drawn again.
    let planted_target = ((opts.taps as f64) * opts.anomaly_share.clamp(0.0, 0.2)) as usize;
    let normal_taps = opts.taps.saturating_sub(planted_target);
    let mut drafts: Vec<Draft> = Vec::with_capacity(opts.taps + 64);
    for _round in 0..8 {
        let missing = normal_taps.saturating_sub(drafts.len());
        if missing == 0 {
            break;
        }
        for _ in 0..missing {
            let x = rng.random_range(0.0..total);
            let card = cumulative.partition_point(|&c| c < x).min(cards.len() - 1);
            let route = home_route(card, rng.random_bool(0.3));
            let vehicle = vehicle_on(&mut rng, route);
            let day = pick_day(&mut rng);
            let time = at(day, minute_of_day(&mut rng) * 60 + rng.random_range(0..60));
            drafts.push(Draft {
                time,
                skew: 0,
                card: cards[card],
                holder: card as u32,
                uid: uid_of(cards[card], 0),
                vehicle,
                door: rng.random_range(0..vehicles[vehicle].doors),
                route,
                trips: None,
                pattern: None,
            });
        }
        drafts.sort_unstable_by_key(|d| (d.card, d.time));
        let mut keep = vec![true; drafts.len()];
        let (mut last_card, mut last_t, mut day, mut day_n, mut month_n) = (u32::MAX, 0, 0, 0, 0);
        for (i, d) in drafts.iter().enumerate() {
            if d.card != last_card {
                (last_card, last_t, day, day_n, month_n) = (d.card, 0, usize::MAX, 0, 0);
            }
            let dd = day_of(d.time);
            if dd != day {
                (day, day_n) = (dd, 0);
            }
            let ok = (month_n == 0 || d.time >= last_t + 25 * 60)
                && day_n < 4
                && month_n < limit_of(d.holder);
            if ok {
                (last_t, day_n, month_n) = (d.time, day_n + 1, month_n + 1);
            } else {
                keep[i] = false;
            }
        }
        let mut k = keep.iter();
        drafts.retain(|_| *k.next().expect("one flag per draft"));
    }
    let normal_count = drafts.len();
    // Where each card's taps are (drafts are sorted by card, time), and
    // each validator's tap times: plants go where they break one rule only.
    let mut card_range: rustc_hash::FxHashMap<u32, (usize, usize)> =
        rustc_hash::FxHashMap::default();
    for (i, d) in drafts.iter().enumerate() {
        card_range
            .entry(d.card)
            .and_modify(|r| r.1 = i + 1)
            .or_insert((i, i + 1));
    }
    let validator_of =
        |d: &Draft| vehicles[d.vehicle].validators[d.door.min(vehicles[d.vehicle].doors - 1)];
    let max_validator = vehicles.iter().map(|v| v.validators[1]).max().unwrap_or(1) as usize;
    let mut by_validator: Vec<Vec<u32>> = vec![Vec::new(); max_validator + 1];
    for d in &drafts {
        by_validator[validator_of(d) as usize].push(d.time);
    }
    for v in &mut by_validator {
        v.sort_unstable();
    }
    let near = |list: &[u32], t: u32, margin: u32, except: Option<u32>| -> bool {
        let lo = list.partition_point(|&x| x + margin < t);
        list[lo..]
            .iter()
            .take_while(|&&x| x <= t + margin)
            .any(|&x| Some(x) != except)
    };
    let free = |card: u32, t: u32, except: Option<u32>| -> bool {
        let Some(&(a, b)) = card_range.get(&card) else {
            return true;
        };
        let times: Vec<u32> = drafts[a..b].iter().map(|d| d.time).collect();
        !near(&times, t, 20 * 60, except)
    };

    // Registry state of every card: most are plain; planted ones may be
    // blocked, expired or their holder dead.
    let valid_from = opts
        .month
        .with_year(opts.month.year() - 1)
        .unwrap_or(opts.month);
    let valid_to = opts
        .month
        .with_year(opts.month.year() + 4)
        .unwrap_or(opts.month);
    let mut gen_cards: Vec<GenCard> = (0..holders)
        .map(|i| GenCard {
            number: cards[i as usize],
            uid: uid_hex(uid_of(cards[i as usize], 0)),
            community: community_of(i as usize, &opts.communities).to_string(),
            category: categories[i as usize % categories.len()].clone(),
            valid_from,
            valid_to,
            blocked_at: None,
            death: None,
        })
        .collect();
    // Cards only planted anomalies use, never seen in honest riding.
    let fresh = |want_limited: bool, gen_cards: &mut Vec<GenCard>| -> (u32, u32) {
        loop {
            let i = gen_cards.len() as u32;
            let number = serial(i);
            gen_cards.push(GenCard {
                number,
                uid: uid_hex(uid_of(number, 0)),
                community: community_of(i as usize, &opts.communities).to_string(),
                category: categories[i as usize % categories.len()].clone(),
                valid_from,
                valid_to,
                blocked_at: None,
                death: None,
            });
            if !want_limited || limit_of(i) != u32::MAX {
                return (number, i);
            }
        }
    };

    // Plant the anomalies, each pattern an equal share. Each plant breaks
    // its own rule and no other: it keeps clear of the card's other taps,
    // stays in the month and in service hours (but for the pattern that
    // is about them), and touches a (card, day) no other plant touched.
    let patterns: Vec<Rule> = PATTERNS
        .iter()
        .copied()
        .filter(|p| *p != Rule::TripLimit || opts.trip_limit.is_some())
        .collect();
    let per_pattern = planted_target / patterns.len().max(1);
    let day_service = |rng: &mut ChaCha8Rng, day: usize| at(day, minute_of_day(rng) * 60);
    let mut used: rustc_hash::FxHashSet<(u32, usize)> = rustc_hash::FxHashSet::default();
    let mut plants: Vec<Draft> = Vec::new();
    let mut by_pattern = std::collections::BTreeMap::new();
    // A card's everyday riding, for the cards whose state changes in the
    // month: one or two taps most days on its home routes.
    let everyday = |rng: &mut ChaCha8Rng, card: u32, holder: u32, per_day: u32| -> Vec<Draft> {
        let mut out = Vec::new();
        for day in 0..days.len() {
            if per_day < 3 && !rng.random_bool(0.8) {
                continue;
            }
            for j in 0..per_day {
                let time = at(day, (380 + j * 150) * 60 + rng.random_range(0..3000));
                let route = home_route(holder as usize, j % 2 == 1);
                let vehicle = vehicle_on(rng, route);
                out.push(Draft {
                    time,
                    skew: 0,
                    card,
                    holder,
                    uid: uid_of(card, 0),
                    vehicle,
                    door: 0,
                    route,
                    trips: None,
                    pattern: None,
                });
            }
        }
        out
    };
    for (p, rule) in PATTERNS.iter().enumerate() {
        if !patterns.contains(rule) {
            continue;
        }
        let p = p as u8;
        let mut n = 0;
        let mut attempts = 0;
        while n < per_pattern && normal_count > 0 && attempts < per_pattern * 50 + 100 {
            attempts += 1;
            let anchor = drafts[rng.random_range(0..normal_count)];
            let v = vehicles[anchor.vehicle];
            let a_day = day_of(anchor.time);
            let mark = |d: Draft| Draft {
                pattern: Some(p),
                ..d
            };
            let mut add: Vec<Draft> = Vec::new();
            // A plant on the anchor's card at `t`, on a free (card, day).
            let room = card_range
                .get(&anchor.card)
                .is_some_and(|r| ((r.1 - r.0) as u32) < limit_of(anchor.holder));
            let card_ok = |t: u32, used: &rustc_hash::FxHashSet<(u32, usize)>| {
                in_service(t)
                    && room
                    && !used.contains(&(anchor.card, usize::MAX))
                    && free(anchor.card, t, Some(anchor.time))
            };
            match *rule {
                Rule::RepeatSameVehicle => {
                    let t = anchor.time + rng.random_range(60..840);
                    if card_ok(t, &used) {
                        let door = if v.doors == 2 {
                            1 - anchor.door
                        } else {
                            anchor.door
                        };
                        add.push(mark(Draft {
                            time: t,
                            door,
                            ..anchor
                        }));
                    }
                }
                Rule::ImpossibleTravel => {
                    let route = 1 + (anchor.route % opts.routes);
                    let other = vehicle_on(&mut rng, route);
                    let t = anchor.time + rng.random_range(30..240);
                    if other != anchor.vehicle && card_ok(t, &used) {
                        add.push(mark(Draft {
                            time: t,
                            vehicle: other,
                            door: 0,
                            route,
                            ..anchor
                        }));
                    }
                }
                Rule::DriverBurst => {
                    let t0 = day_service(&mut rng, a_day);
                    let list = &by_validator[validator_of(&anchor) as usize];
                    if in_service(t0) && in_service(t0 + 40) && !near(list, t0 + 15, 75, None) {
                        let mut t = t0;
                        for _ in 0..12 {
                            let (card, holder) = fresh(false, &mut gen_cards);
                            add.push(mark(Draft {
                                time: t,
                                card,
                                holder,
                                uid: uid_of(card, 0),
                                ..anchor
                            }));
                            t += rng.random_range(1..=2);
                        }
                    }
                }
                Rule::SingleVehicleCard => {
                    let (card, holder) = fresh(false, &mut gen_cards);
                    for day in 0..days.len().min(20) {
                        let t = day_service(&mut rng, day);
                        add.push(mark(Draft {
                            time: t,
                            card,
                            holder,
                            uid: uid_of(card, 0),
                            ..anchor
                        }));
                    }
                }
                Rule::ExcessiveDailyUse => {
                    let (card, holder) = fresh(false, &mut gen_cards);
                    for k in 0..18u32 {
                        let route = 1 + ((anchor.route + k as u16) % opts.routes);
                        add.push(mark(Draft {
                            time: at(a_day, 6 * 3600 + k * 50 * 60),
                            card,
                            holder,
                            uid: uid_of(card, 0),
                            vehicle: vehicle_on(&mut rng, route),
                            door: 0,
                            route,
                            ..anchor
                        }));
                    }
                }
                Rule::CardUnknown => {
                    let card =
                        CardNumber::from_serial(400_000_000 + rng.random_range(0..1_000_000))
                            .expect("in range")
                            .value();
                    add.push(mark(Draft {
                        time: anchor.time + rng.random_range(2..30),
                        card,
                        holder: u32::MAX,
                        uid: uid_of(card, 0),
                        ..anchor
                    }));
                }
                Rule::CardBlocked | Rule::CardExpired | Rule::HolderDeceased => {
                    let (card, holder) = fresh(false, &mut gen_cards);
                    let day = rng.random_range(days.len() / 5..days.len() * 4 / 5);
                    let taps = everyday(&mut rng, card, holder, 2);
                    let g = gen_cards.last_mut().expect("just made");
                    let from = match *rule {
                        Rule::CardBlocked => {
                            let when = at(day, rng.random_range(8 * 3600..20 * 3600));
                            g.blocked_at = Some(when);
                            when
                        }
                        Rule::CardExpired => {
                            g.valid_to = days[day].0.pred_opt().expect("a day before");
                            day_start[day]
                        }
                        _ => {
                            g.death = Some(days[day].0);
                            day_start[day]
                        }
                    };
                    for d in taps {
                        add.push(if d.time >= from { mark(d) } else { d });
                    }
                }
                Rule::OutsideServiceHours => {
                    let day = rng.random_range(0..days.len());
                    let t = at(day, rng.random_range(60..4 * 3600));
                    if room
                        && !used.contains(&(anchor.card, usize::MAX))
                        && free(anchor.card, t, None)
                    {
                        add.push(mark(Draft { time: t, ..anchor }));
                    }
                }
                Rule::RouteNotServed => {
                    let (card, holder) = fresh(false, &mut gen_cards);
                    add.push(mark(Draft {
                        time: anchor.time + rng.random_range(2..30),
                        card,
                        holder,
                        uid: uid_of(card, 0),
                        route: opts.routes + 1 + rng.random_range(0..5),
                        ..anchor
                    }));
                }
                Rule::ClonedUid => {
                    let route = 1 + ((anchor.route + 3) % opts.routes);
                    let t = anchor.time + rng.random_range(1800..7200);
                    if card_ok(t, &used) {
                        add.push(mark(Draft {
                            time: t,
                            uid: uid_of(anchor.card, 1 + n as u32),
                            vehicle: vehicle_on(&mut rng, route),
                            door: 0,
                            route,
                            ..anchor
                        }));
                    }
                }
                Rule::CounterBackwards => {
                    let t = anchor.time + rng.random_range(1800..7200);
                    if card_ok(t, &used) {
                        add.push(mark(Draft {
                            time: t,
                            trips: Some(0),
                            ..anchor
                        }));
                    }
                }
                Rule::ClockAnomaly => {
                    // The validator's clock jumps a day or two for one tap.
                    let t = anchor.time + rng.random_range(1800..7200);
                    let skew: i64 = [86_400, 2 * 86_400, -2 * 86_400][rng.random_range(0..3)];
                    let shown = i64::from(t) + skew;
                    if card_ok(t, &used)
                        && shown >= i64::from(day_start[0])
                        && shown < i64::from(month_end)
                    {
                        add.push(mark(Draft {
                            time: t,
                            skew: skew as i32,
                            ..anchor
                        }));
                    }
                }
                Rule::TripLimit => {
                    let limit = opts.trip_limit.as_ref().map_or(0, |l| l.1);
                    let (card, holder) = fresh(true, &mut gen_cards);
                    let per_day = (limit + 10).div_ceil(days.len() as u32).clamp(3, 6);
                    let mut taps = everyday(&mut rng, card, holder, per_day);
                    taps.sort_unstable_by_key(|d| d.time);
                    for (i, d) in taps.into_iter().enumerate() {
                        add.push(if i as u32 >= limit { mark(d) } else { d });
                    }
                }
            }
            // A card anchors one plant at most: two on one card could add
            // up to another rule (a day's count, the trip limit).
            if add.iter().any(|d| d.card == anchor.card) {
                used.insert((anchor.card, usize::MAX));
            }
            let planted_now = add.iter().filter(|d| d.pattern.is_some()).count();
            n += planted_now;
            *by_pattern.entry(rule.code()).or_insert(0) += planted_now;
            plants.extend(add);
        }
    }
    let planted: usize = by_pattern.values().sum();
    drafts.extend(plants);

    count_trips(&mut drafts);
    let records = number_taps(&mut drafts, &vehicles);
    write_cards(&opts.out.join("cards.csv"), &gen_cards)?;
    write_truth(&opts.out.join("ground-truth.csv"), &records)?;
    let mut dumps = 0;
    if opts.dumps {
        // Docked the night after the month's last day.
        let docked = month_end + 3 * 3600;
        dumps = write_dumps(
            &opts.out.join("dumps"),
            &records,
            &opts.dock_master,
            docked,
            &mut rng,
        )?;
    }
    if opts.csv {
        write_vendor_csv(&opts.out.join("taps.csv"), &records)?;
    }
    Ok(MonthSummary {
        taps: records.len(),
        planted,
        by_pattern,
        validators: vehicles.iter().map(|v| v.doors).sum(),
        vehicles: vehicles.len(),
        holders: gen_cards.len() as u32,
        dumps,
        out: opts.out.clone(),
        kept: if opts.keep {
            records
                .iter()
                .map(|(r, carrier, _)| crate::taps::Tap {
                    carrier: Some(*carrier),
                    ..crate::taps::Tap::from_record(*r)
                })
                .collect()
        } else {
            Vec::new()
        },
        cards: if opts.keep { gen_cards } else { Vec::new() },
    })
}

/// The fleet: routes shared out among carriers, vehicles among routes;
/// `validators - vehicles` vehicles have a second door validator; the last
/// route (of three or more) runs out to the suburbs, tariff zone 2.
fn plan_fleet(opts: &MonthOptions) -> Vec<Vehicle> {
    let mut next_validator = 1u16;
    let doubles = opts.validators.saturating_sub(opts.vehicles) as usize;
    (0..opts.vehicles as usize)
        .map(|i| {
            let route = 1 + (i as u16 % opts.routes);
            let carrier = 1 + ((route - 1) % opts.carriers);
            let doors = if i < doubles { 2 } else { 1 };
            let v = [next_validator, next_validator + 1];
            next_validator += doors as u16;
            Vehicle {
                id: 1001 + i as u16,
                carrier,
                route,
                validators: v,
                doors,
                zone: if opts.routes >= 3 && route == opts.routes {
                    2
                } else {
                    1
                },
            }
        })
        .collect()
}

/// The days of the month that `first` begins, with their weights (fewer
/// riders at weekends).
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

/// The card's trip counter: up by one at every tap, in the order the taps
/// really happened; a planted "counter_backwards" tap carries an old value.
fn count_trips(drafts: &mut [Draft]) {
    drafts.sort_unstable_by_key(|d| (d.card, d.time));
    let mut last_card = u32::MAX;
    let mut counter = 0u16;
    for d in drafts.iter_mut() {
        if d.card != last_card {
            last_card = d.card;
            counter = (d.card % 97) as u16;
        }
        counter = counter.wrapping_add(1);
        if d.trips.is_some() {
            d.trips = Some(counter.saturating_sub(40));
        } else {
            d.trips = Some(counter);
        }
    }
}

/// Sequence numbers per validator, from 1, in the order the taps happened
/// (a tap with a wrong clock keeps its place): the records as the
/// validators would log them, with each tap's carrier and planted pattern.
fn number_taps(drafts: &mut [Draft], vehicles: &[Vehicle]) -> Vec<(TapRecord, u16, Option<u8>)> {
    let validator_of =
        |d: &Draft| vehicles[d.vehicle].validators[d.door.min(vehicles[d.vehicle].doors - 1)];
    drafts.sort_unstable_by_key(|d| (validator_of(d), d.time));
    let mut records: Vec<(TapRecord, u16, Option<u8>)> = Vec::with_capacity(drafts.len());
    let mut seq = 1u32;
    let mut last_v = 0u16;
    for d in drafts.iter() {
        let v = validator_of(d);
        if v != last_v {
            last_v = v;
            seq = 1;
        }
        let vehicle = vehicles[d.vehicle];
        records.push((
            TapRecord {
                validator: v,
                seq,
                time: (i64::from(d.time) + i64::from(d.skew)) as u32,
                card: d.card,
                uid: d.uid,
                vehicle: vehicle.id,
                route: d.route,
                zone: vehicle.zone,
                result: TapResult::Accepted,
                trips: d.trips.unwrap_or(0),
            },
            vehicle.carrier,
            d.pattern,
        ));
        seq += 1;
    }
    records
}

/// A standard normal variate (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn file(path: &Path) -> Result<std::io::BufWriter<std::fs::File>, Error> {
    std::fs::File::create(path)
        .map(|f| std::io::BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| Error::Write {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Write {
        path: path.to_path_buf(),
        detail: e.to_string(),
    }
}

fn write_fleet(path: &Path, vehicles: &[Vehicle]) -> Result<(), Error> {
    let mut f = file(path)?;
    let mut out = String::from("validator,vehicle,plate,carrier,carrier_name,edrpou,routes,zone\n");
    for v in vehicles {
        for door in 0..v.doors {
            out.push_str(&format!(
                "{},{},АЕ{:04}ВС,{},Перевізник {},{:08},{},{}\n",
                v.validators[door],
                v.id,
                v.id,
                v.carrier,
                v.carrier,
                30_000_000 + u32::from(v.carrier),
                v.route,
                v.zone
            ));
        }
    }
    f.write_all(out.as_bytes())
        .and_then(|()| f.flush())
        .map_err(io(path))
}

/// Three holders in four live in the city; the rest in the partner
/// communities, in turn.
fn community_of(i: usize, communities: &[String]) -> &str {
    match communities {
        [] => "",
        [city] => city,
        [city, partners @ ..] => {
            if i % 4 != 3 {
                city
            } else {
                &partners[(i / 4) % partners.len()]
            }
        }
    }
}

fn write_cards(path: &Path, cards: &[GenCard]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(
        f,
        "card_number,card_uid,community,category,valid_from,valid_to,blocked_at,death_date"
    )
    .map_err(io(path))?;
    for c in cards {
        let blocked = c
            .blocked_at
            .and_then(|t| chrono::DateTime::<Utc>::from_timestamp(i64::from(t), 0))
            .map(crate::time::utc_text)
            .unwrap_or_default();
        writeln!(
            f,
            "{},{},{},{},{},{},{},{}",
            c.number,
            c.uid,
            c.community,
            c.category,
            c.valid_from,
            c.valid_to,
            blocked,
            c.death.map(|d| d.to_string()).unwrap_or_default()
        )
        .map_err(io(path))?;
    }
    f.flush().map_err(io(path))
}

fn write_truth(path: &Path, records: &[(TapRecord, u16, Option<u8>)]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(f, "validator_id,seq,card_number,pattern").map_err(io(path))?;
    for (r, _, p) in records {
        if let Some(p) = p {
            writeln!(
                f,
                "{},{},{},{}",
                r.validator,
                r.seq,
                r.card,
                PATTERNS[*p as usize].code()
            )
            .map_err(io(path))?;
        }
    }
    f.flush().map_err(io(path))
}

fn write_vendor_csv(path: &Path, records: &[(TapRecord, u16, Option<u8>)]) -> Result<(), Error> {
    let mut f = file(path)?;
    writeln!(
        f,
        "validator_id,vehicle_id,route,carrier,card_number,card_uid,tapped_at,tariff_zone,result,seq"
    )
    .map_err(io(path))?;
    for (r, carrier, _) in records {
        let t = chrono::DateTime::<Utc>::from_timestamp(i64::from(r.time), 0)
            .unwrap_or_default()
            .with_timezone(&Kyiv);
        let uid: String = r
            .uid
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{}",
            r.validator,
            r.vehicle,
            r.route,
            carrier,
            r.card,
            uid,
            t.format("%Y-%m-%dT%H:%M:%S%:z"),
            r.zone,
            r.result.name(),
            r.seq
        )
        .map_err(io(path))?;
    }
    f.flush().map_err(io(path))
}

/// One dump per validator, as a docking at the month's end would keep it.
fn write_dumps(
    dir: &Path,
    records: &[(TapRecord, u16, Option<u8>)],
    master: &DockKey,
    docked: u32,
    rng: &mut ChaCha8Rng,
) -> Result<usize, Error> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut n = 0;
    for chunk in records.chunk_by(|a, b| a.0.validator == b.0.validator) {
        let validator = chunk[0].0.validator;
        let session = Session {
            host_nonce: rng.random(),
            validator_nonce: rng.random(),
        };
        let bytes = dump_bytes(validator, session, chunk.iter().map(|c| c.0), master);
        let header = dump::Header {
            validator,
            session,
            received_at: i64::from(docked),
            seq_first: chunk[0].0.seq,
            seq_last: chunk[chunk.len() - 1].0.seq,
            taps: chunk.len() as u32,
            frames: chunk.len().div_ceil(MAX_BATCH_RECORDS) as u32,
        };
        let path = dir.join(header.file_name());
        let mut f = file(&path)?;
        f.write_all(&header.to_bytes())
            .and_then(|()| f.write_all(&bytes))
            .and_then(|()| f.flush())
            .map_err(io(&path))?;
        n += 1;
    }
    Ok(n)
}

/// The batch frames of `records`, signed as the validator would sign them.
pub fn dump_bytes(
    validator: u16,
    session: Session,
    records: impl Iterator<Item = TapRecord>,
    master: &DockKey,
) -> Vec<u8> {
    let key = validator_key(master, validator);
    let all: Vec<TapRecord> = records.collect();
    let chunks: Vec<&[TapRecord]> = all.chunks(MAX_BATCH_RECORDS).collect();
    let mut out = Vec::with_capacity(all.len() * 30 + chunks.len() * 24);
    let mut packed = Vec::with_capacity(MAX_BATCH_RECORDS * kartka_protocol::RECORD_LEN);
    let mut wire = [0u8; MAX_WIRE];
    for (i, chunk) in chunks.iter().enumerate() {
        packed.clear();
        for r in *chunk {
            packed.extend_from_slice(&r.to_bytes());
        }
        let msg = Message::Batch(Batch {
            records: &packed,
            last: i + 1 == chunks.len(),
        });
        let n = encode(&msg, &key, session, &mut wire).expect("a batch fits a frame");
        out.extend_from_slice(&wire[..n]);
    }
    out
}
