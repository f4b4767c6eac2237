use super::*;
use crate::fake::{FakeFlash, FlashError};
use kartka_protocol::{TapResult, Uid};
use std::vec::Vec;

/// 8 sectors of 8 slots: 7 records per sector, 56 in all.
type Flash = FakeFlash<2048, 256>;

fn tap(card: u32) -> TapRecord {
    TapRecord {
        validator: 3,
        seq: 0,
        time: 1_790_000_000 + card,
        card,
        uid: Uid::four(card.to_le_bytes()),
        vehicle: 12,
        route: 5,
        zone: 1,
        result: TapResult::Accepted,
        trips: 1,
    }
}

fn read_all<F: NorFlash>(log: &mut TapLog<F>, from: u32) -> Vec<TapRecord> {
    let mut cursor = log.start();
    let mut out = Vec::new();
    let mut buf = [0u8; 5 * RECORD_LEN];
    loop {
        let n = log.read(&mut cursor, from, &mut buf).expect("read");
        if n == 0 {
            return out;
        }
        out.extend(
            buf[..n * RECORD_LEN]
                .chunks(RECORD_LEN)
                .map(|b| TapRecord::from_bytes(b).unwrap()),
        );
    }
}

#[test]
fn records_come_back_in_order_across_sectors() {
    let mut log = TapLog::open(Flash::new()).ok().unwrap();
    for card in 0..30 {
        assert_eq!(log.append(tap(card)).ok().unwrap().seq, card + 1);
    }
    let all = read_all(&mut log, 0);
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<_>>()
    );
    assert_eq!(all[4], TapRecord { seq: 5, ..tap(4) });
    assert_eq!(read_all(&mut log, 25).len(), 6);
    assert_eq!(
        log.into_flash().overwrites,
        0,
        "never programs over unerased bytes"
    );
}

#[test]
fn a_full_log_refuses_until_acked_and_loses_nothing() {
    let mut log = TapLog::open(Flash::new()).ok().unwrap();
    let mut n = 0;
    while log.has_room().ok().unwrap() {
        log.append(tap(n)).ok().unwrap();
        n += 1;
    }
    assert_eq!(n, 56);
    assert_eq!(log.free_records().ok(), Some(0));
    assert!(matches!(log.append(tap(999)), Err(LogError::Full)));
    assert_eq!(
        read_all(&mut log, 0).len(),
        56,
        "the refused tap took nothing"
    );
    assert_eq!(
        log.ack(100).ok(),
        Some(false),
        "an ack beyond the newest is refused"
    );
    assert_eq!(log.ack(10).ok(), Some(true));
    assert!(log.has_room().ok().unwrap());
    // Seq 1..=7 freed a sector; the ack mark took one of its slots.
    assert_eq!(log.free_records().ok(), Some(6));
    assert_eq!(log.append(tap(56)).ok().unwrap().seq, 57);
    let acked = log.acked_below();
    let held = read_all(&mut log, acked);
    assert_eq!(held.first().map(|r| r.seq), Some(11));
    assert_eq!(held.last().map(|r| r.seq), Some(57));
}

#[test]
fn reopening_restores_the_sequence_the_ack_and_the_write_position() {
    let mut log = TapLog::open(Flash::new()).ok().unwrap();
    for card in 0..40 {
        log.append(tap(card)).ok().unwrap();
    }
    log.ack(33).ok().unwrap();
    for card in 40..60 {
        log.append(tap(card)).ok().unwrap();
    }
    let mut log = TapLog::open(log.into_flash()).ok().unwrap();
    assert_eq!(log.next_seq(), 61);
    assert_eq!(log.acked_below(), 34);
    let held = read_all(&mut log, 34);
    assert_eq!(
        held.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (34..=60).collect::<Vec<_>>()
    );
    assert_eq!(log.append(tap(60)).ok().unwrap().seq, 61);
    assert_eq!(log.into_flash().overwrites, 0);
}

#[test]
fn sequence_numbers_never_repeat_even_when_everything_was_freed() {
    let mut log = TapLog::open(Flash::new()).ok().unwrap();
    for round in 0..20u32 {
        for card in 0..20 {
            log.append(tap(round * 100 + card)).ok().unwrap();
        }
        log.ack(log.next_seq() - 1).ok().unwrap();
        log = TapLog::open(log.into_flash()).ok().unwrap();
        assert_eq!(log.next_seq(), (round + 1) * 20 + 1);
        let acked = log.acked_below();
        assert!(read_all(&mut log, acked).is_empty());
    }
}

#[test]
fn a_region_that_cannot_hold_a_ring_is_refused() {
    assert!(matches!(
        TapLog::open(FakeFlash::<256, 256>::new()),
        Err(LogError::Geometry)
    ));
    assert!(matches!(
        TapLog::open(FakeFlash::<96, 48>::new()),
        Err(LogError::Geometry)
    ));
}

/// What the host would have seen: records whose append returned Ok, and
/// the highest ack sent.
#[derive(Default)]
struct Seen {
    durable: Vec<TapRecord>,
    acked_below_sent: u32,
}

/// Appends, acks and wraps the ring; stops at the first flash error.
fn scenario(log: &mut TapLog<Flash>, seen: &mut Seen) -> Result<(), LogError<FlashError>> {
    let steps: [(u32, u32); 4] = [(20, 10), (40, 50), (15, 70), (20, 0)];
    let mut card = 0;
    for (appends, ack) in steps {
        for _ in 0..appends {
            let r = log.append(tap(card))?;
            seen.durable.push(r);
            card += 1;
        }
        if ack > 0 {
            seen.acked_below_sent = ack + 1;
            log.ack(ack)?;
        }
    }
    Ok(())
}

/// The power fails at every byte the scenario programs or erases; each
/// time the log must reopen with every durable, unacked record intact.
#[test]
fn power_cut_at_every_byte_loses_no_durable_record() {
    let mut whole = TapLog::open(Flash::new()).ok().unwrap();
    let start = whole.flash.programmed + 256 * whole.flash.erases;
    scenario(&mut whole, &mut Seen::default()).expect("uncut scenario");
    let units = whole.flash.programmed + 256 * whole.flash.erases - start;
    assert!(units > 3000, "{units}");
    for cut in 0..=units {
        let mut flash = TapLog::open(Flash::new()).ok().unwrap().into_flash();
        flash.cut_power_after(cut);
        let mut seen = Seen::default();
        let result = match TapLog::open(flash) {
            Ok(mut log) => {
                let r = scenario(&mut log, &mut seen);
                flash = log.into_flash();
                r
            }
            Err(_) => unreachable!("a formatted log opens without writing"),
        };
        assert!(
            cut == units || matches!(result, Err(LogError::Flash(FlashError::PowerCut))),
            "cut {cut}: {result:?}"
        );
        flash.power_on();
        let mut log = TapLog::open(flash)
            .ok()
            .unwrap_or_else(|| panic!("cut {cut}: the log must reopen"));
        let newest = seen.durable.last().map_or(0, |r| r.seq);
        assert!(
            log.next_seq() > newest,
            "cut {cut}: seq {} would repeat {newest}",
            log.next_seq()
        );
        assert!(
            log.acked_below() <= seen.acked_below_sent.max(1),
            "cut {cut}: acked more than the host said"
        );
        let acked = log.acked_below();
        let held = read_all(&mut log, acked);
        let expected: Vec<_> = seen
            .durable
            .iter()
            .filter(|r| r.seq >= log.acked_below())
            .copied()
            .collect();
        let held_durable: Vec<_> = held.iter().filter(|r| r.seq <= newest).copied().collect();
        assert_eq!(held_durable, expected, "cut {cut}");
        // And it goes on working.
        if log.has_room().ok().unwrap() {
            let r = log
                .append(tap(7777))
                .ok()
                .unwrap_or_else(|| panic!("cut {cut}: append after reopen"));
            assert!(r.seq > newest);
        }
        assert_eq!(log.into_flash().overwrites, 0, "cut {cut}");
    }
}
