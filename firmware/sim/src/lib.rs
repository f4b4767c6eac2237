//! `kartka-sim`: a validator on the host. The same core the board runs,
//! with a fake MFRC522 and virtual cards, flash kept in files, and the dock
//! protocol served on a pseudo-terminal.

pub mod cards;
pub mod figures;
pub mod flash;
pub mod link;
pub mod screens;
pub mod script;
