//! The tap log: an append-only ring of 32-byte slots in NOR flash.
//!
//! - The region is cut into erase sectors. Sector number `s` (1, 2, 3…)
//!   lives at physical sector `(s - 1) % n`; its first slot is a header
//!   (`s`, the ack mark and the next sequence number when it was started).
//! - Every other slot is a tap record or an ack mark, each with its own
//!   CRC-16. A slot is durable once its write returns.
//! - Only the oldest sector is ever erased, and only when every record in
//!   it is below the host's ack (its successor's header says which
//!   sequence numbers it can hold). When none can be freed the log is full
//!   and the validator stops accepting cards until it is docked.
//! - Power can fail at any byte: a torn slot fails its CRC and is skipped;
//!   a torn erase or header leaves a sector that is not live and is erased
//!   again; [`TapLog::open`] rebuilds everything from what is in flash.

use embedded_storage::nor_flash::NorFlash;
use kartka_protocol::{CRC16, RECORD_LEN, TapRecord};

/// Bytes per slot: kind, 29 bytes of payload, CRC-16.
pub const SLOT: usize = 32;
const PAYLOAD: usize = SLOT - 3;
const _: () = assert!(PAYLOAD == RECORD_LEN);

const HEADER: u8 = 0xC3;
const TAP: u8 = 0xA5;
const ACK: u8 = 0x5A;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogError<E> {
    Flash(E),
    /// No sector can be freed until the host acks: dock the validator.
    Full,
    /// The region is not whole sectors of at least two slots, there are
    /// fewer than two sectors, or the flash cannot write 32-byte slots.
    Geometry,
}

impl<E> From<E> for LogError<E> {
    fn from(e: E) -> Self {
        LogError::Flash(e)
    }
}

/// A place in the log, for reading it in batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    sector: u32,
    slot: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    sector: u32,
    acked_below: u32,
    next_seq: u32,
}

enum Slot {
    Erased,
    Header(Header),
    Tap(TapRecord),
    Ack(u32),
    /// Torn, or not a slot at all.
    Damaged,
}

fn seal(kind: u8, payload: &[u8]) -> [u8; SLOT] {
    let mut s = [0u8; SLOT];
    s[0] = kind;
    s[1..1 + payload.len()].copy_from_slice(payload);
    let crc = CRC16.checksum(&s[..1 + PAYLOAD]);
    s[SLOT - 2..].copy_from_slice(&crc.to_le_bytes());
    s
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn parse(s: &[u8; SLOT]) -> Slot {
    if s.iter().all(|&b| b == 0xFF) {
        return Slot::Erased;
    }
    if CRC16.checksum(&s[..SLOT - 2]).to_le_bytes() != s[SLOT - 2..] {
        return Slot::Damaged;
    }
    let p = &s[1..1 + PAYLOAD];
    match s[0] {
        HEADER => Slot::Header(Header {
            sector: u32_at(p, 0),
            acked_below: u32_at(p, 4),
            next_seq: u32_at(p, 8),
        }),
        TAP => TapRecord::from_bytes(p).map_or(Slot::Damaged, Slot::Tap),
        ACK => Slot::Ack(u32_at(p, 0)),
        _ => Slot::Damaged,
    }
}

pub struct TapLog<F: NorFlash> {
    flash: F,
    sectors: u32,
    slots: u32,
    /// Oldest and newest live sector numbers.
    tail: u32,
    head: u32,
    /// Next free slot in the head sector.
    write_slot: u32,
    next_seq: u32,
    acked_below: u32,
}

impl<F: NorFlash> TapLog<F> {
    /// Opens the log in `flash` (the whole device is the log's region),
    /// formatting it when it holds no log.
    pub fn open(flash: F) -> Result<TapLog<F>, LogError<F::Error>> {
        let erase = F::ERASE_SIZE;
        let geometry_ok = erase >= 2 * SLOT
            && erase % SLOT == 0
            && SLOT.is_multiple_of(F::WRITE_SIZE)
            && flash.capacity().is_multiple_of(erase)
            && flash.capacity() / erase >= 2;
        if !geometry_ok {
            return Err(LogError::Geometry);
        }
        let mut log = TapLog {
            sectors: (flash.capacity() / erase) as u32,
            slots: (erase / SLOT) as u32,
            flash,
            tail: 1,
            head: 1,
            write_slot: 1,
            next_seq: 1,
            acked_below: 1,
        };
        match log.find_head()? {
            Some(head) => log.recover(head)?,
            None => log.start_sector(1)?,
        }
        Ok(log)
    }

    /// The sequence number the next tap will get.
    pub fn next_seq(&self) -> u32 {
        self.next_seq
    }

    /// Every record below this is acknowledged by the host.
    pub fn acked_below(&self) -> u32 {
        self.acked_below
    }

    /// The oldest sequence number not yet acknowledged (= `next_seq` when
    /// all are).
    pub fn oldest_unacked(&self) -> u32 {
        self.acked_below.min(self.next_seq)
    }

    pub fn into_flash(self) -> F {
        self.flash
    }

    /// Whether a tap can be logged now without freeing anything the host
    /// has not acked.
    pub fn has_room(&mut self) -> Result<bool, LogError<F::Error>> {
        Ok(
            self.write_slot < self.slots
                || self.live() < self.sectors
                || self.tail_reclaimable()?,
        )
    }

    /// About how many more taps fit before the log is full.
    pub fn free_records(&mut self) -> Result<u32, LogError<F::Error>> {
        let mut free =
            self.slots - self.write_slot + (self.sectors - self.live()) * (self.slots - 1);
        let mut sector = self.tail;
        while sector < self.head
            && self
                .header(sector + 1)?
                .is_some_and(|h| h.next_seq <= self.acked_below)
        {
            free += self.slots - 1;
            sector += 1;
        }
        Ok(free)
    }

    /// Logs a tap, giving it the next sequence number. Durable once this
    /// returns `Ok`.
    pub fn append(&mut self, mut record: TapRecord) -> Result<TapRecord, LogError<F::Error>> {
        record.seq = self.next_seq;
        self.write_slot_of(seal(TAP, &record.to_bytes()))?;
        self.next_seq += 1;
        Ok(record)
    }

    /// The host holds every record up to and including `up_to`: their space
    /// may be reused. Returns false (and changes nothing) when `up_to` is
    /// not a record yet.
    pub fn ack(&mut self, up_to: u32) -> Result<bool, LogError<F::Error>> {
        if up_to >= self.next_seq {
            return Ok(false);
        }
        if up_to < self.acked_below {
            return Ok(true);
        }
        self.acked_below = up_to + 1;
        let mut p = [0u8; PAYLOAD];
        p[..4].copy_from_slice(&self.acked_below.to_le_bytes());
        match self.write_slot_of(seal(ACK, &p)) {
            // Still full: the mark lives in RAM and in the next header; if
            // the power fails first the host just gets the records again.
            Err(LogError::Full) => Ok(true),
            other => other.map(|()| true),
        }
    }

    /// A cursor at the oldest record held.
    pub fn start(&self) -> Cursor {
        Cursor {
            sector: self.tail,
            slot: 1,
        }
    }

    /// Copies the next records with `seq >= from` into `out` (whole
    /// records, [`RECORD_LEN`] bytes each) and moves `cursor` past them.
    /// Returns how many it copied; 0 means the end.
    pub fn read(
        &mut self,
        cursor: &mut Cursor,
        from: u32,
        out: &mut [u8],
    ) -> Result<usize, LogError<F::Error>> {
        if cursor.sector < self.tail {
            *cursor = self.start();
        }
        let room = out.len() / RECORD_LEN;
        let mut n = 0;
        while n < room && cursor.sector <= self.head {
            let end = if cursor.sector == self.head {
                self.write_slot
            } else {
                self.slots
            };
            if cursor.slot >= end {
                cursor.sector += 1;
                cursor.slot = 1;
                continue;
            }
            if let Slot::Tap(r) = self.slot(cursor.sector, cursor.slot)?
                && r.seq >= from
            {
                out[n * RECORD_LEN..(n + 1) * RECORD_LEN].copy_from_slice(&r.to_bytes());
                n += 1;
            }
            cursor.slot += 1;
        }
        Ok(n)
    }

    fn live(&self) -> u32 {
        self.head - self.tail + 1
    }

    fn offset(&self, sector: u32, slot: u32) -> u32 {
        ((sector - 1) % self.sectors) * (self.slots * SLOT as u32) + slot * SLOT as u32
    }

    fn slot(&mut self, sector: u32, slot: u32) -> Result<Slot, F::Error> {
        let mut s = [0u8; SLOT];
        self.flash.read(self.offset(sector, slot), &mut s)?;
        Ok(parse(&s))
    }

    /// The header of sector `sector`, if it is there and says so.
    fn header(&mut self, sector: u32) -> Result<Option<Header>, F::Error> {
        Ok(match self.slot(sector, 0)? {
            Slot::Header(h) if h.sector == sector => Some(h),
            _ => None,
        })
    }

    fn tail_reclaimable(&mut self) -> Result<bool, F::Error> {
        Ok(self.tail < self.head
            && self
                .header(self.tail + 1)?
                .is_some_and(|h| h.next_seq <= self.acked_below))
    }

    /// The newest sector with a good header, by its number.
    fn find_head(&mut self) -> Result<Option<u32>, F::Error> {
        let mut head = None;
        for phys in 0..self.sectors {
            let mut s = [0u8; SLOT];
            self.flash.read(phys * self.slots * SLOT as u32, &mut s)?;
            if let Slot::Header(h) = parse(&s)
                && h.sector >= 1
                && (h.sector - 1) % self.sectors == phys
            {
                head = head.max(Some(h.sector));
            }
        }
        Ok(head)
    }

    /// Rebuilds the ack mark, the next sequence number and the write
    /// position from the live sectors.
    fn recover(&mut self, head: u32) -> Result<(), F::Error> {
        self.head = head;
        self.tail = head;
        while self.tail > 1
            && head - (self.tail - 1) < self.sectors
            && self.header(self.tail - 1)?.is_some()
        {
            self.tail -= 1;
        }
        for sector in self.tail..=head {
            if let Some(h) = self.header(sector)? {
                self.next_seq = self.next_seq.max(h.next_seq);
                self.acked_below = self.acked_below.max(h.acked_below);
            }
            for slot in 1..self.slots {
                match self.slot(sector, slot)? {
                    Slot::Tap(r) => self.next_seq = self.next_seq.max(r.seq.saturating_add(1)),
                    Slot::Ack(a) => self.acked_below = self.acked_below.max(a),
                    Slot::Erased => continue,
                    Slot::Header(_) | Slot::Damaged => {}
                }
                if sector == head {
                    self.write_slot = slot + 1;
                }
            }
        }
        self.acked_below = self.acked_below.min(self.next_seq);
        Ok(())
    }

    /// Erases the sector where number `sector` goes and starts it.
    fn start_sector(&mut self, sector: u32) -> Result<(), F::Error> {
        let from = self.offset(sector, 0);
        self.flash.erase(from, from + self.slots * SLOT as u32)?;
        let mut p = [0u8; PAYLOAD];
        p[0..4].copy_from_slice(&sector.to_le_bytes());
        p[4..8].copy_from_slice(&self.acked_below.to_le_bytes());
        p[8..12].copy_from_slice(&self.next_seq.to_le_bytes());
        self.flash.write(from, &seal(HEADER, &p))?;
        if sector == 1 {
            self.tail = 1;
        }
        self.head = sector;
        self.write_slot = 1;
        Ok(())
    }

    fn write_slot_of(&mut self, slot: [u8; SLOT]) -> Result<(), LogError<F::Error>> {
        if self.write_slot >= self.slots {
            if self.live() == self.sectors {
                if !self.tail_reclaimable()? {
                    return Err(LogError::Full);
                }
                self.tail += 1;
            }
            self.start_sector(self.head + 1)?;
        }
        let at = self.offset(self.head, self.write_slot);
        // The slot is taken even if the write fails half-way: a torn slot
        // is never written over.
        self.write_slot += 1;
        self.flash.write(at, &slot)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
