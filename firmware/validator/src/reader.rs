//! The card reader as the validator core sees it, and its implementation on
//! the `mfrc522` driver.
//!
//! The driver's pitfalls (see the reference) are handled here, once:
//! - it authenticates with Key A only, so kartka's sectors open with Key A;
//! - `mf_write` does not check the card's ACK, so every write is read back;
//! - it authenticates 7-byte UIDs with the wrong bytes, so only 4-byte UIDs
//!   are served;
//! - after an authenticated exchange Crypto1 must be switched off, or the
//!   next card is not heard.

use embedded_hal::spi::SpiDevice;
use kartka_protocol::Uid;
use mfrc522::comm::blocking::spi::{DummyDelay, SpiInterface};
use mfrc522::{Initialized, Mfrc522};

/// Why a card operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// No answer: the card left the field.
    Gone,
    /// The card refused: wrong key, no right, or a NAK.
    Refused,
    /// A written block did not read back the same.
    Mismatch,
    /// The chip or the bus to it failed.
    Chip,
}

/// What the validator core needs of a reader.
pub trait CardReader {
    /// A card not served yet (a served card is halted and stays quiet until
    /// it leaves the field): its UID, or `None`.
    fn detect(&mut self) -> Result<Option<Uid>, Fault>;
    /// Opens the sector of `block` with `key` as Key A.
    fn authenticate(&mut self, block: u8, key: &[u8; 6]) -> Result<(), Fault>;
    fn read(&mut self, block: u8) -> Result<[u8; 16], Fault>;
    /// Writes `data` and reads it back.
    fn write(&mut self, block: u8, data: &[u8; 16]) -> Result<(), Fault>;
    /// Halts the card and switches Crypto1 off.
    fn release(&mut self);
}

/// An MFRC522 on SPI.
pub struct Mfrc522Reader<SPI: SpiDevice> {
    chip: Mfrc522<SpiInterface<SPI, DummyDelay>, Initialized>,
    uid: Option<mfrc522::Uid>,
}

impl<SPI: SpiDevice> Mfrc522Reader<SPI> {
    /// Resets and sets up the chip.
    pub fn new(spi: SPI) -> Result<Self, Fault> {
        let chip = Mfrc522::new(SpiInterface::new(spi)).init().map_err(fault)?;
        Ok(Mfrc522Reader { chip, uid: None })
    }

    /// The chip's version register (0x91 or 0x92 for a real MFRC522).
    pub fn version(&mut self) -> Result<u8, Fault> {
        self.chip.version().map_err(fault)
    }

    pub fn release_spi(self) -> SPI {
        self.chip.release().release()
    }
}

fn fault<E>(e: mfrc522::Error<E>) -> Fault {
    match e {
        mfrc522::Error::Timeout => Fault::Gone,
        mfrc522::Error::Nak | mfrc522::Error::Protocol | mfrc522::Error::Crc => Fault::Refused,
        mfrc522::Error::Comm(_) => Fault::Chip,
        _ => Fault::Refused,
    }
}

impl<SPI: SpiDevice> CardReader for Mfrc522Reader<SPI> {
    fn detect(&mut self) -> Result<Option<Uid>, Fault> {
        self.uid = None;
        let atqa = match self.chip.new_card_present() {
            Ok(atqa) => atqa,
            Err(mfrc522::Error::Timeout) => return Ok(None),
            Err(mfrc522::Error::Comm(_)) => return Err(Fault::Chip),
            // A garbled answer: try again on the next poll.
            Err(_) => return Ok(None),
        };
        let uid = match self.chip.select(&atqa) {
            Ok(uid) => uid,
            Err(mfrc522::Error::Comm(_)) => return Err(Fault::Chip),
            Err(_) => return Ok(None),
        };
        let ours = Uid::new(uid.as_bytes());
        self.uid = Some(uid);
        // A 10-byte UID is no MIFARE Classic 1K: show it as 7 zero bytes
        // so it is logged and refused, not ignored.
        Ok(Some(
            ours.unwrap_or_else(|| Uid::new(&[0; 7]).expect("7 bytes")),
        ))
    }

    fn authenticate(&mut self, block: u8, key: &[u8; 6]) -> Result<(), Fault> {
        let uid = self.uid.as_ref().ok_or(Fault::Gone)?;
        self.chip.mf_authenticate(uid, block, key).map_err(fault)
    }

    fn read(&mut self, block: u8) -> Result<[u8; 16], Fault> {
        self.chip.mf_read(block).map_err(fault)
    }

    fn write(&mut self, block: u8, data: &[u8; 16]) -> Result<(), Fault> {
        self.chip.mf_write(block, *data).map_err(fault)?;
        if self.chip.mf_read(block).map_err(fault)? != *data {
            return Err(Fault::Mismatch);
        }
        Ok(())
    }

    fn release(&mut self) {
        let _ = self.chip.hlta();
        let _ = self.chip.stop_crypto1();
        self.uid = None;
    }
}
