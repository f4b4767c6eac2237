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
        let mut shown = Vec::new();
        let e = eligibility::explain(&home, &config, &person, as_of, &mut |social_number| {
            shown.push(social_number.to_string())
        })?;
        let mut reg = crate::registry::Registry::open(&home.registry())?;
        g.audit(
            &mut reg,
            crate::audit::Outcome::Shown,
            &shown,
            "eligibility trace",
        )?;
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
    let (summary, decided) = eligibility::decide_all(
        &home,
        &config,
        as_of,
        args.all,
        &g.operator(),
        args.out.is_some(),
    )?;
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
    // A right that ended stops the card now (P9), effective from the
    // decision's date; a recorded death stops it with `death`.
    let mut reg = crate::registry::Registry::open(&home.registry())?;
    let stopped = crate::cards::enforce_now(&mut reg, crate::time::today_kyiv(), &g.operator())?;
    for (what, list) in [
        ("death", &stopped.death),
        ("benefit-ended", &stopped.benefit_ended),
    ] {
        if !list.is_empty() {
            g.say(format_args!("Cards blocked ({what}): {}", list.join(", ")));
        }
    }
    if let Some(out) = &args.out {
        let people: Vec<String> = decided.iter().map(|d| d.0.clone()).collect();
        g.audit(
            &mut reg,
            crate::audit::Outcome::Exported,
            &people,
            &format!("decisions workbook → {}", out.display()),
        )?;
        eligibility::write_workbook(out, &config, &decided, lang).map_err(|e| {
            eligibility::Error::Workbook {
                path: out.clone(),
                detail: e.to_string(),
            }
        })?;
        g.say(format_args!("Workbook: {}", out.display()));
    }
    g.print_json(&summary);
    Ok(())
}
