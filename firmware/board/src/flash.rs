//! The RP2040's QSPI flash as `NorFlash` regions for the tap log and the
//! store.
//!
//! Flash map (2 MiB, offsets from the start of flash; XIP address =
//! 0x1000_0000 + offset):
//!
//! | offset                | size    | what                                   |
//! |-----------------------|---------|----------------------------------------|
//! | 0x00_0000 - 0x00_0100 | 256 B   | boot2                                  |
//! | 0x00_0100 - 0x10_0000 | ~1 MiB  | firmware (`memory.x` caps it here)     |
//! | 0x10_0000 - 0x1C_0000 | 768 KiB | tap log, 192 sectors                   |
//! | 0x1C_0000 - 0x1F_E000 | 248 KiB | store: two banks of 31 sectors         |
//! | 0x1F_E000 - 0x1F_F000 | 4 KiB   | unused                                 |
//! | 0x1F_F000 - 0x20_0000 | 4 KiB   | provisioning page (`provision.rs`)     |
//!
//! Reads go through the memory-mapped XIP window. Erases and programs call
//! the boot ROM through `rp2040-flash`, one 4 KiB sector or one 256-byte
//! page at a time, each inside a critical section: nothing may fetch from
//! flash while it is out of XIP mode (no interrupts run, core 1 stays in
//! the boot ROM, no DMA touches flash).

use core::ops::Range;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Where flash is mapped (cached XIP).
const XIP_BASE: u32 = 0x1000_0000;
/// The smallest erasable unit of the QSPI flash.
pub const SECTOR: u32 = 4096;
/// The largest unit the flash programs at once.
const PAGE: usize = 256;

/// The tap log.
pub const LOG: Range<u32> = 0x10_0000..0x1C_0000;
/// The settings and blocklist store (two banks).
pub const STORE: Range<u32> = 0x1C_0000..0x1F_E000;
/// The provisioning page: validator id and keys.
pub const PROVISION: u32 = 0x1F_F000;
/// The end of a 2 MiB flash.
const FLASH_END: u32 = 0x20_0000;

const _: () = {
    assert!(LOG.start >= 0x10_0000 && LOG.end <= STORE.start && STORE.end <= PROVISION);
    assert!(PROVISION + SECTOR <= FLASH_END);
    assert!(
        LOG.start.is_multiple_of(SECTOR)
            && LOG.end.is_multiple_of(SECTOR)
            && (LOG.end - LOG.start) / SECTOR >= 2
    );
    assert!(STORE.start.is_multiple_of(SECTOR) && STORE.end.is_multiple_of(SECTOR));
    assert!(
        ((STORE.end - STORE.start) / SECTOR).is_multiple_of(2),
        "the store is two banks of whole sectors"
    );
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// Past the end of the region.
    OutOfBounds,
    /// An erase not on sector boundaries.
    NotAligned,
}

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FlashError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            FlashError::NotAligned => NorFlashErrorKind::NotAligned,
        }
    }
}

/// A range of the flash, addressed from 0.
pub struct Region {
    start: u32,
    len: u32,
}

impl Region {
    /// # Safety
    ///
    /// `range` is whole sectors of flash that hold no code or constant
    /// data, and no other `Region` covers any of it.
    pub const unsafe fn new(range: Range<u32>) -> Region {
        assert!(
            range.start.is_multiple_of(SECTOR)
                && range.end.is_multiple_of(SECTOR)
                && range.start < range.end
        );
        assert!(range.end <= FLASH_END);
        Region {
            start: range.start,
            len: range.end - range.start,
        }
    }

    /// The flash offset of `offset..offset + len` in this region.
    fn at(&self, offset: u32, len: usize) -> Result<u32, FlashError> {
        let end = (offset as usize)
            .checked_add(len)
            .ok_or(FlashError::OutOfBounds)?;
        if end > self.len as usize {
            return Err(FlashError::OutOfBounds);
        }
        Ok(self.start + offset)
    }
}

impl ErrorType for Region {
    type Error = FlashError;
}

impl ReadNorFlash for Region {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashError> {
        let at = self.at(offset, bytes.len())?;
        read(at, bytes);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len as usize
    }
}

impl NorFlash for Region {
    /// Any byte can be written: the page around it is programmed with 0xFF
    /// everywhere else, which leaves those bytes as they were.
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = SECTOR as usize;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        if !from.is_multiple_of(SECTOR) || !to.is_multiple_of(SECTOR) {
            return Err(FlashError::NotAligned);
        }
        if to < from {
            return Err(FlashError::OutOfBounds);
        }
        let start = self.at(from, (to - from) as usize)?;
        // One sector per critical section, so interrupts are held off for
        // one sector erase (tens of ms), not for a whole bank.
        for sector in (start..start + (to - from)).step_by(SECTOR as usize) {
            // SAFETY: the sector is ours (`Region::new`); the critical
            // section keeps everything else off the flash meanwhile.
            critical_section::with(|_| unsafe {
                rp2040_flash::flash::flash_range_erase(sector, SECTOR, true)
            });
        }
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        let mut at = self.at(offset, bytes.len())?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let page = at & !(PAGE as u32 - 1);
            let skip = (at - page) as usize;
            let n = (PAGE - skip).min(rest.len());
            let mut buf = Page([0xFF; PAGE]);
            buf.0[skip..skip + n].copy_from_slice(&rest[..n]);
            if buf.0.iter().any(|&b| b != 0xFF) {
                // SAFETY: as in `erase`; `buf` is in RAM.
                critical_section::with(|_| unsafe {
                    rp2040_flash::flash::flash_range_program(page, &buf.0, true)
                });
            }
            at += n as u32;
            rest = &rest[n..];
        }
        Ok(())
    }
}

#[repr(align(4))]
struct Page([u8; PAGE]);

/// Reads flash at `offset` through the XIP window.
pub fn read(offset: u32, bytes: &mut [u8]) {
    debug_assert!(offset as usize + bytes.len() <= FLASH_END as usize);
    // SAFETY: the XIP window maps the whole flash and is always readable
    // while no erase or program is running (they run in critical sections
    // and flush the XIP cache before returning).
    unsafe {
        core::ptr::copy_nonoverlapping(
            (XIP_BASE + offset) as *const u8,
            bytes.as_mut_ptr(),
            bytes.len(),
        )
    };
}
