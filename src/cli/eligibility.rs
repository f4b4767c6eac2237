use std::path::PathBuf;

use chrono::NaiveDate;

use super::Global;
use crate::Error;
use crate::config::Config;
use crate::eligibility::{self, Lang};

#[derive(Debug, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = format!("Examples:\n  kartka eligibility\n  kartka eligibility --all --as-of 2027-01-01 --out decisions.xlsx   # after the January limit change\n  kartka eligibility explain 10000001\n\n{}", crate::exit::help("eligibility"))
)]
pub struct Args {
    #[command(subcommand)]
    explain: Option<Explain>,
    /// The decision date: the income limit in force on it applies (default: today in Kyiv).
    #[arg(long)]
    as_of: Option<NaiveDate>,
    /// Re-decide everyone, not only applications without a current decision.
    #[arg(long)]
    all: bool,
    /// Write the decisions workbook (.xlsx) for the head of office.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
enum Explain {
    /// Print one person's rule trace: each rule, the value seen, the parameter, pass or fail.
    Explain {
        /// Social number, tax number or passport.
        person: String,
        /// The date to decide as of (default: today in Kyiv).
        #[arg(long)]
        as_of: Option<NaiveDate>,
    },
}

pub fn action(args: &Args) -> crate::access::Action {
    use crate::access::Action;
    match args.explain {
        Some(_) => Action::Explain,
        None => Action::Decide {
            workbook: args.out.is_some(),
        },
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let lang: Lang = g.lang;
    if let Some(Explain::Explain { person, as_of }) = args.explain {
        let as_of = as_of.unwrap_or_else(crate::time::today_kyiv);
        let e = eligibility::explain(&home, &config, g.session(), &person, as_of)?;
        let d = &e.decision;
        println!("{} {} — as of {}", e.social_number, e.name, d.as_of);
        for c in &d.trace {
            println!(
                "  {} {:<15} seen: {}; rule: {}",
                if c.pass { "pass" } else { "FAIL" },
                c.rule,
                c.seen,
                c.parameter
            );
        }
        println!(
            "Outcome: {} ({})",
            d.outcome.code(),
            d.category.as_deref().unwrap_or("no category")
        );
        for r in &d.reasons {
            println!(
                "  {}: {}",
                r.code,
                if lang == Lang::Uk { &r.uk } else { &r.en }
            );
        }
        if !e.history.is_empty() {
            println!("Recorded decisions:");
            for (at, as_of, outcome, reasons) in &e.history {
                println!("  {at} (as of {as_of}): {outcome}: {reasons}");
            }
        }
        g.print_json(&serde_json::json!({"social_number": e.social_number, "decision": d}));
        return Ok(());
    }
    let _lock = home.lock("eligibility", crate::home::lock_wait())?;
    let as_of = args.as_of.unwrap_or_else(crate::time::today_kyiv);
    let ran = eligibility::run(
        &home,
        &config,
        g.session(),
        &eligibility::Run {
            as_of,
            all: args.all,
            workbook: args.out.as_deref(),
            lang,
        },
        &g.operator(),
    )?;
    let summary = &ran.summary;
    g.say(format_args!(
        "Decided {} as of {as_of}: eligible {}, ineligible {}, incomplete {}; unchanged {}.",
        summary.decided,
        summary.eligible,
        summary.ineligible,
        summary.incomplete,
        summary.unchanged
    ));
    for l in &summary.lost_right {
        g.say(format_args!(
            "LOST RIGHT: {} is now {}: {} — a card they hold must be blocked (benefit-ended).",
            l.social_number,
            l.outcome.code(),
            l.reasons_en
        ));
    }
    for (what, list) in [
        ("death", &ran.stopped.death),
        ("benefit-ended", &ran.stopped.benefit_ended),
    ] {
        if !list.is_empty() {
            g.say(format_args!("Cards blocked ({what}): {}", list.join(", ")));
        }
    }
    if let Some(out) = &args.out {
        g.say(format_args!("Workbook: {}", out.display()));
    }
    g.print_json(summary);
    Ok(())
}
