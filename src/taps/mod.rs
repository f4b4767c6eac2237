//! The tap store (issue 6, DESIGN.md "stores"): every tap a validator
//! recorded, exactly once.
//!
//! - `dump`: the raw dump file, the dock's bytes exactly as received;
//! - `ledger`: which (validator, sequence) runs the store already holds;
//! - `parquet`: the month partitions under `taps/`, their files, compaction;
//! - `ingest`: one batch of taps into the store, in the durable order;
//! - `conflict`: a number the store holds, the same tap or a conflict;
//! - `vendor`: a vendor system's CSV export, for cities migrating.

pub mod conflict;
pub mod dump;
pub mod import;
pub mod ingest;
pub mod ledger;
pub mod month;
pub mod parquet;
pub mod vendor;

use std::path::{Path, PathBuf};

use kartka_protocol::TapRecord;

pub use ingest::{Ingested, Source, ingest};

/// One tap as the store keeps it: the validator's record, and what the
/// store adds or lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tap {
    pub record: TapRecord,
    /// The vehicle's carrier: the vendor's column, or the registry's.
    pub carrier: Option<u16>,
    /// The card's trip counter; a vendor export has none.
    pub trips: Option<u16>,
}

impl Tap {
    pub fn from_record(record: TapRecord) -> Tap {
        Tap {
            record,
            carrier: None,
            trips: Some(record.trips),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: no such file.\n  Check the path.")]
    Missing { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {why}\n  {todo}")]
    BadInput {
        path: PathBuf,
        why: String,
        todo: &'static str,
    },
    #[error(
        "{path}: validator {validator} is not registered.\n  Add it to the fleet (`kartka fleet import`), then import the file again; nothing was stored."
    )]
    UnknownValidator { path: PathBuf, validator: u16 },
    #[error(
        "{path}: {count} row(s) carry a validator and seq the store holds for a different tap; a sequence number names one tap, so nothing of this file was stored.\n{first}\n  {todo}"
    )]
    Conflicts {
        path: PathBuf,
        count: usize,
        /// The first conflicting rows, one a line.
        first: String,
        todo: &'static str,
    },
    #[error(
        "{path}: cannot write: {source}\n  Check the disk has room and the folder is writable."
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: Parquet: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Missing { .. } => ExitCode::NoInput,
            Error::BadInput { .. } | Error::UnknownValidator { .. } | Error::Conflicts { .. } => {
                ExitCode::DataErr
            }
            Error::Read { .. } | Error::Parquet { .. } => ExitCode::IoErr,
            Error::Write { .. } => ExitCode::CantCreate,
            Error::Registry(e) => e.exit_code(),
        }
    }
}

impl Error {
    pub fn write(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
        move |source| Error::Write {
            path: path.to_path_buf(),
            source,
        }
    }
    pub fn read(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
        move |source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::Missing {
                    path: path.to_path_buf(),
                }
            } else {
                Error::Read {
                    path: path.to_path_buf(),
                    source,
                }
            }
        }
    }
    pub fn sql(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |e| Error::Registry(crate::registry::Error::sqlite(path, e))
    }
}

/// Writes `bytes` to `path` through `private::NewFile` (created new beside
/// it, mode 0600, flushed, renamed into place) before returning.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::private::write(path, bytes).map_err(Error::write(path))
}

/// Writes `bytes` as `dir/name` the durable way: through
/// `private::NewFile`, flushed, renamed into place, the folder flushed.
/// Returns the path and the bytes' SHA-256.
pub(crate) fn write_durably(
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<(PathBuf, String), Error> {
    std::fs::create_dir_all(dir).map_err(Error::write(dir))?;
    let path = dir.join(name);
    write_synced(&path, bytes)?;
    Ok((path, sha256_hex(bytes)))
}

/// Removes the part files killed writes left in the dumps and the
/// quarantine (a docking stopped by a full disk, a killed import). Run
/// holding the home lock, before a docking or an import writes.
pub(crate) fn sweep_parts(home: &crate::home::Home) -> usize {
    crate::private::sweep_tree(&home.dumps(), 1) + crate::private::sweep_tree(&home.quarantine(), 2)
}

/// Flushes a folder's entries (a new or renamed file) to the disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::write(dir))
}

pub(crate) use crate::hash::sha256_hex;
