//! The reference tables the rules join with, read from the registry: every
//! card with its validity, its first block and its holder's death, as UTC
//! instants (a date-aware join, not a list of numbers); the routes each
//! carrier serves; routes with their own service day; when each batch
//! reached the store and each docking's next sequence number.

use chrono::{DateTime, NaiveDate};
use polars::prelude::*;
use rustc_hash::FxHashMap;

use super::Error;
use super::engine::Refs;
use super::settings::{FlagSettings, minutes};
use crate::registry::Registry;

/// What the evidence and the workbook say about a card.
#[derive(Debug, Clone, Default)]
pub struct CardInfo {
    pub category: String,
    pub valid_from: String,
    pub valid_to: String,
    pub block_reason: Option<String>,
    pub blocked_at: Option<String>,
    pub death_date: Option<String>,
    pub uid: Option<String>,
    pub holder: String,
    pub social_number: String,
}

pub struct Loaded {
    pub refs: Refs,
}

/// What the evidence and the workbook say about `numbers` (the flagged
/// cards only: a month's flags name a few thousand of a city's cards).
pub fn card_info(reg: &Registry, numbers: &[i64]) -> Result<FxHashMap<i64, CardInfo>, Error> {
    let err = |e| Error::Registry(reg.err(e));
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT c.category, c.valid_from, c.valid_to, p.death_date,
                    (SELECT e.uid FROM card_events e WHERE e.card_id = c.id AND e.uid IS NOT NULL ORDER BY e.id DESC LIMIT 1),
                    b.effective, b.reason,
                    p.surname || ' ' || p.given_name || coalesce(' ' || p.patronymic, ''),
                    p.social_number
             FROM cards c JOIN people p ON p.id = c.person_id
             LEFT JOIN card_events b ON b.id = (SELECT min(id) FROM card_events x WHERE x.card_id = c.id AND x.state = 'blocked')
             WHERE c.number = ?1",
        )
        .map_err(err)?;
    let mut out = FxHashMap::default();
    for &n in numbers {
        let mut rows = stmt.query([n]).map_err(err)?;
        if let Some(r) = rows.next().map_err(err)? {
            out.insert(
                n,
                CardInfo {
                    category: r.get(0).map_err(err)?,
                    valid_from: r.get(1).map_err(err)?,
                    valid_to: r.get(2).map_err(err)?,
                    death_date: r.get(3).map_err(err)?,
                    uid: r.get(4).map_err(err)?,
                    blocked_at: r.get(5).map_err(err)?,
                    block_reason: r.get(6).map_err(err)?,
                    holder: r.get(7).map_err(err)?,
                    social_number: r.get(8).map_err(err)?,
                },
            );
        }
    }
    Ok(out)
}

/// Taps a card may make in a Kyiv day before its own habit is asked:
/// `daily_max`, and `companion_daily_extra` more when its holder's
/// companion rides on it.
pub fn daily_allowance(settings: &FlagSettings, companion: bool) -> i64 {
    i64::from(settings.daily_max)
        + if companion {
            i64::from(settings.companion_daily_extra)
        } else {
            0
        }
}

fn utc_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// The Kyiv midnight of the 18th birthday of someone born on `text`
/// (29 February's in a common year is 28 February).
fn adult_ms(text: &str) -> Option<i64> {
    let born: NaiveDate = text.get(..10)?.parse().ok()?;
    Some(crate::time::kyiv_midnight_ms(
        born.checked_add_months(chrono::Months::new(18 * 12))?,
    ))
}

fn date_ms(text: &str, next_day: bool) -> Option<i64> {
    let d: NaiveDate = text.get(..10)?.parse().ok()?;
    let d = if next_day { d.succ_opt()? } else { d };
    Some(crate::time::kyiv_midnight_ms(d))
}

/// The reference tables; `companions` are the categories whose holder's
/// companion rides on the holder's card (a higher daily allowance).
pub fn load(
    reg: &Registry,
    settings: &FlagSettings,
    companions: &[String],
    now_ms: i64,
) -> Result<Loaded, Error> {
    let err = |e| Error::Registry(reg.err(e));
    // The first block of each card, and the UID its print job recorded
    // (the latest), in one pass over the events each.
    let mut uids: FxHashMap<i64, String> = FxHashMap::default();
    let mut stmt = reg
        .conn()
        .prepare("SELECT card_id, uid FROM card_events WHERE uid IS NOT NULL ORDER BY id")
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        uids.insert(r.get(0).map_err(err)?, r.get::<_, String>(1).map_err(err)?);
    }
    let mut blocks: FxHashMap<i64, String> = FxHashMap::default();
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT card_id, effective FROM card_events WHERE state = 'blocked' ORDER BY id DESC",
        )
        .map_err(err)?;
    let mut rows = stmt.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        blocks.insert(r.get(0).map_err(err)?, r.get::<_, String>(1).map_err(err)?);
    }
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT c.id, c.number, c.category, c.valid_from, c.valid_to, p.death_date, p.birth_date
             FROM cards c JOIN people p ON p.id = c.person_id",
        )
        .map_err(err)?;
    let mut number = Vec::new();
    let mut reg_uid: Vec<Option<String>> = Vec::new();
    let mut from = Vec::new();
    let mut until = Vec::new();
    let mut blocked: Vec<Option<i64>> = Vec::new();
    let mut death: Vec<Option<i64>> = Vec::new();
    let mut limit: Vec<Option<i64>> = Vec::new();
    let mut minors: FxHashMap<i64, i64> = FxHashMap::default();
    // Holders 18 or older for five years are adults in any month judged.
    let adults_before = now_ms - 5 * 366 * crate::time::DAY_MS;
    let mut day_limit: Vec<i64> = Vec::new();
    let mut rows = stmt.query([]).map_err(err)?;
    while let Some(r) = rows.next().map_err(err)? {
        let id: i64 = r.get(0).map_err(err)?;
        number.push(r.get::<_, i64>(1).map_err(err)?);
        let category: String = r.get(2).map_err(err)?;
        from.push(date_ms(&r.get::<_, String>(3).map_err(err)?, false).unwrap_or(i64::MIN));
        until.push(date_ms(&r.get::<_, String>(4).map_err(err)?, true).unwrap_or(i64::MAX));
        death.push(
            r.get::<_, Option<String>>(5)
                .map_err(err)?
                .and_then(|d| date_ms(&d, false)),
        );
        reg_uid.push(uids.get(&id).map(|u| u.to_ascii_uppercase()));
        blocked.push(blocks.get(&id).and_then(|b| utc_ms(b)));
        limit.push(settings.trip_limit(&category).map(i64::from));
        if let Some(adult) =
            adult_ms(&r.get::<_, String>(6).map_err(err)?).filter(|a| *a > adults_before)
        {
            minors.insert(*number.last().expect("pushed"), adult);
        }
        day_limit.push(daily_allowance(settings, companions.contains(&category)));
    }
    let cards = DataFrame::new(
        number.len(),
        vec![
            Series::new("card_number".into(), number).into(),
            Series::new("reg_uid".into(), reg_uid).into(),
            Series::new("valid_from_ms".into(), from).into(),
            Series::new("valid_until_ms".into(), until).into(),
            Series::new("blocked_ms".into(), blocked).into(),
            Series::new("death_ms".into(), death).into(),
            Series::new("trip_limit".into(), limit).into(),
            Series::new("day_limit".into(), day_limit).into(),
        ],
    )
    .map_err(Error::polars)?;

    let mut stmt = reg
        .conn()
        .prepare("SELECT DISTINCT carrier, routes FROM vehicles")
        .map_err(err)?;
    let mut pairs: Vec<(i32, i32)> = stmt
        .query_map([], |r| Ok((r.get::<_, i32>(0)?, r.get::<_, String>(1)?)))
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?
        .into_iter()
        .flat_map(|(c, routes)| {
            routes
                .split(',')
                .filter_map(|r| r.trim().parse::<i32>().ok())
                .map(move |r| (c, r))
                .collect::<Vec<_>>()
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let served = DataFrame::new(
        pairs.len(),
        vec![
            Series::new(
                "carrier_id".into(),
                pairs.iter().map(|p| p.0).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "route".into(),
                pairs.iter().map(|p| p.1).collect::<Vec<_>>(),
            )
            .into(),
            Series::new("served".into(), vec![true; pairs.len()]).into(),
        ],
    )
    .map_err(Error::polars)?;

    let tol = i64::from(settings.service_tolerance_min) * 60_000;
    let m = |t: &str| i64::from(minutes(t).unwrap_or(0)) * 60_000;
    let hours = DataFrame::new(
        settings.routes.len(),
        vec![
            Series::new(
                "route".into(),
                settings.routes.iter().map(|r| r.route).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "open_ms".into(),
                settings
                    .routes
                    .iter()
                    .map(|r| m(&r.start) - tol)
                    .collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "close_ms".into(),
                settings
                    .routes
                    .iter()
                    .map(|r| m(&r.end) + tol)
                    .collect::<Vec<_>>(),
            )
            .into(),
        ],
    )
    .map_err(Error::polars)?;

    let mut stmt = reg
        .conn()
        .prepare("SELECT id, stored_at FROM tap_batches")
        .map_err(err)?;
    let batches: Vec<(i64, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(err)?
        .map(|r| r.map(|(id, at)| (id, utc_ms(&at))))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let batches = DataFrame::new(
        batches.len(),
        vec![
            Series::new(
                "batch".into(),
                batches.iter().map(|b| b.0).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                "received_ms".into(),
                batches.iter().map(|b| b.1).collect::<Vec<_>>(),
            )
            .into(),
        ],
    )
    .map_err(Error::polars)?;

    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT validator, next, started_at FROM dock_sessions
             WHERE validator IS NOT NULL AND next IS NOT NULL ORDER BY id",
        )
        .map_err(err)?;
    let docks: Vec<(i32, i64, i64)> = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i32>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(err)?
        .filter_map(|r| match r {
            Ok((v, n, at)) => utc_ms(&at).map(|ms| Ok((v, n, ms))),
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let docks = DataFrame::new(
        docks.len(),
        vec![
            Series::new(
                "validator_id".into(),
                docks.iter().map(|d| d.0).collect::<Vec<_>>(),
            )
            .into(),
            Series::new("seq".into(), docks.iter().map(|d| d.1).collect::<Vec<_>>()).into(),
            Series::new(
                "dock_ms".into(),
                docks.iter().map(|d| d.2).collect::<Vec<_>>(),
            )
            .into(),
        ],
    )
    .map_err(Error::polars)?;
    Ok(Loaded {
        refs: Refs {
            cards,
            served,
            hours,
            batches,
            docks,
            now_ms,
            minors: std::sync::Arc::new(minors),
        },
    })
}
