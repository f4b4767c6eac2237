//! Every failure a command can end with: each domain's error, wrapped.
//! Each domain error says its own exit code; the table of which command
//! ends with which code is `crate::exit`.

pub use crate::exit::ExitCode;

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
    Budget(#[from] crate::budget::Error),
    #[error(transparent)]
    OpenData(#[from] crate::open_data::Error),
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
    /// Each domain's error says its own code (`exit_code()` beside its
    /// enum); this only dispatches.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Home(e) => e.exit_code(),
            Error::Config(e) => e.exit_code(),
            Error::Registry(e) => e.exit_code(),
            Error::Intake(e) => e.exit_code(),
            Error::Generate(e) => e.exit_code(),
            Error::Eligibility(e) => e.exit_code(),
            Error::Cards(e) => e.exit_code(),
            Error::Taps(e) => e.exit_code(),
            Error::Fleet(e) => e.exit_code(),
            Error::Dock(e) => e.exit_code(),
            Error::Flags(e) => e.exit_code(),
            Error::Compensation(e) => e.exit_code(),
            Error::Budget(e) => e.exit_code(),
            Error::OpenData(e) => e.exit_code(),
            Error::Access(e) => e.exit_code(),
            Error::Person(e) => e.exit_code(),
            Error::Report(e) => e.exit_code(),
            Error::Backup(e) => e.exit_code(),
            Error::StrictRejected(_) => ExitCode::DataErr,
            Error::Reported(code) => *code,
        }
    }
}
