//! One batch of taps into the store, in the durable order of issue 6: the
//! raw bytes are already on disk (`dumps/`, or the file imported); the new
//! taps go to Parquet files flushed under temporary names; then one
//! registry transaction records the batch, its (validator, sequence) runs
//! and its files, and renames the files into place. Only after the commit
//! may the dock ack. A number the store holds already is judged by
//! `conflict`: the same tap is a duplicate, a signed tap replaces a vendor
//! row, anything else conflicts and is kept out of the store.

use std::path::Path;

use rusqlite::params;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::home::Home;
use crate::registry::Registry;

use super::conflict::{self, Quarantined, Stored, Verdict};
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

impl Source<'_> {
    /// Its taps carry a validator's MAC.
    pub fn signed(&self) -> bool {
        !conflict::UNSIGNED.contains(&self.kind)
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Ingested {
    pub batch: i64,
    pub taps_new: usize,
    pub taps_duplicate: usize,
    /// Vendor rows this batch's signed taps replaced (now in quarantine).
    pub taps_replaced: usize,
    /// This batch's taps that differ from signed taps stored under their
    /// numbers: kept out of the store, in quarantine, never acked.
    pub taps_conflict: usize,
    /// The source validator's lowest conflicting sequence number: a dock
    /// acks only below it.
    pub first_conflict: Option<u32>,
    /// The quarantined taps, replaced and refused.
    pub quarantined: Vec<Quarantined>,
    pub files: Vec<String>,
}

/// What a batch's held numbers turned out to be.
#[derive(Default)]
struct Judged {
    duplicates: FxHashSet<(u16, u32)>,
    replaced: Vec<Stored>,
    conflicts: Vec<(Tap, Stored)>,
}

/// Judges the taps of `taps` (sorted by number, no repeats) whose number
/// `held` holds against the stored taps.
fn judge(
    home: &Home,
    reg: &Registry,
    held: &Held,
    taps: &[Tap],
    signed: bool,
) -> Result<Judged, Error> {
    let keys: Vec<(u16, u32)> = taps
        .iter()
        .map(|t| (t.record.validator, t.record.seq))
        .filter(|&(v, s)| held.contains(v, s))
        .collect();
    let mut stored = conflict::lookup(home, reg, &keys)?;
    let mut out = Judged::default();
    for t in taps {
        let key = (t.record.validator, t.record.seq);
        if !held.contains(key.0, key.1) {
            continue;
        }
        // A number the ledger holds with no tap in a live file is kept as
        // held, as before this check existed.
        let Some(s) = stored.remove(&key) else {
            out.duplicates.insert(key);
            continue;
        };
        match conflict::judge(t, signed, s) {
            Verdict::Duplicate => {
                out.duplicates.insert(key);
            }
            Verdict::Replaces(s) => out.replaced.push(s),
            Verdict::Conflict(s) => out.conflicts.push((*t, s)),
        }
    }
    Ok(out)
}

/// The taps of an unsigned batch that differ from the taps stored under
/// their numbers, with what is stored: such a batch is refused whole.
pub fn unsigned_conflicts(
    home: &Home,
    reg: &Registry,
    held: &Held,
    taps: &[Tap],
) -> Result<Vec<(Tap, Stored)>, Error> {
    let mut sorted = taps.to_vec();
    sorted.sort_unstable_by_key(|t| (t.record.validator, t.record.seq));
    sorted.dedup_by_key(|t| (t.record.validator, t.record.seq));
    Ok(judge(home, reg, held, &sorted, false)?.conflicts)
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
    let judged = judge(home, reg, held, &taps, source.signed())?;
    if !source.signed() && !judged.conflicts.is_empty() {
        return Err(Error::BadInput {
            path: source.file.map(Path::to_path_buf).unwrap_or_default(),
            why: format!(
                "{} row(s) differ from the taps stored under the same validator and seq",
                judged.conflicts.len()
            ),
            todo: "Nothing of this file was stored; `kartka taps import` names the rows.",
        });
    }
    let refused: FxHashSet<(u16, u32)> = judged
        .conflicts
        .iter()
        .map(|(t, _)| (t.record.validator, t.record.seq))
        .collect();
    taps.retain(|t| {
        let key = (t.record.validator, t.record.seq);
        !judged.duplicates.contains(&key) && !refused.contains(&key)
    });
    let duplicates = total - taps.len() - refused.len();
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
            duplicates as i64,
            source.rejected as i64,
            crate::time::now_utc_text(),
            operator
        ],
    )
    .map_err(&err)?;
    let batch = tx.last_insert_rowid();
    let quarantined = quarantine(home, &tx, &reg_path, &judged, source, batch)?;
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
    parquet::sync_placed(home, &quarantined.rewritten)?;
    for old in &quarantined.replaced_files {
        let _ = std::fs::remove_file(home.root().join(old));
    }
    if judged.replaced.is_empty() {
        held.add(&runs);
    } else {
        *held = Held::load(reg)?;
    }
    Ok(Ingested {
        batch,
        taps_new: taps.len(),
        taps_duplicate: duplicates,
        taps_replaced: judged.replaced.len(),
        taps_conflict: refused.len(),
        first_conflict: source
            .validator
            .and_then(|v| refused.iter().filter(|k| k.0 == v).map(|k| k.1).min()),
        quarantined: quarantined.losers,
        files: pending.into_iter().map(|p| p.rel).collect(),
    })
}

/// What `quarantine` did.
struct Quarantine {
    losers: Vec<Quarantined>,
    /// The files written again without the replaced rows.
    rewritten: Vec<Pending>,
    /// The files they replace (removed after the commit).
    replaced_files: Vec<String>,
}

/// Inside the batch's transaction: the vendor rows this batch replaces
/// leave their files and their numbers, and every loser is recorded in
/// `tap_conflicts`.
fn quarantine(
    home: &Home,
    tx: &rusqlite::Transaction<'_>,
    reg_path: &Path,
    judged: &Judged,
    source: &Source<'_>,
    batch: i64,
) -> Result<Quarantine, Error> {
    let mut losers = Vec::new();
    let mut by_file: FxHashMap<&str, FxHashSet<(u16, u32)>> = FxHashMap::default();
    for s in &judged.replaced {
        let key = (s.tap.record.validator, s.tap.record.seq);
        by_file.entry(s.file.as_str()).or_default().insert(key);
        let q = Quarantined::new("replaced", &s.tap, batch);
        losers.push((q, &s.tap, Some(s.batch), "vendor-csv"));
    }
    for (t, s) in &judged.conflicts {
        let q = Quarantined::new("refused", t, s.batch);
        losers.push((q, t, Some(batch), source.kind));
    }
    conflict::record(tx, reg_path, &losers)?;
    let gone: Vec<(u16, u32)> = by_file.values().flatten().copied().collect();
    conflict::release_numbers(tx, reg_path, &gone)?;
    let mut rewritten = Vec::new();
    for (rel, keys) in &by_file {
        rewritten.push(parquet::rewrite_without(home, tx, reg_path, rel, keys)?);
    }
    Ok(Quarantine {
        losers: losers.into_iter().map(|l| l.0).collect(),
        rewritten,
        replaced_files: by_file.keys().map(|f| f.to_string()).collect(),
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
