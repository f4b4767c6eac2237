//! Rule 3, a driver tapping a stack of cards, in its second step: of the
//! taps in burst windows (pass A of the engine finds them on each
//! validator), the runs that are one hand tapping a stack and not a queue
//! or a group boarding, told by the gaps between the taps and the cards'
//! own month.

use polars::prelude::*;

use super::engine::Thresholds;
use super::rule::Rule;

/// Each card's accepted taps in the month (not the context rows).
pub(super) type CardTotals = rustc_hash::FxHashMap<i64, u32>;

/// A frame's accepted taps per card (not the context rows): card_number,
/// n. Counted a chunk at a time, so no month-long column is kept.
pub(super) fn card_counts(df: &DataFrame) -> PolarsResult<DataFrame> {
    df.clone()
        .lazy()
        .filter(col("ctx").not())
        .group_by([col("card_number")])
        .agg([len().cast(DataType::UInt32).alias("n")])
        .collect()
}

/// The month's taps per card, from its chunks' `card_counts`.
pub(super) fn card_totals(counts: Vec<DataFrame>) -> PolarsResult<CardTotals> {
    let all = concat(
        counts.into_iter().map(|d| d.lazy()).collect::<Vec<_>>(),
        UnionArgs::default(),
    )?
    .group_by([col("card_number")])
    .agg([col("n").sum()])
    .collect()?;
    let card = all.column("card_number")?.i64()?;
    let n = all.column("n")?.u32()?;
    let mut totals = CardTotals::default();
    totals.reserve(all.height());
    for (c, n) in card.iter().zip(n.iter()) {
        if let (Some(c), Some(n)) = (c, n) {
            totals.insert(c, n);
        }
    }
    Ok(totals)
}

/// Rule 3's second step. `windows` are the taps in burst windows
/// (`burst_cards` taps on one validator within `burst_window_s`), in the
/// validator's order, with their `cards`. A run is a stretch of them on one
/// validator, each within `burst_gap_s` of the one before: one hand taps
/// a stack without pausing, so a passenger boarding 10 s beside it is a run
/// of their own. A run is a driver's stack when it has `burst_cards` taps
/// at least, its gaps are as even as a hand's (`even`), and at least
/// `burst_stack_share_pct` of its taps are on stack cards: cards with at
/// least `burst_card_min_taps` taps in the month of which at least
/// `burst_card_share_pct` are in burst windows on this validator (they ride
/// nowhere else, while a queue's passengers do). Children boarding a
/// school bus ride nowhere else too: a run at least half of whose taps are
/// by cards of holders under 18 (`minors`: card → their 18th birthday) is a
/// school group, not a stack. Evidence: `n` the run's taps on stack cards,
/// `x` its taps.
pub(super) fn driver_bursts(
    windows: &DataFrame,
    cards: &DataFrame,
    totals: &CardTotals,
    th: &Thresholds,
    minors: &rustc_hash::FxHashMap<i64, i64>,
) -> PolarsResult<DataFrame> {
    let rows = windows.column("_r")?.idx()?;
    let v: Vec<i32> = windows
        .column("validator_id")?
        .i32()?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect();
    let t: Vec<i64> = windows
        .column("t")?
        .i64()?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect();
    let card: Vec<i64> = cards
        .column("card_number")?
        .i64()?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect();
    let mut on_validator: rustc_hash::FxHashMap<(i32, i64), u32> = Default::default();
    for (v, c) in v.iter().zip(&card) {
        *on_validator.entry((*v, *c)).or_insert(0) += 1;
    }
    let stack: Vec<bool> = v
        .iter()
        .zip(&card)
        .map(|(v, c)| {
            let total = totals.get(c).copied().unwrap_or(0);
            let here = on_validator.get(&(*v, *c)).copied().unwrap_or(0);
            total >= th.burst_card_min_taps
                && u64::from(here) * 100 >= u64::from(total) * u64::from(th.burst_card_share_pct)
        })
        .collect();
    let (mut r, mut n, mut x) = (Vec::new(), Vec::new(), Vec::new());
    let mut start = 0;
    for i in 1..=v.len() {
        let breaks = i == v.len() || v[i] != v[i - 1] || t[i] - t[i - 1] > th.burst_gap_ms;
        if !breaks {
            continue;
        }
        let run = start..i;
        start = i;
        let stacked = stack[run.clone()].iter().filter(|s| **s).count();
        let children = run
            .clone()
            .filter(|&j| minors.get(&card[j]).is_some_and(|adult| t[j] < *adult))
            .count();
        if run.len() >= th.burst_cards as usize
            && children * 2 < run.len()
            && even(&t[run.clone()], th.burst_even_pct)
            && stacked as u64 * 100 >= run.len() as u64 * u64::from(th.burst_stack_share_pct)
        {
            for j in run.clone() {
                r.push(rows.get(j));
                n.push(stacked as i64);
                x.push(run.len() as i64);
            }
        }
    }
    DataFrame::new(
        r.len(),
        vec![
            IdxCa::from_iter_options("_r".into(), r.into_iter()).into_column(),
            Column::new("rule".into(), vec![Rule::DriverBurst as i32; n.len()]),
            IdxCa::full_null("o_r".into(), n.len()).into_column(),
            Column::new("n".into(), n),
            Column::new("x".into(), x),
        ],
    )
}

/// Whether the gaps between the times `t` (in order) are as even as one
/// hand tapping: their standard deviation at most `pct` % of their mean,
/// in integers (n Σg² − (Σg)² ≤ (pct/100)² (Σg)², n gaps), as the SQL
/// peers compute it.
pub fn even(t: &[i64], pct: u32) -> bool {
    let gaps: Vec<i128> = t.windows(2).map(|w| i128::from(w[1] - w[0])).collect();
    let n = gaps.len() as i128;
    let s1: i128 = gaps.iter().sum();
    let s2: i128 = gaps.iter().map(|g| g * g).sum();
    n > 0 && 10_000 * (n * s2 - s1 * s1) <= i128::from(pct) * i128::from(pct) * s1 * s1
}

#[cfg(test)]
mod tests {
    use super::even;

    #[test]
    fn a_hands_gaps_are_even_and_a_groups_are_not() {
        // 2.0–3.0 s apart, as one hand taps a stack.
        let hand = [0, 2_400, 4_600, 7_300, 9_700, 12_100, 14_900, 17_200];
        assert!(even(&hand, 35));
        // Children at a door: 1 s, then 6 s, then 2 s ...
        let group = [0, 1_000, 7_000, 9_000, 9_800, 15_000, 16_200, 22_000];
        assert!(!even(&group, 35));
        // Exactly at the edge: gaps 1 and 3 (mean 2, deviation 1) are even
        // at 50 % and not below.
        assert!(even(&[0, 1, 4], 50));
        assert!(!even(&[0, 1, 4], 49));
        // One tap has no gaps to judge.
        assert!(!even(&[5], 35));
    }
}
