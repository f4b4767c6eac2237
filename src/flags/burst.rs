//! Rule 3, a driver tapping a stack of cards, in its second step: of the
//! taps in burst windows (pass A of the engine finds them on each
//! validator), the runs that are a stack and not a queue boarding at a
//! busy stop, told by the cards' own month.

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
/// validator, each within the window of the one before. A queue boarding
/// at a busy stop makes such runs too; what tells a driver tapping a stack
/// of cards is the cards' own lives: a stack card has at least
/// `burst_card_min_taps` taps in the month and at least
/// `burst_card_share_pct` of them in burst windows on this validator (it
/// rides nowhere else), while a queue's passengers ride elsewhere too. A
/// run is flagged when at least `burst_stack_share_pct` of its taps are on
/// stack cards. Evidence: `n` the run's taps on stack cards, `x` its taps.
pub(super) fn driver_bursts(
    windows: &DataFrame,
    cards: &DataFrame,
    totals: &CardTotals,
    th: &Thresholds,
) -> PolarsResult<DataFrame> {
    let rows = windows.column("_r")?.idx()?;
    let v: Vec<i32> = windows
        .column("validator_id")?
        .i32()?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect();
    let t = windows.column("t")?.i64()?;
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
        let breaks = i == v.len()
            || v[i] != v[i - 1]
            || t.get(i).unwrap_or(0) - t.get(i - 1).unwrap_or(0) > th.burst_window_ms;
        if !breaks {
            continue;
        }
        let run = start..i;
        let stacked = stack[run.clone()].iter().filter(|s| **s).count();
        if stacked as u64 * 100 >= run.len() as u64 * u64::from(th.burst_stack_share_pct) {
            for j in run.clone() {
                r.push(rows.get(j));
                n.push(stacked as i64);
                x.push(run.len() as i64);
            }
        }
        start = i;
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
