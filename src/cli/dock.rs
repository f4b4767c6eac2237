//! `kartka dock`: thin; the session is `crate::dock`.

use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::config::Config;
use crate::registry::Registry;

/// Dock validators: fetch their taps into the store, send the blocklist,
/// settings and the time.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka dock --port /dev/ttyACM0\n  kartka dock --all                       # cron: every validator plugged in\n  kartka --json dock --all --ports '/dev/serial/by-id/*'\n\n{}", crate::exit::help("dock")))]
pub struct Args {
    /// The validator's serial port.
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    port: Option<PathBuf>,
    /// Every port matching --ports (default: kartka.toml [dock] ports, /dev/ttyACM* and /dev/ttyUSB*), one after another.
    #[arg(long)]
    all: bool,
    /// Globs for --all.
    #[arg(long, requires = "all", num_args = 1..)]
    ports: Vec<String>,
    /// The link's baud rate (USB CDC-ACM ignores it) [default: kartka.toml [dock] baud].
    #[arg(long)]
    baud: Option<u32>,
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let ports = match (&args.port, args.all) {
        (Some(p), _) => vec![p.clone()],
        (None, _) => {
            let globs = if args.ports.is_empty() {
                config.dock.ports.clone()
            } else {
                args.ports.clone()
            };
            let found = crate::dock::find_ports(&globs);
            if found.is_empty() {
                g.say(format_args!(
                    "No validator plugged in ({}).",
                    globs.join(", ")
                ));
                g.print_json(&crate::dock::Summary::default());
                return Ok(());
            }
            found
        }
    };
    let _lock = home.lock("dock", crate::home::lock_wait())?;
    let mut reg = Registry::open(&home.registry())?;
    let bar = g.progress_bar("{msg} [{bar:30}] {pos}/{len} taps, {per_sec}, ETA {eta}");
    let baud = args.baud.unwrap_or(config.dock.baud);
    let mut summary = crate::dock::run(
        &home,
        &mut reg,
        &config,
        &ports,
        baud,
        &g.operator(),
        &bar,
        &mut |r, e| {
            bar.finish_and_clear();
            if let Some(e) = e {
                eprintln!("error: {e}");
            }
            g.say(describe(r));
        },
    )?;
    g.print_json(&summary);
    // Each failure was printed with its port as it happened; the exit code
    // is the first one's.
    match summary.errors.drain(..).next() {
        Some(e) => Err(Error::Reported(Error::from(e).exit_code())),
        None => Ok(()),
    }
}

fn describe(r: &crate::dock::Report) -> String {
    let Some(v) = r.validator else {
        return format!("{}: no validator docked.", r.port);
    };
    let mut parts = vec![format!(
        "validator {v} on {}: {} taps read ({} new, {} already stored)",
        r.port, r.taps_read, r.taps_new, r.taps_duplicate
    )];
    if r.taps_replaced > 0 {
        parts.push(format!(
            "{} vendor rows replaced by the validator's signed taps (in quarantine)",
            r.taps_replaced
        ));
    }
    if r.taps_conflict > 0 {
        parts.push(format!(
            "{} taps conflict with stored signed taps (in quarantine, not acked)",
            r.taps_conflict
        ));
    }
    if let Some(s) = r.acked_up_to {
        parts.push(format!("acked up to seq {s}"));
    }
    match (r.drift_s, r.clock_fixed) {
        (Some(d), true) => parts.push(format!("clock was {d:+} s off, set")),
        (None, true) => parts.push("clock was unset, set".into()),
        _ => {}
    }
    if let Some(b) = r.blocklist_pushed {
        parts.push(format!("blocklist v{b} sent"));
    }
    if let Some(s) = r.settings_pushed {
        parts.push(format!("settings v{s} sent"));
    }
    if r.frames_damaged > 0 {
        parts.push(format!("{} damaged frames skipped", r.frames_damaged));
    }
    format!("{}.", parts.join("; "))
}
