//! Personalising a factory card: the block writes, in a safe order; and
//! the whole 1K image a card of kartka's should hold (what `kartka cards
//! image` writes as a Proxmark3 dump and `cards inspect` compares with).
//!
//! Data blocks are written while the factory key still opens the sector;
//! each sector's trailer is written last, so a card pulled away mid-way is
//! left with the factory key (and can be written again), never with a
//! half-known key. The keys are the version the card's layout names.

use super::access::Access;
use super::keys::{KeyKind, MasterKey, sector_key_of};
use super::mad::{MAD_GPB, MAD_KEY_A, Mad};
use super::transport::{APP_BLOCK, LAST_BLOCK, LastValidation, TRIPS_BLOCK, TransportApp};
use super::{BLOCK, BLOCKS, TRANSPORT_SECTOR, Trailer, trailer_block, value};

/// SAK of a MIFARE Classic 1K.
pub const SAK: u8 = 0x08;
/// ATQA of a 4-byte-UID MIFARE Classic 1K, as block 0 stores it.
pub const ATQA: [u8; 2] = [0x04, 0x00];
/// A factory sector trailer: keys FF…FF, access bits `FF 07 80`, GPB 0x69.
pub const FACTORY_TRAILER: [u8; BLOCK] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x80, 0x69, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

/// Block 0 of a card with a 4-byte `uid`: UID, BCC, SAK, ATQA (the rest
/// is the manufacturer's; zeros here).
pub fn block0(uid: &[u8; 4]) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    b[..4].copy_from_slice(uid);
    b[4] = uid[0] ^ uid[1] ^ uid[2] ^ uid[3];
    b[5] = SAK;
    b[6..8].copy_from_slice(&ATQA);
    b
}

/// A factory card's 1K: block 0, zero data, factory trailers.
pub fn factory(uid: &[u8; 4]) -> [[u8; BLOCK]; BLOCKS] {
    let mut blocks = [[0u8; BLOCK]; BLOCKS];
    blocks[0] = block0(uid);
    for sector in 0..(BLOCKS / 4) as u8 {
        blocks[trailer_block(sector) as usize] = FACTORY_TRAILER;
    }
    blocks
}

/// The whole image of a kartka card: a factory card personalised, with
/// its trip counter at `trips` and its last validation, if any.
pub fn card(
    master: &MasterKey,
    uid: &[u8; 4],
    app: &TransportApp,
    trips: i32,
    last: Option<&LastValidation>,
) -> [[u8; BLOCK]; BLOCKS] {
    let mut blocks = factory(uid);
    for w in personalise(master, uid, app) {
        blocks[w.block as usize] = w.data;
    }
    blocks[TRIPS_BLOCK as usize] = value::encode(trips, TRIPS_BLOCK);
    if let Some(l) = last {
        blocks[LAST_BLOCK as usize] = l.to_block();
    }
    blocks
}

/// A factory card's key.
pub const FACTORY_KEY: [u8; 6] = [0xFF; 6];
/// GPB of kartka's transport trailer (the factory value).
pub const TRANSPORT_GPB: u8 = 0x69;

/// One block write: authenticate the block's sector with `key` (Key A),
/// then write `data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    pub block: u8,
    pub key: [u8; 6],
    pub data: [u8; BLOCK],
}

/// The writes that turn a factory card with `uid` into a kartka card.
pub fn personalise(master: &MasterKey, uid: &[u8], app: &TransportApp) -> [Write; 7] {
    let [mad1, mad2] = Mad::with_transport(TRANSPORT_SECTOR).encode();
    let mad_trailer = Trailer {
        key_a: MAD_KEY_A,
        access: Access::MAD,
        gpb: MAD_GPB,
        key_b: sector_key_of(app.key_version(), master, uid, 0, KeyKind::B),
    };
    let transport_trailer = transport_trailer(master, uid, app);
    let w = |block, data| Write {
        block,
        key: FACTORY_KEY,
        data,
    };
    [
        w(1, mad1),
        w(2, mad2),
        w(trailer_block(0), mad_trailer.to_block()),
        w(APP_BLOCK, app.to_block()),
        w(TRIPS_BLOCK, value::encode(0, TRIPS_BLOCK)),
        w(LAST_BLOCK, [0; BLOCK]),
        w(
            trailer_block(TRANSPORT_SECTOR),
            transport_trailer.to_block(),
        ),
    ]
}

/// The transport sector's trailer for the card with `uid`, keyed as its
/// layout says.
pub fn transport_trailer(master: &MasterKey, uid: &[u8], app: &TransportApp) -> Trailer {
    let v = app.key_version();
    Trailer {
        key_a: sector_key_of(v, master, uid, TRANSPORT_SECTOR, KeyKind::A),
        access: Access::TRANSPORT,
        gpb: TRANSPORT_GPB,
        key_b: sector_key_of(v, master, uid, TRANSPORT_SECTOR, KeyKind::B),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::keys::{KeyVersion, sector_key};
    use crate::card::mad::TRANSPORT_AID;
    use crate::card::transport::LAYOUT_VERSION;

    #[test]
    fn a_personalised_card_reads_back_with_derived_keys() {
        let master = [9u8; 16];
        let uid = [0x04, 0x11, 0x22, 0x33];
        let app = TransportApp {
            layout: LAYOUT_VERSION,
            card: 10_000_007,
            category: 2,
            community: 0,
            valid_from: 20_000,
            valid_to: 21_000,
            issue: 1,
            trip_limit: 40,
        };
        let writes = personalise(&master, &uid, &app);
        let mut blocks = [[0u8; BLOCK]; 64];
        for w in writes {
            assert_eq!(w.key, FACTORY_KEY);
            blocks[w.block as usize] = w.data;
        }
        // Trailers come after their sector's data.
        let order: std::vec::Vec<u8> = writes.iter().map(|w| w.block).collect();
        assert_eq!(order, [1, 2, 3, 4, 5, 6, 7]);
        let mad = Mad::decode(&blocks[1], &blocks[2]).unwrap();
        assert_eq!(mad.find(TRANSPORT_AID), Some(TRANSPORT_SECTOR));
        assert_eq!(blocks[3][6..10], [0x78, 0x77, 0x88, 0xC1]);
        assert_eq!(blocks[7][6..9], [0xFF, 0x07, 0x80]);
        assert_eq!(blocks[7][..6], sector_key(&master, &uid, 1, KeyKind::A));
        assert_eq!(TransportApp::from_block(&blocks[4]), Ok(app));
        assert_eq!(value::decode(&blocks[5]), Ok((0, 5)));
        // A layout-1 card (printed before) gets version-1 keys.
        let old = TransportApp {
            layout: 1,
            trip_limit: 0,
            ..app
        };
        let t = transport_trailer(&master, &uid, &old);
        assert_eq!(
            t.key_a,
            sector_key_of(KeyVersion::V1, &master, &uid, 1, KeyKind::A)
        );
        assert_ne!(t.key_a, blocks[7][..6]);
    }

    #[test]
    fn the_whole_image_is_a_factory_card_personalised() {
        let uid = [0x04, 0xA1, 0xB2, 0xC3];
        let app = TransportApp {
            layout: LAYOUT_VERSION,
            card: 10_000_015,
            category: 1,
            community: 2,
            valid_from: 20_000,
            valid_to: 21_000,
            issue: 2,
            trip_limit: 0,
        };
        let last = LastValidation {
            time: 1_790_000_000,
            vehicle: 1012,
            route: 7,
            validator: 3,
            zone: 1,
            month_trips: 4,
        };
        let img = card(&DEMO, &uid, &app, 17, Some(&last));
        assert_eq!(
            img[0][..8],
            [
                0x04,
                0xA1,
                0xB2,
                0xC3,
                0x04 ^ 0xA1 ^ 0xB2 ^ 0xC3,
                0x08,
                0x04,
                0x00
            ]
        );
        assert_eq!(value::decode(&img[5]), Ok((17, 5)));
        assert_eq!(LastValidation::from_block(&img[6]), Some(last));
        for sector in 2..16u8 {
            assert_eq!(img[trailer_block(sector) as usize], FACTORY_TRAILER);
        }
        assert_eq!(
            Trailer::from_block(&FACTORY_TRAILER).unwrap().access,
            Access::TRANSPORT
        );
    }

    const DEMO: MasterKey = crate::card::keys::DEMO_MASTER;
}
