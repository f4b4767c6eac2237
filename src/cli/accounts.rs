//! `kartka accounts`: which OS users may run kartka (P20).

use super::Global;
use crate::Error;
use crate::access::{Action, Role, accounts};
use crate::registry::Registry;

/// Accounts: an OS user's role, and for carriers the carriers and routes it sees.
#[derive(Debug, clap::Args)]
#[command(after_help = format!("Examples:\n  kartka accounts add olena --role clerk\n  kartka accounts add avtoliga --role carrier --carrier 32855961\n  kartka accounts add petro --role analyst --route 12 --route 12A\n  kartka accounts list\n  kartka accounts remove olena\n\nIdentity is the OS user running kartka (through sudo as the home's owner: the user who ran sudo).\n\n{}", crate::exit::help("accounts")))]
pub struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, clap::Subcommand)]
enum Cmd {
    /// Add an account, or change an existing one's role and scope.
    Add {
        /// The OS user name.
        user: String,
        #[arg(long, value_enum)]
        role: Role,
        /// Carrier and analyst accounts: see only this carrier (id or ЄДРПОУ); repeat for several.
        #[arg(long = "carrier", value_name = "CODE")]
        carriers: Vec<String>,
        /// Carrier and analyst accounts: see only this route; repeat for several.
        #[arg(long = "route", value_name = "CODE")]
        routes: Vec<String>,
    },
    /// List the accounts.
    List,
    /// Remove an account (the last admin stays).
    Remove { user: String },
}

pub fn action(args: &Args) -> Action {
    match args.command {
        Cmd::List => Action::AccountsList,
        _ => Action::AccountsManage,
    }
}

pub fn run(g: &Global, args: Args) -> Result<(), Error> {
    let home = g.home();
    home.require_initialised()?;
    let mut reg = Registry::open(&home.registry())?;
    match args.command {
        Cmd::Add {
            user,
            role,
            carriers,
            routes,
        } => {
            let a = accounts::grant(&mut reg, g.session(), &user, role, &carriers, &routes)?;
            g.say(format_args!("{}: {}", a.user, a.describe()));
            g.print_json(&a);
        }
        Cmd::List => {
            let list = accounts::list(&reg)?;
            if !g.json && !g.quiet {
                for a in &list {
                    println!(
                        "{:<20} {:<8} {}  (since {}, by {})",
                        a.user,
                        a.role,
                        a.scope.describe(),
                        a.added_at,
                        a.added_by
                    );
                }
            }
            g.print_json(&list);
        }
        Cmd::Remove { user } => {
            let a = accounts::revoke(&mut reg, g.session(), &user)?;
            g.say(format_args!("{} removed.", a.user));
            g.print_json(&a);
        }
    }
    Ok(())
}
