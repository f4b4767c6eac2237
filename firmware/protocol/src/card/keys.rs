//! Per-card sector keys: HMAC-SHA256 of the card master key over the UID
//! and the sector, truncated to 6 bytes. One cracked card (Crypto1 is
//! broken) gives away only its own keys.

use crate::auth::hmac_truncated;

/// The city's card master key. It never leaves the card office and the
/// validators.
pub type MasterKey = [u8; 16];

/// The demo's card master key. Anyone can read it here; never use it for
/// real cards.
pub const DEMO_MASTER: MasterKey = *b"kartka-demo-card";

/// Which of a sector's two keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    A,
    B,
}

/// The key of `sector` on the card with `uid`.
pub fn sector_key(master: &MasterKey, uid: &[u8], sector: u8, kind: KeyKind) -> [u8; 6] {
    let kind = match kind {
        KeyKind::A => b"A",
        KeyKind::B => b"B",
    };
    hmac_truncated(master, &[b"kartka-card-key-v1", kind, &[sector], uid])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_card_sector_kind_and_master() {
        let m = [1u8; 16];
        let k = sector_key(&m, &[1, 2, 3, 4], 1, KeyKind::A);
        assert_ne!(k, sector_key(&m, &[1, 2, 3, 5], 1, KeyKind::A));
        assert_ne!(k, sector_key(&m, &[1, 2, 3, 4], 2, KeyKind::A));
        assert_ne!(k, sector_key(&m, &[1, 2, 3, 4], 1, KeyKind::B));
        assert_ne!(k, sector_key(&[2u8; 16], &[1, 2, 3, 4], 1, KeyKind::A));
        assert_eq!(k, sector_key(&m, &[1, 2, 3, 4], 1, KeyKind::A));
    }
}
