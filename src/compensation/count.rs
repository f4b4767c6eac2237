//! The month's trips, counted and priced: one polars pass over the tap
//! store into a small cube of trip counts per (carrier, route, tariff
//! zone, Kyiv day, benefit category, community, held), each cell priced in
//! integer kopecks by the tariff in force; the held taps with their flags;
//! the card-making costs each community owes (P18).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::Error;
use crate::config::Config;
use crate::flags::engine::{DAY_MS, MonthClock};
use crate::home::Home;
use crate::registry::Registry;
use crate::tariff::{Tariff, Trip};

/// Trips of one kind on one Kyiv day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub carrier: Option<i32>,
    pub route: i32,
    pub zone: Option<i32>,
    pub day: NaiveDate,
    /// Benefit category code; empty for a card the registry does not know.
    pub category: String,
    /// The holder's community (КАТОТТГ); empty for an unknown card.
    pub community: String,
    /// Held by a flag nobody cleared: not paid.
    pub held: bool,
    pub trips: i64,
    /// One trip's fare, kopecks.
    pub fare: i64,
    /// The index of the tariff entry that priced it.
    pub tariff: usize,
}

impl Cell {
    pub fn amount(&self) -> i64 {
        self.trips * self.fare
    }
}

/// A tap the flags hold, for the carrier's list.
#[derive(Debug, Clone)]
pub struct HeldTap {
    pub id: String,
    pub tapped_at_ms: i64,
    pub validator: i32,
    pub seq: i64,
    pub vehicle: i32,
    pub carrier: Option<i32>,
    pub route: i32,
    pub card: i64,
    /// The rule codes not cleared, comma-separated.
    pub rules: String,
    pub evidence_uk: String,
    pub evidence_en: String,
    pub fare: i64,
}

/// Cards made in the month whose cost a community owes (P18).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fees {
    pub cards: i64,
    pub kopecks: i64,
}

#[derive(Debug, Clone)]
pub struct Carrier {
    pub name: String,
    pub edrpou: Option<String>,
}

/// A file the numbers come from, with its hash.
#[derive(Debug, Clone)]
pub struct Source {
    pub what: &'static str,
    pub path: String,
    pub sha256: String,
    pub rows: Option<i64>,
}

/// Everything the month's workbooks say.
#[derive(Debug, Clone)]
pub struct Month {
    pub month: String,
    pub first: NaiveDate,
    pub days: u32,
    pub cells: Vec<Cell>,
    pub held: Vec<HeldTap>,
    /// Per paying community (`cost_payer`).
    pub fees: BTreeMap<String, Fees>,
    pub carriers: BTreeMap<i32, Carrier>,
    pub tariffs: Vec<Tariff>,
    pub sources: Vec<Source>,
    /// Accepted taps in the month, counted or held.
    pub accepted: i64,
    pub generated_at_ms: i64,
    pub flag_run_at: String,
}

/// Trips and kopecks, paid and held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub trips: i64,
    pub kopecks: i64,
    pub held_trips: i64,
    pub held_kopecks: i64,
}

impl Month {
    pub fn paid(&self) -> impl Iterator<Item = &Cell> {
        self.cells.iter().filter(|c| !c.held)
    }

    /// The carriers with trips in the month (`None`: taps of no carrier).
    pub fn carrier_ids(&self) -> std::collections::BTreeSet<Option<i32>> {
        self.cells.iter().map(|c| c.carrier).collect()
    }

    /// One carrier's trips and kopecks, paid and held.
    pub fn carrier_totals(&self, carrier: Option<i32>) -> Totals {
        let mut t = Totals::default();
        for c in self.cells.iter().filter(|c| c.carrier == carrier) {
            if c.held {
                t.held_trips += c.trips;
                t.held_kopecks += c.amount();
            } else {
                t.trips += c.trips;
                t.kopecks += c.amount();
            }
        }
        t
    }
}

fn sql(reg: &Registry) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| Error::Registry(reg.err(e))
}

/// Counts and prices `month`. Needs a flag run that judged every accepted
/// tap now stored.
pub fn compute(home: &Home, reg: &Registry, config: &Config, month: &str) -> Result<Month, Error> {
    let first =
        crate::flags::parse_month(month).map_err(|_| Error::Month { text: month.into() })?;
    let month = first.format("%Y-%m").to_string();
    let clock = MonthClock::for_month(first);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .expect("a next month");
    let days = u32::try_from((next - first).num_days()).unwrap_or(31);
    let scans = crate::flags::scan(home, reg, &month, u64::MAX)?;
    if scans.is_empty() {
        return Err(Error::NoTaps { month });
    }
    let (flag_run_at, judged, flags_file, flags_sha): (String, i64, String, String) = reg
        .conn()
        .query_row(
            "SELECT at, taps, file, sha256 FROM flag_runs WHERE month = ?1 ORDER BY id DESC LIMIT 1",
            [&month],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NotFlagged {
                month: month.clone(),
            },
            e => sql(reg)(e),
        })?;
    let held_keys = crate::flags::held(home, reg, &month)?;

    let CardFrame {
        cards,
        categories,
        communities,
    } = card_frame(reg)?;
    let held_df = held_frame(&held_keys)?;

    let local = clock.local(col("t"));
    let cube = concat(scans, UnionArgs::default())
        .map_err(Error::polars)?
        .filter(col("result").eq(lit("accepted")))
        .select([
            col("tapped_at").cast(DataType::Int64).alias("t"),
            tap_key(),
            col("card_number").cast(DataType::Int64),
            col("carrier_id").cast(DataType::Int32),
            col("route").cast(DataType::Int32),
            col("tariff_zone").cast(DataType::Int32),
        ])
        .with_columns([(local.clone() - local % lit(DAY_MS)).alias("_day")])
        .left_join(held_df.lazy(), col("_key"), col("_key"))
        .left_join(cards.lazy(), col("card_number"), col("card_number"))
        .group_by([
            col("carrier_id"),
            col("route"),
            col("tariff_zone"),
            col("_day"),
            col("_cat"),
            col("_com"),
            col("_held").fill_null(lit(false)),
        ])
        .agg([len().cast(DataType::Int64).alias("trips")])
        .collect()
        .map_err(Error::polars)?;

    let local_start = clock.local_ms(clock.start_ms);
    let mut cells = Vec::with_capacity(cube.height());
    let mut accepted = 0;
    {
        let c = |n: &str| cube.column(n).map_err(Error::polars);
        let (carrier, route, zone) = (c("carrier_id")?, c("route")?, c("tariff_zone")?);
        let (carrier, route, zone) = (
            carrier.i32().map_err(Error::polars)?,
            route.i32().map_err(Error::polars)?,
            zone.i32().map_err(Error::polars)?,
        );
        let day = c("_day")?.i64().map_err(Error::polars)?;
        let cat = c("_cat")?.i32().map_err(Error::polars)?;
        let com = c("_com")?.i32().map_err(Error::polars)?;
        let held = c("_held")?.bool().map_err(Error::polars)?;
        let trips = c("trips")?.i64().map_err(Error::polars)?;
        for i in 0..cube.height() {
            let n = trips.get(i).unwrap_or(0);
            accepted += n;
            let offset = (day.get(i).unwrap_or(local_start) - local_start).div_euclid(DAY_MS);
            let day = first + chrono::Days::new(offset.clamp(0, i64::from(days) - 1) as u64);
            let trip = Trip {
                route: route.get(i).unwrap_or(0),
                carrier: carrier.get(i),
                zone: zone.get(i),
            };
            let name = |list: &[String], v: Option<i32>| {
                v.and_then(|v| list.get(v as usize).cloned())
                    .unwrap_or_default()
            };
            cells.push((
                trip,
                day,
                name(&categories, cat.get(i)),
                name(&communities, com.get(i)),
                held.get(i).unwrap_or(false),
                n,
            ));
        }
    }
    if accepted != judged {
        return Err(Error::StaleFlags {
            month,
            stored: accepted.max(0) as u64,
            judged: judged.max(0) as u64,
        });
    }
    let cells = price(&config.tariffs, cells)?;
    let held = held_taps(home, reg, config, &month, &held_keys, &cells)?;

    let mut carriers = BTreeMap::new();
    {
        let mut stmt = reg
            .conn()
            .prepare("SELECT id, name, edrpou FROM carriers")
            .map_err(sql(reg))?;
        let mut rows = stmt.query([]).map_err(sql(reg))?;
        while let Some(r) = rows.next().map_err(sql(reg))? {
            carriers.insert(
                r.get::<_, i32>(0).map_err(sql(reg))?,
                Carrier {
                    name: r.get(1).map_err(sql(reg))?,
                    edrpou: r.get(2).map_err(sql(reg))?,
                },
            );
        }
    }
    let fees = fees(reg, first, next)?;
    let mut sources = Vec::new();
    {
        let mut stmt = reg
            .conn()
            .prepare(
                "SELECT path, sha256, rows FROM tap_files WHERE replaced_at IS NULL AND month = ?1 ORDER BY id",
            )
            .map_err(sql(reg))?;
        let mut rows = stmt.query([&month]).map_err(sql(reg))?;
        while let Some(r) = rows.next().map_err(sql(reg))? {
            sources.push(Source {
                what: "taps",
                path: r.get(0).map_err(sql(reg))?,
                sha256: r.get(1).map_err(sql(reg))?,
                rows: Some(r.get(2).map_err(sql(reg))?),
            });
        }
    }
    sources.push(Source {
        what: "flags",
        path: flags_file,
        sha256: flags_sha,
        rows: None,
    });
    if let Ok(bytes) = std::fs::read(home.config()) {
        sources.push(Source {
            what: "config",
            path: "kartka.toml".into(),
            sha256: crate::hash::sha256_hex(&bytes),
            rows: None,
        });
    }
    Ok(Month {
        month,
        first,
        days,
        cells,
        held,
        fees,
        carriers,
        tariffs: config.tariffs.clone(),
        sources,
        accepted,
        generated_at_ms: chrono::Utc::now().timestamp_millis(),
        flag_run_at,
    })
}

/// (validator, seq) as the one key the count joins on.
fn key(validator: i32, seq: i64) -> i64 {
    i64::from(validator) * (1i64 << 40) + seq
}

/// `key` of a tap in the store, as `_key`.
pub(crate) fn tap_key() -> Expr {
    (col("validator_id").cast(DataType::Int64) * lit(1i64 << 40) + col("seq").cast(DataType::Int64))
        .alias("_key")
}

/// The held taps as a frame to left-join on `_key`: `_held` is true.
pub(crate) fn held_frame(held_keys: &FxHashSet<(i32, i64)>) -> Result<DataFrame, Error> {
    let mut held_v: Vec<i64> = held_keys.iter().map(|&(v, s)| key(v, s)).collect();
    held_v.sort_unstable();
    DataFrame::new(
        held_v.len(),
        vec![
            Series::new("_key".into(), held_v).into(),
            Series::new("_held".into(), vec![true; held_keys.len()]).into(),
        ],
    )
    .map_err(Error::polars)
}

/// The registry's cards, to join on `card_number`: category and community
/// as small numbers (`_cat`, `_com`) indexing the two lists.
pub(crate) struct CardFrame {
    pub cards: DataFrame,
    pub categories: Vec<String>,
    pub communities: Vec<String>,
}

pub(crate) fn card_frame(reg: &Registry) -> Result<CardFrame, Error> {
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
        .map_err(sql(reg))?;
    let mut rows = stmt.query([]).map_err(sql(reg))?;
    while let Some(r) = rows.next().map_err(sql(reg))? {
        numbers.push(r.get::<_, i64>(0).map_err(sql(reg))?);
        cat.push(index(&mut categories, r.get(1).map_err(sql(reg))?));
        com.push(index(&mut communities, r.get(2).map_err(sql(reg))?));
    }
    let cards = DataFrame::new(
        numbers.len(),
        vec![
            Series::new("card_number".into(), numbers).into(),
            Series::new("_cat".into(), cat).into(),
            Series::new("_com".into(), com).into(),
        ],
    )
    .map_err(Error::polars)?;
    Ok(CardFrame {
        cards,
        categories,
        communities,
    })
}

type Raw = (Trip, NaiveDate, String, String, bool, i64);

/// Prices every cell; a cell no tariff covers stops the month (nothing is
/// written with a trip worth nothing).
fn price(tariffs: &[Tariff], raw: Vec<Raw>) -> Result<Vec<Cell>, Error> {
    let mut memo: FxHashMap<(Trip, NaiveDate), Option<usize>> = FxHashMap::default();
    let mut cells = Vec::with_capacity(raw.len());
    for (trip, day, category, community, held, trips) in raw {
        let found = *memo.entry((trip, day)).or_insert_with(|| {
            crate::tariff::tariff_for(tariffs, &trip, day)
                .and_then(|t| tariffs.iter().position(|x| std::ptr::eq(x, t)))
        });
        let Some(tariff) = found else {
            return Err(Error::NoFare {
                route: trip.route,
                carrier: trip.carrier.map_or("none".into(), |c| c.to_string()),
                zone: trip.zone.map_or("none".into(), |z| z.to_string()),
                day,
                trips,
            });
        };
        cells.push(Cell {
            carrier: trip.carrier,
            route: trip.route,
            zone: trip.zone,
            day,
            category,
            community,
            held,
            trips,
            fare: tariffs[tariff].fare_kopecks,
            tariff,
        });
    }
    cells.sort_by(|a, b| {
        (
            a.carrier,
            a.route,
            a.day,
            &a.category,
            &a.community,
            a.zone,
            a.held,
        )
            .cmp(&(
                b.carrier,
                b.route,
                b.day,
                &b.category,
                &b.community,
                b.zone,
                b.held,
            ))
    });
    Ok(cells)
}

/// The held taps, one row each, with their uncleared rules and evidence,
/// priced like the cells (by the tap's own tariff zone).
fn held_taps(
    home: &Home,
    reg: &Registry,
    config: &Config,
    month: &str,
    held: &FxHashSet<(i32, i64)>,
    cells: &[Cell],
) -> Result<Vec<HeldTap>, Error> {
    let path = home.root().join(crate::flags::file_of(month));
    let df = ParquetReader::new(
        std::fs::File::open(&path).map_err(|_| Error::Missing { path: path.clone() })?,
    )
    .finish()
    .map_err(Error::polars)?;
    let cleared = crate::flags::store::clearings(reg)?;
    let c = |n: &str| df.column(n).map_err(Error::polars);
    let id = c("flag_id")?.str().map_err(Error::polars)?.clone();
    let v = c("validator_id")?.i32().map_err(Error::polars)?.clone();
    let seq = c("seq")?.i64().map_err(Error::polars)?.clone();
    let t = c("tapped_at")?
        .cast(&DataType::Int64)
        .map_err(Error::polars)?
        .i64()
        .map_err(Error::polars)?
        .clone();
    let card = c("card_number")?.i64().map_err(Error::polars)?.clone();
    let vehicle = c("vehicle_id")?.i32().map_err(Error::polars)?.clone();
    let carrier = c("carrier_id")?.i32().map_err(Error::polars)?.clone();
    let route = c("route")?.i32().map_err(Error::polars)?.clone();
    let rule = c("rule")?.str().map_err(Error::polars)?.clone();
    let uk = c("evidence")?.str().map_err(Error::polars)?.clone();
    let en = c("evidence_en")?.str().map_err(Error::polars)?.clone();
    // A carrier's zones as the cells saw them: a held tap is priced by the
    // fare of its route, carrier and day (zones differ rarely; the first).
    let mut fare_of: FxHashMap<(Option<i32>, i32, NaiveDate), i64> = FxHashMap::default();
    for cell in cells.iter().filter(|c| c.held) {
        fare_of
            .entry((cell.carrier, cell.route, cell.day))
            .or_insert(cell.fare);
    }
    let mut out: Vec<HeldTap> = Vec::new();
    for i in 0..df.height() {
        let (vv, ss) = (v.get(i).unwrap_or(0), seq.get(i).unwrap_or(0));
        if !held.contains(&(vv, ss)) {
            continue;
        }
        let code = rule.get(i).unwrap_or("");
        if cleared.get(&(vv, ss)).is_some_and(|c| c.contains(code)) {
            continue;
        }
        let join = |a: &mut String, b: &str, sep: &str| {
            if !a.is_empty() {
                a.push_str(sep);
            }
            a.push_str(b);
        };
        if let Some(last) = out.last_mut().filter(|h| h.validator == vv && h.seq == ss) {
            join(&mut last.rules, code, ", ");
            join(&mut last.evidence_uk, uk.get(i).unwrap_or(""), "; ");
            join(&mut last.evidence_en, en.get(i).unwrap_or(""), "; ");
            continue;
        }
        let tapped_at_ms = t.get(i).unwrap_or(0);
        let day = chrono::DateTime::from_timestamp_millis(tapped_at_ms)
            .map(|d| d.with_timezone(&chrono_tz::Europe::Kyiv).date_naive())
            .unwrap_or_default();
        let (cr, rt) = (carrier.get(i), route.get(i).unwrap_or(0));
        let fare = fare_of.get(&(cr, rt, day)).copied().unwrap_or_else(|| {
            crate::tariff::fare_of_trip(
                &config.tariffs,
                &Trip {
                    route: rt,
                    carrier: cr,
                    zone: None,
                },
                day,
            )
            .unwrap_or(0)
        });
        out.push(HeldTap {
            id: id.get(i).unwrap_or("").to_string(),
            tapped_at_ms,
            validator: vv,
            seq: ss,
            vehicle: vehicle.get(i).unwrap_or(0),
            carrier: cr,
            route: rt,
            card: card.get(i).unwrap_or(0),
            rules: code.to_string(),
            evidence_uk: uk.get(i).unwrap_or("").to_string(),
            evidence_en: en.get(i).unwrap_or("").to_string(),
            fare,
        });
    }
    Ok(out)
}

/// The cost of the cards made in the month (Kyiv), per paying community.
fn fees(
    reg: &Registry,
    first: NaiveDate,
    next: NaiveDate,
) -> Result<BTreeMap<String, Fees>, Error> {
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT cost_payer, count(*), coalesce(sum(cost_kopecks), 0) FROM cards
             WHERE created_at >= ?1 AND created_at < ?2 GROUP BY cost_payer",
        )
        .map_err(sql(reg))?;
    let from = crate::time::kyiv_day_start_utc(first);
    let until = crate::time::kyiv_day_start_utc(next);
    let mut rows = stmt.query([from, until]).map_err(sql(reg))?;
    let mut out = BTreeMap::new();
    while let Some(r) = rows.next().map_err(sql(reg))? {
        out.insert(
            r.get::<_, String>(0).map_err(sql(reg))?,
            Fees {
                cards: r.get(1).map_err(sql(reg))?,
                kopecks: r.get(2).map_err(sql(reg))?,
            },
        );
    }
    Ok(out)
}
