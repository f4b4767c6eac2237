use super::Global;
use crate::Error;

#[derive(Debug, clap::Args)]
#[command(
    after_help = format!("Examples:\n  kartka init --home /srv/kartka\n  KARTKA_HOME=/srv/kartka kartka init\n\n{}", crate::exit::help("init"))
)]
pub struct Args {}

pub fn run(g: &Global, _args: Args) -> Result<(), Error> {
    let home = g.home();
    let _lock;
    if home.root().exists() {
        _lock = home.lock("init", crate::home::lock_wait())?;
    }
    let s = crate::init::init(&home)?;
    // The first init makes its user the admin (P20).
    let mut reg = crate::registry::Registry::open(&home.registry())?;
    let mut session = g.session().clone();
    let why = format!("account {} is admin: the home's first user", session.user);
    let first_admin =
        crate::access::accounts::first_admin(&mut reg, &mut session, &why)?.map(|a| a.user);
    if s.created {
        g.say(format_args!(
            "Created home {} (registry schema v{}).\n  Edit {} for the city's communities, categories and limits.",
            s.home,
            s.schema_version,
            home.config().display()
        ));
    } else {
        g.say(format_args!(
            "Home {} already exists; registry is at schema v{}; kartka.toml left as it was.",
            s.home, s.schema_version
        ));
    }
    if let Some(user) = first_admin {
        g.say(format_args!(
            "  {user} is the home's admin (the OS user who ran init); add the staff with `kartka accounts add USER --role ...`."
        ));
    }
    if s.card_key_written {
        g.say(format_args!(
            "  New card master key in {} (mode 600): keep a copy offline; validators need it.",
            home.root()
                .join(crate::config::Config::load(&home.config())?.cards.key_file)
                .display()
        ));
    }
    if s.dock_key_written {
        g.say(format_args!(
            "  New dock master key in {} (mode 600): provision validators with it; keep a copy offline.",
            home.root()
                .join(crate::config::Config::load(&home.config())?.dock.key_file)
                .display()
        ));
    }
    if !s.design_written.is_empty() {
        g.say(format_args!(
            "  Placeholder card design: {}. Replace with the city's arms and picture before printing.",
            s.design_written
                .iter()
                .map(|d| home.root().join(d).display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    g.print_json(&s);
    Ok(())
}
