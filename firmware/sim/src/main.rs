//! `kartka-sim`: run a validator on this machine.

use clap::{Parser, Subcommand};
use kartka_protocol::auth::{DEMO_DOCK_MASTER, validator_key};
use kartka_protocol::card::keys::DEMO_MASTER;
use kartka_protocol::message::{MAX_ROUTES, Settings};
use kartka_sim::cards::Wallet;
use kartka_sim::flash::{FileFlash, SECTOR};
use kartka_sim::link::{Faults, FaultyWriter, Pty};
use kartka_sim::{figures, script};
use kartka_validator::fake::{FakeMfrc522, Shared};
use kartka_validator::{Clock, CoreError, Dock, Keys, Mfrc522Reader, Validator};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "kartka-sim",
    version,
    about = "A kartka validator on this machine: the real validator core, a simulated card reader and flash, and the dock protocol on a pseudo-terminal"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tap cards, then serve the dock on a pseudo-terminal (its path is the
    /// first line on stdout).
    Serve(Box<Serve>),
    /// The validator's screens (P16) as PNG files, drawn by the real
    /// screen code: ready, accepted, repeat, refusals, the trip limit, the
    /// inspection view.
    Screens {
        /// The folder to write NAME.png into.
        #[arg(long, default_value = "screens")]
        out: PathBuf,
    },
    /// Bytes on the wire and time to dump N taps at a baud rate.
    Figures {
        #[arg(long, default_value_t = 50_000)]
        taps: usize,
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
    },
}

#[derive(Parser)]
struct Serve {
    /// Folder for the validator's flash (log.bin, store.bin); kept between
    /// runs like a real validator's memory.
    #[arg(long, default_value = "kartka-sim-state")]
    state: PathBuf,
    #[arg(long, default_value_t = 7)]
    validator: u16,
    #[arg(long, default_value_t = 1012)]
    vehicle: u16,
    #[arg(long, default_value_t = 1)]
    carrier: u16,
    #[arg(long, default_value_t = 5)]
    route: u16,
    #[arg(long, default_value_t = 1)]
    zone: u8,
    /// Taps from a file: `time,card` per line.
    #[arg(long, conflicts_with = "generate")]
    taps: Option<PathBuf>,
    /// Generate this many taps.
    #[arg(long)]
    generate: Option<usize>,
    /// Cards in the generated taps.
    #[arg(long, default_value_t = 200)]
    cards: u32,
    #[arg(long, default_value_t = 10_000_001)]
    first_card: u32,
    /// Time of the first generated tap (RFC 3339 or UTC seconds).
    #[arg(long, default_value = "2026-10-01T06:00:00+03:00")]
    start: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The card master key, 32 hex digits (default: the demo key).
    #[arg(long, env = "KARTKA_CARD_MASTER")]
    card_master: Option<String>,
    /// The dock master key, 32 hex digits (default: the demo key); this
    /// validator's dock key is derived from it and its id.
    #[arg(long, env = "KARTKA_DOCK_MASTER")]
    dock_master: Option<String>,
    /// Size of the tap log in KiB (32 bytes a tap).
    #[arg(long, default_value_t = 4096)]
    log_kib: usize,
    /// Unplug after sending this many bytes.
    #[arg(long)]
    drop_after: Option<u64>,
    /// Flip a bit in every Nth byte sent.
    #[arg(long)]
    flip_every: Option<u64>,
    /// Stall once after sending this many bytes…
    #[arg(long)]
    stall_after: Option<u64>,
    /// …for this many milliseconds.
    #[arg(long, default_value_t = 3000)]
    stall_ms: u64,
    /// Write junk bytes before every frame (line noise).
    #[arg(long)]
    garbage: bool,
    /// Replace the Nth batch frame with a forged one (edited, signed with a
    /// wrong key).
    #[arg(long)]
    forge_batch: Option<u64>,
    /// Set the validator's clock to the host's time plus this many seconds
    /// when serving starts (a clock an hour fast: 3600).
    #[arg(long, allow_hyphen_values = true)]
    clock_offset: Option<i64>,
    /// Exit after this many seconds without traffic (0: serve until killed).
    #[arg(long, default_value_t = 0)]
    idle_exit: u64,
    /// Also make a symlink to the pseudo-terminal here.
    #[arg(long)]
    link: Option<PathBuf>,
    /// Tap, then exit without serving.
    #[arg(long)]
    no_serve: bool,
}

/// The simulated validator: flash kept in files.
type SimValidator = Validator<FileFlash, FileFlash>;

/// The validator's clock: set by a tap script or the dock, running on from
/// there.
struct SimClock {
    set: Option<(u32, Instant)>,
}

impl Clock for SimClock {
    fn now(&self) -> Option<u32> {
        self.set
            .map(|(utc, at)| utc + at.elapsed().as_secs() as u32)
    }
    fn set(&mut self, utc: u32) {
        self.set = Some((utc, Instant::now()));
    }
}

fn key16(hex: Option<&str>, demo: [u8; 16], what: &str) -> Result<[u8; 16], String> {
    let Some(hex) = hex else {
        eprintln!("kartka-sim: using the demo {what} (not for real cards or validators)");
        return Ok(demo);
    };
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    bytes
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(|| format!("the {what} must be 32 hex digits"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Figures { taps, baud } => {
            let f = figures::dump(taps, baud);
            println!("taps:                {}", f.taps);
            println!(
                "record payload:      {} bytes ({} per record)",
                f.payload,
                kartka_protocol::RECORD_LEN
            );
            println!(
                "on the wire:         {} bytes in {} frames ({:.2} bytes per record)",
                f.wire,
                f.frames,
                f.bytes_per_record()
            );
            println!(
                "at {} baud (8N1): {:.1} s; payload alone {:.1} s; overhead {:.2}%",
                f.baud,
                f.seconds(),
                f.minimum_seconds(),
                f.overhead() * 100.0
            );
            Ok(0)
        }
        Command::Serve(args) => serve(*args),
        Command::Screens { out } => kartka_sim::screens::write_gallery(&out).map(|files| {
            for f in files {
                println!("{}", f.display());
            }
            0
        }),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kartka-sim: {e}");
            ExitCode::from(64)
        }
    }
}

fn serve(args: Serve) -> Result<u8, String> {
    let card_master = key16(args.card_master.as_deref(), DEMO_MASTER, "card master key")?;
    let dock_master = key16(
        args.dock_master.as_deref(),
        DEMO_DOCK_MASTER,
        "dock master key",
    )?;
    std::fs::create_dir_all(&args.state)
        .map_err(|e| format!("cannot create {}: {e}", args.state.display()))?;
    let log = FileFlash::open(
        &args.state.join("log.bin"),
        (args.log_kib * 1024).div_ceil(SECTOR) * SECTOR,
    )?;
    let store = FileFlash::open(&args.state.join("store.bin"), 64 * SECTOR)?;
    let keys = Keys {
        card_master,
        dock: validator_key(&dock_master, args.validator),
    };
    let mut v = Validator::open(args.validator, [0, 1, 0], keys, log, store).map_err(|e| {
        format!(
            "the validator's flash in {} cannot be opened: {e:?}",
            args.state.display()
        )
    })?;
    configure(&mut v, &args)?;

    let taps = match (&args.taps, args.generate) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            script::parse(&text, &path.display().to_string())?
        }
        (None, Some(n)) => {
            let start = script::parse_time(&args.start)
                .ok_or_else(|| format!("--start `{}` is not a time", args.start))?;
            script::generate(n, args.cards, args.first_card, start, args.seed)
        }
        (None, None) => Vec::new(),
    };
    let mut clock = SimClock { set: None };
    if !taps.is_empty() {
        run_taps(&mut v, &mut clock, &taps, card_master)?;
    }
    if args.no_serve {
        return Ok(0);
    }
    serve_dock(&mut v, &mut clock, &args)
}

/// Puts the vehicle's settings in, as the depot did when it installed the
/// validator, unless they are there already.
fn configure(v: &mut SimValidator, args: &Serve) -> Result<(), String> {
    let mut routes = [0; MAX_ROUTES];
    routes[0] = args.route;
    let old = v.settings();
    let wanted = Settings {
        version: old.map_or(1, |s| s.version),
        vehicle: args.vehicle,
        carrier: args.carrier,
        route: args.route,
        routes,
        zone: args.zone,
        timeout_s: 900,
        utc_offset_min: old.map_or(180, |s| s.utc_offset_min),
    };
    let same = old.is_some_and(|o| {
        (o.vehicle, o.carrier, o.route, o.zone)
            == (wanted.vehicle, wanted.carrier, wanted.route, wanted.zone)
    });
    if !same {
        let s = Settings {
            version: old.map_or(1, |s| s.version + 1),
            ..wanted
        };
        v.put_settings(s)
            .map_err(|e| format!("cannot store the settings: {e:?}"))?;
    }
    Ok(())
}

fn run_taps(
    v: &mut SimValidator,
    clock: &mut SimClock,
    taps: &[script::Tap],
    card_master: [u8; 16],
) -> Result<(), String> {
    let first = taps.iter().map(|t| t.time).min().unwrap_or(0);
    let mut wallet = Wallet::new(
        card_master,
        ((first / 86_400 - 60) as u16, (first / 86_400 + 365) as u16),
    );
    let chip = RefCell::new(FakeMfrc522::new());
    let mut reader = Mfrc522Reader::new(Shared(&chip))
        .map_err(|e| format!("the simulated reader did not start: {e:?}"))?;
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    for tap in taps {
        clock.set(tap.time);
        chip.borrow_mut().present(wallet.take(tap.card));
        let outcome = v.poll(&mut reader, clock.now());
        let card = chip.borrow_mut().remove().expect("the card was presented");
        wallet.put_back(tap.card, card);
        match outcome {
            Ok(Some(r)) => *counts.entry(r.result.name()).or_default() += 1,
            Ok(None) => *counts.entry("ignored (same card within 3 s)").or_default() += 1,
            Err(CoreError::LogFull) => {
                *counts.entry("refused: log full").or_default() += 1;
            }
            Err(e) => return Err(format!("flash failed: {e:?}")),
        }
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    eprintln!(
        "kartka-sim: validator {}: {} taps: {}; log holds seq up to {}",
        v.id,
        taps.len(),
        summary.join(", "),
        v.next_seq() - 1
    );
    Ok(())
}

fn serve_dock(v: &mut SimValidator, clock: &mut SimClock, args: &Serve) -> Result<u8, String> {
    let pty = Pty::open()?;
    if let Some(link) = &args.link {
        let _ = std::fs::remove_file(link);
        std::os::unix::fs::symlink(&pty.path, link)
            .map_err(|e| format!("cannot link {}: {e}", link.display()))?;
    }
    println!("{}", pty.path.display());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let faults = Faults {
        drop_after: args.drop_after,
        flip_every: args.flip_every,
        stall_after: args.stall_after,
        stall: Duration::from_millis(args.stall_ms),
        garbage: args.garbage,
        forge_batch: args.forge_batch,
    };
    if let Some(offset) = args.clock_offset {
        let now = chrono::Utc::now().timestamp() + offset;
        clock.set(now as u32);
    }
    let mut reader = pty.master.try_clone().map_err(|e| e.to_string())?;
    let mut writer = FaultyWriter::new(pty.master.try_clone().map_err(|e| e.to_string())?, faults);
    let seed = std::process::id()
        ^ (Instant::now().elapsed().subsec_nanos())
        ^ v.next_seq().rotate_left(16);
    let mut dock = Dock::new(seed);
    let mut buf = [0u8; 4096];
    let mut last_traffic = Instant::now();
    loop {
        let timeout = PollTimeout::from(500u16);
        let mut fds = [PollFd::new(pty.master.as_fd(), PollFlags::POLLIN)];
        let ready = poll(&mut fds, timeout).map_err(|e| format!("poll: {e}"))?;
        if ready == 0 {
            if args.idle_exit > 0 && last_traffic.elapsed() >= Duration::from_secs(args.idle_exit) {
                eprintln!("kartka-sim: no traffic for {} s; exiting", args.idle_exit);
                return Ok(0);
            }
            continue;
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => continue,
            Ok(n) => n,
            // EIO: no one has the terminal open right now.
            Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            Err(e) => return Err(format!("reading {}: {e}", pty.path.display())),
        };
        last_traffic = Instant::now();
        let mut send = |bytes: &[u8]| writer.send(bytes);
        if dock.on_bytes(v, clock, &buf[..n], &mut send).is_err() || writer.dropped {
            eprintln!(
                "kartka-sim: link dropped after {} bytes (--drop-after)",
                writer.sent
            );
            return Ok(3);
        }
    }
}
