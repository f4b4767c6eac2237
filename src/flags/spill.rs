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
    /// `dir` (emptied first); returns the spill and each chunk's
    /// (card_number, ctx), for the cards' month totals.
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
        let mut cards = Vec::with_capacity(input.len());
        for chunk in input {
            let mut df = chunk.clone().collect()?;
            // A mask filters a frame of the same chunks.
            df.rechunk_mut();
            if writers.is_empty() {
                for by in [By::Validator, By::Card] {
                    for i in 0..parts {
                        let file = File::create(spill.path(by, i)).map_err(io)?;
                        writers.push(
                            ParquetWriter::new(file)
                                .with_compression(ParquetCompression::Zstd(None))
                                .batched(df.schema())?,
                        );
                    }
                }
            }
            for (k, by) in [By::Validator, By::Card].into_iter().enumerate() {
                let key = df
                    .column(by.column())?
                    .cast(&DataType::Int64)?
                    .i64()?
                    .apply_values(|v| v.rem_euclid(i64::from(parts)))
                    .rechunk()
                    .into_owned();
                for i in 0..parts {
                    let part = df.filter(&key.equal(i64::from(i)))?;
                    if part.height() > 0 {
                        writers[k * parts as usize + i as usize].write_batch(&part)?;
                    }
                }
            }
            cards.push(df.select(["card_number", "ctx"])?);
        }
        for w in &writers {
            w.finish()?;
        }
        Ok((spill, cards))
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

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
