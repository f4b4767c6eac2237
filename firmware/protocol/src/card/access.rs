//! Sector access bits: three bits (C1 C2 C3) for each of a sector's four
//! blocks, stored with their inverses in trailer bytes 6–8.
//!
//! ```text
//! byte6 = (~C2 << 4) | (~C1 & 0xF)
//! byte7 = ( C1 << 4) | (~C3 & 0xF)
//! byte8 = ( C3 << 4) |  C2
//! ```
//!
//! A trailer whose bits and inverses disagree locks the sector for ever, so
//! [`Access::decode`] refuses one, and the encoder is tested against the
//! known values before anything writes a card.

/// C1 C2 C3 of one block, as a 3-bit number `C1<<2 | C2<<1 | C3`.
pub type Condition = u8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// Blocks 0, 1, 2 and the trailer (3).
    pub blocks: [Condition; 4],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError {
    pub bytes: [u8; 3],
}

impl core::fmt::Display for AccessError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let [a, b, c] = self.bytes;
        write!(
            f,
            "access bits {a:02X} {b:02X} {c:02X} disagree with their inverted copy; writing them would lock the sector"
        )
    }
}

impl Access {
    /// The factory ("transport") configuration: Key A reads and writes every
    /// data block and writes the trailer. `FF 07 80`. kartka's transport
    /// sector uses it with a per-card Key A, since the `mfrc522` driver can
    /// only authenticate with Key A.
    pub const TRANSPORT: Access = Access {
        blocks: [0b000, 0b000, 0b000, 0b001],
    };

    /// The MAD sector: anyone reads with Key A, only Key B writes.
    /// `78 77 88`.
    pub const MAD: Access = Access {
        blocks: [0b100, 0b100, 0b100, 0b011],
    };

    fn bit(&self, c: u8) -> u8 {
        // Nibble of Cc across blocks 0..3 (c = 1, 2, 3).
        (0..4).fold(0, |n, block| {
            n | (((self.blocks[block] >> (3 - c)) & 1) << block)
        })
    }

    pub fn encode(&self) -> [u8; 3] {
        let (c1, c2, c3) = (self.bit(1), self.bit(2), self.bit(3));
        [
            ((!c2 & 0xF) << 4) | (!c1 & 0xF),
            (c1 << 4) | (!c3 & 0xF),
            (c3 << 4) | c2,
        ]
    }

    pub fn decode(bytes: [u8; 3]) -> Result<Access, AccessError> {
        let [b6, b7, b8] = bytes;
        let (c1, c2, c3) = (b7 >> 4, b8 & 0xF, b8 >> 4);
        if (!b6 & 0xF) != c1 || (!b6 >> 4) != c2 || (!b7 & 0xF) != c3 {
            return Err(AccessError { bytes });
        }
        let mut blocks = [0; 4];
        for (block, cond) in blocks.iter_mut().enumerate() {
            let at = |n: u8| (n >> block) & 1;
            *cond = (at(c1) << 2) | (at(c2) << 1) | at(c3);
        }
        Ok(Access { blocks })
    }

    /// Whether Key A may read a data block (0–2) under these bits (MF1S50
    /// datasheet, table 8).
    pub fn key_a_reads(&self, block: usize) -> bool {
        matches!(self.blocks[block], 0b000 | 0b010 | 0b100 | 0b110 | 0b001)
    }

    /// Whether Key A may write a data block (0–2).
    pub fn key_a_writes(&self, block: usize) -> bool {
        self.blocks[block] == 0b000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_known_trailers_encode_to_the_reference_bytes() {
        assert_eq!(Access::TRANSPORT.encode(), [0xFF, 0x07, 0x80]);
        assert_eq!(Access::MAD.encode(), [0x78, 0x77, 0x88]);
        assert_eq!(Access::decode([0xFF, 0x07, 0x80]), Ok(Access::TRANSPORT));
        assert_eq!(Access::decode([0x78, 0x77, 0x88]), Ok(Access::MAD));
    }

    #[test]
    fn a_trailer_that_would_brick_the_sector_is_refused_with_its_bytes() {
        let err = Access::decode([0xFF, 0x07, 0x81]).unwrap_err();
        assert_eq!(err.bytes, [0xFF, 0x07, 0x81]);
        assert!(std::format!("{err}").contains("FF 07 81"));
    }

    #[test]
    fn key_a_rights_follow_the_datasheet() {
        assert!(Access::TRANSPORT.key_a_reads(0) && Access::TRANSPORT.key_a_writes(0));
        assert!(Access::MAD.key_a_reads(1) && !Access::MAD.key_a_writes(1));
    }

    proptest! {
        #[test]
        fn every_condition_round_trips(blocks in any::<[u8; 4]>()) {
            let access = Access { blocks: blocks.map(|b| b & 7) };
            prop_assert_eq!(Access::decode(access.encode()), Ok(access));
        }

        #[test]
        fn only_consistent_bytes_decode(bytes in any::<[u8; 3]>()) {
            if let Ok(a) = Access::decode(bytes) {
                prop_assert_eq!(a.encode(), bytes);
            }
        }
    }
}
