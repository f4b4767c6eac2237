//! The month partitions under `HOME/taps/month=YYYY-MM/` (Hive style, so
//! polars and DuckDB read `taps/**/*.parquet` as one table with a `month`
//! column). The schema is documented in `commands/taps.md`.
//!
//! A file is part of the store only once the registry's `tap_files` lists
//! it: files are written as `.partial`, flushed, and renamed into place
//! inside the transaction that lists them. Anything else found under `taps/`
//! (a run killed between the two) is swept away by the next writing run.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Europe::Kyiv;
use polars::prelude::*;
use rusqlite::params;

use crate::home::Home;
use crate::registry::Registry;

use super::{Error, Tap};

/// The Kyiv month of a UTC time, `YYYY-MM`: taps are counted by Kyiv days.
pub fn month_of(utc_secs: u32) -> String {
    let t = DateTime::<Utc>::from_timestamp(i64::from(utc_secs), 0)
        .unwrap_or_default()
        .with_timezone(&Kyiv);
    format!("{:04}-{:02}", t.year(), t.month())
}

/// The UTC second at which the Kyiv month after `utc_secs`'s begins.
pub fn next_month_start(utc_secs: u32) -> u32 {
    use chrono::TimeZone;
    let t = DateTime::<Utc>::from_timestamp(i64::from(utc_secs), 0)
        .unwrap_or_default()
        .with_timezone(&Kyiv);
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    let first = chrono::NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("the first of a month");
    Kyiv.from_local_datetime(&first)
        .earliest()
        .map_or(u32::MAX, |t| {
            u32::try_from(t.with_timezone(&Utc).timestamp()).unwrap_or(u32::MAX)
        })
}

/// Splits taps sorted by time into their Kyiv months.
pub fn split_by_month(taps: &[Tap]) -> Vec<(String, &[Tap])> {
    let mut out = Vec::new();
    let mut rest = taps;
    while let Some(first) = rest.first() {
        let end = next_month_start(first.record.time);
        let n = rest.partition_point(|t| t.record.time < end);
        out.push((month_of(first.record.time), &rest[..n]));
        rest = &rest[n..];
    }
    out
}

/// The columns of the store, in order.
pub const COLUMNS: [&str; 12] = [
    "tapped_at",
    "validator_id",
    "seq",
    "card_number",
    "card_uid",
    "vehicle_id",
    "carrier_id",
    "route",
    "tariff_zone",
    "result",
    "trips",
    "batch",
];

/// A card UID as the store writes it: upper-case hex, no separators.
pub fn uid_hex(uid: &kartka_protocol::record::Uid) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = uid.as_bytes();
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

/// The taps as a DataFrame in the store's schema.
pub fn frame(taps: &[Tap], batch: i64) -> PolarsResult<DataFrame> {
    let n = taps.len();
    let col_i32 = |name: &str, f: &dyn Fn(&Tap) -> i32| -> Column {
        Series::new(name.into(), taps.iter().map(f).collect::<Vec<i32>>()).into()
    };
    let tapped_at = Series::new(
        "tapped_at".into(),
        taps.iter()
            .map(|t| i64::from(t.record.time) * 1000)
            .collect::<Vec<i64>>(),
    )
    .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
    let uid: Vec<String> = taps.iter().map(|t| uid_hex(&t.record.uid)).collect();
    let columns: Vec<Column> = vec![
        tapped_at.into(),
        col_i32("validator_id", &|t| i32::from(t.record.validator)),
        Series::new(
            "seq".into(),
            taps.iter()
                .map(|t| i64::from(t.record.seq))
                .collect::<Vec<i64>>(),
        )
        .into(),
        Series::new(
            "card_number".into(),
            taps.iter()
                .map(|t| i64::from(t.record.card))
                .collect::<Vec<i64>>(),
        )
        .into(),
        Series::new("card_uid".into(), uid).into(),
        col_i32("vehicle_id", &|t| i32::from(t.record.vehicle)),
        Series::new(
            "carrier_id".into(),
            taps.iter()
                .map(|t| t.carrier.map(i32::from))
                .collect::<Vec<Option<i32>>>(),
        )
        .into(),
        col_i32("route", &|t| i32::from(t.record.route)),
        col_i32("tariff_zone", &|t| i32::from(t.record.zone)),
        Series::new(
            "result".into(),
            taps.iter()
                .map(|t| t.record.result.name())
                .collect::<Vec<&str>>(),
        )
        .into(),
        Series::new(
            "trips".into(),
            taps.iter()
                .map(|t| t.trips.map(i32::from))
                .collect::<Vec<Option<i32>>>(),
        )
        .into(),
        Series::new("batch".into(), vec![batch; n]).into(),
    ];
    DataFrame::new(n, columns)
}

/// A partition file written and flushed, not yet part of the store.
#[derive(Debug)]
pub struct Pending {
    pub tmp: PathBuf,
    /// Relative to the home: `taps/month=2026-10/part-00000042-0.parquet`.
    pub rel: String,
    pub month: String,
    pub rows: usize,
    pub sha256: String,
}

fn parquet_error(path: &Path) -> impl Fn(PolarsError) -> Error + '_ {
    move |e| Error::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes `df` as `rel` under a temporary name, flushed to the disk.
pub fn write_pending(
    home: &Home,
    month: &str,
    name: &str,
    df: &mut DataFrame,
) -> Result<Pending, Error> {
    let dir = home.taps().join(format!("month={month}"));
    std::fs::create_dir_all(&dir).map_err(Error::write(&dir))?;
    let tmp = dir.join(format!(".{name}.partial"));
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::full())
        .finish(df)
        .map_err(parquet_error(&tmp))?;
    super::write_synced(&tmp, &bytes)?;
    Ok(Pending {
        tmp,
        rel: format!("taps/month={month}/{name}"),
        month: month.to_string(),
        rows: df.height(),
        sha256: super::sha256_hex(&bytes),
    })
}

/// Taps per row group (polars' default), and per frame `write_taps_pending`
/// holds at once.
const ROW_GROUP: usize = 512 * 512;

/// `write_pending` for taps not yet a frame: framed and written a row
/// group at a time, hashed as written, so neither the frame nor the file
/// of a whole month is ever in memory (a 100 M-tap month: 250 MB of
/// frame, not 10 GB).
pub fn write_taps_pending(
    home: &Home,
    month: &str,
    name: &str,
    taps: &[Tap],
    batch: i64,
) -> Result<Pending, Error> {
    use std::io::Write;
    let dir = home.taps().join(format!("month={month}"));
    std::fs::create_dir_all(&dir).map_err(Error::write(&dir))?;
    let tmp = dir.join(format!(".{name}.partial"));
    let file = std::fs::File::create(&tmp).map_err(Error::write(&tmp))?;
    let mut out = crate::hash::HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    {
        let schema = frame(&taps[..0], batch).map_err(parquet_error(&tmp))?;
        let mut writer = ParquetWriter::new(&mut out)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::full())
            .batched(schema.schema())
            .map_err(parquet_error(&tmp))?;
        for part in taps.chunks(ROW_GROUP) {
            let df = frame(part, batch).map_err(parquet_error(&tmp))?;
            writer.write_batch(&df).map_err(parquet_error(&tmp))?;
        }
        writer.finish().map_err(parquet_error(&tmp))?;
    }
    out.flush().map_err(Error::write(&tmp))?;
    let (buffered, sha256) = out.finish();
    buffered
        .into_inner()
        .map_err(|e| e.into_error())
        .and_then(|f| f.sync_all())
        .map_err(Error::write(&tmp))?;
    Ok(Pending {
        tmp,
        rel: format!("taps/month={month}/{name}"),
        month: month.to_string(),
        rows: taps.len(),
        sha256,
    })
}

/// Lists the pending files in the store and renames them into place; call
/// inside the transaction that records their batch, then commit.
pub fn place(
    home: &Home,
    tx: &rusqlite::Transaction<'_>,
    reg_path: &Path,
    batch: Option<i64>,
    files: &[Pending],
) -> Result<(), Error> {
    let now = crate::time::now_utc_text();
    for f in files {
        tx.execute(
            "INSERT INTO tap_files (month, path, rows, sha256, created_at, batch) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![f.month, f.rel, f.rows as i64, f.sha256, now, batch],
        )
        .map_err(Error::sql(reg_path))?;
        let to = home.root().join(&f.rel);
        std::fs::rename(&f.tmp, &to).map_err(Error::write(&to))?;
    }
    Ok(())
}

/// Flushes the folders of placed files, after the commit.
pub fn sync_placed(home: &Home, files: &[Pending]) -> Result<(), Error> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| home.root().join(&f.rel).parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        super::sync_dir(&d)?;
    }
    Ok(())
}

/// The store's live files for a month (or every month), relative paths.
pub fn live_files(reg: &Registry, month: Option<&str>) -> Result<Vec<String>, Error> {
    Ok(live_files_with_rows(reg, month)?
        .into_iter()
        .map(|(path, _)| path)
        .collect())
}

/// Like `live_files`, with each file's row count.
pub fn live_files_with_rows(
    reg: &Registry,
    month: Option<&str>,
) -> Result<Vec<(String, u64)>, Error> {
    let err = Error::sql(reg.path());
    let mut stmt = reg
        .conn()
        .prepare(
            "SELECT path, rows FROM tap_files WHERE replaced_at IS NULL AND (?1 IS NULL OR month = ?1) ORDER BY id",
        )
        .map_err(&err)?;
    let rows = stmt
        .query_map([month], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64))
        })
        .map_err(&err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(&err)
}

/// How many taps (of every result) the store's live files hold for `month`.
/// The months the store holds: (month, live files, taps), by month.
pub fn months(reg: &Registry) -> Result<Vec<(String, i64, i64)>, Error> {
    let mut stmt = reg
        .conn()
        .prepare("SELECT month, count(*), sum(rows) FROM tap_files WHERE replaced_at IS NULL GROUP BY month ORDER BY month")
        .map_err(|e| reg.err(e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(|e| reg.err(e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| reg.err(e))?;
    Ok(rows)
}

/// Does `month` have a live file newer than file `id` (taps that came in,
/// or a file written again, after whatever saw file `id`)?
pub fn changed_since(reg: &Registry, month: &str, id: i64) -> Result<bool, Error> {
    reg.conn()
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM tap_files WHERE replaced_at IS NULL AND month = ?1 AND id > ?2)",
            params![month, id],
            |r| r.get(0),
        )
        .map_err(Error::sql(reg.path()))
}

pub fn month_rows(reg: &Registry, month: &str) -> Result<u64, Error> {
    reg.conn()
        .query_row(
            "SELECT coalesce(sum(rows), 0) FROM tap_files WHERE replaced_at IS NULL AND month = ?1",
            [month],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n.max(0) as u64)
        .map_err(Error::sql(reg.path()))
}

/// Removes what is under `taps/` but not part of the store: partial files
/// and files of a run killed before its commit, and files compaction
/// replaced. Returns how many it removed. Call under the home lock.
pub fn sweep(home: &Home, reg: &Registry) -> Result<usize, Error> {
    let live: rustc_hash::FxHashSet<String> = live_files(reg, None)?.into_iter().collect();
    let root = home.taps();
    let Ok(months) = std::fs::read_dir(&root) else {
        return Ok(0);
    };
    let mut removed = 0;
    for month in months.flatten() {
        let dir = month.path();
        if !dir.is_dir() {
            continue;
        }
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let rel = format!("taps/{}/{name}", month.file_name().to_string_lossy());
            let ours = name.ends_with(".partial") || name.ends_with(".parquet");
            if ours && !live.contains(&rel) {
                std::fs::remove_file(f.path()).map_err(Error::write(&f.path()))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Reads files of the store into one DataFrame.
pub fn read(home: &Home, rels: &[String]) -> Result<DataFrame, Error> {
    let mut all: Option<DataFrame> = None;
    for rel in rels {
        let path = home.root().join(rel);
        let file = std::fs::File::open(&path).map_err(Error::read(&path))?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(parquet_error(&path))?;
        match &mut all {
            None => all = Some(df),
            Some(a) => {
                a.vstack_mut_owned(df).map_err(parquet_error(&path))?;
            }
        }
    }
    Ok(all.unwrap_or_else(|| frame(&[], 0).expect("an empty frame")))
}

/// Writes `rel` again without the rows of `gone` (validator, seq), and
/// takes the old file out of the store in the caller's transaction: the
/// new file is placed with it. Returns the new file, placed but not yet
/// synced (`sync_placed` after the commit).
pub fn rewrite_without(
    home: &Home,
    tx: &rusqlite::Transaction<'_>,
    reg_path: &Path,
    rel: &str,
    gone: &rustc_hash::FxHashSet<(u16, u32)>,
) -> Result<Pending, Error> {
    let err = Error::sql(reg_path);
    let (month, batch): (String, Option<i64>) = tx
        .query_row(
            "SELECT month, batch FROM tap_files WHERE path = ?1 AND replaced_at IS NULL",
            [rel],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(&err)?;
    let df = read(home, &[rel.to_string()])?;
    let v = df
        .column("validator_id")
        .map_err(parquet_error(&home.taps()))?;
    let s = df.column("seq").map_err(parquet_error(&home.taps()))?;
    let (v, s) = (
        v.i32().map_err(parquet_error(&home.taps()))?,
        s.i64().map_err(parquet_error(&home.taps()))?,
    );
    let keep: BooleanChunked = v
        .iter()
        .zip(s.iter())
        .map(|(v, s)| {
            let key = (v.unwrap_or(0) as u16, s.unwrap_or(0) as u32);
            !gone.contains(&key)
        })
        .collect();
    let mut df = df.filter(&keep).map_err(parquet_error(&home.taps()))?;
    let next: i64 = tx
        .query_row("SELECT coalesce(max(id), 0) + 1 FROM tap_files", [], |r| {
            r.get(0)
        })
        .map_err(&err)?;
    let name = format!("rewritten-{next:08}.parquet");
    let pending = write_pending(home, &month, &name, &mut df)?;
    tx.execute(
        "UPDATE tap_files SET replaced_at = ?1 WHERE path = ?2",
        params![crate::time::now_utc_text(), rel],
    )
    .map_err(&err)?;
    let placed = [pending];
    place(home, tx, reg_path, batch, &placed)?;
    let [pending] = placed;
    Ok(pending)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Compacted {
    pub month: String,
    pub files_before: usize,
    pub files_after: usize,
    pub rows: usize,
}

/// Merges a month's files into one, sorted by time, validator and
/// sequence, without changing a row. The old files leave the store in the
/// same transaction that adds the new one.
pub fn compact(home: &Home, reg: &mut Registry, month: &str) -> Result<Compacted, Error> {
    let rels = live_files(reg, Some(month))?;
    if rels.len() <= 1 {
        return Ok(Compacted {
            month: month.to_string(),
            files_before: rels.len(),
            files_after: rels.len(),
            // The registry knows each file's rows: nothing to read.
            rows: reg
                .conn()
                .query_row(
                    "SELECT coalesce(sum(rows), 0) FROM tap_files WHERE month = ?1 AND replaced_at IS NULL",
                    [month],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(Error::sql(reg.path()))? as usize,
        });
    }
    let df = read(home, &rels)?;
    let rows = df.height();
    let mut df = df
        .sort(
            ["tapped_at", "validator_id", "seq"],
            SortMultipleOptions::default(),
        )
        .map_err(parquet_error(&home.taps()))?;
    let reg_path = reg.path().to_path_buf();
    let err = Error::sql(&reg_path);
    let tx = reg.conn_mut().transaction().map_err(&err)?;
    let next: i64 = tx
        .query_row("SELECT coalesce(max(id), 0) + 1 FROM tap_files", [], |r| {
            r.get(0)
        })
        .map_err(&err)?;
    let name = format!("compacted-{next:08}.parquet");
    let pending = write_pending(home, month, &name, &mut df)?;
    tx.execute(
        "UPDATE tap_files SET replaced_at = ?1 WHERE month = ?2 AND replaced_at IS NULL",
        params![crate::time::now_utc_text(), month],
    )
    .map_err(&err)?;
    let placed = [pending];
    place(home, &tx, &reg_path, None, &placed)?;
    tx.commit().map_err(&err)?;
    sync_placed(home, &placed)?;
    for rel in &rels {
        let _ = std::fs::remove_file(home.root().join(rel));
    }
    Ok(Compacted {
        month: month.to_string(),
        files_before: rels.len(),
        files_after: 1,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_kyiv_months_across_both_clock_changes() {
        // 2026-09-30 21:10 UTC is 00:10 on 1 October in Kyiv (EEST, +3).
        assert_eq!(month_of(1_790_802_600), "2026-10");
        assert_eq!(month_of(1_790_802_599 - 600), "2026-09");
        // October ends at 22:00 UTC on 31 October (EET, +2, after 25 October).
        let nov = next_month_start(1_790_802_600);
        assert_eq!(
            DateTime::<Utc>::from_timestamp(i64::from(nov), 0)
                .unwrap()
                .to_rfc3339(),
            "2026-10-31T22:00:00+00:00"
        );
        assert_eq!(month_of(nov - 1), "2026-10");
        assert_eq!(month_of(nov), "2026-11");
        // March's month starts on EET; April's on EEST.
        let apr = next_month_start(1_772_323_200); // 2026-03-01 UTC
        assert_eq!(
            DateTime::<Utc>::from_timestamp(i64::from(apr), 0)
                .unwrap()
                .to_rfc3339(),
            "2026-03-31T21:00:00+00:00"
        );
    }
}
