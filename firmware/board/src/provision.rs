//! The provisioning page: this validator's id and keys.
//!
//! The last 4 KiB sector of flash ([`crate::flash::PROVISION`], XIP
//! address 0x101F_F000) is written once per validator at the depot, never
//! by the firmware. Its first 40 bytes, all integers little-endian:
//!
//! | bytes  | what                                                        |
//! |--------|-------------------------------------------------------------|
//! | 0..4   | magic `KTP1`                                                |
//! | 4..6   | validator id, 1..=0xFFFE                                    |
//! | 6..22  | card master key (derives every card's sector keys)          |
//! | 22..38 | this validator's dock key (`auth::validator_key(master, id)`) |
//! | 38..40 | CRC-16/IBM-3740 (`kartka_protocol::CRC16`) of bytes 0..38    |
//!
//! A blank (erased) page, or one whose magic, CRC or id is wrong, means no
//! keys: the firmware then refuses every card (red) and does not answer
//! the dock. There is no built-in key.

use kartka_protocol::CRC16;
use kartka_validator::Keys;

use crate::flash;

pub const MAGIC: [u8; 4] = *b"KTP1";
pub const LEN: usize = 40;

pub struct Provision {
    pub id: u16,
    pub keys: Keys,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// The page is erased: never provisioned.
    Blank,
    /// Something is there, but not a good provisioning record.
    Corrupt,
}

/// Reads the provisioning page.
pub fn read() -> Result<Provision, Missing> {
    let mut page = [0u8; LEN];
    flash::read(flash::PROVISION, &mut page);
    parse(&page)
}

fn parse(b: &[u8; LEN]) -> Result<Provision, Missing> {
    if b.iter().all(|&x| x == 0xFF) {
        return Err(Missing::Blank);
    }
    if b[0..4] != MAGIC || CRC16.checksum(&b[..LEN - 2]).to_le_bytes() != b[LEN - 2..] {
        return Err(Missing::Corrupt);
    }
    let id = u16::from_le_bytes([b[4], b[5]]);
    if id == 0 || id == u16::MAX {
        return Err(Missing::Corrupt);
    }
    let mut card_master = [0u8; 16];
    let mut dock = [0u8; 16];
    card_master.copy_from_slice(&b[6..22]);
    dock.copy_from_slice(&b[22..38]);
    Ok(Provision {
        id,
        keys: Keys { card_master, dock },
    })
}
