//! The accounts table: one row per OS user with access.

use rusqlite::{OptionalExtension, params};

use super::{Error, Role, Scope};
use crate::registry::Registry;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub user: String,
    pub role: Role,
    pub scope: Scope,
    pub added_at: String,
    pub added_by: String,
}

fn split<T>(s: &str, f: impl Fn(&str) -> Option<T>) -> Vec<T> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .filter_map(f)
        .collect()
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<Account> {
    let role: String = r.get(1)?;
    let carriers: String = r.get(2)?;
    let routes: String = r.get(3)?;
    Ok(Account {
        user: r.get(0)?,
        role: Role::from_code(&role).unwrap_or(Role::Carrier),
        scope: Scope {
            carriers: split(&carriers, |x| x.parse().ok()),
            routes: split(&routes, |x| Some(x.to_string())),
        },
        added_at: r.get(4)?,
        added_by: r.get(5)?,
    })
}

const COLUMNS: &str = "user, role, carriers, routes, added_at, added_by";

pub fn find(reg: &Registry, user: &str) -> Result<Option<Account>, Error> {
    Ok(reg
        .conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM accounts WHERE user = ?1"),
            [user],
            from_row,
        )
        .optional()
        .map_err(|e| reg.err(e))?)
}

pub fn list(reg: &Registry) -> Result<Vec<Account>, Error> {
    let mut st = reg
        .conn()
        .prepare(&format!(
            "SELECT {COLUMNS} FROM accounts ORDER BY role, user"
        ))
        .map_err(|e| reg.err(e))?;
    let rows = st
        .query_map([], from_row)
        .map_err(|e| reg.err(e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| reg.err(e))?;
    Ok(rows)
}

pub fn count(reg: &Registry) -> Result<i64, Error> {
    Ok(reg
        .conn()
        .query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))
        .map_err(|e| reg.err(e))?)
}

/// A carrier named by its id or its ЄДРПОУ code, as on the workbooks.
pub fn carrier_id(reg: &Registry, code: &str) -> Result<i64, Error> {
    let code = code.trim();
    reg.conn()
        .query_row(
            "SELECT id FROM carriers WHERE CAST(id AS TEXT) = ?1 OR edrpou = ?1",
            [code],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| reg.err(e))?
        .ok_or_else(|| {
            Error::Bad(format!(
                "--carrier {code}: no such carrier (give its id or ЄДРПОУ; see `kartka fleet list`)"
            ))
        })
}

/// Adds an account, or changes the role and scope of an existing one.
/// A carrier account must name its carriers; only carrier and analyst
/// accounts take a scope.
pub fn put(
    reg: &Registry,
    user: &str,
    role: Role,
    carriers: &[String],
    routes: &[String],
    by: &str,
) -> Result<Account, Error> {
    if !super::identity::valid_name(user) {
        return Err(Error::Bad(format!(
            "'{user}' is not an OS user name (letters, digits, . _ - up to 64)"
        )));
    }
    if role == Role::Carrier && carriers.is_empty() {
        return Err(Error::Bad(
            "a carrier account needs --carrier CODE (the carrier's id or ЄДРПОУ)".into(),
        ));
    }
    let scoped = !(carriers.is_empty() && routes.is_empty());
    if scoped && !matches!(role, Role::Carrier | Role::Analyst) {
        return Err(Error::Bad(format!(
            "--carrier and --route limit carrier and analyst accounts; a {role} account has no scope"
        )));
    }
    let mut ids = carriers
        .iter()
        .map(|c| carrier_id(reg, c))
        .collect::<Result<Vec<_>, _>>()?;
    ids.sort_unstable();
    ids.dedup();
    let mut routes: Vec<String> = routes.iter().map(|r| r.trim().to_string()).collect();
    if let Some(r) = routes.iter().find(|r| r.is_empty() || r.contains(',')) {
        return Err(Error::Bad(format!("--route '{r}': not a route code")));
    }
    routes.sort();
    routes.dedup();
    if let Some(old) = find(reg, user)?
        && old.role == Role::Admin
        && role != Role::Admin
    {
        last_admin_guard(reg, user)?;
    }
    let ids_text = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    reg.conn()
        .execute(
            "INSERT INTO accounts (user, role, carriers, routes, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(user) DO UPDATE SET role = excluded.role, carriers = excluded.carriers,
               routes = excluded.routes, added_at = excluded.added_at, added_by = excluded.added_by",
            params![user, role.code(), ids_text, routes.join(","), crate::time::now_utc_text(), by],
        )
        .map_err(|e| reg.err(e))?;
    Ok(find(reg, user)?.expect("just written"))
}

/// Adds or changes an account for `session` (an admin's), with the
/// change in the audit trail.
pub fn grant(
    reg: &mut Registry,
    session: &super::Session,
    user: &str,
    role: Role,
    carriers: &[String],
    routes: &[String],
) -> Result<Account, Error> {
    let a = put(reg, user, role, carriers, routes, &session.user)?;
    session.record(
        reg,
        crate::audit::Outcome::Changed,
        &[],
        &format!("account {} is {}", a.user, a.describe()),
    )?;
    Ok(a)
}

/// Removes an account for `session`, with the change in the audit trail.
pub fn revoke(reg: &mut Registry, session: &super::Session, user: &str) -> Result<Account, Error> {
    let a = remove(reg, user)?;
    session.record(
        reg,
        crate::audit::Outcome::Changed,
        &[],
        &format!("account {} removed (was {})", a.user, a.describe()),
    )?;
    Ok(a)
}

/// A home without accounts makes `session`'s user its admin (the OS
/// user who ran init, or the owner of a home made before accounts
/// existed), recorded in the audit trail with `why`. The session then
/// holds the account. `None` when the home has accounts already.
pub fn first_admin(
    reg: &mut Registry,
    session: &mut super::Session,
    why: &str,
) -> Result<Option<Account>, Error> {
    if count(reg)? != 0 {
        return Ok(None);
    }
    let account = put(reg, &session.user, Role::Admin, &[], &[], &session.user)?;
    session.account = Some(account.clone());
    session.record(reg, crate::audit::Outcome::Changed, &[], why)?;
    Ok(Some(account))
}

impl Account {
    /// Its role and scope in words.
    pub fn describe(&self) -> String {
        format!("{}, {}", self.role, self.scope.describe())
    }
}

fn last_admin_guard(reg: &Registry, user: &str) -> Result<(), Error> {
    let admins: i64 = reg
        .conn()
        .query_row(
            "SELECT count(*) FROM accounts WHERE role = 'admin' AND user <> ?1",
            [user],
            |r| r.get(0),
        )
        .map_err(|e| reg.err(e))?;
    if admins == 0 {
        return Err(Error::Bad(format!(
            "'{user}' is the last admin: add another admin first, or nobody could manage accounts"
        )));
    }
    Ok(())
}

pub fn remove(reg: &Registry, user: &str) -> Result<Account, Error> {
    let old = find(reg, user)?.ok_or_else(|| Error::Unknown(user.into()))?;
    if old.role == Role::Admin {
        last_admin_guard(reg, user)?;
    }
    reg.conn()
        .execute("DELETE FROM accounts WHERE user = ?1", [user])
        .map_err(|e| reg.err(e))?;
    Ok(old)
}
