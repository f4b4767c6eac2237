//! `kartka report`: validations for any period (P19), per community (P18).

use std::path::PathBuf;

use chrono::NaiveDate;

use super::Global;
use crate::Error;
use crate::access::Action;
use crate::config::Config;
use crate::registry::Registry;
use crate::report::{self, By, Sort};

/// Validations between two Kyiv dates, grouped and sorted (P19); held taps
/// and the paid amount at the tariff; distinct cards (for a community: the
/// residents it carried, P18).
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka report --from 2026-10-01 --to 2026-10-31 --by validator\n  kartka report --from 2026-10-01 --to 2026-10-31 --by community --out communities-2026-10.xlsx\n  kartka report --from 2026-10-01 --to 2026-10-07 --by card --sort amount --limit 20 \\\n      --purpose \"checking the heaviest users, case 12/2026\" --out cards.xlsx\n\nWith --by card, holders' names and photos are shown to admin and analyst accounts that give --purpose\n(recorded in the audit trail); otherwise the report carries card numbers only.\nA carrier account sees only its own carriers' and routes' taps.\n\n{}", crate::exit::help("report")))]
pub struct Args {
    /// The first day (Kyiv), YYYY-MM-DD.
    #[arg(long)]
    from: NaiveDate,
    /// The last day (Kyiv), included.
    #[arg(long)]
    to: NaiveDate,
    #[arg(long, value_enum)]
    by: By,
    /// Most validations first (count) or the largest paid amount first.
    #[arg(long, value_enum, default_value_t = Sort::Count)]
    sort: Sort,
    /// Only the first N rows on the screen and in the file.
    #[arg(long)]
    limit: Option<usize>,
    /// Write the report: .xlsx (Ukrainian headers by default) or .csv.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn action(args: &Args, g: &Global) -> Action {
    Action::Report {
        names: args.by == By::Card && g.purpose.as_deref().is_some_and(|p| !p.trim().is_empty()),
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let mut reg = Registry::open(&home.registry())?;
    let names = args.by == By::Card && g.session().may_see_names();
    let r = report::deliver(
        &home,
        &mut reg,
        &config,
        g.session(),
        &report::Options {
            from: args.from,
            to: args.to,
            by: args.by,
            sort: args.sort,
            scope: g.scope(),
            names,
        },
        &report::Delivery {
            limit: args.limit,
            out: args.out.as_deref(),
            lang: g.lang,
        },
    )?;
    if !g.json && !g.quiet {
        println!(
            "{:<12} {:<36} {:>10} {:>8} {:>16} {:>8} {:>14}",
            format!("{:?}", r.by).to_lowercase(),
            "name",
            "validations",
            "held",
            "paid",
            "cards",
            "per card"
        );
        for row in &r.rows {
            println!(
                "{:<12} {:<36} {:>10} {:>8} {:>16} {:>8} {:>14}",
                row.key,
                row.name,
                row.validations,
                row.held,
                crate::money::uah(row.amount_kopecks),
                row.cards,
                crate::money::uah(row.per_card_kopecks)
            );
        }
    }
    g.say(format_args!(
        "{} — {} by {}: {} row(s), {} validations, {} held, {} paid{}{}",
        r.from,
        r.to,
        format!("{:?}", r.by).to_lowercase(),
        r.rows.len(),
        r.validations,
        r.held,
        crate::money::uah(r.amount_kopecks),
        if r.unflagged_months.is_empty() {
            String::new()
        } else {
            format!(
                "; not flagged yet (nothing held): {}",
                r.unflagged_months.join(", ")
            )
        },
        match &args.out {
            Some(p) => format!("; written to {}", p.display()),
            None => String::new(),
        }
    ));
    if r.unpriced > 0 {
        g.say(format_args!(
            "warning: {} trip(s) have no tariff in force: counted, priced at 0 (see [[tariffs]] in kartka.toml)",
            r.unpriced
        ));
    }
    g.print_json(&r);
    Ok(())
}
