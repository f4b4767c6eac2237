use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum Generate {
    /// Write synthetic applicants to an .xlsx or .csv file.
    #[command(
        after_help = "Examples:\n  kartka generate applicants --count 200000 --out big.xlsx\n  kartka generate applicants --count 1000 --bad-share 0.05 --out sample.csv"
    )]
    Applicants(ApplicantsArgs),
    /// A synthetic city month of taps with planted anomalies (ground-truth.csv).
    #[command(
        after_help = "Examples:\n  kartka generate month --month 2026-10 --taps 5000000 --out month/\n  kartka generate month --month 2026-10 --taps 20000 --holders 2000 --format csv --out small/\n  kartka generate month --month 2026-10 --format store   # fleet and taps straight into the home"
    )]
    Month(MonthArgs),
    /// Consecutive synthetic months stored into the home, with a known season, growth and noise (history.csv), for the budget's forecast.
    #[command(
        after_help = "Examples:\n  kartka generate history --from 2025-01 --months 24 --taps 5000000\n  kartka generate history --from 2025-01 --months 24 --taps 20000 --holders 3000 --validators 12 --vehicles 8 --routes 4 --carriers 2 --growth 6 --noise 2\n\nFlag each month before the budget counts it: kartka taps flag --month M."
    )]
    History(HistoryArgs),
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// The first month, YYYY-MM (Kyiv).
    #[arg(long)]
    from: String,
    #[arg(long, default_value_t = 24)]
    months: u32,
    /// Taps of a mean month at the start.
    #[arg(long, default_value_t = 5_000_000)]
    taps: usize,
    /// Holders at the start.
    #[arg(long, default_value_t = 180_000)]
    holders: u32,
    /// Yearly growth of holders and trips, percent.
    #[arg(long, default_value_t = 6.0)]
    growth: f64,
    /// Month-to-month noise, percent (one standard deviation).
    #[arg(long, default_value_t = 2.0)]
    noise: f64,
    #[command(flatten)]
    fleet: FleetArgs,
    /// Share of taps planted as anomalies, 0.0–0.2.
    #[arg(long, default_value_t = 0.0)]
    anomalies: f64,
    /// Output folder (each month's fleet.csv, cards.csv, ground-truth.csv; history.csv) [default: HOME/exports/generated/history].
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MonthFormat {
    /// One signed .kdump per validator under OUT/dumps/.
    Dumps,
    /// The vendor CSV export, OUT/taps.csv.
    Csv,
    /// Dumps and the CSV.
    Both,
    /// Import the fleet and store the taps in the home (no tap files written).
    Store,
}

#[derive(Debug, clap::Args)]
pub struct MonthArgs {
    /// The month, YYYY-MM (Kyiv).
    #[arg(long)]
    month: String,
    #[arg(long, default_value_t = 5_000_000)]
    taps: usize,
    #[arg(long, default_value_t = 180_000)]
    holders: u32,
    #[command(flatten)]
    fleet: FleetArgs,
    /// Share of taps planted as anomalies, 0.0–0.2.
    #[arg(long, default_value_t = 0.01)]
    anomalies: f64,
    #[arg(long, value_enum, default_value_t = MonthFormat::Dumps)]
    format: MonthFormat,
    /// Output folder (fleet.csv, cards.csv, ground-truth.csv, the taps) [default: HOME/exports/generated/MONTH].
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The synthetic city's fleet and randomness, shared by `month` and
/// `history`.
#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    #[arg(long, default_value_t = 400)]
    validators: u16,
    #[arg(long, default_value_t = 250)]
    vehicles: u16,
    #[arg(long, default_value_t = 30)]
    routes: u16,
    #[arg(long, default_value_t = 12)]
    carriers: u16,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl FleetArgs {
    /// A month's options on this fleet (a validator per vehicle at least,
    /// a route per vehicle and a carrier per route at most).
    #[allow(clippy::too_many_arguments)]
    fn month(
        &self,
        month: chrono::NaiveDate,
        taps: usize,
        holders: u32,
        anomaly_share: f64,
        out: PathBuf,
        dock_master: kartka_protocol::auth::DockKey,
        city: crate::generate::month::City,
    ) -> crate::generate::month::MonthOptions {
        crate::generate::month::MonthOptions {
            month,
            taps,
            holders,
            validators: self.validators.max(self.vehicles),
            vehicles: self.vehicles,
            routes: self.routes.clamp(1, self.vehicles.max(1)),
            carriers: self.carriers.clamp(1, self.routes.max(1)),
            anomaly_share,
            seed: self.seed,
            out,
            dumps: false,
            csv: false,
            keep: false,
            dock_master,
            city,
            numbered: Default::default(),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ApplicantsArgs {
    /// How many rows.
    #[arg(long, default_value_t = 1000)]
    count: usize,
    /// Output file: .xlsx or .csv (UTF-8 with BOM, `;`).
    #[arg(long)]
    out: PathBuf,
    /// Share of rows made bad on purpose, 0.0–1.0.
    #[arg(long, default_value_t = 0.0)]
    bad_share: f64,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The date taken as today (YYYY-MM-DD), for ages and application dates.
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
    /// Also write a synthetic portrait per applicant into this folder (for
    /// print-job tests and benchmarks).
    #[arg(long)]
    photos: Option<PathBuf>,
}

pub fn run(g: &Global, cmd: Generate) -> Result<(), Error> {
    match cmd {
        Generate::Month(a) => month(g, a),
        Generate::History(a) => history(g, a),
        Generate::Applicants(a) => {
            // The generator needs the categories and communities: the home's
            // if there is one, else the shipped defaults.
            let home = g.home();
            let config = if home.config().exists() {
                Config::load(&home.config())?
            } else {
                Config::default_config()
            };
            let s = crate::generate::applicants(
                &config,
                &crate::generate::GenerateOptions {
                    count: a.count,
                    out: a.out,
                    bad_share: a.bad_share,
                    seed: a.seed,
                    today: a.today.unwrap_or_else(crate::time::today_kyiv),
                    photos: a.photos,
                },
            )?;
            g.say(format_args!(
                "Wrote {} applicants ({} bad on purpose) to {}",
                s.rows,
                s.bad_rows,
                s.out.display()
            ));
            g.print_json(&s);
            Ok(())
        }
    }
}

fn month(g: &Global, a: MonthArgs) -> Result<(), Error> {
    let home = g.home();
    let first = chrono::NaiveDate::parse_from_str(&format!("{}-01", a.month), "%Y-%m-%d").map_err(
        |_| crate::generate::Error::Write {
            path: PathBuf::from(&a.month),
            detail: "--month must be YYYY-MM".into(),
        },
    )?;
    let config = home
        .config()
        .exists()
        .then(|| Config::load(&home.config()))
        .transpose()?;
    let dock_master = match &config {
        Some(c) => crate::cards::keyfile::read(&home.root().join(&c.dock.key_file))?,
        None => {
            g.say("No home here: the dumps are signed with the demo dock master key.");
            kartka_protocol::auth::DEMO_DOCK_MASTER
        }
    };
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| home.exports().join("generated").join(&a.month));
    let store = a.format == MonthFormat::Store;
    if store && config.is_none() {
        home.require_initialised()?;
    }
    let opts = crate::generate::month::MonthOptions {
        dumps: matches!(a.format, MonthFormat::Dumps | MonthFormat::Both),
        csv: matches!(a.format, MonthFormat::Csv | MonthFormat::Both),
        keep: store,
        numbered: if store {
            crate::generate::registry::numbered(&home)?
        } else {
            Default::default()
        },
        ..a.fleet.month(
            first,
            a.taps,
            a.holders,
            a.anomalies,
            out,
            dock_master,
            crate::generate::month::City::of(
                &config.clone().unwrap_or_else(Config::default_config),
            ),
        )
    };
    let mut s = crate::generate::month::generate(&opts)?;
    g.say(format_args!(
        "{} taps ({} planted anomalies, listed in {}) on {} validators in {} vehicles, {} holders; written to {}",
        s.taps,
        s.planted,
        s.out.join("ground-truth.csv").display(),
        s.validators,
        s.vehicles,
        s.holders,
        s.out.display()
    ));
    if store {
        let _lock = home.lock("generate month", crate::home::lock_wait())?;
        let stored =
            crate::generate::registry::store_month(&home, &mut s, a.fleet.seed, &g.operator())?;
        g.say(format_args!("Registered {} card holders", stored.holders));
        g.say(format_args!(
            "Stored {} taps ({} already there) in {}",
            stored.taps_new,
            stored.taps_duplicate,
            home.taps().display()
        ));
    }
    g.print_json(&s);
    Ok(())
}

fn history(g: &Global, a: HistoryArgs) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let from = crate::time::parse_month(&a.from).ok_or_else(|| crate::generate::Error::Write {
        path: PathBuf::from(&a.from),
        detail: "--from must be YYYY-MM".into(),
    })?;
    if a.months == 0 || a.months > 120 {
        return Err(crate::generate::Error::Write {
            path: PathBuf::from(a.months.to_string()),
            detail: "--months must be 1 to 120".into(),
        }
        .into());
    }
    let config = Config::load(&home.config())?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| home.exports().join("generated").join("history"));
    let opts = crate::generate::history::HistoryOptions {
        from,
        months: a.months,
        taps: a.taps,
        holders: a.holders,
        growth_pct: a.growth,
        noise_pct: a.noise,
        month: crate::generate::month::MonthOptions {
            keep: true,
            ..a.fleet.month(
                from,
                a.taps,
                a.holders,
                a.anomalies,
                out,
                crate::cards::keyfile::read(&home.root().join(&config.dock.key_file))?,
                crate::generate::month::City::of(&config),
            )
        },
    };
    let _lock = home.lock("generate history", crate::home::lock_wait())?;
    let h = crate::generate::history::store(&home, &opts, &g.operator())?;
    for m in &h.months {
        g.say(format_args!(
            "{}: {} taps (season × growth × noise {:.3}), {} holders",
            m.month, m.taps, m.factor, m.holders
        ));
    }
    g.say(format_args!(
        "{} months stored; the factors are in {}. Flag each month (`kartka taps flag --month M`) before the budget counts it.",
        h.months.len(),
        h.out.join("history.csv").display()
    ));
    g.print_json(&h);
    Ok(())
}
