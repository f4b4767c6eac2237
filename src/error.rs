//! The one place where every domain error becomes an exit code (DESIGN.md:
//! sysexits). Domain modules define their own error enums; this module only
//! wraps them and maps each to a code.

/// Exit codes of DESIGN.md (sysexits.h values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    /// Ran, and found a difference (`kartka reconcile`).
    Differs = 1,
    Usage = 2,
    DataErr = 65,
    NoInput = 66,
    Software = 70,
    CantCreate = 73,
    IoErr = 74,
    TempFail = 75,
    NoPerm = 77,
    Config = 78,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Every failure a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Home(#[from] crate::home::Error),
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error(transparent)]
    Registry(#[from] crate::registry::Error),
    #[error(transparent)]
    Intake(#[from] crate::intake::Error),
    #[error(transparent)]
    Generate(#[from] crate::generate::Error),
    #[error(transparent)]
    Eligibility(#[from] crate::eligibility::Error),
    #[error(transparent)]
    Cards(#[from] crate::cards::Error),
    #[error(transparent)]
    Taps(#[from] crate::taps::Error),
    #[error(transparent)]
    Fleet(#[from] crate::fleet::Error),
    #[error(transparent)]
    Dock(#[from] crate::dock::Error),
    #[error(transparent)]
    Flags(#[from] crate::flags::Error),
    #[error(transparent)]
    Compensation(#[from] crate::compensation::Error),
    #[error(transparent)]
    Access(#[from] crate::access::Error),
    #[error(transparent)]
    Person(#[from] crate::person::Error),
    #[error(transparent)]
    Report(#[from] crate::report::Error),
    #[error(transparent)]
    Backup(#[from] crate::backup::Error),
    /// The failure was already printed where it happened (one line per
    /// validator of a dock sweep); only its exit code is left.
    #[error("")]
    Reported(ExitCode),
    /// `--strict` and some rows were rejected: the run finished, but cron must notice.
    #[error("{0}")]
    StrictRejected(String),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        use crate::{cards, config, dock, eligibility, fleet, generate, home, intake};
        match self {
            Error::Home(e) => match e {
                home::Error::Locked { .. } => ExitCode::TempFail,
                home::Error::NotInitialised { .. } => ExitCode::Config,
                home::Error::Create { .. } => ExitCode::CantCreate,
                home::Error::Io { .. } => ExitCode::IoErr,
            },
            Error::Config(e) => match e {
                config::Error::Read { .. } => ExitCode::Config,
                config::Error::Parse { .. } => ExitCode::Config,
                config::Error::Invalid { .. } => ExitCode::Config,
                config::Error::Write { .. } => ExitCode::CantCreate,
            },
            Error::Registry(e) => registry_code(e),
            Error::Intake(e) => match e {
                intake::Error::Missing { .. } => ExitCode::NoInput,
                intake::Error::Unreadable { .. }
                | intake::Error::NotASpreadsheet { .. }
                | intake::Error::NoHeader { .. }
                | intake::Error::MissingColumns { .. }
                | intake::Error::NoSuchSheet { .. } => ExitCode::DataErr,
                intake::Error::Rejects { .. } | intake::Error::Photo { .. } => ExitCode::CantCreate,
                intake::Error::Registry(_) => ExitCode::IoErr,
            },
            Error::Generate(e) => match e {
                generate::Error::Write { .. } => ExitCode::CantCreate,
            },
            Error::Eligibility(e) => match e {
                eligibility::Error::UnknownPerson(_) => ExitCode::NoInput,
                eligibility::Error::Workbook { .. } => ExitCode::CantCreate,
                eligibility::Error::Registry(_) => ExitCode::IoErr,
            },
            Error::Cards(e) => match e {
                cards::Error::UnknownCard(_) | cards::Error::UnknownHolder(_) => ExitCode::NoInput,
                cards::Error::BadNumber(_) | cards::Error::Refused { .. } => ExitCode::DataErr,
                cards::Error::Key { .. } | cards::Error::Design { .. } => ExitCode::Config,
                cards::Error::Uids { missing: true, .. } => ExitCode::NoInput,
                cards::Error::Uids { .. } => ExitCode::DataErr,
                cards::Error::Output { .. } => ExitCode::CantCreate,
                cards::Error::Registry(_) => ExitCode::IoErr,
            },
            Error::Taps(e) => taps_code(e),
            Error::Fleet(e) => match e {
                fleet::Error::Missing { .. } => ExitCode::NoInput,
                fleet::Error::Bad { .. } => ExitCode::DataErr,
                fleet::Error::Registry(_) => ExitCode::IoErr,
            },
            Error::Dock(e) => match e {
                dock::Error::NoSuchPort { .. } => ExitCode::NoInput,
                dock::Error::PortBusy { .. } => ExitCode::TempFail,
                dock::Error::PortOpen { .. }
                | dock::Error::Unplugged { .. }
                | dock::Error::NoAnswer { .. }
                | dock::Error::Refused { .. } => ExitCode::IoErr,
                dock::Error::Version { .. }
                | dock::Error::BadMac { .. }
                | dock::Error::UnknownValidator { .. }
                | dock::Error::Protocol { .. } => ExitCode::DataErr,
                dock::Error::Taps(e) => taps_code(e),
                dock::Error::Registry(_) => ExitCode::IoErr,
                dock::Error::Key(cards::Error::Key { .. }) => ExitCode::Config,
                dock::Error::Key(_) => ExitCode::IoErr,
            },
            Error::Access(e) => match e {
                crate::access::Error::NoAccount { .. }
                | crate::access::Error::Refused { .. }
                | crate::access::Error::NoPurpose { .. } => ExitCode::NoPerm,
                crate::access::Error::Bad(_) => ExitCode::DataErr,
                crate::access::Error::Unknown(_) => ExitCode::NoInput,
                crate::access::Error::Registry(e) => registry_code(e),
            },
            Error::Person(e) => match e {
                crate::person::Error::Registry(e) => registry_code(e),
                crate::person::Error::Taps(e) => taps_code(e),
                crate::person::Error::Store { .. } => ExitCode::IoErr,
                crate::person::Error::Output { .. } => ExitCode::CantCreate,
            },
            Error::Report(e) => {
                use crate::report::Error as R;
                match e {
                    R::Period { .. } => ExitCode::Usage,
                    R::NoTaps { .. } => ExitCode::NoInput,
                    R::Output { .. } => ExitCode::CantCreate,
                    R::Polars(_) => ExitCode::Software,
                    R::Compensation(e) => compensation_code(e),
                    R::Flags(e) => flags_code(e),
                    R::Registry(e) => registry_code(e),
                }
            }
            Error::Compensation(e) => compensation_code(e),
            Error::Flags(e) => flags_code(e),
            Error::Backup(e) => backup_code(e),
            Error::StrictRejected(_) => ExitCode::DataErr,
            Error::Reported(code) => *code,
        }
    }
}

fn compensation_code(e: &crate::compensation::Error) -> ExitCode {
    use crate::compensation::Error as C;
    match e {
        C::Month { .. } => ExitCode::Usage,
        C::NoTaps { .. } | C::NotFlagged { .. } | C::Missing { .. } => ExitCode::NoInput,
        C::StaleFlags { .. } | C::Report { .. } | C::UnknownCarrier { .. } => ExitCode::DataErr,
        C::NoFare { .. } => ExitCode::Config,
        C::Output { .. } => ExitCode::CantCreate,
        C::Polars(_) => ExitCode::Software,
        C::Flags(e) => flags_code(e),
        C::Taps(e) => taps_code(e),
        C::Registry(_) => ExitCode::IoErr,
    }
}

fn flags_code(e: &crate::flags::Error) -> ExitCode {
    {
        use crate::flags::Error as F;
        match e {
            F::Month { .. } | F::OutKind { .. } => ExitCode::Usage,
            F::NoTaps { .. } | F::NotFlagged { .. } | F::Missing { .. } => ExitCode::NoInput,
            F::UnknownFlag { .. } | F::Refused(_) | F::Review { .. } | F::Unreadable { .. } => {
                ExitCode::DataErr
            }
            F::Output { .. } => ExitCode::CantCreate,
            F::Polars(_) => ExitCode::Software,
            F::Taps(e) => taps_code(e),
            F::Registry(_) => ExitCode::IoErr,
        }
    }
}

fn registry_code(e: &crate::registry::Error) -> ExitCode {
    use crate::registry::Error as R;
    match e {
        R::TooNew { .. } => ExitCode::Config,
        R::Busy { .. } => ExitCode::TempFail,
        R::Sqlite { .. } => ExitCode::IoErr,
    }
}

fn backup_code(e: &crate::backup::Error) -> ExitCode {
    use crate::backup::Error as B;
    match e {
        B::NotABackup { .. } => ExitCode::NoInput,
        B::Manifest { .. } | B::Damaged { .. } | B::HomeDamaged { .. } => ExitCode::DataErr,
        B::Moving { .. } | B::DestBusy { .. } => ExitCode::TempFail,
        B::Refused { .. } | B::Write { .. } => ExitCode::CantCreate,
        B::Read { .. } | B::Snapshot { .. } => ExitCode::IoErr,
        B::Registry(e) => registry_code(e),
        B::Home(e) => match e {
            crate::home::Error::Locked { .. } => ExitCode::TempFail,
            crate::home::Error::NotInitialised { .. } => ExitCode::Config,
            crate::home::Error::Create { .. } => ExitCode::CantCreate,
            crate::home::Error::Io { .. } => ExitCode::IoErr,
        },
    }
}

fn taps_code(e: &crate::taps::Error) -> ExitCode {
    use crate::taps::Error as T;
    match e {
        T::Missing { .. } => ExitCode::NoInput,
        T::BadInput { .. } | T::UnknownValidator { .. } => ExitCode::DataErr,
        T::Read { .. } | T::Parquet { .. } | T::Registry(_) => ExitCode::IoErr,
        T::Write { .. } => ExitCode::CantCreate,
    }
}
