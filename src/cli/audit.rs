//! `kartka audit` (verify, log, person) and `kartka person export` (K5).

use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::access::Action;
use crate::audit;
use crate::registry::Registry;

/// The personal-data audit trail (K5, P22).
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka audit verify\n  kartka audit verify --anchor 1234:5f2c…   # the head printed by an earlier verify\n  kartka audit log --since 2026-11-01 --user olena\n  kartka audit person 10000001 --purpose \"the resident's request of 26.11\"\n\n{}", crate::exit::help("audit")))]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Recompute every entry's hash and link; print the head to keep as an anchor.
    Verify {
        /// `ID:HASH` of an entry printed earlier: it must still be there, unchanged.
        #[arg(long, value_name = "ID:HASH")]
        anchor: Option<String>,
    },
    /// The entries, oldest first.
    Log {
        /// From this UTC date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
        /// Only this operator.
        #[arg(long)]
        user: Option<String>,
    },
    /// Who looked at one resident's data, when and why (social number, tax number or passport).
    Person { person: String },
}

/// `kartka person export`: everything stored about one resident (K5).
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka person export 10000001 --out 10000001.xlsx --purpose \"the resident's request of 26.11\"\n  kartka person export 3012456789 --out p.json --purpose \"request 17/2026\"\n\n{}", crate::exit::help("person")))]
pub struct PersonArgs {
    #[command(subcommand)]
    command: PersonCmd,
}

#[derive(Debug, clap::Subcommand)]
enum PersonCmd {
    /// Write the record, its history, decisions, cards, card events, taps,
    /// flags and the audit entries about them: .xlsx (Ukrainian sheets) or .json.
    Export {
        /// Social number, tax number or passport.
        person: String,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn action(args: &Args) -> Action {
    match args.command {
        Cmd::Person { .. } => Action::AuditPerson,
        _ => Action::AuditRead,
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let mut reg = Registry::open(&home.registry())?;
    match args.command {
        Cmd::Verify { anchor } => {
            let anchor = match anchor.as_deref() {
                None => None,
                Some(a) => Some(parse_anchor(a)?),
            };
            let v = audit::verify(&reg, anchor.as_ref().map(|(i, h)| (*i, h.as_str())))?;
            g.print_json(&v);
            if v.broken.is_empty() {
                g.say(format_args!(
                    "The audit trail holds: {} entries, head {}.",
                    v.entries,
                    v.head.as_deref().unwrap_or("(empty)")
                ));
                return Ok(());
            }
            for b in &v.broken {
                eprintln!("entry {}: {}", b.id, b.what);
            }
            eprintln!(
                "error: the audit trail was tampered with: {} problem(s) in {}.\n  Restore the registry from a backup and compare; report it to the data-protection officer.",
                v.broken.len(),
                reg.path().display()
            );
            return Err(Error::Reported(crate::ExitCode::DataErr));
        }
        Cmd::Log { since, user } => {
            let since = since.map(|d| d.format("%Y-%m-%d").to_string());
            let list = audit::log(&reg, since.as_deref(), user.as_deref())?;
            print_entries(g, &list);
            g.print_json(&list);
        }
        Cmd::Person { person } => {
            let found = crate::person::accesses(&mut reg, g.session(), &person)?;
            let (sn, list) = (&found.social_number, &found.entries);
            if !g.json && !g.quiet {
                println!(
                    "{sn}: {} {}",
                    if g.lang == super::Lang::Uk {
                        "звернень до персональних даних:"
                    } else {
                        "accesses to personal data:"
                    },
                    list.len()
                );
            }
            print_entries(g, list);
            g.print_json(&found);
        }
    }
    Ok(())
}

fn parse_anchor(a: &str) -> Result<(i64, String), Error> {
    a.split_once(':')
        .and_then(|(i, h)| {
            let ok = h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
            Some((i.trim().parse().ok()?, h.to_ascii_lowercase())).filter(|_| ok)
        })
        .ok_or_else(|| {
            crate::access::Error::Bad(format!(
                "--anchor {a}: expected ID:HASH as printed by `kartka audit verify` (e.g. 12:5f2c…, 64 hex digits)"
            ))
            .into()
        })
}

fn print_entries(g: &Global, list: &[audit::Entry]) {
    if g.json || g.quiet {
        return;
    }
    for e in list {
        println!(
            "{:>6}  {}  {} ({})  {}  {}{}{}",
            e.id,
            crate::time::stored_as_kyiv(&e.at),
            e.user,
            e.role,
            e.outcome,
            e.command,
            if e.purpose.is_empty() {
                String::new()
            } else {
                format!("  — {}", e.purpose)
            },
            if e.detail.is_empty() {
                String::new()
            } else {
                format!("  [{}]", e.detail)
            },
        );
    }
}

pub fn person(g: &Global, args: PersonArgs) -> Result<(), Error> {
    let PersonCmd::Export { person, out } = args.command;
    let home = g.home();
    home.require_initialised()?;
    let config = crate::config::Config::load(&home.config())?;
    let mut reg = Registry::open(&home.registry())?;
    let written = crate::person::export(
        &home,
        &mut reg,
        g.session(),
        &config.tariffs,
        &person,
        &out,
        g.lang,
    )?;
    g.say(format_args!(
        "{}: {} section(s), {} row(s) → {}",
        written.social_number,
        written.sections,
        written.rows,
        out.display()
    ));
    g.print_json(&written);
    Ok(())
}
