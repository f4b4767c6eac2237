//! kartka: a city's benefit-card scheme, from applicant spreadsheets to
//! carrier compensation. See README.md for the architecture.

pub mod access;
pub mod audit;
pub mod backup;
pub mod budget;
pub mod cards;
pub mod cli;
pub mod compensation;
pub mod config;
pub mod dock;
pub mod eligibility;
pub mod error;
pub mod exit;
pub mod failpoint;
pub mod flags;
pub mod fleet;
pub mod generate;
pub mod hash;
pub mod home;
pub mod identity;
pub mod init;
pub mod intake;
pub mod lang;
pub mod memory;
pub mod money;
pub mod open_data;
pub mod person;
pub mod private;
pub mod registry;
pub mod report;
pub mod status;
pub mod taps;
pub mod tariff;
pub mod text;
pub mod time;
pub mod vocab;
pub mod xlsx;

pub use error::{Error, ExitCode};
