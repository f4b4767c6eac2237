//! A virtual MIFARE Classic 1K card (NXP MF1S50) on an ISO 14443-3 type A link.
//!
//! Modelled: the 64 blocks, block 0 (UID, BCC, SAK, ATQA), the states Idle,
//! Ready, Active and Halt, REQA/WUPA, anticollision and select at cascade
//! level 1, HLTA, authentication with Key A or Key B, READ and the two-phase
//! WRITE, and the access conditions of the sector trailers (a trailer with
//! inconsistent access bits locks its sector, as on a real card).
//!
//! Not modelled: Crypto1 itself (the fake reader tells the card whether its
//! Crypto1 unit is on, and a mismatch reads as noise), the value-block
//! commands (INCREMENT, DECREMENT, RESTORE, TRANSFER), anticollision frames
//! with a partial UID (a collision needs two cards), and 7-byte UIDs.

const BLOCK_LEN: usize = 16;
const BLOCK_COUNT: usize = 64;

/// Select acknowledge of a MIFARE Classic 1K.
const SAK: u8 = 0x08;
/// Answer to request: a single-size (4-byte) UID, sent low byte first.
const ATQA: [u8; 2] = [0x04, 0x00];

const ACK: u8 = 0x0A;
const NAK_INVALID: u8 = 0x04;
const NAK_CRC: u8 = 0x05;

const REQA: u8 = 0x26;
const WUPA: u8 = 0x52;
const SEL_CL1: u8 = 0x93;
const NVB_ANTICOLLISION: u8 = 0x20;
const NVB_SELECT: u8 = 0x70;
const HLTA: u8 = 0x50;
const AUTH_KEY_A: u8 = 0x60;
const AUTH_KEY_B: u8 = 0x61;
const READ: u8 = 0x30;
const WRITE: u8 = 0xA0;

/// Key A = FF×6, access bits FF 07 80 (transport configuration), GPB 69, Key B = FF×6.
const TRANSPORT_TRAILER: [u8; BLOCK_LEN] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x80, 0x69, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

/// ISO 14443-3 CRC_A (CRC-16, polynomial 0x8408 reflected) from the given preset.
pub(super) fn crc_a_preset(preset: u16, data: &[u8]) -> u16 {
    data.iter().fold(preset, |crc, &byte| {
        let mut ch = byte ^ (crc as u8);
        ch ^= ch << 4;
        let ch = u16::from(ch);
        (crc >> 8) ^ (ch << 8) ^ (ch << 3) ^ (ch >> 4)
    })
}

/// CRC_A with the standard preset 0x6363, in transmission order (low byte first).
pub(super) fn crc_a(data: &[u8]) -> [u8; 2] {
    crc_a_preset(0x6363, data).to_le_bytes()
}

/// Whether the frame ends with a correct CRC_A over the bytes before it.
fn has_valid_crc(frame: &[u8]) -> bool {
    frame.len() >= 3 && {
        let (body, crc) = frame.split_at(frame.len() - 2);
        crc_a(body)[..] == *crc
    }
}

fn bcc(uid: &[u8; 4]) -> u8 {
    uid.iter().fold(0, |acc, b| acc ^ b)
}

fn is_trailer(block: u8) -> bool {
    block & 3 == 3
}

/// What the card sends back for one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reply {
    /// No answer: the reader's timer runs out.
    Silent,
    /// A 4-bit ACK or NAK.
    Nibble(u8),
    /// Whole bytes (at most 16 data bytes and a CRC_A).
    Bytes { buf: [u8; 18], len: usize },
}

impl Reply {
    fn bytes(data: &[u8]) -> Self {
        let mut buf = [0; 18];
        let len = data.len().min(buf.len());
        buf[..len].copy_from_slice(&data[..len]);
        Reply::Bytes { buf, len }
    }

    fn with_crc(data: &[u8]) -> Self {
        let mut buf = [0; 18];
        let len = data.len().min(BLOCK_LEN);
        buf[..len].copy_from_slice(&data[..len]);
        buf[len..len + 2].copy_from_slice(&crc_a(&data[..len]));
        Reply::Bytes { buf, len: len + 2 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Ready,
    Active,
    Halt,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyType {
    A,
    B,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Auth {
    sector: u8,
    key: KeyType,
}

/// Which key may perform an operation, as in the MF1S50 access tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Never,
    KeyA,
    KeyB,
    Either,
}

impl Who {
    fn admits(self, key: KeyType) -> bool {
        matches!(
            (self, key),
            (Who::Either, _) | (Who::KeyA, KeyType::A) | (Who::KeyB, KeyType::B)
        )
    }
}

/// Rights on a data block for access condition C1 C2 C3 (MF1S50 table 8).
fn data_rights(condition: u8) -> (Who, Who) {
    use Who::{Either, KeyB, Never};
    match condition {
        0b000 => (Either, Either),
        0b010 | 0b001 => (Either, Never),
        0b100 | 0b110 => (Either, KeyB),
        0b011 => (KeyB, KeyB),
        0b101 => (KeyB, Never),
        _ => (Never, Never),
    }
}

/// Rights on the parts of a sector trailer (MF1S50 table 7). Key A is never readable.
struct TrailerRights {
    key_a_write: Who,
    access_read: Who,
    access_write: Who,
    key_b_read: Who,
    key_b_write: Who,
}

fn trailer_rights(condition: u8) -> TrailerRights {
    use Who::{Either, KeyA, KeyB, Never};
    let (key_a_write, access_read, access_write, key_b_read, key_b_write) = match condition {
        0b000 => (KeyA, KeyA, Never, KeyA, KeyA),
        0b010 => (Never, KeyA, Never, KeyA, Never),
        0b100 => (KeyB, Either, Never, Never, KeyB),
        0b001 => (KeyA, KeyA, KeyA, KeyA, KeyA),
        0b011 => (KeyB, Either, KeyB, Never, KeyB),
        0b101 => (Never, Either, KeyB, Never, Never),
        _ => (Never, Either, Never, Never, Never),
    };
    TrailerRights {
        key_a_write,
        access_read,
        access_write,
        key_b_read,
        key_b_write,
    }
}

/// The access condition (C1 C2 C3 as a 3-bit number) of each block of a
/// sector, or `None` when the inverted copies in the trailer disagree.
fn access_conditions(trailer: &[u8; BLOCK_LEN]) -> Option<[u8; 4]> {
    let (b6, b7, b8) = (trailer[6], trailer[7], trailer[8]);
    let (c1, c2, c3) = (b7 >> 4, b8 & 0x0F, b8 >> 4);
    let consistent = (!b6 & 0x0F) == c1 && (!b6 >> 4) == c2 && (!b7 & 0x0F) == c3;
    let bit = |c: u8, i: usize| (c >> i) & 1;
    consistent.then(|| core::array::from_fn(|i| (bit(c1, i) << 2) | (bit(c2, i) << 1) | bit(c3, i)))
}

/// A MIFARE Classic 1K card with a 4-byte UID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualCard {
    blocks: [[u8; BLOCK_LEN]; BLOCK_COUNT],
    state: State,
    /// Where an error sends a woken card: Idle, or Halt if WUPA woke it from Halt.
    fallback: State,
    auth: Option<Auth>,
    /// The block of a WRITE whose first phase was acknowledged.
    pending_write: Option<u8>,
}

impl VirtualCard {
    /// A fresh card: transport trailers everywhere (keys FF×6), data blocks zero.
    pub fn factory(uid: [u8; 4]) -> Self {
        let mut blocks = [[0; BLOCK_LEN]; BLOCK_COUNT];
        blocks[0][..4].copy_from_slice(&uid);
        blocks[0][4] = bcc(&uid);
        blocks[0][5] = SAK;
        blocks[0][6..8].copy_from_slice(&ATQA);
        for sector in 0..BLOCK_COUNT / 4 {
            blocks[sector * 4 + 3] = TRANSPORT_TRAILER;
        }
        Self::from_blocks(blocks)
    }

    /// A card with the given memory; the UID comes from block 0.
    pub fn from_blocks(blocks: [[u8; BLOCK_LEN]; BLOCK_COUNT]) -> Self {
        Self {
            blocks,
            state: State::Idle,
            fallback: State::Idle,
            auth: None,
            pending_write: None,
        }
    }

    /// The UID, from block 0.
    pub fn uid(&self) -> [u8; 4] {
        core::array::from_fn(|i| self.blocks[0][i])
    }

    /// The raw memory of block `n`, real keys included; zeros past block 63.
    pub fn block(&self, n: u8) -> [u8; BLOCK_LEN] {
        self.blocks.get(usize::from(n)).copied().unwrap_or_default()
    }

    /// The raw memory, real keys included.
    pub fn blocks(&self) -> &[[u8; BLOCK_LEN]; BLOCK_COUNT] {
        &self.blocks
    }

    /// The card loses power (it left the field or the antenna went off).
    pub(super) fn power_off(&mut self) {
        self.state = State::Idle;
        self.fall_back();
    }

    /// Handles one frame from the reader. `last_bits` is the number of valid
    /// bits in the last byte (0 means 8); `crypto_on` is the reader's Crypto1
    /// state; `nak_write` is a fault to inject on the next WRITE data phase.
    pub(super) fn receive(
        &mut self,
        frame: &[u8],
        last_bits: u8,
        crypto_on: bool,
        nak_write: &mut bool,
    ) -> Reply {
        if crypto_on != self.auth.is_some() {
            // One side encrypts and the other does not: the card hears noise.
            return self.refuse_silently();
        }
        match (frame, last_bits) {
            ([command], 7) => self.on_short_frame(*command),
            (_, 0) if self.state == State::Ready => self.on_ready(frame),
            (_, 0) if self.state == State::Active => self.on_active(frame, nak_write),
            _ => self.refuse_silently(),
        }
    }

    /// The MFAuthent exchange, as the reader chip runs it. Returns success.
    pub(super) fn authenticate(&mut self, command: u8, block: u8, key: &[u8], uid: &[u8]) -> bool {
        let key_type = match command {
            AUTH_KEY_A => Some(KeyType::A),
            AUTH_KEY_B => Some(KeyType::B),
            _ => None,
        };
        let ok = self.state == State::Active
            && usize::from(block) < BLOCK_COUNT
            && uid == self.uid()
            && key_type.is_some_and(|k| self.stored_key(block, k) == key);
        match key_type.filter(|_| ok) {
            Some(key) => {
                self.auth = Some(Auth {
                    sector: block / 4,
                    key,
                })
            }
            None => self.fall_back(),
        }
        ok
    }

    fn on_short_frame(&mut self, command: u8) -> Reply {
        let fallback = match (command, self.state) {
            (REQA | WUPA, State::Idle) => State::Idle,
            (WUPA, State::Halt) => State::Halt,
            _ => return self.refuse_silently(),
        };
        self.state = State::Ready;
        self.fallback = fallback;
        Reply::bytes(&ATQA)
    }

    fn on_ready(&mut self, frame: &[u8]) -> Reply {
        match frame {
            [SEL_CL1, NVB_ANTICOLLISION] => Reply::bytes(&self.blocks[0][..5]),
            [SEL_CL1, NVB_SELECT, ..] if self.is_selected_by(frame) => {
                self.state = State::Active;
                Reply::with_crc(&[SAK])
            }
            _ => self.refuse_silently(),
        }
    }

    fn is_selected_by(&self, frame: &[u8]) -> bool {
        let uid = self.uid();
        frame.len() == 9 && has_valid_crc(frame) && frame[2..6] == uid && frame[6] == bcc(&uid)
    }

    fn on_active(&mut self, frame: &[u8], nak_write: &mut bool) -> Reply {
        if let Some(block) = self.pending_write.take() {
            return self.write_data(block, frame, nak_write);
        }
        if !has_valid_crc(frame) {
            return self.refuse(NAK_CRC);
        }
        match *frame {
            [HLTA, 0, _, _] => {
                self.state = State::Halt;
                self.fall_back();
                Reply::Silent
            }
            [READ, block, _, _] => self.read(block),
            [WRITE, block, _, _] => self.begin_write(block),
            _ => self.refuse(NAK_INVALID),
        }
    }

    fn read(&mut self, block: u8) -> Reply {
        let Some(key) = self.usable_key(block) else {
            return self.refuse(NAK_INVALID);
        };
        let condition = self.condition(block);
        if is_trailer(block) {
            let data = self.visible_trailer(block, trailer_rights(condition), key);
            return Reply::with_crc(&data);
        }
        if !data_rights(condition).0.admits(key) {
            return self.refuse(NAK_INVALID);
        }
        Reply::with_crc(&self.blocks[usize::from(block)])
    }

    /// A trailer as the card reads it out: Key A as zeros, and zeros for any
    /// part the key may not read.
    fn visible_trailer(&self, block: u8, rights: TrailerRights, key: KeyType) -> [u8; 16] {
        let stored = &self.blocks[usize::from(block)];
        let mut out = [0; BLOCK_LEN];
        if rights.access_read.admits(key) {
            out[6..10].copy_from_slice(&stored[6..10]);
        }
        if rights.key_b_read.admits(key) {
            out[10..].copy_from_slice(&stored[10..]);
        }
        out
    }

    fn begin_write(&mut self, block: u8) -> Reply {
        let Some(key) = self.usable_key(block) else {
            return self.refuse(NAK_INVALID);
        };
        let condition = self.condition(block);
        let allowed = if is_trailer(block) {
            let r = trailer_rights(condition);
            [r.key_a_write, r.access_write, r.key_b_write]
                .iter()
                .any(|who| who.admits(key))
        } else {
            block != 0 && data_rights(condition).1.admits(key)
        };
        if !allowed {
            return self.refuse(NAK_INVALID);
        }
        self.pending_write = Some(block);
        Reply::Nibble(ACK)
    }

    fn write_data(&mut self, block: u8, frame: &[u8], nak_write: &mut bool) -> Reply {
        let (Some(key), [data @ .., _, _]) = (self.usable_key(block), frame) else {
            return self.refuse(NAK_INVALID);
        };
        if data.len() != BLOCK_LEN || !has_valid_crc(frame) {
            return self.refuse(NAK_CRC);
        }
        if core::mem::take(nak_write) {
            return self.refuse(NAK_INVALID);
        }
        let rights = trailer_rights(self.condition(block));
        let stored = &mut self.blocks[usize::from(block)];
        if !is_trailer(block) {
            stored.copy_from_slice(data);
            return Reply::Nibble(ACK);
        }
        // A trailer write changes only the parts this key may write.
        for (who, range) in [
            (rights.key_a_write, 0..6),
            (rights.access_write, 6..10),
            (rights.key_b_write, 10..16),
        ] {
            if who.admits(key) {
                stored[range.clone()].copy_from_slice(&data[range]);
            }
        }
        Reply::Nibble(ACK)
    }

    /// The key the card is authenticated with, if it grants anything on
    /// `block`: same sector, well-formed access bits, and not a Key B that is
    /// itself readable (such a Key B has no rights, MF1S50 §8.7.1).
    fn usable_key(&self, block: u8) -> Option<KeyType> {
        let auth = self
            .auth
            .filter(|a| usize::from(block) < BLOCK_COUNT && a.sector == block / 4)?;
        let trailer = &self.blocks[usize::from(block | 3)];
        let trailer_condition = access_conditions(trailer)?[3];
        let key_b_readable = trailer_rights(trailer_condition).key_b_read != Who::Never;
        (auth.key == KeyType::A || !key_b_readable).then_some(auth.key)
    }

    /// The access condition of a block; "never anything" if malformed.
    fn condition(&self, block: u8) -> u8 {
        let trailer = &self.blocks[usize::from(block | 3) % BLOCK_COUNT];
        access_conditions(trailer).map_or(0b111, |c| c[usize::from(block & 3)])
    }

    fn stored_key(&self, block: u8, key: KeyType) -> &[u8] {
        let trailer = &self.blocks[usize::from(block | 3) % BLOCK_COUNT];
        match key {
            KeyType::A => &trailer[..6],
            KeyType::B => &trailer[10..],
        }
    }

    /// Back to Idle (or Halt), forgetting authentication and any pending write.
    fn fall_back(&mut self) {
        if matches!(self.state, State::Ready | State::Active) {
            self.state = self.fallback;
        }
        self.auth = None;
        self.pending_write = None;
    }

    fn refuse_silently(&mut self) -> Reply {
        self.fall_back();
        Reply::Silent
    }

    /// A 4-bit NAK; the card then leaves the Active state.
    fn refuse(&mut self, nak: u8) -> Reply {
        self.fall_back();
        Reply::Nibble(nak)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

    fn send(card: &mut VirtualCard, frame: &[u8]) -> Reply {
        card.receive(frame, 0, card.auth.is_some(), &mut false)
    }

    fn with_crc(body: &[u8]) -> [u8; 4] {
        let crc = crc_a(&body[..2]);
        [body[0], body[1], crc[0], crc[1]]
    }

    fn select(card: &mut VirtualCard) {
        assert_eq!(
            card.receive(&[WUPA], 7, false, &mut false),
            Reply::bytes(&ATQA)
        );
        let uid = card.uid();
        let mut frame = [
            SEL_CL1,
            NVB_SELECT,
            uid[0],
            uid[1],
            uid[2],
            uid[3],
            bcc(&uid),
            0,
            0,
        ];
        let crc = crc_a(&frame[..7]);
        frame[7..].copy_from_slice(&crc);
        assert_eq!(send(card, &frame), Reply::with_crc(&[SAK]));
    }

    fn read(card: &mut VirtualCard, block: u8) -> Reply {
        send(card, &with_crc(&[READ, block]))
    }

    #[test]
    fn crc_a_matches_iso14443_examples() {
        assert_eq!(crc_a(&[0x00, 0x00]), [0xA0, 0x1E]);
        assert_eq!(crc_a(&[HLTA, 0x00]), [0x57, 0xCD]);
        assert_eq!(crc_a(&[READ, 0x00]), [0x02, 0xA8]);
    }

    #[test]
    fn access_bits_decode_transport_and_mad_values() {
        let mut trailer = TRANSPORT_TRAILER;
        assert_eq!(
            access_conditions(&trailer),
            Some([0b000, 0b000, 0b000, 0b001])
        );
        trailer[6..9].copy_from_slice(&[0x78, 0x77, 0x88]);
        assert_eq!(
            access_conditions(&trailer),
            Some([0b100, 0b100, 0b100, 0b011])
        );
        trailer[6] = 0x77;
        assert_eq!(access_conditions(&trailer), None);
    }

    #[test]
    fn factory_block_zero_holds_uid_bcc_sak_atqa() {
        let card = VirtualCard::factory(UID);
        assert_eq!(
            card.block(0)[..8],
            [0x11, 0x22, 0x33, 0x44, 0x44, 0x08, 0x04, 0x00]
        );
        assert_eq!(card.block(7), TRANSPORT_TRAILER);
        assert_eq!(card.block(200), [0; 16]);
        assert_eq!(VirtualCard::from_blocks(*card.blocks()).uid(), UID);
    }

    #[test]
    fn malformed_access_bits_lock_the_sector() {
        let mut card = VirtualCard::factory(UID);
        card.blocks[7][6] = 0x00;
        select(&mut card);
        assert!(card.authenticate(AUTH_KEY_A, 4, &[0xFF; 6], &UID));
        assert_eq!(read(&mut card, 4), Reply::Nibble(NAK_INVALID));
    }

    #[test]
    fn readable_key_b_grants_nothing() {
        let mut card = VirtualCard::factory(UID);
        select(&mut card);
        assert!(card.authenticate(AUTH_KEY_B, 4, &[0xFF; 6], &UID));
        assert_eq!(read(&mut card, 4), Reply::Nibble(NAK_INVALID));
        assert_eq!(card.state, State::Idle);
    }

    #[test]
    fn key_b_writes_only_the_parts_it_may_write() {
        let mut card = VirtualCard::factory(UID);
        // Sector 1 trailer: condition 011 for the trailer (Key B writes keys and
        // access bits), 100 for data blocks. Key B = B0..B5, not readable.
        card.blocks[7] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x78, 0x77, 0x88, 0x00, 0xB0, 0xB1, 0xB2, 0xB3,
            0xB4, 0xB5,
        ];
        select(&mut card);
        assert!(card.authenticate(AUTH_KEY_B, 7, &[0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5], &UID));
        assert_eq!(send(&mut card, &with_crc(&[WRITE, 4])), Reply::Nibble(ACK));
        let mut data = [0x55; 18];
        data[16..].copy_from_slice(&crc_a(&[0x55; 16]));
        assert_eq!(send(&mut card, &data), Reply::Nibble(ACK));
        assert_eq!(card.block(4), [0x55; 16]);
        assert_eq!(card.state, State::Active);
    }

    #[test]
    fn halted_card_wakes_only_on_wupa_and_falls_back_to_halt() {
        let mut card = VirtualCard::factory(UID);
        select(&mut card);
        assert_eq!(send(&mut card, &with_crc(&[HLTA, 0])), Reply::Silent);
        assert_eq!(card.receive(&[REQA], 7, false, &mut false), Reply::Silent);
        select(&mut card);
        assert_eq!(send(&mut card, &[0x12, 0x34]), Reply::Nibble(NAK_CRC));
        assert_eq!(card.state, State::Halt);
    }
}
