//! Keys and MACs: HMAC-SHA256, truncated.
//!
//! - Each validator has its own 16-byte dock key, derived on the host from
//!   the city's dock master key and the validator id; the validator holds
//!   only its own. Every frame but the host's opening `Hi` carries a MAC
//!   under it, so the host refuses a forged or edited dump and the validator
//!   refuses a forged clock, blocklist or settings.
//! - The MAC also covers both sides' nonces for this session, so a frame
//!   recorded from an earlier docking cannot be replayed.
//! - Each card's sector key is derived from the card master key and the
//!   card's UID (see [`crate::card::keys`]): one cracked card reveals no
//!   other.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the MAC carried by each frame.
pub const MAC_LEN: usize = 8;

/// A validator's dock key.
pub type DockKey = [u8; 16];

/// The two nonces of one docking: the host's from `Hi`, the validator's
/// from `Hello`. Before the `Hello`, the validator nonce is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Session {
    pub host_nonce: u32,
    pub validator_nonce: u32,
}

impl Session {
    fn to_bytes(self) -> [u8; 8] {
        let mut b = [0; 8];
        b[..4].copy_from_slice(&self.host_nonce.to_le_bytes());
        b[4..].copy_from_slice(&self.validator_nonce.to_le_bytes());
        b
    }
}

/// HMAC-SHA256 over `parts`, in order, truncated to `N` bytes.
pub fn hmac_truncated<const N: usize>(key: &[u8], parts: &[&[u8]]) -> [u8; N] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    let full = mac.finalize().into_bytes();
    let mut out = [0; N];
    out.copy_from_slice(&full[..N]);
    out
}

/// The MAC of a frame's signed bytes in a session.
pub fn frame_mac(key: &DockKey, session: Session, signed: &[u8]) -> [u8; MAC_LEN] {
    hmac_truncated(key, &[b"kartka-dock-v1", &session.to_bytes(), signed])
}

/// Compares two MACs in constant time.
pub fn mac_eq(a: &[u8; MAC_LEN], b: &[u8; MAC_LEN]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The demo's dock master key: what `kartka-sim` and the demo use when no
/// key is given. Anyone can read it here; never provision it.
pub const DEMO_DOCK_MASTER: [u8; 16] = *b"kartka-demo-dock";

/// The dock key of one validator, from the city's dock master key.
pub fn validator_key(master: &[u8], validator: u16) -> DockKey {
    hmac_truncated(
        master,
        &[b"kartka-validator-key-v1", &validator.to_le_bytes()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231_case_2() {
        let mac: [u8; 32] = hmac_truncated(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(mac[..8], [0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e]);
    }

    #[test]
    fn keys_differ_by_validator_and_macs_by_session() {
        let master = [7u8; 32];
        assert_ne!(validator_key(&master, 1), validator_key(&master, 2));
        let key = validator_key(&master, 1);
        let s1 = Session {
            host_nonce: 1,
            validator_nonce: 2,
        };
        let s2 = Session {
            host_nonce: 1,
            validator_nonce: 3,
        };
        assert_ne!(frame_mac(&key, s1, b"x"), frame_mac(&key, s2, b"x"));
        assert!(mac_eq(
            &frame_mac(&key, s1, b"x"),
            &frame_mac(&key, s1, b"x")
        ));
        assert!(!mac_eq(
            &frame_mac(&key, s1, b"x"),
            &frame_mac(&key, s1, b"y")
        ));
    }
}
