//! `kartka fleet`: the carriers, vehicles and validators the registry knows.

use std::path::PathBuf;

use super::Global;
use crate::Error;
use crate::registry::Registry;

/// The fleet: carriers, vehicles and their validators.
#[derive(Debug, clap::Args)]
#[command(
    after_help = format!("Examples:\n  kartka fleet import fleet.xlsx\n  kartka fleet list\n\n{}", crate::exit::help("fleet"))
)]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Import a fleet list (xlsx, xls, ods, csv): one row per validator with
    /// validator, vehicle, plate, carrier, carrier_name, edrpou, routes, zone.
    Import { file: PathBuf },
    /// List the validators with their vehicle and carrier.
    List,
}

pub fn action(args: &Args) -> crate::access::Action {
    match args.command {
        Cmd::Import { .. } => crate::access::Action::FleetImport,
        Cmd::List => crate::access::Action::FleetList,
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    match args.command {
        Cmd::Import { file } => {
            let fleet = crate::fleet::read(&file)?;
            let _lock = home.lock("fleet import", crate::home::lock_wait())?;
            let mut reg = Registry::open(&home.registry())?;
            let s = crate::fleet::import(&mut reg, &file, &fleet, &g.operator())?;
            g.say(format_args!(
                "Fleet revision {}: {} carriers, {} vehicles, {} validators; {} validators get new settings at their next docking.",
                s.revision, s.carriers, s.vehicles, s.validators, s.settings_changed
            ));
            g.print_json(&s);
        }
        Cmd::List => {
            let reg = Registry::open(&home.registry())?;
            let rows = crate::fleet::list(&reg)?;
            if g.json {
                g.print_json(&rows);
            } else if !g.quiet {
                println!(
                    "validator  vehicle  plate       carrier                   routes  zone  last docked"
                );
                for r in &rows {
                    println!(
                        "{:>9}  {:>7}  {:<10}  {:<24}  {:<6}  {:>4}  {}",
                        r.validator,
                        r.vehicle,
                        r.plate,
                        format!("{} {}", r.carrier, r.carrier_name),
                        r.routes,
                        r.zone,
                        r.last_docked
                            .as_deref()
                            .map(crate::time::stored_as_kyiv)
                            .unwrap_or_else(|| "never".into())
                    );
                }
            }
        }
    }
    Ok(())
}
