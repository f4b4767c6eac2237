//! The MFRC522 on SPI0, found at boot or later.
//!
//! `mfrc522`'s `init` spins forever when the chip answers nonsense (its
//! reset waits for a bit that a floating bus may never clear), and
//! `Mfrc522Reader::new` consumes the SPI device even when it fails. So the
//! chip's version register is read first, by hand, and the driver is only
//! started on a chip that answers; until then the dock keeps working and
//! the probe is retried.

use embedded_hal::spi::SpiDevice;
use kartka_validator::Mfrc522Reader;

/// The MFRC522's VersionReg (0x37), read: `1 | addr << 1 | 0`.
const READ_VERSION: u8 = 0x80 | (0x37 << 1);

pub enum Reader<SPI: SpiDevice> {
    /// No chip answered yet.
    Absent(SPI),
    Ready(Mfrc522Reader<SPI>),
    /// The driver failed to start and kept the bus: no reader until reset.
    Lost,
}

impl<SPI: SpiDevice> Reader<SPI> {
    /// Starts the driver if a chip answers; call until it is `Ready`.
    pub fn probe(&mut self) {
        let Reader::Absent(spi) = self else { return };
        let mut buf = [READ_VERSION, 0];
        // 0x00 or 0xFF: nothing on the bus (MISO pulled down, or floating
        // high). Clones answer other values than 0x91/0x92, so accept
        // anything else.
        if spi.transfer_in_place(&mut buf).is_err() || buf[1] == 0x00 || buf[1] == 0xFF {
            return;
        }
        let Reader::Absent(spi) = core::mem::replace(self, Reader::Lost) else {
            return;
        };
        if let Ok(reader) = Mfrc522Reader::new(spi) {
            *self = Reader::Ready(reader);
        }
    }

    /// The chip stopped answering: take the bus back and probe again.
    pub fn restart(&mut self) {
        if let Reader::Ready(_) = self
            && let Reader::Ready(r) = core::mem::replace(self, Reader::Lost)
        {
            *self = Reader::Absent(r.release_spi());
        }
    }

    pub fn ready(&mut self) -> Option<&mut Mfrc522Reader<SPI>> {
        match self {
            Reader::Ready(r) => Some(r),
            _ => None,
        }
    }
}
