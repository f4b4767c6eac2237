//! Rule 2 in the month's network: a quick change the network explains is a
//! transfer, not impossible travel.
//!
//! The engine finds every quick change (a card on another vehicle sooner
//! than `transfer_min_s` after its previous counted tap). Over the whole
//! month, each directed route pair's changes are counted: a pair is a
//! **hub** when at least `hub_cards` different cards change on it, on at
//! least `hub_days` Kyiv days, and at least `hub_regulars` of them on two
//! days or more; a hub explains the changes of the cards that change there
//! on two days or more (people on their way), not a card's one change.
//! `[[flags.transfers]]` names known hubs: any change between their routes
//! within `max_change_s`. At least `breakdown_cards` different cards
//! changing from one vehicle to one other within half an hour is a
//! **breakdown transfer**. A change either explains is not flagged, unless
//! it is faster than half of the pair's `hub_floor_pct` percentile (faster
//! than any honest changer there) or the card goes back to the vehicle it
//! left (alternating between two). What stays flagged carries why in its
//! evidence.

use polars::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::engine::MonthClock;
use super::{Flag, FlagSettings, Rule};

/// Why a quick change stays impossible travel (the hit's `n`).
const ALTERNATING: i64 = 1;
const UNKNOWN_PAIR: i64 = 2;
const TOO_FAST: i64 = 3;
const ONCE: i64 = 4;

/// One directed route pair's quick changes in the month.
#[derive(Debug, Clone, Default)]
pub struct Pair {
    pub cards: usize,
    pub days: usize,
    /// Cards changing on the pair on two days or more.
    pub regulars: usize,
    /// The changes' durations, milliseconds, shortest first.
    pub gaps: Vec<i64>,
    /// A learnt hub.
    pub hub: bool,
    /// The longest change a `[[flags.transfers]]` entry allows, if one
    /// names the pair.
    pub known_ms: Option<i64>,
}

impl Pair {
    /// The shortest change an honest changer makes on the pair: half the
    /// `pct` percentile of its changes.
    fn floor_ms(&self, pct: u32) -> i64 {
        let i = self.gaps.len() * pct as usize / 100;
        self.gaps.get(i).copied().unwrap_or(0) / 2
    }
}

/// A hub of the month, as the summary lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hub {
    pub from_route: i32,
    pub to_route: i32,
    pub cards: usize,
    pub days: usize,
    /// The changes' range, seconds (5th to 95th percentile).
    pub low_s: i64,
    pub high_s: i64,
    /// Named in `[[flags.transfers]]`.
    pub known: bool,
    /// The changes the hub explained (not flagged).
    pub transfers: usize,
}

/// The month's network of changes.
#[derive(Debug, Default)]
pub struct Network {
    pub pairs: FxHashMap<(i32, i32), Pair>,
    pub hubs: Vec<Hub>,
    /// Changes explained as breakdown transfers.
    pub breakdowns: usize,
    floor_pct: u32,
}

/// One quick change, as the network weighs it.
struct Change {
    row: usize,
    t: i64,
    card: i64,
    day: i64,
    gap: i64,
    pair: (i32, i32),
    vehicles: (i32, i32),
    alternating: bool,
}

fn changes(hits: &DataFrame, clock: &MonthClock) -> PolarsResult<Vec<Change>> {
    let rule = hits.column("rule")?.i32()?;
    let card = hits.column("card_number")?.i64()?;
    let t = hits.column("t")?.i64()?;
    let ot = hits.column("o_t")?.i64()?;
    let route = hits.column("route")?.i32()?;
    let o_route = hits.column("o_route")?.i32()?;
    let vehicle = hits.column("vehicle_id")?.i32()?;
    let o_vehicle = hits.column("o_vehicle")?.i32()?;
    let n = hits.column("n")?.i64()?;
    Ok((0..hits.height())
        .filter(|&i| rule.get(i) == Some(Rule::ImpossibleTravel as i32))
        .map(|i| {
            let at = t.get(i).unwrap_or(0);
            Change {
                row: i,
                t: at,
                card: card.get(i).unwrap_or(0),
                day: clock.local_day_ms(at),
                gap: at - ot.get(i).unwrap_or(at),
                pair: (o_route.get(i).unwrap_or(0), route.get(i).unwrap_or(0)),
                vehicles: (o_vehicle.get(i).unwrap_or(0), vehicle.get(i).unwrap_or(0)),
                alternating: n.get(i) == Some(ALTERNATING),
            }
        })
        .collect())
}

fn learn(changes: &[Change], settings: &FlagSettings) -> FxHashMap<(i32, i32), Pair> {
    let mut seen: FxHashMap<(i32, i32), FxHashMap<i64, FxHashSet<i64>>> = FxHashMap::default();
    let mut pairs: FxHashMap<(i32, i32), Pair> = FxHashMap::default();
    for c in changes.iter().filter(|c| !c.alternating) {
        seen.entry(c.pair)
            .or_default()
            .entry(c.card)
            .or_default()
            .insert(c.day);
        pairs.entry(c.pair).or_default().gaps.push(c.gap);
    }
    for (key, cards) in seen {
        let p = pairs.get_mut(&key).expect("counted with its cards");
        p.gaps.sort_unstable();
        p.cards = cards.len();
        p.days = cards.values().flatten().collect::<FxHashSet<_>>().len();
        p.regulars = cards.values().filter(|d| d.len() >= 2).count();
        p.hub = p.cards >= settings.hub_cards as usize
            && p.days >= settings.hub_days as usize
            && p.regulars >= settings.hub_regulars as usize;
    }
    for (key, p) in pairs.iter_mut() {
        p.known_ms = settings.known_transfer_ms(key.0, key.1);
    }
    pairs
}

/// Drops from `hits` the quick changes the month's network explains, and
/// marks why each one left is not a transfer (its `n`).
pub fn judge(
    hits: DataFrame,
    settings: &FlagSettings,
    clock: &MonthClock,
) -> PolarsResult<(DataFrame, Network)> {
    let changes = changes(&hits, clock)?;
    let pairs = learn(&changes, settings);
    // Breakdowns: many cards from one vehicle to one other in a day.
    let broken = breakdowns(&changes, settings);
    let mut regs: FxHashMap<((i32, i32), i64), FxHashSet<i64>> = FxHashMap::default();
    for c in changes.iter().filter(|c| !c.alternating) {
        regs.entry((c.pair, c.card)).or_default().insert(c.day);
    }
    let mut keep = vec![true; hits.height()];
    let mut why: Vec<Option<i64>> = hits.column("n")?.i64()?.iter().collect();
    let mut explained: FxHashMap<(i32, i32), usize> = FxHashMap::default();
    let mut breakdowns = 0;
    for c in &changes {
        // A pair whose only changes alternate has no statistics.
        let p = pairs.get(&c.pair).cloned().unwrap_or_default();
        let too_fast = c.gap < p.floor_ms(settings.hub_floor_pct);
        // A hub explains the changes of the cards that change there on
        // their way, on two days or more.
        let regular = regs.get(&(c.pair, c.card)).is_some_and(|d| d.len() >= 2);
        let by_hub = !too_fast && ((p.hub && regular) || p.known_ms.is_some_and(|ms| c.gap <= ms));
        let by_breakdown = broken.contains(&c.row);
        if c.alternating {
            why[c.row] = Some(ALTERNATING);
        } else if by_hub {
            keep[c.row] = false;
            *explained.entry(c.pair).or_default() += 1;
        } else if by_breakdown {
            keep[c.row] = false;
            breakdowns += 1;
        } else {
            why[c.row] = Some(match (p.hub || p.known_ms.is_some(), too_fast) {
                (true, true) => TOO_FAST,
                (true, false) if p.hub => ONCE,
                _ => UNKNOWN_PAIR,
            });
        }
    }
    // The pair's first route, for the evidence.
    let mut from: Vec<Option<i64>> = hits.column("x")?.i64()?.iter().collect();
    for c in &changes {
        from[c.row] = Some(i64::from(c.pair.0));
    }
    let mut hits = hits;
    hits.with_column(Column::new("n".into(), why))?;
    hits.with_column(Column::new("x".into(), from))?;
    let hits = hits.filter(&BooleanChunked::from_slice("_keep".into(), &keep))?;
    let mut hubs: Vec<Hub> = pairs
        .iter()
        .filter(|(_, p)| p.hub || p.known_ms.is_some())
        .map(|(&(from, to), p)| Hub {
            from_route: from,
            to_route: to,
            cards: p.cards,
            days: p.days,
            low_s: percentile(&p.gaps, 5) / 1000,
            high_s: percentile(&p.gaps, 95) / 1000,
            known: p.known_ms.is_some(),
            transfers: explained.get(&(from, to)).copied().unwrap_or(0),
        })
        .collect();
    hubs.sort_by_key(|h| (h.from_route, h.to_route));
    Ok((
        hits,
        Network {
            pairs,
            hubs,
            breakdowns,
            floor_pct: settings.hub_floor_pct,
        },
    ))
}

/// How close together a breakdown's passengers change: within half an
/// hour either side of each other.
pub const BREAKDOWN_WINDOW_MS: i64 = 30 * 60_000;

/// The changes (rows) that are part of a breakdown transfer: at least
/// `breakdown_cards` different cards changing from one vehicle to one
/// other within `BREAKDOWN_WINDOW_MS` of each other.
fn breakdowns(changes: &[Change], settings: &FlagSettings) -> FxHashSet<usize> {
    // (time, card, row) of each vehicle pair's changes.
    type Moves = Vec<(i64, i64, usize)>;
    let mut groups: FxHashMap<(i32, i32), Moves> = FxHashMap::default();
    for c in changes.iter().filter(|c| !c.alternating) {
        groups
            .entry(c.vehicles)
            .or_default()
            .push((c.t, c.card, c.row));
    }
    let mut out = FxHashSet::default();
    for g in groups.values_mut() {
        g.sort_unstable();
        for (i, &(t, _, row)) in g.iter().enumerate() {
            let lo = g[..i].partition_point(|x| x.0 < t - BREAKDOWN_WINDOW_MS);
            let hi = i + g[i..].partition_point(|x| x.0 <= t + BREAKDOWN_WINDOW_MS);
            let cards: FxHashSet<i64> = g[lo..hi].iter().map(|x| x.1).collect();
            if cards.len() >= settings.breakdown_cards as usize {
                out.insert(row);
            }
        }
    }
    out
}

fn percentile(sorted: &[i64], pct: usize) -> i64 {
    match sorted.len() {
        0 => 0,
        n => sorted[(n * pct / 100).min(n - 1)],
    }
}

impl Network {
    /// Adds to each impossible-travel hit of `flags` why the network does
    /// not explain it.
    pub fn describe(&self, flags: &mut [Flag]) {
        for f in flags {
            let route = f.route;
            for h in f.rules.iter_mut() {
                if h.rule != Rule::ImpossibleTravel {
                    continue;
                }
                let from = h.x.map_or(0, |x| x as i32);
                let (uk, en) = self.context(h.n, from, route);
                h.evidence_uk = format!("{}; {uk}", h.evidence_uk);
                h.evidence_en = format!("{}; {en}", h.evidence_en);
                h.n = None;
            }
        }
    }

    fn context(&self, why: Option<i64>, from: i32, to: i32) -> (String, String) {
        let p = self.pairs.get(&(from, to)).cloned().unwrap_or_default();
        let (low, high) = (
            percentile(&p.gaps, 5) / 1000,
            percentile(&p.gaps, 95) / 1000,
        );
        let others = p.cards.saturating_sub(1);
        match why {
            Some(ALTERNATING) => (
                format!(
                    "картка повертається до ТЗ, з якого пересіла (маршрути {from}→{to}): пересадка так не робиться"
                ),
                format!(
                    "the card goes back to the vehicle it left (routes {from}→{to}): no transfer does that"
                ),
            ),
            Some(TOO_FAST) => (
                format!(
                    "пара маршрутів {from}→{to}: {} карток пересідають за {low}–{high} с цього місяця, жодна чесна не швидше {} с",
                    p.cards,
                    p.floor_ms(self.floor_pct) / 1000
                ),
                format!(
                    "route pair {from}→{to}: {} cards change in {low}–{high} s this month, no honest change is faster than {} s",
                    p.cards,
                    p.floor_ms(self.floor_pct) / 1000
                ),
            ),
            Some(ONCE) => (
                format!(
                    "пара маршрутів {from}→{to} — пересадковий вузол ({} карток пересідають за {low}–{high} с цього місяця), але ця картка пересіла так лише одного дня",
                    p.cards
                ),
                format!(
                    "route pair {from}→{to} is a hub ({} cards change in {low}–{high} s this month), but this card changed so on one day only",
                    p.cards
                ),
            ),
            _ => (
                format!(
                    "пара маршрутів {from}→{to} — не пересадковий вузол: {others} інших карток пересідали так цього місяця, {} з них більше одного дня",
                    p.regulars
                ),
                format!(
                    "route pair {from}→{to} is no hub: {others} other cards changed so this month, {} of them on more than one day",
                    p.regulars
                ),
            ),
        }
    }
}
