//! `kartka compensation`: the month's workbooks for carriers, communities
//! and the city.

use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::config::Config;
use crate::registry::Registry;

#[derive(Debug, clap::Args)]
#[command(
    after_help = format!("Examples:\n  kartka compensation --month 2026-10 --out compensation/2026-10\n  kartka --json --lang en compensation --month 2026-10 --out /srv/reports/2026-10\n\n{}", crate::exit::help("compensation"))
)]
pub struct Args {
    /// The Kyiv month, YYYY-MM.
    #[arg(long)]
    pub month: String,
    /// Folder for the workbooks (made if missing); files are named by the
    /// month and the carrier's or community's code.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let reg = Registry::open(&home.registry())?;
    let report = crate::compensation::run(
        &home,
        &reg,
        &config,
        &args.month,
        &args.out,
        g.lang,
        &g.scope(),
    )?;
    g.say(format_args!(
        "{}: {} accepted taps; {} trips to pay, {}; {} held ({})",
        report.month,
        report.accepted,
        report.total_trips,
        crate::money::uah(report.total_kopecks),
        report.held_trips,
        crate::money::uah(report.held_kopecks)
    ));
    for c in &report.carriers {
        g.say(format_args!(
            "  carrier {:<10} {:>9} trips {:>16}  {}",
            c.code,
            c.trips,
            crate::money::uah(c.amount_kopecks),
            c.file
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    for c in &report.communities {
        g.say(format_args!(
            "  community {:<20} {:>9} trips {:>16}, cards {} ({})  {}",
            c.code,
            c.trips,
            crate::money::uah(c.amount_kopecks),
            c.cards_made.unwrap_or(0),
            crate::money::uah(c.card_fees_kopecks.unwrap_or(0)),
            c.file
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    g.say(format_args!(
        "  city summary {}",
        report.city_file.display()
    ));
    g.print_json(&report);
    Ok(())
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = format!("Examples:\n  kartka reconcile --month 2026-10 --carrier 30000001 --carrier-report avtolinia-2026-10.xlsx --out reconcile-2026-10-avtolinia.xlsx\n\nThe report: one row per route and day with the columns Маршрут (route), Дата (day), Поїздки (trips claimed), Сума, грн (amount claimed); see commands/compensation.md.\n\n{}", crate::exit::help("reconcile"))
)]
pub struct ReconcileArgs {
    /// The Kyiv month, YYYY-MM.
    #[arg(long)]
    pub month: String,
    /// The carrier: its ЄДРПОУ or its id.
    #[arg(long)]
    pub carrier: String,
    /// The carrier's monthly report (.xlsx, .ods, .xls or .csv).
    #[arg(long)]
    pub carrier_report: PathBuf,
    /// The discrepancy workbook to write (.xlsx).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn reconcile(g: &Global, args: ReconcileArgs) -> Result<(), Error> {
    use crate::compensation::{self as comp, reconcile as rec};
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let mut reg = Registry::open(&home.registry())?;
    // The carrier is checked against the account's scope before its month
    // is counted: nothing of another carrier is computed for it.
    let code = args.carrier.trim();
    let carrier = match crate::access::accounts::carrier_id(&reg, code) {
        Err(crate::access::Error::Bad(_)) => {
            return Err(comp::Error::UnknownCarrier { code: code.into() }.into());
        }
        other => other?,
    };
    g.session()
        .authorise(&mut reg, crate::access::Need::Carrier { id: carrier, code })?;
    let carrier =
        i32::try_from(carrier).map_err(|_| comp::Error::UnknownCarrier { code: code.into() })?;
    let month = comp::compute(&home, &reg, &config, &args.month)?;
    let claims = rec::read_report(&args.carrier_report, &month)?;
    let books = comp::workbook::Books {
        month: &month,
        config: &config,
        lang: g.lang,
    };
    let mut outcome = rec::compare(&month, Some(carrier), &claims, &config.reconcile);
    outcome.carrier = books.carrier_code(Some(carrier));
    let name = month
        .carriers
        .get(&carrier)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let written = rec::write(&books, &outcome, &name, &args.carrier_report, &args.out)?;
    outcome.out = Some(written.path.clone());
    g.say(format_args!(
        "{} {}: claimed {} trips ({}), counted {} ({}), held {}; {} route-day(s) differ: {}",
        outcome.month,
        name,
        outcome.claimed_trips,
        crate::money::uah(outcome.claimed_kopecks),
        outcome.counted_trips,
        crate::money::uah(outcome.counted_kopecks),
        outcome.held_trips,
        outcome.differing,
        if outcome.matches {
            "matches"
        } else {
            "DOES NOT MATCH"
        }
    ));
    g.say(format_args!("written to {}", written.path.display()));
    #[derive(serde::Serialize)]
    struct Summary<'a> {
        #[serde(flatten)]
        o: &'a rec::Outcome,
    }
    if g.json {
        let mut o = outcome.clone();
        o.lines
            .retain(|l| l.trips_diff() != 0 || l.kopecks_diff() != 0);
        g.print_json(&Summary { o: &o });
    }
    if outcome.matches {
        Ok(())
    } else {
        Err(Error::Reported(crate::error::ExitCode::Differs))
    }
}
