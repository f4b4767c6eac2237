//! A month bigger than one slice, read once: every chunk of the store is
//! read a single time and its rows written into `parts` Parquet files by
//! validator (`validator_id % parts`) and `parts` by card (`card_number %
//! parts`), in chunk order, so each slice of the engine reads its own file
//! instead of filtering the whole month again (the slices used to read the
//! month 2 × `parts` times). The files live in a folder of the home's and
//! are removed when the run ends (or by the next run, after a crash).

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

/// The two ways a slice is cut.
#[derive(Debug, Clone, Copy)]
pub enum By {
    Validator,
    Card,
}

impl By {
    fn column(self) -> &'static str {
        match self {
            By::Validator => "validator_id",
            By::Card => "card_number",
        }
    }
    fn prefix(self) -> &'static str {
        match self {
            By::Validator => "validator",
            By::Card => "card",
        }
    }
}

pub struct Spill {
    dir: PathBuf,
}

fn io(e: std::io::Error) -> PolarsError {
    PolarsError::ComputeError(format!("spilling the month: {e}").into())
}

impl Spill {
    /// Reads each chunk of `input` once into the `parts` × 2 files under
    /// `dir` (emptied first); returns the spill and each chunk's taps per
    /// card (`burst::card_counts`), for the cards' month totals.
    ///
    /// Each chunk is cut once per way (a hash partition of the part
    /// number, not a filter per part) and written LZ4-compressed: the
    /// files live minutes and are read once, so speed beats size (zstd
    /// took a third of a 100 M-tap run).
    pub fn write(
        input: &[LazyFrame],
        parts: u32,
        dir: &Path,
    ) -> PolarsResult<(Spill, Vec<DataFrame>)> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io)?;
        }
        std::fs::create_dir_all(dir).map_err(io)?;
        let spill = Spill {
            dir: dir.to_path_buf(),
        };
        let mut writers = Vec::new();
        let mut counts = Vec::with_capacity(input.len());
        for chunk in input {
            let df = chunk.clone().collect()?;
            if writers.is_empty() {
                for by in [By::Validator, By::Card] {
                    for i in 0..parts {
                        let file = File::create(spill.path(by, i)).map_err(io)?;
                        writers.push(
                            ParquetWriter::new(file)
                                .with_compression(ParquetCompression::Lz4Raw)
                                .with_statistics(StatisticsOptions::empty())
                                .batched(df.schema())?,
                        );
                    }
                }
            }
            for (k, by) in [By::Validator, By::Card].into_iter().enumerate() {
                let keyed = df
                    .clone()
                    .lazy()
                    .with_column(part_of(by.column(), parts).alias("_part"))
                    .collect()?;
                for part in keyed.partition_by_stable(["_part"], true)? {
                    let i = part.column("_part")?.u32()?.get(0).unwrap_or(0);
                    let part = part.drop("_part")?;
                    writers[k * parts as usize + i as usize].write_batch(&part)?;
                }
            }
            counts.push(super::burst::card_counts(&df)?);
        }
        for w in &writers {
            w.finish()?;
        }
        Ok((spill, counts))
    }

    fn path(&self, by: By, i: u32) -> PathBuf {
        self.dir.join(format!("{}-{i}.parquet", by.prefix()))
    }

    /// Slice `i` cut `by`, its rows numbered (`_r`).
    pub fn read(&self, by: By, i: u32) -> PolarsResult<DataFrame> {
        let file = File::open(self.path(by, i)).map_err(io)?;
        ParquetReader::new(file)
            .finish()?
            .with_row_index("_r".into(), None)
    }
}

/// Which of `parts` slices a row of `column` (an integer) belongs to.
fn part_of(column: &str, parts: u32) -> Expr {
    ((col(column).cast(DataType::Int64) % lit(i64::from(parts)) + lit(i64::from(parts)))
        % lit(i64::from(parts)))
    .cast(DataType::UInt32)
}

/// The rows of `df` in slice `i` of `parts`, cut by `column` as the spill
/// cuts it (the registry's cards for one card slice).
pub fn cut(df: &DataFrame, column: &str, parts: u32, i: u32) -> PolarsResult<DataFrame> {
    df.clone()
        .lazy()
        .filter(part_of(column, parts).eq(lit(i)))
        .collect()
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
