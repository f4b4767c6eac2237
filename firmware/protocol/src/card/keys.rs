//! Per-card sector keys. One cracked card (Crypto1 is broken) gives away
//! only its own keys.
//!
//! - **Version 2** (cards of layout 2, [`super::transport`]): diversified
//!   as NXP AN10922 specifies for AES-128 (a CMAC of `0x01 ‖ M` padded to
//!   32 bytes), so a secure access module (SAM AV3) in a validator or an
//!   encoder holding the master key derives the same keys. MIFARE Classic
//!   keys are 6 bytes: the first 6 of the 16 (AN10922 defines no Crypto1
//!   output; truncating the AES-128 result is how SAM-based Classic
//!   systems are commonly set up, and the choice is written here). The
//!   diversification input M is the UID (4 or 7 bytes), the transport
//!   application's MAD AID low byte first (`01 18`), the sector, the key
//!   (`0x0A` Key A, `0x0B` Key B) and the system identifier `kartka`.
//! - **Version 1** (cards of layout 1, printed before): HMAC-SHA256 of the
//!   master key over a label, the key, the sector and the UID, cut to 6
//!   bytes. Still read; never written any more.
//!
//! A card does not say its key version before it is opened (the version
//! is inside the transport sector, whose keys it chooses): a validator
//! tries the current version first and the earlier one after
//! (`KeyVersion::ALL`), and the layout byte it then reads must agree.

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

use crate::auth::hmac_truncated;

/// The city's card master key (AES-128). It never leaves the card office,
/// the validators and their SAMs.
pub type MasterKey = [u8; 16];

/// The demo's card master key. Anyone can read it here; never use it for
/// real cards.
pub const DEMO_MASTER: MasterKey = *b"kartka-demo-card";

/// AN10922's system identifier for kartka's keys.
pub const SYSTEM_ID: &[u8] = b"kartka";

/// Which of a sector's two keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    A,
    B,
}

/// How a card's sector keys were derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyVersion {
    /// HMAC-SHA256, cards of layout 1.
    V1 = 1,
    /// NXP AN10922 AES-128, cards of layout 2.
    V2 = 2,
}

impl KeyVersion {
    /// The version new cards get.
    pub const CURRENT: KeyVersion = KeyVersion::V2;
    /// Every version a validator can open, newest first.
    pub const ALL: [KeyVersion; 2] = [KeyVersion::V2, KeyVersion::V1];
}

/// The current (version 2) key of `sector` on the card with `uid`.
pub fn sector_key(master: &MasterKey, uid: &[u8], sector: u8, kind: KeyKind) -> [u8; 6] {
    sector_key_of(KeyVersion::CURRENT, master, uid, sector, kind)
}

/// The key of `sector` on the card with `uid`, as `version` derives it.
pub fn sector_key_of(
    version: KeyVersion,
    master: &MasterKey,
    uid: &[u8],
    sector: u8,
    kind: KeyKind,
) -> [u8; 6] {
    match version {
        KeyVersion::V1 => {
            let k = match kind {
                KeyKind::A => b"A",
                KeyKind::B => b"B",
            };
            hmac_truncated(master, &[b"kartka-card-key-v1", k, &[sector], uid])
        }
        KeyVersion::V2 => {
            let mut m = [0u8; 31];
            let n = diversification_input(uid, sector, kind, &mut m);
            let key = an10922_aes128(master, &m[..n]);
            [key[0], key[1], key[2], key[3], key[4], key[5]]
        }
    }
}

/// AN10922's M for a sector key: UID ‖ AID (low byte first) ‖ sector ‖
/// key ‖ system identifier. Returns its length (at most 17 bytes).
pub fn diversification_input(uid: &[u8], sector: u8, kind: KeyKind, m: &mut [u8; 31]) -> usize {
    let aid = super::mad::TRANSPORT_AID.to_le_bytes();
    let uid = &uid[..uid.len().min(10)];
    let mut n = 0;
    for part in [
        uid,
        &aid[..],
        &[sector],
        &[match kind {
            KeyKind::A => 0x0A,
            KeyKind::B => 0x0B,
        }],
        SYSTEM_ID,
    ] {
        m[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    n
}

/// CMAC subkey doubling (NIST SP 800-38B, Rb = 0x87).
fn dbl(b: &[u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for i in 0..16 {
        let carry = if i < 15 { b[i + 1] >> 7 } else { 0 };
        out[i] = (b[i] << 1) | carry;
    }
    if b[0] & 0x80 != 0 {
        out[15] ^= 0x87;
    }
    out
}

/// NXP AN10922 AES-128 key diversification of `master` over `m` (1 to 31
/// bytes): the CMAC of `0x01 ‖ m`, padded with `80 00…` to exactly 32
/// bytes (not to the next block, as a plain CMAC would for a short `m`),
/// the last block masked with K2 when padded and K1 when not.
pub fn an10922_aes128(master: &MasterKey, m: &[u8]) -> [u8; 16] {
    assert!(
        !m.is_empty() && m.len() <= 31,
        "AN10922 takes 1 to 31 bytes"
    );
    let aes = Aes128::new(&Array::from(*master));
    let mut k0 = Array::default();
    aes.encrypt_block(&mut k0);
    let k1 = dbl(&k0.into());
    let k2 = dbl(&k1);
    let mut d = [0u8; 32];
    d[0] = 0x01;
    d[1..=m.len()].copy_from_slice(m);
    let padded = m.len() < 31;
    if padded {
        d[1 + m.len()] = 0x80;
    }
    let mask = if padded { k2 } else { k1 };
    let mut state: Array<u8, _> = Array::from(<[u8; 16]>::try_from(&d[..16]).expect("16 bytes"));
    aes.encrypt_block(&mut state);
    for i in 0..16 {
        state[i] ^= d[16 + i] ^ mask[i];
    }
    aes.encrypt_block(&mut state);
    state.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> std::vec::Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// NXP AN10922 §2.2.1, as libfreefare's test suite
    /// (test_mifare_key_deriver_an10922.c) and proxmark3's desfiretest.c
    /// reproduce it: UID 04782E21801D80, AID 3042F5, "NXP Abu".
    #[test]
    fn the_an10922_aes128_vector() {
        let master: MasterKey = unhex("00112233445566778899AABBCCDDEEFF")
            .try_into()
            .unwrap();
        let m = unhex("04782E21801D803042F54E585020416275");
        assert_eq!(
            an10922_aes128(&master, &m).to_vec(),
            unhex("A8DD63A3B89D54B37CA802473FDA9175")
        );
        // The CMAC subkeys of the note.
        let aes = Aes128::new(&Array::from(master));
        let mut k0 = Array::default();
        aes.encrypt_block(&mut k0);
        let k0: [u8; 16] = k0.into();
        assert_eq!(k0.to_vec(), unhex("FDE4FBAE4A09E020EFF722969F83832B"));
        assert_eq!(dbl(&k0).to_vec(), unhex("FBC9F75C9413C041DFEE452D3F0706D1"));
        assert_eq!(
            dbl(&dbl(&k0)).to_vec(),
            unhex("F793EEB928278083BFDC8A5A7E0E0D25")
        );
    }

    /// The short-M vector of AN10957 (libfreefare's
    /// test_mifare_key_deriver_an10922_aes128_short_m): padded to 32 bytes,
    /// not to 16 as a plain CMAC would (that gives 721E2C01…, libfreefare's
    /// issue 91).
    #[test]
    fn a_short_input_is_padded_to_two_blocks() {
        let master: MasterKey = unhex("F3F9377698707B688EAF84ABE39E3791")
            .try_into()
            .unwrap();
        let m = unhex("04DEADBEEFFEED");
        assert_eq!(
            an10922_aes128(&master, &m).to_vec(),
            unhex("0BB408BAFF98B6EE9F2E1585777F6A51")
        );
        assert_ne!(
            an10922_aes128(&master, &m).to_vec(),
            unhex("721E2C01E81AF85D815633969CEA2607")
        );
    }

    #[test]
    fn a_31_byte_input_is_not_padded_and_masked_with_k1() {
        // Against the plain CMAC, which agrees with AN10922 from 16 bytes.
        let master = [7u8; 16];
        let m = [0x5Au8; 31];
        let mut full = [0u8; 32];
        full[0] = 1;
        full[1..].copy_from_slice(&m);
        // CMAC of exactly two blocks: CBC with the last block masked by K1.
        let aes = Aes128::new(&Array::from(master));
        let mut k0 = Array::default();
        aes.encrypt_block(&mut k0);
        let k1 = dbl(&k0.into());
        let mut s: Array<u8, _> = Array::from(<[u8; 16]>::try_from(&full[..16]).unwrap());
        aes.encrypt_block(&mut s);
        for i in 0..16 {
            s[i] ^= full[16 + i] ^ k1[i];
        }
        aes.encrypt_block(&mut s);
        let expected: [u8; 16] = s.into();
        assert_eq!(an10922_aes128(&master, &m), expected);
    }

    #[test]
    fn the_diversification_input_names_uid_aid_sector_key_and_system() {
        let mut m = [0u8; 31];
        let n = diversification_input(&[0x04, 0x11, 0x22, 0x33], 1, KeyKind::B, &mut m);
        assert_eq!(&m[..n], b"\x04\x11\x22\x33\x01\x18\x01\x0Bkartka");
    }

    #[test]
    fn keys_differ_by_card_sector_kind_master_and_version() {
        for v in KeyVersion::ALL {
            let m = [1u8; 16];
            let k = sector_key_of(v, &m, &[1, 2, 3, 4], 1, KeyKind::A);
            assert_ne!(k, sector_key_of(v, &m, &[1, 2, 3, 5], 1, KeyKind::A));
            assert_ne!(k, sector_key_of(v, &m, &[1, 2, 3, 4], 2, KeyKind::A));
            assert_ne!(k, sector_key_of(v, &m, &[1, 2, 3, 4], 1, KeyKind::B));
            assert_ne!(
                k,
                sector_key_of(v, &[2u8; 16], &[1, 2, 3, 4], 1, KeyKind::A)
            );
            assert_eq!(k, sector_key_of(v, &m, &[1, 2, 3, 4], 1, KeyKind::A));
        }
        let m = [1u8; 16];
        assert_ne!(
            sector_key_of(KeyVersion::V1, &m, &[1, 2, 3, 4], 1, KeyKind::A),
            sector_key_of(KeyVersion::V2, &m, &[1, 2, 3, 4], 1, KeyKind::A)
        );
        // Version 2's key is the first six bytes of AN10922's output.
        let mut input = [0u8; 31];
        let n = diversification_input(&[1, 2, 3, 4], 1, KeyKind::A, &mut input);
        assert_eq!(
            sector_key(&m, &[1, 2, 3, 4], 1, KeyKind::A),
            an10922_aes128(&m, &input[..n])[..6]
        );
    }
}
