//! `kartka dock`: validators over serial (tokio-serial), one after another.
//!
//! - `link`: frames over any async byte stream, each kept as received;
//! - `session`: one docking, in the order of issue 6;
//! - this module: the ports, the runtime, the sweep and its summary.

pub mod link;
pub mod session;
pub mod settings;

use std::path::{Path, PathBuf};
use std::time::Instant;

use rusqlite::params;

use crate::config::Config;
use crate::home::Home;
use crate::registry::Registry;
use crate::taps::ledger::Held;

pub use session::Report;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{port}: no such port.\n  Check the cable and the device name (`ls /dev/ttyACM* /dev/ttyUSB*`)."
    )]
    NoSuchPort { port: String },
    #[error(
        "{port}: the port is busy (another program has it open).\n  Close the other program (a terminal, another dock) and dock again."
    )]
    PortBusy { port: String },
    #[error(
        "{port}: cannot open the port: {why}\n  Check the device and your permission to use it (group dialout)."
    )]
    PortOpen { port: String, why: String },
    #[error(
        "{port}: the link was lost during {at} ({why}).\n  {}",
        match acked {
            Some(s) => format!("Everything up to seq {s} is stored and acked; dock again to fetch the rest."),
            None => "Nothing unacked was erased on the validator; dock again: it resumes from the last ack.".to_string(),
        }
    )]
    Unplugged {
        port: String,
        at: String,
        why: String,
        acked: Option<u32>,
    },
    #[error(
        "{port}: no validator answered ({frames} frames, {bytes} bytes received).\n  Is this a kartka validator, powered and in dock mode? Check --baud."
    )]
    NoAnswer {
        port: String,
        frames: u64,
        bytes: u64,
    },
    #[error(
        "{port}: the validator speaks protocol version {theirs}; this kartka speaks {}.\n  Update kartka or the validator's firmware so they match.",
        kartka_protocol::PROTOCOL_VERSION
    )]
    Version { port: String, theirs: u32 },
    #[error(
        "{port}: validator {validator}, frame {frame}: the MAC of {what} is wrong (forged, edited, or another dock key); it was refused and kept in {file}.\n  Check the validator's provisioning and the dock master key; report it if it persists."
    )]
    BadMac {
        port: String,
        validator: u16,
        frame: u64,
        what: String,
        file: String,
    },
    #[error(
        "{port}: validator {validator} is not registered; {taps} taps kept in {file} and left on the validator (not acked).\n  Add it to the fleet (`kartka fleet import`), then dock it again."
    )]
    UnknownValidator {
        port: String,
        validator: u16,
        taps: usize,
        file: String,
    },
    #[error(
        "{port}: validator {validator}: {taps} tap(s) differ from the signed taps stored under the same sequence numbers (first: seq {seq}, {at}, card {card}, UID {uid}, {result}; batch {kept} holds seq {seq}). They are kept in quarantine (`kartka taps conflicts`) and left on the validator: {acked}.\n  The validator's numbering went back (its flash replaced or wiped?) or two validators carry id {validator}: check its id against the fleet sheet before docking it again.",
        seq = first.seq,
        at = crate::time::stored_as_kyiv(&first.tapped_at),
        card = first.card,
        uid = first.card_uid,
        result = first.result,
        kept = first.kept_batch,
        acked = match acked {
            Some(s) => format!("acked up to seq {s} only"),
            None => "nothing acked".to_string(),
        }
    )]
    Conflict {
        port: String,
        validator: u16,
        taps: usize,
        first: Box<crate::taps::conflict::Quarantined>,
        acked: Option<u32>,
    },
    #[error(
        "{port}: validator {validator}, frame {frame}: it refused: {what} (detail {detail}).\n  Dock it again; if it repeats, the validator needs service."
    )]
    Refused {
        port: String,
        validator: u16,
        frame: u64,
        what: String,
        detail: u32,
    },
    #[error("{port}: frame {frame}: {why}")]
    Protocol {
        port: String,
        frame: u64,
        why: String,
    },
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
    #[error(transparent)]
    Key(#[from] crate::cards::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::NoSuchPort { .. } => ExitCode::NoInput,
            Error::PortBusy { .. } => ExitCode::TempFail,
            Error::PortOpen { .. }
            | Error::Unplugged { .. }
            | Error::NoAnswer { .. }
            | Error::Refused { .. } => ExitCode::IoErr,
            Error::Version { .. }
            | Error::BadMac { .. }
            | Error::UnknownValidator { .. }
            | Error::Conflict { .. }
            | Error::Protocol { .. } => ExitCode::DataErr,
            Error::Taps(e) => e.exit_code(),
            Error::Registry(e) => e.exit_code(),
            // A missing or loose key file is the home's configuration.
            Error::Key(crate::cards::Error::Key { .. }) => ExitCode::Config,
            Error::Key(_) => ExitCode::IoErr,
        }
    }
}

/// The sweep's summary (`--json`).
#[derive(Debug, Default, serde::Serialize)]
pub struct Summary {
    pub validators: usize,
    pub taps_new: usize,
    pub taps_duplicate: usize,
    pub taps_replaced: usize,
    pub taps_conflict: usize,
    pub batches_rejected: usize,
    pub clock_fixed: usize,
    pub blocklist_pushed: usize,
    pub failed: usize,
    pub docked: Vec<Report>,
    #[serde(skip)]
    pub errors: Vec<Error>,
}

/// The ports matching the globs, sorted.
pub fn find_ports(patterns: &[String]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = patterns
        .iter()
        .filter_map(|p| glob::glob(p).ok())
        .flat_map(|paths| paths.flatten())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn open(port: &Path, baud: u32) -> Result<tokio_serial::SerialStream, Error> {
    let name = port.display().to_string();
    if !port.exists() {
        return Err(Error::NoSuchPort { port: name });
    }
    let builder = tokio_serial::new(name.clone(), baud);
    tokio_serial::SerialStream::open(&builder).map_err(|e| {
        // serialport reports EBUSY (TIOCEXCL or its flock held by another
        // program) as NoDevice; the device exists, so it is busy.
        if matches!(e.kind, tokio_serial::ErrorKind::NoDevice) {
            if port.exists() {
                Error::PortBusy { port: name.clone() }
            } else {
                Error::NoSuchPort { port: name.clone() }
            }
        } else {
            Error::PortOpen {
                port: name.clone(),
                why: e.description,
            }
        }
    })
}

/// Docks the validators on `ports`, one after another; a failure on one
/// port is reported and the sweep goes on.
#[allow(clippy::too_many_arguments)]
pub fn run(
    home: &Home,
    reg: &mut Registry,
    config: &Config,
    ports: &[PathBuf],
    baud: u32,
    operator: &str,
    progress: &indicatif::ProgressBar,
    on_port: &mut dyn FnMut(&Report, Option<&Error>),
) -> Result<Summary, Error> {
    let master = crate::cards::keyfile::read(&home.root().join(&config.dock.key_file))?;
    crate::taps::parquet::sweep(home, reg)?;
    crate::taps::sweep_parts(home);
    let mut held = Held::load(reg)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut summary = Summary::default();
    for port in ports {
        let started = Instant::now();
        let started_at = crate::time::now_utc_text();
        let mut report = Report {
            port: port.display().to_string(),
            ..Report::default()
        };
        progress.reset();
        let outcome = runtime.block_on(async {
            let stream = open(port, baud)?;
            let mut link = link::Link::new(stream);
            let mut cx = session::Context {
                home,
                reg: &mut *reg,
                held: &mut held,
                config,
                master,
                operator,
                progress,
            };
            session::dock(&mut cx, &mut link, &mut report).await
        });
        report.seconds = started.elapsed().as_secs_f64();
        record_session(reg, &report, &started_at, outcome.as_ref().err())?;
        on_port(&report, outcome.as_ref().err());
        if report.validator.is_some() {
            summary.validators += 1;
        }
        summary.taps_new += report.taps_new;
        summary.taps_duplicate += report.taps_duplicate;
        summary.taps_replaced += report.taps_replaced;
        summary.taps_conflict += report.taps_conflict;
        summary.batches_rejected += report.batches_rejected;
        summary.clock_fixed += usize::from(report.clock_fixed);
        summary.blocklist_pushed += usize::from(report.blocklist_pushed.is_some());
        if let Err(e) = outcome {
            summary.failed += 1;
            summary.errors.push(e);
        }
        summary.docked.push(report);
    }
    Ok(summary)
}

fn record_session(
    reg: &Registry,
    r: &Report,
    started_at: &str,
    error: Option<&Error>,
) -> Result<(), Error> {
    let outcome = match error {
        None => "ok".to_string(),
        Some(e) => format!("failed: {}", e.to_string().lines().next().unwrap_or("")),
    };
    let clock = r
        .drift_s
        .map(|d| crate::time::utc_text(chrono::Utc::now() + chrono::Duration::seconds(d)));
    reg.conn()
        .execute(
            "INSERT INTO dock_sessions (started_at, port, validator, firmware, clock, drift_s, clock_set,
               taps_new, taps_duplicate, acked_up_to, blocklist_to, settings_to, outcome, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                started_at,
                r.port,
                r.validator,
                r.firmware,
                clock,
                r.drift_s,
                r.clock_fixed,
                r.taps_new as i64,
                r.taps_duplicate as i64,
                r.acked_up_to,
                r.blocklist_pushed,
                r.settings_pushed,
                outcome,
                crate::time::now_utc_text()
            ],
        )
        .map_err(|e| reg.err(e))?;
    Ok(())
}
