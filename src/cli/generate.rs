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
