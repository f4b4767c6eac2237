//! `kartka budget`: the year's benefit budget, actual, forecast and plan
//! (K3).

use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::budget::{self, FareChange, Growth};
use crate::config::Config;
use crate::registry::Registry;

/// The free-travel budget of a year: actuals by month (counted as
/// compensation counts them), the forecast of the months left and of the
/// next year with 80 % and 95 % intervals, against the approved
/// `[[budget]]` amounts, per community and category.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka budget --year 2026\n  kartka budget --year 2026 --as-of 2026-10 --out budget-2026.xlsx\n  kartka budget --year 2026 --fare all=2000@2026-11-01 --growth pensioner-age=5 --json\n\n{}", crate::exit::help("budget")))]
pub struct Args {
    #[arg(long)]
    year: i32,
    /// The last month counted as actual, YYYY-MM [default: the month before this one, within the year].
    #[arg(long, value_name = "YYYY-MM")]
    as_of: Option<String>,
    /// A fare scenario, ROUTE=KOPECKS@DATE or all=KOPECKS@DATE (repeatable); kartka.toml is not touched.
    #[arg(long, value_name = "ROUTE=KOPECKS@DATE")]
    fare: Vec<FareChange>,
    /// A growth scenario for a category's trips, CATEGORY=PERCENT a year (repeatable).
    #[arg(long, value_name = "CATEGORY=PERCENT")]
    growth: Vec<Growth>,
    /// Write the workbook (.xlsx, Ukrainian by default; --lang en).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let as_of = match &args.as_of {
        Some(m) => crate::time::parse_month(m)
            .ok_or_else(|| budget::Error::Usage(format!("--as-of {m:?} is not YYYY-MM")))?,
        None => {
            let this =
                crate::time::parse_month(&crate::time::today_kyiv().format("%Y-%m").to_string())
                    .expect("a month");
            let before = crate::time::previous_month(this);
            let dec = chrono::NaiveDate::from_ymd_opt(args.year, 12, 1).ok_or_else(|| {
                budget::Error::Usage(format!("--year {} is not a year", args.year))
            })?;
            before.min(dec)
        }
    };
    if let Some(p) = &args.out
        && !p
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
    {
        return Err(
            budget::Error::Usage(format!("{}: --out must end in .xlsx", p.display())).into(),
        );
    }
    let reg = Registry::open(&home.registry())?;
    let mut b = budget::run(
        &home,
        &reg,
        &config,
        &budget::Ask {
            year: args.year,
            as_of,
            fares: args.fare,
            growth: args.growth,
        },
    )?;
    if let Some(p) = &args.out {
        budget::workbook::write(p, &b, g.lang)?;
        b.out = Some(p.clone());
    }
    let uah = crate::money::uah;
    g.say(format_args!(
        "{}: actual to {} {}; projected {} (80 %: {} to {}); next year {}; {} months of history; model: {}",
        b.year,
        b.as_of,
        uah(b.actual_kopecks),
        uah(b.projected.point),
        uah(b.projected.lo80),
        uah(b.projected.hi80),
        uah(b.next_year.point),
        b.history_months,
        b.model.title(true)
    ));
    for c in &b.communities {
        g.say(format_args!(
            "  {} {:<28} plan {:>20}  projected {:>20}  {}",
            c.code,
            c.name,
            c.plan_kopecks.map_or("—".into(), uah),
            uah(c.projected.point),
            match (&c.runs_out, c.plan_left_kopecks) {
                (Some(m), _) => format!("runs out in {m}"),
                (None, Some(left)) => format!("{} left", uah(left)),
                (None, None) => "no [[budget]] entry".into(),
            }
        ));
    }
    if !b.months_not_flagged.is_empty() {
        g.say(format_args!(
            "not flagged yet (forecast instead): {}; run `kartka taps flag --month M`",
            b.months_not_flagged.join(", ")
        ));
    }
    if let Some(p) = &b.out {
        g.say(format_args!("written to {}", p.display()));
    }
    g.print_json(&b);
    Ok(())
}
