//! A month's actual benefit cost, counted and priced exactly as `kartka
//! compensation` counts it: `compensation::count::compute` (the same month
//! layer over the tap store, the same pricing function, held taps left
//! out), summed by community × category × carrier × route × zone, plus the
//! card-making costs each community pays (P18).
//!
//! A counted month is cached in `HOME/budget/actuals/month=YYYY-MM.json`
//! under a key of everything the count reads: the month's latest flag run
//! (its file's SHA-256), the clearings, the month's live tap files, the
//! registry's cards (number, category, community, card cost and payer)
//! and the tariffs. A late correction (taps imported, a re-flag, a
//! clearing, a card moved to another community, a tariff fixed) changes
//! the key, and the month is counted again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Error;
use crate::compensation::Error as CountError;
use crate::config::Config;
use crate::home::Home;
use crate::registry::Registry;

/// One kind of trip in a month: paid trips and what they are worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub community: String,
    pub category: String,
    pub carrier: Option<i32>,
    pub route: i32,
    pub zone: Option<i32>,
    pub trips: i64,
    pub kopecks: i64,
}

/// What the store says of a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Counted as compensation counts it.
    Counted,
    /// Taps are stored but not judged yet (`kartka taps flag`), or taps
    /// came in since: nothing is known to hold, so it is not counted.
    NotFlagged,
    /// No taps in the store.
    NoTaps,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    pub month: String,
    pub state: State,
    pub lines: Vec<Line>,
    /// Community → (cards made, their cost in kopecks).
    pub fees: BTreeMap<String, (i64, i64)>,
    /// (community, category, distinct cards that rode): the riders, whose
    /// trend the forecast grows by.
    #[serde(default)]
    pub riders: Vec<(String, String, i64)>,
}

impl Month {
    pub fn kopecks(&self) -> i64 {
        self.lines.iter().map(|l| l.kopecks).sum()
    }
    pub fn fees_kopecks(&self) -> i64 {
        self.fees.values().map(|f| f.1).sum()
    }
}

#[derive(Serialize, Deserialize)]
struct Cached {
    key: String,
    month: Month,
}

/// What every month's count reads from the registry and the
/// configuration, once per run.
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(reg: &Registry, config: &Config) -> Result<Fingerprint, Error> {
        let err = |e| Error::Registry(reg.err(e));
        let mut text = format!("{:?}\n", config.tariffs);
        let mut stmt = reg
            .conn()
            .prepare(
                "SELECT number, category, community, cost_payer, cost_kopecks, created_at FROM cards ORDER BY number",
            )
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            use std::fmt::Write;
            let _ = writeln!(
                text,
                "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
                r.get::<_, rusqlite::types::Value>(0).map_err(err)?,
                r.get::<_, rusqlite::types::Value>(1).map_err(err)?,
                r.get::<_, rusqlite::types::Value>(2).map_err(err)?,
                r.get::<_, rusqlite::types::Value>(3).map_err(err)?,
                r.get::<_, rusqlite::types::Value>(4).map_err(err)?,
                r.get::<_, rusqlite::types::Value>(5).map_err(err)?,
            );
        }
        let clearings: (i64, i64) = reg
            .conn()
            .query_row(
                "SELECT count(*), coalesce(max(id), 0) FROM flag_clearings",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(err)?;
        text.push_str(&format!("clearings {clearings:?}\n"));
        Ok(Fingerprint(crate::hash::sha256_hex(text.as_bytes())))
    }
}

/// The key of `month`'s count: the fingerprint, its latest flag run and
/// its live tap files.
fn key(reg: &Registry, fp: &Fingerprint, month: &str) -> Result<String, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let run = crate::flags::store::latest_run(reg, month)
        .map_err(|e| Error::Count(CountError::from(e)))?
        .map(|r| format!("{} {} {}", r.at, r.sha256, r.taps))
        .unwrap_or_default();
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT id, sha256 FROM tap_files WHERE replaced_at IS NULL AND month = ?1 ORDER BY id",
        )
        .map_err(err)?;
    let files: Vec<String> = stmt
        .query_map([month], |r| {
            Ok(format!(
                "{}:{}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?
            ))
        })
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    Ok(crate::hash::sha256_hex(
        // v3: taps flagged for review only are paid.
        format!("v3\n{}\n{month}\n{run}\n{}", fp.0, files.join(",")).as_bytes(),
    ))
}

/// `month`'s actuals, from the cache when nothing it reads has changed.
pub fn month(
    home: &Home,
    reg: &Registry,
    config: &Config,
    fp: &Fingerprint,
    month: &str,
) -> Result<Month, Error> {
    let path = home
        .root()
        .join(format!("budget/actuals/month={month}.json"));
    let key = key(reg, fp, month)?;
    if let Some(c) = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Cached>(&b).ok())
        .filter(|c| c.key == key)
    {
        return Ok(c.month);
    }
    let counted = match crate::compensation::compute(home, reg, config, month) {
        Ok(m) => m,
        Err(CountError::NoTaps { .. }) => return Ok(empty(month, State::NoTaps)),
        Err(CountError::NotFlagged { .. } | CountError::StaleFlags { .. }) => {
            return Ok(empty(month, State::NotFlagged));
        }
        Err(e) => return Err(Error::Count(e)),
    };
    // (community, category, carrier, route, zone) → (trips, kopecks).
    type Key = (String, String, Option<i32>, i32, Option<i32>);
    let mut sums: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for c in counted.paid() {
        let e = sums
            .entry((
                c.community.clone(),
                c.category.clone(),
                c.carrier,
                c.route,
                c.zone,
            ))
            .or_default();
        e.0 += c.trips;
        e.1 += c.amount();
    }
    let out = Month {
        month: month.to_string(),
        state: State::Counted,
        lines: sums
            .into_iter()
            .map(
                |((community, category, carrier, route, zone), (trips, kopecks))| Line {
                    community,
                    category,
                    carrier,
                    route,
                    zone,
                    trips,
                    kopecks,
                },
            )
            .collect(),
        fees: counted
            .fees
            .iter()
            .map(|(c, f)| (c.clone(), (f.cards, f.kopecks)))
            .collect(),
        riders: riders(home, reg, month)?,
    };
    // The cache is a convenience: a month that cannot be cached is
    // counted again next time.
    if let Some(dir) = path.parent()
        && std::fs::create_dir_all(dir).is_ok()
        && let Ok(bytes) = serde_json::to_vec(&Cached {
            key,
            month: out.clone(),
        })
    {
        let _ = crate::taps::write_durably(dir, &format!("month={month}.json"), &bytes);
    }
    Ok(out)
}

fn empty(month: &str, state: State) -> Month {
    Month {
        month: month.to_string(),
        state,
        lines: Vec::new(),
        fees: BTreeMap::new(),
        riders: Vec::new(),
    }
}

/// The distinct cards that rode in `month`, per community and category.
fn riders(home: &Home, reg: &Registry, month: &str) -> Result<Vec<(String, String, i64)>, Error> {
    use polars::prelude::*;
    let first = crate::time::parse_month(month).expect("a checked month");
    let count = |e: crate::taps::Error| Error::Count(CountError::from(e));
    let taps = crate::taps::month::accepted(home, reg, first, crate::taps::month::MONEY_CHUNK)
        .map_err(count)?;
    if taps.is_empty() {
        return Ok(Vec::new());
    }
    let crate::taps::month::CardFrame {
        cards,
        categories,
        communities,
    } = crate::taps::month::CardFrame::load(reg).map_err(count)?;
    let polars = |e: PolarsError| Error::Count(CountError::Polars(e.to_string()));
    let rode = crate::taps::month::count_chunked(
        taps,
        |lf| lf.select([col("card_number")]),
        &[&["card_number"]],
    )
    .map_err(polars)?
    .remove(0);
    let df = rode
        .lazy()
        .inner_join(cards.lazy(), col("card_number"), col("card_number"))
        .group_by([col("_com"), col("_cat")])
        .agg([len().cast(DataType::Int64).alias("n")])
        .collect()
        .map_err(polars)?;
    let com = df.column("_com").map_err(polars)?.i32().map_err(polars)?;
    let cat = df.column("_cat").map_err(polars)?.i32().map_err(polars)?;
    let n = df.column("n").map_err(polars)?.i64().map_err(polars)?;
    let mut out: Vec<(String, String, i64)> = (0..df.height())
        .map(|i| {
            (
                crate::taps::month::CardFrame::name(&communities, com.get(i)),
                crate::taps::month::CardFrame::name(&categories, cat.get(i)),
                n.get(i).unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    Ok(out)
}
