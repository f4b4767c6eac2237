//! Which role runs which command (P20, K5). One table, read by `cli::run`
//! before any command starts, and printed in commands/accounts.md.

use super::{Error, Need, Role, Session};
use Role::*;

/// What a command does, as far as access goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `init` on a home that exists (a new home needs no account).
    Init,
    /// Add, change or remove accounts.
    AccountsManage,
    AccountsList,
    ImportApplicants,
    /// `kartka vocab`: list, or (`change`) teach and forget answers.
    Vocab {
        change: bool,
    },
    /// Decide eligibility; `workbook`: also write the decisions with names.
    Decide {
        workbook: bool,
    },
    /// One person's rule trace (personal data).
    Explain,
    /// Issue, block, reissue, record printed or handed over.
    CardsChange,
    /// A print job: names and photos for the printer (personal data).
    CardsPrint,
    /// `cards show` and `cards list` (personal data).
    CardsView,
    /// `cards image`: a card's chip content with its keys (no personal
    /// data, but the keys clone the card).
    CardsImage,
    /// `cards inspect`: a dump explained against the keys and the registry.
    CardsInspect,
    Blocklist,
    Dock,
    /// Import taps, compact months.
    TapsStore,
    /// The store's months, in counts.
    TapsMonths,
    /// Run the flag rules; `names`: put holders' names in the file.
    Flag {
        names: bool,
    },
    /// Clear flags, import a review workbook.
    FlagsClear,
    /// Each rule's precision from the clearings (counts only).
    FlagsQuality,
    FleetImport,
    FleetList,
    Compensation,
    Reconcile,
    /// The year's benefit budget (money of every carrier and community).
    Budget,
    /// Open data (K6): public aggregates, or pseudonymised trips for
    /// research (`research`: analysts only, with a purpose).
    OpenData {
        research: bool,
    },
    /// A period report; `names`: with names and photos (needs a purpose).
    Report {
        names: bool,
    },
    Status,
    Generate,
    /// Verify and read the audit trail.
    AuditRead,
    /// Who looked at one resident's data (K5); shows who they are.
    AuditPerson,
    /// Everything stored about one resident (K5).
    PersonExport,
    Backup,
}

impl Action {
    /// The roles that may run it.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::AccountsManage => &[Admin],
            Action::AccountsList => &[Admin, Auditor],
            Action::ImportApplicants | Action::Decide { .. } | Action::Vocab { .. } => {
                &[Admin, Clerk]
            }
            Action::Explain | Action::CardsView => &[Admin, Clerk, Analyst],
            Action::CardsChange | Action::CardsPrint | Action::Blocklist | Action::CardsImage => {
                &[Admin, Clerk]
            }
            Action::CardsInspect => &[Admin, Clerk, Analyst],
            Action::Dock => &[Admin, Clerk, Analyst],
            Action::TapsStore | Action::Flag { .. } | Action::FlagsClear => &[Admin, Analyst],
            Action::TapsMonths | Action::FlagsQuality => &[Admin, Analyst, Auditor],
            Action::FleetImport => &[Admin, Analyst],
            Action::FleetList => &[Admin, Clerk, Analyst],
            Action::Compensation | Action::Reconcile => &[Admin, Analyst, Carrier],
            Action::Budget => &[Admin, Analyst],
            Action::OpenData { research: false } => &[Admin, Analyst],
            Action::OpenData { research: true } => &[Analyst],
            Action::Report { names: false } => &[Admin, Analyst, Carrier],
            Action::Report { names: true } => &[Admin, Analyst],
            Action::Status => &[Admin, Clerk, Analyst, Carrier, Auditor],
            Action::Init | Action::Generate | Action::Backup => &[Admin],
            Action::AuditRead => &[Admin, Auditor],
            Action::AuditPerson => &[Admin, Auditor, Clerk],
            Action::PersonExport => &[Admin, Clerk],
        }
    }

    /// Does it show or export personal data (and so need `--purpose`)?
    pub fn personal(self) -> bool {
        matches!(
            self,
            Action::Decide { workbook: true }
                | Action::Explain
                | Action::CardsPrint
                | Action::CardsView
                | Action::Flag { names: true }
                | Action::Report { names: true }
                | Action::AuditPerson
                | Action::PersonExport
                | Action::OpenData { research: true }
        )
    }

    /// What the command needs of a scoped account's scope before it
    /// starts (`scope`); commands that cut their output to the scope, or
    /// check what they change, need nothing here.
    pub fn scope_need(self) -> Option<Need<'static>> {
        match self {
            Action::Budget
            | Action::OpenData { .. }
            | Action::TapsStore
            | Action::Dock
            | Action::FleetImport
            | Action::Vocab { change: true } => Some(Need::CityWide { what: self.what() }),
            Action::Compensation | Action::Reconcile => {
                Some(Need::WholeCarriers { what: self.what() })
            }
            _ => None,
        }
    }

    /// For refusals: what the command touches.
    fn what(self) -> &'static str {
        match self {
            Action::Init => "the home's set-up",
            Action::AccountsManage | Action::AccountsList => "accounts",
            Action::ImportApplicants | Action::Decide { .. } | Action::Explain => {
                "applications and eligibility"
            }
            Action::CardsChange | Action::CardsPrint | Action::CardsView | Action::Blocklist => {
                "cards and their holders"
            }
            Action::CardsImage | Action::CardsInspect => "cards' chips and their keys",
            Action::Dock | Action::TapsStore | Action::TapsMonths => "the tap store",
            Action::Flag { .. } | Action::FlagsClear | Action::FlagsQuality => {
                "suspicious-tap flags"
            }
            Action::FleetImport | Action::FleetList => "the fleet",
            Action::Vocab { .. } => "what the intake was taught (kartka vocab)",
            Action::Compensation | Action::Reconcile => "compensation",
            Action::Budget => "the benefit budget",
            Action::OpenData { research: false } => "open data",
            Action::OpenData { research: true } => "research data (pseudonymised trips)",
            Action::Report { names: true } => "reports with holders' names and photos",
            Action::Report { names: false } => "period reports",
            Action::Status => "the home's counts",
            Action::Generate => "synthetic data",
            Action::AuditRead | Action::AuditPerson => "the audit trail",
            Action::PersonExport => "a resident's data",
            Action::Backup => "backups",
        }
    }
}

/// Refuses a session whose role may not run `action`, whose scope does
/// not allow it (`Action::scope_need`), or a personal-data command without
/// a purpose.
pub fn check(session: &Session, action: Action) -> Result<(), Error> {
    let Some(account) = &session.account else {
        return Err(Error::NoAccount {
            user: session.user.clone(),
            home: String::new(),
        });
    };
    let roles = action.roles();
    if !roles.contains(&account.role) {
        return Err(session.refuse(format!(
            "{}: for {} accounts only",
            action.what(),
            roles
                .iter()
                .map(|r| r.code())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(need) = action.scope_need() {
        account
            .scope
            .check(need)
            .map_err(|why| session.refuse(why))?;
    }
    if action.personal() && session.purpose.is_none() {
        return Err(Error::NoPurpose {
            command: session.command.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Account, Scope};

    fn session(role: Role, purpose: Option<&str>) -> Session {
        Session {
            user: "u".into(),
            account: Some(Account {
                user: "u".into(),
                role,
                scope: Scope::default(),
                added_at: String::new(),
                added_by: String::new(),
            }),
            purpose: purpose.map(String::from),
            command: "x".into(),
        }
    }

    #[test]
    fn carriers_never_see_people_and_auditors_only_the_trail() {
        for a in [
            Action::CardsView,
            Action::Explain,
            Action::PersonExport,
            Action::Report { names: true },
            Action::Flag { names: true },
            Action::CardsPrint,
        ] {
            assert!(check(&session(Carrier, Some("p")), a).is_err(), "{a:?}");
        }
        assert!(check(&session(Carrier, None), Action::Report { names: false }).is_ok());
        assert!(check(&session(Auditor, None), Action::AuditRead).is_ok());
        assert!(check(&session(Auditor, None), Action::Compensation).is_err());
        assert!(check(&session(Clerk, None), Action::AccountsManage).is_err());
    }

    #[test]
    fn personal_data_needs_a_purpose() {
        let e = check(&session(Clerk, None), Action::CardsView).unwrap_err();
        assert!(e.to_string().contains("--purpose"), "{e}");
        assert!(
            check(
                &session(Clerk, Some("a call from the holder")),
                Action::CardsView
            )
            .is_ok()
        );
        // A role's refusal comes before the purpose.
        let e = check(&session(Carrier, None), Action::CardsView).unwrap_err();
        assert!(matches!(e, Error::Refused { .. }), "{e}");
    }

    #[test]
    fn a_scoped_account_is_refused_what_covers_the_city() {
        let mut s = session(Analyst, Some("p"));
        s.account.as_mut().unwrap().scope.carriers = vec![1];
        for a in [
            Action::Budget,
            Action::OpenData { research: false },
            Action::OpenData { research: true },
            Action::TapsStore,
            Action::Dock,
            Action::FleetImport,
        ] {
            let e = check(&s, a).unwrap_err();
            assert!(matches!(e, Error::Refused { .. }), "{a:?}");
            assert!(e.to_string().contains("limited to carriers 1"), "{e}");
        }
        for a in [
            Action::Compensation,
            Action::Reconcile,
            Action::Report { names: false },
            Action::Flag { names: false },
            Action::FlagsClear,
            Action::FlagsQuality,
            Action::TapsMonths,
        ] {
            assert!(check(&s, a).is_ok(), "{a:?}");
        }
        s.account.as_mut().unwrap().scope = Scope {
            carriers: vec![],
            routes: vec!["2".into()],
        };
        let e = check(&s, Action::Compensation).unwrap_err();
        assert!(e.to_string().contains("covers whole carriers"), "{e}");
        assert!(check(&s, Action::Report { names: false }).is_ok());
    }

    #[test]
    fn every_action_has_an_admin_except_none() {
        for a in [
            Action::AccountsManage,
            Action::Status,
            Action::Backup,
            Action::Report { names: true },
        ] {
            assert!(a.roles().contains(&Admin));
        }
    }
}
