use super::Global;
use crate::Error;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  kartka init --home /srv/kartka\n  KARTKA_HOME=/srv/kartka kartka init"
)]
pub struct Args {}

pub fn run(g: &Global, _args: Args) -> Result<(), Error> {
    let home = g.home();
    let _lock;
    if home.root().exists() {
        _lock = home.lock("init", crate::home::lock_wait())?;
    }
    let s = crate::init::init(&home)?;
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
    g.print_json(&s);
    Ok(())
}
