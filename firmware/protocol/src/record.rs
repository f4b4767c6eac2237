//! The tap record: what a validator remembers of one tap (P12).
//!
//! A fixed 29-byte little-endian layout, the same in the validator's flash
//! log and inside a dock batch, so nothing is re-encoded on the way:
//!
//! | bytes | field |
//! |---|---|
//! | 0..2 | validator id (u16) |
//! | 2..6 | sequence number (u32), the validator's own, never reused |
//! | 6..10 | time, UTC seconds since 1970 (u32) |
//! | 10..14 | card number (u32) |
//! | 14..21 | card UID, 4 or 7 bytes, zero-padded |
//! | 21 | bit 7: the UID has 7 bytes; bits 0..5: the result code |
//! | 22..24 | vehicle (u16) |
//! | 24..26 | route (u16) |
//! | 26 | tariff zone (u8) |
//! | 27..29 | the card's own trip counter after this tap (u16) |

use serde::{Deserialize, Serialize};

/// Bytes of one tap record.
pub const RECORD_LEN: usize = 29;

/// The card's UID: 4 bytes (single size) or 7 (double size).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Uid {
    len: u8,
    bytes: [u8; 7],
}

impl Uid {
    pub fn new(uid: &[u8]) -> Option<Uid> {
        if uid.len() != 4 && uid.len() != 7 {
            return None;
        }
        let mut bytes = [0; 7];
        bytes[..uid.len()].copy_from_slice(uid);
        Some(Uid {
            len: uid.len() as u8,
            bytes,
        })
    }

    pub fn four(uid: [u8; 4]) -> Uid {
        let mut bytes = [0; 7];
        bytes[..4].copy_from_slice(&uid);
        Uid { len: 4, bytes }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// What the validator decided. Anything but `Accepted` is not a paid trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum TapResult {
    /// A trip: green light.
    Accepted = 0,
    /// The same card in the same vehicle within the timeout (P13): blue
    /// light, the trip already counts, no new one.
    Repeat = 1,
    /// The card is on the blocklist (P9).
    Blocked = 2,
    /// The benefit's term is over.
    Expired = 3,
    /// The card is not valid yet.
    NotYetValid = 4,
    /// No kartka transport application, or its block fails its check.
    UnknownCard = 5,
    /// The sector key did not open the card: a clone or a foreign card.
    AuthFailed = 6,
    /// The card left the field or answered wrongly mid-way.
    CardError = 7,
    /// A trip limit is used up (P9).
    TripLimit = 8,
    /// The validator has no vehicle settings or no clock yet.
    NotConfigured = 9,
}

impl TapResult {
    pub const ALL: [TapResult; 10] = [
        TapResult::Accepted,
        TapResult::Repeat,
        TapResult::Blocked,
        TapResult::Expired,
        TapResult::NotYetValid,
        TapResult::UnknownCard,
        TapResult::AuthFailed,
        TapResult::CardError,
        TapResult::TripLimit,
        TapResult::NotConfigured,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<TapResult> {
        TapResult::ALL.get(code as usize).copied()
    }

    /// A stable English name, for logs and files.
    pub fn name(self) -> &'static str {
        match self {
            TapResult::Accepted => "accepted",
            TapResult::Repeat => "repeat",
            TapResult::Blocked => "blocked",
            TapResult::Expired => "expired",
            TapResult::NotYetValid => "not_yet_valid",
            TapResult::UnknownCard => "unknown_card",
            TapResult::AuthFailed => "auth_failed",
            TapResult::CardError => "card_error",
            TapResult::TripLimit => "trip_limit",
            TapResult::NotConfigured => "not_configured",
        }
    }
}

/// One tap, as the validator logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TapRecord {
    pub validator: u16,
    pub seq: u32,
    pub time: u32,
    pub card: u32,
    pub uid: Uid,
    pub vehicle: u16,
    pub route: u16,
    pub zone: u8,
    pub result: TapResult,
    pub trips: u16,
}

/// Why 29 bytes are not a tap record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The slice is not a whole number of records.
    Length(usize),
    /// An unknown result code: a newer validator, or damage.
    Result(u8),
}

impl core::fmt::Display for RecordError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RecordError::Length(n) => write!(
                f,
                "{n} bytes is not a whole number of {RECORD_LEN}-byte tap records"
            ),
            RecordError::Result(c) => write!(f, "unknown tap result code {c}"),
        }
    }
}

const UID7: u8 = 0x80;

impl TapRecord {
    pub fn to_bytes(&self) -> [u8; RECORD_LEN] {
        let mut b = [0; RECORD_LEN];
        b[0..2].copy_from_slice(&self.validator.to_le_bytes());
        b[2..6].copy_from_slice(&self.seq.to_le_bytes());
        b[6..10].copy_from_slice(&self.time.to_le_bytes());
        b[10..14].copy_from_slice(&self.card.to_le_bytes());
        b[14..21].copy_from_slice(&self.uid.bytes);
        b[21] = self.result.code() | if self.uid.len == 7 { UID7 } else { 0 };
        b[22..24].copy_from_slice(&self.vehicle.to_le_bytes());
        b[24..26].copy_from_slice(&self.route.to_le_bytes());
        b[26] = self.zone;
        b[27..29].copy_from_slice(&self.trips.to_le_bytes());
        b
    }

    pub fn from_bytes(b: &[u8]) -> Result<TapRecord, RecordError> {
        let b: &[u8; RECORD_LEN] = b.try_into().map_err(|_| RecordError::Length(b.len()))?;
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let code = b[21] & !UID7;
        let result = TapResult::from_code(code).ok_or(RecordError::Result(code))?;
        let mut uid = Uid {
            len: if b[21] & UID7 != 0 { 7 } else { 4 },
            bytes: [0; 7],
        };
        uid.bytes.copy_from_slice(&b[14..21]);
        Ok(TapRecord {
            validator: u16_at(0),
            seq: u32_at(2),
            time: u32_at(6),
            card: u32_at(10),
            uid,
            result,
            vehicle: u16_at(22),
            route: u16_at(24),
            zone: b[26],
            trips: u16_at(27),
        })
    }

    /// The records packed in a batch, one after another.
    pub fn iter_packed(bytes: &[u8]) -> impl Iterator<Item = Result<TapRecord, RecordError>> + '_ {
        let whole = bytes.len().is_multiple_of(RECORD_LEN);
        let tail = (!whole).then_some(Err(RecordError::Length(bytes.len())));
        bytes
            .chunks_exact(RECORD_LEN)
            .map(TapRecord::from_bytes)
            .filter(move |_| whole)
            .chain(tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub fn any_record() -> impl Strategy<Value = TapRecord> {
        (
            any::<(u16, u32, u32, u32)>(),
            prop_oneof![
                any::<[u8; 4]>().prop_map(Uid::four),
                any::<[u8; 7]>().prop_map(|u| Uid::new(&u).unwrap())
            ],
            any::<(u16, u16, u8, u16)>(),
            0..TapResult::ALL.len(),
        )
            .prop_map(
                |((validator, seq, time, card), uid, (vehicle, route, zone, trips), r)| TapRecord {
                    validator,
                    seq,
                    time,
                    card,
                    uid,
                    vehicle,
                    route,
                    zone,
                    result: TapResult::ALL[r],
                    trips,
                },
            )
    }

    proptest! {
        #[test]
        fn a_record_round_trips(r in any_record()) {
            prop_assert_eq!(TapRecord::from_bytes(&r.to_bytes()), Ok(r));
        }

        #[test]
        fn any_29_bytes_decode_or_name_the_result_code(b in any::<[u8; RECORD_LEN]>()) {
            match TapRecord::from_bytes(&b) {
                Ok(r) => prop_assert_eq!(&r.to_bytes()[..21], &b[..21]),
                Err(e) => prop_assert_eq!(e, RecordError::Result(b[21] & 0x7f)),
            }
        }
    }

    #[test]
    fn the_layout_is_little_endian_at_fixed_offsets() {
        let r = TapRecord {
            validator: 0x0102,
            seq: 0x03040506,
            time: 1_790_000_000,
            card: 10_000_042,
            uid: Uid::four([0xDE, 0xAD, 0xBE, 0xEF]),
            vehicle: 0x0708,
            route: 0x090A,
            zone: 2,
            result: TapResult::Repeat,
            trips: 300,
        };
        let b = r.to_bytes();
        assert_eq!(b[0..6], [0x02, 0x01, 0x06, 0x05, 0x04, 0x03]);
        assert_eq!(b[14..21], [0xDE, 0xAD, 0xBE, 0xEF, 0, 0, 0]);
        assert_eq!(b[21], 1);
        assert_eq!(b[27..29], [44, 1]);
        let seven = TapRecord {
            uid: Uid::new(&[1, 2, 3, 4, 5, 6, 7]).unwrap(),
            ..r
        };
        assert_eq!(seven.to_bytes()[21], 0x81);
        assert_eq!(
            TapRecord::from_bytes(&seven.to_bytes())
                .unwrap()
                .uid
                .as_bytes(),
            &[1, 2, 3, 4, 5, 6, 7]
        );
    }

    #[test]
    fn a_packed_run_that_is_not_whole_records_is_an_error() {
        let r = TapRecord::from_bytes(&[0; RECORD_LEN]).unwrap();
        let mut two = [0u8; 2 * RECORD_LEN];
        two[..RECORD_LEN].copy_from_slice(&r.to_bytes());
        two[RECORD_LEN..].copy_from_slice(&r.to_bytes());
        assert_eq!(TapRecord::iter_packed(&two).count(), 2);
        let errs: std::vec::Vec<_> = TapRecord::iter_packed(&two[..40]).collect();
        assert_eq!(errs, [Err(RecordError::Length(40))]);
    }
}
