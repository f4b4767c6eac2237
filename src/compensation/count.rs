//! The month's trips, counted and priced: one polars pass over the tap
//! store, a bounded chunk at a time, into a small cube of trip counts per
//! (carrier, route, tariff zone, Kyiv day, benefit category, community,
//! held), each cell priced in integer kopecks by the tariff in force; the held taps with their flags;
//! the card-making costs each community owes (P18).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use rustc_hash::FxHashMap;

use super::Error;
use crate::config::Config;
use crate::home::Home;
use crate::registry::Registry;
use crate::taps::month::{CardFrame, held_frame};
use crate::tariff::{Tariff, Trip};
use crate::time::MonthClock;

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
    /// Trips × fare. `price` checked that the month's cells add up inside
    /// an `i64` (trips and fares are never negative), so this and every
    /// sum of a month's amounts cannot overflow.
    pub fn amount(&self) -> i64 {
        self.trips * self.fare
    }
}

/// A tap the flags hold, for the carrier's list: as its flags describe it,
/// with its fare.
#[derive(Debug, Clone)]
pub struct HeldTap {
    pub flagged: crate::flags::store::HeldTap,
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
        crate::time::parse_month(month).ok_or_else(|| Error::Month { text: month.into() })?;
    let month = first.format("%Y-%m").to_string();
    let clock = MonthClock::for_month(first);
    let next = crate::time::next_month(first);
    let days = u32::try_from((next - first).num_days()).unwrap_or(31);
    let taps = crate::taps::month::accepted(home, reg, first, crate::taps::month::MONEY_CHUNK)?;
    if taps.is_empty() {
        return Err(Error::NoTaps { month });
    }
    let Some(run) = crate::flags::store::latest_run(reg, &month)? else {
        return Err(Error::NotFlagged { month });
    };
    let held_keys = crate::flags::store::held(home, reg, &month)?;
    let CardFrame {
        cards,
        categories,
        communities,
    } = CardFrame::load(reg)?;
    let held_df = held_frame(&held_keys).map_err(Error::polars)?;
    let cube = crate::taps::month::count_chunked(
        taps,
        |lf| {
            lf.left_join(held_df.clone().lazy(), col("_key"), col("_key"))
                .left_join(cards.clone().lazy(), col("card_number"), col("card_number"))
                .select([
                    col("carrier_id"),
                    col("route"),
                    col("tariff_zone"),
                    col("_day"),
                    col("_cat"),
                    col("_com"),
                    col("_held").fill_null(lit(false)),
                ])
        },
        &[&[
            "carrier_id",
            "route",
            "tariff_zone",
            "_day",
            "_cat",
            "_com",
            "_held",
        ]],
    )
    .map_err(Error::polars)?
    .remove(0);

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
        let trips = c("n")?.i64().map_err(Error::polars)?;
        for i in 0..cube.height() {
            let n = trips.get(i).unwrap_or(0);
            accepted += n;
            let day = day
                .get(i)
                .map_or(first, |d| clock.date_of_local_day(d))
                .clamp(first, next.pred_opt().expect("a last day"));
            let trip = Trip {
                route: route.get(i).unwrap_or(0),
                carrier: carrier.get(i),
                zone: zone.get(i),
            };
            cells.push((
                trip,
                day,
                CardFrame::name(&categories, cat.get(i)),
                CardFrame::name(&communities, com.get(i)),
                held.get(i).unwrap_or(false),
                n,
            ));
        }
    }
    let changed = match run.tap_file_max {
        Some(id) => crate::taps::parquet::changed_since(reg, &month, id)?,
        None => false,
    };
    if accepted != run.taps || changed {
        return Err(Error::StaleFlags {
            month,
            stored: accepted.max(0) as u64,
            judged: run.taps.max(0) as u64,
        });
    }
    let cells = price(&config.tariffs, cells)?;
    let held = held_taps(home, reg, config, &month)?;

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
        path: run.file,
        sha256: run.sha256,
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
        flag_run_at: run.at,
    })
}

type Raw = (Trip, NaiveDate, String, String, bool, i64);

/// Prices every cell; a cell no tariff covers stops the month (nothing is
/// written with a trip worth nothing).
fn price(tariffs: &[Tariff], raw: Vec<Raw>) -> Result<Vec<Cell>, Error> {
    let mut memo: FxHashMap<(Trip, NaiveDate), Option<crate::tariff::Price>> = FxHashMap::default();
    let mut cells = Vec::with_capacity(raw.len());
    for (trip, day, category, community, held, trips) in raw {
        let found = *memo
            .entry((trip, day))
            .or_insert_with(|| crate::tariff::price(tariffs, &trip, day));
        let Some(price) = found else {
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
            fare: price.kopecks,
            tariff: price.entry,
        });
    }
    crate::money::sum(
        cells
            .iter()
            .map(|c| crate::money::times(c.trips.max(0), c.fare.max(0)))
            .collect::<Result<Vec<_>, _>>()?,
    )?;
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
/// each priced by the one pricing function (its route, carrier, zone and
/// Kyiv day), as the flags priced it.
fn held_taps(
    home: &Home,
    reg: &Registry,
    config: &Config,
    month: &str,
) -> Result<Vec<HeldTap>, Error> {
    Ok(crate::flags::store::held_taps(home, reg, month)?
        .into_iter()
        .map(|h| HeldTap {
            fare: crate::tariff::fare_at(&config.tariffs, &h.trip, h.tapped_at_ms),
            flagged: h,
        })
        .collect())
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
