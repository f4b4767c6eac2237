//! The MIFARE Classic 1K card as kartka lays it out (K2, K4).
//!
//! | sector | what | keys |
//! |---|---|---|
//! | 0 | MAD v1 ([`mad`]): which application owns each sector | Key A `A0…A5` (public), Key B per card |
//! | 1 | the transport application ([`transport`]) | Key A and Key B per card ([`keys`]) |
//! | 2–15 | free for later applications (medical, education…) | factory |
//!
//! Sector 1, the transport application:
//!
//! | block | content |
//! |---|---|
//! | 4 | card number, category, community, valid from/to, issue number, CRC |
//! | 5 | the trip counter, a MIFARE value block ([`value`]) |
//! | 6 | the last validation: time, vehicle, route, validator, zone (P15 inspection) |
//! | 7 | the trailer: per-card Key A, access bits `FF 07 80`, per-card Key B |

pub mod access;
pub mod image;
pub mod keys;
pub mod mad;
pub mod transport;
pub mod value;

/// Bytes in a block.
pub const BLOCK: usize = 16;
/// Blocks on a 1K card.
pub const BLOCKS: usize = 64;
/// The sector of the transport application.
pub const TRANSPORT_SECTOR: u8 = 1;

/// The first block of a sector.
pub const fn first_block(sector: u8) -> u8 {
    sector * 4
}

/// The trailer block of a sector.
pub const fn trailer_block(sector: u8) -> u8 {
    sector * 4 + 3
}

/// The sector a block is in.
pub const fn sector_of(block: u8) -> u8 {
    block / 4
}

/// A sector trailer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub key_a: [u8; 6],
    pub access: access::Access,
    pub gpb: u8,
    pub key_b: [u8; 6],
}

impl Trailer {
    pub fn to_block(&self) -> [u8; BLOCK] {
        let mut b = [0; BLOCK];
        b[..6].copy_from_slice(&self.key_a);
        b[6..9].copy_from_slice(&self.access.encode());
        b[9] = self.gpb;
        b[10..].copy_from_slice(&self.key_b);
        b
    }

    /// Reads a trailer as stored (Key A reads back as zeros from a card).
    pub fn from_block(b: &[u8; BLOCK]) -> Result<Trailer, access::AccessError> {
        Ok(Trailer {
            key_a: b[..6].try_into().expect("6 bytes"),
            access: access::Access::decode([b[6], b[7], b[8]])?,
            gpb: b[9],
            key_b: b[10..].try_into().expect("6 bytes"),
        })
    }
}
