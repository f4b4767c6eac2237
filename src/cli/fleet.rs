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
            let mut stmt = reg
                .conn()
                .prepare(
                    "SELECT v.id, v.vehicle, coalesce(h.plate, ''), h.carrier, c.name, h.routes, h.zone, v.settings_version,
                       (SELECT max(finished_at) FROM dock_sessions d WHERE d.validator = v.id AND d.outcome = 'ok')
                     FROM validators v JOIN vehicles h ON h.id = v.vehicle JOIN carriers c ON c.id = h.carrier ORDER BY v.id",
                )
                .map_err(|e| reg.err(e))?;
            let rows: Vec<serde_json::Value> = stmt
                .query_map([], |r| {
                    Ok(serde_json::json!({
                        "validator": r.get::<_, i64>(0)?, "vehicle": r.get::<_, i64>(1)?,
                        "plate": r.get::<_, String>(2)?, "carrier": r.get::<_, i64>(3)?,
                        "carrier_name": r.get::<_, String>(4)?, "routes": r.get::<_, String>(5)?,
                        "zone": r.get::<_, i64>(6)?, "settings_version": r.get::<_, i64>(7)?,
                        "last_docked": r.get::<_, Option<String>>(8)?,
                    }))
                })
                .map_err(|e| reg.err(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| reg.err(e))?;
            if g.json {
                g.print_json(&rows);
            } else if !g.quiet {
                println!(
                    "validator  vehicle  plate       carrier                   routes  zone  last docked"
                );
                for r in &rows {
                    let n = |k: &str| r[k].to_string();
                    let t = |k: &str| r[k].as_str().unwrap_or("").to_string();
                    println!(
                        "{:>9}  {:>7}  {:<10}  {:<24}  {:<6}  {:>4}  {}",
                        n("validator"),
                        n("vehicle"),
                        t("plate"),
                        format!("{} {}", n("carrier"), t("carrier_name")),
                        t("routes"),
                        n("zone"),
                        r["last_docked"]
                            .as_str()
                            .map(crate::time::stored_as_kyiv)
                            .unwrap_or_else(|| "never".into())
                    );
                }
            }
        }
    }
    Ok(())
}
