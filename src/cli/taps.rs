//! `kartka taps`: the tap store.

use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::config::Config;
use crate::registry::Registry;

const EXIT_CODES: &str = "Exit codes: 0 ok (rejected CSV rows are in the rejects file); 65 a file is not a dump or vendor export, a dump is damaged or edited, or its validator is not registered (nothing imported); 66 a file is missing; 75 another run holds the home lock.";

/// The tap store: import dumps and vendor exports, compact months.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka taps import laptop/*.kdump\n  kartka taps import old-system-2026-09.csv\n  kartka taps compact --month 2026-10\n\n{EXIT_CODES}"))]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Import raw dump files (.kdump) and vendor CSV exports; idempotent by (validator, seq).
    Import {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where a CSV's rejected rows go [default: beside it, NAME.rejects.csv].
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Merge a month's small files into one, without changing a row.
    Compact {
        /// YYYY-MM (Kyiv); every month with more than one file when omitted.
        #[arg(long)]
        month: Option<String>,
    },
    /// The store's months: files and taps.
    Months,
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    match args.command {
        Cmd::Import { files, rejects } => {
            let master = crate::cards::keyfile::read(&home.root().join(&config.dock.key_file))?;
            let _lock = home.lock("taps import", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            let s = crate::taps::import::import(
                &home,
                &mut reg,
                &master,
                &files,
                rejects.as_deref(),
                &g.operator(),
            )?;
            for f in &s.files {
                g.say(format_args!(
                    "{}: {} taps stored, {} already in the store{}",
                    f.file,
                    f.taps_new,
                    f.taps_duplicate,
                    match &f.rejects_file {
                        Some(r) => format!(", {} rows rejected (reasons in {r})", f.rejected),
                        None => String::new(),
                    }
                ));
            }
            g.print_json(&s);
        }
        Cmd::Compact { month } => {
            let _lock = home.lock("taps compact", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            crate::taps::parquet::sweep(&home, &reg)?;
            let months = match month {
                Some(m) => vec![m],
                None => months(&reg)?
                    .into_iter()
                    .filter(|m| m.1 > 1)
                    .map(|m| m.0)
                    .collect(),
            };
            let mut out = Vec::new();
            for m in months {
                let c = crate::taps::parquet::compact(&home, &mut reg, &m)?;
                g.say(format_args!(
                    "{}: {} files → {}, {} taps",
                    c.month, c.files_before, c.files_after, c.rows
                ));
                out.push(c);
            }
            g.print_json(&out);
        }
        Cmd::Months => {
            let reg = Registry::open(&home.registry())?;
            let m = months(&reg)?;
            if g.json {
                let v: Vec<_> = m
                    .iter()
                    .map(|(m, f, t)| serde_json::json!({"month": m, "files": f, "taps": t}))
                    .collect();
                g.print_json(&v);
            } else {
                for (m, f, t) in m {
                    g.say(format_args!("{m}: {t} taps in {f} files"));
                }
            }
        }
    }
    Ok(())
}

fn months(reg: &Registry) -> Result<Vec<(String, i64, i64)>, Error> {
    let mut stmt = reg
        .conn()
        .prepare("SELECT month, count(*), sum(rows) FROM tap_files WHERE replaced_at IS NULL GROUP BY month ORDER BY month")
        .map_err(|e| reg.err(e))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(|e| reg.err(e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| reg.err(e))?;
    Ok(rows)
}
