//! The one read of the tap store by month. The flags, the compensation
//! workbooks, the period reports and a resident's export all read the
//! store's live files through here: `scan` (a month's files as lazy
//! chunks), `accepted` (a month's accepted taps with their Kyiv day and
//! tap key, in the columns the money path groups by), `tail` (the
//! previous month's last hours, where a rule needs them) and `all` (every
//! month, for one person's taps).

use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::FxHashSet;

use super::Error;
use crate::home::Home;
use crate::registry::Registry;
use crate::time::MonthClock;

fn polars(home: &Home) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::Parquet {
        path: home.taps(),
        message: e.to_string(),
    }
}

fn scan_file(home: &Home, rel: &str) -> Result<LazyFrame, Error> {
    let path: PathBuf = home.root().join(rel);
    if !path.exists() {
        return Err(Error::Missing { path });
    }
    let p = PlRefPath::try_from_path(&path).map_err(polars(home))?;
    LazyFrame::scan_parquet(p, ScanArgsParquet::default()).map_err(polars(home))
}

/// The store's live files for `month` as lazy scans of at most `chunk`
/// rows each (a big file in row ranges, small files together), so a
/// slice of the month can be read a chunk at a time. Empty when the month
/// has no file. The store's schema, every result.
pub fn scan(home: &Home, reg: &Registry, month: &str, chunk: u64) -> Result<Vec<LazyFrame>, Error> {
    let files = super::parquet::live_files_with_rows(reg, Some(month))?;
    let mut chunks: Vec<LazyFrame> = Vec::new();
    let mut pending: (Vec<LazyFrame>, u64) = (Vec::new(), 0);
    let flush =
        |pending: &mut (Vec<LazyFrame>, u64), chunks: &mut Vec<LazyFrame>| -> Result<(), Error> {
            if !pending.0.is_empty() {
                let frames = std::mem::take(&mut pending.0);
                chunks.push(concat(frames, UnionArgs::default()).map_err(polars(home))?);
                pending.1 = 0;
            }
            Ok(())
        };
    for (rel, rows) in files {
        let lf = scan_file(home, &rel)?;
        if rows > chunk {
            flush(&mut pending, &mut chunks)?;
            let mut off = 0;
            while off < rows {
                chunks.push(
                    lf.clone()
                        .slice(off as i64, chunk.min(rows - off) as IdxSize),
                );
                off += chunk;
            }
        } else {
            if pending.1 + rows > chunk {
                flush(&mut pending, &mut chunks)?;
            }
            pending.0.push(lf);
            pending.1 += rows;
        }
    }
    flush(&mut pending, &mut chunks)?;
    Ok(chunks)
}

/// The previous month's taps from `from_ms` on (the context a rule that
/// looks back needs at the month's start), in chunks like `scan`.
pub fn tail(
    home: &Home,
    reg: &Registry,
    first: NaiveDate,
    from_ms: i64,
    chunk: u64,
) -> Result<Vec<LazyFrame>, Error> {
    let prev = crate::time::previous_month(first)
        .format("%Y-%m")
        .to_string();
    Ok(scan(home, reg, &prev, chunk)?
        .into_iter()
        .map(|lf| lf.filter(col("tapped_at").cast(DataType::Int64).gt_eq(lit(from_ms))))
        .collect())
}

/// A month's accepted taps, as the money path reads them: `t` (UTC ms),
/// `_key` (see `tap_key`), `validator_id` i64, `card_number` i64,
/// `carrier_id` i32, `route` i32, `tariff_zone` i32 and `_day` (the Kyiv
/// day, as the wall-clock milliseconds of its midnight: see
/// `MonthClock::date_of_local_day`). `None` when the month has no file.
pub fn accepted(home: &Home, reg: &Registry, first: NaiveDate) -> Result<Option<LazyFrame>, Error> {
    let month = first.format("%Y-%m").to_string();
    let scans = scan(home, reg, &month, u64::MAX)?;
    if scans.is_empty() {
        return Ok(None);
    }
    let clock = MonthClock::for_month(first);
    let lf = concat(scans, UnionArgs::default())
        .map_err(polars(home))?
        .filter(col("result").eq(lit("accepted")))
        .select([
            col("tapped_at").cast(DataType::Int64).alias("t"),
            tap_key(),
            col("validator_id").cast(DataType::Int64),
            col("card_number").cast(DataType::Int64),
            col("carrier_id").cast(DataType::Int32),
            col("route").cast(DataType::Int32),
            col("tariff_zone").cast(DataType::Int32),
        ])
        .with_columns([clock.local_day(col("t")).alias("_day")]);
    Ok(Some(lf))
}

/// Every live file of the store, every month and result (one resident's
/// export filters it by card). `None` when the store is empty.
pub fn all(home: &Home, reg: &Registry) -> Result<Option<LazyFrame>, Error> {
    let files = super::parquet::live_files(reg, None)?;
    if files.is_empty() {
        return Ok(None);
    }
    let scans = files
        .iter()
        .map(|rel| scan_file(home, rel))
        .collect::<Result<Vec<_>, _>>()?;
    concat(scans, UnionArgs::default())
        .map(Some)
        .map_err(polars(home))
}

/// (validator, seq) as the one number a month's passes join on.
pub fn key(validator: i32, seq: i64) -> i64 {
    i64::from(validator) * (1i64 << 40) + seq
}

/// `key` of a tap in the store, as `_key`.
pub fn tap_key() -> Expr {
    (col("validator_id").cast(DataType::Int64) * lit(1i64 << 40) + col("seq").cast(DataType::Int64))
        .alias("_key")
}

/// Taps as a frame to left-join on `_key`, with `_held` true.
pub fn held_frame(held: &FxHashSet<(i32, i64)>) -> PolarsResult<DataFrame> {
    let mut keys: Vec<i64> = held.iter().map(|&(v, s)| key(v, s)).collect();
    keys.sort_unstable();
    DataFrame::new(
        keys.len(),
        vec![
            Series::new("_key".into(), keys).into(),
            Series::new("_held".into(), vec![true; held.len()]).into(),
        ],
    )
}

/// The registry's cards, to join on `card_number`: category and community
/// as small numbers (`_cat`, `_com`) indexing the two lists.
pub struct CardFrame {
    pub cards: DataFrame,
    pub categories: Vec<String>,
    pub communities: Vec<String>,
}

impl CardFrame {
    pub fn load(reg: &Registry) -> Result<CardFrame, Error> {
        let sql = |e| Error::Registry(reg.err(e));
        let mut categories: Vec<String> = Vec::new();
        let mut communities: Vec<String> = Vec::new();
        let index = |list: &mut Vec<String>, v: String| -> i32 {
            match list.iter().position(|x| *x == v) {
                Some(i) => i as i32,
                None => {
                    list.push(v);
                    (list.len() - 1) as i32
                }
            }
        };
        let (mut numbers, mut cat, mut com) = (Vec::new(), Vec::new(), Vec::new());
        let mut stmt = reg
            .conn()
            .prepare("SELECT number, category, community FROM cards")
            .map_err(sql)?;
        let mut rows = stmt.query([]).map_err(sql)?;
        while let Some(r) = rows.next().map_err(sql)? {
            numbers.push(r.get::<_, i64>(0).map_err(sql)?);
            cat.push(index(&mut categories, r.get(1).map_err(sql)?));
            com.push(index(&mut communities, r.get(2).map_err(sql)?));
        }
        let cards = DataFrame::new(
            numbers.len(),
            vec![
                Series::new("card_number".into(), numbers).into(),
                Series::new("_cat".into(), cat).into(),
                Series::new("_com".into(), com).into(),
            ],
        )
        .map_err(|e| Error::Parquet {
            path: "cards".into(),
            message: e.to_string(),
        })?;
        Ok(CardFrame {
            cards,
            categories,
            communities,
        })
    }

    /// The name behind a `_cat` / `_com` number; empty for an unknown card.
    pub fn name(list: &[String], v: Option<i32>) -> String {
        v.and_then(|v| list.get(v as usize).cloned())
            .unwrap_or_default()
    }
}
