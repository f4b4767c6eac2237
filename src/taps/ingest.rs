//! One batch of taps into the store, in the durable order of issue 6: the
//! raw bytes are already on disk (`dumps/`, or the file imported); the new
//! taps go to Parquet files flushed under temporary names; then one
//! registry transaction records the batch, its (validator, sequence) runs
//! and its files, and renames the files into place. Only after the commit
//! may the dock ack. A tap the store holds already, by (validator,
//! sequence), is counted as a duplicate and not stored again.

use std::path::Path;

use rusqlite::params;
use rustc_hash::FxHashMap;

use crate::home::Home;
use crate::registry::Registry;

use super::ledger::{self, Held};
use super::parquet::{self, Pending};
use super::{Error, Tap};

/// Where a batch came from, for the ledger.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// `dock`, `dump`, `vendor-csv` or `generated`.
    pub kind: &'static str,
    /// The raw file kept (a dump under `dumps/`, or the CSV as given).
    pub file: Option<&'a Path>,
    pub sha256: String,
    /// The one validator of a dump or docking.
    pub validator: Option<u16>,
    /// Rows the source had that could not be taps (a CSV's rejects).
    pub rejected: usize,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Ingested {
    pub batch: i64,
    pub taps_new: usize,
    pub taps_duplicate: usize,
    /// The newest sequence number now held for the source's validator.
    pub held_up_to: Option<u32>,
    pub files: Vec<String>,
}

/// Stores `taps`. `held` is the ledger as loaded at the start of the run;
/// it is updated with what this batch adds.
pub fn ingest(
    home: &Home,
    reg: &mut Registry,
    held: &mut Held,
    mut taps: Vec<Tap>,
    source: &Source<'_>,
    operator: &str,
) -> Result<Ingested, Error> {
    let total = taps.len();
    // Repeats inside the input, then taps the store holds already.
    taps.sort_unstable_by_key(|t| (t.record.validator, t.record.seq));
    taps.dedup_by_key(|t| (t.record.validator, t.record.seq));
    taps.retain(|t| !held.contains(t.record.validator, t.record.seq));
    let runs = ledger::runs(taps.iter().map(|t| (t.record.validator, t.record.seq)));
    fill_carriers(reg, &mut taps)?;
    // Each file in time order: scans by time skip whole row groups.
    taps.sort_unstable_by_key(|t| (t.record.time, t.record.validator, t.record.seq));
    let by_month = parquet::split_by_month(&taps);
    let reg_path = reg.path().to_path_buf();
    let err = Error::sql(&reg_path);
    let tx = reg.conn_mut().transaction().map_err(&err)?;
    let (first, last) = match source.validator {
        Some(v) => {
            let seqs = runs.iter().filter(|r| r.0 == v);
            (seqs.clone().map(|r| r.1).min(), seqs.map(|r| r.2).max())
        }
        None => (None, None),
    };
    tx.execute(
        "INSERT INTO tap_batches (source, file, sha256, validator, seq_first, seq_last, taps_new, taps_duplicate, taps_rejected, stored_at, operator)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            source.kind,
            source.file.map(|f| f.display().to_string()),
            source.sha256,
            source.validator,
            first,
            last,
            taps.len() as i64,
            (total - taps.len()) as i64,
            source.rejected as i64,
            crate::time::now_utc_text(),
            operator
        ],
    )
    .map_err(&err)?;
    let batch = tx.last_insert_rowid();
    let mut pending: Vec<Pending> = Vec::new();
    for (i, (month, month_taps)) in by_month.iter().enumerate() {
        let name = format!("part-{batch:08}-{i}.parquet");
        pending.push(parquet::write_taps_pending(
            home, month, &name, month_taps, batch,
        )?);
    }
    {
        let mut ins = tx
            .prepare("INSERT INTO tap_ranges (validator, seq_first, seq_last, batch) VALUES (?1, ?2, ?3, ?4)")
            .map_err(&err)?;
        for &(v, a, b) in &runs {
            ins.execute(params![v, a, b, batch]).map_err(&err)?;
        }
    }
    parquet::place(home, &tx, &reg_path, Some(batch), &pending)?;
    crate::failpoint::hit("ingest-before-commit");
    tx.commit().map_err(&err)?;
    parquet::sync_placed(home, &pending)?;
    held.add(&runs);
    Ok(Ingested {
        batch,
        taps_new: taps.len(),
        taps_duplicate: total - taps.len(),
        held_up_to: source.validator.and_then(|v| held.newest(v)),
        files: pending.into_iter().map(|p| p.rel).collect(),
    })
}

/// Taps without a carrier take their vehicle's, as the registry has it now.
fn fill_carriers(reg: &Registry, taps: &mut [Tap]) -> Result<(), Error> {
    if taps.iter().all(|t| t.carrier.is_some()) {
        return Ok(());
    }
    let err = Error::sql(reg.path());
    let mut stmt = reg
        .conn()
        .prepare("SELECT id, carrier FROM vehicles")
        .map_err(&err)?;
    let carriers: FxHashMap<u16, u16> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(&err)?
        .collect::<Result<_, _>>()
        .map_err(&err)?;
    for t in taps.iter_mut().filter(|t| t.carrier.is_none()) {
        t.carrier = carriers.get(&t.record.vehicle).copied();
    }
    Ok(())
}
