//! The public tables of a period (K6), counted from the tap store in one
//! bounded pass, and the linear relations between them.
//!
//! Per month: trips by route × Kyiv hour × day type (T1), by route ×
//! category group (T2), by community (T3), by carrier (T4), with each
//! table's margins and the month's total; every number with the distinct
//! cards behind it (what decides whether it may be shown). Trips are the
//! accepted validations, as `kartka report` counts them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;

use super::Error;
use super::suppress::{Quantity, Relation};
use crate::config::Config;
use crate::home::Home;
use crate::registry::Registry;
use crate::taps::month::{CardFrame, MONEY_CHUNK, accepted, count_chunked};
use crate::time::{DAY_MS, MonthClock};

/// Weekday, Saturday, Sunday or holiday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DayType {
    Weekday = 0,
    Saturday = 1,
    SundayHoliday = 2,
}

impl DayType {
    pub const ALL: [DayType; 3] = [DayType::Weekday, DayType::Saturday, DayType::SundayHoliday];
    fn of(n: i32) -> DayType {
        match n {
            1 => DayType::Saturday,
            2 => DayType::SundayHoliday,
            _ => DayType::Weekday,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            DayType::Weekday => "weekday",
            DayType::Saturday => "saturday",
            DayType::SundayHoliday => "sunday_holiday",
        }
    }
    pub fn uk(self) -> &'static str {
        match self {
            DayType::Weekday => "будній",
            DayType::Saturday => "субота",
            DayType::SundayHoliday => "неділя або свято",
        }
    }
}

/// A number and the distinct cards behind it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    pub trips: i64,
    pub cards: i64,
}

/// One month's tables. Keys: route numbers, (day type, hour), group codes,
/// community codes, carrier ids (`None`: a tap with no carrier).
#[derive(Debug, Clone, Default)]
pub struct MonthTables {
    /// "YYYY-MM".
    pub month: String,
    pub route_hour: BTreeMap<(i32, DayType, u8), Count>,
    pub route: BTreeMap<i32, Count>,
    pub hour: BTreeMap<(DayType, u8), Count>,
    pub route_group: BTreeMap<(i32, String), Count>,
    pub group: BTreeMap<String, Count>,
    pub community: BTreeMap<String, Count>,
    pub carrier: BTreeMap<Option<i32>, Count>,
    pub total: Count,
    /// Which carriers ran which routes this month (a carrier's total is
    /// tied to its routes' when they run no one else's).
    pub route_carriers: Vec<(i32, Option<i32>)>,
}

/// The category group a category's trips are published under: the
/// category's own `group`, or one by its code; cards the registry does not
/// know are "unknown".
pub fn group_of(config: &Config, category: &str) -> String {
    if let Some(g) = config.category(category).and_then(|c| c.group.clone()) {
        return g;
    }
    let g = match category {
        c if c.starts_with("pensioner") => "pensioners",
        c if c.starts_with("disability") || c == "child-disability" => "disability",
        "combatant" | "war-disability" => "veterans",
        c if c.starts_with("chornobyl") => "chornobyl",
        "large-family-child" => "children",
        _ => "other",
    };
    g.to_string()
}

/// A group code's name, Ukrainian and English.
pub fn group_label(code: &str) -> (String, String) {
    let (uk, en) = match code {
        "pensioners" => ("Пенсіонери", "Pensioners"),
        "disability" => ("Особи з інвалідністю", "Persons with disabilities"),
        "veterans" => ("Ветерани війни", "War veterans"),
        "chornobyl" => ("Постраждалі від аварії на ЧАЕС", "Chornobyl victims"),
        "children" => ("Діти з багатодітних сімей", "Children of large families"),
        "other" => ("Інші категорії", "Other categories"),
        "unknown" => ("Картка не в реєстрі", "Card not in the registry"),
        other => (other, other),
    };
    (uk.to_string(), en.to_string())
}

fn polars_err(e: PolarsError) -> Error {
    Error::Store(e.to_string())
}

/// The day type of a tap's Kyiv day (`_day`: its midnight as wall-clock
/// ms), the month's holidays given as such midnights.
fn day_type(holidays: &[i64]) -> Expr {
    // 1970-01-01 was a Thursday: Monday is 0.
    let dow = ((col("_day") / lit(DAY_MS)) + lit(3i64)) % lit(7i64);
    let holiday = holidays
        .iter()
        .map(|h| col("_day").eq(lit(*h)))
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    when(holiday.or(dow.clone().eq(lit(6i64))))
        .then(lit(2i32))
        .when(dow.eq(lit(5i64)))
        .then(lit(1i32))
        .otherwise(lit(0i32))
        .alias("_dt")
}

/// The months of `from..=to` (their first days).
pub fn months(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    use chrono::Datelike;
    let mut m = from.with_day(1).expect("day 1");
    let mut out = Vec::new();
    while m <= to {
        out.push(m);
        m = crate::time::next_month(m);
    }
    out
}

/// A period's accepted taps, a bounded chunk at a time, with the columns
/// both levels publish: `_m` (the month's index), `t`, `_local` (Kyiv
/// wall-clock ms), `_day`, `_dt`, `_h`, `card_number`, `route`,
/// `carrier_id`, `tariff_zone`, `_g` (group index) and `_com` (community
/// index, null for a card the registry does not know). Returns the chunks,
/// the month names and the group codes `_g` indexes.
pub struct Period {
    pub chunks: Vec<LazyFrame>,
    pub months: Vec<String>,
    pub groups: Vec<String>,
    pub communities: Vec<String>,
}

pub fn period(
    home: &Home,
    reg: &Registry,
    config: &Config,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Period, Error> {
    let lo = crate::time::kyiv_midnight_ms(from);
    let hi = crate::time::kyiv_midnight_ms(to + chrono::Days::new(1));
    let CardFrame {
        cards,
        categories,
        communities,
    } = CardFrame::load(reg).map_err(Error::Taps)?;
    let mut groups: Vec<String> = Vec::new();
    let mut cat_group: Vec<i32> = Vec::new();
    for c in &categories {
        let g = group_of(config, c);
        let i = match groups.iter().position(|x| *x == g) {
            Some(i) => i,
            None => {
                groups.push(g);
                groups.len() - 1
            }
        };
        cat_group.push(i as i32);
    }
    let unknown = groups.len() as i32;
    groups.push("unknown".into());
    let group_frame = DataFrame::new(
        cat_group.len(),
        vec![
            Series::new(
                "_cat".into(),
                (0..cat_group.len() as i32).collect::<Vec<_>>(),
            )
            .into(),
            Series::new("_g".into(), cat_group).into(),
        ],
    )
    .map_err(polars_err)?;
    let mut chunks = Vec::new();
    let mut names = Vec::new();
    for (mi, first) in months(from, to).into_iter().enumerate() {
        names.push(first.format("%Y-%m").to_string());
        let clock = MonthClock::for_month(first);
        let holidays: Vec<i64> = {
            let mut d = first;
            let mut out = Vec::new();
            while d < crate::time::next_month(first) {
                if config.open_data.is_holiday(d) {
                    out.push(
                        d.and_hms_opt(0, 0, 0)
                            .expect("midnight")
                            .and_utc()
                            .timestamp_millis(),
                    );
                }
                d = d.succ_opt().expect("in range");
            }
            out
        };
        for lf in accepted(home, reg, first, MONEY_CHUNK).map_err(Error::Taps)? {
            chunks.push(
                lf.filter(col("t").gt_eq(lit(lo)).and(col("t").lt(lit(hi))))
                    .with_columns([
                        lit(mi as i32).alias("_m"),
                        clock.local(col("t")).alias("_local"),
                    ])
                    .with_columns([
                        day_type(&holidays),
                        ((col("_local") % lit(DAY_MS)) / lit(3_600_000i64))
                            .cast(DataType::Int32)
                            .alias("_h"),
                    ])
                    .left_join(cards.clone().lazy(), col("card_number"), col("card_number"))
                    .left_join(group_frame.clone().lazy(), col("_cat"), col("_cat"))
                    .with_columns([col("_g").fill_null(lit(unknown))]),
            );
        }
    }
    Ok(Period {
        chunks,
        months: names,
        groups,
        communities,
    })
}

/// Every month's public tables, counted in one pass over the period.
pub fn count(p: Period) -> Result<Vec<MonthTables>, Error> {
    if p.chunks.is_empty() {
        return Ok(Vec::new());
    }
    let keys: &[&[&str]] = &[
        &["_m", "route", "_dt", "_h", "card_number"],
        &["_m", "route", "_g", "card_number"],
        &["_m", "_com", "card_number"],
        &["_m", "carrier_id", "card_number"],
        &["_m", "route", "carrier_id"],
    ];
    let counted = count_chunked(
        p.chunks,
        |lf| {
            lf.select([
                col("_m"),
                col("route"),
                col("_dt"),
                col("_h"),
                col("_g"),
                col("_com"),
                col("carrier_id"),
                col("card_number"),
            ])
        },
        keys,
    )
    .map_err(polars_err)?;
    let [a, b, c, d, e] = <[DataFrame; 5]>::try_from(counted)
        .map_err(|_| Error::Store("the store's counts came back in the wrong shape".into()))?;
    let agg = |df: &DataFrame, by: &[&str], distinct: bool| -> Result<DataFrame, Error> {
        let cards = if distinct {
            col("card_number").n_unique().cast(DataType::Int64)
        } else {
            len().cast(DataType::Int64)
        };
        df.clone()
            .lazy()
            .group_by(by.iter().map(|k| col(*k)).collect::<Vec<_>>())
            .agg([
                col("n").sum().cast(DataType::Int64).alias("trips"),
                cards.alias("cards"),
            ])
            .collect()
            .map_err(polars_err)
    };
    let mut out: Vec<MonthTables> = p
        .months
        .iter()
        .map(|m| MonthTables {
            month: m.clone(),
            ..Default::default()
        })
        .collect();
    type Keyed = Vec<(Vec<Option<i64>>, Count)>;
    let rows = |df: &DataFrame, names: &[&str]| -> Result<Keyed, Error> {
        let cols: Vec<Int64Chunked> = names
            .iter()
            .map(|n| {
                df.column(n)
                    .and_then(|c| c.cast(&DataType::Int64))
                    .and_then(|c| Ok(c.i64()?.clone()))
                    .map_err(polars_err)
            })
            .collect::<Result<_, _>>()?;
        let trips = df
            .column("trips")
            .map_err(polars_err)?
            .i64()
            .map_err(polars_err)?
            .clone();
        let cards = df
            .column("cards")
            .map_err(polars_err)?
            .i64()
            .map_err(polars_err)?
            .clone();
        Ok((0..df.height())
            .map(|i| {
                (
                    cols.iter().map(|c| c.get(i)).collect(),
                    Count {
                        trips: trips.get(i).unwrap_or(0),
                        cards: cards.get(i).unwrap_or(0),
                    },
                )
            })
            .collect())
    };
    let month = |k: &[Option<i64>]| k[0].unwrap_or(0) as usize;
    let route = |v: Option<i64>| v.unwrap_or(0) as i32;
    for (k, n) in rows(
        &agg(&a, &["_m", "route", "_dt", "_h"], false)?,
        &["_m", "route", "_dt", "_h"],
    )? {
        let dt = DayType::of(k[2].unwrap_or(0) as i32);
        out[month(&k)]
            .route_hour
            .insert((route(k[1]), dt, k[3].unwrap_or(0) as u8), n);
    }
    for (k, n) in rows(&agg(&a, &["_m", "_dt", "_h"], true)?, &["_m", "_dt", "_h"])? {
        let dt = DayType::of(k[1].unwrap_or(0) as i32);
        out[month(&k)].hour.insert((dt, k[2].unwrap_or(0) as u8), n);
    }
    let group = |g: Option<i64>| p.groups[g.unwrap_or(0) as usize].clone();
    for (k, n) in rows(
        &agg(&b, &["_m", "route", "_g"], false)?,
        &["_m", "route", "_g"],
    )? {
        out[month(&k)]
            .route_group
            .insert((route(k[1]), group(k[2])), n);
    }
    // A card has one group: its (route, group) pairs are its route's.
    for (k, n) in rows(&agg(&b, &["_m", "route"], false)?, &["_m", "route"])? {
        out[month(&k)].route.insert(route(k[1]), n);
    }
    for (k, n) in rows(&agg(&b, &["_m", "_g"], true)?, &["_m", "_g"])? {
        out[month(&k)].group.insert(group(k[1]), n);
    }
    let community = |c: Option<i64>| match c {
        Some(i) => p.communities[i as usize].clone(),
        None => "unknown".to_string(),
    };
    for (k, n) in rows(&agg(&c, &["_m", "_com"], false)?, &["_m", "_com"])? {
        out[month(&k)].community.insert(community(k[1]), n);
    }
    for (k, n) in rows(&agg(&c, &["_m"], false)?, &["_m"])? {
        out[month(&k)].total = n;
    }
    for (k, n) in rows(
        &agg(&d, &["_m", "carrier_id"], false)?,
        &["_m", "carrier_id"],
    )? {
        out[month(&k)].carrier.insert(k[1].map(|c| c as i32), n);
    }
    let e = e
        .lazy()
        .select([
            col("_m").cast(DataType::Int64),
            col("route").cast(DataType::Int64),
            col("carrier_id").cast(DataType::Int64),
        ])
        .collect()
        .map_err(polars_err)?;
    let (em, er, ec) = (
        e.column("_m")
            .map_err(polars_err)?
            .i64()
            .map_err(polars_err)?
            .clone(),
        e.column("route")
            .map_err(polars_err)?
            .i64()
            .map_err(polars_err)?
            .clone(),
        e.column("carrier_id")
            .map_err(polars_err)?
            .i64()
            .map_err(polars_err)?
            .clone(),
    );
    for i in 0..e.height() {
        out[em.get(i).unwrap_or(0) as usize]
            .route_carriers
            .push((route(er.get(i)), ec.get(i).map(|c| c as i32)));
    }
    out.retain(|m| m.total.trips > 0);
    Ok(out)
}

/// Where each table's numbers sit among a month's quantities.
#[derive(Debug, Default)]
pub struct Layout {
    pub route_hour: BTreeMap<(i32, DayType, u8), usize>,
    pub route: BTreeMap<i32, usize>,
    pub hour: BTreeMap<(DayType, u8), usize>,
    pub route_group: BTreeMap<(i32, String), usize>,
    pub group: BTreeMap<String, usize>,
    pub community: BTreeMap<String, usize>,
    pub carrier: BTreeMap<Option<i32>, usize>,
    pub total: usize,
}

/// A month's quantities and the relations anyone can write between them.
pub fn problem(m: &MonthTables) -> (Vec<Quantity>, Vec<Relation>, Layout) {
    let mut q: Vec<Quantity> = Vec::new();
    let mut at = |c: &Count, keep: bool| {
        q.push(Quantity {
            trips: c.trips,
            cards: c.cards,
            keep,
        });
        q.len() - 1
    };
    let mut l = Layout {
        total: at(&m.total, true),
        ..Default::default()
    };
    for (k, c) in &m.route_hour {
        l.route_hour.insert(*k, at(c, false));
    }
    for (k, c) in &m.route {
        l.route.insert(*k, at(c, false));
    }
    for (k, c) in &m.hour {
        l.hour.insert(*k, at(c, false));
    }
    for (k, c) in &m.route_group {
        l.route_group.insert(k.clone(), at(c, false));
    }
    for (k, c) in &m.group {
        l.group.insert(k.clone(), at(c, false));
    }
    for (k, c) in &m.community {
        l.community.insert(k.clone(), at(c, false));
    }
    for (k, c) in &m.carrier {
        l.carrier.insert(*k, at(c, false));
    }
    let mut rel = Vec::new();
    for (&r, &i) in &l.route {
        rel.push(Relation::sum(
            i,
            l.route_hour
                .range((r, DayType::Weekday, 0)..=(r, DayType::SundayHoliday, 23))
                .map(|(_, &j)| j)
                .collect(),
        ));
        rel.push(Relation::sum(
            i,
            l.route_group
                .iter()
                .filter(|((x, _), _)| *x == r)
                .map(|(_, &j)| j)
                .collect(),
        ));
    }
    for (&(dt, h), &i) in &l.hour {
        rel.push(Relation::sum(
            i,
            l.route_hour
                .iter()
                .filter(|((_, d, x), _)| *d == dt && *x == h)
                .map(|(_, &j)| j)
                .collect(),
        ));
    }
    for (g, &i) in &l.group {
        rel.push(Relation::sum(
            i,
            l.route_group
                .iter()
                .filter(|((_, x), _)| x == g)
                .map(|(_, &j)| j)
                .collect(),
        ));
    }
    for parts in [
        l.route.values().copied().collect::<Vec<_>>(),
        l.hour.values().copied().collect(),
        l.group.values().copied().collect(),
        l.community.values().copied().collect(),
        l.carrier.values().copied().collect(),
    ] {
        rel.push(Relation::sum(l.total, parts));
    }
    // Carriers and routes in groups that share no route with another: the
    // carriers' totals add up to the routes'.
    for (carriers, routes) in components(&m.route_carriers) {
        if carriers.len() == l.carrier.len() {
            continue; // the month's total again
        }
        rel.push(Relation {
            left: carriers
                .iter()
                .filter_map(|c| l.carrier.get(c).copied())
                .collect(),
            right: routes
                .iter()
                .filter_map(|r| l.route.get(r).copied())
                .collect(),
        });
    }
    (q, rel, l)
}

/// The connected groups of the route–carrier graph.
fn components(pairs: &[(i32, Option<i32>)]) -> Vec<(Vec<Option<i32>>, Vec<i32>)> {
    let mut out: Vec<(Vec<Option<i32>>, Vec<i32>)> = Vec::new();
    for &(r, c) in pairs {
        let hits: Vec<usize> = (0..out.len())
            .filter(|&i| out[i].0.contains(&c) || out[i].1.contains(&r))
            .collect();
        let mut merged = (vec![c], vec![r]);
        for &i in hits.iter().rev() {
            let (cs, rs) = out.remove(i);
            merged.0.extend(cs);
            merged.1.extend(rs);
        }
        merged.0.sort();
        merged.0.dedup();
        merged.1.sort();
        merged.1.dedup();
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriers_that_share_a_route_are_one_group() {
        let mut c = components(&[
            (1, Some(1)),
            (2, Some(2)),
            (3, Some(2)),
            (3, Some(3)),
            (4, None),
        ]);
        c.sort();
        assert_eq!(
            c,
            vec![
                (vec![None], vec![4]),
                (vec![Some(1)], vec![1]),
                (vec![Some(2), Some(3)], vec![2, 3]),
            ]
        );
    }
}
