use super::Global;
use crate::Error;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(g: &Global, _args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let config = Config::load(&home.config())?;
    let mut s = crate::status::status(&home, &config)?;
    // A scoped account counts its own carriers' and routes' taps.
    if let Some(filter) = g.scope().tap_filter() {
        let reg = crate::registry::Registry::open(&home.registry())?;
        let mut n = 0usize;
        for month in &s.tap_months {
            n += crate::taps::month::count_where(&home, &reg, month, false, filter.clone())?;
        }
        s.taps = i64::try_from(n).unwrap_or(i64::MAX);
    }
    if g.json {
        g.print_json(&s);
        return Ok(());
    }
    if g.quiet {
        return Ok(());
    }
    println!("Home: {}", s.home);
    println!("People in the registry: {}", s.people);
    for (name, n) in &s.by_community {
        println!("  {n:>8}  {name}");
    }
    println!("By category (a person may hold several):");
    for (code, n) in &s.by_category {
        let name = config
            .category(code)
            .map_or(code.as_str(), |c| c.name.as_str());
        println!("  {n:>8}  {name}");
    }
    println!(
        "Imports: {}{}",
        s.imports,
        s.last_import
            .as_deref()
            .map(|t| format!(", last finished {t}"))
            .unwrap_or_default()
    );
    let total: i64 = s.cards.values().sum();
    println!("Cards: {total}");
    for (state, n) in &s.cards {
        println!("  {n:>8}  {state}");
    }
    if let Some(v) = s.blocklist_version {
        println!("Blocklist: version {v}");
    }
    println!(
        "Validators: {} registered, {} docked{}",
        s.validators,
        s.validators_docked,
        s.last_dock
            .as_deref()
            .map(|t| format!(", last {}", crate::time::stored_as_kyiv(t)))
            .unwrap_or_default()
    );
    println!(
        "Taps in the store: {}{}",
        s.taps,
        if s.tap_months.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.tap_months.join(", "))
        }
    );
    if s.quarantined > 0 {
        println!(
            "Quarantined files: {} (see HOME/quarantine/)",
            s.quarantined
        );
    }
    Ok(())
}
