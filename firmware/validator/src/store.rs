//! The validator's settings and blocklist, in two flash banks.
//!
//! The host's newest data goes into the bank not in use; its header is
//! written last and carries a generation number, so a power cut at any
//! point leaves the old bank in force. The blocklist is kept sorted in
//! flash and looked up by binary search, so its size is bounded by flash,
//! not RAM.
//!
//! A bank: a 128-byte header (magic, generation, blocklist version, card
//! count, CRC-32 of the cards, the settings, CRC-16), then the card
//! numbers, u32 little-endian, ascending.

use embedded_storage::nor_flash::NorFlash;
use kartka_protocol::CRC16;
use kartka_protocol::message::{BlocklistChunk, MAX_ROUTES, Settings};

const MAGIC: [u8; 4] = *b"KTB1";
const HEADER: usize = 128;
const SETTINGS_MAX: usize = 64;
static CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError<E> {
    Flash(E),
    /// The region is not two banks of whole sectors.
    Geometry,
    /// Route not among the routes, a zero timeout…
    SettingsInvalid,
    /// A chunk came out of order; this one is expected.
    ChunkOrder {
        expected: u16,
    },
    /// Not ascending, or the count disagrees with `total`.
    BlocklistInvalid,
    /// More card numbers than a bank holds.
    TooLarge {
        capacity: u32,
    },
}

impl<E> From<E> for StoreError<E> {
    fn from(e: E) -> Self {
        StoreError::Flash(e)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    generation: u32,
    blocklist_version: u32,
    count: u32,
    cards_crc: u32,
    settings: Option<Settings>,
}

impl Header {
    fn encode(&self) -> [u8; HEADER] {
        let mut b = [0u8; HEADER];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..8].copy_from_slice(&self.generation.to_le_bytes());
        b[8..12].copy_from_slice(&self.blocklist_version.to_le_bytes());
        b[12..16].copy_from_slice(&self.count.to_le_bytes());
        b[16..20].copy_from_slice(&self.cards_crc.to_le_bytes());
        if let Some(s) = &self.settings {
            let n = postcard::to_slice(s, &mut b[21..21 + SETTINGS_MAX])
                .map(|s| s.len())
                .unwrap_or(0);
            b[20] = n as u8;
        }
        let crc = CRC16.checksum(&b[..HEADER - 2]);
        b[HEADER - 2..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    fn decode(b: &[u8; HEADER]) -> Option<Header> {
        if b[0..4] != MAGIC || CRC16.checksum(&b[..HEADER - 2]).to_le_bytes() != b[HEADER - 2..] {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let n = (b[20] as usize).min(SETTINGS_MAX);
        Some(Header {
            generation: u32_at(4),
            blocklist_version: u32_at(8),
            count: u32_at(12),
            cards_crc: u32_at(16),
            settings: if n == 0 {
                None
            } else {
                postcard::from_bytes(&b[21..21 + n]).ok()
            },
        })
    }
}

/// A blocklist being received.
struct Staging {
    version: u32,
    next_chunk: u16,
    chunks: u16,
    total: u32,
    written: u32,
    last_card: Option<u32>,
    crc: crc::Digest<'static, u32>,
}

pub struct ConfigStore<F: NorFlash> {
    flash: F,
    bank_size: u32,
    /// The bank in force and its header.
    active: Option<(u32, Header)>,
    staging: Option<Staging>,
}

/// Whether settings make sense for a vehicle.
pub fn settings_valid(s: &Settings) -> bool {
    s.timeout_s > 0
        && s.vehicle != 0
        && s.route != 0
        && s.routes.contains(&s.route)
        && s.routes.len() == MAX_ROUTES
        && (-720..=840).contains(&s.utc_offset_min)
}

impl<F: NorFlash> ConfigStore<F> {
    pub fn open(flash: F) -> Result<ConfigStore<F>, StoreError<F::Error>> {
        let bank_size = (flash.capacity() / 2) as u32;
        if !(bank_size as usize).is_multiple_of(F::ERASE_SIZE)
            || bank_size as usize <= HEADER
            || 4 % F::WRITE_SIZE != 0
        {
            return Err(StoreError::Geometry);
        }
        let mut store = ConfigStore {
            flash,
            bank_size,
            active: None,
            staging: None,
        };
        for bank in 0..2 {
            if let Some(h) = store.valid_header(bank)?
                && store
                    .active
                    .is_none_or(|(_, a)| h.generation > a.generation)
            {
                store.active = Some((bank, h));
            }
        }
        Ok(store)
    }

    pub fn settings(&self) -> Option<Settings> {
        self.active.and_then(|(_, h)| h.settings)
    }

    pub fn blocklist_version(&self) -> u32 {
        self.active.map_or(0, |(_, h)| h.blocklist_version)
    }

    pub fn blocklist_len(&self) -> u32 {
        self.active.map_or(0, |(_, h)| h.count)
    }

    /// Card numbers a bank can hold.
    pub fn capacity(&self) -> u32 {
        (self.bank_size - HEADER as u32) / 4
    }

    pub fn is_blocked(&mut self, card: u32) -> Result<bool, F::Error> {
        let Some((bank, h)) = self.active else {
            return Ok(false);
        };
        let (mut lo, mut hi) = (0, h.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let at = self.card_at(bank, mid)?;
            if at == card {
                return Ok(true);
            }
            if at < card { lo = mid + 1 } else { hi = mid }
        }
        Ok(false)
    }

    pub fn put_settings(&mut self, settings: Settings) -> Result<(), StoreError<F::Error>> {
        if !settings_valid(&settings) {
            return Err(StoreError::SettingsInvalid);
        }
        self.staging = None;
        let target = self.spare_bank();
        self.erase_bank(target)?;
        let mut header = self.active.map_or(
            Header {
                generation: 0,
                blocklist_version: 0,
                count: 0,
                cards_crc: CRC32.checksum(&[]),
                settings: None,
            },
            |(_, h)| h,
        );
        if let Some((from, h)) = self.active {
            let mut buf = [0u8; 64];
            let bytes = h.count * 4;
            let mut done = 0;
            while done < bytes {
                let n = (bytes - done).min(buf.len() as u32);
                self.flash
                    .read(self.cards_offset(from) + done, &mut buf[..n as usize])?;
                self.flash
                    .write(self.cards_offset(target) + done, &buf[..n as usize])?;
                done += n;
            }
        }
        header.generation += 1;
        header.settings = Some(settings);
        self.commit(target, header)
    }

    /// Takes one chunk of a new blocklist. Returns true when it was the
    /// last and the new list is in force.
    pub fn put_blocklist_chunk(
        &mut self,
        chunk: &BlocklistChunk<'_>,
    ) -> Result<bool, StoreError<F::Error>> {
        if chunk.chunk == 0 {
            if chunk.total > self.capacity() {
                return Err(StoreError::TooLarge {
                    capacity: self.capacity(),
                });
            }
            if chunk.chunks == 0 {
                return Err(StoreError::BlocklistInvalid);
            }
            self.staging = None;
            self.erase_bank(self.spare_bank())?;
            self.staging = Some(Staging {
                version: chunk.version,
                next_chunk: 0,
                chunks: chunk.chunks,
                total: chunk.total,
                written: 0,
                last_card: None,
                crc: CRC32.digest(),
            });
        }
        let target = self.spare_bank();
        let cards_offset = self.cards_offset(target);
        let Some(st) = self.staging.as_mut() else {
            return Err(StoreError::ChunkOrder { expected: 0 });
        };
        if chunk.chunk != st.next_chunk || chunk.version != st.version || chunk.chunks != st.chunks
        {
            return Err(StoreError::ChunkOrder {
                expected: st.next_chunk,
            });
        }
        if !chunk.cards.len().is_multiple_of(4)
            || st.written + (chunk.cards.len() / 4) as u32 > st.total
        {
            self.staging = None;
            return Err(StoreError::BlocklistInvalid);
        }
        for card in chunk
            .cards
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        {
            if st.last_card.is_some_and(|last| card <= last) {
                self.staging = None;
                return Err(StoreError::BlocklistInvalid);
            }
            st.last_card = Some(card);
        }
        self.flash
            .write(cards_offset + st.written * 4, chunk.cards)?;
        st.crc.update(chunk.cards);
        st.written += (chunk.cards.len() / 4) as u32;
        st.next_chunk += 1;
        if st.next_chunk < st.chunks {
            return Ok(false);
        }
        let st = self.staging.take().expect("staging");
        if st.written != st.total {
            return Err(StoreError::BlocklistInvalid);
        }
        let header = Header {
            generation: self.active.map_or(0, |(_, h)| h.generation) + 1,
            blocklist_version: st.version,
            count: st.total,
            cards_crc: st.crc.finalize(),
            settings: self.settings(),
        };
        self.commit(target, header)?;
        Ok(true)
    }

    pub fn into_flash(self) -> F {
        self.flash
    }

    fn spare_bank(&self) -> u32 {
        match self.active {
            Some((0, _)) => 1,
            _ => 0,
        }
    }

    fn cards_offset(&self, bank: u32) -> u32 {
        bank * self.bank_size + HEADER as u32
    }

    fn card_at(&mut self, bank: u32, i: u32) -> Result<u32, F::Error> {
        let mut b = [0u8; 4];
        self.flash.read(self.cards_offset(bank) + i * 4, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn erase_bank(&mut self, bank: u32) -> Result<(), F::Error> {
        self.flash
            .erase(bank * self.bank_size, (bank + 1) * self.bank_size)
    }

    fn commit(&mut self, bank: u32, header: Header) -> Result<(), StoreError<F::Error>> {
        self.flash.write(bank * self.bank_size, &header.encode())?;
        self.active = Some((bank, header));
        Ok(())
    }

    /// The bank's header, if it is whole and its cards match their CRC.
    fn valid_header(&mut self, bank: u32) -> Result<Option<Header>, F::Error> {
        let mut b = [0u8; HEADER];
        self.flash.read(bank * self.bank_size, &mut b)?;
        let Some(h) = Header::decode(&b) else {
            return Ok(None);
        };
        if h.count > self.capacity() {
            return Ok(None);
        }
        let mut digest = CRC32.digest();
        let mut buf = [0u8; 64];
        let (bytes, mut done) = (h.count * 4, 0);
        while done < bytes {
            let n = (bytes - done).min(buf.len() as u32);
            self.flash
                .read(self.cards_offset(bank) + done, &mut buf[..n as usize])?;
            digest.update(&buf[..n as usize]);
            done += n;
        }
        Ok((digest.finalize() == h.cards_crc).then_some(h))
    }
}

#[cfg(test)]
mod tests;
