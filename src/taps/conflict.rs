//! A sequence number names one tap. A tap whose (validator, seq) the store
//! holds already is a duplicate only when the stored tap says the same
//! (time, card, UID, result); otherwise the two conflict, and what a
//! validator signed wins over what nobody did:
//!
//! - a signed tap (a docking, a dump: MAC-checked) against an unsigned one
//!   (a vendor export's row) replaces it: the vendor row leaves its tap file
//!   and the money, and is kept in `tap_conflicts` as `replaced`;
//! - a signed tap against another signed one is not stored and not acked:
//!   it is kept in `tap_conflicts` as `refused` (the raw dump keeps it too);
//! - an unsigned row against anything refuses its whole file
//!   (`taps import`), before anything of it is stored.
//!
//! Vendor rows keep the validator's numbering rather than a key of their
//! own: a vendor row and a docked tap under one number are then seen as
//! the same tap or as a conflict, never paid twice; a vendor whose
//! numbering restarts is refused with the rows named, not re-keyed (a
//! re-keyed row could not be told from the signed tap it copies).

use std::path::Path;

use kartka_protocol::TapResult;
use kartka_protocol::record::Uid;
use polars::prelude::*;
use rusqlite::params;
use rustc_hash::{FxHashMap, FxHashSet};

use super::{Error, Tap};
use crate::home::Home;
use crate::registry::Registry;

/// The sources whose taps carry no validator's MAC.
pub const UNSIGNED: &[&str] = &["vendor-csv"];

/// What makes two taps under one number the same tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub time: u32,
    pub card: u32,
    pub uid: Uid,
    pub result: TapResult,
}

impl Said {
    pub fn of(t: &Tap) -> Said {
        Said {
            time: t.record.time,
            card: t.record.card,
            uid: t.record.uid,
            result: t.record.result,
        }
    }
}

/// A tap the store holds under a number asked about.
#[derive(Debug, Clone)]
pub struct Stored {
    pub tap: Tap,
    pub batch: i64,
    /// Its batch's source carried a validator's MAC.
    pub signed: bool,
    /// The live file holding it, relative to the home.
    pub file: String,
}

/// How an incoming tap under a held number stands.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// The same tap: nothing to store.
    Duplicate,
    /// A signed tap over a stored vendor row: the row leaves the money.
    Replaces(Stored),
    /// It differs from a tap that wins: not stored.
    Conflict(Stored),
}

/// Judges an incoming tap (`signed`: its source carries a MAC) against
/// the tap stored under its number.
pub fn judge(incoming: &Tap, signed: bool, stored: Stored) -> Verdict {
    if Said::of(incoming) == Said::of(&stored.tap) {
        Verdict::Duplicate
    } else if signed && !stored.signed {
        Verdict::Replaces(stored)
    } else {
        Verdict::Conflict(stored)
    }
}

/// The taps the store holds under `keys` (validator, seq), with their
/// batch and file. A number the ledger holds whose tap no live file has is
/// left out.
pub fn lookup(
    home: &Home,
    reg: &Registry,
    keys: &[(u16, u32)],
) -> Result<FxHashMap<(u16, u32), Stored>, Error> {
    let mut out = FxHashMap::default();
    if keys.is_empty() {
        return Ok(out);
    }
    let err = Error::sql(reg.path());
    let batches = batches_of(reg, keys)?;
    let list = batches
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut stmt = reg
        .conn()
        .prepare(&format!(
            "SELECT path FROM tap_files WHERE replaced_at IS NULL AND month IN
               (SELECT DISTINCT month FROM tap_files WHERE batch IN ({list}))
             ORDER BY id"
        ))
        .map_err(&err)?;
    let files: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .map_err(&err)?
        .collect::<Result<_, _>>()
        .map_err(&err)?;
    let signed = signed_batches(reg)?;
    let wanted: FxHashSet<(u16, u32)> = keys.iter().copied().collect();
    let validators: Vec<i32> = {
        let mut v: Vec<i32> = keys.iter().map(|k| i32::from(k.0)).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (lo, hi) = keys
        .iter()
        .fold((u32::MAX, 0), |(lo, hi), k| (lo.min(k.1), hi.max(k.1)));
    // Polars' scans block on its own runtime, which a dock's async session
    // (a tokio current-thread runtime) must not do: they run on a thread of
    // their own.
    let frames: Vec<(String, DataFrame)> = std::thread::scope(|s| {
        s.spawn(|| {
            files
                .into_iter()
                .map(|rel| rows_of(home, &rel, &validators, lo, hi).map(|df| (rel, df)))
                .collect::<Result<Vec<_>, Error>>()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })?;
    for (rel, df) in frames {
        for (tap, batch) in taps_of(&df).map_err(parquet(home, &rel))? {
            let key = (tap.record.validator, tap.record.seq);
            if wanted.contains(&key) {
                out.insert(
                    key,
                    Stored {
                        tap,
                        batch,
                        signed: signed.contains(&batch),
                        file: rel.clone(),
                    },
                );
            }
        }
    }
    Ok(out)
}

fn parquet<'a>(home: &'a Home, rel: &'a str) -> impl Fn(PolarsError) -> Error + 'a {
    move |e| Error::Parquet {
        path: home.root().join(rel),
        message: e.to_string(),
    }
}

/// The batches whose runs hold `keys`: each key's validator's runs read
/// once, then found by binary search.
fn batches_of(reg: &Registry, keys: &[(u16, u32)]) -> Result<FxHashSet<i64>, Error> {
    let err = Error::sql(reg.path());
    let mut stmt = reg
        .conn()
        .prepare_cached(
            "SELECT seq_first, seq_last, batch FROM tap_ranges WHERE validator = ?1 ORDER BY seq_first",
        )
        .map_err(&err)?;
    let mut runs: FxHashMap<u16, Vec<(u32, u32, i64)>> = FxHashMap::default();
    let mut out = FxHashSet::default();
    for &(v, s) in keys {
        let list = match runs.entry(v) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                stmt.query_map([v], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(&err)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(&err)?,
            ),
        };
        let i = list.partition_point(|r| r.0 <= s);
        if let Some(&(_, last, batch)) = i.checked_sub(1).map(|i| &list[i])
            && last >= s
        {
            out.insert(batch);
        }
    }
    Ok(out)
}

/// Every batch whose source carries a validator's MAC.
fn signed_batches(reg: &Registry) -> Result<FxHashSet<i64>, Error> {
    let err = Error::sql(reg.path());
    let mut stmt = reg
        .conn()
        .prepare("SELECT id, source FROM tap_batches")
        .map_err(&err)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .map_err(&err)?;
    let mut out = FxHashSet::default();
    for row in rows {
        let (id, source) = row.map_err(&err)?;
        if !UNSIGNED.contains(&source.as_str()) {
            out.insert(id);
        }
    }
    Ok(out)
}

/// A file's rows of validators `validators` (sorted) with a sequence in
/// `lo..=hi` (the caller picks the exact numbers).
fn rows_of(
    home: &Home,
    rel: &str,
    validators: &[i32],
    lo: u32,
    hi: u32,
) -> Result<DataFrame, Error> {
    let path = home.root().join(rel);
    let p = PlRefPath::try_from_path(&path).map_err(parquet(home, rel))?;
    let (vlo, vhi) = (
        validators.first().copied().unwrap_or(0),
        validators.last().copied().unwrap_or(0),
    );
    LazyFrame::scan_parquet(p, ScanArgsParquet::default())
        .and_then(|lf| {
            lf.filter(
                col("validator_id")
                    .gt_eq(lit(vlo))
                    .and(col("validator_id").lt_eq(lit(vhi)))
                    .and(col("seq").gt_eq(lit(i64::from(lo))))
                    .and(col("seq").lt_eq(lit(i64::from(hi)))),
            )
            .collect()
        })
        .map_err(parquet(home, rel))
}

/// The store's rows back as taps, each with its batch.
pub fn taps_of(df: &DataFrame) -> PolarsResult<Vec<(Tap, i64)>> {
    let t = df
        .column("tapped_at")?
        .cast(&DataType::Int64)?
        .i64()?
        .clone();
    let i32c = |n: &str| -> PolarsResult<Int32Chunked> { Ok(df.column(n)?.i32()?.clone()) };
    let i64c = |n: &str| -> PolarsResult<Int64Chunked> { Ok(df.column(n)?.i64()?.clone()) };
    let (v, vehicle, carrier, route, zone, trips) = (
        i32c("validator_id")?,
        i32c("vehicle_id")?,
        i32c("carrier_id")?,
        i32c("route")?,
        i32c("tariff_zone")?,
        i32c("trips")?,
    );
    let (seq, card, batch) = (i64c("seq")?, i64c("card_number")?, i64c("batch")?);
    let uid = df.column("card_uid")?.str()?.clone();
    let result = df.column("result")?.str()?.clone();
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let n = |x: Option<i64>| x.unwrap_or(0);
        let Some(u) = uid.get(i).and_then(|h| super::vendor::parse_uid(h).ok()) else {
            continue;
        };
        let Some(r) = result
            .get(i)
            .and_then(|r| super::vendor::parse_result(r).ok())
        else {
            continue;
        };
        let record = kartka_protocol::TapRecord {
            validator: n(v.get(i).map(i64::from)) as u16,
            seq: n(seq.get(i)) as u32,
            time: (n(t.get(i)) / 1000) as u32,
            card: n(card.get(i)) as u32,
            uid: u,
            vehicle: n(vehicle.get(i).map(i64::from)) as u16,
            route: n(route.get(i).map(i64::from)) as u16,
            zone: n(zone.get(i).map(i64::from)) as u8,
            result: r,
            trips: n(trips.get(i).map(i64::from)) as u16,
        };
        let tap = Tap {
            record,
            carrier: carrier.get(i).map(|c| c as u16),
            trips: trips.get(i).map(|x| x as u16),
        };
        out.push((tap, n(batch.get(i))));
    }
    Ok(out)
}

/// One tap kept out of the money, as `tap_conflicts` records it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Quarantined {
    pub validator: u16,
    pub seq: u32,
    /// `replaced`: a vendor row a signed tap replaced; `refused`: a signed
    /// tap that differs from a signed tap stored (not stored, not acked).
    pub kind: &'static str,
    pub tapped_at: String,
    pub card: u32,
    pub card_uid: String,
    pub result: &'static str,
    /// The batch whose tap keeps the number.
    pub kept_batch: i64,
}

impl Quarantined {
    pub fn new(kind: &'static str, tap: &Tap, kept_batch: i64) -> Quarantined {
        Quarantined {
            validator: tap.record.validator,
            seq: tap.record.seq,
            kind,
            tapped_at: utc(tap.record.time),
            card: tap.record.card,
            card_uid: super::parquet::uid_hex(&tap.record.uid),
            result: tap.record.result.name(),
            kept_batch,
        }
    }
}

fn utc(secs: u32) -> String {
    chrono::DateTime::from_timestamp(i64::from(secs), 0)
        .map(crate::time::utc_text)
        .unwrap_or_default()
}

/// Records quarantined taps (a refused one seen again is recorded once).
pub fn record(
    tx: &rusqlite::Transaction<'_>,
    reg_path: &Path,
    losers: &[(Quarantined, &Tap, Option<i64>, &str)],
) -> Result<(), Error> {
    let err = Error::sql(reg_path);
    let mut ins = tx
        .prepare(
            "INSERT OR IGNORE INTO tap_conflicts (at, validator, seq, kind, tapped_at, card, card_uid, vehicle, route, zone, result, carrier, source, batch, kept_batch)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .map_err(&err)?;
    let at = crate::time::now_utc_text();
    for (q, tap, batch, source) in losers {
        ins.execute(params![
            at,
            q.validator,
            q.seq,
            q.kind,
            q.tapped_at,
            q.card,
            q.card_uid,
            tap.record.vehicle,
            tap.record.route,
            tap.record.zone,
            q.result,
            tap.carrier,
            source,
            batch,
            q.kept_batch
        ])
        .map_err(&err)?;
    }
    Ok(())
}

/// Every quarantined tap, oldest first.
pub fn list(reg: &Registry) -> Result<Vec<Quarantined>, Error> {
    let err = Error::sql(reg.path());
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT validator, seq, kind, tapped_at, card, card_uid, result, kept_batch
             FROM tap_conflicts ORDER BY id",
        )
        .map_err(&err)?;
    let rows = stmt
        .query_map([], |r| {
            let kind: String = r.get(2)?;
            let result: String = r.get(6)?;
            Ok(Quarantined {
                validator: r.get(0)?,
                seq: r.get(1)?,
                kind: if kind == "replaced" {
                    "replaced"
                } else {
                    "refused"
                },
                tapped_at: r.get(3)?,
                card: r.get(4)?,
                card_uid: r.get(5)?,
                result: TapResult::ALL
                    .into_iter()
                    .find(|x| x.name() == result)
                    .map_or("unknown", TapResult::name),
                kept_batch: r.get(7)?,
            })
        })
        .map_err(&err)?;
    rows.collect::<Result<_, _>>().map_err(&err)
}

/// Takes `gone` (validator, seq) out of the runs that hold them, so the
/// numbers can be held again by the taps that replace them.
pub fn release_numbers(
    tx: &rusqlite::Transaction<'_>,
    reg_path: &Path,
    gone: &[(u16, u32)],
) -> Result<(), Error> {
    let err = Error::sql(reg_path);
    for &(v, s) in gone {
        let run: Option<(u32, u32, i64)> = tx
            .query_row(
                "SELECT seq_first, seq_last, batch FROM tap_ranges WHERE validator = ?1 AND seq_first <= ?2
                 ORDER BY seq_first DESC LIMIT 1",
                params![v, s],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(&err)?;
        let Some((a, b, batch)) = run.filter(|r| r.1 >= s) else {
            continue;
        };
        tx.execute(
            "DELETE FROM tap_ranges WHERE validator = ?1 AND seq_first = ?2",
            params![v, a],
        )
        .map_err(&err)?;
        let mut ins = tx
            .prepare_cached(
                "INSERT INTO tap_ranges (validator, seq_first, seq_last, batch) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(&err)?;
        if a < s {
            ins.execute(params![v, a, s - 1, batch]).map_err(&err)?;
        }
        if s < b {
            ins.execute(params![v, s + 1, b, batch]).map_err(&err)?;
        }
    }
    Ok(())
}
