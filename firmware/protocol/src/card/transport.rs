//! The transport application's blocks (sector 1).
//!
//! Block 4, the application:
//!
//! | bytes | field |
//! |---|---|
//! | 0 | layout version (1) |
//! | 1..5 | card number (u32 LE) |
//! | 5 | benefit category (index in the city's list) |
//! | 6..8 | community (index in the city's list) |
//! | 8..10 | valid from, days since 1970-01-01, local date (u16 LE) |
//! | 10..12 | valid to, inclusive, likewise |
//! | 12 | issue number: 1 for the first card, +1 per reissue (P8) |
//! | 13 | flags (0) |
//! | 14..16 | CRC-16 of bytes 0..14 |
//!
//! Block 6, the last validation (for the inspection mode, P15, and the
//! per-vehicle timeout across a bus's validators, P13):
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | time, UTC seconds |
//! | 4..6 | vehicle |
//! | 6..8 | route |
//! | 8..10 | validator |
//! | 10 | tariff zone |
//! | 11..14 | 0 |
//! | 14..16 | CRC-16 of bytes 0..14 |

use super::BLOCK;
use crate::CRC16;

pub const LAYOUT_VERSION: u8 = 1;
/// Block of the application data.
pub const APP_BLOCK: u8 = 4;
/// Block of the trip counter (a value block).
pub const TRIPS_BLOCK: u8 = 5;
/// Block of the last validation.
pub const LAST_BLOCK: u8 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportApp {
    pub card: u32,
    pub category: u8,
    pub community: u16,
    pub valid_from: u16,
    pub valid_to: u16,
    pub issue: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The CRC does not match: never written, torn, or not ours.
    Crc,
    /// A layout this firmware does not know.
    Layout(u8),
}

fn seal(mut b: [u8; BLOCK]) -> [u8; BLOCK] {
    let crc = CRC16.checksum(&b[..14]);
    b[14..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn check(b: &[u8; BLOCK]) -> Result<(), BlockError> {
    if CRC16.checksum(&b[..14]).to_le_bytes() == b[14..] {
        Ok(())
    } else {
        Err(BlockError::Crc)
    }
}

impl TransportApp {
    pub fn to_block(&self) -> [u8; BLOCK] {
        let mut b = [0; BLOCK];
        b[0] = LAYOUT_VERSION;
        b[1..5].copy_from_slice(&self.card.to_le_bytes());
        b[5] = self.category;
        b[6..8].copy_from_slice(&self.community.to_le_bytes());
        b[8..10].copy_from_slice(&self.valid_from.to_le_bytes());
        b[10..12].copy_from_slice(&self.valid_to.to_le_bytes());
        b[12] = self.issue;
        seal(b)
    }

    pub fn from_block(b: &[u8; BLOCK]) -> Result<TransportApp, BlockError> {
        check(b)?;
        if b[0] != LAYOUT_VERSION {
            return Err(BlockError::Layout(b[0]));
        }
        Ok(TransportApp {
            card: u32::from_le_bytes([b[1], b[2], b[3], b[4]]),
            category: b[5],
            community: u16::from_le_bytes([b[6], b[7]]),
            valid_from: u16::from_le_bytes([b[8], b[9]]),
            valid_to: u16::from_le_bytes([b[10], b[11]]),
            issue: b[12],
        })
    }

    /// Whether the card is valid on `day` (days since 1970, local date).
    pub fn valid_on(&self, day: u16) -> Result<(), Validity> {
        if day < self.valid_from {
            Err(Validity::NotYet)
        } else if day > self.valid_to {
            Err(Validity::Expired)
        } else {
            Ok(())
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    NotYet,
    Expired,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct LastValidation {
    pub time: u32,
    pub vehicle: u16,
    pub route: u16,
    pub validator: u16,
    pub zone: u8,
}

impl LastValidation {
    pub fn to_block(&self) -> [u8; BLOCK] {
        let mut b = [0; BLOCK];
        b[0..4].copy_from_slice(&self.time.to_le_bytes());
        b[4..6].copy_from_slice(&self.vehicle.to_le_bytes());
        b[6..8].copy_from_slice(&self.route.to_le_bytes());
        b[8..10].copy_from_slice(&self.validator.to_le_bytes());
        b[10] = self.zone;
        seal(b)
    }

    /// `None` for a card never validated (or a torn write).
    pub fn from_block(b: &[u8; BLOCK]) -> Option<LastValidation> {
        check(b).ok()?;
        (b[..14] != [0; 14]).then(|| LastValidation {
            time: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            vehicle: u16::from_le_bytes([b[4], b[5]]),
            route: u16::from_le_bytes([b[6], b[7]]),
            validator: u16::from_le_bytes([b[8], b[9]]),
            zone: b[10],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_application_round_trips_and_damage_is_caught(
            card in any::<u32>(), category in any::<u8>(), community in any::<u16>(),
            from in any::<u16>(), to in any::<u16>(), issue in any::<u8>(), at in 0usize..16, x in 1u8..
        ) {
            let app = TransportApp { card, category, community, valid_from: from, valid_to: to, issue };
            let mut b = app.to_block();
            prop_assert_eq!(TransportApp::from_block(&b), Ok(app));
            b[at] ^= x;
            prop_assert!(TransportApp::from_block(&b).is_err());
        }

        #[test]
        fn the_last_validation_round_trips(time in 1u32.., vehicle in any::<u16>(), route in any::<u16>(), validator in any::<u16>(), zone in any::<u8>()) {
            let last = LastValidation { time, vehicle, route, validator, zone };
            prop_assert_eq!(LastValidation::from_block(&last.to_block()), Some(last));
        }
    }

    #[test]
    fn an_empty_block_is_never_validated_and_validity_is_inclusive() {
        assert_eq!(LastValidation::from_block(&[0; 16]), None);
        assert_eq!(TransportApp::from_block(&[0; 16]), Err(BlockError::Crc));
        let app = TransportApp {
            card: 1,
            category: 0,
            community: 0,
            valid_from: 100,
            valid_to: 200,
            issue: 1,
        };
        assert_eq!(app.valid_on(99), Err(Validity::NotYet));
        assert_eq!(app.valid_on(100), Ok(()));
        assert_eq!(app.valid_on(200), Ok(()));
        assert_eq!(app.valid_on(201), Err(Validity::Expired));
    }
}
