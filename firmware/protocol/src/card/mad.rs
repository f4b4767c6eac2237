//! MIFARE Application Directory v1 (NXP AN10787), sector 0.
//!
//! - Block 1: CRC-8, the info byte, the application IDs of sectors 1–7.
//! - Block 2: the application IDs of sectors 8–15.
//! - Each ID is 2 bytes, low byte first: application code, then the
//!   function-cluster code. `0x0000` is a free sector.

use super::BLOCK;

/// kartka's transport application: cluster 0x18 (city traffic), code 0x01.
pub const TRANSPORT_AID: u16 = 0x1801;
/// A free sector.
pub const FREE: u16 = 0x0000;
/// Sector 0's public Key A.
pub const MAD_KEY_A: [u8; 6] = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5];
/// General-purpose byte of the MAD trailer: MAD present, multi-application,
/// version 1.
pub const MAD_GPB: u8 = 0xC1;

const CRC8: crc::Crc<u8> = crc::Crc::<u8>::new(&crc::CRC_8_MIFARE_MAD);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mad {
    pub info: u8,
    /// Application IDs of sectors 1..=15 (index 0 is sector 1).
    pub aids: [u16; 15],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MadError {
    Crc { stored: u8, computed: u8 },
}

impl Mad {
    /// A card with the transport application in `sector` and every other
    /// sector free.
    pub fn with_transport(sector: u8) -> Mad {
        let mut aids = [FREE; 15];
        aids[sector as usize - 1] = TRANSPORT_AID;
        Mad { info: 0, aids }
    }

    pub fn encode(&self) -> [[u8; BLOCK]; 2] {
        let mut bytes = [0u8; 2 * BLOCK];
        bytes[1] = self.info;
        for (i, aid) in self.aids.iter().enumerate() {
            bytes[2 + 2 * i..4 + 2 * i].copy_from_slice(&aid.to_le_bytes());
        }
        bytes[0] = CRC8.checksum(&bytes[1..]);
        let mut blocks = [[0; BLOCK]; 2];
        blocks[0].copy_from_slice(&bytes[..BLOCK]);
        blocks[1].copy_from_slice(&bytes[BLOCK..]);
        blocks
    }

    pub fn decode(block1: &[u8; BLOCK], block2: &[u8; BLOCK]) -> Result<Mad, MadError> {
        let mut bytes = [0u8; 2 * BLOCK];
        bytes[..BLOCK].copy_from_slice(block1);
        bytes[BLOCK..].copy_from_slice(block2);
        let computed = CRC8.checksum(&bytes[1..]);
        if computed != bytes[0] {
            return Err(MadError::Crc {
                stored: bytes[0],
                computed,
            });
        }
        let mut aids = [0; 15];
        for (i, aid) in aids.iter_mut().enumerate() {
            *aid = u16::from_le_bytes([bytes[2 + 2 * i], bytes[3 + 2 * i]]);
        }
        Ok(Mad {
            info: bytes[1] & 0x3F,
            aids,
        })
    }

    /// The first sector holding `aid`.
    pub fn find(&self, aid: u16) -> Option<u8> {
        self.aids
            .iter()
            .position(|&a| a == aid)
            .map(|i| i as u8 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crc_is_the_mad_crc_8() {
        assert_eq!(CRC8.checksum(b"123456789"), 0x99);
    }

    /// NXP AN10787's worked example ("CRC calculation"; the same bytes in
    /// libfreefare's test_mad.c): info byte 01, sectors 1–3 0x0801, 7
    /// 0x0004, 8–9 0x1003, 10–11 0x1002, 15 0x3011; CRC 0x89. (The note's
    /// "preset 0xE3" is 0xC7 bit-mirrored; with 0xE3 the CRC is 0xA2.)
    #[test]
    fn the_an10787_example() {
        let b1 = [
            0x89, 0x01, 0x01, 0x08, 0x01, 0x08, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0x04, 0x00,
        ];
        let b2 = [
            0x03, 0x10, 0x03, 0x10, 0x02, 0x10, 0x02, 0x10, 0, 0, 0, 0, 0, 0, 0x11, 0x30,
        ];
        assert_eq!(CRC8.checksum(&[&b1[1..], &b2[..]].concat()), 0x89);
        let mad = Mad::decode(&b1, &b2).unwrap();
        assert_eq!(mad.info, 1);
        assert_eq!(&mad.aids[..3], &[0x0801; 3]);
        assert_eq!(mad.aids[6], 0x0004);
        assert_eq!(mad.aids[14], 0x3011);
        assert_eq!(mad.find(0x1002), Some(10));
        assert_eq!(mad.encode(), [b1, b2]);
        // Two other directories from real cards (libfreefare): NDEF AIDs.
        let ndef = |n: usize| {
            let mut bytes = [0u8; 31];
            bytes[0] = 1;
            for i in 0..n {
                bytes[1 + 2 * i..3 + 2 * i].copy_from_slice(&[0x03, 0xE1]);
            }
            CRC8.checksum(&bytes)
        };
        assert_eq!(ndef(5), 0xC4);
        assert_eq!(ndef(6), 0xAB);
    }

    #[test]
    fn the_transport_mad_names_sector_1_low_byte_first() {
        let [b1, b2] = Mad::with_transport(1).encode();
        assert_eq!(b1[1..4], [0x00, 0x01, 0x18]);
        assert!(b1[4..].iter().chain(&b2).all(|&b| b == 0));
        assert_eq!(b1[0], CRC8.checksum(&[&b1[1..], &b2[..]].concat()));
        let mad = Mad::decode(&b1, &b2).unwrap();
        assert_eq!(mad.find(TRANSPORT_AID), Some(1));
        assert_eq!(mad.find(0x4001), None);
    }

    proptest::proptest! {
        #[test]
        fn any_directory_round_trips(info in 0u8..0x40, aids in proptest::prelude::any::<[u16; 15]>()) {
            let mad = Mad { info, aids };
            let [b1, b2] = mad.encode();
            proptest::prop_assert_eq!(Mad::decode(&b1, &b2), Ok(mad));
        }
    }

    #[test]
    fn a_damaged_mad_is_refused() {
        let [mut b1, b2] = Mad::with_transport(1).encode();
        b1[3] ^= 1;
        assert!(matches!(Mad::decode(&b1, &b2), Err(MadError::Crc { .. })));
    }
}
