//! `encoding.json`: for each card of a print job, the MIFARE Classic 1K
//! images to write, for the printer's encoder or a desk reader. The blocks
//! come from `kartka_protocol::card::image::personalise`, the one
//! definition of the card layout: MAD (sector 0), the transport
//! application (sector 1), and both trailers with the card's own keys,
//! derived from the master key and the UID. Writes are listed in a safe
//! order (trailers last), each with the Key A that opens its sector.
//!
//! The file holds the card keys: the job folder is the owner's only.

use kartka_protocol::card::image::{Write, personalise};
use kartka_protocol::card::keys::MasterKey;
use kartka_protocol::card::sector_of;
use kartka_protocol::card::transport::TransportApp;

pub const FORMAT: &str = "kartka-card-encoding";
pub const FORMAT_VERSION: u32 = 1;

/// One card to encode.
pub struct ToEncode {
    pub number: u32,
    pub uid: [u8; 4],
    pub app: TransportApp,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn writes_json(writes: &[Write]) -> serde_json::Value {
    serde_json::Value::Array(
        writes
            .iter()
            .map(|w| {
                serde_json::json!({
                    "sector": sector_of(w.block),
                    "block": w.block,
                    "key_a": hex(&w.key),
                    "data": hex(&w.data),
                })
            })
            .collect(),
    )
}

/// The sector images: sector → block → data.
fn sectors_json(writes: &[Write]) -> serde_json::Value {
    let mut sectors = serde_json::Map::new();
    for w in writes {
        let entry = sectors
            .entry(sector_of(w.block).to_string())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let serde_json::Value::Object(blocks) = entry {
            blocks.insert(w.block.to_string(), serde_json::Value::String(hex(&w.data)));
        }
    }
    serde_json::Value::Object(sectors)
}

/// The whole file for `cards`.
pub fn document(master: &MasterKey, job: i64, cards: &[ToEncode]) -> serde_json::Value {
    let cards: Vec<serde_json::Value> = cards
        .iter()
        .map(|c| {
            let writes = personalise(master, &c.uid, &c.app);
            serde_json::json!({
                "number": c.number,
                "uid": hex(&c.uid),
                "writes": writes_json(&writes),
                "sectors": sectors_json(&writes),
            })
        })
        .collect();
    serde_json::json!({
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "job": job,
        "card_type": "MIFARE Classic 1K (4-byte UID)",
        "instructions": "For each card: select it and compare its UID with \"uid\" (stop on a mismatch); then, in order, authenticate each write's sector with Key A \"key_a\" (the factory key FFFFFFFFFFFF on a blank) and write \"data\" to \"block\"; read every block back and compare. Trailers come last.",
        "cards": cards,
    })
}
