//! Who runs a command and what their account may do (P20, P22, K5).
//!
//! Identity is the operating-system user, never a flag: see [`identity`].
//! Each OS user with access has one account with one [`Role`]; carrier
//! accounts (and scoped analysts) also carry the carriers and routes they
//! may see ([`Scope`]). [`policy`] says which role runs which command;
//! [`scope`] is where the scope is checked, for every command.

pub mod accounts;
pub mod identity;
pub mod policy;
pub mod scope;

pub use accounts::Account;
pub use policy::Action;
pub use scope::{Need, Owned};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, and the accounts.
    Admin,
    /// People and cards: applications, eligibility, issuing, the desk.
    Clerk,
    /// Taps, flags, compensation and reports; personal data only with a purpose.
    Analyst,
    /// One carrier's own taps, compensation and reports; never names or photos.
    Carrier,
    /// The audit trail and the accounts list.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Clerk,
        Role::Analyst,
        Role::Carrier,
        Role::Auditor,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Analyst => "analyst",
            Role::Carrier => "carrier",
            Role::Auditor => "auditor",
        }
    }
    pub fn from_code(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What an account may see of the taps: its carriers' vehicles and its
/// routes. Empty lists mean no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Scope {
    pub carriers: Vec<i64>,
    pub routes: Vec<String>,
}

impl Scope {
    /// In words, for the account list and the audit trail.
    pub fn describe(&self) -> String {
        if self.is_all() {
            return "all carriers and routes".into();
        }
        let mut parts = Vec::new();
        if !self.carriers.is_empty() {
            let ids: Vec<String> = self.carriers.iter().map(|c| c.to_string()).collect();
            parts.push(format!("carriers {}", ids.join(",")));
        }
        if !self.routes.is_empty() {
            parts.push(format!("routes {}", self.routes.join(",")));
        }
        parts.join("; ")
    }
    pub fn is_all(&self) -> bool {
        self.carriers.is_empty() && self.routes.is_empty()
    }
    pub fn carrier(&self, id: i64) -> bool {
        self.carriers.is_empty() || self.carriers.contains(&id)
    }
    pub fn route(&self, code: &str) -> bool {
        self.routes.is_empty() || self.routes.iter().any(|r| r == code)
    }
}

/// The person behind a run, resolved once before any command runs.
#[derive(Debug, Clone)]
pub struct Session {
    /// The OS user (or, through sudo as the home's owner, the person who ran sudo).
    pub user: String,
    /// None only for commands that need no account (init, a home not made yet).
    pub account: Option<Account>,
    /// `--purpose`: why personal data is looked at (K5); recorded with it.
    pub purpose: Option<String>,
    /// The command line, for the audit trail.
    pub command: String,
}

impl Session {
    /// Records in the audit trail that this session showed or exported
    /// the personal data of `people` (K5), durably, under SQLite's write
    /// lock. A domain function that reveals personal data calls it itself,
    /// **before** the data leaves (shown, written, renamed into place).
    pub fn record(
        &self,
        reg: &mut crate::registry::Registry,
        outcome: crate::audit::Outcome,
        people: &[String],
        detail: &str,
    ) -> Result<(), crate::registry::Error> {
        crate::audit::record(
            reg,
            crate::audit::New {
                user: &self.user,
                role: self.role().map_or("none", Role::code),
                command: &self.command,
                purpose: self.purpose.as_deref().unwrap_or(""),
                outcome,
                people,
                detail,
            },
        )?;
        Ok(())
    }

    pub fn role(&self) -> Option<Role> {
        self.account.as_ref().map(|a| a.role)
    }
    pub fn scope(&self) -> Scope {
        self.account
            .as_ref()
            .map(|a| a.scope.clone())
            .unwrap_or_default()
    }
    /// The refusal of this session's command (77), saying why.
    pub fn refuse(&self, why: impl Into<String>) -> Error {
        Error::Refused {
            user: self.user.clone(),
            role: self.role().unwrap_or(Role::Carrier),
            command: self.command.clone(),
            why: why.into(),
        }
    }
    /// May this session see people's names and photos? Only staff roles,
    /// and only with a stated purpose (which the audit trail records).
    pub fn may_see_names(&self) -> bool {
        matches!(self.role(), Some(Role::Admin | Role::Clerk | Role::Analyst))
            && self.purpose.is_some()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "OS user '{user}' has no kartka account in {home}.\n  An admin adds one: kartka accounts add {user} --role clerk|analyst|carrier|auditor"
    )]
    NoAccount { user: String, home: String },
    #[error(
        "{user} ({role}) may not run `{command}`: {why}.\n  Ask an admin if your work needs it."
    )]
    Refused {
        user: String,
        role: Role,
        command: String,
        why: String,
    },
    #[error(
        "`{command}` shows or exports personal data: say why with --purpose \"...\" (recorded in the audit trail with your name, K5)."
    )]
    NoPurpose { command: String },
    #[error("{0}")]
    Bad(String),
    #[error("no account '{0}'.\n  See them with: kartka accounts list")]
    Unknown(String),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
}

impl Error {
    /// The exit code this failure ends a command with (DESIGN.md, sysexits;
    /// the table in `crate::exit`).
    pub fn exit_code(&self) -> crate::exit::ExitCode {
        use crate::exit::ExitCode;
        match self {
            Error::NoAccount { .. } | Error::Refused { .. } | Error::NoPurpose { .. } => {
                ExitCode::NoPerm
            }
            Error::Bad(_) => ExitCode::DataErr,
            Error::Unknown(_) => ExitCode::NoInput,
            Error::Registry(e) => e.exit_code(),
        }
    }
}
