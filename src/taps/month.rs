//! The one read of the tap store by month. The flags, the compensation
//! workbooks, the period reports and a resident's export all read the
//! store's live files through here: `scan` (a month's files as lazy
//! chunks), `accepted` (a month's accepted taps with their Kyiv day and
//! tap key, in the columns the money path groups by, in chunks that
//! `count_chunked` counts one at a time), `tail` (the
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

/// The most taps a money pass (compensation, reports, the budget's
/// actuals) holds at once: a bigger month is read in row ranges of about
/// this many taps and the ranges' counts are added up, so memory stays
/// bounded whatever the month's size.
pub const MONEY_CHUNK: u64 = 8_000_000;

/// A month's accepted taps, as the money path reads them: `t` (UTC ms),
/// `_key` (see `tap_key`), `validator_id` i64, `card_number` i64,
/// `carrier_id` i32, `route` i32, `tariff_zone` i32 and `_day` (the Kyiv
/// day, as the wall-clock milliseconds of its midnight: see
/// `MonthClock::date_of_local_day`), in chunks of at most `chunk` stored
/// rows. Empty when the month has no file.
pub fn accepted(
    home: &Home,
    reg: &Registry,
    first: NaiveDate,
    chunk: u64,
) -> Result<Vec<LazyFrame>, Error> {
    let month = first.format("%Y-%m").to_string();
    let clock = MonthClock::for_month(first);
    Ok(scan(home, reg, &month, chunk)?
        .into_iter()
        .map(|lf| {
            lf.filter(col("result").eq(lit("accepted")))
                .select([
                    col("tapped_at").cast(DataType::Int64).alias("t"),
                    tap_key(),
                    col("validator_id").cast(DataType::Int64),
                    col("card_number").cast(DataType::Int64),
                    col("carrier_id").cast(DataType::Int32),
                    col("route").cast(DataType::Int32),
                    col("tariff_zone").cast(DataType::Int32),
                ])
                .with_columns([clock.local_day(col("t")).alias("_day")])
        })
        .collect())
}

/// How many of `month`'s stored taps (its accepted ones only, with
/// `accepted`) `filter` keeps, read a chunk at a time.
pub fn count_where(
    home: &Home,
    reg: &Registry,
    month: &str,
    accepted: bool,
    filter: Expr,
) -> Result<usize, Error> {
    let mut n = 0usize;
    for mut lf in scan(home, reg, month, MONEY_CHUNK)? {
        if accepted {
            lf = lf.filter(col("result").eq(lit("accepted")));
        }
        let df = lf
            .filter(filter.clone())
            .select([len().cast(DataType::UInt64).alias("n")])
            .collect()
            .map_err(polars(home))?;
        let c = df.column("n").map_err(polars(home))?;
        let c = c.u64().map_err(polars(home))?;
        n += c.get(0).unwrap_or(0) as usize;
    }
    Ok(n)
}

/// Counts taps a chunk at a time: each chunk is prepared by `each` (its
/// joins and filters), read once, and counted (`n`) by every set of key
/// columns in `by`; each chunk's counts are added into the running totals
/// at once. One frame per key set. Memory follows a chunk and the number
/// of groups, never the month: no whole month is held, nor every chunk's
/// groups (a 100 M-tap month's (key, card) pairs, kept per chunk and added
/// up at the end, took 11 GB). Key sets with few groups only: the totals
/// are regrouped at every chunk, so a key set whose groups grow with the
/// month (a card in it) costs chunks × groups; count distinct cards per key
/// with `count_chunked_with` and `CardsPerKey` instead.
pub fn count_chunked(
    chunks: Vec<LazyFrame>,
    each: impl Fn(LazyFrame) -> LazyFrame,
    by: &[&[&str]],
) -> PolarsResult<Vec<DataFrame>> {
    count_chunked_with(chunks, each, by, &mut |_| Ok(()))
}

/// `count_chunked`, and `visit` sees every prepared chunk (all its rows)
/// before it is counted and dropped.
pub fn count_chunked_with(
    chunks: Vec<LazyFrame>,
    each: impl Fn(LazyFrame) -> LazyFrame,
    by: &[&[&str]],
    visit: &mut dyn FnMut(&DataFrame) -> PolarsResult<()>,
) -> PolarsResult<Vec<DataFrame>> {
    polars_ensure!(!chunks.is_empty(), NoData: "no taps to count");
    let group = |lf: LazyFrame, keys: &[&str], n: Expr| {
        lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
            .agg([n.alias("n")])
            .collect()
    };
    let mut totals: Vec<Option<DataFrame>> = vec![None; by.len()];
    for chunk in chunks {
        let df = each(chunk).collect()?;
        visit(&df)?;
        for (keys, total) in by.iter().zip(totals.iter_mut()) {
            let counted = group(df.clone().lazy(), keys, len().cast(DataType::Int64))?;
            *total = Some(match total.take() {
                None => counted,
                Some(t) => group(
                    concat([t.lazy(), counted.lazy()], UnionArgs::default())?,
                    keys,
                    col("n").sum(),
                )?,
            });
        }
    }
    Ok(totals.into_iter().flatten().collect())
}

/// The distinct cards behind each key (a report's validator, route,
/// carrier…), added a chunk at a time: one compressed bitmap of card
/// numbers a key (`roaring`). A chunk's distinct (key, card) pairs are
/// found by polars (a hash), sorted a key at a time, made into one bitmap
/// a key and OR-ed into the key's: adding a chunk costs its pairs and the
/// bitmaps' containers, and memory follows the distinct pairs at a few
/// bytes each. Regrouping (key, card) pairs into a frame at every chunk
/// cost chunks × pairs (a 100 M-tap month's report by carrier took 93 s
/// and 8.2 GB that way); a bitmap insert a tap cost 0.4 µs (sparse keys
/// make array containers, and each insert shifts one); polars' sort by
/// (key, card), 0.2 µs a pair. A missing card number counts as one card,
/// the same as -1 (stored numbers are positive).
#[derive(Default)]
pub struct CardsPerKey {
    index: rustc_hash::FxHashMap<i64, usize>,
    cards: Vec<roaring::RoaringTreemap>,
}

impl CardsPerKey {
    /// Adds the (key, card) rows of a chunk: `key` and `card` are Int64
    /// columns of `df`; a missing key is -1.
    pub fn add(&mut self, df: &DataFrame, key: &str, card: &str) -> PolarsResult<()> {
        let pairs = df
            .select([key, card])?
            .lazy()
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        let keys = pairs.column(key)?.i64()?;
        let cards = pairs.column(card)?.i64()?;
        let mut runs: rustc_hash::FxHashMap<i64, Vec<u64>> = Default::default();
        for (k, c) in keys.iter().zip(cards.iter()) {
            let c = c.map_or(u64::MAX, |c| c as u64);
            runs.entry(k.unwrap_or(-1)).or_default().push(c);
        }
        for (k, mut run) in runs {
            // Unique (key, card) pairs, but a missing card's u64::MAX
            // can be a -1's too.
            run.sort_unstable();
            run.dedup();
            let chunk =
                roaring::RoaringTreemap::from_sorted_iter(run).expect("sorted and deduplicated");
            let next = self.cards.len();
            let slot = *self.index.entry(k).or_insert(next);
            if slot == next {
                self.cards.push(chunk);
            } else {
                self.cards[slot] |= chunk;
            }
        }
        Ok(())
    }

    /// The number of distinct cards seen with `key`.
    pub fn count(&self, key: i64) -> i64 {
        self.index
            .get(&key)
            .map_or(0, |&slot| self.cards[slot].len() as i64)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(a: &[i32], b: &[i64]) -> DataFrame {
        DataFrame::new(
            a.len(),
            vec![
                Series::new(
                    "a".into(),
                    a.iter().map(|&x| (x >= 0).then_some(x)).collect::<Vec<_>>(),
                )
                .into(),
                Series::new("b".into(), b).into(),
            ],
        )
        .unwrap()
    }

    fn sorted(df: &DataFrame, keys: &[&str]) -> Vec<String> {
        let mut rows: Vec<String> = (0..df.height())
            .map(|i| {
                keys.iter()
                    .chain(["n"].iter())
                    .map(|k| format!("{:?}", df.column(k).unwrap().get(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        rows.sort();
        rows
    }

    proptest! {
        /// Counting a month a chunk at a time gives the groups of counting
        /// it whole, nulls in the keys included, for every key set.
        #[test]
        fn counts_in_chunks_add_up_to_the_whole(
            rows in proptest::collection::vec((-1i32..4, 0i64..6), 1..300),
            cut in 1usize..50,
        ) {
            let (a, b): (Vec<i32>, Vec<i64>) = rows.iter().copied().unzip();
            let whole = frame(&a, &b);
            let chunks: Vec<LazyFrame> = a
                .chunks(cut)
                .zip(b.chunks(cut))
                .map(|(a, b)| frame(a, b).lazy())
                .collect();
            let by: &[&[&str]] = &[&["a", "b"], &["a"]];
            let chunked = count_chunked(chunks, |lf| lf, by).unwrap();
            let one = count_chunked(vec![whole.lazy()], |lf| lf, by).unwrap();
            for (i, keys) in by.iter().enumerate() {
                prop_assert_eq!(sorted(&chunked[i], keys), sorted(&one[i], keys));
            }
            // And by hand: the count of each value of `a`.
            let mut expected = std::collections::BTreeMap::<Option<i32>, i64>::new();
            for &x in &a {
                *expected.entry((x >= 0).then_some(x)).or_default() += 1;
            }
            let got: std::collections::BTreeMap<Option<i32>, i64> = {
                let (k, n) = (chunked[1].column("a").unwrap(), chunked[1].column("n").unwrap());
                let (k, n) = (k.i32().unwrap(), n.i64().unwrap());
                (0..chunked[1].height()).map(|i| (k.get(i), n.get(i).unwrap())).collect()
            };
            prop_assert_eq!(got, expected);
        }
    }

    proptest! {
        /// Each key's distinct cards, gathered a chunk at a time while the
        /// chunks are counted, are the distinct cards of the whole (a
        /// missing key is -1, a missing card the card -1), and the
        /// counts themselves are unchanged by the visit.
        #[test]
        fn cards_per_key_are_the_distinct_cards_of_the_whole(
            rows in proptest::collection::vec(
                (proptest::option::weighted(0.9, 0i64..5), proptest::option::weighted(0.95, -5i64..40)),
                1..400,
            ),
            cut in 1usize..60,
        ) {
            let df = |rows: &[(Option<i64>, Option<i64>)]| {
                let (k, c): (Vec<Option<i64>>, Vec<Option<i64>>) = rows.iter().copied().unzip();
                DataFrame::new(
                    rows.len(),
                    vec![Series::new("k".into(), k).into(), Series::new("c".into(), c).into()],
                )
                .unwrap()
            };
            let mut cards = CardsPerKey::default();
            let chunks: Vec<LazyFrame> = rows.chunks(cut).map(|r| df(r).lazy()).collect();
            let counted = count_chunked_with(chunks, |lf| lf, &[&["k"]], &mut |d| {
                cards.add(d, "k", "c")
            })
            .unwrap();
            let plain = count_chunked(vec![df(&rows).lazy()], |lf| lf, &[&["k"]]).unwrap();
            prop_assert_eq!(sorted(&counted[0], &["k"]), sorted(&plain[0], &["k"]));
            let mut expected = std::collections::BTreeMap::<i64, std::collections::BTreeSet<i64>>::new();
            for &(k, c) in &rows {
                expected.entry(k.unwrap_or(-1)).or_default().insert(c.unwrap_or(-1));
            }
            for key in -1..6 {
                let want = expected.get(&key).map_or(0, |s| s.len() as i64);
                prop_assert_eq!(cards.count(key), want, "key {}", key);
            }
        }
    }

    #[test]
    fn no_chunk_is_an_error_not_an_empty_frame() {
        let err = count_chunked(Vec::new(), |lf| lf, &[&["a"]]).unwrap_err();
        assert!(err.to_string().contains("no taps to count"), "{err}");
    }
}
