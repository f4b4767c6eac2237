//! Resolves who runs a command and checks their account before it starts;
//! refusals are written to the audit trail too (an attempt is evidence).

use super::Global;
use crate::Error;
use crate::access::{self, Action, Role, Session, accounts};
use crate::audit::{self, Outcome};
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
    if let Err(e) = checked {
        let first_line = e.to_string();
        let first_line = first_line.lines().next().unwrap_or_default();
        audit::record(
            &mut reg,
            audit::New {
                user: &session.user,
                role: session.role().map_or("none", Role::code),
                command: &session.command,
                purpose: session.purpose.as_deref().unwrap_or(""),
                outcome: Outcome::Refused,
                people: &[],
                detail: first_line,
            },
        )?;
        return Err(e.into());
    }
    Ok(session)
}
