//! `kartka backup DEST`, `kartka backup verify DEST`, `kartka restore SRC
//! --home DIR` (P21, K5). The work is in `crate::backup`.

use std::path::PathBuf;

use super::Global;
use crate::Error;

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = format!("Examples:\n  kartka backup /mnt/backup/kartka\n  kartka --json --quiet backup /mnt/backup/kartka-$(date +%u)   # cron: one folder per weekday\n  kartka backup verify /mnt/backup/kartka\n  kartka restore /mnt/backup/kartka --home /srv/kartka-restored\n\n\
    A backup runs beside other commands (it takes no home lock). DEST holds one snapshot;\n\
    a second backup to the same DEST copies only new files.\n\n{}", crate::exit::help("backup"))
)]
pub struct Args {
    /// The backup folder: new, empty, or one an earlier backup wrote.
    #[arg(value_name = "DEST", required = true)]
    dest: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Check a backup: every file's size and SHA-256, nothing missing or
    /// unlisted, the registry copy's integrity. Exit 0 good, 65 damaged, 66 not a backup.
    Verify {
        /// The backup folder.
        #[arg(value_name = "DEST")]
        dest: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = format!("Examples:\n  kartka restore /mnt/backup/kartka --home /srv/kartka-restored\n  kartka status --home /srv/kartka-restored\n\n\
    The backup is verified first; the new home (--home) must not exist or be empty.\n\n{}", crate::exit::help("restore"))
)]
pub struct RestoreArgs {
    /// The backup folder (`kartka backup DEST` wrote it).
    #[arg(value_name = "SRC")]
    src: PathBuf,
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    match args.command {
        Some(Cmd::Verify { dest }) => {
            let bar = g.progress_bar("{bar:40} {pos}/{len} files checked, ETA {eta}");
            let v = crate::backup::verify(&dest, &bar);
            bar.finish_and_clear();
            let v = v?;
            g.say(format_args!(
                "{}: good. {} files ({}), {} tap files; registry snapshot of {} (schema v{}) from {}, by kartka {}.",
                v.dest,
                v.files,
                bytes(v.bytes),
                v.tap_files,
                v.created_at,
                v.schema_version,
                v.source_home,
                v.kartka_version
            ));
            g.print_json(&v);
        }
        None => {
            let dest = args.dest.expect("clap requires DEST");
            let home = g.home();
            let bar = g.progress_bar("{bar:40} {pos}/{len} files, ETA {eta} {wide_msg}");
            let s = crate::backup::backup(&home, &dest, &bar);
            bar.finish_and_clear();
            let s = s?;
            for w in &s.warnings {
                g.say(format_args!("warning: {w}"));
            }
            g.say(format_args!(
                "Backed up {} to {}: {} files ({}); {} copied ({}), {} kept ({}), {} removed; registry snapshot of {}.",
                s.home,
                s.dest,
                s.files,
                bytes(s.bytes),
                s.files_copied,
                bytes(s.bytes_copied),
                s.files_kept,
                bytes(s.bytes_kept),
                s.files_removed,
                s.created_at
            ));
            g.print_json(&s);
        }
    }
    Ok(())
}

pub fn restore(g: &Global, args: RestoreArgs) -> Result<(), Error> {
    let bar = g.progress_bar("{bar:40} {pos}/{len} files, ETA {eta}");
    let r = crate::backup::restore(&args.src, &g.home, &bar);
    bar.finish_and_clear();
    let r = r?;
    g.say(format_args!(
        "Restored {} (registry snapshot of {} from {}) into {}: {} files ({}), {} tap files.\n  Check it: kartka status --home {}",
        r.from,
        r.created_at,
        r.source_home,
        r.home,
        r.files,
        bytes(r.bytes),
        r.tap_files,
        r.home
    ));
    g.print_json(&r);
    Ok(())
}

/// Bytes for people: 980 B, 12.3 KiB, 4.1 MiB, 2.0 GiB.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}
