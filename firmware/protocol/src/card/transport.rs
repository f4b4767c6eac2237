//! The transport application's blocks (sector 1).
//!
//! Block 4, the application:
//!
//! | bytes | field |
//! |---|---|
//! | 0 | layout version: 2 (keys by AN10922, [`super::keys`]); 1 on cards printed before (keys by HMAC) |
//! | 1..5 | card number (u32 LE) |
//! | 5 | benefit category (index in the city's list) |
//! | 6..8 | community (index in the city's list) |
//! | 8..10 | valid from, days since 1970-01-01, local date (u16 LE) |
//! | 10..12 | valid to, inclusive, likewise |
//! | 12 | issue number: 1 for the first card, +1 per reissue (P8) |
//! | 13 | layout 2: trips a month (P9's trip limit), 0 for none; layout 1: 0 |
//! | 14..16 | CRC-16 of bytes 0..14 |
//!
//! Block 6, the last validation (for the inspection mode, P15, the
//! per-vehicle timeout across a bus's validators, P13, and the trip
//! limit, P9):
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | time, UTC seconds |
//! | 4..6 | vehicle |
//! | 6..8 | route |
//! | 8..10 | validator |
//! | 10 | tariff zone |
//! | 11..13 | trips in the local month of `time` (u16 LE); 0 on layout 1 |
//! | 13 | 0 |
//! | 14..16 | CRC-16 of bytes 0..14 |

use super::BLOCK;
use super::keys::KeyVersion;
use crate::CRC16;

/// The layout new cards get.
pub const LAYOUT_VERSION: u8 = 2;
/// Block of the application data.
pub const APP_BLOCK: u8 = 4;
/// Block of the trip counter (a value block).
pub const TRIPS_BLOCK: u8 = 5;
/// Block of the last validation.
pub const LAST_BLOCK: u8 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportApp {
    /// 2, or 1 for a card printed before AN10922 keys.
    pub layout: u8,
    pub card: u32,
    pub category: u8,
    pub community: u16,
    pub valid_from: u16,
    pub valid_to: u16,
    pub issue: u8,
    /// Trips a month (P9), 0 for no limit (always 0 on layout 1).
    pub trip_limit: u8,
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
    /// How the card's sector keys are derived.
    pub fn key_version(&self) -> KeyVersion {
        if self.layout == 1 {
            KeyVersion::V1
        } else {
            KeyVersion::V2
        }
    }

    pub fn to_block(&self) -> [u8; BLOCK] {
        let mut b = [0; BLOCK];
        b[0] = self.layout;
        b[1..5].copy_from_slice(&self.card.to_le_bytes());
        b[5] = self.category;
        b[6..8].copy_from_slice(&self.community.to_le_bytes());
        b[8..10].copy_from_slice(&self.valid_from.to_le_bytes());
        b[10..12].copy_from_slice(&self.valid_to.to_le_bytes());
        b[12] = self.issue;
        if self.layout >= 2 {
            b[13] = self.trip_limit;
        }
        seal(b)
    }

    pub fn from_block(b: &[u8; BLOCK]) -> Result<TransportApp, BlockError> {
        check(b)?;
        if !(1..=LAYOUT_VERSION).contains(&b[0]) {
            return Err(BlockError::Layout(b[0]));
        }
        Ok(TransportApp {
            layout: b[0],
            card: u32::from_le_bytes([b[1], b[2], b[3], b[4]]),
            category: b[5],
            community: u16::from_le_bytes([b[6], b[7]]),
            valid_from: u16::from_le_bytes([b[8], b[9]]),
            valid_to: u16::from_le_bytes([b[10], b[11]]),
            issue: b[12],
            trip_limit: if b[0] >= 2 { b[13] } else { 0 },
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
    /// Trips in the local month of `time`, this one included (P9).
    pub month_trips: u16,
}

impl LastValidation {
    pub fn to_block(&self) -> [u8; BLOCK] {
        let mut b = [0; BLOCK];
        b[0..4].copy_from_slice(&self.time.to_le_bytes());
        b[4..6].copy_from_slice(&self.vehicle.to_le_bytes());
        b[6..8].copy_from_slice(&self.route.to_le_bytes());
        b[8..10].copy_from_slice(&self.validator.to_le_bytes());
        b[10] = self.zone;
        b[11..13].copy_from_slice(&self.month_trips.to_le_bytes());
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
            month_trips: u16::from_le_bytes([b[11], b[12]]),
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
            from in any::<u16>(), to in any::<u16>(), issue in any::<u8>(), at in 0usize..16, x in 1u8..,
            layout in 1u8..=2, limit in any::<u8>()
        ) {
            let trip_limit = if layout == 1 { 0 } else { limit };
            let app = TransportApp { layout, card, category, community, valid_from: from, valid_to: to, issue, trip_limit };
            let mut b = app.to_block();
            prop_assert_eq!(TransportApp::from_block(&b), Ok(app));
            b[at] ^= x;
            prop_assert!(TransportApp::from_block(&b).is_err());
        }

        #[test]
        fn the_last_validation_round_trips(time in 1u32.., vehicle in any::<u16>(), route in any::<u16>(), validator in any::<u16>(), zone in any::<u8>(), month_trips in any::<u16>()) {
            let last = LastValidation { time, vehicle, route, validator, zone, month_trips };
            prop_assert_eq!(LastValidation::from_block(&last.to_block()), Some(last));
        }
    }

    /// A card printed before layout 2 still reads: its keys are version
    /// 1, it has no trip limit, and a layout after 2 is refused by name.
    #[test]
    fn a_layout_1_card_reads_with_version_1_keys_and_no_limit() {
        let mut b = [0u8; 16];
        b[0] = 1;
        b[1..5].copy_from_slice(&10_000_007u32.to_le_bytes());
        b[12] = 1;
        b[13] = 9; // was "flags (0)": never a limit on layout 1
        let b = seal(b);
        let app = TransportApp::from_block(&b).unwrap();
        assert_eq!((app.layout, app.trip_limit), (1, 0));
        assert_eq!(app.key_version(), KeyVersion::V1);
        let mut v3 = b;
        v3[0] = 3;
        assert_eq!(
            TransportApp::from_block(&seal(v3)),
            Err(BlockError::Layout(3))
        );
    }

    #[test]
    fn an_empty_block_is_never_validated_and_validity_is_inclusive() {
        assert_eq!(LastValidation::from_block(&[0; 16]), None);
        assert_eq!(TransportApp::from_block(&[0; 16]), Err(BlockError::Crc));
        let app = TransportApp {
            layout: LAYOUT_VERSION,
            card: 1,
            category: 0,
            community: 0,
            valid_from: 100,
            valid_to: 200,
            issue: 1,
            trip_limit: 0,
        };
        assert_eq!(app.valid_on(99), Err(Validity::NotYet));
        assert_eq!(app.valid_on(100), Ok(()));
        assert_eq!(app.valid_on(200), Ok(()));
        assert_eq!(app.valid_on(201), Err(Validity::Expired));
    }
}
