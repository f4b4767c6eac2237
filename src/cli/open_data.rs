//! `kartka open-data`: aggregated, protected data for the public, or
//! pseudonymised trips for research (K6, K5); `open-data verify` checks a
//! release against the city's public key.

use std::path::PathBuf;

use chrono::NaiveDate;

use super::Global;
use crate::Error;
use crate::access::Action;
use crate::config::Config;
use crate::open_data::{self, Level};
use crate::registry::Registry;

/// Publish a period's trips as open data, each number behind fewer than
/// `[open_data] min_cell` cards withheld (public), or pseudonymised trips
/// (research); every file hashed in a signed manifest.
#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = format!("Examples:\n  kartka open-data --from 2026-10-01 --to 2026-10-31 --out /srv/open/2026-10\n  kartka open-data verify /srv/open/2026-10 --key kartka-home/keys/open-data-signing.pub\n  kartka open-data --level research --from 2026-10-01 --to 2026-10-31 --out study-12 \\\n      --purpose \"ridership study, agreement 12/2026\"\n\nThe first release makes the city's publication key (keys/open-data-signing.key, mode 600) and\nits public half (.pub): publish the .pub where people can fetch it. A research release is for\nanalyst accounts with --purpose, and is recorded in the audit trail of every resident in it.\n\n{}", crate::exit::help("open-data"))
)]
pub struct Args {
    #[command(subcommand)]
    verify: Option<Verify>,
    /// The first day (Kyiv), YYYY-MM-DD.
    #[arg(long, required = true)]
    from: Option<NaiveDate>,
    /// The last day (Kyiv), included.
    #[arg(long, required = true)]
    to: Option<NaiveDate>,
    /// The release's folder: new, or empty.
    #[arg(long, value_name = "DIR", required = true)]
    out: Option<PathBuf>,
    /// public: aggregates with small numbers withheld; research:
    /// pseudonymised trips (analysts, with --purpose).
    #[arg(long, value_enum, default_value_t = Level::Public)]
    level: Level,
}

#[derive(Debug, clap::Subcommand)]
enum Verify {
    /// Check a release: the manifest's signature under the city's public
    /// key, every file's SHA-256, no file added. Exit 0 good, 65 not.
    Verify {
        /// The release's folder.
        dir: PathBuf,
        /// The city's public key: its .pub file, or its 64 hex digits.
        #[arg(long)]
        key: String,
    },
}

/// None for `verify`: it reads only the release, anywhere, with no home.
pub fn action(args: &Args) -> Option<Action> {
    match args.verify {
        Some(_) => None,
        None => Some(Action::OpenData {
            research: args.level == Level::Research,
        }),
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    if let Some(Verify::Verify { dir, key }) = args.verify {
        let v = open_data::verify(&dir, &key)?;
        g.print_json(&v);
        g.say(format_args!(
            "{}: release {} verifies: {} files ({} bytes) as signed",
            v.dir.display(),
            v.release,
            v.files,
            v.bytes
        ));
        return Ok(());
    }
    let (Some(from), Some(to), Some(out)) = (args.from, args.to, args.out) else {
        unreachable!("clap requires them without a subcommand");
    };
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let mut reg = Registry::open(&home.registry())?;
    let s = open_data::publish(
        &home,
        &mut reg,
        &config,
        g.session(),
        &open_data::Options {
            from,
            to,
            out,
            level: args.level,
        },
    )?;
    g.print_json(&s);
    if s.new_key {
        g.say(format_args!(
            "a new publication key was made: {} — publish it where people can fetch it; they verify releases with it",
            s.public_key_file.display()
        ));
    }
    for x in &s.withheld {
        g.say(format_args!(
            "{} {:<22} {:>6} numbers, {:>4} withheld ({} small, {} to protect them): {:.2} % of {} trips",
            x.month,
            x.table,
            x.cells,
            x.withheld_small + x.withheld_complement,
            x.withheld_small,
            x.withheld_complement,
            x.withheld_pct,
            x.trips
        ));
    }
    g.say(format_args!(
        "{} release {} — {}: {} trips in {} month(s), {} files, signed; written to {}{}",
        match s.level {
            Level::Public => "public",
            Level::Research => "research",
        },
        s.from,
        s.to,
        s.trips,
        s.months.len(),
        s.files,
        s.out.display(),
        match &s.pseudonym_key {
            Some(k) => format!("; pseudonym key kept in {} (never publish it)", k.display()),
            None => String::new(),
        }
    ));
    Ok(())
}
