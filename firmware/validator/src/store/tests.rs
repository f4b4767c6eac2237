use super::*;
use crate::fake::{FakeFlash, FlashError};
use std::vec::Vec;

/// Two banks of 1 KiB: 224 card numbers each.
type Flash = FakeFlash<2048, 256>;

fn settings(version: u32) -> Settings {
    Settings {
        version,
        ..crate::validator::tests::settings(12)
    }
}

fn cards_bytes(cards: &[u32]) -> Vec<u8> {
    cards.iter().flat_map(|c| c.to_le_bytes()).collect()
}

/// Sends `cards` as a blocklist in chunks of `per` cards.
fn put_list(
    store: &mut ConfigStore<Flash>,
    version: u32,
    cards: &[u32],
    per: usize,
) -> Result<bool, StoreError<FlashError>> {
    let chunks: Vec<&[u32]> = if cards.is_empty() {
        std::vec![cards]
    } else {
        cards.chunks(per).collect()
    };
    let mut active = false;
    for (i, part) in chunks.iter().enumerate() {
        let bytes = cards_bytes(part);
        active = store.put_blocklist_chunk(&BlocklistChunk {
            version,
            chunk: i as u16,
            chunks: chunks.len() as u16,
            total: cards.len() as u32,
            cards: &bytes,
        })?;
    }
    Ok(active)
}

#[test]
fn settings_and_the_blocklist_survive_a_restart() {
    let mut store = ConfigStore::open(Flash::new()).ok().unwrap();
    assert_eq!(store.settings(), None);
    assert!(!store.is_blocked(5).ok().unwrap());
    store.put_settings(settings(1)).ok().unwrap();
    let list: Vec<u32> = (0..150).map(|i| 10_000_000 + i * 3).collect();
    assert_eq!(put_list(&mut store, 7, &list, 40).ok(), Some(true));
    let mut store = ConfigStore::open(store.into_flash()).ok().unwrap();
    assert_eq!(store.settings(), Some(settings(1)));
    assert_eq!(store.blocklist_version(), 7);
    assert_eq!(store.blocklist_len(), 150);
    for (i, card) in (10_000_000..10_000_450).enumerate() {
        assert_eq!(store.is_blocked(card).ok(), Some(i % 3 == 0), "card {card}");
    }
    // New settings keep the list.
    store.put_settings(settings(2)).ok().unwrap();
    let mut store = ConfigStore::open(store.into_flash()).ok().unwrap();
    assert_eq!(store.settings(), Some(settings(2)));
    assert!(store.is_blocked(10_000_003).ok().unwrap());
    assert_eq!(store.into_flash().overwrites, 0);
}

#[test]
fn bad_lists_are_refused_and_the_old_one_stays() {
    let mut store = ConfigStore::open(Flash::new()).ok().unwrap();
    put_list(&mut store, 1, &[5, 9], 10).ok().unwrap();
    assert_eq!(
        put_list(&mut store, 2, &[1, 3, 3], 10),
        Err(StoreError::BlocklistInvalid)
    );
    assert_eq!(
        put_list(&mut store, 2, &[1, 4, 2], 1),
        Err(StoreError::BlocklistInvalid)
    );
    let big: Vec<u32> = (0..store.capacity() + 1).collect();
    assert_eq!(
        put_list(&mut store, 3, &big, 50),
        Err(StoreError::TooLarge { capacity: 224 })
    );
    let out_of_order = store.put_blocklist_chunk(&BlocklistChunk {
        version: 4,
        chunk: 1,
        chunks: 2,
        total: 2,
        cards: &[],
    });
    assert_eq!(out_of_order, Err(StoreError::ChunkOrder { expected: 0 }));
    assert_eq!(store.blocklist_version(), 1);
    assert!(store.is_blocked(9).ok().unwrap());
    let mut bad = settings(9);
    bad.route = 6;
    assert_eq!(store.put_settings(bad), Err(StoreError::SettingsInvalid));
    assert_eq!(
        store.put_settings(Settings {
            timeout_s: 0,
            ..settings(9)
        }),
        Err(StoreError::SettingsInvalid)
    );
    let mut store = ConfigStore::open(store.into_flash()).ok().unwrap();
    assert_eq!(store.blocklist_version(), 1);
    assert!(store.is_blocked(5).ok().unwrap() && !store.is_blocked(1).ok().unwrap());
}

/// A new list is being written when the power fails, at every byte: after
/// the restart either the old list or the new one is in force, whole.
#[test]
fn a_power_cut_during_an_update_leaves_one_whole_list() {
    let old: Vec<u32> = (0..100).map(|i| i * 2).collect();
    let new: Vec<u32> = (0..120).map(|i| i * 2 + 1).collect();
    let mut base = ConfigStore::open(Flash::new()).ok().unwrap();
    base.put_settings(settings(1)).ok().unwrap();
    put_list(&mut base, 1, &old, 30).ok().unwrap();
    let base = base.into_flash();
    let units = {
        let mut flash = Flash::new();
        *flash.bytes_mut() = *base.bytes();
        let mut store = ConfigStore::open(flash).ok().unwrap();
        put_list(&mut store, 2, &new, 30).ok().unwrap();
        let f = store.into_flash();
        f.programmed + 256 * f.erases
    };
    for cut in (0..units).step_by(3) {
        let mut flash = Flash::new();
        *flash.bytes_mut() = *base.bytes();
        flash.cut_power_after(cut);
        let mut store = ConfigStore::open(flash).ok().unwrap();
        assert!(put_list(&mut store, 2, &new, 30).is_err(), "cut {cut}");
        let mut flash = store.into_flash();
        flash.power_on();
        let mut store = ConfigStore::open(flash).ok().unwrap();
        let (version, list) = match store.blocklist_version() {
            1 => (1, &old),
            2 => (2, &new),
            v => panic!("cut {cut}: version {v}"),
        };
        assert_eq!(
            store.blocklist_len() as usize,
            list.len(),
            "cut {cut} v{version}"
        );
        assert!(
            list.iter().all(|&c| store.is_blocked(c).ok().unwrap()),
            "cut {cut}"
        );
        assert_eq!(store.settings(), Some(settings(1)), "cut {cut}");
    }
}
