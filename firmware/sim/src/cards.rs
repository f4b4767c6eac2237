//! The passengers' cards: issued on first use, kept between taps, so trip
//! counters and last validations carry over as on real cards.

use kartka_protocol::card::keys::MasterKey;
use kartka_protocol::card::transport::TransportApp;
use kartka_validator::fake::{VirtualCard, issued_card};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub struct Wallet {
    master: MasterKey,
    cards: HashMap<u32, VirtualCard>,
    /// Days since 1970 the cards are valid from and to.
    pub valid: (u16, u16),
}

/// A card's UID, the same for the same card number every run: 4 bytes,
/// first byte not 0x88 (the cascade tag).
pub fn uid_of(card: u32) -> [u8; 4] {
    let h = Sha256::digest(card.to_le_bytes());
    let mut uid = [h[0], h[1], h[2], h[3]];
    if uid[0] == 0x88 {
        uid[0] = 0x89;
    }
    uid
}

impl Wallet {
    pub fn new(master: MasterKey, valid: (u16, u16)) -> Wallet {
        Wallet {
            master,
            cards: HashMap::new(),
            valid,
        }
    }

    /// The card, issued now if it never was.
    pub fn take(&mut self, card: u32) -> VirtualCard {
        self.cards.remove(&card).unwrap_or_else(|| {
            let app = TransportApp {
                layout: kartka_protocol::card::transport::LAYOUT_VERSION,
                trip_limit: 0,
                card,
                category: (card % 11) as u8,
                community: (card % 4) as u16,
                valid_from: self.valid.0,
                valid_to: self.valid.1,
                issue: 1,
            };
            issued_card(&self.master, uid_of(card), &app)
        })
    }

    pub fn put_back(&mut self, card: u32, v: VirtualCard) {
        self.cards.insert(card, v);
    }
}
