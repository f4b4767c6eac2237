//! MIFARE value blocks: `v, !v, v` (i32 little-endian), then
//! `addr, !addr, addr, !addr`. The redundancy lets a reader tell a torn
//! write from a value.

use super::BLOCK;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAValue;

pub fn encode(value: i32, addr: u8) -> [u8; BLOCK] {
    let mut b = [0; BLOCK];
    let v = value.to_le_bytes();
    let inv = (!value).to_le_bytes();
    b[0..4].copy_from_slice(&v);
    b[4..8].copy_from_slice(&inv);
    b[8..12].copy_from_slice(&v);
    b[12..16].copy_from_slice(&[addr, !addr, addr, !addr]);
    b
}

/// The value and address, if the copies agree.
pub fn decode(b: &[u8; BLOCK]) -> Result<(i32, u8), NotAValue> {
    let at = |i: usize| i32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let (v, inv, v2) = (at(0), at(4), at(8));
    let addr = b[12];
    if v != v2 || v != !inv || b[13] != !addr || b[14] != addr || b[15] != !addr {
        return Err(NotAValue);
    }
    Ok((v, addr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_reference_example() {
        let b = [
            0x87, 0xD6, 0x12, 0x00, 0x78, 0x29, 0xED, 0xFF, 0x87, 0xD6, 0x12, 0x00, 0x11, 0xEE,
            0x11, 0xEE,
        ];
        assert_eq!(encode(1_234_567, 17), b);
        assert_eq!(decode(&b), Ok((1_234_567, 17)));
    }

    proptest! {
        #[test]
        fn values_round_trip_and_any_changed_byte_is_caught(v in any::<i32>(), addr in any::<u8>(), at in 0usize..16, x in 1u8..) {
            let mut b = encode(v, addr);
            prop_assert_eq!(decode(&b), Ok((v, addr)));
            b[at] ^= x;
            prop_assert_eq!(decode(&b), Err(NotAValue));
        }
    }
}
