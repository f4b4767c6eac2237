//! The command line: clap definitions and one thin `run` per command. Each
//! `run` turns arguments into options, calls one domain function and prints.

mod backup;
mod cards;
mod compensation;
mod dock;
mod eligibility;
mod fleet;
mod generate;
mod import;
mod init;
mod status;
mod taps;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::Error;
use crate::home::Home;

#[derive(Debug, Parser)]
#[command(
    name = "kartka",
    version,
    about = "A city's benefit-card scheme: applicants, eligibility, cards, validator taps and carrier compensation",
    after_help = "Examples:\n  kartka init --home /srv/kartka\n  kartka import applicants office-2026-10.xlsx terniv.csv\n  kartka --json import applicants --strict /incoming/*.xlsx\n\nExit codes: 0 ok, 2 usage, 65 bad input data, 66 no input, 73 can't create output,\n74 I/O error, 75 another run holds the lock, 77 not permitted, 78 bad config."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// The home folder holding the registry, the tap store and kartka.toml.
    #[arg(
        long,
        global = true,
        env = "KARTKA_HOME",
        default_value = "./kartka-home"
    )]
    pub home: PathBuf,
    /// Print one JSON summary object on stdout (human text still goes to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Language of workbooks and reasons for people: uk (default) or en.
    #[arg(long, global = true, value_enum, default_value_t = Lang::Uk)]
    pub lang: Lang,
    /// Who is running the command, for the records (default: the OS user).
    #[arg(long, global = true, env = "KARTKA_OPERATOR")]
    pub operator: Option<String>,
}

impl Global {
    pub fn home(&self) -> Home {
        Home::new(self.home.clone())
    }
    pub fn operator(&self) -> String {
        self.operator
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_else(|| "unknown".into())
    }
    /// Human text on stderr, unless --quiet.
    pub fn say(&self, text: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
    /// Progress bars only for a person at a terminal.
    pub fn attended(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }
    /// A progress bar drawn on stderr for a person at a terminal, hidden
    /// for cron; `template` is indicatif's.
    pub fn progress_bar(&self, template: &str) -> indicatif::ProgressBar {
        use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if self.attended() {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
        bar
    }
    pub fn print_json(&self, value: &impl serde::Serialize) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string(value).expect("summaries serialise")
            );
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Uk,
    En,
}

impl From<Lang> for crate::eligibility::Lang {
    fn from(l: Lang) -> Self {
        match l {
            Lang::Uk => crate::eligibility::Lang::Uk,
            Lang::En => crate::eligibility::Lang::En,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a home: registry.sqlite and a commented kartka.toml.
    Init(init::Args),
    /// Import data into the registry.
    #[command(subcommand)]
    Import(import::Import),
    /// Decide who may ride free (P1–P4), or explain one person's decision.
    Eligibility(eligibility::Args),
    /// Cards: issue, print jobs, block, reissue, the blocklist (P6–P10).
    Cards(cards::Args),
    /// Dock validators over serial: taps up; blocklist, settings, clock down.
    Dock(dock::Args),
    /// The tap store: import dumps and vendor exports, compact months.
    Taps(taps::Args),
    /// The fleet: carriers, vehicles, validators.
    Fleet(fleet::Args),
    /// The month's compensation workbooks: per carrier, per community, the city (P17, P18).
    Compensation(compensation::Args),
    /// Check a carrier's monthly report against the counted trips (P17): exit 0 match, 1 differ.
    Reconcile(compensation::ReconcileArgs),
    /// Show what the home holds, in counts.
    Status(status::Args),
    /// Make synthetic data for tests, demos and benchmarks.
    #[command(subcommand)]
    Generate(generate::Generate),
    /// Back the home up into DEST while other runs go on (P21); `backup verify DEST` checks one.
    Backup(backup::Args),
    /// Rebuild a home (--home DIR, new or empty) from a verified backup.
    Restore(backup::RestoreArgs),
}

pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if !matches!(e, Error::Reported(_)) {
                eprintln!("error: {e}");
            }
            std::process::ExitCode::from(e.exit_code().code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let g = &cli.global;
    match cli.command {
        Command::Init(args) => init::run(g, args),
        Command::Import(cmd) => import::run(g, cmd),
        Command::Eligibility(args) => eligibility::run(g, args),
        Command::Cards(args) => cards::run(g, args),
        Command::Dock(args) => dock::run(g, args),
        Command::Taps(args) => taps::run(g, args),
        Command::Fleet(args) => fleet::run(g, args),
        Command::Compensation(args) => compensation::run(g, args),
        Command::Reconcile(args) => compensation::reconcile(g, args),
        Command::Status(args) => status::run(g, args),
        Command::Generate(cmd) => generate::run(g, cmd),
        Command::Backup(args) => backup::run(g, args),
        Command::Restore(args) => backup::restore(g, args),
    }
}
