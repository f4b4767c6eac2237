//! Resolves who runs a command and checks their account before it starts;
//! the access domain writes refusals to the audit trail too (an attempt is
//! evidence).

use super::Global;
use crate::Error;
use crate::access::{self, Action, Session, accounts};
use crate::registry::Registry;

/// The command line as typed, for the audit trail.
fn command_line() -> String {
    std::env::args()
        .skip(1)
        .map(|a| {
            if a.is_empty() || a.contains(char::is_whitespace) {
                format!("\"{a}\"")
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn session(g: &Global, action: Option<Action>) -> Result<Session, Error> {
    let home = g.home();
    let mut session = Session {
        user: access::identity::operator(home.root()),
        account: None,
        purpose: g
            .purpose
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(String::from),
        command: command_line(),
    };
    // A home that is not made yet has nothing to protect: the command
    // itself says so (78).
    let Some(action) = action else {
        return Ok(session);
    };
    if !home.config().is_file() {
        return Ok(session);
    }
    let mut reg = Registry::open(&home.registry())?;
    session.account = accounts::find(&reg, &session.user)?;
    if session.account.is_none() {
        accounts::first_admin(
            &mut reg,
            &mut session,
            "first admin: the home had no accounts",
        )?;
    }
    let checked = match session.account {
        None => Err(access::Error::NoAccount {
            user: session.user.clone(),
            home: home.root().display().to_string(),
        }),
        Some(_) => access::policy::check(&session, action),
    };
    checked.map_err(|e| session.refused(&mut reg, e))?;
    Ok(session)
}
