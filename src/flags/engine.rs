//! The rules, as polars lazy plans over one month of taps.
//!
//! Three sorted passes, each materialised once (no common-subplan
//! elimination is compiled in, so a shared plan would be run twice):
//!
//! - **A**, by (validator, seq), the order the validator logged the taps
//!   in: the clock rule (a tap out of time order with both its neighbours,
//!   past its docking, or before the validator's previous docking); then,
//!   on the taps whose time can be trusted, the burst rule (`burst_cards`
//!   taps within `burst_window_s`; the validator refuses a card's second tap
//!   within its repeat timeout, so they are distinct cards).
//! - **B**, by (card, vehicle, time): the repeat rule (P13, per vehicle,
//!   whichever of its validators), and the row-wise rules over the
//!   date-aware join with the registry's cards (unknown, blocked, expired,
//!   holder deceased, registered UID), the carriers' routes and the
//!   routes' service hours.
//! - **C**, by (card, time), on the counted taps (not repeats): another
//!   vehicle too soon, the trip counter going backwards, a second UID when
//!   the registry has none, and the per-card and per-day counts (single
//!   vehicle, excessive daily use, trip limit), computed with forward and
//!   backward fills over the sorted rows instead of group-bys.
//!
//! Taps whose time cannot be trusted (rule 9) are judged by that rule only.
//! Taps of the previous month's last hours come in as context: they can be
//! the earlier tap of a repeat or a transfer, but are never flagged here.
//! Days are Kyiv days: the month's UTC offset (and its one DST change, if
//! any) is applied in integer milliseconds.

use polars::prelude::*;

use super::rule::Rule;

pub use crate::time::{DAY_MS, MonthClock};

use super::burst::{CardTotals, card_counts, card_totals, driver_bursts};

/// The thresholds in milliseconds, as the engine uses them.
#[derive(Debug, Clone)]
pub struct Thresholds {
    pub repeat_ms: i64,
    pub transfer_ms: i64,
    pub burst_cards: u32,
    pub burst_window_ms: i64,
    pub burst_card_min_taps: u32,
    pub burst_card_share_pct: u32,
    pub burst_stack_share_pct: u32,
    pub burst_gap_ms: i64,
    pub burst_even_pct: u32,
    pub single_vehicle_min_taps: u32,
    pub daily_max: u32,
    pub daily_habit_pct: u32,
    /// The default service day, milliseconds after Kyiv midnight, with the
    /// tolerance already applied.
    pub open_ms: i64,
    pub close_ms: i64,
    pub clock_tolerance_ms: i64,
}

impl Thresholds {
    pub fn from_settings(s: &super::FlagSettings, dock_repeat_s: u16) -> Thresholds {
        let tol = i64::from(s.service_tolerance_min) * 60_000;
        let m = |t: &str| i64::from(super::settings::minutes(t).unwrap_or(0)) * 60_000;
        Thresholds {
            repeat_ms: i64::from(s.repeat_timeout_s.unwrap_or(u32::from(dock_repeat_s))) * 1000,
            transfer_ms: i64::from(s.transfer_min_s) * 1000,
            burst_cards: s.burst_cards,
            burst_window_ms: i64::from(s.burst_window_s) * 1000,
            burst_card_min_taps: s.burst_card_min_taps,
            burst_card_share_pct: s.burst_card_share_pct,
            burst_stack_share_pct: s.burst_stack_share_pct,
            burst_gap_ms: i64::from(s.burst_gap_s) * 1000,
            burst_even_pct: s.burst_even_pct,
            single_vehicle_min_taps: s.single_vehicle_min_taps,
            daily_max: s.daily_max,
            daily_habit_pct: s.daily_habit_pct,
            open_ms: m(&s.service_start) - tol,
            close_ms: m(&s.service_end) + tol,
            clock_tolerance_ms: i64::from(s.clock_tolerance_s) * 1000,
        }
    }

    /// How far back into the previous month a rule may look.
    pub fn context_ms(&self) -> i64 {
        self.repeat_ms
            .max(self.transfer_ms)
            .max(self.burst_window_ms)
            .max(self.clock_tolerance_ms)
    }
}

/// Reference tables from the registry and the configuration.
#[derive(Clone)]
pub struct Refs {
    /// card_number i64, reg_uid str?, valid_from_ms i64, valid_until_ms i64
    /// (exclusive), blocked_ms i64?, death_ms i64?, trip_limit i64?,
    /// day_limit i64 (the taps a day the card may make before its own
    /// habit is asked, `refs::daily_allowance`)
    pub cards: DataFrame,
    /// carrier_id i32, route i32, served bool: the routes each carrier serves.
    pub served: DataFrame,
    /// route i32, open_ms i64, close_ms i64 (tolerance applied): routes with
    /// their own service day.
    pub hours: DataFrame,
    /// batch i64, received_ms i64: when each batch reached the store.
    pub batches: DataFrame,
    /// validator_id i32, seq i64, dock_ms i64: at each docking (UTC ms) the
    /// validator's next sequence number; a tap numbered from it on was
    /// made after that docking.
    pub docks: DataFrame,
    /// Now, UTC milliseconds: no tap may be later.
    pub now_ms: i64,
    /// The cards of holders under 18 in the last years: card number → the
    /// Kyiv midnight of the holder's 18th birthday (a school group's cards).
    pub minors: std::sync::Arc<rustc_hash::FxHashMap<i64, i64>>,
}

/// The taps the rules flagged, one row per tap and rule. Columns:
/// validator_id i32, seq i64, rule i32, t i64, card_number i64, card_uid
/// str, vehicle_id i32, carrier_id i32, route i32, tariff_zone i32, trips i32,
/// o_validator i32, o_seq i64, o_t i64, o_vehicle i32, o_route i32 (the
/// other tap, where there is one), n i64 (a count), x i64 (a reference
/// figure).
pub const HIT_COLUMNS: [&str; 18] = [
    "validator_id",
    "seq",
    "rule",
    "t",
    "card_number",
    "card_uid",
    "vehicle_id",
    "carrier_id",
    "route",
    "tariff_zone",
    "trips",
    "o_validator",
    "o_seq",
    "o_t",
    "o_vehicle",
    "o_route",
    "n",
    "x",
];

/// What a rule records besides the tap (`_r`, its row in the month): the
/// other tap's row, a count, a reference figure.
struct Evidence {
    o_r: Expr,
    n: Expr,
    x: Expr,
}

impl Evidence {
    fn none() -> Evidence {
        Evidence {
            o_r: lit(NULL),
            n: lit(NULL),
            x: lit(NULL),
        }
    }
    fn prev() -> Evidence {
        Evidence {
            o_r: col("_r").shift(lit(1)),
            ..Evidence::none()
        }
    }
}

/// `cond`'s rows of `lf` (outside the context) as hits of `rule`:
/// `_r`, `rule`, `o_r`, `n`, `x`. Evidence expressions are evaluated
/// before the filter, so shifts see neighbours.
fn hits(lf: LazyFrame, rule: Rule, cond: Expr, e: Evidence) -> LazyFrame {
    lf.with_columns([
        cond.fill_null(lit(false)).alias("_hit"),
        e.o_r.cast(IDX_DTYPE).alias("o_r"),
        e.n.cast(DataType::Int64).alias("n"),
        e.x.cast(DataType::Int64).alias("x"),
    ])
    .filter(col("_hit").and(col("ctx").not()))
    .select([
        col("_r"),
        lit(rule as i32).alias("rule"),
        col("o_r"),
        col("n"),
        col("x"),
    ])
}

fn same(c: &str, n: i64) -> Expr {
    col(c).shift(lit(n)).eq(col(c)).fill_null(lit(false))
}

fn ffill(e: Expr) -> Expr {
    e.fill_null_with_strategy(FillNullStrategy::Forward(None))
}

fn bfill(e: Expr) -> Expr {
    e.fill_null_with_strategy(FillNullStrategy::Backward(None))
}

/// The taps the engine reads: accepted taps of the store's schema, with
/// `ctx` true for the previous month's context rows.
pub fn prepare(taps: LazyFrame, ctx: bool) -> LazyFrame {
    use DataType::*;
    taps.filter(col("result").eq(lit("accepted"))).select([
        col("tapped_at").cast(Int64).alias("t"),
        col("validator_id").cast(Int32),
        col("seq").cast(Int64),
        col("card_number").cast(Int64),
        col("card_uid").cast(String),
        col("vehicle_id").cast(Int32),
        col("carrier_id").cast(Int32),
        col("route").cast(Int32),
        col("tariff_zone").cast(Int32),
        col("trips").cast(Int32),
        col("batch").cast(Int64),
        lit(ctx).alias("ctx"),
    ])
}

fn cols(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|c| col(*c)).collect()
}

/// A (carrier, route) pair as one key.
fn served_key(carrier: Expr, route: Expr) -> Expr {
    carrier.cast(DataType::Int64) * lit(1i64 << 32) + route.cast(DataType::Int64)
}

/// What `run` found.
pub struct Judged {
    /// The accepted taps of the month judged.
    pub taps: usize,
    /// One row per tap and rule (`HIT_COLUMNS`), by validator, seq, rule.
    pub hits: DataFrame,
    /// Each validator's taps per Kyiv day, route and hour: validator_id
    /// i32, day i64 (its Kyiv midnight in wall-clock ms,
    /// `MonthClock::local_day`), route i32, hour i8 (Kyiv), taps u32: what
    /// a configuration suspect is measured against.
    pub days: DataFrame,
}

/// Runs every rule. `input` is the month's taps and their context, each
/// `prepare`d, in chunks.
///
/// With `parts` above 1 the month is judged in that many slices, so memory
/// is bounded by a slice (and a chunk), not the month: the validator rules
/// slice by validator, the card rules by card number (every rule looks at
/// one validator's or one card's taps only). The month is read once, a
/// chunk at a time, and spilled into `spill_dir` cut both ways
/// (`flags::spill`); each slice reads its own file. The taps whose time cannot be
/// trusted are carried from the first kind of slice to the second as
/// (validator, seq) keys. One part reads the month once and keeps it.
pub fn run(
    input: &[LazyFrame],
    refs: &Refs,
    th: &Thresholds,
    clock: &MonthClock,
    parts: u32,
    spill_dir: &std::path::Path,
) -> PolarsResult<Judged> {
    let timing = std::env::var_os("KARTKA_FLAG_TIMING").is_some();
    let started = std::time::Instant::now();
    let lap = |what: &str| {
        if timing {
            super::timing_line(started, what);
        }
    };
    let mut out: Vec<DataFrame> = Vec::new();
    let mut days: Vec<DataFrame> = Vec::new();
    let mut taps_read = 0;
    if parts <= 1 {
        let base = concat(input, UnionArgs::default())?
            .with_row_index("_r", None)
            .collect()?;
        lap("read");
        let totals = card_totals(vec![card_counts(&base)?])?;
        let (n, hits, trusted) = validator_stage(&base, &totals, refs, th, &lap)?;
        taps_read += n;
        days.push(validator_days(&base, clock)?);
        out.push(gather(&base, hits)?);
        out.push(gather(
            &base,
            card_stage(&base, &trusted, refs, th, clock, &lap)?,
        )?);
    } else {
        let (spill, cards) = super::spill::Spill::write(input, parts, spill_dir)?;
        lap("month read once, spilled by validator and by card");
        let mut untrusted: rustc_hash::FxHashSet<(i32, i64)> = Default::default();
        let totals = card_totals(cards)?;
        lap("cards' month totals");
        for i in 0..parts {
            let base = spill.read(super::spill::By::Validator, i)?;
            let (n, hits, trusted) = validator_stage(&base, &totals, refs, th, &lap)?;
            taps_read += n;
            days.push(validator_days(&base, clock)?);
            let v = base.column("validator_id")?.i32()?;
            let seq = base.column("seq")?.i64()?;
            for (r, ok) in trusted.iter().enumerate() {
                if ok == Some(false) {
                    untrusted.insert((v.get(r).unwrap_or(0), seq.get(r).unwrap_or(0)));
                }
            }
            out.push(gather(&base, hits)?);
        }
        for i in 0..parts {
            let base = spill.read(super::spill::By::Card, i)?;
            // The slice's own cards of the registry: every join of the
            // card passes builds on a ninth of the table, not all of it.
            let refs = &Refs {
                cards: super::spill::cut(&refs.cards, "card_number", parts, i)?,
                ..refs.clone()
            };
            let v = base.column("validator_id")?.i32()?;
            let seq = base.column("seq")?.i64()?;
            let trusted: BooleanChunked = v
                .iter()
                .zip(seq.iter())
                .map(|(v, s)| Some(!untrusted.contains(&(v.unwrap_or(0), s.unwrap_or(0)))))
                .collect();
            out.push(gather(
                &base,
                card_stage(&base, &trusted, refs, th, clock, &lap)?,
            )?);
        }
    }
    let mut all = out.into_iter();
    let mut hits = all.next().expect("one part at least");
    for p in all {
        hits.vstack_mut_owned(p)?;
    }
    // One chunk per column: a sliced month stacks hundreds of small parts,
    // and sorting or reading them chunk by chunk costs seconds.
    hits.rechunk_mut();
    let hits = hits.sort(
        ["validator_id", "seq", "rule"],
        SortMultipleOptions::default(),
    )?;
    lap("hits gathered");
    let mut all = days.into_iter();
    let mut days = all.next().expect("one part at least");
    for d in all {
        days.vstack_mut_owned(d)?;
    }
    Ok(Judged {
        taps: taps_read,
        hits,
        days,
    })
}

/// The month's taps of `base` per validator, Kyiv day, route and Kyiv
/// hour (what a configuration suspect's share is measured against: a
/// validator's day, or a route's hour band).
fn validator_days(base: &DataFrame, clock: &MonthClock) -> PolarsResult<DataFrame> {
    let local = clock.local(col("t"));
    base.clone()
        .lazy()
        .filter(col("ctx").not())
        .group_by([
            col("validator_id"),
            clock.local_day(col("t")).alias("day"),
            col("route"),
            ((local % lit(DAY_MS)) / lit(3_600_000i64))
                .cast(DataType::Int8)
                .alias("hour"),
        ])
        .agg([len().alias("taps")])
        .collect()
}

/// Pass A over `base`, a whole number of validators' taps: the clock and
/// burst hits, the accepted taps of the month in it, and which rows' time
/// can be trusted.
fn validator_stage(
    base: &DataFrame,
    totals: &CardTotals,
    refs: &Refs,
    th: &Thresholds,
    lap: &dyn Fn(&str),
) -> PolarsResult<(usize, Vec<DataFrame>, BooleanChunked)> {
    let ctx = base.column("ctx")?.bool()?;
    let taps_read = ctx.len() - ctx.sum().unwrap_or(0) as usize;
    let tol = th.clock_tolerance_ms;
    let mut parts: Vec<DataFrame> = Vec::new();

    // Pass A: the validator's own order, with each docking as a row just
    // before the first tap numbered after it.
    // One i64 key orders (validator, seq) with each docking just before
    // the first tap numbered from it: validator << 41 | seq << 1 | is-tap.
    let key = |mark: bool| {
        (col("validator_id").cast(DataType::Int64) * lit(1i64 << 41))
            + col("seq").cast(DataType::Int64) * lit(2i64)
            + lit(i64::from(!mark))
    };
    let marks = refs.docks.clone().lazy().select([
        lit(NULL).cast(IDX_DTYPE).alias("_r"),
        lit(NULL).cast(DataType::Int64).alias("t"),
        col("validator_id").cast(DataType::Int32),
        lit(true).alias("ctx"),
        lit(NULL).cast(DataType::Int64).alias("received_ms"),
        col("dock_ms").cast(DataType::Int64),
        lit(true).alias("_mark"),
        key(true).alias("_key"),
    ]);
    let a_in = base
        .clone()
        .lazy()
        .select(cols(&["_r", "t", "validator_id", "seq", "batch", "ctx"]))
        .left_join(refs.batches.clone().lazy(), col("batch"), col("batch"))
        .select([
            col("_r"),
            col("t"),
            col("validator_id"),
            col("ctx"),
            col("received_ms").cast(DataType::Int64),
            lit(NULL).cast(DataType::Int64).alias("dock_ms"),
            lit(false).alias("_mark"),
            key(false).alias("_key"),
        ]);
    let a_all = if refs.docks.height() > 0 {
        concat([a_in, marks], UnionArgs::default())?
    } else {
        a_in
    };
    let a = a_all
        .sort(["_key"], SortMultipleOptions::default())
        .with_columns([
            ffill(when(col("_mark")).then(col("dock_ms")).otherwise(lit(NULL))).alias("_dock"),
            ffill(
                when(col("_mark"))
                    .then(col("validator_id"))
                    .otherwise(lit(NULL)),
            )
            .alias("_dock_v"),
        ])
        .filter(col("_mark").not())
        .with_columns([when(col("_dock_v").eq(col("validator_id")))
            .then(col("_dock"))
            .otherwise(lit(NULL))
            .alias("prev_dock_ms")])
        .with_columns([
            when(same("validator_id", 1))
                .then(col("t").shift(lit(1)))
                .otherwise(lit(NULL))
                .alias("_p"),
            when(same("validator_id", -1))
                .then(col("t").shift(lit(-1)))
                .otherwise(lit(NULL))
                .alias("_n"),
        ])
        // A tap is out of time order when its two neighbours agree with
        // each other and it does not fit between them.
        .with_columns([col("_p")
            .is_not_null()
            .and(col("_n").is_not_null())
            .and(col("_p").lt_eq(col("_n") + lit(tol)))
            .alias("_consistent")])
        .with_columns([
            // 1 ahead of the next tap, 2 behind the previous one, 3 after
            // it reached the store (or now), 4 before the previous docking.
            when(col("_consistent").and(col("t").gt(col("_n") + lit(tol))))
                .then(lit(1i64))
                .when(col("_consistent").and(col("t").lt(col("_p") - lit(tol))))
                .then(lit(2i64))
                .when(
                    col("t").gt(lit(refs.now_ms + tol)).or(col("received_ms")
                        .is_not_null()
                        .and(col("t").gt(col("received_ms") + lit(tol)))),
                )
                .then(lit(3i64))
                .when(
                    col("prev_dock_ms")
                        .is_not_null()
                        .and(col("t").lt(col("prev_dock_ms") - lit(tol))),
                )
                .then(lit(4i64))
                .otherwise(lit(NULL))
                .cast(DataType::Int64)
                .alias("_clock"),
        ])
        .select(cols(&[
            "_r",
            "t",
            "validator_id",
            "ctx",
            "_clock",
            "received_ms",
            "prev_dock_ms",
        ]))
        .collect()?;
    lap("pass A sorted (validator, seq), clock rule");
    parts.push(
        hits(
            a.clone().lazy(),
            Rule::ClockAnomaly,
            col("_clock").is_not_null(),
            Evidence {
                o_r: when(col("_clock").eq(lit(1i64)))
                    .then(col("_r").shift(lit(-1)))
                    .when(col("_clock").eq(lit(2i64)))
                    .then(col("_r").shift(lit(1)))
                    .otherwise(lit(NULL)),
                n: col("_clock"),
                x: when(col("_clock").eq(lit(3i64)))
                    .then(col("received_ms").fill_null(lit(refs.now_ms)))
                    .when(col("_clock").eq(lit(4i64)))
                    .then(col("prev_dock_ms"))
                    .otherwise(lit(NULL)),
            },
        )
        .collect()?,
    );
    // Burst: the row `burst_cards - 1` back on the same validator is within
    // the window; every row of such a window is flagged.
    let k = i64::from(th.burst_cards);
    let window_end = same("validator_id", k - 1)
        .and((col("t") - col("t").shift(lit(k - 1))).lt_eq(lit(th.burst_window_ms)));
    let in_burst = (0..k)
        .map(|d| window_end.clone().shift(lit(-d)).fill_null(lit(false)))
        .reduce(|a, b| a.or(b))
        .expect("burst_cards >= 2");
    // The burst windows' taps of the month, in the validator's order,
    // with their cards; then which runs of them are a driver's stack.
    let windows = a
        .clone()
        .lazy()
        .filter(col("_clock").is_null())
        .with_columns([in_burst.alias("_in_burst")])
        .filter(col("_in_burst").and(col("ctx").not()))
        .select(cols(&["_r", "validator_id", "t"]))
        .collect()?;
    let cards = base
        .select(["card_number"])?
        .take(windows.column("_r")?.idx()?)?;
    parts.push(driver_bursts(&windows, &cards, totals, th, &refs.minors)?);
    // The taps whose time can be trusted.
    let mut trusted = vec![true; base.height()];
    for (r, c) in a
        .column("_r")?
        .idx()?
        .iter()
        .zip(a.column("_clock")?.i64()?.iter())
    {
        if let (Some(r), Some(_)) = (r, c) {
            trusted[r as usize] = false;
        }
    }
    drop(a);
    let trusted = BooleanChunked::from_slice("_trusted".into(), &trusted);
    lap("burst rule");
    Ok((taps_read, parts, trusted))
}

/// Passes B and C over `base`, a whole number of cards' taps, on its
/// `trusted` rows, in three named stages: the row-wise rules (pass B's
/// joins with the registry), the repeats (pass B sorted by card, vehicle
/// and time), and the rules over each card's counted taps (pass C).
fn card_stage(
    base: &DataFrame,
    trusted: &BooleanChunked,
    refs: &Refs,
    th: &Thresholds,
    clock: &MonthClock,
    lap: &dyn Fn(&str),
) -> PolarsResult<Vec<DataFrame>> {
    let mut parts: Vec<DataFrame> = Vec::new();
    let b_in = base.filter(trusted)?;
    let card_facts = row_wise_rules(base, &b_in, refs, th, clock, lap, &mut parts)?;
    lap("row-wise hits");
    let counted = repeats(base, &b_in, th, &mut parts)?;
    lap("pass B sorted (card, vehicle, time), repeats");
    counted_taps_rules(&b_in, card_facts, &counted, th, clock, lap, &mut parts)?;
    lap("pass C rules");
    Ok(parts)
}

/// Pass B's row-wise rules (card state, routes, service hours, UID) over
/// the joins with the registry. Returns, in `b_in`'s row order, what pass
/// C needs of each tap's card: its trip limit, its daily allowance,
/// whether the registry knows its UID.
fn row_wise_rules(
    base: &DataFrame,
    b_in: &DataFrame,
    refs: &Refs,
    th: &Thresholds,
    clock: &MonthClock,
    lap: &dyn Fn(&str),
    parts: &mut Vec<DataFrame>,
) -> PolarsResult<DataFrame> {
    // Pass B: the row-wise rules over the joins with the registry.
    let local = clock.local(col("t"));
    // Tap times are after 1970, so the remainder is the time of day.
    let tod = local % lit(DAY_MS);
    let open = col("open_ms").fill_null(lit(th.open_ms));
    let close = col("close_ms").fill_null(lit(th.close_ms));
    let rowwise: Vec<(Rule, Expr, Evidence)> = vec![
        (
            Rule::CardUnknown,
            col("valid_from_ms").is_null(),
            Evidence::none(),
        ),
        (
            Rule::CardBlocked,
            col("t").gt_eq(col("blocked_ms")),
            Evidence {
                x: col("blocked_ms"),
                ..Evidence::none()
            },
        ),
        (
            Rule::CardExpired,
            col("t")
                .gt_eq(col("valid_until_ms"))
                .or(col("t").lt(col("valid_from_ms"))),
            Evidence {
                n: col("valid_from_ms"),
                x: col("valid_until_ms"),
                ..Evidence::none()
            },
        ),
        (
            Rule::HolderDeceased,
            col("t").gt_eq(col("death_ms")),
            Evidence {
                x: col("death_ms"),
                ..Evidence::none()
            },
        ),
        (
            Rule::OutsideServiceHours,
            // A route whose service day runs past midnight opens after it
            // closes: outside is between its close and its open.
            when(open.clone().gt(close.clone()))
                .then(
                    col("_tod")
                        .lt(open.clone())
                        .and(col("_tod").gt(close.clone())),
                )
                .otherwise(
                    col("_tod")
                        .lt(open.clone())
                        .or(col("_tod").gt(close.clone())),
                ),
            Evidence {
                n: open,
                x: close,
                ..Evidence::none()
            },
        ),
        (
            Rule::RouteNotServed,
            col("carrier_id").is_not_null().and(col("served").is_null()),
            Evidence::none(),
        ),
        (
            Rule::ClonedUid,
            col("reg_uid")
                .is_not_null()
                .and(col("card_uid").neq(col("reg_uid"))),
            Evidence::none(),
        ),
    ];
    // The joins with the registry's cards, the carriers' routes and the
    // routes' own service days.
    let join_refs = |lf: LazyFrame| -> LazyFrame {
        let lf = lf
            .left_join(
                refs.cards.clone().lazy(),
                col("card_number"),
                col("card_number"),
            )
            .with_columns([served_key(col("carrier_id"), col("route")).alias("_served_key")])
            .left_join(
                refs.served.clone().lazy().select([
                    served_key(col("carrier_id"), col("route")).alias("_served_key"),
                    col("served"),
                ]),
                col("_served_key"),
                col("_served_key"),
            );
        let lf = if refs.hours.height() > 0 {
            lf.left_join(refs.hours.clone().lazy(), col("route"), col("route"))
        } else {
            lf.with_columns([
                lit(NULL).cast(DataType::Int64).alias("open_ms"),
                lit(NULL).cast(DataType::Int64).alias("close_ms"),
            ])
        };
        lf.with_columns([tod.clone().alias("_tod")])
    };
    let row_cols = cols(&[
        "_r",
        "t",
        "card_number",
        "card_uid",
        "carrier_id",
        "route",
        "ctx",
    ]);
    // Over every row, which row-wise rules fired (as bits), and what pass C
    // needs from the card: its trip limit, whether the registry knows its
    // UID. Only the rows a rule fired on are joined again, for evidence.
    let bits = rowwise
        .iter()
        .map(|(rule, cond, _)| {
            when(cond.clone().fill_null(lit(false)))
                .then(lit(1i32 << (*rule as i32)))
                .otherwise(lit(0i32))
        })
        .reduce(|a, b| a + b)
        .expect("rules");
    let joined = join_refs(b_in.clone().lazy().select(row_cols.clone()))
        .select([
            col("_r"),
            bits.alias("_bits"),
            col("trip_limit"),
            col("day_limit")
                .fill_null(lit(i64::from(th.daily_max)))
                .alias("day_limit"),
            col("reg_uid").is_null().alias("_no_uid"),
        ])
        .collect()?;
    lap("pass B joins, row-wise rules");
    let mut limit_of: Vec<Option<i64>> = vec![None; base.height()];
    let mut day_limit_of: Vec<i64> = vec![i64::from(th.daily_max); base.height()];
    let mut no_uid = vec![true; base.height()];
    let mut fired: Vec<IdxSize> = Vec::new();
    for ((((r, bits), limit), day_limit), nu) in joined
        .column("_r")?
        .idx()?
        .iter()
        .zip(joined.column("_bits")?.i32()?.iter())
        .zip(joined.column("trip_limit")?.i64()?.iter())
        .zip(joined.column("day_limit")?.i64()?.iter())
        .zip(joined.column("_no_uid")?.bool()?.iter())
    {
        let Some(r) = r else { continue };
        limit_of[r as usize] = limit;
        day_limit_of[r as usize] = day_limit.unwrap_or(i64::from(th.daily_max));
        no_uid[r as usize] = nu.unwrap_or(true);
        if bits.unwrap_or(0) != 0 {
            fired.push(r);
        }
    }
    drop(joined);
    let fired = IdxCa::from_vec("_r".into(), fired);
    let flagged = join_refs(base.take(&fired)?.lazy().select(row_cols)).collect()?;
    for (rule, cond, e) in rowwise {
        parts.push(hits(flagged.clone().lazy(), rule, cond, e).collect()?);
    }
    let b_rows: Vec<usize> = b_in
        .column("_r")?
        .idx()?
        .iter()
        .map(|r| r.unwrap_or(0) as usize)
        .collect();
    let card_facts = DataFrame::new(
        b_rows.len(),
        vec![
            Series::new(
                "trip_limit".into(),
                b_rows.iter().map(|&r| limit_of[r]).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "day_limit".into(),
                b_rows.iter().map(|&r| day_limit_of[r]).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "_no_uid".into(),
                b_rows.iter().map(|&r| no_uid[r]).collect::<Vec<_>>(),
            )
            .into(),
        ],
    )?;
    drop((limit_of, day_limit_of, no_uid, b_rows));
    Ok(card_facts)
}

/// Pass B's repeats (P13): a card again in the same vehicle within the
/// timeout. Returns which of `base`'s rows count as trips (not repeats).
fn repeats(
    base: &DataFrame,
    b_in: &DataFrame,
    th: &Thresholds,
    parts: &mut Vec<DataFrame>,
) -> PolarsResult<Vec<bool>> {
    // Repeats: by (card, vehicle, time).
    let b = b_in
        .clone()
        .lazy()
        .select([
            col("_r"),
            col("t"),
            col("ctx"),
            // (card, vehicle) as one key: card numbers have 10 digits.
            (col("card_number") * lit(1i64 << 16) + col("vehicle_id").cast(DataType::Int64))
                .alias("_cv"),
        ])
        .sort(["_cv", "t"], SortMultipleOptions::default())
        .with_columns([same("_cv", 1)
            .and((col("t") - col("t").shift(lit(1))).lt(lit(th.repeat_ms)))
            .alias("_repeat")])
        .collect()?;
    parts.push(
        hits(
            b.clone().lazy(),
            Rule::RepeatSameVehicle,
            col("_repeat"),
            Evidence::prev(),
        )
        .collect()?,
    );
    let mut counted = vec![true; base.height()];
    for (r, rep) in b
        .column("_r")?
        .idx()?
        .iter()
        .zip(b.column("_repeat")?.bool()?.iter())
    {
        if let (Some(r), Some(true)) = (r, rep) {
            counted[r as usize] = false;
        }
    }
    drop(b);
    Ok(counted)
}

/// Pass C over each card's counted taps, by time: transfers, the counter,
/// per-card and per-day counts, the trip limit, a second UID.
fn counted_taps_rules(
    b_in: &DataFrame,
    card_facts: DataFrame,
    counted: &[bool],
    th: &Thresholds,
    clock: &MonthClock,
    lap: &dyn Fn(&str),
    parts: &mut Vec<DataFrame>,
) -> PolarsResult<()> {
    // Pass C: counted taps by (card, time). `b_in` and `card_facts` are in
    // the same (row) order.
    let keep: Vec<bool> = b_in
        .column("_r")?
        .idx()?
        .iter()
        .map(|r| r.is_some_and(|r| counted[r as usize]))
        .collect();
    let keep = BooleanChunked::from_slice("_counted".into(), &keep);
    let c_in = b_in
        .select([
            "_r",
            "t",
            "card_number",
            "card_uid",
            "vehicle_id",
            "trips",
            "ctx",
        ])?
        .hstack(&[
            card_facts.column("trip_limit")?.clone(),
            card_facts.column("day_limit")?.clone(),
            card_facts.column("_no_uid")?.clone(),
        ])?
        .filter(&keep)?;
    drop(card_facts);
    // The UID rides along only for the cards the registry has no UID for.
    let no_uid_rows = c_in
        .clone()
        .lazy()
        .filter(col("_no_uid").and(col("ctx").not()))
        .select(cols(&["_r", "t", "card_number", "card_uid", "ctx"]))
        .collect()?;
    let c = c_in
        .drop("card_uid")?
        .lazy()
        .sort(["card_number", "t"], SortMultipleOptions::default())
        .collect()?;
    lap("pass C sorted (card, time)");
    let cl = || c.clone().lazy();
    // A quick change from the card's previous vehicle; `n` is 1 when the
    // card is back on the vehicle it left, counted again, within twice the
    // repeat timeout (alternating between two vehicles), which no transfer
    // does. `flags::network` judges the rest.
    let quick = same("card_number", 1)
        .and(same("vehicle_id", 1).not())
        .and((col("t") - col("t").shift(lit(1))).lt(lit(th.transfer_ms)));
    let back = same("card_number", 2)
        .and(same("vehicle_id", 2))
        .and(same("vehicle_id", 1).not())
        .and(quick.clone().shift(lit(1)).fill_null(lit(false)))
        .and((col("t") - col("t").shift(lit(2))).lt(lit(2 * th.repeat_ms)));
    let alternating = quick
        .clone()
        .and(back.clone().or(back.shift(lit(-1)).fill_null(lit(false))));
    parts.push(
        hits(
            cl(),
            Rule::ImpossibleTravel,
            quick,
            Evidence {
                n: alternating.cast(DataType::Int64),
                ..Evidence::prev()
            },
        )
        .collect()?,
    );
    let prev_trips = col("trips").shift(lit(1));
    parts.push(
        hits(
            cl(),
            Rule::CounterBackwards,
            same("card_number", 1)
                .and(col("trips").lt(prev_trips.clone()))
                .and((prev_trips.clone() - col("trips")).lt(lit(32_768))),
            Evidence {
                x: prev_trips,
                ..Evidence::prev()
            },
        )
        .collect()?,
    );
    // The per-card and per-day counts, on this month's rows only.
    let first = |cond: Expr| ffill(when(cond).then(col("_i")).otherwise(lit(NULL)));
    let last = |cond: Expr| bfill(when(cond).then(col("_i")).otherwise(lit(NULL)));
    let counts = cl()
        .filter(col("ctx").not())
        .with_row_index("_i", None)
        .with_columns([
            col("_i").cast(DataType::Int64),
            same("card_number", 1).alias("_same"),
            // The Kyiv day, as its local midnight in milliseconds.
            (clock.local(col("t")) - clock.local(col("t")) % lit(DAY_MS)).alias("_day"),
        ])
        .with_columns([
            col("_same")
                .not()
                .or(col("_day").neq(col("_day").shift(lit(1))))
                .alias("_newday"),
            same("card_number", -1).not().alias("_cardlast"),
        ])
        .with_columns([
            first(col("_same").not()).alias("_card_first"),
            last(col("_cardlast")).alias("_card_last"),
            first(col("_newday")).alias("_day_first"),
            last(col("_newday").shift(lit(-1)).fill_null(lit(true))).alias("_day_last"),
            ffill(
                when(col("_same").not())
                    .then(lit(-1i64))
                    .when(col("vehicle_id").neq(col("vehicle_id").shift(lit(1))))
                    .then(col("_i"))
                    .otherwise(lit(NULL)),
            )
            .alias("_vchange"),
        ])
        .with_columns([
            (col("_card_last") - col("_card_first") + lit(1i64)).alias("_n_card"),
            (col("_day_last") - col("_day_first") + lit(1i64)).alias("_n_day"),
            (col("_i") - col("_card_first") + lit(1i64)).alias("_ordinal"),
            bfill(
                when(col("_cardlast"))
                    .then(col("_vchange").gt_eq(lit(0i64)))
                    .otherwise(lit(NULL)),
            )
            .alias("_moved"),
        ])
        .select(cols(&[
            "_r",
            "ctx",
            "card_number",
            "_day",
            "_n_card",
            "_n_day",
            "_ordinal",
            "_moved",
            "trip_limit",
            "day_limit",
        ]))
        .collect()?;
    let counts = counts.hstack(&daily_habit(&counts, clock.days(), th.daily_habit_pct)?)?;
    let nl = || counts.clone().lazy();
    parts.push(
        hits(
            nl(),
            Rule::SingleVehicleCard,
            col("_moved")
                .not()
                .and(col("_n_card").gt_eq(lit(i64::from(th.single_vehicle_min_taps)))),
            Evidence {
                n: col("_n_card"),
                ..Evidence::none()
            },
        )
        .collect()?,
    );
    parts.push(
        hits(
            nl(),
            Rule::ExcessiveDailyUse,
            col("_excess"),
            Evidence {
                n: col("_n_day"),
                x: col("_habit"),
                ..Evidence::none()
            },
        )
        .collect()?,
    );
    parts.push(
        hits(
            nl(),
            Rule::TripLimit,
            col("_ordinal").gt(col("trip_limit")),
            Evidence {
                n: col("_ordinal"),
                x: col("trip_limit"),
                ..Evidence::none()
            },
        )
        .collect()?,
    );
    drop(counts);
    // A second UID, for cards the registry has no UID for (few): against
    // the card's first UID in the month.
    parts.push(
        hits(
            no_uid_rows
                .lazy()
                .sort(["card_number", "t"], SortMultipleOptions::default())
                .with_columns([ffill(
                    when(same("card_number", 1).not())
                        .then(col("card_uid"))
                        .otherwise(lit(NULL)),
                )
                .alias("_first_uid")]),
            Rule::ClonedUid,
            col("card_uid").neq(col("_first_uid")),
            Evidence::none(),
        )
        .collect()?,
    );
    drop(c);
    Ok(())
}

/// A card's own month, as rule 4 weighs a day against it: the taps a day
/// it may make (`allowance`), its habit (the most taps it made on at least
/// half the month's days; 0 when it rode on fewer) and the days it rode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyHabit {
    pub allowance: i64,
    pub habit: i64,
    pub days: i64,
}

impl DailyHabit {
    /// As one `x` figure of a hit.
    pub fn pack(self) -> i64 {
        self.allowance.clamp(0, 99_999) * 1_000_000 + self.habit.clamp(0, 999) * 1000 + self.days
    }
    pub fn unpack(x: i64) -> DailyHabit {
        DailyHabit {
            allowance: x / 1_000_000,
            habit: x / 1000 % 1000,
            days: x % 1000,
        }
    }
    /// A day of `n` taps is excessive: above the allowance and above
    /// `pct` percent of the habit.
    pub fn excessive(self, n: i64, pct: u32) -> bool {
        n > self.allowance && n * 100 > self.habit * i64::from(pct)
    }
}

/// Over `counts` (a card's taps by time, with `_day`, `_n_day` and
/// `day_limit`), whether each tap's day is excessive for its card
/// (`_excess`) and the card's `DailyHabit`, packed (`_habit`). The month
/// has `days` Kyiv days.
fn daily_habit(counts: &DataFrame, days: i64, pct: u32) -> PolarsResult<Vec<Column>> {
    let card = counts.column("card_number")?.i64()?;
    let day = counts.column("_day")?.i64()?;
    let n_day = counts.column("_n_day")?.i64()?;
    let allowance = counts.column("day_limit")?.i64()?;
    let rows = counts.height();
    let mut excess = Vec::with_capacity(rows);
    let mut habit = Vec::with_capacity(rows);
    // The busiest day that still covers half the month.
    let half = usize::try_from((days + 1) / 2).unwrap_or(1).max(1);
    let mut start = 0;
    while start < rows {
        let mut end = start;
        let mut per_day: Vec<i64> = Vec::new();
        while end < rows && card.get(end) == card.get(start) {
            if end == start || day.get(end) != day.get(end - 1) {
                per_day.push(n_day.get(end).unwrap_or(0));
            }
            end += 1;
        }
        per_day.sort_unstable_by(|a, b| b.cmp(a));
        let h = DailyHabit {
            allowance: allowance.get(start).unwrap_or(0),
            habit: per_day.get(half - 1).copied().unwrap_or(0),
            days: per_day.len() as i64,
        };
        for i in start..end {
            excess.push(h.excessive(n_day.get(i).unwrap_or(0), pct));
            habit.push(h.pack());
        }
        start = end;
    }
    Ok(vec![
        Series::new("_excess".into(), excess).into(),
        Series::new("_habit".into(), habit).into(),
    ])
}

/// The hits of `parts` (rows of `base`) with their taps' fields, and the
/// other tap's identity.
fn gather(base: &DataFrame, parts: Vec<DataFrame>) -> PolarsResult<DataFrame> {
    let mut parts = parts.into_iter();
    let mut all = parts.next().expect("a rule at least");
    for p in parts {
        all.vstack_mut_owned(p)?;
    }
    let rows = all.column("_r")?.idx()?.clone();
    let taps = base.select([
        "validator_id",
        "seq",
        "t",
        "card_number",
        "card_uid",
        "vehicle_id",
        "carrier_id",
        "route",
        "tariff_zone",
        "trips",
    ])?;
    let tap = taps.take(&rows)?;
    let o_rows: IdxCa = all
        .column("o_r")?
        .idx()?
        .iter()
        .map(|r| r.filter(|r| (*r as usize) < base.height()))
        .collect();
    let other = base
        .select(["validator_id", "seq", "t", "vehicle_id", "route"])?
        .take(&o_rows)?;
    let c = |df: &DataFrame, name: &str, to: &str| -> PolarsResult<Column> {
        Ok(df.column(name)?.clone().with_name(to.into()))
    };
    DataFrame::new(
        all.height(),
        vec![
            c(&tap, "validator_id", "validator_id")?,
            c(&tap, "seq", "seq")?,
            c(&all, "rule", "rule")?,
            c(&tap, "t", "t")?,
            c(&tap, "card_number", "card_number")?,
            // The UIDs copied out: a gathered string keeps the whole
            // slice's string buffers alive otherwise.
            Series::new(
                "card_uid".into(),
                tap.column("card_uid")?
                    .str()?
                    .iter()
                    .collect::<Vec<Option<&str>>>(),
            )
            .into(),
            c(&tap, "vehicle_id", "vehicle_id")?,
            c(&tap, "carrier_id", "carrier_id")?,
            c(&tap, "route", "route")?,
            c(&tap, "tariff_zone", "tariff_zone")?,
            c(&tap, "trips", "trips")?,
            c(&other, "validator_id", "o_validator")?,
            c(&other, "seq", "o_seq")?,
            c(&other, "t", "o_t")?,
            c(&other, "vehicle_id", "o_vehicle")?,
            c(&other, "route", "o_route")?,
            c(&all, "n", "n")?,
            c(&all, "x", "x")?,
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::FlagSettings;
    use chrono::NaiveDate;

    /// A tap: validator, seq, UTC ms, card, vehicle, carrier, route.
    #[derive(Clone)]
    struct T {
        v: i32,
        seq: i64,
        t: i64,
        card: i64,
        uid: &'static str,
        vehicle: i32,
        carrier: Option<i32>,
        route: i32,
        trips: Option<i32>,
    }

    fn tap(v: i32, seq: i64, t: i64, card: i64) -> T {
        // Validators 7 and 8 are on vehicle 1012 (carrier 1, routes 5 and
        // 12), validator 9 on vehicle 1020 (carrier 2, route 3).
        let (vehicle, carrier, route) = if v == 9 { (1020, 2, 3) } else { (1012, 1, 5) };
        T {
            v,
            seq,
            t,
            card,
            uid: "04A1B2C3",
            vehicle,
            carrier: Some(carrier),
            route,
            trips: None,
        }
    }

    fn frame(rows: &[T]) -> LazyFrame {
        let n = rows.len();
        let c = |name: &str, s: Series| -> Column {
            let mut s = s;
            s.rename(name.into());
            s.into()
        };
        DataFrame::new(
            n,
            vec![
                c(
                    "tapped_at",
                    Series::new("".into(), rows.iter().map(|r| r.t).collect::<Vec<_>>())
                        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)),
                ),
                c(
                    "validator_id",
                    Series::new("".into(), rows.iter().map(|r| r.v).collect::<Vec<_>>()),
                ),
                c(
                    "seq",
                    Series::new("".into(), rows.iter().map(|r| r.seq).collect::<Vec<_>>()),
                ),
                c(
                    "card_number",
                    Series::new("".into(), rows.iter().map(|r| r.card).collect::<Vec<_>>()),
                ),
                c(
                    "card_uid",
                    Series::new("".into(), rows.iter().map(|r| r.uid).collect::<Vec<_>>()),
                ),
                c(
                    "vehicle_id",
                    Series::new(
                        "".into(),
                        rows.iter().map(|r| r.vehicle).collect::<Vec<_>>(),
                    ),
                ),
                c(
                    "carrier_id",
                    Series::new(
                        "".into(),
                        rows.iter().map(|r| r.carrier).collect::<Vec<_>>(),
                    ),
                ),
                c(
                    "route",
                    Series::new("".into(), rows.iter().map(|r| r.route).collect::<Vec<_>>()),
                ),
                c("tariff_zone", Series::new("".into(), vec![1i32; n])),
                c("result", Series::new("".into(), vec!["accepted"; n])),
                c(
                    "trips",
                    Series::new("".into(), rows.iter().map(|r| r.trips).collect::<Vec<_>>()),
                ),
                c("batch", Series::new("".into(), vec![1i64; n])),
            ],
        )
        .unwrap()
        .lazy()
    }

    /// One card row: number, registered UID, valid from / until (ms),
    /// blocked from, death, trip limit.
    type Card = (
        i64,
        Option<&'static str>,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
    );

    fn refs(cards: &[Card], docks: &[(i32, i64, i64)]) -> Refs {
        let cards = DataFrame::new(
            cards.len(),
            vec![
                Series::new(
                    "card_number".into(),
                    cards.iter().map(|c| c.0).collect::<Vec<_>>(),
                )
                .into(),
                Series::new(
                    "reg_uid".into(),
                    cards.iter().map(|c| c.1).collect::<Vec<_>>(),
                )
                .into(),
                Series::new(
                    "valid_from_ms".into(),
                    cards.iter().map(|c| c.2).collect::<Vec<_>>(),
                )
                .into(),
                Series::new(
                    "valid_until_ms".into(),
                    cards.iter().map(|c| c.3).collect::<Vec<_>>(),
                )
                .into(),
                Series::new(
                    "blocked_ms".into(),
                    cards.iter().map(|c| c.4).collect::<Vec<_>>(),
                )
                .into(),
                Series::new(
                    "death_ms".into(),
                    cards.iter().map(|c| c.5).collect::<Vec<_>>(),
                )
                .into(),
                Series::new(
                    "trip_limit".into(),
                    cards.iter().map(|c| c.6).collect::<Vec<_>>(),
                )
                .into(),
                Series::new("day_limit".into(), vec![6i64; cards.len()]).into(),
            ],
        )
        .unwrap();
        let served = df!(
            "carrier_id" => [1i32, 1, 2],
            "route" => [5i32, 12, 3],
            "served" => [true, true, true],
        )
        .unwrap();
        // Route 12 runs 06:00–21:00; route 13 is a night route, 23:00 to
        // 05:00 (tolerance given in the table).
        let hours = df!(
            "route" => [12i32, 13],
            "open_ms" => [6 * 3_600_000i64, 23 * 3_600_000],
            "close_ms" => [21 * 3_600_000i64, 5 * 3_600_000],
        )
        .unwrap();
        let batches = df!("batch" => [1i64], "received_ms" => [ms("2026-11-01 03:00:00")]).unwrap();
        let docks = df!(
            "validator_id" => docks.iter().map(|d| d.0).collect::<Vec<_>>(),
            "seq" => docks.iter().map(|d| d.1).collect::<Vec<_>>(),
            "dock_ms" => docks.iter().map(|d| d.2).collect::<Vec<_>>(),
        )
        .unwrap();
        Refs {
            cards,
            served,
            hours,
            batches,
            docks,
            now_ms: ms("2026-11-26 12:00:00"),
            minors: Default::default(),
        }
    }

    /// A plain valid card.
    fn card(n: i64) -> Card {
        (n, None, 0, i64::MAX, None, None, None)
    }

    /// Kyiv wall-clock "YYYY-MM-DD HH:MM:SS" as UTC ms.
    fn ms(kyiv: &str) -> i64 {
        use chrono::TimeZone;
        let local = chrono::NaiveDateTime::parse_from_str(kyiv, "%Y-%m-%d %H:%M:%S").unwrap();
        chrono_tz::Europe::Kyiv
            .from_local_datetime(&local)
            .earliest()
            .unwrap()
            .timestamp_millis()
    }

    fn october() -> MonthClock {
        MonthClock::for_month(NaiveDate::from_ymd_opt(2026, 10, 1).unwrap())
    }

    fn run_on(
        rows: &[T],
        ctx: &[T],
        refs: &Refs,
        s: &FlagSettings,
        clock: &MonthClock,
    ) -> Vec<(i32, i64, Rule)> {
        let th = Thresholds::from_settings(s, 900);
        // The month in two chunks, as the store would give it.
        let half = (rows.len() / 2).max(1).min(rows.len());
        let mut input = vec![prepare(frame(&rows[..half]), false)];
        if half < rows.len() {
            input.push(prepare(frame(&rows[half..]), false));
        }
        if !ctx.is_empty() {
            input.push(prepare(frame(ctx), true));
        }
        let by_day = |d: &DataFrame| {
            d.sort(
                ["validator_id", "day", "route", "hour"],
                SortMultipleOptions::default(),
            )
            .unwrap()
        };
        let spill = std::env::temp_dir().join(format!(
            "kartka-engine-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let Judged {
            taps: n,
            hits,
            days,
        } = run(&input, refs, &th, clock, 1, &spill).unwrap();
        let (hits, _) = crate::flags::network::judge(hits.clone(), s, clock).unwrap();
        // Judged in slices, the month gives the same hits and day counts.
        for slices in [2, 3] {
            let sliced = run(&input, refs, &th, clock, slices, &spill).unwrap();
            assert!(!spill.exists(), "the spill is removed");
            assert_eq!(sliced.taps, n, "taps judged in {slices} slices");
            let (sliced_hits, _) = crate::flags::network::judge(sliced.hits, s, clock).unwrap();
            assert!(
                sliced_hits.equals_missing(&hits),
                "{slices} slices: {sliced_hits} vs {hits}"
            );
            assert!(by_day(&sliced.days).equals(&by_day(&days)));
        }
        let counted: u32 = days
            .column("taps")
            .unwrap()
            .u32()
            .unwrap()
            .sum()
            .unwrap_or(0);
        assert_eq!(counted as usize, n, "every month tap is in a day count");
        let v = hits.column("validator_id").unwrap().i32().unwrap().to_vec();
        let s = hits.column("seq").unwrap().i64().unwrap().to_vec();
        let r = hits.column("rule").unwrap().i32().unwrap().to_vec();
        (0..hits.height())
            .map(|i| {
                (
                    v[i].unwrap(),
                    s[i].unwrap(),
                    Rule::from_id(r[i].unwrap()).unwrap(),
                )
            })
            .collect()
    }

    fn of(hits: &[(i32, i64, Rule)], rule: Rule) -> Vec<(i32, i64)> {
        hits.iter()
            .filter(|h| h.2 == rule)
            .map(|h| (h.0, h.1))
            .collect()
    }

    #[test]
    fn the_month_clock_knows_the_dst_change() {
        let c = october();
        assert_eq!(c.start_ms, ms("2026-10-01 00:00:00"));
        assert_eq!(c.end_ms, ms("2026-11-01 00:00:00"));
        assert_eq!(
            (c.offset_before_ms, c.offset_after_ms),
            (3 * 3_600_000, 2 * 3_600_000)
        );
        // 04:00 Kyiv on 25 October is 01:00 UTC, the moment clocks go back.
        assert_eq!(c.switch_ms, ms("2026-10-25 03:00:00") + 3_600_000);
        let nov = MonthClock::for_month(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        assert_eq!(nov.switch_ms, i64::MAX);
    }

    #[test]
    fn a_repeat_is_per_vehicle_whichever_validator_and_not_at_the_timeout() {
        let t0 = ms("2026-10-12 08:00:00");
        let rows = vec![
            tap(7, 1, t0, 100),
            // The other door of the same bus, 899 s later: a repeat.
            tap(8, 1, t0 + 899_000, 100),
            // Exactly the timeout after the previous tap: counted.
            tap(7, 2, t0 + 1_799_000, 100),
            // Another card on another bus: no repeat.
            tap(9, 1, t0 + 60_000, 200),
        ];
        let hits = run_on(
            &rows,
            &[],
            &refs(&[card(100), card(200)], &[]),
            &FlagSettings::default(),
            &october(),
        );
        assert_eq!(of(&hits, Rule::RepeatSameVehicle), vec![(8, 1)]);
    }

    #[test]
    fn another_vehicle_sooner_than_a_transfer_allows() {
        let t0 = ms("2026-10-12 08:00:00");
        let rows = vec![
            tap(7, 1, t0, 100),
            tap(9, 1, t0 + 299_000, 100),
            tap(7, 2, t0 + 10_000_000, 100),
            tap(9, 2, t0 + 10_300_000, 100), // exactly 300 s: allowed
        ];
        let hits = run_on(
            &rows,
            &[],
            &refs(&[card(100)], &[]),
            &FlagSettings::default(),
            &october(),
        );
        assert_eq!(of(&hits, Rule::ImpossibleTravel), vec![(9, 1)]);
    }

    /// Card `card` on validator 7 (route 5, vehicle 1012) at `at`, then on
    /// validator 9 (route 3, vehicle 1020) `gap_s` later.
    fn change(rows: &mut Vec<T>, card: i64, at: &str, gap_s: i64) {
        let t = ms(at);
        let seq = rows.len() as i64 + 1;
        rows.push(tap(7, seq, t, card));
        rows.push(tap(9, seq, t + gap_s * 1000, card));
    }

    #[test]
    fn a_hub_explains_its_regulars_changes_and_nothing_else() {
        let mut rows = Vec::new();
        // Twelve cards change 5→3 in 150–205 s on six days, an hour apart.
        for card in 0..12 {
            for day in 1..=6 {
                let at = format!("2026-10-{day:02} {:02}:00:00", 6 + card);
                change(&mut rows, 100 + card, &at, 150 + card * 5);
            }
        }
        // A card changing there once; one changing twice in 20 s; one
        // going back to the bus it left 20 minutes later.
        change(&mut rows, 200, "2026-10-10 20:00:00", 180);
        change(&mut rows, 201, "2026-10-11 21:00:00", 20);
        change(&mut rows, 201, "2026-10-12 21:00:00", 20);
        change(&mut rows, 100, "2026-10-20 22:00:00", 60);
        rows.push(tap(7, 999, ms("2026-10-20 22:20:00"), 100));
        let cards: Vec<Card> = (100..112).chain(200..202).map(card).collect();
        let s = FlagSettings {
            service_start: "00:00".into(),
            service_end: "24:00".into(),
            ..FlagSettings::default()
        };
        let hits = run_on(&rows, &[], &refs(&cards, &[]), &s, &october());
        let mut got = of(&hits, Rule::ImpossibleTravel);
        got.sort();
        let seq_of = |card: i64, at: &str| {
            rows.iter()
                .find(|r| r.card == card && r.v == 9 && r.t >= ms(at))
                .map(|r| (9, r.seq))
                .unwrap()
        };
        let mut want = vec![
            seq_of(200, "2026-10-10 20:00:00"),
            seq_of(201, "2026-10-11 21:00:00"),
            seq_of(201, "2026-10-12 21:00:00"),
            seq_of(100, "2026-10-20 22:00:00"),
        ];
        want.sort();
        assert_eq!(got, want);
        // Named in [[flags.transfers]], the hub explains the one-off too,
        // within its longest change.
        let known = FlagSettings {
            transfers: vec![crate::flags::settings::Transfer {
                routes: vec![3, 5],
                max_change_s: 200,
            }],
            ..s.clone()
        };
        let hits = run_on(&rows, &[], &refs(&cards, &[]), &known, &october());
        let got = of(&hits, Rule::ImpossibleTravel);
        assert!(
            !got.contains(&seq_of(200, "2026-10-10 20:00:00")),
            "{got:?}"
        );
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn a_breakdowns_passengers_change_together() {
        let t0 = ms("2026-10-15 09:00:00");
        let rows_of = |cards: i64| -> Vec<T> {
            (0..cards)
                .flat_map(|c| {
                    let t = t0 + c * 90_000;
                    [
                        tap(7, c + 1, t, 100 + c),
                        tap(9, c + 1, t + 120_000, 100 + c),
                    ]
                })
                .collect()
        };
        let cards: Vec<Card> = (100..110).map(card).collect();
        let s = FlagSettings::default();
        let hits = run_on(&rows_of(5), &[], &refs(&cards, &[]), &s, &october());
        assert!(of(&hits, Rule::ImpossibleTravel).is_empty(), "{hits:?}");
        let hits = run_on(&rows_of(4), &[], &refs(&cards, &[]), &s, &october());
        assert_eq!(of(&hits, Rule::ImpossibleTravel).len(), 4);
    }

    #[test]
    fn a_heavy_rider_is_judged_by_its_own_habit() {
        // Nine taps a day, an hour apart, on 28 days; on the 12th, 14.
        let mut rows = Vec::new();
        for day in 1..=28 {
            let n = if day == 12 { 14 } else { 9 };
            for k in 0..n {
                let at = ms(&format!("2026-10-{day:02} {:02}:10:00", 6 + k));
                rows.push(tap(
                    if k % 2 == 0 { 7 } else { 9 },
                    rows.len() as i64,
                    at,
                    100,
                ));
            }
        }
        let s = FlagSettings::default();
        let hits = run_on(&rows, &[], &refs(&[card(100)], &[]), &s, &october());
        let got = of(&hits, Rule::ExcessiveDailyUse);
        assert_eq!(got.len(), 14, "{got:?}");
        let day12 = (ms("2026-10-12 00:00:00"), ms("2026-10-13 00:00:00"));
        for (v, seq) in got {
            let r = rows.iter().find(|r| r.v == v && r.seq == seq).unwrap();
            assert!(r.t >= day12.0 && r.t < day12.1);
        }
        // 12 that day is under one and a half times the habit.
        rows.retain(|r| !(r.t >= day12.0 && r.t < day12.1 && r.t >= ms("2026-10-12 18:00:00")));
        let hits = run_on(&rows, &[], &refs(&[card(100)], &[]), &s, &october());
        assert!(of(&hits, Rule::ExcessiveDailyUse).is_empty());
        // Riding on fewer than half the days, the card has no habit: a
        // day over the allowance is excessive.
        rows.retain(|r| r.t >= ms("2026-10-16 00:00:00") || (r.t >= day12.0 && r.t < day12.1));
        let hits = run_on(&rows, &[], &refs(&[card(100)], &[]), &s, &october());
        assert!(of(&hits, Rule::ExcessiveDailyUse).len() > 13);
    }

    #[test]
    fn a_daily_habit_packs_and_judges() {
        let h = DailyHabit {
            allowance: 9,
            habit: 9,
            days: 28,
        };
        assert_eq!(DailyHabit::unpack(h.pack()), h);
        assert!(!h.excessive(13, 150));
        assert!(h.excessive(14, 150));
        let none = DailyHabit { habit: 0, ..h };
        assert!(!none.excessive(9, 150));
        assert!(none.excessive(10, 150));
    }

    #[test]
    fn days_are_kyiv_days_across_midnight() {
        // Four taps on the evening of 10 October and three after Kyiv
        // midnight (still 10 October in UTC): no day has more than six.
        let mut rows: Vec<T> = ["19:00", "19:30", "20:00", "20:30"]
            .iter()
            .enumerate()
            .map(|(i, h)| tap(7, i as i64 + 1, ms(&format!("2026-10-10 {h}:00")), 100))
            .collect();
        for (i, h) in ["00:10", "00:40", "01:10"].iter().enumerate() {
            rows.push(tap(7, i as i64 + 5, ms(&format!("2026-10-11 {h}:00")), 100));
        }
        let s = FlagSettings::default();
        let hits = run_on(&rows, &[], &refs(&[card(100)], &[]), &s, &october());
        assert!(of(&hits, Rule::ExcessiveDailyUse).is_empty(), "{hits:?}");
        // Three more that evening make seven in one Kyiv day: all held.
        for (i, h) in ["21:00", "21:30", "22:00"].iter().enumerate() {
            rows.push(tap(7, i as i64 + 8, ms(&format!("2026-10-10 {h}:00")), 100));
        }
        let hits = run_on(&rows, &[], &refs(&[card(100)], &[]), &s, &october());
        let mut ex = of(&hits, Rule::ExcessiveDailyUse);
        ex.sort();
        assert_eq!(
            ex,
            vec![(7, 1), (7, 2), (7, 3), (7, 4), (7, 8), (7, 9), (7, 10)]
        );
    }

    #[test]
    fn across_the_month_boundary_the_previous_month_is_context_only() {
        let nov = MonthClock::for_month(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap());
        // 23:55 on 31 October Kyiv is 21:55 UTC: October's tap.
        let before = vec![tap(7, 1, ms("2026-10-31 23:55:00"), 100)];
        let rows = vec![tap(8, 1, ms("2026-11-01 00:05:00"), 100)];
        let s = FlagSettings {
            service_start: "00:00".into(),
            service_end: "24:00".into(),
            ..FlagSettings::default()
        };
        let hits = run_on(&rows, &before, &refs(&[card(100)], &[]), &s, &nov);
        assert_eq!(hits, vec![(8, 1, Rule::RepeatSameVehicle)]);
    }

    #[test]
    fn card_state_is_judged_at_the_taps_moment() {
        let blocked = ms("2026-10-15 10:00:00");
        let died = ms("2026-10-20 00:00:00");
        let valid_until = ms("2026-10-18 00:00:00"); // valid_to 17 October, inclusive
        let cards = [
            (100, None, 0, i64::MAX, Some(blocked), None, None),
            (200, None, 0, i64::MAX, None, Some(died), None),
            (300, None, 0, valid_until, None, None, None),
        ];
        let rows = vec![
            tap(7, 1, blocked - 1000, 100),
            tap(7, 2, blocked, 100),
            tap(7, 3, died - 1000, 200),
            tap(7, 4, died + 3_600_000, 200),
            tap(7, 5, ms("2026-10-17 23:00:00"), 300),
            tap(7, 6, valid_until, 300),
            tap(7, 7, ms("2026-10-17 12:00:00"), 999),
        ];
        let s = FlagSettings {
            service_start: "00:00".into(),
            service_end: "24:00".into(),
            ..FlagSettings::default()
        };
        let hits = run_on(&rows, &[], &refs(&cards, &[]), &s, &october());
        assert_eq!(of(&hits, Rule::CardBlocked), vec![(7, 2)]);
        assert_eq!(of(&hits, Rule::HolderDeceased), vec![(7, 4)]);
        assert_eq!(of(&hits, Rule::CardExpired), vec![(7, 6)]);
        assert_eq!(of(&hits, Rule::CardUnknown), vec![(7, 7)]);
    }

    /// Eight cards (100–107) tapped one after another, `gap_ms` apart, on
    /// validator 7 at 08:00 on the 12th, 13th and 14th: a driver's stack.
    fn stack(gap_ms: i64) -> Vec<T> {
        (0..3)
            .flat_map(|d| {
                let t0 = ms(&format!("2026-10-{} 08:00:00", 12 + d));
                (0..8).map(move |i| tap(7, d * 8 + i + 1, t0 + i * gap_ms, 100 + i))
            })
            .collect()
    }

    #[test]
    fn a_burst_is_flagged_exactly_at_its_window() {
        let s = FlagSettings {
            burst_window_s: 28,
            ..FlagSettings::default()
        };
        let cards: Vec<Card> = (0..8).map(|i| card(100 + i)).collect();
        // Eight cards in exactly 28 s, cards that ride nowhere else.
        let hits = run_on(&stack(4000), &[], &refs(&cards, &[]), &s, &october());
        assert_eq!(of(&hits, Rule::DriverBurst).len(), 24);
        // Spread over 28.007 s: none.
        let hits = run_on(&stack(4001), &[], &refs(&cards, &[]), &s, &october());
        assert!(of(&hits, Rule::DriverBurst).is_empty());
    }

    #[test]
    fn a_queue_boarding_is_not_a_drivers_stack() {
        let cards: Vec<Card> = (0..8).map(|i| card(100 + i)).collect();
        let s = FlagSettings::default();
        // The same bursts, but cards 100..100+k also ride vehicle 1020 on
        // other days, three times each: passengers, not a stack.
        let riding = |k: i64| -> Vec<T> {
            let mut rows = stack(2000);
            for c in 0..k {
                for d in 0..3 {
                    let t = ms(&format!("2026-10-{} 17:00:00", 20 + d)) + c * 3_600_000;
                    rows.push(tap(9, 100 + c * 3 + d, t, 100 + c));
                }
            }
            rows
        };
        let hits = run_on(&riding(8), &[], &refs(&cards, &[]), &s, &october());
        assert!(of(&hits, Rule::DriverBurst).is_empty(), "{hits:?}");
        // Five of the eight ride elsewhere: three stack cards of eight are
        // under half, no flag; four of eight are half, the runs are flagged.
        let hits = run_on(&riding(5), &[], &refs(&cards, &[]), &s, &october());
        assert!(of(&hits, Rule::DriverBurst).is_empty(), "{hits:?}");
        let hits = run_on(&riding(4), &[], &refs(&cards, &[]), &s, &october());
        assert_eq!(of(&hits, Rule::DriverBurst).len(), 24);
        // A card with fewer than `burst_card_min_taps` taps is no evidence
        // either way: one day's burst of cards never seen again is a queue
        // of occasional riders.
        let one_day: Vec<T> = stack(2000).into_iter().take(8).collect();
        let hits = run_on(&one_day, &[], &refs(&cards, &[]), &s, &october());
        assert!(of(&hits, Rule::DriverBurst).is_empty(), "{hits:?}");
    }

    #[test]
    fn a_stack_is_one_hand_and_neither_a_school_group_nor_its_neighbours() {
        let cards: Vec<Card> = (0..8).map(|i| card(100 + i)).chain([card(300)]).collect();
        let s = FlagSettings::default();
        let stacks = |hits: &[(i32, i64, Rule)]| of(hits, Rule::DriverBurst);
        // A hand taps the eight cards 2–3 s apart on three mornings.
        let hand = |i: i64| 2_000 * i + [0, 700, 300, 900, 100, 500, 800, 200][i as usize];
        let rows: Vec<T> = (0..3)
            .flat_map(|d| {
                let t0 = ms(&format!("2026-10-{} 08:00:00", 12 + d));
                (0..8).map(move |i| tap(7, d * 10 + i + 1, t0 + hand(i), 100 + i))
            })
            .collect();
        let hits = run_on(&rows, &[], &refs(&cards, &[]), &s, &october());
        assert_eq!(stacks(&hits).len(), 24);
        // A passenger who rides elsewhere taps 12 s after the last card:
        // judged by their own card, not held with the stack.
        let mut with_neighbour = rows.clone();
        for d in 0..3 {
            let last = with_neighbour[(d * 8 + 7) as usize].t;
            with_neighbour.push(tap(7, d * 10 + 9, last + 12_000, 300));
            let t = ms(&format!("2026-10-{} 17:00:00", 20 + d));
            with_neighbour.push(tap(9, 100 + d, t, 300));
        }
        with_neighbour.sort_by_key(|r| (r.v, r.seq));
        let hits = run_on(&with_neighbour, &[], &refs(&cards, &[]), &s, &october());
        assert_eq!(stacks(&hits).len(), 24, "{hits:?}");
        assert!(stacks(&hits).iter().all(|h| h.1 % 10 != 9));
        // The same cards at uneven gaps (1 s, then 4 s, ...): a group
        // boarding, not one hand.
        let uneven = |i: i64| [0, 1_000, 5_000, 5_800, 9_900, 10_500, 14_800, 15_600][i as usize];
        let group: Vec<T> = (0..3)
            .flat_map(|d| {
                let t0 = ms(&format!("2026-10-{} 08:00:00", 12 + d));
                (0..8).map(move |i| tap(7, d * 10 + i + 1, t0 + uneven(i), 100 + i))
            })
            .collect();
        let hits = run_on(&group, &[], &refs(&cards, &[]), &s, &october());
        assert!(stacks(&hits).is_empty(), "{hits:?}");
        // Children boarding the school bus: the hand's timing, but half the
        // cards are of holders under 18 that day.
        let mut minors = rustc_hash::FxHashMap::default();
        for c in 100..104 {
            minors.insert(c, ms("2030-01-01 00:00:00"));
        }
        let school = Refs {
            minors: std::sync::Arc::new(minors.clone()),
            ..refs(&cards, &[])
        };
        let hits = run_on(&rows, &[], &school, &s, &october());
        assert!(stacks(&hits).is_empty(), "{hits:?}");
        // Three of eight children: still a driver's stack; and cards whose
        // holders came of age before the month are adults.
        minors.remove(&103);
        let fewer = Refs {
            minors: std::sync::Arc::new(minors.clone()),
            ..refs(&cards, &[])
        };
        assert_eq!(
            stacks(&run_on(&rows, &[], &fewer, &s, &october())).len(),
            24
        );
        minors.insert(103, ms("2026-09-30 00:00:00"));
        let adult = Refs {
            minors: std::sync::Arc::new(minors),
            ..refs(&cards, &[])
        };
        assert_eq!(
            stacks(&run_on(&rows, &[], &adult, &s, &october())).len(),
            24
        );
    }

    #[test]
    fn service_hours_at_their_edges_and_a_routes_own_day() {
        let mut rows = vec![
            tap(7, 1, ms("2026-10-12 05:14:59"), 100),
            tap(7, 2, ms("2026-10-12 05:15:00"), 101),
            tap(7, 3, ms("2026-10-12 23:45:00"), 102),
            tap(7, 4, ms("2026-10-12 23:45:01"), 103),
        ];
        // Route 12 runs 06:00–21:00 (tolerance given in the table).
        let mut late = tap(8, 1, ms("2026-10-12 21:00:01"), 104);
        late.route = 12;
        rows.push(late);
        // The night route: inside across midnight, outside by day.
        for (seq, at) in [
            (1, "2026-10-12 02:00:00"),
            (2, "2026-10-12 05:00:01"),
            (3, "2026-10-12 12:00:00"),
            (4, "2026-10-12 22:59:59"),
            (5, "2026-10-12 23:00:00"),
        ] {
            let mut night = tap(9, seq, ms(at), 104 + seq);
            night.route = 13;
            rows.push(night);
        }
        let cards: Vec<Card> = (100..110).map(card).collect();
        let hits = run_on(
            &rows,
            &[],
            &refs(&cards, &[]),
            &FlagSettings::default(),
            &october(),
        );
        assert_eq!(
            of(&hits, Rule::OutsideServiceHours),
            vec![(7, 1), (7, 4), (8, 1), (9, 2), (9, 3), (9, 4)]
        );
    }

    #[test]
    fn a_route_its_carrier_does_not_serve() {
        let t0 = ms("2026-10-12 09:00:00");
        let mut a = tap(7, 1, t0, 100);
        a.route = 3; // carrier 1 serves 5 and 12
        let mut b = tap(7, 2, t0 + 3_600_000, 101);
        b.carrier = None; // unknown carrier: not judged
        b.route = 77;
        let hits = run_on(
            &[a, b],
            &[],
            &refs(&[card(100), card(101)], &[]),
            &FlagSettings::default(),
            &october(),
        );
        assert_eq!(of(&hits, Rule::RouteNotServed), vec![(7, 1)]);
    }

    #[test]
    fn a_second_uid_and_a_counter_going_back() {
        let t0 = ms("2026-10-12 09:00:00");
        let mut rows = vec![
            tap(7, 1, t0, 100),
            tap(9, 1, t0 + 3_600_000, 100),
            tap(7, 2, t0 + 7_200_000, 100),
            tap(7, 3, t0 + 7_300_000, 200),
            tap(9, 2, t0 + 9_000_000, 200),
        ];
        rows[1].uid = "04FFFFFF";
        rows[3].uid = "04000001";
        rows[4].uid = "04000002"; // card 200 has no registered UID
        for (r, trips) in rows.iter_mut().zip([10, 11, 9, 5, 6]) {
            r.trips = Some(trips);
        }
        let cards = [
            (100, Some("04A1B2C3"), 0, i64::MAX, None, None, None),
            card(200),
        ];
        let hits = run_on(
            &rows,
            &[],
            &refs(&cards, &[]),
            &FlagSettings::default(),
            &october(),
        );
        assert_eq!(of(&hits, Rule::ClonedUid), vec![(9, 1), (9, 2)]);
        assert_eq!(of(&hits, Rule::CounterBackwards), vec![(7, 2)]);
    }

    #[test]
    fn a_clock_out_of_order_and_a_tap_before_the_previous_docking() {
        let t0 = ms("2026-10-12 09:00:00");
        let mut rows: Vec<T> = (1..=5)
            .map(|i| tap(7, i, t0 + i * 600_000, 100 + i))
            .collect();
        rows[2].t += 86_400_000; // seq 3 a day ahead
        // Validator 9 docked at 12:00 when its next number was 10.
        let dock = ms("2026-10-12 12:00:00");
        rows.push(tap(9, 8, dock - 4_000_000, 199));
        rows.push(tap(9, 9, dock - 3_600_000, 200)); // made before the docking, sent later
        // Numbered after the docking, dated before it: the clock went back.
        rows.push(tap(9, 10, dock - 7_200_000, 201));
        rows.push(tap(9, 11, dock - 6_600_000, 202));
        rows.push(tap(9, 12, dock - 6_000_000, 203));
        let cards: Vec<Card> = (101..106).chain(199..204).map(card).collect();
        let hits = run_on(
            &rows,
            &[],
            &refs(&cards, &[(9, 10, dock)]),
            &FlagSettings::default(),
            &october(),
        );
        assert_eq!(
            of(&hits, Rule::ClockAnomaly),
            vec![(7, 3), (9, 10), (9, 11), (9, 12)]
        );
        // A tap whose time is wrong is judged by the clock rule only.
        assert!(hits.iter().filter(|h| (h.0, h.1) == (7, 3)).count() == 1);
    }

    #[test]
    fn the_trip_limit_counts_trips_not_repeats() {
        let t0 = ms("2026-10-12 07:00:00");
        let cards = [(100, None, 0, i64::MAX, None, None, Some(3))];
        let rows = vec![
            tap(7, 1, t0, 100),
            tap(8, 1, t0 + 60_000, 100), // a repeat: not a trip
            tap(7, 2, t0 + 3_600_000, 100),
            tap(7, 3, t0 + 7_200_000, 100),
            tap(7, 4, t0 + 10_800_000, 100),
            tap(7, 5, t0 + 14_400_000, 100),
        ];
        let hits = run_on(
            &rows,
            &[],
            &refs(&cards, &[]),
            &FlagSettings::default(),
            &october(),
        );
        assert_eq!(of(&hits, Rule::TripLimit), vec![(7, 4), (7, 5)]);
        assert_eq!(of(&hits, Rule::RepeatSameVehicle), vec![(8, 1)]);
    }

    #[test]
    fn a_card_only_ever_on_one_vehicle() {
        // Card 100: ten taps, all on bus 1012. Card 200: nine there and one
        // on bus 1020.
        let mut rows = Vec::new();
        for d in 0..10 {
            rows.push(tap(
                7,
                2 * d + 1,
                ms(&format!("2026-10-{:02} 09:00:00", d + 1)),
                100,
            ));
            if d < 9 {
                rows.push(tap(
                    7,
                    2 * d + 2,
                    ms(&format!("2026-10-{:02} 10:00:00", d + 1)),
                    200,
                ));
            }
        }
        rows.push(tap(9, 1, ms("2026-10-20 10:00:00"), 200));
        let hits = run_on(
            &rows,
            &[],
            &refs(&[card(100), card(200)], &[]),
            &FlagSettings::default(),
            &october(),
        );
        let single = of(&hits, Rule::SingleVehicleCard);
        assert_eq!(single.len(), 10, "{hits:?}");
        assert!(single.iter().all(|h| h.1 % 2 == 1));
    }
}
