//! Deciding a tap (P11–P13) and remembering it.

use embedded_storage::nor_flash::NorFlash;
use kartka_protocol::auth::DockKey;
use kartka_protocol::card::keys::{KeyKind, KeyVersion, MasterKey, sector_key_of};
use kartka_protocol::card::mad::{MAD_KEY_A, Mad, TRANSPORT_AID};
use kartka_protocol::card::transport::{LastValidation, TransportApp, Validity};
use kartka_protocol::card::{first_block, value};
use kartka_protocol::message::Settings;
use kartka_protocol::{TapRecord, TapResult, Uid};

use crate::calendar;
use crate::log::{LogError, TapLog};
use crate::reader::CardReader;
use crate::screen::Screen;
use crate::store::{ConfigStore, StoreError};

/// Accepted taps remembered in RAM for the repeat timeout, besides the
/// card's own last-validation block.
const RECENT: usize = 64;
/// The same card held on (or waved again at) the reader within this many
/// seconds is the same tap, not a new one.
pub const DEBOUNCE_S: u32 = 3;

/// What the passenger sees (P16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// A trip.
    Green,
    /// Refused.
    Red,
    /// Already registered in this vehicle, or the inspection mode.
    Blue,
}

impl Signal {
    pub fn of(result: TapResult) -> Signal {
        match result {
            TapResult::Accepted => Signal::Green,
            TapResult::Repeat => Signal::Blue,
            _ => Signal::Red,
        }
    }
}

/// The lights and the screen (P16): what a screen shows, and its light.
pub trait Indicator {
    fn show(&mut self, screen: &crate::screen::Screen);
}

/// The validator's clock, UTC seconds.
pub trait Clock {
    /// `None` until the host has set it.
    fn now(&self) -> Option<u32>;
    fn set(&mut self, utc: u32);
}

/// The keys a validator holds.
#[derive(Clone, Copy)]
pub struct Keys {
    /// Derives each card's sector keys.
    pub card_master: MasterKey,
    /// This validator's own dock key.
    pub dock: DockKey,
}

#[derive(Debug, PartialEq, Eq)]
pub enum CoreError<E> {
    /// The log is full: nothing was written to the card; dock the validator.
    LogFull,
    /// The settings or blocklist store failed.
    Store(StoreError<E>),
    Log(LogError<E>),
    /// The reader chip or its bus failed: restart the reader.
    Reader(crate::reader::Fault),
}

/// What the card says, for the inspection mode (P15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardView {
    pub uid: Uid,
    pub app: TransportApp,
    pub trips: u16,
    pub last: Option<LastValidation>,
}

pub struct Validator<L: NorFlash, C: NorFlash> {
    pub id: u16,
    pub firmware: [u8; 3],
    keys: Keys,
    pub(crate) log: TapLog<L>,
    pub(crate) store: ConfigStore<C>,
    recent: [(u32, u32); RECENT],
    recent_next: usize,
    last_uid: Option<(Uid, u32)>,
    /// A card that left mid-registration: (card, time written). If its
    /// last-validation block did reach the card, the retap is that trip.
    unsure: Option<(u32, u32)>,
    /// The last tap's trips left this month, where its card has a limit.
    trips_left: Option<u16>,
}

impl<L: NorFlash, C: NorFlash<Error = L::Error>> Validator<L, C> {
    /// Opens the log and the store; rebuilds the repeat table from the log.
    pub fn open(
        id: u16,
        firmware: [u8; 3],
        keys: Keys,
        log: L,
        store: C,
    ) -> Result<Self, CoreError<L::Error>> {
        let log = TapLog::open(log).map_err(CoreError::Log)?;
        let store = ConfigStore::open(store).map_err(CoreError::Store)?;
        let mut v = Validator {
            id,
            firmware,
            keys,
            log,
            store,
            recent: [(0, 0); RECENT],
            recent_next: 0,
            last_uid: None,
            unsure: None,
            trips_left: None,
        };
        v.rebuild_recent().map_err(CoreError::Log)?;
        Ok(v)
    }

    pub fn dock_key(&self) -> &DockKey {
        &self.keys.dock
    }

    pub fn settings(&self) -> Option<Settings> {
        self.store.settings()
    }

    /// Takes new settings, as the driver's terminal does when the driver
    /// picks a route or zone (P15); the dock does the same with
    /// `PutSettings`.
    pub fn put_settings(&mut self, settings: Settings) -> Result<(), StoreError<L::Error>> {
        self.store.put_settings(settings)
    }

    pub fn next_seq(&self) -> u32 {
        self.log.next_seq()
    }

    /// The screen for a tap `poll` returned (P11, P16).
    pub fn tap_screen(&self, record: &TapRecord) -> Screen {
        Screen::Tap {
            now: record.time,
            utc_offset_min: self.settings().map_or(0, |s| s.utc_offset_min),
            result: record.result,
            card: record.card,
            trips_left: self.trips_left,
        }
    }

    /// The screen while waiting for a card: the date and time (P16).
    pub fn ready_screen(&self, now: Option<u32>) -> Screen {
        let s = self.settings();
        Screen::Ready {
            now,
            utc_offset_min: s.map_or(0, |s| s.utc_offset_min),
            route: s.map_or(0, |s| s.route),
        }
    }

    /// The inspection mode (P15) as a screen: the card read without a
    /// trip, its validity today and whether this validator blocks it.
    pub fn inspect_screen<R: CardReader>(&mut self, reader: &mut R, now: u32) -> Option<Screen> {
        let card = self.inspect(reader)?;
        let blocked = match &card {
            Ok(v) => self.store.is_blocked(v.app.card).unwrap_or(false),
            Err(_) => false,
        };
        Some(Screen::Inspect {
            now,
            utc_offset_min: self.settings().map_or(0, |s| s.utc_offset_min),
            card,
            blocked,
        })
    }

    /// The trips left this month on the card of the last tap (P9, P16):
    /// `Some` where the card has a trip limit and the tap was decided.
    pub fn trips_left(&self) -> Option<u16> {
        self.trips_left
    }

    /// Serves one card, if one is there: decides, writes the card, logs the
    /// tap. `Ok(None)`: no new card.
    pub fn poll<R: CardReader>(
        &mut self,
        reader: &mut R,
        now: Option<u32>,
    ) -> Result<Option<TapRecord>, CoreError<L::Error>> {
        let Ok(Some(uid)) = reader.detect() else {
            return Ok(None);
        };
        let t = now.unwrap_or(0);
        if self
            .last_uid
            .is_some_and(|(u, at)| u == uid && t.wrapping_sub(at) < DEBOUNCE_S)
        {
            reader.release();
            return Ok(None);
        }
        if !self.log.has_room().map_err(CoreError::Log)? {
            reader.release();
            return Err(CoreError::LogFull);
        }
        let settings = self.store.settings();
        self.trips_left = None;
        let mut record = TapRecord {
            validator: self.id,
            seq: 0,
            time: t,
            card: 0,
            uid,
            vehicle: settings.map_or(0, |s| s.vehicle),
            route: settings.map_or(0, |s| s.route),
            zone: settings.map_or(0, |s| s.zone),
            result: TapResult::NotConfigured,
            trips: 0,
        };
        if let (Some(s), Some(now)) = (settings, now) {
            self.decide(reader, &s, now, &mut record)
                .map_err(|e| CoreError::Store(StoreError::Flash(e)))?;
        }
        reader.release();
        self.last_uid = Some((uid, t));
        let record = self.log.append(record).map_err(CoreError::Log)?;
        if record.result == TapResult::Accepted {
            self.remember(record.card, record.time);
        }
        Ok(Some(record))
    }

    /// Reads a card without registering a trip (the inspection mode, P15).
    pub fn inspect<R: CardReader>(
        &mut self,
        reader: &mut R,
    ) -> Option<Result<CardView, TapResult>> {
        let Ok(Some(uid)) = reader.detect() else {
            return None;
        };
        let view = self.read_card(reader, uid).map(|(view, _)| view);
        reader.release();
        Some(view)
    }

    fn decide<R: CardReader>(
        &mut self,
        reader: &mut R,
        s: &Settings,
        now: u32,
        record: &mut TapRecord,
    ) -> Result<(), L::Error> {
        let (view, sector) = match self.read_card(reader, record.uid) {
            Ok(v) => v,
            Err(result) => {
                record.result = result;
                return Ok(());
            }
        };
        record.card = view.app.card;
        record.trips = view.trips;
        let local_day = calendar::local_day(now, s.utc_offset_min);
        // P9: trips this local month before this one, from the card's own
        // last validation (a new month starts from none).
        let month = calendar::month_of_day(local_day);
        let month_trips = view
            .last
            .filter(|l| {
                calendar::month_of_day(calendar::local_day(l.time, s.utc_offset_min)) == month
            })
            .map_or(0, |l| l.month_trips);
        let limit = u16::from(view.app.trip_limit);
        let timeout = u32::from(s.timeout_s);
        let repeat_on_card = view
            .last
            .is_some_and(|l| l.vehicle == s.vehicle && now >= l.time && now - l.time < timeout);
        let repeat_here = self
            .recent
            .iter()
            .any(|&(card, at)| card == view.app.card && at != 0 && now >= at && now - at < timeout);
        let unsure = self.unsure.take();
        let finished_here = repeat_on_card
            && view
                .last
                .is_some_and(|l| l.validator == self.id && unsure == Some((view.app.card, l.time)));
        record.result = if finished_here {
            // The card left after the trip was written but before it was
            // read back: it was a trip after all, counted now, once.
            record.trips = view.trips;
            TapResult::Accepted
        } else if self.store.is_blocked(view.app.card)? {
            TapResult::Blocked
        } else if let Err(v) = view.app.valid_on(local_day) {
            match v {
                Validity::NotYet => TapResult::NotYetValid,
                Validity::Expired => TapResult::Expired,
            }
        } else if repeat_on_card || repeat_here {
            TapResult::Repeat
        } else if limit > 0 && month_trips >= limit {
            TapResult::TripLimit
        } else {
            self.register(reader, s, now, sector, &view, month_trips + 1)
        };
        if record.result == TapResult::Accepted && !finished_here {
            record.trips = view.trips.saturating_add(1);
        }
        if limit > 0 {
            let used = match record.result {
                TapResult::Accepted if !finished_here => month_trips + 1,
                TapResult::Accepted => view.last.map_or(month_trips, |l| l.month_trips),
                _ => month_trips,
            };
            self.trips_left = Some(limit.saturating_sub(used));
        }
        if record.result == TapResult::CardError {
            self.unsure = Some((view.app.card, now));
        }
        Ok(())
    }

    /// Opens the card: MAD, then the transport sector with its derived key.
    fn read_card<R: CardReader>(
        &mut self,
        reader: &mut R,
        uid: Uid,
    ) -> Result<(CardView, u8), TapResult> {
        if uid.as_bytes().len() != 4 {
            return Err(TapResult::UnknownCard);
        }
        // A card refusing a key and a card that left both just stay silent:
        // ask again whether it is still there.
        let refused = |reader: &mut R, refusal: TapResult| {
            reader.release();
            if matches!(reader.detect(), Ok(Some(u)) if u == uid) {
                refusal
            } else {
                TapResult::CardError
            }
        };
        let io = |_| TapResult::CardError;
        if reader.authenticate(1, &MAD_KEY_A).is_err() {
            return Err(refused(reader, TapResult::UnknownCard));
        }
        let mad = Mad::decode(&reader.read(1).map_err(io)?, &reader.read(2).map_err(io)?)
            .map_err(|_| TapResult::UnknownCard)?;
        let sector = mad.find(TRANSPORT_AID).ok_or(TapResult::UnknownCard)?;
        let first = first_block(sector);
        // The keys of the card's version, newest first: a card printed
        // before AN10922 keys opens with version 1. A refused key sends
        // the card to sleep; wake it for the next.
        let mut opened = None;
        for (i, version) in KeyVersion::ALL.into_iter().enumerate() {
            if i > 0 {
                reader.release();
                if !matches!(reader.detect(), Ok(Some(u)) if u == uid) {
                    return Err(TapResult::CardError);
                }
            }
            let key = sector_key_of(
                version,
                &self.keys.card_master,
                uid.as_bytes(),
                sector,
                KeyKind::A,
            );
            if reader.authenticate(first, &key).is_ok() {
                opened = Some(version);
                break;
            }
        }
        let Some(version) = opened else {
            return Err(refused(reader, TapResult::AuthFailed));
        };
        let app = TransportApp::from_block(&reader.read(first).map_err(io)?)
            .map_err(|_| TapResult::UnknownCard)?;
        // The layout says which keys the card should have: a card whose
        // keys and layout disagree was not made by the card office.
        if app.key_version() != version {
            return Err(TapResult::UnknownCard);
        }
        let (trips, _) = value::decode(&reader.read(first + 1).map_err(io)?)
            .map_err(|_| TapResult::CardError)?;
        let last = LastValidation::from_block(&reader.read(first + 2).map_err(io)?);
        Ok((
            CardView {
                uid,
                app,
                trips: trips.clamp(0, i32::from(u16::MAX)) as u16,
                last,
            },
            sector,
        ))
    }

    /// Writes the trip onto the card: the counter first, so a card pulled
    /// away half-way is never blocked by a timeout for a trip not counted.
    fn register<R: CardReader>(
        &mut self,
        reader: &mut R,
        s: &Settings,
        now: u32,
        sector: u8,
        view: &CardView,
        month_trips: u16,
    ) -> TapResult {
        let first = first_block(sector);
        let trips = i32::from(view.trips) + 1;
        if reader
            .write(first + 1, &value::encode(trips, first + 1))
            .is_err()
        {
            return TapResult::CardError;
        }
        let last = LastValidation {
            time: now,
            vehicle: s.vehicle,
            route: s.route,
            validator: self.id,
            zone: s.zone,
            month_trips,
        };
        if reader.write(first + 2, &last.to_block()).is_err() {
            return TapResult::CardError;
        }
        TapResult::Accepted
    }

    fn remember(&mut self, card: u32, at: u32) {
        self.recent[self.recent_next] = (card, at);
        self.recent_next = (self.recent_next + 1) % RECENT;
    }

    fn rebuild_recent(&mut self) -> Result<(), LogError<L::Error>> {
        let from = self.log.next_seq().saturating_sub(RECENT as u32);
        let mut cursor = self.log.start();
        let mut buf = [0u8; 8 * kartka_protocol::RECORD_LEN];
        loop {
            let n = self.log.read(&mut cursor, from, &mut buf)?;
            if n == 0 {
                return Ok(());
            }
            for chunk in
                buf[..n * kartka_protocol::RECORD_LEN].chunks_exact(kartka_protocol::RECORD_LEN)
            {
                if let Ok(r) = TapRecord::from_bytes(chunk)
                    && r.result == TapResult::Accepted
                {
                    self.remember(r.card, r.time);
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
