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
    #[arg(long, default_value_t = 400)]
    validators: u16,
    #[arg(long, default_value_t = 250)]
    vehicles: u16,
    #[arg(long, default_value_t = 30)]
    routes: u16,
    #[arg(long, default_value_t = 12)]
    carriers: u16,
    /// Share of taps planted as anomalies, 0.0–0.2.
    #[arg(long, default_value_t = 0.01)]
    anomalies: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = MonthFormat::Dumps)]
    format: MonthFormat,
    /// Output folder (fleet.csv, cards.csv, ground-truth.csv, the taps) [default: HOME/exports/generated/MONTH].
    #[arg(long)]
    out: Option<PathBuf>,
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
        month: first,
        taps: a.taps,
        holders: a.holders,
        validators: a.validators.max(a.vehicles),
        vehicles: a.vehicles,
        routes: a.routes.clamp(1, a.vehicles.max(1)),
        carriers: a.carriers.clamp(1, a.routes.max(1)),
        anomaly_share: a.anomalies,
        seed: a.seed,
        out,
        dumps: matches!(a.format, MonthFormat::Dumps | MonthFormat::Both),
        csv: matches!(a.format, MonthFormat::Csv | MonthFormat::Both),
        keep: store,
        dock_master,
        city: crate::generate::month::City::of(
            &config.clone().unwrap_or_else(Config::default_config),
        ),
        numbered: if store {
            crate::generate::registry::numbered(&home)?
        } else {
            Default::default()
        },
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
        let stored = crate::generate::registry::store_month(&home, &mut s, a.seed, &g.operator())?;
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
