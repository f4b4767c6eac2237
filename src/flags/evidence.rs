//! The engine's hits, grouped per tap, with each rule's evidence written
//! out in Ukrainian and English: the other tap, the card's state, the count
//! in the window.

use chrono::DateTime;
use chrono_tz::Europe::Kyiv;
use polars::prelude::*;
use rustc_hash::FxHashMap;

use super::engine::{MonthClock, Thresholds};
use super::refs::CardInfo;
use super::{Flag, Hit, Rule, flag_id};

/// Kyiv wall-clock text of a UTC millisecond instant.
pub fn kyiv(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&Kyiv)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// "HH:MM" of milliseconds after midnight.
pub fn hhmm(ms_of_day: i64) -> String {
    let m = ms_of_day.div_euclid(60_000);
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn span(ms: i64) -> String {
    let s = ms / 1000;
    if s < 120 {
        format!("{s} s")
    } else if s < 7200 {
        format!("{} min", s / 60)
    } else if s < 2 * 86_400 {
        format!("{} h", s / 3600)
    } else {
        format!("{} d", s / 86_400)
    }
}

struct Cols<'a> {
    v: &'a Int32Chunked,
    seq: &'a Int64Chunked,
    rule: &'a Int32Chunked,
    t: &'a Int64Chunked,
    card: &'a Int64Chunked,
    uid: &'a StringChunked,
    vehicle: &'a Int32Chunked,
    carrier: &'a Int32Chunked,
    route: &'a Int32Chunked,
    zone: &'a Int32Chunked,
    trips: &'a Int32Chunked,
    ov: &'a Int32Chunked,
    os: &'a Int64Chunked,
    ot: &'a Int64Chunked,
    n: &'a Int64Chunked,
    x: &'a Int64Chunked,
}

/// Groups `hits` (sorted by validator, seq, rule) into flags.
pub fn assemble(
    hits: &DataFrame,
    cards: &FxHashMap<i64, CardInfo>,
    th: &Thresholds,
    clock: &MonthClock,
) -> PolarsResult<Vec<Flag>> {
    let c = Cols {
        v: hits.column("validator_id")?.i32()?,
        seq: hits.column("seq")?.i64()?,
        rule: hits.column("rule")?.i32()?,
        t: hits.column("t")?.i64()?,
        card: hits.column("card_number")?.i64()?,
        uid: hits.column("card_uid")?.str()?,
        vehicle: hits.column("vehicle_id")?.i32()?,
        carrier: hits.column("carrier_id")?.i32()?,
        route: hits.column("route")?.i32()?,
        zone: hits.column("tariff_zone")?.i32()?,
        trips: hits.column("trips")?.i32()?,
        ov: hits.column("o_validator")?.i32()?,
        os: hits.column("o_seq")?.i64()?,
        ot: hits.column("o_t")?.i64()?,
        n: hits.column("n")?.i64()?,
        x: hits.column("x")?.i64()?,
    };
    let bursts = burst_runs(&c, th);
    let mut flags: Vec<Flag> = Vec::new();
    for i in 0..hits.height() {
        let (v, seq) = (c.v.get(i).unwrap_or(0), c.seq.get(i).unwrap_or(0));
        let Some(rule) = c.rule.get(i).and_then(Rule::from_id) else {
            continue;
        };
        let new = flags
            .last()
            .is_none_or(|f| f.validator != v || f.seq != seq);
        if new {
            flags.push(Flag {
                id: flag_id(v, seq),
                validator: v,
                seq,
                tapped_at_ms: c.t.get(i).unwrap_or(0),
                card: c.card.get(i).unwrap_or(0),
                uid: c.uid.get(i).unwrap_or("").to_string(),
                vehicle: c.vehicle.get(i).unwrap_or(0),
                carrier: c.carrier.get(i),
                route: c.route.get(i).unwrap_or(0),
                zone: c.zone.get(i),
                trips: c.trips.get(i),
                fare_kopecks: 0,
                rules: Vec::new(),
            });
        }
        let f = flags.last_mut().expect("just pushed");
        let other = match (c.ov.get(i), c.os.get(i), c.ot.get(i)) {
            (Some(a), Some(b), Some(t)) => Some((a, b, t)),
            _ => None,
        };
        let (n, x) = (c.n.get(i), c.x.get(i));
        let card = cards.get(&f.card);
        let (uk, en) = text(rule, f, other, n, x, card, bursts.get(&(v, seq)), clock);
        f.rules.push(Hit {
            rule,
            other,
            n,
            x,
            evidence_uk: uk,
            evidence_en: en,
            cleared: false,
            held: false,
            suspect: None,
        });
    }
    Ok(flags)
}

/// Each burst tap's run: (taps in the run, first time, last time).
fn burst_runs(c: &Cols<'_>, th: &Thresholds) -> FxHashMap<(i32, i64), (usize, i64, i64)> {
    let rows: Vec<(i32, i64, i64)> = (0..c.v.len())
        .filter(|&i| c.rule.get(i) == Some(Rule::DriverBurst as i32))
        .map(|i| {
            (
                c.v.get(i).unwrap_or(0),
                c.seq.get(i).unwrap_or(0),
                c.t.get(i).unwrap_or(0),
            )
        })
        .collect();
    let mut out = FxHashMap::default();
    let mut start = 0;
    for i in 0..=rows.len() {
        let breaks = i == rows.len()
            || (i > start
                && (rows[i].0 != rows[i - 1].0 || rows[i].2 - rows[i - 1].2 > th.burst_gap_ms));
        if breaks && i > start {
            let run = &rows[start..i];
            let (a, b) = (run[0].2, run[run.len() - 1].2);
            for r in run {
                out.insert((r.0, r.1), (run.len(), a, b));
            }
            start = i;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn text(
    rule: Rule,
    f: &Flag,
    other: Option<(i32, i64, i64)>,
    n: Option<i64>,
    x: Option<i64>,
    card: Option<&CardInfo>,
    burst: Option<&(usize, i64, i64)>,
    clock: &MonthClock,
) -> (String, String) {
    let t = f.tapped_at_ms;
    let o = other.map(|(v, s, ot)| (flag_id(v, s), kyiv(ot), span((t - ot).abs())));
    let n = n.unwrap_or(0);
    let x = x.unwrap_or(0);
    match rule {
        Rule::RepeatSameVehicle | Rule::ImpossibleTravel => {
            let (id, at, gap) = o.unwrap_or_default();
            if rule == Rule::RepeatSameVehicle {
                (
                    format!(
                        "попередня валідація {id} о {at}, {gap} тому, той самий ТЗ {}",
                        f.vehicle
                    ),
                    format!(
                        "previous tap {id} at {at}, {gap} earlier, same vehicle {}",
                        f.vehicle
                    ),
                )
            } else {
                (
                    format!("попередня валідація {id} о {at} в іншому ТЗ, лише {gap} тому"),
                    format!("previous tap {id} at {at} on another vehicle, only {gap} earlier"),
                )
            }
        }
        Rule::DriverBurst => {
            let (k, a, b) = burst.copied().unwrap_or((x as usize, t, t));
            (
                format!(
                    "{k} валідацій на валідаторі {} за {} ({}–{}); {n} з них — картками, що їздять лише такими пачками на цьому валідаторі",
                    f.validator,
                    span(b - a),
                    kyiv(a),
                    kyiv(b),
                ),
                format!(
                    "{k} taps on validator {} in {} ({}–{}); {n} of them by cards that ride only in such bursts on this validator",
                    f.validator,
                    span(b - a),
                    kyiv(a),
                    kyiv(b),
                ),
            )
        }
        Rule::SingleVehicleCard => (
            format!(
                "усі {n} валідацій картки за місяць — лише в ТЗ {}",
                f.vehicle
            ),
            format!(
                "all {n} of the card's taps this month on vehicle {} only",
                f.vehicle
            ),
        ),
        Rule::ExcessiveDailyUse => {
            let h = super::engine::DailyHabit::unpack(x);
            let date = clock.date_of_local_day(clock.local_day_ms(t));
            let days = clock.days();
            let (uk, en) = match h.habit {
                0 => (
                    format!("їздить лише {} з {days} днів", h.days),
                    format!("rides on {} of {days} days only", h.days),
                ),
                habit => (
                    format!("зазвичай {habit} на день, їздить {} з {days} днів", h.days),
                    format!("usually {habit} a day, riding on {} of {days} days", h.days),
                ),
            };
            (
                format!("{uk}; {n} за {date} (дозволено {} на день)", h.allowance),
                format!("{en}; {n} on {date} (allowance {} a day)", h.allowance),
            )
        }
        Rule::CardUnknown => (
            "картки немає в реєстрі".into(),
            "the card is not in the registry".into(),
        ),
        Rule::CardBlocked => {
            let reason = card
                .and_then(|c| c.block_reason.clone())
                .unwrap_or_default();
            (
                format!("заблокована ({reason}) з {}", kyiv(x)),
                format!("blocked ({reason}) from {}", kyiv(x)),
            )
        }
        Rule::CardExpired => {
            let (a, b) = card
                .map(|c| (c.valid_from.clone(), c.valid_to.clone()))
                .unwrap_or_default();
            (
                format!("картка дійсна з {a} по {b}"),
                format!("the card is valid from {a} to {b}"),
            )
        }
        Rule::HolderDeceased => {
            let d = card.and_then(|c| c.death_date.clone()).unwrap_or_default();
            (
                format!("власник помер {d}"),
                format!("the holder died on {d}"),
            )
        }
        Rule::OutsideServiceHours => {
            let tod = clock.local_ms(t).rem_euclid(super::engine::DAY_MS);
            (
                format!(
                    "о {} за Києвом; маршрут {} працює {}–{} (з допуском)",
                    hhmm(tod),
                    f.route,
                    hhmm(n),
                    hhmm(x)
                ),
                format!(
                    "at {} Kyiv time; route {} runs {}–{} (tolerance included)",
                    hhmm(tod),
                    f.route,
                    hhmm(n),
                    hhmm(x)
                ),
            )
        }
        Rule::RouteNotServed => {
            let carrier = f.carrier.map(|c| c.to_string()).unwrap_or_default();
            (
                format!("перевізник {carrier} не обслуговує маршрут {}", f.route),
                format!("carrier {carrier} does not serve route {}", f.route),
            )
        }
        Rule::ClonedUid => {
            let known = card.and_then(|c| c.uid.clone());
            match known {
                Some(u) => (
                    format!("UID {} замість зареєстрованого {u}", f.uid),
                    format!("UID {} instead of the registered {u}", f.uid),
                ),
                None => (
                    format!(
                        "UID {} відрізняється від першого UID картки цього місяця",
                        f.uid
                    ),
                    format!("UID {} differs from the card's first UID this month", f.uid),
                ),
            }
        }
        Rule::CounterBackwards => {
            let (id, at, _) = o.unwrap_or_default();
            let now = f.trips.unwrap_or(0);
            (
                format!("лічильник поїздок {now} після {x} на {id} о {at}"),
                format!("trip counter {now} after {x} at {id} ({at})"),
            )
        }
        Rule::ClockAnomaly => match n {
            1 | 2 => {
                let (id, at, gap) = o.unwrap_or_default();
                let (uk, en) = if n == 1 {
                    ("пізніше за наступну валідацію", "later than the next tap")
                } else {
                    (
                        "раніше за попередню валідацію",
                        "earlier than the previous tap",
                    )
                };
                (
                    format!("{uk} {id} ({at}) на {gap}"),
                    format!("{en} {id} ({at}) by {gap}"),
                )
            }
            3 => (
                format!("час у майбутньому: після отримання {}", kyiv(x)),
                format!("dated in the future: after it was received at {}", kyiv(x)),
            ),
            _ => (
                format!("час раніше за попереднє підключення валідатора {}", kyiv(x)),
                format!(
                    "dated before the validator's previous docking at {}",
                    kyiv(x)
                ),
            ),
        },
        Rule::TripLimit => (
            format!("поїздка {n} за місяць при ліміті {x}"),
            format!("trip {n} this month, limit {x}"),
        ),
        // The engine never fires it: `suspects::apply` writes its hits.
        Rule::ConfigSuspect => (String::new(), String::new()),
    }
}
