//! A fake NXP MFRC522 reader chip on SPI, with at most one virtual card in its field.
//!
//! Modelled: the 64 registers with their datasheet reset values, the 64-byte
//! FIFO, the SPI framing (one transaction = one chip-select period; in a read,
//! each byte clocked out is the register named by the byte before it, so a
//! FIFO burst pops one byte per address byte), and the commands Idle, Mem,
//! CalcCRC, Transmit, Receive, Transceive (on StartSend), MFAuthent and
//! SoftReset, with their interrupt bits, ErrorReg and RxLastBits. The antenna
//! (TxControlReg) powers the card: switching it off, or a soft reset, puts the
//! card back to Idle.
//!
//! Not modelled: time. Whatever the timer registers say, a command that gets
//! no answer from a card raises TimerIRq at once, so a polling driver never
//! hangs. Also not modelled: TxCRCEn/RxCRCEn (the `mfrc522` driver adds and
//! checks CRCs itself), RxAlign, collisions, FIFO water-level alerts,
//! GenerateRandomID (it just ends), and the analogue and test registers.

use core::convert::Infallible;

use embedded_hal::spi::{ErrorType, Operation, SpiDevice};

use super::card::{Reply, VirtualCard, crc_a_preset};

const COMMAND: usize = 0x01;
const COM_IRQ: usize = 0x04;
const DIV_IRQ: usize = 0x05;
const ERROR: usize = 0x06;
const STATUS1: usize = 0x07;
const STATUS2: usize = 0x08;
const FIFO_DATA: usize = 0x09;
const FIFO_LEVEL: usize = 0x0A;
const CONTROL: usize = 0x0C;
const BIT_FRAMING: usize = 0x0D;
const COLL: usize = 0x0E;
const MODE: usize = 0x11;
const TX_CONTROL: usize = 0x14;
const CRC_RESULT_H: usize = 0x21;
const CRC_RESULT_L: usize = 0x22;
const VERSION: usize = 0x37;

const CMD_IDLE: u8 = 0x0;
const CMD_MEM: u8 = 0x1;
const CMD_CALC_CRC: u8 = 0x3;
const CMD_TRANSMIT: u8 = 0x4;
const CMD_NO_CMD_CHANGE: u8 = 0x7;
const CMD_RECEIVE: u8 = 0x8;
const CMD_TRANSCEIVE: u8 = 0xC;
const CMD_MF_AUTHENT: u8 = 0xE;
const CMD_SOFT_RESET: u8 = 0xF;
/// CommandReg RcvOff and PowerDown.
const COMMAND_FLAGS: u8 = 0x30;

/// Set1/Set2 in ComIrqReg/DivIrqReg: written 1-bits set (else clear) the flags.
const IRQ_SET: u8 = 0x80;
const TX_IRQ: u8 = 0x40;
const RX_IRQ: u8 = 0x20;
const IDLE_IRQ: u8 = 0x10;
const ERR_IRQ: u8 = 0x02;
const TIMER_IRQ: u8 = 0x01;
const CRC_IRQ: u8 = 0x04;

const PROTOCOL_ERR: u8 = 0x01;
const BUFFER_OVFL: u8 = 0x10;
const TEMP_ERR: u8 = 0x40;
const CRC_OK: u8 = 0x40;
const CRC_READY: u8 = 0x20;
const MF_CRYPTO1_ON: u8 = 0x08;
const FLUSH_BUFFER: u8 = 0x80;
const T_START_NOW: u8 = 0x40;
const START_SEND: u8 = 0x80;
const ANTENNA_ON: u8 = 0x03;

const FIFO_SIZE: usize = 64;
const MEM_SIZE: usize = 25;

/// Register values after power-on or SoftReset (MFRC522 datasheet, section 9.3).
#[rustfmt::skip]
const RESET_VALUES: [u8; 64] = [
    0x00, 0x20, 0x80, 0x00, 0x14, 0x00, 0x00, 0x21, // 0x00: CommandReg .. Status1Reg
    0x00, 0x00, 0x00, 0x08, 0x10, 0x00, 0xA0, 0x00, // 0x08: Status2Reg .. CollReg
    0x00, 0x3F, 0x00, 0x00, 0x80, 0x00, 0x10, 0x84, // 0x10: ModeReg .. RxSelReg
    0x84, 0x4D, 0x00, 0x00, 0x62, 0x00, 0x00, 0xEB, // 0x18: RxThresholdReg .. SerialSpeedReg
    0x00, 0xFF, 0xFF, 0x00, 0x26, 0x00, 0x48, 0x88, // 0x20: CRCResultReg .. GsNReg
    0x20, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 0x28: CWGsPReg .. TCounterValReg
    0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x40, 0x92, // 0x30: TestSel1Reg .. VersionReg
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 0x38: AnalogTestReg .. TestADCReg
];

#[derive(Clone, Debug)]
struct Fifo {
    buf: [u8; FIFO_SIZE],
    len: usize,
}

impl Fifo {
    /// Appends a byte; false if the FIFO is full.
    fn push(&mut self, byte: u8) -> bool {
        let Some(slot) = self.buf.get_mut(self.len) else {
            return false;
        };
        *slot = byte;
        self.len += 1;
        true
    }

    /// Removes the oldest byte; 0 when empty.
    fn pop(&mut self) -> u8 {
        if self.len == 0 {
            return 0;
        }
        let byte = self.buf[0];
        self.buf.copy_within(1..self.len, 0);
        self.len -= 1;
        byte
    }

    /// Empties the FIFO, returning its contents (the first `len` bytes).
    fn drain(&mut self) -> ([u8; FIFO_SIZE], usize) {
        let contents = (self.buf, self.len);
        self.len = 0;
        contents
    }
}

/// Where the SPI byte stream of one transaction is.
#[derive(Clone, Copy)]
enum SpiPhase {
    Address,
    Reading,
    Writing(usize),
}

struct SpiFrame {
    phase: SpiPhase,
    /// The register named by the previous byte of a read, to be clocked out next.
    pending_read: Option<usize>,
}

/// A fake MFRC522 (version 2.0, VersionReg = 0x92) behind an `SpiDevice`.
#[derive(Clone, Debug)]
pub struct FakeMfrc522 {
    regs: [u8; 64],
    fifo: Fifo,
    /// The 25-byte internal buffer of the Mem command.
    mem: [u8; MEM_SIZE],
    card: Option<VirtualCard>,
    /// A card that left the field by `remove_after_ops`, kept for `remove`.
    departed: Option<VirtualCard>,
    nak_next_write: bool,
    ops_until_removal: Option<u32>,
    transactions: u64,
}

impl Default for FakeMfrc522 {
    fn default() -> Self {
        Self::new()
    }
}

impl FakeMfrc522 {
    /// A chip fresh from power-on, with no card in the field.
    pub fn new() -> Self {
        Self {
            regs: RESET_VALUES,
            fifo: Fifo {
                buf: [0; FIFO_SIZE],
                len: 0,
            },
            mem: [0; MEM_SIZE],
            card: None,
            departed: None,
            nak_next_write: false,
            ops_until_removal: None,
            transactions: 0,
        }
    }

    /// A card enters the field (in state Idle), replacing any card there.
    pub fn present(&mut self, mut card: VirtualCard) {
        card.power_off();
        self.card = Some(card);
        self.departed = None;
        self.ops_until_removal = None;
    }

    /// The card leaves the field. Returns it, or else the card that left on
    /// its own through `remove_after_ops`.
    pub fn remove(&mut self) -> Option<VirtualCard> {
        let mut card = self.card.take().or_else(|| self.departed.take())?;
        self.ops_until_removal = None;
        card.power_off();
        Some(card)
    }

    /// The card in the field.
    pub fn card(&self) -> Option<&VirtualCard> {
        self.card.as_ref()
    }

    /// The card in the field, to change its memory or inspect it.
    pub fn card_mut(&mut self) -> Option<&mut VirtualCard> {
        self.card.as_mut()
    }

    /// The card NAKs (0x4) the data phase of the next WRITE and stores nothing.
    pub fn nak_next_write(&mut self) {
        self.nak_next_write = true;
    }

    /// The card leaves the field after answering `n` more card commands
    /// (each Transceive with StartSend, and each MFAuthent, counts as one).
    pub fn remove_after_ops(&mut self, n: u32) {
        self.ops_until_removal = Some(n);
    }

    /// SPI transactions (chip-select periods) so far.
    pub fn transactions(&self) -> u64 {
        self.transactions
    }

    /// Clocks one byte through the SPI interface and returns the byte clocked out.
    fn clock(&mut self, frame: &mut SpiFrame, mosi: u8) -> u8 {
        let miso = frame
            .pending_read
            .take()
            .map_or(0, |reg| self.read_register(reg));
        let reg = usize::from((mosi >> 1) & 0x3F);
        match frame.phase {
            SpiPhase::Address if mosi & 0x80 != 0 => {
                frame.phase = SpiPhase::Reading;
                frame.pending_read = Some(reg);
            }
            SpiPhase::Address => frame.phase = SpiPhase::Writing(reg),
            // In a read, a byte without the read bit (the closing 0x00) names nothing.
            SpiPhase::Reading => frame.pending_read = (mosi & 0x80 != 0).then_some(reg),
            SpiPhase::Writing(reg) => self.write_register(reg, mosi),
        }
        miso
    }

    fn read_register(&mut self, reg: usize) -> u8 {
        match reg {
            FIFO_DATA => self.fifo.pop(),
            FIFO_LEVEL => self.fifo.len as u8,
            _ => self.regs[reg & 0x3F],
        }
    }

    fn write_register(&mut self, reg: usize, value: u8) {
        match reg {
            COMMAND => self.write_command(value),
            COM_IRQ | DIV_IRQ => self.regs[reg] = set_or_clear(self.regs[reg], value),
            ERROR | STATUS1 | CRC_RESULT_H | CRC_RESULT_L | VERSION => {}
            STATUS2 => {
                // MFCrypto1On can only be cleared by the host.
                let crypto = self.regs[STATUS2] & value & MF_CRYPTO1_ON;
                self.regs[STATUS2] = (value & 0xC0) | crypto | (self.regs[STATUS2] & 0x07);
            }
            FIFO_DATA => self.push_fifo(value),
            FIFO_LEVEL if value & FLUSH_BUFFER != 0 => {
                self.fifo.len = 0;
                self.regs[ERROR] &= !BUFFER_OVFL;
            }
            FIFO_LEVEL => {}
            CONTROL if value & T_START_NOW != 0 => self.raise(TIMER_IRQ),
            CONTROL => {}
            BIT_FRAMING => {
                self.regs[BIT_FRAMING] = value & !START_SEND;
                if value & START_SEND != 0 && self.command() == CMD_TRANSCEIVE {
                    self.transceive();
                }
            }
            COLL => self.regs[COLL] = (self.regs[COLL] & 0x7F) | (value & 0x80),
            TX_CONTROL => {
                self.regs[TX_CONTROL] = value;
                self.power_card_from_antenna();
            }
            _ => self.regs[reg & 0x3F] = value,
        }
    }

    fn command(&self) -> u8 {
        self.regs[COMMAND] & 0x0F
    }

    fn write_command(&mut self, value: u8) {
        let command = value & 0x0F;
        if command == CMD_SOFT_RESET {
            return self.soft_reset();
        }
        let active = if command == CMD_NO_CMD_CHANGE {
            self.command()
        } else {
            command
        };
        self.regs[COMMAND] = (value & COMMAND_FLAGS) | active;
        if command != CMD_NO_CMD_CHANGE {
            self.start(command);
        }
    }

    fn start(&mut self, command: u8) {
        self.regs[ERROR] &= BUFFER_OVFL | TEMP_ERR;
        match command {
            // Transceive waits for StartSend in BitFramingReg.
            CMD_IDLE | CMD_TRANSCEIVE => {}
            CMD_MEM => self.run_mem(),
            CMD_CALC_CRC => self.calc_crc(),
            CMD_TRANSMIT => self.transmit(),
            CMD_RECEIVE => self.raise(TIMER_IRQ),
            CMD_MF_AUTHENT => self.mf_authent(),
            _ => self.finish(), // an unknown command ends at once, with IdleIRq
        }
    }

    /// The command ends by itself: back to Idle, raising IdleIRq.
    fn finish(&mut self) {
        self.regs[COMMAND] = (self.regs[COMMAND] & COMMAND_FLAGS) | CMD_IDLE;
        self.raise(IDLE_IRQ);
    }

    fn raise(&mut self, irq: u8) {
        self.regs[COM_IRQ] |= irq;
    }

    fn push_fifo(&mut self, byte: u8) {
        if !self.fifo.push(byte) {
            self.regs[ERROR] |= BUFFER_OVFL;
            self.raise(ERR_IRQ);
        }
    }

    fn soft_reset(&mut self) {
        self.regs = RESET_VALUES;
        self.fifo.len = 0;
        self.power_card_from_antenna();
    }

    /// A card in the field has no power while the antenna is off.
    fn power_card_from_antenna(&mut self) {
        if !self.antenna_on() {
            self.card.iter_mut().for_each(VirtualCard::power_off);
        }
    }

    fn antenna_on(&self) -> bool {
        self.regs[TX_CONTROL] & ANTENNA_ON != 0
    }

    /// Mem: a non-empty FIFO fills the internal buffer, an empty one is filled from it.
    fn run_mem(&mut self) {
        if self.fifo.len == 0 {
            self.mem.into_iter().for_each(|b| self.push_fifo(b));
        } else {
            let (data, len) = self.fifo.drain();
            let n = len.min(MEM_SIZE);
            self.mem[..n].copy_from_slice(&data[..n]);
        }
        self.finish();
    }

    /// CalcCRC: CRC_A of the FIFO with ModeReg's preset; the command then
    /// stays active, as on the chip, until the host writes Idle.
    fn calc_crc(&mut self) {
        let preset = match self.regs[MODE] & 0x03 {
            0 => 0x0000,
            1 => 0x6363,
            2 => 0xA671,
            _ => 0xFFFF,
        };
        let (data, len) = self.fifo.drain();
        let crc = crc_a_preset(preset, &data[..len]);
        [self.regs[CRC_RESULT_H], self.regs[CRC_RESULT_L]] = crc.to_be_bytes();
        self.regs[STATUS1] = CRC_READY | if crc == 0 { CRC_OK } else { 0 };
        self.regs[DIV_IRQ] |= CRC_IRQ;
    }

    /// Transmit: sends the FIFO; any answer is lost.
    fn transmit(&mut self) {
        let (frame, len) = self.fifo.drain();
        let last_bits = self.regs[BIT_FRAMING] & 0x07;
        self.exchange(&frame[..len], last_bits);
        self.raise(TX_IRQ);
        self.finish();
    }

    /// Transceive after StartSend: sends the FIFO, puts the answer in it.
    fn transceive(&mut self) {
        let (frame, len) = self.fifo.drain();
        let last_bits = self.regs[BIT_FRAMING] & 0x07;
        let reply = self.exchange(&frame[..len], last_bits);
        self.raise(TX_IRQ);
        match reply {
            Reply::Silent => self.raise(TIMER_IRQ),
            Reply::Nibble(nibble) => self.receive(&[nibble & 0x0F], 4),
            Reply::Bytes { buf, len } => self.receive(&buf[..len.min(buf.len())], 0),
        }
    }

    fn receive(&mut self, data: &[u8], last_bits: u8) {
        data.iter().for_each(|&b| self.push_fifo(b));
        self.regs[CONTROL] = (self.regs[CONTROL] & !0x07) | last_bits;
        self.raise(RX_IRQ);
    }

    /// MFAuthent: FIFO = auth command, block, 6-byte key, 4 UID bytes.
    /// Success sets MFCrypto1On and ends with IdleIRq; a wrong key gets no
    /// answer from the card, so the timer fires (as on the real chip).
    fn mf_authent(&mut self) {
        let (fifo, len) = self.fifo.drain();
        if len != 12 {
            self.regs[ERROR] |= PROTOCOL_ERR;
            self.raise(ERR_IRQ);
            return self.finish();
        }
        let (command, block) = (fifo[0], fifo[1]);
        let (key, uid) = (&fifo[2..8], &fifo[8..12]);
        let ok = self.card_answers()
            && self
                .card
                .as_mut()
                .is_some_and(|c| c.authenticate(command, block, key, uid));
        if ok {
            self.regs[STATUS2] |= MF_CRYPTO1_ON;
            self.finish();
        } else {
            self.raise(TIMER_IRQ);
        }
    }

    /// Sends a frame to the card in the field, if any, and returns its answer.
    fn exchange(&mut self, frame: &[u8], last_bits: u8) -> Reply {
        if !self.card_answers() {
            return Reply::Silent;
        }
        let crypto_on = self.regs[STATUS2] & MF_CRYPTO1_ON != 0;
        match self.card.as_mut() {
            Some(card) => card.receive(frame, last_bits, crypto_on, &mut self.nak_next_write),
            None => Reply::Silent,
        }
    }

    /// Whether a powered card is there to hear the next card command; counts
    /// that command towards `remove_after_ops`.
    fn card_answers(&mut self) -> bool {
        if self.card.is_none() || !self.antenna_on() {
            return false;
        }
        match self.ops_until_removal {
            Some(0) => {
                self.ops_until_removal = None;
                self.departed = self.remove();
                false
            }
            Some(n) => {
                self.ops_until_removal = Some(n - 1);
                true
            }
            None => true,
        }
    }
}

/// ComIrqReg/DivIrqReg write: with Set1/Set2, the marked bits are set, else cleared.
fn set_or_clear(old: u8, value: u8) -> u8 {
    let marked = value & !IRQ_SET;
    if value & IRQ_SET != 0 {
        old | marked
    } else {
        old & !marked
    }
}

impl ErrorType for FakeMfrc522 {
    type Error = Infallible;
}

impl SpiDevice for FakeMfrc522 {
    fn transaction(&mut self, operations: &mut [Operation<'_, u8>]) -> Result<(), Infallible> {
        self.transactions += 1;
        let mut frame = SpiFrame {
            phase: SpiPhase::Address,
            pending_read: None,
        };
        for operation in operations {
            match operation {
                Operation::Read(buf) => {
                    buf.iter_mut().for_each(|b| *b = self.clock(&mut frame, 0));
                }
                Operation::Write(bytes) => {
                    bytes.iter().for_each(|&b| {
                        self.clock(&mut frame, b);
                    });
                }
                Operation::Transfer(read, write) => {
                    for i in 0..read.len().max(write.len()) {
                        let miso = self.clock(&mut frame, write.get(i).copied().unwrap_or(0));
                        if let Some(slot) = read.get_mut(i) {
                            *slot = miso;
                        }
                    }
                }
                Operation::TransferInPlace(buf) => {
                    buf.iter_mut().for_each(|b| *b = self.clock(&mut frame, *b));
                }
                Operation::DelayNs(_) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use std::vec::Vec;

    use ::mfrc522::comm::blocking::spi::{DummyDelay, SpiInterface};
    use ::mfrc522::{Error, Initialized, Mfrc522, Type, Uid};
    use proptest::prelude::*;

    use super::*;

    type Driver = Mfrc522<SpiInterface<FakeMfrc522, DummyDelay>, Initialized>;

    const UID: [u8; 4] = [0xDE, 0xAD, 0xBE, 0xEF];
    const FACTORY_KEY: [u8; 6] = [0xFF; 6];
    const MAD_KEY_A: [u8; 6] = [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5];
    const DATA: [u8; 16] = *b"kartka tap 0001!";

    fn driver(fake: FakeMfrc522) -> Driver {
        Mfrc522::new(SpiInterface::new(fake)).init().unwrap()
    }

    fn driver_with(card: VirtualCard) -> Driver {
        let mut fake = FakeMfrc522::new();
        fake.present(card);
        driver(fake)
    }

    fn into_fake(drv: Driver) -> FakeMfrc522 {
        drv.release().release()
    }

    /// REQA, anticollision and select: 3 card commands.
    fn select(drv: &mut Driver) -> Uid {
        let atqa = drv.new_card_present().unwrap();
        drv.select(&atqa).unwrap()
    }

    fn authenticated(drv: &mut Driver, block: u8, key: &[u8; 6]) -> Uid {
        let uid = select(drv);
        drv.mf_authenticate(&uid, block, key).unwrap();
        uid
    }

    #[test]
    fn version_register_reads_0x92() {
        assert_eq!(driver(FakeMfrc522::new()).version().unwrap(), 0x92);
    }

    #[test]
    fn empty_field_times_out_instead_of_hanging() {
        let mut drv = driver(FakeMfrc522::new());
        assert!(matches!(drv.new_card_present(), Err(Error::Timeout)));
        assert!(matches!(drv.wupa(), Err(Error::Timeout)));
    }

    #[test]
    fn select_returns_the_uid_of_a_1k_card() {
        let mut drv = driver_with(VirtualCard::factory(UID));
        let uid = select(&mut drv);
        assert_eq!(uid.as_bytes(), UID);
        assert!(matches!(uid.get_type(), Type::Mifare1k));
    }

    #[test]
    fn halted_card_ignores_reqa_but_answers_wupa() {
        let mut drv = driver_with(VirtualCard::factory(UID));
        select(&mut drv);
        drv.hlta().unwrap();
        assert!(matches!(drv.reqa(), Err(Error::Timeout)));
        let atqa = drv.wupa().unwrap();
        assert_eq!(drv.select(&atqa).unwrap().as_bytes(), UID);
    }

    #[test]
    fn factory_key_read_write_round_trip() {
        let mut drv = driver_with(VirtualCard::factory(UID));
        authenticated(&mut drv, 4, &FACTORY_KEY);
        assert_eq!(drv.mf_read(4).unwrap(), [0; 16]);
        drv.mf_write(4, DATA).unwrap();
        assert_eq!(drv.mf_read(4).unwrap(), DATA);
        drv.hlta().unwrap();
        drv.stop_crypto1().unwrap();
        assert_eq!(into_fake(drv).card().unwrap().block(4), DATA);
    }

    #[test]
    fn trailer_reads_key_a_as_zeros() {
        let mut drv = driver_with(VirtualCard::factory(UID));
        authenticated(&mut drv, 7, &FACTORY_KEY);
        let mut expected = [0xFF; 16];
        expected[..6].fill(0);
        expected[6..10].copy_from_slice(&[0xFF, 0x07, 0x80, 0x69]);
        assert_eq!(drv.mf_read(7).unwrap(), expected);
        assert_eq!(into_fake(drv).card().unwrap().block(7)[..6], FACTORY_KEY);
    }

    #[test]
    fn wrong_key_fails_and_drops_the_card_to_idle() {
        let mut drv = driver_with(VirtualCard::factory(UID));
        let uid = select(&mut drv);
        assert!(matches!(
            drv.mf_authenticate(&uid, 4, &[0; 6]),
            Err(Error::Timeout)
        ));
        assert!(drv.mf_read(4).is_err());
        // Idle again, so a plain REQA finds it.
        assert!(drv.new_card_present().is_ok());
    }

    /// Pitfall: `mf_write` only checks that the answers are 4 bits long, so a
    /// NAK in the data phase reads as success. Read the block back to know.
    #[test]
    fn nak_in_write_data_phase_is_reported_as_ok_but_nothing_is_stored() {
        let mut fake = FakeMfrc522::new();
        fake.present(VirtualCard::factory(UID));
        fake.nak_next_write();
        let mut drv = driver(fake);
        authenticated(&mut drv, 4, &FACTORY_KEY);
        assert!(drv.mf_write(4, DATA).is_ok());
        // After a NAK the card has left the Active state: the read-back fails.
        assert!(drv.mf_read(4).is_err());
        drv.stop_crypto1().unwrap();
        authenticated(&mut drv, 4, &FACTORY_KEY);
        assert_eq!(drv.mf_read(4).unwrap(), [0; 16]);
        assert_eq!(into_fake(drv).card().unwrap().block(4), [0; 16]);
    }

    #[test]
    fn card_pulled_away_mid_transaction_fails_the_read() {
        let mut fake = FakeMfrc522::new();
        fake.present(VirtualCard::factory(UID));
        fake.remove_after_ops(4); // REQA, anticollision, select, authenticate
        let mut drv = driver(fake);
        authenticated(&mut drv, 4, &FACTORY_KEY);
        assert!(matches!(drv.mf_read(4), Err(Error::Timeout)));
        assert!(matches!(drv.mf_write(4, DATA), Err(Error::Timeout)));
        let mut fake = into_fake(drv);
        assert!(fake.card().is_none());
        assert_eq!(fake.remove().unwrap().uid(), UID);
    }

    #[test]
    fn mad_access_bits_forbid_key_a_writes() {
        let mut card = VirtualCard::factory(UID);
        let mut blocks = *card.blocks();
        blocks[1][..4].copy_from_slice(&[0x12, 0x01, 0x01, 0x20]);
        blocks[3][..10]
            .copy_from_slice(&[0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0x78, 0x77, 0x88, 0xC1]);
        card = VirtualCard::from_blocks(blocks);
        let mut drv = driver_with(card);
        authenticated(&mut drv, 1, &MAD_KEY_A);
        assert_eq!(drv.mf_read(1).unwrap(), blocks[1]);
        // The first phase's NAK passes the driver's 4-bit check; the card then
        // ignores the data phase, so the driver sees a timeout.
        assert!(drv.mf_write(1, DATA).is_err());
        assert_eq!(into_fake(drv).card().unwrap().block(1), blocks[1]);
    }

    #[test]
    fn manufacturer_block_is_read_only() {
        let card = VirtualCard::factory(UID);
        let block0 = card.block(0);
        let mut drv = driver_with(card);
        authenticated(&mut drv, 0, &FACTORY_KEY);
        assert_eq!(drv.mf_read(0).unwrap(), block0);
        assert!(drv.mf_write(0, DATA).is_err());
        assert_eq!(into_fake(drv).card().unwrap().block(0), block0);
    }

    #[test]
    fn forgetting_stop_crypto1_mutes_the_next_wake_up() {
        let mut drv = driver_with(VirtualCard::factory(UID));
        authenticated(&mut drv, 4, &FACTORY_KEY);
        drv.hlta().unwrap();
        assert!(matches!(drv.wupa(), Err(Error::Timeout)));
        drv.stop_crypto1().unwrap();
        assert!(drv.wupa().is_ok());
    }

    #[test]
    fn init_soft_reset_powers_the_card_down() {
        let mut drv = driver_with(VirtualCard::factory(UID));
        select(&mut drv);
        drv.hlta().unwrap();
        let mut drv = driver(into_fake(drv));
        assert!(drv.new_card_present().is_ok());
    }

    #[test]
    fn spi_burst_reads_pop_the_fifo_one_byte_per_address() {
        let mut fake = FakeMfrc522::new();
        let fifo = (FIFO_DATA as u8) << 1;
        fake.write(&[fifo, 1, 2, 3]).unwrap();
        let mut level = [((FIFO_LEVEL as u8) << 1) | 0x80, 0];
        fake.transfer_in_place(&mut level).unwrap();
        assert_eq!(level[1], 3);
        let mut burst = [fifo | 0x80, fifo | 0x80, 0];
        fake.transaction(&mut [
            Operation::Write(&[fifo | 0x80]),
            Operation::TransferInPlace(&mut burst),
        ])
        .unwrap();
        assert_eq!(burst, [1, 2, 3]);
        assert_eq!(fake.transactions(), 3);
    }

    /// Starts `command` (Transceive: with StartSend) and reports whether an
    /// interrupt the driver polls for was raised.
    fn command_ends_with_irq(fake: &mut FakeMfrc522, command: u8) -> bool {
        let (cmd, irq, div_irq, framing) = (
            COMMAND as u8,
            COM_IRQ as u8,
            DIV_IRQ as u8,
            BIT_FRAMING as u8,
        );
        fake.write(&[irq << 1, 0x7F]).unwrap();
        fake.write(&[cmd << 1, command]).unwrap();
        fake.write(&[framing << 1, 0x80]).unwrap();
        let mut regs = [(irq << 1) | 0x80, (div_irq << 1) | 0x80, 0];
        fake.transfer_in_place(&mut regs).unwrap();
        let polled = RX_IRQ | IDLE_IRQ | ERR_IRQ | TIMER_IRQ;
        regs[1] & polled != 0 || (command == CMD_CALC_CRC && regs[2] & CRC_IRQ != 0)
    }

    proptest! {
        #[test]
        fn arbitrary_spi_traffic_never_panics_and_commands_always_end(
            traffic in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..40),
            with_card in any::<bool>(),
            command in 1u8..16,
        ) {
            let mut fake = FakeMfrc522::new();
            if with_card {
                fake.present(VirtualCard::factory(UID));
            }
            for mut bytes in traffic {
                let copy: Vec<u8> = bytes.clone();
                fake.transaction(&mut [Operation::Write(&copy), Operation::TransferInPlace(&mut bytes)]).unwrap();
            }
            prop_assume!(command != CMD_NO_CMD_CHANGE);
            prop_assert!(command_ends_with_irq(&mut fake, command));
        }
    }
}
