use super::*;
use crate::fake::{FakeFlash, FakeMfrc522, Shared, VirtualCard, issued_card};
use crate::reader::Mfrc522Reader;
use core::cell::RefCell;
use kartka_protocol::card::transport::{APP_BLOCK, LAST_BLOCK, TRIPS_BLOCK};
use kartka_protocol::message::BlocklistChunk;
use std::vec::Vec;

pub const MASTER: MasterKey = [0x5A; 16];
/// 2026-10-01T08:00:00Z
pub const T0: u32 = 1_790_841_600;
const DAY: u16 = (T0 / 86_400) as u16;

pub type LogFlash = FakeFlash<4096, 256>;
pub type StoreFlash = FakeFlash<2048, 256>;
pub type TestValidator = Validator<LogFlash, StoreFlash>;

pub fn settings(vehicle: u16) -> Settings {
    Settings {
        version: 1,
        vehicle,
        carrier: 3,
        route: 5,
        routes: [5, 7, 0, 0, 0, 0, 0, 0],
        zone: 1,
        timeout_s: 900,
        utc_offset_min: 120,
    }
}

pub fn app(card: u32) -> TransportApp {
    TransportApp {
        layout: kartka_protocol::card::transport::LAYOUT_VERSION,
        card,
        category: 1,
        community: 0,
        valid_from: DAY - 30,
        valid_to: DAY + 30,
        issue: 1,
        trip_limit: 0,
    }
}

pub fn validator(id: u16, vehicle: u16) -> TestValidator {
    let keys = Keys {
        card_master: MASTER,
        dock: [id as u8; 16],
    };
    let mut v = Validator::open(id, [0, 1, 0], keys, LogFlash::new(), StoreFlash::new()).unwrap();
    v.store.put_settings(settings(vehicle)).unwrap();
    v
}

struct Bench {
    chip: RefCell<FakeMfrc522>,
}

impl Bench {
    fn new() -> Bench {
        Bench {
            chip: RefCell::new(FakeMfrc522::new()),
        }
    }

    fn reader(&self) -> Mfrc522Reader<Shared<'_, FakeMfrc522>> {
        Mfrc522Reader::new(Shared(&self.chip)).unwrap()
    }

    /// Holds `card` to the reader, lets `v` serve it, takes it away.
    fn tap(
        &self,
        v: &mut TestValidator,
        card: VirtualCard,
        now: u32,
    ) -> (Option<TapRecord>, VirtualCard) {
        self.chip.borrow_mut().present(card);
        let record = v.poll(&mut self.reader(), Some(now)).unwrap();
        (record, self.chip.borrow_mut().remove().unwrap())
    }
}

fn trips_on(card: &VirtualCard) -> i32 {
    value::decode(&card.block(TRIPS_BLOCK)).unwrap().0
}

#[test]
fn a_valid_card_is_a_trip_written_to_the_card_and_the_log() {
    let bench = Bench::new();
    let mut v = validator(7, 12);
    let (record, card) = bench.tap(
        &mut v,
        issued_card(&MASTER, [1, 2, 3, 4], &app(10_000_042)),
        T0,
    );
    let r = record.unwrap();
    assert_eq!(r.result, TapResult::Accepted);
    assert_eq!((r.validator, r.seq, r.time, r.card), (7, 1, T0, 10_000_042));
    assert_eq!((r.vehicle, r.route, r.zone, r.trips), (12, 5, 1, 1));
    assert_eq!(r.uid, Uid::four([1, 2, 3, 4]));
    assert_eq!(Signal::of(r.result), Signal::Green);
    assert_eq!(trips_on(&card), 1);
    let last = LastValidation::from_block(&card.block(LAST_BLOCK)).unwrap();
    assert_eq!(
        last,
        LastValidation {
            time: T0,
            vehicle: 12,
            route: 5,
            validator: 7,
            zone: 1,
            month_trips: 1,
        }
    );
    assert_eq!(
        card.block(APP_BLOCK),
        app(10_000_042).to_block(),
        "the application is never rewritten"
    );
}

#[test]
fn the_timeout_holds_per_vehicle_not_per_validator() {
    let bench = Bench::new();
    let mut front = validator(1, 12);
    let mut rear = validator(2, 12);
    let mut other_bus = validator(3, 40);
    let card = issued_card(&MASTER, [9, 9, 9, 9], &app(10_000_001));
    let (r, card) = bench.tap(&mut front, card, T0);
    assert_eq!(r.unwrap().result, TapResult::Accepted);
    // The rear validator of the same bus has never seen the card: the card
    // itself says it was validated in vehicle 12 five minutes ago.
    let (r, card) = bench.tap(&mut rear, card, T0 + 300);
    let r = r.unwrap();
    assert_eq!((r.result, r.trips), (TapResult::Repeat, 1));
    assert_eq!(Signal::of(r.result), Signal::Blue);
    assert_eq!(trips_on(&card), 1, "a repeat writes nothing");
    // Another bus: a new trip.
    let (r, card) = bench.tap(&mut other_bus, card, T0 + 600);
    assert_eq!(r.unwrap().result, TapResult::Accepted);
    // Back on bus 12 after 14 min 59 s since its own validation there… the
    // card now says vehicle 40, but the front validator remembers.
    let (r, card) = bench.tap(&mut front, card, T0 + 899);
    assert_eq!(r.unwrap().result, TapResult::Repeat);
    let (r, card) = bench.tap(&mut front, card, T0 + 905);
    assert_eq!(r.unwrap().result, TapResult::Accepted);
    assert_eq!(trips_on(&card), 3);
}

#[test]
fn the_repeat_memory_survives_a_power_cycle() {
    let bench = Bench::new();
    let mut v = validator(1, 12);
    let (r, mut card) = bench.tap(&mut v, issued_card(&MASTER, [1, 1, 1, 1], &app(5)), T0);
    assert_eq!(r.unwrap().result, TapResult::Accepted);
    // Power cycle; and the card's last-validation block was lost (another
    // city's reader wiped it): the log still knows.
    let Validator {
        log, store, keys, ..
    } = v;
    let mut v = Validator::open(1, [0, 1, 0], keys, log.into_flash(), store.into_flash()).unwrap();
    let mut blocks = *card.blocks();
    blocks[LAST_BLOCK as usize] = [0; 16];
    card = VirtualCard::from_blocks(blocks);
    let (r, _) = bench.tap(&mut v, card, T0 + 60);
    let r = r.unwrap();
    assert_eq!((r.result, r.seq), (TapResult::Repeat, 2));
}

#[test]
fn refusals_name_their_reason_and_leave_the_card_alone() {
    let bench = Bench::new();
    let mut v = validator(1, 12);
    let cards = [10u32, 20];
    let bytes: Vec<u8> = cards.iter().flat_map(|c| c.to_le_bytes()).collect();
    v.store
        .put_blocklist_chunk(&BlocklistChunk {
            version: 1,
            chunk: 0,
            chunks: 1,
            total: 2,
            cards: &bytes,
        })
        .unwrap();
    let expired = TransportApp {
        valid_to: DAY - 1,
        ..app(30)
    };
    let future = TransportApp {
        valid_from: DAY + 1,
        ..app(31)
    };
    let cases: [(VirtualCard, TapResult); 5] = [
        (
            issued_card(&MASTER, [1, 0, 0, 1], &app(20)),
            TapResult::Blocked,
        ),
        (
            issued_card(&MASTER, [1, 0, 0, 2], &expired),
            TapResult::Expired,
        ),
        (
            issued_card(&MASTER, [1, 0, 0, 3], &future),
            TapResult::NotYetValid,
        ),
        (VirtualCard::factory([1, 0, 0, 4]), TapResult::UnknownCard),
        (
            issued_card(&[0x77; 16], [1, 0, 0, 5], &app(32)),
            TapResult::AuthFailed,
        ),
    ];
    for (seq, (card, expected)) in cases.into_iter().enumerate() {
        let before = *card.blocks();
        let (r, card) = bench.tap(&mut v, card, T0);
        let r = r.unwrap();
        assert_eq!(r.result, expected);
        assert_eq!(r.seq, seq as u32 + 1, "refusals are logged too");
        assert_eq!(Signal::of(r.result), Signal::Red);
        assert_eq!(card.blocks(), &before, "{expected:?} wrote to the card");
    }
}

#[test]
fn a_validator_without_settings_or_clock_refuses() {
    let bench = Bench::new();
    let keys = Keys {
        card_master: MASTER,
        dock: [0; 16],
    };
    let mut v: TestValidator =
        Validator::open(1, [0, 1, 0], keys, LogFlash::new(), StoreFlash::new()).unwrap();
    let (r, _) = bench.tap(&mut v, issued_card(&MASTER, [2, 2, 2, 2], &app(1)), T0);
    assert_eq!(r.unwrap().result, TapResult::NotConfigured);
    v.store.put_settings(settings(12)).unwrap();
    bench
        .chip
        .borrow_mut()
        .present(issued_card(&MASTER, [2, 2, 2, 3], &app(1)));
    let r = v.poll(&mut bench.reader(), None).unwrap().unwrap();
    assert_eq!((r.result, r.time), (TapResult::NotConfigured, 0));
}

#[test]
fn a_write_the_card_nakked_is_caught_by_the_read_back() {
    let bench = Bench::new();
    let mut v = validator(1, 12);
    bench
        .chip
        .borrow_mut()
        .present(issued_card(&MASTER, [3, 3, 3, 3], &app(77)));
    bench.chip.borrow_mut().nak_next_write();
    let r = v.poll(&mut bench.reader(), Some(T0)).unwrap().unwrap();
    assert_eq!(r.result, TapResult::CardError);
    let card = bench.chip.borrow_mut().remove().unwrap();
    assert_eq!(trips_on(&card), 0);
}

/// The passenger pulls the card away after every possible number of card
/// commands: never a hang, never a trip counted twice on a retap.
#[test]
fn a_card_pulled_away_at_any_moment_is_a_card_error_or_a_trip() {
    let bench = Bench::new();
    for ops in 0..30 {
        let mut v = validator(1, 12);
        bench
            .chip
            .borrow_mut()
            .present(issued_card(&MASTER, [4, 4, 4, 4], &app(88)));
        bench.chip.borrow_mut().remove_after_ops(ops);
        let first = v.poll(&mut bench.reader(), Some(T0)).unwrap();
        let card = bench.chip.borrow_mut().remove().unwrap();
        let Some(first) = first else {
            assert!(ops < 3, "ops {ops}: the card left before it was selected");
            continue;
        };
        let trips = trips_on(&card);
        match first.result {
            TapResult::Accepted => assert_eq!(trips, 1, "ops {ops}"),
            TapResult::CardError => assert!(trips <= 1, "ops {ops}"),
            other => panic!("ops {ops}: {other:?}"),
        }
        // The passenger taps again a few seconds later.
        let (again, card) = bench.tap(&mut v, card, T0 + 5);
        let again =
            again.unwrap_or_else(|| panic!("ops {ops}: first {first:?}: the retap was not served"));
        let counted = usize::from(first.result == TapResult::Accepted)
            + usize::from(again.result == TapResult::Accepted);
        assert_eq!(counted, 1, "ops {ops}: {first:?} then {again:?}");
        assert!(trips_on(&card) >= 1);
    }
}

#[test]
fn a_card_held_on_the_reader_is_served_once() {
    let bench = Bench::new();
    let mut v = validator(1, 12);
    bench
        .chip
        .borrow_mut()
        .present(issued_card(&MASTER, [5, 5, 5, 5], &app(3)));
    let mut reader = bench.reader();
    assert!(v.poll(&mut reader, Some(T0)).unwrap().is_some());
    for t in 1..10 {
        assert_eq!(
            v.poll(&mut reader, Some(T0 + t)).unwrap(),
            None,
            "the halted card stays quiet"
        );
    }
    assert_eq!(v.next_seq(), 2);
}

#[test]
fn a_full_log_refuses_before_touching_the_card() {
    let bench = Bench::new();
    let mut v = validator(1, 12);
    let mut n = 0u32;
    loop {
        let card = issued_card(&MASTER, (n + 100).to_le_bytes(), &app(n + 100));
        bench.chip.borrow_mut().present(card);
        let result = v.poll(&mut bench.reader(), Some(T0 + n * 10));
        let card = bench.chip.borrow_mut().remove().unwrap();
        match result {
            Ok(Some(_)) => n += 1,
            Err(CoreError::LogFull) => {
                assert_eq!(trips_on(&card), 0);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(n, 16 * 7, "every slot of the 16-sector log but the headers");
}

#[test]
fn the_inspection_mode_shows_the_card_and_logs_nothing() {
    let bench = Bench::new();
    let mut v = validator(1, 12);
    let (_, card) = bench.tap(&mut v, issued_card(&MASTER, [6, 6, 6, 6], &app(600)), T0);
    bench.chip.borrow_mut().present(card);
    let view = v.inspect(&mut bench.reader()).unwrap().unwrap();
    assert_eq!((view.app.card, view.trips), (600, 1));
    assert_eq!(view.last.unwrap().vehicle, 12);
    assert_eq!(v.next_seq(), 2);
}

/// P9: a card with a monthly trip limit is refused once it is used up in
/// the local month, counted on the card itself (any validator sees it),
/// shows the trips left, and rides again next month.
#[test]
fn a_trip_limit_is_counted_on_the_card_per_local_month() {
    let bench = Bench::new();
    let limited = TransportApp {
        trip_limit: 2,
        valid_to: DAY + 60,
        ..app(10_000_050)
    };
    let mut card = issued_card(&MASTER, [5, 5, 5, 5], &limited);
    let mut seen = Vec::new();
    // Different vehicles, an hour apart: no repeats.
    for (i, vehicle) in [11u16, 12, 13].into_iter().enumerate() {
        let mut v = validator(20 + i as u16, vehicle);
        let (r, c) = bench.tap(&mut v, card, T0 + 3600 * i as u32);
        card = c;
        seen.push((r.unwrap().result, v.trips_left()));
    }
    assert_eq!(
        seen,
        [
            (TapResult::Accepted, Some(1)),
            (TapResult::Accepted, Some(0)),
            (TapResult::TripLimit, Some(0)),
        ]
    );
    assert_eq!(Signal::of(TapResult::TripLimit), Signal::Red);
    let last = LastValidation::from_block(&card.block(LAST_BLOCK)).unwrap();
    assert_eq!(last.month_trips, 2);
    // 2026-11-01 00:30 Kyiv (UTC+2): a new local month.
    let mut v = validator(30, 14);
    let (r, _) = bench.tap(&mut v, card, 1_793_485_800);
    assert_eq!(r.unwrap().result, TapResult::Accepted);
    assert_eq!(v.trips_left(), Some(1));
    // A card without a limit has no trips left to show.
    let mut v = validator(31, 15);
    bench.tap(
        &mut v,
        issued_card(&MASTER, [6, 6, 6, 6], &app(10_000_068)),
        T0,
    );
    assert_eq!(v.trips_left(), None);
}

/// Cards printed before AN10922 keys (layout 1, HMAC keys) still ride;
/// a card whose keys and layout disagree was not made by the office.
#[test]
fn a_card_of_the_earlier_key_version_still_reads() {
    use kartka_protocol::card::keys::{KeyKind, KeyVersion, sector_key_of};
    let bench = Bench::new();
    let old = TransportApp {
        layout: 1,
        ..app(10_000_076)
    };
    let uid = [7, 7, 7, 7];
    let card = issued_card(&MASTER, uid, &old);
    assert_eq!(
        card.block(7)[..6],
        sector_key_of(KeyVersion::V1, &MASTER, &uid, 1, KeyKind::A)
    );
    let mut v = validator(40, 16);
    let (r, card) = bench.tap(&mut v, card, T0);
    let r = r.unwrap();
    assert_eq!(
        (r.result, r.card, r.trips),
        (TapResult::Accepted, 10_000_076, 1)
    );
    // Its blocks are still layout 1: the validator never rewrites them.
    assert_eq!(card.block(APP_BLOCK), old.to_block());
    // A layout-2 application under version-1 keys: refused.
    let mut forged = issued_card(
        &MASTER,
        [8, 8, 8, 8],
        &TransportApp {
            layout: 1,
            ..app(10_000_084)
        },
    );
    let mut blocks = *forged.blocks();
    blocks[APP_BLOCK as usize] = app(10_000_084).to_block();
    forged = VirtualCard::from_blocks(blocks);
    let (r, _) = bench.tap(&mut v, forged, T0 + 60);
    assert_eq!(r.unwrap().result, TapResult::UnknownCard);
}
