//! Cards (`kartka cards`, P6–P10, P18, K1, K2, K4): numbering, the card's
//! life as appended events, print jobs for the card printer (CSV, photos,
//! barcodes, a proof PDF and the chip images), and the blocklist the dock
//! pushes to validators.

pub mod blocklist;
pub mod dump;
pub mod inspect;
pub mod keyfile;
pub mod lifecycle;
pub mod number;
pub mod print;
pub mod settings;
mod store;

use std::path::PathBuf;

pub use lifecycle::{Move, Reason, State};
pub use number::{CardNumber, NumberError};
pub use store::{
    Card, Enforced, Event, IssueSummary, Shown, block, card, enforce, enforce_now, issue,
    job_cards, list, record, record_printed, reissue, show,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no card {0} in the registry.\n  Check the number; `kartka cards list` shows every card."
    )]
    UnknownCard(String),
    #[error(
        "no person with social number, tax number or passport {0:?} in the registry.\n  Check the number; `kartka cards show` takes a card number or a person."
    )]
    UnknownHolder(String),
    #[error("{0}.\n  Copy the number from the card's front or from `kartka cards list`.")]
    BadNumber(#[from] NumberError),
    #[error("card {number}: refused: {why}.\n  Nothing was changed.")]
    Refused { number: String, why: String },
    #[error("{path}: the card master key: {why}.\n  Nothing was written.")]
    Key { path: PathBuf, why: String },
    #[error(
        "{path}: the card design image: {why}.\n  Set [cards] arms and picture in kartka.toml to PNG or JPEG files; nothing was written."
    )]
    Design { path: PathBuf, why: String },
    #[error("{path}: {why}")]
    Uids {
        path: PathBuf,
        why: String,
        missing: bool,
    },
    #[error(
        "{path}: cannot write: {detail}.\n  Check the folder is writable; no card changed state."
    )]
    Output { path: PathBuf, detail: String },
    #[error(
        "{path}: not a card dump: {why}.\n  Give a Proxmark3 dump of a MIFARE Classic 1K: its .json (\"mfc v2\"), .bin (1,024 bytes) or .eml."
    )]
    Dump { path: PathBuf, why: String },
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::UnknownCard(_) | Error::UnknownHolder(_) => ExitCode::NoInput,
            Error::BadNumber(_) | Error::Refused { .. } | Error::Dump { .. } => ExitCode::DataErr,
            Error::Key { .. } | Error::Design { .. } => ExitCode::Config,
            Error::Uids { missing: true, .. } => ExitCode::NoInput,
            Error::Uids { .. } => ExitCode::DataErr,
            Error::Output { .. } => ExitCode::CantCreate,
            Error::Registry(e) => e.exit_code(),
        }
    }
}

impl Error {
    /// A SQLite failure on the registry at `path`.
    pub(crate) fn sql(path: &std::path::Path) -> impl Fn(rusqlite::Error) -> Error + Copy + '_ {
        move |e| Error::Registry(crate::registry::Error::sqlite(path, e))
    }

    /// An output at `path` that could not be written.
    pub(crate) fn output(path: &std::path::Path) -> impl Fn(std::io::Error) -> Error + Copy + '_ {
        move |e| Error::Output {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }
    }
}
