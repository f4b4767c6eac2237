//! The one definition of the bytes that pass between a kartka validator, a
//! benefit card and the depot PC.
//!
//! - [`record`]: the tap record, 29 bytes, the same on the wire and in flash.
//! - [`message`]: what the dock and the validator say to each other.
//! - [`frame`]: how a message travels: version byte, postcard, MAC, CRC-16,
//!   COBS, a 0x00 delimiter.
//! - [`auth`]: the per-validator MAC and the key derivations.
//! - [`card`]: the MIFARE Classic 1K layout: MAD v1, the transport
//!   application, access bits, value blocks and per-card keys.
//!
//! `no_std`, no heap: the validator firmware and the host share this crate.
#![no_std]

#[cfg(test)]
extern crate std;

pub mod auth;
pub mod card;
pub mod frame;
pub mod message;
pub mod record;

pub use frame::{Decoded, FrameError, FrameReader, PROTOCOL_VERSION};
pub use message::Message;
pub use record::{RECORD_LEN, TapRecord, TapResult, Uid};

/// CRC-16/CCITT-FALSE (IBM-3740): over each frame and each flash slot.
pub const CRC16: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_IBM_3740);
