//! The validator core: read a card, decide, log the tap through power
//! loss, and serve the dock. `no_std`, no heap; the board crate and the
//! simulator give it a reader, flash, a clock and lights.

#![no_std]

#[cfg(test)]
extern crate std;

pub mod calendar;
pub mod dock;
#[cfg(feature = "fake")]
pub mod fake;
pub mod log;
pub mod reader;
#[cfg(feature = "scenarios")]
pub mod scenarios;
pub mod screen;
pub mod store;
pub mod validator;

pub use dock::Dock;
pub use reader::{CardReader, Fault, Mfrc522Reader};
pub use screen::{OutOfService, Screen};
pub use validator::{Clock, CoreError, Indicator, Keys, Signal, Validator};
