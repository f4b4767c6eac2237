//! Monthly compensation (issue 8; P12–P14, P17, P18, K3): what the city
//! owes each carrier for the free trips it carried, what each partner
//! community owes the carriers for its residents' trips and the city for
//! the cards made for them, as workbooks officials sign.
//!
//! What counts (stated in every workbook's notes): the month's accepted
//! taps (Kyiv month), minus the taps the latest `kartka taps flag` run
//! holds and nobody cleared. The repeats of P13 are held by rule 1, and a
//! transfer after a breakdown (P14), the same card on another vehicle
//! sooner than `[flags] transfer_min_s`, by rule 2: neither is a new trip.
//! Each counted trip is priced once, with the `[[tariffs]]` entry in force
//! on its Kyiv day for its route, carrier and tariff zone.
//!
//! - `count`: one polars pass over the month's Parquet files into a small
//!   cube (carrier, route, zone, day, category, community, held) of trip
//!   counts, priced in integer kopecks; the held taps with their reasons;
//!   the card-making costs each community owes.
//! - `workbook`: the carrier, community and city workbooks.
//! - `reconcile`: a carrier's own report against the counted trips (P17).

pub mod count;
pub mod reconcile;
pub mod settings;
pub mod summary;
pub mod workbook;

use std::path::PathBuf;

pub use count::{Cell, HeldTap, Month, Totals, compute};
pub use summary::{Summary, run};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("month {text:?} is not YYYY-MM.\n  Give the month as e.g. --month 2026-10.")]
    Month { text: String },
    #[error(
        "{month}: the store holds no taps for this month.\n  Dock the validators or import their dumps first (`kartka taps months` lists what is there)."
    )]
    NoTaps { month: String },
    #[error(
        "{month}: the taps have not been judged for suspicious ones yet, so nothing is known to hold.\n  Run `kartka taps flag --month {month}` first."
    )]
    NotFlagged { month: String },
    #[error(
        "{month}: the month's taps changed since the latest flag run ({stored} accepted taps stored, {judged} judged): taps came in or were replaced since.\n  Run `kartka taps flag --month {month}` again (clearings are kept), then this."
    )]
    StaleFlags {
        month: String,
        stored: u64,
        judged: u64,
    },
    #[error(
        "no fare in force for {trips} trip(s) on route {route} (carrier {carrier}, zone {zone}) on {day}.\n  Add a [[tariffs]] entry in kartka.toml that covers it; nothing was written."
    )]
    NoFare {
        route: i32,
        carrier: String,
        zone: String,
        day: chrono::NaiveDate,
        trips: i64,
    },
    #[error("{path}: cannot write: {message}\n  Check the folder exists and is writable.")]
    Output { path: PathBuf, message: String },
    #[error("{path}: no such file.\n  Check the path.")]
    Missing { path: PathBuf },
    #[error("{path}: {message}")]
    Report { path: PathBuf, message: String },
    #[error(
        "carrier {code:?} is not in the fleet.\n  Give its ЄДРПОУ or its id (`kartka fleet list` shows them)."
    )]
    UnknownCarrier { code: String },
    #[error("the count failed: {0}")]
    Polars(String),
    #[error("{0}; nothing was written")]
    Money(#[from] crate::money::Overflow),
    #[error(transparent)]
    Flags(#[from] crate::flags::Error),
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Month { .. } => ExitCode::Usage,
            Error::NoTaps { .. } | Error::NotFlagged { .. } | Error::Missing { .. } => {
                ExitCode::NoInput
            }
            Error::StaleFlags { .. } | Error::Report { .. } | Error::UnknownCarrier { .. } => {
                ExitCode::DataErr
            }
            Error::NoFare { .. } | Error::Money(_) => ExitCode::Config,
            Error::Output { .. } => ExitCode::CantCreate,
            Error::Polars(_) => ExitCode::Software,
            Error::Flags(e) => e.exit_code(),
            Error::Taps(e) => e.exit_code(),
            Error::Registry(e) => e.exit_code(),
        }
    }
}

impl Error {
    pub fn polars(e: polars::prelude::PolarsError) -> Error {
        Error::Polars(e.to_string())
    }
}
