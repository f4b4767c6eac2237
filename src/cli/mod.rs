//! The command line: clap definitions and one thin `run` per command. Each
//! `run` turns arguments into options, calls one domain function and prints.

mod access_check;
mod accounts;
mod audit;
mod backup;
mod budget;
mod cards;
mod compensation;
mod dock;
mod eligibility;
mod fleet;
mod generate;
mod import;
mod init;
mod open_data;
mod report;
mod status;
mod taps;
mod vocab;

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
    after_help = format!("Examples:\n  kartka init --home /srv/kartka\n  kartka import applicants office-2026-10.xlsx terniv.csv\n  kartka --json import applicants --strict /incoming/*.xlsx\n\n{}", crate::exit::help("kartka"))
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
    /// Why you look at personal data (K5): required by commands that show or
    /// export it, and recorded with your name in the audit trail.
    #[arg(long, global = true, value_name = "TEXT", env = "KARTKA_PURPOSE")]
    pub purpose: Option<String>,
    /// Who runs, with which account: resolved before the command runs.
    #[arg(skip)]
    pub session: Option<crate::access::Session>,
}

impl Global {
    pub fn home(&self) -> Home {
        Home::new(self.home.clone())
    }
    /// The OS user running the command (crate::access::identity).
    pub fn operator(&self) -> String {
        match &self.session {
            Some(s) => s.user.clone(),
            None => crate::access::identity::operator(&self.home),
        }
    }
    pub fn session(&self) -> &crate::access::Session {
        self.session
            .as_ref()
            .expect("cli::run resolves the session first")
    }
    /// What the account may see of the taps (everything for staff roles).
    pub fn scope(&self) -> crate::access::Scope {
        self.session().scope()
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

pub use crate::lang::Lang;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a home: registry.sqlite and a commented kartka.toml.
    Init(init::Args),
    /// Import data into the registry.
    #[command(subcommand)]
    Import(import::Import),
    /// Teach the intake a category, community or header an office writes, once.
    Vocab(vocab::Args),
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
    /// The year's benefit budget: actual, forecast and plan, per community and category (K3).
    Budget(budget::Args),
    /// Accounts: which OS users may run kartka, with which role and scope (P20).
    Accounts(accounts::Args),
    /// The personal-data audit trail: verify it, read it, or one resident's accesses (K5).
    Audit(audit::Args),
    /// Everything stored about one resident, for the resident (K5).
    Person(audit::PersonArgs),
    /// Validations for any period by validator, card, route, carrier, community or category (P19, P18).
    Report(report::Args),
    /// Open data (K6): public trips with small numbers withheld, or pseudonymised trips for research; signed.
    OpenData(open_data::Args),
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

/// What a command does, for the access check; None for commands that need
/// no account (`init`, or a command on a home that does not exist yet).
fn action_of(command: &Command, g: &Global) -> Option<crate::access::Action> {
    use crate::access::Action;
    Some(match command {
        Command::Init(_) if !g.home().config().is_file() => return None,
        Command::Init(_) => Action::Init,
        Command::Import(_) => Action::ImportApplicants,
        Command::Vocab(a) => vocab::action(a),
        Command::Eligibility(a) => eligibility::action(a),
        Command::Cards(a) => cards::action(a),
        Command::Dock(_) => Action::Dock,
        Command::Taps(a) => taps::action(a),
        Command::Fleet(a) => fleet::action(a),
        Command::Compensation(_) => Action::Compensation,
        Command::Reconcile(_) => Action::Reconcile,
        Command::Budget(_) => Action::Budget,
        Command::Status(_) => Action::Status,
        Command::Report(a) => report::action(a, g),
        Command::OpenData(a) => return open_data::action(a),
        Command::Generate(_) if !g.home().config().is_file() => return None,
        Command::Generate(_) => Action::Generate,
        Command::Accounts(a) => accounts::action(a),
        Command::Audit(a) => audit::action(a),
        Command::Person(_) => Action::PersonExport,
        Command::Backup(_) => Action::Backup,
        // A new home from a backup: nothing here to protect yet; the
        // backup's files are readable by their owner only.
        Command::Restore(_) => return None,
    })
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

fn run(mut cli: Cli) -> Result<(), Error> {
    let action = action_of(&cli.command, &cli.global);
    cli.global.session = Some(access_check::session(&cli.global, action)?);
    let g = &cli.global;
    match cli.command {
        Command::Accounts(args) => accounts::run(g, args),
        Command::Report(args) => report::run(g, args),
        Command::OpenData(args) => open_data::run(g, args),
        Command::Audit(args) => audit::run(g, args),
        Command::Person(args) => audit::person(g, args),
        Command::Init(args) => init::run(g, args),
        Command::Import(cmd) => import::run(g, cmd),
        Command::Vocab(args) => vocab::run(g, args),
        Command::Eligibility(args) => eligibility::run(g, args),
        Command::Cards(args) => cards::run(g, args),
        Command::Dock(args) => dock::run(g, args),
        Command::Taps(args) => taps::run(g, args),
        Command::Fleet(args) => fleet::run(g, args),
        Command::Compensation(args) => compensation::run(g, args),
        Command::Reconcile(args) => compensation::reconcile(g, args),
        Command::Budget(args) => budget::run(g, args),
        Command::Status(args) => status::run(g, args),
        Command::Generate(cmd) => generate::run(g, cmd),
        Command::Backup(args) => backup::run(g, args),
        Command::Restore(args) => backup::restore(g, args),
    }
}
