//! The validator's scenarios, run the same way on the host (`cargo test`)
//! and on an emulated Cortex-M0 (`firmware/qemu`): the core with its fake
//! MFRC522 and fake NOR flash, no heap, no std.
//!
//! A tap accepted; a repeat in the same vehicle within 15 minutes (P13),
//! and the same card on another vehicle; a blocked card; the inspection
//! mode (P15); a power cut during a log write and the recovery; a whole
//! dock session over a byte pipe cut into odd pieces; the blocklist
//! written into its other bank and switched over, a cut mid-way leaving
//! the old one in force; every screen drawn (P16).
//!
//! A [`Meter`] counts what the core spends (on the MCU: instructions, from
//! the SysTick under QEMU's `-icount`); what the fake chip spends in its
//! SPI transactions is counted apart, so a tap decision's count is the
//! core's alone (on a bus the chip is hardware).

use core::cell::{Cell, RefCell};

use embedded_graphics::pixelcolor::Rgb565;
use embedded_graphics::prelude::*;
use embedded_hal::spi::{ErrorType, Operation, SpiDevice};
use kartka_protocol::auth::{DockKey, Session};
use kartka_protocol::card::keys::MasterKey;
use kartka_protocol::card::transport::{LAST_BLOCK, LAYOUT_VERSION, LastValidation, TransportApp};
use kartka_protocol::frame::{self, MAX_WIRE};
use kartka_protocol::message::{BlocklistChunk, Done, Message, Settings};
use kartka_protocol::{FrameReader, RECORD_LEN, TapRecord, TapResult, Uid};

use crate::fake::{FakeFlash, FakeMfrc522, VirtualCard, issued_card};
use crate::log::TapLog;
use crate::reader::Mfrc522Reader;
use crate::screen::{HEIGHT, OutOfService, Screen, WIDTH};
use crate::validator::{CardView, Clock, Keys, Validator};

/// Counts something that grows as the core works (instructions on the
/// emulated MCU; anything, or nothing, on the host).
pub trait Meter {
    fn now(&self) -> u64;
    /// Marks the stack below the caller, to measure what runs next.
    fn stack_mark(&self) {}
    /// The deepest the stack went below the last mark, in bytes.
    fn stack_since_mark(&self) -> u64 {
        0
    }
}

/// A meter that never moves.
pub struct NoMeter;

impl Meter for NoMeter {
    fn now(&self) -> u64 {
        0
    }
}

/// What the scenarios measured, in the meter's units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// One accepted tap's decision: MAD, the card's key derived and tried,
    /// the blocks read and checked, the blocklist searched, the trip
    /// written and read back, the tap logged; the fake chip's own work
    /// left out. The median of the scenario's accepted taps.
    pub tap_decision: u64,
    /// The fake chip's share of that tap (SPI and the card model).
    pub tap_chip: u64,
    /// The stack a tap's decision takes, in bytes, below its caller.
    pub tap_stack: u64,
    /// A card of the earlier key version (two keys tried).
    pub tap_old_keys: u64,
    /// One whole docking: hello, 100 taps read, ack, clock, blocklist.
    pub dock_session: u64,
    /// One screen drawn (the accepted one) into a null panel.
    pub screen: u64,
}

/// A failed scenario: which, and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    pub scenario: &'static str,
    pub what: &'static str,
}

pub const MASTER: MasterKey = *b"kartka-scenarios";
/// 2026-10-01T08:00:00Z.
pub const T0: u32 = 1_790_841_600;
const DAY: u16 = (T0 / 86_400) as u16;

type LogFlash = FakeFlash<4096, 256>;
type StoreFlash = FakeFlash<2048, 256>;
type Core = Validator<LogFlash, StoreFlash>;

fn settings(vehicle: u16) -> Settings {
    Settings {
        version: 1,
        vehicle,
        carrier: 3,
        route: 5,
        routes: [5, 7, 0, 0, 0, 0, 0, 0],
        zone: 1,
        timeout_s: 900,
        utc_offset_min: 180,
    }
}

fn app(card: u32, layout: u8) -> TransportApp {
    TransportApp {
        layout,
        card,
        category: 1,
        community: 0,
        valid_from: DAY - 30,
        valid_to: DAY + 300,
        issue: 1,
        trip_limit: if layout >= 2 { 40 } else { 0 },
    }
}

fn core(id: u16, vehicle: u16) -> Result<Core, &'static str> {
    let keys = Keys {
        card_master: MASTER,
        dock: [id as u8; 16],
    };
    let mut v = Validator::open(id, [0, 1, 0], keys, LogFlash::new(), StoreFlash::new())
        .map_err(|_| "fresh flash does not open")?;
    v.put_settings(settings(vehicle))
        .map_err(|_| "settings do not store")?;
    Ok(v)
}

fn check(ok: bool, what: &'static str) -> Result<(), &'static str> {
    if ok { Ok(()) } else { Err(what) }
}

/// The fake chip on the SPI bus, its time counted apart.
struct Metered<'a> {
    chip: &'a RefCell<FakeMfrc522>,
    meter: &'a dyn Meter,
    spent: &'a Cell<u64>,
}

impl ErrorType for Metered<'_> {
    type Error = <FakeMfrc522 as ErrorType>::Error;
}

impl SpiDevice for Metered<'_> {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Self::Error> {
        let t = self.meter.now();
        let r = self.chip.borrow_mut().transaction(operations);
        self.spent
            .set(self.spent.get() + self.meter.now().saturating_sub(t));
        r
    }
}

/// What the inspection mode read: nothing, the card, or why not.
type Inspected = Option<Result<CardView, TapResult>>;

/// A reader with cards held to it, and the meter.
struct Bench<'a> {
    chip: RefCell<FakeMfrc522>,
    meter: &'a dyn Meter,
    chip_spent: Cell<u64>,
}

/// One tap's outcome and what it cost.
struct Tapped {
    record: Option<TapRecord>,
    card: VirtualCard,
    core: u64,
    chip: u64,
    stack: u64,
}

impl<'a> Bench<'a> {
    fn new(meter: &'a dyn Meter) -> Bench<'a> {
        Bench {
            chip: RefCell::new(FakeMfrc522::new()),
            meter,
            chip_spent: Cell::new(0),
        }
    }

    fn reader(&self) -> Result<Mfrc522Reader<Metered<'_>>, &'static str> {
        Mfrc522Reader::new(Metered {
            chip: &self.chip,
            meter: self.meter,
            spent: &self.chip_spent,
        })
        .map_err(|_| "the reader does not start")
    }

    fn tap(&self, v: &mut Core, card: VirtualCard, now: u32) -> Result<Tapped, &'static str> {
        let mut reader = self.reader()?;
        self.chip.borrow_mut().present(card);
        self.chip_spent.set(0);
        self.meter.stack_mark();
        let t = self.meter.now();
        let record = v
            .poll(&mut reader, Some(now))
            .map_err(|_| "the core failed")?;
        let total = self.meter.now().saturating_sub(t);
        let stack = self.meter.stack_since_mark();
        let chip = self.chip_spent.get();
        let card = self.chip.borrow_mut().remove().ok_or("the card vanished")?;
        Ok(Tapped {
            record,
            card,
            core: total.saturating_sub(chip),
            chip,
            stack,
        })
    }

    fn inspect(
        &self,
        v: &mut Core,
        card: VirtualCard,
    ) -> Result<(Inspected, VirtualCard), &'static str> {
        let mut reader = self.reader()?;
        self.chip.borrow_mut().present(card);
        let view = v.inspect(&mut reader);
        let card = self.chip.borrow_mut().remove().ok_or("the card vanished")?;
        Ok((view, card))
    }
}

fn result(t: &Tapped) -> Option<TapResult> {
    t.record.map(|r| r.result)
}

/// A tap accepted (P11), then again in the same vehicle within 15 minutes
/// (P13: blue, no trip), and on another vehicle's validator (a trip).
fn taps(bench: &Bench<'_>, figures: &mut Figures) -> Result<(), &'static str> {
    let mut v = core(7, 1012)?;
    let mut other = core(8, 1013)?;
    let mut costs = [0u64; 5];
    let mut chips = [0u64; 5];
    let mut card = issued_card(
        &MASTER,
        [4, 0x11, 0x22, 0x33],
        &app(1_000_000_008, LAYOUT_VERSION),
    );
    for (i, cost) in costs.iter_mut().enumerate() {
        // Hours apart: each a trip.
        let t = bench.tap(&mut v, card, T0 + 3600 * i as u32)?;
        check(
            result(&t) == Some(TapResult::Accepted),
            "a valid card is not accepted",
        )?;
        *cost = t.core;
        chips[i] = t.chip;
        figures.tap_stack = figures.tap_stack.max(t.stack);
        card = t.card;
    }
    let r = bench.tap(&mut v, card, T0 + 4 * 3600 + 600)?;
    check(
        result(&r) == Some(TapResult::Repeat),
        "a second tap in the vehicle within 15 minutes is not a repeat",
    )?;
    check(
        v.trips_left() == Some(35),
        "a repeat counted against the trip limit",
    )?;
    let r = bench.tap(&mut other, r.card, T0 + 4 * 3600 + 660)?;
    check(
        result(&r) == Some(TapResult::Accepted),
        "another vehicle's validator calls it a repeat",
    )?;
    let last = LastValidation::from_block(&r.card.block(LAST_BLOCK))
        .ok_or("no last validation on the card")?;
    check(
        last.vehicle == 1013 && last.month_trips == 6,
        "the card's last validation is wrong",
    )?;
    check(other.trips_left() == Some(34), "the trips left are wrong")?;
    costs.sort_unstable();
    chips.sort_unstable();
    figures.tap_decision = costs[2];
    figures.tap_chip = chips[2];
    // A card printed before AN10922 keys: a second key tried.
    let old = issued_card(&MASTER, [4, 0x44, 0x55, 0x66], &app(1_000_000_016, 1));
    let r = bench.tap(&mut v, old, T0 + 9 * 3600)?;
    check(
        result(&r) == Some(TapResult::Accepted),
        "a card of the earlier key version is refused",
    )?;
    figures.tap_old_keys = r.core;
    Ok(())
}

/// A card on the blocklist is refused and left alone (P9).
fn blocked(bench: &Bench<'_>) -> Result<(), &'static str> {
    let mut v = core(9, 1014)?;
    let cards = two(1_000_000_024, 1_000_000_032);
    v.store
        .put_blocklist_chunk(&BlocklistChunk {
            version: 1,
            chunk: 0,
            chunks: 1,
            total: 2,
            cards: &cards,
        })
        .map_err(|_| "the blocklist does not store")?;
    let card = issued_card(&MASTER, [4, 1, 1, 1], &app(1_000_000_024, LAYOUT_VERSION));
    let before = *card.blocks();
    let r = bench.tap(&mut v, card, T0)?;
    check(
        result(&r) == Some(TapResult::Blocked),
        "a blocked card is not refused",
    )?;
    check(*r.card.blocks() == before, "a refused card was written")?;
    let r = bench.tap(
        &mut v,
        issued_card(&MASTER, [4, 2, 2, 2], &app(1_000_000_040, LAYOUT_VERSION)),
        T0 + 10,
    )?;
    check(
        result(&r) == Some(TapResult::Accepted),
        "a card not on the blocklist is refused",
    )?;
    Ok(())
}

/// The inspection mode (P15): the card's validity and last validation,
/// with no trip and nothing logged.
fn inspection(bench: &Bench<'_>) -> Result<(), &'static str> {
    let mut v = core(10, 1015)?;
    let t = bench.tap(
        &mut v,
        issued_card(&MASTER, [4, 3, 3, 3], &app(1_000_000_057, LAYOUT_VERSION)),
        T0,
    )?;
    let next = v.next_seq();
    let before = *t.card.blocks();
    let (view, card) = bench.inspect(&mut v, t.card)?;
    let view = view
        .ok_or("no card seen")?
        .map_err(|_| "the card does not read")?;
    check(
        view.app.card == 1_000_000_057 && view.trips == 1,
        "the inspection shows another card",
    )?;
    check(
        view.last.is_some_and(|l| l.time == T0 && l.vehicle == 1015),
        "the inspection lacks the last validation",
    )?;
    check(
        v.next_seq() == next && *card.blocks() == before,
        "the inspection logged or wrote",
    )?;
    Ok(())
}

fn record(card: u32) -> TapRecord {
    TapRecord {
        validator: 11,
        seq: 0,
        time: T0 + card,
        card,
        uid: Uid::four(card.to_le_bytes()),
        vehicle: 12,
        route: 5,
        zone: 1,
        result: TapResult::Accepted,
        trips: 1,
    }
}

/// The power fails while a tap is being logged, at every byte of its
/// write: the log reopens, every record written before is there, the torn
/// one is gone or whole, and no sequence number is given twice.
fn power_cut() -> Result<(), &'static str> {
    for cut in 0..40u64 {
        let mut log = TapLog::open(LogFlash::new()).map_err(|_| "a fresh log does not open")?;
        for c in 1..=5 {
            log.append(record(c)).map_err(|_| "a record does not log")?;
        }
        let mut flash = log.into_flash();
        flash.cut_power_after(cut);
        let mut log = TapLog::open(flash).map_err(|_| "the log does not open")?;
        let torn = log.append(record(6)).is_ok();
        let mut flash = log.into_flash();
        flash.power_on();
        let mut log = TapLog::open(flash).map_err(|_| "the log does not reopen after the cut")?;
        let mut cursor = log.start();
        let mut buf = [0u8; 8 * RECORD_LEN];
        let n = log
            .read(&mut cursor, 1, &mut buf)
            .map_err(|_| "the log does not read")?;
        check(n == 5 || n == 6, "records were lost or invented")?;
        check(!torn || n == 6, "a record acknowledged as written is gone")?;
        for (i, b) in buf[..n * RECORD_LEN].chunks_exact(RECORD_LEN).enumerate() {
            let r = TapRecord::from_bytes(b).map_err(|_| "a torn record reads")?;
            check(
                r.seq == i as u32 + 1 && r.card == i as u32 + 1,
                "records out of order",
            )?;
        }
        let next = log
            .append(record(7))
            .map_err(|_| "no record logs after the cut")?;
        check(next.seq == n as u32 + 1, "a sequence number is given twice")?;
    }
    Ok(())
}

struct FixedClock(Option<u32>);

impl Clock for FixedClock {
    fn now(&self) -> Option<u32> {
        self.0
    }
    fn set(&mut self, utc: u32) {
        self.0 = Some(utc);
    }
}

/// The host's end of the pipe: frames out in odd-sized pieces, replies
/// collected and MAC-checked.
struct Pipe {
    dock: crate::Dock,
    clock: FixedClock,
    key: DockKey,
    session: Session,
    replies: [u8; 4096],
    len: usize,
}

impl Pipe {
    fn send(&mut self, v: &mut Core, msg: &Message<'_>) -> Result<(), &'static str> {
        let mut out = [0u8; MAX_WIRE];
        let n = frame::encode(msg, &self.key, self.session, &mut out)
            .map_err(|_| "a frame does not encode")?;
        self.len = 0;
        // 7 bytes at a time, as a USB serial link may deliver them.
        for piece in out[..n].chunks(7) {
            let (replies, len) = (&mut self.replies, &mut self.len);
            let mut send = |b: &[u8]| {
                if *len + b.len() > replies.len() {
                    return false;
                }
                replies[*len..*len + b.len()].copy_from_slice(b);
                *len += b.len();
                true
            };
            self.dock
                .on_bytes(v, &mut self.clock, piece, &mut send)
                .map_err(|_| "the link went down")?;
        }
        Ok(())
    }

    /// Each reply message, MAC-checked, to `f`.
    fn each(
        &self,
        mut f: impl FnMut(&Message<'_>) -> Result<(), &'static str>,
    ) -> Result<usize, &'static str> {
        let mut reader = FrameReader::new();
        let mut rest = &self.replies[..self.len];
        let mut count = 0;
        while !rest.is_empty() {
            let (used, frame) = reader.push(rest);
            rest = &rest[used..];
            if let Some(frame) = frame {
                let frame = frame.map_err(|_| "a reply frame is damaged")?;
                if !matches!(frame.message, Message::Hello(_)) {
                    frame
                        .verify(&self.key, self.session)
                        .map_err(|_| "a reply's MAC is wrong")?;
                }
                f(&frame.message)?;
                count += 1;
            }
        }
        Ok(count)
    }
}

/// A whole docking over a byte pipe: hello, 100 taps read in batches,
/// ack, the clock set, a blocklist in two chunks, a second session.
fn dock_session(meter: &dyn Meter, figures: &mut Figures) -> Result<(), &'static str> {
    let mut v = core(11, 1016)?;
    for c in 1..=100 {
        v.log
            .append(record(c))
            .map_err(|_| "a record does not log")?;
    }
    let mut p = Pipe {
        dock: crate::Dock::new(0x5EED),
        clock: FixedClock(Some(T0)),
        key: *v.dock_key(),
        session: Session {
            host_nonce: 0xC0FFEE,
            validator_nonce: 0,
        },
        replies: [0; 4096],
        len: 0,
    };
    let t = meter.now();
    p.send(
        &mut v,
        &Message::Hi {
            host_nonce: 0xC0FFEE,
        },
    )?;
    let mut nonce = 0;
    let mut next = 0;
    p.each(|m| match m {
        Message::Hello(h) => {
            nonce = h.validator_nonce;
            next = h.next;
            Ok(())
        }
        _ => Err("no hello"),
    })?;
    check(next == 101, "the hello does not count the log")?;
    p.session.validator_nonce = nonce;
    let mut seqs = 0u32;
    let mut last_seen = false;
    p.send(&mut v, &Message::ReadFrom { seq: 1 })?;
    p.each(|m| match m {
        Message::Batch(b) => {
            for r in TapRecord::iter_packed(b.records) {
                let r = r.map_err(|_| "a batch record is damaged")?;
                seqs += 1;
                if r.seq != seqs {
                    return Err("batch records out of order");
                }
            }
            last_seen |= b.last;
            Ok(())
        }
        _ => Err("not a batch"),
    })?;
    check(seqs == 100 && last_seen, "the dump is not whole")?;
    let done =
        |p: &mut Pipe, v: &mut Core, msg: &Message<'_>, want: Done| -> Result<(), &'static str> {
            p.send(v, msg)?;
            let mut ok = false;
            p.each(|m| {
                ok = matches!(m, Message::Done(d) if *d == want);
                Ok(())
            })?;
            check(ok, "the validator did not answer as expected")
        };
    done(
        &mut p,
        &mut v,
        &Message::Ack { up_to: 100 },
        Done::Acked { up_to: 100 },
    )?;
    done(
        &mut p,
        &mut v,
        &Message::SetTime { utc: T0 + 60 },
        Done::TimeSet { utc: T0 + 60 },
    )?;
    let cards = two(5, 6);
    for chunk in 0..2u16 {
        done(
            &mut p,
            &mut v,
            &Message::PutBlocklist(BlocklistChunk {
                version: 3,
                chunk,
                chunks: 2,
                total: 2,
                cards: &cards[4 * chunk as usize..4 * chunk as usize + 4],
            }),
            Done::Blocklist {
                version: 3,
                chunk,
                active: chunk == 1,
            },
        )?;
    }
    figures.dock_session = meter.now().saturating_sub(t);
    check(p.clock.0 == Some(T0 + 60), "the clock was not set")?;
    check(
        v.store.is_blocked(6).unwrap_or(false),
        "the blocklist is not in force",
    )?;
    // A forged frame (wrong key) changes nothing.
    let good = p.key;
    p.key = [0xEE; 16];
    p.send(&mut v, &Message::SetTime { utc: 1 })?;
    p.key = good;
    check(p.clock.0 == Some(T0 + 60), "a forged frame set the clock")?;
    Ok(())
}

/// A new blocklist goes into the other bank and takes over only at its
/// last chunk; a power cut mid-way leaves the old one in force.
fn blocklist_banks() -> Result<(), &'static str> {
    let mut v = core(12, 1017)?;
    let put = |v: &mut Core, version, chunk, chunks, total, cards: &[u8]| {
        v.store
            .put_blocklist_chunk(&BlocklistChunk {
                version,
                chunk,
                chunks,
                total,
                cards,
            })
            .map_err(|_| "a blocklist chunk does not store")
    };
    let a = two(10, 11);
    put(&mut v, 1, 0, 1, 2, &a)?;
    check(
        v.store.is_blocked(10).unwrap_or(false),
        "version 1 is not in force",
    )?;
    let b = two(20, 21);
    put(&mut v, 2, 0, 2, 2, &b[..4])?;
    check(
        v.store.blocklist_version() == 1
            && v.store.is_blocked(10).unwrap_or(false)
            && !v.store.is_blocked(20).unwrap_or(true),
        "half a new blocklist took over",
    )?;
    put(&mut v, 2, 1, 2, 2, &b[4..])?;
    check(
        v.store.blocklist_version() == 2
            && !v.store.is_blocked(10).unwrap_or(true)
            && v.store.is_blocked(21).unwrap_or(false),
        "the new bank did not take over",
    )?;
    // Version 3 cut off by a power failure: version 2 stays.
    for cut in [0u64, 3, 64, 300] {
        let store = core::mem::replace(
            &mut v.store,
            crate::store::ConfigStore::open(StoreFlash::new()).map_err(|_| "x")?,
        );
        let mut flash = store.into_flash();
        flash.cut_power_after(cut);
        let mut store =
            crate::store::ConfigStore::open(flash).map_err(|_| "the store does not open")?;
        let c = two(30, 31);
        let _ = store.put_blocklist_chunk(&BlocklistChunk {
            version: 3,
            chunk: 0,
            chunks: 1,
            total: 2,
            cards: &c,
        });
        let mut flash = store.into_flash();
        flash.power_on();
        v.store = crate::store::ConfigStore::open(flash)
            .map_err(|_| "the store does not reopen after the cut")?;
        let version = v.store.blocklist_version();
        check(
            version == 2 || version == 3,
            "the blocklist was lost in the cut",
        )?;
        if version == 2 {
            check(
                v.store.is_blocked(21).unwrap_or(false),
                "the old blocklist is damaged",
            )?;
        } else {
            check(
                v.store.is_blocked(31).unwrap_or(false),
                "the new blocklist is damaged",
            )?;
            put(&mut v, 2, 0, 1, 2, &b)?;
        }
    }
    Ok(())
}

/// A panel that takes pixels and keeps a sum of them (so nothing is
/// optimised away).
struct NullPanel(u32);

impl OriginDimensions for NullPanel {
    fn size(&self) -> Size {
        Size::new(WIDTH, HEIGHT)
    }
}

impl DrawTarget for NullPanel {
    type Color = Rgb565;
    type Error = core::convert::Infallible;
    fn draw_iter<I: IntoIterator<Item = Pixel<Rgb565>>>(
        &mut self,
        pixels: I,
    ) -> Result<(), Self::Error> {
        for Pixel(p, c) in pixels {
            self.0 = self
                .0
                .wrapping_add((p.x as u32) ^ u32::from(c.into_storage()));
        }
        Ok(())
    }
}

/// Every screen drawn (P16), on whatever the core runs on.
fn screens(meter: &dyn Meter, figures: &mut Figures) -> Result<(), &'static str> {
    let mut panel = NullPanel(0);
    let tap = Screen::Tap {
        now: T0,
        utc_offset_min: 180,
        result: TapResult::Accepted,
        card: 1_000_000_008,
        trips_left: Some(33),
    };
    let t = meter.now();
    let Ok(()) = tap.draw(&mut panel);
    figures.screen = meter.now().saturating_sub(t);
    for result in TapResult::ALL {
        let s = Screen::Tap {
            now: T0,
            utc_offset_min: 180,
            result,
            card: 1_000_000_008,
            trips_left: None,
        };
        let Ok(()) = s.draw(&mut panel);
    }
    for why in [
        OutOfService::NoKeys,
        OutOfService::LogFull,
        OutOfService::Storage,
        OutOfService::Reader,
    ] {
        let Ok(()) = Screen::OutOfService {
            now: Some(T0),
            utc_offset_min: 180,
            why,
        }
        .draw(&mut panel);
    }
    let Ok(()) = Screen::Ready {
        now: None,
        utc_offset_min: 180,
        route: 5,
    }
    .draw(&mut panel);
    check(panel.0 != 0, "nothing was drawn")
}

/// Runs every scenario; `each` hears each one's name as it passes.
pub fn run_all(meter: &dyn Meter, each: &mut dyn FnMut(&'static str)) -> Result<Figures, Failure> {
    let mut figures = Figures::default();
    let bench = Bench::new(meter);
    let fail = |scenario| move |what| Failure { scenario, what };
    taps(&bench, &mut figures).map_err(fail(
        "a tap accepted, a repeat in the same vehicle, another vehicle",
    ))?;
    each(
        "a tap accepted, a repeat in the same vehicle within 15 minutes, the same card on another vehicle",
    );
    blocked(&bench).map_err(fail("a blocked card"))?;
    each("a blocked card refused and left alone");
    inspection(&bench).map_err(fail("the inspection mode"))?;
    each("the inspection mode: validity and the last validation, nothing logged");
    power_cut().map_err(fail("a power cut during a log write"))?;
    each("a power cut at every byte of a log write, and the recovery");
    dock_session(meter, &mut figures).map_err(fail("a dock session over a byte pipe"))?;
    each("a whole dock session over a byte pipe in 7-byte pieces");
    blocklist_banks().map_err(fail("the blocklist bank switch"))?;
    each("the blocklist bank switch, and a power cut mid-way");
    screens(meter, &mut figures).map_err(fail("the screens"))?;
    each("every screen drawn");
    Ok(figures)
}

/// Two card numbers as a blocklist chunk's bytes.
fn two(a: u32, b: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&a.to_le_bytes());
    out[4..].copy_from_slice(&b.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_passes_on_the_host() {
        let mut seen = std::vec::Vec::new();
        let figures = run_all(&NoMeter, &mut |s| seen.push(s)).unwrap();
        assert_eq!(seen.len(), 7);
        assert_eq!(figures, Figures::default());
    }
}
