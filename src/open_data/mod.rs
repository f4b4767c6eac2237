//! Aggregated, protected data for the city and the public (K6, K5):
//! `kartka open-data`.
//!
//! - **public**: trips per month by route × Kyiv hour × day type, by route ×
//!   category group, by community and by carrier, each with its margins;
//!   every number behind fewer than `[open_data] min_cell` distinct cards
//!   withheld, with complements so that none can be worked out from the
//!   totals (`suppress`); no card, UID or holder anywhere.
//! - **research**: one row per trip with the card replaced by a keyed
//!   pseudonym (HMAC-SHA256 under a key made for this release only, kept in
//!   `keys/open-data/`, so two releases cannot be joined), the time cut to
//!   15 minutes and the category to its group; for analysts, with a
//!   purpose, recorded in the audit trail with every resident it covers.
//!
//! Both are written as CSV (Ukrainian headers, and an English copy) and
//! Parquet, with a data dictionary (`README.md`, `README.en.md`) and
//! `manifest.json` (every file's SHA-256) signed with the city's Ed25519
//! publication key (`sign`); `verify` checks a release against the public
//! key.

pub mod release;
pub mod research;
pub mod settings;
pub mod sign;
pub mod suppress;
pub mod tables;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::config::Config;
use crate::home::Home;
use crate::registry::Registry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Aggregates with small numbers withheld: for anyone.
    Public,
    /// Pseudonymised trips: for an analyst with a purpose.
    Research,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "--from {from} is after --to {to}.\n  Give the first and the last day of the period (Kyiv dates)."
    )]
    Period { from: NaiveDate, to: NaiveDate },
    #[error(
        "no taps stored between {from} and {to}: nothing to publish.\n  See the months the store holds: kartka taps months"
    )]
    NoTaps { from: NaiveDate, to: NaiveDate },
    #[error(
        "{path}: the folder exists and is not empty; a release is written whole into a new folder.\n  Give a new --out folder (or remove this one)."
    )]
    Exists { path: PathBuf },
    #[error(
        "{path}: cannot write the release: {detail}.\n  Check the folder is writable and has room."
    )]
    Write { path: PathBuf, detail: String },
    #[error("{path}: the publication key: {why}")]
    Key { path: PathBuf, why: String },
    #[error("kartka.toml: {0}")]
    Settings(String),
    #[error("the tap store: {0}")]
    Store(String),
    #[error(
        "{dir}: not a release: {detail}.\n  Give the folder `kartka open-data` wrote (it holds manifest.json and manifest.json.sig)."
    )]
    NoManifest { dir: PathBuf, detail: String },
    #[error("{0}")]
    BadKey(String),
    #[error(
        "{dir}: the release does not verify:\n{}\n  Do not use it: get the release again from the city.",
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
    )]
    Tampered { dir: PathBuf, problems: Vec<String> },
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
}

impl Error {
    /// The exit code this failure ends a command with (the table in
    /// `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::Period { .. } | Error::BadKey(_) => ExitCode::Usage,
            Error::NoTaps { .. } | Error::NoManifest { .. } => ExitCode::NoInput,
            Error::Exists { .. } | Error::Write { .. } => ExitCode::CantCreate,
            Error::Key { .. } | Error::Settings(_) => ExitCode::Config,
            Error::Store(_) => ExitCode::Software,
            Error::Tampered { .. } => ExitCode::DataErr,
            Error::Taps(e) => e.exit_code(),
            Error::Registry(e) => e.exit_code(),
        }
    }
}

pub struct Options {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub out: PathBuf,
    pub level: Level,
}

/// One table's withheld share in one month.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Withheld {
    pub month: String,
    pub table: String,
    pub cells: usize,
    pub withheld_small: usize,
    pub withheld_complement: usize,
    pub trips: i64,
    pub withheld_trips: i64,
    /// Withheld trips over the table's trips, in percent (two decimals).
    pub withheld_pct: f64,
}

/// What a release was.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    pub release: String,
    pub level: Level,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub out: PathBuf,
    pub months: Vec<String>,
    /// Trips (accepted validations) in the period: `kartka report`'s total.
    pub trips: i64,
    /// Files written, besides the manifest and its signature.
    pub files: usize,
    pub min_cell: u32,
    /// Public releases: each table's withheld share.
    pub withheld: Vec<Withheld>,
    /// Research releases: the pseudonyms' key file (never published).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pseudonym_key: Option<PathBuf>,
    /// The public key that verifies the release (hex), and its file.
    pub public_key: String,
    pub public_key_file: PathBuf,
    /// The publication key was made by this run: publish its `.pub`.
    pub new_key: bool,
}

/// `kartka open-data`: one release, written whole into `o.out`.
pub fn publish(
    home: &Home,
    reg: &mut Registry,
    config: &Config,
    session: &crate::access::Session,
    o: &Options,
) -> Result<Summary, Error> {
    if o.from > o.to {
        return Err(Error::Period {
            from: o.from,
            to: o.to,
        });
    }
    release::check_out(&o.out)?;
    let key_path = home.root().join(&config.open_data.signing_key);
    let (key, new_key) = sign::load_or_create(&key_path)?;
    let period = tables::period(home, reg, config, o.from, o.to)?;
    if period.chunks.is_empty() {
        return Err(Error::NoTaps {
            from: o.from,
            to: o.to,
        });
    }
    let created = crate::time::now_utc_text();
    let release_id = format!(
        "{}..{}-{}-{}-{:04x}",
        o.from,
        o.to,
        match o.level {
            Level::Public => "public",
            Level::Research => "research",
        },
        created.replace([':', '-'], ""),
        rand::random::<u16>()
    );
    let mut w = release::Writer::begin(&o.out, o.level)?;
    let (months, trips, withheld, pseudonym_key) = match o.level {
        Level::Public => {
            let carriers = crate::fleet::carrier_names(reg)?;
            let counted = tables::count(period)?;
            if counted.is_empty() {
                return Err(Error::NoTaps {
                    from: o.from,
                    to: o.to,
                });
            }
            let withheld = release::public(&mut w, config, &carriers, &counted)?;
            (
                counted.iter().map(|m| m.month.clone()).collect(),
                counted.iter().map(|m| m.total.trips).sum(),
                withheld,
                None,
            )
        }
        Level::Research => {
            let r = research::write(&mut w, home, reg, period, &release_id)?;
            if r.trips == 0 {
                return Err(Error::NoTaps {
                    from: o.from,
                    to: o.to,
                });
            }
            // K5: every resident in it can see this release in their
            // audit trail; recorded before the release is in place.
            session.record(
                reg,
                crate::audit::Outcome::Exported,
                &r.people,
                &format!(
                    "open-data research release {release_id} ({} trips, pseudonymised) → {}",
                    r.trips,
                    o.out.display()
                ),
            )?;
            (r.months, r.trips, Vec::new(), Some(r.key_file))
        }
    };
    let meta = release::Meta {
        release: &release_id,
        level: o.level,
        from: o.from,
        to: o.to,
        created: &created,
        min_cell: config.open_data.min_cell,
        months: &months,
        trips,
        withheld: &withheld,
        public_key: &sign::hex(key.verifying_key().as_bytes()),
    };
    let files = w.finish(&meta, &key)?;
    Ok(Summary {
        release: release_id,
        level: o.level,
        from: o.from,
        to: o.to,
        out: o.out.clone(),
        months,
        trips,
        files,
        min_cell: config.open_data.min_cell,
        withheld,
        pseudonym_key,
        public_key: sign::hex(key.verifying_key().as_bytes()),
        public_key_file: sign::public_path(&key_path),
        new_key,
    })
}

/// What `verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    pub dir: PathBuf,
    pub release: String,
    pub files: usize,
    pub bytes: u64,
}

/// `kartka open-data verify`: the manifest's signature under `key`, every
/// file's SHA-256, and no file added.
pub fn verify(dir: &Path, key: &str) -> Result<Verified, Error> {
    release::verify(dir, key)
}
