//! Personalising a factory card: the block writes, in a safe order.
//!
//! Data blocks are written while the factory key still opens the sector;
//! each sector's trailer is written last, so a card pulled away mid-way is
//! left with the factory key (and can be written again), never with a
//! half-known key.

use super::access::Access;
use super::keys::{KeyKind, MasterKey, sector_key};
use super::mad::{MAD_GPB, MAD_KEY_A, Mad};
use super::transport::{APP_BLOCK, LAST_BLOCK, TRIPS_BLOCK, TransportApp};
use super::{BLOCK, TRANSPORT_SECTOR, Trailer, trailer_block, value};

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
        key_b: sector_key(master, uid, 0, KeyKind::B),
    };
    let transport_trailer = transport_trailer(master, uid);
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

/// The transport sector's trailer for the card with `uid`.
pub fn transport_trailer(master: &MasterKey, uid: &[u8]) -> Trailer {
    Trailer {
        key_a: sector_key(master, uid, TRANSPORT_SECTOR, KeyKind::A),
        access: Access::TRANSPORT,
        gpb: TRANSPORT_GPB,
        key_b: sector_key(master, uid, TRANSPORT_SECTOR, KeyKind::B),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::mad::TRANSPORT_AID;

    #[test]
    fn a_personalised_card_reads_back_with_derived_keys() {
        let master = [9u8; 16];
        let uid = [0x04, 0x11, 0x22, 0x33];
        let app = TransportApp {
            card: 10_000_007,
            category: 2,
            community: 0,
            valid_from: 20_000,
            valid_to: 21_000,
            issue: 1,
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
    }
}
